"""Progress of long work: the library reports it at stage boundaries; the command line shows it.

The library never prints. It calls `advance` (one more sheet read, file written, some bytes uploaded), `step`
(a loop's own position: article 3 of 20) and `stage` (a named step of a long task, such as a check over every
row); all do nothing unless a caller installed a sink with `reporting`. cli.py installs a `TerminalProgress`
on stderr when stderr is a terminal and neither --quiet nor --json is given, so progress never reaches a pipe,
a log or JSON output.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TextIO, cast


@dataclass(frozen=True)
class Update:
    """One report: `what` is under way (with a count `done` of `total` when counted) and `detail` names the item."""

    what: str
    done: int | None = None
    total: int | None = None
    detail: str = ""
    unit: str = ""  # "bytes": done and total are shown as sizes


Sink = Callable[[Update], None]


@dataclass
class _State:
    sink: Sink
    counts: dict[str, int] = field(default_factory=dict)


_current: ContextVar[_State | None] = ContextVar("eventdata_progress", default=None)


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Send the progress of the work inside this block to sink (None: nowhere); counts start at zero."""
    token = _current.set(_State(sink) if sink is not None else None)
    try:
        yield
    finally:
        _current.reset(token)


def advance(what: str, by: int = 1, *, total: int | None = None, detail: str = "", unit: str = "") -> None:
    """Count `by` more of `what` (e.g. "sheets read", "files written", "bytes uploaded")."""
    state = _current.get()
    if state is None:
        return
    done = state.counts[what] = state.counts.get(what, 0) + by
    state.sink(Update(what, done, total, detail, unit))


def step(what: str, done: int, total: int | None = None, *, detail: str = "") -> None:
    """A loop over `what` is at item `done` (of `total`): its own position, not added to any running count."""
    state = _current.get()
    if state is not None:
        state.sink(Update(what, done, total, detail))


def stage(what: str, detail: str) -> None:
    """A long task (e.g. "checking 1,000,000 rows") has reached the named step `detail`."""
    state = _current.get()
    if state is not None:
        state.sink(Update(what, detail=detail))


def size(count: float) -> str:
    """Bytes as a short size: 512 B, 3.4 MB, 1.2 GB."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} GB"  # pragma: no cover  # the loop always returns


def describe(update: Update, elapsed: float) -> str:
    """One status line: what, count of total, the current item, seconds since the command started."""
    text = update.what
    if update.done is not None:
        shown = size if update.unit == "bytes" else (lambda n: f"{n:,}")
        text += f" {shown(update.done)}" + (f" of {shown(update.total)}" if update.total is not None else "")
    if update.detail:
        text += f": {update.detail}"
    return f"{text} ({elapsed:,.0f} s)"


def _columns(stream: TextIO) -> int:
    """Width of the terminal behind stream (80 when it tells none)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):
        columns = 0
    return columns or 80


class TerminalProgress:
    """A status line on a terminal, rewritten in place (at most every `interval` seconds) and erased at the end."""

    def __init__(self, stream: TextIO, *, interval: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None
        self.shown_what = ""
        self.line = ""

    def __call__(self, update: Update) -> None:
        now = self.clock()
        finished = update.total is not None and update.done == update.total
        recent = self.shown_at is not None and now - self.shown_at < self.interval
        if recent and update.what == self.shown_what and not finished:
            return  # the same task, shown a moment ago
        width = max(20, _columns(self.stream) - 1)
        self.line = describe(update, now - self.started)[:width]
        self.stream.write("\r\x1b[2K" + self.line)
        self.stream.flush()
        self.shown_at, self.shown_what = now, update.what

    def clear(self) -> None:
        """Erase the status line (before other output, and at the end)."""
        if self.line:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def write_above(self, text: str, into: TextIO | None = None) -> None:
        """Other output (to the status stream, or into another stream on the same terminal, such as stdout): written
        where the status line was, which is drawn again below it after a full line."""
        self.clear()
        target = self.stream if into is None else into
        target.write(text)
        target.flush()
        if self.line and text.endswith("\n"):
            self.stream.write(self.line)
        elif not text.endswith("\n"):
            self.line = ""  # the cursor is inside that text now: draw the status line again on the next update
        self.stream.flush()

    def other_output(self, into: TextIO | None = None) -> TextIO:
        """A stream for everything else written to the terminal (install it as sys.stderr, or with into=sys.stdout
        as sys.stdout when stdout is the same terminal): see write_above."""
        return cast(TextIO, _Above(self, into or self.stream))


class _Above(io.TextIOBase):
    """A text stream whose writes go above a TerminalProgress line (into `target`: its stream, or stdout)."""

    def __init__(self, status: TerminalProgress, target: TextIO) -> None:
        self.status = status
        self.target = target

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes whether a stream takes bytes by writing b""
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:  # an empty write (another probe) leaves the status line as it is
            self.status.write_above(text, None if self.target is self.status.stream else self.target)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.target.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.target.errors

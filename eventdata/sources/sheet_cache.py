"""A cache of parsed coding sheets keyed by their bytes: a sheet read before is loaded, not parsed again (#10).

Parsing a sheet (pyarrow's CSV reader, trimming, line numbers, the file's own problems) is the largest cost of
reading 1M events; a release after editing one sheet of 200 parses that one only. An entry is an Arrow IPC file
named by the sha256 of the sheet's bytes and of everything else the parse depends on: the reader's own source
(eventdata/sources/sheets.py, so a changed reader never meets an old entry), the columns asked for and the cache
format. It holds the sheet's table, the line of each row and its problems; it is memory-mapped when loaded.

Where: $EVENTDATA_SHEET_CACHE_DIR, else $XDG_CACHE_HOME/eventdata/sheets (~/.cache/eventdata/sheets); an empty
EVENTDATA_SHEET_CACHE_DIR (or `off`) turns it off. Sheets under MIN_BYTES are parsed every time (that is quicker than a
lookup). Entries are written by a background thread after the read (atomically: a killed run leaves at most a
temporary file, removed later) and the least recently used go when the folder passes EVENTDATA_SHEET_CACHE_MAX_MB
(default DEFAULT_MAX_MB). The cache is never an input: deleting it only makes the next read slower, and what is
read from it is what parsing gives (tests/test_sheet_cache.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from eventdata.errors import Problem

CACHE_ENV = "EVENTDATA_SHEET_CACHE_DIR"
MAX_ENV = "EVENTDATA_SHEET_CACHE_MAX_MB"
DEFAULT_MAX_MB = 4096
#: Smaller sheets are parsed every time: a coder's sheet of a few hundred rows parses in milliseconds.
MIN_BYTES = 1 << 20
FORMAT = 1
ENTRY_SUFFIX = ".arrow"
TEMPORARY_MARK = ".part-"
LINES_FIELD = "__eventdata_line"
PROBLEMS_KEY = b"eventdata:problems"
#: A temporary file older than this is of a run that was stopped: removed when the cache is pruned.
STALE_SECONDS = 3600


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip() in ("", "off") else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder (a service account): no cache
            return None
    return Path(base) / "eventdata" / "sheets"


def max_bytes() -> int:
    """The size the cache folder is pruned to (EVENTDATA_SHEET_CACHE_MAX_MB, a whole number of MB)."""
    try:
        return max(0, int(os.environ.get(MAX_ENV, DEFAULT_MAX_MB))) << 20
    except ValueError:
        return DEFAULT_MAX_MB << 20


@cache
def _reader_digest() -> str | None:
    """sha256 of the reader: its source (eventdata/sources/sheets.py and this module) and pyarrow's version, which
    parses the CSV; an entry made by other reading code is never used. None when a source cannot be read (an
    install without sources): then there is no cache."""
    digest = hashlib.sha256(f"{FORMAT} pyarrow {pa.__version__}".encode())
    try:
        for module in ("sheets.py", "sheet_cache.py"):
            digest.update((Path(__file__).parent / module).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def sheet_key(data: bytes, settings: Sequence[str | None]) -> str:
    """The entry name of a sheet: its bytes, the reader and the reader's arguments (settings)."""
    digest = hashlib.sha256(json.dumps([_reader_digest(), list(settings)]).encode())
    digest.update(b"\0")
    digest.update(data)  # hashlib releases the interpreter lock for large buffers: sheets hash side by side
    return digest.hexdigest()


def load_entry(directory: Path, key: str) -> tuple[pa.Table, np.ndarray, list[Problem]] | None:
    """The table, lines and problems of an entry (problems named by the file they were stored with); None on a
    miss or an entry that cannot be read (it is then parsed again and stored anew)."""
    path = directory / f"{key}{ENTRY_SUFFIX}"
    try:
        source = pa.memory_map(str(path))
    except OSError:  # no such entry (or an unreadable folder)
        return None
    try:
        with source:
            table = ipc.open_file(source).read_all()
        metadata = table.schema.metadata or {}
        problems = [Problem(**item) for item in json.loads(metadata[PROBLEMS_KEY])]
        lines = table.column(LINES_FIELD).to_numpy().astype(np.int64, copy=False)
        table = table.drop_columns([LINES_FIELD]).replace_schema_metadata(None)
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        _remove(path)  # a damaged entry: removed, so that the sheet parsed again is stored anew
        return None
    with contextlib.suppress(OSError):  # a cache folder shared read-only: the entry is used all the same
        os.utime(path)  # recently used: pruned last
    return table, lines, problems


def store_entry(directory: Path, key: str, table: pa.Table, lines: np.ndarray, problems: Sequence[Problem]) -> None:
    """Write an entry atomically (a temporary file renamed into place); a folder that cannot be written is skipped."""
    target = directory / f"{key}{ENTRY_SUFFIX}"
    temporary = directory / f"{key}{TEMPORARY_MARK}{os.getpid()}-{threading.get_ident()}"
    try:
        if target.exists():
            return
        stored = table.append_column(LINES_FIELD, pa.array(lines, pa.int64()))
        stored = stored.replace_schema_metadata({PROBLEMS_KEY: json.dumps([asdict(p) for p in problems])})
        directory.mkdir(parents=True, exist_ok=True)
        with ipc.new_file(str(temporary), stored.schema) as writer:
            writer.write_table(stored)
        os.replace(temporary, target)
    except (OSError, pa.ArrowException):
        _remove(temporary)


def prune(directory: Path, limit: int) -> None:
    """Remove the least recently used entries until the folder holds at most `limit` bytes, and stale temporary
    files of stopped runs."""
    entries = []
    try:
        listing = list(os.scandir(directory))
    except OSError:
        return
    now = time.time()
    for item in listing:
        try:
            stat = item.stat()
        except OSError:
            continue
        if TEMPORARY_MARK in item.name:
            if now - stat.st_mtime > STALE_SECONDS:
                _remove(Path(item.path))
        elif item.name.endswith(ENTRY_SUFFIX):
            entries.append((stat.st_mtime, stat.st_size, item.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        if _remove(Path(path)):
            total -= size


def _remove(path: Path) -> bool:
    """Delete a file of the cache; False when it cannot be (a folder shared read-only)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


class SheetCache:
    """The cache of one command: lookups, and the entries to store, written by one background thread.

    A command calls `write_in_background()` once the sheets are read (validation does, so the writes overlap with
    its checks) and `close()` at the end, which waits for the writes and prunes the folder.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._queue: queue.Queue[tuple[str, pa.Table, np.ndarray, tuple[Problem, ...]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._room = max_bytes()  # what this command may still store: sheets beyond the limit are not stored,
        # so a dataset larger than the cache keeps the entries it has instead of replacing them on every run

    @classmethod
    def configured(cls) -> SheetCache | None:
        directory = cache_dir()
        return None if directory is None or _reader_digest() is None else cls(directory)

    def load(self, key: str) -> tuple[pa.Table, np.ndarray, list[Problem]] | None:
        found = load_entry(self.directory, key)
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def store(self, key: str, table: pa.Table, lines: np.ndarray, problems: tuple[Problem, ...]) -> None:
        with self._lock:
            size = table.nbytes + lines.nbytes
            if size > self._room:
                return
            self._room -= size
        self._queue.put((key, table, lines, problems))

    def write_in_background(self) -> None:
        """Start writing the entries stored so far and later, on a thread of their own: called once the sheets are
        read, so that the writes (mostly the kernel copying pages) run beside the checks instead of slowing the
        reads."""
        with self._lock:
            if self._thread is None and not self._queue.empty():
                self._thread = threading.Thread(target=self._write, name="eventdata-sheet-cache", daemon=True)
                self._thread.start()

    def _write(self) -> None:
        while (item := self._queue.get()) is not None:
            with contextlib.suppress(Exception):  # an entry not written only makes the next read slower
                store_entry(self.directory, *item)
            item = None  # the table is not held while waiting for the next

    def close(self, *, abandon: bool = False) -> None:
        """Write the entries not written yet and wait for them, then prune the folder to its size limit.

        With abandon (a command that failed or was interrupted), the entries not being written are dropped and
        nothing is waited for."""
        if abandon:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        else:
            self.write_in_background()
        with self._lock:
            thread, self._thread = self._thread, None
        self._queue.put(None)
        if thread is None or abandon:
            return
        thread.join()
        prune(self.directory, max_bytes())

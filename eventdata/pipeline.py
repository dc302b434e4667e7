"""Validation as a declared pipeline: registered steps and rules, and the table of findings they add to.

A step (parsing, resolution, derivation, pandera, the named rules) takes the pipeline's State and changes its
events or adds findings. A rule is a registered step with its problem codes, the columns it reads, its message
templates and a docstring; the codebook's "Checks" section is generated from the registry (`RULES`).

Findings are collected as a table (row, column, code, value, message template and parameters) and turned into
Problem objects once, at the end: one mistake per cell is one problem (the first code found in a cell wins).
"""

from __future__ import annotations

import contextvars
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from eventdata import progress
from eventdata.actors import ActorList
from eventdata.errors import Problem
from eventdata.gazetteer import Gazetteer
from eventdata.schema import Codebook
from eventdata.sources.articles import Article
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN


@dataclass(frozen=True)
class References:
    """What rows are checked against besides the codebook: articles, actors, places and assigned ids."""

    articles: dict[str, Article] = field(default_factory=dict)
    actors: ActorList | None = None
    gazetteer: Gazetteer | None = None
    registry: pd.DataFrame | None = None
    deleted: dict[str, str] = field(default_factory=dict)  # id → reason (seeds/deletions.csv)
    listed_articles: frozenset[str] = frozenset()  # ids in the article index, usable or not


def text_of(value: Any) -> str | None:
    """A cell as shown in a problem: None when missing, a date as YYYY-MM-DD."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _rows(where: Any) -> np.ndarray:
    array = np.asarray(where)
    if array.dtype == bool:
        return np.flatnonzero(array)
    return array.astype(np.int64, copy=False)


def _aligned(values: Any, size: int) -> np.ndarray:
    """A parameter or value as an object array of the findings' length (a scalar is repeated)."""
    if isinstance(values, pd.Series | pd.Index | np.ndarray | list | tuple):
        array = np.asarray(values, dtype=object)
        if array.shape == (size,):
            return array
    out = np.empty(size, dtype=object)
    out[:] = [values] * size
    return out


@dataclass
class _Part:
    rows: np.ndarray
    code: str
    column: str
    template: str
    params: dict[str, np.ndarray]
    values: np.ndarray
    seq: int


class Findings:
    """The findings table: one part per call of add, turned into problems at the end."""

    def __init__(self, raw: pd.DataFrame, absent: set[tuple[str, str]] | None = None) -> None:
        self.raw = raw  # the cells as typed (strings), shown in messages; row positions are its index
        self.events = raw  # the current events (typed, resolved, derived), for values the coder left empty
        self.absent = absent or set()  # (sheet, column) already reported as missing-column
        self._parts: list[_Part] = []
        self._sheet_column = raw[SHEET_COLUMN]  # taken for the rows that need it: one object per finding, not per row
        self._lines = raw[LINE_COLUMN].to_numpy(dtype=np.int64)

    def add(
        self,
        where: Any,
        code: str,
        column: str,
        template: str,
        params: dict[str, Any] | None = None,
        value: Any = None,
    ) -> None:
        """One finding at each row where (a boolean mask, or row positions); template is formatted with params.

        Each parameter is a scalar or an array aligned with the chosen rows; the value shown is the cell as
        typed, else the cell as the pipeline filled it, unless value is given.
        """
        rows = _rows(where)
        if not len(rows):
            return
        keep = None
        if code == "required-error" and self.absent:
            skipped = [sheet for sheet, name in self.absent if name == column]
            if skipped:
                keep = ~np.isin(self._sheets(rows), skipped)
                rows = rows[keep]
                if not len(rows):
                    return
        size = len(rows)
        chosen = {k: _aligned(v, len(keep) if keep is not None else size) for k, v in (params or {}).items()}
        values = self.cells(column, rows) if value is None else _aligned(value, len(keep) if keep is not None else size)
        if keep is not None:
            chosen = {k: v[keep] for k, v in chosen.items()}
            if value is not None:
                values = values[keep]
        self._parts.append(_Part(rows, code, column, template, chosen, values, len(self._parts)))

    def fork(self) -> Findings:
        """A findings table that starts with these findings and collects its own, for a step run beside others."""
        forked = Findings.__new__(Findings)
        forked.__dict__.update(self.__dict__)
        forked._parts = list(self._parts)
        return forked

    def merge(self, forked: Findings, since: int) -> None:
        """Add the findings a fork collected after its first `since` parts, after these (in their order)."""
        for part in forked._parts[since:]:
            self._parts.append(replace(part, seq=len(self._parts)))

    def _sheets(self, rows: np.ndarray) -> np.ndarray:
        """The sheet of each of the rows, as objects."""
        return self._sheet_column.iloc[rows].to_numpy(dtype=object)

    def cells(self, column: str, rows: np.ndarray) -> np.ndarray:
        """The cells shown for rows of a column: as typed, else as filled."""
        out = np.full(len(rows), None, dtype=object)
        if column in self.raw.columns:
            out[:] = self.raw[column].iloc[rows].to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # na_value=None is valid
        missing = np.array([v is None for v in out], dtype=bool) if len(out) else np.zeros(0, dtype=bool)
        if missing.any() and column in self.events.columns:
            out[missing] = self.events[column].iloc[rows[missing]].to_numpy(dtype=object)
        return out

    def _table(self) -> pd.DataFrame:
        """Every finding so far (part, position, row, column, code), the ones shadowed in their cell dropped."""
        if not self._parts:
            return pd.DataFrame({"part": [], "position": [], "row": [], "column": [], "code": []})
        table = pd.DataFrame(
            {
                "part": np.concatenate([np.full(len(p.rows), p.seq) for p in self._parts]),
                "position": np.concatenate([np.arange(len(p.rows)) for p in self._parts]),
                "row": np.concatenate([p.rows for p in self._parts]),
                "column": np.concatenate([np.full(len(p.rows), p.column, dtype=object) for p in self._parts]),
                "code": np.concatenate([np.full(len(p.rows), p.code, dtype=object) for p in self._parts]),
            }
        )
        first = table.groupby(["row", "column"], sort=False)["code"].transform("first")
        return table[(table["code"] == first).to_numpy()]

    def found(self) -> pd.DataFrame:
        """The cells that have a problem so far: row, column, code."""
        return self._table()[["row", "column", "code"]].drop_duplicates(["row", "column"])

    @property
    def rows(self) -> set[int]:
        return {int(p) for part in self._parts for p in part.rows.tolist()}

    def problems(self) -> list[Problem]:
        """The findings as problems, in the order they were found (one mistake per cell)."""
        table = self._table()
        problems: list[Problem] = []
        for seq, chosen in table.groupby("part", sort=True)["position"]:
            part = self._parts[int(str(seq))]  # an int label
            positions = chosen.to_numpy()
            rows = part.rows[positions]
            keys = list(part.params)
            columns = [part.params[k][positions].tolist() for k in keys]
            sheets = self._sheets(rows).tolist()
            lines = self._lines[rows].tolist()
            shown = part.values[positions].tolist()  # noqa: PD011  # a numpy array, not a frame
            for i, (sheet, line, value) in enumerate(zip(sheets, lines, shown, strict=True)):
                message = part.template.format_map({k: c[i] for k, c in zip(keys, columns, strict=True)})
                problems.append(Problem(part.code, message, str(sheet), int(line), part.column, text_of(value)))
        return problems


@dataclass
class State:
    """What the steps share: the rows as read, the events as the steps make them, and what they found."""

    raw: pd.DataFrame
    events: pd.DataFrame
    codebook: Codebook
    references: References
    findings: Findings
    today: date
    timestamp: int = 0
    new_ids: pd.DataFrame | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what a step leaves for later ones
    _distinct: dict[str, tuple[Any, np.ndarray, pd.Series]] = field(default_factory=dict, repr=False)

    def distinct(self, column: str) -> tuple[np.ndarray, pd.Series]:
        """An events column's codes and distinct values, missing among them (pd.factorize, no NA sentinel).

        Found once while the column holds the same Arrow data (immutable: a step that changes the column
        gives it new data); other columns are factorized on every call.
        """
        series = self.events[column]
        data = series.array.__arrow_array__() if hasattr(series.array, "__arrow_array__") else None
        cached = self._distinct.get(column)
        if data is not None and cached is not None and cached[0] is data:
            return cached[1], cached[2]
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        distinct = pd.Series(uniques, dtype=series.dtype)
        if data is not None:
            self._distinct[column] = (data, codes, distinct)
        return codes, distinct

    def mapped(self, column: str, mapping: dict[Any, Any]) -> pd.Series:
        """events[column].map(mapping), each distinct value looked up once."""
        codes, distinct = self.distinct(column)
        return distinct.map(mapping).take(codes).set_axis(self.events.index).rename(column)


@dataclass(frozen=True)
class Step:
    """One declared step of validation."""

    name: str
    run: Callable[[State], None]
    needs: str | None = None  # the reference it needs (References attribute), else it is skipped
    #: The step reads no column that a neighbouring concurrent step replaces, and replaces none that another
    #: replaces or reads: it runs at once with its neighbours marked so, each seeing the events and findings of
    #: the steps before them; the columns each replaced are put together, their findings follow in step order.
    concurrent: bool = False

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()

    def applies(self, state: State) -> bool:
        return self.needs is None or getattr(state.references, self.needs) is not None


ColumnsOf = Callable[[Codebook], Sequence[str]]


@dataclass(frozen=True)
class Rule:
    """A named check: its problem codes, the columns it reads, its message templates and what it checks."""

    name: str
    check: Callable[[State], None]
    codes: tuple[str, ...]
    columns: ColumnsOf
    messages: dict[str, str]

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        """The first line of the docstring, without its check number."""
        text = (self.check.__doc__ or "").strip().splitlines()[0]
        return text.split(" (check")[0].rstrip(".") + "."

    def __call__(self, state: State) -> None:
        self.check(state)


#: The named rules, in the order they run.
RULES: list[Rule] = []


def rule(
    codes: str | Sequence[str], columns: Sequence[str] | ColumnsOf, messages: dict[str, str] | str
) -> Callable[[Callable[[State], None]], Rule]:
    """Register a named rule: its code(s), the columns it reads (or a function of the codebook), its message(s)."""
    code_tuple = (codes,) if isinstance(codes, str) else tuple(codes)
    fixed = () if callable(columns) else tuple(columns)

    def listed(codebook: Codebook) -> Sequence[str]:
        return fixed

    reads: ColumnsOf = columns if callable(columns) else listed
    templates = {code_tuple[0]: messages} if isinstance(messages, str) else dict(messages)

    def register(check: Callable[[State], None]) -> Rule:
        registered = Rule(check.__name__, check, code_tuple, reads, templates)
        RULES.append(registered)
        return registered

    return register


#: Threads for the concurrent steps: the cores this process may use.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_steps(steps: Sequence[Step], state: State) -> None:
    """Run each step that applies, in order; the findings follow the events each step leaves.

    Neighbouring concurrent steps (checks, and resolutions of separate columns) run in threads, one per core:
    their work is mostly in pyarrow and pandas kernels that release the GIL.
    """
    checking = f"checking {len(state.events):,} rows"
    applying = [step for step in steps if step.applies(state)]
    position = 0
    while position < len(applying):
        group = [applying[position]]
        while (
            group[-1].concurrent
            and position + len(group) < len(applying)
            and applying[position + len(group)].concurrent
        ):
            group.append(applying[position + len(group)])
        position += len(group)
        progress.stage(checking, " + ".join(step.name for step in group))
        if len(group) == 1 or CORES < 2:
            for step in group:
                step.run(state)
                state.findings.events = state.events
        else:
            _run_concurrently(group, state)


def _run_concurrently(group: Sequence[Step], state: State) -> None:
    """Run steps at once, each on its own fork of the state; put the columns each replaced into the events and
    merge their findings in step order.

    Python's warning filters are one list that `warnings.catch_warnings` (pandas uses it inside many calls) swaps
    without a lock, so they are put back as they were; an interrupt stops waiting at once and drops what is queued.
    """
    since = len(state.findings._parts)
    forks = [replace(state, findings=state.findings.fork()) for _ in group]
    filters = warnings.filters[:]
    pool = ThreadPoolExecutor(max_workers=min(CORES, len(group)), thread_name_prefix="eventdata-check")
    try:
        runs = [
            pool.submit(contextvars.copy_context().run, step.run, fork) for step, fork in zip(group, forks, strict=True)
        ]
        for run in runs:
            run.result()  # an exception in a check is raised here, as it would be in order
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        warnings.filters[:] = filters  # type: ignore[index]  # a list at run time
        mutated = getattr(warnings, "_filters_mutated", None)  # CPython: the caches of warn() follow the list
        if mutated is not None:
            mutated()
    pool.shutdown()
    events, new_ids = state.events.copy(deep=False), state.new_ids
    written: dict[str, str] = {}  # column → the step that replaced it
    numbered_by: str | None = None  # the step that gave new ids
    for step, fork in zip(group, forks, strict=True):
        for column in _replaced_columns(state.events, fork.events):
            if column in written:
                raise RuntimeError(f"the concurrent steps {written[column]!r} and {step.name!r} both replace {column}")
            written[column] = step.name
            events[column] = fork.events[column]
        if fork.new_ids is not state.new_ids:
            if numbered_by is not None:
                raise RuntimeError(f"the concurrent steps {numbered_by!r} and {step.name!r} both give new ids")
            numbered_by, new_ids = step.name, fork.new_ids
        state.findings.merge(fork.findings, since)
    if written:
        state.events, state.findings.events = events, events
    state.new_ids = new_ids


def _replaced_columns(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """The columns of after that are new or hold other data than before's (a step gives a column new data)."""
    if after is before:
        return []
    if not after.index.equals(before.index) or not set(before.columns) <= set(after.columns):
        raise RuntimeError("a concurrent step changed the rows or dropped a column: it may only replace columns")
    return [c for c in after.columns if c not in before.columns or not _same_data(before[c], after[c])]


def _same_data(one: pd.Series, other: pd.Series) -> bool:
    """True when both columns hold the same cells: the very same data, as a frame's shallow copy shares it (found
    without reading the cells), or equal ones."""
    if one.dtype != other.dtype:
        return False
    return _data_address(one) == _data_address(other) != () or bool(one.equals(other))


def _data_address(column: pd.Series) -> tuple[Any, ...]:
    """Where a column's data lies (memory addresses, or the Arrow array), or () when not known."""
    values = column.array
    arrow = getattr(values, "_pa_array", None)
    if arrow is not None:
        return ("arrow", id(arrow))
    parts = [getattr(values, name, None) for name in ("_data", "_mask", "_ndarray", "_codes")]
    arrays = [a for a in parts if isinstance(a, np.ndarray)]
    if not arrays and isinstance(column.dtype, np.dtype):
        arrays = [column.to_numpy(copy=False)]
    return tuple((a.__array_interface__["data"][0], a.strides, a.shape) for a in arrays)

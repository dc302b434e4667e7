"""Typing: each sheet column converted to its Table Schema type, once per distinct value.

A cell that does not read as its type becomes missing and a `type-error` naming what was expected.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from eventdata.columns import columns, role_code
from eventdata.pipeline import State
from eventdata.schema import PANDAS_DTYPES

INTEGER = re.compile(r"^[+-]?\d{1,18}$")
TOO_LONG_INTEGER = re.compile(r"^[+-]?\d{19,}$")
NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TYPE_HINTS = {
    "integer": "expected a whole number such as 3",
    "number": "expected a decimal number with a point, such as 36.2119",
    "date": "expected a real date written YYYY-MM-DD, such as 2022-02-03",
}
TOO_LONG = "the number has {digits} digits, too big for a whole number (at most 18 digits{limit})."


def _parse_distinct(values: pd.Series, type_: str) -> tuple[pd.Series, np.ndarray]:
    """The distinct cells of a column parsed: the typed values and which cells read as the type."""
    parsed: pd.Series
    if type_ == "integer":
        ok = values.str.fullmatch(INTEGER.pattern).fillna(False).to_numpy(dtype=bool)
        parsed = pd.to_numeric(values.where(ok).astype(object), errors="coerce").astype("Int64")
    elif type_ == "number":
        ok = values.str.fullmatch(NUMBER.pattern).fillna(False).to_numpy(dtype=bool)
        parsed = pd.to_numeric(values.where(ok).astype(object), errors="coerce").astype("Float64")
    else:
        ok = values.str.fullmatch(DATE.pattern).fillna(False).to_numpy(dtype=bool)
        parsed = pd.to_datetime(values.where(ok), format="%Y-%m-%d", errors="coerce").astype(PANDAS_DTYPES["date"])
        ok &= parsed.notna().to_numpy()
    return parsed, ok


def _take(parsed: pd.Series, codes: np.ndarray, type_: str, index: pd.Index) -> pd.Series:
    """The parsed distinct values spread back to the rows (code -1: missing); the new arrays are not copied."""
    missing = codes < 0
    if len(parsed):
        safe = np.where(missing, 0, codes)
        valid = parsed.notna().to_numpy()[safe] & ~missing
    else:
        safe, valid = np.zeros(len(codes), dtype=np.int64), np.zeros(len(codes), dtype=bool)
    if type_ == "date":
        values = parsed.to_numpy(dtype="datetime64[s]") if len(parsed) else np.zeros(1, dtype="datetime64[s]")
        out = values[safe]
        out[~valid] = np.datetime64("NaT")
        dates: pd.Series = pd.Series(out, index=index, dtype=PANDAS_DTYPES["date"], copy=False)
        return dates
    if type_ == "integer":
        numbers = parsed.to_numpy(dtype="int64", na_value=0) if len(parsed) else np.zeros(1, dtype="int64")
        return pd.Series(pd.arrays.IntegerArray(numbers[safe], ~valid), index=index, copy=False)
    floats = parsed.to_numpy(dtype="float64", na_value=0.0) if len(parsed) else np.zeros(1, dtype="float64")
    return pd.Series(pd.arrays.FloatingArray(floats[safe], ~valid), index=index, copy=False)


def parse_types(state: State) -> None:
    """Each column converted to its Table Schema type; unreadable cells become missing and a type-error."""
    raw, findings = state.raw, state.findings
    typed = raw.copy(deep=False)
    for spec in state.codebook.fields:
        name, type_ = spec["name"], spec["type"]
        if type_ == "string":
            continue
        codes, uniques = pd.factorize(raw[name])
        distinct = pd.Series(uniques, dtype=raw[name].dtype)
        parsed, ok = _parse_distinct(distinct, type_)
        bad_distinct = ~ok
        if type_ == "integer":
            long = bad_distinct & distinct.str.fullmatch(TOO_LONG_INTEGER.pattern).fillna(False).to_numpy(dtype=bool)
            if long.any():
                maximum = spec.get("constraints", {}).get("maximum")
                limit = f"; {name} is at most {maximum}" if maximum is not None else ""
                digits = np.array([len(str(v).lstrip("+-")) for v in distinct.tolist()], dtype=object)
                rows = np.flatnonzero((codes >= 0) & long[np.where(codes < 0, 0, codes)])
                findings.add(rows, "type-error", name, TOO_LONG, {"digits": digits[codes[rows]], "limit": limit})
                bad_distinct &= ~long
        if bad_distinct.any():
            rows = np.flatnonzero((codes >= 0) & bad_distinct[np.where(codes < 0, 0, codes)])
            findings.add(rows, "type-error", name, f"{TYPE_HINTS[type_]}.")
        typed[name] = _take(parsed, codes, type_, raw.index)
        raw[name] = _as_typed(codes, distinct)
    state.events = typed


def _as_typed(codes: np.ndarray, distinct: pd.Series) -> pd.Categorical:
    """A parsed column's cells as typed, kept for messages in less memory: each distinct text once, a small code
    per row (a number or date column has few distinct texts; its strings would cost 8 bytes of offset a row)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(distinct))


def no_second_actor(state: State) -> None:
    """An empty actor type whose optional actor column is empty means "no actor": the no-actor type (0)."""
    events, codebook = state.events, state.codebook
    optional = [
        a
        for a in columns(codebook).actors
        if a.actor_type and not codebook.field(a.name).get("constraints", {}).get("required")
    ]
    if not optional:
        return
    none = role_code(codebook, "actor_types", "no-actor")
    for actor in optional:
        assert actor.actor_type is not None
        empty = events[actor.actor_type].isna() & events[actor.name].isna()
        events[actor.actor_type] = events[actor.actor_type].mask(empty, none)

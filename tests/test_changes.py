"""The release deltas (eventdata.changes): compared without text, they give the answer the text gives."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from eventdata.changes import as_text, carry_timestamps, compute_changes, text_differs, undeclared_deletions


def _by_text(before: pa.Array, after: pa.Array) -> list[bool]:
    old, new = as_text(before).to_pylist(), as_text(after).to_pylist()
    return [a != b for a, b in zip(old, new, strict=True)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (pa.array([1.5, 0.0, -0.0, float("nan"), 2.0]), pa.array([1.5, -0.0, -0.0, float("nan"), 2.5])),
        (pa.array([1.0, None, 3.0]), pa.array([1.0, None, None])),
        (pa.array(["a", None, "c", ""]), pa.array(["a", None, "d", None])),
        (pa.array([1, 2, None], pa.int8()), pa.array([1, 3, None], pa.int8())),
        (pa.array([date(2020, 1, 1), None]), pa.array([date(2020, 1, 2), None])),
        (pa.array([1, 2], pa.int64()), pa.array(["1", "3"])),  # a type change: compared as text
    ],
)
def test_text_differs_matches_the_text(before: pa.Array, after: pa.Array) -> None:
    found = text_differs(pa.chunked_array([before]), pa.chunked_array([after]))
    assert found.tolist() == _by_text(before, after)


def test_text_differs_compares_dictionaries_by_value() -> None:
    shared = pa.array(["x", "y", "z"])
    before = pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2], pa.int32()), shared)
    same = pa.DictionaryArray.from_arrays(pa.array([0, 2, None, 2], pa.int32()), shared)
    other = pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 0], pa.int32()), pa.array(["y", "x", "z"]))
    for after in (same, other):
        found = text_differs(pa.chunked_array([before]), pa.chunked_array([after]))
        assert found.tolist() == _by_text(before, after)
    repeated = pa.array(["x", "y", "z", "x"])  # a dictionary may hold a value twice: its indices then differ
    twice = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), repeated)
    again = pa.DictionaryArray.from_arrays(pa.array([3, 2], pa.int32()), repeated)
    assert text_differs(pa.chunked_array([twice]), pa.chunked_array([again])).tolist() == [False, True]


def _events(ids: list[str], notes: list[str], stamp: int) -> pa.Table:
    return pa.table({"event_id_cnty": ids, "notes": notes, "timestamp": pa.array([stamp] * len(ids), pa.int64())})


def test_changes_of_reordered_and_chunked_tables() -> None:
    previous = pa.concat_tables(
        [_events(["A1", "A2"], ["n1", "n2"], 10), _events(["A3", "A4"], ["n3", "n4"], 10)]
    )  # two chunks, as a Parquet file reads
    current = _events(["A1", "A3", "A4", "A5"], ["n1", "n3 fixed", "n4", "n5"], 20)
    carried = carry_timestamps(previous, current)
    assert carried.column("timestamp").to_pylist() == [10, 20, 10, 20]
    changes = compute_changes(previous, carried, date(2025, 1, 2))
    assert changes.added.column("event_id_cnty").to_pylist() == ["A5"]
    assert changes.deleted.column("event_id_cnty").to_pylist() == ["A2"]
    assert changes.modified.to_pylist() == [
        {"event_id_cnty": "A3", "column": "notes", "old_value": "n3", "new_value": "n3 fixed"},
        {"event_id_cnty": "A3", "column": "timestamp", "old_value": "10", "new_value": "20"},
    ]
    assert changes.counts() == {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": 2}


def test_changes_of_the_same_ids_in_the_same_order() -> None:
    previous = _events(["A1", "A2", "A3"], ["n1", "n2", "n3"], 10)
    current = _events(["A1", "A2", "A3"], ["n1", "n2!", "n3"], 20)
    carried = carry_timestamps(previous, current)
    assert carried.column("timestamp").to_pylist() == [10, 20, 10]
    changes = compute_changes(previous, carried, date(2025, 1, 2))
    assert (changes.added.num_rows, changes.deleted.num_rows) == (0, 0)
    assert [(m["event_id_cnty"], m["column"]) for m in changes.modified.to_pylist()] == [
        ("A2", "notes"),
        ("A2", "timestamp"),
    ]


def test_undeclared_deletions_keep_the_previous_order_whatever_holds_the_ids() -> None:
    previous = ["SYR3", "SYR1", "SYR2", "SYR4"]
    current = ["SYR1", "SYR5"]
    for ids in (current, pd.Series(current, dtype="str"), pa.chunked_array([pa.array(current)])):
        assert undeclared_deletions(pa.chunked_array([previous[:2], previous[2:]]), ids, {"SYR4"}) == ["SYR3", "SYR2"]
        assert undeclared_deletions(previous, ids, set()) == ["SYR3", "SYR2", "SYR4"]

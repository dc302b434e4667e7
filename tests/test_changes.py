"""The release deltas (eventdata.changes): compared without text, they give the answer the text gives."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from eventdata.changes import (
    as_text,
    carry_timestamps,
    compute_changes,
    schema_changes,
    text_differs,
    undeclared_deletions,
)
from eventdata.cli import cli
from eventdata.errors import ReleaseError
from tests.conftest import REPO


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


# --- damaged releases: a message naming the file, never a traceback ----------------------------------------


def test_changes_refuse_a_table_without_ids_or_with_an_event_without_one() -> None:
    events = _events(["A1", "A2"], ["n1", "n2"], 10)
    with pytest.raises(ReleaseError, match="the events of the previous version has no column event_id_cnty"):
        compute_changes(events.drop_columns(["event_id_cnty"]), events, date(2025, 1, 2))
    no_id = events.set_column(0, "event_id_cnty", pa.array(["A1", None], pa.string()))
    with pytest.raises(ReleaseError, match=r"the events of the current version has 1 event\(s\) without event_id_cnty"):
        compute_changes(events, no_id, date(2025, 1, 2))


def test_schema_changes_refuse_a_table_schema_without_a_list_of_fields() -> None:
    fields = {"fields": [{"name": "notes", "type": "string"}]}
    with pytest.raises(ReleaseError, match="the previous version's Table Schema: 'fields' must be the list"):
        schema_changes({"fields": None}, fields)
    with pytest.raises(ReleaseError, match=r"Table Schema: fields\[0\] \(notes\): 'type' must be one of"):
        schema_changes(fields, {"fields": [{"name": "notes", "type": "text"}]})


def _without_ids(path: Path) -> None:
    pq.write_table(pq.read_table(path).drop_columns(["event_id_cnty"]), path)


def _empty_ids(path: Path) -> None:
    table = pq.read_table(path)
    index = table.schema.get_field_index("event_id_cnty")
    field = table.schema.field(index).with_nullable(True)
    pq.write_table(table.set_column(index, field, pa.nulls(table.num_rows, field.type)), path)


def _fields_null(path: Path) -> None:
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"]["fields"] = None
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("damaged", "damage", "said"),
    [
        (
            "data/events.parquet",
            _without_ids,
            "{file} does not match its Table Schema ({release}/datapackage.json resources[0].schema): it lacks the "
            "column(s) event_id_cnty. Release 1.1.0 of eventdata-seeds is damaged: restore it from a backup",
        ),
        (
            "data/events.parquet",
            _empty_ids,
            "{file}: column event_id_cnty is empty on 12 of 12 rows, but every event has an id; release 1.1.0 of "
            "eventdata-seeds is damaged: restore it from a backup",
        ),
        (
            "datapackage.json",
            _fields_null,
            "{file} resources[0].schema: 'fields' must be the list of the events' columns, not None; the release is "
            "damaged: restore it from a backup",
        ),
    ],
)
def test_diff_of_a_damaged_release_names_the_file_exit_2_and_prints_nothing(
    tmp_path: Path, damaged: str, damage: Callable[[Path], None], said: str
) -> None:
    root = tmp_path / "repository"
    for folder in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / folder, root / folder)
    release = root / "dist-data" / "eventdata-seeds" / "1.1.0"
    damage(release / damaged)

    for args in (["1.0.0", "1.1.0"], ["1.1.0", "1.1.1", "--json"]):
        result = CliRunner().invoke(cli, ["--project", str(root), "diff", *args])

        assert (result.exit_code, result.stdout) == (2, ""), result.output
        assert result.stderr.startswith(f"Error: {said.format(file=release / damaged, release=release)}")

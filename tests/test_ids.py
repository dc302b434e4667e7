"""Stable event ids: the tool numbers new rows per country, writes the ids into the sheets and never reuses one.

`build` only shows the ids it would give (provisional, in the draft); `assign-ids` and `release` write them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from eventdata.assign import IdAssignment, assign_new_ids
from eventdata.build import BuildResult, build_package
from eventdata.cli import cli
from eventdata.errors import Report, SourceError
from eventdata.ids import (
    assign_ids,
    next_numbers,
    read_registry,
    record_assignment,
    unregistered,
    write_ids_into_sheet,
)
from eventdata.project import Project
from eventdata.release import ReleaseResult, release_version
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN
from eventdata.validate import validate_project
from tests.conftest import SEED_ARTICLE, read_rows, write_rows

TODAY = date(2022, 3, 1)  # after every seed event
SEED_SHEET = f"seeds/sheets/{SEED_ARTICLE}.csv"  # as problems name it, from the dataset folder
ISO3 = {"Syria": "SYR", "Iraq": "IRQ", "Turkey": "TUR"}
# A place in Iraq, so that a row can move there without any problem but its id.
AL_QAIM = "Al-Qaim,Al Qaim; Qaim,Iraq,Al Anbar,Al-Qaim,,34.3688,41.0945,,Approximate; town centre.\n"


@pytest.fixture(autouse=True)
def _in_dataset(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the dataset folder, so that sheets are named as a coder types them."""
    monkeypatch.chdir(project.root)


def frame(rows: list[tuple[str | None, str | None, str, int]]) -> pd.DataFrame:
    """Events with the columns assign_ids reads: (event_id_cnty, country, sheet, line)."""
    ids, countries, sheets, lines = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "event_id_cnty": pd.Series(ids, dtype="string"),
            "country": pd.Series(countries, dtype="string"),
            SHEET_COLUMN: pd.Series(sheets, dtype="string"),
            LINE_COLUMN: pd.Series(lines, dtype="int64"),
        }
    )


def registry(*ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id_cnty": pd.Series(ids, dtype="string"),
            "first_sheet": pd.Series(["a.csv"] * len(ids), dtype="string"),
        }
    )


def new_event(seed_rows: list[dict[str, str]], index: int, **changes: str) -> dict[str, str]:
    """A copy of a seed row as a coder adds it: no id yet."""
    return {**seed_rows[index], "event_id_cnty": "", **changes}


def registry_rows(project: Project) -> list[tuple[str, str]]:
    return [(r["event_id_cnty"], r["first_sheet"]) for r in read_rows(project.id_registry)]


def sheet_ids(path: Path) -> list[str]:
    return [r["event_id_cnty"] for r in read_rows(path)]


def release_ids(result: BuildResult | ReleaseResult) -> list[str]:
    folder = result.package_dir if isinstance(result, BuildResult) else result.path
    assert folder is not None
    return pq.read_table(folder / "data" / "events.parquet").column("event_id_cnty").to_pylist()


def released(project: Project, when: date) -> ReleaseResult:
    result = release_version(project, release_date=when, today=TODAY)
    assert result.status == "released", [p.format() for p in result.report.problems]
    return result


def built(project: Project) -> BuildResult:
    result = build_package(project, today=TODAY)
    assert result.status == "built", [p.format() for p in result.report.problems]
    return result


def located(report: Report) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.column, p.code) for p in report.problems]


# --- next_numbers, assign_ids, unregistered -------------------------------------------------------


def test_next_numbers_is_the_highest_number_per_prefix_in_registry_or_sheets() -> None:
    registered = pd.Series(["SYR1", "SYR13", "IRQ2", "SYR9"], dtype="string")
    present = pd.Series(["SYR20", pd.NA, "not-an-id", "TUR7", "syr99"], dtype="string")
    assert next_numbers(registered, present) == {"SYR": 20, "IRQ": 2, "TUR": 7}


def test_next_numbers_compares_numbers_not_text() -> None:
    assert next_numbers(pd.Series(["SYR9", "SYR10", "SYR2"], dtype="string"), pd.Series([], dtype="string")) == {
        "SYR": 10
    }


def test_next_numbers_of_nothing_is_empty() -> None:
    assert next_numbers(pd.Series([], dtype="string"), pd.Series([pd.NA], dtype="string")) == {}


def test_assign_ids_numbers_new_rows_per_country_in_sheet_and_line_order() -> None:
    events = frame(
        [
            ("SYR1", "Syria", "b.csv", 2),
            (None, "Syria", "b.csv", 4),
            (None, "Iraq", "b.csv", 3),
            (None, "Syria", "a.csv", 9),
            (None, "Syria", "b.csv", 3),
            (None, "Iraq", "a.csv", 2),
            ("IRQ4", "Iraq", "a.csv", 3),
        ]
    )
    assignment = assign_ids(events, registry("SYR1", "SYR12", "IRQ4"), ISO3)
    assert assignment.ids.tolist() == ["SYR1", "SYR15", "IRQ6", "SYR13", "SYR14", "IRQ5", "IRQ4"]
    assert assignment.new.to_dict("list") == {
        "event_id_cnty": ["IRQ5", "SYR13", "IRQ6", "SYR14", "SYR15"],
        SHEET_COLUMN: ["a.csv", "a.csv", "b.csv", "b.csv", "b.csv"],
        LINE_COLUMN: [2, 9, 3, 3, 4],
    }


def test_assign_ids_first_id_of_a_country() -> None:
    assignment = assign_ids(frame([(None, "Turkey", "a.csv", 2)]), registry("SYR1"), ISO3)
    assert assignment.ids.tolist() == ["TUR1"]


def test_assign_ids_never_reuses_a_registered_number() -> None:
    # SYR3 was assigned and later deleted: it is in the registry only.
    assignment = assign_ids(
        frame([("SYR1", "Syria", "a.csv", 2), (None, "Syria", "a.csv", 3)]), registry("SYR1", "SYR3"), ISO3
    )
    assert assignment.ids.tolist() == ["SYR1", "SYR4"]


def test_assign_ids_leaves_rows_without_a_known_country_empty() -> None:
    events = frame([(None, None, "a.csv", 2), (None, "Narnia", "a.csv", 3), (None, "Syria", "a.csv", 4)])
    assignment = assign_ids(events, registry(), ISO3)
    assert assignment.ids.isna().tolist() == [True, True, False]
    assert assignment.ids.iloc[2] == "SYR1"
    assert assignment.new["event_id_cnty"].tolist() == ["SYR1"]


def test_assign_ids_with_every_id_given_assigns_nothing() -> None:
    events = frame([("SYR1", "Syria", "a.csv", 2), ("SYR2", "Syria", "a.csv", 3)])
    assignment = assign_ids(events, registry("SYR1", "SYR2"), ISO3)
    assert assignment.ids.tolist() == ["SYR1", "SYR2"]
    assert assignment.new.empty
    assert list(assignment.new.columns) == ["event_id_cnty", SHEET_COLUMN, LINE_COLUMN]


def test_unregistered_flags_only_typed_ids_the_tool_never_gave() -> None:
    ids = pd.Series(["SYR1", pd.NA, "SYR99", "syr1", "SYR12"], dtype="string")
    assert unregistered(ids, registry("SYR1", "SYR12")).tolist() == [False, False, True, True, False]


def test_unregistered_with_an_empty_registry() -> None:
    assert unregistered(pd.Series(["SYR1", pd.NA], dtype="string"), registry()).tolist() == [True, False]


# --- the registry and the sheets on disk ----------------------------------------------------------


def test_read_registry_missing_is_empty(tmp_path: Path) -> None:
    empty = read_registry(tmp_path / "event_ids.csv")
    assert list(empty.columns) == ["event_id_cnty", "first_sheet"]
    assert empty.empty


def test_read_registry_without_its_columns_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "event_ids.csv"
    path.write_text("id,sheet\nSYR1,a.csv\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"lacks column\(s\) \['event_id_cnty', 'first_sheet'\]"):
        read_registry(path)


def test_write_ids_into_sheet_keeps_quoted_and_multi_line_cells(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(
        b"event_id_cnty,notes,country\n"
        b',"On 3 February, a raid\nin ""Atmeh"", 13 dead",Syria\n'
        b"SYR1,plain,Syria\n"
        b"\n"
        b',"two\r\nlines",Syria\n'
    )
    write_ids_into_sheet(path, {2: "SYR14", 6: "SYR15"})  # records start on lines 2, 4 and 6
    assert path.read_bytes() == (
        b"event_id_cnty,notes,country\n"
        b'SYR14,"On 3 February, a raid\nin ""Atmeh"", 13 dead",Syria\n'
        b"SYR1,plain,Syria\n"
        b"\n"
        b'SYR15,"two\r\nlines",Syria\n'
    )


def test_write_ids_into_sheet_adds_the_column_when_absent(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text('notes,country\n"a\nb",Syria\nc,Syria\n', encoding="utf-8")
    write_ids_into_sheet(path, {2: "SYR5", 4: "SYR6"})
    assert path.read_text(encoding="utf-8") == 'notes,country,event_id_cnty\n"a\nb",Syria,SYR5\nc,Syria,SYR6\n'


def test_write_ids_into_sheet_fills_a_row_lacking_only_the_trailing_id_cell(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("notes,country,event_id_cnty\na,Syria,SYR5\nb,Syria\n", encoding="utf-8")
    write_ids_into_sheet(path, {3: "SYR6"})
    assert path.read_text(encoding="utf-8") == "notes,country,event_id_cnty\na,Syria,SYR5\nb,Syria,SYR6\n"


def test_write_ids_into_sheet_finds_the_column_anywhere_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("notes, event_id_cnty ,country\nx,,Syria\ny,SYR1,Syria\n", encoding="utf-8")
    write_ids_into_sheet(path, {2: "SYR2"})
    assert path.read_text(encoding="utf-8") == "notes, event_id_cnty ,country\nx,SYR2,Syria\ny,SYR1,Syria\n"


def test_write_ids_into_sheet_keeps_the_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeffevent_id_cnty,location,country\n,Bārīshā,Syria\n".encode())
    write_ids_into_sheet(path, {2: "SYR14"})
    assert path.read_bytes() == "\ufeffevent_id_cnty,location,country\nSYR14,Bārīshā,Syria\n".encode()


def test_write_ids_into_sheet_keeps_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"event_id_cnty,notes,country\r\n,x,Syria\r\nSYR1,y,Syria\r\n")
    write_ids_into_sheet(path, {2: "SYR14"})
    assert path.read_bytes() == b"event_id_cnty,notes,country\r\nSYR14,x,Syria\r\nSYR1,y,Syria\r\n"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        # CR CR LF (a CRLF file saved again as CRLF): the reader counts a blank line after each row
        (b"event_id_cnty,notes\r\r\n,x\r\r\nSYR1,y\r\r\n", 3, b"event_id_cnty,notes\r\r\nSYR14,x\r\r\nSYR1,y\r\r\n"),
        # a lone CR ends each line (Excel's "CSV Macintosh"), a quoted cell holding one
        (b'event_id_cnty,notes\r,"a\rb"\rSYR1,y\r', 2, b'event_id_cnty,notes\rSYR14,"a\rb"\rSYR1,y\r'),
        (b"notes\r\r\nx\r\r\n", 3, b"notes,event_id_cnty\r\r\nx,SYR14\r\r\n"),
    ],
)
def test_write_ids_into_sheet_counts_lines_as_the_reader_does(
    tmp_path: Path, text: bytes, line: int, expected: bytes
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(text)
    write_ids_into_sheet(path, {line: "SYR14"})
    assert path.read_bytes() == expected


@pytest.mark.parametrize("value", ["garbage id", "", "SYR9223372036854775807", "syr12"])
def test_read_registry_names_the_line_of_an_id_the_tool_never_assigns(tmp_path: Path, value: str) -> None:
    path = tmp_path / "event_ids.csv"
    path.write_text(f"event_id_cnty,first_sheet\nSYR1,a.csv\n\n{value},b.csv\n", encoding="utf-8")
    with pytest.raises(
        SourceError, match=rf"event_ids.csv:4: column event_id_cnty holds '{value}', which is not an id"
    ):
        read_registry(path)


def test_an_id_number_too_large_for_the_registry_is_left_to_unregistered_id() -> None:
    typed = pd.Series(["SYR99999999999999999999", "SYR3"], dtype="string")
    assert next_numbers(pd.Series(["SYR2"], dtype="string"), typed) == {"SYR": 3}


def test_record_assignment_writes_sheets_then_appends_to_the_registry(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("event_id_cnty,country\n,Syria\nSYR1,Syria\n", encoding="utf-8")
    second.write_text("country\nIraq\n", encoding="utf-8")
    registry_path = tmp_path / "event_ids.csv"
    registry_path.write_text("event_id_cnty,first_sheet\nSYR1,a.csv\n", encoding="utf-8")
    new = pd.DataFrame(
        {"event_id_cnty": ["SYR2", "IRQ1"], SHEET_COLUMN: ["shown/a.csv", "shown/b.csv"], LINE_COLUMN: [2, 2]}
    )
    record_assignment(registry_path, {"shown/a.csv": first, "shown/b.csv": second}, new)
    assert first.read_text(encoding="utf-8") == "event_id_cnty,country\nSYR2,Syria\nSYR1,Syria\n"
    assert second.read_text(encoding="utf-8") == "country,event_id_cnty\nIraq,IRQ1\n"
    assert (
        registry_path.read_text(encoding="utf-8") == "event_id_cnty,first_sheet\nSYR1,a.csv\nSYR2,a.csv\nIRQ1,b.csv\n"
    )


# --- through validation ------------------------------------------------------------------------------


def test_typed_id_the_tool_never_assigned_is_unregistered_id(project: Project, edit_sheet: Callable[..., Path]) -> None:
    edit_sheet({1: {"event_id_cnty": "SYR99"}})
    report = validate_project(project, today=TODAY).report
    assert located(report) == [(3, "event_id_cnty", "unregistered-id")]
    assert report.problems[0].value == "SYR99"
    assert "ids are assigned by the tool: leave event_id_cnty empty for a new event" in report.problems[0].message


def test_row_moved_to_another_country_keeps_its_id_and_gets_id_country_prefix(
    project: Project, edit_sheet: Callable[..., Path]
) -> None:
    with (project.schemas_dir / "places.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write(AL_QAIM)
    edit_sheet({0: {"country": "Iraq", "location": "Al-Qaim"}})
    validation = validate_project(project, today=TODAY)
    assert located(validation.report) == [(2, "event_id_cnty", "id-country-prefix")]
    assert validation.report.problems[0].message == "events in Iraq have ids starting with IRQ."
    assert validation.events.loc[0, "event_id_cnty"] == "SYR1"
    assert validation.new_ids is not None
    assert validation.new_ids.empty


# --- through the build --------------------------------------------------------------------------------


def assigned(project: Project) -> IdAssignment:
    result = assign_new_ids(project, today=TODAY)
    assert result.status == "assigned", [p.format() for p in result.report.problems]
    return result


@pytest.mark.slow
def test_assign_ids_numbers_new_rows_per_country_and_writes_sheets_and_registry(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    with (project.schemas_dir / "places.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write(AL_QAIM)
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    rows = [dict(r) for r in seed_rows]
    rows.insert(2, new_event(seed_rows, 1, event_date="2022-01-19", notes="New row\nin the seed sheet."))
    write_rows(seed_sheet, [*rows, new_event(seed_rows, 0, country="Iraq", location="Al-Qaim")])
    # A second sheet with only the coder's columns: no event_id_cnty column at all.
    coder_columns = [c for c in seed_rows[0] if c != "event_id_cnty"]
    other = write_rows(
        project.sheets_dir / "001_other.csv",
        [new_event(seed_rows, 11), new_event(seed_rows, 0, country="Iraq", location="Al-Qaim")],
        header=coder_columns,
    )
    before_registry = registry_rows(project)
    inputs = seed_sheet.read_bytes(), other.read_bytes(), project.id_registry.read_bytes()

    result = built(project)  # provisional ids in the draft; the inputs are only read
    assert (seed_sheet.read_bytes(), other.read_bytes(), project.id_registry.read_bytes()) == inputs
    assert result.unassigned == 4

    assignment = assigned(project)

    assert assignment.ids == (
        (SEED_SHEET, 4, "SYR14"),
        (SEED_SHEET, 16, "IRQ1"),
        ("seeds/sheets/001_other.csv", 2, "SYR15"),
        ("seeds/sheets/001_other.csv", 3, "IRQ2"),
    )
    assert assignment.new_id_column == ("seeds/sheets/001_other.csv",)
    assert sheet_ids(seed_sheet) == [
        "SYR1", "SYR2", "SYR14", *(f"SYR{n}" for n in range(3, 12)), "SYR13", "IRQ1",
    ]  # fmt: skip
    assert sheet_ids(other) == ["SYR15", "IRQ2"]
    assert list(read_rows(other)[0]) == [*coder_columns, "event_id_cnty"]
    assert registry_rows(project) == [
        *before_registry,
        ("SYR14", f"{SEED_ARTICLE}.csv"),
        ("IRQ1", f"{SEED_ARTICLE}.csv"),
        ("SYR15", "001_other.csv"),
        ("IRQ2", "001_other.csv"),
    ]
    assert sorted(release_ids(result)) == sorted([*sheet_ids(seed_sheet), *sheet_ids(other)])
    # Apart from the ids, the sheets hold what the coder wrote.
    assert [{k: v for k, v in r.items() if k != "event_id_cnty"} for r in read_rows(other)] == [
        {k: v for k, v in new_event(seed_rows, 11).items() if k != "event_id_cnty"},
        {k: v for k, v in new_event(seed_rows, 0, country="Iraq", location="Al-Qaim").items() if k != "event_id_cnty"},
    ]

    # The next build finds every id registered: nothing new, nothing rewritten; assign-ids has nothing to do.
    sheets_before = seed_sheet.read_bytes(), other.read_bytes(), project.id_registry.read_bytes()
    again = build_package(project, project.root / "again", today=TODAY)
    assert (again.status, again.unassigned) == ("built", 0)
    assert sorted(release_ids(again)) == sorted(release_ids(result))  # the draft showed the ids written
    assert assign_new_ids(project, today=TODAY).status == "none"
    assert (seed_sheet.read_bytes(), other.read_bytes(), project.id_registry.read_bytes()) == sheets_before


def test_sheet_with_only_coder_columns_builds_a_complete_acled_release(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    coder_columns = [c for c in seed_rows[0] if c != "event_id_cnty"]
    sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(sheet, [seed_rows[0], new_event(seed_rows, 11)], header=coder_columns)
    project.id_registry.unlink()  # a dataset's first build: nothing assigned yet, so nothing deleted either
    (project.seeds_dir / "deletions.csv").unlink()

    result = built(project)

    acled = pd.read_csv(result.package_dir / "data" / "events-acled.csv", dtype=str, keep_default_na=False)
    assert len(acled.columns) == 31
    expected = {
        "event_id_cnty": ["SYR1", "SYR2"],
        "year": ["2022", "2019"],
        "disorder_type": ["Political violence", "Political violence"],
        "inter1": ["8", "8"],
        "inter2": ["2", "2"],
        "interaction": ["28", "28"],
        "iso": ["760", "760"],
        "region": ["Middle East", "Middle East"],
        "admin1": ["Idlib", "Idlib"],
        "admin2": ["Harim", "Harim"],
        "admin3": ["Dana", ""],
        "location": ["Atmeh", "Barisha"],
        "latitude": ["36.2119", "36.1627"],
        "longitude": ["36.6851", "36.6336"],
    }
    assert acled[list(expected)].to_dict("list") == expected
    assert (acled["timestamp"].astype(int) > 0).all()
    empty = {c for c in acled.columns if (acled[c] == "").any()}
    assert empty == {"assoc_actor_1", "assoc_actor_2", "civilian_targeting", "admin3", "source_scale", "tags"}
    assert "event_id_cnty" not in read_rows(sheet)[0]  # build wrote nothing: assign-ids does
    assert not project.id_registry.exists()
    assigned(project)
    assert sheet_ids(sheet) == ["SYR1", "SYR2"]
    assert registry_rows(project) == [("SYR1", f"{SEED_ARTICLE}.csv"), ("SYR2", f"{SEED_ARTICLE}.csv")]


def test_recode_move_delete_and_add_keeps_every_surviving_id(project: Project, seed_rows: list[dict[str, str]]) -> None:
    """The issue's done-when: ids survive re-coding, moving between sheets and deleting other rows."""
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [*seed_rows, new_event(seed_rows, 1, event_date="2022-01-19", notes="First new row.")])
    first = released(project, date(2026, 11, 25))
    by_id = {r["event_id_cnty"]: r for r in read_rows(seed_sheet)}
    assert by_id["SYR14"]["notes"] == "First new row."

    # Re-code SYR1, move SYR5 to a new sheet, delete SYR13, add a row.
    rows = read_rows(seed_sheet)
    recoded = {**rows[0], "fatalities": "14"}
    moved = next(r for r in rows if r["event_id_cnty"] == "SYR5")
    kept = [recoded, *(r for r in rows[1:] if r["event_id_cnty"] not in {"SYR5", "SYR13"})]
    write_rows(seed_sheet, [*kept, new_event(seed_rows, 1, event_date="2022-01-18", notes="Second new row.")])
    write_rows(project.sheets_dir / "002_moved.csv", [moved])
    with (project.seeds_dir / "deletions.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("SYR13,Coded twice.\n")  # a deletion is asked for (README: deletion policy)

    second = released(project, date(2026, 11, 26))

    assert second.version == "1.1.0"
    assert second.previous == first.version == "1.0.0"
    after = {r["event_id_cnty"]: r for r in read_rows(seed_sheet) + read_rows(project.sheets_dir / "002_moved.csv")}
    survivors = set(by_id) - {"SYR13"}
    assert {k: after[k]["notes"] for k in survivors} == {k: by_id[k]["notes"] for k in survivors}
    assert after["SYR15"]["notes"] == "Second new row."  # neither the deleted SYR13 nor SYR12 is reused
    assert set(release_ids(second)) == survivors | {"SYR15"}
    assert set(release_ids(first)) == set(by_id)
    assert second.counts == {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": 11}
    assert second.path is not None
    deleted = pd.read_csv(second.path / "changes" / "deleted.csv", dtype=str)
    assert deleted["event_id_cnty"].tolist() == ["SYR13"]
    modified = pd.read_csv(second.path / "changes" / "modified.csv", dtype=str)
    assert modified[modified["column"] != "timestamp"][["event_id_cnty", "column", "old_value", "new_value"]].to_dict(
        "records"
    ) == [{"event_id_cnty": "SYR1", "column": "fatalities", "old_value": "13", "new_value": "14"}]
    registry_ids = [i for i, _ in registry_rows(project)]
    assert registry_ids == [f"SYR{n}" for n in range(1, 16)]  # each id once; the moved row keeps its entry
    assert dict(registry_rows(project))["SYR5"] == f"{SEED_ARTICLE}.csv"


def test_release_after_deleting_the_newest_event_does_not_reuse_its_id(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [*seed_rows, new_event(seed_rows, 1, event_date="2022-01-19", notes="Short-lived row.")])
    first = release_version(project, release_date=date(2026, 11, 25), today=TODAY)
    assert (first.status, first.version) == ("released", "1.0.0")
    assert sheet_ids(seed_sheet)[-1] == "SYR14"

    rows = [r for r in read_rows(seed_sheet) if r["event_id_cnty"] != "SYR14"]
    write_rows(seed_sheet, [*rows, new_event(seed_rows, 1, event_date="2022-01-18", notes="Replacement row.")])
    with (project.seeds_dir / "deletions.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("SYR14,Replaced by a better-sourced row.\n")
    second = release_version(project, bump="minor", release_date=date(2026, 11, 26), today=TODAY)

    assert (second.status, second.version, second.previous) == ("released", "1.1.0", "1.0.0")
    assert read_rows(seed_sheet)[-1]["event_id_cnty"] == "SYR15"
    assert second.counts["deleted"] == 1
    assert second.counts["added"] == 1
    assert second.path is not None
    ids = pq.read_table(second.path / "data" / "events.parquet").column("event_id_cnty").to_pylist()
    assert "SYR14" not in ids
    assert "SYR15" in ids
    assert [i for i, _ in registry_rows(project)] == [f"SYR{n}" for n in range(1, 16)]


def test_invalid_build_assigns_nothing(project: Project, seed_rows: list[dict[str, str]]) -> None:
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [*seed_rows, new_event(seed_rows, 1, event_date="2022-01-19", location="Atmah")])
    before = seed_sheet.read_bytes(), project.id_registry.read_bytes()
    result = build_package(project, today=TODAY)
    assert result.status == "invalid"
    assert located(result.report) == [(14, "location", "unknown-location")]
    assert (seed_sheet.read_bytes(), project.id_registry.read_bytes()) == before


def test_a_malformed_registry_names_the_file_and_its_real_line(project: Project) -> None:
    lines = project.id_registry.read_text(encoding="utf-8").count("\n")
    with project.id_registry.open("a", encoding="utf-8") as handle:
        handle.write('SYR99,"unclosed\n')

    result = CliRunner().invoke(cli, ["--project", str(project.root), "validate"])

    assert result.exit_code == 2
    assert result.output == (
        f"Error: The id registry seeds/event_ids.csv:{lines + 1}: malformed CSV in the record starting on this "
        "line (unexpected end of data); check for an unbalanced double quote.\n"
    )


# --- eventdata assign-ids ---------------------------------------------------------------------------------


def test_cli_assign_ids_writes_and_lists_the_ids_then_has_nothing_to_do(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [*seed_rows, new_event(seed_rows, 1, event_date="2022-01-19", notes="A new row.")])
    runner = CliRunner()

    validated = runner.invoke(cli, ["--project", str(project.root), "validate"])
    assert validated.exit_code == 0, validated.output
    hint = "1 row(s) have no id yet: `eventdata assign-ids` gives them one; `release` does it for you."
    assert validated.stderr.endswith(f"{hint}\n")

    result = runner.invoke(cli, ["--project", str(project.root), "assign-ids"])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{SEED_SHEET}:14 SYR14\n"
    assert result.stderr == "Gave 1 row(s) their id, in 1 sheet(s) and seeds/event_ids.csv.\n"
    assert sheet_ids(seed_sheet)[-1] == "SYR14"
    assert registry_rows(project)[-1] == ("SYR14", f"{SEED_ARTICLE}.csv")
    again = runner.invoke(cli, ["--project", str(project.root), "assign-ids"])
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "Every row has its id; nothing was written.\n")
    assert "no id yet" not in runner.invoke(cli, ["--project", str(project.root), "validate"]).stderr


def test_cli_assign_ids_with_an_invalid_sheet_writes_nothing_exit_1(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [*seed_rows, new_event(seed_rows, 1, event_date="2022-01-19", location="Atmah")])
    before = seed_sheet.read_bytes(), project.id_registry.read_bytes()

    result = CliRunner().invoke(cli, ["--project", str(project.root), "assign-ids"])

    assert result.exit_code == 1
    assert f"{SEED_SHEET}:14: location='Atmah' [unknown-location]" in result.stderr
    assert result.stderr.endswith("No id was written: fix the problems above first.\n")
    assert (seed_sheet.read_bytes(), project.id_registry.read_bytes()) == before


def test_assign_ids_that_cannot_write_the_registry_puts_the_sheets_back(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    """All or none: the registry's rename fails (a folder stands at its path), so the sheet is put back."""
    seed_sheet = project.sheets_dir / f"{SEED_ARTICLE}.csv"
    write_rows(seed_sheet, [dict(r, event_id_cnty="") for r in seed_rows])  # a first coding: no ids yet
    sheet_before = seed_sheet.read_bytes()
    project.id_registry.unlink()
    (project.seeds_dir / "deletions.csv").unlink()  # nothing was assigned, so nothing deleted
    project.id_registry.mkdir()
    (project.id_registry / "keep").write_text("in the way\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["--project", str(project.root), "assign-ids"])

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(project.id_registry) in result.stderr
    assert seed_sheet.read_bytes() == sheet_before
    assert sorted(p.name for p in project.seeds_dir.iterdir() if p.name.startswith(".")) == []
    assert not (project.dist_dir / "eventdata-seeds").exists()  # the staging folder is gone with its parent

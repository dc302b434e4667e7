"""CSV export safety in the one CSV writer (eventdata/package.py `write_csv`).

Text cells a spreadsheet would run as a formula (= + - @, tab, carriage return at the start, OWASP) are written
to every CSV of a package with a leading apostrophe; plain numbers and the Parquet values stay exact, and the
prefix is undone exactly by `restore_formulas` (which `eventdata.update_parquet` applies to the deltas). A NUL
byte is refused at validation, located at its cell.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eventdata
from eventdata.build import build_package
from eventdata.package import neutralise_formulas, restore_formulas
from eventdata.project import Project
from eventdata.release import release_version
from tests.conftest import SEED_SHEET, copy_dataset, read_rows, write_rows

FORMULAS = {
    "SYR1": '=HYPERLINK("https://example.org/x","click")',
    "SYR2": "+1+2",
    "SYR3": "-2+3 killed",
    "SYR4": "@SUM(A1:A9)",
    "SYR5": "'=already quoted",
}


def text_cells(path: Path) -> dict[str, dict[str, str]]:
    """A package CSV as text, by event id."""
    table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(column_types={"event_id_cnty": pa.string()}))
    strings = pa_csv.read_csv(
        path, convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(table.column_names, pa.string()))
    )
    return {row["event_id_cnty"]: row for row in strings.to_pylist()}


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "dataset"
    return copy_dataset(root, seed_sheet_only=True)


def with_notes(project: Project, notes: dict[str, str]) -> None:
    rows = read_rows(SEED_SHEET)
    for row in rows:
        row["notes"] = notes.get(row["event_id_cnty"], row["notes"])
    write_rows(project.sheets_dir / SEED_SHEET.name, rows)


def test_formula_cells_are_neutralised_in_both_events_csvs_and_exact_in_parquet(project: Project) -> None:
    with_notes(project, FORMULAS)

    result = build_package(project)

    assert result.status == "built", [p.format() for p in result.report.problems]
    parquet = {r["event_id_cnty"]: r for r in pq.read_table(result.package_dir / "data" / "events.parquet").to_pylist()}
    for name in ("events.csv", "events-acled.csv"):
        cells = text_cells(result.package_dir / "data" / name)
        for event_id, notes in FORMULAS.items():
            assert cells[event_id]["notes"] == "'" + notes, (name, event_id)
            assert parquet[event_id]["notes"] == notes
        assert cells["SYR6"]["notes"] == parquet["SYR6"]["notes"]  # ordinary text as it is
        assert cells["SYR1"]["latitude"] == str(parquet["SYR1"]["latitude"])  # numbers untouched
    raw = (result.package_dir / "data" / "events.csv").read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""https://example.org/x"",""click"")"' in raw


def test_formula_cells_in_modified_csv_are_neutralised_and_update_parquet_restores_them(
    project: Project, tmp_path: Path
) -> None:
    first = release_version(project, release_date=date(2026, 1, 10))
    assert first.path is not None
    local = tmp_path / "events.parquet"
    shutil.copyfile(first.path / "data" / "events.parquet", local)
    with_notes(project, {"SYR1": "=cmd|' /C calc'!A0", "SYR2": "-5 killed, per the article"})

    second = release_version(project, release_date=date(2026, 2, 1))

    assert second.path is not None
    modified = pa_csv.read_csv(second.path / "changes" / "modified.csv").to_pylist()
    notes = {m["event_id_cnty"]: m["new_value"] for m in modified if m["column"] == "notes"}
    assert notes == {"SYR1": "'=cmd|' /C calc'!A0", "SYR2": "'-5 killed, per the article"}
    assert eventdata.update_parquet(str(local), str(project.dist_dir / "eventdata-seeds")) == "1.0.1"
    assert local.read_bytes() == (second.path / "data" / "events.parquet").read_bytes()


def test_a_nul_byte_in_a_cell_is_refused_at_its_cell(project: Project) -> None:
    with_notes(project, {"SYR2": "Shelling\x00 of the town."})

    result = build_package(project)

    assert result.status == "invalid"
    located = [(p.code, p.file, p.line, p.column, p.value) for p in result.report.problems]
    assert located == [
        ("control-character", f"{project.sheets_dir / SEED_SHEET.name}", 3, "notes", "Shelling\x00 of the town.")
    ]
    assert "U+0000 (NUL) at character 9" in result.report.problems[0].message
    assert not (project.dist_dir / "eventdata-seeds").exists()


@given(st.lists(st.one_of(st.none(), st.text(alphabet="'=+-@\t\r0123456789.eE ab", max_size=8)), max_size=30))
def test_neutralise_is_undone_exactly_and_leaves_no_formula(values: list[str | None]) -> None:
    written = neutralise_formulas(pa.array(values, pa.string()))
    assert restore_formulas(written).to_pylist() == values
    for value, cell in zip(values, written.to_pylist(), strict=True):
        if cell is not None and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert cell == value  # only a plain number may start so
            float(cell)

"""CSV export safety in the one CSV writer (eventdata/package.py `write_csv`).

Text cells a spreadsheet would run as a formula (= + - @, tab, carriage return at the start, OWASP) are written
to every CSV of a package with a leading apostrophe; plain numbers and the Parquet values stay exact, and the
prefix is undone exactly by `restore_formulas` (which `eventdata.update_parquet` applies to the deltas). A NUL
byte is refused at validation, located at its cell.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eventdata
from eventdata import package
from eventdata.build import build_package
from eventdata.errors import SourceError
from eventdata.package import FORMULA_START, PLAIN_NUMBER, neutralise_formulas, restore_formulas
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


# --- the fast writers give the bytes of the plain ones ---------------------------------------------------


def regex_neutralised(column: pa.Array) -> pa.Array:
    """neutralise_formulas as it was first written: FORMULA_START and PLAIN_NUMBER matched on every cell."""
    starts = pc.match_substring_regex(column, FORMULA_START)
    formula = pc.fill_null(pc.and_(starts, pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER))), False)
    return pc.if_else(formula, pc.binary_join_element_wise("'", column, ""), column)


@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="'=+-@\t\r0123456789.eE aé\x00", max_size=6)), max_size=40),
    st.integers(min_value=0, max_value=5),
)
def test_neutralise_matches_the_regex_on_every_cell(values: list[str | None], skip: int) -> None:
    array = pa.array(values, pa.string()).slice(min(skip, len(values)))
    expected = regex_neutralised(array)
    assert neutralise_formulas(array).to_pylist() == expected.to_pylist()
    chunked = pa.chunked_array([array, array], type=array.type)
    assert neutralise_formulas(chunked).to_pylist() == expected.to_pylist() * 2
    if any("\x00" in (v or "") for v in array.to_pylist()):
        assert package._holds_nul(array)  # a NUL in a cell is always found (the exact check then locates it)


def sample_table(rows: int = 500) -> pa.Table:
    numbers = list(range(rows))
    return pa.table(
        {
            "event_id_cnty": [f"{('SYR', 'IRQ')[i % 2]}{(i * 7919) % rows + 1}" for i in numbers],
            "notes": [("=SUM(A1)", "+3 killed", "-2", 'plain, "quoted"', None)[i % 5] for i in numbers],
            "country": pa.array([("Syria", "Iraq")[i % 2] for i in numbers]).dictionary_encode(),
            "fatalities": numbers,
        }
    )


def test_parallel_writes_give_the_bytes_of_plain_writes_and_copy_an_equal_table(tmp_path: Path) -> None:
    table = sample_table()
    plain, parallel = tmp_path / "plain", tmp_path / "parallel"
    plain.mkdir()
    parallel.mkdir()
    package.write_csv(table, plain / "events.csv")
    package.write_csv(table.select(["event_id_cnty", "notes"]), plain / "acled.csv")
    package.write_csv(table, plain / "added.csv")
    package.write_parquet(table, plain / "events.parquet")
    with package.parallel_writes():
        package.write_csv(table, parallel / "events.csv")
        package.write_csv(table.select(["event_id_cnty", "notes"]), parallel / "acled.csv")
        package.write_csv(pa.table(table.to_pydict(), schema=table.schema), parallel / "added.csv")  # equal: a copy
        package.write_parquet(table, parallel / "events.parquet")
    for name in ("events.csv", "acled.csv", "added.csv", "events.parquet"):
        assert (parallel / name).read_bytes() == (plain / name).read_bytes(), name
        assert package.digest(parallel / name) == hashlib.sha256((plain / name).read_bytes()).hexdigest()
    assert "'=SUM(A1)" in (parallel / "events.csv").read_text(encoding="utf-8")


def test_parallel_writes_raise_the_first_error_once_every_file_is_done(tmp_path: Path) -> None:
    table = sample_table()

    def write_both() -> None:
        with package.parallel_writes():
            package.write_parquet(table, tmp_path / "missing" / "events.parquet")  # no such folder: fails in the pool
            package.write_csv(table, tmp_path / "events.csv")

    with pytest.raises(OSError, match="missing"):
        write_both()
    assert (tmp_path / "events.csv").read_bytes().endswith(b",499\r\n")  # finished, not cut off
    broken = table.set_column(1, "notes", pa.array(["a\x00b"] * table.num_rows))
    with pytest.raises(SourceError, match="column notes of row 1 holds a NUL byte"), package.parallel_writes():
        package.write_csv(broken, tmp_path / "broken.csv")
    assert not (tmp_path / "broken.csv").exists()  # refused before anything is written


def reference_normalise(table: pa.Table, schema: pa.Schema, vocabularies: dict[str, list[str]] | None) -> pa.Table:
    """normalise_table as first written: the whole table taken into id order, then each column encoded."""
    ids = table.column("event_id_cnty")
    keys = pa.table(
        {"p": pc.utf8_slice_codeunits(ids, 0, 3), "n": pc.cast(pc.utf8_slice_codeunits(ids, 3), pa.int64()), "id": ids}
    )
    taken = table.take(pc.sort_indices(keys, sort_keys=[("p", "ascending"), ("n", "ascending"), ("id", "ascending")]))
    arrays = []
    for field in schema:
        column = taken.column(field.name).combine_chunks()
        if pa.types.is_dictionary(field.type):
            if pa.types.is_dictionary(column.type):
                column = pc.cast(column, column.type.value_type)
            if vocabularies is not None and field.name in vocabularies:
                column = package.encode_with(column, vocabularies[field.name], field.name)
            else:
                column = column.dictionary_encode()
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


@pytest.mark.parametrize("vocabularies", [None, {"country": ["Lebanon", "Iraq", "Syria"]}])
def test_normalise_table_sorts_and_encodes_as_the_whole_table_take_did(
    vocabularies: dict[str, list[str]] | None,
) -> None:
    table = sample_table()
    chunked = pa.concat_tables([table.slice(0, 200), table.slice(200)])
    for given_table in (table, chunked, table.set_column(2, "country", table.column("country").cast(pa.string()))):
        expected = reference_normalise(given_table, table.schema, vocabularies)
        assert package.normalise_table(given_table, table.schema, vocabularies).equals(expected)
    unknown = table.set_column(2, "country", pa.array(["Syria", "Narnia"] * 250).dictionary_encode())
    with pytest.raises(SourceError, match="Column country holds 'Narnia'"):
        package.normalise_table(unknown, table.schema, {"country": ["Iraq", "Syria"]})

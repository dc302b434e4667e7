"""Reading coding sheets: malformed files become located problems, never exceptions."""

from __future__ import annotations

from pathlib import Path

from eventdata.schema import load_codebook
from eventdata.sources.sheets import read_sheet
from tests.conftest import REPO, SEED_SHEET

CODEBOOK = load_codebook(REPO / "schemas")
HEADER = SEED_SHEET.read_text(encoding="utf-8").splitlines()[0]
FIRST_ROW = SEED_SHEET.read_text(encoding="utf-8").splitlines()[1]


def read(path: Path):  # noqa: ANN201  # returns eventdata.sources.sheets.Sheet
    return read_sheet(path, CODEBOOK.field_names, CODEBOOK.input_required_fields)


def problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.column, p.code) for p in read(path).problems]


def test_sheet_reads_seed_rows_as_strings_with_lines() -> None:
    sheet = read(SEED_SHEET)
    assert sheet.problems == ()
    assert sheet.frame["_line"].tolist()[:3] == [2, 3, 4]
    assert sheet.frame.loc[0, "fatalities"] == "13"
    assert str(sheet.frame["fatalities"].dtype) == "string"
    assert sheet.frame["year"].isna().all()  # derivable column absent from the sheet


def test_sheet_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + FIRST_ROW + "\n").encode() + "SYR99,Sarâqib\n".encode("latin-1"))
    assert problems(path) == [(3, None, "encoding-error")]
    assert "not UTF-8" in read(path).problems[0].message


def test_sheet_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert problems(path) == [(None, None, "empty-file")]


def test_sheet_semicolon_delimited(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(HEADER.replace(",", ";") + "\n")
    assert problems(path) == [(1, None, "delimiter-error")]


def test_sheet_missing_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text(HEADER.replace("fatalities", "fatalites") + "\n")
    found = read(path).problems
    assert [(p.line, p.column, p.code) for p in found] == [
        (1, "fatalites", "unknown-column"),
        (1, "fatalities", "missing-column"),
    ]
    assert "Did you mean 'fatalities'?" in found[0].message


def test_sheet_duplicate_column(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + ",notes\n")
    assert problems(path) == [(1, "notes", "duplicate-column")]


def test_sheet_ragged_rows_are_located(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join([HEADER, FIRST_ROW, FIRST_ROW + ",extra", "SYR99,2022-01-01,1", FIRST_ROW]) + "\n")
    sheet = read(path)
    assert [(p.line, p.code) for p in sheet.problems] == [(3, "extra-cell"), (4, "missing-cell")]
    assert sheet.frame["_line"].tolist() == [2, 5]


def test_sheet_line_numbers_count_line_breaks_inside_cells(tmp_path: Path) -> None:
    multi = FIRST_ROW.replace("On 3 February 2022, US forces", "On 3 February 2022,\nUS forces")
    path = tmp_path / "multi.csv"
    path.write_text("\n".join([HEADER, multi, FIRST_ROW, "", FIRST_ROW]) + "\n")
    sheet = read(path)
    assert sheet.problems == ()
    assert sheet.frame["_line"].tolist() == [2, 4, 6]


def test_sheet_bom_and_whitespace_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + FIRST_ROW.replace(",Atmeh,", ",  Atmeh ,") + "\n").encode())
    sheet = read(path)
    assert sheet.problems == ()
    assert sheet.frame.loc[0, "location"] == "Atmeh"
    assert sheet.frame.loc[0, "event_id_cnty"] == "SYR1"


def test_sheet_bad_quoting_is_located(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + "\n" + FIRST_ROW + "\n" + 'SYR5,"2022-01-01,1' + "\n" + FIRST_ROW + "\n")
    found = read(path).problems
    assert [(p.line, p.code) for p in found] == [(3, "source-error")]
    assert "unbalanced double quote" in found[0].message

"""Reading coding sheets: malformed files become located problems, never exceptions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventdata.schema import load_codebook
from eventdata.sources.sheets import (
    CELL_TYPE,
    CONTROL_CHARACTER,
    _clean_chunk,
    _header,
    csv_records,
    has_control_byte,
    read_sheet,
    scan_bytes,
    sheets_frame,
)
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


# --- the one CSV reader (read_csv) and the readers built on it -------------------------------------------


def messy(header: str, multiline_row: str, last_row: str, *, crlf: bool = False) -> bytes:
    """BOM, header (line 1), a blank line (2), a row whose quoted cell spans lines 3-4, a blank line (5),
    a whitespace-only record (6), then last_row at line 7."""
    text = f"{header}\n\n{multiline_row}\n\n  ,  \n{last_row}\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def test_read_csv_counts_real_lines_past_bom_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    from eventdata.sources.sheets import read_csv

    path = tmp_path / "list.csv"
    path.write_bytes(messy(" a , b ,c", 'x,"two\nlines",z', "p,q,r,s"))

    records = read_csv(path)

    assert records.header == ["a", "b", "c"]  # BOM gone, cells stripped
    assert records.rows == [(3, ["x", "two\nlines", "z"]), (7, ["p", "q", "r", "s"])]  # blank records skipped
    assert records.ragged() == [(7, ["p", "q", "r", "s"])]
    assert records.newline == "\n"
    assert records.dicts()[0] == (3, {"a": "x", "b": "two\nlines", "c": "z"})


def test_read_csv_keeps_the_line_ending_and_the_lines_of_crlf_files(tmp_path: Path) -> None:
    from eventdata.sources.sheets import read_csv

    path = tmp_path / "list.csv"
    path.write_bytes(messy("a,b,c", 'x,"two\nlines",z', "p,q,r", crlf=True))

    records = read_csv(path)

    assert records.newline == "\r\n"
    assert [line for line, _ in records.rows] == [3, 7]


@pytest.mark.parametrize(
    ("data", "code", "line", "detail"),
    [
        (b"a,b\n1,2\n\xe9,3\n", "encoding-error", 3, "byte 0xe9 is not UTF-8; save the file as UTF-8."),
        (b'a,b\n\n1,"2\n', "source-error", 3, "malformed CSV in the record starting on this line"),
        (b"\n\n", "empty-file", None, "is empty; it needs a header row."),
        (b"", "empty-file", None, "is empty; it needs a header row."),
    ],
)
def test_read_csv_errors_carry_code_line_and_fix(
    tmp_path: Path, data: bytes, code: str, line: int | None, detail: str
) -> None:
    from eventdata.sources.sheets import CsvFileError, read_csv

    path = tmp_path / "bad.csv"
    path.write_bytes(data)

    with pytest.raises(CsvFileError) as caught:
        read_csv(path)

    assert (caught.value.code, caught.value.line) == (code, line)
    assert detail in caught.value.detail
    where = f"bad.csv:{line}: " if line else "bad.csv "
    assert caught.value.message("bad.csv").startswith(where)


def test_read_csv_names_an_unreadable_file(tmp_path: Path) -> None:
    from eventdata.sources.sheets import CsvFileError, read_csv

    with pytest.raises(CsvFileError, match="cannot be read"):
        read_csv(tmp_path / "absent.csv")


def test_every_reader_locates_a_ragged_row_at_the_same_real_line(tmp_path: Path) -> None:
    """The vocabularies, place list, actor list, article index and ACLED exports share the reader: line 7 each."""
    from eventdata.acled.export import read_export
    from eventdata.actors import load_actors
    from eventdata.errors import SchemaFileError
    from eventdata.gazetteer import load_places
    from eventdata.sources.articles import read_articles
    from eventdata.sources.sheets import read_records

    found: dict[str, str] = {}
    vocabulary = tmp_path / "vocabulary.csv"
    vocabulary.write_bytes(messy("value,description", 'a,"one\ntwo"', "b,c,d"))
    with pytest.raises(SchemaFileError) as caught:
        read_records(vocabulary, SchemaFileError)
    found["vocabulary"] = str(caught.value)

    (tmp_path / "actors.csv").write_bytes(
        messy("actor,inter,country,start_date,end_date,aliases", 'SDF,2,Syria,,,"SDF\n2"', "X,2,Syria,,,,,")
    )
    with pytest.raises(SchemaFileError) as caught:
        load_actors(tmp_path, ["Syria"])
    found["actors"] = str(caught.value)

    (tmp_path / "places.csv").write_bytes(
        messy(
            "location,alternate_names,country,admin1,admin2,admin3,latitude,longitude,geonames_id,coordinate_source",
            'Atmeh,"Atma\nAtme",Syria,Idlib,Harim,Dana,36.2119,36.6851,,maps',
            "Saraqib,,Syria,Idlib,,,35.86,36.80,,maps,extra",
        )
    )
    with pytest.raises(SchemaFileError) as caught:
        load_places(tmp_path, CODEBOOK)
    found["places"] = str(caught.value)

    index = tmp_path / "articles.csv"
    index.write_bytes(
        messy("article_id,title,publisher,published,language,sha256", 'a1,"Two\nlines",P,2022-02-03,en,x', "a2,T,P")
    )
    _, problems = read_articles(index, tmp_path)
    ragged = [p for p in problems if p.code == "missing-cell"]
    found["articles"] = ragged[0].format()

    export = tmp_path / "export.csv"
    header = ",".join(CODEBOOK.acled_field_names)
    width = len(CODEBOOK.acled_field_names)
    export.write_bytes(messy(header, ",".join(['"KEN1\n"'] + [""] * (width - 1)), ",".join(["KEN2"] * (width + 1))))
    found["acled"] = read_export(export, CODEBOOK).problems[0].format()

    for reader, message in found.items():
        assert ":7:" in message, (reader, message)
    assert "the row has 3 cells but the header has 2" in found["vocabulary"]
    assert "check for a stray or missing comma or quote" in found["places"]
    assert "the row has 3 cells but the header has 6" in found["articles"]


def test_read_records_refuses_ragged_rows_with_the_shared_message(tmp_path: Path) -> None:
    from eventdata.errors import SchemaFileError
    from eventdata.sources.sheets import read_records

    path = tmp_path / "v.csv"
    path.write_text("a,b\n1,2\n\n3\n", encoding="utf-8")

    with pytest.raises(SchemaFileError, match=r"^Vocabulary \S*v\.csv:4: the row has 1 cells but the header has 2; "):
        read_records(path, SchemaFileError, "Vocabulary")


def test_control_byte_scan_agrees_with_the_cell_pattern() -> None:
    for code in range(256):
        data = bytes([0x41, code, 0x0A, 0x09, 0x0D])
        assert has_control_byte(data) == bool(CONTROL_CHARACTER.search(data.decode("latin-1"))), code
    assert not has_control_byte("Ma‘arrat an-Nu‘mān, İstanbul\r\n".encode())


@given(
    st.lists(st.sampled_from([b"a", b",", b"\n", b"\r", b"\r\n", b"\t", b"\x07", b"\x1f", "é".encode()])).map(b"".join)
)
def test_byte_scan_counts_what_the_bytes_hold(data: bytes) -> None:
    """One numpy scan gives the line feeds, a carriage return alone and a control character."""
    scan = scan_bytes(data)
    assert scan.newlines == data.count(b"\n")
    assert scan.lone_carriage_return == (data.count(b"\r") != data.count(b"\r\n"))
    assert scan.control_character == bool(CONTROL_CHARACTER.search(data.decode("utf-8")))


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1f"])
def test_control_character_found_by_the_file_scan_is_located(tmp_path: Path, char: str) -> None:
    path = tmp_path / "control.csv"
    path.write_text(HEADER + "\n" + FIRST_ROW + "\n" + FIRST_ROW.replace("US forces", f"US{char} forces") + "\n")
    assert problems(path) == [(3, "notes", "control-character")]


@pytest.mark.parametrize(
    "header",
    [
        '"event_id_cnty",' + HEADER.split(",", 1)[1],  # quoted: the csv module reads it
        "event_id_cnty , " + HEADER.split(",", 1)[1],  # spaces around a name
        "\n" + HEADER,  # a blank first line: the header is line 2
        HEADER + ",",  # a trailing blank header cell
    ],
)
def test_header_shortcut_reads_what_the_csv_module_reads(tmp_path: Path, header: str) -> None:
    path = tmp_path / "header.csv"
    path.write_text(header + "\n" + FIRST_ROW + "\n", newline="")
    text = path.read_text(encoding="utf-8")
    line, cells, _ = _header(text)
    expected_line, expected = next(csv_records(text))
    assert (line, cells) == (expected_line, expected)
    reread = [(p.line, p.column, p.code) for p in read(path).problems]
    assert reread == problems(path)


def test_sheets_concatenated_in_arrow_equal_the_frames_of_each(tmp_path: Path) -> None:
    second = tmp_path / "second.csv"
    second.write_text(HEADER + "\n" + FIRST_ROW.replace("US forces", " US forces ") + "\n")
    sheets = [read(SEED_SHEET), read(second), read(tmp_path / "absent.csv")]
    joined = sheets_frame([s.table for s in sheets], [s.lines for s in sheets])
    pd.testing.assert_frame_equal(joined, pd.concat([s.frame for s in sheets], ignore_index=True))
    assert str(joined["notes"].dtype) == "string"
    assert len(joined) == len(sheets[0].frame) + len(sheets[1].frame)
    assert len(sheets[2].frame) == 0


EDGES = ["", " ", "a", "b c", "\t", "\xa0", "é", "\u3000", "\n", "\x1c"]


@given(st.lists(st.lists(st.sampled_from(EDGES)).map("".join)))
def test_cells_are_cleaned_as_a_full_trim_would(cells: list[str]) -> None:
    array = pa.array(cells, CELL_TYPE)
    trimmed = pc.utf8_trim_whitespace(array)
    cleaned = _clean_chunk(array)
    cleaned.validate(full=True)
    assert cleaned.to_pylist() == [c or None for c in trimmed.to_pylist()]


def test_a_sheet_not_utf8_after_a_plain_header_is_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"event_id_cnty,event_id_cnty\nSYR1,caf\xe9\n")  # a duplicate column and a Latin-1 byte

    sheet = read_sheet(path, ["event_id_cnty"], ["event_id_cnty"])

    assert [p.code for p in sheet.problems] == ["encoding-error"]
    assert sheet.problems[0].line == 2

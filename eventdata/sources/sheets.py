"""Coding sheets (CSV, one row per event) read as strings, with the line of every row."""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from eventdata.errors import Problem
from eventdata.sources.sheet_cache import MIN_BYTES, SheetCache, sheet_key

SHEET_COLUMN = "_sheet"
LINE_COLUMN = "_line"
STRING_DTYPE = pd.StringDtype("pyarrow")
#: The Arrow type of a sheet's cells: the storage of STRING_DTYPE, so the one conversion to pandas copies nothing.
CELL_TYPE = pa.large_string()
OTHER_DELIMITERS = (";", "\t", "|")
#: NUL and the other C0 control characters but tab, line feed and carriage return: invisible in editors,
#: cut strings short in C tools and spreadsheets; refused in every cell.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Sheet:
    """One coding sheet: its rows as strings, the line of each, and what was wrong with the file.

    `table` holds the codebook's columns in its order (trimmed, empty cells missing; a column the sheet lacks is
    all missing), `lines` the line each row starts on; `frame` is the same as pandas, with a _line column.
    """

    path: Path
    table: pa.Table
    lines: np.ndarray
    problems: tuple[Problem, ...]
    readable: bool

    @cached_property
    def frame(self) -> pd.DataFrame:
        return sheets_frame([self.table], [self.lines])


def sheets_frame(tables: Sequence[pa.Table], lines: Sequence[np.ndarray]) -> pd.DataFrame:
    """Sheets' tables as one pandas frame of strings with a _line column, converted once."""
    table = pa.concat_tables(tables) if len(tables) != 1 else tables[0]
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): STRING_DTYPE, CELL_TYPE: STRING_DTYPE}.get)
    frame[LINE_COLUMN] = np.concatenate(lines).astype(np.int64) if lines else np.zeros(0, dtype=np.int64)
    return frame


def display_path(path: Path) -> str:
    """The path as a coder would type it: relative to the current folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


class CsvFileError(Exception):
    """A CSV file that cannot be read as records: which rule (code), where (line) and what to do (detail)."""

    def __init__(
        self, code: str, detail: str, line: int | None = None, *, byte: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.line = line
        self.byte = byte  # the offset of the byte that is not UTF-8
        self.reason = reason  # the csv module's words for a malformed record

    def message(self, what: str) -> str:
        """The message naming the file (as `what`) and the line."""
        if self.line is None:
            return f"{what} {self.detail}"
        return f"{what}:{self.line}: {self.detail}"


@dataclass(frozen=True)
class Records:
    """A CSV file as records: the header (cells stripped) and each row with the line it starts on.

    Lines count from the file's top (header = its line, usually 1), past blank lines and line breaks
    inside quoted cells; blank records (every cell empty or spaces) are left out; rows keep their cells as
    written (not stripped); `newline` is the file's line ending ("\r\n" or "\n").
    """

    header: list[str]
    rows: list[tuple[int, list[str]]]
    header_line: int = 1
    newline: str = "\n"

    def ragged(self) -> list[tuple[int, list[str]]]:
        """The rows with more or fewer cells than the header."""
        return [(line, cells) for line, cells in self.rows if len(cells) != len(self.header)]

    def dicts(self) -> list[tuple[int, dict[str, str]]]:
        """Rows as header → stripped cell (missing trailing cells are ''), with their lines."""
        return [
            (line, {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(self.header)})
            for line, cells in self.rows
        ]


def ragged_message(cells: int, width: int) -> str:
    return f"the row has {cells} cells but the header has {width}; check for a stray or missing comma or quote."


def decode_csv(data: bytes) -> str:
    """UTF-8 text of a CSV file without its byte order mark; CsvFileError at the line of a byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CsvFileError(
            "encoding-error",
            f"byte 0x{data[err.start]:02x} is not UTF-8; save the file as UTF-8.",
            line,
            byte=err.start,
        ) from err


def parse_csv(text: str) -> Records:
    """Records of CSV text (the header is the first record that is not blank); CsvFileError when malformed."""
    try:
        records = list(csv_records(text))
    except MalformedCSV as err:
        raise CsvFileError(
            "source-error",
            f"malformed CSV in the record starting on this line ({err.reason}); check for an unbalanced double quote.",
            err.line,
            reason=err.reason,
        ) from err
    if not records:
        raise CsvFileError("empty-file", "is empty; it needs a header row.")
    first_break = text.find("\n")
    newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    (header_line, header), rows = records[0], records[1:]
    return Records([h.strip() for h in header], rows, header_line, newline)


def read_csv(path: Path) -> Records:
    """The CSV reader of every list, index and codebook file: records with their real lines (see Records).

    Raises CsvFileError for a file that cannot be read, is not UTF-8, is malformed or is empty; ragged
    rows are returned, for the caller to refuse or report (`Records.ragged`).
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CsvFileError("source-error", f"cannot be read: {err.strerror}.") from err
    return parse_csv(decode_csv(data))


def read_sound_csv(path: Path, error: type[Exception], label: str = "") -> Records:
    """read_csv of a file that must be whole: an unreadable file, a byte that is not UTF-8, a malformed record or a
    ragged row raises `error` with the file's name and the real line."""
    what = f"{label} {display_path(path)}" if label else display_path(path)
    try:
        records = read_csv(path)
    except CsvFileError as err:
        raise error(err.message(what)) from err
    for line, cells in records.ragged():
        raise error(f"{what}:{line}: {ragged_message(len(cells), len(records.header))}")
    return records


def read_records(path: Path, error: type[Exception], label: str = "") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the records (with the line each starts on, header = line 1) of a CSV file (read_sound_csv)."""
    records = read_sound_csv(path, error, label)
    return records.header, records.rows


def read_list(
    path: Path, columns: Sequence[str], error: type[Exception], label: str = "", *, lines: bool = False
) -> pd.DataFrame:
    """A list the dataset keeps as CSV (place list, id registry, deletions) as strings, its columns checked.

    With lines=True the frame has a _line column: the line each row starts on (header = line 1).
    """
    what = f"{label} {display_path(path)}" if label else display_path(path)
    fast = None if lines else _fast_list(path)  # a registry of a million ids: pyarrow, when the file is sound
    if fast is not None:
        header, frame = list(fast.columns), fast
    else:
        header, rows = read_records(path, error, label)
        frame = pd.DataFrame({c: pd.Series([r[i] for _, r in rows], dtype="string") for i, c in enumerate(header)})
        if lines:
            frame[LINE_COLUMN] = pd.Series([line for line, _ in rows], dtype="int64")
    missing = [c for c in columns if c not in header]
    if missing:
        raise error(f"{what} lacks column(s) {missing}; expected {list(columns)}.")
    return frame


def _fast_list(path: Path) -> pd.DataFrame | None:
    """A list CSV as strings read by pyarrow, or None when it needs the careful reader (which locates errors)."""
    try:
        data = path.read_bytes()
        if data.count(b'"') % 2:
            return None  # an unbalanced quote, which pyarrow would read leniently
        first = data.split(b"\n", 1)[0].decode("utf-8-sig")
        header = next(csv.reader([first]), [])
        if not header or '"' in first:
            return None
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=[h.strip() for h in header], skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={h.strip(): pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except (OSError, UnicodeDecodeError, csv.Error, pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    return frame


@dataclass(frozen=True)
class ByteScan:
    """What one scan of a sheet's bytes finds below 0x20: line breaks and control characters."""

    newlines: int
    lone_carriage_return: bool
    control_character: bool


def scan_bytes(data: bytes) -> ByteScan:
    """Count the line feeds, and look for a carriage return not before a line feed and for a CONTROL_CHARACTER.

    The bytes below 0x20 (in UTF-8 a control character is one such byte, in no other encoding) are picked out
    at once in numpy, which releases the GIL while another sheet is read; only those are compared.
    """
    codes = np.frombuffer(data, dtype=np.uint8)
    below = codes[codes < 0x20]  # a few per line: the line breaks, the tabs and any control character
    newlines = int(np.count_nonzero(below == 0x0A))
    returns = int(np.count_nonzero(below == 0x0D))
    tabs = int(np.count_nonzero(below == 0x09))
    lone = bool(returns) and returns != data.count(b"\r\n")
    return ByteScan(newlines, lone, len(below) - newlines - returns - tabs > 0)


def has_control_byte(data: bytes) -> bool:
    """True when UTF-8 bytes hold a CONTROL_CHARACTER."""
    return scan_bytes(data).control_character


def control_message(value: str) -> str:
    """Which control character a cell holds, and where."""
    match = CONTROL_CHARACTER.search(value)
    position = match.start() + 1 if match else 0
    code = ord(value[position - 1]) if match else 0
    label = " (NUL)" if code == 0 else ""
    return (
        f"the cell holds the invisible control character U+{code:04X}{label} at character {position}; "
        "delete it (it often comes from copying out of a PDF or a database export)."
    )


def control_character_problems(frame: pd.DataFrame, columns: Sequence[str], name: str) -> list[Problem]:
    """One problem per cell holding a control character (NUL included)."""
    problems = []
    for column in columns:
        values = frame[column]
        hits = values.str.contains(CONTROL_CHARACTER.pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        for value, line in zip(values[hits], frame[LINE_COLUMN][hits], strict=True):
            problems.append(Problem("control-character", control_message(str(value)), name, int(line), column, value))
    return problems


def closest(value: str, choices: Sequence[str]) -> str:
    """' Did you mean …?' for the vocabulary entries nearest to value, or ''."""
    matches = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        matches = [lowered[value.lower()]] if value.lower() in lowered else []
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?" if matches else ""


class MalformedCSV(Exception):
    """The csv module could not parse a record (an unbalanced quote, for one)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def csv_record(cells: Sequence[str], newline: str = "\n") -> str:
    """One CSV record ending in newline; a cell holding any line break (a lone CR too) is quoted, as the reader
    needs (csv.writer quotes only the characters of its own line terminator)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().removesuffix("\r\n") + newline


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (header = line 1); blank records (empty or spaces) are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise MalformedCSV(start, str(err)) from err
        if any(c.strip() for c in cells):
            yield start, cells
        start = reader.line_num + 1


def _empty_table(columns: Sequence[str]) -> tuple[pa.Table, np.ndarray]:
    table = pa.table({c: pa.array([], type=CELL_TYPE) for c in columns})
    return table, np.zeros(0, dtype=np.int64)


#: The largest block pyarrow parses a sheet in (bytes).
BLOCK_LIMIT = 64 << 20


def _fast_table(data: bytes, header: list[str]) -> pa.Table | None:
    """All cells as strings with pyarrow, or None when the file needs the careful reader.

    A sheet up to BLOCK_LIMIT is parsed as one block: one chunk per column (every later step pays per chunk),
    and several sheets are read at once anyway; a larger one is parsed in blocks of that size on every core.
    """
    block = min(max(len(data) + 1, 1 << 20), BLOCK_LIMIT)
    try:
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1, use_threads=True, block_size=block),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: CELL_TYPE for c in header},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _needs_line_map(data: bytes, scan: ByteScan, table: pa.Table) -> bool:
    """True when rows and lines do not match one to one (blank lines, line breaks inside cells)."""
    if scan.lone_carriage_return:
        return True
    # Every record takes at least one line, so as many line breaks as records means one line each.
    expected = table.num_rows + 1 if data.endswith(b"\n") else table.num_rows
    return bool(scan.newlines != expected)


def read_sheet(
    path: Path,
    known_columns: Sequence[str],
    required_columns: Sequence[str],
    trailing_optional: str | None = None,
    cache: SheetCache | None = None,
) -> Sheet:
    """Read a sheet as strings; every problem with the file itself is returned, none raised.

    When the last column is trailing_optional (the id column the tool adds), a row lacking only that cell is
    read with the cell empty: it was typed in the layout the sheet had before the tool added the column.
    With a cache (eventdata.sources.sheet_cache), a sheet whose bytes were parsed before is loaded from it.
    """
    name = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        return Sheet(
            path,
            *_empty_table(known_columns),
            (Problem("source-error", f"cannot read the file: {err.strerror}.", name),),
            False,
        )
    if cache is None or len(data) < MIN_BYTES:
        return _parse_sheet(path, name, data, known_columns, required_columns, trailing_optional)
    key = sheet_key(data, [*known_columns, "|", *required_columns, "|", trailing_optional])
    found = cache.load(key)
    if found is not None:
        table, lines, problems = found
        return Sheet(path, table, lines, tuple(replace(p, file=name) for p in problems), True)
    sheet = _parse_sheet(path, name, data, known_columns, required_columns, trailing_optional)
    if sheet.readable:
        cache.store(key, sheet.table, sheet.lines, sheet.problems)
    return sheet


def _parse_sheet(
    path: Path,
    name: str,
    data: bytes,
    known_columns: Sequence[str],
    required_columns: Sequence[str],
    trailing_optional: str | None,
) -> Sheet:
    """read_sheet of the bytes of a sheet."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # A plain first line is the header as it stands; pyarrow then checks that every cell is UTF-8, so the
    # whole file is decoded only when the careful reader needs its text.
    plain = _plain_header(data)
    text: str | Sheet | None = None
    if plain is None:
        text = _decoded(data, path, known_columns)
        if isinstance(text, Sheet):
            return text
    try:
        if plain is not None:
            header_line, header, records = 1, plain, None
        else:
            assert isinstance(text, str)
            header_line, header, records = _header(text)
        header = [h.strip() for h in header]
        problems = _check_header(header, header_line, name, known_columns, required_columns)
        if any(p.code in ("delimiter-error", "duplicate-column", "blank-header") for p in problems):
            undecodable = _decoded(data, path, known_columns) if text is None else text
            if isinstance(undecodable, Sheet):
                return undecodable  # a file that is not UTF-8 is reported as that first
            return Sheet(path, *_empty_table(known_columns), tuple(problems), False)
        scan = scan_bytes(data)  # one scan of the file for line breaks and control characters
        table = _fast_table(data, header) if header_line == 1 else None
        if table is not None and not _needs_line_map(data, scan, table):
            lines = pd.Series(range(2, table.num_rows + 2), dtype="int64")
            columns: dict[str, Any] = {c: table[c] for c in header}
        else:
            if records is None:
                text = _decoded(data, path, known_columns)
                if isinstance(text, Sheet):
                    return text
                records = _header(text)[2]
            optional = trailing_optional is not None and header[-1] == trailing_optional
            columns, lines, ragged = _careful_columns(list(records), header, name, optional_last=optional)
            problems += ragged
    except MalformedCSV as err:
        message = f"malformed CSV in the record starting here ({err.reason}); check for an unbalanced double quote."
        return Sheet(path, *_empty_table(known_columns), (Problem("source-error", message, name, err.line),), False)
    table = _clean_table(columns, len(lines), known_columns)
    line_array = lines.to_numpy(dtype=np.int64)
    if scan.control_character:  # most sheets hold none at all
        frame = sheets_frame([table], [line_array])
        problems += control_character_problems(frame, [c for c in header if c in known_columns], name)
    return Sheet(path, table, line_array, tuple(problems), True)


def _decoded(data: bytes, path: Path, known_columns: Sequence[str]) -> str | Sheet:
    """The sheet's text, or the Sheet that reports it not UTF-8 or empty."""
    name = display_path(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        message = (
            f"byte 0x{data[err.start]:02x} at character {column} is not UTF-8; "
            "save the sheet as 'CSV UTF-8' (Excel) or UTF-8 (LibreOffice)."
        )
        return Sheet(path, *_empty_table(known_columns), (Problem("encoding-error", message, name, line),), False)
    if not text or text.isspace():
        return Sheet(
            path,
            *_empty_table(known_columns),
            (Problem("empty-file", "the sheet is empty; it needs a header row.", name),),
            False,
        )
    return text


def _plain_header(data: bytes) -> list[str] | None:
    """The header cells when the first line is UTF-8 without quotes, carriage returns or NUL (as _header reads
    it), else None."""
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).removesuffix(b"\r")
    if any(c in first for c in (b'"', b"\r", b"\x00")):
        return None
    try:
        line = first.decode("utf-8")
    except UnicodeDecodeError:
        return None
    cells = line.split(",")
    return cells if line.strip() and any(c.strip() for c in cells) else None


def _header(text: str) -> tuple[int, list[str], Iterator[tuple[int, list[str]]]]:
    """The header's line and cells, and the records after it (lazy: the csv module parses them only when asked).

    A first line without quotes or carriage returns inside it is the header as it stands, so the csv module does
    not copy the whole text just to read it.
    """
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    first = first.removesuffix("\r")
    if first.strip() and not any(c in first for c in ('"', "\r", "\x00")):
        cells = first.split(",")
        if any(c.strip() for c in cells):

            def rest() -> Iterator[tuple[int, list[str]]]:
                records = csv_records(text)
                next(records)
                yield from records

            return 1, cells, rest()
    records = csv_records(text)
    header_line, header = next(records)
    return header_line, header, records


def _check_header(
    header: list[str], line: int, name: str, known: Sequence[str], required: Sequence[str]
) -> list[Problem]:
    problems: list[Problem] = []
    if len(header) == 1:
        for delimiter in OTHER_DELIMITERS:
            if delimiter in header[0]:
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                return [
                    Problem(
                        "delimiter-error",
                        f"the header is separated by {shown}, not commas; export the sheet as comma-separated CSV.",
                        name,
                        line,
                    )
                ]
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            problems.append(
                Problem("blank-header", f"header cell {position} is empty; name the column or delete it.", name, line)
            )
        elif column in seen:
            problems.append(Problem("duplicate-column", "the column appears twice in the header.", name, line, column))
        elif column not in known:
            hint = closest(column, known) or " Columns are listed in the codebook (`eventdata codebook`)."
            problems.append(
                Problem("unknown-column", f"the codebook has no column {column!r}.{hint}", name, line, column)
            )
        seen.add(column)
    for column in required:
        if column not in seen:
            problems.append(
                Problem(
                    "missing-column",
                    f"the sheet lacks the required column {column!r}; add it to the header.",
                    name,
                    line,
                    column,
                )
            )
    return problems


def _careful_columns(
    records: list[tuple[int, list[str]]], header: list[str], name: str, *, optional_last: bool = False
) -> tuple[dict[str, list[str]], pd.Series, list[Problem]]:
    """Columns from the csv module, keeping the line of each row and reporting ragged rows."""
    width = len(header)
    problems: list[Problem] = []
    kept: list[list[str]] = []
    lines: list[int] = []
    for line, cells in records:
        if optional_last and len(cells) == width - 1:
            cells = [*cells, ""]
        if len(cells) != width:
            code = "extra-cell" if len(cells) > width else "missing-cell"
            problems.append(
                Problem(
                    code,
                    f"the row has {len(cells)} cells but the header has {width}; "
                    "check for a stray or missing comma or quote.",
                    name,
                    line,
                )
            )
            continue
        kept.append(cells)
        lines.append(line)
    columns = {c: [row[i] for row in kept] for i, c in enumerate(header)}
    return columns, pd.Series(lines, dtype="int64"), problems


#: Bytes a cell may begin or end with when it has whitespace to trim: ASCII controls and space, and every byte of
#: a non-ASCII character (Unicode whitespace such as U+00A0 is not ASCII). Cells of most sheets have none.
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[:0x21] = True
_EDGE_BYTES[0x80:] = True


def _clean_chunk(chunk: pa.Array) -> pa.Array:
    """Cells trimmed of whitespace, empty ones missing; a chunk whose cells need no trimming keeps its buffers."""
    if chunk.null_count == 0 and chunk.offset == 0 and pa.types.is_large_string(chunk.type):
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[: len(chunk) + 1]
        data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        edges = _EDGE_BYTES[data[starts[filled]]] | _EDGE_BYTES[data[ends[filled] - 1]]
        if not edges.any():
            if filled.all():
                return chunk
            validity = pa.py_buffer(np.packbits(filled, bitorder="little"))
            return pa.Array.from_buffers(chunk.type, len(chunk), [validity, offsets_buffer, data_buffer])
    trimmed = pc.utf8_trim_whitespace(chunk)
    cleaned: pa.Array = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, CELL_TYPE), trimmed)
    return cleaned


def _clean_table(columns: dict[str, object], size: int, known: Sequence[str]) -> pa.Table:
    """Strings with surrounding whitespace removed and empty cells as missing; absent columns are all missing."""
    arrays = []
    for column in known:
        if column in columns:
            values = columns[column]
            array = (
                values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([pa.array(values, type=CELL_TYPE)])
            )
            arrays.append(pa.chunked_array([_clean_chunk(c) for c in array.chunks], type=CELL_TYPE))
        else:
            arrays.append(pa.chunked_array([pa.nulls(size, CELL_TYPE)]))
    return pa.Table.from_arrays(arrays, names=list(known))

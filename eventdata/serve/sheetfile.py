"""A coding sheet as its bytes: one row replaced or appended, every other byte kept.

A spreadsheet program or an editor wrote the sheet; the workbench keeps what it chose (column order,
quoting, line endings, a byte-order mark, the last line's newline or its absence) and rewrites only
the row that was saved.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


class SheetFormatError(ValueError):
    """The sheet cannot be edited in place (an unbalanced quote, no header)."""


@dataclass(frozen=True)
class Record:
    """One CSV record as written: its text (with its line ending), its first line and its cells."""

    raw: str
    line: int
    cells: list[str]


@dataclass(frozen=True)
class SheetText:
    """A sheet split into records, with the formatting choices its writer made."""

    bom: bool
    records: list[Record]
    newline: str
    quote_all: bool
    ends_with_newline: bool

    @property
    def header(self) -> list[str]:
        return [h.strip() for h in self.records[0].cells]

    @property
    def rows(self) -> list[Record]:
        return self.records[1:]

    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(r.raw for r in self.records)

    def row_at(self, line: int) -> int:
        """Position in `rows` of the record starting at a line (the header is line 1)."""
        for position, record in enumerate(self.rows):
            if record.line == line:
                return position
        raise KeyError(line)

    def format_row(self, values: dict[str, str]) -> str:
        """A record for values, in the header's order and the sheet's quoting, with its line ending."""
        out = io.StringIO()
        writer = csv.writer(
            out, lineterminator=self.newline, quoting=csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL
        )
        writer.writerow([values.get(column, "") for column in self.header])
        return out.getvalue()

    def with_row(self, values: dict[str, str], line: int | None) -> tuple[SheetText, int]:
        """The sheet with the row at `line` replaced (None: appended); returns it and the row's line."""
        records = list(self.records)
        if line is None:
            last = records[-1]
            if not self.ends_with_newline:
                last = records[-1] = Record(last.raw + self.newline, last.line, last.cells)
            start = last.line + last.raw.count("\n")
            raw = self.format_row(values)
            records.append(Record(raw, start, []))
            ends = True
        else:
            position = self.row_at(line) + 1
            old = records[position]
            raw = self.format_row(values)
            last_record = position == len(records) - 1
            if last_record and not self.ends_with_newline:
                raw = raw[: -len(self.newline)]
            records[position] = Record(raw, old.line, [])
            start, ends = line, self.ends_with_newline
            if old.raw.count("\n") != raw.count("\n"):  # a cell gained or lost a line break: later lines move
                records = _renumber(records)
        sheet = SheetText(self.bom, _reparsed(records), self.newline, self.quote_all, ends)
        return sheet, start

    def without_row(self, line: int) -> SheetText:
        """The sheet with the row starting at `line` removed; the lines after it move up."""
        records = list(self.records)
        position = self.row_at(line) + 1
        del records[position]
        if position == len(records) and not self.ends_with_newline:  # the last record went: the one before ends
            last = records[-1]
            records[-1] = Record(last.raw.removesuffix(self.newline), last.line, last.cells)
        return SheetText(self.bom, _renumber(records), self.newline, self.quote_all, self.ends_with_newline)


def _renumber(records: list[Record]) -> list[Record]:
    line = 1
    out = []
    for record in records:
        out.append(Record(record.raw, line, record.cells))
        line += record.raw.count("\n")
    return out


def _reparsed(records: list[Record]) -> list[Record]:
    return [r if r.cells or not r.raw.strip() else Record(r.raw, r.line, _cells(r.raw)) for r in records]


def _cells(raw: str) -> list[str]:
    return next(csv.reader(io.StringIO(raw, newline="")), [])


def split_records(text: str) -> list[Record]:
    """Split CSV text into records at line ends outside quotes, keeping each record's exact text."""
    records: list[Record] = []
    start = 0
    line = 1
    quoted = False
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            raw = text[start : position + 1]
            records.append(Record(raw, line, _cells(raw)))
            line += raw.count("\n")
            start = position + 1
        position += 1
    if quoted:
        raise SheetFormatError(f"a quote opened on line {line} is never closed")
    if start < length:
        raw = text[start:]
        records.append(Record(raw, line, _cells(raw)))
    return records


def parse_sheet(data: bytes) -> SheetText:
    """A sheet's bytes (UTF-8, with or without a byte-order mark) as records and formatting."""
    text = data.decode("utf-8")
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    records = split_records(text)
    if not records or not any(c.strip() for c in records[0].cells):
        raise SheetFormatError("the sheet has no header row")
    first = records[0].raw
    newline = "\r\n" if first.endswith("\r\n") else "\r" if first.endswith("\r") else "\n"
    rows = [r for r in records if r.raw.strip()]
    quote_all = all(_all_quoted(r.raw.rstrip("\r\n")) for r in rows)
    return SheetText(bom, records, newline, quote_all, text.endswith("\n"))


def _all_quoted(raw: str) -> bool:
    """Every cell of a record is written in double quotes (the writer quoted all fields)."""
    cells = _cells(raw)
    out = io.StringIO()
    csv.writer(out, lineterminator="", quoting=csv.QUOTE_ALL).writerow(cells)
    return out.getvalue() == raw


def content_hash(data: bytes) -> str:
    """The sha256 a client holds to prove it saw the sheet as it is now."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes | None:
    """A sheet's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None

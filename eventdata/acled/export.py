"""Reading an ACLED export: its header (the column layouts of the years, see `eventdata.acled`) and its cells.

Nothing here interprets a value; structural problems (encoding, delimiter, unknown, duplicate or
missing columns, rows of the wrong length) are recorded on the `Export`, never raised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eventdata.errors import Problem, SourceError
from eventdata.schema import Codebook
from eventdata.sources.sheets import display_path

RENAMED = {"ally_actor_1": "assoc_actor_1", "ally_actor_2": "assoc_actor_2", "geo_precis": "geo_precision"}
DROPPED = frozenset(
    {
        "data_id",
        "event_id_no_cnty",
        "iso3",
        "gwno",
        "population_1km",
        "population_2km",
        "population_5km",
        "population_best",
    }
)
REQUIRED = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "actor1",
    "inter1",
    "actor2",
    "inter2",
    "country",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
)
#: Derived columns checked against the export but not written to the sheet (the tool fills them).
CHECKED_ONLY = ("year", "disorder_type", "interaction", "iso", "region")


@dataclass(frozen=True)
class ExportRow:
    """One event of the export: codebook column → normalised value ('' when empty), and the raw cells."""

    line: int
    cells: dict[str, str]
    raw: dict[str, str]


@dataclass
class Export:
    """The parsed export: its rows, the header spelling of each codebook column, and what was wrong."""

    path: Path
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    rows: list[ExportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def problem(
        self, code: str, message: str, line: int | None = None, column: str | None = None, value: str | None = None
    ) -> None:
        """Record a problem at a line and codebook column (shown as the export spells it)."""
        shown = self.headers.get(column, column) if column else None
        self.problems.append(Problem(code, message, self.name, line, shown, value))
        if line is not None:
            self.bad_lines.add(line)

    @property
    def good_rows(self) -> list[ExportRow]:
        return [r for r in self.rows if r.line not in self.bad_lines]


# --- reading -------------------------------------------------------------------------------------


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on; blank records are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    for cells in reader:
        if any(c.strip() for c in cells):
            yield start, cells
        start = reader.line_num + 1


def read_export(path: Path, codebook: Codebook) -> Export:
    """Parse the export's header and cells; structural problems are recorded, never raised."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SourceError(f"Cannot read the ACLED export {path}: {err.strerror or err}.") from err
    export = Export(path, data)
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        export.problem(
            "encoding-error",
            f"byte 0x{data[err.start]:02x} is not UTF-8; ACLED exports are UTF-8, "
            "so save the file as 'CSV UTF-8' if a spreadsheet changed it.",
            line,
        )
        return export
    try:
        records = list(_records(text))
    except csv.Error as err:
        export.problem("source-error", f"malformed CSV ({err}); check for an unbalanced double quote.")
        return export
    if not records:
        export.problem("empty-file", "the file is empty; an ACLED export starts with a header row.")
        return export
    (header_line, header), body = records[0], records[1:]
    positions = _map_header(export, header, header_line, codebook.acled_field_names)
    if export.problems:
        return export
    for line, cells in body:
        if len(cells) != len(header):
            code = "extra-cell" if len(cells) > len(header) else "missing-cell"
            export.problem(code, f"the row has {len(cells)} cells but the header has {len(header)}.", line)
            continue
        raw = dict.fromkeys(codebook.acled_field_names, "") | {c: cells[i].strip() for c, i in positions.items()}
        export.rows.append(ExportRow(line, dict(raw), raw))
    return export


def _map_header(export: Export, header: list[str], line: int, acled_columns: Sequence[str]) -> dict[str, int]:
    """Codebook column → cell position; renames older names, drops retired columns, refuses the rest."""
    if len(header) == 1 and any(d in header[0] for d in (";", "\t", "|")):
        export.problem("delimiter-error", "the header is not comma-separated; ACLED exports are comma-separated.", line)
        return {}
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        spelled = cell.strip().removeprefix("\ufeff")
        key = spelled.casefold()
        column = RENAMED.get(key, key)
        if not spelled:
            export.problem("blank-header", f"header cell {position + 1} is empty.", line)
        elif key in DROPPED:
            continue
        elif column not in acled_columns:
            export.problem(
                "unknown-column",
                f"ACLED exports have no column {spelled!r} that eventdata knows; "
                "supported are the 31 current columns and the older names listed in the README.",
                line,
                spelled,
                spelled,
            )
        elif column in positions:
            export.problem(
                "duplicate-column",
                f"{spelled!r} names the column {export.headers[column]!r} again.",
                line,
                spelled,
                spelled,
            )
        else:
            positions[column] = position
            export.headers[column] = spelled
    for column in REQUIRED:
        if column not in positions:
            export.problem(
                "missing-column",
                f"the export lacks the column {column!r}, which every ACLED export has.",
                line,
                column,
                None,
            )
    return positions

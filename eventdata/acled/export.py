"""Reading an ACLED export: its header (the column layouts of the years, see `eventdata.acled`) and its cells.

Nothing here interprets a value; structural problems (encoding, delimiter, unknown, duplicate or
missing columns, rows of the wrong length, control characters) are recorded on the `Export`, never raised.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from eventdata.errors import Problem, SourceError
from eventdata.files import sha256_bytes
from eventdata.schema import Codebook
from eventdata.sources.sheets import (
    CONTROL_CHARACTER,
    CsvFileError,
    MalformedCSV,
    control_message,
    csv_records,
    decode_csv,
    display_path,
    has_control_byte,
)

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
#: The columns that name an event's actors: rows of one event id that differ only here are one event.
ACTOR_CELLS = ("actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction")
#: The second actor's columns, which an export of one-sided events may lack.
SECOND_ACTOR = ("actor2", "assoc_actor_2", "inter2")
#: How far down a file the header row is looked for (exports saved with a preamble, such as '(Sample)').
PREAMBLE_LINES = 20
#: Cells shorter than this are kept once however often they repeat (names, codes, dates; not notes).
SHARED_LENGTH = 64


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One event of the export: codebook column → normalised value ('' when empty), and its cells as read."""

    line: int
    cells: dict[str, str]
    values: Sequence[str] = ()  # the record's cells as in the file
    positions: Mapping[str, int] = field(default_factory=dict)  # codebook column → cell (shared by all rows)

    @property
    def raw(self) -> dict[str, str]:
        """Codebook column → the cell as the export wrote it (stripped)."""
        return {c: self.values[i].strip() for c, i in self.positions.items()}


@dataclass
class Export:
    """The parsed export: its rows, the header spelling of each codebook column, and what was wrong."""

    path: Path
    sha256: str
    headers: dict[str, str] = field(default_factory=dict)
    rows: list[ExportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    header_line: int = 1
    absent: list[str] = field(default_factory=list)  # optional columns empty on every row, taken as absent
    merged: dict[int, list[int]] = field(default_factory=dict)  # line of a merged event → its other lines
    severities: dict[str, str] = field(default_factory=dict)  # code → severity (schemas/rules.csv)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def problem(
        self, code: str, message: str, line: int | None = None, column: str | None = None, value: str | None = None
    ) -> None:
        """Record a problem at a line and codebook column (shown as the export spells it); an error drops the line."""
        shown = self.headers.get(column, column) if column else None
        self.add(Problem(code, message, self.name, line, shown, value))

    def add(self, problem: Problem) -> None:
        """Record a problem with its rule's severity; an error at a line of the export drops that line."""
        severity = self.severities.get(problem.code, "error")
        if severity != problem.severity:
            problem = replace(problem, severity=severity)
        self.problems.append(problem)
        if problem.line is not None and severity == "error" and problem.file == self.name:
            self.bad_lines.add(problem.line)

    @property
    def good_rows(self) -> list[ExportRow]:
        return [r for r in self.rows if r.line not in self.bad_lines]


# --- reading -------------------------------------------------------------------------------------


def read_export(path: Path, codebook: Codebook) -> Export:
    """Parse the export's header and cells; structural problems are recorded, never raised."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SourceError(f"Cannot read the ACLED export {path}: {err.strerror or err}.") from err
    export = Export(path, sha256_bytes(data))
    try:
        text = decode_csv(data)
    except CsvFileError as err:
        detail = err.detail
        if err.code == "encoding-error":
            detail = (
                f"byte 0x{data[err.byte or 0]:02x} is not UTF-8; ACLED exports are UTF-8, "
                "so save the file as 'CSV UTF-8' if a spreadsheet changed it."
            )
        export.problem(err.code, detail, err.line)
        return export
    controls = has_control_byte(data)  # the sheet reader's scan: most exports hold no control character
    del data
    try:
        records = csv_records(text)  # read lazily: an export of millions of rows is never held as records
        head = list(itertools.islice(records, PREAMBLE_LINES))  # the header may follow a preamble: found below
        if not head:
            export.problem("empty-file", "the file is empty; an ACLED export starts with a header row.")
            return export
        start = _header_index(head)
        header_line, header = head[start]
        export.header_line = header_line
        positions = _map_header(export, header, header_line, codebook.acled_field_names)
        if export.problems:
            return export
        body = itertools.chain(head[start + 1 :], records)
        _read_rows(export, body, header, positions, codebook, controls=controls)
    except MalformedCSV as err:
        export.rows = []  # nothing of a file that cannot be read to its end is taken
        export.problems = [p for p in export.problems if p.code not in ("extra-cell", "missing-cell")]
        export.bad_lines = set()
        export.problem(
            "source-error",
            f"malformed CSV in the record starting on this line ({err.reason}); check for an unbalanced double quote.",
            err.line,
        )
        return export
    _drop_empty_columns(export)
    merge_actor_rows(export)
    _check_second_actors(export, codebook)
    return export


def _read_rows(
    export: Export,
    body: Iterable[tuple[int, list[str]]],
    header: Sequence[str],
    positions: Mapping[str, int],
    codebook: Codebook,
    *,
    controls: bool = True,
) -> None:
    """The export's rows below the header; a row of the wrong width or with a control character is not taken.

    ``controls`` is False when the file holds no control character, and its cells need no check.

    A value repeated down a column (a country, an actor, an event type) is kept once: the rows share it.
    """
    blank = dict.fromkeys(codebook.acled_field_names, "")
    shared: dict[str, str] = {}
    width = len(header)
    for line, cells in body:
        if len(cells) != width:
            code = "extra-cell" if len(cells) > width else "missing-cell"
            export.problem(code, f"the row has {len(cells)} cells but the header has {width}.", line)
            continue
        if controls and _control_problems(export, line, cells, positions):
            continue
        cells = [shared.setdefault(c, c) if len(c) < SHARED_LENGTH else c for c in cells]
        values = {c: cells[i].strip() for c, i in positions.items()}  # strip() gives a trimmed cell as it is
        values = {c: shared.setdefault(v, v) if len(v) < SHARED_LENGTH else v for c, v in values.items()}
        export.rows.append(ExportRow(line, blank | values, cells, positions))


def _control_problems(export: Export, line: int, cells: Sequence[str], positions: Mapping[str, int]) -> bool:
    """Record a control-character problem per cell of a codebook column holding one, as the sheet reader does."""
    found = False
    for column, position in positions.items():
        cell = cells[position]
        if CONTROL_CHARACTER.search(cell):
            export.problem("control-character", control_message(cell), line, column, cell)
            found = True
    return found


def _check_second_actors(export: Export, codebook: Codebook) -> None:
    """An export without the actor2 columns whose events need a second actor: one problem, and no rows.

    Without it every such row would be refused on its own (actor2-required), and the file imported in part.
    Which event types need a second actor is the `actor2` column of the event_types vocabulary.
    """
    missing = [c for c in SECOND_ACTOR if c not in export.headers and c not in export.absent]
    if not missing or not export.rows:
        return
    types = codebook.vocabulary("event_types")
    if "actor2" not in types.columns:
        return
    needing = {str(t).casefold(): str(t) for t in types.loc[types["actor2"] == "required", "event_type"]}
    lines = [r.line for r in export.rows if not r.cells["actor2"] and r.cells["event_type"].casefold() in needing]
    if not lines:
        return  # one-sided events only (protests, say): nothing is lost without the columns
    kinds = sorted({needing[r.cells["event_type"].casefold()] for r in export.rows if r.line in set(lines)})
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    export.problem(
        "missing-column",
        f"the export lacks the column(s) {', '.join(repr(c) for c in missing)}, but it has {len(lines)} event(s) "
        f"that need a second actor ({', '.join(kinds)}; line(s) {shown}). Export the file again with every column (the "
        "default of ACLED's export tool and API, in the dyadic layout), or add the columns to the header with "
        "each event's second actor; nothing was imported.",
        export.header_line,
        missing[0],
    )
    export.rows = []


def _header_index(records: Sequence[tuple[int, list[str]]]) -> int:
    """The record that is the header: the first naming event_id_cnty (after a preamble), else the first."""
    for index, (_, cells) in enumerate(records[:PREAMBLE_LINES]):
        if any(c.strip().removeprefix("\ufeff").casefold() == "event_id_cnty" for c in cells):
            return index
    return 0


def _drop_empty_columns(export: Export) -> None:
    """An optional column empty on every row says nothing (the data predates it): take it as absent."""
    if not export.rows:
        return
    for column in [c for c in export.headers if c not in REQUIRED]:
        if all(not row.cells[column] for row in export.rows):
            export.absent.append(export.headers.pop(column))


def merge_actor_rows(export: Export) -> None:
    """Rows repeating an event id (one row per actor) become one event when they differ only in actor columns.

    The actors of the rows, in order of appearance, become actor1 and actor2; rows that differ in any
    other column, or name more than two actors, are refused at every line of the event.
    """
    by_id: dict[str, list[ExportRow]] = {}
    for row in export.rows:
        if row.cells["event_id_cnty"]:
            by_id.setdefault(row.cells["event_id_cnty"], []).append(row)
    merged_away: set[int] = set()
    for event_id, rows in by_id.items():
        if len(rows) < 2:
            continue
        first, lines = rows[0], [r.line for r in rows]
        differing = [
            c for c in first.cells if c not in ACTOR_CELLS and any(r.cells[c] != first.cells[c] for r in rows[1:])
        ]
        actors: dict[str, tuple[str, str, str]] = {}
        for row in rows:
            for actor, assoc, inter in (("actor1", "assoc_actor_1", "inter1"), ("actor2", "assoc_actor_2", "inter2")):
                name = row.cells[actor]
                if name and name.casefold() not in actors:
                    actors[name.casefold()] = (name, row.cells[assoc], row.cells[inter])
        if differing or len(actors) > 2:
            reason = (
                f"they differ in {', '.join(export.headers.get(c, c) for c in differing)}"
                if differing
                else f"they name {len(actors)} actors and an event has two (actor1, actor2)"
            )
            for row in rows:
                column = differing[0] if differing else "actor1"
                export.problem(
                    "duplicate-event",
                    f"lines {', '.join(map(str, lines))} repeat the event id {event_id}, but {reason}: only rows "
                    "that differ in the actor columns alone (one row per actor) are merged into one event.",
                    row.line,
                    column,
                    row.cells[column],
                )
            continue
        (name1, assoc1, inter1), *rest = actors.values()
        name2, assoc2, inter2 = rest[0] if rest else ("", "", "")
        interactions = {r.cells["interaction"] for r in rows}
        first.cells.update(
            actor1=name1, assoc_actor_1=assoc1, inter1=inter1, actor2=name2, assoc_actor_2=assoc2, inter2=inter2
        )
        first.cells["interaction"] = interactions.pop() if len(interactions) == 1 else ""
        export.merged[first.line] = lines[1:]
        merged_away.update(lines[1:])
    if merged_away:
        export.rows = [r for r in export.rows if r.line not in merged_away]


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

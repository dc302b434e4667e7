"""`eventdata import acled`: an ACLED export becomes a coding sheet, with its ids, actors, places and source.

An ACLED export is its own authority for the event ids, actors (with their types) and
places it uses, so the import keeps ACLED's `event_id_cnty`, registers those ids, adds
unknown actors to schemas/actors.csv and unknown places to schemas/places.csv, and
registers the export itself as the source article of every row. Nothing is written
unless the whole export would validate; every problem is located at the export's
file, line (the header is line 1), column (as spelled in its header) and value.

Column layouts (ACLED changed them over the years; headers match case-insensitively):

====================================  ===============================================
export column                         rule
====================================  ===============================================
the 31 current columns                kept (CODEBOOK.md); year, disorder_type,
                                      interaction, iso and region are checked
                                      against what the tool derives, not stored
``ally_actor_1``, ``ally_actor_2``    renamed ``assoc_actor_1``, ``assoc_actor_2``
``geo_precis``                        renamed ``geo_precision``
``data_id``, ``event_id_no_cnty``,    dropped: ACLED's 2023 column guide calls them
``iso3``, ``gwno``                    row numbers or codes derivable from the id and
                                      the country
``population_*`` (1km … best)         dropped (ACLED's optional population columns)
any other column                      refused (``unknown-column``)
====================================  ===============================================

Values:

- ``event_date``: ``2022-02-03``, ``03 February 2022`` (export tool), ``3-February-2022``
  or ``01-Jan-2015`` (older files) become ISO dates. Slash dates (``03/02/2022``) are
  refused: old ACLED files wrote day/month, spreadsheets rewrite them month/day.
- ``inter1``/``inter2``: codes 0-8 or ACLED's labels (``State forces``, ``Rebel group``,
  ``Political militia``, ``Identity militia``, ``Rioters``, ``Protesters``, ``Civilians``,
  ``External/Other forces``; plural forms too), any case; an empty ``inter2`` with no
  ``actor2`` is 0.
- ``interaction``: a number, or text such as ``State forces-Rebel group`` or
  ``Rebel group only`` (``Sole rebel groups``), becomes 10*min + max (10*inter1 alone).
- ``civilian_targeting``: ACLED's codebook spelling ``Civilians targeted`` becomes
  ``Civilian targeting``. Exports from before 2023 have no such column: Violence against
  civilians events get ``Civilian targeting`` (ACLED's definition), all others none.
- ``disorder_type``: ``Political violence; Demonstrations`` (ACLED's value for events that are
  both, such as Excessive force against protesters) is accepted where the codebook derives
  either of the two, and the release carries the codebook's one.
- ``timestamp``: not kept in the row. A release's timestamp is the time of the version in
  which the row last changed; ACLED's value stays in the source text (below).

Event types from before ACLED's 2019 taxonomy are mapped only where one current pair fits
(`OLDER_EVENT_TYPES`); a row's own ``sub_event_type`` picks among several when given:

============================================  ===============================================
older event type                              current event type / sub-event type
============================================  ===============================================
Battle-No change of territory                 Battles / Armed clash
Battle-Government regains territory           Battles / Government regains territory
Battle-Non-state actor overtakes territory    Battles / Non-state actor overtakes territory
Headquarters or base established              Strategic developments / Headquarters or base established
Non-violent transfer of territory             Strategic developments / Non-violent transfer of territory
Riots/Protests                                refused: Protests or Riots (5 sub-event types)
Remote violence                               refused: 6 Explosions/Remote violence sub-event types
Strategic development, Non-violent activity   refused: 8 Strategic developments sub-event types
by a conflict actor
============================================  ===============================================

Actors not in the actor list are added with ACLED's types: state forces coded 1 at home
and 8 abroad get one entry (type 1, that home country); an actor coded only 8 and named
``Military Forces of X (…)`` or ``Police Forces of X (…)`` with X a country is state forces
of X; other actors coded only 8 are External/Other forces of no country. When an actor's
type changes over time, its entry gets one validity period per type. Actors seen only as
associated actors (ACLED gives them no type) take the most frequent type of the actors
they accompany.

Provenance: the export becomes the article ``acled-<name>`` (seeds/articles/acled-<name>.txt):
a header line naming the file and its sha256, then one line per event,
``<event_id_cnty> (ACLED timestamp <t>): <notes>``. Each row cites it, quotes its notes as
evidence and names the coder ``acled-import``.
"""

from __future__ import annotations

import calendar
import csv
import io
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from eventdata.actors import COLUMNS as ACTOR_LIST_COLUMNS
from eventdata.actors import ActorList, load_actors
from eventdata.errors import Problem, Report, SourceError
from eventdata.gazetteer import COLUMNS as PLACES_HEADER
from eventdata.gazetteer import COORDINATE_TOLERANCE, Gazetteer, load_places, name_key
from eventdata.ids import read_registry
from eventdata.project import Project
from eventdata.schema import Codebook, load_codebook
from eventdata.sources.articles import Article, read_articles, sha256_bytes
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, STRING_DTYPE, display_path, read_sheet
from eventdata.validate import References, validate_events

CODER = "acled-import"
ACTOR_COLUMNS = (*ACTOR_LIST_COLUMNS, "notes")
PUBLISHER = "ACLED"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,150}$")
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
INTER_LABELS = {
    "state forces": 1,
    "rebel group": 2,
    "rebel groups": 2,
    "political militia": 3,
    "political militias": 3,
    "identity militia": 4,
    "identity militias": 4,
    "rioters": 5,
    "protesters": 6,
    "civilians": 7,
    "external/other forces": 8,
}
COMBINED_DISORDER = "Political violence; Demonstrations"
CIVILIAN_TARGETING = "Civilian targeting"
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
#: ACLED's event types before its 2019 taxonomy: the current (event type, sub-event type) pairs each
#: can stand for; None means every sub-event type of that event type.
OLDER_EVENT_TYPES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "battle-no change of territory": (("Battles", "Armed clash"),),
    "battle-government regains territory": (("Battles", "Government regains territory"),),
    "battle-non-state actor overtakes territory": (("Battles", "Non-state actor overtakes territory"),),
    "headquarters or base established": (("Strategic developments", "Headquarters or base established"),),
    "non-violent transfer of territory": (("Strategic developments", "Non-violent transfer of territory"),),
    "riots/protests": (("Protests", None), ("Riots", None)),
    "remote violence": (("Explosions/Remote violence", None),),
    "strategic development": (("Strategic developments", None),),
    "non-violent activity by a conflict actor": (("Strategic developments", None),),
}
MONTHS = {name.casefold(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.casefold(): number for number, name in enumerate(calendar.month_abbr) if name
}
NAMED_MONTH_DATE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]+)[ -](\d{4})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLASH_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$")
STATE_FORCES_NAME = re.compile(r"^(?:Military|Police) Forces of (?:the )?(.+?) \(")


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, when the report has problems, would have done: nothing was written)."""

    sheet: Path
    rows: int
    new_actors: tuple[str, ...]
    new_places: tuple[str, ...]
    registered_ids: tuple[str, ...]
    report: Report
    article_id: str = ""


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


# --- values ----------------------------------------------------------------------------------------


def parse_date(text: str) -> str | None:
    """ISO date of an ACLED date cell (ISO, '03 February 2022', '3-February-2022'), or None."""
    if ISO_DATE.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    match = NAMED_MONTH_DATE.match(text)
    month = MONTHS.get(match.group(2).casefold()) if match else None
    if match is None or month is None:
        return None
    try:
        return date(int(match.group(3)), month, int(match.group(1))).isoformat()
    except ValueError:
        return None


def parse_inter(text: str) -> int | None:
    """Actor type code of a numeric or text inter cell ('' is 0), or None."""
    if text == "":
        return 0
    if text.isascii() and text.isdigit():
        return int(text) if int(text) <= 8 else None
    return INTER_LABELS.get(" ".join(text.split()).casefold())


def parse_interaction(text: str) -> int | None:
    """Interaction code of a numeric or text cell ('State forces-Rebel group', 'Rebel group only'), or None."""
    if text.isascii() and text.isdigit():
        return int(text)
    label = " ".join(text.split()).casefold()
    single = label.removeprefix("sole ").removesuffix(" only")
    if single != label:
        code = INTER_LABELS.get(single)
        return 10 * code if code else None
    codes = [INTER_LABELS.get(part.strip()) for part in label.split("-")]
    if len(codes) != 2 or None in codes:
        return None
    low, high = sorted(c for c in codes if c is not None)
    return 10 * low + high


@dataclass(frozen=True)
class Taxonomy:
    """The codebook's sub-event types by event type, and the disorder type of each sub-event type."""

    subs_by_type: dict[str, list[str]]
    disorder: dict[str, str]

    @classmethod
    def of(cls, codebook: Codebook) -> Taxonomy:
        table = codebook.vocabulary("sub_event_types")
        subs_by_type: dict[str, list[str]] = defaultdict(list)
        for event_type, sub in zip(table["event_type"], table["sub_event_type"], strict=True):
            subs_by_type[event_type].append(sub)
        return cls(dict(subs_by_type), dict(zip(table["sub_event_type"], table["disorder_type"], strict=True)))


def _normalise_row(export: Export, row: ExportRow, taxonomy: Taxonomy) -> None:
    """Rewrite one row's values the documented way; unreadable cells become located problems."""
    values, line = row.cells, row.line
    iso_date = parse_date(values["event_date"])
    if iso_date is None:
        hint = (
            " Slash dates are ambiguous (day/month or month/day): write YYYY-MM-DD."
            if SLASH_DATE.match(values["event_date"])
            else ""
        )
        export.problem(
            "type-error",
            f"not a date ACLED writes (2022-02-03, 03 February 2022, 3-February-2022).{hint}",
            line,
            "event_date",
            values["event_date"],
        )
    else:
        values["event_date"] = iso_date
    for column in ("inter1", "inter2"):
        _normalise_inter(export, row, column)
    if values.get("interaction"):
        code = parse_interaction(values["interaction"])
        if code is None:
            export.problem(
                "enum-error",
                "not an ACLED interaction: a number such as 12, or text such as "
                "'State forces-Rebel group' or 'Rebel group only'.",
                line,
                "interaction",
                values["interaction"],
            )
        else:
            values["interaction"] = str(code)
    _map_event_type(export, row, taxonomy)
    _normalise_civilian_targeting(export, row)
    _normalise_disorder_type(row, taxonomy)
    timestamp = values.get("timestamp", "")
    if timestamp and not (timestamp.isascii() and timestamp.isdigit()):
        export.problem("type-error", "timestamp must be a Unix time (whole seconds).", line, "timestamp", timestamp)


def _normalise_inter(export: Export, row: ExportRow, column: str) -> None:
    values = row.cells
    text = values[column]
    actor = values["actor1" if column == "inter1" else "actor2"]
    code = parse_inter(text)
    if text == "" and column == "inter1":
        export.problem("required-error", "inter1 is required: the actor type of actor1.", row.line, column, text)
    elif code is None or (code == 0 and column == "inter1"):
        labels = (
            "State forces, Rebel group, Political militia, Identity militia, Rioters, Protesters, Civilians, "
            "External/Other forces"
        )
        export.problem("enum-error", f"not an ACLED actor type: a code 1-8 or one of {labels}.", row.line, column, text)
    elif code == 0 and actor:
        export.problem(
            "required-error", f"{column} gives no actor type for the named actor {actor!r}.", row.line, column, text
        )
    elif code != 0 and not actor and column == "inter2":
        export.problem(
            "actor2-inter2-mismatch", "inter2 names an actor type but actor2 is empty.", row.line, column, text
        )
    else:
        values[column] = str(code)


def _candidates(event_type: str, subs_by_type: Mapping[str, list[str]]) -> tuple[list[tuple[str, str]], bool]:
    """The current (event type, sub-event type) pairs an event type can stand for, and whether it is an older one."""
    if event_type in subs_by_type:
        return [(event_type, s) for s in subs_by_type[event_type]], False
    older = OLDER_EVENT_TYPES.get(" ".join(event_type.split()).casefold())
    if older is None:
        return [], False
    pairs = [(t, s) for t, sub in older for s in ([sub] if sub else subs_by_type.get(t, []))]
    return pairs, True


def _map_event_type(export: Export, row: ExportRow, taxonomy: Taxonomy) -> None:
    """Map older event types to current pairs; refuse the ones that have no single equivalent."""
    subs_by_type = taxonomy.subs_by_type
    values = row.cells
    given, sub = values["event_type"], values.get("sub_event_type", "")
    pairs, older = _candidates(given, subs_by_type)
    if not pairs:
        return  # not an ACLED event type: the validator reports it with the codebook's suggestions
    fitting = [p for p in pairs if p[1] == sub] if sub else pairs
    if len(fitting) == 1:
        values["event_type"], values["sub_event_type"] = fitting[0]
        return
    if not fitting and not older:
        return  # a current event type with a foreign sub-event type: the validator reports the mismatch
    types = sorted({t for t, _ in pairs}, key=list(subs_by_type).index)
    if older:
        message = (
            f"ACLED's pre-2019 event type {given!r} has no single current equivalent: it became "
            f"{' or '.join(types)} with sub-event types {', '.join(s for _, s in pairs)}."
        )
        message += (
            f" {sub!r} is not one of them."
            if sub
            else " Download the events again from ACLED (current exports have the current types) or recode them."
        )
    else:
        message = f"sub_event_type is empty and {given} has several: {', '.join(s for _, s in pairs)}."
    export.problem("unmapped-event-type", message, row.line, "event_type", given)


def _normalise_civilian_targeting(export: Export, row: ExportRow) -> None:
    values = row.cells
    if "civilian_targeting" not in export.headers:
        values["civilian_targeting"] = CIVILIAN_TARGETING if values["event_type"] == VIOLENCE_AGAINST_CIVILIANS else ""
    elif values["civilian_targeting"].casefold() in ("civilians targeted", CIVILIAN_TARGETING.casefold()):
        values["civilian_targeting"] = CIVILIAN_TARGETING


def _normalise_disorder_type(row: ExportRow, taxonomy: Taxonomy) -> None:
    """ACLED's combined 'Political violence; Demonstrations' stands for whichever of the two the codebook derives."""
    values = row.cells
    if values.get("disorder_type") != COMBINED_DISORDER:
        return
    if taxonomy.disorder.get(values["sub_event_type"]) in COMBINED_DISORDER.split("; "):
        values["disorder_type"] = ""


# --- actors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    """One appearance of an actor in the export: as actor1/actor2 (with ACLED's type) or as an associated actor."""

    name: str
    day: date
    country: str
    inter: int
    line: int
    column: str
    primary: bool


def _sightings(rows: Sequence[ExportRow]) -> dict[str, list[Sighting]]:
    """Every actor name of the rows (case-insensitively), with where and as what it appears."""
    found: dict[str, list[Sighting]] = defaultdict(list)
    for row in rows:
        v = row.cells
        day = date.fromisoformat(v["event_date"])
        for actor, inter, assoc in (("actor1", "inter1", "assoc_actor_1"), ("actor2", "inter2", "assoc_actor_2")):
            if not v[actor]:
                continue
            code = int(v[inter])
            found[v[actor].casefold()].append(Sighting(v[actor], day, v["country"], code, row.line, inter, True))
            for name in (n.strip() for n in v.get(assoc, "").split(";")):
                if name:
                    found[name.casefold()].append(Sighting(name, day, v["country"], code, row.line, assoc, False))
    return found


def _home_country(name: str, sightings: Sequence[Sighting], countries: set[str]) -> tuple[str | None, Sighting | None]:
    """The country whose state forces the actor is (None if none), or a sighting that contradicts a single home."""
    homes: dict[str, Sighting] = {}
    for s in sightings:
        if s.inter == 1:
            homes.setdefault(s.country, s)
    if len(homes) > 1:
        return None, list(homes.values())[1]
    if homes:
        return next(iter(homes)), None
    match = STATE_FORCES_NAME.match(name)
    named = match.group(1) if match else None
    abroad_only = all(s.inter == 8 and s.country != named for s in sightings)
    return (named, None) if named in countries and abroad_only else (None, None)


def _periods(
    sightings: Sequence[Sighting], home: str | None
) -> tuple[list[tuple[int, date | None, date | None]], Sighting | None]:
    """Validity periods (type, start, end) that give every sighting its type, or a sighting that two types claim."""
    typed = sorted(
        ((s.day, 1 if home and s.inter == 8 and s.country != home else s.inter, s) for s in sightings),
        key=lambda t: (t[0], t[2].line),
    )
    runs: list[tuple[int, date]] = []
    last_day: dict[date, int] = {}
    for day, inter, sighting in typed:
        if last_day.setdefault(day, inter) != inter:
            return [], sighting
        if not runs or runs[-1][0] != inter:
            runs.append((inter, day))
    periods: list[tuple[int, date | None, date | None]] = []
    for index, (inter, start) in enumerate(runs):
        end = runs[index + 1][1] - timedelta(days=1) if index + 1 < len(runs) else None
        periods.append((inter, start if index else None, end))
    return periods, None


def infer_actors(
    export: Export, rows: Sequence[ExportRow], actors: ActorList, countries: set[str]
) -> list[dict[str, str]]:
    """actors.csv entries for every actor the list does not know; contradictions become located problems."""
    known = set(actors.names["key"])
    entries: list[dict[str, str]] = []
    for key, sightings in _sightings(rows).items():
        if key.strip() in known:
            continue
        primary = [s for s in sightings if s.primary]
        entry = _primary_entry(export, primary, countries) if primary else _associated_entry(sightings, countries)
        if entry is None:
            export.bad_lines.update(s.line for s in sightings)  # reported once, at the contradiction
        else:
            entries.extend(entry)
    return entries


def _primary_entry(export: Export, sightings: Sequence[Sighting], known: set[str]) -> list[dict[str, str]] | None:
    name = sightings[0].name
    countries = {s.country for s in sightings}
    home, clash = _home_country(name, sightings, known)
    if clash is not None:
        export.problem(
            "actor-type-conflict",
            f"ACLED codes {name!r} as State forces (1) in more than one country; "
            "the actor list gives state forces one home country (abroad they are 8). Add the actor to "
            "schemas/actors.csv by hand.",
            clash.line,
            clash.column,
            "1",
        )
        return None
    periods, clash = _periods(sightings, home)
    if clash is not None:
        export.problem(
            "actor-type-conflict",
            f"ACLED gives {name!r} two actor types on {clash.day.isoformat()}; an "
            "actor has one type per day. Add the actor to schemas/actors.csv by hand.",
            clash.line,
            clash.column,
            str(clash.inter),
        )
        return None
    external = all(s.inter == 8 for s in sightings)  # External/Other forces belong to no country
    country = home or (next(iter(countries)) if len(countries) == 1 and not external else "")
    how = f" State forces of {home}: ACLED codes them 8 abroad." if home else ""
    notes = f"Added by `eventdata import acled` from {export.path.name} ({len(sightings)} event(s)).{how}"
    return [_actor(name, inter, country, start, end, notes) for inter, start, end in periods]


def _associated_entry(sightings: Sequence[Sighting], countries: set[str]) -> list[dict[str, str]]:
    """An actor seen only as an associated actor takes the most frequent type of the actors it accompanies."""
    name = sightings[0].name
    counts = Counter(s.inter for s in sightings)
    inter = min(counts, key=lambda code: (-counts[code], code))
    home = None
    if inter == 1:
        home = Counter(s.country for s in sightings if s.inter == 1).most_common(1)[0][0]
    elif inter == 8:
        home, _ = _home_country(name, [s for s in sightings if s.inter == 8], countries)
    places = {s.country for s in sightings}
    country = home or (next(iter(places)) if len(places) == 1 and inter != 8 else "")
    notes = (
        f"Added by `eventdata import acled` ({len(sightings)} event(s) as an associated actor): ACLED gives "
        "associated actors no type; this is the most frequent type of the actors it accompanies."
    )
    return [_actor(name, 1 if home else inter, country, None, None, notes)]


def _actor(name: str, inter: int, country: str, start: date | None, end: date | None, notes: str) -> dict[str, str]:
    return {
        "actor": name,
        "inter": str(inter),
        "country": country,
        "start_date": start.isoformat() if start else "",
        "end_date": end.isoformat() if end else "",
        "aliases": "",
        "notes": notes,
    }


# --- places ----------------------------------------------------------------------------------------


PLACE_COLUMNS = ("country", "location", "admin1", "admin2", "admin3")


def infer_places(export: Export, rows: Sequence[ExportRow], gazetteer: Gazetteer) -> list[tuple[int, dict[str, str]]]:
    """places.csv entries (with the export line that introduced each) for every point the list cannot resolve.

    A row matches a listed place as the resolver does (same name in the country, its admin names where
    given, a point within COORDINATE_TOLERANCE); it is new unless a match also lists exactly its admin names.
    """
    index = _place_index(gazetteer)
    text = {c: [r.cells[c] for r in rows] for c in PLACE_COLUMNS}
    keys = {c: _keys(text[c]) for c in ("location", "admin1", "admin2", "admin3")}
    added: list[tuple[int, dict[str, str]]] = []
    for i, row in enumerate(rows):
        admins = (keys["admin1"][i], keys["admin2"][i], keys["admin3"][i])
        point = (float(row.cells["latitude"]), float(row.cells["longitude"]))
        listed = index[(row.cells["country"], keys["location"][i])]
        matches = [p for p in listed if _fits(p, admins, point)]
        if any(p[0] == admins for p in matches):
            continue
        listed.append((admins, point))
        place = {c: row.cells[c] for c in PLACE_COLUMNS} | {
            "alternate_names": "",
            "latitude": row.cells["latitude"],
            "longitude": row.cells["longitude"],
            "geonames_id": "",
            "coordinate_source": f"ACLED export {export.path.name}",
        }
        added.append((row.line, place))
    return added


PlaceKey = tuple[tuple[str, str, str], tuple[float, float]]


def _place_index(gazetteer: Gazetteer) -> dict[tuple[str, str], list[PlaceKey]]:
    places = gazetteer.places
    admins = {c: _keys([str(v) for v in places[c]]) for c in ("admin1", "admin2", "admin3")}
    latitudes, longitudes = (places[c].to_numpy(dtype="float64") for c in ("latitude", "longitude"))
    index: dict[tuple[str, str], list[PlaceKey]] = defaultdict(list)
    for country, key, place in zip(
        gazetteer.names["country"], gazetteer.names["key"], gazetteer.names["place"], strict=True
    ):
        p = int(place)
        entry = (
            (admins["admin1"][p], admins["admin2"][p], admins["admin3"][p]),
            (float(latitudes[p]), float(longitudes[p])),
        )
        index[(str(country), str(key))].append(entry)
    return index


def _keys(values: Sequence[str]) -> list[str]:
    """Names compared the way the place resolver compares them."""
    return [str(k) for k in name_key(pd.Series(list(values), dtype="string")).fillna("")]


def _fits(place: PlaceKey, admins: tuple[str, str, str], point: tuple[float, float]) -> bool:
    listed, (lat, lon) = place
    same_admins = all(given == "" or given == have for given, have in zip(admins, listed, strict=True))
    return same_admins and abs(lat - point[0]) <= COORDINATE_TOLERANCE and abs(lon - point[1]) <= COORDINATE_TOLERANCE


# --- provenance ------------------------------------------------------------------------------------


def source_text(export: Export, rows: Sequence[ExportRow]) -> str:
    """The article text standing for the export: a header line, then one line per event with its notes."""
    lines = [
        f"ACLED export {export.path.name} (sha256 {sha256_bytes(export.data)}), registered by "
        "`eventdata import acled`: one line per event, '<event_id_cnty> (ACLED timestamp <Unix time>): <notes>'."
    ]
    for row in rows:
        v = row.cells
        stamp = f" (ACLED timestamp {v['timestamp']})" if v.get("timestamp") else ""
        lines.append(f"{v['event_id_cnty']}{stamp}: {' '.join(v['notes'].split())}")
    return "\n".join(lines) + "\n"


def published_date(rows: Sequence[ExportRow]) -> date:
    """The latest event date or ACLED timestamp of the rows: no event is dated after its source."""
    days = [date.fromisoformat(r.cells["event_date"]) for r in rows]
    days += [datetime.fromtimestamp(int(r.cells["timestamp"]), tz=UTC).date() for r in rows if r.cells.get("timestamp")]
    return max(days, default=date.today())


def article_entry(export: Export, article_id: str, text: str, published: date) -> dict[str, str]:
    """The export's row in seeds/articles.csv."""
    return {
        "article_id": article_id,
        "title": f"ACLED export {export.path.name}",
        "publisher": PUBLISHER,
        "url": "",
        "published": published.isoformat(),
        "language": "en",
        "sha256": sha256_bytes(text.encode("utf-8")),
        "notes": "An ACLED export registered as the source of its events by `eventdata import acled`; ACLED's "
        "source column names the outlets. Published: the latest event date or ACLED timestamp in the export.",
    }


def sheet_columns(codebook: Codebook) -> list[str]:
    """Columns of an imported sheet: the coder's, the id, ACLED's admin names, coordinates and actor types."""
    return [c for c in codebook.field_names if codebook.derivation(c) not in {*CHECKED_ONLY, "timestamp"}]


def sheet_text(rows: Sequence[ExportRow], columns: Sequence[str], article_id: str) -> str:
    """The coding sheet of the rows as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        v = row.cells
        extra = {"article_id": article_id, "evidence": v["notes"] or v["event_id_cnty"], "coder": CODER}
        writer.writerow([extra.get(c, v.get(c, "")) for c in columns])
    return out.getvalue()


# --- checking the result ---------------------------------------------------------------------------


def _check_values(export: Export, row: ExportRow, countries: set[str]) -> None:
    """Countries and coordinates the place list is built from must be readable before anything is inferred."""
    v = row.cells
    if v["country"] not in countries:
        export.problem(
            "enum-error",
            "the country is not in the countries vocabulary (schemas/vocabularies/countries.csv).",
            row.line,
            "country",
            v["country"],
        )
    for column, bound in (("latitude", 90.0), ("longitude", 180.0)):
        try:
            number = float(v[column])
        except ValueError:
            number = float("nan")
        if not abs(number) <= bound:
            export.problem(
                "type-error",
                f"{column} must be a decimal number from -{bound:g} to {bound:g}.",
                row.line,
                column,
                v[column],
            )


def _check_registered(export: Export, registry: pd.DataFrame) -> None:
    first = dict(zip(registry["event_id_cnty"], registry["first_sheet"], strict=True))
    for row in export.good_rows:
        event_id = row.cells["event_id_cnty"]
        if event_id in first:
            export.problem(
                "registered-id",
                f"{event_id} is already in the id registry (first written to "
                f"{first[event_id]}): the event was imported or coded before. Drop the row from the "
                "export or correct the existing sheet.",
                row.line,
                "event_id_cnty",
                event_id,
            )


def check_rows(
    export: Export, rows: Sequence[ExportRow], sheet: Path, codebook: Codebook, references: References
) -> list[Problem]:
    """Validate the sheet as `eventdata validate` will read it, located at the export's lines and columns."""
    read = read_sheet(sheet, codebook.field_names, codebook.input_required_fields)
    frame = read.frame
    if read.problems or len(frame) != len(rows):
        raise RuntimeError(f"the generated sheet does not read back: {[p.format() for p in read.problems]}")
    for column in CHECKED_ONLY:
        frame[column] = pd.Series([r.cells.get(column) or None for r in rows], dtype=STRING_DTYPE)
    frame[SHEET_COLUMN] = export.name
    frame[LINE_COLUMN] = [r.line for r in rows]
    _, problems, _ = validate_events(frame, codebook, references)
    return locate(problems, export, rows)


def locate(problems: Sequence[Problem], export: Export, rows: Sequence[ExportRow]) -> list[Problem]:
    """Problems of the generated sheet shown at the export's columns and values.

    An interaction that disagrees only because an actor type does is not reported twice.
    """
    by_line = {r.line: r for r in rows}
    wrong_type = {p.line for p in problems if p.code == "derived-mismatch" and p.column in ("inter1", "inter2")}
    located = []
    for p in problems:
        row = by_line.get(p.line or 0)
        if p.file != export.name or row is None or p.column is None:
            located.append(p)
            continue
        if p.code == "derived-mismatch" and p.column == "interaction" and p.line in wrong_type:
            continue
        message = p.message
        if p.code == "derived-mismatch" and p.column in CHECKED_ONLY:
            message = (
                f"{message.split(';')[0]}, not ACLED's value; the import takes derived columns only where they agree."
            )
        value = row.raw.get(p.column) if p.column in export.headers else p.value
        located.append(Problem(p.code, message, p.file, p.line, export.headers.get(p.column, p.column), value))
    return located


def existing_rows_problems(
    project: Project, codebook: Codebook, before: References, after: References
) -> list[Problem]:
    """Problems the new places would cause in the dataset's sheets (a name that becomes ambiguous)."""
    frames = []
    for path in project.sheet_paths():
        frames.append(read_sheet(path, codebook.field_names, codebook.input_required_fields).frame)
        frames[-1][SHEET_COLUMN] = display_path(path)
    if not frames:
        return []
    raw = pd.concat(frames, ignore_index=True)
    seen = {(p.file, p.line, p.column, p.code) for p in validate_events(raw, codebook, before)[1]}
    return [
        Problem(p.code, f"importing the export would cause this: {p.message}", p.file, p.line, p.column, p.value)
        for p in validate_events(raw, codebook, after)[1]
        if (p.file, p.line, p.column, p.code) not in seen
    ]


# --- writing ---------------------------------------------------------------------------------------


def appended_csv(path: Path, header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """The text of a CSV file with rows added at the end, in the order of its own header."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    if not text.strip():
        text = ",".join(header) + newline
    own = [c.strip().removeprefix("\ufeff") for c in next(csv.reader([text.splitlines()[0]]))]
    if not text.endswith("\n"):
        text += newline
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    for row in rows:
        writer.writerow([row.get(c, "") for c in own])
    return text + out.getvalue()


def write_all(files: Mapping[Path, str]) -> None:
    """Write every file through a temporary file and os.replace; the originals come back if one fails."""
    originals = {path: path.read_bytes() if path.exists() else None for path in files}
    staged: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            staged[path] = temporary
        done: list[Path] = []
        try:
            for path, temporary in staged.items():
                os.replace(temporary, path)
                done.append(path)
        except OSError:
            for path in done:
                original = originals[path]
                if original is None:
                    path.unlink()
                else:
                    path.write_bytes(original)
            raise
    except OSError as err:
        raise SourceError(f"Cannot write the import ({err}); nothing was changed.") from err
    finally:
        for temporary in staged.values():
            if os.path.exists(temporary):
                os.unlink(temporary)


# --- the import ------------------------------------------------------------------------------------


def import_name(path: Path, name: str | None) -> str:
    """The name of the import (sheet acled-<name>.csv, article acled-<name>): given, or from the file name."""
    chosen = name if name is not None else re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")
    if not NAME_PATTERN.match(chosen):
        raise SourceError(f"Import name {chosen!r} must be lower-case letters, digits, '.', '_' or '-'; pass --name.")
    return chosen


@dataclass(frozen=True)
class Lists:
    """The dataset's lists as they are, and as the import would leave them."""

    before: References
    after: References
    actors: list[dict[str, str]]
    places: list[tuple[int, dict[str, str]]]
    texts: dict[Path, str]
    shared_names: bool  # a new place shares its name with a listed one: existing rows may become ambiguous


def _parse(project: Project, path: Path, codebook: Codebook) -> tuple[Export, pd.DataFrame]:
    """Read and normalise the export and check its ids against the registry."""
    export = read_export(path, codebook)
    if not export.problems and not export.rows:
        export.problem("empty-file", "the export has a header but no events.", 1)
    countries = set(codebook.vocabulary_values("countries.country"))
    taxonomy = Taxonomy.of(codebook)
    for row in export.rows:
        _normalise_row(export, row, taxonomy)
        _check_values(export, row, countries)
    registry = read_registry(project.id_registry)
    _check_registered(export, registry)
    return export, registry


def _data_rows(path: Path) -> int:
    """Rows below the header of a CSV file, as pandas counts them (blank lines skipped)."""
    if not path.is_file():
        return 0
    records = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return max(sum(1 for r in records if any(c.strip() for c in r)) - 1, 0)


def _candidate_lists(
    project: Project, export: Export, codebook: Codebook, registry: pd.DataFrame, staging: Path, article: Article
) -> Lists:
    """Infer the new actors and places, and load the lists as the import would leave them."""
    countries = codebook.vocabulary_values("countries.country")
    actors = load_actors(project.schemas_dir, countries)
    gazetteer, _ = load_places(project.schemas_dir, codebook.vocabulary("countries"))
    articles, _ = read_articles(project.articles_index, project.articles_dir)
    new_actors = infer_actors(export, export.good_rows, actors, set(countries))
    new_places = infer_places(export, export.good_rows, gazetteer)
    texts = {
        project.schemas_dir / "actors.csv": appended_csv(project.schemas_dir / "actors.csv", ACTOR_COLUMNS, new_actors),
        project.schemas_dir / "places.csv": appended_csv(
            project.schemas_dir / "places.csv", PLACES_HEADER, [p for _, p in new_places]
        ),
    }
    for target, text in texts.items():
        (staging / target.name).write_text(text, encoding="utf-8", newline="")
    after_places, place_problems = load_places(staging, codebook.vocabulary("countries"))
    first_new = _data_rows(project.schemas_dir / "places.csv") + 2  # places.csv numbers its rows from line 2
    for problem in place_problems:
        added = (problem.line or 0) - first_new
        if 0 <= added < len(new_places):
            message = f"adding this place to schemas/places.csv: {problem.message}"
            export.problem(problem.code, message, new_places[added][0], problem.column, problem.value)
    ids = pd.DataFrame({"event_id_cnty": [r.cells["event_id_cnty"] for r in export.good_rows]}, dtype="string")
    before = References(articles, actors, gazetteer, registry)
    after = References(
        articles | {article.article_id: article},
        load_actors(staging, countries),
        after_places,
        pd.concat([registry, ids], ignore_index=True),
    )
    listed = set(zip(gazetteer.names["country"], gazetteer.names["key"], strict=True))
    new_keys = _keys([p["location"] for _, p in new_places])
    shared = any((p["country"], k) in listed for (_, p), k in zip(new_places, new_keys, strict=True))
    return Lists(before, after, new_actors, new_places, texts, shared)


def source_article(export: Export, article_id: str, path: Path) -> Article:
    """The export as the article its rows cite (its text as written to `path`)."""
    rows = export.good_rows
    text = source_text(export, rows)
    data = text.encode("utf-8")
    return Article(
        article_id=article_id, title=f"ACLED export {export.path.name}", publisher=PUBLISHER, url="",
        published=published_date(rows), language="en", sha256=sha256_bytes(data), bytes=len(data), path=path,
        text=text,
    )  # fmt: skip


def outputs(
    project: Project, export: Export, lists: Lists, sheet: Path, sheet_csv: str, article: Article
) -> dict[Path, str]:
    """Every file the import writes, with its full new text."""
    entry = article_entry(export, article.article_id, article.text, article.published)
    ids = [{"event_id_cnty": r.cells["event_id_cnty"], "first_sheet": sheet.name} for r in export.rows]
    return dict(lists.texts) | {
        sheet: sheet_csv,
        article.path: article.text,
        project.articles_index: appended_csv(project.articles_index, list(entry), [entry]),
        project.id_registry: appended_csv(project.id_registry, ["event_id_cnty", "first_sheet"], ids),
    }


def import_acled(project: Project, path: Path, *, name: str | None = None) -> ImportResult:
    """Turn an ACLED export into a coding sheet and register its ids, actors, places and source.

    Writes nothing and returns the problems when the export (or the dataset with it) would not validate.
    """
    codebook = load_codebook(project.schemas_dir)
    article_id = f"acled-{import_name(Path(path), name)}"
    sheet = project.sheets_dir / f"{article_id}.csv"
    text_path = project.articles_dir / f"{article_id}.txt"
    for existing in (sheet, text_path):
        if existing.exists():
            raise SourceError(
                f"{display_path(existing)} exists: this export was imported before, and importing it again "
                "would duplicate its events. Choose another name (--name) only for another export."
            )
    export, registry = _parse(project, Path(path), codebook)
    if export.problems and not export.rows:
        return _result(export, sheet, article_id)
    article = source_article(export, article_id, text_path)
    with tempfile.TemporaryDirectory(prefix="eventdata-acled-") as tmp:
        staging = Path(tmp)
        lists = _candidate_lists(project, export, codebook, registry, staging, article)
        sheet_csv = sheet_text(export.good_rows, sheet_columns(codebook), article_id)
        (staging / "sheet.csv").write_text(sheet_csv, encoding="utf-8", newline="")
        export.problems += check_rows(export, export.good_rows, staging / "sheet.csv", codebook, lists.after)
        if lists.shared_names and not export.problems:
            export.problems += existing_rows_problems(project, codebook, lists.before, lists.after)
    if export.problems:
        return _result(export, sheet, article_id)
    write_all(outputs(project, export, lists, sheet, sheet_csv, article))
    return ImportResult(
        sheet=sheet,
        rows=len(export.rows),
        new_actors=tuple(dict.fromkeys(a["actor"] for a in lists.actors)),
        new_places=tuple(f"{p['location']} ({p['country']})" for _, p in lists.places),
        registered_ids=tuple(r.cells["event_id_cnty"] for r in export.rows),
        report=_report(export),
        article_id=article_id,
    )


def _report(export: Export) -> Report:
    return Report(tuple(sorted(export.problems, key=Problem.sort_key)), (export.name,), len(export.rows))


def _result(export: Export, sheet: Path, article_id: str) -> ImportResult:
    return ImportResult(sheet, len(export.rows), (), (), (), _report(export), article_id)

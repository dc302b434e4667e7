"""Normalising an export's values the documented way (see `eventdata.acled`).

Dates, actor types (inter1/inter2), interaction, event types from before ACLED's 2019 taxonomy,
civilian targeting and the combined disorder type; an unreadable cell becomes a located problem.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from eventdata.acled.export import Export, ExportRow
from eventdata.errors import SchemaFileError
from eventdata.schema import Codebook
from eventdata.sources.sheets import closest, read_records

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
#: Dates a spreadsheet rewrote: three numbers ('05-08-24', '03/02/2022') or a day, a month name and a
#: two-digit year ('5-Aug-24'). Each has several readings; a file is read only in a reading that fits all its rows.
NUMERIC_DATE = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})$")
SHORT_NAMED_DATE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]+)[ -](\d{2})$")
#: ACLED's data starts in 1997: a two-digit year 97-99 is 19xx, any other 20xx.
FIRST_YEAR = 1997
#: Unix time 0, from which ACLED's timestamps count seconds.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NORMALISATIONS_FILE = "acled_normalisations.csv"
NORMALISATION_COLUMNS = ("column", "value", "correct", "sub_event_type", "source")


# --- values ----------------------------------------------------------------------------------------


def _seconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=1)


def timestamp_range(codebook: Codebook) -> range:
    """The Unix times the codebook allows: the timestamp's bounds, within the years of the year column.

    Without bounds in the codebook, the years a date can have (1 to 9999).
    """
    stamp = _constraints(codebook, "timestamp")
    years = _constraints(codebook, "year")
    first = datetime(max(int(years.get("minimum", 1)), 1), 1, 1, tzinfo=UTC)
    last = datetime(min(int(years.get("maximum", 9999)), 9999), 12, 31, 23, 59, 59, tzinfo=UTC)
    low, high = _seconds(first), _seconds(last)
    if "minimum" in stamp:
        low = max(low, int(stamp["minimum"]))
    if "maximum" in stamp:
        high = min(high, int(stamp["maximum"]))
    return range(low, high + 1)


def _constraints(codebook: Codebook, name: str) -> dict[str, Any]:
    try:
        return dict(codebook.field(name).get("constraints", {}))
    except KeyError:
        return {}


#: Every Unix time of a date (years 1 to 9999): the range of a codebook without bounds.
DATE_SECONDS = range(
    _seconds(datetime(1, 1, 1, tzinfo=UTC)), _seconds(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)) + 1
)


def timestamp_day(text: str, allowed: range = DATE_SECONDS) -> date | None:
    """The UTC day of a Unix time cell within ``allowed``, or None (not whole seconds, or out of range)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 20:  # no date is longer, and int() of one is slow
        return None
    seconds = int(text)
    return (EPOCH + timedelta(seconds=seconds)).date() if seconds in allowed else None


def check_timestamp(export: Export, row: ExportRow, allowed: range) -> None:
    """A timestamp must be a Unix time in whole seconds within the range the codebook allows."""
    text = row.cells.get("timestamp", "")
    if not text:
        return
    first, last = (EPOCH + timedelta(seconds=s) for s in (allowed.start, allowed.stop - 1))
    rule = (
        f"timestamp must be a Unix time (whole seconds) from {allowed.start} to {allowed.stop - 1} "
        f"({first:%Y-%m-%d} to {last:%Y-%m-%d %H:%M:%S} UTC, the years the codebook allows)."
    )
    if not (text.isascii() and text.isdigit()):
        export.problem("type-error", rule, row.line, "timestamp", text)
    elif timestamp_day(text, allowed) is None:
        low = len(text) <= len(str(allowed.start)) and int(text) < allowed.start  # a long cell is never below
        export.problem("minimum-error" if low else "maximum-error", rule, row.line, "timestamp", text)


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


def _year(text: str) -> int | None:
    if len(text) == 4:
        return int(text)
    if len(text) == 2:
        return (1900 if 1900 + int(text) >= FIRST_YEAR else 2000) + int(text)
    return None


def _day(year: int | None, month: int | None, day: int) -> date | None:
    if year is None or month is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


#: The readings of each spreadsheet date shape: name → (pattern, groups → date or None).
DateReading = Callable[[tuple[str, str, str]], date | None]
READINGS: dict[str, tuple[re.Pattern[str], dict[str, DateReading]]] = {
    "numeric": (
        NUMERIC_DATE,
        {
            "day-month-year": lambda g: _day(_year(g[2]) if len(g[0]) <= 2 else None, int(g[1]), int(g[0])),
            "month-day-year": lambda g: _day(_year(g[2]) if len(g[0]) <= 2 else None, int(g[0]), int(g[1])),
            "year-month-day": lambda g: _day(_year(g[0]) if len(g[2]) <= 2 else None, int(g[1]), int(g[2])),
        },
    ),
    "named": (
        SHORT_NAMED_DATE,
        {
            "day-month-year": lambda g: _day(_year(g[2]), MONTHS.get(g[1].casefold()), int(g[0])),
            "year-month-day": lambda g: _day(_year(g[0]), MONTHS.get(g[1].casefold()), int(g[2])),
        },
    ),
}


def read_dates(export: Export, allowed: range = DATE_SECONDS) -> None:
    """Rewrite every row's event_date as ISO, reading spreadsheet dates in the one order that fits the file.

    ISO and named-month dates with a four-digit year read alone. Dates a spreadsheet rewrote
    ('5-Aug-24', '05-08-24', '03/02/2022') have several readings: a reading must give a real date on
    every such row (and the row's ``year`` where the export has one). When exactly one reading fits all
    rows, the file is read that way; when several do, the rows they read differently are ambiguous.
    A reading fits a row when it gives a real date from 1997 (ACLED's first year) on, in the row's
    ``year`` and not after the row's ACLED ``timestamp`` (one within ``allowed``), where the export has them.
    """
    shaped: dict[str, list[tuple[ExportRow, tuple[str, str, str]]]] = defaultdict(list)
    for row in export.rows:
        text = row.cells["event_date"]
        iso = parse_date(text)
        if iso is not None:
            row.cells["event_date"] = iso
            continue
        for shape, (pattern, _) in READINGS.items():
            match = pattern.match(text)
            if match:
                shaped[shape].append((row, (match.group(1), match.group(2), match.group(3))))
                break
        else:
            _date_problem(export, row)
    for shape, cases in shaped.items():
        _read_shape(export, READINGS[shape][1], cases, allowed)


def _read_shape(
    export: Export,
    readings: Mapping[str, DateReading],
    cases: Sequence[tuple[ExportRow, tuple[str, str, str]]],
    allowed: range = DATE_SECONDS,
) -> None:
    def fits(row: ExportRow, day: date | None) -> bool:
        """A real date from 1997 on, in the row's year, and not after ACLED's timestamp of the row."""
        year = row.cells.get("year", "")
        stamp = timestamp_day(row.cells.get("timestamp", ""), allowed)
        return (
            day is not None
            and day.year >= FIRST_YEAR
            and (not year.isdigit() or int(year) == day.year)
            and (stamp is None or day <= stamp)
        )

    read = {name: [reading(groups) for _, groups in cases] for name, reading in readings.items()}
    readable = [any(fits(row, read[n][i]) for n in read) for i, (row, _) in enumerate(cases)]
    fitting = [n for n in read if all(fits(row, read[n][i]) or not readable[i] for i, (row, _) in enumerate(cases))]
    for i, (row, _) in enumerate(cases):
        text = row.cells["event_date"]
        if not readable[i]:
            _date_problem(export, row)
            continue
        options = {n: read[n][i] for n in (fitting or read) if fits(row, read[n][i])}
        if len(set(options.values())) == 1 and fitting:
            row.cells["event_date"] = next(iter(options.values())).isoformat()  # type: ignore[union-attr]  # fits() excludes None
            continue
        shown = "; ".join(f"{d.isoformat()} ({n})" for n, d in options.items() if d is not None)
        reason = (
            "no single order reads every such date in the export"
            if not fitting
            else f"the export's other dates do not settle the order ({', '.join(fitting)} fit them all)"
        )
        export.problem(
            "ambiguous-date",
            f"{text!r} reads as {shown}, and {reason}; write the dates as YYYY-MM-DD "
            "(download the export again, or format the column as a date before saving).",
            row.line,
            "event_date",
            text,
        )


def _date_problem(export: Export, row: ExportRow) -> None:
    text = row.cells["event_date"]
    export.problem(
        "type-error",
        "not a date ACLED writes (2022-02-03, 03 February 2022, 3-February-2022) or a spreadsheet's "
        "rewriting of one (5-Aug-24, 05-08-24).",
        row.line,
        "event_date",
        text,
    )


@dataclass(frozen=True)
class Normalisation:
    """A known ACLED vocabulary error (schemas/acled_normalisations.csv): value → correct value, and why."""

    column: str
    value: str
    correct: str
    sub_event_type: str  # '' for every row
    source: str


def load_normalisations(schemas_dir: Path, codebook: Codebook) -> list[Normalisation]:
    """The codebook's table of ACLED vocabulary errors and their corrections (none when the file is absent)."""
    path = schemas_dir / NORMALISATIONS_FILE
    if not path.is_file():
        return []
    header, rows = read_records(path, SchemaFileError, "The ACLED normalisations")
    if header != list(NORMALISATION_COLUMNS):
        raise SchemaFileError(f"{path}: the header must be {','.join(NORMALISATION_COLUMNS)}.")
    reference = codebook.field("sub_event_type").get("eventdata", {}).get("vocabulary")
    sub_event_types = set(codebook.vocabulary_values(str(reference))) if reference else set()
    table = []
    for line, cells in rows:
        item = Normalisation(*((cells[i] if i < len(cells) else "").strip() for i in range(len(NORMALISATION_COLUMNS))))
        if item.column not in codebook.acled_field_names:
            raise SchemaFileError(f"{path}:{line}: {item.column!r} is not an ACLED column.")
        if not item.value or not item.correct or not item.source:
            raise SchemaFileError(f"{path}:{line}: a normalisation needs a value, its correct value and a source.")
        if item.sub_event_type and sub_event_types and item.sub_event_type not in sub_event_types:
            hint = closest(item.sub_event_type, sorted(sub_event_types))
            raise SchemaFileError(
                f"{path}:{line}: sub_event_type={item.sub_event_type!r} is not a sub-event type of the codebook, "
                f"so the correction would never apply.{hint}"
            )
        table.append(item)
    return table


def apply_normalisations(row: ExportRow, table: Sequence[Normalisation], applied: Counter[Normalisation]) -> None:
    """Correct the row's cells by the table, in its order (case-insensitively), counting each correction."""
    for item in table:
        cell = row.cells.get(item.column, "")
        if cell.casefold() != item.value.casefold():
            continue
        if item.sub_event_type and row.cells.get("sub_event_type") != item.sub_event_type:
            continue
        row.cells[item.column] = item.correct
        applied[item] += 1


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


def _normalise_row(
    export: Export,
    row: ExportRow,
    taxonomy: Taxonomy,
    table: Sequence[Normalisation] = (),
    applied: Counter[Normalisation] | None = None,
) -> None:
    """Rewrite one row's values the documented way (dates: `read_dates`, timestamps: `check_timestamp`).

    Unreadable cells become problems.
    """
    values, line = row.cells, row.line
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
    apply_normalisations(row, table, applied if applied is not None else Counter())
    _normalise_civilian_targeting(export, row)
    _normalise_disorder_type(row, taxonomy)


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

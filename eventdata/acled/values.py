"""Normalising an export's values the documented way (see `eventdata.acled`).

Dates, actor types (inter1/inter2), interaction, event types from before ACLED's 2019 taxonomy,
civilian targeting and the combined disorder type; an unreadable cell becomes a located problem.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from eventdata.acled.export import Export, ExportRow
from eventdata.schema import Codebook

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

"""Validation of coding sheets: types, the generated pandera schema, and named cross-field checks.

Bad data is a result, never an exception: every finding becomes a Problem located
at file, line and column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from eventdata import progress, reference
from eventdata.actors import ACTORS_FILE, ActorList, load_actors, resolve_actors
from eventdata.catalog import Release
from eventdata.deletions import deletion_file_problems, latest_release, undeclared_deletion_problems
from eventdata.derive import DERIVERS, country_id_prefix, country_iso3
from eventdata.errors import Problem, Report, SourceError
from eventdata.gazetteer import COORDINATE_TOLERANCE, FILLED, PLACES_FILE, Gazetteer, load_places, resolve_places
from eventdata.ids import DELETIONS_FILE, assign_ids, read_deletion_rows, read_registry, unregistered
from eventdata.project import Project, as_project
from eventdata.rules import load_severities, with_severities
from eventdata.schema import PANDAS_DTYPES, Codebook, load_codebook, to_pandera
from eventdata.sources.articles import Article, listed_article_ids, read_articles
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, closest, display_path, read_sheet
from eventdata.terms import terms_vocabulary

INTEGER = re.compile(r"^[+-]?\d{1,18}$")
TOO_LONG_INTEGER = re.compile(r"^[+-]?\d{19,}$")
LATEST = "latest"
NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVIDENCE_SEPARATOR = re.compile(r"\s*(?:\.\.\.|…)\s*")
UNKNOWN_ACTOR_FIX = (
    "A new actor is added to schemas/actors.csv as a row: actor (the canonical name), inter (its actor type "
    "1-8), country, start_date and end_date (YYYY-MM-DD, or empty), aliases (separated by '; ')."
)
TYPE_HINTS = {
    "integer": "expected a whole number such as 3",
    "number": "expected a decimal number with a point, such as 36.2119",
    "date": "expected a real date written YYYY-MM-DD, such as 2022-02-03",
}


@dataclass(frozen=True)
class References:
    """What rows are checked against besides the codebook: articles, actors, places and assigned ids."""

    articles: dict[str, Article] = field(default_factory=dict)
    actors: ActorList | None = None
    gazetteer: Gazetteer | None = None
    registry: pd.DataFrame | None = None
    deleted: dict[str, str] = field(default_factory=dict)  # id → reason (seeds/deletions.csv)
    listed_articles: frozenset[str] = frozenset()  # ids in the article index, usable or not


@dataclass(frozen=True)
class Validation:
    """What validation found, and the parsed events (meaningful only when the report is valid)."""

    report: Report
    events: pd.DataFrame
    articles: dict[str, Article] = field(default_factory=dict)
    codebook: Codebook | None = None
    new_ids: pd.DataFrame | None = None  # ids given to rows that had none: event_id_cnty, _sheet, _line
    sheets: dict[str, Path] = field(default_factory=dict)  # shown name → path


class Findings:
    """Collects problems, locating frame rows by their sheet and line."""

    def __init__(self, events: pd.DataFrame, absent: set[tuple[str, str]] | None = None) -> None:
        self.raw = events  # the cells as typed, shown in messages
        self.events = events
        self.problems: list[Problem] = []
        self.cells: dict[tuple[int, str], str] = {}  # cell → code of its first problem
        self.absent = absent or set()  # (sheet, column) already reported as missing-column

    @property
    def rows(self) -> set[int]:
        return {index for index, _ in self.cells}

    def add_rows(
        self,
        mask: pd.Series | np.ndarray,
        code: str,
        column: str,
        message: str | Callable[[pd.Series], str],
    ) -> None:
        """One problem for every row where mask is true; message may depend on the row."""
        chosen = np.asarray(mask, dtype=bool)
        if not chosen.any():
            return
        selected = self.events[chosen]
        for index, row in selected.iterrows():
            self.add(int(index), code, column, message(row) if callable(message) else message)  # type: ignore[call-overload]  # index is an int label

    def add(self, index: int, code: str, column: str, message: str, value: Any = None) -> None:
        """Record a problem, unless its cell already has one of another kind (one mistake, one problem)."""
        row = self.events.loc[index]
        if code == "required-error" and (str(row[SHEET_COLUMN]), column) in self.absent:
            return
        first = self.cells.get((index, column))
        if first is not None and first != code:
            return
        if value is None:
            typed = self.raw.at[index, column] if column in self.raw.columns else None
            value = typed if typed is not None and not pd.isna(typed) else row.get(column)  # type: ignore[arg-type]  # a scalar cell
        self.problems.append(
            Problem(code, message, str(row[SHEET_COLUMN]), int(row[LINE_COLUMN]), column, _text(value))  # type: ignore[arg-type]  # a scalar cell
        )
        self.cells.setdefault((index, column), code)


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


# --- parsing -------------------------------------------------------------------------------


def parse_types(raw: pd.DataFrame, codebook: Codebook, findings: Findings) -> pd.DataFrame:
    """Each column converted to its Table Schema type; unreadable cells become missing and a type-error."""
    typed = raw.copy()
    for spec in codebook.fields:
        name, type_ = spec["name"], spec["type"]
        column = raw[name]
        if type_ == "string":
            continue
        present = column.notna()
        if type_ == "integer":
            ok = column.str.fullmatch(INTEGER.pattern).fillna(False).astype(bool)
            parsed = pd.to_numeric(column.where(ok), errors="coerce").astype("Int64")
        elif type_ == "number":
            ok = column.str.fullmatch(NUMBER.pattern).fillna(False).astype(bool)
            parsed = pd.to_numeric(column.where(ok), errors="coerce").astype("Float64")
        else:
            ok = column.str.fullmatch(DATE.pattern).fillna(False).astype(bool)
            parsed = pd.to_datetime(column.where(ok), format="%Y-%m-%d", errors="coerce").astype(PANDAS_DTYPES["date"])
            ok &= parsed.notna()
        bad = present & ~ok
        if type_ == "integer":
            long = bad & column.str.fullmatch(TOO_LONG_INTEGER.pattern).fillna(False).astype(bool)
            if long.any():
                maximum = spec.get("constraints", {}).get("maximum")
                limit = f"; {name} is at most {maximum}" if maximum is not None else ""
                findings.add_rows(
                    long,
                    "type-error",
                    name,
                    lambda row, n=name, m=limit: (  # type: ignore[misc]  # defaults bind the loop variables
                        f"the number has {len(str(row[n]).lstrip('+-'))} digits, too big for a whole number "
                        f"(at most 18 digits{m})."
                    ),
                )
                bad &= ~long
        if bad.any():
            findings.add_rows(bad, "type-error", name, f"{TYPE_HINTS[type_]}.")
        typed[name] = parsed
    return typed


def apply_derivations(events: pd.DataFrame, codebook: Codebook, findings: Findings, timestamp: int) -> pd.DataFrame:
    """Fill derivable columns; where a sheet typed one, it must equal the derived value."""
    derived = events.copy()
    for name in codebook.derived_fields:
        kind = codebook.derivation(name)
        if kind not in DERIVERS:
            continue
        computed = DERIVERS[kind](derived, codebook, timestamp).astype(events[name].dtype)
        given = events[name]
        differs = given.notna() & computed.notna() & (given != computed).fillna(False).astype(bool)
        if differs.any():
            findings.add_rows(
                differs,
                "derived-mismatch",
                name,
                lambda row, n=name, c=computed: (  # type: ignore[misc]  # defaults bind the loop variables
                    f"the tool derives {_text(c.loc[row.name])!r} from the other columns; "
                    f"leave {n} empty (or delete the column) and the tool fills it."
                ),
            )
        derived[name] = computed.where(computed.notna(), given)
    return derived


def event_day(events: pd.DataFrame, index: int) -> pd.Timestamp:
    """The event date of one row, as a Timestamp."""
    value: pd.Timestamp = pd.Timestamp(events.at[index, "event_date"])  # type: ignore[arg-type]  # a date cell
    return value


def _split(values: pd.Series) -> pd.Series:
    """'; '-separated lists exploded to one name per entry (index repeats)."""
    parts: pd.Series = values.str.split(";").explode().str.strip()
    return parts[parts.notna() & (parts != "")]


def apply_actors(events: pd.DataFrame, actors: ActorList, findings: Findings) -> pd.DataFrame:
    """Resolve actor names to canonical actors for the event date and derive inter1/inter2 (check 14)."""
    out = events.copy()
    names = actors.all_names
    for column, inter_column in (
        ("actor1", "inter1"),
        ("actor2", "inter2"),
        ("assoc_actor_1", None),
        ("assoc_actor_2", None),
    ):
        values = events[column]
        if inter_column is None:
            values = _split(values.dropna())
        if values.empty:
            continue
        resolution = resolve_actors(
            values, events.loc[values.index, "event_date"], events.loc[values.index, "country"], actors
        )
        for index, name in values[resolution.unknown.to_numpy()].items():
            hint = closest(str(name), names)
            findings.add(
                int(index),  # type: ignore[call-overload]  # an int label
                "unknown-actor",
                column,
                f"{name!r} is not in the actor list.{hint} {UNKNOWN_ACTOR_FIX}",
                name,
            )
        for kind, mask, text in (
            ("actor-not-active", resolution.inactive, "is not active on the event date; actors of that name:"),
            (
                "ambiguous-actor",
                resolution.ambiguous,
                "names several actors active on the event date; write the canonical name:",
            ),
        ):
            for position in np.flatnonzero(mask.to_numpy()):
                index = int(values.index[int(position)])
                name = values.iloc[position]
                others = actors.active_alternatives(str(name), event_day(events, index))
                hint = (
                    f" Did you mean {' or '.join(repr(o) for o in others)}?"
                    if others and kind == "actor-not-active"
                    else ""
                )
                findings.add(
                    index, kind, column, f"{name!r} {text} {resolution.candidates.iloc[position]}.{hint}", name
                )
        if inter_column is None:
            canonical = resolution.actor.fillna(values.astype("string"))
            renamed = canonical.index[(canonical != values.astype("string")).fillna(False).to_numpy(dtype=bool)]
            if len(renamed):  # re-join only the cells in which an alias was replaced by its canonical name
                rows = canonical.loc[canonical.index.isin(set(renamed))]
                joined = rows.groupby(level=0).agg("; ".join)
                out.loc[joined.index, column] = joined.astype(events[column].dtype)
            continue
        out[column] = resolution.actor.fillna(values).astype(events[column].dtype)
        derived = resolution.inter
        given = events[inter_column]
        differs = given.notna() & derived.notna() & (given != derived).fillna(False).astype(bool)
        findings.add_rows(
            differs,
            "derived-mismatch",
            inter_column,
            lambda row, d=derived, c=column: (  # type: ignore[misc]  # defaults bind the loop variables
                f"the actor list gives {row[c]!r} actor type {d.loc[row.name]} on this date and in this country; "
                "leave the column empty and the tool fills it."
            ),
        )
        out[inter_column] = derived.where(derived.notna(), given)
    return out


def _ambiguity_message(row: pd.Series, candidates: str) -> str:
    given = [f"{c} {row[c]!r}" for c in ("admin1", "admin2", "admin3") if not pd.isna(row[c])]
    if given:
        return (
            f"several places have this name ({candidates}) and none matches {', '.join(given)}; "
            "correct the admin names or coordinates, or add the place to schemas/places.csv."
        )
    return f"several places have this name: {candidates}; give admin1 (or coordinates) to choose one."


def apply_places(events: pd.DataFrame, gazetteer: Gazetteer, codebook: Codebook, findings: Findings) -> pd.DataFrame:
    """Resolve (country, location) to the place list; fill admin1-3 and coordinates, check any given."""
    out = events.copy()
    resolution = resolve_places(events, gazetteer)
    countries = codebook.vocabulary("countries")
    codes = countries["iso2"] if "iso2" in countries.columns else pd.Series("", index=countries.index)
    iso2 = dict(zip(countries["country"], codes, strict=True))
    known_country = events["country"].isin(set(iso2)).fillna(False).to_numpy(dtype=bool)
    for index in events.index[resolution.unknown.to_numpy() & known_country]:
        row = events.loc[index]
        hint = closest(str(row["location"]), gazetteer.candidates(str(row["country"])))
        # The dataset's own list answers a misspelling; GeoNames is asked only for places the list lacks.
        known = (
            []
            if hint
            else reference.suggest_places(
                str(row["location"]),
                iso2.get(str(row["country"]), ""),
                None if pd.isna(row["latitude"]) else float(row["latitude"]),
                None if pd.isna(row["longitude"]) else float(row["longitude"]),
            )
        )
        elsewhere = f" GeoNames knows: {'; '.join(known)}." if known else ""
        findings.add(
            int(index),
            "unknown-location",
            "location",
            f"{row['location']!r} is not in the place list for {row['country']}.{hint or ''}{elsewhere} "
            "Add new places to schemas/places.csv (name, admin1-3, coordinates, source).",
        )
    for index in events.index[resolution.ambiguous.to_numpy()]:
        findings.add(
            int(index),
            "ambiguous-location",
            "location",
            _ambiguity_message(events.loc[index], resolution.candidates.loc[index]),
        )
    found = resolution.place >= 0
    rows = resolution.place[found].to_numpy()
    places = gazetteer.places
    for column in FILLED:
        listed = pd.Series(places[column].to_numpy()[rows], index=events.index[found.to_numpy()])
        given = events.loc[found, column]
        if column in ("latitude", "longitude"):
            listed = listed.astype("Float64")
            differs = given.notna() & ((given - listed).abs() > COORDINATE_TOLERANCE).fillna(False)
        else:
            listed = listed.astype("string").mask(listed.astype("string") == "")
            differs = given.notna() & (given.str.casefold() != listed.str.casefold()).fillna(True)
        if differs.any():
            mask = pd.Series(False, index=events.index)
            mask.loc[differs.index[differs.to_numpy()]] = True
            findings.add_rows(
                mask,
                "derived-mismatch",
                column,
                lambda row, c=column, v=listed: (  # type: ignore[misc]  # defaults bind the loop variables
                    f"the place list gives {c} {_text(v.loc[row.name])!r} for {row['location']!r}; "
                    "leave it empty to take the listed value, or correct schemas/places.csv."
                ),
            )
        filled = events[column].copy()
        filled.loc[listed.index] = listed.where(listed.notna(), given).astype(events[column].dtype)
        out[column] = filled
    canonical = pd.Series(places["location"].to_numpy()[rows], index=events.index[found.to_numpy()])
    out.loc[canonical.index, "location"] = canonical.astype("string")
    return out


def apply_ids(
    events: pd.DataFrame, codebook: Codebook, registry: pd.DataFrame, deleted: dict[str, str], findings: Findings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give rows without an id the next free id of their country; ids in sheets must be registered, not deleted."""
    findings.add_rows(
        events["event_id_cnty"].isin(set(deleted)).fillna(False).to_numpy(dtype=bool),
        "deleted-id",
        "event_id_cnty",
        lambda row: (
            f"{row['event_id_cnty']} was deleted ({deleted[row['event_id_cnty']]}) and ids are never reused: leave "
            "event_id_cnty empty for a new event, or remove the id from seeds/deletions.csv to restore the event."
        ),
    )
    findings.add_rows(
        unregistered(events["event_id_cnty"], registry),
        "unregistered-id",
        "event_id_cnty",
        "ids are assigned by the tool: leave event_id_cnty empty for a new event (an id from an ACLED export "
        "is registered by `eventdata import acled`).",
    )
    assignment = assign_ids(events, registry, country_id_prefix(codebook))
    out = events.copy()
    out["event_id_cnty"] = assignment.ids.astype(events["event_id_cnty"].dtype)
    return out, assignment.new


# --- pandera -------------------------------------------------------------------------------


def check_with_pandera(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Run the schema generated from the Table Schema and turn its failure cases into problems."""
    generated = to_pandera(codebook)
    frame = events[codebook.field_names]
    try:
        generated.schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return
    seen: dict[tuple[str, str], str] = {}
    derived = set(codebook.derived_fields)
    rows_with_problems = findings.rows | {
        int(i)
        for i, c, k in zip(cases["index"], cases["column"], cases["check"], strict=True)
        if i is not None and not pd.isna(i) and not (k == "not_nullable" and c in derived)
    }
    for case in cases.itertuples(index=False):
        column, check, index = case.column, str(case.check), case.index
        if index is None or pd.isna(index):
            raise RuntimeError(f"pandera reported a failure without a row: {column} {check} {case.failure_case}")
        index = int(index)
        if (index, column) in findings.cells:
            continue  # already reported as a type error
        spec = codebook.field(str(column))
        value = case.failure_case
        if column in derived and index in rows_with_problems and _left_empty(findings, index, str(column)):
            continue  # a value the tool derived: the columns it is derived from are already reported
        if check == "not_nullable":
            findings.add(
                index, "required-error", column, f"{column} is required. {spec.get('description', '')}".strip()
            )
        elif check == "field_uniqueness":
            key = (str(column), str(value))
            if key not in seen:
                rows = events[events[column] == value]
                seen[key] = ", ".join(f"{s}:{n}" for s, n in zip(rows[SHEET_COLUMN], rows[LINE_COLUMN], strict=True))
            findings.add(
                index,
                "unique-error",
                column,
                f"{value} is used on several rows ({seen[key]}); each value must be unique.",
                value,
            )
        elif isinstance(case.check_number, int | np.integer) and (column, int(case.check_number)) in generated.checks:
            info = generated.checks[(column, int(case.check_number))]
            hint = ""
            if info.code == "enum-error":
                allowed = [str(v) for v in spec["constraints"]["enum"]]
                hint = closest(str(value), allowed) or (
                    f" Allowed: {', '.join(allowed)}."
                    if len(allowed) <= 12
                    else " See the vocabulary in `eventdata codebook`."
                )
            findings.add(index, info.code, column, f"{column} {info.rule}.{hint}", value)
        else:
            findings.add(index, "type-error", column, f"{column} failed {check}.", value)


def _left_empty(findings: Findings, index: int, column: str) -> bool:
    """True when the coder typed nothing in the cell (so its value, if any, was derived)."""
    if column not in findings.raw.columns:
        return True
    cell: Any = findings.raw.at[index, column]
    return cell is None or bool(pd.isna(cell))


# --- named cross-field and cross-file checks (CODEBOOK.md, "Checks a tool can enforce") ---------


def _codes(text: str) -> set[int]:
    return {int(v) for v in text.split(";") if v.strip()}


def check_sub_event_type(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """A sub-event type belongs to exactly one event type (check 1)."""
    table = codebook.vocabulary("sub_event_types")
    owner = dict(zip(table["sub_event_type"], table["event_type"], strict=True))
    expected = events["sub_event_type"].map(owner)
    known_type = events["event_type"].isin(set(table["event_type"])).fillna(False).astype(bool)
    bad = expected.notna() & known_type & (expected != events["event_type"]).fillna(False)
    by_type = table.groupby("event_type", sort=False)["sub_event_type"].agg(list).to_dict()
    findings.add_rows(
        bad,
        "sub-event-type-mismatch",
        "sub_event_type",
        lambda row: (
            f"{row['sub_event_type']!r} belongs to {owner[row['sub_event_type']]!r}, not {row['event_type']!r}. "
            f"Sub-event types of {row['event_type']}: {', '.join(by_type.get(row['event_type'], []))}."
        ),
    )


def check_actor2_inter2(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """actor2 is empty exactly when inter2 is 0 (check 3)."""
    no_actor2 = events["actor2"].isna()
    zero = (events["inter2"] == 0).fillna(False).astype(bool)
    inter_known = events["inter2"].notna()
    findings.add_rows(
        no_actor2 & inter_known & ~zero,
        "actor2-inter2-mismatch",
        "inter2",
        "inter2 must be 0 when actor2 is empty; name actor2 or set inter2 to 0.",
    )
    findings.add_rows(
        ~no_actor2 & zero,
        "actor2-inter2-mismatch",
        "inter2",
        "inter2 is 0 but actor2 is named; give actor2's actor type (1-8).",
    )


def check_actor_types(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Each event type admits certain actor types and may need a second actor (checks 4, 5, 7)."""
    table = codebook.vocabulary("event_types").set_index("event_type")
    types = codebook.vocabulary("actor_types")
    labels = dict(zip(types["inter"].astype(int), types["actor_type"], strict=True)) if "actor_type" in types else {}
    for event_type, rule in table.iterrows():
        rows = (events["event_type"] == event_type).fillna(False).astype(bool)
        if not rows.any():
            continue
        if rule["actor2"] == "required":
            findings.add_rows(
                rows & events["actor2"].isna(),
                "actor2-required",
                "actor2",
                f"{event_type} events need a second actor (actor2); code one-sided events as another event type.",
            )
        for column, allowed_text in (("inter1", rule["inter1"]), ("inter2", rule["inter2"])):
            allowed = _codes(allowed_text)
            values = events[column]
            checked = rows & values.notna()
            if column == "inter2":
                checked &= events["actor2"].notna()
            bad = checked & ~values.isin(allowed).fillna(False).astype(bool)
            rule_text = f"{event_type} events take {column} in {sorted(allowed)}"
            typed = findings.raw[column].notna().to_numpy(dtype=bool) if column in findings.raw.columns else True
            findings.add_rows(
                bad & typed, "inter-not-allowed", column, f"{rule_text}; see the actor types in the codebook."
            )
            # The code was derived from the actor list: the coder typed the actor, so the problem is named there.
            actor_column = "actor1" if column == "inter1" else "actor2"
            for index in events.index[(bad & ~typed).to_numpy(dtype=bool)]:
                code = int(values.loc[index])
                findings.add(
                    int(index),
                    "inter-not-allowed",
                    actor_column,
                    f"the actor list gives this actor {column} {code} ({labels.get(code, '?')}), but {rule_text}; "
                    "code the actor that took part, or another event type.",
                    events.at[index, actor_column],
                )


def check_civilian_targeting(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """civilian_targeting only where the sub-event type allows it, and always where it requires it (checks 5, 8)."""
    table = codebook.vocabulary("sub_event_types")
    rule = events["sub_event_type"].map(dict(zip(table["sub_event_type"], table["civilian_targeting"], strict=True)))
    targeted = events["civilian_targeting"].notna()
    never = (rule == "never").fillna(False).astype(bool)
    required = (rule == "required").fillna(False).astype(bool)
    findings.add_rows(
        never & targeted,
        "civilian-targeting-rule",
        "civilian_targeting",
        lambda row: f"{row['sub_event_type']} events are never coded as civilian targeting; leave it empty.",
    )
    findings.add_rows(
        required & ~targeted,
        "civilian-targeting-rule",
        "civilian_targeting",
        lambda row: f"{row['sub_event_type']} events target civilians: write 'Civilian targeting'.",
    )


def check_civilians_in_battle(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Civilians are never associated actors in a battle (check 6)."""
    battles = (events["event_type"] == "Battles").fillna(False).astype(bool)
    for column in ("assoc_actor_1", "assoc_actor_2"):
        civilians = events[column].str.contains(r"(?:^|; )Civilians \(", regex=True).fillna(False).astype(bool)
        findings.add_rows(
            battles & civilians,
            "civilians-in-battle",
            column,
            "civilians are never associated actors in a battle; "
            "code their harm as a separate Violence against civilians event.",
        )


def check_fatalities_allowed(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Peaceful protests and protests with intervention have no fatalities (check 9)."""
    table = codebook.vocabulary("sub_event_types")
    limits = {k: int(v) for k, v in zip(table["sub_event_type"], table["max_fatalities"], strict=True) if v != ""}
    limit = events["sub_event_type"].map(limits)
    bad = limit.notna() & (events["fatalities"] > limit).fillna(False).astype(bool)
    findings.add_rows(
        bad,
        "fatalities-not-allowed",
        "fatalities",
        lambda row: (
            f"{row['sub_event_type']} events have at most {limits[row['sub_event_type']]} fatalities; "
            "a protest with deaths is 'Excessive force against protesters' or a riot."
        ),
    )


def check_time_precision_date(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """A month-precision date is the 1st, 15th/16th or last day of the month (check 10)."""
    dates = events["event_date"]
    monthly = (events["time_precision"] == 3).fillna(False).astype(bool) & dates.notna()
    day = dates.dt.day
    ok = day.isin([1, 15, 16]) | dates.dt.is_month_end
    findings.add_rows(
        monthly & ~ok.fillna(True).astype(bool),
        "time-precision-date",
        "event_date",
        "with time_precision 3 (month) the date is the 15th, or the 1st or last day of the month.",
    )


def check_id_country_prefix(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """An event id starts with its country's ACLED code, or ISO3 if no other country's ids use it (check 13)."""
    prefixes = country_id_prefix(codebook)
    taken = set(prefixes.values())
    iso3 = {c: i for c, i in country_iso3(codebook).items() if i == prefixes[c] or i not in taken}
    expected = events["country"].map(prefixes)
    prefix = events["event_id_cnty"].str.extract(r"^([A-Za-z]+)", expand=False)
    other = events["country"].map(iso3)
    bad = expected.notna() & prefix.notna() & (prefix != expected).fillna(False) & (prefix != other).fillna(True)
    findings.add_rows(
        bad.astype(bool),
        "id-country-prefix",
        "event_id_cnty",
        lambda row: f"events in {row['country']} have ids starting with {expected.loc[row.name]}.",  # type: ignore[call-overload]  # row.name is the label
    )


class TextIndex:
    """Fast 'passage in text' for long articles: candidate positions by the first bytes of each word.

    The word starts of the UTF-8 text are sorted by their first 8 bytes (numpy), so a passage is
    looked up by binary search and compared only where a word starts with the same bytes.
    """

    KEY = 8
    SMALL = 20_000  # below this many characters a plain search is as fast

    def __init__(self, text: str) -> None:
        self.text = text
        self._data = b""
        self._keys: np.ndarray | None = None
        self._starts: np.ndarray | None = None

    @staticmethod
    def _key(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
        keys = np.zeros(len(starts), dtype=np.uint64)
        for i in range(TextIndex.KEY):
            keys |= data[starts + i].astype(np.uint64) << np.uint64(8 * (TextIndex.KEY - 1 - i))
        return keys

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None or self._starts is None:
            self._data = self.text.encode("utf-8")
            data = np.frombuffer(self._data, dtype=np.uint8)
            starts = np.concatenate([np.zeros(1, dtype=np.int64), np.flatnonzero(data == 0x20) + 1])
            starts = starts[starts + self.KEY <= len(data)]
            keys = self._key(data, starts)
            order = np.argsort(keys, kind="stable")
            self._keys, self._starts = keys[order], starts[order]
        return self._keys, self._starts

    def __contains__(self, passage: str) -> bool:
        wanted = passage.encode("utf-8")
        if len(self.text) < self.SMALL or len(wanted) < self.KEY:
            return passage in self.text
        keys, starts = self._index()
        key = self._key(np.frombuffer(wanted, dtype=np.uint8), np.zeros(1, dtype=np.int64))[0]
        low, high = np.searchsorted(keys, key, side="left"), np.searchsorted(keys, key, side="right")
        for position in starts[low:high].tolist():
            if self._data.startswith(wanted, position):
                return True
        return passage in self.text  # a passage that starts inside a word


def check_articles(
    events: pd.DataFrame,
    articles: dict[str, Article],
    findings: Findings,
    today: date,
    listed: frozenset[str] = frozenset(),
) -> None:
    """Each event cites known articles, quotes them, and is not dated after them or in the future (check 12).

    An article the index lists but that cannot be used (its text is missing, its date unreadable) is
    reported once, at the index; rows citing it get no second problem.
    """
    texts = {key: TextIndex(" ".join(a.text.split())) for key, a in articles.items()}
    published = {key: pd.Timestamp(a.published) for key, a in articles.items()}
    future = (events["event_date"] > pd.Timestamp(today)).fillna(False).astype(bool)
    findings.add_rows(future, "future-date", "event_date", f"the date is after today ({today.isoformat()}).")
    cited = events["article_id"].str.split("; ").explode()
    cited = cited[cited.notna() & (cited != "")]
    missing = ~cited.isin(set(articles))
    for index, article_id in cited[missing & ~cited.isin(set(listed))].items():
        hint = closest(str(article_id), list(articles))
        findings.add(
            int(index),  # type: ignore[call-overload]  # an int label
            "missing-article",
            "article_id",
            f"article {article_id!r} is not in seeds/articles.csv.{hint}",
            article_id,
        )
    earliest = pd.to_datetime(cited[~missing].map(published).groupby(level=0).min().reindex(events.index))
    after = (events["event_date"] > earliest).fillna(False).astype(bool) & ~future
    findings.add_rows(
        after,
        "date-after-publication",
        "event_date",
        lambda row: (
            f"the event is dated after its article was published ({earliest.loc[row.name].date().isoformat()})."  # type: ignore[call-overload]  # row.name is the label
        ),
    )
    # Rows repeat the same article and passage often (one article, many events): each pair is searched once.
    checked: dict[tuple[str, str], list[str]] = {}
    for index, article_cell, text in zip(
        events.index, events["article_id"].tolist(), events["evidence"].tolist(), strict=True
    ):
        if not isinstance(text, str) or not isinstance(article_cell, str):
            continue
        key = (article_cell, text)
        if key not in checked:
            cited_here = [a for a in article_cell.split("; ") if a]
            if any(a not in texts for a in cited_here) or not cited_here:
                checked[key] = []  # a missing article is reported above; its evidence cannot be checked
            else:
                checked[key] = [
                    passage
                    for passage in EVIDENCE_SEPARATOR.split(text)
                    if (wanted := " ".join(passage.split())) and not any(wanted in texts[a] for a in cited_here)
                ]
        for passage in checked[key]:
            findings.add(
                int(index),
                "evidence-not-found",
                "evidence",
                "this passage does not occur in the cited article(s); quote the text exactly "
                "(whitespace may differ; separate passages with ' ... ').",
                passage,
            )


CROSS_FIELD_CHECKS: tuple[Callable[[pd.DataFrame, Codebook, Findings], None], ...] = (
    check_sub_event_type,
    check_actor2_inter2,
    check_actor_types,
    check_civilian_targeting,
    check_civilians_in_battle,
    check_fatalities_allowed,
    check_time_precision_date,
    check_id_country_prefix,
)


# --- entry points ----------------------------------------------------------------------------


def validate_events(
    raw: pd.DataFrame,
    codebook: Codebook,
    references: References,
    *,
    today: date | None = None,
    timestamp: int = 0,
    absent: set[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """Validate sheet rows read as strings (with _sheet and _line).

    Returns the typed events (derived columns filled), the problems, and the ids given to rows without one.
    """
    raw = raw.reset_index(drop=True)
    checking = f"checking {len(raw):,} rows"
    findings = Findings(raw, absent)
    progress.stage(checking, "types")
    typed = parse_types(raw, codebook, findings)
    # An empty inter2 with no actor2 means "no second actor" (0).
    typed["inter2"] = typed["inter2"].mask(typed["inter2"].isna() & typed["actor2"].isna(), 0)
    findings.events = typed
    if references.actors is not None:
        progress.stage(checking, "actors")
        typed = apply_actors(typed, references.actors, findings)
        findings.events = typed
    if references.gazetteer is not None:
        progress.stage(checking, "places")
        typed = apply_places(typed, references.gazetteer, codebook, findings)
        findings.events = typed
    new_ids = pd.DataFrame(columns=["event_id_cnty", SHEET_COLUMN, LINE_COLUMN])
    if references.registry is not None:
        progress.stage(checking, "ids")
        typed, new_ids = apply_ids(typed, codebook, references.registry, references.deleted, findings)
        findings.events = typed
    progress.stage(checking, "derived columns")
    typed = apply_derivations(typed, codebook, findings, timestamp)
    findings.events = typed
    progress.stage(checking, "column rules")
    check_with_pandera(typed, codebook, findings)
    progress.stage(checking, "cross-field rules")
    for check in CROSS_FIELD_CHECKS:
        check(typed, codebook, findings)
    progress.stage(checking, "articles")
    check_articles(typed, references.articles, findings, today or datetime.now(UTC).date(), references.listed_articles)
    return typed, findings.problems, new_ids


def validate_project(
    project: Project | str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]] | None = None,
    *,
    today: date | None = None,
    timestamp: int = 0,
    previous: Release | None | str = LATEST,
) -> Validation:
    """Validate the article index and the given sheets (default: every sheet of the project).

    When every sheet is validated, events of the previous release (default: the latest) that no sheet
    holds must be listed in seeds/deletions.csv (`undeclared-deletion`).
    """
    project = as_project(project)
    codebook = load_codebook(project.schemas_dir)
    severities = load_severities(project.schemas_dir)
    if paths:
        sheet_paths = list(_expand(Path(p) for p in paths))
    elif not project.sheets_dir.is_dir():
        raise SourceError(
            f"{display_path(project.sheets_dir)} does not exist: coding sheets are read from "
            f"{display_path(project.sheets_dir)}/*.csv. Create the folder (it may be empty) or restore it."
        )
    else:
        sheet_paths = project.sheet_paths()
    articles, problems = read_articles(project.articles_index, project.articles_dir, terms_vocabulary(codebook))
    countries = codebook.vocabulary_values("countries.country")
    gazetteer, place_problems = load_places(project.schemas_dir, codebook.vocabulary("countries"))
    problems.extend(place_problems)
    registry = read_registry(project.id_registry)
    deletions_path = project.seeds_dir / DELETIONS_FILE
    deletions = read_deletion_rows(deletions_path)
    problems.extend(deletion_file_problems(deletions, set(registry["event_id_cnty"].str.strip()), deletions_path))
    deleted = dict(zip(deletions["event_id_cnty"].str.strip(), deletions["reason"].str.strip(), strict=True))
    references = References(
        articles=articles,
        actors=load_actors(project.schemas_dir, countries) if (project.schemas_dir / ACTORS_FILE).is_file() else None,
        gazetteer=gazetteer if (project.schemas_dir / PLACES_FILE).is_file() else None,
        registry=registry,
        deleted=deleted,
        listed_articles=frozenset(listed_article_ids(project.articles_index)),
    )
    if not paths:
        for unread in project.unread_sheet_files():
            kind = "folder" if unread.is_dir() else "file"
            problems.append(
                Problem(
                    "not-a-sheet",
                    f"this {kind} is not read: coding sheets are the files in {display_path(project.sheets_dir)} "
                    f"whose name ends in .csv (lower case), not in subfolders. Rename it to "
                    f"{unread.stem}.csv if it is a sheet, or move it out of the folder.",
                    display_path(unread),
                )
            )
    frames = []
    sheets: dict[str, Path] = {}
    written_back = [f["name"] for f in codebook.fields if f.get("eventdata", {}).get("derived") == "event_id"]
    id_column = written_back[0] if written_back else None
    for path in sheet_paths:
        sheet = read_sheet(path, codebook.field_names, codebook.input_required_fields, trailing_optional=id_column)
        problems.extend(sheet.problems)
        frame = sheet.frame
        frame[SHEET_COLUMN] = display_path(path)
        sheets[display_path(path)] = path
        frames.append(frame)
        progress.advance("sheets read", total=len(sheet_paths), detail=path.name)
    if frames:
        raw = pd.concat(frames, ignore_index=True)
    else:
        raw = pd.DataFrame({c: pd.Series([], dtype=PANDAS_DTYPES["string"]) for c in codebook.field_names})
        raw[LINE_COLUMN] = pd.Series([], dtype="int64")
        raw[SHEET_COLUMN] = pd.Series([], dtype="string")
    absent = {(p.file, p.column) for p in problems if p.code == "missing-column" and p.column}
    events, row_problems, new_ids = validate_events(
        raw, codebook, references, today=today, timestamp=timestamp, absent=absent
    )
    problems.extend(row_problems)
    if not paths:
        against = latest_release(project, codebook) if previous == LATEST else previous
        if isinstance(against, Release):
            current = [str(i) for i in events["event_id_cnty"].dropna()]
            problems.extend(undeclared_deletion_problems(project, against, current, set(deleted), registry))
    problems.extend(metadata_warnings(codebook))
    problems = with_severities(problems, severities)
    report = Report(
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        files=tuple(display_path(p) for p in sheet_paths),
        rows=len(events),
    )
    return Validation(report, events, articles, codebook, new_ids, sheets)


def metadata_warnings(codebook: Codebook) -> list[Problem]:
    """What schemas/dataset.json still lacks for a release to be publishable: description, licence, a creator."""
    dataset = codebook.dataset
    where = display_path(codebook.path / "dataset.json")
    found = []
    description = dataset.get("description")
    if not isinstance(description, str) or not description.strip():
        found.append(
            Problem(
                "metadata-missing",
                "the description is empty: write what the dataset covers (places, period, sources) in a sentence "
                "or two; it becomes the description of every release.",
                where,
                column="description",
                severity="warning",
            )
        )
    licences = [lic for lic in dataset.get("licenses") or [] if isinstance(lic, dict) and lic.get("name")]
    if not licences:
        found.append(
            Problem(
                "metadata-missing",
                'no licence: add one with an SPDX id, e.g. "licenses": [{"name": "CC-BY-4.0", '
                '"path": "https://creativecommons.org/licenses/by/4.0/", '
                '"title": "Creative Commons Attribution 4.0"}].',
                where,
                column="licenses",
                severity="warning",
            )
        )
    contributors = [c for c in dataset.get("contributors") or [] if isinstance(c, dict)]
    creators = [
        c for c in contributors if "creator" in (c.get("roles") or []) and (c.get("title") or c.get("familyName"))
    ]
    if not creators:
        found.append(
            Problem(
                "metadata-missing",
                'no contributor with the role "creator": add who made the dataset, e.g. "contributors": '
                '[{"title": "Your name or organisation", "roles": ["creator"]}].',
                where,
                column="contributors",
                severity="warning",
            )
        )
    return found


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.csv"))
        elif path.exists():
            yield path
        else:
            raise SourceError(f"{path} does not exist.")

"""The actor list (schemas/actors.csv): canonical ACLED-style names, actor types with validity periods, aliases.

Coders may type a canonical name or an alias; the tool resolves it for the event
date to one canonical actor and derives its actor type (inter code). State forces
acting outside their own country are External/Other forces (8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventdata.errors import SchemaFileError
from eventdata.sources.sheets import CsvFileError, closest, read_csv

if TYPE_CHECKING:
    from eventdata.pipeline import State

ACTORS_FILE = "actors.csv"
COLUMNS = ("actor", "inter", "country", "start_date", "end_date", "aliases")
TEMPLATE = "{country}"
STATE_FORCES = 1
EXTERNAL_FORCES = 8
OPEN_START = pd.Timestamp("0001-01-01")
OPEN_END = pd.Timestamp("9999-12-31")


@dataclass(frozen=True)
class ActorList:
    """Each actor period as a row, and every name (canonical or alias) that points to it."""

    periods: pd.DataFrame  # actor, inter, country, start, end
    names: pd.DataFrame  # key (casefolded name), actor, inter, country, start, end

    @property
    def canonical_names(self) -> list[str]:
        return sorted(set(self.periods["actor"]))

    @property
    def all_names(self) -> list[str]:
        """Canonical names first, then aliases, for suggestions."""
        canonical = self.canonical_names
        return canonical + sorted(set(self.names["name"]) - set(canonical))

    def active_alternatives(self, name: str, when: pd.Timestamp) -> list[str]:
        """Actors sharing a name or alias with `name` that are active on the date."""
        keys = set(self.names.loc[self.names["actor"] == name, "key"]) | {name.strip().casefold()}
        related = self.names[self.names["key"].isin(keys)]
        active = related[(related["start"] <= when) & (when <= related["end"])]
        return sorted(set(active["actor"]) - {name})


def load_actors(schemas_dir: Path, countries: list[str]) -> ActorList:
    """Read actors.csv, expanding '{country}' templates to every country of the vocabulary."""
    path = schemas_dir / ACTORS_FILE
    if not path.is_file():
        empty = _empty_periods()
        return ActorList(empty, empty.assign(key=pd.Series([], dtype="string"), name=pd.Series([], dtype="string")))
    try:
        records = read_csv(path)
    except CsvFileError as err:
        raise SchemaFileError(err.message(str(path))) from err
    header = records.header
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SchemaFileError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}.")
    rows = []
    for start, cells in records.rows:
        if len(cells) != len(header):
            raise SchemaFileError(f"{path}:{start}: {len(cells)} cells, but the header has {len(header)}.")
        rows.extend(_expand(dict(zip(header, cells, strict=True)), start, path, countries))
    periods = pd.DataFrame(rows, columns=["actor", "inter", "country", "start", "end", "aliases"])
    names = periods.assign(name=periods["actor"] + "; " + periods["aliases"].fillna(""))
    names["name"] = names["name"].str.split("; ")
    names = names.explode("name")
    names = names[names["name"].str.strip() != ""]
    names["key"] = names["name"].str.strip().str.casefold()
    names["name"] = names["name"].str.strip()
    names = names.drop(columns=["aliases"]).drop_duplicates()
    return ActorList(periods.drop(columns=["aliases"]), names.reset_index(drop=True))


def _empty_periods() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "actor": pd.Series([], dtype="object"),
            "inter": pd.Series([], dtype="int64"),
            "country": pd.Series([], dtype="object"),
            "start": pd.Series([], dtype="datetime64[ns]"),
            "end": pd.Series([], dtype="datetime64[ns]"),
        }
    )


def _day_or(text: str, default: pd.Timestamp) -> pd.Timestamp:
    text = text.strip()
    if not text:
        return default
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return pd.Timestamp(date.fromisoformat(text))


def _expand(record: dict[str, str], line: int, path: Path, countries: list[str]) -> list[tuple[object, ...]]:
    where = f"{path}:{line}"
    try:
        inter = int(record["inter"])
    except ValueError as err:
        raise SchemaFileError(f"{where}: inter {record['inter']!r} must be an actor type code 1-8.") from err
    if not 1 <= inter <= 8:
        raise SchemaFileError(f"{where}: inter {inter} must be an actor type code 1-8.")
    try:
        start = _day_or(record["start_date"], OPEN_START)
        end = _day_or(record["end_date"], OPEN_END)
    except ValueError as err:
        raise SchemaFileError(f"{where}: start_date/end_date must be real dates written YYYY-MM-DD, or empty.") from err
    if end < start:
        raise SchemaFileError(f"{where}: end_date is before start_date.")
    name, country, aliases = record["actor"].strip(), record["country"].strip(), record["aliases"]
    if not name:
        raise SchemaFileError(f"{where}: the actor name is empty.")
    if country not in ("", "*") and country not in countries:
        hint = get_close_matches(country, countries, n=1)
        raise SchemaFileError(
            f"{where}: country {country!r} is not in the countries vocabulary"
            + (f"; did you mean {hint[0]!r}?" if hint else ".")
        )
    if country == "*":
        if TEMPLATE not in name:
            raise SchemaFileError(f"{where}: country '*' needs '{TEMPLATE}' in the actor name.")
        return [(name.replace(TEMPLATE, c), inter, c, start, end, aliases.replace(TEMPLATE, c)) for c in countries]
    return [(name, inter, country, start, end, aliases)]


@dataclass(frozen=True)
class Resolution:
    """Actor names of one column resolved for each row's date."""

    actor: pd.Series  # canonical name, or NA where unresolved
    inter: pd.Series  # derived actor type, or NA
    unknown: pd.Series  # bool: no actor has this name
    inactive: pd.Series  # bool: the name exists but no actor of that name is active on the date
    ambiguous: pd.Series  # bool: several actors of that name are active on the date
    candidates: pd.Series  # for inactive/ambiguous rows: the actors of that name with their periods


def resolve_actors(
    names: pd.Series,
    dates: pd.Series,
    countries: pd.Series,
    actors: ActorList,
    *,
    state_forces: int = STATE_FORCES,
    external_forces: int = EXTERNAL_FORCES,
    factorized: tuple[Factorized, Factorized] | None = None,
) -> Resolution:
    """Resolve one actor column (vectorised): canonical name and inter code for each row.

    Each distinct (name, span of dates, country) is resolved once and the answer spread back to its rows: a span
    is the dates between two bounds of the periods of the actors the name may mean (_date_spans). factorized,
    when given, is (codes, distinct values) of the dates and of the countries (as pd.factorize gives them),
    found once for every actor column; dates and countries are then not read.
    """
    name_codes, distinct_names = pd.factorize(pd.Series(names).astype("string"), use_na_sentinel=True)
    if factorized is None:
        (date_codes, distinct_dates), (country_codes, distinct_countries) = _factorized(dates, countries)
    else:
        (date_codes, distinct_dates), (country_codes, distinct_countries) = factorized
    keys = pd.Series(distinct_names, dtype="string").str.strip().str.casefold()
    key_of = keys.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # na_value=None is valid
    combined = ((name_codes.astype(np.int64) + 1) * (len(distinct_dates) + 1) + (date_codes.astype(np.int64) + 1)) * (
        len(distinct_countries) + 1
    ) + (country_codes.astype(np.int64) + 1)
    triple, first = _first_rows(combined)
    # Dates between the same period bounds of a name resolve alike: each (name, span, country) is resolved once.
    spans, span_count = _date_spans(key_of, name_codes[first], date_codes[first], distinct_dates, actors.names)
    resolved_as, chosen = _first_rows(
        ((name_codes[first].astype(np.int64) + 1) * (span_count + 1) + (spans + 1)) * (len(distinct_countries) + 1)
        + (country_codes[first].astype(np.int64) + 1)
    )
    triple = resolved_as[triple]
    order = first[chosen]
    unique_names = name_codes[order]
    country_of = pd.Series(distinct_countries, dtype="string").to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # na_value=None is valid
    unique_countries = country_codes[order]
    date_values = pd.Series(distinct_dates).to_numpy()
    unique_dates = date_codes[order]
    resolved = _resolve_rows(
        pd.Series([key_of[c] if c >= 0 else None for c in unique_names.tolist()], dtype="object"),
        pd.Series(
            np.where(unique_dates >= 0, date_values[np.maximum(unique_dates, 0)], np.datetime64("NaT"))
            if len(date_values)
            else np.full(len(order), np.datetime64("NaT"), dtype="datetime64[ns]")
        ),
        pd.Series([country_of[c] if c >= 0 else None for c in unique_countries.tolist()], dtype="object"),
        unique_names >= 0,
        actors,
        state_forces,
        external_forces,
    )
    index = names.index

    def spread(series: pd.Series) -> pd.Series:
        if series.dtype == object:  # text as Python objects: a numpy take, kept as objects (no inference)
            return pd.Series(series.to_numpy()[triple], index=index, dtype=object, copy=False)
        return pd.Series(series.array.take(triple), index=index, copy=False)  # take made the copy

    return Resolution(
        actor=spread(resolved.actor),
        inter=spread(resolved.inter),
        unknown=spread(resolved.unknown),
        inactive=spread(resolved.inactive),
        ambiguous=spread(resolved.ambiguous),
        candidates=spread(resolved.candidates),
    )


Factorized = tuple[np.ndarray, Any]  # pd.factorize's (codes, distinct values)


def _first_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize's codes of the keys, and the position of each code's first row."""
    codes, distinct = pd.factorize(keys)
    first = np.zeros(len(distinct), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return codes, first


def _date_spans(
    key_of: np.ndarray, name_codes: np.ndarray, date_codes: np.ndarray, distinct_dates: Any, names: pd.DataFrame
) -> tuple[np.ndarray, int]:
    """Per row, a code for the span of its date between the period bounds of the actors its name may mean.

    Rows of one name whose dates fall between the same bounds resolve alike, so each distinct (name, span,
    country) is resolved once instead of each (name, date, country): (codes, one more than the largest code).
    Rows without a date or a name get -1.
    """
    rows = len(name_codes)
    if not len(distinct_dates) or not len(key_of):
        return np.full(rows, -1, dtype=np.int64), 0
    day = np.asarray(pd.Series(distinct_dates).to_numpy(dtype="datetime64[us]")).view(np.int64)
    coded = pd.DataFrame({"key": key_of, "code": np.arange(len(key_of))}).dropna()  # "Taliban", "taliban": one key
    listed = coded.merge(names[["key", "start", "end"]], on="key")
    owner = listed["code"].to_numpy(dtype=np.int64)
    start = np.asarray(listed["start"].to_numpy(dtype="datetime64[us]")).view(np.int64)
    after = np.asarray(listed["end"].to_numpy(dtype="datetime64[us]")).view(np.int64) + 1  # the first time past it
    times = np.unique(np.concatenate([day, start, after]))  # ranks: small numbers that keep the order
    bound_owner = np.concatenate([owner, owner])
    bound_rank = np.searchsorted(times, np.concatenate([start, after]))
    width = len(times) + 1
    bounds = np.sort(bound_owner * width + bound_rank)
    day_rank = np.searchsorted(times, day)
    known = (name_codes >= 0) & (date_codes >= 0)
    row_key = np.where(known, name_codes.astype(np.int64) * width + day_rank[np.maximum(date_codes, 0)], 0)
    spans = np.where(known, np.searchsorted(bounds, row_key, side="right"), -1)  # bounds before it, all names'
    return spans.astype(np.int64), len(bounds) + 1


def _factorized(dates: pd.Series, countries: pd.Series) -> tuple[Factorized, Factorized]:
    """pd.factorize of the dates and of the countries (as text), missing values coded -1."""
    return (
        pd.factorize(pd.Series(dates), use_na_sentinel=True),
        pd.factorize(pd.Series(countries).astype("string"), use_na_sentinel=True),
    )


def _resolve_rows(
    keys: pd.Series,
    dates: pd.Series,
    countries: pd.Series,
    present: np.ndarray,
    actors: ActorList,
    state_forces: int,
    external_forces: int,
) -> Resolution:
    """resolve_actors for rows given by their casefolded name keys (None where the cell is empty)."""
    frame = pd.DataFrame({"key": keys, "date": dates, "event_country": countries})
    frame["row"] = range(len(frame))
    present_frame = frame[present]
    merged = present_frame.merge(actors.names, on="key", how="left")
    known_rows = set(merged.loc[merged["actor"].notna(), "row"])
    active = merged[merged["actor"].notna() & (merged["start"] <= merged["date"]) & (merged["date"] <= merged["end"])]
    active = active.drop_duplicates(["row", "actor", "inter"])
    counts = active.groupby("row").size()
    single = active[active["row"].map(counts) == 1].set_index("row")
    size = len(frame)
    actor = pd.Series(pd.NA, index=range(size), dtype="string")
    inter = pd.Series(pd.NA, index=range(size), dtype="Int64")
    actor.loc[single.index] = single["actor"].astype("string")
    derived = single["inter"].astype("int64")
    abroad = (derived == state_forces) & (single["country"] != single["event_country"])
    inter.loc[single.index] = derived.mask(abroad, external_forces).astype("Int64")
    present_rows = pd.Series(False, index=range(size))
    present_rows.loc[present_frame["row"].to_numpy()] = True
    is_known = pd.Series(False, index=range(size))
    is_known.loc[list(known_rows)] = True
    resolved = actor.notna()
    ambiguous = pd.Series(False, index=range(size))
    ambiguous.loc[counts[counts > 1].index] = True
    candidates = pd.Series("", index=range(size), dtype="object")
    needs_candidates = (is_known & ~resolved).to_numpy()
    if needs_candidates.any():
        listed = merged[merged["row"].isin(set(frame.index[needs_candidates]))].drop_duplicates(
            ["row", "actor", "start"]
        )
        text = (
            listed.assign(
                label=listed["actor"] + " (" + listed["start"].map(_day) + " to " + listed["end"].map(_day) + ")"
            )
            .groupby("row")["label"]
            .agg("; ".join)
        )
        candidates.loc[text.index] = text
    return Resolution(
        actor=actor,
        inter=inter,
        unknown=present_rows & ~is_known,
        inactive=is_known & ~resolved & ~ambiguous & pd.Series(frame["date"].notna().to_numpy()),
        ambiguous=ambiguous,
        candidates=candidates,
    )


def _day(value: pd.Timestamp) -> str:
    if value in (OPEN_START, OPEN_END):
        return "open"
    return value.date().isoformat()


# --- the resolution step of validation ----------------------------------------------------------------

UNKNOWN_ACTOR_FIX = (
    "A new actor is added to schemas/actors.csv as a row: actor (the canonical name), inter (its actor type "
    "1-8), country, start_date and end_date (YYYY-MM-DD, or empty), aliases (separated by '; ')."
)
UNKNOWN_ACTOR = "{name!r} is not in the actor list.{hint} " + UNKNOWN_ACTOR_FIX
NOT_ACTIVE = "{name!r} is not active on the event date; actors of that name: {candidates}.{hint}"
AMBIGUOUS = "{name!r} names several actors active on the event date; write the canonical name: {candidates}."
TYPE_MISMATCH = (
    "the actor list gives {name!r} actor type {derived} on this date and in this country; "
    "leave the column empty and the tool fills it."
)
#: state.notes key: column of associated actors → per row, whether it names an actor of the civilians type.
CIVILIAN_ASSOCIATES = "civilian_associates"


def _explode(values: pd.Series, separator: str) -> pd.Series:
    """A list column as one name per entry (the row label repeats), each distinct cell split once."""
    present = values.dropna()
    if present.empty:
        return pd.Series([], dtype="string")
    codes, distinct = pd.factorize(present.to_numpy(dtype=object))
    parts = pd.Series(distinct, dtype="string").str.split(separator.strip()).explode().str.strip()
    parts = parts[parts.notna() & (parts != "")]
    cell = parts.index.to_numpy()
    counts = np.bincount(cell, minlength=len(distinct))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_row = counts[codes]
    rows = np.repeat(np.arange(len(codes)), per_row)
    within = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    taken = parts.to_numpy(dtype=object)[starts[codes[rows]] + within]
    return pd.Series(taken, index=present.index[rows], dtype="string")


def apply_actors(state: State) -> None:
    """Resolve actor names to canonical actors for the event date and derive their actor types (check 14)."""
    from eventdata.columns import columns, role_code, role_values, separator, vocabulary_column

    actors = state.references.actors
    assert actors is not None
    events, findings, codebook = state.events, state.findings, state.codebook
    out = events.copy(deep=False)
    declared = columns(codebook)
    country = vocabulary_column(codebook, "countries")
    day = next(f["name"] for f in codebook.fields if f["type"] == "date")
    state_forces = role_code(codebook, "actor_types", "state-forces")
    external_forces = role_code(codebook, "actor_types", "external-forces")
    civilians = {int(v) for v in role_values(codebook, "actor_types", "civilians")}
    names = actors.all_names
    hints: dict[str, str] = {}
    state.notes[CIVILIAN_ASSOCIATES] = {}
    targets: list[tuple[str, str | None, str | None]] = [(a.name, a.actor_type, None) for a in declared.actors]
    targets += [(c, None, separator(codebook, c)) for c in declared.associates]
    (day_codes, days), (country_codes, countries) = _factorized(events[day], events[country])
    for column, type_column, joined_by in targets:
        values = events[column] if joined_by is None else _explode(events[column], joined_by)
        if values.empty:
            continue
        rows = values.index.to_numpy()
        whole = joined_by is None
        resolution = resolve_actors(
            values,
            events[day],  # not read: factorized gives the rows' dates and countries
            events[country],
            actors,
            state_forces=state_forces,
            external_forces=external_forces,
            factorized=(
                ((day_codes, days), (country_codes, countries))
                if whole
                else ((day_codes[rows], days), (country_codes[rows], countries))
            ),
        )
        unknown = resolution.unknown.to_numpy(dtype=bool)
        if unknown.any():
            found = values[unknown].astype(str).tolist()
            for name in set(found) - set(hints):
                hints[name] = closest(name, names)
            findings.add(
                rows[unknown],
                "unknown-actor",
                column,
                UNKNOWN_ACTOR,
                {"name": found, "hint": [hints[n] for n in found]},
                found,
            )
        for kind, mask, template in (
            ("actor-not-active", resolution.inactive, NOT_ACTIVE),
            ("ambiguous-actor", resolution.ambiguous, AMBIGUOUS),
        ):
            chosen = mask.to_numpy(dtype=bool)
            if not chosen.any():
                continue
            found = values[chosen].astype(str).tolist()
            when = events[day].to_numpy()[rows[chosen]]
            alternatives = {}
            if kind == "actor-not-active":
                for name, moment in set(zip(found, when.tolist(), strict=True)):
                    others = actors.active_alternatives(name, pd.Timestamp(moment))
                    alternatives[(name, moment)] = (
                        f" Did you mean {' or '.join(repr(o) for o in others)}?" if others else ""
                    )
            findings.add(
                rows[chosen],
                kind,
                column,
                template,
                {
                    "name": found,
                    "candidates": resolution.candidates[chosen].tolist(),
                    "hint": [alternatives.get((n, m), "") for n, m in zip(found, when.tolist(), strict=True)],
                },
                found,
            )
        if joined_by is not None:
            flagged = resolution.inter.isin(civilians).fillna(False).to_numpy(dtype=bool)
            civilian = np.zeros(len(events), dtype=bool)
            civilian[rows[flagged]] = True
            state.notes[CIVILIAN_ASSOCIATES][column] = civilian
            canonical = resolution.actor.fillna(values.astype("string"))
            renamed = canonical.index[(canonical != values.astype("string")).fillna(False).to_numpy(dtype=bool)]
            if len(renamed):  # re-join only the cells in which an alias was replaced by its canonical name
                chosen_rows = canonical.loc[canonical.index.isin(set(renamed))]
                rejoined = chosen_rows.groupby(level=0).agg(joined_by.join)
                column_values = out[column].copy()
                column_values.loc[rejoined.index] = rejoined.astype(events[column].dtype)
                out[column] = column_values
            continue
        canonical = resolution.actor.fillna(values).astype(events[column].dtype)
        if not canonical.equals(events[column]):  # else the cells as typed are kept (no copy of the column)
            out[column] = canonical
        if type_column is None:
            continue
        derived = resolution.inter
        given = events[type_column]
        differs = (given.notna() & derived.notna() & (given != derived).fillna(False)).to_numpy(dtype=bool)
        if differs.any():
            findings.add(
                differs,
                "derived-mismatch",
                type_column,
                TYPE_MISMATCH,
                {"name": events[column][differs].astype(str).tolist(), "derived": derived[differs].tolist()},
            )
        out[type_column] = derived.where(derived.notna(), given)
    state.events = out

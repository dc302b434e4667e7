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

import pandas as pd

from eventdata.errors import SchemaFileError
from eventdata.sources.sheets import CsvFileError, read_csv

ACTORS_FILE = "actors.csv"
COLUMNS = ("actor", "inter", "country", "start_date", "end_date", "aliases")
TEMPLATE = "{country}"
STATE_FORCES = 1
EXTERNAL_FORCES = 8
OPEN_START = pd.Timestamp("1800-01-01")
OPEN_END = pd.Timestamp("2200-01-01")


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


def resolve_actors(names: pd.Series, dates: pd.Series, countries: pd.Series, actors: ActorList) -> Resolution:
    """Resolve one actor column (vectorised): canonical name and inter code for each row."""
    frame = pd.DataFrame({"key": names.str.strip().str.casefold(), "date": dates, "event_country": countries})
    frame["row"] = range(len(frame))
    present = frame[names.notna().to_numpy()]
    merged = present.merge(actors.names, on="key", how="left")
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
    abroad = (derived == STATE_FORCES) & (single["country"] != single["event_country"])
    inter.loc[single.index] = derived.mask(abroad, EXTERNAL_FORCES).astype("Int64")
    present_rows = pd.Series(False, index=range(size))
    present_rows.loc[present["row"].to_numpy()] = True
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
    index = names.index
    return Resolution(
        actor=actor.set_axis(index),
        inter=inter.set_axis(index),
        unknown=(present_rows & ~is_known).set_axis(index),
        inactive=(is_known & ~resolved & ~ambiguous & pd.Series(frame["date"].notna().to_numpy())).set_axis(index),
        ambiguous=ambiguous.set_axis(index),
        candidates=candidates.set_axis(index),
    )


def _day(value: pd.Timestamp) -> str:
    if value in (OPEN_START, OPEN_END):
        return "open"
    return value.date().isoformat()

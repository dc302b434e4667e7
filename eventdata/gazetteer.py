"""The dataset's place list (schemas/places.csv): resolve a coder's location to admin names and coordinates.

As ACLED does, the dataset keeps its own list of the small places conflict data
lives in; coders extend it. Sheets give `location` + `country`; the tool fills
admin1-3, latitude and longitude, and checks any it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from eventdata.errors import Problem, SchemaFileError
from eventdata.sources.sheets import display_path

PLACES_FILE = "places.csv"
COLUMNS = (
    "location", "alternate_names", "country", "admin1", "admin2", "admin3",
    "latitude", "longitude", "geonames_id", "coordinate_source",
)
FILLED = ("admin1", "admin2", "admin3", "latitude", "longitude")
COORDINATE_TOLERANCE = 0.005  # degrees (about 500 m): a coder's point this close to the listed one agrees


@dataclass(frozen=True)
class Gazetteer:
    """Places (one row each, with the line in places.csv) and every name that points to a place."""

    path: Path
    places: pd.DataFrame
    names: pd.DataFrame  # country, key (casefolded name), place (row of places)

    def candidates(self, country: str) -> list[str]:
        return self.places.loc[self.places["country"] == country, "location"].tolist()


def name_key(names: pd.Series) -> pd.Series:
    """Names compared case-insensitively, with runs of spaces collapsed."""
    return names.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def load_places(schemas_dir: Path, countries: set[str]) -> tuple[Gazetteer, list[Problem]]:
    """Read places.csv; every malformed entry is a problem located in places.csv."""
    path = schemas_dir / PLACES_FILE
    empty = pd.DataFrame({c: pd.Series([], dtype="string") for c in COLUMNS})
    if not path.is_file():
        return Gazetteer(path, empty.assign(_line=pd.Series([], dtype="int64")), _empty_names()), []
    try:
        raw = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise SchemaFileError(f"{path} cannot be read: {err}") from err
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaFileError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}.")
    raw = raw.apply(lambda c: c.str.strip())
    raw["_line"] = np.arange(2, len(raw) + 2)
    problems: list[Problem] = []
    name = display_path(path)
    latitude = pd.to_numeric(raw["latitude"], errors="coerce")
    longitude = pd.to_numeric(raw["longitude"], errors="coerce")
    checks = (
        (raw["location"] == "", "location", "required-error", "every place needs a name."),
        (~raw["country"].isin(countries), "country", "enum-error", "the country is not in the countries vocabulary."),
        (latitude.isna() | (latitude.abs() > 90), "latitude", "type-error", "latitude must be a number from -90 to 90."),
        (longitude.isna() | (longitude.abs() > 180), "longitude", "type-error", "longitude must be a number from -180 to 180."),
    )
    bad = pd.Series(False, index=raw.index)
    for mask, column, code, message in checks:
        for index in raw.index[mask.to_numpy()]:
            problems.append(Problem(code, message, name, int(raw.at[index, "_line"]), column, str(raw.at[index, column])))
        bad |= mask
    places = raw.assign(latitude=latitude, longitude=longitude)[~bad.to_numpy()].reset_index(drop=True)
    names = _names(places)
    duplicated = names.duplicated(["country", "key", "admin1"], keep=False)
    for _, group in names[duplicated].groupby(["country", "key", "admin1"]):
        lines = sorted(int(places.at[p, "_line"]) for p in group["place"].unique())
        if len(lines) > 1:
            problems.append(
                Problem("unique-error", f"the name is used by several places of one admin1 (lines {lines}); "
                        "give each place a distinct name such as 'Town - District'.", name, lines[-1], "location",
                        str(group["name"].iloc[0]))
            )
    return Gazetteer(path, places, names), problems


def _empty_names() -> pd.DataFrame:
    return pd.DataFrame({"country": [], "key": [], "place": [], "name": [], "admin1": []})


def _names(places: pd.DataFrame) -> pd.DataFrame:
    every = places["location"] + "; " + places["alternate_names"]
    exploded = every.str.split(";").explode().str.strip()
    exploded = exploded[exploded != ""]
    names = pd.DataFrame({"place": exploded.index.to_numpy(), "name": exploded.to_numpy()})
    names["country"] = places["country"].to_numpy()[names["place"]]
    names["admin1"] = places["admin1"].to_numpy()[names["place"]]
    names["key"] = name_key(names["name"]).to_numpy()
    return names.drop_duplicates(["country", "key", "place"]).reset_index(drop=True)


@dataclass(frozen=True)
class PlaceResolution:
    """For each row: the row of places it names (or -1), and whether the name was unknown or ambiguous."""

    place: pd.Series
    unknown: pd.Series
    ambiguous: pd.Series
    candidates: pd.Series  # for ambiguous rows: the places the name could be


def resolve_places(events: pd.DataFrame, gazetteer: Gazetteer) -> PlaceResolution:
    """Match (country, location) to the place list, using admin1 to tell same-named places apart."""
    frame = pd.DataFrame(
        {"country": events["country"].to_numpy(), "key": name_key(events["location"]).to_numpy(),
         "given_admin1": name_key(events["admin1"]).to_numpy()}
    )
    frame["row"] = np.arange(len(frame))
    present = frame[events["location"].notna().to_numpy() & events["country"].notna().to_numpy()]
    merged = present.merge(gazetteer.names[["country", "key", "place", "admin1"]], on=["country", "key"], how="inner")
    by_admin = merged["given_admin1"].isna() | (name_key(merged["admin1"]) == merged["given_admin1"]).fillna(False)
    merged = merged[by_admin.to_numpy()].drop_duplicates(["row", "place"])
    counts = merged.groupby("row").size()
    size = len(frame)
    place = np.full(size, -1, dtype="int64")
    single = merged[merged["row"].map(counts).to_numpy() == 1]
    place[single["row"].to_numpy()] = single["place"].to_numpy()
    ambiguous = np.zeros(size, dtype=bool)
    ambiguous[counts[counts > 1].index.to_numpy()] = True
    unknown = np.zeros(size, dtype=bool)
    unknown[present["row"].to_numpy()] = True
    unknown[merged["row"].to_numpy()] = False
    candidates = pd.Series("", index=range(size), dtype="object")
    if ambiguous.any():
        many = merged[ambiguous[merged["row"].to_numpy()]]
        labels = many["place"].map(lambda p: _label(gazetteer.places.loc[p]))
        joined = labels.groupby(many["row"].to_numpy()).agg("; ".join)
        candidates.loc[joined.index] = joined
    index = events.index
    return PlaceResolution(
        place=pd.Series(place, index=index),
        unknown=pd.Series(unknown, index=index),
        ambiguous=pd.Series(ambiguous, index=index),
        candidates=candidates.set_axis(index),
    )


def _label(place: pd.Series) -> str:
    return f"{place['location']} ({place['admin1']}, {place['latitude']:.4f}, {place['longitude']:.4f})"


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))

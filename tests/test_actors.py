"""The actor list: canonical names, aliases, actor types with validity periods, and their checks in validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eventdata.actors import STATE_FORCES, ActorList, _resolve_rows, load_actors, resolve_actors
from eventdata.errors import Report, SchemaFileError
from eventdata.project import Project
from eventdata.validate import Validation, validate_project
from tests.conftest import REPO

TODAY = date(2022, 3, 1)  # after every seed event
HEADER = "actor,inter,country,start_date,end_date,aliases,notes\n"
SDF = "SDF: Syrian Democratic Forces,2,Syria,2015-10-10,,SDF; Syrian Democratic Forces,Kurdish-led alliance.\n"
COUNTRIES = ["Afghanistan", "Iraq", "Pakistan", "Russia", "Syria", "United States"]
US_2017 = "Military Forces of the United States (2017-2021)"
US_2021 = "Military Forces of the United States (2021-)"


@pytest.fixture(scope="module")
def actors() -> ActorList:
    """The repository's actor list (schemas/actors.csv)."""
    return load_actors(REPO / "schemas", COUNTRIES)


@pytest.fixture(autouse=True)
def _in_dataset(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.root)


@pytest.fixture
def check(project: Project, edit_sheet: Callable[..., Path]) -> Callable[..., Validation]:
    """Edit the seed sheet ({row_index: {column: value}}; row 0 is line 2) and validate the project."""

    def run(changes: dict[int, dict[str, str]]) -> Validation:
        edit_sheet(changes)
        return validate_project(project, today=TODAY)

    return run


def located(report: Report) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.column, p.code) for p in report.problems]


def write_actors(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "actors.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def resolve(actors: ActorList, rows: list[tuple[str | None, str, str]]) -> pd.DataFrame:
    """resolve_actors over (name, date, country) rows, as one frame."""
    names, dates, countries = zip(*rows, strict=True)
    resolution = resolve_actors(
        pd.Series(names, dtype="string"),
        pd.Series(pd.to_datetime(list(dates))),
        pd.Series(countries, dtype="string"),
        actors,
    )
    return pd.DataFrame(
        {
            "actor": resolution.actor,
            "inter": resolution.inter,
            "unknown": resolution.unknown,
            "inactive": resolution.inactive,
            "ambiguous": resolution.ambiguous,
            "candidates": resolution.candidates,
        }
    )


# --- load_actors ---------------------------------------------------------------------------------------


def test_load_actors_expands_templates_for_every_country(actors: ActorList) -> None:
    civilians = actors.periods[actors.periods["actor"].str.startswith("Civilians (")]
    assert civilians[["actor", "inter", "country"]].to_dict("records") == [
        {"actor": f"Civilians ({c})", "inter": 7, "country": c} for c in COUNTRIES
    ]
    # Aliases are expanded too, and point to the actor of the same country.
    gunmen = actors.names[actors.names["name"] == "Unidentified gunmen (Iraq)"]
    assert gunmen[["actor", "country", "key"]].to_dict("records") == [
        {"actor": "Unidentified Armed Group (Iraq)", "country": "Iraq", "key": "unidentified gunmen (iraq)"}
    ]
    assert "Civilians ({country})" not in actors.all_names


def test_load_actors_names_are_canonical_names_and_aliases(actors: ActorList) -> None:
    sdf = actors.names[actors.names["actor"] == "SDF: Syrian Democratic Forces"]
    assert sorted(sdf["key"]) == [
        "sdf",
        "sdf: syrian democratic forces",
        "syrian democratic forces",
        "us-backed kurdish forces",
    ]
    # One alias, two actors: 'US forces' names each period of the US military.
    us = actors.names[actors.names["key"] == "us forces"]
    assert sorted(us["actor"]) == [US_2017, US_2021]
    names = actors.all_names
    assert names[: len(actors.canonical_names)] == actors.canonical_names
    assert {"US forces", "ISIS", "Daesh"} <= set(names[len(actors.canonical_names) :])
    assert actors.canonical_names.count("Taliban") == 1


def test_load_actors_validity_periods(actors: ActorList) -> None:
    taliban = actors.periods[actors.periods["actor"] == "Taliban"]
    assert [(r.inter, r.start.date().isoformat(), r.end.date().isoformat()) for r in taliban.itertuples()] == [
        (2, "1994-01-01", "2021-08-14"),
        (1, "2021-08-15", "9999-12-31"),  # an empty end_date is open: past any date a sheet can hold
    ]
    protesters = actors.periods[actors.periods["actor"] == "Protesters (Syria)"].iloc[0]
    assert (protesters["start"].year, protesters["end"].year) == (1, 9999)


def test_load_actors_without_a_file_is_empty(tmp_path: Path) -> None:
    empty = load_actors(tmp_path, COUNTRIES)
    assert empty.periods.empty
    assert empty.names.empty
    assert empty.all_names == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Kurdish forces,x,Syria,,,,\n", r"actors\.csv:3: inter 'x' must be an actor type code 1-8\."),
        ("Kurdish forces,,Syria,,,,\n", r"actors\.csv:3: inter '' must be an actor type code 1-8\."),
        ("Kurdish forces,9,Syria,,,,\n", r"actors\.csv:3: inter 9 must be an actor type code 1-8\."),
        ("Kurdish forces,0,Syria,,,,\n", r"actors\.csv:3: inter 0 must be an actor type code 1-8\."),
        (
            "Kurdish forces,2,Syria,2015-13-01,,,\n",
            r"actors\.csv:3: start_date/end_date must be real dates written YYYY-MM-DD, or empty\.",
        ),
        ("Kurdish forces,2,Syria,2015-10-10,2014-01-01,,\n", r"actors\.csv:3: end_date is before start_date\."),
        (" ,2,Syria,,,,\n", r"actors\.csv:3: the actor name is empty\."),
        ("Kurdish forces,2,*,,,,\n", r"actors\.csv:3: country '\*' needs '\{country\}' in the actor name\."),
        ("Kurdish forces,2,Syria,,,,,,\n", r"actors\.csv:3: 9 cells, but the header has 7\."),
    ],
)
def test_load_actors_malformed_entry_names_its_line(tmp_path: Path, body: str, message: str) -> None:
    write_actors(tmp_path, SDF + body)
    with pytest.raises(SchemaFileError, match=message):
        load_actors(tmp_path, COUNTRIES)


def test_load_actors_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "actors.csv").write_text("actor,inter,country\nSDF,2,Syria\n", encoding="utf-8")
    with pytest.raises(SchemaFileError, match=r"missing column\(s\) \['start_date', 'end_date', 'aliases'\]"):
        load_actors(tmp_path, COUNTRIES)


@pytest.mark.parametrize(
    "before",
    [SDF + "\n", 'SDF: Syrian Democratic Forces,2,Syria,2015-10-10,,SDF,"Kurdish-led\nalliance."\n'],
    ids=["blank-line", "multi-line-cell"],
)
def test_load_actors_error_line_counts_blank_lines_and_multi_line_cells(tmp_path: Path, before: str) -> None:
    write_actors(tmp_path, before + "Kurdish forces,9,Syria,,,,\n")
    with pytest.raises(SchemaFileError, match=r"actors\.csv:4: inter 9"):
        load_actors(tmp_path, COUNTRIES)


def test_load_actors_unknown_country_is_an_error(tmp_path: Path) -> None:
    write_actors(tmp_path, SDF + "Military Forces of Syria (2024-),1,Syira,2024-12-09,,,\n")
    with pytest.raises(SchemaFileError, match=r"actors\.csv:3: .*'Syira'"):
        load_actors(tmp_path, COUNTRIES)


def test_load_actors_start_date_must_be_a_full_date(tmp_path: Path) -> None:
    write_actors(tmp_path, SDF + "Kurdish forces,2,Syria,2021,,,\n")
    with pytest.raises(
        SchemaFileError, match=r"actors\.csv:3: start_date/end_date must be real dates written YYYY-MM-DD, or empty\."
    ):
        load_actors(tmp_path, COUNTRIES)


# --- resolve_actors ----------------------------------------------------------------------------------


def test_resolve_actors_alias_to_canonical_name(actors: ActorList) -> None:
    resolved = resolve(
        actors,
        [
            ("ISIS", "2022-02-03", "Syria"),
            ("  daesh ", "2022-02-03", "Syria"),
            ("Syrian Democratic Forces", "2022-02-03", "Syria"),
            ("SDF: Syrian Democratic Forces", "2022-02-03", "Syria"),
            ("Unidentified gunmen (Syria)", "2022-02-03", "Syria"),
        ],
    )
    assert resolved[["actor", "inter"]].values.tolist() == [
        ["Islamic State (Syria)", 2],
        ["Islamic State (Syria)", 2],
        ["SDF: Syrian Democratic Forces", 2],
        ["SDF: Syrian Democratic Forces", 2],
        ["Unidentified Armed Group (Syria)", 3],
    ]
    assert not resolved[["unknown", "inactive", "ambiguous"]].to_numpy().any()


def test_resolve_actors_date_picks_the_us_forces_period(actors: ActorList) -> None:
    resolved = resolve(
        actors,
        [
            ("US forces", "2019-10-27", "Syria"),
            ("US forces", "2021-01-19", "Syria"),
            ("US forces", "2021-01-20", "Syria"),
            ("Military Forces of the United States", "2022-02-03", "Syria"),
            ("US troops", "2022-02-03", "United States"),  # at home: state forces
        ],
    )
    assert resolved[["actor", "inter"]].values.tolist() == [
        [US_2017, 8],
        [US_2017, 8],
        [US_2021, 8],
        [US_2021, 8],
        [US_2021, 1],
    ]


def test_resolve_actors_taliban_type_changes_on_2021_08_15(actors: ActorList) -> None:
    resolved = resolve(
        actors,
        [
            ("Taliban", "2021-08-14", "Afghanistan"),
            ("Taliban", "2021-08-15", "Afghanistan"),
            ("taliban", "2023-01-01", "Afghanistan"),
            ("Taliban", "2020-06-01", "Pakistan"),  # a rebel group abroad stays a rebel group
            ("Taliban", "2023-01-01", "Pakistan"),  # state forces abroad are External/Other forces
        ],
    )
    assert resolved[["actor", "inter"]].values.tolist() == [
        ["Taliban", 2],
        ["Taliban", 1],
        ["Taliban", 1],
        ["Taliban", 2],
        ["Taliban", 8],
    ]


def test_resolve_actors_state_forces_abroad_are_external_forces(actors: ActorList) -> None:
    resolved = resolve(
        actors,
        [
            ("Russian forces", "2022-02-03", "Syria"),
            ("Russian forces", "2022-02-03", "Russia"),
            ("Syrian army", "2022-02-03", "Syria"),
            ("Syrian army", "2022-02-03", "Iraq"),
            ("ISIS", "2022-02-03", "Iraq"),  # a rebel group: never 8
        ],
    )
    assert resolved["inter"].tolist() == [8, 1, 1, 8, 2]


def test_resolve_actors_unknown_inactive_and_missing(actors: ActorList) -> None:
    resolved = resolve(
        actors,
        [
            ("US forcs", "2022-02-03", "Syria"),
            ("US forces", "2016-06-01", "Syria"),
            ("HTS", "2025-06-01", "Syria"),
            (None, "2022-02-03", "Syria"),
        ],
    )
    assert resolved[["unknown", "inactive", "ambiguous"]].values.tolist() == [
        [True, False, False],
        [False, True, False],
        [False, True, False],
        [False, False, False],
    ]
    assert resolved["actor"].isna().all()
    assert resolved["inter"].isna().all()
    assert resolved["candidates"].tolist() == [
        "",
        f"{US_2017} (2017-01-20 to 2021-01-19); {US_2021} (2021-01-20 to open)",
        "HTS: Hayat Tahrir al-Sham (2017-01-28 to 2025-01-29)",
        "",
    ]


def test_resolve_actors_name_shared_by_two_active_actors_is_ambiguous(tmp_path: Path) -> None:
    write_actors(
        tmp_path,
        "Military Forces of Syria (2000-2024),1,Syria,2000-07-17,2024-12-08,Syrian army,\n"
        "Free Syrian Army,2,Syria,2011-07-29,,Syrian army,\n",
    )
    resolved = resolve(load_actors(tmp_path, COUNTRIES), [("Syrian army", "2022-02-03", "Syria")])
    assert resolved[["actor", "unknown", "inactive", "ambiguous"]].values.tolist() == [[pd.NA, False, False, True]]
    assert resolved.at[0, "candidates"] == (
        "Military Forces of Syria (2000-2024) (2000-07-17 to 2024-12-08); Free Syrian Army (2011-07-29 to open)"
    )


def test_shipped_actor_list_has_one_actor_per_name_on_the_fall_of_assad(actors: ActorList) -> None:
    resolved = resolve(actors, [("Military Forces of Syria", "2024-12-08", "Syria")])
    assert resolved[["ambiguous", "inactive"]].values.tolist() == [[False, False]]


def test_resolve_actors_keeps_the_index_and_is_vectorised(actors: ActorList) -> None:
    size = 100_000
    index = pd.Index(np.arange(size) * 3 + 7)
    names = pd.Series(np.array(["US forces", "Taliban", "ISIS", "Nobody"])[np.arange(size) % 4], index=index)
    dates = pd.Series(pd.to_datetime(np.where(np.arange(size) % 8 < 4, "2019-05-01", "2022-05-01")), index=index)
    countries = pd.Series(np.where(np.arange(size) % 4 == 1, "Afghanistan", "Syria"), index=index)
    resolution = resolve_actors(names.astype("string"), dates, countries.astype("string"), actors)
    assert resolution.actor.index.equals(index)
    assert resolution.inter.index.equals(index)
    counts = pd.crosstab(resolution.actor.fillna("-"), resolution.inter.fillna(0)).stack()
    assert {k: v for k, v in counts.items() if v} == {
        ("-", 0): 25_000,
        ("Islamic State (Syria)", 2): 25_000,
        (US_2017, 8): 12_500,
        (US_2021, 8): 12_500,
        ("Taliban", 2): 12_500,
        ("Taliban", 1): 12_500,
    }
    assert int(resolution.unknown.sum()) == 25_000
    assert not resolution.inactive.any()
    assert not resolution.ambiguous.any()


def test_resolve_actors_with_dates_and_countries_factorized_once(actors: ActorList) -> None:
    """The rows' codes into the dates and countries of a whole table resolve as the rows' own values do."""
    dates = pd.Series(pd.to_datetime(["2019-05-01", "2022-05-01", None, "2019-05-01", "2022-05-01", "2010-01-01"]))
    countries = pd.Series(["Syria", "Afghanistan", "Syria", None, "Syria", "Afghanistan"], dtype="string")
    rows = np.array([4, 1, 1, 0, 2, 3, 5])
    names = pd.Series(["ISIS", "Taliban", "US forces", "US forces", "ISIS", "Taliban", "Taliban"], dtype="string")
    (date_codes, distinct_dates), (country_codes, distinct_countries) = (
        pd.factorize(dates, use_na_sentinel=True),
        pd.factorize(countries, use_na_sentinel=True),
    )
    shared = resolve_actors(
        names,
        dates,
        countries,
        actors,
        factorized=((date_codes[rows], distinct_dates), (country_codes[rows], distinct_countries)),
    )
    own = resolve_actors(names, dates.iloc[rows], countries.iloc[rows], actors)
    for field in ("actor", "inter", "unknown", "inactive", "ambiguous", "candidates"):
        pd.testing.assert_series_equal(getattr(shared, field), getattr(own, field), check_index=False)
    assert shared.actor.notna().sum() >= 3


PERIODS = (
    "Rebels,2,Syria,2019-01-01,2020-06-30,Fighters,\n"
    "Rebels,1,Syria,2020-07-01,,Fighters,\n"
    "Army,1,Syria,,2019-12-31,Fighters; the forces,\n"
    "Army,1,Iraq,2020-01-01,2020-01-01,The Forces,\n"
    "Militia,3,Iraq,,,,\n"
)
NAMES = ["Rebels", "rebels ", "Fighters", "FIGHTERS", "Army", "the forces", "The Forces", "Militia", "Nobody", None]


@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory) -> ActorList:
    """Overlapping periods, one-day periods, names shared by several actors and differing in case."""
    return load_actors(write_actors(tmp_path_factory.mktemp("periods"), PERIODS).parent, ["Iraq", "Syria"])


DAYS = ["2018-12-31", "2019-01-01", "2019-12-31", "2020-01-01", "2020-01-02", "2020-06-30", "2020-07-01", None]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(DAYS), st.sampled_from(["Syria", "Iraq", None])),
                min_size=1, max_size=120))  # fmt: skip
@example([("Army", "2020-01-01", "Iraq"), ("Army", "2020-01-02", "Iraq")])  # the day after a one-day period
def test_resolve_actors_once_per_date_span_equals_once_per_row(
    periods: ActorList, rows: list[tuple[str | None, str | None, str | None]]
) -> None:
    """Resolving each distinct (name, span between period bounds, country) once gives every row's own answer."""
    actors = periods
    names, days, countries = zip(*rows, strict=True)
    dates = pd.Series(pd.to_datetime(list(days)))
    resolved = resolve_actors(pd.Series(names, dtype="string"), dates, pd.Series(countries, dtype="string"), actors)
    keys = pd.Series([n.strip().casefold() if n is not None else None for n in names], dtype="object")
    present = np.array([n is not None for n in names])
    own = _resolve_rows(keys, dates, pd.Series(countries, dtype="object"), present, actors, STATE_FORCES, 8)
    for field in ("actor", "inter", "unknown", "inactive", "ambiguous", "candidates"):
        assert getattr(resolved, field).tolist() == getattr(own, field).tolist(), field


# --- through validate_project -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("US forcs", "'US forcs' is not in the actor list. Did you mean 'US forces'"),
        (
            "Islamic Stat (Syria)",
            "'Islamic Stat (Syria)' is not in the actor list. Did you mean 'Islamic State (Syria)'",
        ),
        (
            "Zzyzx Brigade",
            "'Zzyzx Brigade' is not in the actor list. A new actor is added to schemas/actors.csv as a row: actor "
            "(the canonical name), inter (its actor type 1-8), country, start_date and end_date (YYYY-MM-DD, or "
            "empty), aliases (separated by '; ').",
        ),
    ],
)
def test_validate_unknown_actor_suggests_the_closest(
    check: Callable[..., Validation], typed: str, message: str
) -> None:
    report = check({0: {"actor1": typed}}).report
    assert located(report) == [(2, "actor1", "unknown-actor")]
    assert report.problems[0].value == typed
    assert report.problems[0].message.startswith(message)


def test_validate_actor_not_active_suggests_the_active_period(check: Callable[..., Validation]) -> None:
    # Row 0 is dated 2022-02-03, row 11 2019-10-27: each names the other's period of the US military.
    report = check({0: {"actor1": US_2017}, 11: {"actor1": US_2021}}).report
    assert located(report) == [(2, "actor1", "actor-not-active"), (13, "actor1", "actor-not-active")]
    assert report.problems[0].message == (
        f"'{US_2017}' is not active on the event date; actors of that name: {US_2017} (2017-01-20 to 2021-01-19). "
        f"Did you mean '{US_2021}'?"
    )
    assert report.problems[1].message.endswith(f"Did you mean '{US_2017}'?")


def test_validate_typed_inter_that_disagrees_is_derived_mismatch(check: Callable[..., Validation]) -> None:
    report = check({0: {"inter1": "1", "inter2": "2"}, 1: {"inter1": "2", "inter2": "3"}}).report
    assert located(report) == [(2, "inter1", "derived-mismatch"), (3, "inter2", "derived-mismatch")]
    assert [p.value for p in report.problems] == ["1", "3"]
    assert report.problems[0].message == (
        f"the actor list gives '{US_2021}' actor type 8 on this date and in this country; "
        "leave the column empty and the tool fills it."
    )
    assert "'SDF: Syrian Democratic Forces' actor type 2" in report.problems[1].message


def test_validate_empty_inter_is_filled_and_aliases_normalised(check: Callable[..., Validation]) -> None:
    validation = check({0: {"actor1": "US troops", "actor2": "daesh"}, 11: {"actor1": "US forces", "inter1": "8"}})
    assert located(validation.report) == []
    events = validation.events
    columns = ["actor1", "inter1", "actor2", "inter2", "interaction"]
    assert events.loc[0, columns].tolist() == [US_2021, 8, "Islamic State (Syria)", 2, 28]
    assert events.loc[1, columns].tolist() == ["Islamic State (Syria)", 2, "SDF: Syrian Democratic Forces", 2, 22]
    assert events.loc[11, columns].tolist() == [US_2017, 8, "Islamic State (Syria)", 2, 28]


def test_validate_associated_actors_are_each_resolved(check: Callable[..., Validation]) -> None:
    validation = check(
        {
            0: {"assoc_actor_1": "SDF; Unidentified gunmen (Syria)", "assoc_actor_2": "ISIS"},
            1: {"assoc_actor_1": "Syrian army; Kurdish forcs", "assoc_actor_2": "US forcs"},
        }
    )
    assert located(validation.report) == [(3, "assoc_actor_1", "unknown-actor"), (3, "assoc_actor_2", "unknown-actor")]
    assert [p.value for p in validation.report.problems] == ["Kurdish forcs", "US forcs"]
    assert validation.report.problems[0].message.startswith(
        "'Kurdish forcs' is not in the actor list. Did you mean 'US-backed Kurdish forces'"
    )
    events = validation.events
    assert events.loc[0, ["assoc_actor_1", "assoc_actor_2"]].tolist() == [
        "SDF: Syrian Democratic Forces; Unidentified Armed Group (Syria)",
        "Islamic State (Syria)",
    ]
    assert events.loc[1, "assoc_actor_1"] == "Military Forces of Syria (2000-2024); Kurdish forcs"


def test_validate_without_an_actor_list_skips_actor_checks(
    project: Project, check: Callable[..., Validation], seed_rows: list[dict[str, str]]
) -> None:
    (project.schemas_dir / "actors.csv").unlink()
    inter = {
        index: {"inter1": "8" if "United States" in row["actor1"] else "2", "inter2": "2"}
        for index, row in enumerate(seed_rows)
    }
    inter[0].update({"actor1": "A group no list knows", "inter1": "3", "assoc_actor_1": "US forces"})
    validation = check(inter)
    assert located(validation.report) == []
    assert validation.events.loc[0, ["actor1", "assoc_actor_1", "interaction"]].tolist() == [
        "A group no list knows",
        "US forces",
        23,
    ]


def test_a_malformed_actor_list_names_the_file_and_its_real_line(project: Project) -> None:
    from click.testing import CliRunner

    from eventdata.cli import cli

    path = project.schemas_dir / "actors.csv"
    lines = path.read_text(encoding="utf-8").count("\n")
    with path.open("a", encoding="utf-8") as handle:
        handle.write('Militia X,"3,\n')

    result = CliRunner().invoke(cli, ["--project", str(project.root), "validate"])

    assert result.exit_code == 2
    assert (
        f"\nschemas/actors.csv:{lines + 1}: [source-error] malformed CSV in the record starting on this line "
        "(unexpected end of data); check for an unbalanced double quote.\n"
    ) in result.output
    assert "Vocabulary" not in result.output

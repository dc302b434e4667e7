"""Validation of coding sheets: every finding located at file, line and column, with a stable code.

Each test starts from the valid seed sheet (row index 0 is file line 2) and changes a few cells, so that the
expected problems can be listed exactly.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from eventdata.actors import load_actors
from eventdata.errors import PROBLEM_CODES, Problem, Report, SourceError
from eventdata.gazetteer import load_places
from eventdata.ids import read_registry
from eventdata.project import Project
from eventdata.schema import load_codebook
from eventdata.sources.articles import read_articles
from eventdata.sources.sheets import SHEET_COLUMN, read_sheet
from eventdata.validate import RULES, References, Validation, validate_events, validate_project
from tests.conftest import SEED_ARTICLE, read_rows, write_rows

SHEET = f"seeds/sheets/{SEED_ARTICLE}.csv"  # as shown in problems: relative to the dataset folder
TODAY = date(2022, 3, 1)  # after every seed event, so that no seed event is in the future
Located = list[tuple[int | None, str | None, str]]

# Realistic codings (CODEBOOK.md) to put over a seed row.
VIOLENCE_AGAINST_CIVILIANS = {
    "event_type": "Violence against civilians",
    "sub_event_type": "Attack",
    "actor2": "Civilians (Syria)",
    "civilian_targeting": "Civilian targeting",
}
PEACEFUL_PROTEST = {
    "event_type": "Protests",
    "sub_event_type": "Peaceful protest",
    "actor1": "Protesters (Syria)",
    "actor2": "",
    "fatalities": "0",
    "tags": "crowd size=no report",
}
AIR_STRIKE = {"event_type": "Explosions/Remote violence", "sub_event_type": "Air/drone strike"}

# A second article about the Atmeh raid of row 0, published a day after the seed article.
SECOND_ARTICLE = "001_atmeh_followup"
SECOND_TEXT = (
    "Rescue workers in Atmeh said on Friday that\n"
    "thirteen people were killed in the US raid,   among them six children.\n"
)


@pytest.fixture(autouse=True)
def _in_dataset(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the dataset folder, so that problems name files as a coder types them."""
    monkeypatch.chdir(project.root)


@pytest.fixture
def check(project: Project, edit_sheet: Callable[..., Path]) -> Callable[..., Report]:
    """Edit the seed sheet ({row_index: {column: value}}) and validate the project."""

    def run(changes: dict[int, dict[str, str]], *, today: date = TODAY) -> Report:
        edit_sheet(changes)
        return validate_project(project, today=today).report

    return run


def located(report: Report | list[Problem]) -> Located:
    problems = report.problems if isinstance(report, Report) else report
    return [(p.line, p.column, p.code) for p in problems]


def add_article(project: Project, article_id: str, text: str, published: str) -> None:
    """Put an article text in seeds/articles/ and list it, with its hash, in the article index."""
    path = project.articles_dir / f"{article_id}.txt"
    path.write_text(text, encoding="utf-8", newline="")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with project.articles_index.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            [article_id, "Atmeh raid toll", "unknown", "", published, "en", digest, ""]
        )


def register_id(project: Project, event_id: str) -> None:
    """Record an id in the id registry, as if the tool had assigned it."""
    with project.id_registry.open("a", encoding="utf-8", newline="") as handle:
        handle.write(f"{event_id},{SEED_ARTICLE}.csv\n")


# What the actor list and the place list give for the seed rows (schemas/actors.csv, schemas/places.csv).
ACTOR_TYPES = {
    "Military Forces of the United States (2021-)": 8,  # state forces outside their own country
    "Military Forces of the United States (2017-2021)": 8,
    "Islamic State (Syria)": 2,
    "SDF: Syrian Democratic Forces": 2,
}
PLACES = {
    "Atmeh": ("Idlib", "Harim", "Dana", 36.2119, 36.6851),
    "Al-Hasakah - Ghweran": ("Al-Hasakah", "Al-Hasakah", "Al-Hasakah", 36.4788, 40.7391),
    "Barisha": ("Idlib", "Harim", None, 36.1627, 36.6336),
}


def typed_out(seed_rows: list[dict[str, str]], changes: dict[int, dict[str, str]]) -> dict[int, dict[str, str]]:
    """changes over seed rows that type out inter1/inter2 and coordinates, for validating without the lists."""
    rows: dict[int, dict[str, str]] = {}
    for index, row in enumerate(seed_rows):
        *_, latitude, longitude = PLACES[row["location"]]
        rows[index] = {
            "inter1": str(ACTOR_TYPES[row["actor1"]]),
            "inter2": str(ACTOR_TYPES[row["actor2"]]),
            "latitude": str(latitude),
            "longitude": str(longitude),
            **changes.get(index, {}),
        }
    return rows


def validate_frame(
    project: Project, *, actors: bool = True, places: bool = True, registry: bool = True, today: date = TODAY
) -> list[Problem]:
    """validate_events on the project's seed sheet, with only some of the reference lists."""
    codebook = load_codebook(project.schemas_dir)
    articles, index_problems = read_articles(project.articles_index, project.articles_dir)
    assert index_problems == []
    countries = codebook.vocabulary_values("countries.country")
    references = References(
        articles=articles,
        actors=load_actors(project.schemas_dir, countries) if actors else None,
        gazetteer=load_places(project.schemas_dir, codebook)[0] if places else None,
        registry=read_registry(project.id_registry) if registry else None,
    )
    sheet = read_sheet(project.sheets_dir / f"{SEED_ARTICLE}.csv", codebook.field_names, codebook.input_required_fields)
    assert sheet.problems == ()
    raw = sheet.frame
    raw[SHEET_COLUMN] = SHEET
    _, problems, _ = validate_events(raw, codebook, references, today=today)
    return sorted(problems, key=Problem.sort_key)


# --- the seed dataset ---------------------------------------------------------------------------


def test_validate_seed_dataset_is_valid_and_derives_columns(project: Project, seed_rows: list[dict[str, str]]) -> None:
    validation = validate_project(project, today=TODAY, timestamp=1_700_000_000)
    assert isinstance(validation, Validation)
    report = validation.report
    assert report.problems == ()
    assert report.valid
    assert report.rows == len(seed_rows) == 12
    assert report.files == (SHEET,)
    events = validation.events
    assert events["event_id_cnty"].tolist() == [r["event_id_cnty"] for r in seed_rows]
    assert events["year"].tolist() == [int(r["event_date"][:4]) for r in seed_rows]
    assert set(events["disorder_type"]) == {"Political violence"}  # every seed event is an armed clash
    inter1 = [ACTOR_TYPES[r["actor1"]] for r in seed_rows]
    inter2 = [ACTOR_TYPES[r["actor2"]] for r in seed_rows]
    assert events["inter1"].tolist() == inter1
    assert events["inter2"].tolist() == inter2
    assert events["interaction"].tolist() == [10 * min(a, b) + max(a, b) for a, b in zip(inter1, inter2, strict=True)]
    assert set(events["interaction"]) == {22, 28}
    assert set(events["iso"]) == {760}
    assert set(events["region"]) == {"Middle East"}
    assert set(events["timestamp"]) == {1_700_000_000}
    places = [PLACES[r["location"]] for r in seed_rows]
    columns = ["admin1", "admin2", "admin3", "latitude", "longitude"]
    listed = [tuple(None if pd.isna(v) else v for v in row) for row in events[columns].itertuples(index=False)]
    assert listed == places


def test_validate_sheet_with_only_coder_columns_is_valid(project: Project, seed_rows: list[dict[str, str]]) -> None:
    codebook = load_codebook(project.schemas_dir)
    coder_columns = [c for c in codebook.field_names if c not in codebook.derived_fields]
    assert "event_id_cnty" not in coder_columns
    assert "year" not in coder_columns
    # Fresh events: no ids yet, so that the tool assigns the numbers after the last one in the registry.
    rows = [dict(r, event_id_cnty="") for r in seed_rows]
    path = write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", rows, coder_columns)
    before = path.read_bytes(), project.id_registry.read_bytes()
    last = max(int(r["event_id_cnty"].removeprefix("SYR")) for r in read_rows(project.id_registry))
    validation = validate_project(project, today=TODAY)
    assert located(validation.report) == []
    assert validation.events["event_id_cnty"].tolist() == [f"SYR{last + n}" for n in range(1, len(rows) + 1)]
    assert validation.events["year"].tolist() == [int(r["event_date"][:4]) for r in seed_rows]
    assert validation.new_ids is not None
    assert validation.new_ids["_line"].tolist() == list(range(2, len(rows) + 2))
    # Validation changes nothing: ids are written into the sheet and the registry by a build only.
    assert (path.read_bytes(), project.id_registry.read_bytes()) == before


def test_validate_sheet_without_optional_columns_is_valid(project: Project, seed_rows: list[dict[str, str]]) -> None:
    optional = {"assoc_actor_1", "assoc_actor_2", "civilian_targeting", "source_scale", "tags"}
    header = [c for c in seed_rows[0] if c not in optional]
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", seed_rows, header)
    assert located(validate_project(project, today=TODAY).report) == []


# --- Table Schema constraints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "hint"),
    [
        ("fatalities", "1.5", "expected a whole number such as 3."),
        ("fatalities", "13 dead", "expected a whole number such as 3."),
        ("geo_precision", "one", "expected a whole number such as 3."),
        ("latitude", "36,2119", "expected a decimal number with a point, such as 36.2119."),
    ],
)
def test_validate_type_error(check: Callable[..., Report], column: str, value: str, hint: str) -> None:
    report = check({0: {column: value}})
    assert located(report) == [(2, column, "type-error")]
    assert (report.problems[0].file, report.problems[0].value, report.problems[0].message) == (SHEET, value, hint)


@pytest.mark.parametrize("value", ["2022-02-30", "2022-13-01", "03/02/2022"])
def test_validate_impossible_date_is_a_type_error(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]], value: str
) -> None:
    # Without the actor list, which resolves actors for the event date: see test_validate_one_mistake_gives_one_problem.
    edit_sheet(typed_out(seed_rows, {0: {"event_date": value}}))
    problems = validate_frame(project, actors=False)
    assert located(problems) == [(2, "event_date", "type-error")]
    assert problems[0].message == "expected a real date written YYYY-MM-DD, such as 2022-02-03."


@pytest.mark.parametrize("column", ["notes", "source", "evidence", "coder", "event_type"])
def test_validate_required_error(check: Callable[..., Report], column: str) -> None:
    report = check({1: {column: ""}})
    assert located(report) == [(3, column, "required-error")]
    assert report.problems[0].message.startswith(f"{column} is required.")
    assert report.problems[0].value is None


def test_validate_enum_error_suggests_the_closest_value(check: Callable[..., Report]) -> None:
    report = check({0: {"event_type": "Battle"}})
    assert located(report) == [(2, "event_type", "enum-error")]
    problem = report.problems[0]
    assert problem.value == "Battle"
    assert "Did you mean 'Battles'?" in problem.message


def test_validate_enum_error_lists_a_short_vocabulary(check: Callable[..., Report]) -> None:
    report = check({0: {"geo_precision": "4"}, 1: {"time_precision": "0"}})
    assert located(report) == [(2, "geo_precision", "enum-error"), (3, "time_precision", "enum-error")]
    assert report.problems[0].message == "geo_precision is not in the codebook's list of values. Allowed: 1, 2, 3."


def test_validate_minimum_error(check: Callable[..., Report]) -> None:
    report = check({0: {"fatalities": "-1"}})
    assert located(report) == [(2, "fatalities", "minimum-error")]
    assert report.problems[0].message == "fatalities must be at least 0."
    assert report.problems[0].value == "-1"


def test_validate_maximum_error_without_place_list(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    edit_sheet(typed_out(seed_rows, {0: {"latitude": "123.4"}}))
    problems = validate_frame(project, places=False)
    assert located(problems) == [(2, "latitude", "maximum-error")]
    assert problems[0].message == "latitude must be at most 90."


def test_validate_maximum_error_for_a_place_not_yet_listed(check: Callable[..., Report]) -> None:
    report = check({0: {"location": "Sarmada", "latitude": "123.4", "longitude": "36.7"}})
    assert located(report) == [(2, "latitude", "maximum-error"), (2, "location", "unknown-location")]


def test_validate_listed_place_coordinates_win_over_typed_ones(check: Callable[..., Report]) -> None:
    report = check({0: {"latitude": "123.4"}, 1: {"latitude": "36.4790"}})  # within the tolerance of the listed point
    assert located(report) == [(2, "latitude", "derived-mismatch")]
    assert report.problems[0].message.startswith("the place list gives latitude '36.2119' for 'Atmeh';")


def test_validate_pattern_error_for_a_bad_event_id(project: Project, edit_sheet: Callable[..., Path]) -> None:
    edit_sheet({0: {"event_id_cnty": "SYR-1"}})
    problems = validate_frame(project, registry=False)  # the registry reports any typed id it never assigned
    assert located(problems) == [(2, "event_id_cnty", "pattern-error")]
    assert problems[0].message == "event_id_cnty must match the pattern [A-Z]{3}[0-9]+."


def test_validate_typed_id_never_assigned(check: Callable[..., Report]) -> None:
    report = check({0: {"event_id_cnty": "SYR-1"}, 1: {"event_id_cnty": "SYR99"}})
    assert located(report) == [(2, "event_id_cnty", "unregistered-id"), (3, "event_id_cnty", "unregistered-id")]


def test_validate_pattern_error_for_source_scale(check: Callable[..., Report]) -> None:
    report = check({0: {"source_scale": "National-Galactic"}, 1: {"source_scale": "National-International"}})
    assert located(report) == [(2, "source_scale", "pattern-error")]
    assert report.problems[0].message == "source_scale must be values of the vocabulary joined by '-'."


def test_validate_unique_error_across_two_sheets_names_both(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    edit_sheet({})
    other = write_rows(project.sheets_dir / "001_other.csv", [seed_rows[0]])
    report = validate_project(project, today=TODAY).report
    event_id = seed_rows[0]["event_id_cnty"]
    message = (
        f"{event_id} is used on several rows ({SHEET}:2, seeds/sheets/001_other.csv:2); each value must be unique."
    )
    assert [(p.file, p.line, p.column, p.code, p.value, p.message) for p in report.problems] == [
        (SHEET, 2, "event_id_cnty", "unique-error", event_id, message),
        ("seeds/sheets/001_other.csv", 2, "event_id_cnty", "unique-error", event_id, message),
    ]
    assert report.rows == len(seed_rows) + 1
    # Each sheet alone is valid.
    assert validate_project(project, [other], today=TODAY).report.problems == ()


# --- named cross-field checks (CODEBOOK.md "Checks a tool can enforce") ------------------------------


def test_validate_cross_field_checks_are_the_named_ones() -> None:
    assert [c.name for c in RULES] == [
        "check_sub_event_type",
        "check_actor2_inter2",
        "check_actor_types",
        "check_civilian_targeting",
        "check_civilians_in_battle",
        "check_fatalities_allowed",
        "check_time_precision_date",
        "check_id_country_prefix",
        "check_articles",
    ]
    assert all(c.doc and c.codes and c.messages for c in RULES)


def test_validate_sub_event_type_mismatch(check: Callable[..., Report]) -> None:
    report = check({1: {"sub_event_type": "Peaceful protest"}})
    assert located(report) == [(3, "sub_event_type", "sub-event-type-mismatch")]
    assert report.problems[0].message == (
        "'Peaceful protest' belongs to 'Protests', not 'Battles'. Sub-event types of Battles: "
        "Government regains territory, Non-state actor overtakes territory, Armed clash."
    )


def test_validate_inter2_without_actor2(check: Callable[..., Report]) -> None:
    report = check({0: {**AIR_STRIKE, "actor2": "", "inter2": "2"}})
    assert located(report) == [(2, "inter2", "actor2-inter2-mismatch")]
    assert report.problems[0].message == "inter2 must be 0 when actor2 is empty; name actor2 or set inter2 to 0."


def test_validate_one_sided_event_gets_inter2_zero(project: Project, check: Callable[..., Report]) -> None:
    assert located(check({0: {**AIR_STRIKE, "actor2": ""}})) == []
    events = validate_project(project, today=TODAY).events
    assert events.loc[0, ["inter1", "inter2", "interaction"]].tolist() == [8, 0, 80]


def test_validate_actor2_with_inter2_zero(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    # Without the actor list (with it, inter2 comes from the actor list: next test).
    edit_sheet(typed_out(seed_rows, {0: {**AIR_STRIKE, "inter2": "0"}}))
    problems = validate_frame(project, actors=False)
    assert located(problems) == [(2, "inter2", "actor2-inter2-mismatch")]
    assert problems[0].message == "inter2 is 0 but actor2 is named; give actor2's actor type (1-8)."


def test_validate_actor2_with_inter2_zero_disagrees_with_actor_list(check: Callable[..., Report]) -> None:
    report = check({0: {"inter2": "0"}})
    assert located(report) == [(2, "inter2", "derived-mismatch")]
    assert "'Islamic State (Syria)' actor type 2" in report.problems[0].message


def test_validate_actor2_with_inter2_zero_in_battle_is_one_problem(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    edit_sheet(typed_out(seed_rows, {0: {"inter2": "0"}}))
    assert located(validate_frame(project, actors=False)) == [(2, "inter2", "actor2-inter2-mismatch")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"actor2": ""}, "Battles events need a second actor (actor2); code one-sided events as another event type."),
        (
            {**VIOLENCE_AGAINST_CIVILIANS, "actor2": ""},
            "Violence against civilians events need a second actor (actor2); code one-sided events as another "
            "event type.",
        ),
    ],
    ids=["battles", "violence-against-civilians"],
)
def test_validate_actor2_required(check: Callable[..., Report], changes: dict[str, str], message: str) -> None:
    report = check({1: changes})
    assert located(report) == [(3, "actor2", "actor2-required")]
    assert report.problems[0].message == message


def test_validate_violence_against_civilians_is_valid(project: Project, check: Callable[..., Report]) -> None:
    assert located(check({1: VIOLENCE_AGAINST_CIVILIANS})) == []
    events = validate_project(project, today=TODAY).events
    assert events.loc[1, ["inter1", "inter2", "interaction", "disorder_type"]].tolist() == [
        2,
        7,
        27,
        "Political violence",
    ]


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        (
            {**PEACEFUL_PROTEST, "actor1": "Islamic State (Syria)"},
            "actor1",
            "the actor list gives this actor inter1 2 (Rebel group), but Protests events take inter1 in [6]; "
            "code the actor that took part, or another event type.",
        ),
        (
            {**PEACEFUL_PROTEST, "event_type": "Riots", "sub_event_type": "Violent demonstration"},
            "actor1",
            "the actor list gives this actor inter1 6 (Protesters), but Riots events take inter1 in [5]; "
            "code the actor that took part, or another event type.",
        ),
        (
            {**VIOLENCE_AGAINST_CIVILIANS, "actor2": "Unidentified Armed Group (Syria)"},
            "actor2",
            "the actor list gives this actor inter2 3 (Political militia), but Violence against civilians events "
            "take inter2 in [7]; code the actor that took part, or another event type.",
        ),
        (
            {"actor2": "Civilians (Syria)"},
            "actor2",
            "the actor list gives this actor inter2 7 (Civilians), but Battles events take inter2 in [1, 2, 3, 4, 8]; "
            "code the actor that took part, or another event type.",
        ),
    ],
    ids=["protest-by-rebels", "riot-by-protesters", "civilians-attacked-by-militia", "battle-with-civilians"],
)
def test_validate_inter_not_allowed(
    check: Callable[..., Report], changes: dict[str, str], column: str, message: str
) -> None:
    # The coder typed the actor, not its code: the problem is located at the actor, whose name it quotes.
    report = check({0: changes})
    assert located(report) == [(2, column, "inter-not-allowed")]
    assert report.problems[0].message == message
    assert report.problems[0].value == changes[column]


def test_validate_inter_not_allowed_for_typed_codes(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    # Without the actor list the coder's inter codes are checked as typed: Protests with inter1 2, VAC with inter2 3.
    edit_sheet(
        typed_out(
            seed_rows,
            {0: {**PEACEFUL_PROTEST, "inter1": "2", "inter2": "0"}, 1: {**VIOLENCE_AGAINST_CIVILIANS, "inter2": "3"}},
        )
    )
    assert located(validate_frame(project, actors=False)) == [
        (2, "inter1", "inter-not-allowed"),
        (3, "inter2", "inter-not-allowed"),
    ]


def test_validate_civilian_targeting_rule(check: Callable[..., Report]) -> None:
    report = check(
        {
            0: {"civilian_targeting": "Civilian targeting"},  # a battle: never
            1: {**VIOLENCE_AGAINST_CIVILIANS, "civilian_targeting": ""},  # an attack on civilians: required
            2: {**AIR_STRIKE, "civilian_targeting": "Civilian targeting"},  # allowed
            3: {**AIR_STRIKE, "civilian_targeting": ""},  # allowed to be empty
        }
    )
    assert located(report) == [
        (2, "civilian_targeting", "civilian-targeting-rule"),
        (3, "civilian_targeting", "civilian-targeting-rule"),
    ]
    assert [p.message for p in report.problems] == [
        "Armed clash events are never coded as civilian targeting; leave it empty.",
        "Attack events target civilians: write 'Civilian targeting'.",
    ]


def test_validate_civilians_in_battle(check: Callable[..., Report]) -> None:
    report = check(
        {
            0: {"assoc_actor_2": "Civilians (Syria)"},
            1: {"assoc_actor_1": "Islamic State (Syria); Civilians (Syria)"},
            2: {**VIOLENCE_AGAINST_CIVILIANS, "assoc_actor_2": "Civilians (Syria)"},  # not a battle
        }
    )
    assert located(report) == [(2, "assoc_actor_2", "civilians-in-battle"), (3, "assoc_actor_1", "civilians-in-battle")]


def test_validate_problem_value_is_the_cell_as_typed(check: Callable[..., Report]) -> None:
    report = check({1: {"assoc_actor_1": "SDF; Civilians (Syria)"}})
    assert [(p.line, p.column, p.code, p.value) for p in report.problems] == [
        (3, "assoc_actor_1", "civilians-in-battle", "SDF; Civilians (Syria)"),
    ]


def test_validate_number_and_date_cells_are_shown_as_typed(check: Callable[..., Report]) -> None:
    # parse_types keeps a parsed column's cells in a compact form: a later finding still shows the text typed
    report = check({0: {"latitude": "123.40"}, 1: {"latitude": "0123.40"}, 2: {"latitude": "123.40"}})
    shown = [(p.line, p.column, p.code, p.value) for p in report.problems]
    assert shown == [
        (2, "latitude", "derived-mismatch", "123.40"),
        (3, "latitude", "derived-mismatch", "0123.40"),
        (4, "latitude", "derived-mismatch", "123.40"),
    ]


def test_validate_fatalities_not_allowed_for_peaceful_protest(check: Callable[..., Report]) -> None:
    report = check(
        {
            0: {**PEACEFUL_PROTEST, "fatalities": "2"},
            1: {
                **PEACEFUL_PROTEST,
                "sub_event_type": "Protest with intervention",
                "actor2": "Police Forces of Syria (2000-2024)",
            },
            2: {
                **PEACEFUL_PROTEST,
                "sub_event_type": "Excessive force against protesters",
                "actor2": "Police Forces of Syria (2000-2024)",
                "fatalities": "3",
            },
        }
    )
    assert located(report) == [(2, "fatalities", "fatalities-not-allowed")]
    assert report.problems[0].message == (
        "Peaceful protest events have at most 0 fatalities; a protest with deaths is 'Excessive force against "
        "protesters' or a riot."
    )


def test_validate_time_precision_month_dates(check: Callable[..., Report]) -> None:
    report = check(
        {
            0: {"time_precision": "3"},  # 2022-02-03
            1: {"time_precision": "3", "event_date": "2022-01-01"},
            2: {"time_precision": "3", "event_date": "2022-01-15"},
            3: {"time_precision": "3", "event_date": "2022-01-16"},
            4: {"time_precision": "3", "event_date": "2022-01-31"},
            11: {"time_precision": "3", "event_date": "2019-10-31"},
        }
    )
    assert located(report) == [(2, "event_date", "time-precision-date")]
    assert report.problems[0].value == "2022-02-03"


def test_validate_id_country_prefix(project: Project, check: Callable[..., Report]) -> None:
    register_id(project, "TUR1")  # an id the tool gave out, now on an event in Syria
    report = check({0: {"event_id_cnty": "TUR1"}})
    assert located(report) == [(2, "event_id_cnty", "id-country-prefix")]
    assert report.problems[0].message == "events in Syria have ids starting with SYR."


def test_validate_deleted_id_is_not_reused(project: Project, check: Callable[..., Report]) -> None:
    register_id(project, "SYR90")
    deletions = project.seeds_dir / "deletions.csv"
    if not deletions.exists():
        deletions.write_text("event_id_cnty,reason\n", encoding="utf-8")
    with deletions.open("a", encoding="utf-8", newline="") as handle:
        handle.write("SYR90,Duplicate of another event.\n")
    report = check({1: {"event_id_cnty": "SYR90"}})
    assert [(p.line, p.column) for p in report.problems] == [(3, "event_id_cnty")]


@pytest.mark.parametrize(
    ("column", "value", "derived"),
    [
        ("year", "2021", "2022"),
        ("disorder_type", "Demonstrations", "Political violence"),
        ("interaction", "22", "28"),
        ("iso", "792", "760"),
        ("region", "Europe", "Middle East"),
    ],
)
def test_validate_derived_mismatch(check: Callable[..., Report], column: str, value: str, derived: str) -> None:
    report = check({0: {column: value}})
    assert located(report) == [(2, column, "derived-mismatch")]
    assert report.problems[0].value == value
    assert report.problems[0].message == (
        f"the tool derives {derived!r} from the other columns; leave {column} empty (or delete the column) "
        "and the tool fills it."
    )


def test_validate_derived_columns_given_correctly_are_accepted(check: Callable[..., Report]) -> None:
    derived = {
        "year": "2022", "disorder_type": "Political violence", "inter1": "8", "inter2": "2", "interaction": "28",
        "iso": "760", "region": "Middle East", "admin1": "Idlib", "admin2": "Harim", "admin3": "Dana",
        "latitude": "36.2119", "longitude": "36.6851",
    }  # fmt: skip
    assert located(check({0: derived})) == []


# --- articles: provenance, publication date, today ----------------------------------------------------


def test_validate_date_after_publication(check: Callable[..., Report]) -> None:
    report = check({0: {"event_date": "2022-02-04"}})
    assert located(report) == [(2, "event_date", "date-after-publication")]
    assert report.problems[0].message == "the event is dated after its article was published (2022-02-03)."


def test_validate_future_dates(check: Callable[..., Report], seed_rows: list[dict[str, str]]) -> None:
    report = check({}, today=date(2022, 1, 25))
    # The Atmeh raid (3 February) and days 7-10 of the Ghweran assault (26-29 January); day 6 is dated today.
    lines = [line for line, r in enumerate(seed_rows, start=2) if r["event_date"] > "2022-01-25"]
    assert lines == [2, 9, 10, 11, 12]
    assert located(report) == [(line, "event_date", "future-date") for line in lines]
    assert report.problems[0].message == "the date is after today (2022-01-25)."


def test_validate_future_date_is_not_also_after_publication(check: Callable[..., Report]) -> None:
    report = check({0: {"event_date": "2022-02-04"}}, today=date(2022, 2, 3))
    assert located(report) == [(2, "event_date", "future-date")]


def test_validate_missing_article_suggests_a_known_one(check: Callable[..., Report]) -> None:
    report = check({0: {"article_id": "000_d3eca66359643407"}})
    assert located(report) == [(2, "article_id", "missing-article")]
    assert report.problems[0].message == (
        "article '000_d3eca66359643407' is not in seeds/articles.csv. Did you mean '000_d3eca66359643406'?"
    )


def test_validate_evidence_not_found(check: Callable[..., Report]) -> None:
    report = check({0: {"evidence": "was killed in a daytime US raid ... The raid took place in Atmeh"}})
    assert located(report) == [(2, "evidence", "evidence-not-found")]
    assert report.problems[0].value == "was killed in a daytime US raid"


@pytest.mark.parametrize(
    "evidence",
    [
        "targeted and killed in an\novernight   US raid",
        "targeted and killed in an\r\novernight US raid",
        "  The raid took place in Atmeh,\ta densely populated town  ",
        "serving as the replacement for the terror group’s former leader … who was killed by the Trump administration",
        "during the evening following 2 February. The ISIS leader had been serving",  # across a line break
    ],
    ids=["line-break", "crlf", "tabs-and-padding", "ellipsis", "across-paragraphs"],
)
def test_validate_evidence_matches_with_other_whitespace(check: Callable[..., Report], evidence: str) -> None:
    # A problem on the next row shows that line breaks inside a cell keep the line numbers right.
    report = check({0: {"evidence": evidence}, 1: {"fatalities": "-2"}})
    assert located(report) == [(3 + evidence.count("\n"), "fatalities", "minimum-error")]


def test_validate_several_articles(project: Project, check: Callable[..., Report]) -> None:
    add_article(project, SECOND_ARTICLE, SECOND_TEXT, "2022-02-04")
    report = check(
        {
            0: {
                "article_id": f"{SEED_ARTICLE}; {SECOND_ARTICLE}",
                "evidence": "The raid took place in Atmeh ... thirteen people were killed in the US raid, among them",
            },
            1: {"article_id": f"{SEED_ARTICLE}; 001_atmeh_folowup"},
        }
    )
    assert [(p.line, p.column, p.code, p.value) for p in report.problems] == [
        (3, "article_id", "missing-article", "001_atmeh_folowup"),
    ]
    assert report.problems[0].message.endswith(f"Did you mean {SECOND_ARTICLE!r}?")


def test_validate_evidence_from_another_article_is_not_found(project: Project, check: Callable[..., Report]) -> None:
    add_article(project, SECOND_ARTICLE, SECOND_TEXT, "2022-02-04")
    report = check({0: {"evidence": "The raid took place in Atmeh ... thirteen people were killed in the US raid"}})
    assert located(report) == [(2, "evidence", "evidence-not-found")]


def test_validate_date_after_publication_of_any_cited_article(project: Project, check: Callable[..., Report]) -> None:
    add_article(project, SECOND_ARTICLE, SECOND_TEXT, "2022-02-05")
    report = check({0: {"event_date": "2022-02-04", "article_id": f"{SEED_ARTICLE}; {SECOND_ARTICLE}"}})
    assert located(report) == [(2, "event_date", "date-after-publication")]
    assert "(2022-02-03)" in report.problems[0].message


def test_validate_article_ids_without_space_is_one_problem(project: Project, check: Callable[..., Report]) -> None:
    add_article(project, SECOND_ARTICLE, SECOND_TEXT, "2022-02-04")
    report = check({0: {"article_id": f"{SEED_ARTICLE};{SECOND_ARTICLE}"}})
    assert located(report) == [(2, "article_id", "pattern-error")]


def test_validate_missing_article_does_not_check_its_evidence(project: Project, check: Callable[..., Report]) -> None:
    add_article(project, SECOND_ARTICLE, SECOND_TEXT, "2022-02-04")
    report = check(
        {
            0: {
                "article_id": f"{SEED_ARTICLE}; 001_atmeh_folowup",
                "evidence": "The raid took place in Atmeh ... thirteen people were killed in the US raid",
            }
        }
    )
    assert located(report) == [(2, "article_id", "missing-article")]


# --- no cascades: one mistake, one problem -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"fatalities": "thirteen"}, [(2, "fatalities", "type-error")]),
        ({"time_precision": "x"}, [(2, "time_precision", "type-error")]),
        ({"event_type": "Battle"}, [(2, "event_type", "enum-error")]),
        ({"location": "Atmah"}, [(2, "location", "unknown-location")]),
        ({"actor1": "US forcs"}, [(2, "actor1", "unknown-actor")]),
        ({"event_date": "2022-02-30"}, [(2, "event_date", "type-error")]),
        pytest.param(
            {"event_date": ""},
            [(2, "event_date", "required-error")],
            id="empty-date",
        ),
        pytest.param(
            {"actor1": ""},
            [(2, "actor1", "required-error")],
            id="empty-actor1",
        ),
        pytest.param(
            {"sub_event_type": ""},
            [(2, "sub_event_type", "required-error")],
            id="empty-sub-event-type",
        ),
        pytest.param(
            {"sub_event_type": "Armed clashes"},
            [(2, "sub_event_type", "enum-error")],
            id="misspelled-sub-event-type",
        ),
        pytest.param(
            {"country": "Syra"},
            [(2, "country", "enum-error")],
            id="misspelled-country",
        ),
        pytest.param(
            {"country": ""},
            [(2, "country", "required-error")],
            id="empty-country",
        ),
        pytest.param(
            {"event_id_cnty": "syr1"},
            [(2, "event_id_cnty", "unregistered-id")],
            id="lower-case-id",
        ),
    ],
)
def test_validate_one_mistake_gives_one_problem(
    check: Callable[..., Report], changes: dict[str, str], expected: Located
) -> None:
    assert located(check({0: changes})) == expected


def test_validate_empty_event_date_without_actor_list_is_one_problem(
    project: Project, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    edit_sheet(typed_out(seed_rows, {0: {"event_date": ""}}))
    assert located(validate_frame(project, actors=False)) == [(2, "event_date", "required-error")]


def test_validate_events_finds_what_validate_project_finds(project: Project, check: Callable[..., Report]) -> None:
    report = check({0: {"fatalities": "-1"}, 3: {"event_type": "Battle", "evidence": "a daytime raid"}})
    assert (
        located(validate_frame(project))
        == located(report)
        == [
            (2, "fatalities", "minimum-error"),
            (5, "event_type", "enum-error"),
            (5, "evidence", "evidence-not-found"),
        ]
    )


# --- files ----------------------------------------------------------------------------------------------


def test_validate_reports_article_index_problems_before_sheets(project: Project, check: Callable[..., Report]) -> None:
    with (project.articles_dir / f"{SEED_ARTICLE}.txt").open("a", encoding="utf-8") as handle:
        handle.write("Appended later.\n")
    report = check({0: {"fatalities": "-1"}})
    assert [(p.file, p.line, p.column, p.code) for p in report.problems] == [
        ("seeds/articles.csv", 2, "sha256", "article-hash-mismatch"),
        (SHEET, 2, "fatalities", "minimum-error"),
    ]


def test_validate_project_without_sheets_is_valid(project: Project) -> None:
    (project.sheets_dir / f"{SEED_ARTICLE}.csv").unlink()
    report = validate_project(project, today=TODAY).report
    assert (report.problems, report.files, report.rows) == ((), (), 0)


def test_validate_missing_sheet_path_cannot_run(project: Project) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        validate_project(project, [project.sheets_dir / "nope.csv"], today=TODAY)


# --- the report -----------------------------------------------------------------------------------------


def test_validate_report_to_dict_is_json_and_counts_match(check: Callable[..., Report]) -> None:
    report = check({0: {"fatalities": "-1"}, 1: {"event_type": "Battle"}, 2: {"fatalities": "-5"}})
    data = json.loads(json.dumps(report.to_dict()))
    assert data == report.to_dict()
    assert data["valid"] is False
    assert data["files"] == [SHEET]
    assert data["rows"] == 12
    assert data["problem_count"] == len(report.problems) == 3
    assert data["counts"] == {"minimum-error": 2, "enum-error": 1}
    assert sum(data["counts"].values()) == data["problem_count"]
    assert [(p["line"], p["column"], p["code"], p["value"]) for p in data["problems"]] == [
        (2, "fatalities", "minimum-error", "-1"),
        (3, "event_type", "enum-error", "Battle"),
        (4, "fatalities", "minimum-error", "-5"),
    ]
    assert set(data["problems"][0]) == {"code", "message", "file", "line", "column", "value", "severity"}
    assert data["error_count"] == 3
    assert data["warning_count"] == 0
    assert all(p["code"] in PROBLEM_CODES for p in data["problems"])


def test_validate_valid_report_to_dict(project: Project) -> None:
    data = validate_project(project, today=TODAY).report.to_dict()
    assert json.loads(json.dumps(data)) == {
        "valid": True, "files": [SHEET], "rows": 12, "problem_count": 0, "error_count": 0, "warning_count": 0,
        "counts": {}, "problems": [],
    }  # fmt: skip


# --- one problem per mistake, and messages that say what is wrong (issue 15) --------------------------------


def test_a_missing_article_text_is_one_problem_not_one_per_citing_row(project: Project) -> None:
    (project.articles_dir / f"{SEED_ARTICLE}.txt").unlink()
    rows = len(read_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv"))
    assert rows > 1

    report = validate_project(project, today=TODAY).report

    assert [(p.file, p.code, p.value) for p in report.problems] == [
        ("seeds/articles.csv", "article-missing-text", SEED_ARTICLE)
    ]


def test_a_whole_number_too_big_is_told_the_limit(check: Callable[..., Report]) -> None:
    report = check({0: {"fatalities": "12345678901234567890"}})

    assert [(p.line, p.column, p.code, p.message) for p in report.problems] == [
        (2, "fatalities", "type-error", "the number has 20 digits, too big for a whole number (at most 18 digits).")
    ]


# --- a column added with only a codebook edit ---------------------------------------------------------


def add_third_actor(project: Project) -> None:
    """Declare actor3 and its actor type inter3 in the codebook, as a dataset's maintainers would."""
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    names = [f["name"] for f in schema["fields"]]
    at = names.index("inter2") + 1
    schema["fields"][at:at] = [
        {
            "name": "actor3",
            "type": "string",
            "description": "A third actor, from the actor list.",
            "eventdata": {"actors": True},
        },
        {
            "name": "inter3",
            "type": "integer",
            "description": "Actor type of actor3; 0 when actor3 is empty.",
            "constraints": {"required": True, "minimum": 0, "maximum": 8},
            "eventdata": {"actor_type_of": "actor3", "vocabulary": "actor_types.inter", "derived": "actor_type"},
        },
    ]
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def test_a_third_actor_column_needs_only_a_codebook_edit(project: Project, edit_sheet: Callable[..., Path]) -> None:
    from eventdata.package import events_table

    add_third_actor(project)
    edit_sheet({0: {"actor3": "ISIS"}, 1: {"actor3": "Military Forces of the United States (2021-)"}})
    validation = validate_project(project, today=TODAY)
    assert validation.report.problems == ()
    events = validation.events
    # resolved (alias → canonical name), its actor type derived (state forces abroad: 8), 0 where it is empty
    assert events["actor3"].tolist()[:3] == [
        "Islamic State (Syria)",
        "Military Forces of the United States (2021-)",
        pd.NA,
    ]
    assert events["inter3"].tolist()[:3] == [2, 8, 0]
    # and built: the column is in the events table with the codebook's type
    table = events_table(events, validation.codebook)  # type: ignore[arg-type]  # the validation has its codebook
    assert table.column("inter3").to_pylist()[:3] == [2, 8, 0]
    assert str(table.schema.field("inter3").type) == "int8"


def test_a_third_actor_column_is_checked_like_the_others(project: Project, edit_sheet: Callable[..., Path]) -> None:
    add_third_actor(project)
    edit_sheet({0: {"actor3": "Nobody at all"}, 1: {"actor3": "ISIS", "inter3": "3"}, 2: {"inter3": "2"}})
    report = validate_project(project, today=TODAY).report
    assert [(p.line, p.column, p.code) for p in report.problems] == [
        (2, "actor3", "unknown-actor"),
        (3, "inter3", "derived-mismatch"),
        (4, "inter3", "actor2-inter2-mismatch"),
    ]
    assert report.problems[1].message.startswith("the actor list gives 'ISIS' actor type 2 on this date")
    assert report.problems[2].message == "inter3 must be 0 when actor3 is empty; name actor3 or set inter3 to 0."


def test_a_declaration_naming_no_actor_column_is_a_located_codebook_error(project: Project) -> None:
    from eventdata.errors import SchemaFileError

    path = project.schemas_dir / "events.schema.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"actor_type_of": "actor2"', '"actor_type_of": "actor9"'))
    with pytest.raises(
        SchemaFileError, match=r"events.schema.json:\d+: field 'inter2': eventdata.actor_type_of='actor9'"
    ):
        validate_project(project, today=TODAY)


def test_a_vocabulary_without_the_role_eventdata_needs_is_a_located_codebook_error(project: Project) -> None:
    from eventdata.errors import SchemaFileError

    path = project.schemas_dir / "vocabularies" / "time_precision.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",month\n", ",\n"), encoding="utf-8")
    with pytest.raises(SchemaFileError, match=r"time_precision.csv: no row has role 'month'"):
        validate_project(project, today=TODAY)


def test_a_codebook_without_column_roles_takes_the_shipped_ones(project: Project, check: Callable[..., Report]) -> None:
    """The sources of an older release declare no roles: they validate as before (and so rebuild)."""
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    for spec in schema["fields"]:
        for key in ("actor_type_of", "associates_of", "place"):
            spec.get("eventdata", {}).pop(key, None)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    for name in ("actor_types", "event_types", "time_precision"):
        vocabulary = project.schemas_dir / "vocabularies" / f"{name}.csv"
        with vocabulary.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        write_rows(vocabulary, [dict(zip(rows[0][:-1], r[:-1], strict=True)) for r in rows[1:]], rows[0][:-1])
    report = check({1: {"assoc_actor_1": "ISIS; Civilians (Syria)"}, 2: {"time_precision": "3"}})
    assert located(report) == [(3, "assoc_actor_1", "civilians-in-battle"), (4, "event_date", "time-precision-date")]


def test_the_codebook_lists_every_registered_rule_with_its_codes_and_severity(project: Project) -> None:
    from click.testing import CliRunner

    from eventdata.cli import cli

    result = CliRunner().invoke(cli, ["--project", str(project.root), "codebook"])
    assert result.exit_code == 0, result.output
    section = result.output.split("## Checks", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| check_")]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == [r.name for r in RULES]
    precision = next(row for row in rows if row.startswith("| check_time_precision_date "))
    assert "| `time-precision-date` | warning | `time_precision`, `event_date` |" in precision
    assert "| `actor2-required`, `inter-not-allowed` | error |" in section


def test_checks_run_at_once_find_what_they_find_in_order(
    project: Project, edit_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventdata import pipeline

    edit_sheet(
        {
            0: {"event_type": "Battle", "fatalities": "-1"},  # pandera: enum and minimum
            1: {"sub_event_type": "Peaceful protest", "fatalities": "4"},  # rules: mismatch, fatalities allowed
            2: {"event_date": "2031-01-01", "civilian_targeting": "Civilian targeting"},  # a rule and pandera
            3: {"event_id_cnty": "SYR1", "article_id": "nope"},  # pandera's uniqueness beside a rule's article
            4: {"event_id_cnty": "", "actor1": "US forces", "location": "Atma"},  # an id, an alias, a place name
            5: {"event_id_cnty": "", "location": "Nowhere at all", "actor1": "Unknown group"},  # resolutions fail
        }
    )
    found, events, new_ids = {}, {}, {}
    for cores in (1, 2):
        monkeypatch.setattr(pipeline, "CORES", cores)
        validation = validate_project(project, today=date(2026, 1, 1))
        found[cores] = [p.format() for p in validation.report.problems]
        events[cores], new_ids[cores] = validation.events, validation.new_ids
    assert found[2] == found[1]
    pd.testing.assert_frame_equal(events[2], events[1])
    pd.testing.assert_frame_equal(new_ids[2], new_ids[1])
    assert events[2]["actor1"].iloc[4] == "Military Forces of the United States (2021-)"
    assert events[2]["location"].iloc[4] == "Atmeh"
    assert len(new_ids[2]) == 2
    codes = {p.split("[")[1].split("]")[0] for p in found[2]}
    assert {"enum-error", "minimum-error", "unique-error", "missing-article", "future-date"} <= codes

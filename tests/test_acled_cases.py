"""What real ACLED exports contain (#13), on small rows made here: ACLED's rows are never in the repository.

Each test reproduces one case found in ACLED's sample data (acledR's acled_old_deletion_dummy):
non-ISO id prefixes, a vocabulary typo, an all-empty column, border places, and the shapes of
files that spreadsheets and older tools write.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eventdata.acled import import_acled
from eventdata.build import build_package
from eventdata.cli import cli
from eventdata.project import Project
from eventdata.validate import validate_project
from tests.conftest import read_rows
from tests.test_acled import ACLED_COLUMNS, snapshot

PLACES = {  # country: (location, admin1, latitude, longitude, iso, region)
    "Sudan": ("Khartoum", "Khartoum", "15.5007", "32.5599", "729", "Northern Africa"),
    "South Africa": ("Johannesburg", "Gauteng", "-26.2041", "28.0473", "710", "Southern Africa"),
    "Morocco": ("Rabat", "Rabat-Sale-Kenitra", "34.0209", "-6.8416", "504", "Northern Africa"),
    "Kenya": ("Nairobi", "Nairobi", "-1.2864", "36.8172", "404", "Eastern Africa"),
}


def protest(event_id: str, country: str = "Kenya", **cells: str) -> dict[str, str]:
    """A peaceful protest as ACLED exports it (no second actor)."""
    location, admin1, latitude, longitude, iso, region = PLACES[country]
    row = dict.fromkeys(ACLED_COLUMNS, "") | {
        "event_id_cnty": event_id, "event_date": "2022-03-04", "year": "2022", "time_precision": "1",
        "disorder_type": "Demonstrations", "event_type": "Protests", "sub_event_type": "Peaceful protest",
        "actor1": f"Protesters ({country})", "inter1": "6", "inter2": "0", "interaction": "60", "iso": iso,
        "region": region, "country": country, "admin1": admin1, "location": location, "latitude": latitude,
        "longitude": longitude, "geo_precision": "1", "source": "Local paper", "source_scale": "National",
        "notes": f"On 4 March 2022, residents of {location} protested ({event_id}).", "fatalities": "0",
        "timestamp": "1700000000",
    }  # fmt: skip
    return row | cells


def attack(event_id: str, country: str = "Kenya", **cells: str) -> dict[str, str]:
    """A Violence against civilians event (Attack): ACLED's definition says civilians are targeted."""
    return protest(
        event_id, country, disorder_type="Political violence", event_type="Violence against civilians",
        sub_event_type="Attack", actor1=f"Unidentified Armed Group ({country})", inter1="3",
        actor2=f"Civilians ({country})", inter2="7", interaction="37", fatalities="1",
        notes=f"On 4 March 2022, a gang attacked a man ({event_id}).",
    ) | cells  # fmt: skip


def write(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, preamble: str = "") -> Path:
    columns = header or ACLED_COLUMNS
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(preamble)
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def released(project: Project) -> dict[str, dict[str, str]]:
    """Build, and the release's events-acled.csv by event id."""
    result = build_package(project)
    assert result.status == "built", [p.format() for p in result.report.errors[:5]]
    return {r["event_id_cnty"]: r for r in read_rows(result.package_dir / "data" / "events-acled.csv")}


# --- rules that match ACLED's practice -----------------------------------------------------------


def test_acled_country_codes_are_id_prefixes(project: Project, tmp_path: Path) -> None:
    rows = [protest("SUD17410", "Sudan"), protest("SAF16164", "South Africa"), protest("MOR5613", "Morocco")]

    result = import_acled(project, write(tmp_path / "codes.csv", rows))

    assert result.written
    assert not result.report.problems, [p.format() for p in result.report.problems]
    assert set(released(project)) >= {"SUD17410", "SAF16164", "MOR5613"}


def test_id_prefix_rule_takes_acled_codes_and_unclaimed_iso3(project: Project, tmp_path: Path) -> None:
    import_acled(project, write(tmp_path / "a.csv", [protest("SUD1", "Sudan"), protest("SDN2", "Sudan")]))
    rows = read_rows(project.sheets_dir / "acled-a.csv")
    new = dict(rows[0], event_id_cnty="", notes=rows[0]["notes"], evidence=rows[0]["evidence"])
    with (project.sheets_dir / "acled-a.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n").writerow(new)

    validation = validate_project(project)

    assert validation.report.valid, [p.format() for p in validation.report.problems]
    assert list(validation.new_ids["event_id_cnty"]) == ["SUD2"]  # new ids take ACLED's code, numbered per prefix


def test_id_prefix_of_another_countrys_acled_code_is_refused(project: Project, tmp_path: Path) -> None:
    # ACLED gives Puerto Rico the prefix PRT, Portugal's ISO3; Portugal's events are POR.
    portugal = protest("PRT77", "Kenya") | {
        "country": "Portugal", "iso": "620", "region": "Europe", "location": "Lisbon", "admin1": "Lisboa",
        "latitude": "38.7223", "longitude": "-9.1393",
    }  # fmt: skip

    result = import_acled(project, write(tmp_path / "pt.csv", [portugal]))

    assert [(p.line, p.column, p.code) for p in result.report.problems] == [(2, "event_id_cnty", "id-country-prefix")]
    assert "POR" in result.report.problems[0].message
    assert not result.written


def test_acled_typo_is_corrected_by_the_table_and_counted(project: Project, tmp_path: Path) -> None:
    rows = [protest(f"KEN{n}", disorder_type="Demostrations") for n in range(1, 4)] + [protest("KEN9")]

    result = import_acled(project, write(tmp_path / "typo.csv", rows))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    assert [(i.column, i.value, i.correct, n) for i, n in result.normalised] == [
        ("disorder_type", "Demostrations", "Demonstrations", 3)
    ]
    assert {r["disorder_type"] for r in released(project).values()} >= {"Demonstrations"}


def test_acled_excessive_force_coded_demonstrations_takes_the_codebooks_disorder(
    project: Project, tmp_path: Path
) -> None:
    row = protest("KEN5", sub_event_type="Excessive force against protesters", disorder_type="Demostrations")
    row |= {"actor2": "Police Forces of Kenya (2022-)", "inter2": "1", "interaction": "16", "fatalities": "1"}

    result = import_acled(project, write(tmp_path / "force.csv", [row]))

    assert result.written, [p.format() for p in result.report.problems]
    assert [(i.value, i.correct, n) for i, n in result.normalised] == [
        ("Demostrations", "Demonstrations", 1),
        ("Demonstrations", "Political violence", 1),
    ]
    assert released(project)["KEN5"]["disorder_type"] == "Political violence"


def test_acled_all_empty_optional_column_is_absent(project: Project, tmp_path: Path) -> None:
    rows = [attack("KEN1"), attack("KEN2"), protest("KEN3")]  # civilian_targeting empty on every row

    result = import_acled(project, write(tmp_path / "empty.csv", rows))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    assert {"civilian_targeting", "tags"} <= set(result.absent_columns)
    events = released(project)
    assert [events[i]["civilian_targeting"] for i in ("KEN1", "KEN2", "KEN3")] == [
        "Civilian targeting", "Civilian targeting", "",
    ]  # fmt: skip


def test_acled_column_with_a_value_is_present_and_checked(project: Project, tmp_path: Path) -> None:
    rows = [attack("KEN1", civilian_targeting="Civilian targeting"), attack("KEN2")]

    result = import_acled(project, write(tmp_path / "partly.csv", rows))

    assert [(p.line, p.column, p.code) for p in result.report.problems] == [
        (3, "civilian_targeting", "civilian-targeting-rule")
    ]
    assert result.written
    assert result.skipped == (3,)
    assert result.rows == 1


def test_acled_border_places_are_warnings(project: Project, tmp_path: Path) -> None:
    # A point 1 km from places of the next county (cf. Kapkoi, Nandi, beside Serem in Vihiga).
    border = protest("KEN7") | {"location": "Kapkoi", "admin1": "Nandi", "latitude": "0.067", "longitude": "34.85"}

    result = import_acled(project, write(tmp_path / "border.csv", [border, protest("KEN8")]))

    assert result.written
    assert result.rows == 2
    assert [(p.line, p.code, p.severity) for p in result.report.problems] == [(2, "place-far-from-admin1", "warning")]
    assert "[place-far-from-admin1] warning:" in result.report.problems[0].format()
    assert validate_project(project).report.valid


# --- the export is its own authority ------------------------------------------------------------


def test_acled_rows_with_errors_are_skipped_or_refuse_all_with_strict(project: Project, tmp_path: Path) -> None:
    rows = [protest("KEN1"), protest("KEN2", fatalities="3"), protest("KEN3", inter1="Militia")]
    export = write(tmp_path / "mixed.csv", rows)
    before = snapshot(project)

    strict = import_acled(project, export, strict=True, name="strict")
    assert not strict.written
    assert snapshot(project) == before
    assert [(p.line, p.code) for p in strict.report.problems] == [(3, "fatalities-not-allowed"), (4, "enum-error")]

    result = import_acled(project, export)
    assert result.written
    assert result.rows == 1
    assert result.skipped == (3, 4)
    assert [r["event_id_cnty"] for r in read_rows(project.sheets_dir / "acled-mixed.csv")] == ["KEN1"]
    assert "KEN2" not in {r["event_id_cnty"] for r in read_rows(project.id_registry)}
    assert validate_project(project).report.valid


def test_acled_cli_strict_flag_and_exit_codes(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "mixed.csv", [protest("KEN1"), protest("KEN2", fatalities="3")])

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--project", str(project.root), "import", "acled", str(export), *args])
        return result.exit_code, result.stderr

    code, err = run("--strict", "--name", "s")
    assert code == 1
    assert "Nothing was written" in err
    assert not (project.sheets_dir / "acled-s.csv").exists()
    code, err = run()
    assert code == 1, err
    assert "mixed.csv:3: fatalities='3' [fatalities-not-allowed]" in err
    assert "Imported 1 event(s)" in err
    assert "1 line(s) of the export were not imported" in err


# --- messy files ---------------------------------------------------------------------------------


def test_acled_header_after_a_preamble(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "sample.csv", [protest("KEN1"), protest("KEN2", inter1="x")], preamble="(Sample)\n\n")

    result = import_acled(project, export)

    assert result.written
    assert result.rows == 1
    assert [(p.line, p.column) for p in result.report.problems] == [(5, "inter1")]  # lines count from the file's top


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["5-Aug-22", "17-Sep-22"], ["2022-08-05", "2022-09-17"]),  # the year column settles the order
        (["05-08-22", "25-08-22"], ["2022-08-05", "2022-08-25"]),  # 25 cannot be a month: day-month-year
        (["08-05-22", "08-25-22"], ["2022-08-05", "2022-08-25"]),  # month-day-year
        (["03/02/2022", "13/02/2022"], ["2022-02-03", "2022-02-13"]),
    ],
)
def test_acled_spreadsheet_dates_read_in_the_one_order_that_fits(
    project: Project, tmp_path: Path, dates: list[str], expected: list[str]
) -> None:
    rows = [protest(f"KEN{n}", event_date=d) for n, d in enumerate(dates, start=1)]

    result = import_acled(project, write(tmp_path / "excel.csv", rows))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    sheet = read_rows(project.sheets_dir / "acled-excel.csv")
    assert [r["event_date"] for r in sheet] == expected


def test_acled_ambiguous_spreadsheet_dates_are_located(project: Project, tmp_path: Path) -> None:
    ambiguous = [protest("KEN1", event_date="05-08-22"), protest("KEN2", event_date="06-08-22")]
    mixed = [protest("KEN3", event_date="25-08-22"), protest("KEN4", event_date="08-25-22")]

    both = import_acled(project, write(tmp_path / "a.csv", ambiguous))
    neither = import_acled(project, write(tmp_path / "m.csv", mixed))

    assert [(p.line, p.code, p.value) for p in both.report.problems] == [
        (2, "ambiguous-date", "05-08-22"),
        (3, "ambiguous-date", "06-08-22"),
    ]
    assert "2022-08-05 (day-month-year); 2022-05-08 (month-day-year)" in both.report.problems[0].message
    assert [(p.line, p.code) for p in neither.report.problems] == [(2, "ambiguous-date"), (3, "ambiguous-date")]
    assert "no single order" in neither.report.problems[0].message
    assert not both.written
    assert not neither.written


def test_acled_named_month_two_digit_year_without_year_column(project: Project, tmp_path: Path) -> None:
    # Without a year column, '05-Mar-22' is 2022-03-05 or 2005-03-22. '5-Mar-22' has a one-digit first part,
    # which no two-digit year is: a file holding it reads day-month-year throughout.
    header = [c for c in ACLED_COLUMNS if c != "year"]
    alone = [protest("KEN1", event_date="05-Mar-22"), protest("KEN2", event_date="06-Mar-22")]
    settled = [protest("KEN3", event_date="05-Mar-22"), protest("KEN4", event_date="5-Mar-22")]

    refused = import_acled(project, write(tmp_path / "alone.csv", alone, header))
    result = import_acled(project, write(tmp_path / "settled.csv", settled, header))

    assert [(p.line, p.code) for p in refused.report.problems] == [(2, "ambiguous-date"), (3, "ambiguous-date")]
    assert "2022-03-05 (day-month-year); 2005-03-22 (year-month-day)" in refused.report.problems[0].message
    assert result.written
    assert result.report.valid
    assert [r["event_date"] for r in read_rows(project.sheets_dir / "acled-settled.csv")] == ["2022-03-05"] * 2


def test_acled_export_without_actor2_columns(project: Project, tmp_path: Path) -> None:
    header = [c for c in ACLED_COLUMNS if c not in ("actor2", "assoc_actor_2", "inter2")]

    result = import_acled(project, write(tmp_path / "monadic.csv", [protest("KEN1"), protest("KEN2")], header))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    events = released(project)
    assert (events["KEN1"]["actor2"], events["KEN1"]["inter2"]) == ("", "0")


@pytest.mark.parametrize("preamble", ["", "(Sample)\n\n"])
def test_acled_export_without_actor2_columns_but_with_two_sided_events_gets_one_message(
    project: Project, tmp_path: Path, preamble: str
) -> None:
    header = [c for c in ACLED_COLUMNS if c not in ("actor2", "assoc_actor_2", "inter2")]
    rows = [protest("KEN1"), attack("KEN2"), attack("KEN3"), protest("KEN4")]
    export = write(tmp_path / "trimmed.csv", rows, header, preamble=preamble)
    before = snapshot(project)

    result = CliRunner().invoke(cli, ["--project", str(project.root), "import", "acled", str(export)])

    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if "[" in line and "]" in line]
    header_line = 1 + preamble.count("\n")
    assert errors == [
        f"{export}:{header_line}: actor2 [missing-column] the export lacks the column(s) 'actor2', 'assoc_actor_2', "
        "'inter2', but it has 2 event(s) that need a second actor (Violence against civilians; line(s) "
        f"{header_line + 2}, {header_line + 3}). Export the file again with every column (the default of ACLED's "
        "export tool and API, in the dyadic layout), or add the columns to the header with each event's second "
        "actor; nothing was imported."
    ]
    assert "Traceback" not in result.output
    assert snapshot(project) == before


def test_acled_older_layout_after_a_preamble_in_another_column_order(project: Project, tmp_path: Path) -> None:
    """An export of ACLED's older layout: upper-case names, ally_actor_*, geo_precis, GWNO, event_id_no_cnty."""
    renamed = {"assoc_actor_1": "ALLY_ACTOR_1", "assoc_actor_2": "ALLY_ACTOR_2", "geo_precision": "GEO_PRECIS"}
    old = [c for c in ACLED_COLUMNS if c not in ("disorder_type", "civilian_targeting", "tags", "timestamp")]
    header = ["GWNO", "EVENT_ID_NO_CNTY", *reversed([renamed.get(c, c.upper()) for c in old])]
    spelled = dict(zip(old, [renamed.get(c, c.upper()) for c in old], strict=True))
    rows = [
        {spelled[c]: v for c, v in r.items() if c in spelled} | {"GWNO": "501", "EVENT_ID_NO_CNTY": str(n)}
        for n, r in enumerate([protest("KEN1"), attack("KEN2")], start=1)
    ]

    result = import_acled(project, write(tmp_path / "old.csv", rows, header, preamble="(Sample)\n\n"))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    events = released(project)
    assert (events["KEN2"]["actor2"], events["KEN2"]["inter2"]) == ("Civilians (Kenya)", "7")
    assert events["KEN1"]["location"] == "Nairobi"


def test_acled_api_layout_with_extra_columns_in_any_order(project: Project, tmp_path: Path) -> None:
    """The API's layout: data_id, iso3, population_* besides the 31 columns, in the order a client wrote them."""
    extra = {"data_id": "9", "iso3": "KEN", "population_1km": "12", "population_best": "40000"}
    header = sorted([*ACLED_COLUMNS, *extra])
    rows = [r | extra | {"tags": "crowd size=no report"} for r in (protest("KEN1"), attack("KEN2"))]

    result = import_acled(project, write(tmp_path / "api.csv", rows, header))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    assert set(released(project)) >= {"KEN1", "KEN2"}


def test_acled_export_without_optional_columns(project: Project, tmp_path: Path) -> None:
    optional = ("admin2", "admin3", "source_scale", "tags", "timestamp", "civilian_targeting")
    header = [c for c in ACLED_COLUMNS if c not in optional]

    result = import_acled(project, write(tmp_path / "narrow.csv", [protest("KEN1"), attack("KEN2")], header))

    assert result.report.valid, [p.format() for p in result.report.problems]
    assert result.rows == 2


def test_acled_one_row_per_actor_is_merged(project: Project, tmp_path: Path) -> None:
    one = attack("KEN1")
    first = one | {"actor2": "", "inter2": "", "assoc_actor_1": "Youth (Kenya)"}
    second = one | {"actor1": one["actor2"], "inter1": "7", "actor2": "", "inter2": ""}

    result = import_acled(project, write(tmp_path / "actors.csv", [first, second, protest("KEN2")]))

    assert result.written
    assert result.report.valid, [p.format() for p in result.report.problems]
    assert result.merged == 1
    assert result.rows == 2
    event = released(project)["KEN1"]
    assert (event["actor1"], event["assoc_actor_1"], event["actor2"], event["inter2"]) == (
        "Unidentified Armed Group (Kenya)", "Youth (Kenya)", "Civilians (Kenya)", "7",
    )  # fmt: skip


def test_acled_repeated_id_differing_in_more_than_actors_is_refused(project: Project, tmp_path: Path) -> None:
    rows = [attack("KEN1"), attack("KEN1", fatalities="4"), protest("KEN2")]

    result = import_acled(project, write(tmp_path / "dup.csv", rows))

    assert [(p.line, p.column, p.code) for p in result.report.problems] == [
        (2, "fatalities", "duplicate-event"),
        (3, "fatalities", "duplicate-event"),
    ]
    assert "lines 2, 3 repeat the event id KEN1" in result.report.problems[0].message
    assert result.written
    assert result.rows == 1


# --- severity ------------------------------------------------------------------------------------


def test_validate_prints_warnings_and_exits_0_and_json_has_severity(project: Project, tmp_path: Path) -> None:
    border = protest("KEN7") | {"location": "Kapkoi", "admin1": "Nandi", "latitude": "0.067", "longitude": "34.85"}
    import_acled(project, write(tmp_path / "border.csv", [border]))

    run = CliRunner().invoke(cli, ["--project", str(project.root), "validate", "--json"])

    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["valid"] is True
    assert data["warning_count"] == 1
    assert data["error_count"] == 0
    assert [(p["code"], p["severity"]) for p in data["problems"]] == [("place-far-from-admin1", "warning")]
    assert "[place-far-from-admin1] warning:" in run.stderr
    descriptor = json.loads((build_package(project).package_dir / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["eventdata:warnings"] == {"place-far-from-admin1": 1}


def test_acled_row_of_the_wrong_length_is_left_out(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "short.csv", [protest("KEN1"), protest("KEN2")])
    text = export.read_text(encoding="utf-8").splitlines()
    export.write_text("\n".join([*text, "KEN3,2022-03-04"]) + "\n", encoding="utf-8")

    result = import_acled(project, export)

    assert [(p.line, p.code) for p in result.report.problems] == [(4, "missing-cell")]
    assert result.written
    assert result.rows == 2
    assert result.skipped == (4,)


def _left_out(project: Project, export: Path) -> tuple[str, str, str | None]:
    """Import an export whose line 2 has an error: the row is left out, nothing of it is registered."""
    result = import_acled(project, export)
    assert result.written
    assert result.skipped == (2,)
    assert [r["event_id_cnty"] for r in read_rows(project.sheets_dir / f"acled-{export.stem}.csv")] == ["KEN2"]
    assert [r["event_id_cnty"] for r in read_rows(project.id_registry)][-1:] == ["KEN2"]
    assert all(r["event_id_cnty"].strip() for r in read_rows(project.id_registry))
    assert validate_project(project).report.valid
    [problem] = result.report.problems
    assert problem.line == 2
    assert problem.file.endswith(export.name)
    return problem.code, problem.column or "", problem.value


@pytest.mark.parametrize(
    ("stamp", "code"),
    [
        ("99999999999999999999", "maximum-error"),  # beyond the platform's time_t
        ("253402300800", "maximum-error"),  # year 10000
        ("9223372036854775807", "maximum-error"),  # the largest time_t: EOVERFLOW
        ("4133980800", "maximum-error"),  # 2101-01-01: after the codebook's last year
        ("1.5e9", "type-error"),
    ],
)
def test_acled_timestamp_out_of_range_is_a_row_problem(project: Project, tmp_path: Path, stamp: str, code: str) -> None:
    export = write(tmp_path / "stamp.csv", [protest("KEN1", timestamp=stamp), protest("KEN2")])

    assert _left_out(project, export) == (code, "timestamp", stamp)


def test_acled_last_timestamp_of_the_codebooks_years_is_taken(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "late.csv", [protest("KEN1", timestamp="4133980799")])  # 2100-12-31 23:59:59

    result = import_acled(project, export)

    assert result.written
    assert not result.report.problems
    assert "KEN1 (ACLED timestamp 4133980799)" in (project.articles_dir / "acled-late.txt").read_text(encoding="utf-8")


def test_acled_timestamp_out_of_range_does_not_stop_reading_spreadsheet_dates(project: Project, tmp_path: Path) -> None:
    rows = [protest("KEN1", event_date="13/03/2022", timestamp="9223372036854775807"), protest("KEN2")]
    export = write(tmp_path / "sheetdates.csv", rows)

    assert _left_out(project, export)[:2] == ("maximum-error", "timestamp")


@pytest.mark.parametrize("char", ["\x07", "\x00", "\x1b", "\x0c"])
@pytest.mark.parametrize("column", ["notes", "location"])
def test_acled_control_character_is_located_and_the_row_left_out(
    project: Project, tmp_path: Path, char: str, column: str
) -> None:
    first = protest("KEN1")
    value = f"{first[column][:3]}{char}{first[column][3:]}"
    export = write(tmp_path / "control.csv", [first | {column: value}, protest("KEN2")])

    code, shown, found = _left_out(project, export)

    assert (code, shown, found) == ("control-character", column, value)


def test_acled_control_character_in_a_multiline_cell_is_at_the_records_line(project: Project, tmp_path: Path) -> None:
    rows = [
        protest("KEN1", notes="On 4 March\n2022, a protest."),
        protest("KEN2", notes="On 4 March\n2022,\x07 a march."),
    ]
    export = write(tmp_path / "multi.csv", rows)

    result = import_acled(project, export)

    assert [(p.line, p.code, p.column) for p in result.report.problems] == [(4, "control-character", "notes")]
    assert result.rows == 1
    assert result.skipped == (4,)


def test_acled_blank_id_is_a_row_problem_and_not_registered(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "blank.csv", [protest(""), protest("KEN2")])

    assert _left_out(project, export) == ("required-error", "event_id_cnty", "")


def test_acled_id_number_beyond_the_registrys_integer_is_a_row_problem(project: Project, tmp_path: Path) -> None:
    export = write(tmp_path / "long.csv", [protest("KEN99999999999999999999"), protest("KEN2")])

    assert _left_out(project, export) == ("maximum-error", "event_id_cnty", "KEN99999999999999999999")


def test_acled_row_problems_of_every_row_write_nothing(project: Project, tmp_path: Path) -> None:
    rows = [protest(""), protest("KEN1", timestamp="253402300800"), protest("KEN2", location="Nai\x00robi")]
    export = write(tmp_path / "allbad.csv", rows)
    before = snapshot(project)

    result = import_acled(project, export)

    assert not result.written
    assert [(p.line, p.code) for p in result.report.problems] == [
        (2, "required-error"),
        (3, "maximum-error"),
        (4, "control-character"),
    ]
    assert snapshot(project) == before

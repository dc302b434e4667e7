"""Broken codebook, release and catalog files end in one located message and exit 2, never a crash (#9)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import eventdata
from eventdata.cli import cli
from eventdata.errors import SourceError
from eventdata.project import Project
from tests.test_release import copy_repository_releases

SEEDS = "dist-data/eventdata-seeds"


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def assert_cannot_run(result: Result, *fragments: str) -> None:
    """Exit 2 with one message holding every fragment, and no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def drop_column(path: Path, column: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    index = rows[0].index(column)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(r[:index] + r[index + 1 :] for r in rows)


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.fixture
def releases(tmp_path: Path) -> Project:
    return copy_repository_releases(tmp_path / "dataset")


def reword_a_column(project: Project) -> None:
    """Give the codebook a change of its own, a reworded description, so that `release` would make a patch."""
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    field = next(f for f in schema["fields"] if f["name"] == "notes")
    field["description"] += " Reworded."
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("event_types", "inter1"),
        ("event_types", "actor2"),
        ("countries", "iso3"),
        ("sub_event_types", "max_fatalities"),
    ],
)
def test_vocabulary_without_a_column_it_reads_exit_2(project: Project, table: str, column: str) -> None:
    drop_column(project.schemas_dir / "vocabularies" / f"{table}.csv", column)
    result = run(project, "validate")
    assert_cannot_run(result, f"vocabularies/{table}.csv:1: {column} [missing-column] the column is missing")


@pytest.mark.parametrize(
    ("table", "line", "column", "value"),
    [
        ("sub_event_types", 2, "max_fatalities", "x"),
        ("event_types", 3, "inter1", "6;six"),
        ("countries", 4, "iso", "four"),
        ("actor_types", 2, "inter", "?"),
    ],
)
def test_vocabulary_value_not_a_number_exit_2_at_its_line(
    project: Project, table: str, line: int, column: str, value: str
) -> None:
    set_cell(project.schemas_dir / "vocabularies" / f"{table}.csv", line, column, value)
    result = run(project, "validate")
    assert_cannot_run(
        result, f"vocabularies/{table}.csv:{line}: {column}={value!r} [type-error] cannot be read", "whole number"
    )
    assert "foreign-key-error" not in result.output  # an unreadable key is reported once, not again where it is used


@pytest.mark.parametrize("command", [["validate"], ["build"], ["release"], ["verify"]])
def test_dataset_json_without_name_exit_2(releases: Project, command: list[str]) -> None:
    path = releases.schemas_dir / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8"))
    del dataset["name"]
    path.write_text(json.dumps(dataset), encoding="utf-8")
    assert_cannot_run(run(releases, *command), "dataset.json", '"name" is missing')


def test_dataset_json_title_not_text_exit_2(project: Project) -> None:
    path = project.schemas_dir / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8"))
    dataset["title"] = ["not", "text"]
    path.write_text(json.dumps(dataset), encoding="utf-8")
    assert_cannot_run(
        run(project, "build"), "dataset.json:", """title='["not", "text"]' [dataset-error] must be a string"""
    )


def test_diff_when_a_release_lacks_its_parquet_exit_2(releases: Project) -> None:
    (releases.root / SEEDS / "1.0.0" / "data" / "events.parquet").unlink()
    assert_cannot_run(run(releases, "diff", "1.0.0", "1.1.0"), "1.0.0/data/events.parquet is missing", "restore")


def test_release_over_a_corrupt_previous_parquet_exit_2_writes_nothing(releases: Project) -> None:
    reword_a_column(releases)
    parquet = releases.root / SEEDS / "1.1.1" / "data" / "events.parquet"
    parquet.write_bytes(b"garbage\n")
    before = sorted(p.name for p in (releases.root / SEEDS).iterdir())
    result = run(releases, "release")
    assert_cannot_run(result, "1.1.1/data/events.parquet (8 bytes) is not a readable Parquet file", "damaged")
    assert sorted(p.name for p in (releases.root / SEEDS).iterdir()) == before


def test_verify_catalog_entry_without_sha256_exit_2(releases: Project) -> None:
    path = releases.root / SEEDS / "catalog.json"
    catalog = json.loads(path.read_text(encoding="utf-8"))
    del catalog["versions"][0]["files"][0]["sha256"]
    path.write_text(json.dumps(catalog), encoding="utf-8")
    assert_cannot_run(run(releases, "verify"), "catalog.json is not a valid catalog", "files[0].sha256")


def test_verify_catalog_holding_a_list_exit_2(releases: Project) -> None:
    (releases.root / SEEDS / "catalog.json").write_text("[1, 2]", encoding="utf-8")
    assert_cannot_run(run(releases, "verify"), "catalog.json is not a valid catalog", "JSON object")


def test_load_catalog_holding_a_list_raises_source_error(releases: Project) -> None:
    path = releases.root / SEEDS / "catalog.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SourceError, match="must hold a JSON object"):
        eventdata.load(str(path))


def test_places_problem_reported_at_its_real_line_after_blank_lines(project: Project) -> None:
    path = project.schemas_dir / "places.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace(lines[2].split(",")[6], "abc", 1)  # latitude of the second place
    lines[1:1] = ["", ""]  # two blank lines after the header: the bad row is now line 5
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert "schemas/places.csv:5: latitude='abc' [type-error]" in result.output


def edit_schema_field(project: Project, name: str, **changes: object) -> int:
    """Change one field of events.schema.json (kept indented); return the line of its "name"."""
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    for field in schema["fields"]:
        if field["name"] == name:
            for key, value in changes.items():
                if key == "constraint":
                    assert isinstance(value, tuple)
                    field.setdefault("constraints", {})[value[0]] = value[1]
                else:
                    field[key] = value
    text = json.dumps(schema, indent=2)
    path.write_text(text, encoding="utf-8")
    return text.split("\n").index(next(line for line in text.split("\n") if f'"name": "{name}"' in line)) + 1


@pytest.mark.parametrize(
    ("name", "changes", "message"),
    [
        ("fatalities", {"constraint": ("minimum", "x")}, "constraint minimum='x' must be a number"),
        ("fatalities", {"constraint": ("maximum", "many")}, "constraint maximum='many' must be a number"),
        ("notes", {"constraint": ("maxLength", "x")}, "constraint maxLength='x' must be a whole number"),
        ("notes", {"constraint": ("pattern", "(")}, "constraint pattern='(' must be a valid regular expression"),
        ("notes", {"constraint": ("required", "yes")}, "constraint required='yes' must be true or false"),
        ("notes", {"constraint": ("enum", "abc")}, "constraint enum='abc' must be a list"),
        ("fatalities", {"constraints": ["required"]}, "constraints must be an object"),
        ("fatalities", {"eventdata": []}, "eventdata must be an object"),
        ("event_type", {"eventdata": {"vocabulary": 3}}, "eventdata.vocabulary=3 must be a string"),
        (
            "source_scale",
            {"eventdata": {"vocabulary": "source_scales"}},
            "eventdata.vocabulary='source_scales' must name",
        ),
        ("fatalities", {"description": 5}, "description=5 must be a string"),
    ],
)
def test_events_schema_value_of_the_wrong_type_exit_2_at_its_field(
    project: Project, name: str, changes: dict[str, object], message: str
) -> None:
    line = edit_schema_field(project, name, **changes)
    result = run(project, "validate")
    assert_cannot_run(result, f"events.schema.json:{line}: {name} [schema-error] {message}")


def test_events_schema_field_not_an_object_exit_2(project: Project) -> None:
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"][0] = "event_id_cnty"
    schema["primaryKey"] = "event_id_cnty"
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    assert_cannot_run(run(project, "validate"), "every entry of 'fields' must be an object, not 'event_id_cnty'")


def _without_created(descriptor: dict[str, object]) -> None:
    del descriptor["created"]


def _resources_text(descriptor: dict[str, object]) -> None:
    descriptor["resources"] = "data/events.csv"


def _source_without_sha256(descriptor: dict[str, Any]) -> None:
    del descriptor["eventdata:sources"][0]["sha256"]


def _events_without_schema(descriptor: dict[str, Any]) -> None:
    del next(r for r in descriptor["resources"] if r["name"] == "events")["schema"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_without_created, "'created' must be the release time"),
        (_resources_text, "'resources' must be a list"),
        (_source_without_sha256, "eventdata:sources[0] must be an object with a 'path' and a 'sha256'"),
        (_events_without_schema, "(events).schema must be the events' Table Schema"),
    ],
)
@pytest.mark.parametrize("command", [["verify", "--no-rebuild"], ["diff", "1.1.0", "1.1.1"], ["release"]])
def test_damaged_release_datapackage_json_exit_2(
    releases: Project, damage: Callable[[dict[str, Any]], None], message: str, command: list[str]
) -> None:
    reword_a_column(releases)
    path = releases.root / SEEDS / "1.1.1" / "datapackage.json"  # the latest release, which `release` reads
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    damage(descriptor)
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    before = sorted(p.name for p in (releases.root / SEEDS).iterdir())
    assert_cannot_run(run(releases, *command), "1.1.1/datapackage.json:", message, "restore it")
    assert sorted(p.name for p in (releases.root / SEEDS).iterdir()) == before


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("licenses", 5, "'licenses' must be a list of objects, not 5"),
        ("licenses", [5], "'licenses' must be a list of objects, not [5]"),
        ("contributors", [5], "'contributors' must be a list of objects, not [5]"),
        ("keywords", "conflict", "'keywords' must be a list of strings, not 'conflict'"),
        ("eventdata:changes", [1], "'eventdata:changes' must be an object, not [1]"),
    ],
)
@pytest.mark.parametrize("target", ["zenodo", "ckan"])
def test_publish_check_of_a_release_with_metadata_of_the_wrong_shape_exit_2(
    releases: Project, key: str, value: Any, said: str, target: str
) -> None:
    path = releases.dist_dir / "eventdata-seeds" / "1.1.0" / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor[key] = value
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    organization = ["--organization", "acme"] if target == "ckan" else []
    result = run(
        releases, "publish", "1.1.0", "--to", target, "--base-url", "http://127.0.0.1:9", *organization, "--check"
    )
    assert_cannot_run(result, str(path), said, "the release is damaged")


def delete_schema_field(project: Project, name: str) -> None:
    """Remove one field (and its primary key entry) from events.schema.json."""
    path = project.schemas_dir / "events.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != name]
    schema["primaryKey"] = [k for k in schema.get("primaryKey", []) if k != name]
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fatalities", "fatalities [schema-error] the field is missing; eventdata needs it for the check"),
        ("event_date", "event_date [schema-error] no field has type 'date'"),
        ("event_type", "event_type [schema-error] the field is missing"),
        ("sub_event_type", "sub_event_type [schema-error] the field is missing"),
        ("civilian_targeting", "civilian_targeting [schema-error] the field is missing"),
        ("article_id", "article_id [schema-error] the field is missing"),
        ("evidence", "evidence [schema-error] the field is missing"),
        ("event_id_cnty", "event_id_cnty [schema-error] the field is missing"),
        ("inter1", "derived 'interaction' needs two actor-type columns"),
        ("inter2", "derived 'interaction' needs two actor-type columns"),
    ],
)
def test_events_schema_without_a_field_the_code_reads_exit_2(project: Project, name: str, message: str) -> None:
    delete_schema_field(project, name)
    assert_cannot_run(run(project, "validate"), "events.schema.json", message)


@pytest.mark.parametrize("name", ["year", "disorder_type", "interaction", "tags"])
def test_events_schema_without_a_field_the_code_does_not_need_still_validates(project: Project, name: str) -> None:
    delete_schema_field(project, name)
    result = run(project, "validate")
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "type_", "message"),
    [
        ("admin1", "integer", "eventdata needs type 'string' here (derived 'place')"),
        ("admin2", "integer", "eventdata needs type 'string' here (derived 'place')"),
        ("admin3", "date", "eventdata needs type 'string' here (derived 'place')"),
        ("latitude", "integer", "eventdata needs type 'number' here (derived 'place')"),
        ("event_id_cnty", "integer", "pattern only on string fields, and this one has type 'integer'"),
        ("event_id_cnty", "number", "pattern only on string fields, and this one has type 'number'"),
        ("event_date", "string", "eventdata needs type 'date' here"),
        ("article_id", "integer", "pattern only on string fields, and this one has type 'integer'"),
        ("evidence", "number", "eventdata needs type 'string' here (read by the check"),
        ("fatalities", "number", "eventdata needs type 'integer' here (read by the check fatalities-not-allowed)"),
        ("region", "number", "eventdata needs type 'string' here (derived 'region')"),
        ("source_scale", "integer", "a list of vocabulary values (eventdata.separator) must have type 'string'"),
    ],
)
def test_events_schema_field_of_the_wrong_type_exit_2_at_its_field(
    project: Project, name: str, type_: str, message: str
) -> None:
    line = edit_schema_field(project, name, type=type_)
    assert_cannot_run(run(project, "validate"), f"events.schema.json:{line}: {name} [schema-error]", message)


@pytest.mark.parametrize(
    "name", ["fatalities", "year", "iso", "interaction", "latitude", "longitude", "timestamp", "event_date"]
)
@pytest.mark.parametrize("key", ["pattern", "maxLength"])
def test_events_schema_text_constraint_on_a_field_not_text_exit_2(project: Project, name: str, key: str) -> None:
    line = edit_schema_field(project, name, constraint=(key, "^x$" if key == "pattern" else 3))
    assert_cannot_run(
        run(project, "validate"),
        f"events.schema.json:{line}: {name} [schema-error] constraint {key}=",
        f"eventdata checks {key} only on string fields",
    )

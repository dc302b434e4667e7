"""The codebook in schemas/ and what is generated from it."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from eventdata.cli import cli
from eventdata.errors import SchemaFileError
from eventdata.project import init_project
from eventdata.schema import codebook_markdown, load_codebook, to_arrow_schema, to_pandera
from eventdata.tables import CodebookError, codebook_package
from tests.conftest import REPO

ACLED_COLUMNS = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
]


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", target)
    return target


def edit_field(schemas: Path, name: str, **changes: object) -> None:
    path = schemas / "events.schema.json"
    data = json.loads(path.read_text())
    for field in data["fields"]:
        if field["name"] == name:
            field.update(changes)
    path.write_text(json.dumps(data))


def test_schema_has_acled_columns_in_order_then_provenance() -> None:
    codebook = load_codebook(REPO / "schemas")
    assert codebook.field_names == [*ACLED_COLUMNS, "article_id", "evidence", "coder"]


def test_schema_expands_vocabularies_into_enums() -> None:
    codebook = load_codebook(REPO / "schemas")
    assert codebook.field("event_type")["constraints"]["enum"] == [
        "Battles",
        "Protests",
        "Riots",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Strategic developments",
    ]
    assert len(codebook.field("sub_event_type")["constraints"]["enum"]) == 25
    assert codebook.field("time_precision")["constraints"]["enum"] == [1, 2, 3]
    pattern = codebook.field("source_scale")["constraints"]["pattern"]
    assert re.fullmatch(pattern, "National-International")
    assert not re.fullmatch(pattern, "National-Galactic")


def test_schema_rejects_unsupported_constraint_naming_the_field(schemas: Path) -> None:
    edit_field(schemas, "fatalities", constraints={"required": True, "exclusiveMinimum": 0})
    with pytest.raises(SchemaFileError, match=r"fatalities \[schema-error\] .*exclusiveMinimum"):
        load_codebook(schemas)


def test_schema_rejects_unsupported_type(schemas: Path) -> None:
    edit_field(schemas, "notes", type="geojson")
    with pytest.raises(SchemaFileError, match=r"notes \[schema-error\] .*geojson"):
        load_codebook(schemas)


def test_schema_rejects_enum_beside_vocabulary(schemas: Path) -> None:
    edit_field(schemas, "event_type", constraints={"enum": ["Battles"]})
    with pytest.raises(SchemaFileError, match="either a vocabulary or an enum"):
        load_codebook(schemas)


def test_schema_reports_invalid_json_with_position(schemas: Path) -> None:
    (schemas / "events.schema.json").write_text('{"fields": [\n  {"name": "a",}\n]}')
    with pytest.raises(SchemaFileError, match=r"events.schema.json:2:\d+: not valid JSON"):
        load_codebook(schemas)


def test_schema_missing_vocabulary_is_named(schemas: Path) -> None:
    (schemas / "vocabularies" / "regions.csv").unlink()
    with pytest.raises(SchemaFileError, match=r"regions"):
        load_codebook(schemas)


def test_arrow_schema_types_follow_the_codebook() -> None:
    schema = to_arrow_schema(load_codebook(REPO / "schemas"))
    assert schema.field("event_date").type == pa.date32()
    assert schema.field("fatalities").type == pa.int64()
    assert schema.field("inter1").type == pa.int8()
    assert schema.field("iso").type == pa.int16()
    assert schema.field("event_type").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("source_scale").type == pa.string()  # a joined set, not one category
    assert schema.field("latitude").type == pa.float64()
    assert schema.field("event_id_cnty").nullable is False
    assert schema.field("actor2").nullable is True
    assert schema.field("fatalities").metadata[b"description"].startswith(b"Lowest reported")


def test_pandera_schema_enforces_each_constraint_kind() -> None:
    generated = to_pandera(load_codebook(REPO / "schemas"))
    columns = generated.schema.columns
    assert columns["event_id_cnty"].unique is True
    assert columns["actor2"].nullable is True
    assert columns["actor1"].nullable is False
    checks = {name: [str(c) for c in column.checks] for name, column in columns.items()}
    assert any("isin" in c for c in checks["event_type"])
    assert any("greater_than_or_equal_to(0)" in c for c in checks["fatalities"])
    assert any("less_than_or_equal_to(90)" in c for c in checks["latitude"])
    assert any("str_matches" in c for c in checks["event_id_cnty"])


def test_pandera_schema_accepts_what_the_table_schema_accepts() -> None:
    generated = to_pandera(load_codebook(REPO / "schemas"))
    column = generated.schema.columns["event_id_cnty"]
    good = pd.Series(["SYR1", "IRQ123"], dtype=pd.StringDtype("pyarrow"), name="event_id_cnty")
    bad = pd.Series(["SYR1x", "syr1", "SY1"], dtype=pd.StringDtype("pyarrow"), name="event_id_cnty")
    frame = pd.DataFrame({"event_id_cnty": good})
    assert column.validate(frame) is not None
    for value in bad:
        with pytest.raises(Exception, match="str_matches"):  # noqa: PT011  # pandera's SchemaError
            column.validate(pd.DataFrame({"event_id_cnty": pd.Series([value], dtype=pd.StringDtype("pyarrow"))}))


def test_pattern_check_in_arrow_agrees_with_the_distinct_value_path() -> None:
    """A unique column's Arrow-backed text is matched as it is, other columns per distinct value: the same
    answers, missing values left to nullable."""
    generated = to_pandera(load_codebook(REPO / "schemas"))
    assert load_codebook(REPO / "schemas").field("event_id_cnty")["constraints"]["unique"] is True
    (check,) = [c for c in generated.schema.columns["event_id_cnty"].checks if "str_matches" in str(c)]
    values = ["SYR1", "SYR1x", None, "syr1", "IRQ123", "SYR1", " SYR1", "SY1", None, "AFG07"]
    answers = [True, False, False, True, True, False, False, True]  # pandera leaves the missing values out
    for dtype in (pd.StringDtype("pyarrow"), object):
        result = check(pd.Series(values, dtype=dtype)).check_output
        assert result.dtype == bool
        assert result.tolist() == answers, dtype


def test_codebook_markdown_lists_every_column_and_vocabulary() -> None:
    codebook = load_codebook(REPO / "schemas")
    text = codebook_markdown(codebook)
    for name in codebook.field_names:
        assert f"`{name}`" in text
    for vocabulary in codebook.vocabularies:
        assert f"## {vocabulary}" in text
    assert "Excessive force against protesters" in text


@pytest.mark.parametrize(("key", "value"), [("hdx", [1, 2]), ("hdx", "weekly"), ("redistribution", 5)])
def test_dataset_json_hdx_or_redistribution_not_an_object_is_a_codebook_error(
    tmp_path: Path, key: str, value: object
) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(Path(__file__).resolve().parent.parent / "schemas", schemas)
    path = schemas / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**dataset, key: value}), encoding="utf-8")
    with pytest.raises(
        SchemaFileError, match=rf"dataset\.json:1: {key}=.* \[dataset-error\] must be an object \(\{{\.\.\.\}}\)"
    ):
        load_codebook(schemas)


# --- the codebook's own files, described (schemas/tables/, schemas/dataset.schema.json) ----------


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_every_codebook_csv_is_described_by_a_table_schema() -> None:
    codebook = load_codebook(REPO / "schemas")
    files = {p.stem for p in (REPO / "schemas").glob("*.csv")} | {
        p.stem for p in (REPO / "schemas" / "vocabularies").glob("*.csv")
    }
    assert set(codebook.tables) == files
    for name, schema in codebook.tables.items():
        assert schema.path == REPO / "schemas" / "tables" / f"{name}.schema.json"
        frame = codebook.vocabularies.get(name, codebook.lists.get(name))
        assert frame is not None
        assert set(schema.required_columns()) <= set(frame.columns), name


def test_the_codebook_declares_its_keys_and_foreign_keys() -> None:
    tables = load_codebook(REPO / "schemas").tables
    references = {
        (name, key["fields"][0], key["reference"]["resource"], key["reference"]["fields"][0])
        for name, schema in tables.items()
        for key in schema.foreign_keys
    }
    assert {
        ("sub_event_types", "event_type", "event_types", "event_type"),
        ("countries", "region", "regions", "region"),
        ("actors", "inter", "actor_types", "inter"),
        ("actors", "country", "countries", "country"),
        ("places", "country", "countries", "country"),
    } <= references
    assert tables["event_types"].primary_key == ["event_type"]
    assert tables["rules"].primary_key == ["code"]
    assert tables["event_types"].field("inter1") == {
        **tables["event_types"].field("inter1"),  # type: ignore[dict-item]
        "type": "list",
        "itemType": "integer",
        "delimiter": ";",
    }


def test_role_value_reads_the_roles_the_vocabularies_declare() -> None:
    codebook = load_codebook(REPO / "schemas")
    assert codebook.role_value("actor_types", "state-forces") == "1"
    assert codebook.role_value("actor_types", "external-forces") == "8"
    assert codebook.role_value("actor_types", "no-actor") == "0"
    assert codebook.role_value("time_precision", "month") == "3"
    assert codebook.role_value("time_precision", "week") == "2"
    assert codebook.role_value("event_types", "battles") == "Battles"
    assert codebook.role_values("time_precision") == {"day": "1", "week": "2", "month": "3"}


def test_a_role_moved_in_the_codebook_moves_the_value(schemas: Path) -> None:
    path = schemas / "vocabularies" / "time_precision.csv"
    rows = _csv_rows(path)
    role = rows[0].index("role")
    rows[2][role], rows[3][role] = rows[3][role], rows[2][role]  # week ↔ month
    _write_csv(path, rows)
    codebook = load_codebook(schemas)
    assert codebook.role_value("time_precision", "month") == "2"
    assert codebook.role_value("time_precision", "week") == "3"


def test_a_vocabulary_without_its_role_column_takes_the_default_codebooks_roles(schemas: Path) -> None:
    path = schemas / "vocabularies" / "actor_types.csv"
    rows = _csv_rows(path)
    role = rows[0].index("role")
    _write_csv(path, [r[:role] + r[role + 1 :] for r in rows])
    codebook = load_codebook(schemas)
    assert "role" not in codebook.vocabulary("actor_types").columns
    assert codebook.role_value("actor_types", "state-forces") == "1"


def test_a_role_no_row_has_is_named(schemas: Path) -> None:
    path = schemas / "vocabularies" / "actor_types.csv"
    rows = _csv_rows(path)
    role = rows[0].index("role")
    for row in rows[1:]:
        if row[role] == "external-forces":
            row[role] = ""
    _write_csv(path, rows)
    codebook = load_codebook(schemas)
    with pytest.raises(SchemaFileError, match=r"actor_types.csv: no row has role 'external-forces'"):
        codebook.role_value("actor_types", "external-forces")


def test_a_role_the_codebook_does_not_declare_is_located(schemas: Path) -> None:
    path = schemas / "vocabularies" / "actor_types.csv"
    rows = _csv_rows(path)
    rows[3][rows[0].index("role")] = "police"
    _write_csv(path, rows)
    with pytest.raises(CodebookError, match=r"actor_types.csv:4: role='police' \[enum-error\]") as raised:
        load_codebook(schemas)
    assert [(p.code, p.line, p.column, p.value) for p in raised.value.problems] == [("enum-error", 4, "role", "police")]


def test_a_dataset_without_the_descriptions_uses_the_default_codebooks(schemas: Path) -> None:
    shutil.rmtree(schemas / "tables")
    (schemas / "dataset.schema.json").unlink()
    codebook = load_codebook(schemas)
    assert codebook.tables["countries"].path == REPO / "schemas" / "tables" / "countries.schema.json"
    path = schemas / "vocabularies" / "countries.csv"
    rows = _csv_rows(path)
    rows[5][rows[0].index("region")] = "Atlantis"
    _write_csv(path, rows)
    with pytest.raises(CodebookError, match=r"countries.csv:6: region='Atlantis' \[foreign-key-error\]"):
        load_codebook(schemas)


def test_an_unknown_eventdata_key_in_events_schema_names_it_and_the_allowed_ones(schemas: Path) -> None:
    edit_field(schemas, "fatalities", eventdata={"derivd": "year"})
    with pytest.raises(
        SchemaFileError, match=r"fatalities \[schema-error\] unknown key\(s\) \['derivd'\] .*allowed: \["
    ):
        load_codebook(schemas)


def test_an_unknown_eventdata_key_in_a_table_schema_names_it_and_the_allowed_ones(schemas: Path) -> None:
    path = schemas / "tables" / "countries.schema.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["fields"][1]["eventdata"] = {"optionnal": True}
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    with pytest.raises(CodebookError) as raised:
        load_codebook(schemas)
    (problem,) = raised.value.problems
    assert (problem.code, problem.column, problem.value) == ("schema-error", "iso3", "optionnal")
    assert problem.file.endswith("tables/countries.schema.json")
    assert problem.line is not None
    assert "allowed: ['optional', 'vocabulary']" in problem.message


def test_place_list_row_problems_are_kept_for_validate_at_their_line(schemas: Path) -> None:
    path = schemas / "places.csv"
    rows = _csv_rows(path)
    rows[2][rows[0].index("longitude")] = "east"
    _write_csv(path, rows[:1] + [[], [], []] + rows[1:])  # three blank lines: the second place is on line 6
    codebook = load_codebook(schemas)
    assert [(p.code, p.line, p.column, p.value) for p in codebook.list_problems] == [
        ("type-error", 6, "longitude", "east")
    ]


def test_dataset_json_is_checked_against_its_json_schema(schemas: Path) -> None:
    path = schemas / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8"))
    dataset["name"] = "My Events"
    dataset["licenses"] = [{"title": "no name, no path"}]
    dataset["redistribution"] = {"acled-terms": {"granted_by": "ACLED"}}
    path.write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    with pytest.raises(CodebookError) as raised:
        load_codebook(schemas)
    found = {(p.code, p.column): p for p in raised.value.problems}
    assert set(found) == {
        ("dataset-error", "name"),
        ("dataset-error", "licenses[0]"),
        ("dataset-error", "redistribution.acled-terms.reference"),
    }
    assert found["dataset-error", "name"].value == '"My Events"'
    assert found["dataset-error", "name"].line == 2
    assert "lower case letters" in found["dataset-error", "name"].message


def test_a_dataset_name_over_the_length_limit_is_a_dataset_error(schemas: Path) -> None:
    path = schemas / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8"))
    dataset["name"] = "events-" + "x" * 94  # 101 characters, each allowed by the pattern
    path.write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    with pytest.raises(CodebookError) as raised:
        load_codebook(schemas)
    (problem,) = raised.value.problems
    assert (problem.code, problem.column, problem.line) == ("dataset-error", "name", 2)
    assert problem.value == json.dumps(dataset["name"])
    assert "101 characters; at most 100" in problem.message
    licensed_first = {"licenses": dataset["licenses"], **dataset}  # a "name" of a licence comes first
    text = json.dumps(licensed_first, indent=2)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError) as raised:
        load_codebook(schemas)
    (problem,) = raised.value.problems
    assert text.splitlines()[problem.line - 1].strip().startswith(f'"name": "{dataset["name"]}"')
    dataset["name"] = dataset["name"][:100]
    path.write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    assert load_codebook(schemas).dataset["name"] == dataset["name"]


def test_init_ships_the_descriptions_and_a_new_dataset_validates(tmp_path: Path) -> None:
    project = init_project(tmp_path / "new")
    assert (project.schemas_dir / "dataset.schema.json").is_file()
    assert {p.name for p in (project.schemas_dir / "tables").iterdir()} == {
        p.name for p in (REPO / "schemas" / "tables").iterdir()
    }
    assert CliRunner().invoke(cli, ["--project", str(project.root), "validate"]).exit_code == 0
    path = project.schemas_dir / "vocabularies" / "event_types.csv"
    rows = _csv_rows(path)
    rows[1][rows[0].index("actor2")] = "sometimes"
    _write_csv(path, rows)
    result = CliRunner().invoke(cli, ["--project", str(project.root), "validate"])
    assert result.exit_code == 2
    assert "event_types.csv:2: actor2='sometimes' [enum-error]" in result.output


def test_loading_the_codebook_does_not_import_frictionless() -> None:
    code = (
        "import sys, time\n"
        "from eventdata.schema import load_codebook\n"
        f"load_codebook({str(REPO / 'schemas')!r})\n"
        "start = time.perf_counter()\n"
        f"load_codebook({str(REPO / 'schemas')!r})\n"
        "print(time.perf_counter() - start)\n"
        "assert 'frictionless' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 1.0  # measured: about 0.05 s for the seeds codebook


@pytest.mark.slow
def test_frictionless_reads_the_shipped_codebook_as_a_valid_data_package() -> None:
    import frictionless

    schemas = REPO / "schemas"
    paths = sorted((schemas / "vocabularies").glob("*.csv")) + sorted(schemas.glob("*.csv"))
    descriptor = codebook_package(schemas, paths)
    assert len(descriptor["resources"]) == len(paths)
    report = frictionless.Package(descriptor, basepath=str(schemas)).validate()
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "column", "value", "ours", "line", "theirs"),
    [
        ("countries", "region", "Atlantis", "foreign-key-error", 2, "foreign-key"),
        ("sub_event_types", "max_fatalities", "x", "type-error", 2, "type-error"),
        ("event_types", "actor2", "sometimes", "enum-error", 2, "constraint-error"),
        ("countries", "country", "Albania", "primary-key-error", 4, "primary-key"),  # Albania's own row, line 4
    ],
)
def test_frictionless_finds_what_eventdata_finds(
    schemas: Path, table: str, column: str, value: str, ours: str, line: int, theirs: str
) -> None:
    import frictionless

    path = schemas / "vocabularies" / f"{table}.csv"
    rows = _csv_rows(path)
    rows[1][rows[0].index(column)] = value
    _write_csv(path, rows)
    with pytest.raises(CodebookError) as raised:
        load_codebook(schemas)
    assert (ours, line, column) in {(p.code, p.line, p.column) for p in raised.value.problems}
    paths = sorted((schemas / "vocabularies").glob("*.csv")) + sorted(schemas.glob("*.csv"))
    report = frictionless.Package(codebook_package(schemas, paths), basepath=str(schemas)).validate()
    assert theirs in {error.type for task in report.tasks for error in task.errors}


def test_the_human_readable_codebook_describes_the_codebook_files() -> None:
    text = codebook_markdown(load_codebook(REPO / "schemas"))
    section = text[text.index("## Codebook files") :]
    assert "### schemas/vocabularies/sub_event_types.csv" in section
    assert "`event_type` → `event_types.event_type`" in section
    assert "| `inter1` | list of integer joined by ';' |" in section
    assert "its rows are data" in section  # places.csv


def test_a_codebook_made_before_the_descriptions_loads_with_the_default_ones() -> None:
    old = REPO / "dist-data" / "eventdata-seeds" / "1.1.0" / "sources" / "schemas"
    assert not (old / "tables").exists()
    codebook = load_codebook(old)
    assert codebook.tables["actors"].path == REPO / "schemas" / "tables" / "actors.schema.json"
    assert "role" not in codebook.vocabulary("actor_types").columns
    assert codebook.role_value("actor_types", "state-forces") == "1"
    assert codebook.role_value("time_precision", "month") == "3"
    assert "## Codebook files" not in codebook_markdown(codebook)  # its codebook.md is the one released

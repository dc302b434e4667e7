"""The codebook in schemas/ and what is generated from it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from eventdata.errors import SchemaFileError
from eventdata.schema import codebook_markdown, load_codebook, to_arrow_schema, to_pandera
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
    with pytest.raises(SchemaFileError, match=r"'fatalities'.*exclusiveMinimum"):
        load_codebook(schemas)


def test_schema_rejects_unsupported_type(schemas: Path) -> None:
    edit_field(schemas, "notes", type="geojson")
    with pytest.raises(SchemaFileError, match=r"'notes'.*geojson"):
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
    with pytest.raises(SchemaFileError, match=rf"dataset\.json: {key} must be an object \(\{{\.\.\.\}}\), not "):
        load_codebook(schemas)

"""Every codebook file kind, damaged every way: located problems and exit 1 or 2, never 3 (#9).

The cases are generated from the Table Schemas in schemas/tables/: a missing column, a value of the wrong
type, an empty required cell, a duplicate key, a dangling foreign key, blank lines, a byte order mark, an
empty file and a ragged row, for every CSV of the codebook that has a description. Each drives
`eventdata validate` on a copy of the dataset.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventdata.cli import cli
from eventdata.project import Project
from tests.conftest import REPO, copy_dataset

TABLES = REPO / "schemas" / "tables"


def csv_path(name: str) -> str:
    """The path of a codebook table inside schemas/."""
    return (
        f"vocabularies/{name}.csv" if (REPO / "schemas" / "vocabularies" / f"{name}.csv").is_file() else f"{name}.csv"
    )


def descriptor(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((TABLES / f"{name}.schema.json").read_text(encoding="utf-8"))
    return result


NAMES = sorted(p.name.removesuffix(".schema.json") for p in TABLES.glob("*.schema.json"))


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write(path: Path, rows: list[list[str]], prefix: str = "") -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(prefix + out.getvalue(), encoding="utf-8")


@dataclass(frozen=True)
class Damage:
    """One way to break one codebook file, and the located problem it must give."""

    table: str
    kind: str
    column: str | None = None
    value: str = ""

    @property
    def id(self) -> str:
        return f"{self.table}-{self.kind}" + (f"-{self.column}" if self.column else "")


def wrong_value(field: dict[str, Any]) -> tuple[str, str] | None:
    """A value the field cannot take and the code that says so, or None for free text."""
    type_ = field.get("type", "string")
    constraints = field.get("constraints", {})
    if type_ in ("integer", "number", "date"):
        return "x?", "type-error"
    if type_ == "list" and field.get("itemType") == "integer":
        return "1;x?", "type-error"
    if "enum" in constraints:
        return "x?", "enum-error"
    if "pattern" in constraints:
        return "x?", "pattern-error"
    return None


def damages() -> list[Damage]:
    found = []
    for name in NAMES:
        schema = descriptor(name)
        fields = schema["fields"]
        required = [f for f in fields if not f.get("eventdata", {}).get("optional")]
        found.append(Damage(name, "missing-column", required[0]["name"]))
        ranked = sorted(fields, key=lambda f: wrong_value(f) is None or wrong_value(f)[1] != "type-error")  # type: ignore[index]
        typed = next((f for f in ranked if wrong_value(f) is not None), None)
        if typed is not None:
            found.append(Damage(name, "wrong-type", typed["name"]))
            found.append(Damage(name, "blank-lines", typed["name"]))
        needed = next((f for f in fields if f.get("constraints", {}).get("required")), None)
        if needed is not None and len(fields) > 1:  # a one-column row left empty is a blank line
            found.append(Damage(name, "blank-required", needed["name"]))
        if schema.get("primaryKey"):
            found.append(Damage(name, "duplicate-key", schema["primaryKey"][0]))
        for key in schema.get("foreignKeys", []):
            found.append(Damage(name, "dangling-foreign-key", key["fields"][0]))
        for field in fields:
            if field.get("eventdata", {}).get("vocabulary"):
                found.append(Damage(name, "dangling-foreign-key", field["name"]))
        found.append(Damage(name, "empty-file"))
        found.append(Damage(name, "ragged-row"))
    return found


DAMAGES = damages()


def first_row_with(rows: list[list[str]], column: str) -> int:
    """The index of the first data row with a value in the column."""
    index = rows[0].index(column)
    return next(i for i, row in enumerate(rows) if i and row[index].strip() not in ("", "*"))


def apply(damage: Damage, path: Path) -> tuple[int, str | None, str]:
    """Break the file; return the line, column and code of the problem it must give."""
    rows = read(path)
    field = next((f for f in descriptor(damage.table)["fields"] if f["name"] == damage.column), {})
    if damage.kind == "missing-column":
        index = rows[0].index(damage.column)
        write(path, [r[:index] + r[index + 1 :] for r in rows])
        if len(rows[0]) == 1:  # the only column: nothing is left
            return 1, None, "empty-file"
        return 1, damage.column, "missing-column"
    if damage.kind in ("wrong-type", "blank-lines"):
        value, code = wrong_value(field) or ("", "")
        rows[1][rows[0].index(damage.column)] = value
        if damage.kind == "blank-lines":
            write(path, rows[:1] + [[], []] + rows[1:])  # two blank lines after the header: row 1 is line 4
            return 4, damage.column, code
        write(path, rows)
        return 2, damage.column, code
    if damage.kind == "blank-required":
        rows[1][rows[0].index(damage.column)] = ""
        write(path, rows)
        return 2, damage.column, "required-error"
    if damage.kind == "duplicate-key":
        write(path, [*rows, rows[1]])
        return len(rows) + 1, damage.column, "primary-key-error"
    if damage.kind == "dangling-foreign-key":
        number = first_row_with(rows, damage.column)
        integer = field.get("type") == "integer" or field.get("itemType") == "integer"
        rows[number][rows[0].index(damage.column)] = "997" if integer else "Nowhere"
        write(path, rows)
        return number + 1, damage.column, "foreign-key-error"
    if damage.kind == "empty-file":
        path.write_bytes(b"")
        return 1, None, "empty-file"
    assert damage.kind == "ragged-row"
    rows[1].append("stray")
    write(path, rows)
    return 2, None, "extra-cell"


def run_validate(project: Project) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), "validate"])


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.id for d in DAMAGES])
def test_damaged_codebook_file_gives_located_problems_never_a_crash(tmp_path: Path, damage: Damage) -> None:
    project = copy_dataset(tmp_path / "dataset", seed_sheet_only=True)
    relative = csv_path(damage.table)
    line, column, code = apply(damage, project.schemas_dir / relative)
    result = run_validate(project)
    output = result.output
    assert result.exit_code in (1, 2), output
    assert "Traceback" not in output, output
    assert "bug in eventdata" not in output, output
    place = f"schemas/{relative}:{line}:"
    # The place list's rows are data (its Table Schema says "rows": "data"): `validate` reports the problems
    # of its cells as it reports a sheet's, with the place list's own checks (exit 1).
    data_rows = descriptor(damage.table).get("eventdata", {}).get("rows") == "data" and damage.kind in (
        "wrong-type",
        "blank-lines",
        "blank-required",
        "dangling-foreign-key",
    )
    if data_rows and damage.kind == "dangling-foreign-key":
        assert result.exit_code == 1, output  # the place list names a country the vocabulary lacks
        assert f"{place} {column}='Nowhere' [foreign-key-error]" in output, output  # its Table Schema's code
        assert sum("'Nowhere'" in text for text in output.splitlines()) == 1, output  # reported once
        return
    located = [text for text in output.splitlines() if place in text and f"[{code}]" in text]
    assert located, f"no {code} problem at {place} in:\n{output}"
    if column is not None:
        assert f" {column}" in located[0], located[0]
    assert result.exit_code == (1 if data_rows else 2), output


def test_every_codebook_file_kind_is_fuzzed() -> None:
    kinds = {(d.table, d.kind) for d in DAMAGES}
    assert {name for name, _ in kinds} == set(NAMES)
    assert {"actor_types", "countries", "event_types", "actors", "places", "rules"} <= set(NAMES)
    for name in NAMES:
        assert {(name, "missing-column"), (name, "empty-file"), (name, "ragged-row")} <= kinds
    # the foreign keys the issue names
    assert ("sub_event_types", "dangling-foreign-key") in kinds
    assert Damage("countries", "dangling-foreign-key", "region") in DAMAGES
    assert Damage("actors", "dangling-foreign-key", "inter") in DAMAGES
    assert Damage("places", "dangling-foreign-key", "country") in DAMAGES


def _with_bom_and_blank_lines(project: Project) -> None:
    for name in NAMES:
        path = project.schemas_dir / csv_path(name)
        rows = read(path)
        write(path, rows[:1] + [[]] + rows[1:] + [[], []], prefix="\ufeff")


def test_bom_and_blank_lines_in_every_codebook_file_still_validate(tmp_path: Path) -> None:
    project = copy_dataset(tmp_path / "dataset", seed_sheet_only=True)
    _with_bom_and_blank_lines(project)
    result = run_validate(project)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_several_broken_files_are_reported_together(tmp_path: Path) -> None:
    project = copy_dataset(tmp_path / "dataset", seed_sheet_only=True)
    apply(Damage("countries", "dangling-foreign-key", "region"), project.schemas_dir / "vocabularies/countries.csv")
    apply(Damage("rules", "duplicate-key", "code"), project.schemas_dir / "rules.csv")
    result = run_validate(project)
    assert result.exit_code == 2, result.output
    assert "schemas/vocabularies/countries.csv:2: region='Nowhere' [foreign-key-error]" in result.output
    assert "regions.region" in result.output
    assert "schemas/rules.csv:" in result.output
    assert "[primary-key-error]" in result.output

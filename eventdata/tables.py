"""The codebook's own files, described: a Table Schema for every CSV in schemas/, a JSON Schema for dataset.json.

Each CSV of the codebook (every vocabulary, the actor and place lists, rules.csv, acled_normalisations.csv)
is described by schemas/tables/<name>.schema.json: its columns with their types and constraints, its
primary key and its foreign keys to the other files (Table Schema 2.0; the ``eventdata`` sections say
which columns may be left out of older files and which list items name a vocabulary). dataset.json is
described by schemas/dataset.schema.json. A dataset whose schemas/ lacks one of these descriptions uses
the copy of the default codebook eventdata ships.

Every command loads the codebook, so the files are checked here in one pass over their records (a few
milliseconds for the seeds codebook); frictionless validates the same files as a Data Package
(`codebook_package`) in 1.5 s, which the test suite does to show that both agree.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata.errors import Problem, SchemaFileError
from eventdata.project import NAME_LENGTH_REASON, NAME_MAX_LENGTH
from eventdata.sources.sheets import CsvFileError, display_path, ragged_message, read_csv

TABLES_DIR = "tables"
SCHEMA_SUFFIX = ".schema.json"
DATASET_SCHEMA_FILE = "dataset.schema.json"
#: The column of a vocabulary that names the rows eventdata treats specially (its values: the field's enum).
ROLE_FIELD = "role"

TABLE_KEYS = (
    "$schema",
    "title",
    "description",
    "fields",
    "missingValues",
    "fieldsMatch",
    "primaryKey",
    "foreignKeys",
    "eventdata",
)
FIELD_KEYS = (
    "name",
    "type",
    "title",
    "description",
    "constraints",
    "missingValues",
    "delimiter",
    "itemType",
    "eventdata",
)
TYPES = ("string", "integer", "number", "date", "list")
ITEM_TYPES = ("string", "integer")
CONSTRAINTS = ("required", "unique", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength")
FIELDS_MATCH = ("subset", "equal", "exact")
#: Keys of a field's ``eventdata`` section: optional (the column may be left out of the file), vocabulary
#: ('table.column': every value, or every item of a list, is a value of that column).
FIELD_EVENTDATA_KEYS = ("optional", "vocabulary")
#: Keys of a table's ``eventdata`` section: rows ("stop": a problem in a row stops every command, the default;
#: "data": the rows are data coders extend, whose problems `validate` reports).
TABLE_EVENTDATA_KEYS = ("rows",)
ROWS = ("stop", "data")

#: What a cell of each type holds, as a coder is told.
TYPE_TEXT = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number such as 36.21",
    "date": "a date written YYYY-MM-DD",
}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class CodebookError(SchemaFileError):
    """Files of schemas/ break their descriptions: every problem, located (file, line, column, value, code)."""

    def __init__(self, problems: Sequence[Problem], limit: int = 30) -> None:
        self.problems = tuple(sorted(problems, key=Problem.sort_key))
        shown = [p.format() for p in self.problems[:limit]]
        more = len(self.problems) - len(shown)
        lines = [f"The codebook has {len(self.problems)} problem(s):", *shown]
        if more > 0:
            lines.append(f"... and {more} more.")
        lines.append(
            "Correct the codebook (see `eventdata codebook`, section Codebook files) and run the command again."
        )
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class TableSchema:
    """The Table Schema of one codebook file, from the dataset's schemas/tables/ or the default codebook's."""

    name: str
    path: Path
    descriptor: dict[str, Any]

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.descriptor.get("fields", []))

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def field(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self.fields if f["name"] == name), None)

    @property
    def primary_key(self) -> list[str]:
        key = self.descriptor.get("primaryKey", [])
        return [key] if isinstance(key, str) else list(key)

    @property
    def foreign_keys(self) -> list[dict[str, Any]]:
        return list(self.descriptor.get("foreignKeys", []))

    @property
    def rows_are_data(self) -> bool:
        """True when the rows are data coders extend (`validate` reports their problems)."""
        return bool(self.descriptor.get("eventdata", {}).get("rows") == "data")

    def required_columns(self) -> list[str]:
        """The columns the file must have: every field not marked optional."""
        return [f["name"] for f in self.fields if not f.get("eventdata", {}).get("optional")]


@dataclass(frozen=True)
class Table:
    """One codebook CSV: its header, its records (with the line each starts on) and its parsed values."""

    name: str
    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    parsed: list[dict[str, Any]]  # per well-formed row: field → parsed value (None when missing)
    unreadable: frozenset[str] = frozenset()  # fields with a cell that cannot be read: not a reference to check against

    def frame(self) -> pd.DataFrame:
        """The well-formed rows as strings, every column (described or not) in file order."""
        width = len(self.header)
        kept = [cells for _, cells in self.rows if len(cells) == width]
        columns = list(dict.fromkeys(self.header))
        return pd.DataFrame(
            {c: pd.Series([r[self.header.index(c)] for r in kept], dtype=object) for c in columns}, columns=columns
        )


def table_schema_path(schemas_dir: Path, name: str) -> Path | None:
    """The Table Schema describing <name>.csv: the dataset's, else the default codebook's, else None."""
    from eventdata.project import default_codebook_dir  # project imports the tool's modules

    for directory in (schemas_dir, default_codebook_dir()):
        path = directory / TABLES_DIR / f"{name}{SCHEMA_SUFFIX}"
        if path.is_file():
            return path
    return None


def dataset_schema_path(schemas_dir: Path) -> Path:
    """The JSON Schema of dataset.json: the dataset's, else the default codebook's."""
    from eventdata.project import default_codebook_dir

    own = schemas_dir / DATASET_SCHEMA_FILE
    return own if own.is_file() else default_codebook_dir() / DATASET_SCHEMA_FILE


# --- the descriptions themselves -----------------------------------------------------------------


def _line_of(text: str, pattern: str) -> int | None:
    found = re.search(pattern, text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def _name_line(text: str, name: str) -> int | None:
    """The line of a field's "name" in a descriptor (a plain search first: compiling a pattern per field is slow)."""
    start = text.find(f'"name": {json.dumps(name)}')
    if start >= 0:
        return text.count("\n", 0, start) + 1
    return _line_of(text, r'"name"\s*:\s*' + re.escape(json.dumps(name)))


def load_table_schema(name: str, path: Path) -> tuple[TableSchema | None, list[Problem]]:
    """Read and check one Table Schema: keys, types and constraints eventdata checks; problems are located."""
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
        descriptor = json.loads(text)
    except UnicodeDecodeError as err:
        return None, [Problem("encoding-error", f"not UTF-8 (byte {err.start}); save it as UTF-8.", where)]
    except json.JSONDecodeError as err:
        return None, [Problem("schema-error", f"not valid JSON ({err.msg}, column {err.colno}).", where, err.lineno)]
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("fields"), list) or not descriptor["fields"]:
        return None, [Problem("schema-error", "a Table Schema needs a non-empty 'fields' list.", where)]
    problems: list[Problem] = []

    def bad(message: str, column: str | None = None, value: Any = None, line: int | None = None) -> None:
        shown = None if value is None else (value if isinstance(value, str) else json.dumps(value))
        problems.append(Problem("schema-error", message, where, line, column, shown))

    for key in sorted(set(descriptor) - set(TABLE_KEYS)):
        bad(f"unknown key {key!r}; allowed: {list(TABLE_KEYS)}.", value=key, line=_line_of(text, f'"{re.escape(key)}"'))
    extra = descriptor.get("eventdata", {})
    if not isinstance(extra, dict):
        bad("eventdata must be an object ({...}).", value=extra)
        extra = {}
    for key in sorted(set(extra) - set(TABLE_EVENTDATA_KEYS)):
        bad(f"unknown key {key!r} in eventdata; allowed: {list(TABLE_EVENTDATA_KEYS)}.", value=key)
    if extra.get("rows", "stop") not in ROWS:
        bad(f"eventdata.rows must be one of {list(ROWS)}.", value=extra["rows"])
    if descriptor.get("fieldsMatch", "subset") not in FIELDS_MATCH:
        bad(f"fieldsMatch must be one of {list(FIELDS_MATCH)}.", value=descriptor["fieldsMatch"])
    missing_values = descriptor.get("missingValues", [""])
    if not isinstance(missing_values, list) or not all(isinstance(v, str) for v in missing_values):
        bad("missingValues must be a list of strings.", value=missing_values)
    names: list[str] = []
    for field in descriptor["fields"]:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            bad("every entry of 'fields' must be an object with a 'name'.", value=field)
            continue
        names.append(field["name"])
        problems += _field_problems(field, where, _name_line(text, field["name"]))
    for name_ in sorted({n for n in names if names.count(n) > 1}):
        bad("the field is described twice.", name_)
    schema = TableSchema(name, path, descriptor)
    primary_key = descriptor.get("primaryKey", [])
    if not isinstance(primary_key, str | list) or any(k not in names for k in schema.primary_key):
        bad(f"primaryKey must name fields of the schema ({', '.join(names)}).", value=primary_key)
    foreign_keys = descriptor.get("foreignKeys", [])
    for number, key in enumerate(foreign_keys if isinstance(foreign_keys, list) else [foreign_keys]):
        reference = key.get("reference") if isinstance(key, dict) else None
        if not (
            isinstance(reference, dict)
            and isinstance(reference.get("resource"), str)
            and _names(key.get("fields")) is not None
            and _names(reference.get("fields")) is not None
            and all(f in names for f in _names(key.get("fields")) or [])
            and len(_names(key.get("fields")) or []) == len(_names(reference.get("fields")) or [])
        ):
            bad(
                f'foreignKeys[{number}] must be {{"fields": [...], "reference": {{"resource": TABLE, '
                f'"fields": [...]}}}} naming fields of the schema.',
                value=key,
            )
    return (None if problems else schema), problems


def _names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _field_problems(field: dict[str, Any], where: str, line: int | None) -> list[Problem]:
    name = field["name"]
    problems: list[Problem] = []

    def bad(message: str, value: Any) -> None:
        shown = value if isinstance(value, str) else json.dumps(value)
        problems.append(Problem("schema-error", message, where, line, name, shown))

    for key in sorted(set(field) - set(FIELD_KEYS)):
        bad(f"unknown key {key!r}; allowed: {list(FIELD_KEYS)}.", key)
    type_ = field.get("type", "string")
    if type_ not in TYPES:
        bad(f"type {type_!r} is not supported; use one of {list(TYPES)}.", type_)
    if type_ == "list":
        if not isinstance(field.get("delimiter", ","), str) or not field.get("delimiter", ","):
            bad("delimiter must be a non-empty string.", field.get("delimiter"))
        if field.get("itemType", "string") not in ITEM_TYPES:
            bad(f"itemType must be one of {list(ITEM_TYPES)}.", field.get("itemType"))
    for key in ("title", "description"):
        if key in field and not isinstance(field[key], str):
            bad(f"{key} must be a string.", field[key])
    missing_values = field.get("missingValues", [])
    if not isinstance(missing_values, list) or not all(isinstance(v, str) for v in missing_values):
        bad("missingValues must be a list of strings.", missing_values)
    extra = field.get("eventdata", {})
    if not isinstance(extra, dict):
        bad("eventdata must be an object ({...}).", extra)
        extra = {}
    for key in sorted(set(extra) - set(FIELD_EVENTDATA_KEYS)):
        bad(f"unknown key {key!r} in eventdata; allowed: {list(FIELD_EVENTDATA_KEYS)}.", key)
    if "optional" in extra and not isinstance(extra["optional"], bool):
        bad("eventdata.optional must be true or false.", extra["optional"])
    reference = extra.get("vocabulary")
    if reference is not None and not (
        isinstance(reference, str) and re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", reference)
    ):
        bad("eventdata.vocabulary must name a column of a codebook file as 'table.column'.", reference)
    constraints = field.get("constraints", {})
    if not isinstance(constraints, dict):
        bad("constraints must be an object ({...}).", constraints)
        return problems
    for key in sorted(set(constraints) - set(CONSTRAINTS)):
        bad(f"constraint {key!r} cannot be checked by eventdata; supported: {list(CONSTRAINTS)}.", key)
    for key in ("required", "unique"):
        if key in constraints and not isinstance(constraints[key], bool):
            bad(f"constraint {key} must be true or false.", constraints[key])
    for key in ("minimum", "maximum"):
        value = constraints.get(key)
        if key in constraints and (type_ not in ("integer", "number") or isinstance(value, bool)):
            bad(f"constraint {key} applies to integer and number fields, as a number.", value)
        elif key in constraints and not isinstance(value, int | float):
            bad(f"constraint {key} must be a number (without quotes).", value)
    for key in ("minLength", "maxLength"):
        value = constraints.get(key)
        if key in constraints and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            bad(f"constraint {key} must be a whole number of 0 or more.", value)
    if "enum" in constraints and not isinstance(constraints["enum"], list):
        bad("constraint enum must be a list of values.", constraints["enum"])
    if "pattern" in constraints:
        try:
            re.compile(str(constraints["pattern"]))
        except re.error as err:
            bad(f"constraint pattern must be a valid regular expression ({err}).", constraints["pattern"])
    return problems


# --- the files -----------------------------------------------------------------------------------


def _parse(value: str, type_: str) -> Any:
    """A cell's value as its type; ValueError when it cannot be read."""
    if type_ == "string":
        return value
    text = value.strip()
    if type_ == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(text)
        return int(text)
    if type_ == "number":
        if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
            raise ValueError(text)
        return float(text)
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def _type_text(field: dict[str, Any]) -> str:
    type_ = field.get("type", "string")
    if type_ == "list":
        item = TYPE_TEXT[field.get("itemType", "string")]
        item = "whole numbers" if item == "a whole number" else "values"
        text = f"{item} joined by {field.get('delimiter', ',')!r}"
    else:
        text = TYPE_TEXT[type_]
    required = field.get("constraints", {}).get("required")
    return text + ("" if required else ", or empty")


def read_table(name: str, path: Path, schema: TableSchema | None) -> tuple[Table | None, list[Problem]]:
    """Read one codebook CSV and check it against its Table Schema (all but the foreign keys)."""
    where = display_path(path)
    try:
        records = read_csv(path)  # the one CSV reader: BOM, blank lines, multi-line cells at their first line
    except CsvFileError as err:
        detail = "the file is empty; it needs a header row." if err.code == "empty-file" else err.detail
        return None, [Problem(err.code, detail, where, 1 if err.code == "empty-file" else err.line)]
    header, rows = records.header, records.rows  # the header's cells stripped
    problems = _header_problems(header, schema, where)
    for line, cells in rows:
        if len(cells) != len(header):
            code = "extra-cell" if len(cells) > len(header) else "missing-cell"
            problems.append(Problem(code, ragged_message(len(cells), len(header)), where, line))
    if any(p.code in ("duplicate-column", "blank-header") for p in problems):
        return None, problems
    table_values: list[dict[str, Any]] = []
    if schema is not None:
        problems += _cell_problems(header, rows, schema, where, table_values)
    unreadable = frozenset(p.column for p in problems if p.code == "type-error" and p.column)
    return Table(name, path, header, rows, table_values, unreadable), problems


def _header_problems(header: list[str], schema: TableSchema | None, where: str) -> list[Problem]:
    problems: list[Problem] = []
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem("blank-header", f"header cell {position} is empty; name the column.", where, 1))
    for name in sorted({n for n in header if n and header.count(n) > 1}):
        problems.append(Problem("duplicate-column", "the header names this column twice.", where, 1, name))
    if schema is None:
        return problems
    for name in schema.required_columns():
        if name not in header:
            field = schema.field(name) or {}
            problems.append(
                Problem(
                    "missing-column",
                    f"the column is missing from the header ({', '.join(header)}); add it: "
                    f"{field.get('description') or name} ({_type_text(field)}).",
                    where,
                    1,
                    name,
                )
            )
    if schema.descriptor.get("fieldsMatch", "subset") in ("exact", "equal"):
        for name in header:
            if name and name not in schema.field_names:
                problems.append(
                    Problem(
                        "unknown-column",
                        f"the codebook describes only {', '.join(schema.field_names)}.",
                        where,
                        1,
                        name,
                    )
                )
    return problems


def _cell_problems(
    header: list[str], rows: list[tuple[int, list[str]]], schema: TableSchema, where: str, out: list[dict[str, Any]]
) -> list[Problem]:
    """Types and constraints of every described cell, unique values and the primary key; out gets the values."""
    problems: list[Problem] = []
    table_missing = schema.descriptor.get("missingValues", [""])
    present = [f for f in schema.fields if f["name"] in header]
    index = {f["name"]: header.index(f["name"]) for f in present}
    key = schema.primary_key
    seen: dict[str, dict[Any, int]] = {f["name"]: {} for f in present if f.get("constraints", {}).get("unique")}
    keys_seen: dict[tuple[Any, ...], int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            continue
        values: dict[str, Any] = {}
        for field in present:
            name = field["name"]
            raw = cells[index[name]]
            value = _cell_value(raw, field, table_missing, name in key, where, line, problems)
            values[name] = value
            if value is not None and name in seen:
                hashable = tuple(value) if isinstance(value, list) else value
                if hashable in seen[name]:
                    problems.append(
                        Problem(
                            "unique-error",
                            f"the value is also on line {seen[name][hashable]}; each row needs its own.",
                            where,
                            line,
                            name,
                            raw,
                        )
                    )
                else:
                    seen[name][hashable] = line
        out.append(values)
        if key and all(k in values for k in key) and all(values[k] is not None for k in key):
            pk = tuple(values[k] for k in key)
            if pk in keys_seen:
                problems.append(
                    Problem(
                        "primary-key-error",
                        f"the key ({', '.join(key)}) repeats line {keys_seen[pk]}; list each entry once.",
                        where,
                        line,
                        key[0],
                        cells[index[key[0]]],
                    )
                )
            else:
                keys_seen[pk] = line
    return problems


def _cell_value(
    raw: str,
    field: dict[str, Any],
    table_missing: list[str],
    in_key: bool,
    where: str,
    line: int,
    problems: list[Problem],
) -> Any:
    """One cell parsed and checked; None when missing or unreadable (then a problem says why)."""
    name = field["name"]
    type_ = field.get("type", "string")
    constraints = field.get("constraints", {})
    missing = field.get("missingValues", table_missing)
    if raw.strip() in missing or raw == "":
        if constraints.get("required") or in_key:
            problems.append(
                Problem(
                    "required-error",
                    f"the column needs a value: {field.get('description', name)}",
                    where,
                    line,
                    name,
                    raw,
                )
            )
        return None
    try:
        if type_ == "list":
            items = [item.strip() for item in raw.split(field.get("delimiter", ","))]
            value: Any = [_parse(item, field.get("itemType", "string")) for item in items]
        else:
            value = _parse(raw, type_)
    except ValueError:
        problems.append(
            Problem(
                "type-error",
                f"cannot be read: column {name!r} holds {_type_text(field)}; correct the value.",
                where,
                line,
                name,
                raw,
            )
        )
        return None
    scalar = value if type_ != "list" else None
    if "enum" in constraints and scalar is not None and scalar not in constraints["enum"]:
        enum = [str(v) for v in constraints["enum"]]
        allowed = " or ".join(enum) if len(enum) <= 2 else "one of " + ", ".join(enum)
        problems.append(Problem("enum-error", f"must be {allowed}.", where, line, name, raw))
    if "pattern" in constraints and type_ == "string" and not re.fullmatch(constraints["pattern"], raw):
        problems.append(
            Problem("pattern-error", f"must match the pattern {constraints['pattern']}.", where, line, name, raw)
        )
    if isinstance(scalar, int | float) and "minimum" in constraints and scalar < constraints["minimum"]:
        problems.append(Problem("minimum-error", f"must be at least {constraints['minimum']}.", where, line, name, raw))
    if isinstance(scalar, int | float) and "maximum" in constraints and scalar > constraints["maximum"]:
        problems.append(Problem("maximum-error", f"must be at most {constraints['maximum']}.", where, line, name, raw))
    if isinstance(scalar, str) and not constraints.get("minLength", 0) <= len(scalar) <= constraints.get(
        "maxLength", len(scalar)
    ):
        problems.append(
            Problem(
                "length-error",
                f"must have {constraints.get('minLength', 0)} to {constraints.get('maxLength', 'any')} characters.",
                where,
                line,
                name,
                raw,
            )
        )
    return value


def foreign_key_problems(
    tables: dict[str, Table], schemas: dict[str, TableSchema], unreadable: Iterable[str] = ()
) -> list[Problem]:
    """Every foreign key, and every `eventdata.vocabulary` of a field, against the table it refers to.

    A reference to a table in `unreadable` (a file whose own problems are reported) is not checked.
    """
    skipped = set(unreadable)
    problems: list[Problem] = []
    for name, schema in sorted(schemas.items()):
        table = tables.get(name)
        if table is None:
            continue
        where = display_path(table.path)
        references = [
            (_names(k["fields"]) or [], k["reference"]["resource"], _names(k["reference"]["fields"]) or [], False)
            for k in schema.foreign_keys
        ]
        for field in schema.fields:
            vocabulary = field.get("eventdata", {}).get("vocabulary")
            if vocabulary:
                target, _, column = vocabulary.partition(".")
                references.append(([field["name"]], target, [column], True))
        for fields, target, target_fields, itemwise in references:
            if not all(f in table.header for f in fields):
                continue  # an optional column the file leaves out
            referenced = tables.get(target)
            if target in skipped and referenced is None:
                continue
            if referenced is None or not all(f in referenced.header for f in target_fields):
                message = f"refers to {target}.{'/'.join(target_fields)}, which the codebook lacks."
                problems.append(Problem("schema-error", message, display_path(schema.path), None, fields[0]))
                continue
            if referenced.unreadable & set(target_fields):
                continue  # its own type errors are reported; checking against it would only repeat them
            known = {tuple(v.get(f) for f in target_fields) for v in referenced.parsed}
            if not referenced.parsed:  # no Table Schema for the target: its cells as text
                index = [referenced.header.index(f) for f in target_fields]
                known = {tuple(cells[i] for i in index) for _, cells in referenced.rows if len(cells) > max(index)}
            lines = [line for line, cells in table.rows if len(cells) == len(table.header)]
            for line, values in zip(lines, table.parsed, strict=True):
                candidates: list[tuple[Any, ...]]
                if itemwise:
                    items = values.get(fields[0])
                    candidates = [(item,) for item in items] if isinstance(items, list) else [(items,)]
                else:
                    candidates = [tuple(values.get(f) for f in fields)]
                for candidate in candidates:
                    if any(v is None for v in candidate) or candidate in known:
                        continue
                    shown = "; ".join(str(v) for v in candidate)
                    close = get_close_matches(shown, sorted({"; ".join(str(v) for v in k) for k in known}), n=1)
                    hint = f"did you mean {close[0]!r}? Else " if close else ""
                    problems.append(
                        Problem(
                            "foreign-key-error",
                            f"{shown!r} is not a value of {target}.{'/'.join(target_fields)} "
                            f"({display_path(referenced.path)}); {hint}use one of its values or add it there.",
                            where,
                            line,
                            fields[0],
                            shown,
                        )
                    )
    return problems


# --- dataset.json ---------------------------------------------------------------------------------


def dataset_problems(path: Path, text: str, dataset: Any, schema_path: Path) -> list[Problem]:
    """dataset.json against its JSON Schema: each problem names the key (as a JSON path), its line and value."""
    import jsonschema  # imported here: only commands that load a codebook need it

    where = display_path(path)
    unusable = f"the JSON Schema of {where} cannot be used"
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(dataset))
    except (OSError, ValueError) as err:
        return [Problem("schema-error", f"{unusable}: {err}", display_path(schema_path))]
    except Exception as err:  # a malformed JSON Schema: checked against the meta-schema only then (it is slow)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as invalid:
            return [Problem("schema-error", f"{unusable}: {invalid.message}", display_path(schema_path))]
        raise err
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    problems = [_dataset_problem(e, where, text) for e in errors]
    name = dataset.get("name") if isinstance(dataset, dict) else None
    if isinstance(name, str) and len(name) > NAME_MAX_LENGTH and not any(p.column == "name" for p in problems):
        problems.append(
            Problem(
                "dataset-error",
                f"the name has {len(name)} characters; at most {NAME_MAX_LENGTH} are allowed, "
                f"since {NAME_LENGTH_REASON}.",
                where,
                _name_line(text, name),
                "name",
                json.dumps(name, ensure_ascii=False),
            )
        )
    return problems


def _dataset_problem(error: Any, where: str, text: str) -> Problem:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    described = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    line = None
    if error.absolute_path:
        last = [p for p in error.absolute_path if isinstance(p, str)]
        line = _line_of(text, f'"{re.escape(last[-1])}"\\s*:') if last else None
    value = json.dumps(error.instance, ensure_ascii=False)
    if error.validator == "required":
        missing = next((k for k in error.validator_value if k not in (error.instance or {})), "?")
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        hint = properties.get(missing, {}).get("description", "")
        column = f"{path}.{missing}" if path else missing
        return Problem("dataset-error", f'"{missing}" is missing; add {hint or "it"}.', where, line, column)
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        kinds = " or ".join(
            {
                "string": "a string (text in double quotes)",
                "array": "a list ([...])",
                "object": "an object ({...})",
                "integer": "a whole number",
                "number": "a number",
                "boolean": "true or false",
            }.get(str(w), str(w))
            for w in wanted
        )
        message = f"must be {kinds}" + (f": {described}" if described else "") + "."
        return Problem("dataset-error", message, where, line, path or None, value)
    if error.validator == "pattern":
        message = f"does not match {error.validator_value}" + (f": {described}" if described else "") + "."
        return Problem("dataset-error", message, where, line, path or None, value)
    if error.validator == "anyOf":
        message = (
            "must have one of the keys "
            + " or ".join(repr(k) for option in error.validator_value for k in option.get("required", []))
            + "."
        )
        return Problem("dataset-error", message, where, line, path or None, value)
    return Problem("dataset-error", f"{error.message}.", where, line, path or None, value)


# --- frictionless ---------------------------------------------------------------------------------


def codebook_package(schemas_dir: Path, paths: Iterable[Path]) -> dict[str, Any]:
    """The codebook's CSV files as a Frictionless Data Package descriptor (resources with their Table Schemas).

    `frictionless.Package(codebook_package(...), basepath=str(schemas_dir)).validate()` checks the files as
    frictionless reads them, foreign keys included.
    """
    resources = []
    for path in paths:
        schema_path = table_schema_path(schemas_dir, path.stem)
        if schema_path is None:
            continue
        resources.append(
            {
                "name": path.stem,
                "path": path.relative_to(schemas_dir).as_posix(),
                "profile": "tabular-data-resource",
                "schema": json.loads(schema_path.read_text(encoding="utf-8")),
            }
        )
    return {"name": "codebook", "resources": resources}

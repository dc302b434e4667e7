"""The codebook in schemas/: Table Schema + vocabularies + dataset metadata.

Everything else is generated from it: the pandera schema, the Arrow schema for
Parquet, the published Table Schema (vocabularies expanded into enums and
patterns) and the human-readable codebook.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa_arrow

from eventdata.errors import Problem, SchemaFileError
from eventdata.files import read_json
from eventdata.sources.sheets import display_path
from eventdata.tables import (
    ROLE_FIELD,
    TABLES_DIR,
    CodebookError,
    Table,
    TableSchema,
    dataset_problems,
    dataset_schema_path,
    foreign_key_problems,
    load_table_schema,
    read_table,
    table_schema_path,
)

if TYPE_CHECKING:
    import pandera.pandas as pa  # imported where used: `load` and `publish` never need pandera

SCHEMA_FILE = "events.schema.json"
DATASET_FILE = "dataset.json"
VOCABULARY_DIR = "vocabularies"

SUPPORTED_TYPES = ("string", "integer", "number", "date")
SUPPORTED_CONSTRAINTS = ("required", "unique", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength")
SUPPORTED_FIELD_KEYS = ("name", "type", "format", "title", "description", "constraints", "eventdata", "example")
#: Keys of a field's ``eventdata`` section in events.schema.json that the code reads; any other is an error.
EVENTDATA_KEYS = ("vocabulary", "separator", "derived", "role", "actors", "actor_type_of", "associates_of", "place")
DERIVATIONS = ("event_id", "year", "disorder_type", "interaction", "iso", "region", "timestamp", "actor_type", "place")
#: Derivations whose value the tool writes back into the coding sheet (ids), so a sheet keeps their column.
WRITTEN_BACK = ("event_id",)

#: pandas dtype of each Table Schema type once a sheet has been parsed.
PANDAS_DTYPES: dict[str, Any] = {
    "string": pd.StringDtype("pyarrow"),
    "integer": pd.Int64Dtype(),
    "number": pd.Float64Dtype(),
    "date": "datetime64[s]",
}


@dataclass(frozen=True)
class Codebook:
    """The loaded codebook of one dataset."""

    path: Path
    table_schema: dict[str, Any]
    vocabularies: dict[str, pd.DataFrame]
    dataset: dict[str, Any]
    lists: dict[str, pd.DataFrame] = dataclass_field(default_factory=dict)  # schemas/*.csv: actors, places
    #: The Table Schema of each CSV of the codebook (schemas/tables/, else the default codebook's).
    tables: dict[str, TableSchema] = dataclass_field(default_factory=dict)
    #: Per table with a role column: role → the key value of the row that has it (actor_types: "state-forces" → "1").
    roles: dict[str, dict[str, str]] = dataclass_field(default_factory=dict)
    #: Problems in the rows of lists whose Table Schema says their rows are data (places.csv): `validate` reports them.
    list_problems: tuple[Problem, ...] = ()

    def role_value(self, table: str, role: str) -> str:
        """The key value of the row of a vocabulary that has a role: role_value("actor_types", "state-forces") -> "1".

        The roles a table may declare are the enum of its role column (schemas/tables/<table>.schema.json).
        """
        schema = self.tables.get(table)
        field = schema.field(ROLE_FIELD) if schema is not None else None
        if field is None:
            raise SchemaFileError(f"The codebook's {table} has no {ROLE_FIELD!r} column in its Table Schema.")
        known = field.get("constraints", {}).get("enum", [])
        if role not in known:
            raise KeyError(f"{table} declares no role {role!r}; its roles are {known}")  # a bug in the caller
        try:
            return self.roles.get(table, {})[role]
        except KeyError:
            raise SchemaFileError(
                f"{self._table_path(table)}: no row has {ROLE_FIELD} {role!r}; eventdata needs it. "
                f"Write {role!r} in the {ROLE_FIELD} column of the row it stands for (roles: {', '.join(known)})."
            ) from None

    def role_values(self, table: str) -> dict[str, str]:
        """Every role a vocabulary's rows have: role → key value."""
        return dict(self.roles.get(table, {}))

    def _table_path(self, table: str) -> str:
        folder = self.path / VOCABULARY_DIR if table in self.vocabularies else self.path
        return display_path(folder / f"{table}.csv")

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.table_schema["fields"])

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.table_schema["fields"]]

    @property
    def acled_field_names(self) -> list[str]:
        """ACLED's columns in ACLED's order: every field but our provenance columns."""
        return [f["name"] for f in self.fields if f.get("eventdata", {}).get("role") != "provenance"]

    def field(self, name: str) -> dict[str, Any]:
        for f in self.table_schema["fields"]:
            if f["name"] == name:
                return dict(f)
        raise KeyError(name)

    def derivation(self, name: str) -> str | None:
        derived = self.field(name).get("eventdata", {}).get("derived")
        return None if derived is None else str(derived)

    @property
    def derived_fields(self) -> list[str]:
        """Columns the tool computes; a sheet may omit them."""
        return [f["name"] for f in self.fields if f.get("eventdata", {}).get("derived")]

    @property
    def sheet_fields(self) -> list[str]:
        """Columns of a new coding sheet, in codebook order: what a coder types, plus the id the tool writes in."""
        return [f["name"] for f in self.fields if f.get("eventdata", {}).get("derived") in (None, *WRITTEN_BACK)]

    @property
    def input_required_fields(self) -> list[str]:
        """Columns every coding sheet must have."""
        derived = set(self.derived_fields)
        return [f["name"] for f in self.fields if f.get("constraints", {}).get("required") and f["name"] not in derived]

    def vocabulary(self, table: str) -> pd.DataFrame:
        try:
            return self.vocabularies[table]
        except KeyError as err:
            raise SchemaFileError(
                f"Vocabulary {table!r} is missing: expected {self.path / VOCABULARY_DIR / (table + '.csv')}."
            ) from err

    def vocabulary_values(self, reference: str) -> list[str]:
        """Values of a vocabulary column named as 'table.column', in file order, without repeats."""
        table, _, column = reference.partition(".")
        frame = self.vocabulary(table)
        if column not in frame.columns:
            raise SchemaFileError(
                f"Vocabulary reference {reference!r}: {table}.csv has no column {column!r} "
                f"(it has {', '.join(frame.columns)})."
            )
        return list(dict.fromkeys(frame[column].tolist()))


def _read_json(path: Path) -> Any:
    return read_json(path, SchemaFileError)


def _codebook_tables(directory: Path) -> list[tuple[str, Path]]:
    """Every CSV of a codebook: (table name, path) for schemas/vocabularies/*.csv, then schemas/*.csv."""
    return [(p.stem, p) for p in sorted((directory / VOCABULARY_DIR).glob("*.csv"))] + [
        (p.stem, p) for p in sorted(directory.glob("*.csv"))
    ]


def _read_tables(directory: Path) -> tuple[dict[str, Table], dict[str, TableSchema], list[Problem], set[str]]:
    """Every CSV of the codebook read and checked against its Table Schema (foreign keys included).

    Returns the tables, their schemas, every problem, and the tables whose rows are data (`validate`
    reports the problems of their rows; the others stop the command).
    """
    tables: dict[str, Table] = {}
    schemas: dict[str, TableSchema] = {}
    problems: list[Problem] = []
    files = _codebook_tables(directory)
    for name, path in files:
        schema_path = table_schema_path(directory, name)
        schema = None
        if schema_path is not None:
            schema, found = load_table_schema(name, schema_path)
            problems += found
        if schema is not None:
            schemas[name] = schema
        table, found = read_table(name, path, schema)
        problems += found
        if table is not None:
            tables[name] = table
    problems += foreign_key_problems(tables, schemas, unreadable={name for name, _ in files} - set(tables))
    data = {name for name, schema in schemas.items() if schema.rows_are_data}
    return tables, schemas, problems, data


def _is_row_problem(problem: Problem) -> bool:
    """A problem of one row's cells (not of the header, the file or its description)."""
    structural = ("encoding-error", "source-error", "empty-file", "extra-cell", "missing-cell")
    return problem.line not in (None, 1) and problem.code not in structural


def _roles(directory: Path, tables: dict[str, Table], schemas: dict[str, TableSchema]) -> dict[str, dict[str, str]]:
    """Role → key value, per table whose Table Schema has a role column.

    A file without the column (made before roles were declared) takes the default codebook's roles for the
    key values it has.
    """
    from eventdata.project import default_codebook_dir  # project imports the tool's modules

    roles: dict[str, dict[str, str]] = {}
    for name, schema in schemas.items():
        if schema.field(ROLE_FIELD) is None or len(schema.primary_key) != 1 or name not in tables:
            continue
        key = schema.primary_key[0]
        table = tables[name]
        source = table
        if ROLE_FIELD not in table.header:
            default = default_codebook_dir() / table.path.relative_to(directory)
            fallback = read_table(name, default, schema)[0] if default.is_file() and default != table.path else None
            if fallback is None or ROLE_FIELD not in fallback.header:
                continue
            source = fallback
        own_keys = {row.get(key) for row in table.parsed}
        roles[name] = {
            str(row[ROLE_FIELD]): _key_text(source, key, number)
            for number, row in enumerate(source.parsed)
            if row.get(ROLE_FIELD) and row.get(key) in own_keys
        }
    return roles


def _key_text(table: Table, key: str, number: int) -> str:
    """The key cell of the number-th well-formed row, as written (stripped)."""
    rows = [cells for _, cells in table.rows if len(cells) == len(table.header)]
    return rows[number][table.header.index(key)].strip()


def _field_line(text: str, name: str) -> int | None:
    """The line of a field's "name" in events.schema.json (header of the JSON = line 1), if it can be found."""
    found = re.search(r'"name"\s*:\s*' + re.escape(json.dumps(name)), text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def _check_constraint_values(constraints: dict[str, Any], type_: str, where: str) -> None:
    """Each constraint value has the JSON type Table Schema gives it, so the checks built from it can run."""

    def bad(key: str, what: str) -> SchemaFileError:
        return SchemaFileError(f"{where}: constraint {key}={constraints[key]!r} must be {what}.")

    for key in ("required", "unique"):
        if key in constraints and not isinstance(constraints[key], bool):
            raise bad(key, "true or false")
    for key in ("minimum", "maximum"):
        if key in constraints:
            value = constraints[key]
            if type_ not in ("integer", "number"):
                raise bad(key, f"left out: eventdata checks {key} only on integer and number fields")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(key, "a number (without quotes)")
    for key in ("minLength", "maxLength"):
        value = constraints.get(key)
        if key in constraints and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise bad(key, "a whole number of 0 or more")
    for key in ("pattern", "minLength", "maxLength"):
        if key in constraints and type_ != "string":
            raise bad(key, f"left out: eventdata checks {key} only on string fields, and this one has type {type_!r}")
    if "pattern" in constraints:
        if not isinstance(constraints["pattern"], str):
            raise bad("pattern", "a regular expression in a string")
        try:
            re.compile(constraints["pattern"])
        except re.error as err:
            raise bad("pattern", f"a valid regular expression ({err})") from err
    if "enum" in constraints and not isinstance(constraints["enum"], list):
        raise bad("enum", "a list of values")


def _expand_field(field: dict[str, Any], codebook: Codebook, path: Path, text: str = "") -> dict[str, Any]:
    """Check one field against what the tool supports and fill enums from its vocabulary."""
    if not isinstance(field, dict):
        raise SchemaFileError(f"{path}: every entry of 'fields' must be an object, not {field!r}.")
    name = field.get("name")
    line = _field_line(text, name) if isinstance(name, str) else None
    where = f"{path}{'' if line is None else f':{line}'}: field {name!r}"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SchemaFileError(f"{path}: field name {name!r} must be snake_case.")
    for key in ("title", "description", "format"):
        if key in field and not isinstance(field[key], str):
            raise SchemaFileError(f"{where}: {key}={field[key]!r} must be a string.")
    for key in ("constraints", "eventdata"):
        if not isinstance(field.get(key, {}), dict):
            raise SchemaFileError(f"{where}: {key} must be an object ({{...}}), not {field[key]!r}.")
    unknown_keys = sorted(set(field) - set(SUPPORTED_FIELD_KEYS))
    if unknown_keys:
        raise SchemaFileError(f"{where}: unsupported key(s) {unknown_keys}; supported: {list(SUPPORTED_FIELD_KEYS)}.")
    type_ = field.get("type", "string")
    if type_ not in SUPPORTED_TYPES:
        raise SchemaFileError(f"{where}: type {type_!r} is not supported; use one of {list(SUPPORTED_TYPES)}.")
    if type_ == "date" and field.get("format", "default") != "default":
        raise SchemaFileError(f"{where}: only the default date format (YYYY-MM-DD) is supported.")
    constraints = dict(field.get("constraints", {}))
    unsupported = sorted(set(constraints) - set(SUPPORTED_CONSTRAINTS))
    if unsupported:
        raise SchemaFileError(
            f"{where}: constraint(s) {unsupported} cannot be checked by eventdata; "
            f"supported: {list(SUPPORTED_CONSTRAINTS)}. Remove them or add support in eventdata/schema.py."
        )
    _check_constraint_values(constraints, type_, where)
    extra = dict(field.get("eventdata", {}))
    for key in ("vocabulary", "separator", "derived", "role"):
        if key in extra and not isinstance(extra[key], str):
            raise SchemaFileError(f"{where}: eventdata.{key}={extra[key]!r} must be a string.")
    if extra.get("vocabulary") and "." not in extra["vocabulary"]:
        raise SchemaFileError(
            f"{where}: eventdata.vocabulary={extra['vocabulary']!r} must name a vocabulary column as 'table.column'."
        )
    unknown_extra = sorted(set(extra) - set(EVENTDATA_KEYS))
    if unknown_extra:
        raise SchemaFileError(
            f"{where}: unknown key(s) {unknown_extra} in its eventdata section; allowed: {list(EVENTDATA_KEYS)}."
        )
    derived = extra.get("derived")
    if derived is not None and derived not in DERIVATIONS:
        raise SchemaFileError(f"{where}: unknown derivation {derived!r}; known: {list(DERIVATIONS)}.")
    reference = extra.get("vocabulary")
    if reference:
        if "enum" in constraints or "pattern" in constraints:
            raise SchemaFileError(f"{where}: give either a vocabulary or an enum/pattern, not both.")
        values = codebook.vocabulary_values(reference)
        separator = extra.get("separator")
        if separator and type_ != "string":
            raise SchemaFileError(
                f"{where}: a list of vocabulary values (eventdata.separator) must have type 'string', not {type_!r}."
            )
        if separator:
            alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
            constraints["pattern"] = f"(?:{alternatives})(?:{re.escape(separator)}(?:{alternatives}))*"
        elif type_ == "integer":
            try:
                constraints["enum"] = [int(v) for v in values]
            except ValueError as err:
                raise SchemaFileError(f"{where}: vocabulary {reference!r} holds a non-integer value.") from err
        else:
            constraints["enum"] = values
    expanded = dict(field)
    expanded["type"] = type_
    if constraints:
        expanded["constraints"] = constraints
    return expanded


def load_codebook(schemas_dir: Path | str) -> Codebook:
    """Read schemas/ and check every file against its description, and that every constraint can be enforced.

    A file that breaks its description raises CodebookError with every problem located; the problems in
    the rows of a list whose rows are data (places.csv) are kept in `list_problems` for `validate`.
    """
    directory = Path(schemas_dir)
    schema_path = directory / SCHEMA_FILE
    raw = _read_json(schema_path)
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list) or not raw["fields"]:
        raise SchemaFileError(f"{schema_path}: a Table Schema needs a non-empty 'fields' list.")
    dataset_path = directory / DATASET_FILE
    dataset = _read_json(dataset_path)
    problems = dataset_problems(
        dataset_path, dataset_path.read_text(encoding="utf-8"), dataset, dataset_schema_path(directory)
    )
    tables, schemas, table_problems, data = _read_tables(directory)
    kept = [p for p in table_problems if _is_row_problem(p) and _table_of(p, tables) in data]
    problems += [p for p in table_problems if p not in kept]
    if problems:
        raise CodebookError(problems)
    if not isinstance(dataset, dict):  # the JSON Schema says so too; this tells mypy
        raise SchemaFileError(f"{dataset_path}: expected a JSON object.")
    vocabulary_dir = directory / VOCABULARY_DIR
    vocabularies = {n: t.frame() for n, t in tables.items() if t.path.parent == vocabulary_dir}
    lists = {n: t.frame() for n, t in tables.items() if t.path.parent == directory}
    codebook = Codebook(directory, copy.deepcopy(raw), vocabularies, dataset)
    text = schema_path.read_text(encoding="utf-8")
    fields, field_problems = [], []
    for raw_field in raw["fields"]:
        try:
            fields.append(_expand_field(raw_field, codebook, schema_path, text))
        except SchemaFileError as err:
            field_problems.append(_field_problem(str(err), raw_field, schema_path, text))
    if field_problems:
        raise CodebookError(field_problems)
    names = [f["name"] for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SchemaFileError(f"{schema_path}: field(s) {duplicates} are defined twice.")
    primary_key = raw.get("primaryKey", [])
    if not isinstance(primary_key, list):
        raise SchemaFileError(f"{schema_path}: primaryKey must be a list of field names, not {primary_key!r}.")
    for key in primary_key:
        if key not in names:
            raise SchemaFileError(f"{schema_path}: primaryKey names unknown field {key!r}.")
    expanded = copy.deepcopy(raw)
    expanded["fields"] = fields
    loaded = Codebook(
        directory,
        expanded,
        vocabularies,
        dataset,
        lists,
        tables=schemas,
        roles=_roles(directory, tables, schemas),
        list_problems=tuple(kept),
    )
    needed_problems = _needed_field_problems(loaded, schema_path, text)
    if needed_problems:
        raise CodebookError(needed_problems)
    return loaded


def _shipped_fields() -> list[dict[str, Any]]:
    """The fields of the events.schema.json eventdata ships (the codebook its checks are written for)."""
    from eventdata.project import default_codebook_dir  # project imports the tool's modules

    raw = _read_json(default_codebook_dir() / SCHEMA_FILE)
    return [f for f in raw.get("fields", []) if isinstance(f, dict)] if isinstance(raw, dict) else []


def _needs(codebook: Codebook) -> dict[str, list[str]]:
    """Field name → what in eventdata reads it: the columns each check declares and the parts the codebook gives."""
    import eventdata.checks  # noqa: F401  (registers the checks; imported here: `load` never needs pandera)
    from eventdata.columns import columns
    from eventdata.pipeline import RULES

    needs: dict[str, list[str]] = {}
    for registered in RULES:
        for name in registered.columns(codebook):
            needs.setdefault(name, []).append(f"the check {registered.codes[0]}")
    declared = columns(codebook)
    for actor in declared.actors:
        for part in (actor.name, actor.actor_type, *actor.associates):
            if part:
                needs.setdefault(part, []).append("the actor list")
    for part in (declared.place_name, *declared.places):
        if part:
            needs.setdefault(part, []).append("the place list")
    return needs


def _needed_field_problems(codebook: Codebook, path: Path, text: str) -> list[Problem]:
    """Every field eventdata reads is in the codebook with the type it is read as, and derivations have inputs.

    What reads a field comes from the checks' declared columns and the codebook's column parts
    (eventdata.columns); the type a field is read as is the type the shipped codebook gives it (a derived
    field: the type of the shipped field with the same derivation).
    """
    from eventdata.columns import columns

    shown = display_path(path)
    problems: list[Problem] = []

    def problem(name: str, message: str) -> None:
        problems.append(Problem("schema-error", message, shown, _field_line(text, name) if text else None, name))

    dates = [f for f in _shipped_fields() if f.get("type") == "date"]
    if not any(f["type"] == "date" for f in codebook.fields):  # the checks and derivations find the date by its type
        name = str(dates[0].get("name")) if dates else ""
        if name in codebook.field_names:
            problem(
                name,
                f"type {codebook.field(name)['type']!r} cannot be used: eventdata needs type 'date' here "
                "(the date of an event; no other field has type 'date').",
            )
        else:
            problems.append(
                Problem(
                    "schema-error",
                    "no field has type 'date'; eventdata needs one for the date of an event"
                    + (f" (the field {name!r} is missing)." if name else "."),
                    shown,
                    None,
                    name or None,
                )
            )
        return problems
    shipped = _shipped_fields()
    shipped_types = {f.get("name"): f.get("type", "string") for f in shipped}
    derived_types = {_derived_key(f): f.get("type", "string") for f in shipped if f.get("eventdata", {}).get("derived")}
    needs = _needs(codebook)
    names = set(codebook.field_names)
    for name, readers in needs.items():
        if name not in names:
            problem(name, f"the field is missing; eventdata needs it for {', '.join(dict.fromkeys(readers))}.")
    for field in codebook.fields:
        name, type_ = field["name"], field["type"]
        extra = field.get("eventdata", {})
        wanted: str | None
        if extra.get("derived"):
            wanted, reason = derived_types.get(_derived_key(field)), f"derived {extra['derived']!r}"
        elif name in needs:
            wanted, reason = shipped_types.get(name), f"read by {', '.join(dict.fromkeys(needs[name]))}"
        else:
            continue
        if wanted is not None and type_ != wanted:
            problem(name, f"type {type_!r} cannot be used: eventdata needs type {wanted!r} here ({reason}).")
    if any(f.get("eventdata", {}).get("derived") == "interaction" for f in codebook.fields):
        found = columns(codebook).actor_types
        if len(found) < 2:
            name = next(f["name"] for f in codebook.fields if f.get("eventdata", {}).get("derived") == "interaction")
            problem(
                name,
                f"derived 'interaction' needs two actor-type columns (eventdata.actor_type_of); found {list(found)}.",
            )
    return problems


def _derived_key(field: dict[str, Any]) -> tuple[str, str]:
    """What a derived field holds: its derivation, and the place-list column it is filled from, if any."""
    extra = field.get("eventdata", {})
    return str(extra.get("derived")), str(extra.get("place", ""))


def _field_problem(message: str, field: Any, path: Path, text: str) -> Problem:
    """A field of events.schema.json that cannot be used, as a located problem (every field is checked)."""
    name = field.get("name") if isinstance(field, dict) else None
    line = _field_line(text, name) if isinstance(name, str) else None
    prefix = f"{path}{'' if line is None else f':{line}'}: "
    message = message.removeprefix(prefix).removeprefix(f"field {name!r}: ").removeprefix(f"{path}: ")
    return Problem("schema-error", message, display_path(path), line, name if isinstance(name, str) else None)


def _table_of(problem: Problem, tables: dict[str, Table]) -> str | None:
    return next((n for n, t in tables.items() if display_path(t.path) == problem.file), None)


def published_table_schema(codebook: Codebook) -> dict[str, Any]:
    """The Table Schema as published in a data package: vocabularies expanded into constraints."""
    return copy.deepcopy(codebook.table_schema)


# --- pandera -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInfo:
    """What a pandera check in the generated schema stands for."""

    code: str
    rule: str


def _matches_pattern(regex: str, unique: bool = False) -> pa.Check:
    """pandera's str_matches (pandas' str.match), applied once per distinct value; a missing value passes.

    A unique column's values are all distinct: Arrow-backed text is then matched as it is, without finding them.
    """
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa

    def matches(series: pd.Series) -> pd.Series:
        if unique and isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
            return series.str.match(regex, na=True).astype(bool)
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        found = pd.Series(distinct).str.match(regex, na=False).to_numpy(dtype=bool)
        ok = np.append(found, True)  # a missing value is nullable's to judge
        return pd.Series(ok[codes], index=series.index)

    check: pa.Check = pa.Check(matches, name="str_matches", error=f"str_matches('{regex}')")
    return check


def _constraint_checks(field: dict[str, Any]) -> list[tuple[pa.Check, CheckInfo]]:
    import pandera.pandas as pa

    constraints = field.get("constraints", {})
    checks: list[tuple[pa.Check, CheckInfo]] = []
    if "enum" in constraints:
        checks.append(
            (pa.Check.isin(constraints["enum"]), CheckInfo("enum-error", "is not in the codebook's list of values"))
        )
    if "minimum" in constraints:
        minimum = constraints["minimum"]
        checks.append((pa.Check.ge(minimum), CheckInfo("minimum-error", f"must be at least {minimum}")))
    if "maximum" in constraints:
        maximum = constraints["maximum"]
        checks.append((pa.Check.le(maximum), CheckInfo("maximum-error", f"must be at most {maximum}")))
    if "pattern" in constraints:
        pattern = constraints["pattern"]
        rule = f"must match the pattern {pattern}"
        if field.get("eventdata", {}).get("vocabulary"):
            rule = "must be values of the vocabulary joined by " + repr(field["eventdata"].get("separator"))
        unique = bool(constraints.get("unique"))
        checks.append((_matches_pattern(f"^(?:{pattern})$", unique), CheckInfo("pattern-error", rule)))
    if "minLength" in constraints or "maxLength" in constraints:
        low, high = constraints.get("minLength"), constraints.get("maxLength")
        checks.append(
            (
                pa.Check.str_length(low, high),
                CheckInfo("length-error", f"must have {low or 0} to {high or 'any'} characters"),
            )
        )
    return checks


@dataclass(frozen=True)
class PanderaSchema:
    """The generated pandera schema and what each of its checks means."""

    schema: pa.DataFrameSchema
    checks: dict[tuple[str, int], CheckInfo]


def to_pandera(codebook: Codebook) -> PanderaSchema:
    """Translate the Table Schema into a pandera DataFrameSchema over parsed (typed) columns."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    infos: dict[tuple[str, int], CheckInfo] = {}
    for field in codebook.fields:
        pairs = _constraint_checks(field)
        constraints = field.get("constraints", {})
        columns[field["name"]] = pa.Column(
            PANDAS_DTYPES[field["type"]],
            checks=[check for check, _ in pairs],
            nullable=not constraints.get("required", False),
            unique=bool(constraints.get("unique", False)),
            required=True,
            description=field.get("description"),
        )
        for number, (_, info) in enumerate(pairs):
            infos[(field["name"], number)] = info
    schema = pa.DataFrameSchema(columns, strict=False, ordered=False, name="events")
    return PanderaSchema(schema, infos)


# --- Arrow / Parquet ---------------------------------------------------------------------


def _integer_type(field: dict[str, Any]) -> pa_arrow.DataType:
    constraints = field.get("constraints", {})
    values = constraints.get("enum") or [constraints.get("minimum"), constraints.get("maximum")]
    if all(v is not None for v in values):
        low, high = min(values), max(values)
        for bits, arrow_type in ((8, pa_arrow.int8()), (16, pa_arrow.int16()), (32, pa_arrow.int32())):
            if -(2 ** (bits - 1)) <= low and high < 2 ** (bits - 1):
                return arrow_type
    return pa_arrow.int64()


def arrow_field(field: dict[str, Any]) -> pa_arrow.Field:
    """The Arrow field for one Table Schema field, with its description as metadata."""
    type_ = field["type"]
    extra = field.get("eventdata", {})
    arrow_type: pa_arrow.DataType
    if type_ == "string":
        categorical = extra.get("vocabulary") and not extra.get("separator")
        arrow_type = pa_arrow.dictionary(pa_arrow.int32(), pa_arrow.string()) if categorical else pa_arrow.string()
    elif type_ == "integer":
        arrow_type = _integer_type(field)
    elif type_ == "number":
        arrow_type = pa_arrow.float64()
    else:
        arrow_type = pa_arrow.date32()
    metadata = {"description": field.get("description", "")}
    return pa_arrow.field(
        field["name"], arrow_type, nullable=not field.get("constraints", {}).get("required", False), metadata=metadata
    )


def to_arrow_schema(codebook: Codebook) -> pa_arrow.Schema:
    """The explicit Arrow schema of events.parquet."""
    return pa_arrow.schema([arrow_field(f) for f in codebook.fields])


# --- human-readable codebook -------------------------------------------------------------


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _constraint_text(field: dict[str, Any]) -> str:
    constraints = field.get("constraints", {})
    extra = field.get("eventdata", {})
    parts = []
    if constraints.get("unique"):
        parts.append("unique")
    if "minimum" in constraints or "maximum" in constraints:
        parts.append(f"{constraints.get('minimum', '')}..{constraints.get('maximum', '')}")
    if extra.get("vocabulary"):
        table = extra["vocabulary"].split(".")[0]
        joined = f", joined by '{extra['separator']}'" if extra.get("separator") else ""
        parts.append(f"vocabulary [{table}](#{table.replace('_', '-')}){joined}")
    elif "enum" in constraints:
        parts.append("one of " + ", ".join(f"`{v}`" for v in constraints["enum"]))
    elif "pattern" in constraints:
        parts.append(f"pattern `{constraints['pattern']}`")
    if extra.get("derived"):
        parts.append("derived by the tool")
    return "; ".join(parts)


def codebook_markdown(codebook: Codebook, checks: str = "") -> str:
    """The codebook as Markdown: columns, then the checks (eventdata.checks.checks_markdown) if given, then every
    vocabulary."""
    dataset = codebook.dataset
    lines = [
        f"# Codebook: {dataset.get('title', dataset.get('name', ''))}",
        "",
        "Generated from schemas/ by eventdata; the machine-readable form is the Table Schema in datapackage.json.",
        "",
        "## Columns",
        "",
        "| # | column | type | required | constraints | description |",
        "|---|---|---|---|---|---|",
    ]
    for number, field in enumerate(codebook.fields, start=1):
        required = "yes" if field.get("constraints", {}).get("required") else ""
        lines.append(
            f"| {number} | `{field['name']}` | {field['type']} | {required} | "
            f"{_cell(_constraint_text(field))} | {_cell(field.get('description', ''))} |"
        )
    if checks:
        lines += ["", checks.rstrip("\n")]
    tables = [
        (name, frame, f"schemas/{VOCABULARY_DIR}/{name}.csv") for name, frame in sorted(codebook.vocabularies.items())
    ]
    tables += [(name, frame, f"schemas/{name}.csv") for name, frame in sorted(codebook.lists.items())]
    for name, frame, source in tables:
        lines += ["", f"## {name}", "", f"{len(frame)} entries, from {source}.", ""]
        lines.append("| " + " | ".join(frame.columns) + " |")
        lines.append("|" + "---|" * len(frame.columns))
        for row in frame.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    lines += codebook_files_markdown(codebook)
    return "\n".join(lines) + "\n"


def codebook_files_markdown(codebook: Codebook) -> list[str]:
    """The section describing the codebook's own files, from the Table Schemas of its schemas/tables/.

    A codebook made before schemas/tables/ existed (its files checked against eventdata's copies) has none.
    """
    own = {name: schema for name, schema in codebook.tables.items() if schema.path.parent == codebook.path / TABLES_DIR}
    if not own:
        return []
    lines = [
        "",
        "## Codebook files",
        "",
        "Each CSV of schemas/ is described by a Table Schema in schemas/tables/ (a dataset without one uses "
        "eventdata's); a file that breaks it stops every command with the problems located. "
        "schemas/dataset.json is described by the JSON Schema schemas/dataset.schema.json.",
    ]
    for name, schema in sorted(own.items()):
        folder = f"{VOCABULARY_DIR}/" if name in codebook.vocabularies else ""
        lines += ["", f"### schemas/{folder}{name}.csv", ""]
        if schema.descriptor.get("description"):
            lines += [_cell(schema.descriptor["description"]), ""]
        facts = []
        if schema.primary_key:
            facts.append("key: " + ", ".join(f"`{k}`" for k in schema.primary_key))
        for key in schema.foreign_keys:
            fields, reference = key["fields"], key["reference"]
            facts.append(f"`{_joined(fields)}` → `{reference['resource']}.{_joined(reference['fields'])}`")
        if schema.rows_are_data:
            facts.append("its rows are data: `validate` reports their problems")
        if facts:
            lines += ["; ".join(facts) + ".", ""]
        lines += ["| column | type | required | constraints | description |", "|---|---|---|---|---|"]
        for field in schema.fields:
            constraints = field.get("constraints", {})
            extra = field.get("eventdata", {})
            type_ = field.get("type", "string")
            if type_ == "list":
                type_ = f"list of {field.get('itemType', 'string')} joined by '{field.get('delimiter', ',')}'"
            parts = [f"one of {', '.join(f'`{v}`' for v in constraints['enum'])}"] if "enum" in constraints else []
            parts += [f"pattern `{constraints['pattern']}`"] if "pattern" in constraints else []
            if "minimum" in constraints or "maximum" in constraints:
                parts.append(f"{constraints.get('minimum', '')}..{constraints.get('maximum', '')}")
            parts += ["unique"] if constraints.get("unique") else []
            parts += [f"values of `{extra['vocabulary']}`"] if extra.get("vocabulary") else []
            parts += ["column may be left out"] if extra.get("optional") else []
            required = "yes" if constraints.get("required") else ""
            lines.append(
                f"| `{field['name']}` | {type_} | {required} | {_cell('; '.join(parts))} | "
                f"{_cell(field.get('description', ''))} |"
            )
    return lines


def _joined(names: str | list[str]) -> str:
    return names if isinstance(names, str) else ", ".join(names)

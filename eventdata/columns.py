"""Which columns play which part in validation, and what vocabulary values mean, as the codebook declares it.

A field's ``eventdata`` section in schemas/events.schema.json says what the tool does with the column:

- ``"actors": true`` — the column names actors from the actor list (with a ``separator``: a list of them);
- ``"actor_type_of": "actor1"`` — the column holds the actor type (inter code) of that actor column, derived
  from the actor list (``"derived": "actor_type"``);
- ``"associates_of": "actor1"`` — the column lists the actors associated with that actor column;
- ``"place": "admin1"`` — the column is filled from that column of the place list (``"derived": "place"``);
  ``"place": "location"`` marks the place name that is looked up.

A vocabulary row's meaning for the tool is its ``role`` cell (schemas/vocabularies/*.csv): the actor type with
role ``no-actor`` is the actor type of an empty actor column, ``state-forces`` become ``external-forces`` outside
their country, ``civilians`` are never associated actors in an event type of role ``battles``, and the time
precision of role ``month`` dates an event on the 1st, 15th/16th or last day of the month.

A codebook written before these declarations existed (the sources of an older release) takes them from the
codebook eventdata ships, field by field and vocabulary row by row, so that such a release still rebuilds.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata.errors import SchemaFileError
from eventdata.schema import SCHEMA_FILE, VOCABULARY_DIR, Codebook, read_vocabularies
from eventdata.sources.sheets import display_path

#: The keys of a field's ``eventdata`` section that this module reads (the loader allows them).
ROLE_KEYS = ("actor_type_of", "associates_of", "place")
ROLE_COLUMN = "role"
#: The place-list column a ``"place": "location"`` field is looked up in (not filled).
PLACE_NAME = "location"


@dataclass(frozen=True)
class ActorColumn:
    """A column naming one actor, the column of its actor type and the columns of its associated actors."""

    name: str
    actor_type: str | None
    associates: tuple[str, ...]


@dataclass(frozen=True)
class Columns:
    """The columns validation resolves, fills and checks, by their part."""

    actors: tuple[ActorColumn, ...]  # in codebook order
    associates: tuple[str, ...]  # every associated-actor column, in codebook order
    place_name: str | None  # the column looked up in the place list
    places: dict[str, str]  # column filled from the place list → the place list's column

    def actor_of(self, actor_type: str) -> str:
        """The actor column whose actor type the column holds."""
        for actor in self.actors:
            if actor.actor_type == actor_type:
                return actor.name
        raise KeyError(actor_type)

    @property
    def actor_types(self) -> tuple[str, ...]:
        return tuple(a.actor_type for a in self.actors if a.actor_type)


@functools.cache
def _shipped_schema(path: str) -> dict[str, dict[str, Any]]:
    """Field name → eventdata section of the shipped events.schema.json."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {f["name"]: dict(f.get("eventdata", {})) for f in raw.get("fields", []) if isinstance(f, dict)}


@functools.cache
def _shipped_vocabularies(path: str) -> dict[str, pd.DataFrame]:
    return read_vocabularies(Path(path))


def _shipped_dir(codebook: Codebook) -> Path | None:
    """The codebook eventdata ships, unless it is the codebook asked about."""
    from eventdata.project import default_codebook_dir  # project imports the tool's modules

    shipped = default_codebook_dir()
    return None if shipped.resolve() == codebook.path.resolve() else shipped


def sections(codebook: Codebook) -> dict[str, dict[str, Any]]:
    """Field name → its eventdata section; a codebook that declares no column roles takes the shipped ones."""
    found = {f["name"]: dict(f.get("eventdata", {})) for f in codebook.fields}
    if any(key in section for section in found.values() for key in ROLE_KEYS):
        return found
    shipped = _shipped_dir(codebook)
    if shipped is None or not (shipped / SCHEMA_FILE).is_file():
        return found
    for name, section in _shipped_schema(str(shipped / SCHEMA_FILE)).items():
        if name in found:
            found[name].update({k: v for k, v in section.items() if k in ROLE_KEYS and (k == "place" or v in found)})
    return found


def _where(codebook: Codebook, name: str) -> str:
    path = codebook.path / SCHEMA_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return f"{display_path(path)}: field {name!r}"
    position = text.find(json.dumps(name))
    line = text.count("\n", 0, position) + 1 if position >= 0 else None
    return f"{display_path(path)}{'' if line is None else f':{line}'}: field {name!r}"


def columns(codebook: Codebook) -> Columns:
    """The columns' parts as the codebook declares them; a declaration naming a wrong column is a SchemaFileError."""
    declared = sections(codebook)
    names = [f["name"] for f in codebook.fields]
    actor_names = [n for n in names if declared[n].get("actors") is True and not declared[n].get("separator")]
    list_names = [n for n in names if declared[n].get("actors") is True and declared[n].get("separator")]
    types: dict[str, str] = {}
    associates: dict[str, list[str]] = {n: [] for n in actor_names}
    places: dict[str, str] = {}
    place_name = None
    for name in names:
        section = declared[name]
        for key in ROLE_KEYS:
            if key in section and not isinstance(section[key], str):
                raise SchemaFileError(f"{_where(codebook, name)}: eventdata.{key}={section[key]!r} must be a string.")
        if "actor_type_of" in section:
            of = section["actor_type_of"]
            if of not in actor_names:
                raise SchemaFileError(
                    f"{_where(codebook, name)}: eventdata.actor_type_of={of!r} must name a column with "
                    f'"actors": true and no separator (one of {actor_names}).'
                )
            if of in types:
                raise SchemaFileError(
                    f"{_where(codebook, name)}: {of!r} already has its actor type in {types[of]!r}; "
                    "an actor column has one actor-type column."
                )
            if codebook.field(name).get("type") != "integer":
                raise SchemaFileError(f"{_where(codebook, name)}: an actor-type column has type integer.")
            types[of] = name
        if "associates_of" in section:
            of = section["associates_of"]
            if of not in actor_names or name not in list_names:
                raise SchemaFileError(
                    f"{_where(codebook, name)}: eventdata.associates_of={of!r}: a column of associated actors has "
                    f'"actors": true and a separator, and names a column of one actor (one of {actor_names}).'
                )
            associates[of].append(name)
        if "place" in section:
            if section["place"] == PLACE_NAME:
                place_name = name
            else:
                places[name] = str(section["place"])
    return Columns(
        actors=tuple(ActorColumn(n, types.get(n), tuple(associates[n])) for n in actor_names),
        associates=tuple(n for n in list_names),
        place_name=place_name,
        places=places,
    )


def separator(codebook: Codebook, column: str, default: str = "; ") -> str:
    """The separator of a list column."""
    return str(sections(codebook).get(column, {}).get("separator") or default)


def vocabulary_column(codebook: Codebook, table: str) -> str:
    """The column whose values come from the vocabulary (the first field whose eventdata.vocabulary names it)."""
    for name, section in sections(codebook).items():
        if str(section.get("vocabulary", "")).partition(".")[0] == table and not section.get("derived"):
            return name
    raise SchemaFileError(
        f"{display_path(codebook.path / SCHEMA_FILE)}: no column takes its values from vocabulary {table!r}; "
        f'give one field "eventdata": {{"vocabulary": "{table}.<column>"}}.'
    )


def role_values(codebook: Codebook, vocabulary: str, role: str) -> list[str]:
    """The first-column values of the vocabulary rows with this role (a vocabulary without roles takes the shipped)."""
    frame = codebook.vocabulary(vocabulary)
    path = display_path(codebook.path / VOCABULARY_DIR / f"{vocabulary}.csv")
    if ROLE_COLUMN not in frame.columns:
        shipped = _shipped_dir(codebook)
        table = _shipped_vocabularies(str(shipped / VOCABULARY_DIR)).get(vocabulary) if shipped else None
        if table is None or ROLE_COLUMN not in table.columns:
            raise SchemaFileError(
                f"{path}:1: there is no {ROLE_COLUMN!r} column; add one and write {role!r} in the row that "
                "plays that part."
            )
        key = table.columns[0]
        wanted = set(table.loc[table[ROLE_COLUMN].astype(str).str.strip() == role, key])
        return [str(v) for v in frame[frame.columns[0]] if v in wanted]
    key = frame.columns[0]
    return [str(v) for v in frame.loc[frame[ROLE_COLUMN].astype(str).str.strip() == role, key]]


def role_value(codebook: Codebook, vocabulary: str, role: str) -> str:
    """The first-column value of the one vocabulary row with this role; none is a located SchemaFileError."""
    values = role_values(codebook, vocabulary, role)
    if not values:
        path = display_path(codebook.path / VOCABULARY_DIR / f"{vocabulary}.csv")
        raise SchemaFileError(
            f"{path}: no row has {ROLE_COLUMN} {role!r}; eventdata needs it: write {role!r} in the "
            f"{ROLE_COLUMN} column of the row that plays that part."
        )
    return values[0]


def role_code(codebook: Codebook, vocabulary: str, role: str) -> int:
    """role_value as a whole number (an actor type or precision code)."""
    value = role_value(codebook, vocabulary, role)
    try:
        return int(value)
    except ValueError as err:
        path = display_path(codebook.path / VOCABULARY_DIR / f"{vocabulary}.csv")
        raise SchemaFileError(f"{path}: the row with {ROLE_COLUMN} {role!r} has {value!r}, not a code.") from err

"""Deltas between two versions: added rows, modified cells (old → new), deleted ids; and schema changes.

Values are compared in their CSV text form, so a delta reads the same in every
format and applies exactly: `apply_changes(previous, delta)` equals the new version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from eventdata import progress
from eventdata.catalog import Release
from eventdata.errors import ReleaseError
from eventdata.schema import SUPPORTED_TYPES, arrow_field

KEY = "event_id_cnty"
TIMESTAMP = "timestamp"
MODIFIED_COLUMNS = ("event_id_cnty", "column", "old_value", "new_value")
DELETED_COLUMNS = ("event_id_cnty", "deleted", "reason")
#: What to do about a damaged release file, in every message that names one.
RESTORE = "restore it from a backup or the published copy (eventdata verify lists what differs)"


@dataclass(frozen=True)
class Changes:
    """What changed from one version to the next."""

    added: pa.Table  # full rows, in the release's schema
    modified: pa.Table  # event_id_cnty, column, old_value, new_value (text)
    deleted: pa.Table  # event_id_cnty, deleted (release date)
    unchanged: int

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added.num_rows,
            "modified": len(set(self.modified.column("event_id_cnty").to_pylist())) if self.modified.num_rows else 0,
            "modified_cells": sum(1 for c in self.modified.column("column").to_pylist() if c != TIMESTAMP),
            "deleted": self.deleted.num_rows,
            "unchanged": self.unchanged,
        }


def as_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A column as the text written to CSV (missing stays missing)."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return pc.cast(column, pa.string())


@dataclass(frozen=True)
class Alignment:
    """Rows of the current version matched to the previous one by event id, and which values differ."""

    current_rows: pa.Array  # positions in current of events also in previous
    previous_rows: pa.Array  # their positions in previous
    differences: dict[str, pa.Array]  # column → bool per common event
    changed: pa.Array  # bool per common event: any column but timestamp differs


def _not_equal(before: pa.Array, after: pa.Array) -> pa.Array:
    equal = pc.fill_null(pc.equal(before, after), False)
    both_missing = pc.and_(pc.is_null(before), pc.is_null(after))
    return pc.invert(pc.or_(equal, both_missing))


def _is_identity(rows: pa.Array) -> bool:
    """True when rows are 0, 1, 2, …: the matched events are the table's first rows, in order (no take needed)."""
    return bool(np.array_equal(rows.to_numpy(zero_copy_only=False), np.arange(len(rows))))


def _matched(column: pa.ChunkedArray, rows: pa.Array, identity: bool) -> pa.ChunkedArray:
    """The values of column at rows (its first rows, without a copy, when identity)."""
    if identity:
        return column.slice(0, len(rows))
    return pc.take(column, rows)


def _indices(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pa.chunked_array([c.indices for c in column.chunks], column.type.index_type)


def _one_dictionary(*columns: pa.ChunkedArray) -> bool:
    """True when every chunk of these dictionary columns has the same dictionary of distinct values, so that
    equal indices are exactly equal values."""
    chunks = [c for column in columns for c in column.chunks]
    if not chunks:
        return True
    first = chunks[0].dictionary
    if first.null_count or len(pc.unique(first)) != len(first):
        return False
    return all(c.dictionary.equals(first) for c in chunks[1:])


def _exact_type(kind: pa.DataType) -> bool:
    """True for the types whose values differ exactly when their CSV text differs (compared as they are)."""
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
        or pa.types.is_timestamp(kind)
    )


def text_differs(before: pa.ChunkedArray, after: pa.ChunkedArray) -> np.ndarray:
    """True where the CSV text of two aligned arrays differs (both missing counts as equal).

    The same answer as comparing as_text(before) with as_text(after), without writing the text where the types
    allow: strings, integers, dates and booleans compare as they are, dictionaries by their indices when both
    share one dictionary, and floats by their bits (the text of a double names it exactly; every NaN reads 'nan').
    """
    kind = after.type
    if before.type == kind:
        if pa.types.is_dictionary(kind) and _one_dictionary(before, after):
            return _as_numpy(_not_equal(_indices(before), _indices(after)))
        if _exact_type(kind):
            return _as_numpy(_not_equal(before, after))
        if pa.types.is_float64(kind) and before.null_count == 0 and after.null_count == 0:
            old, new = before.to_numpy(), after.to_numpy()
            differs: np.ndarray = (old.view(np.int64) != new.view(np.int64)) & ~(np.isnan(old) & np.isnan(new))
            return differs
    return _as_numpy(_not_equal(as_text(before), as_text(after)))


def _as_numpy(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    values: np.ndarray = mask.to_numpy(zero_copy_only=False)
    return values


def match_ids(previous: pa.ChunkedArray, current: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Positions in current of the ids also in previous, and their positions in previous (both int64)."""
    if len(previous) == len(current) and not pc.any(_not_equal(previous, current)).as_py():
        rows = pa.array(np.arange(len(current), dtype=np.int64))  # the same ids in the same order: no hashing
        return rows, rows
    positions = pc.index_in(current, value_set=previous.combine_chunks())
    current_rows = pc.indices_nonzero(pc.is_valid(positions))
    return current_rows, pc.take(positions, current_rows).cast(pa.int64())


def _ids(table: pa.Table, which: str) -> pa.ChunkedArray:
    """The event ids of a version's table; a table without them, or with an event without one, is refused."""
    if KEY in table.column_names and table.column(KEY).null_count == 0:
        return table.column(KEY)
    raw = (table.schema.metadata or {}).get(b"eventdata")
    try:
        info = json.loads(raw) if raw else {}
        where = f"data/events.parquet of {info['name']} {info['version']}"
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        where = f"the events of the {which} version"
    found = "has no column" if KEY not in table.column_names else f"has {table.column(KEY).null_count} event(s) without"
    raise ReleaseError(
        f"{where} {found} {KEY}, the id every event has: it cannot be compared with another version. "
        f"The release is damaged: {RESTORE}."
    )


def align(previous: pa.Table, current: pa.Table) -> Alignment:
    """Match events by id and compare every column as its CSV text would (vectorised in Arrow)."""
    current_rows, previous_rows = match_ids(_ids(previous, "previous"), _ids(current, "current"))
    same_current, same_previous = _is_identity(current_rows), _is_identity(previous_rows)
    differences: dict[str, pa.Array] = {}
    changed = np.zeros(len(current_rows), dtype=bool)
    comparing = f"comparing {len(current_rows):,} events with the previous version"
    for name in current.column_names:
        if name == KEY:
            continue
        progress.stage(comparing, name)
        after = _matched(current.column(name), current_rows, same_current)
        if name in previous.column_names:
            before = _matched(previous.column(name), previous_rows, same_previous)
        else:
            before = pa.chunked_array([pa.nulls(len(current_rows), after.type)])
        differs = text_differs(before, after)
        differences[name] = pa.array(differs)
        if name != TIMESTAMP:
            changed |= differs
    return Alignment(current_rows, previous_rows, differences, pa.array(changed))


def _unmatched(rows: pa.Array, length: int) -> np.ndarray:
    """True for each of a table's length rows that is not among rows (the matched ones)."""
    mask = np.ones(length, dtype=bool)
    mask[rows.to_numpy(zero_copy_only=False)] = False
    return mask


def carry_timestamps(previous: pa.Table | None, current: pa.Table) -> pa.Table:
    """Rows identical to the previous version (but for timestamp) keep the previous timestamp."""
    if previous is None or current.num_rows == 0 or TIMESTAMP not in current.column_names:
        return current
    alignment = align(previous, current)
    keep = pc.indices_nonzero(pc.invert(alignment.changed))
    if len(keep) == 0:
        return current
    times = current.column(TIMESTAMP).combine_chunks().to_numpy(zero_copy_only=False).copy()
    previous_times = previous.column(TIMESTAMP).combine_chunks().to_numpy(zero_copy_only=False)
    rows = pc.take(alignment.current_rows, keep).to_numpy()
    times[rows] = previous_times[pc.take(alignment.previous_rows, keep).to_numpy()]
    position = current.schema.get_field_index(TIMESTAMP)
    field = current.schema.field(position)
    return current.set_column(position, field, pa.array(times, type=field.type))


def compute_changes(
    previous: pa.Table | None, current: pa.Table, released: date, reasons: dict[str, str] | None = None
) -> Changes:
    """Added, modified and deleted events of `current` relative to `previous` (vectorised in Arrow).

    reasons maps deleted ids to why they were deleted (seeds/deletions.csv).
    """
    if previous is None:
        return Changes(current, _empty(MODIFIED_COLUMNS), _empty(DELETED_COLUMNS), 0)
    alignment = align(previous, current)
    added = current.filter(pa.array(_unmatched(alignment.current_rows, current.num_rows)))
    gone = _unmatched(alignment.previous_rows, previous.num_rows)
    deleted_ids = previous.column(KEY).filter(pa.array(gone)).to_pylist()
    progress.stage(f"listing the changes of {current.num_rows:,} events", "modified values")
    pieces = []
    for number, name in enumerate(current.column_names):
        differs = alignment.differences.get(name)
        if differs is None:
            continue
        hits = pc.indices_nonzero(differs)
        if len(hits) == 0:
            continue
        rows = pc.take(alignment.current_rows, hits)
        before = (
            as_text(pc.take(previous.column(name), pc.take(alignment.previous_rows, hits)))
            if name in previous.column_names
            else pa.nulls(len(hits), pa.string())
        )
        pieces.append(
            pa.table(
                {
                    "event_id_cnty": pc.take(current.column(KEY), rows),
                    "column": pa.array([name] * len(hits), pa.string()),
                    "old_value": before,
                    "new_value": as_text(pc.take(current.column(name), rows)),
                    "_row": rows.cast(pa.int64()),
                    "_col": pa.array(np.full(len(hits), number, dtype="int64")),
                }
            )
        )
    if pieces:
        combined = pa.concat_tables(pieces)
        order = pc.sort_indices(combined, sort_keys=[("_row", "ascending"), ("_col", "ascending")])
        modified = combined.take(order).select(list(MODIFIED_COLUMNS)).combine_chunks()
    else:
        modified = _empty(MODIFIED_COLUMNS)
    deleted = pa.table(
        {
            "event_id_cnty": pa.array(deleted_ids, type=pa.string()),
            "deleted": pa.array([released] * len(deleted_ids), type=pa.date32()),
            "reason": pa.array([(reasons or {}).get(i) for i in deleted_ids], type=pa.string()),
        }
    )
    unchanged = len(alignment.changed) - pc.sum(alignment.changed).as_py() if len(alignment.changed) else 0
    return Changes(added, modified, deleted, int(unchanged or 0))


#: Event ids as a list, a pandas Series of strings or an Arrow array.
Ids: TypeAlias = Sequence[str] | pd.Series | pa.Array | pa.ChunkedArray


def _id_array(ids: Ids) -> pa.Array | pa.ChunkedArray:
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        return ids
    return pa.array(ids, pa.string())


def undeclared_deletions(previous_ids: Ids, current_ids: Ids, declared: set[str]) -> list[str]:
    """Ids of the previous version that are gone from the current one without being declared deleted.

    The deletion policy: an event leaves the data only when a person asks for it (a row in
    seeds/deletions.csv with a reason). Every other disappearance (a sheet saved with only its header,
    a sheet renamed or moved away) is an error, never a silent deletion. Order: as in previous_ids.
    """
    previous, current = _id_array(previous_ids), _id_array(current_ids)
    if isinstance(current, pa.ChunkedArray):
        current = current.combine_chunks()
    gone = previous.filter(pc.invert(pc.fill_null(pc.is_in(previous, value_set=current), False)))
    return [str(i) for i in gone.to_pylist() if i not in declared]


def _text_schema(columns: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field(c, pa.string()) for c in columns])


def _empty(columns: tuple[str, ...]) -> pa.Table:
    if columns == DELETED_COLUMNS:
        return pa.table(
            {
                "event_id_cnty": pa.array([], pa.string()),
                "deleted": pa.array([], pa.date32()),
                "reason": pa.array([], pa.string()),
            }
        )
    return _text_schema(columns).empty_table()


def apply_changes(previous: pa.Table, added: pa.Table, modified: pd.DataFrame, deleted_ids: list[str]) -> pa.Table:
    """The previous version's table as text with a delta applied (rows unsorted; the caller normalises)."""
    applying = f"applying a delta to {previous.num_rows:,} events"
    progress.stage(applying, f"removing {len(deleted_ids):,} deleted")
    kept = previous.filter(pc.invert(pc.is_in(previous.column(KEY), value_set=pa.array(deleted_ids, pa.string()))))
    ids = kept.column(KEY).combine_chunks()
    columns = {name: as_text(kept.column(name)).combine_chunks() for name in kept.column_names}
    for name, cells in modified.groupby("column", sort=False):
        progress.stage(applying, f"{name}: {len(cells):,} changed values")
        column = columns.get(str(name), pa.nulls(len(ids), pa.string()))
        positions = pc.index_in(pa.array(cells["event_id_cnty"].tolist(), pa.string()), value_set=ids)
        if positions.null_count:
            raise ValueError(f"the delta modifies events missing from the previous version (column {name})")
        order = np.argsort(positions.to_numpy())
        mask = np.zeros(len(ids), dtype=bool)
        mask[positions.to_numpy()[order]] = True
        values = pa.array(cells["new_value"].to_numpy(dtype=object)[order], pa.string(), from_pandas=True)
        columns[str(name)] = pc.replace_with_mask(column, pa.array(mask), values)
    base = pa.table(columns)
    if added.num_rows:
        progress.stage(applying, f"adding {added.num_rows:,} new")
        extra = pa.table({name: as_text(added.column(name)) for name in added.column_names})
        base = pa.concat_tables([base.select(extra.column_names), extra])
    return base


def from_text(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Text columns cast back to the release's Arrow types."""
    arrays = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_dictionary(field.type):
            arrays.append(pc.cast(column, pa.string()))
        else:
            arrays.append(pc.cast(column, field.type))
    plain = pa.schema(
        [
            pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type, f.nullable, f.metadata)
            for f in schema
        ]
    )
    return pa.Table.from_arrays(arrays, schema=plain)


# --- a release's events against its own Table Schema ----------------------------------------------------


def _field_problem(field: Any) -> str | None:
    """What is wrong with one field of a release's Table Schema for the tools that read it (None: nothing)."""
    if not isinstance(field, dict) or not isinstance(field.get("name"), str):
        return "must be an object with a 'name'"
    name = field["name"]
    if field.get("type") not in SUPPORTED_TYPES:
        return f"({name}): 'type' must be one of {', '.join(SUPPORTED_TYPES)}, not {field.get('type')!r}"
    for key in ("constraints", "eventdata"):
        if not isinstance(field.get(key, {}), dict):
            return f"({name}): {key!r} must be an object, not {field[key]!r}"
    constraints = field.get("constraints", {})
    enum = constraints.get("enum", [])
    if not isinstance(enum, list) or not all(isinstance(v, str | int | float) for v in enum):
        return f"({name}): 'enum' must be a list of values, not {enum!r}"
    bounds = [constraints.get(k) for k in ("minimum", "maximum")]
    if field["type"] == "integer" and not all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in [*bounds, *enum]
    ):
        return f"({name}): the bounds and values of an integer column must be whole numbers, not {bounds + enum!r}"
    return None


def events_fields(table_schema: Any, where: str) -> list[dict[str, Any]]:
    """The fields of a release's events Table Schema (`where` names it), each checked as diff, report and update
    read it: an object with a name, a supported type and well-formed constraints."""
    fields = table_schema.get("fields") if isinstance(table_schema, dict) else None
    if not isinstance(fields, list):
        shown = fields if isinstance(table_schema, dict) else table_schema
        raise ReleaseError(
            f"{where}: 'fields' must be the list of the events' columns, not {shown!r}; the release is damaged: "
            f"{RESTORE}."
        )
    for number, field in enumerate(fields):
        problem = _field_problem(field)
        if problem is not None:
            raise ReleaseError(f"{where}: fields[{number}] {problem}; the release is damaged: {RESTORE}.")
    return fields


def events_arrow_schema(fields: list[dict[str, Any]]) -> pa.Schema:
    """The Arrow schema a release writes its events.parquet in, from its Table Schema's fields (events_fields)."""
    return pa.schema([arrow_field(f) for f in fields])


def column_differences(found: pa.Schema, expected: pa.Schema) -> list[str]:
    """How a table's columns differ from the ones its Table Schema gives (as Arrow): each missing, unlisted,
    repeated or retyped column, or their order; empty when they agree (nullability is not compared)."""
    names = found.names
    lacking = [f.name for f in expected if f.name not in names]
    differences = [f"lacks the column(s) {', '.join(lacking)}"] if lacking else []
    unlisted = [n for n in dict.fromkeys(names) if n not in expected.names]
    if unlisted:
        differences.append(f"has column(s) {', '.join(unlisted)} that its Table Schema does not list")
    repeated = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    if repeated:
        differences.append(f"has the column(s) {', '.join(repeated)} more than once")
    for field in expected:
        if names.count(field.name) == 1 and found.field(field.name).type != field.type:
            differences.append(
                f"has column {field.name} as {found.field(field.name).type}, where its Table Schema gives {field.type}"
            )
    if not differences and names != expected.names:
        differences.append("has its columns in another order than its Table Schema")
    return differences


def check_release_events(release: Release) -> None:
    """Refuse a release whose events do not match its own Table Schema (datapackage.json): the columns and
    their Arrow types, and an id on every event. Reads the Parquet footer and the ids, not the other columns.

    `diff` runs it on both versions before it reads their events or prints anything.
    """
    descriptor = release.descriptor()
    resources = descriptor.get("resources", [])
    number = next((i for i, r in enumerate(resources) if r.get("name") == "events"), None)
    if number is None:
        raise ReleaseError(f"{release.descriptor_path} has no 'events' resource; the release is damaged: {RESTORE}.")
    where = f"{release.descriptor_path} resources[{number}].schema"
    expected = events_arrow_schema(events_fields(resources[number].get("schema"), where))
    path = release.path / "data" / "events.parquet"
    if not path.is_file():
        raise ReleaseError(f"{path} is missing: release {release.version} of {release.name} is incomplete; {RESTORE}.")
    try:
        parquet = pq.ParquetFile(path)
        differences = column_differences(parquet.schema_arrow, expected)
        nulls = 0 if differences else pq.read_table(path, columns=[KEY]).column(KEY).null_count
    except (pa.ArrowException, OSError) as err:
        raise ReleaseError(
            f"{path} ({path.stat().st_size} bytes) is not a readable Parquet file ({err}); release "
            f"{release.version} of {release.name} is damaged: {RESTORE}."
        ) from err
    if differences:
        raise ReleaseError(
            f"{path} does not match its Table Schema ({where}): it {'; it '.join(differences)}. Release "
            f"{release.version} of {release.name} is damaged: {RESTORE}."
        )
    if nulls:
        raise ReleaseError(
            f"{path}: column {KEY} is empty on {nulls} of {parquet.metadata.num_rows} rows, but every event has an "
            f"id; release {release.version} of {release.name} is damaged: {RESTORE}."
        )


# --- schema changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two Table Schemas and the version bump it calls for."""

    level: str  # major | minor | patch
    field: str
    description: str


def _constraint_change(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    changes = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "enum" and before is not None and after is not None:
            if set(after) >= set(before):
                changes.append(
                    SchemaChange("minor", name, f"values added: {sorted(set(after) - set(before), key=str)}")
                )
            else:
                changes.append(
                    SchemaChange("major", name, f"values removed: {sorted(set(before) - set(after), key=str)}")
                )
        elif key == "required":
            level = "major" if after else "minor"
            changes.append(SchemaChange(level, name, f"required: {bool(before)} → {bool(after)}"))
        elif key == "minimum" and before is not None and after is not None:
            changes.append(SchemaChange("minor" if after < before else "major", name, f"minimum {before} → {after}"))
        elif key == "maximum" and before is not None and after is not None:
            changes.append(SchemaChange("minor" if after > before else "major", name, f"maximum {before} → {after}"))
        elif after is None:
            changes.append(SchemaChange("minor", name, f"constraint {key} removed"))
        else:
            changes.append(SchemaChange("major", name, f"constraint {key}: {before!r} → {after!r}"))
    return changes


def schema_changes(old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    """Differences between two Table Schemas, classified by the Data Package Version recipe."""
    old_fields = {f["name"]: f for f in events_fields(old, "the previous version's Table Schema")}
    new_fields = {f["name"]: f for f in events_fields(new, "the new version's Table Schema")}
    changes = [SchemaChange("major", n, "field removed") for n in old_fields if n not in new_fields]
    changes += [SchemaChange("major", n, "field added") for n in new_fields if n not in old_fields]
    common_old = [n for n in old_fields if n in new_fields]
    common_new = [n for n in new_fields if n in old_fields]
    if common_old != common_new:
        changes.append(SchemaChange("major", "*", "fields reordered"))
    for name in common_new:
        before, after = old_fields[name], new_fields[name]
        if before.get("type") != after.get("type"):
            changes.append(SchemaChange("major", name, f"type {before.get('type')} → {after.get('type')}"))
        changes += _constraint_change(name, before.get("constraints", {}), after.get("constraints", {}))
        for key in ("description", "title"):
            if before.get(key) != after.get(key):
                changes.append(SchemaChange("patch", name, f"{key} changed"))
    return changes


LEVELS = ("patch", "minor", "major")


def required_bump(schema: list[SchemaChange], counts: dict[str, int]) -> str | None:
    """The smallest bump the changes call for (None when nothing changed)."""
    levels = [c.level for c in schema]
    if counts.get("added"):
        levels.append("minor")
    if counts.get("modified") or counts.get("deleted"):
        levels.append("patch")
    if not levels:
        return None
    return max(levels, key=LEVELS.index)

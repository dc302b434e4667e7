"""Deltas between two versions: added rows, modified cells (old → new), deleted ids; and schema changes.

Values are compared in their CSV text form, so a delta reads the same in every
format and applies exactly: `apply_changes(previous, delta)` equals the new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KEY = "event_id_cnty"
TIMESTAMP = "timestamp"
MODIFIED_COLUMNS = ("event_id_cnty", "column", "old_value", "new_value")
DELETED_COLUMNS = ("event_id_cnty", "deleted", "reason")


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


def _text_frame(table: pa.Table) -> pd.DataFrame:
    data = {name: as_text(table.column(name)).to_pandas(types_mapper=pd.ArrowDtype) for name in table.column_names}
    frame = pd.DataFrame(data)
    return frame.set_index(KEY, drop=False)


def _differs(old: pd.Series, new: pd.Series) -> np.ndarray:
    both_missing = old.isna().to_numpy() & new.isna().to_numpy()
    equal = (
        (old.to_numpy() == new.to_numpy()) if old.dtype == object else old.eq(new).fillna(False).to_numpy(dtype=bool)
    )
    return ~(equal | both_missing)


def carry_timestamps(previous: pa.Table | None, current: pa.Table) -> pa.Table:
    """Rows identical to the previous version (but for timestamp) keep the previous timestamp."""
    if previous is None or current.num_rows == 0 or TIMESTAMP not in current.column_names:
        return current
    old, new = _text_frame(previous), _text_frame(current)
    common = new.index.intersection(old.index)
    if common.empty:
        return current
    changed = np.zeros(len(common), dtype=bool)
    for name in current.column_names:
        if name in (TIMESTAMP, KEY) or name not in old.columns:
            changed |= name not in old.columns
            continue
        changed |= _differs(old.loc[common, name], new.loc[common, name])
    keep = common[~changed]
    previous_times = pd.Series(previous.column(TIMESTAMP).to_numpy(), index=previous.column(KEY).to_pylist())
    times = pd.Series(current.column(TIMESTAMP).to_numpy(), index=current.column(KEY).to_pylist())
    times.loc[keep] = previous_times.loc[keep].to_numpy()
    position = current.schema.get_field_index(TIMESTAMP)
    field = current.schema.field(position)
    return current.set_column(position, field, pa.array(times.to_numpy(), type=field.type))


def compute_changes(
    previous: pa.Table | None, current: pa.Table, released: date, reasons: dict[str, str] | None = None
) -> Changes:
    """Added, modified and deleted events of `current` relative to `previous` (vectorised).

    reasons maps deleted ids to why they were deleted (seeds/deletions.csv).
    """
    ids = current.column(KEY).to_pylist()
    if previous is None:
        return Changes(current, _empty(MODIFIED_COLUMNS), _empty(DELETED_COLUMNS), 0)
    old, new = _text_frame(previous), _text_frame(current)
    added_mask = ~new.index.isin(old.index)
    deleted_ids = old.index[~old.index.isin(new.index)]
    common = new.index[~added_mask]
    pieces = []
    changed_any = np.zeros(len(common), dtype=bool)
    for name in current.column_names:
        if name == KEY:
            continue
        before = old.loc[common, name] if name in old.columns else pd.Series(pd.NA, index=common, dtype=new[name].dtype)
        after = new.loc[common, name]
        mask = _differs(before, after)
        if name != TIMESTAMP:
            changed_any |= mask
        if mask.any():
            pieces.append(
                pd.DataFrame(
                    {
                        "event_id_cnty": common[mask],
                        "column": name,
                        "old_value": before.to_numpy()[mask],
                        "new_value": after.to_numpy()[mask],
                    }
                )
            )
    modified = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=list(MODIFIED_COLUMNS))
    order = {name: i for i, name in enumerate(current.column_names)}
    rank = {event_id: i for i, event_id in enumerate(ids)}
    if len(modified):
        modified = (
            modified.assign(_row=modified["event_id_cnty"].map(rank), _col=modified["column"].map(order))
            .sort_values(["_row", "_col"], kind="stable")
            .drop(columns=["_row", "_col"])
        )
    added = current.filter(pa.array(added_mask))
    deleted = pa.table(
        {
            "event_id_cnty": pa.array(list(deleted_ids), type=pa.string()),
            "deleted": pa.array([released] * len(deleted_ids), type=pa.date32()),
            "reason": pa.array([(reasons or {}).get(i) for i in deleted_ids], type=pa.string()),
        }
    )
    modified_table = pa.Table.from_pandas(
        modified.astype("object"), preserve_index=False, schema=_text_schema(MODIFIED_COLUMNS)
    )
    return Changes(added, modified_table.replace_schema_metadata(None), deleted, int((~changed_any).sum()))


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
    """The previous version's table with a delta applied (rows unsorted; the caller normalises)."""
    frame = _text_frame(previous)
    frame = frame[~frame.index.isin(set(deleted_ids))]
    for name, cells in modified.groupby("column", sort=False):
        if name not in frame.columns:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype=pd.ArrowDtype(pa.string()))
        values = pd.Series(cells["new_value"].to_numpy(), index=cells["event_id_cnty"].to_numpy())
        frame.loc[values.index, name] = values.to_numpy()
    base = pa.table(
        {
            name: pa.array(frame[name].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            for name in frame.columns
        }
    )
    extra = pa.table({name: as_text(added.column(name)) for name in added.column_names}) if added.num_rows else None
    if extra is not None:
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
    old_fields = {f["name"]: f for f in old.get("fields", [])}
    new_fields = {f["name"]: f for f in new.get("fields", [])}
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

"""Stable event ids: the tool assigns `event_id_cnty` and records every id it ever gave out.

The registry (seeds/event_ids.csv) lists each id once, with the sheet it was first
written to. An id leaves the registry never: a deleted event's id is not reused,
and a row that moves between sheets keeps the id written in it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eventdata.errors import SourceError
from eventdata.files import write_atomic
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, read_list

REGISTRY_COLUMNS = ("event_id_cnty", "first_sheet")
DELETIONS_FILE = "deletions.csv"
ID_PARTS = r"^([A-Z]{3})(\d+)$"


@dataclass(frozen=True)
class Assignment:
    """Ids given to rows that had none: the full id column, and the new ids with their rows."""

    ids: pd.Series
    new: pd.DataFrame  # event_id_cnty, _sheet, _line


def read_registry(path: Path) -> pd.DataFrame:
    """Every id ever assigned (empty when the registry does not exist yet)."""
    if not path.is_file():
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in REGISTRY_COLUMNS})
    return read_list(path, REGISTRY_COLUMNS, SourceError, "The id registry")


def read_deletions(path: Path) -> dict[str, str]:
    """Deleted event ids and why (seeds/deletions.csv: event_id_cnty, reason); empty when absent."""
    if not path.is_file():
        return {}
    table = read_list(path, ("event_id_cnty", "reason"), SourceError)
    return dict(zip(table["event_id_cnty"], table["reason"], strict=True))


def next_numbers(registry_ids: pd.Series, present_ids: pd.Series) -> dict[str, int]:
    """The highest number used so far for each id prefix (country code), in the registry or in the sheets."""
    every = pd.concat([registry_ids.astype("string"), present_ids.astype("string")]).dropna()
    parts = every.str.extract(ID_PARTS).dropna()
    if parts.empty:
        return {}
    numbers = pd.to_numeric(parts[1])
    return {str(k): int(v) for k, v in numbers.groupby(parts[0]).max().items()}


def assign_ids(events: pd.DataFrame, registry: pd.DataFrame, iso3: Mapping[str, str]) -> Assignment:
    """Give every row without an id the next free number of its country, in sheet and line order."""
    ids = events["event_id_cnty"].astype("string").copy()
    prefixes = events["country"].map(dict(iso3)).astype("string")
    needs = ids.isna() & prefixes.notna()
    if not needs.any():
        return Assignment(ids, pd.DataFrame(columns=["event_id_cnty", SHEET_COLUMN, LINE_COLUMN]))
    last = next_numbers(registry["event_id_cnty"], ids)
    order = events.loc[needs, [SHEET_COLUMN, LINE_COLUMN]].assign(prefix=prefixes[needs])
    order = order.sort_values([SHEET_COLUMN, LINE_COLUMN], kind="stable")
    offsets = order.groupby("prefix", sort=False).cumcount() + 1
    start = order["prefix"].map(lambda p: last.get(p, 0))
    new_ids = order["prefix"] + (start + offsets).astype("int64").astype("string")
    ids.loc[new_ids.index] = new_ids
    new = pd.DataFrame({"event_id_cnty": new_ids, SHEET_COLUMN: order[SHEET_COLUMN], LINE_COLUMN: order[LINE_COLUMN]})
    return Assignment(ids, new)


def unregistered(ids: pd.Series, registry: pd.DataFrame) -> pd.Series:
    """True for ids written in a sheet that the tool never assigned (coders never invent ids)."""
    known = pc.is_in(
        pa.array(ids.astype("string").tolist(), pa.string(), from_pandas=True),
        value_set=pa.array(registry["event_id_cnty"].astype("string").tolist(), pa.string()),
    )
    listed = pc.fill_null(known, False).to_numpy(zero_copy_only=False)
    return pd.Series(ids.notna().to_numpy() & ~listed, index=ids.index)


def write_ids_into_sheet(path: Path, ids_by_line: Mapping[int, str]) -> None:
    """Fill the event_id_cnty cell of the given lines (adding the column first if absent).

    The sheet keeps its byte order mark and line endings, so spreadsheet programs and diffs see no other change.
    """
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    first_break = text.find("\n")
    newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    reader = csv.reader(io.StringIO(text, newline=""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    start = 1
    column: int | None = None
    added = False
    for cells in reader:
        line, start = start, reader.line_num + 1
        if column is None:
            header = [c.strip() for c in cells]
            added = "event_id_cnty" not in header
            if added:
                cells = ["event_id_cnty", *cells]
            column = [c.strip() for c in cells].index("event_id_cnty")
        elif cells and any(cells):
            if added:
                cells = ["", *cells]
            if line in ids_by_line:
                cells[column] = ids_by_line[line]
        writer.writerow(cells)
    write_atomic(path, ("\ufeff" if bom else "") + out.getvalue())


def record_assignment(registry_path: Path, sheets: Mapping[str, Path], new: pd.DataFrame) -> None:
    """Write new ids into their sheets, then append them to the registry."""
    if new.empty:
        return
    for sheet_name, rows in new.groupby(SHEET_COLUMN, sort=True):
        write_ids_into_sheet(
            sheets[str(sheet_name)], dict(zip(rows[LINE_COLUMN].astype(int), rows["event_id_cnty"], strict=True))
        )
    registry = read_registry(registry_path)
    added = pd.DataFrame(
        {"event_id_cnty": new["event_id_cnty"], "first_sheet": [Path(str(s)).name for s in new[SHEET_COLUMN]]}
    )
    combined = pd.concat([registry, added.astype("string")], ignore_index=True)
    buffer = io.StringIO()
    combined.to_csv(buffer, index=False, lineterminator="\n")
    write_atomic(registry_path, buffer.getvalue())

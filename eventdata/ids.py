"""Stable event ids: the tool assigns `event_id_cnty` and records every id it ever gave out.

The registry (seeds/event_ids.csv) lists each id once, with the sheet it was first
written to. An id leaves the registry never: a deleted event's id is not reused,
and a row that moves between sheets keeps the id written in it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eventdata.errors import SourceError
from eventdata.files import write_atomic
from eventdata.sources.sheets import (
    LINE_COLUMN,
    SHEET_COLUMN,
    CsvFileError,
    Records,
    csv_record,
    decode_csv,
    display_path,
    parse_csv,
    ragged_message,
    read_list,
)

if TYPE_CHECKING:
    from eventdata.pipeline import State

REGISTRY_COLUMNS = ("event_id_cnty", "first_sheet")
DELETIONS_FILE = "deletions.csv"
DELETIONS_COLUMNS = ("event_id_cnty", "reason")
ID_PARTS = r"^([A-Z]{3})(\d+)$"
#: The most digits of an id's number: larger numbers would not fit the 64-bit integers ids are counted in.
MAX_ID_DIGITS = 18


@dataclass(frozen=True)
class Assignment:
    """Ids given to rows that had none: the full id column, and the new ids with their rows."""

    ids: pd.Series
    new: pd.DataFrame  # event_id_cnty, _sheet, _line


def read_registry(path: Path) -> pd.DataFrame:
    """Every id ever assigned (empty when the registry does not exist yet)."""
    if not path.is_file():
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in REGISTRY_COLUMNS})
    registry = read_list(path, REGISTRY_COLUMNS, SourceError, "The id registry")
    # A record of spaces, as the one reader skips: only rows whose first cell is blank can be one.
    first = (registry.iloc[:, 0].str.strip() == "").to_numpy(dtype=bool, na_value=False)
    if first.any():
        rest = registry[first].apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy(dtype=bool)
        blank = first.copy()
        blank[first] = rest
        registry = registry[~blank].reset_index(drop=True) if blank.any() else registry
    _refuse_malformed_ids(path, registry["event_id_cnty"])
    return registry


#: An id as the tool assigns it: a prefix and a number that fits a 64-bit integer with room to count on.
ASSIGNED_ID = rf"[A-Z]{{3}}\d{{1,{MAX_ID_DIGITS}}}"


def _refuse_malformed_ids(path: Path, ids: pd.Series) -> None:
    """SourceError naming the first registry row whose id is not one the tool assigns (its line read again)."""
    good = ids.fillna("").str.fullmatch(ASSIGNED_ID).to_numpy(dtype=bool, na_value=False)
    if good.all():
        return
    rows = read_list(path, REGISTRY_COLUMNS, SourceError, "The id registry", lines=True)
    for line, value in zip(rows[LINE_COLUMN], rows["event_id_cnty"].fillna(""), strict=True):
        if not re.fullmatch(ASSIGNED_ID, value):  # blank records are not among the rows
            raise SourceError(
                f"The id registry {display_path(path)}:{line}: column event_id_cnty holds {value!r}, which is not an "
                f"id the tool assigns (three capital letters and a number of at most {MAX_ID_DIGITS} digits, e.g. "
                "SYR14). The registry is written by the tool: restore this line from version control."
            )


def read_deletion_rows(path: Path) -> pd.DataFrame:
    """seeds/deletions.csv as strings with the line of each row (_line); empty when absent."""
    if not path.is_file():
        frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in DELETIONS_COLUMNS})
        frame[LINE_COLUMN] = pd.Series([], dtype="int64")
        return frame
    return read_list(path, DELETIONS_COLUMNS, SourceError, lines=True)


def read_deletions(path: Path) -> dict[str, str]:
    """Deleted event ids and why (seeds/deletions.csv: event_id_cnty, reason); empty when absent."""
    table = read_deletion_rows(path)
    ids = table["event_id_cnty"].str.strip()
    return dict(zip(ids, table["reason"].str.strip(), strict=True))


def next_numbers(registry_ids: pd.Series, present_ids: pd.Series) -> dict[str, int]:
    """The highest number used so far for each id prefix (country code), in the registry or in the sheets."""
    every = pd.concat([registry_ids.astype("string"), present_ids.astype("string")]).dropna()
    parts = every.str.extract(ID_PARTS).dropna()
    parts = parts[parts[1].str.len() <= MAX_ID_DIGITS]  # a longer number is no id the tool gave (unregistered-id)
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
        pa.array(ids.astype("string"), pa.string(), from_pandas=True),
        value_set=pa.array(registry["event_id_cnty"].astype("string"), pa.string(), from_pandas=True),
    )
    listed = pc.fill_null(known, False).to_numpy(zero_copy_only=False)
    return pd.Series(ids.notna().to_numpy() & ~listed, index=ids.index)


def header_has_id(path: Path) -> bool:
    """True when the sheet's header names event_id_cnty."""
    return "event_id_cnty" in _sheet_records(path, path.read_bytes()).header


def _sheet_records(path: Path, data: bytes) -> Records:
    """A sheet's records by the one CSV reader; SourceError naming the file and line when it cannot be read."""
    try:
        return parse_csv(decode_csv(data))
    except CsvFileError as err:
        raise SourceError(err.message(f"The sheet {display_path(path)}")) from err


def _record(cells: list[str]) -> str:
    """One record as CSV writes it, without its line ending (a cell is quoted only when it must be)."""
    return csv_record(cells, "")


#: A line break as the CSV reader counts lines (newline="": CR LF, a lone CR, LF).
LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def sheet_with_ids(path: Path, ids_by_line: Mapping[int, str]) -> str:
    """The text of a sheet with the event_id_cnty cell of the given lines filled (the column added, last, if absent).

    The column goes last so a row later typed in the old layout lacks only the trailing id cell, which the
    reader accepts. Only the records that change are written anew; every other byte (byte order mark, line
    endings, blank lines, quoting) stays, so spreadsheet programs and diffs see no other change.
    """
    data = path.read_bytes()
    records = _sheet_records(path, data)
    bom = "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""
    # Lines as the reader counts them (CR LF, a lone CR and LF each end one): lines[n - 1] is line n, breaks[n - 1]
    # the break that ends it.
    parts = LINE_BREAK.split(data.decode("utf-8-sig"))
    lines, breaks = parts[0::2], [*parts[1::2], ""]
    added = "event_id_cnty" not in records.header
    width = len(records.header) + added
    column = width - 1 if added else records.header.index("event_id_cnty")

    def replace(line: int, cells: list[str], text: str | None = None, *, append: str | None = None) -> None:
        last = line - 1 + sum(len(LINE_BREAK.findall(c)) for c in cells)  # the line the record ends on
        if append is not None:
            lines[last] += append
        else:
            lines[line - 1 : last + 1] = [str(text)]
            breaks[line - 1 : last + 1] = [breaks[last]]

    if added:
        replace(records.header_line, records.header, append="," + _record(["event_id_cnty"]))
    for line, cells in reversed(records.rows):  # from the end, so the lines of earlier records stay where they are
        value = ids_by_line.get(line)
        if added or (len(cells) == width - 1 and column == width - 1):
            replace(
                line, cells, append="," + (_record([value]) if value else "")
            )  # the id cell, last, of a row that has none
        elif value is not None:
            if len(cells) <= column:
                raise SourceError(
                    f"The sheet {display_path(path)}:{line}: {ragged_message(len(cells), len(records.header))}"
                )
            replace(line, cells, _record([*cells[:column], value, *cells[column + 1 :]]))
    return bom + "".join(a + b for a, b in zip(lines, breaks, strict=True))


def write_ids_into_sheet(path: Path, ids_by_line: Mapping[int, str]) -> None:
    """Fill the event_id_cnty cell of the given lines, in place (see sheet_with_ids)."""
    write_atomic(path, sheet_with_ids(path, ids_by_line))


def assignment_files(registry_path: Path, sheets: Mapping[str, Path], new: pd.DataFrame) -> dict[Path, str]:
    """The new text of every file that recording new ids changes: their sheets, then the registry."""
    if new.empty:
        return {}
    files: dict[Path, str] = {}
    for sheet_name, rows in new.groupby(SHEET_COLUMN, sort=True):
        path = sheets[str(sheet_name)]
        files[path] = sheet_with_ids(path, dict(zip(rows[LINE_COLUMN].astype(int), rows["event_id_cnty"], strict=True)))
    registry = read_registry(registry_path)
    added = pd.DataFrame(
        {"event_id_cnty": new["event_id_cnty"], "first_sheet": [Path(str(s)).name for s in new[SHEET_COLUMN]]}
    )
    combined = pd.concat([registry, added.astype("string")], ignore_index=True)
    buffer = io.StringIO()
    combined.to_csv(buffer, index=False, lineterminator="\n")
    files[registry_path] = buffer.getvalue()
    return files


def record_assignment(registry_path: Path, sheets: Mapping[str, Path], new: pd.DataFrame) -> None:
    """Write new ids into their sheets, then append them to the registry (each file atomically)."""
    for path, text in assignment_files(registry_path, sheets, new).items():
        write_atomic(path, text)


# --- the id step of validation -----------------------------------------------------------------------

DELETED_ID = (
    "{event_id} was deleted ({reason}) and ids are never reused: leave event_id_cnty empty for a new event, "
    "or remove the id from seeds/deletions.csv to restore the event."
)
UNREGISTERED_ID = (
    "ids are assigned by the tool: leave event_id_cnty empty for a new event (an id from an ACLED export "
    "is registered by `eventdata import acled`)."
)


def apply_ids(state: State) -> None:
    """Give rows without an id the next free id of their country; ids in sheets must be registered, not deleted."""
    from eventdata.derive import country_id_prefix

    registry = state.references.registry
    assert registry is not None
    events, deleted = state.events, state.references.deleted
    ids = events["event_id_cnty"]
    gone = ids.isin(set(deleted)).fillna(False).to_numpy(dtype=bool)
    if gone.any():
        found = ids[gone].astype(str).tolist()
        state.findings.add(
            gone, "deleted-id", "event_id_cnty", DELETED_ID, {"event_id": found, "reason": [deleted[i] for i in found]}
        )
    state.findings.add(
        unregistered(ids, registry).to_numpy(dtype=bool), "unregistered-id", "event_id_cnty", UNREGISTERED_ID
    )
    assignment = assign_ids(events, registry, country_id_prefix(state.codebook))
    out = events.copy(deep=False)
    out["event_id_cnty"] = assignment.ids.astype(ids.dtype)
    state.events = out
    state.new_ids = assignment.new

"""Checking an import before anything is written: values, ids, the generated sheet, the dataset's sheets.

Problems of the generated sheet are shown at the export's lines, columns and values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from eventdata.acled.export import CHECKED_ONLY, Export, ExportRow
from eventdata.columns import columns
from eventdata.errors import Problem
from eventdata.ids import ID_PARTS, MAX_ID_DIGITS
from eventdata.project import Project
from eventdata.schema import Codebook
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, STRING_DTYPE, display_path, read_sheet
from eventdata.validate import References, validate_events

# --- checking the result ---------------------------------------------------------------------------


def _check_values(export: Export, row: ExportRow, countries: set[str]) -> None:
    """Countries and coordinates the place list is built from must be readable before anything is inferred."""
    v = row.cells
    if v["country"] not in countries:
        export.problem(
            "enum-error",
            "the country is not in the countries vocabulary (schemas/vocabularies/countries.csv).",
            row.line,
            "country",
            v["country"],
        )
    for column, bound in (("latitude", 90.0), ("longitude", 180.0)):
        try:
            number = float(v[column])
        except ValueError:
            number = float("nan")
        if not abs(number) <= bound:
            export.problem(
                "type-error",
                f"{column} must be a decimal number from -{bound:g} to {bound:g}.",
                row.line,
                column,
                v[column],
            )


def _check_id(export: Export, row: ExportRow) -> None:
    """ACLED gives every event an id, and its number must fit the id registry (a 64-bit integer to count on)."""
    event_id = row.cells["event_id_cnty"]
    if not event_id:
        export.problem(
            "required-error",
            "event_id_cnty is required in an ACLED export: ACLED gives every event its id; "
            "download the export again, or drop the row.",
            row.line,
            "event_id_cnty",
            event_id,
        )
        return
    match = re.fullmatch(ID_PARTS, event_id)
    if match and len(match.group(2)) > MAX_ID_DIGITS:
        export.problem(
            "maximum-error",
            f"the number of the event id has {len(match.group(2))} digits; the id registry holds numbers of at most "
            f"{MAX_ID_DIGITS} digits (a 64-bit integer with room to count on), and ACLED's ids are far shorter.",
            row.line,
            "event_id_cnty",
            event_id,
        )


def _check_registered(export: Export, registry: pd.DataFrame) -> None:
    first = dict(zip(registry["event_id_cnty"], registry["first_sheet"], strict=True))
    for row in export.good_rows:
        event_id = row.cells["event_id_cnty"]
        if event_id in first:
            export.problem(
                "registered-id",
                f"{event_id} is already in the id registry (first written to "
                f"{first[event_id]}): the event was imported or coded before. Drop the row from the "
                "export or correct the existing sheet.",
                row.line,
                "event_id_cnty",
                event_id,
            )


def check_rows(
    export: Export, rows: Sequence[ExportRow], sheet: Path, codebook: Codebook, references: References
) -> list[Problem]:
    """Validate the sheet as `eventdata validate` will read it, located at the export's lines and columns."""
    read = read_sheet(sheet, codebook.field_names, codebook.input_required_fields)
    frame = read.frame
    if read.problems or len(frame) != len(rows):
        raise RuntimeError(f"the generated sheet does not read back: {[p.format() for p in read.problems]}")
    for column in CHECKED_ONLY:
        frame[column] = pd.Series([r.cells.get(column) or None for r in rows], dtype=STRING_DTYPE)
    frame[SHEET_COLUMN] = export.name
    frame[LINE_COLUMN] = [r.line for r in rows]
    _, problems, _ = validate_events(frame, codebook, references)
    return locate(problems, export, rows, columns(codebook).actor_types)


def locate(
    problems: Sequence[Problem], export: Export, rows: Sequence[ExportRow], actor_types: Sequence[str]
) -> list[Problem]:
    """Problems of the generated sheet shown at the export's columns and values.

    An interaction that disagrees only because an actor type does is not reported twice.
    """
    by_line = {r.line: r for r in rows}
    wrong_type = {p.line for p in problems if p.code == "derived-mismatch" and p.column in actor_types}
    located = []
    for p in problems:
        row = by_line.get(p.line or 0)
        if p.file != export.name or row is None or p.column is None:
            located.append(p)
            continue
        if p.code == "derived-mismatch" and p.column == "interaction" and p.line in wrong_type:
            continue
        message = p.message
        if p.code == "derived-mismatch" and p.column in CHECKED_ONLY:
            message = (
                f"{message.split(';')[0]}, not ACLED's value; the import takes derived columns only where they agree."
            )
        value = row.raw.get(p.column) if p.column in export.headers else p.value
        located.append(Problem(p.code, message, p.file, p.line, export.headers.get(p.column, p.column), value))
    return located


def existing_rows_problems(
    project: Project, codebook: Codebook, before: References, after: References
) -> list[Problem]:
    """Problems the new places would cause in the dataset's sheets (a name that becomes ambiguous)."""
    frames = []
    for path in project.sheet_paths():
        frames.append(read_sheet(path, codebook.field_names, codebook.input_required_fields).frame)
        frames[-1][SHEET_COLUMN] = display_path(path)
    if not frames:
        return []
    raw = pd.concat(frames, ignore_index=True)
    seen = {(p.file, p.line, p.column, p.code) for p in validate_events(raw, codebook, before)[1]}
    return [
        Problem(p.code, f"importing the export would cause this: {p.message}", p.file, p.line, p.column, p.value)
        for p in validate_events(raw, codebook, after)[1]
        if (p.file, p.line, p.column, p.code) not in seen
    ]

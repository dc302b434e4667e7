"""`eventdata assign-ids`: the one step that writes ids, into the sheets and the id registry, all or none.

Validation gives every row typed without an `event_id_cnty` the next free number of its country, in memory
(eventdata.ids.assign_ids): `validate` and `build` use those provisional ids and write nothing. This module
writes them: the rows' cells in their sheets (the column is added, last, to a sheet that lacks it) and the
registry seeds/event_ids.csv, prepared beside their targets and renamed into place together, so an error or
a kill leaves every file as it was or every id written. `release` writes the same ids in the same way as part
of its commit, just before the new version becomes visible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from eventdata.dataset import Dataset
from eventdata.errors import Report
from eventdata.files import STAGING_MARK, FileSet, staging_folder, staging_token
from eventdata.ids import assignment_files, header_has_id
from eventdata.project import Project
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN
from eventdata.validate import Validation, validate_project


@dataclass(frozen=True)
class IdAssignment:
    """What `assign-ids` did: 'assigned', 'none' (every row had its id) or 'invalid' (nothing written)."""

    status: str
    report: Report
    ids: tuple[tuple[str, int, str], ...] = ()  # sheet (as shown), line, the id written there
    files: tuple[Path, ...] = ()  # the files written: sheets, then the registry
    new_id_column: tuple[str, ...] = ()  # sheets whose header got an event_id_cnty column


def input_dirs(project: Project) -> tuple[Path, ...]:
    """Where writing ids prepares files beside their targets: the sheets and the registry (and schemas/)."""
    return (project.seeds_dir, project.sheets_dir, project.schemas_dir)


def unassigned_message(count: int) -> str:
    """What validate and build say about rows typed without an id."""
    return f"{count} row(s) have no id yet: `eventdata assign-ids` gives them one; `release` does it for you."


def unassigned_count(validation: Validation) -> int:
    """How many rows have no id yet (validation gave them provisional ones)."""
    return 0 if validation.new_ids is None else len(validation.new_ids)


def provisional_ids(validation: Validation) -> tuple[tuple[str, int, str], ...]:
    """(sheet, line, id) of every row that gets an id, in sheet and line order."""
    new = validation.new_ids
    if new is None or new.empty:
        return ()
    return tuple(
        (str(sheet), int(line), str(event_id))
        for event_id, sheet, line in new[["event_id_cnty", SHEET_COLUMN, LINE_COLUMN]].itertuples(index=False)
    )


def id_files(validation: Validation, project: Project, root: Path | None = None) -> dict[Path, str]:
    """New text of the sheets and registry that record the ids validation gave; below root: of a copy there."""
    new_ids = validation.new_ids
    sheets = validation.sheets
    registry = project.id_registry
    if root is not None:
        base = project.root.resolve()
        sheets = {k: root / v.resolve().relative_to(base) for k, v in sheets.items()}
        registry = root / registry.resolve().relative_to(base)
    if new_ids is None or new_ids.empty:
        return {}
    return assignment_files(registry, sheets, new_ids)


def sheets_without_id_column(validation: Validation) -> tuple[str, ...]:
    """Sheets that get new ids but have no event_id_cnty column: writing the ids adds it to their header."""
    new_ids = validation.new_ids
    if new_ids is None or new_ids.empty:
        return ()
    lacking = []
    for name in sorted({str(s) for s in new_ids[SHEET_COLUMN]}):
        path = validation.sheets.get(name)
        if path is not None and not header_has_id(path):
            lacking.append(name)
    return tuple(lacking)


def write_id_files(files: dict[Path, str], directory: Path, project: Project) -> None:
    """Write the sheets and registry together: each prepared beside its target, then all renamed (or none).

    The staging folder (in directory, dist-data/<name>/) holds the lock that tells a concurrent run these
    prepared files are in use; stale ones of a killed run are removed first.
    """
    if not files:
        return
    with staging_folder(directory, f".ids{STAGING_MARK}", clean=input_dirs(project)) as staging:
        changes = FileSet(staging_token(staging))
        try:
            for path, text in files.items():
                changes.prepare(path, text)
            changes.commit()
        finally:
            changes.discard()


def assign_new_ids(project: Dataset | Project | str | os.PathLike[str], *, today: date | None = None) -> IdAssignment:
    """Validate every sheet, then write the ids of rows that have none into their sheets and the registry.

    Nothing is written when a sheet has an error (the ids depend on the rows' countries): status 'invalid'.
    The numbers are the ones `build` showed as provisional and `release` would give.
    """
    dataset = Dataset.open(project)
    validation = validate_project(dataset, today=today, previous=dataset.latest_release)
    if not validation.report.valid:
        return IdAssignment("invalid", validation.report)
    files = id_files(validation, dataset.project)
    if not files:
        return IdAssignment("none", validation.report)
    lacking = sheets_without_id_column(validation)
    write_id_files(files, dataset.dist_dir, dataset.project)
    return IdAssignment("assigned", validation.report, provisional_ids(validation), tuple(files), lacking)

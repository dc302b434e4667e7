"""The deletion policy, as problems: deletions are asked for in seeds/deletions.csv, never implied.

An event of the previous release that no sheet holds any more must be listed in
seeds/deletions.csv with a reason; otherwise validation fails, naming the sheet the event
was in and its id. A row of deletions.csv must name an id the tool assigned and give a reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eventdata.catalog import Release, list_releases, read_release_table
from eventdata.changes import Ids, undeclared_deletions
from eventdata.errors import Problem
from eventdata.ids import DELETIONS_FILE
from eventdata.project import Project
from eventdata.schema import Codebook
from eventdata.sources.sheets import LINE_COLUMN, CsvFileError, display_path, read_csv


def latest_release(project: Project, codebook: Codebook) -> Release | None:
    """The newest release of the project's dataset, if any."""
    name = str(codebook.dataset.get("name", ""))
    releases = list_releases(project.dist_dir / name, name) if name else []
    return releases[-1] if releases else None


def deletion_file_problems(rows: pd.DataFrame, registry_ids: set[str], path: Path) -> list[Problem]:
    """Rows of seeds/deletions.csv that name no assigned event, repeat one, or give no reason."""
    name = display_path(path)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for event_id, reason, line in zip(
        rows["event_id_cnty"].str.strip(), rows["reason"].str.strip(), rows[LINE_COLUMN], strict=True
    ):
        line = int(line)
        if not event_id:
            problems.append(
                Problem(
                    "required-error", "a deletion names the event_id_cnty it deletes.", name, line, "event_id_cnty", ""
                )
            )
            continue
        if event_id not in registry_ids:
            problems.append(
                Problem(
                    "unregistered-id",
                    "the id registry (seeds/event_ids.csv) has no such event, so it cannot be deleted; "
                    "check the id (ids are written in the sheets' event_id_cnty column).",
                    name,
                    line,
                    "event_id_cnty",
                    event_id,
                )
            )
        if event_id in seen:
            problems.append(
                Problem(
                    "unique-error",
                    f"the event is already deleted on line {seen[event_id]}; list each deletion once.",
                    name,
                    line,
                    "event_id_cnty",
                    event_id,
                )
            )
        else:
            seen[event_id] = line
        if not reason:
            problems.append(
                Problem(
                    "required-error",
                    "a deletion needs a reason: why the event is removed (published in changes/deleted.csv).",
                    name,
                    line,
                    "reason",
                    "",
                )
            )
    return problems


def _sheets_of(release: Release) -> dict[str, str]:
    """event id → the sheet (file name) that held it, from the sources a release records."""
    where: dict[str, str] = {}
    for sheet in sorted((release.path / "sources" / "seeds" / "sheets").glob("*.csv")):
        try:
            records = read_csv(sheet)
        except CsvFileError:
            continue  # the release's snapshot only helps to locate; the registry is the fallback
        if "event_id_cnty" not in records.header:
            continue
        column = records.header.index("event_id_cnty")
        for _, cells in records.rows:
            if len(cells) > column and cells[column].strip():
                where.setdefault(cells[column].strip(), sheet.name)
    return where


def undeclared_deletion_problems(
    project: Project,
    release: Release,
    current_ids: Ids,
    declared: set[str],
    registry: pd.DataFrame,
) -> list[Problem]:
    """One problem per event of `release` that no sheet holds and seeds/deletions.csv does not list."""
    previous_ids = read_release_table(release, columns=["event_id_cnty"]).column("event_id_cnty")
    gone = undeclared_deletions(previous_ids, current_ids, declared)
    if not gone:
        return []
    sheets = _sheets_of(release)
    first = dict(zip(registry["event_id_cnty"], registry["first_sheet"], strict=True))
    unread = {p.stem.lower(): p.name for p in project.unread_sheet_files()}
    states: dict[str, str] = {}
    problems = []
    for event_id in gone:
        sheet = sheets.get(event_id) or first.get(event_id) or ""
        path = project.sheets_dir / sheet if sheet else project.sheets_dir
        if sheet not in states:
            if not sheet:
                states[sheet] = ""
            elif path.is_file():
                states[sheet] = " (the sheet has no row with this id)"
            elif Path(sheet).stem.lower() in unread:
                states[sheet] = f" (the sheet is gone; {unread[Path(sheet).stem.lower()]} is not read: name it {sheet})"
            else:
                states[sheet] = " (the sheet is gone)"
        held = f"was in this sheet in release {release.version}" if sheet else f"is in release {release.version}"
        problems.append(
            Problem(
                "undeclared-deletion",
                f"event {event_id} {held}{states[sheet]} and is in no sheet now, so it would be deleted: restore "
                f"its row, or delete it on purpose with the row `{event_id},<reason>` in seeds/{DELETIONS_FILE}.",
                display_path(path),
                None,
                "event_id_cnty",
                event_id,
            )
        )
    return problems

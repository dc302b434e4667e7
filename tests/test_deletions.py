"""The deletion policy (eventdata/deletions.py, enforced where validation meets the previous release).

An event leaves the data only when seeds/deletions.csv asks for it with a reason. A sheet saved with only its
header, a sheet renamed to x.CSV, or a missing seeds/sheets/ is an error that names the sheet and the events,
never "0 events valid" followed by a release that deletes them all.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata.build import build_package
from eventdata.cli import cli
from eventdata.project import Project
from eventdata.release import release_version
from eventdata.validate import validate_project
from tests.conftest import SEED_SHEET, copy_dataset, read_rows, write_rows

NAME = "eventdata-seeds"
FIRST, SECOND = date(2026, 1, 10), date(2026, 2, 1)
SEED_IDS = [r["event_id_cnty"] for r in read_rows(SEED_SHEET)]
SHEET = f"seeds/sheets/{SEED_SHEET.name}"


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The seed sheet alone, released once as 1.0.0; the current folder is the dataset (paths as shown)."""
    root = tmp_path / "dataset"
    project = copy_dataset(root, seed_sheet_only=True)
    monkeypatch.chdir(root)
    assert release_version(project, release_date=FIRST).version == "1.0.0"
    return project


def header_only(project: Project) -> None:
    header = SEED_SHEET.read_text(encoding="utf-8").splitlines()[0]
    (project.sheets_dir / SEED_SHEET.name).write_text(header + "\n", encoding="utf-8")


def undeclared(problems: tuple[object, ...]) -> list[tuple[str, str | None]]:
    return [(p.file, p.value) for p in problems if p.code == "undeclared-deletion"]  # type: ignore[attr-defined]


def test_a_sheet_with_only_its_header_is_an_error_naming_the_sheet_and_every_event(released: Project) -> None:
    header_only(released)
    before = tree(released.root)

    result = run(released, "release", "--date", SECOND.isoformat())

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "[undeclared-deletion]" in line]
    assert len(lines) == len(SEED_IDS)
    assert lines[0] == (
        f"{SHEET}: event_id_cnty='SYR1' [undeclared-deletion] event SYR1 was in this sheet in release 1.0.0 (the "
        "sheet has no row with this id) and is in no sheet now, so it would be deleted: restore its row, or delete "
        "it on purpose with the row `SYR1,<reason>` in seeds/deletions.csv."
    )
    assert sorted(p.split("'")[1] for p in lines) == sorted(SEED_IDS)
    assert "Nothing was released" in result.output
    assert tree(released.root) == before  # no 1.1.0 deleting every event


def test_validate_reports_the_events_a_header_only_sheet_would_delete(released: Project) -> None:
    header_only(released)

    result = run(released, "validate")

    assert result.exit_code == 1
    assert "valid." not in result.output
    assert f"{len(SEED_IDS)} undeclared-deletion" in result.output


def test_a_sheet_renamed_with_an_upper_case_extension_is_named_and_its_events_kept(released: Project) -> None:
    sheet = released.sheets_dir / SEED_SHEET.name
    sheet.rename(sheet.with_suffix(".CSV"))

    validation = validate_project(released)

    renamed = f"seeds/sheets/{SEED_SHEET.stem}.CSV"
    assert [(p.code, p.file, p.line) for p in validation.report.problems if p.code == "not-a-sheet"] == [
        ("not-a-sheet", renamed, None)
    ]
    message = next(p.message for p in validation.report.problems if p.code == "not-a-sheet")
    assert "whose name ends in .csv (lower case)" in message
    assert f"Rename it to {SEED_SHEET.stem}.csv" in message
    assert undeclared(validation.report.problems) == [(SHEET, i) for i in SEED_IDS]
    first = next(p for p in validation.report.problems if p.code == "undeclared-deletion")
    assert f"(the sheet is gone; {SEED_SHEET.stem}.CSV is not read: name it {SEED_SHEET.name})" in first.message
    assert build_package(released).status == "invalid"


def test_a_missing_sheets_folder_is_an_error_not_an_empty_dataset(released: Project) -> None:
    shutil.rmtree(released.sheets_dir)

    result = run(released, "release", "--date", SECOND.isoformat())

    assert result.exit_code == 2
    assert "seeds/sheets does not exist: coding sheets are read from seeds/sheets/*.csv" in result.output
    assert sorted(p.name for p in (released.dist_dir / NAME).iterdir()) == ["1.0.0", "CHANGELOG.md", "catalog.json"]


def test_a_deletion_asked_for_with_a_reason_is_released(released: Project) -> None:
    rows = [r for r in read_rows(released.sheets_dir / SEED_SHEET.name) if r["event_id_cnty"] != "SYR3"]
    write_rows(released.sheets_dir / SEED_SHEET.name, rows)
    with (released.seeds_dir / "deletions.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(["SYR3", "Duplicate of SYR2."])

    result = release_version(released, release_date=SECOND)

    assert (result.status, result.version, result.counts["deleted"]) == ("released", "1.0.1", 1)
    deleted = (released.dist_dir / NAME / "1.0.1" / "changes" / "deleted.csv").read_text(encoding="utf-8")
    assert deleted.splitlines()[1] == '"SYR3",2026-02-01,"Duplicate of SYR2."'


def test_a_deletion_of_an_unknown_id_or_without_a_reason_is_located(released: Project) -> None:
    path = released.seeds_dir / "deletions.csv"
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["SYR999", "Never coded."])
        writer.writerow(["SYR3", ""])

    validation = validate_project(released)

    located = [(p.file, p.line, p.column, p.value, p.code) for p in validation.report.problems]
    assert ("seeds/deletions.csv", 3, "event_id_cnty", "SYR999", "unregistered-id") in located
    assert ("seeds/deletions.csv", 4, "reason", "", "required-error") in located
    assert run(released, "validate").exit_code == 1

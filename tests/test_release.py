"""`eventdata release`, `diff` and `verify`: immutable versions, deltas, catalog, stable ids, refusals, interruptions.

Releases are made on copies of the flagship dataset (the `project` fixture) with fixed release dates, so every
file, timestamp and message is known exactly. `verify` and `diff` also run on a copy of the repository's own
committed releases (dist-data/eventdata-seeds: 1.0.0, 1.1.0 and 1.1.1).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from eventdata.catalog import list_releases
from eventdata.changes import SchemaChange
from eventdata.cli import cli
from eventdata.errors import Problem, ReleaseError
from eventdata.project import Project
from eventdata.release import ReleaseResult, Verification, release_version, verify_release
from tests.conftest import REPO, SEED_ARTICLE, SEED_SHEET, read_rows, write_rows
from tests.test_dataset import loads  # noqa: F401  (the fixture counting codebook reads)

NAME = "eventdata-seeds"
SHEET = f"{SEED_ARTICLE}.csv"
MOVED = "001_moved.csv"  # a second sheet, after the seed sheet in sheet order
TITLE = json.loads((REPO / "schemas" / "dataset.json").read_text(encoding="utf-8"))["title"]
FIRST, SECOND, THIRD = date(2026, 1, 10), date(2026, 2, 1), date(2026, 3, 1)
DELETION_REASON = "Coding error: 29 January is day 10 of the assault, already coded; merged into SYR10."
ADDED_NOTES = (
    "On 27 October 2019, US forces raided a compound in Barisha (Harim, Idlib) where the Islamic State leader "
    "Abu Bakr al-Baghdadi was hiding; he was killed in the raid."
)
#: The seed article's events (STYLE 8: never assert over the whole seeds/ corpus, which will grow): the copies of
#: the dataset made here keep only its sheet, and new ids continue after the highest number in the registry.
SEED_IDS = [r["event_id_cnty"] for r in read_rows(SEED_SHEET)]
N = len(SEED_IDS)
NEXT = 1 + max(
    int(r["event_id_cnty"][3:]) for r in read_rows(REPO / "seeds" / "event_ids.csv") if r["event_id_cnty"][:3] == "SYR"
)
CHANGES_HEADERS = {
    "modified": "event_id_cnty,column,old_value,new_value\r\n",
    "deleted": "event_id_cnty,deleted,reason\r\n",
}


def new_id(k: int = 0) -> str:
    """The id the tool gives the k-th (from 0) Syrian event typed without one."""
    return f"SYR{NEXT + k}"


def ids_without(*removed: str, added: tuple[str, ...] = ()) -> list[str]:
    """The seed ids, in release order (by number), less some and plus new ones."""
    return sorted([i for i in SEED_IDS if i not in removed] + list(added), key=lambda i: int(i[3:]))


def epoch(day: date) -> int:
    """The `timestamp` of a release made on that day (midnight UTC)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dataset_dir(project: Project) -> Path:
    return project.dist_dir / NAME


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root (hidden and temporary ones included) with its content."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def files_on_disk(release_dir: Path) -> list[dict[str, Any]]:
    """The catalog's `files` list of a version, computed from the folder itself."""
    version = release_dir.name
    return [
        {"path": f"{version}/{p.relative_to(release_dir).as_posix()}", "bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in sorted(release_dir.rglob("*"), key=lambda p: p.relative_to(release_dir).as_posix())
        if p.is_file()
    ]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def timestamps(release_dir: Path) -> dict[str, int]:
    table = pq.read_table(release_dir / "data" / "events.parquet", columns=["event_id_cnty", "timestamp"])
    return dict(zip(table.column("event_id_cnty").to_pylist(), table.column("timestamp").to_pylist(), strict=True))


def event_ids(release_dir: Path) -> list[str]:
    ids: list[str] = pq.read_table(release_dir / "data" / "events.parquet").column("event_id_cnty").to_pylist()
    return ids


def csv_lines(path: Path) -> list[str]:
    """The records of a package CSV (no value of the seeds holds a line break)."""
    return text(path).split("\r\n")[:-1]


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def only_the_seed_sheet(project: Project) -> Project:
    for sheet in project.sheet_paths():
        if sheet.name != SHEET:
            sheet.unlink()
    return project


def copy_dataset(root: Path) -> Project:
    """What the `project` fixture makes (the flagship dataset's inputs, no releases), with only the seed sheet."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "seeds", root / "seeds")
    (root / "dist-data").mkdir()
    return only_the_seed_sheet(Project(root))


def copy_repository_releases(root: Path) -> Project:
    """The repository's inputs and its committed dist-data (1.0.0, 1.1.0, 1.1.1, catalog, changelog)."""
    root.mkdir(parents=True)
    for folder in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / folder, root / folder)
    return Project(root)


def append_deletion(project: Project, event_id: str, reason: str) -> None:
    with (project.seeds_dir / "deletions.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([event_id, reason])


def new_event(seed_rows: list[dict[str, str]], notes: str = ADDED_NOTES) -> dict[str, str]:
    """A further event of the seed article, typed without an id as a coder does."""
    row = dict(next(r for r in seed_rows if r["event_id_cnty"] == "SYR13"))
    row.update(event_id_cnty="", notes=notes)
    return row


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def seeds(project: Project) -> Project:
    """The `project` fixture with only the seed article's sheet."""
    return only_the_seed_sheet(project)


@pytest.fixture
def released(seeds: Project) -> Project:
    """The seed sheet's first release, 1.0.0 of 2026-01-10."""
    project = seeds
    result = release_version(project, release_date=FIRST)
    assert (result.status, result.version) == ("released", "1.0.0")
    return project


@pytest.fixture
def repository(tmp_path: Path) -> Project:
    return copy_repository_releases(tmp_path / "repository")


# --- the first release ---------------------------------------------------------------------------


def test_first_release_writes_version_catalog_changelog_and_leaves_dataset_json(seeds: Project) -> None:
    project = seeds
    dataset_before = (project.schemas_dir / "dataset.json").read_bytes()

    result = release_version(project, release_date=FIRST)

    target = dataset_dir(project) / "1.0.0"
    assert (result.status, result.version, result.previous, result.path) == ("released", "1.0.0", None, target)
    assert result.counts == {"added": N, "modified": 0, "modified_cells": 0, "deleted": 0, "unchanged": 0}
    assert sorted(p.name for p in dataset_dir(project).iterdir()) == ["1.0.0", "CHANGELOG.md", "catalog.json"]
    assert [r.version for r in list_releases(dataset_dir(project), NAME)] == ["1.0.0"]
    assert read_json(dataset_dir(project) / "catalog.json") == {
        "profile": "eventdata-catalog/1",
        "name": NAME,
        "title": TITLE,
        "latest": "1.0.0",
        "versions": [
            {
                "version": "1.0.0",
                "date": "2026-01-10",
                "path": "1.0.0/",
                "datapackage": "1.0.0/datapackage.json",
                "files": files_on_disk(target),
                "counts": {"added": N, "modified": 0, "modified_cells": 0, "deleted": 0, "unchanged": 0},
            }
        ],
    }
    changelog = (
        f"# Data changelog: {TITLE}\n\nWhat changed in the data, newest release first. Generated by eventdata.\n\n"
        f"## 1.0.0 (2026-01-10)\n\n- {N} events: {N} added, 0 corrected (0 values), 0 deleted (first release).\n"
    )
    assert text(dataset_dir(project) / "CHANGELOG.md") == changelog
    assert text(target / "CHANGELOG.md") == changelog
    assert (project.schemas_dir / "dataset.json").read_bytes() == dataset_before  # the version lives in dist-data/
    descriptor = read_json(target / "datapackage.json")
    assert (descriptor["version"], descriptor["created"]) == ("1.0.0", "2026-01-10T00:00:00Z")
    assert set(timestamps(target).values()) == {epoch(FIRST)}
    assert text(target / "changes" / "modified.csv") == CHANGES_HEADERS["modified"]
    assert text(target / "changes" / "deleted.csv") == CHANGES_HEADERS["deleted"]
    assert text(target / "changes" / "added.csv") == text(target / "data" / "events.csv")


def test_first_release_via_cli_prints_the_folder(seeds: Project) -> None:
    project = seeds
    result = run(project, "release", "--date", "2026-01-10")

    assert result.exit_code == 0, result.output
    assert result.stderr == f"Released 1.0.0 (first release): {N} added, 0 corrected, 0 deleted, 0 schema change(s).\n"
    assert result.stdout == f"{dataset_dir(project) / '1.0.0'}\n"
    assert [r.version for r in list_releases(dataset_dir(project), NAME)] == ["1.0.0"]


# --- a second release: an event added, a value corrected, an event deleted -------------------------


@dataclass(frozen=True)
class SecondRelease:
    project: Project
    result: ReleaseResult
    first_catalog: dict[str, Any]
    registry_before: str
    sheet_rows: list[dict[str, str]]  # the sheet as edited, before the release wrote the new id into it

    @property
    def first(self) -> Path:
        return dataset_dir(self.project) / "1.0.0"

    @property
    def second(self) -> Path:
        return dataset_dir(self.project) / "1.1.0"


@pytest.fixture(scope="module")
def second_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondRelease]:
    """1.0.0 of the seed sheet, then 1.1.0: an event added (typed without an id), SYR2 corrected, SYR11 deleted."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        project = copy_dataset(tmp_path_factory.mktemp("second") / "dataset")
        assert release_version(project, release_date=FIRST).version == "1.0.0"
        first_catalog = read_json(dataset_dir(project) / "catalog.json")
        registry_before = text(project.id_registry)
        rows = [dict(r) for r in read_rows(SEED_SHEET)]
        next(r for r in rows if r["event_id_cnty"] == "SYR2")["fatalities"] = "3"
        rows = [r for r in rows if r["event_id_cnty"] != "SYR11"] + [new_event(rows)]
        write_rows(project.sheets_dir / SHEET, rows)
        append_deletion(project, "SYR11", DELETION_REASON)
        result = release_version(project, release_date=SECOND)
        yield SecondRelease(project, result, first_catalog, registry_before, rows)


def test_second_release_suggests_minor(second_release: SecondRelease) -> None:
    result = second_release.result
    assert (result.status, result.version, result.previous, result.suggested) == ("released", "1.1.0", "1.0.0", "minor")
    assert result.counts == {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": N - 2}
    assert result.schema_changes == ()
    assert event_ids(second_release.second) == ids_without("SYR11", added=(new_id(),))


def test_second_release_added_csv_holds_the_new_event_row(second_release: SecondRelease) -> None:
    events = csv_lines(second_release.second / "data" / "events.csv")
    added = [events[0], next(line for line in events if line.startswith(f'"{new_id()}",'))]

    assert text(second_release.second / "changes" / "added.csv") == "".join(f"{line}\r\n" for line in added)
    with (second_release.second / "changes" / "added.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["event_id_cnty"], row["event_date"], row["notes"], row["timestamp"]) == (
        new_id(),
        "2019-10-27",
        ADDED_NOTES,
        str(epoch(SECOND)),
    )


def test_second_release_modified_csv_lists_the_value_and_its_timestamp(second_release: SecondRelease) -> None:
    assert text(second_release.second / "changes" / "modified.csv") == (
        CHANGES_HEADERS["modified"]
        + '"SYR2","fatalities","0","3"\r\n'
        + f'"SYR2","timestamp","{epoch(FIRST)}","{epoch(SECOND)}"\r\n'
    )


def test_second_release_deleted_csv_gives_date_and_reason(second_release: SecondRelease) -> None:
    assert text(second_release.second / "changes" / "deleted.csv") == (
        CHANGES_HEADERS["deleted"] + f'"SYR11",2026-02-01,"{DELETION_REASON}"\r\n'
    )


def test_second_release_counts_in_datapackage_and_readme(second_release: SecondRelease) -> None:
    descriptor = read_json(second_release.second / "datapackage.json")
    assert descriptor["eventdata:changes"] == {
        "previous": "1.0.0",
        "counts": {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": N - 2},
        "schema": [],
    }
    assert (descriptor["version"], descriptor["created"]) == ("1.1.0", "2026-02-01T00:00:00Z")
    readme = text(second_release.second / "README.md")
    assert "Version 1.1.0, released 2026-02-01.\n" in readme
    assert (
        "## Changes (since 1.0.0)\n\n- added: 1\n- corrected: 1 events (1 values)\n- deleted: 1\n"
        "- schema changes: none\n"
    ) in readme


def test_second_release_timestamps_change_only_for_changed_and_added_events(second_release: SecondRelease) -> None:
    before, after = timestamps(second_release.first), timestamps(second_release.second)

    assert set(before.values()) == {epoch(FIRST)}
    assert after == {
        event_id: epoch(SECOND) if event_id in ("SYR2", new_id()) else epoch(FIRST)
        for event_id in ids_without("SYR11", added=(new_id(),))
    }


def test_second_release_writes_the_new_id_into_the_sheet_and_the_registry(second_release: SecondRelease) -> None:
    project = second_release.project
    expected_rows = [dict(r) for r in second_release.sheet_rows]
    expected_rows[-1]["event_id_cnty"] = new_id()

    assert read_rows(project.sheets_dir / SHEET) == expected_rows
    assert text(project.id_registry) == second_release.registry_before + f"{new_id()},{SHEET}\n"
    # the release's own copy of its inputs has the id too, so `verify` can rebuild it
    assert read_rows(second_release.second / "sources" / "seeds" / "sheets" / SHEET) == expected_rows
    assert text(second_release.second / "sources" / "seeds" / "event_ids.csv") == text(project.id_registry)


def test_second_release_catalog_changelog_and_dataset_json(second_release: SecondRelease) -> None:
    project = second_release.project
    catalog = read_json(dataset_dir(project) / "catalog.json")

    assert catalog["latest"] == "1.1.0"
    assert [v["version"] for v in catalog["versions"]] == ["1.0.0", "1.1.0"]
    assert catalog["versions"][0] == second_release.first_catalog["versions"][0]
    assert catalog["versions"][1] == {
        "version": "1.1.0",
        "date": "2026-02-01",
        "path": "1.1.0/",
        "datapackage": "1.1.0/datapackage.json",
        "files": files_on_disk(second_release.second),
        "counts": {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": N - 2},
    }
    changelog = (
        f"# Data changelog: {TITLE}\n\nWhat changed in the data, newest release first. Generated by eventdata.\n\n"
        "## 1.1.0 (2026-02-01)\n\n"
        f"- {N} events: 1 added, 1 corrected (1 values), 1 deleted, compared with 1.0.0.\n"
        "- Corrections:\n  - SYR2 fatalities: '0' → '3'\n"
        f"- Deleted:\n  - SYR11: {DELETION_REASON}\n"
        f"\n## 1.0.0 (2026-01-10)\n\n- {N} events: {N} added, 0 corrected (0 values), 0 deleted (first release).\n"
    )
    assert text(second_release.second / "CHANGELOG.md") == changelog
    assert text(dataset_dir(project) / "CHANGELOG.md") == changelog
    assert "version" not in read_json(project.schemas_dir / "dataset.json")


def test_verify_rebuilds_fresh_releases_identically(second_release: SecondRelease) -> None:
    assert verify_release(second_release.project) == [
        Verification("1.0.0", (), len(files_on_disk(second_release.first)), True),
        Verification("1.1.0", (), len(files_on_disk(second_release.second)), True),
    ]


def test_a_re_release_holds_the_files_a_fresh_release_of_its_sheets_writes(
    second_release: SecondRelease, tmp_path: Path
) -> None:
    """What a re-release reuses of the previous version (its table, its recorded hashes) changes no byte.

    The same sheets released from scratch as a first version differ only where the history is written: the delta
    (changes/, the data changelog, the counts in datapackage.json, README.md and report.html) and the timestamps
    of the events the re-release found unchanged, which keep the previous release's.
    """
    fresh = Project(tmp_path / "fresh")
    for folder in ("schemas", "seeds"):
        shutil.copytree(second_release.project.root / folder, fresh.root / folder)
    (fresh.root / "dist-data").mkdir()
    assert release_version(fresh, release_date=SECOND).version == "1.0.0"
    again, scratch = tree(second_release.second), tree(dataset_dir(fresh) / "1.0.0")

    assert sorted(again) == sorted(scratch)
    history = {"CHANGELOG.md", "README.md", "datapackage.json", "report.html"} | {
        p for p in again if p.startswith("changes/")
    }
    stamped = {"data/events.csv", "data/events-acled.csv", "data/events.parquet"}
    assert {p for p in again if again[p] != scratch[p]} <= history | stamped
    assert {p for p in again if p.startswith("sources/") and again[p] == scratch[p]} == {
        p for p in again if p.startswith("sources/")
    }
    released = pq.read_table(second_release.second / "data" / "events.parquet")
    rebuilt = pq.read_table(dataset_dir(fresh) / "1.0.0" / "data" / "events.parquet")
    assert released.drop_columns(["timestamp"]).equals(rebuilt.drop_columns(["timestamp"]))
    assert set(rebuilt.column("timestamp").to_pylist()) == {epoch(SECOND)}
    carried = {i for i, t in timestamps(second_release.second).items() if t == epoch(FIRST)}
    assert carried == set(ids_without("SYR2", "SYR11"))  # all but the corrected and the added event
    for path in stamped - {"data/events.parquet"}:  # the CSVs differ in the timestamps of those rows only
        lines, fresh_lines = (
            text(second_release.second / path).split("\r\n"),
            text(dataset_dir(fresh) / "1.0.0" / path).split("\r\n"),
        )
        assert len(lines) == len(fresh_lines)
        differing = [a for a, b in zip(lines, fresh_lines, strict=True) if a != b]
        assert len(differing) == len(carried)
        assert all(str(epoch(FIRST)) in a for a in differing)


def test_diff_of_fresh_releases_equals_their_changes_files(second_release: SecondRelease) -> None:
    result = run(second_release.project, "diff", "1.0.0", "1.1.0", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "old": "1.0.0",
        "new": "1.1.0",
        "counts": {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": N - 2},
        "schema": [],
        "added": [new_id()],
        "modified": [
            {"event_id_cnty": "SYR2", "column": "fatalities", "old_value": "0", "new_value": "3"},
            {
                "event_id_cnty": "SYR2",
                "column": "timestamp",
                "old_value": str(epoch(FIRST)),
                "new_value": str(epoch(SECOND)),
            },
        ],
        "deleted": ["SYR11"],
    }


# --- stable ids ------------------------------------------------------------------------------------


def test_ids_stable_when_rows_move_and_others_are_deleted_and_never_reused(
    released: Project, seed_rows: list[dict[str, str]]
) -> None:
    project = released
    rows = {r["event_id_cnty"]: dict(r) for r in seed_rows}
    moved_sheet = project.sheets_dir / MOVED
    first_added = new_event(seed_rows, "First added event (seed sheet).")
    second_added = new_event(seed_rows, "Second added event (moved sheet).")
    kept = [r for r in seed_rows if r["event_id_cnty"] not in ("SYR4", "SYR5")]
    write_rows(project.sheets_dir / SHEET, [*kept, first_added])
    write_rows(moved_sheet, [rows["SYR5"], second_added])
    append_deletion(project, "SYR4", "Duplicate of SYR3.")
    registry_before = text(project.id_registry)

    result = run(project, "release", "--date", "2026-02-01")

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Released 1.1.0 (changes need a minor release) since 1.0.0: 2 added, 0 corrected, 1 deleted, "
        "0 schema change(s).\n"
    )
    second = dataset_dir(project) / "1.1.0"
    assert read_rows(project.sheets_dir / SHEET) == [*kept, dict(first_added, event_id_cnty=new_id(0))]
    assert read_rows(moved_sheet) == [rows["SYR5"], dict(second_added, event_id_cnty=new_id(1))]
    assert text(project.id_registry) == registry_before + f"{new_id(0)},{SHEET}\n{new_id(1)},{MOVED}\n"
    assert event_ids(second) == ids_without("SYR4", added=(new_id(0), new_id(1)))
    assert text(second / "changes" / "modified.csv") == CHANGES_HEADERS["modified"]  # SYR5 moved, unchanged
    assert (
        text(second / "changes" / "deleted.csv")
        == CHANGES_HEADERS["deleted"] + '"SYR4",2026-02-01,"Duplicate of SYR3."\r\n'
    )
    assert timestamps(second)["SYR5"] == epoch(FIRST)

    # Delete the newest event and add another: the new one gets the next number, never a deleted id again.
    third_added = new_event(seed_rows, "Third added event (moved sheet).")
    write_rows(moved_sheet, [rows["SYR5"], third_added])
    append_deletion(project, new_id(1), "Coded twice.")
    third = release_version(project, release_date=THIRD)

    assert (third.version, third.counts["added"], third.counts["deleted"]) == ("1.2.0", 1, 1)
    assert read_rows(moved_sheet) == [rows["SYR5"], dict(third_added, event_id_cnty=new_id(2))]
    assert event_ids(dataset_dir(project) / "1.2.0") == ids_without("SYR4", added=(new_id(0), new_id(2)))
    assert text(dataset_dir(project) / "1.2.0" / "changes" / "deleted.csv") == (
        CHANGES_HEADERS["deleted"] + f'"{new_id(1)}",2026-03-01,"Coded twice."\r\n'
    )
    assert text(project.id_registry) == registry_before + "".join(
        f"{event_id},{sheet}\n" for event_id, sheet in ((new_id(0), SHEET), (new_id(1), MOVED), (new_id(2), MOVED))
    )


# --- refusals: nothing is written --------------------------------------------------------------------


def test_patch_release_over_added_events_refused_and_nothing_written(
    released: Project, seed_rows: list[dict[str, str]]
) -> None:
    project = released
    write_rows(project.sheets_dir / SHEET, [*seed_rows, new_event(seed_rows)])
    before = tree(project.root)
    message = (
        "A patch release (1.0.1) is too small for these changes, which need a minor release: "
        "run `eventdata release --bump minor`, or add --force if you are sure."
    )

    with pytest.raises(ReleaseError) as refused:
        release_version(project, bump="patch", release_date=SECOND)
    assert str(refused.value) == message
    assert tree(project.root) == before

    result = run(project, "release", "--bump", "patch", "--date", "2026-02-01")
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: {message}\n", "")
    assert tree(project.root) == before  # no 1.0.1 folder, same catalog, dataset.json, sheet and registry


def test_schema_change_needs_a_major_release(released: Project, tmp_path: Path) -> None:
    project = released
    schema_path = project.schemas_dir / "events.schema.json"
    schema = read_json(schema_path)
    year = next(f for f in schema["fields"] if f["name"] == "year")
    assert year["constraints"]["maximum"] == 2100
    year["constraints"]["maximum"] = 2030  # tightened: data valid under 2.0.0 may not be under 1.0.0's schema
    schema_path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    before = tree(project.root)

    for bump, version in (("patch", "1.0.1"), ("minor", "1.1.0")):
        with pytest.raises(ReleaseError) as refused:
            release_version(project, bump=bump, release_date=SECOND)
        assert str(refused.value) == (
            f"A {bump} release ({version}) is too small for these changes, which need a major release: "
            "run `eventdata release --bump major`, or add --force if you are sure."
        )
    assert tree(project.root) == before

    forced_project = Project(tmp_path / "forced")
    shutil.copytree(project.root, forced_project.root)
    forced = release_version(forced_project, bump="patch", force=True, release_date=SECOND)
    assert (forced.status, forced.version, forced.suggested) == ("released", "1.0.1", "major")

    major = release_version(project, release_date=SECOND)
    change = SchemaChange("major", "year", "maximum 2100 → 2030")
    assert (major.status, major.version, major.suggested, major.schema_changes) == (
        "released",
        "2.0.0",
        "major",
        (change,),
    )
    assert major.counts == {"added": 0, "modified": 0, "modified_cells": 0, "deleted": 0, "unchanged": N}
    descriptor = read_json(dataset_dir(project) / "2.0.0" / "datapackage.json")
    assert descriptor["eventdata:changes"]["schema"] == [
        {"level": "major", "field": "year", "change": change.description}
    ]
    events = next(r for r in descriptor["resources"] if r["name"] == "events")
    assert next(f for f in events["schema"]["fields"] if f["name"] == "year")["constraints"]["maximum"] == 2030
    assert "- Schema (major): `year` maximum 2100 → 2030.\n" in text(dataset_dir(project) / "CHANGELOG.md")
    assert set(timestamps(dataset_dir(project) / "2.0.0").values()) == {epoch(FIRST)}  # no event changed


def test_release_as_an_existing_version_refused(released: Project, edit_sheet: Callable[..., Path]) -> None:
    project = released
    edit_sheet({1: {"fatalities": "3"}})
    before = tree(project.root)

    with pytest.raises(ReleaseError) as refused:
        release_version(project, as_version="1.0.0", release_date=SECOND)
    assert str(refused.value) == "Version 1.0.0 is not newer than the latest release 1.0.0."

    result = run(project, "release", "--as", "1.0.0", "--date", "2026-02-01")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: Version 1.0.0 is not newer than the latest release 1.0.0.\n",
    )
    assert tree(project.root) == before


def test_release_never_writes_into_an_existing_version_folder(
    released: Project, edit_sheet: Callable[..., Path]
) -> None:
    project = released
    edit_sheet({1: {"fatalities": "3"}})
    squatter = dataset_dir(project) / "1.0.1"
    squatter.mkdir()
    (squatter / "notes.txt").write_text("a folder someone made by hand\n", encoding="utf-8")
    before = tree(project.root)

    result = run(project, "release", "--date", "2026-02-01")

    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: Version 1.0.1 already exists in {squatter}; a released version is never rewritten.\n",
    )
    assert tree(project.root) == before


def test_nothing_changed_is_nothing_to_release(released: Project) -> None:
    project = released
    before = tree(project.root)

    result = release_version(project, release_date=SECOND)
    assert (result.status, result.version, result.previous) == ("nothing-to-release", "1.0.0", "1.0.0")

    cli_result = run(project, "release", "--date", "2026-02-01")
    assert (cli_result.exit_code, cli_result.stderr, cli_result.stdout) == (
        0,
        "The events and schema are those of 1.0.0; no release made. To release a change of the codebook, the "
        "articles or the metadata alone, give --bump patch.\n",
        "",
    )
    assert tree(project.root) == before
    # Asking for a version of exactly what 1.0.0 holds makes none either.
    result = release_version(project, bump="patch", release_date=SECOND)
    assert (result.status, result.version) == ("nothing-to-release", "1.0.0")
    assert tree(project.root) == before


def test_a_metadata_change_alone_is_released_only_when_asked(released: Project) -> None:
    project = released
    path = project.schemas_dir / "dataset.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["description"] = "The same events, described better."
    path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")

    assert release_version(project, release_date=SECOND).status == "nothing-to-release"
    result = release_version(project, bump="patch", release_date=SECOND)

    assert (result.status, result.version, result.previous) == ("released", "1.0.1", "1.0.0")
    assert result.counts["added"] == result.counts["modified"] == result.counts["deleted"] == 0
    described = json.loads((dataset_dir(project) / "1.0.1" / "datapackage.json").read_text(encoding="utf-8"))
    assert described["description"] == "The same events, described better."
    assert [v.problems for v in verify_release(project)] == [(), ()]
    # The new version is what the sheets hold now: asking again makes nothing.
    assert release_version(project, bump="patch", release_date=SECOND).status == "nothing-to-release"


def test_release_bookkeeping_files_are_as_readable_as_the_package_files(seeds: Project) -> None:
    project = seeds
    previous = os.umask(0o022)
    try:
        release_version(project, release_date=FIRST)
    finally:
        os.umask(previous)

    def mode(path: Path) -> str:
        return oct(stat.S_IMODE(path.stat().st_mode))

    paths = [dataset_dir(project) / "catalog.json", dataset_dir(project) / "CHANGELOG.md"]
    assert {p.name: mode(p) for p in paths} == {p.name: "0o644" for p in paths}
    assert mode(dataset_dir(project) / "1.0.0" / "datapackage.json") == "0o644"


# --- verify and diff on the repository's own releases ----------------------------------------------


def test_verify_hashes_of_the_repository_releases(repository: Project) -> None:
    assert verify_release(repository, rebuild=False) == [
        Verification("1.0.0", (), 28, False),
        Verification("1.1.0", (), 32, False),
        Verification("1.1.1", (), 46, False),
    ]
    result = run(repository, "verify", "--no-rebuild")
    assert (result.exit_code, result.stderr) == (
        0,
        "1.0.0: 28 files match their hashes.\n"
        "1.1.0: 32 files match their hashes.\n"
        "1.1.1: 46 files match their hashes.\n",
    )


def test_verify_rebuilds_the_repository_releases(repository: Project) -> None:
    result = run(repository, "verify")
    assert (result.exit_code, result.stderr) == (
        0,
        "1.0.0: 28 files match their hashes, rebuilt identically.\n"
        "1.1.0: 32 files match their hashes, rebuilt identically.\n"
        "1.1.1: 46 files match their hashes, rebuilt identically.\n",
    )


def test_verify_names_a_tampered_file(repository: Project) -> None:
    release = dataset_dir(repository) / "1.1.0"
    events = release / "data" / "events.csv"
    expected = sha256(events)
    catalog_before = text(dataset_dir(repository) / "catalog.json")
    events.write_bytes(events.read_bytes().replace(b"Atmeh", b"Atmah", 1))
    problem = Problem("release-hash-mismatch", f"sha256 is {sha256(events)}, expected {expected}.", str(events))
    line = f"{events}: [release-hash-mismatch] sha256 is {sha256(events)}, expected {expected}."

    assert verify_release(repository, "1.1.0") == [Verification("1.1.0", (problem,), 32, False)]
    result = run(repository, "verify", "1.1.0")
    assert (result.exit_code, result.stderr) == (1, f"1.1.0: {line}\n")
    result = run(repository, "verify", "--no-rebuild")
    assert (result.exit_code, result.stderr) == (
        1,
        f"1.0.0: 28 files match their hashes.\n1.1.0: {line}\n1.1.1: 46 files match their hashes.\n",
    )
    assert text(dataset_dir(repository) / "catalog.json") == catalog_before


def test_verify_names_the_damaged_release_a_later_rebuild_starts_from(repository: Project) -> None:
    parquet = dataset_dir(repository) / "1.1.0" / "data" / "events.parquet"
    expected = sha256(parquet)
    parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])  # unreadable as Parquet
    damage = f"sha256 is {sha256(parquet)}, expected {expected}"
    later = (
        f"1.1.1: {parquet}: [release-hash-mismatch] 1.1.1 is not rebuilt: its rebuild starts from 1.1.0, which is "
        f"damaged ({damage}); restore 1.1.0 and verify again.\n"
    )
    result = run(repository, "verify")
    assert (result.exit_code, result.stderr) == (
        1,
        "1.0.0: 28 files match their hashes, rebuilt identically.\n"
        f"1.1.0: {parquet}: [release-hash-mismatch] {damage}.\n" + later,
    )
    result = run(repository, "verify", "1.1.1")
    assert (result.exit_code, result.stderr) == (1, later)
    result = run(repository, "verify", "1.1.1", "--no-rebuild")  # its own files are sound
    assert (result.exit_code, result.stderr) == (0, "1.1.1: 46 files match their hashes.\n")


def test_verify_does_not_pass_a_release_s_damage_on_past_the_release_after_it(repository: Project) -> None:
    readme = dataset_dir(repository) / "1.0.0" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    result = run(repository, "verify")
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith(f"1.0.0: {readme}: [release-hash-mismatch]")
    assert lines[1].startswith(f"1.1.0: {readme}: [release-hash-mismatch] 1.1.0 is not rebuilt")
    assert lines[2:] == ["1.1.1: 46 files match their hashes, rebuilt identically."]  # 1.1.0 itself is sound


def test_a_removed_release_is_reported_and_never_made_again(repository: Project) -> None:
    folder = dataset_dir(repository)
    catalog_before = text(folder / "catalog.json")
    shutil.rmtree(folder / "1.1.1")

    result = run(repository, "verify", "--no-rebuild")
    assert result.exit_code == 1
    assert "[catalog-mismatch] catalog.json knows version 1.1.1" in result.stderr
    released = run(repository, "release", "--bump", "patch", "--date", "2026-12-03")
    assert released.exit_code == 2
    assert "Cannot release" in released.stderr
    assert "1.1.1" in released.stderr
    assert "is gone" in released.stderr
    assert not (folder / "1.1.1").exists()
    assert text(folder / "catalog.json") == catalog_before


def test_a_version_known_to_a_publication_record_is_not_made_again(released: Project) -> None:
    folder = dataset_dir(released)
    (folder / "publications").mkdir()
    (folder / "publications" / "1.0.1.json").write_text('{"publications": [], "pending": {}}', encoding="utf-8")

    with pytest.raises(ReleaseError, match=r"publications/1\.0\.1\.json knows version 1\.0\.1"):
        release_version(released, bump="patch", release_date=FIRST)
    assert not (folder / "1.0.1").exists()


def test_a_copied_release_folder_is_reported_and_not_adopted(repository: Project) -> None:
    folder = dataset_dir(repository)
    shutil.copytree(folder / "1.1.1", folder / "2.0.0")
    catalog_before = text(folder / "catalog.json")

    result = run(repository, "verify", "2.0.0", "--no-rebuild")
    assert result.exit_code == 1
    assert "[catalog-mismatch] datapackage.json states version '1.1.1', but its folder is 2.0.0" in (result.stderr)
    released = run(repository, "release", "--bump", "patch", "--date", "2026-12-03")
    assert released.exit_code == 2
    assert "2.0.0/datapackage.json" in released.stderr
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["1.0.0", "1.1.0", "1.1.1", "2.0.0"]
    assert text(folder / "catalog.json") == catalog_before


def test_a_copied_release_that_states_its_folders_version_is_not_adopted(repository: Project) -> None:
    folder = dataset_dir(repository)
    shutil.copytree(folder / "1.1.0", folder / "2.0.0")
    descriptor = read_json(folder / "2.0.0" / "datapackage.json")
    (folder / "2.0.0" / "datapackage.json").write_text(json.dumps({**descriptor, "version": "2.0.0"}), "utf-8")

    result = run(repository, "verify", "2.0.0", "--no-rebuild")
    assert result.exit_code == 1
    assert "[catalog-mismatch] 2.0.0 is not in catalog.json and does not follow its newest version (1.1.1)" in (
        result.stderr
    )
    released = run(repository, "release", "--bump", "patch", "--date", "2026-12-03")
    assert released.exit_code == 2
    assert "2.0.0 is not in catalog.json" in released.stderr
    assert "2.0.1" not in {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("latest", None, '1.1.1: {catalog}: [catalog-mismatch] latest is null, but the release folders give "1.1.1"'),
        ("name", "other", '1.1.1: {catalog}: [catalog-mismatch] name is "other", but the release folders give'),
        ("date", 5, "1.0.0: {catalog}: [catalog-mismatch] versions[1.0.0].date is 5, but the release folders give"),
    ],
)
def test_verify_names_a_catalog_field_its_releases_do_not_give(
    repository: Project, field: str, value: Any, said: str
) -> None:
    path = dataset_dir(repository) / "catalog.json"
    catalog = read_json(path)
    if field == "date":
        catalog["versions"][0]["date"] = value
    else:
        catalog[field] = value
    path.write_text(json.dumps(catalog, indent=2), encoding="utf-8")

    result = run(repository, "verify", "--no-rebuild")
    assert result.exit_code == 1
    assert said.format(catalog=path) in result.stderr


def test_diff_of_the_repository_releases_as_a_table(repository: Project) -> None:
    result = run(repository, "diff", "1.0.0", "1.1.0")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "1.0.0 → 1.1.0\n"
        "  added            1\n"
        "  modified         1 events, 1 values\n"
        "  deleted          1\n"
        "  unchanged       10\n"
        "\n"
        "added (1): SYR13\n"
        "\n"
        "deleted (1): SYR12\n"
        "\n"
        "modified (1): SYR1\n"
        "\n"
        "  event          column             old                            new\n"
        "  SYR1           geo_precision      2                              1\n"
    )


def test_diff_of_the_repository_releases_as_json(repository: Project) -> None:
    result = run(repository, "diff", "1.0.0", "1.1.0", "--json")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {
        "old": "1.0.0",
        "new": "1.1.0",
        "counts": {"added": 1, "modified": 1, "modified_cells": 1, "deleted": 1, "unchanged": 10},
        "schema": [],
        "added": ["SYR13"],
        "modified": [{"event_id_cnty": "SYR1", "column": "geo_precision", "old_value": "2", "new_value": "1"}],
        "deleted": ["SYR12"],
    }
    changes = dataset_dir(repository) / "1.1.0" / "changes"
    assert csv_lines(changes / "modified.csv")[1:] == ['"SYR1","geo_precision","2","1"']
    assert [line.split(",")[0] for line in csv_lines(changes / "deleted.csv")[1:]] == ['"SYR12"']
    assert [line.split(",")[0] for line in csv_lines(changes / "added.csv")[1:]] == ['"SYR13"']


def test_diff_of_the_repository_codebook_only_patch(repository: Project) -> None:
    """1.1.1 changed the codebook's descriptions and column roles, not one event."""
    result = run(repository, "diff", "1.1.0", "1.1.1", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "old": "1.1.0",
        "new": "1.1.1",
        "counts": {"added": 0, "modified": 0, "modified_cells": 0, "deleted": 0, "unchanged": 12},
        "schema": [
            {"level": "patch", "field": field, "change": "description changed"}
            for field in ("admin1", "latitude", "longitude")
        ],
        "added": [],
        "modified": [],
        "deleted": [],
    }
    released = dataset_dir(repository)
    assert text(released / "1.1.1" / "data" / "events.csv") == text(released / "1.1.0" / "data" / "events.csv")


# --- a release killed midway ---------------------------------------------------------------------------

#: Rows of the interrupted release: validating and writing them takes a few seconds, and writing the package
#: (data, changes, sources with the new ids) about a second, a wide window for the 2 ms polling below.
BULK_ROWS = 10_000
BULK_SHEETS = 4


def add_bulk_sheets(project: Project, rows: int) -> None:
    """rows valid new events (seed rows with their id cleared and their notes varied) in BULK_SHEETS sheets."""
    seed = read_rows(SEED_SHEET)
    per_sheet = rows // BULK_SHEETS
    for sheet in range(BULK_SHEETS):
        bulk = []
        for index in range(sheet * per_sheet, (sheet + 1) * per_sheet):
            row = dict(seed[index % len(seed)], event_id_cnty="")
            row["notes"] = f"{row['notes']} (bulk event {index})"
            bulk.append(row)
        write_rows(project.sheets_dir / f"bulk_{sheet}.csv", bulk)


def release_process(project: Project, day: date) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    command = [sys.executable, "-m", "eventdata", "--project", str(project.root), "release", "--date", day.isoformat()]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)  # noqa: S603


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[float], bool], timeout: float = 300) -> float | None:
    """SIGKILL the process as soon as ready(seconds since start) holds; return when that was (None: it ended)."""
    started = time.monotonic()
    try:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if ready(elapsed):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=60)
                return elapsed
            if elapsed > timeout:
                break
            time.sleep(0.002)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        if process.stderr:
            process.stderr.close()
    return None


def after(seconds: float) -> Callable[[float], bool]:
    def ready(elapsed: float) -> bool:
        return elapsed >= seconds

    return ready


def new_staging(directory: Path, known: set[Path], inside: str) -> Callable[[float], bool]:
    """True once a temporary build folder that did not exist before holds `inside`."""

    def ready(_elapsed: float) -> bool:
        return any(
            p not in known and p.name.startswith(".") and (p / inside).exists()
            for p in (directory.iterdir() if directory.is_dir() else [])
        )

    return ready


@dataclass(frozen=True)
class Inputs:
    """What an interrupted release must leave as it was."""

    catalog: bytes
    changelog: bytes
    dataset_json: bytes
    registry: bytes
    sheets: dict[str, bytes]

    @classmethod
    def of(cls, project: Project) -> Inputs:
        directory = dataset_dir(project)
        return cls(
            (directory / "catalog.json").read_bytes(),
            (directory / "CHANGELOG.md").read_bytes(),
            (project.schemas_dir / "dataset.json").read_bytes(),
            project.id_registry.read_bytes(),
            {p.name: p.read_bytes() for p in project.sheet_paths()},
        )


@pytest.mark.slow
def test_release_killed_midway_leaves_no_release_then_succeeds(tmp_path: Path) -> None:
    project = copy_dataset(tmp_path / "dataset")
    assert release_version(project, release_date=FIRST).version == "1.0.0"
    add_bulk_sheets(project, BULK_ROWS)
    directory = dataset_dir(project)
    before = Inputs.of(project)
    first_files = files_on_disk(directory / "1.0.0")

    def assert_nothing_released(when: str) -> None:
        assert [r.version for r in list_releases(directory, NAME)] == ["1.0.0"], when
        assert not (directory / "1.1.0").exists(), when
        assert {p.name for p in directory.iterdir() if not p.name.startswith(".")} == {
            "1.0.0",
            "catalog.json",
            "CHANGELOG.md",
        }, when
        assert Inputs.of(project) == before, when  # ids reach the sheets only with a successful release
        assert files_on_disk(directory / "1.0.0") == first_files, when

    # Late in the build: the package is being written into a temporary folder beside the versions.
    known = set(directory.iterdir())
    late = kill_when(release_process(project, SECOND), new_staging(directory, known, "package/sources/seeds"))
    assert late is not None, "the release ended before it was killed"
    assert_nothing_released(f"killed while writing sources/ after {late:.1f} s")
    leftovers = [p for p in directory.iterdir() if p not in known]
    assert [p.name.startswith(".1.1.0.building-") for p in leftovers] == [True]  # not mistaken for a release
    # Earlier, at fixed shares of that time: while validating, and while still importing.
    for share in (0.5, 0.2):
        killed = kill_when(release_process(project, SECOND), after(share * late))
        assert killed is not None, "the release ended before it was killed"
        assert_nothing_released(f"killed after {share:.0%} of {late:.1f} s")

    result = release_version(project, release_date=SECOND)

    assert (result.status, result.version, result.counts["added"]) == ("released", "1.1.0", BULK_ROWS)
    hidden = [p for p in project.root.rglob(".*") if ".building-" in p.name]
    assert hidden == []  # the killed runs' staging folders (partial data files) are gone
    assert [r.version for r in list_releases(directory, NAME)] == ["1.0.0", "1.1.0"]
    catalog = read_json(directory / "catalog.json")
    assert (catalog["latest"], [v["version"] for v in catalog["versions"]]) == ("1.1.0", ["1.0.0", "1.1.0"])
    assert catalog["versions"][1]["files"] == files_on_disk(directory / "1.1.0")
    new_ids = [new_id(k) for k in range(BULK_ROWS)]
    assert text(project.id_registry) == before.registry.decode() + "".join(
        f"{event_id},bulk_{i // (BULK_ROWS // BULK_SHEETS)}.csv\n" for i, event_id in enumerate(new_ids)
    )
    assert [r["event_id_cnty"] for r in read_rows(project.sheets_dir / "bulk_0.csv")[:2]] == new_ids[:2]
    assert verify_release(project, "1.1.0") == [
        Verification("1.1.0", (), len(files_on_disk(directory / "1.1.0")), True)
    ]


@pytest.mark.slow
def test_release_killed_after_the_version_folder_appears_is_completed_by_the_next_release(tmp_path: Path) -> None:
    project = copy_dataset(tmp_path / "dataset")
    assert release_version(project, release_date=FIRST).version == "1.0.0"
    add_bulk_sheets(project, 2_000)
    directory = dataset_dir(project)

    killed = kill_when(release_process(project, SECOND), lambda _elapsed: (directory / "1.1.0").is_dir())
    if killed is None or "1.1.0" in text(directory / "catalog.json"):
        pytest.skip("the kill missed the window between the rename and the catalog")
    assert [r.version for r in list_releases(directory, NAME)] == ["1.0.0", "1.1.0"]

    result = release_version(project, release_date=SECOND)

    assert result.version == "1.1.0"
    assert [r.version for r in list_releases(directory, NAME)] == ["1.0.0", "1.1.0"]
    catalog = read_json(directory / "catalog.json")
    assert (catalog["latest"], [v["version"] for v in catalog["versions"]]) == ("1.1.0", ["1.0.0", "1.1.0"])
    sources = directory / "1.1.0" / "sources" / "seeds"
    assert text(project.id_registry) == text(sources / "event_ids.csv")
    assert {p.name: read_rows(p) for p in project.sheet_paths()} == {
        p.name: read_rows(p) for p in sorted((sources / "sheets").glob("*.csv"))
    }
    assert "version" not in read_json(project.schemas_dir / "dataset.json")
    assert all(v.ok for v in verify_release(project, rebuild=False))


def test_build_after_release_reports_the_release_unchanged(project: Project) -> None:
    """`eventdata build` right after `eventdata release` rebuilds the released version byte for byte."""
    from eventdata.build import build_package

    released = release_version(project, release_date=date(2026, 1, 10))
    assert released.status == "released"
    rebuilt = build_package(project)
    assert (rebuilt.status, rebuilt.version) == ("unchanged", released.version)


def test_the_first_release_of_an_init_dataset_passes_verify(tmp_path: Path) -> None:
    """`eventdata init`, an article and a sheet, `release`, `verify`: the registry the release creates is listed."""
    root = tmp_path / "my-dataset"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    project = Project(root)
    assert not project.id_registry.exists()
    shutil.copyfile(REPO / "seeds" / "articles" / f"{SEED_ARTICLE}.txt", project.articles_dir / f"{SEED_ARTICLE}.txt")
    index = read_rows(REPO / "seeds" / "articles.csv")
    write_rows(project.articles_index, [r for r in index if r["article_id"] == SEED_ARTICLE])
    write_rows(project.sheets_dir / SHEET, [dict(r, event_id_cnty="") for r in read_rows(SEED_SHEET)])

    released = run(project, "release", "--date", FIRST.isoformat())
    assert released.exit_code == 0, released.output

    sources = read_json(project.dist_dir / "my-dataset" / "1.0.0" / "datapackage.json")["eventdata:sources"]
    assert "sources/seeds/event_ids.csv" in [s["path"] for s in sources]
    verified = run(project, "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.endswith("files match their hashes, rebuilt identically.\n")


# --- releases of an earlier package format ---------------------------------------------------------------


def test_a_release_written_in_package_format_1_still_verifies_and_reads_with_the_whole_vocabulary(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release an earlier eventdata wrote (format 1: no report, dictionaries of the values present, formula-like
    cells as typed) is rebuilt in its own format by verify, and read with the codebook's categories."""
    import functools

    import pandas as pd

    from eventdata import build
    from eventdata.package import FORMAT_KEY
    from eventdata.read import read_events

    with monkeypatch.context() as patch:
        patch.setattr(build, "write_package", functools.partial(build.write_package, package_format=1))
        result = release_version(project, release_date=date(2026, 11, 25))
    assert (result.status, result.version) == ("released", "1.0.0")
    assert result.path is not None
    descriptor = json.loads((result.path / "datapackage.json").read_text(encoding="utf-8"))
    assert FORMAT_KEY not in descriptor
    assert not (result.path / "report.html").exists()
    stored = pq.read_table(result.path / "data" / "events.parquet").column("event_type").type
    assert str(stored.value_type) == "string"
    assert pq.read_table(result.path / "data" / "events.parquet").column("event_type").unique().to_pylist() == sorted(
        {r["event_type"] for r in read_rows(SEED_SHEET)}
    )

    (verification,) = verify_release(project)

    assert (verification.problems, verification.rebuilt) == ((), True)
    categories = read_events(result.path)["event_type"].dtype
    assert isinstance(categories, pd.CategoricalDtype)
    assert len(categories.categories) == 6  # the codebook's event types, not the values present


# --- verify compares content, not the tool's wording ----------------------------------------------------------


@pytest.mark.slow
def test_the_repository_releases_verify_after_a_change_to_the_readme_template(
    repository: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventdata import build

    real = build.release_readme
    monkeypatch.setattr(build, "release_readme", lambda *a: real(*a).replace("## Contents", "## What this holds"))

    results = verify_release(repository)

    assert [(r.version, r.problems, r.rebuilt, r.reworded) for r in results] == [
        ("1.0.0", (), True, ("README.md",)),
        ("1.1.0", (), True, ("README.md",)),
        ("1.1.1", (), True, ("README.md",)),
    ]
    result = run(repository, "verify")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("rebuilt identically") == 3
    assert "1.1.0: README.md read differently when eventdata" in result.stderr
    assert "1.1.1: README.md read differently when eventdata" in result.stderr


def changed_value_rebuild(monkeypatch: pytest.MonkeyPatch, event_id: str, column: str, value: int) -> None:
    """Make every rebuild write another value of one event's cell, in the Parquet and the CSV."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from eventdata import build
    from eventdata import release as release_module
    from eventdata.package import write_csv, write_parquet

    real = build.write_package

    def write_package(*args: Any, **kwargs: Any) -> dict[str, str]:
        files = real(*args, **kwargs)
        target: Path = args[2]
        table = pq.read_table(target / "data" / "events.parquet")
        position = table.schema.get_field_index(column)
        hit = pc.equal(table.column("event_id_cnty"), event_id)
        changed = pc.if_else(hit, pa.scalar(value, table.schema.field(column).type), table.column(column))
        table = table.set_column(position, table.schema.field(column), changed)
        write_parquet(table, target / "data" / "events.parquet")
        write_csv(table, target / "data" / "events.csv")
        return files

    monkeypatch.setattr(release_module, "write_package", write_package)


def test_verify_names_the_event_column_and_both_values_a_rebuild_changes(
    repository: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed_value_rebuild(monkeypatch, "SYR3", "fatalities", 99)
    old = pq.read_table(dataset_dir(repository) / "1.1.0" / "data" / "events.parquet").to_pylist()
    was = next(r["fatalities"] for r in old if r["event_id_cnty"] == "SYR3")

    (verification,) = verify_release(repository, "1.1.0")

    release = dataset_dir(repository) / "1.1.0"
    assert not verification.ok
    assert [(p.code, p.file, p.line, p.column, p.value, p.message) for p in verification.problems] == [
        (
            "rebuild-value-differs",
            str(release / "data" / "events.csv"),
            [r["event_id_cnty"] for r in old].index("SYR3") + 2,
            "fatalities",
            str(was),
            f"event SYR3, column fatalities: the release has '{was}', a rebuild gives '99'.",
        ),
        (
            "rebuild-value-differs",
            str(release / "data" / "events.parquet"),
            None,
            "fatalities",
            str(was),
            f"event SYR3, column fatalities: the release has {was}, a rebuild gives 99.",
        ),
    ]
    result = run(repository, "verify", "1.1.0")
    assert result.exit_code == 1
    assert f"[rebuild-value-differs] event SYR3, column fatalities: the release has {was}" in result.stderr


def test_verify_json_has_the_shape_of_validate_json(repository: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    changed_value_rebuild(monkeypatch, "SYR3", "fatalities", 99)

    result = run(repository, "verify", "1.1.0", "--json")

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    validated = json.loads(run(repository, "validate", "--json").stdout)
    assert set(payload) == set(validated)
    assert (payload["valid"], payload["error_count"], payload["counts"]) == (False, 2, {"rebuild-value-differs": 2})
    assert payload["files"] == [str(dataset_dir(repository) / "1.1.0")]
    assert {p["column"] for p in payload["problems"]} == {"fatalities"}
    assert set(payload["problems"][0]) == set(validated["problems"][0]) if validated["problems"] else True
    ok = run(repository, "verify", "1.0.0", "--json", "--no-rebuild")
    assert (ok.exit_code, json.loads(ok.stdout)["valid"], json.loads(ok.stdout)["problems"]) == (0, True, [])


def test_verify_names_a_metadata_field_a_rebuild_changes(repository: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventdata import build

    real = build.datapackage_descriptor

    def reworded(*args: Any, **kwargs: Any) -> dict[str, Any]:
        descriptor = real(*args, **kwargs)
        return dict(descriptor, description="Another description.")

    monkeypatch.setattr(build, "datapackage_descriptor", reworded)

    (verification,) = verify_release(repository, "1.0.0")

    codes = {(p.code, p.column) for p in verification.problems}
    assert codes == {("rebuild-metadata-differs", "description")}
    (problem,) = verification.problems
    assert problem.message.startswith("description: the release has 'Political violence and demonstration")
    assert problem.message.endswith("a rebuild gives 'Another description.'.")


def test_verify_ignores_the_tool_version_stamp(repository: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import eventdata.build

    monkeypatch.setattr(eventdata.build, "__version__", "9.9.9")

    (verification,) = verify_release(repository, "1.1.0")

    assert (verification.ok, verification.problems) == (True, ())  # datapackage.json differs only in its stamp


# --- the codebook is read once --------------------------------------------------------------------------------


def test_release_reads_the_codebook_once_and_verify_once_plus_once_per_rebuilt_release(
    seeds: Project,
    loads: Any,  # noqa: F811  (the fixture imported above)
) -> None:
    from eventdata.dataset import Dataset

    assert release_version(Dataset.open(seeds), release_date=FIRST).status == "released"
    assert dict(loads) == {seeds.schemas_dir.resolve(): 1}
    loads.clear()

    assert all(v.ok for v in verify_release(Dataset.open(seeds)))

    assert loads[seeds.schemas_dir.resolve()] == 1
    assert sum(loads.values()) == 2  # and once for the sources/ the release records, which it is rebuilt from


def test_the_data_changelog_is_made_from_recorded_changes_not_from_the_previous_markdown(
    released: Project, edit_sheet: Callable[..., Path]
) -> None:
    """An edited (or reworded) CHANGELOG.md of 1.0.0 does not leak into 1.0.1's: each section comes from the
    release's eventdata:changes record and its changes/*.csv."""
    project = released
    (dataset_dir(project) / "1.0.0" / "CHANGELOG.md").write_text("# Someone's notes\n\n## 0.9 (never)\n", "utf-8")
    edit_sheet({1: {"fatalities": "3"}})

    result = release_version(project, release_date=SECOND)

    assert (result.status, result.version) == ("released", "1.0.1")
    assert text(dataset_dir(project) / "1.0.1" / "CHANGELOG.md") == (
        f"# Data changelog: {TITLE}\n\nWhat changed in the data, newest release first. Generated by eventdata.\n\n"
        "## 1.0.1 (2026-02-01)\n\n"
        f"- {N} events: 0 added, 1 corrected (1 values), 0 deleted, compared with 1.0.0.\n"
        "- Corrections:\n  - SYR2 fatalities: '0' → '3'\n"
        f"\n## 1.0.0 (2026-01-10)\n\n- {N} events: {N} added, 0 corrected (0 values), 0 deleted (first release).\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--as", "1.2.0", "--bump", "patch"], "Give --bump or --as, not both"),
        (["--as", "banana"], "'banana' is not a version X.Y.Z"),
        (["--date", "9999-12-31"], "9999-12-31 is in the future"),
    ],
)
def test_release_options_that_cannot_be_meant_are_usage_errors(repository: Project, args: list[str], said: str) -> None:
    catalog_before = text(dataset_dir(repository) / "catalog.json")
    result = run(repository, "release", *args)
    assert result.exit_code == 2
    assert said in result.stderr
    assert text(dataset_dir(repository) / "catalog.json") == catalog_before

"""Committing a version (eventdata/build.py `commit_package`, eventdata/files.py): nothing lost, nothing half-done.

A build only reads its inputs. A release either makes a complete version, with the new ids in the sheets and the
registry (the assign-ids step) and the catalog beside it, or changes nothing: with seeds/ or dist-data/ read-only
(real permissions; as root the command runs as `nobody`), a full disk (an injected ENOSPC), a symbolic link to
nothing at the version path, an error at any named step of the commit, or a SIGKILL at any of them. Staging
folders of killed runs are removed by the next run, never a running one's.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata import build as build_module
from eventdata.build import COMMIT_STEPS, DRAFT_DIR, build_package
from eventdata.catalog import list_releases
from eventdata.cli import cli
from eventdata.files import STAGING_LOCK
from eventdata.project import Project
from eventdata.release import release_version, verify_release
from tests.conftest import SEED_SHEET, copy_dataset, read_rows, write_rows

NAME = "eventdata-seeds"
FIRST, SECOND = date(2026, 1, 10), date(2026, 2, 1)


def add_row_needing_an_id(project: Project) -> None:
    rows = read_rows(SEED_SHEET)
    extra = dict(rows[-1], event_id_cnty="", notes="A further event of the seed article, typed without an id.")
    write_rows(project.sheets_dir / SEED_SHEET.name, [*rows, extra])


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below root, hidden ones included."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(project: Project) -> list[str]:
    """Staging folders and prepared files anywhere in the dataset folder."""
    return sorted(
        p.relative_to(project.root).as_posix()
        for p in project.root.rglob(".*")
        if ".building-" in p.name or p.name.endswith((".tmp", ".orig"))
    )


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_dataset(tmp_path / "dataset", seed_sheet_only=True)


#: As root, file permissions bind only a process without these capabilities (setpriv, util-linux).
PERMISSION_BYPASS = "-dac_override,-dac_read_search,-fowner"


def run_unprivileged(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess to which file permissions apply (as root: without the capabilities that bypass them)."""
    command = [sys.executable, "-B", "-m", "eventdata", "--project", str(project.root), *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be made to apply")
        command = [setpriv, "--bounding-set", PERMISSION_BYPASS, "--", *command]
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)  # noqa: S603


READ_ONLY = stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make folders read-only (r-x), and writable again afterwards so tmp_path can be removed."""
    changed: list[Path] = []

    def make(folder: Path) -> None:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(READ_ONLY)
                changed.append(path)

    yield make
    for path in changed:
        path.chmod(0o755)


# --- read-only folders, a full disk, a symbolic link to nothing -----------------------------------------------


def test_build_with_read_only_seeds_and_a_row_needing_an_id_writes_the_draft(
    project: Project, read_only: Callable[[Path], None]
) -> None:
    """A build only reads its inputs: read-only seeds are no obstacle, and the new row's id is provisional."""
    add_row_needing_an_id(project)
    read_only(project.seeds_dir)
    before = snapshot(project.seeds_dir)

    result = run_unprivileged(project, "build")

    assert result.returncode == 0, result.stderr
    assert "1 row(s) have no id yet: `eventdata assign-ids` gives them one" in result.stderr
    assert result.stdout == f"{project.dist_dir / NAME / DRAFT_DIR}\n"
    assert snapshot(project.seeds_dir) == before


@pytest.mark.slow
@pytest.mark.parametrize("command", [["assign-ids"], ["release", "--date", FIRST.isoformat()]])
def test_writing_ids_into_read_only_seeds_exits_2_and_changes_nothing(
    project: Project, read_only: Callable[[Path], None], command: list[str]
) -> None:
    add_row_needing_an_id(project)
    read_only(project.seeds_dir)
    before = snapshot(project.root)

    result = run_unprivileged(project, *command)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"at {project.sheets_dir / SEED_SHEET.name}: Permission denied (EACCES)" in result.stderr
    assert not (project.dist_dir / NAME).exists()  # no version, and no empty dataset folder
    assert snapshot(project.root) == before


def test_build_into_read_only_dist_data_exits_2_naming_the_folder(
    project: Project, read_only: Callable[[Path], None]
) -> None:
    read_only(project.dist_dir)
    before = snapshot(project.root)

    result = run_unprivileged(project, "build")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{project.dist_dir / NAME}: Permission denied (EACCES)" in result.stderr
    assert snapshot(project.root) == before
    assert list(project.dist_dir.iterdir()) == []


def test_release_on_a_full_disk_exits_2_and_leaves_nothing(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    add_row_needing_an_id(project)
    before = snapshot(project.root)

    def full(_table: object, path: Path) -> None:
        path.write_bytes(b"PAR1")  # a partial file, as a full disk leaves it
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(build_module, "write_parquet", full)

    result = run(project, "release", "--date", FIRST.isoformat())

    assert result.exit_code == 2, result.output
    assert "events.parquet: No space left on device (ENOSPC); the disk is full" in result.output
    assert "Traceback" not in result.output
    assert not (project.dist_dir / NAME).exists()  # no empty dist-data/<name>/
    assert snapshot(project.root) == before
    assert leftovers(project) == []


def test_build_at_a_symbolic_link_to_nothing_exits_2_and_keeps_the_link(project: Project) -> None:
    version = DRAFT_DIR  # a build of unreleased sheets writes the draft
    target = project.dist_dir / NAME / version
    target.parent.mkdir(parents=True)
    target.symlink_to(project.root / "nowhere")

    result = run(project, "build")

    assert result.exit_code == 2, result.output
    assert f"{target} is a symbolic link to {project.root / 'nowhere'}, which does not exist" in result.output
    assert target.is_symlink()
    assert not (project.root / "nowhere").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == [version]  # no staging folder left


# --- an error or a kill at each named step of the commit ----------------------------------------------------


@pytest.fixture
def released(project: Project) -> Project:
    assert release_version(project, release_date=FIRST).version == "1.0.0"
    add_row_needing_an_id(project)
    return project


@pytest.mark.parametrize("step", COMMIT_STEPS)
def test_an_error_at_any_commit_step_leaves_no_version_and_the_inputs_as_they_were(
    released: Project, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(released.root)

    def fail(reached: str) -> None:
        if reached == step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"<{step}>")

    monkeypatch.setattr(build_module, "checkpoint", fail)

    result = run(released, "release", "--date", SECOND.isoformat())

    assert result.exit_code == 2, result.output
    assert f"<{step}>: No space left on device" in result.output
    assert snapshot(released.root) == before
    assert [r.version for r in list_releases(released.dist_dir / NAME, NAME)] == ["1.0.0"]


KILL_AT_STEP = """
import os, signal, sys
import eventdata.build
KILL_AT = sys.argv[1]
def checkpoint(step):
    if step == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
eventdata.build.checkpoint = checkpoint
from eventdata.cli import main
sys.argv = ["eventdata", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize(
    "step",
    # One real kill runs with the fast tests; the others (a subprocess each) are slow. The same steps are failed
    # in-process by test_an_error_at_any_commit_step_leaves_no_version_and_the_inputs_as_they_were.
    [s if s == "version-visible" else pytest.param(s, marks=pytest.mark.slow) for s in COMMIT_STEPS],
)
def test_a_kill_at_any_commit_step_is_survived_and_cleaned_up_by_the_next_release(released: Project, step: str) -> None:
    before = snapshot(released.root)
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    args = ["--project", str(released.root), "release", "--date", SECOND.isoformat()]
    killed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", KILL_AT_STEP, step, *args], capture_output=True, env=env, timeout=300, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    directory = released.dist_dir / NAME
    visible = COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("version-visible")
    assert (directory / "1.1.0").is_dir() == visible
    if COMMIT_STEPS.index(step) < COMMIT_STEPS.index("ids-written"):
        left = leftovers(released)
        new = snapshot(released.root).keys() - before.keys()
        assert all(any(f == p or f.startswith(p + "/") for p in left) for f in new), new  # only leftovers
        assert {k: v for k, v in snapshot(released.root).items() if k in before} == before

    result = release_version(released, release_date=SECOND)

    assert result.status == ("nothing-to-release" if visible else "released")
    assert leftovers(released) == []
    assert [r.version for r in list_releases(directory, NAME)] == ["1.0.0", "1.1.0"]
    catalog = json.loads((directory / "catalog.json").read_text(encoding="utf-8"))
    assert (catalog["latest"], [v["version"] for v in catalog["versions"]]) == ("1.1.0", ["1.0.0", "1.1.0"])
    sources = directory / "1.1.0" / "sources" / "seeds"
    assert released.id_registry.read_bytes() == (sources / "event_ids.csv").read_bytes()
    assert read_rows(released.sheets_dir / SEED_SHEET.name) == read_rows(sources / "sheets" / SEED_SHEET.name)
    assert all(v.ok for v in verify_release(released))


# --- staging folders of killed runs ------------------------------------------------------------------------


def test_stale_staging_folders_are_removed_and_a_running_ones_kept(project: Project) -> None:
    version = "1.0.0"
    directory = project.dist_dir / NAME
    stale = directory / f".{version}.building-killed1"  # its lock file is held by nobody
    (stale / "package" / "data").mkdir(parents=True)
    (stale / "package" / "data" / "events.csv").write_text("partial", encoding="utf-8")
    (stale / STAGING_LOCK).touch()
    old = directory / f".{version}.building-older"  # made before staging folders had locks
    (old / "package").mkdir(parents=True)
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    prepared = project.sheets_dir / f".{SEED_SHEET.name}.building-killed1.tmp"
    prepared.write_text("half a sheet", encoding="utf-8")
    running = directory / f".{version}.building-running"
    (running / "package").mkdir(parents=True)
    their_file = project.seeds_dir / ".event_ids.csv.building-running.tmp"
    their_file.write_text("another run's registry", encoding="utf-8")
    with (running / STAGING_LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a concurrent run holds its lock

        result = build_package(project)

        assert result.status == "built"
        assert sorted(p.name for p in directory.iterdir()) == [f".{version}.building-running", DRAFT_DIR]
        assert their_file.is_file()
        assert not prepared.exists()
    assert read_rows(project.sheets_dir / SEED_SHEET.name) == read_rows(SEED_SHEET)

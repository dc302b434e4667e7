"""Progress of long work (eventdata/progress.py): reported by the library, shown only on a terminal.

The library reports sheets read, the steps of the row checks, files written and bytes uploaded; the command
line shows them as one status line on stderr when stderr is a terminal (a real pty here), and never with
--quiet, with --json, or when stderr is a pipe.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import click
import pyarrow.parquet as pq
import pytest

from eventdata import progress
from eventdata.agreement import measure
from eventdata.build import build_package
from eventdata.catalog import list_releases
from eventdata.duplicates import blocked_pairs, find_candidates, prepare
from eventdata.load import update_parquet
from eventdata.project import Project
from eventdata.publish import find_release, get_publisher
from eventdata.release import diff_releases
from eventdata.report import release_report
from eventdata.validate import validate_project
from tests.conftest import REPO, copy_dataset
from tests.test_agreement import double_coded

sys.path.insert(0, str(REPO))
from benchmarks.generate_events import duplicate_events  # noqa: E402

ERASE = "\r\x1b[2K"


def run_on_terminal(project: Project, *args: str, stdout_too: bool = False) -> tuple[int, str, str]:
    """Run the CLI in a subprocess whose stderr (and stdout, if stdout_too) is a pseudo-terminal; (exit code,
    stdout, what the terminal got)."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "eventdata", "--project", str(project.root), *args]
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "SOURCE_DATE_EPOCH"}}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=terminal if stdout_too else subprocess.PIPE,
        stderr=terminal,
        env=env,
        cwd=project.root,
    )
    os.close(terminal)
    stdout: list[bytes] = []
    reader = threading.Thread(target=lambda: stdout.append(process.stdout.read() if process.stdout else b""))
    reader.start()
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    reader.join(timeout=120)
    if process.stdout is not None:
        process.stdout.close()
    code = process.wait(timeout=120)
    return code, b"".join(stdout).decode("utf-8"), shown.decode("utf-8", errors="replace")


# --- the library reports -----------------------------------------------------------------------


def test_nothing_is_reported_without_a_sink() -> None:
    progress.advance("sheets read", total=3)  # no error, no output: nobody listens
    progress.stage("checking 3 rows", "types")


def test_advance_counts_from_zero_in_each_block() -> None:
    seen: list[progress.Update] = []
    for _ in range(2):
        with progress.reporting(seen.append):
            progress.advance("files written", detail="a.csv")
            progress.advance("bytes uploaded", 1500, total=3000, detail="a.csv", unit="bytes")
            progress.advance("files written", detail="b.csv")
    assert [(u.what, u.done, u.detail) for u in seen[:3]] == [
        ("files written", 1, "a.csv"),
        ("bytes uploaded", 1500, "a.csv"),
        ("files written", 2, "b.csv"),
    ]
    assert seen[3].done == 1  # the second block counts anew


@pytest.mark.slow  # the first read of the reference data behind the place list
def test_validate_reports_each_sheet_and_each_step_of_the_checks(project: Project) -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        validation = validate_project(project)
    sheets = [u for u in seen if u.what == "sheets read"]
    assert [(u.done, u.total) for u in sheets] == [(i + 1, len(validation.sheets)) for i in range(len(sheets))]
    steps = [u.detail for u in seen if u.what == f"checking {validation.report.rows:,} rows"]
    assert steps[0] == "parse"
    assert steps[-1] == "pandera + rules"  # steps marked concurrent run at once, shown as one stage
    assert {"actors + places + ids", "derive"} <= set(steps)


def test_build_reports_the_files_it_writes(project: Project) -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        result = build_package(project)
    assert result.status == "built"
    written = [u.detail for u in seen if u.what == "files written"]
    for name in ("events.csv", "events.parquet", "events-acled.csv", "added.csv", "datapackage.json"):
        assert name in written
    assert [u.done for u in seen if u.what == "files written"] == list(range(1, len(written) + 1))


def test_publish_to_a_folder_reports_the_bytes_it_copies(tmp_path: Path) -> None:
    name = "eventdata-seeds"
    releases = list_releases(REPO / "dist-data" / name, name)
    dist = tmp_path / "dataset" / "dist-data"
    shutil.copytree(releases[0].path, dist / name / releases[0].version)
    release = find_release(dist, releases[0].version, name)
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        get_publisher(str(tmp_path / "published")).publish(release, dry_run=False)
    uploaded = [u for u in seen if u.what == "bytes uploaded"]
    copied = sum(p.stat().st_size for p in (tmp_path / "published" / release.version).rglob("*") if p.is_file())
    assert uploaded
    assert uploaded[-1].done == copied
    assert {u.unit for u in uploaded} == {"bytes"}


# --- the terminal line ------------------------------------------------------------------------


def test_status_line_is_rewritten_in_place_throttled_and_erased() -> None:
    now = [0.0]
    stream = io.StringIO()
    line = progress.TerminalProgress(stream, interval=0.1, clock=lambda: now[0])
    line(progress.Update("sheets read", 1, 200, "a.csv"))
    now[0] = 0.05
    line(progress.Update("sheets read", 2, 200, "b.csv"))  # too soon after the last: not shown
    line(progress.Update("checking 10 rows", detail="types"))  # another task: shown at once
    now[0] = 2.0
    line(progress.Update("bytes uploaded", 2_500_000, 10_000_000, "x.csv", "bytes"))
    line.clear()
    assert stream.getvalue() == (
        f"{ERASE}sheets read 1 of 200: a.csv (0 s)"
        f"{ERASE}checking 10 rows: types (0 s)"
        f"{ERASE}bytes uploaded 2.5 MB of 10.0 MB: x.csv (2 s){ERASE}"
    )


def test_other_messages_go_above_the_status_line() -> None:
    stream = io.StringIO()
    line = progress.TerminalProgress(stream, clock=lambda: 0.0)
    line(progress.Update("files written", 3, detail="events.csv"))
    line.other_output().write("copy data/events.csv (12 bytes)\n")  # as click.echo writes: one call
    assert stream.getvalue() == (
        f"{ERASE}files written 3: events.csv (0 s){ERASE}copy data/events.csv (12 bytes)\n"
        "files written 3: events.csv (0 s)"
    )


def test_output_into_stdout_goes_above_the_status_line() -> None:
    status, out = io.StringIO(), io.StringIO()
    line = progress.TerminalProgress(status, clock=lambda: 0.0)
    line(progress.Update("files written", 3, detail="events.csv"))
    above = line.other_output(out)
    with contextlib.redirect_stdout(above):
        click.echo("1.0.0 → 1.1.0")  # click first probes the stream with empty writes: the line survives them
        click.echo("  added 1")
    assert out.getvalue() == "1.0.0 → 1.1.0\n  added 1\n"  # the output itself, untouched, in its own stream
    status_line = "files written 3: events.csv (0 s)"
    assert status.getvalue() == f"{ERASE}{status_line}" * 3
    assert above.isatty() is False  # as the stream it writes into
    with pytest.raises(TypeError):
        above.write(b"bytes")  # type: ignore[arg-type]


# --- the command line, on a real terminal and off it ------------------------------------------------


@pytest.mark.slow
def test_build_on_a_terminal_shows_progress_on_stderr_only(project: Project) -> None:
    code, stdout, shown = run_on_terminal(project, "build")
    assert code == 0, shown
    assert stdout.strip().endswith("draft")  # the package folder, alone on stdout
    for part in ("sheets read 1 of 1", "checking ", "rows: parse", "files written"):
        assert part in shown, part
    assert ERASE not in stdout
    assert f"{ERASE}Draft " in shown  # the closing message replaces the status line


@pytest.mark.slow
def test_quiet_and_json_show_no_progress_on_a_terminal(project: Project) -> None:
    code, stdout, shown = run_on_terminal(project, "validate", "--json")
    assert code == 0, shown
    assert json.loads(stdout)["valid"] is True
    assert "sheets read" not in shown
    assert ERASE not in shown + stdout
    code, stdout, shown = run_on_terminal(project, "build", "--quiet")
    assert code == 0, shown
    assert "sheets read" not in shown
    assert "files written" not in shown
    assert ERASE not in shown


@pytest.mark.slow
def test_no_progress_when_stderr_is_not_a_terminal(project: Project) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventdata", "--project", str(project.root), "build"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sheets read" not in done.stderr
    assert "files written" not in done.stderr
    assert "\x1b[" not in done.stderr + done.stdout
    assert "Draft " in done.stderr


# --- the steps of the report, the deltas, agreement and the duplicate search ---------------------------


def test_step_reports_a_loop_position_and_adds_to_no_count() -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        progress.step("matching article", 2, 5, detail="a")
        progress.advance("matching article")  # a running count of the same name starts from its own zero
        progress.step("matching article", 5, 5)
    assert [(u.done, u.total, u.detail) for u in seen] == [(2, 5, "a"), (1, None, ""), (5, 5, "")]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The flagship dataset with its committed releases (1.0.0, 1.1.0 and 1.1.1)."""
    project = copy_dataset(tmp_path_factory.mktemp("released") / "dataset")
    shutil.copytree(REPO / "dist-data" / "eventdata-seeds", project.root / "dist-data" / "eventdata-seeds")
    return project


@pytest.fixture(scope="module")
def doubled(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return double_coded(tmp_path_factory.mktemp("doubled") / "dataset")


def test_diff_reports_each_column_it_compares_then_the_listing(released: Project) -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        changes, _ = diff_releases(released, "1.0.0", "1.1.0")
    compared = len(changes.modified.column("event_id_cnty").unique()) + changes.unchanged
    columns = [u.detail for u in seen if u.what == f"comparing {compared:,} events with the previous version"]
    after = pq.read_schema(REPO / "dist-data" / "eventdata-seeds" / "1.1.0" / "data" / "events.parquet")
    assert columns == [c for c in after.names if c != "event_id_cnty"]
    assert seen[-1].what.startswith("listing the changes of ")


def test_update_reports_the_parts_of_each_delta(released: Project, tmp_path: Path) -> None:
    local = tmp_path / "events.parquet"
    shutil.copy(released.root / "dist-data" / "eventdata-seeds" / "1.0.0" / "data" / "events.parquet", local)
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        assert update_parquet(local, str(released.root / "dist-data" / "eventdata-seeds"), "1.1.0") == "1.1.0"
    previous = pq.read_metadata(REPO / "dist-data" / "eventdata-seeds" / "1.0.0" / "data" / "events.parquet")
    steps = [u.detail for u in seen if u.what == f"applying a delta to {previous.num_rows:,} events"]
    assert steps[0] == "removing 1 deleted"  # 1.1.0/changes/deleted.csv lists one event
    assert steps[-1] == "adding 1 new"
    assert any(s.endswith(": 1 changed values") for s in steps[1:-1])


def test_report_names_each_step_of_its_making(released: Project) -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        release_report(find_release(released.root / "dist-data", "1.1.0", "eventdata-seeds"))
    steps = [u.detail for u in seen if u.what == "making the report of 1.1.0"]
    events = pq.read_metadata(REPO / "dist-data" / "eventdata-seeds" / "1.1.0" / "data" / "events.parquet").num_rows
    assert steps == [
        "reading data/events.parquet",
        f"counting {events:,} events by period, place and precision",
        "reading changes/",
        f"checking {events:,} events against the codebook's constraints",
        "drawing the charts and the map",
    ]


def test_duplicate_search_counts_the_pairs_it_scores() -> None:
    events, _, aliases = duplicate_events(2_000, seed=3)
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        candidates = find_candidates(events, days=2, aliases=aliases)
    scored = [u for u in seen if u.what == "event pairs scored"]
    pairs = sum(len(i) for i, _ in blocked_pairs(prepare(events.reset_index(drop=True), aliases), 2))
    assert pairs > 0
    assert scored[-1].done == pairs
    finding = f"finding duplicates in {len(events):,} events"
    steps = [u.detail for u in seen if u.what == finding]
    assert steps[0] == "preparing"
    assert steps[-1] == f"reasons of {len(candidates):,} candidates"


def test_agreement_steps_through_the_articles_and_the_fields(doubled: Project) -> None:
    seen: list[progress.Update] = []
    with progress.reporting(seen.append):
        result = measure(doubled, samples=10)
        fields = result.fields
    articles = [(u.done, u.total, u.detail) for u in seen if u.what == "matching the events of article"]
    assert articles == [(1, 1, "000_d3eca66359643406")]
    measured = [(u.done, u.total, u.detail) for u in seen if u.what == "measuring field"]
    assert measured == [(n, len(fields), f"{f.field}, 10 bootstrap samples") for n, f in enumerate(fields, start=1)]


# --- every long command: on a terminal, and not with --quiet, --json or off a terminal ----------------


@dataclass(frozen=True)
class Long:
    """A long command: its arguments, what its status line shows, whether it takes --json, its dataset."""

    args: tuple[str, ...]
    shown: tuple[str, ...]
    json: bool = True
    doubled: bool = False


LONG = {
    "report": Long(("report", "1.1.0"), ("making the report of 1.1.0: reading data/events.parquet",), json=False),
    "diff": Long(
        ("diff", "1.0.0", "1.1.0"),
        ("comparing 1.0.0 with 1.1.0: reading the events of both versions", "events with the previous version: "),
    ),
    "duplicates": Long(("duplicates",), ("sheets read", "finding duplicates in ")),
    "update": Long(
        ("update", "{local}", "--from", "{dist}"), ("applying a delta to ", "removing 1 deleted"), json=False
    ),
    "agreement": Long(("agreement",), ("matching the events of article 1 of 1", "measuring field 1 of "), doubled=True),
    "adjudicate": Long(("adjudicate",), ("matching the events of article 1 of 1",), doubled=True),
}
MODES = [
    (name, mode) for name in LONG for mode in ("terminal", "quiet", "json", "pipe") if mode != "json" or LONG[name].json
]


def _arguments(long: Long, project: Project, scratch: Path) -> list[str]:
    """The command's arguments, with {local} a fresh copy of 1.0.0's events.parquet and {dist} the dataset folder."""
    dist = project.root / "dist-data" / "eventdata-seeds"
    local = scratch / f"events-{len(list(scratch.iterdir()))}.parquet"
    if "{local}" in long.args:
        shutil.copy(dist / "1.0.0" / "data" / "events.parquet", local)
    return [a.replace("{local}", str(local)).replace("{dist}", str(dist)) for a in long.args]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "mode"), MODES)
def test_long_commands_show_progress_only_on_a_terminal(
    name: str, mode: str, released: Project, doubled: Project, tmp_path: Path
) -> None:
    long = LONG[name]
    project = doubled if long.doubled else released
    args = _arguments(long, project, tmp_path)
    piped = subprocess.run(
        [sys.executable, "-m", "eventdata", "--project", str(project.root), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=project.root,
    )
    assert "\x1b[" not in piped.stderr + piped.stdout
    for part in long.shown:
        assert part not in piped.stderr
    if mode == "pipe":
        return
    extra = {"terminal": [], "quiet": ["--quiet"], "json": ["--json"]}[mode]
    code, stdout, shown = run_on_terminal(project, *_arguments(long, project, tmp_path), *extra)
    assert code == piped.returncode, shown
    if mode == "json":
        json.loads(stdout)
    else:
        assert stdout == piped.stdout  # the status line never reaches stdout
    if mode == "terminal":
        for part in long.shown:
            assert part in shown, part
        assert shown.endswith(ERASE) or f"{ERASE}" in shown
    else:
        for part in long.shown:
            assert part not in shown, part
        assert ERASE not in shown + stdout


@pytest.mark.slow
def test_output_on_the_same_terminal_is_written_above_the_status_line(released: Project) -> None:
    code, _, shown = run_on_terminal(released, "diff", "1.0.0", "1.1.0", stdout_too=True)
    assert code == 0, shown
    assert "comparing 1.0.0 with 1.1.0" in shown
    assert f"{ERASE}1.0.0 → 1.1.0\r\n" in shown  # the status line is erased before the output, not written over
    assert "s)1.0.0" not in shown
    assert "\r\nlisting the changes of " in shown  # drawn again below the output, until the end
    assert shown.endswith(ERASE)

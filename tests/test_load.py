"""For data users: `eventdata.load()` from a folder, a catalog, a file:// or http:// URL, and `update_parquet`.

Everything runs on the repository's own committed releases (dist-data/eventdata-seeds: 1.0.0, 1.1.0 and 1.1.1); the
HTTP tests serve a copy of them from a `http.server` thread on 127.0.0.1, and every test has its own cache.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

import eventdata
from eventdata.cli import cli
from eventdata.errors import SourceError
from eventdata.read import read_events
from tests.conftest import REPO
from tests.test_compare import rehash_release

DIST = REPO / "dist-data"
SEEDS = DIST / "eventdata-seeds"
PARQUET = "data/events.parquet"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def cached_files(cache: Path) -> list[str]:
    """Downloaded data files in the cache (the remembered catalogs aside)."""
    return sorted(
        p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file() and p.parent.name != "catalogs"
    )


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private download cache (never ~/.cache/eventdata)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("EVENTDATA_CACHE_DIR", str(path))
    return path


# --- local sources ---------------------------------------------------------------------------------


SOURCES: dict[str, str | Path] = {
    "dataset folder": SEEDS,
    "dataset folder as str": str(SEEDS),
    "dist-data folder": DIST,
    "catalog path": SEEDS / "catalog.json",
    "file:// folder URL": SEEDS.as_uri(),
    "file:// catalog URL": (SEEDS / "catalog.json").as_uri(),
}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize(
    ("version", "folder"), [("latest", "1.1.1"), ("1.0.0", "1.0.0"), ("1.1.0", "1.1.0"), ("1.1.1", "1.1.1")]
)
def test_load_local_release_equals_read_events(source: str, version: str, folder: str, cache: Path) -> None:
    loaded = eventdata.load(SOURCES[source], version)

    pd.testing.assert_frame_equal(loaded, read_events(SEEDS / folder))
    assert not cache.exists()  # a local release is read in place, not copied


def test_load_unknown_version_names_the_available_ones() -> None:
    with pytest.raises(SourceError) as error:
        eventdata.load(SEEDS, "9.9.9")
    assert str(error.value) == "Version 9.9.9 is not in the catalog; available: 1.0.0, 1.1.0, 1.1.1."


# --- over HTTP -------------------------------------------------------------------------------------


@dataclass
class Server:
    """A copy of dist-data served on 127.0.0.1, recording the paths requested."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)
    httpd: http.server.ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        if self.httpd is not None and self.thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.httpd = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    shutil.copytree(DIST, root)
    served = Server(root, "")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def do_GET(self) -> None:  # noqa: N802  # the name http.server dispatches to
            served.requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # keep test output quiet
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.httpd = httpd
    served.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    served.thread.start()
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}/eventdata-seeds/"
    yield served
    served.stop()


def test_load_over_http_downloads_once_then_uses_the_cache(server: Server, cache: Path) -> None:
    latest = SEEDS / "1.1.1" / PARQUET
    digest = sha256(latest)

    first = eventdata.load(server.url)

    pd.testing.assert_frame_equal(first, read_events(SEEDS / "1.1.1"))
    # datapackage.json too: its Table Schema gives the categoricals the codebook's whole vocabulary.
    assert server.requests == [
        "/eventdata-seeds/catalog.json",
        f"/eventdata-seeds/1.1.1/{PARQUET}",
        "/eventdata-seeds/1.1.1/datapackage.json",
    ]
    descriptor = sha256(SEEDS / "1.1.1" / "datapackage.json")
    assert cached_files(cache) == sorted([f"files/{digest[:2]}/{digest}", f"files/{descriptor[:2]}/{descriptor}"])
    assert (cache / "files" / digest[:2] / digest).read_bytes() == latest.read_bytes()

    server.requests.clear()
    second = eventdata.load(server.url + "catalog.json", version="1.1.1")

    pd.testing.assert_frame_equal(second, first)
    assert server.requests == ["/eventdata-seeds/catalog.json"]  # the file itself came from the cache


def test_load_over_http_a_given_version(server: Server, cache: Path) -> None:
    loaded = eventdata.load(server.url + "catalog.json", version="1.0.0")

    pd.testing.assert_frame_equal(loaded, read_events(SEEDS / "1.0.0"))
    assert server.requests == [
        "/eventdata-seeds/catalog.json",
        f"/eventdata-seeds/1.0.0/{PARQUET}",
        "/eventdata-seeds/1.0.0/datapackage.json",
    ]
    digest = sha256(SEEDS / "1.0.0" / PARQUET)
    descriptor = sha256(SEEDS / "1.0.0" / "datapackage.json")
    assert cached_files(cache) == sorted([f"files/{digest[:2]}/{digest}", f"files/{descriptor[:2]}/{descriptor}"])


def test_load_over_http_from_the_cache_when_the_server_is_gone(server: Server) -> None:
    first = eventdata.load(server.url)
    server.stop()

    pd.testing.assert_frame_equal(eventdata.load(server.url), first)


def test_load_over_http_refuses_a_tampered_file_and_caches_nothing(server: Server, cache: Path) -> None:
    served = server.root / "eventdata-seeds" / "1.1.1" / PARQUET
    expected = sha256(served)
    served.write_bytes(served.read_bytes() + b"\0")

    with pytest.raises(SourceError) as error:
        eventdata.load(server.url)

    assert str(error.value) == (
        f"{server.url}1.1.1/{PARQUET} has sha256 {sha256(served)}, but the catalog says {expected}: the file is "
        "corrupt or was altered. Nothing was cached; try again or report it to the publisher."
    )
    assert cached_files(cache) == []


def test_update_over_http(server: Server, tmp_path: Path) -> None:
    local = tmp_path / "events.parquet"
    shutil.copyfile(SEEDS / "1.0.0" / PARQUET, local)

    assert eventdata.update_parquet(local, server.url) == "1.1.1"

    assert sha256(local) == sha256(SEEDS / "1.1.1" / PARQUET)
    assert sorted(server.requests) == sorted(  # one step per release: its package format and its deltas
        ["/eventdata-seeds/catalog.json"]
        + [
            f"/eventdata-seeds/{version}/{name}"
            for version in ("1.1.0", "1.1.1")
            for name in ("datapackage.json", "changes/added.csv", "changes/modified.csv", "changes/deleted.csv")
        ]
    )


# --- update_parquet and `eventdata update` -----------------------------------------------------------


@pytest.fixture
def local_1_0_0(tmp_path: Path) -> Path:
    """A user's copy of 1.0.0's events.parquet."""
    path = tmp_path / "mine" / "events.parquet"
    path.parent.mkdir()
    shutil.copyfile(SEEDS / "1.0.0" / PARQUET, path)
    return path


def test_update_parquet_from_1_0_0_equals_1_1_1(local_1_0_0: Path) -> None:
    assert eventdata.update_parquet(local_1_0_0, SEEDS) == "1.1.1"

    assert sha256(local_1_0_0) == sha256(SEEDS / "1.1.1" / PARQUET)
    pd.testing.assert_frame_equal(pd.read_parquet(local_1_0_0), pd.read_parquet(SEEDS / "1.1.1" / PARQUET))
    assert [p.name for p in local_1_0_0.parent.iterdir()] == ["events.parquet"]  # no temporary file left


@pytest.mark.parametrize(("start", "to"), [("1.0.0", "1.1.0"), ("1.1.0", "1.1.1"), ("1.1.0", "latest")])
def test_update_parquet_one_step_equals_its_release(tmp_path: Path, start: str, to: str) -> None:
    local = tmp_path / "events.parquet"
    shutil.copyfile(SEEDS / start / PARQUET, local)
    version = "1.1.1" if to == "latest" else to

    assert eventdata.update_parquet(local, SEEDS, to) == version

    assert sha256(local) == sha256(SEEDS / version / PARQUET)
    pd.testing.assert_frame_equal(pd.read_parquet(local), pd.read_parquet(SEEDS / version / PARQUET))


def test_cli_update_from_1_0_0_equals_1_1_1(local_1_0_0: Path) -> None:
    result = run("update", local_1_0_0, "--from", SEEDS / "catalog.json")

    assert (result.exit_code, result.stderr, result.stdout) == (0, f"{local_1_0_0} is at version 1.1.1.\n", "")
    assert sha256(local_1_0_0) == sha256(SEEDS / "1.1.1" / PARQUET)
    pd.testing.assert_frame_equal(pd.read_parquet(local_1_0_0), pd.read_parquet(SEEDS / "1.1.1" / PARQUET))


@pytest.mark.parametrize(
    ("start", "to"), [("1.1.1", "latest"), ("1.1.1", "1.1.1"), ("1.1.0", "1.1.0"), ("1.0.0", "1.0.0")]
)
def test_update_at_the_target_version_is_a_no_op(tmp_path: Path, start: str, to: str) -> None:
    local = tmp_path / "events.parquet"
    shutil.copyfile(SEEDS / start / PARQUET, local)
    before = local.stat().st_mtime_ns

    assert eventdata.update_parquet(local, SEEDS, to) == start
    result = run("update", local, "--from", SEEDS, "--to", to)

    assert (result.exit_code, result.stderr) == (0, f"{local} is at version {start}.\n")
    assert (sha256(local), local.stat().st_mtime_ns) == (sha256(SEEDS / start / PARQUET), before)
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


@pytest.mark.parametrize(("start", "to"), [("1.1.1", "1.0.0"), ("1.1.1", "1.1.0"), ("1.1.0", "1.0.0")])
def test_update_refuses_a_version_older_than_the_local_file(tmp_path: Path, start: str, to: str) -> None:
    local = tmp_path / "events.parquet"
    shutil.copyfile(SEEDS / start / PARQUET, local)
    before = local.stat().st_mtime_ns
    message = (
        f"{local} already has version {start}, newer than the requested {to}: update only applies deltas forward, "
        f"so {local} was left unchanged. For version {to}, copy {to}/data/events.parquet from {SEEDS}, or read it "
        f'with eventdata.load(source, version="{to}").'
    )

    with pytest.raises(SourceError) as error:
        eventdata.update_parquet(local, SEEDS, to)
    assert str(error.value) == message

    result = run("update", local, "--from", SEEDS, "--to", to)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: {message}\n", "")
    assert (sha256(local), local.stat().st_mtime_ns) == (sha256(SEEDS / start / PARQUET), before)
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_update_refuses_a_parquet_without_eventdata_metadata(tmp_path: Path) -> None:
    local = tmp_path / "events.parquet"
    pq.write_table(pq.read_table(SEEDS / "1.0.0" / PARQUET).replace_schema_metadata(None), local)
    content = local.read_bytes()
    message = f"{local} carries no eventdata version; only events.parquet files of a release can be updated."

    with pytest.raises(SourceError) as error:
        eventdata.update_parquet(local, SEEDS)
    assert str(error.value) == message

    result = run("update", local, "--from", SEEDS)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: {message}\n", "")
    assert local.read_bytes() == content


def test_update_keeps_the_file_permissions(local_1_0_0: Path) -> None:
    local_1_0_0.chmod(0o644)

    eventdata.update_parquet(local_1_0_0, SEEDS)

    assert oct(local_1_0_0.stat().st_mode & 0o777) == "0o644"


def test_update_parquet_across_package_formats(tmp_path: Path) -> None:
    """1.0.0 → 1.1.0 → 1.1.1 → 1.2.0 (the committed releases, then one the test makes): every step byte for byte."""
    import json
    from datetime import date

    from eventdata.project import Project
    from eventdata.release import release_version
    from tests.conftest import SEED_ARTICLE, read_rows, write_rows

    root = tmp_path / "repository"
    for folder in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / folder, root / folder)
    sheet = root / "seeds" / "sheets" / f"{SEED_ARTICLE}.csv"
    rows = read_rows(sheet)
    added = dict(rows[1], event_id_cnty="", event_date="2022-01-21", notes="On 21 January 2022, a new event.")
    write_rows(sheet, [*rows, added])
    result = release_version(Project(root), release_date=date(2026, 12, 31))
    assert (result.status, result.version) == ("released", "1.2.0")
    dataset = root / "dist-data" / "eventdata-seeds"
    assert json.loads((dataset / "1.2.0" / "datapackage.json").read_text())["eventdata:package_format"] == 2
    local = tmp_path / "mine.parquet"
    shutil.copyfile(SEEDS / "1.0.0" / PARQUET, local)

    assert eventdata.update_parquet(local, dataset) == "1.2.0"

    assert sha256(local) == sha256(dataset / "1.2.0" / PARQUET)
    categories = pd.read_parquet(local)["event_type"].cat.categories
    assert list(categories) == list(read_events(dataset / "1.2.0")["event_type"].cat.categories)
    assert len(categories) == 6


# --- bad local files and catalogs: a message, never a traceback --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("truncated", (SEEDS / "1.0.0" / PARQUET).read_bytes()[:1000]), ("not parquet", b"event_id_cnty,notes\n")],
)
def test_update_of_a_truncated_or_non_parquet_file_exits_2_and_leaves_it(
    tmp_path: Path, name: str, content: bytes
) -> None:
    local = tmp_path / "events.parquet"
    local.write_bytes(content)

    result = run("update", local, "--from", SEEDS)

    assert result.exit_code == 2, name
    assert result.stderr == (
        f"Error: {local} ({len(content)} bytes) is not a readable Parquet file: it is truncated or in another "
        "format. Download the version again with eventdata.load(source, version).\n"
    )
    assert local.read_bytes() == content


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: c.update(versions={"1.0.0": {}}), "'versions' must be a list"),
        (lambda c: c["versions"][1].pop("version"), "versions[1].version must be a version such as 1.0.0, not None"),
        (lambda c: c["versions"][0].update(files="all"), "versions[0] (version 1.0.0).files must be a list"),
        (lambda c: c["versions"][1]["files"][0].pop("path"), "versions[1].files[0] must be an object with a 'path'"),
        (lambda c: c["versions"][0]["files"][2].update(sha256=7), "versions[0].files[2].sha256 must be 64 hex digits"),
        (lambda c: c.update(latest="2.0.0"), "'latest' names '2.0.0', which is not among its versions"),
    ],
)
def test_update_from_a_catalog_with_malformed_entries_names_the_entry(
    local_1_0_0: Path, tmp_path: Path, edit: Any, named: str
) -> None:
    dataset = tmp_path / "published"
    shutil.copytree(SEEDS, dataset)
    catalog = json.loads((dataset / "catalog.json").read_text(encoding="utf-8"))
    edit(catalog)
    (dataset / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    content = local_1_0_0.read_bytes()

    result = run("update", local_1_0_0, "--from", dataset)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {dataset / 'catalog.json'} is not a valid catalog: {named}")
    assert local_1_0_0.read_bytes() == content


def _drop_ids(local: Path) -> None:
    pq.write_table(pq.read_table(local).drop_columns(["event_id_cnty"]), local)


def test_update_of_a_file_without_event_ids_exits_2_and_leaves_it(local_1_0_0: Path) -> None:
    _drop_ids(local_1_0_0)
    content = local_1_0_0.read_bytes()

    result = run("update", local_1_0_0, "--from", SEEDS)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {local_1_0_0} does not hold the events of a release as written: it lacks the column(s) event_id_cnty "
        f"(compared with the Table Schema in {SEEDS / '1.1.0' / 'datapackage.json'}). It was left unchanged; "
        "download the version again with eventdata.load(source, version).\n"
    )
    assert local_1_0_0.read_bytes() == content


MODIFIED_HEADER = "event_id_cnty,column,old_value,new_value\r\n"


def _bad_date(text: str) -> str:
    lines = text.split("\r\n")
    return "\r\n".join([lines[0], lines[1].replace("2019-10-27", "2019-13-45"), *lines[2:]])


@pytest.mark.parametrize(
    ("name", "edit", "said"),
    [
        (
            "modified.csv",
            lambda _: MODIFIED_HEADER + '"SYR1","geo_precision","2"\r\n',
            "modified.csv:2: the row has 3 cells but the header has 4; check for a stray or missing comma or quote",
        ),
        (
            "modified.csv",
            lambda _: MODIFIED_HEADER + '"SYR1","geo_precision","2","banana"\r\n',
            "modified.csv:2: column geo_precision: 'banana' is not a value of the column's type (int8)",
        ),
        (
            "modified.csv",
            lambda _: MODIFIED_HEADER + '"SYR1","geo_precision","2","1"\r\n"SYR999","notes","a","b"\r\n',
            "modified.csv:3: event_id_cnty='SYR999', column='notes': the event is not in the previous version",
        ),
        (
            "added.csv",
            _bad_date,
            "added.csv:2: column event_date: '2019-13-45' is not a value of the column's type (date32[day])",
        ),
    ],
)
def test_update_with_a_damaged_delta_names_its_line_exits_2_and_leaves_the_file(
    local_1_0_0: Path, tmp_path: Path, name: str, edit: Any, said: str
) -> None:
    dataset = tmp_path / "published"
    shutil.copytree(SEEDS, dataset)
    path = dataset / "1.1.0" / "changes" / name
    path.write_bytes(edit(path.read_bytes().decode("utf-8")).encode("utf-8"))
    rehash_release(dataset / "1.1.0")  # the catalog vouches for the damaged file: only its content tells
    content = local_1_0_0.read_bytes()

    result = run("update", local_1_0_0, "--from", dataset)

    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: {dataset / '1.1.0' / 'changes' / said}. The delta of version 1.1.0 is damaged, so {local_1_0_0} "
        "was left unchanged: report it to the publisher, or download the version instead: "
        "eventdata.load(source, version).\n"
    )
    assert local_1_0_0.read_bytes() == content
    assert [p.name for p in local_1_0_0.parent.iterdir()] == ["events.parquet"]


# --- str and os.PathLike at the API boundary ------------------------------------------------------------------


class Location:
    """An os.PathLike that is neither str nor pathlib.Path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def test_update_parquet_takes_the_readme_s_str_paths(local_1_0_0: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(local_1_0_0.parent)
    shutil.copytree(SEEDS, local_1_0_0.parent / "dist-data" / "eventdata-seeds")

    assert eventdata.update_parquet("events.parquet", "dist-data/eventdata-seeds") == "1.1.1"  # as in the README
    assert sha256(local_1_0_0) == sha256(SEEDS / "1.1.1" / PARQUET)


def test_every_public_function_takes_str_and_pathlike(tmp_path: Path) -> None:
    local = tmp_path / "events.parquet"
    shutil.copyfile(SEEDS / "1.0.0" / PARQUET, local)
    assert eventdata.update_parquet(Location(local), Location(SEEDS)) == "1.1.1"
    pd.testing.assert_frame_equal(eventdata.load(Location(SEEDS)), read_events(SEEDS / "1.1.1"))
    pd.testing.assert_frame_equal(eventdata.read_events(Location(SEEDS / "1.1.1")), read_events(SEEDS / "1.1.1"))
    created = eventdata.init_project(Location(tmp_path / "new"))
    assert eventdata.load_project(Location(created.root)).root == created.root
    assert eventdata.load_project(str(created.root)).root == created.root
    assert eventdata.validate_project(str(created.root)).report.valid
    assert eventdata.validate_project(Location(created.root), [Location(created.sheets_dir)]).report.valid
    result = eventdata.build_package(str(created.root), Location(tmp_path / "package"))
    assert (result.status, result.package_dir) == ("built", tmp_path / "package")
    assert eventdata.Project(str(created.root)).sheets_dir == created.root / "seeds" / "sheets"

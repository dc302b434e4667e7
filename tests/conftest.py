"""Shared fixtures: a copy of the repository's dataset in a temporary folder, and sheet writers."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eventdata.project import Project
from tests.servers.real_ckan import CkanSite, CkanUnavailable, RealCkan

REPO = Path(__file__).resolve().parent.parent
SEED_ARTICLE = "000_d3eca66359643406"
SEED_SHEET = REPO / "seeds" / "sheets" / f"{SEED_ARTICLE}.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = header or list(dict.fromkeys(k for row in rows for k in row))  # edited rows may add columns
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n", extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True, scope="session")
def _sheet_cache_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The parsed-sheet cache of the test run (and of the commands it starts) in a folder of its own, never the
    user's ~/.cache; tests of the cache set their own."""
    folder = tmp_path_factory.mktemp("sheet-cache")
    before = os.environ.get("EVENTDATA_SHEET_CACHE_DIR")
    os.environ["EVENTDATA_SHEET_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("EVENTDATA_SHEET_CACHE_DIR", None)
    else:
        os.environ["EVENTDATA_SHEET_CACHE_DIR"] = before


def copy_dataset(root: Path, *, seed_sheet_only: bool = False) -> Project:
    """A copy of the flagship dataset (codebook, articles, sheets) without its releases; with only the seed sheet."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "seeds", root / "seeds")
    (root / "dist-data").mkdir()
    project = Project(root)
    if seed_sheet_only:
        for sheet in project.sheet_paths():
            if sheet.name != SEED_SHEET.name:
                sheet.unlink()
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the flagship dataset (codebook, articles, sheets) without its releases."""
    return copy_dataset(tmp_path / "dataset")


@pytest.fixture
def seed_rows() -> list[dict[str, str]]:
    """The rows of the seed article's coding sheet."""
    return read_rows(SEED_SHEET)


@pytest.fixture
def edit_sheet(project: Project, seed_rows: list[dict[str, str]]) -> Callable[..., Path]:
    """Rewrite the project's seed sheet with some cells changed: edit_sheet({row_index: {column: value}})."""

    def edit(changes: dict[int, dict[str, str]]) -> Path:
        rows = [dict(r) for r in seed_rows]
        for index, cells in changes.items():
            rows[index].update(cells)
        return write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", rows)

    return edit


@pytest.fixture
def in_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def real_ckan() -> Iterator[CkanSite]:
    """A real CKAN 2.12 for the whole session (tests/servers/real_ckan.py): an organization, an editor, a token.

    Skipped with the reason when this machine lacks it; under EVENTDATA_REQUIRE_CKAN=1 (set by .ci/run)
    that fails instead. A CKAN that is installed but does not start is always an error.
    """
    server = RealCkan()
    try:
        site = server.start()
    except CkanUnavailable as err:
        if os.environ.get("EVENTDATA_REQUIRE_CKAN") == "1":
            pytest.fail(f"EVENTDATA_REQUIRE_CKAN=1 but the real CKAN cannot run here: {err}")
        pytest.skip(f"no real CKAN here: {err}")
    try:
        yield site
    finally:
        server.stop()


#: Debian's chromium, headless; the window size comes from the `browser_window` fixture (a module may override it).
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def browser_window() -> str:
    """The browser window's width,height in pixels."""
    return "1400,1100"


@pytest.fixture
def browser(tmp_path: Path, browser_window: str) -> Iterator[Any]:
    """Debian's chromium through its chromedriver (selenium downloads nothing when given both paths).

    Skips without them, and fails instead when EVENTDATA_REQUIRE_BROWSER=1 (as CI sets it).
    """
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        message = "chromium and chromedriver are needed: apt-get install -y chromium chromium-driver"
        if os.environ.get("EVENTDATA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*BROWSER_FLAGS, f"--window-size={browser_window}", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield session
    finally:
        session.quit()

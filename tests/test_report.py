"""`eventdata report` and report.html: contents, byte reproducibility, the release files, and a real browser.

The seeds releases are cut again here, in a temporary folder, as the repository cut them: 1.0.0 from the inputs
recorded in dist-data/eventdata-seeds/1.0.0/sources/, then 1.1.0 from those recorded in 1.1.0/sources/, both
on the committed release date. So these tests show what the committed releases hold once they carry a report.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from eventdata.build import build_package
from eventdata.catalog import Release
from eventdata.cli import cli
from eventdata.project import Project
from eventdata.release import release_version, verify_release
from eventdata.report import AGREEMENT_FILE, REPORT_FILE, release_report
from eventdata.report.geo import Frame, merge_points
from eventdata.report.svg import OKABE_ITO
from tests.conftest import REPO

NAME = "eventdata-seeds"
COMMITTED = REPO / "dist-data" / NAME
RELEASED = date.fromisoformat(json.loads((COMMITTED / "1.1.0" / "datapackage.json").read_text())["created"][:10])


@dataclass(frozen=True)
class Seeds:
    project: Project

    def path(self, version: str) -> Path:
        return self.project.dist_dir / NAME / version

    def html(self, version: str) -> str:
        return (self.path(version) / REPORT_FILE).read_text(encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def cut_seeds_releases(root: Path) -> Project:
    """1.0.0 from the inputs 1.0.0 records, then 1.1.0 from the inputs 1.1.0 records, on the committed date."""
    root.mkdir(parents=True)
    for folder in ("schemas", "seeds"):
        shutil.copytree(COMMITTED / "1.0.0" / "sources" / folder, root / folder)
    (root / "dist-data").mkdir()
    project = Project(root)
    assert release_version(project, release_date=RELEASED).version == "1.0.0"
    for folder in ("schemas", "seeds"):  # the inputs 1.1.0 records (the repository's schemas/ may have moved on)
        shutil.rmtree(root / folder)
        shutil.copytree(COMMITTED / "1.1.0" / "sources" / folder, root / folder)
    assert release_version(project, release_date=RELEASED).version == "1.1.0"
    return project


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeds]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        yield Seeds(cut_seeds_releases(tmp_path_factory.mktemp("report") / "seeds"))


class Elements(HTMLParser):
    """Start tags with their attributes, and the text inside given tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.stack: list[str] = []
        self.texts: list[tuple[str, str]] = []  # (enclosing tag, text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in ("meta", "rect", "line", "circle", "path", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append((self.stack[-1] if self.stack else "", data.strip()))


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def map_points(html: str) -> list[tuple[str, float, float, float]]:
    """(tooltip, cx, cy, r) of every event circle of the map."""
    found = re.findall(
        r'<circle class="event" cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"[^>]*><title>([^<]*)</title>', html
    )
    return [(title, float(x), float(y), float(r)) for x, y, r, title in found]


# --- the seeds releases carry the report ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_report_is_a_resource_with_its_hash_in_datapackage_and_catalog(seeds: Seeds, version: str) -> None:
    folder = seeds.path(version)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = [r for r in descriptor["resources"] if r["name"] == "report"]
    assert resource == {
        "name": "report",
        "path": "report.html",
        "scheme": "file",
        "format": "html",
        "mediatype": "text/html",
        "encoding": "utf-8",
        "description": "The release report: counts, charts, a map and what changed; opens offline in a browser.",
        "bytes": (folder / REPORT_FILE).stat().st_size,
        "hash": f"sha256:{sha256(folder / REPORT_FILE)}",
    }
    catalog = json.loads((seeds.project.dist_dir / NAME / "catalog.json").read_text(encoding="utf-8"))
    entry = next(v for v in catalog["versions"] if v["version"] == version)
    assert {"path": f"{version}/report.html", "bytes": resource["bytes"], "sha256": sha256(folder / REPORT_FILE)} in (
        entry["files"]
    )
    assert (
        f"| report.html | {resource['bytes']} | {sha256(folder / REPORT_FILE)} |" in (folder / "README.md").read_text()
    )


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_the_recut_seeds_releases_differ_from_the_committed_ones_only_by_the_report(seeds: Seeds, version: str) -> None:
    fresh, committed = tree(seeds.path(version)), tree(COMMITTED / version)
    differing = {p for p in set(fresh) | set(committed) if fresh.get(p) != committed.get(p)}
    assert REPORT_FILE in committed
    assert differing == set()


def test_verify_checks_the_report_like_every_other_file(seeds: Seeds, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(seeds.project.root, copy)
    project = Project(copy)
    assert [r.ok and r.rebuilt for r in verify_release(project)] == [True, True]
    report = copy / "dist-data" / NAME / "1.1.0" / REPORT_FILE
    expected = sha256(report)
    report.write_text(report.read_text(encoding="utf-8").replace("Atmeh", "Atmah"), encoding="utf-8")

    (result,) = verify_release(project, "1.1.0")
    assert [(p.code, p.file, p.message) for p in result.problems] == [
        ("release-hash-mismatch", str(report), f"sha256 is {sha256(report)}, expected {expected}.")
    ]
    report.unlink()
    (result,) = verify_release(project, "1.1.0")
    assert [(p.code, p.file) for p in result.problems] == [("release-file-missing", str(report))]


def test_two_builds_give_the_same_report_bytes(seeds: Seeds, tmp_path: Path) -> None:
    copies = []
    for name in ("a", "b"):
        root = tmp_path / name
        shutil.copytree(seeds.project.root, root)
        shutil.rmtree(root / "dist-data" / NAME / "1.1.0")  # released again, after 1.0.0
        catalog = root / "dist-data" / NAME / "catalog.json"
        entries = json.loads(catalog.read_text(encoding="utf-8"))
        entries["versions"] = [v for v in entries["versions"] if v["version"] == "1.0.0"]
        entries["latest"] = "1.0.0"
        catalog.write_text(json.dumps(entries), encoding="utf-8")
        result = release_version(Project(root), release_date=RELEASED)
        assert (result.status, result.version, result.previous) == ("released", "1.1.0", "1.0.0")
        assert result.path is not None
        copies.append(result.path)
    assert (copies[0] / REPORT_FILE).read_bytes() == (copies[1] / REPORT_FILE).read_bytes()
    assert (copies[0] / REPORT_FILE).read_bytes() == (seeds.path("1.1.0") / REPORT_FILE).read_bytes()
    assert tree(copies[0]) == tree(copies[1]) == tree(seeds.path("1.1.0"))


# --- what the report says ---------------------------------------------------------------------------------


def test_report_page_has_language_title_and_headline_counts(seeds: Seeds) -> None:
    html = seeds.html("1.1.0")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">\n')
    title = "eventdata seeds: political violence events coded from news articles"
    assert f"<title>{title} 1.1.0: release report</title>" in html
    counts = re.findall(r"<div><dt>(\w+)</dt><dd>([\d,]+)</dd></div>", html)
    # 12 events: 10 at Ghweran prison (no fatalities), Atmeh (13), Barisha (1); one article, one coder
    assert counts == [("Events", "12"), ("Fatalities", "14"), ("Countries", "1"), ("Articles", "1"), ("Coders", "1")]
    assert f"released {RELEASED.isoformat()}. Compared with 1.0.0.</p>" in html
    assert "Event dates from 2019-10-27 to 2022-02-03." in html


def test_report_map_shows_the_atmeh_and_ghweran_events_sized_by_fatalities(seeds: Seeds) -> None:
    points = {title.split(":")[0]: (title, x, y, r) for title, x, y, r in map_points(seeds.html("1.1.0"))}

    assert sorted(points) == ["Al-Hasakah - Ghweran", "Atmeh", "Barisha"]
    assert points["Atmeh"][0] == "Atmeh: 1 event of type Battles, 13 fatalities"
    assert points["Al-Hasakah - Ghweran"][0] == "Al-Hasakah - Ghweran: 10 events of type Battles, 0 fatalities"
    atmeh, ghweran, barisha = points["Atmeh"], points["Al-Hasakah - Ghweran"], points["Barisha"]
    assert atmeh[1] < ghweran[1]  # Atmeh (36.69°E) is west of Ghweran (40.74°E)
    assert ghweran[2] < atmeh[2] < barisha[2]  # and north to south: Ghweran, Atmeh, Barisha
    assert ghweran[3] < barisha[3] < atmeh[3]  # 0, 1 and 13 fatalities
    assert f'fill="{OKABE_ITO[0]}"' in re.search(r'<circle class="event"[^>]*>', seeds.html("1.1.0")).group(0)
    # the borders come from Natural Earth: Syria's outline and its neighbours are drawn and named
    assert re.search(r'<path d="M[^"]+"[^>]*><title>Syria</title></path>', seeds.html("1.1.0"))
    assert ">Turkey</text>" in seeds.html("1.1.0")
    # 1.0.0 has the deleted event of 30 January at Ghweran too
    first = {title.split(":")[0]: title for title, *_ in map_points(seeds.html("1.0.0"))}
    assert first["Al-Hasakah - Ghweran"] == "Al-Hasakah - Ghweran: 11 events of type Battles, 0 fatalities"


def test_report_shows_the_changes_from_1_0_0_to_1_1_0(seeds: Seeds) -> None:
    html = seeds.html("1.1.0")
    assert "<p>Compared with 1.0.0: 1 added, 1 modified (1 values), 1 deleted; 11 events are in both versions." in html
    assert '<tr><th scope="row">geo_precision</th><td>1 / 11</td><td>9.1%</td></tr>' in html
    assert '<tr><th scope="row">SYR1</th><td>geo_precision</td><td>2</td><td>1</td></tr>' in html
    assert (
        '<tr><th scope="row">SYR13</th><td>2019-10-27</td><td>Battles</td><td>Syria</td><td>Barisha</td>'
        '<td class="n">1</td></tr>'
    ) in html
    reason = (COMMITTED / "1.1.0" / "sources" / "seeds" / "deletions.csv").read_text().splitlines()[1]
    reason_text = reason.split(",", 1)[1].strip('"')
    assert f'<tr><th scope="row">SYR12</th><td>{reason_text}</td></tr>' in html
    assert "First release: all 12 events are new." in seeds.html("1.0.0")


def test_report_tables_beside_the_charts_give_their_numbers(seeds: Seeds) -> None:
    html = seeds.html("1.1.0")
    assert '<tr><th scope="row">2022-01</th><td class="n">10</td><td class="n">10</td></tr>' in html
    assert '<tr><th scope="row">2022-02</th><td class="n">13</td><td class="n">13</td></tr>' in html  # fatalities
    assert '<tr><th scope="row">Syria</th><td class="n">12</td><td class="n">14</td></tr>' in html
    assert '<tr><th scope="row">Al-Hasakah</th><td>Syria</td><td class="n">10</td><td class="n">0</td></tr>' in html
    assert '<tr><th scope="row">1</th><td>Town</td><td class="n">12</td><td class="n">100.0%</td></tr>' in html
    # 1.0.0: SYR1 was coded "near a town" (geo precision 2)
    assert '<tr><th scope="row">2</th><td>Near a town</td><td class="n">1</td><td class="n">8.3%</td></tr>' in (
        seeds.html("1.0.0")
    )
    elements = parse(html)
    charts = [a for tag, a in elements.tags if tag == "svg"]
    assert [c["id"] for c in charts] == [
        "chart-events-per-month",
        "chart-fatalities-per-month",
        "chart-events-by-country",
        "chart-map",
        "chart-precision",
    ]
    for chart in charts:  # each is labelled by its own title and description
        assert chart["role"] == "img"
        assert chart["aria-labelledby"] == f"{chart['id']}-title {chart['id']}-desc"
    assert ("text", "Month") in elements.texts
    assert ("text", "Events") in elements.texts


def test_report_codebook_checks_pass_and_name_the_checks(seeds: Seeds) -> None:
    html = seeds.html("1.1.0")
    assert re.search(r"checked again on the 12 released events: <span class=\"ok\">all \d+ passed</span>", html)
    assert '<tr><th scope="row">fatalities</th><td>within 0..</td><td class="n">12</td><td>passed</td></tr>' in html
    assert '<tr><th scope="row">event_type</th><td>in the vocabulary event_types</td>' in html
    assert "<li>A sub-event type belongs to exactly one event type.</li>" in html
    assert "agreement" not in html.lower()  # no agreement table in these releases


def test_report_is_offline_without_scripts_and_states_no_time_but_the_release_date(seeds: Seeds) -> None:
    html = seeds.html("1.1.0")
    assert "<script" not in html
    assert "javascript:" not in html
    assert re.findall(r"https?://[^\"' <]+", html) == ["http://www.w3.org/2000/svg"] * html.count("<svg ")
    assert re.findall(r'(?:href|src)="([^"]*)"', html) == [
        f"#{s}" for s in re.findall(r'<section id="(\w+)"><h2', html)
    ]
    assert "@import" not in html
    assert "url(" not in html.replace("url(#chart-map-clip)", "")
    events = pq.read_table(seeds.path("1.1.0") / "data" / "events.parquet").column("event_date").to_pylist()
    dates = set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", html))
    assert dates <= {d.isoformat() for d in events} | {RELEASED.isoformat()}
    assert not re.search(r"\b\d{2}:\d{2}(:\d{2})?\b", html)


def test_report_shows_agreement_only_when_the_release_has_it(seeds: Seeds, tmp_path: Path) -> None:
    copy = tmp_path / "1.1.0"
    shutil.copytree(seeds.path("1.1.0"), copy)
    (copy / AGREEMENT_FILE).parent.mkdir()
    (copy / AGREEMENT_FILE).write_text("field,level,alpha,units\nevent_type,nominal,0.91,40\nfatalities,ratio,0.7,40\n")

    html = release_report(Release(NAME, "1.1.0", copy))

    assert '<section id="agreement"><h2>Agreement between coders</h2>' in html
    assert '<li><a href="#agreement">Agreement between coders</a></li>' in html
    assert '<tr><th scope="row">event_type</th><td>nominal</td><td>0.910</td><td>40</td></tr>' in html
    assert "<title>fatalities: 0.700</title>" in html  # its bar in the alpha chart
    assert "agreement" not in seeds.html("1.1.0").lower()


def test_report_counts_violations_of_a_tampered_release(seeds: Seeds, tmp_path: Path) -> None:
    copy = tmp_path / "1.1.0"
    shutil.copytree(seeds.path("1.1.0"), copy)
    table = pq.read_table(copy / "data" / "events.parquet")
    fatalities = table.column("fatalities").to_pylist()
    fatalities[0] = -5
    index = table.schema.get_field_index("fatalities")
    pq.write_table(
        table.set_column(index, table.schema.field(index), pa.array(fatalities, pa.int64())),
        copy / "data" / "events.parquet",
    )

    html = release_report(Release(NAME, "1.1.0", copy))

    assert re.search(r'<span class="bad">1 of \d+ failed</span>', html)
    assert (
        '<tr><th scope="row">fatalities</th><td>within 0..</td><td class="n">12</td><td>1 violations</td></tr>' in html
    )


def test_report_of_a_release_without_events(project: Project) -> None:
    for sheet in project.sheet_paths():
        sheet.unlink()
    result = build_package(project)
    html = (result.package_dir / REPORT_FILE).read_text(encoding="utf-8")

    assert result.status == "built"
    assert re.findall(r"<div><dt>(\w+)</dt><dd>([\d,]+)</dd></div>", html)[:3] == [
        ("Events", "0"),
        ("Fatalities", "0"),
        ("Countries", "0"),
    ]
    assert '<section id="time"><h2>Events and fatalities per month</h2><p>No events.</p></section>' in html
    assert "<figcaption>No events to map." in html
    assert map_points(html) == []


def test_many_points_merge_into_cells_per_event_type() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    points = pd.DataFrame(
        {
            "latitude": rng.uniform(32, 37, n).round(4),
            "longitude": rng.uniform(36, 42, n).round(4),
            "event_type": pd.Categorical(rng.choice(["Battles", "Riots"], n)),
            "events": 1,
            "fatalities": rng.integers(0, 3, n),
            "location": [f"place {i}" for i in range(n)],
        }
    )
    frame = Frame(points["longitude"].to_numpy(), points["latitude"].to_numpy())

    marks, cell = merge_points(points, frame)

    assert cell > 0
    assert len(marks) <= 4000
    assert (int(marks["events"].sum()), int(marks["fatalities"].sum())) == (n, int(points["fatalities"].sum()))
    assert set(marks["event_type"].astype(str)) == {"Battles", "Riots"}


# --- the command --------------------------------------------------------------------------------------------


def test_cli_report_prints_or_writes_the_release_report(seeds: Seeds, tmp_path: Path) -> None:
    result = run(seeds.project, "report", "1.0.0")
    assert (result.exit_code, result.stdout) == (0, seeds.html("1.0.0"))

    output = tmp_path / "latest.html"
    result = run(seeds.project, "report", "-o", str(output))
    assert (result.exit_code, result.stderr) == (0, f"Wrote the report of {NAME} 1.1.0 to {output}.\n")
    assert output.read_bytes() == (seeds.path("1.1.0") / REPORT_FILE).read_bytes()


def test_cli_report_refuses_unknown_versions_and_missing_folders(seeds: Seeds, tmp_path: Path) -> None:
    result = run(seeds.project, "report", "9.9.9")
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: Version 9.9.9 of {NAME} does not exist; released versions: 1.0.0, 1.1.0.\n",
    )
    missing = tmp_path / "no-such-folder" / "report.html"
    result = run(seeds.project, "report", "-o", str(missing))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: Cannot write {missing}: the folder {missing.parent} does not exist.\n",
    )


# --- in a real browser ---------------------------------------------------------------------------------------


@pytest.fixture
def browser_window() -> str:
    """The report is read in a window 1000 pixels high."""
    return "1400,1000"


BOXES = """
return Array.from(document.querySelectorAll(arguments[0])).map(e => {
  const b = e.getBoundingClientRect(); return [e.id || e.getAttribute('class') || e.tagName, b.width, b.height];
});
"""


def test_browser_renders_the_charts_and_the_map_of_the_seeds_release(
    seeds: Seeds, browser: Any, tmp_path: Path
) -> None:
    report = seeds.path("1.1.0") / REPORT_FILE
    browser.get(report.as_uri())

    assert browser.title == "eventdata seeds: political violence events coded from news articles 1.1.0: release report"
    charts = browser.execute_script(BOXES, "svg.chart")
    assert [c[0] for c in charts] == [
        "chart-events-per-month",
        "chart-fatalities-per-month",
        "chart-events-by-country",
        "chart-map",
        "chart-precision",
    ]
    assert all(width > 300 and height > 50 for _, width, height in charts), charts
    bars = browser.execute_script(BOXES, "#chart-events-per-month .bars rect")
    assert len(bars) == 3
    assert all(w > 0 and h > 0 for _, w, h in bars)
    circles = browser.execute_script(BOXES, "#chart-map circle.event")
    assert len(circles) == 3
    assert all(w > 5 and h > 5 for _, w, h in circles)
    borders = browser.execute_script(BOXES, "#chart-map .borders path")
    assert len(borders) >= 3
    assert max(w * h for _, w, h in borders) > 100_000
    inside = browser.execute_script(
        """const m = document.getElementById('chart-map').getBoundingClientRect();
        return Array.from(document.querySelectorAll('#chart-map circle.event')).every(c => {
          const b = c.getBoundingClientRect();
          return b.left >= m.left && b.right <= m.right && b.top >= m.top && b.bottom <= m.bottom; });"""
    )
    assert inside is True
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('#chart-map .place-names text')).map(t => t.textContent);"
    )
    assert {"Atmeh", "Al-Hasakah - Ghweran"} <= set(labels)

    screenshots = Path(os.environ.get("EVENTDATA_SCREENSHOT_DIR", tmp_path))
    screenshots.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.set_window_size(1400, height)
    shot = screenshots / "report-1.1.0.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000
    browser.find_element("id", "chart-map").screenshot(str(screenshots / "report-1.1.0-map.png"))


def _repo_copy(root: Path) -> Project:
    """A copy of the repository's dataset with its committed releases."""
    for part in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / part, root / part)
    return Project(root)


def _drop_event_type(path: Path) -> None:
    pq.write_table(pq.read_table(path).drop(["event_type"]), path)


@pytest.mark.parametrize(
    ("damaged", "damage", "said"),
    [
        ("data/events.parquet", lambda p: p.write_bytes(b"garbage\n"), "cannot be read (Parquet magic bytes"),
        ("data/events.parquet", _drop_event_type, "lacks the column(s) event_type"),
        ("changes/modified.csv", lambda p: p.write_text('x\n"a\n'), "Column 'event_id_cnty'"),
        ("data/articles.csv", lambda p: p.write_text("foo\n1\n"), "Column 'article_id'"),
    ],
)
def test_report_of_a_damaged_release_names_the_file_exit_2(
    tmp_path: Path, damaged: str, damage: Any, said: str
) -> None:
    project = _repo_copy(tmp_path / "ds")
    path = project.dist_dir / "eventdata-seeds" / "1.1.0" / damaged
    damage(path)
    out = tmp_path / "report.html"
    result = run(project, "report", "1.1.0", "-o", str(out))
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    assert said in result.output
    assert "damaged" in result.output
    assert not out.exists()


def _fatalities_as_text(path: Path) -> None:
    table = pq.read_table(path)
    index = table.schema.get_field_index("fatalities")
    text = pa.array([str(v) for v in table.column(index).to_pylist()], pa.string())
    pq.write_table(table.set_column(index, pa.field("fatalities", pa.string()), text), path)


def _an_extra_column(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.append_column("score", pa.array([1.0] * table.num_rows)), path)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_fatalities_as_text, "it has column fatalities as string, where its Table Schema gives int64."),
        (_an_extra_column, "it has column(s) score that its Table Schema does not list."),
    ],
)
def test_report_of_events_unlike_the_release_s_table_schema_names_the_column_exit_2(
    tmp_path: Path, damage: Any, said: str
) -> None:
    project = _repo_copy(tmp_path / "ds")
    release = project.dist_dir / "eventdata-seeds" / "1.1.0"
    damage(release / "data" / "events.parquet")

    result = run(project, "report", "1.1.0")

    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr == (
        f"Error: {release / 'data' / 'events.parquet'} does not match the release's Table Schema (its codebook): "
        f"{said} {release} is damaged: restore the file from a backup or the published copy (eventdata verify "
        "lists what differs).\n"
    )


@pytest.mark.parametrize("target", ["1.1.0/report.html", "catalog.json", "1.0.0/data/report.html"])
def test_report_is_never_written_into_the_releases(tmp_path: Path, target: str) -> None:
    project = _repo_copy(tmp_path / "ds")
    dataset = project.dist_dir / "eventdata-seeds"
    before = tree(dataset)
    result = run(project, "report", "1.0.0", "-o", str(dataset / target))
    assert result.exit_code == 2, result.output
    assert "whose releases are never changed" in result.output
    assert tree(dataset) == before


@pytest.mark.parametrize("changes", [5, [1], {"previous": 5}])
def test_report_of_a_release_with_a_damaged_changes_record_names_it(tmp_path: Path, changes: Any) -> None:
    project = _repo_copy(tmp_path / "ds")
    path = project.dist_dir / "eventdata-seeds" / "1.1.0" / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["eventdata:changes"] = changes
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    result = run(project, "report", "1.1.0")
    assert result.exit_code == 2, result.output
    assert f"{path}: 'eventdata:changes' must be an object" in result.output


def test_report_counts_violations_in_dictionary_and_text_columns(seeds: Seeds, tmp_path: Path) -> None:
    from eventdata.report.data import _constraint_checks, read_events
    from eventdata.schema import load_codebook

    copy = tmp_path / "1.1.0"
    shutil.copytree(seeds.path("1.1.0"), copy)
    path = copy / "data" / "events.parquet"
    table = pq.read_table(path)
    assert pa.types.is_dictionary(table.schema.field("event_type").type)

    def replaced(table: pa.Table, name: str, values: dict[int, Any]) -> pa.Table:
        cells = table.column(name).to_pylist()
        for row, value in values.items():
            cells[row] = value
        field = table.schema.field(name).with_nullable(True)
        column = pa.array(cells, field.type.value_type if pa.types.is_dictionary(field.type) else field.type)
        if pa.types.is_dictionary(field.type):
            column = column.dictionary_encode()
        return table.set_column(table.schema.get_field_index(name), field, column)

    ids = table.column("event_id_cnty").to_pylist()
    table = replaced(table, "event_type", {0: "Not a type", 3: "Not a type"})
    table = replaced(table, "country", {1: None})
    table = replaced(table, "event_id_cnty", {1: ids[0], 2: "not an id"})
    pq.write_table(table, path)
    codebook = load_codebook(copy / "sources" / "schemas")

    found = {(c.column, c.constraint): c.violations for c in _constraint_checks(*read_events(copy, codebook), codebook)}

    assert found[("event_type", "in the vocabulary event_types")] == 2
    assert found[("country", "required")] == 1
    assert found[("country", "in the vocabulary countries")] == 0  # a missing value is not outside the vocabulary
    assert found[("event_id_cnty", "unique")] == 1
    assert found[("event_id_cnty", "pattern")] == 1
    assert found[("fatalities", "within 0..")] == 0

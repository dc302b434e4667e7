"""The workbench in a real browser: Debian's chromium codes the seed article's Atmeh event from scratch."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("flask")

from eventdata.build import build_package
from eventdata.cli import cli
from eventdata.dataset import Dataset
from eventdata.intake import add_article
from eventdata.project import Project, init_project
from eventdata.serve.app import make_workbench_server
from eventdata.serve.workbench import Workbench
from tests.conftest import REPO, SEED_ARTICLE, read_rows

PASSAGES = (
    "Abu Ibrahim al-Hashimi al-Qurayshi was targeted and killed in an overnight US raid, "
    "during the evening following 2 February",
    "The raid took place in Atmeh, a densely populated town in the rebel-held Idlib province "
    "near the Syrian-Turkish border.",
    "said that the raid left 13 people dead, including six children and four women.",
)
#: Selects a passage of the article as a person does with the mouse: a DOM range over the shown text, then mouseup.
SELECT = """
const box = document.getElementById('article-text'), wanted = arguments[0];
const text = box.textContent, at = text.indexOf(wanted);
if (at < 0) return false;
const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
let seen = 0, range = document.createRange(), started = false;
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const len = n.textContent.length;
  if (!started && at < seen + len) { range.setStart(n, at - seen); started = true; }
  if (started && at + wanted.length <= seen + len) { range.setEnd(n, at + wanted.length - seen); break; }
  seen += len;
}
const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
return true;
"""


class Server:
    """The workbench served from a thread on a fixed loopback port, so it can be stopped and started again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = 0
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.server = make_workbench_server(Workbench(Dataset.open(self.root)), "127.0.0.1", self.port)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        assert self.thread is not None
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture
def fresh(tmp_path: Path) -> Project:
    """A new dataset (eventdata init) holding only the seed article, not yet coded."""
    project = init_project(tmp_path / "atmeh", name="atmeh")
    added = add_article(
        project,
        REPO / "seeds" / "articles" / f"{SEED_ARTICLE}.txt",
        title="unknown",
        publisher="unknown",
        published=date(2022, 2, 3),
        article_id=SEED_ARTICLE,
    )
    assert added.article_id == SEED_ARTICLE
    return project


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _alert(browser: Any) -> Any:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        return browser.switch_to.alert
    except NoAlertPresentException:
        return None


def screenshots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EVENTDATA_SCREENSHOT_DIR", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_a_coder_codes_the_atmeh_event_from_scratch_in_chromium(fresh: Project, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    shots = screenshots_dir(tmp_path)
    server = Server(fresh.root)
    server.start()
    by_id: Callable[[str], Any] = lambda name: browser.find_element("id", name)  # noqa: E731
    field: Callable[[str], Any] = lambda name: browser.find_element("name", name)  # noqa: E731

    def problem_codes(column: str) -> list[str]:
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('#problems-' + arguments[0] + ' .problem'))"
            ".map(p => p.dataset.code);",
            column,
        )

    def type_into(name: str, text: str) -> None:
        element = field(name)
        element.clear()
        element.send_keys(text)

    try:
        browser.get(server.url)
        wait_for(lambda: browser.execute_script("return document.body.dataset.ready"), "the page to start")
        assert "Who is coding?" in by_id("banner").text
        by_id("coder").send_keys("A. Coder")
        by_id("coder-start").click()
        wait_for(lambda: "Joe Biden" in by_id("article-text").text, "the article text")
        assert "a new sheet" in by_id("sheet-info").text
        assert field("coder").get_attribute("value") == "A. Coder"
        assert field("article_id").get_attribute("value") == SEED_ARTICLE

        # Evidence by selection: each selected passage is added exactly as written, and highlighted.
        for passage in PASSAGES:
            assert browser.execute_script(SELECT, passage) is True
        evidence = field("evidence").get_attribute("value")
        assert evidence == " ... ".join(PASSAGES)
        marked = browser.execute_script(
            "return Array.from(document.querySelectorAll('#article-text mark.used')).map(m => m.textContent).join('|');"
        )
        assert all(p in marked for p in PASSAGES)

        # Suggested values from the selected passages, which the coder confirms with a click.
        wait_for(
            lambda: browser.find_elements("css selector", "#suggest-fatalities button[data-value='13']"),
            "the fatality suggestion",
        )
        for name, value in (("fatalities", "13"), ("location", "Atmeh"), ("country", "Syria")):
            browser.find_element("css selector", f"#suggest-{name} button[data-value='{value}']").click()
            assert field(name).get_attribute("value") == value

        # A date is checked as it is typed.
        type_into("event_date", "2022-02-30")
        assert "expected a real date" in by_id("typing-event_date").text
        type_into("event_date", "2022-02-03")
        assert by_id("typing-event_date").text == ""

        Select(field("time_precision")).select_by_value("1")
        Select(field("event_type")).select_by_value("Battles")
        choices = [o.get_attribute("value") for o in Select(field("sub_event_type")).options]
        assert choices == ["", "Government regains territory", "Non-state actor overtakes territory", "Armed clash"]
        Select(field("sub_event_type")).select_by_value("Armed clash")
        type_into("actor1", "Military Forces of the United States (2021-)")
        type_into("actor2", "Islamic Stat (Syria)")  # a typo: the live check names it
        Select(field("geo_precision")).select_by_value("1")
        type_into("source", "Unknown news outlet")
        type_into("notes", "On 3 February 2022, US forces raided Atmeh (Harim, Idlib); the raid left 13 people dead.")

        shows_the_form = "return document.body.dataset.fresh === '1';"
        wait_for(
            lambda: browser.execute_script(shows_the_form) and "unknown-actor" in problem_codes("actor2"),
            "the live error on actor2",
        )
        assert problem_codes("notes") == []
        assert problem_codes("source") == []
        assert "has-error" in by_id("field-actor2").get_attribute("class")
        browser.set_window_size(1400, 1500)
        error_shot = shots / "workbench-live-error.png"
        assert browser.save_screenshot(str(error_shot))

        # Saving a row with a blocking problem is refused, and says so.
        by_id("save").click()
        wait_for(lambda: "not saved" in by_id("status").text, "the refusal")
        assert not (fresh.sheets_dir / f"{SEED_ARTICLE}.csv").exists()

        type_into("actor2", "Islamic State (Syria)")
        wait_for(
            lambda: (
                browser.execute_script(shows_the_form)
                and problem_codes("actor2") == []
                and by_id("derived-inter2").get_attribute("value") == "2"
            ),
            "the fix",
        )
        assert browser.find_elements("css selector", "#event-form .problem:not(.typing)") == []
        assert by_id("derived-inter1").get_attribute("value") == "8"  # US forces outside the United States
        assert by_id("derived-admin1").get_attribute("value") == "Idlib"
        assert by_id("derived-latitude").get_attribute("value") == "36.2119"
        by_id("save").click()
        wait_for(lambda: "Saved to seeds/sheets/" in by_id("status").text, "the save")
        assert "line 2" in by_id("status").text
        saved_shot = shots / "workbench-saved.png"
        assert browser.save_screenshot(str(saved_shot))

        # A stopped server loses nothing: the edit stays in the browser and is saved after a restart.
        server.stop()
        field("notes").send_keys(" The White Helmets gave the figure.")
        by_id("save").click()
        wait_for(lambda: "does not answer" in by_id("status").text, "the stopped server to be named")
        server.start()
        browser.get(server.url)
        wait_for(lambda: "Restored your unsaved edit" in by_id("banner").text, "the draft to come back")
        assert field("notes").get_attribute("value").endswith("The White Helmets gave the figure.")
        by_id("save").click()
        wait_for(lambda: "Saved to seeds/sheets/" in by_id("status").text, "the save after the restart")

        # A row saved twice by mistake is deleted from the events table (after the coder confirms).
        sheet = fresh.sheets_dir / f"{SEED_ARTICLE}.csv"
        one_row = sheet.read_bytes()
        browser.execute_script("startEvent(null, formValues());")  # the same values, as a new event
        by_id("save").click()
        wait_for(lambda: "line 3" in by_id("status").text, "the second copy to be saved")
        assert len(read_rows(sheet)) == 2
        browser.find_element("css selector", "#events button.delete[title$='line 3']").click()
        alert = wait_for(lambda: _alert(browser), "the confirmation")
        assert "Delete the event at line 3 (2022-02-03, Battles, Atmeh)" in alert.text
        alert.accept()
        wait_for(lambda: "Deleted line 3" in by_id("status").text, "the deletion")
        assert sheet.read_bytes() == one_row
        assert len(browser.find_elements("css selector", "#events tbody tr")) == 1
    finally:
        with contextlib.suppress(Exception):  # already stopped where the test stops it
            server.stop()

    rows = read_rows(fresh.sheets_dir / f"{SEED_ARTICLE}.csv")
    assert len(rows) == 1
    row = rows[0]
    assert row["evidence"] == " ... ".join(PASSAGES)
    assert row["notes"].endswith("The White Helmets gave the figure.")
    assert (row["coder"], row["fatalities"], row["location"], row["event_date"]) == (
        "A. Coder",
        "13",
        "Atmeh",
        "2022-02-03",
    )

    result = CliRunner().invoke(cli, ["--project", str(fresh.root), "validate"])
    assert result.exit_code == 0, result.output
    built = build_package(Dataset.open(fresh.root))
    assert built.status == "built"
    events = pd.read_parquet(built.package_dir / "data" / "events.parquet")
    assert events["location"].tolist() == ["Atmeh"]
    assert events["fatalities"].tolist() == [13]
    assert events["actor2"].tolist() == ["Islamic State (Syria)"]
    for shot in (error_shot, saved_shot):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

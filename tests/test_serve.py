"""The workbench library and its web API: checks as validate makes them, saves that lose nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("flask")

from eventdata.dataset import Dataset
from eventdata.serve import workbench as workbench_module
from eventdata.serve.app import INPUTS_HEADER, INPUTS_PROBLEM_HEADER, REQUEST_HEADER, create_app
from eventdata.serve.sheetfile import content_hash, parse_sheet
from eventdata.serve.workbench import Blocked, NotYourSheet, SheetChanged, Workbench, WorkbenchError
from eventdata.validate import validate_project
from tests.conftest import REPO, SEED_ARTICLE, SEED_SHEET, copy_dataset, read_rows

SHEET = f"{SEED_ARTICLE}.csv"


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_dataset(tmp_path_factory.mktemp("serve") / "dataset", seed_sheet_only=True).root


@pytest.fixture(scope="module")
def opened(dataset_root: Path) -> Dataset:
    dataset = Dataset.open(dataset_root)
    dataset.references()  # the lists and reference data, read once for the module
    Workbench(dataset).check(SHEET, 2, read_rows(SEED_SHEET)[0])  # the pipeline's first run builds its schema
    return dataset


@pytest.fixture
def bench(opened: Dataset) -> Workbench:
    """A workbench over the module's dataset, its sheets folder reset to the seed sheet alone."""
    sheets = opened.project.sheets_dir
    for path in sheets.iterdir():
        path.unlink()
    shutil.copy(SEED_SHEET, sheets / SHEET)
    return Workbench(opened)


def atmeh(**changes: str) -> dict[str, str]:
    """The seed sheet's Atmeh row as a new event (no id), with some cells changed."""
    row = read_rows(SEED_SHEET)[0]
    row["event_id_cnty"] = ""
    row.update(changes)
    return row


# --- the sheet's bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows", "newline", "quote_all", "trailing", "bom"),
    [
        ("a,b,coder", [["1", "x y", "ann"], ["2", 'say "hi"', "ann"]], "\n", False, True, False),
        ("a,b,coder", [["1", "two\nlines", "ann"], ["2", "z", "ann"]], "\r\n", False, False, False),
        ('"a","b","coder"', [["1", "x", "ann"], ["2", "y", "ann"]], "\r\n", True, True, True),
    ],
)
def test_a_replaced_row_keeps_every_other_byte(
    header: str, rows: list[list[str]], newline: str, quote_all: bool, trailing: bool, bom: bool
) -> None:
    def record(cells: list[str]) -> str:
        return ",".join(f'"{c}"' if quote_all or any(ch in c for ch in ',"\n') else c for c in cells).replace(
            '"say "hi""', '"say ""hi"""'
        )

    text = newline.join([header, *(record(r) for r in rows)]) + (newline if trailing else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    sheet = parse_sheet(data)
    assert (sheet.newline, sheet.quote_all, sheet.ends_with_newline, sheet.bom) == (newline, quote_all, trailing, bom)
    first_line = sheet.rows[0].line
    edited, line = sheet.with_row({"a": "1", "b": "changed, with a comma", "coder": "ann"}, first_line)
    out = edited.text().encode("utf-8")
    assert line == first_line
    assert out.startswith(data[: data.index(b"1")])  # BOM and header untouched
    tail = data[data.index(record(rows[1]).encode()) :]
    assert out.endswith(tail)  # the other row, and the file's end, byte for byte
    assert parse_sheet(out).rows[0].cells == ["1", "changed, with a comma", "ann"]

    appended, new_line = sheet.with_row({"a": "3", "b": "new", "coder": "ann"}, None)
    grown = appended.text().encode("utf-8")
    assert grown.startswith(data.rstrip(b"\r\n"))
    assert grown.endswith(newline.encode())
    assert [r.cells for r in parse_sheet(grown).rows][-1] == ["3", "new", "ann"]
    assert parse_sheet(grown).rows[-1].line == new_line


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("a,b\n1,x\n2,y\n3,z\n", 3, "a,b\n1,x\n3,z\n"),  # a middle row: the rows below move up
        ("a,b\r\n1,x\r\n2,y", 3, "a,b\r\n1,x"),  # the last row of a file without a final newline
        ("a,b\n1,x\n2,y\n", 3, "a,b\n1,x\n"),  # the last row of a file with one
        ('a,b\n1,"two\nlines"\n2,y\n', 2, "a,b\n2,y\n"),  # a record over two lines
        ("\ufeffa,b\n1,x\n", 2, "\ufeffa,b\n"),  # the only row: the BOM and the header stay
    ],
)
def test_a_deleted_row_takes_only_its_own_bytes(text: str, line: int, expected: str) -> None:
    sheet = parse_sheet(text.encode("utf-8"))
    out = sheet.without_row(line)
    assert out.text().encode("utf-8") == expected.encode("utf-8")
    assert [r.line for r in out.rows] == [r.line for r in parse_sheet(expected.encode("utf-8")).rows]
    with pytest.raises(KeyError):
        sheet.without_row(99)


# --- the form and the lists --------------------------------------------------------------------------------


def test_the_form_follows_the_codebook(bench: Workbench) -> None:
    form = bench.form()
    fields = {f["name"]: f for f in form["fields"]}
    codebook = bench.dataset.codebook
    assert [f["name"] for f in form["fields"]] == codebook.field_names
    assert {n for n, f in fields.items() if f["derived"]} == set(codebook.derived_fields) - {"event_id_cnty"}
    assert fields["event_id_cnty"]["written_by_tool"] is True
    assert fields["actor1"]["kind"] == "actor"
    assert fields["location"]["kind"] == "place"
    assert [o["value"] for o in fields["event_type"]["options"]] == codebook.vocabulary_values("event_types.event_type")
    assert fields["time_precision"]["options"][0] == {"value": "1", "label": "1 – Day"}
    subs = codebook.vocabulary("sub_event_types")
    for event_type, children in form["sub_event_types"].items():
        assert children == subs.loc[subs["event_type"] == event_type, "sub_event_type"].tolist()


def test_actors_and_places_are_looked_up_by_alias_date_and_country(bench: Workbench) -> None:
    assert bench.lookup("actor", "US forces", "2019-10-27")["known"] == [
        "Military Forces of the United States (2017-2021)"
    ]
    assert bench.lookup("actor", "US forces", "2022-02-03")["known"] == ["Military Forces of the United States (2021-)"]
    inactive = bench.lookup("actor", "Military Forces of Syria (2024-)", "2022-02-03")
    assert inactive["known"] == []
    assert inactive["elsewhere"] == ["Military Forces of Syria (2024-)"]
    assert bench.lookup("actor", "Islamic Stat (Syria)", "2022-02-03")["did_you_mean"][0] == "Islamic State (Syria)"
    assert bench.lookup("place", "Atma", country="Syria")["known"] == ["Atmeh"]
    assert bench.lookup("place", "Atmeh", country="Iraq")["elsewhere"] == ["Atmeh"]
    assert bench.lookup("place", "Barishaa", country="Syria")["did_you_mean"][0] == "Barisha"


# --- live checks -------------------------------------------------------------------------------------------


def test_a_row_is_checked_by_the_validate_pipeline_on_its_field(bench: Workbench) -> None:
    checked = bench.check(SHEET, None, atmeh(fatalities="many", actor2="Islamic Stat (Syria)", evidence="not quoted"))
    found = {(p["column"], p["code"]) for p in checked.problems}
    assert found == {("fatalities", "type-error"), ("actor2", "unknown-actor"), ("evidence", "evidence-not-found")}
    assert checked.line == 14  # appended after the seed sheet's 12 rows
    assert all(p["severity"] == "error" for p in checked.problems)
    clean = bench.check(SHEET, None, atmeh())
    assert clean.problems == []
    assert (clean.derived["inter1"], clean.derived["admin1"], clean.derived["latitude"]) == ("8", "Idlib", "36.2119")
    assert clean.derived["interaction"] == "28"


# --- saving ------------------------------------------------------------------------------------------------


def test_a_saved_row_passes_validate_and_keeps_the_other_rows_byte_identical(bench: Workbench) -> None:
    path = bench.sheets_dir / SHEET
    before = path.read_bytes()
    state = bench.sheet_state(SHEET)
    saved = bench.save(SHEET, None, atmeh(), base_hash=state["hash"], coder="maintainers")
    after = path.read_bytes()
    assert after.startswith(before)
    assert after[len(before) :].count(b"\n") == 1
    assert saved.hash == content_hash(after)
    assert saved.line == 14
    assert not saved.with_errors
    assert validate_project(bench.dataset.root).report.valid

    edited = bench.save(SHEET, 14, atmeh(fatalities="12"), base_hash=saved.hash, coder="maintainers")
    rows = read_rows(path)
    assert rows[-1]["fatalities"] == "12"
    assert len(rows) == 13
    assert path.read_bytes()[: len(before)] == before
    assert edited.line == 14


def test_a_sheet_changed_on_disk_is_never_overwritten(bench: Workbench) -> None:
    path = bench.sheets_dir / SHEET
    loaded = bench.sheet_state(SHEET)["hash"]
    outside = path.read_bytes().replace(b"Unknown news outlet", b"Al Jazeera", 1)
    path.write_bytes(outside)  # a spreadsheet saved the sheet meanwhile
    with pytest.raises(SheetChanged, match="changed on disk after you loaded it") as refused:
        bench.save(SHEET, None, atmeh(), base_hash=loaded, coder="maintainers")
    assert refused.value.status == 409
    assert path.read_bytes() == outside
    reloaded = bench.sheet_state(SHEET)["hash"]
    bench.save(SHEET, None, atmeh(), base_hash=reloaded, coder="maintainers")
    assert path.read_bytes().startswith(outside)


def test_a_coder_deletes_an_unreleased_row_and_the_sheet_is_as_before(bench: Workbench) -> None:
    path = bench.sheets_dir / SHEET
    before = path.read_bytes()
    saved = bench.save(SHEET, None, atmeh(), base_hash=bench.sheet_state(SHEET)["hash"], coder="maintainers")
    with pytest.raises(NotYourSheet):
        bench.delete(SHEET, saved.line, base_hash=saved.hash, coder="someone else")
    with pytest.raises(SheetChanged):
        bench.delete(SHEET, saved.line, base_hash=content_hash(before), coder="maintainers")
    deleted = bench.delete(SHEET, saved.line, base_hash=saved.hash, coder="maintainers")
    assert path.read_bytes() == before
    assert (deleted.line, deleted.hash, deleted.event_id, deleted.lines) == (14, content_hash(before), None, 1)
    assert validate_project(bench.dataset.root).report.valid


def test_a_released_event_is_not_deleted_from_the_workbench(bench: Workbench) -> None:
    path = bench.sheets_dir / SHEET
    before = path.read_bytes()
    first = read_rows(SEED_SHEET)[0]["event_id_cnty"]
    released = bench.dataset.dist_dir / "1.1.0"
    shutil.copytree(REPO / "dist-data" / "eventdata-seeds" / "1.1.0", released)
    try:
        with pytest.raises(Blocked, match=rf"{first} is in release 1\.1\.0.*seeds/deletions\.csv") as refused:
            bench.delete(SHEET, 2, base_hash=content_hash(before), coder="maintainers")
    finally:
        shutil.rmtree(released)
    assert refused.value.status == 422
    assert path.read_bytes() == before


def test_an_edited_codebook_is_taken_up_without_a_restart_and_a_broken_one_is_not(tmp_path: Path) -> None:
    root = copy_dataset(tmp_path / "dataset", seed_sheet_only=True).root
    bench = Workbench(Dataset.open(root))
    client = create_app(bench).test_client()
    headers = {REQUEST_HEADER: "1"}
    new_actor = atmeh(actor2="Hurras al-Din")
    body = {"sheet": SHEET, "line": None, "values": new_actor}

    first = client.post("/api/check", json=body, headers=headers)
    assert "unknown-actor" in [p["code"] for p in first.get_json()["problems"]]
    seen = first.headers[INPUTS_HEADER]

    actors = root / "schemas" / "actors.csv"
    listed = actors.read_text(encoding="utf-8")
    actors.write_text(listed + "Hurras al-Din,2,Syria,2018-02-27,,,An al-Qaeda affiliate in Idlib.\n", encoding="utf-8")
    second = client.post("/api/check", json=body, headers=headers)
    assert "unknown-actor" not in [p["code"] for p in second.get_json()["problems"]]
    assert second.headers[INPUTS_HEADER] != seen
    assert INPUTS_PROBLEM_HEADER not in second.headers

    (root / "schemas" / "dataset.json").write_text("{ not json", encoding="utf-8")
    broken = client.post("/api/check", json=body, headers=headers)
    assert broken.status_code == 200  # checked with the codebook the workbench had
    assert "unknown-actor" not in [p["code"] for p in broken.get_json()["problems"]]
    assert "dataset.json" in urllib.parse.unquote(broken.headers[INPUTS_PROBLEM_HEADER])
    assert bench.inputs_problem is not None


@pytest.mark.slow
def test_concurrent_saves_lose_no_row(bench: Workbench) -> None:
    """Eight coders' windows save at once; each refused save reloads and saves again, as the page does."""
    errors: list[BaseException] = []

    def save_one(n: int) -> None:
        try:
            for _ in range(50):
                state = bench.sheet_state(SHEET)
                try:
                    bench.save(SHEET, None, atmeh(notes=f"event {n}"), base_hash=state["hash"], coder="maintainers")
                    return
                except SheetChanged:
                    continue
            raise AssertionError(f"save {n} never went through")
        except BaseException as err:  # noqa: BLE001  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=save_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    notes = [r["notes"] for r in read_rows(bench.sheets_dir / SHEET)]
    assert sorted(n for n in notes if n.startswith("event ")) == [f"event {n}" for n in range(8)]

    # Two windows that loaded the same sheet: the second save is refused, not merged over the first.
    state = bench.sheet_state(SHEET)
    bench.save(SHEET, None, atmeh(notes="first window"), base_hash=state["hash"], coder="maintainers")
    with pytest.raises(SheetChanged):
        bench.save(SHEET, None, atmeh(notes="second window"), base_hash=state["hash"], coder="maintainers")


def test_a_bad_value_is_not_saved_unless_the_coder_says_so(bench: Workbench) -> None:
    path = bench.sheets_dir / SHEET
    before = path.read_bytes()
    state = bench.sheet_state(SHEET)
    with pytest.raises(Blocked, match=r"fails 1 blocking check\(s\) \(type-error\)") as refused:
        bench.save(SHEET, None, atmeh(fatalities="thirteen"), base_hash=state["hash"], coder="maintainers")
    assert [p["code"] for p in refused.value.problems] == ["type-error"]
    assert path.read_bytes() == before
    saved = bench.save(
        SHEET, None, atmeh(fatalities="thirteen"), base_hash=state["hash"], coder="maintainers", accept_errors=True
    )
    assert saved.with_errors
    problems = validate_project(bench.dataset.root).report.problems
    assert [(p.line, p.column, p.code) for p in problems if p.severity == "error"] == [(14, "fatalities", "type-error")]


def test_a_sheet_belongs_to_one_coder(bench: Workbench) -> None:
    state = bench.sheet_state(SHEET)
    assert state["coders"] == ["maintainers"]
    with pytest.raises(NotYourSheet, match="is coded by maintainers"):
        bench.save(SHEET, None, atmeh(), base_hash=state["hash"], coder="A. Coder")
    with pytest.raises(WorkbenchError, match="say who is coding"):
        bench.save(SHEET, None, atmeh(), base_hash=state["hash"], coder=" ")
    own = bench.coder_sheet(SEED_ARTICLE, "A. Coder")
    assert own["name"] == f"{SEED_ARTICLE}.a-coder.csv"
    assert own["hash"] is None
    saved = bench.save(own["name"], None, atmeh(coder="someone else"), base_hash=None, coder="A. Coder")
    assert read_rows(bench.sheets_dir / own["name"])[0]["coder"] == "A. Coder"  # the coder is who codes
    assert bench.coder_sheet(SEED_ARTICLE, "A. Coder")["hash"] == saved.hash
    assert bench.coder_sheet(SEED_ARTICLE, "maintainers")["name"] == SHEET
    assert validate_project(bench.dataset.root).report.valid  # two coders of one event: two sheets, both valid


def test_an_interrupted_save_leaves_the_sheet_as_it_was(bench: Workbench, monkeypatch: pytest.MonkeyPatch) -> None:
    path = bench.sheets_dir / SHEET
    before = path.read_bytes()

    def dies_midway(target: Path, data: bytes | str) -> None:
        temporary = target.with_name(f".{target.name}.partial")
        temporary.write_bytes(data[:100] if isinstance(data, bytes) else data[:100].encode())
        temporary.unlink()
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(workbench_module, "write_atomic", dies_midway)
    with pytest.raises(OSError, match="No space"):
        bench.save(SHEET, None, atmeh(), base_hash=bench.sheet_state(SHEET)["hash"], coder="maintainers")
    assert path.read_bytes() == before
    assert sorted(p.name for p in bench.sheets_dir.iterdir()) == [SHEET]


# --- the web API -------------------------------------------------------------------------------------------


def test_the_api_checks_saves_and_refuses_with_status_codes(bench: Workbench) -> None:
    client = create_app(bench).test_client()
    headers = {REQUEST_HEADER: "1"}
    article = client.get(f"/api/articles/{SEED_ARTICLE}?coder=maintainers").get_json()
    assert len(article["events"]) == 12
    assert article["sheet"]["name"] == SHEET
    assert "Atmeh" in article["text"]

    checked = client.post(
        "/api/check", json={"sheet": SHEET, "line": None, "values": atmeh(fatalities="-1")}, headers=headers
    )
    assert checked.status_code == 200
    assert [(p["column"], p["code"]) for p in checked.get_json()["problems"]] == [("fatalities", "minimum-error")]

    body = {"sheet": SHEET, "line": None, "values": atmeh(), "coder": "maintainers", "base_hash": "0" * 64}
    assert client.post("/api/save", json=body).status_code == 403  # not from the page
    refused = client.post("/api/save", json=body, headers=headers)
    assert refused.status_code == 409
    assert "changed on disk" in refused.get_json()["error"]
    body["base_hash"] = article["sheet"]["hash"]
    saved = client.post("/api/save", json=body, headers=headers)
    assert saved.status_code == 200
    assert saved.get_json()["line"] == 14
    removal = {"sheet": SHEET, "line": 2, "coder": "maintainers", "base_hash": saved.get_json()["hash"]}
    assert client.post("/api/delete", json={**removal, "coder": ""}, headers=headers).status_code == 400
    removal["line"] = 14
    deleted = client.post("/api/delete", json=removal, headers=headers)
    assert deleted.status_code == 200
    assert deleted.get_json() == {
        "sheet": SHEET,
        "line": 14,
        "hash": article["sheet"]["hash"],
        "event_id": None,
        "lines": 1,
    }
    assert client.post("/api/delete", json={**removal, "line": None}, headers=headers).status_code == 400
    assert client.get("/api/form", headers={"Host": "attacker.example:8765"}).status_code == 403
    assert client.post("/api/check", json={"sheet": "../x.csv", "values": {}}, headers=headers).status_code == 400
    assert client.get("/api/articles/nope").status_code == 404
    assert b"eventdata workbench" in client.get("/").data


@pytest.mark.slow
def test_eventdata_serve_listens_on_loopback_and_says_so(dataset_root: Path) -> None:
    command = [sys.executable, "-m", "eventdata", "--project", str(dataset_root), "serve", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            url = process.stdout.readline().strip()
            note = process.stderr.readline()
            assert url.startswith("http://127.0.0.1:")
            assert url.endswith("/")
            assert "loopback only" in note
            with urllib.request.urlopen(url + "api/articles", timeout=30) as response:
                assert SEED_ARTICLE in response.read().decode()
        finally:
            process.terminate()
            process.wait(30)


def test_serve_names_a_port_in_use(dataset_root: Path, tmp_path: Path) -> None:
    import socket

    from click.testing import CliRunner

    from eventdata.cli import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--project", str(dataset_root), "serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output


def test_a_double_coded_article_is_coded_blind_in_the_double_coding_layout(bench: Workbench) -> None:
    seeds = bench.dataset.project.seeds_dir
    (seeds / "assignments.csv").write_text(
        f"article_id,coder\n{SEED_ARTICLE},A. Coder\n{SEED_ARTICLE},B. Coder\n", encoding="utf-8"
    )
    try:
        assert bench.double_coded(SEED_ARTICLE)
        article = bench.article(SEED_ARTICLE, "A. Coder")
        assert article["double_coded"] is True
        assert article["sheet"]["name"] == f"double/{SEED_ARTICLE}/A.-Coder.csv"
        assert article["events"] == []  # the seed sheet's events are not shown to a double coder
        saved = bench.save(article["sheet"]["name"], None, atmeh(), base_hash=None, coder="A. Coder")
        path = seeds / "double" / SEED_ARTICLE / "A.-Coder.csv"
        assert read_rows(path)[0]["coder"] == "A. Coder"
        assert saved.line == 2
        other = bench.article(SEED_ARTICLE, "B. Coder")
        assert other["events"] == []  # blind: B does not see A's event
        assert [e["sheet"] for e in bench.article(SEED_ARTICLE, "A. Coder")["events"]] == [saved.sheet]
        with pytest.raises(NotYourSheet):
            bench.save(saved.sheet, None, atmeh(), base_hash=saved.hash, coder="B. Coder")
        with pytest.raises(WorkbenchError, match="is not a sheet name"):
            bench.sheet_path("double/../../x.csv")
    finally:
        (seeds / "assignments.csv").unlink()
        shutil.rmtree(seeds / "double", ignore_errors=True)


def test_serve_without_the_extra_says_how_to_install_it(dataset_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from eventdata.cli import cli

    monkeypatch.delitem(sys.modules, "eventdata.serve.app", raising=False)
    monkeypatch.setitem(sys.modules, "flask", None)  # as if Flask were not installed
    result = CliRunner().invoke(cli, ["--project", str(dataset_root), "serve"])
    assert result.exit_code == 2
    assert "pip install 'eventdata[serve]'" in result.output
    assert "flask is not installed" in result.output

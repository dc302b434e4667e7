"""Adjudication of double coding, the agreement table in a release, and the release gate."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from eventdata.cli import cli
from eventdata.project import Project
from tests.test_agreement import ARTICLE, double_coded

DECISIONS = {
    ("1", "event_date"): "2022-02-03",
    ("1", "geo_precision"): "1",
    ("1", "fatalities"): "13",
    ("2", "fatalities"): "0",
    ("5", "geo_precision"): "1",
    ("6", "location"): "Al-Hasakah - Ghweran",
    ("12", "event"): "keep",
    ("13", "event"): "drop",
}


def run(project: Project, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--project", str(project.root), *args])
    return result.exit_code, result.output


def decide(project: Project, decisions: dict[tuple[str, str], str], who: str = "Chief Editor") -> None:
    path = project.seeds_dir / "adjudication" / f"{ARTICLE}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        decision = decisions.get((row["unit"], row["field"]))
        if decision is not None:
            row["decision"], row["adjudicator"] = decision, who
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def adjudicated(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = double_coded(tmp_path_factory.mktemp("adjudicated") / "dataset")
    code, output = run(project, "adjudicate")
    assert code == 0, output
    decide(project, DECISIONS)
    code, output = run(project, "adjudicate")
    assert code == 0, output
    return project


@pytest.mark.slow
def test_adjudication_sheet_lists_each_differing_value_with_both_coders(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    code, output = run(project, "validate")
    assert code == 0, output
    assert "[adjudication-pending] warning:" in output
    code, output = run(project, "adjudicate")
    assert code == 0, output
    assert "8 of 8 undecided" in output
    sheet = pd.read_csv(project.seeds_dir / "adjudication" / f"{ARTICLE}.csv", dtype=str, keep_default_na=False)
    assert {(u, f) for u, f in zip(sheet["unit"], sheet["field"], strict=True)} == set(DECISIONS)
    fatalities = sheet[(sheet["unit"] == "1") & (sheet["field"] == "fatalities")].iloc[0]
    assert (fatalities["coder_1"], fatalities["value_1"]) == ("Amira Haddad", "13")
    assert (fatalities["coder_2"], fatalities["value_2"]) == ("Ben Okafor", "10")
    assert "left 13 people dead" in fatalities["evidence_1"]
    assert not (project.sheets_dir / f"{ARTICLE}.csv").exists()  # nothing is built before every row is decided
    decide(project, dict(list(DECISIONS.items())[:3]))
    code, output = run(project, "adjudicate")
    assert "5 of 8 undecided" in output  # decisions already made are kept


@pytest.mark.slow
def test_adjudicated_values_become_the_rows_and_the_decisions_are_kept(adjudicated: Project) -> None:
    sheet = pd.read_csv(adjudicated.sheets_dir / f"{ARTICLE}.csv", dtype=str, keep_default_na=False)
    assert len(sheet) == 12  # 11 matched, SYR13's event kept, Ben's extra event dropped
    assert sheet.loc[0, "fatalities"] == "13"
    assert sheet.loc[0, "event_date"] == "2022-02-03"
    assert sheet.loc[1, "coder"] == "Amira Haddad; Ben Okafor"
    assert sheet.loc[11, "location"] == "Barisha"
    record = pd.read_csv(adjudicated.seeds_dir / "adjudication" / f"{ARTICLE}.csv", dtype=str, keep_default_na=False)
    assert set(record["adjudicator"]) == {"Chief Editor"}
    code, output = run(adjudicated, "validate")
    assert code == 0, output
    assert "adjudication-pending" not in output


@pytest.mark.slow
def test_release_holds_the_agreement_table_and_verifies(tmp_path: Path, adjudicated: Project) -> None:
    project = Project(tmp_path / "copy")
    shutil.copytree(adjudicated.root, project.root)
    code, output = run(project, "release", "--date", "2026-12-01")
    assert code == 0, output
    package = project.dist_dir / "eventdata-seeds" / "1.0.0"
    fields = pd.read_csv(package / "agreement" / "fields.csv")
    assert list(fields.columns[:3]) == ["field", "level", "alpha"]
    agreement = json.loads(run(project, "agreement", "--json")[1])
    expected = {f["field"]: f["alpha"] for f in agreement["fields"]}
    written = {f: None if pd.isna(a) else float(a) for f, a in zip(fields["field"], fields["alpha"], strict=True)}
    assert written == expected
    detection = pd.read_csv(package / "agreement" / "detection.csv")
    assert detection.loc[0, "f1"] == pytest.approx(0.917)
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert [f["name"] for f in resources["agreement-fields"]["schema"]["fields"]][:3] == ["field", "level", "alpha"]
    assert resources["agreement-detection"]["path"] == "agreement/detection.csv"
    assert "Agreement between coders" in (package / "report.html").read_text(encoding="utf-8")
    events = pq.read_table(package / "data" / "events.parquet").to_pandas()
    assert len(events) == 12
    code, output = run(project, "verify")
    assert code == 0, output
    # A row edited by hand after adjudication is not built.
    sheet = project.sheets_dir / f"{ARTICLE}.csv"
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    frame.loc[3, "fatalities"] = "7"
    frame.to_csv(sheet, index=False)
    code, output = run(project, "validate")
    assert code == 1
    assert f"{ARTICLE}.csv:5: article_id='{ARTICLE}' [unadjudicated-row]" in output


@pytest.mark.slow
def test_gate_below_threshold_refuses_the_release(tmp_path: Path, adjudicated: Project) -> None:
    project = Project(tmp_path / "copy")
    shutil.copytree(adjudicated.root, project.root)
    dataset_json = project.schemas_dir / "dataset.json"
    data = json.loads(dataset_json.read_text(encoding="utf-8"))
    data["agreement"] = {"gate": {"event_type": 0.8, "fatalities": 0.8, "actor1": 0.8}}
    dataset_json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, output = run(project, "release", "--date", "2026-12-01")
    assert code == 1
    assert "agreement.gate.fatalities='0.630' [agreement-below-gate]" in output
    assert "gate.event_type" not in output  # every coder agrees on it
    assert "gate.actor1" not in output
    assert not (project.dist_dir / "eventdata-seeds" / "1.0.0").exists()
    data["agreement"] = {"gate": {"fatalities": 0.6}}
    dataset_json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, output = run(project, "release", "--date", "2026-12-01")
    assert code == 0, output


@pytest.mark.slow
def test_gate_naming_an_unknown_field_is_a_codebook_error(tmp_path: Path, adjudicated: Project) -> None:
    project = Project(tmp_path / "copy")
    shutil.copytree(adjudicated.root, project.root)
    dataset_json = project.schemas_dir / "dataset.json"
    data = json.loads(dataset_json.read_text(encoding="utf-8"))
    data["agreement"] = {"gate": {"notes": 0.8}}
    dataset_json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, output = run(project, "release", "--date", "2026-12-01")
    assert code == 2
    assert "agreement.gate names 'notes', which is not a compared field" in output


def _decision_rows(project: Project) -> list[dict[str, str]]:
    path = project.seeds_dir / "adjudication" / f"{ARTICLE}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _line_of(project: Project, unit: str, field: str) -> int:
    rows = _decision_rows(project)
    return 2 + next(i for i, r in enumerate(rows) if (r["unit"], r["field"]) == (unit, field))


@pytest.mark.slow
def test_a_decision_the_codebook_refuses_is_located_and_nothing_is_written(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    code, output = run(project, "adjudicate")
    assert code == 0, output
    name = f"seeds/adjudication/{ARTICLE}.csv"
    decide(project, DECISIONS | {("12", "event"): "maybe"})
    code, output = run(project, "adjudicate")
    assert code == 1, output
    assert f"{name}:{_line_of(project, '12', 'event')}: decision='maybe' [enum-error]" in output
    decide(project, DECISIONS | {("1", "fatalities"): "banana", ("5", "geo_precision"): "9"})
    sheet = project.seeds_dir / "adjudication" / f"{ARTICLE}.csv"
    before = sheet.read_bytes()
    code, output = run(project, "adjudicate")
    assert code == 1, output
    assert f"{name}:{_line_of(project, '1', 'fatalities')}: decision='banana' [type-error]" in output
    assert f"{name}:{_line_of(project, '5', 'geo_precision')}: decision='9'" in output
    assert "Nothing was written" in output
    assert sheet.read_bytes() == before  # the decisions on file are kept as they are
    assert not (project.sheets_dir / f"{ARTICLE}.csv").exists()  # no row is built from a refused decision
    code, output = run(project, "validate")
    assert code == 1, output  # validation reports the same decisions
    assert f"{name}:{_line_of(project, '1', 'fatalities')}: decision='banana' [type-error]" in output
    decide(project, DECISIONS)
    code, output = run(project, "adjudicate")
    assert code == 0, output
    assert (project.sheets_dir / f"{ARTICLE}.csv").is_file()


@pytest.mark.slow
def test_a_difference_decided_twice_or_a_lost_column_is_an_error(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    assert run(project, "adjudicate")[0] == 0
    decide(project, DECISIONS)
    path = project.seeds_dir / "adjudication" / f"{ARTICLE}.csv"
    rows = _decision_rows(project)
    line = _line_of(project, "1", "fatalities")
    twice = dict(rows[line - 2], decision="10")
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n").writerow(twice)
    code, output = run(project, "adjudicate")
    assert code == 1, output
    assert f":{len(rows) + 2}: decision='10' [unique-error]" in output
    assert f"line {line}" in output
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["decision"]).iloc[: len(rows)]
    frame.to_csv(path, index=False)
    code, output = run(project, "adjudicate")
    assert code == 1, output
    assert f"seeds/adjudication/{ARTICLE}.csv:1: decision [missing-column]" in output
    assert "decision" not in pd.read_csv(path, nrows=0).columns  # the file is not rewritten without its decisions


@pytest.mark.slow
def test_a_doubled_column_is_named_and_a_coder_added_later_does_not_block(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    assert run(project, "adjudicate")[0] == 0
    path = project.seeds_dir / "adjudication" / f"{ARTICLE}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",decision", *(line + "," for line in lines[1:])]) + "\n", encoding="utf-8")
    code, output = run(project, "adjudicate")
    assert code == 1, output
    assert f"seeds/adjudication/{ARTICLE}.csv:1: decision [duplicate-column]" in output
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    folder = project.seeds_dir / "double" / ARTICLE
    third = pd.read_csv(folder / "amira-haddad.csv", dtype=str, keep_default_na=False).assign(coder="Chen Wei")
    third.to_csv(folder / "chen-wei.csv", index=False)
    code, output = run(project, "adjudicate")  # the sheet of two coders is written anew for three
    assert code == 0, output
    assert "value_3" in pd.read_csv(path, nrows=0).columns


@pytest.mark.slow
def test_decisions_follow_their_difference_when_a_coder_sheet_gains_a_line(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    assert run(project, "adjudicate")[0] == 0
    decide(project, DECISIONS)
    code, output = run(project, "adjudicate")
    assert code == 0, output
    built = (project.sheets_dir / f"{ARTICLE}.csv").read_bytes()
    before = {(r["unit"], r["field"]): (r["event"], r["decision"]) for r in _decision_rows(project)}
    ben = project.seeds_dir / "double" / ARTICLE / "ben-okafor.csv"
    header, *rows = ben.read_text(encoding="utf-8").splitlines()
    ben.write_text("\n".join([header, "", *rows]) + "\n", encoding="utf-8")  # every row of Ben's one line down
    code, output = run(project, "adjudicate")
    assert code == 0, output
    assert "undecided" not in output  # every decision kept
    decided = [r for r in _decision_rows(project) if r["adjudicator"]]
    assert len(decided) == len(DECISIONS)
    after = {(r["unit"], r["field"]): (r["event"], r["decision"]) for r in decided}
    assert {k: d for k, (_, d) in after.items()} == {k: d for k, (_, d) in before.items()}
    moved = [k for k in after if after[k][0] != before[k][0]]
    assert moved
    assert all("Ben Okafor line" in after[k][0] for k in moved)  # the lines shown are the new ones
    assert (project.sheets_dir / f"{ARTICLE}.csv").read_bytes() == built


@pytest.mark.slow
def test_a_decision_whose_difference_is_gone_is_kept_aside_and_named(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    amira = project.seeds_dir / "double" / ARTICLE / "amira-haddad.csv"
    quoted = pd.read_csv(amira, dtype=str, keep_default_na=False)
    quoted["evidence"] = quoted["evidence"].str.replace(" ", "\n", n=1)  # cells of two lines: lines are not rows
    quoted.to_csv(amira, index=False)
    assert run(project, "adjudicate")[0] == 0
    decide(project, DECISIONS)
    assert run(project, "adjudicate")[0] == 0
    ben = project.seeds_dir / "double" / ARTICLE / "ben-okafor.csv"
    frame = pd.read_csv(ben, dtype=str, keep_default_na=False)
    frame.loc[1, "fatalities"] = "4"  # unit 2's fatalities: Ben's 3 becomes 4, a new difference
    frame.to_csv(ben, index=False)
    code, output = run(project, "adjudicate")
    assert code == 0, output
    rows = _decision_rows(project)
    aside = [r for r in rows if not r["unit"]]
    assert [(r["field"], r["value_2"], r["decision"]) for r in aside] == [("fatalities", "3", "0")]
    from eventdata.adjudicate import read_decision_lines

    line = read_decision_lines(project.seeds_dir / "adjudication" / f"{ARTICLE}.csv")[2][-1][0]  # the last row's
    assert line > len(rows) + 1  # its line counts the line breaks inside the cells above it
    assert f"seeds/adjudication/{ARTICLE}.csv:{line}: decision='0' [adjudication-pending] warning:" in output
    assert "1 of 8 undecided" in output  # the new difference of unit 2 waits for a decision
    sheet = (project.seeds_dir / "adjudication" / f"{ARTICLE}.csv").read_bytes()
    code, output = run(project, "adjudicate")
    assert code == 0, output
    assert (project.seeds_dir / "adjudication" / f"{ARTICLE}.csv").read_bytes() == sheet  # kept, run after run
    assert f":{line}: decision='0' [adjudication-pending] warning:" in output


def _row(unit: str, event: str, field: str, values: tuple[str, str], decision: str = "") -> dict[str, str]:
    return {
        "unit": unit, "event": event, "field": field, "coder_1": "A", "value_1": values[0], "coder_2": "B",
        "value_2": values[1], "decision": decision, "adjudicator": "C" if decision else "", "note": "",
    }  # fmt: skip


def test_decisions_match_exactly_first_and_by_content_only_when_that_is_unique() -> None:
    from eventdata.adjudicate import ArticleSheet, match_decisions

    day = "2022-02-03 Battles at Idlib"
    sheet = ArticleSheet(
        "a",
        ["A", "B"],
        [
            _row("1", f"{day} (A line 3, B line 4)", "fatalities", ("2", "3")),
            _row("2", "2022-02-04 Riots at Idlib (A line 5, B line 6)", "location", ("Checkpoint line 4", "Gate")),
        ],
    )
    records = [
        (2, _row("1", f"{day} (A line 2, B line 3)", "fatalities", ("2", "3"), "3")),  # lines moved: the same
        (
            3,
            _row(
                "2", "2022-02-04 Riots at Idlib (A line 5, B line 6)", "location", ("Checkpoint line 1", "Gate"), "Gate"
            ),
        ),  # fmt: skip  # a value changed (its own text says "line"): another difference
    ]
    matched, gone = match_decisions(sheet, records)
    assert {i: [line for line, _ in found] for i, found in matched.items()} == {0: [2]}
    assert [line for line, _ in gone] == [3]
    twice = [*records[:1], (4, _row("9", f"{day} (A line 9, B line 9)", "fatalities", ("2", "3"), "2"))]
    matched, gone = match_decisions(sheet, twice)  # two rows on file could be unit 1: neither is taken for it
    assert matched == {}
    assert [line for line, _ in gone] == [2, 4]

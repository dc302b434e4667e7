"""Duplicate candidates: the matcher measured on planted re-reports, and duplicate_of in deletions."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from eventdata.duplicates import (
    DEFAULT_THRESHOLD,
    WEIGHTS,
    against_competitors,
    duplicate_of_schema,
    find_candidates,
    with_duplicate_of,
)
from eventdata.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.generate_events import duplicate_events, hard_re_reports  # noqa: E402


@pytest.fixture(scope="module")
def labelled() -> tuple[object, set[frozenset[str]], dict[str, str]]:
    return duplicate_events(20_000, seed=7)


def _measured(candidates: pd.DataFrame, truth: set[frozenset[str]], threshold: float) -> tuple[float, float]:
    above = candidates[candidates["score"] >= threshold]
    found = {frozenset(p) for p in zip(above["event_a"], above["event_b"], strict=True)}
    return len(found & truth) / len(found), len(found & truth) / len(truth)


def test_matcher_precision_and_recall_on_planted_re_reports(labelled: tuple) -> None:  # type: ignore[type-arg]
    events, truth, aliases = labelled
    candidates = find_candidates(events, threshold=0.3, aliases=aliases)
    # Measured on seed 7, held out (the weights were fitted on seeds 1 and 2), generator version 3:
    #   threshold 0.3: precision 0.884, recall 0.880; 0.5 (default): 0.934, 0.841; 0.8: 0.975, 0.716.
    #   The goal 0.95 / 0.9 is not reached: a campaign's days are in different articles, a re-report dated a day off
    #   inside a campaign is told from the neighbouring day's event only by its notes (12% of re-reports have
    #   notes without specifics); the matcher finds 33% of those hard pairs at 0.3, 25% at 0.5.
    precision, recall = _measured(candidates, truth, DEFAULT_THRESHOLD)
    assert precision >= 0.925
    assert recall >= 0.83
    precision, recall = _measured(candidates, truth, 0.3)
    assert precision >= 0.87
    assert recall >= 0.87
    precision, recall = _measured(candidates, truth, 0.8)
    assert precision >= 0.97
    assert recall >= 0.70
    hard = hard_re_reports(events, truth)
    found = {frozenset(p) for p in zip(candidates["event_a"], candidates["event_b"], strict=True)}
    assert len(hard) > 150
    assert len(found & hard) / len(hard) >= 0.30  # recall at 0.3 on the re-reports dated on another campaign day
    assert all(a != b for a, b in zip(candidates["event_a"], candidates["event_b"], strict=True))
    assert candidates["reasons"].str.contains("km apart").all()
    assert candidates["reasons"].str.contains("notes alike").any()
    assert candidates["reasons"].str.contains("competing candidates").any()
    assert candidates["reasons"].str.contains("another candidate's notes are closer").any()
    assert candidates["reasons"].str.contains("same place, actors and sub-event type 1 day apart").any()
    assert candidates["reasons"].str.contains("no other event of that place, actors and sub-event type").any()


def test_matcher_held_out_quality_does_not_regress() -> None:
    # 8,000 events of seed 8 (held out; weights fitted on seeds 1 and 2), about a second: precision 0.937 and
    # recall 0.850 at the default threshold (0.913, 0.773 before alone_in_setting; 0.888, 0.733 before the
    # same-setting and outmatched-notes reasons).
    events, truth, aliases = duplicate_events(8_000, seed=8)
    candidates = find_candidates(events, aliases=aliases, reasons=False)
    precision, recall = _measured(candidates, truth, DEFAULT_THRESHOLD)
    assert precision >= 0.925
    assert recall >= 0.83


def test_competing_candidates_lower_a_pair_among_many_alike() -> None:
    # Event 0 has candidates 1 and 2, equally alike; event 3's only candidate is 4.
    i, j = np.array([0, 0, 3]), np.array([1, 2, 4])
    score, rivals = against_competitors(5, i, j, np.array([0.8, 0.8, 0.8]))
    assert score[0] == score[1] < 0.8
    assert score[2] == pytest.approx(0.8)  # alone: as scored
    assert rivals.tolist() == pytest.approx([4.0, 4.0, 0.0])  # the other pair's odds, 0.8 / 0.2


def test_reports_of_one_event_do_not_compete_with_each_other() -> None:
    # Three reports of one event, every pair alike: a candidate of one that is the other's event too is no rival.
    i, j = np.array([0, 0, 1]), np.array([1, 2, 2])
    score, rivals = against_competitors(3, i, j, np.array([0.8, 0.8, 0.8]))
    assert rivals.tolist() == pytest.approx([0.8, 0.8, 0.8])  # odds 4 of the third pair, times 1 - 0.8
    lone_rival, _ = against_competitors(4, np.array([0, 0]), np.array([1, 3]), np.array([0.8, 0.8]))
    assert (score > lone_rival[0]).all()


def _campaign() -> pd.DataFrame:
    """Three daily events of one campaign (article A) and a second article's report of the middle one, dated on
    the third day; only the notes say which one it reports."""
    notes = [
        "On {} March 2024, Group X shelled Group Y near a school in Kafr (Ariha, Idleb) using mortars. 2 killed.",
        "On {} March 2024, Group X shelled Group Y near the bakery in Kafr (Ariha, Idleb) using rockets. 3 killed.",
        "On {} March 2024, Group X shelled Group Y near the mosque in Kafr (Ariha, Idleb) using drones. 4 killed.",
        "On {} March 2024, Group X shelled Group Y near the bakery in Kafr (Ariha, Idleb) using rockets. 3 killed.",
    ]  # the report's notes say what the second day's do; worded otherwise (cosine 0.69) the same day wins, 0.64 to 0.32
    return pd.DataFrame(
        {
            "event_id_cnty": ["SYR1", "SYR2", "SYR3", "SYR9"],
            "article_id": ["A", "A", "A", "B"],
            "country": "Syria",
            "event_date": ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-03"],
            "latitude": 35.8,
            "longitude": 36.6,
            "admin1": "Idleb",
            "admin2": "Ariha",
            "location": "Kafr",
            "event_type": "Explosions/Remote violence",
            "sub_event_type": "Shelling/artillery/missile attack",
            "actor1": "Group X",
            "actor2": "Group Y",
            "fatalities": [3, 3, 3, 3],
            "notes": [n.format(d) for n, d in zip(notes, [1, 2, 3, 3], strict=True)],
        }
    )


def test_the_notes_tell_a_re_report_from_the_next_days_event() -> None:
    events = _campaign()
    candidates = find_candidates(events, threshold=0.0)
    assert {frozenset(p) for p in zip(candidates["event_a"], candidates["event_b"], strict=True)} == {
        frozenset(("SYR2", "SYR9"))
    }  # one-to-one: SYR9 matches one event of article A, the one its notes describe, though dated a day off
    assert "notes alike" in candidates.at[0, "reasons"]  # words beyond the coded fields: bakery, rockets
    without_notes = find_candidates(events.drop(columns="notes"), threshold=0.0)
    assert set(without_notes["event_a"]) == {"SYR3"}  # without notes the same day wins: the hard case


def test_a_lone_pair_of_one_setting_is_told_from_a_campaigns_days() -> None:
    # Article A's single report and article B's report of it a day later: nothing else happened there.
    lone = _campaign().iloc[[1, 3]].assign(notes=None)
    pair = find_candidates(lone, threshold=0.0)
    assert "no other event of that place, actors and sub-event type within 3 days" in pair.at[0, "reasons"]
    # The same two reports with the campaign's other days beside them: not alone, and less likely one event.
    campaign = find_candidates(_campaign().assign(notes=None), threshold=0.0)
    assert not campaign["reasons"].str.contains("no other event of that place").any()
    alone_score = pair.at[0, "score"]
    assert WEIGHTS["alone_in_setting"] > 0
    assert (campaign["score"] < alone_score).all()
    # A third event of that setting four days after the later one is outside the window: still alone.
    later = _campaign().iloc[[1]].assign(event_id_cnty="SYR7", event_date="2024-03-07", notes=None)
    far = find_candidates(pd.concat([lone, later]), threshold=0.0)
    pair_again = far[(far["event_a"] == "SYR2") & (far["event_b"] == "SYR9")]
    assert "no other event of that place" in pair_again["reasons"].iloc[0]


def test_one_event_matches_at_most_one_event_of_another_article() -> None:
    events = pd.concat([_campaign(), _campaign().iloc[[3]].assign(event_id_cnty="SYR8", article_id="C")])
    candidates = find_candidates(events, threshold=0.0, reasons=False)
    pairs = list(zip(candidates["event_a"], candidates["event_b"], strict=True))
    per_article: dict[tuple[str, str], int] = {}
    article = dict(zip(events["event_id_cnty"], events["article_id"], strict=True))
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            per_article[(x, article[y])] = per_article.get((x, article[y]), 0) + 1
    assert max(per_article.values()) == 1
    assert ("SYR8", "SYR9") in pairs  # two re-reports of one event in two other articles match each other too


def test_fatalities_agreement_is_graded_equal_close_far() -> None:
    assert WEIGHTS["same_fatalities"] > WEIGHTS["close_fatalities"] > WEIGHTS["other_fatalities"]
    events = _campaign().iloc[[1, 3]]
    scores = [
        find_candidates(events.assign(fatalities=[3, f]), threshold=0.0, reasons=False)["score"].iloc[0]
        for f in (3, 4, 20)
    ]
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.slow
def test_aliases_are_resolved(labelled: tuple) -> None:  # type: ignore[type-arg]
    events, truth, aliases = labelled
    without = find_candidates(events, threshold=DEFAULT_THRESHOLD, aliases=None, reasons=False)
    with_aliases = find_candidates(events, threshold=DEFAULT_THRESHOLD, aliases=aliases, reasons=False)
    recall = [
        len({frozenset(p) for p in zip(c["event_a"], c["event_b"], strict=True)} & truth)
        for c in (without, with_aliases)
    ]
    assert recall[1] > recall[0]


def test_deleted_duplicate_names_the_event_it_duplicates(tmp_path: Path) -> None:
    project = Project(tmp_path)
    (tmp_path / "seeds").mkdir()
    deleted = pa.table({"event_id_cnty": ["SYR5", "SYR9"], "reason": ["duplicate", "coding error"]})
    assert with_duplicate_of(deleted, project) is deleted  # no seeds/duplicates.csv: the table as it was
    (tmp_path / "seeds" / "duplicates.csv").write_text(
        "event_a,event_b,score,reasons,decision,coder,note\nSYR2,SYR5,0.9,,duplicate,A,\nSYR3,SYR9,0.7,,distinct,A,\n",
        encoding="utf-8",
    )
    marked = with_duplicate_of(deleted, project)
    assert marked.column("duplicate_of").to_pylist() == ["SYR2", None]
    resources = [{"name": "changes-deleted", "schema": {"fields": [{"name": "event_id_cnty"}]}}]
    assert duplicate_of_schema(resources, marked)[0]["schema"]["fields"][-1]["name"] == "duplicate_of"


@pytest.mark.slow
def test_a_re_report_is_found_marked_and_its_deletion_names_the_event(tmp_path: Path) -> None:
    import json

    import pandas as pd
    from click.testing import CliRunner

    from eventdata.cli import cli
    from tests.conftest import copy_dataset

    project = copy_dataset(tmp_path / "dataset", seed_sheet_only=True)
    text = tmp_path / "second.txt"
    passage = "A second outlet said 12 people died when US forces raided a house in Atmeh on 3 February 2022."
    text.write_text(passage + "\n", encoding="utf-8")

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--project", str(project.root), *args])
        return result.exit_code, result.output

    code, output = run("add-article", str(text), "--title", "t", "--publisher", "p", "--published", "2022-02-04")
    assert code == 0, output
    article = output.strip().splitlines()[-1]
    seed = pd.read_csv(next(iter(project.sheet_paths())), dtype=str, keep_default_na=False)
    again = seed.loc[[0]].assign(event_id_cnty="", article_id=article, evidence=passage, fatalities="12")
    again["actor1"] = "US troops"  # an alias of schemas/actors.csv, resolved to the canonical name
    again.to_csv(project.sheets_dir / "second.csv", index=False)
    code, output = run("release", "--date", "2026-12-01")
    assert code == 0, output
    code, output = run("duplicates", "--json")
    assert code == 0, output
    candidates = json.loads(output[output.index("{") :])["candidates"]
    new_id = pd.read_csv(project.sheets_dir / "second.csv", dtype=str)["event_id_cnty"].iloc[0]
    pair = next(c for c in candidates if new_id in (c["event_a"], c["event_b"]))
    assert {pair["event_a"], pair["event_b"]} == {"SYR1", new_id}
    assert "same sub event type" in pair["reasons"]
    assert "same actors" in pair["reasons"]
    code, output = run("duplicates", "--write")
    assert code == 0, output
    marks = pd.read_csv(project.seeds_dir / "duplicates.csv", dtype=str, keep_default_na=False)
    marks["decision"] = [
        "duplicate" if {a, b} == {"SYR1", new_id} else "distinct"
        for a, b in zip(marks["event_a"], marks["event_b"], strict=True)
    ]
    marks.to_csv(project.seeds_dir / "duplicates.csv", index=False)
    (project.sheets_dir / "second.csv").write_text(",".join(seed.columns) + "\n", encoding="utf-8")
    with (project.seeds_dir / "deletions.csv").open("a", encoding="utf-8") as handle:
        handle.write(f'{new_id},"Duplicate of SYR1 (seeds/duplicates.csv)"\n')
    code, output = run("release", "--date", "2026-12-02")
    assert code == 0, output
    latest = json.loads((project.dist_dir / "eventdata-seeds" / "catalog.json").read_text(encoding="utf-8"))["latest"]
    deleted = pd.read_csv(project.dist_dir / "eventdata-seeds" / latest / "changes" / "deleted.csv", dtype=str)
    assert deleted.set_index("event_id_cnty").at[new_id, "duplicate_of"] == "SYR1"
    first = pd.read_csv(project.dist_dir / "eventdata-seeds" / "1.0.0" / "changes" / "deleted.csv", dtype=str)
    assert "duplicate_of" not in first.columns
    code, output = run("verify")
    assert code == 0, output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["seeds/duplicates.csv: [empty-file]"]),
        (b"event_a,event_b\xff\n", ["seeds/duplicates.csv:1: [encoding-error]"]),
        ("event_a,score\n", ["seeds/duplicates.csv:1: event_b [missing-column]", ":1: decision [missing-column]"]),
        (
            "event_a,event_b,score,reasons,decision,coder,note\n"
            "SYR1,SYR1,0.9,,duplicate,A,\n"
            "SYR1,SYR2,2,,duplicate,A,\n"
            "SYR2,SYR1,0.5,,distinct,A,\n"
            "SYR1,XYZ99,nan,,maybe,A,\n"
            "SYR3,,0.5,,,,\n",
            [
                "seeds/duplicates.csv:2: event_b='SYR1' [unique-error] event_b is event_a",
                "seeds/duplicates.csv:3: score='2' [maximum-error]",
                "seeds/duplicates.csv:4: event_b='SYR1' [unique-error] the pair SYR2 / SYR1 is already listed on "
                "line 3 with the decision 'duplicate', and here 'distinct'",
                "seeds/duplicates.csv:5: decision='maybe' [enum-error]",
                "seeds/duplicates.csv:5: event_b='XYZ99' [unregistered-id]",
                "seeds/duplicates.csv:5: score='nan' [type-error]",
                "seeds/duplicates.csv:6: event_b='' [required-error]",
            ],
        ),
    ],
    ids=["empty", "not-utf8", "missing-columns", "bad-rows"],
)
def test_a_damaged_duplicates_file_is_located_by_every_command_that_reads_it(
    tmp_path: Path, text: str | bytes, expected: list[str]
) -> None:
    from click.testing import CliRunner

    from eventdata.cli import cli
    from tests.conftest import copy_dataset

    project = copy_dataset(tmp_path / "dataset")
    path = project.seeds_dir / "duplicates.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    releases = sorted(str(p.relative_to(project.root)) for p in project.dist_dir.rglob("*"))
    for command in (["validate"], ["duplicates"], ["release", "--date", "2026-12-01"]):
        result = CliRunner().invoke(cli, ["--project", str(project.root), *command])
        assert result.exit_code == 1, (command, result.output)
        for message in expected:
            assert message in result.output, (command, result.output)
    assert sorted(str(p.relative_to(project.root)) for p in project.dist_dir.rglob("*")) == releases  # none released
    assert path.read_bytes() == (text if isinstance(text, bytes) else text.encode())


def test_a_score_option_that_is_not_a_number_from_0_to_1_is_a_usage_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eventdata.cli import cli

    for value in ("nan", "-0.5", "1.5"):
        result = CliRunner().invoke(cli, ["--project", str(tmp_path), "duplicates", "--threshold", value])
        assert result.exit_code == 2, result.output
        assert "--threshold" in result.output


def test_new_candidates_are_written_in_the_columns_of_the_file(tmp_path: Path) -> None:
    import pandas as pd

    from eventdata.duplicates import append_candidates, read_decision_rows

    project = Project(tmp_path)
    (tmp_path / "seeds").mkdir()
    path = tmp_path / "seeds" / "duplicates.csv"
    path.write_text(
        "event_a,event_b,checked_on,decision,score,reasons,coder,note\nSYR1,SYR2,2026-12-01,distinct,,,A,\n"
    )
    fresh = pd.DataFrame({"event_a": ["SYR3"], "event_b": ["SYR4"], "score": [0.75], "reasons": ["same day"]})
    assert append_candidates(fresh, project) == 1
    rows, problems = read_decision_rows(path)
    assert problems == []
    assert rows[-1] == (
        3,
        {"event_a": "SYR3", "event_b": "SYR4", "checked_on": "", "decision": "", "score": "0.750",
         "reasons": "same day", "coder": "", "note": ""},
    )  # fmt: skip


def test_new_candidates_follow_a_header_after_blank_lines(tmp_path: Path) -> None:
    import pandas as pd

    from eventdata.duplicates import append_candidates, read_decision_rows

    project = Project(tmp_path)
    (tmp_path / "seeds").mkdir()
    path = tmp_path / "seeds" / "duplicates.csv"
    path.write_text("\n\nevent_a,event_b,score,reasons,decision,coder,note\nSYR1,SYR2,,,distinct,A,\n")
    fresh = pd.DataFrame({"event_a": ["SYR3"], "event_b": ["SYR4"], "score": [0.5], "reasons": ["same day"]})
    assert append_candidates(fresh, project) == 1
    assert append_candidates(fresh, project) == 0  # listed now: not added again
    rows, problems = read_decision_rows(path)
    assert problems == []
    assert [(r["event_a"], r["event_b"]) for _, r in rows] == [("SYR1", "SYR2"), ("SYR3", "SYR4")]

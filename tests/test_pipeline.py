"""eventdata.pipeline: the state's distinct values are found once and never outlive the column's data; concurrent
checks find what they would in order."""

from __future__ import annotations

import threading
import time
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from eventdata import pipeline
from eventdata.pipeline import Findings, References, State, Step, run_steps
from eventdata.schema import load_codebook
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN
from tests.conftest import REPO

MAPPING = {"Battles": "Political violence", "Protests": "Demonstrations", "Riots": 7}


def state_of(frame: pd.DataFrame) -> State:
    frame[SHEET_COLUMN] = "seeds/sheets/a.csv"
    frame[LINE_COLUMN] = range(2, len(frame) + 2)
    return State(frame, frame, load_codebook(REPO / "schemas"), References(), Findings(frame), date(2026, 1, 1))


@pytest.mark.parametrize("dtype", [pd.StringDtype("pyarrow"), object])
def test_mapped_is_series_map(dtype: object) -> None:
    values = ["Battles", None, "Riots", "Strategic developments", "Battles", "Protests", None]
    frame = pd.DataFrame({"event_type": pd.Series(values, dtype=dtype)}, index=range(10, 17))
    state = state_of(frame)

    for _ in range(2):  # the second call answers from the cache
        result = state.mapped("event_type", MAPPING)
        pd.testing.assert_series_equal(result, frame["event_type"].map(MAPPING))


def test_distinct_values_follow_a_changed_column() -> None:
    frame = pd.DataFrame({"event_type": pd.Series(["Battles", "Riots", None], dtype=pd.StringDtype("pyarrow"))})
    state = state_of(frame)
    codes, distinct = state.distinct("event_type")
    assert [distinct.tolist()[c] for c in codes.tolist()][:2] == ["Battles", "Riots"]

    state.events = frame.assign(event_type=pd.Series(["Protests", "Protests", "Riots"], dtype="string[pyarrow]"))
    assert state.mapped("event_type", MAPPING).tolist() == ["Demonstrations", "Demonstrations", 7]

    state.events.loc[0, "event_type"] = "Battles"  # changed in place
    assert state.mapped("event_type", MAPPING).tolist() == ["Political violence", "Demonstrations", 7]


def _flag(code: str, column: str, rows: list[int], pause: float = 0.0) -> Step:
    def check(state: State) -> None:
        time.sleep(pause)  # the first check ends last: its findings still come first
        state.findings.add(np.array(rows), code, column, f"{code} here")

    return Step(code, check, concurrent=True)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"event_type": pd.Series(["Battles", "Riots", None, "Protests"], dtype="string[pyarrow]")})


def test_concurrent_steps_give_the_findings_of_running_them_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    first = Step("first", lambda s: s.findings.add(np.array([0]), "enum-error", "event_type", "first"))
    steps = [first, _flag("type-error", "event_type", [0, 1], pause=0.2), _flag("required-error", "event_type", [1, 2])]
    in_order, at_once = state_of(_frame()), state_of(_frame())
    monkeypatch.setattr(pipeline, "CORES", 1)
    run_steps(steps, in_order)
    monkeypatch.setattr(pipeline, "CORES", 2)
    run_steps(steps, at_once)

    problems = [(p.line, p.code) for p in at_once.findings.problems()]
    assert problems == [(p.line, p.code) for p in in_order.findings.problems()]
    # one problem per cell, the first step's code winning: row 0 (line 2) enum, row 1 type, row 2 required
    assert problems == [(2, "enum-error"), (3, "type-error"), (4, "required-error")]


def test_concurrent_steps_run_at_once_and_a_failing_one_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CORES", 2)
    barrier = threading.Barrier(2, timeout=10)  # each check waits for the other: only threads at once pass

    def meet(state: State) -> None:
        barrier.wait()
        state.findings.add(np.array([3]), "enum-error", "event_type", "met")

    state = state_of(_frame())
    run_steps([Step("a", meet, concurrent=True), Step("b", meet, concurrent=True)], state)
    assert [p.message for p in state.findings.problems()] == ["met", "met"]  # each check ran, and added its finding

    def fail(state: State) -> None:
        raise RuntimeError("a check failed")

    with pytest.raises(RuntimeError, match="a check failed"):
        run_steps([_flag("enum-error", "event_type", [0]), Step("fail", fail, concurrent=True)], state_of(_frame()))


def test_a_concurrent_step_next_to_a_plain_one_runs_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CORES", 2)
    seen: list[str] = []

    def typed(state: State) -> None:
        seen.append("typed")
        state.events = state.events.assign(event_type=state.events["event_type"].str.upper())

    def check(state: State) -> None:
        seen.append(str(state.events["event_type"].iloc[0]))  # the events the step before left

    run_steps(
        [Step("check", check, concurrent=True), Step("typed", typed), Step("again", check, concurrent=True)],
        state_of(_frame()),
    )
    assert seen == ["Battles", "typed", "BATTLES"]


def test_a_concurrent_step_sees_the_findings_before_its_group_and_not_its_neighbours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "CORES", 2)
    seen: dict[str, set[tuple[int, str]]] = {}

    def looks(name: str, pause: float) -> Step:
        def check(state: State) -> None:
            time.sleep(pause)  # the second looks after the first has added its finding
            found = state.findings.found()
            seen[name] = set(zip(found["row"].tolist(), found["code"].tolist(), strict=True))
            state.findings.add(np.array([1]), f"{name}-error", "event_type", name)

        return Step(name, check, concurrent=True)

    first = Step("first", lambda s: s.findings.add(np.array([0]), "enum-error", "event_type", "first"))
    run_steps([first, looks("a", 0.0), looks("b", 0.2)], state_of(_frame()))
    assert seen == {"a": {(0, "enum-error")}, "b": {(0, "enum-error")}}


def _frame_with_numbers() -> pd.DataFrame:
    frame = _frame()
    frame["fatalities"] = pd.array([1, 2, None, 4], dtype="Int64")
    frame["latitude"] = np.array([36.2, 35.1, 34.0, 33.5])  # a numpy column, in a block shared with others
    frame["longitude"] = np.array([36.6, 36.7, 36.8, 36.9])
    return frame


def test_concurrent_steps_that_replace_separate_columns_give_the_events_of_running_them_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def upper(state: State) -> None:
        state.events = state.events.assign(event_type=state.events["event_type"].str.upper())

    def doubled(state: State) -> None:
        out = state.events.copy(deep=False)
        out["fatalities"] = out["fatalities"] * 2
        out["latitude"] = out["latitude"].round(0)
        state.findings.add(np.array([1]), "type-error", "latitude", "rounded")
        state.new_ids = pd.DataFrame(
            {"event_id_cnty": ["SYR9"], SHEET_COLUMN: ["seeds/sheets/a.csv"], LINE_COLUMN: [3]}
        )
        state.events = out

    steps = [Step("upper", upper, concurrent=True), Step("doubled", doubled, concurrent=True)]
    results = {}
    for cores in (1, 2):
        monkeypatch.setattr(pipeline, "CORES", cores)
        state = state_of(_frame_with_numbers())
        run_steps(steps, state)
        results[cores] = state
    pd.testing.assert_frame_equal(results[2].events, results[1].events)
    assert results[2].events["event_type"].tolist()[:2] == ["BATTLES", "RIOTS"]
    assert results[2].events["latitude"].tolist() == [36.0, 35.0, 34.0, 34.0]
    assert results[2].events["longitude"].tolist() == [36.6, 36.7, 36.8, 36.9]  # the block's other column kept
    assert results[2].findings.events is results[2].events  # values shown for later findings are these
    assert results[2].new_ids is not None
    assert results[2].new_ids["event_id_cnty"].tolist() == ["SYR9"]
    assert [p.message for p in results[2].findings.problems()] == ["rounded"]


def test_two_concurrent_steps_replacing_one_column_or_giving_new_ids_are_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CORES", 2)

    def retype(state: State) -> None:
        state.events = state.events.assign(event_type="Riots")

    with pytest.raises(RuntimeError, match="'one' and 'two' both replace event_type"):
        run_steps([Step("one", retype, concurrent=True), Step("two", retype, concurrent=True)], state_of(_frame()))

    def numbered(state: State) -> None:
        state.new_ids = pd.DataFrame({"event_id_cnty": ["SYR9"], SHEET_COLUMN: ["a.csv"], LINE_COLUMN: [2]})

    with pytest.raises(RuntimeError, match="'one' and 'two' both give new ids"):
        run_steps([Step("one", numbered, concurrent=True), Step("two", numbered, concurrent=True)], state_of(_frame()))


def test_concurrent_steps_leave_the_warning_filters_as_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CORES", 2)
    before = list(warnings.filters)

    def leaks(state: State) -> None:
        warnings.simplefilter("ignore")  # as an unlocked catch_warnings in another thread can leave it

    run_steps([Step("leaks", leaks, concurrent=True), _flag("enum-error", "event_type", [0])], state_of(_frame()))
    assert list(warnings.filters) == before

"""eventdata.pipeline: the state's distinct values are found once and never outlive the column's data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from eventdata.pipeline import Findings, References, State
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

"""Double coding: the krippendorff package against Krippendorff's own example, matching, alpha per field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from eventdata.agreement import coder_sheet_path, field_levels, haversine_km, measure
from eventdata.cli import cli
from eventdata.dataset import Dataset
from eventdata.project import Project
from tests.conftest import copy_dataset

ARTICLE = "000_d3eca66359643406"

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units, missing values.
REFERENCE = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_reproduces_the_reference_example(level: str, expected: float) -> None:
    assert round(krippendorff.alpha(reliability_data=REFERENCE, level_of_measurement=level), 3) == expected


def double_coded(root: Path) -> Project:
    """The seed article coded by two coders, Ben with planted disagreements, a missed and an extra event."""
    project = copy_dataset(root)
    seed = project.sheets_dir / f"{ARTICLE}.csv"
    frame = pd.read_csv(seed, dtype=str, keep_default_na=False)
    seed.unlink()
    frame["event_id_cnty"] = ""
    amira, ben = frame.assign(coder="Amira Haddad"), frame.assign(coder="Ben Okafor")
    ben.loc[0, ["event_date", "fatalities", "geo_precision"]] = ["2022-02-02", "10", "2"]
    ben.loc[1, "fatalities"] = "3"
    ben.loc[4, "geo_precision"] = "2"
    ben.loc[5, "location"] = "Atmeh"
    ben.loc[6, "location"] = "Ghweran"  # an alternate name of the same place: no disagreement
    extra = ben.loc[[0]].assign(event_date="2022-02-01", fatalities="2")
    ben = pd.concat([ben.iloc[:11], extra], ignore_index=True)  # misses SYR13, adds an event
    folder = project.seeds_dir / "double" / ARTICLE
    folder.mkdir(parents=True)
    amira.to_csv(folder / "amira-haddad.csv", index=False)
    ben.to_csv(folder / "ben-okafor.csv", index=False)
    return project


@pytest.fixture(scope="module")
def doubled(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return double_coded(tmp_path_factory.mktemp("double") / "dataset")


def test_levels_follow_the_codebook() -> None:
    levels = field_levels(Dataset.open(Path(__file__).parent.parent).codebook)
    expected = {"event_type": "nominal", "actor1": "nominal", "time_precision": "nominal", "fatalities": "ratio",
                "event_date": "interval", "location": "place", "assoc_actor_1": "set", "tags": "set"}  # fmt: skip
    assert {k: levels[k] for k in expected} == expected
    assert not {"notes", "evidence", "coder", "admin1", "event_id_cnty"} & set(levels)


def test_matching_pairs_each_event_with_its_counterpart(doubled: Project) -> None:
    result = measure(doubled, samples=0)
    assert result.coders == ["Amira Haddad", "Ben Okafor"]
    events = result.events
    both = [u for u in result.units if len(u.rows) == 2]
    assert len(both) == 11
    assert len(result.units) == 13
    for unit in both:  # line k of one sheet is line k of the other (the planted rows stay in place)
        lines = {int(events.at[r, "_line"]) for r in unit.rows.values()}
        assert len(lines) == 1
    (detection,) = result.detection
    assert (detection.events_a, detection.events_b, detection.matched) == (12, 12, 11)
    assert detection.f1 == pytest.approx(22 / 24)


def _expected(amira: pd.DataFrame, ben: pd.DataFrame, column: str, level: str, project: Project) -> float:
    """Alpha from the planted sheets directly: the first 11 rows are the matched events."""
    a, b = amira[column].iloc[:11], ben[column].iloc[:11]
    if level == "ratio":
        return float(krippendorff.alpha(np.array([a.astype(float), b.astype(float)]), level_of_measurement="ratio"))
    if level == "interval":
        days = [[pd.Timestamp(v).toordinal() for v in s] for s in (a, b)]
        return float(krippendorff.alpha(np.array(days, dtype=float), level_of_measurement="interval"))
    if level == "place":
        places = pd.read_csv(project.schemas_dir / "places.csv", dtype=str, keep_default_na=False)
        point = {}
        for _, p in places.iterrows():
            for name in [p["location"], *p["alternate_names"].split("; ")]:
                point[name] = (float(p["latitude"]), float(p["longitude"]))
        domain = sorted({point[v] for v in [*a, *b]})
        data = np.array([[domain.index(point[v]) for v in s] for s in (a, b)], dtype=float)
        coords = np.array(domain)

        def metric(v1: np.ndarray, v2: np.ndarray, **_: object) -> np.ndarray:
            p, q = coords[v1.astype(int)], coords[v2.astype(int)]
            return np.asarray(haversine_km(p[..., 0], p[..., 1], q[..., 0], q[..., 1])) ** 2

        return float(
            krippendorff.alpha(data, level_of_measurement=metric, value_domain=np.arange(len(domain), dtype=float))
        )
    domain = sorted(set(a) | set(b))
    data = np.array([[domain.index(v) for v in s] for s in (a, b)], dtype=float)
    return float(krippendorff.alpha(data, level_of_measurement="nominal", value_domain=np.arange(len(domain))))


@pytest.mark.slow
def test_agreement_json_gives_the_package_alpha_per_field(doubled: Project) -> None:
    result = CliRunner().invoke(cli, ["--project", str(doubled.root), "agreement", "--json", "--samples", "200"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    fields = {f["field"]: f for f in payload["fields"]}
    folder = doubled.seeds_dir / "double" / ARTICLE
    amira = pd.read_csv(folder / "amira-haddad.csv", dtype=str, keep_default_na=False)
    ben = pd.read_csv(folder / "ben-okafor.csv", dtype=str, keep_default_na=False)
    checked = {"fatalities": "ratio", "event_date": "interval", "geo_precision": "nominal", "location": "place"}
    for column, level in checked.items():
        expected = _expected(amira, ben, column, level, doubled)
        assert fields[column]["level"] == level
        assert fields[column]["alpha"] == pytest.approx(round(expected, 3), abs=1e-9), column
        assert fields[column]["units"] == 11
        assert fields[column]["ci_low"] <= fields[column]["alpha"] <= fields[column]["ci_high"] or math.isnan(expected)
    assert fields["event_type"]["alpha"] is None  # one value only: no variation to measure against
    assert fields["event_type"]["agreement"] == 1.0
    assert fields["fatalities"]["alpha"] < 0.8
    (detection,) = payload["detection"]
    assert detection["f1"] == round(22 / 24, 3)
    assert detection["matched"] == 11
    assert {r["coder"] for r in payload["by_coder"]} == {"Amira Haddad", "Ben Okafor"}
    months = {r["period"] for r in payload["by_period"]}
    assert months == {"2022-01", "2022-02"}  # SYR13 (2019) is coded by one coder only


def test_agreement_without_double_coding_says_so(project: Project) -> None:
    result = CliRunner().invoke(cli, ["--project", str(project.root), "agreement"])
    assert result.exit_code == 0
    assert "No article is coded by two coders" in result.output


@pytest.mark.slow
def test_agreement_names_errors_of_a_coder_sheet(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    sheet = project.seeds_dir / "double" / ARTICLE / "ben-okafor.csv"
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    frame.loc[2, "event_type"] = "Battle"
    frame.to_csv(sheet, index=False)
    result = CliRunner().invoke(cli, ["--project", str(project.root), "agreement", "--samples", "0"])
    assert result.exit_code == 1
    assert "ben-okafor.csv:4: event_type='Battle' [enum-error]" in result.output


@pytest.mark.slow
def test_assigned_coders_without_a_sheet_are_pending(tmp_path: Path) -> None:
    project = double_coded(tmp_path / "dataset")
    (project.seeds_dir / "assignments.csv").write_text(
        f"article_id,coder\n{ARTICLE},Amira Haddad\n{ARTICLE},Ben Okafor\n{ARTICLE},Chloé Martin\n", encoding="utf-8"
    )
    result = measure(project, samples=0)
    assert result.pending() == [{"article_id": ARTICLE, "sheets": 2, "missing": ["Chloé Martin"]}]
    assert coder_sheet_path(project, ARTICLE, "Chloé Martin").name == "Chloé-Martin.csv"

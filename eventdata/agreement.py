"""Double coding: each coder's sheet of an article, events matched across coders, Krippendorff's alpha per field.

Layout (single coding is unchanged: seeds/sheets/<article>.csv):

- seeds/double/<article_id>/<coder>.csv: one sheet per coder of a double-coded article (the columns of any sheet);
- seeds/assignments.csv (optional): article_id,coder — who is to code which article;
- seeds/adjudication/<article_id>.csv and seeds/sheets/<article_id>.csv: written by `eventdata adjudicate`.

Matching: for one article, every event of one coder is paired with at most one event of another coder by the
Hungarian algorithm on a similarity of date (within MATCH_DAYS), place (same place, or km apart), event type and
actors; a pair below MATCH_THRESHOLD stays unmatched. Unmatched events give event-detection precision, recall and
F1 between coders; matched events (units) give Krippendorff's alpha per field, computed by the `krippendorff`
package at the field's level of measurement, which follows from the codebook (see field_levels).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eventdata import progress
from eventdata.dataset import Dataset
from eventdata.errors import Problem, SchemaFileError
from eventdata.project import Project
from eventdata.schema import Codebook
from eventdata.sources.sheets import SHEET_COLUMN, display_path, read_records

DOUBLE_DIR = "double"
ASSIGNMENTS_FILE = "assignments.csv"
#: Files of a release's agreement resources (eventdata.report reads FIELDS_FILE).
FIELDS_FILE = "agreement/fields.csv"
DETECTION_FILE = "agreement/detection.csv"
MATCH_DAYS = 3
MATCH_THRESHOLD = 0.5
MATCH_PLACE_KM = 50.0
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 11
EARTH_KM = 6371.0088
#: The field a place is named in: it resolves (with the country) to a point of the place list.
PLACE_FIELD = "location"
LEVELS = ("nominal", "set", "interval", "ratio", "place")
FIELDS_COLUMNS = ("field", "level", "alpha", "ci_low", "ci_high", "units", "values", "agreement")
DETECTION_COLUMNS = ("coder_a", "coder_b", "articles", "events_a", "events_b", "matched", "precision", "recall", "f1")


def coder_slug(coder: str) -> str:
    """The file name (without .csv) of a coder's sheet: letters (any script), digits, ".", "_" and "-"."""
    return re.sub(r"[^\w.-]+", "-", coder).strip("-.") or "coder"


@dataclass(frozen=True)
class CoderSheet:
    """One coder's sheet of a double-coded article."""

    article_id: str
    path: Path

    @property
    def slug(self) -> str:
        return self.path.stem


def double_dir(project: Project) -> Path:
    return project.seeds_dir / DOUBLE_DIR


def coder_sheet_path(project: Project, article_id: str, coder: str) -> Path:
    """Where a coder's sheet of a double-coded article goes: seeds/double/<article_id>/<coder>.csv."""
    return double_dir(project) / article_id / f"{coder_slug(coder)}.csv"


def coder_sheets(project: Project) -> dict[str, list[CoderSheet]]:
    """seeds/double/<article_id>/*.csv by article, in a stable order (empty without double coding)."""
    root = double_dir(project)
    if not root.is_dir():
        return {}
    found: dict[str, list[CoderSheet]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sheets = [CoderSheet(folder.name, p) for p in sorted(folder.glob("*.csv"))]
        if sheets:
            found[folder.name] = sheets
    return found


def read_assignments(project: Project) -> dict[str, list[str]]:
    """seeds/assignments.csv (article_id, coder): the coders assigned to each article; empty when absent."""
    path = project.seeds_dir / ASSIGNMENTS_FILE
    if not path.is_file():
        return {}
    assigned: dict[str, list[str]] = {}
    header, rows = read_records(path, SchemaFileError)
    missing = {"article_id", "coder"} - set(header)
    if missing:
        raise SchemaFileError(
            f"{display_path(path)}: the header lacks {', '.join(sorted(missing))}; "
            "it needs the columns article_id,coder (one row per article and coder)."
        )
    article_at, coder_at = header.index("article_id"), header.index("coder")
    for _, cells in rows:
        article, coder = cells[article_at].strip(), cells[coder_at].strip()
        if article and coder and coder not in assigned.setdefault(article, []):
            assigned[article].append(coder)
    return assigned


# --- levels of measurement, from the codebook ------------------------------------------------------------


def field_levels(codebook: Codebook) -> dict[str, str]:
    """Compared field → level: the coder-typed fields, except provenance and free text.

    A multi-value cell (a separator) is a set; a date is interval (days); a number without a vocabulary is ratio;
    the place name is a point (distance in km); a vocabulary, an actor or an enum is nominal.
    """
    typed = set(codebook.sheet_fields)
    levels: dict[str, str] = {}
    for spec in codebook.fields:
        name = str(spec["name"])
        extra = spec.get("eventdata", {})
        if name not in typed or extra.get("derived") or extra.get("role") == "provenance":
            continue
        if extra.get("separator"):
            levels[name] = "set"
        elif spec.get("type") == "date":
            levels[name] = "interval"
        elif spec.get("type") in ("integer", "number") and not extra.get("vocabulary"):
            levels[name] = "ratio"
        elif name == PLACE_FIELD:
            levels[name] = "place"
        elif extra.get("vocabulary") or extra.get("actors") or spec.get("constraints", {}).get("enum"):
            levels[name] = "nominal"
    return levels


def _separator(codebook: Codebook, name: str) -> str:
    return str(codebook.field(name).get("eventdata", {}).get("separator") or "; ")


# --- reading and matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coded:
    """Every coder's rows of the double-coded articles, validated (derived columns filled)."""

    events: pd.DataFrame  # typed rows with _sheet, _line, _coder, _article
    problems: tuple[Problem, ...]
    sheets: dict[str, list[CoderSheet]]


def read_coded(dataset: Dataset) -> Coded:
    """Validate the coder sheets as sheets (no id is given or written) and tag each row with its coder."""
    from eventdata.validate import validate_project  # validate calls into adjudicate, which uses this module

    sheets = coder_sheets(dataset.project)
    paths = [s.path for group in sheets.values() for s in group]
    if not paths:
        return Coded(pd.DataFrame(), (), sheets)
    validation = validate_project(dataset, paths)
    events = validation.events.copy()
    by_name = {display_path(s.path): s for group in sheets.values() for s in group}
    shown = events[SHEET_COLUMN].astype(str)
    events["_article"] = shown.map(lambda s: by_name[s].article_id)
    coder_cells = events["coder"].astype("string").str.strip()
    named: dict[str, str] = {}
    for sheet_name, value in zip(shown, coder_cells, strict=True):
        if isinstance(value, str) and value and sheet_name not in named:
            named[sheet_name] = value
    events["_coder"] = shown.map(lambda s: named.get(s) or by_name[s].slug)
    problems = tuple(p for p in validation.report.problems if p.severity == "error")
    return Coded(events.reset_index(drop=True), problems, sheets)


def cell(events: pd.DataFrame, row: int, column: str) -> Any:
    """One cell of a frame, as the scalar it holds."""
    return events.at[row, column]


def _actor_set(row: pd.Series) -> set[str]:
    return {str(v) for v in (row.get("actor1"), row.get("actor2")) if isinstance(v, str) and v}


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def similarity(a: pd.Series, b: pd.Series) -> float:
    """How alike two coders' events are (0 to 1); 0 when their dates are more than MATCH_DAYS apart."""
    score = 0.0
    if pd.notna(a["event_date"]) and pd.notna(b["event_date"]):
        days = abs((pd.Timestamp(a["event_date"]) - pd.Timestamp(b["event_date"])).days)
        if days > MATCH_DAYS:
            return 0.0
        score += 0.3 * (1 - days / (MATCH_DAYS + 1))
    if pd.notna(a.get("latitude")) and pd.notna(b.get("latitude")):
        km = float(haversine_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"]))
        score += 0.3 * max(0.0, 1 - km / MATCH_PLACE_KM)
    elif str(a.get(PLACE_FIELD) or "").casefold() == str(b.get(PLACE_FIELD) or "").casefold():
        score += 0.3
    if a.get("sub_event_type") == b.get("sub_event_type") and pd.notna(a.get("sub_event_type")):
        score += 0.2
    elif a.get("event_type") == b.get("event_type") and pd.notna(a.get("event_type")):
        score += 0.1
    actors_a, actors_b = _actor_set(a), _actor_set(b)
    if actors_a or actors_b:
        score += 0.2 * len(actors_a & actors_b) / len(actors_a | actors_b)
    return score


@dataclass(frozen=True)
class Unit:
    """One event as several coders coded it: coder → row of Coded.events."""

    article_id: str
    rows: dict[str, int]


def match_article(events: pd.DataFrame, article_id: str, coders: Sequence[str]) -> list[Unit]:
    """Units of one article: each next coder's events matched to the units so far (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment  # imported when matching: every command loads this module

    units: list[dict[str, int]] = []
    rows_of = events  # positional rows: Coded.events has a RangeIndex
    for coder in coders:
        mine = events.index[(events["_article"] == article_id) & (events["_coder"] == coder)].tolist()
        if not units:
            units = [{coder: i} for i in mine]
            continue
        if not mine:
            continue
        scores = np.zeros((len(mine), len(units)))
        for r, i in enumerate(mine):
            for c, unit in enumerate(units):
                scores[r, c] = max(similarity(rows_of.iloc[i], rows_of.iloc[j]) for j in unit.values())
        rows, columns = linear_sum_assignment(-scores)
        taken = set()
        for r, c in zip(rows, columns, strict=True):
            if scores[r, c] >= MATCH_THRESHOLD:
                units[c][coder] = mine[r]
                taken.add(r)
        units.extend({coder: i} for r, i in enumerate(mine) if r not in taken)
    return [Unit(article_id, u) for u in units]


# --- alpha ------------------------------------------------------------------------------------------------


def _jaccard_distance(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return 0.0 if not union else 1 - len(a & b) / len(union)


def distance_metric(matrix: np.ndarray) -> Callable[..., np.ndarray]:
    """A `krippendorff` level of measurement from a matrix of squared distances between coded values."""

    def metric(v1: np.ndarray, v2: np.ndarray, i1: Any, i2: Any, n_v: Any, dtype: Any = np.float64) -> np.ndarray:
        return np.asarray(matrix[v1.astype(int), v2.astype(int)], dtype=dtype)

    return metric


@dataclass(frozen=True)
class FieldData:
    """The reliability data of one field: coders × units, values coded as numbers (NaN: not coded)."""

    field: str
    level: str
    data: np.ndarray
    domain: list[Any]  # the value each code stands for (nominal, set, place); empty for interval and ratio
    measurement: Any  # what krippendorff.alpha takes as level_of_measurement

    def alpha(self, columns: np.ndarray | None = None) -> float:
        data = self.data if columns is None else self.data[:, columns]
        return compute_alpha(data, self.measurement, len(self.domain))


def compute_alpha(data: np.ndarray, measurement: Any, domain_size: int) -> float:
    """krippendorff.alpha, NaN where it is undefined (fewer than two values, or no unit coded twice)."""
    import krippendorff

    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        return math.nan
    data = data[:, pairable]
    kwargs: dict[str, Any] = {"level_of_measurement": measurement}
    if domain_size:
        kwargs["value_domain"] = np.arange(domain_size, dtype=float)
    elif len(np.unique(data[~np.isnan(data)])) < 2:
        return math.nan
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(krippendorff.alpha(reliability_data=data, **kwargs))
    except ValueError:  # one value in the domain: no variation to measure against
        return math.nan


def _cell_value(value: Any, level: str, separator: str) -> Any:
    """A typed cell as the value compared: a frozenset, a day number, a number, a text; None if not coded."""
    if level == "set":
        text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        return frozenset(p.strip() for p in text.split(separator.strip() or separator) if p.strip())
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "" if level == "nominal" else None  # an empty nominal cell is a value: "none"
    if level == "interval":
        return float(pd.Timestamp(value).toordinal())
    if level == "ratio":
        return float(value)
    return str(value)


def field_data(events: pd.DataFrame, units: Sequence[Unit], coders: Sequence[str], name: str, level: str,
               separator: str = "; ") -> FieldData:  # fmt: skip
    """Reliability data of a field over units, with the level's measurement for krippendorff.alpha."""
    index = {c: k for k, c in enumerate(coders)}
    data = np.full((len(coders), len(units)), np.nan)
    domain: list[Any] = []
    codes: dict[Any, int] = {}
    for u, unit in enumerate(units):
        for coder, row in unit.rows.items():
            if level == "place":
                lat, lon = cell(events, row, "latitude"), cell(events, row, "longitude")
                value: Any = None if pd.isna(lat) or pd.isna(lon) else (round(float(lat), 6), round(float(lon), 6))
            else:
                value = _cell_value(cell(events, row, name), level, separator)
            if value is None:
                continue
            if level in ("interval", "ratio"):
                data[index[coder], u] = value
                continue
            if value not in codes:
                codes[value] = len(domain)
                domain.append(value)
            data[index[coder], u] = codes[value]
    measurement: Any = level
    if level == "set":
        measurement = distance_metric(
            np.array([[_jaccard_distance(a, b) for b in domain] for a in domain]).reshape(len(domain), len(domain))
        )
    elif level == "place":
        points = np.array(domain, dtype=float).reshape(len(domain), 2)
        km = haversine_km(points[:, None, 0], points[:, None, 1], points[None, :, 0], points[None, :, 1])
        measurement = distance_metric(np.asarray(km) ** 2)
    return FieldData(name, level, data, domain, measurement)


def _percent_agreement(data: np.ndarray) -> float:
    """Share of units coded twice or more on which every coder gave the same value."""
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        return math.nan
    chosen = data[:, pairable]
    same = np.nanmax(chosen, axis=0) == np.nanmin(chosen, axis=0)
    return float(same.mean())


# --- the whole picture ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldAgreement:
    field: str
    level: str
    alpha: float
    ci_low: float
    ci_high: float
    units: int  # units coded by at least two coders
    values: int  # pairable values
    agreement: float  # share of those units where every coder agrees

    def row(self) -> dict[str, Any]:
        return {k: _rounded(getattr(self, k)) for k in FIELDS_COLUMNS}


@dataclass(frozen=True)
class Detection:
    coder_a: str
    coder_b: str
    articles: int
    events_a: int
    events_b: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.events_b if self.events_b else math.nan

    @property
    def recall(self) -> float:
        return self.matched / self.events_a if self.events_a else math.nan

    @property
    def f1(self) -> float:
        total = self.events_a + self.events_b
        return 2 * self.matched / total if total else math.nan

    def row(self) -> dict[str, Any]:
        return {k: _rounded(getattr(self, k)) for k in DETECTION_COLUMNS}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    return value


@dataclass
class Agreement:
    """Double coding of a dataset: units, per-field alpha with bootstrap intervals, detection F1."""

    coded: Coded
    codebook: Codebook
    coders: list[str]
    units: list[Unit]
    assignments: dict[str, list[str]] = field(default_factory=dict)
    samples: int = BOOTSTRAP_SAMPLES

    @property
    def events(self) -> pd.DataFrame:
        return self.coded.events

    @property
    def articles(self) -> list[str]:
        """Articles coded by at least two coders."""
        return sorted({u.article_id for u in self.units})

    @cached_property
    def levels(self) -> dict[str, str]:
        return field_levels(self.codebook)

    @cached_property
    def data(self) -> dict[str, FieldData]:
        return {
            name: field_data(self.events, self.units, self.coders, name, level, _separator(self.codebook, name))
            for name, level in self.levels.items()
        }

    def _bootstrap(self, values: FieldData) -> tuple[float, float]:
        pairable = np.flatnonzero((~np.isnan(values.data)).sum(axis=0) >= 2)
        if len(pairable) < 2 or self.samples <= 0:
            return math.nan, math.nan
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        draws = [values.alpha(rng.choice(pairable, size=len(pairable))) for _ in range(self.samples)]
        finite = np.array([d for d in draws if not math.isnan(d)])
        if len(finite) == 0:
            return math.nan, math.nan
        low, high = np.percentile(finite, [2.5, 97.5])
        return float(low), float(high)

    @cached_property
    def fields(self) -> list[FieldAgreement]:
        found = []
        for number, (name, values) in enumerate(self.data.items(), start=1):
            progress.step(
                "measuring field", number, len(self.data), detail=f"{name}, {self.samples:,} bootstrap samples"
            )
            pairable = (~np.isnan(values.data)).sum(axis=0)
            low, high = self._bootstrap(values)
            found.append(
                FieldAgreement(
                    name,
                    values.level,
                    values.alpha(),
                    low,
                    high,
                    int((pairable >= 2).sum()),
                    int(pairable[pairable >= 2].sum()),
                    _percent_agreement(values.data),
                )
            )
        return found

    @cached_property
    def detection(self) -> list[Detection]:
        """Event detection of every pair of coders over the articles both coded."""
        found = []
        for i, a in enumerate(self.coders):
            for b in self.coders[i + 1 :]:
                articles = {u.article_id for u in self.units if a in u.rows} & {
                    u.article_id for u in self.units if b in u.rows
                }
                chosen = [u for u in self.units if u.article_id in articles]
                found.append(
                    Detection(
                        a,
                        b,
                        len(articles),
                        sum(a in u.rows for u in chosen),
                        sum(b in u.rows for u in chosen),
                        sum(a in u.rows and b in u.rows for u in chosen),
                    )
                )
        return found

    def by_coder(self) -> list[dict[str, Any]]:
        """Alpha per field over the units each coder coded (that coder's values and the others')."""
        rows = []
        for k, coder in enumerate(self.coders):
            for name, values in self.data.items():
                columns = np.flatnonzero(~np.isnan(values.data[k]))
                units = int(((~np.isnan(values.data[:, columns])).sum(axis=0) >= 2).sum())
                rows.append({"coder": coder, "field": name, "alpha": _rounded(values.alpha(columns)), "units": units})
        return rows

    def unit_periods(self) -> list[str]:
        """The month (YYYY-MM) of each unit: the earliest date its coders gave."""
        periods = []
        for unit in self.units:
            dates = [cell(self.events, r, "event_date") for r in unit.rows.values()]
            known = [pd.Timestamp(d) for d in dates if pd.notna(d)]
            periods.append(min(known).strftime("%Y-%m") if known else "")
        return periods

    def by_period(self) -> list[dict[str, Any]]:
        """Alpha per field and month of the event."""
        periods = np.array(self.unit_periods())
        coded_twice = np.array([len(u.rows) >= 2 for u in self.units], dtype=bool)
        rows = []
        for period in sorted(set(periods[coded_twice]) - {""}):
            columns = np.flatnonzero(periods == period)
            for name, values in self.data.items():
                units = int(((~np.isnan(values.data[:, columns])).sum(axis=0) >= 2).sum())
                rows.append({"period": period, "field": name, "alpha": _rounded(values.alpha(columns)), "units": units})
        return rows

    def pending(self) -> list[dict[str, Any]]:
        """Articles assigned to coders whose sheets are missing, or coded by one coder only."""
        found = []
        names = {a: {s.slug for s in group} for a, group in self.coded.sheets.items()}
        coded_by: dict[str, set[str]] = {}
        if not self.events.empty:
            for article, coder in zip(self.events["_article"], self.events["_coder"], strict=True):
                coded_by.setdefault(str(article), set()).add(str(coder))
        for article in sorted(set(self.assignments) | set(names)):
            have = coded_by.get(article, set()) | names.get(article, set())
            missing = [c for c in self.assignments.get(article, []) if c not in have and coder_slug(c) not in have]
            if missing or len(names.get(article, set())) < 2:
                found.append({"article_id": article, "sheets": len(names.get(article, set())), "missing": missing})
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "coders": self.coders,
            "articles": self.articles,
            "units": len(self.units),
            "matched_units": sum(len(u.rows) >= 2 for u in self.units),
            "matching": {
                "max_days": MATCH_DAYS,
                "threshold": MATCH_THRESHOLD,
                "place_km": MATCH_PLACE_KM,
                "weights": {"date": 0.3, "place": 0.3, "type": 0.2, "actors": 0.2},
            },
            "bootstrap": {"samples": self.samples, "seed": BOOTSTRAP_SEED, "resampled": "units"},
            "fields": [f.row() for f in self.fields],
            "detection": [d.row() for d in self.detection],
            "by_coder": self.by_coder(),
            "by_period": self.by_period(),
            "pending": self.pending(),
            "coder_sheet_errors": len(self.coded.problems),
        }


def measure(dataset: Dataset | Project | str, *, samples: int = BOOTSTRAP_SAMPLES) -> Agreement:
    """Read the coder sheets, match their events and get ready to compute agreement."""
    dataset = Dataset.open(dataset)
    coded = read_coded(dataset)
    units: list[Unit] = []
    coders: list[str] = []
    if not coded.events.empty:
        coders = sorted(set(coded.events["_coder"].astype(str)))
        for number, article in enumerate(coded.sheets, start=1):
            progress.step("matching the events of article", number, len(coded.sheets), detail=article)
            present = sorted(set(coded.events.loc[coded.events["_article"] == article, "_coder"].astype(str)))
            if len(present) >= 2:
                units.extend(match_article(coded.events, article, present))
    return Agreement(coded, dataset.codebook, coders, units, read_assignments(dataset.project), samples)


# --- in a release -----------------------------------------------------------------------------------------

FIELDS_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "field", "type": "string", "description": "The coded column."},
        {"name": "level", "type": "string", "constraints": {"enum": list(LEVELS)},
         "description": "Level of measurement: nominal, set (Jaccard distance), interval (days), ratio, "
                        "place (squared km between the points)."},
        {"name": "alpha", "type": "number", "description": "Krippendorff's alpha over the matched events."},
        {"name": "ci_low", "type": "number", "description": "2.5th percentile of alpha over bootstrap samples."},
        {"name": "ci_high", "type": "number", "description": "97.5th percentile of alpha over bootstrap samples."},
        {"name": "units", "type": "integer", "description": "Matched events coded by at least two coders."},
        {"name": "values", "type": "integer", "description": "Pairable values."},
        {"name": "agreement", "type": "number", "description": "Share of units on which every coder agrees."},
    ],
    "primaryKey": ["field"],
}  # fmt: skip
DETECTION_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "coder_a", "type": "string"},
        {"name": "coder_b", "type": "string"},
        {"name": "articles", "type": "integer", "description": "Articles both coders coded."},
        {"name": "events_a", "type": "integer"},
        {"name": "events_b", "type": "integer"},
        {"name": "matched", "type": "integer", "description": "Events of coder_a matched to one of coder_b."},
        {"name": "precision", "type": "number", "description": "matched / events_b (coder_a as reference)."},
        {"name": "recall", "type": "number", "description": "matched / events_a."},
        {"name": "f1", "type": "number", "description": "2 matched / (events_a + events_b)."},
    ],
    "primaryKey": ["coder_a", "coder_b"],
}


def _csv_text(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(columns)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()


def write_agreement(project: Project, package_dir: Path) -> list[dict[str, Any]]:
    """agreement/fields.csv and detection.csv into a package, with their resources; none without double coding."""
    from eventdata.package import csv_resource

    if not coder_sheets(project):
        return []
    result = measure(project)
    if not result.units:
        return []
    folder = package_dir / "agreement"
    folder.mkdir(parents=True, exist_ok=True)
    fields_path, detection_path = package_dir / FIELDS_FILE, package_dir / DETECTION_FILE
    fields_path.write_text(_csv_text(FIELDS_COLUMNS, (f.row() for f in result.fields)), encoding="utf-8", newline="")
    detection_path.write_text(
        _csv_text(DETECTION_COLUMNS, (d.row() for d in result.detection)), encoding="utf-8", newline=""
    )
    return [
        csv_resource(fields_path, package_dir, "agreement-fields", FIELDS_SCHEMA,
                     "Krippendorff's alpha per field between the coders of double-coded articles."),
        csv_resource(detection_path, package_dir, "agreement-detection", DETECTION_SCHEMA,
                     "Event detection between coders: matched events, precision, recall and F1."),
    ]  # fmt: skip


def gate(codebook: Codebook) -> dict[str, float]:
    """schemas/dataset.json "agreement": {"gate": {field: minimum alpha}}, checked; empty when not set."""
    where = display_path(codebook.path / "dataset.json")
    section = codebook.dataset.get("agreement")
    if section is None:
        return {}
    if not isinstance(section, dict) or not isinstance(section.get("gate", {}), dict):
        raise SchemaFileError(f'{where}: agreement must be an object such as {{"gate": {{"event_type": 0.8}}}}.')
    levels = field_levels(codebook)
    minimums: dict[str, float] = {}
    for name, minimum in section.get("gate", {}).items():
        if name not in levels:
            raise SchemaFileError(
                f"{where}: agreement.gate names {name!r}, which is not a compared field; "
                f"use one of {', '.join(levels)}."
            )
        if isinstance(minimum, bool) or not isinstance(minimum, int | float) or not -1 <= minimum <= 1:
            raise SchemaFileError(f"{where}: agreement.gate.{name}={minimum!r} must be a number from -1 to 1.")
        minimums[name] = float(minimum)
    return minimums


def gate_problems(dataset: Dataset | Project | str) -> list[Problem]:
    """The fields whose alpha is below the gate of schemas/dataset.json (`agreement-below-gate`)."""
    dataset = Dataset.open(dataset)
    minimums = gate(dataset.codebook)
    if not minimums:
        return []
    where = display_path(dataset.codebook.path / "dataset.json")
    result = measure(dataset, samples=0)  # the gate reads alpha itself, not its interval
    found = {f.field: f for f in result.fields} if result.units else {}
    problems = []
    for name, minimum in minimums.items():
        measured = found.get(name)
        if measured is None or measured.units == 0:
            message = (
                f"the release needs alpha >= {minimum} on {name}, and no event is coded by two coders: "
                f"add coder sheets in {display_path(double_dir(dataset.project))}/<article_id>/<coder>.csv."
            )
            problems.append(Problem("agreement-below-gate", message, where, column=f"agreement.gate.{name}"))
        elif math.isnan(measured.alpha):
            if measured.agreement < 1:
                message = f"alpha on {name} cannot be computed (one value only) and coders disagree; gate {minimum}."
                problems.append(Problem("agreement-below-gate", message, where, column=f"agreement.gate.{name}"))
        elif measured.alpha < minimum:
            message = (
                f"Krippendorff's alpha on {name} is {measured.alpha:.3f} over {measured.units} matched events, "
                f"below the gate {minimum}: see `eventdata agreement`, retrain and recode, or lower the gate."
            )
            problems.append(
                Problem("agreement-below-gate", message, where, column=f"agreement.gate.{name}",
                        value=f"{measured.alpha:.3f}")
            )  # fmt: skip
    return problems


def dumps(result: Agreement) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)

"""`eventdata adjudicate`: the values double coders disagree on, as a sheet an adjudicator fills; its decisions
become the article's sheet.

seeds/adjudication/<article_id>.csv has one row per differing value of a matched event (and one `event` row per
event that not every coder coded), with each coder's value and the evidence they quoted. The adjudicator writes
the value to keep in `decision` (keep or drop for an `event` row) and their name in `adjudicator`; a row is decided
when `adjudicator` is filled. Once every row of an article is decided, seeds/sheets/<article_id>.csv is written
from the agreed values and the decisions (event ids kept), and only those rows of the article are built
(rows_to_build, called by validation).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata.agreement import Agreement, Unit, _cell_value, _separator, cell, coder_sheets, measure
from eventdata.dataset import Dataset
from eventdata.errors import Problem, SourceError
from eventdata.files import write_atomic
from eventdata.project import Project
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, display_path, read_records

ADJUDICATION_DIR = "adjudication"
EVENT_FIELD = "event"
KEEP, DROP = "keep", "drop"
ID_FIELD = "event_id_cnty"


def adjudication_path(project: Project, article_id: str) -> Path:
    return project.seeds_dir / ADJUDICATION_DIR / f"{article_id}.csv"


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _compared(result: Agreement, row: int, name: str, level: str) -> Any:
    """The value agreement compares for a cell (a point for the place)."""
    events = result.events
    if level == "place":
        lat, lon = cell(events, row, "latitude"), cell(events, row, "longitude")
        if pd.isna(lat) or pd.isna(lon):
            return ("text", _text(cell(events, row, name)).casefold())
        return (round(float(lat), 6), round(float(lon), 6))
    return _cell_value(cell(events, row, name), level, _separator(result.codebook, name))


def _describe(result: Agreement, unit: Unit) -> str:
    """A unit as the adjudicator recognises it: date, event type, place and each coder's sheet line."""
    first = result.events.loc[next(iter(unit.rows.values()))]
    lines = ", ".join(f"{c} line {int(cell(result.events, r, LINE_COLUMN))}" for c, r in unit.rows.items())
    return f"{_text(first['event_date'])} {_text(first['event_type'])} at {_text(first['location'])} ({lines})"


@dataclass(frozen=True)
class ArticleSheet:
    """The adjudication of one article."""

    article_id: str
    coders: list[str]
    rows: list[dict[str, str]]  # the adjudication sheet's rows

    @property
    def columns(self) -> list[str]:
        slots = [f"{what}_{k}" for k in range(1, len(self.coders) + 1) for what in ("coder", "value", "evidence")]
        return ["unit", "event", "field", *slots, "decision", "adjudicator", "note"]

    @property
    def undecided(self) -> int:
        return sum(1 for r in self.rows if not r.get("adjudicator", "").strip())

    def key(self, row: dict[str, str]) -> tuple[str, ...]:
        values = tuple(row.get(f"value_{k}", "") for k in range(1, len(self.coders) + 1))
        return (row["event"], row["field"], *values)


def article_units(result: Agreement, article_id: str) -> list[Unit]:
    return [u for u in result.units if u.article_id == article_id]


def differences(result: Agreement, article_id: str) -> ArticleSheet:
    """Every differing value of the article's units, and every event not all its coders coded."""
    units = article_units(result, article_id)
    coders = sorted({c for u in units for c in u.rows})
    rows: list[dict[str, str]] = []
    for number, unit in enumerate(units, start=1):
        description = _describe(result, unit)

        def row(name: str, values: dict[str, str], number: int = number, description: str = description,
                unit: Unit = unit) -> None:  # fmt: skip
            cells = {"unit": str(number), "event": description, "field": name}
            for k, coder in enumerate(coders, start=1):
                cells[f"coder_{k}"] = coder
                cells[f"value_{k}"] = values.get(coder, "")
                at = unit.rows.get(coder)
                cells[f"evidence_{k}"] = "" if at is None else _text(cell(result.events, at, "evidence"))
            rows.append(cells | {"decision": "", "adjudicator": "", "note": ""})

        if len(unit.rows) < len(coders):
            row(
                EVENT_FIELD,
                {c: f"coded (line {int(cell(result.events, r, LINE_COLUMN))})" for c, r in unit.rows.items()},
            )
        if len(unit.rows) < 2:
            continue
        for name, level in result.levels.items():
            compared = {c: _compared(result, r, name, level) for c, r in unit.rows.items()}
            if len(set(compared.values())) > 1:
                row(name, {c: _text(cell(result.events, r, name)) for c, r in unit.rows.items()})
    return ArticleSheet(article_id, coders, rows)


def read_decisions(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    return _stripped_rows(path)


def _stripped_rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as header → stripped cell (SourceError, located, for a malformed file or a ragged row)."""
    header, rows = read_records(path, SourceError)
    return [{c: cells[i].strip() for i, c in enumerate(header)} for _, cells in rows]


def with_decisions(sheet: ArticleSheet, decided: list[dict[str, str]]) -> ArticleSheet:
    """The sheet with the decisions already made on the same differences (same event, field and values)."""
    earlier = {sheet.key(r): r for r in decided if r.get("field")}
    rows = []
    for row in sheet.rows:
        before = earlier.get(sheet.key(row))
        if before is not None:
            row = row | {k: before.get(k, "") for k in ("decision", "adjudicator", "note")}
        rows.append(row)
    return ArticleSheet(sheet.article_id, sheet.coders, rows)


def resolved_rows(result: Agreement, sheet: ArticleSheet) -> list[dict[str, str]] | None:
    """The article's rows once every difference is decided (None before): agreed values and decisions."""
    if sheet.undecided:
        return None
    columns = result.codebook.sheet_fields
    decided = {(r["unit"], r["field"]): r["decision"] for r in sheet.rows}
    resolved = []
    for number, unit in enumerate(article_units(result, sheet.article_id), start=1):
        key = str(number)
        if (key, EVENT_FIELD) in decided and decided[(key, EVENT_FIELD)].casefold() != KEEP:
            continue
        first = next(iter(unit.rows.values()))
        cells: dict[str, str] = {}
        for name in columns:
            if name == ID_FIELD:
                cells[name] = ""
            elif (key, name) in decided:
                cells[name] = decided[(key, name)]
            elif name == "coder":
                cells[name] = "; ".join(unit.rows)
            elif name == "evidence":
                quoted = dict.fromkeys(_text(cell(result.events, r, "evidence")) for r in unit.rows.values())
                cells[name] = " ... ".join(q for q in quoted if q)
            elif name == "article_id":
                cells[name] = sheet.article_id
            else:
                cells[name] = _text(cell(result.events, first, name))
        resolved.append(cells)
    return resolved


def _existing_ids(path: Path, resolved: list[dict[str, str]]) -> None:
    """Keep the ids the article's sheet already has: same content first, then the same position."""
    if not path.is_file():
        return
    old = _stripped_rows(path)
    used: set[int] = set()

    def content(row: dict[str, str]) -> tuple[str, ...]:
        return tuple(row.get(k, "") for k in sorted(row) if k != ID_FIELD)

    for row in resolved:
        for i, before in enumerate(old):
            if i not in used and before.get(ID_FIELD) and content(before) == content(row):
                row[ID_FIELD] = before[ID_FIELD]
                used.add(i)
                break
    for position, row in enumerate(resolved):
        if not row[ID_FIELD] and position < len(old) and position not in used and old[position].get(ID_FIELD):
            row[ID_FIELD] = old[position][ID_FIELD]
            used.add(position)


def _csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return True


@dataclass(frozen=True)
class Adjudicated:
    """What `eventdata adjudicate` did for one article."""

    article_id: str
    sheet: Path
    differences: int
    undecided: int
    built: Path | None  # seeds/sheets/<article>.csv, once every difference is decided
    events: int


@dataclass(frozen=True)
class AdjudicationRun:
    articles: list[Adjudicated]
    problems: tuple[Problem, ...]  # errors of the coder sheets: nothing is written while there are any


def adjudicate(dataset: Dataset | Project | str) -> AdjudicationRun:
    """Write each double-coded article's adjudication sheet; write its sheet once every difference is decided."""
    dataset = Dataset.open(dataset)
    result = measure(dataset, samples=0)
    if result.coded.problems:
        return AdjudicationRun([], result.coded.problems)
    done = []
    for article in result.articles:
        path = adjudication_path(dataset.project, article)
        sheet = with_decisions(differences(result, article), read_decisions(path))
        _write_if_changed(path, _csv(sheet.columns, sheet.rows))
        rows = resolved_rows(result, sheet)
        built = None
        if rows is not None:
            built = dataset.project.sheets_dir / f"{article}.csv"
            _existing_ids(built, rows)
            _write_if_changed(built, _csv(result.codebook.sheet_fields, rows))
        done.append(Adjudicated(article, path, len(sheet.rows), sheet.undecided, built, len(rows or [])))
    return AdjudicationRun(done, ())


# --- the hook of validation: only adjudicated (or single-coded) rows are built ------------------------------


def _cells(row: pd.Series, columns: list[str]) -> tuple[str, ...]:
    return tuple(_text(row.get(c)) for c in columns if c != ID_FIELD)


def rows_to_build(raw: pd.DataFrame, dataset: Dataset) -> tuple[pd.DataFrame, list[Problem]]:
    """The sheet rows to build and what is wrong with double coding.

    Without seeds/double/ every row is kept. Rows of a double-coded article are kept only when they are what its
    adjudication gives (`unadjudicated-row` otherwise); an article not yet adjudicated is `adjudication-pending`;
    errors of the coder sheets are reported as the sheets' own problems.
    """
    if not coder_sheets(dataset.project):
        return raw, []
    result = measure(dataset, samples=0)
    problems = list(result.coded.problems)
    columns = dataset.codebook.sheet_fields
    expected: dict[str, Counter[tuple[str, ...]]] = {}
    for article in sorted(result.coded.sheets):
        path = adjudication_path(dataset.project, article)
        rows = None
        if article in result.articles and not result.coded.problems:
            sheet = with_decisions(differences(result, article), read_decisions(path))
            rows = resolved_rows(result, sheet)
        if rows is None:
            problems.append(
                Problem(
                    "adjudication-pending",
                    f"article {article} is double-coded ({display_path(dataset.project.seeds_dir / 'double' / article)}"
                    "/) and not adjudicated: its events are not built until `eventdata adjudicate` has written "
                    f"{display_path(path)} and every row there has an adjudicator.",
                    display_path(path),
                    severity="warning",
                )
            )
            expected[article] = Counter()
        else:
            expected[article] = Counter(_cells(pd.Series(r), columns) for r in rows)
    if raw.empty or "article_id" not in raw.columns:
        return raw, problems
    cited = raw["article_id"].astype("string").str.strip()
    keep = pd.Series(True, index=raw.index)
    for index in raw.index[cited.isin(list(expected)).fillna(False).to_numpy()]:
        row = raw.loc[index]
        article = str(cited[index])
        cells = _cells(row, columns)
        if expected[article][cells] > 0:
            expected[article][cells] -= 1
            continue
        keep[index] = False
        decisions = display_path(adjudication_path(dataset.project, article))
        problems.append(
            Problem(
                "unadjudicated-row",
                f"article {article} is double-coded: its rows come from `eventdata adjudicate` (the coders' "
                f"sheets in seeds/double/{article}/ and the decisions in {decisions}); "
                "this row is not what the adjudication gives, so it is not built. Change the coder sheets or "
                "the decisions and run `eventdata adjudicate` again.",
                str(row[SHEET_COLUMN]),
                int(row[LINE_COLUMN]),
                "article_id",
                article,
            )
        )
    return raw[keep.to_numpy()].reset_index(drop=True), problems


def summary(run: AdjudicationRun) -> list[dict[str, Any]]:
    return [
        {
            "article_id": a.article_id,
            "adjudication_sheet": display_path(a.sheet),
            "differences": a.differences,
            "undecided": a.undecided,
            "sheet": None if a.built is None else display_path(a.built),
            "events": a.events,
        }
        for a in run.articles
    ]

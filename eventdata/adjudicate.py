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
import re
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
from eventdata.sources.sheets import (
    LINE_COLUMN,
    SHEET_COLUMN,
    STRING_DTYPE,
    display_path,
    read_records,
    read_sound_csv,
)

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
        """The difference a row is of: the unit's description, the field and every coder's value."""
        values = tuple(row.get(f"value_{k}", "") for k in range(1, len(self.coders) + 1))
        return (row.get("event", ""), row.get("field", ""), *values)


#: The coders' sheet lines at the end of a unit's description ("… (Amira Haddad line 4, Ben Okafor line 5)") and
#: an `event` row's values ("coded (line 4)"): what a line added above the unit in a coder sheet changes.
DESCRIBED_LINES = re.compile(r" \((?:[^()]* line \d+)(?:, [^()]* line \d+)*\)$")
CODED_LINE = re.compile(r"^coded \(line \d+\)$")


def _without_lines(key: tuple[str, ...]) -> tuple[str, ...]:
    event, field, *values = key
    if field == EVENT_FIELD:
        values = [CODED_LINE.sub("coded", v) for v in values]
    return (DESCRIBED_LINES.sub("", event), field, *values)


def match_decisions(
    sheet: ArticleSheet, records: list[tuple[int, dict[str, str]]]
) -> tuple[dict[int, list[tuple[int, dict[str, str]]]], list[tuple[int, dict[str, str]]]]:
    """The rows on file (line, row) deciding each difference of sheet (by its index in sheet.rows), and the decided
    rows on file that decide none.

    A row decides the difference with the same key; failing that, the one difference with the same key but for the
    coders' sheet lines (a line added above a unit in a coder sheet moves them), when no other row on file and no
    other difference left has that key too."""
    exact: dict[tuple[str, ...], list[tuple[int, dict[str, str]]]] = {}
    for line, row in records:
        if row.get("field"):
            exact.setdefault(sheet.key(row), []).append((line, row))
    matched: dict[int, list[tuple[int, dict[str, str]]]] = {}
    used: set[int] = set()
    for index, row in enumerate(sheet.rows):
        found = exact.get(sheet.key(row))
        if found:
            matched[index] = found
            used.update(line for line, _ in found)
    left = [(i, _without_lines(sheet.key(r))) for i, r in enumerate(sheet.rows) if i not in matched]
    free = [(line, row) for line, row in records if row.get("field") and line not in used]
    on_file = Counter(_without_lines(sheet.key(row)) for _, row in free)
    wanted = Counter(loose for _, loose in left)
    by_loose = {_without_lines(sheet.key(row)): (line, row) for line, row in free}
    for index, loose in left:
        if on_file[loose] == 1 and wanted[loose] == 1:
            matched[index] = [by_loose[loose]]
            used.add(by_loose[loose][0])
    gone = [(line, row) for line, row in free if line not in used and (row.get("decision") or row.get("adjudicator"))]
    return matched, gone


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


def read_decision_lines(path: Path) -> tuple[list[str], int, list[tuple[int, dict[str, str]]]]:
    """An adjudication sheet's header, the line it is on and its rows (line, column → stripped cell); nothing when
    absent. SourceError, located, for a file that is unreadable, not UTF-8, malformed or has a ragged row."""
    if not path.is_file():
        return [], 1, []
    records = read_sound_csv(path, SourceError)
    return records.header, records.header_line, records.dicts()


def read_decisions(path: Path) -> list[dict[str, str]]:
    return [row for _, row in read_decision_lines(path)[2]]


def _stripped_rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as header → stripped cell (SourceError, located, for a malformed file or a ragged row)."""
    header, rows = read_records(path, SourceError)
    return [{c: cells[i].strip() for i, c in enumerate(header)} for _, cells in rows]


def with_decisions(sheet: ArticleSheet, records: list[tuple[int, dict[str, str]]]) -> ArticleSheet:
    """The sheet with the decisions already made on its differences (match_decisions; the last of a difference's
    rows when there are several, which check_adjudication reports when they disagree)."""
    matched, _ = match_decisions(sheet, records)
    rows = []
    for index, row in enumerate(sheet.rows):
        if index in matched:
            before = matched[index][-1][1]
            row = row | {k: before.get(k, "") for k in ("decision", "adjudicator", "note")}
        rows.append(row)
    return ArticleSheet(sheet.article_id, sheet.coders, rows)


def kept_units(result: Agreement, sheet: ArticleSheet) -> list[tuple[str, Unit]]:
    """The article's units (number, unit) that its rows come from: every unit but those decided `drop`."""
    decided = {(r["unit"], r["field"]): r["decision"] for r in sheet.rows}
    units = enumerate(article_units(result, sheet.article_id), start=1)
    return [(str(n), u) for n, u in units if decided.get((str(n), EVENT_FIELD), KEEP).casefold() != DROP]


def resolved_rows(result: Agreement, sheet: ArticleSheet) -> list[dict[str, str]] | None:
    """The article's rows once every difference is decided (None before): agreed values and decisions.

    The decisions are those check_adjudication accepts (an `event` row is keep or drop)."""
    if sheet.undecided:
        return None
    columns = result.codebook.sheet_fields
    decided = {(r["unit"], r["field"]): r["decision"] for r in sheet.rows}
    resolved = []
    for key, unit in kept_units(result, sheet):
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


# --- checking the decisions: nothing is written from a decision the codebook would refuse ----------------------


@dataclass(frozen=True)
class Decided:
    """One article's adjudication as checked: its sheet with the decisions on file, the rows they give (None while
    a row is undecided or a decision is wrong) and what is wrong with the decisions."""

    sheet: ArticleSheet
    path: Path
    rows: list[dict[str, str]] | None
    problems: list[Problem]
    gone: tuple[tuple[int, dict[str, str]], ...] = ()  # decided rows of differences the coder sheets no longer have


def _gone_warning(line: int, row: dict[str, str], name: str) -> Problem:
    return Problem(
        "adjudication-pending",
        f"this decision ({row.get('field', '')} of {row.get('event', '')}: {row['decision']!r}) is of a difference "
        "the coder sheets no longer have (a coder changed a value or an event); it is kept at the end of the sheet, "
        "without a unit: copy it to the unit's row as it is now if it still holds, then delete it.",
        name,
        line,
        "decision",
        row["decision"],
        severity="warning",
    )


def _sheet_problems(
    sheet: ArticleSheet, header: list[str], header_line: int, records: list[tuple[int, dict[str, str]]], name: str
) -> list[Problem]:
    """What is wrong with the decisions of an adjudication sheet as written: a column they are read by missing (the
    decisions would be lost), one difference decided twice in two ways, an event decided neither keep nor drop.

    Only rows that match a difference of the coder sheets count: a row of a difference that is gone is dropped
    when the sheet is written again."""
    if not records:
        return []
    doubled = sorted({c for c in header if header.count(c) > 1})
    if doubled:
        return [
            Problem("duplicate-column", "the header names this column twice; delete one of them.", name, header_line, c)
            for c in doubled
        ]
    listed = 0  # the coders the file was written for (a coder added since makes its rows differences anew)
    while f"coder_{listed + 1}" in header:
        listed += 1
    values = [f"value_{k}" for k in range(1, max(listed, 1) + 1)]
    needed = ["event", "field", *values, "decision", "adjudicator"]
    missing = [c for c in needed if c not in header]
    if missing:
        return [
            Problem(
                "missing-column",
                f"the adjudication sheet lacks this column, so its decisions cannot be read; `eventdata adjudicate` "
                f"writes {', '.join(sheet.columns)}: restore the column.",
                name,
                header_line,
                column,
            )
            for column in missing
        ]
    matched, _ = match_decisions(sheet, records)
    problems: list[Problem] = []
    for index, found in sorted(matched.items()):
        unit, field = sheet.rows[index]["unit"], sheet.rows[index]["field"]
        first, before = found[0][0], found[0][1]["decision"]
        for line, row in found:
            decision = row["decision"]
            if decision != before:
                problems.append(
                    Problem(
                        "unique-error",
                        f"unit {unit}'s {field} is decided on line {first} as {before!r} and here as {decision!r}: "
                        "each difference has one decision; delete one of the rows.",
                        name,
                        line,
                        "decision",
                        decision,
                    )
                )
            if field == EVENT_FIELD and (decision or row["adjudicator"]) and decision.casefold() not in (KEEP, DROP):
                problems.append(
                    Problem(
                        "required-error" if not decision else "enum-error",
                        f"unit {unit} is an event not every coder coded: its decision is {KEEP} (the event is "
                        f"built) or {DROP} (it is not).",
                        name,
                        line,
                        "decision",
                        decision,
                    )
                )
    return sorted(problems, key=Problem.sort_key)


def _value_problems(result: Agreement, dataset: Dataset, decided: dict[str, Decided]) -> dict[str, list[Problem]]:
    """The rows the decisions give, validated as sheet rows (types, vocabularies, ranges, the named rules); each
    error located at the decision it comes from (or the first decision of its event, for a rule across columns)."""
    from eventdata.rules import with_severities
    from eventdata.validate import validate_events  # validation calls into this module (rows_to_build)

    codebook = dataset.codebook
    made: list[tuple[str, int, str]] = []  # article, line of the row as validated, unit
    cells: dict[str, list[str | None]] = {c: [] for c in codebook.field_names}
    for article, checked in decided.items():
        units = [key for key, _ in kept_units(result, checked.sheet)]
        for position, (unit, row) in enumerate(zip(units, checked.rows or [], strict=True), start=2):
            made.append((article, position, unit))
            for column, values in cells.items():
                values.append(row.get(column) or None)
    if not made:
        return {}
    raw = pd.DataFrame({c: pd.Series(v, dtype=STRING_DTYPE) for c, v in cells.items()})
    raw[LINE_COLUMN] = pd.Series([line for _, line, _ in made], dtype="int64")
    raw[SHEET_COLUMN] = pd.Series([article for article, _, _ in made], dtype="string")
    unit_of = {(article, line): unit for article, line, unit in made}
    _, found, _ = validate_events(raw, codebook, dataset.references())
    located: dict[str, list[Problem]] = {}
    for problem in with_severities(found, dataset.severities):
        if problem.severity != "error" or problem.line is None:
            continue
        checked = decided[problem.file]
        unit = unit_of[(problem.file, problem.line)]
        lines = _decision_lines(checked)
        name = display_path(checked.path)
        if problem.column is not None and (unit, problem.column) in lines:
            line, value = lines[(unit, problem.column)]
            moved = Problem(
                problem.code, f"the decision on {problem.column} of unit {unit}: {problem.message}",
                name, line, "decision", value,
            )  # fmt: skip
        else:
            first = min((line for (u, _), (line, _) in lines.items() if u == unit), default=None)
            moved = Problem(
                problem.code,
                f"the event the decisions of unit {unit} give has {problem.column}={problem.value!r}, which the "
                f"codebook refuses: {problem.message}",
                name, first, problem.column, problem.value,
            )  # fmt: skip
        located.setdefault(problem.file, []).append(moved)
    return located


def _decision_lines(checked: Decided) -> dict[tuple[str, str], tuple[int, str]]:
    """(unit, field) → the line of its decision in the adjudication sheet, and the decision."""
    _, _, records = read_decision_lines(checked.path)
    matched, _ = match_decisions(checked.sheet, records)
    return {
        (checked.sheet.rows[i]["unit"], checked.sheet.rows[i]["field"]): (found[-1][0], found[-1][1]["decision"])
        for i, found in matched.items()
    }


def check_adjudication(result: Agreement, dataset: Dataset) -> dict[str, Decided]:
    """Each double-coded article's adjudication, its decisions checked: every problem of every article, read
    before anything is written."""
    decided: dict[str, Decided] = {}
    for article in result.articles:
        path = adjudication_path(dataset.project, article)
        header, header_line, records = read_decision_lines(path)
        fresh = differences(result, article)
        problems = _sheet_problems(fresh, header, header_line, records, display_path(path))
        sheet = with_decisions(fresh, records)
        rows = None if problems else resolved_rows(result, sheet)
        gone = () if problems else tuple(match_decisions(fresh, records)[1])
        decided[article] = Decided(sheet, path, rows, problems, gone)
    complete = {a: d for a, d in decided.items() if d.rows is not None}
    for article, problems in _value_problems(result, dataset, complete).items():
        checked = decided[article]
        decided[article] = Decided(checked.sheet, checked.path, None, [*checked.problems, *problems], checked.gone)
    return decided


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
    problems: tuple[Problem, ...]  # errors of the coder sheets or the decisions: nothing is written while any
    kept_aside: tuple[Problem, ...] = ()  # decisions of differences that are gone, kept at the end of their sheet


def adjudicate(dataset: Dataset | Project | str) -> AdjudicationRun:
    """Write each double-coded article's adjudication sheet; write its sheet once every difference is decided."""
    dataset = Dataset.open(dataset)
    result = measure(dataset, samples=0)
    if result.coded.problems:
        return AdjudicationRun([], result.coded.problems)
    checked = check_adjudication(result, dataset)
    problems = tuple(sorted((p for decided in checked.values() for p in decided.problems), key=Problem.sort_key))
    if problems:
        return AdjudicationRun([], problems)
    done = []
    for article, decided in checked.items():
        path, sheet, rows = decided.path, decided.sheet, decided.rows
        kept = [row | {"unit": ""} for _, row in decided.gone]  # never dropped: the adjudicator's work
        _write_if_changed(path, _csv(sheet.columns, [*sheet.rows, *kept]))
        built = None
        if rows is not None:
            built = dataset.project.sheets_dir / f"{article}.csv"
            _existing_ids(built, rows)
            _write_if_changed(built, _csv(result.codebook.sheet_fields, rows))
        done.append(Adjudicated(article, path, len(sheet.rows), sheet.undecided, built, len(rows or [])))
    kept_aside = []
    for decided in checked.values():  # named at the lines they have in the sheet as written now
        if decided.gone:
            written = read_decision_lines(decided.path)[2][-len(decided.gone) :]
            name = display_path(decided.path)
            pairs = zip(written, decided.gone, strict=True)
            kept_aside += [_gone_warning(line, row, name) for (line, _), (_, row) in pairs]
    return AdjudicationRun(done, (), tuple(kept_aside))


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
    checked = {} if result.coded.problems else check_adjudication(result, dataset)
    problems.extend(p for decided in checked.values() for p in decided.problems)
    for article in sorted(result.coded.sheets):
        path = adjudication_path(dataset.project, article)
        rows = checked[article].rows if article in checked else None
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

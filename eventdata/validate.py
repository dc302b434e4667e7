"""Validation of coding sheets: types, the generated pandera schema, and named cross-field checks.

Bad data is a result, never an exception: every finding becomes a Problem located
at file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from eventdata.derive import DERIVERS, country_iso3
from eventdata.errors import Problem, Report, SourceError
from eventdata.project import Project
from eventdata.schema import PANDAS_DTYPES, Codebook, load_codebook, to_pandera
from eventdata.sources.articles import Article, read_articles
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, closest, display_path, read_sheet

INTEGER = re.compile(r"^[+-]?\d{1,18}$")
NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVIDENCE_SEPARATOR = re.compile(r"\s*(?:\.\.\.|…)\s*")
TYPE_HINTS = {
    "integer": "expected a whole number such as 3",
    "number": "expected a decimal number with a point, such as 36.2119",
    "date": "expected a real date written YYYY-MM-DD, such as 2022-02-03",
}


@dataclass(frozen=True)
class Validation:
    """What validation found, and the parsed events (meaningful only when the report is valid)."""

    report: Report
    events: pd.DataFrame
    articles: dict[str, Article] = field(default_factory=dict)
    codebook: Codebook | None = None


class Findings:
    """Collects problems, locating frame rows by their sheet and line."""

    def __init__(self, events: pd.DataFrame) -> None:
        self.events = events
        self.problems: list[Problem] = []
        self.cells: set[tuple[int, str]] = set()

    def add_rows(
        self,
        mask: pd.Series | np.ndarray,
        code: str,
        column: str,
        message: str | Callable[[pd.Series], str],
    ) -> None:
        """One problem for every row where mask is true; message may depend on the row."""
        selected = self.events[np.asarray(mask, dtype=bool)]
        for index, row in selected.iterrows():
            self.add(int(index), code, column, message(row) if callable(message) else message)  # type: ignore[call-overload]  # index is an int label

    def add(self, index: int, code: str, column: str, message: str, value: Any = None) -> None:
        row = self.events.loc[index]
        shown = value if value is not None else row.get(column)
        self.problems.append(
            Problem(code, message, str(row[SHEET_COLUMN]), int(row[LINE_COLUMN]), column, _text(shown))
        )
        self.cells.add((index, column))


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


# --- parsing -------------------------------------------------------------------------------


def parse_types(raw: pd.DataFrame, codebook: Codebook, findings: Findings) -> pd.DataFrame:
    """Each column converted to its Table Schema type; unreadable cells become missing and a type-error."""
    typed = raw.copy()
    for spec in codebook.fields:
        name, type_ = spec["name"], spec["type"]
        column = raw[name]
        if type_ == "string":
            continue
        present = column.notna()
        if type_ == "integer":
            ok = column.str.fullmatch(INTEGER.pattern).fillna(False).astype(bool)
            parsed = pd.to_numeric(column.where(ok), errors="coerce").astype("Int64")
        elif type_ == "number":
            ok = column.str.fullmatch(NUMBER.pattern).fillna(False).astype(bool)
            parsed = pd.to_numeric(column.where(ok), errors="coerce").astype("Float64")
        else:
            ok = column.str.fullmatch(DATE.pattern).fillna(False).astype(bool)
            parsed = pd.to_datetime(column.where(ok), format="%Y-%m-%d", errors="coerce").astype(PANDAS_DTYPES["date"])
            ok &= parsed.notna()
        bad = present & ~ok
        if bad.any():
            findings.add_rows(bad, "type-error", name, f"{TYPE_HINTS[type_]}.")
        typed[name] = parsed
    return typed


def apply_derivations(events: pd.DataFrame, codebook: Codebook, findings: Findings, timestamp: int) -> pd.DataFrame:
    """Fill derivable columns; where a sheet typed one, it must equal the derived value."""
    derived = events.copy()
    for name in codebook.derived_fields:
        kind = codebook.derivation(name)
        if kind not in DERIVERS:
            continue
        computed = DERIVERS[kind](derived, codebook, timestamp).astype(events[name].dtype)
        given = events[name]
        differs = given.notna() & computed.notna() & (given != computed).fillna(False).astype(bool)
        if differs.any():
            findings.add_rows(
                differs,
                "derived-mismatch",
                name,
                lambda row, n=name, c=computed: (
                    f"the tool derives {_text(c.loc[row.name])!r} from the other columns; "
                    f"leave {n} empty (or delete the column) and the tool fills it."
                ),
            )
        derived[name] = computed.where(computed.notna(), given)
    return derived


# --- pandera -------------------------------------------------------------------------------


def check_with_pandera(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Run the schema generated from the Table Schema and turn its failure cases into problems."""
    generated = to_pandera(codebook)
    frame = events[codebook.field_names]
    try:
        generated.schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return
    seen: dict[tuple[str, str], str] = {}
    rows_with_problems = {index for index, _ in findings.cells}
    derived = set(codebook.derived_fields)
    for case in cases.itertuples(index=False):
        column, check, index = case.column, str(case.check), case.index
        if index is None or pd.isna(index):
            raise RuntimeError(f"pandera reported a failure without a row: {column} {check} {case.failure_case}")
        index = int(index)
        if (index, column) in findings.cells:
            continue  # already reported as a type error
        spec = codebook.field(str(column))
        value = case.failure_case
        if check == "not_nullable":
            if column in derived and index in rows_with_problems:
                continue  # the columns it is derived from are already reported
            findings.add(index, "required-error", column, f"{column} is required. {spec.get('description', '')}".strip())
        elif check == "field_uniqueness":
            key = (str(column), str(value))
            if key not in seen:
                rows = events[events[column] == value]
                seen[key] = ", ".join(f"{s}:{n}" for s, n in zip(rows[SHEET_COLUMN], rows[LINE_COLUMN], strict=True))
            findings.add(index, "unique-error", column, f"{value} is used on several rows ({seen[key]}); each value must be unique.", value)
        elif isinstance(case.check_number, int | np.integer) and (column, int(case.check_number)) in generated.checks:
            info = generated.checks[(column, int(case.check_number))]
            hint = ""
            if info.code == "enum-error":
                allowed = [str(v) for v in spec["constraints"]["enum"]]
                hint = closest(str(value), allowed) or (
                    f" Allowed: {', '.join(allowed)}." if len(allowed) <= 12 else " See the vocabulary in `eventdata codebook`."
                )
            findings.add(index, info.code, column, f"{column} {info.rule}.{hint}", value)
        else:
            findings.add(index, "type-error", column, f"{column} failed {check}.", value)


# --- named cross-field and cross-file checks (CODEBOOK.md, "Checks a tool can enforce") ---------


def _codes(text: str) -> set[int]:
    return {int(v) for v in text.split(";") if v.strip()}


def check_sub_event_type(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """A sub-event type belongs to exactly one event type (check 1)."""
    table = codebook.vocabulary("sub_event_types")
    owner = dict(zip(table["sub_event_type"], table["event_type"], strict=True))
    expected = events["sub_event_type"].map(owner)
    known_type = events["event_type"].isin(set(table["event_type"])).fillna(False).astype(bool)
    bad = expected.notna() & known_type & (expected != events["event_type"]).fillna(False)
    by_type = table.groupby("event_type", sort=False)["sub_event_type"].agg(list).to_dict()
    findings.add_rows(
        bad, "sub-event-type-mismatch", "sub_event_type",
        lambda row: (
            f"{row['sub_event_type']!r} belongs to {owner[row['sub_event_type']]!r}, not {row['event_type']!r}. "
            f"Sub-event types of {row['event_type']}: {', '.join(by_type.get(row['event_type'], []))}."
        ),
    )


def check_actor2_inter2(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """actor2 is empty exactly when inter2 is 0 (check 3)."""
    no_actor2 = events["actor2"].isna()
    zero = (events["inter2"] == 0).fillna(False).astype(bool)
    inter_known = events["inter2"].notna()
    findings.add_rows(no_actor2 & inter_known & ~zero, "actor2-inter2-mismatch", "inter2", "inter2 must be 0 when actor2 is empty; name actor2 or set inter2 to 0.")
    findings.add_rows(~no_actor2 & zero, "actor2-inter2-mismatch", "inter2", "inter2 is 0 but actor2 is named; give actor2's actor type (1-8).")


def check_actor_types(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Each event type admits certain actor types and may need a second actor (checks 4, 5, 7)."""
    table = codebook.vocabulary("event_types").set_index("event_type")
    for event_type, rule in table.iterrows():
        rows = (events["event_type"] == event_type).fillna(False).astype(bool)
        if not rows.any():
            continue
        if rule["actor2"] == "required":
            findings.add_rows(
                rows & events["actor2"].isna(), "actor2-required", "actor2",
                f"{event_type} events need a second actor (actor2); code one-sided events as another event type.",
            )
        for column, allowed_text in (("inter1", rule["inter1"]), ("inter2", rule["inter2"])):
            allowed = _codes(allowed_text)
            values = events[column]
            checked = rows & values.notna()
            if column == "inter2":
                checked &= events["actor2"].notna()
            bad = checked & ~values.isin(allowed).fillna(False).astype(bool)
            findings.add_rows(
                bad, "inter-not-allowed", column,
                f"{event_type} events take {column} in {sorted(allowed)}; see the actor types in the codebook.",
            )


def check_civilian_targeting(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """civilian_targeting only where the sub-event type allows it, and always where it requires it (checks 5, 8)."""
    table = codebook.vocabulary("sub_event_types")
    rule = events["sub_event_type"].map(dict(zip(table["sub_event_type"], table["civilian_targeting"], strict=True)))
    targeted = events["civilian_targeting"].notna()
    never = (rule == "never").fillna(False).astype(bool)
    required = (rule == "required").fillna(False).astype(bool)
    findings.add_rows(never & targeted, "civilian-targeting-rule", "civilian_targeting",
                      lambda row: f"{row['sub_event_type']} events are never coded as civilian targeting; leave it empty.")
    findings.add_rows(required & ~targeted, "civilian-targeting-rule", "civilian_targeting",
                      lambda row: f"{row['sub_event_type']} events target civilians: write 'Civilian targeting'.")


def check_civilians_in_battle(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Civilians are never associated actors in a battle (check 6)."""
    battles = (events["event_type"] == "Battles").fillna(False).astype(bool)
    for column in ("assoc_actor_1", "assoc_actor_2"):
        civilians = events[column].str.contains(r"(?:^|; )Civilians \(", regex=True).fillna(False).astype(bool)
        findings.add_rows(battles & civilians, "civilians-in-battle", column,
                          "civilians are never associated actors in a battle; code their harm as a separate Violence against civilians event.")


def check_fatalities_allowed(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """Peaceful protests and protests with intervention have no fatalities (check 9)."""
    table = codebook.vocabulary("sub_event_types")
    limits = {k: int(v) for k, v in zip(table["sub_event_type"], table["max_fatalities"], strict=True) if v != ""}
    limit = events["sub_event_type"].map(limits)
    bad = limit.notna() & (events["fatalities"] > limit).fillna(False).astype(bool)
    findings.add_rows(bad, "fatalities-not-allowed", "fatalities",
                      lambda row: f"{row['sub_event_type']} events have at most {limits[row['sub_event_type']]} fatalities; "
                      "a protest with deaths is 'Excessive force against protesters' or a riot.")


def check_time_precision_date(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """A month-precision date is the 1st, 15th/16th or last day of the month (check 10)."""
    dates = events["event_date"]
    monthly = (events["time_precision"] == 3).fillna(False).astype(bool) & dates.notna()
    day = dates.dt.day
    ok = day.isin([1, 15, 16]) | dates.dt.is_month_end
    findings.add_rows(monthly & ~ok.fillna(True).astype(bool), "time-precision-date", "event_date",
                      "with time_precision 3 (month) the date is the 15th, or the 1st or last day of the month.")


def check_id_country_prefix(events: pd.DataFrame, codebook: Codebook, findings: Findings) -> None:
    """An event id starts with the ISO3 code of its country (check 13)."""
    expected = events["country"].map(country_iso3(codebook))
    prefix = events["event_id_cnty"].str.slice(0, 3)
    bad = expected.notna() & prefix.notna() & (prefix != expected).fillna(False).astype(bool)
    findings.add_rows(bad, "id-country-prefix", "event_id_cnty",
                      lambda row: f"events in {row['country']} have ids starting with {expected.loc[row.name]}.")


def check_articles(events: pd.DataFrame, articles: dict[str, Article], findings: Findings, today: date) -> None:
    """Each event cites known articles, quotes them, and is not dated after them or in the future (check 12)."""
    normalised = {key: " ".join(a.text.split()) for key, a in articles.items()}
    latest = {key: pd.Timestamp(a.published) for key, a in articles.items()}
    now = pd.Timestamp(today)
    future = (events["event_date"] > now).fillna(False).astype(bool)
    findings.add_rows(future, "future-date", "event_date", f"the date is after today ({today.isoformat()}).")
    for index, article_ids, evidence, event_date in zip(
        events.index, events["article_id"], events["evidence"], events["event_date"], strict=True
    ):
        if not isinstance(article_ids, str):
            continue
        cited = [a for a in article_ids.split("; ") if a]
        missing = [a for a in cited if a not in articles]
        for article_id in missing:
            findings.add(index, "missing-article", "article_id",
                         f"article {article_id!r} is not in seeds/articles.csv.{closest(article_id, list(articles))}", article_id)
        known = [a for a in cited if a in articles]
        if not known:
            continue
        if not pd.isna(event_date) and not future.loc[index]:
            published = max(latest[a] for a in known)
            if event_date > published:
                findings.add(index, "date-after-publication", "event_date",
                             f"the event is dated after its article was published ({published.date().isoformat()}).")
        if isinstance(evidence, str):
            for passage in EVIDENCE_SEPARATOR.split(evidence):
                wanted = " ".join(passage.split())
                if wanted and not any(wanted in normalised[a] for a in known):
                    findings.add(index, "evidence-not-found", "evidence",
                                 "this passage does not occur in the cited article(s); quote the text exactly "
                                 "(whitespace may differ; separate passages with ' ... ').", passage)


CROSS_FIELD_CHECKS: tuple[Callable[[pd.DataFrame, Codebook, Findings], None], ...] = (
    check_sub_event_type,
    check_actor2_inter2,
    check_actor_types,
    check_civilian_targeting,
    check_civilians_in_battle,
    check_fatalities_allowed,
    check_time_precision_date,
    check_id_country_prefix,
)


# --- entry points ----------------------------------------------------------------------------


def validate_events(
    raw: pd.DataFrame,
    codebook: Codebook,
    articles: dict[str, Article],
    *,
    today: date | None = None,
    timestamp: int = 0,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate sheet rows read as strings (with _sheet and _line); return typed events and problems."""
    raw = raw.reset_index(drop=True)
    findings = Findings(raw)
    typed = parse_types(raw, codebook, findings)
    # An empty inter2 with no actor2 means "no second actor" (0).
    typed["inter2"] = typed["inter2"].mask(typed["inter2"].isna() & typed["actor2"].isna(), 0)
    findings.events = typed
    typed = apply_derivations(typed, codebook, findings, timestamp)
    findings.events = typed
    check_with_pandera(typed, codebook, findings)
    for check in CROSS_FIELD_CHECKS:
        check(typed, codebook, findings)
    check_articles(typed, articles, findings, today or datetime.now(timezone.utc).date())
    return typed, findings.problems


def validate_project(
    project: Project,
    paths: Sequence[Path] | None = None,
    *,
    today: date | None = None,
    timestamp: int = 0,
) -> Validation:
    """Validate the article index and the given sheets (default: every sheet of the project)."""
    codebook = load_codebook(project.schemas_dir)
    sheet_paths = list(_expand(paths)) if paths else project.sheet_paths()
    articles, problems = read_articles(project.articles_index, project.articles_dir)
    frames = []
    for path in sheet_paths:
        sheet = read_sheet(path, codebook.field_names, codebook.input_required_fields)
        problems.extend(sheet.problems)
        frame = sheet.frame
        frame[SHEET_COLUMN] = display_path(path)
        frames.append(frame)
    if frames:
        raw = pd.concat(frames, ignore_index=True)
    else:
        raw = pd.DataFrame({c: pd.Series([], dtype=PANDAS_DTYPES["string"]) for c in codebook.field_names})
        raw[LINE_COLUMN] = pd.Series([], dtype="int64")
        raw[SHEET_COLUMN] = pd.Series([], dtype="string")
    events, row_problems = validate_events(raw, codebook, articles, today=today, timestamp=timestamp)
    problems.extend(row_problems)
    report = Report(
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        files=tuple(display_path(p) for p in sheet_paths),
        rows=len(events),
    )
    return Validation(report, events, articles, codebook)


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.csv"))
        elif path.exists():
            yield path
        else:
            raise SourceError(f"{path} does not exist.")

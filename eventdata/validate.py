"""Validation of coding sheets: the entry points, and the declared order of the pipeline's steps.

Bad data is a result, never an exception: every finding becomes a Problem located at file, line and
column. The steps live next to what they work on: typing in eventdata.parse, actor resolution in
eventdata.actors, places in eventdata.gazetteer, ids in eventdata.ids, derivations in eventdata.derive, the
pandera step and the named rules in eventdata.checks; eventdata.pipeline runs them and keeps the findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from eventdata import checks, progress
from eventdata.actors import apply_actors
from eventdata.allocator import use_jemalloc
from eventdata.catalog import Release
from eventdata.dataset import Dataset
from eventdata.deletions import undeclared_deletion_problems
from eventdata.derive import apply_derivations
from eventdata.errors import Problem, Report, SourceError
from eventdata.gazetteer import apply_places
from eventdata.ids import apply_ids
from eventdata.parse import no_second_actor, parse_types
from eventdata.pipeline import RULES, Findings, References, Rule, State, Step, run_steps
from eventdata.project import Project
from eventdata.rules import with_severities
from eventdata.schema import PANDAS_DTYPES, Codebook
from eventdata.sources.articles import Article
from eventdata.sources.sheet_cache import SheetCache
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, Sheet, display_path, read_sheet, sheets_frame

__all__ = ["RULES", "STEPS", "References", "Rule", "Step", "Validation", "validate_events", "validate_project"]

LATEST = "latest"
#: Threads reading sheets: one more than the cores this process may use, at most 8.
READERS = min(8, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) + 1)


def run_rules(state: State) -> None:
    """The named rules (eventdata.checks), in the order they are registered."""
    for registered in RULES:
        registered(state)


#: The steps of validation, in order; a step that needs a reference list runs only when it is given.
STEPS: tuple[Step, ...] = (
    Step("parse", parse_types),
    Step("no second actor", no_second_actor),
    Step("actors", apply_actors, needs="actors", concurrent=True),
    Step("places", apply_places, needs="gazetteer", concurrent=True),
    Step("ids", apply_ids, needs="registry", concurrent=True),
    Step("derive", apply_derivations),
    Step("pandera", checks.check_with_pandera, concurrent=True),
    Step("rules", run_rules, concurrent=True),
)


@dataclass(frozen=True)
class Validation:
    """What validation found, and the parsed events (meaningful only when the report is valid)."""

    report: Report
    events: pd.DataFrame
    articles: dict[str, Article] = field(default_factory=dict)
    codebook: Codebook | None = None
    new_ids: pd.DataFrame | None = None  # ids given to rows that had none: event_id_cnty, _sheet, _line
    sheets: dict[str, Path] = field(default_factory=dict)  # shown name → path


def start(
    raw: pd.DataFrame,
    codebook: Codebook,
    references: References,
    *,
    today: date | None = None,
    timestamp: int = 0,
    absent: set[tuple[str, str]] | None = None,
) -> State:
    """The pipeline's state before its first step, for sheet rows read as strings (with _sheet and _line)."""
    raw = raw.reset_index(drop=True)
    return State(
        raw=raw,
        events=raw,
        codebook=codebook,
        references=references,
        findings=Findings(raw, absent),
        today=today or datetime.now(UTC).date(),
        timestamp=timestamp,
        new_ids=pd.DataFrame(columns=["event_id_cnty", SHEET_COLUMN, LINE_COLUMN]),
    )


def validate_events(
    raw: pd.DataFrame,
    codebook: Codebook,
    references: References,
    *,
    today: date | None = None,
    timestamp: int = 0,
    absent: set[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """Validate sheet rows read as strings (with _sheet and _line).

    Returns the typed events (derived columns filled), the problems, and the ids given to rows without one.
    """
    state = start(raw, codebook, references, today=today, timestamp=timestamp, absent=absent)
    run_steps(STEPS, state)
    assert state.new_ids is not None
    return state.events, state.findings.problems(), state.new_ids


def validate_project(
    project: Dataset | Project | str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]] | None = None,
    *,
    today: date | None = None,
    timestamp: int = 0,
    previous: Release | None | str = LATEST,
) -> Validation:
    """Validate the article index and the given sheets (default: every sheet of the project).

    When every sheet is validated, events of the previous release (default: the latest) that no sheet
    holds must be listed in seeds/deletions.csv (`undeclared-deletion`).
    """
    use_jemalloc()
    dataset = Dataset.open(project)
    project = dataset.project
    codebook = dataset.codebook
    severities = dataset.severities
    if paths:
        sheet_paths = list(_expand(Path(p) for p in paths))
    elif not project.sheets_dir.is_dir():
        raise SourceError(
            f"{display_path(project.sheets_dir)} does not exist: coding sheets are read from "
            f"{display_path(project.sheets_dir)}/*.csv. Create the folder (it may be empty) or restore it."
        )
    else:
        sheet_paths = project.sheet_paths()
    problems = dataset.reference_problems()
    references = dataset.references()
    registry = dataset.registry
    deleted = dataset.deleted
    if not paths:
        for unread in project.unread_sheet_files():
            kind = "folder" if unread.is_dir() else "file"
            problems.append(
                Problem(
                    "not-a-sheet",
                    f"this {kind} is not read: coding sheets are the files in {display_path(project.sheets_dir)} "
                    f"whose name ends in .csv (lower case), not in subfolders. Rename it to "
                    f"{unread.stem}.csv if it is a sheet, or move it out of the folder.",
                    display_path(unread),
                )
            )
    tables, lines, names = [], [], []
    sheets: dict[str, Path] = {}
    written_back = [f["name"] for f in codebook.fields if f.get("eventdata", {}).get("derived") == "event_id"]
    id_column = written_back[0] if written_back else None

    cache = SheetCache.configured()  # a sheet parsed before is loaded; new entries are written while checks run
    try:

        def read(path: Path) -> Sheet:
            return read_sheet(
                path, codebook.field_names, codebook.input_required_fields, trailing_optional=id_column, cache=cache
            )

        # Sheets are read by one thread more than there are cores: pyarrow parses (releasing the GIL) while another
        # sheet is scanned and trimmed (numpy, partly holding it). 200 sheets of 1M events on 2 cores: 1.85 s with
        # 2 threads, 1.68 s with 3.
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            for path, sheet in zip(sheet_paths, pool.map(read, sheet_paths), strict=True):
                problems.extend(sheet.problems)
                tables.append(sheet.table)
                lines.append(sheet.lines)
                names.append((display_path(path), len(sheet.lines)))
                sheets[display_path(path)] = path
                progress.advance("sheets read", total=len(sheet_paths), detail=path.name)
        if cache is not None:
            cache.write_in_background()
        if tables:  # concatenated in Arrow and converted to pandas once
            raw = sheets_frame(tables, lines)
            del tables, lines
            raw[SHEET_COLUMN] = sheet_column(names)
        else:
            raw = pd.DataFrame({c: pd.Series([], dtype=PANDAS_DTYPES["string"]) for c in codebook.field_names})
            raw[LINE_COLUMN] = pd.Series([], dtype="int64")
            raw[SHEET_COLUMN] = pd.Series([], dtype="string")
        if not paths:  # the coders' decisions on duplicate candidates name real pairs of assigned events (#11)
            from eventdata.duplicates import decision_problems

            problems.extend(decision_problems(project, registry["event_id_cnty"]))
        if not paths:  # a double-coded article's rows are built only as adjudicated (#11)
            from eventdata.adjudicate import rows_to_build

            raw, double_coding = rows_to_build(raw, dataset)
            problems.extend(double_coding)
        absent = {(p.file, p.column) for p in problems if p.code == "missing-column" and p.column}
        state = start(raw, codebook, references, today=today, timestamp=timestamp, absent=absent)
        del raw  # the state holds the rows: a column a step replaces (parse_types) is freed
        run_steps(STEPS, state)
    except BaseException:
        if cache is not None:
            cache.close(abandon=True)  # entries not yet written are dropped: nothing waits on a failed run
        raise
    if cache is not None:
        cache.close()
    events, new_ids = state.events, state.new_ids
    problems.extend(state.findings.problems())
    del state  # the rows as typed
    if not paths:
        against = dataset.latest_release if previous == LATEST else previous
        if isinstance(against, Release):
            current = events["event_id_cnty"].dropna()
            problems.extend(undeclared_deletion_problems(project, against, current, set(deleted), registry))
    problems.extend(metadata_warnings(codebook))
    problems = with_severities(problems, severities)
    report = Report(
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        files=tuple(display_path(p) for p in sheet_paths),
        rows=len(events),
    )
    return Validation(report, events, dataset.articles, codebook, new_ids, sheets)


def sheet_column(names: Sequence[tuple[str, int]]) -> pd.Categorical:
    """The _sheet column of (sheet name, rows) in read order: a categorical of the names, in name order."""
    ordered = sorted({n for n, _ in names})
    position = {n: i for i, n in enumerate(ordered)}
    per_sheet = np.array([position[n] for n, _ in names], dtype=np.int32)
    codes = np.repeat(per_sheet, [k for _, k in names])
    return pd.Categorical.from_codes(codes, categories=pd.Index(ordered, dtype="str"))


def metadata_warnings(codebook: Codebook) -> list[Problem]:
    """What schemas/dataset.json still lacks for a release to be publishable: description, licence, a creator."""
    dataset = codebook.dataset
    where = display_path(codebook.path / "dataset.json")
    found = []
    description = dataset.get("description")
    if not isinstance(description, str) or not description.strip():
        found.append(
            Problem(
                "metadata-missing",
                "the description is empty: write what the dataset covers (places, period, sources) in a sentence "
                "or two; it becomes the description of every release.",
                where,
                column="description",
                severity="warning",
            )
        )
    licences = [lic for lic in dataset.get("licenses") or [] if isinstance(lic, dict) and lic.get("name")]
    if not licences:
        found.append(
            Problem(
                "metadata-missing",
                'no licence: add one with an SPDX id, e.g. "licenses": [{"name": "CC-BY-4.0", '
                '"path": "https://creativecommons.org/licenses/by/4.0/", '
                '"title": "Creative Commons Attribution 4.0"}].',
                where,
                column="licenses",
                severity="warning",
            )
        )
    contributors = [c for c in dataset.get("contributors") or [] if isinstance(c, dict)]
    creators = [
        c for c in contributors if "creator" in (c.get("roles") or []) and (c.get("title") or c.get("familyName"))
    ]
    if not creators:
        found.append(
            Problem(
                "metadata-missing",
                'no contributor with the role "creator": add who made the dataset, e.g. "contributors": '
                '[{"title": "Your name or organisation", "roles": ["creator"]}].',
                where,
                column="contributors",
                severity="warning",
            )
        )
    return found


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    """The sheets of the given files and folders, each once: a sheet named twice (or by its folder too) is one sheet."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.csv"))
        elif path.exists():
            found = [path]
        else:
            raise SourceError(f"{path} does not exist.")
        for sheet in found:
            if sheet.resolve() not in seen:
                seen.add(sheet.resolve())
                yield sheet

"""The import itself: the coding sheet and source article (provenance), and writing every file at once.

Nothing is written unless the whole export, and the dataset with it, would validate.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from eventdata.acled.checks import _check_id, _check_registered, _check_values, check_rows, existing_rows_problems
from eventdata.acled.export import CHECKED_ONLY, Export, ExportRow, read_export
from eventdata.acled.lists import _keys, infer_actors, infer_places
from eventdata.acled.values import (
    Normalisation,
    Taxonomy,
    _normalise_row,
    check_timestamp,
    load_normalisations,
    read_dates,
    timestamp_day,
    timestamp_range,
)
from eventdata.actors import COLUMNS as ACTOR_LIST_COLUMNS
from eventdata.actors import load_actors
from eventdata.errors import Problem, Report, SourceError
from eventdata.files import FileSet, sha256_bytes
from eventdata.gazetteer import COLUMNS as PLACES_HEADER
from eventdata.gazetteer import load_places
from eventdata.ids import read_registry
from eventdata.project import Project
from eventdata.rules import load_severities
from eventdata.schema import Codebook, load_codebook
from eventdata.sources.articles import Article, read_articles
from eventdata.sources.sheets import CsvFileError, display_path, read_csv
from eventdata.terms import terms_vocabulary
from eventdata.validate import References

CODER = "acled-import"
ACTOR_COLUMNS = (*ACTOR_LIST_COLUMNS, "notes")
PUBLISHER = "ACLED"
TERMS = "acled-terms"  # schemas/vocabularies/terms.csv: ACLED's Terms of Use, no redistribution of its rows
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,150}$")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the rows it took, what it added, and the problems of the rows it did not take.

    ``written`` is False when nothing was written (an error and --strict, no row left, or a problem
    outside the export); ``skipped`` are the export lines it did not take (their problems are in the report).
    """

    sheet: Path
    rows: int
    new_actors: tuple[str, ...]
    new_places: tuple[str, ...]
    registered_ids: tuple[str, ...]
    report: Report
    article_id: str = ""
    written: bool = False
    skipped: tuple[int, ...] = ()
    normalised: tuple[tuple[Normalisation, int], ...] = ()  # each documented correction and how often
    absent_columns: tuple[str, ...] = ()  # optional columns empty on every row, taken as absent
    merged: int = 0  # events merged from one row per actor


# --- provenance ------------------------------------------------------------------------------------


def source_text(export: Export, rows: Sequence[ExportRow]) -> str:
    """The article text standing for the export: a header line, then one line per event with its notes."""
    lines = [
        f"ACLED export {export.path.name} (sha256 {export.sha256}), registered by "
        "`eventdata import acled`: one line per event, '<event_id_cnty> (ACLED timestamp <Unix time>): <notes>'."
    ]
    for row in rows:
        v = row.cells
        stamp = f" (ACLED timestamp {v['timestamp']})" if v.get("timestamp") else ""
        lines.append(f"{v['event_id_cnty']}{stamp}: {' '.join(v['notes'].split())}")
    return "\n".join(lines) + "\n"


def published_date(rows: Sequence[ExportRow]) -> date:
    """The latest event date or ACLED timestamp of the rows: no event is dated after its source.

    The rows' timestamps were checked (`check_timestamp`); one out of range would be ignored.
    """
    days = [date.fromisoformat(r.cells["event_date"]) for r in rows]
    stamps = [timestamp_day(r.cells.get("timestamp", "")) for r in rows]
    return max(days + [d for d in stamps if d is not None], default=date.today())


def article_entry(export: Export, article_id: str, text: str, published: date) -> dict[str, str]:
    """The export's row in seeds/articles.csv."""
    return {
        "article_id": article_id,
        "title": f"ACLED export {export.path.name}",
        "publisher": PUBLISHER,
        "url": "",
        "published": published.isoformat(),
        "language": "en",
        "sha256": sha256_bytes(text.encode("utf-8")),
        "notes": "An ACLED export registered as the source of its events by `eventdata import acled`; ACLED's "
        "source column names the outlets. Published: the latest event date or ACLED timestamp in the export.",
        "terms": TERMS,
    }


def sheet_columns(codebook: Codebook) -> list[str]:
    """Columns of an imported sheet: the coder's, the id, ACLED's admin names, coordinates and actor types."""
    return [c for c in codebook.field_names if codebook.derivation(c) not in {*CHECKED_ONLY, "timestamp"}]


def sheet_text(rows: Sequence[ExportRow], columns: Sequence[str], article_id: str) -> str:
    """The coding sheet of the rows as CSV (lines joined once: a StringIO would hold 4 bytes per character)."""
    lines: list[str] = []
    writer = csv.writer(_Lines(lines), lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        v = row.cells
        extra = {"article_id": article_id, "evidence": v["notes"] or v["event_id_cnty"], "coder": CODER}
        writer.writerow([extra.get(c, v.get(c, "")) for c in columns])
    return "".join(lines)


class _Lines:
    """A file-like target of csv.writer that keeps each written line."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


# --- writing ---------------------------------------------------------------------------------------


def appended_csv(
    path: Path, header: Sequence[str], rows: Sequence[Mapping[str, str]], *, add_columns: Sequence[str] = ()
) -> str:
    """The text of a CSV file with rows added at the end, in the order of its own header.

    Columns of add_columns the file lacks are added to its header, empty in the rows it has.
    """
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    if not text.strip():
        text = ",".join(header) + newline
    text = with_columns(text, add_columns, newline)
    own = [c.strip().removeprefix("\ufeff") for c in next(csv.reader([text.splitlines()[0]]))]
    if not text.endswith("\n"):
        text += newline
    lines = [text]
    writer = csv.writer(_Lines(lines), lineterminator=newline)
    for row in rows:
        writer.writerow([row.get(c, "") for c in own])
    return "".join(lines)


def with_columns(text: str, columns: Sequence[str], newline: str) -> str:
    """The CSV text with the columns it lacks added at the end of its header, and an empty cell in every row."""
    records = list(csv.reader(io.StringIO(text, newline="")))
    own = [c.strip().removeprefix("\ufeff") for c in records[0]]
    missing = [c for c in columns if c not in own]
    if not missing:
        return text
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow([*records[0], *missing])
    for record in records[1:]:
        writer.writerow([*record, *[""] * len(missing)] if any(c.strip() for c in record) else record)
    return out.getvalue()


def write_all(files: Mapping[Path, str]) -> None:
    """Write every file at once (eventdata.files.FileSet): prepared beside its target, then renamed; all or none."""
    fileset = FileSet(f"building-import{secrets.token_hex(4)}")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fileset.prepare(path, text)
        fileset.commit()  # puts the old files back if a rename fails
    except OSError as err:
        fileset.rollback()
        raise SourceError(f"Cannot write the import ({err}); nothing was changed.") from err
    finally:
        fileset.discard()


# --- the import ------------------------------------------------------------------------------------


def import_name(path: Path, name: str | None) -> str:
    """The name of the import (sheet acled-<name>.csv, article acled-<name>): given, or from the file name."""
    chosen = name if name is not None else re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")
    if not NAME_PATTERN.match(chosen):
        raise SourceError(f"Import name {chosen!r} must be lower-case letters, digits, '.', '_' or '-'; pass --name.")
    return chosen


@dataclass(frozen=True)
class Lists:
    """The dataset's lists as they are, and as the import would leave them."""

    before: References
    after: References
    actors: list[dict[str, str]]
    places: list[tuple[int, dict[str, str]]]
    texts: dict[Path, str]
    shared_names: bool  # a new place shares its name with a listed one: existing rows may become ambiguous


def _parse(project: Project, path: Path, codebook: Codebook) -> tuple[Export, pd.DataFrame, Counter[Normalisation]]:
    """Read and normalise the export and check its ids against the registry."""
    severities = load_severities(project.schemas_dir)
    table = load_normalisations(project.schemas_dir, codebook)
    export = read_export(path, codebook)
    export.severities = severities
    applied: Counter[Normalisation] = Counter()
    if not export.problems and not export.rows:
        export.problem("empty-file", "the export has a header but no events.", export.header_line)
    countries = set(codebook.vocabulary_values("countries.country"))
    taxonomy = Taxonomy.of(codebook)
    allowed = timestamp_range(codebook)
    read_dates(export, allowed)
    for row in export.rows:
        _normalise_row(export, row, taxonomy, table, applied)
        check_timestamp(export, row, allowed)
        _check_id(export, row)
        _check_values(export, row, countries)
    registry = read_registry(project.id_registry)
    _check_registered(export, registry)
    return export, registry, applied


def _data_rows(path: Path) -> int:
    """Rows below the header of a CSV file, as pandas counts them (blank lines skipped)."""
    if not path.is_file():
        return 0
    try:
        return len(read_csv(path).rows)
    except CsvFileError:
        return 0


def _candidate_lists(
    project: Project, export: Export, codebook: Codebook, registry: pd.DataFrame, staging: Path, article: Article
) -> Lists:
    """Infer the new actors and places, and load the lists as the import would leave them."""
    countries = codebook.vocabulary_values("countries.country")
    actors = load_actors(project.schemas_dir, countries)
    gazetteer, _ = load_places(project.schemas_dir, codebook)
    articles, _ = read_articles(project.articles_index, project.articles_dir)
    new_actors = infer_actors(export, export.good_rows, actors, set(countries))
    new_places = infer_places(export, export.good_rows, gazetteer)
    texts = {
        project.schemas_dir / "actors.csv": appended_csv(project.schemas_dir / "actors.csv", ACTOR_COLUMNS, new_actors),
        project.schemas_dir / "places.csv": appended_csv(
            project.schemas_dir / "places.csv", PLACES_HEADER, [p for _, p in new_places]
        ),
    }
    for target, text in texts.items():
        (staging / target.name).write_text(text, encoding="utf-8", newline="")
    after_places, place_problems = load_places(staging, codebook)
    first_new = _data_rows(project.schemas_dir / "places.csv") + 2  # places.csv numbers its rows from line 2
    for problem in place_problems:
        added = (problem.line or 0) - first_new
        if 0 <= added < len(new_places):
            message = f"adding this place to schemas/places.csv: {problem.message}"
            export.problem(problem.code, message, new_places[added][0], problem.column, problem.value)
    ids = pd.DataFrame({"event_id_cnty": [r.cells["event_id_cnty"] for r in export.good_rows]}, dtype="string")
    before = References(articles, actors, gazetteer, registry)
    after = References(
        articles | {article.article_id: article},
        load_actors(staging, countries),
        after_places,
        pd.concat([registry, ids], ignore_index=True),
    )
    listed = set(zip(gazetteer.names["country"], gazetteer.names["key"], strict=True))
    new_keys = _keys([p["location"] for _, p in new_places])
    shared = any((p["country"], k) in listed for (_, p), k in zip(new_places, new_keys, strict=True))
    return Lists(before, after, new_actors, new_places, texts, shared)


def source_article(export: Export, article_id: str, path: Path) -> Article:
    """The export as the article its rows cite (its text as written to `path`)."""
    rows = export.good_rows
    text = source_text(export, rows)
    data = text.encode("utf-8")
    return Article(
        article_id=article_id, title=f"ACLED export {export.path.name}", publisher=PUBLISHER, url="",
        published=published_date(rows), language="en", sha256=sha256_bytes(data), bytes=len(data), path=path,
        text=text, terms=TERMS,
    )  # fmt: skip


def outputs(
    project: Project, export: Export, lists: Lists, sheet: Path, sheet_csv: str, article: Article
) -> dict[Path, str]:
    """Every file the import writes, with its full new text."""
    entry = article_entry(export, article.article_id, article.text, article.published)
    ids = [{"event_id_cnty": r.cells["event_id_cnty"], "first_sheet": sheet.name} for r in export.good_rows]
    return dict(lists.texts) | {
        sheet: sheet_csv,
        article.path: article.text,
        project.articles_index: appended_csv(project.articles_index, list(entry), [entry], add_columns=["terms"]),
        project.id_registry: appended_csv(project.id_registry, ["event_id_cnty", "first_sheet"], ids),
    }


def import_acled(project: Project, path: Path, *, name: str | None = None, strict: bool = False) -> ImportResult:
    """Turn an ACLED export into a coding sheet and register its ids, actors, places and source.

    The export is its own authority: its rows are taken as ACLED coded them, with only the documented
    normalisations. A row with an error is not taken and its problems are reported; with ``strict``, any
    error refuses the whole export. Warnings (schemas/rules.csv) are reported and do not block. Every file
    is written at once, or none.
    """
    codebook = load_codebook(project.schemas_dir)
    vocabulary = terms_vocabulary(codebook)
    if TERMS not in vocabulary.terms:
        raise SourceError(
            f"{vocabulary.source} has no terms {TERMS!r}: add ACLED's terms (redistribute: no) before importing "
            "ACLED's rows; the default codebook has them."
        )
    article_id = f"acled-{import_name(Path(path), name)}"
    sheet = project.sheets_dir / f"{article_id}.csv"
    text_path = project.articles_dir / f"{article_id}.txt"
    for existing in (sheet, text_path):
        if existing.exists():
            raise SourceError(
                f"{display_path(existing)} exists: this export was imported before, and importing it again "
                "would duplicate its events. Choose another name (--name) only for another export."
            )
    export, registry, applied = _parse(project, Path(path), codebook)
    summary = {
        "normalised": tuple(sorted(applied.items(), key=lambda item: -item[1])),  # ties: in the table's order
        "absent_columns": tuple(export.absent),
        "merged": len(export.merged),
    }
    carried = list(export.problems)
    while True:
        if not export.good_rows:
            return _result(export, sheet, article_id, **summary)
        export.problems = list(carried)
        before = set(export.bad_lines)
        article = source_article(export, article_id, text_path)
        with tempfile.TemporaryDirectory(prefix="eventdata-acled-") as tmp:
            staging = Path(tmp)
            lists = _candidate_lists(project, export, codebook, registry, staging, article)
            sheet_csv = sheet_text(export.good_rows, sheet_columns(codebook), article_id)
            (staging / "sheet.csv").write_text(sheet_csv, encoding="utf-8", newline="")
            for problem in check_rows(export, export.good_rows, staging / "sheet.csv", codebook, lists.after):
                export.add(problem)
            if lists.shared_names and not _blocking(export.problems[len(carried) :]) and not (strict and carried):
                for problem in existing_rows_problems(project, codebook, lists.before, lists.after):
                    export.add(problem)
        dropped = export.bad_lines - before
        outside = [p for p in export.problems if p.severity == "error" and (p.file != export.name or p.line is None)]
        if strict or outside or not dropped:
            break
        # The rows with errors are not taken; what the others bring is inferred and checked again without them.
        kept = set(carried)
        carried += [p for p in export.problems if p.line in dropped and p.severity == "error" and p not in kept]
        export.bad_lines = before | dropped
    if _blocking(export.problems) and (strict or outside):
        return _result(export, sheet, article_id, **summary)
    write_all(outputs(project, export, lists, sheet, sheet_csv, article))
    rows = export.good_rows
    return ImportResult(
        sheet=sheet,
        rows=len(rows),
        new_actors=tuple(dict.fromkeys(a["actor"] for a in lists.actors)),
        new_places=tuple(f"{p['location']} ({p['country']})" for _, p in lists.places),
        registered_ids=tuple(r.cells["event_id_cnty"] for r in rows),
        report=_report(export),
        article_id=article_id,
        written=True,
        skipped=_skipped(export),
        **summary,  # type: ignore[arg-type]  # the summary's values have the fields' types
    )


def _blocking(problems: Sequence[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def _skipped(export: Export) -> tuple[int, ...]:
    """Export lines not taken: rows with errors, and the lines merged into them."""
    lines = set(export.bad_lines)
    for first, others in export.merged.items():
        if first in lines:
            lines.update(others)
    return tuple(sorted(lines))


def _report(export: Export) -> Report:
    return Report(tuple(sorted(export.problems, key=Problem.sort_key)), (export.name,), len(export.rows))


def _result(export: Export, sheet: Path, article_id: str, **summary: object) -> ImportResult:
    return ImportResult(
        sheet, len(export.good_rows), (), (), (), _report(export), article_id, False, _skipped(export),
        **summary,  # type: ignore[arg-type]  # the summary's values have the fields' types
    )  # fmt: skip

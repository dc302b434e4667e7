"""The article index (seeds/articles.csv) and article texts: reads and hashes, never judges events."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from eventdata.errors import Problem, SourceError
from eventdata.files import sha256_bytes
from eventdata.sources.sheets import (
    CONTROL_CHARACTER,
    CsvFileError,
    closest,
    control_message,
    display_path,
    ragged_message,
    read_csv,
)

if TYPE_CHECKING:
    from eventdata.terms import TermsVocabulary

ARTICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
INDEX_COLUMNS = ("article_id", "title", "publisher", "url", "published", "language", "sha256", "notes", "terms")
REQUIRED_COLUMNS = ("article_id", "title", "publisher", "published", "language", "sha256")
#: The ISO 639-1 (two letters) and ISO 639-2/639-3 (three letters) codes with their English names, shipped with the
#: package (eventdata/data/README.md).
LANGUAGES_FILE = "languages.csv"
#: A language: an ISO 639 code, optionally with BCP 47 subtags for the script or region (zh-Hant, pt-BR, ckb-IQ).
LANGUAGE = re.compile(r"^(?P<code>[a-z]{2,3})(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Article:
    """One source article: its metadata and the hash of its text."""

    article_id: str
    title: str
    publisher: str
    url: str
    published: date
    language: str
    sha256: str
    bytes: int
    path: Path
    notes: str = ""
    text: str = field(default="", repr=False, compare=False)
    terms: str = ""  # the redistribution terms of its rows (schemas/vocabularies/terms.csv)


def is_safe_article_id(article_id: str) -> bool:
    """True when the id names a file inside the articles folder and nothing else."""
    return bool(ARTICLE_ID.match(article_id)) and ".." not in article_id


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """Every ISO 639 code with its English name (eventdata/data/languages.csv), two-letter codes first."""
    text = (resources.files("eventdata") / "data" / LANGUAGES_FILE).read_text(encoding="utf-8")
    return {row["language"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def language_problem(value: str) -> str | None:
    """Why value is not a language of the text (an ISO 639-1 code such as en, ar or fr), or None."""
    known = languages()
    match = LANGUAGE.match(value)
    if match is not None and match.group("code") in known:
        return None
    names: dict[str, str] = {}
    for code, listed in known.items():  # a name's shortest code: ar for Arabic, as BCP 47 writes it
        for name in listed.split("; "):
            names.setdefault(name.casefold(), code)
    lowered = value.strip().casefold()
    if lowered in known:  # a code in capitals (EN): the code
        hint = f" Did you mean {lowered!r}?"
    elif lowered in names:
        hint = f" Did you mean {names[lowered]!r} ({known[names[lowered]]})?"
    else:  # among the two-letter codes: three-letter ones are so many that any typo is near one
        hint = closest(lowered, [c for c in known if len(c) == 2])
    return (
        f"the language must be an ISO 639 code such as en, ar, fr or ckb (the two-letter code where there is one; "
        f"eventdata/data/{LANGUAGES_FILE} lists the {len(known)} codes), optionally with a region or script such "
        f"as pt-BR.{hint}"
    )


def latest_publication_date() -> date:
    """The latest date an article indexed now can have been published: today, anywhere on Earth (UTC+14)."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def listed_article_ids(index_path: Path) -> set[str]:
    """Every article id the index lists, whether or not its entry is usable (empty when unreadable)."""
    try:
        records = read_csv(index_path)
        column = records.header.index("article_id")
    except (CsvFileError, ValueError):
        return set()
    return {cells[column].strip() for _, cells in records.rows if len(cells) > column and cells[column].strip()}


def read_articles(
    index_path: Path, articles_dir: Path, terms: TermsVocabulary | None = None
) -> tuple[dict[str, Article], list[Problem]]:
    """Every article of the index, with its text, and the problems found in the index.

    With the terms vocabulary, each article gets its terms (the optional `terms` column, else the
    default for its publisher) and an unknown value is a problem; without it the cell is kept as written.
    """
    name = display_path(index_path)
    if not index_path.is_file():
        raise SourceError(f"Article index {name} is missing; create it with a header row: {','.join(INDEX_COLUMNS)}")
    try:
        records = read_csv(index_path)
    except CsvFileError as err:
        if err.code == "empty-file":
            return {}, [Problem("empty-file", "the article index has no header row.", name)]
        return {}, [Problem(err.code, err.detail, name, err.line)]
    header = records.header
    problems: list[Problem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    for column in missing:
        problems.append(
            Problem("missing-column", f"add the column {column!r} to the header.", name, records.header_line, column)
        )
    if missing:
        return {}, problems
    articles: dict[str, Article] = {}
    for start, cells in records.rows:
        if len(cells) != len(header):
            code = "extra-cell" if len(cells) > len(header) else "missing-cell"
            problems.append(Problem(code, ragged_message(len(cells), len(header)), name, start))
            continue
        row = {k: v.strip() for k, v in zip(header, cells, strict=True)}
        controls = [(k, v) for k, v in row.items() if CONTROL_CHARACTER.search(v)]
        for column, value in controls:
            problems.append(Problem("control-character", control_message(value), name, start, column, value))
        if controls:
            continue
        article = _read_article(row, start, name, articles_dir, problems, terms)
        if article is None:
            continue
        if article.article_id in articles:
            problems.append(
                Problem(
                    "unique-error", "the article id is listed twice.", name, start, "article_id", article.article_id
                )
            )
            continue
        articles[article.article_id] = article
    return articles, problems


def _read_article(
    row: dict[str, str],
    line: int,
    name: str,
    articles_dir: Path,
    problems: list[Problem],
    vocabulary: TermsVocabulary | None,
) -> Article | None:
    article_id = row["article_id"]
    if not is_safe_article_id(article_id):
        problems.append(
            Problem(
                "invalid-article-id",
                "an article id is a file name inside seeds/articles/: letters, digits, '_', '.', '-', no '..' or '/'.",
                name,
                line,
                "article_id",
                article_id,
            )
        )
        return None
    for column in REQUIRED_COLUMNS:
        if not row[column]:
            hint = " (write 'unknown' if it is not known)" if column in ("title", "publisher") else ""
            problems.append(Problem("required-error", f"{column} is required{hint}.", name, line, column, ""))
    try:
        published = (
            date.fromisoformat(row["published"]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["published"]) else None
        )
    except ValueError:
        published = None
    if row["published"] and published is None:
        problems.append(
            Problem(
                "type-error",
                "published must be a real date written YYYY-MM-DD.",
                name,
                line,
                "published",
                row["published"],
            )
        )
    if published is not None and published > latest_publication_date():
        problems.append(
            Problem(
                "future-date",
                f"the article cannot have been published after today ({datetime.now(UTC).date().isoformat()}); "
                "write the date it was published, YYYY-MM-DD.",
                name,
                line,
                "published",
                row["published"],
            )
        )
    if row["language"]:
        wrong_language = language_problem(row["language"])
        if wrong_language is not None:
            problems.append(Problem("enum-error", wrong_language, name, line, "language", row["language"]))
    terms = _article_terms(row, line, name, vocabulary, problems)
    path = articles_dir / f"{article_id}.txt"
    if not path.is_file():
        problems.append(
            Problem(
                "article-missing-text",
                f"the text file {display_path(path)} does not exist.",
                name,
                line,
                "article_id",
                article_id,
            )
        )
        return None
    data = path.read_bytes()
    digest = sha256_bytes(data)
    if row["sha256"] and row["sha256"].lower() != digest:
        problems.append(
            Problem(
                "article-hash-mismatch",
                f"the text of {display_path(path)} has sha256 {digest}; the index says {row['sha256']}. "
                "An article's text is never edited: restore it, or add the new text as a new article.",
                name,
                line,
                "sha256",
                row["sha256"],
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.append(
            Problem(
                "encoding-error",
                f"{display_path(path)} is not UTF-8 at byte {err.start}.",
                name,
                line,
                "article_id",
                article_id,
            )
        )
        return None
    if published is None:
        return None
    return Article(
        article_id=article_id,
        title=row["title"],
        publisher=row["publisher"],
        url=row.get("url", ""),
        published=published,
        language=row["language"],
        sha256=digest,
        bytes=len(data),
        path=path,
        notes=row.get("notes", ""),
        text=text,
        terms=terms,
    )


def _article_terms(
    row: dict[str, str], line: int, name: str, vocabulary: TermsVocabulary | None, problems: list[Problem]
) -> str:
    """The article's terms: its cell, else its publisher's default ('' for an unknown value, reported)."""
    cell = row.get("terms", "")
    if vocabulary is None:
        return cell
    resolved = vocabulary.for_article(cell, row["publisher"])
    if resolved is None:
        known = ", ".join(vocabulary.terms)
        problems.append(
            Problem(
                "enum-error",
                f"terms must be one of {known} ({vocabulary.source}), or empty for the publisher's default "
                f"({vocabulary.default!r} unless that file lists the publisher).",
                name,
                line,
                "terms",
                cell,
            )
        )
        return ""
    return resolved

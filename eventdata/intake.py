"""Adding an article to a dataset (text + index row, hashed by the tool) and starting its coding sheet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from eventdata.errors import SourceError
from eventdata.files import sha256_bytes, sha256_file, write_atomic
from eventdata.project import Project
from eventdata.schema import load_codebook
from eventdata.sources.articles import INDEX_COLUMNS, is_safe_article_id, language_problem
from eventdata.sources.sheets import (
    CONTROL_CHARACTER,
    CsvFileError,
    Records,
    closest,
    control_message,
    csv_record,
    display_path,
    read_csv,
)

NUMBERED_ID = re.compile(r"^(\d{3,})_")


@dataclass(frozen=True)
class AddedArticle:
    """An article added to seeds/: its id, where its text went, and its sha256."""

    article_id: str
    text_path: Path
    sha256: str
    index_line: int


@dataclass(frozen=True)
class IndexRow:
    """One row of seeds/articles.csv as written, with its line."""

    line: int
    cells: dict[str, str]


def _index_rows(index: Path) -> tuple[list[str], list[IndexRow], str]:
    """Header, rows and line ending of the article index (a missing index is an empty one)."""
    if not index.is_file():
        return list(INDEX_COLUMNS), [], "\n"
    try:
        records = read_csv(index)
    except CsvFileError as err:
        if err.code == "encoding-error":
            raise SourceError(f"{display_path(index)} is not UTF-8 (byte {err.byte}); save it as UTF-8.") from err
        if err.code == "source-error" and err.line is not None:
            # a quote left open would swallow every line after it, the row appended too
            raise SourceError(
                f"{display_path(index)}:{err.line}: not a well-formed CSV row ({err.reason}); a quote opened in a "
                'cell must be closed, and a quote inside a quoted cell is written twice (""). Fix the line, then run '
                "the command again."
            ) from err
        if err.code != "empty-file":
            raise SourceError(err.message(display_path(index))) from err
        records = Records([], [])
    missing = [c for c in ("article_id", "sha256") if c not in records.header]
    if missing:
        raise SourceError(f"{display_path(index)}:1: the header lacks {missing}; expected {','.join(INDEX_COLUMNS)}.")
    rows = [IndexRow(line, cells) for line, cells in records.dicts()]
    return records.header, rows, records.newline


def next_article_id(rows: list[IndexRow], digest: str) -> str:
    """The next id in the dataset's numbering: NNN_ (one more than the highest so far) + 16 hex of the sha256."""
    numbers = [int(m.group(1)) for r in rows if (m := NUMBERED_ID.match(r.cells.get("article_id", "")))]
    return f"{max(numbers) + 1 if numbers else 0:03d}_{digest[:16]}"


def add_article(
    project: Project,
    source: Path,
    *,
    title: str,
    publisher: str,
    published: date,
    url: str = "",
    language: str = "en",
    article_id: str | None = None,
    notes: str = "",
) -> AddedArticle:
    """Copy an article text into seeds/articles/<id>.txt and add its row, with the sha256, to seeds/articles.csv.

    A text already in the dataset (same sha256) or an id already used is refused; nothing is written then. The
    index is rewritten atomically, so it is never left half-written.
    """
    try:
        data = source.read_bytes()
    except OSError as err:
        raise SourceError(f"Cannot read the article {source}: {err.strerror}.") from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SourceError(f"{source} is not UTF-8 at byte {err.start}; save the text as UTF-8.") from err
    if not text.strip():
        raise SourceError(f"{source} is empty; an article needs its text.")
    for name, value in (("title", title), ("publisher", publisher)):
        if not value.strip():
            raise SourceError(f"--{name} is required; write 'unknown' if it is not known.")
    for name, value in (("title", title), ("publisher", publisher), ("url", url), ("notes", notes)):
        if CONTROL_CHARACTER.search(value):  # validate refuses the index row it would make
            raise SourceError(f"--{name} {value!r}: {control_message(value)}")
    wrong_language = language_problem(language)
    if wrong_language is not None:
        raise SourceError(f"--language {language!r}: {wrong_language} Nothing was written.")
    if published > date.today():
        raise SourceError(f"--published {published.isoformat()} is in the future.")
    digest = sha256_bytes(data)
    index = project.articles_index
    header, rows, newline = _index_rows(index)
    shown = display_path(index)
    articles_dir = project.articles_dir
    for row in rows:
        listed_text = articles_dir / f"{row.cells.get('article_id', '')}.txt"
        same = row.cells.get("sha256", "").lower() == digest or (
            is_safe_article_id(row.cells.get("article_id", ""))
            and listed_text.is_file()
            and sha256_file(listed_text) == digest
        )
        if same:
            raise SourceError(
                f"{source} has the same text (sha256 {digest}) as article {row.cells['article_id']!r} "
                f"({shown}:{row.line}); an article is added once: cite {row.cells['article_id']} in the sheets."
            )
    chosen = article_id or next_article_id(rows, digest)
    if not is_safe_article_id(chosen):
        raise SourceError(f"Article id {chosen!r} must be a file name: letters, digits, '_', '.', '-', no '..' or '/'.")
    for row in rows:
        if row.cells.get("article_id") == chosen:
            raise SourceError(f"Article id {chosen!r} is already used ({shown}:{row.line}); choose another with --id.")
    target = articles_dir / f"{chosen}.txt"
    if target.exists() and target.resolve() != source.resolve():
        raise SourceError(
            f"{display_path(target)} exists but is not in {shown}; add that file itself "
            f"(`eventdata add-article {display_path(target)} …`) or choose another id with --id."
        )
    values = {
        "article_id": chosen,
        "title": title.strip(),
        "publisher": publisher.strip(),
        "url": url.strip(),
        "published": published.isoformat(),
        "language": language,
        "sha256": digest,
        "notes": notes.strip(),
    }
    record = csv_record([values.get(column, "") for column in header], newline)
    existing = index.read_bytes() if index.is_file() else (",".join(header) + newline).encode("utf-8")
    if existing and not existing.endswith(b"\n"):
        existing += newline.encode("utf-8")
    copied = False
    if not target.exists():
        write_atomic(target, data)
        copied = True
    try:
        write_atomic(index, existing + record.encode("utf-8"))
    except BaseException:
        if copied:
            target.unlink(missing_ok=True)  # no text without its index row
        raise
    line = existing.count(b"\n") + 1  # the line the new row starts on, past multi-line cells and blank lines
    return AddedArticle(chosen, target, digest, line)


def new_sheet(project: Project, article_id: str, *, coder: str | None = None, name: str | None = None) -> Path:
    """Start seeds/sheets/<name>.csv for an article: the columns a coder types, from the codebook.

    With a coder, one row to fill in is written with the article id and the coder's name.
    """
    codebook = load_codebook(project.schemas_dir)
    _, rows, _ = _index_rows(project.articles_index)
    known = [r.cells.get("article_id", "") for r in rows]
    if article_id not in known:
        hint = closest(article_id, known) or " Add it first with `eventdata add-article FILE …`."
        raise SourceError(f"Article {article_id!r} is not in {display_path(project.articles_index)}.{hint}")
    sheet_name = name or article_id
    sheet_name = sheet_name[: -len(".csv")] if sheet_name.endswith(".csv") else sheet_name  # --name x.csv: x.csv
    if not is_safe_article_id(sheet_name):
        raise SourceError(f"Sheet name {sheet_name!r} must be a file name: letters, digits, '_', '.', '-'.")
    path = project.sheets_dir / f"{sheet_name}.csv"
    if path.exists():
        raise SourceError(f"{display_path(path)} exists; a sheet is never overwritten. Choose another --name.")
    columns = codebook.sheet_fields
    text = csv_record(columns)
    if coder:
        text += csv_record([article_id if c == "article_id" else coder if c == "coder" else "" for c in columns])
    write_atomic(path, text)
    return path

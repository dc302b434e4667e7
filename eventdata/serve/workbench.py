"""The coder's workbench as a library: the form the codebook defines, live checks, and safe saves.

The web layer (eventdata/serve/app.py) only turns requests into these calls and their results into JSON.
A row is checked by the pipeline of `eventdata validate` (eventdata.validate.validate_events) on the sheet
as it would be saved, and written into the coder's sheet atomically, every other byte of the sheet kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata.dataset import Dataset
from eventdata.errors import EventdataError, Problem
from eventdata.files import write_atomic
from eventdata.rules import with_severities
from eventdata.serve.sheetfile import SheetFormatError, SheetText, content_hash, parse_sheet, read_bytes
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, CsvFileError, display_path, read_csv, read_sheet
from eventdata.validate import References, validate_events

SHEET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.csv$")
#: The double-coding layout (issue 11, eventdata/agreement.py): seeds/double/<article_id>/<coder>.csv, one sheet
#: per coder of a double-coded article, and seeds/assignments.csv (article_id,coder) naming who codes what.
DOUBLE_DIR = "double"
ASSIGNMENTS_FILE = "assignments.csv"
DOUBLE_SHEET = re.compile(r"^double/(?P<article>[A-Za-z0-9][A-Za-z0-9_.-]*)/[A-Za-z0-9._-]+\.csv$")
#: Text fields written as paragraphs rather than one line.
LONG_TEXT = ("notes", "evidence")
#: How passages of the evidence are joined (eventdata.validate splits evidence on "..." or "…").
EVIDENCE_JOIN = " ... "


class WorkbenchError(EventdataError):
    """A request the workbench refuses; `status` is the HTTP status the web layer answers with."""

    status = 400

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NotFound(WorkbenchError):
    status = 404


class NotYourSheet(WorkbenchError):
    status = 403


class SheetChanged(WorkbenchError):
    """The sheet on disk is not the one the coder loaded: saving would lose the other edit."""

    status = 409


class Blocked(WorkbenchError):
    """The row fails a blocking check and the coder did not ask to save it anyway."""

    status = 422


@dataclass(frozen=True)
class Checked:
    """What the pipeline says of one row: its problems (with severity) and the values the tool derives."""

    line: int
    problems: list[dict[str, Any]]
    derived: dict[str, str]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "error"]


@dataclass(frozen=True)
class Saved:
    sheet: str
    line: int
    hash: str
    checked: Checked
    with_errors: bool


@dataclass(frozen=True)
class Deleted:
    sheet: str
    line: int
    hash: str
    event_id: str | None
    lines: int  # how many lines the rows below moved up


@dataclass
class Workbench:
    """One dataset opened for coding; safe to share between the server's threads."""

    dataset: Dataset
    today: date | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _inputs: tuple[tuple[str, int, int], ...] = field(default=(), repr=False)
    #: Why the codebook, lists or articles on disk were not taken up (the workbench keeps the ones it had).
    inputs_problem: str | None = None

    def __post_init__(self) -> None:
        self._inputs = inputs_fingerprint(self.dataset.root)

    @property
    def inputs_version(self) -> str:
        """A short digest of the codebook, lists and article index the workbench uses now."""
        return hashlib.sha256(repr(self._inputs).encode()).hexdigest()[:12]

    def refresh(self) -> bool:
        """Reopen the dataset when schemas/ or the articles changed on disk; True when it was reopened.

        A codebook that no longer loads is not taken up: the workbench keeps the one it had and says why in
        `inputs_problem` until the file is fixed.
        """
        now = inputs_fingerprint(self.dataset.root)
        if now == self._inputs:
            return False
        with self._lock:
            fresh = Dataset.open(self.dataset.root)
            try:
                fresh.codebook, fresh.articles, fresh.references()  # noqa: B018  # load now, not mid-request
            except EventdataError as err:
                self.inputs_problem = str(err)
                return False
            self.dataset, self._inputs, self.inputs_problem = fresh, now, None
        return True

    # --- what the page needs once ------------------------------------------------------------------

    @property
    def sheets_dir(self) -> Path:
        return self.dataset.project.sheets_dir

    def form(self) -> dict[str, Any]:
        """The coding form, from the codebook: fields, their vocabularies, the sub-event hierarchy."""
        codebook = self.dataset.codebook
        sheet_fields = set(codebook.sheet_fields)
        fields = []
        for spec in codebook.fields:
            extra = spec.get("eventdata", {})
            constraints = spec.get("constraints", {})
            derived = extra.get("derived")
            options = None
            if extra.get("vocabulary") and not derived:
                options = self._options(str(extra["vocabulary"]))
            elif "enum" in constraints:
                options = [{"value": str(v), "label": str(v)} for v in constraints["enum"]]
            kind = "text"
            if extra.get("actors"):
                kind = "actor"
            elif spec["name"] == "location":
                kind = "place"
            elif options is not None:
                kind = "select"
            elif spec["name"] in LONG_TEXT:
                kind = "textarea"
            fields.append(
                {
                    "name": spec["name"],
                    "type": spec.get("type", "string"),
                    "title": spec.get("title", spec["name"]),
                    "description": spec.get("description", ""),
                    "required": bool(constraints.get("required")) and not derived,
                    "constraints": {k: v for k, v in constraints.items() if k != "enum"},
                    "derived": derived is not None and spec["name"] not in sheet_fields,
                    "written_by_tool": derived is not None and spec["name"] in sheet_fields,
                    "separator": extra.get("separator"),
                    "options": options,
                    "kind": kind,
                    "example": spec.get("example"),
                }
            )
        return {
            "dataset": self.dataset.name,
            "fields": fields,
            "sheet_fields": codebook.sheet_fields,
            "sub_event_types": self._hierarchy(),
            "evidence_join": EVIDENCE_JOIN,
        }

    def _options(self, reference: str) -> list[dict[str, str]]:
        table, _, column = reference.partition(".")
        frame = self.dataset.codebook.vocabulary(table)
        label = next((c for c in ("label", "actor_type") if c in frame.columns and c != column), None)
        seen: dict[str, str] = {}
        for _, row in frame.iterrows():
            value = str(row[column])
            if value not in seen:
                seen[value] = f"{value} – {row[label]}" if label else value
        return [{"value": v, "label": text} for v, text in seen.items()]

    def _hierarchy(self) -> dict[str, list[str]]:
        """Event type → its sub-event types, from the vocabulary the sub_event_type field names."""
        codebook = self.dataset.codebook
        reference = str(codebook.field("sub_event_type").get("eventdata", {}).get("vocabulary", ""))
        table, _, column = reference.partition(".")
        frame = codebook.vocabulary(table)
        if "event_type" not in frame.columns:
            return {}
        hierarchy: dict[str, list[str]] = {}
        for parent, child in zip(frame["event_type"], frame[column], strict=True):
            hierarchy.setdefault(str(parent), []).append(str(child))
        return hierarchy

    def actors(self) -> list[dict[str, Any]]:
        """Every actor name and alias with the actor it means and the dates it is valid."""
        actors = self.dataset.actors
        if actors is None:
            return []
        names = actors.names.sort_values(["actor", "start", "name"])
        return [
            {
                "name": str(row["name"]),
                "actor": str(row["actor"]),
                "inter": int(row["inter"]),
                "country": str(row["country"]),
                "start": _open_day(row["start"], start=True),
                "end": _open_day(row["end"], start=False),
            }
            for _, row in names.iterrows()
        ]

    def places(self) -> list[dict[str, str]]:
        """Every place name and alternate name with the place it means."""
        gazetteer = self.dataset.gazetteer
        if gazetteer is None:
            return []
        places = gazetteer.places
        return [
            {
                "name": str(row["name"]),
                "location": str(places.loc[row["place"], "location"]),
                "country": str(row["country"]),
                "admin1": str(row["admin1"]),
            }
            for _, row in gazetteer.names.iterrows()
        ]

    def lookup(self, kind: str, name: str, when: str = "", country: str = "") -> dict[str, Any]:
        """Whether a typed actor or place is known (valid on the date, in the country), else the closest names."""
        name = name.strip()
        key = " ".join(name.split()).casefold()
        if kind == "actor":
            entries = self.actors()
            day = when if re.fullmatch(r"\d{4}-\d{2}-\d{2}", when or "") else ""
            matches = [e for e in entries if e["name"].casefold() == key]
            active = [e for e in matches if not day or e["start"] <= day <= e["end"]]
            known = sorted({e["actor"] for e in active})
            names = sorted({e["name"] for e in entries if not day or e["start"] <= day <= e["end"]})
        else:
            entries = self.places()
            matches = [e for e in entries if " ".join(e["name"].split()).casefold() == key]
            active = [e for e in matches if not country or e["country"] == country]
            known = sorted({e["location"] for e in active})
            names = sorted({e["name"] for e in entries if not country or e["country"] == country})
        inactive = sorted({e["actor"] if kind == "actor" else e["location"] for e in matches} - set(known))
        suggestions = [] if known else get_close_matches(name, names, n=3, cutoff=0.6)
        return {"name": name, "known": known, "elsewhere": inactive, "did_you_mean": suggestions}

    # --- articles and sheets -----------------------------------------------------------------------

    def articles(self) -> list[dict[str, Any]]:
        events = self._events()
        return [
            {
                "id": a.article_id,
                "title": a.title,
                "publisher": a.publisher,
                "published": a.published.isoformat(),
                "events": sum(1 for e in events if a.article_id in e["article_ids"]),
            }
            for a in self.dataset.articles.values()
        ]

    def article(self, article_id: str, coder: str = "") -> dict[str, Any]:
        """An article's text and metadata, the events coded from it, and the sheet the coder saves into."""
        article = self.dataset.articles.get(article_id)
        if article is None:
            raise NotFound(f"article {article_id!r} is not in {display_path(self.dataset.project.articles_index)}.")
        sheet = self.coder_sheet(article_id, coder) if coder.strip() else None
        if self.double_coded(article_id):
            # Double coding is blind: a coder sees only the events of their own sheet of the article.
            own = [self.sheet_path(sheet["name"])] if sheet else []
            events = [
                e for e in self._events(own, prefix=f"{DOUBLE_DIR}/{article_id}/") if article_id in e["article_ids"]
            ]
        else:
            events = [e for e in self._events() if article_id in e["article_ids"]]
        for event in events:
            del event["article_ids"]
        return {
            "id": article.article_id,
            "title": article.title,
            "publisher": article.publisher,
            "url": article.url,
            "published": article.published.isoformat(),
            "language": article.language,
            "text": article.text,
            "events": events,
            "sheet": sheet,
            "double_coded": self.double_coded(article_id),
        }

    def double_coded(self, article_id: str) -> bool:
        """Whether the article is coded by several coders apart (seeds/double/<article_id>/, or assigned twice)."""
        seeds = self.dataset.project.seeds_dir
        if (seeds / DOUBLE_DIR / article_id).is_dir():
            return True
        try:
            rows = read_csv(seeds / ASSIGNMENTS_FILE).dicts()
        except CsvFileError:
            return False  # `eventdata agreement` names what is wrong with it
        coders = {row.get("coder", "") for _, row in rows if row.get("article_id") == article_id}
        return len(coders - {""}) >= 2

    def _events(self, paths: list[Path] | None = None, prefix: str = "") -> list[dict[str, Any]]:
        events = []
        for path in self.dataset.project.sheet_paths() if paths is None else paths:
            data = read_bytes(path)
            if data is None:
                continue
            try:
                sheet = parse_sheet(data)
            except (SheetFormatError, UnicodeDecodeError):
                continue  # `eventdata validate` names what is wrong with it
            header = sheet.header
            for record in sheet.rows:
                if not any(c.strip() for c in record.cells):
                    continue
                values = dict(zip(header, record.cells, strict=False))
                events.append(
                    {
                        "sheet": prefix + path.name,
                        "line": record.line,
                        "values": values,
                        "article_ids": [a for a in values.get("article_id", "").split("; ") if a],
                    }
                )
        return events

    def sheet_path(self, name: str) -> Path:
        """seeds/sheets/<name>, or seeds/double/<article_id>/<coder>.csv for a name 'double/…'."""
        double = DOUBLE_SHEET.fullmatch(name)
        if double and ".." not in name.split("/"):
            return self.dataset.project.seeds_dir / name
        if not SHEET_NAME.fullmatch(name):
            raise WorkbenchError(f"{name!r} is not a sheet name: letters, digits, '_', '.', '-', ending in .csv.")
        return self.sheets_dir / name

    def sheet_state(self, name: str) -> dict[str, Any]:
        """A sheet as the coder loads it: its hash (None when it does not exist yet), columns and coders."""
        path = self.sheet_path(name)
        data = read_bytes(path)
        where = path.relative_to(self.dataset.root).as_posix()
        if data is None:
            columns = self.dataset.codebook.sheet_fields
            return {"name": name, "path": where, "hash": None, "columns": columns, "coders": []}
        sheet = self._parse(path, data)
        return {
            "name": name,
            "path": where,
            "hash": content_hash(data),
            "columns": sheet.header,
            "coders": _coders(sheet),
        }

    def coder_sheet(self, article_id: str, coder: str) -> dict[str, Any]:
        """The sheet a coder saves an article's events into: one sheet, one coder.

        The coder's own sheet of the article if there is one; else `<article id>.csv` if it is free;
        else `<article id>.<coder>.csv`, so that a second coder of the article codes it apart (double coding).
        """
        coder = coder.strip()
        if not coder:
            raise WorkbenchError("say who is coding: the coder's name is written in every row (the coder column).")
        if self.double_coded(article_id):
            return self.sheet_state(f"{DOUBLE_DIR}/{article_id}/{coder_slug(coder)}.csv")
        for event in self._events():
            if article_id in event["article_ids"]:
                state = self.sheet_state(event["sheet"])
                if state["coders"] == [coder]:
                    return state
        default = f"{article_id}.csv"
        state = self.sheet_state(default)
        if state["hash"] is None or state["coders"] in ([], [coder]):
            return state
        slug = re.sub(r"[^A-Za-z0-9]+", "-", coder).strip("-").lower() or "coder"
        return self.sheet_state(f"{article_id}.{slug}.csv")

    def _parse(self, path: Path, data: bytes) -> SheetText:
        try:
            return parse_sheet(data)
        except (SheetFormatError, UnicodeDecodeError) as err:
            raise WorkbenchError(
                f"{display_path(path)} cannot be edited here ({err}); `eventdata validate` names the problem."
            ) from err

    def _text_of(self, path: Path, data: bytes | None) -> SheetText:
        if data is None:
            header = ",".join(self.dataset.codebook.sheet_fields) + "\n"
            return parse_sheet(header.encode("utf-8"))
        return self._parse(path, data)

    # --- checking and saving -----------------------------------------------------------------------

    def check(self, name: str, line: int | None, values: dict[str, str]) -> Checked:
        """The problems `eventdata validate` would report on this row once saved, and its derived values."""
        path = self.sheet_path(name)
        sheet = self._text_of(path, read_bytes(path))
        return self._check(path, sheet, line, values)

    def _check(self, path: Path, sheet: SheetText, line: int | None, values: dict[str, str]) -> Checked:
        absent = [c for c, v in values.items() if v.strip() and c not in sheet.header]
        if absent:
            raise WorkbenchError(
                f"{display_path(path)} has no column {', '.join(absent)}: add the column to the sheet's header first."
            )
        cells = {c: _one_line_safe(v) for c, v in values.items()}
        try:
            edited, row_line = sheet.with_row(cells, line)
        except KeyError as err:
            raise SheetChanged(f"{display_path(path)} has no row starting at line {line} any more; reload it.") from err
        codebook = self.dataset.codebook
        shown = display_path(path)
        with tempfile.TemporaryDirectory(prefix="eventdata-serve-") as folder:
            draft = Path(folder) / path.name
            draft.write_text(edited.text(), encoding="utf-8", newline="")
            id_columns = [f for f in codebook.sheet_fields if codebook.derivation(f) == "event_id"]
            read = read_sheet(
                draft,
                codebook.field_names,
                codebook.input_required_fields,
                trailing_optional=id_columns[0] if id_columns else None,
            )
        frame = read.frame
        frame[SHEET_COLUMN] = shown
        problems = [p for p in read.problems if p.line == row_line]
        typed, row_problems, _ = validate_events(frame, codebook, self._references(), today=self.today)
        problems += [p for p in row_problems if p.line == row_line and p.file == shown]
        problems = with_severities(problems, self.dataset.severities)
        derived: dict[str, str] = {}
        at = typed.index[typed[LINE_COLUMN] == row_line].tolist() if LINE_COLUMN in typed.columns else []
        if at:
            row = typed.loc[at[0]]
            for name in codebook.derived_fields:
                derived[name] = _shown(row.get(name))
        return Checked(row_line, [_problem(p) for p in problems], derived)

    def _references(self) -> References:
        return self.dataset.references()

    def save(
        self,
        name: str,
        line: int | None,
        values: dict[str, str],
        *,
        base_hash: str | None,
        coder: str,
        accept_errors: bool = False,
    ) -> Saved:
        """Write the row into the sheet, atomically, if the sheet is still the one the coder loaded.

        Refused (nothing written) when the sheet changed on disk since `base_hash`, when it is another
        coder's sheet, or when the row fails a blocking check and accept_errors is not set.
        """
        coder = _coder_named(coder, "saving")
        path = self.sheet_path(name)
        with self._lock, _folder_lock(path.parent):
            sheet = self._editable(path, base_hash, coder, line)
            values = {**values, "coder": coder} if "coder" in sheet.header else dict(values)
            checked = self._check(path, sheet, line, values)
            if checked.errors and not accept_errors:
                raise Blocked(
                    f"not saved: the row fails {len(checked.errors)} blocking check(s) "
                    f"({', '.join(sorted({p['code'] for p in checked.errors}))}). Fix them, or save anyway "
                    "knowing that `eventdata validate` will fail until they are fixed.",
                    checked.problems,
                )
            edited, row_line = sheet.with_row({c: _one_line_safe(v) for c, v in values.items()}, line)
            payload = edited.text().encode("utf-8")
            write_atomic(path, payload)
        return Saved(name, row_line, content_hash(payload), checked, bool(checked.errors))

    def delete(self, name: str, line: int, *, base_hash: str | None, coder: str) -> Deleted:
        """Remove the coder's row at `line` from the sheet, atomically, every other byte kept.

        Refused (nothing written) on the same grounds as a save, and when the row's event is in the latest
        release: deleting a released event is declared in seeds/deletions.csv, with a reason.
        """
        coder = _coder_named(coder, "deleting")
        path = self.sheet_path(name)
        with self._lock, _folder_lock(path.parent):
            sheet = self._editable(path, base_hash, coder, line)
            row = sheet.rows[sheet.row_at(line)]
            event_id = dict(zip(sheet.header, row.cells, strict=False)).get("event_id_cnty", "").strip()
            released = self.dataset.latest_release
            if event_id and released is not None and event_id in self._released_ids():
                raise Blocked(
                    f"not deleted: {event_id} is in release {released.version}. A released event is deleted by "
                    f"a line in seeds/deletions.csv ({event_id},<why it is deleted>) and removing its row; "
                    "ask the data manager, who keeps the deletions."
                )
            payload = sheet.without_row(line).text().encode("utf-8")
            write_atomic(path, payload)
        return Deleted(name, line, content_hash(payload), event_id or None, max(row.raw.count("\n"), 1))

    def _editable(self, path: Path, base_hash: str | None, coder: str, line: int | None) -> SheetText:
        """The sheet on disk, if it is the one the coder loaded and the row (or the sheet) is theirs."""
        shown = display_path(path)
        data = read_bytes(path)
        current = content_hash(data) if data is not None else None
        if current != base_hash:
            if base_hash is None:
                why = "was created by someone else after you opened the article"
            elif current is None:
                why = "was deleted or renamed after you loaded it"
            else:
                why = "was changed on disk after you loaded it (by another program, window or coder)"
            raise SheetChanged(
                f"{shown} {why}. Nothing was written and your edit is kept in the form: reload the sheet "
                "to see the other change, then try again."
            )
        sheet = self._text_of(path, data)
        others = [c for c in _coders(sheet) if c != coder]
        if line is not None:
            row = sheet.rows[_position(sheet, line, shown)]
            owner = dict(zip(sheet.header, row.cells, strict=False)).get("coder", "").strip()
            if owner and owner != coder:
                others = [owner]
        if others:
            raise NotYourSheet(
                f"{shown} is coded by {', '.join(sorted(set(others)))}: a sheet belongs to one coder. "
                f"Open the article as that coder, or work in your own sheet."
            )
        return sheet

    def _released_ids(self) -> set[str]:
        release = self.dataset.latest_release
        if release is None:
            return set()
        from eventdata.catalog import read_release_table

        ids = read_release_table(release, ["event_id_cnty"]).column("event_id_cnty")
        return {str(i) for i in ids.to_pylist() if i is not None}


def inputs_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Path, mtime and size of every file of schemas/ and of the article index: what a change shows in."""
    files = [p for p in sorted((root / "schemas").rglob("*")) if p.is_file()]
    files += [root / "seeds" / "articles.csv"]
    out = []
    for path in files:
        with contextlib.suppress(OSError):  # gone between the listing and the look
            stat = path.stat()
            out.append((path.relative_to(root).as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def _coder_named(coder: str, doing: str) -> str:
    coder = coder.strip()
    if not coder:
        raise WorkbenchError(f"say who is coding before {doing}: the coder column needs a name.")
    return coder


def coder_slug(coder: str) -> str:
    """A coder's name as a file name, as eventdata/agreement.py names double-coding sheets."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", coder).strip("-.") or "coder"


def _position(sheet: SheetText, line: int, shown: str) -> int:
    try:
        return sheet.row_at(line)
    except KeyError as err:
        raise SheetChanged(f"{shown} has no row starting at line {line} any more; reload it.") from err


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the sheets folder, so two workbenches on one dataset save one at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _coders(sheet: SheetText) -> list[str]:
    if "coder" not in sheet.header:
        return []
    at = sheet.header.index("coder")
    return sorted({r.cells[at].strip() for r in sheet.rows if len(r.cells) > at and r.cells[at].strip()})


def _one_line_safe(value: str) -> str:
    """A cell as the coder typed it, with line breaks kept as the sheet's CSV quoting writes them."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "message": problem.message,
        "column": problem.column,
        "value": problem.value,
        "severity": problem.severity,
        "text": problem.format(),
    }


def _shown(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


def _open_day(value: Any, *, start: bool) -> str:
    day = pd.Timestamp(value)
    if start and day.year <= 1800:
        return "0000-01-01"
    if not start and day.year >= 2200:
        return "9999-12-31"
    return day.date().isoformat()

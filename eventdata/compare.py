"""What differs between a release and a rebuild of it: data and metadata values, not the tool's wording.

A newer eventdata may word a README, a data changelog, a codebook page or a report differently; what a
release promises is its data: the events (values and Arrow types), every CSV's parsed values, the fields of
datapackage.json (but the stamp of the tool that built it, and the hashes and sizes of the files, which are
compared by content instead) and the sources it was built from (byte for byte). `verify` reports each
difference as a Problem naming the file, the event or row, the column and both values; `build` uses the same
comparison to tell whether the sheets still hold the latest release.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata.errors import EventdataError, Problem, ReleaseError
from eventdata.files import sha256_file
from eventdata.sources.sheets import CsvFileError, display_path, read_csv

#: Files a build writes for people to read, generated from the data compared elsewhere: their wording may
#: change between eventdata versions without the release changing (their bytes are still hashed by verify).
DOCUMENTS = frozenset({"README.md", "CHANGELOG.md", "codebook.md", "report.html"})
#: Fields of datapackage.json that record which eventdata wrote the package, not what it holds.
TOOL_STAMPS = frozenset({"eventdata:built_with"})
#: Fields of a datapackage.json resource that describe the file's bytes (its content is compared instead).
BYTE_FIELDS = frozenset({"hash", "bytes"})
#: At most this many value differences are listed per file; the rest are counted.
LISTED = 20


@dataclass(frozen=True)
class Comparison:
    """The differences of a rebuild (as Problems) and the documents whose wording alone changed."""

    problems: tuple[Problem, ...] = ()
    reworded: tuple[str, ...] = ()
    compared: tuple[str, ...] = field(default=())

    @property
    def same(self) -> bool:
        return not self.problems


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "…"


class _Finder:
    """Collects the Problems of one file of the release."""

    def __init__(self, release_dir: Path, path: str) -> None:
        self.file = display_path(release_dir / path)
        self.path = path
        self.problems: list[Problem] = []
        self.values = 0

    def add(
        self, code: str, message: str, *, line: int | None = None, column: str | None = None, value: Any = None
    ) -> None:
        shown = None if value is None else str(value)
        self.problems.append(Problem(code, message, self.file, line, column, shown))

    def value(self, message: str, *, line: int | None, column: str, old: Any) -> None:
        self.values += 1
        if self.values <= LISTED:
            self.add("rebuild-value-differs", message, line=line, column=column, value=old)

    def finish(self) -> list[Problem]:
        if self.values > LISTED:
            self.add(
                "rebuild-value-differs",
                f"… and {self.values - LISTED} more values differ ({self.values} in all; eventdata diff compares "
                "two releases in full).",
            )
        return self.problems


# --- tables -------------------------------------------------------------------------------------------


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def _differing_rows(old: pa.ChunkedArray, new: pa.ChunkedArray) -> list[int]:
    old, new = _plain(old), _plain(new)
    if old.type != new.type:
        old, new = pc.cast(old, pa.string()), pc.cast(new, pa.string())
    equal = pc.fill_null(pc.equal(old, new), False)
    both_missing = pc.and_(pc.is_null(old), pc.is_null(new))
    differs = pc.invert(pc.or_(equal, both_missing))
    indices: list[int] = pc.indices_nonzero(differs).to_pylist()
    return indices


def compare_tables(
    finder: _Finder, old: pa.Table, new: pa.Table, *, key: str | None, types: bool, first_line: int | None
) -> None:
    """Columns, Arrow types (when types), row count and values of two tables; rows by position (both are sorted).

    key names the column that identifies a row in messages (the event id); first_line is the line of row 0 in
    a CSV file (None for Parquet).
    """
    for name in old.column_names:
        if name not in new.column_names:
            finder.add("rebuild-column-differs", f"column {name} is in the release, a rebuild lacks it.", column=name)
    for name in new.column_names:
        if name not in old.column_names:
            finder.add("rebuild-column-differs", f"a rebuild adds column {name}, the release has none.", column=name)
    if [n for n in old.column_names if n in new.column_names] != [n for n in new.column_names if n in old.column_names]:
        finder.add("rebuild-column-differs", "a rebuild orders the columns differently.")
    if types:
        for name in old.column_names:
            if name in new.column_names and old.schema.field(name).type != new.schema.field(name).type:
                finder.add(
                    "rebuild-column-differs",
                    f"column {name} is {old.schema.field(name).type} in the release, "
                    f"{new.schema.field(name).type} in a rebuild.",
                    column=name,
                )
    keyed = key if key in old.column_names and key in new.column_names else None
    if old.num_rows != new.num_rows:
        detail = ""
        if keyed is not None:
            before, after = set(_plain(old.column(keyed)).to_pylist()), set(_plain(new.column(keyed)).to_pylist())
            only_old, only_new = sorted(str(v) for v in before - after), sorted(str(v) for v in after - before)
            if only_old:
                detail += f"; only in the release: {', '.join(only_old[:10])}"
            if only_new:
                detail += f"; only in a rebuild: {', '.join(only_new[:10])}"
        finder.add(
            "rebuild-rows-differ", f"the release has {old.num_rows} rows, a rebuild gives {new.num_rows}{detail}."
        )
        return
    ids = _plain(old.column(keyed)).to_pylist() if keyed is not None else None
    for name in old.column_names:
        if name not in new.column_names:
            continue
        rows = _differing_rows(old.column(name), new.column(name))
        if not rows:
            continue
        before, after = _plain(old.column(name)), _plain(new.column(name))
        for row in rows:
            was, now = before[row].as_py(), after[row].as_py()
            where = f"event {ids[row]}" if ids is not None else f"row {row + 1}"
            finder.value(
                f"{where}, column {name}: the release has {_show(was)}, a rebuild gives {_show(now)}.",
                line=None if first_line is None else first_line + row,
                column=name,
                old=was,
            )


class _Unreadable(Exception):
    """A file that cannot be read as its format: the problem code, what is wrong, and the line when known."""

    def __init__(self, path: Path, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path, self.code, self.message, self.line = path, code, message, line


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        size = path.stat().st_size if path.is_file() else 0
        raise _Unreadable(path, "source-error", f"is not a readable Parquet file ({size} bytes): {err}") from err


def _read_csv(path: Path) -> pa.Table:
    """Every column as text (missing stays missing), as the file parses: quoting and line ends do not count."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        if not header:
            return pa.table({})
        return pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True
            ),
        )
    except (UnicodeDecodeError, csv.Error, pa.ArrowException) as err:
        raise _csv_damage(path, err) from err


def _csv_damage(path: Path, err: Exception) -> _Unreadable:
    """Where and how a CSV file is malformed, found by the one CSV reader of the dataset's lists."""
    try:
        records = read_csv(path)
    except CsvFileError as located:
        what = {
            "encoding-error": f"is not valid UTF-8: the byte at offset {located.byte} cannot be decoded",
            "empty-file": "is empty, without the header row every CSV file of a release has",
        }.get(located.code, f"is not well-formed CSV ({located.reason or located.detail})")
        return _Unreadable(path, located.code, what, located.line)
    for line, cells in records.ragged():
        code = "missing-cell" if len(cells) < len(records.header) else "extra-cell"
        what = f"has {len(cells)} cells on this line but {len(records.header)} in its header (cut short or damaged)"
        return _Unreadable(path, code, what, line)
    return _Unreadable(path, "source-error", f"cannot be read as CSV ({err})")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise _Unreadable(
            path, "encoding-error", f"is not valid UTF-8: the byte at offset {err.start} cannot be decoded"
        ) from err
    except json.JSONDecodeError as err:
        raise _Unreadable(path, "source-error", f"is not valid JSON ({err.msg})", err.lineno) from err


def _parquet_metadata(table: pa.Table) -> dict[str, Any]:
    raw = (table.schema.metadata or {}).get(b"eventdata")
    try:
        loaded = json.loads(raw) if raw else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        loaded = None
    if not isinstance(loaded, dict):  # damaged: compared (and shown) as the text it holds
        return {"eventdata": raw.decode("utf-8", "replace") if raw else None}
    return loaded


# --- datapackage.json ------------------------------------------------------------------------------------


def _comparable(descriptor: dict[str, Any]) -> dict[str, Any]:
    """datapackage.json without the tool's stamp and the files' hashes and sizes."""
    kept = {k: v for k, v in descriptor.items() if k not in TOOL_STAMPS}
    resources = kept.get("resources")
    if isinstance(resources, list):
        kept["resources"] = [
            {k: v for k, v in r.items() if k not in BYTE_FIELDS} if isinstance(r, dict) else r for r in resources
        ]
    return kept


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in ("name", "path"):
            label = item.get(key)
            if isinstance(label, str):
                return label
    return str(index)


def json_differences(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, release value, rebuild value) of every differing leaf; list items with a name are matched by it."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                found.append((where, old[key], None))
            elif key not in old:
                found.append((where, None, new[key]))
            else:
                found += json_differences(old[key], new[key], where)
        return found
    if isinstance(old, list) and isinstance(new, list):
        old_labels = [_label(x, i) for i, x in enumerate(old)]
        new_labels = [_label(x, i) for i, x in enumerate(new)]
        if (
            len(set(old_labels)) == len(old)
            and old_labels != [str(i) for i in range(len(old))]
            and set(old_labels) == set(new_labels)
        ):
            if old_labels != new_labels:
                return [(path, old_labels, new_labels)]
            found = []
            for label, a, b in zip(old_labels, old, new, strict=True):
                found += json_differences(a, b, f"{path}[{label}]")
            return found
        if len(old) != len(new):
            return [(path, old, new)]
        found = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found += json_differences(a, b, f"{path}[{_label(a, index)}]")
        return found
    return [] if old == new and type(old) is type(new) else [(path, old, new)]


# --- packages ---------------------------------------------------------------------------------------------


def _compare_file(release_dir: Path, rebuilt_dir: Path, path: str) -> list[Problem]:
    """The differences of one file; a release file that cannot be read is a finding about the release."""
    finder = _Finder(release_dir, path)
    try:
        _compare_contents(finder, release_dir / path, rebuilt_dir / path, path)
    except _Unreadable as err:
        if err.path != release_dir / path:
            raise  # a file the rebuild wrote that it cannot read back: a bug, not a damaged release
        finder.add(
            err.code,
            f"this file of the release {err.message}, so it cannot be compared with a rebuild; the release is "
            "damaged: restore the file from a backup or the published copy.",
            line=err.line,
        )
    return finder.finish()


def _compare_contents(finder: _Finder, old: Path, new: Path, path: str) -> None:
    if path == "datapackage.json":
        before = _comparable(_read_json(old))
        after = _comparable(_read_json(new))
        for where, was, now in json_differences(before, after):
            finder.add(
                "rebuild-metadata-differs",
                f"{where}: the release has {_show(was)}, a rebuild gives {_show(now)}.",
                column=where,
                value=None if was is None else _show(was),
            )
    elif path.endswith(".parquet"):
        before_table, after_table = _read_parquet(old), _read_parquet(new)
        compare_tables(finder, before_table, after_table, key="event_id_cnty", types=True, first_line=None)
        if _parquet_metadata(before_table) != _parquet_metadata(after_table):
            finder.add(
                "rebuild-metadata-differs",
                f"the Parquet metadata is {_show(_parquet_metadata(before_table))} in the release, "
                f"{_show(_parquet_metadata(after_table))} in a rebuild.",
            )
    elif path.endswith(".csv") and not path.startswith("sources/"):
        key = "article_id" if path.endswith("articles.csv") else "event_id_cnty"
        compare_tables(finder, _read_csv(old), _read_csv(new), key=key, types=False, first_line=2)
    elif sha256_file(old) != sha256_file(new):
        finder.add("rebuild-file-differs", "a rebuild gives different bytes for this file (it is data: an input).")


def compare_packages(release_dir: Path, rebuilt_dir: Path) -> Comparison:
    """The differences of a rebuilt package from a release: data and metadata values; documents are not compared."""
    old, new = _files(release_dir), _files(rebuilt_dir)
    problems: list[Problem] = []
    reworded: list[str] = []
    compared: list[str] = []
    for path in sorted(set(old) | set(new)):
        if path in DOCUMENTS:
            if path in old and path in new and sha256_file(release_dir / path) != sha256_file(rebuilt_dir / path):
                reworded.append(path)
            continue
        if path not in new or path not in old:
            where = "is in the release, a rebuild does not write it" if path in old else "is written by a rebuild"
            suffix = "" if path in old else ", the release has no such file"
            problems.append(
                Problem("rebuild-file-differs", f"{path} {where}{suffix}.", display_path(release_dir / path))
            )
            continue
        compared.append(path)
        problems += _compare_file(release_dir, rebuilt_dir, path)
    return Comparison(tuple(problems), tuple(reworded), tuple(compared))


# --- rebuilds ---------------------------------------------------------------------------------------------


@contextmanager
def copies_named(copies: Mapping[Path, Path]) -> Iterator[None]:
    """EventdataErrors raised inside name the folders a rebuild copied, not the temporary copies it read.

    copies maps each temporary folder to the one it copies (a scratch project to the release's sources/, its
    copy of the previous release to that release): a message naming the copy would point at a folder that is
    gone once the command ends, and not at the file to restore.
    """
    try:
        yield
    except EventdataError as err:
        message = str(err)
        for copy, original in sorted(copies.items(), key=lambda item: len(str(item[0])), reverse=True):
            for shown in dict.fromkeys((str(copy), display_path(copy))):
                message = message.replace(shown, display_path(original))
        if message == str(err):
            raise
        raise ReleaseError(message) from err

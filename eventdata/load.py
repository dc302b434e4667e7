"""For data users: `load()` a version from a local dist-data folder or a published catalog, and `update_parquet()`.

Downloads are verified against the sha256 in the catalog and cached by hash, in the
manner of pooch: a file is fetched once, and a corrupt or altered file is never used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata.catalog import CATALOG_FILE, check_catalog, version_key
from eventdata.changes import (
    KEY,
    MODIFIED_COLUMNS,
    apply_changes,
    column_differences,
    events_arrow_schema,
    events_fields,
    from_text,
)
from eventdata.errors import ReleaseError, SourceError
from eventdata.files import replace_atomically, sha256_bytes, sha256_file, write_atomic
from eventdata.manifest import check_bytes, matches
from eventdata.package import FORMAT_KEY, categories, normalise_table, restore_formulas, write_parquet
from eventdata.read import events_schema, with_vocabularies
from eventdata.sources.sheets import CsvFileError, ragged_message, read_csv

CACHE_ENV = "EVENTDATA_CACHE_DIR"


def cache_dir() -> Path:
    """Where downloads are kept: $EVENTDATA_CACHE_DIR, else ~/.cache/eventdata."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "eventdata")


def _is_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def catalog_location(source: str | os.PathLike[str]) -> str:
    """The catalog.json of a source: a dist-data/<name> folder, a catalog path or URL, or a folder URL."""
    text = os.fspath(source)
    if text.startswith("file://"):
        text = urllib.parse.urlparse(text).path
    if _is_url(text):
        return text if text.endswith(".json") else text.rstrip("/") + "/" + CATALOG_FILE
    path = Path(text)
    if path.is_dir():
        if (path / CATALOG_FILE).is_file():
            return str(path / CATALOG_FILE)
        candidates = sorted(path.glob(f"*/{CATALOG_FILE}"))
        if len(candidates) == 1:
            return str(candidates[0])
        raise SourceError(
            f"{path} holds no {CATALOG_FILE} (or several datasets); give the dataset folder or its catalog."
        )
    if path.is_file():
        return str(path)
    raise SourceError(f"{source} is neither a folder, a catalog file nor a URL.")


def _read_bytes(location: str) -> bytes:
    if _is_url(location):
        scheme = urllib.parse.urlparse(location).scheme
        if scheme in ("http", "https"):
            try:
                with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310  # http(s) only
                    data: bytes = response.read()
                    return data
            except OSError as err:
                raise SourceError(f"Cannot download {location}: {err}.") from err
        try:
            import fsspec  # optional: s3:// and other object stores
        except ImportError as err:
            raise SourceError(f"Reading {scheme}:// needs fsspec (pip install fsspec s3fs).") from err
        with fsspec.open(location, "rb") as handle:
            return bytes(handle.read())
    try:
        return Path(location).read_bytes()
    except OSError as err:
        raise SourceError(f"Cannot read {location}: {err.strerror}.") from err


def _join(base: str, relative: str) -> str:
    if _is_url(base):
        return base.rsplit("/", 1)[0] + "/" + relative
    return str(Path(base).parent / relative)


def read_catalog_at(location: str) -> dict[str, Any]:
    """The catalog at location; for a URL that cannot be reached, the last copy fetched from it."""
    remembered = cache_dir() / "catalogs" / f"{sha256_bytes(location.encode())}.json"
    try:
        raw = _read_bytes(location)
    except SourceError:
        if not _is_url(location) or not remembered.is_file():
            raise
        raw = remembered.read_bytes()  # offline: the versions cached from this catalog stay usable
    try:
        data: dict[str, Any] = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SourceError(f"{location} is not a valid catalog ({getattr(err, 'msg', err)}).") from err
    check_catalog(data, location)
    if _is_url(location):
        write_atomic(remembered, raw)
    return data


def version_entry(catalog: dict[str, Any], version: str) -> dict[str, Any]:
    wanted = catalog.get("latest") if version == "latest" else version
    for entry in catalog.get("versions", []):
        if entry["version"] == wanted:
            return dict(entry)
    known = ", ".join(v["version"] for v in catalog.get("versions", []))
    raise SourceError(f"Version {version} is not in the catalog; available: {known or 'none'}.")


def fetch_file(catalog_at: str, item: dict[str, Any]) -> Path:
    """One catalog file, verified by sha256, from the cache or the source."""
    digest = str(item["sha256"])
    cached = cache_dir() / "files" / digest[:2] / digest
    if matches(cached, digest):
        return cached
    location = _join(catalog_at, item["path"])
    if not _is_url(location) and matches(Path(location), digest):
        return Path(location)  # a local release needs no copy
    data = _read_bytes(location)
    wrong = check_bytes(data, digest, location)
    if wrong is not None:
        raise SourceError(
            f"{wrong}: the file is corrupt or was altered. Nothing was cached; try again or report it to the publisher."
        )
    write_atomic(cached, data)
    return cached


def _file(catalog_at: str, entry: dict[str, Any], name: str) -> Path:
    path = f"{entry['version']}/{name}"
    for item in entry["files"]:
        if item["path"] == path:
            return fetch_file(catalog_at, item)
    raise SourceError(f"Version {entry['version']} lists no file {name}.")


def load_table(source: str | os.PathLike[str], version: str = "latest") -> pa.Table:
    """The events of a version as an Arrow table, verified against the catalog."""
    location = catalog_location(source)
    entry = version_entry(read_catalog_at(location), version)
    return pq.read_table(_file(location, entry, "data/events.parquet"))


def _descriptor(location: str, entry: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_file(location, entry, "datapackage.json").read_text(encoding="utf-8"))
    return data


def load(source: str | os.PathLike[str], version: str = "latest") -> pd.DataFrame:
    """The events of a version as a pandas frame (dates as datetime64, vocabularies as categoricals).

    Categoricals hold the codebook's whole vocabulary in codebook order, so frames of two versions concatenate.
    """
    location = catalog_location(source)
    entry = version_entry(read_catalog_at(location), version)
    table = pq.read_table(_file(location, entry, "data/events.parquet"))
    return with_vocabularies(table.to_pandas(date_as_object=False), events_schema(_descriptor(location, entry)))


def parquet_version(path: Path) -> tuple[str, str]:
    """(dataset name, version) recorded in an events.parquet written by eventdata."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError) as err:
        size = path.stat().st_size if path.is_file() else 0
        raise SourceError(
            f"{path} ({size} bytes) is not a readable Parquet file: it is truncated or in another format. "
            "Download the version again with eventdata.load(source, version)."
        ) from err
    raw = metadata.get(b"eventdata")
    if raw is None:
        raise SourceError(
            f"{path} carries no eventdata version; only events.parquet files of a release can be updated."
        )
    try:
        info = json.loads(raw)
        return str(info["name"]), str(info["version"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise SourceError(f"{path}: its eventdata metadata is malformed; it was not written by a release.") from err


def _first(mask: pa.Array | pa.ChunkedArray) -> int | None:
    """The position of the first true value of a mask (None when there is none)."""
    hits = pc.indices_nonzero(pc.fill_null(mask, False))
    return int(hits[0].as_py()) if len(hits) else None


def _value_problem(values: pa.Array, field: pa.Field, vocabulary: list[str] | None) -> tuple[int, str] | None:
    """The first of a column's text values that the field cannot hold (its position, and why), or None."""
    found: list[tuple[int, str]] = []
    empty = None if field.nullable else _first(pc.is_null(values))
    if empty is not None:
        found.append((empty, "the value is empty, but the column requires one"))
    if pa.types.is_dictionary(field.type):
        if vocabulary is not None:
            known = pc.is_in(values, value_set=pa.array(vocabulary, pa.string()))
            outside = _first(pc.and_(pc.is_valid(values), pc.invert(known)))
            if outside is not None:
                found.append((outside, f"{values[outside].as_py()!r} is not in the column's vocabulary"))
        return min(found, default=None)
    try:
        pc.cast(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # find the value that fails: only on this error path
        for row, value in enumerate(values.to_pylist()):
            try:
                pc.cast(pa.array([value], pa.string()), field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                found.append((row, f"{value!r} is not a value of the column's type ({field.type})"))
                break
    return min(found, default=None)


class _Delta:
    """The changes/ files of one version, read as text and checked against the table they apply to.

    A damaged file is named (its catalog path or URL) at the line and column of what is wrong, before anything is
    applied: `update` then leaves the local file as it was.
    """

    def __init__(self, location: str, entry: dict[str, Any], local: Path) -> None:
        self.location, self.entry, self.local = location, entry, local
        self.version = str(entry["version"])

    def where(self, name: str) -> str:
        return _join(self.location, f"{self.version}/changes/{name}")

    def damaged(self, name: str, line: int | None, what: str) -> ReleaseError:
        at = self.where(name) if line is None else f"{self.where(name)}:{line}"
        return ReleaseError(
            f"{at}: {what}. The delta of version {self.version} is damaged, so {self.local} was left unchanged: "
            "report it to the publisher, or download the version instead: eventdata.load(source, version)."
        )

    def read(self, name: str, columns: list[str], *, exact: bool = False) -> tuple[pa.Table, Path]:
        """A changes file with the given columns as text (exact: no other column); its header is checked."""
        path = _file(self.location, self.entry, f"changes/{name}")
        quoted = {"quoted_strings_can_be_null": False} if name == "modified.csv" else {}
        try:
            table = pa_csv.read_csv(
                path,
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.string() for c in columns}, strings_can_be_null=True, **quoted
                ),
            )
        except pa.ArrowException as err:
            raise self._unparsed(name, path, err) from err
        header = table.column_names
        lacking = [c for c in columns if c not in header]
        repeated = [c for c in dict.fromkeys(header) if header.count(c) > 1]
        unknown = [c for c in header if c not in columns] if exact else []
        for wrong, what in ((lacking, "lacks"), (repeated, "repeats"), (unknown, "has unknown")):
            if wrong:
                raise self.damaged(name, 1, f"the header {what} the column(s) {', '.join(wrong)}")
        if int(_descriptor(self.location, self.entry).get(FORMAT_KEY, 1)) >= 2:  # format 1 wrote them as they were
            restored = ("old_value", "new_value") if name == "modified.csv" else columns
            for column in restored:
                index = table.schema.get_field_index(column)
                table = table.set_column(index, column, restore_formulas(table.column(column)))
        return table, path

    def _unparsed(self, name: str, path: Path, err: pa.ArrowException) -> ReleaseError:
        """The line of a CSV file pyarrow cannot parse, found by the one CSV reader of the dataset's lists."""
        try:
            records = read_csv(path)
        except CsvFileError as located:
            return self.damaged(name, located.line, located.detail.rstrip("."))
        for line, cells in records.ragged():
            return self.damaged(name, line, ragged_message(len(cells), len(records.header)).rstrip("."))
        return self.damaged(name, None, f"it cannot be read as CSV ({err})")

    def line(self, path: Path, table: pa.Table, row: int) -> int:
        """The line of a row of a changes file (the header is line 1)."""
        try:
            rows = read_csv(path).rows
        except CsvFileError:
            return row + 2
        return rows[row][0] if len(rows) == table.num_rows else row + 2

    def check_values(
        self,
        name: str,
        path: Path,
        table: pa.Table,
        rows: pa.Array,
        values: pa.Array,
        field: pa.Field,
        vocabulary: list[str] | None,
    ) -> None:
        problem = _value_problem(values, field, vocabulary)
        if problem is not None:
            position, what = problem
            row = int(rows[position].as_py())
            raise self.damaged(name, self.line(path, table, row), f"column {field.name}: {what}")


def _read_changes(
    delta: _Delta, previous: pa.Table, vocabularies: dict[str, list[str]] | None
) -> tuple[pa.Table, pd.DataFrame, list[str]]:
    """A version's added rows, modified values and deleted ids, checked against the table they apply to."""
    schema = previous.schema
    deleted, _ = delta.read("deleted.csv", [KEY])
    deleted_ids = pc.drop_null(deleted.column(KEY)).combine_chunks()
    added, added_path = delta.read("added.csv", schema.names, exact=True)
    every_row = pa.array(np.arange(added.num_rows, dtype=np.int64))
    for field in schema:
        values = added.column(field.name).combine_chunks()
        delta.check_values(
            "added.csv", added_path, added, every_row, values, field, (vocabularies or {}).get(field.name)
        )
    modified, modified_path = delta.read("modified.csv", list(MODIFIED_COLUMNS))
    ids, columns = modified.column(KEY).combine_chunks(), modified.column("column").combine_chunks()
    kept = pc.filter(previous.column(KEY), pc.invert(pc.is_in(previous.column(KEY), value_set=deleted_ids)))
    changeable = pa.array([n for n in schema.names if n != KEY], pa.string())
    pairs = pd.DataFrame({"id": ids.to_pandas(), "column": columns.to_pandas()})
    for mask, what in (
        (pc.is_null(ids), f"{KEY} is empty"),
        (
            pc.invert(pc.is_in(columns, value_set=changeable)),
            f"'column' must name a column of the events other than {KEY}",
        ),
        (pc.invert(pc.is_in(ids, value_set=kept.combine_chunks())), "the event is not in the previous version"),
        (pa.array(pairs.duplicated().to_numpy()), "the event's value in this column is changed twice"),
    ):
        row = _first(mask)
        if row is not None:
            shown = f"{KEY}={ids[row].as_py()!r}, column={columns[row].as_py()!r}"
            raise delta.damaged("modified.csv", delta.line(modified_path, modified, row), f"{shown}: {what}")
    new_values = modified.column("new_value").combine_chunks()
    for name in pc.unique(columns).to_pylist():
        rows = pc.indices_nonzero(pc.equal(columns, name))
        field = schema.field(name)
        values = pc.take(new_values, rows)
        delta.check_values("modified.csv", modified_path, modified, rows, values, field, (vocabularies or {}).get(name))
    return added, modified.to_pandas(), deleted_ids.to_pylist()


def _read_local(local: Path, descriptor_at: str, descriptor: dict[str, Any]) -> pa.Table:
    """The local events.parquet, checked against the Table Schema of the first version it is brought to."""
    try:
        table = pq.read_table(local)
    except (pa.ArrowException, OSError) as err:
        raise SourceError(
            f"{local} ({local.stat().st_size} bytes) is not a readable Parquet file ({err}): it is truncated or "
            "damaged. Download the version again with eventdata.load(source, version)."
        ) from err
    expected = events_arrow_schema(events_fields(events_schema(descriptor), f"{descriptor_at} (events)"))
    differences = column_differences(table.schema, expected)
    empty = table.column(KEY).null_count if not differences else 0
    if empty:
        differences.append(f"has {empty} events without an {KEY}")
    if differences:
        raise SourceError(
            f"{local} does not hold the events of a release as written: it {'; it '.join(differences)} "
            f"(compared with the Table Schema in {descriptor_at}). It was left unchanged; download the version "
            "again with eventdata.load(source, version)."
        )
    return table


def update_parquet(local: str | os.PathLike[str], source: str | os.PathLike[str], to: str = "latest") -> str:
    """Bring a local events.parquet to a newer version by applying each release's delta; return the version.

    The result is verified: its sha256 must equal the catalog's events.parquet of that version. Every file is
    checked before it is used; on any error the local file is left as it was.
    """
    local = Path(local)
    name, current = parquet_version(local)
    location = catalog_location(source)
    catalog = read_catalog_at(location)
    if catalog.get("name") not in (None, name):
        raise SourceError(f"{local} is from dataset {name}, the catalog describes {catalog.get('name')}.")
    target = str(version_entry(catalog, to)["version"])
    if to != "latest" and version_key(target) < version_key(current):
        raise SourceError(
            f"{local} already has version {current}, newer than the requested {target}: update only applies "
            f"deltas forward, so {local} was left unchanged. For version {target}, copy {target}/data/events.parquet "
            f'from {source}, or read it with eventdata.load(source, version="{target}").'
        )
    if version_key(target) <= version_key(current):
        return current
    steps = [v for v in catalog["versions"] if version_key(current) < version_key(v["version"]) <= version_key(target)]
    first = steps[0]["version"]
    table = _read_local(local, _join(location, f"{first}/datapackage.json"), _descriptor(location, steps[0]))
    for entry in steps:
        expected = next((i for i in entry["files"] if i["path"] == f"{entry['version']}/data/events.parquet"), None)
        if expected is None:
            raise SourceError(f"{location}: version {entry['version']} lists no data/events.parquet.")
        descriptor = _descriptor(location, entry)
        vocabularies = categories(events_schema(descriptor)) if int(descriptor.get(FORMAT_KEY, 1)) >= 2 else None
        added, modified, deleted = _read_changes(_Delta(location, entry, local), table, vocabularies)
        text = apply_changes(table, added, modified, deleted)
        typed = from_text(text.select([f.name for f in table.schema]), table.schema)
        metadata = {b"eventdata": json.dumps({"name": name, "version": entry["version"]}).encode()}
        schema = _with_descriptions(table.schema.remove_metadata(), events_schema(descriptor))
        table = normalise_table(typed, schema, vocabularies).replace_schema_metadata(metadata)
        with tempfile.TemporaryDirectory() as scratch:
            candidate = Path(scratch) / "events.parquet"
            write_parquet(table, candidate)
            actual = sha256_file(candidate)
            if actual != expected["sha256"]:
                raise SourceError(
                    f"Applying the delta of {entry['version']} gave a table that differs from the published "
                    f"events.parquet (sha256 {actual} vs {expected['sha256']}); {local} was left unchanged. "
                    "Download the version instead: eventdata.load(source, version)."
                )
    replace_atomically(local, lambda temporary: write_parquet(table, temporary))
    return target


def _with_descriptions(schema: pa.Schema, table_schema: dict[str, Any]) -> pa.Schema:
    """The schema with each column's description (Arrow field metadata) as the version's Table Schema gives it.

    A codebook that rewords a description changes the Parquet bytes of the next version, not its values.
    """
    descriptions = {f["name"]: str(f.get("description", "")) for f in table_schema.get("fields", []) if "name" in f}
    fields = [f.with_metadata({"description": descriptions[f.name]}) if f.name in descriptions else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def copy_release_file(catalog_at: str, item: dict[str, Any], destination: Path) -> None:
    """Copy one verified catalog file to destination (used to materialise a version locally)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fetch_file(catalog_at, item), destination)

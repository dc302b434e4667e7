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

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata.catalog import CATALOG_FILE, check_catalog, version_key
from eventdata.changes import apply_changes, from_text
from eventdata.errors import SourceError
from eventdata.files import replace_atomically, sha256_bytes, sha256_file, write_atomic
from eventdata.manifest import check_bytes, matches
from eventdata.package import FORMAT_KEY, categories, normalise_table, restore_formulas, write_parquet
from eventdata.read import events_schema, with_vocabularies

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


def _read_changes(location: str, entry: dict[str, Any], schema: pa.Schema) -> tuple[pa.Table, pd.DataFrame, list[str]]:
    text_types = {f.name: pa.string() for f in schema}
    added = pa_csv.read_csv(
        _file(location, entry, "changes/added.csv"),
        convert_options=pa_csv.ConvertOptions(column_types=text_types, strings_can_be_null=True),
    )
    modified = pa_csv.read_csv(
        _file(location, entry, "changes/modified.csv"),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in ("event_id_cnty", "column", "old_value", "new_value")},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    if int(_descriptor(location, entry).get(FORMAT_KEY, 1)) >= 2:  # format 1 wrote formula-like cells as they were
        added = pa.table({name: restore_formulas(added.column(name)) for name in added.column_names})
        modified = modified.set_column(2, "old_value", restore_formulas(modified.column("old_value")))
        modified = modified.set_column(3, "new_value", restore_formulas(modified.column("new_value")))
    deleted = pa_csv.read_csv(
        _file(location, entry, "changes/deleted.csv"),
        convert_options=pa_csv.ConvertOptions(column_types={"event_id_cnty": pa.string()}),
    )
    return added, modified.to_pandas(), deleted.column("event_id_cnty").to_pylist()


def update_parquet(local: str | os.PathLike[str], source: str | os.PathLike[str], to: str = "latest") -> str:
    """Bring a local events.parquet to a newer version by applying each release's delta; return the version.

    The result is verified: its sha256 must equal the catalog's events.parquet of that version.
    """
    local = Path(local)
    name, current = parquet_version(local)
    location = catalog_location(source)
    catalog = read_catalog_at(location)
    if catalog.get("name") not in (None, name):
        raise SourceError(f"{local} is from dataset {name}, the catalog describes {catalog.get('name')}.")
    target = str(version_entry(catalog, to)["version"])
    if version_key(target) <= version_key(current):
        return current
    steps = [v for v in catalog["versions"] if version_key(current) < version_key(v["version"]) <= version_key(target)]
    table = pq.read_table(local)
    for entry in steps:
        expected = next((i for i in entry["files"] if i["path"] == f"{entry['version']}/data/events.parquet"), None)
        if expected is None:
            raise SourceError(f"{location}: version {entry['version']} lists no data/events.parquet.")
        added, modified, deleted = _read_changes(location, entry, table.schema)
        text = apply_changes(table, added, modified, deleted)
        typed = from_text(text.select([f.name for f in table.schema]), table.schema)
        metadata = {b"eventdata": json.dumps({"name": name, "version": entry["version"]}).encode()}
        descriptor = _descriptor(location, entry)
        vocabularies = categories(events_schema(descriptor)) if int(descriptor.get(FORMAT_KEY, 1)) >= 2 else None
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

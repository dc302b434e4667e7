"""The catalog of a dataset's releases (dist-data/<name>/catalog.json): every version, its files and hashes.

The same file describes a published copy (a folder, a bucket), so `eventdata.load`
works the same way against either.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from eventdata.errors import ReleaseError, SourceError
from eventdata.files import read_json

CATALOG_FILE = "catalog.json"
CATALOG_PROFILE = "eventdata-catalog/1"
VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True)
class Release:
    """One immutable version folder: dist-data/<name>/<version>/."""

    name: str
    version: str
    path: Path

    @property
    def descriptor_path(self) -> Path:
        return self.path / "datapackage.json"

    def descriptor(self) -> dict[str, Any]:
        data: dict[str, Any] = read_json(
            self.descriptor_path, ReleaseError, missing=f"is missing: {self.path} is not a complete release."
        )
        check_descriptor(data, self.descriptor_path)
        return data


def check_descriptor(descriptor: Any, path: Path) -> None:
    """The parts of a release's datapackage.json that verify, diff and release read, so a damaged one is named."""

    def bad(where: str, what: str) -> ReleaseError:
        return ReleaseError(
            f"{path}: {where} {what}; the release is damaged: restore it from a backup or the published copy."
        )

    if not isinstance(descriptor, dict):
        raise bad("the file", "must hold a JSON object")
    created = descriptor.get("created")
    if not isinstance(created, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", created):
        raise bad("'created'", f"must be the release time as YYYY-MM-DDTHH:MM:SSZ, not {created!r}")
    package_format = descriptor.get("eventdata:package_format", 1)
    if isinstance(package_format, bool) or not isinstance(package_format, int):
        raise bad("'eventdata:package_format'", f"must be a whole number, not {package_format!r}")
    resources = descriptor.get("resources", [])
    if not isinstance(resources, list):
        raise bad("'resources'", "must be a list")
    for number, resource in enumerate(resources):
        where = f"resources[{number}]"
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            raise bad(where, "must be an object with a 'path'")
        if not isinstance(resource.get("hash", ""), str):
            raise bad(f"{where}.hash", f"must be a string, not {resource['hash']!r}")
        if resource.get("name") == "events" and not isinstance(resource.get("schema"), dict):
            raise bad(f"{where} (events).schema", "must be the events' Table Schema (an object)")
    for key, item, kind in (
        ("licenses", dict, "objects"),
        ("contributors", dict, "objects"),
        ("keywords", str, "strings"),
    ):  # the metadata publishers read
        value = descriptor.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise bad(f"{key!r}", f"must be a list of {kind}, not {value!r}")
    if not isinstance(descriptor.get("eventdata:changes", {}), dict):
        raise bad("'eventdata:changes'", f"must be an object, not {descriptor['eventdata:changes']!r}")
    sources = descriptor.get("eventdata:sources", [])
    if not isinstance(sources, list):
        raise bad("'eventdata:sources'", "must be a list")
    for number, source in enumerate(sources):
        fine = isinstance(source, dict) and all(isinstance(source.get(k), str) for k in ("path", "sha256"))
        if not fine:
            raise bad(f"eventdata:sources[{number}]", "must be an object with a 'path' and a 'sha256'")


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key of a MAJOR.MINOR.PATCH version."""
    match = VERSION.match(version)
    if not match:
        raise ReleaseError(f"{version!r} is not a version of the form MAJOR.MINOR.PATCH.")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def list_releases(dataset_dir: Path, name: str) -> list[Release]:
    """Release folders of a dataset, oldest first (temporary and hidden folders are ignored)."""
    if not dataset_dir.is_dir():
        return []
    found = [
        Release(name, p.name, p)
        for p in dataset_dir.iterdir()
        if p.is_dir() and VERSION.match(p.name) and (p / "datapackage.json").is_file()
    ]
    return sorted(found, key=lambda r: version_key(r.version))


def read_catalog(path: Path) -> dict[str, Any]:
    """A catalog.json, or an empty catalog when the file does not exist."""
    if not path.is_file():
        return {"profile": CATALOG_PROFILE, "name": path.parent.name, "latest": None, "versions": []}
    data: dict[str, Any] = read_json(path, ReleaseError, hint=" Restore it from a backup.")
    check_catalog(data, str(path))
    return data


def check_catalog(catalog: Any, location: str) -> None:
    """A catalog's structure as `load` and `update` use it; a malformed entry is named, not a traceback."""

    def bad(where: str, what: str) -> SourceError:
        return SourceError(f"{location} is not a valid catalog: {where} {what}.")

    if not isinstance(catalog, dict):
        raise bad("the file", "must hold a JSON object with 'versions'")
    versions = catalog.get("versions")
    if not isinstance(versions, list):
        raise bad("'versions'", "must be a list")
    for number, entry in enumerate(versions):
        where = f"versions[{number}]"
        if not isinstance(entry, dict):
            raise bad(where, "must be an object")
        version = entry.get("version")
        if not isinstance(version, str) or not VERSION.match(version):
            raise bad(f"{where}.version", f"must be a version such as 1.0.0, not {version!r}")
        files = entry.get("files")
        if not isinstance(files, list):
            raise bad(f"{where} (version {version}).files", "must be a list")
        for index, item in enumerate(files):
            place = f"{where}.files[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise bad(place, "must be an object with a 'path'")
            if not isinstance(item.get("sha256"), str) or not re.fullmatch(r"[0-9a-f]{64}", item["sha256"]):
                raise bad(f"{place}.sha256", f"must be 64 hex digits, not {item.get('sha256')!r}")
    latest = catalog.get("latest")
    if latest is not None and latest not in {v["version"] for v in versions}:
        raise bad("'latest'", f"names {latest!r}, which is not among its versions")


def read_release_table(release: Release, columns: list[str] | None = None) -> pa.Table:
    """The events table of a release (data/events.parquet); a missing or damaged file is named, not a traceback."""
    path = release.path / "data" / "events.parquet"
    if not path.is_file():
        raise ReleaseError(
            f"{path} is missing: release {release.version} of {release.name} is incomplete; "
            "restore the file from a backup or the published copy (eventdata verify lists what differs)."
        )
    try:
        return pq.read_table(path, columns=columns, memory_map=True)
    except (pa.ArrowException, OSError) as err:
        raise ReleaseError(
            f"{path} ({path.stat().st_size} bytes) is not a readable Parquet file ({err}); release "
            f"{release.version} of {release.name} is damaged: restore the file from a backup or the published copy."
        ) from err


def catalog_entry(
    release: Release, descriptor: dict[str, Any], extra_files: dict[str, tuple[int, str]]
) -> dict[str, Any]:
    """The catalog's record of one version: date, files (path relative to the catalog, bytes, sha256), counts.

    extra_files maps a path inside the release (README.md, datapackage.json, changes/...) to (bytes, sha256)
    for files that datapackage.json cannot hash itself.
    """
    files = {
        r["path"]: (int(r["bytes"]), str(r["hash"]).removeprefix("sha256:"))
        for r in descriptor.get("resources", [])
        if "bytes" in r and "hash" in r
    }
    files.update(extra_files)
    return {
        "version": release.version,
        "date": str(descriptor.get("created", ""))[:10],
        "path": f"{release.version}/",
        "datapackage": f"{release.version}/datapackage.json",
        "files": [
            {"path": f"{release.version}/{p}", "bytes": size, "sha256": digest}
            for p, (size, digest) in sorted(files.items())
        ],
        "counts": descriptor.get("eventdata:changes", {}).get("counts", {}),
    }


def with_entry(catalog: dict[str, Any], entry: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    """The catalog with one version added or replaced, versions sorted, latest updated."""
    versions = [v for v in catalog.get("versions", []) if v["version"] != entry["version"]] + [entry]
    versions.sort(key=lambda v: version_key(v["version"]))
    updated = dict(catalog, profile=CATALOG_PROFILE, versions=versions, latest=versions[-1]["version"])
    if title:
        updated["title"] = title
    return updated


def catalog_json(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"

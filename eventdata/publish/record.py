"""Where each version went: dist-data/<name>/publications/<version>.json, beside the immutable release.

One file per version holds a list of completed publications (target, key, url, doi, time and the
service's ids) and the resume state of publications in progress ("pending", e.g. a Zenodo draft).
Files are written atomically (temporary file + rename), so a killed run never leaves half a record.
No token or password is ever written here; URLs lose any user:password part.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from eventdata.catalog import Release, version_key
from eventdata.errors import PublishError, ReleaseError
from eventdata.files import read_json, write_atomic

PUBLICATIONS_DIR = "publications"


def publications_path(release: Release) -> Path:
    return release.path.parent / PUBLICATIONS_DIR / f"{release.version}.json"


def read_record(release: Release) -> dict[str, Any]:
    """The publication record of a version (empty when it was never published)."""
    path = publications_path(release)
    # checked before anything is sent: a publication that cannot be recorded would be sent again
    if path.parent.exists() and not path.parent.is_dir():
        raise PublishError(
            f"{path.parent} is a file where the folder of publication records belongs. "
            "Move it away, then publish again."
        )
    if path.is_dir():
        raise PublishError(
            f"{path} is a folder where the record of version {release.version} belongs. "
            "Move it away, then publish again."
        )
    if not path.is_file():
        return {"name": release.name, "version": release.version, "publications": [], "pending": {}}
    data: dict[str, Any] = read_json(
        path,
        PublishError,
        hint=f" It records where version {release.version} was published: restore it from version control "
        "rather than deleting it, or publishing could create a duplicate.",
    )
    _check_shape(path, data, release)
    data.setdefault("publications", [])
    data.setdefault("pending", {})
    return data


def _check_shape(path: Path, data: Any, release: Release) -> None:
    """A record is an object whose publications are a list of objects and whose pending is an object of objects."""
    restore = (
        f"It records where version {release.version} was published: restore it from version control rather than "
        "deleting it, or publishing could create a duplicate."
    )
    if not isinstance(data, dict):
        raise PublishError(f"{path}: the record must be a JSON object ({{...}}), not {_kind(data)}. {restore}")
    publications, pending_state = data.get("publications", []), data.get("pending", {})
    if not isinstance(publications, list):
        raise PublishError(f"{path}: publications must be a list ([...]), not {_kind(publications)}. {restore}")
    for index, entry in enumerate(publications):
        if not isinstance(entry, dict):
            raise PublishError(
                f"{path}: publications[{index}] must be an object ({{...}}), not {_kind(entry)} "
                f"({json.dumps(entry)}). {restore}"
            )
        _check_fields(path, f"publications[{index}]", entry, restore)
        if not isinstance(entry.get("key"), str):
            raise PublishError(
                f'{path}: publications[{index}].key must be text naming the target (e.g. "zenodo '
                f'https://zenodo.org"), not {_kind(entry.get("key"))}. {restore}'
            )
    if not isinstance(pending_state, dict):
        raise PublishError(f"{path}: pending must be an object ({{...}}), not {_kind(pending_state)}. {restore}")
    for key, state in pending_state.items():
        if not isinstance(state, dict):
            raise PublishError(
                f"{path}: pending[{json.dumps(key)}] must be an object ({{...}}), not {_kind(state)} "
                f"({json.dumps(state)}). {restore}"
            )
        _check_fields(path, f"pending[{json.dumps(key)}]", state, restore)


#: The fields of a record's entries that publishers read, with the JSON types each may have (None: null).
TEXT_FIELDS = ("key", "target", "url", "doi", "conceptdoi", "catalog", "time")
ID_FIELDS = ("id", "record_id", "deposition_id", "package_id", "conceptrecid")


def _check_fields(path: Path, where: str, entry: dict[str, Any], restore: str) -> None:
    """Text fields are text or null, service ids text, a whole number or null, files an object of text."""
    for name, value in entry.items():
        if name in TEXT_FIELDS and not isinstance(value, str | None):
            what = "text or null"
        elif name in ID_FIELDS and (isinstance(value, bool) or not isinstance(value, str | int | None)):
            what = "text, a whole number or null"
        elif name == "files" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            what = 'an object of text ({"events.csv": "<md5>", ...})'
        else:
            continue
        raise PublishError(
            f"{path}: {where}.{name} must be {what}, not {_kind(value)} ({json.dumps(value)}). {restore}"
        )


def _kind(value: Any) -> str:
    """The JSON name of a value's type."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def check_recordable(release: Release) -> None:
    """Refuse, before anything is sent, a publication whose record could not be written once it is done.

    The record is what keeps a second run from publishing again: a publication sent but not recorded would be.
    """
    read_record(release)  # a damaged record, or a file or folder in its place
    folder = publications_path(release).parent
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            handle, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=folder)
            os.close(handle)
            os.unlink(probe)
        finally:
            if created:
                folder.rmdir()  # made again with the first record; nothing is left if this run stops before
    except OSError as err:
        cause = err.strerror or str(err) or type(err).__name__
        raise PublishError(
            f"Cannot write the publication record of version {release.version} in {folder} ({cause}), so nothing "
            "was sent: a publication that is not recorded would be sent again. Make the folder writable "
            "(or free disk space), then publish again."
        ) from err


def published(release: Release, key: str) -> dict[str, Any] | None:
    """The completed publication of this version to the target key, if any."""
    return next((p for p in read_record(release)["publications"] if p.get("key") == key), None)


def pending(release: Release, key: str) -> dict[str, Any]:
    """Resume state of an unfinished publication to the target key ({} when none)."""
    state: dict[str, Any] = read_record(release)["pending"].get(key, {})
    return state


def save_pending(release: Release, key: str, state: dict[str, Any]) -> None:
    record = read_record(release)
    record["pending"][key] = state
    _write(publications_path(release), record)


def save_published(release: Release, key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Record a completed publication (with the time) and drop its resume state; returns the entry."""
    record = read_record(release)
    done = {"key": key, **entry, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    record["publications"] = [p for p in record["publications"] if p.get("key") != key] + [done]
    record["pending"].pop(key, None)
    _write(publications_path(release), record)
    return done


def earlier_publications(release: Release, key: str) -> list[dict[str, Any]]:
    """Completed publications of the other versions of the dataset to the same target, oldest version first."""
    folder = release.path.parent / PUBLICATIONS_DIR
    found: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        version = path.stem
        if version == release.version:
            continue
        try:
            order = version_key(version)
        except ReleaseError:
            continue
        other = Release(release.name, version, release.path.parent / version)
        entry = published(other, key)
        if entry is not None:
            found.append((order, entry))
    return [entry for _, entry in sorted(found, key=lambda item: item[0])]


def public_url(url: str) -> str:
    """A URL without any user:password part, safe to record and print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _write(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

"""A release's manifest: the list of its files with their sizes and sha256, and the checks against it.

One manifest serves every command that trusts a release: `verify` (the files on disk against
datapackage.json and the catalog), `publish` (what it uploads) and `load` (what it downloads).

- `folder_manifest(folder)`: what is on disk (path inside the folder → `Entry`).
- `descriptor_manifest(descriptor)`: what datapackage.json lists (resources, and the recorded sources).
- `recorded_manifest(descriptor)`: the files it gives a size and sha256 for, which `folder_manifest` trusts when
  a file still has that size (the catalog of a dataset's releases is regenerated without reading them again).
- `catalog_manifest(entry)`: what a catalog.json version lists (paths made relative to the release).
- `differences(expected, found)`: each file missing, or of another size or sha256.
- `check_bytes(data, sha256, where)`: downloaded bytes against the sha256 a manifest gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventdata.files import sha256_bytes, sha256_file

DESCRIPTOR = "datapackage.json"


@dataclass(frozen=True)
class Entry:
    """One file of a manifest: its size and sha256 (None where the manifest does not say)."""

    bytes: int | None
    sha256: str | None


@dataclass(frozen=True)
class Difference:
    """A file whose copy on disk is missing or differs from what a manifest says."""

    path: str
    expected: Entry
    found: Entry | None  # None: missing

    def describe(self) -> str:
        if self.found is None:
            return f"{self.path}: missing."
        if self.expected.sha256 is not None and self.found.sha256 != self.expected.sha256:
            return f"{self.path}: sha256 is {self.found.sha256}, expected {self.expected.sha256}."
        return f"{self.path}: {self.found.bytes} bytes, expected {self.expected.bytes}."


def is_hidden(relative: str) -> bool:
    """True for a path with a part starting with '.' (staging leftovers, editor files): never part of a release."""
    return any(part.startswith(".") for part in relative.split("/"))


def folder_manifest(
    folder: Path, *, hidden: bool = False, recorded: Mapping[str, Entry] | None = None
) -> dict[str, Entry]:
    """Every file in folder (hidden ones only with hidden=True), in path order, with its size and sha256.

    recorded: sizes and sha256 a manifest already gives (recorded_manifest); a file of the size recorded takes
    the recorded sha256 without being read again, any other file is hashed.
    """
    found: dict[str, Entry] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if hidden or not is_hidden(relative):
            size = path.stat().st_size
            known = (recorded or {}).get(relative)
            if known is not None and known.bytes == size and known.sha256 is not None:
                found[relative] = known
            else:
                found[relative] = Entry(size, sha256_file(path))
    return found


def recorded_manifest(descriptor: Mapping[str, Any]) -> dict[str, Entry]:
    """The files datapackage.json gives both a size and a sha256 for: its resources and eventdata:sources."""
    listed = {p: e for p, e in descriptor_manifest(descriptor, sources=False).items() if e.bytes is not None}
    sources = descriptor.get("eventdata:sources")
    for source in sources if isinstance(sources, list) else []:
        if (
            isinstance(source, Mapping)
            and isinstance(source.get("path"), str)
            and isinstance(source.get("bytes"), int)
            and isinstance(source.get("sha256"), str)
        ):
            listed.setdefault(source["path"], Entry(source["bytes"], source["sha256"]))
    return {p: e for p, e in listed.items() if e.sha256}


def paths_manifest(folder: Path, paths: Iterable[str]) -> dict[str, Entry]:
    """Size and sha256 of each of these files of folder that exists (a missing one is left out)."""
    found: dict[str, Entry] = {}
    for relative in sorted(set(paths)):
        path = folder / relative
        if path.is_file():
            found[relative] = Entry(path.stat().st_size, sha256_file(path))
    return found


def descriptor_manifest(descriptor: Mapping[str, Any], *, sources: bool = True) -> dict[str, Entry]:
    """The files datapackage.json vouches for: its resources (bytes, hash) and, with sources, eventdata:sources."""
    listed: dict[str, Entry] = {}
    for resource in descriptor.get("resources", []):
        path = resource.get("path") if isinstance(resource, Mapping) else None
        if isinstance(path, str):
            digest = str(resource["hash"]).removeprefix("sha256:") if "hash" in resource else None
            size = resource.get("bytes")
            listed[path] = Entry(size if isinstance(size, int) else None, digest)
    if sources:
        for source in descriptor.get("eventdata:sources", []):
            if isinstance(source, Mapping) and isinstance(source.get("path"), str):
                listed.setdefault(source["path"], Entry(None, str(source.get("sha256"))))
    return listed


def catalog_manifest(entry: Mapping[str, Any]) -> dict[str, Entry]:
    """The files a catalog.json version lists, by path inside the release (the 'VERSION/' prefix removed)."""
    prefix = f"{entry.get('version')}/"
    listed: dict[str, Entry] = {}
    for item in entry.get("files", []):
        size = item.get("bytes")
        listed[str(item["path"]).removeprefix(prefix)] = Entry(
            size if isinstance(size, int) else None, str(item["sha256"])
        )
    return listed


def differences(expected: Mapping[str, Entry], found: Mapping[str, Entry]) -> list[Difference]:
    """Each expected file that is missing from found, or whose size or sha256 differs (where expected says)."""
    result = []
    for path, want in sorted(expected.items()):
        have = found.get(path)
        if have is None:
            result.append(Difference(path, want, None))
        elif (want.sha256 is not None and want.sha256 != have.sha256) or (
            want.bytes is not None and want.bytes != have.bytes
        ):
            result.append(Difference(path, want, have))
    return result


def matches(path: Path, sha256: str) -> bool:
    """True when the file exists and has this sha256."""
    return path.is_file() and sha256_file(path) == sha256


def check_bytes(data: bytes, sha256: str, where: str) -> str | None:
    """None when data has the sha256 a manifest gives, else what is wrong (naming `where` and both values)."""
    actual = sha256_bytes(data)
    if actual == sha256:
        return None
    return f"{where} has sha256 {actual}, but the catalog says {sha256}"

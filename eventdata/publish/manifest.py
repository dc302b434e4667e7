"""What a release holds and says about itself: its files (verified against datapackage.json and catalog.json) and
metadata.

The files are checked against the release manifests of eventdata/manifest.py, as `verify --no-rebuild` checks
them: what datapackage.json vouches for, and what the dataset's catalog.json recorded when the version was released.

Metadata is read from datapackage.json only. Nothing here fills a gap with a default: a missing
field becomes a Problem for `check`, so nothing is invented on the way to a repository.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from eventdata.catalog import CATALOG_FILE, Release, read_catalog
from eventdata.errors import Problem, ReleaseError
from eventdata.manifest import Entry, catalog_manifest, descriptor_manifest, differences, is_hidden, paths_manifest

#: Dates in a column of ISO dates (the first 10 characters of date or datetime values).
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release: its path inside the release, where it is on disk, size and digests."""

    path: str
    local: Path
    bytes: int
    sha256: str
    md5: str


def digests(path: Path) -> tuple[int, str, str]:
    """Size, sha256 and md5 of a file (md5 only because Zenodo reports it)."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
            size += len(block)
    return size, sha.hexdigest(), md5.hexdigest()


def release_files(release: Release) -> list[ReleaseFile]:
    """Every file of the release, datapackage.json last, after checking it against datapackage.json and the catalog.

    Raises ReleaseError naming the file and both values when the release no longer matches what datapackage.json
    says of its resources and sources, or what catalog.json recorded of it.
    """
    expected = {p: (e.bytes, e.sha256) for p, e in descriptor_manifest(release.descriptor()).items()}
    files: list[ReleaseFile] = []
    for local in sorted(p for p in release.path.rglob("*") if p.is_file()):
        relative = local.relative_to(release.path).as_posix()
        if is_hidden(relative):
            continue
        size, sha, md5 = digests(local)
        want_size, want_sha = expected.pop(relative, (None, None))
        if want_sha is not None and want_sha != sha or want_size is not None and want_size != size:
            wanted = f"{want_size} bytes " if want_size is not None else ""
            raise ReleaseError(
                f"{local} does not match datapackage.json: expected {wanted}sha256:{want_sha}, "
                f"found {size} bytes sha256:{sha}. A release never changes: rebuild it from the sheets, "
                "or build a new version."
            )
        files.append(ReleaseFile(relative, local, size, sha, md5))
    if expected:
        missing = ", ".join(sorted(expected))
        raise ReleaseError(f"{release.path} lacks files that datapackage.json lists: {missing}. Rebuild the release.")
    check_catalog_record(release, files)
    return sorted(files, key=lambda f: (f.path == "datapackage.json", f.path))


def check_catalog_record(release: Release, files: list[ReleaseFile]) -> None:
    """The files match what the dataset's catalog.json recorded of the version (hashed files: no second read).

    datapackage.json cannot vouch for itself: an edited one (resources removed, a hash changed with its file)
    differs from the catalog's record. A dataset folder without catalog.json (a copied release) has no record.
    """
    path = release.path.parent / CATALOG_FILE
    if not path.is_file():
        return
    entry = next((v for v in read_catalog(path)["versions"] if v["version"] == release.version), None)
    if entry is None:
        raise ReleaseError(
            f"{path} does not list version {release.version}, so its files cannot be checked against the record "
            f"made when it was released. Restore {path} from a backup (`eventdata verify --no-rebuild` lists "
            "what differs), then publish again."
        )
    listed = catalog_manifest(entry)
    found: dict[str, Entry] = {f.path: Entry(f.bytes, f.sha256) for f in files}
    found |= paths_manifest(release.path, set(listed) - set(found))
    differ = differences(listed, found)
    if differ:
        raise ReleaseError(
            f"{release.path} does not match the record of version {release.version} in {path}: "
            + " ".join(d.describe() for d in differ)
            + " A release never changes, so nothing was sent: restore the files from a backup or the published "
            "copy (`eventdata verify --no-rebuild` lists every difference), or build a new version."
        )


#: Folders of a release whose files a repository gets one by one (top level and data/); it gets the whole
#: release folder as one zip as well, so that datapackage.json's paths work once it is unpacked.
BROWSABLE_FOLDERS = ("", "data")


def archive_name(release: Release) -> str:
    return f"{release.name}-{release.version}.zip"


def upload_names(release: Release, files: list[ReleaseFile]) -> list[str]:
    """Names of the files a repository gets, in order (may hold duplicates: check_upload_names finds them)."""
    browsable = [f.path for f in files if f.path.rpartition("/")[0] in BROWSABLE_FOLDERS]
    return [p.rsplit("/", 1)[-1] for p in browsable] + [archive_name(release)]


def write_archive(release: Release, files: list[ReleaseFile], folder: Path) -> ReleaseFile:
    """The release folder as one zip with fixed dates and order, so the same release gives the same bytes."""
    path = folder / archive_name(release)
    created = str(release.descriptor().get("created", ""))[:10]
    try:
        day = date.fromisoformat(created)
        stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    except ValueError:
        stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(path, "w") as archive:
        for f in sorted(files, key=lambda f: f.path):
            info = zipfile.ZipInfo(f"{release.name}-{release.version}/{f.path}", date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, f.local.read_bytes(), compresslevel=9)
    size, sha, md5 = digests(path)
    return ReleaseFile(path.name, path, size, sha, md5)


def repository_files(release: Release, files: list[ReleaseFile], folder: Path) -> list[ReleaseFile]:
    """What a repository gets: top-level and data/ files under their own names, and the zip written into folder."""
    picked = [
        replace(f, path=f.path.rsplit("/", 1)[-1]) for f in files if f.path.rpartition("/")[0] in BROWSABLE_FOLDERS
    ]
    return [*picked, write_archive(release, files, folder)]


def check_upload_names(release: Release, files: list[ReleaseFile], target: str) -> list[Problem]:
    """A problem for each name two uploaded files would share (repositories hold files without folders)."""
    names = upload_names(release, files)
    return [
        problem(
            release,
            "resources",
            f"{target} holds files without folders, and {name} would occur twice "
            f"(files of {', '.join(repr(f) for f in BROWSABLE_FOLDERS)} folders and the zip are uploaded by name). "
            "Give the files distinct names and build a new version.",
            code="unique-error",
            value=name,
        )
        for name in sorted({n for n in names if names.count(n) > 1})
    ]


def problem(release: Release, field: str, message: str, code: str = "required-error", value: Any = None) -> Problem:
    """A metadata problem located at a field of the release's datapackage.json."""
    shown = None if value is None else str(value)
    return Problem(code, message, str(release.descriptor_path), None, field, shown)


def fix_hint(release: Release) -> str:
    return f"Add it to schemas/dataset.json and build a new version (released {release.version} never changes)."


def creators(descriptor: dict[str, Any]) -> list[dict[str, Any]]:
    """Contributors whose roles include 'creator' (Data Package v2 `roles`, or v1 `role`)."""
    found = []
    for contributor in descriptor.get("contributors", []) or []:
        roles = contributor.get("roles") or ([contributor["role"]] if contributor.get("role") else [])
        if "creator" in roles:
            found.append(contributor)
    return found


def contributor_name(contributor: dict[str, Any]) -> str:
    """'Family, Given' when both are given (as Zenodo asks), else the contributor's title."""
    family, given = contributor.get("familyName"), contributor.get("givenName")
    if family and given:
        return f"{family}, {given}"
    return str(contributor.get("title") or family or "").strip()


def text(descriptor: dict[str, Any], key: str) -> str:
    value = descriptor.get(key)
    return value.strip() if isinstance(value, str) else ""


def common_problems(release: Release, descriptor: dict[str, Any], target: str, *, need_creators: bool) -> list[Problem]:
    """Title, description, licence, publication date, version (and creators) that every repository needs."""
    hint = fix_hint(release)
    found = []
    for key, what in (("title", "a title"), ("description", "a description")):
        if not text(descriptor, key):
            found.append(problem(release, key, f"{target} needs {what}; datapackage.json has none. {hint}"))
    licences = [lic for lic in descriptor.get("licenses", []) or [] if lic.get("name") or lic.get("path")]
    if not licences:
        found.append(problem(release, "licenses", f"{target} needs a licence; datapackage.json names none. {hint}"))
    if need_creators and not [c for c in creators(descriptor) if contributor_name(c)]:
        found.append(
            problem(
                release,
                "contributors",
                f"{target} needs at least one creator: no contributor with a name has the role 'creator'. {hint}",
            )
        )
    if not ISO_DATE.match(text(descriptor, "created")):
        found.append(
            problem(
                release,
                "created",
                f"{target} needs the release date (created, YYYY-MM-DD…). {hint}",
                value=descriptor.get("created"),
            )
        )
    if text(descriptor, "version") != release.version:
        found.append(
            problem(
                release,
                "version",
                f"datapackage.json says version {descriptor.get('version')!r} but the folder is {release.version}. "
                "Rebuild the release.",
                code="type-error",
                value=descriptor.get("version"),
            )
        )
    return found


def date_range(release: Release, descriptor: dict[str, Any], column: str = "event_date") -> tuple[str, str] | None:
    """First and last date in the column of the CSV resource that has it (None when there is none)."""
    for resource in descriptor.get("resources", []):
        fields = [f.get("name") for f in (resource.get("schema") or {}).get("fields", [])]
        if resource.get("format") != "csv" or column not in fields:
            continue
        data = (release.path / resource["path"]).read_text(encoding="utf-8")
        values = [row.get(column) or "" for row in csv.DictReader(io.StringIO(data, newline=""))]
        dates = sorted(v[:10] for v in values if ISO_DATE.match(v))
        return (dates[0], dates[-1]) if dates else None
    return None

"""`eventdata release`, `diff` and `verify`: immutable versions, their catalog, and proof they can be rebuilt.

A release gives the rows typed without an id their ids (the `assign-ids` step, written into the sheets
and the registry), builds the package into a new version folder, then regenerates the catalog and the data
changelog beside the versions from the version folders (so they can always be recovered). The version lives
there only: schemas/dataset.json is never written.

`verify` re-hashes every file against datapackage.json and the catalog, then rebuilds the release from the
sources it records and compares data and metadata values (eventdata.compare), not the tool's wording.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv

from eventdata import __version__
from eventdata.agreement import gate_problems
from eventdata.assign import sheets_without_id_column
from eventdata.build import (
    DATA_CHANGELOG,
    SOURCES_DIR,
    commit_package,
    release_created,
    release_schema,
    release_table,
    releases_up_to,
    remove_leftovers,
    retired_key_warnings,
    stage,
    staged_as_release,
    with_warnings,
    write_package,
)
from eventdata.catalog import (
    CATALOG_FILE,
    VERSION,
    Release,
    catalog_entry,
    catalog_json,
    list_releases,
    read_catalog,
    version_key,
    with_entry,
)
from eventdata.changes import LEVELS, Changes, SchemaChange, compute_changes, required_bump, schema_changes
from eventdata.compare import compare_packages, copies_named
from eventdata.dataset import Dataset
from eventdata.errors import Problem, ReleaseError, Report
from eventdata.files import write_atomic
from eventdata.manifest import (
    Entry,
    catalog_manifest,
    descriptor_manifest,
    differences,
    folder_manifest,
    paths_manifest,
    recorded_manifest,
)
from eventdata.package import FORMAT_KEY, PACKAGE_FORMAT, release_datetime
from eventdata.project import Project
from eventdata.publish.record import PUBLICATIONS_DIR
from eventdata.sources.sheets import display_path
from eventdata.validate import Validation


@dataclass(frozen=True)
class ReleaseResult:
    """What `release` did: 'released', 'invalid' (nothing written) or 'nothing-to-release'."""

    status: str
    version: str | None
    previous: str | None
    report: Report
    suggested: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    schema_changes: tuple[SchemaChange, ...] = ()
    path: Path | None = None
    new_id_column: tuple[str, ...] = ()  # sheets whose header got an event_id_cnty column


def bump_version(version: str, level: str) -> str:
    """The next version: major → X+1.0.0, minor → X.Y+1.0, patch → X.Y.Z+1."""
    major, minor, patch = version_key(version)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if level == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ReleaseError(f"Unknown bump {level!r}: use major, minor or patch.")


def implied_bump(old: str, new: str) -> str:
    """Which part of the version a jump from old to new raises."""
    if version_key(new) <= version_key(old):
        raise ReleaseError(f"Version {new} is not newer than the latest release {old}.")
    a, b = version_key(old), version_key(new)
    return "major" if b[0] != a[0] else "minor" if b[1] != a[1] else "patch"


def release_files(release: Release, descriptor: dict[str, Any] | None = None) -> dict[str, tuple[int, str]]:
    """Every file of a release folder with its size and sha256.

    A file its datapackage.json (descriptor, when already read) records with a size and sha256 and that still
    has that size is not read again: the events and the sources, most of a release's bytes. `verify` is what
    re-hashes them.
    """
    recorded = recorded_manifest(descriptor if descriptor is not None else release.descriptor())
    files = folder_manifest(release.path, hidden=True, recorded=recorded)
    return {p: (e.bytes or 0, e.sha256 or "") for p, e in files.items()}


def catalog_files(directory: Path, name: str, new: Release | None = None) -> dict[Path, str]:
    """catalog.json and the top-level data changelog as the version folders (and `new`, not yet in place) give them."""
    releases = [r for r in list_releases(directory, name) if new is None or r.version != new.version]
    if new is not None:
        releases = sorted([*releases, new], key=lambda r: version_key(r.version))
    catalog = read_catalog(directory / CATALOG_FILE)
    catalog = dict(catalog, name=name, versions=[])
    for release in releases:
        descriptor = release.descriptor()
        catalog = with_entry(
            catalog, catalog_entry(release, descriptor, release_files(release, descriptor)), descriptor.get("title")
        )
    files: dict[Path, str] = {}
    if releases:
        files[directory / CATALOG_FILE] = catalog_json(catalog)
        latest = releases[-1].path / DATA_CHANGELOG
        if latest.is_file():
            files[directory / DATA_CHANGELOG] = latest.read_text(encoding="utf-8")
    return files


def write_catalog(directory: Path, name: str) -> None:
    """Regenerate catalog.json and the top-level data changelog from the version folders."""
    for path, text in catalog_files(directory, name).items():
        write_atomic(path, text)


def version_folder_problems(directory: Path, name: str) -> list[tuple[str, Problem]]:
    """Versions catalog.json or a publication record knows that have no folder, and folders whose datapackage.json
    names another version: a released version is never removed, renamed or made again with other content."""
    folders = {r.version: r for r in list_releases(directory, name)}
    problems = []
    listed = [v["version"] for v in read_catalog(directory / CATALOG_FILE).get("versions", [])]
    records = directory / PUBLICATIONS_DIR
    published = sorted(p.stem for p in records.glob("*.json") if VERSION.match(p.stem)) if records.is_dir() else []
    for version, where in [
        *((v, CATALOG_FILE) for v in listed),
        *((v, f"{PUBLICATIONS_DIR}/{v}.json") for v in published),
    ]:
        if version not in folders:
            problems.append(
                (
                    version,
                    Problem(
                        "catalog-mismatch",
                        f"{where} knows version {version}, but {directory / version} is gone: a released version is "
                        "never removed or made again. Restore the folder from a backup or the published copy.",
                        display_path(directory / where),
                    ),
                )
            )
    newest = max(listed, key=version_key, default=None)
    catalogued = (directory / CATALOG_FILE).is_file()  # without one, the folders are the whole record
    for version, release in folders.items():
        descriptor = release.descriptor()
        stated = descriptor.get("version")
        previous = descriptor.get("eventdata:changes", {}).get("previous")
        unlisted = catalogued and version not in listed and stated == version
        if unlisted and (previous != newest or _older(version, newest)):
            problems.append(  # a release stopped after its folder appeared follows the newest listed version
                (
                    version,
                    Problem(
                        "catalog-mismatch",
                        f"{version} is not in {CATALOG_FILE} and does not follow its newest version ({newest}): it "
                        f"states {previous!r} as its previous version. A release folder is never copied in: move it "
                        "out of the dataset folder, or restore catalog.json from a backup.",
                        display_path(release.descriptor_path),
                    ),
                )
            )
        if stated != version:
            problems.append(
                (
                    version,
                    Problem(
                        "catalog-mismatch",
                        f"datapackage.json states version {stated!r}, but its folder is {version}: a release folder is "
                        "never copied or renamed. Move it out of the dataset folder, or restore the original.",
                        display_path(release.descriptor_path),
                    ),
                )
            )
    return problems


def catalog_field_problems(directory: Path, name: str) -> list[tuple[str | None, Problem]]:
    """Fields of catalog.json (but the files, which the hashes check) that differ from what its releases give:
    (the version of the entry, or None for the catalog's own fields, and the problem)."""
    path = directory / CATALOG_FILE
    regenerated = catalog_files(directory, name).get(path)
    if regenerated is None or not path.is_file():
        return []
    have, want = read_catalog(path), json.loads(regenerated)
    where = display_path(path)

    def problem(field: str, found: Any, expected: Any) -> Problem:
        message = f"{field} is {json.dumps(found)}, but the release folders give {json.dumps(expected)}."
        return Problem("catalog-mismatch", message + " Restore catalog.json from a backup.", where)

    problems: list[tuple[str | None, Problem]] = [
        (None, problem(key, have.get(key), want.get(key)))
        for key in ("profile", "name", "latest", "title")
        if have.get(key) != want.get(key)
    ]
    entries = {v["version"]: v for v in have.get("versions", [])}
    for entry in want.get("versions", []):
        listed = entries.get(entry["version"], {})
        for key in sorted((set(entry) | set(listed)) - {"files"}):
            if listed and listed.get(key) != entry.get(key):
                found, expected = listed.get(key), entry.get(key)
                problems.append((entry["version"], problem(f"versions[{entry['version']}].{key}", found, expected)))
    return problems


def _older(version: str, newest: str | None) -> bool:
    return newest is not None and version_key(version) <= version_key(newest)


def refuse_damaged_versions(directory: Path, name: str) -> None:
    """A ReleaseError listing version_folder_problems, before a new version is made on top of them."""
    problems = version_folder_problems(directory, name)
    if problems:
        lines = "\n".join(f"  {p.file}: {p.message}" for _, p in problems)
        raise ReleaseError(
            f"Cannot release: the versions of {directory} are not as released (run `eventdata verify`):\n{lines}"
        )


def complete_bookkeeping(directory: Path, name: str) -> None:
    """Finish what an interrupted release left undone after its folder was renamed into place.

    The version folder is the commit point of a release: the catalog and the data changelog are brought in
    line with the folders that exist (the ids were written before the folder appeared).
    """
    catalog = read_catalog(directory / CATALOG_FILE)
    listed = {v["version"] for v in catalog.get("versions", [])}
    if listed != {r.version for r in list_releases(directory, name)}:
        write_catalog(directory, name)


def choose_version(
    latest: str | None, needed: str | None, *, bump: str | None, as_version: str | None, force: bool
) -> str:
    """The new version from --bump or --as, refusing a bump smaller than the changes need."""
    if latest is None:
        return as_version or "1.0.0"
    if as_version is not None:
        level = implied_bump(latest, as_version)
        version = as_version
    else:
        level = bump or needed or "patch"
        version = bump_version(latest, level)
    if needed and LEVELS.index(level) < LEVELS.index(needed) and not force:
        raise ReleaseError(
            f"A {level} release ({version}) is too small for these changes, which need a {needed} release: "
            f"run `eventdata release --bump {needed}`, or add --force if you are sure."
        )
    return version


def release_version(
    project: Dataset | Project,
    *,
    bump: str | None = None,
    as_version: str | None = None,
    release_date: date | None = None,
    force: bool = False,
    today: date | None = None,
) -> ReleaseResult:
    """Freeze the current sheets as a new version in dist-data/<name>/<version>/.

    Rows without an id get theirs first (the assign-ids step, in the same commit: the sheets and the
    registry are written just before the version folder appears, and put back if anything fails).
    """
    dataset = Dataset.open(project)
    project = dataset.project
    name = dataset.name
    directory = dataset.dist_dir
    warnings = retired_key_warnings(dataset.codebook)
    remove_leftovers(project, directory)
    refuse_damaged_versions(directory, name)
    releases = list_releases(directory, name)
    latest = releases[-1] if releases else None
    if latest is not None:
        complete_bookkeeping(directory, name)
    released = release_date or datetime.now(UTC).date()
    if latest and released < release_created(latest).date():
        raise ReleaseError(f"The release date {released} is before the latest release {latest.version}.")
    created = release_datetime(released, os.environ.get("SOURCE_DATE_EPOCH"))
    # consume: the validation's frame of events is emptied as its table is made (staged.events holds them)
    staged = stage(dataset, created=created, previous=latest, today=today, consume=True)
    if isinstance(staged, Validation):
        report = with_warnings(staged.report, warnings)
        return ReleaseResult("invalid", None, latest.version if latest else None, report)
    refused = gate_problems(dataset)  # alpha below the gate of schemas/dataset.json (#11)
    if refused:
        return ReleaseResult("invalid", None, latest.version if latest else None, Report(tuple(refused)))
    report = with_warnings(staged.validation.report, warnings)
    counts = staged.changes.counts()
    needed = required_bump(list(staged.schema_changes), counts)
    if latest and needed is None:  # rows without an id are added events: there are none
        asked = bump is not None or as_version is not None
        if not asked or staged_as_release(
            dataset, latest, staged.validation, created=created, today=today, events=staged.events
        ):
            return ReleaseResult("nothing-to-release", latest.version, latest.version, report, None, counts)
        # The events are those of the latest release, but the codebook, articles or metadata are not: a version
        # of them is made only when asked for (--bump or --as).
    version = choose_version(latest.version if latest else None, needed, bump=bump, as_version=as_version, force=force)
    target = directory / version
    if target.exists():
        raise ReleaseError(f"Version {version} already exists in {target}; a released version is never rewritten.")
    lacking = sheets_without_id_column(staged.validation)

    def bookkeeping(package: Path) -> dict[Path, str]:
        return catalog_files(directory, name, Release(name, version, package))

    commit_package(staged, project, target, version=version, created=created, bookkeeping=bookkeeping, assign_ids=True)
    return ReleaseResult(
        "released",
        version,
        latest.version if latest else None,
        report,
        needed,
        counts,
        staged.schema_changes,
        target,
        lacking,
    )


# --- diff ------------------------------------------------------------------------------------------


def find_release(project: Dataset | Project, version: str | None) -> Release:
    """A release of the project's dataset by version (default: the latest)."""
    dataset = Dataset.open(project)
    name = dataset.name
    releases = dataset.releases
    if not releases:
        raise ReleaseError(f"No release of {name} in {dataset.dist_dir}; make one with `eventdata release`.")
    if version is None:
        return releases[-1]
    for release in releases:
        if release.version == version:
            return release
    known = ", ".join(r.version for r in releases)
    raise ReleaseError(f"Version {version} of {name} does not exist; released versions: {known}.")


def diff_releases(project: Dataset | Project, old: str, new: str) -> tuple[Changes, list[SchemaChange]]:
    """Added, modified and deleted events and schema changes from version old to version new."""
    dataset = Dataset.open(project)
    before, after = find_release(dataset, old), find_release(dataset, new)
    changes = compute_changes(
        release_table(before), release_table(after), date.fromisoformat(after.descriptor()["created"][:10])
    )
    return changes, schema_changes(release_schema(before), release_schema(after))


# --- verify ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Findings of `verify` for one version: files that fail their hashes, and what a rebuild changes."""

    version: str
    problems: tuple[Problem, ...]
    checked_files: int
    rebuilt: bool
    reworded: tuple[str, ...] = ()  # documents a rebuild words differently (README.md, …): not a difference

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def verification_report(results: list[Verification], directory: Path) -> Report:
    """Every finding of a verify run as one Report (the shape `validate --json` prints).

    Its files are the release folders verified, and its rows the number of files checked against their hashes.
    """
    return Report(
        tuple(p for r in results for p in r.problems),
        tuple(display_path(directory / r.version) for r in results),
        sum(r.checked_files for r in results),
    )


def _hash_problems(release: Release, catalog: dict[str, Any]) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    descriptor = release.descriptor()
    folder = release.path

    def problem(code: str, path: str, message: str) -> Problem:
        return Problem(code, message, display_path(folder / path) if path else display_path(folder))

    expected = descriptor_manifest(descriptor)
    entry = next((v for v in catalog.get("versions", []) if v["version"] == release.version), None)
    if entry is None:
        problems.append(problem("catalog-mismatch", "", f"{release.version} is not in {CATALOG_FILE}."))
    else:
        for listed, item in catalog_manifest(entry).items():
            vouched = expected.setdefault(listed, item)
            if vouched.sha256 is None:
                expected[listed] = Entry(vouched.bytes, item.sha256)
            elif vouched.sha256 != item.sha256:
                message = f"{CATALOG_FILE} and datapackage.json disagree on its sha256."
                problems.append(problem("catalog-mismatch", listed, message))
    for difference in differences(expected, paths_manifest(folder, expected)):
        want, have = difference.expected, difference.found
        if have is None:
            message = "missing: the release lists it with its sha256."
            problems.append(problem("release-file-missing", difference.path, message))
        elif want.sha256 is not None and have.sha256 != want.sha256:
            message = f"sha256 is {have.sha256}, expected {want.sha256}."
            problems.append(problem("release-hash-mismatch", difference.path, message))
        else:
            message = f"{have.bytes} bytes, expected {want.bytes}."
            problems.append(problem("release-hash-mismatch", difference.path, message))
    return problems, len(expected)


def rebuild_release(
    release: Release, previous: Release | None, target: Path, history: tuple[Release, ...] = ()
) -> None:
    """Build the release again into target from the sources it records, in its own package format.

    history: the releases before it, oldest first (their recorded changes make the data changelog).
    """
    descriptor = release.descriptor()
    created = release_created(release)
    package_format = int(descriptor.get(FORMAT_KEY, 1))
    if package_format > PACKAGE_FORMAT:
        raise ReleaseError(
            f"{release.descriptor_path} is in package format {package_format}; this eventdata {__version__} writes "
            f"formats up to {PACKAGE_FORMAT}: upgrade eventdata to rebuild it."
        )
    with tempfile.TemporaryDirectory(prefix="eventdata-verify-") as scratch:
        root = Path(scratch) / "project"
        shutil.copytree(release.path / SOURCES_DIR, root)
        (root / "dist-data").mkdir()
        project = Project(root)
        previous_copy = None
        if previous is not None:
            previous_copy = Release(
                previous.name, previous.version, root / "dist-data" / previous.name / previous.version
            )
            shutil.copytree(previous.path, previous_copy.path)
        copies = {
            root: release.path / SOURCES_DIR,
            **({previous_copy.path: previous.path} if previous and previous_copy else {}),
        }
        with copies_named(copies):  # an error names the release's own files, not the temporary copies
            staged = stage(project, created=created, previous=previous_copy, history=history)
            if isinstance(staged, Validation):
                raise ReleaseError(
                    f"The sources recorded in {release.path / SOURCES_DIR} no longer validate "
                    f"({len(staged.report.problems)} problems, first: {staged.report.problems[0].format()})."
                )
            write_package(
                staged, project, target, version=release.version, created=created, package_format=package_format
            )


def verify_release(
    project: Dataset | Project, version: str | None = None, *, rebuild: bool = True
) -> list[Verification]:
    """Re-hash every file of one version (default: all) against datapackage.json and the catalog; rebuild it.

    A rebuild is compared by content (eventdata.compare): the events' values and Arrow types, every CSV's
    values, datapackage.json's fields (but the tool's stamp) and the sources; documents such as README.md may
    be worded differently by a newer eventdata (listed in `reworded`, not a problem).
    """
    dataset = Dataset.open(project)
    name = dataset.name
    directory = dataset.dist_dir
    releases = list_releases(directory, name)
    if not releases:
        raise ReleaseError(f"No release of {name} in {directory}.")
    selected = [find_release(dataset, version)] if version else releases
    catalog = read_catalog(directory / CATALOG_FILE)
    damaged = version_folder_problems(directory, name)
    folders = {r.version for r in releases}
    results = [Verification(v, (p,), 0, False) for v, p in damaged if v not in folders and version is None]
    if not damaged:  # with a version missing or copied in, the folders do not give the catalog
        newest = releases[-1].version
        for entry_version, found in catalog_field_problems(directory, name):
            damaged.append((entry_version or newest, found))
    unsound: dict[str, list[Problem]] = {}  # a version's hash problems, once checked
    for release in selected:
        problems, checked = _hash_problems(release, catalog)
        problems += [p for v, p in damaged if v == release.version]
        unsound[release.version] = list(problems)  # its files and catalog only: what a later rebuild starts from
        rebuilt = False
        reworded: tuple[str, ...] = ()
        index = [r.version for r in releases].index(release.version)
        previous = releases[index - 1] if index else None
        if rebuild and not problems and previous is not None:
            if previous.version not in unsound:
                unsound[previous.version] = _hash_problems(previous, catalog)[0]
            if unsound[previous.version]:  # the rebuild starts from it: a damaged one cannot give this version
                first = unsound[previous.version][0]
                problems.append(
                    Problem(
                        first.code,
                        f"{release.version} is not rebuilt: its rebuild starts from {previous.version}, which is "
                        f"damaged ({first.message.rstrip('.')}); restore {previous.version} and verify again.",
                        first.file,
                        first.line,
                        first.column,
                        first.value,
                    )
                )
        if rebuild and not problems:
            with tempfile.TemporaryDirectory(prefix="eventdata-rebuilt-") as scratch:
                target = Path(scratch) / "rebuilt"
                rebuild_release(release, previous, target, releases_up_to(previous) if previous else ())
                comparison = compare_packages(release.path, target)
            problems += comparison.problems
            reworded = comparison.reworded
            rebuilt = True
        results.append(Verification(release.version, tuple(problems), checked, rebuilt, reworded))
    return results


def read_text_table(path: Path) -> list[dict[str, Any]]:
    """A small CSV of a release (changes/*.csv) as dictionaries."""
    rows: list[dict[str, Any]] = pa_csv.read_csv(path).to_pylist()
    return rows

"""`eventdata build`: validate the sheets, then write a data package into a new version folder.

A package holds the events (CSV, Parquet, ACLED-column CSV), the article index, the
codebook, the delta against the previous release (changes/), the data changelog, a
snapshot of the sources it was built from (sources/) and datapackage.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from eventdata import __version__, progress
from eventdata.catalog import Release, list_releases, read_release_table, version_key
from eventdata.changes import (
    Changes,
    SchemaChange,
    carry_timestamps,
    compute_changes,
    required_bump,
    schema_changes,
)
from eventdata.errors import ReleaseError, Report, SchemaFileError
from eventdata.files import (
    STAGING_MARK,
    FileSet,
    is_prepared_file,
    remove_stale,
    sha256_file,
    staging_folder,
    staging_token,
)
from eventdata.ids import DELETIONS_FILE, assignment_files, header_has_id, read_deletions
from eventdata.package import (
    FORMAT_KEY,
    PACKAGE_FORMAT,
    articles_frame,
    articles_table,
    changes_resources,
    datapackage_descriptor,
    events_resources,
    events_table,
    parallel_writes,
    present_dictionaries,
    release_datetime,
    write_csv,
    write_json,
    write_parquet,
)
from eventdata.project import Project, as_project
from eventdata.report import report_resource, write_report
from eventdata.schema import Codebook, codebook_markdown, load_codebook, published_table_schema
from eventdata.sources.sheets import SHEET_COLUMN
from eventdata.terms import RECORD_KEY, read_grants, terms_record, terms_vocabulary
from eventdata.validate import Validation, validate_project

VERSION_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
SOURCES_DIR = "sources"
DATA_CHANGELOG = "CHANGELOG.md"
#: Where `build` writes the package of working sheets that are not a released version (never a release itself).
DRAFT_DIR = "draft"


@dataclass(frozen=True)
class BuildResult:
    """What a build did: 'built', 'unchanged' (identical package existed) or 'invalid' (nothing written)."""

    status: str
    package_dir: Path
    version: str
    report: Report
    files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    schema_changes: tuple[SchemaChange, ...] = ()
    previous: str | None = None
    draft: bool = False  # a package of the working sheets, not a released version
    next_version: str | None = None  # for a draft: the version `eventdata release` would make of these sheets
    new_id_column: tuple[str, ...] = ()  # sheets whose header got an event_id_cnty column


@dataclass(frozen=True)
class Staged:
    """Everything a package needs before it is written: validated events and the delta."""

    validation: Validation
    codebook: Codebook
    table: pa.Table
    changes: Changes
    schema_changes: tuple[SchemaChange, ...]
    previous: Release | None


def dataset_version(codebook: Codebook) -> tuple[str, date]:
    """The configured version and release date of the dataset (schemas/dataset.json)."""
    where = codebook.path / "dataset.json"
    version = str(codebook.dataset.get("version", ""))
    if not VERSION_PATTERN.match(version):
        raise SchemaFileError(f"{where}: version {version!r} must be MAJOR.MINOR.PATCH, such as 1.0.0.")
    created = str(codebook.dataset.get("created", ""))
    try:
        release_date = date.fromisoformat(created)
    except ValueError as err:
        raise SchemaFileError(f"{where}: created {created!r} must be the release date as YYYY-MM-DD.") from err
    return version, release_date


def dataset_dir(project: Project, codebook: Codebook) -> Path:
    return project.dist_dir / str(codebook.dataset["name"])


def previous_release(project: Project, codebook: Codebook, version: str) -> Release | None:
    """The newest release older than `version`."""
    older = [
        r
        for r in list_releases(dataset_dir(project, codebook), str(codebook.dataset["name"]))
        if version_key(r.version) < version_key(version)
    ]
    return older[-1] if older else None


def release_table(release: Release) -> pa.Table:
    """The events table of a release, as written."""
    return read_release_table(release)


def release_schema(release: Release) -> dict[str, Any]:
    for resource in release.descriptor().get("resources", []):
        if resource.get("name") == "events":
            schema: dict[str, Any] = resource["schema"]
            return schema
    raise ReleaseError(f"{release.descriptor_path} has no 'events' resource.")


def stage(
    project: Project,
    *,
    created: datetime,
    previous: Release | None,
    today: date | None = None,
    validation: Validation | None = None,
) -> Staged | Validation:
    """Validate (unless given a validation made with the same time) and compute the delta against the previous
    release; the Validation alone if invalid."""
    codebook = load_codebook(project.schemas_dir)
    read_grants(codebook, terms_vocabulary(codebook))  # a malformed grant stops the build before anything is written
    if validation is None:
        validation = validate_project(project, today=today, timestamp=int(created.timestamp()), previous=previous)
    if not validation.report.valid:
        return validation
    previous_table = release_table(previous) if previous else None
    progress.stage("building the package", "events table")
    table = carry_timestamps(previous_table, events_table(validation.events, codebook))
    progress.stage("building the package", "changes")
    changes = compute_changes(previous_table, table, created.date(), read_deletions(project.seeds_dir / DELETIONS_FILE))
    schema_diff = schema_changes(release_schema(previous), published_table_schema(codebook)) if previous else []
    return Staged(validation, codebook, table, changes, tuple(schema_diff), previous)


def _changelog_section(version: str, release_date: date, staged: Staged) -> str:
    counts = staged.changes.counts()
    lines = [
        f"## {version} ({release_date.isoformat()})",
        "",
        f"- {staged.table.num_rows} events: {counts['added']} added, {counts['modified']} corrected "
        f"({counts['modified_cells']} values), {counts['deleted']} deleted"
        + (f", compared with {staged.previous.version}." if staged.previous else " (first release)."),
    ]
    for change in staged.schema_changes:
        lines.append(f"- Schema ({change.level}): `{change.field}` {change.description}.")
    modified = staged.changes.modified.to_pylist()
    notable = [m for m in modified if m["column"] != "timestamp"][:20]
    if notable:
        lines.append("- Corrections:")
        lines += [f"  - {m['event_id_cnty']} {m['column']}: {m['old_value']!r} → {m['new_value']!r}" for m in notable]
        if len([m for m in modified if m["column"] != "timestamp"]) > len(notable):
            lines.append("  - … the full list is in changes/modified.csv.")
    deleted = staged.changes.deleted.to_pylist()
    if deleted:
        lines.append("- Deleted:")
        lines += [f"  - {d['event_id_cnty']}" + (f": {d['reason']}" if d["reason"] else "") for d in deleted[:50]]
        if len(deleted) > 50:
            lines.append("  - … the full list is in changes/deleted.csv.")
    return "\n".join(lines) + "\n"


def data_changelog(staged: Staged, version: str, release_date: date, title: str) -> str:
    """The data changelog: this release's section on top of the previous release's changelog."""
    previous_text = ""
    if staged.previous and (staged.previous.path / DATA_CHANGELOG).is_file():
        previous_text = (staged.previous.path / DATA_CHANGELOG).read_text(encoding="utf-8")
        previous_text = previous_text.split("\n## ", 1)[1] if "\n## " in previous_text else ""
        previous_text = "\n## " + previous_text if previous_text else ""
    header = f"# Data changelog: {title}\n\nWhat changed in the data, newest release first. Generated by eventdata.\n\n"
    return header + _changelog_section(version, release_date, staged) + previous_text


def dataset_json_text(data: dict[str, Any]) -> str:
    """schemas/dataset.json as the tool writes it."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def released_dataset_json(path: Path, version: str, released: date) -> str | None:
    """dataset.json as it reads once this version is released; None when it already does."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") == version and data.get("created") == released.isoformat():
        return None
    data["version"], data["created"] = version, released.isoformat()
    return dataset_json_text(data)


def snapshot_sources(
    project: Project, target: Path, staged: Staged, version: str, released: date
) -> list[dict[str, Any]]:
    """Copy the inputs (schemas/, seeds/) into the package, to rebuild it from itself.

    The copy is the inputs as they stand once the version is released: new ids filled in, and
    schemas/dataset.json naming this version and its date.
    """
    for folder in ("schemas", "seeds"):
        source = project.root / folder
        for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            if is_prepared_file(path.name):
                continue  # a file a run is putting in place (FileSet), never an input
            destination = target / path.relative_to(project.root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    record_new_ids(staged, project, root=target)  # may create seeds/event_ids.csv: listed below like the rest
    dataset = target / "schemas" / "dataset.json"
    updated = released_dataset_json(dataset, version, released)
    if updated is not None:
        dataset.write_text(updated, encoding="utf-8", newline="\n")
    copied = sorted(p for folder in ("schemas", "seeds") for p in (target / folder).rglob("*") if p.is_file())
    return [
        {
            "path": f"{SOURCES_DIR}/{path.relative_to(target).as_posix()}",
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
        for path in copied
    ]


def release_terms(staged: Staged) -> dict[str, Any] | None:
    """What datapackage.json records about the terms of the rows (None: all default terms, no grant)."""
    vocabulary = terms_vocabulary(staged.codebook)
    grants = read_grants(staged.codebook, vocabulary)
    cited = staged.table.column("article_id")
    if pa.types.is_dictionary(cited.type):
        cited = pc.cast(cited, pa.string())
    counts = {c["values"]: c["counts"] for c in pc.value_counts(cited).to_pylist()}
    return terms_record(staged.validation.articles.values(), counts, vocabulary, grants)


def release_readme(descriptor: dict[str, Any], staged: Staged, files: dict[str, str], package_dir: Path) -> str:
    """A short README for the package: what it holds, what changed, its files and how to load it."""
    table = staged.table
    counts = staged.changes.counts()
    lines = [
        f"# {descriptor.get('title', descriptor['name'])}",
        "",
        f"Version {descriptor['version']}, released {descriptor['created'][:10]}.",
        "",
        descriptor.get("description", ""),
        "",
        "## Contents",
        "",
        f"- {table.num_rows} events from {len(staged.validation.articles)} articles",
    ]
    if table.num_rows:
        span = pc.min_max(table.column("event_date")).as_py()
        country = table.column("country")
        if pa.types.is_dictionary(country.type):
            country = pc.cast(country, pa.string())
        countries = sorted(c for c in pc.unique(country).to_pylist() if c)
        lines.append(f"- event dates {span['min']} to {span['max']}; countries: {', '.join(countries)}")
        fatalities = pc.sum(table.column("fatalities")).as_py() or 0
        lines.append(f"- {fatalities} reported fatalities (lowest reported figures)")
    licences = (
        ", ".join(lic.get("name", lic.get("path", "")) for lic in descriptor.get("licenses", [])) or "none stated"
    )
    since = f"since {staged.previous.version}" if staged.previous else "first release"
    lines.append(f"- licence: {licences}")
    restricted = descriptor.get(RECORD_KEY, {}).get("restricted_rows", 0)
    if restricted:
        names = [t["title"] for t in descriptor[RECORD_KEY]["terms"] if not t["redistribute"] and "granted" not in t]
        lines.append(
            f"- {restricted} events are under terms that do not allow publishing them ({'; '.join(names)}): "
            f"share this release privately (see {RECORD_KEY} in datapackage.json)"
        )
    lines += [
        "",
        f"## Changes ({since})",
        "",
        f"- added: {counts['added']}",
        f"- corrected: {counts['modified']} events ({counts['modified_cells']} values)",
        f"- deleted: {counts['deleted']}",
        f"- schema changes: {len(staged.schema_changes) or 'none'}",
        "",
        "Details: changes/added.csv, changes/modified.csv (event, column, old and new value), changes/deleted.csv, "
        f"and {DATA_CHANGELOG}.",
        "",
        "## Files",
        "",
        "| file | bytes | sha256 |",
        "|---|---|---|",
    ]
    for name, digest in sorted(files.items()):
        lines.append(f"| {name} | {(package_dir / name).stat().st_size} | {digest} |")
    lines += [
        "",
        "## Load",
        "",
        "```python",
        "import pandas as pd",
        'events = pd.read_parquet("data/events.parquet")',
        "# or, with types restored from the Table Schema:",
        "import eventdata",
        'events = eventdata.read_events("datapackage.json")',
        "```",
        "",
        "Places were checked against GeoNames (geonames.org, CC BY 4.0) and Natural Earth country borders "
        "(public domain).",
        "",
        f"The columns are described in codebook.md and, machine-readable, in datapackage.json. The inputs this "
        f"release was built from are in {SOURCES_DIR}/ (`eventdata verify` rebuilds it from them).",
        "",
        f"Built with eventdata {__version__}.",
    ]
    return "\n".join(lines) + "\n"


def write_package(
    staged: Staged,
    project: Project,
    package_dir: Path,
    *,
    version: str,
    created: datetime,
    package_format: int = PACKAGE_FORMAT,
) -> dict[str, str]:
    """Write every file of the package into package_dir (which must not exist); return their sha256.

    package_format is the layout to write (see eventdata.package.PACKAGE_FORMAT); verify passes a release's own.
    """
    codebook = staged.codebook
    release_date = created.date()
    (package_dir / "data").mkdir(parents=True)
    (package_dir / "changes").mkdir()
    events = staged.table if package_format >= 2 else present_dictionaries(staged.table)
    table = events.replace_schema_metadata(
        {"eventdata": json.dumps({"name": codebook.dataset["name"], "version": version})}
    )
    neutralise = package_format >= 2  # format 1 wrote formula-like cells as they were
    with parallel_writes():  # the files are written side by side, complete when the block ends
        write_csv(table, package_dir / "data" / "events.csv", neutralise=neutralise)
        write_parquet(table, package_dir / "data" / "events.parquet")
        write_csv(
            table.select(codebook.acled_field_names), package_dir / "data" / "events-acled.csv", neutralise=neutralise
        )
        write_csv(
            articles_table(articles_frame(staged.validation.articles.values())),
            package_dir / "data" / "articles.csv",
            neutralise=neutralise,
        )
        write_csv(staged.changes.added, package_dir / "changes" / "added.csv", neutralise=neutralise)
        write_csv(staged.changes.modified, package_dir / "changes" / "modified.csv", neutralise=neutralise)
        write_csv(staged.changes.deleted, package_dir / "changes" / "deleted.csv", neutralise=neutralise)
    (package_dir / "codebook.md").write_text(codebook_markdown(codebook), encoding="utf-8", newline="\n")
    title = str(codebook.dataset.get("title", codebook.dataset["name"]))
    changelog = data_changelog(staged, version, release_date, title)
    (package_dir / DATA_CHANGELOG).write_text(changelog, encoding="utf-8", newline="\n")
    sources = snapshot_sources(project, package_dir / SOURCES_DIR, staged, version, release_date)
    if package_format >= 2:
        write_report(
            package_dir,
            load_codebook(package_dir / SOURCES_DIR / "schemas"),  # as `eventdata report` reads it back
            version=version,
            released=release_date,
            previous=staged.previous.version if staged.previous else None,
        )
    resources = events_resources(package_dir, codebook) + changes_resources(package_dir, codebook)
    if package_format >= 2:  # format 1 packages had no report
        resources.append(report_resource(package_dir))
    extra: dict[str, Any] = {
        "eventdata:changes": {
            "previous": staged.previous.version if staged.previous else None,
            "counts": staged.changes.counts(),
            "schema": [{"level": c.level, "field": c.field, "change": c.description} for c in staged.schema_changes],
        },
        "eventdata:sources": sources,
        "eventdata:built_with": f"eventdata {__version__}",
    }
    terms = release_terms(staged)
    if terms is not None:
        extra[RECORD_KEY] = terms
    if package_format >= 2:
        extra[FORMAT_KEY] = package_format
    warnings = staged.validation.report.counts("warning")
    if warnings:  # problems schemas/rules.csv makes warnings: reported, counted, not blocking
        extra["eventdata:warnings"] = warnings
    descriptor = datapackage_descriptor(
        codebook,
        version=version,
        created=created,
        articles=staged.validation.articles.values(),
        resources=resources,
        extra=extra,
    )
    write_json(descriptor, package_dir / "datapackage.json")
    files = {r["path"]: r["hash"].removeprefix("sha256:") for r in resources}
    files[DATA_CHANGELOG] = sha256_file(package_dir / DATA_CHANGELOG)
    files["datapackage.json"] = sha256_file(package_dir / "datapackage.json")
    readme = release_readme(descriptor, staged, files, package_dir)
    (package_dir / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    files["README.md"] = sha256_file(package_dir / "README.md")
    files.update({s["path"]: s["sha256"] for s in sources})
    return files


def package_hashes(package_dir: Path) -> dict[str, str]:
    """sha256 of every file in a package folder, by relative path."""
    return {
        p.relative_to(package_dir).as_posix(): sha256_file(p) for p in sorted(package_dir.rglob("*")) if p.is_file()
    }


def _id_files(staged: Staged, project: Project, root: Path | None = None) -> tuple[dict[Path, str], Path]:
    """New text of the sheets and registry that get the ids given to new rows, and the registry path."""
    new_ids = staged.validation.new_ids
    sheets = staged.validation.sheets
    registry = project.id_registry
    if root is not None:
        sheets = {k: root / v.resolve().relative_to(project.root.resolve()) for k, v in sheets.items()}
        registry = root / registry.resolve().relative_to(project.root.resolve())
    if new_ids is None or new_ids.empty:
        return {}, registry
    return assignment_files(registry, sheets, new_ids), registry


def record_new_ids(staged: Staged, project: Project, root: Path) -> None:
    """Write ids given to new rows into the sheets and registry of a copy of the project at root."""
    for path, text in _id_files(staged, project, root)[0].items():
        path.write_text(text, encoding="utf-8", newline="")


def commit_new_ids(staged: Staged, project: Project, directory: Path) -> None:
    """Write ids given to new rows into the project's sheets and registry, all or none (staging in directory)."""
    files, _ = _id_files(staged, project)
    if not files:
        return
    with staging_folder(directory, f".ids{STAGING_MARK}", clean=_input_dirs(project)) as staging:
        changes = FileSet(staging_token(staging))
        try:
            for path, text in files.items():
                changes.prepare(path, text)
            changes.commit()
        finally:
            changes.discard()


#: The named steps of committing a version, in order. `checkpoint` is called at each; it does nothing,
#: and tests replace it to stop a run there (an exception, or a real SIGKILL of a subprocess).
COMMIT_STEPS = ("staging", "package-written", "prepared", "ids-written", "version-visible", "bookkeeping-written")


def checkpoint(step: str) -> None:
    """A named point in committing a version (see COMMIT_STEPS)."""


def _refuse_symlink(target: Path) -> None:
    if target.is_symlink():
        pointee = os.readlink(target)
        state = "which does not exist" if not target.exists() else "and a version is a real folder"
        raise ReleaseError(f"{target} is a symbolic link to {pointee}, {state}; remove the link (nothing was written).")


def _input_dirs(project: Project) -> tuple[Path, ...]:
    """Where a commit prepares files beside their targets: the sheets, the registry, dataset.json."""
    return (project.seeds_dir, project.sheets_dir, project.schemas_dir)


def remove_leftovers(project: Project, directory: Path) -> list[Path]:
    """Staging folders and prepared files of killed builds and releases (never of a running one)."""
    return remove_stale(directory, (*_input_dirs(project), directory))


def commit_package(
    staged: Staged,
    project: Project,
    target: Path,
    *,
    version: str,
    created: datetime,
    bookkeeping: Callable[[Path], dict[Path, str]] | None = None,
    clean_inputs: bool = True,
) -> tuple[str, dict[str, str]]:
    """Write the package and make it visible as `target` in one commit step, the last thing a command does.

    Every file is written before anything the user sees changes: the package into a locked staging folder
    beside target, and the new text of the sheets and registry (ids of new rows) and of the files
    `bookkeeping(package folder)` returns (a release's catalog, changelog, dataset.json) beside their
    targets. Then the ids are renamed into place, the package is renamed to target (the commit point; if
    that fails the ids are put back), and the bookkeeping files follow. An error at any step undoes the
    steps before it, so a command that fails leaves no version and the inputs as they were. A kill before
    the rename leaves no version (and possibly the ids, registered: the next build gives the same rows the
    same ids); a kill after it leaves a complete version whose bookkeeping the next `release` regenerates.
    Stale staging folders of killed runs are removed first (and their prepared inputs, unless not
    clean_inputs: a commit nested in another staging folder). Returns ('built' | 'unchanged', file hashes).
    A target with other content is never overwritten.
    """
    _refuse_symlink(target)
    clean = _input_dirs(project) if clean_inputs else ()
    with staging_folder(target.parent, f".{target.name}{STAGING_MARK}", clean=clean) as staging:
        checkpoint("staging")
        token = staging_token(staging)
        package = staging / "package"
        files = write_package(staged, project, package, version=version, created=created)
        checkpoint("package-written")
        ids, after = FileSet(token), FileSet(token)
        try:
            for path, text in _id_files(staged, project)[0].items():
                ids.prepare(path, text)
            _refuse_symlink(target)
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # an empty folder (an --out-dir made in advance) holds no release
            if target.exists():
                existing = package_hashes(target)
                if existing == files:
                    ids.commit()  # rows of a run stopped after its version became visible
                    return "unchanged", files
                changed = sorted(k for k in set(existing) | set(files) if existing.get(k) != files.get(k))
                shown = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "")
                raise ReleaseError(
                    f"Version {version} already exists in {target} and differs from this build ({shown}). "
                    "Released data is never overwritten: make a new version with `eventdata release` "
                    "(it suggests --bump patch|minor|major), or delete the folder if it was never published."
                )
            for path, text in (bookkeeping(package) if bookkeeping else {}).items():
                after.prepare(path, text)
            checkpoint("prepared")
            ids.commit()
            visible = False
            try:
                checkpoint("ids-written")
                os.rename(package, target)
                visible = True
                checkpoint("version-visible")
                after.commit()
                checkpoint("bookkeeping-written")
            except BaseException:  # a failed command leaves no version: undo the commit
                after.rollback()
                if visible:
                    os.rename(target, package)
                ids.rollback()
                raise
            return "built", files
        finally:
            ids.discard()
            after.discard()


def next_release_version(latest: str | None, needed: str | None) -> str:
    """The version `eventdata release` makes without --bump or --as: 1.0.0 first, then the bump the changes need."""
    if latest is None:
        return "1.0.0"
    major, minor, patch = version_key(latest)
    level = needed or "patch"
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0"}.get(level, f"{major}.{minor}.{patch + 1}")


def release_format(release: Release) -> int:
    """The package format a release was written in (1 when it records none)."""
    return int(release.descriptor().get(FORMAT_KEY, 1))


def reproduces(staged: Staged, project: Project, release: Release, *, created: datetime) -> bool:
    """True when the working sheets build exactly the files of a released version (in its own package format)."""
    with tempfile.TemporaryDirectory(prefix="eventdata-compare-") as scratch:
        files = write_package(
            staged,
            project,
            Path(scratch) / "package",
            version=release.version,
            created=created,
            package_format=release_format(release),
        )
    return files == package_hashes(release.path)


def copy_release(release: Release, target: Path) -> tuple[str, dict[str, str]]:
    """Copy a release the sheets reproduce to target (--out-dir), atomically; a folder with other content is kept."""
    files = package_hashes(release.path)
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        if package_hashes(target) == files:
            return "unchanged", files
        raise ReleaseError(
            f"{target} exists and differs from version {release.version}; give an empty or new --out-dir."
        )
    _refuse_symlink(target)
    with staging_folder(target.parent, f".{target.name}{STAGING_MARK}") as staging:
        shutil.copytree(release.path, staging / "package")
        os.rename(staging / "package", target)
    return "built", files


def commit_draft(
    staged: Staged, project: Project, target: Path, *, version: str, created: datetime
) -> tuple[str, dict[str, str]]:
    """Write a draft package and put it in place of the previous draft (a draft is never released data)."""
    _refuse_symlink(target)
    with staging_folder(target.parent, f".{target.name}{STAGING_MARK}") as work:
        fresh = work / "package"
        # Inside this staging folder: the prepared files of the inputs belong to the dataset folder's runs.
        _, files = commit_package(staged, project, fresh, version=version, created=created, clean_inputs=False)
        if target.exists():
            if package_hashes(target) == files:
                return "unchanged", files
            os.rename(target, work / "previous")
        os.rename(fresh, target)
        return "built", files


def sheets_without_id_column(validation: Validation) -> list[str]:
    """Sheets that get new ids but have no event_id_cnty column: writing the ids adds it to their header."""
    new_ids = validation.new_ids
    if new_ids is None or new_ids.empty:
        return []
    lacking = []
    for name in sorted({str(s) for s in new_ids[SHEET_COLUMN]}):
        path = validation.sheets.get(name)
        if path is not None and not header_has_id(path):
            lacking.append(name)
    return lacking


def build_package(
    project: Project | str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    today: date | None = None,
) -> BuildResult:
    """Validate every sheet, then write a package atomically: the configured version, or a draft.

    When the sheets hold the version configured in schemas/dataset.json and it is released, that release is the
    package (status 'unchanged'; with out_dir, it is written there again). Otherwise the package of the working
    sheets is a draft, labelled '<next version>-draft', written to dist-data/<name>/draft/ (or out_dir) and
    replaced by the next build: only `eventdata release` makes a version.
    """
    project = as_project(project)
    codebook = load_codebook(project.schemas_dir)
    configured, release_date = dataset_version(codebook)
    directory = dataset_dir(project, codebook)
    created = release_datetime(release_date, os.environ.get("SOURCE_DATE_EPOCH"))
    releases = list_releases(directory, str(codebook.dataset["name"]))
    latest = releases[-1] if releases else None
    draft_dir = Path(out_dir) if out_dir is not None else directory / DRAFT_DIR
    remove_leftovers(project, directory)
    validation = validate_project(project, today=today, timestamp=int(created.timestamp()), previous=latest)
    if not validation.report.valid:
        return BuildResult("invalid", draft_dir, configured, validation.report)
    lacking = tuple(sheets_without_id_column(validation))
    released = next((r for r in releases if r.version == configured), None)
    if released is not None:
        previous = previous_release(project, codebook, configured)
        staged = stage(project, created=created, previous=previous, validation=validation)
        assert isinstance(staged, Staged)  # the validation is valid
        if reproduces(staged, project, released, created=created):
            if out_dir is None:
                return _result("unchanged", released.path, configured, staged, package_hashes(released.path))
            status, files = copy_release(released, Path(out_dir))
            return _result(status, Path(out_dir), configured, staged, files)
    staged = stage(project, created=created, previous=latest, validation=validation)
    assert isinstance(staged, Staged)
    needed = required_bump(list(staged.schema_changes), staged.changes.counts())
    label = f"{next_release_version(latest.version if latest else None, needed)}-draft"
    # With no event or schema change since the latest release, `release` makes no version of these sheets.
    upcoming = None if latest is not None and needed is None else label.removesuffix("-draft")
    if out_dir is not None:
        status, files = commit_package(staged, project, draft_dir, version=label, created=created)
    else:
        status, files = commit_draft(staged, project, draft_dir, version=label, created=created)
    return _result(status, draft_dir, label, staged, files, draft=True, next_version=upcoming, new_id_column=lacking)


def _result(
    status: str,
    package_dir: Path,
    version: str,
    staged: Staged,
    files: dict[str, str],
    **extra: Any,
) -> BuildResult:
    return BuildResult(
        status,
        package_dir,
        version,
        staged.validation.report,
        files,
        staged.changes.counts(),
        staged.schema_changes,
        staged.previous.version if staged.previous else None,
        **extra,
    )

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
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from eventdata import __version__
from eventdata.catalog import Release, list_releases, version_key
from eventdata.changes import Changes, SchemaChange, carry_timestamps, compute_changes, schema_changes
from eventdata.errors import ReleaseError, Report, SchemaFileError
from eventdata.files import sha256_file
from eventdata.ids import DELETIONS_FILE, read_deletions, record_assignment
from eventdata.package import (
    articles_frame,
    articles_table,
    changes_resources,
    datapackage_descriptor,
    events_resources,
    events_table,
    release_datetime,
    write_csv,
    write_json,
    write_parquet,
)
from eventdata.project import Project
from eventdata.schema import Codebook, codebook_markdown, load_codebook, published_table_schema
from eventdata.validate import Validation, validate_project

VERSION_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
SOURCES_DIR = "sources"
DATA_CHANGELOG = "CHANGELOG.md"


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
    name = str(codebook.dataset.get("name", ""))
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise SchemaFileError(f"{where}: name {name!r} must be lower case letters, digits, '.', '_' or '-'.")
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
    return pq.read_table(release.path / "data" / "events.parquet")


def release_schema(release: Release) -> dict[str, Any]:
    for resource in release.descriptor().get("resources", []):
        if resource.get("name") == "events":
            schema: dict[str, Any] = resource["schema"]
            return schema
    raise ReleaseError(f"{release.descriptor_path} has no 'events' resource.")


def stage(
    project: Project, *, created: datetime, previous: Release | None, today: date | None = None
) -> Staged | Validation:
    """Validate and compute the delta against the previous release; the Validation alone if invalid."""
    codebook = load_codebook(project.schemas_dir)
    validation = validate_project(project, today=today, timestamp=int(created.timestamp()))
    if not validation.report.valid:
        return validation
    previous_table = release_table(previous) if previous else None
    table = carry_timestamps(previous_table, events_table(validation.events, codebook))
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
    copied = []
    for folder in ("schemas", "seeds"):
        source = project.root / folder
        for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            relative = path.relative_to(project.root).as_posix()
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied.append((relative, destination))
    record_new_ids(staged, project, root=target)
    dataset = target / "schemas" / "dataset.json"
    updated = released_dataset_json(dataset, version, released)
    if updated is not None:
        dataset.write_text(updated, encoding="utf-8", newline="\n")
    return [
        {"path": f"{SOURCES_DIR}/{relative}", "bytes": destination.stat().st_size, "sha256": sha256_file(destination)}
        for relative, destination in copied
    ]


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
    lines += [
        f"- licence: {licences}",
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
    staged: Staged, project: Project, package_dir: Path, *, version: str, created: datetime
) -> dict[str, str]:
    """Write every file of the package into package_dir (which must not exist); return their sha256."""
    codebook = staged.codebook
    release_date = created.date()
    (package_dir / "data").mkdir(parents=True)
    (package_dir / "changes").mkdir()
    table = staged.table.replace_schema_metadata(
        {"eventdata": json.dumps({"name": codebook.dataset["name"], "version": version})}
    )
    write_csv(table, package_dir / "data" / "events.csv")
    write_parquet(table, package_dir / "data" / "events.parquet")
    write_csv(table.select(codebook.acled_field_names), package_dir / "data" / "events-acled.csv")
    write_csv(
        articles_table(articles_frame(staged.validation.articles.values())), package_dir / "data" / "articles.csv"
    )
    write_csv(staged.changes.added, package_dir / "changes" / "added.csv")
    write_csv(staged.changes.modified, package_dir / "changes" / "modified.csv")
    write_csv(staged.changes.deleted, package_dir / "changes" / "deleted.csv")
    (package_dir / "codebook.md").write_text(codebook_markdown(codebook), encoding="utf-8", newline="\n")
    title = str(codebook.dataset.get("title", codebook.dataset["name"]))
    changelog = data_changelog(staged, version, release_date, title)
    (package_dir / DATA_CHANGELOG).write_text(changelog, encoding="utf-8", newline="\n")
    sources = snapshot_sources(project, package_dir / SOURCES_DIR, staged, version, release_date)
    resources = events_resources(package_dir, codebook) + changes_resources(package_dir, codebook)
    extra = {
        "eventdata:changes": {
            "previous": staged.previous.version if staged.previous else None,
            "counts": staged.changes.counts(),
            "schema": [{"level": c.level, "field": c.field, "change": c.description} for c in staged.schema_changes],
        },
        "eventdata:sources": sources,
        "eventdata:built_with": f"eventdata {__version__}",
    }
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


def record_new_ids(staged: Staged, project: Project, root: Path | None = None) -> None:
    """Write ids given to new rows into their sheets and the registry (of the project, or of a copy at root)."""
    new_ids = staged.validation.new_ids
    if new_ids is None or new_ids.empty:
        return
    sheets = staged.validation.sheets
    registry = project.id_registry
    if root is not None:
        sheets = {k: root / v.resolve().relative_to(project.root.resolve()) for k, v in sheets.items()}
        registry = root / registry.resolve().relative_to(project.root.resolve())
    record_assignment(registry, sheets, new_ids)


def commit_package(
    staged: Staged, project: Project, target: Path, *, version: str, created: datetime
) -> tuple[str, dict[str, str]]:
    """Record new ids, write the package into a temporary folder beside target and rename it into place.

    Returns ('built' | 'unchanged', file hashes). A target with other content is never overwritten.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        package = staging / "package"
        files = write_package(staged, project, package, version=version, created=created)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # an empty folder (an --out-dir made in advance) holds no release
        if target.exists():
            existing = package_hashes(target)
            if existing == files:
                record_new_ids(staged, project)
                return "unchanged", files
            changed = sorted(k for k in set(existing) | set(files) if existing.get(k) != files.get(k))
            shown = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "")
            raise ReleaseError(
                f"Version {version} already exists in {target} and differs from this build ({shown}). "
                "Released data is never overwritten: make a new version with `eventdata release` "
                "(it suggests --bump patch|minor|major), or delete the folder if it was never published."
            )
        os.rename(package, target)
        record_new_ids(staged, project)
        return "built", files
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_package(project: Project, out_dir: Path | None = None, *, today: date | None = None) -> BuildResult:
    """Validate every sheet, then write the package for the configured version, atomically."""
    codebook = load_codebook(project.schemas_dir)
    version, release_date = dataset_version(codebook)
    target = Path(out_dir) if out_dir is not None else dataset_dir(project, codebook) / version
    created = release_datetime(release_date, os.environ.get("SOURCE_DATE_EPOCH"))
    previous = previous_release(project, codebook, version)
    staged = stage(project, created=created, previous=previous, today=today)
    if isinstance(staged, Validation):
        return BuildResult("invalid", target, version, staged.report)
    status, files = commit_package(staged, project, target, version=version, created=created)
    return BuildResult(
        status,
        target,
        version,
        staged.validation.report,
        files,
        staged.changes.counts(),
        staged.schema_changes,
        staged.previous.version if staged.previous else None,
    )

"""`eventdata build`: validate the sheets, then write a data package into a new version folder.

A package holds the events (CSV, Parquet, ACLED-column CSV), the article index, the
codebook, the delta against the previous release (changes/), the data changelog, a
snapshot of the sources it was built from (sources/) and datapackage.json.

A build only reads its inputs: rows typed without an id get provisional ids in memory (the numbers
`eventdata assign-ids` and `release` write), and nothing in schemas/ or seeds/ changes. The version of a
package comes from the releases in dist-data/<name>/, never from schemas/dataset.json.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from eventdata import __version__, progress
from eventdata.agreement import write_agreement
from eventdata.assign import id_files, input_dirs, unassigned_count
from eventdata.catalog import Release, list_releases, read_release_table, version_key
from eventdata.changes import (
    Changes,
    SchemaChange,
    carry_timestamps,
    compute_changes,
    required_bump,
    schema_changes,
)
from eventdata.compare import compare_packages
from eventdata.dataset import Dataset
from eventdata.duplicates import duplicate_of_schema, with_duplicate_of
from eventdata.errors import Problem, ReleaseError, Report, SourceError
from eventdata.files import (
    STAGING_MARK,
    FileSet,
    folder_listing,
    is_prepared_file,
    remove_stale,
    sha256_file,
    staging_folder,
    staging_token,
)
from eventdata.ids import DELETIONS_FILE, read_deletions
from eventdata.package import (
    FORMAT_KEY,
    PACKAGE_FORMAT,
    articles_frame,
    articles_table,
    changes_resources,
    copy_file,
    datapackage_descriptor,
    digest,
    events_resources,
    events_table,
    parallel_writes,
    present_dictionaries,
    release_datetime,
    restore_formulas,
    write_csv,
    write_json,
    write_parquet,
)
from eventdata.project import Project
from eventdata.report import report_resource, write_report
from eventdata.schema import Codebook, codebook_markdown, published_table_schema
from eventdata.sources.sheets import display_path
from eventdata.terms import RECORD_KEY, read_grants, terms_record, terms_vocabulary
from eventdata.validate import Validation, validate_project

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
    unassigned: int = 0  # rows without an id: the draft gave them provisional ids (`eventdata assign-ids`)


@dataclass(frozen=True)
class Staged:
    """Everything a package needs before it is written: validated events and the delta."""

    validation: Validation
    codebook: Codebook
    table: pa.Table
    changes: Changes
    schema_changes: tuple[SchemaChange, ...]
    previous: Release | None
    history: tuple[Release, ...] = ()  # every release up to previous, oldest first: the data changelog's sections
    events: pa.Table | None = None  # events_table of the validation, before carry_timestamps


#: Keys of schemas/dataset.json that earlier versions of eventdata kept there; the version now lives in the
#: release folders and the catalog only.
RETIRED_DATASET_KEYS = ("version", "created")
#: The time a draft states when there is neither a release nor an article, and SOURCE_DATE_EPOCH is not set.
FIRST_DRAFT_DATE = date(1970, 1, 1)


def retired_key_warnings(codebook: Codebook) -> list[Problem]:
    """A warning for each key of schemas/dataset.json that is no longer used (version, created)."""
    where = str(codebook.path / "dataset.json")
    return [
        Problem(
            "dataset-key-unused",
            f"{key} is no longer used: the version and date of a release are in dist-data/<name>/ "
            "(its folder, datapackage.json and catalog.json); `eventdata release` chooses them. Remove the key.",
            where,
            column=key,
            value=str(codebook.dataset[key]),
            severity="warning",
        )
        for key in RETIRED_DATASET_KEYS
        if key in codebook.dataset
    ]


def with_warnings(report: Report, extra: list[Problem]) -> Report:
    """The report with more problems added (warnings about the inputs that are not about rows)."""
    if not extra:
        return report
    return Report((*report.problems, *extra), report.files, report.rows, report.stats)


def release_created(release: Release) -> datetime:
    """The time a release states (datapackage.json `created`)."""
    return datetime.strptime(release.descriptor()["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def draft_datetime(latest: Release | None, published: list[date] | None = None) -> datetime:
    """The time a draft states: SOURCE_DATE_EPOCH when set, else the later of the latest release's date and the
    newest article's publication date (1970-01-01 without either).

    Never the clock: building the same inputs twice gives the same draft. `release` dates the version it makes.
    """
    dates = [*(published or []), *([release_created(latest).date()] if latest is not None else [])]
    return release_datetime(max(dates, default=FIRST_DRAFT_DATE), os.environ.get("SOURCE_DATE_EPOCH"))


def release_table(release: Release) -> pa.Table:
    """The events table of a release, as written."""
    return read_release_table(release)


def release_schema(release: Release) -> dict[str, Any]:
    for resource in release.descriptor().get("resources", []):
        if resource.get("name") == "events":
            schema: dict[str, Any] = resource["schema"]
            return schema
    raise ReleaseError(f"{release.descriptor_path} has no 'events' resource.")


def releases_up_to(release: Release) -> tuple[Release, ...]:
    """The releases of a dataset folder up to and including release, oldest first."""
    return tuple(
        r
        for r in list_releases(release.path.parent, release.name)
        if version_key(r.version) <= version_key(release.version)
    )


def stage(
    project: Dataset | Project,
    *,
    created: datetime,
    previous: Release | None,
    today: date | None = None,
    validation: Validation | None = None,
    history: tuple[Release, ...] | None = None,
    events: pa.Table | None = None,
    consume: bool = False,
) -> Staged | Validation:
    """Validate (unless given a validation made with the same time) and compute the delta against the previous
    release; the Validation alone if invalid. history: the releases up to previous (default: its folder's).

    events: the events table of that validation, when already made (Staged.events). consume: the validation's
    frame of events is emptied as its table is made (a caller that needs only the table: half the memory).
    """
    dataset = Dataset.open(project)
    project = dataset.project
    codebook = dataset.codebook
    read_grants(codebook, dataset.terms)  # a malformed grant stops the build before anything is written
    if validation is None:
        validation = validate_project(dataset, today=today, timestamp=int(created.timestamp()), previous=previous)
    if not validation.report.valid:
        return validation
    progress.stage("building the package", "events table")
    if events is None:
        events = events_table(validation.events, codebook, consume=consume)
    previous_table = release_table(previous) if previous else None  # read once the frame is consumed (#10)
    table = carry_timestamps(previous_table, events)
    progress.stage("building the package", "changes")
    changes = compute_changes(previous_table, table, created.date(), read_deletions(project.seeds_dir / DELETIONS_FILE))
    schema_diff = schema_changes(release_schema(previous), published_table_schema(codebook)) if previous else []
    if history is None:
        history = releases_up_to(previous) if previous else ()
    return Staged(validation, codebook, table, changes, tuple(schema_diff), previous, history, events)


def changelog_section(
    version: str,
    released: date,
    events: int,
    counts: dict[str, int],
    previous: str | None,
    schema: list[dict[str, Any]],
    modified: list[dict[str, Any]],
    deleted: list[dict[str, Any]],
) -> str:
    """One release's section of the data changelog, from its structured changes."""
    lines = [
        f"## {version} ({released.isoformat()})",
        "",
        f"- {events} events: {counts.get('added', 0)} added, {counts.get('modified', 0)} corrected "
        f"({counts.get('modified_cells', 0)} values), {counts.get('deleted', 0)} deleted"
        + (f", compared with {previous}." if previous else " (first release)."),
    ]
    for change in schema:
        lines.append(f"- Schema ({change.get('level')}): `{change.get('field')}` {change.get('change')}.")
    corrections = [m for m in modified if m["column"] != "timestamp"]
    notable = corrections[:20]
    if notable:
        lines.append("- Corrections:")
        lines += [f"  - {m['event_id_cnty']} {m['column']}: {m['old_value']!r} → {m['new_value']!r}" for m in notable]
        if len(corrections) > len(notable):
            lines.append("  - … the full list is in changes/modified.csv.")
    if deleted:
        lines.append("- Deleted:")
        lines += [f"  - {d['event_id_cnty']}" + (f": {d['reason']}" if d["reason"] else "") for d in deleted[:50]]
        if len(deleted) > 50:
            lines.append("  - … the full list is in changes/deleted.csv.")
    return "\n".join(lines) + "\n"


def read_changes_csv(release: Release, name: str) -> list[dict[str, Any]]:
    """changes/<name>.csv of a release as text values (missing stays missing; formula guards removed)."""
    path = release.path / "changes" / f"{name}.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=True
            ),
        )
    except (OSError, UnicodeDecodeError, pa.ArrowException) as err:
        raise ReleaseError(
            f"{path} cannot be read ({err}); release {release.version} is damaged: restore it from a backup "
            "or the published copy."
        ) from err
    if int(release.descriptor().get(FORMAT_KEY, 1)) >= 2:
        table = pa.table({c: restore_formulas(table.column(c)) for c in table.column_names})
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def release_changelog_section(release: Release) -> str:
    """A release's section of the data changelog, from its eventdata:changes record and changes/*.csv."""
    descriptor = release.descriptor()
    record = descriptor.get("eventdata:changes", {})
    counts = record.get("counts", {}) if isinstance(record.get("counts"), dict) else {}
    events = sum(int(counts.get(k, 0)) for k in ("added", "modified", "unchanged"))
    schema = [c for c in record.get("schema", []) if isinstance(c, dict)]
    return changelog_section(
        release.version,
        release_created(release).date(),
        events,
        counts,
        record.get("previous"),
        schema,
        read_changes_csv(release, "modified"),
        read_changes_csv(release, "deleted"),
    )


def data_changelog(staged: Staged, version: str, release_date: date, title: str) -> str:
    """The data changelog: this release's section, then every earlier release's, from their recorded changes."""
    header = f"# Data changelog: {title}\n\nWhat changed in the data, newest release first. Generated by eventdata.\n\n"
    current = changelog_section(
        version,
        release_date,
        staged.table.num_rows,
        staged.changes.counts(),
        staged.previous.version if staged.previous else None,
        [{"level": c.level, "field": c.field, "change": c.description} for c in staged.schema_changes],
        staged.changes.modified.to_pylist(),
        staged.changes.deleted.to_pylist(),
    )
    earlier = [release_changelog_section(r) for r in reversed(staged.history)]
    return header + "\n".join([current, *earlier])


def copy_sources(project: Project, target: Path) -> None:
    """Copy the inputs (schemas/, seeds/) into the package, to rebuild it from itself (on the write pool)."""
    for folder in ("schemas", "seeds"):
        source = project.root / folder
        for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            if is_prepared_file(path.name):
                continue  # a file a run is putting in place (FileSet), never an input
            destination = target / path.relative_to(project.root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy_file(path, destination)


def record_sources(project: Project, target: Path, staged: Staged) -> list[dict[str, Any]]:
    """The copied inputs completed and listed (path, bytes, sha256).

    The copy is the inputs as they stand once the version is released: the ids of rows that had none
    filled in (a release has written them into the inputs too; a draft's are provisional).
    """
    rewritten = id_files(staged.validation, project, root=target)  # may create event_ids.csv
    for path, text in rewritten.items():
        path.write_text(text, encoding="utf-8", newline="")
    copied = sorted(p for folder in ("schemas", "seeds") for p in (target / folder).rglob("*") if p.is_file())
    again = {p.resolve() for p in rewritten}  # a rewrite may keep a file's size and mtime: hashed anew
    return [
        {
            "path": f"{SOURCES_DIR}/{path.relative_to(target).as_posix()}",
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path) if path.resolve() in again else digest(path),
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
    for name, sha in sorted(files.items()):
        lines.append(f"| {name} | {(package_dir / name).stat().st_size} | {sha} |")
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
        deleted = with_duplicate_of(staged.changes.deleted, project)  # + duplicate_of only when used (#11)
        write_csv(deleted, package_dir / "changes" / "deleted.csv", neutralise=neutralise)
        copy_sources(project, package_dir / SOURCES_DIR)
    (package_dir / "codebook.md").write_text(codebook_markdown(codebook), encoding="utf-8", newline="\n")
    title = str(codebook.dataset.get("title", codebook.dataset["name"]))
    changelog = data_changelog(staged, version, release_date, title)
    (package_dir / DATA_CHANGELOG).write_text(changelog, encoding="utf-8", newline="\n")
    sources = record_sources(project, package_dir / SOURCES_DIR, staged)
    agreement = write_agreement(project, package_dir)  # agreement/*.csv, only with double coding (#11)
    if package_format >= 2:
        write_report(
            package_dir,
            codebook,  # the codebook of sources/schemas/, which is a copy of schemas/
            version=version,
            released=release_date,
            previous=staged.previous.version if staged.previous else None,
        )
    resources = events_resources(package_dir, codebook) + changes_resources(package_dir, codebook)
    resources = duplicate_of_schema(resources, deleted) + agreement
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


def remove_leftovers(project: Project, directory: Path) -> list[Path]:
    """Staging folders and prepared files of killed builds and releases (never of a running one)."""
    return remove_stale(directory, (*input_dirs(project), directory))


def commit_package(
    staged: Staged,
    project: Project,
    target: Path,
    *,
    version: str,
    created: datetime,
    bookkeeping: Callable[[Path], dict[Path, str]] | None = None,
    clean_inputs: bool = True,
    assign_ids: bool = False,
) -> tuple[str, dict[str, str]]:
    """Write the package and make it visible as `target` in one commit step, the last thing a command does.

    Every file is written before anything the user sees changes: the package into a locked staging folder
    beside target, with assign_ids (a release) the new text of the sheets and registry (the assign-ids
    step: ids of rows that had none), and the files `bookkeeping(package folder)` returns (a release's
    catalog and changelog) beside their targets. Then the ids are renamed into place, the package is
    renamed to target (the commit point; if that fails the ids are put back), and the bookkeeping files
    follow. An error at any step undoes the steps before it, so a command that fails leaves no version and
    the inputs as they were. A kill before the rename leaves no version (and possibly the ids, registered:
    the next run gives the same rows the same ids); a kill after it leaves a complete version whose
    bookkeeping the next `release` regenerates. Without assign_ids (a build) the inputs are only read.
    Stale staging folders of killed runs are removed first (and their prepared inputs, unless not
    clean_inputs: a commit nested in another staging folder). Returns ('built' | 'unchanged', file hashes).
    A target with other content is never overwritten.
    """
    _refuse_symlink(target)
    clean = input_dirs(project) if clean_inputs else ()
    with staging_folder(target.parent, f".{target.name}{STAGING_MARK}", clean=clean) as staging:
        checkpoint("staging")
        token = staging_token(staging)
        package = staging / "package"
        files = write_package(staged, project, package, version=version, created=created)
        checkpoint("package-written")
        ids, after = FileSet(token), FileSet(token)
        try:
            for path, text in (id_files(staged.validation, project) if assign_ids else {}).items():
                ids.prepare(path, text)
            _refuse_symlink(target)
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # an empty folder (an --out-dir made in advance) holds no release
            if target.exists():
                existing = package_hashes(target)
                if existing == files:
                    ids.commit()  # rows of a run stopped after its version became visible
                    return "unchanged", files
                if version.endswith("-draft"):  # a build into --out-dir: the folder is the user's, not a release
                    raise ReleaseError(out_dir_taken(target, existing, files))
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
    """True when the working sheets build the data and metadata of a released version (in its package format).

    Documents whose wording a newer eventdata changed (README.md, the data changelog, …) do not count: see
    eventdata.compare.
    """
    with tempfile.TemporaryDirectory(prefix="eventdata-compare-") as scratch:
        write_package(
            staged,
            project,
            Path(scratch) / "package",
            version=release.version,
            created=created,
            package_format=release_format(release),
        )
        return compare_packages(release.path, Path(scratch) / "package").same


def staged_as_release(
    dataset: Dataset,
    release: Release,
    validation: Validation,
    *,
    created: datetime,
    today: date | None = None,
    events: pa.Table | None = None,
) -> Staged | None:
    """The sheets staged as `release` was (its date, its predecessor) when they reproduce it, else None.

    `validation` is reused when it was made with the release's time (created), with its events table when given.
    """
    releases = dataset.releases
    released_at = release_created(release)
    index = [r.version for r in releases].index(release.version)
    same = stage(
        dataset,
        created=released_at,
        previous=releases[index - 1] if index else None,
        validation=validation if released_at == created else None,
        today=today,
        events=events if released_at == created else None,
    )
    if isinstance(same, Staged) and reproduces(same, dataset.project, release, created=released_at):
        return same
    return None


def copy_release(release: Release, target: Path) -> tuple[str, dict[str, str]]:
    """Copy a release the sheets reproduce to target (--out-dir), atomically; a folder with other content is kept."""
    files = package_hashes(release.path)
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        existing = package_hashes(target)
        if existing == files:
            return "unchanged", files
        raise ReleaseError(out_dir_taken(target, existing, files))
    _refuse_symlink(target)
    with staging_folder(target.parent, f".{target.name}{STAGING_MARK}") as staging:
        shutil.copytree(release.path, staging / "package")
        os.rename(staging / "package", target)
    return "built", files


def out_dir_taken(target: Path, existing: dict[str, str], files: dict[str, str]) -> str:
    """Why a build refuses an --out-dir that holds something else (existing: its file hashes), and what to do."""
    try:
        descriptor = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
        held = f"a package of version {descriptor['version']} (datapackage.json)"
    except (OSError, ValueError, KeyError, TypeError):  # no package (or a broken one): list what is there
        held = ""
    if not target.is_dir():
        return f"Cannot build into {target}: it is a file, not a folder. Nothing was written: give another --out-dir."
    if not held:
        return (
            f"Cannot build into {target}: it is not empty and not a package, it holds {folder_listing(target)}. "
            "A build writes only into a new or empty folder and never deletes what is there, so nothing was written: "
            f"give another --out-dir such as {target / 'package'}, or empty {target} first."
        )
    changed = sorted(k for k in set(existing) | set(files) if existing.get(k) != files.get(k))
    shown = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "")
    return (
        f"Cannot build into {target}: it holds {held}, which differs from this build in {shown}. A build never "
        f"overwrites a folder, so nothing was written: delete {target} and build again to replace it, or give "
        "another --out-dir."
    )


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


def build_package(
    project: Dataset | Project | str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    today: date | None = None,
) -> BuildResult:
    """Validate every sheet, then write a package atomically: the latest release, or a draft. Only reads the inputs.

    When the sheets hold the data and metadata of the latest release, that release is the package (status
    'unchanged'; with out_dir, it is copied there). Otherwise the package of the working sheets is a draft,
    labelled '<next version>-draft', written to dist-data/<name>/draft/ (or out_dir) and replaced by the next
    build: only `eventdata release` makes a version. Rows without an id get provisional ids in the draft (the
    numbers `eventdata assign-ids` would write); schemas/ and seeds/ are never written.
    """
    dataset = Dataset.open(project)
    project = dataset.project
    codebook = dataset.codebook
    directory = dataset.dist_dir
    releases = dataset.releases
    latest = releases[-1] if releases else None
    draft_dir = Path(out_dir) if out_dir is not None else directory / DRAFT_DIR
    inputs = project.input_folder_of(draft_dir) if out_dir is not None else None
    if inputs is not None:
        raise SourceError(
            f"Cannot build into {out_dir}: it is inside {display_path(inputs)}, which holds the dataset's inputs "
            "(a build only reads them, and the next one would read the package as an input). Give a folder outside "
            "schemas/ and seeds/, e.g. --out-dir build/package."
        )
    remove_leftovers(project, directory)
    warnings = retired_key_warnings(codebook)
    created = draft_datetime(latest, [a.published for a in dataset.articles.values()])
    validation = validate_project(dataset, today=today, timestamp=int(created.timestamp()), previous=latest)
    if not validation.report.valid:
        label = f"{next_release_version(latest.version if latest else None, None)}-draft"
        return BuildResult("invalid", draft_dir, label, with_warnings(validation.report, warnings))
    staged = stage(dataset, created=created, previous=latest, validation=validation, consume=True)
    assert isinstance(staged, Staged)  # the validation is valid
    validation = staged.validation  # its frame of events is now empty: staged.events holds them
    needed = required_bump(list(staged.schema_changes), staged.changes.counts())
    if latest is not None and needed is None:  # the same events and schema: is it the latest release?
        same = staged_as_release(dataset, latest, validation, created=created, today=today, events=staged.events)
        if same is not None:
            if out_dir is None:
                files = package_hashes(latest.path)
                return _result("unchanged", latest.path, latest.version, same, files, warnings)
            status, files = copy_release(latest, Path(out_dir))
            return _result(status, Path(out_dir), latest.version, same, files, warnings)
    label = f"{next_release_version(latest.version if latest else None, needed)}-draft"
    # With no event or schema change since the latest release, `release` makes no version of these sheets.
    upcoming = None if latest is not None and needed is None else label.removesuffix("-draft")
    if out_dir is not None:
        status, files = commit_package(staged, project, draft_dir, version=label, created=created)
    else:
        status, files = commit_draft(staged, project, draft_dir, version=label, created=created)
    return _result(
        status,
        draft_dir,
        label,
        staged,
        files,
        warnings,
        draft=True,
        next_version=upcoming,
        unassigned=unassigned_count(validation),
    )


def _result(
    status: str,
    package_dir: Path,
    version: str,
    staged: Staged,
    files: dict[str, str],
    warnings: list[Problem],
    **extra: Any,
) -> BuildResult:
    return BuildResult(
        status,
        package_dir,
        version,
        with_warnings(staged.validation.report, warnings),
        files,
        staged.changes.counts(),
        staged.schema_changes,
        staged.previous.version if staged.previous else None,
        **extra,
    )

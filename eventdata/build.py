"""`eventdata build`: validate the sheets, then write a data package into a new version folder."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata import __version__
from eventdata.errors import ReleaseError, Report, SchemaFileError
from eventdata.package import (
    articles_frame,
    articles_table,
    datapackage_descriptor,
    events_resources,
    events_table,
    release_datetime,
    sha256_file,
    write_csv,
    write_json,
    write_parquet,
)
from eventdata.ids import record_assignment
from eventdata.project import Project
from eventdata.schema import Codebook, codebook_markdown, load_codebook
from eventdata.validate import Validation, validate_project

VERSION_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True)
class BuildResult:
    """What a build did: 'built', 'unchanged' (identical package existed) or 'invalid' (nothing written)."""

    status: str
    package_dir: Path
    version: str
    report: Report
    files: dict[str, str] = field(default_factory=dict)


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


def default_package_dir(project: Project, codebook: Codebook, version: str) -> Path:
    return project.dist_dir / str(codebook.dataset["name"]) / version


def release_readme(descriptor: dict[str, Any], events: pd.DataFrame, files: dict[str, str], package_dir: Path) -> str:
    """A short README for the package: what it holds, its files and how to load it."""
    lines = [
        f"# {descriptor.get('title', descriptor['name'])}",
        "",
        f"Version {descriptor['version']}, released {descriptor['created'][:10]}.",
        "",
        descriptor.get("description", ""),
        "",
        "## Contents",
        "",
        f"- {len(events)} events from {events['article_id'].nunique() if len(events) else 0} articles",
    ]
    if len(events):
        first, last = events["event_date"].min(), events["event_date"].max()
        countries = ", ".join(sorted(events["country"].dropna().unique()))
        lines.append(f"- event dates {first.date().isoformat()} to {last.date().isoformat()}; countries: {countries}")
        lines.append(f"- {int(events['fatalities'].sum())} reported fatalities (lowest reported figures)")
    licences = ", ".join(lic.get("name", lic.get("path", "")) for lic in descriptor.get("licenses", [])) or "none stated"
    lines += [
        f"- licence: {licences}",
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
        "The columns are described in codebook.md and, machine-readable, in datapackage.json.",
        "",
        f"Built with eventdata {__version__}.",
    ]
    return "\n".join(lines) + "\n"


def write_package(validation: Validation, package_dir: Path, *, version: str, release_date: date) -> dict[str, str]:
    """Write every file of the package into package_dir (which must be empty); return their sha256."""
    codebook = validation.codebook
    if codebook is None:
        raise ValueError("validation without a codebook")
    created = release_datetime(release_date, os.environ.get("SOURCE_DATE_EPOCH"))
    (package_dir / "data").mkdir(parents=True)
    table = events_table(validation.events, codebook)
    write_csv(table, package_dir / "data" / "events.csv")
    write_parquet(table, package_dir / "data" / "events.parquet")
    write_csv(table.select(codebook.acled_field_names), package_dir / "data" / "events-acled.csv")
    write_csv(articles_table(articles_frame(validation.articles.values())), package_dir / "data" / "articles.csv")
    (package_dir / "codebook.md").write_text(codebook_markdown(codebook), encoding="utf-8", newline="\n")
    resources = events_resources(package_dir, codebook)
    descriptor = datapackage_descriptor(
        codebook, version=version, created=created, articles=validation.articles.values(), resources=resources
    )
    write_json(descriptor, package_dir / "datapackage.json")
    files = {r["path"]: r["hash"].removeprefix("sha256:") for r in resources}
    files["datapackage.json"] = sha256_file(package_dir / "datapackage.json")
    readme = release_readme(descriptor, validation.events, files, package_dir)
    (package_dir / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    files["README.md"] = sha256_file(package_dir / "README.md")
    return files


def package_hashes(package_dir: Path) -> dict[str, str]:
    """sha256 of every file in a package folder, by relative path."""
    return {
        p.relative_to(package_dir).as_posix(): sha256_file(p) for p in sorted(package_dir.rglob("*")) if p.is_file()
    }


def build_package(
    project: Project, out_dir: Path | None = None, *, today: date | None = None
) -> BuildResult:
    """Validate every sheet, then write the package for the configured version, atomically."""
    codebook = load_codebook(project.schemas_dir)
    version, release_date = dataset_version(codebook)
    created = release_datetime(release_date, os.environ.get("SOURCE_DATE_EPOCH"))
    validation = validate_project(project, today=today, timestamp=int(created.timestamp()))
    target = Path(out_dir) if out_dir is not None else default_package_dir(project, codebook, version)
    if not validation.report.valid:
        return BuildResult("invalid", target, version, validation.report)
    if validation.new_ids is not None and not validation.new_ids.empty:
        record_assignment(project.id_registry, validation.sheets, validation.new_ids)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        package = staging / "package"
        files = write_package(validation, package, version=version, release_date=release_date)
        if target.exists():
            existing = package_hashes(target)
            if existing == files:
                return BuildResult("unchanged", target, version, validation.report, files)
            changed = sorted(k for k in set(existing) | set(files) if existing.get(k) != files.get(k))
            raise ReleaseError(
                f"Version {version} already exists in {target} and differs from this build "
                f"({', '.join(changed)}). Released data is never overwritten: raise 'version' in "
                f"{codebook.path / 'dataset.json'} (or run `eventdata release --bump patch|minor|major`), "
                "or delete the folder if it was never published."
            )
        os.rename(package, target)
        return BuildResult("built", target, version, validation.report, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""`eventdata report`: one self-contained, offline, byte-reproducible HTML report of a release.

Every release holds it as report.html, listed in datapackage.json with its hash. It is computed
from the release's own files only (see data.py), so the build and `eventdata report` agree byte for byte.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from eventdata.catalog import Release
from eventdata.errors import ReleaseError
from eventdata.files import write_atomic
from eventdata.package import file_resource
from eventdata.report.data import AGREEMENT_FILE, ReleaseInfo, gather
from eventdata.report.page import render
from eventdata.schema import Codebook, load_codebook

REPORT_FILE = "report.html"
__all__ = [
    "AGREEMENT_FILE",
    "REPORT_FILE",
    "release_report",
    "report_html",
    "report_resource",
    "save_report",
    "write_report",
]


def report_html(package_dir: Path, codebook: Codebook, *, version: str, released: date, previous: str | None) -> str:
    """The report of the package in package_dir (its data/ and changes/ written) as HTML text."""
    dataset = codebook.dataset
    name = str(dataset.get("name", package_dir.parent.name))
    info = ReleaseInfo(name, str(dataset.get("title", name)), version, released, previous)
    return render(gather(package_dir, codebook, info), codebook)


def write_report(package_dir: Path, codebook: Codebook, *, version: str, released: date, previous: str | None) -> Path:
    """Write report.html into a package folder being built."""
    path = package_dir / REPORT_FILE
    text = report_html(package_dir, codebook, version=version, released=released, previous=previous)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def report_resource(package_dir: Path) -> dict[str, Any]:
    """The datapackage.json resource of report.html."""
    return file_resource(
        package_dir / REPORT_FILE,
        package_dir,
        name="report",
        scheme="file",
        format="html",
        mediatype="text/html",
        encoding="utf-8",
        description="The release report: counts, charts, a map and what changed; opens offline in a browser.",
    )


def release_report(release: Release, fallback: Codebook | None = None) -> str:
    """The report of a release as its build writes it, from the codebook snapshot in its sources/."""
    descriptor = release.descriptor()
    schemas = release.path / "sources" / "schemas"
    if schemas.is_dir():
        codebook = load_codebook(schemas)
    elif fallback is not None:
        codebook = fallback
    else:
        raise ReleaseError(f"{release.path} has no sources/schemas/ to read its codebook from.")
    created = str(descriptor.get("created", ""))[:10]
    try:
        released = date.fromisoformat(created)
    except ValueError as err:
        raise ReleaseError(f"{release.descriptor_path}: created {created!r} is not a date.") from err
    changes = descriptor.get("eventdata:changes", {})
    previous = changes.get("previous") if isinstance(changes, dict) else None
    if not isinstance(changes, dict) or not isinstance(previous, str | None):
        shown = changes if not isinstance(changes, dict) else {"previous": previous}
        raise ReleaseError(
            f"{release.descriptor_path}: 'eventdata:changes' must be an object whose 'previous' is the version before "
            f"(text) or null, not {shown!r}; the release is damaged: restore it from a backup or the published copy."
        )
    return report_html(release.path, codebook, version=release.version, released=released, previous=previous)


def save_report(text: str, output: Path, *, dataset_dir: Path | None = None) -> Path:
    """Write a report to a file atomically (its folder must exist), never inside dataset_dir (dist-data/<name>/).

    The releases there are immutable and their files hashed: a report written over report.html of another
    version, or over catalog.json, would change a released version.
    """
    if dataset_dir is not None and output.resolve().is_relative_to(dataset_dir.resolve()):
        raise ReleaseError(
            f"Cannot write {output}: it is inside {dataset_dir}, whose releases are never changed (each has its "
            "own report.html). Write the report elsewhere, e.g. -o report.html."
        )
    if not output.parent.is_dir():
        raise ReleaseError(f"Cannot write {output}: the folder {output.parent} does not exist.")
    write_atomic(output, text)
    return output

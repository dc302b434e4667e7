"""A release against a rebuild of it (eventdata.compare): a release file that cannot be read is a finding of verify."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata.cli import cli
from eventdata.compare import copies_named
from eventdata.errors import ReleaseError, SchemaFileError
from eventdata.project import Project
from eventdata.release import verify_release
from eventdata.sources.sheets import display_path
from tests.conftest import REPO

NAME = "eventdata-seeds"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rehash_release(release_dir: Path) -> None:
    """Record the current bytes of a release's files in its datapackage.json and catalog.json, as someone who
    edits a release and covers the edit would: only its content can then tell the damage."""
    descriptor_path = release_dir / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    for resource in descriptor.get("resources") or []:
        path = release_dir / resource["path"]
        resource.update(bytes=path.stat().st_size, hash=f"sha256:{_sha256(path)}")
    for source in descriptor.get("eventdata:sources") or []:
        path = release_dir / source["path"]
        source.update(bytes=path.stat().st_size, sha256=_sha256(path))
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    catalog_path = release_dir.parent / "catalog.json"
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    for entry in catalog["versions"]:
        for item in entry["files"]:
            path = release_dir.parent / item["path"]
            if path.is_file():
                item.update(bytes=path.stat().st_size, sha256=_sha256(path))
    catalog_path.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.fixture
def repository(tmp_path: Path) -> Project:
    """The repository's inputs and its committed releases (1.0.0, 1.1.0, 1.1.1)."""
    root = tmp_path / "repository"
    for folder in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / folder, root / folder)
    return Project(root)


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def _cut_within_a_row(path: Path) -> None:
    """Keep the header and two rows, then the first four cells of the third row (line 4)."""
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n" + b",".join(lines[3].split(b",")[:4]))


@pytest.mark.parametrize(
    ("damaged", "damage", "line", "code", "said"),
    [
        (
            "data/events.csv",
            lambda p: p.write_bytes(b"\xff\xfe"),
            1,
            "encoding-error",
            "is not valid UTF-8: the byte at offset 0 cannot be decoded",
        ),
        ("data/events.csv", _cut_within_a_row, 4, "missing-cell", "has 4 cells on this line but 34 in its header"),
        (
            "data/events.parquet",
            lambda p: p.write_bytes(b"PAR1x"),
            None,
            "source-error",
            "is not a readable Parquet file (5 bytes)",
        ),
    ],
)
def test_verify_reports_an_unreadable_release_file_as_a_finding_exit_1(
    repository: Project, damaged: str, damage: Callable[[Path], None], line: int | None, code: str, said: str
) -> None:
    release = repository.dist_dir / NAME / "1.1.0"
    damage(release / damaged)
    rehash_release(release)  # the hashes match: only reading the file shows the damage

    result = run(repository, "verify", "1.1.0")

    assert (result.exit_code, result.stdout) == (1, ""), result.output
    problems = verify_release(repository, "1.1.0")[0].problems
    assert [(p.file, p.line, p.code) for p in problems] == [(display_path(release / damaged), line, code)]
    assert f"this file of the release {said}" in problems[0].message
    assert problems[0].message.endswith("restore the file from a backup or the published copy.")
    assert problems[0].format() in result.stderr


def test_copies_named_names_the_release_files_a_rebuild_copied(tmp_path: Path) -> None:
    project = tmp_path / "eventdata-verify-x" / "project"
    sources = tmp_path / "dist-data" / NAME / "1.1.0" / "sources"
    previous = tmp_path / "dist-data" / NAME / "1.0.0"
    copies = {project: sources, project / "dist-data" / NAME / "1.0.0": previous}

    with pytest.raises(ReleaseError) as error, copies_named(copies):
        raise SchemaFileError(
            f"{project / 'schemas' / 'dataset.json'}:2:1: not valid JSON; "
            f"{project / 'dist-data' / NAME / '1.0.0' / 'data' / 'events.parquet'} is damaged."
        )

    assert str(error.value) == (
        f"{sources / 'schemas' / 'dataset.json'}:2:1: not valid JSON; "
        f"{previous / 'data' / 'events.parquet'} is damaged."
    )
    with pytest.raises(SchemaFileError, match="^elsewhere$"), copies_named(copies):
        raise SchemaFileError("elsewhere")  # a message naming no copy is left as it is

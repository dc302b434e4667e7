"""The release manifest (eventdata/manifest.py): the files of a release with sizes and sha256, as verify,
publish and load check them."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from eventdata.catalog import Release
from eventdata.errors import ReleaseError
from eventdata.files import sha256_bytes, sha256_file
from eventdata.manifest import (
    Entry,
    catalog_manifest,
    check_bytes,
    descriptor_manifest,
    differences,
    folder_manifest,
    matches,
    recorded_manifest,
)
from eventdata.publish.manifest import release_files
from tests.conftest import REPO

SEEDS = REPO / "dist-data" / "eventdata-seeds"


@pytest.fixture
def release(tmp_path: Path) -> Release:
    """A copy of the seeds' first release."""
    target = tmp_path / "eventdata-seeds" / "1.0.0"
    shutil.copytree(SEEDS / "1.0.0", target)
    return Release("eventdata-seeds", "1.0.0", target)


def test_sha256_helpers_agree_with_hashlib(tmp_path: Path) -> None:
    data = b"a,b\n1,2\n" * 100_000  # more than one block
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert sha256_bytes(data) == sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_the_three_manifests_of_a_release_agree(release: Release) -> None:
    on_disk = folder_manifest(release.path)
    listed = descriptor_manifest(release.descriptor())
    catalog = json.loads((SEEDS / "catalog.json").read_text(encoding="utf-8"))
    entry = next(v for v in catalog["versions"] if v["version"] == "1.0.0")
    published = catalog_manifest(entry)

    assert differences(listed, on_disk) == []
    assert differences(published, on_disk) == []
    assert "data/events.parquet" in listed
    assert set(published) <= set(on_disk)
    assert all(e.bytes is not None for e in published.values())


def test_differences_name_missing_and_altered_files(release: Release) -> None:
    expected = folder_manifest(release.path)
    (release.path / "README.md").write_text("altered\n", encoding="utf-8")
    (release.path / "data" / "events.csv").unlink()

    found = differences(expected, folder_manifest(release.path))

    assert [d.path for d in found] == ["README.md", "data/events.csv"]
    assert found[0].describe().startswith("README.md: sha256 is ")
    assert found[1].describe() == "data/events.csv: missing."
    size_only = differences({"a": Entry(3, None)}, {"a": Entry(4, "x")})
    assert size_only[0].describe() == "a: 4 bytes, expected 3."


def test_hidden_files_are_not_part_of_a_release(release: Release) -> None:
    (release.path / ".README.md.building-x.tmp").write_text("left over", encoding="utf-8")
    assert ".README.md.building-x.tmp" not in folder_manifest(release.path)
    assert ".README.md.building-x.tmp" in folder_manifest(release.path, hidden=True)
    assert ".README.md.building-x.tmp" not in {f.path for f in release_files(release)}


def test_publish_refuses_a_release_that_no_longer_matches_its_manifest(release: Release) -> None:
    files = {f.path: f for f in release_files(release)}
    assert (
        files["data/events.parquet"].sha256 == descriptor_manifest(release.descriptor())["data/events.parquet"].sha256
    )
    with (release.path / "data" / "events.csv").open("ab") as handle:
        handle.write(b"\n")
    with pytest.raises(ReleaseError, match=r"events\.csv does not match datapackage\.json"):
        release_files(release)


def test_downloads_are_checked_against_the_manifest(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"data")
    digest = sha256_bytes(b"data")
    assert matches(path, digest)
    assert not matches(path, sha256_bytes(b"other"))
    assert not matches(tmp_path / "absent", digest)
    assert check_bytes(b"data", digest, "https://example.org/x") is None
    assert check_bytes(b"tampered", digest, "https://example.org/x") == (
        f"https://example.org/x has sha256 {sha256_bytes(b'tampered')}, but the catalog says {digest}"
    )


def test_folder_manifest_trusts_recorded_hashes_of_files_of_the_recorded_size(release: Release) -> None:
    recorded = recorded_manifest(release.descriptor())
    assert "data/events.csv" in recorded
    assert any(p.startswith("sources/") for p in recorded)
    assert folder_manifest(release.path, recorded=recorded) == folder_manifest(release.path)
    events = release.path / "data" / "events.csv"
    same_size = Entry(events.stat().st_size, "0" * 64)
    trusted = folder_manifest(release.path, recorded={"data/events.csv": same_size})
    assert trusted["data/events.csv"] == same_size  # not read again
    other_size = Entry(events.stat().st_size + 1, "0" * 64)
    hashed = folder_manifest(release.path, recorded={"data/events.csv": other_size})
    assert hashed["data/events.csv"] == Entry(events.stat().st_size, sha256_file(events))


def test_recorded_manifest_skips_sources_without_a_digest_or_of_another_shape() -> None:
    from eventdata.manifest import recorded_manifest

    listed = recorded_manifest(
        {
            "resources": [],
            "eventdata:sources": [
                {"path": "sources/a.csv", "bytes": 3},  # no sha256: must be hashed, never trusted as "None"
                {"path": "sources/b.csv", "bytes": 3, "sha256": "ab" * 32},
                "not a record",
            ],
        }
    )
    assert set(listed) == {"sources/b.csv"}
    assert recorded_manifest({"resources": [], "eventdata:sources": 7}) == {}

"""The licence guardrail (eventdata.publish.rights): imported ACLED rows never reach a public repository.

A dataset with rows from a small ACLED export made up here is refused for Zenodo and CKAN before any
request (the fake servers receive none), in --check and --dry-run too, and is published to a folder;
a grant declared in schemas/dataset.json lets it through.
"""

# ruff: noqa: F811  # fixtures imported from tests/test_publish.py are test parameters of the same name
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import eventdata
from eventdata.catalog import Release, list_releases
from eventdata.cli import cli
from eventdata.errors import PublishError
from eventdata.project import Project
from eventdata.publish import get_publisher
from eventdata.publish.record import publications_path
from eventdata.publish.rights import GuardedPublisher
from eventdata.release import release_version
from tests.servers.base import FakeServer
from tests.test_publish import (  # noqa: F401  # the fake servers' fixtures, found by name
    CKAN_TOKEN,
    ZENODO_TOKEN,
    ckan,
    zenodo,
)
from tests.test_terms import import_export

GRANT = {"granted_by": "ACLED", "reference": "Data sharing agreement 2026-117 of 2026-10-01"}


def build_with_acled(project: Project, tmp_path: Path, *, grant: bool = False) -> Release:
    """The seeds dataset plus 3 imported ACLED rows, built; with ACLED's grant declared when asked."""
    import_export(project, tmp_path, count=3)
    if grant:
        path = project.schemas_dir / "dataset.json"
        dataset = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(dataset | {"redistribution": {"acled-terms": GRANT}}, indent=2), encoding="utf-8")
    released = release_version(project)
    assert released.status == "released", [p.format() for p in released.report.problems]
    assert released.path is not None
    (release,) = [r for r in list_releases(released.path.parent, released.path.parent.name) if r.path == released.path]
    return release


def publish(project: Project, release: Release, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), "publish", release.version, *args])


def assert_refused(result: Result, target: str) -> None:
    """Exit 1 and a message naming the rows' source, its publisher, how many rows and ACLED's terms."""
    assert result.exit_code == 1, result.output
    assert (
        "eventdata:terms='acled-terms' [redistribution-not-allowed] 3 row(s) come from acled-syria (ACLED, 3 rows)"
        in result.stderr
    )
    assert "ACLED Terms of Use and Attribution Policy (https://acleddata.com/" in result.stderr
    assert f"{target} would make them, and their source texts in sources/, public" in result.stderr
    assert '"redistribution": {"acled-terms": {"granted_by"' in result.stderr
    assert "nothing was sent" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("mode", [(), ("--check",), ("--dry-run",)], ids=["publish", "check", "dry-run"])
def test_rights_acled_rows_are_refused_for_zenodo_before_any_request(
    project: Project, tmp_path: Path, zenodo: FakeServer, mode: tuple[str, ...]
) -> None:
    release = build_with_acled(project, tmp_path)

    result = publish(project, release, "--to", "zenodo", "--base-url", zenodo.url, *mode)

    assert_refused(result, "zenodo")
    assert zenodo.requests == []
    assert not publications_path(release).exists()


@pytest.mark.parametrize("mode", [(), ("--check",), ("--dry-run",)], ids=["publish", "check", "dry-run"])
def test_rights_acled_rows_are_refused_for_ckan_before_any_request(
    project: Project, tmp_path: Path, ckan: FakeServer, mode: tuple[str, ...]
) -> None:
    release = build_with_acled(project, tmp_path)

    result = publish(project, release, "--to", "ckan", "--base-url", ckan.url, "--organization", "acme", *mode)

    assert_refused(result, "ckan")
    assert ckan.requests == []
    assert not publications_path(release).exists()


def test_rights_library_publish_refuses_even_without_check(
    project: Project, tmp_path: Path, zenodo: FakeServer
) -> None:
    release = build_with_acled(project, tmp_path)
    publisher = get_publisher("zenodo", base_url=zenodo.url)
    assert isinstance(publisher, GuardedPublisher)

    for dry_run in (True, False):
        with pytest.raises(PublishError, match=r"3 row\(s\) come from acled-syria .* Nothing was sent\."):
            publisher.publish(release, dry_run=dry_run)

    assert zenodo.requests == []


def test_rights_acled_rows_are_published_to_a_folder(project: Project, tmp_path: Path) -> None:
    release = build_with_acled(project, tmp_path)
    target = tmp_path / "private-share"

    result = publish(project, release, "--to", str(target))

    assert result.exit_code == 0, result.output
    events = eventdata.load(target, release.version)
    assert sorted(events.loc[events["article_id"] == "acled-syria", "event_id_cnty"]) == [
        "SYR910001",
        "SYR910002",
        "SYR910003",
    ]


@pytest.mark.parametrize("url", ["s3://private-bucket/eventdata", "file:///srv/share/eventdata", "/srv/share"])
def test_rights_folders_and_buckets_are_not_public_targets(project: Project, tmp_path: Path, url: str) -> None:
    release = build_with_acled(project, tmp_path)

    publisher = get_publisher(url)

    assert not isinstance(publisher, GuardedPublisher)
    assert publisher.check(release).problems == ()  # offline: nothing is opened


def test_rights_a_declared_grant_lets_zenodo_and_ckan_publish(
    project: Project, tmp_path: Path, zenodo: FakeServer, ckan: FakeServer
) -> None:
    release = build_with_acled(project, tmp_path, grant=True)
    assert release.descriptor()["eventdata:terms"]["terms"][-1]["granted"] == GRANT

    to_zenodo = publish(project, release, "--to", "zenodo", "--base-url", zenodo.url)
    to_ckan = publish(project, release, "--to", "ckan", "--base-url", ckan.url, "--organization", "acme")

    assert to_zenodo.exit_code == 0, to_zenodo.output
    assert to_ckan.exit_code == 0, to_ckan.output
    assert "Published eventdata-seeds" in to_zenodo.stderr
    assert "Published eventdata-seeds" in to_ckan.stderr
    assert zenodo.requests
    assert ckan.requests
    assert "redistribution-not-allowed" not in to_zenodo.stderr + to_ckan.stderr


def test_rights_an_uncited_restricted_article_still_keeps_its_text_off_public_targets(project: Project) -> None:
    text = b"Notes copied from an ACLED export, not coded yet.\n"
    (project.articles_dir / "acled-notes.txt").write_bytes(text)
    with project.articles_index.open("a", encoding="utf-8", newline="") as handle:
        handle.write(f"acled-notes,ACLED notes,ACLED,,2024-09-30,en,{hashlib.sha256(text).hexdigest()},\n")
    released = release_version(project)
    assert released.path is not None
    (release,) = [r for r in list_releases(released.path.parent, released.path.parent.name) if r.path == released.path]
    assert release.descriptor()["eventdata:terms"]["restricted_rows"] == 0  # by its publisher, no rows

    problems = get_publisher("zenodo").check(release).problems

    assert [p.code for p in problems] == ["redistribution-not-allowed"]
    assert problems[0].message.startswith(
        "The source texts of acled-notes (ACLED, 0 rows) in sources/ are under ACLED Terms of Use"
    )
    assert get_publisher(str(project.root / "share")).check(release).problems == ()


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda record: [record], "eventdata:terms must be an object ({...}), not list"),
        (lambda record: {**record, "terms": {"acled-terms": record["terms"]}}, "eventdata:terms.terms must be a list"),
        (  # a flag written as text would have let ACLED's rows through
            lambda record: {**record, "terms": [{**e, "redistribute": "no"} for e in record["terms"]]},
            "eventdata:terms.terms[0].redistribute must be true or false, not 'no'",
        ),
    ],
)
def test_rights_a_damaged_terms_record_is_refused_not_passed(
    project: Project, tmp_path: Path, zenodo: FakeServer, damage: Any, said: str
) -> None:
    release = build_with_acled(project, tmp_path)
    descriptor = release.descriptor()
    descriptor["eventdata:terms"] = damage(descriptor["eventdata:terms"])
    release.descriptor_path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")

    for mode in ((), ("--check",), ("--dry-run",)):
        result = publish(project, release, "--to", "zenodo", "--base-url", zenodo.url, *mode)
        assert result.exit_code == 2, result.output
        assert f"{release.descriptor_path}: {said}" in result.stderr
        assert "nothing is published" in result.stderr
    assert zenodo.requests == []
    assert not publications_path(release).exists()

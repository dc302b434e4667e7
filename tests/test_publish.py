"""eventdata publish: to a folder, a real S3 store (SeaweedFS), and local Zenodo and CKAN servers with faults.

Every server runs on 127.0.0.1 and is started by the tests. Tests that would reach the real Zenodo
sandbox are marked `network` and deselected by default.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventdata.catalog import Release, list_releases
from eventdata.cli import cli
from eventdata.errors import PublishError, ReleaseError
from eventdata.publish import find_release, get_publisher
from eventdata.publish.http import HttpClient
from eventdata.publish.record import publications_path, read_record
from tests.conftest import REPO
from tests.servers.base import FakeServer, serving
from tests.servers.ckan import FakeCkan
from tests.servers.zenodo import SCOPES, FakeZenodo

NAME = "eventdata-seeds"
RELEASES = list_releases(REPO / "dist-data" / NAME, NAME)
ZENODO_TOKEN = "zenodo-token-" + os.urandom(12).hex()
CKAN_TOKEN = "ckan-token-" + os.urandom(12).hex()
FAST = {"attempts": 3, "backoff": 0.01, "max_delay": 0.05}

pytestmark = pytest.mark.skipif(len(RELEASES) < 2, reason="needs two committed releases of the seeds dataset")


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No token from the developer's environment or keyring; a fresh download cache for load()."""
    for var in ("EVENTDATA_ZENODO_TOKEN", "EVENTDATA_CKAN_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EVENTDATA_CACHE_DIR", str(tmp_path / "cache"))
    try:
        import keyring
        from keyring.backend import KeyringBackend
    except ImportError:  # without keyring, tokens come from the environment only
        yield
        return

    class Memory(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A dataset folder holding copies of the committed releases of the seeds dataset, never published."""
    root = tmp_path / "dataset"
    shutil.copytree(REPO / "schemas", root / "schemas")
    for release in RELEASES:
        shutil.copytree(release.path, root / "dist-data" / NAME / release.version)
    shutil.copy(REPO / "dist-data" / NAME / "catalog.json", root / "dist-data" / NAME / "catalog.json")
    return root


def releases(dataset: Path) -> list[Release]:
    return list_releases(dataset / "dist-data" / NAME, NAME)


def edit_descriptor(release: Release, **changes: Any) -> None:
    """Change datapackage.json of a test copy (None removes a key), as if the release had been built so.

    The dataset's catalog.json records datapackage.json's size and sha256, so the record is updated too.
    """
    descriptor = release.descriptor()
    for key, value in changes.items():
        if value is None:
            descriptor.pop(key, None)
        else:
            descriptor[key] = value
    release.descriptor_path.write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
    record_in_catalog(release, "datapackage.json")


def record_in_catalog(release: Release, path: str) -> None:
    """Give a file of a test copy its new size and sha256 in the dataset's catalog.json."""
    catalog_path = release.path.parent / "catalog.json"
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    entry = next(v for v in catalog["versions"] if v["version"] == release.version)
    data = (release.path / path).read_bytes()
    for item in entry["files"]:
        if item["path"] == f"{release.version}/{path}":
            item.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    catalog_path.write_text(json.dumps(catalog, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def zenodo(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with serving(FakeZenodo({ZENODO_TOKEN: SCOPES})) as server:
        monkeypatch.setenv("EVENTDATA_ZENODO_TOKEN", ZENODO_TOKEN)
        yield server


@pytest.fixture
def ckan(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with serving(FakeCkan({CKAN_TOKEN: "publisher"}, {"acme": ["publisher"]})) as server:
        monkeypatch.setenv("EVENTDATA_CKAN_TOKEN", CKAN_TOKEN)
        yield server


def zenodo_api(server: FakeServer) -> FakeZenodo:
    assert isinstance(server.service, FakeZenodo)
    return server.service


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def assert_secret_absent(secret: str, *texts: str, folders: tuple[Path, ...] = ()) -> None:
    """The secret occurs in no text and in no file below the folders."""
    for text in texts:
        assert secret not in text
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- architecture, options -------------------------------------------------------------------------


def test_publish_modules_import_neither_pandas_nor_build() -> None:
    imported = set()
    for path in (REPO / "eventdata" / "publish").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert not {m for m in imported if m.split(".")[0] in ("pandas", "click") or m == "eventdata.build"}


def test_get_publisher_refuses_options_of_other_targets() -> None:
    with pytest.raises(PublishError, match="--organization does not apply when publishing to zenodo"):
        get_publisher("zenodo", organization="acme")
    with pytest.raises(PublishError, match="needs the server and the owning organization"):
        get_publisher("ckan", base_url="http://127.0.0.1:9")
    with pytest.raises(PublishError, match="--endpoint-url applies to s3:// targets"):
        get_publisher("/tmp/folder", endpoint_url="http://127.0.0.1:9")


def test_find_release_names_the_fix_for_an_unknown_version(dataset: Path) -> None:
    assert find_release(dataset / "dist-data", RELEASES[0].version).version == RELEASES[0].version
    with pytest.raises(ReleaseError, match=r"No release 9\.9\.9 .*eventdata release"):
        find_release(dataset / "dist-data", "9.9.9")


def test_http_client_redacts_tokens_and_query_secrets() -> None:
    client = HttpClient("X", "http://127.0.0.1", {}, ("abc123secret",), "ENV", lambda r: "")
    assert client.redact("bad abc123secret at /x?access_token=zzz&page=2") == "bad *** at /x?access_token=***&page=2"


# --- folder and object store -----------------------------------------------------------------------


def test_publish_folder_copies_releases_and_catalog_byte_for_byte(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "published"
    for release in releases(dataset):
        result = run("--project", dataset, "publish", release.version, "--to", target)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"{target}/{release.version}/"
    local = tree(dataset / "dist-data" / NAME)
    published = tree(target)
    assert published == {k: v for k, v in local.items() if k in published}
    assert set(published) == {"catalog.json"} | {k for k in local if k.split("/")[0] in {r.version for r in RELEASES}}
    record = read_record(releases(dataset)[-1])
    assert [(p["target"], p["url"]) for p in record["publications"]] == [
        ("directory", f"{target}/{RELEASES[-1].version}/")
    ]


def test_publish_folder_twice_sends_nothing(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "published"
    first = run("--project", dataset, "publish", RELEASES[0].version, "--to", target)
    stamps = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    second = run("--project", dataset, "publish", RELEASES[0].version, "--to", target)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "is already at" in second.stderr
    assert "nothing sent" in second.stderr
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == stamps


def test_publish_folder_load_returns_the_local_frame(dataset: Path, tmp_path: Path) -> None:
    import pandas as pd

    load = pytest.importorskip("eventdata.load").load
    target = tmp_path / "published"
    for release in releases(dataset):
        get_publisher(str(target)).publish(release, dry_run=False)
    for release in RELEASES:
        pd.testing.assert_frame_equal(
            load(target, release.version), load(dataset / "dist-data" / NAME, release.version)
        )


def test_publish_file_url_and_a_conflicting_catalog(dataset: Path, tmp_path: Path) -> None:
    release = releases(dataset)[0]
    url = (tmp_path / "published").as_uri()
    assert get_publisher(url).publish(release, dry_run=False).url == f"{url}/{release.version}/"
    catalog_path = tmp_path / "published" / "catalog.json"
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    catalog["versions"][0]["files"][0]["sha256"] = "0" * 64
    catalog_path.write_text(json.dumps(catalog), encoding="utf-8")
    publications_path(release).unlink()  # a lost record: the target itself must refuse to change a version
    with pytest.raises(PublishError, match=f"already lists version {release.version} with other files"):
        get_publisher(url).publish(release, dry_run=False)


def test_publish_folder_failure_midway_then_rerun_completes_once(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsspec.implementations.local import LocalFileSystem

    target, release = tmp_path / "published", releases(dataset)[0]
    real_put, copied = LocalFileSystem.put_file, []

    def failing_put(self: LocalFileSystem, lpath: str, rpath: str, **kwargs: Any) -> None:
        if len(copied) == 3:
            raise ConnectionResetError("the store went away")
        copied.append(rpath)
        real_put(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "put_file", failing_put)
    with pytest.raises(PublishError, match="run the same command again"):
        get_publisher(str(target)).publish(release, dry_run=False)
    assert not (target / "catalog.json").exists()  # the version is not visible half-copied
    assert read_record(release)["publications"] == []
    monkeypatch.setattr(LocalFileSystem, "put_file", real_put)
    result = get_publisher(str(target)).publish(release, dry_run=False)
    assert result.created
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    assert [v["version"] for v in catalog["versions"]] == [release.version]


@pytest.mark.parametrize(
    "where",
    ["dist-data/eventdata-seeds/{released}", "dist-data", "dist-data/eventdata-seeds", "link/copy", "file-url", ""],
)
def test_publish_folder_inside_dist_data_or_empty_is_refused_and_writes_nothing(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    first, last = releases(dataset)[0], releases(dataset)[-1]
    (tmp_path / "link").symlink_to(dataset / "dist-data")  # a symbolic link into dist-data/ is inside it too
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # an empty target was the current directory
    target = {
        "": "",
        "link/copy": str(tmp_path / "link" / "copy"),
        "file-url": (dataset / "dist-data" / "copy").as_uri(),
    }.get(where, str(dataset / where.format(released=last.version)))
    before = tree(dataset)
    for mode in ((), ("--dry-run",), ("--check",)):
        result = run("--project", dataset, "publish", first.version, "--to", target, *mode)
        assert result.exit_code == 2, result.output
        if where:
            assert "whose releases are never changed" in result.stderr
            assert f"it is inside {dataset / 'dist-data'}" in result.stderr
        else:
            assert "The target folder is empty: give the folder or URL to publish to" in result.stderr
    assert tree(dataset) == before
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("damage", ["resources-removed", "file-and-its-hash-edited", "version-not-in-catalog"])
def test_publish_refuses_a_release_that_differs_from_its_catalog_record(
    dataset: Path, tmp_path: Path, damage: str
) -> None:
    release = releases(dataset)[-2]
    descriptor = release.descriptor()
    if damage == "resources-removed":  # nothing left in datapackage.json to check the files against
        del descriptor["resources"]
        said = "datapackage.json: sha256 is "
    elif damage == "file-and-its-hash-edited":
        events = release.path / "data" / "events.csv"
        data = events.read_bytes() + b"\n"
        events.write_bytes(data)
        resource = next(r for r in descriptor["resources"] if r["path"] == "data/events.csv")
        resource.update(bytes=len(data), hash="sha256:" + hashlib.sha256(data).hexdigest())
        said = "data/events.csv: sha256 is "
    else:
        catalog_path = release.path.parent / "catalog.json"
        catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
        catalog["versions"] = [v for v in catalog["versions"] if v["version"] != release.version]
        catalog["latest"] = catalog["versions"][-1]["version"]
        catalog_path.write_text(json.dumps(catalog), encoding="utf-8")
        said = f"does not list version {release.version}"
    if damage != "version-not-in-catalog":
        release.descriptor_path.write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
    target = tmp_path / "published"
    for args in (("--to", target), ("--to", "zenodo", "--check")):
        result = run("--project", dataset, "publish", release.version, *args)
        assert result.exit_code == 2, result.output
        assert said in result.stderr
        assert str(release.path.parent / "catalog.json") in result.stderr
    assert not target.exists()
    assert not publications_path(release).exists()


@pytest.mark.parametrize(
    ("catalog", "said"),
    [
        ("[]", "the file must hold a JSON object with 'versions'"),
        ('{"versions": "x"}', "'versions' must be a list"),
        ('{"versions": [{"version": "1.0.0", "files": {}}]}', "versions[0] (version 1.0.0).files must be a list"),
    ],
)
def test_publish_folder_refuses_a_target_catalog_of_the_wrong_shape(
    dataset: Path, tmp_path: Path, catalog: str, said: str
) -> None:
    release = releases(dataset)[-1]
    target = tmp_path / "published"
    target.mkdir()
    (target / "catalog.json").write_text(catalog, encoding="utf-8")
    result = run("--project", dataset, "publish", release.version, "--to", target)
    assert result.exit_code == 2, result.output
    assert f"{target}/catalog.json is not a valid catalog: {said}. It lists the versions" in result.stderr
    assert "Traceback" not in result.output
    assert tree(target) == {"catalog.json": catalog.encode()}
    assert not publications_path(release).exists()


@pytest.mark.parametrize("inside", [False, True], ids=["file", "below-a-file"])
def test_publish_folder_to_a_file_is_refused_before_any_copy(dataset: Path, tmp_path: Path, inside: bool) -> None:
    release = releases(dataset)[-1]
    afile = tmp_path / "afile"
    afile.write_text("keep\n", encoding="utf-8")
    target = afile / "sub" if inside else afile
    result = run("--project", dataset, "publish", release.version, "--to", target)
    assert result.exit_code == 2, result.output
    assert f"Cannot publish to {target}: {afile}" in result.stderr
    assert "is a file, not a folder; nothing was copied" in result.stderr
    assert "copy " not in result.stderr
    assert afile.read_text(encoding="utf-8") == "keep\n"
    assert not publications_path(release).exists()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.servers.seaweed import SeaweedUnavailable, start_seaweed

    try:
        store = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    except SeaweedUnavailable as err:
        pytest.skip(f"SeaweedFS (S3) could not start here: {err}")
    yield store
    store.stop()


@pytest.fixture
def bucket(seaweed: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A new bucket on the local S3 store, with the AWS variables that s3fs (and load) read."""
    s3fs = pytest.importorskip("s3fs")
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = request.node.name.replace("_", "-")[:50].strip("-").lower()
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return name


def test_publish_s3_copies_releases_and_load_returns_the_local_frame(dataset: Path, bucket: str, seaweed: Any) -> None:
    import fsspec
    import pandas as pd

    url = f"s3://{bucket}/eventdata-seeds"
    for release in releases(dataset):
        result = run("--project", dataset, "publish", release.version, "--to", url, "--endpoint-url", seaweed.endpoint)
        assert result.exit_code == 0, result.output
        assert_secret_absent(seaweed.secret, result.output)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    local = tree(dataset / "dist-data" / NAME)
    for path, data in local.items():
        if path == "catalog.json" or path.split("/")[0] in {r.version for r in RELEASES}:
            assert fs.cat_file(f"{bucket}/eventdata-seeds/{path}") == data, path
    again = run("--project", dataset, "publish", RELEASES[-1].version, "--to", url)
    assert again.exit_code == 0
    assert "nothing sent" in again.stderr
    load = pytest.importorskip("eventdata.load").load
    for release in RELEASES:
        pd.testing.assert_frame_equal(load(url, release.version), load(dataset / "dist-data" / NAME, release.version))
    assert_secret_absent(seaweed.secret, folders=(dataset / "dist-data",))


def test_publish_s3_wrong_secret_is_a_clear_error_without_the_secret(
    dataset: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-secret-" + os.urandom(6).hex()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    options = {"storage_options": {"skip_instance_cache": True}}
    with pytest.raises(PublishError, match=r"Could not write to s3://.*AWS_ACCESS_KEY_ID") as caught:
        get_publisher(f"s3://{bucket}/x", **options).publish(releases(dataset)[0], dry_run=False)
    assert_secret_absent(wrong, str(caught.value))
    assert read_record(releases(dataset)[0])["publications"] == []


# --- metadata checks and dry runs ------------------------------------------------------------------


def test_publish_check_reports_missing_licence_and_creators_and_sends_nothing(
    dataset: Path, zenodo: FakeServer, ckan: FakeServer
) -> None:
    release = releases(dataset)[0]
    edit_descriptor(
        release,
        licenses=None,
        contributors=[{"title": "Someone", "roles": ["publisher"]}],
        methodology=None,
        caveats=None,
    )
    zenodo_result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--base-url", zenodo.url)
    ckan_result = run(
        "--project",
        dataset,
        "publish",
        release.version,
        "--to",
        "ckan",
        "--base-url",
        ckan.url,
        "--organization",
        "acme",
        "--check",
    )
    assert (zenodo_result.exit_code, ckan_result.exit_code) == (1, 1)
    lines = zenodo_result.stderr.splitlines()
    assert [line.split(": ", 1)[1].split(" ")[:2] for line in lines[:-1]] == [
        ["licenses", "[required-error]"],
        ["contributors", "[required-error]"],
    ]
    assert lines[-1] == "2 problem(s) for zenodo: nothing was sent."
    assert "licenses [required-error] CKAN needs a licence" in ckan_result.stderr
    assert "methodology [required-error]" in ckan_result.stderr
    assert "caveats [required-error]" in ckan_result.stderr
    assert zenodo.requests == []
    assert ckan.requests == []
    assert not publications_path(release).exists()


def test_publish_check_passes_for_the_seeds_on_zenodo_and_folders(dataset: Path) -> None:
    for release in releases(dataset):
        assert get_publisher("zenodo").check(release).problems == ()
        assert get_publisher("/tmp/anywhere").check(release).problems == ()


def test_publish_check_names_a_release_that_no_longer_matches_its_manifest(dataset: Path) -> None:
    release = releases(dataset)[0]
    (release.path / "data" / "events.csv").write_text("tampered\n", encoding="utf-8")
    result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--check")
    assert result.exit_code == 2
    assert "events.csv does not match datapackage.json: expected" in result.stderr
    assert "found 9 bytes sha256:" in result.stderr


def test_publish_dry_run_prints_requests_files_sizes_hashes_and_sends_nothing(
    dataset: Path, zenodo: FakeServer
) -> None:
    release = releases(dataset)[0]
    result = run(
        "--project",
        dataset,
        "publish",
        release.version,
        "--to",
        "zenodo",
        "--base-url",
        zenodo.url,
        "--dry-run",
        env={"EVENTDATA_ZENODO_TOKEN": ""},
    )
    assert result.exit_code == 0, result.output
    events = next(r for r in release.descriptor()["resources"] if r["path"] == "data/events.csv")
    assert f"{{bucket}}/events.csv  upload  events.csv {events['bytes']} bytes {events['hash']}" in result.stdout
    assert f"POST   {zenodo.url}/api/deposit/depositions  create" in result.stdout
    assert f"{{bucket}}/{NAME}-{release.version}.zip  upload" in result.stdout
    assert result.stderr.startswith("Dry run:")
    assert "nothing was sent" in result.stderr
    assert zenodo.requests == []


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ([1], "the record must be a JSON object ({...}), not a list"),
        (None, "the record must be a JSON object ({...}), not null"),
        ({"publications": {}, "pending": {}}, "publications must be a list ([...]), not an object"),
        ({"publications": [1], "pending": {}}, "publications[0] must be an object ({...}), not a number (1)"),
        ({"publications": [], "pending": []}, "pending must be an object ({...}), not a list"),
        ({"publications": [], "pending": {"zenodo": 1}}, 'pending["zenodo"] must be an object'),
        (
            {"publications": [{"key": "directory /srv/x", "url": 5}], "pending": {}},
            "publications[0].url must be text or null, not a number (5)",
        ),
        ({"publications": [{"url": "/srv/x/1.0.0/"}], "pending": {}}, "publications[0].key must be text naming"),
        (
            {"publications": [{"key": "zenodo x", "files": ["events.csv"]}], "pending": {}},
            "publications[0].files must be an object of text",
        ),
        (
            {"publications": [], "pending": {"zenodo x": {"deposition_id": True}}},
            'pending["zenodo x"].deposition_id must be text, a whole number or null, not a boolean (true)',
        ),
    ],
)
def test_a_publication_record_of_the_wrong_shape_is_named_and_kept(
    dataset: Path, tmp_path: Path, record: Any, said: str
) -> None:
    release = releases(dataset)[-1]
    path = publications_path(release)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(PublishError, match=re.escape(said)):
        read_record(release)
    target = tmp_path / "published"
    result = run("--project", dataset, "publish", release.version, "--to", str(target))
    assert result.exit_code == 2
    assert f"{path}: {said}" in result.output
    assert json.loads(path.read_text(encoding="utf-8")) == record  # kept for the maintainer to restore
    assert not target.exists()


@pytest.mark.parametrize("url", ["s3://", "s3:///", "file://"])
def test_publish_to_a_url_without_bucket_or_folder_is_refused_and_writes_nothing(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.chdir(tmp_path)  # s3:// was written to the local folder "s3:"
    release = releases(dataset)[-1]
    result = run("--project", dataset, "publish", release.version, "--to", url)
    assert result.exit_code == 2
    assert f"{url} names no bucket or folder" in result.output
    assert list(tmp_path.iterdir()) == [dataset]
    assert not publications_path(release).exists()


@pytest.mark.parametrize(("target", "url"), [("ckan", "notaurl"), ("zenodo", "ftp://x"), ("hdx", "https://")])
def test_publish_base_url_that_is_not_a_server_address_is_refused_before_any_request(
    dataset: Path, target: str, url: str
) -> None:
    release = releases(dataset)[-1]
    result = run(
        "--project", dataset, "publish", release.version, "--to", target, "--organization", "acme", "--base-url", url
    )
    assert result.exit_code == 2
    assert f"--base-url {url!r} is not the address of a {target} server" in result.output
    assert not publications_path(release).exists()


@pytest.mark.parametrize("blocked", ["publications", "publications/{version}.json"])
def test_publish_refuses_before_sending_when_its_record_cannot_be_written(
    dataset: Path, tmp_path: Path, blocked: str
) -> None:
    release = releases(dataset)[-1]
    where = release.path.parent / blocked.format(version=release.version)
    if blocked == "publications":
        where.write_text("", encoding="utf-8")
    else:
        where.mkdir(parents=True)
    target = tmp_path / "published"
    result = run("--project", dataset, "publish", release.version, "--to", str(target))
    assert result.exit_code == 2
    assert f"{where} is a" in result.output
    assert "Move it away" in result.output
    assert not target.exists()  # nothing sent that could not be recorded


@pytest.mark.parametrize("to", ["folder", "zenodo"])
def test_publish_refuses_before_sending_when_its_record_folder_is_not_writable(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zenodo: FakeServer, to: str
) -> None:
    import errno
    import tempfile

    release = releases(dataset)[-1]
    folder = publications_path(release).parent
    real_mkstemp = tempfile.mkstemp

    def read_only(*args: Any, **kwargs: Any) -> Any:  # as a read-only folder answers, even to root
        if Path(str(kwargs.get("dir", ""))).resolve() == folder.resolve():
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    target = tmp_path / "published"
    args = ("--to", target) if to == "folder" else ("--to", "zenodo", "--base-url", zenodo.url)
    result = run("--project", dataset, "publish", release.version, *args)
    assert result.exit_code == 2, result.output
    assert f"Cannot write the publication record of version {release.version} in {folder} (Permission denied)" in (
        result.stderr
    )
    assert "so nothing was sent" in result.stderr
    assert not target.exists()
    assert zenodo.requests == []
    assert not folder.exists()  # the probe leaves nothing behind

"""eventdata publish --to ckan / --to hdx against the fake CKAN (tests/servers/ckan.py), plain and in HDX mode.

The fake follows CKAN 2.12's and HDX's source (cited there): `state` ignored for editors, `private`
honoured, 403 for anonymous readers of a private dataset, the upload size limit, HDX's required fields,
approved tags and size 0 for uploads without resource_type file.upload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from eventdata.catalog import Release
from eventdata.errors import PublishError
from eventdata.publish import PublishResult, get_publisher
from eventdata.publish.ckan import CkanPublisher
from eventdata.publish.hdx import DEFAULT_BASE_URL, HdxPublisher, approved_tags, mapped_tag
from eventdata.publish.http import RejectedError
from eventdata.publish.manifest import ReleaseFile
from eventdata.publish.record import publications_path, read_record
from eventdata.publish.rights import GuardedPublisher
from tests import test_publish
from tests.servers.base import FakeServer, serving
from tests.servers.ckan import FakeCkan
from tests.test_publish import (
    CKAN_TOKEN,
    FAST,
    NAME,
    RELEASES,
    assert_secret_absent,
    edit_descriptor,
    releases,
    run,
    tree,
)

HDX_TOKEN = "hdx-token-" + os.urandom(12).hex()
HDX_SECTION = {
    "dataset_source": "eventdata maintainers, coded from news articles",
    "maintainer": "publisher",
    "data_update_frequency": "As needed",
    "tags": ["conflict-violence", "fatalities"],
}

pytestmark = pytest.mark.skipif(len(RELEASES) < 2, reason="needs two committed releases of the seeds dataset")


# --- fixtures and helpers --------------------------------------------------------------------------

isolated_credentials = test_publish.isolated_credentials  # no token from the environment or keyring
dataset = test_publish.dataset  # copies of the committed seeds releases


@pytest.fixture
def ckan(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with serving(FakeCkan({CKAN_TOKEN: "publisher"}, {"acme": ["publisher"]})) as server:
        monkeypatch.setenv("EVENTDATA_CKAN_TOKEN", CKAN_TOKEN)
        yield server


@pytest.fixture
def hdx(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with serving(FakeCkan({HDX_TOKEN: "publisher"}, {"acme": ["publisher"]}, hdx=True)) as server:
        monkeypatch.setenv("EVENTDATA_HDX_TOKEN", HDX_TOKEN)
        yield server


def api(server: FakeServer) -> FakeCkan:
    assert isinstance(server.service, FakeCkan)
    return server.service


def hdx_ready(dataset: Path, **section: Any) -> list[Release]:
    """The seeds releases with the fields of the `hdx` section of schemas/dataset.json in datapackage.json."""
    for release in releases(dataset):
        edit_descriptor(release, hdx={**HDX_SECTION, **section})
    return releases(dataset)


def publish(server: FakeServer, release: Release, target: str = "ckan") -> PublishResult:
    publisher = get_publisher(target, base_url=server.url, organization="acme", **FAST)
    return publisher.publish(release, dry_run=False)


def cli_publish(dataset: Path, server: FakeServer, version: str, target: str = "ckan", *extra: str) -> Any:
    options = ("--to", target, "--base-url", server.url, "--organization", "acme", *extra)
    return run("--project", dataset, "publish", version, *options)


def action(server: FakeServer, verb: str, token: str | None = None, **payload: Any) -> requests.Response:
    headers = {"Authorization": token} if token else {}
    return requests.post(f"{server.url}/api/3/action/{verb}", json=payload, headers=headers, timeout=10)


def anonymous_show(server: FakeServer) -> requests.Response:
    return action(server, "package_show", id=NAME)


class Watcher:
    """Asks package_show anonymously, over and over, and keeps every dataset it was shown."""

    def __init__(self, server: FakeServer) -> None:
        self.server, self.refused = server, 0
        self.seen: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stop.is_set():
            answer = anonymous_show(self.server)
            if answer.status_code == 200:
                self.seen.append(answer.json()["result"])
            else:
                assert answer.status_code in (403, 404), answer.text
                self.refused += 1

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def complete(package: dict[str, Any], release: Release) -> bool:
    """The package shows exactly the files of this release (by name and sha256) at its version."""
    hashes = {r["name"]: r.get("hash") for r in package["resources"]}
    wanted = {name: hashlib.sha256(data).hexdigest() for name, data in local_files(release).items()}
    archive = f"{NAME}-{release.version}.zip"
    return package["version"] == release.version and hashes.pop(archive, None) is not None and hashes == wanted


def stored_files(server: FakeServer) -> dict[str, bytes]:
    (package,) = api(server).packages.values()
    return {r["name"]: api(server).files[r["id"]] for r in package["resources"]}


def local_files(release: Release) -> dict[str, bytes]:
    return {
        p.rsplit("/", 1)[-1]: d for p, d in tree(release.path).items() if not p.startswith(("changes/", "sources/"))
    }


# --- the fake follows CKAN and HDX -----------------------------------------------------------------


def test_fake_ckan_ignores_state_draft_for_editors_honours_private_and_hides_it_from_anonymous() -> None:
    """ckan#5497: state is dropped on package_create unless sysadmin; private is kept; anonymous gets 403."""
    service = FakeCkan({"t-editor": "editor", "t-admin": "admin"}, {"acme": ["editor"]}, sysadmins=("admin",))
    with serving(service) as server:
        org = "acme"
        draft = action(server, "package_create", "t-editor", name="by-editor", owner_org=org, state="draft")
        assert draft.json()["result"]["state"] == "active"
        assert action(server, "package_show", id="by-editor").json()["result"]["state"] == "active"
        admin = action(server, "package_create", "t-admin", name="by-admin", owner_org=org, state="draft")
        assert admin.json()["result"]["state"] == "draft"
        hidden = action(server, "package_create", "t-editor", name="hidden", owner_org=org, private=True)
        assert hidden.json()["result"]["private"] is True
        refused = action(server, "package_show", id="hidden")
        assert refused.status_code == 403
        assert refused.json()["error"]["__type"] == "Authorization Error"
        assert action(server, "package_show", "t-editor", id="hidden").status_code == 200
        assert (
            action(server, "package_patch", "t-editor", id="hidden", private=False).json()["result"]["private"] is False
        )
        assert action(server, "package_show", id="hidden").status_code == 200
        extras = action(server, "package_create", "t-editor", name="extras", owner_org=org, methodology="x")
        assert "methodology" not in extras.json()["result"]  # '__extras': [ignore]


def test_fake_hdx_stores_size_0_for_uploads_without_resource_type_file_upload(hdx: FakeServer) -> None:
    service = api(hdx)
    package = action(
        hdx, "package_create", HDX_TOKEN, name="sizes", owner_org="acme", private=True, dataset_source="x",
        maintainer="publisher", license_id="cc-by", tags=[{"name": "fatalities"}],
    ).json()["result"]  # fmt: skip
    url = f"{hdx.url}/api/3/action/resource_create"
    headers = {"Authorization": HDX_TOKEN}
    plain = requests.post(
        url,
        data={"package_id": package["id"], "name": "a.csv"},
        files={"upload": b"a,b\n"},
        headers=headers,
        timeout=10,
    )
    typed = requests.post(
        url,
        data={"package_id": package["id"], "name": "b.csv", "resource_type": "file.upload"},
        files={"upload": b"a,b\n"},
        headers=headers,
        timeout=10,
    )
    assert (plain.json()["result"]["size"], plain.json()["result"]["url_type"]) == (0, "api")
    assert typed.json()["result"]["size"] > len(b"a,b\n")  # the request's Content-Length, not the file's size
    assert service.files[typed.json()["result"]["id"]] == b"a,b\n"


# --- plain CKAN ------------------------------------------------------------------------------------


def test_publish_ckan_seeds_private_first_then_public_and_a_rerun_sends_nothing(
    dataset: Path, ckan: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = []
    with Watcher(ckan) as watcher:
        for release in releases(dataset):
            result = cli_publish(dataset, ckan, release.version)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
            assert result.stdout.strip() == f"{ckan.url}/dataset/{NAME}"
    (package,) = api(ckan).packages.values()
    descriptor = RELEASES[-1].descriptor()
    assert {k: package[k] for k in ("name", "title", "notes", "license_id", "version", "state", "private")} == {
        "name": NAME,
        "title": descriptor["title"],
        "notes": descriptor["description"],
        "license_id": "cc-by",
        "version": RELEASES[-1].version,
        "state": "active",
        "private": False,
    }
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["methodology"] == "Other"
    assert extras["methodology_other"] == descriptor["methodology"]
    assert extras["caveats"] == descriptor["caveats"]
    assert extras["dataset_date"].startswith("[20")
    assert package["tags"] == [{"name": k} for k in descriptor["keywords"]]
    stored = stored_files(ckan)
    assert {k: v for k, v in stored.items() if not k.endswith(".zip")} == local_files(releases(dataset)[-1])
    assert {r["name"]: r["hash"] for r in package["resources"]}["events.csv"] == next(
        r["hash"].removeprefix("sha256:") for r in descriptor["resources"] if r["path"] == "data/events.csv"
    )
    (create,) = ckan.calls("POST", "package_create$")
    assert json.loads(create.body)["private"] is True
    assert "state" not in json.loads(create.body)
    # what anonymous readers saw: nothing, then 1.0.0 complete, then 1.1.0 complete; never a mixture
    assert watcher.refused > 0
    assert all(complete(p, {r.version: r for r in releases(dataset)}[p["version"]]) for p in watcher.seen)
    before = len(ckan.requests)
    for release in releases(dataset):
        again = cli_publish(dataset, ckan, release.version)
        assert again.exit_code == 0, again.output
        assert "nothing sent" in again.stderr
    assert len(ckan.requests) == before
    assert_secret_absent(CKAN_TOKEN, caplog.text, *outputs, folders=(dataset,))


def test_publish_ckan_fault_mid_upload_is_never_visible_then_rerun_gives_one_public_dataset(
    dataset: Path, ckan: FakeServer
) -> None:
    release = releases(dataset)[0]
    ckan.fault("POST", "resource_create$", "500", skip=2, times=None)
    with Watcher(ckan) as watcher:
        with pytest.raises(PublishError, match="not repeated automatically"):
            publish(ckan, release)
        (package,) = api(ckan).packages.values()
        assert package["private"] is True
        assert len(package["resources"]) == 2
        assert anonymous_show(ckan).status_code == 403
        ckan.clear_faults()
        ckan.fault("POST", "resource_create$", "drop-after", skip=1)  # an answer lost: the resource exists
        ckan.fault("POST", "resource_update$", "drop")
        assert publish(ckan, release).created
    assert watcher.seen == [] or all(complete(p, release) for p in watcher.seen)
    (package,) = api(ckan).packages.values()
    names = [r["name"] for r in package["resources"]]
    assert (package["state"], package["private"]) == ("active", False)
    assert len(names) == len(set(names))
    assert {k: v for k, v in stored_files(ckan).items() if not k.endswith(".zip")} == local_files(release)
    assert anonymous_show(ckan).json()["result"]["version"] == release.version
    assert read_record(release)["publications"][0]["url"] == f"{ckan.url}/dataset/{NAME}"
    assert len(ckan.calls("POST", "package_create$")) == 1


def test_publish_ckan_killed_mid_upload_stays_private_then_rerun_completes(dataset: Path, ckan: FakeServer) -> None:
    version = RELEASES[0].version
    ckan.fault("POST", "resource_create$", "stall", skip=2)
    command = [sys.executable, "-m", "eventdata", "--project", str(dataset), "publish", version, "--to", "ckan"]
    command += ["--base-url", ckan.url, "--organization", "acme"]
    process = subprocess.Popen(
        command, env={**os.environ, "EVENTDATA_CKAN_TOKEN": CKAN_TOKEN}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert ckan.stalled.wait(timeout=40), process.communicate(timeout=5)
        assert anonymous_show(ckan).status_code == 403
    finally:
        process.kill()
        output = process.communicate(timeout=10)
    ckan.release.set()
    ckan.clear_faults()
    (package,) = api(ckan).packages.values()
    assert package["private"] is True
    assert anonymous_show(ckan).status_code == 403
    result = cli_publish(dataset, ckan, version)
    assert result.exit_code == 0, result.output
    (package,) = api(ckan).packages.values()
    assert package["private"] is False
    assert complete(anonymous_show(ckan).json()["result"], releases(dataset)[0])
    assert len(ckan.calls("POST", "package_create$")) == 1
    assert_secret_absent(CKAN_TOKEN, result.output, *(o.decode() for o in output), folders=(dataset,))


def test_publish_ckan_upload_above_max_resource_size_says_the_limit_and_how_to_raise_it(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = releases(dataset)[0]
    monkeypatch.setenv("EVENTDATA_CKAN_TOKEN", CKAN_TOKEN)
    with serving(FakeCkan({CKAN_TOKEN: "publisher"}, {"acme": ["publisher"]}, max_resource_size=0)) as server:
        result = cli_publish(dataset, server, release.version)
        assert result.exit_code == 2
        assert "File upload too large" in result.stderr
        assert "ckan.max_resource_size" in result.stderr
        assert "CKAN's default is 10 MB" in result.stderr
        assert "at most 0 MB on this site" in result.stderr  # every file is under 1 MB, and all are refused
        assert "fix the metadata" not in result.stderr
        assert "The metadata is fine" in result.stderr
        (package,) = api(server).packages.values()
        assert package["private"] is True
        assert anonymous_show(server).status_code == 403


def test_publish_ckan_size_refusals_give_the_bound_on_the_limit_and_the_setting_to_raise() -> None:
    publisher = CkanPublisher(base_url="http://127.0.0.1:9", organization="acme")
    big = ReleaseFile("events.parquet", Path("events.parquet"), 3 * (1 << 20) + 5, "0" * 64, "0" * 32)
    refused = publisher._too_large(big, RejectedError("… upload: File upload too large …", 409))
    assert "(3145733 bytes, 3.0 MB)" in refused
    assert "ckan.max_resource_size, at most 3 MB on this site" in refused  # 4 chunks of 1 MB were too many
    assert "CKAN_MAX_UPLOAD_SIZE_MB" in refused
    proxy = publisher._too_large(big, RejectedError("… (413) …", 413))
    assert "client_max_body_size" in proxy
    assert "MAX_CONTENT_LENGTH" in proxy


def test_publish_ckan_verifies_private_files_where_the_token_goes_when_site_url_names_another_host(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resource URLs come from ckan.site_url (here localhost); the token goes only to --base-url (127.0.0.1)."""
    release = releases(dataset)[0]
    monkeypatch.setenv("EVENTDATA_CKAN_TOKEN", CKAN_TOKEN)
    service = FakeCkan({CKAN_TOKEN: "publisher"}, {"acme": ["publisher"]}, site_host="localhost")
    with serving(service) as server:
        server.fault("POST", "package_patch$", "500", times=None)  # it stays private
        with pytest.raises(PublishError, match="package_patch"):
            publish(server, release)
        (package,) = service.packages.values()
        resource = package["resources"][0]
        assert resource["url"].startswith(service.site_url.replace("127.0.0.1", "localhost"))
        assert requests.get(resource["url"], timeout=10).status_code == 403  # private: not for anonymous users
        downloads = server.calls("GET", "/download/")
        assert len(downloads) == len(local_files(release)) + 2  # each file and the zip, then the anonymous try
        assert all(d.headers.get("Authorization") == CKAN_TOKEN for d in downloads[:-1])
        assert all(d.headers.get("Host", "").startswith("127.0.0.1") for d in downloads[:-1])
        server.clear_faults()
        assert publish(server, release).created
        assert requests.get(resource["url"], timeout=10).status_code == 200


def test_publish_ckan_dataset_date_range_comes_from_the_events(dataset: Path) -> None:
    release = releases(dataset)[0]
    dates = [line.split(",")[1] for line in (release.path / "data" / "events.csv").read_text().splitlines()[1:]]
    fields = get_publisher("ckan", base_url="http://127.0.0.1:9", organization="acme").dataset_fields(release)
    extras = {e["key"]: e["value"] for e in fields["extras"]}
    assert extras["dataset_date"] == f"[{min(dates)}T00:00:00 TO {max(dates)}T23:59:59]"


def test_publish_ckan_unknown_organization_and_rejected_token(dataset: Path, ckan: FakeServer) -> None:
    release = releases(dataset)[0]
    with pytest.raises(PublishError, match="has no organization 'nobody': check --organization"):
        get_publisher("ckan", base_url=ckan.url, organization="nobody", **FAST).publish(release, dry_run=False)
    result = run(
        "--project", dataset, "publish", release.version, "--to", "ckan", "--base-url", ckan.url,
        "--organization", "acme", env={"EVENTDATA_CKAN_TOKEN": "wrong-ckan-token"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "CKAN refused POST" in result.stderr
    assert "(403): Authorization Error" in result.stderr
    assert "EVENTDATA_CKAN_TOKEN" in result.stderr
    assert "wrong-ckan-token" not in result.output
    assert api(ckan).packages == {}


# --- HDX -------------------------------------------------------------------------------------------


def test_get_publisher_hdx_defaults_to_data_humdata_org_and_needs_an_organization() -> None:
    publisher = get_publisher("hdx", organization="acme")
    assert isinstance(publisher, GuardedPublisher)  # HDX is public: behind the licence guardrail
    assert isinstance(publisher.inner, HdxPublisher)
    assert publisher.base_url == DEFAULT_BASE_URL == "https://data.humdata.org"
    with pytest.raises(PublishError, match="needs the owning organization"):
        get_publisher("hdx")
    with pytest.raises(PublishError, match="--endpoint-url does not apply when publishing to hdx"):
        get_publisher("hdx", organization="acme", endpoint_url="http://x")


def test_hdx_tags_follow_hdx_mapping_and_approved_list() -> None:
    assert mapped_tag("conflict") == ["conflict-violence"]
    assert mapped_tag("Fatalities") == ["fatalities"]
    assert mapped_tag("ACLED") == mapped_tag("Syria") == mapped_tag("political violence") == []
    assert "conflict-violence" in approved_tags()
    assert len(approved_tags()) == 140


def test_publish_hdx_check_lists_every_field_hdx_refuses_and_sends_nothing(dataset: Path, hdx: FakeServer) -> None:
    release = releases(dataset)[0]
    result = cli_publish(dataset, hdx, release.version, "hdx", "--check")
    assert result.exit_code == 1
    fields = [line.split(": ", 1)[1].split(" ")[0].split("=")[0] for line in result.stderr.splitlines()[:-1]]
    assert fields == [
        "keywords",
        "keywords",
        "keywords",
        "keywords",
        "hdx.dataset_source",
        "hdx.maintainer",
        "hdx.data_update_frequency",
    ]
    for keyword in ("political violence", "events", "ACLED", "Syria"):
        assert f"keyword {keyword!r} is not on HDX's approved list" in result.stderr
    assert "'conflict'" not in result.stderr  # HDX maps it to conflict-violence
    assert result.stderr.splitlines()[-1] == "7 problem(s) for hdx: nothing was sent."
    assert hdx.requests == []
    assert not publications_path(release).exists()


#: A break of one field in datapackage.json, the field check names, and the same break in what is sent.
BREAKS = [
    ({"hdx": {**HDX_SECTION, "dataset_source": ""}}, "hdx.dataset_source", {"dataset_source": ""}, "dataset_source"),
    ({"hdx": {**HDX_SECTION, "maintainer": None}}, "hdx.maintainer", {"maintainer": ""}, "maintainer"),
    (
        {"hdx": {**HDX_SECTION, "data_update_frequency": "weekly"}},
        "hdx.data_update_frequency",
        {"data_update_frequency": "weekly"},
        "data_update_frequency",
    ),
    ({"hdx": {**HDX_SECTION, "tags": ["ACLED"]}}, "hdx.tags", {"tags": [{"name": "ACLED"}]}, "tags"),
    ({"methodology": None}, "methodology", {"methodology": ""}, "methodology"),
    ({"description": None}, "description", {"notes": ""}, "notes"),
]


@pytest.mark.parametrize(("edit", "flagged", "sent", "refused"), BREAKS, ids=[b[1] for b in BREAKS])
def test_publish_hdx_check_flags_exactly_what_hdx_refuses(
    dataset: Path, hdx: FakeServer, edit: dict[str, Any], flagged: str, sent: dict[str, Any], refused: str
) -> None:
    good = hdx_ready(dataset)[0]
    publisher = get_publisher("hdx", base_url=hdx.url, organization="acme", **FAST)
    assert isinstance(publisher, GuardedPublisher)  # HDX is public: behind the licence guardrail
    assert isinstance(publisher.inner, HdxPublisher)
    assert publisher.check(good).problems == ()
    fields = publisher.dataset_fields(good)
    organization = api(hdx).organizations["acme"]["id"]
    broken = {**fields, **sent, "owner_org": organization, "private": False}
    answer = action(hdx, "package_create", HDX_TOKEN, **broken)
    assert answer.status_code == 409
    assert answer.json()["error"]["__type"] == "Validation Error"
    assert refused in answer.json()["error"]
    edit_descriptor(good, **edit)
    assert [p.column for p in publisher.check(good).problems] == [flagged]
    assert action(hdx, "package_create", HDX_TOKEN, **{**fields, "owner_org": organization, "private": False}).ok


def test_publish_hdx_licence_ids_and_locations_follow_hdx_lists(dataset: Path, hdx: FakeServer) -> None:
    release = hdx_ready(dataset)[0]
    publisher = get_publisher("hdx", base_url=hdx.url, organization="acme")
    assert isinstance(publisher, GuardedPublisher)  # HDX is public: behind the licence guardrail
    assert isinstance(publisher.inner, HdxPublisher)
    edit_descriptor(release, licenses=[{"name": "CC-BY-NC-4.0"}])
    (licence,) = publisher.check(release).problems
    assert (licence.column, licence.value) == ("licenses", "CC-BY-NC-4.0")
    assert "HDX has no licence id" in licence.message
    edit_descriptor(release, licenses=[{"name": "ODbL-1.0"}])
    fields = publisher.dataset_fields(release)
    assert fields["license_id"] == "hdx-odc-odbl"
    assert fields["license_id"] in {lic["id"] for lic in action(hdx, "license_list").json()["result"]}
    assert fields["groups"] == [{"name": "syr"}] == [{"name": c} for c in publisher.locations(release)[0]]
    public = {**fields, "owner_org": "acme", "private": False}
    for groups, message in (([], "Missing value"), ([{"name": "SYR"}], "Wrong country code or id")):
        refused = action(hdx, "package_create", HDX_TOKEN, **{**public, "groups": groups})
        assert (refused.status_code, refused.json()["error"]["groups_list"]) == (409, [message])
    assert action(hdx, "package_create", HDX_TOKEN, **public).ok


def test_publish_hdx_seeds_1_0_then_1_1_and_a_rerun_sends_nothing(dataset: Path, hdx: FakeServer) -> None:
    with Watcher(hdx) as watcher:
        for release in hdx_ready(dataset):
            check = cli_publish(dataset, hdx, release.version, "hdx", "--check")
            assert check.exit_code == 0, check.output
            result = cli_publish(dataset, hdx, release.version, "hdx")
            assert result.exit_code == 0, result.output
            assert result.stdout.strip() == f"{hdx.url}/dataset/{NAME}"
    (package,) = api(hdx).packages.values()
    descriptor = RELEASES[-1].descriptor()
    assert {
        k: package[k]
        for k in (
            "license_id", "version", "private", "state", "dataset_source", "maintainer", "data_update_frequency",
            "groups", "tags", "methodology", "methodology_other", "caveats",
        )
    } == {
        "license_id": "cc-by",
        "version": RELEASES[-1].version,
        "private": False,
        "state": "active",
        "dataset_source": HDX_SECTION["dataset_source"],
        "maintainer": "publisher",
        "data_update_frequency": "-2",
        "groups": [{"name": "syr"}],
        "tags": [{"name": "conflict-violence"}, {"name": "fatalities"}],
        "methodology": "Other",
        "methodology_other": descriptor["methodology"],
        "caveats": descriptor["caveats"],
    }  # fmt: skip
    assert {r["resource_type"] for r in package["resources"]} == {"file.upload"}
    stored = stored_files(hdx)
    assert {k: v for k, v in stored.items() if not k.endswith(".zip")} == local_files(releases(dataset)[-1])
    assert any(r["size"] != len(stored[r["name"]]) for r in package["resources"])  # HDX's size is not the file's
    assert all(complete(p, {r.version: r for r in releases(dataset)}[p["version"]]) for p in watcher.seen)
    before = len(hdx.requests)
    for release in releases(dataset):
        assert cli_publish(dataset, hdx, release.version, "hdx").exit_code == 0
        assert publish(hdx, release, "hdx").created is False
    assert len(hdx.requests) == before
    (record,) = read_record(releases(dataset)[-1])["publications"]
    assert record["key"] == f"hdx {hdx.url} acme"


def test_publish_hdx_rerun_after_the_record_is_lost_matches_by_sha256_not_size(dataset: Path, hdx: FakeServer) -> None:
    release = hdx_ready(dataset)[0]
    assert publish(hdx, release, "hdx").created
    publications_path(release).unlink()
    uploads = len(hdx.calls("POST", "resource_(create|update)$"))
    assert publish(hdx, release, "hdx").created is False
    assert len(hdx.calls("POST", "resource_(create|update)$")) == uploads


def test_publish_hdx_dry_run_lists_the_private_first_plan_and_sends_nothing(dataset: Path, hdx: FakeServer) -> None:
    release = hdx_ready(dataset)[0]
    result = cli_publish(dataset, hdx, release.version, "hdx", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "package_create  create the dataset private" in lines[2]
    assert lines[-1].startswith(
        f"POST   {hdx.url}/api/3/action/package_patch  version {release.version}, private false"
    )
    assert sum("resource_create" in line for line in lines) == len(local_files(release)) + 1
    assert hdx.requests == []


@pytest.mark.parametrize(
    ("section", "flagged", "said"),
    [
        ([1, 2], "hdx", "hdx must be an object ({...})"),
        ({**HDX_SECTION, "dataset_source": ["eventdata"]}, "hdx.dataset_source", "must be text"),
        ({**HDX_SECTION, "maintainer": {"name": "publisher"}}, "hdx.maintainer", "must be text"),
    ],
)
def test_publish_hdx_check_names_an_hdx_section_of_the_wrong_shape(
    dataset: Path, hdx: FakeServer, section: Any, flagged: str, said: str
) -> None:
    release = hdx_ready(dataset)[0]
    edit_descriptor(release, hdx=section)
    problems = get_publisher("hdx", base_url=hdx.url, organization="acme", **FAST).check(release).problems
    assert [p.code for p in problems if p.column == flagged] == ["type-error"]
    assert any(said in p.message for p in problems if p.column == flagged)
    result = cli_publish(dataset, hdx, release.version, "hdx", "--dry-run")
    assert result.exit_code == 1
    assert said in result.stderr
    assert hdx.requests == []

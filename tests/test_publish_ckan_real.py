"""eventdata publish --to ckan against a real CKAN 2.12 that the tests start (tests/servers/real_ckan.py).

The publisher runs as `python -m eventdata publish …` subprocesses with EVENTDATA_CKAN_TOKEN set to an
organization editor's token, through a proxy (tests/servers/proxy.py) that logs what it sends and can
hold an upload half-way so that the test can SIGKILL the process mid-upload. What anonymous visitors
see is asked straight from CKAN, without a token, with package_show and package_search.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from eventdata.catalog import Release, list_releases
from eventdata.publish.manifest import ReleaseFile, release_files, repository_files
from eventdata.publish.record import publications_path
from tests.conftest import REPO
from tests.servers.proxy import StallingProxy
from tests.servers.real_ckan import CkanSite
from tests.test_publish import edit_descriptor

SEEDS = "eventdata-seeds"
RELEASES = list_releases(REPO / "dist-data" / SEEDS, SEEDS)
WRITES = ("package_create", "package_update", "package_patch", "resource_create", "resource_update", "resource_delete")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(len(RELEASES) < 2, reason="needs two committed releases of the seeds dataset"),
]


# --- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def proxy(real_ckan: CkanSite) -> Iterator[StallingProxy]:
    """The way the publisher reaches CKAN: a proxy that logs its requests and can hold an upload."""
    port = int(real_ckan.url.rsplit(":", 1)[1])
    server = StallingProxy(port)
    yield server
    server.stop()


def seeds_copy(tmp_path: Path, name: str) -> Path:
    """A dataset folder with copies of the committed seeds releases, published as the CKAN dataset `name`."""
    root = tmp_path / "dataset"
    shutil.copytree(REPO / "schemas", root / "schemas")
    for release in RELEASES:
        copy = root / "dist-data" / SEEDS / release.version
        shutil.copytree(release.path, copy)
    shutil.copy(REPO / "dist-data" / SEEDS / "catalog.json", root / "dist-data" / SEEDS / "catalog.json")
    for release in list_releases(root / "dist-data" / SEEDS, SEEDS):
        edit_descriptor(release, name=name)  # each test has its own dataset on the shared server
    return root


def release_of(dataset: Path, version: str) -> Release:
    return next(r for r in list_releases(dataset / "dist-data" / SEEDS, SEEDS) if r.version == version)


def uploads(release: Release, scratch: Path) -> list[ReleaseFile]:
    """What CKAN should hold for a release: its top-level and data/ files and the release zip."""
    scratch.mkdir(parents=True, exist_ok=True)
    return repository_files(release, release_files(release), scratch)


def command(dataset: Path, version: str, site: CkanSite, proxy: StallingProxy) -> tuple[list[str], dict[str, str]]:
    """`eventdata publish VERSION --to ckan` as the organization's editor, through the proxy."""
    env = {
        **os.environ,
        "EVENTDATA_CKAN_TOKEN": site.editor_token,
        "EVENTDATA_CACHE_DIR": str(dataset / ".cache"),
        "TMPDIR": str(dataset.parent),  # where a killed publisher leaves its scratch folder
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    args = [sys.executable, "-m", "eventdata", "--project", str(dataset), "publish", version, "--to", "ckan"]
    return [*args, "--base-url", proxy.url, "--organization", site.organization], env


def publish(dataset: Path, version: str, site: CkanSite, proxy: StallingProxy) -> subprocess.CompletedProcess[str]:
    args, env = command(dataset, version, site, proxy)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def anonymous(site: CkanSite, name: str) -> requests.Response:
    return site.action("package_show", {"id": name})


def anonymous_search(site: CkanSite, name: str) -> int:
    """How many datasets called `name` an anonymous search finds (asking for private and draft ones too)."""
    body = site.result("package_search", {"q": f"name:{name}", "include_private": True, "include_drafts": True})
    count: int = body["count"]
    assert count == len(body["results"])
    return count


def stored_files(site: CkanSite, package: dict[str, Any], token: str | None = None) -> dict[str, str]:
    """Each resource's name → sha256 of the bytes CKAN serves for it (anonymously unless a token is given)."""
    headers = {"Authorization": token} if token else {}
    out = {}
    for resource in package["resources"]:
        answer = requests.get(resource["url"], headers=headers, timeout=30)
        assert answer.status_code == 200, (resource["url"], answer.status_code)
        out[resource["name"]] = hashlib.sha256(answer.content).hexdigest()
    return out


def assert_complete_and_public(site: CkanSite, name: str, release: Release, expected: list[ReleaseFile]) -> None:
    """Anonymous package_show shows the version with exactly the release's files, byte for byte."""
    answer = anonymous(site, name)
    assert answer.status_code == 200, answer.text
    package = answer.json()["result"]
    assert (package["state"], package["private"], package["version"]) == ("active", False, release.version)
    assert [r["name"] for r in package["resources"]] == [f.path for f in expected]  # no duplicates, in order
    assert stored_files(site, package) == {f.path: f.sha256 for f in expected}
    assert {r["name"]: r["hash"] for r in package["resources"]} == {f.path: f.sha256 for f in expected}
    assert anonymous_search(site, name) == 1


class Watcher:
    """Asks anonymous package_show for a dataset, over and over, and keeps each dataset it was shown."""

    def __init__(self, site: CkanSite, name: str) -> None:
        self.site, self.name = site, name
        self.shown: list[dict[str, Any]] = []
        self.refused: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        while not self._stop.is_set():
            answer = anonymous(self.site, self.name)
            if answer.status_code == 200:
                self.shown.append(answer.json()["result"])
            else:
                self.refused.append(answer.status_code)
            self._stop.wait(0.05)

    def versions_shown(self, complete: dict[str, list[ReleaseFile]]) -> set[str]:
        """The versions anonymous visitors saw; each time with every file of that version, nothing else."""
        for package in self.shown:
            files = complete.get(package.get("version", ""))
            assert files is not None, f"anonymous visitors saw version {package.get('version')!r}"
            seen = {r["name"]: r.get("hash") for r in package["resources"]}
            assert seen == {f.path: f.sha256 for f in files}, f"anonymous visitors saw {package['version']} incomplete"
            assert (package["state"], package["private"]) == ("active", False)
        return {p["version"] for p in self.shown}


def kill_mid_upload(dataset: Path, version: str, site: CkanSite, proxy: StallingProxy, *, skip: int) -> str:
    """Run publish, hold its (skip+1)-th upload (resource_create/update) half-way, SIGKILL it there.

    Returns what it printed until then."""
    proxy.hold(r"/api/3/action/resource_(create|update)$", skip=skip)
    args, env = command(dataset, version, site, proxy)
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            while not proxy.held.wait(timeout=0.1) and process.poll() is None:
                pass
            if proxy.held.is_set():
                os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=30)
            proxy.clear()
    assert process.returncode == -signal.SIGKILL, f"it ended before that upload: {stderr}"
    return stderr


# --- what the real CKAN does (the premises of the publisher's design) -----------------------------------


def test_real_ckan_drops_draft_state_for_editors_but_keeps_private(real_ckan: CkanSite) -> None:
    """ckan#5497: an editor's `state: draft` becomes active and public; `private: true` hides it from visitors."""
    site, owner = real_ckan, {"owner_org": real_ckan.organization}
    draft = site.result("package_create", {"name": "premise-draft", "state": "draft", **owner}, token=site.editor_token)
    assert (draft["state"], draft["private"]) == ("active", False)
    assert anonymous(site, "premise-draft").status_code == 200
    assert anonymous_search(site, "premise-draft") == 1

    hidden = site.result(
        "package_create", {"name": "premise-private", "private": True, **owner}, token=site.editor_token
    )
    assert (hidden["state"], hidden["private"]) == ("active", True)
    refused = anonymous(site, "premise-private")
    assert refused.status_code == 403
    assert refused.json()["error"]["__type"] == "Authorization Error"
    assert anonymous_search(site, "premise-private") == 0
    editor_search = site.result(
        "package_search", {"q": "name:premise-private", "include_private": True}, token=site.editor_token
    )
    assert [p["name"] for p in editor_search["results"]] == ["premise-private"]


def test_real_ckan_refuses_an_upload_above_max_resource_size(real_ckan: CkanSite, tmp_path: Path) -> None:
    site = real_ckan
    site.result("package_create", {"name": "premise-size", "owner_org": site.organization}, token=site.editor_token)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(site.max_resource_size_mb * 1024 * 1024 + 1))
    with big.open("rb") as handle:
        answer = requests.post(
            f"{site.url}/api/3/action/resource_create",
            data={"package_id": "premise-size", "name": "big.bin"},
            files={"upload": handle},
            headers={"Authorization": site.editor_token},
            timeout=60,
        )
    assert answer.status_code == 409
    assert answer.json()["error"] == {"__type": "Validation Error", "upload": ["File upload too large"]}
    assert site.result("package_show", {"id": "premise-size"}, token=site.editor_token)["resources"] == []


def test_real_ckan_searches_through_the_solr_stand_in(real_ckan: CkanSite) -> None:
    """package_search's words, filters, facets, sort and paging reach the stand-in and come back as CKAN's."""
    site, token = real_ckan, real_ckan.editor_token
    for name, title, tags, private in (
        ("search-river-floods", "River floods in the north", ["floods", "water"], False),
        ("search-coastal-floods", "Coastal floods", ["floods"], False),
        ("search-hidden-floods", "Hidden floods", ["floods"], True),
    ):
        dataset = {"name": name, "title": title, "tags": [{"name": t} for t in tags], "private": private}
        site.result("package_create", {**dataset, "owner_org": site.organization}, token=token)
    words = site.result("package_search", {"q": "floods north"})
    assert [p["name"] for p in words["results"]] == ["search-river-floods"]
    tagged = site.result(
        "package_search", {"fq": 'tags:"floods"', "facet.field": '["tags"]', "sort": "name asc", "rows": 1}
    )
    assert tagged["count"] == 2  # the private one is not for visitors
    assert [p["name"] for p in tagged["results"]] == ["search-coastal-floods"]
    assert tagged["facets"]["tags"] == {"floods": 2, "water": 1}
    second = site.result("package_search", {"fq": 'tags:"floods"', "sort": "name asc", "rows": 1, "start": 1})
    assert [p["name"] for p in second["results"]] == ["search-river-floods"]
    editor = site.result("package_search", {"fq": 'tags:"floods"', "include_private": True}, token=token)
    assert editor["count"] == 3


# --- eventdata publish --to ckan -----------------------------------------------------------------------


def test_publish_seeds_1_0_0_then_1_1_0_and_a_rerun_sends_nothing(
    real_ckan: CkanSite, proxy: StallingProxy, tmp_path: Path
) -> None:
    site, name = real_ckan, "seeds-two-versions"
    dataset = seeds_copy(tmp_path, name)
    expected = {v: uploads(release_of(dataset, v), tmp_path / v) for v in ("1.0.0", "1.1.0")}
    with Watcher(site, name) as watcher:
        for version in ("1.0.0", "1.1.0"):
            done = publish(dataset, version, site, proxy)
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == f"{proxy.url}/dataset/{name}"
            assert_complete_and_public(site, name, release_of(dataset, version), expected[version])
    assert watcher.versions_shown(expected) <= {"1.0.0", "1.1.0"}
    assert watcher.shown, "the watcher never saw the published dataset"

    proxy.clear()
    again = publish(dataset, "1.1.0", site, proxy)
    assert again.returncode == 0, again.stderr
    assert "nothing sent" in again.stderr
    assert proxy.requests == []  # the local record says it is there

    publications_path(release_of(dataset, "1.1.0")).unlink()  # a fresh checkout: the server is asked
    fresh = publish(dataset, "1.1.0", site, proxy)
    assert fresh.returncode == 0, fresh.stderr
    assert proxy.requests, "without the record the publisher must look at the server"
    assert not [r for r in proxy.requests if r.rsplit("/", 1)[-1] in WRITES]
    assert_complete_and_public(site, name, release_of(dataset, "1.1.0"), expected["1.1.0"])


def test_publish_killed_mid_upload_is_never_visible_and_a_rerun_completes_it(
    real_ckan: CkanSite, proxy: StallingProxy, tmp_path: Path
) -> None:
    site, name = real_ckan, "seeds-killed-new"
    dataset = seeds_copy(tmp_path, name)
    release = release_of(dataset, "1.1.0")
    expected = uploads(release, tmp_path / "files")
    with Watcher(site, name) as watcher:
        printed = kill_mid_upload(dataset, "1.1.0", site, proxy, skip=2)
        assert f"upload {expected[2].path}" in printed

        half = site.result("package_show", {"id": name}, token=site.editor_token)
        assert half["private"] is True
        assert [r["name"] for r in half["resources"]] == [f.path for f in expected[:2]]
        refused = anonymous(site, name)
        assert refused.status_code == 403, refused.text
        assert anonymous_search(site, name) == 0
        assert watcher.shown == []

        done = publish(dataset, "1.1.0", site, proxy)
        assert done.returncode == 0, done.stderr
        assert_complete_and_public(site, name, release, expected)
    assert watcher.versions_shown({"1.1.0": expected}) == {"1.1.0"}
    assert watcher.refused, "the watcher asked nothing while the dataset was incomplete"
    assert set(watcher.refused) <= {403, 404}  # 404 before it existed, then 403


def test_publish_update_killed_mid_upload_shows_only_whole_versions(
    real_ckan: CkanSite, proxy: StallingProxy, tmp_path: Path
) -> None:
    site, name = real_ckan, "seeds-killed-update"
    dataset = seeds_copy(tmp_path, name)
    expected = {v: uploads(release_of(dataset, v), tmp_path / v) for v in ("1.0.0", "1.1.0")}
    first = publish(dataset, "1.0.0", site, proxy)
    assert first.returncode == 0, first.stderr
    changed = [
        f for f in expected["1.1.0"] if (f.path, f.sha256) not in {(g.path, g.sha256) for g in expected["1.0.0"]}
    ]
    assert len(changed) >= 2
    with Watcher(site, name) as watcher:
        kill_mid_upload(dataset, "1.1.0", site, proxy, skip=1)  # one changed file replaced, the next one cut
        assert anonymous(site, name).status_code == 403
        done = publish(dataset, "1.1.0", site, proxy)
        assert done.returncode == 0, done.stderr
        assert_complete_and_public(site, name, release_of(dataset, "1.1.0"), expected["1.1.0"])
    assert watcher.versions_shown(expected) <= {"1.0.0", "1.1.0"}


def test_publish_above_max_resource_size_names_the_limit(
    real_ckan: CkanSite, proxy: StallingProxy, tmp_path: Path
) -> None:
    site, name = real_ckan, "seeds-too-large"
    dataset = seeds_copy(tmp_path, name)
    release = release_of(dataset, "1.0.0")
    # sources/ goes into the release zip only; random bytes keep the zip above the limit
    (release.path / "sources" / "scan.bin").write_bytes(os.urandom(site.max_resource_size_mb * 1024 * 1024 * 3 // 2))
    done = publish(dataset, "1.0.0", site, proxy)
    stderr = done.stderr
    assert done.returncode == 2, stderr
    assert f"refused {SEEDS}-1.0.0.zip" in stderr
    assert '"File upload too large"' in stderr
    assert f"ckan.max_resource_size, at most {site.max_resource_size_mb} MB on this site" in stderr
    assert "The metadata is fine" in stderr
    assert "Traceback" not in stderr
    assert anonymous(site, name).status_code == 403  # left private

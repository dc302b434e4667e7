"""eventdata publish --to zenodo against a fake Zenodo that behaves as zenodo.org does (tests/servers/zenodo.py).

The fake follows zenodo/zenodo-rdm's legacy deposit layer: the bucket listing answers 500, list items
lack links.bucket, the files list has bare md5 checksums, creators are stored as persons, licences come
from Zenodo's vocabulary, and 429 answers carry Retry-After. Faults are injected by tests/servers/base.py.
"""

# ruff: noqa: F811  # the fixtures imported from tests/test_publish.py are test parameters of the same name

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eventdata.errors import PublishError
from eventdata.publish import PlannedRequest, find_release, get_publisher
from eventdata.publish.http import HttpClient
from eventdata.publish.record import read_record
from eventdata.publish.zenodo import zenodo_licence
from tests.servers.base import FakeServer, serving
from tests.servers.zenodo import SCOPES, Deposition, FakeZenodo
from tests.test_publish import (  # noqa: F401  # fixtures, found by name
    NAME,
    RELEASES,
    ZENODO_TOKEN,
    assert_secret_absent,
    dataset,
    edit_descriptor,
    isolated_credentials,
    releases,
    run,
    tree,
    zenodo,
    zenodo_api,
)

FAST = {"attempts": 3, "backoff": 0.01, "max_delay": 0.05}

pytestmark = pytest.mark.skipif(len(RELEASES) < 2, reason="needs two committed releases of the seeds dataset")

WRITES = ("POST", "PUT", "DELETE")


def snapshot(deposition: Deposition) -> dict[str, Any]:
    return json.loads(json.dumps({"metadata": deposition.metadata, "creators": deposition.creators})) | {
        "files": dict(deposition.files),
        "submitted": deposition.submitted,
    }


def sent(server: FakeServer, since: int = 0) -> list[tuple[str, str]]:
    """(method, path?query) of every request the server received since the given position of its log."""
    return [(r.method, r.path + (f"?{r.query}" if r.query else "")) for r in server.requests[since:]]


def expected(plan: tuple[PlannedRequest, ...], server: FakeServer, deposition: Deposition) -> list[tuple[str, str]]:
    """The plan's requests with the server's ids filled in, as (method, path?query)."""
    bucket = f"{server.url}/api/files/{deposition.bucket}"
    urls = [(s.method, s.url.replace("{bucket}", bucket).replace("{id}", str(deposition.id))) for s in plan]
    return [(method, url.removeprefix(server.url)) for method, url in urls]


def test_publish_zenodo_seeds_one_concept_record_with_a_version_per_release(
    dataset: Path, zenodo: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api, outputs = zenodo_api(zenodo), []
    for release in releases(dataset):
        result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--base-url", zenodo.url)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    published = api.published()
    assert [d.metadata["version"] for d in published] == [r.version for r in RELEASES]
    assert len({d.conceptrecid for d in published}) == 1
    assert api.drafts() == []
    descriptor = RELEASES[-1].descriptor()
    metadata = published[-1].metadata
    assert metadata == {
        "upload_type": "dataset",
        "title": descriptor["title"],
        "description": descriptor["description"],
        "access_right": "open",
        "license": "cc-by-4.0",
        "publication_date": descriptor["created"][:10],
        "version": RELEASES[-1].version,
        "keywords": descriptor["keywords"],
        "related_identifiers": [
            {"identifier": source["path"], "relation": "isDerivedFrom"}
            for source in descriptor["sources"]
            if str(source.get("path", "")).startswith("http")
        ],
    }
    # the organisation is not sent as a legacy creator (a person) but stored as an organisation
    (put,) = zenodo.calls("PUT", rf"^/api/deposit/depositions/{published[-1].id}$")
    assert json.loads(put.body)["metadata"]["creators"] == []
    assert [d.creators for d in published] == [
        [{"person_or_org": {"type": "organizational", "name": "eventdata maintainers"}}]
    ] * len(RELEASES)
    local = {
        p.rsplit("/", 1)[-1]: data
        for p, data in tree(RELEASES[-1].path).items()
        if p.count("/") <= 1 and not p.startswith(("changes/", "sources/"))
    }
    assert {k: v for k, v in published[-1].files.items() if not k.endswith(".zip")} == local
    assert set(published[-1].files) - set(local) == {f"{NAME}-{RELEASES[-1].version}.zip"}
    record = read_record(releases(dataset)[-1])["publications"][0]
    assert record["doi"] == f"10.5072/zenodo.{published[-1].id}"
    assert record["conceptdoi"] == f"10.5072/zenodo.{published[-1].conceptrecid}"
    assert f"(DOI {record['doi']})" in outputs[-1]
    assert_secret_absent(ZENODO_TOKEN, caplog.text, *outputs, folders=(dataset,))


def test_publish_zenodo_twice_sends_no_request(dataset: Path, zenodo: FakeServer) -> None:
    release = releases(dataset)[0]
    first = get_publisher("zenodo", base_url=zenodo.url).publish(release, dry_run=False)
    before = len(zenodo.requests)
    second = get_publisher("zenodo", base_url=zenodo.url).publish(release, dry_run=False)
    assert (first.created, second.created) == (True, False)
    assert (second.url, second.doi) == (first.url, first.doi)
    assert len(zenodo.requests) == before
    assert len(zenodo_api(zenodo).published()) == 1


def test_publish_zenodo_retries_500_dropped_connections_and_503(dataset: Path, zenodo: FakeServer) -> None:
    zenodo.fault("PUT", r"^/api/files/", "500", skip=1)
    zenodo.fault("PUT", r"^/api/files/", "drop", skip=3)
    zenodo.fault("GET", r"^/api/deposit/depositions$", "503")
    result = get_publisher("zenodo", base_url=zenodo.url, **FAST).publish(releases(dataset)[0], dry_run=False)
    assert result.created
    assert result.doi
    assert [f.hits for f in zenodo.faults] == [1, 1, 1]
    assert len(zenodo_api(zenodo).published()) == 1
    assert zenodo_api(zenodo).drafts() == []


def test_publish_zenodo_failure_mid_upload_then_rerun_resumes_the_same_draft(dataset: Path, zenodo: FakeServer) -> None:
    api, release = zenodo_api(zenodo), releases(dataset)[0]
    zenodo.fault("PUT", r"^/api/files/", "500", skip=2, times=None)
    result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--base-url", zenodo.url)
    assert result.exit_code == 2
    assert "failed after 4 attempts: the server answered 500" in result.stderr
    assert "run the same command again to resume" in result.stderr
    assert api.published() == []
    assert len(api.drafts()) == 1
    draft = api.drafts()[0].id
    assert read_record(release)["pending"] == {
        f"zenodo {zenodo.url}": {"deposition_id": draft, "conceptrecid": str(draft - 1)}
    }
    zenodo.clear_faults()
    uploaded = len(zenodo.calls("PUT", r"^/api/files/"))
    again = get_publisher("zenodo", base_url=zenodo.url, **FAST).publish(release, dry_run=False)
    assert again.created
    assert [d.id for d in api.published()] == [draft]
    assert api.drafts() == []
    assert len(zenodo.calls("PUT", r"^/api/files/")) - uploaded == len(api.published()[0].files) - 2
    assert len(zenodo.calls("POST", r"^/api/deposit/depositions$")) == 1
    assert read_record(release)["pending"] == {}


def test_publish_zenodo_lost_answers_to_create_and_publish_leave_one_version(dataset: Path, zenodo: FakeServer) -> None:
    api = zenodo_api(zenodo)
    api.add_unrelated(60)  # the listing takes several pages
    zenodo.fault("POST", r"^/api/deposit/depositions$", "drop-after")
    zenodo.fault("POST", r"/actions/publish$", "drop-after")
    result = get_publisher("zenodo", base_url=zenodo.url, **FAST).publish(releases(dataset)[0], dry_run=False)
    mine = [d for d in api.depositions.values() if d.metadata.get("title") == RELEASES[0].descriptor()["title"]]
    assert len(mine) == 1
    assert mine[0].submitted
    assert result.doi == f"10.5072/zenodo.{mine[0].id}"
    assert len(zenodo.calls("POST", r"/actions/publish$")) == 1
    assert len(zenodo.calls("GET", r"^/api/deposit/depositions$")) >= 3  # 61 depositions, pages of 25


def test_publish_zenodo_killed_mid_upload_then_rerun_publishes_exactly_once(dataset: Path, zenodo: FakeServer) -> None:
    api, version = zenodo_api(zenodo), RELEASES[0].version
    zenodo.fault("PUT", r"^/api/files/", "stall", skip=2)
    command = [
        sys.executable,
        "-m",
        "eventdata",
        "--project",
        str(dataset),
        "publish",
        version,
        "--to",
        "zenodo",
        "--base-url",
        zenodo.url,
    ]
    env = {**os.environ, "EVENTDATA_ZENODO_TOKEN": ZENODO_TOKEN}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert zenodo.stalled.wait(timeout=40), process.communicate(timeout=5)
    finally:
        process.kill()
        output = process.communicate(timeout=10)
    zenodo.release.set()
    zenodo.clear_faults()
    assert api.published() == []
    assert len(api.drafts()) == 1
    result = run("--project", dataset, "publish", version, "--to", "zenodo", "--base-url", zenodo.url)
    assert result.exit_code == 0, result.output
    assert len(api.published()) == 1
    assert api.drafts() == []
    assert len(zenodo.calls("POST", r"^/api/deposit/depositions$")) == 1
    assert_secret_absent(ZENODO_TOKEN, result.output, *(o.decode() for o in output), folders=(dataset,))


def test_publish_zenodo_rejected_token_is_explained_and_never_shown(
    dataset: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-" + os.urandom(8).hex()
    with serving(FakeZenodo({ZENODO_TOKEN: SCOPES}, echo_token=True)) as server:
        result = run(
            "--project",
            dataset,
            "publish",
            RELEASES[0].version,
            "--to",
            "zenodo",
            "--base-url",
            server.url,
            env={"EVENTDATA_ZENODO_TOKEN": wrong},
        )
    assert result.exit_code == 2
    assert f"Zenodo refused GET {server.url}/api/deposit/depositions" in result.stderr
    assert "(401)" in result.stderr
    assert "check EVENTDATA_ZENODO_TOKEN" in result.stderr
    assert "(token '***')" in result.stderr  # the server echoed it; the message does not
    assert_secret_absent(wrong, result.output, caplog.text, folders=(dataset,))


def test_publish_zenodo_token_without_publish_scope_is_forbidden(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(FakeZenodo({ZENODO_TOKEN: frozenset({"deposit:write"})})) as server:
        monkeypatch.setenv("EVENTDATA_ZENODO_TOKEN", ZENODO_TOKEN)
        with pytest.raises(PublishError, match=r"\(403\).*lacks the deposit:actions scope.*lacks permission") as caught:
            get_publisher("zenodo", base_url=server.url, **FAST).publish(releases(dataset)[0], dry_run=False)
        assert zenodo_api(server).published() == []
        assert len(zenodo_api(server).drafts()) == 1
    assert_secret_absent(ZENODO_TOKEN, str(caught.value))


def test_publish_zenodo_validation_error_names_the_field(dataset: Path, zenodo: FakeServer) -> None:
    zenodo_api(zenodo).licences.discard("cc-by-4.0")  # the server's vocabulary changed since the release
    with pytest.raises(
        PublishError, match=r"\(400\): A validation error occurred\.; metadata\.license: Invalid license"
    ):
        get_publisher("zenodo", base_url=zenodo.url, **FAST).publish(releases(dataset)[0], dry_run=False)


def test_publish_zenodo_token_from_keyring(dataset: Path, zenodo: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = pytest.importorskip("keyring")

    monkeypatch.delenv("EVENTDATA_ZENODO_TOKEN")
    with pytest.raises(PublishError, match="set the environment variable EVENTDATA_ZENODO_TOKEN, or store the token"):
        get_publisher("zenodo", base_url=zenodo.url).publish(releases(dataset)[0], dry_run=False)
    assert zenodo.requests == []
    keyring.set_password("eventdata", "zenodo", ZENODO_TOKEN)
    assert get_publisher("zenodo", base_url=zenodo.url).publish(releases(dataset)[0], dry_run=False).created


# --- the real services (deselected by default) -----------------------------------------------------


@pytest.mark.network
def test_publish_zenodo_sandbox_dry_run_and_token(dataset: Path) -> None:
    """Against sandbox.zenodo.org with a real token in EVENTDATA_ZENODO_SANDBOX_TOKEN: list depositions only."""
    token = os.environ.get("EVENTDATA_ZENODO_SANDBOX_TOKEN")
    if not token:
        pytest.skip("set EVENTDATA_ZENODO_SANDBOX_TOKEN to run against sandbox.zenodo.org")
    from eventdata.publish.zenodo import SANDBOX_BASE_URL, ZenodoPublisher, describe_error

    publisher = ZenodoPublisher(base_url=SANDBOX_BASE_URL)
    assert publisher.plan(releases(dataset)[0], [])
    client = HttpClient(
        "Zenodo", SANDBOX_BASE_URL, {"Authorization": f"Bearer {token}"}, (token,), "ENV", describe_error
    )
    assert isinstance(client.json(client.request("GET", publisher.api, params={"size": 1})), list)


# --- the real service's behaviour ------------------------------------------------------------------


def zenodo_publish(server: FakeServer, release: Any, **options: Any) -> Any:
    return get_publisher("zenodo", base_url=server.url, **{**FAST, **options}).publish(release, dry_run=False)


def test_publish_zenodo_seeds_1_0_0_then_an_interrupted_1_1_0_then_nothing(dataset: Path, zenodo: FakeServer) -> None:
    """Done when: both releases become versions of one concept record, an unrelated draft is untouched,
    an interrupted upload resumes, and a re-run sends nothing."""
    api = zenodo_api(zenodo)
    api.null_conceptrecid = True  # a fresh first-version draft answers conceptrecid null
    first, second = releases(dataset)[:2]  # 1.0.0 and 1.1.0
    stranger = api.add_draft(
        {"title": first.descriptor()["title"], "version": first.version, "upload_type": "dataset", "creators": []},
        {"notes.txt": b"someone else's draft"},
    )
    stranger_before = snapshot(stranger)
    assert zenodo_publish(zenodo, first).created
    zenodo.fault("PUT", r"^/api/files/.+/events\.parquet$", "500", times=None)  # mid-upload, every attempt
    with pytest.raises(PublishError, match="run the same command again to resume"):
        zenodo_publish(zenodo, second)
    assert [d.metadata["version"] for d in api.published()] == [first.version]
    zenodo.clear_faults()
    assert zenodo_publish(zenodo, second).created
    published = api.published()
    assert [d.metadata["version"] for d in published] == [first.version, second.version]
    assert len({d.conceptrecid for d in published}) == 1
    assert [d.id for d in api.drafts()] == [stranger.id]
    assert snapshot(stranger) == stranger_before
    assert not [r for r in zenodo.requests if str(stranger.id) in r.path or stranger.bucket in r.path]
    assert not zenodo.calls("GET", r"^/api/files/[^/]+$")  # the bucket listing (500 on zenodo.org) is never asked
    records = [read_record(r)["publications"][0] for r in (first, second)]
    assert [r["conceptrecid"] for r in records] == [str(published[0].conceptrecid)] * 2
    before = len(zenodo.requests)
    for release in (first, second):
        result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--base-url", zenodo.url)
        assert result.exit_code == 0, result.output
        assert "nothing sent" in result.stderr
    assert zenodo.requests[before:] == []


def test_publish_zenodo_dry_run_plan_is_what_is_sent(dataset: Path, zenodo: FakeServer) -> None:
    api = zenodo_api(zenodo)
    for release in releases(dataset):
        publisher = get_publisher("zenodo", base_url=zenodo.url, **FAST)
        plan = publisher.publish(release, dry_run=True).plan
        start = len(zenodo.requests)
        assert start == len(sent(zenodo))
        publisher.publish(release, dry_run=False)
        draft = api.published()[-1]
        assert sent(zenodo, start) == expected(plan, zenodo, draft)
    # the newest version deletes nothing and uploads only what changed since the version before it
    writes = [s for s in plan if s.method in WRITES]
    assert ("DELETE" in {s.method for s in writes}) == bool(set(api.published()[0].files) - set(draft.files))
    assert len([s for s in writes if s.action == "upload"]) < len(draft.files)


def test_publish_zenodo_list_items_without_links_and_answers_without_action_links(
    dataset: Path, zenodo: FakeServer
) -> None:
    """A draft of the family opened elsewhere is found in the list (no links there), fetched, and published."""
    api, (first, second) = zenodo_api(zenodo), releases(dataset)[:2]
    zenodo_publish(zenodo, first)
    api.lean_links = True  # no links.publish / newversion in any answer
    opened = api.client_newversion(api.published()[0])
    result = zenodo_publish(zenodo, second)
    assert result.created
    assert [d.id for d in api.published()] == [api.published()[0].id, opened.id]
    assert zenodo.calls("GET", rf"^/api/deposit/depositions/{opened.id}$")
    assert zenodo.calls("POST", rf"^/api/deposit/depositions/{opened.id}/actions/publish$")
    assert not zenodo.calls("POST", r"/actions/newversion$")


def test_publish_zenodo_put_without_checksum_is_verified_by_the_files_list(dataset: Path, zenodo: FakeServer) -> None:
    api, release = zenodo_api(zenodo), releases(dataset)[0]
    api.checksum_in_put = False
    api.damage.add("events.csv")  # stored with one byte changed, and the PUT answer says nothing
    with pytest.raises(PublishError, match=r"holds other files than the release \(events\.csv\)"):
        zenodo_publish(zenodo, release)
    assert api.published() == []
    api.damage.clear()
    uploaded = len(zenodo.calls("PUT", r"^/api/files/"))
    assert zenodo_publish(zenodo, release).created
    assert len(zenodo.calls("PUT", r"^/api/files/")) - uploaded == 1  # only the damaged file again
    local = (release.path / "data" / "events.csv").read_bytes()
    assert api.published()[0].files["events.csv"] == local


def test_publish_zenodo_without_bucket_link_uploads_through_the_files_endpoint(
    dataset: Path, zenodo: FakeServer
) -> None:
    api, release = zenodo_api(zenodo), releases(dataset)[0]
    api.bucket_links = False  # zenodo/zenodo#2286: a draft without links.bucket
    assert zenodo_publish(zenodo, release).created
    assert not zenodo.calls("PUT", r"^/api/files/")
    assert len(zenodo.calls("POST", r"/files$")) == len(api.published()[0].files)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_publish_zenodo_honours_retry_after(dataset: Path, zenodo: FakeServer, form: str) -> None:
    api = zenodo_api(zenodo)
    wait: float | datetime = 1 if form == "seconds" else datetime.now(UTC) + timedelta(seconds=2)
    api.throttle("GET", r"^/api/deposit/depositions$", wait)
    assert zenodo_publish(zenodo, releases(dataset)[0], max_delay=5.0).created
    (throttle,) = api.throttles
    (answered,) = throttle.answered
    again = next(t for t, method, path in api.arrivals if t > answered and path == "/api/deposit/depositions")
    assert 0.9 <= again - answered < 5.0  # FAST's backoff alone would wait 0.01 s


def test_publish_zenodo_creators_persons_and_organisations(dataset: Path, zenodo: FakeServer) -> None:
    api, release = zenodo_api(zenodo), releases(dataset)[0]
    edit_descriptor(
        release,
        contributors=[
            {
                "givenName": "Ada",
                "familyName": "Lovelace",
                "path": "https://orcid.org/0000-0002-1825-0097",
                "organization": "Analytical Engines Ltd",
                "roles": ["creator"],
            },
            {"title": "Conflict Observatory", "roles": ["creator"]},
            {"title": "Someone Helpful", "roles": ["contributor"]},
        ],
    )
    assert zenodo_publish(zenodo, release).created
    (deposition,) = api.published()
    assert deposition.creators == [
        {
            "person_or_org": {
                "type": "personal",
                "family_name": "Lovelace",
                "given_name": "Ada",
                "name": "Lovelace, Ada",
                "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}],
            },
            "affiliations": [{"name": "Analytical Engines Ltd"}],
        },
        {"person_or_org": {"type": "organizational", "name": "Conflict Observatory"}},
    ]
    (update,) = [r for r in zenodo.calls("PUT", rf"^/api/deposit/depositions/{deposition.id}$")]
    assert json.loads(update.body)["metadata"]["creators"] == [
        {"name": "Lovelace, Ada", "affiliation": "Analytical Engines Ltd", "orcid": "0000-0002-1825-0097"}
    ]


def test_fake_zenodo_stores_an_organisation_sent_as_a_legacy_creator_as_a_person(zenodo: FakeServer) -> None:
    """What the publisher avoids: the legacy API turns creators[].name into a personal family name."""
    import requests

    headers = {"Authorization": f"Bearer {ZENODO_TOKEN}"}
    metadata = {"title": "x", "creators": [{"name": "Conflict Observatory", "type": "organizational"}]}
    answer = requests.post(f"{zenodo.url}/api/deposit/depositions", json={"metadata": metadata}, headers=headers)
    assert answer.status_code == 201
    (stored,) = zenodo_api(zenodo).drafts()
    assert stored.creators == [
        {"person_or_org": {"type": "personal", "family_name": "Conflict Observatory", "name": "Conflict Observatory"}}
    ]
    listed = requests.get(f"{zenodo.url}/api/deposit/depositions", headers=headers).json()
    assert "bucket" not in listed[0]["links"]
    assert "bucket" in requests.get(listed[0]["links"]["self"], headers=headers).json()["links"]


def test_publish_zenodo_check_refuses_a_licence_outside_zenodos_vocabulary(dataset: Path, zenodo: FakeServer) -> None:
    assert zenodo_licence("CC-BY-4.0") == "cc-by-4.0"
    assert zenodo_licence("ODbL-1.0") == "odbl-1.0"
    assert zenodo_licence("cc-zero") == "cc0-1.0"  # an alias of the legacy API
    release = releases(dataset)[0]
    edit_descriptor(
        release,
        licenses=[{"name": "CC-BY-3.0-IGO", "path": "https://creativecommons.org/licenses/by/3.0/igo/"}],
        contributors=[{"givenName": "Ada", "roles": ["creator"]}],
    )
    result = run("--project", dataset, "publish", release.version, "--to", "zenodo", "--base-url", zenodo.url)
    assert result.exit_code == 1
    assert "licenses='CC-BY-3.0-IGO' [enum-error] Zenodo does not accept the licence" in result.stderr
    assert "creator 1 has givenName 'Ada' but no familyName" in result.stderr
    assert zenodo.requests == []


def test_publish_zenodo_a_recorded_draft_of_another_concept_is_refused(dataset: Path, zenodo: FakeServer) -> None:
    api, (first, second) = zenodo_api(zenodo), releases(dataset)[:2]
    zenodo_publish(zenodo, first)
    other = api.add_draft({"title": "Not ours", "version": second.version}, {"x.txt": b"x"})
    before, start = snapshot(other), len(zenodo.requests)
    record_path = first.path.parent / "publications" / f"{second.version}.json"
    concept = str(api.published()[0].conceptrecid)
    key = f"zenodo {zenodo.url}"
    pending = {"deposition_id": other.id, "conceptrecid": concept}
    record_path.write_text(
        json.dumps({"name": NAME, "version": second.version, "publications": [], "pending": {key: pending}})
    )
    with pytest.raises(PublishError, match=f"belongs to concept record {other.conceptrecid}, not to the recorded"):
        zenodo_publish(zenodo, find_release(dataset / "dist-data", second.version))
    assert snapshot(other) == before
    assert [method for method, _ in sent(zenodo, start)] == ["GET"]


def test_publish_zenodo_after_a_discarded_draft_starts_again(dataset: Path, zenodo: FakeServer) -> None:
    """The recorded draft was discarded on the web (404 now): a new one is made, the record updated."""
    import requests

    api, release = zenodo_api(zenodo), releases(dataset)[0]
    zenodo.fault("PUT", r"^/api/files/", "500", skip=1, times=None)
    with pytest.raises(PublishError):
        zenodo_publish(zenodo, release)
    (draft,) = api.drafts()
    headers = {"Authorization": f"Bearer {ZENODO_TOKEN}"}
    answer = requests.post(f"{zenodo.url}/api/deposit/depositions/{draft.id}/actions/discard", headers=headers)
    assert answer.status_code == 204
    zenodo.clear_faults()
    assert zenodo_publish(zenodo, release).created
    (done,) = api.published()
    assert done.id != draft.id
    assert read_record(release)["publications"][0]["record_id"] == done.id

"""Publish to Zenodo (or the sandbox, or a self-hosted Zenodo): one version of a concept record per release.

The REST deposit API (developers.zenodo.org): the first release creates a deposition; each later one
asks the latest published version for a new version (POST …/actions/newversion, whose draft is
links.latest_draft). Metadata is mapped from datapackage.json, files are PUT into the draft's
bucket and their md5 compared with what the server reports, then the draft is published.

Resuming: the draft's id is recorded before anything is uploaded, and before creating anything the
server is asked for a deposition of this version, so a re-run after a failure continues the same
draft (or adopts a version whose publication answer was lost) and never publishes a second one.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from eventdata.catalog import Release
from eventdata.errors import PublishError, Report
from eventdata.publish import PlannedRequest, Progress, PublishResult
from eventdata.publish.http import HttpClient, RejectedError, RetryPolicy, TransientError, require_token
from eventdata.publish.manifest import (
    ReleaseFile,
    check_upload_names,
    common_problems,
    contributor_name,
    creators,
    fix_hint,
    problem,
    release_files,
    repository_files,
    text,
)
from eventdata.publish.record import earlier_publications, pending, published, save_pending, save_published

DEFAULT_BASE_URL = "https://zenodo.org"
SANDBOX_BASE_URL = "https://sandbox.zenodo.org"
TOKEN_ENV = "EVENTDATA_ZENODO_TOKEN"
PAGE_SIZE = 100
#: An SPDX licence identifier; Zenodo's licence ids are the same in lower case (cc-by-4.0, cc0-1.0, odbl-1.0).
SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


class ZenodoPublisher:
    """Zenodo's deposit API at base_url; the token comes from EVENTDATA_ZENODO_TOKEN or the keyring."""

    name = "zenodo"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        progress: Progress | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = f"{self.base_url}/api/deposit/depositions"
        self.key = f"zenodo {self.base_url}"
        self.progress = progress or (lambda _line: None)
        self.policy = RetryPolicy(attempts, backoff, max_delay)

    # --- offline ---------------------------------------------------------------------------------

    def check(self, release: Release) -> Report:
        """Title, description, creators, licence (an SPDX id), date, version, and file names Zenodo can hold."""
        files = release_files(release)
        descriptor = release.descriptor()
        problems = common_problems(release, descriptor, "Zenodo", need_creators=True)
        licences = descriptor.get("licenses") or []
        if licences and not SPDX_ID.match(str(licences[0].get("name", ""))):
            problems.append(
                problem(
                    release,
                    "licenses",
                    "Zenodo needs the licence as an SPDX identifier in licenses[0].name "
                    f"(such as CC-BY-4.0). {fix_hint(release)}",
                    code="pattern-error",
                    value=licences[0].get("name"),
                )
            )
        problems += check_upload_names(release, files, "Zenodo")
        return Report(problems=tuple(problems), files=(str(release.descriptor_path),))

    def metadata(self, release: Release) -> dict[str, Any]:
        """Zenodo deposit metadata from datapackage.json (call check first: nothing missing is filled in)."""
        descriptor = release.descriptor()
        people = []
        for contributor in creators(descriptor):
            person: dict[str, Any] = {"name": contributor_name(contributor)}
            if contributor.get("organization"):
                person["affiliation"] = contributor["organization"]
            path = str(contributor.get("path", ""))
            if "orcid.org/" in path:
                person["orcid"] = path.rsplit("/", 1)[-1]
            people.append(person)
        metadata: dict[str, Any] = {
            "upload_type": "dataset",
            "title": text(descriptor, "title"),
            "description": text(descriptor, "description"),
            "creators": people,
            # The tool publishes open data: what may be done with it is the licence's business.
            "access_right": "open",
            "license": str(descriptor["licenses"][0]["name"]).lower(),
            "publication_date": text(descriptor, "created")[:10],
            "version": release.version,
        }
        if descriptor.get("keywords"):
            metadata["keywords"] = list(descriptor["keywords"])
        related = []
        if text(descriptor, "homepage"):
            related.append({"identifier": text(descriptor, "homepage"), "relation": "isDocumentedBy"})
        for source in descriptor.get("sources", []) or []:
            path = str(source.get("path", ""))
            if path.startswith(("http://", "https://")):
                related.append({"identifier": path, "relation": "isDerivedFrom"})
        if related:
            metadata["related_identifiers"] = related
        return metadata

    def plan(self, release: Release, uploads: list[ReleaseFile]) -> tuple[PlannedRequest, ...]:
        """The requests a publication sends, worked out offline ({id} and {bucket} are the server's)."""
        state = pending(release, self.key)
        earlier = earlier_publications(release, self.key)
        steps = [PlannedRequest("GET", f"{self.api}?all_versions=true", "look for a deposition of this version")]
        if state.get("deposition_id"):
            steps.append(PlannedRequest("GET", f"{self.api}/{state['deposition_id']}", "resume the draft"))
        elif earlier:
            latest = earlier[-1]["record_id"]
            steps.append(PlannedRequest("POST", f"{self.api}/{latest}/actions/newversion", "new version draft"))
        else:
            steps.append(PlannedRequest("POST", self.api, "create the concept record's first version"))
        steps.append(PlannedRequest("PUT", f"{self.api}/{{id}}", "metadata from datapackage.json"))
        for f in uploads:
            steps.append(PlannedRequest("PUT", f"{{bucket}}/{f.path}", "upload", f.path, f.bytes, f.sha256))
        steps.append(PlannedRequest("GET", f"{self.api}/{{id}}/files", "compare checksums with the server's"))
        steps.append(PlannedRequest("POST", f"{self.api}/{{id}}/actions/publish", "publish"))
        return tuple(steps)

    # --- online ----------------------------------------------------------------------------------

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        if not self.check(release).valid:
            raise PublishError(
                f"{release.descriptor_path} is not ready for Zenodo: run the check and fix what it lists."
            )
        files = release_files(release)
        done = published(release, self.key)
        if done is not None:
            return PublishResult(self.name, done.get("url"), done.get("doi"), created=False)
        with tempfile.TemporaryDirectory(prefix="eventdata-zenodo-") as scratch:
            uploads = repository_files(release, files, Path(scratch))
            plan = self.plan(release, uploads)
            if dry_run:
                return PublishResult(self.name, None, None, created=False, plan=plan)
            metadata = self.metadata(release)
            with self._client() as client:
                deposition = self._draft(client, release, metadata)
                if deposition.get("submitted"):
                    return self._finish(release, deposition, created=False, plan=plan)
                state = {"deposition_id": deposition["id"], "conceptrecid": deposition.get("conceptrecid")}
                save_pending(release, self.key, state)
                client.request("PUT", deposition["links"]["self"], json={"metadata": metadata})
                self._sync_files(client, deposition, uploads)
                return self._finish(release, self._publish(client, deposition), created=True, plan=plan)

    def _client(self) -> HttpClient:
        token = require_token(TOKEN_ENV, "zenodo")
        return HttpClient(
            "Zenodo",
            self.base_url,
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            (token,),
            TOKEN_ENV,
            describe_error,
            self.policy,
        )

    def _list(self, client: HttpClient) -> list[dict[str, Any]]:
        """Every deposition of the token's owner, all versions, drafts included (page by page)."""
        found: list[dict[str, Any]] = []
        for page in range(1, 10_000):
            params = {"all_versions": "true", "sort": "mostrecent", "size": PAGE_SIZE, "page": page}
            response = client.request("GET", self.api, params=params)
            batch = client.json(response)
            found.extend(batch)
            # Zenodo sends Link headers; the server may also cap the page size below the one asked for.
            more = "next" in response.links if "Link" in response.headers else len(batch) == PAGE_SIZE
            if not batch or not more:
                break
        return found

    def _draft(self, client: HttpClient, release: Release, metadata: dict[str, Any]) -> dict[str, Any]:
        """The deposition to continue: the recorded draft, one of this version on the server, or a new one."""
        state = pending(release, self.key)
        if state.get("deposition_id"):
            try:
                recorded: dict[str, Any] = client.json(client.request("GET", f"{self.api}/{state['deposition_id']}"))
            except RejectedError as err:
                if err.status not in (404, 410):
                    raise
            else:
                return recorded
        depositions = self._list(client)
        earlier = earlier_publications(release, self.key)
        concept = str(earlier[-1]["conceptrecid"]) if earlier else None
        if concept is None:  # no record of an earlier version here: the server may still have one of this title
            same_title = [d for d in depositions if d.get("submitted") and d.get("title") == metadata["title"]]
            concept = str(same_title[0]["conceptrecid"]) if same_title else None
        family = [d for d in depositions if concept is not None and str(d.get("conceptrecid")) == concept]
        if concept is None:
            family = [d for d in depositions if (d.get("metadata") or {}).get("title") == metadata["title"]]
        mine = [d for d in family if (d.get("metadata") or {}).get("version") == release.version]
        if mine:  # a published one first: its publication answer was lost, so adopt it
            return sorted(mine, key=lambda d: not d.get("submitted"))[0]
        if concept is not None:
            versions = [d for d in family if d.get("submitted")]
            latest = max(versions, key=lambda d: int(d["id"]))["id"] if versions else earlier[-1]["record_id"]
            self.progress(f"new version of Zenodo record {latest}")
            answer = client.json(client.request("POST", f"{self.api}/{latest}/actions/newversion", retry=True))
            draft: dict[str, Any] = client.json(client.request("GET", answer["links"]["latest_draft"]))
            return draft
        self.progress("create a Zenodo deposition")
        try:
            created: dict[str, Any] = client.json(client.request("POST", self.api, json={"metadata": metadata}))
        except TransientError:
            # The server may have created it before the answer was lost: look before creating again.
            again = [d for d in self._list(client) if (d.get("metadata") or {}).get("title") == metadata["title"]]
            again = [d for d in again if (d.get("metadata") or {}).get("version") == release.version]
            if again:
                return again[0]
            created = client.json(client.request("POST", self.api, json={"metadata": metadata}))
        return created

    def _sync_files(self, client: HttpClient, deposition: dict[str, Any], uploads: list[ReleaseFile]) -> None:
        """Make the draft's bucket hold exactly the release's files, then compare every checksum with the server's."""
        bucket = deposition["links"]["bucket"]
        contents = client.json(client.request("GET", bucket)).get("contents", [])
        remote = {item["key"]: _md5(item.get("checksum")) for item in contents}
        wanted = {f.path: f for f in uploads}
        for key in sorted(set(remote) - set(wanted)):
            client.request("DELETE", f"{bucket}/{quote(key)}")
        for name, f in wanted.items():
            if remote.get(name) == f.md5:
                continue
            self.progress(f"upload {f.path} ({f.bytes} bytes) to Zenodo")
            answer = client.json(client.request("PUT", f"{bucket}/{quote(name)}", body=f.local))
            if _md5(answer.get("checksum")) != f.md5:
                raise PublishError(
                    f"Zenodo stored {name} with checksum {answer.get('checksum')}, not md5:{f.md5} (the upload was "
                    "damaged). Nothing was published: run the same command again to upload it anew."
                )
        listing = client.json(client.request("GET", f"{deposition['links']['self']}/files"))
        server = {item["filename"]: _md5(item.get("checksum")) for item in listing}
        expected = {name: f.md5 for name, f in wanted.items()}
        if server != expected:
            differ = sorted(k for k in set(server) | set(expected) if server.get(k) != expected.get(k))
            raise PublishError(
                f"Zenodo's draft {deposition['id']} holds other files than the release ({', '.join(differ)}). "
                "Nothing was published: run the same command again."
            )

    def _publish(self, client: HttpClient, deposition: dict[str, Any]) -> dict[str, Any]:
        """Publish the draft; after an unclear failure ask the server whether it happened before trying again."""
        for attempt in range(1, self.policy.attempts):
            try:
                answer: dict[str, Any] = client.json(client.request("POST", deposition["links"]["publish"]))
            except TransientError:
                current: dict[str, Any] = client.json(client.request("GET", deposition["links"]["self"]))
                if current.get("submitted"):
                    return current
                time.sleep(self.policy.delay(attempt))
            else:
                return answer
        last: dict[str, Any] = client.json(client.request("POST", deposition["links"]["publish"]))
        return last

    def _finish(
        self, release: Release, deposition: dict[str, Any], *, created: bool, plan: tuple[PlannedRequest, ...]
    ) -> PublishResult:
        links = deposition.get("links", {})
        url = links.get("record_html") or deposition.get("record_url") or links.get("html")
        entry = {
            "target": self.name,
            "url": url,
            "doi": deposition.get("doi"),
            "conceptdoi": deposition.get("conceptdoi"),
            "record_id": deposition.get("record_id", deposition.get("id")),
            "conceptrecid": deposition.get("conceptrecid"),
        }
        save_published(release, self.key, entry)
        return PublishResult(self.name, url, deposition.get("doi"), created=created, plan=plan)


def _md5(checksum: Any) -> str:
    return str(checksum or "").removeprefix("md5:")


def describe_error(response: requests.Response) -> str:
    """Zenodo's error body: {"message", "status", "errors": [{"field", "message"}]}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if not isinstance(body, dict):
        return str(body)[:200]
    details = [
        f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    message = str(body.get("message", "")).strip()
    return "; ".join([message, *details]) if details else message

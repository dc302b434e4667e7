"""Publish to Zenodo (or the sandbox, or a self-hosted Zenodo): one version of a concept record per release.

Zenodo's legacy deposit API, as InvenioRDM serves it today (zenodo/zenodo-rdm, site/zenodo_rdm/legacy/):
the first release creates a deposition; each later one asks a published version of the recorded concept
record for a new version (POST …/actions/newversion, which answers with the new draft and its copy of
the version's files). Metadata is mapped from datapackage.json; the draft's files are read from
GET …/depositions/{id}/files (bare md5 checksums; the bucket listing answers 500 on zenodo.org), the
missing ones are PUT into the draft's bucket, every checksum is compared with that files list, then the
draft is published. Action URLs are built from the deposition id when an answer lacks them.

Creators: the legacy API stores every creator as a person, so persons go there as "Family, Given"
(ORCID from an orcid.org path, affiliation from `organization`), and when a creator is an organisation
(a contributor without familyName/givenName) the creators are set through InvenioRDM's draft API
(PUT /api/records/{id}/draft, person_or_org type "organizational"), never as a made-up person.

Resuming: the draft's id and concept record are recorded before anything is uploaded. A re-run continues
the recorded draft, or an open draft of the recorded concept record; a deposition outside that family is
never adopted or changed, and a null conceptrecid never identifies a family.
"""

from __future__ import annotations

import json
import tempfile
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from eventdata import progress
from eventdata.catalog import Release
from eventdata.errors import Problem, PublishError, Report
from eventdata.publish import PlannedRequest, Progress, PublishResult
from eventdata.publish.http import HttpClient, RejectedError, RetryPolicy, TransientError, require_token
from eventdata.publish.manifest import (
    ReleaseFile,
    check_upload_names,
    common_problems,
    creators,
    fix_hint,
    problem,
    release_files,
    repository_files,
    text,
)
from eventdata.publish.record import (
    check_recordable,
    earlier_publications,
    pending,
    published,
    save_pending,
    save_published,
)

DEFAULT_BASE_URL = "https://zenodo.org"
SANDBOX_BASE_URL = "https://sandbox.zenodo.org"
TOKEN_ENV = "EVENTDATA_ZENODO_TOKEN"
PAGE_SIZE = 100
LIST_PARAMS = {"all_versions": "true", "sort": "mostrecent", "size": PAGE_SIZE}


@cache
def _vocabulary() -> dict[str, Any]:
    """Zenodo's licence ids (eventdata/publish/zenodo_licences.json, copied from zenodo/zenodo-rdm)."""
    data: dict[str, Any] = json.loads(
        resources.files("eventdata.publish").joinpath("zenodo_licences.json").read_text(encoding="utf-8")
    )
    return data


def zenodo_licence(name: str) -> str | None:
    """The InvenioRDM licence Zenodo stores for a licence id, or None when Zenodo refuses the id.

    As legacy_to_rdm in zenodo/zenodo-rdm legacy/zenodo_legacy/licenses.py: lower-case and strip,
    apply an alias, look it up; else accept an exact legacy id (stored as a licence title).
    """
    vocabulary = _vocabulary()
    normalized = name.lower().strip()
    found = vocabulary["to_rdm"].get(vocabulary["aliases"].get(normalized, normalized).lower())
    if found is None and name in vocabulary["legacy_ids"]:
        return name
    return str(found) if found is not None else None


def is_person(contributor: dict[str, Any]) -> bool:
    """A person has familyName or givenName (Data Package v2); a contributor with only a title is an organisation."""
    return bool(contributor.get("familyName") or contributor.get("givenName"))


def _orcid(contributor: dict[str, Any]) -> str | None:
    path = str(contributor.get("path", ""))
    return path.rstrip("/").rsplit("/", 1)[-1] if "orcid.org/" in path else None


def _concept(value: Any) -> str | None:
    """A conceptrecid as text; None for a missing or null one (which identifies nothing)."""
    return None if value is None or str(value).strip() in ("", "None", "null") else str(value)


def _md5(checksum: Any) -> str:
    return str(checksum or "").removeprefix("md5:")


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
        """Title, description, creators, a licence from Zenodo's vocabulary, date, version, file names."""
        files = release_files(release)
        descriptor = release.descriptor()
        problems = common_problems(release, descriptor, "Zenodo", need_creators=True)
        licences = descriptor.get("licenses") or []
        name = str(licences[0].get("name") or "") if licences else ""
        if licences and zenodo_licence(name) is None:
            problems.append(
                problem(
                    release,
                    "licenses",
                    f"Zenodo does not accept the licence {name!r}: licenses[0].name must be one of Zenodo's licence "
                    "ids (SPDX ids such as CC-BY-4.0, CC0-1.0, ODbL-1.0; the list is "
                    f"eventdata/publish/zenodo_licences.json). {fix_hint(release)}",
                    code="enum-error",
                    value=licences[0].get("name"),
                )
            )
        problems += self._creator_problems(release, descriptor)
        problems += check_upload_names(release, files, "Zenodo")
        return Report(problems=tuple(problems), files=(str(release.descriptor_path),))

    @staticmethod
    def _creator_problems(release: Release, descriptor: dict[str, Any]) -> list[Problem]:
        found = []
        for n, contributor in enumerate(creators(descriptor)):
            if is_person(contributor) and not str(contributor.get("familyName") or "").strip():
                found.append(
                    problem(
                        release,
                        "contributors",
                        f"Zenodo stores a person by family name: creator {n + 1} has givenName "
                        f"{contributor.get('givenName')!r} but no familyName. {fix_hint(release)}",
                        value=contributor.get("givenName"),
                    )
                )
            elif not is_person(contributor) and not str(contributor.get("title") or "").strip():
                found.append(problem(release, "contributors", f"Creator {n + 1} has no name. {fix_hint(release)}"))
        return found

    def metadata(self, release: Release) -> dict[str, Any]:
        """Legacy deposit metadata from datapackage.json (call check first: nothing missing is filled in).

        creators holds the persons only: the legacy API would store an organisation as a person
        (see rdm_creators for datasets with organisations among their creators).
        """
        descriptor = release.descriptor()
        people = []
        for contributor in creators(descriptor):
            if not is_person(contributor):
                continue
            family, given = str(contributor.get("familyName") or "").strip(), str(contributor.get("givenName") or "")
            person: dict[str, Any] = {"name": f"{family}, {given.strip()}" if given.strip() else family}
            if contributor.get("organization"):
                person["affiliation"] = contributor["organization"]
            if orcid := _orcid(contributor):
                person["orcid"] = orcid
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

    def rdm_creators(self, release: Release) -> list[dict[str, Any]] | None:
        """All creators in InvenioRDM's form (persons and organisations, in order), or None when all are persons."""
        found = creators(release.descriptor())
        if all(is_person(c) for c in found):
            return None
        converted = []
        for contributor in found:
            if not is_person(contributor):
                converted.append(
                    {"person_or_org": {"type": "organizational", "name": str(contributor["title"]).strip()}}
                )
                continue
            person: dict[str, Any] = {"type": "personal", "family_name": str(contributor["familyName"]).strip()}
            if str(contributor.get("givenName") or "").strip():
                person["given_name"] = str(contributor["givenName"]).strip()
            if orcid := _orcid(contributor):
                person["identifiers"] = [{"scheme": "orcid", "identifier": orcid}]
            creator: dict[str, Any] = {"person_or_org": person}
            if contributor.get("organization"):
                creator["affiliations"] = [{"name": contributor["organization"]}]
            converted.append(creator)
        return converted

    def plan(self, release: Release, uploads: list[ReleaseFile]) -> tuple[PlannedRequest, ...]:
        """The requests a publication sends, worked out offline ({id} and {bucket} are the server's).

        For a new version the draft starts with the previous version's files (as recorded when it was
        published): those the release no longer has are deleted, unchanged ones are not uploaded again.
        """
        state = pending(release, self.key)
        earlier = earlier_publications(release, self.key)
        previous: dict[str, str] = {}
        if state.get("deposition_id"):
            steps = [PlannedRequest("GET", f"{self.api}/{state['deposition_id']}", "resume the recorded draft")]
        else:
            steps = [PlannedRequest("GET", self._list_url(1), "look for an open draft of the concept record")]
            if earlier:
                latest = earlier[-1]["record_id"]
                steps.append(PlannedRequest("POST", f"{self.api}/{latest}/actions/newversion", "new version draft"))
                previous = dict(earlier[-1].get("files") or {})
            else:
                steps.append(PlannedRequest("POST", self.api, "create the concept record's first version"))
        steps.append(PlannedRequest("PUT", f"{self.api}/{{id}}", "metadata from datapackage.json"))
        if self.rdm_creators(release) is not None:
            draft = f"{self.base_url}/api/records/{{id}}/draft"
            steps.append(PlannedRequest("GET", draft, "read the draft (InvenioRDM API)"))
            steps.append(PlannedRequest("PUT", draft, "creators with organisations as organisations"))
        steps.append(PlannedRequest("GET", f"{self.api}/{{id}}/files", "the draft's files and md5 checksums"))
        wanted = {f.path for f in uploads}
        for name in sorted(set(previous) - wanted):
            steps.append(PlannedRequest("DELETE", f"{{bucket}}/{quote(name)}", "not in this version"))
        for f in uploads:
            if previous.get(f.path) != f.md5:
                steps.append(PlannedRequest("PUT", f"{{bucket}}/{quote(f.path)}", "upload", f.path, f.bytes, f.sha256))
        steps.append(PlannedRequest("GET", f"{self.api}/{{id}}/files", "compare every md5 with the server's"))
        steps.append(PlannedRequest("POST", f"{self.api}/{{id}}/actions/publish", "publish"))
        return tuple(steps)

    def _list_url(self, page: int) -> str:
        query = "&".join(f"{k}={v}" for k, v in {**LIST_PARAMS, "page": page}.items())
        return f"{self.api}?{query}"

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
            check_recordable(release)
            metadata = self.metadata(release)
            with self._client() as client:
                deposition = self._draft(client, release, metadata)
                if deposition.get("submitted"):
                    return self._finish(release, deposition, uploads, created=False, plan=plan)
                draft_id = deposition["id"]
                state = pending(release, self.key)
                same = state.get("deposition_id") == draft_id  # else a recorded concept may be a discarded draft's
                concept = _concept(deposition.get("conceptrecid")) or (
                    _concept(state.get("conceptrecid")) if same else None
                )
                save_pending(release, self.key, {"deposition_id": draft_id, "conceptrecid": concept})
                client.request("PUT", f"{self.api}/{draft_id}", json={"metadata": metadata})
                if (organised := self.rdm_creators(release)) is not None:
                    self._set_rdm_creators(client, draft_id, organised)
                self._sync_files(client, deposition, uploads)
                return self._finish(release, self._publish(client, deposition), uploads, created=True, plan=plan)

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

    def _get(self, client: HttpClient, deposition_id: Any) -> dict[str, Any]:
        found: dict[str, Any] = client.json(client.request("GET", f"{self.api}/{deposition_id}"))
        return found

    def _list(self, client: HttpClient) -> list[dict[str, Any]]:
        """Every deposition of the token's owner, all versions, drafts included (page by page)."""
        found: list[dict[str, Any]] = []
        for page in range(1, 10_000):
            response = client.request("GET", self.api, params={**LIST_PARAMS, "page": page})
            batch = client.json(response)
            found.extend(batch)
            # Zenodo sends Link headers; the server may also cap the page size below the one asked for.
            more = "next" in response.links if "Link" in response.headers else len(batch) == PAGE_SIZE
            if not batch or not more:
                break
        return found

    def _draft(self, client: HttpClient, release: Release, metadata: dict[str, Any]) -> dict[str, Any]:
        """The deposition to continue: the recorded draft, the recorded family's open draft, a new version or a new one.

        List items lack links (and the bucket), so an adopted one is fetched by id.
        """
        state = pending(release, self.key)
        earlier = earlier_publications(release, self.key)
        concept = _concept(state.get("conceptrecid")) or (
            _concept(earlier[-1].get("conceptrecid")) if earlier else None
        )
        if state.get("deposition_id"):
            try:
                recorded = self._get(client, state["deposition_id"])
            except RejectedError as err:
                if err.status not in (404, 410):
                    raise
            else:
                found = _concept(recorded.get("conceptrecid"))
                if concept is not None and found is not None and found != concept:
                    raise PublishError(
                        f"Zenodo deposition {recorded.get('id')} belongs to concept record {found}, not to the "
                        f"recorded {concept}: it was not changed. Check {self.key} in the publication record of "
                        f"{release.version}."
                    )
                return recorded
        depositions = self._list(client)
        if concept is not None:
            family = [d for d in depositions if _concept(d.get("conceptrecid")) == concept]
            mine = [d for d in family if (d.get("metadata") or {}).get("version") == release.version]
            done = [d for d in mine if d.get("submitted")]
            if done:  # published, but the answer was lost: adopt it
                return self._get(client, done[0]["id"])
            drafts = [d for d in family if not d.get("submitted")]
            if drafts:  # the family's open draft (Zenodo keeps one per concept record)
                self.progress(f"continue Zenodo draft {drafts[0]['id']}")
                return self._get(client, drafts[0]["id"])
            versions = [d for d in family if d.get("submitted")]
            if versions:
                return self._new_version(client, max(versions, key=lambda d: int(d["id"]))["id"])
        if earlier:
            return self._new_version(client, earlier[-1]["record_id"])
        # No version was ever published (a first draft that is gone counts as none): create the first one.
        self.progress("create a Zenodo deposition")
        try:
            created: dict[str, Any] = client.json(client.request("POST", self.api, json={"metadata": metadata}))
        except TransientError:
            # The server may have created it before the answer was lost: a deposition of this title and
            # version that was not in the listing a moment ago is that one; nothing older is touched.
            before = {d.get("id") for d in depositions}
            again = [
                d
                for d in self._list(client)
                if d.get("id") not in before
                and not d.get("submitted")
                and (d.get("metadata") or {}).get("title") == metadata["title"]
                and (d.get("metadata") or {}).get("version") == release.version
            ]
            if len(again) == 1:
                return self._get(client, again[0]["id"])
            created = client.json(client.request("POST", self.api, json={"metadata": metadata}))
        return created

    def _new_version(self, client: HttpClient, latest: Any) -> dict[str, Any]:
        """POST …/{latest}/actions/newversion: InvenioRDM answers with the new draft, older Zenodo with the version."""
        self.progress(f"new version of Zenodo record {latest}")
        answer: dict[str, Any] = client.json(
            client.request("POST", f"{self.api}/{latest}/actions/newversion", retry=True)
        )
        if not answer.get("submitted") and answer.get("id") is not None:
            return answer
        link = (answer.get("links") or {}).get("latest_draft")
        if not link:
            raise TransientError(
                f"Zenodo answered the new version of record {latest} without naming the draft. "
                "Run the same command again: it continues the open draft."
            )
        draft: dict[str, Any] = client.json(client.request("GET", link))
        return draft

    def _set_rdm_creators(self, client: HttpClient, draft_id: Any, organised: list[dict[str, Any]]) -> None:
        """Creators with organisations, through InvenioRDM's draft API (the legacy API knows persons only)."""
        url = f"{self.base_url}/api/records/{draft_id}/draft"
        draft = client.json(client.request("GET", url))
        draft.setdefault("metadata", {})["creators"] = organised
        client.request("PUT", url, json=draft)

    def _sync_files(self, client: HttpClient, deposition: dict[str, Any], uploads: list[ReleaseFile]) -> None:
        """Make the draft hold exactly the release's files (read from …/files, never the bucket), then compare md5s."""
        draft_id = deposition["id"]
        files_url = f"{self.api}/{draft_id}/files"
        listing = client.json(client.request("GET", files_url))
        remote = {item["filename"]: (_md5(item.get("checksum")), item.get("id")) for item in listing}
        wanted = {f.path: f for f in uploads}
        extra = sorted(set(remote) - set(wanted))
        missing = [f for f in uploads if remote.get(f.path, ("", None))[0] != f.md5]
        bucket = (deposition.get("links") or {}).get("bucket")
        if bucket is None and (extra or missing):
            bucket = (self._get(client, draft_id).get("links") or {}).get("bucket")
        for key in extra:
            if bucket:
                client.request("DELETE", f"{bucket}/{quote(key)}")
            else:
                client.request("DELETE", f"{files_url}/{remote[key][1]}")
        for f in missing:
            self.progress(f"upload {f.path} ({f.bytes} bytes) to Zenodo")
            if bucket:
                answer = client.json(client.request("PUT", f"{bucket}/{quote(f.path)}", body=f.local))
            else:  # no bucket link at all (zenodo/zenodo#2286): the deposit API's own upload
                response = client.request("POST", files_url, form={"name": f.path}, upload=("file", f.local))
                answer = client.json(response)
            total = sum(m.bytes for m in missing)
            progress.advance("bytes uploaded", f.bytes, total=total, detail=f.path, unit="bytes")
            # An answer without a checksum is checked against the files list below.
            if answer.get("checksum") and _md5(answer["checksum"]) != f.md5:
                raise PublishError(
                    f"Zenodo stored {f.path} with checksum {answer['checksum']}, not md5:{f.md5} (the upload was "
                    "damaged). Nothing was published: run the same command again to upload it anew."
                )
        server = {
            item["filename"]: _md5(item.get("checksum")) for item in client.json(client.request("GET", files_url))
        }
        expected = {name: f.md5 for name, f in wanted.items()}
        if server != expected:
            differ = sorted(k for k in set(server) | set(expected) if server.get(k) != expected.get(k))
            raise PublishError(
                f"Zenodo's draft {draft_id} holds other files than the release ({', '.join(differ)}): an upload was "
                "damaged or the draft was changed meanwhile. Nothing was published: run the same command again."
            )

    def _publish(self, client: HttpClient, deposition: dict[str, Any]) -> dict[str, Any]:
        """Publish the draft; after an unclear failure ask the server whether it happened before trying again."""
        url = (deposition.get("links") or {}).get("publish") or f"{self.api}/{deposition['id']}/actions/publish"
        for attempt in range(1, self.policy.attempts):
            try:
                answer: dict[str, Any] = client.json(client.request("POST", url))
            except TransientError:
                current = self._get(client, deposition["id"])
                if current.get("submitted"):
                    return current
                time.sleep(self.policy.delay(attempt))
            else:
                return answer
        last: dict[str, Any] = client.json(client.request("POST", url))
        return last

    def _finish(
        self,
        release: Release,
        deposition: dict[str, Any],
        uploads: list[ReleaseFile],
        *,
        created: bool,
        plan: tuple[PlannedRequest, ...],
    ) -> PublishResult:
        links = deposition.get("links", {})
        url = links.get("record_html") or deposition.get("record_url") or links.get("html")
        concept = _concept(deposition.get("conceptrecid")) or _concept(pending(release, self.key).get("conceptrecid"))
        entry = {
            "target": self.name,
            "url": url,
            "doi": deposition.get("doi"),
            "conceptdoi": deposition.get("conceptdoi"),
            "record_id": deposition.get("record_id", deposition.get("id")),
            "conceptrecid": concept,
            # What the version holds, so the next version's plan knows which files its draft starts with.
            "files": {f.path: f.md5 for f in uploads},
        }
        save_published(release, self.key, entry)
        return PublishResult(self.name, url, deposition.get("doi"), created=created, plan=plan)


def describe_error(response: requests.Response) -> str:
    """Zenodo's error body: {"message", "status", "errors": [{"field", "message" or "messages"}]}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if not isinstance(body, dict):
        return str(body)[:200]
    details = []
    for e in body.get("errors") or []:
        if isinstance(e, dict):  # legacy Zenodo: "message"; InvenioRDM: "messages", a list
            said = "; ".join(str(m) for m in e.get("messages") or []) or str(e.get("message", ""))
            details.append(f"{e.get('field')}: {said}" if e.get("field") else said)
    message = str(body.get("message", "")).strip()
    return "; ".join([message, *details]) if details else message

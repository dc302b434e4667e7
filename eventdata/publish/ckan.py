"""Publish to CKAN (and HDX, which runs on CKAN): create or update the dataset, upload each file as a resource.

CKAN's action API (docs.ckan.org/en/latest/api): POST /api/3/action/<action> with a JSON body, or
multipart/form-data for resource_create/resource_update with the file under `upload`; answers are
{"success": true, "result": …} or {"success": false, "error": {"__type": …, "message": …}}; the token
goes in the Authorization header. Dataset fields follow what HDX expects: name, title, notes,
license_id, dataset_date ("[start TO end]"), tags, methodology (+ methodology_other), caveats.

Resuming: a new dataset is created as a draft and made active only when every resource is uploaded
and verified; resources are matched by name (their path in the release) and their sha256, so a
re-run uploads only what is missing or different, and the dataset's version changes last.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

import requests

from eventdata.catalog import Release
from eventdata.errors import PublishError, Report
from eventdata.publish import PlannedRequest, Progress, PublishResult
from eventdata.publish.http import HttpClient, RejectedError, RetryPolicy, TransientError, require_token
from eventdata.publish.manifest import (
    ReleaseFile,
    check_upload_names,
    common_problems,
    date_range,
    fix_hint,
    problem,
    release_files,
    repository_files,
    text,
)
from eventdata.publish.record import published, save_pending, save_published

TOKEN_ENV = "EVENTDATA_CKAN_TOKEN"
NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
TAG = re.compile(r"^[\w .-]{2,100}$")
#: SPDX licence ids → the licence ids of CKAN's default list (which HDX shares).
LICENCES = {
    "cc-by-4.0": "cc-by",
    "cc-by-sa-4.0": "cc-by-sa",
    "cc0-1.0": "cc-zero",
    "cc-by-nc-4.0": "cc-nc",
    "odbl-1.0": "odc-odbl",
    "odc-by-1.0": "odc-by",
    "pddl-1.0": "odc-pddl",
}
#: HDX's methodology vocabulary; any other text goes to methodology_other with methodology "Other".
METHODOLOGIES = ("Census", "Sample Survey", "Direct Observational Data/Anecdotal Data", "Registry", "Other")


class CkanPublisher:
    """A CKAN site at base_url, datasets owned by organization; the token from EVENTDATA_CKAN_TOKEN or the keyring."""

    name = "ckan"

    def __init__(
        self,
        *,
        base_url: str,
        organization: str,
        progress: Progress | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.organization = organization
        self.key = f"ckan {self.base_url} {organization}"
        self.progress = progress or (lambda _line: None)
        self.policy = RetryPolicy(attempts, backoff, max_delay)

    # --- offline ---------------------------------------------------------------------------------

    def check(self, release: Release) -> Report:
        """Every field HDX expects, from datapackage.json and the events' date range; nothing is defaulted."""
        files = release_files(release)
        descriptor = release.descriptor()
        problems = common_problems(release, descriptor, "CKAN", need_creators=False)
        problems += check_upload_names(release, files, "CKAN")
        hint = fix_hint(release)
        name = text(descriptor, "name")
        if not NAME.match(name):
            problems.append(
                problem(
                    release,
                    "name",
                    f"CKAN dataset names are 2-100 lower-case letters, digits, '-' or '_'. {hint}",
                    code="pattern-error",
                    value=name,
                )
            )
        licences = descriptor.get("licenses") or []
        if licences and _licence_id(licences[0]) is None:
            known = ", ".join(sorted(LICENCES))
            problems.append(
                problem(
                    release,
                    "licenses",
                    f"CKAN has no licence id for {licences[0].get('name')!r}; use one of the SPDX ids {known}. {hint}",
                    code="enum-error",
                    value=licences[0].get("name"),
                )
            )
        if date_range(release, descriptor) is None:
            problems.append(
                problem(
                    release,
                    "resources",
                    "HDX needs the dataset date range, taken from the event_date column of "
                    "the events CSV, which has no dates.",
                    value=None,
                )
            )
        for keyword in descriptor.get("keywords") or []:
            if not TAG.match(str(keyword)):
                problems.append(
                    problem(
                        release,
                        "keywords",
                        f"{keyword!r} is not a valid CKAN tag (2-100 letters, digits, spaces, '-', '_' or '.'). {hint}",
                        code="pattern-error",
                        value=keyword,
                    )
                )
        if not descriptor.get("keywords"):
            problems.append(problem(release, "keywords", f"HDX needs tags; datapackage.json has no keywords. {hint}"))
        for key, what in (("methodology", "how the data was collected"), ("caveats", "the caveats of the data")):
            if not text(descriptor, key):
                problems.append(problem(release, key, f"HDX needs {key} ({what}); datapackage.json has none. {hint}"))
        return Report(problems=tuple(problems), files=(str(release.descriptor_path),))

    def dataset_fields(self, release: Release) -> dict[str, Any]:
        """The dataset's CKAN/HDX fields from datapackage.json (call check first: nothing missing is filled in)."""
        descriptor = release.descriptor()
        span = date_range(release, descriptor)
        if span is None:
            raise PublishError(f"{release.path}: no event dates, so no dataset date range; run the check.")
        methodology = text(descriptor, "methodology")
        fields: dict[str, Any] = {
            "name": text(descriptor, "name"),
            "title": text(descriptor, "title"),
            "notes": text(descriptor, "description"),
            "license_id": _licence_id(descriptor["licenses"][0]),
            "dataset_date": f"[{span[0]}T00:00:00 TO {span[1]}T23:59:59]",
            "tags": [{"name": str(k)} for k in descriptor.get("keywords", [])],
            "methodology": methodology if methodology in METHODOLOGIES else "Other",
            "caveats": text(descriptor, "caveats"),
            "version": release.version,
        }
        if methodology not in METHODOLOGIES:
            fields["methodology_other"] = methodology
        if text(descriptor, "homepage"):
            fields["url"] = text(descriptor, "homepage")
        return fields

    def plan(self, release: Release, uploads: list[ReleaseFile]) -> tuple[PlannedRequest, ...]:
        action = f"{self.base_url}/api/3/action"
        steps = [
            PlannedRequest("POST", f"{action}/organization_show", f"find organization {self.organization}"),
            PlannedRequest("POST", f"{action}/package_show", f"find dataset {release.name}"),
            PlannedRequest("POST", f"{action}/package_create", "create the dataset as a draft, if it does not exist"),
        ]
        for f in uploads:
            steps.append(
                PlannedRequest(
                    "POST",
                    f"{action}/resource_create",
                    "upload (resource_update if it exists)",
                    f.path,
                    f.bytes,
                    f.sha256,
                )
            )
        steps.append(PlannedRequest("POST", f"{action}/package_update", f"version {release.version}, make active"))
        return tuple(steps)

    # --- online ----------------------------------------------------------------------------------

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        if not self.check(release).valid:
            raise PublishError(f"{release.descriptor_path} is not ready for CKAN: run the check and fix what it lists.")
        files = release_files(release)
        done = published(release, self.key)
        if done is not None:
            return PublishResult(self.name, done.get("url"), None, created=False)
        with tempfile.TemporaryDirectory(prefix="eventdata-ckan-") as scratch:
            uploads = repository_files(release, files, Path(scratch))
            plan = self.plan(release, uploads)
            if dry_run:
                return PublishResult(self.name, None, None, created=False, plan=plan)
            with self._client() as client:
                created = self._publish(client, release, uploads)
        done = published(release, self.key) or {}
        return PublishResult(self.name, done.get("url"), None, created=created, plan=plan)

    def _publish(self, client: HttpClient, release: Release, uploads: list[ReleaseFile]) -> bool:
        """Create or update the dataset and its resources; False when the server already had this version."""
        fields = self.dataset_fields(release)
        url = f"{self.base_url}/dataset/{fields['name']}"
        organization = self._organization(client)
        package = self._show(client, fields["name"])
        if package is None:
            draft = {**fields, "owner_org": organization["id"], "state": "draft", "resources": []}
            package = self._create(client, draft)
        elif package.get("owner_org") not in (organization["id"], organization.get("name")):
            raise PublishError(
                f"CKAN dataset {fields['name']} at {self.base_url} belongs to another organization than "
                f"{self.organization}. Publish with --organization set to its owner, or rename the dataset."
            )
        elif _is_published(package, release, uploads):
            save_published(release, self.key, {"target": self.name, "url": url, "id": package["id"]})
            return False
        save_pending(release, self.key, {"package_id": package["id"]})
        self._sync_resources(client, package["id"], fields["name"], uploads)
        current = self._show(client, fields["name"]) or {}
        self._action(client, "package_update", {**current, **fields, "state": "active"}, retry=True)
        final = self._show(client, fields["name"]) or {}
        if not _is_published(final, release, uploads):
            raise PublishError(
                f"CKAN dataset {url} does not show version {release.version} with every file after the update. "
                "Run the same command again to complete it."
            )
        save_published(release, self.key, {"target": self.name, "url": url, "id": final["id"]})
        return True

    def _client(self) -> HttpClient:
        token = require_token(TOKEN_ENV, "ckan")
        return HttpClient(
            "CKAN",
            self.base_url,
            {"Authorization": token, "Accept": "application/json"},
            (token,),
            TOKEN_ENV,
            describe_error,
            self.policy,
        )

    def _action(
        self,
        client: HttpClient,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        retry: bool = False,
        form: dict[str, str] | None = None,
        upload: ReleaseFile | None = None,
    ) -> Any:
        url = f"{self.base_url}/api/3/action/{action}"
        sent = ("upload", upload.local) if upload is not None else None
        response = client.request("POST", url, json=payload, form=form, upload=sent, retry=retry)
        body = client.json(response)
        if not isinstance(body, dict) or not body.get("success"):
            raise PublishError(f"CKAN {action} at {self.base_url} did not succeed: {client.redact(str(body)[:300])}")
        return body["result"]

    def _organization(self, client: HttpClient) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self._action(client, "organization_show", {"id": self.organization}, retry=True)
        except RejectedError as err:
            if err.status != 404:
                raise
            raise PublishError(
                f"CKAN at {self.base_url} has no organization {self.organization!r}: check --organization "
                "(its name as in the organization's URL)."
            ) from err
        return found

    def _show(self, client: HttpClient, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._action(client, "package_show", {"id": name}, retry=True)
        except RejectedError as err:
            if err.status == 404:
                return None
            raise
        return found

    def _create(self, client: HttpClient, payload: dict[str, Any]) -> dict[str, Any]:
        """package_create; after an unclear failure look for the dataset before creating it again."""
        self.progress(f"create CKAN dataset {payload['name']}")
        try:
            created: dict[str, Any] = self._action(client, "package_create", payload)
        except TransientError:
            existing = self._show(client, payload["name"])
            if existing is not None:
                return existing
            created = self._action(client, "package_create", payload)
        return created

    def _sync_resources(self, client: HttpClient, package_id: str, name: str, files: list[ReleaseFile]) -> None:
        """Upload each file as the resource named by its path, delete resources the release no longer has."""
        wanted = {f.path for f in files}
        current = {r.get("name"): r for r in (self._show(client, name) or {}).get("resources", [])}
        for resource_name, resource in current.items():
            if resource_name not in wanted:
                self._action(client, "resource_delete", {"id": resource["id"]}, retry=True)
        for f in files:
            existing = current.get(f.path)
            if existing is not None and _matches(existing, f):
                continue
            self.progress(f"upload {f.path} ({f.bytes} bytes) to CKAN")
            form = {"package_id": package_id, "name": f.path, "hash": f.sha256, "format": _format(f.path)}
            if existing is not None:
                form["id"] = existing["id"]
                result = self._action(client, "resource_update", None, form=form, upload=f, retry=True)
            else:
                try:
                    result = self._action(client, "resource_create", None, form=form, upload=f)
                except TransientError:
                    again = {r.get("name"): r for r in (self._show(client, name) or {}).get("resources", [])}
                    if f.path in again:  # it was created before the answer was lost: replace its file
                        form["id"] = again[f.path]["id"]
                        result = self._action(client, "resource_update", None, form=form, upload=f, retry=True)
                    else:
                        result = self._action(client, "resource_create", None, form=form, upload=f)
            self._verify(client, result, f)

    def _verify(self, client: HttpClient, resource: dict[str, Any], f: ReleaseFile) -> None:
        """Download what the server stored and compare its size and sha256 with the release's."""
        data = client.request("GET", str(resource.get("url", ""))).content
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != f.bytes or digest != f.sha256:
            raise PublishError(
                f"CKAN stored {f.path} as {len(data)} bytes sha256:{digest}, not {f.bytes} bytes sha256:{f.sha256}. "
                "The dataset was not updated: run the same command again to upload it anew."
            )


def _licence_id(licence: dict[str, Any]) -> str | None:
    name = str(licence.get("name", "")).lower()
    return LICENCES.get(name) or (name if name in LICENCES.values() else None)


def _format(path: str) -> str:
    return path.rsplit(".", 1)[-1].upper() if "." in path else ""


def _matches(resource: dict[str, Any], f: ReleaseFile) -> bool:
    return resource.get("hash") == f.sha256 and str(resource.get("size")) == str(f.bytes)


def _is_published(package: dict[str, Any], release: Release, uploads: list[ReleaseFile]) -> bool:
    """The dataset is active at this version and holds exactly these files."""
    resources = {r.get("name"): r for r in package.get("resources", [])}
    same = set(resources) == {f.path for f in uploads} and all(_matches(resources[f.path], f) for f in uploads)
    return same and package.get("version") == release.version and package.get("state") == "active"


def describe_error(response: requests.Response) -> str:
    """CKAN's error body: {"success": false, "error": {"__type", "message", <field>: [messages]}}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(body)[:200]
    parts = [str(error.get("__type", "")), str(error.get("message", ""))]
    parts += [
        f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in error.items()
        if k not in ("__type", "message")
    ]
    return " - ".join(p for p in parts if p)

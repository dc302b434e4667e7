"""Publish to CKAN: create or update the dataset, upload each file as a resource, then make it public.

CKAN's action API (docs.ckan.org/en/latest/api): POST /api/3/action/<action> with a JSON body, or
multipart/form-data for resource_create/resource_update with the file under `upload`; answers are
{"success": true, "result": …} or {"success": false, "error": {"__type": …, "message": …}}; the token
goes in the Authorization header. Dataset fields: name, title, notes, license_id, version, and the
fields HDX also reads (dataset_date "[start TO end]", tags, methodology (+ methodology_other), caveats).
HDX itself is the profile in eventdata.publish.hdx.

Never visible half-published: `state: "draft"` is dropped for users who are not sysadmins
(ckan/logic/schema/__init__.py default_create_package_schema: 'state': [ignore_not_package_admin, …];
ckan/logic/validators.py ignore_not_package_admin; ckan/ckan#5497), but `private` is kept for
organization editors. So a new dataset is created private in its organization, an existing public one is
made private before its files change, every file is uploaded and verified, and one final package_patch
sets the version's metadata and private false. Anonymous users get 403 on a private dataset
(ckan/lib/plugins.py DefaultPermissionLabels.get_dataset_labels). An interrupted run leaves it private;
running again resumes and finishes.

Resources are matched by name (their file name) and sha256, kept in the resource's `hash` field, never by
size: HDX stores size 0, or the length of the whole multipart request, for uploads (OCHA-DAP/hdx-ckan
ckanext-hdx_package/ckanext/hdx_package/actions/create.py resource_create).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import requests

from eventdata import progress
from eventdata.catalog import Release
from eventdata.errors import Problem, PublishError, Report
from eventdata.files import sha256_bytes
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
from eventdata.publish.record import check_recordable, published, save_pending, save_published

TOKEN_ENV = "EVENTDATA_CKAN_TOKEN"
NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
TAG = re.compile(r"^[\w .-]{2,100}$")
#: SPDX licence ids → the licence ids of CKAN's default list (ckan/model/license.py).
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
#: Dataset fields that core CKAN's schema does not know: sent as extras ({"key", "value"}).
EXTRAS = ("dataset_date", "methodology", "methodology_other", "caveats")
#: CKAN's refusal of an upload above ckan.max_resource_size (ckan/lib/uploader.py _copy_file).
TOO_LARGE = "File upload too large"
MB = 1 << 20


class CkanPublisher:
    """A CKAN site at base_url, datasets owned by organization; the token from EVENTDATA_CKAN_TOKEN or the keyring."""

    name = "ckan"
    service = "CKAN"
    token_env = TOKEN_ENV

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
        self.key = f"{self.name} {self.base_url} {organization}"
        self.progress = progress or (lambda _line: None)
        self.policy = RetryPolicy(attempts, backoff, max_delay)

    # --- offline ---------------------------------------------------------------------------------

    def check(self, release: Release) -> Report:
        """Every missing or invalid field, from datapackage.json and the events; nothing is defaulted."""
        files = release_files(release)
        descriptor = release.descriptor()
        problems = common_problems(release, descriptor, self.service, need_creators=False)
        problems += check_upload_names(release, files, self.service)
        problems += self.dataset_problems(release, descriptor)
        return Report(problems=tuple(problems), files=(str(release.descriptor_path),))

    def dataset_problems(self, release: Release, descriptor: dict[str, Any]) -> list[Problem]:
        """The checks of CKAN's dataset fields (a profile adds its own)."""
        hint = fix_hint(release)
        problems = []
        name = text(descriptor, "name")
        if not NAME.match(name):
            problems.append(
                problem(
                    release,
                    "name",
                    f"{self.service} dataset names are 2-100 lower-case letters, digits, '-' or '_'. {hint}",
                    code="pattern-error",
                    value=name,
                )
            )
        licences = descriptor.get("licenses") or []
        if licences and self.licence_id(licences[0]) is None:
            problems.append(
                problem(
                    release,
                    "licenses",
                    f"{self.service} has no licence id for {licences[0].get('name')!r}; use one of the SPDX ids "
                    f"{', '.join(self.known_licences())}. {hint}",
                    code="enum-error",
                    value=licences[0].get("name"),
                )
            )
        if date_range(release, descriptor) is None:
            problems.append(
                problem(
                    release,
                    "resources",
                    f"{self.service} needs the dataset date range, taken from the event_date column of "
                    "the events CSV, which has no dates.",
                    value=None,
                )
            )
        problems += self.tag_problems(release, descriptor)
        for key, what in (("methodology", "how the data was collected"), ("caveats", "the caveats of the data")):
            if not text(descriptor, key):
                problems.append(
                    problem(release, key, f"{self.service} needs {key} ({what}); datapackage.json has none. {hint}")
                )
        return problems

    def tag_problems(self, release: Release, descriptor: dict[str, Any]) -> list[Problem]:
        hint = fix_hint(release)
        problems = []
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
            problems.append(
                problem(release, "keywords", f"{self.service} needs tags; datapackage.json has no keywords. {hint}")
            )
        return problems

    def known_licences(self) -> list[str]:
        return sorted(LICENCES)

    def licence_id(self, licence: dict[str, Any]) -> str | None:
        """The site's licence id of a Data Package licence (an SPDX id, or already the site's id)."""
        name = str(licence.get("name", "")).lower()
        return LICENCES.get(name) or (name if name in LICENCES.values() else None)

    def tags(self, descriptor: dict[str, Any]) -> list[str]:
        return [str(k) for k in descriptor.get("keywords", [])]

    def dataset_fields(self, release: Release) -> dict[str, Any]:
        """The dataset's fields from datapackage.json (call check first: nothing missing is filled in)."""
        descriptor = release.descriptor()
        span = date_range(release, descriptor)
        if span is None:
            raise PublishError(f"{release.path}: no event dates, so no dataset date range; run the check.")
        methodology = text(descriptor, "methodology")
        fields: dict[str, Any] = {
            "name": text(descriptor, "name"),
            "title": text(descriptor, "title"),
            "notes": text(descriptor, "description"),
            "license_id": self.licence_id(descriptor["licenses"][0]),
            "dataset_date": f"[{span[0]}T00:00:00 TO {span[1]}T23:59:59]",
            "tags": [{"name": tag} for tag in self.tags(descriptor)],
            "methodology": methodology if methodology in METHODOLOGIES else "Other",
            "caveats": text(descriptor, "caveats"),
            "version": release.version,
        }
        if methodology not in METHODOLOGIES:
            fields["methodology_other"] = methodology
        if text(descriptor, "homepage"):
            fields["url"] = text(descriptor, "homepage")
        return self.shape(fields)

    def shape(self, fields: dict[str, Any]) -> dict[str, Any]:
        """CKAN drops top-level fields its schema lacks ('__extras': [ignore]), so HDX's go in `extras`."""
        extras = [{"key": k, "value": str(fields.pop(k))} for k in EXTRAS if k in fields]
        return {**fields, "extras": extras}

    def resource_fields(self, package_id: str, f: ReleaseFile) -> dict[str, str]:
        """The form fields sent with a file: its name, its sha256 in `hash`, its format."""
        return {"package_id": package_id, "name": f.path, "hash": f.sha256, "format": _format(f.path)}

    def plan(self, release: Release, uploads: list[ReleaseFile]) -> tuple[PlannedRequest, ...]:
        action = f"{self.base_url}/api/3/action"
        steps = [
            PlannedRequest("POST", f"{action}/organization_show", f"find organization {self.organization}"),
            PlannedRequest("POST", f"{action}/package_show", f"find dataset {release.name}"),
            PlannedRequest(
                "POST",
                f"{action}/package_create",
                "create the dataset private, if it does not exist (package_patch private true if it is public)",
            ),
        ]
        for f in uploads:
            steps.append(
                PlannedRequest(
                    "POST",
                    f"{action}/resource_create",
                    "upload unless a resource of this name has this sha256 (resource_update if the name exists)",
                    f.path,
                    f.bytes,
                    f.sha256,
                )
            )
        steps.append(
            PlannedRequest("POST", f"{action}/package_show", "verify every resource's name and sha256"),
        )
        steps.append(
            PlannedRequest("POST", f"{action}/package_patch", f"version {release.version}, private false: public")
        )
        return tuple(steps)

    # --- online ----------------------------------------------------------------------------------

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        if not self.check(release).valid:
            raise PublishError(
                f"{release.descriptor_path} is not ready for {self.service}: run the check and fix what it lists."
            )
        files = release_files(release)
        done = published(release, self.key)
        if done is not None:
            return PublishResult(self.name, done.get("url"), None, created=False)
        with tempfile.TemporaryDirectory(prefix="eventdata-ckan-") as scratch:
            uploads = repository_files(release, files, Path(scratch))
            plan = self.plan(release, uploads)
            if dry_run:
                return PublishResult(self.name, None, None, created=False, plan=plan)
            check_recordable(release)
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
            package = self._create(client, {**fields, "owner_org": organization["id"], "private": True})
        elif package.get("owner_org") not in (organization["id"], organization.get("name")):
            raise PublishError(
                f"{self.service} dataset {fields['name']} at {self.base_url} belongs to another organization than "
                f"{self.organization}. Publish with --organization set to its owner, or rename the dataset."
            )
        elif _is_published(package, release, uploads):
            save_published(release, self.key, {"target": self.name, "url": url, "id": package["id"]})
            return False
        save_pending(release, self.key, {"package_id": package["id"]})
        if not _private(package):
            self.progress(f"make {self.service} dataset {fields['name']} private while its files change")
            package = self._action(client, "package_patch", {"id": package["id"], "private": True}, retry=True)
            if not _private(package):
                raise PublishError(
                    f"{self.service} at {self.base_url} did not keep dataset {fields['name']} private, so its "
                    "files would be visible half-updated; nothing was uploaded. Check that the token's user is an "
                    f"editor or admin of {self.organization}."
                )
        self._sync_resources(client, package["id"], fields["name"], uploads)
        current = self._show(client, fields["name"]) or {}
        if not _same_files(current, uploads):
            raise PublishError(
                f"{self.service} dataset {url} does not list every file with its sha256 after the uploads; it stays "
                "private. Run the same command again to complete it."
            )
        self.progress(f"make {self.service} dataset {fields['name']} public at version {release.version}")
        self._action(client, "package_patch", {**fields, "id": package["id"], "private": False}, retry=True)
        final = self._show(client, fields["name"]) or {}
        if not _is_published(final, release, uploads):
            raise PublishError(
                f"{self.service} dataset {url} does not show version {release.version}, public, with every file "
                "after the final update. Run the same command again to complete it."
            )
        save_published(release, self.key, {"target": self.name, "url": url, "id": final["id"]})
        return True

    def _client(self) -> HttpClient:
        token = require_token(self.token_env, self.name)
        return HttpClient(
            self.service,
            self.base_url,
            {"Authorization": token, "Accept": "application/json"},
            (token,),
            self.token_env,
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
            raise PublishError(
                f"{self.service} {action} at {self.base_url} did not succeed: {client.redact(str(body)[:300])}"
            )
        return body["result"]

    def _organization(self, client: HttpClient) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self._action(client, "organization_show", {"id": self.organization}, retry=True)
        except RejectedError as err:
            if err.status != 404:
                raise
            raise PublishError(
                f"{self.service} at {self.base_url} has no organization {self.organization!r}: check --organization "
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
        self.progress(f"create {self.service} dataset {payload['name']} (private)")
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
            self.progress(f"upload {f.path} ({f.bytes} bytes) to {self.service}")
            form = self.resource_fields(package_id, f)
            if existing is not None:
                form["id"] = existing["id"]
                result = self._upload(client, "resource_update", form, f, retry=True)
            else:
                try:
                    result = self._upload(client, "resource_create", form, f, retry=False)
                except TransientError:
                    again = {r.get("name"): r for r in (self._show(client, name) or {}).get("resources", [])}
                    if f.path in again:  # it was created before the answer was lost: replace its file
                        form["id"] = again[f.path]["id"]
                        result = self._upload(client, "resource_update", form, f, retry=True)
                    else:
                        result = self._upload(client, "resource_create", form, f, retry=False)
            self._verify(client, result, f)
            progress.advance("bytes uploaded", f.bytes, detail=f.path, unit="bytes")

    def _upload(
        self, client: HttpClient, action: str, form: dict[str, str], f: ReleaseFile, *, retry: bool
    ) -> dict[str, Any]:
        """resource_create/resource_update with the file; a refusal for its size says what the limit is."""
        try:
            result: dict[str, Any] = self._action(client, action, None, form=form, upload=f, retry=retry)
        except RejectedError as err:
            if err.status == 413 or err.status == 409 and TOO_LARGE in str(err):
                raise PublishError(self._too_large(f, err)) from err
            raise
        return result

    def _too_large(self, f: ReleaseFile, err: RejectedError) -> str:
        """What the refusal of a file for its size means, what the limit is, and who can raise it."""
        size = f"{f.bytes} bytes, {f.bytes / MB:.1f} MB"
        if err.status == 413:
            said = "413 Request Entity Too Large: a limit on request bodies in front of CKAN or in it"
            limit = "below the size of this upload"
            raise_it = "nginx's client_max_body_size or Flask's MAX_CONTENT_LENGTH, and ckan.max_resource_size"
        else:  # ckan/lib/uploader.py _copy_file refuses a file of more than ckan.max_resource_size 1 MB chunks
            said = f'"{TOO_LARGE}"'
            limit = f"ckan.max_resource_size, at most {-(-f.bytes // MB) - 1} MB on this site (CKAN's default is 10 MB)"
            raise_it = (
                "ckan.max_resource_size in ckan.ini (whole megabytes; or the environment variable "
                "CKAN_MAX_UPLOAD_SIZE_MB) and restart CKAN"
            )
        return (
            f"{self.service} at {self.base_url} refused {f.path} ({size}) with {said}. Its upload limit is {limit}. "
            f"The metadata is fine: ask the site's administrators to raise {raise_it}, then run the same command "
            "again; the dataset stays private until then."
        )

    def _verify(self, client: HttpClient, resource: dict[str, Any], f: ReleaseFile) -> None:
        """Download what the server stored and compare its size and sha256 with the release's."""
        data = client.request("GET", self._download_url(resource)).content
        digest = sha256_bytes(data)
        if len(data) != f.bytes or digest != f.sha256:
            raise PublishError(
                f"{self.service} stored {f.path} as {len(data)} bytes sha256:{digest}, not {f.bytes} bytes "
                f"sha256:{f.sha256}. The dataset stays private: run the same command again to upload it anew."
            )

    def _download_url(self, resource: dict[str, Any]) -> str:
        """An uploaded file's URL at base_url: CKAN builds it from ckan.site_url, which may name another host,
        and the dataset is private, so the download must go where the token goes."""
        url = str(resource.get("url", ""))
        if url.startswith(self.base_url + "/") or resource.get("url_type") != "upload" or "/dataset/" not in url:
            return url
        return f"{self.base_url}/dataset/{url.split('/dataset/', 1)[1]}"


def _format(path: str) -> str:
    return path.rsplit(".", 1)[-1].upper() if "." in path else ""


def _private(package: dict[str, Any]) -> bool:
    return str(package.get("private", "")).lower() == "true"


def _matches(resource: dict[str, Any], f: ReleaseFile) -> bool:
    """The resource holds this file: same sha256 in its hash field (size is not reliable on HDX)."""
    return str(resource.get("hash", "")).removeprefix("sha256:") == f.sha256


def _same_files(package: dict[str, Any], uploads: list[ReleaseFile]) -> bool:
    resources = {r.get("name"): r for r in package.get("resources", [])}
    return set(resources) == {f.path for f in uploads} and all(_matches(resources[f.path], f) for f in uploads)


def _is_published(package: dict[str, Any], release: Release, uploads: list[ReleaseFile]) -> bool:
    """The dataset is public and active at this version and holds exactly these files."""
    public = package.get("state") == "active" and not _private(package)
    return public and package.get("version") == release.version and _same_files(package, uploads)


def _messages(value: Any) -> list[str]:
    """CKAN's error values flattened: lists of messages, or of dicts for list fields (tags: [{}, {name: [...]}])."""
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    return [str(value)] if value not in (None, "") else []


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
    parts += [f"{k}: {'; '.join(_messages(v))}" for k, v in error.items() if k not in ("__type", "message")]
    return " - ".join(p for p in parts if p)

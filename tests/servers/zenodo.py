"""A fake Zenodo that behaves as zenodo.org does today: the legacy deposit API served by InvenioRDM.

Read from zenodo/zenodo-rdm (commit 63864033) and inveniosoftware/invenio-rdm-records:

- Routes, site/zenodo_rdm/legacy/resources.py: GET/POST /api/deposit/depositions, GET/PUT/DELETE
  …/depositions/:id, POST …/actions/{publish,edit,discard,newversion}; GET/POST …/:id/files and
  GET/DELETE …/:id/files/:file_id; Files-REST GET/PUT/DELETE /api/files/:bucket/:key. newversion
  answers 201 with the *new draft* (read_draft after import_files), files copied from the version.
- GET /api/files/:bucket (the bucket listing) answers 500 on zenodo.org and the sandbox: zenodo/zenodo#2506,
  zenodo/zenodo-rdm#183 (open). `bucket_listing_fails` keeps that on.
- Links, site/zenodo_rdm/legacy/services.py (LegacyRecordServiceConfig.links_item): "bucket" only
  `when=has_bucket_id`, and bucket ids are not indexed, so list items (from the search index) have no
  links.bucket (also zenodo/zenodo#2286, zenodo-rdm#639). A published version's links.self and links.files
  point to /api/records/:id, not to the deposit API. `lean_links` also drops the action links
  (publish, edit, discard, newversion), as some answers do.
- Serialization, site/zenodo_rdm/legacy/serializers/schemas/{common,legacyjson,files}.py: conceptrecid is
  parent.id as a string, record_id the id; the files list gives "checksum" as a bare md5 hex ("skip the
  checksum algorithm prefix"); Files-REST answers give "md5:…" and may lack it (`checksum_in_put`).
  `null_conceptrecid` answers conceptrecid null for drafts of a first version, which no client may take
  for a family key.
- Creators and contributors, site/zenodo_rdm/legacy/deserializers/metadata.py (PersonSchema,
  CreatorSchema): every entry is stored as person_or_org {"type": "personal"} (a Constant); a name with
  one comma is split into family, given, any other name becomes the family name; orcid -> identifiers,
  affiliation -> affiliations; other keys (a "type": "organizational") are dropped. Only the InvenioRDM
  draft API (PUT /api/records/:id/draft, invenio-rdm-records services/schemas/metadata.py
  PersonOrOrganizationSchema) stores an organisation: "organizational" needs a name, "personal" a
  family_name, and the name of a person is "Family, Given".
- Licences, legacy/zenodo_legacy/licenses.py and data/*.json (copied to eventdata/publish/zenodo_licences.json):
  lower-cased, aliased, looked up; else an exact legacy id; else 400 "Invalid license provided".
- Rate limits, inveniosoftware/invenio-app invenio_app/config.py: 100 per minute and 5000 per hour for a
  token, RATELIMIT_HEADERS_ENABLED, so a 429 carries Retry-After (seconds, or an HTTP date with
  Flask-Limiter's "http-date" setting). `throttle()` answers the next matching requests with that.
- Validation errors are {"status": 400, "message", "errors": [{"field", "messages": [...]}]}; publishing
  needs title, creators, publication date, resource type, and a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from werkzeug.utils import secure_filename
from werkzeug.wrappers import Request, Response

from tests.servers.base import Service

SCOPES = frozenset({"deposit:write", "deposit:actions"})
UPLOAD_TYPES = frozenset({"publication", "poster", "presentation", "dataset", "image", "video", "software", "other"})
ACCESS_RIGHTS = frozenset({"open", "embargoed", "restricted", "closed"})
MAX_PAGE_SIZE = 25
VOCABULARY = json.loads(
    (Path(__file__).resolve().parents[2] / "eventdata" / "publish" / "zenodo_licences.json").read_text("utf-8")
)
ACTIONS = ("publish", "edit", "discard", "newversion")


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Deposition:
    id: int
    conceptrecid: int
    owner: int
    bucket: str
    metadata: dict[str, Any] = field(default_factory=dict)
    creators: list[dict[str, Any]] = field(default_factory=list)  # InvenioRDM creators (person_or_org, …)
    files: dict[str, bytes] = field(default_factory=dict)
    file_ids: dict[str, str] = field(default_factory=dict)
    submitted: bool = False
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)


@dataclass
class Throttle:
    """Answer the next `times` requests matching method and path with 429 and this Retry-After."""

    method: str
    path: str
    retry_after: str
    times: int = 1
    answered: list[float] = field(default_factory=list)  # monotonic times of the 429 answers


class FakeZenodo(Service):
    """State: depositions by id, tokens with their scopes and owner. `echo_token` puts the token in 401 bodies."""

    def __init__(self, tokens: dict[str, frozenset[str]], *, echo_token: bool = False) -> None:
        super().__init__()
        self.tokens = tokens
        self.owners = {token: n + 1 for n, token in enumerate(tokens)}
        self.echo_token = echo_token
        #: InvenioRDM licence ids the server knows (tests remove one to see the server refuse it).
        self.licences = set(VOCABULARY["to_rdm"].values())
        self.depositions: dict[int, Deposition] = {}
        self.bucket_listing_fails = True
        self.lean_links = False
        self.checksum_in_put = True
        self.null_conceptrecid = False
        self.bucket_links = True
        #: Keys stored with one byte changed, as a transfer gone wrong would leave them.
        self.damage: set[str] = set()
        self.throttles: list[Throttle] = []
        self.arrivals: list[tuple[float, str, str]] = []  # (monotonic time, method, path) of every request
        self._next_id = 1000

    # --- helpers for tests -------------------------------------------------------------------------

    def published(self) -> list[Deposition]:
        return sorted((d for d in self.depositions.values() if d.submitted), key=lambda d: d.id)

    def drafts(self) -> list[Deposition]:
        return sorted((d for d in self.depositions.values() if not d.submitted), key=lambda d: d.id)

    def add_unrelated(self, count: int, owner: int = 1) -> None:
        """Published depositions of other datasets, so that listings need several pages."""
        for n in range(count):
            deposition = self._new(owner, {"title": f"Other upload {n}", "upload_type": "other", "version": "1"})
            self._store(deposition, "x.txt", b"x")
            deposition.submitted = True

    def add_draft(self, metadata: dict[str, Any], files: dict[str, bytes], owner: int = 1) -> Deposition:
        """An unpublished deposition of the account, made elsewhere (another tool, the web form)."""
        deposition = self._new(owner, metadata)
        for key, data in files.items():
            self._store(deposition, key, data)
        return deposition

    def client_newversion(self, version: Deposition) -> Deposition:
        """A new-version draft opened elsewhere (the web form), as POST …/actions/newversion makes it."""
        self._newversion(version)
        draft = self._draft_of(version.conceptrecid)
        assert draft is not None
        return draft

    def throttle(self, method: str, path: str, retry_after: float | datetime, times: int = 1) -> None:
        """The next matching requests get 429 with Retry-After in seconds, or as an HTTP date."""
        value = format_datetime(retry_after, usegmt=True) if isinstance(retry_after, datetime) else str(retry_after)
        self.throttles.append(Throttle(method, path, value, times))

    # --- the API -----------------------------------------------------------------------------------

    def _new(self, owner: int, metadata: dict[str, Any], conceptrecid: int | None = None) -> Deposition:
        if conceptrecid is None:
            conceptrecid = self._next_id
            self._next_id += 1
        creators = [self._person(c) for c in metadata.get("creators", []) or []]
        kept = {k: v for k, v in metadata.items() if k != "creators"}
        deposition = Deposition(self._next_id, conceptrecid, owner, str(uuid.uuid4()), kept, creators)
        self._next_id += 1
        self.depositions[deposition.id] = deposition
        return deposition

    def _store(self, d: Deposition, key: str, data: bytes) -> None:
        d.files[key] = data
        d.file_ids[key] = str(uuid.uuid4())

    def handle(self, request: Request) -> Response:
        with self.lock:
            path, method = request.path.rstrip("/"), request.method
            self.arrivals.append((time.monotonic(), method, path))
            for throttle in self.throttles:
                if throttle.times > 0 and throttle.method == method and re.search(throttle.path, path):
                    throttle.times -= 1
                    throttle.answered.append(time.monotonic())
                    body = {"status": 429, "message": "Too Many Requests: 100 per 1 minute"}
                    return self.json(body, 429, headers={"Retry-After": throttle.retry_after})
            owner = self._owner(request)
            if isinstance(owner, Response):
                return owner
            if path == "/api/deposit/depositions":
                return self._list(request, owner) if method == "GET" else self._create(request, owner)
            actions = "|".join(ACTIONS)
            if match := re.fullmatch(
                rf"/api/deposit/depositions/(\d+)(/files(?:/([^/]+))?|/actions/({actions}))?", path
            ):
                deposition = self.depositions.get(int(match.group(1)))
                if deposition is None or deposition.owner != owner:
                    return self._error(404, "PID does not exist.")
                return self._deposition(request, deposition, match.group(2), match.group(3), match.group(4))
            if match := re.fullmatch(r"/api/records/(\d+)/draft", path):
                deposition = self.depositions.get(int(match.group(1)))
                if deposition is None or deposition.owner != owner or deposition.submitted:
                    return self._error(404, "The draft does not exist.")
                return self._rdm_draft(request, deposition)
            if match := re.fullmatch(r"/api/files/([0-9a-f-]+)(?:/(.+))?", path):
                bucket = next((d for d in self.depositions.values() if d.bucket == match.group(1)), None)
                if bucket is None or bucket.owner != owner:
                    return self._error(404, "Bucket does not exist.")
                return self._files(request, bucket, match.group(2))
            return self._error(404, "The requested URL was not found on the server.")

    def _deposition(
        self, request: Request, d: Deposition, sub: str | None, file_id: str | None, action: str | None
    ) -> Response:
        method = request.method
        if action == "newversion" and method == "POST":
            return self._newversion(d)
        if action == "publish" and method == "POST":
            return self._publish(d)
        if action == "discard" and method == "POST" or sub is None and action is None and method == "DELETE":
            if d.submitted:  # resources.py: discard is delete_draft; a published version has none
                return self._error(404, "The draft does not exist.")
            del self.depositions[d.id]
            return Response(status=204)
        if action is not None:
            return self._error(405, "Method not allowed.")
        if sub == "/files" and method == "GET":
            return self.json([self._file(d, k) for k in sorted(d.files)])
        if sub == "/files" and file_id is None and method == "POST":  # LegacyDraftFilesResource.create
            upload = request.files.get("file")
            if upload is None or d.submitted:
                return self._error(400, "Send the file as multipart/form-data field 'file'.")
            key = secure_filename(request.form.get("name") or upload.filename or "")
            data = upload.read()
            self._store(d, key, bytes([data[0] ^ 1]) + data[1:] if key in self.damage and data else data)
            return self.json(self._file(d, key), 201)
        if sub is not None and file_id is not None and method == "DELETE":
            key = next((k for k, v in d.file_ids.items() if v == file_id), None)
            if key is None or d.submitted:
                return self._error(404, "Not found.")
            del d.files[key], d.file_ids[key]
            return Response(status=204)
        if sub is None and method == "GET":
            return self.json(self._resource(d))
        if sub is None and method == "PUT":
            return self._update(request, d)
        return self._error(405, "Method not allowed.")

    def _owner(self, request: Request) -> int | Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        token = token or request.args.get("access_token", "")
        if token not in self.tokens:
            shown = f" (token {token!r})" if self.echo_token else ""
            return self._error(401, f"The server could not verify that you are authorized to access the URL{shown}.")
        write = request.method != "GET"
        actions = request.path.endswith(("/actions/publish", "/actions/newversion"))
        needed = "deposit:actions" if actions else "deposit:write" if write else None
        if needed and needed not in self.tokens[token]:
            return self._error(403, f"You don't have the permission to do this (the token lacks the {needed} scope).")
        return self.owners[token]

    @staticmethod
    def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Response:
        body: dict[str, Any] = {"status": status, "message": message}
        if errors:
            body["errors"] = errors
        return Service.json(body, status)

    def _links(self, d: Deposition, *, listed: bool = False) -> dict[str, str]:
        api = f"{self.base_url}/api/deposit/depositions/{d.id}"
        record = f"{self.base_url}/api/records/{d.id}"
        links = {
            "self": record if d.submitted else api,
            "html": f"{self.base_url}/records/{d.id}" if d.submitted else f"{self.base_url}/deposit/{d.id}",
            "files": f"{record}/files" if d.submitted else f"{api}/files",
            "latest_draft": api,
            "latest_draft_html": f"{self.base_url}/deposit/{d.id}",
            **{name: f"{api}/actions/{name}" for name in ACTIONS},
        }
        if not listed and self.bucket_links:  # bucket ids are not in the search index
            links["bucket"] = f"{self.base_url}/api/files/{d.bucket}"
        if d.submitted:
            links["record"] = record
            links["record_html"] = f"{self.base_url}/records/{d.id}"
            links["doi"] = f"https://doi.org/10.5072/zenodo.{d.id}"
        if self.lean_links:
            for name in ACTIONS:
                links.pop(name)
        return links

    def _concept(self, d: Deposition) -> str | None:
        first = not any(v.submitted for v in self.depositions.values() if v.conceptrecid == d.conceptrecid)
        return None if self.null_conceptrecid and first else str(d.conceptrecid)

    def _legacy_creators(self, d: Deposition) -> list[dict[str, Any]]:
        """common.py CreatorSchema: name from person_or_org.name, affiliation, orcid."""
        found = []
        for creator in d.creators:
            person = creator["person_or_org"]
            item: dict[str, Any] = {"name": person.get("name")}
            if creator.get("affiliations"):
                item["affiliation"] = creator["affiliations"][0].get("name")
            for identifier in person.get("identifiers", []):
                if identifier["scheme"] == "orcid":
                    item["orcid"] = identifier["identifier"]
            found.append(item)
        return found

    def _resource(self, d: Deposition, *, listed: bool = False) -> dict[str, Any]:
        metadata = {**d.metadata, "creators": self._legacy_creators(d)}
        metadata["prereserve_doi"] = {"doi": f"10.5072/zenodo.{d.id}", "recid": d.id}
        resource: dict[str, Any] = {
            "id": d.id,
            "conceptrecid": self._concept(d),
            "created": d.created,
            "modified": d.modified,
            "owner": d.owner,
            "record_id": d.id,
            "state": "done" if d.submitted else "unsubmitted",
            "submitted": d.submitted,
            "title": d.metadata.get("title", ""),
            "metadata": metadata,
            "files": [self._file(d, k) for k in sorted(d.files)],
            "links": self._links(d, listed=listed),
        }
        if d.submitted:
            resource.update(
                doi=f"10.5072/zenodo.{d.id}",
                doi_url=f"https://doi.org/10.5072/zenodo.{d.id}",
                conceptdoi=f"10.5072/zenodo.{d.conceptrecid}",
            )
        return resource

    def _file(self, d: Deposition, key: str) -> dict[str, Any]:
        """files.py LegacyFileSchema: id, filename, filesize, checksum without its "md5:" prefix."""
        data = d.files[key]
        api = f"{self.base_url}/api/deposit/depositions/{d.id}"
        return {
            "id": d.file_ids[key],
            "filename": key,
            "filesize": len(data),
            "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "links": {
                "self": f"{api}/files/{d.file_ids[key]}",
                "download": f"{self.base_url}/api/records/{d.id}/draft/files/{key}/content",
            },
        }

    def _body(self, request: Request) -> dict[str, Any] | Response:
        if request.mimetype != "application/json":
            return self._error(415, "Unsupported media type: send application/json.")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return self._error(400, "The request body is not a JSON object.")
        return data

    def _list(self, request: Request, owner: int) -> Response:
        mine = [d for d in self.depositions.values() if d.owner == owner]
        status = request.args.get("status")
        if status in ("draft", "published"):
            mine = [d for d in mine if d.submitted == (status == "published")]
        if match := re.fullmatch(r"conceptrecid:\"?(\d+)\"?", request.args.get("q", "")):
            mine = [d for d in mine if d.conceptrecid == int(match.group(1))]
        if request.args.get("all_versions", "false").lower() not in ("true", "1"):
            latest: dict[int, Deposition] = {}
            for d in mine:
                if d.conceptrecid not in latest or d.id > latest[d.conceptrecid].id:
                    latest[d.conceptrecid] = d
            mine = list(latest.values())
        mine.sort(key=lambda d: d.id, reverse=request.args.get("sort", "mostrecent").lstrip("-") == "mostrecent")
        size = min(int(request.args.get("size", 10)), MAX_PAGE_SIZE)
        page = int(request.args.get("page", 1))
        batch = mine[(page - 1) * size : page * size]
        links = []
        if page * size < len(mine):
            links.append(f'<{self.base_url}{request.path}?page={page + 1}&size={size}>; rel="next"')
        links.append(f'<{self.base_url}{request.path}?page={page}&size={size}>; rel="self"')
        return self.json([self._resource(d, listed=True) for d in batch], headers={"Link": ", ".join(links)})

    @staticmethod
    def _person(creator: dict[str, Any]) -> dict[str, Any]:
        """deserializers/metadata.py PersonSchema + CreatorSchema: always a person; "Family, Given" is split."""
        name = str(creator.get("name") or "")
        person: dict[str, Any] = {"type": "personal"}
        if name.count(",") == 1:
            family, given = name.split(",")
            person.update(family_name=family.strip(), given_name=given.strip())
        elif name:
            person["family_name"] = name
        person["name"] = ", ".join(n for n in (person.get("family_name"), person.get("given_name")) if n)
        if creator.get("orcid"):
            person["identifiers"] = [{"scheme": "orcid", "identifier": creator["orcid"]}]
        found: dict[str, Any] = {"person_or_org": person}
        if creator.get("affiliation"):
            found["affiliations"] = [{"name": creator["affiliation"]}]
        return found

    def _licence_error(self, value: Any) -> str | None:
        """licenses.py legacy_to_rdm, then LEGACY_LICENSES by exact id (load_rights)."""
        if not isinstance(value, (str, dict)):
            return f"Invalid license value provided (expected string, or object with 'id' key): {value}"
        given = value.get("id", "") if isinstance(value, dict) else value
        normalized = str(given).lower().strip()
        rdm = VOCABULARY["to_rdm"].get(VOCABULARY["aliases"].get(normalized, normalized).lower())
        if rdm in self.licences or given in VOCABULARY["legacy_ids"]:
            return None
        return f"Invalid license provided: {given}"

    def _invalid(self, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """What the legacy deserializer refuses at once (a draft is saved with missing fields)."""
        errors = []
        if "license" in metadata and (message := self._licence_error(metadata["license"])):
            errors.append({"field": "metadata.license", "messages": [message]})
        if "upload_type" in metadata and metadata["upload_type"] not in UPLOAD_TYPES:
            errors.append({"field": "metadata.upload_type", "messages": ["Invalid value."]})
        if "access_right" in metadata and metadata["access_right"] not in ACCESS_RIGHTS:
            errors.append({"field": "metadata.access_right", "messages": ["Unknown access type."]})
        creators = metadata.get("creators", [])
        if not isinstance(creators, list) or not all(isinstance(c, dict) for c in creators):
            errors.append({"field": "metadata.creators", "messages": ["Not a valid list."]})
        return errors

    def _create(self, request: Request, owner: int) -> Response:
        body = self._body(request)
        if isinstance(body, Response):
            return body
        metadata = body.get("metadata", {})
        errors = self._invalid(metadata)
        if errors:
            return self._error(400, "A validation error occurred.", errors)
        return self.json(self._resource(self._new(owner, metadata)), 201)

    def _update(self, request: Request, d: Deposition) -> Response:
        if d.submitted:
            return self._error(403, "Published depositions can be edited only after the edit action.")
        body = self._body(request)
        if isinstance(body, Response):
            return body
        metadata = body.get("metadata", {})
        errors = self._invalid(metadata)
        if errors:
            return self._error(400, "A validation error occurred.", errors)
        d.creators = [self._person(c) for c in metadata.get("creators", []) or []]
        d.metadata, d.modified = {k: v for k, v in metadata.items() if k != "creators"}, _now()
        return self.json(self._resource(d))

    def _rdm_draft(self, request: Request, d: Deposition) -> Response:
        """GET/PUT /api/records/:id/draft (InvenioRDM's own format); only creators are taken from a PUT here."""
        if request.method == "PUT":
            body = self._body(request)
            if isinstance(body, Response):
                return body
            creators = (body.get("metadata") or {}).get("creators", [])
            errors = []
            for n, creator in enumerate(creators):
                person = dict(creator.get("person_or_org") or {})
                kind, where = person.get("type"), f"metadata.creators.{n}.person_or_org"
                if kind == "personal" and not person.get("family_name"):
                    errors.append({"field": f"{where}.family_name", "messages": ["Family name cannot be blank."]})
                elif kind == "organizational" and not person.get("name"):
                    errors.append({"field": f"{where}.name", "messages": ["Name cannot be blank."]})
                elif kind not in ("personal", "organizational"):
                    choose = "Invalid value. Choose one of ['organizational', 'personal']."
                    errors.append({"field": f"{where}.type", "messages": [choose]})
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            d.creators = []
            for creator in creators:
                person = dict(creator["person_or_org"])
                if person["type"] == "personal":
                    person["name"] = ", ".join(n for n in (person.get("family_name"), person.get("given_name")) if n)
                else:
                    person.pop("family_name", None), person.pop("given_name", None)
                d.creators.append({**creator, "person_or_org": person})
            d.modified = _now()
        metadata = {k: v for k, v in d.metadata.items() if k in ("title", "description", "publication_date", "version")}
        draft = {
            "id": str(d.id),
            "parent": {"id": str(d.conceptrecid)},
            "metadata": {**metadata, "creators": d.creators, "resource_type": {"id": d.metadata.get("upload_type")}},
            "files": {"enabled": True},
            "is_published": False,
            "is_draft": True,
            "links": {"self": f"{self.base_url}/api/records/{d.id}/draft"},
        }
        return self.json(draft)

    def _draft_of(self, conceptrecid: int) -> Deposition | None:
        return next((d for d in self.depositions.values() if d.conceptrecid == conceptrecid and not d.submitted), None)

    def _newversion(self, d: Deposition) -> Response:
        """resources.py new_version: the new draft (or the family's open one), with the version's files."""
        if not d.submitted:
            return self._error(400, "The record is not published.")
        draft = self._draft_of(d.conceptrecid)
        if draft is None:
            kept = {k: v for k, v in d.metadata.items() if k not in ("doi", "prereserve_doi")}
            draft = self._new(d.owner, kept, d.conceptrecid)
            draft.creators = [dict(c) for c in d.creators]
            for key, data in d.files.items():
                self._store(draft, key, data)
        return self.json(self._resource(draft), 201)

    def _publish(self, d: Deposition) -> Response:
        if d.submitted:
            return self._error(400, "The deposition is already published.")
        errors = self._invalid(d.metadata)
        required = {"title": "title", "publication_date": "publication_date", "upload_type": "resource_type"}
        for key, name in required.items():
            if not d.metadata.get(key):
                errors.append({"field": f"metadata.{name}", "messages": ["Missing data for required field."]})
        if not d.creators:
            errors.append({"field": "metadata.creators", "messages": ["Missing data for required field."]})
        if not d.files:
            errors.append({"field": "files.enabled", "messages": ["Missing uploaded files."]})
        if errors:
            return self._error(400, "A validation error occurred.", errors)
        d.submitted, d.modified = True, _now()
        return self.json(self._resource(d), 202)

    def _files(self, request: Request, d: Deposition, key: str | None) -> Response:
        if key is None and request.method == "GET" and self.bucket_listing_fails:
            message = (
                "The server encountered an internal error and was unable to complete your request. "
                "Either the server is overloaded or there is an error in the application."
            )
            return self.json({"status": 500, "message": message, "error_id": uuid.uuid4().hex}, 500)
        if key is None and request.method == "GET":
            contents = [{"key": k, "size": len(v), "checksum": "md5:" + _md5(v)} for k, v in sorted(d.files.items())]
            return self.json({"id": d.bucket, "locked": d.submitted, "contents": contents})
        if key is None:
            return self._error(405, "Method not allowed.")
        if request.method in ("PUT", "DELETE") and d.submitted:
            return self._error(403, "The bucket is locked: the deposition is published.")
        if request.method == "PUT":
            data = request.get_data()
            self._store(d, key, bytes([data[0] ^ 1]) + data[1:] if key in self.damage and data else data)
            answer: dict[str, Any] = {
                "key": key,
                "size": len(data),
                "mimetype": "application/octet-stream",
                "created": _now(),
                "updated": _now(),
                "is_head": True,
                "delete_marker": False,
                "links": {"self": f"{self.base_url}/api/files/{d.bucket}/{key}"},
            }
            if self.checksum_in_put:
                answer["checksum"] = "md5:" + _md5(d.files[key])
            return self.json(answer, 201)
        if request.method == "DELETE":
            if d.files.pop(key, None) is None:
                return self._error(404, "Object does not exist.")
            d.file_ids.pop(key, None)
            return Response(status=204)
        if request.method == "GET" and key in d.files:
            return Response(d.files[key], mimetype="application/octet-stream")
        return self._error(404, "Object does not exist.")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()

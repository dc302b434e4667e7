"""A fake Zenodo that follows the REST deposit API of developers.zenodo.org closely enough to publish against.

Depositions (POST/GET/PUT /api/deposit/depositions[/:id], list with q, status, all_versions, sort,
page, size and Link headers), files through the bucket API (GET/PUT/DELETE /api/files/:bucket[/:key],
answering checksum "md5:…") and the deposition files listing, and the actions newversion (answering
the original with links.latest_draft; one draft per concept) and publish (202 with doi, conceptdoi;
the metadata is validated then, and the bucket locked). Errors are {"status", "message"[, "errors"]};
tokens come as "Authorization: Bearer" or ?access_token=, and each has scopes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.servers.base import Service

SCOPES = frozenset({"deposit:write", "deposit:actions"})
LICENCES = frozenset({"cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "odbl-1.0", "mit"})
UPLOAD_TYPES = frozenset({"publication", "poster", "presentation", "dataset", "image", "video", "software", "other"})
ACCESS_RIGHTS = frozenset({"open", "embargoed", "restricted", "closed"})
MAX_PAGE_SIZE = 25


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Deposition:
    id: int
    conceptrecid: int
    owner: int
    bucket: str
    metadata: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    submitted: bool = False
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)


class FakeZenodo(Service):
    """State: depositions by id, tokens with their scopes and owner. `echo_token` puts the token in 401 bodies."""

    def __init__(self, tokens: dict[str, frozenset[str]], *, echo_token: bool = False) -> None:
        super().__init__()
        self.tokens = tokens
        self.owners = {token: n + 1 for n, token in enumerate(tokens)}
        self.echo_token = echo_token
        self.licences = set(LICENCES)
        self.depositions: dict[int, Deposition] = {}
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
            deposition.files["x.txt"] = b"x"
            deposition.submitted = True

    # --- the API -----------------------------------------------------------------------------------

    def _new(self, owner: int, metadata: dict[str, Any], conceptrecid: int | None = None) -> Deposition:
        if conceptrecid is None:
            conceptrecid = self._next_id
            self._next_id += 1
        deposition = Deposition(self._next_id, conceptrecid, owner, uuid.uuid4().hex, dict(metadata))
        self._next_id += 1
        self.depositions[deposition.id] = deposition
        return deposition

    def handle(self, request: Request) -> Response:
        with self.lock:
            owner = self._owner(request)
            if isinstance(owner, Response):
                return owner
            path, method = request.path.rstrip("/"), request.method
            if path == "/api/deposit/depositions":
                return self._list(request, owner) if method == "GET" else self._create(request, owner)
            if match := re.fullmatch(r"/api/deposit/depositions/(\d+)(/files|/actions/(newversion|publish))?", path):
                deposition = self.depositions.get(int(match.group(1)))
                if deposition is None or deposition.owner != owner:
                    return self._error(404, "PID does not exist.")
                if match.group(3) == "newversion" and method == "POST":
                    return self._newversion(deposition)
                if match.group(3) == "publish" and method == "POST":
                    return self._publish(request, deposition)
                if match.group(2) == "/files" and method == "GET":
                    return self.json([self._file(deposition, k) for k in sorted(deposition.files)])
                if match.group(2) is None and method == "GET":
                    return self.json(self._resource(deposition))
                if match.group(2) is None and method == "PUT":
                    return self._update(request, deposition)
                return self._error(405, "Method not allowed.")
            if match := re.fullmatch(r"/api/files/([0-9a-f]+)(?:/(.+))?", path):
                bucket = next((d for d in self.depositions.values() if d.bucket == match.group(1)), None)
                if bucket is None or bucket.owner != owner:
                    return self._error(404, "Bucket does not exist.")
                return self._files(request, bucket, match.group(2))
            return self._error(404, "The requested URL was not found on the server.")

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
    def _error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Response:
        body: dict[str, Any] = {"status": status, "message": message}
        if errors:
            body["errors"] = errors
        return Service.json(body, status)

    def _links(self, d: Deposition) -> dict[str, str]:
        api = f"{self.base_url}/api/deposit/depositions/{d.id}"
        links = {
            "self": api,
            "html": f"{self.base_url}/deposit/{d.id}",
            "files": f"{api}/files",
            "bucket": f"{self.base_url}/api/files/{d.bucket}",
            "publish": f"{api}/actions/publish",
            "newversion": f"{api}/actions/newversion",
            "edit": f"{api}/actions/edit",
            "discard": f"{api}/actions/discard",
        }
        if d.submitted:
            links["record_html"] = f"{self.base_url}/records/{d.id}"
            links["doi"] = f"https://doi.org/10.5072/zenodo.{d.id}"
        draft = self._draft_of(d.conceptrecid)
        if draft is not None:
            links["latest_draft"] = f"{self.base_url}/api/deposit/depositions/{draft.id}"
            links["latest_draft_html"] = f"{self.base_url}/deposit/{draft.id}"
        return links

    def _resource(self, d: Deposition) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "id": d.id,
            "conceptrecid": str(d.conceptrecid),
            "created": d.created,
            "modified": d.modified,
            "owner": d.owner,
            "record_id": d.id,
            "state": "done" if d.submitted else "unsubmitted",
            "submitted": d.submitted,
            "title": d.metadata.get("title", ""),
            "metadata": dict(d.metadata),
            "files": [self._file(d, k) for k in sorted(d.files)],
            "links": self._links(d),
        }
        if d.submitted:
            resource.update(
                doi=f"10.5072/zenodo.{d.id}",
                doi_url=f"https://doi.org/10.5072/zenodo.{d.id}",
                conceptdoi=f"10.5072/zenodo.{d.conceptrecid}",
                record_url=f"{self.base_url}/records/{d.id}",
            )
        return resource

    def _file(self, d: Deposition, key: str) -> dict[str, Any]:
        data = d.files[key]
        return {
            "id": hashlib.sha1(f"{d.bucket}/{key}".encode(), usedforsecurity=False).hexdigest(),
            "filename": key,
            "filesize": len(data),
            "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "links": {"self": f"{self.base_url}/api/files/{d.bucket}/{key}"},
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
        return self.json([self._resource(d) for d in batch], headers={"Link": ", ".join(links)})

    def _invalid(self, metadata: dict[str, Any], *, publishing: bool) -> list[dict[str, str]]:
        errors = []
        checks = {
            "upload_type": lambda v: v in UPLOAD_TYPES,
            "access_right": lambda v: v in ACCESS_RIGHTS,
            "license": lambda v: v in self.licences,
            "publication_date": lambda v: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v))),
            "creators": lambda v: isinstance(v, list) and bool(v) and all(c.get("name") for c in v),
        }
        for key, valid in checks.items():
            if key in metadata and not valid(metadata[key]):
                errors.append({"field": f"metadata.{key}", "message": "Not a valid choice.", "code": "10"})
        if publishing:
            for key in ("upload_type", "publication_date", "title", "creators", "description", "access_right"):
                if not metadata.get(key):
                    errors.append({"field": f"metadata.{key}", "message": "Field is required.", "code": "10"})
            if metadata.get("access_right") == "open" and not metadata.get("license"):
                errors.append({"field": "metadata.license", "message": "Field is required.", "code": "10"})
        return errors

    def _create(self, request: Request, owner: int) -> Response:
        body = self._body(request)
        if isinstance(body, Response):
            return body
        metadata = body.get("metadata", {})
        errors = self._invalid(metadata, publishing=False)
        if errors:
            return self._error(400, "Validation error.", errors)
        return self.json(self._resource(self._new(owner, metadata)), 201)

    def _update(self, request: Request, d: Deposition) -> Response:
        if d.submitted:
            return self._error(403, "Published depositions can be edited only after the edit action.")
        body = self._body(request)
        if isinstance(body, Response):
            return body
        metadata = body.get("metadata", {})
        errors = self._invalid(metadata, publishing=False)
        if errors:
            return self._error(400, "Validation error.", errors)
        d.metadata, d.modified = dict(metadata), _now()
        return self.json(self._resource(d))

    def _draft_of(self, conceptrecid: int) -> Deposition | None:
        return next((d for d in self.depositions.values() if d.conceptrecid == conceptrecid and not d.submitted), None)

    def _newversion(self, d: Deposition) -> Response:
        versions = [v for v in self.depositions.values() if v.conceptrecid == d.conceptrecid and v.submitted]
        if not d.submitted or d.id != max(v.id for v in versions):
            return self._error(400, "The deposition is not the latest published version of its record.")
        if self._draft_of(d.conceptrecid) is None:
            kept = {k: v for k, v in d.metadata.items() if k not in ("doi", "prereserve_doi")}
            draft = self._new(d.owner, kept, d.conceptrecid)
            draft.files = dict(d.files)  # a snapshot of the previous version's files
        return self.json(self._resource(d), 201)

    def _publish(self, request: Request, d: Deposition) -> Response:
        if d.submitted:
            return self._error(400, "The deposition is already published.")
        errors = self._invalid(d.metadata, publishing=True)
        if not d.files:
            errors.append({"field": "files", "message": "Minimum one file must be provided.", "code": "10"})
        if errors:
            return self._error(400, "Validation error.", errors)
        d.submitted, d.modified = True, _now()
        return self.json(self._resource(d), 202)

    def _files(self, request: Request, d: Deposition, key: str | None) -> Response:
        if key is None and request.method == "GET":
            contents = [
                {
                    "key": k,
                    "size": len(v),
                    "checksum": "md5:" + hashlib.md5(v, usedforsecurity=False).hexdigest(),
                    "links": {"self": f"{self.base_url}/api/files/{d.bucket}/{k}"},
                }
                for k, v in sorted(d.files.items())
            ]
            return self.json({"id": d.bucket, "locked": d.submitted, "contents": contents})
        if key is None:
            return self._error(405, "Method not allowed.")
        if request.method in ("PUT", "DELETE") and d.submitted:
            return self._error(403, "The bucket is locked: the deposition is published.")
        if request.method == "PUT":
            data = request.get_data()
            d.files[key] = data
            checksum = "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()
            return self.json(
                {
                    "key": key,
                    "size": len(data),
                    "checksum": checksum,
                    "mimetype": "application/octet-stream",
                    "created": _now(),
                    "updated": _now(),
                    "is_head": True,
                    "delete_marker": False,
                },
                201,
            )
        if request.method == "DELETE":
            if d.files.pop(key, None) is None:
                return self._error(404, "Object does not exist.")
            return Response(status=204)
        if request.method == "GET" and key in d.files:
            return Response(d.files[key], mimetype="application/octet-stream")
        return self._error(404, "Object does not exist.")

"""A fake CKAN (with HDX's dataset fields) following the action API of docs.ckan.org.

POST /api/3/action/<action> with JSON, or multipart/form-data with the file under `upload` for
resource_create / resource_update; GET with query parameters for the *_show actions. Answers are
{"help", "success": true, "result"} or {"help", "success": false, "error": {"__type", "message",
<field>: [messages]}} with CKAN's status codes: 400 bad request, 403 Authorization Error (also for an
unknown token), 404 Not Found Error, 409 Validation Error. The token comes in the Authorization header.
Uploaded files are served at /dataset/<id>/resource/<id>/download/<filename>.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.servers.base import Service

LICENCES = ("cc-by", "cc-by-sa", "cc-zero", "cc-nc", "odc-odbl", "odc-by", "odc-pddl", "other-open")
METHODOLOGIES = ("Census", "Sample Survey", "Direct Observational Data/Anecdotal Data", "Registry", "Other")
NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
DATASET_DATE = re.compile(r"^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} TO \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\]$")
ACTIONS = frozenset(
    {
        "license_list",
        "organization_show",
        "package_show",
        "package_create",
        "package_update",
        "resource_create",
        "resource_update",
        "resource_delete",
    }
)
READ_ACTIONS = frozenset({"package_show", "organization_show", "license_list", "resource_show"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str = "", **fields: list[str]) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.fields = status, kind, message, fields


class FakeCkan(Service):
    """State: organizations, datasets (with resources) and stored files; tokens map to user names."""

    def __init__(self, tokens: dict[str, str], organizations: dict[str, list[str]]) -> None:
        super().__init__()
        self.tokens = tokens
        self.organizations = {
            name: {"id": str(uuid.uuid4()), "name": name, "title": name.title(), "members": members}
            for name, members in organizations.items()
        }
        self.packages: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}

    def handle(self, request: Request) -> Response:
        if match := re.fullmatch(r"/dataset/([^/]+)/resource/([^/]+)/download/(.+)", request.path):
            with self.lock:
                data = self.files.get(match.group(2))
            return Response(data, mimetype="application/octet-stream") if data is not None else Response(status=404)
        match = re.fullmatch(r"/api/3/action/(\w+)", request.path)
        if match is None:
            return Response("Not found", status=404)
        action = match.group(1)
        envelope = {"help": f"{self.base_url}/api/3/action/help_show?name={action}"}
        if action not in ACTIONS:
            error = {"__type": "Not Found Error", "message": f"Action {action} not found"}
            return self.json({**envelope, "success": False, "error": error}, 400)
        try:
            with self.lock:
                user = self._user(request, action)
                result = getattr(self, f"_{action}")(self._params(request), request, user)
        except CkanError as err:
            error = {"__type": err.kind, **({"message": err.message} if err.message else {}), **err.fields}
            return self.json({**envelope, "success": False, "error": error}, err.status)
        return self.json({**envelope, "success": True, "result": result})

    # --- request handling --------------------------------------------------------------------------

    def _user(self, request: Request, action: str) -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token and token not in self.tokens or not token and action not in READ_ACTIONS:
            raise CkanError(403, "Authorization Error", "Access denied: the API token is missing or not valid.")
        return self.tokens.get(token)

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.args)
        if request.mimetype == "application/json":
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                raise CkanError(400, "Bad request", "The JSON body could not be parsed.")
            return data
        params: dict[str, Any] = dict(request.form)
        if "upload" in request.files:
            params["upload"] = request.files["upload"]
        return params

    def _member(self, user: str | None, organization_id: str) -> None:
        org = next((o for o in self.organizations.values() if organization_id in (o["id"], o["name"])), None)
        if org is None:
            raise CkanError(409, "Validation Error", owner_org=["Organization does not exist"])
        if user not in org["members"]:
            raise CkanError(403, "Authorization Error", f"User {user} not authorized to edit {org['name']}")

    def _package(self, key: str, user: str | None) -> dict[str, Any]:
        package = self.packages.get(key) or next(
            (p for p in self.packages.values() if p["name"] == key and p["state"] != "deleted"), None
        )
        if package is None or package["state"] == "deleted" or package["state"] == "draft" and user is None:
            raise CkanError(404, "Not Found Error", "Not found")
        return package

    def _validate(self, data: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        if not NAME.match(str(data.get("name", ""))):
            errors["name"] = ["Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"]
        if not data.get("title"):
            errors["title"] = ["Missing value"]
        if data.get("license_id") not in LICENCES:
            errors["license_id"] = ["Please select a licence from the list"]
        if not DATASET_DATE.match(str(data.get("dataset_date", ""))):
            errors["dataset_date"] = ["Date must be of the form [start TO end]"]
        if data.get("methodology") not in METHODOLOGIES:
            errors["methodology"] = ["Please choose a methodology"]
        if data.get("methodology") == "Other" and not data.get("methodology_other"):
            errors["methodology_other"] = ["Missing value"]
        for tag in data.get("tags", []):
            if not re.fullmatch(r"[\w .-]{2,100}", str(tag.get("name", ""))):
                errors.setdefault("tags", []).append(f"Tag {tag.get('name')!r} must be alphanumeric")
        if errors:
            raise CkanError(409, "Validation Error", **errors)

    # --- actions -----------------------------------------------------------------------------------

    def _license_list(self, params: dict[str, Any], request: Request, user: str | None) -> list[dict[str, str]]:
        return [{"id": lid, "title": lid} for lid in LICENCES]

    def _organization_show(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        org = next((o for o in self.organizations.values() if params.get("id") in (o["id"], o["name"])), None)
        if org is None:
            raise CkanError(404, "Not Found Error", "Not found")
        return {k: v for k, v in org.items() if k != "members"}

    def _package_show(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        return json.loads(json.dumps(self._package(str(params.get("id", "")), user)))

    def _package_create(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        self._member(user, str(params.get("owner_org", "")))
        if any(p["name"] == params.get("name") and p["state"] != "deleted" for p in self.packages.values()):
            raise CkanError(409, "Validation Error", name=["That URL is already in use."])
        self._validate(params)
        org = next(o for o in self.organizations.values() if params["owner_org"] in (o["id"], o["name"]))
        package = {
            **{k: v for k, v in params.items() if k != "resources"},
            "id": str(uuid.uuid4()),
            "owner_org": org["id"],
            "state": params.get("state", "active"),
            "resources": [],
            "num_resources": 0,
            "metadata_created": _now(),
            "metadata_modified": _now(),
        }
        self.packages[package["id"]] = package
        return json.loads(json.dumps(package))

    def _package_update(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        package = self._package(str(params.get("id") or params.get("name", "")), user)
        self._member(user, package["owner_org"])
        self._validate(params)
        kept_ids = {r.get("id") for r in params.get("resources", [])}
        resources = [r for r in package["resources"] if r["id"] in kept_ids]  # CKAN drops resources left out
        for gone in {r["id"] for r in package["resources"]} - kept_ids:
            self.files.pop(gone, None)
        package.clear()
        package.update({**params, "resources": resources, "num_resources": len(resources), "metadata_modified": _now()})
        return json.loads(json.dumps(package))

    def _store(self, resource: dict[str, Any], package: dict[str, Any], params: dict[str, Any]) -> None:
        upload = params.get("upload")
        for key in ("name", "description", "format", "hash"):
            if key in params:
                resource[key] = params[key]
        if upload is not None:
            data = upload.read()
            filename = upload.filename or "upload"
            self.files[resource["id"]] = data
            resource.update(
                url=f"{self.base_url}/dataset/{package['id']}/resource/{resource['id']}/download/{filename}",
                url_type="upload",
                size=len(data),
                mimetype=upload.mimetype,
                last_modified=_now(),
            )
        elif "url" in params:
            resource.update(url=params["url"], url_type=None)

    def _resource_create(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        package = self._package(str(params.get("package_id", "")), user)
        self._member(user, package["owner_org"])
        if "upload" not in params and "url" not in params:
            raise CkanError(409, "Validation Error", url=["Missing value"])
        resource: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "package_id": package["id"],
            "created": _now(),
            "position": len(package["resources"]),
            "state": "active",
        }
        self._store(resource, package, params)
        package["resources"].append(resource)
        package["num_resources"] = len(package["resources"])
        return dict(resource)

    def _find_resource(self, resource_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for package in self.packages.values():
            for resource in package["resources"]:
                if resource["id"] == resource_id:
                    return package, resource
        raise CkanError(404, "Not Found Error", "Resource was not found.")

    def _resource_update(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        package, resource = self._find_resource(str(params.get("id", "")))
        self._member(user, package["owner_org"])
        self._store(resource, package, params)
        return dict(resource)

    def _resource_delete(self, params: dict[str, Any], request: Request, user: str | None) -> None:
        package, resource = self._find_resource(str(params.get("id", "")))
        self._member(user, package["owner_org"])
        package["resources"].remove(resource)
        package["num_resources"] = len(package["resources"])
        self.files.pop(resource["id"], None)

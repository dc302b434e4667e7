"""A fake CKAN 2.12 following the action API, with an HDX mode following HDX's dataset schema.

POST /api/3/action/<action> with JSON, or multipart/form-data with the file under `upload` for
resource_create / resource_update; GET with query parameters for the *_show actions. Answers are
{"help", "success": true, "result"} or {"help", "success": false, "error": {"__type", "message",
<field>: [messages]}} with CKAN's status codes: 400 bad request, 403 Authorization Error (also for an
unknown token), 404 Not Found Error, 409 Validation Error. The token comes in the Authorization header.
Uploaded files are served at /dataset/<id>/resource/<id>/download/<filename>.

Behaviour read from ckan/ckan (master at 2dbe2c18, "v.2.12.0"):
- ckan/logic/schema/__init__.py default_create_package_schema: 'state': [ignore_not_package_admin, …] and
  ckan/logic/validators.py ignore_not_package_admin drop `state` on package_create unless the user is a
  sysadmin (no package exists yet to administer): `state: "draft"` from an editor gives an active dataset
  (ckan/ckan#5497). 'private': [ignore_missing, boolean_validator, …] is kept; '__extras': [ignore] drops
  top-level fields the schema does not know (extra fields go in `extras`).
- ckan/lib/plugins.py DefaultPermissionLabels: only active, non-private datasets are 'public'; anyone
  else gets 403 from package_show (ckan/logic/auth/get.py package_show).
- ckan/logic/action/update.py package_patch: package_show's dict updated with the given keys, then
  package_update (resources kept); package_update drops resources left out of `resources`.
- ckan/lib/uploader.py ResourceUpload.upload → _copy_file: counting 1 MB chunks, more than
  ckan.max_resource_size (ckan/config/config_declaration.yaml: default 10) raises
  ValidationError({'upload': ['File upload too large']}), i.e. 409, and the resource is not created.
- validators tag_length_validator (2-100) and tag_name_validator ([\\w \\-.]).
- ckan/views/resource.py download: resource_show + package_show as the requesting user (the API token
  identifies it on every request), 403 "Not authorized to download resource" for a private dataset.
  Resource URLs are built from ckan.site_url, which need not be the address the client used.

HDX mode, read from OCHA-DAP/hdx-ckan (1d3c9f38) ckanext-hdx_package/ckanext/hdx_package/:
- plugin.py _modify_package_schema: not_empty notes, dataset_source, methodology (+ methodology_other when
  "Other"), license_id, dataset_date, data_update_frequency (helpers/freshness_calculator.py UPDATE_FREQ_INFO,
  "Value not in allowed list"), maintainer (helpers/custom_validator.py hdx_find_package_maintainer: a user
  who is a member of owner_org, or a sysadmin), groups_list (groups_not_empty: "Missing value" / "Wrong
  country code or id") and each tag on the approved list (hdx_tag_name_approved_validator). For a private
  dataset (plugin.py validate → _update_with_private_modify_package_schema) notes, methodology,
  dataset_date and data_update_frequency may be missing and groups are not checked. license_id is only
  not_empty: HDX does not refuse an id outside its list (license_list shows its list).
- actions/create.py resource_create, actions/update.py resource_update: without resource_type
  'file.upload' the resource is a link: url_type 'api', size 0; with it, size is the request's
  Content-Length (the whole multipart body, not the file).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from eventdata.publish.hdx import approved_tags, licences, update_frequencies
from tests.conftest import REPO
from tests.servers.base import Service

#: CKAN's default licence list (ckan/model/license.py).
LICENCES = ("cc-by", "cc-by-sa", "cc-zero", "cc-nc", "odc-odbl", "odc-by", "odc-pddl", "other-open")
NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
TAG = re.compile(r"[\w \-.]*")
MB = 1 << 20
#: The fields default_create_package_schema knows; any other top-level key goes to __extras and is dropped.
CORE_FIELDS = frozenset(
    {
        "id",
        "name",
        "title",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "license_id",
        "notes",
        "url",
        "version",
        "state",
        "type",
        "owner_org",
        "private",
        "resources",
        "tags",
        "extras",
        "groups",
    }
)
#: HDX's fields on top of CKAN's (plugin.py _modify_package_schema), stored as extras and shown at top level.
HDX_FIELDS = frozenset(
    {
        "dataset_source",
        "dataset_date",
        "methodology",
        "methodology_other",
        "caveats",
        "data_update_frequency",
        "license_other",
        "subnational",
        "package_creator",
    }
)
#: HDX's location groups: countries by lower-case ISO3 (a copy of the ISO list in schemas/vocabularies).
COUNTRY_GROUPS = frozenset(
    line.split(",")[1].lower()
    for line in (REPO / "schemas" / "vocabularies" / "countries.csv").read_text(encoding="utf-8").splitlines()[1:]
)
ACTIONS = frozenset(
    {
        "license_list",
        "organization_show",
        "package_show",
        "package_create",
        "package_update",
        "package_patch",
        "resource_create",
        "resource_update",
        "resource_delete",
    }
)
READ_ACTIONS = frozenset({"package_show", "organization_show", "license_list", "resource_show"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _boolean(value: Any) -> bool:
    """ckan/logic/validators.py boolean_validator."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "yes", "t", "y", "1")


def _copy(data: Any) -> Any:
    return json.loads(json.dumps(data))


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.fields = status, kind, message, fields


class FakeCkan(Service):
    """State: organizations (name → editor user names), datasets (with resources) and stored files.

    tokens map to user names; sysadmins may set `state`; hdx switches on HDX's schema;
    max_resource_size is ckan.max_resource_size in MB; site_host replaces 127.0.0.1 in ckan.site_url.
    """

    def __init__(
        self,
        tokens: dict[str, str],
        organizations: dict[str, list[str]],
        *,
        sysadmins: tuple[str, ...] = (),
        hdx: bool = False,
        max_resource_size: int = 10,
        site_host: str = "",
    ) -> None:
        super().__init__()
        self.tokens = tokens
        self.sysadmins = set(sysadmins)
        self.hdx = hdx
        self.max_resource_size = max_resource_size
        self.site_host = site_host
        self.organizations = {
            name: {"id": str(uuid.uuid4()), "name": name, "title": name.title(), "members": members}
            for name, members in organizations.items()
        }
        self.packages: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}

    @property
    def site_url(self) -> str:
        """ckan.site_url: the address resource URLs are built from (site_host, else the server's own)."""
        return self.base_url.replace("127.0.0.1", self.site_host) if self.site_host else self.base_url

    def handle(self, request: Request) -> Response:
        if match := re.fullmatch(r"/dataset/([^/]+)/resource/([^/]+)/download/(.+)", request.path):
            with self.lock:
                data = self.files.get(match.group(2))
                token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                try:
                    package = self._package(match.group(1), self.tokens.get(token))
                except CkanError as err:
                    return Response("Not authorized to download resource", status=err.status)
            if data is None or not any(r["id"] == match.group(2) for r in package["resources"]):
                return Response("Resource not found", status=404)
            return Response(data, mimetype="application/octet-stream")
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

    def _org(self, organization_id: str) -> dict[str, Any] | None:
        return next((o for o in self.organizations.values() if organization_id in (o["id"], o["name"])), None)

    def _member(self, user: str | None, organization_id: str) -> None:
        org = self._org(organization_id)
        if org is None:
            raise CkanError(409, "Validation Error", owner_org=["Organization does not exist"])
        if user not in org["members"] and user not in self.sysadmins:
            raise CkanError(403, "Authorization Error", f"User {user} not authorized to edit {org['name']}")

    def _readable(self, package: dict[str, Any], user: str | None) -> bool:
        """ckan/lib/plugins.py get_dataset_labels: public when active and not private, else members only."""
        if package["state"] == "active" and not package.get("private"):
            return True
        org = self._org(package["owner_org"])
        return user in self.sysadmins or org is not None and user in org["members"]

    def _package(self, key: str, user: str | None) -> dict[str, Any]:
        package = self.packages.get(key) or next(
            (p for p in self.packages.values() if p["name"] == key and p["state"] != "deleted"), None
        )
        if package is None or package["state"] == "deleted":
            raise CkanError(404, "Not Found Error", "Not found")
        if not self._readable(package, user):
            raise CkanError(
                403, "Authorization Error", f"User {user or ''} not authorized to read package {package['id']}"
            )
        return package

    def _validate(self, data: dict[str, Any], user: str | None) -> dict[str, Any]:
        """The dataset as stored: CKAN's checks (and HDX's in HDX mode); unknown top-level keys dropped."""
        errors: dict[str, Any] = {}
        if not NAME.match(str(data.get("name", ""))):
            errors["name"] = ["Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"]
        tag_errors: list[dict[str, list[str]]] = []
        for tag in data.get("tags", []) or []:
            name, found = str(tag.get("name", "")), []
            if len(name) < 2 or len(name) > 100:
                found.append(f'Tag "{name}" length is less than minimum 2 or more than maximum 100')
            if not TAG.fullmatch(name):
                found.append(
                    f'Tag "{name}" can only contain alphanumeric characters, spaces (" "), hyphens ("-"), '
                    'underscores ("_") or dots (".")'
                )
            if self.hdx and name not in approved_tags():
                found.append(
                    f"Tag name '{name}' is not in the approved list of tags. Check the list at: "
                    "https://data.humdata.org/rdr/spreadsheets/approved-tags"
                )
            tag_errors.append({"name": found} if found else {})
        if any(tag_errors):
            errors["tags"] = tag_errors
        if self.hdx:
            errors.update(self._hdx_errors(data))
        if errors:
            raise CkanError(409, "Validation Error", **errors)
        known = CORE_FIELDS | (HDX_FIELDS if self.hdx else frozenset())
        stored = {k: v for k, v in data.items() if k in known}
        if "private" in stored:
            stored["private"] = _boolean(stored["private"])
        if "groups" in stored:
            stored["groups"] = [{"name": g.get("name")} for g in stored["groups"]]
        return stored

    def _hdx_errors(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """HDX's required fields (plugin.py, custom_validator.py); a private dataset is checked more lightly."""
        private = str(data.get("private", "")).lower() != "false"  # plugin.py validate()
        errors: dict[str, list[str]] = {}
        light = {"notes", "methodology", "dataset_date", "data_update_frequency"} if private else set()
        for key in ("notes", "dataset_source", "methodology", "license_id", "dataset_date", "data_update_frequency"):
            if key not in light and not str(data.get(key) or "").strip():
                errors[key] = ["Missing value"]
        frequency = data.get("data_update_frequency")
        if frequency and str(frequency) not in update_frequencies():
            errors["data_update_frequency"] = ["Value not in allowed list"]
        if data.get("methodology") == "Other" and not data.get("methodology_other"):
            errors["methodology_other"] = ["Missing value"]
        if data.get("license_id") == "hdx-other" and not data.get("license_other"):
            errors["license_other"] = ["Missing value"]
        org = self._org(str(data.get("owner_org", "")))
        maintainer = data.get("maintainer")
        if not maintainer or not (maintainer in self.sysadmins or org is not None and maintainer in org["members"]):
            errors["maintainer"] = [
                "Maintainer does not exist or is not a member of current owner organization. Please add valid user ID"
            ]
        if not private:
            groups = data.get("groups") or []
            if not groups:
                errors["groups_list"] = ["Missing value"]
            elif any(str(g.get("name", "")) not in COUNTRY_GROUPS for g in groups):
                errors["groups_list"] = ["Wrong country code or id"]
        return errors

    # --- actions -----------------------------------------------------------------------------------

    def _license_list(self, params: dict[str, Any], request: Request, user: str | None) -> list[dict[str, str]]:
        if self.hdx:
            return [{"id": lid, "title": lic["title"]} for lid, lic in licences().items()]
        return [{"id": lid, "title": lid} for lid in LICENCES]

    def _organization_show(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        org = self._org(str(params.get("id", "")))
        if org is None:
            raise CkanError(404, "Not Found Error", "Not found")
        return {k: v for k, v in org.items() if k != "members"}

    def _package_show(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        return _copy(self._package(str(params.get("id", "")), user))

    def _package_create(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        self._member(user, str(params.get("owner_org", "")))
        if any(p["name"] == params.get("name") and p["state"] != "deleted" for p in self.packages.values()):
            raise CkanError(409, "Validation Error", name=["That URL is already in use."])
        stored = self._validate(params, user)
        if user not in self.sysadmins:
            stored.pop("state", None)  # ignore_not_package_admin: no package to administer yet (ckan#5497)
        org = self._org(params["owner_org"])
        assert org is not None
        package = {
            **{k: v for k, v in stored.items() if k != "resources"},
            "id": str(uuid.uuid4()),
            "owner_org": org["id"],
            "state": stored.get("state", "active"),
            "private": stored.get("private", False),
            "resources": [],
            "num_resources": 0,
            "metadata_created": _now(),
            "metadata_modified": _now(),
        }
        self.packages[package["id"]] = package
        return _copy(package)

    def _package_update(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        package = self._package(str(params.get("id") or params.get("name", "")), user)
        self._member(user, package["owner_org"])
        stored = self._validate({**params, "owner_org": package["owner_org"]}, user)
        if user not in self.sysadmins and not self._member_of(user, package):
            stored.pop("state", None)
        kept_ids = {r.get("id") for r in params.get("resources", [])}
        resources = [r for r in package["resources"] if r["id"] in kept_ids]  # CKAN drops resources left out
        for gone in {r["id"] for r in package["resources"]} - kept_ids:
            self.files.pop(gone, None)
        kept = {k: package[k] for k in ("id", "owner_org", "metadata_created")}
        package.clear()
        package.update(
            {
                "state": "active",
                "private": False,
                **stored,
                **kept,
                "resources": resources,
                "num_resources": len(resources),
                "metadata_modified": _now(),
            }
        )
        return _copy(package)

    def _member_of(self, user: str | None, package: dict[str, Any]) -> bool:
        org = self._org(package["owner_org"])
        return org is not None and user in org["members"]

    def _package_patch(self, params: dict[str, Any], request: Request, user: str | None) -> dict[str, Any]:
        """update.py package_patch: package_show's dict with the given keys replaced, then package_update."""
        package = self._package(str(params.get("id") or params.get("name", "")), user)
        return self._package_update({**_copy(package), **params, "id": package["id"]}, request, user)

    def _store(
        self, resource: dict[str, Any], package: dict[str, Any], params: dict[str, Any], request: Request
    ) -> None:
        upload = params.get("upload")
        data = b""
        if upload is not None:
            data = upload.read()
            if -(-len(data) // MB) > self.max_resource_size:  # uploader.py _copy_file counts 1 MB chunks
                raise CkanError(409, "Validation Error", upload=["File upload too large"])
        for key in ("name", "description", "format", "hash", "resource_type"):
            if key in params:
                resource[key] = params[key]
        if upload is not None:
            filename = upload.filename or "upload"
            self.files[resource["id"]] = data
            resource.update(
                url=f"{self.site_url}/dataset/{package['id']}/resource/{resource['id']}/download/{filename}",
                url_type="upload",
                size=len(data),
                mimetype=upload.mimetype,
                last_modified=_now(),
            )
        elif "url" in params:
            resource.update(url=params["url"], url_type=None)
        if self.hdx:
            if params.get("resource_type") != "file.upload":  # HDX: a link; size overwritten with 0
                resource.update(url_type="api", size=0)
            elif upload is not None:
                resource["size"] = request.content_length

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
        self._store(resource, package, params, request)
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
        updated = dict(resource)
        self._store(updated, package, params, request)
        resource.update(updated)
        return dict(resource)

    def _resource_delete(self, params: dict[str, Any], request: Request, user: str | None) -> None:
        package, resource = self._find_resource(str(params.get("id", "")))
        self._member(user, package["owner_org"])
        package["resources"].remove(resource)
        package["num_resources"] = len(package["resources"])
        self.files.pop(resource["id"], None)

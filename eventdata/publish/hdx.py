"""HDX (data.humdata.org): CKAN with HDX's dataset schema, as a profile of the CKAN publisher.

What HDX refuses at package_create / package_update with 409, read from OCHA-DAP/hdx-ckan
ckanext-hdx_package/ckanext/hdx_package/plugin.py (_modify_package_schema) and helpers/custom_validator.py:
dataset_source, maintainer (an HDX user, member of the owner organization: hdx_find_package_maintainer),
data_update_frequency (one of freshness_calculator.py UPDATE_FREQ_INFO), methodology, dataset_date,
notes, license_id, groups (locations: country groups such as `syr`, groups_not_empty) and tags from HDX's
approved list (hdx_tag_name_approved_validator). A private dataset is checked with a lighter schema
(_update_with_private_modify_package_schema), so everything is checked again when it is made public.
Uploads need resource_type `file.upload`, or HDX treats the resource as a link and stores size 0
(actions/create.py resource_create).

The fields come from the `hdx` object of schemas/dataset.json (carried into datapackage.json); locations
come from the countries in the events; tags are the keywords mapped through HDX's tag clean-up table, or
`hdx.tags`. HDX's lists are shipped in eventdata/publish/hdx_vocabularies/ (sources in its README) and
used offline.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from eventdata.catalog import Release
from eventdata.errors import Problem, PublishError
from eventdata.publish.ckan import CkanPublisher
from eventdata.publish.manifest import ReleaseFile, fix_hint, problem

DEFAULT_BASE_URL = "https://data.humdata.org"
TOKEN_ENV = "EVENTDATA_HDX_TOKEN"
#: HDX's approved-tags list (link given in its validator's message).
APPROVED_TAGS_URL = "https://data.humdata.org/rdr/spreadsheets/approved-tags"
#: Where the release keeps the country list its events were checked against, and the events' columns.
COUNTRIES_CSV = "sources/schemas/vocabularies/countries.csv"
EVENTS_CSV = "data/events.csv"


def _data(name: str) -> str:
    return files("eventdata.publish").joinpath("hdx_vocabularies", name).read_text(encoding="utf-8")


@cache
def approved_tags() -> frozenset[str]:
    """HDX's approved tags (hdx_vocabularies/approved_tags.csv, one a line)."""
    return frozenset(line.strip() for line in _data("approved_tags.csv").splitlines() if line.strip())


@cache
def tag_mapping() -> dict[str, tuple[str, tuple[str, ...]]]:
    """HDX's tag clean-up table: tag → (action ok/merge/delete, new tags)."""
    from eventdata.sources.sheets import parse_csv  # the one CSV reader; it brings pandas, so imported when used

    rows = [cells for _, cells in parse_csv(_data("tag_mapping.csv")).dicts()]
    return {
        r["Current Tag"].strip().lower(): (
            r["Action to Take"].strip(),
            tuple(t.strip() for t in (r["New Tag(s)"] or "").split(";") if t.strip()),
        )
        for r in rows
    }


def _release_rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """A release's CSV file as rows (header → stripped cell); PublishError, located, when it is malformed."""
    from eventdata.sources.sheets import display_path, read_sound_csv

    records = read_sound_csv(path, PublishError)
    missing = [c for c in columns if c not in records.header]
    if missing:
        raise PublishError(f"{display_path(path)} lacks column(s) {missing}; the release was not built by eventdata.")
    return [row for _, row in records.dicts()]


@cache
def licences() -> dict[str, dict[str, Any]]:
    """HDX's licence ids → {id, title, spdx: [SPDX ids eventdata maps to it]}."""
    return {lic["id"]: lic for lic in json.loads(_data("licenses.json"))["licenses"]}


@cache
def update_frequencies() -> dict[str, str]:
    """data_update_frequency values HDX accepts → their titles."""
    found: dict[str, str] = json.loads(_data("update_frequencies.json"))["frequencies"]
    return found


def mapped_tag(keyword: str) -> list[str]:
    """The approved tags a keyword becomes, as hdx-python-api's Vocabulary.get_mapped_tag does ([] when none)."""
    tag = keyword.strip().lower()
    action, new = tag_mapping().get(tag, ("", ()))
    if action == "merge":
        return [t for t in new if t in approved_tags()]
    if action == "delete":
        return []
    return [tag] if tag in approved_tags() else []


def update_frequency(value: Any) -> str | None:
    """HDX's code of an update frequency given as its code ('-2') or title ('As needed')."""
    wanted = str(value).strip()
    for code, title in update_frequencies().items():
        if wanted == code or wanted.lower() == title.lower():
            return code
    return None


class HdxPublisher(CkanPublisher):
    """HDX at base_url (default data.humdata.org); the HDX API token from EVENTDATA_HDX_TOKEN or the keyring."""

    name = "hdx"
    service = "HDX"
    token_env = TOKEN_ENV

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, organization: str, **options: Any) -> None:
        super().__init__(base_url=base_url, organization=organization, **options)

    # --- offline ---------------------------------------------------------------------------------

    def dataset_problems(self, release: Release, descriptor: dict[str, Any]) -> list[Problem]:
        problems = super().dataset_problems(release, descriptor)
        hint = fix_hint(release)
        section = descriptor.get("hdx")
        hdx = section if isinstance(section, dict) else {}
        if section is not None and not isinstance(section, dict):
            problems.append(
                problem(
                    release,
                    "hdx",
                    f"hdx must be an object ({{...}}) with dataset_source, maintainer, data_update_frequency and "
                    f"tags, not {type(section).__name__}. {hint}",
                    code="type-error",
                    value=json.dumps(section),
                )
            )
        for key, what in (
            ("dataset_source", "the source of the data as HDX shows it (e.g. the organisations that coded it)"),
            ("maintainer", "the HDX user name or id of the maintainer, a member of the organization"),
        ):
            value = hdx.get(key)
            if value is not None and not isinstance(value, str):
                problems.append(
                    problem(
                        release,
                        f"hdx.{key}",
                        f"hdx.{key} must be text (in double quotes), not {type(value).__name__}: {what}. {hint}",
                        code="type-error",
                        value=json.dumps(value),
                    )
                )
            elif not str(value or "").strip():
                problems.append(problem(release, f"hdx.{key}", f"HDX needs hdx.{key}: {what}. {hint}"))
        frequency = hdx.get("data_update_frequency")
        if frequency in (None, ""):
            problems.append(
                problem(
                    release,
                    "hdx.data_update_frequency",
                    f"HDX needs hdx.data_update_frequency, one of {self._frequencies()}. {hint}",
                )
            )
        elif update_frequency(frequency) is None:
            problems.append(
                problem(
                    release,
                    "hdx.data_update_frequency",
                    f"HDX accepts as data_update_frequency only {self._frequencies()}. {hint}",
                    code="enum-error",
                    value=frequency,
                )
            )
        groups, unknown = self.locations(release)
        for value in unknown:
            problems.append(
                problem(
                    release,
                    "resources",
                    f"HDX locations are countries: {value!r} in {EVENTS_CSV} is not in the release's "
                    f"{COUNTRIES_CSV}, so it has no ISO3 code.",
                    code="enum-error",
                    value=value,
                )
            )
        if not groups and not unknown:
            problems.append(
                problem(
                    release,
                    "resources",
                    f"HDX needs at least one location (groups); {EVENTS_CSV} names no country.",
                )
            )
        return problems

    def _frequencies(self) -> str:
        return ", ".join(f"{code} ({title})" for code, title in update_frequencies().items())

    def tag_problems(self, release: Release, descriptor: dict[str, Any]) -> list[Problem]:
        hint = fix_hint(release)
        section = descriptor.get("hdx")
        explicit = section.get("tags") if isinstance(section, dict) else None
        if explicit is not None:
            tags = explicit if isinstance(explicit, list) else [explicit]
            if not tags:
                return [problem(release, "hdx.tags", f"HDX needs at least one tag; hdx.tags is empty. {hint}")]
            return [
                problem(
                    release,
                    "hdx.tags",
                    f"{tag!r} is not on HDX's approved list of tags ({APPROVED_TAGS_URL}). {hint}",
                    code="enum-error",
                    value=tag,
                )
                for tag in tags
                if str(tag) not in approved_tags()
            ]
        problems = [
            problem(
                release,
                "keywords",
                f"keyword {keyword!r} is not on HDX's approved list of tags and HDX's tag mapping gives none "
                f"({APPROVED_TAGS_URL}). Set hdx.tags to the approved tags to send (the keywords stay for "
                f"other targets), or change the keywords. {hint}",
                code="enum-error",
                value=keyword,
            )
            for keyword in descriptor.get("keywords") or []
            if not mapped_tag(str(keyword))
        ]
        if not descriptor.get("keywords"):
            problems.append(
                problem(release, "keywords", f"HDX needs tags; datapackage.json has no keywords or hdx.tags. {hint}")
            )
        return problems

    def known_licences(self) -> list[str]:
        return sorted({s for lic in licences().values() for s in lic["spdx"]} | set(licences()))

    def licence_id(self, licence: dict[str, Any]) -> str | None:
        name = str(licence.get("name", "")).strip()
        if name in licences():
            return name
        return next((i for i, lic in licences().items() if name.lower() in (s.lower() for s in lic["spdx"])), None)

    def tags(self, descriptor: dict[str, Any]) -> list[str]:
        section = descriptor.get("hdx")
        explicit = section.get("tags") if isinstance(section, dict) else None
        if explicit is not None:
            return [str(t) for t in (explicit if isinstance(explicit, list) else [explicit])]
        found: list[str] = []
        for keyword in descriptor.get("keywords", []):
            found += [t for t in mapped_tag(str(keyword)) if t not in found]
        return found

    def locations(self, release: Release) -> tuple[list[str], list[str]]:
        """Lower-case ISO3 codes of the countries in the events (HDX's location groups), and unknown countries."""
        path = release.path / COUNTRIES_CSV
        codes: dict[str, str] = {}
        if path.is_file():
            for row in _release_rows(path, ("country", "iso3")):
                codes[row["country"]] = row["iso3"].lower()
        events = release.path / EVENTS_CSV
        names: set[str] = set()
        if events.is_file():
            names = {row["country"] for row in _release_rows(events, ("country",))} - {""}
        return sorted({codes[n] for n in names if n in codes}), sorted(n for n in names if n not in codes)

    def dataset_fields(self, release: Release) -> dict[str, Any]:
        fields = super().dataset_fields(release)
        descriptor = release.descriptor()
        hdx = descriptor.get("hdx") or {}
        fields["dataset_source"] = str(hdx["dataset_source"]).strip()
        fields["maintainer"] = str(hdx["maintainer"]).strip()
        fields["data_update_frequency"] = update_frequency(hdx["data_update_frequency"])
        fields["groups"] = [{"name": code} for code in self.locations(release)[0]]
        return fields

    def shape(self, fields: dict[str, Any]) -> dict[str, Any]:
        """HDX's schema knows its fields at the top level (and converts them to extras itself)."""
        return fields

    def resource_fields(self, package_id: str, f: ReleaseFile) -> dict[str, str]:
        """As hdx-python-api's Resource sends an upload: resource_type file.upload, url_type upload, a description."""
        return {
            **super().resource_fields(package_id, f),
            "resource_type": "file.upload",
            "url_type": "upload",
            "description": f"{f.path} of the release ({f.bytes} bytes, sha256:{f.sha256}).",
        }

"""Publishing a built release: to a folder or fsspec URL, to Zenodo, to CKAN, or to HDX.

Every target implements `Publisher`: `check` runs offline and lists every missing or invalid
metadata field (and, for public targets, rows whose terms forbid redistribution: see `rights`);
`publish` sends the release, or with `dry_run=True` returns the plan and sends nothing. Where a
version went is recorded beside the release (dist-data/<name>/publications/), so publishing it
again does nothing and an interrupted run resumes.

Example::

    from eventdata.publish import find_release, get_publisher

    release = find_release(Path("dist-data"), "1.0.0")
    publisher = get_publisher("s3://bucket/eventdata-seeds", endpoint_url="http://127.0.0.1:8333")
    if publisher.check(release).valid:
        result = publisher.publish(release, dry_run=False)

This package reads a built release folder; it imports neither pandas nor eventdata.build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from eventdata.catalog import Release, list_releases
from eventdata.errors import PublishError, ReleaseError, Report

__all__ = [
    "PlannedRequest",
    "PublishResult",
    "Publisher",
    "find_release",
    "get_publisher",
]


@dataclass(frozen=True)
class PlannedRequest:
    """One request a publication sends (or, in a dry run, would send), with the file it carries."""

    method: str
    url: str
    action: str
    path: str | None = None
    bytes: int | None = None
    sha256: str | None = None

    def format(self) -> str:
        """One line: METHOD URL  action  [path bytes sha256:…]."""
        line = f"{self.method:<6} {self.url}  {self.action}"
        if self.path is not None:
            line += f"  {self.path} {self.bytes} bytes sha256:{self.sha256}"
        return line


@dataclass(frozen=True)
class PublishResult:
    """Where a version went. created is False when it was already there and nothing was sent."""

    target: str
    url: str | None
    doi: str | None
    created: bool
    plan: tuple[PlannedRequest, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str], None]


class Publisher(Protocol):
    """A publication target: a folder or bucket, Zenodo, CKAN."""

    name: str

    def check(self, release: Release) -> Report:
        """Every missing or invalid metadata field for this target, offline; raises ReleaseError on a bad manifest."""
        ...

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        """Publish the release (resuming an interrupted run), or only plan it when dry_run."""
        ...


def get_publisher(target: str, **options: Any) -> Publisher:
    """The publisher of a target, public ones behind the licence guardrail (eventdata.publish.rights)."""
    from eventdata.publish.rights import GuardedPublisher, is_public

    publisher = _target_publisher(target, **options)
    return GuardedPublisher(publisher) if is_public(publisher) else publisher


def _target_publisher(target: str, **options: Any) -> Publisher:
    """The publisher of a target: 'zenodo', 'ckan', 'hdx', or a folder path / fsspec URL.

    Options: base_url (zenodo, ckan, hdx: default https://data.humdata.org), organization (ckan, hdx),
    endpoint_url and storage_options (folders and fsspec URLs), progress (a callable given one line per step),
    and for tests attempts, backoff and max_delay (retry policy). Options given as None are ignored.
    """
    given = {k: v for k, v in options.items() if v is not None}
    common = {k: given.pop(k) for k in ("progress",) if k in given}
    if target in ("zenodo", "ckan", "hdx") and "base_url" in given:
        _check_base_url(str(given["base_url"]), target)
    if target == "zenodo":
        from eventdata.publish.zenodo import ZenodoPublisher

        _refuse(given, {"base_url", "attempts", "backoff", "max_delay"}, target)
        return ZenodoPublisher(**given, **common)
    if target == "ckan":
        from eventdata.publish.ckan import CkanPublisher

        _refuse(given, {"base_url", "organization", "attempts", "backoff", "max_delay"}, target)
        if "base_url" not in given or "organization" not in given:
            raise PublishError(
                "Publishing to CKAN needs the server and the owning organization: "
                "add --base-url https://ckan.example.org --organization NAME."
            )
        return CkanPublisher(**given, **common)
    if target == "hdx":
        from eventdata.publish.hdx import HdxPublisher

        _refuse(given, {"base_url", "organization", "attempts", "backoff", "max_delay"}, target)
        if "organization" not in given:
            raise PublishError(
                "Publishing to HDX needs the owning organization: add --organization NAME "
                "(its name as in https://data.humdata.org/organization/NAME)."
            )
        return HdxPublisher(**given, **common)
    from eventdata.publish.directory import DirectoryPublisher

    _refuse(given, {"endpoint_url", "storage_options"}, "a folder or fsspec URL")
    return DirectoryPublisher(target, **given, **common)


def _check_base_url(url: str, target: str) -> None:
    """A server's address is an http(s) URL with a host: anything else fails only at the first request."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError(
            f"--base-url {url!r} is not the address of a {target} server: give an http:// or https:// URL "
            "with a host, e.g. https://sandbox.zenodo.org or https://data.example.org."
        )


def _refuse(given: dict[str, Any], allowed: set[str], target: str) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        names = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise PublishError(f"{names} does not apply when publishing to {target}; remove it.")


def find_release(dist_dir: Path, version: str, name: str | None = None) -> Release:
    """The built release dist-data/<name>/<version>/; name may be left out when only one dataset has that version."""
    datasets = [name] if name else sorted(p.name for p in dist_dir.iterdir() if p.is_dir()) if dist_dir.is_dir() else []
    found = [r for d in datasets for r in list_releases(dist_dir / d, d) if r.version == version]
    if len(found) == 1:
        return found[0]
    if not found:
        where = dist_dir / (name or "<name>") / version
        raise ReleaseError(
            f"No release {version} in {where}: make it with `eventdata release` (a draft of `eventdata build` "
            "is never published), or check the version (folders in dist-data/<name>/ are versions)."
        )
    names = ", ".join(r.name for r in found)
    raise ReleaseError(f"Version {version} exists for several datasets ({names}); choose one with --name.")

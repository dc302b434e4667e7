"""Publish to a folder or any fsspec URL (file://, s3://…): the release's files, then the catalog.

The target mirrors dist-data/<name>/: <target>/<version>/… and <target>/catalog.json, so
`eventdata.load(<target>)` works against it. The catalog is written last, in one write: a version is
visible only once every file of it is in place and verified, and a re-run after a failure copies
only what is missing or different.

Plain paths use fsspec's LocalFileSystem; s3:// needs s3fs, with the endpoint from --endpoint-url,
storage_options, or the usual AWS variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.spec import AbstractFileSystem

from eventdata import progress
from eventdata.catalog import (
    CATALOG_FILE,
    CATALOG_PROFILE,
    Release,
    catalog_entry,
    catalog_json,
    check_catalog,
    with_entry,
)
from eventdata.errors import PublishError, Report, SourceError
from eventdata.files import sha256_stream
from eventdata.publish import PlannedRequest, Progress, PublishResult
from eventdata.publish.manifest import ReleaseFile, problem, release_files, text
from eventdata.publish.record import check_recordable, public_url, published, save_published


def _storage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions fsspec back ends raise for an unreachable or refusing store (botocore's when installed)."""
    errors: tuple[type[BaseException], ...] = (OSError,)
    try:
        from botocore.exceptions import BotoCoreError
    except ImportError:
        return errors
    return (*errors, BotoCoreError)


class DirectoryPublisher:
    """A folder or fsspec URL. Needs no account: the embedded default."""

    name = "directory"
    public = False  # who may read a folder or bucket is its owner's choice (eventdata.publish.rights)

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        storage_options: dict[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> None:
        if not url.strip():  # Path("") is the current directory
            raise PublishError(
                "The target folder is empty: give the folder or URL to publish to, "
                "e.g. --to /srv/data/eventdata-seeds or --to s3://bucket/eventdata-seeds."
            )
        if "://" not in url:  # a plain path: record and compare it as an absolute one
            url = str(Path(url).expanduser().resolve())
        elif not url.partition("://")[2].strip("/"):  # s3:// alone would become the local folder "s3:"
            raise PublishError(
                f"{url} names no bucket or folder; give one after the scheme, e.g. s3://bucket/eventdata-seeds."
            )
        self.url = url.rstrip("/") or url
        self.options = dict(storage_options or {})
        if endpoint_url is not None:
            if not self.url.startswith(("s3://", "s3a://")):
                raise PublishError(f"--endpoint-url applies to s3:// targets; {public_url(self.url)} is not one.")
            self.options.setdefault("client_kwargs", {})["endpoint_url"] = endpoint_url
        self.shown = public_url(self.url)
        self.key = f"directory {self.shown}"
        self.progress = progress or (lambda _line: None)

    def check(self, release: Release) -> Report:
        """Offline: the target is outside dist-data/, the manifest matches and the catalog can name the version."""
        self._refuse_release_folders(release)
        release_files(release)
        descriptor = release.descriptor()
        problems = []
        if not text(descriptor, "name"):
            problems.append(problem(release, "name", "datapackage.json has no name. Rebuild the release."))
        if text(descriptor, "version") != release.version:
            problems.append(
                problem(
                    release,
                    "version",
                    f"datapackage.json says version {descriptor.get('version')!r} but the "
                    f"folder is {release.version}. Rebuild the release.",
                    code="type-error",
                    value=descriptor.get("version"),
                )
            )
        return Report(problems=tuple(problems), files=(str(release.descriptor_path),))

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        report = self.check(release)
        if not report.valid:
            raise PublishError(f"{release.descriptor_path} is not ready for {self.shown}: run the check and fix it.")
        files = release_files(release)
        version_url = f"{self.shown}/{release.version}/"
        done = published(release, self.key)
        if done is not None:
            return PublishResult(self.name, done["url"], None, created=False)
        plan = tuple(
            PlannedRequest("PUT", f"{self.shown}/{release.version}/{f.path}", "copy", f.path, f.bytes, f.sha256)
            for f in files
        ) + (PlannedRequest("PUT", f"{self.shown}/{CATALOG_FILE}", f"list version {release.version} in the catalog"),)
        if dry_run:
            return PublishResult(self.name, version_url, None, created=False, plan=plan)
        check_recordable(release)
        try:
            created = self._copy(release, files)
        except _storage_errors() as err:
            raise PublishError(
                f"Could not write to {self.shown}: {type(err).__name__}: {err}. Check the URL, the credentials "
                "(for s3://: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the endpoint with --endpoint-url), "
                "then run the same command again: files already copied are not sent twice."
            ) from err
        save_published(
            release, self.key, {"target": self.name, "url": version_url, "catalog": f"{self.shown}/{CATALOG_FILE}"}
        )
        return PublishResult(self.name, version_url, None, created=created, plan=plan)

    def _refuse_release_folders(self, release: Release) -> None:
        """A local target inside the folder of the releases (symbolic links resolved) would change them."""
        local = self._local_path()
        releases = release.path.parent.parent  # dist-data/, holding dist-data/<name>/<version>/
        if local is not None and local.is_relative_to(releases.resolve()):
            raise PublishError(
                f"Cannot publish to {self.shown}: it is inside {releases}, whose releases are never changed "
                f"(each version is written once, with its catalog). Publish to a folder outside {releases}, "
                f"e.g. --to /srv/data/{release.name}."
            )

    def _local_path(self) -> Path | None:
        """The target on the local disk with symbolic links resolved, or None for a remote store."""
        if "://" not in self.url:
            return Path(self.url).resolve()
        if self.url.partition("://")[0] not in ("file", "local"):
            return None
        fs, root = self._filesystem()
        return Path(root).resolve() if isinstance(fs, LocalFileSystem) else None

    def _filesystem(self) -> tuple[AbstractFileSystem, str]:
        try:
            fs, root = fsspec.core.url_to_fs(self.url, **self.options)
        except ImportError as err:
            raise PublishError(
                f"{self.shown} needs an fsspec back end that is not installed ({err}). For s3:// install "
                "eventdata[s3] (s3fs)."
            ) from err
        except ValueError as err:
            raise PublishError(f"{self.shown} is not a folder or fsspec URL that can be opened: {err}") from err
        return fs, root.rstrip("/")

    def _copy(self, release: Release, files: list[ReleaseFile]) -> bool:
        """Copy what is missing, verify it, then list the version in the catalog. False if it was already listed."""
        fs, root = self._filesystem()
        fs.invalidate_cache()  # another run (or another process) may have written since fsspec cached a listing
        _check_folder(fs, root, self.shown)
        catalog = _read_catalog(fs, f"{root}/{CATALOG_FILE}", release.name, self.shown)
        descriptor = release.descriptor()
        extra = {f.path: (f.bytes, f.sha256) for f in files}
        entry = catalog_entry(release, descriptor, extra)
        listed = next((v for v in catalog.get("versions", []) if v.get("version") == release.version), None)
        if listed is not None:
            if listed.get("files") == entry["files"]:
                return False
            raise PublishError(
                f"{self.shown}/{CATALOG_FILE} already lists version {release.version} with other files. A published "
                "version never changes: publish a new version, or publish to another location."
            )
        for f in files:
            dest = f"{root}/{release.version}/{f.path}"
            if _same_file(fs, dest, f):
                continue
            self.progress(f"copy {f.path} ({f.bytes} bytes) to {self.shown}/{release.version}/")
            fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(f.local), dest)
            progress.advance("bytes uploaded", f.bytes, detail=f.path, unit="bytes")
            if not _same_file(fs, dest, f):
                raise PublishError(
                    f"{self.shown}/{release.version}/{f.path} does not read back as sha256:{f.sha256} after copying. "
                    "Check the store, then run the same command again."
                )
        updated = with_entry(catalog, entry, title=text(descriptor, "title") or None)
        _write_atomic(fs, f"{root}/{CATALOG_FILE}", catalog_json(updated).encode("utf-8"))
        return True


def _check_folder(fs: AbstractFileSystem, root: str, shown: str) -> None:
    """The target is a folder or does not exist yet (nor does a file stand where one of its parents belongs)."""
    if isinstance(fs, LocalFileSystem):
        path = Path(root)
        existing = next(p for p in (path, *path.parents) if p.exists())
        if existing.is_dir():
            return
        where = shown if existing == path else f"{existing}, a parent folder of {shown},"
    elif fs.isfile(root):
        where = shown
    else:
        return
    raise PublishError(
        f"Cannot publish to {shown}: {where} is a file, not a folder; nothing was copied. "
        "Give a folder (it is created if missing), or move the file away."
    )


def _read_catalog(fs: AbstractFileSystem, path: str, name: str, shown: str) -> dict[str, Any]:
    """The target's catalog (an empty one when there is none yet); a damaged one is refused before any copy."""
    if not fs.exists(path):
        return {"profile": CATALOG_PROFILE, "name": name, "latest": None, "versions": []}
    where = f"{shown}/{CATALOG_FILE}"
    try:
        data: dict[str, Any] = json.loads(fs.cat_file(path).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PublishError(f"{where} is not valid JSON ({err}); repair it before publishing there.") from err
    try:
        check_catalog(data, where)
    except SourceError as err:
        raise PublishError(
            f"{err} It lists the versions published there, so nothing was copied: restore it from a backup, "
            "or publish to another location."
        ) from err
    if data.get("name") not in (None, name):
        raise PublishError(
            f"{shown}/{CATALOG_FILE} is the catalog of dataset {data.get('name')!r}, not {name!r}: "
            "publish each dataset to its own location."
        )
    return data


def _same_file(fs: AbstractFileSystem, path: str, expected: ReleaseFile) -> bool:
    """True when path exists with the expected size and sha256 (read back, not trusted from metadata)."""
    if not fs.exists(path) or fs.size(path) != expected.bytes:
        return False
    with fs.open(path, "rb") as handle:
        return sha256_stream(handle) == expected.sha256


def _write_atomic(fs: AbstractFileSystem, path: str, data: bytes) -> None:
    """One write that readers see whole: rename a temporary file on local disks; object stores PUT atomically."""
    if isinstance(fs, LocalFileSystem):
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        fs.pipe_file(tmp, data)
        fs.mv(tmp, path)
    else:
        fs.pipe_file(path, data)

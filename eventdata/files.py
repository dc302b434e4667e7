"""Files on disk: sha256 hashes, writes that land whole or not at all, and staging folders.

The one place for these: `sha256_bytes` / `sha256_file` / `sha256_stream`, `write_atomic` /
`replace_atomically` (one file), `FileSet` (several files at once), and `read_json` (a JSON file, its
faults named with file, line and column).

A command that changes several files (a release: the sheets that get new ids, the id
registry, the version folder, the catalog) prepares every new file beside its target
first (`FileSet.prepare`), so a full disk or a read-only folder stops it before anything
changed; then it puts them in place with renames (`FileSet.commit`), which it can undo.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

#: The lock a running command holds on its staging folder; a folder whose lock nobody holds is stale.
STAGING_LOCK = ".lock"
#: A staging folder without a lock file (made by an older eventdata, or an instant before its lock) is
#: left alone for this long after it was last changed.
UNLOCKED_GRACE_SECONDS = 60.0
STAGING_MARK = ".building-"
_PREPARED = re.compile(r"^\..+\.(?P<token>building-[A-Za-z0-9_]+)\.(?:tmp|orig)$")


def read_json(
    path: str | os.PathLike[str], error: Callable[[str], Exception], *, missing: str = "is missing.", hint: str = ""
) -> Any:
    """The value a JSON file holds; `error(message)` naming the file (line and column of bad JSON) when unreadable.

    `missing` finishes the message for a file that does not exist, `hint` (what to do) the others.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise error(f"{path} {missing}") from err
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 (byte {err.start}).{hint}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg}).{hint}") from err


def sha256_bytes(data: bytes) -> str:
    """sha256 (hex) of bytes in memory."""
    return hashlib.sha256(data).hexdigest()


def sha256_stream(handle: BinaryIO) -> str:
    """sha256 (hex) of what an open binary file (local or remote) holds from where it is, read in blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 (hex) of a file, read in blocks."""
    with Path(path).open("rb") as handle:
        return sha256_stream(handle)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file beside path, then rename it over path.

    The new file keeps the permissions of the file it replaces (or the umask default), never the
    0600 of a temporary file, so web servers and co-workers can still read catalogs and sheets.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write bytes (or UTF-8 text, newlines as given) to path atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(temporary: Path) -> None:
        temporary.write_bytes(payload)

    replace_atomically(path, write)


class FileSet:
    """New contents for several files: written beside them first, then renamed into place together.

    `prepare` writes `.NAME.TOKEN.tmp` beside each target (a full disk or a read-only folder fails
    here, before any target changed); `commit` keeps a hard link to each old file and renames the new
    ones into place; `rollback` puts the old files back. Leftovers of a killed run carry the token of
    its staging folder, so the next run can tell them from a concurrent run's (`remove_stale`).
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.pending: list[tuple[Path, Path]] = []  # target, prepared file
        self.replaced: list[tuple[Path, Path | None]] = []  # target, backup of the old file (None: was absent)

    def prepare(self, path: Path, data: bytes | str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
        prepared = path.parent / f".{path.name}.{self.token}.tmp"
        try:
            prepared.write_bytes(payload)
            os.chmod(prepared, mode)
        except OSError as err:
            prepared.unlink(missing_ok=True)
            raise type(err)(err.errno, err.strerror, str(path)) from err  # name the file, not its temporary twin
        except BaseException:
            prepared.unlink(missing_ok=True)
            raise
        self.pending.append((path, prepared))

    def commit(self) -> None:
        """Rename every prepared file over its target; on failure the old files are put back."""
        try:
            for path, prepared in self.pending:
                backup = None
                if path.exists():
                    backup = path.parent / f".{path.name}.{self.token}.orig"
                    try:
                        os.link(path, backup)
                    except OSError:
                        shutil.copy2(path, backup)
                os.replace(prepared, path)
                self.replaced.append((path, backup))
        except BaseException:
            self.rollback()
            raise
        self.pending = []

    def rollback(self) -> None:
        """Put back the files a commit replaced (in reverse order) and drop what was prepared."""
        for path, backup in reversed(self.replaced):
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        self.replaced = []
        self.discard()

    def discard(self) -> None:
        """Remove prepared files not committed and the backups of committed ones."""
        for _, prepared in self.pending:
            prepared.unlink(missing_ok=True)
        for _, backup in self.replaced:
            if backup is not None:
                backup.unlink(missing_ok=True)
        self.pending = []


def folder_listing(folder: Path, limit: int = 5) -> str:
    """What a folder holds, for a message: its first entries by name (folders end in /), then how many more."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    shown = [p.name + ("/" if p.is_dir() else "") for p in entries[:limit]]
    more = len(entries) - len(shown)
    return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")


def is_prepared_file(name: str) -> bool:
    """True for the name of a file a FileSet prepared (or a backup it keeps)."""
    return bool(_PREPARED.match(name))


def make_dirs(path: Path) -> list[Path]:
    """mkdir -p, returning the folders it created (outermost first), so a failed command can remove them."""
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    missing.reverse()
    for folder in missing:
        try:
            folder.mkdir()
        except FileExistsError:
            continue
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the given folders (innermost first) where they are empty."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _is_stale(folder: Path) -> bool:
    """True when no running command holds the lock of a staging folder."""
    lock = folder / STAGING_LOCK
    try:
        handle = lock.open("a")
    except FileNotFoundError:
        try:
            age = time.time() - folder.stat().st_mtime
        except FileNotFoundError:
            return False
        return age > UNLOCKED_GRACE_SECONDS
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES):
                return False  # a running command holds it
            raise
        return True


def remove_stale(parent: Path, extra_dirs: tuple[Path, ...] = ()) -> list[Path]:
    """Remove staging folders in parent left by killed runs, and their prepared files in extra_dirs.

    Folders of a run still going (its lock is held) and their files are kept. Returns what was removed.
    """
    removed: list[Path] = []
    live: set[str] = set()
    if parent.is_dir():
        for folder in sorted(parent.iterdir()):
            if not (folder.name.startswith(".") and STAGING_MARK in folder.name and folder.is_dir()):
                continue
            if _is_stale(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            else:
                live.add(staging_token(folder))
    for directory in extra_dirs:
        if not directory.is_dir():
            continue
        for file in sorted(directory.iterdir()):
            match = _PREPARED.match(file.name)
            if match and match["token"] not in live and file.is_file():
                file.unlink(missing_ok=True)
                removed.append(file)
    return removed


@contextlib.contextmanager
def staging_folder(parent: Path, prefix: str, *, clean: tuple[Path, ...] = ()) -> Iterator[Path]:
    """A new locked folder in parent to build in, removed afterwards; stale ones are removed first.

    Folders this makes on the way to parent are removed again if they end up empty (a failed build
    leaves no empty dist-data/<name>/).
    """
    created = make_dirs(parent)
    try:
        remove_stale(parent, clean)
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        try:
            with (folder / STAGING_LOCK).open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        remove_empty(created)


def staging_token(folder: Path) -> str:
    """The name prepared files of a staging folder carry."""
    return "building-" + folder.name.rsplit(STAGING_MARK, 1)[-1]

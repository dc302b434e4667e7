"""A real CKAN 2.12 on 127.0.0.1 for the tests: start() brings it up with an organization and an editor.

The CKAN install is a virtualenv that tests/servers/real_ckan_setup.sh makes once (`pip install
"ckan[requirements]==2.12.0"`) at $EVENTDATA_CKAN_HOME (default ~/.cache/eventdata/ckan-2.12.0).
start() then, in a temporary folder:
- starts a throwaway PostgreSQL cluster from Debian's binaries (initdb, postgres) on a free loopback port;
  postgres refuses to run as root, so as root the cluster runs as the `postgres` user;
- serves the Solr stand-in (tests/servers/solr.py) with the schema.xml of this CKAN;
- writes ckan.ini with `ckan generate config` and `ckan config-tool` (storage path for uploads, a small
  ckan.max_resource_size), runs `ckan db init`, makes a sysadmin and its API token (`ckan sysadmin add`,
  `ckan user token add`), starts `ckan run` and waits until /api/3/action/status_show answers;
- through the action API as the sysadmin: creates the organization, an editor user, makes it an
  editor of the organization (organization_member_create) and gives it an API token.
No Redis: CKAN 2.12 logs "Could not connect to Redis" at start-up and goes on (ckan/config/environment.py);
its sessions are cookies by default (SESSION_TYPE) and none of the actions the tests call queue a job.

Run `python -m tests.servers.real_ckan` to start one by hand (Ctrl-C stops it).
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.servers.base import FakeServer
from tests.servers.solr import SolrStandIn

CKAN_VERSION = "2.12.0"
ORGANIZATION = "eventdata-tests"
EDITOR = "editor"
#: ckan.max_resource_size in MB, small so that the tests can go over it with a modest file.
MAX_RESOURCE_SIZE_MB = 1


class CkanUnavailable(RuntimeError):
    """This machine cannot run the real CKAN (not installed, no PostgreSQL); the message says what is missing."""


def ckan_home() -> Path:
    """Where real_ckan_setup.sh installs CKAN: $EVENTDATA_CKAN_HOME, else a per-user cache folder."""
    if os.environ.get("EVENTDATA_CKAN_HOME"):
        return Path(os.environ["EVENTDATA_CKAN_HOME"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "eventdata" / f"ckan-{CKAN_VERSION}"


def postgres_bin() -> Path:
    """The newest of Debian's PostgreSQL versions (/usr/lib/postgresql/<n>/bin), or initdb on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise CkanUnavailable("PostgreSQL's initdb was not found (apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class CkanSite:
    """A running CKAN: its URL, the organization, the editor's and the sysadmin's API tokens."""

    url: str
    organization: str
    editor: str
    editor_token: str = field(repr=False)
    admin_token: str = field(repr=False)
    storage: Path
    max_resource_size_mb: int
    timings: dict[str, float]

    def action(self, name: str, data: dict[str, Any] | None = None, *, token: str | None = None) -> requests.Response:
        """POST /api/3/action/<name>; token None is an anonymous visitor."""
        headers = {"Authorization": token} if token else {}
        return requests.post(f"{self.url}/api/3/action/{name}", json=data or {}, headers=headers, timeout=30)

    def result(self, name: str, data: dict[str, Any] | None = None, *, token: str | None = None) -> Any:
        """The result of an action that must succeed."""
        response = self.action(name, data, token=token)
        body = response.json()
        if response.status_code != 200 or not body.get("success"):
            raise AssertionError(f"CKAN {name} failed ({response.status_code}): {body}")
        return body["result"]


class RealCkan:
    """Start and stop the real CKAN; see the module docstring for what start() does."""

    def __init__(self, home: Path | None = None, *, max_resource_size_mb: int = MAX_RESOURCE_SIZE_MB) -> None:
        self.home = home or ckan_home()
        self.venv = self.home / "venv"
        self.max_resource_size_mb = max_resource_size_mb
        self.root: Path | None = None
        self.solr: FakeServer | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.postgres: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self._pg_data: Path | None = None
        self._pg_user: pwd.struct_passwd | None = None

    # --- start -----------------------------------------------------------------------------------

    def start(self) -> CkanSite:
        ckan = self.venv / "bin" / "ckan"
        marker = self.venv / "installed"
        if not ckan.is_file() or not marker.is_file() or marker.read_text().strip() != CKAN_VERSION:
            raise CkanUnavailable(
                f"CKAN {CKAN_VERSION} is not installed at {self.venv}: run tests/servers/real_ckan_setup.sh"
            )
        started = time.monotonic()
        # as root, PostgreSQL runs as the postgres user, which must reach its cluster: /tmp, not a private TMPDIR
        self.root = Path(tempfile.mkdtemp(prefix="eventdata-real-ckan-", dir="/tmp" if os.geteuid() == 0 else None))
        os.chmod(self.root, 0o755)
        try:
            return self._start(ckan, started)
        except BaseException:
            self.stop()
            raise

    def _start(self, ckan: Path, started: float) -> CkanSite:
        assert self.root is not None
        ini = self.root / "ckan.ini"
        generating = subprocess.Popen(  # a few seconds of imports: while PostgreSQL starts
            [str(ckan), "generate", "config", str(ini)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.root
        )
        try:
            pg_port = self._start_postgres()
            self.timings["postgres"] = time.monotonic() - started
            schema = next(self.venv.glob("lib/python*/site-packages/ckan/config/solr/schema.xml"))
            self.solr = FakeServer(SolrStandIn(schema)).start()
        finally:
            output, _ = generating.communicate(timeout=120)
        if generating.returncode != 0:
            raise RuntimeError(f"ckan generate config failed: {output.decode(errors='replace')[-3000:]}")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        storage = self.root / "storage"
        storage.mkdir()
        settings = self.root / "settings.ini"
        settings.write_text(
            "[app:main]\n"
            f"sqlalchemy.url = postgresql://ckan@127.0.0.1:{pg_port}/ckan\n"
            f"solr_url = {self.solr.url}/solr/ckan\n"
            f"ckan.site_url = {url}\n"
            f"ckan.storage_path = {storage}\n"
            f"ckan.max_resource_size = {self.max_resource_size_mb}\n"
            "ckan.devserver.threaded = true\n"
            "ckan.plugins =\n"
            "debug = false\n"
            "[logger_ckan]\nlevel = WARNING\n"
            "[logger_ckanext]\nlevel = WARNING\n",
            encoding="utf-8",
        )
        self._ckan("config-tool", str(ini), "-f", str(settings))
        mark = time.monotonic()
        self._ckan("-c", str(ini), "db", "init")
        self.timings["db init"] = time.monotonic() - mark

        mark = time.monotonic()
        with (self.root / "ckan-run.log").open("wb") as log:  # the child keeps its own copy of the descriptor
            self.server = subprocess.Popen(
                [str(ckan), "-c", str(ini), "run", "-H", "127.0.0.1", "-p", str(port), "--disable-reloader"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
                preexec_fn=_die_with_parent(signal.SIGTERM),
            )
        # While CKAN starts: the sysadmin and its token, as CKAN's docs make the first one.
        self._ckan(
            "-c", str(ini), "sysadmin", "add", "admin", "--create", "email=admin@example.org", f"password=a-{_secret()}"
        )  # fmt: skip
        admin_token = (
            self._ckan("-c", str(ini), "user", "token", "add", "admin", "tests", "-q").strip().splitlines()[-1]
        )
        self._wait(url)
        self.timings["ckan run, sysadmin"] = time.monotonic() - mark

        site = CkanSite(url, ORGANIZATION, EDITOR, "", admin_token, storage, self.max_resource_size_mb, self.timings)
        editor = site.result(
            "user_create",
            {"name": EDITOR, "email": "editor@example.org", "password": "editor-" + _secret()},
            token=admin_token,
        )
        site.result("organization_create", {"name": ORGANIZATION, "title": "eventdata tests"}, token=admin_token)
        site.result(
            "organization_member_create",
            {"id": ORGANIZATION, "username": editor["name"], "role": "editor"},
            token=admin_token,
        )
        site.editor_token = site.result("api_token_create", {"user": EDITOR, "name": "tests"}, token=admin_token)[
            "token"
        ]
        self.timings["total"] = time.monotonic() - started
        return site

    def _start_postgres(self) -> int:
        assert self.root is not None
        bindir = postgres_bin()
        pg = self.root / "pg"
        pg.mkdir()
        if os.geteuid() == 0:  # postgres will not run as root
            try:
                self._pg_user = pwd.getpwnam("postgres")
            except KeyError as err:
                raise CkanUnavailable("running as root, and there is no postgres user to run PostgreSQL as") from err
            os.chown(pg, self._pg_user.pw_uid, self._pg_user.pw_gid)
        self._pg_data = pg / "data"
        port = free_port()
        self._as_postgres(
            bindir / "initdb", "-D", str(self._pg_data), "-U", "ckan", "--auth=trust", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        settings = ["listen_addresses=127.0.0.1", f"unix_socket_directories={pg}", "fsync=off"]
        settings += ["synchronous_commit=off", "full_page_writes=off"]
        user = self._pg_user
        with (pg / "log").open("wb") as log:  # a child of ours, not pg_ctl's daemon: it ends with the tests
            self.postgres = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(self._pg_data), "-p", str(port)]
                + [a for setting in settings for a in ("-c", setting)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=pg,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                preexec_fn=_die_with_parent(signal.SIGQUIT),  # SIGQUIT: PostgreSQL's immediate shutdown
            )
        deadline = time.monotonic() + 60
        while subprocess.run([bindir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)], check=False).returncode:
            if self.postgres.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(pg / 'log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        self._as_postgres(bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ckan", "ckan")
        return port

    def _as_postgres(self, *command: str | Path) -> None:
        user = self._pg_user
        result = subprocess.run(
            [str(c) for c in command],
            capture_output=True,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            cwd=self.root / "pg" if self.root else None,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(map(str, command))} failed: {(result.stdout + result.stderr).decode()[-2000:]}"
            )

    def _ckan(self, *args: str) -> str:
        result = subprocess.run(
            [str(self.venv / "bin" / "ckan"), *args], capture_output=True, cwd=self.root, timeout=300, check=False
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise RuntimeError(f"ckan {' '.join(args[:4])} failed ({result.returncode}): {output[-3000:]}")
        return result.stdout.decode()

    def _wait(self, url: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        assert self.server is not None
        assert self.root is not None
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                log = (self.root / "ckan-run.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"ckan run exited with {self.server.returncode}: {log}")
            try:
                if requests.get(f"{url}/api/3/action/status_show", timeout=5).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"CKAN did not answer {url}/api/3/action/status_show within {timeout:.0f} s")

    # --- stop ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop CKAN, PostgreSQL and Solr and delete the temporary folder (safe to call twice)."""
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None
        if self.postgres is not None and self.postgres.poll() is None:
            self.postgres.send_signal(signal.SIGQUIT)  # immediate shutdown: the data is thrown away anyway
            try:
                self.postgres.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.postgres.kill()
                self.postgres.wait()
        self.postgres = None
        self._pg_data = None
        if self.solr is not None:
            self.solr.stop()
            self.solr = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


def _die_with_parent(signum: int) -> Callable[[], None]:
    """For preexec_fn: the child gets signum if the test process dies first (Linux's PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(1, int(signum))  # 1 is PR_SET_PDEATHSIG

    return arm


def _secret() -> str:
    return os.urandom(8).hex()


def main() -> None:
    """Start a CKAN by hand and print how to reach it."""
    ckan = RealCkan()
    site = ckan.start()
    sys.stdout.write(
        json.dumps(
            {
                "url": site.url,
                "organization": site.organization,
                "editor_token": site.editor_token,
                "admin_token": site.admin_token,
                "timings": {k: round(v, 1) for k, v in site.timings.items()},
            },
            indent=2,
        )
        + "\n"
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        ckan.stop()


if __name__ == "__main__":
    main()

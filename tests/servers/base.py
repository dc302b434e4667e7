"""A threaded HTTP server on 127.0.0.1 for fake repository services, with switches that inject faults.

A fake service is a `Service` subclass: `handle(request) -> Response`. The server records every
request (method, path, query, headers) and, before or after handling one, applies the first matching
fault: answer 500/503/429, drop the connection (before or after the service acted on the request),
or stall until released (to kill a client mid-upload).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ACTIONS = ("500", "503", "429", "drop", "drop-after", "stall")


@dataclass
class Fault:
    """Apply action to requests whose method matches and whose path matches the pattern.

    skip: matching requests let through first; times: how many are then hit (None: every one).
    'drop-after' lets the service act, then drops the answer: the client cannot tell it happened.
    """

    method: str
    path: str
    action: str
    skip: int = 0
    times: int | None = 1
    seen: int = 0
    hits: int = 0

    def applies(self, method: str, path: str) -> bool:
        if method != self.method or not re.search(self.path, path):
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.hits >= self.times):
            return False
        self.hits += 1
        return True


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = field(repr=False)


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002  # werkzeug's signature
        return


class Service:
    """Base of a fake service: state behind a lock, JSON helpers; subclasses implement handle()."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = ""

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    @staticmethod
    def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(data), status=status, headers=headers, mimetype="application/json")


class FakeServer:
    """Runs a Service on a free port of 127.0.0.1 in a thread, with fault injection and a request log."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.port}"
        service.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fault(self, method: str, path: str, action: str, *, skip: int = 0, times: int | None = 1) -> Fault:
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}")
        added = Fault(method, path, action, skip, times)
        with self._lock:
            self.faults.append(added)
        return added

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def calls(self, method: str | None = None, path: str = "") -> list[Seen]:
        return [r for r in self.requests if (method is None or r.method == method) and re.search(path, r.path)]

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        with self._lock:
            self.requests.append(
                Seen(request.method, request.path, request.query_string.decode(), dict(request.headers), body)
            )
            fault = next((f for f in self.faults if f.applies(request.method, request.path)), None)
        if fault is not None and fault.action in ("500", "503", "429"):
            status = int(fault.action)
            response = Response("injected fault", status=status, headers={"Retry-After": "0"})
            return response(environ, start_response)
        if fault is not None and fault.action == "stall":
            self.stalled.set()
            self.release.wait(timeout=30)
            return self._drop(environ, start_response)
        if fault is not None and fault.action == "drop":
            return self._drop(environ, start_response)
        try:
            response = self.service.handle(request)
        finally:
            request.close()  # uploaded files are spooled to temporary files
        if fault is not None and fault.action == "drop-after":
            return self._drop(environ, start_response)
        return response(environ, start_response)

    @staticmethod
    def _drop(environ: dict[str, Any], start_response: Any) -> Any:
        """Close the connection without an answer, as a dying proxy or server would."""
        with contextlib.suppress(OSError):  # the client may have gone already
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return Response("")(environ, start_response)


@contextmanager
def serving(service: Service) -> Iterator[FakeServer]:
    server = FakeServer(service).start()
    try:
        yield server
    finally:
        server.stop()

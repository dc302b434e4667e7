"""The workbench's web layer (Flask): the page, and a JSON API over eventdata.serve.workbench."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from eventdata.serve.suggest import suggest
from eventdata.serve.workbench import Workbench, WorkbenchError

STATIC = Path(__file__).parent / "static"
#: Sent by the page with every change: a form on another site cannot set it without the browser asking first.
REQUEST_HEADER = "X-Eventdata-Workbench"
#: The digest of the codebook, lists and articles an answer was made with (Workbench.inputs_version).
INPUTS_HEADER = "X-Eventdata-Inputs"
#: Why an edited codebook was not taken up (Workbench.inputs_problem), when it was not.
INPUTS_PROBLEM_HEADER = "X-Eventdata-Inputs-Problem"


def create_app(workbench: Workbench, *, local_only: bool = True) -> Flask:
    """The Flask application of one workbench; local_only: answer only to loopback host names."""
    app = Flask(__name__, static_folder=None)
    app.config["JSON_SORT_KEYS"] = False

    @lru_cache(maxsize=256)
    def suggestions(article_id: str, context: str, event_date: str) -> dict[str, Any]:
        return suggest(workbench.dataset, article_id, context, event_date)

    @app.before_request
    def same_machine_only() -> Response | None:
        host = (request.host or "").rsplit(":", 1)[0].strip("[]")
        if local_only and not _is_local_name(host):
            return _error(403, f"this workbench answers only on this machine, not as {request.host!r}.")
        if request.method == "POST" and request.headers.get(REQUEST_HEADER) != "1":
            return _error(403, "changes are accepted only from the workbench page.")
        if request.path.startswith("/api/") and workbench.refresh():  # schemas/ or the articles changed
            suggestions.cache_clear()
        return None

    @app.after_request
    def inputs_version(response: Response) -> Response:
        """Tell the page which codebook the answer used, so it can offer a reload when it changed."""
        response.headers[INPUTS_HEADER] = workbench.inputs_version
        if workbench.inputs_problem:
            response.headers[INPUTS_PROBLEM_HEADER] = _header_text(workbench.inputs_problem)
        return response

    @app.errorhandler(WorkbenchError)
    def refused(err: WorkbenchError) -> tuple[Response, int]:
        return jsonify({"error": str(err), "problems": err.problems}), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        return _error(err.code or 500, err.description or err.name)

    @app.get("/")
    def page() -> Response:
        return _static("index.html")

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        return _static(name)

    @app.get("/api/form")
    def form() -> Response:
        return jsonify(workbench.form())

    @app.get("/api/lists")
    def lists() -> Response:
        return jsonify({"actors": workbench.actors(), "places": workbench.places()})

    @app.get("/api/lookup")
    def lookup() -> Response:
        args = request.args
        return jsonify(
            workbench.lookup(
                args.get("kind", "actor"), args.get("name", ""), args.get("date", ""), args.get("country", "")
            )
        )

    @app.get("/api/articles")
    def articles() -> Response:
        return jsonify(workbench.articles())

    @app.get("/api/articles/<article_id>")
    def article(article_id: str) -> Response:
        return jsonify(workbench.article(article_id, request.args.get("coder", "")))

    @app.get("/api/sheets/<path:name>")
    def sheet(name: str) -> Response:
        return jsonify(workbench.sheet_state(name))

    @app.post("/api/check")
    def check() -> Response:
        body = _body()
        checked = workbench.check(_text(body, "sheet"), _line(body), _values(body))
        return jsonify({"line": checked.line, "problems": checked.problems, "derived": checked.derived})

    @app.post("/api/suggest")
    def suggest_values() -> Response:
        body = _body()
        article_id = _text(body, "article_id")
        if article_id not in workbench.dataset.articles:
            raise WorkbenchError(f"article {article_id!r} is not in the article index.")
        return jsonify(suggestions(article_id, str(body.get("context") or ""), str(body.get("event_date") or "")))

    @app.post("/api/save")
    def save() -> Response:
        body = _body()
        saved = workbench.save(
            _text(body, "sheet"),
            _line(body),
            _values(body),
            base_hash=body.get("base_hash") or None,
            coder=str(body.get("coder") or ""),
            accept_errors=bool(body.get("accept_errors")),
        )
        return jsonify(
            {
                "sheet": saved.sheet,
                "line": saved.line,
                "hash": saved.hash,
                "problems": saved.checked.problems,
                "derived": saved.checked.derived,
                "with_errors": saved.with_errors,
            }
        )

    @app.post("/api/delete")
    def delete() -> Response:
        body = _body()
        line = _line(body)
        if line is None:
            raise WorkbenchError("say which row to delete: its line in the sheet.")
        deleted = workbench.delete(
            _text(body, "sheet"), line, base_hash=body.get("base_hash") or None, coder=str(body.get("coder") or "")
        )
        return jsonify(
            {
                "sheet": deleted.sheet,
                "line": deleted.line,
                "hash": deleted.hash,
                "event_id": deleted.event_id,
                "lines": deleted.lines,
            }
        )

    return app


MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def _static(name: str) -> Response:
    """A file of the page, shipped in the package (read whole: small, and never left open)."""
    path = STATIC / name
    if path.parent != STATIC or path.suffix not in MEDIA_TYPES or not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=MEDIA_TYPES[path.suffix])
    response.headers["Cache-Control"] = "no-cache"
    return response


def _header_text(text: str) -> str:
    """A message as one line of ASCII, as an HTTP header holds it (the page decodes it)."""
    return urllib.parse.quote(" ".join(text.split()), safe=" ,.:;'()[]/-_=<>!?@")


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message, "problems": []})
    response.status_code = status
    return response


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise WorkbenchError("the request needs a JSON object.")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise WorkbenchError(f"the request needs {key!r}.")
    return value


def _line(body: dict[str, Any]) -> int | None:
    line = body.get("line")
    if line is None:
        return None
    if not isinstance(line, int) or isinstance(line, bool) or line < 2:
        raise WorkbenchError(f"line {line!r} is not a row's line (2 or more).")
    return line


def _values(body: dict[str, Any]) -> dict[str, str]:
    values = body.get("values")
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise WorkbenchError("'values' must map column names to text.")
    return {str(k): v for k, v in values.items()}


def _is_local_name(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == socket.gethostname()


class _QuietHandler(WSGIRequestHandler):
    """Requests are not logged line by line (the terminal shows only what `eventdata serve` prints)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def make_workbench_server(workbench: Workbench, host: str = "127.0.0.1", port: int = 8765) -> BaseWSGIServer:
    """A threaded HTTP server for the workbench, bound but not yet serving (call serve_forever)."""
    app = create_app(workbench, local_only=is_loopback(host))
    # Bound here, so that a port in use is an OSError for the caller (werkzeug would print and exit).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listening:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
        return make_server(host, port, app, threaded=True, request_handler=_QuietHandler, fd=listening.fileno())


def is_loopback(host: str) -> bool:
    """Whether an address to bind to is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

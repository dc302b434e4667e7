"""HTTP for repository services: retries with backoff, clear 4xx messages, tokens kept out of every message.

Transient failures (429, 5xx, timeouts, dropped connections) are retried by urllib3's `Retry`, mounted
on the requests session, when the request is safe to repeat: exponential backoff, and a server's
`Retry-After` (seconds or an HTTP date, on 429, 503 and 413) is honoured up to the policy's longest
wait. A request that is not safe to repeat (creating a deposition, publishing) is tried once and raises
`TransientError`, so the caller can first ask the server what happened.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from eventdata.errors import PublishError

log = logging.getLogger("eventdata.publish")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
KEYRING_SERVICE = "eventdata"
REDACTED = "***"
_QUERY_SECRET = re.compile(r"(?i)((?:access_token|token|api_key|apikey|key)=)[^&\s\"']+")


class TransientError(PublishError):
    """The server did not answer usefully (5xx, 429, timeout, dropped connection); a re-run can resume."""


class RejectedError(PublishError):
    """The server refused the request (4xx): bad token, missing permission, invalid metadata, not found."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def find_token(env_var: str, service: str) -> str | None:
    """A token from the environment variable, else from the system keyring (service 'eventdata', user service)."""
    value = os.environ.get(env_var, "").strip()
    if value:
        return value
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        stored = keyring.get_password(KEYRING_SERVICE, service)
    except KeyringError:
        return None
    return stored.strip() if stored else None


def require_token(env_var: str, service: str) -> str:
    token = find_token(env_var, service)
    if not token:
        raise PublishError(
            f"No {service} token: set the environment variable {env_var}, or store the token with "
            f"`keyring set {KEYRING_SERVICE} {service}`. Nothing was sent."
        )
    return token


class CappedRetry(Retry):
    """urllib3's Retry that waits at most longest_wait seconds, whatever a Retry-After asks for."""

    def __init__(self, *args: Any, longest_wait: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.longest_wait = longest_wait

    def new(self, **kw: Any) -> CappedRetry:
        kw.setdefault("longest_wait", self.longest_wait)
        renewed: CappedRetry = super().new(**kw)
        return renewed

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.longest_wait)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried (tests shorten the waits)."""

    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the given failed attempt (1-based) when the caller repeats a step itself."""
        return min(self.backoff * 2.0 ** (attempt - 1), self.max_delay)

    def retry(self, *, repeat: bool) -> Retry:
        """urllib3's Retry for this policy: attempts - 1 repeats of any method when repeat, else none."""
        if not repeat:
            return Retry(total=0, connect=0, read=0, status=0, other=0, redirect=0, raise_on_status=False)
        return CappedRetry(
            total=self.attempts - 1,
            allowed_methods=None,  # the caller decides what may be repeated
            status_forcelist=RETRY_STATUS,
            backoff_factor=self.backoff,
            backoff_max=self.max_delay,
            respect_retry_after_header=True,
            longest_wait=self.max_delay,
            raise_on_status=False,  # the last answer is turned into a TransientError below
            redirect=0,
        )


def retrying_session(policy: RetryPolicy, *, repeat: bool) -> requests.Session:
    """A requests Session whose http(s) adapters retry as the policy says (or never)."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=policy.retry(repeat=repeat))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass
class HttpClient:
    """A requests Session bound to one service: authentication, retries, redaction, error messages.

    describe_error turns a 4xx response body into a sentence (each service words its errors differently).
    The token goes only to URLs under base_url, never to another host a response points to.
    """

    service: str
    base_url: str
    headers: Mapping[str, str]
    secrets: tuple[str, ...]
    token_hint: str
    describe_error: Callable[[requests.Response], str]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = (10.0, 120.0)
    session: requests.Session = field(init=False)
    once: requests.Session = field(init=False)

    def __post_init__(self) -> None:
        self.session = retrying_session(self.policy, repeat=True)
        self.once = retrying_session(self.policy, repeat=False)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.once.close()

    def redact(self, text: str) -> str:
        """text with every secret and every token-like query parameter replaced by ***."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        body: Path | None = None,
        form: Mapping[str, str] | None = None,
        upload: tuple[str, Path] | None = None,
        retry: bool | None = None,
    ) -> requests.Response:
        """Send one request; retry transient failures when retry (default: for GET, PUT, DELETE).

        body streams a file as the raw request body; form + upload send multipart/form-data with the file
        under the given field name. A repeated attempt sends the file again from its start (urllib3 rewinds it).
        """
        may_retry = method in SAFE_METHODS if retry is None else retry
        tries = self.policy.attempts if may_retry else 1
        where = f"{method} {self.redact(url)}"
        try:
            response = self._send(
                method, url, json=json, params=params, body=body, form=form, upload=upload, repeat=may_retry
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            problem = f"the connection failed ({type(err).__name__})"
            log.info("%s: %s", where, problem)
        else:
            log.info("%s -> %s", where, response.status_code)
            if response.status_code < 400:
                return response
            if response.status_code not in RETRY_STATUS:
                raise self._rejected(response, where)
            problem = f"the server answered {response.status_code} {response.reason}"
        tried = f"after {tries} attempts" if tries > 1 else "(not repeated automatically: it is not safe to repeat)"
        raise TransientError(
            f"{self.service}: {where} failed {tried}: {problem}. Nothing is lost: run the same command again "
            "to resume from where it stopped."
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        body: Path | None,
        form: Mapping[str, str] | None,
        upload: tuple[str, Path] | None,
        repeat: bool,
    ) -> requests.Response:
        ours = url == self.base_url or url.startswith(self.base_url.rstrip("/") + "/")
        headers = dict(self.headers) if ours else {}  # the token goes to no other host
        handle: BinaryIO | None = None
        try:
            files: dict[str, tuple[str, BinaryIO]] | None = None
            data: Any = form
            if body is not None:
                handle = body.open("rb")
                data = handle
                headers["Content-Type"] = "application/octet-stream"
            elif upload is not None:
                handle = upload[1].open("rb")
                files = {upload[0]: (upload[1].name, handle)}
            session = self.session if repeat else self.once
            return session.request(
                method, url, json=json, params=params, data=data, files=files, headers=headers, timeout=self.timeout
            )
        finally:
            if handle is not None:
                handle.close()

    def _rejected(self, response: requests.Response, where: str) -> RejectedError:
        status = response.status_code
        detail = self.redact(self.describe_error(response)) or response.reason
        if status == 401:
            fix = f"the token was not accepted: check {self.token_hint} (is it for this server, and still valid?)"
        elif status == 403:
            fix = f"the token lacks permission for this: check its scopes or roles ({self.token_hint})"
        elif status == 404:
            fix = "not found: check --base-url and the names and ids given"
        elif status in (400, 409, 422):
            fix = (
                "the server rejected the content: fix the metadata named above in the release and publish a new version"
            )
        else:
            fix = "see the server's message"
        return RejectedError(f"{self.service} refused {where} ({status}): {detail}. Fix: {fix}.", status)

    def json(self, response: requests.Response) -> Any:
        """The JSON body of a response, or a PublishError saying the server did not send JSON."""
        try:
            return response.json()
        except ValueError as err:
            raise TransientError(
                f"{self.service} answered {response.request.method} {self.redact(response.url)} with something "
                "that is not JSON. Check --base-url points at the API, then run the same command again."
            ) from err

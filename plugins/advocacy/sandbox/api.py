"""The small routing kit every platform look-alike plugs into the sandbox server with.

A platform module (``sandbox/x.py``, ``graph.py``, ``linkedin.py``, ...; the
registry entry's ``sandbox`` names it) exposes:

* ``create(options: PlatformOptions) -> Platform``: its routes, mounted by ``server.py``;
* ``DEFAULT_TOKEN``: the credential it accepts unless the server is given another;
* ``connections(server) -> {"AIRFLOW_CONN_...": json}``: the Airflow connections a
  deployment defines for it, pointed at the sandbox (the demo and the tests use them);
* ``banner(server) -> str``: its line in ``advocacy sandbox``'s start-up message;
* optionally ``roster_columns(employee) -> {column: value}`` for roster columns the
  company's own employee record does not hold, and ``ground_truth(company, ts, roster)``
  -> (posts, company posts, audiences) for a platform whose world lives in the module.

So adding a platform's look-alike is one module: nothing in ``server.py`` or
``company.py`` names it. A :class:`Platform` lists its :class:`Route` s (method, path
pattern with ``:params``, a stable endpoint name used for rate limits and stats, a
handler) and knows its own dialect: how a request authenticates, which rate-limit
headers it sends, what its 429 body looks like. ``server.py`` only dispatches and counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advocacy.sandbox.company import Company


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # last value of each query parameter
    headers: Mapping[str, str]  # case-insensitive (an email.message.Message)
    body: bytes
    now: dt.datetime  # the simulated clock, aware UTC
    company: Company
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    multi: dict[str, list[str]] = field(default_factory=dict)  # every value of each query parameter


@dataclass
class Reply:
    status: int
    body: Any  # JSON-serialisable (dict/list), or str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json; charset=utf-8"  # None: no Content-Type header
    # a transport fault instead of a normal reply: "reset" (close without answering),
    # "timeout" (answer nothing for longer than a client waits), "truncate" (promise the
    # whole body in Content-Length, send half, close)
    transport: str | None = None


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # e.g. "/2/users/:id/tweets"
    endpoint: str  # short stable name, e.g. "users_tweets"
    handler: Handler
    rate_limit: int | None = None  # requests per window; None = unlimited

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        m = _compiled(self.pattern).fullmatch(path)
        return None if m is None else m.groupdict()


_PATTERNS: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    rx = _PATTERNS.get(pattern)
    if rx is None:
        parts = []
        for seg in pattern.strip("/").split("/"):
            parts.append(f"(?P<{seg[1:]}>[^/]+)" if seg.startswith(":") else re.escape(seg))
        rx = _PATTERNS[pattern] = re.compile("/" + "/".join(parts))
    return rx


def http_connection(host: str, token: str, **extra) -> str:
    """An ``AIRFLOW_CONN_*`` value as a deployment writes it for a token-authenticated HTTP
    API: host, the token as password, timeouts and module-specific extras."""
    import json

    return json.dumps(
        {"conn_type": "http", "host": host, "password": token,
         "extra": {"timeout": 30, "wait_on_rate_limit": True, **extra}}
    )  # fmt: skip


@dataclass
class PlatformOptions:
    """What the server tells a platform when mounting it."""

    token: str | None = None  # the credential the platform accepts
    rate_limits: dict[str, int] = field(default_factory=dict)  # endpoint -> budget overrides
    window_seconds: float = 900.0
    omit_reset_header: bool = False  # serve 429s without a reset header (connector tests)
    # tokens that have expired (shared with the server, which may add to it while running)
    expired_tokens: set[str] = field(default_factory=set)
    # metric names the platform refuses as deprecated/retired, in its own error shape
    # (Graph Page insights metrics, LinkedIn member analytics query types)
    deprecated_metrics: set[str] = field(default_factory=set)


class Platform:
    """Base class: subclasses set ``name`` and ``routes`` and may override the dialect."""

    name: str = ""
    prefix: str = ""  # path prefix the platform owns (its 404s are in its own dialect)
    routes: list[Route]
    #: endpoints that page, and the query parameters that move along a listing (the cursor)
    #: and that size a page: the server's ``short_page`` / ``repeat_page`` faults use them
    paged_endpoints: frozenset[str] = frozenset()
    cursor_params: tuple[str, ...] = ()
    page_size_params: tuple[str, ...] = ()
    continuation_params: tuple[str, ...] = ()  # present (and not "0") on every page but the first

    def first_page(self, query: dict[str, str]) -> bool:
        return not any(query.get(p) not in (None, "", "0") for p in self.continuation_params)

    def __init__(self, options: PlatformOptions):
        self.options = options

    def authenticate(self, request: Request) -> Reply | None:
        """None if the request may proceed, else the platform's 401 reply."""
        return None

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> dict[str, str]:
        return {}

    def too_many_requests(self, limit: int, reset_epoch: int) -> Reply:
        return Reply(429, {"error": "too many requests"})

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"error": "not found"})

    def handle(self, route: Route, request: Request) -> Reply:
        """Run a route's handler (override to turn the platform's exceptions into replies)."""
        return route.handler(request)

    def server_error(self, status: int) -> Reply:
        """A 5xx in the platform's dialect (subclasses override)."""
        return Reply(status, {"error": "server error", "status": status})

    def rate_limited(self, request: Request, reset_epoch: int) -> Reply:
        """The platform's rate-limit refusal with its headers, as a fault (subclasses override)."""
        reply = self.too_many_requests(0, reset_epoch)
        reply.headers.update(self.rate_limit_headers(1, -1, reset_epoch))
        return reply

    def token_expired(self, request: Request) -> Reply:
        """The platform's expired/revoked-token error (subclasses override)."""
        return Reply(401, {"error": "token expired"})

    def fault(self, name: str, request: Request, *, reset_epoch: int = 0) -> Reply:
        """The reply for an injected fault (``SandboxServer.inject_fault`` / ``fault_rate``).

        Generic faults every platform knows: ``html_502`` (a proxy's HTML error
        page), ``no_content_type`` (a 200 JSON body without a Content-Type
        header), ``empty_404`` (404 with a JSON body that is not the platform's
        error shape), ``status_500`` / ``status_502`` / ``status_503`` (in the
        platform's dialect), ``rate_limit`` (its refusal, with reset headers
        where it sends them), ``token_expired`` (its expired-token error).
        The server itself handles ``connection_reset``, ``read_timeout``,
        ``truncated``, ``non_json``, ``short_page`` and ``repeat_page``.
        Platforms add their own names (their error bodies).
        """
        if name == "html_502":
            html = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
            return Reply(502, html, content_type="text/html; charset=utf-8")
        if name == "no_content_type":
            return Reply(200, {"data": []}, content_type=None)
        if name == "empty_404":
            return Reply(404, {"message": "Not Found"})
        if name in ("status_500", "status_502", "status_503"):
            return self.server_error(int(name[-3:]))
        if name == "rate_limit":
            return self.rate_limited(request, reset_epoch)
        if name == "token_expired":
            return self.token_expired(request)
        raise ValueError(f"platform {self.name!r} knows no fault {name!r}")

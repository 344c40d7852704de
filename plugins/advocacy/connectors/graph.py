"""The Graph API client the Facebook and Instagram connectors share (facebook-sdk underneath).

facebook-sdk 3.1 refuses ``GraphAPI(version="21.0")`` (it knows versions up
to 3.1), so the client keeps its own version (the connection's extra
``api_version``, default :data:`DEFAULT_VERSION`) and calls the raw
``GraphAPI.request("v21.0/<path>", args)``. The library's ``requests``
session carries a :class:`~advocacy.connectors.base.RewritingAdapter` mounted
on ``https://graph.facebook.com/``: the connection's ``host`` decides where
requests go (the real API, a proxy or the sandbox), and the adapter counts
requests and reads the usage headers.

What the client survives (docs/platforms/facebook.md, tests/fixtures/api/facebook):

* Graph errors -> :class:`GraphError` subclasses carrying ``code``,
  ``subcode``, ``status``, ``transient`` and the connection id:
  190/102/104 (token invalid or expired) -> :class:`GraphAuthError`;
  10, 200-299 and 100 "missing permission" -> :class:`GraphPermissionError`;
  4/17/32/613/80001-80009 (rate limits, ``is_transient``) ->
  :class:`GraphRateLimitError`, retried after ``estimated_time_to_regain_access``
  (usage header, minutes) or the capped exponential backoff; 1/2 and other
  ``is_transient`` errors are transient. Both are retried by the shared
  :class:`~advocacy.connectors.base.RetryPolicy` (one layer: a permanently
  failing call costs ``1 + transient_retries`` = 4 requests).
* facebook-sdk quirks: an HTML 502 (``GraphAPIError`` with ``code=None``) is
  retried as transient; a response without ``Content-Type`` (``KeyError`` in
  the library) is retried as transient, then reported; a 404 (or any >= 400) whose
  JSON has no ``error`` key, which the library returns as a success, is
  turned into a :class:`GraphError` naming the host to check.
* Paging: :meth:`GraphClient.pages` follows ``paging.next`` as given (its path
  and every query parameter, the token replaced by ours), for cursor-style
  and time-based paging alike, and stops on a missing ``next`` or an empty
  page. A page whose ``after`` cursor / ``next`` link was already followed (a
  glitch repeating an earlier page, or Instagram's last page repeating its
  cursor) makes it ask for the page it wanted again, at most
  ``MAX_CURSOR_REPEATS`` times in a row; then the listing stops with a
  warning. Callers deduplicate by id.
* A body cut short, a 200 whose JSON is incomplete, a reset connection or a
  read timeout is a transient error (retried like the others). With a
  ``checkpoint`` (:class:`~advocacy.connectors.base.Checkpoint`), completed
  responses are journaled and a retried extract replays them.
* Usage headers ``x-app-usage`` / ``x-business-use-case-usage`` /
  ``x-ad-account-usage`` (JSON inside a string, percentages): the highest
  value lands in ``stats.max_usage_pct``; 90 % and more logs a warning.

The token travels in the query string: URLs never reach logs or messages
(``urllib3``'s DEBUG lines are redacted).

Connection: ``host`` (default ``https://graph.facebook.com``), ``password`` =
the Page / system-user access token; extra ``api_version`` ("21.0"),
``timeout`` (s, 30), the retry policy's extras (connectors/README.md),
``member_tokens`` (see each connector).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import facebook
import requests

from advocacy.connectors.base import (
    AuthError,
    Checkpoint,
    ConnectedClient,
    ConnectorError,
    CursorRepeats,
    PermissionDeniedError,
    PlatformError,
    RateLimitError,
    RewritingAdapter,
    TokenExpiredError,
    install_redaction,
    safe_url,
)

log = logging.getLogger(__name__)

GRAPH_HOST = "https://graph.facebook.com"
# v21.0 is usable until 2027-01-21 only; v25.0 until 2028-07-29 (Graph API changelog, "Versions")
DEFAULT_VERSION = "25.0"
#: Graph API versions: (release, last usable day), from Meta's changelog
#: (https://developers.facebook.com/docs/graph-api/changelog/versions/). A call to an expired
#: version is served by the oldest usable one (Meta's "automatic upgrade"), so nothing fails
#: that day: ``probe()`` warns ahead instead.
GRAPH_VERSIONS = {
    "19.0": ("2024-01-23", "2026-05-21"),
    "20.0": ("2024-05-21", "2026-09-24"),
    "21.0": ("2024-10-02", "2027-01-21"),
    "22.0": ("2025-01-21", "2027-05-20"),
    "23.0": ("2025-05-29", "2027-10-08"),
    "24.0": ("2025-10-08", "2028-02-18"),
    "25.0": ("2026-02-18", "2028-07-29"),
    "26.0": ("2026-07-29", None),
}
MAX_IDS = 50  # Graph's multi-id read limit
AUTH_CODES = frozenset({102, 104, 190})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80010)})
TRANSIENT_CODES = frozenset({1, 2})
_VERSION = re.compile(r"^v?(\d{1,2}\.\d{1,2})$")
_VERSIONED_PATH = re.compile(r"/(v\d{1,2}\.\d{1,2}(?:/.*)?)$")
_ALIASES = re.compile(r"aliases you requested do not exist:\s*(.+)$")


class GraphError(PlatformError):
    """A Graph API error, with ``code``/``subcode``/``status``/``transient`` and ``error`` (the body)."""

    payload_name = "error"
    error: dict


class GraphAuthError(GraphError, TokenExpiredError):
    """Code 190/102/104: the token is invalid, expired or missing; renew it."""


class GraphPermissionError(GraphError, PermissionDeniedError):
    """Code 10, 200-299, or 100 about a missing permission/feature."""


class GraphRateLimitError(GraphError, RateLimitError):
    """Code 4/17/32/613/8000x: rate limited (transient)."""


def parse_usage(headers: Any) -> tuple[float | None, float]:
    """(highest usage percentage, minutes to regain access) from Graph's usage headers.

    Tolerates absent headers (Graph sends them "once enough calls have been
    made") and values that are not JSON (ignored).
    """
    best: float | None = None
    regain = 0.0

    def load(name: str) -> Any:
        raw = headers.get(name) if headers is not None else None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return None

    def take(entry: Any) -> None:
        nonlocal best, regain
        if not isinstance(entry, dict):
            return
        for key in ("call_count", "total_time", "total_cputime", "acc_id_util_pct"):
            value = entry.get(key)
            if isinstance(value, int | float):
                best = value if best is None else max(best, float(value))
        wait = entry.get("estimated_time_to_regain_access")
        if isinstance(wait, int | float):
            regain = max(regain, float(wait))

    take(load("x-app-usage"))
    take(load("x-ad-account-usage"))
    buc = load("x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                take(entry)
    return best, regain


def missing_aliases(message: str) -> list[str]:
    """The ids named by ``(#803) Some of the aliases you requested do not exist: a,b``."""
    m = _ALIASES.search(message or "")
    return [i.strip() for i in m.group(1).split(",") if i.strip()] if m else []


def split_next(url: str) -> tuple[str, dict[str, str]]:
    """A ``paging.next`` URL -> (versioned path, query args without the access token)."""
    parts = urlsplit(url)
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    args.pop("access_token", None)
    m = _VERSIONED_PATH.search(parts.path)  # a proxy may prefix the path: keep from the version on
    return (m.group(1) if m else parts.path.lstrip("/")), args


def api_version(extra: dict) -> str:
    raw = str(extra.get("api_version") or extra.get("version") or DEFAULT_VERSION).strip()
    m = _VERSION.match(raw)
    if not m:
        raise ConnectorError(f"Graph api_version {raw!r} is not like '21.0'")
    return m.group(1)


class GraphClient(ConnectedClient):
    """facebook-sdk ``GraphAPI`` objects (one per token) over one session bound to a connection."""

    def __init__(self, conn: Any, label: str, checkpoint: Checkpoint | None = None):
        self.label = label  # "Facebook" / "Instagram", for messages

        def no_token(conn_id: str) -> GraphAuthError:
            return GraphAuthError(
                f"{label} Graph API connection '{conn_id}' has no access token: store the Page / "
                "system-user token as the connection's password",
                conn_id=conn_id,
            )

        super().__init__(
            conn, default_host=GRAPH_HOST, no_token=no_token, checkpoint=checkpoint, version=api_version
        )
        self._last_status: int | None = None
        self._last_endpoint = "other"
        self._regain_minutes = 0.0
        self._warned_usage = False
        self._apis: dict[str, facebook.GraphAPI] = {}
        self.session = requests.Session()
        adapter = RewritingAdapter(
            GRAPH_HOST,
            self.host,
            timeout=self.timeout,
            on_response=self._on_response,
            checkpoint=checkpoint,
        )
        self.session.mount(GRAPH_HOST + "/", adapter)
        install_redaction("urllib3.connectionpool")  # it logs request lines (with the token) at DEBUG

    @property
    def where(self) -> str:
        return f"{self.label} Graph API connection '{self.conn_id}' ({safe_url(self.host)})"

    def api(self, token: str | None = None) -> facebook.GraphAPI:
        token = token or self.token
        graph = self._apis.get(token)
        if graph is None:
            graph = self._apis[token] = facebook.GraphAPI(
                access_token=token, timeout=self.timeout, session=self.session
            )
        return graph

    # ----------------------------------------------------------------- hooks
    def _on_response(self, response: requests.Response) -> None:
        self._last_status = response.status_code
        endpoint = self._last_endpoint
        usage, regain = parse_usage(response.headers)
        self._regain_minutes = regain
        if usage is not None:
            self.stats.max_usage_pct = max(self.stats.max_usage_pct or 0.0, usage)
            if usage >= 90 and not self._warned_usage:
                self._warned_usage = True
                log.warning("%s: Graph reports %.0f%% of the rate-limit budget used", self.label, usage)
        code = None
        if response.status_code >= 400:
            try:
                code = (response.json().get("error") or {}).get("code")
            except (ValueError, AttributeError):
                code = None
        if code in RATE_LIMIT_CODES:
            self.stats.rate_limited += 1
            return
        self.count(endpoint)

    # ----------------------------------------------------------------- errors
    def error_from(self, exc: facebook.GraphAPIError, what: str, who: str | None = None) -> GraphError:
        """A GraphAPIError -> the matching :class:`GraphError` (``who`` names a member's token)."""
        result = exc.result if isinstance(exc.result, dict) else {}
        err = result.get("error") if isinstance(result.get("error"), dict) else {}
        code = exc.code if exc.code is not None else err.get("code")
        subcode = err.get("error_subcode")
        message = str(err.get("message") or exc.message or exc)
        status = self._last_status
        transient = bool(err.get("is_transient"))
        token_name = f"the user token of member {who}" if who else "the connection's token (password)"
        base = f"{self.where}: {what} failed"
        kwargs = dict(code=code, subcode=subcode, status=status, conn_id=self.conn_id, error=err)
        if code is None:
            return GraphError(
                f"{base}: HTTP {status} with a non-JSON body (a proxy or Graph outage): {message[:120]}",
                transient=True,
                **{**kwargs, "code": None},
            )
        detail = f"(code {code}" + (f", subcode {subcode}" if subcode else "") + f"): {message}"
        if code in AUTH_CODES:
            fix = (
                f"ask member {who} to sign in to the app again and update extra.member_tokens of "
                f"connection '{self.conn_id}'"
                if who
                else f"generate a new Page/system-user token and store it as the password of connection "
                f"'{self.conn_id}'"
            )
            message = f"{base}: {token_name} is invalid or expired {detail}. Fix: {fix}"
            return GraphAuthError(message, **kwargs)
        if code in RATE_LIMIT_CODES:
            return GraphRateLimitError(f"{base}: rate limited {detail}", transient=True, **kwargs)
        if code == 10 or 200 <= code <= 299 or (code == 100 and "permission" in message.lower()):
            return GraphPermissionError(
                f"{base}: {token_name} lacks a permission {detail}. Fix: grant the app the permission "
                f"or feature named above for connection '{self.conn_id}'",
                **kwargs,
            )
        return GraphError(f"{base} {detail}", transient=transient or code in TRANSIENT_CODES, **kwargs)

    # ----------------------------------------------------------------- calls
    def request(
        self,
        path: str,
        args: dict | None = None,
        *,
        token: str | None = None,
        what: str,
        endpoint: str = "other",
        versioned: bool = False,
        who: str | None = None,
    ) -> dict:
        """One Graph call with retries; ``path`` without the version unless ``versioned``."""
        full = path if versioned else f"v{self.version}/{path.lstrip('/')}"
        graph = self.api(token)

        def attempt() -> dict:
            self._last_status = None
            self._last_endpoint = endpoint
            try:
                result = graph.request(full, dict(args or {}))
            except facebook.GraphAPIError as exc:
                error = self.error_from(exc, what, who)
            except KeyError:
                error = GraphError(
                    f"{self.where}: {what}: HTTP {self._last_status} response without a Content-Type header",
                    status=self._last_status,
                    transient=True,
                    conn_id=self.conn_id,
                )
            except requests.RequestException as exc:
                error = GraphError(
                    f"{self.where} unreachable during {what}: {type(exc).__name__}",
                    transient=True,
                    conn_id=self.conn_id,
                )
            else:
                status = self._last_status
                if status is not None and status >= 400:
                    error = GraphError(
                        f"{self.where}: {what}: HTTP {status} without a Graph error body; check the "
                        f"connection's host (is it a Graph API, and is the path right?)",
                        status=status,
                        conn_id=self.conn_id,
                    )
                elif not isinstance(result, dict):
                    error = GraphError(f"{self.where}: {what}: unexpected response", conn_id=self.conn_id)
                else:
                    return result
            raise error

        return self.policy.run(
            attempt,
            label=f"{self.label} {endpoint}",
            stats=self.stats,
            wait_hint=lambda _error: self._regain_minutes * 60 if self._regain_minutes > 0 else None,
        )

    def pages(
        self,
        path: str,
        args: dict,
        *,
        token: str | None = None,
        what: str,
        endpoint: str,
        who: str | None = None,
        keep_going: Callable[[dict], bool] | None = None,
    ) -> Iterator[dict]:
        """Every page of a listing, following ``paging.next`` (see the module docstring).

        ``keep_going(page)`` may stop early (e.g. a time-based listing that went
        past the window). Repeated cursors are noted in ``stats.notes``.
        """
        nested = self.checkpoint.bypass if self.checkpoint is not None else None

        def fetch(target: str | None, again: bool) -> dict:
            with nested(again) if nested is not None else contextlib.nullcontext():
                if target is None:
                    return self.request(path, args, token=token, what=what, endpoint=endpoint, who=who)
                next_path, next_args = split_next(target)
                return self.request(
                    next_path, next_args, token=token, what=what, endpoint=endpoint, versioned=True, who=who
                )

        current: str | None = None  # the next link this page was asked with (None: the first)
        body = fetch(None, False)
        seen: set[str] = set()
        repeats = CursorRepeats(self.stats.notes, what, self.label)
        while True:
            yield body
            paging = body.get("paging") or {}
            nxt = paging.get("next")
            after = (paging.get("cursors") or {}).get("after")
            if not nxt or not body.get("data"):
                return
            if keep_going is not None and not keep_going(body):
                return
            marks = {f"next:{nxt}"} | ({f"after:{after}"} if after else set())
            if marks & seen:
                if not repeats.again():
                    return
                # an earlier page came back: ask again for the one that was wanted
                body = fetch(current, True)
                continue
            repeats.advanced()
            seen |= marks
            current = nxt
            body = fetch(current, False)


__all__ = [
    "AuthError",
    "DEFAULT_VERSION",
    "GRAPH_HOST",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphPermissionError",
    "GraphRateLimitError",
    "MAX_IDS",
    "missing_aliases",
    "parse_usage",
    "split_next",
]


def probe_graph(platform_settings: Any, label: str, node: str | None, fields: str, permissions: str) -> list:
    """The Graph half of ``probe()`` (Facebook, Instagram): one ``GET /v{version}/{node}?fields=``
    with the connection's token checks the token (190/102/104), the permissions (10, 200-299,
    100 "permission"), the version's expiry (``GRAPH_VERSIONS``) and the usage headers'
    headroom (``x-app-usage`` / ``x-business-use-case-usage``)."""
    import datetime as dt

    from advocacy.connectors.base import Probe

    pr = Probe(platform_settings, label)
    if pr.lacking():
        return pr.findings
    conn_id = pr.conn_id
    fix_version = (
        f"set extra.api_version of connection '{conn_id}' to a current Graph version (e.g. {DEFAULT_VERSION})"
    )
    try:
        version = api_version(pr.extra)
    except ConnectorError as exc:
        pr.add("fail", "API version", str(exc), fix_version)
        return pr.findings
    release_expiry = GRAPH_VERSIONS.get(version)
    today = dt.date.today()
    if release_expiry is None:
        pr.add("warn", "API version", f"v{version} is not in the known versions", fix_version)
    elif release_expiry[1] and dt.date.fromisoformat(release_expiry[1]) <= today:
        pr.add(
            "fail",
            "API version",
            f"v{version} expired on {release_expiry[1]}: Meta serves the oldest usable version instead",
            fix_version,
        )
    elif release_expiry[1] and (dt.date.fromisoformat(release_expiry[1]) - today).days <= 90:
        pr.add("warn", "API version", f"v{version} expires on {release_expiry[1]}", fix_version)
    else:
        pr.add("ok", "API version", f"v{version} (usable until {release_expiry[1] or 'not announced'})")
    if pr.lacking(
        (pr.token, "token", "no access token", f"store the Page access token as the password of '{conn_id}'"),
        (node, f"{label} id", "no company_handles", f"list the {label} id in the platform's company_handles"),
    ):
        return pr.findings
    response = pr.get(GRAPH_HOST, f"/v{version}/{node}", params={"fields": fields, "access_token": pr.token})
    if response is None:
        return pr.findings
    body = pr.body(response)
    err = body.get("error") if isinstance(body, dict) else None
    if not err and response.status_code == 200:
        pr.answer("ok", {"ok": (f"valid; reads {label} {body.get('id', node)}", "")})
    else:
        err = err or {}
        code, message = err.get("code"), str(err.get("message") or f"HTTP {response.status_code}")
        denied = (
            code == 10
            or (isinstance(code, int) and 200 <= code <= 299)
            or (code == 100 and "permission" in message.lower())
        )
        kind = "refused" if code in AUTH_CODES else "denied" if denied else None
        texts = {
            "refused": (
                f"refused (code {code})",
                f"generate a new long-lived Page token and store it as the password of '{conn_id}'",
            ),
            "denied": (
                f"code {code}: {message[:120]}",
                f"grant {permissions} to the app and renew the token",
            ),
            "limited": (f"limited now (code {code})", "let the budget recover before the nightly run"),
            "other": (f"code {code}: {message[:120]}", "see docs/platforms/" + label.lower() + ".md"),
        }
        pr.answer(kind or ("limited" if code in RATE_LIMIT_CODES else "other"), texts)
    used, _regain = parse_usage(response.headers)
    pr.headroom(
        used,
        "no usage headers yet (Graph sends them once enough calls were made)",
        "fewer advocates per night or a later schedule; see x-business-use-case-usage",
    )
    return pr.findings

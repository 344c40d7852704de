"""The sandbox HTTP server: platform look-alikes over one synthetic company and a simulated clock.

Standard library only (``http.server.ThreadingHTTPServer``). Platforms are
mounted from ``PLATFORM_MODULES``, read from the platform registry (each entry names
its look-alike's module); each module's ``create(options)`` returns an
:class:`advocacy.sandbox.api.Platform` with its routes, and its hooks give its token,
Airflow connections and start-up line (``sandbox/api.py``). X lives at the root
(``/2/...``) because tweepy's host is hard-coded and the connector only swaps the
scheme+host; the others own their prefixes beside it (Graph ``/v21.0/...``,
LinkedIn ``/rest/...``, ...).

Admin endpoints (no credentials; the sandbox is local):

* ``GET  /_sandbox/health`` -> ``{"ok": true, "platforms": [...], "now": ...}``
* ``GET  /_sandbox/clock`` / ``POST /_sandbox/clock {"now": "2026-11-22T06:00:00Z"}``
* ``GET  /_sandbox/truth[?as_of=...]`` -> ``Company.ground_truth`` at the clock (or ``as_of``)
* ``GET  /_sandbox/roster.csv[?as_of=...]`` -> the roster CSV at the clock
* ``GET  /_sandbox/stats`` -> requests per endpoint, 429s/401s/400s served
* ``POST /_sandbox/reset_stats``, ``POST /_sandbox/reset_rate_limits``
* ``GET  /_sandbox/member_tokens[?as_of=]`` -> ``{"facebook": {user id: token}, "linkedin": {urn: token}}``
* ``GET  /_sandbox/self_reports.csv[?as_of=]``, ``GET /_sandbox/sessions.csv[?as_of=&style=kpi|ga4]``
* ``POST /_sandbox/expire_token {"token": ...}`` -> that token is refused as expired from now on
* ``POST /_sandbox/faults {"endpoint": "graph.page_posts", "fault": "html_502", "times": 1, "after": 0}``
  -> after ``after`` untouched requests, the next ``times`` requests to that endpoint get the
  fault; ``POST /_sandbox/faults {"rate": 0.1, "seed": 7, "faults": [...], "endpoints": [...]}``
  -> seeded random faults (see below); ``POST /_sandbox/clear_faults``
* ``POST /_sandbox/deprecate_metric {"metric": "post_impressions_unique"}`` -> the platforms
  refuse that metric as deprecated from now on (Graph insights, LinkedIn analytics query types)

Faults (one-shot with ``inject_fault``, or at random with ``fault_rate``): the
platform's own error bodies (``Platform.fault``: ``rate_limit`` with its reset
headers, ``status_500/502/503``, ``token_expired``, ``html_502``, ...) and
what the server does itself: ``connection_reset`` (the socket is closed with
an RST, no response), ``read_timeout`` (no answer for ``read_timeout_seconds``,
then a close: set the client's timeout below it), ``truncated`` (Content-Length
promises the whole body, half of it is sent), ``non_json`` (a complete 200
whose JSON is cut in half), ``short_page`` (a paged endpoint answers with
fewer items than asked, e.g. 37 of 100, and a next cursor that continues right
after them), ``repeat_page`` (a paged endpoint answers with the listing's
previous page again: items already seen and a next cursor the client already
followed). Random mode (``fault_rate``, ``fault_seed``, ``faults``): each
request's fault is drawn from a hash of the seed, the request line and how
often that exact request was seen, so a run is reproducible whatever the
order of concurrent clients; only transient faults by default
(:data:`TRANSIENT_FAULTS`).

Rate limits are kept per endpoint in windows of real (wall-clock) time, since
clients sleep in real time; ``rate_limits`` / ``rate_window_seconds`` shrink
them for tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import importlib
import json
import logging
import math
import socket
import struct
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request
from advocacy.sandbox.company import DEFAULT_NOW, DEFAULT_SEED, DEFAULT_SIZE, Company

log = logging.getLogger(__name__)


def _platform_modules() -> dict[str, str]:
    """Mount name -> the module of each registry entry's look-alike (Graph serves two)."""
    from advocacy import platforms

    modules: dict[str, str] = {}
    for p in platforms.REGISTRY.values():
        modules.setdefault(p.sandbox_module.rpartition(".")[2], p.sandbox_module)
    return modules


#: name -> module exposing ``create(options) -> Platform`` and the hooks of ``sandbox/api.py``,
#: from the platform registry: a platform's look-alike is mounted by being registered
PLATFORM_MODULES = _platform_modules()
#: name -> the credential each look-alike accepts by default (its module's DEFAULT_TOKEN)
DEFAULT_TOKENS = {name: importlib.import_module(m).DEFAULT_TOKEN for name, m in PLATFORM_MODULES.items()}


#: faults a client must survive by retrying or tolerating (the random mode's default)
TRANSIENT_FAULTS = (
    "rate_limit",
    "status_500",
    "status_502",
    "status_503",
    "connection_reset",
    "read_timeout",
    "truncated",
    "non_json",
    "short_page",
    "repeat_page",
)
#: faults the server produces itself (the others are the platform's replies)
SERVER_FAULTS = frozenset(
    {"connection_reset", "read_timeout", "truncated", "non_json", "short_page", "repeat_page"}
)
SHORT_PAGE_SHARE = 0.37  # a short page holds 37 % of what was asked (a page of 37 for 100)


def parse_now(value: str | dt.datetime) -> dt.datetime:
    """An aware UTC datetime from ISO text (``Z`` allowed) or a datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"the sandbox clock needs a timezone-aware time, got {value!r}")
    return value.astimezone(dt.UTC)


class _RateWindow:
    __slots__ = ("start", "count")

    def __init__(self, start: float):
        self.start = start
        self.count = 0


class SandboxServer:
    """API look-alikes for one company, on ``host:port`` (port 0 = any free port).

    ``start()`` / ``stop()`` (also a context manager), ``url`` (base URL, e.g.
    ``http://127.0.0.1:54321``), ``now`` / ``set_now()``, ``stats()``,
    ``reset_stats()``, ``reset_rate_limits()``.
    """

    def __init__(
        self,
        company: Company | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        now: dt.datetime | str = DEFAULT_NOW,
        bearer_token: str | None = DEFAULT_TOKENS["x"],
        *,
        tokens: dict[str, str | None] | None = None,
        rate_limits: dict[str, int] | None = None,
        rate_window_seconds: float = 900.0,
        omit_reset_header: bool = False,
        expired_tokens: set[str] | list[str] | None = None,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        faults: Iterable[str] | None = None,
        fault_endpoints: Iterable[str] | None = None,
        read_timeout_seconds: float = 3.0,
        rate_limit_reset_seconds: int = 1,
        deprecated_metrics: Iterable[str] | None = None,
    ):
        self.company = company if company is not None else Company()
        self.expired_tokens: set[str] = set(expired_tokens or ())
        self.deprecated_metrics: set[str] = set(deprecated_metrics or ())
        self._faults: dict[str, list[str | None]] = {}
        self.read_timeout_seconds = float(read_timeout_seconds)
        self.rate_limit_reset_seconds = int(rate_limit_reset_seconds)
        self.fault_rate = 0.0
        self.fault_seed = 0
        self.random_faults: tuple[str, ...] = TRANSIENT_FAULTS
        self.fault_endpoints: frozenset[str] | None = None
        self._seen: Counter = Counter()  # (method, request line) -> times seen, for random faults
        self._listing_pages: OrderedDict[tuple, list] = OrderedDict()  # for repeat_page
        self._lock = threading.Lock()
        #: (stats key, first page of a listing?) of recent platform requests, oldest first
        self.history: deque[tuple[str, bool]] = deque(maxlen=20000)
        self.set_fault_rate(fault_rate, fault_seed, faults, fault_endpoints)
        self.host = host
        self._port = port
        self._now = parse_now(now)
        self.window_seconds = float(rate_window_seconds)
        self.omit_reset_header = omit_reset_header
        self.bearer_token = bearer_token
        tokens = {**DEFAULT_TOKENS, "x": bearer_token, **(tokens or {})}
        self.tokens = tokens  # what each look-alike accepts: its connections carry them
        rate_limits = dict(rate_limits or {})
        self.platforms: list[Platform] = []
        for name, module in PLATFORM_MODULES.items():
            overrides = {}
            for key, value in rate_limits.items():
                plat, _, endpoint = key.rpartition(".")
                if plat in ("", name):
                    overrides[endpoint] = int(value)
            options = PlatformOptions(
                token=tokens.get(name),
                rate_limits=overrides,
                window_seconds=self.window_seconds,
                omit_reset_header=omit_reset_header,
                expired_tokens=self.expired_tokens,
                deprecated_metrics=self.deprecated_metrics,
            )
            self.platforms.append(importlib.import_module(module).create(options))
        self._windows: dict[str, _RateWindow] = {}
        self._stats: dict[str, Counter] = {}
        self.reset_stats()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._httpd = ThreadingHTTPServer((self.host, self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns within 50 ms, not the default 0.5 s
            name="advocacy-sandbox",
            daemon=True,
        )
        self._thread.start()
        log.info("sandbox serving %s (clock %s)", self.url, self._now.isoformat())
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd is not None else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ----------------------------------------------------------------- clock
    @property
    def now(self) -> dt.datetime:
        return self._now

    def set_now(self, now: dt.datetime | str) -> dt.datetime:
        with self._lock:
            self._now = parse_now(now)
        return self._now

    # ----------------------------------------------------------------- stats
    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {k: Counter() for k in ("requests", "429", "401", "400", "404", "faults")}
            self.history.clear()

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._windows.clear()

    def expire_token(self, token: str) -> None:
        """From now on the platforms refuse ``token`` as expired (each in its own error shape)."""
        with self._lock:
            self.expired_tokens.add(token)

    def inject_fault(self, endpoint: str, fault: str, times: int = 1, after: int = 0) -> None:
        """After ``after`` untouched requests, the next ``times`` requests to ``endpoint`` (a
        stats key such as ``graph.page_posts``, or a platform name for all its endpoints) get
        ``fault``."""
        with self._lock:
            self._faults.setdefault(endpoint, []).extend([None] * int(after) + [fault] * int(times))

    def set_fault_rate(
        self,
        rate: float,
        seed: int | None = None,
        faults: Iterable[str] | None = None,
        endpoints: Iterable[str] | None = None,
    ) -> None:
        """Seeded random faults: each request gets one of ``faults`` (default
        :data:`TRANSIENT_FAULTS`) with probability ``rate``, only on ``endpoints`` (stats
        keys or platform names; default all)."""
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {rate}")
        with self._lock:
            self.fault_rate = float(rate)
            if seed is not None:
                self.fault_seed = int(seed)
            self.random_faults = tuple(faults) if faults else TRANSIENT_FAULTS
            self.fault_endpoints = frozenset(endpoints) if endpoints else None
            self._seen.clear()

    def clear_faults(self) -> None:
        """No more faults: the one-shot queues are emptied and the random mode is off."""
        with self._lock:
            self._faults.clear()
            self.fault_rate = 0.0

    def deprecate_metric(self, metric: str) -> None:
        """From now on the platforms refuse ``metric`` as deprecated (each in its own error shape)."""
        with self._lock:
            self.deprecated_metrics.add(metric)

    def _pop_fault(self, key: str) -> str | None:
        with self._lock:
            for k in (key, key.split(".", 1)[0]):
                queue = self._faults.get(k)
                if queue:
                    return queue.pop(0)
        return None

    def _random_fault(self, key: str, method: str, raw_path: str, applies) -> str | None:
        """The fault for this request in random mode: drawn only among the faults that apply to it
        (``applies(name)``), so the rate is what ``fault_rate`` says on every endpoint."""
        if self.fault_rate <= 0.0:
            return None
        if self.fault_endpoints is not None and not {key, key.split(".", 1)[0]} & self.fault_endpoints:
            return None
        with self._lock:
            self._seen[(method, raw_path)] += 1
            n = self._seen[(method, raw_path)]
        # a hash, not a shared random generator: concurrent clients cannot change who gets what
        digest = hashlib.sha256(f"{self.fault_seed}|{method}|{raw_path}|{n}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.fault_rate:
            return None
        candidates = [f for f in self.random_faults if applies(f)]
        if not candidates:
            return None
        return candidates[int.from_bytes(digest[8:12], "big") % len(candidates)]

    def _applies(self, fault: str, platform: Platform, route, request: Request) -> bool:
        """Whether ``fault`` can happen to this request (the paging faults need a listing page)."""
        if fault not in ("short_page", "repeat_page"):
            return True
        listing = self._listing_key(platform, route, request)
        if listing is None:
            return False
        if fault == "short_page":
            sizes = [request.query.get(n, "") for n in platform.page_size_params]
            return any(v.isdigit() and max(1, int(int(v) * SHORT_PAGE_SHARE)) < int(v) for v in sizes)
        if platform.first_page(request.query):
            return False
        with self._lock:
            pages = self._listing_pages.get(listing) or [None, None]
        return (pages[1] if pages[1] != request.query else pages[0]) is not None

    def _listing_key(self, platform: Platform, route, request: Request) -> tuple | None:
        if route.endpoint not in platform.paged_endpoints:
            return None
        rest = tuple(sorted((k, v) for k, v in request.query.items() if k not in platform.cursor_params))
        return (platform.name, route.endpoint, request.path, rest)

    def _served_page(self, platform: Platform, listing: tuple | None, query: dict) -> None:
        """Remember a listing's last two distinct page requests (``repeat_page`` replays one);
        a first page starts the listing's walk afresh."""
        if listing is None:
            return
        with self._lock:
            pages = self._listing_pages.setdefault(listing, [None, None])
            self._listing_pages.move_to_end(listing)
            if platform.first_page(query):
                pages[0], pages[1] = None, dict(query)
            elif pages[1] != query:
                pages[0], pages[1] = pages[1], dict(query)
            while len(self._listing_pages) > 4096:
                self._listing_pages.popitem(last=False)

    def _serve_fault(self, fault: str, platform: Platform, route, request: Request) -> Reply | None:
        """The reply for ``fault``, or None when it does not apply to this request."""
        listing = self._listing_key(platform, route, request)
        if fault == "connection_reset":
            return Reply(0, b"", transport="reset")
        if fault == "read_timeout":
            return Reply(0, b"", transport="timeout")
        if fault == "truncated":
            reply = platform.handle(route, request)
            reply.transport = "truncate"
            return reply
        if fault == "non_json":
            reply = platform.handle(route, request)
            if reply.status != 200 or isinstance(reply.body, str | bytes):
                return None
            text = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"))
            reply.body = text[: max(1, len(text) // 2)]  # a complete HTTP answer, half a document
            return reply
        if fault == "short_page":
            names = [n for n in platform.page_size_params if request.query.get(n, "").isdigit()]
            if listing is None or not names:
                return None
            asked = int(request.query[names[0]])
            short = max(1, int(asked * SHORT_PAGE_SHARE))
            if short >= asked:
                return None
            query = {**request.query, names[0]: str(short)}
            reply = platform.handle(route, replace(request, query=query))
            self._served_page(platform, listing, query)
            return _restore_page_size(reply, names[0], short, asked)
        if fault == "repeat_page":
            if listing is None or platform.first_page(request.query):
                return None  # nothing before a first page to repeat
            with self._lock:
                pages = list(self._listing_pages.get(listing) or [None, None]) if listing else [None, None]
            previous = pages[1] if pages[1] != request.query else pages[0]
            if previous is None:
                return None
            return platform.handle(route, replace(request, query=dict(previous)))
        reset = int(time.time()) + self.rate_limit_reset_seconds
        return platform.fault(fault, request, reset_epoch=reset)

    def stats(self) -> dict:
        with self._lock:
            out = {k: dict(v) for k, v in self._stats.items()}
        return {
            "requests": out["requests"],
            "total_requests": sum(out["requests"].values()),
            "served_429": out["429"],
            "total_429": sum(out["429"].values()),
            "served_401": out["401"],
            "served_400": out["400"],
            "served_404": out["404"],
            "faults": out["faults"],
            "total_faults": sum(out["faults"].values()),
        }

    def _count(self, key: str, status: int) -> None:
        with self._lock:
            self._stats["requests"][key] += 1
            if str(status) in self._stats:
                self._stats[str(status)][key] += 1

    def _take(self, key: str, limit: int) -> tuple[bool, int, int]:
        """Spend one request of ``key``'s window: (allowed, remaining, reset epoch)."""
        wall = time.time()
        with self._lock:
            w = self._windows.get(key)
            if w is None or wall >= w.start + self.window_seconds:
                w = self._windows[key] = _RateWindow(wall)
            w.count += 1
            reset = math.ceil(w.start + self.window_seconds)
            return w.count <= limit, limit - w.count, reset

    # ----------------------------------------------------------------- dispatch
    def dispatch(self, method: str, raw_path: str, headers, body: bytes) -> tuple[Reply, str]:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        multi = parse_qs(parts.query, keep_blank_values=True)
        query = {k: v[-1] for k, v in multi.items()}
        if path.startswith("/_sandbox/"):
            return self._admin(method, path, query, body), "admin" + path[9:]
        request = Request(method, path, query, headers, body, self._now, self.company, multi=multi)
        for platform in self.platforms:
            for route in platform.routes:
                params = route.match(method, path)
                if params is None:
                    continue
                key = f"{platform.name}.{route.endpoint}"
                request.params = params
                self.history.append((key, platform.first_page(query)))
                denied = platform.authenticate(request)
                if denied is not None:
                    return denied, key
                headers_out: dict[str, str] = {}
                if route.rate_limit is not None:
                    allowed, remaining, reset = self._take(key, route.rate_limit)
                    headers_out = platform.rate_limit_headers(route.rate_limit, remaining, reset)
                    if self.omit_reset_header:
                        headers_out = {k: v for k, v in headers_out.items() if "reset" not in k.lower()}
                    if not allowed:
                        reply = platform.too_many_requests(route.rate_limit, reset)
                        reply.headers.update(headers_out)
                        return reply, key
                fault = self._pop_fault(key) if self._faults else None
                if fault is None:
                    fault = self._random_fault(
                        key,
                        method,
                        raw_path,
                        partial(self._applies, platform=platform, route=route, request=request),
                    )
                reply = self._serve_fault(fault, platform, route, request) if fault else None
                if reply is None:
                    reply = platform.handle(route, request)
                    self._served_page(platform, self._listing_key(platform, route, request), request.query)
                    reply.headers.update(headers_out)
                else:
                    with self._lock:
                        self._stats["faults"][fault] += 1
                    for k, v in headers_out.items():  # a fault's own headers (its reset) win
                        reply.headers.setdefault(k, v)
                return reply, key
        for platform in self.platforms:
            if platform.prefix and path.startswith(platform.prefix):
                return platform.not_found(request), f"{platform.name}.unknown"
        return Reply(404, {"error": f"no sandbox route for {method} {path}"}), "unknown"

    def _admin(self, method: str, path: str, query: dict, body: bytes) -> Reply:
        try:
            if path == "/_sandbox/health":
                return Reply(
                    200, {"ok": True, "platforms": [p.name for p in self.platforms], "now": _iso(self._now)}
                )
            if path == "/_sandbox/clock":
                if method == "POST":
                    payload = json.loads(body or b"{}")
                    self.set_now(payload["now"])
                return Reply(200, {"now": _iso(self._now)})
            as_of = parse_now(query["as_of"]) if "as_of" in query else self._now
            if path == "/_sandbox/truth" and method == "GET":
                platforms = query.get("platforms", "x")
                wanted = "all" if platforms == "all" else tuple(p for p in platforms.split(",") if p)
                return Reply(200, self.company.ground_truth(as_of, wanted))
            if path == "/_sandbox/member_tokens" and method == "GET":
                return Reply(200, {p: self.company.member_tokens(p, as_of) for p in ("facebook", "linkedin")})
            if path == "/_sandbox/self_reports.csv" and method == "GET":
                csv_text = self.company.files.self_reports_csv(as_of)
                return Reply(200, csv_text, content_type="text/csv; charset=utf-8")
            if path == "/_sandbox/sessions.csv" and method == "GET":
                csv_text = self.company.sessions_csv(as_of, query.get("style", "kpi"))
                return Reply(200, csv_text, content_type="text/csv; charset=utf-8")
            if path == "/_sandbox/expire_token" and method == "POST":
                self.expire_token(json.loads(body or b"{}")["token"])
                return Reply(200, {"ok": True})
            if path == "/_sandbox/faults" and method == "POST":
                payload = json.loads(body or b"{}")
                if "rate" in payload:
                    self.set_fault_rate(
                        float(payload["rate"]),
                        payload.get("seed"),
                        payload.get("faults"),
                        payload.get("endpoints"),
                    )
                else:
                    self.inject_fault(
                        payload["endpoint"],
                        payload["fault"],
                        int(payload.get("times", 1)),
                        int(payload.get("after", 0)),
                    )
                return Reply(200, {"ok": True})
            if path == "/_sandbox/clear_faults" and method == "POST":
                self.clear_faults()
                return Reply(200, {"ok": True})
            if path == "/_sandbox/deprecate_metric" and method == "POST":
                self.deprecate_metric(json.loads(body or b"{}")["metric"])
                return Reply(200, {"ok": True})
            if path == "/_sandbox/roster.csv" and method == "GET":
                csv_text = self.company.roster_csv(as_of)
                return Reply(200, csv_text, content_type="text/csv; charset=utf-8")
            if path == "/_sandbox/stats" and method == "GET":
                return Reply(200, self.stats())
            if path == "/_sandbox/reset_stats" and method == "POST":
                self.reset_stats()
                return Reply(200, {"ok": True})
            if path == "/_sandbox/reset_rate_limits" and method == "POST":
                self.reset_rate_limits()
                return Reply(200, {"ok": True})
        except (KeyError, ValueError) as exc:
            return Reply(400, {"error": f"bad admin request: {exc}"})
        return Reply(404, {"error": f"no admin endpoint {method} {path}"})


def _restore_page_size(reply: Reply, name: str, short: int, asked: int) -> Reply:
    """A short page's own next/previous links ask for the usual page size again, so only this
    page is short (Graph links and LinkedIn hrefs carry the size; X's tokens do not)."""
    body = reply.body
    if not isinstance(body, dict) or not isinstance(body.get("paging"), dict):
        return reply

    def fix(url):
        if not isinstance(url, str):
            return url
        for sep in ("?", "&"):
            url = url.replace(f"{sep}{name}={short}&", f"{sep}{name}={asked}&")
            if url.endswith(f"{sep}{name}={short}"):
                url = url[: -len(str(short))] + str(asked)
        return url

    paging = dict(body["paging"])
    for k in ("next", "previous"):
        if k in paging:
            paging[k] = fix(paging[k])
    if isinstance(paging.get("links"), list):
        paging["links"] = [{**link, "href": fix(link.get("href"))} for link in paging["links"]]
    reply.body = {**body, "paging": paging}
    return reply


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    sandbox: SandboxServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall)
    server_version = "advocacy-sandbox"
    sys_version = ""
    timeout = 60

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply, key = self.sandbox.dispatch(self.command, self.path, self.headers, body)
        except Exception:  # a bug in a look-alike must not kill the connection silently
            log.exception("sandbox error on %s %s", self.command, self.path.split("?")[0])
            reply, key = Reply(500, {"title": "Internal Server Error", "status": 500}), "error"
        self.sandbox._count(key, reply.status)
        if reply.transport in ("reset", "timeout"):
            if reply.transport == "timeout":
                time.sleep(self.sandbox.read_timeout_seconds)  # longer than the client waits
            else:  # SO_LINGER 0: close() sends an RST, as a dropped proxy connection does
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if isinstance(reply.body, bytes):
            payload = reply.body
        elif isinstance(reply.body, str):
            payload = reply.body.encode("utf-8")
        else:
            payload = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, no-store, max-age=0")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if reply.transport == "truncate":
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _serve

    def date_time_string(self, timestamp=None) -> str:
        """The ``Date`` header tells the simulated clock (clients may read the server's time)."""
        return email.utils.format_datetime(self.sandbox.now, usegmt=True)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        log.debug("sandbox %s", format % args)


@contextlib.contextmanager
def running_sandbox(
    seed: int = DEFAULT_SEED,
    now: dt.datetime | str = DEFAULT_NOW,
    port: int = 0,
    *,
    size: int = DEFAULT_SIZE,
    company: Company | None = None,
    roster_path: str | None = None,
    **kwargs,
) -> Iterator[SandboxServer]:
    """``with running_sandbox(now=...) as sb: sb.url`` -- started, stopped on exit.

    ``roster_path``: also write the roster CSV as of ``now`` there. ``kwargs`` go
    to :class:`SandboxServer` (``bearer_token``, ``tokens``, ``rate_limits``,
    ``rate_window_seconds``, ``omit_reset_header``, ``expired_tokens``, ``host``).
    """
    server = SandboxServer(
        company if company is not None else Company(seed=seed, size=size),
        port=port,
        now=now,
        **kwargs,
    )
    if roster_path:
        server.company.write_roster_csv(roster_path, server.now)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve_forever(
    seed: int = DEFAULT_SEED,
    port: int = 8765,
    now: dt.datetime | str = DEFAULT_NOW,
    roster_path: str | None = None,
    *,
    host: str = "127.0.0.1",
    size: int = DEFAULT_SIZE,
    fault_rate: float = 0.0,
    fault_seed: int = 0,
) -> None:
    """Run the sandbox until interrupted (``advocacy sandbox serve``).

    Writes the roster CSV as of ``now`` to ``roster_path`` when given, prints
    the base URL and the X bearer token to use, and blocks. ``fault_rate`` > 0
    injects seeded random transient faults on every endpoint (``fault_seed``).
    """
    company = Company(seed=seed, size=size)
    server = SandboxServer(
        company, host=host, port=port, now=now, fault_rate=fault_rate, fault_seed=fault_seed
    )
    if roster_path:
        company.write_roster_csv(roster_path, server.now)
    server.start()
    print(f"sandbox ready: {server.url}  (clock {_iso(server.now)}, seed {seed}, size {size})")
    if fault_rate:
        print(
            f"  faults: {fault_rate:.0%} of requests, seed {fault_seed} ({', '.join(server.random_faults)})"
        )
    for module in PLATFORM_MODULES.values():
        print(f"  {importlib.import_module(module).banner(server)}")
    print("  member tokens: GET /_sandbox/member_tokens (extra.member_tokens of the connections)")
    if roster_path:
        print(f"  roster: {roster_path}")
    print("  admin: /_sandbox/clock /_sandbox/truth /_sandbox/stats; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def airflow_connections(server: SandboxServer) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values pointing every platform's connection at this sandbox.

    The demo and the tests use exactly what a production deployment defines for
    the real APIs: host, token as password, and extras (member tokens of the
    advocates who granted access, as a real deployment stores them); each look-alike's
    module writes its own (``connections(server)``).
    """
    out: dict[str, str] = {}
    for module in PLATFORM_MODULES.values():
        out.update(importlib.import_module(module).connections(server))
    return out

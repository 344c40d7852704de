"""The sandbox HTTP server: platform look-alikes over one synthetic company and a simulated clock.

Standard library only (``http.server.ThreadingHTTPServer``). Platforms are
mounted from ``PLATFORM_MODULES`` (one line per platform); each module's
``create(options)`` returns an :class:`advocacy.sandbox.api.Platform` with its
routes. X lives at the root (``/2/...``) because tweepy's host is hard-coded
and the connector only swaps the scheme+host; Graph (``/v21.0/...``) and
LinkedIn (``/rest/...``) modules will sit beside it.

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
* ``POST /_sandbox/faults {"endpoint": "graph.page_posts", "fault": "html_502", "times": 1}``
  -> the next ``times`` requests to that endpoint get the fault (see ``Platform.fault``)

Rate limits are kept per endpoint in windows of real (wall-clock) time, since
clients sleep in real time; ``rate_limits`` / ``rate_window_seconds`` shrink
them for tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import importlib
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request
from advocacy.sandbox.company import DEFAULT_NOW, DEFAULT_SEED, DEFAULT_SIZE, Company

log = logging.getLogger(__name__)

#: name -> module exposing ``create(options) -> Platform``. Add a platform with one line.
PLATFORM_MODULES = {
    "x": "advocacy.sandbox.x",
    "graph": "advocacy.sandbox.graph",
    "linkedin": "advocacy.sandbox.linkedin",
}
DEFAULT_TOKENS = {
    "x": "sandbox-x-token",
    "graph": "sandbox-graph-token",  # Page / system-user token: Facebook Page and Instagram account
    "linkedin": "sandbox-linkedin-token",  # organisation admin token
}


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
    ):
        self.company = company if company is not None else Company()
        self.expired_tokens: set[str] = set(expired_tokens or ())
        self._faults: dict[str, list[str]] = {}
        self.host = host
        self._port = port
        self._now = parse_now(now)
        self._lock = threading.Lock()
        self.window_seconds = float(rate_window_seconds)
        self.omit_reset_header = omit_reset_header
        self.bearer_token = bearer_token
        tokens = {**DEFAULT_TOKENS, "x": bearer_token, **(tokens or {})}
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
            self._stats = {k: Counter() for k in ("requests", "429", "401", "400", "404")}

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._windows.clear()

    def expire_token(self, token: str) -> None:
        """From now on the platforms refuse ``token`` as expired (each in its own error shape)."""
        with self._lock:
            self.expired_tokens.add(token)

    def inject_fault(self, endpoint: str, fault: str, times: int = 1) -> None:
        """The next ``times`` requests to ``endpoint`` (a stats key such as
        ``graph.page_posts``, or a platform name for all its endpoints) get ``fault``."""
        with self._lock:
            self._faults.setdefault(endpoint, []).extend([fault] * int(times))

    def _pop_fault(self, key: str) -> str | None:
        with self._lock:
            for k in (key, key.split(".", 1)[0]):
                queue = self._faults.get(k)
                if queue:
                    return queue.pop(0)
        return None

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
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if path.startswith("/_sandbox/"):
            return self._admin(method, path, query, body), "admin" + path[9:]
        request = Request(method, path, query, headers, body, self._now, self.company)
        for platform in self.platforms:
            for route in platform.routes:
                params = route.match(method, path)
                if params is None:
                    continue
                key = f"{platform.name}.{route.endpoint}"
                request.params = params
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
                reply = platform.fault(fault, request) if fault else platform.handle(route, request)
                reply.headers.update(headers_out)
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
                self.inject_fault(payload["endpoint"], payload["fault"], int(payload.get("times", 1)))
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
) -> None:
    """Run the sandbox until interrupted (``advocacy sandbox serve``).

    Writes the roster CSV as of ``now`` to ``roster_path`` when given, prints
    the base URL and the X bearer token to use, and blocks.
    """
    company = Company(seed=seed, size=size)
    server = SandboxServer(company, host=host, port=port, now=now)
    if roster_path:
        company.write_roster_csv(roster_path, server.now)
    server.start()
    print(f"sandbox ready: {server.url}  (clock {_iso(server.now)}, seed {seed}, size {size})")
    print(f"  X: host={server.url} bearer token={DEFAULT_TOKENS['x']}")
    ids = company.social.ids()
    print(
        f"  Facebook/Instagram (Graph): host={server.url} token={DEFAULT_TOKENS['graph']} "
        f"page={ids['facebook_page_id']} ig_user={ids['instagram_user_id']}"
    )
    print(
        f"  LinkedIn: host={server.url} token={DEFAULT_TOKENS['linkedin']} "
        f"organization={ids['linkedin_organization_urn']}"
    )
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
    advocates who granted access, as a real deployment stores them).
    """
    import json

    def conn(token: str, **extra) -> str:
        return json.dumps(
            {"conn_type": "http", "host": server.url, "password": token,
             "extra": {"timeout": 30, "wait_on_rate_limit": True, **extra}}
        )  # fmt: skip

    now = server.now
    return {
        "AIRFLOW_CONN_X_API": conn(server.bearer_token),
        "AIRFLOW_CONN_FACEBOOK_GRAPH": conn(
            DEFAULT_TOKENS["graph"], member_tokens=server.company.member_tokens("facebook", now)
        ),
        "AIRFLOW_CONN_INSTAGRAM_GRAPH": conn(DEFAULT_TOKENS["graph"]),
        "AIRFLOW_CONN_LINKEDIN_API": conn(
            DEFAULT_TOKENS["linkedin"], member_tokens=server.company.member_tokens("linkedin", now)
        ),
    }

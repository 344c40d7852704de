"""What every connector shares: the connection it is built from, stream declarations,
errors that name the connection, and the HTTP adapter that points a client
library with a hard-coded host at another base URL.

Connectors never import the sandbox: the only thing that tells the sandbox
from the real API is the connection's ``host``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import tenacity
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

log = logging.getLogger(__name__)


class ConnectionLike(Protocol):
    """The part of an Airflow ``Connection`` a connector reads."""

    conn_id: str
    host: str | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict: ...


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of an Airflow Connection a connector uses.

    ``host`` includes the scheme (``https://api.twitter.com`` or the sandbox's
    ``http://127.0.0.1:PORT``); ``password`` holds the token; ``extra`` the
    connection's JSON extra (timeouts, API version, ...).
    """

    conn_id: str
    host: str
    login: str = ""
    password: str = field(default="", repr=False)
    extra: dict = field(default_factory=dict)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """Same name as on Airflow's ``Connection``, so connectors accept either."""
        return dict(self.extra)


class Stream(NamedTuple):
    """A stream's declaration: the field that keys a record and the one that dates it."""

    key: str
    time: str | None


def declared_streams(platform: str) -> tuple[dict[str, Stream], str, str]:
    """A connector's ``STREAMS``, ``POSTS_STREAM`` and ``ROSTER_HANDLE_COLUMN``, read from its
    entry in the platform registry (advocacy/platforms.py), where they are stated once."""
    from advocacy import platforms

    entry = platforms.get(platform)
    streams = {name: Stream(key=f.key, time=f.time) for name, f in entry.streams.items()}
    return streams, entry.posts_stream, entry.roster_column


class ConnectorError(RuntimeError):
    """A connector could not do its job; the message names the connection, never a secret.

    Optional details (all keyword-only, all may be None): ``code`` (the platform's
    error code, e.g. Graph's 190 or LinkedIn's ``EXPIRED_ACCESS_TOKEN``),
    ``subcode``, ``status`` (HTTP status), ``transient`` (the platform said a
    retry may succeed), ``conn_id`` (the connection to fix).
    """

    def __init__(
        self,
        message: str = "",
        *,
        code: Any = None,
        subcode: Any = None,
        status: int | None = None,
        transient: bool = False,
        conn_id: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.subcode = subcode
        self.status = status
        self.transient = transient
        self.conn_id = conn_id


class PlatformError(ConnectorError):
    """An error the platform answered, its parsed JSON error kept under the connector's name for it
    (the class's ``payload_name``: Graph's ``error``, LinkedIn's ``body``), passed by that keyword."""

    payload_name = "body"

    def __init__(self, message: str = "", **kwargs: Any):
        payload = kwargs.pop(self.payload_name, None)
        super().__init__(message, **kwargs)
        setattr(self, self.payload_name, dict(payload or {}))


class AuthError(ConnectorError):
    """The platform refused the connection's credentials."""


class TokenExpiredError(AuthError):
    """A token has expired or was revoked: it must be renewed, retrying cannot help."""


class PermissionDeniedError(AuthError):
    """The token is valid but lacks a permission (scope, role, app review feature)."""


class RateLimitError(ConnectorError):
    """Rate limited and not allowed (or no longer willing) to wait."""


#: HTTP statuses a retry cannot change: a bad request, a refused or missing permission, a path
#: the platform does not serve, a sunset API version (LinkedIn 426)
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 426})


def is_permanent(exc: BaseException) -> bool:
    """True for an error no retry can fix (so the task fails at once instead of retrying):
    refused credentials, and any non-transient 4xx the platform answered (not a 429)."""
    if not isinstance(exc, ConnectorError) or exc.transient or isinstance(exc, RateLimitError):
        return False
    return isinstance(exc, AuthError) or exc.status in PERMANENT_STATUSES


def conn_id_of(conn: Any) -> str:
    return str(getattr(conn, "conn_id", None) or "<unnamed connection>")


def extra_of(conn: Any) -> dict[str, Any]:
    extra = getattr(conn, "extra_dejson", None)
    if extra is None:
        extra = getattr(conn, "extra", None) or {}
    return dict(extra) if isinstance(extra, dict) else {}


def as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def base_url(host: str | None, default: str) -> str:
    """``host`` as a scheme+host(+port/path) base URL without a trailing slash."""
    host = (host or "").strip()
    if not host:
        return default
    if "://" not in host:
        host = "https://" + host
    return host.rstrip("/")


def safe_url(url: str) -> str:
    """A URL fit for logs: no user-info, no query string."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


#: a listing whose next cursor points back at pages already read is asked again this many
#: times (a glitch answers correctly the second time); then it is stopped with a warning
MAX_CURSOR_REPEATS = 2


class CursorRepeats:
    """How often in a row a listing's next cursor pointed back to pages already read.

    ``again()`` on each such page: True means ask for the wanted page once more (a glitch
    answers correctly the second time), False means stop the listing (after a warning
    and a note in ``notes``): the cursor repeats for good. ``advanced()`` when it moved on.
    """

    def __init__(self, notes: list[str], what: str, platform: str):
        self.notes, self.what, self.platform = notes, what, platform
        self.count = 0

    def again(self) -> bool:
        self.count += 1
        if self.count <= MAX_CURSOR_REPEATS:
            log.info(
                "%s %s: a page pointed back to pages already read; asking again", self.platform, self.what
            )
            return True
        note = f"{self.what}: paging repeated a cursor {self.count} times in a row; stopped there"
        self.notes.append(note)
        log.warning("%s %s", self.platform, note)
        return False

    def advanced(self) -> None:
        self.count = 0

    @property
    def active(self) -> bool:
        return self.count > 0


#: failures of one exchange that a later try can cure: connection reset or refused, read
#: timeout, a body cut short, a 200 whose JSON is incomplete
TRANSIENT_EXCEPTIONS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.JSONDecodeError,
)


class Checkpoint:
    """The completed responses of an extract, so the next attempt resumes instead of starting over.

    An extract is a deterministic walk over the API: the same requests in the same order give
    the same records. The client's HTTP layer (:class:`RewritingAdapter` under requests, a
    transport under httpx) journals every completed exchange (HTTP 200 with a whole JSON body,
    :func:`journal_entry`) under :func:`request_key`; a checkpoint built with the ``entries`` of an
    earlier attempt answers those requests from the journal, so the retry walks the completed
    pages of every listing without the network and goes on over the network from the first
    page the failed attempt did not finish. Nothing is skipped, nothing fetched twice, and the
    records equal one clean run's (connectors also deduplicate by id).

    ``on_save(key, entry)`` persists each new entry (the pipeline gives a callback writing
    to the warehouse; connectors never write anything themselves). Entries saved during this
    attempt are not replayed in it: a request repeated on purpose (a cursor that pointed
    back) must reach the API.
    """

    def __init__(
        self,
        entries: dict[str, dict] | None = None,
        *,
        on_save: Callable[[str, dict], None] | None = None,
    ):
        self._previous = dict(entries or {})
        self._saved: dict[str, dict] = {}
        self.on_save = on_save
        self.replayed = 0
        self._bypass = 0
        self._lock = threading.Lock()  # a connector may fan requests out over threads

    def __len__(self) -> int:
        return len(self._previous)

    def lookup(self, key: str) -> dict | None:
        if self._bypass:
            return None
        entry = self._previous.get(key)
        if entry is not None:
            with self._lock:
                self.replayed += 1
        return entry

    def save(self, key: str, entry: dict) -> None:
        with self._lock:  # on_save writes to one warehouse connection
            self._saved[key] = entry
            if self.on_save is not None:
                self.on_save(key, entry)

    @property
    def saved(self) -> int:
        return len(self._saved)

    def entries(self) -> dict[str, dict]:
        """Everything a next attempt can replay (earlier attempts' entries, then this one's)."""
        return {**self._previous, **self._saved}

    @contextlib.contextmanager
    def bypass(self, active: bool = True) -> Iterator[None]:
        """Requests inside go to the API even if journaled (re-asking after a repeated cursor)."""
        self._bypass += int(active)
        try:
            yield
        finally:
            self._bypass -= int(active)


def request_key(method: str, url: str, headers: Mapping[str, str] | None = None) -> str:
    """A request's identity for the journal: method, path, sorted query without the token, and
    a hash of the credential (Graph's ``access_token`` or the ``Authorization`` header), so two
    members' identical requests differ and no secret is stored. ``headers`` is the request's
    case-insensitive mapping (requests' or httpx's: any client library's request fits)."""
    parts = urlsplit(url or "")
    query = parse_qsl(parts.query, keep_blank_values=True)
    secret = "".join(v for k, v in query if k.lower() == "access_token")
    secret += str((headers or {}).get("Authorization") or "")
    query = sorted((k, v) for k, v in query if k.lower() != "access_token")
    digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
    return f"{method} {parts.path}?{urlencode(query)} #{digest}"


def journal_entry(headers: Mapping[str, str], body: bytes) -> dict | None:
    """What the journal keeps of a completed HTTP 200: its content type and date and its body with
    tokens redacted, or None when the body is not a whole JSON document (the client retries
    it, nothing is journaled). ``headers``: the response's (requests' or httpx's)."""
    try:
        text = body.decode("utf-8")
        json.loads(text)
    except ValueError:
        return None
    kept = {k: v for k, v in headers.items() if k.lower() in ("content-type", "date")}
    # The journal is kept in the warehouse: Graph's paging.next links carry the access
    # token, so it is blanked (the connectors' paging drops it from next links anyway).
    return {"status": 200, "headers": kept, "body": redact_tokens(text)}


def replayed_parts(entry: dict) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a journaled answer, for a client library's own response type."""
    body = str(entry.get("body") or "").encode("utf-8")
    return int(entry.get("status", 200)), dict(entry.get("headers") or {}), body


def _replayed_response(request: requests.PreparedRequest, entry: dict) -> requests.Response:
    response = requests.Response()
    response.status_code, headers, response._content = replayed_parts(entry)
    response.reason = "OK"
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = "utf-8"
    response.url = request.url
    response.request = request
    return response


def utc(value: datetime) -> datetime:
    """A window bound as an aware UTC datetime; a naive one is refused (its zone is unknown)."""
    if value.tzinfo is None:
        raise ValueError(f"window bounds must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def found_again(known: dict, found_via: str) -> None:
    """A record kept earlier was found again by the phase ``found_via``: noted once in its
    ``_also_found_via`` (not when it is the phase that first found it)."""
    if found_via != known["_found_via"] and found_via not in known["_also_found_via"]:
        known["_also_found_via"].append(found_via)


def known_record(store: dict, key: str, found_via: str, stats: ExtractStats, phase: str) -> dict | None:
    """A record the phase read (counted in ``stats``): the one ``store`` already keeps under ``key``
    (noted as found again by ``found_via``), or None when it is new."""
    stats.phase(phase)["records"] += 1
    known = store.get(key)
    if known is not None:
        found_again(known, found_via)
    return known


def member_error(member: str, kind: str, error: dict | None, action: str) -> dict:
    """A ``member_errors`` record: what went wrong reading one advocate's data with their token."""
    return {"member": member, "_error_kind": kind, "error": error, "_action": action}


def distinct(values: Iterable[str]) -> list[str]:
    """Non-blank values, stripped, each once, in order."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def distinct_handles(values: Iterable[str]) -> list[str]:
    """Account handles, stripped and without ``@``, each once whatever its case (first spelling kept)."""
    seen: dict[str, str] = {}
    for v in values:
        h = (v or "").strip().lstrip("@")
        if h and h.lower() not in seen:
            seen[h.lower()] = h
    return list(seen.values())


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RewritingAdapter(HTTPAdapter):
    """Sends requests meant for ``source`` (a library's hard-coded host) to ``target``.

    Mount it on the library's ``requests.Session`` for ``source``. It also sets a
    default timeout and calls ``on_send(request)`` / ``on_response(response)`` hooks
    (counting, rate-limit handling). It never retries: every retry is the connector's
    :class:`RetryPolicy`, one layer, so a failing endpoint costs a known number of requests.
    When the target is the source itself, only the extras apply.
    With a :class:`Checkpoint`, requests an earlier attempt completed are answered from it
    (``on_replay(response)`` is called instead of the other hooks: nothing went over the wire)
    and every new complete 200 JSON answer is journaled.
    """

    def __init__(
        self,
        source: str,
        target: str,
        *,
        timeout: float | None = 30.0,
        on_send: Callable[[requests.PreparedRequest], None] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
        checkpoint: Checkpoint | None = None,
        on_replay: Callable[[requests.Response], None] | None = None,
    ):
        super().__init__(max_retries=0)  # no hidden retry layer under the RetryPolicy
        self.source = source.rstrip("/")
        self.target = target.rstrip("/")
        self.timeout = timeout
        self.on_send = on_send
        self.on_response = on_response
        self.checkpoint = checkpoint
        self.on_replay = on_replay

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        if self.target != self.source and request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source) :]
            # proxies were chosen for the original host; choose again for the real one
            kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        key = None
        if self.checkpoint is not None:
            key = request_key(request.method, request.url, request.headers)
            entry = self.checkpoint.lookup(key)
            if entry is not None:
                replayed = _replayed_response(request, entry)
                if self.on_replay is not None:
                    self.on_replay(replayed)
                return replayed
        if self.on_send is not None:
            self.on_send(request)
        response = super().send(request, **kwargs)
        if self.on_response is not None:
            self.on_response(response)
        if key is not None and response.status_code == 200:
            # reading the body here raises for one cut short, as it would in the client
            entry = journal_entry(response.headers, response.content)
            if entry is not None:
                self.checkpoint.save(key, entry)
        return response


# stops at a backslash too: in a JSON body '&' may come escaped (\u0026) and the rest must stay
_ACCESS_TOKEN_RE = re.compile(r"(access_token=)[^&'\"\s,}\\]+", re.IGNORECASE)
_BEARER_RE = re.compile(r"Bearer [^'\"\s,}\\]+")


def redact_tokens(text: str) -> str:
    """``text`` with every ``Bearer <token>`` and ``access_token=<token>`` value replaced by ***."""
    if "Bearer " not in text and "access_token=" not in text.lower():
        return text
    return _ACCESS_TOKEN_RE.sub(r"\1***", _BEARER_RE.sub("Bearer ***", text))


class RedactBearer(logging.Filter):
    """Drops ``Bearer <token>`` (headers) and ``access_token=<token>`` (Graph puts the
    token in the query string, which urllib3 logs at DEBUG) from log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        redacted = redact_tokens(msg)
        if redacted is not msg:
            record.msg = redacted
            record.args = ()
        return True


def install_redaction(logger_name: str) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactBearer) for f in logger.filters):
        logger.addFilter(RedactBearer())


# --------------------------------------------------------------------------- shared by the
# Graph (Facebook, Instagram) and LinkedIn connectors; x.py keeps its own equivalents.
@dataclass
class ExtractStats:
    """Request accounting of one run (same meaning as the X connector's).

    ``requests``: HTTP exchanges that were not rate-limit refusals;
    ``min_requests``: what the records needed at least (one request per
    listing/batch, plus one per further page of the platform's maximum page
    size); ``efficiency`` = requests / min_requests (1.0 is perfect).
    ``rate_limited``: refusals received; ``rate_limit_wait_seconds``: time spent
    waiting before retries; ``retries``: transient errors retried;
    ``replayed``: responses answered from the checkpoint of an earlier attempt (not requests);
    ``max_usage_pct``: the highest usage percentage a platform reported in its
    usage headers (Graph ``x-app-usage`` / ``x-business-use-case-usage``).
    """

    requests: int = 0
    min_requests: int = 0
    rate_limited: int = 0
    rate_limit_wait_seconds: float = 0.0
    retries: int = 0
    replayed: int = 0
    max_usage_pct: float | None = None
    by_endpoint: Counter = field(default_factory=Counter)
    by_phase: dict[str, dict[str, int]] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # one line each for what this run could not read (members without access, refused
    # lookups...): the night records the source as ``partial`` with these as reasons
    gaps: list[str] = field(default_factory=list)
    # a one-line summary of whose data the run covered (e.g. advocates with API data)
    coverage: str | None = None

    @property
    def efficiency(self) -> float | None:
        return None if not self.min_requests else self.requests / self.min_requests

    def phase(self, name: str) -> dict[str, int]:
        return self.by_phase.setdefault(name, {"requests": 0, "min_requests": 0, "records": 0})

    def count(self, phase: str, endpoint: str) -> None:
        """One request that went over the wire (not a rate-limit refusal)."""
        self.requests += 1
        self.by_endpoint[endpoint] += 1
        self.phase(phase)["requests"] += 1

    def need(self, phase: str, n: int = 1) -> None:
        self.min_requests += n
        self.phase(phase)["min_requests"] += n

    def absorb(self, other: ExtractStats) -> None:
        """Add ``other``'s accounting (a worker's, whose requests ran beside this run's)."""
        for name in ("requests", "min_requests", "rate_limited", "rate_limit_wait_seconds", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.max_usage_pct is not None:
            self.max_usage_pct = max(self.max_usage_pct or 0.0, other.max_usage_pct)
        self.by_endpoint.update(other.by_endpoint)
        for phase, counts in other.by_phase.items():
            mine = self.phase(phase)
            for key, n in counts.items():
                mine[key] = mine.get(key, 0) + n
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.gaps.extend(g for g in other.gaps if g not in self.gaps)

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "min_requests": self.min_requests,
            "efficiency": None if self.efficiency is None else round(self.efficiency, 3),
            "rate_limited": self.rate_limited,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 1),
            "retries": self.retries,
            "replayed": self.replayed,
            "max_usage_pct": self.max_usage_pct,
            "by_endpoint": dict(self.by_endpoint),
            "by_phase": self.by_phase,
            "records": self.records,
            "notes": list(self.notes),
            "gaps": list(self.gaps),
            "coverage": self.coverage,
        }


class ConnectedClient:
    """What every connector's client reads from its connection, in this order: ``conn_id``,
    ``extra``, ``token`` (the password; ``no_token(conn_id)`` is raised without one), ``host``
    (``default_host`` unless the connection names another), ``version`` (``version(extra)``, which
    raises for a bad one, where the platform has versions), ``timeout`` (extra ``timeout``, 30 s),
    the :class:`RetryPolicy`, and the ``stats`` its requests are counted in under ``phase``."""

    stats_type: type[ExtractStats] = ExtractStats

    def __init__(
        self,
        conn: Any,
        *,
        default_host: str,
        no_token: Callable[[str], ConnectorError],
        checkpoint: Checkpoint | None = None,
        version: Callable[[dict], str] | None = None,
    ):
        self.conn_id = conn_id_of(conn)
        self.checkpoint = checkpoint
        self.extra = extra_of(conn)
        self.token = getattr(conn, "password", None) or ""
        if not self.token:
            raise no_token(self.conn_id)
        self.host = base_url(getattr(conn, "host", None), default_host)
        if version is not None:
            self.version = version(self.extra)
        self.timeout = self.read_timeout(self.extra)
        self.policy = RetryPolicy.from_extra(self.extra)
        self.stats = self.stats_type()
        self.phase = "setup"

    def read_timeout(self, extra: dict) -> float:
        return as_float(extra.get("timeout"), 30.0)

    def count(self, endpoint: str) -> None:
        """One request of the current phase that went over the wire."""
        self.stats.count(self.phase, endpoint)


class ExtractRun:
    """What every connector's run (its ``_Run``) shares: the task's ``progress`` callback."""

    def __init__(self, progress: Callable[[str], Any] | None):
        self.progress = progress

    def say(self, message: str) -> None:
        """One progress line for the task's log (when the pipeline gave a callback)."""
        if self.progress is not None:
            self.progress(message)


class ExtractResult(dict):
    """``{stream: records}`` (every stream of the connector's ``STREAMS``) with ``stats``."""

    stats: ExtractStats


def collect(run: Any, streams: Iterable[str]) -> ExtractResult:
    """An extract's records: each of the connector's ``streams`` (``STREAMS``) is the run's
    attribute of that name (a dict keyed by id gives its values)."""
    result = ExtractResult()
    for name in streams:
        records = getattr(run, name)
        result[name] = list(records.values()) if isinstance(records, dict) else records
    return result


class ExtractArgs(TypedDict, total=False):
    """The keyword arguments of every connector's ``extract(conn, **args)``: one signature for
    all of them (``pipeline.extract_platform`` calls each the same way); see :class:`ExtractRequest`."""

    advocate_usernames: list[str]  # required, as are company_handles and the window
    company_handles: list[str]
    window_start: datetime
    window_end: datetime
    hashtags: list[str] | None
    company_domains: list[str] | None
    lookback_ids: list[str] | None
    lookback_start: datetime | None
    progress: Callable[[str], Any] | None
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class ExtractRequest:
    """One extract's arguments, checked: the window as aware UTC bounds (an empty one is
    refused), absent lists as empty ones.

    ``advocate_usernames``: the roster's account column of the platform (handles, user ids or
    URNs); ``company_handles``: the company's accounts; ``hashtags`` / ``company_domains``: what
    the programme search looks for; ``window_start`` .. ``window_end``: aware datetimes, end
    exclusive; ``lookback_ids``: keys of known posts whose counters to read again, dated from
    ``lookback_start`` on (a connector whose listings can reach back uses it);
    ``progress``: a callable for progress lines; ``checkpoint``: see :class:`Checkpoint`.
    """

    advocate_usernames: list[str]
    company_handles: list[str]
    window_start: datetime
    window_end: datetime
    hashtags: list[str] = field(default_factory=list)
    company_domains: list[str] = field(default_factory=list)
    lookback_ids: list[str] = field(default_factory=list)
    lookback_start: datetime | None = None
    progress: Callable[[str], Any] | None = None
    checkpoint: Checkpoint | None = None

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> ExtractRequest:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(args) - known)
        if unknown:
            raise TypeError(f"extract() got unexpected keyword arguments {unknown}; it takes {sorted(known)}")
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - set(args))
        if missing:
            raise TypeError(f"extract() missing required keyword arguments {missing}")
        start, end = window_of(args["window_start"], args["window_end"])
        since = args.get("lookback_start")
        lists = {k: list(args.get(k) or []) for k in ("hashtags", "company_domains", "lookback_ids")}
        bounds = {"window_start": start, "window_end": end, "lookback_start": since and utc(since)}
        return cls(**{**args, **lists, **bounds})


def window_of(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """An extract's window as aware UTC bounds (see :func:`utc`); an empty one is refused."""
    start, end = utc(start), utc(end)
    if end <= start:
        raise ValueError(f"empty window {start.isoformat()} .. {end.isoformat()}")
    return start, end


def log_extract_start(
    logger: logging.Logger,
    platform: str,
    host: str,
    whom: str,
    window_start: datetime,
    window_end: datetime,
    lookbacks: int,
    version: str = "",
) -> None:
    """An extract's first log line: the API it reads (``version`` e.g. `` (Graph v25.0)``), whom
    (``whom``: the counts of accounts and advocates), the window and the ids to read again."""
    logger.info(
        "%s extract via %s%s: %s, window %s .. %s, %s lookback ids",
        platform,
        safe_url(host),
        version,
        whom,
        window_start.isoformat(),
        window_end.isoformat(),
        lookbacks,
    )


def finish_extract(
    result: ExtractResult, stats: ExtractStats, checkpoint: Checkpoint | None, platform: str, started: float
) -> ExtractResult:
    """Attach ``stats`` (with the records per stream and what the checkpoint replayed) to ``result``
    and log the run's cost."""
    stats.records = {k: len(v) for k, v in result.items()}
    if checkpoint is not None:
        stats.replayed = checkpoint.replayed
    result.stats = stats
    log.info(
        "%s extract done in %.1f s: %s; %s requests (minimum %s), %s rate-limited, %s retried, "
        "%s replayed from the checkpoint",
        platform,
        time.monotonic() - started,
        ", ".join(f"{k} {v}" for k, v in stats.records.items()),
        stats.requests,
        stats.min_requests,
        stats.rate_limited,
        stats.retries,
        stats.replayed,
    )
    return result


def member_tokens_of(conn: Any) -> dict[str, str]:
    """Per-advocate tokens from the connection's extra ``member_tokens``.

    ``{"<roster handle>": "<token>", ...}`` as a JSON object, or the same object
    as a JSON string (how some secret backends store nested values). Keys are
    the advocate's handle exactly as in the roster column the connector reads
    (Facebook user id, LinkedIn member URN). Empty values are ignored.
    """
    raw = extra_of(conn).get("member_tokens") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ConnectorError(
                f"connection '{conn_id_of(conn)}': extra.member_tokens is not a JSON object",
                conn_id=conn_id_of(conn),
            ) from None
    if not isinstance(raw, dict):
        raise ConnectorError(
            f"connection '{conn_id_of(conn)}': extra.member_tokens must map roster handles to tokens",
            conn_id=conn_id_of(conn),
        )
    return {str(k).strip(): str(v).strip() for k, v in raw.items() if str(k).strip() and v}


def as_list(value: Any, default: Sequence[str]) -> list[str]:
    """A list of names from a connection extra: a JSON list, or a comma-separated string
    (URI-form connections carry every extra as a string)."""
    if value is None or value == "" or value == []:
        return list(default)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text.strip("[]").split(",")
        else:
            value = text.split(",")
    return [str(v).strip().strip("'\"") for v in value if str(v).strip()]


def as_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


_HASHTAG_TEXT = re.compile(r"(?<![\w&#])#(\w+)")
_URL_TEXT = re.compile(r"https?://[^\s<>\"'()]+")


def hashtags_in(text: str | None) -> list[str]:
    """Hashtags of a text, lower-case, without ``#``, each once, in order."""
    return list(dict.fromkeys(m.group(1).lower() for m in _HASHTAG_TEXT.finditer(text or "")))


def urls_in(text: str | None) -> list[str]:
    """http(s) URLs written in a text (trailing punctuation dropped), each once."""
    out = [u.rstrip(".,;:!?") for u in _URL_TEXT.findall(text or "")]
    return list(dict.fromkeys(out))


def backoff_wait(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff: ``base * 2**(attempt-1)``, at most ``cap`` seconds."""
    return max(0.0, min(cap, base * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry / backoff / rate-limit policy of every connector (see connectors/README.md).

    A logical call (one request a connector means to make) is tried at most
    ``1 + transient_retries`` times for transient failures (5xx, connection reset, timeout, a
    body cut short or not whole JSON, the platform's "transient" error codes), waiting
    ``transient_backoff * 2**(n-1)`` s capped at ``backoff_cap``; nothing below it retries (the
    HTTP adapter has no retries), so a permanently failing endpoint costs exactly
    ``1 + transient_retries`` requests (4 by default) on every platform. A rate-limit refusal
    waits what the platform said (reset header, ``Retry-After``, Graph's usage header), at
    most ``max_rate_limit_wait``; without a hint it backs off ``rate_limit_fallback_wait *
    2**(n-1)`` capped at ``rate_limit_backoff_cap``, at most ``max_rate_limit_retries`` times in a
    row. Errors no retry can fix (auth, permission, 4xx) are raised at once.

    Connection extras (all optional): ``transient_retries`` (3), ``transient_backoff`` (s, 1.0),
    ``backoff_cap`` (s, 30), ``wait_on_rate_limit`` (true), ``rate_limit_fallback_wait`` (s, 1),
    ``rate_limit_backoff_cap`` (s, 60), ``max_rate_limit_wait`` (s, 900),
    ``max_rate_limit_retries`` (5).
    """

    transient_retries: int = 3
    transient_backoff: float = 1.0
    backoff_cap: float = 30.0
    wait_on_rate_limit: bool = True
    rate_limit_fallback_wait: float = 1.0
    rate_limit_backoff_cap: float = 60.0
    max_rate_limit_wait: float = 900.0
    max_rate_limit_retries: int = 5

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> RetryPolicy:
        d = cls()
        return cls(
            transient_retries=max(0, int(extra.get("transient_retries", d.transient_retries))),
            transient_backoff=as_float(extra.get("transient_backoff"), d.transient_backoff),
            backoff_cap=as_float(extra.get("backoff_cap"), d.backoff_cap),
            wait_on_rate_limit=as_bool(extra.get("wait_on_rate_limit"), d.wait_on_rate_limit),
            rate_limit_fallback_wait=as_float(
                extra.get("rate_limit_fallback_wait"), d.rate_limit_fallback_wait
            ),
            rate_limit_backoff_cap=as_float(extra.get("rate_limit_backoff_cap"), d.rate_limit_backoff_cap),
            max_rate_limit_wait=as_float(extra.get("max_rate_limit_wait"), d.max_rate_limit_wait),
            max_rate_limit_retries=max(0, int(extra.get("max_rate_limit_retries", d.max_rate_limit_retries))),
        )

    @property
    def max_requests(self) -> int:
        """Requests a permanently failing (transient-looking) endpoint costs per logical call."""
        return 1 + self.transient_retries

    def transient_wait(self, attempt: int) -> float:
        return backoff_wait(attempt, self.transient_backoff, self.backoff_cap)

    def rate_limit_wait(self, attempt: int, hint: float | None = None) -> float:
        """What to wait before retry ``attempt`` of a refusal: the platform's ``hint`` (s) if it
        gave one (at most ``max_rate_limit_wait``), else the capped exponential backoff."""
        if hint is not None and hint >= 0:
            return min(self.max_rate_limit_wait, hint)
        return backoff_wait(
            attempt, self.rate_limit_fallback_wait, min(self.rate_limit_backoff_cap, self.max_rate_limit_wait)
        )

    def run(
        self,
        attempt: Callable[[], Any],
        *,
        label: str,
        stats: ExtractStats | None = None,
        wait_hint: Callable[[RateLimitError], float | None] | None = None,
    ) -> Any:
        """``attempt()`` until it returns, retrying :class:`ConnectorError` s by this policy.

        ``attempt`` raises a :class:`RateLimitError` for a refusal (``wait_hint(error)`` gives
        the platform's wait, if any), a ``transient`` :class:`ConnectorError` for a failure a
        retry may cure, anything else to stop at once. ``stats`` counts retries and waits.
        """
        counts = {"rate": 0, "transient": 0}

        def kind(exc: BaseException | None) -> str | None:
            if getattr(exc, "final", False):  # a lower layer already retried it (tweepy's 429 wait)
                return None
            if isinstance(exc, RateLimitError):
                return "rate" if self.wait_on_rate_limit else None
            if isinstance(exc, ConnectorError) and exc.transient:
                return "transient"
            return None

        def retry(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            which = kind(exc)
            if which is None:
                return False
            counts[which] += 1
            limit = self.max_rate_limit_retries if which == "rate" else self.transient_retries
            return counts[which] <= limit

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimitError):
                hint = wait_hint(exc) if wait_hint is not None else None
                seconds = self.rate_limit_wait(counts["rate"], hint)
                if stats is not None:
                    stats.rate_limit_wait_seconds += seconds
                log.warning("%s: rate limited; waiting %.1f s (retry %s)", label, seconds, counts["rate"])
                return seconds
            seconds = self.transient_wait(counts["transient"])
            if stats is not None:
                stats.retries += 1
            log.warning(
                "%s: %s; retry %s/%s in %.1f s",
                label,
                exc,
                counts["transient"],
                self.transient_retries,
                seconds,
            )
            return seconds

        retrying = tenacity.Retrying(
            retry=retry, wait=wait, stop=tenacity.stop_never, sleep=sleep, reraise=True
        )
        return retrying(attempt)


def sleep(seconds: float) -> None:
    """``time.sleep`` (one place, so waits are easy to see in profiles)."""
    if seconds > 0:
        time.sleep(seconds)


# --------------------------------------------------------------------------- probe() helpers
def probe_connection(platform_settings: Any, what: str) -> tuple[Any, list]:
    """The connection a ``probe()`` checks, or a ``fail`` finding naming the connection to create."""
    from advocacy.connections import get_connection
    from advocacy.preflight import Finding

    conn_id = getattr(platform_settings, "connection_id", None) or ""
    try:
        conn = get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 (any lookup failure is the same finding)
        return None, [
            Finding(
                "fail",
                f"{conn_id}: connection",
                f"{what} connection not found ({type(exc).__name__})",
                f"create the Airflow connection '{conn_id}' (or env AIRFLOW_CONN_{conn_id.upper()})",
            )
        ]
    return conn, []


def probe_get(url: str, *, headers: dict | None = None, params: dict | None = None, timeout: float = 15.0):
    """One GET for a probe: the response, or the name of the transport error."""
    try:
        return requests.get(url, headers=headers, params=params, timeout=timeout), None
    except requests.RequestException as exc:
        return None, type(exc).__name__


def unreachable_finding(what: str, host: str, failure: str | None):
    """The ``fail`` finding of a probe whose one request got no answer."""
    from advocacy.preflight import Finding

    return Finding(
        "fail",
        what,
        f"{safe_url(host)} unreachable ({failure})",
        "check the connection's host and the network",
    )


def headroom_finding(what: str, used_pct: float | None, detail_none: str, fix: str):
    """ok below 75 % of a rate budget used, warn from there; ok with a note when unknown."""
    from advocacy.preflight import Finding

    if used_pct is None:
        return Finding("ok", what, detail_none)
    level = "warn" if used_pct >= 75 else "ok"
    return Finding(level, what, f"{used_pct:.0f} % of the budget used", fix if level == "warn" else "")


#: the level and the subject (``None``: the token's) of each kind of probe answer
_ANSWER_KINDS = {
    "ok": ("ok", None),
    "refused": ("fail", None),
    "denied": ("fail", "permissions"),
    "version": ("fail", "API version"),
    "limited": ("warn", "rate limit"),
    "other": ("fail", None),
}


class Probe:
    """One connector's ``probe()`` under way: the connection it checks (``conn`` is None when it
    is missing: ``findings`` then says so), its id, extra and token, and the findings so far."""

    def __init__(self, platform_settings: Any, label: str):
        self.conn, self.findings = probe_connection(platform_settings, label)
        self.conn_id = conn_id_of(self.conn)
        self.extra = extra_of(self.conn)
        self.token = getattr(self.conn, "password", None) or ""
        self.what = f"{self.conn_id}: token"

    def add(self, level: str, subject: str, detail: str, fix: str = "") -> None:
        """Append a finding about ``<conn_id>: <subject>``."""
        from advocacy.preflight import Finding

        self.findings.append(Finding(level, f"{self.conn_id}: {subject}", detail, fix))

    def lacking(self, *needs: tuple[Any, str, str, str]) -> bool:
        """True when the connection is missing, or after the ``fail`` finding of the first
        ``(value, subject, detail, fix)`` whose value is empty (no token, no company account)."""
        if self.conn is None:
            return True
        for value, subject, detail, fix in needs:
            if not value:
                self.add("fail", subject, detail, fix)
                return True
        return False

    def get(self, default_host: str, path: str, *, what: str | None = None, **kwargs) -> Any:
        """The probe's one GET of ``path`` on the connection's host (``kwargs`` as
        :func:`probe_get`'s, the timeout from extra ``timeout``), ``what`` naming the token
        (``<conn_id>: token`` by default): the response, or None after the ``fail`` finding
        of no answer."""
        self.what = what or self.what
        host = base_url(getattr(self.conn, "host", None), default_host)
        timeout = as_float(self.extra.get("timeout"), 15.0)
        response, failure = probe_get(host + path, timeout=timeout, **kwargs)
        if response is None:
            self.findings.append(unreachable_finding(self.what, host, failure))
        return response

    @staticmethod
    def body(response: requests.Response) -> Any:
        """The answer's JSON, or ``{}`` when it is not JSON."""
        try:
            return response.json()
        except ValueError:
            return {}

    def answer(self, kind: str, texts: dict[str, tuple[str, str]], **subjects: str) -> None:
        """The finding of the answer, once the connector has told its ``kind`` (``ok``, ``refused``
        token, ``denied`` permission, ``version`` refused, rate ``limited``, ``other``):
        ``texts[kind]`` is its (detail, fix); ``subjects`` renames a kind's subject (X calls
        ``denied`` "access")."""
        from advocacy.preflight import Finding

        level, subject = _ANSWER_KINDS[kind]
        subject = subjects.get(kind, subject)
        detail, fix = texts[kind]
        self.findings.append(
            Finding(level, f"{self.conn_id}: {subject}" if subject else self.what, detail, fix)
        )

    def headroom(self, used_pct: float | None, detail_none: str, fix: str) -> None:
        """The ``rate limit`` finding of :func:`headroom_finding`."""
        self.findings.append(headroom_finding(f"{self.conn_id}: rate limit", used_pct, detail_none, fix))

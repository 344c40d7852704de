"""X (Twitter) API v2 connector: tweepy client from a connection, paging, rate limits, records.

``extract(conn, ...)`` is what the pipeline calls once per run; it returns
``{stream: [record, ...]}`` for every stream in ``STREAMS`` (an
:class:`ExtractResult`, a dict that also carries ``.stats``).

Records are the API objects as returned plus annotations starting with ``_``:

* ``users``: user objects (``public_metrics`` = audience snapshot) + ``_role``
  (``"advocate"`` | ``"company"``).
* ``tweets``: tweet objects + ``_found_via`` (``"timeline"``,
  ``"company_timeline"``, ``"search"``, ``"lookup"``: the first phase that
  found it), ``_also_found_via`` (list of the later phases that found it
  again, usually empty), ``_author_username`` (from ``includes.users`` or the
  users phase; None if unknown) and ``_referenced``: a list of ``{"type",
  "id", "author_id", "author_username"}`` for each ``referenced_tweets`` entry,
  resolved from ``includes`` (None where X did not include them), so dbt can
  tell retweets/quotes of the company account without another lookup.
* ``tweet_errors``: partial errors of the metric-refresh lookup (a deleted or
  protected post: HTTP 200 with ``errors[]``) + ``_found_via`` (``"lookup"``)
  and ``_error_kind`` (``"not_found"`` | ``"not_authorized"`` | ``"other"``).
* ``user_errors``: partial errors about users (an advocate's handle that no
  longer exists, a suspended account) from the users lookup or a timeline +
  ``_found_via`` (``"users_lookup"`` | ``"timeline"``) and ``_error_kind``;
  a roster handle that is not a valid X username is reported here by the
  connector itself (``title: "Invalid Username"``, ``_found_via: "roster"``,
  ``_error_kind: "invalid"``) instead of failing the whole lookup batch.

Phases: (1) users lookup of advocates + company handles, 100 per request;
(2) each advocate's and company account's timeline within
``[window_start, window_end)``, 100 per page; (3) recent search OR-ing the
hashtags, ``@company`` mentions and ``url:"domain"`` (split into queries of at
most 512 characters), restricted to the last 7 days X allows; (4) a metric
refresh of ``lookback_ids`` not fetched yet in this run, 100 ids per request.

Rate limits and retries follow the shared
:class:`~advocacy.connectors.base.RetryPolicy`: with ``wait_on_rate_limit``
(default true) tweepy sleeps until ``x-rate-limit-reset`` (at most
``max_rate_limit_wait``); a 429 without that header gets ``Retry-After`` or the
policy's capped exponential backoff, at most ``max_rate_limit_retries`` times
in a row. A 5xx, a reset connection, a read timeout or a body cut short is
tried again ``transient_retries`` times (one layer: a permanently failing call
costs 4 requests). Connection extra keys: ``timeout`` (s, 30) and the policy's
(connectors/README.md).

Paging follows ``meta.next_token`` itself (not tweepy's ``Paginator``): a page
that comes back with a token already followed (a repeated page) is asked for
again, at most ``MAX_CURSOR_REPEATS`` times, then that listing stops with a
warning; posts are deduplicated by id. With a ``checkpoint``
(:class:`~advocacy.connectors.base.Checkpoint`), every completed response is
journaled and a retry of the extract replays them instead of calling X again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Unpack

import requests
import tweepy

from advocacy.connectors import base
from advocacy.connectors.base import (
    AuthError,
    Checkpoint,
    ConnectedClient,
    ConnectorError,
    CursorRepeats,
    ExtractArgs,
    ExtractResult,
    RateLimitError,
    RewritingAdapter,
    TokenExpiredError,
    chunks,
    distinct_handles,
    install_redaction,
    safe_url,
)
from advocacy.connectors.base import ExtractStats as BaseExtractStats

log = logging.getLogger(__name__)

API_HOST = "https://api.twitter.com"  # hard-coded in tweepy
# stated once, in the platform registry (advocacy/platforms.py)
STREAMS, POSTS_STREAM, ROSTER_HANDLE_COLUMN = base.declared_streams("x")

TWEET_FIELDS = [
    "public_metrics",
    "created_at",
    "author_id",
    "entities",
    "referenced_tweets",
    "conversation_id",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["public_metrics", "created_at", "protected"]
INCLUDED_USER_FIELDS = ["username"]
#: what every request for posts asks for besides its own parameters
TWEET_PARAMS = dict(tweet_fields=TWEET_FIELDS, expansions=EXPANSIONS, user_fields=INCLUDED_USER_FIELDS)
PAGE = 100
MAX_QUERY = 512
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
SEARCH_WINDOW = dt.timedelta(days=7)
METRIC_KEYS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)


# --------------------------------------------------------------------------- pure helpers
def parse_created_at(value: str | None) -> dt.datetime | None:
    """X timestamps (``2026-03-04T10:15:00.000Z``, with or without millis/offset) -> aware UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def normalise_public_metrics(metrics: dict | None) -> dict[str, int | None]:
    """The six tweet counters; keys the API did not send (4-key era) are None, not 0."""
    metrics = metrics or {}
    out: dict[str, int | None] = {}
    for key in METRIC_KEYS:
        value = metrics.get(key)
        out[key] = None if value is None else int(value)
    return out


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An HTTP ``Date`` header -> aware UTC; tolerates X's ``... 22:43:19 UTC`` suffix."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def error_kind(error: dict) -> str:
    """``not_found`` | ``not_authorized`` | ``other``, from the type URI path or the title."""
    kind = str(error.get("type") or "")
    title = str(error.get("title") or "")
    if kind.endswith("/resource-not-found") or title == "Not Found Error":
        return "not_found"
    if kind.endswith("/not-authorized-for-resource") or title == "Authorization Error":
        return "not_authorized"
    return "other"


def partial_errors(body: dict | None, *, parameter: str | None = None) -> list[dict]:
    """The ``errors[]`` entries of a 200 response that concern one resource each.

    Copies, with ``resource_id`` filled from ``value`` when a documented entry
    lacks it, and ``_error_kind``. ``parameter`` keeps only errors about that
    request parameter (``ids``, ``usernames``...), dropping e.g. errors about
    expanded referenced tweets.
    """
    out = []
    for err in (body or {}).get("errors") or []:
        if not isinstance(err, dict):
            continue
        rid = err.get("resource_id", err.get("value"))
        if rid is None:
            continue
        if parameter is not None and err.get("parameter") not in (None, parameter):
            continue
        rec = dict(err)
        rec["resource_id"] = str(rid)
        rec["_error_kind"] = error_kind(err)
        out.append(rec)
    return out


def search_queries(
    hashtags: Iterable[str],
    company_handles: Iterable[str],
    company_domains: Iterable[str],
    max_length: int = MAX_QUERY,
) -> list[str]:
    """OR-queries for recent search, each at most ``max_length`` characters."""
    terms: list[str] = []
    for h in hashtags:
        h = h.strip()
        if h:
            terms.append(h if h.startswith("#") else f"#{h}")
    terms += [f"@{h.strip().lstrip('@')}" for h in company_handles if h.strip().lstrip("@")]
    terms += [f'url:"{d.strip()}"' for d in company_domains if d.strip()]
    terms = list(dict.fromkeys(terms))
    queries, current = [], []
    for term in terms:
        candidate = current + [term]
        if current and len(_or_query(candidate)) > max_length:
            queries.append(_or_query(current))
            candidate = [term]
        if len(_or_query(candidate)) > max_length:
            raise ValueError(f"search term {term!r} alone is longer than {max_length} characters")
        current = candidate
    if current:
        queries.append(_or_query(current))
    return queries


def _or_query(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def search_start(
    window_start: dt.datetime, window_end: dt.datetime, server_now: dt.datetime | None = None
) -> dt.datetime:
    """The earliest start_time recent search accepts for this window (7 days back, a margin)."""
    start = max(window_start, window_end - SEARCH_WINDOW + dt.timedelta(minutes=1))
    if server_now is not None:
        start = max(start, server_now - SEARCH_WINDOW + dt.timedelta(minutes=2))
    if start.microsecond:  # X takes whole seconds
        start = start.replace(microsecond=0) + dt.timedelta(seconds=1)
    return start


_MIN_START = re.compile(r"must be on or after (\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z)")


def allowed_start_from_error(messages: Iterable[str]) -> dt.datetime | None:
    """The minimum start_time named in X's 400 message for a too-old start_time, if any."""
    for msg in messages:
        m = _MIN_START.search(str(msg))
        if m:
            text = m.group(1)
            if text.count(":") == 1:
                text = text.replace("Z", ":00Z")
            return parse_created_at(text)
    return None


# --------------------------------------------------------------------------- stats
@dataclass
class ExtractStats(BaseExtractStats):
    """The shared request accounting (``base.ExtractStats``) plus where search could start."""

    search_start: str | None = None

    def as_dict(self) -> dict:
        return {**super().as_dict(), "search_start": self.search_start}


# --------------------------------------------------------------------------- client
_ENDPOINTS = (
    (re.compile(r"/2/users/by$"), "users_by"),
    (re.compile(r"/2/users/[^/]+/tweets$"), "users_tweets"),
    (re.compile(r"/2/tweets/search/recent$"), "search_recent"),
    (re.compile(r"/2/tweets$"), "tweets_lookup"),
)


def _endpoint(url: str) -> str:
    path = requests.utils.urlparse(url).path
    for rx, name in _ENDPOINTS:
        if rx.search(path):
            return name
    return "other"


def _no_token(conn_id: str) -> AuthError:
    return AuthError(
        f"X API connection '{conn_id}' has no bearer token: store it as the connection's password",
        conn_id=conn_id,
    )


class XClient(ConnectedClient):
    """A tweepy ``Client`` bound to one connection, with request accounting.

    Build it with :func:`from_connection`. ``client`` is the tweepy client
    (``return_type=dict``); ``stats`` counts what went over the wire.
    """

    stats_type = ExtractStats
    stats: ExtractStats

    def __init__(self, conn: Any, checkpoint: Checkpoint | None = None):
        super().__init__(conn, default_host=API_HOST, no_token=_no_token, checkpoint=checkpoint)
        self.server_now: dt.datetime | None = None
        self._server_clock_at: float | None = None
        self._consecutive_429 = 0
        self._last_429: float | None = None
        install_redaction("tweepy.client")  # tweepy logs headers (the token) at DEBUG
        self.client = tweepy.Client(
            bearer_token=self.token, return_type=dict, wait_on_rate_limit=self.policy.wait_on_rate_limit
        )
        adapter = RewritingAdapter(
            API_HOST,
            self.host,
            timeout=self.timeout,
            on_send=self._on_send,
            on_response=self._on_response,
            checkpoint=checkpoint,
            on_replay=self._read_server_clock,
        )
        self.client.session.mount(API_HOST, adapter)

    def read_timeout(self, extra: dict) -> float:
        return float(extra.get("timeout", 30))

    # ----------------------------------------------------------------- hooks
    def _on_send(self, request: requests.PreparedRequest) -> None:
        if self._last_429 is not None:
            self.stats.rate_limit_wait_seconds += time.monotonic() - self._last_429
            self._last_429 = None

    def _on_response(self, response: requests.Response) -> None:
        endpoint = _endpoint(response.url)
        self._read_server_clock(response)
        if response.status_code != 429:
            self._consecutive_429 = 0
            self.count(endpoint)
            return
        self.stats.rate_limited += 1
        self._consecutive_429 += 1
        self._last_429 = time.monotonic()
        policy = self.policy
        if self._consecutive_429 > policy.max_rate_limit_retries:
            error = RateLimitError(
                f"X API connection '{self.conn_id}' ({safe_url(self.host)}): {endpoint} "
                f"still rate limited after {policy.max_rate_limit_retries} retries",
                status=429,
                conn_id=self.conn_id,
            )
            error.final = True  # tweepy already waited and retried: the policy must not again
            raise error
        reset = response.headers.get("x-rate-limit-reset", "")
        hint = float(reset) - time.time() if reset.strip().isdigit() else _retry_after(response)
        wait = policy.rate_limit_wait(self._consecutive_429, hint)
        # tweepy only knows x-rate-limit-reset (and sleeps until it, then retries the request):
        # give it the policy's wait, so a 429 without that header backs off (capped) instead of
        # retrying at once, and one with a far reset waits no longer than max_rate_limit_wait
        response.headers["x-rate-limit-reset"] = str(math.ceil(time.time() + wait))
        log.warning(
            "X %s: 429; waiting %.1f s (retry %s/%s)",
            endpoint,
            wait,
            self._consecutive_429,
            policy.max_rate_limit_retries,
        )

    def _read_server_clock(self, response: requests.Response) -> None:
        parsed = parse_http_date(response.headers.get("date"))
        if parsed is not None:
            self.server_now = parsed
            self._server_clock_at = time.monotonic()

    def server_clock(self) -> dt.datetime | None:
        """The API's current time as its last ``Date`` header said (advanced locally)."""
        if self.server_now is None or self._server_clock_at is None:
            return None
        return self.server_now + dt.timedelta(seconds=time.monotonic() - self._server_clock_at)

    # ----------------------------------------------------------------- calls
    def _wrap(self, exc: Exception, what: str) -> ConnectorError:
        where = f"X API connection '{self.conn_id}' ({safe_url(self.host)})"
        cid = {"conn_id": self.conn_id}
        if isinstance(exc, tweepy.Unauthorized):
            # X answers an invalidated or revoked bearer token with the same plain 401
            return TokenExpiredError(
                f"{where} refused the bearer token (401 Unauthorized) during {what}: it is invalid, "
                f"expired or revoked. Fix: generate a new bearer token in the X developer portal and "
                f"store it as the password of connection '{self.conn_id}'",
                status=401,
                **cid,
            )
        if isinstance(exc, tweepy.Forbidden):
            return AuthError(
                f"{where}: 403 Forbidden during {what} (the app's access level may not include "
                f"this endpoint): {'; '.join(exc.api_messages) or exc}",
                status=403,
                **cid,
            )
        if isinstance(exc, tweepy.TooManyRequests):
            return RateLimitError(
                f"{where}: rate limited during {what} and wait_on_rate_limit is off "
                f"(reset at epoch {getattr(exc, 'reset_time', None)})",
                status=429,
                transient=True,
                **cid,
            )
        if isinstance(exc, tweepy.HTTPException):
            status = getattr(exc.response, "status_code", "?")
            messages = "; ".join(exc.api_messages) or str(exc).splitlines()[0]
            return ConnectorError(
                f"{where}: HTTP {status} during {what}: {messages}",
                status=status if isinstance(status, int) else None,
                transient=isinstance(exc, tweepy.TwitterServerError),
                **cid,
            )
        if isinstance(exc, requests.RequestException):
            return ConnectorError(
                f"{where} unreachable during {what}: {type(exc).__name__}", transient=True, **cid
            )
        return ConnectorError(f"{where}: {what} failed: {exc}", **cid)

    def call(self, what: str, method: Callable[..., dict], **params) -> dict:
        """One request; 5xx, resets, timeouts and cut bodies are tried again with backoff."""

        def attempt() -> dict:
            try:
                return method(**params)
            except tweepy.BadRequest:
                raise
            except (tweepy.TweepyException, requests.RequestException) as exc:
                raise self._wrap(exc, what) from exc

        return self.policy.run(attempt, label=f"X {what}", stats=self.stats)

    def pages(self, what: str, method: Callable[..., dict], token_param: str, **params) -> Iterator[dict]:
        """Every page of a listing, following ``meta.next_token`` through ``token_param``
        (``pagination_token`` for timelines, ``next_token`` for search).

        A page whose next token was already followed (the API repeated an earlier page) is
        asked for again; after ``MAX_CURSOR_REPEATS`` repeats in a row the listing stops with
        a warning instead of looping.
        """
        token: str | None = None
        followed: set[str] = set()
        repeats = CursorRepeats(self.stats.notes, what, "X")
        while True:
            kwargs = dict(params)
            if token is not None:
                kwargs[token_param] = token
            bypass = self.checkpoint.bypass(repeats.active) if self.checkpoint else contextlib.nullcontext()
            with bypass:
                body = self.call(what, method, **kwargs)
            yield body
            nxt = (body.get("meta") or {}).get("next_token")
            if not nxt:
                return
            if nxt == token or nxt in followed:
                if repeats.again():
                    continue
                return
            repeats.advanced()
            followed.add(nxt)
            token = nxt


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value)
    return None


def from_connection(conn: Any, checkpoint: Checkpoint | None = None) -> XClient:
    """An :class:`XClient` for a connection-like object (``host``, ``password``, ``extra_dejson``)."""
    return XClient(conn, checkpoint)


# --------------------------------------------------------------------------- extract
class _Run(base.ExtractRun):
    """One extraction: collected records, dedup and annotations."""

    def __init__(self, xc: XClient, progress: Callable[[str], Any] | None):
        self.xc = xc
        super().__init__(progress)
        self.usernames: dict[str, str] = {}  # user id -> username
        self.users: list[dict] = []
        self.tweets: dict[str, dict] = {}
        self.tweet_errors: list[dict] = []
        self.user_errors: list[dict] = []

    def need(self, phase: str, records: int) -> None:
        """Account the minimum requests for one listing that returned ``records``."""
        n = max(1, math.ceil(records / PAGE))
        self.xc.stats.min_requests += n
        self.xc.stats.phase(phase)["min_requests"] += n

    def add_tweets(self, body: dict, found_via: str, phase: str) -> int:
        includes = body.get("includes") or {}
        for u in includes.get("users") or []:
            if u.get("id") and u.get("username"):
                self.usernames[u["id"]] = u["username"]
        included = {t["id"]: t for t in includes.get("tweets") or [] if "id" in t}
        data = body.get("data") or []
        if isinstance(data, dict):
            data = [data]
        for tweet in data:
            tid = tweet.get("id")
            if tid is None:
                continue
            known = self.tweets.get(tid)
            if known is not None:
                base.found_again(known, found_via)
                continue
            rec = dict(tweet)
            rec["_found_via"] = found_via
            rec["_also_found_via"] = []
            rec["_author_username"] = self.usernames.get(tweet.get("author_id"))
            refs = []
            for ref in tweet.get("referenced_tweets") or []:
                target = included.get(ref.get("id")) or {}
                author_id = target.get("author_id")
                refs.append(
                    {
                        "type": ref.get("type"),
                        "id": ref.get("id"),
                        "author_id": author_id,
                        "author_username": self.usernames.get(author_id),
                    }
                )
            rec["_referenced"] = refs
            self.tweets[tid] = rec
        self.xc.stats.phase(phase)["records"] += len(data)
        return len(data)

    # ----------------------------------------------------------------- phases
    def lookup_users(self, roles: dict[str, str]) -> dict[str, str]:
        """Phase 1: usernames -> user records; returns lower(username) -> user id."""
        xc = self.xc
        xc.phase = "users"
        ids: dict[str, str] = {}
        names = list(roles)
        for i, batch in enumerate(chunks(names, PAGE), start=1):
            body = xc.call(
                "users lookup", xc.client.get_users, usernames=list(batch), user_fields=USER_FIELDS
            )
            for user in body.get("data") or []:
                rec = dict(user)
                rec["_role"] = roles.get(user["username"].lower(), "advocate")
                self.users.append(rec)
                self.usernames[user["id"]] = user["username"]
                ids[user["username"].lower()] = user["id"]
            for err in partial_errors(body, parameter="usernames"):
                err["_found_via"] = "users_lookup"
                self.user_errors.append(err)
            self.need("users", len(batch))
            xc.stats.phase("users")["records"] += len(body.get("data") or [])
            self.say(f"x users: {min(i * PAGE, len(names))}/{len(names)} looked up")
        log.info(
            "x users: %s found, %s not found (%s requests)",
            len(self.users),
            len(self.user_errors),
            xc.stats.phase("users")["requests"],
        )
        return ids

    def timelines(self, targets: list[tuple[str, str, str]], start, end) -> None:
        """Phase 2: (user id, username, found_via) timelines within [start, end)."""
        xc = self.xc
        xc.phase = "timeline"
        for i, (uid, username, found_via) in enumerate(targets, start=1):
            n = 0
            try:
                for body in xc.pages(
                    f"timeline of @{username}",
                    xc.client.get_users_tweets,
                    "pagination_token",
                    id=uid,
                    start_time=start,
                    end_time=end,
                    max_results=PAGE,
                    **TWEET_PARAMS,
                ):
                    n += self.add_tweets(body, found_via, "timeline")
                    for err in partial_errors(body):
                        err["_found_via"] = "timeline"
                        self.user_errors.append(err)
            except tweepy.BadRequest as exc:
                raise xc._wrap(exc, f"timeline of @{username}") from exc
            self.need("timeline", n)
            if i % PAGE == 0 or i == len(targets):
                self.say(f"x timelines: {i}/{len(targets)} read, {len(self.tweets)} posts")
        log.info(
            "x timelines: %s users, %s posts (%s requests)",
            len(targets),
            xc.stats.phase("timeline")["records"],
            xc.stats.phase("timeline")["requests"],
        )

    def search(self, queries: list[str], window_start, window_end) -> None:
        """Phase 3: recent search within the 7 days X keeps searchable."""
        xc = self.xc
        xc.phase = "search"
        server_now = xc.server_clock()
        start = search_start(window_start, window_end, server_now)
        end = window_end
        if server_now is not None:
            end = min(end, server_now - dt.timedelta(seconds=15))
        xc.stats.search_start = start.isoformat()
        if start >= end:
            note = f"search skipped: window ends before X's 7-day search range ({end.isoformat()})"
            xc.stats.notes.append(note)
            log.warning("x %s", note)
            return
        for query in queries:
            n = 0
            params = dict(
                query=query,
                start_time=start,
                end_time=end,
                max_results=PAGE,
                **TWEET_PARAMS,
            )
            for attempt in range(2):
                try:
                    pages = xc.pages("recent search", xc.client.search_recent_tweets, "next_token", **params)
                    for body in pages:
                        n += self.add_tweets(body, "search", "search")
                    break
                except tweepy.BadRequest as exc:
                    allowed = allowed_start_from_error(exc.api_messages)
                    if attempt == 0 and allowed is not None:
                        params["start_time"] = allowed + dt.timedelta(minutes=1)
                        xc.stats.search_start = params["start_time"].isoformat()
                        xc.stats.notes.append(
                            f"search start moved to {params['start_time'].isoformat()} (X's limit)"
                        )
                        if params["start_time"] < end:
                            continue
                        break
                    raise xc._wrap(exc, "recent search") from exc
            self.need("search", n)
        log.info(
            "x search: %s queries, %s posts (%s new), %s requests",
            len(queries),
            xc.stats.phase("search")["records"],
            sum(1 for t in self.tweets.values() if t["_found_via"] == "search"),
            xc.stats.phase("search")["requests"],
        )

    def refresh(self, ids: list[str]) -> None:
        """Phase 4: counters of known posts not fetched yet in this run."""
        xc = self.xc
        xc.phase = "lookup"
        todo = [i for i in dict.fromkeys(str(i) for i in ids) if i not in self.tweets]
        for batch in chunks(todo, PAGE):
            try:
                body = xc.call(
                    "tweets lookup",
                    xc.client.get_tweets,
                    ids=list(batch),
                    **TWEET_PARAMS,
                )
            except tweepy.BadRequest as exc:
                raise xc._wrap(exc, "tweets lookup") from exc
            self.add_tweets(body, "lookup", "lookup")
            for err in partial_errors(body, parameter="ids"):
                err["_found_via"] = "lookup"
                self.tweet_errors.append(err)
        if todo:
            self.need("lookup", len(todo))
        log.info(
            "x lookup: %s known posts refreshed, %s gone (%s requests)",
            len(todo) - len(self.tweet_errors),
            len(self.tweet_errors),
            xc.stats.phase("lookup")["requests"],
        )


def extract(conn: Any, **args: Unpack[ExtractArgs]) -> ExtractResult:
    """Extract one window from X: users, timelines, recent search, metric refresh.

    ``conn``: a connection-like object (``conn_id``, ``host``, ``password`` =
    bearer token, ``extra_dejson``). ``window_start``/``window_end``: aware
    datetimes, end exclusive. ``lookback_ids``: post ids whose counters to
    re-read. Returns an :class:`ExtractResult` (``{stream: records}`` for every
    stream in ``STREAMS``) whose ``.stats`` (:class:`ExtractStats`) tells
    requests made vs the minimum; raises :class:`~advocacy.connectors.base.AuthError`
    (401/403; a 401 as :class:`~advocacy.connectors.base.TokenExpiredError`),
    :class:`~advocacy.connectors.base.RateLimitError` or
    :class:`~advocacy.connectors.base.ConnectorError`, each naming the connection.
    ``checkpoint``: see :class:`~advocacy.connectors.base.Checkpoint` (resume a failed attempt).
    """
    r = base.ExtractRequest.of(args)
    xc = from_connection(conn, r.checkpoint)
    run = _Run(xc, r.progress)
    started = time.monotonic()
    company = distinct_handles(r.company_handles)
    roles = {h.lower(): "company" for h in company}
    advocates = [h for h in distinct_handles(r.advocate_usernames) if h.lower() not in roles]
    roles = {**{h.lower(): "advocate" for h in advocates}, **roles}
    whom = f"{len(advocates)} advocates, {len(company)} company handles"
    base.log_extract_start(log, "x", xc.host, whom, r.window_start, r.window_end, len(r.lookback_ids))
    for handle in [h for h in roles if not _USERNAME.fullmatch(h)]:
        # X rejects the whole batch for one malformed name: report it, look up the rest
        log.warning("x: roster handle %r is not a valid X username; skipped", handle)
        run.user_errors.append(
            {
                "resource_id": handle,
                "title": "Invalid Username",
                "detail": f"'{handle}' is not a valid X username (^[A-Za-z0-9_]{{1,15}}$)",
                "_found_via": "roster",
                "_error_kind": "invalid",
            }
        )
        roles.pop(handle)
    ids = run.lookup_users(roles) if roles else {}
    targets = [(ids[h.lower()], h, "timeline") for h in advocates if h.lower() in ids]
    targets += [(ids[h.lower()], h, "company_timeline") for h in company if h.lower() in ids]
    run.timelines(targets, r.window_start, r.window_end)
    queries = search_queries(r.hashtags, company, r.company_domains)
    if queries:
        run.search(queries, r.window_start, r.window_end)
    run.refresh(list(r.lookback_ids or []))

    return base.finish_extract(base.collect(run, STREAMS), xc.stats, r.checkpoint, "x", started)


def probe(settings: Any, platform_settings: Any) -> list:
    """``advocacy check``: ``GET /2/users/by?usernames=<company handle>&user.fields=public_metrics``
    with the app's bearer token checks the token (401), the app's access (403: not attached to a
    project / access level), and the endpoint's rate-limit headroom
    (``x-rate-limit-limit`` / ``-remaining``). X API v2 has no dated versions."""
    from advocacy.connectors.base import Probe

    pr = Probe(platform_settings, "X")
    handles = [str(h).lstrip("@") for h in getattr(platform_settings, "company_handles", None) or []]
    if pr.lacking(
        (
            pr.token,
            "token",
            "no bearer token",
            f"store the app's bearer token as the password of '{pr.conn_id}'",
        ),
        (handles, "company account", "no company_handles", "list the company's X handle in company_handles"),
    ):
        return pr.findings
    response = pr.get(
        API_HOST,
        "/2/users/by",
        params={"usernames": handles[0], "user.fields": "public_metrics"},
        headers={"Authorization": f"Bearer {pr.token}"},
    )
    if response is None:
        return pr.findings
    pr.add("ok", "API version", "X API v2 (no dated versions)")
    status = response.status_code
    texts = {
        "ok": (f"valid; @{handles[0]} readable", ""),
        "refused": (
            "refused (401)",
            "generate a new bearer token in the X developer portal and store it as the password of "
            f"'{pr.conn_id}'",
        ),
        "denied": (
            "403: the app is not attached to a project or its access level lacks this endpoint",
            "attach the app to a project with an access level that includes v2 user lookup, search "
            "and timelines",
        ),
        "limited": ("limited now (429)", "wait for x-rate-limit-reset before the nightly run"),
        "other": (f"HTTP {status}", "see docs/platforms/x.md"),
    }
    kind = {200: "ok", 401: "refused", 403: "denied", 429: "limited"}.get(status, "other")
    pr.answer(kind, texts, denied="access")
    limit, remaining = (
        response.headers.get("x-rate-limit-limit"),
        response.headers.get("x-rate-limit-remaining"),
    )
    used = None
    if limit and remaining and limit.isdigit() and remaining.isdigit() and int(limit):
        used = 100.0 * (int(limit) - int(remaining)) / int(limit)
    pr.headroom(
        used,
        "no rate-limit headers in the answer",
        "run the extract later or with fewer advocates per window",
    )
    return pr.findings

"""Bluesky (AT Protocol) connector: the ``atproto`` SDK's client from a connection, cursors,
rate limits, records.

``extract(conn, ...)`` is what the pipeline calls once per run; it returns
``{stream: [record, ...]}`` for every stream in ``STREAMS`` with ``.stats``.
Endpoints (lexicons ``app.bsky.*``, docs https://docs.bsky.app/docs/category/http-reference):

1. ``app.bsky.actor.getProfiles``: advocates' and company profiles, 25 actors a
   request (``followersCount`` = audience). Public.
2. ``app.bsky.feed.getAuthorFeed``: each profile's posts and reposts, newest
   first, 100 a page, followed by ``cursor`` until the page reaches back before
   the window. Public.
3. ``app.bsky.feed.searchPosts``: one listing per programme hashtag (``tag``),
   per company handle (``mentions``) and per company domain (``domain``), within
   the window (``since``/``until``), 100 a page. **Needs a session**: Bluesky's
   AppView refuses anonymous search and its public mirror refuses it even with a
   token, so search goes to the PDS (``extra.pds_host``) after ``createSession``
   with the connection's login (handle) and password (an app password). A refused
   search (no credentials, 401/403, a failed login) is a warning and a note in
   ``stats.notes``: the timelines and counters of the night still land.
4. ``app.bsky.feed.getPosts``: counters of the lookback's posts not read yet in
   this run, 25 URIs a request. Deleted posts are simply missing from the answer:
   each becomes a ``post_errors`` record (``not_found``).

Records are the API's objects as returned plus ``_``-prefixed annotations:

* ``profiles``: ``profileViewDetailed`` + ``_role`` (``advocate`` | ``company``)
  and ``_roster_handle`` (the roster/settings value, lowercase).
* ``posts``: ``postView`` + ``_found_via`` (``timeline`` | ``company_timeline`` |
  ``search`` | ``lookup``), ``_also_found_via``, ``_author_handle`` (lowercase),
  ``_author_role`` (``company`` | ``advocate`` | ``other``),
  ``_author_employee_handle``, ``_created_at`` (``record.createdAt`` as UTC ``Z``),
  ``_post_type`` (``post`` | ``reply`` | ``quote`` | ``repost``), ``_hashtags``
  (facet tags and ``record.tags``, lowercase), ``_mentions`` (mentioned DIDs),
  ``_mention_handles`` (their handles, lowercase, from the facet's text),
  ``_mentions_company``, ``_links`` (facet links and external embeds),
  ``_reshare_of`` / ``_reshare_of_author`` (the quoted or reposted post and its
  author's handle), ``_is_pure_reshare``, ``_likes`` (``likeCount``),
  ``_comments`` (``replyCount``), ``_reposts``, ``_quotes``, ``_shares``
  (reposts + quotes) and ``_impressions`` (always None: Bluesky has none).
  A **repost** (a pure reshare) is a record of its own: ``uri`` = the repost
  record's URI (``reason.uri``), ``author`` = ``reason.by``, ``post`` = the
  reposted ``postView``, counters None (a repost has none).
* ``post_errors``: ``{"uri", "_error_kind": "not_found" | "blocked",
  "_found_via": "lookup"}`` for lookback posts gone or hidden.
* ``actor_errors``: ``{"actor", "_error_kind": "invalid" | "not_found" |
  "blocked", "error", "message", "_found_via"}`` for roster handles that are no
  valid handle, no longer exist or block us; the run goes on.

Rate limits: a 429 carries ``ratelimit-reset`` (epoch seconds); the client waits
until then (at most ``max_rate_limit_wait`` s, 300), at most
``max_rate_limit_retries`` (5) times in a row. 5xx, resets and timeouts are
tried again ``transient_retries`` (3) times, ``transient_backoff`` (s, 1.0)
doubling. Connection: ``host`` = the public AppView
(``https://public.api.bsky.app``), ``login`` = the account handle, ``password`` =
an app password; extra ``pds_host`` (``https://bsky.social``), ``timeout``,
``page_size`` (100), and the retry keys above.

Resuming: with a ``checkpoint`` (:class:`~advocacy.connectors.base.Checkpoint`), the
httpx transport under the SDK journals every completed read (a 200 with a whole JSON
body) and answers the reads an earlier attempt completed from the journal; the session
calls (``createSession``, ``refreshSession``: their answers are the session's tokens)
are never journaled. The search session's key holds a hash of the login and app
password, not of its access token (new at every login).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Unpack

import httpx
from atproto import Client
from atproto_client import models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request

from advocacy.connectors import base
from advocacy.connectors.base import (
    AuthError,
    Checkpoint,
    ConnectorError,
    CursorRepeats,
    ExtractArgs,
    ExtractResult,
    ExtractStats,
    RateLimitError,
    Stream,
    as_float,
    backoff_wait,
    base_url,
    chunks,
    conn_id_of,
    extra_of,
    safe_url,
    sleep,
)
from advocacy.preflight import Finding

log = logging.getLogger(__name__)

PUBLIC_HOST = "https://public.api.bsky.app"
PDS_HOST = "https://bsky.social"
STREAMS = {
    "profiles": Stream(key="did", time=None),
    "posts": Stream(key="uri", time="_created_at"),
    "post_errors": Stream(key="uri", time=None),
    "actor_errors": Stream(key="actor", time=None),
}
POSTS_STREAM = "posts"
ROSTER_HANDLE_COLUMN = "bluesky_handle"

PROFILES_BATCH = 25  # getProfiles actors maxLength
POSTS_BATCH = 25  # getPosts uris maxLength
PAGE = 100  # getAuthorFeed / searchPosts limit maximum
# a handle is a domain name (atproto.com/specs/handle); a DID may stand in for it
_HANDLE = re.compile(
    r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]+")
_POST_COLLECTION = "/app.bsky.feed.post/"


# --------------------------------------------------------------------------- pure helpers
def normalise_handle(value: str | None) -> str:
    return (value or "").strip().lstrip("@").lower()


def is_actor(value: str) -> bool:
    return len(value) <= 253 and bool(_HANDLE.fullmatch(value) or _DID.fullmatch(value))


def parse_datetime(value: str | None) -> dt.datetime | None:
    """An AT Protocol datetime (RFC 3339, ``Z`` or an offset, any fraction) -> aware UTC."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)", text)
    if m and m.group(2):  # Python < 3.11-safe: at most 6 fraction digits
        text = m.group(1) + m.group(2)[:7] + m.group(3)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def iso_z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def facets(record: dict) -> tuple[list[str], list[str], list[str]]:
    """(hashtags lowercase without '#', mentioned DIDs, link URIs) of a post record's facets,
    plus ``record.tags`` and an external embed's URI."""
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            kind = str(feature.get("$type") or "")
            if kind.endswith("#tag") and feature.get("tag"):
                tags.append(str(feature["tag"]).lstrip("#").lower())
            elif kind.endswith("#mention") and feature.get("did"):
                mentions.append(str(feature["did"]))
            elif kind.endswith("#link") and feature.get("uri"):
                links.append(str(feature["uri"]))
    tags += [str(t).lstrip("#").lower() for t in record.get("tags") or [] if t]
    embed = record.get("embed") or {}
    external = embed.get("external") or (embed.get("media") or {}).get("external") or {}
    if external.get("uri"):
        links.append(str(external["uri"]))
    return list(dict.fromkeys(tags)), list(dict.fromkeys(mentions)), list(dict.fromkeys(links))


def mentioned_handles(record: dict) -> list[str]:
    """Handles of a record's mention facets, lowercase without '@', read from the text's byte
    slice (the lexicon: "the text is usually a handle, including a '@' prefix")."""
    raw = str(record.get("text") or "").encode()
    out = []
    for facet in record.get("facets") or []:
        index = (facet or {}).get("index") or {}
        features = (facet or {}).get("features") or []
        if any(str(f.get("$type") or "").endswith("#mention") for f in features):
            start, end = index.get("byteStart"), index.get("byteEnd")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw):
                text = normalise_handle(raw[start:end].decode("utf-8", "replace"))
                if text:
                    out.append(text)
    return list(dict.fromkeys(out))


def quoted(post: dict) -> tuple[str | None, str | None]:
    """(uri, author handle) of the post a quote post embeds (the view, else the record)."""
    embed = post.get("embed") or {}
    kind = str(embed.get("$type") or "")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        embed = embed.get("record") or {}
        kind = "app.bsky.embed.record#view"
    if kind.startswith("app.bsky.embed.record"):
        target = embed.get("record") or {}
        author = normalise_handle((target.get("author") or {}).get("handle")) or None
        return target.get("uri"), author
    rec_embed = (post.get("record") or {}).get("embed") or {}
    if str(rec_embed.get("$type") or "").startswith("app.bsky.embed.record"):
        inner = rec_embed.get("record") or {}
        inner = inner.get("record", inner) if "record" in inner else inner
        return inner.get("uri"), None
    return None, None


def search_listings(hashtags: Iterable[str], company: Iterable[str], domains: Iterable[str]) -> list[dict]:
    """The searchPosts parameter sets of a run: one per hashtag (``tag`` ANDs several, so
    one each), company handle (``mentions``) and domain (``domain``)."""
    out: list[dict] = []
    for h in dict.fromkeys(h.strip().lstrip("#") for h in hashtags if h.strip().lstrip("#")):
        out.append({"q": f"#{h}", "tag": [h]})
    for h in dict.fromkeys(normalise_handle(h) for h in company if normalise_handle(h)):
        out.append({"q": f"@{h}", "mentions": h})
    for d in dict.fromkeys(d.strip().lower() for d in domains if d.strip()):
        out.append({"q": d, "domain": d})
    return out


# --------------------------------------------------------------------------- client
#: in the extensions of a response the checkpoint answered (nothing went over the wire)
REPLAYED = "advocacy.replayed"
#: headers of the body as it came over the wire: the journaled body is the decoded one
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class JournalingTransport(httpx.BaseTransport):
    """The SDK's httpx transport with a :class:`~advocacy.connectors.base.Checkpoint`: a GET the
    journal holds (outside ``checkpoint.bypass``) is answered from it without the network (the
    answer carries :data:`REPLAYED` in its extensions, so the accounting hook skips it), a
    completed 200 with a whole JSON body is journaled (:func:`base.journal_entry`). Procedures
    (POST: ``createSession``, ``refreshSession``, whose answers are the session's JWTs) pass
    through untouched. ``credential`` stands in for a request's ``Authorization`` header in the
    key (:func:`base.request_key` keeps only its hash): the session's access token is new at
    every login, so a key hashing it could never be found by the next attempt."""

    def __init__(self, inner: httpx.BaseTransport, checkpoint: Checkpoint, credential: str):
        self.inner = inner
        self.checkpoint = checkpoint
        self.credential = credential

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" or "/com.atproto.server." in request.url.path:
            return self.inner.handle_request(request)
        headers = {"Authorization": self.credential} if "authorization" in request.headers else {}
        key = base.request_key(request.method, str(request.url), headers)
        entry = self.checkpoint.lookup(key)
        if entry is not None:
            status, headers, body = base.replayed_parts(entry)
            return httpx.Response(status, headers=headers, content=body, extensions={REPLAYED: True})
        response = self.inner.handle_request(request)
        if response.status_code != 200:
            return response
        try:
            body = response.read()  # a body cut short raises here, as it would in the client
        finally:
            response.close()
        entry = base.journal_entry(response.headers, body)
        if entry is not None:
            self.checkpoint.save(key, entry)
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(200, headers=kept, content=body, extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


class _Refused(Exception):
    """Search refused (401/403 or no session): the caller notes it and goes on."""


class BlueskyClient:
    """Two ``atproto`` clients of one connection: ``public`` (reads, no session) at ``host``
    and ``session`` (search, logged in on first use) at ``extra.pds_host``; ``stats``
    counts what went over the wire."""

    def __init__(self, conn: Any, checkpoint: Checkpoint | None = None):
        self.conn_id = conn_id_of(conn)
        self.checkpoint = checkpoint
        extra = extra_of(conn)
        self.host = base_url(getattr(conn, "host", None), PUBLIC_HOST)
        self.pds_host = base_url(extra.get("pds_host"), PDS_HOST if self.host == PUBLIC_HOST else self.host)
        self.login = (getattr(conn, "login", None) or "").strip()
        self._password = getattr(conn, "password", None) or ""
        self.timeout = as_float(extra.get("timeout"), 30.0)
        self.page_size = max(1, min(PAGE, int(extra.get("page_size", PAGE))))
        self.max_rate_limit_wait = as_float(extra.get("max_rate_limit_wait"), 300.0)
        self.rate_limit_fallback_wait = as_float(extra.get("rate_limit_fallback_wait"), 60.0)
        self.max_rate_limit_retries = int(extra.get("max_rate_limit_retries", 5))
        self.transient_retries = int(extra.get("transient_retries", 3))
        self.transient_backoff = as_float(extra.get("transient_backoff"), 1.0)
        self.connect_retries = int(extra.get("retries", 2))  # failed connects, at the httpx level
        self.stats = ExtractStats()
        self.phase = "setup"
        self.public = Client(base_url=self.host, request=self._request())
        self._session: Client | None = None
        self._session_refused: str | None = None

    def _request(self) -> Request:
        # the SDK hands these to httpx.Client: accounting on every response, connection retries
        transport: httpx.BaseTransport = httpx.HTTPTransport(retries=self.connect_retries)
        if self.checkpoint is not None:
            transport = JournalingTransport(transport, self.checkpoint, f"{self.login}:{self._password}")
        return Request(
            timeout=self.timeout,
            transport=transport,
            event_hooks={"response": [self._on_response]},
        )

    def _on_response(self, response: httpx.Response) -> None:
        if response.extensions.get(REPLAYED):
            return  # answered by the checkpoint: no request
        nsid = response.request.url.path.rsplit("/", 1)[-1]
        if response.status_code == 429:
            self.stats.rate_limited += 1
            return
        self.stats.count(self.phase, nsid)

    @property
    def where(self) -> str:
        return f"Bluesky connection '{self.conn_id}' ({safe_url(self.host)})"

    # ----------------------------------------------------------------- session
    def session(self) -> Client:
        """The logged-in client for search; raises :class:`_Refused` saying why there is none."""
        if self._session is not None:
            return self._session
        if self._session_refused:
            raise _Refused(self._session_refused)
        if not self.login or not self._password:
            self._session_refused = (
                f"connection '{self.conn_id}' has no login (handle) and app password, and Bluesky "
                "refuses search without a session"
            )
            raise _Refused(self._session_refused)
        client = Client(base_url=self.pds_host, request=self._request())
        self.phase, phase = "session", self.phase
        self.stats.need("session")
        try:
            self.call(
                "createSession", lambda: client.login(self.login, self._password, fetch_bsky_profile=False)
            )
        except AuthError as exc:
            self._session_refused = f"login as {self.login} refused ({exc.status}): check the app password"
            raise _Refused(self._session_refused) from exc
        finally:
            self.phase = phase
        self._session = client
        return client

    # ----------------------------------------------------------------- calls
    def call(self, what: str, fn: Callable[[], Any]) -> Any:
        """One XRPC call with the rate-limit and transient-failure policy; SDK errors mapped."""
        attempt = limited = 0
        while True:
            try:
                return fn()
            except RateLimitExceededError as exc:
                limited += 1
                if limited > self.max_rate_limit_retries:
                    raise RateLimitError(
                        f"{self.where}: {what} still rate limited after {self.max_rate_limit_retries} waits",
                        status=429,
                        transient=True,
                        conn_id=self.conn_id,
                    ) from exc
                wait = self._reset_wait(exc)
                log.warning("Bluesky %s: rate limited; waiting %.0f s (ratelimit-reset)", what, wait)
                self.stats.rate_limit_wait_seconds += wait
                sleep(wait)
            except UnauthorizedError as exc:
                raise AuthError(
                    f"{self.where}: {what} refused ({_status(exc)}): {_detail(exc)}",
                    status=_status(exc),
                    conn_id=self.conn_id,
                ) from exc
            except BadRequestError:
                raise
            except (
                NetworkError,
                InvokeTimeoutError,
                RequestException,
                httpx.TransportError,
                ValueError,
            ) as exc:
                # httpx errors the SDK lets through (a reset, a body cut short) and a 200 whose
                # JSON is incomplete (ValueError: params are built before the call) are transient
                status = _status(exc)
                if status is not None and status < 500:
                    raise ConnectorError(
                        f"{self.where}: HTTP {status} during {what}: {_detail(exc)}",
                        status=status,
                        conn_id=self.conn_id,
                    ) from exc
                if attempt >= self.transient_retries:
                    raise ConnectorError(
                        f"{self.where}: {what} failed after {attempt} retries: {_detail(exc)}",
                        status=status,
                        transient=True,
                        conn_id=self.conn_id,
                    ) from exc
                attempt += 1
                self.stats.retries += 1
                wait = backoff_wait(attempt, self.transient_backoff, 30.0)
                log.warning("Bluesky %s: %s; retry %s/%s in %.1f s", what, _detail(exc), attempt,
                            self.transient_retries, wait)  # fmt: skip
                sleep(wait)

    def _reset_wait(self, exc: RequestErrorBase) -> float:
        headers = getattr(exc.response, "headers", None) or {}
        reset = headers.get("ratelimit-reset")
        try:
            wait = float(reset) - time.time() + 1.0
        except (TypeError, ValueError):
            wait = self.rate_limit_fallback_wait
        return max(0.0, min(self.max_rate_limit_wait, wait))

    def query(self, client: Client, nsid: str, params: Any) -> dict:
        """``nsid`` with ``params`` (a lexicon Params model) -> the JSON answer as a dict."""
        response = self.call(nsid, lambda: client.invoke_query(nsid, params=params))
        content = response.content
        if not isinstance(content, dict):
            raise ConnectorError(f"{self.where}: {nsid} answered with no JSON object", conn_id=self.conn_id)
        return content

    def batches(
        self, items: list[str], size: int, nsid: str, make: Callable[[list[str]], Any], listed: str
    ) -> Iterator[tuple[list[str], list[dict]]]:
        """A public lookup of ``items``, ``size`` at a time (``make(batch)`` gives the Params), each
        call one request the current phase needs: (the batch, its answer's ``listed`` records)."""
        for batch in chunks(items, size):
            body = self.query(self.public, nsid, make(list(batch)))
            self.stats.need(self.phase)
            yield batch, body.get(listed) or []

    def pages(
        self, what: str, client: Client, nsid: str, make: Callable[[str | None], Any]
    ) -> Iterator[dict]:
        """Every page of a cursor listing; a cursor already followed is asked again at most
        ``MAX_CURSOR_REPEATS`` times, then the listing stops with a note."""
        cursor: str | None = None
        followed: set[str] = set()
        repeats = CursorRepeats(self.stats.notes, what, "Bluesky")
        while True:
            # a page asked for again after a repeated cursor must reach the API
            with self.checkpoint.bypass(repeats.active) if self.checkpoint else contextlib.nullcontext():
                body = self.query(client, nsid, make(cursor))
            yield body
            nxt = body.get("cursor")
            if not nxt:
                return
            if nxt in followed:
                if repeats.again():
                    continue
                return
            repeats.advanced()
            followed.add(nxt)
            cursor = nxt


def _status(exc: RequestErrorBase) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _detail(exc: Exception) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    error = getattr(content, "error", None)
    if error:
        message = getattr(content, "message", None)
        return f"{error}: {message}" if message else str(error)
    return type(exc).__name__ if getattr(exc, "response", None) is None else str(exc)[:200]


def _xrpc_error(exc: BadRequestError) -> tuple[str, str]:
    content = getattr(exc.response, "content", None)
    return str(getattr(content, "error", "") or ""), str(getattr(content, "message", "") or "")


def from_connection(conn: Any, checkpoint: Checkpoint | None = None) -> BlueskyClient:
    """A :class:`BlueskyClient` for a connection-like object (``host``, ``login``, ``password``,
    ``extra_dejson``), journaling into ``checkpoint`` if given."""
    return BlueskyClient(conn, checkpoint)


# --------------------------------------------------------------------------- extract
class _Run(base.ExtractRun):
    def __init__(self, bc: BlueskyClient, roles: dict[str, str], company: list[str],
                 progress: Callable[[str], Any] | None):  # fmt: skip
        self.bc = bc
        self.roles = roles  # lowercase handle -> advocate | company
        self.company = company
        self.company_dids: set[str] = set()
        super().__init__(progress)
        self.profiles: list[dict] = []
        self.dids: dict[str, str] = {}  # lowercase handle -> did
        self.handles: dict[str, str] = {}  # did -> lowercase handle (profiles read this run)
        self.posts: dict[str, dict] = {}
        self.post_errors: list[dict] = []
        self.actor_errors: list[dict] = []

    def actor_error(self, actor: str, kind: str, via: str, error: str = "", message: str = "") -> None:
        self.actor_errors.append(
            {"actor": actor, "_error_kind": kind, "error": error, "message": message, "_found_via": via}
        )

    # ----------------------------------------------------------------- records
    def _annotate(self, post: dict, found_via: str) -> dict:
        rec = dict(post)
        record = post.get("record") or {}
        author = post.get("author") or {}
        handle = normalise_handle(author.get("handle"))
        tags, mentions, links = facets(record)
        ref_uri, ref_author = quoted(post)
        post_type = "quote" if ref_uri else ("reply" if record.get("reply") else "post")
        created = parse_datetime(record.get("createdAt")) or parse_datetime(post.get("indexedAt"))
        reposts, quotes = post.get("repostCount"), post.get("quoteCount")
        rec.update(
            _found_via=found_via,
            _also_found_via=[],
            _author_handle=handle,
            _author_role=self.roles.get(handle, "other"),
            _author_employee_handle=handle if self.roles.get(handle) == "advocate" else None,
            _created_at=None if created is None else iso_z(created),
            _post_type=post_type,
            _hashtags=tags,
            _mentions=mentions,
            _mention_handles=list(
                dict.fromkeys(
                    mentioned_handles(record) + [self.handles[d] for d in mentions if d in self.handles]
                )
            ),
            _mentions_company=bool(self.company_dids.intersection(mentions)),
            _links=links,
            _reshare_of=ref_uri,
            _reshare_of_author=ref_author,
            _is_pure_reshare=False,
            _likes=post.get("likeCount"),
            _comments=post.get("replyCount"),
            _reposts=reposts,
            _quotes=quotes,
            _shares=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0),
            _impressions=None,
        )
        return rec

    def _repost(self, item: dict, found_via: str) -> dict | None:
        reason, post = item.get("reason") or {}, item.get("post") or {}
        by = reason.get("by") or {}
        if not by.get("did") or not post.get("uri"):
            return None
        # older AppViews omit reason.uri: one repost per (reposter, post) makes a stable key
        uri = reason.get("uri") or f"at://{by['did']}/app.bsky.feed.repost/of:{post['uri']}"
        handle = normalise_handle(by.get("handle"))
        created = parse_datetime(reason.get("indexedAt"))
        return {
            "uri": uri,
            "cid": reason.get("cid"),
            "author": by,
            "indexedAt": reason.get("indexedAt"),
            "post": post,
            "_found_via": found_via,
            "_also_found_via": [],
            "_author_handle": handle,
            "_author_role": self.roles.get(handle, "other"),
            "_author_employee_handle": handle if self.roles.get(handle) == "advocate" else None,
            "_created_at": None if created is None else iso_z(created),
            "_post_type": "repost",
            "_hashtags": [],
            "_mentions": [],
            "_mention_handles": [],
            "_mentions_company": False,
            "_links": [],
            "_reshare_of": post["uri"],
            "_reshare_of_author": normalise_handle((post.get("author") or {}).get("handle")) or None,
            "_is_pure_reshare": True,
            **dict.fromkeys(("_likes", "_comments", "_reposts", "_quotes", "_shares", "_impressions")),
        }

    def add(self, rec: dict | None) -> bool:
        if rec is None:
            return False
        known = self.posts.get(rec["uri"])
        if known is None:
            self.posts[rec["uri"]] = rec
            return True
        via = rec["_found_via"]
        base.found_again(known, via)
        for counter in ("_likes", "_comments", "_reposts", "_quotes", "_shares"):
            if rec.get(counter) is not None:  # a later read has the fresher counters
                known[counter] = rec[counter]
        return False

    # ----------------------------------------------------------------- phases
    def lookup_profiles(self) -> None:
        bc = self.bc
        bc.phase = "profiles"
        actors = list(self.roles)

        def params(batch: list[str]) -> Any:
            return models.AppBskyActorGetProfiles.Params(actors=batch)

        for batch, profiles in bc.batches(
            actors, PROFILES_BATCH, "app.bsky.actor.getProfiles", params, "profiles"
        ):
            found = set()
            for profile in profiles:
                handle = normalise_handle(profile.get("handle"))
                did = profile.get("did")
                key = handle if handle in self.roles else did
                if key not in self.roles or not did:
                    continue
                found.add(key)
                self.dids[key] = did
                self.handles[did] = handle or key
                if self.roles[key] == "company":
                    self.company_dids.add(did)
                self.profiles.append({**profile, "_role": self.roles[key], "_roster_handle": key})
            for actor in batch:
                if actor not in found:
                    self.actor_error(
                        actor, "not_found", "profiles", "NotFound", "not returned by getProfiles"
                    )
        bc.stats.phase("profiles")["records"] += len(self.profiles)

    def timelines(self, start: dt.datetime, end: dt.datetime) -> None:
        bc = self.bc
        bc.phase = "timeline"
        targets = [h for h in self.roles if h in self.dids]
        for i, handle in enumerate(targets, start=1):
            via = "company_timeline" if self.roles[handle] == "company" else "timeline"
            did = self.dids[handle]
            n = pages = 0
            try:
                for body in bc.pages(
                    f"author feed of {handle}",
                    bc.public,
                    "app.bsky.feed.getAuthorFeed",
                    lambda cursor, did=did: models.AppBskyFeedGetAuthorFeed.Params(
                        actor=did, limit=bc.page_size, cursor=cursor, filter="posts_with_replies"
                    ),
                ):
                    pages += 1
                    oldest = None
                    for item in body.get("feed") or []:
                        reason = item.get("reason") or {}
                        if str(reason.get("$type") or "").endswith("#reasonPin"):
                            continue  # a pinned post repeats an older one at the top
                        if str(reason.get("$type") or "").endswith("#reasonRepost"):
                            rec = self._repost(item, via)
                            if rec is not None and (rec["author"].get("did") != did):
                                rec = None
                        else:
                            rec = self._annotate(item.get("post") or {}, via)
                        when = parse_datetime(rec["_created_at"]) if rec else None
                        sort_at = parse_datetime(
                            reason.get("indexedAt") or (item.get("post") or {}).get("indexedAt")
                        )
                        if sort_at is not None:
                            oldest = sort_at if oldest is None else min(oldest, sort_at)
                        if rec is not None and when is not None and start <= when < end:
                            n += self.add(rec)
                    if oldest is not None and oldest < start:
                        break  # newest first: the rest lies before the window
            except BadRequestError as exc:
                error, message = _xrpc_error(exc)
                kind = "blocked" if "Blocked" in error else "not_found"
                self.actor_error(handle, kind, "timeline", error, message)
                log.warning("bluesky: author feed of %s refused (%s: %s); skipped", handle, error, message)
            bc.stats.need("timeline", max(1, pages if n >= bc.page_size else 1))
            bc.stats.phase("timeline")["records"] += n
            if i % 50 == 0 or i == len(targets):
                self.say(f"bluesky timelines: {i}/{len(targets)} read, {len(self.posts)} posts")

    def search(self, listings: list[dict], start: dt.datetime, end: dt.datetime) -> None:
        bc = self.bc
        bc.phase = "search"
        try:
            client = bc.session()
            for spec in listings:
                n = 0
                for body in bc.pages(
                    f"search {spec['q']}",
                    client,
                    "app.bsky.feed.searchPosts",
                    lambda cursor, spec=spec: models.AppBskyFeedSearchPosts.Params(
                        **spec,
                        since=iso_z(start),
                        until=iso_z(end),
                        sort="latest",
                        limit=bc.page_size,
                        cursor=cursor,
                    ),  # fmt: skip
                ):
                    for post in body.get("posts") or []:
                        n += 1
                        self.add(self._annotate(post, "search"))
                bc.stats.need("search", max(1, -(-n // bc.page_size)))
                bc.stats.phase("search")["records"] += n
        except (_Refused, AuthError) as exc:
            note = f"search skipped: {exc}; posts found only by search are missing tonight"
            bc.stats.notes.append(note)
            log.warning("bluesky %s", note)

    def refresh(self, uris: list[str]) -> None:
        bc = self.bc
        bc.phase = "lookup"
        todo = [
            u for u in dict.fromkeys(str(u) for u in uris) if u not in self.posts and _POST_COLLECTION in u
        ]
        for batch, posts in bc.batches(
            todo,
            POSTS_BATCH,
            "app.bsky.feed.getPosts",
            lambda uris: models.AppBskyFeedGetPosts.Params(uris=uris),
            "posts",
        ):
            seen = set()
            for post in posts:
                seen.add(post.get("uri"))
                self.add(self._annotate(post, "lookup"))
            for uri in batch:
                if uri not in seen:  # getPosts leaves out deleted (and hidden) posts
                    self.post_errors.append({"uri": uri, "_error_kind": "not_found", "_found_via": "lookup"})
        bc.stats.phase("lookup")["records"] += len(todo) - len(self.post_errors)


def extract(conn: Any, **args: Unpack[ExtractArgs]) -> ExtractResult:
    """Extract one window from Bluesky: profiles, author feeds, search, counter refresh.

    ``advocate_usernames``: the roster's ``bluesky_handle`` values (handles or DIDs).
    ``company_handles``: the company's handles. ``lookback_ids``: post URIs whose
    counters to read again. Raises :class:`~advocacy.connectors.base.RateLimitError`
    or :class:`~advocacy.connectors.base.ConnectorError` naming the connection; a
    refused search never raises. ``checkpoint``: see
    :class:`~advocacy.connectors.base.Checkpoint` (resume a failed attempt).
    """
    r = base.ExtractRequest.of(args)
    bc = from_connection(conn, r.checkpoint)
    started = time.monotonic()
    company = list(dict.fromkeys(normalise_handle(h) for h in r.company_handles if normalise_handle(h)))
    roles = {h: "company" for h in company}
    advocates = [
        h for h in dict.fromkeys(normalise_handle(h) for h in r.advocate_usernames) if h and h not in roles
    ]
    run = _Run(bc, {}, company, r.progress)
    for handle in advocates + company:
        if is_actor(handle):
            roles.setdefault(handle, "advocate")
        else:
            run.actor_error(handle, "invalid", "roster", "InvalidHandle",
                            f"'{handle}' is not a Bluesky handle (a domain name) or DID")  # fmt: skip
            log.warning("bluesky: roster handle %r is not a valid handle; skipped", handle)
            roles.pop(handle, None)
    run.roles = roles
    whom = f"{len(advocates)} advocates, {len(company)} company handles"
    base.log_extract_start(log, "bluesky", bc.host, whom, r.window_start, r.window_end, len(r.lookback_ids))
    if roles:
        run.lookup_profiles()
        run.timelines(r.window_start, r.window_end)
    listings = search_listings(r.hashtags, company, r.company_domains)
    if listings:
        run.search(listings, r.window_start, r.window_end)
    run.refresh(list(r.lookback_ids or []))

    return base.finish_extract(base.collect(run, STREAMS), bc.stats, r.checkpoint, "bluesky", started)


# --------------------------------------------------------------------------- probe
def probe(settings: Any, platform_settings: Any) -> list[Finding]:
    """``advocacy check``: the connection exists, the public API answers for the company
    handles, and the session for search works (a warning if not: search is best-effort)."""
    from advocacy.connections import ConnectionNotFound, get_connection

    conn_id = getattr(platform_settings, "connection_id", "") or "bluesky_api"
    what = f"{conn_id}: "
    try:
        conn = get_connection(conn_id)
    except ConnectionNotFound as exc:
        return [
            Finding(
                "fail",
                what + "connection",
                str(exc),
                f"define connection '{conn_id}' (host, login, password)",
            )
        ]
    bc = from_connection(conn)
    findings: list[Finding] = []
    handles = [normalise_handle(h) for h in getattr(platform_settings, "company_handles", ()) if h]
    try:
        params = models.AppBskyActorGetProfiles.Params(actors=handles[:PROFILES_BATCH] or ["bsky.app"])
        body = bc.query(bc.public, "app.bsky.actor.getProfiles", params)
        got = {normalise_handle(p.get("handle")) for p in body.get("profiles") or []}
        missing = [h for h in handles if h not in got]
        if missing:
            findings.append(Finding("fail", what + "company handles", f"not found: {', '.join(missing)}",
                                    "fix platforms.bluesky.company_handles in the settings"))  # fmt: skip
        else:
            findings.append(Finding("ok", what + "public API", f"{safe_url(bc.host)} answers getProfiles"))
    except (ConnectorError, RequestErrorBase) as exc:
        findings.append(Finding("fail", what + "public API", str(exc), "check the connection's host"))
    try:
        bc.session()
        findings.append(Finding("ok", what + "search session", f"logged in as {bc.login}"))
    except (_Refused, ConnectorError) as exc:
        findings.append(Finding("warn", what + "search session", str(exc),
                                "store the account handle as login and an app password as password "
                                "(bsky.app: Settings > Privacy and security > App passwords)"))  # fmt: skip
    return findings

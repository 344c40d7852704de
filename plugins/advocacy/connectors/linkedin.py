"""LinkedIn connector (REST ``/rest/...``, Rest.li 2.0, plain ``requests``): organisation
and advocates' posts, reshares of company posts, reaction/comment counts, organisation
share statistics, member post analytics and network sizes.

``extract(conn, ...)`` returns ``{stream: [record, ...]}`` for every stream of
``STREAMS`` (an :class:`~advocacy.connectors.base.ExtractResult` with
``.stats``). ``company_handles`` are organisation URNs
(``urn:li:organization:N``); ``advocate_usernames`` are roster
``linkedin_member_urn`` values (``urn:li:person:X``); ``hashtags`` and
``company_domains`` are not used for calls (LinkedIn has no post search).

Streams and record shapes (API objects as returned + ``_`` annotations):

* ``network_sizes`` (key ``_urn``): ``{"firstDegreeSize": N}`` from
  ``GET /rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``
  (organisation followers) and ``GET /v2/connections/urn:li:person:X`` (an
  advocate's 1st-degree connections, with their token and ``r_1st_connections_size``;
  documented only as v2, unversioned) + ``_urn``, ``_role``
  (``company`` | ``advocate``), ``_edge_type`` (``COMPANY_FOLLOWED_BY_MEMBER`` |
  ``FIRST_DEGREE_CONNECTION``).
* ``posts`` (key ``id``, time ``createdAt`` in epoch **milliseconds**): Posts
  API objects: ``id`` (``urn:li:share:N`` | ``urn:li:ugcPost:N``), ``author``
  (URN), ``commentary`` (LinkedIn "little text": hashtags as
  ``{hashtag|\\#|Tag}``, mentions as ``@[Name](urn:li:organization:N)``; ``""``
  for a pure reshare), ``reshareContext`` (``{"parent", "root"}``, reshares
  only), ``content`` (``{"article": {"source", "title", ...}}`` for links,
  media otherwise, absent for text), ``createdAt`` / ``publishedAt`` /
  ``lastModifiedAt`` (ms), ``visibility``, ``lifecycleState``,
  ``distribution``, ``isReshareDisabledByAuthor``; plus:

  - ``_found_via``: ``"organization"`` | ``"member"`` (an advocate's posts with
    their token) | ``"lookup"`` (metric refresh of a lookback id);
    ``_also_found_via`` (later phases that found it again);
  - ``_author_role`` (``company`` | ``advocate`` | ``other``),
    ``_author_employee_handle`` (the member URN for advocates, else None);
  - ``_hashtags`` (lower-case, from little text and plain ``#tags``),
    ``_mentions_company`` (the commentary mentions a company URN), ``_links``
    (``content.article.source`` + URLs in the commentary), ``_reshare_of``
    (``reshareContext.parent`` when that post's author is a company
    organisation, else None), ``_reshared_author`` (author URN of the parent,
    None if unknown), ``_is_pure_reshare`` (a reshare with empty commentary);
  - ``_social_metadata``: the ``socialMetadata`` object (``reactionSummaries``
    by type with ``count``, ``commentSummary`` {count, topLevelCount}, ...) or
    None; ``_likes`` (sum of reaction counts), ``_comments``
    (``commentSummary.count``);
  - organisation posts: ``_share_statistics`` (``totalShareStatistics`` as
    returned: impressionCount, uniqueImpressionsCount, shareCount,
    likeCount, commentCount, clickCount, engagement (a float ratio));
  - advocates' posts: ``_member_analytics`` (``{"IMPRESSION": n,
    "MEMBERS_REACHED": n, "RESHARE": n, ...}`` for the metrics asked) or None,
    ``_analytics_dropped`` (metric types LinkedIn refused this run, e.g. deprecated ones),
    ``_analytics_status`` (``ok`` | ``forbidden`` (no
    ``r_member_postAnalytics``: 403) | ``no_token`` | ``not_applicable``);
  - ``_impressions`` (org: impressionCount; member: IMPRESSION; else **None**),
    ``_members_reached`` (org: uniqueImpressionsCount; member:
    MEMBERS_REACHED; else None), ``_shares`` (org: shareCount; member:
    RESHARE; else None).

* ``post_errors`` (key ``id``): lookback URNs the batch get reports
  (``{"id", "status", "code", "message", "_found_via": "lookup",
  "_error_kind": "not_found" | "not_authorized" | "other"}``).
* ``member_errors`` (key ``member``): advocates whose posts could not be read:
  ``{"member", "_error_kind": "no_token" | "token_expired" | "permission",
  "error": {status, code, message} | None, "_action"}``. A member token that
  expired never fails the run; the organisation token expiring does
  (:class:`~advocacy.connectors.base.TokenExpiredError`, saying how to renew it).

Every call, its token, permission and documented shapes: ``docs/platforms/linkedin.md``.

Phases: (1) network sizes; (2) organisation posts in the window (``q=author``,
newest first, ``start``/``count`` paging until past the window, or back to
``lookback_start`` to refresh known posts); (3) each advocate's posts with their
token (likewise); (4) batch get (organisation token) of lookback URNs not seen
yet (``ids=List(...)``): a 404 is ``not_found`` (deleted), a 403 ``not_authorized``
(kept); (5) batch get of unknown reshare parents (to tell reshares of company
posts); (6) ``socialMetadata`` batches, each post with the token allowed to read
it (the organisation's for its posts and reshares of them, the author's for a
member's post); non-``PUBLISHED`` posts are skipped;
(7) organisation share statistics; (8) member analytics, one request per post
and metric, with the author's token.

Every call sends ``Authorization: Bearer``, ``LinkedIn-Version`` (extra
``api_version``, ``YYYYMM``) and ``X-Restli-Protocol-Version: 2.0.0``; URNs are
URL-encoded in paths and inside ``List(...)``. 429s (LinkedIn's limits are
daily, without reset headers), 5xx answers, reset connections, read timeouts,
bodies cut short and 200s whose JSON is incomplete are retried by the shared
:class:`~advocacy.connectors.base.RetryPolicy` (one layer: a permanently failing
call costs ``1 + transient_retries`` = 4 requests). Finder paging takes the next ``start``
from the response (the ``rel: next`` link, else ``paging.start`` + elements),
so a short page loses nothing and a repeated page is asked for again (at most
``MAX_CURSOR_REPEATS`` times in a row, then the listing stops with a warning).
A member analytics metric type LinkedIn refuses (400 naming ``queryType``: a
deprecated metric) is dropped for the rest of the run with a warning, the
others are kept (``_analytics_dropped`` on the posts). With a ``checkpoint``
(:class:`~advocacy.connectors.base.Checkpoint`), completed responses are
journaled and a retried extract replays them.

Credentials (connection ``linkedin_api``): ``host`` (default
``https://api.linkedin.com``), ``password`` = an organisation admin's token
(``r_organization_social``, ``rw_organization_admin`` for share statistics
and follower counts); extra: ``api_version`` (default :data:`DEFAULT_VERSION`;
LinkedIn sunsets versions after a year: keep it recent), ``member_tokens``
(``{"urn:li:person:X": "<token>"}`` of advocates who granted
``r_member_social`` and optionally ``r_member_postAnalytics`` and
``r_1st_connections_size``; tokens live 60 days), ``member_analytics_metrics``
(default ``["IMPRESSION", "MEMBERS_REACHED", "RESHARE"]``), ``page_size``
(100), ``timeout``, and the retry policy's extras (connectors/README.md).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Unpack
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from advocacy.connectors import base
from advocacy.connectors.base import (
    TRANSIENT_EXCEPTIONS,
    AuthError,
    Checkpoint,
    ConnectedClient,
    CursorRepeats,
    ExtractArgs,
    ExtractResult,
    PermissionDeniedError,
    PlatformError,
    RateLimitError,
    RewritingAdapter,
    TokenExpiredError,
    as_list,
    chunks,
    distinct,
    safe_url,
)

log = logging.getLogger(__name__)

API_HOST = "https://api.linkedin.com"
DEFAULT_VERSION = "202601"
# stated once, in the platform registry (advocacy/platforms.py)
STREAMS, POSTS_STREAM, ROSTER_HANDLE_COLUMN = base.declared_streams("linkedin")
PAGE = 100
BATCH = 50
DEFAULT_ANALYTICS = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE")
#: members' own calls at once (extra.concurrency; 1: one after another)
DEFAULT_CONCURRENCY = 8
_LITTLE_TAG = re.compile(r"(?<!\\)\{hashtag\|\\?#\|([^}]+)\}")
_LITTLE_MENTION = re.compile(r"(?<!\\)@\[([^\]]*)\]\((urn:li:[a-zA-Z]+:[^)]+)\)")
# Little Text Format: these characters are reserved and escaped with a backslash in plain text
LITTLE_RESERVED = "|{}@[]()<>#\\*_~"
_LITTLE_ESCAPE = re.compile(r"\\([" + re.escape(LITTLE_RESERVED) + r"])")
#: Posts API lifecycle states; only PUBLISHED posts are live on LinkedIn (the others are
#: drafts, posts waiting to be published or that failed to)
PUBLISHED = "PUBLISHED"
_VERSION = re.compile(r"^\d{6}$")


class LinkedInError(PlatformError):
    """A LinkedIn error response: ``status``, ``code`` (e.g. ``ACCESS_DENIED``), ``body``."""

    body: dict


class LinkedInTokenExpired(LinkedInError, TokenExpiredError):
    pass


class LinkedInAuthError(LinkedInError, AuthError):
    pass


class LinkedInPermissionError(LinkedInError, PermissionDeniedError):
    pass


class LinkedInRateLimitError(LinkedInError, RateLimitError):
    pass


def encode_urn(urn: str) -> str:
    """A URN for a path or a ``List(...)`` element: every reserved character escaped."""
    return quote(str(urn), safe="")


def restli_list(urns: Iterable[str]) -> str:
    return "List(" + ",".join(encode_urn(u) for u in urns) + ")"


def little_text_hashtags(text: str | None) -> list[str]:
    """Hashtags of LinkedIn little text (``{hashtag|\\#|Tag}``) and plain ``#tags``, lower-case."""
    text = text or ""
    tags = [m.group(1).strip().lower() for m in _LITTLE_TAG.finditer(text)]
    tags += base.hashtags_in(_LITTLE_TAG.sub(" ", text))
    return list(dict.fromkeys(tags))


def little_text_mentions(text: str | None) -> list[str]:
    """URNs mentioned in little text (``@[Name](urn:li:organization:N)``)."""
    return list(dict.fromkeys(m.group(2) for m in _LITTLE_MENTION.finditer(text or "")))


def little_text_plain(text: str | None) -> str:
    """Little text as a reader sees it: ``{hashtag|\\#|Tag}`` -> ``#Tag``, ``@[Name](urn)`` ->
    ``Name``, escaped reserved characters (``\\(``, ``\\_``, ``\\#`` ...) unescaped once.
    (The warehouse does the same in ``stg_linkedin__posts``; this copy feeds the connector's
    own annotations, e.g. links taken from the text.)"""
    text = _LITTLE_TAG.sub(lambda m: "#" + m.group(1), text or "")
    text = _LITTLE_MENTION.sub(lambda m: m.group(1), text)
    return _LITTLE_ESCAPE.sub(lambda m: m.group(1), text)


def reactions_total(social: dict | None) -> int | None:
    if not isinstance(social, dict) or "reactionSummaries" not in social:
        return None
    return sum(int((v or {}).get("count") or 0) for v in (social.get("reactionSummaries") or {}).values())


def ms_of(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def annotate(post: dict, found_via: str, *, orgs: set[str], advocates: set[str]) -> dict:
    """A Posts API object + the connector's ``_`` annotations (counters filled later)."""
    author = str(post.get("author") or "")
    commentary = post.get("commentary") or ""
    plain = little_text_plain(commentary)
    links = [((post.get("content") or {}).get("article") or {}).get("source")]
    links = [u for u in links if u] + [u for u in base.urls_in(plain) if u not in links]
    reshare = post.get("reshareContext") or {}
    role = "company" if author in orgs else "advocate" if author in advocates else "other"
    rec = dict(post)
    rec.update(
        {
            "_found_via": found_via,
            "_also_found_via": [],
            "_author_role": role,
            "_author_employee_handle": author if role == "advocate" else None,
            "_hashtags": list(dict.fromkeys(little_text_hashtags(commentary) + base.hashtags_in(plain))),
            "_mentions_company": any(u in orgs for u in little_text_mentions(commentary)),
            "_links": links,
            "_reshare_of": None,
            "_reshared_author": None,
            "_is_pure_reshare": bool(reshare) and not commentary.strip(),
            "_social_metadata": None,
            "_likes": None,
            "_comments": None,
            "_share_statistics": None,
            "_member_analytics": None,
            "_analytics_status": "not_applicable" if role != "advocate" else "no_token",
            "_impressions": None,
            "_members_reached": None,
            "_shares": None,
        }
    )
    return rec


def _no_token(conn_id: str) -> LinkedInAuthError:
    return LinkedInAuthError(
        f"LinkedIn connection '{conn_id}' has no access token: store the organisation "
        "admin's token as the connection's password",
        conn_id=conn_id,
    )


class LinkedInClient(ConnectedClient):
    """A ``requests`` session bound to one connection: headers, retries, accounting, errors."""

    def __init__(self, conn: Any, checkpoint: Checkpoint | None = None):
        super().__init__(
            conn, default_host=API_HOST, no_token=_no_token, checkpoint=checkpoint, version=self._version
        )
        self.session = self._session()

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(
            {
                "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0",
                "Accept": "application/json",
            }
        )
        adapter = RewritingAdapter(self.host, self.host, timeout=self.timeout, checkpoint=self.checkpoint)
        session.mount(self.host + "/", adapter)
        return session

    def fork(self) -> LinkedInClient:
        """The same connection for a worker thread: its own session and request accounting
        (``ExtractStats.absorb`` adds them back), the same checkpoint."""
        twin = copy.copy(self)
        twin.stats = self.stats_type()
        twin.session = self._session()
        return twin

    @property
    def where(self) -> str:
        return f"LinkedIn connection '{self.conn_id}' ({safe_url(self.host)})"

    def _version(self, extra: dict) -> str:
        version = str(extra.get("api_version") or extra.get("version") or DEFAULT_VERSION).strip()
        if not _VERSION.match(version):
            raise LinkedInError(
                f"LinkedIn connection '{self.conn_id}': api_version {version!r} must be YYYYMM",
                conn_id=self.conn_id,
            )
        return version

    def error(self, response: requests.Response, what: str, who: str | None) -> LinkedInError:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        if not isinstance(body, dict):
            body = {"message": str(body)[:200]}
        status = response.status_code
        code = body.get("code") or body.get("serviceErrorCode")
        message = str(body.get("message") or response.reason or "")
        kwargs = dict(code=code, status=status, conn_id=self.conn_id, body=body)
        token = f"the token of member {who}" if who else "the organisation token (the connection's password)"
        base = f"{self.where}: {what}: HTTP {status}"
        if status == 401:
            if (
                code in ("EXPIRED_ACCESS_TOKEN", "REVOKED_ACCESS_TOKEN")
                or "expired" in message.lower()
                or ("revoked" in message.lower())
            ):
                renew = (
                    f"ask member {who} to sign in to the app again (3-legged OAuth) and replace their entry "
                    f"in extra.member_tokens of connection '{self.conn_id}'"
                    if who
                    else f"re-run the OAuth flow as an organisation admin (or exchange the refresh token) "
                    f"and store the new token as the password of connection '{self.conn_id}'"
                )
                return LinkedInTokenExpired(
                    f"{base}: {token} has expired or was revoked ({message}). LinkedIn access tokens last "
                    f"60 days; to renew: {renew}",
                    **kwargs,
                )
            return LinkedInAuthError(f"{base}: {token} was refused ({code}: {message})", **kwargs)
        if status == 403:
            return LinkedInPermissionError(
                f"{base}: {token} lacks a permission ({code}: {message})", **kwargs
            )
        if status == 426 or code in ("NONEXISTENT_VERSION", "VERSION_MISSING"):
            return LinkedInError(
                f"{base}: LinkedIn-Version {self.version} is not accepted ({message}); set extra.api_version "
                f"of connection '{self.conn_id}' to a recent YYYYMM",
                **kwargs,
            )
        if status == 429:
            error = LinkedInRateLimitError(f"{base}: throttled ({message})", transient=True, **kwargs)
            error.headers = dict(response.headers)
            return error
        if status == 404:
            return LinkedInError(
                f"{base}: LinkedIn does not serve this resource ({code}: {message}); the path is not (or "
                f"no longer) in LinkedIn-Version {self.version}: check docs/platforms/linkedin.md",
                **kwargs,
            )
        return LinkedInError(f"{base} ({code}: {message})", transient=status >= 500, **kwargs)

    def get(
        self,
        path: str,
        query: str = "",
        *,
        token: str | None = None,
        what: str,
        endpoint: str,
        who: str | None = None,
        allow: tuple[int, ...] = (),
        unversioned: bool = False,
        parse_json: bool = False,
    ) -> requests.Response:
        """GET ``host + path + ?query`` (query already encoded: Rest.li syntax is not form encoding).

        ``unversioned``: a documented ``/v2/`` resource (Rest.li 1.0, no ``LinkedIn-Version``).
        """
        url = self.host + path + (f"?{query}" if query else "")
        headers: dict[str, str | None] = {"Authorization": f"Bearer {token or self.token}"}
        if unversioned:
            headers.update({"LinkedIn-Version": None, "X-Restli-Protocol-Version": None})

        def attempt() -> requests.Response:
            try:
                response = self.session.get(url, headers=headers, timeout=self.timeout)
            except TRANSIENT_EXCEPTIONS as exc:
                raise LinkedInError(
                    f"{self.where} unreachable during {what}: {type(exc).__name__}",
                    transient=True,
                    conn_id=self.conn_id,
                ) from None
            except requests.RequestException as exc:
                raise LinkedInError(
                    f"{self.where} unreachable during {what}: {type(exc).__name__}", conn_id=self.conn_id
                ) from None
            if response.status_code == 429:
                self.stats.rate_limited += 1
                raise self.error(response, what, who)
            self.count(endpoint)
            if response.status_code >= 400 and response.status_code not in allow:
                raise self.error(response, what, who)
            if parse_json:
                try:
                    response.json()
                except ValueError:
                    raise _NotJson(
                        f"{self.where}: {what}: HTTP {response.status_code} is not JSON "
                        f"(Content-Type {response.headers.get('Content-Type')!r}); "
                        "check the connection's host",
                        status=response.status_code,
                        transient=True,
                        conn_id=self.conn_id,
                    ) from None
            return response

        return self.policy.run(
            attempt, label=f"linkedin {endpoint}", stats=self.stats, wait_hint=_retry_after_of
        )

    def json(self, *args, again: bool = False, **kwargs) -> dict:
        """``get`` + the JSON body; a 200 whose JSON is incomplete is asked for again.

        ``again``: go to the API even if the checkpoint has this request (a repeated page).
        """
        with self.checkpoint.bypass(again) if self.checkpoint else contextlib.nullcontext():
            try:
                response = self.get(*args, parse_json=True, **kwargs)
            except _NotJson as exc:
                # still not JSON after the policy's retries: the host is not LinkedIn's API
                raise LinkedInError(str(exc), status=exc.status, conn_id=self.conn_id) from None
        body = response.json()
        return body if isinstance(body, dict) else {}


class _NotJson(LinkedInError):
    """A whole answer whose body is not JSON (retried: a body can come cut short)."""


def _retry_after_of(error: RateLimitError) -> float | None:
    """LinkedIn's ``Retry-After`` (seconds) of a throttled answer, if it sent one."""
    value = str((getattr(error, "headers", None) or {}).get("Retry-After", "")).strip()
    return float(value) if value.isdigit() else None


def next_start(body: dict, start: int, page_size: int) -> int | None:
    """The ``start`` of the next page a finder response announces, None on the last page.

    The ``rel: next`` link's own ``start`` when Rest.li sends links, else the
    response's ``paging.start`` + its elements when the page was full.
    """
    paging = body.get("paging") or {}
    elements = body.get("elements") or []
    if "links" in paging:
        for link in paging.get("links") or []:
            if link.get("rel") == "next":
                query = dict(parse_qsl(urlsplit(str(link.get("href") or "")).query))
                if str(query.get("start", "")).isdigit():
                    return int(query["start"])
                return int(paging.get("start", start)) + len(elements)
        return None
    if len(elements) >= page_size:
        return int(paging.get("start", start)) + len(elements)
    return None


class _Run(base.ExtractRun):
    def __init__(self, lc: LinkedInClient, progress, orgs: list[str], advocates: list[str], tokens: dict):
        self.lc = lc
        super().__init__(progress)
        self.orgs = set(orgs)
        self.advocates = set(advocates)
        self.tokens = tokens
        self.page_size = max(1, min(PAGE, int(lc.extra.get("page_size", PAGE))))
        self.metrics = [
            m.upper() for m in as_list(lc.extra.get("member_analytics_metrics"), DEFAULT_ANALYTICS)
        ]
        self.network_sizes: list[dict] = []
        self.posts: dict[str, dict] = {}
        self.post_errors: list[dict] = []
        self.member_errors: list[dict] = []
        self.authors: dict[str, str] = {}  # post urn -> author urn (incl. reshare parents)
        self.expired: set[str] = set()
        self.dropped_metrics: list[str] = []
        self.lookback: set[str] = set()  # known post URNs whose counters are refreshed tonight
        self.not_published = 0
        # members' own calls (connections size, post analytics) are independent of each other:
        # this many at once, so that one slow answer does not hold up the others
        self.concurrency = max(1, int(lc.extra.get("concurrency", DEFAULT_CONCURRENCY)))
        self._lock = threading.Lock()

    def fan_out(self, items: list, work: Callable[[Any, LinkedInClient], None]) -> None:
        """``work(item, client)`` for every item, ``concurrency`` at a time, each worker thread
        with its own forked client; their accounting is added to the run's. An error ``work``
        lets through is raised once every started item has ended (the first, in item order)."""
        lc = self.lc
        if self.concurrency == 1 or len(items) < 2:
            for item in items:
                work(item, lc)
            return
        local = threading.local()
        forks: list[LinkedInClient] = []

        def run(item) -> None:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = lc.fork()
                with self._lock:
                    forks.append(client)
            work(item, client)

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="linkedin") as pool:
            futures = [pool.submit(run, item) for item in items]
            errors = [f.exception() for f in futures]
        for client in forks:
            lc.stats.absorb(client.stats)
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def need(self, phase: str, records: int, page: int) -> None:
        self.lc.stats.need(phase, max(1, math.ceil(records / page)))

    def member_error(self, member: str, kind: str, exc: LinkedInError | None, action: str) -> None:
        error = (
            None
            if exc is None
            else {"status": exc.status, "code": exc.code, "message": exc.body.get("message")}
        )
        with self._lock:
            self.member_errors.append(base.member_error(member, kind, error, action))

    def add(self, post: dict, found_via: str, phase: str, lc: LinkedInClient | None = None) -> bool:
        """Keep a post once (True if it was new); a later phase that finds it is noted.
        ``lc``: the (worker's) client whose accounting counts the record."""
        with self._lock:
            return self._add(post, found_via, phase, lc or self.lc)

    def _add(self, post: dict, found_via: str, phase: str, lc: LinkedInClient) -> bool:
        pid = str(post.get("id") or "")
        if not pid:
            return False
        state = post.get("lifecycleState")
        if state is not None and state != PUBLISHED:
            self.not_published += 1  # a draft or a post that is not (yet) live: not a post
            return False
        if base.known_record(self.posts, pid, found_via, lc.stats, phase) is not None:
            return False
        self.authors[pid] = str(post.get("author") or "")
        rec = annotate(post, found_via, orgs=self.orgs, advocates=self.advocates)
        self.posts[pid] = rec
        return True

    # ----------------------------------------------------------------- phases
    def read_network_sizes(self, advocates: list[str]) -> None:
        lc = self.lc
        lc.phase = "network"
        for org in sorted(self.orgs):
            body = lc.json(
                f"/rest/networkSizes/{encode_urn(org)}",
                "edgeType=COMPANY_FOLLOWED_BY_MEMBER",
                what="organisation followers",
                endpoint="network_sizes",
            )
            self.network_sizes.append(
                {**body, "_urn": org, "_role": "company", "_edge_type": "COMPANY_FOLLOWED_BY_MEMBER"}
            )
            self.need("network", 1, 1)
        with_token = [m for m in advocates if self.tokens.get(m) and m not in self.expired]
        sizes: dict[str, dict] = {}
        try:
            self.fan_out(with_token, lambda member, client: self.connections_size(member, client, sizes))
        finally:  # in roster order, whatever the threads did
            self.network_sizes.extend(sizes[m] for m in with_token if m in sizes)

    def connections_size(self, member: str, lc: LinkedInClient, sizes: dict) -> None:
        """One advocate's 1st-degree connections, with their token (a worker of ``fan_out``)."""
        try:
            # documented only as v2, the URN as written: GET /v2/connections/urn:li:person:X
            body = lc.json(
                f"/v2/connections/{member}",
                token=self.tokens[member],
                what="member connections size",
                endpoint="connections",
                who=member,
                unversioned=True,
            )
        except LinkedInTokenExpired as exc:
            self.expire(member, exc)
            return
        except LinkedInPermissionError as exc:
            self.member_error(
                member,
                "no_connections_size",
                exc,
                "the advocate has not granted r_1st_connections_size: their audience stays unknown",
            )
            return
        except LinkedInError as exc:
            if exc.transient:
                raise
            # one advocate's audience is not worth the night's posts: note it, go on
            self.member_error(member, "connections_size_error", exc, str(exc))
            return
        sizes[member] = {**body, "_urn": member, "_role": "advocate", "_edge_type": "FIRST_DEGREE_CONNECTION"}
        lc.stats.need("network", 1)

    def expire(self, member: str, exc: LinkedInError) -> None:
        with self._lock:
            if member in self.expired:
                return
            self.expired.add(member)
        log.warning(
            "linkedin: the token of member %s has expired or was revoked (HTTP %s)", member, exc.status
        )
        self.member_error(
            member,
            "token_expired",
            exc,
            f"LinkedIn tokens last 60 days: ask the advocate to sign in to the app again and replace their "
            f"entry in extra.member_tokens of connection '{self.lc.conn_id}'",
        )

    def author_posts(
        self, author: str, found_via: str, phase: str, start, end, token=None, who=None, since=None, lc=None,
        sink: list | None = None,
    ) -> None:  # fmt: skip
        """An author's posts created in [start, end) (found_via), newest first; with ``since``
        (earlier than start) the listing goes on back to it and refreshes the known posts it
        meets there (``lookup``): their counters are read with the same token. ``lc``: a
        worker's client (default the run's)."""
        lc = lc or self.lc
        lo, hi = ms_of(start), ms_of(end)
        horizon = min(lo, ms_of(since)) if since is not None else lo
        offset, n = 0, 0
        seen: set[str] = set()
        repeats = CursorRepeats(lc.stats.notes, f"posts of {author}", "linkedin")
        while True:
            query = (
                f"q=author&author={encode_urn(author)}&count={self.page_size}&start={offset}&sortBy=CREATED"
            )
            body = lc.json(
                "/rest/posts",
                query,
                token=token,
                what=f"posts of {author}",
                endpoint="posts",
                who=who,
                again=repeats.active,
            )
            elements = body.get("elements") or []
            past = False
            for post in elements:
                created = post.get("createdAt")
                if not isinstance(created, int | float):
                    continue
                if created < horizon:
                    past = True
                    continue
                pid = str(post.get("id") or "")
                if created < lo:
                    if pid in self.lookback and pid not in seen:
                        seen.add(pid)
                        n += 1
                        self.keep(sink, post, "lookup", phase, lc)
                    continue
                if created < hi and pid not in seen:
                    seen.add(pid)
                    n += 1
                    self.keep(sink, post, found_via, phase, lc)
            nxt = next_start(body, offset, self.page_size)
            if past or not elements or nxt is None:
                break
            if nxt <= offset:  # an earlier page came back: its next link points where we already are
                if repeats.again():
                    continue
                break
            repeats.advanced()
            offset = nxt
        lc.stats.need(phase, max(1, math.ceil(n / self.page_size)))

    def keep(self, sink: list | None, post: dict, found_via: str, phase: str, lc) -> None:
        """A listed post: kept now, or put in ``sink`` to be kept in a fixed order later."""
        if sink is None:
            self.add(post, found_via, phase, lc)
        else:
            sink.append((post, found_via))

    def members(self, advocates: list[str], start, end, since=None) -> None:
        """Each advocate's posts with their own token, several advocates at once (``fan_out``)."""
        lc = self.lc
        lc.phase = "members"
        readable = []
        for member in advocates:
            if not self.tokens.get(member):
                self.member_error(
                    member,
                    "no_token",
                    None,
                    f"the advocate has not granted access: add their token to extra.member_tokens of "
                    f"connection '{lc.conn_id}'",
                )
            elif member not in self.expired:
                readable.append(member)
        done = [0]
        # each member's posts are kept in roster order once all are read: the records come out
        # in the same order whatever the threads did
        listed: dict[str, list] = {m: [] for m in readable}

        def read(member: str, client: LinkedInClient) -> None:
            try:
                self.author_posts(
                    member, "member", "members", start, end,
                    token=self.tokens[member], who=member, since=since, lc=client, sink=listed[member],
                )  # fmt: skip
            except LinkedInTokenExpired as exc:
                self.expire(member, exc)
            except LinkedInPermissionError as exc:
                self.member_error(member, "permission", exc, "the advocate must grant r_member_social again")
            with self._lock:
                done[0] += 1
                if done[0] % 50 == 0 or done[0] == len(readable):
                    posts = sum(len(v) for v in listed.values())
                    self.say(f"linkedin members: {done[0]}/{len(readable)} read, {posts} posts listed")

        try:
            self.fan_out(readable, read)
        finally:  # what was read before a failure is kept, as one after another
            for member in readable:
                for post, found_via in listed[member]:
                    self.add(post, found_via, "members")  # counted in the run's accounting

    def batch_get(self, urns: list[str], what: str) -> tuple[dict, dict]:
        """Posts batch get with the organisation token: (results, errors) by URN. The
        organisation may read its own posts and members' reshares of them; a member's other
        posts come back as a 403 error of that URN (they need the member's token)."""
        results, errors = {}, {}
        for batch in chunks(urns, BATCH):
            body = self.lc.json("/rest/posts", "ids=" + restli_list(batch), what=what, endpoint="posts_batch")
            results.update(body.get("results") or {})
            errors.update(body.get("errors") or {})
            self.need(self.lc.phase, len(batch), BATCH)
        return results, errors

    def refresh(self, ids: Iterable[str]) -> None:
        lc = self.lc
        lc.phase = "lookup"
        todo = [
            i for i in dict.fromkeys(str(i) for i in ids) if i.startswith("urn:li:") and i not in self.posts
        ]
        if not todo:
            return
        results, errors = self.batch_get(todo, "lookback refresh")
        for urn in todo:
            if urn in results:
                self.add(results[urn], "lookup", "lookup")
            else:
                # only LinkedIn's documented 404 says the post is gone; a URN the response
                # leaves out, or a refusal, says nothing about the post ("other", kept)
                err = errors.get(urn) or {"status": None, "message": "missing from the batch response"}
                status = err.get("status")
                kind = "not_found" if status == 404 else "not_authorized" if status in (401, 403) else "other"
                self.post_errors.append(
                    {
                        "id": urn,
                        "status": status,
                        "code": err.get("code"),
                        "message": err.get("message"),
                        "_found_via": "lookup",
                        "_error_kind": kind,
                    }
                )
        refused = sum(1 for e in self.post_errors if e["_error_kind"] != "not_found")
        if refused:
            lc.stats.gaps.append(
                f"{refused} known posts could not be refreshed (not readable with the tokens at hand); "
                "they keep their last counters"
            )

    def reshare_parents(self) -> None:
        lc = self.lc
        lc.phase = "parents"
        parents = {
            (p.get("reshareContext") or {}).get("parent")
            for p in self.posts.values()
            if p.get("reshareContext")
        }
        unknown = sorted(u for u in parents if u and u not in self.authors)
        if unknown:
            results, _ = self.batch_get(unknown, "reshared posts")
            for urn, post in results.items():
                self.authors[urn] = str(post.get("author") or "")
        for rec in self.posts.values():
            parent = (rec.get("reshareContext") or {}).get("parent")
            if parent:
                author = self.authors.get(parent)
                rec["_reshared_author"] = author
                rec["_reshare_of"] = parent if author in self.orgs else None

    def reader_of(self, rec: dict) -> str | None:
        """Whose token may read a post's social metadata: "" the organisation's (its posts and
        members' reshares of them, r_organization_social), a member URN for that member's own
        posts (r_member_social), None when no token at hand may."""
        author = str(rec.get("author") or "")
        if author in self.orgs:
            return ""
        if author in self.tokens and author not in self.expired:
            return author
        if rec.get("_reshare_of"):
            return ""
        return None

    def social_metadata(self) -> None:
        """Reactions and comments, in batches, with the token allowed to read each post; the
        readers side by side (``fan_out``)."""
        lc = self.lc
        lc.phase = "social"
        groups: dict[str | None, list[str]] = {}
        for urn, rec in self.posts.items():
            groups.setdefault(self.reader_of(rec), []).append(urn)
        unread = len(groups.pop(None, []))
        refused = [0]

        def read(group: tuple[str, list[str]], client: LinkedInClient) -> None:
            reader, urns = group
            token = self.tokens.get(reader) if reader else None
            for batch in chunks(urns, BATCH):
                try:
                    body = client.json(
                        "/rest/socialMetadata",
                        "ids=" + restli_list(batch),
                        token=token,
                        what="social metadata",
                        endpoint="social_metadata",
                        who=reader or None,
                    )
                except LinkedInTokenExpired as exc:
                    if not reader:
                        raise
                    self.expire(reader, exc)
                    with self._lock:
                        refused[0] += len(urns)
                    return
                except LinkedInPermissionError:
                    if not reader:
                        raise
                    with self._lock:
                        refused[0] += len(urns)
                    return
                client.stats.need("social", max(1, math.ceil(len(batch) / BATCH)))
                with self._lock:
                    refused[0] += len(body.get("errors") or {})
                self.store_social(body)

        self.fan_out(sorted(groups.items()), read)
        if unread or refused[0]:
            lc.stats.gaps.append(
                f"reactions and comments unknown for {unread + refused[0]} posts (advocates without a "
                "LinkedIn token, or refused)"
            )

    def store_social(self, body: dict) -> None:
        for urn, social in (body.get("results") or {}).items():
            rec = self.posts.get(urn)
            if rec is not None and isinstance(social, dict):
                rec["_social_metadata"] = social
                rec["_likes"] = reactions_total(social)
                rec["_comments"] = (social.get("commentSummary") or {}).get("count")

    def share_statistics(self) -> None:
        lc = self.lc
        lc.phase = "share_statistics"
        for org in sorted(self.orgs):
            urns = [u for u, r in self.posts.items() if r.get("author") == org]
            for batch in chunks(urns, BATCH):
                shares = [u for u in batch if u.startswith("urn:li:share:")]
                ugc = [u for u in batch if u.startswith("urn:li:ugcPost:")]
                query = f"q=organizationalEntity&organizationalEntity={encode_urn(org)}"
                if shares:
                    query += "&shares=" + restli_list(shares)
                if ugc:
                    query += "&ugcPosts=" + restli_list(ugc)
                body = lc.json(
                    "/rest/organizationalEntityShareStatistics",
                    query,
                    what="organisation share statistics",
                    endpoint="share_statistics",
                )
                self.need("share_statistics", len(batch), BATCH)
                for element in body.get("elements") or []:
                    urn = element.get("share") or element.get("ugcPost")
                    rec = self.posts.get(urn)
                    stats = element.get("totalShareStatistics") or {}
                    if rec is None:
                        continue
                    rec["_share_statistics"] = stats
                    rec["_impressions"] = stats.get("impressionCount")
                    rec["_members_reached"] = stats.get("uniqueImpressionsCount")
                    rec["_shares"] = stats.get("shareCount")

    def refused_metric(self, exc: LinkedInError, metric: str) -> bool:
        """A 400 naming ``queryType``: LinkedIn no longer serves that metric type (deprecated in
        this API version). Drop it for the rest of the run, keep the other metrics."""
        if exc.status != 400 or "querytype" not in str(exc.body.get("message") or "").lower():
            return False
        with self._lock:
            self._drop_metric(metric, exc)
        return True

    def _drop_metric(self, metric: str, exc: LinkedInError) -> None:
        if metric in self.metrics:
            self.metrics.remove(metric)
            self.dropped_metrics.append(metric)
            self.lc.stats.notes.append(f"member analytics metric dropped: {metric} (refused by LinkedIn)")
            log.warning(
                "linkedin: member analytics metric %s refused (%s): dropped, the other metrics are kept; "
                "remove it from extra.member_analytics_metrics of connection '%s'",
                metric,
                exc.body.get("message"),
                self.lc.conn_id,
            )

    def member_analytics(self) -> None:
        """Each advocate post's analytics with its author's token; the authors side by side
        (``fan_out``), each author's posts one after another (a refusal stops that author)."""
        self.lc.phase = "member_analytics"
        by_author: dict[str, list[tuple[str, dict]]] = {}
        for urn, rec in self.posts.items():
            if rec["_author_role"] == "advocate":
                by_author.setdefault(rec.get("author"), []).append((urn, rec))
        forbidden: list[str] = []
        self.fan_out(list(by_author.items()), lambda item, lc: self.author_analytics(*item, lc, forbidden))
        if forbidden:
            log.info(
                "linkedin: %s advocates have not granted r_member_postAnalytics: impressions stay null",
                len(forbidden),
            )

    def author_analytics(self, author, posts: list[tuple[str, dict]], lc: LinkedInClient, forbidden: list):
        token = self.tokens.get(author)
        for urn, rec in posts:
            if not token or author in self.expired:
                rec["_analytics_status"] = "no_token"
                continue
            if author in forbidden:
                rec["_analytics_status"] = "forbidden"
                continue
            kind = "share" if urn.startswith("urn:li:share:") else "ugc"
            values: dict[str, int | None] = {}
            try:
                for metric in list(self.metrics):
                    query = f"q=entity&entity=({kind}:{encode_urn(urn)})&queryType={metric}&aggregation=TOTAL"
                    try:
                        body = lc.json(
                            "/rest/memberCreatorPostAnalytics",
                            query,
                            token=token,
                            what="member post analytics",
                            endpoint="member_analytics",
                            who=author,
                        )
                    except LinkedInError as exc:
                        if not self.refused_metric(exc, metric):
                            raise
                        continue
                    lc.stats.need("member_analytics", 1)
                    elements = body.get("elements") or []
                    values[metric] = sum(int(e.get("count") or 0) for e in elements) if elements else None
            except LinkedInPermissionError:
                forbidden.append(author)
                lc.stats.need("member_analytics", 1)
                rec["_analytics_status"] = "forbidden"
                continue
            except LinkedInTokenExpired as exc:
                self.expire(author, exc)
                rec["_analytics_status"] = "no_token"
                continue
            rec["_member_analytics"] = values
            rec["_analytics_dropped"] = list(self.dropped_metrics)
            rec["_analytics_status"] = "ok"
            rec["_impressions"] = values.get("IMPRESSION")
            rec["_members_reached"] = values.get("MEMBERS_REACHED")
            rec["_shares"] = values.get("RESHARE")


def extract(conn: Any, **args: Unpack[ExtractArgs]) -> ExtractResult:
    """Extract one window from LinkedIn (see the module docstring for streams and phases).

    ``lookback_start``: when the known posts of ``lookback_ids`` start; the organisation's
    and each member's listings then reach back to it, so their counters are refreshed with
    the token allowed to read them (the batch lookup only gets the rest).
    """
    r = base.ExtractRequest.of(args)
    since = r.lookback_start
    lc = LinkedInClient(conn, r.checkpoint)
    tokens = base.member_tokens_of(conn)
    orgs = distinct(r.company_handles)
    bad = [o for o in orgs if not o.startswith("urn:li:organization:")]
    if bad:
        raise LinkedInError(
            f"LinkedIn connection '{lc.conn_id}': company_handles must be organisation URNs "
            f"(urn:li:organization:N), got {bad}",
            conn_id=lc.conn_id,
        )
    advocates = [a for a in distinct(r.advocate_usernames) if a not in orgs]
    run = _Run(lc, r.progress, orgs, advocates, tokens)
    run.lookback = {str(i) for i in r.lookback_ids or []}
    started = time.monotonic()
    with_token = sum(1 for a in advocates if a in tokens)
    base.log_extract_start(
        log,
        "linkedin",
        lc.host,
        f"{len(orgs)} organisations, {len(advocates)} advocates ({with_token} with a token)",
        r.window_start,
        r.window_end,
        len(r.lookback_ids or []),
        f" (LinkedIn-Version {lc.version})",
    )
    run.read_network_sizes(advocates)
    lc.phase = "organization"
    for org in orgs:
        run.author_posts(org, "organization", "organization", r.window_start, r.window_end, since=since)
    run.members(advocates, r.window_start, r.window_end, since=since)
    run.refresh(r.lookback_ids or [])
    run.reshare_parents()
    run.social_metadata()
    run.share_statistics()
    run.member_analytics()
    with_api = sum(1 for a in advocates if a in tokens and a not in run.expired)
    lc.stats.coverage = (
        f"{with_api} of {len(advocates)} LinkedIn advocates covered by API data; the others by "
        "self-reports (and their reshares of organisation posts the organisation may read)"
    )
    if with_api < len(advocates):
        lc.stats.gaps.append(
            f"{len(advocates) - with_api} of {len(advocates)} LinkedIn advocates have no working token: "
            "their own posts come from self-reports"
        )
    if run.not_published:
        lc.stats.notes.append(f"{run.not_published} posts not PUBLISHED (drafts, pending, failed) skipped")
    # members' errors by roster order (each member's in the order met), whatever the threads did
    order = {m: i for i, m in enumerate(advocates)}
    run.member_errors.sort(key=lambda e: order.get(e["member"], len(order)))
    return base.finish_extract(base.collect(run, STREAMS), lc.stats, r.checkpoint, "linkedin", started)


def probe(settings: Any, platform_settings: Any) -> list:
    """``advocacy check``: one documented call with the organisation token
    (``GET /rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``) checks the token,
    its ``rw_organization_admin`` permission and the ``LinkedIn-Version``; the version's age
    says how long until LinkedIn sunsets it; LinkedIn sends no rate-limit headers (daily
    limits), so headroom is only reported. Member tokens are counted, not called."""
    from advocacy.connectors.base import Probe

    pr = Probe(platform_settings, "LinkedIn")
    if pr.lacking():
        return pr.findings
    conn_id = pr.conn_id
    version = str(pr.extra.get("api_version") or pr.extra.get("version") or DEFAULT_VERSION).strip()
    fix_version = (
        f"set extra.api_version of connection '{conn_id}' to a recent YYYYMM (docs/platforms/linkedin.md)"
    )
    if not _VERSION.match(version):
        pr.add("fail", "API version", f"{version!r} is not YYYYMM", fix_version)
        return pr.findings
    today = dt.date.today()
    age = (today.year * 12 + today.month) - (int(version[:4]) * 12 + int(version[4:]))
    if age > 12:
        pr.add("fail", "API version", f"{version} is {age} months old: sunset", fix_version)
    elif age >= 10:
        pr.add(
            "warn",
            "API version",
            f"{version} is {age} months old: sunset within ~{13 - age} months",
            fix_version,
        )
    else:
        pr.add("ok", "API version", f"LinkedIn-Version {version}")
    orgs = [
        h
        for h in getattr(platform_settings, "company_handles", None) or []
        if str(h).startswith("urn:li:organization:")
    ]
    if pr.lacking(
        (
            pr.token,
            "token",
            "no organisation token",
            f"store an organisation admin's token as the password of '{conn_id}'",
        ),
        (
            orgs,
            "organisation",
            "no urn:li:organization:N in company_handles",
            "list the organisation URN in the platform's company_handles",
        ),
    ):
        return pr.findings
    response = pr.get(
        API_HOST,
        f"/rest/networkSizes/{encode_urn(orgs[0])}",
        what=f"{conn_id}: organisation token",
        params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
        headers={
            "Authorization": f"Bearer {pr.token}",
            "LinkedIn-Version": version,
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )
    if response is None:
        return pr.findings
    body = pr.body(response)
    code = body.get("code") if isinstance(body, dict) else None
    status = response.status_code
    kind = {200: "ok", 401: "refused", 403: "denied"}.get(status)
    if kind is None:
        versioned = status == 426 or code in ("NONEXISTENT_VERSION", "VERSION_MISSING")
        kind = "version" if versioned else {429: "limited"}.get(status, "other")
    texts = {
        "ok": (f"valid; {orgs[0]} has {body.get('firstDegreeSize')} followers" if kind == "ok" else "", ""),
        "refused": (
            f"refused ({code or 'HTTP 401'})",
            f"re-run the OAuth flow as an organisation admin and store the new token as the password "
            f"of '{conn_id}' (tokens last 60 days)",
        ),
        "denied": (
            f"403 {code}: the token lacks rw_organization_admin / r_organization_social",
            "sign in again as an ADMINISTRATOR of the organisation page and grant "
            "r_organization_social and rw_organization_admin",
        ),
        "version": (f"LinkedIn refuses {version} ({code})", fix_version),
        "limited": (
            "throttled now (daily limit reached)",
            "wait for the daily reset (midnight UTC) before the nightly run",
        ),
        "other": (f"HTTP {status} ({code})", "see docs/platforms/linkedin.md"),
    }
    pr.answer(kind, texts)
    if status != 429:
        pr.headroom(
            None,
            "LinkedIn sends no rate-limit headers (limits are daily per app and member; "
            "see the developer portal's Analytics tab)",
            "",
        )
    tokens = base.member_tokens_of(pr.conn)
    pr.add(
        "ok" if tokens else "warn",
        "member tokens",
        f"{len(tokens)} advocates' tokens configured (their posts, reactions and comments need them)",
        "" if tokens else f"add advocates' tokens (r_member_social) to extra.member_tokens of '{conn_id}'",
    )
    return pr.findings

"""Facebook Pages connector: the company Page's posts and insights, posts tagging the Page,
and advocates' own posts through the user tokens they granted (facebook-sdk, Graph API).

``extract(conn, ...)`` returns ``{stream: [record, ...]}`` for every stream of
``STREAMS`` (an :class:`~advocacy.connectors.base.ExtractResult` with ``.stats``).
``company_handles`` are Page ids (or Page usernames); ``advocate_usernames``
are roster ``facebook_user_id`` values; ``hashtags`` and ``company_domains``
are not used for calls (Facebook has no public post search) -- the records
carry what dbt needs to find them.

Streams and record shapes (Graph objects as returned + ``_`` annotations):

* ``pages`` (key ``id``): ``GET /{page}?fields=id,name,username,link,fan_count,followers_count``
  -> ``{"id", "name", "username", "link", "fan_count", "followers_count"}``
  (Graph omits fields it has no value for) + ``_role: "company"``,
  ``_audience`` (``followers_count``, else ``fan_count``, else None).
* ``users`` (key ``id``): each advocate with a token, ``GET /{user}?fields=id,name,friends.limit(0)``
  -> ``{"id", "name", "friends": {"data": [], "summary": {"total_count": N}}}`` +
  ``_role: "advocate"``, ``_audience`` (friends ``total_count``; None if the
  ``user_friends`` permission is missing and Graph omits ``friends``).
* ``posts`` (key ``id``, time ``created_time`` like ``2026-03-04T10:15:00+0000``):
  Post objects with the fields ``POST_FIELDS``: ``id`` (``<owner id>_<n>``),
  ``created_time``, ``updated_time``, ``message`` (**absent** for a pure
  share or a post without text), ``message_tags`` ([{id, name, type, offset,
  length}], absent when none), ``permalink_url``, ``status_type``, ``from``
  ({name, id}), ``parent_id`` (the shared post, shares only), ``shares``
  ({count}, **absent when 0**), ``reactions`` / ``comments``
  ({"data": [], "summary": {"total_count": N, ...}}), ``attachments``
  ({"data": [{type, url, unshimmed_url, title}]}, link posts only); plus:

  - ``_found_via``: ``"page"`` (the Page's ``/posts``), ``"page_tagged"``
    (``/{page}/tagged``: others' posts tagging the Page), ``"member_timeline"``
    (an advocate's ``/posts`` with their token), ``"lookup"`` (metric refresh of
    a lookback id); ``_also_found_via``: later phases that found it again
    (e.g. an advocate's post tagging the Page: ``member_timeline`` +
    ``["page_tagged"]``);
  - ``_author_id`` (``from.id``, else the id's owner part), ``_author_role``
    (``company`` | ``advocate`` | ``other``), ``_author_employee_handle`` (the
    roster ``facebook_user_id`` for advocates, else None);
  - ``_hashtags`` (lower-case, no ``#``, from ``message``), ``_mentions_company``
    (``message_tags`` names a company Page), ``_links`` (URLs in ``message`` +
    attachments' ``unshimmed_url``), ``_reshare_of`` (``parent_id`` when it is a
    company Page's post, else None), ``_is_pure_reshare`` (``parent_id`` and no
    ``message``);
  - counters: ``_likes`` (reactions ``total_count``), ``_comments``, ``_shares``
    (``shares.count``, 0 when Graph omitted it), ``_impressions`` (Page posts:
    the first available of ``impressions_metrics``; None for personal posts,
    which have no insights), ``_insights`` (Page posts: ``{metric: lifetime
    value}`` of the ``insight_metrics`` still valid, else None),
    ``_insights_dropped`` (metrics Graph rejected as retired/invalid this run).

* ``post_errors`` (key ``id``): lookback ids Graph no longer returns:
  ``{"id", "error": {message, code, ...}, "_found_via": "lookup",
  "_error_kind": "not_found" | "not_authorized"}``.
* ``member_errors`` (key ``member``): advocates whose posts could not be read:
  ``{"member": facebook_user_id, "_error_kind": "no_token" | "token_expired" |
  "permission" | "error", "error": {message, code, error_subcode} | None,
  "_action": what to do}``. A member's token problem never fails the run;
  a problem with the connection's own (Page) token does.

Phases: (1) Pages; (2) Page posts in ``[window_start, window_end)`` (time-based
paging: the ``next`` link drops ``since``, so paging stops at the first page
reaching past the window); (3) per advocate with a token: profile + own posts
in the window; (4) ``/tagged`` in the window; (5) insights of the Page
posts found, 50 ids per request (``?ids=...&fields=insights.metric(...)``); a
retired metric (``(#100) ... valid insights metric``) is found by asking each
metric once, dropped with a warning and the rest kept; (6) lookback ids not
seen yet, 50 per multi-id request with the owner's token (Page token for Page
posts and posts tagging it, the member's token for theirs); ids Graph reports
as missing (``#803``) become ``post_errors`` and the batch is retried without
them.

Credentials (connection ``facebook_graph``): ``host``, ``password`` = Page
access token (``pages_read_engagement``, ``pages_read_user_content``,
``read_insights``), extra ``api_version``, ``member_tokens``: ``{"<facebook_user_id>":
"<user access token>"}`` for advocates who granted ``user_posts`` (+
``user_friends`` for audience) -- stored in the connection's extra, which
Airflow encrypts; never logged. Also ``insight_metrics`` (default
``["post_media_view", "post_total_media_view_unique"]``), ``impressions_metrics``
(order of preference, default ``["post_media_view"]``),
``page_size`` (posts per listing page, 100 = Graph's maximum), and the client
keys of :mod:`advocacy.connectors.graph`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, Unpack

from advocacy.connectors import base
from advocacy.connectors.base import ExtractArgs, ExtractResult, as_list, chunks, distinct
from advocacy.connectors.graph import (
    MAX_IDS,
    GraphAuthError,
    GraphClient,
    GraphError,
    GraphPermissionError,
    missing_aliases,
)

log = logging.getLogger(__name__)

# stated once, in the platform registry (advocacy/platforms.py)
STREAMS, POSTS_STREAM, ROSTER_HANDLE_COLUMN = base.declared_streams("facebook")

PAGE = 100
POST_FIELDS = (
    "id,created_time,updated_time,message,message_tags,permalink_url,status_type,from,parent_id,shares,"
    "reactions.summary(true).limit(0),comments.summary(true).limit(0),"
    "attachments{type,url,unshimmed_url,title}"
)
PAGE_FIELDS = "id,name,username,link,fan_count,followers_count"
USER_FIELDS = "id,name,friends.limit(0)"
# Meta retired post_impressions_unique (2025-06-15) and post_impressions (2025-11-15) for every
# API version; their documented successors are the "views" metrics (docs/platforms/facebook.md)
DEFAULT_INSIGHT_METRICS = ("post_media_view", "post_total_media_view_unique")
DEFAULT_IMPRESSIONS_METRICS = ("post_media_view",)
_INVALID_METRIC = "valid insights metric"


def parse_graph_time(value: str | None) -> dt.datetime | None:
    """``2021-07-09T19:09:52+0000`` (Graph) -> aware UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def summary_count(obj: Any) -> int | None:
    """``{"data": [], "summary": {"total_count": N}}`` -> N (None when absent)."""
    if isinstance(obj, dict):
        value = (obj.get("summary") or {}).get("total_count")
        return None if value is None else int(value)
    return None


def insight_values(insights: Any) -> dict[str, Any]:
    """``{"data": [{"name", "values": [{"value"}]}]}`` -> ``{name: lifetime value}``."""
    out: dict[str, Any] = {}
    for item in (insights or {}).get("data") or []:
        values = item.get("values") or []
        if item.get("name") and values:
            out[item["name"]] = values[-1].get("value")
    return out


def annotate(
    post: dict,
    found_via: str,
    *,
    page_ids: set[str],
    advocates: set[str],
) -> dict:
    """A Graph Post object + the connector's ``_`` annotations (see the module docstring)."""
    rec = dict(post)
    message = post.get("message") or ""
    author = (post.get("from") or {}).get("id") or str(post.get("id", "")).split("_", 1)[0]
    role = "company" if author in page_ids else "advocate" if author in advocates else "other"
    links = base.urls_in(message)
    for att in (post.get("attachments") or {}).get("data") or []:
        url = att.get("unshimmed_url") or att.get("url")
        if url and url not in links:
            links.append(url)
    parent = post.get("parent_id")
    rec["_found_via"] = found_via
    rec["_also_found_via"] = []
    rec["_author_id"] = author
    rec["_author_role"] = role
    rec["_author_employee_handle"] = author if role == "advocate" else None
    rec["_hashtags"] = base.hashtags_in(message)
    rec["_mentions_company"] = any(str(t.get("id")) in page_ids for t in post.get("message_tags") or [])
    rec["_links"] = links
    rec["_reshare_of"] = parent if parent and str(parent).split("_", 1)[0] in page_ids else None
    rec["_is_pure_reshare"] = bool(parent) and not message.strip()
    rec["_likes"] = summary_count(post.get("reactions"))
    rec["_comments"] = summary_count(post.get("comments"))
    rec["_shares"] = int((post.get("shares") or {}).get("count", 0))
    rec["_impressions"] = None
    rec["_insights"] = None
    rec["_insights_dropped"] = []
    return rec


class _Run(base.ExtractRun):
    def __init__(self, gc: GraphClient, progress, page_ids: set[str], advocates: set[str]):
        self.gc = gc
        super().__init__(progress)
        self.page_ids = page_ids
        self.advocates = advocates
        self.pages: list[dict] = []
        self.users: list[dict] = []
        self.posts: dict[str, dict] = {}
        self.post_errors: list[dict] = []
        self.member_errors: list[dict] = []
        extra = gc.extra
        self.metrics = as_list(extra.get("insight_metrics"), DEFAULT_INSIGHT_METRICS)
        self.impression_metrics = as_list(extra.get("impressions_metrics"), DEFAULT_IMPRESSIONS_METRICS)
        self.dropped: list[str] = []
        self.metrics_checked = False
        self.page_size = max(1, min(PAGE, int(extra.get("page_size", PAGE))))

    def need(self, phase: str, records: int, page: int | None = None) -> None:
        self.gc.stats.need(phase, max(1, math.ceil(records / (page or self.page_size))))

    def add(self, post: dict, found_via: str, phase: str) -> bool:
        pid = str(post.get("id") or "")
        if not pid or base.known_record(self.posts, pid, found_via, self.gc.stats, phase) is not None:
            return False
        self.posts[pid] = annotate(post, found_via, page_ids=self.page_ids, advocates=self.advocates)
        return True

    def member_error(self, member: str, kind: str, exc: GraphError | None, action: str) -> None:
        error = None
        if exc is not None:
            error = {
                "message": exc.error.get("message") or str(exc),
                "code": exc.code,
                "error_subcode": exc.subcode,
            }
        self.member_errors.append(base.member_error(member, kind, error, action))

    # ----------------------------------------------------------------- phases
    def read_pages(self, handles: list[str]) -> None:
        gc = self.gc
        gc.phase = "pages"
        for handle in handles:
            body = gc.request(handle, {"fields": PAGE_FIELDS}, what=f"Page {handle}", endpoint="page")
            rec = dict(body)
            rec["_role"] = "company"
            rec["_audience"] = body.get("followers_count", body.get("fan_count"))
            self.pages.append(rec)
            self.page_ids.add(str(body.get("id") or handle))
            self.need("pages", 1, 1)
        log.info("facebook pages: %s read", len(self.pages))

    def listing(
        self,
        path: str,
        found_via: str,
        phase: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        token: str | None = None,
        who: str | None = None,
        endpoint: str,
    ) -> int:
        """Posts of one listing within [start, end): newest first, stop past the window."""
        gc = self.gc

        def still_in_window(body: dict) -> bool:
            times = [parse_graph_time(p.get("created_time")) for p in body.get("data") or []]
            return not any(t is not None and t < start for t in times)

        args = {
            "fields": POST_FIELDS,
            "since": str(int(start.timestamp())),
            "until": str(int(end.timestamp())),
            "limit": str(self.page_size),
        }
        n = 0
        for body in gc.pages(
            path,
            args,
            token=token,
            what=f"{found_via} {path}",
            endpoint=endpoint,
            who=who,
            keep_going=still_in_window,
        ):
            for post in body.get("data") or []:
                created = parse_graph_time(post.get("created_time"))
                if created is None or not start <= created < end:
                    continue
                n += 1
                self.add(post, found_via, phase)
        self.need(phase, n)
        return n

    def members(self, handles: list[str], tokens: dict[str, str], start, end) -> None:
        gc = self.gc
        gc.phase = "members"
        with_token = 0
        for i, handle in enumerate(handles, start=1):
            token = tokens.get(handle)
            if not token:
                self.member_error(
                    handle,
                    "no_token",
                    None,
                    f"the advocate has not granted access: add their user token to extra.member_tokens "
                    f"of connection '{gc.conn_id}' (posts tagging the Page are still found)",
                )
                continue
            with_token += 1
            try:
                body = gc.request(
                    handle,
                    {"fields": USER_FIELDS},
                    token=token,
                    what="member profile",
                    endpoint="user",
                    who=handle,
                )
                self.need("members", 1, 1)
                rec = dict(body)
                rec["_role"] = "advocate"
                rec["_audience"] = summary_count(body.get("friends"))
                self.users.append(rec)
                self.listing(
                    f"{handle}/posts",
                    "member_timeline",
                    "members",
                    start,
                    end,
                    token=token,
                    who=handle,
                    endpoint="user_posts",
                )
            except GraphAuthError as exc:
                log.warning(
                    "facebook: the token of member %s is invalid or expired (code %s)", handle, exc.code
                )
                self.member_error(
                    handle,
                    "token_expired",
                    exc,
                    f"ask the advocate to sign in to the app again and replace their entry in "
                    f"extra.member_tokens of connection '{gc.conn_id}'",
                )
            except GraphPermissionError as exc:
                log.warning("facebook: member %s's token lacks a permission (code %s)", handle, exc.code)
                self.member_error(
                    handle, "permission", exc, "the advocate must grant user_posts (and user_friends) again"
                )
            if i % 50 == 0 or i == len(handles):
                self.say(f"facebook members: {i}/{len(handles)} read, {len(self.posts)} posts")
        log.info(
            "facebook members: %s advocates, %s with a token, %s errors",
            len(handles),
            with_token,
            len(self.member_errors),
        )

    def _insights_field(self) -> str:
        return f"insights.metric({','.join(self.metrics)})"

    def check_metrics(self, sample_id: str) -> None:
        """Ask each metric once on one post: keep the valid ones, drop retired ones with a warning."""
        if self.metrics_checked:
            return
        self.metrics_checked = True
        gc = self.gc
        valid = []
        for metric in self.metrics:
            try:
                gc.request(
                    "",
                    {"ids": sample_id, "fields": f"id,insights.metric({metric})"},
                    what=f"insight metric {metric}",
                    endpoint="insights",
                )
                valid.append(metric)
            except GraphError as exc:
                if _INVALID_METRIC not in str(exc):
                    raise
                self.dropped.append(metric)
                log.warning(
                    "facebook: Graph rejects insight metric %r (retired or invalid): dropped, the other "
                    "metrics are kept; remove it from extra.insight_metrics of connection '%s'",
                    metric,
                    gc.conn_id,
                )
        gc.stats.notes.append(f"insight metrics dropped: {', '.join(self.dropped) or 'none'}")
        self.metrics = valid

    def multi(self, ids: list[str], fields_fn: Callable[[], str], *, token=None, who=None, what: str) -> dict:
        """A multi-id read that survives #803 (ids gone) and retired insight metrics."""
        gc = self.gc
        ids = list(ids)
        while ids:
            try:
                return gc.request(
                    "",
                    {"ids": ",".join(ids), "fields": fields_fn()},
                    token=token,
                    what=what,
                    endpoint="multi",
                    who=who,
                )
            except GraphError as exc:
                gone = [i for i in missing_aliases(str(exc)) if i in ids]
                if exc.code == 803 and gone:
                    for pid in gone:
                        self.post_errors.append(
                            {
                                "id": pid,
                                "error": exc.error,
                                "_found_via": "lookup",
                                "_error_kind": "not_found",
                            }
                        )
                    ids = [i for i in ids if i not in gone]
                    continue
                if _INVALID_METRIC in str(exc) and not self.metrics_checked:
                    self.check_metrics(ids[0])
                    continue
                if exc.code == 100 and exc.subcode == 33:
                    # "Object ... does not exist, cannot be loaded due to missing permissions":
                    # Graph does not say which id nor which of the two, so it is not a deletion;
                    # read the ids one by one and keep the refused ones (not_authorized)
                    if len(ids) == 1:
                        self.post_errors.append(
                            {
                                "id": ids[0],
                                "error": exc.error,
                                "_found_via": "lookup",
                                "_error_kind": "not_authorized",
                            }
                        )
                        return {}
                    merged: dict = {}
                    for one in ids:
                        merged.update(self.multi([one], fields_fn, token=token, who=who, what=what))
                    return merged
                raise
        return {}

    def apply_insights(self, rec: dict, insights: Any) -> None:
        values = insight_values(insights)
        rec["_insights"] = values if self.metrics else None
        rec["_insights_dropped"] = list(self.dropped)
        rec["_impressions"] = next(
            (int(values[m]) for m in self.impression_metrics if isinstance(values.get(m), int | float)), None
        )

    def insights(self) -> None:
        gc = self.gc
        gc.phase = "insights"
        ids = [pid for pid, rec in self.posts.items() if rec["_author_role"] == "company"]
        for batch in chunks(ids, MAX_IDS):
            if not self.metrics:
                break
            body = self.multi(list(batch), lambda: f"id,{self._insights_field()}", what="Page post insights")
            for pid, obj in body.items():
                if pid in self.posts and isinstance(obj, dict):
                    self.apply_insights(self.posts[pid], obj.get("insights"))
            self.need("insights", len(batch), MAX_IDS)
        if not self.metrics:
            for pid in ids:
                self.posts[pid]["_insights_dropped"] = list(self.dropped)
        log.info(
            "facebook insights: %s Page posts (%s requests)", len(ids), gc.stats.phase("insights")["requests"]
        )

    def refresh(self, ids: Iterable[str], tokens: dict[str, str]) -> None:
        gc = self.gc
        gc.phase = "lookup"
        todo = [i for i in dict.fromkeys(str(i) for i in ids) if i and i not in self.posts]
        groups: dict[tuple[str, str | None], list[str]] = {}
        for pid in todo:
            owner = pid.split("_", 1)[0]
            if owner in self.page_ids:
                key = ("page", None)  # Page posts: Page token, with insights
            elif owner in tokens:
                key = ("member", owner)  # the member's own token
            else:
                key = ("tagged", None)  # others' posts tagging the Page: Page token
            groups.setdefault(key, []).append(pid)
        for (kind, member), pids in groups.items():
            token = tokens.get(member) if member else None
            page_owned = kind == "page"
            for batch in chunks(pids, MAX_IDS):

                def fields(page_owned=page_owned) -> str:
                    return POST_FIELDS + (f",{self._insights_field()}" if page_owned and self.metrics else "")

                try:
                    body = self.multi(list(batch), fields, token=token, who=member, what="lookback refresh")
                except GraphPermissionError as exc:
                    for pid in batch:
                        self.post_errors.append(
                            {
                                "id": pid,
                                "error": exc.error,
                                "_found_via": "lookup",
                                "_error_kind": "not_authorized",
                            }
                        )
                    continue
                except GraphAuthError as exc:
                    if member is None:
                        raise
                    self.member_error(member, "token_expired", exc, "renew the member's token")
                    continue
                self.need("lookup", len(batch), MAX_IDS)
                for pid, obj in body.items():
                    if isinstance(obj, dict) and self.add(obj, "lookup", "lookup"):
                        rec = self.posts[str(obj.get("id") or pid)]
                        if rec["_author_role"] == "company" and "insights" in obj:
                            self.apply_insights(rec, obj.pop("insights"))
                            rec.pop("insights", None)
        log.info(
            "facebook lookup: %s lookback posts refreshed, %s gone (%s requests)",
            sum(1 for r in self.posts.values() if r["_found_via"] == "lookup"),
            len(self.post_errors),
            gc.stats.phase("lookup")["requests"],
        )


def extract(conn: Any, **args: Unpack[ExtractArgs]) -> ExtractResult:
    """Extract one window from Facebook (see the module docstring for streams and phases).

    Raises :class:`~advocacy.connectors.graph.GraphAuthError` (the Page token),
    :class:`~advocacy.connectors.graph.GraphPermissionError`,
    :class:`~advocacy.connectors.graph.GraphRateLimitError` or
    :class:`~advocacy.connectors.graph.GraphError`, each naming the connection
    and carrying the Graph error code.
    """
    r = base.ExtractRequest.of(args)
    gc = GraphClient(conn, "Facebook", r.checkpoint)
    tokens = base.member_tokens_of(conn)
    pages = distinct(r.company_handles)
    advocates = [h for h in distinct(r.advocate_usernames) if h not in pages]
    run = _Run(gc, r.progress, set(pages), set(advocates))
    started = time.monotonic()
    with_token = sum(1 for a in advocates if a in tokens)
    whom = f"{len(pages)} Pages, {len(advocates)} advocates ({with_token} with a token)"
    lookbacks = len(r.lookback_ids or [])
    base.log_extract_start(
        log, "facebook", gc.host, whom, r.window_start, r.window_end, lookbacks, f" (Graph v{gc.version})"
    )
    run.read_pages(pages)
    gc.phase = "page_posts"
    for page in list(run.page_ids):
        run.listing(
            f"{page}/posts", "page", "page_posts", r.window_start, r.window_end, endpoint="page_posts"
        )
    run.members(advocates, tokens, r.window_start, r.window_end)
    gc.phase = "tagged"
    for page in list(run.page_ids):
        run.listing(
            f"{page}/tagged", "page_tagged", "tagged", r.window_start, r.window_end, endpoint="tagged"
        )
    run.say(f"facebook: {len(run.posts)} posts from the Page, advocates and tags")
    run.insights()
    run.refresh(r.lookback_ids or [], tokens)
    kinds: dict[str, int] = {}
    for e in run.member_errors:
        kinds[e["_error_kind"]] = kinds.get(e["_error_kind"], 0) + 1
    with_api = len(advocates) - sum(kinds.values())
    gc.stats.coverage = f"{with_api} of {len(advocates)} Facebook advocates covered by API data"
    if kinds:
        gc.stats.gaps.append(
            f"{sum(kinds.values())} Facebook advocates without API data ("
            + ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))
            + "): their posts come from self-reports and posts tagging the Page"
        )
    refused = sum(1 for e in run.post_errors if e["_error_kind"] != "not_found")
    if refused:
        gc.stats.gaps.append(f"{refused} known posts could not be refreshed; they keep their last counters")
    return base.finish_extract(base.collect(run, STREAMS), gc.stats, r.checkpoint, "facebook", started)


def probe(settings: Any, platform_settings: Any) -> list:
    """``advocacy check``: ``GET /{page}?fields=id,name,followers_count`` with the Page token
    (token, permissions, Graph version expiry, usage headroom; docs/platforms/facebook.md)."""
    from advocacy.connectors.graph import probe_graph

    handles = list(getattr(platform_settings, "company_handles", None) or [])
    return probe_graph(
        platform_settings,
        "Facebook",
        handles[0] if handles else None,
        "id,name,followers_count",
        "pages_read_engagement, pages_read_user_content and read_insights",
    )

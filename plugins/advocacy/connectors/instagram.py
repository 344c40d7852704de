"""Instagram connector (Graph API through facebook-sdk): the company account's media,
advocates' professional accounts through business discovery, and programme hashtag search.

``extract(conn, ...)`` returns ``{stream: [record, ...]}`` for every stream of
``STREAMS`` (an :class:`~advocacy.connectors.base.ExtractResult` with
``.stats``). ``company_handles`` are Instagram **business account ids** (the
``user_id`` every hashtag call needs); ``advocate_usernames`` are roster
``instagram_username`` values; ``hashtags`` are searched (``#`` optional);
``company_domains`` is not used for calls.

Streams and record shapes (Graph objects as returned + ``_`` annotations):

* ``accounts`` (key ``id``): the company account
  (``GET /{ig-user}?fields=id,username,name,followers_count,follows_count,media_count``)
  and every advocate's account as business discovery returned it
  (``id``, ``username``, ``name``, ``followers_count``, ``follows_count``,
  ``media_count``; its ``media`` moved to the ``media`` stream) +
  ``_role`` (``company`` | ``advocate``), ``_audience`` (``followers_count``),
  and for advocates ``_handle`` (the roster ``instagram_username`` asked for).
* ``media`` (key ``id``, time ``timestamp`` like ``2026-03-04T10:15:00+0000``):
  IG Media objects: ``id``, ``caption`` (absent without text),
  ``media_type`` (IMAGE / VIDEO / CAROUSEL_ALBUM), ``media_product_type``,
  ``comments_count``, ``like_count`` (**absent when the owner hides likes**),
  ``permalink``, ``timestamp``, and ``username`` only for the company's own
  media (hashtag media never have it); plus:

  - ``_found_via``: ``"company_media"`` | ``"business_discovery"`` |
    ``"hashtag"`` (first phase that found it); ``_also_found_via`` (later
    phases, e.g. an advocate's hashtag post: ``business_discovery`` +
    ``["hashtag"]``); ``_hashtag_ids``: the hashtag ids whose recent media
    listed it (empty if none);
  - ``_author_username`` (from the company listing or business discovery;
    **None** for media only the hashtag search returned -- the API does not say
    who posted them), ``_author_role`` (``company`` | ``advocate`` |
    ``unknown``), ``_author_employee_handle`` (the roster
    ``instagram_username`` for advocates, else None);
  - ``_hashtags`` (lower-case, from ``caption``), ``_mentions_company``
    (``@<company username>`` in the caption), ``_links`` (URLs written in the
    caption), ``_reshare_of`` (None: no reshares on Instagram),
    ``_is_pure_reshare`` (false);
  - counters: ``_likes`` (``like_count`` or None when hidden), ``_likes_hidden``
    (bool), ``_comments``, ``_shares`` (None: not in the API),
    ``_impressions`` (None: not read).

* ``hashtags`` (key ``id``): ``{"id"}`` from ``ig_hashtag_search`` (some API
  versions add ``name``) + ``_query`` (the hashtag searched, without ``#``).
* ``account_errors`` (key ``username``): advocates business discovery could
  not read (``code`` 110: not a professional account, or renamed):
  ``{"username", "error": {message, code, error_subcode, ...}, "_error_kind":
  "not_found_or_personal" | "error"}``. Their hashtag media still come in,
  without an author: a pipeline counts them as community posts.

Phases: (1) company accounts; (2) the company's media back to the refresh
horizon (cursor paging); (3) business discovery of each advocate, nested
media paged back to the horizon (``media.after(cursor)``); (4) per hashtag:
``ig_hashtag_search`` then ``/{hashtag}/recent_media`` (50 per page, the
**last 24 hours** only, not chronological; the last page has no ``paging``,
and a repeated ``after`` cursor ends the listing).

Counters of older media are refreshed by reading the company's and
advocates' media back to the horizon ``min(window_start, window_end -
lookback_days)``; ``lookback_ids`` only feed ``stats.notes`` (how many were
not seen again: hashtag-only community media cannot be re-read, and
``recent_media`` forgets them after 24 hours).

Credentials (connection ``instagram_graph``, or the same token as
``facebook_graph``): ``host``, ``password`` = a token of the Page linked to
the business account (``instagram_basic``, ``instagram_manage_insights``,
``pages_read_engagement``, and the *Instagram Public Content Access* feature
for hashtag search; at most 30 distinct hashtags per 7 days per account).
Extra: ``api_version``, ``lookback_days`` (30), ``recent_media_limit`` (50),
``media_page_limit`` (100), and the client keys of :mod:`advocacy.connectors.graph`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import time
from typing import Any, Unpack

from advocacy.connectors import base
from advocacy.connectors.base import CursorRepeats, ExtractResult, distinct_handles, safe_url
from advocacy.connectors.facebook import parse_graph_time
from advocacy.connectors.graph import GraphClient, GraphError

log = logging.getLogger(__name__)

# stated once, in the platform registry (advocacy/platforms.py)
STREAMS, POSTS_STREAM, ROSTER_HANDLE_COLUMN = base.declared_streams("instagram")

MEDIA_FIELDS = "id,caption,media_type,media_product_type,comments_count,like_count,permalink,timestamp"
ACCOUNT_FIELDS = "id,username,name,followers_count,follows_count,media_count"
MAX_RECENT = 50
MAX_MEDIA = 100
MAX_HASHTAGS = 30  # unique hashtags per Instagram business account per 7 days (documented limit)


def annotate(
    media: dict, found_via: str, *, author: str | None, role: str, company_username: str | None
) -> dict:
    """An IG Media object + the connector's ``_`` annotations (see the module docstring)."""
    rec = dict(media)
    caption = media.get("caption") or ""
    rec["_found_via"] = found_via
    rec["_also_found_via"] = []
    rec["_hashtag_ids"] = []
    rec["_author_username"] = author
    rec["_author_role"] = role
    rec["_author_employee_handle"] = author if role == "advocate" else None
    rec["_hashtags"] = base.hashtags_in(caption)
    mention = f"@{company_username.lower()}" if company_username else None
    rec["_mentions_company"] = bool(mention) and mention in caption.lower()
    rec["_links"] = base.urls_in(caption)
    rec["_reshare_of"] = None
    rec["_is_pure_reshare"] = False
    likes = media.get("like_count")
    rec["_likes"] = None if likes is None else int(likes)
    rec["_likes_hidden"] = "like_count" not in media
    comments = media.get("comments_count")
    rec["_comments"] = None if comments is None else int(comments)
    rec["_shares"] = None
    rec["_impressions"] = None
    return rec


class _Run(base.ExtractRun):
    def __init__(self, gc: GraphClient, progress):
        self.gc = gc
        super().__init__(progress)
        self.accounts: list[dict] = []
        self.media: dict[str, dict] = {}
        self.hashtags: list[dict] = []
        self.account_errors: list[dict] = []
        self.company_username: str | None = None
        self.advocates: dict[str, str] = {}  # lower(username) -> roster spelling

    def need(self, phase: str, records: int, page: int) -> None:
        self.gc.stats.need(phase, max(1, math.ceil(records / page)))

    def add(self, media: dict, found_via: str, phase: str, *, author: str | None = None) -> dict | None:
        mid = str(media.get("id") or "")
        if not mid:
            return None
        known = base.known_record(self.media, mid, found_via, self.gc.stats, phase)
        if known is not None:
            return known
        name = author or media.get("username")
        if name is None:
            role = "unknown"
        elif self.company_username and name.lower() == self.company_username.lower():
            role = "company"
        elif name.lower() in self.advocates:
            role, name = "advocate", self.advocates[name.lower()]
        else:
            role = "unknown"
        rec = annotate(media, found_via, author=name, role=role, company_username=self.company_username)
        self.media[mid] = rec
        return rec

    # ----------------------------------------------------------------- phases
    def company(self, ig_id: str, horizon: dt.datetime, end: dt.datetime, page_limit: int) -> None:
        gc = self.gc
        gc.phase = "company"
        body = gc.request(ig_id, {"fields": ACCOUNT_FIELDS}, what="company account", endpoint="account")
        rec = dict(body)
        rec["_role"] = "company"
        rec["_audience"] = body.get("followers_count")
        self.accounts.append(rec)
        self.company_username = self.company_username or body.get("username")
        self.need("company", 1, 1)

        def keep_going(page: dict) -> bool:
            times = [parse_graph_time(m.get("timestamp")) for m in page.get("data") or []]
            return not any(t is not None and t < horizon for t in times)

        n = 0
        args = {
            "fields": MEDIA_FIELDS + ",username",
            "limit": str(page_limit),
            "since": str(int(horizon.timestamp())),
            "until": str(int(end.timestamp())),
        }
        for page in gc.pages(
            f"{ig_id}/media", args, what="company media", endpoint="media", keep_going=keep_going
        ):
            for m in page.get("data") or []:
                t = parse_graph_time(m.get("timestamp"))
                if t is not None and horizon <= t < end:
                    n += 1
                    self.add(m, "company_media", "company", author=body.get("username"))
        self.need("company", n, page_limit)

    def discover(self, ig_id: str, usernames: list[str], horizon, end, page_limit: int) -> None:
        gc = self.gc
        gc.phase = "business_discovery"
        for i, username in enumerate(usernames, start=1):
            after = None
            seen: set[str] = set()
            n = 0
            first = True
            repeats = CursorRepeats(gc.stats.notes, f"business discovery of {username}", "Instagram")
            while True:
                media = f"media.limit({page_limit})" + (f".after({after})" if after else "")
                fields = (
                    f"business_discovery.username({username}){{{ACCOUNT_FIELDS},{media}{{{MEDIA_FIELDS}}}}}"
                )
                try:
                    with gc.checkpoint.bypass(repeats.active) if gc.checkpoint else contextlib.nullcontext():
                        body = gc.request(
                            ig_id, {"fields": fields}, what="business discovery", endpoint="discovery"
                        )
                except GraphError as exc:
                    if exc.code != 110 and exc.subcode != 2207013:
                        raise
                    self.account_errors.append(
                        {
                            "username": username,
                            "error": exc.error,
                            "_error_kind": "not_found_or_personal",
                        }
                    )
                    break
                found = body.get("business_discovery") or {}
                if first:
                    rec = {k: v for k, v in found.items() if k != "media"}
                    rec["_role"] = "advocate"
                    rec["_audience"] = found.get("followers_count")
                    rec["_handle"] = username
                    self.accounts.append(rec)
                    first = False
                block = found.get("media") or {}
                older = False
                for m in block.get("data") or []:
                    t = parse_graph_time(m.get("timestamp"))
                    if t is not None and t < horizon:
                        older = True
                        continue
                    if t is not None and t < end:
                        n += 1
                        self.add(m, "business_discovery", "business_discovery", author=username)
                nxt = ((block.get("paging") or {}).get("cursors") or {}).get("after")
                if older or not nxt or not block.get("data"):
                    break
                if nxt in seen:  # an earlier page came back: ask again for the one wanted
                    if repeats.again():
                        continue
                    break
                repeats.advanced()
                seen.add(nxt)
                after = nxt
            self.need("business_discovery", n, page_limit)
            if i % 50 == 0 or i == len(usernames):
                self.say(f"instagram business discovery: {i}/{len(usernames)}, {len(self.media)} media")
        log.info(
            "instagram business discovery: %s advocates, %s accounts read, %s not discoverable (%s requests)",
            len(usernames),
            sum(1 for a in self.accounts if a["_role"] == "advocate"),
            len(self.account_errors),
            gc.stats.phase("business_discovery")["requests"],
        )

    def hashtag_search(self, ig_id: str, tags: list[str], limit: int) -> None:
        gc = self.gc
        gc.phase = "hashtag"
        for tag in tags:
            body = gc.request(
                "ig_hashtag_search",
                {"user_id": ig_id, "q": tag},
                what="hashtag search",
                endpoint="hashtag_search",
            )
            data = body.get("data")
            found = (
                data if isinstance(data, list) else [body] if body.get("id") else []
            )  # older guides: bare {id}
            self.need("hashtag", 1, 1)
            for h in found:
                hid = str(h.get("id") or "")
                if not hid:
                    continue
                rec = dict(h)
                rec["_query"] = tag
                self.hashtags.append(rec)
                n = 0
                args = {"user_id": ig_id, "fields": MEDIA_FIELDS, "limit": str(limit)}
                for page in gc.pages(
                    f"{hid}/recent_media", args, what=f"recent media #{tag}", endpoint="recent_media"
                ):
                    for m in page.get("data") or []:
                        n += 1
                        rec_m = self.add(m, "hashtag", "hashtag")
                        if rec_m is not None and hid not in rec_m["_hashtag_ids"]:
                            rec_m["_hashtag_ids"].append(hid)
                self.need(
                    "hashtag", len({m for m in self.media if hid in self.media[m]["_hashtag_ids"]}), limit
                )
        log.info(
            "instagram hashtags: %s searched, %s media (%s only from the search), %s requests",
            len(tags),
            sum(1 for m in self.media.values() if m["_hashtag_ids"]),
            sum(1 for m in self.media.values() if m["_found_via"] == "hashtag"),
            gc.stats.phase("hashtag")["requests"],
        )


def extract(conn: Any, **args: Unpack[base.ExtractArgs]) -> ExtractResult:
    """Extract one window from Instagram (see the module docstring for streams and phases)."""
    r = base.ExtractRequest.of(args)
    gc = GraphClient(conn, "Instagram", r.checkpoint)
    lookback_days = float(gc.extra.get("lookback_days", 30))
    horizon = min(r.window_start, r.window_end - dt.timedelta(days=lookback_days))
    recent_limit = max(1, min(MAX_RECENT, int(gc.extra.get("recent_media_limit", MAX_RECENT))))
    page_limit = max(1, min(MAX_MEDIA, int(gc.extra.get("media_page_limit", MAX_MEDIA))))
    accounts = distinct_handles(r.company_handles)
    if not accounts:
        raise GraphError(
            f"Instagram connection '{gc.conn_id}': company_handles must name the business account id",
            conn_id=gc.conn_id,
        )
    run = _Run(gc, r.progress)
    advocates = distinct_handles(r.advocate_usernames)
    run.advocates = {a.lower(): a for a in advocates}
    tags = distinct_handles(h.lstrip("#") for h in r.hashtags or [])
    # Instagram allows 30 unique r.hashtags per business account per 7 days (ig-hashtag-search
    # reference): asking for more fails once the quota is spent, so search the first 30 only
    tags, skipped_tags = tags[:MAX_HASHTAGS], tags[MAX_HASHTAGS:]
    started = time.monotonic()
    log.info(
        "instagram extract via %s (Graph v%s): %s accounts, %s advocates, %s hashtags, window %s .. %s "
        "(refresh horizon %s)",
        safe_url(gc.host),
        gc.version,
        len(accounts),
        len(advocates),
        len(tags),
        r.window_start.isoformat(),
        r.window_end.isoformat(),
        horizon.isoformat(),
    )
    for ig_id in accounts:
        run.company(ig_id, horizon, r.window_end, page_limit)
    main = accounts[0]
    run.discover(main, advocates, horizon, r.window_end, page_limit)
    run.hashtag_search(main, tags, recent_limit)
    not_seen = [i for i in dict.fromkeys(map(str, r.lookback_ids or [])) if i not in run.media]
    if not_seen:
        gc.stats.notes.append(
            f"{len(not_seen)} lookback media not seen again (hashtag-only media older than 24 h, deleted, "
            "or older than the refresh horizon)"
        )
    if run.account_errors:
        gc.stats.gaps.append(
            f"{len(run.account_errors)} Instagram advocates not discoverable (personal account or renamed): "
            "only their hashtag media come in, without an author"
        )
    if skipped_tags:
        gc.stats.gaps.append(
            f"hashtags beyond Instagram's {MAX_HASHTAGS} unique per 7 days not searched: "
            + ", ".join(skipped_tags)
        )
    return base.finish_extract(base.collect(run, STREAMS), gc.stats, r.checkpoint, "instagram", started)


def probe(settings: Any, platform_settings: Any) -> list:
    """``advocacy check``: ``GET /{ig-user-id}?fields=id,username,followers_count`` with the
    token (token, permissions, Graph version expiry, usage headroom), plus the documented
    limit of 30 unique hashtags per 7 days (docs/platforms/instagram.md)."""
    from advocacy.connectors.graph import probe_graph
    from advocacy.preflight import Finding

    handles = list(getattr(platform_settings, "company_handles", None) or [])
    findings = probe_graph(
        platform_settings,
        "Instagram",
        handles[0] if handles else None,
        "id,username,followers_count",
        "instagram_basic, instagram_manage_insights, pages_read_engagement and "
        "Instagram Public Content Access",
    )
    tags = distinct_handles(str(h).lstrip("#") for h in getattr(settings, "hashtags", None) or [])
    findings.append(
        Finding(
            "warn" if len(tags) > MAX_HASHTAGS else "ok",
            "instagram: hashtags",
            f"{len(tags)} programme hashtags (Instagram allows {MAX_HASHTAGS} unique per 7 days)",
            f"keep at most {MAX_HASHTAGS} hashtags; the others are not searched"
            if len(tags) > MAX_HASHTAGS
            else "",
        )
    )
    return findings

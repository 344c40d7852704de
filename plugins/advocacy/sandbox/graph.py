"""Graph API look-alike (Facebook Pages + Instagram) over the synthetic company, at ``/v<N.N>/...``.

Any version in the path is accepted (``/v21.0/``, ``/v24.0/``): Meta serves an expired
version as the oldest usable one. Shapes follow docs/platforms/facebook.md and
instagram.md (evidence in tests/fixtures/api): ids are strings, Facebook post ids are
``<owner>_<n>``, times are ``2026-03-04T10:15:00+0000``, counts
are nested summaries (``reactions.summary(true).limit(0)``), ``shares`` and
empty ``message`` are **omitted**, errors are ``{"error": {message, type,
code, [error_subcode], [is_transient], fbtrace_id}}``.

Endpoints (``:id`` is a Page, user, post, IG account, IG media or hashtag id):

* ``GET /vX/:id`` with ``fields`` (field expansion ``a.b(c){d}`` parsed;
  unknown fields -> error 100); ``me`` is the token's user.
  ``business_discovery.username(U){...,media.limit(n).after(c){...}}`` on the
  IG business account (professional accounts only, else error 110).
* ``GET /vX?ids=a,b&fields=...`` multi-id read (max 50; unknown or deleted ids
  fail the whole request with ``(#803) Some of the aliases you requested do not
  exist: ...``). ``insights.metric(m1,m2)`` as a field of Page posts; a
  retired metric fails the request with ``(#100) The value must be a valid
  insights metric``.
* ``GET /vX/:page/posts`` (**time-based** paging: ``paging.previous/next`` with
  ``since``/``until``/``__paging_token``; the ``next`` link drops ``since`` as the
  recording does, so a client must stop by itself), ``GET /vX/:user/posts``
  (the member's own token; **cursor** paging ``paging.cursors.before/after`` +
  ``next``), ``GET /vX/:page/tagged`` (posts of others tagging the Page,
  cursor paging), ``GET /vX/:ig-user/media`` (cursor paging).
* ``GET /vX/ig_hashtag_search?user_id=&q=`` -> ``{"data": [{"id": ...}]}``
  (ids static and global), ``GET /vX/:hashtag/recent_media?user_id=&fields=``:
  media of the **last 24 hours**, not chronological, at most 50 per page, no
  ``username`` field (error 100), ``like_count`` omitted when hidden; the last
  page has **no** ``paging`` key, or (for some hashtag/hour pairs) repeats the
  request's ``after`` cursor with a ``next`` that returns the same page again.

Tokens: the Page/system-user token (``sandbox-graph-token``) reads the Page, its
posts and tags, the IG account, its media and hashtags; a member token
(``sandbox-fb-member-<user id>``) reads that member's profile (``friends``
summary) and posts, and public Page posts. Expired tokens (server
``expired_tokens``) get code 190 subcode 463; unknown ones 190; none 104.
Responses carry ``x-app-usage`` and ``x-business-use-case-usage`` (JSON in a
string, percentages) once usage reaches 1 %; over the budget, code 4 with
``is_transient`` and ``estimated_time_to_regain_access`` (minutes).
Faults (``SandboxServer.inject_fault``): ``rate_limit_4/17/32/613``,
``token_expired``, ``permission_100``, ``transient_2`` and the generic ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request, Route, http_connection
from advocacy.sandbox.company import COMPANY_NAME, DOMAIN, HASHTAGS
from advocacy.sandbox.social import FB_PAGE_USERNAME, Account, PlatformWorld, SocialPost, hashtag_id

_VERSION = re.compile(r"v\d{1,2}\.\d{1,2}")
RATE_LIMITS = {  # calls per window per endpoint (the real budgets are per app/user/Page and hourly)
    "node": 600,
    "multi": 600,
    "page_posts": 600,  # /{page}/posts and /{user}/posts
    "tagged": 600,
    "ig_media": 600,
    "hashtag_search": 600,
    "recent_media": 600,
}
MAX_LIMIT = 100
MAX_RECENT = 50
MAX_IDS = 50
# retired for every API version (Meta's "Deprecated Page Insights Metrics": post_impressions_unique
# on 2025-06-15, post_impressions on 2025-11-15): asking for one is an invalid-metric error
RETIRED_METRICS = frozenset(
    {
        "post_impressions_unique",
        "post_impressions",
        "post_impressions_organic",
        "post_impressions_paid",
        "post_engaged_users",
        "post_impressions_fan",
    }
)
POST_METRICS = frozenset(
    {"post_media_view", "post_total_media_view_unique", "post_clicks", "post_reactions_by_type_total"}
)
FB_POST_FIELDS = frozenset(
    {
        "id",
        "message",
        "created_time",
        "updated_time",
        "permalink_url",
        "status_type",
        "from",
        "shares",
        "reactions",
        "comments",
        "message_tags",
        "parent_id",
        "attachments",
        "insights",
        "is_published",
        "full_picture",
        "icon",
        "picture",
        "story",
        "privacy",
    }
)
FB_PAGE_FIELDS = frozenset(
    {"id", "name", "fan_count", "followers_count", "link", "username", "category", "about"}
)
FB_USER_FIELDS = frozenset({"id", "name", "friends", "link", "short_name"})
IG_MEDIA_FIELDS = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "comments_count",
        "like_count",
        "permalink",
        "timestamp",
        "username",
        "media_url",
        "owner",
        "children",
        "is_comment_enabled",
        "shortcode",
    }
)
IG_USER_FIELDS = frozenset(
    {
        "id",
        "username",
        "name",
        "followers_count",
        "follows_count",
        "media_count",
        "biography",
        "profile_picture_url",
        "website",
        "business_discovery",
        "media",
        "ig_id",
    }
)
PERMISSION_100 = (
    "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable feature, or "
    "does not support this operation. This endpoint requires the 'pages_read_engagement' permission or "
    "the 'Page Public Content Access' feature or the 'Page Public Metadata Access' feature. Refer to "
    "https://developers.facebook.com/docs/apps/review/login-permissions#manage-pages, "
    "https://developers.facebook.com/docs/apps/review/feature#reference-PAGES_ACCESS and "
    "https://developers.facebook.com/docs/apps/review/feature#page-public-metadata-access for details."
)


class GraphError(Exception):
    def __init__(self, code: int, message: str, *, status: int = 400, subcode=None, transient=None, **extra):
        super().__init__(message)
        self.status = status
        body = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            body["error_subcode"] = subcode
        if transient is not None:
            body["is_transient"] = transient
        body.update(extra)
        body["fbtrace_id"] = "A" + hashlib.sha1(message.encode()).hexdigest()[:22]  # noqa: S324
        self.body = {"error": body}

    def reply(self) -> Reply:
        return Reply(self.status, self.body)


def no_object(obj_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported get request. Object with ID '{obj_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
    )


def no_field(name: str, node: str) -> GraphError:
    return GraphError(100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})")


# --------------------------------------------------------------------------- field expansion
@dataclass
class Field:
    name: str
    mods: dict[str, str] = field(default_factory=dict)
    sub: list[Field] | None = None


def parse_fields(text: str | None) -> list[Field]:
    """``id,reactions.summary(true).limit(0),media.limit(5){id,caption}`` -> fields."""
    text = (text or "").strip()
    pos = 0

    def parse_list(end: str | None) -> list[Field]:
        nonlocal pos
        out = []
        while pos < len(text):
            if end and text[pos] == end:
                pos += 1
                return out
            if text[pos] in ", ":
                pos += 1
                continue
            out.append(parse_one())
        if end:
            raise GraphError(2500, f"Syntax error \"Expected '{end}' instead of end of string.\"")
        return out

    def ident() -> str:
        nonlocal pos
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, pos)
        if not m:
            raise GraphError(2500, f'Syntax error "Expected field name at character {pos}."')
        pos = m.end()
        return m.group(0)

    def parse_one() -> Field:
        nonlocal pos
        f = Field(ident())
        while pos < len(text) and text[pos] == ".":
            pos += 1
            mod = ident()
            if pos >= len(text) or text[pos] != "(":
                raise GraphError(2500, f"Syntax error \"Expected '(' after modifier {mod}.\"")
            close = text.index(")", pos)
            f.mods[mod] = text[pos + 1 : close]
            pos = close + 1
        if pos < len(text) and text[pos] == "{":
            pos += 1
            f.sub = parse_list("}")
        return f

    return parse_list(None)


# --------------------------------------------------------------------------- helpers
def graph_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise GraphError(100, "(#100) Invalid cursor") from None


def _time_param(raw: str | None) -> float | None:
    """Graph accepts unix seconds or a strtotime()-like date; blank = unbounded."""
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if raw.lstrip("-").isdigit():
        return float(raw)
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        raise GraphError(100, f"(#100) The parameter since/until is not a valid time: {raw}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise GraphError(100, f"(#100) Param limit must be a number, got {raw}")
    return max(1, min(maximum, int(raw)))


def _shortcode(media_id: str) -> str:
    n, out = int(media_id), ""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    while n:
        n, r = divmod(n, 64)
        out = alphabet[r] + out
    return out[-11:]


class GraphRoute(Route):
    """A route whose first segment must be a Graph version (``v21.0``)."""

    def match(self, method: str, path: str) -> dict[str, str] | None:
        params = super().match(method, path)
        if params is None or not _VERSION.fullmatch(params.get("version", "")):
            return None
        return params


@dataclass
class Principal:
    kind: str  # "page" | "member"
    token: str
    account: Account | None = None  # the member's Facebook account


# --------------------------------------------------------------------------- platform
class GraphPlatform(Platform):
    name = "graph"
    prefix = "/v"
    paged_endpoints = frozenset({"page_posts", "tagged", "ig_media", "recent_media"})
    cursor_params = ("after", "before", "since", "until", "__paging_token", "__previous")
    page_size_params = ("limit",)
    continuation_params = ("after", "before", "__paging_token")

    def __init__(self, options: PlatformOptions):
        super().__init__(options)
        limits = {**RATE_LIMITS, **options.rate_limits}

        def r(pattern, endpoint, handler):
            return GraphRoute("GET", pattern, endpoint, handler, limits[endpoint])

        self.routes = [
            r("/:version/ig_hashtag_search", "hashtag_search", self.hashtag_search),
            r("/:version/:id/recent_media", "recent_media", self.recent_media),
            r("/:version/:id/posts", "page_posts", self.posts),
            r("/:version/:id/feed", "page_posts", self.posts),
            r("/:version/:id/tagged", "tagged", self.tagged),
            r("/:version/:id/media", "ig_media", self.ig_media),
            r("/:version/:id", "node", self.node),
            r("/:version", "multi", self.multi),
        ]
        self._hashtag_names = {hashtag_id(h): h.lstrip("#").lower() for h in HASHTAGS}

    # ----------------------------------------------------------------- dialect
    @staticmethod
    def _token(request: Request) -> str:
        token = request.query.get("access_token") or ""
        if not token:
            auth = request.headers.get("Authorization") or ""
            for scheme in ("Bearer ", "OAuth "):
                if auth.startswith(scheme):
                    token = auth[len(scheme) :].strip()
        return token

    def principal(self, request: Request) -> Principal:
        token = self._token(request)
        if not token:
            raise GraphError(104, "An access token is required to request this resource.")
        if token in self.options.expired_tokens:
            when = request.now - dt.timedelta(hours=5)
            raise GraphError(
                190,
                "Error validating access token: Session has expired on "
                f"{when.strftime('%A, %d-%b-%y %H:%M:%S')} PST. The current time is "
                f"{request.now.strftime('%A, %d-%b-%y %H:%M:%S')} PST.",
                subcode=463,
            )
        if self.options.token is None or token == self.options.token:
            return Principal("page", token)
        acc = request.company.social["facebook"].account_for_token(token, request.now.timestamp())
        if acc is not None:
            return Principal("member", token, acc)
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")

    def authenticate(self, request: Request) -> Reply | None:
        self._page_id = request.company.social["facebook"].company_account.id  # keys the BUC header
        try:
            self.principal(request)
        except GraphError as exc:
            return exc.reply()
        return None

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> dict[str, str]:
        pct = int(round(100 * (limit - remaining) / max(1, limit)))
        if pct < 1:
            return {}  # "headers appear once enough calls have been made"
        pct = min(pct, 100) if remaining >= 0 else max(pct, 100)
        wait = max(1, math.ceil((reset_epoch - time.time()) / 60)) if remaining < 0 else 0
        usage = {"call_count": pct, "total_cputime": max(1, pct // 3), "total_time": max(1, pct // 2)}
        buc = {
            getattr(self, "_page_id", "0"): [
                {
                    "type": "pages",
                    "call_count": pct,
                    "total_cputime": max(1, pct // 3),
                    "total_time": max(1, pct // 2),
                    "estimated_time_to_regain_access": wait,
                }
            ]
        }
        return {
            "x-app-usage": json.dumps(usage, separators=(",", ":")),
            "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
        }

    def too_many_requests(self, limit: int, reset_epoch: int) -> Reply:
        return GraphError(4, "(#4) Application request limit reached", status=403, transient=True).reply()

    def not_found(self, request: Request) -> Reply:
        return GraphError(2500, "Unknown path components: " + request.path).reply()

    def server_error(self, status: int) -> Reply:
        if status == 502:
            return super().fault("html_502", None)  # Graph's 502s come from its proxies, as HTML
        code, message = (
            (1, "An unknown error occurred") if status == 500 else (2, "Service temporarily unavailable")
        )
        return GraphError(code, message, status=status, transient=True).reply()

    def rate_limited(self, request: Request, reset_epoch: int) -> Reply:
        reply = GraphError(4, "(#4) Application request limit reached", status=403, transient=True).reply()
        # usage at 100 %; the regain estimate is 0 minutes (a short burst), so clients back off
        # by themselves instead of waiting the minutes a real budget reset takes
        usage = {"call_count": 100, "total_cputime": 30, "total_time": 50}
        buc = {
            getattr(self, "_page_id", "0"): [{"type": "pages", **usage, "estimated_time_to_regain_access": 0}]
        }
        reply.headers["x-app-usage"] = json.dumps(usage, separators=(",", ":"))
        reply.headers["x-business-use-case-usage"] = json.dumps(buc, separators=(",", ":"))
        return reply

    def token_expired(self, request: Request) -> Reply:
        return GraphError(190, "Error validating access token: Session has expired.", subcode=463).reply()

    def fault(self, name: str, request: Request, **kwargs) -> Reply:
        rate = {
            "rate_limit_4": (4, "(#4) Application request limit reached", 403),
            "rate_limit_17": (17, "(#17) User request limit reached", 403),
            "rate_limit_32": (32, "(#32) Page request limit reached", 403),
            "rate_limit_613": (613, "(#613) Calls to this api have exceeded the rate limit.", 400),
        }
        if name in rate:
            code, msg, status = rate[name]
            return GraphError(code, msg, status=status, transient=True).reply()
        if name == "permission_100":
            return GraphError(100, PERMISSION_100).reply()
        if name == "transient_2":
            return GraphError(
                2,
                "An unexpected error has occurred. Please retry your request later.",
                status=500,
                transient=True,
            ).reply()
        return super().fault(name, request, **kwargs)

    def handle(self, route: Route, request: Request) -> Reply:
        try:
            reply = route.handler(request)
        except GraphError as exc:
            reply = exc.reply()
        return reply

    # ----------------------------------------------------------------- worlds
    def fb(self, request: Request) -> PlatformWorld:
        return request.company.social["facebook"]

    def ig(self, request: Request) -> PlatformWorld:
        return request.company.social["instagram"]

    def _fields(self, request: Request, default: str) -> list[Field]:
        return parse_fields(request.query.get("fields") or default)

    def _next_url(self, request: Request, **changes) -> str:
        host = request.headers.get("Host") or "graph.facebook.com"
        params = {k: v for k, v in request.query.items()}
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = v
        return f"http://{host}{request.path}?{urlencode(params)}"

    # ----------------------------------------------------------------- rendering
    def fb_page(self, request: Request, acc: Account, fields: list[Field]) -> dict:
        ts = request.now.timestamp()
        out = {}
        for f in fields:
            if f.name not in FB_PAGE_FIELDS:
                raise no_field(f.name, "Page")
            if f.name == "id":
                out["id"] = acc.id
            elif f.name == "name":
                out["name"] = COMPANY_NAME
            elif f.name in ("fan_count", "followers_count"):
                n = acc.audience_at(ts)
                out[f.name] = n if f.name == "followers_count" else int(n * 0.93)
            elif f.name == "link":
                out["link"] = f"https://www.facebook.com/{FB_PAGE_USERNAME}"
            elif f.name == "username":
                out["username"] = FB_PAGE_USERNAME
            elif f.name == "category":
                out["category"] = "Industrial Company"
        out.setdefault("id", acc.id)
        return out

    def fb_user(self, request: Request, acc: Account, fields: list[Field]) -> dict:
        out = {}
        for f in fields:
            if f.name not in FB_USER_FIELDS:
                raise no_field(f.name, "User")
            if f.name == "id":
                out["id"] = acc.id
            elif f.name == "name":
                out["name"] = acc.name
            elif f.name == "short_name":
                out["short_name"] = acc.name.split(" ")[0]
            elif f.name == "friends":
                out["friends"] = {
                    "data": [],
                    "summary": {"total_count": acc.audience_at(request.now.timestamp())},
                }
        out.setdefault("id", acc.id)
        return out

    def fb_post(self, request: Request, world: PlatformWorld, p: SocialPost, fields: list[Field]) -> dict:
        ts = request.now.timestamp()
        acc = world.accounts[p.author]
        m = p.metrics_at(ts)
        out: dict = {}
        for f in fields:
            name = f.name
            if name not in FB_POST_FIELDS:
                raise no_field(name, "Post")
            if name == "id":
                out["id"] = p.id
            elif name == "message":
                if p.text:
                    out["message"] = p.text
            elif name == "created_time":
                out["created_time"] = graph_time(p.created)
            elif name == "updated_time":
                out["updated_time"] = graph_time(p.created + (3600 if m["comments"] else 0))
            elif name == "permalink_url":
                owner, num = p.id.split("_", 1)
                out["permalink_url"] = f"https://www.facebook.com/{owner}/posts/{num}"
            elif name == "status_type":
                if p.ref_id is not None:
                    out["status_type"] = "shared_story"
                elif p.link:
                    out["status_type"] = "shared_story" if acc.role == "company" else "mobile_status_update"
                else:
                    out["status_type"] = "mobile_status_update"
            elif name == "from":
                out["from"] = {"name": COMPANY_NAME if acc.role == "company" else acc.name, "id": acc.id}
            elif name == "shares":
                if m["shares"]:
                    out["shares"] = {"count": m["shares"]}
            elif name == "reactions":
                out["reactions"] = self._summary(f, m["reactions"], {"viewer_reaction": "NONE"})
            elif name == "comments":
                out["comments"] = self._summary(f, m["comments"], {"order": "ranked", "can_comment": True})
            elif name == "message_tags":
                pos = p.text.find(COMPANY_NAME) if p.mentions_company else -1
                if pos >= 0:
                    page = world.company_account
                    out["message_tags"] = [
                        {
                            "id": page.id,
                            "name": COMPANY_NAME,
                            "type": "page",
                            "offset": pos,
                            "length": len(COMPANY_NAME),
                        }
                    ]
            elif name == "parent_id":
                if p.ref_id is not None:
                    out["parent_id"] = p.ref_id
            elif name == "attachments":
                link = p.link or (world.by_post_id[p.ref_id].link if p.ref_id else None)
                if link:
                    out["attachments"] = {
                        "data": [
                            {
                                "type": "share",
                                "title": f"{COMPANY_NAME} | {DOMAIN}",
                                "unshimmed_url": link,
                                "url": "https://l.facebook.com/l.php?u=" + urlencode({"u": link})[2:],
                            }
                        ]
                    }
            elif name == "is_published":
                out["is_published"] = True
            elif name == "insights":
                if acc.role != "company":
                    raise GraphError(
                        100, "(#100) The insights edge is only available for posts of Pages you manage"
                    )
                out["insights"] = {
                    "data": self._insights(p, m, f.mods.get("metric"), self.options.deprecated_metrics)
                }
        out.setdefault("id", p.id)
        return out

    @staticmethod
    def _summary(f: Field, total: int, extra: dict) -> dict:
        out: dict = {"data": []}
        if f.mods.get("summary") in ("true", "1", "total_count"):
            summary = {"total_count": total, **extra}
            if "order" in extra:  # comments print order first, as recorded
                summary = {"order": extra["order"], "total_count": total, "can_comment": True}
            out["summary"] = summary
        return out

    @staticmethod
    def _insights(p: SocialPost, m: dict, metric_arg: str | None, deprecated=frozenset()) -> list[dict]:
        names = [n.strip() for n in (metric_arg or "post_media_view").split(",") if n.strip()]
        if any(n in RETIRED_METRICS or n in deprecated or n not in POST_METRICS for n in names):
            raise GraphError(100, "(#100) The value must be a valid insights metric")
        values = {
            "post_media_view": m["impressions"],
            "post_total_media_view_unique": m["reach"],
            "post_clicks": int(m["reactions"] * 0.4),
            "post_reactions_by_type_total": {"like": m["reactions"]},
        }
        titles = {
            "post_media_view": "Lifetime Post Views",
            "post_total_media_view_unique": "Lifetime Post Total Viewers",
            "post_clicks": "Lifetime Post Clicks",
            "post_reactions_by_type_total": "Lifetime Total post Reactions by Type.",
        }
        return [
            {
                "name": n,
                "period": "lifetime",
                "values": [{"value": values[n]}],
                "title": titles[n],
                "description": f"Lifetime: {titles[n].split(' ', 1)[1]}.",
                "id": f"{p.id}/insights/{n}/lifetime",
            }
            for n in names
        ]

    def ig_media_obj(
        self,
        request: Request,
        world: PlatformWorld,
        p: SocialPost,
        fields: list[Field],
        *,
        hashtag: bool = False,
    ) -> dict:
        ts = request.now.timestamp()
        acc = world.accounts[p.author]
        m = p.metrics_at(ts)
        out: dict = {}
        for f in fields:
            name = f.name
            if name not in IG_MEDIA_FIELDS or (hashtag and name in ("username", "owner")):
                raise no_field(name, "ShadowIGMediaBuilder" if hashtag else "IGMedia")
            if name == "id":
                out["id"] = p.id
            elif name == "caption":
                if p.text:
                    out["caption"] = p.text
            elif name == "media_type":
                out["media_type"] = p.media_type
            elif name == "media_product_type":
                out["media_product_type"] = "FEED"
            elif name == "comments_count":
                out["comments_count"] = m["comments"]
            elif name == "like_count":
                if not acc.hides_likes:
                    out["like_count"] = m["likes"]
            elif name == "permalink":
                out["permalink"] = f"https://www.instagram.com/p/{_shortcode(p.id)}/"
            elif name == "shortcode":
                out["shortcode"] = _shortcode(p.id)
            elif name == "timestamp":
                out["timestamp"] = graph_time(p.created)
            elif name == "username":
                out["username"] = acc.handle
            elif name == "owner":
                out["owner"] = {"id": acc.id}
            elif name == "media_url":
                out["media_url"] = f"https://scontent.cdninstagram.com/v/{p.id}.jpg"
            elif name == "is_comment_enabled":
                out["is_comment_enabled"] = True
        out.setdefault("id", p.id)
        return out

    def ig_user(
        self, request: Request, acc: Account, fields: list[Field], *, discovery: bool = False
    ) -> dict:
        world = self.ig(request)
        ts = request.now.timestamp()
        out: dict = {}
        for f in fields:
            if f.name not in IG_USER_FIELDS or (discovery and f.name == "business_discovery"):
                raise no_field(f.name, "IGUser" if not discovery else "BusinessDiscovery")
            if f.name == "id":
                out["id"] = acc.id
            elif f.name == "ig_id":
                out["ig_id"] = int(acc.id[-10:])
            elif f.name == "username":
                out["username"] = acc.handle
            elif f.name == "name":
                out["name"] = acc.name
            elif f.name == "followers_count":
                out["followers_count"] = acc.audience_at(ts)
            elif f.name == "follows_count":
                out["follows_count"] = 150 + acc.idx % 400
            elif f.name == "media_count":
                out["media_count"] = len(world.visible_of(acc, ts))
            elif f.name == "biography":
                out["biography"] = "Robots for warehouses and factories." if acc.role == "company" else ""
            elif f.name == "media":
                out["media"] = self._nested_media(request, world, acc, f)
            elif f.name == "business_discovery":
                out["business_discovery"] = self._discover(request, world, f)
        out.setdefault("id", acc.id)
        return out

    def _nested_media(self, request: Request, world: PlatformWorld, acc: Account, f: Field) -> dict:
        posts = world.visible_of(acc, request.now.timestamp())
        limit = max(1, min(MAX_LIMIT, int(f.mods.get("limit") or 25)))
        start = 0
        if f.mods.get("after"):
            start = int(_unb64(f.mods["after"]).split(":", 1)[1])
        page = posts[start : start + limit]
        sub = f.sub or [Field("id")]
        out: dict = {"data": [self.ig_media_obj(request, world, p, sub) for p in page]}
        cursors = {}
        if page:
            cursors["before"] = _b64(f"i:{start}")
        if start + limit < len(posts):
            cursors["after"] = _b64(f"i:{start + limit}")
        if cursors:
            out["paging"] = {"cursors": cursors}
        return out

    def _discover(self, request: Request, world: PlatformWorld, f: Field) -> dict:
        username = (f.mods.get("username") or "").strip()
        acc = world.by_handle.get(username.lower())
        if acc is None or (acc.role == "employee" and not acc.granted):
            raise GraphError(
                110,
                "Invalid user id",
                subcode=2207013,
                is_transient=False,
                error_user_title="Cannot find User",
                error_user_msg=f"The user with username: {username} cannot be found.",
            )
        return self.ig_user(request, acc, f.sub or [Field("id")], discovery=True)

    # ----------------------------------------------------------------- object resolution
    def resolve(self, request: Request, obj_id: str, fields_text: str | None) -> dict:
        who = self.principal(request)
        fb, ig = self.fb(request), self.ig(request)
        ts = request.now.timestamp()
        if obj_id == "me":
            obj_id = fb.company_account.id if who.kind != "member" else who.account.id
        if obj_id in (fb.company_account.id, FB_PAGE_USERNAME):
            return self.fb_page(request, fb.company_account, parse_fields(fields_text or "id,name"))
        if "_" in obj_id:
            p = fb.by_post_id.get(obj_id)
            if p is None or not p.visible_at(ts):
                raise no_object(obj_id)
            self._check_post_access(who, fb, p)
            return self.fb_post(request, fb, p, parse_fields(fields_text or "id,message,created_time"))
        acc = fb.by_id.get(obj_id)
        if acc is not None:
            if who.kind != "member" or who.account.id != acc.id:
                raise GraphError(100, PERMISSION_100)
            return self.fb_user(request, acc, parse_fields(fields_text or "id,name"))
        if obj_id == ig.company_account.id:
            if who.kind != "page":
                raise GraphError(10, "(#10) Application does not have permission for this action")
            return self.ig_user(request, ig.company_account, parse_fields(fields_text or "id,username"))
        p = ig.by_post_id.get(obj_id)
        if p is not None and p.visible_at(ts):
            if who.kind != "page" or p.author != 0:
                raise GraphError(10, "(#10) Application does not have permission for this action")
            return self.ig_media_obj(request, ig, p, parse_fields(fields_text or "id"))
        name = self._hashtag_names.get(obj_id)
        if name is not None:
            return {"id": obj_id, "name": name}
        raise no_object(obj_id)

    @staticmethod
    def _check_post_access(who: Principal, fb: PlatformWorld, p: SocialPost) -> None:
        if who.kind == "page":
            if p.author == 0 or p.mentions_company:
                return
        elif p.author in (0, who.account.idx):
            return
        raise GraphError(100, PERMISSION_100)

    # ----------------------------------------------------------------- handlers
    def node(self, request: Request) -> Reply:
        return Reply(200, self.resolve(request, request.params["id"], request.query.get("fields")))

    def multi(self, request: Request) -> Reply:
        raw = request.query.get("ids") or ""
        ids = list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))
        if not ids:
            raise GraphError(100, "(#100) The parameter ids is required")
        if len(ids) > MAX_IDS:
            raise GraphError(100, f"(#100) Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}.")
        out, missing = {}, []
        for i in ids:
            try:
                out[i] = self.resolve(request, i, request.query.get("fields"))
            except GraphError as exc:
                if exc.body["error"]["code"] == 100 and exc.body["error"].get("error_subcode") == 33:
                    missing.append(i)
                else:
                    raise
        if missing:
            raise GraphError(
                803, "(#803) Some of the aliases you requested do not exist: " + ",".join(missing)
            )
        return Reply(200, out)

    def posts(self, request: Request) -> Reply:
        who = self.principal(request)
        fb = self.fb(request)
        obj_id = request.params["id"]
        ts = request.now.timestamp()
        if obj_id == "me" and who.kind == "member":
            obj_id = who.account.id
        fields = self._fields(request, "id,message,created_time")
        since, until = _time_param(request.query.get("since")), _time_param(request.query.get("until"))
        limit = _limit(request, 25, MAX_LIMIT)
        if obj_id in (fb.company_account.id, FB_PAGE_USERNAME):
            posts = fb.visible_of(fb.company_account, ts)
            return self._time_paged(request, fb, posts, fields, since, until, limit)
        acc = fb.by_id.get(obj_id)
        if acc is None:
            raise no_object(obj_id)
        if who.kind != "member" or who.account.id != acc.id:
            raise GraphError(100, PERMISSION_100)
        posts = [p for p in fb.visible_of(acc, ts) if _within(p, since, until)]
        return self._cursor_paged(request, posts, limit, lambda p: self.fb_post(request, fb, p, fields))

    def tagged(self, request: Request) -> Reply:
        who = self.principal(request)
        fb = self.fb(request)
        if request.params["id"] not in (fb.company_account.id, FB_PAGE_USERNAME) or who.kind != "page":
            raise GraphError(100, PERMISSION_100)
        ts = request.now.timestamp()
        fields = self._fields(request, "id,message,created_time,from")
        since, until = _time_param(request.query.get("since")), _time_param(request.query.get("until"))
        posts = [
            p
            for p in reversed(fb.posts)
            if p.author != 0 and p.mentions_company and p.visible_at(ts) and _within(p, since, until)
        ]
        return self._cursor_paged(
            request, posts, _limit(request, 25, MAX_LIMIT), lambda p: self.fb_post(request, fb, p, fields)
        )

    def _ig_media_edge(self, request: Request) -> Reply:
        who = self.principal(request)
        ig = self.ig(request)
        if request.params["id"] != ig.company_account.id or who.kind != "page":
            raise GraphError(10, "(#10) Application does not have permission for this action")
        ts = request.now.timestamp()
        fields = self._fields(request, "id")
        since, until = _time_param(request.query.get("since")), _time_param(request.query.get("until"))
        posts = [p for p in ig.visible_of(ig.company_account, ts) if _within(p, since, until)]
        return self._cursor_paged(
            request,
            posts,
            _limit(request, 25, MAX_LIMIT),
            lambda p: self.ig_media_obj(request, ig, p, fields),
        )

    ig_media = _ig_media_edge

    def hashtag_search(self, request: Request) -> Reply:
        who = self.principal(request)
        ig = self.ig(request)
        if request.query.get("user_id") != ig.company_account.id or who.kind != "page":
            raise GraphError(
                100, "(#100) The parameter user_id is required and must be your Instagram business account"
            )
        q = (request.query.get("q") or "").strip().lstrip("#")
        if not q:
            raise GraphError(100, "(#100) The parameter q is required")
        if not re.fullmatch(r"\w{1,100}", q):
            raise GraphError(24, "(#24) The requested resource does not exist", subcode=2207024)
        hid = hashtag_id(q)
        self._hashtag_names.setdefault(hid, q.lower())
        return Reply(200, {"data": [{"id": hid}]})

    def recent_media(self, request: Request) -> Reply:
        who = self.principal(request)
        ig = self.ig(request)
        if request.query.get("user_id") != ig.company_account.id or who.kind != "page":
            raise GraphError(
                100, "(#100) The parameter user_id is required and must be your Instagram business account"
            )
        hid = request.params["id"]
        name = self._hashtag_names.get(hid)
        if name is None:
            raise no_object(hid)
        fields = self._fields(request, "id")
        for f in fields:
            if f.name not in IG_MEDIA_FIELDS or f.name in ("username", "owner"):
                raise no_field(f.name, "ShadowIGMediaBuilder")
        ts = request.now.timestamp()
        media = [
            p
            for p in ig.posts_between(ts - 86400, ts + 1)
            if p.visible_at(ts) and any(t.lower() == name for t in p.hashtags)
        ]
        hour = int(ts // 3600)
        media.sort(key=lambda p: hashlib.md5(f"{p.id}:{hour}".encode()).hexdigest())  # noqa: S324 (order)
        limit = min(_limit(request, 25, MAX_RECENT), MAX_RECENT)
        after = request.query.get("after")
        start = int(_unb64(after).split(":", 1)[1]) if after else 0
        page = media[start : start + limit]
        body: dict = {"data": [self.ig_media_obj(request, ig, p, fields, hashtag=True) for p in page]}
        if start + limit < len(media):
            cursor = _b64(f"h:{start + limit}")
            body["paging"] = {"cursors": {"after": cursor}, "next": self._next_url(request, after=cursor)}
        elif after and int(hashlib.md5(f"{hid}:{hour}".encode()).hexdigest(), 16) % 2 == 0:  # noqa: S324
            # the documented quirk: the after cursor repeats; following it gives this page again
            body["paging"] = {"cursors": {"after": after}, "next": self._next_url(request, after=after)}
        return Reply(200, body)

    # ----------------------------------------------------------------- paging
    def _time_paged(self, request, fb, posts, fields, since, until, limit) -> Reply:
        """Newest first; ``until``/``since`` bound; ``__paging_token`` continues below a post."""
        token = request.query.get("__paging_token")
        previous = "__previous" in request.query and request.query.get("__previous") not in ("", None)
        below = None
        if token:
            below = _unb64(token)  # "<created>:<post id>"
        out = []
        for p in posts:
            if until is not None and p.created > until:
                continue
            if since is not None and p.created < since:
                continue
            if below is not None:
                b_created, b_id = below.split(":", 1)
                key = (int(b_created), b_id)
                if (previous and (p.created, p.id) <= key) or (not previous and (p.created, p.id) >= key):
                    continue
            out.append(p)
        page = out[-limit:] if previous else out[:limit]
        body: dict = {"data": [self.fb_post(request, fb, p, fields) for p in page]}
        if page:
            first, last = page[0], page[-1]
            paging = {
                "previous": self._next_url(
                    request,
                    since=str(first.created),
                    until="",
                    __previous="1",
                    __paging_token=_b64(f"{first.created}:{first.id}"),
                )
            }
            if len(out) > limit:
                paging["next"] = self._next_url(
                    request,
                    until=str(last.created),
                    since="",
                    __paging_token=_b64(f"{last.created}:{last.id}"),
                    __previous="",
                )
            body["paging"] = paging
        return Reply(200, body)

    def _cursor_paged(self, request, posts, limit, render) -> Reply:
        after = request.query.get("after")
        before = request.query.get("before")
        start = 0
        if after:
            start = int(_unb64(after).split(":", 1)[1])
        elif before:
            start = max(0, int(_unb64(before).split(":", 1)[1]) - limit)
        page = posts[start : start + limit]
        body: dict = {"data": [render(p) for p in page]}
        if page:
            paging: dict = {
                "cursors": {"before": _b64(f"c:{start}"), "after": _b64(f"c:{start + len(page)}")}
            }
            if start + limit < len(posts):
                paging["next"] = self._next_url(request, after=paging["cursors"]["after"], before=None)
            if start > 0:
                paging["previous"] = self._next_url(request, before=paging["cursors"]["before"], after=None)
            body["paging"] = paging
        return Reply(200, body)


def _within(p: SocialPost, since: float | None, until: float | None) -> bool:
    return (since is None or p.created >= since) and (until is None or p.created <= until)


DEFAULT_TOKEN = "sandbox-graph-token"  # noqa: S105 (Page / system-user token: Facebook Page and Instagram)


def create(options: PlatformOptions) -> GraphPlatform:
    """Entry point the sandbox server mounts (see ``server.PLATFORM_MODULES``)."""
    return GraphPlatform(options)


def connections(server) -> dict[str, str]:
    """``facebook_graph`` (with the member tokens of the advocates who granted access, as a
    real deployment stores them) and ``instagram_graph``, both with the Page token."""
    token, now = server.tokens["graph"], server.now
    members = server.company.member_tokens("facebook", now)
    return {
        "AIRFLOW_CONN_FACEBOOK_GRAPH": http_connection(server.url, token, member_tokens=members),
        "AIRFLOW_CONN_INSTAGRAM_GRAPH": http_connection(server.url, token),
    }


def banner(server) -> str:
    ids = server.company.social.ids()
    return (
        f"Facebook/Instagram (Graph): host={server.url} token={server.tokens['graph']} "
        f"page={ids['facebook_page_id']} ig_user={ids['instagram_user_id']}"
    )

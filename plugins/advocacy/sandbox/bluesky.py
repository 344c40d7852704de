"""Bluesky (AT Protocol XRPC, ``/xrpc/<nsid>``) look-alike over the synthetic company.

Shapes follow the lexicons (``lexicons/app/bsky/...`` of github.com/bluesky-social/atproto;
recorded examples in ``tests/fixtures/api/bluesky/``): ``postView`` (``uri``,
``cid``, ``author`` profileViewBasic, ``record`` app.bsky.feed.post with
``facets`` in UTF-8 byte slices, ``embed`` views, ``replyCount``,
``repostCount``, ``likeCount``, ``quoteCount``, ``indexedAt``), ``feedViewPost``
with ``reason`` ``#reasonRepost`` for reposts, ``profileViewDetailed`` with
``followersCount``. Errors are ``{"error": Name, "message": text}``.

Endpoints: ``app.bsky.actor.getProfiles`` (``actors`` repeated, <= 25; unknown
actors are left out), ``app.bsky.feed.getAuthorFeed`` (``actor``, ``limit`` <=
100, ``cursor``, newest first; an unknown actor -> 400 ``InvalidRequest``
"Profile not found"), ``app.bsky.feed.getPosts`` (``uris`` <= 25; deleted posts
are left out), ``app.bsky.feed.searchPosts`` (``q``, ``tag`` (AND), ``mentions``,
``domain``, ``since``, ``until``, ``sort``, ``limit``, ``cursor``) **only with a
session**: without ``Authorization: Bearer <accessJwt>`` -> 403 (as Bluesky's
AppView answers anonymous search), and
``com.atproto.server.createSession`` (``identifier`` = any handle here,
``password`` = the app password ``sandbox-bluesky-app-password``; wrong -> 401
``AuthenticationRequired``). 429s carry ``ratelimit-limit``,
``ratelimit-remaining``, ``ratelimit-reset`` (epoch s) and ``ratelimit-policy``.

Who is there: the company (``northwindrobotics.bsky.social``, posting Tue/Fri),
the employees whose roster carries a ``bluesky_handle`` (about 45 % of those with
an X account; :func:`handle_of`), posting originals, quote posts and replies to
the company's posts, pure reposts and off-topic posts from the day after they
registered (off-topic also before), and community accounts tagging the
programme. Counters grow as ``floor(final * (1 - exp(-age / tau)))``; about 2 %
of non-company posts are deleted later (gone from every endpoint). Bluesky
shows no impressions.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import json
import math
import random
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request, Route
from advocacy.sandbox.company import (
    BODIES,
    COMMUNITY_NAMES,
    COMMUNITY_TEXT,
    COMPANY_COPY,
    COMPANY_NAME,
    COMPANY_PATHS,
    COMPANY_UTM_MEDIUM,
    DAY,
    DOMAIN,
    HASHTAGS,
    MONTHS,
    OFFTOPIC,
    OPENERS,
    QUOTE_WORDS,
    SEASON,
    UTM_MEDIUM,
    YEAR,
    _day_ts,
    _poisson,
)

if TYPE_CHECKING:
    from advocacy.sandbox.company import Company, Employee

COMPANY_HANDLE = "northwindrobotics.bsky.social"
APP_PASSWORD = "sandbox-bluesky-app-password"  # noqa: S105 (a sandbox credential)
RATE_LIMITS = {  # per window; Bluesky's PDS: 3000 requests per 5 minutes per IP, createSession 30
    "get_profiles": 3000,
    "get_author_feed": 3000,
    "get_posts": 3000,
    "search_posts": 3000,
    "create_session": 30,
}
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_HANDLE_SHARE = 0.45


def handle_of(employee: Employee) -> str:
    """The employee's Bluesky handle, or "" (about 45 % of employees with an X account)."""
    if not employee.x_username:
        return ""
    digest = hashlib.sha256(f"bluesky:{employee.employee_id}".encode()).digest()
    if digest[0] >= int(256 * _HANDLE_SHARE):
        return ""
    return employee.x_username.lower().replace("_", "-").strip("-") + ".bsky.social"


def did_of(handle: str) -> str:
    digest = hashlib.sha256(f"did:{handle}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def tid(micros: int, clock: int) -> str:
    """A record key as the PDS makes them: 64 bits (microseconds << 10 | clock id), base32-sortable."""
    value = (micros << 10) | (clock & 0x3FF)
    out = ""
    for _ in range(13):
        out = _TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


def at_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    parsed = dt.datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


@dataclass(frozen=True)
class Actor:
    idx: int
    did: str
    handle: str
    name: str
    role: str  # company | employee | community
    employee: Employee | None
    base_followers: int
    growth: float
    created: float

    def followers_at(self, ts: float) -> int:
        return int(self.base_followers * (1.0 + self.growth * max(0.0, ts - self.created) / YEAR))

    def basic(self) -> dict:
        return {
            "did": self.did,
            "handle": self.handle,
            "displayName": self.name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{self.did}/bafkreisandbox@jpeg",
            "labels": [],
            "createdAt": at_time(self.created),
        }


@dataclass(eq=False)
class BskyPost:
    actor: Actor
    rkey: str
    created: int
    kind: str  # company | original | quote | reply | repost | offtopic
    text: str
    facets: list = field(default_factory=list)
    link: str | None = None
    ref: BskyPost | None = None  # quoted, replied-to or reposted post
    final: tuple[int, int, int, int] = (0, 0, 0, 0)  # likes, reposts, replies, quotes
    tau: float = DAY
    deleted: int | None = None

    @property
    def collection(self) -> str:
        return "app.bsky.feed.repost" if self.kind == "repost" else "app.bsky.feed.post"

    @property
    def uri(self) -> str:
        return f"at://{self.actor.did}/{self.collection}/{self.rkey}"

    @property
    def cid(self) -> str:
        digest = hashlib.sha256(self.uri.encode()).digest()
        return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]

    def visible_at(self, ts: float) -> bool:
        return self.created <= ts and (self.deleted is None or ts < self.deleted)

    def counters_at(self, ts: float) -> tuple[int, ...]:
        age = ts - self.created
        f = 0.0 if age <= 0 else 1.0 - math.exp(-age / self.tau)
        return tuple(int(v * f) for v in self.final)


class _Text:
    """Post text with facets whose indexes are UTF-8 byte offsets, as the lexicon wants."""

    def __init__(self):
        self.parts: list[str] = []
        self.facets: list[dict] = []

    def _len(self) -> int:
        return len(" ".join(self.parts).encode()) + (1 if self.parts else 0)

    def add(self, text: str, feature: dict | None = None) -> _Text:
        start = self._len()
        self.parts.append(text)
        if feature is not None:
            end = start + len(text.encode())
            self.facets.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]})
        return self

    def tag(self, name: str) -> _Text:
        return self.add("#" + name, {"$type": "app.bsky.richtext.facet#tag", "tag": name})

    def mention(self, actor: Actor) -> _Text:
        return self.add("@" + actor.handle, {"$type": "app.bsky.richtext.facet#mention", "did": actor.did})

    def link(self, uri: str) -> _Text:
        shown = uri.split("://", 1)[-1]
        shown = shown if len(shown) <= 30 else shown[:27] + "..."
        return self.add(shown, {"$type": "app.bsky.richtext.facet#link", "uri": uri})

    @property
    def text(self) -> str:
        return " ".join(self.parts)


class BlueskyWorld:
    """Every actor and post of the company's Bluesky, generated once per company."""

    def __init__(self, company: Company):
        self.company = company
        rng = random.Random(f"{company.seed}:bluesky:actors")  # noqa: S311 (simulation)
        h0 = MONTHS[0][0]
        self.actors: list[Actor] = [
            Actor(0, did_of(COMPANY_HANDLE), COMPANY_HANDLE, COMPANY_NAME, "company", None, 4200, 0.6, h0)
        ]
        for e in company.employees:
            followers = max(3, int(rng.lognormvariate(math.log(180), 1.0)))
            growth = rng.uniform(0.05, 0.4)
            handle = handle_of(e)
            if handle:
                idx = len(self.actors)
                self.actors.append(
                    Actor(idx, did_of(handle), handle, e.full_name, "employee", e, followers, growth, h0)
                )
        for i in range(max(6, company.size // 25)):
            base = COMMUNITY_NAMES[i % len(COMMUNITY_NAMES)].replace("_", "-").lower()
            handle = f"{base}{i // len(COMMUNITY_NAMES) or ''}.bsky.social"
            self.actors.append(
                Actor(
                    len(self.actors),
                    did_of(handle),
                    handle,
                    base.title(),
                    "community",
                    None,
                    max(5, int(rng.lognormvariate(5.0, 1.0))),
                    0.05,
                    h0,
                )
            )
        self.by_handle = {a.handle: a for a in self.actors}
        self.by_did = {a.did: a for a in self.actors}
        self.company_actor = self.actors[0]
        self.by_actor: list[list[BskyPost]] = []
        for a in self.actors:  # the company first: the others quote, reply to and repost its posts
            self.by_actor.append(self._gen(a))
        self.posts = sorted((p for ps in self.by_actor for p in ps), key=lambda p: (p.created, p.rkey))
        self._times = [p.created for p in self.posts]
        self.by_uri = {p.uri: p for p in self.posts}

    def actor(self, key: str) -> Actor | None:
        key = (key or "").strip().lstrip("@").lower()
        return self.by_did.get(key) or self.by_handle.get(key)

    # ----------------------------------------------------------------- generation
    def _link(self, t: float, medium: str, code: str | None) -> str:
        from advocacy import utm  # the builder advocates use

        url = f"https://{DOMAIN}/{COMPANY_PATHS[int(t) % len(COMPANY_PATHS)]}"
        campaign = self.company.campaign(t)
        if code is None:
            return f"{url}?utm_source=bluesky&utm_medium={medium}&utm_campaign={campaign}"
        return utm.build_link(url, utm_code=code, campaign=campaign, platform="bluesky", medium=medium)

    def _post(self, rng, actor, t, kind, text: _Text | None = None, *, link=None, ref=None, factor=1.0):
        deleted = None
        if actor.role != "company" and rng.random() < 0.02:
            deleted = int(t + max(3600, rng.expovariate(1 / (4 * DAY))))
        final = (0, 0, 0, 0)
        if kind != "repost":
            inter = actor.followers_at(t) ** 0.6 * rng.lognormvariate(math.log(0.25), 0.45) * factor
            final = (
                _poisson(rng, inter * 0.75),
                _poisson(rng, inter * 0.12),
                _poisson(rng, inter * 0.09),
                _poisson(rng, inter * 0.04),
            )
        return BskyPost(
            actor,
            "",
            int(t),
            kind,
            "" if text is None else text.text,
            [] if text is None else text.facets,
            link,
            ref,
            final,
            rng.uniform(0.5, 1.5) * DAY,
            deleted,
        )

    def _tags(self, rng) -> list[str]:
        tags = [h.lstrip("#") for h in HASHTAGS]
        return tags if rng.random() < 0.3 else [rng.choice(tags)]

    def _gen(self, actor: Actor) -> list[BskyPost]:
        rng = random.Random(f"{self.company.seed}:bluesky:{actor.idx}")  # noqa: S311
        out: list[BskyPost] = []
        sample = self.company._sample_time
        for ms, me, _, month in MONTHS:
            if actor.role == "company":
                for day in range(ms, me, DAY):
                    if dt.datetime.fromtimestamp(day, dt.UTC).weekday() not in (1, 4) or rng.random() > 0.9:
                        continue
                    t = day + rng.randrange(8 * 3600, 16 * 3600)
                    k = rng.randrange(len(COMPANY_COPY))
                    link = self._link(t, COMPANY_UTM_MEDIUM, None)
                    text = _Text().add(COMPANY_COPY[k])
                    for tag in self._tags(rng):
                        text.tag(tag)
                    out.append(self._post(rng, actor, t, "company", text.link(link), link=link, factor=1.3))
                continue
            if actor.role == "community":
                for _ in range(_poisson(rng, 0.5)):
                    t = sample(rng, ms, me)
                    text = _Text().add(rng.choice(COMMUNITY_TEXT))
                    if rng.random() < 0.5:
                        text.mention(self.company_actor)
                    for tag in self._tags(rng):
                        text.tag(tag)
                    out.append(self._post(rng, actor, t, "original", text, factor=0.9))
                continue
            e = actor.employee
            for _ in range(_poisson(rng, e.offtopic_rate * 0.4)):
                out.append(
                    self._post(rng, actor, sample(rng, ms, me), "offtopic", _Text().add(rng.choice(OFFTOPIC)))
                )
            reg, left = _day_ts(e.registered_at), _day_ts(e.left_at)
            if reg is None:
                continue
            lo, hi = max(ms, reg + DAY), me if left is None else min(me, left - DAY)
            if hi - lo <= 3600 or rng.random() >= min(0.95, e.activity * SEASON.get(month, 1.0) * 0.8):
                continue
            for _ in range(1 + _poisson(rng, e.post_rate * 0.6 * (hi - lo) / (me - ms))):
                t = sample(rng, lo, hi)
                kind = rng.choices(("original", "quote", "reply", "repost"), (0.45, 0.2, 0.1, 0.25))[0]
                ref = self._recent_company_post(rng, t) if kind != "original" else None
                if ref is None:
                    kind = "original"
                if kind == "repost":
                    out.append(self._post(rng, actor, t, "repost", ref=ref))
                    continue
                if kind in ("quote", "reply"):
                    text = _Text().add(rng.choice(QUOTE_WORDS))
                    if rng.random() < 0.5:
                        text.tag(rng.choice(HASHTAGS).lstrip("#"))
                    out.append(self._post(rng, actor, t, kind, text, ref=ref, factor=0.9))
                    continue
                text = _Text().add(f"{rng.choice(OPENERS)} {rng.choice(BODIES)}")
                if rng.random() < 0.35:
                    text.mention(self.company_actor)
                if rng.random() < 0.7:
                    for tag in self._tags(rng):
                        text.tag(tag)
                link = self._link(t, UTM_MEDIUM, e.utm_code) if rng.random() < 0.4 else None
                if link:
                    text.link(link)
                out.append(self._post(rng, actor, t, "original", text, link=link))
        out.sort(key=lambda p: p.created)
        for i, p in enumerate(out):
            p.rkey = tid(p.created * 1_000_000 + rng.randrange(1_000_000), actor.idx + i)
        out.sort(key=lambda p: (p.created, p.rkey))
        return out

    def _recent_company_post(self, rng, t: float) -> BskyPost | None:
        posts = self.by_actor[0]
        times = [p.created for p in posts]
        hi = bisect.bisect_left(times, t - 600)
        lo = bisect.bisect_left(times, t - 14 * DAY)
        return None if hi <= lo else posts[rng.randrange(max(lo, hi - 4), hi)]

    # ----------------------------------------------------------------- views
    def record(self, p: BskyPost) -> dict:
        rec: dict = {
            "$type": "app.bsky.feed.post",
            "text": p.text,
            "createdAt": at_time(p.created),
            "langs": ["en"],
        }
        if p.facets:
            rec["facets"] = p.facets
        if p.kind == "quote" and p.ref is not None:
            rec["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": p.ref.uri, "cid": p.ref.cid}}
        elif p.link:
            rec["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": p.link, "title": COMPANY_NAME, "description": ""},
            }
        if p.kind == "reply" and p.ref is not None:
            strong = {"uri": p.ref.uri, "cid": p.ref.cid}
            rec["reply"] = {"root": strong, "parent": strong}
        return rec

    def post_view(self, p: BskyPost, ts: float) -> dict:
        likes, reposts, replies, quotes = p.counters_at(ts)
        view = {
            "uri": p.uri,
            "cid": p.cid,
            "author": p.actor.basic(),
            "record": self.record(p),
            "bookmarkCount": 0,
            "replyCount": replies,
            "repostCount": reposts,
            "likeCount": likes,
            "quoteCount": quotes,
            "indexedAt": at_time(p.created + 1),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if p.kind == "quote" and p.ref is not None:
            ref = p.ref
            if ref.visible_at(ts):
                r_likes, r_reposts, r_replies, r_quotes = ref.counters_at(ts)
                inner = {
                    "$type": "app.bsky.embed.record#viewRecord",
                    "uri": ref.uri,
                    "cid": ref.cid,
                    "author": ref.actor.basic(),
                    "value": self.record(ref),
                    "labels": [],
                    "likeCount": r_likes,
                    "replyCount": r_replies,
                    "repostCount": r_reposts,
                    "quoteCount": r_quotes,
                    "indexedAt": at_time(ref.created + 1),
                }
            else:
                inner = {"$type": "app.bsky.embed.record#viewNotFound", "uri": ref.uri, "notFound": True}
            view["embed"] = {"$type": "app.bsky.embed.record#view", "record": inner}
        elif p.link:
            view["embed"] = {
                "$type": "app.bsky.embed.external#view",
                "external": {"uri": p.link, "title": COMPANY_NAME, "description": ""},
            }
        return view

    def feed_item(self, p: BskyPost, ts: float) -> dict:
        if p.kind == "repost":
            return {
                "post": self.post_view(p.ref, ts),
                "reason": {
                    "$type": "app.bsky.feed.defs#reasonRepost",
                    "by": p.actor.basic(),
                    "uri": p.uri,
                    "cid": p.cid,
                    "indexedAt": at_time(p.created),
                },
            }
        item: dict = {"post": self.post_view(p, ts)}
        if p.kind == "reply" and p.ref is not None:
            parent = (
                self.post_view(p.ref, ts)
                if p.ref.visible_at(ts)
                else {"$type": "app.bsky.feed.defs#notFoundPost", "uri": p.ref.uri, "notFound": True}
            )
            item["reply"] = {"root": parent, "parent": parent}
        return item

    def profile(self, a: Actor, ts: float) -> dict:
        posts = sum(1 for p in self.by_actor[a.idx] if p.visible_at(ts) and p.kind != "repost")
        return {
            **a.basic(),
            "description": f"{a.name} on Bluesky",
            "followersCount": a.followers_at(ts),
            "followsCount": 150 + a.idx % 300,
            "postsCount": posts,
            "indexedAt": at_time(a.created),
        }

    def between(self, lo: float, hi: float) -> list[BskyPost]:
        return self.posts[bisect.bisect_left(self._times, lo) : bisect.bisect_left(self._times, hi)]


_WORLDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WORLDS_LOCK = threading.Lock()


def world(company: Company) -> BlueskyWorld:
    with _WORLDS_LOCK:
        w = _WORLDS.get(company)
        if w is None:
            w = _WORLDS[company] = BlueskyWorld(company)
    return w


def _jwt(did: str, handle: str, ttl: int) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    payload = {
        "scope": "com.atproto.appPass",
        "sub": did,
        "iat": now,
        "exp": now + ttl,
        "aud": "did:web:sandbox",
    }
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2FuZGJveA"


class BlueskyPlatform(Platform):
    name = "bluesky"
    prefix = "/xrpc/"
    paged_endpoints = frozenset({"get_author_feed", "search_posts"})
    cursor_params = ("cursor",)
    page_size_params = ("limit",)
    continuation_params = ("cursor",)

    def __init__(self, options: PlatformOptions):
        super().__init__(options)
        limits = {**RATE_LIMITS, **options.rate_limits}
        self.app_password = options.token or APP_PASSWORD
        self.sessions: set[str] = set()
        self._lock = threading.Lock()
        x = "/xrpc/"
        self.routes = [
            Route(
                "GET",
                x + "app.bsky.actor.getProfiles",
                "get_profiles",
                self.get_profiles,
                limits["get_profiles"],
            ),
            Route(
                "GET",
                x + "app.bsky.feed.getAuthorFeed",
                "get_author_feed",
                self.get_author_feed,
                limits["get_author_feed"],
            ),
            Route("GET", x + "app.bsky.feed.getPosts", "get_posts", self.get_posts, limits["get_posts"]),
            Route(
                "GET",
                x + "app.bsky.feed.searchPosts",
                "search_posts",
                self.search_posts,
                limits["search_posts"],
            ),
            Route(
                "POST",
                x + "com.atproto.server.createSession",
                "create_session",
                self.create_session,
                limits["create_session"],
            ),
        ]

    # ----------------------------------------------------------------- dialect
    @staticmethod
    def error(status: int, name: str, message: str) -> Reply:
        return Reply(status, {"error": name, "message": message})

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> dict[str, str]:
        window = int(self.options.window_seconds)
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(0, remaining)),
            "ratelimit-reset": str(reset_epoch),
            "ratelimit-policy": f"{limit};w={window}",
        }

    def too_many_requests(self, limit: int, reset_epoch: int) -> Reply:
        return self.error(429, "RateLimitExceeded", "Rate Limit Exceeded")

    def not_found(self, request: Request) -> Reply:
        return self.error(501, "MethodNotImplemented", "Method Not Implemented")

    def server_error(self, status: int) -> Reply:
        names = {500: "InternalServerError", 502: "UpstreamFailure", 503: "NotEnoughResources"}
        return self.error(status, names.get(status, "InternalServerError"), "Internal Server Error")

    def token_expired(self, request: Request) -> Reply:
        return self.error(400, "ExpiredToken", "Token has expired")

    def _multi(self, request: Request, name: str) -> list[str]:
        values = (getattr(request, "multi", None) or {}).get(name)
        if values is None:
            values = [request.query[name]] if name in request.query else []
        return [v for v in values if v]

    def _limit(self, request: Request, default: int) -> int | Reply:
        raw = request.query.get("limit", str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            return self.error(400, "InvalidRequest", "limit must be an integer between 1 and 100")
        return int(raw)

    # ----------------------------------------------------------------- endpoints
    def get_profiles(self, request: Request) -> Reply:
        actors = self._multi(request, "actors")
        if not actors:
            return self.error(400, "InvalidRequest", 'Error: Params must have the property "actors"')
        if len(actors) > 25:
            return self.error(400, "InvalidRequest", "Error: actors must not have more than 25 elements")
        w, ts = world(request.company), request.now.timestamp()
        found = [w.actor(a) for a in actors]
        return Reply(200, {"profiles": [w.profile(a, ts) for a in found if a is not None]})

    def get_author_feed(self, request: Request) -> Reply:
        w, ts = world(request.company), request.now.timestamp()
        actor = w.actor(request.query.get("actor", ""))
        if actor is None:
            return self.error(400, "InvalidRequest", "Profile not found")
        limit = self._limit(request, 50)
        if isinstance(limit, Reply):
            return limit
        posts = [p for p in reversed(w.by_actor[actor.idx]) if p.visible_at(ts)]
        if request.query.get("filter") == "posts_no_replies":
            posts = [p for p in posts if p.kind != "reply"]
        return Reply(200, self._page(posts, request, limit, lambda p: w.feed_item(p, ts), "feed"))

    @staticmethod
    def _page(posts: list[BskyPost], request: Request, limit: int, view, key: str) -> dict:
        # the cursor is the sort time and rkey of the last item served: stable while posts arrive
        cursor = request.query.get("cursor")
        if cursor:
            t, _, rkey = cursor.partition("::")
            posts = [p for p in posts if (p.created, p.rkey) < (int(t), rkey)]
        page = posts[:limit]
        body: dict = {key: [view(p) for p in page]}
        if len(posts) > limit:
            body["cursor"] = f"{page[-1].created}::{page[-1].rkey}"
        return body

    def get_posts(self, request: Request) -> Reply:
        uris = self._multi(request, "uris")
        if len(uris) > 25:
            return self.error(400, "InvalidRequest", "Error: uris must not have more than 25 elements")
        w, ts = world(request.company), request.now.timestamp()
        posts = [w.by_uri.get(u) for u in uris]
        views = [
            w.post_view(p, ts) for p in posts if p is not None and p.kind != "repost" and p.visible_at(ts)
        ]
        return Reply(200, {"posts": views})

    def search_posts(self, request: Request) -> Reply:
        auth = request.headers.get("Authorization") or ""
        if not (auth.startswith("Bearer ") and auth[7:] in self.sessions):
            return Reply(403, "Forbidden", content_type="text/plain; charset=utf-8")
        if not request.query.get("q"):
            return self.error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = self._limit(request, 25)
        if isinstance(limit, Reply):
            return limit
        w, ts = world(request.company), request.now.timestamp()
        since = _parse_time(request.query.get("since")) or 0.0
        until = min(_parse_time(request.query.get("until")) or ts, ts)
        tags = [t.lstrip("#").lower() for t in self._multi(request, "tag")]
        mention = w.actor(request.query.get("mentions", ""))
        domain = (request.query.get("domain") or "").lower()
        if request.query.get("mentions") and mention is None:
            return Reply(200, {"posts": []})

        def hit(p: BskyPost) -> bool:
            if p.kind == "repost" or not p.visible_at(ts):
                return False
            features = [f for facet in p.facets for f in facet["features"]]
            ptags = {f["tag"].lower() for f in features if f["$type"].endswith("#tag")}
            if tags and not all(t in ptags for t in tags):
                return False
            if mention is not None and mention.did not in {f.get("did") for f in features}:
                return False
            host = (p.link or "").split("://", 1)[-1].split("/", 1)[0].lower()
            return not domain or host == domain or host.endswith("." + domain)

        posts = [p for p in reversed(w.between(since, until)) if hit(p)]
        body = self._page(posts, request, limit, lambda p: w.post_view(p, ts), "posts")
        if not request.query.get("cursor"):
            body["hitsTotal"] = len(posts)
        return Reply(200, body)

    def create_session(self, request: Request) -> Reply:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return self.error(400, "InvalidRequest", "Invalid JSON body")
        w = world(request.company)
        actor = w.actor(str(data.get("identifier") or ""))
        if actor is None or data.get("password") != self.app_password:
            return self.error(401, "AuthenticationRequired", "Invalid identifier or password")
        access = _jwt(actor.did, actor.handle, 7200)
        with self._lock:
            self.sessions.add(access)
        refresh = _jwt(actor.did, actor.handle, 90 * 86400)
        return Reply(
            200,
            {
                "did": actor.did,
                "handle": actor.handle,
                "accessJwt": access,
                "refreshJwt": refresh,
                "active": True,
            },
        )


DEFAULT_TOKEN = APP_PASSWORD  # the app password of any sandbox handle (the search session)


def create(options: PlatformOptions) -> BlueskyPlatform:
    """Entry point the sandbox server mounts (see ``server.PLATFORM_MODULES``)."""
    return BlueskyPlatform(options)


def connections(server) -> dict[str, str]:
    """``bluesky_api``: public reads and the search session at the same host; the login is
    any sandbox handle (the company's), the password its app password."""
    conn = {"conn_type": "http", "host": server.url, "login": COMPANY_HANDLE,
            "password": server.tokens["bluesky"], "extra": {"timeout": 30}}  # fmt: skip
    return {"AIRFLOW_CONN_BLUESKY_API": json.dumps(conn)}


def banner(server) -> str:
    return f"Bluesky: host={server.url} login={COMPANY_HANDLE} app password={server.tokens['bluesky']}"


def roster_columns(employee: Employee) -> dict[str, str]:
    """The roster's ``bluesky_handle``: the Bluesky world decides who has an account."""
    return {"bluesky_handle": handle_of(employee)}


# --------------------------------------------------------------------------- ground truth
def _markers(w: BlueskyWorld, p: BskyPost) -> dict[str, bool]:
    programme = {h.lstrip("#").lower() for h in HASHTAGS}
    features = [f for facet in p.facets for f in facet["features"]]
    tags = {f["tag"].lower() for f in features if f["$type"].endswith("#tag")}
    host = (p.link or "").split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].lower()
    return {
        "has_programme_hashtag": bool(tags & programme),
        "mentions_company": w.company_actor.did in {f.get("did") for f in features},
        "links_company_domain": host == DOMAIN or host.endswith("." + DOMAIN),
        "references_company_post": p.kind in ("quote", "repost")
        and p.ref is not None
        and p.ref.actor.idx == 0,
    }


def truth_post(w: BlueskyWorld, p: BskyPost, ts: float, roster: set[int]) -> dict:
    """A post as ``Company.ground_truth`` describes every platform's (see ``sandbox/social.py``)."""
    e = p.actor.employee
    emp = e.employee_id if e is not None and e.idx in roster else None
    markers = _markers(w, p)
    programme = (
        emp is not None
        and p.kind != "company"
        and any(markers.values())
        and e.registered_at is not None
        and _day_ts(e.registered_at) <= p.created
    )
    deleted = p.deleted if p.deleted is not None and p.deleted <= ts else None
    likes, reposts, replies, quotes = p.counters_at(ts if deleted is None else min(ts, deleted))
    counters: dict = {"likes": likes, "comments": replies, "shares": reposts + quotes, "impressions": None}
    if p.kind == "repost":  # a repost has no counters of its own
        counters = dict.fromkeys(("likes", "comments", "shares", "impressions"))
    counters["interactions"] = sum(v for k, v in counters.items() if k != "impressions" and v is not None)
    utm_code = None
    if p.link and f"utm_medium={UTM_MEDIUM}" in p.link and "utm_content=" in p.link:
        utm_code = p.link.split("utm_content=", 1)[1].split("&", 1)[0]
    local = dt.datetime.fromtimestamp(p.created, w.company.tz)
    return {
        "id": p.uri,
        "platform": "bluesky",
        "author_id": p.actor.did,
        "author_username": p.actor.handle,
        "employee_id": emp,
        "true_employee_id": emp,
        "attributable": True,
        "created_at": at_time(p.created),
        "month_local": f"{local.year}-{local.month:02d}",
        "kind": "reshare" if p.kind == "repost" else p.kind,
        "text": p.text,
        "links": [p.link] if p.link else [],
        "utm_content": utm_code,
        "referenced": None if p.ref is None else {"type": p.kind, "id": p.ref.uri},
        "markers": markers,
        "is_programme_post": programme,
        "is_community_post": emp is None and p.kind != "company" and any(markers.values()),
        "is_pure_reshare": p.kind == "repost",
        "is_personalised": p.kind in ("original", "quote", "reply", "offtopic"),
        "is_pre_registration": False,
        "metrics": {"likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes},
        "counters": counters,
        "deleted_at": None if deleted is None else at_time(deleted),
    }


def ground_truth(company: Company, ts: float, roster: set[int]) -> tuple[list[dict], list[dict], list[dict]]:
    """(posts, company posts, audiences) of Bluesky at ``ts`` for ``Company.ground_truth``.

    Every post is public on Bluesky; what a pipeline reads of it is the company's and the
    registered advocates' author feeds and the programme search, so the posts listed are
    the company's, the employees' and the community posts the search finds (a marker).
    """
    w = world(company)
    posts, company_posts = [], []
    for p in w.between(MONTHS[0][0], ts + 1):
        if p.actor.role == "community" and not any(_markers(w, p).values()):
            continue
        (company_posts if p.actor.idx == 0 else posts).append(truth_post(w, p, ts, roster))
    audiences = [
        {
            "platform": "bluesky",
            "account_id": a.did,
            "handle": a.handle,
            "role": a.role,
            "employee_id": a.employee.employee_id
            if a.employee is not None and a.employee.idx in roster
            else None,
            "audience": a.followers_at(ts),
            "observable": True,
        }
        for a in w.actors
        if a.role != "community"
    ]
    return posts, company_posts, audiences

"""X API v2 look-alike over the synthetic company (served at the root path, ``/2/...``).

Shapes follow the real responses in tests/fixtures/api/x (docs/platforms/x.md): ids are
strings, ``created_at`` is ``...000Z``, every tweet has
``edit_history_tweet_ids``, multi lookups return a ``data`` array, list
endpoints a ``meta`` with ``result_count``/``newest_id``/``oldest_id`` and
``next_token`` only when another page exists, partial errors come with HTTP
200 (``data`` + ``errors``, or ``errors`` alone), 401/429 bodies are the
problem+json objects X sends, and every authenticated response carries
``x-rate-limit-limit/remaining/reset``.

Endpoints: ``GET /2/users/by``, ``GET /2/users/:id``, ``GET /2/users/:id/tweets``,
``GET /2/tweets/search/recent``, ``GET /2/tweets``, ``GET /2/tweets/:id``.
Search understands ``OR``, implicit AND, parentheses, ``-`` negation,
``#tag``, ``@user``, ``url:"domain"``, ``from:``, ``is:retweet|quote|reply``,
``has:links|hashtags|mentions``, ``lang:``, quoted phrases and keywords, and
enforces the 7-day window and the 512-character query limit.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request, Route, http_connection
from advocacy.sandbox.company import Company, Post, XUser, x_time

PROBLEMS = "https://api.twitter.com/2/problems/"
RATE_LIMITS = {  # app-auth limits per 15 minutes, as recorded (2022) / documented
    "users_by": 300,
    "users_by_id": 300,
    "users_tweets": 1500,
    "search_recent": 450,
    "tweets_lookup": 300,
    "tweet_by_id": 300,
}
MAX_TIMELINE = 3200  # a user timeline reaches back at most this many posts
SEARCH_DAYS = 7
MAX_QUERY = 512

TWEET_FIELDS = frozenset(
    [
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    ]
)
USER_FIELDS = frozenset(
    [
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    ]
)
TWEET_EXPANSIONS = frozenset(
    [
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
    ]
)
USER_EXPANSIONS = frozenset(["pinned_tweet_id", "affiliation.user_id", "most_recent_tweet_id"])
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_TOKEN_PREFIX = "7140dibd"  # noqa: S105 (page-token prefix, not a secret)


class BadRequest(Exception):
    def __init__(self, body: dict):
        super().__init__(body)
        self.body = body


def invalid_request(parameter: str, value: str, message: str) -> BadRequest:
    return BadRequest(
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        }
    )


def not_found_error(resource_type: str, parameter: str, value: str, label: str) -> dict:
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {label}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
        "section": "data",
    }


# --------------------------------------------------------------------------- params
def _csv(request: Request, name: str, allowed: frozenset[str]) -> list[str]:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return []
    values = [v for v in raw.split(",") if v]
    for v in values:
        if v not in allowed:
            raise invalid_request(
                name,
                v,
                f"The `{name}` query parameter value [{v}] is not one of [{','.join(sorted(allowed))}]",
            )
    return values


def _time(request: Request, name: str) -> dt.datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise invalid_request(
            name, raw, f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC3339 date-time"
        )
    return value.astimezone(dt.UTC)


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise invalid_request(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {lo} and {hi}"
        )
    return int(raw)


def _id(request: Request, name: str, raw: str | None = None) -> int | None:
    raw = request.query.get(name) if raw is None else raw
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise invalid_request(
            name, raw, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$"
        )
    return int(raw)


def encode_token(id_int: int) -> str:
    """Opaque-looking page token: 'give me posts older than this id'."""
    n, digits = id_int, []
    while n:
        n, r = divmod(n, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[r])
    return _TOKEN_PREFIX + "".join(reversed(digits or ["0"]))


def decode_token(request: Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        if not raw.startswith(_TOKEN_PREFIX):
            raise ValueError(raw)
        return int(raw[len(_TOKEN_PREFIX) :], 36)
    except ValueError:
        raise invalid_request(name, raw, f"The `{name}` query parameter value [{raw}] is not valid") from None


# --------------------------------------------------------------------------- search query
_TOKEN_RE = re.compile(r'\s*(\(|\)|-?[\w.]+:"[^"]*"|-?"[^"]*"|-?[^\s()]+)')
_OPERATORS = {"url", "from", "to", "is", "has", "lang", "conversation_id", "retweets_of"}


class Query:
    """A parsed recent-search query; ``matches(post_view)`` evaluates it."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0
        if not self.tokens:
            raise self._error("query is empty")
        self.tree = self._or()
        if self.pos != len(self.tokens):
            raise self._error(f"unexpected '{self.tokens[self.pos]}'")

    def _error(self, why: str) -> BadRequest:
        return invalid_request("query", self.text, f"There were errors processing your request: {why}")

    def _tokenize(self, text: str) -> list[str]:
        out, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m:
                raise self._error(f"cannot read the query at position {pos}")
            out.append(m.group(1))
            pos = m.end()
        return out

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self):
        node = self._and()
        while self._peek() == "OR":
            self.pos += 1
            node = ("or", node, self._and())
        return node

    def _and(self):
        items = []
        while self._peek() not in (None, ")", "OR"):
            items.append(self._unary())
        if not items:
            raise self._error("an operand is missing (check OR and parentheses)")
        return ("and", items)

    def _unary(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        if tok == "(":
            node = self._or()
            if self._peek() != ")":
                raise self._error("missing ')'")
            self.pos += 1
            return node
        neg = tok.startswith("-") and len(tok) > 1
        term = tok[1:] if neg else tok
        if ":" in term and not term.startswith('"'):
            op = term.split(":", 1)[0].lower()
            if op not in _OPERATORS:
                raise self._error(f"Reference to invalid operator '{op}'")
        node = ("term", term)
        return ("not", node) if neg else node

    def matches(self, view: dict) -> bool:
        return self._eval(self.tree, view)

    def _eval(self, node, view: dict) -> bool:
        kind = node[0]
        if kind == "or":
            return self._eval(node[1], view) or self._eval(node[2], view)
        if kind == "and":
            return all(self._eval(n, view) for n in node[1])
        if kind == "not":
            return not self._eval(node[1], view)
        return _term(node[1], view)


def _term(term: str, v: dict) -> bool:
    low = term.lower()
    if low.startswith("#"):
        return low[1:] in v["hashtags"]
    if low.startswith("@"):
        return low[1:] in v["mentions"]
    if low.startswith('"'):
        return low.strip('"') in v["text"]
    if ":" in low:
        op, arg = low.split(":", 1)
        arg = arg.strip('"')
        if op == "url":
            return any(arg in u for u in v["urls"])
        if op == "from":
            return v["author"] == arg.lstrip("@")
        if op == "to":
            return False  # no replies in the sandbox
        if op == "is":
            return v["is"].get(arg, False)
        if op == "has":
            return bool(v.get(arg))
        if op == "lang":
            return arg == "en"
        if op == "conversation_id":
            return v["id"] == arg
        if op == "retweets_of":
            return v["retweets_of"] == arg.lstrip("@")
        return False
    return re.search(r"(?<!\w)" + re.escape(low) + r"(?!\w)", v["text"]) is not None


# --------------------------------------------------------------------------- platform
class XPlatform(Platform):
    name = "x"
    prefix = "/2/"
    paged_endpoints = frozenset({"users_tweets", "search_recent"})
    cursor_params = ("pagination_token", "next_token")
    page_size_params = ("max_results",)
    continuation_params = ("pagination_token", "next_token")

    def __init__(self, options: PlatformOptions):
        super().__init__(options)
        limits = {**RATE_LIMITS, **options.rate_limits}
        self.routes = [
            Route("GET", "/2/users/by", "users_by", self.users_by, limits["users_by"]),
            Route("GET", "/2/users/:id/tweets", "users_tweets", self.users_tweets, limits["users_tweets"]),
            Route("GET", "/2/users/:id", "users_by_id", self.user_by_id, limits["users_by_id"]),
            Route(
                "GET", "/2/tweets/search/recent", "search_recent", self.search_recent, limits["search_recent"]
            ),
            Route("GET", "/2/tweets", "tweets_lookup", self.tweets_lookup, limits["tweets_lookup"]),
            Route("GET", "/2/tweets/:id", "tweet_by_id", self.tweet_by_id, limits["tweet_by_id"]),
        ]
        self._search_cache: OrderedDict[tuple, list[Post]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # ----------------------------------------------------------------- dialect
    def authenticate(self, request: Request) -> Reply | None:
        auth = request.headers.get("Authorization") or ""
        ok = auth.startswith("Bearer ") and len(auth) > 7
        if ok and auth[7:] in self.options.expired_tokens:
            ok = False  # X answers a revoked/invalidated bearer token with a plain 401
        if ok and self.options.token is not None:
            ok = auth[7:] == self.options.token
        if ok:
            return None
        return self.token_expired(request)

    def token_expired(self, request: Request) -> Reply:
        return Reply(
            401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        )

    def server_error(self, status: int) -> Reply:
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        title = titles.get(status, "Server Error")
        return Reply(status, {"title": title, "detail": title, "type": "about:blank", "status": status})

    def rate_limited(self, request: Request, reset_epoch: int) -> Reply:
        reply = self.too_many_requests(0, reset_epoch)
        reply.headers.update(self.rate_limit_headers(450, 0, reset_epoch))
        return reply

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, remaining)),
            "x-rate-limit-reset": str(reset_epoch),
        }

    def too_many_requests(self, limit: int, reset_epoch: int) -> Reply:
        body = {
            "title": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
            "detail": "Too Many Requests",
        }
        return Reply(429, body)

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})

    def handle(self, route: Route, request: Request) -> Reply:
        try:
            return route.handler(request)
        except BadRequest as exc:
            return Reply(400, exc.body)

    # ----------------------------------------------------------------- rendering
    def render_user(self, company: Company, user: XUser, ts: float, fields: Iterable[str]) -> dict:
        out = {"id": user.id, "name": user.name, "username": user.username}
        for f in fields:
            if f == "public_metrics":
                out[f] = user.public_metrics(ts, company.tweets_count(user.idx, ts))
            elif f == "created_at":
                out[f] = user.created_at
            elif f == "description":
                out[f] = _description(company, user)
            elif f in ("protected", "verified"):
                out[f] = user.role == "company" and f == "verified"
            elif f == "verified_type":
                out[f] = "business" if user.role == "company" else "none"
            elif f == "profile_image_url":
                out[f] = f"https://pbs.twimg.com/profile_images/{user.id}/avatar_normal.jpg"
        return out

    def render_tweet(self, company: Company, p: Post, ts: float, fields: Iterable[str]) -> dict:
        out = {"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id]}
        for f in fields:
            if f == "author_id":
                out[f] = company.x_users[p.author].id
            elif f == "created_at":
                out[f] = x_time(p.created)
            elif f == "conversation_id":
                out[f] = p.id
            elif f == "public_metrics":
                out[f] = p.public_metrics_at(ts)
            elif f == "entities":
                ent = company.entities(p)
                if ent:
                    out[f] = {k: [dict(i) for i in v] for k, v in ent.items()}
            elif f == "referenced_tweets" and p.ref_id is not None:
                out[f] = [{"type": p.ref_type, "id": p.ref_id}]
            elif f == "lang":
                out[f] = "en"
            elif f == "possibly_sensitive":
                out[f] = False
            elif f == "reply_settings":
                out[f] = "everyone"
            elif f == "edit_controls":
                out[f] = {
                    "edits_remaining": 5,
                    "is_edit_eligible": True,
                    "editable_until": x_time(p.created + 3600),
                }
        return out

    def tweets_payload(self, request: Request, posts: list[Post], errors: list[dict] | None = None) -> dict:
        """``data`` + ``includes`` (+ ``errors``) for rendered posts, honouring fields/expansions."""
        company, ts = request.company, request.now.timestamp()
        tweet_fields = _csv(request, "tweet.fields", TWEET_FIELDS)
        user_fields = _csv(request, "user.fields", USER_FIELDS)
        expansions = set(_csv(request, "expansions", TWEET_EXPANSIONS))
        _csv(request, "media.fields", frozenset(["media_key", "type", "url"]))
        _csv(request, "place.fields", frozenset(["id", "full_name"]))
        _csv(request, "poll.fields", frozenset(["id", "options"]))
        body: dict = {}
        errors = list(errors or [])
        if posts:
            body["data"] = [self.render_tweet(company, p, ts, tweet_fields) for p in posts]
        users: dict[str, dict] = {}
        tweets: dict[str, dict] = {}

        def add_user(user: XUser | None) -> None:
            if user is not None and user.id not in users:
                users[user.id] = self.render_user(company, user, ts, user_fields)

        if "author_id" in expansions:
            for p in posts:
                add_user(company.x_users[p.author])
        if "entities.mentions.username" in expansions:
            for p in posts:
                for m in company.entities(p).get("mentions", ()):
                    add_user(company.user_by_username(m["username"]))
        if expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"}:
            for p in posts:
                if p.ref_id is None or p.ref_id in tweets:
                    continue
                ref = company.post_by_id(p.ref_id)
                if ref is None or not ref.visible_at(ts):
                    err = not_found_error("tweet", "referenced_tweets.id", p.ref_id, "ids")
                    err["section"] = "includes"
                    errors.append(err)
                    continue
                if "referenced_tweets.id" in expansions:
                    tweets[ref.id] = self.render_tweet(company, ref, ts, tweet_fields)
                if "referenced_tweets.id.author_id" in expansions:
                    add_user(company.x_users[ref.author])
        includes = {}
        if users:
            includes["users"] = list(users.values())
        if tweets:
            includes["tweets"] = list(tweets.values())
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        return body

    def _page(
        self, request: Request, posts: list[Post], token_param: str, max_results: int
    ) -> tuple[list[Post], dict]:
        """Newest-first ``posts`` -> one page and its ``meta``."""
        before = decode_token(request, token_param)
        if before is not None:
            posts = [p for p in posts if p.id_int < before]
        page = posts[:max_results]
        meta: dict = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0].id
            meta["oldest_id"] = page[-1].id
        if len(posts) > max_results:
            meta["next_token"] = encode_token(page[-1].id_int)
        return page, meta

    # ----------------------------------------------------------------- handlers
    def users_by(self, request: Request) -> Reply:
        raw = request.query.get("usernames", "")
        names = [n for n in raw.split(",") if n]
        if not names:
            raise invalid_request("usernames", raw, "The `usernames` query parameter can not be empty")
        if len(names) > 100:
            raise invalid_request(
                "usernames",
                raw,
                "The number of values in the `usernames` query parameter list "
                f"[{len(names)}] is not between 1 and 100",
            )
        for n in names:
            if not _USERNAME.fullmatch(n):
                raise invalid_request(
                    "usernames",
                    n,
                    f"The `usernames` query parameter value [{n}] does not match ^[A-Za-z0-9_]{{1,15}}$",
                )
        fields = _csv(request, "user.fields", USER_FIELDS)
        _csv(request, "expansions", USER_EXPANSIONS)
        ts = request.now.timestamp()
        data, errors, seen = [], [], set()
        for n in names:
            user = request.company.user_by_username(n)
            if user is None:
                errors.append(not_found_error("user", "usernames", n, "usernames"))
            elif user.id not in seen:
                seen.add(user.id)
                data.append(self.render_user(request.company, user, ts, fields))
        body: dict = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def user_by_id(self, request: Request) -> Reply:
        uid = request.params["id"]
        _id(request, "id", uid)
        user = request.company.user_by_id(uid)
        if user is None:
            return Reply(200, {"errors": [not_found_error("user", "id", uid, "id")]})
        fields = _csv(request, "user.fields", USER_FIELDS)
        return Reply(200, {"data": self.render_user(request.company, user, request.now.timestamp(), fields)})

    def users_tweets(self, request: Request) -> Reply:
        uid = request.params["id"]
        _id(request, "id", uid)
        max_results = _int(request, "max_results", 10, 5, 100)
        start, end = _time(request, "start_time"), _time(request, "end_time")
        since, until = _id(request, "since_id"), _id(request, "until_id")
        exclude = set(_csv(request, "exclude", frozenset(["retweets", "replies"])))
        company = request.company
        user = company.user_by_id(uid)
        if user is None:
            return Reply(200, {"errors": [not_found_error("user", "id", uid, "id")]})
        ts = request.now.timestamp()
        visible = [p for p in reversed(company.posts_of(user.idx, ts)) if p.visible_at(ts)]
        posts = visible[:MAX_TIMELINE]
        posts = _filter(posts, start, end, since, until)
        if "retweets" in exclude:
            posts = [p for p in posts if p.kind != "retweet"]
        page, meta = self._page(request, posts, "pagination_token", max_results)
        body = self.tweets_payload(request, page)
        body["meta"] = meta
        return Reply(200, body)

    def search_recent(self, request: Request) -> Reply:
        now = request.now
        q = request.query.get("query")
        if not q:
            raise invalid_request("query", "", "The `query` query parameter can not be empty")
        if len(q) > MAX_QUERY:
            raise invalid_request(
                "query",
                q,
                f"The `query` query parameter value [{q[:40]}...] is not valid: "
                f"query length {len(q)} exceeds {MAX_QUERY} characters",
            )
        query = Query(q)
        max_results = _int(request, "max_results", 10, 10, 100)
        oldest = now - dt.timedelta(days=SEARCH_DAYS)
        start, end = _time(request, "start_time"), _time(request, "end_time")
        if start is not None and start < oldest:
            raw = request.query["start_time"]
            raise invalid_request(
                "start_time",
                raw,
                f"Invalid 'start_time':'{raw}'. 'start_time' must be on or after {_minute(oldest)}",
            )
        if end is not None and end > now - dt.timedelta(seconds=10):
            raw = request.query["end_time"]
            raise invalid_request(
                "end_time",
                raw,
                f"Invalid 'end_time':'{raw}'. 'end_time' must be a minimum of 10 "
                "seconds prior to the request time.",
            )
        start = start or oldest
        end = end or now - dt.timedelta(seconds=30)
        if start >= end:
            raw = request.query.get("end_time", "")
            raise invalid_request(
                "end_time", raw, f"Invalid 'end_time':'{raw}'. 'end_time' must be after 'start_time'"
            )
        since, until = _id(request, "since_id"), _id(request, "until_id")
        _csv(request, "sort_order", frozenset(["recency", "relevancy"]))
        matched = self._search(request.company, query, start, end, since, until, now)
        page, meta = self._page(request, matched, "next_token", max_results)
        body = self.tweets_payload(request, page)
        body["meta"] = meta
        return Reply(200, body)

    def _search(self, company, query, start, end, since, until, now) -> list[Post]:
        key = (query.text, start, end, since, until, now)
        with self._cache_lock:
            hit = self._search_cache.get(key)
            if hit is not None:
                self._search_cache.move_to_end(key)
                return hit
        ts = now.timestamp()
        out = []
        for p in company.posts_between(start.timestamp(), end.timestamp()):
            if not p.visible_at(ts):
                continue
            if since is not None and p.id_int <= since:
                continue
            if until is not None and p.id_int >= until:
                continue
            if query.matches(_view(company, p)):
                out.append(p)
        out.reverse()
        with self._cache_lock:
            self._search_cache[key] = out
            while len(self._search_cache) > 64:
                self._search_cache.popitem(last=False)
        return out

    def tweets_lookup(self, request: Request) -> Reply:
        raw = request.query.get("ids", "")
        ids = [i for i in raw.split(",") if i]
        if not ids:
            raise invalid_request("ids", raw, "The `ids` query parameter can not be empty")
        if len(ids) > 100:
            raise invalid_request(
                "ids",
                raw,
                f"The number of values in the `ids` query parameter list [{len(ids)}] "
                "is not between 1 and 100",
            )
        for i in ids:
            _id(request, "ids", i)
        ts = request.now.timestamp()
        posts, errors, seen = [], [], set()
        for i in ids:
            if i in seen:
                continue
            seen.add(i)
            p = request.company.post_by_id(i)
            if p is None or not p.visible_at(ts):
                errors.append(not_found_error("tweet", "ids", i, "ids"))
            else:
                posts.append(p)
        return Reply(200, self.tweets_payload(request, posts, errors))

    def tweet_by_id(self, request: Request) -> Reply:
        tid = request.params["id"]
        _id(request, "id", tid)
        p = request.company.post_by_id(tid)
        if p is None or not p.visible_at(request.now.timestamp()):
            return Reply(200, {"errors": [not_found_error("tweet", "id", tid, "id")]})
        body = self.tweets_payload(request, [p])
        body["data"] = body["data"][0]  # single lookups return an object
        return Reply(200, body)


def _filter(posts, start, end, since, until):
    s = None if start is None else start.timestamp()
    e = None if end is None else end.timestamp()
    return [
        p
        for p in posts
        if (s is None or p.created >= s)
        and (e is None or p.created < e)
        and (since is None or p.id_int > since)
        and (until is None or p.id_int < until)
    ]


def _view(company: Company, p: Post) -> dict:
    ent = company.entities(p)
    return {
        "id": p.id,
        "text": p.text.lower(),
        "author": company.x_users[p.author].username.lower(),
        "hashtags": {h["tag"].lower() for h in ent.get("hashtags", ())},
        "mentions": {m["username"].lower() for m in ent.get("mentions", ())},
        "urls": [u["expanded_url"].lower() for u in ent.get("urls", ())],
        "links": bool(ent.get("urls")),
        "is": {"retweet": p.kind == "retweet", "quote": p.kind == "quote", "reply": False},
        "retweets_of": (
            company.x_users[company.post_by_id(p.ref_id).author].username.lower()
            if p.kind == "retweet"
            else None
        ),
    }


def _minute(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC) + dt.timedelta(seconds=59)  # round up to the minute
    return value.strftime("%Y-%m-%dT%H:%MZ")


def _description(company: Company, user: XUser) -> str:
    if user.role == "company":
        return "Autonomous mobile robots for warehouses and factories. #NorthwindRobotics"
    if user.role == "employee":
        emp = company.employee_of_user(user)
        return f"{emp.department} @ Northwind Robotics. Views my own." if emp else ""
    return "Automation, logistics and robots."


DEFAULT_TOKEN = "sandbox-x-token"  # noqa: S105 (the sandbox's app-only bearer token)


def create(options: PlatformOptions) -> XPlatform:
    """Entry point the sandbox server mounts (see ``server.PLATFORM_MODULES``)."""
    return XPlatform(options)


def connections(server) -> dict[str, str]:
    """``x_api``: host and the app-only bearer token (tweepy swaps only scheme and host)."""
    return {"AIRFLOW_CONN_X_API": http_connection(server.url, server.tokens["x"])}


def banner(server) -> str:
    return f"X: host={server.url} bearer token={server.tokens['x']}"

"""LinkedIn REST (``/rest/...``, Rest.li 2.0) look-alike over the synthetic company.

It follows ``docs/platforms/linkedin.md`` (LinkedIn's documentation), including who may
read what: the organisation token reads the organisation's posts and members' reshares
of them (posts, social metadata, share statistics, network sizes); a member token only
that member's own posts, social metadata, analytics and ``/v2/connections`` size. Any
other read is refused with ``403 ACCESS_DENIED`` (per URN inside a batch get); an
undocumented path answers 404 (``RESOURCE_NOT_FOUND``).

Shapes follow docs/platforms/linkedin.md (evidence in tests/fixtures/api/linkedin): URNs as
ids (URL-encoded in paths, and inside ``List(...)`` / ``(share:...)`` query values), epoch
**milliseconds**, finder responses ``{"paging": {"start", "count", "links"},
"elements": [...]}`` (a ``rel: next`` link while more elements exist),
batch gets ``{"results", "statuses", "errors"}``, errors ``{"status",
"code", "message"[, "serviceErrorCode"]}``.

Every request needs ``Authorization: Bearer <token>`` and a ``LinkedIn-Version:
YYYYMM`` header: missing -> 400 ``VERSION_MISSING``; a month in the future or
more than 12 months before the sandbox clock -> 426 ``NONEXISTENT_VERSION``
(versions are sunset after a year). Tokens: the organisation admin token
(``sandbox-linkedin-token``) and member tokens (``sandbox-li-member-<id>``, for
advocates who granted ``r_member_social``); unknown -> 401
``INVALID_ACCESS_TOKEN``; expired (server ``expired_tokens``) -> 401
``EXPIRED_ACCESS_TOKEN`` ("The token used in the request has expired").
Throttled -> 429 with a body and no rate-limit headers (LinkedIn's limits are
daily).

Endpoints:

* ``GET /rest/posts?q=author&author=<urn>&count=&start=&sortBy=`` (newest
  first; org posts with the org token, a member's with their own token),
  ``GET /rest/posts/<urn>``, ``GET /rest/posts?ids=List(<urn>,...)``.
  Posts: ``id``, ``author``, ``commentary`` (little text: ``{hashtag|\\#|Tag}``,
  ``@[Name](urn:li:organization:N)``; empty for a pure reshare),
  ``reshareContext {parent, root}``, ``content.article.source`` for links,
  ``createdAt``/``publishedAt``/``lastModifiedAt`` ms, ``visibility``,
  ``lifecycleState``, ``distribution``.
* ``GET /rest/socialMetadata/<urn>`` and ``?ids=List(...)``:
  ``reactionSummaries`` by type, ``commentSummary {count, topLevelCount}``.
* ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&
  organizationalEntity=<org>&shares=List(...)&ugcPosts=List(...)`` (org token):
  lifetime ``totalShareStatistics`` per org post.
* ``GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:<urn>)|(ugc:<urn>)&
  queryType=IMPRESSION|MEMBERS_REACHED|RESHARE|REACTION|COMMENT&aggregation=TOTAL``:
  the author's own token with ``r_member_postAnalytics``, else 403
  ``ACCESS_DENIED``.
* ``GET /rest/networkSizes/<org urn>?edgeType=COMPANY_FOLLOWED_BY_MEMBER`` (org token) and
  ``GET /v2/connections/urn:li:person:<id>`` (unversioned; that member's token):
  ``{"firstDegreeSize": N}``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlencode

from advocacy.sandbox.api import Platform, PlatformOptions, Reply, Request, Route, http_connection
from advocacy.sandbox.company import COMPANY_COPY, COMPANY_NAME
from advocacy.sandbox.social import Account, PlatformWorld, SocialPost, li_reactions

RATE_LIMITS = {  # per window; LinkedIn's real limits are per app and per member, per day
    "posts": 5000,
    "post": 5000,
    "social_metadata": 5000,
    "share_statistics": 5000,
    "member_analytics": 20000,  # one request per post and metric: a history run needs thousands
    "network_sizes": 5000,
    "connections": 5000,
}
MAX_COUNT = 100
MAX_IDS = 100
QUERY_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")
METRIC_TYPE_KEY = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
THROTTLE_MESSAGE = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
_VERSION = re.compile(r"^(20\d\d)(0[1-9]|1[0-2])$")


class LinkedInError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, service_code: int | None = None):
        super().__init__(message)
        self.status = status
        self.body: dict = {"status": status}
        if service_code is not None:
            self.body["serviceErrorCode"] = service_code
        if code is not None:
            self.body["code"] = code
        self.body["message"] = message

    def reply(self) -> Reply:
        return Reply(self.status, self.body)


def _path_urn(raw: str) -> str:
    if ":" in raw:  # Rest.li 2.0: a URN in a path must be URL-encoded
        raise LinkedInError(400, f"Syntax exception in path variables: {raw}", "ILLEGAL_ARGUMENT")
    urn = unquote(raw)
    if not urn.startswith("urn:li:"):
        raise LinkedInError(400, f"Invalid URN: {urn}", "ILLEGAL_ARGUMENT")
    return urn


def _list(raw: str | None, name: str) -> list[str]:
    if raw is None:
        return []
    raw = raw.strip()
    if not (raw.startswith("List(") and raw.endswith(")")):
        raise LinkedInError(400, f"Invalid value for param {name}: expected List(...)", "ILLEGAL_ARGUMENT")
    items = [unquote(i) for i in raw[5:-1].split(",") if i]
    for i in items:
        if not i.startswith("urn:li:"):
            raise LinkedInError(400, f"Invalid URN in {name}: {i}", "ILLEGAL_ARGUMENT")
    return list(dict.fromkeys(items))


def ms(ts: float) -> int:
    return int(ts) * 1000


class LinkedInPlatform(Platform):
    name = "linkedin"
    prefix = "/rest/"
    paged_endpoints = frozenset({"posts"})
    cursor_params = ("start",)
    page_size_params = ("count",)
    continuation_params = ("start",)

    def __init__(self, options: PlatformOptions):
        super().__init__(options)
        limits = {**RATE_LIMITS, **options.rate_limits}

        def r(pattern, endpoint, handler):
            return Route("GET", pattern, endpoint, handler, limits[endpoint])

        self.routes = [
            r("/rest/posts", "posts", self.posts),
            r("/rest/posts/:urn", "post", self.post),
            r("/rest/socialMetadata", "social_metadata", self.social_metadata_batch),
            r("/rest/socialMetadata/:urn", "social_metadata", self.social_metadata),
            r("/rest/organizationalEntityShareStatistics", "share_statistics", self.share_statistics),
            r("/rest/memberCreatorPostAnalytics", "member_analytics", self.member_analytics),
            r("/rest/networkSizes/:urn", "network_sizes", self.network_sizes),
            # Connections size is documented only on the unversioned v2 API (no LinkedIn-Version)
            r("/v2/connections/:urn", "connections", self.connections),
        ]

    # ----------------------------------------------------------------- dialect
    def world(self, request: Request) -> PlatformWorld:
        return request.company.social["linkedin"]

    def principal(self, request: Request) -> Account | None:
        """None for the organisation token, else the member whose token it is."""
        auth = request.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if token and token in self.options.expired_tokens:
            raise LinkedInError(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN")
        if token and (self.options.token is None or token == self.options.token):
            return None
        acc = self.world(request).account_for_token(token, request.now.timestamp()) if token else None
        if acc is None:
            raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        return acc

    def authenticate(self, request: Request) -> Reply | None:
        try:
            self.principal(request)
            if request.path.startswith(self.prefix):  # /v2/ is unversioned
                self._check_version(request)
        except LinkedInError as exc:
            return exc.reply()
        return None

    @staticmethod
    def _check_version(request: Request) -> None:
        version = (request.headers.get("LinkedIn-Version") or "").strip()
        if not version:
            raise LinkedInError(
                400,
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        m = _VERSION.match(version)
        now = request.now
        months_now = now.year * 12 + now.month
        months = int(m.group(1)) * 12 + int(m.group(2)) if m else None
        if months is None or months > months_now or months_now - months > 12:
            raise LinkedInError(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")

    def too_many_requests(self, limit: int, reset_epoch: int) -> Reply:
        return Reply(
            429,
            {
                "status": 429,
                "message": THROTTLE_MESSAGE,
            },
        )

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> dict[str, str]:
        return {}

    def not_found(self, request: Request) -> Reply:
        return Reply(
            404, {"status": 404, "code": "RESOURCE_NOT_FOUND", "message": f"No route for {request.path}"}
        )

    def server_error(self, status: int) -> Reply:
        messages = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return Reply(status, {"status": status, "message": messages.get(status, "Server Error")})

    def rate_limited(self, request: Request, reset_epoch: int) -> Reply:
        return self.too_many_requests(0, reset_epoch)  # LinkedIn sends no reset headers (daily limits)

    def token_expired(self, request: Request) -> Reply:
        return LinkedInError(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN").reply()

    def fault(self, name: str, request: Request, **kwargs) -> Reply:
        if name == "throttle_429":
            return self.too_many_requests(0, 0)
        if name == "server_error_500":
            return self.server_error(500)
        return super().fault(name, request, **kwargs)

    def handle(self, route: Route, request: Request) -> Reply:
        try:
            reply = route.handler(request)
        except LinkedInError as exc:
            reply = exc.reply()
        reply.headers.setdefault("x-restli-protocol-version", "2.0.0")
        return reply

    # ----------------------------------------------------------------- rendering
    def render_post(self, world: PlatformWorld, p: SocialPost) -> dict:
        acc = world.accounts[p.author]
        created = int(p.id.rsplit(":", 1)[1]) >> 22  # the id carries its creation millisecond
        out: dict = {
            "isReshareDisabledByAuthor": False,
            "createdAt": created,
            "lifecycleState": "PUBLISHED",
            "lastModifiedAt": created + 1,
            "visibility": "PUBLIC",
            "publishedAt": created + 1,
            "author": acc.id,
            "id": p.id,
            "distribution": {"feedDistribution": "MAIN_FEED", "thirdPartyDistributionChannels": []},
            "commentary": p.text,
            "lifecycleStateInfo": {"isEditedByAuthor": False},
        }
        if p.ref_id is not None:
            out["reshareContext"] = {"parent": p.ref_id, "root": p.ref_id}
        link = p.link
        if link:
            k = next((i for i, c in enumerate(COMPANY_COPY) if p.text.startswith(c)), None)
            title = COMPANY_COPY[k] if k is not None else f"{COMPANY_NAME}"
            out["content"] = {"article": {"source": link, "title": title, "description": f"{COMPANY_NAME}"}}
        return out

    def social(self, world: PlatformWorld, p: SocialPost, ts: float) -> dict:
        m = p.metrics_at(ts)
        reactions = li_reactions(m["reactions"])
        return {
            "reactionSummaries": {k: {"reactionType": k, "count": v} for k, v in reactions.items()},
            "commentsState": "OPEN",
            "commentSummary": {"count": m["comments"], "topLevelCount": m["comments"] - m["comments"] // 5},
            "entity": p.id,
        }

    def _visible(self, world: PlatformWorld, urn: str, ts: float) -> SocialPost | None:
        p = world.by_post_id.get(urn)
        return p if p is not None and p.visible_at(ts) else None

    @staticmethod
    def may_read(world: PlatformWorld, who: Account | None, p: SocialPost) -> bool:
        """Who may read a post and its social metadata (docs/platforms/linkedin.md): the
        organisation token its own posts and members' reshares of them
        (``r_organization_social``); a member token only that member's posts
        (``r_member_social``)."""
        if who is None:
            if p.author == 0:
                return True
            parent = world.by_post_id.get(p.ref_id) if p.ref_id is not None else None
            return parent is not None and parent.author == 0
        return world.accounts[p.author].id == who.id

    @staticmethod
    def _denied(urn: str, what: str) -> dict:
        return {
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": f"Not enough permissions to access: {what} {urn}",
        }

    def _batch(self, request: Request, who: Account | None, render, what: str) -> Reply:
        world = self.world(request)
        ts = request.now.timestamp()
        results, statuses, errors = {}, {}, {}
        for urn in _list(request.query.get("ids"), "ids")[:MAX_IDS]:
            p = self._visible(world, urn, ts)
            if p is None:
                statuses[urn] = 404
                errors[urn] = {"status": 404, "code": "NOT_FOUND", "message": f"Not Found: {urn}"}
            elif not self.may_read(world, who, p):
                statuses[urn] = 403
                errors[urn] = self._denied(urn, what)
            else:
                statuses[urn] = 200
                results[urn] = render(world, p, ts)
        return Reply(200, {"results": results, "statuses": statuses, "errors": errors})

    # ----------------------------------------------------------------- handlers
    def posts(self, request: Request) -> Reply:
        who = self.principal(request)
        world = self.world(request)
        ts = request.now.timestamp()
        if "ids" in request.query:
            return self._batch(request, who, lambda w, p, _ts: self.render_post(w, p), "posts.BATCH_GET")
        if request.query.get("q") != "author":
            raise LinkedInError(
                400, "The finder q=author or a batch get with ids is required", "ILLEGAL_ARGUMENT"
            )
        author = request.query.get("author") or ""
        acc = world.by_id.get(author)
        if acc is None:
            raise LinkedInError(400, f"Invalid value for param author: {author}", "ILLEGAL_ARGUMENT")
        if (acc.role == "company" and who is not None) or (
            acc.role != "company" and (who is None or who.id != acc.id)
        ):
            raise LinkedInError(
                403,
                "Not enough permissions to access: posts.FINDER-author.20250801",
                "ACCESS_DENIED",
                100,
            )
        count = self._int(request, "count", 10, 1, MAX_COUNT)
        start = self._int(request, "start", 0, 0, 10**6)
        posts = world.visible_of(acc, ts)
        page = posts[start : start + count]
        links = []
        if start + count < len(posts):
            params = {k: v for k, v in request.query.items()}
            params["start"] = str(start + count)
            params["count"] = str(count)
            links.append(
                {"type": "application/json", "rel": "next", "href": "/rest/posts?" + urlencode(params)}
            )
        if start > 0:
            params = {**request.query, "start": str(max(0, start - count)), "count": str(count)}
            links.append(
                {"type": "application/json", "rel": "prev", "href": "/rest/posts?" + urlencode(params)}
            )
        return Reply(
            200,
            {
                "paging": {"start": start, "count": count, "links": links},
                "elements": [self.render_post(world, p) for p in page],
            },
        )

    @staticmethod
    def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
        raw = request.query.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not lo <= int(raw) <= hi:
            raise LinkedInError(400, f"Invalid value for param {name}: {raw}", "ILLEGAL_ARGUMENT")
        return int(raw)

    def _one(self, request: Request, what: str) -> tuple[PlatformWorld, SocialPost]:
        who = self.principal(request)
        world = self.world(request)
        urn = _path_urn(request.params["urn"])
        p = self._visible(world, urn, request.now.timestamp())
        if p is None:
            raise LinkedInError(404, f"Not Found: {urn}", "NOT_FOUND")
        if not self.may_read(world, who, p):
            body = self._denied(urn, what)
            raise LinkedInError(403, body["message"], "ACCESS_DENIED", 100)
        return world, p

    def post(self, request: Request) -> Reply:
        world, p = self._one(request, "posts.GET")
        return Reply(200, self.render_post(world, p))

    def social_metadata(self, request: Request) -> Reply:
        world, p = self._one(request, "socialMetadata.GET")
        return Reply(200, self.social(world, p, request.now.timestamp()))

    def social_metadata_batch(self, request: Request) -> Reply:
        return self._batch(request, self.principal(request), self.social, "socialMetadata.BATCH_GET")

    def share_statistics(self, request: Request) -> Reply:
        who = self.principal(request)
        world = self.world(request)
        org = world.company_account
        if (
            request.query.get("q") != "organizationalEntity"
            or request.query.get("organizationalEntity") != org.id
        ):
            raise LinkedInError(
                400, "q=organizationalEntity with your organization is required", "ILLEGAL_ARGUMENT"
            )
        if who is not None:
            raise LinkedInError(
                403,
                "Not enough permissions to access: "
                "organizationalEntityShareStatistics.FINDER-organizationalEntity",
                "ACCESS_DENIED",
                100,
            )
        ts = request.now.timestamp()
        urns = _list(request.query.get("shares"), "shares") + _list(request.query.get("ugcPosts"), "ugcPosts")
        elements = []
        for urn in urns:
            p = self._visible(world, urn, ts)
            if p is None or p.author != 0:
                continue
            m = p.metrics_at(ts)
            inter = m["reactions"] + m["comments"] + m["reshares"] + m["clicks"]
            key = "share" if urn.startswith("urn:li:share:") else "ugcPost"
            elements.append(
                {
                    "totalShareStatistics": {
                        "uniqueImpressionsCount": m["members_reached"],
                        "shareCount": m["reshares"],
                        "engagement": inter / m["impressions"] if m["impressions"] else 0.0,
                        "clickCount": m["clicks"],
                        "likeCount": m["reactions"],
                        "impressionCount": m["impressions"],
                        "commentCount": m["comments"],
                    },
                    key: urn,
                    "organizationalEntity": org.id,
                }
            )
        return Reply(200, {"paging": {"start": 0, "count": len(elements), "links": []}, "elements": elements})

    def member_analytics(self, request: Request) -> Reply:
        who = self.principal(request)
        world = self.world(request)
        if request.query.get("q") != "entity":
            raise LinkedInError(400, "q=entity is required", "ILLEGAL_ARGUMENT")
        entity = request.query.get("entity") or ""
        m = re.fullmatch(r"\((share|ugc):([^)]+)\)", entity)
        if not m:
            raise LinkedInError(400, f"Invalid value for param entity: {entity}", "ILLEGAL_ARGUMENT")
        urn = unquote(m.group(2))
        query_type = request.query.get("queryType")
        if query_type not in QUERY_TYPES:
            raise LinkedInError(400, f"Invalid value for param queryType: {query_type}", "ILLEGAL_ARGUMENT")
        if query_type in self.options.deprecated_metrics:
            raise LinkedInError(
                400,
                f"Invalid value for param queryType: {query_type}. This metric type is deprecated and no "
                "longer supported in this version.",
                "ILLEGAL_ARGUMENT",
            )
        if request.query.get("aggregation", "TOTAL") != "TOTAL":
            raise LinkedInError(400, "Only aggregation=TOTAL is supported for q=entity", "ILLEGAL_ARGUMENT")
        ts = request.now.timestamp()
        p = self._visible(world, urn, ts)
        if p is None:
            raise LinkedInError(404, f"Not Found: {urn}", "NOT_FOUND")
        if who is None or who.idx != p.author or not who.analytics:
            raise LinkedInError(
                403,
                "Not enough permissions to access: memberCreatorPostAnalytics.FINDER-entity.20250801",
                "ACCESS_DENIED",
                100,
            )
        metrics = p.metrics_at(ts)
        value = {
            "IMPRESSION": metrics["impressions"],
            "MEMBERS_REACHED": metrics["members_reached"],
            "RESHARE": metrics["reshares"],
            "REACTION": metrics["reactions"],
            "COMMENT": metrics["comments"],
        }[query_type]
        key = "share" if urn.startswith("urn:li:share:") else "ugc"
        return Reply(
            200,
            {
                "paging": {"start": 0, "count": 10, "links": []},
                "elements": [
                    {"count": value, "metricType": {METRIC_TYPE_KEY: query_type}, "targetEntity": {key: urn}}
                ],
            },
        )

    def network_sizes(self, request: Request) -> Reply:
        who = self.principal(request)
        world = self.world(request)
        urn = _path_urn(request.params["urn"])
        if who is not None:  # follower counts need the organisation admin's rw_organization_admin
            raise LinkedInError(
                403, "Not enough permissions to access: networkSizes.GET.20250801", "ACCESS_DENIED", 100
            )
        edge = request.query.get("edgeType")
        if urn != world.company_account.id or edge not in (
            "COMPANY_FOLLOWED_BY_MEMBER",
            "CompanyFollowedByMember",
        ):
            raise LinkedInError(400, f"Invalid edgeType {edge} for {urn}", "ILLEGAL_ARGUMENT")
        return Reply(200, {"firstDegreeSize": world.company_account.audience_at(request.now.timestamp())})

    def connections(self, request: Request) -> Reply:
        who = self.principal(request)
        # v2 (Rest.li 1.0) takes the URN as written; an encoded one is accepted too
        urn = unquote(request.params["urn"])
        if not urn.startswith("urn:li:person:"):
            raise LinkedInError(400, f"Invalid URN: {urn}", "ILLEGAL_ARGUMENT")
        if who is None or who.id != urn:
            raise LinkedInError(
                403, "Not enough permissions to access: connections.GET.20250801", "ACCESS_DENIED", 100
            )
        return Reply(200, {"firstDegreeSize": who.audience_at(request.now.timestamp())})


def encode_urn(urn: str) -> str:
    return quote(urn, safe="")


DEFAULT_TOKEN = "sandbox-linkedin-token"  # noqa: S105 (the organisation admin's token)


def create(options: PlatformOptions) -> LinkedInPlatform:
    """Entry point the sandbox server mounts (see ``server.PLATFORM_MODULES``)."""
    return LinkedInPlatform(options)


def connections(server) -> dict[str, str]:
    """``linkedin_api``: the organisation token and the member tokens of the advocates who
    granted access (extra ``member_tokens``, as a real deployment stores them)."""
    members = server.company.member_tokens("linkedin", server.now)
    return {
        "AIRFLOW_CONN_LINKEDIN_API": http_connection(
            server.url, server.tokens["linkedin"], member_tokens=members
        )
    }


def banner(server) -> str:
    urn = server.company.social.ids()["linkedin_organization_urn"]
    return f"LinkedIn: host={server.url} token={server.tokens['linkedin']} organization={urn}"

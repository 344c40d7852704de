"""Northwind Robotics on Facebook, Instagram and LinkedIn: accounts, posts, counters, tokens.

The X history lives in ``company.py``; this module adds the other platforms
for the same employees (their roster handles ``facebook_user_id``,
``instagram_username``, ``linkedin_member_urn``), so one advocate often posts
on several platforms. Nothing here draws from the X generators' random
streams: every platform uses its own ``random.Random`` seeded from
``(seed, platform, account)``, so X output is unchanged by this module.

What exists (and can be seen through the sandbox APIs):

* **Facebook**: the company Page (followers ~15k) posting Tue/Thu; advocates
  who granted the app a user token (``user_posts``, about 65 % of registered
  advocates with a Facebook id) post originals, verbatim copies, pure shares
  of Page posts (``parent_id``, no ``message``), shares with their own words,
  and off-topic posts, all readable with their token; advocates without a
  token only appear when they tag the Page (``/{page}/tagged``); community
  users tag the Page too. Friends counts are lognormal around 433. Page posts
  have insights (impressions); personal posts have none.
* **Instagram**: the company business account posting Wed/Sat; advocates'
  accounts are professional (creator) accounts for about 70 % (visible through
  business discovery: all their media and follower counts) or personal
  (their programme media are found only by hashtag search, without an
  author); community users post hashtag media. Some accounts hide like counts
  (``like_count`` omitted). No reshares on Instagram.
* **LinkedIn**: the organisation (followers ~22k) posting Mon/Wed/Fri;
  advocates who granted ``r_member_social`` (about 70 %) post originals, copies,
  pure reshares (``reshareContext``, empty commentary), reshares with
  commentary and off-topic posts; about 60 % of them also granted
  ``r_member_postAnalytics`` (impressions, members reached, reshares).
  Connections lognormal around 459. Commentary uses LinkedIn's "little text":
  ``{hashtag|\\#|Tag}`` and ``@[Northwind Robotics](urn:li:organization:N)``.

Advocates' programme posts start the UTC day after registration, as on X;
counters follow the same ``floor(final * (1 - exp(-age / tau)))`` curve; about
2 % of non-company posts are deleted later. Tokens: Facebook members
``sandbox-fb-member-<facebook_user_id>``, LinkedIn members
``sandbox-li-member-<id part of the URN>``, valid from the advocate's
registration day for those who granted access.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advocacy.sandbox.company import (
    _H0,
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
    MENTION_PHRASES,
    MONTHS,
    OFFTOPIC,
    OFFTOPIC_TAGS,
    OPENERS,
    QUOTE_WORDS,
    SEASON,
    UTM_MEDIUM,
    YEAR,
    Employee,
    _day_ts,
    _poisson,
    _ts,
    x_time,
)

if TYPE_CHECKING:
    from advocacy.sandbox.company import Company

PLATFORMS = ("facebook", "instagram", "linkedin")
HANDLE_COLUMN = {
    "x": "x_username",
    "facebook": "facebook_user_id",
    "instagram": "instagram_username",
    "linkedin": "linkedin_member_urn",
}
#: counters each platform keeps per post, in ``SocialPost.final`` order
METRICS = {
    "facebook": ("reactions", "comments", "shares", "impressions", "reach"),
    "instagram": ("likes", "comments", "views"),
    "linkedin": ("reactions", "comments", "reshares", "impressions", "members_reached", "clicks"),
}
FB_PAGE_USERNAME = "NorthwindRobotics"
IG_USERNAME = "northwindrobotics"
KINDS = ("company", "original", "verbatim_copy", "quote", "reshare", "offtopic")
LI_REACTIONS = (("PRAISE", 0.14), ("EMPATHY", 0.07), ("INTEREST", 0.04), ("APPRECIATION", 0.03))


@dataclass(frozen=True)
class Tuning:
    activity: float  # x employee's monthly activity
    rate: float  # x employee's post rate
    offtopic: float  # x employee's off-topic rate
    grant: float  # P(token granted | account) (FB/LI), P(professional) (IG)
    inter: float  # interaction level
    imp: float  # impressions per audience member
    company_days: tuple[int, ...]  # weekdays the company posts
    company_audience: int
    audience_mu: float  # lognormal audience of a person
    audience_sigma: float


TUNING = {
    # mean of lognormal = exp(mu + sigma^2 / 2): 433 friends, ~600 followers, 459 connections
    "facebook": Tuning(0.55, 0.45, 0.5, 0.65, 1.0, 0.45, (1, 3), 15400, math.log(433) - 0.32, 0.8),
    "instagram": Tuning(0.45, 0.4, 0.6, 0.70, 1.5, 0.6, (2, 5), 8300, math.log(600) - 0.5, 1.0),
    "linkedin": Tuning(0.9, 0.7, 0.3, 0.70, 1.3, 0.9, (0, 2, 4), 22100, math.log(459) - 0.32, 0.8),
}


@dataclass(frozen=True)
class Account:
    """A Page/profile/business account/member/organisation on one platform."""

    platform: str
    idx: int  # 0 = company
    id: str  # FB page/user id, IG user id, LinkedIn URN
    handle: str  # the roster value (FB user id, IG username, LinkedIn member URN); company: see docs
    name: str
    role: str  # company | employee | community
    employee_idx: int | None
    base_audience: int
    growth: float
    granted: bool = False  # FB user token / LinkedIn member token / IG professional account
    analytics: bool = False  # LinkedIn r_member_postAnalytics
    hides_likes: bool = False  # Instagram

    def audience_at(self, ts: float) -> int:
        return int(self.base_audience * (1.0 + self.growth * max(0.0, ts - _H0) / YEAR))


@dataclass(eq=False, slots=True)
class SocialPost:
    platform: str
    id: str
    author: int  # Account.idx
    created: int  # epoch seconds
    kind: str  # KINDS
    text: str  # as the API shows it (LinkedIn little text)
    link: str | None  # the company URL the post carries
    ref_id: str | None  # the company post it reshares (pure or with words)
    final: tuple[int, ...]  # METRICS[platform] order
    tau: float
    deleted: int | None
    employee_idx: int | None
    hashtags: tuple[str, ...] = ()  # as written, without '#'
    mentions_company: bool = False
    media_type: str = "IMAGE"
    urn_kind: str = "share"  # LinkedIn: share | ugcPost

    def visible_at(self, ts: float) -> bool:
        return self.created <= ts and (self.deleted is None or ts < self.deleted)

    def metrics_at(self, ts: float) -> dict[str, int]:
        age = ts - self.created
        f = 0.0 if age <= 0 else 1.0 - math.exp(-age / self.tau)
        return {k: int(v * f) for k, v in zip(METRICS[self.platform], self.final, strict=True)}


def hashtag_id(name: str) -> str:
    """Instagram hashtag ids are static and global: one name, one id, whatever the seed."""
    digest = hashlib.sha256(name.strip().lstrip("#").lower().encode()).hexdigest()
    return "17843" + str(int(digest[:16], 16))[-12:].rjust(12, "0")


def li_reactions(total: int) -> dict[str, int]:
    """A LinkedIn reaction count split by type (LIKE takes the rest)."""
    out = {name: int(total * share) for name, share in LI_REACTIONS}
    out = {"LIKE": total - sum(out.values()), **out}
    return {k: v for k, v in out.items() if v > 0}


class PlatformWorld:
    """Everything on one platform: ``accounts`` (0 = company), ``posts`` by time, lookups."""

    def __init__(self, company: Company, platform: str):
        self.company = company
        self.platform = platform
        self.tune = TUNING[platform]
        self.accounts: list[Account] = []
        self._make_accounts()
        self.by_id = {a.id: a for a in self.accounts}
        self.by_handle = {a.handle.lower(): a for a in self.accounts}
        self.by_employee = {a.employee_idx: a for a in self.accounts if a.employee_idx is not None}
        self.company_account = self.accounts[0]
        self.by_author: list[list[SocialPost]] = [[] for _ in self.accounts]
        self.by_author[0] = self._gen_company()
        self.company_posts = self.by_author[0]
        self._company_times = [p.created for p in self.company_posts]
        for acc in self.accounts[1:]:
            self.by_author[acc.idx] = self._gen_account(acc)
        self.posts = sorted((p for ps in self.by_author for p in ps), key=lambda p: (p.created, p.id))
        self._times = [p.created for p in self.posts]
        self.by_post_id = {p.id: p for p in self.posts}

    # ----------------------------------------------------------------- accounts
    def _make_accounts(self) -> None:
        c, plat, tune = self.company, self.platform, self.tune
        rng = random.Random(f"{c.seed}:{plat}:accounts")  # noqa: S311 (simulation)
        used: set[str] = set()

        def new_id(lo: int, hi: int, prefix: str = "") -> str:
            while True:
                value = prefix + str(rng.randrange(lo, hi))
                if value not in used:
                    used.add(value)
                    return value

        if plat == "facebook":
            cid, handle = new_id(10**14, 10**15), new_id(10**14, 10**15)
            cid = handle  # the page id is its handle in settings
        elif plat == "instagram":
            cid, handle = new_id(10**11, 10**12, "17841"), IG_USERNAME
        else:
            cid = "urn:li:organization:" + new_id(10**7, 10**8)
            handle = cid
        self.accounts.append(
            Account(plat, 0, cid, handle, COMPANY_NAME, "company", None, tune.company_audience, 0.25, True)
        )
        for e in c.employees:
            value = getattr(e, HANDLE_COLUMN[plat])
            # draw for everyone (fixed consumption), use only where the employee has an account
            granted = rng.random() < tune.grant
            analytics = rng.random() < 0.6
            hides = rng.random() < 0.15
            audience = max(5, int(rng.lognormvariate(tune.audience_mu, tune.audience_sigma)))
            growth = rng.uniform(0.02, 0.15)
            ig_id = new_id(10**11, 10**12, "17841") if plat == "instagram" else None
            if not value:
                continue
            used.add(value)
            acc_id = ig_id if plat == "instagram" else value
            self.accounts.append(
                Account(
                    plat,
                    len(self.accounts),
                    acc_id,
                    value,
                    e.full_name,
                    "employee",
                    e.idx,
                    audience,
                    growth,
                    granted=granted,
                    analytics=plat == "linkedin" and granted and analytics,
                    hides_likes=plat == "instagram" and hides,
                )
            )
        if plat == "linkedin":
            return  # no public search on LinkedIn: community posts are invisible to the API
        n = max(8, c.size // (20 if plat == "facebook" else 16))
        for i in range(n):
            base = COMMUNITY_NAMES[i % len(COMMUNITY_NAMES)]
            uname = base if i < len(COMMUNITY_NAMES) else f"{base}{i // len(COMMUNITY_NAMES)}"
            if plat == "facebook":
                acc_id = handle = new_id(10**14, 10**15)
                uname = uname.replace("_", " ").title()
            else:
                acc_id, handle = new_id(10**11, 10**12, "17841"), uname.replace("_", ".")
            self.accounts.append(
                Account(
                    plat,
                    len(self.accounts),
                    acc_id,
                    handle,
                    uname,
                    "community",
                    None,
                    max(5, int(rng.lognormvariate(5.8, 1.1))),
                    rng.uniform(0.0, 0.1),
                    hides_likes=plat == "instagram" and rng.random() < 0.15,
                )
            )

    # ----------------------------------------------------------------- lookups
    def employee(self, acc: Account) -> Employee | None:
        return None if acc.employee_idx is None else self.company.employees[acc.employee_idx]

    def account(self, key: str) -> Account | None:
        """By platform id or roster handle (case-insensitive)."""
        key = (key or "").strip()
        return self.by_id.get(key) or self.by_handle.get(key.lower())

    def granted_at(self, acc: Account) -> float | None:
        """When the advocate's token starts to work (registration day), or None."""
        e = self.employee(acc)
        if not acc.granted or e is None or e.registered_at is None:
            return None
        return _ts(e.registered_at)

    def member_token(self, acc: Account) -> str | None:
        if self.platform == "facebook":
            return f"sandbox-fb-member-{acc.id}"
        if self.platform == "linkedin":
            return f"sandbox-li-member-{acc.id.rsplit(':', 1)[-1]}"
        return None

    def account_for_token(self, token: str, ts: float) -> Account | None:
        """The member whose token this is, if it is valid at ``ts``."""
        prefix = {"facebook": "sandbox-fb-member-", "linkedin": "sandbox-li-member-"}.get(self.platform)
        if not prefix or not token.startswith(prefix):
            return None
        key = token[len(prefix) :]
        acc = self.by_id.get(key if self.platform == "facebook" else f"urn:li:person:{key}")
        start = None if acc is None else self.granted_at(acc)
        return acc if start is not None and start <= ts else None

    def tokens(self, ts: float) -> dict[str, str]:
        """Roster handle -> member token, for every advocate whose token works at ``ts``."""
        out = {}
        for acc in self.accounts[1:]:
            start = self.granted_at(acc)
            token = self.member_token(acc)
            if token and start is not None and start <= ts:
                out[acc.handle] = token
        return out

    def posts_between(self, start_ts: float, end_ts: float) -> list[SocialPost]:
        lo = bisect.bisect_left(self._times, start_ts)
        hi = bisect.bisect_left(self._times, end_ts)
        return self.posts[lo:hi]

    def visible_of(self, acc: Account, ts: float) -> list[SocialPost]:
        """An account's posts visible at ``ts``, newest first."""
        return [p for p in reversed(self.by_author[acc.idx]) if p.visible_at(ts)]

    # ----------------------------------------------------------------- text
    def tag(self, name: str) -> str:
        return "{hashtag|\\#|" + name + "}" if self.platform == "linkedin" else "#" + name

    def mention(self) -> str:
        if self.platform == "facebook":
            return COMPANY_NAME
        if self.platform == "instagram":
            return "@" + IG_USERNAME
        return f"@[{COMPANY_NAME}]({self.company_account.id})"

    def _hashtags(self, rng: random.Random) -> tuple[str, ...]:
        tags = [h.lstrip("#") for h in HASHTAGS] if rng.random() < 0.3 else [rng.choice(HASHTAGS).lstrip("#")]
        return tuple(t.lower() if rng.random() < 0.1 else t for t in tags)

    def _link(self, path: str, ts: float, medium: str, code: str | None = None) -> str:
        from advocacy import utm  # the same builder advocates use

        url = f"https://{DOMAIN}/{path}"
        campaign = self.company.campaign(ts)
        if code is None:
            source = utm.source_for(self.platform)
            return f"{url}?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
        return utm.build_link(url, utm_code=code, campaign=campaign, platform=self.platform, medium=medium)

    def _compose(self, words: str, tags=(), mention=False, link=None) -> str:
        parts = [words]
        if mention:
            phrase = MENTION_PHRASES[len(words) % len(MENTION_PHRASES)]
            parts.append(phrase.replace("@NorthwindHQ", self.mention()))
        if tags:
            parts.append(" ".join(self.tag(t) for t in tags))
        if link and self.platform != "linkedin":  # LinkedIn carries links as content.article
            parts.append(link)
        return " ".join(parts)

    # ----------------------------------------------------------------- generation
    def _final(self, rng: random.Random, audience: int, factor: float) -> tuple[int, ...]:
        n = len(METRICS[self.platform])
        if factor <= 0:
            return (0,) * n
        imp = audience * rng.lognormvariate(math.log(self.tune.imp), 0.5)
        inter = audience**0.6 * rng.lognormvariate(math.log(0.2), 0.45) * factor * self.tune.inter
        if self.platform == "facebook":
            return (
                _poisson(rng, inter * 0.78),
                _poisson(rng, inter * 0.14),
                _poisson(rng, inter * 0.08),
                max(1, round(imp)),
                max(1, round(imp * 0.7)),
            )
        if self.platform == "instagram":
            return (_poisson(rng, inter * 0.9), _poisson(rng, inter * 0.1), max(1, round(imp)))
        return (
            _poisson(rng, inter * 0.75),
            _poisson(rng, inter * 0.15),
            _poisson(rng, inter * 0.10),
            max(1, round(imp)),
            max(1, round(imp * 0.65)),
            _poisson(rng, inter * 0.3),
        )

    def _post(
        self,
        rng: random.Random,
        acc: Account,
        t: int,
        kind: str,
        text: str,
        *,
        link: str | None = None,
        ref: SocialPost | None = None,
        tags: tuple[str, ...] = (),
        mention: bool = False,
        factor: float = 1.0,
        deletable: bool = True,
    ) -> SocialPost:
        deleted = None
        if deletable and rng.random() < 0.02:
            deleted = t + max(3600, int(rng.expovariate(1 / (4 * DAY))))
        media = "IMAGE"
        if self.platform == "instagram":
            media = rng.choices(("IMAGE", "CAROUSEL_ALBUM", "VIDEO"), (0.6, 0.25, 0.15))[0]
        return SocialPost(
            platform=self.platform,
            id="",
            author=acc.idx,
            created=t,
            kind=kind,
            text=text,
            link=link,
            ref_id=None if ref is None else ref.id,
            final=self._final(rng, acc.audience_at(t), factor),
            tau=rng.uniform(1.0, 2.0) * DAY,
            deleted=deleted,
            employee_idx=acc.employee_idx,
            hashtags=tags,
            mentions_company=mention,
            media_type=media,
            urn_kind="ugcPost" if self.platform == "linkedin" and acc.idx and rng.random() < 0.3 else "share",
        )

    def _assign_ids(self, acc: Account, posts: list[SocialPost], rng: random.Random) -> list[SocialPost]:
        posts.sort(key=lambda p: p.created)
        last_second, millis = -1, 0
        for p in posts:
            millis = millis + 1 if p.created == last_second else rng.randrange(900)
            last_second = p.created
            ms = (p.created - _H0) * 1000 + millis
            if self.platform == "facebook":
                p.id = f"{acc.id}_{122_000_000_000_000 + ms}"
            elif self.platform == "instagram":
                p.id = str(17_800_000_000_000_000 + ms * 4096 + acc.idx % 4096)
            else:
                p.id = f"urn:li:{p.urn_kind}:{((p.created * 1000 + millis) << 22) | (acc.idx & 0x3FFFFF)}"
        return posts

    def _gen_company(self) -> list[SocialPost]:
        acc = self.accounts[0]
        rng = random.Random(f"{self.company.seed}:{self.platform}:0")  # noqa: S311
        out = []
        for ms, me, _, _ in MONTHS:
            for day in range(ms, me, DAY):
                weekday = dt.datetime.fromtimestamp(day, dt.UTC).weekday()
                if weekday not in self.tune.company_days or rng.random() > 0.9:
                    continue
                t = day + rng.randrange(7 * 3600, 16 * 3600)
                k = rng.randrange(len(COMPANY_COPY))
                tags = self._hashtags(rng) if rng.random() < 0.85 else ()
                link = self._link(COMPANY_PATHS[k], t, COMPANY_UTM_MEDIUM)
                text = self._compose(COMPANY_COPY[k], tags, link=link)
                out.append(
                    self._post(
                        rng, acc, t, "company", text, link=link, tags=tags, factor=1.3, deletable=False
                    )
                )
        return self._assign_ids(acc, out, rng)

    def _recent_company_post(self, rng: random.Random, t: int) -> SocialPost | None:
        hi = bisect.bisect_left(self._company_times, t - 600)
        lo = bisect.bisect_left(self._company_times, t - 14 * DAY)
        if hi <= lo:
            return None
        return self.company_posts[rng.randrange(max(lo, hi - 4), hi)]

    def _original(self, rng, acc, e, t, *, force_mention=False, force_tag=False) -> SocialPost:
        tag = rng.random() < 0.7 or force_tag
        mention = (rng.random() < 0.4 and self.platform != "instagram") or force_mention
        if self.platform == "instagram" and rng.random() < 0.25:
            mention = True
        link = rng.random() < 0.5 and not force_mention and not force_tag
        if not (tag or mention or link):
            tag = True
        opener, body = rng.choice(OPENERS), rng.choice(BODIES)
        if opener[-1] in ".!":
            body = body[0].upper() + body[1:]
        url = self._link(rng.choice(COMPANY_PATHS), t, UTM_MEDIUM, e.utm_code) if link else None
        tags = self._hashtags(rng) if tag else ()
        text = self._compose(f"{opener} {body}", tags, mention, url)
        return self._post(rng, acc, t, "original", text, link=url, tags=tags, mention=mention)

    def _reshare(self, rng, acc, t, kind) -> SocialPost | None:
        cp = self._recent_company_post(rng, t)
        if cp is None:
            return None
        if kind == "verbatim_copy":
            return self._post(
                rng,
                acc,
                t,
                kind,
                cp.text,
                link=cp.link,
                tags=cp.hashtags,
                mention=cp.mentions_company,
                factor=0.6,
            )
        if kind == "reshare":  # a pure share: no words of one's own
            return self._post(rng, acc, t, kind, "", ref=cp, factor=0.3)
        words = rng.choice(QUOTE_WORDS)
        tags = self._hashtags(rng) if rng.random() < 0.5 else ()
        return self._post(rng, acc, t, "quote", self._compose(words, tags), ref=cp, tags=tags, factor=0.95)

    def _gen_account(self, acc: Account) -> list[SocialPost]:
        rng = random.Random(f"{self.company.seed}:{self.platform}:{acc.idx}")  # noqa: S311
        if acc.role == "community":
            return self._assign_ids(acc, self._gen_community(acc, rng), rng)
        e = self.employee(acc)
        reg, left = _day_ts(e.registered_at), _day_ts(e.left_at)
        # FB/LI: a member token, granted on registering; IG: a professional account
        visible = acc.granted and (self.platform == "instagram" or reg is not None)
        sample = self.company._sample_time
        out: list[SocialPost] = []
        for _mi, (ms, me, _, month) in enumerate(MONTHS):
            if visible:
                for _ in range(_poisson(rng, e.offtopic_rate * self.tune.offtopic)):
                    t = sample(rng, ms, me)
                    text = rng.choice(OFFTOPIC)
                    tags: tuple[str, ...] = ()
                    if rng.random() < 0.25:
                        tags = (rng.choice(OFFTOPIC_TAGS).lstrip("#"),)
                        text = self._compose(text, tags)
                    out.append(self._post(rng, acc, t, "offtopic", text, tags=tags, factor=0.8))
            if reg is None:
                continue
            lo = max(ms, reg + DAY)
            hi = me if left is None else min(me, left - DAY)
            if hi - lo <= 3600:
                continue
            fresh = 1.25 if lo - reg < 60 * DAY else 1.0
            p_active = min(0.97, e.activity * SEASON.get(month, 1.0) * fresh * self.tune.activity)
            if rng.random() >= p_active:
                continue
            for _ in range(1 + _poisson(rng, e.post_rate * self.tune.rate * (hi - lo) / (me - ms))):
                t = sample(rng, lo, hi)
                kind = rng.choices(("original", "verbatim_copy", "quote", "reshare"), e.kind_weights)[0]
                if self.platform == "instagram" and kind in ("quote", "reshare"):
                    kind = "original"  # no reshares on Instagram
                post = None
                if not visible:
                    # only what the API can see: Page tags (FB) or hashtag media (IG)
                    if self.platform == "linkedin":
                        continue
                    post = self._original(
                        rng,
                        acc,
                        e,
                        t,
                        force_mention=self.platform == "facebook",
                        force_tag=self.platform == "instagram",
                    )
                elif kind != "original":
                    post = self._reshare(rng, acc, t, kind)
                if post is None:
                    post = self._original(rng, acc, e, t)
                out.append(post)
        return self._assign_ids(acc, out, rng)

    def _gen_community(self, acc: Account, rng: random.Random) -> list[SocialPost]:
        n_comm = sum(1 for a in self.accounts if a.role == "community")
        out = []
        for mi, (ms, me, _, _) in enumerate(MONTHS):
            lam = (0.3 + 0.12 * self.company._registered_per_month[mi]) / n_comm
            lam *= 2.5 if self.platform == "instagram" else 1.0  # fans post pictures more than text
            for _ in range(_poisson(rng, lam)):
                t = self.company._sample_time(rng, ms, me)
                mention = self.platform == "facebook" or rng.random() < 0.3
                tags = self._hashtags(rng) if (self.platform == "instagram" or rng.random() < 0.4) else ()
                link = None
                if self.platform == "facebook" and rng.random() < 0.3:
                    link = f"https://{DOMAIN}/{rng.choice(COMPANY_PATHS)}"
                text = self._compose(rng.choice(COMMUNITY_TEXT), tags, mention, link)
                out.append(
                    self._post(
                        rng, acc, t, "original", text, link=link, tags=tags, mention=mention, factor=0.9
                    )
                )
        return out

    # ----------------------------------------------------------------- ground truth
    def markers(self, p: SocialPost) -> dict[str, bool]:
        programme = {h.lstrip("#").lower() for h in HASHTAGS}
        host = (p.link or "").split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].lower()
        return {
            "has_programme_hashtag": any(t.lower() in programme for t in p.hashtags),
            "mentions_company": p.mentions_company,
            "links_company_domain": host == DOMAIN or host.endswith("." + DOMAIN),
            "references_company_post": p.ref_id is not None,
        }

    def observable_at(self, p: SocialPost, ts: float) -> bool:
        """Whether a connector with the documented credentials can see ``p`` at ``ts``.

        Company and community posts always; an employee's post when their token
        works at ``ts`` (Facebook, LinkedIn) or they are a registered advocate with a
        professional account (Instagram, business discovery), and otherwise only
        what the platform shows anyway: Facebook posts tagging the Page,
        Instagram programme-hashtag media.
        """
        acc = self.accounts[p.author]
        if acc.role != "employee":
            return True
        start = self.granted_at(acc)
        if self.platform == "instagram":
            e = self.employee(acc)
            if acc.granted and e.registered_at is not None and _ts(e.registered_at) <= ts:
                return True
            return self.markers(p)["has_programme_hashtag"]
        if start is not None and start <= ts:
            return True
        return self.platform == "facebook" and p.mentions_company

    def attributable(self, p: SocialPost) -> bool:
        """Whether the API reveals the author (not for Instagram personal accounts' hashtag media)."""
        acc = self.accounts[p.author]
        return not (self.platform == "instagram" and acc.role == "employee" and not acc.granted)

    def truth_post(self, p: SocialPost, ts: float, roster: set[int]) -> dict:
        acc = self.accounts[p.author]
        e = self.employee(acc)
        true_emp = e.employee_id if e is not None and e.idx in roster else None
        emp = true_emp if self.attributable(p) else None
        markers = self.markers(p)
        any_marker = any(markers.values())
        programme = (
            emp is not None
            and p.kind != "company"
            and any_marker
            and e.registered_at is not None
            and _ts(e.registered_at) <= p.created
        )
        deleted = p.deleted if p.deleted is not None and p.deleted <= ts else None
        m = p.metrics_at(ts if deleted is None else min(ts, deleted))
        counters = self.counters(p, m)
        utm_code = None
        if p.link and f"utm_medium={UTM_MEDIUM}" in p.link and "utm_content=" in p.link:
            utm_code = p.link.split("utm_content=", 1)[1].split("&", 1)[0]
        local = dt.datetime.fromtimestamp(p.created, self.company.tz)
        return {
            "id": p.id,
            "platform": self.platform,
            "author_id": acc.id,
            "author_username": acc.handle,
            "employee_id": emp,
            "true_employee_id": true_emp,
            "attributable": self.attributable(p),
            "created_at": x_time(p.created),
            "month_local": f"{local.year}-{local.month:02d}",
            "kind": p.kind if p.kind != "reshare" else "reshare",
            "text": p.text,
            "links": [p.link] if p.link else [],
            "utm_content": utm_code,
            "referenced": None if p.ref_id is None else {"type": "shared", "id": p.ref_id},
            "markers": markers,
            "is_programme_post": programme,
            "is_community_post": emp is None and p.kind != "company" and any_marker,
            "is_pure_reshare": p.kind == "reshare",
            "is_personalised": p.kind in ("original", "quote", "offtopic"),
            "is_pre_registration": False,
            "metrics": m,
            "counters": counters,
            "deleted_at": None if deleted is None else x_time(deleted),
        }

    def counters(self, p: SocialPost, m: dict[str, int]) -> dict:
        """Counters as the platform's API reveals them (None where it does not)."""
        acc = self.accounts[p.author]
        if self.platform == "facebook":
            likes, comments, shares = m["reactions"], m["comments"], m["shares"]
            impressions = m["impressions"] if acc.role == "company" else None
        elif self.platform == "instagram":
            likes = None if acc.hides_likes else m["likes"]
            comments, shares, impressions = m["comments"], None, None
        else:
            likes, comments = m["reactions"], m["comments"]
            if acc.role == "company" or acc.analytics:
                shares, impressions = m["reshares"], m["impressions"]
            else:
                shares = impressions = None
        return {
            "likes": likes,
            "comments": comments,
            "shares": shares,
            "impressions": impressions,
            "interactions": sum(v for v in (likes, comments, shares) if v is not None),
        }


class SocialWorld:
    """The company on every non-X platform; each platform is built on first use."""

    def __init__(self, company: Company):
        self.company = company
        self._worlds: dict[str, PlatformWorld] = {}
        self._lock = threading.Lock()

    def __getitem__(self, platform: str) -> PlatformWorld:
        world = self._worlds.get(platform)
        if world is None:
            if platform not in PLATFORMS:
                raise KeyError(f"no sandbox platform {platform!r} (one of {', '.join(PLATFORMS)})")
            with self._lock:
                world = self._worlds.get(platform)
                if world is None:
                    world = self._worlds[platform] = PlatformWorld(self.company, platform)
        return world

    def ids(self) -> dict[str, str]:
        return {
            "facebook_page_id": self["facebook"].company_account.id,
            "facebook_page_username": FB_PAGE_USERNAME,
            "instagram_user_id": self["instagram"].company_account.id,
            "instagram_username": IG_USERNAME,
            "linkedin_organization_urn": self["linkedin"].company_account.id,
        }

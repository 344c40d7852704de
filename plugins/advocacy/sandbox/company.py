"""Northwind Robotics: a deterministic synthetic company for demos, tests and benchmarks.

One seed and one size give one company and its whole social history from
``HISTORY_START`` to ``HISTORY_END``. Nothing depends on the wall clock: what
an API look-alike shows is filtered by a simulated clock ``now`` (an aware UTC
datetime). A post exists when ``created_at <= now`` (and ``now <
deleted_at``); its counters are a pure function of ``(post, now)``.

Generation is lazy and per author: every X user owns a ``random.Random``
seeded from ``(seed, user index)`` and generates its posts month by month, in
month order, only when a month is first needed (a timeline, a lookup, a
search, or the ground truth). The result does not depend on the order in which
authors or months are asked for, so a 20,000-employee company costs only what
is read from it.

What is simulated (all numbers are tendencies, not quotas):

* **Employees** in seven departments of different size and adoption. Most are
  invited around the programme start, some later (new hires, second waves),
  some never; about half of the invited register, spread over months; about
  80 % of the registered consent to be named. A few leave.
* **X users**: most employees have an X account (registered or not); the
  company account ``@NorthwindHQ``; and community users (fans, customers,
  journalists) who use the programme hashtags. Followers are lognormal (mean
  near the KPI benchmark of 772 for X) and grow slowly with time.
* **Company posts** (~3 a week, Mon/Wed/Fri) are the suggested copy: a
  sentence, programme hashtag(s) and a tracked link with ``utm_medium=social``.
* **Employee posts**: off-topic posts by every employee with an account (never
  programme posts); after registration, in months they are active (activity
  varies by department, person, season and freshness; dormant months happen):
  personalised originals (hashtag and/or ``@NorthwindHQ`` and/or a
  ``northwind.example`` link carrying their ``utm_code``), verbatim copies of a
  company post (same text, same link), pure retweets (``RT @NorthwindHQ: ...``,
  counters 0) and quotes with their own words. Invited employees who have not
  registered yet occasionally use a hashtag: not a programme post.
* **Community posts**: non-employees' hashtag/mention/link posts, retweets and
  quotes, about 10 % of all hashtag posts.
* **Engagement**: every post draws final counters; the lifetime value at time
  ``t`` is ``floor(final * (1 - exp(-(t - created_at) / tau)))`` with ``tau``
  between 1 and 2 days, so counters are integers, non-decreasing in ``t``.
  Personalised posts earn about 1.6x the interactions of verbatim copies.
* **Deletions**: about 2 % of employee and community posts are deleted some
  hours to weeks after posting; from ``deleted_at`` on they are gone from the API.

Time conventions: roster dates are calendar dates. A registered advocate's
programme posts are all created on a UTC day strictly after ``registered_at``
and a pre-registration hashtag post at least two UTC days before it, so the
"registered at post time" test gives the same answer in UTC and in the
programme time zone. Months for KPIs are calendar months in ``TIMEZONE``
(ground truth gives each post's ``month_local``).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import importlib
import io
import itertools
import math
import os
import random
import re
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from advocacy import platforms as registry

# --------------------------------------------------------------------------- programme
COMPANY_NAME = "Northwind Robotics"
DOMAIN = "northwind.example"
X_HANDLE = "NorthwindHQ"
HASHTAGS = ("#LifeAtNorthwind", "#NorthwindRobotics")
PROGRAMME_START = dt.date(2026, 1, 5)
TIMEZONE = "Europe/Amsterdam"
UTM_MEDIUM = "employee_advocacy"
COMPANY_UTM_MEDIUM = "social"

UTC = dt.UTC
HISTORY_START = dt.datetime(2025, 9, 1, tzinfo=UTC)
HISTORY_END = dt.datetime(2028, 1, 1, tzinfo=UTC)  # exclusive: history covers 2025-09 .. 2027-12
DEFAULT_SEED = 42
DEFAULT_SIZE = 320
DEFAULT_NOW = dt.datetime(2026, 11, 22, 6, 0, tzinfo=UTC)

ROSTER_COLUMNS = (
    "employee_id",
    "email",
    "full_name",
    "department",
    "country",
    "hired_at",
    "left_at",
    "invited_at",
    "registered_at",
    "consent_public",
    *registry.roster_columns(optional=False),  # each platform's account column (the registry)
    "utm_code",
    *registry.roster_columns(optional=True),  # optional in a real export (platforms added later)
)

#: X public_metrics keys, in the order the API prints them.
METRIC_KEYS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
KINDS = ("original", "verbatim_copy", "quote", "retweet", "offtopic")
TWEPOCH_MS = 1288834974657  # X snowflake epoch
AUTHOR_BITS = 22  # low bits of a sandbox tweet id = author index (lookups stay lazy)

DAY = 86400
YEAR = 365.25 * DAY

_H0 = int(HISTORY_START.timestamp())
_H1 = int(HISTORY_END.timestamp())


@dataclass(frozen=True)
class Department:
    name: str
    share: float  # share of headcount
    registration: float  # P(register | invited)
    activity: float  # P(active in a month | registered), before personal/season factors
    posts: float  # extra programme posts per active month (Poisson mean, plus 1)


DEPARTMENTS = (
    Department("Engineering", 0.30, 0.35, 0.45, 1.2),
    Department("Sales", 0.18, 0.70, 0.75, 2.2),
    Department("Marketing", 0.10, 0.85, 0.85, 2.8),
    Department("Customer Success", 0.14, 0.55, 0.60, 1.6),
    Department("Operations", 0.16, 0.30, 0.40, 1.0),
    Department("People", 0.06, 0.75, 0.70, 1.8),
    Department("Finance", 0.06, 0.25, 0.35, 0.8),
)
_DEPT = {d.name: d for d in DEPARTMENTS}
COUNTRIES = (("NL", 0.45), ("DE", 0.20), ("GB", 0.15), ("US", 0.12), ("PL", 0.08))
# Calendar-month activity factor: January kick-off, summer and December dips.
SEASON = {1: 1.15, 2: 1.05, 7: 0.75, 8: 0.6, 12: 0.75}

FIRST_NAMES = (
    "Anna",
    "Bram",
    "Chloe",
    "Daan",
    "Emma",
    "Finn",
    "Greta",
    "Hugo",
    "Iris",
    "Jasper",
    "Katja",
    "Lars",
    "Lotte",
    "Maarten",
    "Noor",
    "Olivier",
    "Pien",
    "Ruben",
    "Sanne",
    "Thijs",
    "Ursula",
    "Vera",
    "Wouter",
    "Yara",
    "Zoe",
    "Lukas",
    "Mia",
    "Jonas",
    "Lea",
    "Felix",
    "Hannah",
    "Paul",
    "Sophie",
    "Maximilian",
    "Clara",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "George",
    "Grace",
    "James",
    "Emily",
    "Jakub",
    "Zuzanna",
    "Piotr",
    "Maja",
    "Tomasz",
    "Olivia",
    "Liam",
    "Ava",
    "Noah",
    "Ethan",
    "Priya",
    "Arjun",
    "Mei",
    "Kenji",
    "Fatima",
    "Omar",
    "Sofia",
    "Mateo",
    "Aisha",
    "Ravi",
)
LAST_NAMES = (
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Becker",
    "Wagner",
    "Hoffmann",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Nowak",
    "Kowalski",
    "Wisniewski",
    "Wojcik",
    "Kaminski",
    "Johnson",
    "Miller",
    "Davis",
    "Garcia",
    "Martinez",
    "Lee",
    "Patel",
    "Khan",
    "Chen",
    "Tanaka",
    "Rossi",
    "Ali",
    "Haddad",
    "Novak",
    "Costa",
    "Silva",
    "Kumar",
    "Nguyen",
    "Kim",
    "Ivanova",
    "Horvath",
    "",
)
COMMUNITY_NAMES = (
    "robofan",
    "warehouse_weekly",
    "automation_daily",
    "logistics_lena",
    "cobot_carl",
    "supplychainsam",
    "factoryfloor",
    "techreporter_nl",
    "roboticsjobs",
    "pickandplace",
    "agvnerd",
    "industry4_tom",
    "makerspace_ehv",
    "engineering_ella",
    "retail_ops_raj",
    "coldchain_kim",
)

COMPANY_COPY = (
    "Meet Atlas-3, our new autonomous picking robot: 30% faster and half the energy.",
    "We're hiring robotics engineers in Eindhoven, Munich and Austin.",
    "How a Rotterdam distribution centre cut picking errors by 40% with Northwind fleets.",
    "Our engineers explain how vision models guide robot arms safely around people.",
    "Visit us at Automatica in Munich, hall B4: live demos every hour.",
    "New in Fleet Manager 5: predictive maintenance that flags worn grippers early.",
    "All Northwind production sites now run on 100% renewable electricity.",
    "Inside our test lab: 10,000 pick cycles a day, every day.",
    "Our interns built a robot that sorts recycling. Here's what they learned.",
    "Customer story: a grocery chain automated its cold storage with Northwind.",
    "Join our webinar on safe human-robot collaboration next Thursday.",
    "We just opened our new office in Warsaw!",
    "Five questions to ask before you automate your warehouse.",
    "Behind the scenes: how we test a gripper before it ships.",
    "Our Q3 product update is out: faster charging, smarter routing.",
    "Robotics apprenticeships: applications for the next cohort are open.",
)
COMPANY_PATHS = (
    "products/atlas-3",
    "careers",
    "customers/rotterdam-dc",
    "blog/vision-safety",
    "events/automatica",
    "products/fleet-manager",
    "sustainability",
    "blog/test-lab",
    "blog/intern-recycling-robot",
    "customers/coldchain",
    "events/webinar-cobots",
    "blog/warsaw-office",
    "guides/automation-checklist",
    "blog/gripper-testing",
    "blog/q3-update",
    "careers/apprenticeships",
)
THEMES = ("launch", "hiring", "customers", "events", "sustainability", "product")
OPENERS = (
    "Proud of my team!",
    "Big week at work.",
    "This is what I get to work on every day:",
    "One year at Northwind and still learning every week.",
    "Great day in the lab.",
    "Honestly one of the best teams I've worked with.",
    "Spent the afternoon with a customer,",
    "Fun fact from the office:",
    "If you like hard problems, talk to me.",
    "Small wins matter:",
)
BODIES = (
    "we just shipped the new fleet dashboard.",
    "our robots picked their millionth order this month.",
    "watching Atlas-3 dance around the test track never gets old.",
    "we're looking for people who love robots as much as we do.",
    "the customer feedback on the new gripper has been amazing.",
    "our team day ended with a robot-building contest.",
    "seeing our work run live in a real warehouse is the best feeling.",
    "we cut energy use of the charging stations by a third.",
    "mentoring our apprentices is the highlight of my week.",
    "we hosted 40 students for a robotics workshop.",
)
MENTION_PHRASES = (
    "Thanks @NorthwindHQ!",
    "Great work, @NorthwindHQ team.",
    "More from @NorthwindHQ soon.",
    "Join us at @NorthwindHQ.",
)
QUOTE_WORDS = (
    "This is what we've been building for months, so proud of the team.",
    "I worked on this one! Ask me anything.",
    "Huge milestone for us.",
    "If you're in logistics, this is worth a read.",
    "My favourite project this year.",
    "We're hiring for my team too, DM me.",
    "Seeing this live at a customer site was something else.",
)
OFFTOPIC = (
    "Sunday long run done, 21k in the rain.",
    "Any good sci-fi book recommendations?",
    "Best coffee in town? Asking for a friend.",
    "Finally finished that puzzle. 2000 pieces, never again.",
    "Garden update: the tomatoes survived the storm.",
    "Watching the match tonight, who else?",
    "New bike day!",
    "Made sourdough for the first time. It's... edible.",
    "Conference season is here again.",
    "Hot take: pineapple belongs on pizza.",
)
OFFTOPIC_TAGS = ("#running", "#coffee", "#books", "#gardening", "#cycling", "#weekend")
COMMUNITY_TEXT = (
    "Impressive demo by Northwind Robotics at the expo today.",
    "Their new picking robot is the real deal.",
    "Great talk on human-robot collaboration.",
    "Our warehouse runs on their fleet now, zero regrets.",
    "Interesting read on warehouse automation.",
    "Anyone else using these robots in cold storage?",
)


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Employee:
    """One roster row (full history; ``roster_row(as_of)`` hides the future) and behaviour."""

    idx: int
    employee_id: str
    email: str
    full_name: str
    department: str
    country: str
    hired_at: dt.date
    left_at: dt.date | None
    invited_at: dt.date | None
    registered_at: dt.date | None
    consent_public: bool
    x_username: str | None
    linkedin_member_urn: str | None
    facebook_user_id: str | None
    instagram_username: str | None
    utm_code: str
    # behaviour (not in the roster)
    x_user_idx: int | None = None
    activity: float = 0.0
    post_rate: float = 0.0
    offtopic_rate: float = 0.0
    kind_weights: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def roster_row(self, as_of: dt.date) -> dict[str, str] | None:
        """The HR export row as of ``as_of`` (``None`` if not hired yet)."""
        if self.hired_at > as_of:
            return None
        registered = _known(self.registered_at, as_of)
        return {
            "employee_id": self.employee_id,
            "email": self.email,
            "full_name": self.full_name,
            "department": self.department,
            "country": self.country,
            "hired_at": self.hired_at.isoformat(),
            "left_at": _iso(_known(self.left_at, as_of)),
            "invited_at": _iso(_known(self.invited_at, as_of)),
            "registered_at": _iso(registered),
            "consent_public": "true" if registered and self.consent_public else "false",
            # the accounts this record holds; a look-alike whose world lives in its own
            # module fills its column (its ``roster_columns`` hook)
            **{c: getattr(self, c, None) or "" for c in registry.roster_columns()},
            "utm_code": self.utm_code,
            **{k: v for hook in _look_alike_hooks("roster_columns") for k, v in hook(self).items()},
        }


@functools.cache
def _look_alike_hooks(name: str) -> tuple:
    """The ``name`` hooks of the platforms' sandbox modules that define one (``sandbox/api.py``)."""
    modules = dict.fromkeys(p.sandbox_module for p in registry.REGISTRY.values())
    found = (getattr(importlib.import_module(m), name, None) for m in modules)
    return tuple(hook for hook in found if hook is not None)


@dataclass(frozen=True)
class XUser:
    idx: int  # author index: 0 = company, then employees with an account, then community
    id: str  # numeric string (9..19 digits)
    username: str
    name: str
    role: str  # "company" | "employee" | "community"
    employee_idx: int | None
    base_followers: int  # at HISTORY_START
    growth: float  # relative follower growth per year
    following: int
    base_tweets: int
    created_at: str  # account creation, X format

    def followers_at(self, ts: float) -> int:
        years = max(0.0, ts - _H0) / YEAR
        return int(self.base_followers * (1.0 + self.growth * years))

    def public_metrics(self, ts: float, tweets_so_far: int = 0) -> dict[str, int]:
        return {
            "followers_count": self.followers_at(ts),
            "following_count": self.following,
            "tweet_count": self.base_tweets + tweets_so_far,
            "listed_count": self.base_followers // 150,
        }


@dataclass(eq=False, slots=True)
class Post:
    """One X post in the simulated history (see module docstring for kinds)."""

    id_int: int
    id: str
    author: int  # XUser.idx
    created: int  # epoch seconds (X prints seconds with .000Z)
    kind: str  # KINDS or "company"
    text: str
    links: tuple[tuple[str, str, str], ...]  # (t.co url, expanded_url, display_url)
    ref_type: str | None  # "retweeted" | "quoted" | None
    ref_id: str | None
    final: tuple[int, int, int, int, int, int]  # METRIC_KEYS order
    tau: float  # seconds
    deleted: int | None  # epoch seconds, None = never
    employee_idx: int | None
    pre_registration: bool = False  # hashtag post by an invited, not yet registered employee
    references_company: bool = False
    _entities: dict | None = field(default=None, repr=False)

    def visible_at(self, ts: float) -> bool:
        return self.created <= ts and (self.deleted is None or ts < self.deleted)

    def metrics_at(self, ts: float) -> tuple[int, ...]:
        """Lifetime counters at ``ts``: integers, non-decreasing in ``ts``."""
        age = ts - self.created
        if age <= 0:
            return (0, 0, 0, 0, 0, 0)
        f = 1.0 - math.exp(-age / self.tau)
        return tuple(int(v * f) for v in self.final)

    def public_metrics_at(self, ts: float) -> dict[str, int]:
        return dict(zip(METRIC_KEYS, self.metrics_at(ts), strict=True))


# --------------------------------------------------------------------------- helpers
def _iso(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def _known(d: dt.date | None, as_of: dt.date) -> dt.date | None:
    return d if d is not None and d <= as_of else None


def _as_date(as_of: dt.date | dt.datetime) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    return as_of


def _ts(value: dt.datetime | dt.date | float | int) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("simulated clock values must be timezone-aware (UTC)")
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return float(value)


def _day_ts(d: dt.date | None) -> int | None:
    return None if d is None else int(_ts(d))


def x_time(ts: float) -> str:
    """X's created_at format: ``2026-03-04T10:15:00.000Z``."""
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _ascii(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(ch for ch in s.lower() if ch.isalnum())


_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)")
_MENTION_RE = re.compile(r"(?<!\w)@(\w{1,15})")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_B36 = "abcdefghijklmnopqrstuvwxyz0123456789"
# UTC posting hours: mostly daytime in Europe, a thin tail late in the evening
# (22-23 UTC is already the next day in Amsterdam: month-boundary cases).
_HOUR_CUM = tuple(
    itertools.accumulate((0, 0, 0, 0, 0, 1, 3, 6, 8, 8, 7, 7, 8, 7, 6, 6, 6, 6, 7, 7, 6, 4, 2, 1))
)


def _months() -> list[tuple[int, int, int, int]]:
    """(start_ts, end_ts, year, month) for each UTC calendar month of the history."""
    out, y, m = [], HISTORY_START.year, HISTORY_START.month
    while True:
        start = dt.datetime(y, m, 1, tzinfo=UTC)
        if start >= HISTORY_END:
            return out
        y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
        end = dt.datetime(y2, m2, 1, tzinfo=UTC)
        out.append((int(start.timestamp()), int(end.timestamp()), y, m))
        y, m = y2, m2


MONTHS = _months()
_MONTH_STARTS = [m[0] for m in MONTHS]


def month_index(ts: float) -> int:
    """Index into MONTHS of the UTC month holding ``ts`` (clamped to the history)."""
    return max(0, min(len(MONTHS) - 1, bisect.bisect_right(_MONTH_STARTS, ts) - 1))


def tweet_id(created: int, millis: int, author: int) -> int:
    """A snowflake-like id: time-ordered, author index in the low bits."""
    return ((created * 1000 + millis - TWEPOCH_MS) << AUTHOR_BITS) | author


def decode_tweet_id(id_int: int) -> tuple[int, int]:
    """(author index, created epoch seconds) of a sandbox tweet id."""
    return id_int & ((1 << AUTHOR_BITS) - 1), ((id_int >> AUTHOR_BITS) + TWEPOCH_MS) // 1000


# --------------------------------------------------------------------------- company
class Company:
    """The synthetic company. Cheap to build; posts are generated on first use.

    ``Company(seed=42, size=320, posting=1.0)``: ``employees``, ``x_users``, ``company_user``;
    ``posts_of(author_idx, until_ts)``, ``posts_between(start_ts, end_ts)``,
    ``post_by_id(id)``, ``user_by_username(name)``, ``user_by_id(id)``;
    ``roster_rows(as_of)``, ``write_roster_csv(path, as_of)``, ``ground_truth(as_of)``.
    """

    def __init__(self, seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE, posting: float = 1.0):
        if size < 1:
            raise ValueError("size must be >= 1")
        if posting <= 0:
            raise ValueError("posting must be > 0")
        self.seed = int(seed)
        self.size = int(size)
        # programme posts per active month x posting (1: the demo's); the benchmark's large
        # company posts more, so a year holds the ~500k programme posts of a big programme
        self.posting = float(posting)
        self.tz = ZoneInfo(TIMEZONE)
        self._lock = threading.RLock()
        rng = random.Random(self.seed)  # noqa: S311 (simulation, not security)
        self.employees: list[Employee] = []
        self.x_users: list[XUser] = []
        self._used_ids: set[str] = set()
        self._used_usernames: set[str] = set()
        self._make_company_user(rng)
        self._make_employees(rng)
        self._make_community(rng)
        self._by_username = {u.username.lower(): u for u in self.x_users}
        self._by_user_id = {u.id: u for u in self.x_users}
        self._employee_by_user = {
            u.idx: self.employees[u.employee_idx] for u in self.x_users if u.employee_idx is not None
        }
        # registered advocates (with an X account) per month: drives community volume
        diff = [0] * (len(MONTHS) + 1)
        for e in self.employees:
            if e.x_user_idx is None or e.registered_at is None:
                continue
            first = month_index(_ts(e.registered_at))
            last = len(MONTHS) - 1 if e.left_at is None else month_index(_ts(e.left_at) - 1)
            if last >= first:
                diff[first] += 1
                diff[last + 1] -= 1
        self._registered_per_month = list(itertools.accumulate(diff[:-1]))
        # lazy per-author generation state
        n = len(self.x_users)
        self._rngs: list[random.Random | None] = [None] * n
        self._buckets: list[list[list[Post]]] = [[] for _ in range(n)]
        self._by_id: dict[int, Post] = {}
        self._all_month: dict[int, list[Post]] = {}
        # company posts first (everyone else reacts to them)
        self._ensure(0, len(MONTHS) - 1)
        self.company_posts: list[Post] = [p for b in self._buckets[0] for p in b]
        self._company_times = [p.created for p in self.company_posts]

    # ----------------------------------------------------------------- people
    def _new_user_id(self, rng: random.Random, old_account: bool) -> str:
        while True:
            if old_account:
                uid = str(rng.randrange(10**8, 5 * 10**9))
            else:
                uid = str(rng.randrange(10**17, 19 * 10**17))
            if uid not in self._used_ids:
                self._used_ids.add(uid)
                return uid

    def _new_username(self, rng: random.Random, first: str, last: str) -> str:
        f, la = _ascii(first), _ascii(last)
        style = rng.random()
        if style < 0.35:
            base = f"{f}_{la}"
        elif style < 0.6:
            base = f"{f[0]}{la}"
        elif style < 0.8:
            base = (first[:1].upper() + f[1:] + la[:1].upper() + la[1:]).replace(" ", "")
        else:
            base = f"{f}{la[:3]}"
        base = "".join(ch for ch in base if ch.isalnum() or ch == "_")[:12]
        name = base
        while name.lower() in self._used_usernames:
            name = f"{base}{rng.randrange(10, 999)}"[:15]
        self._used_usernames.add(name.lower())
        return name

    def _make_company_user(self, rng: random.Random) -> None:
        uid = self._new_user_id(rng, old_account=True)
        self._used_usernames.add(X_HANDLE.lower())
        self.company_user = XUser(
            idx=0,
            id=uid,
            username=X_HANDLE,
            name=COMPANY_NAME,
            role="company",
            employee_idx=None,
            base_followers=48200,
            growth=0.2,
            following=310,
            base_tweets=4120,
            created_at="2011-03-14T09:12:44.000Z",
        )
        self.x_users.append(self.company_user)

    def _make_employees(self, rng: random.Random) -> None:
        start = PROGRAMME_START
        dept_names = [d.name for d in DEPARTMENTS]
        dept_w = [d.share for d in DEPARTMENTS]
        countries = [c for c, _ in COUNTRIES]
        country_w = [w for _, w in COUNTRIES]
        emails: set[str] = set()
        utm_codes: set[str] = set()
        last_day = (HISTORY_END - dt.timedelta(days=1)).date()
        for i in range(self.size):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            dept = _DEPT[rng.choices(dept_names, dept_w)[0]]
            country = rng.choices(countries, country_w)[0]
            # hired: most long before the programme, some during it
            if rng.random() < 0.88:
                hired = dt.date(2012, 1, 2) + dt.timedelta(days=rng.randrange(5100))
                hired = min(hired, dt.date(2025, 12, 15))
            else:
                hired = dt.date(2026, 1, 6) + dt.timedelta(days=rng.randrange(630))
            left = None
            if rng.random() < 0.06:
                lo = max(hired + dt.timedelta(days=60), dt.date(2026, 2, 1))
                span = (dt.date(2027, 11, 30) - lo).days
                if span > 0:
                    left = lo + dt.timedelta(days=rng.randrange(span))
            # invited
            r = rng.random()
            if hired <= start:
                if r < 0.80:
                    invited = start + dt.timedelta(days=rng.randrange(-3, 8))
                elif r < 0.92:
                    invited = start + dt.timedelta(days=rng.randrange(14, 330))
                else:
                    invited = None
            else:
                invited = hired + dt.timedelta(days=rng.randrange(7, 46)) if r < 0.8 else None
            if invited is not None and (left is not None and invited >= left):
                invited = None
            # registered
            registered = None
            if invited is not None and rng.random() < dept.registration:
                delay = int(rng.expovariate(1 / 40))
                registered = max(invited + dt.timedelta(days=delay), start)
                if left is not None and registered >= left - dt.timedelta(days=7):
                    registered = None
                if registered is not None and registered > last_day:
                    registered = None
            consent = registered is not None and rng.random() < 0.8
            # contact points
            local = f"{_ascii(first)}.{_ascii(last)}"
            email, n = f"{local}@{DOMAIN}", 2
            while email in emails:
                email, n = f"{local}{n}@{DOMAIN}", n + 1
            emails.add(email)
            has_x = rng.random() < (0.9 if registered else 0.75)
            x_username = self._new_username(rng, first, last) if has_x else None
            urn = "urn:li:person:" + "".join(rng.choices(_ALNUM, k=10)) if rng.random() < 0.9 else None
            fb = str(rng.randrange(10**14, 10**15)) if rng.random() < 0.45 else None
            ig = f"{_ascii(first)}.{_ascii(last)[:6]}{rng.randrange(100)}" if rng.random() < 0.35 else None
            code = "nw" + "".join(rng.choices(_B36, k=4))
            while code in utm_codes:
                code = "nw" + "".join(rng.choices(_B36, k=4))
            utm_codes.add(code)
            # behaviour
            kw = (
                0.35 * rng.uniform(0.5, 1.5),
                0.22 * rng.uniform(0.3, 1.7),
                0.18 * rng.uniform(0.5, 1.5),
                0.25 * rng.uniform(0.5, 1.5),
            )
            emp = Employee(
                idx=i,
                employee_id=f"E{i + 1:04d}",
                email=email,
                full_name=f"{first} {last}",
                department=dept.name,
                country=country,
                hired_at=hired,
                left_at=left,
                invited_at=invited,
                registered_at=registered,
                consent_public=consent,
                x_username=x_username,
                linkedin_member_urn=urn,
                facebook_user_id=fb,
                instagram_username=ig,
                utm_code=code,
                activity=dept.activity * rng.uniform(0.55, 1.35),
                post_rate=dept.posts * rng.uniform(0.5, 1.6),
                offtopic_rate=rng.lognormvariate(math.log(0.8), 0.7),
                kind_weights=kw,
            )
            if x_username:
                old = rng.random() < 0.3
                user = XUser(
                    idx=len(self.x_users),
                    id=self._new_user_id(rng, old_account=old),
                    username=x_username,
                    name=emp.full_name,
                    role="employee",
                    employee_idx=i,
                    base_followers=max(3, int(rng.lognormvariate(5.93, 1.2))),
                    growth=rng.uniform(0.02, 0.2),
                    following=int(rng.lognormvariate(5.5, 0.8)),
                    base_tweets=int(rng.lognormvariate(6.0, 1.2)),
                    created_at=x_time(rng.uniform(1.2e9, 1.45e9) if old else rng.uniform(1.45e9, _H0)),
                )
                self.x_users.append(user)
                emp = replace(emp, x_user_idx=user.idx)
            self.employees.append(emp)

    def _make_community(self, rng: random.Random) -> None:
        n = max(12, self.size // 12)
        self._community_start = len(self.x_users)
        for i in range(n):
            base = COMMUNITY_NAMES[i % len(COMMUNITY_NAMES)]
            name = base if i < len(COMMUNITY_NAMES) else f"{base}{i // len(COMMUNITY_NAMES)}"
            name = name[:15]
            self._used_usernames.add(name.lower())
            self.x_users.append(
                XUser(
                    idx=len(self.x_users),
                    id=self._new_user_id(rng, old_account=rng.random() < 0.3),
                    username=name,
                    name=name.replace("_", " ").title(),
                    role="community",
                    employee_idx=None,
                    base_followers=max(5, int(rng.lognormvariate(5.6, 1.1))),
                    growth=rng.uniform(0.0, 0.15),
                    following=int(rng.lognormvariate(6.0, 0.7)),
                    base_tweets=int(rng.lognormvariate(7.0, 1.0)),
                    created_at=x_time(rng.uniform(1.25e9, _H0)),
                )
            )
        self._community_count = n

    # ----------------------------------------------------------------- lookups
    def user_by_username(self, username: str) -> XUser | None:
        return self._by_username.get(username.lstrip("@").lower())

    def user_by_id(self, user_id: str) -> XUser | None:
        return self._by_user_id.get(str(user_id))

    def employee_of_user(self, user: XUser) -> Employee | None:
        return self._employee_by_user.get(user.idx)

    def campaign(self, ts: float) -> str:
        mi = month_index(ts)
        _, _, y, m = MONTHS[mi]
        return f"{y}{m:02d}-{THEMES[mi % len(THEMES)]}"

    # ----------------------------------------------------------------- lazy generation
    def _ensure(self, author: int, mi: int) -> list[list[Post]]:
        buckets = self._buckets[author]
        if len(buckets) > mi:
            return buckets
        with self._lock:
            rng = self._rngs[author]
            if rng is None:
                rng = self._rngs[author] = random.Random(  # noqa: S311
                    self.seed * 1_000_003 + author * 7919 + 1
                )
            while len(buckets) <= mi:
                posts = self._generate(author, len(buckets), rng)
                posts.sort(key=lambda p: p.created)
                self._assign_ids(author, posts, rng)
                for p in posts:
                    self._by_id[p.id_int] = p
                buckets.append(posts)
        return buckets

    def _assign_ids(self, author: int, posts: list[Post], rng: random.Random) -> None:
        """Snowflake-like ids; two posts of one author in the same second differ by millis."""
        last_second, last_millis = -1, -1
        for p in posts:
            millis = rng.randrange(900)
            if p.created == last_second:
                millis = last_millis + 1  # room for 100 posts in one second
            last_second, last_millis = p.created, millis
            p.id_int = tweet_id(p.created, millis, author)
            p.id = str(p.id_int)
        # (company posts, which others retweet/quote, get their ids in __init__, before any
        # other author is generated, so every ref_id points at a final id)

    def _generate(self, author: int, mi: int, rng: random.Random) -> list[Post]:
        user = self.x_users[author]
        if user.role == "company":
            return self._gen_company_month(user, mi, rng)
        if user.role == "employee":
            return self._gen_employee_month(user, self.employees[user.employee_idx], mi, rng)
        return self._gen_community_month(user, mi, rng)

    def _sample_time(self, rng: random.Random, lo: float, hi: float) -> int:
        day0 = int(lo) - int(lo) % DAY
        ndays = max(1, math.ceil((hi - day0) / DAY))
        for _ in range(6):
            d = day0 + rng.randrange(ndays) * DAY
            if dt.datetime.fromtimestamp(d, UTC).weekday() >= 5 and rng.random() < 0.5:
                continue
            hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
            t = d + hour * 3600 + rng.randrange(3600)
            if lo <= t < hi:
                return t
        return int(lo + rng.random() * (hi - lo))

    def _tco(self, rng: random.Random) -> str:
        return "https://t.co/" + "".join(rng.choices(_ALNUM, k=10))

    def _final(self, rng: random.Random, followers: int, factor: float) -> tuple[int, ...]:
        """Final counters: impressions ~ audience, interactions ~ audience^0.6 x rate x factor."""
        if factor <= 0:
            return (0, 0, 0, 0, 0, 0)
        imp = followers * rng.lognormvariate(math.log(0.55), 0.5)
        # interactions grow sublinearly with the audience (big accounts engage less per
        # follower), which also keeps group means from being one celebrity's numbers
        inter = followers**0.6 * rng.lognormvariate(math.log(0.2), 0.45) * factor
        return (
            _poisson(rng, inter * 0.12),  # retweets
            _poisson(rng, inter * 0.10),  # replies
            _poisson(rng, inter * 0.72),  # likes
            _poisson(rng, inter * 0.06),  # quotes
            _poisson(rng, inter * 0.05),  # bookmarks
            max(1, round(imp)),  # impressions
        )

    def _post(
        self,
        rng: random.Random,
        user: XUser,
        created: int,
        kind: str,
        text: str,
        links=(),
        *,
        ref: Post | None = None,
        factor: float = 1.0,
        employee_idx: int | None = None,
        deletable: bool = True,
        pre_registration: bool = False,
    ) -> Post:
        deleted = None
        if deletable and rng.random() < 0.02:
            deleted = created + max(3600, int(rng.expovariate(1 / (4 * DAY))))
        return Post(
            id_int=0,
            id="",
            author=user.idx,
            created=created,
            kind=kind,
            text=text,
            links=tuple(links),
            ref_type=None if ref is None else ("retweeted" if kind == "retweet" else "quoted"),
            ref_id=None if ref is None else ref.id,
            final=self._final(rng, user.followers_at(created), factor),
            tau=rng.uniform(1.0, 2.0) * DAY,
            deleted=deleted,
            employee_idx=employee_idx,
            pre_registration=pre_registration,
            references_company=ref is not None,
        )

    def _hashtags(self, rng: random.Random) -> str:
        tags = list(HASHTAGS) if rng.random() < 0.3 else [rng.choice(HASHTAGS)]
        # people do not always respect the capitalisation (X matches case-insensitively)
        return " ".join(t.lower() if rng.random() < 0.1 else t for t in tags)

    def _gen_company_month(self, user: XUser, mi: int, rng: random.Random) -> list[Post]:
        start, end, _, _ = MONTHS[mi]
        posts = []
        for day in range(start, end, DAY):
            if dt.datetime.fromtimestamp(day, UTC).weekday() not in (0, 2, 4) or rng.random() > 0.9:
                continue
            t = day + rng.randrange(7 * 3600, 16 * 3600)
            k = rng.randrange(len(COMPANY_COPY))
            url = (
                f"https://{DOMAIN}/{COMPANY_PATHS[k]}?utm_source=x&utm_medium={COMPANY_UTM_MEDIUM}"
                f"&utm_campaign={self.campaign(t)}"
            )
            tco = self._tco(rng)
            text = f"{COMPANY_COPY[k]} {self._hashtags(rng)} {tco}"
            links = ((tco, url, f"{DOMAIN}/{COMPANY_PATHS[k]}"),)
            posts.append(self._post(rng, user, t, "company", text, links, factor=1.3, deletable=False))
        return posts

    def _recent_company_post(self, rng: random.Random, t: int) -> Post | None:
        hi = bisect.bisect_left(self._company_times, t - 600)
        lo = bisect.bisect_left(self._company_times, t - 14 * DAY)
        if hi <= lo:
            return None
        return self.company_posts[rng.randrange(max(lo, hi - 4), hi)]

    def _advocate_link(self, rng: random.Random, e: Employee, t: int) -> tuple[str, str, str]:
        path = rng.choice(COMPANY_PATHS)
        url = (
            f"https://{DOMAIN}/{path}?utm_source=x&utm_medium={UTM_MEDIUM}"
            f"&utm_campaign={self.campaign(t)}&utm_content={e.utm_code}"
        )
        return (self._tco(rng), url, f"{DOMAIN}/{path}")

    def _original(self, rng, user, e, t, *, programme: bool, pre_registration: bool = False):
        tag = rng.random() < 0.7
        mention = rng.random() < 0.4
        link = programme and rng.random() < 0.5
        if not (tag or mention or link):
            tag = True
        opener, body = rng.choice(OPENERS), rng.choice(BODIES)
        if opener[-1] in ".!":
            body = body[0].upper() + body[1:]
        parts = [opener, body]
        if mention:
            parts.append(rng.choice(MENTION_PHRASES))
        if tag:
            parts.append(self._hashtags(rng))
        links = ()
        if link:
            links = (self._advocate_link(rng, e, t),)
            parts.append(links[0][0])
        return self._post(
            rng,
            user,
            t,
            "original",
            " ".join(parts),
            links,
            factor=1.0,
            employee_idx=e.idx,
            pre_registration=pre_registration,
        )

    def _reshare(self, rng, user, t, kind, employee_idx, factor_quote=0.95):
        cp = self._recent_company_post(rng, t)
        if cp is None:
            return None
        if kind == "verbatim_copy":
            return self._post(rng, user, t, kind, cp.text, cp.links, factor=0.6, employee_idx=employee_idx)
        if kind == "retweet":
            return self._post(
                rng,
                user,
                t,
                kind,
                f"RT @{X_HANDLE}: {cp.text}",
                cp.links,
                ref=cp,
                factor=0.0,
                employee_idx=employee_idx,
            )
        words = rng.choice(QUOTE_WORDS)
        if rng.random() < 0.5:
            words += " " + self._hashtags(rng)
        tco = self._tco(rng)
        links = ((tco, f"https://twitter.com/{X_HANDLE}/status/{cp.id}", f"x.com/{X_HANDLE}/st…"),)
        return self._post(
            rng,
            user,
            t,
            "quote",
            f"{words} {tco}",
            links,
            ref=cp,
            factor=factor_quote,
            employee_idx=employee_idx,
        )

    def _gen_employee_month(self, user: XUser, e: Employee, mi: int, rng: random.Random):
        ms, me, _, month = MONTHS[mi]
        out: list[Post] = []
        # off-topic posts: everyone with an account, any time
        for _ in range(_poisson(rng, e.offtopic_rate)):
            t = self._sample_time(rng, ms, me)
            text = rng.choice(OFFTOPIC)
            links = ()
            if rng.random() < 0.25:
                text += " " + rng.choice(OFFTOPIC_TAGS)
            if rng.random() < 0.12:
                tco = self._tco(rng)
                links = (
                    (tco, "https://example.org/" + rng.choice(("blog", "story", "p/42")), "example.org/…"),
                )
                text += " " + tco
            out.append(self._post(rng, user, t, "offtopic", text, links, factor=0.8, employee_idx=e.idx))
        reg = _day_ts(e.registered_at)
        left = _day_ts(e.left_at)
        # programme activity after registration, in active months
        if reg is not None:
            lo = max(ms, reg + DAY)
            hi = me if left is None else min(me, left - DAY)
            if hi - lo > 3600:
                fresh = 1.25 if lo - reg < 60 * DAY else 1.0
                p_active = min(0.97, e.activity * SEASON.get(month, 1.0) * fresh)
                if rng.random() < p_active:
                    # n = 1 + Poisson(mean): scale its mean + 1 by posting (exactly the demo's at 1)
                    mean = e.post_rate if self.posting == 1 else (1 + e.post_rate) * self.posting - 1
                    n = 1 + _poisson(rng, mean * (hi - lo) / (me - ms))
                    for _ in range(n):
                        t = self._sample_time(rng, lo, hi)
                        kind = rng.choices(("original", "verbatim_copy", "quote", "retweet"), e.kind_weights)[
                            0
                        ]
                        post = None
                        if kind != "original":
                            post = self._reshare(rng, user, t, kind, e.idx)
                        if post is None:
                            post = self._original(rng, user, e, t, programme=True)
                        out.append(post)
        # invited but not (yet) registered: an occasional hashtag post (not a programme post)
        inv = _day_ts(e.invited_at)
        if inv is not None:
            lo = max(ms, inv)
            hi = me if reg is None else min(me, reg - 2 * DAY)
            if left is not None:
                hi = min(hi, left - DAY)
            if hi - lo > 3600 and rng.random() < 0.06:
                t = self._sample_time(rng, lo, hi)
                out.append(self._original(rng, user, e, t, programme=False, pre_registration=True))
        return out

    def _gen_community_month(self, user: XUser, mi: int, rng: random.Random) -> list[Post]:
        ms, me, _, _ = MONTHS[mi]
        lam = (0.3 + 0.16 * self._registered_per_month[mi]) / self._community_count
        out = []
        for _ in range(_poisson(rng, lam)):
            t = self._sample_time(rng, ms, me)
            r = rng.random()
            post = None
            if r < 0.15:
                post = self._reshare(rng, user, t, "retweet", None)
            elif r < 0.25:
                post = self._reshare(rng, user, t, "quote", None, factor_quote=0.9)
            if post is None:
                parts = [rng.choice(COMMUNITY_TEXT)]
                links = ()
                if rng.random() < 0.4:
                    parts.append(f"@{X_HANDLE}")
                parts.append(self._hashtags(rng))
                if rng.random() < 0.3:
                    path = rng.choice(COMPANY_PATHS)
                    tco = self._tco(rng)
                    links = ((tco, f"https://{DOMAIN}/{path}", f"{DOMAIN}/{path}"),)
                    parts.append(tco)
                post = self._post(rng, user, t, "original", " ".join(parts), links, factor=0.9)
            out.append(post)
        return out

    # ----------------------------------------------------------------- queries
    def posts_of(self, author: int, until_ts: float) -> list[Post]:
        """All posts of one author created up to ``until_ts`` (oldest first, deleted included)."""
        if until_ts < _H0:
            return []
        mi = month_index(until_ts)
        buckets = self._ensure(author, mi)
        out = [p for b in buckets[:mi] for p in b]
        out.extend(p for p in buckets[mi] if p.created <= until_ts)
        return out

    def month_posts(self, mi: int) -> list[Post]:
        """Every author's posts of one UTC month, oldest first."""
        cached = self._all_month.get(mi)
        if cached is None:
            posts = [p for a in range(len(self.x_users)) for p in self._ensure(a, mi)[mi]]
            posts.sort(key=lambda p: p.id_int)
            cached = self._all_month[mi] = posts
        return cached

    def posts_between(self, start_ts: float, end_ts: float) -> list[Post]:
        """All posts with ``start_ts <= created < end_ts`` (deleted included), oldest first."""
        start_ts, end_ts = max(start_ts, _H0), min(end_ts, _H1)
        if end_ts <= start_ts:
            return []
        out = []
        for mi in range(month_index(start_ts), month_index(end_ts - 1) + 1):
            out.extend(p for p in self.month_posts(mi) if start_ts <= p.created < end_ts)
        return out

    def post_by_id(self, post_id: str | int) -> Post | None:
        """The post with this id (deleted or future ones too), or None."""
        try:
            id_int = int(post_id)
        except (TypeError, ValueError):
            return None
        author, created = decode_tweet_id(id_int)
        if author >= len(self.x_users) or not _H0 <= created < _H1:
            return None
        self._ensure(author, month_index(created))
        return self._by_id.get(id_int)

    def tweets_count(self, author: int, ts: float) -> int:
        return sum(1 for p in self.posts_of(author, ts) if p.visible_at(ts))

    # ----------------------------------------------------------------- roster
    def roster_rows(self, as_of: dt.date | dt.datetime) -> list[dict[str, str]]:
        """Roster CSV rows (``ROSTER_COLUMNS``, all strings) as HR would export them on ``as_of``.

        Employees hired after ``as_of`` are absent; dates after ``as_of``
        (invitation, registration, leaving) are empty; ``consent_public`` is
        ``"true"`` only for employees registered by ``as_of`` who consented.
        """
        d = _as_date(as_of)
        return [row for e in self.employees if (row := e.roster_row(d)) is not None]

    def roster_csv(self, as_of: dt.date | dt.datetime) -> str:
        """``roster_rows(as_of)`` as CSV text with a header row."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.roster_rows(as_of))
        return buf.getvalue()

    def write_roster_csv(self, path: str | os.PathLike, as_of: dt.date | dt.datetime) -> str:
        """Write ``roster_csv(as_of)`` to ``path`` (UTF-8, owner-only); returns the path."""
        from advocacy.sandbox.files import write_text

        return write_text(path, self.roster_csv(as_of))

    # ----------------------------------------------------------------- ground truth
    def is_registered_at(self, e: Employee, ts: float) -> bool:
        """Registered advocate at ``ts``: ``registered_at`` <= the UTC date of ``ts``."""
        return e.registered_at is not None and _ts(e.registered_at) <= ts

    def entities(self, p: Post) -> dict:
        """X ``entities`` of a post (hashtags, mentions, urls), computed once from its text."""
        if p._entities is None:
            ent: dict[str, list] = {}
            tags = [
                {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG_RE.finditer(p.text)
            ]
            mentions = []
            for m in _MENTION_RE.finditer(p.text):
                item = {"start": m.start(), "end": m.end(), "username": m.group(1)}
                known = self.user_by_username(m.group(1))
                if known is not None:
                    item["id"] = known.id
                mentions.append(item)
            urls = []
            for tco, expanded, display in p.links:
                pos = p.text.find(tco)
                if pos >= 0:
                    urls.append(
                        {
                            "start": pos,
                            "end": pos + len(tco),
                            "url": tco,
                            "expanded_url": expanded,
                            "display_url": display,
                        }
                    )
            for key, items in (("hashtags", tags), ("mentions", mentions), ("urls", urls)):
                if items:
                    ent[key] = items
            p._entities = ent
        return p._entities

    def post_markers(self, p: Post) -> dict[str, bool]:
        """Programme markers of a post, derived from its entities as a pipeline could."""
        ent = self.entities(p)
        tags = {t.lstrip("#").lower() for t in HASHTAGS}
        return {
            "has_programme_hashtag": any(h["tag"].lower() in tags for h in ent.get("hashtags", ())),
            "mentions_company": any(
                m["username"].lower() == X_HANDLE.lower() for m in ent.get("mentions", ())
            ),
            "links_company_domain": any(_host_is_company(u["expanded_url"]) for u in ent.get("urls", ())),
            "references_company_post": p.references_company,
        }

    def ground_truth(self, as_of: dt.datetime, platforms: str | tuple[str, ...] | list[str] = ("x",)) -> dict:
        """Everything that is true at ``as_of`` (aware UTC datetime), JSON-serialisable.

        ``platforms``: whose posts go into ``posts`` / ``company_posts`` --
        ``("x",)`` by default (what the truth held before the other platforms
        existed), any subset of ``x``, ``facebook``, ``instagram``, ``linkedin``,
        or ``"all"``. Every other key covers all platforms.

        Top level:

        * ``as_of``: ISO timestamp (UTC) the truth is taken at.
        * ``company``: ``name``, ``domain``, ``x_handle``, ``x_user_id``, ``hashtags``,
          ``programme_start``, ``timezone``, ``utm_medium``, ``seed``, ``size``.
        * ``employees``: one dict per employee hired by ``as_of`` (the roster as of
          ``as_of``): ``employee_id``, ``email``, ``full_name``, ``department``,
          ``country``, ``hired_at``, ``left_at``, ``invited_at``, ``registered_at``
          (ISO dates, or None when unknown at ``as_of``), ``consent_public`` (bool:
          registered by ``as_of`` and consented), ``x_username``,
          ``linkedin_member_urn``, ``facebook_user_id``, ``instagram_username``
          (None when absent), ``utm_code``, plus ``x_user_id`` (None without an X
          account).
        * ``x_users``: ``id`` (string), ``username``, ``name``, ``role``
          (``company``/``employee``/``community``), ``employee_id`` (None unless the
          user is an employee in the roster at ``as_of``), ``followers_count`` at ``as_of``.
        * ``posts``: every non-company post created at or before ``as_of``, deleted
          ones included, ordered by ``created_at`` then ``id``:

          - ``id``, ``platform`` (``"x"``), ``author_id``, ``author_username``;
          - ``employee_id``: the author's employee (roster at ``as_of``) or None
            (community users);
          - ``created_at`` (X format ``...000Z``), ``month_local`` (``YYYY-MM`` in
            ``TIMEZONE``, the KPI month);
          - ``kind``: ``original`` (own text: personalised programme post, a
            community post, or a pre-registration hashtag post), ``verbatim_copy``
            (text identical to a company post, same link), ``quote`` (own words +
            quoted company post), ``retweet`` (``RT @NorthwindHQ: ...``, a pure
            reshare of a company post), ``offtopic`` (no programme marker);
          - ``text``, ``links`` (expanded URLs), ``utm_content`` (from a link with
            ``utm_medium=employee_advocacy``, else None);
          - ``referenced``: ``{"type": "retweeted"|"quoted", "id": company post id}`` or None;
          - ``markers``: ``has_programme_hashtag`` (a programme hashtag, case-insensitive),
            ``mentions_company`` (``@NorthwindHQ``), ``links_company_domain`` (a link to
            ``northwind.example``), ``references_company_post`` (retweet/quote of a
            company post);
          - ``is_programme_post``: the author is an employee registered at post time
            (``registered_at`` <= post date) and any marker is true (docs/metrics.md);
          - ``is_community_post``: the author is not an employee and any marker is true;
          - ``is_pure_reshare``: ``kind == "retweet"``;
          - ``is_personalised``: ``kind`` in original/quote/offtopic (own words; a
            verbatim copy or a retweet is not);
          - ``is_pre_registration``: a hashtag post by an invited employee before
            registering (never a programme post);
          - ``public_metrics``: the six X counters at ``min(as_of, deleted_at)``;
          - ``counters``: the same as ``likes`` (like_count), ``comments``
            (reply_count), ``retweets``, ``quotes``, ``shares`` (retweets + quotes),
            ``bookmarks``, ``impressions``, ``interactions`` (likes + comments + shares);
          - ``deleted_at``: ISO timestamp if deleted at or before ``as_of``, else None
            (the API no longer returns a deleted post; its counters are the last ones).
        * ``company_posts``: posts of ``@NorthwindHQ`` (the suggested copy) up to
          ``as_of``, same fields with ``kind == "company"`` and ``employee_id`` None.

        Posts of the other platforms (when ``platforms`` asks for them) are those
        a connector with the documented credentials can see at ``as_of``
        (``PlatformWorld.observable_at``: e.g. not the posts of an advocate whose
        token starts working only later), with the same keys and these
        differences (see ``sandbox/social.py``):

          - ``id``: Facebook ``<owner id>_<n>``, Instagram media id, LinkedIn
            ``urn:li:share:...``/``urn:li:ugcPost:...``; ``author_id`` the account
            id (Facebook user/page id, Instagram user id, LinkedIn URN) and
            ``author_username`` the roster handle (Facebook id, Instagram
            username, member URN);
          - ``kind``: ``reshare`` (a pure share: Facebook ``parent_id`` without a
            message, LinkedIn ``reshareContext`` with empty commentary) instead of
            ``retweet``, ``quote`` = a share with the advocate's own words;
            ``referenced`` ``{"type": "shared", "id": ...}``;
          - ``employee_id``: the author's employee **as the API lets a pipeline
            know it**: None for Instagram hashtag media of advocates with a
            personal (non-professional) account, which no API attributes;
            ``true_employee_id`` is the real author's employee and
            ``attributable`` says whether the API reveals the author.
            ``is_programme_post`` / ``is_community_post`` follow ``employee_id``;
          - ``metrics``: the platform's own counters at ``as_of`` (Facebook
            reactions/comments/shares/impressions/reach, Instagram
            likes/comments/views, LinkedIn reactions/comments/reshares/
            impressions/members_reached/clicks); ``counters``: ``likes``
            (reactions), ``comments``, ``shares``, ``impressions``,
            ``interactions`` **as the API reveals them**: None where it does not
            (Instagram hidden likes, Instagram shares and impressions, Facebook
            impressions of personal posts, LinkedIn shares/impressions of members
            without ``r_member_postAnalytics``); ``interactions`` sums the known ones.
        * ``company`` also has ``facebook_page_id``, ``facebook_page_username``,
          ``instagram_user_id``, ``instagram_username``,
          ``linkedin_organization_urn`` (the settings' ``company_handles``).
        * ``employees`` also have ``instagram_user_id`` and ``api_access``:
          ``facebook`` (a working user token at ``as_of``), ``linkedin`` (a
          member token), ``linkedin_analytics`` (``r_member_postAnalytics``),
          ``instagram_professional`` (business discovery sees the account).
        * ``audiences``: one row per account on every platform: ``platform``,
          ``account_id``, ``handle``, ``role``, ``employee_id`` (roster at
          ``as_of``), ``audience`` at ``as_of`` (X/Instagram followers, Facebook
          friends or Page followers, LinkedIn connections or organisation
          followers), ``observable`` (whether a connector with the documented
          credentials can read it).
        * ``member_tokens``: ``{platform: {roster handle: token}}`` of the tokens
          that work at ``as_of`` (Facebook, LinkedIn).
        * ``self_reports``: the self-report rows submitted by ``as_of``
          (``employee_id``, ``month``, ``platform``, integer ``posts``, ``likes``,
          ``comments``, ``shares``); never for a platform + employee with API data.
        * ``referrals``: from the sessions file at ``as_of`` (``sandbox/files.py``):
          ``medium``; ``monthly`` (``month`` local, ``platform`` = utm_source or
          ``ALL``, ``sessions``, ``conversions`` of sessions with
          ``utm_medium=employee_advocacy``); ``by_employee`` (``month``,
          ``employee_id``, ``sessions``, ``conversions``; utm_content = the
          employee's utm_code); ``unattributed_sessions`` (advocacy sessions
          without a known code); ``social_sessions_by_month`` (any medium,
          utm_source a social platform); ``baseline`` (``months``: the 3 months
          before the programme start, ``sessions``: mean monthly social sessions
          over them, ``by_platform``: the same per utm_source).
        """
        ts = _ts(as_of)
        d = _as_date(as_of)
        roster = {e.idx for e in self.employees if e.hired_at <= d}
        employees = []
        for e in self.employees:
            if e.idx not in roster:
                continue
            row = e.roster_row(d)
            item: dict = {k: (v or None) for k, v in row.items()}
            item["consent_public"] = row["consent_public"] == "true"
            item["x_user_id"] = None if e.x_user_idx is None else self.x_users[e.x_user_idx].id
            employees.append(item)
        users = []
        for u in self.x_users:
            emp = self._employee_by_user.get(u.idx)
            users.append(
                {
                    "id": u.id,
                    "username": u.username,
                    "name": u.name,
                    "role": u.role,
                    "employee_id": emp.employee_id if emp and emp.idx in roster else None,
                    "followers_count": u.followers_at(ts),
                }
            )
        posts = []
        for author in range(1, len(self.x_users)):
            for p in self.posts_of(author, ts):
                posts.append(self._truth_post(p, ts, roster))
        wanted = self._truth_platforms(platforms)
        if "x" not in wanted:
            posts = []
        company_posts = (
            [self._truth_post(p, ts, roster) for p in self.posts_of(0, ts)] if "x" in wanted else []
        )
        from advocacy.sandbox.social import PLATFORMS as SOCIAL_PLATFORMS

        for platform in sorted(wanted & set(SOCIAL_PLATFORMS)):
            world = self.social[platform]
            for p in world.posts_between(_H0, ts + 1):
                if not world.observable_at(p, ts):
                    continue
                (company_posts if p.author == 0 else posts).append(world.truth_post(p, ts, roster))
        audiences = self._truth_audiences(ts, roster)
        # platforms whose world lives in their own sandbox module give their own truth
        for platform in sorted(wanted - {"x", *SOCIAL_PLATFORMS}):
            truth = importlib.import_module(registry.get(platform).sandbox_module).ground_truth
            more, more_company, more_audiences = truth(self, ts, roster)
            posts += more
            company_posts += more_company
            audiences += more_audiences
        posts.sort(key=lambda x: (x["created_at"], x["platform"], x["id"].rjust(40, "0")))
        company_posts.sort(key=lambda x: (x["created_at"], x["platform"], x["id"].rjust(40, "0")))
        self._truth_employee_access(employees, ts)
        codes = {e["utm_code"]: e["employee_id"] for e in employees}
        return {
            "as_of": x_time(ts).replace(".000Z", "Z"),
            "company": {
                "name": COMPANY_NAME,
                "domain": DOMAIN,
                "x_handle": X_HANDLE,
                "x_user_id": self.company_user.id,
                "hashtags": list(HASHTAGS),
                "programme_start": PROGRAMME_START.isoformat(),
                "timezone": TIMEZONE,
                "utm_medium": UTM_MEDIUM,
                "seed": self.seed,
                "size": self.size,
                **self.social.ids(),
            },
            "employees": employees,
            "x_users": users,
            "posts": posts,
            "company_posts": company_posts,
            "audiences": audiences,
            "member_tokens": {p: self.member_tokens(p, as_of) for p in ("facebook", "linkedin")},
            "self_reports": [
                {**r, **{k: int(r[k]) for k in ("posts", "likes", "comments", "shares")}}
                for r in self.files.self_report_rows(as_of)
            ],
            "referrals": self.files.referral_truth(as_of, codes),
        }

    @staticmethod
    def _truth_platforms(asked) -> set[str]:
        known = set(registry.names())
        wanted = known if asked == "all" else {asked} if isinstance(asked, str) else set(asked)
        unknown = wanted - known
        if unknown:
            raise ValueError(f"unknown platform(s) {sorted(unknown)}: choose from {sorted(known)} or 'all'")
        return wanted

    def _truth_employee_access(self, employees: list[dict], ts: float) -> None:
        worlds = {p: self.social[p] for p in ("facebook", "instagram", "linkedin")}
        by_id = {e.employee_id: e for e in self.employees}
        for item in employees:
            e = by_id[item["employee_id"]]
            access = {}
            for platform, world in worlds.items():
                acc = world.by_employee.get(e.idx)
                start = None if acc is None else world.granted_at(acc)
                if platform == "instagram":
                    item["instagram_user_id"] = None if acc is None else acc.id
                    access["instagram_professional"] = bool(acc and acc.granted)
                else:
                    access[platform] = start is not None and start <= ts
                    if platform == "linkedin":
                        access["linkedin_analytics"] = access["linkedin"] and acc.analytics
            item["api_access"] = access

    def _truth_audiences(self, ts: float, roster: set[int]) -> list[dict]:
        out = []
        for u in self.x_users:
            emp = self._employee_by_user.get(u.idx)
            if u.role == "community":
                continue
            out.append(
                {
                    "platform": "x",
                    "account_id": u.id,
                    "handle": u.username,
                    "role": u.role,
                    "employee_id": emp.employee_id if emp and emp.idx in roster else None,
                    "audience": u.followers_at(ts),
                    "observable": True,
                }
            )
        for platform in ("facebook", "instagram", "linkedin"):
            world = self.social[platform]
            for acc in world.accounts:
                if acc.role == "community":
                    continue
                e = world.employee(acc)
                start = world.granted_at(acc)
                observable = acc.role == "company" or (
                    acc.granted if platform == "instagram" else start is not None and start <= ts
                )
                out.append(
                    {
                        "platform": platform,
                        "account_id": acc.id,
                        "handle": acc.handle,
                        "role": acc.role,
                        "employee_id": e.employee_id if e is not None and e.idx in roster else None,
                        "audience": acc.audience_at(ts),
                        "observable": observable,
                    }
                )
        return out

    # ----------------------------------------------------------------- other platforms and files
    @property
    def social(self):
        """The company on Facebook, Instagram and LinkedIn (:class:`sandbox.social.SocialWorld`)."""
        world = self.__dict__.get("_social")
        if world is None:
            from advocacy.sandbox.social import SocialWorld

            world = self.__dict__.setdefault("_social", SocialWorld(self))
        return world

    @property
    def files(self):
        """Sessions and self-report files (:class:`sandbox.files.FileInputs`)."""
        inputs = self.__dict__.get("_files")
        if inputs is None:
            from advocacy.sandbox.files import FileInputs

            inputs = self.__dict__.setdefault("_files", FileInputs(self))
        return inputs

    def member_tokens(self, platform: str, as_of: dt.datetime) -> dict[str, str]:
        """``{roster handle: token}`` of the advocates whose ``platform`` token works at ``as_of``.

        Facebook: ``facebook_user_id`` -> ``sandbox-fb-member-<id>``; LinkedIn:
        ``linkedin_member_urn`` -> ``sandbox-li-member-<id>``; what a real
        deployment stores in the connection's ``extra.member_tokens``.
        """
        if platform not in ("facebook", "linkedin"):
            return {}
        return self.social[platform].tokens(_ts(as_of))

    def self_report_rows(self, as_of: dt.date | dt.datetime) -> list[dict[str, str]]:
        """Self-report CSV rows (docs/metrics.md columns, strings) submitted by ``as_of``."""
        return self.files.self_report_rows(as_of)

    def write_self_reports_csv(self, path: str | os.PathLike, as_of: dt.date | dt.datetime) -> str:
        """Write the self-report CSV as of ``as_of`` to ``path``; returns the path."""
        from advocacy.sandbox.files import write_text

        return write_text(path, self.files.self_reports_csv(as_of))

    def sessions_csv(self, as_of: dt.datetime, style: str = "kpi") -> str:
        """The sessions CSV text (``style="kpi"``: docs/metrics.md columns; ``"ga4"``: GA4 export names)."""
        return self.files.sessions_csv(as_of, style)

    def write_sessions_csv(self, path: str | os.PathLike, as_of: dt.datetime, style: str = "kpi") -> str:
        """Write ``sessions_csv(as_of, style)`` to ``path``; returns the path."""
        from advocacy.sandbox.files import write_text

        return write_text(path, self.files.sessions_csv(as_of, style))

    def _truth_post(self, p: Post, ts: float, roster: set[int]) -> dict:
        user = self.x_users[p.author]
        emp = self._employee_by_user.get(p.author)
        markers = self.post_markers(p)
        any_marker = any(markers.values())
        employee_id = emp.employee_id if emp is not None and emp.idx in roster else None
        programme = (
            emp is not None and p.kind != "company" and any_marker and self.is_registered_at(emp, p.created)
        )
        deleted = p.deleted if p.deleted is not None and p.deleted <= ts else None
        pm = p.public_metrics_at(ts if deleted is None else min(ts, deleted))
        shares = pm["retweet_count"] + pm["quote_count"]
        utm = None
        for _, exp, _ in p.links:
            if f"utm_medium={UTM_MEDIUM}" in exp and "utm_content=" in exp:
                utm = exp.split("utm_content=", 1)[1].split("&", 1)[0]
        local = dt.datetime.fromtimestamp(p.created, self.tz)
        return {
            "id": p.id,
            "platform": "x",
            "author_id": user.id,
            "author_username": user.username,
            "employee_id": employee_id,
            "created_at": x_time(p.created),
            "month_local": f"{local.year}-{local.month:02d}",
            "kind": p.kind,
            "text": p.text,
            "links": [exp for _, exp, _ in p.links],
            "utm_content": utm,
            "referenced": None if p.ref_id is None else {"type": p.ref_type, "id": p.ref_id},
            "markers": markers,
            "is_programme_post": programme,
            "is_community_post": emp is None and p.kind != "company" and any_marker,
            "is_pure_reshare": p.kind == "retweet",
            "is_personalised": p.kind in ("original", "quote", "offtopic"),
            "is_pre_registration": p.pre_registration,
            "public_metrics": pm,
            "counters": {
                "likes": pm["like_count"],
                "comments": pm["reply_count"],
                "retweets": pm["retweet_count"],
                "quotes": pm["quote_count"],
                "shares": shares,
                "bookmarks": pm["bookmark_count"],
                "impressions": pm["impression_count"],
                "interactions": pm["like_count"] + pm["reply_count"] + shares,
            },
            "deleted_at": None if deleted is None else x_time(deleted),
        }


def _host_is_company(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].lower()
    return host == DOMAIN or host.endswith("." + DOMAIN)

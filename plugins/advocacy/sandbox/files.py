"""The company's file inputs: web-analytics sessions and advocates' monthly self-reports.

Both come from the same synthetic company as the APIs, deterministically, and
are filtered by ``as_of`` like everything else:

* **Sessions** (docs/metrics.md sessions CSV): every post that carries a company link
  sends visitors, for days after it was posted (until it is deleted):
  advocates' tracked links (``utm_medium=employee_advocacy``,
  ``utm_content=<utm_code>``, ``utm_source`` = the platform) on X, Facebook,
  Instagram and LinkedIn; company posts and verbatim copies/reshares of them
  (``utm_medium=social``), which also fill the three months before the
  programme start (the referral baseline); a few advocacy sessions whose
  ``utm_content`` was lost on the way (empty: a platform, no employee); and
  non-social traffic every day (search, direct, newsletter, paid search).
  About 4 % of sessions convert. The GA4 BigQuery-style variant carries the
  same sessions under ``collected_traffic_source.manual_*`` names, with
  ``event_timestamp`` in microseconds and ``event_date`` ``YYYYMMDD`` in the
  programme time zone.
* **Self-reports** (docs/metrics.md self-report CSV): registered advocates report
  activity on platforms the pipeline has no API data for: ``tiktok``,
  ``other``, and ``linkedin`` for advocates with a LinkedIn account who never
  granted the app a token (so no API post of theirs exists). Never a
  platform + employee that API data covers. A month's report appears from the
  3rd of the following month.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import io
import os
import random
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advocacy import utm
from advocacy.sandbox.company import _H1, DAY, MONTHS, PROGRAMME_START, UTM_MEDIUM, _poisson, _ts, month_index

if TYPE_CHECKING:
    from advocacy.sandbox.company import Company

SESSION_COLUMNS = (
    "session_id",
    "session_start",
    "landing_page",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "conversions",
)
GA4_COLUMNS = (
    "session_id",
    "event_timestamp",
    "event_date",
    "page_location",
    "collected_traffic_source.manual_source",
    "collected_traffic_source.manual_medium",
    "collected_traffic_source.manual_campaign_name",
    "collected_traffic_source.manual_content",
    "conversions",
)
SELF_REPORT_COLUMNS = ("employee_id", "month", "platform", "posts", "likes", "comments", "shares")
SOCIAL_SOURCES = ("x", "linkedin", "facebook", "instagram")
SELF_REPORT_PLATFORMS = ("tiktok", "other", "linkedin")
BASELINE_MONTHS = 3
OTHER_TRAFFIC = (  # (source, medium, campaign, share of daily non-social sessions)
    ("google", "organic", "", 0.45),
    ("", "", "", 0.25),  # direct: no UTM at all
    ("newsletter", "email", "monthly-update", 0.12),
    ("bing", "organic", "", 0.08),
    ("google", "cpc", "brand-search", 0.10),
)


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    start: int  # epoch seconds
    landing_page: str
    source: str
    medium: str
    campaign: str
    content: str
    conversions: int

    def row(self) -> dict[str, str]:
        return {
            "session_id": self.session_id,
            "session_start": dt.datetime.fromtimestamp(self.start, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "landing_page": self.landing_page,
            "utm_source": self.source,
            "utm_medium": self.medium,
            "utm_campaign": self.campaign,
            "utm_content": self.content,
            "conversions": str(self.conversions),
        }

    def ga4_row(self, tz) -> dict[str, str]:
        query = "&".join(
            f"{k}={v}"
            for k, v in (
                ("utm_source", self.source),
                ("utm_medium", self.medium),
                ("utm_campaign", self.campaign),
                ("utm_content", self.content),
            )
            if v
        )
        local = dt.datetime.fromtimestamp(self.start, tz)
        return {
            "session_id": self.session_id,
            "event_timestamp": str(self.start * 1_000_000),
            "event_date": local.strftime("%Y%m%d"),
            "page_location": f"https://northwind.example{self.landing_page}" + (f"?{query}" if query else ""),
            "collected_traffic_source.manual_source": self.source,
            "collected_traffic_source.manual_medium": self.medium,
            "collected_traffic_source.manual_campaign_name": self.campaign,
            "collected_traffic_source.manual_content": self.content,
            "conversions": str(self.conversions),
        }


def _sid(*parts) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:20]  # noqa: S324 (an id)


def _month(ts: float, tz) -> str:
    local = dt.datetime.fromtimestamp(ts, tz)
    return f"{local.year}-{local.month:02d}"


class FileInputs:
    """Sessions and self-reports of one company (sessions generated once, then filtered)."""

    def __init__(self, company: Company):
        self.company = company
        self._by_month: dict[int, list[Session]] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- sessions
    def _link_posts(self, mi: int):
        """(platform, post id, created, deleted, link, interactions, tau, by the company) of the
        posts created in UTC month ``mi`` that carry a company link."""
        c = self.company
        for p in c.month_posts(mi):
            for _, expanded, _ in p.links:
                if "northwind.example" in expanded:
                    inter = p.final[0] + p.final[1] + p.final[2] + p.final[3]
                    yield ("x", p.id, p.created, p.deleted, expanded, inter, p.tau, p.author == 0)
        ms, me, _, _ = MONTHS[mi]
        for platform in ("facebook", "instagram", "linkedin"):
            world = c.social[platform]
            for p in world.posts_between(ms, me):
                link = p.link
                if link is None and p.ref_id is not None:  # a share shows the company post's link card
                    link = world.by_post_id[p.ref_id].link
                if link and "northwind.example" in link:
                    inter = sum(p.final[:2] if platform == "instagram" else p.final[:3])
                    yield (platform, p.id, p.created, p.deleted, link, inter, p.tau, p.author == 0)

    def _month_sessions(self, mi: int) -> list[Session]:
        """Sessions sent by the posts of UTC month ``mi`` and that month's other traffic (cached)."""
        cached = self._by_month.get(mi)
        if cached is not None:
            return cached
        seed = self.company.seed
        out: list[Session] = []
        for platform, pid, created, deleted, link, inter, tau, is_company in self._link_posts(mi):
            rng = random.Random(f"{seed}:sessions:{platform}:{pid}")  # noqa: S311
            u = utm.parse_utm(link)
            advocacy = u["utm_medium"] == UTM_MEDIUM
            lam = (0.6 * inter + 2.0) if advocacy else (0.06 * inter + (1.5 if is_company else 0.2))
            path = "/" + link.split("://", 1)[1].split("?", 1)[0].split("/", 1)[-1]
            for i in range(_poisson(rng, lam)):
                start = int(created + 60 + min(rng.expovariate(1 / tau), 20 * DAY))
                if (deleted is not None and start >= deleted) or start >= _H1:
                    continue
                content = u["utm_content"] or ""
                if advocacy and rng.random() < 0.03:
                    content = ""  # the tracked link lost its utm_content on the way
                conv = 1 if rng.random() < 0.04 else 0
                if conv and rng.random() < 0.1:
                    conv = 2
                source, medium, campaign = (
                    u["utm_source"] or platform,
                    u["utm_medium"] or "",
                    u["utm_campaign"] or "",
                )
                out.append(Session(_sid(seed, pid, i), start, path, source, medium, campaign, content, conv))
        weights = [w for *_, w in OTHER_TRAFFIC]
        ms, me, _, _ = MONTHS[mi]
        for day in range(ms, me, DAY):
            rng = random.Random(f"{seed}:sessions:day:{day}")  # noqa: S311
            for i in range(_poisson(rng, 14)):
                source, medium, campaign, _ = rng.choices(OTHER_TRAFFIC, weights)[0]
                path = rng.choice(("/", "/products/atlas-3", "/careers", "/contact", "/blog/q3-update"))
                conv = 1 if rng.random() < 0.03 else 0
                start = day + rng.randrange(DAY)
                out.append(
                    Session(_sid(seed, "day", day, i), start, path, source, medium, campaign, "", conv)
                )
        with self._lock:
            return self._by_month.setdefault(mi, out)

    def sessions_until(self, as_of: dt.datetime) -> list[Session]:
        """Every session that started by ``as_of``, in time order (only the months needed are built)."""
        ts = _ts(as_of)
        out = [s for mi in range(month_index(ts) + 1) for s in self._month_sessions(mi) if s.start <= ts]
        out.sort(key=lambda s: (s.start, s.session_id))
        return out

    def sessions_csv(self, as_of: dt.datetime, style: str = "kpi") -> str:
        if style not in ("kpi", "ga4"):
            raise ValueError(f"style must be 'kpi' or 'ga4', not {style!r}")
        buf = io.StringIO()
        writer = csv.DictWriter(
            buf, fieldnames=SESSION_COLUMNS if style == "kpi" else GA4_COLUMNS, lineterminator="\n"
        )
        writer.writeheader()
        tz = self.company.tz
        for s in self.sessions_until(as_of):
            writer.writerow(s.row() if style == "kpi" else s.ga4_row(tz))
        return buf.getvalue()

    def referral_truth(self, as_of: dt.datetime, codes: dict[str, str]) -> dict:
        """Expected referral numbers from the sessions visible at ``as_of``.

        ``codes``: utm_code -> employee_id of the roster at ``as_of``.
        """
        tz = self.company.tz
        monthly: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        by_emp: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        social: dict[tuple[str, str], int] = defaultdict(int)
        unattributed = 0
        for s in self.sessions_until(as_of):
            month = _month(s.start, tz)
            if s.source in SOCIAL_SOURCES:
                social[(month, s.source)] += 1
            if s.medium != UTM_MEDIUM:
                continue
            for key in ((month, s.source), (month, "ALL")):
                monthly[key][0] += 1
                monthly[key][1] += s.conversions
            emp = codes.get(s.content)
            if emp is None:
                unattributed += 1
                continue
            by_emp[(month, emp)][0] += 1
            by_emp[(month, emp)][1] += s.conversions
        start = PROGRAMME_START
        months = []
        y, m = start.year, start.month
        for _ in range(BASELINE_MONTHS):
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            months.insert(0, f"{y}-{m:02d}")
        by_platform = {p: sum(social.get((mo, p), 0) for mo in months) / len(months) for p in SOCIAL_SOURCES}
        return {
            "medium": UTM_MEDIUM,
            "monthly": [
                {"month": mo, "platform": p, "sessions": v[0], "conversions": v[1]}
                for (mo, p), v in sorted(monthly.items())
            ],
            "by_employee": [
                {"month": mo, "employee_id": e, "sessions": v[0], "conversions": v[1]}
                for (mo, e), v in sorted(by_emp.items())
            ],
            "unattributed_sessions": unattributed,
            "social_sessions_by_month": [
                {"month": mo, "platform": p, "sessions": n} for (mo, p), n in sorted(social.items())
            ],
            "baseline": {
                "months": months,
                "sessions": sum(by_platform.values()),
                "by_platform": by_platform,
            },
        }

    # ----------------------------------------------------------------- self-reports
    def self_report_rows(self, as_of: dt.datetime | dt.date) -> list[dict[str, str]]:
        """docs/metrics.md self-report rows submitted by ``as_of`` (a month's from the 3rd of the next)."""
        c = self.company
        as_of_date = as_of.astimezone(dt.UTC).date() if isinstance(as_of, dt.datetime) else as_of
        li = c.social["linkedin"]
        rows = []
        for e in c.employees:
            if e.registered_at is None or e.hired_at > as_of_date:
                continue
            for platform in SELF_REPORT_PLATFORMS:
                rng = random.Random(f"{c.seed}:selfreport:{e.employee_id}:{platform}")  # noqa: S311
                if platform == "linkedin":
                    acc = li.by_employee.get(e.idx)
                    uses = acc is not None and not acc.granted and rng.random() < 0.6
                else:
                    uses = rng.random() < (0.15 if platform == "tiktok" else 0.1)
                if not uses:
                    continue
                for _ms, _me, y, m in MONTHS:
                    month_start, month_end = dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
                    active = rng.random() < 0.55
                    posts = 1 + _poisson(rng, 0.8)
                    likes, comments, shares = (
                        _poisson(rng, posts * 14),
                        _poisson(rng, posts * 2.5),
                        _poisson(rng, posts * 1.2),
                    )
                    if month_start < max(PROGRAMME_START, e.registered_at.replace(day=1)):
                        continue
                    if e.left_at is not None and e.left_at < month_start:
                        continue
                    if e.registered_at > month_end or month_end + dt.timedelta(days=3) > as_of_date:
                        continue
                    if not active:
                        continue
                    rows.append(
                        {
                            "employee_id": e.employee_id,
                            "month": f"{y}-{m:02d}",
                            "platform": platform,
                            "posts": str(posts),
                            "likes": str(likes),
                            "comments": str(comments),
                            "shares": str(shares),
                        }
                    )
        rows.sort(key=lambda r: (r["month"], r["employee_id"], r["platform"]))
        return rows

    def self_reports_csv(self, as_of) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=SELF_REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.self_report_rows(as_of))
        return buf.getvalue()


def write_text(path: str | os.PathLike, text: str) -> str:
    """Write an export (UTF-8) owner-only: 0600, as HR exports of personal data should be."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: set it
    with open(fd, "w", newline="", encoding="utf-8") as fh:
        fh.write(text)
    return path

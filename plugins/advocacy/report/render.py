"""The report page and the index page: Jinja2 templates, one self-contained HTML file each.

``templates/report.html.j2`` and ``templates/index.html.j2`` (autoescaped) lay the
page out; ``templates/report.css`` is inlined into it, and the charts are inline
SVG: no script, no external font, image or stylesheet, so the file opens offline
and survives being mailed. This module prepares what the templates show (which
cards, which comparison, in which words) in the reader's language: every text is
a gettext message (``report/locale``), every number and date a Babel format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from advocacy import platforms
from advocacy.quality.catalog import Table
from advocacy.report import charts
from advocacy.report.data import Periods, Trend, add_months, month_end
from advocacy.report.formatting import MISSING, Formats, platform_name
from advocacy.report.i18n import N_, TEMPLATES, locale_for, translations

# The seed research reports +64% more interactions on personalised posts.
PERSONALISED_BENCHMARK = 0.64
# The seed research's adoption rate (registered / invited) of advocacy programmes.
ADOPTION_BENCHMARK = 0.53
# Research average audience per advocate; the marts carry the configured value
# (benchmark_avg_audience, a dbt seed), these only stand in where a platform has no row.
AUDIENCE_BENCHMARKS = platforms.benchmark_audiences()


@dataclass
class Status:
    state: str  # "passed", "failed" or "unknown"
    label: str
    detail: str = ""


@dataclass
class Page:
    programme: str
    as_of: dt.date
    month: dt.date  # the headline month every month section shows
    generated_at: dt.datetime
    status: Status
    scorecard: tuple[dict | None, dict | None]
    trends: list[Trend]
    top: list[dict]
    rankings: list[tuple[Table, list[dict]]]
    reach: list[dict]
    engagement: list[dict]
    freshness: list[dict]
    csvs: list[str]
    missing: list[Table] = field(default_factory=list)
    winner: dict | None = None  # the monthly contest winner (most shares_received)
    referrals: list[dict] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)
    referrers: list[dict] = field(default_factory=list)
    earned_media: list[dict] = field(default_factory=list)
    periods: Periods | None = None
    # the as-of month so far: its scorecard row, and (this month, the month before) on the same days
    to_date: dict | None = None
    same_days: tuple[dict, dict] | None = None
    night: object | None = None  # advocacy.night.NightStatus


@dataclass(frozen=True)
class ReportLanguage:
    language: str = "en"
    locale: str | None = None
    currency: str = "EUR"


# -- the environment --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    env.policies["ext.i18n.trimmed"] = True
    return env


@lru_cache(maxsize=1)
def stylesheet() -> Markup:
    css = (Path(TEMPLATES) / "report.css").read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError("report.css must not contain '</' (it is inlined into a <style> element)")
    return Markup(css)  # noqa: S704 - our own file, checked above


class View:
    """The reader's language for one page: ``_`` / ``ngettext``, ``f`` (formats) and names."""

    def __init__(self, lang: ReportLanguage):
        self.language = lang.language
        self.t = translations(lang.language)
        self.f = Formats(locale_for(lang.language, lang.locale), lang.currency)
        self.chart_lang = charts.Lang(self.gettext, self.f)
        self.env = _environment(lang.language)

    def gettext(self, text: str) -> str:
        return self.t.gettext(text)

    _ = gettext

    def ngettext(self, one: str, many: str, n: int) -> str:
        return self.t.ngettext(one, many, n)

    def platform(self, code) -> str:
        if code == "ALL":
            return self._("All platforms")
        if code == "other":
            return self._("Other sources")
        return platform_name(code)

    def source(self, code) -> str:
        """A night's source: a platform or a file input."""
        names = {
            "roster": N_("HR roster"),
            "sessions": N_("Web analytics"),
            "self_reports": N_("Self-reported activity"),
        }
        if code in names:
            return self._(names[code])
        return self.platform(code)

    def month(self, m: dt.date, partial: bool = False) -> str:
        return self.chart_lang.month(m, partial)

    def render(self, template: str, **context) -> str:
        return self.env.get_template(template).render(
            v=self,
            f=self.f,
            language=self.language,
            css=stylesheet(),
            missing_value=MISSING,
            **context,
        )


# -- scorecard --------------------------------------------------------------------------------

SCORECARD = (
    # label, column, kind, month-over-month column
    (N_("Invited"), "invited", "count", None),
    (N_("Registered"), "registered", "count", None),
    (N_("Active advocates"), "active", "count", None),
    (N_("Adoption rate"), "adoption_rate", "rate", "adoption_rate_mom"),
    (N_("Activation rate"), "activation_rate", "rate", "activation_rate_mom"),
    (N_("Programme posts"), "programme_posts", "count", None),
    (N_("Community posts"), "community_posts", "count", None),
    (N_("Interactions"), "interactions", "count", None),
    (N_("Potential reach"), "potential_reach", "count", None),
    (N_("Engagement rate"), "engagement_rate", "rate", "engagement_rate_mom"),
    (N_("Referral sessions"), "referral_sessions", "optional", None),
    (N_("Referral conversions"), "referral_conversions", "optional", None),
)
# what a month not over yet can fairly show beside the same days of the month before
TO_DATE = (
    (N_("Programme posts"), "programme_posts"),
    (N_("Community posts"), "community_posts"),
    (N_("Advocates who posted"), "posting_advocates"),
)
# running totals of the month so far, shown without a comparison
SO_FAR = ((N_("Active advocates"), "active"), (N_("Interactions"), "interactions"))


def _direction(change: float | None) -> tuple[str, str]:
    if change is None:
        return "", ""
    if change > 0:
        return "up", "▲"
    if change < 0:
        return "down", "▼"
    return "", "▶"


def kpi_cards(v: View, row: dict, prev: dict | None) -> list[dict]:
    """The complete month's cards, each compared with the (complete) month before."""
    cards = []
    for label, col, kind, mom in SCORECARD:
        if col not in row or (kind == "optional" and row.get(col) is None):
            continue
        value = row.get(col)
        delta, css = "", ""
        if kind == "rate":
            shown, exact = v.f.percent(value), v.f.percent(value, 2)
            change = row.get(mom) if mom else None
            if change is not None:
                css, arrow = _direction(float(change))
                before = prev["month"] if prev else add_months(row["month"], -1)
                delta = v._("%(arrow)s %(change)s vs. %(month)s") % {
                    "arrow": arrow,
                    "change": v.f.points(change, unit=v._("pp")),
                    "month": v.f.month(before, with_year=False),
                }
        else:
            shown, exact = v.f.compact(value), v.f.integer(value)
            before = prev.get(col) if prev else None
            if value is not None and before is not None:
                css, arrow = _direction(float(value) - float(before))
                delta = v._("%(arrow)s from %(value)s in %(month)s") % {
                    "arrow": arrow,
                    "value": v.f.compact(before),
                    "month": v.f.month(prev["month"], with_year=False),
                }
        cards.append({"label": v._(label), "value": shown, "exact": exact, "delta": delta, "css": css})
    return cards


def to_date_cards(v: View, page: Page) -> list[dict]:
    """The month so far: same-days comparisons, then running totals with no comparison."""
    periods = page.periods
    cards = []
    if page.same_days is not None:
        now, before = page.same_days
        span = v.f.day_range(*periods.same_days_before)
        for label, col in TO_DATE:
            value, earlier = now.get(col), before.get(col)
            css, arrow = _direction(None if earlier is None else float(value or 0) - float(earlier))
            cards.append(
                {
                    "label": v._(label),
                    "value": v.f.compact(value),
                    "exact": v.f.integer(value),
                    "delta": v._("%(arrow)s from %(value)s on %(days)s")
                    % {"arrow": arrow, "value": v.f.compact(earlier), "days": span},
                    "css": css,
                }
            )
    row = page.to_date or {}
    for label, col in SO_FAR:
        if row.get(col) is not None:
            cards.append(
                {
                    "label": v._(label),
                    "value": v.f.compact(row[col]),
                    "exact": v.f.integer(row[col]),
                    "delta": v._("so far, no comparison until the month is over"),
                    "css": "",
                }
            )
    return cards


# -- benchmarks -------------------------------------------------------------------------------


def benchmark_rows(v: View, page: Page) -> list[dict]:
    """Programme value against each research benchmark, each on its own scale, basis in words."""
    row, _ = page.scorecard
    if page.periods and not page.periods.month_complete and page.to_date:
        row = page.to_date  # the month to date is the headline: its adoption so far
    out = [
        {
            "label": v._("Adoption rate"),
            "value": row.get("adoption_rate") if row else None,
            "bench": ADOPTION_BENCHMARK,
            "kind": "percent",
            "basis": v._("Share of invited employees who registered, against 53% in published research."),
        }
    ]
    reach = {r.get("platform"): r for r in page.reach if r.get("platform") != "ALL"}
    for code in sorted(set(reach) | set(AUDIENCE_BENCHMARKS)):
        r = reach.get(code, {})
        bench = r.get("benchmark_avg_audience")
        if bench is None:
            bench = AUDIENCE_BENCHMARKS.get(code)
        if bench is None:
            continue  # no benchmark for this platform (the registry has none): nothing to compare
        out.append(
            {
                "label": v._("Avg. audience, %(platform)s") % {"platform": v.platform(code)},
                "value": r.get("avg_audience"),
                "bench": bench,
                "kind": "number",
                "basis": v._(
                    "Followers or connections per active advocate on %(platform)s, against the research "
                    "average per advocate."
                )
                % {"platform": v.platform(code)},
            }
        )
    overall = next((r for r in page.engagement if r.get("platform") == "ALL"), None)
    out.append(
        {
            "label": v._("Personalised post uplift"),
            "value": overall.get("personalised_uplift") if overall else None,
            "bench": PERSONALISED_BENCHMARK,
            "kind": "change",
            "basis": v._(
                "Extra interactions on posts the advocate rewrote, compared with posts that keep the "
                "suggested copy; research reports +64%."
            ),
        }
    )
    for i, b in enumerate(out):
        value, bench = b["value"], b["bench"]
        if value is None:
            b["css"], b["verdict"] = "none", v._("no data yet")
        elif float(value) >= float(bench):
            b["css"], b["verdict"] = "ok", v._("at or above benchmark")
        else:
            b["css"], b["verdict"] = "below", v._("below benchmark")
        fmt = b["kind"] if b["kind"] in ("percent", "change") else "number"
        b["shown"] = v.f.signed_percent(value) if b["kind"] == "change" else _bench(v, value, b["kind"])
        b["bench_shown"] = v.f.signed_percent(bench) if b["kind"] == "change" else _bench(v, bench, b["kind"])
        title = v._("%(label)s: this programme and the benchmark") % {"label": b["label"]}
        b["svg"] = charts.hbar_chart(
            f"chart-bench-{i}",
            title,
            [v._("This programme"), v._("Benchmark")],
            [(b["label"], [value, bench])],
            fmt=fmt,
            lang=v.chart_lang,
            width=280,
        )
    return out


def _bench(v: View, value, kind: str) -> str:
    if kind == "percent":
        return v.f.percent(value)
    return v.f.integer(value)


# -- per platform -----------------------------------------------------------------------------

PLATFORM_FIGURES = (
    # label, source, column, format
    (N_("Active advocates"), "reach", "active_advocates", "integer"),
    (N_("Potential reach"), "reach", "potential_reach", "human"),
    (N_("Impressions"), "reach", "impressions", "human"),
    (N_("Programme posts"), "engagement", "programme_posts", "integer"),
    (N_("Interactions"), "engagement", "interactions", "integer"),
    (N_("Engagement rate"), "engagement", "engagement_rate", "rate2"),
    (N_("Referral sessions"), "referrals", "sessions", "integer"),
    (N_("Earned media value"), "earned_media", "earned_media_value", "money"),
)


def _fmt(v: View, value, how: str) -> str:
    if how == "rate2":
        return v.f.percent(value, 2)
    return getattr(v.f, how)(value)


def platform_cards(v: View, page: Page) -> list[dict]:
    sources = {
        "reach": page.reach,
        "engagement": page.engagement,
        "referrals": page.referrals,
        "earned_media": page.earned_media,
    }
    by: dict[str, dict[str, dict]] = {}
    for name, rows in sources.items():
        for r in rows:
            code = r.get("platform")
            if code and code != "ALL":
                by.setdefault(code, {})[name] = r
    return [
        {
            "name": v.platform(code),
            "figures": [
                (v._(label), _fmt(v, by[code][src].get(col), how))
                for label, src, col, how in PLATFORM_FIGURES
                if src in by[code] and col in by[code][src]
            ],
        }
        for code in sorted(by, key=lambda c: (c == "other", c))
    ]


# -- trends -----------------------------------------------------------------------------------


def trend_cards(v: View, page: Page) -> list[dict]:
    cards = []
    for i, trend in enumerate(page.trends):
        chart = trend.table.chart
        draw = charts.line_chart if chart.kind == "line" else charts.bar_chart
        split = chart.split_by == "platform"
        labels = [v.platform(k) if split else v._(k) for k, _ in trend.series]
        series = list(zip(labels, (vals for _, vals in trend.series), strict=True))
        title = v._(chart.title)
        last = len(trend.months) - 1
        cards.append(
            {
                "title": title,
                "description": v._(trend.table.description) if trend.table.description else "",
                "note": v._(chart.note) if chart.note else "",
                "svg": draw(
                    f"chart-{i}",
                    title,
                    trend.months,
                    series,
                    chart.fmt,
                    partial_last=trend.partial_last,
                    lang=v.chart_lang,
                ),
                "legend": charts.legend(
                    labels, v._("month to date, not over yet") if trend.partial_last else None
                ),
                "headers": [v._("Month"), *labels],
                "rows": [
                    [v.month(m, trend.partial_last and n == last)]
                    + [v.f.value(values[n], chart.fmt) for _, values in trend.series]
                    for n, m in enumerate(trend.months)
                ],
            }
        )
    return cards


# -- the night --------------------------------------------------------------------------------

OUTCOME_LABELS = {
    "ok": N_("loaded"),
    "partial": N_("partly loaded"),
    "failed": N_("failed"),
    "refused": N_("refused"),
}
MAX_REASONS_SHOWN = 3


def night_view(v: View, night, status: Status) -> dict:
    """The header's badge and per-source table: what tonight's numbers rest on."""
    if night is None:
        return {"state": status.state, "label": v._(status.label), "detail": status.detail, "sources": []}
    sources = [
        {
            "name": v.source(s.source),
            "outcome": s.outcome,
            "outcome_label": v._(OUTCOME_LABELS.get(s.outcome, s.outcome)),
            "loaded": v.f.integer(s.rows_loaded),
            "quarantined": v.f.integer(s.rows_quarantined),
            "message": s.message or "",
            "reasons": _reasons(s)[:MAX_REASONS_SHOWN],
            "more": max(len(_reasons(s)) - MAX_REASONS_SHOWN, 0),
        }
        for s in night.sources
    ]
    issues = [s for s in sources if s["outcome"] != "ok"]
    held = night.marts == "held_back"
    if held:
        state = "failed"
        label = v._("Held back: BI shows the night of %(day)s") % {
            "day": v.f.date(night.marts_as_of) if night.marts_as_of else MISSING
        }
    elif issues:
        state = "unknown"
        label = v._("Incomplete night: %(sources)s") % {
            "sources": ", ".join(f"{s['name']} {s['outcome_label']}" for s in issues)
        }
    elif status.state != "passed":
        state, label = status.state, v._(status.label)
    else:
        state = "passed"
        label = v.ngettext(
            "Validation passed · %(n)s source loaded",
            "Validation passed · all %(n)s sources loaded",
            len(sources),
        ) % {"n": len(sources)}
    return {
        "state": state,
        "label": label,
        "detail": status.detail,
        "sources": sources,
        "held": held,
        "marts_as_of": v.f.date(night.marts_as_of) if night.marts_as_of else None,
        "artifacts": [
            (name, href if _relative(href) else None)
            for name, href in sorted(dict(night.artifacts or {}).items())
        ],
        # the passed badge already says "Validation passed": the note would only repeat it
        "validation": None if state == "passed" else v._(status.label),
    }


def _reasons(source) -> list[str]:
    """A source's reasons without the one its message already says (a partial load's message
    is often its first reason)."""
    return [r for r in source.reasons if r != (source.message or "")]


def _relative(href) -> bool:
    """Only a path relative to the report's folder is linked: the page must open offline."""
    text = str(href or "")
    return bool(text) and ":" not in text.split("/")[0] and not text.startswith(("/", "\\"))


def night_summary(night, status: Status) -> dict | None:
    """What the index keeps of a night (language-free: the index renders it in its language)."""
    if night is None:
        return None
    return {
        "marts": night.marts,
        "marts_as_of": night.marts_as_of.isoformat() if night.marts_as_of else None,
        "issues": [[s.source, s.outcome] for s in night.sources if s.outcome != "ok"],
        "sources": len(night.sources),
    }


# -- pages ------------------------------------------------------------------------------------


def render_report(page: Page, lang: ReportLanguage | None = None) -> str:
    v = View(lang or ReportLanguage())
    periods = page.periods or Periods(page.as_of)
    page.periods = periods
    row, prev = page.scorecard
    first = min((t.months[0] for t in page.trends if t.months), default=periods.current)
    reach_compared = [
        r for r in page.reach if r.get("platform") != "ALL" and r.get("avg_audience") is not None
    ]
    headline_partial = not periods.month_complete
    ctx = {
        "page": page,
        "periods": periods,
        "headline_month": (
            v._("%(month)s (to date)") % {"month": v.f.month_long(page.month)}
            if headline_partial
            else v.f.month_long(page.month)
        ),
        "headline_partial": headline_partial,
        "current_month": v.f.month(periods.current),
        "night": night_view(v, page.night, page.status),
        "cards": kpi_cards(v, row, prev) if row else [],
        "scorecard_month": v.f.month_long(row["month"]) if row else "",
        "scorecard_note": (
            ""
            if not row or row["month"] == periods.last_complete
            else v._("latest month with data; %(month)s has none yet")
            % {"month": v.f.month_long(periods.last_complete)}
        ),
        "to_date_cards": to_date_cards(v, page) if not periods.current_complete else [],
        "same_days_span": _same_days_span(v, periods),
        "benchmarks": benchmark_rows(v, page),
        "trend_cards": trend_cards(v, page),
        "trend_first": v.f.month(first),
        "platforms": platform_cards(v, page),
        "reach_svg": charts.hbar_chart(
            "chart-reach",
            v._("Average audience per active advocate vs. benchmark"),
            [v.platform(r["platform"]) for r in reach_compared],
            [
                (v._("Average audience"), [r.get("avg_audience") for r in reach_compared]),
                (v._("Benchmark"), [r.get("benchmark_avg_audience") for r in reach_compared]),
            ],
            lang=v.chart_lang,
        ),
        "reach_rows": [
            [
                v.platform(r["platform"]),
                v.f.integer(r.get("avg_audience")),
                v.f.integer(r.get("benchmark_avg_audience")),
            ]
            for r in reach_compared
        ],
        "referral_svg": charts.hbar_chart(
            "chart-referrals",
            v._("Referral sessions vs. pre-programme baseline"),
            [v.platform(r.get("platform")) for r in page.referrals if r.get("platform") != "ALL"],
            [
                (v._("Sessions"), [r.get("sessions") for r in page.referrals if r.get("platform") != "ALL"]),
                (
                    v._("Baseline"),
                    [r.get("baseline_sessions") for r in page.referrals if r.get("platform") != "ALL"],
                ),
            ],
            lang=v.chart_lang,
        ),
        "referral_rows": [
            [
                v.platform(r.get("platform")),
                v.f.integer(r.get("sessions")),
                v.f.integer(r.get("baseline_sessions")),
            ]
            for r in page.referrals
            if r.get("platform") != "ALL"
        ],
        "ranking_blocks": [
            {
                "table": t.table,
                "title": v._(t.title),
                "description": v._(t.description) if t.description else "",
                "rows": rows,
            }
            for t, rows in page.rankings
            if rows and t.table in ("kpi_team_contributors_monthly", "kpi_leaderboard_monthly")
        ],
        "missing_tables": ", ".join(f"{v._(t.title)} ({t.qualified})" for t in page.missing),
        "referral_platforms": [r for r in page.referrals if r.get("platform") != "ALL"],
        "uplift": _uplift(v, page),
        "earned_overall": next((r for r in page.earned_media if r.get("platform") == "ALL"), None),
        "freshness": _freshness(v, page),
        "footer_benchmarks": _footer_benchmarks(v, page),
        "basis": {"impressions": v._("per impression"), "audience": v._("per potential reach")},
        "charts": charts,
        "chart_lang": v.chart_lang,
    }
    return v.render("report.html.j2", **ctx)


def _same_days_span(v: View, periods: Periods) -> dict:
    before_start, before_end = periods.same_days_before
    return {
        "now": v.f.day_range(periods.current, periods.as_of),
        "before": v.f.day_range(before_start, before_end),
        "until": v.f.date(month_end(periods.current)),
    }


def _uplift(v: View, page: Page) -> dict | None:
    if not page.engagement:
        return None
    overall = next((r for r in page.engagement if r.get("platform") == "ALL"), page.engagement[0])
    uplift = overall.get("personalised_uplift")
    if uplift is None:
        return {"value": None}
    return {
        "value": v.f.signed_percent(uplift),
        "platform": v.platform(overall.get("platform")),
        "benchmark": v.f.signed_percent(PERSONALISED_BENCHMARK),
        "svg": charts.hbar_chart(
            "chart-uplift",
            v._("Personalised posts: extra interactions vs. suggested copy"),
            [v._("This programme"), v._("Research benchmark")],
            [(v._("Uplift"), [uplift, PERSONALISED_BENCHMARK])],
            fmt="change",
            lang=v.chart_lang,
        ),
        "rows": [
            (v._("This programme"), v.f.signed_percent(uplift)),
            (v._("Research benchmark"), v.f.signed_percent(PERSONALISED_BENCHMARK)),
        ],
    }


def _freshness(v: View, page: Page) -> list[dict]:
    rows = []
    for r in page.freshness:
        last = r.get("last_interval_start")
        if isinstance(last, dt.datetime):
            last = last.date()
        if last is None:
            css, text = "late", v._("no data")
        elif last >= page.as_of:
            css, text = "ok", v._("up to date")
        else:
            days = (page.as_of - last).days
            css, text = "late", v.ngettext("%(n)s day behind", "%(n)s days behind", days) % {"n": days}
        rows.append(
            {
                "source": v.source(r.get("source")),
                "stream": str(r.get("stream") or MISSING),
                "last_day": v.f.when(last),
                "extracted": v.f.when(r.get("last_extracted_at")),
                "records": v.f.integer(r.get("records")),
                "css": css,
                "text": text,
            }
        )
    return rows


def _footer_benchmarks(v: View, page: Page) -> str:
    found = sorted(
        {
            (v.platform(r["platform"]), r["benchmark_avg_audience"])
            for r in page.reach
            if r.get("benchmark_avg_audience") is not None and r.get("platform") != "ALL"
        }
    )
    return ", ".join(f"{p} {v.f.integer(b)}" for p, b in found) or v._("none configured")


def render_index(programme: str, reports: list[dict], lang: ReportLanguage | None = None) -> str:
    """The publish root's index: every report, newest first, with its night and validation status."""
    v = View(lang or ReportLanguage())
    rows = []
    for r in reports:
        status = Status(r.get("status", "unknown"), r.get("status_label", "Not validated"))
        badge = {"state": status.state, "label": v._(status.label)}
        night = r.get("night")
        if night:
            if night.get("marts") == "held_back":
                day = night.get("marts_as_of")
                badge = {
                    "state": "failed",
                    "label": v._("Held back: BI shows the night of %(day)s")
                    % {"day": v.f.date(dt.date.fromisoformat(day)) if day else MISSING},
                }
            elif night.get("issues"):
                names = ", ".join(
                    f"{v.source(s)} {v._(OUTCOME_LABELS.get(o, o))}" for s, o in night["issues"]
                )
                badge = {
                    "state": "unknown",
                    "label": v._("Incomplete night: %(sources)s") % {"sources": names},
                }
        generated = r.get("generated_at")
        try:
            generated = v.f.when(dt.datetime.fromisoformat(generated.replace("Z", "+00:00")))
        except (AttributeError, ValueError):
            generated = generated or MISSING
        rows.append(
            {
                "href": r["path"],
                "as_of": v.f.date(dt.date.fromisoformat(r["as_of"])),
                "badge": badge,
                "generated": generated,
            }
        )
    return v.render("index.html.j2", programme=programme, reports=rows)

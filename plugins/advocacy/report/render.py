"""The report page and the index page: one self-contained HTML file each.

Inline CSS, inline SVG, no script, no external font, image or stylesheet: the
file opens offline and survives being mailed. Every value is escaped here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from advocacy.quality.catalog import Table
from advocacy.report import charts
from advocacy.report.data import Trend
from advocacy.report.formatting import (
    MISSING,
    compact,
    fmt_value,
    human_number,
    integer,
    month_label,
    percent,
    platform_name,
    points,
    signed_percent,
    when,
)

# docs/metrics.md (kpi_engagement_monthly): research reports about +64% for personalised posts.
PERSONALISED_BENCHMARK = 0.64
# The seed research's adoption rate (registered / invited) of advocacy programmes.
ADOPTION_BENCHMARK = 0.53
# docs/metrics.md's average audience per advocate; the marts carry the configured value
# (benchmark_avg_audience, a dbt seed), these only stand in where a platform has no row.
AUDIENCE_BENCHMARKS = {"linkedin": 459, "facebook": 433, "x": 772}

CSS = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--accent:#2563eb;
--ok:#047857;--okbg:#ecfdf5;--bad:#b91c1c;--badbg:#fef2f2;--warn:#92400e;--warnbg:#fffbeb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.5;
font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1120px;margin:0 auto;padding:0 20px}
header.top{background:linear-gradient(135deg,#1e3a8a,#2563eb);color:#fff;padding:28px 0 24px}
header.top h1{margin:2px 0 6px;font-size:28px;letter-spacing:-.01em}
.eyebrow{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:12px;opacity:.85}
.meta{margin:0 0 12px;opacity:.92}
.status{display:inline-block;padding:3px 10px;border-radius:999px;font-size:13px;font-weight:600}
.status-passed{background:var(--okbg);color:var(--ok)}
.status-failed{background:var(--badbg);color:var(--bad)}
.status-unknown{background:var(--warnbg);color:var(--warn)}
main{padding:8px 20px 24px}
section{margin:28px 0}
h2{font-size:20px;margin:0 0 4px}
h3{font-size:16px;margin:0 0 2px}
.sub{color:var(--muted);margin:0 0 14px;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px;
box-shadow:0 1px 2px rgba(15,23,42,.04)}
.kpi .label{color:var(--muted);font-size:13px}
.kpi .value{font-size:28px;font-weight:700;letter-spacing:-.02em;margin:2px 0}
.delta{font-size:13px;color:var(--muted)}
.delta.up{color:var(--ok)}.delta.down{color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
.grid.side{grid-template-columns:minmax(260px,1fr) minmax(0,2fr)}
.bench-chart{max-width:760px}
@media (max-width:860px){.grid.side{grid-template-columns:1fr}}
@media (max-width:560px){.grid{grid-template-columns:1fr}header.top h1{font-size:22px}}
svg.chart{width:100%;height:auto;display:block;margin:8px 0 4px}
svg .tick{font-size:11px;fill:#64748b}
svg .cat{font-size:12px;fill:#0f172a}
svg .val{font-size:11px;fill:#334155}
svg .empty{font-size:14px;fill:#94a3b8}
ul.legend{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
details{margin-top:10px;font-size:13px}
summary{cursor:pointer;color:var(--accent)}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.table-card{padding:4px 6px;overflow-x:auto}
.anon{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:13px;margin:6px 0 0}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.late{background:var(--warnbg);color:var(--warn)}
.callout{display:flex;gap:24px;flex-wrap:wrap;align-items:center}
.callout .big{font-size:34px;font-weight:700}
.bench .vs{color:var(--muted);font-size:13px}
.pill.below{background:var(--badbg);color:var(--bad)}.pill.none{background:var(--line);color:var(--muted)}
.platform dl{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:8px 0 0;font-size:14px}
.platform dt{color:var(--muted)}.platform dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
.winner .big{font-size:24px;font-weight:700}
.example{display:inline-block;padding:1px 6px;border-radius:4px;background:var(--warnbg);color:var(--warn);
font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:13px;padding:18px 0 36px}
footer li{margin:3px 0}
a{color:var(--accent)}
@media print{header.top{background:none;color:var(--ink)}.card{box-shadow:none}details{display:none}}
"""


@dataclass
class Status:
    state: str  # "passed", "failed" or "unknown"
    label: str
    detail: str = ""


@dataclass
class Page:
    programme: str
    as_of: dt.date
    month: dt.date
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
    referrals: list[dict] = field(default_factory=list)  # kpi_referrals_monthly, the as-of month
    campaigns: list[dict] = field(default_factory=list)  # top campaigns by sessions
    referrers: list[dict] = field(default_factory=list)  # top referring advocates (masked)
    earned_media: list[dict] = field(default_factory=list)  # kpi_earned_media_monthly, the as-of month


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _status_badge(status: Status) -> str:
    icon = {"passed": "✓", "failed": "✕"}.get(status.state, "•")
    title = f' title="{escape(status.detail)}"' if status.detail else ""
    return f'<span class="status status-{escape(status.state)}"{title}>{icon} {escape(status.label)}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] = frozenset()) -> str:
    """``rows`` cells are already-escaped HTML."""
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- scorecard -------------------------------------------------------------------------

SCORECARD = (
    # label, column, kind, month-over-month column
    ("Invited", "invited", "count", None),
    ("Registered", "registered", "count", None),
    ("Active advocates", "active", "count", None),
    ("Adoption rate", "adoption_rate", "rate", "adoption_rate_mom"),
    ("Activation rate", "activation_rate", "rate", "activation_rate_mom"),
    ("Programme posts", "programme_posts", "count", None),
    ("Community posts", "community_posts", "count", None),
    ("Interactions", "interactions", "count", None),
    ("Potential reach", "potential_reach", "count", None),
    ("Engagement rate", "engagement_rate", "rate", "engagement_rate_mom"),
    ("Referral sessions", "referral_sessions", "optional", None),
    ("Referral conversions", "referral_conversions", "optional", None),
)


def _arrow(change: float | None) -> tuple[str, str]:
    if change is None:
        return "", ""
    if change > 0:
        return "up", "▲"
    if change < 0:
        return "down", "▼"
    return "", "▶"


def _kpi_card(label: str, row: dict, prev: dict | None, col: str, kind: str, mom: str | None) -> str:
    value = row.get(col)
    if kind == "rate":
        shown, exact = percent(value), percent(value, 2)
        change = row.get(mom) if mom else None
        css, arrow = _arrow(None if change is None else float(change))
        prev_label = month_label(prev["month"], with_year=False) if prev else "last month"
        delta = (
            f"{arrow} {points(change)} <span>vs. {escape(prev_label)}</span>" if change is not None else ""
        )
    else:
        shown, exact = compact(value), integer(value)
        before = prev.get(col) if prev else None
        if value is not None and before is not None:
            css, arrow = _arrow(float(value) - float(before))
            since = month_label(prev["month"], with_year=False)
            delta = f"{arrow} from {escape(compact(before))} in {escape(since)}"
        else:
            css, delta = "", ""
    return (
        f'<div class="card kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value" title="{escape(exact)}">{escape(shown)}</div>'
        f'<div class="delta {css}">{delta or "&nbsp;"}</div></div>'
    )


def _scorecard(page: Page) -> str:
    row, prev = page.scorecard
    if row is None:
        return (
            '<section id="scorecard"><h2>Scorecard</h2><p class="sub">No scorecard yet: '
            "marts.kpi_programme_scorecard_monthly has no month up to this date.</p></section>"
        )
    cards = [
        _kpi_card(label, row, prev, col, kind, mom)
        for label, col, kind, mom in SCORECARD
        if col in row and not (kind == "optional" and row.get(col) is None)
    ]
    month = month_label(row["month"])
    note = (
        ""
        if row["month"] == page.month
        else f" (latest month with data; {month_label(page.month)} has none yet)"
    )
    return (
        f'<section id="scorecard"><h2>Scorecard — {escape(month)}</h2>'
        f'<p class="sub">Month to date as of {escape(page.as_of.isoformat())}{escape(note)}. '
        "Arrows compare with the previous month; rate changes are in percentage points.</p>"
        f'<div class="cards">{"".join(cards)}</div></section>'
    )


# -- trends ----------------------------------------------------------------------------


def _trend_card(trend: Trend, index: int) -> str:
    chart = trend.table.chart
    chart_id = f"chart-{index}"
    draw = charts.line_chart if chart.kind == "line" else charts.bar_chart
    svg = draw(chart_id, chart.title, trend.months, trend.series, chart.fmt)
    labels = [label for label, _ in trend.series]
    rows = [
        [escape(month_label(m))] + [escape(fmt_value(values[i], chart.fmt)) for _, values in trend.series]
        for i, m in enumerate(trend.months)
    ]
    table = _table(["Month", *labels], rows, numeric=set(range(1, len(labels) + 1)))
    note = f'<p class="note">{escape(chart.note)}</p>' if chart.note else ""
    desc = f'<p class="sub">{escape(trend.table.description)}</p>' if trend.table.description else ""
    return (
        f'<div class="card"><h3>{escape(chart.title)}</h3>{desc}{svg}{charts.legend(labels)}{note}'
        f"<details><summary>Data table</summary>{table}</details></div>"
    )


def _trends(page: Page) -> str:
    if not page.trends:
        return ""
    first = min((t.months[0] for t in page.trends if t.months), default=page.month)
    cards = "".join(_trend_card(t, i) for i, t in enumerate(page.trends))
    return (
        '<section id="trends"><h2>Trends</h2>'
        f'<p class="sub">{escape(month_label(first))} to {escape(month_label(page.month))} '
        "(up to 12 months). Hover a point for its value; each chart has a data table.</p>"
        f'<div class="grid">{cards}</div></section>'
    )


# -- people ----------------------------------------------------------------------------


def _who(row: dict) -> str:
    name = row.get("display_name")
    if name:
        return escape(str(name))
    return '<span class="anon">Anonymous advocate</span>'


def _top(page: Page) -> str:
    if not page.top:
        return (
            '<section id="top"><h2>Top contributors</h2>'
            f'<p class="sub">No programme posts ranked for {escape(month_label(page.month))} yet.</p>'
            "</section>"
        )
    rows = [
        [
            escape(str(r.get("rank", MISSING))),
            _who(r),
            escape(str(r.get("department") or MISSING)),
            escape(integer(r.get("programme_posts"))),
            escape(integer(r.get("interactions"))),
            escape(integer(r.get("shares_received"))),
        ]
        for r in page.top
    ]
    table = _table(
        ["Rank", "Advocate", "Department", "Programme posts", "Interactions", "Shares received"],
        rows,
        numeric={0, 3, 4, 5},
    )
    return (
        f'<section id="top"><h2>Top contributors — {escape(month_label(page.month))}</h2>'
        '<p class="sub">Ranked by interactions on their programme posts. Only employees who agreed '
        "to be named are named; the others keep their rank.</p>"
        f'<div class="grid side">{_winner(page)}<div class="card table-card">{table}</div></div></section>'
    )


def _winner(page: Page) -> str:
    """The monthly contest: most shares received on programme posts (docs/metrics.md)."""
    w = page.winner
    if w is None:
        return (
            '<div class="card winner"><h3>Monthly contest</h3>'
            '<p class="sub">No shares received on programme posts this month yet: no winner.</p></div>'
        )
    dept = f" · {escape(str(w['department']))}" if w.get("department") else ""
    return (
        f'<div class="card winner"><h3>Monthly contest — {escape(month_label(page.month))}</h3>'
        f'<div class="big">{_who(w)}</div>'
        f'<p class="sub">{escape(integer(w.get("shares_received")))} shares received on programme '
        f"posts{dept}. The winner is named only with their consent.</p></div>"
    )


RANKING_COLUMNS = {
    "kpi_team_contributors_monthly": (
        ("Rank", "rank", "int"),
        ("Department", "department", "text"),
        ("Active advocates", "active_advocates", "int"),
        ("Programme posts", "programme_posts", "int"),
        ("Interactions", "interactions", "int"),
    ),
    "kpi_leaderboard_monthly": (
        ("Rank", "rank", "int"),
        ("Advocate", "display_name", "who"),
        ("Department", "department", "text"),
        ("Points", "points", "int"),
    ),
}


def _ranking(table: Table, rows: list[dict], month: dt.date) -> str:
    spec = RANKING_COLUMNS.get(table.table)
    if spec is None or not rows:
        return ""
    cells = []
    for r in rows:
        line = []
        for _, col, kind in spec:
            if kind == "who":
                line.append(_who(r))
            elif kind == "int":
                line.append(escape(integer(r.get(col))))
            else:
                line.append(escape(str(r.get(col) or MISSING)))
        cells.append(line)
    numeric = {i for i, (_, _, kind) in enumerate(spec) if kind == "int"}
    desc = f'<p class="sub">{escape(table.description)}</p>' if table.description else ""
    return (
        f'<div class="card table-card"><h3>{escape(table.title)} — {escape(month_label(month))}</h3>{desc}'
        f"{_table([h for h, _, _ in spec], cells, numeric)}</div>"
    )


def _rankings(page: Page) -> str:
    blocks = "".join(_ranking(t, rows, page.month) for t, rows in page.rankings)
    if not blocks:
        return ""
    return f'<section id="rankings"><h2>Teams and leaderboard</h2><div class="grid">{blocks}</div></section>'


# -- reach and engagement ---------------------------------------------------------------


def _reach(page: Page) -> str:
    if not page.reach:
        return ""
    platforms = [r for r in page.reach if r.get("platform") != "ALL"]
    compared = [r for r in platforms if r.get("avg_audience") is not None]
    svg = charts.hbar_chart(
        "chart-reach",
        "Average audience per active advocate vs. benchmark",
        [platform_name(r["platform"]) for r in compared],
        [
            ("Average audience", [r.get("avg_audience") for r in compared]),
            ("Benchmark", [r.get("benchmark_avg_audience") for r in compared]),
        ],
    )
    rows = [
        [
            escape(platform_name(r.get("platform"))),
            escape(integer(r.get("active_advocates"))),
            escape(human_number(r.get("potential_reach"))),
            escape(integer(r.get("avg_audience"))),
            escape(integer(r.get("benchmark_avg_audience"))),
            escape(human_number(r.get("impressions"))),
        ]
        for r in page.reach
    ]
    table = _table(
        ["Platform", "Active advocates", "Potential reach", "Avg. audience", "Benchmark", "Impressions"],
        rows,
        numeric={1, 2, 3, 4, 5},
    )
    return (
        f'<section id="reach"><h2>Reach vs. benchmark — {escape(month_label(page.month))}</h2>'
        '<p class="sub">Potential reach is the summed audience of the advocates active on each platform. '
        "Benchmarks are published averages per advocate.</p>"
        f'<div class="grid"><div class="card">{svg}{charts.legend(["Average audience", "Benchmark"])}</div>'
        f'<div class="card table-card">{table}</div></div></section>'
    )


BASIS = {"impressions": "per impression", "audience": "per potential reach"}


def _engagement(page: Page) -> str:
    if not page.engagement:
        return ""
    rows = [
        [
            escape(platform_name(r.get("platform"))),
            escape(integer(r.get("programme_posts"))),
            escape(integer(r.get("interactions"))),
            escape(integer(r.get("comments"))),
            escape(percent(r.get("engagement_rate"), 2)),
            escape(BASIS.get(r.get("engagement_rate_basis"), r.get("engagement_rate_basis") or MISSING)),
            escape(signed_percent(r.get("personalised_uplift"))),
        ]
        for r in page.engagement
    ]
    table = _table(
        [
            "Platform",
            "Programme posts",
            "Interactions",
            "Comments",
            "Engagement rate",
            "Basis",
            "Personalised uplift",
        ],
        rows,
        numeric={1, 2, 3, 4, 6},
    )
    overall = next((r for r in page.engagement if r.get("platform") == "ALL"), page.engagement[0])
    uplift = overall.get("personalised_uplift")
    if uplift is None:
        callout = (
            '<p class="sub">Not enough personalised and non-personalised programme posts this month '
            "to compare them yet.</p>"
        )
    else:
        svg = charts.hbar_chart(
            "chart-uplift",
            "Personalised posts: extra interactions vs. suggested copy",
            ["This programme", "Research benchmark"],
            [("Uplift", [uplift, PERSONALISED_BENCHMARK])],
            fmt="percent",
        )
        callout = (
            f'<div class="callout"><div><div class="big">{escape(signed_percent(uplift))}</div>'
            '<div class="sub">more interactions on personalised posts than on non-personalised ones '
            f"({escape(platform_name(overall.get('platform')))}); research benchmark "
            f"{escape(signed_percent(PERSONALISED_BENCHMARK))}.</div></div></div>{svg}"
        )
    return (
        f'<section id="engagement"><h2>Engagement — {escape(month_label(page.month))}</h2>'
        '<p class="sub">Engagement rate = interactions per impression where every post has impressions, '
        "otherwise per potential reach (the basis column says which).</p>"
        f'<div class="grid side"><div class="card">{callout}</div>'
        f'<div class="card table-card">{table}</div></div></section>'
    )


# -- where the programme stands: benchmarks -----------------------------------------------


def _verdict(value, benchmark) -> tuple[str, str]:
    """(css, text) comparing a programme value with its benchmark (higher is better)."""
    if value is None or benchmark is None:
        return "none", "no data yet"
    if float(value) >= float(benchmark):
        return "ok", "at or above benchmark"
    return "below", "below benchmark"


def benchmark_rows(page: Page) -> list[tuple[str, object, object, str]]:
    """(label, programme value, benchmark, kind) for the benchmarks card; kind: rate, count, change."""
    row, _ = page.scorecard
    out: list[tuple[str, object, object, str]] = [
        ("Adoption rate", row.get("adoption_rate") if row else None, ADOPTION_BENCHMARK, "rate")
    ]
    reach = {r.get("platform"): r for r in page.reach if r.get("platform") != "ALL"}
    for code in sorted(set(reach) | set(AUDIENCE_BENCHMARKS)):
        r = reach.get(code, {})
        bench = r.get("benchmark_avg_audience")
        if bench is None:
            bench = AUDIENCE_BENCHMARKS.get(code)
        if bench is None:
            continue  # no benchmark for this platform (e.g. Instagram): nothing to compare
        out.append((f"Avg. audience, {platform_name(code)}", r.get("avg_audience"), bench, "count"))
    overall = next((r for r in page.engagement if r.get("platform") == "ALL"), None)
    uplift = overall.get("personalised_uplift") if overall else None
    out.append(("Personalised post uplift", uplift, PERSONALISED_BENCHMARK, "change"))
    return out


def _bench_value(value, kind: str) -> str:
    if kind == "rate":
        return percent(value)
    if kind == "change":
        return signed_percent(value)
    return integer(value)


def _benchmarks(page: Page) -> str:
    rows = benchmark_rows(page)
    cards, labels, index = [], [], []
    for label, value, bench, kind in rows:
        css, verdict = _verdict(value, bench)
        cards.append(
            f'<div class="card kpi bench"><div class="label">{escape(label)}</div>'
            f'<div class="value">{escape(_bench_value(value, kind))}</div>'
            f'<div class="vs">benchmark {escape(_bench_value(bench, kind))}</div>'
            f'<span class="pill {css}">{escape(verdict)}</span></div>'
        )
        if value is not None and bench:
            # uplifts compare as multipliers (+42% vs +64% = 1.42 / 1.64), the rest as ratios
            ratio = (
                (1 + float(value)) / (1 + float(bench)) if kind == "change" else float(value) / float(bench)
            )
            labels.append(label)
            index.append(ratio)
    chart = ""
    if index:
        chart = (
            '<div class="card bench-chart">'
            + charts.hbar_chart(
                "chart-benchmarks",
                "Programme as a share of each benchmark (100% = benchmark)",
                labels,
                [("Programme vs. benchmark", index)],
                fmt="percent",
            )
            + "</div>"
        )
    month = month_label(page.month)
    return (
        f'<section id="benchmarks"><h2>Where the programme stands — {escape(month)}</h2>'
        '<p class="sub">Against published research: 53% adoption, an average audience per advocate of '
        "459 (LinkedIn), 433 (Facebook) and 772 (X), and +64% interactions on personalised posts. "
        "Benchmarks are research figures, not measurements of this programme.</p>"
        f'<div class="cards">{"".join(cards)}</div>{chart}</section>'
    )


# -- per platform ---------------------------------------------------------------------------


PLATFORM_FIGURES = (
    # label, source, column, format
    ("Active advocates", "reach", "active_advocates", integer),
    ("Potential reach", "reach", "potential_reach", human_number),
    ("Impressions", "reach", "impressions", human_number),
    ("Programme posts", "engagement", "programme_posts", integer),
    ("Interactions", "engagement", "interactions", integer),
    ("Engagement rate", "engagement", "engagement_rate", lambda v: percent(v, 2)),
    ("Referral sessions", "referrals", "sessions", integer),
    ("Earned media value", "earned_media", "earned_media_value", human_number),
)


def _platforms(page: Page) -> str:
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
    if not by:
        return ""
    cards = []
    for code in sorted(by, key=lambda c: (c == "other", c)):
        figures = "".join(
            f"<dt>{escape(label)}</dt><dd>{escape(fmt(by[code][src].get(col)))}</dd>"
            for label, src, col, fmt in PLATFORM_FIGURES
            if src in by[code] and col in by[code][src]
        )
        name = "Other sources" if code == "other" else platform_name(code)
        cards.append(f'<div class="card platform"><h3>{escape(name)}</h3><dl>{figures}</dl></div>')
    return (
        f'<section id="platforms"><h2>By platform — {escape(month_label(page.month))}</h2>'
        '<p class="sub">Each platform on its own: reach, engagement, referral traffic and earned media '
        "(a dash where the platform has no row or the figure is not available).</p>"
        f'<div class="cards">{"".join(cards)}</div></section>'
    )


# -- referrals ---------------------------------------------------------------------------------


def _referrer(row: dict) -> str:
    if row.get("display_name"):
        return escape(str(row["display_name"]))
    return '<span class="anon">Advocates who are not named (together)</span>'


def _referrals(page: Page) -> str:
    if not (page.referrals or page.campaigns or page.referrers):
        return ""
    month = month_label(page.month)
    blocks = []
    if page.referrals:
        platforms = [r for r in page.referrals if r.get("platform") != "ALL"]
        svg = charts.hbar_chart(
            "chart-referrals",
            "Referral sessions vs. pre-programme baseline",
            [
                "Other sources" if r["platform"] == "other" else platform_name(r["platform"])
                for r in platforms
            ],
            [
                ("Sessions", [r.get("sessions") for r in platforms]),
                ("Baseline", [r.get("baseline_sessions") for r in platforms]),
            ],
        )
        rows = [
            [
                escape("Other sources" if r.get("platform") == "other" else platform_name(r.get("platform"))),
                escape(integer(r.get("sessions"))),
                escape(integer(r.get("conversions"))),
                escape(integer(r.get("baseline_sessions"))),
                escape(signed_percent(r.get("lift"))),
            ]
            for r in page.referrals
        ]
        table = _table(["Platform", "Sessions", "Conversions", "Baseline", "Lift"], rows, {1, 2, 3, 4})
        blocks.append(
            f'<div class="card"><h3>Per platform</h3>{svg}{charts.legend(["Sessions", "Baseline"])}'
            '<p class="note">Baseline = mean monthly sessions from the platform before the programme '
            "started; lift = sessions / baseline − 1.</p></div>"
            f'<div class="card table-card">{table}</div>'
        )
    if page.campaigns:
        rows = [
            [
                escape(str(r.get("campaign") or MISSING)),
                escape("Other sources" if r.get("platform") == "other" else platform_name(r.get("platform"))),
                escape(integer(r.get("sessions"))),
                escape(integer(r.get("conversions"))),
                escape(integer(r.get("attributed_sessions"))),
            ]
            for r in page.campaigns
        ]
        table = _table(
            ["Campaign", "Platform", "Sessions", "Conversions", "From a known advocate"], rows, {2, 3, 4}
        )
        blocks.append(f'<div class="card table-card"><h3>Top campaigns</h3>{table}</div>')
    if page.referrers:
        rows = [
            [
                escape(str(i)),
                _referrer(r),
                escape(str(r.get("department") or MISSING)),
                escape(integer(r.get("sessions"))),
                escape(integer(r.get("conversions"))),
            ]
            for i, r in enumerate(page.referrers, 1)
        ]
        table = _table(["#", "Advocate", "Department", "Sessions", "Conversions"], rows, {0, 3, 4})
        blocks.append(
            f'<div class="card table-card"><h3>Top referring advocates</h3>{table}'
            '<p class="note">By sessions carrying the advocate\'s own link code. Only advocates who agreed '
            "to be named are named; the others are counted together.</p></div>"
        )
    return (
        f'<section id="referrals"><h2>Referral traffic — {escape(month)}</h2>'
        '<p class="sub">Web sessions that arrived through advocates\' tracked links (utm_medium of the '
        "programme).</p>"
        f'<div class="grid">{"".join(blocks)}</div></section>'
    )


# -- earned media ------------------------------------------------------------------------------


def _money(value) -> str:
    return human_number(value)


def _earned_media(page: Page) -> str:
    if not page.earned_media:
        return ""
    overall = next((r for r in page.earned_media if r.get("platform") == "ALL"), None)
    rows = [
        [
            escape(platform_name(r.get("platform"))),
            escape(human_number(r.get("impressions"))),
            escape(integer(r.get("referral_sessions"))),
            escape(_money(r.get("cpm"))),
            escape(_money(r.get("cpc"))),
            escape(_money(r.get("earned_media_value"))),
        ]
        for r in page.earned_media
    ]
    table = _table(
        ["Platform", "Impressions", "Referral sessions", "CPM (example)", "CPC (example)", "Value"],
        rows,
        {1, 2, 3, 4, 5},
    )
    headline = ""
    if overall is not None:
        headline = (
            f'<div class="card callout"><div><div class="big">'
            f"{escape(_money(overall.get('earned_media_value')))}</div>"
            '<div class="sub">earned media value, all platforms <span class="example">example rates</span>'
            "</div></div></div>"
        )
    return (
        f'<section id="earned-media"><h2>Earned media value — {escape(month_label(page.month))}</h2>'
        '<p class="sub">What the organic impressions and clicks would have cost as paid media: '
        "impressions / 1000 × CPM + referral sessions × CPC. <strong>The CPM and CPC are example "
        "rates</strong> shipped with the project (dbt seed <code>media_rates</code>) unless your team "
        "replaced them; a platform without a rate shows a dash, never 0. Values are in the seed's "
        "currency.</p>"
        f'<div class="grid side">{headline}<div class="card table-card">{table}</div></div></section>'
    )


# -- freshness, downloads, footer ------------------------------------------------------------


def _freshness(page: Page) -> str:
    if not page.freshness:
        return (
            '<section id="freshness"><h2>Data freshness</h2>'
            '<p class="sub">No freshness information (marts.fct_source_freshness) yet.</p></section>'
        )
    rows = []
    for r in page.freshness:
        last = r.get("last_interval_start")
        if isinstance(last, dt.datetime):
            last = last.date()
        if last is None:
            pill = '<span class="pill late">no data</span>'
        elif last >= page.as_of:
            pill = '<span class="pill ok">up to date</span>'
        else:
            days = (page.as_of - last).days
            pill = f'<span class="pill late">{days} day{"s" if days != 1 else ""} behind</span>'
        rows.append(
            [
                escape(platform_name(r.get("source")) if r.get("source") != "roster" else "HR roster"),
                escape(str(r.get("stream") or MISSING)),
                escape(when(r.get("last_interval_start"))),
                escape(when(r.get("last_extracted_at"))),
                escape(integer(r.get("records"))),
                pill,
            ]
        )
    table = _table(
        ["Source", "Stream", "Last day loaded", "Last extracted", "Records", ""], rows, numeric={4}
    )
    return (
        '<section id="freshness"><h2>Data freshness</h2>'
        f'<p class="sub">The newest data behind this report, per source, against the as-of date '
        f"{escape(page.as_of.isoformat())}.</p>"
        f'<div class="card table-card">{table}</div></section>'
    )


def _downloads(page: Page) -> str:
    if not page.csvs and not page.missing:
        return ""
    links = "".join(f'<li><a href="{escape(name)}">{escape(name)}</a></li>' for name in page.csvs)
    missing = ""
    if page.missing:
        names = ", ".join(f"{t.title} ({t.qualified})" for t in page.missing)
        missing = f'<p class="note">Not in this report yet (not built in the warehouse): {escape(names)}.</p>'
    return (
        '<section id="downloads"><h2>Data</h2><p class="sub">Every KPI table as CSV, next to this file '
        "(months up to the as-of month; employees who did not consent appear as “anonymous”).</p>"
        f'<div class="card"><ul>{links}</ul>{missing}</div></section>'
    )


def _footer(page: Page) -> str:
    benchmarks = sorted(
        {
            (platform_name(r["platform"]), r["benchmark_avg_audience"])
            for r in page.reach
            if r.get("benchmark_avg_audience") is not None and r.get("platform") != "ALL"
        }
    )
    bench = ", ".join(f"{p} {human_number(v)}" for p, v in benchmarks) or "none configured"
    notes = [
        "Benchmarks, not measurements: average audience per advocate "
        f"({bench}; research figures shipped as a dbt seed) and the +64% interaction uplift of "
        "personalised posts (published research).",
        "Earned media value, where shown, uses the example CPM / CPC rates shipped with the project "
        "unless your team replaced them in the seed: treat it as an illustration.",
        "Every number is computed in the warehouse (dbt marts) and validated before publishing; "
        "this page only formats them. Months are calendar months in the programme's time zone.",
        "Only employees who consented are named; everyone else is counted but anonymous.",
    ]
    items = "".join(f"<li>{escape(n)}</li>" for n in notes)
    return (
        f'<footer><div class="wrap"><ul>{items}</ul>'
        f"<p>{escape(page.programme)} · as of {escape(page.as_of.isoformat())} · "
        f"generated {escape(when(page.generated_at))}</p></div></footer>"
    )


def render_report(page: Page) -> str:
    header = (
        '<header class="top"><div class="wrap">'
        '<p class="eyebrow">Employee advocacy report</p>'
        f"<h1>{escape(page.programme)}</h1>"
        f'<p class="meta">As of <strong>{escape(page.as_of.isoformat())}</strong> · '
        f"{escape(month_label(page.month))} · generated {escape(when(page.generated_at))}</p>"
        f"{_status_badge(page.status)}</div></header>"
    )
    body = "".join(
        [
            _scorecard(page),
            _benchmarks(page),
            _trends(page),
            _top(page),
            _platforms(page),
            _rankings(page),
            _reach(page),
            _engagement(page),
            _referrals(page),
            _earned_media(page),
            _freshness(page),
            _downloads(page),
        ]
    )
    title = f"{page.programme} — advocacy report {page.as_of.isoformat()}"
    return _document(title, f'{header}<main class="wrap">{body}</main>{_footer(page)}')


def render_index(programme: str, reports: list[dict]) -> str:
    """The publish root's index: every report, newest first, with its validation status."""
    rows = []
    for r in reports:
        status = Status(r.get("status", "unknown"), r.get("status_label", "not validated"))
        rows.append(
            [
                f'<a href="{escape(r["path"])}">{escape(r["as_of"])}</a>',
                _status_badge(status),
                escape(r.get("generated_at", MISSING)),
            ]
        )
    table = _table(["As of", "Validation", "Generated"], rows)
    body = (
        '<header class="top"><div class="wrap"><p class="eyebrow">Employee advocacy reports</p>'
        f"<h1>{escape(programme)}</h1>"
        f'<p class="meta">{len(reports)} report{"s" if len(reports) != 1 else ""}, newest first</p>'
        "</div></header>"
        f'<main class="wrap"><section><div class="card table-card">{table}</div></section></main>'
    )
    return _document(f"{programme} — advocacy reports", body)

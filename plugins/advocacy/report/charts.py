"""Hand-made inline SVG charts: line, grouped bars, horizontal comparison bars.

No JavaScript, no external fonts or images: each chart is one ``<svg>`` with a
``<title>`` and ``<desc>`` (screen readers), a ``<title>`` tooltip on every
point / bar, axes and gridlines. Legends are HTML so they wrap on phones.
Every text is escaped. Inline SVG in HTML needs no ``xmlns``, so the page
contains no URL at all.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

from advocacy.report.formatting import fmt_value, human_number, month_label, percent

PALETTE = ("#2563eb", "#f59e0b", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#db2777", "#65a30d")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 40

Series = tuple[str, Sequence[float | None]]


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _n(v) -> float | None:
    return None if v is None else float(v)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values covering [lo, hi] (0 included)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        hi = lo + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _axis_label(v: float, fmt: str) -> str:
    if fmt == "percent":
        return percent(v, 0)
    return human_number(v)


def _frame(chart_id: str, title: str, desc: str, height: int = HEIGHT) -> tuple[str, str]:
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def _y_axis(ticks: list[float], y, fmt: str) -> str:
    out = []
    for t in ticks:
        yy = y(t)
        stroke = "#94a3b8" if t == 0 else "#e2e8f0"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{stroke}"/>'
            f'<text x="{LEFT - 8}" y="{yy + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_axis_label(t, fmt))}</text>"
        )
    return "".join(out)


def _x_labels(months: Sequence[dt.date], xs: Sequence[float], height: int) -> str:
    out = []
    for i, (m, x) in enumerate(zip(months, xs, strict=True)):
        year = f'<tspan x="{x:.1f}" dy="13">{m.year}</tspan>' if i == 0 or m.month == 1 else ""
        out.append(
            f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle" class="tick">'
            f"{escape(month_label(m, with_year=False))}{year}</text>"
        )
    return "".join(out)


def _scale(series: Sequence[Series], height: int):
    values = [float(v) for _, vals in series for v in vals if v is not None]
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    lo, hi = ticks[0], ticks[-1]
    plot_h = height - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / (hi - lo))

    return ticks, y


def empty_chart(chart_id: str, title: str, message: str = "No data for this period yet") -> str:
    head, tail = _frame(chart_id, title, message, height=120)
    text = f'<text x="{WIDTH / 2}" y="64" text-anchor="middle" class="empty">{escape(message)}</text>'
    return head + text + tail


def line_chart(
    chart_id: str, title: str, months: Sequence[dt.date], series: Sequence[Series], fmt: str = "number"
) -> str:
    """One line per series over the months; gaps where a value is missing."""
    if not months or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title)
    ticks, y = _scale(series, HEIGHT)
    pad = 16
    plot_w = WIDTH - LEFT - RIGHT - 2 * pad
    n = len(months)
    xs = [LEFT + pad + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    desc = _describe(months, series, fmt)
    head, tail = _frame(chart_id, title, desc)
    parts = [head, _y_axis(ticks, y, fmt), _x_labels(months, xs, HEIGHT)]
    for si, (label, values) in enumerate(series):
        c = color(si)
        path, pen_down = [], False
        for x, v in zip(xs, values, strict=True):
            if v is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y(float(v)):.1f}")
            pen_down = True
        if path:
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{c}" stroke-width="2.5" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        for m, x, v in zip(months, xs, values, strict=True):
            if v is not None:
                tip = f"{month_label(m)} · {label}: {fmt_value(v, fmt)}"
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y(float(v)):.1f}" r="3.5" fill="#fff" stroke="{c}" '
                    f'stroke-width="2"><title>{escape(tip)}</title></circle>'
                )
    parts.append(tail)
    return "".join(parts)


def bar_chart(
    chart_id: str, title: str, months: Sequence[dt.date], series: Sequence[Series], fmt: str = "number"
) -> str:
    """Grouped vertical bars, one group per month."""
    if not months or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title)
    ticks, y = _scale(series, HEIGHT)
    plot_w = WIDTH - LEFT - RIGHT
    band = plot_w / len(months)
    group = band * 0.72
    bar = group / max(len(series), 1)
    xs = [LEFT + band * (i + 0.5) for i in range(len(months))]
    desc = _describe(months, series, fmt)
    head, tail = _frame(chart_id, title, desc)
    parts = [head, _y_axis(ticks, y, fmt), _x_labels(months, xs, HEIGHT)]
    zero = y(0.0)
    for si, (label, values) in enumerate(series):
        for m, x, v in zip(months, xs, values, strict=True):
            if v is None:
                continue
            top = y(float(v))
            bx = x - group / 2 + si * bar
            tip = f"{month_label(m)} · {label}: {fmt_value(v, fmt)}"
            parts.append(
                f'<rect x="{bx + 1:.1f}" y="{min(top, zero):.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{max(abs(zero - top), 0.5):.1f}" rx="2" fill="{color(si)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    parts.append(tail)
    return "".join(parts)


def hbar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: str = "number",
) -> str:
    """Horizontal grouped bars, one group per category (e.g. audience vs. benchmark by platform)."""
    if not categories or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title)
    row = 18 * len(series) + 14
    left = min(max(60, 7 * max(len(c) for c in categories) + 16), 220)  # room for the labels
    height = TOP + row * len(categories) + 28
    values = [float(v) for _, vals in series for v in vals if v is not None]
    ticks = nice_ticks(0.0, max(values, default=1.0))
    hi = ticks[-1]
    plot_w = WIDTH - left - RIGHT - 40

    def x(v: float) -> float:
        return left + plot_w * v / hi

    lines = [
        f"{c}: " + ", ".join(f"{label} {fmt_value(vals[i], fmt)}" for label, vals in series)
        for i, c in enumerate(categories)
    ]
    head, tail = _frame(chart_id, title, "; ".join(lines), height=height)
    parts = [head]
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{TOP}" y2="{height - 24}" stroke="#e2e8f0"/>'
            f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
            f"{escape(_axis_label(t, fmt))}</text>"
        )
    for ci, cat in enumerate(categories):
        top = TOP + ci * row + 4
        parts.append(
            f'<text x="{left - 10}" y="{top + row / 2:.1f}" text-anchor="end" class="cat">'
            f"{escape(cat)}</text>"
        )
        for si, (label, values) in enumerate(series):
            v = values[ci]
            by = top + si * 18
            if v is None:
                parts.append(
                    f'<text x="{left + 4}" y="{by + 12}" class="tick">no {escape(label.lower())}</text>'
                )
                continue
            w = max(x(float(v)) - left, 1)
            tip = f"{cat} · {label}: {fmt_value(v, fmt)}"
            fill = color(si if len(series) > 1 else ci)  # one series: tell the categories apart
            parts.append(
                f'<rect x="{left}" y="{by}" width="{w:.1f}" height="14" rx="2" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect>"
                f'<text x="{left + w + 6:.1f}" y="{by + 11}" class="val">{escape(fmt_value(v, fmt))}</text>'
            )
    parts.append(tail)
    return "".join(parts)


def legend(labels: Sequence[str]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{color(i)}"></span>{escape(label)}</li>'
        for i, label in enumerate(labels)
    )
    return f'<ul class="legend">{items}</ul>'


def _describe(months: Sequence[dt.date], series: Sequence[Series], fmt: str) -> str:
    span = f"{month_label(months[0])} to {month_label(months[-1])}"
    latest = []
    for label, values in series:
        last = next(
            ((m, v) for m, v in zip(reversed(months), reversed(values), strict=True) if v is not None), None
        )
        if last:
            latest.append(f"{label} {fmt_value(last[1], fmt)} in {month_label(last[0])}")
    return f"{span}. Latest: " + ("; ".join(latest) if latest else "no data") + "."

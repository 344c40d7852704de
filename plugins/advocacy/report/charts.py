"""Hand-made inline SVG charts: line, grouped bars, horizontal comparison bars.

No JavaScript, no external fonts or images: each chart is one ``<svg>`` with a
``<title>`` and ``<desc>`` (screen readers), a ``<title>`` tooltip on every
point / bar, axes and gridlines. Legends are HTML so they wrap on phones.
Every text is escaped and comes through ``lang`` (translated, locale formats).
Inline SVG in HTML needs no ``xmlns``, so the page contains no URL at all.

A month that is not over yet (``partial_last``) is drawn apart: a dashed segment
to a hollow point, a pale dashed bar, "to date" under its axis label. It is never
coloured as a fall: colours only tell series apart.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from advocacy.report.formatting import Formats

PALETTE = ("#2563eb", "#f59e0b", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#db2777", "#65a30d")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 44

Series = tuple[str, Sequence[float | None]]


@dataclass
class Lang:
    """What a chart needs of the reader's language: translations and number / date formats."""

    gettext: Callable[[str], str]
    f: Formats

    def month(self, m: dt.date, partial: bool = False, with_year: bool = True) -> str:
        text = self.f.month(m, with_year=with_year)
        return self.gettext("%(month)s (to date)") % {"month": text} if partial else text


ENGLISH = Lang(lambda s: s, Formats("en"))


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


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


def _frame(chart_id: str, title: str, desc: str, height: int = HEIGHT, width: int = WIDTH) -> tuple[str, str]:
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def _y_axis(ticks: list[float], y, fmt: str, lang: Lang) -> str:
    out = []
    for t in ticks:
        yy = y(t)
        stroke = "#94a3b8" if t == 0 else "#e2e8f0"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{stroke}"/>'
            f'<text x="{LEFT - 8}" y="{yy + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(lang.f.axis(t, fmt))}</text>"
        )
    return "".join(out)


def _x_labels(months: Sequence[dt.date], xs: Sequence[float], height: int, partial: bool, lang: Lang) -> str:
    out = []
    last = len(months) - 1
    to_date = escape(lang.gettext("to date"))
    for i, (m, x) in enumerate(zip(months, xs, strict=True)):
        extra = ""
        if partial and i == last:
            extra = f'<tspan x="{x:.1f}" dy="13" class="todate">{to_date}</tspan>'
        elif i == 0 or m.month == 1:
            extra = f'<tspan x="{x:.1f}" dy="13">{m.year}</tspan>'
        out.append(
            f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle" class="tick">'
            f"{escape(lang.f.month(m, with_year=False))}{extra}</text>"
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


def empty_chart(chart_id: str, title: str, lang: Lang = ENGLISH) -> Markup:
    message = lang.gettext("No data for this period yet")
    head, tail = _frame(chart_id, title, message, height=120)
    text = f'<text x="{WIDTH / 2}" y="64" text-anchor="middle" class="empty">{escape(message)}</text>'
    return Markup(head + text + tail)  # noqa: S704 - every text above is escaped


def line_chart(
    chart_id: str,
    title: str,
    months: Sequence[dt.date],
    series: Sequence[Series],
    fmt: str = "number",
    *,
    partial_last: bool = False,
    lang: Lang = ENGLISH,
) -> Markup:
    """One line per series over the months; gaps where a value is missing."""
    if not months or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title, lang)
    ticks, y = _scale(series, HEIGHT)
    pad = 16
    plot_w = WIDTH - LEFT - RIGHT - 2 * pad
    n = len(months)
    last = n - 1
    xs = [LEFT + pad + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    desc = _describe(months, series, fmt, partial_last, lang)
    head, tail = _frame(chart_id, title, desc)
    parts = [head, _y_axis(ticks, y, fmt, lang), _x_labels(months, xs, HEIGHT, partial_last, lang)]
    for si, (label, values) in enumerate(series):
        c = color(si)
        path, pen_down = [], False
        for i, (x, v) in enumerate(zip(xs, values, strict=True)):
            if partial_last and i == last:
                break
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
        if partial_last and n > 1 and values[last] is not None and values[last - 1] is not None:
            parts.append(
                f'<path class="todate" d="M{xs[last - 1]:.1f},{y(float(values[last - 1])):.1f} '
                f'L{xs[last]:.1f},{y(float(values[last])):.1f}" fill="none" stroke="{c}" '
                'stroke-width="1.5" stroke-opacity="0.55" stroke-dasharray="4 4" stroke-linecap="round"/>'
            )
        for i, (m, x, v) in enumerate(zip(months, xs, values, strict=True)):
            if v is None:
                continue
            partial = partial_last and i == last
            tip = f"{lang.month(m, partial)} · {label}: {lang.f.value(v, fmt)}"
            fill = "#fff" if partial else c
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y(float(v)):.1f}" r="{4 if partial else 3.5}" fill="{fill}" '
                f'stroke="{c}" stroke-width="2"><title>{escape(tip)}</title></circle>'
            )
    parts.append(tail)
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def bar_chart(
    chart_id: str,
    title: str,
    months: Sequence[dt.date],
    series: Sequence[Series],
    fmt: str = "number",
    *,
    partial_last: bool = False,
    lang: Lang = ENGLISH,
) -> Markup:
    """Grouped vertical bars, one group per month (the month to date pale and dashed)."""
    if not months or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title, lang)
    ticks, y = _scale(series, HEIGHT)
    plot_w = WIDTH - LEFT - RIGHT
    band = plot_w / len(months)
    group = band * 0.72
    bar = group / max(len(series), 1)
    xs = [LEFT + band * (i + 0.5) for i in range(len(months))]
    last = len(months) - 1
    desc = _describe(months, series, fmt, partial_last, lang)
    head, tail = _frame(chart_id, title, desc)
    parts = [head, _y_axis(ticks, y, fmt, lang), _x_labels(months, xs, HEIGHT, partial_last, lang)]
    zero = y(0.0)
    for si, (label, values) in enumerate(series):
        for i, (m, x, v) in enumerate(zip(months, xs, values, strict=True)):
            if v is None:
                continue
            partial = partial_last and i == last
            top = y(float(v))
            bx = x - group / 2 + si * bar
            tip = f"{lang.month(m, partial)} · {label}: {lang.f.value(v, fmt)}"
            style = (
                f'fill="{color(si)}" fill-opacity="0.3" stroke="{color(si)}" stroke-dasharray="4 3" '
                'class="todate"'
                if partial
                else f'fill="{color(si)}"'
            )
            parts.append(
                f'<rect x="{bx + 1:.1f}" y="{min(top, zero):.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{max(abs(zero - top), 0.5):.1f}" rx="2" {style}>'
                f"<title>{escape(tip)}</title></rect>"
            )
    parts.append(tail)
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def hbar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: str = "number",
    *,
    lang: Lang = ENGLISH,
    width: int = WIDTH,
) -> Markup:
    """Horizontal grouped bars, one group per category (e.g. audience vs. benchmark by platform).

    ``width`` is the drawing's own width: a chart shown in a narrow card draws narrower
    (320) so that its text stays readable when the SVG is scaled to the card.
    """
    if not categories or all(v is None for _, vals in series for v in vals):
        return empty_chart(chart_id, title, lang)
    row = 18 * len(series) + 14
    left = min(
        max(60, 7 * max(len(c) for c in categories) + 16), 220, int(width * 0.42)
    )  # room for the labels
    height = TOP + row * len(categories) + 28
    values = [float(v) for _, vals in series for v in vals if v is not None]
    # a narrow chart gets fewer gridlines, so that their labels do not run into each other
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0), 2 if width < 400 else 4)
    lo, hi = ticks[0], ticks[-1]
    plot_w = width - left - RIGHT - 56

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    lines = [
        f"{c}: " + ", ".join(f"{label} {lang.f.value(vals[i], fmt)}" for label, vals in series)
        for i, c in enumerate(categories)
    ]
    head, tail = _frame(chart_id, title, "; ".join(lines), height=height, width=width)
    parts = [head]
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{TOP}" y2="{height - 24}" '
            f'stroke="{"#94a3b8" if t == 0 else "#e2e8f0"}"/>'
            f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
            f"{escape(lang.f.axis(t, fmt))}</text>"
        )
    zero = x(0.0)
    no_data = escape(lang.gettext("no data"))
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
                parts.append(f'<text x="{zero + 4:.1f}" y="{by + 12}" class="tick">{no_data}</text>')
                continue
            end = x(float(v))
            bx, w = min(zero, end), max(abs(end - zero), 1)
            tip = f"{cat} · {label}: {lang.f.value(v, fmt)}"
            fill = color(si if len(series) > 1 else ci)  # one series: tell the categories apart
            parts.append(
                f'<rect x="{bx:.1f}" y="{by}" width="{w:.1f}" height="14" rx="2" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect>"
                f'<text x="{max(end, zero) + 6:.1f}" y="{by + 11}" class="val">'
                f"{escape(lang.f.value(v, fmt))}</text>"
            )
    parts.append(tail)
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def legend(labels: Sequence[str], partial_note: str | None = None) -> Markup:
    items = "".join(
        f'<li><span class="swatch" style="background:{color(i)}"></span>{escape(label)}</li>'
        for i, label in enumerate(labels)
    )
    if partial_note:
        items += f'<li><span class="swatch todate"></span>{escape(partial_note)}</li>'
    return Markup(f'<ul class="legend">{items}</ul>')  # noqa: S704 - escaped above


def _describe(
    months: Sequence[dt.date], series: Sequence[Series], fmt: str, partial_last: bool, lang: Lang
) -> str:
    last_i = len(months) - 1
    latest = []
    for label, values in series:
        found = next((i for i in range(last_i, -1, -1) if values[i] is not None), None)
        if found is not None:
            latest.append(
                lang.gettext("%(series)s %(value)s in %(month)s")
                % {
                    "series": label,
                    "value": lang.f.value(values[found], fmt),
                    "month": lang.month(months[found], partial_last and found == last_i),
                }
            )
    span = lang.gettext("%(first)s to %(last)s") % {
        "first": lang.f.month(months[0]),
        "last": lang.month(months[-1], partial_last),
    }
    latest_text = "; ".join(latest) if latest else lang.gettext("no data")
    return lang.gettext("%(span)s. Latest: %(latest)s.") % {"span": span, "latest": latest_text}

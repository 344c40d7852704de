"""Number and date formats per locale, and the hand-made SVG charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from advocacy.report import human_number, percent
from advocacy.report.charts import ENGLISH, Lang, bar_chart, hbar_chart, line_chart, nice_ticks
from advocacy.report.data import Periods
from advocacy.report.formatting import Formats, platform_name

NB, IT = Formats("nb_NO", "NOK"), Formats("it_IT", "EUR")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (0, "0"),
        (12, "12"),
        (999, "999"),
        (1000, "1K"),
        (1234, "1.2K"),
        (12_345, "12.3K"),
        (250_000, "250K"),
        (3_400_000, "3.4M"),
        (2_500_000_000, "2.5B"),
        (-1234, "-1.2K"),
        (Decimal("1944.8"), "1.9K"),
        (3.14159, "3.14"),
    ],
)
def test_human_number_english(value, text):
    assert human_number(value) == text


def test_numbers_in_norwegian_and_italian():
    # nb groups with a (no-break) space and uses a decimal comma; it groups with a dot
    assert NB.integer(1234567).replace("\u00a0", " ") == "1 234 567"
    assert IT.integer(1234567) == "1.234.567"
    assert NB.human(15_234) == "15,2k" and NB.human(3_400_000).startswith("3,4")
    # Italian does not abbreviate thousands: the exact number, grouped (never '15234')
    assert IT.human(15_234) == "15.234" and IT.human(3_400_000) == "3,4\u00a0Mln"
    assert NB.percent(0.531) == "53,1\u00a0%" or NB.percent(0.531) == "53,1%"
    assert IT.percent(0.531) == "53,1%"
    assert percent(0.531) == "53.1%" and percent(None) == "–"
    assert NB.signed_percent(-0.1).startswith("−") and IT.signed_percent(0.42) == "+42%"
    assert NB.points(0.021, unit="p.p.") == "+2,1\u00a0p.p."


def test_money_in_the_configured_currency():
    assert Formats("en", "EUR").money(1985) == "€1,985"
    assert IT.money(1985) == "1.985\u00a0€"
    assert "kr" in NB.money(1985) and "1\u00a0985" in NB.money(1985)
    assert IT.money(19_850) == "19.850\u00a0€"  # no abbreviation for thousands in Italian
    assert Formats("en", "EUR").money(6.5) == "€6.50" and IT.money(None) == "–"


def test_dates():
    day = dt.date(2026, 12, 1)
    assert Formats("en").date(day) == "December 1, 2026"
    assert NB.date(day) == "1. desember 2026"
    assert IT.date(day) == "1 dicembre 2026"
    assert NB.month(day) == "des. 2026" and IT.month_long(day) == "dicembre 2026"
    assert platform_name("linkedin") == "LinkedIn" and platform_name("tiktok_ads") == "Tiktok Ads"


def test_periods_headline_the_last_complete_month():
    first_of_december = Periods(dt.date(2026, 12, 1))
    assert first_of_december.month == dt.date(2026, 11, 1) and first_of_december.month_complete
    assert not first_of_december.current_complete
    assert first_of_december.same_days_before == (dt.date(2026, 11, 1), dt.date(2026, 11, 1))
    month_end = Periods(dt.date(2026, 11, 30))
    assert month_end.month == dt.date(2026, 11, 1) and month_end.current_complete
    to_date = Periods(dt.date(2026, 12, 15), "month_to_date")
    assert to_date.month == dt.date(2026, 12, 1) and not to_date.month_complete
    # the 30th of March against February: days 1-28 of February (it has no more)
    assert Periods(dt.date(2026, 3, 30)).same_days_before == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_nice_ticks():
    assert nice_ticks(0, 487) == [0, 200, 400, 600]
    assert nice_ticks(0.3, 0.5) == [0, 0.2, 0.4, 0.6]
    assert nice_ticks(-0.2, 0.3)[0] < 0 < nice_ticks(-0.2, 0.3)[-1]
    assert nice_ticks(0, 0) == [0, 0.25, 0.5, 0.75, 1.0]


MONTHS = [dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]


def test_line_chart_is_accessible_and_escaped():
    svg = line_chart(
        "c1", "Rates <b>&", MONTHS, [("A<script>", [0.1, None, 0.3]), ("B", [0.2, 0.25, 0.3])], "percent"
    )
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">Rates &lt;b&gt;&amp;</title>' in svg
    assert "<script" not in svg and "A&lt;script&gt;" in svg
    assert svg.count("<path") == 2
    assert svg.count("<circle") == 5  # the missing value is a gap, not a zero
    assert "Dec 2025 to Feb 2026" in svg and "Feb 2026 · B: 30.0%" in svg
    assert "2026</tspan>" in svg  # the year under January
    assert "todate" not in svg and "to date" not in svg


def test_a_month_not_over_is_drawn_apart_and_labelled():
    series = [("Posts", [300, 330, 12])]  # February so far: 12 posts, not a collapse
    svg = line_chart("c5", "Posts", MONTHS, series, partial_last=True)
    assert svg.count('class="todate"') == 2  # the dashed segment and the axis label
    assert 'stroke-dasharray="4 4"' in svg
    assert re.search(r'<circle[^>]*fill="#fff"[^>]*><title>Feb 2026 \(to date\) · Posts: 12', svg)
    assert ">to date</tspan>" in svg and "Latest: Posts 12 in Feb 2026 (to date)" in svg
    assert "#dc2626" not in svg  # never red: colours tell series apart, not direction
    bars = bar_chart("c6", "Posts", MONTHS, series, partial_last=True)
    assert bars.count('fill-opacity="0.3"') == 1 and "Feb 2026 (to date)" in bars
    nb = Lang(lambda s: {"to date": "hittil", "%(month)s (to date)": "%(month)s (hittil)"}.get(s, s), NB)
    assert ">hittil</tspan>" in line_chart("c7", "Innlegg", MONTHS, series, partial_last=True, lang=nb)


def test_bar_and_hbar_charts():
    svg = bar_chart("c2", "Posts", MONTHS, [("Programme", [300, 330, -5]), ("Community", [40, 45, 50])])
    assert svg.count("<rect") == 6
    assert re.search(r'height="-', svg) is None  # negative values draw downwards from zero
    h = hbar_chart("c3", "Audience", ["X", "LinkedIn"], [("Avg", [1200, 610]), ("Benchmark", [772, None])])
    assert h.count("<rect") == 3 and "no data" in h
    # a negative value draws left of zero, not as a 1 px stub at the axis
    neg = hbar_chart("c8", "Uplift", ["Us", "Benchmark"], [("Uplift", [-0.2, 0.64])], fmt="percent")
    widths = [float(w) for w in re.findall(r'<rect[^>]*width="([\d.]+)"', neg)]
    assert min(widths) > 20
    empty = line_chart("c4", "Nothing", MONTHS, [("A", [None, None, None])], lang=ENGLISH)
    assert "No data for this period yet" in empty

"""Number formats and the hand-made SVG charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from advocacy.report import human_number, percent
from advocacy.report.charts import bar_chart, hbar_chart, line_chart, nice_ticks
from advocacy.report.formatting import compact, platform_name, points, signed_percent


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (0, "0"),
        (12, "12"),
        (999, "999"),
        (1000, "1k"),
        (1234, "1.2k"),
        (12_345, "12.3k"),
        (53_100, "53.1k"),
        (250_000, "250k"),
        (999_600, "1M"),
        (3_400_000, "3.4M"),
        (2_500_000_000, "2.5B"),
        (-1234, "-1.2k"),
        (Decimal("1944.8"), "1.9k"),
        (3.14159, "3.14"),
    ],
)
def test_human_number(value, text):
    assert human_number(value) == text


def test_rates_and_changes():
    assert percent(0.531) == "53.1%"
    assert percent(Decimal("0.5008")) == "50.1%"
    assert percent(None) == "–"
    assert points(0.021) == "+2.1 pp" and points(-0.005) == "−0.5 pp"
    assert signed_percent(0.42) == "+42%" and signed_percent(-0.1) == "−10%"
    assert compact(1234) == "1,234" and compact(15_234) == "15.2k"
    assert platform_name("linkedin") == "LinkedIn" and platform_name("ALL") == "All platforms"
    assert platform_name("tiktok_ads") == "Tiktok Ads"


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


def test_bar_and_hbar_charts():
    svg = bar_chart("c2", "Posts", MONTHS, [("Programme", [300, 330, -5]), ("Community", [40, 45, 50])])
    assert svg.count("<rect") == 6
    assert re.search(r'height="-', svg) is None  # negative values draw downwards from zero
    h = hbar_chart("c3", "Audience", ["X", "LinkedIn"], [("Avg", [1200, 610]), ("Benchmark", [772, None])])
    assert h.count("<rect") == 3 and "no benchmark" in h
    empty = line_chart("c4", "Nothing", MONTHS, [("A", [None, None, None])])
    assert "No data for this period yet" in empty

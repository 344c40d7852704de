"""The published report against real marts: self-contained, correct numbers, no names without consent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import fsspec
import pytest
from advocacy.quality.catalog import MARTS
from advocacy.report import ValidationNotPassed, build_report
from advocacy.settings import load_settings
from report_data import LEAKED_NAME, SECRET_NAME, create_marts

AS_OF = dt.date(2026, 4, 30)
PASSED = {"success": True, "run_id": "scheduled__2026-04-30"}


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "programme.yml"
    path.write_text(
        "programme:\n  name: Acme <Robots> & Co advocacy\n  start_date: 2025-11-01\n"
        "inputs:\n  roster: roster.csv\n  publish: published\n"
        "platforms:\n  x: {}\n"
    )
    return load_settings(path)


@pytest.fixture
def marts(warehouse):
    create_marts(warehouse)
    return warehouse


def published(tmp_path) -> Path:
    return tmp_path / "published"


def test_report_is_one_self_contained_file_with_the_scorecard(marts, settings, tmp_path):
    path = build_report(marts, settings, as_of=AS_OF, validation=PASSED)

    assert path == str(published(tmp_path) / "2026-04-30" / "index.html")  # settings.publish_path
    html = Path(path).read_text()
    # self-contained: nothing fetched from anywhere
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script|<link|<img|<iframe|<object|@import|url\(", html, re.I)
    assert not re.search(r"\ssrc\s*=", html, re.I)
    assert all(not h.startswith(("//", "/")) for h in re.findall(r'href="([^"]*)"', html))
    # header
    assert "Acme &lt;Robots&gt; &amp; Co advocacy" in html and "<Robots>" not in html
    assert "As of <strong>April 30, 2026</strong>" in html
    assert "Validation passed" in html
    # scorecard of April 2026 (the as-of month), with month-over-month changes
    card = html[html.index('id="scorecard"') : html.index('id="trends"')]
    for text in (
        "Scorecard — April 2026",
        "1,234",
        "618",
        "212",
        "50.1%",
        "34.3%",
        "487",
        "73",
        "15.2K",
        "412K",
        "4.2%",
        "+2.6\u00a0pp",
        "+0.4\u00a0pp",
        "+0.2\u00a0pp",
        "from 1,180 in Mar",
        "from 388K in Mar",
    ):
        assert text in card, text
    assert "Referral sessions" not in card  # null this month: no empty card
    # one chart per KPI trend (every mart of the catalog with a chart, all present here), each with its table
    trends = html[html.index('id="trends"') : html.index('id="top"')]
    charted = [m for m in MARTS if m.chart]
    assert trends.count("<svg") == len(charted) == 7
    assert trends.count("<details>") == len(charted)
    for mart in charted:
        assert f">{mart.chart.title}</title>" in trends  # the SVG's accessible title
    assert "Dec 2025 to Apr 2026" in trends
    # the other sections
    assert "Reach vs. benchmark — April 2026" in html and "772" in html and "459" in html
    assert "+42%" in html and "research benchmark +64%" in html and "per potential reach" in html
    assert "3 days behind" in html and "up to date" in html
    assert "example CPM / CPC rates" in html
    # + reach vs benchmark, personalised uplift, referrals vs baseline, and one chart per benchmark
    # (adoption, average audience on Facebook, LinkedIn and X, personalised uplift)
    assert html.count("<svg") == len(charted) + 3 + 5
    # every chart carries its data table
    assert html.count('<figure class="chart-box">') == html.count("<svg") == html.count("<details>")


def test_top_contributors_name_only_consenting_employees(marts, settings, tmp_path):
    path = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED))
    html = path.read_text()
    top = html[html.index('id="top"') : html.index('id="reach"')]
    assert "Ada L." in top
    assert "Anonymous advocate" in top and "Engineering" in top

    everything = html + "".join(p.read_text() for p in path.parent.glob("*.csv"))
    # the non-consenting employee's roster name, and a name dbt wrongly left on a masked row
    for name in (SECRET_NAME, "Zed", LEAKED_NAME, "Quinn"):
        assert name not in everything, name
    participation = (path.parent / "kpi_participation_monthly.csv").read_text()
    assert "E001" in participation and "E002" not in participation and "anonymous" in participation


def test_one_csv_per_kpi_mart_with_its_columns(marts, settings, tmp_path):
    with marts.connect() as conn:  # a month after the as-of date is not part of this report
        conn.execute("insert into marts.kpi_adoption_monthly values ('2026-05-01', 'ALL', 1, 1, 1, 1, 1)")
        conn.execute("drop table marts.kpi_referrals_by_campaign_monthly")  # as if dbt had not built it
        conn.commit()
    path = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED))

    absent = "kpi_referrals_by_campaign_monthly"
    kpis = [m for m in MARTS if m.table.startswith("kpi_") and m.table != absent]
    assert sorted(p.name for p in path.parent.glob("*.csv")) == sorted(f"{m.table}.csv" for m in kpis)
    for mart in kpis:
        text = (path.parent / f"{mart.table}.csv").read_text(encoding="utf-8-sig")  # Excel's BOM
        rows = list(csv.reader(io.StringIO(text)))
        assert tuple(rows[0][: len(mart.columns)]) == mart.columns, mart.table  # then any extras
        assert len(rows) > 1
    text = (path.parent / "kpi_adoption_monthly.csv").read_text(encoding="utf-8-sig")
    adoption = list(csv.DictReader(io.StringIO(text)))
    assert len(adoption) == 15 and max(r["month"] for r in adoption) == "2026-04-01"
    # the mart that does not exist yet is named, not a crash
    html = path.read_text()
    assert "Referrals by campaign (marts.kpi_referrals_by_campaign_monthly)" in html
    assert 'id="referrals"' in html and "Top campaigns" not in html  # the rest of the page is there


def test_index_lists_every_report_newest_first(marts, settings, tmp_path):
    for day in (dt.date(2026, 3, 31), AS_OF, dt.date(2026, 2, 28), dt.date(2026, 3, 31)):
        build_report(marts, settings, as_of=day, validation=PASSED)

    root = published(tmp_path)
    manifest = json.loads((root / "reports.json").read_text())["reports"]
    assert [r["as_of"] for r in manifest] == ["2026-04-30", "2026-03-31", "2026-02-28"]  # rerun replaced
    index = (root / "index.html").read_text()
    links = re.findall(r'href="([^"]+)"', index)
    assert links == ["2026-04-30/index.html", "2026-03-31/index.html", "2026-02-28/index.html"]
    assert index.count("Validation passed") == 3
    assert "http" not in index and "<script" not in index
    march = (root / "2026-03-31" / "index.html").read_text()
    assert "Scorecard — March 2026" in march and "1,180" in march


def test_memory_publish_root(marts, settings):
    url = build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root="memory://adv-reports")
    assert url == "memory://adv-reports/2026-04-30/index.html"
    fs = fsspec.filesystem("memory")
    assert fs.exists("/adv-reports/2026-04-30/kpi_adoption_monthly.csv")
    assert b"2026-04-30/index.html" in fs.cat("/adv-reports/index.html")
    with fs.open("/adv-reports/2026-04-30/index.html", "rb") as f:
        assert b"Scorecard" in f.read()
    fs.rm("/adv-reports", recursive=True)


def test_validation_status(marts, settings, tmp_path):
    with pytest.raises(ValidationNotPassed, match="2026-04-30"):
        build_report(marts, settings, as_of=AS_OF, validation={"success": False, "run_id": "r1"})
    assert not (published(tmp_path) / "2026-04-30").exists()

    # no result passed and none recorded: published, but says so
    html = Path(build_report(marts, settings, as_of=AS_OF)).read_text()
    assert "Not validated" in html

    # no result passed: the gate's record in audit.validation_runs is used
    from advocacy.quality.runner import ensure_audit_table

    ensure_audit_table(marts)
    with marts.connect() as conn:
        conn.execute(
            "insert into audit.validation_runs (run_id, as_of, table_name, row_count, success) values "
            "('r2', '2026-04-30', 'marts.kpi_adoption_monthly', 15, true)"
        )
        conn.commit()
    html = Path(build_report(marts, settings, as_of=AS_OF)).read_text()
    assert "Validation passed" in html

    forced = build_report(marts, settings, as_of=AS_OF, validation={"success": False}, force=True)
    assert "Validation failed" in Path(forced).read_text()
    assert "Validation failed" in (published(tmp_path) / "index.html").read_text()


def test_report_from_a_nearly_empty_warehouse(warehouse, settings, tmp_path):
    with warehouse.connect() as conn:
        conn.execute(
            "create table marts.kpi_adoption_monthly (month date, department text, invited int, "
            "registered int, active int, adoption_rate numeric, activation_rate numeric)"
        )
        conn.commit()
    path = Path(build_report(warehouse, settings, as_of=AS_OF, validation=PASSED))
    html = path.read_text()
    assert "No scorecard yet" in html
    assert "No data for this period yet" in html  # the adoption chart, empty
    assert "No freshness information" in html
    assert [p.name for p in path.parent.glob("*.csv")] == ["kpi_adoption_monthly.csv"]


def section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_benchmarks_platforms_referrals_and_earned_media(marts, settings, tmp_path):
    path = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED))
    html = path.read_text()

    # where the programme stands: adoption 50.1% vs 53%, X 1,240 vs 772, LinkedIn 611 vs 459, +42% vs +64%
    bench = section(html, "benchmarks")
    for text in ("Adoption rate", "50.1%", "benchmark 53.0%", "Avg. audience, X", "1,240", "benchmark 772"):
        assert text in bench, text
    assert "Avg. audience, LinkedIn" in bench and "benchmark 459" in bench
    assert "Avg. audience, Facebook" in bench and "benchmark 433" in bench  # no data yet, benchmark shown
    assert "+42%" in bench and "benchmark +64%" in bench
    assert bench.count("below benchmark") == 2 and bench.count("at or above benchmark") == 2
    assert bench.count("no data yet") == 1
    # each benchmark on its own scale: the value and the benchmark side by side, the basis in words
    assert bench.count('<svg class="chart"') == 5
    assert ">Personalised post uplift: this programme and the benchmark</title>" in bench
    uplift = bench[bench.index("chart-bench-4") :]
    assert "This programme · Personalised post uplift: +42%" in uplift
    assert "Benchmark · Personalised post uplift: +64%" in uplift
    assert "63.9" not in bench  # the old index bar (1.42 / 1.64 = 86.6 %, +5 % as 63.9 %) is gone
    assert "compared with posts that keep the suggested copy" in bench

    # one card per platform, 'other' referral traffic last
    platforms = section(html, "platforms")
    assert (
        platforms.index(">LinkedIn</h3>")
        < platforms.index(">X</h3>")
        < platforms.index(">Other sources</h3>")
    )
    assert "All platforms" not in platforms
    assert "Engagement rate</dt><dd>5.10%" in platforms and "Referral sessions</dt><dd>600" in platforms

    # referrals: per platform with baseline and lift (negative for LinkedIn), campaigns, advocates
    referrals = section(html, "referrals")
    assert ">Referral sessions vs. pre-programme baseline</title>" in referrals
    for text in ("+200%", "-40%", "+60%", "spring-launch", "(none)", "webinar", "Ada L.", "310"):
        assert text in referrals, text
    assert "Advocates who are not named (together)" in referrals
    assert referrals.index("Ada L.") < referrals.index("Advocates who are not named")  # by sessions
    assert SECRET_NAME not in html  # a name dbt left on a non-consenting advocate's row is masked

    # earned media: example rates labelled as such, a missing rate is a dash (never 0)
    emv = section(html, "earned-media")
    assert "example rates" in emv and "CPM (example)" in emv and "CPC (example)" in emv
    assert "€1,985" in emv  # 250 * 6.5 + 450 * 0.8 = 1,985, in settings.report.currency
    linkedin = emv[emv.index(">LinkedIn<") :].split("</tr>")[0]
    assert linkedin.count(">–<") == 4  # impressions, CPM, CPC, value

    # teams and the points leaderboard
    rankings = section(html, "rankings")
    assert "Teams — April 2026" in rankings and "Leaderboard — April 2026" in rankings
    assert rankings.index("Sales") < rankings.index("Engineering")
    assert LEAKED_NAME not in html


def test_monthly_contest_winner_is_named_only_with_consent(marts, settings, tmp_path):
    html = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED)).read_text()
    winner = html[html.index('class="card winner"') :].split("</p></div>")[0]
    assert "Monthly contest — April 2026" in winner and "Ada L." in winner and "12 shares received" in winner

    with marts.connect() as conn:  # the non-consenting advocate (rank 2) received the most shares
        conn.execute(
            "update marts.kpi_top_contributors_monthly set shares_received = 40, display_name = %s "
            "where month = '2026-04-01' and rank = 2",
            (LEAKED_NAME,),
        )
        conn.commit()
    html = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED)).read_text()
    winner = html[html.index('class="card winner"') :].split("</p></div>")[0]
    assert "Anonymous advocate" in winner and "40 shares received" in winner and "Engineering" in winner
    assert LEAKED_NAME not in html and "Ada L." not in winner

    with marts.connect() as conn:
        conn.execute("update marts.kpi_top_contributors_monthly set shares_received = 0")
        conn.commit()
    html = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED)).read_text()
    assert "no winner" in html


def test_new_sections_are_left_out_while_their_marts_are_not_built(marts, settings, tmp_path):
    later = (
        "kpi_referrals_monthly",
        "kpi_referrals_by_employee_monthly",
        "kpi_referrals_by_campaign_monthly",
        "kpi_earned_media_monthly",
        "kpi_leaderboard_monthly",
        "kpi_team_contributors_monthly",
        "kpi_top_contributors_monthly",
    )
    with marts.connect() as conn:
        for table in later:
            conn.execute(f"drop table marts.{table}")
        conn.commit()
    path = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED))
    html = path.read_text()
    for gone in ('id="referrals"', 'id="earned-media"', 'id="rankings"', 'class="card winner"'):
        assert gone not in html, gone
    assert 'id="benchmarks"' in html and 'id="platforms"' in html  # from reach / engagement alone
    downloads = section(html, "downloads")
    for table in later:
        assert f"(marts.{table})" in downloads, table
    assert not any((path.parent / f"{t}.csv").exists() for t in later)

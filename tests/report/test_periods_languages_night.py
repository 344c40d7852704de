"""Honest periods, the report in English, Norwegian and Italian, and the night's status in the header."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
from advocacy import night as nights
from advocacy.quality.catalog import MARTS
from advocacy.report import build_report, i18n
from advocacy.settings import load_settings
from report_data import create_marts

PASSED = {"success": True, "run_id": "scheduled"}
MID_APRIL = dt.date(2026, 4, 15)


def settings_for(tmp_path, report: str = ""):
    path = tmp_path / "programme.yml"
    path.write_text(
        "programme:\n  name: Acme Robots advocacy\n  start_date: 2025-11-01\n"
        "inputs:\n  roster: roster.csv\n  publish: published\n"
        "platforms:\n  x: {}\n" + report
    )
    return load_settings(path)


@pytest.fixture
def marts(warehouse):
    create_marts(warehouse)
    return warehouse


def section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


# -- periods ---------------------------------------------------------------------------------


def test_mid_month_headlines_the_last_complete_month_and_the_month_so_far_on_the_same_days(marts, tmp_path):
    html = Path(build_report(marts, settings_for(tmp_path), as_of=MID_APRIL, validation=PASSED)).read_text()

    card = section(html, "scorecard")
    # the headline is March, complete, compared with February (never April's 15 days against March)
    assert "Scorecard — March 2026" in card and "The last complete month." in card
    assert "from 1,040 in Feb" in card  # invited, February's row of the test marts
    head, to_date = card.split('id="month-to-date"')
    assert "April" not in head
    # April so far, labelled, compared only with March 1-15: 45 posts against 30, 3 advocates against 2
    assert "April 2026 so far" in to_date and "month to date" in to_date
    assert "Compared only with the same days of the month before (Mar 1\u2009–\u200915)" in to_date
    assert re.search(
        r"Programme posts</div><div class=\"value\"[^>]*>45</div>"
        r"<div class=\"delta up\">▲ from 30 on Mar 1\u2009–\u200915",
        to_date,
    )
    assert "▲ from 2 on Mar 1\u2009–\u200915" in to_date  # advocates who posted
    assert re.search(r"Community posts</div>.*?▼ from 8 on", to_date)  # 8 community posts on 1-15 March
    # the running totals of the month are shown without an arrow or a colour
    assert "so far, no comparison until the month is over" in to_date
    assert "delta down" not in to_date.split("Community posts")[0]
    # every month section shows March
    assert "Top contributors — March 2026" in html and "Reach vs. benchmark — March 2026" in html
    # trends run to April, drawn apart and labelled, and said so in words
    trends = section(html, "trends")
    assert trends.count(">to date</tspan>") == sum(1 for m in MARTS if m.chart)
    assert "Apr 2026 (to date)" in trends  # data tables and tooltips
    assert "drawn dashed and hollow" in trends


def test_the_first_of_the_month_is_no_longer_a_collapse(marts, tmp_path):
    """The issue's case: one day of April against the whole of March read as a fall on every card."""
    html = Path(
        build_report(marts, settings_for(tmp_path), as_of=dt.date(2026, 4, 1), validation=PASSED)
    ).read_text()
    head, to_date = section(html, "scorecard").split('id="month-to-date"')
    assert "Scorecard — March 2026" in head
    # March against February: only the activation rate really fell (-0.4 pp)
    assert head.count('class="delta down"') == 1 and "▼ -0.4\u00a0pp vs. Feb" in head
    # April 1 against March 1 only: 3 programme posts against 2
    assert "Days Apr 1." in to_date and "(Mar 1)" in to_date
    assert "▲ from 2 on Mar 1" in to_date


def test_month_to_date_headline_from_the_settings(marts, tmp_path):
    settings = settings_for(tmp_path, "report:\n  headline: month_to_date\n")
    html = Path(build_report(marts, settings, as_of=MID_APRIL, validation=PASSED)).read_text()
    card = section(html, "scorecard")
    assert card.index("April 2026 so far") < card.index("Scorecard — March 2026")
    assert "Top contributors — April 2026 (to date)" in html
    assert "Where the programme stands — April 2026 (to date)" in html
    bench = section(html, "benchmarks")
    assert "50.1%" in bench  # April's adoption so far, not March's 47.5%


def test_on_the_last_day_the_month_is_complete_and_nothing_is_to_date(marts, tmp_path):
    html = Path(
        build_report(marts, settings_for(tmp_path), as_of=dt.date(2026, 4, 30), validation=PASSED)
    ).read_text()
    assert "Scorecard — April 2026" in html
    body = html[html.index("</style>") :]
    assert 'id="month-to-date"' not in body and "(to date)" not in body and 'class="todate"' not in body


# -- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "nb",
            (
                'lang="nb"',
                "Per <strong>15. april 2026</strong>",
                "Nøkkeltall – mars 2026",
                "april 2026 så langt",
                "hittil i måneden",
                "Hvor programmet står – mars 2026",
                "Datatabell",
                "Anonym ambassadør",
            ),
        ),
        (
            "it",
            (
                'lang="it"',
                "Aggiornato al <strong>15 aprile 2026</strong>",
                "Indicatori chiave — marzo 2026",
                "aprile 2026 finora",
                "mese in corso",
                "A che punto è il programma — marzo 2026",
                "Tabella dati",
                "Ambassador anonimo",
            ),
        ),
    ],
)
def test_report_in_norwegian_and_italian(marts, tmp_path, language, texts):
    settings = settings_for(tmp_path, f"report:\n  language: {language}\n  currency: NOK\n")
    path = Path(build_report(marts, settings, as_of=MID_APRIL, validation=PASSED))
    html = path.read_text()
    for text in texts:
        assert text in html, text
    card = section(html, "scorecard")
    if language == "nb":
        assert "1\u00a0180" in card and "47,5\u00a0%" in card or "47,5%" in card  # March: invited, adoption
        assert "Earned media-verdi – mars 2026" in html and "kr" in section(html, "earned-media")
    else:
        assert "1.180" in card and "47,5%" in card
        assert "NOK" in section(html, "earned-media")
    # no English left in the page's own texts
    for english in ("Scorecard", "Data table", "Top contributors", "so far", "below benchmark"):
        assert english not in html, english
    # the CSVs are the BI interface: the marts' column names, untranslated
    rows = list(
        csv.reader(io.StringIO((path.parent / "kpi_adoption_monthly.csv").read_text(encoding="utf-8-sig")))
    )
    assert rows[0][:3] == ["month", "department", "invited"]
    index = (path.parent.parent / "index.html").read_text()
    assert f'lang="{language}"' in index and "15" in index


def test_every_text_has_a_translation_in_every_shipped_language():
    for language in i18n.LANGUAGES:
        assert i18n.missing(language) == [], language
    # the catalogs' placeholders are the English ones (a typo would crash or drop a number)
    for language in i18n.LANGUAGES:
        for message in i18n.read_catalog(language):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(re.findall(r"%\(\w+\)s", ids[-1]))
            for s in strings:
                assert set(re.findall(r"%\(\w+\)s", s)) == wanted, (language, message.id, s)


def test_the_completeness_check_sees_a_missing_translation(tmp_path, monkeypatch):
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    po = copy / "it" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    po.write_text(text.replace('msgstr "Tabella dati"', 'msgstr ""'))
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    assert i18n.missing("it") == ["Data table"]
    assert i18n.missing("nb") == []


def test_an_unknown_language_is_refused_with_the_settings_key(marts, tmp_path):
    # the strict settings refuse it already, naming the file's line, the key and the choices
    with pytest.raises(ValueError, match=r"programme.yml:\d+: report.language: 'fr' is not allowed"):
        settings_for(tmp_path, "report:\n  language: fr\n")


# -- the night -------------------------------------------------------------------------------


def test_header_and_index_say_which_source_is_missing_or_partial(marts, tmp_path):
    nights.record(marts, "x", MID_APRIL, "ok", rows_loaded=1520, rows_quarantined=0)
    nights.record(
        marts,
        "linkedin",
        MID_APRIL,
        "failed",
        message="LinkedIn refused the token: renew the connection linkedin_default",
    )
    nights.record(
        marts,
        "roster",
        MID_APRIL,
        "partial",
        rows_loaded=210,
        rows_quarantined=5,
        message="roster.csv line 4: email <x> is not an e-mail address",
        reasons=[f"roster.csv line {n}: email <x> is not an e-mail address" for n in (4, 9, 12, 15, 20)],
    )
    settings = settings_for(tmp_path)
    path = Path(build_report(marts, settings, as_of=MID_APRIL, validation=PASSED))
    html = path.read_text()
    header = html[: html.index("</header>")]
    assert "Validation passed" not in header.split('id="night"')[0]
    assert "Incomplete night: LinkedIn failed, HR roster partly loaded" in header
    assert "renew the connection linkedin_default" in header
    assert "roster.csv line 4: email &lt;x&gt; is not an e-mail address" in header  # escaped
    # the message is the first reason: said once, then the next three and "1 more"
    assert header.count("roster.csv line 4:") == 1
    assert "line 15" in header and "line 20" not in header and "and 1 more" in header
    assert ">1,520<" in header and ">210<" in header and ">5<" in header
    assert header.count("Validation passed") == 1  # said once, in the night's note
    index = (path.parent.parent / "index.html").read_text()
    assert "Incomplete night: LinkedIn failed, HR roster partly loaded" in index


def test_held_back_marts_and_artifacts(marts, tmp_path):
    night = nights.NightStatus(
        as_of=MID_APRIL,
        sources=(nights.SourceRun("x", MID_APRIL, "ok", 10, 0),),
        marts="held_back",
        marts_as_of=dt.date(2026, 4, 14),
        artifacts={
            "dbt run results": "artifacts/run_results.json",
            "Data docs <GX>": "artifacts/gx/index.html",
            "elsewhere": "https://example.com/x",  # not relative: named, not linked
            "script": "javascript:alert(1)",
        },
    )
    settings = settings_for(tmp_path, "report:\n  language: nb\n")
    path = Path(build_report(marts, settings, as_of=MID_APRIL, validation=PASSED, night=night))
    header = path.read_text().split("</header>")[0]
    assert "Holdt tilbake: BI viser natten til 14. april 2026" in header
    assert "dashbordene viser fortsatt natten til 14. april 2026" in header
    assert '<a href="artifacts/run_results.json">dbt run results</a>' in header
    assert "Data docs &lt;GX&gt;" in header
    assert "<li>elsewhere</li>" in header and "example.com" not in header and "javascript:" not in header
    index = (path.parent.parent / "index.html").read_text()
    assert "Holdt tilbake: BI viser natten til 14. april 2026" in index


def test_a_complete_night_says_validation_passed_with_its_sources(marts, tmp_path):
    for source in ("x", "linkedin", "roster"):
        nights.record(marts, source, MID_APRIL, "ok", rows_loaded=5)
    html = Path(build_report(marts, settings_for(tmp_path), as_of=MID_APRIL, validation=PASSED)).read_text()
    assert "Validation passed · all 3 sources loaded" in html
    assert html.count("Validation passed") == 1  # the badge; the night's note does not repeat it


def test_the_nights_published_artifacts_are_linked_without_being_passed(marts, tmp_path):
    """dbt's results and GX's Data Docs published beside the report (advocacy.artifacts) are
    found and linked from the header when the caller passes no night."""
    settings = settings_for(tmp_path)
    run = Path(settings.publish_path) / MID_APRIL.isoformat() / "artifacts" / "scheduled__night"
    (run / "dbt" / "build").mkdir(parents=True)
    (run / "dbt" / "build" / "run_results.json").write_text("{}")
    html = Path(build_report(marts, settings, as_of=MID_APRIL, validation=PASSED)).read_text()
    assert 'href="artifacts/scheduled__night/dbt/build/run_results.json"' in html

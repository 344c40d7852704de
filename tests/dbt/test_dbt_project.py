"""The dbt project against a real PostgreSQL: one `dbt build` per module on a hand-made raw dataset.

The dataset (raw_data.py) is small enough to work every mart out by hand; each
test below states the arithmetic in its expected values. Also runs
`dbt source freshness` and `dbt docs generate` once, and checks the marts
against the validation gate's catalog (the public column interface).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import raw_data

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
D = Decimal

pytestmark = pytest.mark.slow


def _dbt_vars() -> dict:
    """What the pipeline passes: the demo programme's settings with X alone switched on (the
    hand-made raw data is X's; tests/dbt/test_platforms.py builds all four) + the report date.
    This build is also the proof that platforms switched off by configuration drop out cleanly."""
    from advocacy.settings import DEMO_SETTINGS, load_settings

    dbt_vars = load_settings(DEMO_SETTINGS).dbt_vars()
    dbt_vars["enabled_platforms"] = ["x"]
    dbt_vars["company_handles"] = {"x": dbt_vars["company_handles"]["x"]}
    return {**dbt_vars, "as_of_date": raw_data.AS_OF}


class Dbt:
    """Runs the venv's dbt CLI on the project with the warehouse's env vars."""

    def __init__(self, target, workdir: Path):
        self.env = {
            **os.environ,
            **target.dbt_env(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_PROFILES_DIR": str(DBT_PROJECT),
        }
        self.workdir = workdir
        self.timings: dict[str, float] = {}

    def __call__(self, *args: str, vars: dict | None = None, check: bool = True, label: str | None = None):
        cmd = [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(self.workdir / "target"),
            "--log-path",
            str(self.workdir / "logs"),
        ]
        if vars is not None:
            cmd += ["--vars", json.dumps(vars)]
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=600)
        self.timings[label or args[0]] = time.perf_counter() - started
        if check and proc.returncode != 0:
            pytest.fail(
                f"dbt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr}"
            )
        return proc


def _raw_database(pg_server):
    """A fresh database with the project's schemas and the raw dataset; dropped afterwards."""
    from advocacy.warehouse import WarehouseTarget, ensure_schemas

    name = f"t_dbt_{uuid.uuid4().hex[:10]}"
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = WarehouseTarget(**{**pg_server.__dict__, "dbname": name})
    ensure_schemas(target)
    with target.connect() as conn:
        raw_data.load_raw(conn)
    yield target
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def dbt_warehouse(pg_server):
    yield from _raw_database(pg_server)


@pytest.fixture(scope="module")
def dbt(dbt_warehouse, tmp_path_factory):
    return Dbt(dbt_warehouse, tmp_path_factory.mktemp("dbt"))


@pytest.fixture(scope="module")
def built(dbt):
    proc = dbt("build", vars=_dbt_vars())
    return proc


@pytest.fixture(scope="module")
def q(dbt_warehouse, built):
    """Run a query against the built warehouse; rows as tuples."""

    def run(sql: str, *params):
        with dbt_warehouse.connect() as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]

    return run


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


JAN, FEB, MAR = _d("2026-01-01"), _d("2026-02-01"), _d("2026-03-01")


# --------------------------------------------------------------------------- the build itself
def test_build_passes_every_test(built, dbt):
    out = built.stdout
    assert "Completed successfully" in out
    assert "ERROR=0" in out and "SKIP=0" in out
    # unit tests ran as part of the build
    assert "unit tests" in out
    # its time is printed (dbt.timings), never asserted: speed is measured by `advocacy bench`
    print(f"dbt build: {dbt.timings['build']:.1f} s")


def test_layers_land_in_their_schemas(q):
    rows = q(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts')"
    )
    by_schema = {}
    for schema, table, kind in rows:
        by_schema.setdefault(schema, {})[table] = kind
    assert {t for t in by_schema["staging"] if t.startswith("stg_")} == {
        "stg_roster__employees",
        "stg_x__posts",
        "stg_x__post_metrics",
        "stg_x__audience",
        "stg_x__post_errors",
        "stg_x__account_errors",
        "stg_web__sessions",
        "stg_self_report__activity",
    }
    # views, but the sessions file: parsed once a build (stg_web__sessions.sql)
    assert {t: kind for t, kind in by_schema["staging"].items() if kind != "VIEW"} == {
        "stg_web__sessions": "BASE TABLE"
    }
    assert all(t.startswith(("int_", "snp_")) for t in by_schema["intermediate"])
    marts = by_schema["marts"]
    for t in (
        "dim_employee",
        "fct_posts",
        "fct_post_engagement_daily",
        "kpi_adoption_monthly",
        "kpi_participation_monthly",
        "kpi_top_contributors_monthly",
        "kpi_team_contributors_monthly",
        "kpi_reach_monthly",
        "kpi_engagement_monthly",
        "kpi_programme_scorecard_monthly",
        "kpi_referrals_monthly",
        "kpi_referrals_by_campaign_monthly",
        "kpi_referrals_by_employee_monthly",
        "kpi_earned_media_monthly",
        "kpi_leaderboard_monthly",
        "fct_source_freshness",
        "benchmark_audience",
        "media_rates",
    ):
        assert marts.get(t) == "BASE TABLE", t


def test_marts_have_the_catalog_columns(q):
    """Every mart the validation gate / report knows (advocacy.quality.catalog) has its columns."""
    from advocacy.quality.catalog import MARTS

    cols: dict[str, list[str]] = {}
    for table, column in q(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    ):
        cols.setdefault(table, []).append(column)
    built = [t for t in MARTS if t.table in cols]
    assert len(built) >= 11
    for t in built:
        missing = set(t.columns) - set(cols[t.table])
        assert not missing, f"marts.{t.table} lacks {sorted(missing)}"


def test_no_email_or_handle_in_marts(q):
    columns = {
        c for (c,) in q("select column_name from information_schema.columns where table_schema = 'marts'")
    }
    assert not columns & {"email", "full_name", "x_username", "author_username", "post_text"}


# --------------------------------------------------------------------------- employees
def test_dim_employee_names_only_with_consent(q):
    rows = q(
        "select employee_id, department, consent_public, display_name, invited_at from marts.dim_employee"
    )
    assert sorted(rows) == [
        ("E001", "Engineering", True, "Ada Lovelace", _d("2026-01-10")),
        ("E002", "Engineering", False, None, _d("2026-01-10")),
        ("E003", "Sales", False, None, _d("2026-02-01")),
        ("E004", "Sales", True, "Dan Dorsey", _d("2026-01-20")),
        ("E005", "Marketing", False, None, None),
        ("E006", "Engineering", True, "Finn Fox", _d("2026-01-10")),
    ]


def test_adoption_monthly(q):
    rows = q(
        "select month, department, invited, registered, active, adoption_rate, activation_rate "
        "from marts.kpi_adoption_monthly order by month, department"
    )
    assert rows == [
        # January: invited E001 E002 E004 E006 (E006 leaves on 01-31: still counts);
        # registered by 01-31: E001 E004 E006; active: E006 (post 1010)
        (JAN, "ALL", 4, 3, 1, D("0.7500"), D("0.3333")),
        (JAN, "Engineering", 3, 2, 1, D("0.6667"), D("0.5000")),
        (JAN, "Marketing", 0, 0, 0, None, None),  # nobody invited: rates null, not an error
        (JAN, "Sales", 1, 1, 0, D("1.0000"), D("0.0000")),
        # February: E006 left before 02-01; E003 invited 02-01; E002 registered 02-01;
        # active: E001 (1001, 1002 at 00:30 local on Feb 1) and E004 (1003 retweet, 1004 quote)
        # + Bob's self-reported LinkedIn posts (no API posts of his that month)
        (FEB, "ALL", 4, 3, 3, D("0.7500"), D("1.0000")),
        (FEB, "Engineering", 2, 2, 2, D("1.0000"), D("1.0000")),
        (FEB, "Marketing", 0, 0, 0, None, None),
        (FEB, "Sales", 2, 1, 1, D("0.5000"), D("1.0000")),
        # March (to the report date 03-03): active E001 (1007, deleted later but still a post), E002 (1006)
        # + Dan's self-reported x post (his API posts are in February); Cleo's report does
        # not count (not registered)
        (MAR, "ALL", 4, 3, 3, D("0.7500"), D("1.0000")),
        (MAR, "Engineering", 2, 2, 2, D("1.0000"), D("1.0000")),
        (MAR, "Marketing", 0, 0, 0, None, None),
        (MAR, "Sales", 2, 1, 1, D("0.5000"), D("1.0000")),
    ]


def test_participation_monthly(q):
    rows = q(
        "select month, employee_id, status, programme_posts, days_since_last_post "
        "from marts.kpi_participation_monthly order by month, employee_id"
    )
    assert rows == [
        (JAN, "E001", "registered_dormant", 0, None),
        (JAN, "E002", "invited", 0, None),
        (JAN, "E004", "registered_dormant", 0, None),
        (JAN, "E006", "active", 1, 11),  # 01-20 -> 01-31
        # + 1 self-reported TikTok post; her self-reported X posts are superseded by her API posts
        (FEB, "E001", "active", 3, 25),  # last 02-03 -> 02-28
        (FEB, "E002", "active", 2, None),  # self-reported only (LinkedIn, 2 in the latest copy): no date
        (FEB, "E003", "invited", 0, None),
        (FEB, "E004", "active", 2, 8),  # last 02-20 -> 02-28
        (MAR, "E001", "active", 1, 2),  # 03-01 -> report date 03-03
        (MAR, "E002", "active", 1, 1),  # 03-02 -> 03-03
        (MAR, "E003", "invited", 0, None),  # her hashtag post came before registering
        (MAR, "E004", "active", 1, 11),  # self-reported x post; last API post 02-20 -> 03-03
    ]


def test_top_contributors_order_and_masking(q):
    rows = q(
        "select month, rank, employee_id, display_name, department, programme_posts, interactions, "
        "shares_received from marts.kpi_top_contributors_monthly order by month, rank"
    )
    assert rows == [
        (JAN, 1, "E006", "Finn Fox", "Engineering", 1, 8, 0),
        # Ada: 1001 (12+2+5=19) + 1002 verbatim (4+1+1=6); Dan: retweet 1003 (credited 0) + quote 1004 (6+1+1)
        (FEB, 1, "E001", "Ada Lovelace", "Engineering", 3, 25, 6),  # + 1 self-reported post
        (FEB, 2, "E004", "Dan Dorsey", "Sales", 2, 8, 1),
        (FEB, 3, "anonymous", None, "Engineering", 2, 0, 0),  # Bob, self-reported posts only
        # Bob (no consent) leads March with 5 and stays anonymous; Ada's deleted post keeps its last 2
        (MAR, 1, "anonymous", None, "Engineering", 1, 5, 0),
        (MAR, 2, "E001", "Ada Lovelace", "Engineering", 1, 2, 0),
        (MAR, 3, "E004", "Dan Dorsey", "Sales", 1, 0, 0),  # self-reported post; its engagement apart
    ]
    assert q(
        "select month, employee_id, self_reported_posts, self_reported_interactions "
        "from marts.kpi_top_contributors_monthly where self_reported_posts > 0 order by month, rank"
    ) == [(FEB, "E001", 1, 13), (FEB, "anonymous", 2, 5), (MAR, "E004", 1, 5)]


def test_team_contributors(q):
    rows = q(
        "select month, rank, department, active_advocates, programme_posts, interactions "
        "from marts.kpi_team_contributors_monthly order by month, rank"
    )
    assert rows == [
        (JAN, 1, "Engineering", 1, 1, 8),
        (JAN, 2, "Marketing", 0, 0, 0),
        (JAN, 3, "Sales", 0, 0, 0),
        (FEB, 1, "Engineering", 2, 5, 25),
        (FEB, 2, "Sales", 1, 2, 8),
        (FEB, 3, "Marketing", 0, 0, 0),
        (MAR, 1, "Engineering", 2, 2, 7),
        (MAR, 2, "Sales", 1, 1, 0),
        (MAR, 3, "Marketing", 0, 0, 0),
    ]


# --------------------------------------------------------------------------- posts
def test_fct_posts_dedup_classification_and_credit(q):
    rows = q(
        "select post_id, employee_id, is_programme_post, is_community_post, is_pure_reshare, "
        "is_personalised, likes, comments, shares, impressions, interactions, found_via, is_deleted, "
        "deleted_on, created_month from marts.fct_posts order by post_id"
    )
    assert rows == [
        # original with hashtag, seen by timeline twice and by search: one row, latest counters
        ("1001", "E001", True, False, False, True, 12, 2, 5, 650, 19, "timeline+search", False, None, FEB),
        # the company's copy verbatim (case, spacing, link differ): not personalised
        ("1002", "E001", True, False, False, False, 4, 1, 1, 260, 6, "timeline", False, None, FEB),
        # retweet of the company post: activity, engagement credited 0 (X reported 13 retweets on it)
        ("1003", "E004", True, False, True, False, 0, 0, 0, 0, 0, "timeline", False, None, FEB),
        # quote of the company post (author unresolved, id known), 4-key metrics: no impressions
        ("1004", "E004", True, False, False, True, 6, 1, 1, None, 8, "timeline", False, None, FEB),
        # off-topic: an employee post, not a programme post
        ("1005", "E001", False, False, False, True, 20, 3, 1, 900, 24, "timeline", False, None, FEB),
        ("1006", "E002", True, False, False, True, 4, 1, 0, 120, 5, "timeline", False, None, MAR),
        # deleted on 03-02: kept, last counters of 03-01
        ("1007", "E001", True, False, False, True, 2, 0, 0, 40, 2, "timeline", True, _d("2026-03-02"), MAR),
        # hashtag post of an invited, unregistered employee: neither programme nor community
        ("1008", "E003", False, False, False, True, 1, 0, 0, 30, 1, "search", False, None, MAR),
        ("1010", "E006", True, False, False, True, 8, 0, 0, 300, 8, "timeline", False, None, JAN),
        # community post: not an employee, found by the hashtag search
        ("2001", None, False, True, False, True, 3, 1, 0, 80, 4, "search", False, None, MAR),
    ]
    # 1011 (lookup only) and the company's own posts 9001 / 9002 are not posts here


def test_post_engagement_daily_deltas(q):
    rows = q(
        "select post_id, day, likes, comments, shares, impressions, interactions, likes_delta, "
        "comments_delta, shares_delta, impressions_delta, interactions_delta "
        "from marts.fct_post_engagement_daily "
        "where post_id in ('1001', '1003', '1004') order by post_id, day"
    )
    d1, d2 = _d("2026-03-01"), _d("2026-03-02")
    assert rows == [
        ("1001", d1, 10, 2, 4, 500, 16, 10, 2, 4, 500, 16),  # first snapshot: delta = value
        ("1001", d2, 12, 2, 5, 650, 19, 2, 0, 1, 150, 3),
        ("1003", d1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),  # pure reshare: credited 0 every day
        ("1003", d2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ("1004", d1, 5, 1, 0, None, 6, 5, 1, 0, None, 6),
        ("1004", d2, 6, 1, 1, None, 8, 1, 0, 1, None, 2),
    ]
    (n,) = q("select count(*) from marts.fct_post_engagement_daily")[0]
    assert n == 15


# --------------------------------------------------------------------------- reach and engagement
def test_reach_monthly(q):
    rows = q(
        "select month, platform, active_advocates, potential_reach, avg_audience, benchmark_avg_audience, "
        "impressions from marts.kpi_reach_monthly order by month, platform"
    )
    assert rows == [
        # January: Finn, audience carried back from the first snapshot (03-01: 200)
        (JAN, "ALL", 1, 200, D("200.00"), D("772.00"), 300),
        (JAN, "x", 1, 200, D("200.00"), D("772.00"), 300),
        # February: Ada 1000 + Dan 800 (carried back); impressions 650 + 260 + 0 + null
        (FEB, "ALL", 2, 1800, D("900.00"), D("772.00"), 910),
        (FEB, "x", 2, 1800, D("900.00"), D("772.00"), 910),
        # March: latest snapshot in the month (03-02): Ada 1010 + Bob 500
        (MAR, "ALL", 2, 1510, D("755.00"), D("772.00"), 160),
        (MAR, "x", 2, 1510, D("755.00"), D("772.00"), 160),
    ]


def test_engagement_monthly(q):
    rows = q(
        "select month, platform, programme_posts, interactions, comments, engagement_rate, "
        "engagement_rate_basis, personalised_uplift from marts.kpi_engagement_monthly "
        "order by month, platform"
    )
    assert rows == [
        # 8 / 300 impressions; no verbatim copy -> uplift null
        (JAN, "ALL", 1, 8, 0, D("0.0267"), "impressions", None),
        (JAN, "x", 1, 8, 0, D("0.0267"), "impressions", None),
        # the quote has no impressions -> audience basis: 33 / 1800; uplift (19 + 8) / 2 / 6 - 1
        (FEB, "ALL", 4, 33, 4, D("0.0183"), "audience", D("1.2500")),
        (FEB, "x", 4, 33, 4, D("0.0183"), "audience", D("1.2500")),
        # 7 / 160 = 0.04375
        (MAR, "ALL", 2, 7, 1, D("0.0438"), "impressions", None),
        (MAR, "x", 2, 7, 1, D("0.0438"), "impressions", None),
    ]


def test_programme_scorecard(q):
    rows = q(
        "select month, invited, registered, active, adoption_rate, activation_rate, programme_posts, "
        "community_posts, interactions, potential_reach, engagement_rate, referral_sessions, "
        "referral_conversions, adoption_rate_mom, activation_rate_mom, engagement_rate_mom "
        "from marts.kpi_programme_scorecard_monthly order by month"
    )
    assert rows == [
        (JAN, 4, 3, 1, D("0.75"), D("0.3333"), 1, 0, 8, 200, D("0.0267"), 0, 0, None, None, None),
        # active includes self-reports; programme_posts / interactions are the APIs' (engagement mart)
        (FEB, 4, 3, 3, D("0.75"), D("1.0000"), 4, 0, 33, 1800, D("0.0183"), 3, 3,
         D("0"), D("0.6667"), D("-0.0084")),
        (MAR, 4, 3, 3, D("0.75"), D("1.0000"), 2, 1, 7, 1510, D("0.0438"), 2, 1,
         D("0"), D("0"), D("0.0255")),
    ]  # fmt: skip


# --------------------------------------------------------------------------- web sessions / referrals
def test_web_sessions_staging_reads_the_latest_copy(q):
    rows = q(
        "select session_id, utm_source, utm_medium, utm_content, conversions, source_format "
        "from staging.stg_web__sessions where session_id in ('S07', 'S08', 'S99') order by 1"
    )
    assert rows == [
        ("S07", "lnkd.in", "employee_advocacy", "ada1", 0, "csv"),  # lowercased
        ("S08", "twitter", "employee_advocacy", "dan4", 2, "ga4"),
    ]  # S99 only in the 03-01 copy


def test_referrals_monthly(q):
    rows = q(
        "select month, platform, sessions, conversions, baseline_sessions, lift "
        "from marts.kpi_referrals_monthly order by month, platform"
    )
    # baseline (Oct-Dec 2025, any medium): x = S02 + S03 = 2 / 3, linkedin = S01 = 1 / 3,
    # ALL = 3 / 3 (S04 is in September, S05's newsletter is not social); facebook/instagram 0 -> lift null
    x_b, li_b, all_b = D("0.67"), D("0.33"), D("1.00")
    assert rows == [
        # January: S11 is not the advocacy medium, S08 is February in Amsterdam
        (JAN, "ALL", 0, 0, all_b, D("-1.0000")),
        (JAN, "facebook", 0, 0, D("0.00"), None),
        (JAN, "instagram", 0, 0, D("0.00"), None),
        (JAN, "linkedin", 0, 0, li_b, D("-1.0000")),
        (JAN, "other", 0, 0, None, None),
        (JAN, "x", 0, 0, x_b, D("-1.0000")),
        # February: x S06 (1 conv) + S08 (2, GA4) -> 2 / (2/3) - 1 = 2; linkedin S07 -> 1 / (1/3) - 1 = 2
        (FEB, "ALL", 3, 3, all_b, D("2.0000")),
        (FEB, "facebook", 0, 0, D("0.00"), None),
        (FEB, "instagram", 0, 0, D("0.00"), None),
        (FEB, "linkedin", 1, 0, li_b, D("2.0000")),
        (FEB, "other", 0, 0, None, None),
        (FEB, "x", 2, 3, x_b, D("2.0000")),
        # March: x S09 -> 1 / (2/3) - 1 = 0.5; the newsletter S10 is 'other'; ALL 2 / 1 - 1
        (MAR, "ALL", 2, 1, all_b, D("1.0000")),
        (MAR, "facebook", 0, 0, D("0.00"), None),
        (MAR, "instagram", 0, 0, D("0.00"), None),
        (MAR, "linkedin", 0, 0, li_b, D("-1.0000")),
        (MAR, "other", 1, 1, None, None),
        (MAR, "x", 1, 0, x_b, D("0.5000")),
    ]


def test_referrals_by_campaign(q):
    rows = q(
        "select month, campaign, platform, sessions, conversions, attributed_sessions "
        "from marts.kpi_referrals_by_campaign_monthly order by month, campaign, platform"
    )
    assert rows == [
        (FEB, "hiring", "x", 1, 2, 1),
        (FEB, "launch", "linkedin", 1, 0, 1),  # 'Launch' and 'launch' are one campaign
        (FEB, "launch", "x", 1, 1, 1),
        (MAR, "hiring", "other", 1, 1, 0),  # zzz9 is nobody's code
        (MAR, "hiring", "x", 1, 0, 1),
    ]


def test_referrals_by_employee(q):
    rows = q(
        "select month, employee_id, display_name, sessions, conversions "
        "from marts.kpi_referrals_by_employee_monthly order by month, employee_id"
    )
    assert rows == [
        # Ada: S06 (utm_content 'ADA1') + S07 ('ada1') against roster code 'ada1'; Dan: S08
        (FEB, "E001", "Ada Lovelace", 2, 1),
        (FEB, "E004", "Dan Dorsey", 1, 2),
        (MAR, "anonymous", None, 1, 0),  # Bob (no consent), S09
    ]


def test_leaderboard(q):
    rows = q(
        "select month, rank, employee_id, display_name, department, points "
        "from marts.kpi_leaderboard_monthly order by month, position"
    )
    # weights: post 10, like 1, comment 3, share received 5, referral session 2, conversion 20
    assert rows == [
        (JAN, 1, "E006", "Finn Fox", "Engineering", D("18.00")),  # 10 + 8 likes
        # Ada: 3 posts (1 self-reported) 30 + 16 likes + 3 comments * 3 + 6 shares * 5
        #      + 2 referral sessions * 2 + 1 conversion * 20 = 109
        (FEB, 1, "E001", "Ada Lovelace", "Engineering", D("109.00")),
        # Dan: 20 + 6 + 3 + 5 + 1 session * 2 + 2 conversions * 20 = 76
        (FEB, 2, "E004", "Dan Dorsey", "Sales", D("76.00")),
        (FEB, 3, "anonymous", None, "Engineering", D("20.00")),  # Bob: 2 self-reported posts
        # Bob: 10 + 4 + 3 + 1 referral session * 2 = 19; Ada 10 + 2; Dan 1 self-reported post
        (MAR, 1, "anonymous", None, "Engineering", D("19.00")),
        (MAR, 2, "E001", "Ada Lovelace", "Engineering", D("12.00")),
        (MAR, 3, "E004", "Dan Dorsey", "Sales", D("10.00")),
    ]


def test_earned_media(q):
    rows = q(
        "select month, platform, impressions, referral_sessions, cpm, cpc, earned_media_value "
        "from marts.kpi_earned_media_monthly where platform in ('ALL', 'x', 'linkedin')"
        " order by month, platform"
    )
    assert rows == [
        # x: 300 / 1000 * 6.5 = 1.95
        (JAN, "ALL", 300, 0, None, None, D("1.95")),
        (JAN, "linkedin", None, 0, D("33.8"), D("5.6"), D("0.00")),
        (JAN, "x", 300, 0, D("6.5"), D("0.9"), D("1.95")),
        # x: 910 / 1000 * 6.5 + 2 * 0.9 = 5.915 + 1.8 = 7.715 -> 7.72; linkedin 1 * 5.6
        (FEB, "ALL", 910, 3, None, None, D("13.32")),
        (FEB, "linkedin", None, 1, D("33.8"), D("5.6"), D("5.60")),
        (FEB, "x", 910, 2, D("6.5"), D("0.9"), D("7.72")),
        # x: 160 / 1000 * 6.5 + 0.9 = 1.94
        (MAR, "ALL", 160, 1, None, None, D("1.94")),
        (MAR, "linkedin", None, 0, D("33.8"), D("5.6"), D("0.00")),
        (MAR, "x", 160, 1, D("6.5"), D("0.9"), D("1.94")),
    ]


def test_source_freshness_mart(q, dbt_warehouse):
    rows = q(
        "select source, stream, last_interval_start, records, records_total "
        "from marts.fct_source_freshness order by source, stream"
    )
    d2 = _d("2026-03-02")
    assert rows == [
        ("roster", "employees", d2, 6, 12),
        # file sources: staging keeps only the latest landed copy (the whole file each night)
        ("self_report", "activity", d2, 5, 5),
        ("web", "sessions", d2, 11, 11),
        ("x", "tweet_errors", d2, 1, 1),
        ("x", "tweets", d2, 8, 19),
        ("x", "users", d2, 6, 12),
    ]  # x.user_errors never had a record: no row
    (lag,) = q("select max(now() - last_extracted_at) < interval '7 hours' from marts.fct_source_freshness")[
        0
    ]
    assert lag


# --------------------------------------------------------------------------- other commands
def test_source_freshness_command(dbt, built):
    dbt("source", "freshness", vars=_dbt_vars())
    results = json.loads((dbt.workdir / "target" / "sources.json").read_text())["results"]
    statuses = {r["unique_id"].split(".", 2)[2]: r["status"] for r in results}
    # the error streams have no freshness expectation (no error is not staleness)
    assert statuses == {
        "roster.employees": "pass",
        "x.tweets": "pass",
        "x.users": "pass",
        "web.sessions": "pass",
        "self_report.activity": "pass",
    }


def test_docs_generate_offline(dbt, built):
    dbt("docs", "generate", vars=_dbt_vars())
    target = dbt.workdir / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert "model.advocacy.kpi_adoption_monthly" in catalog["nodes"]
    # every model and every column is documented
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        assert node["description"].strip(), node["name"]
        for col in node["columns"].values():
            assert col["description"].strip(), f"{node['name']}.{col['name']}"
    # personal columns are tagged
    dim = manifest["nodes"]["model.advocacy.dim_employee"]
    assert "pii" in dim["columns"]["display_name"]["tags"]
    # marts are contracted
    assert manifest["nodes"]["model.advocacy.fct_posts"]["config"]["contract"]["enforced"]


def test_switching_a_platform_off_drops_it_from_the_union(dbt, built):
    """enabled_platforms = []: the X staging models are disabled, the unions compile to empty relations."""
    v = {**_dbt_vars(), "enabled_platforms": []}
    listed = dbt("ls", "--resource-type", "model", "--output", "name", vars=v, label="ls").stdout.split()
    assert "stg_roster__employees" in listed and "int_posts_unioned" in listed
    assert not [m for m in listed if m.startswith("stg_x__")]
    dbt("compile", "-s", "int_posts_unioned", "int_source_loads_daily", vars=v, label="compile")
    compiled_dir = dbt.workdir / "target" / "compiled" / "advocacy" / "models" / "intermediate"
    compiled = (compiled_dir / "platforms" / "int_posts_unioned.sql").read_text()
    assert "where false" in compiled and "stg_x__" not in compiled
    loads = (compiled_dir / "ops" / "int_source_loads_daily.sql").read_text()  # the per-day counts
    assert "stg_roster__employees" in loads and "stg_x__" not in loads


# --------------------------------------------------------------------------- a past report date
@pytest.fixture(scope="module")
def past(pg_server, tmp_path_factory):
    """The same raw data built as of 2026-03-01 (the first run day only), in its own database."""
    gen = _raw_database(pg_server)
    target = next(gen)
    runner = Dbt(target, tmp_path_factory.mktemp("dbt_past"))
    runner(
        "build",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
        vars={**_dbt_vars(), "as_of_date": "2026-03-01"},
    )

    def run(sql: str):
        with target.connect() as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    yield run
    next(gen, None)


def test_as_of_date_ignores_later_runs(past):
    """Rebuilding for an earlier report date sees only what was loaded up to it."""
    rows = past("select post_id, found_via, interactions, is_deleted from marts.fct_posts")
    posts = {r[0]: r[1:] for r in rows}
    assert "1006" not in posts  # created and first seen on 03-02
    assert posts["1001"] == ("timeline", 16, False)  # the 03-01 counters; search found it only on 03-02
    assert posts["1007"] == ("timeline", 2, False)  # its deletion is reported on 03-02
    assert past(
        "select invited, registered, active, adoption_rate, activation_rate from marts.kpi_adoption_monthly "
        "where department = 'ALL' and month = '2026-03-01'"
    ) == [(4, 3, 2, D("0.75"), D("0.6667"))]  # Ada (1007) + Dan's self-reported x post
    assert past(
        "select employee_id, status, days_since_last_post from marts.kpi_participation_monthly "
        "where month = '2026-03-01' and employee_id in ('E001', 'E002') order by 1"
    ) == [("E001", "active", 0), ("E002", "registered_dormant", None)]
    assert past(
        "select active_advocates, potential_reach from marts.kpi_reach_monthly "
        "where platform = 'x' and month = '2026-03-01'"
    ) == [(1, 1000)]
    assert past("select distinct last_interval_start from marts.fct_source_freshness") == [
        (_d("2026-03-01"),)
    ]


# --------------------------------------------------------------------------- roster history
def test_build_derives_the_roster_history(q):
    """One current version per employee; versions keyed by roster day, never two of one day."""
    rows = q(
        "select employee_id, valid_to, is_current from intermediate.int_employee_history"
        " where is_current order by employee_id"
    )
    assert [r[0] for r in rows] == ["E001", "E002", "E003", "E004", "E005", "E006"]
    assert {(r[1], r[2]) for r in rows} == {(None, True)}
    [(n, distinct)] = q(
        "select count(*), count(distinct (employee_id, valid_from)) from intermediate.int_employee_history"
    )
    assert n == distinct


def test_roster_history_keeps_the_old_department_and_a_corrected_rerun_replaces_its_day(
    past, pg_server, tmp_path_factory
):
    """A department change closes the old version at the roster day that showed the new one; the
    same day loaded again with a corrected export replaces that day's version (no second one)."""
    from advocacy.warehouse import WarehouseTarget

    (dbname,) = past("select current_database()")[0]
    target = WarehouseTarget(**{**pg_server.__dict__, "dbname": dbname})
    runner = Dbt(target, tmp_path_factory.mktemp("dbt_history"))

    def department_on_0302(name: str) -> None:
        with target.connect() as conn:
            conn.execute(
                "update raw.roster__employees set record = jsonb_set(record, '{department}', %s::jsonb) "
                "where _interval_start = '2026-03-02' and record ->> 'employee_id' = 'E001'",
                (f'"{name}"',),
            )
            conn.commit()
        runner(
            "build", "--select", "int_employee_history", "int_employees",
            vars={**_dbt_vars(), "as_of_date": "2026-03-02"},
        )  # fmt: skip

    def history():
        return past(
            "select department, valid_from, valid_to from intermediate.int_employee_history "
            "where employee_id = 'E001' order by valid_from"
        )

    department_on_0302("Sales")  # the night's export, with a typo
    assert history() == [
        ("Engineering", _d("2026-03-01"), _d("2026-03-02")),
        ("Sales", _d("2026-03-02"), None),
    ]
    department_on_0302("Marketing")  # the corrected export of the same day
    assert history() == [
        ("Engineering", _d("2026-03-01"), _d("2026-03-02")),
        ("Marketing", _d("2026-03-02"), None),
    ]
    assert past("select department from intermediate.int_employees where employee_id = 'E001'") == [
        ("Marketing",)
    ]
    (n,) = past("select count(*) from intermediate.int_employee_history where valid_to is null")[0]
    assert n == 6


def test_empty_file_sources_build(past, pg_server, tmp_path_factory):
    """No sessions / self-report file configured: the loader's tables stay empty and the marts still build."""
    from advocacy.warehouse import WarehouseTarget

    (dbname,) = past("select current_database()")[0]
    target = WarehouseTarget(**{**pg_server.__dict__, "dbname": dbname})
    with target.connect() as conn:
        conn.execute("truncate raw.web__sessions, raw.self_report__activity")
        conn.commit()
    runner = Dbt(target, tmp_path_factory.mktemp("dbt_empty"))
    runner(
        "build", "--select", "stg_web__sessions+", "stg_self_report__activity+",
        "--exclude", "fct_source_freshness+",
        vars={**_dbt_vars(), "as_of_date": "2026-03-01"},
    )  # fmt: skip
    referrals = past("select distinct sessions, conversions, lift from marts.kpi_referrals_monthly")
    assert referrals == [(0, 0, None)]
    assert past("select count(*) from marts.kpi_referrals_by_employee_monthly") == [(0,)]
    assert past("select sum(self_reported_posts) from marts.kpi_participation_monthly") == [(0,)]
    assert past(
        "select referral_sessions, referral_conversions from marts.kpi_programme_scorecard_monthly "
        "where month = '2026-03-01'"
    ) == [(0, 0)]


def test_settings_values_are_quoted_not_injected(dbt, built, q):
    """A programme setting with quotes (an apostrophe, an injection attempt) is data, never SQL."""
    copy = ["We're hiring! '); drop table marts.dim_employee; --", "Say 'quoted' \\ text"]
    dbt("run", "--select", "int_suggested_copy", vars={**_dbt_vars(), "suggested_copy": copy}, label="quoted")
    assert q("select count(*) from marts.dim_employee")[0][0] > 0
    got = q("select normalised_text from intermediate.int_suggested_copy where origin = 'settings'")
    assert {r[0] for r in got} == {c.lower() for c in copy}
    dbt("run", "--select", "int_suggested_copy", vars=_dbt_vars(), label="restore")

"""Five months of plausible marts (docs/metrics.md columns) for report tests, built with plain SQL."""

from __future__ import annotations

import json

MONTHS = ["2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
AS_OF = "2026-04-30"
SECRET_NAME = "Zed Hiddenname"  # a non-consenting employee: must never be published
LEAKED_NAME = "Leaky Wrongname"  # a name dbt wrongly left on a non-consenting row

# the as-of month's scorecard row (April 2026) and the month before it
SCORECARD = {
    "2026-03-01": dict(
        invited=1180,
        registered=560,
        active=190,
        adoption_rate=0.4746,
        activation_rate=0.3393,
        programme_posts=430,
        community_posts=61,
        interactions=13020,
        potential_reach=388_000,
        engagement_rate=0.0398,
        referral_sessions=820,
        referral_conversions=31,
        adoption_rate_mom=0.021,
        activation_rate_mom=-0.004,
        engagement_rate_mom=0.003,
    ),
    "2026-04-01": dict(
        invited=1234,
        registered=618,
        active=212,
        adoption_rate=0.5008,
        activation_rate=0.343,
        programme_posts=487,
        community_posts=73,
        interactions=15234,
        potential_reach=412_300,
        engagement_rate=0.0421,
        referral_sessions=None,
        referral_conversions=None,
        adoption_rate_mom=0.0262,
        activation_rate_mom=0.0037,
        engagement_rate_mom=0.0023,
    ),
}

DDL = """
create table marts.dim_employee (
    employee_id text, department text, country text, invited_at date, registered_at date,
    left_at date, consent_public boolean, display_name text);
create table raw.roster__employees (
    _interval_start date not null, _extracted_at timestamptz not null, _landing_file text not null,
    _line_no integer not null, _record_key text, _record_time timestamptz, record jsonb not null);
create table marts.kpi_programme_scorecard_monthly (
    month date, invited int, registered int, active int, adoption_rate numeric, activation_rate numeric,
    programme_posts int, community_posts int, interactions bigint, potential_reach bigint,
    engagement_rate numeric, referral_sessions int, referral_conversions int,
    adoption_rate_mom numeric, activation_rate_mom numeric, engagement_rate_mom numeric);
create table marts.kpi_adoption_monthly (
    month date, department text, invited int, registered int, active int,
    adoption_rate numeric, activation_rate numeric);
create table marts.kpi_participation_monthly (
    month date, employee_id text, status text, programme_posts int, days_since_last_post int);
create table marts.kpi_top_contributors_monthly (
    month date, rank int, employee_id text, display_name text, department text,
    programme_posts int, interactions int, shares_received int);
create table marts.kpi_team_contributors_monthly (
    month date, department text, active_advocates int, programme_posts int, interactions int, rank int);
create table marts.kpi_reach_monthly (
    month date, platform text, active_advocates int, potential_reach bigint, avg_audience numeric,
    benchmark_avg_audience numeric, impressions bigint);
create table marts.kpi_engagement_monthly (
    month date, platform text, programme_posts int, interactions int, comments int,
    engagement_rate numeric, engagement_rate_basis text, personalised_uplift numeric);
create table marts.kpi_referrals_monthly (
    month date, platform text, sessions int, conversions int, baseline_sessions numeric, lift numeric);
create table marts.kpi_referrals_by_employee_monthly (
    month date, employee_id text, display_name text, sessions int, conversions int, department text,
    is_named boolean);
create table marts.kpi_referrals_by_campaign_monthly (
    month date, campaign text, platform text, sessions int, conversions int, attributed_sessions int);
create table marts.kpi_leaderboard_monthly (
    month date, rank int, employee_id text, display_name text, department text, points numeric);
create table marts.kpi_earned_media_monthly (
    month date, platform text, impressions bigint, referral_sessions int, cpm numeric, cpc numeric,
    earned_media_value numeric);
create table marts.fct_posts (
    platform text, post_id text, employee_id text, created_at timestamptz, is_programme_post boolean,
    is_pure_reshare boolean, is_personalised boolean, likes int, comments int, shares int,
    impressions int, interactions int, found_via text);
create table marts.fct_source_freshness (
    source text, stream text, last_extracted_at timestamptz, last_interval_start date, records bigint);
"""

EMPLOYEES = [
    # id, department, consent, full name
    ("E001", "Sales", True, "Ada Lovelace"),
    ("E002", "Engineering", False, SECRET_NAME),
    ("E003", "Marketing", True, "Grace Hopper"),
    ("E004", "People", False, "Quinn Private"),
]


def create_marts(target) -> None:
    with target.connect() as conn:
        conn.execute(DDL)
        for i, (eid, dept, consent, full_name) in enumerate(EMPLOYEES):
            conn.execute(
                "insert into marts.dim_employee values "
                "(%s, %s, 'NL', '2025-11-01', '2025-11-15', null, %s, %s)",
                (
                    eid,
                    dept,
                    consent,
                    full_name.split()[0] + " " + full_name.split()[1][0] + "." if consent else None,
                ),
            )
            record = {"employee_id": eid, "full_name": full_name, "email": f"{eid.lower()}@example.com"}
            conn.execute(
                "insert into raw.roster__employees values (%s, now(), 'roster.jsonl', %s, %s, null, %s)",
                (AS_OF, i + 1, eid, json.dumps(record)),
            )
        for i, month in enumerate(MONTHS):
            card = SCORECARD.get(month) or dict(
                invited=900 + 70 * i,
                registered=400 + 40 * i,
                active=120 + 15 * i,
                adoption_rate=0.44 + 0.01 * i,
                activation_rate=0.30 + 0.01 * i,
                programme_posts=300 + 30 * i,
                community_posts=40 + 5 * i,
                interactions=9000 + 1000 * i,
                potential_reach=300_000 + 20_000 * i,
                engagement_rate=0.035 + 0.001 * i,
                referral_sessions=600 + 50 * i,
                referral_conversions=20 + i,
                adoption_rate_mom=None if i == 0 else 0.01,
                activation_rate_mom=None if i == 0 else 0.01,
                engagement_rate_mom=None if i == 0 else 0.001,
            )
            conn.execute(
                "insert into marts.kpi_programme_scorecard_monthly values (%(month)s, %(invited)s, "
                "%(registered)s, %(active)s, %(adoption_rate)s, %(activation_rate)s, %(programme_posts)s, "
                "%(community_posts)s, %(interactions)s, %(potential_reach)s, %(engagement_rate)s, "
                "%(referral_sessions)s, %(referral_conversions)s, %(adoption_rate_mom)s, "
                "%(activation_rate_mom)s, %(engagement_rate_mom)s)",
                {"month": month, **card},
            )
            for dept, share in (("ALL", 1.0), ("Sales", 0.4), ("Engineering", 0.6)):
                invited = int(card["invited"] * share)
                registered = int(card["registered"] * share)
                active = int(card["active"] * share)
                conn.execute(
                    "insert into marts.kpi_adoption_monthly values (%s, %s, %s, %s, %s, %s, %s)",
                    (month, dept, invited, registered, active, registered / invited, active / registered),
                )
            for eid, status, posts in (
                ("E001", "active", 5),
                ("E002", "active", 3),
                ("E003", "registered_dormant", 0),
                ("E004", "invited", 0),
            ):
                conn.execute(
                    "insert into marts.kpi_participation_monthly values (%s, %s, %s, %s, %s)",
                    (month, eid, status, posts, 2 if posts else None),
                )
            # top contributors: E001 consents (named), E002 does not (masked by dbt)
            conn.execute(
                "insert into marts.kpi_top_contributors_monthly values "
                "(%s, 1, 'E001', 'Ada L.', 'Sales', 5, %s, 12), "
                "(%s, 2, 'anonymous', null, 'Engineering', 3, %s, 4)",
                (month, 410 + i, month, 200 + i),
            )
            conn.execute(
                "insert into marts.kpi_team_contributors_monthly values "
                "(%s, 'Sales', 4, 20, 800, 1), (%s, 'Engineering', 3, 12, 500, 2)",
                (month, month),
            )
            for platform, reach, avg, bench, impressions in (
                ("ALL", card["potential_reach"], 1944.8, None, 250_000 + 1000 * i),
                ("x", 160_000 + 1000 * i, 1200 + 10 * i, 772, 250_000 + 1000 * i),
                ("linkedin", 252_300, 610.5, 459, None),
            ):
                conn.execute(
                    "insert into marts.kpi_reach_monthly values (%s, %s, %s, %s, %s, %s, %s)",
                    (month, platform, 212, reach, avg, bench, impressions),
                )
            for platform, rate, basis, uplift in (
                ("ALL", card["engagement_rate"], "audience", 0.42),
                ("x", 0.051, "impressions", 0.55),
                ("linkedin", 0.029 + 0.001 * i, "audience", None),
            ):
                conn.execute(
                    "insert into marts.kpi_engagement_monthly values (%s, %s, 100, 4000, 300, %s, %s, %s)",
                    (month, platform, rate, basis, uplift),
                )
            conn.execute(
                "insert into marts.kpi_referrals_monthly values (%s, 'ALL', %s, %s, 500, %s)",
                (month, 600 + 50 * i, 20 + i, (600 + 50 * i) / 500 - 1),
            )
            # per platform: LinkedIn below its baseline (negative lift), 'other' has no baseline
            for platform, sessions, conversions, baseline in (
                ("x", 400 + 50 * i, 15 + i, 200),
                ("linkedin", 150, 4, 250),
                ("other", 50, 1, None),
            ):
                conn.execute(
                    "insert into marts.kpi_referrals_monthly values (%s, %s, %s, %s, %s, %s)",
                    (
                        month,
                        platform,
                        sessions,
                        conversions,
                        baseline,
                        sessions / baseline - 1 if baseline else None,
                    ),
                )
            # by advocate: E001 consents; the non-consenting together as 'anonymous'; E002 a row dbt
            # wrongly left named (the report masks it through dim_employee)
            conn.execute(
                "insert into marts.kpi_referrals_by_employee_monthly values "
                "(%s, 'E001', 'Ada L.', 310, 12, 'Sales', true), "
                "(%s, 'anonymous', null, 240, 8, null, false), "
                "(%s, 'E002', %s, 50, 1, 'Engineering', true)",
                (month, month, month, SECRET_NAME),
            )
            conn.execute(
                "insert into marts.kpi_referrals_by_campaign_monthly values "
                "(%s, 'spring-launch', 'x', 380, 14, 330), (%s, '(none)', 'linkedin', 150, 4, 120), "
                "(%s, 'webinar', 'other', 50, 1, 0)",
                (month, month, month),
            )
            conn.execute(
                "insert into marts.kpi_leaderboard_monthly values "
                "(%s, 1, 'E001', 'Ada L.', 'Sales', 240), (%s, 2, 'E004', %s, 'People', 120), "
                "(%s, 2, 'anonymous', null, 'Engineering', 120)",
                (month, month, LEAKED_NAME, month),
            )
            conn.execute(
                "insert into marts.kpi_earned_media_monthly values (%s, 'ALL', 250000, 650, null, null, %s), "
                "(%s, 'x', 250000, 450, 6.5, 0.8, %s), (%s, 'linkedin', null, 150, null, null, null)",
                (month, 250 * 6.5 + 450 * 0.8, month, 250 * 6.5 + 450 * 0.8, month),
            )
        # posts by day for the month-to-date comparison: March has 2 programme posts a day by E001
        # and E002 plus one community post every other day; April (the as-of month) 3 a day by
        # three advocates from the 1st to the 15th
        posts = []
        for day in range(1, 32):
            for n, eid in enumerate(("E001", "E002")):
                posts.append(("x", f"m{day}-{n}", eid, f"2026-03-{day:02d} 10:00+00", True))
            if day % 2:
                posts.append(("x", f"m{day}-c", None, f"2026-03-{day:02d} 12:00+00", False))
        for day in range(1, 16):
            for n, eid in enumerate(("E001", "E002", "E003")):
                posts.append(("linkedin", f"a{day}-{n}", eid, f"2026-04-{day:02d} 09:00+00", True))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into marts.fct_posts (platform, post_id, employee_id, created_at, is_programme_post)"
                " values (%s, %s, %s, %s, %s)",
                posts,
            )
        conn.execute(
            "insert into marts.fct_source_freshness values "
            "('roster', 'employees', '2026-05-01 03:02:00+00', '2026-04-30', 4), "
            "('x', 'tweets', '2026-05-01 03:05:00+00', '2026-04-30', 1520), "
            "('x', 'users', '2026-04-28 03:05:00+00', '2026-04-27', 212)"
        )
        conn.commit()

"""Small marts (docs/metrics.md columns) whose rows pass every expectation of the gate."""

from __future__ import annotations

import json

MONTHS = ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
DEPARTMENTS = ["ALL", "Engineering", "Sales", "Marketing", "People"]


def create_good_marts(target) -> None:
    """A few marts (docs/metrics.md columns) whose rows pass every expectation: 20 adoption rows etc."""
    with target.connect() as conn:
        conn.execute(
            """
            create table marts.kpi_adoption_monthly (
                month date, department text, invited int, registered int, active int,
                adoption_rate numeric, activation_rate numeric);
            create table marts.kpi_participation_monthly (
                month date, employee_id text, status text, programme_posts int, days_since_last_post int);
            create table marts.dim_employee (
                employee_id text, department text, country text, invited_at date, registered_at date,
                left_at date, consent_public boolean, display_name text);
            create table marts.kpi_top_contributors_monthly (
                month date, rank int, employee_id text, display_name text, department text,
                programme_posts int, interactions int, shares_received int);
            create table marts.kpi_engagement_monthly (
                month date, platform text, programme_posts int, interactions int, comments int,
                engagement_rate numeric, engagement_rate_basis text, personalised_uplift numeric);
            create table marts.fct_post_engagement_daily (
                platform text, post_id text, day date, likes int, comments int, shares int,
                impressions int, interactions int, likes_delta int, comments_delta int,
                shares_delta int, impressions_delta int, interactions_delta int);
            create table raw.roster__employees (
                _interval_start date not null, _extracted_at timestamptz not null,
                _landing_file text not null, _line_no integer not null, _record_key text,
                _record_time timestamptz, record jsonb not null);
            """
        )
        for i, month in enumerate(MONTHS):
            for d, dept in enumerate(DEPARTMENTS):
                invited = 40 if dept == "ALL" else 10
                registered = invited // 2 + i
                active = registered // 2
                conn.execute(
                    "insert into marts.kpi_adoption_monthly values (%s, %s, %s, %s, %s, %s, %s)",
                    (month, dept, invited, registered, active, registered / invited, active / registered),
                )
            for e in range(6):
                status = ["active", "registered_dormant", "invited"][e % 3]
                conn.execute(
                    "insert into marts.kpi_participation_monthly values (%s, %s, %s, %s, %s)",
                    (month, f"E{e:03d}", status, 2 if status == "active" else 0, None if e == 5 else e),
                )
            for rank in (1, 2):
                named = rank == 1
                conn.execute(
                    "insert into marts.kpi_top_contributors_monthly values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        month,
                        rank,
                        "E000" if named else "anonymous",
                        "Ada L." if named else None,
                        "Sales",
                        3,
                        40,
                        5,
                    ),
                )
            for platform, rate, basis in (("x", 0.031, "impressions"), ("ALL", 0.028, "impressions")):
                conn.execute(
                    "insert into marts.kpi_engagement_monthly values (%s, %s, 10, 50, 7, %s, %s, %s)",
                    (month, platform, rate, basis, -0.2 if i == 0 else 0.64),
                )
        for e in range(6):
            conn.execute(
                "insert into marts.dim_employee values (%s, 'Sales', 'NL', '2026-01-05', null, null, %s, %s)",
                (f"E{e:03d}", e == 0, "Ada L." if e == 0 else None),
            )
            conn.execute(
                "insert into raw.roster__employees values ('2026-04-30', now(), 'f.jsonl', %s, %s, null, %s)",
                (e + 1, f"E{e:03d}", json.dumps({"employee_id": f"E{e:03d}"})),
            )
        for day, likes in (("2026-04-29", 10), ("2026-04-30", 12)):
            for post in ("1", "2"):
                conn.execute(
                    "insert into marts.fct_post_engagement_daily values "
                    "('x', %s, %s, %s, 1, 1, 100, %s, 1, 0, 0, 10, 1)",
                    (post, day, likes, likes + 2),
                )
        conn.commit()


def create_referral_marts(target) -> None:
    """The referral and earned-media marts: negative lift, an 'other' platform, null rates."""
    with target.connect() as conn:
        conn.execute(
            """
            create table marts.kpi_referrals_monthly (
                month date, platform text, sessions bigint, conversions bigint,
                baseline_sessions numeric, lift numeric);
            create table marts.kpi_referrals_by_campaign_monthly (
                month date, campaign text, platform text, sessions bigint, conversions bigint,
                attributed_sessions bigint);
            create table marts.kpi_earned_media_monthly (
                month date, platform text, impressions bigint, referral_sessions bigint,
                cpm numeric, cpc numeric, earned_media_value numeric);
            create table marts.kpi_team_contributors_monthly (
                month date, department text, active_advocates bigint, programme_posts bigint,
                interactions bigint, rank bigint);
            """
        )
        for month in MONTHS:
            for platform, sessions, baseline in (("ALL", 40, 50), ("x", 30, 20), ("other", 10, None)):
                lift = None if baseline is None else sessions / baseline - 1  # ALL: -0.2
                conn.execute(
                    "insert into marts.kpi_referrals_monthly values (%s, %s, %s, 2, %s, %s)",
                    (month, platform, sessions, baseline, lift),
                )
            conn.execute(
                "insert into marts.kpi_referrals_by_campaign_monthly values "
                "(%s, 'spring', 'x', 30, 2, 25), (%s, '(none)', 'other', 10, 0, 0)",
                (month, month),
            )
            conn.execute(
                "insert into marts.kpi_earned_media_monthly values "
                "(%s, 'x', 1000, 30, 6.5, 0.8, 30.5), (%s, 'instagram', 500, 0, null, null, null), "
                "(%s, 'ALL', 1500, 30, null, null, 30.5)",
                (month, month, month),
            )
            conn.execute(
                "insert into marts.kpi_team_contributors_monthly values "
                "(%s, 'Sales', 2, 5, 80, 1), (%s, 'People', 0, 0, 0, 2)",
                (month, month),
            )
        conn.commit()

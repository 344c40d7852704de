"""The validation gate against a real PostgreSQL: good marts pass, broken ones fail by name."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from advocacy.quality import ValidationFailed, assert_valid, run_validation
from gate_data import create_good_marts, create_referral_marts

AS_OF = dt.date(2026, 4, 30)


def validate(warehouse, gx_root, run_id="run-1", as_of=AS_OF, **kw):
    return run_validation(warehouse, as_of=as_of, run_id=run_id, project_root=gx_root, **kw)


def test_good_marts_pass_and_are_recorded(warehouse, gx_root):
    create_good_marts(warehouse)
    report = validate(warehouse, gx_root, run_id="scheduled__2026-04-30T03:00:00+00:00")

    assert report.success, report.summary()
    assert report.failures == []
    assert_valid(report)  # does not raise
    assert report.row_counts["marts.kpi_adoption_monthly"] == 20
    assert report.row_counts["raw.roster__employees"] == 6
    assert json.loads(json.dumps(report.to_dict()))["as_of"] == "2026-04-30"  # an XCom-able summary
    # tables dbt has not built yet are skipped with a note, not a crash
    assert any(s.startswith("marts.kpi_referrals_monthly:") for s in report.skipped)
    assert "marts.kpi_referrals_monthly" not in report.row_counts
    # Data Docs for this run
    docs = Path(report.data_docs_path)
    assert docs.name == "index.html" and docs.is_file()
    assert str(gx_root) in str(docs)
    assert "kpi_adoption_monthly" in docs.read_text()

    with warehouse.connect() as conn:
        rows = conn.execute(
            "select table_name, row_count, success, failed_expectations, as_of "
            "from audit.validation_runs order by table_name"
        ).fetchall()
    recorded = {r[0]: r for r in rows}
    assert recorded["marts.kpi_adoption_monthly"][1:4] == (20, True, [])
    assert recorded["marts.kpi_adoption_monthly"][4] == AS_OF
    assert set(recorded) == set(report.row_counts)


def test_corrupted_mart_fails_naming_table_column_and_rule(warehouse, gx_root):
    create_good_marts(warehouse)
    with warehouse.connect() as conn:
        conn.execute(
            "update marts.kpi_adoption_monthly set adoption_rate = 1.7 "
            "where month = '2026-03-01' and department = 'Sales'"
        )
        conn.execute(  # a duplicate key
            "insert into marts.kpi_adoption_monthly "
            "select * from marts.kpi_adoption_monthly where month = '2026-01-01' and department = 'ALL'"
        )
        conn.execute(  # a negative count
            "update marts.kpi_adoption_monthly set active = -3 "
            "where month = '2026-02-01' and department = 'People'"
        )
        conn.execute(
            "update marts.kpi_participation_monthly set status = 'lapsed' where employee_id = 'E001'"
        )
        conn.commit()

    report = validate(warehouse, gx_root, data_docs=False)
    assert not report.success
    assert report.data_docs_path is None
    with pytest.raises(ValidationFailed) as err:
        assert_valid(report)
    message = str(err.value)
    assert (
        "marts.kpi_adoption_monthly: adoption_rate between 0 and 1 — 1 of 21 rows failed, e.g. 1.7" in message
    )
    assert "marts.kpi_adoption_monthly: (month, department) unique together — 2 of 21 rows failed" in message
    assert "marts.kpi_adoption_monthly: active >= 0 — 1 of 21 rows failed, e.g. -3" in message
    assert "marts.kpi_participation_monthly: status in {active, invited, registered_dormant}" in message
    assert "e.g. 'lapsed'" in message
    assert len(report.failures) == 4, report.failures
    # the other marts still pass, and the failure is recorded per table
    with warehouse.connect() as conn:
        ok = dict(conn.execute("select table_name, success from audit.validation_runs").fetchall())
    assert ok["marts.kpi_adoption_monthly"] is False
    assert ok["marts.dim_employee"] is True


def test_row_count_collapse_against_previous_run_fails(warehouse, gx_root):
    create_good_marts(warehouse)
    first = validate(warehouse, gx_root, run_id="day-1", data_docs=False)
    assert first.success, first.summary()

    with warehouse.connect() as conn:
        conn.execute("delete from marts.kpi_adoption_monthly where month < '2026-04-01'")  # 20 -> 5 rows
        conn.commit()
    second = validate(warehouse, gx_root, run_id="day-2", as_of=AS_OF + dt.timedelta(days=1), data_docs=False)

    assert not second.success
    assert second.failures == [
        "marts.kpi_adoption_monthly: row count between 10 and 70 "
        "(previous successful run: 20 rows) — observed 5"
    ]


def test_row_count_bounds_scale_with_the_previous_run(warehouse, gx_root):
    from advocacy.quality.suites import row_count_bounds

    assert row_count_bounds(None) == {"row_count_min": 0, "row_count_max": None}
    assert row_count_bounds(200) == {"row_count_min": 100, "row_count_max": 610}
    assert row_count_bounds(4) == {"row_count_min": 2, "row_count_max": 22}

    create_good_marts(warehouse)
    with warehouse.connect() as conn:  # a previous run with 100 adoption rows: 20 now is a collapse
        conn.execute(
            "create table if not exists audit.validation_runs (run_id text, as_of date, table_name text, "
            "row_count bigint, success boolean, failed_expectations jsonb default '[]', "
            "validated_at timestamptz default now(), primary key (run_id, table_name))"
        )
        conn.execute(
            "insert into audit.validation_runs (run_id, as_of, table_name, row_count, success) values "
            "('old', '2026-04-29', 'marts.kpi_adoption_monthly', 100, true), "
            "('failed', '2026-04-29', 'marts.kpi_participation_monthly', 1000, false), "
            "('future', '2026-05-31', 'marts.dim_employee', 1000, true)"
        )
        conn.commit()
    report = validate(warehouse, gx_root, data_docs=False)
    assert report.failures == [
        "marts.kpi_adoption_monthly: row count between 50 and 310 "
        "(previous successful run: 100 rows) — observed 20"
    ]  # a failed run is no baseline, nor is a later as-of date


def test_consent_and_counter_collapse_checks(warehouse, gx_root):
    create_good_marts(warehouse)
    with warehouse.connect() as conn:
        conn.execute("update marts.dim_employee set display_name = 'Bob Secret' where employee_id = 'E003'")
        conn.execute(
            "update marts.kpi_top_contributors_monthly set display_name = 'Bob Secret' where rank = 2 "
            "and month = '2026-04-01'"
        )
        conn.execute("update marts.fct_post_engagement_daily set likes = 0 where day = '2026-04-30'")
        conn.commit()
    report = validate(warehouse, gx_root, data_docs=False)
    text = "\n".join(report.failures)
    assert "marts.dim_employee: display_name is null for every employee without consent_public" in text
    assert "employee_id='E003'" in text
    assert "marts.kpi_top_contributors_monthly: display_name is set only for employees with consent" in text
    assert "display_name='Bob Secret'" in text
    assert "marts.fct_post_engagement_daily: no platform's likes" in text
    assert "metric='likes'" in text and "platform='x'" in text


def test_unknown_platform_and_missing_column(warehouse, gx_root):
    create_good_marts(warehouse)
    with warehouse.connect() as conn:
        conn.execute("update marts.kpi_engagement_monthly set platform = 'myspace' where platform = 'x'")
        conn.execute("alter table marts.kpi_participation_monthly drop column days_since_last_post")
        conn.execute(  # the same employee twice in one roster snapshot
            "insert into raw.roster__employees select * from raw.roster__employees where _record_key = 'E002'"
        )
        conn.commit()
    report = validate(warehouse, gx_root, data_docs=False, platforms=["x", "linkedin"])
    text = "\n".join(report.failures)
    assert (
        "marts.kpi_engagement_monthly: platform in {linkedin, x, ALL} — 4 of 8 rows failed, e.g. 'myspace'"
        in text
    )
    assert (
        "marts.kpi_participation_monthly: has every contract column — missing: days_since_last_post" in text
    )
    assert "marts.kpi_participation_monthly: days_since_last_post >= 0 — could not be checked" in text
    assert (
        "raw.roster__employees: (_interval_start, _record_key) unique together — 2 of 7 rows failed, "
        "e.g. (2026-04-30, 'E002')" in text
    )


def test_no_marts_at_all_is_not_a_pass(warehouse, gx_root):
    report = validate(warehouse, gx_root, data_docs=False)
    assert not report.success
    assert report.failures == ["marts: no mart table exists yet (has dbt built the marts?)"]
    assert report.tables == [] and len(report.skipped) > 10


def test_referral_and_earned_media_marts(warehouse, gx_root):
    """Lift may be negative, 'other' is a referral platform, a missing rate is null; money is never < 0."""
    create_good_marts(warehouse)
    create_referral_marts(warehouse)
    report = validate(warehouse, gx_root, run_id="ref-1", data_docs=False, platforms=["x", "instagram"])
    assert report.success, report.summary()
    for name in ("kpi_referrals_monthly", "kpi_referrals_by_campaign_monthly", "kpi_earned_media_monthly"):
        assert report.row_counts[f"marts.{name}"] > 0

    with warehouse.connect() as conn:
        conn.execute("update marts.kpi_earned_media_monthly set earned_media_value = -1 where platform = 'x'")
        conn.execute(
            "update marts.kpi_referrals_by_campaign_monthly set platform = 'ALL' where platform = 'other'"
        )
        conn.execute(
            "update marts.kpi_referrals_by_campaign_monthly set attributed_sessions = 31 "
            "where campaign = 'spring'"
        )
        conn.execute("update marts.kpi_team_contributors_monthly set rank = 1")
        conn.commit()
    report = validate(warehouse, gx_root, run_id="ref-2", data_docs=False, platforms=["x", "instagram"])
    text = "\n".join(report.failures)
    assert "marts.kpi_earned_media_monthly: earned_media_value >= 0 — 4 of 12 rows failed, e.g. -1" in text
    assert (
        "marts.kpi_referrals_by_campaign_monthly: platform in {instagram, x, other} — 4 of 8 rows failed, "
        "e.g. 'ALL'" in text
    )
    assert "marts.kpi_referrals_by_campaign_monthly: attributed_sessions never exceeds sessions" in text
    assert "marts.kpi_team_contributors_monthly: each month gives every department its own rank" in text
    assert len(report.failures) == 4, report.failures


def test_a_table_loaded_twice_fails_with_one_summary_row_and_a_readable_message(warehouse, gx_root):
    """Every key duplicated: the GX result holds one summary row, not one row per key (GX fetches
    an unexpected-rows query's whole result into Python), and the message still counts rows."""
    create_good_marts(warehouse)
    with warehouse.connect() as conn:
        total = conn.execute("select count(*) from marts.fct_post_engagement_daily").fetchone()[0]
        conn.execute(
            "insert into marts.fct_post_engagement_daily select * from marts.fct_post_engagement_daily"
        )
        conn.commit()
    report = validate(warehouse, gx_root, data_docs=False)
    assert report.failures == [
        f"marts.fct_post_engagement_daily: (platform, post_id, day) unique together — "
        f"{2 * total} of {2 * total} rows failed, e.g. ('x', '1', 2026-04-29), ('x', '1', 2026-04-30), "
        "('x', '2', 2026-04-29)"
    ]
    [table] = [t for t in report.tables if t.table == "marts.fct_post_engagement_daily"]
    assert table.row_count == 2 * total

    from advocacy.quality.suites import unique_together_query

    query = unique_together_query(["platform", "post_id", "day"]).replace(
        "{batch}", "marts.fct_post_engagement_daily"
    )
    with warehouse.connect() as conn:
        rows = conn.execute(query).fetchall()
    assert rows == [(total, 2 * total)]  # duplicated keys, rows sharing them: one row whatever the size


def test_a_night_checks_only_its_own_raw_rows_and_the_weekly_night_the_whole_tables(warehouse, gx_root):
    """A duplicate left in an earlier day's roster does not fail tonight's gate, which reads only
    tonight's raw rows (the marts whole); the whole-table night finds it; nothing is left behind."""
    create_good_marts(warehouse)
    earlier = dt.date(2026, 4, 29)
    with warehouse.connect() as conn:
        conn.execute(  # an older night's roster with one employee twice
            "insert into raw.roster__employees select %s, _extracted_at, _landing_file, _line_no,"
            " _record_key, _record_time, record from raw.roster__employees"
            " union all select %s, _extracted_at, _landing_file, _line_no, _record_key, _record_time,"
            " record from raw.roster__employees where _record_key = 'E002'",
            (earlier, earlier),
        )
        conn.commit()
    tonight = validate(warehouse, gx_root, run_id="night-1", data_docs=False, raw_interval=AS_OF)
    assert tonight.success, tonight.summary()
    assert tonight.row_counts["raw.roster__employees"] == 6  # tonight's rows, not the 13 of the table
    assert "raw: the rows of 2026-04-30" in tonight.summary()

    whole = validate(warehouse, gx_root, run_id="week-1", data_docs=False)
    assert [f for f in whole.failures if f.startswith("raw.roster__employees")] == [
        "raw.roster__employees: (_interval_start, _record_key) unique together — 2 of 13 rows failed, "
        "e.g. (2026-04-29, 'E002')"
    ]

    # an earlier day's night reads that day's rows: it finds its own duplicate
    that_night = validate(warehouse, gx_root, run_id="night-0", data_docs=False, raw_interval=earlier)
    assert any("2 of 7 rows failed, e.g. (2026-04-29, 'E002')" in f for f in that_night.failures)
    # a night that loaded no roster file has no roster rows of its own: not a failure (the
    # whole-table night keeps the floor of one row)
    quiet = validate(warehouse, gx_root, run_id="night-q", data_docs=False, raw_interval=dt.date(2026, 4, 2))
    assert quiet.success, quiet.summary()
    assert quiet.row_counts["raw.roster__employees"] == 0
    with warehouse.connect() as conn:
        conn.execute("delete from raw.roster__employees")
        conn.commit()
    empty = validate(warehouse, gx_root, run_id="week-2", data_docs=False)
    assert "raw.roster__employees: row count >= 1 — observed 0" in empty.failures
    with warehouse.connect() as conn:
        left = conn.execute("select nspname from pg_namespace where nspname like 'gate_scope%'").fetchall()
    assert left == []  # the scratch views are dropped


def test_the_whole_raw_tables_are_checked_on_the_configured_night():
    from advocacy.settings import GateSettings

    sunday, monday = dt.date(2026, 11, 22), dt.date(2026, 11, 23)
    assert GateSettings().checks_whole_raw(sunday) and not GateSettings().checks_whole_raw(monday)
    assert GateSettings(whole_raw_checks="monday").checks_whole_raw(monday)
    assert GateSettings(whole_raw_checks="every_night").checks_whole_raw(monday)

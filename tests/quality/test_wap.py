"""Write, audit, publish for the marts (advocacy.marts) on a real PostgreSQL.

The whole nights (dbt, GX, Airflow) are in tests/e2e/test_wap_nights.py; here the swap's
guarantees are checked directly: what BI sees during and after it, its locks, its
bookkeeping, and the gate's closed-month shrink check.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest
from advocacy import marts, night
from advocacy.quality.runner import closed_month_shrinks
from advocacy.settings import GateSettings

N1, N2 = dt.date(2026, 11, 21), dt.date(2026, 11, 22)


def build(target, version: int, rows: int) -> None:
    """What a night's dbt build leaves in marts_build: two marts, one comment."""
    with target.connect(autocommit=True) as conn:
        for t in ("kpi_a", "kpi_b"):
            conn.execute(f"drop table if exists marts_build.{t}")
            conn.execute(f"create table marts_build.{t} (id int primary key, version int not null)")
            conn.execute(
                f"insert into marts_build.{t} select g, %s from generate_series(1, %s) g", (version, rows)
            )
        conn.execute("comment on table marts_build.kpi_a is 'the A mart'")
        conn.execute("comment on column marts_build.kpi_a.version is 'which night'")


def seen(conn) -> tuple:
    """One statement over both marts, as a BI dashboard would read them."""
    return conn.execute(
        "select (select count(*) from marts.kpi_a), (select min(version) from marts.kpi_a),"
        " (select count(*) from marts.kpi_b), (select max(version) from marts.kpi_b)"
    ).fetchone()


def test_a_passing_night_replaces_what_bi_reads(warehouse):
    build(warehouse, 1, 10)
    p = marts.publish(warehouse, N1, "night-1")
    assert p.marts == "current" and p.tables == ("kpi_a", "kpi_b")
    with warehouse.connect() as conn:
        assert seen(conn) == (10, 1, 10, 1)
        assert conn.execute("select obj_description('marts.kpi_a'::regclass)").fetchone()[0] == "the A mart"
        assert (
            conn.execute("select col_description('marts.kpi_a'::regclass, 2)").fetchone()[0] == "which night"
        )
        # the build stays as dbt left it (incremental models keep their state)
        assert conn.execute("select count(*) from marts_build.kpi_a").fetchone()[0] == 10
        # BI's role reads marts, and only marts
        conn.execute("set role bi_reader")
        assert conn.execute("select count(*) from marts.kpi_b").fetchone()[0] == 10
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from marts_build.kpi_b")
    build(warehouse, 2, 12)
    marts.publish(warehouse, N2, "night-2")
    with warehouse.connect() as conn:
        assert seen(conn) == (12, 2, 12, 2)
        assert marts.published_as_of(conn) == N2
        assert night.for_night(conn, N2).marts == "current"
        # the grant survives the swap: a new table, granted in the same transaction
        conn.execute("set role bi_reader")
        assert seen(conn) == (12, 2, 12, 2)


def test_a_failed_night_keeps_yesterdays_marts_and_says_so(warehouse):
    build(warehouse, 1, 10)
    marts.publish(warehouse, N1, "night-1")
    build(warehouse, 2, 0)  # tonight's build is broken (the gate refuses it)
    marts.hold_back(warehouse, N2, "night-2", "marts.kpi_a: row count >= 1 — observed 0")
    # the DAG's publish_marts then runs (trigger rule all_done) and keeps the gate's reason
    marts.hold_back(warehouse, N2, "night-2", "validation did not pass", keep_reason=True)
    with warehouse.connect() as conn:
        assert seen(conn) == (10, 1, 10, 1)
        status = night.for_night(conn, N2)
        assert (status.marts, status.marts_as_of) == ("held_back", N1) and not status.complete
        assert marts.night_state(conn, N2)[2] == "marts.kpi_a: row count >= 1 — observed 0"
        assert night.for_night(conn, N1).marts == "current"


def test_rerunning_an_earlier_night_does_not_rewind_bi(warehouse):
    build(warehouse, 1, 10)
    marts.publish(warehouse, N1, "night-1")
    build(warehouse, 2, 12)
    marts.publish(warehouse, N2, "night-2")
    build(warehouse, 3, 11)  # the rerun of night 1 rebuilt marts_build as of N1
    p = marts.publish(warehouse, N1, "rerun-1")
    assert p.marts == "held_back" and p.marts_as_of == N2 and "later night 2026-11-22" in p.message
    with warehouse.connect() as conn:
        assert seen(conn) == (12, 2, 12, 2)
        assert marts.published_as_of(conn) == N2
        assert (night.for_night(conn, N1).marts_as_of, night.for_night(conn, N2).marts) == (N2, "current")


def test_a_reader_sees_the_old_marts_or_the_new_never_a_mix_or_an_empty_table(warehouse):
    build(warehouse, 1, 500)
    marts.publish(warehouse, N1, "night-1")
    results, errors, stop = [], [], threading.Event()

    def reader():
        with warehouse.connect(autocommit=True) as conn:
            while not stop.is_set():
                try:
                    results.append(seen(conn))
                except Exception as exc:  # any error is a failure of the swap's promise
                    errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            version, rows = (2, 700) if i % 2 == 0 else (1, 500)
            build(warehouse, version, rows)
            marts.publish(
                warehouse, N1 + dt.timedelta(days=i + 1), f"night-{i}", lock_timeout="200ms", pause=0.05
            )
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert set(results) <= {(500, 1, 500, 1), (700, 2, 700, 2)}, set(results)
    assert len(set(results)) == 2 and len(results) > 20


def test_a_long_bi_query_delays_the_swap_but_never_blocks_or_deadlocks_it(warehouse, caplog):
    build(warehouse, 1, 10)
    marts.publish(warehouse, N1, "night-1")
    build(warehouse, 2, 12)
    bi = warehouse.connect()
    seen(bi)  # an open transaction holding both marts, as a long dashboard query does
    done = {}

    def swap():
        done["published"] = marts.publish(
            warehouse, N2, "night-2", lock_timeout="100ms", pause=0.1, attempts=100
        )

    t = threading.Thread(target=swap)
    t.start()
    time.sleep(1.5)
    # meanwhile other BI statements are not stuck behind the waiting swap for long
    with warehouse.connect(autocommit=True) as other:
        started = time.perf_counter()
        assert seen(other) == (10, 1, 10, 1)
        assert time.perf_counter() - started < 1.0
    assert seen(bi) == (10, 1, 10, 1)  # the long query reads yesterday's throughout
    bi.commit()
    t.join(timeout=30)
    bi.close()
    assert done["published"].marts == "current"
    assert "retrying" in caplog.text
    with warehouse.connect() as conn:
        assert seen(conn) == (12, 2, 12, 2)


def test_locks_never_granted_hold_the_night_back(warehouse):
    build(warehouse, 1, 10)
    marts.publish(warehouse, N1, "night-1")
    build(warehouse, 2, 12)
    with warehouse.connect() as bi:
        seen(bi)
        with pytest.raises(marts.MartsNotPublished, match="BI keeps the marts of 2026-11-21"):
            marts.publish(warehouse, N2, "night-2", lock_timeout="50ms", pause=0.01, attempts=3)
        bi.rollback()
    with warehouse.connect() as conn:
        assert seen(conn) == (10, 1, 10, 1)
        assert night.for_night(conn, N2).marts == "held_back"
    # a retry of the task, once BI let go, publishes
    assert marts.publish(warehouse, N2, "night-2").marts == "current"


def test_a_view_built_on_a_mart_holds_the_night_back_naming_it(warehouse):
    build(warehouse, 1, 10)
    marts.publish(warehouse, N1, "night-1")
    with warehouse.connect(autocommit=True) as conn:
        conn.execute("create schema bi_own")
        conn.execute("create view bi_own.big_a as select * from marts.kpi_a where id > 5")
    build(warehouse, 2, 12)
    with pytest.raises(marts.MartsNotPublished, match="view bi_own.big_a depends on table marts.kpi_a"):
        marts.publish(warehouse, N2, "night-2")
    with warehouse.connect() as conn:
        assert seen(conn) == (10, 1, 10, 1)
        assert night.for_night(conn, N2).marts == "held_back"


SCORECARD = (
    "create table {}.kpi_programme_scorecard_monthly (month date, invited int, active int,"
    " programme_posts int, interactions bigint, referral_sessions int)"
)


def scorecards(target, published: list[tuple], built: list[tuple]) -> None:
    with target.connect(autocommit=True) as conn:
        for schema, rows in (("marts", published), ("marts_build", built)):
            conn.execute(SCORECARD.format(schema))
            for r in rows:
                conn.execute(
                    f"insert into {schema}.kpi_programme_scorecard_monthly values (%s, %s, %s, %s, %s, %s)", r
                )


def test_the_gate_refuses_a_night_that_shrinks_a_closed_month(warehouse):
    march, april, nov = dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 11, 1)
    scorecards(
        warehouse,
        published=[
            (march, 220, 120, 338, 5000, 505),
            (april, 221, 121, 300, 4000, 400),
            (nov, 230, 100, 50, 900, 80),
        ],
        # March loses 2 invited (0.9 %) and 17 programme posts (5 %); November is not closed yet
        built=[
            (march, 218, 120, 321, 5000, 505),
            (april, 221, 122, 300, 4100, 400),
            (nov, 200, 90, 40, 800, 70),
        ],
    )
    gate = GateSettings(max_closed_month_shrink=0.02)
    with warehouse.connect() as conn:
        marts.ensure(conn)
        conn.execute("insert into audit.marts_state (as_of) values (%s)", (dt.date(2026, 11, 21),))
        failures = closed_month_shrinks(conn, dt.date(2026, 11, 22), gate=gate, settings_file="programme.yml")
        assert failures == [
            "closed month 2026-03: programme posts would shrink from 338 to 321 (-5.0%, more than"
            " gate.max_closed_month_shrink = 2.0%); BI keeps the published marts. If the change is"
            " intended (a corrected export), add '2026-03' to gate.accept_shrink_months in"
            " programme.yml and rerun the night"
        ]
        strict = GateSettings(max_closed_month_shrink=0.0)
        strict = closed_month_shrinks(
            conn, dt.date(2026, 11, 22), gate=GateSettings(max_closed_month_shrink=0)
        )
        assert [f.split(" would")[0] for f in strict] == [
            "closed month 2026-03: invited",
            "closed month 2026-03: programme posts",
        ]
        accepted = GateSettings(max_closed_month_shrink=0.02, accept_shrink_months=("2026-03",))
        assert closed_month_shrinks(conn, dt.date(2026, 11, 22), gate=accepted) == []
        # a rerun of an earlier night than BI's is not published: nothing to compare
        assert closed_month_shrinks(conn, dt.date(2026, 11, 20), gate=gate) == []
        # a month missing from the build shrinks to 0
        conn.execute("delete from marts_build.kpi_programme_scorecard_monthly where month = %s", (april,))
        assert any(
            "2026-04: invited would shrink from 221 to 0" in f
            for f in closed_month_shrinks(conn, dt.date(2026, 11, 22), gate=gate)
        )


def test_the_gate_reads_the_nights_build_not_what_bi_reads(warehouse, gx_root):
    """Real GX: the committed assets name marts; a night's run validates marts_build."""
    from advocacy.quality import run_validation
    from gate_data import create_good_marts

    create_good_marts(warehouse)
    with warehouse.connect(autocommit=True) as conn:
        for (t,) in conn.execute("select tablename from pg_tables where schemaname = 'marts'").fetchall():
            conn.execute(f"alter table marts.{t} set schema marts_build")
    as_of = dt.date(2026, 4, 30)
    report = run_validation(
        warehouse,
        as_of=as_of,
        run_id="night",
        project_root=gx_root,
        data_docs=False,
        marts_schema="marts_build",
    )
    assert report.success, report.summary()
    assert report.row_counts["marts.kpi_adoption_monthly"] == 20  # the catalog's names, the build's rows
    # the same run on what BI reads (empty) does not pass
    empty = run_validation(warehouse, as_of=as_of, run_id="bi", project_root=gx_root, data_docs=False)
    assert empty.failures == ["marts: no mart table exists yet (has dbt built the marts?)"]
    with warehouse.connect() as conn:  # the cross-table consent check reads the build's dim_employee too
        conn.execute(
            "update marts_build.kpi_top_contributors_monthly set display_name = 'Bob Secret'"
            " where rank = 2 and month = '2026-04-01'"
        )
        conn.commit()
    bad = run_validation(
        warehouse,
        as_of=as_of,
        run_id="night-2",
        project_root=gx_root,
        data_docs=False,
        marts_schema="marts_build",
    )
    text = "\n".join(bad.failures)
    assert "marts.kpi_top_contributors_monthly: display_name is set only for employees with consent" in text
    assert "display_name='Bob Secret'" in text and "could not be checked" not in text

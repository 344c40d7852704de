"""Night-by-night incremental builds give exactly the marts of one full refresh.

The hand-made raw dataset (raw_data.py) built as of its first run day, then
incrementally as of the second, then again after a rerun of the second day
(the last night: the models keyed by post merge their stored counts) and of
the first day (an older day: recomputed whole); the rows replaced, as the
loader does, and logged in audit.load_log: every mart (and the models keyed
by post) must equal a `--full-refresh` of the same data. The monthly audience
model (incremental by month) is also built across month boundaries, with a
replaced and a deleted snapshot in an earlier month and an account moving
between employees. dbt_project/README.md, "Incremental models".
"""

from __future__ import annotations

import pytest
import raw_data
from advocacy.bench import mart_fingerprints
from test_dbt_project import Dbt, _dbt_vars, _raw_database

pytestmark = pytest.mark.slow

FIRST, SECOND = raw_data.RUN_DAYS[0], raw_data.RUN_DAYS[1]


@pytest.fixture(scope="module")
def nightly(pg_server, tmp_path_factory):
    gen = _raw_database(pg_server)
    target = next(gen)
    runner = Dbt(target, tmp_path_factory.mktemp("dbt_incremental"))
    yield target, runner
    next(gen, None)


def _log_load(conn, source: str, stream: str, day: str) -> None:
    """The loader's audit.load_log row for a (re)loaded day: what the next build's window reads."""
    conn.execute(
        "create table if not exists audit.load_log (source text not null, stream text not null,"
        " interval_start date not null, landing_file text not null, rows_loaded integer not null,"
        " rows_replaced integer not null, seconds double precision not null,"
        " loaded_at timestamptz not null default now())"
    )
    conn.execute(
        "insert into audit.load_log (source, stream, interval_start, landing_file, rows_loaded,"
        " rows_replaced, seconds) values (%s, %s, %s, 'rerun', 1, 1, 0)",
        (source, stream, day),
    )


def _rerun_first_day(target) -> None:
    """What a rerun of the first day does: its tweet rows replaced (counters moved on), logged."""
    with target.connect() as conn:
        conn.execute(
            "update raw.x__tweets set record = jsonb_set(record, '{public_metrics,like_count}',"
            " to_jsonb(coalesce((record -> 'public_metrics' ->> 'like_count')::int, 0) + 3)),"
            " _extracted_at = _extracted_at + interval '1 hour' where _interval_start = %s",
            (FIRST,),
        )
        _log_load(conn, "x", "tweets", FIRST)
        conn.commit()


def _rerun_second_day(target) -> None:
    """A rerun of the last night (what the benchmark's nightly measures): its tweet rows replaced
    with counters moved on, an edited text, a post now found by the search instead of the
    timeline, and a post (also seen the night before) no longer returned; logged."""
    with target.connect() as conn:
        conn.execute(
            "update raw.x__tweets set record = jsonb_set(record, '{public_metrics,like_count}',"
            " to_jsonb(coalesce((record -> 'public_metrics' ->> 'like_count')::int, 0) + 5)),"
            " _extracted_at = _extracted_at + interval '1 hour' where _interval_start = %s",
            (SECOND,),
        )
        conn.execute(
            "update raw.x__tweets set record = jsonb_set(record, '{text}', to_jsonb(%s::text))"
            " where _interval_start = %s and record ->> 'id' = '1001'",
            ("Proud of my team shipping the new gripper this week #LifeAtNorthwind", SECOND),
        )
        conn.execute(
            "update raw.x__tweets set record = jsonb_set(record, '{_found_via}', '\"search\"')"
            " where _interval_start = %s and record ->> 'id' = '1006'",
            (SECOND,),
        )
        conn.execute(
            "delete from raw.x__tweets where _interval_start = %s and record ->> 'id' = '2001'", (SECOND,)
        )
        _log_load(conn, "x", "tweets", SECOND)
        conn.commit()


# the models keyed by post whose nights merge stored state (dbt_project/README.md, "Incremental models")
BY_POST = ("int_posts_deduplicated", "int_company_posts", "int_post_metrics_latest")


def _fingerprints(target, *tables: str) -> dict[str, str]:
    """mart_fingerprints() and the same digest of some intermediate tables."""
    out = mart_fingerprints(target)
    with target.connect() as conn:
        for t in tables:
            n, s = conn.execute(
                f"select count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)"
                f" from intermediate.{t} t"
            ).fetchone()
            out[t] = f"{n}:{int(s):x}"
    return out


def test_nightly_incremental_builds_equal_a_full_refresh(nightly):
    target, dbt = nightly
    models = ["--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot"]
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": FIRST}, label="night 1")
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": SECOND}, label="night 2 (incremental)")
    with target.connect() as conn:
        windows = conn.execute(
            "select model, count(*) from audit.dbt_incremental_builds group by 1 order by 1"
        ).fetchall()
    assert ("fct_post_engagement_daily", 2) in windows and ("int_posts_unioned", 2) in windows
    # a rerun of the last night: the posts it re-reads merge their stored counts of the days before
    _rerun_second_day(target)
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": SECOND}, label="rerun of night 2 (incremental)")
    incremental = _fingerprints(target, *BY_POST)
    with target.connect() as conn:
        merged = conn.execute(
            "select post_id, post_text, found_via, occurrences, last_seen_day::text"
            " from intermediate.int_posts_deduplicated where post_id in ('1001', '1006', '2001') order by 1"
        ).fetchall()
    edited = "Proud of my team shipping the new gripper this week #LifeAtNorthwind"
    assert merged == [
        ("1001", edited, "timeline+search", 2, SECOND),
        ("1006", "Loving the new office in Utrecht @NorthwindHQ", "search", 1, SECOND),
        ("2001", "Northwind robots are amazing #NorthwindRobotics", "search", 1, FIRST),
    ]
    dbt("build", *models, "--full-refresh", vars={**_dbt_vars(), "as_of_date": SECOND}, label="full 2")
    assert incremental == _fingerprints(target, *BY_POST)
    _rerun_first_day(target)
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": SECOND}, label="rerun (incremental)")
    incremental = mart_fingerprints(target)
    dbt("build", *models, "--full-refresh", vars={**_dbt_vars(), "as_of_date": SECOND}, label="full")
    full = mart_fingerprints(target)
    assert not full["fct_post_engagement_daily"].startswith("0:")
    assert incremental == full
    with target.connect() as conn:  # the rerun's counters reached the marts
        (n,) = conn.execute(
            "select count(*) from marts.fct_post_engagement_daily where day = %s", (FIRST,)
        ).fetchone()
    assert n > 0


def test_an_earlier_report_date_rebuilds_whole(nightly):
    """After the nights above, a build as of the first day equals a full refresh as of it."""
    target, dbt = nightly
    models = ["--resource-type", "model", "--resource-type", "seed"]
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": FIRST}, label="past report")
    incremental = mart_fingerprints(target)
    dbt("build", *models, "--full-refresh", vars={**_dbt_vars(), "as_of_date": FIRST}, label="past full")
    assert incremental == mart_fingerprints(target)


# Earlier nights for the monthly model: the roster and some advocates' user snapshots copied from
# the first run day to a January and a February day (username -> followers that day).
EARLY_USERS = {
    "2026-01-20": {"AdaL": 900, "dand": 700, "finnf": 180},
    "2026-02-20": {"AdaL": 950, "bobb": 450, "finnf": 190},
}
MODELS = ["--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot"]


@pytest.fixture(scope="module")
def monthly(pg_server, tmp_path_factory):
    gen = _raw_database(pg_server)
    target = next(gen)
    with target.connect() as conn:
        for day, users in EARLY_USERS.items():
            shift = "(%s::date - _interval_start) * interval '1 day'"
            conn.execute(
                "insert into raw.roster__employees select %s, _extracted_at + " + shift + ","
                " replace(_landing_file, %s, %s), _line_no, _record_key, _record_time, record"
                " from raw.roster__employees where _interval_start = %s",
                (day, day, FIRST, day, FIRST),
            )
            for username, followers in users.items():
                conn.execute(
                    "insert into raw.x__users select %s, _extracted_at + " + shift + ","
                    " replace(_landing_file, %s, %s), _line_no, _record_key, _record_time,"
                    " jsonb_set(record, '{public_metrics,followers_count}', to_jsonb(%s::int))"
                    " from raw.x__users where _interval_start = %s and record ->> 'username' = %s",
                    (day, day, FIRST, day, followers, FIRST, username),
                )
        conn.commit()
    yield target, Dbt(target, tmp_path_factory.mktemp("dbt_monthly"))
    next(gen, None)


def _audience(target) -> dict:
    with target.connect() as conn:
        rows = conn.execute(
            "select employee_id, month::text, audience::int, audience_source"
            " from intermediate.int_advocate_audience_monthly order by 1, 2"
        ).fetchall()
    return {(e, m): (a, s) for e, m, a, s in rows}


def test_monthly_audience_across_months_equals_a_full_refresh(monthly):
    """Nights in February, on March 1st (a new month: February recomputed, January kept) and 2nd
    (March only), then a rerun of a February day (Ada's snapshot replaced, Bob's gone) with the
    roster giving Finn's account to Dan: every build equals a full refresh of the same data (a
    full refresh records its build too, so the next night is incremental from it)."""
    target, dbt = monthly
    checked = ("int_advocate_audience_monthly",)

    def night(as_of: str, label: str) -> dict:
        dbt("build", *MODELS, vars={**_dbt_vars(), "as_of_date": as_of}, label=label)
        return _fingerprints(target, *checked)

    def full(as_of: str) -> dict:
        dbt("build", *MODELS, "--full-refresh", vars={**_dbt_vars(), "as_of_date": as_of}, label="full")
        return _fingerprints(target, *checked)

    night("2026-02-25", "february")
    assert _audience(target)[("E001", "2026-01-01")] == (900, "in_month")
    incremental = night(FIRST, "march 1st (new month)")
    audience = _audience(target)
    assert audience[("E001", "2026-02-01")] == (950, "in_month")
    assert audience[("E004", "2026-02-01")] == (700, "carried_forward")
    assert audience[("E003", "2026-01-01")] == (300, "carried_back")  # first snapshot on March 1st
    assert incremental == full(FIRST)

    incremental = night(SECOND, "march 2nd (march only)")
    assert _audience(target)[("E004", "2026-03-01")] == (820, "in_month")
    assert incremental == full(SECOND)

    with target.connect() as conn:  # a rerun of 02-20 and of tonight's roster, as the loader does them
        conn.execute(
            "update raw.x__users set record = jsonb_set(record, '{public_metrics,followers_count}',"
            " to_jsonb(975)) where _interval_start = '2026-02-20' and record ->> 'username' = 'AdaL'"
        )
        conn.execute(
            "delete from raw.x__users where _interval_start = '2026-02-20' and record ->> 'username' = 'bobb'"
        )
        conn.execute(
            "update raw.roster__employees set record = jsonb_set(record, '{x_username}', '\"finnf\"')"
            " where _interval_start = %s and record ->> 'employee_id' = 'E004'",
            (SECOND,),
        )
        _log_load(conn, "x", "users", "2026-02-20")
        _log_load(conn, "roster", "employees", SECOND)
        conn.commit()
    incremental = night(SECOND, "rerun (incremental)")
    audience = _audience(target)
    assert audience[("E001", "2026-02-01")] == (975, "in_month")
    assert audience[("E002", "2026-01-01")] == (500, "carried_back")  # his only February snapshot went
    # Finn left and Dan now holds @finnf (the employee still employed): Dan's history is that account's
    assert audience[("E004", "2026-01-01")] == (180, "in_month")
    assert audience[("E004", "2026-02-01")] == (190, "in_month")
    assert not any(e == "E006" for e, _ in audience)
    assert incremental == full(SECOND)


def test_repeated_snapshots_stored_once_give_the_same_marts(nightly):
    """advocacy.load stores a tweet's record that repeats its previous one as a null record
    (load.REPEAT_STREAMS); staging reads it back (macro raw_records): every mart, the daily
    counters and the models keyed by post equal those built from whole records, by a full
    refresh and by a night's incremental build."""
    from advocacy import load
    from psycopg import sql

    target, dbt = nightly
    models = ["--resource-type", "model", "--resource-type", "seed"]
    tables = (*BY_POST, "int_post_metrics_daily")
    with target.connect() as conn:  # most posts of the second day unchanged since the first
        conn.execute(
            "update raw.x__tweets as s set record = f.record from raw.x__tweets as f"
            " where f._interval_start = %s and s._interval_start = %s and f._record_key = s._record_key"
            " and s._record_key <> '1001'",
            (FIRST, SECOND),
        )
        conn.commit()
    dbt("build", *models, "--full-refresh", vars={**_dbt_vars(), "as_of_date": SECOND}, label="whole records")
    whole = _fingerprints(target, *tables)
    with target.connect() as conn:  # the second day stored again by the loader's own statements
        load.ensure_table(conn, "x", "tweets")
        conn.execute(
            "create temp table landed as select * from raw.x__tweets where _interval_start = %s", (SECOND,)
        )
        load._store_repeats(
            conn.cursor(), sql.Identifier("x__tweets"), sql.Identifier("landed"), sql.Literal(SECOND)
        )
        (repeats,) = conn.execute("select count(*) from raw.x__tweets where record is null").fetchone()
        _log_load(conn, "x", "tweets", SECOND)
        conn.commit()
    assert repeats > 0
    dbt("build", *models, vars={**_dbt_vars(), "as_of_date": SECOND}, label="repeats (incremental)")
    assert _fingerprints(target, *tables) == whole
    dbt(
        "build", *models, "--full-refresh", vars={**_dbt_vars(), "as_of_date": SECOND}, label="repeats (full)"
    )
    assert _fingerprints(target, *tables) == whole

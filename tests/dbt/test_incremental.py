"""Night-by-night incremental builds give exactly the marts of one full refresh.

The hand-made raw dataset (raw_data.py) built as of its first run day, then
incrementally as of the second, then again after a rerun of the first day
(its rows replaced, as the loader does, and logged in audit.load_log): every
mart must equal a `--full-refresh` of the same data. dbt_project/README.md,
"Incremental models".
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


def _rerun_first_day(target) -> None:
    """What a rerun of the first day does: its tweet rows replaced (counters moved on), logged."""
    with target.connect() as conn:
        conn.execute(
            "update raw.x__tweets set record = jsonb_set(record, '{public_metrics,like_count}',"
            " to_jsonb(coalesce((record -> 'public_metrics' ->> 'like_count')::int, 0) + 3)),"
            " _extracted_at = _extracted_at + interval '1 hour' where _interval_start = %s",
            (FIRST,),
        )
        conn.execute(
            "create table if not exists audit.load_log (source text not null, stream text not null,"
            " interval_start date not null, landing_file text not null, rows_loaded integer not null,"
            " rows_replaced integer not null, seconds double precision not null,"
            " loaded_at timestamptz not null default now())"
        )
        conn.execute(
            "insert into audit.load_log (source, stream, interval_start, landing_file, rows_loaded,"
            " rows_replaced, seconds) values ('x', 'tweets', %s, 'rerun', 1, 1, 0)",
            (FIRST,),
        )
        conn.commit()


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

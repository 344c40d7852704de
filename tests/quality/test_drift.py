"""Platform drift: the gate fails when a counter falls to null / zero across a platform.

A real warehouse: the dbt tests' hand-made raw dataset (two X snapshot days,
2026-03-01 and 2026-03-02), built by dbt, then validated by the real gate.
Each scenario edits tonight's (03-02) raw X records the way a platform change
would, rebuilds the counters' models and validates again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from advocacy.quality import ValidationFailed, assert_valid, run_validation
from e2e import harness

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
sys.path.insert(0, str(REPO / "tests" / "dbt"))  # the dbt tests' raw dataset
import raw_data  # noqa: E402

pytestmark = pytest.mark.slow

AS_OF = dt.date.fromisoformat(raw_data.AS_OF)
TONIGHT = raw_data.RUN_DAYS[1]
CHECK = "marts.fct_post_engagement_daily: no platform's likes, comments, shares or impressions fall"


@pytest.fixture(scope="module")
def wh(pg_server, tmp_path_factory):
    """The raw dataset built by dbt (models, seeds, snapshot; the dbt tests run elsewhere)."""
    from advocacy.settings import DEMO_SETTINGS, load_settings
    from advocacy.warehouse import ensure_schemas

    target = harness.fresh_database(pg_server, "t_drift")
    ensure_schemas(target)
    with target.connect() as conn:
        raw_data.load_raw(conn)
        conn.execute("create schema keep")  # tonight's untouched records, restored by each test
        conn.execute("create table keep.x__tweets as select * from raw.x__tweets")
        conn.commit()
    work = tmp_path_factory.mktemp("drift")
    dbt_vars = {**load_settings(DEMO_SETTINGS).dbt_vars(), "as_of_date": raw_data.AS_OF}
    dbt_vars["enabled_platforms"] = ["x"]  # the dataset has X records only

    def dbt(*args: str) -> None:
        cmd = [
            str(Path(sys.executable).with_name("dbt")), *args, "--vars", json.dumps(dbt_vars),
            "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        ]  # fmt: skip
        env = {**os.environ, **target.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr

    dbt("build", "--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot")
    yield {"target": target, "dbt": dbt}
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{target.dbname}" with (force)')


def tonight(wh, edit_sql: str | None = None):
    """Restore tonight's raw X records, apply ``edit_sql`` to them, rebuild what reads them."""
    with wh["target"].connect() as conn:
        conn.execute("truncate raw.x__tweets")
        conn.execute("insert into raw.x__tweets select * from keep.x__tweets")
        if edit_sql:
            n = conn.execute(edit_sql + " and _interval_start = %s", (TONIGHT,)).rowcount
            assert n > 0
        conn.commit()
    # a full refresh: the incremental models would only rebuild days the loader (re)loaded
    wh["dbt"]("run", "--full-refresh", "--select", "stg_x__posts+", "stg_x__post_metrics+")


def validate(wh, gx_root, run_id):
    return run_validation(wh["target"], as_of=AS_OF, run_id=run_id, project_root=gx_root, data_docs=False)


def daily(wh, sql: str):
    with wh["target"].connect() as conn:
        return conn.execute(sql, (TONIGHT,)).fetchall()


def test_a_normal_night_passes(wh, gx_root):
    tonight(wh)
    # both days have impressions and likes on the posts seen on both days (the scenarios' premise)
    assert daily(
        wh,
        "select count(*), sum(impressions), sum(likes) from marts.fct_post_engagement_daily "
        "where day = %s and post_id in (select post_id from marts.fct_post_engagement_daily "
        "where day < '2026-03-02')",
    ) == [(5, 990, 25)]
    report = validate(wh, gx_root, "normal")
    assert report.success, report.summary()


def test_one_post_falling_to_zero_passes(wh, gx_root):
    tonight(
        wh,
        "update raw.x__tweets set record = jsonb_set(jsonb_set(record, '{public_metrics,like_count}', "
        "'0'), '{public_metrics,impression_count}', '0') where _record_key = '1001'",
    )
    assert daily(
        wh,
        "select likes, impressions from marts.fct_post_engagement_daily where day = %s and post_id = '1001'",
    ) == [(0, 0)]
    report = validate(wh, gx_root, "one-post")
    assert report.success, report.summary()


def test_impressions_null_across_a_platform_fail_naming_it(wh, gx_root):
    # X sends the 4-key public_metrics (no impression_count) for every post tonight:
    # e.g. the token lost the owner context that impressions need
    tonight(
        wh,
        "update raw.x__tweets set record = record #- '{public_metrics,impression_count}' "
        "#- '{public_metrics,bookmark_count}' where true",
    )
    assert daily(
        wh, "select count(*) from marts.fct_post_engagement_daily where day = %s and impressions is not null"
    ) == [(0,)]
    report = validate(wh, gx_root, "impressions-null")
    assert not report.success
    failures = [f for f in report.failures if f.startswith(CHECK)]
    assert failures == report.failures, report.failures  # nothing else failed
    assert len(failures) == 1
    assert "1 offending row" in failures[0]
    assert "platform='x', metric='impressions'" in failures[0]
    assert (
        "total 750 on 2026-03-01, null on 2026-03-02 over the 5 posts snapshotted on both days"
        in (failures[0])
    )
    with pytest.raises(ValidationFailed, match="metric='impressions'"):
        assert_valid(report)


def test_likes_zero_across_a_platform_fail_naming_it(wh, gx_root):
    tonight(
        wh,
        "update raw.x__tweets set record = jsonb_set(record, '{public_metrics,like_count}', '0') where true",
    )
    report = validate(wh, gx_root, "likes-zero")
    assert not report.success
    text = "\n".join(report.failures)
    assert "platform='x', metric='likes'" in text and "null on" not in text
    assert "total 19 on 2026-03-01, 0 on 2026-03-02" in text
    assert "metric='impressions'" not in text and "metric='comments'" not in text

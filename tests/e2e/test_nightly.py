"""The whole nightly DAG, through real Airflow, on a real PostgreSQL and the HTTP sandbox.

Expected KPI values are computed from the sandbox's ground truth
(tests/e2e/expected.py), never hard-coded.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from advocacy import cli, platforms
from advocacy.sandbox.server import airflow_connections, running_sandbox
from advocacy.settings import load_settings

from . import expected, harness

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = dt.date(2026, 11, 22)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
MONTHS = ["2026-11", "2026-06", "2026-01"]
PLATFORMS = platforms.names()  # the demo programme enables every platform of the registry


@pytest.fixture(scope="module")
def run(pg_server, tmp_path_factory):
    """One nightly run for DAY; yields everything the tests look at."""
    tmp = tmp_path_factory.mktemp("e2e")
    target = harness.fresh_database(pg_server, "e2e")
    settings_file = harness.demo_programme(tmp)

    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with running_sandbox(now=CLOCK, roster_path=str(tmp / "roster.csv")) as sandbox:
        for name, value in airflow_connections(sandbox).items():
            mp.setenv(name, value)
        cli.write_demo_files(sandbox.company, load_settings(), CLOCK)
        cli.use_warehouse()
        rc = cli.run_dag(DAY)
        truth = sandbox.company.ground_truth(CLOCK, "all")
        truth["_visible"] = expected.visible(truth, WINDOW_END)
        # the marts count web sessions up to the report day's end in the programme's zone;
        # the sessions file written at CLOCK also holds the next night's first hours
        day_end = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), load_settings().tz)
        truth["referrals"] = sandbox.company.ground_truth(day_end.astimezone(dt.UTC))["referrals"]
        yield {"rc": rc, "target": target, "truth": truth, "tmp": tmp, "sandbox": sandbox, "mp": mp}
    mp.undo()


def q(target, sql, *args):
    with target.connect() as conn:
        cur = conn.execute(sql, args)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_dag_run_succeeds_and_publishes(run):
    assert run["rc"] == 0
    report = Path(run["tmp"]) / "reports" / DAY.isoformat() / "index.html"
    assert report.is_file()
    html = report.read_text()
    assert "<svg" in html and "https://" not in html.split("<body", 1)[1].split("href=")[0]
    assert list(report.parent.glob("kpi_*.csv"))


@pytest.mark.parametrize("month", MONTHS)
def test_adoption_matches_ground_truth(run, month):
    want = expected.adoption(run["truth"], month)
    got = q(
        run["target"],
        "select * from marts.kpi_adoption_monthly where month = %s and department = 'ALL'",
        expected.month_bounds(month)[0],
    )[0]
    for k in ("invited", "registered", "active"):
        assert got[k] == want[k], k
    assert float(got["adoption_rate"]) == pytest.approx(want["adoption_rate"], abs=5e-5)  # numeric(12,4)
    assert float(got["activation_rate"]) == pytest.approx(want["activation_rate"], abs=5e-5)


def test_department_adoption_matches_ground_truth(run):
    month = "2026-06"
    rows = q(
        run["target"],
        "select * from marts.kpi_adoption_monthly where month = %s and department <> 'ALL'",
        expected.month_bounds(month)[0],
    )
    assert len(rows) >= 5
    for row in rows:
        want = expected.adoption(run["truth"], month, row["department"])
        assert (row["invited"], row["registered"], row["active"]) == (
            want["invited"], want["registered"], want["active"],
        ), row["department"]  # fmt: skip


@pytest.mark.parametrize("month", ["2026-11", "2026-06"])
def test_top_contributors_order_and_consent(run, month):
    want = expected.top_contributors(run["truth"], month)
    got = q(
        run["target"],
        "select rank, employee_id, display_name, programme_posts, interactions"
        " from marts.kpi_top_contributors_monthly where month = %s order by rank",
        expected.month_bounds(month)[0],
    )
    assert len(got) == len(want) > 3
    for g, w in zip(got[:10], want[:10], strict=True):
        assert (g["rank"], g["employee_id"], g["programme_posts"], g["interactions"]) == (
            w["rank"], w["employee_id"], w["programme_posts"], w["interactions"],
        )  # fmt: skip
        assert (g["display_name"] is None) == (w["employee_id"] == "anonymous")


def test_every_platform_lands_exactly_the_visible_programme_posts(run):
    """The demo enables all five platforms: each one's programme posts, post by post."""
    got: dict[str, set] = {p: set() for p in PLATFORMS}
    for r in q(run["target"], "select platform, post_id from marts.fct_posts where is_programme_post"):
        got[r["platform"]].add(r["post_id"])
    for platform in PLATFORMS:
        want = {
            p["id"] for p in run["truth"]["_visible"]
            if p["platform"] == platform and p["is_programme_post"] and p["employee_id"]
        }  # fmt: skip
        assert want, platform
        assert got[platform] == want, platform


def test_every_platform_has_kpi_rows(run):
    month = expected.month_bounds("2026-11")[0]
    for mart in ("kpi_reach_monthly", "kpi_engagement_monthly", "kpi_earned_media_monthly"):
        rows = q(run["target"], f"select platform from marts.{mart} where month = %s", month)
        assert {r["platform"] for r in rows} >= {*PLATFORMS, "ALL"}, mart


def test_personalised_posts_earn_more(run):
    rows = q(
        run["target"],
        "select month, personalised_uplift from marts.kpi_engagement_monthly"
        " where platform = 'ALL' and personalised_uplift is not null",
    )
    assert len(rows) >= 6
    assert all(float(r["personalised_uplift"]) > 0 for r in rows)


def test_community_posts_are_not_credited(run):
    rows = q(
        run["target"],
        "select count(*) filter (where employee_id is null and is_programme_post) as bad,"
        " count(*) filter (where employee_id is null) as community from marts.fct_posts",
    )[0]
    assert rows["bad"] == 0 and rows["community"] > 0


def test_past_month_report_is_rebuilt_through_the_gate(run):
    assert cli.main(["report", "--month", "2026-06"]) == 0
    reports = Path(run["tmp"]) / "reports"
    assert (reports / "2026-06-30" / "index.html").is_file()
    index = (reports / "index.html").read_text()
    assert index.index("2026-11-22") < index.index("2026-06-30")  # newest first


def test_rerun_of_the_same_day_changes_no_mart(run):
    before = harness.fingerprint(run["target"])
    assert cli.run_dag(DAY) == 0
    assert harness.fingerprint(run["target"]) == before


def test_corrupted_mart_fails_validation_and_blocks_publishing(run, capfd):
    """Write, audit, publish: a corrupted build fails the gate, BI keeps the marts it reads,
    and the night's report says the night was held back; the run fails."""
    target = run["target"]
    bad = (
        " set adoption_rate = 1.7 where department = 'ALL' and month = %s",
        (dt.date(2026, 11, 1),),
    )
    with target.connect() as conn:
        conn.execute("update marts_build.kpi_adoption_monthly" + bad[0], bad[1])
    report_dir = Path(run["tmp"]) / "reports" / DAY.isoformat()
    shutil.rmtree(report_dir)  # the report and the night's artifacts beside it

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(cli.REPO / "dags")).get_dag("advocacy_nightly")
    gate = dag.partial_subset(
        task_ids=["validate", "publish_marts", "publish_report"], include_upstream=False
    )
    dagrun = gate.test(logical_date=dt.datetime.combine(DAY, dt.time(), dt.UTC))
    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert dagrun.state == "failed"
    assert (states["validate"], states["publish_marts"], states["publish_report"]) == (
        "failed",
        "success",
        "failed",
    )
    published = q(target, "select max(adoption_rate) as r from marts.kpi_adoption_monthly")
    assert published[0]["r"] <= 1  # BI never saw the corrupted build
    page = (report_dir / "index.html").read_text()
    assert "Held back: BI shows the night of" in page
    out = capfd.readouterr()
    assert "adoption_rate" in out.out + out.err


@pytest.mark.parametrize("month", ["2026-11", "2026-03"])
def test_referrals_match_ground_truth(run, month):
    """Sessions from advocates' tracked links, per platform and ALL, with the pre-programme baseline."""
    truth = run["truth"]["referrals"]
    got = {
        r["platform"]: r
        for r in q(
            run["target"],
            "select * from marts.kpi_referrals_monthly where month = %s",
            expected.month_bounds(month)[0],
        )  # fmt: skip
    }
    want = [r for r in truth["monthly"] if r["month"] == month]
    assert want
    for w in want:
        assert (got[w["platform"]]["sessions"], got[w["platform"]]["conversions"]) == (
            w["sessions"], w["conversions"],
        ), w["platform"]  # fmt: skip
    assert float(got["ALL"]["baseline_sessions"]) == pytest.approx(truth["baseline"]["sessions"], rel=1e-3)
    lift = want[0]["sessions"] / truth["baseline"]["sessions"] - 1 if want[0]["platform"] == "ALL" else None
    if lift is not None:
        assert float(got["ALL"]["lift"]) == pytest.approx(lift, abs=1e-3)

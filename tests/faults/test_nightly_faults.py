"""The whole nightly DAG (real Airflow via ``cli.run_dag``, real PostgreSQL, HTTP sandbox) with
faults injected at a realistic rate on every endpoint of every platform, then a night on which
one platform's token has been revoked.

With faults, the warehouse must end exactly as without: every platform's landed records for
the interval equal what a clean extract of the same window returns (same posts, same
counters, none missing, none twice), ``marts.fct_posts`` has each post once, and the
programme posts are the sandbox's ground truth post by post. With a revoked token, that
platform's extract fails naming the connection to fix and the others still load.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml
from advocacy import cli, pipeline
from advocacy import platforms as registry
from advocacy.connections import get_connection
from advocacy.sandbox.server import TRANSIENT_FAULTS, airflow_connections, running_sandbox
from advocacy.settings import load_settings
from e2e import expected, harness

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = dt.date(2026, 11, 22)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
PLATFORMS = registry.names()
FAULT_RATE = 0.05  # one request in twenty fails in some way: a bad night, not a dead API
FAULT_SEED = 7
# listing pages are a tenth of the requests (LinkedIn's analytics calls are most of them): the
# paging faults weigh more, so that a night also sees short (and maybe repeated) pages
FAULTS = (*TRANSIENT_FAULTS, *("short_page", "repeat_page") * 4)
#: short waits so the run stays quick: the client gives up on a read after 2 s (the sandbox's
#: read-timeout fault stalls 3 s), backs off 0.2 s doubling, and X's 429 resets in 1 s
CLIENT_EXTRA = {
    "timeout": 2,
    "transient_retries": 5,
    "transient_backoff": 0.2,
    "rate_limit_fallback_wait": 0.5,
    "max_rate_limit_wait": 5,
}


def q(target, sql, *args):
    with target.connect() as conn:
        cur = conn.execute(sql, args)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def canonical(records) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in records)


@pytest.fixture(scope="module")
def night(pg_server, tmp_path_factory):
    """A history run for DAY with random faults everywhere; the sandbox stays up for the tests."""
    tmp = tmp_path_factory.mktemp("faults_e2e")
    target = harness.fresh_database(pg_server, "faults")
    settings_file = harness.demo_programme(tmp)
    assert set(yaml.safe_load(settings_file.read_text())["platforms"]) >= set(PLATFORMS)

    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with running_sandbox(now=CLOCK, roster_path=str(tmp / "roster.csv"), read_timeout_seconds=3.0) as sandbox:
        for env, value in airflow_connections(sandbox).items():
            conn = json.loads(value)
            conn["extra"].update(CLIENT_EXTRA)
            mp.setenv(env, json.dumps(conn))
        cli.write_demo_files(sandbox.company, load_settings(), CLOCK)
        cli.use_warehouse()
        sandbox.set_fault_rate(FAULT_RATE, FAULT_SEED, FAULTS)
        started = time.monotonic()
        rc = cli.run_dag(DAY)
        seconds = time.monotonic() - started
        sandbox.set_fault_rate(0.0)
        stats = sandbox.stats()
        truth = sandbox.company.ground_truth(CLOCK, "all")
        truth["_visible"] = expected.visible(truth, WINDOW_END)
        print(
            f"\nDAG run with faults: rc {rc}, {seconds:.0f} s, {stats['total_requests']} requests, "
            f"{stats['total_faults']} faults {stats['faults']}"
        )
        yield {
            "rc": rc,
            "target": target,
            "sandbox": sandbox,
            "stats": stats,
            "truth": truth,
            "tmp": tmp,
            "mp": mp,
        }
    mp.undo()


@pytest.fixture(scope="module")
def clean_extracts(night):
    """Each platform extracted again without faults, for exactly the window the DAG run used
    (the history run had no lookback ids: the warehouse was empty)."""
    settings = load_settings()
    sandbox = night["sandbox"]
    out = {}
    for platform in PLATFORMS:
        (row,) = q(
            night["target"],
            "select window_start, window_end from audit.extract_windows where source = %s"
            " and interval_start = %s",
            platform,
            DAY,
        )
        mod = pipeline.connector(platform)
        sandbox.reset_stats()
        result = mod.extract(
            get_connection(settings.platforms[platform].connection_id),
            advocate_usernames=pipeline.advocate_handles(
                settings, platform, mod.ROSTER_HANDLE_COLUMN, row["window_start"].date()
            ),
            company_handles=list(settings.platforms[platform].company_handles),
            hashtags=list(settings.hashtags),
            company_domains=list(settings.company_domains),
            window_start=row["window_start"],
            window_end=row["window_end"],
            lookback_ids=[],
        )
        out[platform] = {"result": result, "requests": sandbox.stats()["total_requests"]}
    total = sum(v["requests"] for v in out.values())
    stats = night["stats"]
    print(
        f"\nclean extracts: {total} requests; with faults the night made {stats['total_requests']} "
        f"({stats['total_requests'] / max(1, total):.2f}x, the files and the admin calls included), "
        f"minimum {sum(v['result'].stats.min_requests for v in out.values())}"
    )
    return out


def test_the_night_with_faults_succeeds(night):
    assert night["rc"] == 0
    faults = night["stats"]["faults"]
    assert night["stats"]["total_faults"] > 50
    # every kind; a repeated page needs a listing's second page or later, of which a night has only
    # a few dozen, so it may not come up (test_connector_faults.py covers it on every platform)
    assert set(TRANSIENT_FAULTS) - {"repeat_page"} <= set(faults), faults
    assert (night["tmp"] / "reports" / DAY.isoformat() / "index.html").is_file()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_landed_records_equal_a_clean_extract(night, clean_extracts, platform):
    """Raw holds, for the interval, exactly what a run without faults returns: same records
    (posts and their counters), none missing, none twice."""
    mod = pipeline.connector(platform)
    want = clean_extracts[platform]["result"]
    for stream in mod.STREAMS:
        rows = q(
            night["target"],
            f"select _record_key, record from raw.{platform}__{stream} where _interval_start = %s",
            DAY,
        )
        keys = [r["_record_key"] for r in rows]
        assert len(keys) == len(set(keys)), f"{platform}.{stream}: a record landed twice"
        assert canonical(r["record"] for r in rows) == canonical(want[stream]), f"{platform}.{stream}"
    assert len(want[mod.POSTS_STREAM]) > 10


def test_fct_posts_has_every_post_once_and_the_programme_posts_of_the_ground_truth(night):
    (dupes,) = q(
        night["target"],
        "select count(*) - count(distinct (platform, post_id)) as n from marts.fct_posts",
    )
    assert dupes["n"] == 0
    got: dict[str, set] = {p: set() for p in PLATFORMS}
    for r in q(night["target"], "select platform, post_id from marts.fct_posts where is_programme_post"):
        got[r["platform"]].add(r["post_id"])
    for platform in PLATFORMS:
        want = {
            p["id"]
            for p in night["truth"]["_visible"]
            if p["platform"] == platform and p["is_programme_post"] and p["employee_id"]
        }
        assert want, platform
        assert got[platform] == want, platform


def test_the_latest_counters_are_the_ground_truth(night):
    """fct_posts counters equal the sandbox's (pure reshares are credited 0, as dbt decides)."""
    cols = ("likes", "comments", "shares", "impressions", "interactions")
    truth = {(p["platform"], p["id"]): p for p in night["truth"]["posts"]}
    rows = q(
        night["target"],
        f"select platform, post_id, is_pure_reshare, {', '.join(cols)} from marts.fct_posts",
    )
    compared = 0
    wrong = []
    for r in rows:
        p = truth.get((r["platform"], r["post_id"]))
        if p is None or r["is_pure_reshare"]:
            continue  # company posts are not in the truth's post list; reshares credit 0
        compared += 1
        want = tuple(p["counters"].get(c) for c in cols)
        if tuple(r[c] for c in cols) != want:
            wrong.append((r["platform"], r["post_id"], tuple(r[c] for c in cols), want))
    assert compared > 1000
    assert not wrong, wrong[:10]


def test_no_checkpoint_is_left_once_the_files_landed(night):
    (row,) = q(night["target"], "select count(*) as n from audit.extract_checkpoints")
    assert row["n"] == 0


def test_a_revoked_token_fails_that_platform_and_the_others_still_load(night, clean_extracts, capfd):
    """The next night the LinkedIn organisation token has been revoked (no faults otherwise).

    Needs the DAG where load_raw runs when an extract failed (trigger rule all_done) and
    sources_complete then fails the run.
    """
    sandbox = night["sandbox"]
    sandbox.clear_faults()
    sandbox.expire_token("sandbox-linkedin-token")
    next_day = DAY + dt.timedelta(days=1)
    sandbox.set_now(CLOCK + dt.timedelta(days=1))
    capfd.readouterr()
    sandbox.reset_stats()
    started = time.monotonic()
    rc = cli.run_dag(next_day)
    seconds = time.monotonic() - started
    out = capfd.readouterr()
    log = out.out + out.err
    print(f"\nrevoked-token night: rc {rc}, {seconds:.0f} s")
    assert rc != 0  # the run says something is wrong ...
    assert "connection 'linkedin_api'" in log and "expired or was revoked" in log  # ... and what to fix
    assert "extract_linkedin" in log
    for platform in ("x", "facebook", "instagram"):  # ... while the others landed and loaded
        (row,) = q(
            night["target"],
            f"select count(*) as n from raw.{platform}__{pipeline.connector(platform).POSTS_STREAM}"
            " where _interval_start = %s",
            next_day,
        )
        assert row["n"] > 0, platform
    (row,) = q(
        night["target"], "select count(*) as n from raw.linkedin__posts where _interval_start = %s", next_day
    )
    assert row["n"] == 0
    # a refused token is permanent: the task failed at once, not after retries
    assert sandbox.stats()["served_401"].get("linkedin.network_sizes") == 1
    # ... and the night says which platform is missing and why, for the report's header
    runs = {
        r["source"]: r
        for r in q(night["target"], "select * from audit.source_runs where interval_start = %s", next_day)
    }
    assert runs["linkedin"]["outcome"] == "failed" and "linkedin_api" in runs["linkedin"]["message"]
    assert "sandbox-linkedin-token" not in runs["linkedin"]["message"]
    for platform in ("x", "facebook", "instagram"):
        assert runs[platform]["outcome"] in ("ok", "partial") and runs[platform]["rows_loaded"] > 0

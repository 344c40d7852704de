"""`advocacy bench --size small` end to end: every stage and ratio is there and sane.

Proves the benchmark works (CI runs it at small only); timings are never asserted,
only that each number exists and is positive. The KPI marts of the nightly
incremental build must equal the full refresh's: that is correctness, not timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STAGES = {
    "generate", "load_history", "copy_baseline", "extract_files", "extract_x", "load_delta",
    "dbt_full_refresh", "reload_delta", "dbt_nightly", "validate", "publish", "dag_parse",
}  # fmt: skip


@pytest.fixture(scope="module")
def result(pg_server, dbt_manifest, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "bench.json"
    env = {**os.environ, "ADVOCACY_WAREHOUSE_URL": pg_server.url, "ADVOCACY_HOME": str(tmp / "home")}
    env.pop("ADVOCACY_SETTINGS", None)
    # 30 days of history instead of a year keep the test at a few minutes; the stages are the same
    cmd = [sys.executable, "-m", "advocacy.cli", "bench", "--size", "small", "--days", "30",
           "--work", str(tmp / "work"), "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    return {"json": json.loads(out.read_text()), "table": proc.stdout}


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_every_stage_has_time_memory_and_rows(result):
    stages = result["json"]["stages"]
    assert set(stages) == STAGES
    for name, s in stages.items():
        assert _positive(s["seconds"]), name
        assert _positive(s["peak_rss_mb"]), name
        assert _positive(s["rows"]), name


def test_every_stage_has_its_bytes(result):
    """Bytes per stage: the warehouse by schema and the landing area, after the stage."""
    stages = result["json"]["stages"]
    for name, s in stages.items():
        b = s["bytes"]
        assert _positive(b["database"]) and _positive(b["landing"]) and _positive(b["landing_files"]), name
    assert stages["load_history"]["bytes"]["schemas"]["raw"] > 0
    assert stages["dbt_full_refresh"]["bytes"]["schemas"]["marts"] > 0
    assert result["json"]["ratios"]["footprint_bytes"] == stages["dag_parse"]["bytes"]
    assert "landing MB" in result["table"] and "footprint after the night" in result["table"]


def test_every_ratio_is_there(result):
    r = result["json"]["ratios"]
    assert _positive(r["api_requests_vs_minimum"]["x"])
    assert _positive(r["load_vs_copy_throughput"])
    assert _positive(r["incremental_vs_full_refresh"])
    assert _positive(r["extract_load_peak_rss_mb"])
    assert _positive(r["nightly_seconds"])
    assert r["slowest_nightly_stage"] in STAGES
    assert r["dag_parse_seconds"] and all(_positive(v) for v in r["dag_parse_seconds"].values())
    assert set(result["json"]["targets_met"]) == {"api", "load", "rss", "incremental", "dag_parse", "nightly"}


def test_incremental_build_gives_the_full_refresh_marts(result):
    stages = result["json"]["stages"]
    assert result["json"]["ratios"]["marts_identical"], result["json"]["ratios"]["marts_differing"]
    marts = stages["dbt_full_refresh"]["marts"]
    assert {"fct_posts", "fct_post_engagement_daily", "kpi_adoption_monthly"} <= set(marts)
    assert not marts["fct_post_engagement_daily"].startswith("0:")  # the compared marts are not empty


def test_the_night_really_extracted_and_loaded(result):
    stages = result["json"]["stages"]
    assert stages["extract_x"]["requests"] >= stages["extract_x"]["min_requests"] > 0
    assert stages["extract_x"]["rate_limited"] == 0
    assert Path(stages["publish"]["report"]).name == "index.html"


def test_table_names_each_stage_and_target(result):
    table = result["table"]
    for name in STAGES:
        assert name in table
    assert "slowest" in table and "met:" in table

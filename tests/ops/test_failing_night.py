"""End to end: a night that fails in real Airflow (``airflow dags test`` of the nightly DAG, real
PostgreSQL) sends its alert as a real e-mail to an SMTP server the test started, and the test
reads it. The roster export is broken (a wrong header), so ``extract_files`` refuses it;
the platform extracts, dbt, the gate and the publish are marked successful without running
(``--mark-success-pattern``) to keep the test short: the failure, the callbacks, the
connection and the delivery are all real."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import yaml
from advocacy import cli
from e2e import harness

from ops.smtp_server import SmtpServer, body_text, smtp_connection

pytestmark = [pytest.mark.slow]

DAY = dt.date(2026, 11, 22)
SKIPPED = r"extract_(x|facebook|instagram|linkedin)|dbt\..*|validate|publish_report"


def test_a_failing_night_delivers_an_email_naming_the_task_and_the_refused_file(
    pg_server, tmp_path, monkeypatch
):
    target = harness.fresh_database(pg_server, "alert")
    settings_file = harness.demo_programme(tmp_path)
    settings = yaml.safe_load(settings_file.read_text())
    settings["alerts"] = {"email": ["data-team@example.org"], "smtp_connection_id": "smtp_alerts"}
    settings_file.write_text(yaml.safe_dump(settings))
    (tmp_path / "roster.csv").write_text("name;mail\nAda;ada@example.org\n")

    monkeypatch.setenv("ADVOCACY_SETTINGS", str(settings_file))
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with SmtpServer() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", smtp_connection(smtp))
        cli.use_warehouse()
        started = time.monotonic()
        rc = cli.run_dag(DAY, "--mark-success-pattern", SKIPPED)
        print(f"\nfailing night: rc {rc} in {time.monotonic() - started:.0f} s")
        mails = smtp.wait_for(1, timeout=30)

    assert len(mails) == 1, "one alert for the failed run"
    mail = mails[0]
    assert mail["To"] == "data-team@example.org"
    assert "night 2026-11-22 FAILED" in mail["Subject"] and "extract_files" in mail["Subject"]
    body = body_text(mail)
    assert "task extract_files failed" in body and "roster" in body and "refus" in body
    assert "task sources_complete failed" in body  # the run's own verdict on its sources
    assert "/dags/advocacy_nightly/runs/" in body and "/tasks/extract_files" in body

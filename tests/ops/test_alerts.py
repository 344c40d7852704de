"""A failed night reaches a person: the alert names the night, the failed tasks and why (refused
files, failed expectations, the task's own error), links the logs, and arrives as a real e-mail
at an SMTP server and as a JSON post at a webhook, both started by the test."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
import yaml
from advocacy import alerts, artifacts, night
from advocacy.quality.runner import ensure_audit_table
from advocacy.settings import load_settings
from e2e import harness

from ops.smtp_server import SmtpServer, body_text, smtp_connection

DAY = dt.date(2026, 11, 22)
RUN_ID = "scheduled__2026-11-22T03:00:00+00:00"


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", smtp_connection(server))
        yield server


@pytest.fixture
def webhook(monkeypatch):
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_HOOK",
        json.dumps({"conn_type": "http", "host": f"http://127.0.0.1:{server.server_port}/hook"}),
    )
    yield received
    server.shutdown()


def programme(tmp_path, **alert_settings) -> str:
    path = harness.demo_programme(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["alerts"] = {"email": ["data-team@example.org", "lead@example.org"], **alert_settings}
    path.write_text(yaml.safe_dump(data))
    return str(path)


class FakeTI:  # what the context of a DAG callback carries about the failed task
    def __init__(self, task_id: str, try_number: int = 1):
        self.task_id, self.try_number, self.run_id = task_id, try_number, RUN_ID


def test_the_alert_names_the_night_the_task_the_reasons_and_links_the_logs(
    warehouse, tmp_path, monkeypatch, smtp, webhook
):
    monkeypatch.setenv("ADVOCACY_SETTINGS", programme(tmp_path, smtp_connection_id="smtp_alerts",
                                                      webhook_connection_id="alerts_hook"))  # fmt: skip
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    night.record(warehouse, "roster", DAY, "refused", message="roster.csv: column employee_id is missing")
    night.record(warehouse, "x", DAY, "failed", message="connection x_api: the token expired; renew it")
    night.record(warehouse, "facebook", DAY, "ok", rows_loaded=10)
    ensure_audit_table(warehouse)
    with warehouse.connect() as conn:
        conn.execute(
            "insert into audit.validation_runs (run_id, as_of, table_name, success, failed_expectations)"
            " values (%s, %s, 'marts.fct_posts', false, %s::jsonb)",
            (RUN_ID, DAY, json.dumps(["fct_posts: post_id is not unique (3 rows)"])),
        )
    # the task-level callback keeps the error, with any credential masked
    context = {"ti": FakeTI("validate"), "run_id": RUN_ID, "ds": DAY.isoformat()}
    alerts.remember_failure(
        {**context, "exception": RuntimeError("validation FAILED\npostgresql://bob:s3cret@db:5432/x")}
    )

    docs = tmp_path / "reports" / "2026-11-22" / "artifacts" / artifacts.run_slug(RUN_ID) / "data_docs"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html>data docs</html>")  # what the gate published

    alerts.NightFailureNotifier()(context)

    (mail,) = smtp.wait_for(1)
    assert set(mail["To"].split(", ")) == {"data-team@example.org", "lead@example.org"}
    assert mail["From"] == "nightly@example.org"
    assert "2026-11-22" in mail["Subject"] and "FAILED" in mail["Subject"] and "validate" in mail["Subject"]
    body = body_text(mail)
    assert "task validate failed: RuntimeError: validation FAILED" in body
    assert "source roster: file refused: roster.csv: column employee_id is missing" in body
    assert "source x: nothing landed: connection x_api: the token expired" in body
    assert "facebook" not in body  # a source that landed is no news
    assert "expectation failed on marts.fct_posts: fct_posts: post_id is not unique" in body
    quoted = RUN_ID.replace(":", "%3A").replace("+", "%2B")
    assert f"/dags/advocacy_nightly/runs/{quoted}/tasks/validate" in body
    assert "s3cret" not in body and "bob:***@" in body
    assert str(docs / "index.html") in body  # the failed run's Data Docs
    (posted,) = webhook
    assert posted["subject"] == mail["Subject"] and "source x: nothing landed" in posted["text"]


def test_a_warehouse_that_does_not_answer_is_the_reason(tmp_path, monkeypatch, smtp):
    monkeypatch.setenv("ADVOCACY_SETTINGS", programme(tmp_path, smtp_connection_id="smtp_alerts"))
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", "postgresql://advocacy@127.0.0.1:9/advocacy")
    alerts.NightFailureNotifier()({"ti": FakeTI("prepare_warehouse"), "run_id": RUN_ID, "ds": "2026-11-22"})
    (mail,) = smtp.wait_for(1)
    body = body_text(mail)
    assert "task prepare_warehouse failed" in body and "the warehouse did not answer" in body


def test_an_undeliverable_alert_is_logged_not_raised(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ADVOCACY_SETTINGS", programme(tmp_path, smtp_connection_id="smtp_nowhere"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_NOWHERE",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 9,
                    "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 1, "timeout": 2}}),
    )  # fmt: skip
    alert = alerts.NightAlert(DAY, "subject", ["- a line"])
    assert alerts.send(alert, load_settings().alerts) == []
    assert "alert e-mail via connection 'smtp_nowhere' failed" in caplog.text


def test_the_deadline_is_the_next_day_at_the_settings_hour(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVOCACY_SETTINGS", programme(tmp_path, deadline="07:30"))
    monkeypatch.delenv(alerts.NO_DEADLINE_ENV, raising=False)  # set by `airflow dags test` runs
    settings = load_settings()
    delta = alerts.deadline_delta(settings)  # from the 03:00 UTC logical date to 07:30 Amsterdam
    assert dt.timedelta(hours=27) <= delta <= dt.timedelta(hours=28, minutes=30)
    deadline = alerts.deadline_alert(settings)
    assert deadline.interval == delta and deadline.callback.path == "advocacy.alerts.report_late"
    monkeypatch.setenv(alerts.NO_DEADLINE_ENV, "1")  # no scheduler to evaluate it: none
    assert alerts.deadline_alert(settings) is None


def test_a_late_night_alerts_unless_its_report_is_published(tmp_path, monkeypatch, smtp):
    monkeypatch.setenv("ADVOCACY_SETTINGS", programme(tmp_path, smtp_connection_id="smtp_alerts",
                                                      deadline="07:30"))  # fmt: skip
    settings = load_settings()
    # what the triggerer hands a deadline callback: the dag run as JSON
    context = {"dag_run": {"dag_run_id": RUN_ID, "logical_date": "2026-11-22T03:00:00Z"}}
    import asyncio

    asyncio.run(alerts.report_late(context=context, deadline="07:30"))
    (mail,) = smtp.wait_for(1)
    assert "night 2026-11-22 LATE (no report by 07:30)" in mail["Subject"]

    report = tmp_path / "reports" / "2026-11-22" / "index.html"
    report.parent.mkdir(parents=True)
    report.write_text("<html></html>")
    assert settings.publish_path == str(tmp_path / "reports")
    assert alerts.check_late(context, "07:30") is None

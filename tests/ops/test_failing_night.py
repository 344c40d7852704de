"""End to end: a night that fails in real Airflow (``airflow dags test`` of the nightly DAG, real
PostgreSQL) sends its alert as a real e-mail to an SMTP server the test started, and the test
reads it (the night: ``conftest.failing_night``)."""

from __future__ import annotations

import pytest

from ops.smtp_server import body_text

pytestmark = [pytest.mark.slow]


def test_a_failing_night_delivers_an_email_naming_the_task_and_the_refused_file(failing_night):
    assert failing_night["rc"] != 0
    assert failing_night["states"]["extract_files"] == "failed"
    assert len(failing_night["mails"]) == 1, "one alert for the failed run"
    mail = failing_night["mails"][0]
    assert mail["To"] == "data-team@example.org"
    assert "night 2026-11-22 FAILED" in mail["Subject"] and "extract_files" in mail["Subject"]
    body = body_text(mail)
    assert "task extract_files failed" in body and "roster" in body and "refus" in body
    assert "task sources_complete failed" in body  # the run's own verdict on its sources
    assert "/dags/advocacy_nightly/runs/" in body and "/tasks/extract_files" in body


def test_the_local_airflow_database_is_the_owners_only(failing_night):
    db = failing_night["db"]
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700

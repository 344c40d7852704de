"""The nightly DAG's operational wiring: every task has a timeout, keeps its error for the alert,
checks the warehouse first and retries a lost connection soon; the DAG alerts on failure."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture(scope="module")
def dag(dbt_manifest):
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.retry_policy import RetryAction

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}
    assert RetryAction  # Airflow >= 3.3: per-exception retry policies
    return bag.dags["advocacy_nightly"]


def test_every_task_has_an_execution_timeout(dag):
    for t in dag.tasks:
        assert t.execution_timeout is not None, t.task_id
        assert dt.timedelta(minutes=1) <= t.execution_timeout <= dt.timedelta(hours=2), t.task_id


def test_every_task_checks_the_warehouse_and_keeps_its_error(dag):
    from advocacy import alerts, warehouse_guard

    for t in dag.tasks:
        assert t._pre_execute_hook is warehouse_guard.pre_execute, t.task_id
        assert alerts.remember_failure in t.on_failure_callback, t.task_id


def test_a_lost_warehouse_connection_is_retried_within_seconds(dag):
    import psycopg
    from airflow.sdk.definitions.retry_policy import RetryAction

    for t in dag.tasks:
        decision = t.retry_policy.evaluate(psycopg.OperationalError("server closed the connection"), 1, 3)
        assert decision.action == RetryAction.RETRY and decision.retry_delay <= dt.timedelta(seconds=30)
        other = t.retry_policy.evaluate(ValueError("bad data"), 1, 3)
        assert other.action == RetryAction.DEFAULT, t.task_id


def test_the_dag_alerts_on_failure(dag):
    callbacks = dag.on_failure_callback
    (callback,) = callbacks if isinstance(callbacks, list) else [callbacks]
    assert type(callback).__name__ == "NightFailureNotifier"

"""Ctrl-C or SIGTERM to ``advocacy nightly`` / ``demo`` stops the DAG run and every process
under it.

``airflow dags test`` runs in its own process group (session), so a terminal's Ctrl-C reaches
only this process, which forwards SIGTERM to the whole group: ``dags test`` and the task
processes it started (each task's supervisor and its child, dbt, ...). What is still alive
after ``GRACE`` seconds is killed. The interrupted DAG run is then marked failed in the local
Airflow database, so the UI does not show it running forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time

log = logging.getLogger(__name__)

GRACE = 10.0  # seconds between SIGTERM and SIGKILL to the group


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def run_stoppable(cmd: list[str], env: dict[str, str]) -> tuple[int, int | None]:
    """Run ``cmd`` in a new session; returns (exit code, the signal that stopped it or None)."""
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, umask=0o077)
    received: list[int] = []
    stopped_at: list[float] = []

    def forward(signum, frame):
        if not received:
            stopped_at.append(time.monotonic())
            _signal_group(proc.pid, signal.SIGTERM)
        received.append(signum)

    handlers = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if stopped_at and time.monotonic() - stopped_at[0] > GRACE:
                _signal_group(proc.pid, signal.SIGKILL)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    if received:
        # the group leader is gone; its task processes may not be: end them too
        _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(proc.pid, signal.SIGKILL)
        return 128 + received[0], received[0]
    return rc, None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_unfinished_runs(dag_id: str) -> int:
    """Mark this home's running DAG runs of ``dag_id`` (and their unfinished tasks) failed."""
    try:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import DagRunState, TaskInstanceState
        from sqlalchemy import select

        finished = {TaskInstanceState.SUCCESS, TaskInstanceState.FAILED, TaskInstanceState.SKIPPED,
                    TaskInstanceState.UPSTREAM_FAILED, TaskInstanceState.REMOVED}  # fmt: skip
        with create_session() as session:
            runs = session.scalars(
                select(DagRun).where(DagRun.dag_id == dag_id, DagRun.state == DagRunState.RUNNING)
            ).all()
            for dr in runs:
                tis = select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id, TaskInstance.run_id == dr.run_id
                )
                for ti in session.scalars(tis):
                    if ti.state not in finished:
                        ti.state = TaskInstanceState.FAILED
                dr.state = DagRunState.FAILED
            return len(runs)
    except Exception as exc:  # the stop itself succeeded; the bookkeeping is best effort
        log.warning("could not mark the interrupted DAG run failed: %s", exc)
        return 0

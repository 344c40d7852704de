"""Extract checkpoints in the warehouse: what a failed attempt of a platform extract completed,
so that an Airflow retry of the same DAG run resumes where it stopped instead of starting over.

A connector journals every completed API response into a
:class:`~advocacy.connectors.base.Checkpoint` (see there why replaying responses resumes
each listing from its last completed page without skipping or repeating a post). This
module keeps that journal in ``audit.extract_checkpoints``, one row per response, written
by the pipeline through the checkpoint's ``on_save`` callback: connectors never touch the
database.

A journal belongs to one source, interval, DAG run (``run_key``: the Airflow run id, so a
new run of the same day starts from fresh counters while a task retry resumes) and
extraction window, and is trusted for ``MAX_AGE`` at most (counters in it age). It is
cleared once the interval's files have landed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator

from advocacy.connectors.base import Checkpoint
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(hours=12)
DDL = """create table if not exists audit.extract_checkpoints (
    source text not null,
    interval_start date not null,
    run_key text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    request_key text not null,
    response jsonb not null,
    saved_at timestamptz not null default now(),
    primary key (source, interval_start, run_key, window_start, window_end, request_key))"""


def run_key() -> str:
    """The Airflow run id inside a task; ``manual`` elsewhere (CLI, tests)."""
    if "airflow.sdk" not in sys.modules:  # a task has it loaded; elsewhere do not pay the import
        return "manual"
    try:
        from airflow.sdk import get_current_context

        return str(get_current_context()["run_id"])
    except Exception:  # not inside a running task (or no Airflow): one key for every manual run
        return "manual"


@contextlib.contextmanager
def opened(
    target: WarehouseTarget,
    source: str,
    interval_start: dt.date,
    window: tuple[dt.datetime, dt.datetime],
    key: str | None = None,
    max_age: dt.timedelta = MAX_AGE,
) -> Iterator[Checkpoint]:
    """A :class:`Checkpoint` holding what earlier attempts of this run journaled, saving new
    responses as they complete (one autocommitted row each, so a crash keeps them)."""
    key = key or run_key()
    conn = target.connect(autocommit=True)
    try:
        conn.execute(DDL)
        ident = (source, interval_start, key, window[0], window[1])
        rows = conn.execute(
            "select request_key, response from audit.extract_checkpoints where source = %s"
            " and interval_start = %s and run_key = %s and window_start = %s and window_end = %s"
            " and saved_at > now() - %s",
            (*ident, max_age),
        ).fetchall()
        entries = {r[0]: r[1] for r in rows}
        if entries:
            log.info("%s %s: resuming from a checkpoint of %s responses (run %s)", source, interval_start,
                     len(entries), key)  # fmt: skip

        def save(request_key: str, entry: dict) -> None:
            conn.execute(
                "insert into audit.extract_checkpoints (source, interval_start, run_key, window_start,"
                " window_end, request_key, response) values (%s, %s, %s, %s, %s, %s, %s)"
                " on conflict (source, interval_start, run_key, window_start, window_end, request_key)"
                " do update set response = excluded.response, saved_at = now()",
                (*ident, request_key, json.dumps(entry)),
            )

        yield Checkpoint(entries, on_save=save)
    finally:
        conn.close()


def clear(target: WarehouseTarget, source: str, interval_start: dt.date) -> int:
    """Forget every journal of the source's interval (its files have landed); rows deleted."""
    with target.connect(autocommit=True) as conn:
        conn.execute(DDL)
        cur = conn.execute(
            "delete from audit.extract_checkpoints where source = %s and interval_start = %s",
            (source, interval_start),
        )
        return cur.rowcount

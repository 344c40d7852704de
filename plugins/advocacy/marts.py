"""Write, audit, publish for the marts: BI reads only marts that passed the gate.

A night's ``dbt build`` writes the marts into ``marts_build`` (dbt var ``marts_schema``,
see ``dbt_project/macros/generate_schema_name.sql``), a schema ``bi_reader`` cannot
enter. The gate (``advocacy.quality``) validates them there. Only a night that passed
replaces what BI reads (``marts``), with ``publish``:

1. every built table is copied into ``marts_next`` (no lock on ``marts``: BI keeps
   reading yesterday's tables meanwhile); ``marts_build`` stays as dbt left it, so its
   incremental models keep their state;
2. one transaction takes every lock first (``lock table ... in access exclusive mode``,
   under ``lock_timeout``), drops each published table, moves its copy from
   ``marts_next`` into ``marts``, grants ``select`` to ``bi_reader`` and records the
   night whose marts BI now reads in ``audit.marts_state``. A reader's statement sees
   the old tables or the new ones, never a mix, never an empty table. A long BI query
   holding a table makes the lock wait time out (or PostgreSQL's deadlock check end
   the wait): the transaction rolls back untouched and is retried after a pause, so BI
   is never blocked for more than ``lock_timeout`` and the swap never deadlocks.

A night that did not pass (dbt failed, the gate refused, the locks never came) leaves
``marts`` as they were and records ``held_back`` in ``audit.marts_nights``;
``advocacy.night.for_night`` reports it with ``marts_as_of``, the night BI still shows.
A rerun of an earlier night than the one BI shows rebuilds that night (raw, staging,
``marts_build``) but never publishes it: BI does not go back in time; the next night
publishes marts that include the rerun's corrections.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from advocacy.warehouse import BI_ROLE, WarehouseTarget

log = logging.getLogger(__name__)

PUBLISHED = "marts"  # what BI reads
BUILD = "marts_build"  # where a night's dbt build writes the marts; the gate validates here
NEXT = "marts_next"  # copies of the build, moved into ``marts`` by the swap
#: dbt vars of a night's build (the DAG adds them to the settings' vars)
BUILD_VARS = {"marts_schema": BUILD}

LOCK_TIMEOUT = "3s"  # longest a BI query waits behind the swap (and the swap behind it)
ATTEMPTS = 20
PAUSE = 5.0  # seconds between attempts: about two minutes of retries in all

# dbt's work relations of an interrupted build: never published
_DBT_WORK_SUFFIXES = ("__dbt_tmp", "__dbt_backup")

DDL = (
    # the night whose marts BI reads: one row, written in the swap's transaction
    """create table if not exists audit.marts_state (
        singleton boolean primary key default true check (singleton),
        as_of date not null,
        run_id text,
        tables integer,
        published_at timestamptz not null default now())""",
    # per night: did its marts reach BI ('current') or not ('held_back'), and why
    """create table if not exists audit.marts_nights (
        interval_start date primary key,
        marts text not null check (marts in ('current', 'held_back')),
        marts_as_of date,
        run_id text,
        message text,
        recorded_at timestamptz not null default now())""",
)


class MartsNotPublished(RuntimeError):
    """The swap could not take its locks; BI still reads the previous marts."""


@dataclass(frozen=True)
class Published:
    as_of: dt.date
    marts: str  # "current" | "held_back"
    marts_as_of: dt.date | None
    tables: tuple[str, ...] = ()
    message: str | None = None

    def to_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "marts": self.marts,
            "marts_as_of": self.marts_as_of.isoformat() if self.marts_as_of else None,
            "tables": list(self.tables),
            "message": self.message,
        }


def ensure(conn) -> None:
    """The build and staging schemas (no grant to ``bi_reader``) and the audit tables."""
    from psycopg import sql

    for schema in (BUILD, NEXT, "audit"):
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    for ddl in DDL:
        conn.execute(ddl)


def published_as_of(conn) -> dt.date | None:
    """The night whose marts BI reads (None before the first published night)."""
    if conn.execute("select to_regclass('audit.marts_state') is null").fetchone()[0]:
        return None
    row = conn.execute("select as_of from audit.marts_state").fetchone()
    return row[0] if row else None


def night_state(conn, day: dt.date) -> tuple[str, dt.date | None, str | None]:
    """``(marts, marts_as_of, message)`` of a night, for ``advocacy.night.for_night``.

    A night with nothing recorded (not run yet, or run before this bookkeeping) is
    "current" when BI reads its marts or no later night's; else "held_back".
    """
    shown = published_as_of(conn)
    if conn.execute("select to_regclass('audit.marts_nights') is not null").fetchone()[0]:
        row = conn.execute(
            "select marts, marts_as_of, message from audit.marts_nights where interval_start = %s", (day,)
        ).fetchone()
        if row:
            # the night BI reads now: a later night may have been published since
            return row[0], shown or row[1], row[2]
    if shown is None or shown <= day:
        return "current", shown, None
    return "held_back", shown, None


def _record_night(conn, day, marts, marts_as_of, run_id, message) -> None:
    conn.execute(
        "insert into audit.marts_nights (interval_start, marts, marts_as_of, run_id, message)"
        " values (%s, %s, %s, %s, %s) on conflict (interval_start) do update set"
        " marts = excluded.marts, marts_as_of = excluded.marts_as_of, run_id = excluded.run_id,"
        " message = excluded.message, recorded_at = now()",
        (day, marts, marts_as_of, run_id, message),
    )


def hold_back(
    target: WarehouseTarget, day: dt.date, run_id: str | None, message: str, *, keep_reason: bool = False
) -> Published:
    """Record that this night's marts do not reach BI; ``marts`` stay as they are.

    ``keep_reason``: keep a reason this same run recorded before (the gate's failures are
    more telling than "validation did not pass").
    """
    with target.connect(autocommit=True) as conn:
        ensure(conn)
        shown = published_as_of(conn)
        if keep_reason:
            row = conn.execute(
                "select message from audit.marts_nights where interval_start = %s and run_id is not"
                " distinct from %s and marts = 'held_back'",
                (day, run_id),
            ).fetchone()
            if row:
                return Published(day, "held_back", shown, message=row[0])
        _record_night(conn, day, "held_back", shown, run_id, message)
    where = f"the marts of {shown}" if shown else "no marts yet (no night has passed)"
    log.warning("marts of %s held back, BI keeps %s: %s", day, where, message)
    return Published(day, "held_back", shown, message=message)


def build_tables(conn) -> list[str]:
    """The tables dbt built into ``marts_build`` (its work relations left out), sorted."""
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p') order by c.relname",
        (BUILD,),
    ).fetchall()
    return [r[0] for r in rows if not r[0].endswith(_DBT_WORK_SUFFIXES)]


def _stage(conn, tables: list[str]) -> None:
    """Copy each built table into ``marts_next`` with its columns, indexes and comments."""
    from psycopg import sql

    for t in tables:
        nxt, built = sql.Identifier(NEXT, t), sql.Identifier(BUILD, t)
        conn.execute(sql.SQL("drop table if exists {}").format(nxt))
        conn.execute(sql.SQL("create table {} (like {} including all)").format(nxt, built))
        conn.execute(sql.SQL("insert into {} select * from {}").format(nxt, built))
        comment = conn.execute(
            "select obj_description(%s::regclass, 'pg_class')", (f'"{BUILD}"."{t}"',)
        ).fetchone()[0]
        if comment:
            conn.execute(sql.SQL("comment on table {} is {}").format(nxt, sql.Literal(comment)))


def _swap(conn, tables: list[str], as_of: dt.date, run_id: str | None, lock_timeout: str) -> None:
    """One transaction: every lock first, then drop/move/grant and record the published night."""
    from psycopg import sql

    with conn.transaction():
        conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(lock_timeout)))
        present = {
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = %s and c.relname = any(%s)",
                (PUBLISHED, tables),
            )
        }
        # the same order every time, published tables first: what BI holds is waited for first
        locked = [sql.Identifier(PUBLISHED, t) for t in tables if t in present]
        locked += [sql.Identifier(NEXT, t) for t in tables]
        conn.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(locked)))
        for t in tables:
            if t in present:
                conn.execute(sql.SQL("drop table {}").format(sql.Identifier(PUBLISHED, t)))
            conn.execute(
                sql.SQL("alter table {} set schema {}").format(
                    sql.Identifier(NEXT, t), sql.Identifier(PUBLISHED)
                )
            )
            conn.execute(
                sql.SQL("grant select on {} to {}").format(
                    sql.Identifier(PUBLISHED, t), sql.Identifier(BI_ROLE)
                )
            )
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(
                sql.Identifier(PUBLISHED), sql.Identifier(BI_ROLE)
            )
        )
        conn.execute(
            "insert into audit.marts_state (singleton, as_of, run_id, tables) values (true, %s, %s, %s)"
            " on conflict (singleton) do update set as_of = excluded.as_of, run_id = excluded.run_id,"
            " tables = excluded.tables, published_at = now()",
            (as_of, run_id, len(tables)),
        )
        _record_night(conn, as_of, "current", as_of, run_id, None)


def publish(
    target: WarehouseTarget,
    as_of: dt.date,
    run_id: str | None = None,
    *,
    lock_timeout: str = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
    pause: float = PAUSE,
) -> Published:
    """Make the validated ``marts_build`` what BI reads (see the module docstring).

    A night earlier than the one BI reads is not published (``held_back``, saying why).
    Raises ``MartsNotPublished`` (after recording ``held_back``) when the locks could not
    be had in ``attempts`` tries.
    """
    import psycopg

    with target.connect(autocommit=True) as conn:
        ensure(conn)
        shown = published_as_of(conn)
        if shown is not None and as_of < shown:
            message = (
                f"a rerun of {as_of}: BI keeps the marts of the later night {shown}; "
                f"the next night's marts include this rerun's data"
            )
            _record_night(conn, as_of, "held_back", shown, run_id, message)
            log.info("marts of %s not published: %s", as_of, message)
            return Published(as_of, "held_back", shown, message=message)
        tables = build_tables(conn)
        if not tables:
            raise MartsNotPublished(f"{BUILD} holds no table: has dbt built the marts of {as_of}?")
        started = time.perf_counter()
        _stage(conn, tables)
        staged = time.perf_counter() - started
        for attempt in range(1, attempts + 1):
            try:
                _swap(conn, tables, as_of, run_id, lock_timeout)
                break
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
                log.warning(
                    "marts swap attempt %s/%s: a reader holds a mart (%s); retrying in %.0f s",
                    attempt,
                    attempts,
                    str(exc).splitlines()[0],
                    pause,
                )
                if attempt < attempts:
                    time.sleep(pause)
            except psycopg.errors.DependentObjectsStillExist as exc:
                # e.g. a BI view built on a mart: replacing the table would drop it
                detail = (exc.diag.message_detail or str(exc)).splitlines()[0]
                message = (
                    f"a mart cannot be replaced: {detail}. Drop what is built on the marts (a BI"
                    f" tool's own views), then clear publish_marts; BI keeps the marts of {shown}"
                )
                _record_night(conn, as_of, "held_back", shown, run_id, message)
                raise MartsNotPublished(message) from exc
        else:
            message = (
                f"BI queries held the marts through {attempts} attempts ({lock_timeout} lock wait each);"
                f" BI keeps the marts of {shown}. Clear the publish_marts task to retry."
            )
            _record_night(conn, as_of, "held_back", shown, run_id, message)
            raise MartsNotPublished(message)
    log.info(
        "marts of %s published: %s tables (copied in %.1f s, swapped in one transaction)",
        as_of,
        len(tables),
        staged,
    )
    return Published(as_of, "current", as_of, tuple(tables))

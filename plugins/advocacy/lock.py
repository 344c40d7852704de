"""One night at a time: a run refused at once while another holds the home or the warehouse.

Two locks, both released by the operating system or the server when their holder dies, so a
crashed run never leaves a stale lock behind:

* the **home** lock, ``$ADVOCACY_HOME/run.lock`` held with ``flock``: two runs sharing a home
  would share the local Airflow database (SQLite) and the embedded warehouse's start-up;
* the **warehouse** lock, a PostgreSQL session advisory lock held on one connection for the
  whole run: two homes (or two machines) building the same warehouse would race in dbt.
  The holder's details sit in ``audit.run_lock`` for the refusal message.

The one refused gets ``AlreadyRunning`` with the holder: "already running since <time>,
pid <pid> on <host> (night <day>)".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from advocacy.settings import advocacy_home
from advocacy.warehouse import WarehouseTarget

# pg_advisory_lock's bigint key: one lock per warehouse database, whatever the night
LOCK_KEY = 0x61647663  # "advc"
LOCK_DDL = """create table if not exists audit.run_lock (
    id int primary key default 1 check (id = 1),
    night date, pid int, host text, command text, since timestamptz)"""


class AlreadyRunning(RuntimeError):
    pass


def _holder(night: dt.date, command: str) -> dict:
    return {
        "night": night.isoformat(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def _say(h: dict, where: str) -> str:
    since = str(h.get("since") or "?").replace("T", " ").replace("+00:00", " UTC")
    return (
        f"{h.get('command') or 'a run'} is already running since {since}, pid {h.get('pid', '?')}"
        f" on {h.get('host', '?')} (night {h.get('night', '?')}, same {where}); wait for it to end,"
        f" or stop it (Ctrl-C or `kill {h.get('pid', '<pid>')}`)"
    )


@contextlib.contextmanager
def home_lock(night: dt.date, command: str, home: Path | None = None) -> Iterator[None]:
    path = (home or advocacy_home()) / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            except ValueError:
                holder = {}
            raise AlreadyRunning(_say(holder, f"home {path.parent}")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder(night, command)).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def warehouse_lock(target: WarehouseTarget, night: dt.date, command: str) -> Iterator[None]:
    conn = target.connect(autocommit=True)
    try:
        if not conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            row = None
            with contextlib.suppress(Exception):
                row = conn.execute("select night, pid, host, command, since from audit.run_lock").fetchone()
            holder = dict(zip(("night", "pid", "host", "command", "since"), row or (), strict=False))
            if holder.get("since"):
                holder["since"] = holder["since"].astimezone(dt.UTC).replace(microsecond=0).isoformat()
            raise AlreadyRunning(_say(holder, f"warehouse {target.masked_url}"))
        h = _holder(night, command)
        conn.execute("create schema if not exists audit")
        conn.execute(LOCK_DDL)
        conn.execute(
            "insert into audit.run_lock (id, night, pid, host, command, since) values (1, %s, %s, %s, %s, %s)"
            " on conflict (id) do update set night = excluded.night, pid = excluded.pid,"
            " host = excluded.host, command = excluded.command, since = excluded.since",
            (h["night"], h["pid"], h["host"], h["command"], h["since"]),
        )
        yield
    finally:
        # closing the session releases the advisory lock (also if this process is killed)
        conn.close()


@contextlib.contextmanager
def night_lock(target: WarehouseTarget, night: dt.date, command: str) -> Iterator[None]:
    """Both locks for the run of ``night`` by ``command``, or ``AlreadyRunning`` at once."""
    with home_lock(night, command), warehouse_lock(target, night, command):
        yield

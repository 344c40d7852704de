"""A failed or late night reaches a person: e-mail (SMTP provider) and an optional webhook.

Wiring (``orchestration.DEFAULT_ARGS`` and the DAG file):

* every task's ``on_failure_callback`` is ``remember_failure``: it writes the task's error
  (one line per cause, secrets masked) to ``audit.task_failures`` in the warehouse, because a
  DAG-level callback is not handed the exception;
* the DAG's ``on_failure_callback`` is a ``NightFailureNotifier`` (an Airflow notifier): it
  composes one message naming the night, the failed task(s) and the reasons (their errors;
  the night's refused or failed sources from ``audit.source_runs``; the failed expectations
  of the run from ``audit.validation_runs``; an unreachable warehouse) with a link to each
  failed task's log, and sends it through ``SmtpNotifier`` to ``alerts.email`` over the
  Airflow connection ``alerts.smtp_connection_id``, and as JSON ``{"text": ...}`` to the
  connection ``alerts.webhook_connection_id`` when set (a Slack incoming webhook accepts
  this body; the Slack provider's notifier is used instead when it is installed and the
  connection's type is ``slackwebhook``);
* ``alerts.deadline`` (HH:MM, programme time zone) becomes an Airflow deadline alert
  (``DeadlineAlert``, Airflow >= 3.1): if a run has not finished by then, the triggerer calls
  ``report_late``, which alerts unless the night's report is already published.

A notification that cannot be delivered is logged, never raised: the run's own state stays
what the tasks made it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
import os
import re
from dataclasses import dataclass, field

from advocacy.settings import AlertSettings, Settings, load_settings

log = logging.getLogger(__name__)

DEFAULT_FROM = "advocacy-pipeline@localhost"
MAX_MESSAGE = 600  # characters kept of one error in the audit table and the alert

FAILURES_DDL = """create table if not exists audit.task_failures (
    run_id text not null,
    task_id text not null,
    try_number int not null,
    interval_start date,
    message text not null,
    failed_at timestamptz not null default now(),
    primary key (run_id, task_id, try_number))"""

_SECRET_IN_URL = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")
_SECRET_PARAM = re.compile(r"(?i)((?:password|passwd|secret|token|access_token|api_key)=)[^&\s]+")


def mask(text: str) -> str:
    """Credentials a library may have put in an error (URL passwords, token parameters), masked."""
    return _SECRET_PARAM.sub(r"\1***", _SECRET_IN_URL.sub(r"\1***@", text))


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    text = " | ".join(line.strip() for line in str(text).splitlines() if line.strip())
    return mask(text if len(text) <= limit else text[: limit - 1] + "…")


def _night(context) -> dt.date | None:
    """The interval day a run is for (``ds``; else the run's data interval or logical date)."""
    if context.get("ds"):
        return dt.date.fromisoformat(str(context["ds"])[:10])
    for attr in ("data_interval_start", "logical_date", "run_after"):
        value = _run_field(context, attr)
        if value:
            return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])
    run_id = _run_id(context)
    m = re.search(r"(\d{4}-\d{2}-\d{2})", run_id)
    return dt.date.fromisoformat(m.group(1)) if m else None


def _run_field(context, name: str):
    """A field of the context's dag run: an object (callbacks) or a dict (deadline callbacks)."""
    dag_run = context.get("dag_run")
    return dag_run.get(name) if isinstance(dag_run, dict) else getattr(dag_run, name, None)


def _run_id(context) -> str:
    return str(
        context.get("run_id") or _run_field(context, "run_id") or _run_field(context, "dag_run_id") or ""
    )


def _target():
    from advocacy import warehouse

    return warehouse.resolve()


# ---------------------------------------------------------------------------------------------
# task level: keep the error for the DAG-level message


def remember_failure(context) -> None:
    """``on_failure_callback`` of every task: store its error where the night's alert finds it."""
    ti = context.get("ti")
    exc = context.get("exception")
    if ti is None:
        return
    message = one_line(f"{type(exc).__name__}: {exc}" if exc is not None else "failed (no error recorded)")
    try:
        target = _target()
        with target.connect(connect_timeout=5) as conn:
            conn.execute("create schema if not exists audit")
            conn.execute(FAILURES_DDL)
            conn.execute(
                "insert into audit.task_failures (run_id, task_id, try_number, interval_start, message)"
                " values (%s, %s, %s, %s, %s) on conflict (run_id, task_id, try_number)"
                " do update set message = excluded.message, failed_at = now()",
                (
                    context.get("run_id") or ti.run_id,
                    ti.task_id,
                    ti.try_number or 1,
                    _night(context),
                    message,
                ),
            )
    except Exception as store_exc:  # the warehouse may be the thing that is down
        log.warning(
            "could not record the failure of %s in the warehouse: %s", ti.task_id, one_line(store_exc)
        )


# ---------------------------------------------------------------------------------------------
# the message


@dataclass
class NightAlert:
    night: dt.date | None
    subject: str
    lines: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # label -> URL

    @property
    def text(self) -> str:
        out = [self.subject, "", *self.lines]
        if self.links:
            out += ["", "Logs:", *(f"  {label}: {url}" for label, url in self.links.items())]
        return "\n".join(out)

    @property
    def html(self) -> str:
        items = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>" for line in self.lines if line)
        links = "".join(
            f'<li><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></li>'
            for label, url in self.links.items()
        )
        return f"<h3>{html.escape(self.subject)}</h3><ul>{items}</ul>" + (
            f"<p>Logs:</p><ul>{links}</ul>" if links else ""
        )


def log_url(dag_id: str, run_id: str, task_id: str, try_number: int | None = None) -> str:
    """The task's log in Airflow's UI (``[api] base_url``; ``advocacy ui`` serves it locally)."""
    from urllib.parse import quote

    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="http://localhost:8080/")
    except Exception:
        base = "http://localhost:8080/"
    url = f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"
    return f"{url}?try_number={try_number}" if try_number else url


def compose_failure(
    context, settings: Settings | None = None, target=None, reason: str | None = None
) -> NightAlert:
    """The alert of a failed run: night, failed tasks, reasons read from the warehouse, log links."""
    settings = settings or load_settings()
    night = _night(context)
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or context.get("dag_id") or "advocacy_nightly"
    run_id = _run_id(context)
    ti = context.get("ti")
    failed: dict[str, str | None] = {}  # task id -> its error
    if ti is not None:
        failed[ti.task_id] = None
    lines: list[str] = []
    try:
        target = target or _target()
        with target.connect(connect_timeout=10) as conn:
            failed.update(_task_errors(conn, run_id))
            if night:
                lines += _source_lines(conn, night)
            lines += _expectation_lines(conn, run_id)
    except Exception as exc:
        lines.append(f"- the warehouse did not answer: {one_line(exc, 300)}")
    task_lines = [f"- task {t} failed" + (f": {msg}" if msg else "") for t, msg in failed.items()]
    if not failed:
        task_lines = [f"- the run failed ({reason or context.get('reason') or 'no task named'})"]
    what = ", ".join(failed) or "the run"
    subject = f"[advocacy] {settings.name}: night {night or '?'} FAILED ({what})"
    head = [
        f"The nightly run {run_id} of {dag_id} for {night or '?'} failed; no report was published for it.",
        "BI still reads the last validated marts.",
        "",
    ]
    links = {t: log_url(dag_id, run_id, t) for t in failed}
    if night and run_id:  # the failed run's dbt results and Data Docs, where they were published
        try:
            from advocacy import artifacts

            folder = f"{settings.publish_path.rstrip('/')}/{night.isoformat()}"
            found = artifacts.links(settings.publish_path, night, run_id)
            links.update({label: f"{folder}/{href}" for label, href in found.items()})
        except Exception as exc:
            log.warning("the run's artifacts could not be listed: %s", one_line(exc))
    return NightAlert(night, subject, head + task_lines + lines, links)


def _task_errors(conn, run_id: str) -> dict[str, str]:
    if not conn.execute("select to_regclass('audit.task_failures') is not null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select distinct on (task_id) task_id, message from audit.task_failures where run_id = %s"
        " order by task_id, try_number desc",
        (run_id,),
    ).fetchall()
    return dict(rows)


def _source_lines(conn, night: dt.date) -> list[str]:
    from advocacy import night as night_mod

    lines = []
    for s in night_mod.for_night(conn, night).sources:
        if s.outcome == "ok":
            continue
        what = {"failed": "nothing landed", "refused": "file refused", "partial": "partly landed"}[s.outcome]
        detail = f": {one_line(s.message, 300)}" if s.message else ""
        lines.append(f"- source {s.source}: {what}{detail}")
        lines += [f"    · {one_line(r, 200)}" for r in s.reasons]
    return lines


def _expectation_lines(conn, run_id: str) -> list[str]:
    if not conn.execute("select to_regclass('audit.validation_runs') is not null").fetchone()[0]:
        return []
    rows = conn.execute(
        "select table_name, failed_expectations from audit.validation_runs"
        " where run_id = %s and not success order by table_name",
        (run_id,),
    ).fetchall()
    lines = []
    for table, failures in rows:
        failures = failures if isinstance(failures, list) else json.loads(failures or "[]")
        lines += [f"- expectation failed on {table}: {one_line(f, 300)}" for f in failures] or [
            f"- validation failed on {table}"
        ]
    return lines


# ---------------------------------------------------------------------------------------------
# delivery


def send(alert: NightAlert, alerts: AlertSettings, context=None) -> list[str]:
    """Deliver ``alert`` to every configured channel; returns the channels that took it."""
    delivered = []
    if alerts.email:
        try:
            _send_email(alert, alerts, context or {})
            delivered.append("email")
        except Exception as exc:
            log.error("alert e-mail via connection '%s' failed: %s", alerts.smtp_connection_id, one_line(exc))
    if alerts.webhook_connection_id:
        try:
            _send_webhook(alert, alerts.webhook_connection_id, context or {})
            delivered.append("webhook")
        except Exception as exc:
            log.error("alert webhook '%s' failed: %s", alerts.webhook_connection_id, one_line(exc))
    if not delivered:
        log.error("no alert channel delivered (alerts.email / alerts.webhook_connection_id):\n%s", alert.text)
    return delivered


def _connection(conn_id: str):
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def _send_email(alert: NightAlert, alerts: AlertSettings, context) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    sender = _connection(alerts.smtp_connection_id).extra_dejson.get("from_email") or DEFAULT_FROM
    SmtpNotifier(
        to=list(alerts.email),
        from_email=sender,
        subject=alert.subject,
        html_content=alert.html,
        smtp_conn_id=alerts.smtp_connection_id,
    ).notify(context)


def _send_webhook(alert: NightAlert, conn_id: str, context) -> None:
    conn = _connection(conn_id)
    if conn.conn_type == "slackwebhook":
        try:
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
        except ImportError:
            pass  # no Slack provider: the plain JSON post below is what Slack accepts too
        else:
            SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=alert.text).notify(context)
            return
    import requests

    url = conn.extra_dejson.get("url") or _http_url(conn)
    resp = requests.post(url, json={"text": alert.text, "subject": alert.subject}, timeout=15)
    resp.raise_for_status()


def _http_url(conn) -> str:
    host = conn.host or ""
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else "https"
        host = f"{scheme}://{host}"
    if conn.port:
        host = f"{host}:{conn.port}"
    return host


class NightFailureNotifier:
    """The DAG's ``on_failure_callback``: compose the night's alert and send it.

    A notifier in Airflow's sense (``BaseNotifier``: called with the run's context); the
    settings are read when it fires, so a changed recipient list needs no DAG re-parse.
    """

    def __new__(cls, *args, **kwargs):  # built on BaseNotifier lazily: DAG parsing stays light
        return _notifier_class()(*args, **kwargs)


_NOTIFIER = None


def _notifier_class():
    global _NOTIFIER
    if _NOTIFIER is None:
        from airflow.sdk import BaseNotifier

        class _NightFailureNotifier(BaseNotifier):
            template_fields = ()

            def __call__(self, *args, **kwargs):
                # Nothing to render (no template fields), and ``dag.test`` hands the callback
                # a serialized DAG that cannot render: straight to ``notify``.
                context = args[0] if args else kwargs.get("context", {})
                try:
                    self.notify(context)
                except Exception:
                    log.exception("the night failure alert could not be composed or sent")

            def notify(self, context):
                settings = load_settings()
                alert = compose_failure(context, settings)
                channels = send(alert, settings.alerts, context)
                log.info("night failure alert sent via %s: %s", channels or "nothing", alert.subject)

        _NightFailureNotifier.__name__ = "NightFailureNotifier"
        _NOTIFIER = _NightFailureNotifier
    return _NOTIFIER


# ---------------------------------------------------------------------------------------------
# deadline


def deadline_delta(settings: Settings, schedule_hour_utc: int = 3) -> dt.timedelta | None:
    """From a run's logical date (its interval start, ``schedule_hour_utc``) to the deadline.

    The report of night D is due on D + 1 at ``alerts.deadline`` in the programme's time zone
    (D + 2 when that hour comes before the schedule's, e.g. a 02:00 deadline for a 03:00 run).
    """
    if not settings.alerts.deadline:
        return None
    hh, mm = (int(x) for x in settings.alerts.deadline.split(":"))
    today = dt.date.today()
    start = dt.datetime.combine(today, dt.time(schedule_hour_utc), dt.UTC)
    due = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hh, mm), settings.tz)
    if due - start <= dt.timedelta(days=1):
        due += dt.timedelta(days=1)
    return due - start


#: Set by ``advocacy demo`` / ``nightly`` for their ``airflow dags test`` run: no scheduler
#: evaluates deadlines there, and Airflow 3.3.2's ``dag.test()`` crashes when a run of a DAG
#: with a deadline alert succeeds (``DeadlineAlertModel.get_by_id`` handed the serialized
#: alert instead of its id), so the DAG is parsed without one.
NO_DEADLINE_ENV = "ADVOCACY_DAG_TEST"


def deadline_alert(settings: Settings):
    """The DAG's ``deadline=``: Airflow's DeadlineAlert calling ``report_late``, or None."""
    delta = deadline_delta(settings)
    if delta is None or os.environ.get(NO_DEADLINE_ENV):
        return None
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=delta,
        callback=AsyncCallback(report_late, kwargs={"deadline": settings.alerts.deadline}),
    )


def report_published(settings: Settings, night: dt.date) -> bool:
    import fsspec

    fs, p = fsspec.core.url_to_fs(f"{settings.publish_path.rstrip('/')}/{night.isoformat()}/index.html")
    return fs.exists(p)


def compose_late(settings: Settings, night: dt.date | None, deadline: str, run_id: str = "") -> NightAlert:
    subject = f"[advocacy] {settings.name}: night {night or '?'} LATE (no report by {deadline})"
    lines = [
        f"The report of night {night or '?'} was not published by {deadline} ({settings.timezone}).",
        f"The run {run_id or '(unknown)'} is still going or stopped;"
        " BI still reads the last validated marts.",
    ]
    links = {"run": log_url("advocacy_nightly", run_id, "").rsplit("/tasks/", 1)[0]} if run_id else {}
    return NightAlert(night, subject, lines, links)


def check_late(context, deadline: str) -> NightAlert | None:
    """The late alert for the run in ``context``, or None when its report is published."""
    settings = load_settings()
    night = _night(context)
    if night and report_published(settings, night):
        return None
    return compose_late(settings, night, deadline, _run_id(context))


async def report_late(context=None, deadline: str = "", **kwargs) -> None:
    """Deadline callback (runs on the triggerer): alert if the night's report is not published."""

    def _run():
        alert = check_late(context or {}, deadline)
        if alert is not None:
            send(alert, load_settings().alerts, context or {})

    await asyncio.to_thread(_run)

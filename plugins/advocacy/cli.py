"""``advocacy`` command line: each command is a thin call into the package.

advocacy demo [--date D]        tonight's pipeline against the sandbox, on the
                                embedded warehouse, through Airflow; prints the report path
advocacy nightly [--date D]     the same DAG against the configured platforms
advocacy sandbox serve          the platform sandbox on loopback
advocacy warehouse url|start    the warehouse in use (password masked)
advocacy replay --from D --to D rebuild raw from the landing files alone
advocacy report --date D        rebuild and publish the report for a past day
advocacy bench [--size small|large|N] [--out F.json]  time and measure every stage at a size
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from advocacy.settings import DEMO_SETTINGS, SETTINGS_ENV, advocacy_home, load_settings

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
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "true",
    }
    for k, v in env.items():
        os.environ.setdefault(k, v)
    return {k: os.environ[k] for k in env}


def _airflow(*args: str, check: bool = True) -> int:
    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(exe), *args], check=check, env=os.environ.copy()).returncode


def ensure_airflow_db() -> None:
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".migrated"
    if not marker.exists():
        _step("initialising the local Airflow metadata database (first run only)")
        _airflow("db", "migrate")
        marker.touch()


def ensure_dbt_manifest(dbt_vars: dict | None = None) -> None:
    """Cosmos renders the DAG from dbt's manifest: parse the project when it or the settings changed.

    The settings decide which platforms' models are enabled, so the manifest is parsed
    with their vars and stamped with them (``orchestration.manifest_matches``).
    """
    from advocacy.orchestration import DBT_PROJECT, MANIFEST, MANIFEST_VARS, manifest_matches, parse_vars

    dbt_vars = load_settings().dbt_vars() if dbt_vars is None else dbt_vars
    sources = [p for p in DBT_PROJECT.rglob("*") if p.suffix in (".sql", ".yml", ".csv")]
    sources = [p for p in sources if "target" not in p.parts and "dbt_packages" not in p.parts]
    if manifest_matches(dbt_vars) and all(p.stat().st_mtime <= MANIFEST.stat().st_mtime for p in sources):
        return
    _step("parsing the dbt project (manifest for Cosmos)")
    exe = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(exe), "parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--quiet", "--vars", parse_vars(dbt_vars)],
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )  # fmt: skip
    MANIFEST_VARS.write_text(parse_vars(dbt_vars))


def use_warehouse():
    from advocacy import warehouse

    target = warehouse.resolve()
    warehouse.ensure_schemas(target)
    warehouse.export_env(target)
    if target.origin != "connection":
        # the tasks' dbt profile reads the Airflow connection: it must name the warehouse just
        # resolved, not one an earlier call in this process left behind
        os.environ[f"AIRFLOW_CONN_{warehouse.CONN_ID.upper()}"] = warehouse.airflow_connection_json(target)
    _step(f"warehouse: {target.masked_url} ({target.origin})")
    return target


def run_dag(day: dt.date) -> int:
    """Run one DAG run for ``day`` with real Airflow (``airflow dags test``)."""
    airflow_env()
    ensure_airflow_db()
    from advocacy.pools import ensure_pools

    ensure_pools()  # each platform's pool, as the settings size it (a scheduler on this home obeys them)
    ensure_dbt_manifest()
    _step(f"running DAG {DAG_ID} for {day} (Airflow task logs follow)")
    return _airflow("dags", "test", DAG_ID, day.isoformat(), check=False)


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
    use_warehouse()
    started = time.perf_counter()
    with running_sandbox(seed=args.seed, now=now, roster_path=settings.roster_path) as sandbox:
        _step(f"sandbox: {sandbox.url} (seed {args.seed}, clock {now.isoformat()})")
        write_demo_files(sandbox.company, settings, now)
        os.environ.update(airflow_connections(sandbox))
        rc = run_dag(day)
    if rc != 0:
        _step(f"the DAG run failed (exit {rc}); see the task logs above")
        return rc
    _step(f"done in {time.perf_counter() - started:.0f}s")
    print(report_path(day))
    return 0


def cmd_nightly(args) -> int:
    use_warehouse()
    day = args.date or _yesterday()
    rc = run_dag(day)
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
    return utm.main_utm(args, inputs.read_roster(settings.roster_path))


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

    from advocacy import utm

    u = utm.add_arguments(sub.add_parser("utm", help="tracked links for advocates (one, or --all as CSV)"))
    u.set_defaults(func=cmd_utm, medium=None)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

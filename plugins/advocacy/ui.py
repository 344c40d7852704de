"""``advocacy ui``: Airflow's own UI on the local setup, without the Docker stack.

It serves the Airflow home that ``advocacy demo`` / ``nightly`` use (``$ADVOCACY_HOME/airflow``:
the same SQLite metadata database, so every past run and its task logs are there) with this
project's DAG, through Airflow 3's ``api-server`` and its simple auth manager: one user,
``admin``, whose password is generated once and kept owner-only in the Airflow home
(``ui_passwords.json``). It listens on loopback only. Ctrl-C stops it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
from pathlib import Path

USER = "admin"
PASSWORDS_FILE = "ui_passwords.json"
JWT_SECRET_FILE = "ui_jwt_secret"  # noqa: S105 (a file name, not a secret)


def _private_file(path: Path, make) -> str:
    """The content of ``path``, created owner-only with ``make()`` the first time."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    path.chmod(0o600)
    return path.read_text()


def credentials(home: Path) -> tuple[str, str]:
    """The UI login (user, password): generated on first use, kept in the Airflow home."""
    raw = _private_file(home / PASSWORDS_FILE, lambda: json.dumps({USER: secrets.token_urlsafe(12)}))
    return USER, json.loads(raw)[USER]


def ui_env(home: Path, host: str, port: int) -> dict[str, str]:
    """Airflow settings of the UI process (the simple auth manager, one worker, this address)."""
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        # signed sessions survive a restart of the UI; the secret never leaves the home
        "AIRFLOW__API_AUTH__JWT_SECRET": _private_file(home / JWT_SECRET_FILE, lambda: secrets.token_hex(32)),
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}",
    }


def main_ui(args) -> int:
    from advocacy import cli, stop

    home = Path(cli.airflow_env()["AIRFLOW_HOME"])
    cli.ensure_airflow_db()
    os.environ.update(ui_env(home, args.host, args.port))
    user, password = credentials(home)
    # the DAG parses with the same settings and warehouse as the runs it shows
    cli.use_warehouse()
    cli.ensure_dbt_manifest()
    cli._step("loading the DAG into the UI's database (airflow dags reserialize)")
    cli._airflow("dags", "reserialize", check=False)
    url = os.environ["AIRFLOW__API__BASE_URL"]
    print(f"Airflow UI: {url}  (login: {user} / {password}; Ctrl-C to stop)", flush=True)
    cli._step(f"Airflow home {home}: the DAG {cli.DAG_ID} and its past runs")
    threading.Thread(target=_say_when_ready, args=(url,), daemon=True).start()
    exe = Path(sys.executable).with_name("airflow")
    rc, signum = stop.run_stoppable(
        [str(exe), "api-server", "--host", args.host, "--port", str(args.port)], env=os.environ.copy()
    )
    return 0 if signum else rc


def _say_when_ready(url: str, timeout: float = 600) -> None:
    """The api-server takes a while to start on a small machine: say when it answers."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):  # noqa: S310 (our URL)
                print(f"Airflow UI ready: {url}", flush=True)
                return
        except OSError:
            time.sleep(2)


def add_arguments(p):
    p.add_argument("--port", type=int, default=8080, help="port of the UI (default 8080)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    return p

"""`advocacy check` against the sandbox: a pass, then each failure class with its fix."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from advocacy import preflight
from advocacy.settings import DEMO_SETTINGS

EXE = str(Path(sys.executable).with_name("advocacy"))
NOW = dt.datetime(2026, 6, 2, 3, tzinfo=dt.UTC)


@pytest.fixture
def deployment(tmp_path, warehouse, monkeypatch):
    """A programme like a real one: its own settings, inputs from the sandbox company, the
    sandbox's connections, a fresh warehouse database."""
    from advocacy.cli import write_demo_files
    from advocacy.sandbox.server import airflow_connections, running_sandbox
    from advocacy.settings import load_settings

    raw = yaml.safe_load(DEMO_SETTINGS.read_text())
    raw["inputs"]["roster"]["path"] = str(tmp_path / "in" / "roster.csv")
    raw["inputs"]["sessions"] = str(tmp_path / "in" / "sessions.csv")
    raw["inputs"]["self_reports"] = str(tmp_path / "in" / "self_reports.csv")
    raw["inputs"]["landing"] = str(tmp_path / "landing")
    raw["inputs"]["publish"] = str(tmp_path / "reports")
    settings_file = tmp_path / "programme.yml"
    settings_file.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("ADVOCACY_SETTINGS", str(settings_file))
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    (tmp_path / "in").mkdir()
    settings = load_settings()
    with running_sandbox(now=NOW, roster_path=settings.roster_path) as sandbox:
        write_demo_files(sandbox.company, settings, NOW)
        for k, v in airflow_connections(sandbox).items():
            monkeypatch.setenv(k, v)
        yield settings_file, raw


def _by_what(findings):
    return {f.what: f for f in findings}


def test_a_ready_deployment_passes(deployment):
    findings = preflight.run_checks()
    fails = [f for f in findings if f.level == "fail"]
    assert not fails, preflight.render_table(findings)
    found = _by_what(findings)
    for name in ("x", "facebook", "instagram", "linkedin"):
        assert found[f"{name}: connection {name}_api" if name in ("x", "linkedin") else
                     f"{name}: connection {name}_graph"].level == "ok"  # fmt: skip
    assert {"settings", "input roster", "warehouse: version", "warehouse: privileges"} <= set(found)
    assert found["landing location"].level == found["publish location"].level == "ok"
    assert found["warehouse: bi_reader"].level == "ok"  # ensure_schemas created it
    # the CLI: the same table, exit 0
    r = subprocess.run([EXE, "check"], env=os.environ.copy(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 fail" in r.stdout


def test_each_failure_class_names_its_fix(deployment, tmp_path, monkeypatch):
    settings_file, raw = deployment
    # a connection missing, an input with a bad line, an unwritable publish location
    monkeypatch.delenv("AIRFLOW_CONN_X_API")
    roster = Path(raw["inputs"]["roster"]["path"])
    lines = roster.read_text().splitlines()
    lines.append("," + lines[1].split(",", 1)[1])  # a line without its key: quarantined
    roster.write_text("\n".join(lines) + "\n")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    raw["inputs"]["publish"] = str(blocker / "reports")
    settings_file.write_text(yaml.safe_dump(raw))

    found = _by_what(preflight.run_checks())
    x = found["x: connection x_api"]
    assert x.level == "fail" and "AIRFLOW_CONN_X_API" in x.fix
    assert found["input roster"].level == "warn" and "would be quarantined" in found["input roster"].detail
    assert "employee_id' is empty" in found["input roster"].detail
    pub = found["publish location"]
    assert pub.level == "fail" and "not writable" in pub.detail and "inputs.publish" in pub.fix

    r = subprocess.run([EXE, "check"], env=os.environ.copy(), capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert (
        "FAIL  x: connection x_api" in r.stdout and "fix: create the Airflow connection 'x_api'" in r.stdout
    )

    # a header the roster cannot be read with
    roster.write_text("employee_id,email\nE1,a@x\n")
    found = _by_what(preflight.run_checks())
    assert found["input roster"].level == "fail" and "missing column" in found["input roster"].detail


def test_warehouse_unreachable_and_settings_invalid(deployment, monkeypatch):
    settings_file, raw = deployment
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", "postgresql://nobody:wrong@127.0.0.1:9/nowhere")
    wh = _by_what(preflight.check_warehouse())["warehouse"]
    assert wh.level == "fail" and "cannot connect" in wh.detail and "ADVOCACY_WAREHOUSE_URL" in wh.fix
    assert "wrong" not in wh.detail  # never the password

    settings_file.write_text(settings_file.read_text().replace("hashtags:", "hashtag:"))
    [bad] = preflight.run_checks()
    assert bad.level == "fail" and bad.what == "settings" and "did you mean `hashtags`" in bad.detail
    r = subprocess.run([EXE, "check"], env=os.environ.copy(), capture_output=True, text=True)
    assert r.returncode == 1 and "FAIL  settings" in r.stdout


def test_the_dag_task_fails_only_on_what_blocks_the_night(deployment, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_X_API")  # the x extract records that itself
    preflight.assert_ready()
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:9/nowhere")
    with pytest.raises(RuntimeError, match="pre-flight failed: warehouse"):
        preflight.assert_ready()


def test_a_user_without_privileges_is_named(deployment, warehouse, monkeypatch):
    from advocacy.warehouse import WarehouseTarget

    with warehouse.connect(autocommit=True) as conn:
        conn.execute("drop role if exists check_limited")
        conn.execute("create role check_limited login")
    try:
        limited = WarehouseTarget(**{**warehouse.__dict__, "user": "check_limited", "password": ""})
        monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", limited.url)
        found = _by_what(preflight.check_warehouse())
        priv = found["warehouse: privileges"]
        assert priv.level == "fail" and "check_limited may not create in raw" in priv.detail
        assert "grant create" in priv.fix
    finally:
        with warehouse.connect(autocommit=True) as conn:
            conn.execute("drop owned by check_limited")
            conn.execute("drop role check_limited")


def test_a_connector_probe_is_called_and_its_failure_kept(deployment, monkeypatch):
    """What a connector's probe() returns goes into the table; an exception becomes a fail."""
    from advocacy.connectors import x

    seen = []

    def probe(settings, platform_settings):
        seen.append(platform_settings.connection_id)
        return [preflight.Finding("ok", "x: API", "token valid, 3 of 3 scopes, rate limit 450/450")]

    monkeypatch.setattr(x, "probe", probe, raising=False)
    found = _by_what(preflight.run_checks())
    assert seen == ["x_api"] and found["x: API"].detail.startswith("token valid")

    def broken(settings, platform_settings):
        raise RuntimeError("401 Unauthorized for Bearer sandbox-x-token")

    monkeypatch.setattr(x, "probe", broken, raising=False)
    bad = _by_what(preflight.run_checks())["x: API"]
    assert bad.level == "fail" and "401" in bad.detail and "sandbox-x-token" not in bad.detail

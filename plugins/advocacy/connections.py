"""Credentials and endpoints come only from Airflow Connections.

Inside an Airflow task the SDK resolves them (secrets backends, metadata DB,
``AIRFLOW_CONN_*``). Outside Airflow (the CLI, tests) the same
``AIRFLOW_CONN_<ID>`` environment variables are read directly, in Airflow's
JSON or URI form, so one definition serves both.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from advocacy.connectors.base import ConnectionInfo


class ConnectionNotFound(LookupError):
    pass


def env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _fields_from_env(conn_id: str) -> dict | None:
    value = (os.environ.get(env_name(conn_id)) or "").strip()
    if not value:
        return None
    if value.startswith("{"):
        d = json.loads(value)
        extra = d.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return {**d, "extra": extra}
    parts = urlsplit(value)
    extra = dict(parse_qsl(parts.query))
    scheme = extra.pop("__scheme", None)
    return {
        "conn_type": parts.scheme,
        "host": (f"{scheme}://" if scheme else "") + (parts.hostname or ""),
        "login": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "schema": parts.path.lstrip("/"),
        "port": parts.port,
        "extra": extra,
    }


def _fields_from_airflow(conn_id: str) -> dict | None:
    try:
        from airflow.sdk import BaseHook

        c = BaseHook.get_connection(conn_id)
    except Exception:  # Airflow absent, or the id is defined nowhere it looks
        return None
    return {
        "conn_type": c.conn_type,
        "host": c.host,
        "login": c.login,
        "password": c.password,
        "schema": c.schema,
        "port": c.port,
        "extra": c.extra_dejson,
    }


def _fields(conn_id: str) -> dict | None:
    fields = _fields_from_env(conn_id)
    if fields is None and os.environ.get("AIRFLOW_CTX_DAG_ID"):
        fields = _fields_from_airflow(conn_id)
    return fields


def get_connection(conn_id: str, required: bool = True) -> ConnectionInfo | None:
    """An HTTP API connection: ``host`` may carry the scheme, or ``schema`` says http/https."""
    f = _fields(conn_id)
    if f is None:
        if required:
            raise ConnectionNotFound(
                f"Airflow connection '{conn_id}' is not defined: create it in Airflow "
                f"(UI or `airflow connections add`) or set {env_name(conn_id)}"
            )
        return None
    host = f.get("host") or ""
    if host and "://" not in host:
        scheme = f.get("schema") if f.get("schema") in ("http", "https") else "https"
        host = f"{scheme}://{host}"
    if f.get("port") and host.count(":") < 2:
        host = f"{host}:{f['port']}"
    return ConnectionInfo(
        conn_id=conn_id,
        host=host.rstrip("/"),
        login=f.get("login") or "",
        password=f.get("password") or "",
        extra=f.get("extra") or {},
    )


def get_connection_uri(conn_id: str) -> str | None:
    """A postgres connection as a ``postgresql://`` URL, or None when it is not defined."""
    f = _fields(conn_id)
    if f is None:
        return None
    auth = quote(f.get("login") or "postgres", safe="")
    if f.get("password"):
        auth += ":" + quote(f["password"], safe="")
    host = (f.get("host") or "localhost").split("://")[-1]
    port = f.get("port") or 5432
    dbname = f.get("schema") or "postgres"
    if host.startswith("/"):  # a Unix-socket directory (the embedded warehouse)
        return f"postgresql://{auth}@/{dbname}?host={quote(host)}&port={port}"
    return f"postgresql://{auth}@{host}:{port}/{dbname}"

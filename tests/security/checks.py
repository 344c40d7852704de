"""Checks shared by the security tests: the bi_reader role's reach, personal data in marts and reports."""

from __future__ import annotations

import contextlib
import html
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import psycopg
from advocacy.sandbox.server import airflow_connections
from advocacy.warehouse import BI_ROLE, WarehouseTarget
from psycopg import sql

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
HIDDEN_SCHEMAS = ("raw", "staging", "intermediate", "audit")
WRITES = (
    "insert into marts.kpi_adoption_monthly select * from marts.kpi_adoption_monthly limit 1",
    "update marts.dim_employee set display_name = 'x'",
    "delete from marts.fct_posts",
    "truncate marts.benchmark_audience",
    "create table marts.bi_scratch (id int)",
    "create table public.bi_scratch (id int)",
    "create view marts.bi_view as select 1 as one",
    "drop table marts.kpi_adoption_monthly",
    "alter table marts.fct_posts add column note text",
    "create schema bi_own",
)


# ------------------------------------------------------------------ the read-only BI role
@contextlib.contextmanager
def bi_member(target: WarehouseTarget) -> Iterator[WarehouseTarget]:
    """A login member of bi_reader, as a BI tool would connect; dropped afterwards."""
    user = f"bi_test_{uuid.uuid4().hex[:8]}"
    with target.connect(autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login password 'bi-test' in role {}").format(
                sql.Identifier(user), sql.Identifier(BI_ROLE)
            )
        )
    try:
        yield WarehouseTarget(**{**target.__dict__, "user": user, "password": "bi-test"})
    finally:
        with target.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


def tables(target: WarehouseTarget, schema: str) -> list[str]:
    with target.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (schema,),
            )
        ]


def denied(target: WarehouseTarget, statement: str | sql.Composable) -> bool:
    with target.connect() as conn:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


def unreadable_marts(owner: WarehouseTarget, member: WarehouseTarget) -> list[str]:
    """Marts tables (models and seeds) the member cannot select from."""
    return [
        t
        for t in tables(owner, "marts")
        if denied(member, sql.SQL("select * from {} limit 1").format(sql.Identifier("marts", t)))
    ]


def readable_elsewhere(owner: WarehouseTarget, member: WarehouseTarget, schema: str) -> list[str]:
    """Tables of ``schema`` the member CAN select from (should be none)."""
    found = tables(owner, schema)
    assert found, f"{schema} has no table: nothing was checked"
    return [
        t
        for t in found
        if not denied(member, sql.SQL("select * from {} limit 1").format(sql.Identifier(schema, t)))
    ]


def allowed_writes(member: WarehouseTarget) -> list[str]:
    """The write statements of WRITES the member may run (should be none)."""
    return [s for s in WRITES if not denied(member, s)]


# ------------------------------------------------------------------ personal data
def consents(row: dict) -> bool:
    return str(row["consent_public"]).strip().lower() == "true"


def hidden_names(roster: Iterable[dict]) -> set[str]:
    """Full names (lowercase) of non-consenting employees; a name a consenting colleague shares is not."""
    roster = list(roster)
    hidden = {r["full_name"].strip().lower() for r in roster if not consents(r)}
    return hidden - shown_names(roster) - {""}


def shown_names(roster: Iterable[dict]) -> set[str]:
    return {r["full_name"].strip().lower() for r in roster if consents(r)} - {""}


class NameScan:
    """Finds non-consenting employees' names in lowercase text, as whole words.

    Consenting employees' names are blanked first: a one-word name such as
    'zoe' (non-consenting) inside 'zoe smith' (consenting, so shown) is no leak.
    """

    def __init__(self, roster: Iterable[dict]):
        roster = list(roster)
        self.hidden = hidden_names(roster)
        self.shown = sorted(shown_names(roster), key=len, reverse=True)
        self._any = re.compile(
            r"(?<!\w)(?:"
            + "|".join(re.escape(n) for n in sorted(self.hidden, key=len, reverse=True))
            + r")(?!\w)"
        )

    def __call__(self, text: str) -> set[str]:
        if not self._any.search(text):
            return set()
        for name in self.shown:
            text = text.replace(name, " ")
        return set(self._any.findall(text))


def marts_findings(target: WarehouseTarget, roster: Iterable[dict]) -> dict[str, set[str]]:
    """``{table.column: offending values}``: names without consent, any e-mail, in every marts column."""
    roster = list(roster)
    names = NameScan(roster)
    emails = {r["email"].strip().lower() for r in roster if r["email"].strip()}
    assert names.hidden and emails
    found: dict[str, set[str]] = {}
    with target.connect() as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' order by 1, 2"
        ).fetchall()
        assert len({t for t, _ in columns}) >= 15
        for table, column in columns:
            values = conn.execute(
                sql.SQL("select distinct lower(cast({} as text)) from {} where {} is not null").format(
                    sql.Identifier(column), sql.Identifier("marts", table), sql.Identifier(column)
                )
            ).fetchall()
            for (value,) in values:
                bad = names(value) | set(EMAIL.findall(value)) | {e for e in emails if e in value}
                if bad:
                    found.setdefault(f"{table}.{column}", set()).update(bad)
    return found


def report_findings(folder: Path, roster: Iterable[dict]) -> dict[str, list[str]]:
    """``{file: offending text}``: names without consent, any e-mail, in the report's HTML and CSVs."""
    names = NameScan(roster)
    files = [folder / "index.html", *sorted(folder.glob("*.csv"))]
    assert (folder / "index.html").is_file() and len(files) > 5
    found = {}
    for f in files:
        text = html.unescape(f.read_text()).lower()  # O&#x27;Brien is O'Brien
        bad = sorted(names(text)) + EMAIL.findall(text)
        if bad:
            found[f.name] = bad[:5]
    return found


# ------------------------------------------------------------------ credentials
# Fake credentials nothing else in the run could produce by chance.
TOKENS = {
    "x": "canaryXtok-7f3a9c21e5d4",
    "graph": "canaryGraphTok-4b8d0e6f1932",
    "linkedin": "canaryLiTok-9e2c5a7d03b8",
    "bluesky": "canaryBskyPw-2d7e9a4c61f0",
}
# The sandbox's advocates' member tokens (extra.member_tokens of the connections).
MEMBER_TOKEN = re.compile(r"sandbox-(?:fb|li)-member-[0-9A-Za-z:_-]+")
# A JWT (Bluesky's session tokens: createSession's accessJwt and refreshJwt, sent as Bearer).
SESSION_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
CONNECTION_TOKEN = {  # env var of each connection -> its token
    "AIRFLOW_CONN_X_API": TOKENS["x"],
    "AIRFLOW_CONN_FACEBOOK_GRAPH": TOKENS["graph"],
    "AIRFLOW_CONN_INSTAGRAM_GRAPH": TOKENS["graph"],
    "AIRFLOW_CONN_LINKEDIN_API": TOKENS["linkedin"],
    "AIRFLOW_CONN_BLUESKY_API": TOKENS["bluesky"],
}


def sandbox_connections(sandbox) -> dict[str, str]:
    """The sandbox's connections with the custom tokens (airflow_connections gives the defaults)."""
    out = {}
    for name, value in airflow_connections(sandbox).items():
        conn = json.loads(value)
        conn["password"] = CONNECTION_TOKEN[name]
        out[name] = json.dumps(conn)
    return out


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets found in ``text``, and any sandbox member token even if not listed."""
    found = [s for s in secrets if s in text]
    found += MEMBER_TOKEN.findall(text)
    return sorted(set(found))

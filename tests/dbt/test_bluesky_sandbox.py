"""Bluesky from the real connector run against the sandbox, through dbt, into every mart.

One history run (programme start .. the day before NOW) lands as one run day in
the loader's raw layout with the sandbox company's roster (bluesky_handle
included); one `dbt build` with Bluesky alone enabled; fct_posts, the counters
and the KPI marts are compared with the sandbox's ground truth.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from test_dbt_project import Dbt, _dbt_vars

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
PROGRAMME_START = dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
RUN_DAY = "2026-11-21"
COMPANY = "northwindrobotics.bsky.social"


@pytest.fixture(scope="module")
def company():
    from advocacy.sandbox.company import Company

    return Company()


@pytest.fixture(scope="module")
def truth(company):
    return company.ground_truth(NOW, "bluesky")


@pytest.fixture(scope="module")
def extracted(company, truth):
    from advocacy.connectors import bluesky
    from advocacy.connectors.base import ConnectionInfo
    from advocacy.sandbox.server import airflow_connections, running_sandbox

    with running_sandbox(company=company, now=NOW) as sb:
        c = json.loads(airflow_connections(sb)["AIRFLOW_CONN_BLUESKY_API"])
        return bluesky.extract(
            ConnectionInfo("bluesky_api", c["host"], c["login"], c["password"], c["extra"]),
            advocate_usernames=[
                e["bluesky_handle"] for e in truth["employees"] if e["registered_at"] and e["bluesky_handle"]
            ],  # fmt: skip
            company_handles=[COMPANY],
            hashtags=["#LifeAtNorthwind", "#NorthwindRobotics"],
            company_domains=["northwind.example"],
            window_start=PROGRAMME_START,
            window_end=WINDOW_END,
            lookback_ids=[],
        )


def _create(conn, table):
    conn.execute(
        f"""create table raw.{table} (
            _interval_start date not null, _extracted_at timestamptz not null,
            _landing_file text not null, _line_no integer not null, _record_key text,
            _record_time timestamptz, record jsonb not null)"""
    )


@pytest.fixture(scope="module")
def warehouse(pg_server, company, extracted):
    from advocacy import load
    from advocacy.connectors import bluesky
    from advocacy.warehouse import WarehouseTarget, ensure_schemas

    name = f"t_dbt_{uuid.uuid4().hex[:10]}"
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = WarehouseTarget(**{**pg_server.__dict__, "dbname": name})
    ensure_schemas(target)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with target.connect() as conn:
        for table in ("roster__employees", "web__sessions", "self_report__activity"):
            _create(conn, table)
        for i, row in enumerate(company.roster_rows(NOW), 1):
            conn.execute(
                "insert into raw.roster__employees values (%s, %s, %s, %s, %s, null, %s)",
                (RUN_DAY, at, "/landing/roster/employees/x.jsonl", i, row["employee_id"], json.dumps(row)),
            )
        for stream, decl in bluesky.STREAMS.items():
            spec = load.stream_spec(decl)
            table = f"bluesky__{stream}"
            _create(conn, table)
            for i, rec in enumerate(extracted.get(stream, []), 1):
                conn.execute(
                    f"insert into raw.{table} values (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        RUN_DAY,
                        at,
                        f"/landing/bluesky/{stream}/interval={RUN_DAY}/x.jsonl",
                        i,
                        None if spec.key is None else str(rec.get(spec.key)),
                        load.parse_time(rec.get(spec.time)) if spec.time else None,
                        json.dumps(rec, default=str),
                    ),
                )
        conn.commit()
    yield target
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def built(warehouse, tmp_path_factory):
    v = {
        **_dbt_vars(),
        "as_of_date": RUN_DAY,
        "enabled_platforms": ["bluesky"],
        "company_handles": {"bluesky": [COMPANY]},
    }
    dbt = Dbt(warehouse, tmp_path_factory.mktemp("dbt_bluesky"))
    return dbt("build", "--exclude-resource-type", "unit_test", vars=v)


def q(target, sql):
    with target.connect() as conn:
        cur = conn.execute(sql)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _visible(truth):
    end = WINDOW_END.isoformat().replace("+00:00", "Z")
    return [p for p in truth["posts"] if p["created_at"] < end and not p["deleted_at"]]


def test_fct_posts_matches_the_ground_truth(warehouse, built, truth):
    rows = q(
        warehouse,
        "select post_id, employee_id, is_programme_post, is_community_post, is_pure_reshare, is_personalised"
        " from marts.fct_posts where platform = 'bluesky'",
    )
    got = {r.pop("post_id"): r for r in rows}
    programme = {p["id"] for p in _visible(truth) if p["is_programme_post"]}
    assert programme and {k for k, r in got.items() if r["is_programme_post"]} == programme
    truth_by_id = {p["id"]: p for p in truth["posts"]}
    wrong = {}
    for post_id, r in got.items():
        p = truth_by_id[post_id]
        want = (p["employee_id"], p["is_programme_post"], p["is_pure_reshare"])
        if p["employee_id"] is None:  # a community post: the search found it by a marker
            want = (None, False, False)
            assert r["is_community_post"], post_id
        if (r["employee_id"], r["is_programme_post"], r["is_pure_reshare"]) != want:
            wrong[post_id] = (r, want)
        if not p["is_pure_reshare"] and p["employee_id"]:
            assert r["is_personalised"] == p["is_personalised"], post_id
    assert not wrong, list(wrong.items())[:5]
    assert sum(r["is_pure_reshare"] for r in rows) > 10


def test_counters_likes_replies_reposts_quotes_and_no_impressions(warehouse, built, truth):
    rows = q(
        warehouse,
        "select post_id, is_pure_reshare, likes, comments, shares, impressions, interactions"
        " from marts.fct_posts where platform = 'bluesky'",
    )
    truth_by_id = {p["id"]: p for p in truth["posts"]}
    compared = 0
    for r in rows:
        assert r["impressions"] is None  # Bluesky has none: null, never 0
        if r["is_pure_reshare"]:
            assert (r["likes"], r["comments"], r["shares"], r["interactions"]) == (0, 0, 0, 0)
            continue
        want = truth_by_id[r["post_id"]]["counters"]
        assert (r["likes"], r["comments"], r["shares"], r["interactions"]) == (
            want["likes"], want["comments"], want["shares"], want["interactions"],
        ), r["post_id"]  # fmt: skip
        compared += 1
    assert compared > 100


def test_every_kpi_mart_carries_bluesky(warehouse, built):
    for mart in ("kpi_reach_monthly", "kpi_engagement_monthly", "kpi_earned_media_monthly"):
        platforms = {r["platform"] for r in q(warehouse, f"select distinct platform from marts.{mart}")}
        assert "bluesky" in platforms, mart
    (row,) = q(
        warehouse,
        "select count(*) as n from marts.kpi_participation_monthly where month = '2026-11-01'",
    )
    assert row["n"] > 0
    audience = q(
        warehouse,
        "select count(*) as n from intermediate.int_advocate_audience_monthly where platform = 'bluesky'",
    )
    assert audience[0]["n"] > 0

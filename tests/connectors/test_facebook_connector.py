"""The facebook-sdk based Facebook connector against the sandbox over HTTP (no mocks)."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from advocacy.connectors import facebook as fbc
from advocacy.connectors.base import AuthError, ConnectionInfo, ConnectorError, RateLimitError
from advocacy.connectors.graph import GraphAuthError, GraphError, GraphPermissionError, GraphRateLimitError
from advocacy.sandbox.server import running_sandbox

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
PROGRAMME_START = dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
PAGE_TOKEN = "sandbox-graph-token"


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def page_id(social_company) -> str:
    return social_company.social.ids()["facebook_page_id"]


@pytest.fixture(scope="module")
def tokens(social_company) -> dict:
    return social_company.member_tokens("facebook", NOW)


@pytest.fixture(scope="module")
def advocates(social_truth) -> list[str]:
    return [
        e["facebook_user_id"]
        for e in social_truth["employees"]
        if e["registered_at"] and e["facebook_user_id"]
    ]


def conn(sb, tokens=None, token=PAGE_TOKEN, **extra) -> ConnectionInfo:
    return ConnectionInfo(
        "facebook_graph",
        sb.url,
        password=token,
        extra={"timeout": 10, "member_tokens": tokens or {}, **extra},
    )


def run(c, page_id, advocates, *, start=PROGRAMME_START, end=WINDOW_END, lookback=(), progress=None):
    return fbc.extract(
        c,
        advocate_usernames=advocates,
        company_handles=[page_id],
        hashtags=["#LifeAtNorthwind"],
        company_domains=["northwind.example"],
        window_start=start,
        window_end=end,
        lookback_ids=list(lookback),
        progress=progress,
    )


def _t(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def history(sandbox, page_id, tokens, advocates):
    sandbox.reset_stats()
    messages: list[str] = []
    result = run(
        conn(sandbox, tokens, insight_metrics=["post_impressions", "post_media_view"]),
        page_id,
        advocates,
        progress=messages.append,
    )
    return result, sandbox.stats(), messages


def test_history_run_finds_every_visible_post_once(history, social_truth, page_id, tokens):
    result, served, messages = history
    assert set(result) == set(fbc.STREAMS)
    posts = {p["id"]: p for p in result["posts"]}
    assert len(posts) == len(result["posts"])
    fb = [
        p
        for p in social_truth["posts"] + social_truth["company_posts"]
        if p["platform"] == "facebook"
        and not p["deleted_at"]
        and PROGRAMME_START <= _t(p["created_at"]) < WINDOW_END
    ]
    by_via = {}
    for p in posts.values():
        by_via.setdefault(p["_found_via"], set()).add(p["id"])
    assert by_via["page"] == {p["id"] for p in fb if p["author_id"] == page_id}
    assert by_via["member_timeline"] == {p["id"] for p in fb if p["author_id"] in tokens}
    tagging = {p["id"] for p in fb if p["markers"]["mentions_company"] and p["author_id"] != page_id}
    assert by_via["page_tagged"] == tagging - by_via["member_timeline"]
    both = [p for p in posts.values() if p["_also_found_via"] == ["page_tagged"]]
    assert both and all(p["_found_via"] == "member_timeline" for p in both)
    assert set(posts) == {p["id"] for p in fb}
    # the Page's time-based paging was followed only as far as the window needs
    assert (
        result.stats.by_phase["page_posts"]["requests"] == result.stats.by_phase["page_posts"]["min_requests"]
    )
    assert result.stats.requests == served["total_requests"]
    assert result.stats.requests <= 1.1 * result.stats.min_requests
    assert any("facebook" in m for m in messages)


def test_records_carry_the_truth(history, social_truth, page_id, tokens):
    result, _, _ = history
    posts = {p["id"]: p for p in result["posts"]}
    truth = {p["id"]: p for p in social_truth["posts"] + social_truth["company_posts"] if p["id"] in posts}
    employees = {e["facebook_user_id"]: e for e in social_truth["employees"] if e["facebook_user_id"]}
    for pid, rec in posts.items():
        t = truth[pid]
        assert rec["_likes"] == t["counters"]["likes"] and rec["_comments"] == t["counters"]["comments"]
        assert rec["_shares"] == t["counters"]["shares"]
        assert ("shares" in rec) == (t["counters"]["shares"] > 0)  # omitted when zero, 0 in the annotation
        assert rec["_impressions"] == t["counters"]["impressions"]
        assert rec["_is_pure_reshare"] == t["is_pure_reshare"]
        if t["referenced"]:
            assert rec["_reshare_of"] == t["referenced"]["id"] and rec["parent_id"] == t["referenced"]["id"]
        assert rec["_mentions_company"] == t["markers"]["mentions_company"]
        has_tag = any(h in ("lifeatnorthwind", "northwindrobotics") for h in rec["_hashtags"])
        assert has_tag == t["markers"]["has_programme_hashtag"]
        if t["employee_id"]:
            assert (
                rec["_author_role"] == "advocate"
                and employees[rec["_author_employee_handle"]]["employee_id"] == t["employee_id"]
            )
        elif rec["_author_id"] == page_id:
            assert (
                rec["_author_role"] == "company"
                and rec["_insights"]["post_media_view"] == rec["_impressions"]
            )
            assert rec["_insights_dropped"] == ["post_impressions"]
        else:
            assert rec["_author_role"] == "other"
        if t["utm_content"]:
            assert any(f"utm_content={t['utm_content']}" in u for u in rec["_links"])
    users = {u["id"]: u for u in result["users"]}
    assert set(users) == set(tokens)
    audience = {
        a["account_id"]: a["audience"] for a in social_truth["audiences"] if a["platform"] == "facebook"
    }
    assert all(u["_audience"] == audience[i] for i, u in users.items())
    assert (
        result["pages"][0]["_role"] == "company"
        and result["pages"][0]["followers_count"] == audience[page_id]
    )
    kinds = {e["member"]: e["_error_kind"] for e in result["member_errors"]}
    assert set(kinds.values()) == {"no_token"} and not set(kinds) & set(tokens)


def test_retired_metric_is_dropped_with_a_warning(sandbox, page_id, caplog):
    caplog.set_level(logging.WARNING, logger="advocacy.connectors.facebook")
    result = run(
        conn(
            sandbox,
            insight_metrics=[
                "post_engaged_users",
                "post_impressions_unique",
                "post_media_view",
                "post_total_media_view_unique",
            ],
        ),
        page_id,
        [],
        start=WINDOW_END - dt.timedelta(days=14),
    )
    page_posts = [p for p in result["posts"] if p["_author_role"] == "company"]
    assert page_posts and all(
        set(p["_insights"]) == {"post_media_view", "post_total_media_view_unique"} for p in page_posts
    )
    # post_impressions_unique was retired by Meta on 2025-06-15 for every version
    dropped = ["post_engaged_users", "post_impressions_unique"]
    assert all(p["_impressions"] and p["_insights_dropped"] == dropped for p in page_posts)
    assert "post_engaged_users" in caplog.text and "facebook_graph" in caplog.text
    assert result.stats.notes == ["insight metrics dropped: post_engaged_users, post_impressions_unique"]


def test_lookback_refresh_and_deleted_posts(sandbox, social_truth, page_id, tokens, advocates):
    fb = [p for p in social_truth["posts"] + social_truth["company_posts"] if p["platform"] == "facebook"]
    gone = [p["id"] for p in fb if p["deleted_at"]]
    alive = [p["id"] for p in fb if not p["deleted_at"] and "2026-10-25" <= p["created_at"] < "2026-11-15"]
    assert len(gone) >= 3 and len(alive) > 60
    day = WINDOW_END - dt.timedelta(days=1)
    result = run(conn(sandbox, tokens), page_id, advocates, start=day, lookback=alive + gone[:3])
    errors = {e["id"]: e for e in result["post_errors"]}
    assert set(errors) == set(gone[:3]) and {e["_error_kind"] for e in errors.values()} == {"not_found"}
    assert all(e["error"]["code"] == 803 for e in errors.values())
    refreshed = {p["id"] for p in result["posts"] if p["_found_via"] == "lookup"}
    assert refreshed == set(alive)
    page_refreshed = [
        p for p in result["posts"] if p["_found_via"] == "lookup" and p["_author_role"] == "company"
    ]
    assert page_refreshed and all(p["_impressions"] for p in page_refreshed)  # insights with the refresh


def test_the_page_token_failing_stops_the_run_with_the_graph_code(social_company, page_id):
    with running_sandbox(company=social_company, now=NOW, expired_tokens={"old-page-token"}) as sb:
        with pytest.raises(GraphAuthError) as exc:
            run(conn(sb, token="old-page-token"), page_id, [], start=WINDOW_END - dt.timedelta(days=1))
        assert isinstance(exc.value, AuthError) and exc.value.code == 190 and exc.value.subcode == 463
        assert "facebook_graph" in str(exc.value) and "password" in str(exc.value)
        assert "old-page-token" not in str(exc.value)
        sb.inject_fault("graph.page_posts", "permission_100")
        with pytest.raises(GraphPermissionError) as exc:
            run(conn(sb), page_id, [], start=WINDOW_END - dt.timedelta(days=1))
        assert exc.value.code == 100 and "pages_read_engagement" in str(exc.value)
        with pytest.raises(GraphAuthError, match="no access token"):
            run(conn(sb, token=""), page_id, [], start=WINDOW_END - dt.timedelta(days=1))


def test_a_member_token_failing_is_recorded_and_the_run_goes_on(social_company, page_id, tokens):
    handles = sorted(tokens)[:4]
    expired = tokens[handles[0]]
    with running_sandbox(company=social_company, now=NOW, expired_tokens={expired}) as sb:
        result = run(
            conn(sb, {h: tokens[h] for h in handles}),
            page_id,
            handles,
            start=WINDOW_END - dt.timedelta(days=60),
        )
    errors = {e["member"]: e for e in result["member_errors"]}
    assert set(errors) == {handles[0]} and errors[handles[0]]["_error_kind"] == "token_expired"
    assert errors[handles[0]]["error"]["code"] == 190 and "member_tokens" in errors[handles[0]]["_action"]
    assert {u["id"] for u in result["users"]} == set(handles[1:])


def test_rate_limits_are_waited_out_and_transient_errors_retried(social_company, page_id, tokens):
    handles = sorted(tokens)[:3]
    quick = {"max_rate_limit_wait": 1.2, "rate_limit_fallback_wait": 0.1, "transient_backoff": 0.05}
    with running_sandbox(
        company=social_company, now=NOW, rate_limits={"graph.node": 2}, rate_window_seconds=1
    ) as sb:
        started = time.monotonic()
        result = run(
            conn(sb, {h: tokens[h] for h in handles}, **quick),
            page_id,
            handles,
            start=WINDOW_END - dt.timedelta(days=60),
        )
        assert time.monotonic() - started < 8
        assert result.stats.rate_limited >= 1 and result.stats.rate_limit_wait_seconds > 0
        assert sb.stats()["total_requests"] == result.stats.requests + result.stats.rate_limited
        assert {u["id"] for u in result["users"]} == set(handles)
        sb.reset_rate_limits()
        for fault in (
            "rate_limit_17",
            "rate_limit_32",
            "rate_limit_613",
            "transient_2",
            "html_502",
            "no_content_type",
        ):
            sb.inject_fault("graph.page_posts", fault)
        result = run(conn(sb, retries=0, **quick), page_id, [], start=WINDOW_END - dt.timedelta(days=7))
        assert result.stats.rate_limited == 3 and result.stats.retries == 3
        assert any(p["_author_role"] == "company" for p in result["posts"])
        sb.inject_fault("graph.node", "empty_404")
        with pytest.raises(GraphError, match="HTTP 404 without a Graph error body"):
            run(conn(sb, retries=0), page_id, [], start=WINDOW_END - dt.timedelta(days=1))
        sb.inject_fault("graph", "rate_limit_4")
        with pytest.raises(GraphRateLimitError) as exc:
            run(conn(sb, wait_on_rate_limit="false"), page_id, [], start=WINDOW_END - dt.timedelta(days=1))
        assert isinstance(exc.value, RateLimitError) and exc.value.code == 4 and exc.value.transient


def test_any_graph_version_and_no_token_in_the_logs(sandbox, page_id, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    handle = sorted(tokens)[0]
    run(
        conn(sandbox, {handle: tokens[handle]}, api_version="v24.0"),
        page_id,
        [handle],
        start=WINDOW_END - dt.timedelta(days=2),
    )
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("advocacy.sandbox"))
    assert "/v24.0/" in text and "access_token=***" in text  # urllib3 logged the requests...
    assert PAGE_TOKEN not in text and tokens[handle] not in text  # ...without the tokens
    with pytest.raises(ConnectorError, match="api_version"):
        run(conn(sandbox, api_version="latest"), page_id, [], start=WINDOW_END - dt.timedelta(days=1))


def test_every_record_loads_with_its_declared_key_and_time(history):
    import json

    from advocacy.load import parse_time, stream_spec

    result, _, _ = history
    for stream, records in result.items():
        spec = stream_spec(fbc.STREAMS[stream])
        json.dumps(records)  # landing writes JSON lines
        for rec in records:
            assert rec.get(spec.key) not in (None, ""), (stream, rec)
            if spec.time:
                assert parse_time(rec[spec.time]).tzinfo is not None

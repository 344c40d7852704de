"""The Bluesky connector (atproto's client) against the sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from advocacy.connectors import bluesky
from advocacy.connectors.base import Checkpoint, ConnectionInfo, ConnectorError
from advocacy.sandbox.bluesky import APP_PASSWORD, COMPANY_HANDLE, world
from advocacy.sandbox.server import airflow_connections, running_sandbox
from advocacy.settings import PlatformSettings

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
START = END - dt.timedelta(days=45)
HASHTAGS = ["#LifeAtNorthwind", "#NorthwindRobotics"]
FAST = {"timeout": 5, "transient_backoff": 0.01, "max_rate_limit_wait": 5}


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


def _conn(sb, login=COMPANY_HANDLE, password=APP_PASSWORD, **extra) -> ConnectionInfo:
    return ConnectionInfo("bluesky_api", sb.url, login, password, {**FAST, **extra})


def _advocates(company) -> list[str]:
    d = NOW.date()
    return [r["bluesky_handle"] for r in company.roster_rows(d) if r["bluesky_handle"] and r["registered_at"]]


def _extract(sb, company, conn=None, **kw):
    args = dict(
        advocate_usernames=_advocates(company),
        company_handles=[COMPANY_HANDLE],
        hashtags=HASHTAGS,
        company_domains=["northwind.example"],
        window_start=START,
        window_end=END,
        lookback_ids=[],
    )
    return bluesky.extract(conn or _conn(sb), **{**args, **kw})


@pytest.fixture(scope="module")
def result(sandbox, social_company):
    sandbox.reset_stats()
    out = _extract(sandbox, social_company)
    out.server_stats = sandbox.stats()
    return out


def test_the_demo_connection_points_at_the_sandbox(sandbox):
    conn = json.loads(airflow_connections(sandbox)["AIRFLOW_CONN_BLUESKY_API"])
    assert (
        conn["host"] == sandbox.url and conn["login"] == COMPANY_HANDLE and conn["password"] == APP_PASSWORD
    )


def test_every_stream_and_the_record_shapes(result, social_company):
    assert set(result) == set(bluesky.STREAMS)
    advocates = _advocates(social_company)
    profiles = {p["_roster_handle"]: p for p in result["profiles"]}
    assert set(profiles) == {*advocates, COMPANY_HANDLE}
    assert all(p["did"].startswith("did:plc:") and p["followersCount"] >= 0 for p in profiles.values())
    assert profiles[COMPANY_HANDLE]["_role"] == "company"
    posts = result["posts"]
    kinds = {p["_post_type"] for p in posts}
    assert kinds >= {"post", "quote", "reply", "repost"}
    for p in posts:
        assert p["uri"].startswith("at://did:plc:")
        assert p["_created_at"].endswith("Z")
        assert START <= bluesky.parse_datetime(p["_created_at"]) < END
        assert p["_impressions"] is None  # Bluesky has none
        assert p["_found_via"] in ("timeline", "company_timeline", "search", "lookup")
    assert len({p["uri"] for p in posts}) == len(posts)


def test_reposts_are_pure_reshares_of_the_company_post(result):
    reposts = [p for p in result["posts"] if p["_post_type"] == "repost"]
    assert reposts
    for r in reposts:
        assert "/app.bsky.feed.repost/" in r["uri"]
        assert r["_is_pure_reshare"] and r["_reshare_of"] == r["post"]["uri"]
        assert r["_reshare_of_author"] == COMPANY_HANDLE
        assert r["_likes"] is None and r["_shares"] is None  # a repost has no counters
        assert r["_author_role"] == "advocate"


def test_quotes_and_counters(result):
    quotes = [p for p in result["posts"] if p["_post_type"] == "quote"]
    assert quotes and all(q["_reshare_of_author"] == COMPANY_HANDLE for q in quotes)
    assert all(not q["_is_pure_reshare"] for q in quotes)
    for p in result["posts"]:
        if p["_post_type"] != "repost":
            assert p["_likes"] == p["likeCount"] and p["_comments"] == p["replyCount"]
            assert p["_shares"] == p["repostCount"] + p["quoteCount"]


def test_markers_from_the_facets(result):
    posts = result["posts"]
    assert any("lifeatnorthwind" in p["_hashtags"] for p in posts)
    mentioning = [p for p in posts if p["_mentions_company"]]
    assert mentioning and all(COMPANY_HANDLE in p["_mention_handles"] for p in mentioning)
    assert any(any("northwind.example" in u for u in p["_links"]) for p in posts)


def test_search_finds_community_posts_with_a_session(result):
    by_search = [p for p in result["posts"] if p["_found_via"] == "search"]
    assert by_search and {p["_author_role"] for p in by_search} == {"other"}
    assert result.stats.by_endpoint["com.atproto.server.createSession"] == 1
    assert result.stats.by_endpoint["app.bsky.feed.searchPosts"] >= 4  # 2 tags, 1 mention, 1 domain
    assert not result.stats.notes


def test_requests_are_the_minimum(result):
    stats = result.stats
    assert stats.requests == stats.min_requests, stats.as_dict()
    assert stats.by_endpoint["app.bsky.actor.getProfiles"] == -(-len(result["profiles"]) // 25)
    assert result.server_stats["total_requests"] == stats.requests


JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")  # a session's accessJwt / refreshJwt


def test_the_checkpoint_journals_every_read_and_no_credential(sandbox, social_company, result):
    cp = Checkpoint()
    sandbox.reset_stats()
    out = _extract(sandbox, social_company, checkpoint=cp)
    entries = cp.entries()
    # every read that went over the wire, the session's searches too; not the login
    assert cp.saved == out.stats.requests - 1 == sandbox.stats()["total_requests"] - 1
    assert any("app.bsky.feed.searchPosts" in k for k in entries)
    assert not any("com.atproto.server" in k for k in entries)
    text = json.dumps(entries)
    assert APP_PASSWORD not in text
    assert not JWT.findall(text) and "accessJwt" not in text and "refreshJwt" not in text
    assert all(json.loads(e["body"]) is not None and e["status"] == 200 for e in entries.values())

    # a retry with all of it makes one request (the login: never journaled), same records
    again = Checkpoint(entries)
    sandbox.reset_stats()
    replayed = _extract(sandbox, social_company, checkpoint=again)
    assert sandbox.stats()["requests"] == {"bluesky.create_session": 1}
    assert replayed.stats.requests == 1 and replayed.stats.replayed == again.replayed == len(entries)
    assert again.saved == 0
    assert sorted(p["uri"] for p in replayed["posts"]) == sorted(p["uri"] for p in result["posts"])


@pytest.mark.parametrize("fault", ["non_json", "truncated"])
def test_a_broken_answer_is_retried_not_journaled(sandbox, social_company, fault):
    clean = Checkpoint()
    _extract(sandbox, social_company, checkpoint=clean, hashtags=[])
    cp = Checkpoint()
    sandbox.inject_fault("bluesky.get_author_feed", fault, times=1, after=2)
    out = _extract(sandbox, social_company, checkpoint=cp, hashtags=[])
    sandbox.clear_faults()
    assert out.stats.retries == 1
    bodies = {k: e["body"] for k, e in cp.entries().items()}
    assert bodies == {k: e["body"] for k, e in clean.entries().items()}  # the same answers, none half


def test_a_refused_search_is_a_note_not_a_lost_night(sandbox, social_company, result):
    for conn in (_conn(sandbox, login="", password=""), _conn(sandbox, password="wrong")):
        out = _extract(sandbox, social_company, conn)
        assert out.stats.notes and "search skipped" in out.stats.notes[0]
        assert "wrong" not in " ".join(out.stats.notes)  # never the secret
        non_search = {p["uri"] for p in result["posts"] if p["_found_via"] != "search"}
        assert {p["uri"] for p in out["posts"]} == non_search


def test_lookback_refresh_and_deleted_posts(sandbox, social_company):
    w = world(social_company)
    ts = NOW.timestamp()
    gone = [p for p in w.posts if p.kind not in ("repost",) and p.deleted and NOW.timestamp() < p.deleted]
    assert gone
    later = dt.datetime.fromtimestamp(max(p.deleted for p in gone[:3]) + 60, dt.UTC)
    alive = [p for p in w.posts if p.kind == "original" and p.visible_at(later.timestamp())][:30]
    uris = [p.uri for p in gone[:3]] + [p.uri for p in alive]
    reposts = [p.uri for p in w.posts if p.kind == "repost" and p.visible_at(ts)][:2]
    sandbox.set_now(later)
    try:
        out = _extract(sandbox, social_company, advocate_usernames=[], company_handles=[], hashtags=[],
                       company_domains=[], lookback_ids=uris + reposts)  # fmt: skip
    finally:
        sandbox.set_now(NOW)
    assert {e["uri"] for e in out["post_errors"]} == {p.uri for p in gone[:3]}
    assert all(e["_error_kind"] == "not_found" for e in out["post_errors"])
    assert {p["uri"] for p in out["posts"]} == {p.uri for p in alive}
    assert all(p["_found_via"] == "lookup" for p in out["posts"])
    assert out.stats.by_endpoint["app.bsky.feed.getPosts"] == 2  # 33 uris, 25 a request; reposts skipped


def test_invalid_and_unknown_handles_are_actor_errors(sandbox, social_company):
    out = _extract(sandbox, social_company, advocate_usernames=["not a handle", "nobody.bsky.social"],
                   hashtags=[], company_domains=[])  # fmt: skip
    errors = {e["actor"]: e["_error_kind"] for e in out["actor_errors"]}
    assert errors == {"not a handle": "invalid", "nobody.bsky.social": "not_found"}
    assert {p["_roster_handle"] for p in out["profiles"]} == {COMPANY_HANDLE}


def test_a_429_waits_for_ratelimit_reset(sandbox, social_company):
    sandbox.inject_fault("bluesky.get_author_feed", "rate_limit", times=2)
    started = time.monotonic()
    out = _extract(sandbox, social_company, advocate_usernames=_advocates(social_company)[:3], hashtags=[])
    assert out.stats.rate_limited == 2 and out.stats.rate_limit_wait_seconds > 0
    assert time.monotonic() - started < 10
    assert out["posts"]


def test_too_many_429s_stop_with_a_rate_limit_error(sandbox, social_company):
    sandbox.inject_fault("bluesky.get_profiles", "rate_limit", times=3)
    with pytest.raises(ConnectorError, match="still rate limited") as info:
        _extract(sandbox, social_company, _conn(sandbox, max_rate_limit_retries=2), hashtags=[])
    assert "bluesky_api" in str(info.value)
    sandbox.clear_faults()


@pytest.mark.parametrize("fault", ["status_502", "connection_reset", "truncated", "non_json", "status_500"])
def test_transient_failures_are_retried(sandbox, social_company, result, fault):
    sandbox.inject_fault("bluesky.get_author_feed", fault, times=1, after=2)
    out = _extract(sandbox, social_company)
    assert out.stats.retries >= 1
    assert {p["uri"] for p in out["posts"]} == {p["uri"] for p in result["posts"]}


@pytest.mark.parametrize("fault", ["short_page", "repeat_page"])
def test_paging_glitches(sandbox, social_company, fault):
    conn = _conn(sandbox, page_size=5)
    clean = _extract(sandbox, social_company, conn, advocate_usernames=[], hashtags=["#LifeAtNorthwind"])
    sandbox.inject_fault("bluesky.search_posts", fault, times=1, after=2)
    out = _extract(sandbox, social_company, conn, advocate_usernames=[], hashtags=["#LifeAtNorthwind"])
    assert {p["uri"] for p in out["posts"]} == {p["uri"] for p in clean["posts"]}


def test_probe(sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BLUESKY_API", airflow_connections(sandbox)["AIRFLOW_CONN_BLUESKY_API"])
    ps = PlatformSettings("bluesky", connection_id="bluesky_api", company_handles=(COMPANY_HANDLE,))
    assert [f.level for f in bluesky.probe(None, ps)] == ["ok", "ok"]
    wrong = PlatformSettings("bluesky", connection_id="bluesky_api", company_handles=("gone.bsky.social",))
    assert bluesky.probe(None, wrong)[0].level == "fail"
    monkeypatch.setenv("AIRFLOW_CONN_BLUESKY_API", json.dumps({"host": sandbox.url}))
    findings = bluesky.probe(None, ps)
    assert [f.level for f in findings] == ["ok", "warn"] and "app password" in findings[1].fix
    assert bluesky.probe(None, PlatformSettings("bluesky", connection_id="nope"))[0].level == "fail"


def test_random_transient_faults_change_nothing(sandbox, social_company, result):
    """The nightly fault run's mix (429s, 5xx, resets, timeouts, cut bodies, half JSON, short
    and repeated pages) on every Bluesky endpoint: the same records as a clean run."""
    from advocacy.sandbox.server import TRANSIENT_FAULTS

    conn = _conn(sandbox, timeout=2, transient_retries=6, transient_backoff=0.05, max_rate_limit_retries=8)
    sandbox.set_fault_rate(0.15, 11, (*TRANSIENT_FAULTS, "short_page", "repeat_page"), ["bluesky"])
    try:
        out = _extract(sandbox, social_company, conn)
    finally:
        sandbox.clear_faults()
    assert out.stats.retries + out.stats.rate_limited > 0
    assert {p["uri"] for p in out["posts"]} == {p["uri"] for p in result["posts"]}
    assert {p["did"] for p in out["profiles"]} == {p["did"] for p in result["profiles"]}

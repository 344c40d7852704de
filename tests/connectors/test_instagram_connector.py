"""The Instagram connector (facebook-sdk, Graph API) against the sandbox over HTTP (no mocks)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from advocacy.connectors import instagram as igc
from advocacy.connectors.base import ConnectionInfo
from advocacy.connectors.graph import GraphAuthError
from advocacy.sandbox.server import running_sandbox
from advocacy.sandbox.social import hashtag_id

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
PROGRAMME_START = dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
HASHTAGS = ["#LifeAtNorthwind", "#NorthwindRobotics"]


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def ig_id(social_company) -> str:
    return social_company.social.ids()["instagram_user_id"]


@pytest.fixture(scope="module")
def advocates(social_truth) -> list[str]:
    return [
        e["instagram_username"]
        for e in social_truth["employees"]
        if e["registered_at"] and e["instagram_username"]
    ]


def conn(sb, **extra) -> ConnectionInfo:
    return ConnectionInfo(
        "instagram_graph", sb.url, password="sandbox-graph-token", extra={"timeout": 10, **extra}
    )


def run(c, ig_id, advocates, *, start=PROGRAMME_START, end=WINDOW_END, lookback=()):
    return igc.extract(
        c,
        advocate_usernames=advocates,
        company_handles=[ig_id],
        hashtags=HASHTAGS,
        company_domains=["northwind.example"],
        window_start=start,
        window_end=end,
        lookback_ids=list(lookback),
    )


def _t(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _last_day_hashtag_media(truth, now=NOW) -> dict[str, dict]:
    return {
        p["id"]: p
        for p in truth["posts"] + truth["company_posts"]
        if p["platform"] == "instagram"
        and not p["deleted_at"]
        and now - dt.timedelta(days=1) <= _t(p["created_at"]) <= now
        and p["markers"]["has_programme_hashtag"]
    }


@pytest.fixture(scope="module")
def history(sandbox, ig_id, advocates):
    sandbox.reset_stats()
    result = run(conn(sandbox, recent_media_limit=1), ig_id, advocates)
    return result, sandbox.stats()


def test_history_run_company_media_business_discovery_and_hashtags(history, social_truth, ig_id, advocates):
    result, served = history
    assert set(result) == set(igc.STREAMS)
    media = {m["id"]: m for m in result["media"]}
    assert len(media) == len(result["media"])
    ig = [
        p
        for p in social_truth["posts"] + social_truth["company_posts"]
        if p["platform"] == "instagram" and not p["deleted_at"]
    ]
    in_window = [p for p in ig if PROGRAMME_START <= _t(p["created_at"]) < WINDOW_END]
    company = {p["id"] for p in in_window if p["author_id"] == ig_id}
    assert {i for i, m in media.items() if m["_found_via"] == "company_media"} == company
    access = {
        e["instagram_username"]: e["api_access"] for e in social_truth["employees"] if e["instagram_username"]
    }
    professional = {h for h in advocates if access[h]["instagram_professional"]}
    discovered = {p["id"] for p in in_window if p["author_username"] in professional}
    assert {i for i, m in media.items() if m["_found_via"] == "business_discovery"} == discovered
    assert {a["_handle"] for a in result["accounts"] if a["_role"] == "advocate"} == professional
    assert {e["username"] for e in result["account_errors"]} == set(advocates) - professional
    assert all(e["error"]["code"] == 110 for e in result["account_errors"])
    # hashtag search: every programme-hashtag media of the last 24 hours, paged one by one
    recent = _last_day_hashtag_media(social_truth)
    assert len(recent) >= 3
    assert {i for i, m in media.items() if m["_hashtag_ids"]} == set(recent)
    for i, m in media.items():
        if not m["_hashtag_ids"]:
            continue
        if m["_found_via"] == "hashtag":  # no author in hashtag media: community, or a personal account
            assert m["_author_username"] is None and m["_author_role"] == "unknown"
            assert recent[i]["employee_id"] is None
        else:
            assert m["_also_found_via"] == ["hashtag"]
    assert result.stats.by_endpoint["recent_media"] >= len(recent)
    assert result.stats.requests == served["total_requests"]
    assert [h["_query"] for h in result["hashtags"]] == ["LifeAtNorthwind", "NorthwindRobotics"]


def test_records_carry_the_truth(history, social_truth, ig_id):
    result, _ = history
    truth = {
        p["id"]: p
        for p in social_truth["posts"] + social_truth["company_posts"]
        if p["platform"] == "instagram"
    }
    hidden = 0
    for m in result["media"]:
        t = truth[m["id"]]
        assert m["_likes"] == t["counters"]["likes"] and m["_comments"] == t["counters"]["comments"]
        assert m["_likes_hidden"] == (t["counters"]["likes"] is None) == ("like_count" not in m)
        hidden += m["_likes_hidden"]
        if m["_author_role"] == "advocate":
            assert m["_author_employee_handle"] == t["author_username"] and t["employee_id"]
        if m["_author_role"] == "company":
            assert m["username"] == "northwindrobotics"
        assert m["_mentions_company"] == t["markers"]["mentions_company"]
        assert m["_shares"] is None and m["_impressions"] is None and not m["_is_pure_reshare"]
    assert hidden
    audience = {
        a["account_id"]: a["audience"] for a in social_truth["audiences"] if a["platform"] == "instagram"
    }
    assert all(a["_audience"] == audience[a["id"]] for a in result["accounts"])


def test_a_repeated_after_cursor_ends_the_listing(social_company, social_truth, ig_id):
    world = social_company.social["instagram"]
    hid = hashtag_id("lifeatnorthwind")
    with running_sandbox(company=social_company, now=NOW) as sb:
        for hours in range(0, 96):
            now = NOW - dt.timedelta(hours=hours)
            ts = now.timestamp()
            n = sum(
                1
                for p in world.posts_between(ts - 86400, ts + 1)
                if p.visible_at(ts) and "lifeatnorthwind" in {t.lower() for t in p.hashtags}
            )
            repeats = int(hashlib.md5(f"{hid}:{int(ts // 3600)}".encode()).hexdigest(), 16) % 2 == 0
            if n >= 3 and repeats:
                break
        else:
            pytest.fail("no hour with a repeated cursor")
        sb.set_now(now)
        result = igc.extract(
            conn(sb, recent_media_limit=2),
            advocate_usernames=[],
            company_handles=[ig_id],
            hashtags=["LifeAtNorthwind"],
            window_start=now - dt.timedelta(days=1),
            window_end=now,
        )
    found = [m for m in result["media"] if m["_hashtag_ids"]]
    assert len(found) == n
    assert any("repeated a cursor" in note for note in result.stats.notes)


def test_daily_run_refreshes_within_the_horizon_and_notes_the_rest(sandbox, social_truth, ig_id, advocates):
    old = [
        p["id"] for p in social_truth["posts"] if p["platform"] == "instagram" and p["created_at"] < "2026-06"
    ]
    result = run(
        conn(sandbox, lookback_days=30),
        ig_id,
        advocates,
        start=WINDOW_END - dt.timedelta(days=1),
        lookback=old[:5],
    )
    times = [
        _t(m["timestamp"].replace("+0000", "+00:00")) for m in result["media"] if m["_found_via"] != "hashtag"
    ]
    assert min(times) >= WINDOW_END - dt.timedelta(days=30)
    assert max(times) < WINDOW_END
    assert any("5 lookback media not seen again" in n for n in result.stats.notes)


def test_errors_name_the_connection(social_company, ig_id):
    with (
        running_sandbox(company=social_company, now=NOW, expired_tokens={"sandbox-graph-token"}) as sb,
        pytest.raises(GraphAuthError) as exc,
    ):
        run(conn(sb), ig_id, [], start=WINDOW_END - dt.timedelta(days=1))
    assert exc.value.code == 190 and "instagram_graph" in str(exc.value) and "Instagram" in str(exc.value)


def test_every_record_loads_with_its_declared_key_and_time(history):
    import json

    from advocacy.load import parse_time, stream_spec

    result, _ = history
    for stream, records in result.items():
        spec = stream_spec(igc.STREAMS[stream])
        json.dumps(records)  # landing writes JSON lines
        for rec in records:
            assert rec.get(spec.key) not in (None, ""), (stream, rec)
            if spec.time:
                assert parse_time(rec[spec.time]).tzinfo is not None

"""The real tweepy-based X connector against the sandbox over HTTP (no mocks)."""

from __future__ import annotations

import ast
import datetime as dt
import logging
import math
import time
from pathlib import Path

import pytest
from advocacy.connectors import x as xc
from advocacy.connectors.base import AuthError, ConnectionInfo, RateLimitError, base_url, safe_url
from advocacy.sandbox.company import Company
from advocacy.sandbox.server import running_sandbox
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)  # local midnight, Amsterdam
PROGRAMME_START = dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
HASHTAGS = ["#LifeAtNorthwind", "#NorthwindRobotics"]
TOKEN = "sandbox-x-token"


@pytest.fixture(scope="module")
def company() -> Company:
    return Company()


@pytest.fixture(scope="module")
def truth(company) -> dict:
    return company.ground_truth(NOW)


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(company=company, now=NOW) as sb:
        yield sb


def conn(sb, **extra) -> ConnectionInfo:
    return ConnectionInfo("x_api_test", sb.url, password=TOKEN, extra={"timeout": 10, **extra})


def advocates(truth) -> list[str]:
    return [e["x_username"] for e in truth["employees"] if e["registered_at"] and e["x_username"]]


def run(sb, truth, *, start=PROGRAMME_START, end=WINDOW_END, lookback=(), who=None, **extra):
    return xc.extract(
        conn(sb, **extra),
        advocate_usernames=advocates(truth) if who is None else who,
        company_handles=["NorthwindHQ"],
        hashtags=HASHTAGS,
        company_domains=["northwind.example"],
        window_start=start,
        window_end=end,
        lookback_ids=list(lookback),
    )


def _t(iso: str) -> dt.datetime:
    return xc.parse_created_at(iso)


def test_history_run_pages_to_the_end_searches_and_annotates(sandbox, truth):
    sandbox.reset_stats()
    messages: list[str] = []
    result = xc.extract(
        conn(sandbox),
        advocate_usernames=advocates(truth),
        company_handles=["NorthwindHQ"],
        hashtags=HASHTAGS,
        company_domains=["northwind.example"],
        window_start=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),  # the company has >100 posts since
        window_end=WINDOW_END,
        lookback_ids=[],
        progress=messages.append,
    )
    assert set(result) == set(xc.STREAMS)
    tweets = {t["id"]: t for t in result["tweets"]}
    assert len(tweets) == len(result["tweets"]), "one record per tweet"
    # every visible post of an advocate or the company in the window, nothing else from timelines
    advocate_ids = {
        u["id"]
        for u in truth["x_users"]
        if u["username"] in set(advocates(truth)) or u["username"] == "NorthwindHQ"
    }
    start, end = dt.datetime(2025, 9, 1, tzinfo=dt.UTC), WINDOW_END
    expected = {
        p["id"]
        for p in truth["posts"] + truth["company_posts"]
        if p["author_id"] in advocate_ids and not p["deleted_at"] and start <= _t(p["created_at"]) < end
    }
    from_timelines = {i for i, t in tweets.items() if t["_found_via"] in ("timeline", "company_timeline")}
    assert from_timelines == expected
    hq = [t for t in tweets.values() if t["_found_via"] == "company_timeline"]
    assert len(hq) > 100, "the company timeline needs a second page"
    # search adds community posts of the last 7 days, with their author's username
    searched = [t for t in tweets.values() if t["_found_via"] == "search"]
    community = {u["id"] for u in truth["x_users"] if u["role"] == "community"}
    assert searched and all(t["author_id"] not in advocate_ids for t in searched)
    assert any(t["author_id"] in community for t in searched)
    assert all(t["_author_username"] for t in tweets.values())
    both = [t for t in tweets.values() if t["_also_found_via"] == ["search"]]
    assert both and all(t["_found_via"] in ("timeline", "company_timeline") for t in both)
    # retweets and quotes name the company account they reshare
    hq_id = sandbox.company.company_user.id
    reshared = [t for t in tweets.values() if t.get("referenced_tweets")]
    assert reshared
    for t in reshared:
        ref = t["_referenced"][0]
        assert ref["type"] in ("retweeted", "quoted") and ref["id"] == t["referenced_tweets"][0]["id"]
        assert ref["author_id"] == hq_id and ref["author_username"] == "NorthwindHQ"
    assert all(t["_referenced"] == [] for t in tweets.values() if "referenced_tweets" not in t)
    # records are the API objects: string ids, X timestamps, six counters
    t = next(iter(tweets.values()))
    assert isinstance(t["id"], str) and t["created_at"].endswith(".000Z")
    assert set(t["public_metrics"]) == set(xc.METRIC_KEYS)
    users = {u["username"]: u for u in result["users"]}
    assert users["NorthwindHQ"]["_role"] == "company"
    assert {u["_role"] for u in result["users"]} == {"advocate", "company"}
    assert all("followers_count" in u["public_metrics"] for u in result["users"])
    # requests: as few as paging allows, and the same count the server saw
    stats = result.stats
    assert stats.requests <= 1.05 * stats.min_requests
    assert stats.requests == sandbox.stats()["total_requests"]
    timeline = stats.by_phase["timeline"]
    assert timeline["requests"] == timeline["min_requests"] > len(result["users"])  # paging happened
    assert stats.rate_limited == 0 and stats.records["tweets"] == len(tweets)
    assert any("timelines" in m for m in messages) and any("users" in m for m in messages)


def test_metric_refresh_reports_deleted_posts_as_tweet_errors(sandbox, truth):
    deleted = [p["id"] for p in truth["posts"] if p["deleted_at"]]
    alive = [
        p["id"]
        for p in truth["posts"]
        if not p["deleted_at"] and "2026-10-20" <= p["created_at"] < "2026-11-10"
    ]
    assert len(deleted) >= 5 and len(alive) > 100
    day_start = WINDOW_END - dt.timedelta(days=1)
    result = run(sandbox, truth, start=day_start, lookback=deleted[:5] + alive + deleted[:1])
    errors = {e["resource_id"]: e for e in result["tweet_errors"]}
    assert set(errors) == set(deleted[:5])
    assert all(e["_error_kind"] == "not_found" and e["_found_via"] == "lookup" for e in errors.values())
    refreshed = {t["id"] for t in result["tweets"] if t["_found_via"] == "lookup"}
    assert refreshed == set(alive)  # not fetched by the one-day window, so looked up
    lookups = result.stats.by_endpoint["tweets_lookup"]
    assert lookups == math.ceil(len(set(alive) | set(deleted[:5])) / 100)
    # a batch where every id is gone (no data key at all) is fine too
    only_gone = run(sandbox, truth, start=day_start, lookback=deleted[:3], who=[])
    assert {e["resource_id"] for e in only_gone["tweet_errors"]} == set(deleted[:3])


def test_a_bad_token_fails_clearly_naming_the_connection(sandbox, truth):
    bad = ConnectionInfo("x_api_prod", sandbox.url, password="not-the-token", extra={})
    with pytest.raises(AuthError) as exc:
        xc.extract(
            bad,
            advocate_usernames=["someone"],
            company_handles=["NorthwindHQ"],
            hashtags=HASHTAGS,
            company_domains=[],
            window_start=WINDOW_END - dt.timedelta(days=1),
            window_end=WINDOW_END,
            lookback_ids=[],
        )
    message = str(exc.value)
    assert "x_api_prod" in message and "401" in message
    assert "not-the-token" not in message
    with pytest.raises(AuthError, match="x_api_prod.*no bearer token"):
        xc.from_connection(ConnectionInfo("x_api_prod", sandbox.url))


def test_429_waits_for_the_reset_and_completes(company, truth):
    who = advocates(truth)[:6]
    with running_sandbox(
        company=company, now=NOW, rate_limits={"users_tweets": 4}, rate_window_seconds=1
    ) as sb:
        started = time.monotonic()
        result = run(sb, truth, start=WINDOW_END - dt.timedelta(days=60), who=who)
        elapsed = time.monotonic() - started
        served = sb.stats()["served_429"]
    assert served == {"x.users_tweets": 1}
    assert result.stats.rate_limited == 1
    assert result.stats.rate_limit_wait_seconds > 0.2 and elapsed < 10
    assert result.stats.by_endpoint["users_tweets"] == len(who) + 1
    with running_sandbox(company=company, now=NOW) as sb:
        unthrottled = run(sb, truth, start=WINDOW_END - dt.timedelta(days=60), who=who)
    assert sorted(t["id"] for t in result["tweets"]) == sorted(t["id"] for t in unthrottled["tweets"])


def test_429_without_reset_header_backs_off_a_bounded_number_of_times(company, truth):
    who = advocates(truth)[:3]
    kwargs = dict(rate_limits={"users_tweets": 2}, rate_window_seconds=1, omit_reset_header=True)
    with running_sandbox(company=company, now=NOW, **kwargs) as sb:
        result = run(sb, truth, start=WINDOW_END - dt.timedelta(days=30), who=who, rate_limit_fallback_wait=1)
        assert result.stats.rate_limited >= 1
        assert result.stats.by_endpoint["users_tweets"] == len(who) + 1
    with (
        running_sandbox(company=company, now=NOW, **kwargs) as sb,
        pytest.raises(RateLimitError, match="x_api_test"),
    ):
        run(
            sb,
            truth,
            start=WINDOW_END - dt.timedelta(days=30),
            who=who,
            rate_limit_fallback_wait=1,
            max_rate_limit_retries=0,
        )
    with (
        running_sandbox(company=company, now=NOW, rate_limits={"users_by": 0}) as sb,
        pytest.raises(RateLimitError, match="x_api_test.*wait_on_rate_limit is off"),
    ):
        run(sb, truth, who=who, wait_on_rate_limit="false")


def test_search_stays_inside_the_seven_days_the_server_allows(sandbox, truth):
    # the server's clock (Date header) is 4 h past the window end: start must follow it
    result = run(sandbox, truth, start=WINDOW_END - dt.timedelta(days=10), who=[])
    assert sandbox.stats()["served_400"] == {}
    start = dt.datetime.fromisoformat(result.stats.search_start)
    assert NOW - dt.timedelta(days=7) < start < NOW - dt.timedelta(days=7) + dt.timedelta(minutes=5)
    assert any(t["_found_via"] == "search" for t in result["tweets"])
    # a window that ended more than 7 days before the server's clock cannot be searched
    old = run(
        sandbox,
        truth,
        start=WINDOW_END - dt.timedelta(days=20),
        end=WINDOW_END - dt.timedelta(days=9),
        who=[],
    )
    assert not any(t["_found_via"] == "search" for t in old["tweets"])
    assert any("search skipped" in n for n in old.stats.notes)


def test_the_bearer_token_never_reaches_the_logs(sandbox, truth, caplog):
    caplog.set_level(logging.DEBUG)
    run(sandbox, truth, start=WINDOW_END - dt.timedelta(days=2), who=advocates(truth)[:2])
    assert "Bearer ***" in caplog.text  # tweepy dumped its headers at DEBUG...
    assert TOKEN not in caplog.text  # ...without the token


def test_pure_helpers():
    queries = xc.search_queries(HASHTAGS, ["@NorthwindHQ"], ["northwind.example"])
    assert queries == ['(#LifeAtNorthwind OR #NorthwindRobotics OR @NorthwindHQ OR url:"northwind.example")']
    many = xc.search_queries([f"#tag{i:03d}" for i in range(120)], [], [])
    assert len(many) > 1 and all(len(q) <= 512 for q in many)
    assert sum(q.count("#tag") for q in many) == 120
    assert xc.search_queries(["LifeAtNorthwind"], [], []) == ["#LifeAtNorthwind"]
    end = dt.datetime(2026, 11, 21, 23, tzinfo=dt.UTC)
    assert xc.search_start(end - dt.timedelta(days=1), end) == end - dt.timedelta(days=1)
    assert xc.search_start(end - dt.timedelta(days=30), end) == end - dt.timedelta(days=7, minutes=-1)
    msg = "Invalid 'start_time':'2026-11-01T00:00Z'. 'start_time' must be on or after 2026-11-15T03:00Z"
    assert xc.allowed_start_from_error([msg]) == dt.datetime(2026, 11, 15, 3, tzinfo=dt.UTC)
    assert xc.allowed_start_from_error(["something else"]) is None
    assert base_url("api.twitter.com/", "x") == "https://api.twitter.com"
    assert base_url("", "https://api.twitter.com") == "https://api.twitter.com"
    assert safe_url("https://u:secret@host:8443/2/tweets?ids=1") == "https://host:8443/2/tweets"
    assert "secret" not in repr(ConnectionInfo("c", "h", password="secret"))


def test_the_connector_never_imports_the_sandbox():
    root = Path(xc.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any("sandbox" in n for n in names), (path.name, names)


@settings(max_examples=150, deadline=None)
@given(
    tags=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,60}", fullmatch=True), max_size=60),
    handles=st.lists(st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True), max_size=5),
)
def test_search_queries_keep_every_term_once_within_512_chars(tags, handles):
    queries = xc.search_queries(tags, handles, ["northwind.example"])
    assert all(len(q) <= 512 for q in queries)
    terms = [t for q in queries for t in q.strip("()").split(" OR ")]
    wanted = list(dict.fromkeys([f"#{t}" for t in tags] + [f"@{h}" for h in handles]))
    assert terms == wanted + ['url:"northwind.example"']

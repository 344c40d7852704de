"""The X connector's parsing and the sandbox's responses, checked against REAL X payloads.

The payloads are the recorded/documented bodies in ``tests/fixtures/api/x`` (its
PROVENANCE.md names each one's source). Where the sandbox answers the same request,
the key structure must match the real one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import requests
from advocacy.connectors import x as xc
from advocacy.sandbox.company import Company
from advocacy.sandbox.server import running_sandbox

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "api"
TWITTER = CONTRACTS / "x"

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
AUTH = {"Authorization": "Bearer sandbox-x-token"}
X_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")


def contract(name: str) -> dict:
    return json.loads((TWITTER / f"{name}.json").read_text(encoding="utf-8"))


def body(name: str) -> dict:
    return contract(name)["body"]


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(company=Company(), now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def truth(sandbox) -> dict:
    return sandbox.company.ground_truth(NOW)


def call(sandbox, path, **params) -> requests.Response:
    return requests.get(sandbox.url + path, params=params, headers=AUTH, timeout=10)


def keys(items) -> set[str]:
    out: set[str] = set()
    for item in items:
        out |= set(item)
    return out


# --------------------------------------------------------------------------- helpers on real files
def test_parse_created_at_on_every_real_timestamp():
    stamps = []
    for path in sorted(TWITTER.glob("*.json")):
        stamps += re.findall(r'"created_at": "([^"]+)"', path.read_text(encoding="utf-8"))
    assert len(stamps) >= 5
    for s in stamps:
        parsed = xc.parse_created_at(s)
        assert parsed.tzinfo is not None and parsed.utcoffset() == dt.timedelta(0)
        assert parsed.strftime("%Y-%m-%dT%H:%M:%S.000Z") == s
    assert xc.parse_created_at("2026-03-04T10:15:00Z") == dt.datetime(2026, 3, 4, 10, 15, tzinfo=dt.UTC)
    assert xc.parse_created_at(None) is None


def test_normalise_public_metrics_tolerates_four_and_six_keys():
    four = body("search_recent__documented_with_fields")["data"][0]["public_metrics"]
    six = body("tweet_by_id__documented_public_metrics_6_keys")["data"]["public_metrics"]
    n4, n6 = xc.normalise_public_metrics(four), xc.normalise_public_metrics(six)
    assert set(n4) == set(n6) == set(six)
    assert n4["like_count"] == 42 and n4["bookmark_count"] is None and n4["impression_count"] is None
    assert n6 == six
    assert xc.normalise_public_metrics(None)["like_count"] is None


def test_partial_errors_on_the_real_error_shapes():
    documented = xc.partial_errors(body("tweets_lookup__documented_partial_error"))
    assert [(e["resource_id"], e["_error_kind"]) for e in documented] == [("456", "not_found")]
    observed = xc.partial_errors(body("tweets_lookup__observed_errors_only_suspended_or_protected"))
    assert [(e["resource_id"], e["_error_kind"]) for e in observed] == [
        ("551659627872415744", "not_authorized")
    ]
    users = xc.partial_errors(body("users_lookup__documented_partial_error_suspended_or_deleted"))
    assert [(e["resource_id"], e["_error_kind"]) for e in users] == [("1234567890", "not_found")]
    assert "type" not in users[0]  # kept as returned: this documented entry has no type
    assert xc.partial_errors(body("tweets_lookup__recorded_default_fields")) == []
    # a 429 body is not a partial error
    assert xc.partial_errors(body("rate_limit_429__documented")) == []


def test_error_kind_ignores_the_host_of_the_type_uri():
    for host in ("https://api.x.com", "https://api.twitter.com"):
        assert xc.error_kind({"type": f"{host}/2/problems/resource-not-found"}) == "not_found"
        assert xc.error_kind({"type": f"{host}/2/problems/not-authorized-for-resource"}) == "not_authorized"
    assert xc.error_kind({"title": "Something Else"}) == "other"


def test_http_date_with_the_recorded_utc_suffix():
    headers = contract("search_recent__recorded_default_fields")["headers"]
    assert xc.parse_http_date(headers["date"]) == dt.datetime(2022, 10, 7, 22, 43, 19, tzinfo=dt.UTC)
    gmt = contract("users_by_usernames__recorded_default_fields")["headers"]["date"]
    assert xc.parse_http_date(gmt).year == 2021


# --------------------------------------------------------------------------- sandbox vs real
def test_rate_limit_headers_and_limits_match_the_recordings(sandbox):
    recorded = {
        "/2/tweets/search/recent": ("search_recent__recorded_default_fields", {"query": "#LifeAtNorthwind"}),
        "/2/tweets": ("tweets_lookup__recorded_default_fields", {"ids": "1"}),
        "/2/users/by": ("users_by_usernames__recorded_default_fields", {"usernames": "NorthwindHQ"}),
        f"/2/users/{sandbox.company.company_user.id}/tweets": (
            "users_id_tweets__recorded_default_fields",
            {},
        ),
    }
    for path, (name, params) in recorded.items():
        real = contract(name)["headers"]
        r = call(sandbox, path, **params)
        assert r.status_code == 200
        for h in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"):
            assert h in r.headers, (path, h)
        assert r.headers["x-rate-limit-limit"] == real["x-rate-limit-limit"], path
        assert r.headers["content-type"] == real["content-type"]


def test_default_field_responses_have_the_recorded_keys(sandbox):
    hq = sandbox.company.company_user
    pairs = [
        ("users_by_usernames__recorded_default_fields", "/2/users/by", {"usernames": "NorthwindHQ"}),
        ("users_id_tweets__recorded_default_fields", f"/2/users/{hq.id}/tweets", {"max_results": 5}),
        ("search_recent__recorded_default_fields", "/2/tweets/search/recent", {"query": "@NorthwindHQ"}),
    ]
    for name, path, params in pairs:
        real, ours = body(name), call(sandbox, path, **params).json()
        assert set(ours) == set(real), name
        assert keys(ours["data"]) == keys(real["data"]), name
        if "meta" in real:
            assert set(ours["meta"]) == set(real["meta"]), name  # incl. next_token
            assert all(isinstance(v, str) for k, v in ours["meta"].items() if k != "result_count")
    ids = [t["id"] for t in call(sandbox, f"/2/users/{hq.id}/tweets").json()["data"][:2]]
    real = body("tweets_lookup__recorded_default_fields")
    ours = call(sandbox, "/2/tweets", ids=",".join(ids)).json()
    assert set(ours) == set(real) and keys(ours["data"]) == keys(real["data"])


def test_search_with_fields_matches_the_documented_shape(sandbox):
    real = body("search_recent__documented_with_fields")
    # the documented request: tweet.fields=created_at,public_metrics,author_id&expansions=author_id
    ours = call(
        sandbox,
        "/2/tweets/search/recent",
        query="#LifeAtNorthwind",
        max_results=10,
        **{
            "tweet.fields": "created_at,public_metrics,author_id",
            "expansions": "author_id",
            "user.fields": "username,verified",
        },
    ).json()
    assert set(ours) >= set(real)
    assert keys(ours["data"]) == keys(real["data"])
    assert keys(ours["includes"]["users"]) >= keys(real["includes"]["users"])
    assert set(ours["meta"]) - {"next_token"} == set(real["meta"])
    six = body("tweet_by_id__documented_public_metrics_6_keys")["data"]["public_metrics"]
    four = real["data"][0]["public_metrics"]
    for t in ours["data"]:
        assert set(t["public_metrics"]) == set(six) >= set(four)
        assert X_TIME.match(t["created_at"])
        assert t["id"].isdigit() and t["author_id"].isdigit()


def test_lookup_with_expansions_matches_the_documented_payload(sandbox, truth):
    real = body("tweets_lookup__documented_expansions_author_referenced")
    quote = next(p for p in reversed(truth["posts"]) if p["kind"] == "quote" and not p["deleted_at"])
    ours = call(
        sandbox,
        "/2/tweets",
        ids=quote["id"],
        **{
            "tweet.fields": "conversation_id,public_metrics,entities,created_at,author_id,"
            "referenced_tweets,lang,possibly_sensitive",
            "expansions": "author_id,referenced_tweets.id",
            "user.fields": "created_at,description,public_metrics,verified,protected",
        },
    ).json()
    tweet, real_tweet = ours["data"][0], real["data"][0]
    assert set(tweet) - {"edit_history_tweet_ids"} <= set(real_tweet)
    assert {
        "conversation_id",
        "public_metrics",
        "entities",
        "created_at",
        "author_id",
        "referenced_tweets",
        "lang",
        "possibly_sensitive",
        "text",
        "id",
    } <= set(tweet)
    assert set(tweet["referenced_tweets"][0]) == set(real_tweet["referenced_tweets"][0])
    assert set(ours["includes"]) == set(real["includes"]) == {"users", "tweets"}
    real_user = real["includes"]["users"][0]
    for user in ours["includes"]["users"]:
        assert set(user["public_metrics"]) == set(real_user["public_metrics"])
        assert set(user) <= set(real_user)
    assert ours["includes"]["tweets"][0]["id"] == quote["referenced"]["id"]
    url_keys = keys(real["data"][0]["entities"]["urls"])
    assert keys(tweet["entities"]["urls"]) <= url_keys
    full = body("tweets_lookup__documented_full_fields")["data"][0]["entities"]
    for kind in ("hashtags", "mentions"):
        ours_kind = [
            e
            for p in call(
                sandbox,
                "/2/tweets/search/recent",
                query="@NorthwindHQ #LifeAtNorthwind",
                **{"tweet.fields": "entities"},
            ).json()["data"]
            for e in p["entities"].get(kind, [])
        ]
        real_kind = full.get(kind) or real["includes"]["tweets"][0]["entities"].get(kind)
        assert ours_kind and keys(ours_kind) >= keys(real_kind) - {"id"}, kind


def test_partial_error_entries_have_the_real_keys(sandbox, truth):
    gone = next(p["id"] for p in truth["posts"] if p["deleted_at"])
    alive = truth["posts"][-1]["id"]
    mixed = call(sandbox, "/2/tweets", ids=f"{alive},{gone}").json()
    documented = body("tweets_lookup__documented_partial_error")
    assert set(mixed) == set(documented) == {"data", "errors"}
    assert set(mixed["errors"][0]) >= set(documented["errors"][0])
    only = call(sandbox, "/2/tweets", ids=gone).json()
    observed = body("tweets_lookup__observed_errors_only_suspended_or_protected")
    assert set(only) == set(observed) == {"errors"}
    assert set(only["errors"][0]) >= set(observed["errors"][0])
    assert only["errors"][0]["title"] == "Not Found Error"
    users = call(sandbox, "/2/users/by", usernames="NorthwindHQ,no_such_user").json()
    real_users = body("users_lookup__documented_partial_error_suspended_or_deleted")
    assert set(users) == set(real_users)
    assert set(users["errors"][0]) >= set(real_users["errors"][0])
    # and the connector's helper reads the sandbox's errors like the real ones
    assert [e["resource_id"] for e in xc.partial_errors(only, parameter="ids")] == [gone]


def test_429_and_401_bodies_are_the_observed_ones():
    with running_sandbox(
        company=Company(size=20), now=NOW, rate_limits={"search_recent": 0}, rate_window_seconds=2
    ) as sb:
        r = call(sb, "/2/tweets/search/recent", query="#LifeAtNorthwind")
        assert r.status_code == 429
        assert r.json() == body("rate_limit_429__observed_v2")
        assert r.headers["x-rate-limit-remaining"] == "0"
        assert int(r.headers["x-rate-limit-reset"]) > 1_700_000_000  # epoch seconds
        bad = requests.get(
            sb.url + "/2/users/by?usernames=a", headers={"Authorization": "Bearer x"}, timeout=10
        )
        assert bad.status_code == 401
        assert set(bad.json()) == set(body("rate_limit_429__observed_v2"))  # same problem+json keys

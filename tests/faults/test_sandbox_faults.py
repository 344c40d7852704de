"""What the sandbox's faults look like on the wire (plain ``requests``, no connector)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from advocacy.sandbox.server import running_sandbox
from conftest import NOW

X_AUTH = {"Authorization": "Bearer sandbox-x-token"}
LI_HEADERS = {"Authorization": "Bearer sandbox-linkedin-token", "LinkedIn-Version": "202610"}


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(company=company, now=NOW, read_timeout_seconds=1.0) as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    sandbox.clear_faults()
    sandbox.reset_stats()
    return sandbox


@pytest.fixture(scope="module")
def timeline(sandbox, company) -> str:
    user = company.user_by_username("SanneLee")
    return f"{sandbox.url}/2/users/{user.id}/tweets"


def x_page(url: str, **params) -> requests.Response:
    return requests.get(url, params={"max_results": "100", **params}, headers=X_AUTH, timeout=5)


def test_connection_reset_read_timeout_and_cut_body(sb, timeline):
    sb.inject_fault("x.users_tweets", "connection_reset")
    with pytest.raises(requests.ConnectionError):
        x_page(timeline)
    sb.inject_fault("x.users_tweets", "read_timeout")
    with pytest.raises(requests.Timeout):
        requests.get(timeline, headers=X_AUTH, timeout=0.3)
    sb.inject_fault("x.users_tweets", "truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        x_page(timeline)
    sb.inject_fault("x.users_tweets", "non_json")
    r = x_page(timeline)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        r.json()
    assert x_page(timeline).json()["data"]  # one-shot: the next request is served
    assert sb.stats()["faults"] == {"connection_reset": 1, "read_timeout": 1, "truncated": 1, "non_json": 1}


def test_a_short_page_continues_right_after_its_last_item(sb, timeline):
    full = x_page(timeline).json()
    sb.inject_fault("x.users_tweets", "short_page")
    short = x_page(timeline).json()
    assert short["meta"]["result_count"] == 37 and "next_token" in short["meta"]
    rest = x_page(timeline, pagination_token=short["meta"]["next_token"]).json()
    ids = [t["id"] for t in short["data"] + rest["data"]]
    assert ids[: len(full["data"])] == [t["id"] for t in full["data"]]  # nothing skipped


def test_a_repeated_page_is_the_previous_page_with_its_next_token(sb, timeline):
    first = x_page(timeline).json()
    token = first["meta"]["next_token"]
    sb.inject_fault("x.users_tweets", "repeat_page")
    again = x_page(timeline, pagination_token=token).json()
    assert again == first  # the items already seen, and the token the client just followed
    second = x_page(timeline, pagination_token=token).json()
    assert second["data"][0]["id"] != first["data"][0]["id"]


def test_a_first_page_has_nothing_to_repeat(sb, timeline):
    sb.inject_fault("x.users_tweets", "repeat_page")
    assert x_page(timeline).status_code == 200
    assert sb.stats()["faults"] == {}


def test_each_platform_refuses_in_its_own_dialect(sb, ids):
    graph = f"{sb.url}/v21.0/{ids['facebook_page_id']}"
    token = {"access_token": "sandbox-graph-token"}
    li = f"{sb.url}/rest/networkSizes/{requests.utils.quote(ids['linkedin_organization_urn'], safe='')}"
    li_params = {"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"}

    sb.inject_fault("x.users_by", "rate_limit")
    r = requests.get(f"{sb.url}/2/users/by", params={"usernames": "SanneLee"}, headers=X_AUTH, timeout=5)
    assert r.status_code == 429 and r.json()["title"] == "Too Many Requests"
    assert r.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(r.headers["x-rate-limit-reset"]) - time.time() <= 2  # resets in a second

    sb.inject_fault("graph.node", "rate_limit")
    r = requests.get(graph, params=token, timeout=5)
    assert r.json()["error"]["code"] == 4 and r.json()["error"]["is_transient"] is True
    assert json.loads(r.headers["x-app-usage"])["call_count"] == 100

    sb.inject_fault("linkedin.network_sizes", "rate_limit")
    r = requests.get(li, params=li_params, headers=LI_HEADERS, timeout=5)
    assert r.status_code == 429 and r.json()["status"] == 429

    for fault, status in (("status_500", 500), ("status_503", 503)):
        sb.inject_fault("x.users_by", fault)
        sb.inject_fault("graph.node", fault)
        sb.inject_fault("linkedin.network_sizes", fault)
        r = requests.get(f"{sb.url}/2/users/by", params={"usernames": "a"}, headers=X_AUTH, timeout=5)
        assert (r.status_code, r.json()["status"]) == (status, status)
        r = requests.get(graph, params=token, timeout=5)
        assert r.status_code == status and r.json()["error"]["is_transient"] is True
        r = requests.get(li, params=li_params, headers=LI_HEADERS, timeout=5)
        assert (r.status_code, r.json()["status"]) == (status, status)
    sb.inject_fault("graph.node", "status_502")
    assert "text/html" in requests.get(graph, params=token, timeout=5).headers["Content-Type"]

    sb.inject_fault("x.users_by", "token_expired")
    assert (
        requests.get(f"{sb.url}/2/users/by", params={"usernames": "a"}, headers=X_AUTH, timeout=5).status_code
        == 401
    )
    sb.inject_fault("graph.node", "token_expired")
    error = requests.get(graph, params=token, timeout=5).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)
    sb.inject_fault("linkedin.network_sizes", "token_expired")
    body = requests.get(li, params=li_params, headers=LI_HEADERS, timeout=5).json()
    assert (body["status"], body["code"]) == (401, "EXPIRED_ACCESS_TOKEN")


def test_random_faults_through_the_admin_endpoint(sb, timeline):
    r = requests.post(
        f"{sb.url}/_sandbox/faults", json={"rate": 1.0, "seed": 3, "faults": ["status_503"]}, timeout=5
    )
    assert r.json() == {"ok": True}
    assert x_page(timeline).status_code == 503
    assert requests.get(f"{sb.url}/_sandbox/health", timeout=5).status_code == 200  # admin never faults
    requests.post(f"{sb.url}/_sandbox/clear_faults", timeout=5)
    assert x_page(timeline).status_code == 200
    requests.post(
        f"{sb.url}/_sandbox/faults",
        json={"endpoint": "x", "fault": "status_500", "times": 1, "after": 1},
        timeout=5,
    )
    assert [x_page(timeline).status_code for _ in range(3)] == [200, 500, 200]
    with pytest.raises(ValueError):
        sb.set_fault_rate(1.5)

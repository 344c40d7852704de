"""One retry policy for every connector: what a permanently failing endpoint costs.

Each test makes ONE logical call of a connector's client (the real client library: tweepy,
facebook-sdk, requests) to the sandbox, whose endpoint answers every request with the same
fault, and counts at the sandbox what reached it. The shared ``RetryPolicy`` is the only
retry layer, so the count is ``1 + transient_retries`` on every platform (4 by default;
nested layers made it 16 on X and LinkedIn).
"""

from __future__ import annotations

import pytest
from advocacy.connectors import graph, linkedin, x
from advocacy.connectors.base import ConnectorError, RetryPolicy
from advocacy.sandbox.server import running_sandbox
from conftest import NOW, PAGED, READ_TIMEOUT, connection

PERMANENT = ("status_500", "status_503", "connection_reset", "non_json", "truncated")


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(company=company, now=NOW, read_timeout_seconds=READ_TIMEOUT) as sb:
        yield sb


def one_call(platform: str, sb, company, **extra) -> None:
    """One logical call to the endpoint of ``PAGED[platform]`` (its first page)."""
    ids = company.social.ids()
    conn = connection(platform, sb, company, **extra)
    if platform == "x":
        xc = x.from_connection(conn)
        user = xc.call("users lookup", xc.client.get_users, usernames=["NorthwindHQ"])
        sb.reset_stats()  # count only the listing's call
        xc.call("timeline", xc.client.get_users_tweets, id=user["data"][0]["id"], max_results=100)
    elif platform == "linkedin":
        lc = linkedin.LinkedInClient(conn)
        org = linkedin.encode_urn(ids["linkedin_organization_urn"])
        lc.json("/rest/posts", f"q=author&author={org}&count=10&start=0", what="posts", endpoint="posts")
    elif platform == "facebook":
        gc = graph.GraphClient(conn, "Facebook")
        gc.request(
            f"{ids['facebook_page_id']}/posts", {"limit": 25}, what="page posts", endpoint="page_posts"
        )
    else:
        gc = graph.GraphClient(conn, "Instagram")
        gc.request(f"{ids['instagram_user_id']}/media", {"limit": 10}, what="media", endpoint="media")


@pytest.mark.parametrize("fault", PERMANENT)
@pytest.mark.parametrize("platform", sorted(PAGED))
def test_a_permanently_failing_endpoint_costs_the_same_few_requests_everywhere(
    sandbox, company, platform, fault
):
    sandbox.clear_faults()
    sandbox.reset_stats()
    sandbox.set_fault_rate(1.0, faults=[fault], endpoints=[PAGED[platform]])
    try:
        with pytest.raises(ConnectorError):
            one_call(platform, sandbox, company)
        made = sandbox.stats()["requests"].get(PAGED[platform], 0)
    finally:
        sandbox.clear_faults()
    assert made == RetryPolicy().max_requests == 4, (platform, fault, made)


@pytest.mark.parametrize("platform", sorted(PAGED))
def test_the_count_follows_transient_retries(sandbox, company, platform):
    sandbox.clear_faults()
    sandbox.reset_stats()
    sandbox.set_fault_rate(1.0, faults=["status_503"], endpoints=[PAGED[platform]])
    try:
        with pytest.raises(ConnectorError):
            one_call(platform, sandbox, company, transient_retries=1)
        made = sandbox.stats()["requests"].get(PAGED[platform], 0)
    finally:
        sandbox.clear_faults()
    assert made == 2, (platform, made)


def test_a_429_without_a_hint_backs_off_exponentially_up_to_the_cap():
    policy = RetryPolicy.from_extra({"rate_limit_fallback_wait": 1, "rate_limit_backoff_cap": 8})
    assert [policy.rate_limit_wait(n) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    # the platform's own hint wins, bounded by max_rate_limit_wait
    assert policy.rate_limit_wait(1, hint=30) == 30
    assert RetryPolicy.from_extra({"max_rate_limit_wait": 10}).rate_limit_wait(1, hint=3600) == 10
    # defaults: never the former 60 s per refusal without a hint
    assert RetryPolicy().rate_limit_wait(1) == 1 and RetryPolicy().rate_limit_wait(10) == 60

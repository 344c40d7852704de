"""Platform drift on the connector side: one metric the platform has retired or refuses must not
fail the extract. The connector drops it with a warning naming the connection and keeps the rest.

The sandbox refuses a configured metric in the platform's real error shape (Graph: ``(#100)
The value must be a valid insights metric``; LinkedIn: 400 ``ILLEGAL_ARGUMENT`` naming
``queryType``), checked here over raw HTTP too.
"""

from __future__ import annotations

import logging

import pytest
import requests
from advocacy.sandbox.server import running_sandbox
from conftest import NOW, small_extract


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(
        company=company, now=NOW, deprecated_metrics=["post_total_media_view_unique", "MEMBERS_REACHED"]
    ) as sb:
        yield sb


def test_graph_refuses_a_deprecated_insights_metric_in_its_error_shape(sandbox, company, ids):
    post = next(p for p in company.social["facebook"].posts if p.author == 0)
    r = requests.get(
        f"{sandbox.url}/v21.0/{post.id}",
        params={
            "fields": "insights.metric(post_total_media_view_unique)",
            "access_token": "sandbox-graph-token",
        },
        timeout=5,
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert "valid insights metric" in error["message"]
    ok = requests.get(
        f"{sandbox.url}/v21.0/{post.id}",
        params={"fields": "insights.metric(post_media_view)", "access_token": "sandbox-graph-token"},
        timeout=5,
    )
    assert ok.status_code == 200


def test_linkedin_refuses_a_deprecated_metric_type_in_its_error_shape(sandbox, company):
    world = company.social["linkedin"]
    post = next(p for p in world.posts if p.author != 0)
    r = requests.get(
        f"{sandbox.url}/rest/memberCreatorPostAnalytics",
        params={
            "q": "entity",
            "entity": f"(share:{post.id})",
            "queryType": "MEMBERS_REACHED",
            "aggregation": "TOTAL",
        },
        headers={"Authorization": "Bearer sandbox-linkedin-token", "LinkedIn-Version": "202610"},
        timeout=5,
    )
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == 400 and body["code"] == "ILLEGAL_ARGUMENT"
    assert "queryType" in body["message"] and "MEMBERS_REACHED" in body["message"]


def test_facebook_drops_the_retired_insights_metric_and_keeps_the_other(sandbox, company, caplog):
    with caplog.at_level(logging.WARNING):
        result = small_extract("facebook", sandbox, company)
    page_posts = [p for p in result["posts"] if p["_author_role"] == "company"]
    assert page_posts
    for post in page_posts:
        assert post["_insights_dropped"] == ["post_total_media_view_unique"]
        assert set(post["_insights"]) == {"post_media_view"}
        assert isinstance(post["_impressions"], int)  # the impressions still come (post_media_view)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("post_total_media_view_unique" in w and "facebook_graph" in w for w in warnings)
    assert any("dropped: post_total_media_view_unique" in n for n in result.stats.notes)


def test_linkedin_drops_the_refused_metric_type_and_keeps_the_others(sandbox, company, caplog):
    with caplog.at_level(logging.WARNING):
        result = small_extract("linkedin", sandbox, company)
    analysed = [p for p in result["posts"] if p["_analytics_status"] == "ok"]
    assert analysed, "no advocate post with analytics: the test proves nothing"
    for post in analysed:
        assert set(post["_member_analytics"]) == {"IMPRESSION", "RESHARE"}
        assert post["_analytics_dropped"] == ["MEMBERS_REACHED"]
        assert post["_impressions"] is not None and post["_members_reached"] is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("MEMBERS_REACHED" in w and "linkedin_api" in w for w in warnings)
    # the refused type is asked once, not once per post
    assert sum("MEMBERS_REACHED" in n for n in result.stats.notes) == 1


def test_a_metric_deprecated_while_the_sandbox_runs(company):
    with running_sandbox(company=company, now=NOW) as sb:
        before = small_extract("linkedin", sb, company)
        sb.deprecate_metric("RESHARE")
        after = small_extract("linkedin", sb, company)
    ok = [p for p in after["posts"] if p["_analytics_status"] == "ok"]
    assert ok and all("RESHARE" not in p["_member_analytics"] for p in ok)
    assert [p["id"] for p in after["posts"]] == [p["id"] for p in before["posts"]]

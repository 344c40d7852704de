"""Shared pieces of the fault tests: one sandbox company, short client timeouts and small
extracts per platform that still page (so a fault can hit a page in the middle of a listing).

The real client libraries (tweepy, facebook-sdk, requests, atproto's httpx) talk HTTP to the sandbox on
loopback; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from advocacy.connectors import bluesky, facebook, instagram, linkedin, x
from advocacy.connectors.base import ConnectionInfo
from advocacy.sandbox import bluesky as sandbox_bluesky
from advocacy.sandbox.company import Company

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
PROGRAMME_START = dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
CLIENT_TIMEOUT = 0.6  # the sandbox's read_timeout fault sleeps longer (READ_TIMEOUT)
READ_TIMEOUT = 1.2
#: the platforms of the fault battery (test_connector_faults.py, test_retry_policy.py through
#: PAGED). Not Bluesky: its reads are public (no token to expire or revoke, which the battery
#: checks on every platform) and its retries are its own, through the atproto SDK (not the
#: shared RetryPolicy the request counts assume); its faults: tests/connectors/test_bluesky_connector.py
MODULES = {"x": x, "facebook": facebook, "instagram": instagram, "linkedin": linkedin}
#: the platforms whose extract resumes from a checkpoint (test_resume.py): all five
RESUMABLE = {**MODULES, "bluesky": bluesky}
#: fast waits: rate-limit faults reset in 1 s (X) or fall back to these (Graph, LinkedIn)
FAST = {
    "timeout": CLIENT_TIMEOUT,
    "transient_backoff": 0.05,
    "rate_limit_fallback_wait": 0.2,
    "max_rate_limit_wait": 2,
}
#: the endpoint of each platform whose listing the single-fault tests hit
PAGED = {
    "x": "x.users_tweets",
    "facebook": "graph.page_posts",
    "instagram": "graph.ig_media",
    "linkedin": "linkedin.posts",
}
#: the listing the resume test breaks on each platform: Bluesky's is the programme search
#: (the last listing, behind the session: everything before it, public and session reads,
#: is replayed); kept out of PAGED, whose platforms test_retry_policy.py calls one by one
RESUME_PAGED = {**PAGED, "bluesky": "bluesky.search_posts"}


@pytest.fixture(scope="session")
def company() -> Company:
    return Company()


@pytest.fixture(scope="session")
def ids(company) -> dict:
    return company.social.ids()


def connection(platform: str, sb, company: Company, **extra) -> ConnectionInfo:
    """The connection a deployment would define for ``platform``, pointed at the sandbox."""
    extra = {**FAST, **extra}
    if platform == "x":
        return ConnectionInfo("x_api", sb.url, password="sandbox-x-token", extra=extra)
    if platform == "facebook":
        tokens = company.member_tokens("facebook", NOW)
        return ConnectionInfo(
            "facebook_graph", sb.url, password="sandbox-graph-token", extra={"member_tokens": tokens, **extra}
        )
    if platform == "instagram":
        return ConnectionInfo("instagram_graph", sb.url, password="sandbox-graph-token", extra=extra)
    if platform == "bluesky":
        login, password = sandbox_bluesky.COMPANY_HANDLE, sandbox_bluesky.APP_PASSWORD
        return ConnectionInfo("bluesky_api", sb.url, login, password, extra=extra)
    tokens = company.member_tokens("linkedin", NOW)
    extra = {"api_version": "202610", "member_tokens": tokens, **extra}
    return ConnectionInfo("linkedin_api", sb.url, password="sandbox-linkedin-token", extra=extra)


def small_extract(platform: str, sb, company: Company, *, checkpoint=None, **extra):
    """A quick extract of ``platform`` whose main listing spans several pages."""
    ids = company.social.ids()
    truth_employees = company.ground_truth(NOW, "all")["employees"]
    registered = [e for e in truth_employees if e["registered_at"]]
    common = dict(
        hashtags=[],
        company_domains=[],
        window_end=WINDOW_END,
        lookback_ids=[],
        checkpoint=checkpoint,
    )
    if platform == "x":
        return x.extract(
            connection("x", sb, company, **extra),
            advocate_usernames=["SanneLee", "isla_miller"],  # 117 and 104 posts: two pages each
            company_handles=["NorthwindHQ"],
            window_start=PROGRAMME_START,
            **common,
        )
    if platform == "facebook":
        members = [e["facebook_user_id"] for e in registered if e["facebook_user_id"]][:3]
        return facebook.extract(
            connection("facebook", sb, company, page_size=25, **extra),
            advocate_usernames=members,
            company_handles=[ids["facebook_page_id"]],
            window_start=PROGRAMME_START,
            **common,
        )
    if platform == "instagram":
        return instagram.extract(
            connection("instagram", sb, company, media_page_limit=10, **extra),
            advocate_usernames=[],
            company_handles=[ids["instagram_user_id"]],
            window_start=WINDOW_END - dt.timedelta(days=60),
            **{**common, "hashtags": ["LifeAtNorthwind"]},
        )
    if platform == "bluesky":
        sandbox_bluesky.world(company)  # built before the first request, not within its timeout
        rows = company.roster_rows(NOW.date())
        handles = [r["bluesky_handle"] for r in rows if r["bluesky_handle"] and r["registered_at"]]
        return bluesky.extract(
            connection("bluesky", sb, company, page_size=10, **extra),
            advocate_usernames=handles[:3],
            company_handles=[sandbox_bluesky.COMPANY_HANDLE],  # about 17 posts: two pages
            window_start=WINDOW_END - dt.timedelta(days=60),
            **{**common, "hashtags": ["LifeAtNorthwind"]},  # eight search pages
        )
    members = [e["linkedin_member_urn"] for e in registered if e["linkedin_member_urn"]][:3]
    return linkedin.extract(
        connection("linkedin", sb, company, page_size=10, **extra),
        advocate_usernames=members,
        company_handles=[ids["linkedin_organization_urn"]],
        window_start=WINDOW_END - dt.timedelta(days=60),
        **common,
    )


def post_stream(platform: str) -> str:
    return RESUMABLE[platform].POSTS_STREAM


def post_key(platform: str) -> str:
    """The field that keys a post of ``platform`` (``id``; Bluesky's ``uri``)."""
    module = RESUMABLE[platform]
    return module.STREAMS[module.POSTS_STREAM].key

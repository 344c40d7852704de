"""Every fault the sandbox injects, on every platform, with the real client libraries over HTTP.

Each test runs a small extract whose main listing spans several pages, injects one fault
on the second request to that listing's endpoint (a page in the middle of a listing), and
checks the extract still returns exactly what a clean run returns: same posts, same
counters, none twice.
"""

from __future__ import annotations

import json
import logging

import pytest
from advocacy.connectors.base import AuthError, ConnectorError, TokenExpiredError
from advocacy.sandbox.server import TRANSIENT_FAULTS, running_sandbox
from conftest import MODULES, NOW, PAGED, READ_TIMEOUT, connection, post_stream, small_extract

PLATFORMS = tuple(MODULES)  # Bluesky: its fault battery is tests/connectors/test_bluesky_connector.py


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(company=company, now=NOW, read_timeout_seconds=READ_TIMEOUT) as sb:
        yield sb


@pytest.fixture(scope="module")
def clean(sandbox, company) -> dict:
    """Each platform's records from a run without faults, and what it cost."""
    out = {}
    for platform in PLATFORMS:
        sandbox.clear_faults()
        sandbox.reset_stats()
        result = small_extract(platform, sandbox, company)
        to_listing = [first for key, first in sandbox.history if key == PAGED[platform]]
        out[platform] = {
            "result": result,
            "requests": sandbox.stats()["total_requests"],
            # how many requests to the listing's endpoint come before its first later page
            "skip": to_listing.index(False),
        }
    return out


def canonical(result) -> dict[str, list[str]]:
    """Every stream's records as sorted JSON texts (order-free, duplicates kept)."""
    return {s: sorted(json.dumps(r, sort_keys=True, default=str) for r in recs) for s, recs in result.items()}


def assert_same_records(got, want, platform: str) -> None:
    ids = [str(r["id"]) for r in got[post_stream(platform)]]
    assert len(ids) == len(set(ids)), "a post came twice"
    assert canonical(got) == canonical(want)


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_fault_in_the_middle_of_a_listing_changes_nothing(sandbox, company, clean, platform, fault):
    sandbox.clear_faults()
    sandbox.reset_stats()
    sandbox.inject_fault(PAGED[platform], fault, times=1, after=clean[platform]["skip"])
    result = small_extract(platform, sandbox, company)
    stats = sandbox.stats()
    assert stats["faults"] == {fault: 1}, "the fault was not served: the test proves nothing"
    assert_same_records(result, clean[platform]["result"], platform)
    extra = stats["total_requests"] - clean[platform]["requests"]
    # the cost of one fault is a retry or two (a short page: one more page), never a restart
    assert 0 <= extra <= 3, (fault, extra, result.stats.as_dict())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_burst_of_every_fault_on_one_listing_is_survived(sandbox, company, clean, platform):
    """One fault after another on the same endpoint (each request of the burst gets the next)."""
    sandbox.clear_faults()
    sandbox.reset_stats()
    for fault in ("status_503", "connection_reset", "non_json", "truncated", "rate_limit"):
        sandbox.inject_fault(PAGED[platform], fault)
    result = small_extract(platform, sandbox, company, transient_retries=6)
    assert sandbox.stats()["total_faults"] == 5
    assert_same_records(result, clean[platform]["result"], platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_cursor_that_repeats_forever_stops_the_listing_with_a_warning(
    sandbox, company, clean, platform, caplog
):
    sandbox.clear_faults()
    sandbox.reset_stats()
    sandbox.inject_fault(PAGED[platform], "repeat_page", times=50, after=clean[platform]["skip"])
    with caplog.at_level(logging.WARNING):
        result = small_extract(platform, sandbox, company)
    served = sandbox.stats()["faults"].get("repeat_page", 0)
    assert 0 < served <= 10  # asked again a couple of times per listing, then gave up: no loop
    assert any("repeated a cursor" in n for n in result.stats.notes)
    assert any("repeated a cursor" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    ids = [str(r["id"]) for r in result[post_stream(platform)]]
    assert len(ids) == len(set(ids))


FIRST_ENDPOINT = {
    "x": "x.users_by",
    "facebook": "graph.node",
    "instagram": "graph.node",
    "linkedin": "linkedin.network_sizes",
}
CONNECTION = {
    "x": "x_api",
    "facebook": "facebook_graph",
    "instagram": "instagram_graph",
    "linkedin": "linkedin_api",
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_token_fails_at_once_naming_the_connection(sandbox, company, platform):
    sandbox.clear_faults()
    sandbox.reset_stats()
    sandbox.inject_fault(FIRST_ENDPOINT[platform], "token_expired", times=5)
    with pytest.raises(TokenExpiredError) as err:
        small_extract(platform, sandbox, company)
    message = str(err.value)
    assert f"connection '{CONNECTION[platform]}'" in message
    assert "password" in message  # says where the new token goes
    assert err.value.conn_id == CONNECTION[platform]
    assert sandbox.stats()["faults"] == {"token_expired": 1}  # no retry: retrying cannot renew it
    assert "sandbox-" not in message  # never the token itself


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_revoked_token_fails_naming_the_connection(sandbox, company, platform):
    sandbox.clear_faults()
    token = connection(platform, sandbox, company).password
    with (
        running_sandbox(company=company, now=NOW, expired_tokens=[token]) as sb,
        pytest.raises(AuthError) as err,
    ):
        small_extract(platform, sb, company)
    assert f"connection '{CONNECTION[platform]}'" in str(err.value)
    assert isinstance(err.value, ConnectorError) and err.value.conn_id == CONNECTION[platform]


def test_random_faults_are_reproducible_from_the_seed(company):
    def served(seed: int) -> dict:
        with running_sandbox(company=company, now=NOW, fault_rate=0.3, fault_seed=seed) as sb:
            small_extract("linkedin", sb, company, transient_retries=8, retries=0)
            return sb.stats()["faults"]

    first, again, other = served(7), served(7), served(8)
    assert first == again and sum(first.values()) > 3
    assert other != first

"""An extract that fails in the middle of a listing resumes from its checkpoint on the next attempt.

Attempt 1 hits a listing page the sandbox keeps failing (more 503s than the connector's
retries), so it raises; attempt 2 gets the checkpoint attempt 1 filled. It must make fewer
requests than a clean run (the completed pages are replayed, not fetched), and return
exactly the clean run's records, none twice.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from advocacy import checkpoint as store
from advocacy.connectors.base import Checkpoint, ConnectorError
from advocacy.sandbox.server import running_sandbox
from conftest import (
    NOW,
    READ_TIMEOUT,
    RESUMABLE,
    WINDOW_END,
    post_key,
    post_stream,
    small_extract,
)
from conftest import RESUME_PAGED as PAGED

PLATFORMS = tuple(RESUMABLE)
QUICK = {"retries": 0, "transient_retries": 1}  # attempt 1 gives up after two tries


@pytest.fixture(scope="module")
def sandbox(company):
    with running_sandbox(company=company, now=NOW, read_timeout_seconds=READ_TIMEOUT) as sb:
        yield sb


def canonical(result) -> dict[str, list[str]]:
    return {s: sorted(json.dumps(r, sort_keys=True, default=str) for r in recs) for s, recs in result.items()}


def failing_attempt(sb, company, platform: str, cp: Checkpoint, skip: int) -> None:
    """Attempt 1: the listing's first later page keeps failing until the attempt gives up."""
    sb.clear_faults()
    sb.inject_fault(PAGED[platform], "status_503", times=20, after=skip)
    with pytest.raises(ConnectorError):
        small_extract(platform, sb, company, checkpoint=cp, **QUICK)
    sb.clear_faults()


def clean_run(sb, company, platform: str) -> tuple[dict, int, int]:
    """(records, requests, requests to the listing endpoint before its first later page)."""
    sb.clear_faults()
    sb.reset_stats()
    result = small_extract(platform, sb, company, **QUICK)
    to_listing = [first for key, first in sb.history if key == PAGED[platform]]
    return result, sb.stats()["total_requests"], to_listing.index(False)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_retried_extract_continues_from_the_checkpoint(sandbox, company, platform):
    want, clean_requests, skip = clean_run(sandbox, company, platform)

    first = Checkpoint()
    failing_attempt(sandbox, company, platform, first, skip)
    assert first.saved > 0  # what attempt 1 completed before the failing page

    second = Checkpoint(first.entries())
    sandbox.reset_stats()
    got = small_extract(platform, sandbox, company, checkpoint=second, **QUICK)
    requests = sandbox.stats()["total_requests"]

    assert second.replayed == first.saved  # every completed response came from the checkpoint
    assert requests == clean_requests - second.replayed  # ... and was not asked again
    assert requests < clean_requests
    assert got.stats.replayed == second.replayed
    ids = [str(r[post_key(platform)]) for r in got[post_stream(platform)]]
    assert len(ids) == len(set(ids))
    assert canonical(got) == canonical(want)


def test_a_repeated_page_after_a_resume_is_asked_for_again(sandbox, company):
    """A journaled response that repeated an earlier page must not be replayed when the
    connector asks for that page again: the second ask bypasses the checkpoint."""
    want, _, skip = clean_run(sandbox, company, "x")
    first = Checkpoint()
    sandbox.clear_faults()
    # the page comes back as the previous one (journaled as it came), then asking again fails
    sandbox.inject_fault(PAGED["x"], "repeat_page", times=1, after=skip)
    sandbox.inject_fault(PAGED["x"], "status_503", times=20)
    with pytest.raises(ConnectorError):
        small_extract("x", sandbox, company, checkpoint=first, **QUICK)
    sandbox.clear_faults()
    sandbox.reset_stats()
    second = Checkpoint(first.entries())
    got = small_extract("x", sandbox, company, checkpoint=second, **QUICK)
    assert second.replayed == first.saved  # the repeated page too: replayed, then asked again
    assert canonical(got) == canonical(want)


def test_the_warehouse_checkpoint_survives_the_process_and_is_cleared(sandbox, company, warehouse):
    """Through ``advocacy.checkpoint`` (what pipeline.extract_platform uses): attempt 1's
    responses are rows in audit.extract_checkpoints, attempt 2 replays them, clear() forgets."""
    want, clean_requests, skip = clean_run(sandbox, company, "linkedin")
    day = dt.date(2026, 11, 21)
    window = (WINDOW_END - dt.timedelta(days=60), WINDOW_END)
    with store.opened(warehouse, "linkedin", day, window, key="run-1") as cp:
        failing_attempt(sandbox, company, "linkedin", cp, skip)
        saved = cp.saved
    with warehouse.connect() as conn:
        rows = conn.execute("select count(*) from audit.extract_checkpoints").fetchone()[0]
    assert rows == saved > 0

    with store.opened(warehouse, "linkedin", day, window, key="run-2") as other_run:
        assert len(other_run) == 0  # a new DAG run starts from fresh counters
    longer = (window[0], window[1] + dt.timedelta(days=1))
    with store.opened(warehouse, "linkedin", day, longer, key="run-1") as cp:
        assert len(cp) == 0  # another window: nothing to resume

    sandbox.reset_stats()
    with store.opened(warehouse, "linkedin", day, window, key="run-1") as cp:
        assert len(cp) == saved
        got = small_extract("linkedin", sandbox, company, checkpoint=cp, **QUICK)
    assert sandbox.stats()["total_requests"] == clean_requests - saved
    assert canonical(got) == canonical(want)

    assert store.clear(warehouse, "linkedin", day) > saved  # attempt 2 journaled the rest
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from audit.extract_checkpoints").fetchone()[0] == 0

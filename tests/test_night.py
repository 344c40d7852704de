import datetime as dt

import pytest
from advocacy import night

D = dt.date(2026, 11, 30)


def test_latest_attempt_of_a_source_replaces_the_earlier_one(warehouse):
    night.record(warehouse, "linkedin", D, "failed", message="403 on /rest/posts: grant r_member_social")
    night.record(
        warehouse,
        "roster",
        D,
        "partial",
        rows_loaded=318,
        rows_quarantined=2,
        reasons=["line 7: consent_public 'nei'"] * 9,
    )
    night.record(warehouse, "linkedin", D, "ok", rows_loaded=40)
    night.record(warehouse, "x", D - dt.timedelta(days=1), "failed")
    with warehouse.connect() as conn:
        runs = night.source_runs(conn, D)
    assert [(r.source, r.outcome) for r in runs] == [("linkedin", "ok"), ("roster", "partial")]
    assert runs[0].message is None and runs[0].rows_loaded == 40
    assert len(runs[1].reasons) == night.MAX_REASONS
    status = night.NightStatus(D, runs)
    assert status.complete and [r.source for r in status.partial] == ["roster"]
    held = night.NightStatus(D, runs, marts="held_back", marts_as_of=D - dt.timedelta(days=1))
    assert not held.complete


def test_missing_sources_and_unknown_outcomes(warehouse):
    with warehouse.connect() as conn:
        assert night.source_runs(conn, D) == ()  # no table yet: nothing recorded
    night.record(warehouse, "web", D, "refused", message="sessions.csv: ';' separator")
    with warehouse.connect() as conn:
        status = night.NightStatus(D, night.source_runs(conn, D))
    assert [r.source for r in status.missing] == ["web"] and not status.complete
    with pytest.raises(ValueError, match="outcome 'lost'"):
        night.record(warehouse, "web", D, "lost")


def test_for_night_is_the_night_status(warehouse):
    night.record(warehouse, "x", D, "ok", rows_loaded=3)
    with warehouse.connect() as conn:
        status = night.for_night(conn, D)
    assert status.as_of == D and [r.source for r in status.sources] == ["x"]
    assert status.marts == "current" and status.marts_as_of is None  # no night published yet

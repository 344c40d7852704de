"""extract_files against a real warehouse: rejected lines in audit.input_quarantine (replaced per
interval, never duplicated), refused files land nothing and leave raw as it was."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from advocacy import inputs, landing, pipeline
from advocacy.settings import load_settings
from input_files import DAY, ROSTER_ROW

DAY2 = DAY + dt.timedelta(days=1)


@pytest.fixture
def settings(tmp_path, warehouse, monkeypatch):
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    f = tmp_path / "programme.yml"
    f.write_text(
        "programme: {start_date: 2026-01-05}\n"
        "inputs: {roster: roster.csv, sessions: sessions.csv, self_reports: self_reports.csv,"
        " landing: landing}\n"
        "platforms: {x: {}}\n"
    )
    return load_settings(f)


@pytest.fixture
def good(files):
    """A clean roster (E1..E3), sessions and self-reports."""
    files.roster({"employee_id": "E1"}, {"employee_id": "E2"}, {"employee_id": "E3"})
    files.sessions({"session_id": "S1"}, {"session_id": "S2"})
    files.self_reports({"employee_id": "E1"}, {"employee_id": "E2"})
    return files


def _query(target, sql, *params):
    with target.connect() as conn:
        return conn.execute(sql, params).fetchall()


def _quarantine(target, source=None):
    return _query(
        target,
        "select source, stream, interval_start, line_no, field, reason, raw from audit.input_quarantine"
        " where source = coalesce(%s, source) order by interval_start, source, line_no",
        source,
    )


def _raw_keys(target, table, day=None):
    return _query(
        target,
        f"select _record_key from raw.{table} where _interval_start = coalesce(%s, _interval_start)"
        " order by _interval_start, _line_no",
        day,
    )


def _run(day, settings) -> list[dict]:
    """One night: extract the files, then load what landed for the interval (as the DAG does)."""
    try:
        return pipeline.extract_files(day.isoformat(), settings)
    finally:
        pipeline.load_interval(day.isoformat(), settings)


def test_rejected_lines_are_quarantined_and_the_rest_loads(files, settings, warehouse, caplog):
    roster = files.roster(
        {"employee_id": "E1"}, {"employee_id": "E2", "hired_at": "1/2/2020"}, {"employee_id": "E3"}
    )
    files.sessions({"session_id": "S1"}, {"session_id": "S1"}, {"session_id": "S2", "conversions": "-1"})
    files.self_reports({"employee_id": "E2"}, {"employee_id": "E9"})  # E2's roster line is bad, E9 unknown
    with caplog.at_level(logging.INFO, logger="advocacy.pipeline"):
        landed = _run(DAY, settings)

    assert {(d["source"], d["records"], d["quarantined"]) for d in landed} == {
        ("roster", 2, 1),
        ("web", 1, 2),
        ("self_report", 1, 1),
    }
    assert _raw_keys(warehouse, "roster__employees") == [("E1",), ("E3",)]
    assert _raw_keys(warehouse, "web__sessions") == [("S1",)]
    assert _raw_keys(warehouse, "self_report__activity") == [("E2|2026-02|tiktok",)]
    rows = _quarantine(warehouse)
    assert [r[:5] for r in rows] == [
        ("roster", "employees", DAY, 3, "hired_at"),
        ("self_report", "activity", DAY, 3, "employee_id"),
        ("web", "sessions", DAY, 3, "session_id"),
        ("web", "sessions", DAY, 4, "conversions"),
    ]
    assert rows[0][5] == "field 'hired_at' is '1/2/2020', not an ISO-8601 date: write YYYY-MM-DD"
    assert rows[0][6] == {**ROSTER_ROW, "employee_id": "E2", "hired_at": "1/2/2020"}  # the raw line
    assert "'E9', not in the roster" in rows[1][5]
    file_of = _query(warehouse, "select distinct file from audit.input_quarantine where source = 'roster'")
    assert file_of == [(roster,)]
    # the task log says, per file, how many rows were fine and the first reasons
    assert "roster.employees: 2 rows ok, 1 quarantined; first: line 3: field 'hired_at'" in caplog.text
    assert (
        "web.sessions: 1 rows ok, 2 quarantined; first: line 3: session_id 'S1' repeats line 2" in caplog.text
    )


def test_a_rerun_replaces_the_intervals_quarantine_and_never_duplicates(files, settings, warehouse):
    files.roster({"employee_id": "E1"}, {"employee_id": "E2", "consent_public": "y"}, {"employee_id": "E3"})
    files.sessions({"session_id": "S1", "conversions": "x"}, {"session_id": "S2"})
    files.self_reports()
    _run(DAY, settings)
    _run(DAY, settings)
    _run(DAY2, settings)
    assert [(r[0], r[2], r[3]) for r in _quarantine(warehouse)] == [
        ("roster", DAY, 3),
        ("web", DAY, 2),
        ("roster", DAY2, 3),
        ("web", DAY2, 2),
    ]
    # the export is fixed and DAY is rerun: its roster quarantine empties, the rest stays
    files.roster({"employee_id": "E1"}, {"employee_id": "E2"}, {"employee_id": "E3"})
    files.raw("sessions.csv", "session_id\n")  # now structurally broken: keeps its quarantine
    with pytest.raises(inputs.InputError, match="web.sessions: .*missing column"):
        _run(DAY, settings)
    assert [(r[0], r[2], r[3]) for r in _quarantine(warehouse)] == [
        ("web", DAY, 2),
        ("roster", DAY2, 3),
        ("web", DAY2, 2),
    ]
    assert _raw_keys(warehouse, "roster__employees", DAY) == [("E1",), ("E2",), ("E3",)]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (b"", r"roster.csv, line 1: the roster file is empty \(0 bytes\)"),
        (",".join(inputs.ROSTER_COLUMNS).encode() + b"\n", "the roster has no employees"),
        (",".join(inputs.ROSTER_COLUMNS).encode() + b"\nE1,\xff\n", r"roster.csv, line 2: not UTF-8"),
        (b"employee_id,email\nE1,a@x\n", r"missing column\(s\) full_name"),
    ],
)
def test_a_refused_roster_leaves_the_loaded_one_in_place(good, settings, warehouse, broken, message):
    _run(DAY, settings)
    before = _raw_keys(warehouse, "roster__employees")
    assert before == [("E1",), ("E2",), ("E3",)]
    good.raw("roster.csv", broken)
    for day in (DAY2, DAY):  # a later interval, and a rerun of the loaded one
        with pytest.raises(inputs.InputError, match=f"roster.employees: .*{message}"):
            _run(day, settings)
        assert _raw_keys(warehouse, "roster__employees") == before
    roster_files = landing.list_files(settings.landing_path, source="roster")
    assert [f.interval_start for f in roster_files] == [DAY]  # nothing landed for the refused runs


def test_a_broken_source_does_not_stop_the_others_and_every_broken_one_is_named(good, settings, warehouse):
    _run(DAY, settings)
    good.roster({"employee_id": "E1"}, {"employee_id": "E4"})  # the new roster for DAY2
    good.raw("self_reports.csv", b"employee_id,month\n")
    with pytest.raises(inputs.InputError) as info:
        _run(DAY2, settings)
    assert str(info.value).startswith("1 file input(s) refused; the other files landed.")
    assert "self_report.activity: " in str(info.value) and "roster" not in str(info.value).split("\n", 1)[1]
    assert _raw_keys(warehouse, "roster__employees", DAY2) == [("E1",), ("E4",)]
    assert _raw_keys(warehouse, "web__sessions", DAY2) == [("S1",), ("S2",)]
    assert _raw_keys(warehouse, "self_report__activity") == _raw_keys(warehouse, "self_report__activity", DAY)

    good.raw("sessions.csv", b"\x00")
    with pytest.raises(inputs.InputError) as info:
        _run(DAY2, settings)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("2 file input(s) refused")
    assert [line.split(":")[0] for line in lines[1:]] == ["web.sessions", "self_report.activity"]


def test_self_reports_are_checked_against_the_last_landed_roster_when_tonights_is_refused(
    good, settings, warehouse
):
    _run(DAY, settings)  # lands E1..E3
    good.raw("roster.csv", b"")
    good.self_reports({"employee_id": "E3"}, {"employee_id": "E4"})
    with pytest.raises(inputs.InputError, match="roster.employees"):
        _run(DAY2, settings)
    assert _raw_keys(warehouse, "self_report__activity", DAY2) == [("E3|2026-02|tiktok",)]
    [(line_no, reason)] = _query(
        warehouse, "select line_no, reason from audit.input_quarantine where interval_start = %s", DAY2
    )
    assert line_no == 3 and "'E4', not in the roster" in reason


def test_a_file_that_changes_while_it_lands_lands_nothing_not_even_a_partial_file(
    good, settings, warehouse, monkeypatch
):
    _run(DAY, settings)
    check = inputs.check_sessions

    def check_then_change(path, ctx):  # the export is rewritten between the check and the landing
        checked = check(path, ctx)
        good.sessions({"session_id": "S1"}, {"session_id": "S2"}, {"session_id": "S3"})
        return checked

    monkeypatch.setitem(pipeline.FILE_READERS, ("web", "sessions"), ("sessions_path", check_then_change))
    with pytest.raises(inputs.InputError, match=r"web.sessions: .*the file changed while it was read"):
        _run(DAY2, settings)
    assert _raw_keys(warehouse, "web__sessions") == [("S1",), ("S2",)]  # DAY's load stays
    landed = sorted(p.name for p in Path(settings.landing_path).rglob("*") if p.is_file())
    assert not [n for n in landed if n.endswith(".part")]
    assert [f.interval_start for f in landing.list_files(settings.landing_path, source="web")] == [DAY]

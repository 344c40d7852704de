"""extract_files against a real warehouse: rejected lines in audit.input_quarantine (replaced per
interval, never duplicated), refused files land nothing and leave raw as it was."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from advocacy import inputs, landing, night, pipeline
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
        ("roster", 3, 1),  # E2 stays, its hire date unknown
        ("web", 2, 1),  # S1 repeated: the last line wins; S2's bad count counts 0
        ("self_report", 1, 1),
    }
    assert _raw_keys(warehouse, "roster__employees") == [("E1",), ("E2",), ("E3",)]
    assert _raw_keys(warehouse, "web__sessions") == [("S1",), ("S2",)]
    assert _raw_keys(warehouse, "self_report__activity") == [("E2|2026-02|tiktok",)]
    rows = _quarantine(warehouse)
    assert [r[:5] for r in rows] == [
        ("roster", "employees", DAY, 3, "hired_at"),
        ("self_report", "activity", DAY, 3, "employee_id"),
        ("web", "sessions", DAY, 4, "conversions"),
    ]
    assert rows[0][5].startswith("field 'hired_at' is '1/2/2020', not a date in yyyy-mm-dd")
    assert rows[0][6] == {**ROSTER_ROW, "employee_id": "E2", "hired_at": "1/2/2020"}  # the raw line
    kept = _query(warehouse, "select source, kept from audit.input_quarantine order by source")
    assert kept == [("roster", True), ("self_report", False), ("web", True)]
    assert "'E9', not in the roster" in rows[1][5]
    file_of = _query(warehouse, "select distinct file from audit.input_quarantine where source = 'roster'")
    assert file_of == [(roster,)]
    # the task log says, per file, how many rows were fine and the first reasons
    assert "roster.employees: 3 rows ok, 1 quarantined (1 kept with a field fallen back); first: line 3:" in (
        caplog.text
    )
    assert "the last line of each is used" in caplog.text
    # the night's outcome per input, for the report's header and the CLI summary
    with warehouse.connect() as conn:
        runs = {r.source: r for r in night.for_night(conn, DAY).sources}
    assert {s: (r.outcome, r.rows_loaded, r.rows_quarantined) for s, r in runs.items()} == {
        "roster": ("partial", 3, 1),
        "sessions": ("partial", 2, 1),
        "self_reports": ("partial", 1, 1),
    }
    assert runs["roster"].reasons[0].startswith("line 3: field 'hired_at' is '1/2/2020'")
    assert "0 line(s) left out, 1 kept with a field fallen back" in runs["roster"].message


def test_a_rerun_replaces_the_intervals_quarantine_and_never_duplicates(files, settings, warehouse):
    files.roster(
        {"employee_id": "E1"}, {"employee_id": "E2", "consent_public": "maybe"}, {"employee_id": "E3"}
    )
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
    with warehouse.connect() as conn:
        runs = {r.source: r for r in night.for_night(conn, DAY).sources}
    assert (runs["roster"].outcome, runs["sessions"].outcome) == ("ok", "refused")
    assert "missing column(s) session_start" in runs["sessions"].message


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


def test_a_bad_cell_falls_back_to_the_employees_last_good_value(good, settings, warehouse):
    files = good
    files.roster(
        {"employee_id": "E1", "hired_at": "2019-04-01", "consent_public": "true"}, {"employee_id": "E2"}
    )
    _run(DAY, settings)
    files.roster(
        {"employee_id": "E1", "hired_at": "01.04.2019", "consent_public": "kanskje"}, {"employee_id": "E2"}
    )
    _run(DAY2, settings)
    [(record,)] = _query(
        warehouse,
        "select record from raw.roster__employees where _interval_start = %s and _record_key = 'E1'",
        DAY2,
    )
    assert (record["hired_at"], record["consent_public"]) == ("2019-04-01", "true")
    assert [(r[3], r[4]) for r in _quarantine(warehouse)] == [(2, "hired_at")]


def test_the_platforms_search_by_the_last_good_roster_when_tonights_is_refused(
    good, settings, warehouse, caplog
):
    _run(DAY, settings)
    good.raw("roster.csv", b"employee_id;email\nE1;a@x\n")
    with caplog.at_level(logging.WARNING, logger="advocacy.pipeline"):
        handles = pipeline.advocate_handles(settings, "x", "x_username", DAY, DAY2)
    assert handles == ["ann"]  # E1..E3 of DAY's roster share the handle of the default row
    assert f"searching by the last good roster, landed for {DAY}" in caplog.text
    with pytest.raises(inputs.InputError):
        _run(DAY2, settings)
    with pytest.raises(RuntimeError) as info:
        pipeline.assert_sources_extracted({"extract_files": None, "extract_x": []}, DAY2.isoformat())
    assert "refused input roster:" in str(info.value) and "roster.csv, line 1" in str(info.value)


def test_landing_files_and_folders_are_owner_only(good, settings):
    _run(DAY, settings)
    paths = list(Path(settings.landing_path).rglob("*"))
    assert paths
    for p in [Path(settings.landing_path), *paths]:
        assert (p.stat().st_mode & 0o777) == (0o700 if p.is_dir() else 0o600), p


def test_the_cli_summary_shows_each_inputs_rows_and_first_reason(good, settings):
    from advocacy import cli

    good.roster(
        {"employee_id": "E1"}, {"employee_id": "E2", "consent_public": "maybe"}, {"employee_id": "E3"}
    )
    good.raw("sessions.csv", b"session_id\n")
    with pytest.raises(inputs.InputError):
        _run(DAY, settings)
    lines = cli.night_summary(DAY)
    assert lines[0].startswith("  roster: partial 3 rows loaded, 1 quarantined - 0 line(s) left out, 1 kept")
    assert lines[1].startswith("  self_reports: ok 2 rows loaded, 0 quarantined")
    assert lines[2].startswith("  sessions: refused - ") and "missing column(s) session_start" in lines[2]

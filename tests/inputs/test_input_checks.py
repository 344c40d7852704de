"""The file inputs' checks: structural problems refuse the file, row-level ones reject the line."""

from __future__ import annotations

import re

import pytest
from advocacy import inputs
from advocacy.settings import InputOptions
from input_files import CTX, ROSTER_ROW, SELF_REPORT_ROW, SESSION_ROW, csv_text

CHECKERS = {
    "roster": (inputs.check_roster, ROSTER_ROW),
    "sessions": (inputs.check_sessions, SESSION_ROW),
    "self-report": (inputs.check_self_reports, SELF_REPORT_ROW),
}
ALL = pytest.mark.parametrize("what", list(CHECKERS))
GOOD = [{"employee_id": f"G{i}"} for i in range(3)]  # keeps a roster's rejected lines under half


def _refused(check, path, pattern: str) -> str:
    with pytest.raises(inputs.InputError) as info:
        check(path, CTX)
    message = str(info.value)
    assert re.search(pattern, message), message
    return message


def _rejected(checked: inputs.Checked) -> dict[int, tuple[str | None, str]]:
    return {r.line_no: (r.field, r.reason) for r in checked.rejected}


# --------------------------------------------------------------------- structural


@ALL
def test_a_missing_or_unreadable_file_is_refused(files, what, tmp_path):
    check, _ = CHECKERS[what]
    _refused(check, str(tmp_path / "nope.csv"), rf"{what} file .*nope.csv not found: check 'inputs'")
    _refused(check, str(tmp_path), r"cannot be read .*check the path")  # a folder


@ALL
@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_an_empty_file_is_refused_for_every_input(files, what, content):
    check, _ = CHECKERS[what]
    path = files.raw("empty.csv", content)
    _refused(check, path, rf"empty.csv, line 1: the {what} file is empty \({len(content)} bytes\).*re-export")


def test_a_header_only_roster_is_refused_but_header_only_optional_inputs_are_no_rows(files):
    _refused(inputs.check_roster, files.roster(), r"roster.csv: the roster has no employees .*refusing")
    # rows of empty cells (spreadsheet leftovers) do not make a roster
    _refused(inputs.check_roster, files.raw("blank.csv", csv_text(ROSTER_ROW, []) + ",,,\n"), "no employees")
    for check, path in (
        (inputs.check_sessions, files.sessions()),
        (inputs.check_self_reports, files.self_reports()),
    ):
        checked = check(path, CTX)
        assert (checked.rows, checked.rejected) == ([], [])


@ALL
def test_a_missing_column_is_refused_naming_it(files, what):
    check, row = CHECKERS[what]
    columns = list(row)
    dropped = columns.pop(2)
    path = files.raw("short.csv", csv_text(columns, [row]))
    _refused(check, path, rf"short.csv, line 1: {what} is missing column\(s\) {dropped}; the header needs")


@ALL
def test_a_column_named_twice_is_refused(files, what):
    check, row = CHECKERS[what]
    first = next(iter(row))
    path = files.raw("twice.csv", csv_text([*row, first], []))
    _refused(check, path, rf"twice.csv, line 1: column\(s\) {first} appear twice")


@ALL
def test_not_utf8_is_refused_naming_line_and_field(files, what):
    check, row = CHECKERS[what]
    text = csv_text(row, [row, row])
    field = list(row)[1]
    lines = text.encode().split(b"\n")
    cells = lines[2].split(b",")
    cells[1] = b"Zo\xeb" + cells[1]  # latin-1 in the second field of line 3
    lines[2] = b",".join(cells)
    path = files.raw("latin.csv", b"\n".join(lines))
    _refused(
        check,
        path,
        rf"latin.csv, line 3: not UTF-8 in field '{field}' \(byte \d+: 0xeb\);"
        r" set inputs\.\w+\.encoding .*re-export",
    )


def test_utf16_is_refused_and_a_utf8_bom_is_fine(files):
    text = csv_text(ROSTER_ROW, [ROSTER_ROW])
    _refused(inputs.check_roster, files.raw("u16.csv", text.encode("utf-16")), r"line 1: .* is UTF-16")
    [row] = inputs.check_roster(files.raw("bom.csv", text.encode("utf-8-sig")), CTX).rows
    assert row["employee_id"] == "E1"


@pytest.mark.parametrize(
    ("bad_line", "pattern"),
    [
        ('E2,"open quote,x\n', r"line \d+: not readable as CSV .*unexpected end of data"),
        ("E2,a\x00b,x\n", r"line 3: a NUL byte, so not a text CSV; re-export"),
    ],
)
def test_unparseable_csv_is_refused_naming_the_line(files, bad_line, pattern):
    text = (
        csv_text(ROSTER_ROW, [ROSTER_ROW]) + bad_line + csv_text(ROSTER_ROW, [ROSTER_ROW]).split("\n", 1)[1]
    )
    _refused(inputs.check_roster, files.raw("broken.csv", text), pattern)


def test_a_roster_mostly_invalid_is_refused_but_half_is_loaded(files):
    good = [{"employee_id": f"E{i}"} for i in range(2)]
    bad = [{"employee_id": f"B{i}", "hired_at": "01/02/2020"} for i in range(3)]
    message = _refused(inputs.check_roster, files.roster(*good, *bad), r"3 of 5 roster lines are invalid")
    assert "line 4: field 'hired_at' is '01/02/2020'" in message  # the first reasons, to fix it
    assert "inputs.roster.max_invalid_share (0.5)" in message and "last good one stays" in message
    checked = inputs.check_roster(files.roster(*good, *bad[:2]), CTX)
    assert (len(checked.rows), len(checked.rejected)) == (4, 2)  # the bad cells' employees stay
    _refused(inputs.check_roster, files.roster(bad[0]), r"1 of 1 roster lines are invalid")


@pytest.mark.parametrize("what", ["sessions", "self_reports"])
def test_every_input_has_the_refuse_dont_shrink_rule_with_its_threshold(files, what):
    """pandas-style 1.0 counts are fine; 'n/a' in most lines refuses the file at the set share."""
    if what == "sessions":
        check, rows = inputs.check_sessions, [{"session_id": f"S{i}"} for i in range(10)]
        path = files.sessions(*[{**r, "conversions": "n/a" if i < 3 else "1.0"} for i, r in enumerate(rows)])
    else:
        check = inputs.check_self_reports
        rows = [{"employee_id": "E1", "platform": p} for p in sorted(inputs.SELF_REPORT_PLATFORMS)[:10]]
        path = files.self_reports(*[{**r, "posts": "n/a" if i < 3 else "2.0"} for i, r in enumerate(rows)])
    checked = check(path, CTX)  # 3 of 10: under the default 0.5
    assert len(checked.rows) == 10 and len(checked.repaired) == 3
    strict = inputs.RunContext(CTX.latest, options=InputOptions(max_invalid_share=0.2))
    with pytest.raises(
        inputs.InputError, match=rf"3 of 10 .* more than inputs\.{what}\.max_invalid_share \(0\.2\)"
    ):
        check(path, strict)


# --------------------------------------------------------------------- row-level


def test_extra_columns_are_ignored_with_a_warning(files):
    path = files.raw(
        "extra.csv", csv_text([*ROSTER_ROW, "badge", ""], [{**ROSTER_ROW, "badge": "7", "": "x"}])
    )
    checked = inputs.check_roster(path, CTX)
    assert checked.warnings == [
        f"{path}, line 1: ignoring column(s) badge, (unnamed): not in the roster layout"
    ]
    assert [list(r) for r in checked.rows] == [list(inputs.ROSTER_COLUMNS)]


def test_a_bad_cell_keeps_the_employee_and_only_a_bad_key_leaves_the_line_out(files):
    path = files.roster(
        {"employee_id": "E1"},
        {"employee_id": "E2", "hired_at": "05/01/2020"},
        {"employee_id": "E3", "invited_at": "2026-02-30", "consent_public": "yes"},
        {"employee_id": ""},
        {"employee_id": "E1", "full_name": "Ann again"},
        {"employee_id": "E4", "registered_at": "2026-03-03"},  # DAY + 2: in the future
        {"employee_id": "E5", "registered_at": "2026-03-02", "left_at": "2026-06-30"},  # notice period: fine
        {"employee_id": "E6", "consent_public": "FALSE", "left_at": ""},
        {"employee_id": "E7"},
        {"employee_id": "E8"},
    )
    previous = {
        "E2": {**ROSTER_ROW, "hired_at": "2019-05-01"},
        "E3": {**ROSTER_ROW, "invited_at": "2026-02-01"},
    }
    checked = inputs.check_roster(path, inputs.RunContext(CTX.latest, previous=previous))
    rows = {r["employee_id"]: r for r in checked.rows}
    # E1's second line wins (concatenated exports: the newer line); E2..E4 keep their employee
    assert sorted(rows) == ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"]
    assert rows["E1"]["full_name"] == "Ann again"
    assert rows["E2"]["hired_at"] == "2019-05-01"  # the last good value
    assert (rows["E3"]["invited_at"], rows["E3"]["consent_public"]) == ("2026-02-01", "true")  # yes
    assert rows["E4"]["registered_at"] == ""  # no last good value: unknown
    assert rows["E6"]["consent_public"] == "false"
    kept = " (kept: the field falls back to its last good value or default)"
    assert _rejected(checked) == {
        3: (
            "hired_at",
            "field 'hired_at' is '05/01/2020', not a date in yyyy-mm-dd; set inputs.roster.date_format"
            " to the export's order (dd/mm/yyyy or mm/dd/yyyy)" + kept,
        ),
        4: ("invited_at", "field 'invited_at' is '2026-02-30', not a date in yyyy-mm-dd; write YYYY-MM-DD"
            " or set inputs.roster.date_format" + kept),
        5: ("employee_id", "field 'employee_id' is empty: every line needs one"),
        7: (
            "registered_at",
            "field 'registered_at' is 2026-03-03, in the future (after 2026-03-02); check the date"
            " (day and month swapped?)" + kept,
        ),
    }  # fmt: skip
    assert [r.kept for r in checked.rejected] == [True, True, False, True]
    assert checked.rejected[0].raw == {**ROSTER_ROW, "employee_id": "E2", "hired_at": "05/01/2020"}
    assert checked.values("employee_id") == {"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"}
    assert checked.summary(1).startswith(
        "8 rows ok, 4 quarantined (3 kept with a field fallen back); first: line 3: field 'hired_at'"
    )
    assert checked.superseded == 1 and "the last line of each is used" in checked.warnings[0]


def test_of_repeated_lines_the_last_wins(files):
    checked = inputs.check_roster(
        files.roster({"hired_at": "x"}, {"department": "A"}, {"department": "B"}, *GOOD), CTX
    )
    assert [r.line_no for r in checked.rejected] == [2]
    assert [(r["employee_id"], r["department"]) for r in checked.rows][0] == ("E1", "B")


def test_a_line_with_shifted_values_is_rejected_with_its_raw_cells(files):
    good = [{**ROSTER_ROW, **g} for g in [{}, *GOOD]]
    text = csv_text(ROSTER_ROW, good) + "E2,Lee, Ann,x\n" + "E3" + ",x" * 15 + "\n"
    checked = inputs.check_roster(files.raw("shifted.csv", text), CTX)
    assert _rejected(checked) == {
        6: (None, "has 4 values but the header has 15 columns: quote values that contain commas"),
        7: (None, "has 16 values but the header has 15 columns: quote values that contain commas"),
    }
    assert checked.rejected[0].raw == {
        "employee_id": "E2",
        "email": "Lee",
        "full_name": " Ann",
        "department": "x",
    }
    assert checked.rejected[1].raw["_unnamed"] == ["x"]


def test_line_numbers_are_physical_lines_of_the_file(files):
    rows = [{"employee_id": "E1", "full_name": "Ann\nLee"}, {"employee_id": "E2", "hired_at": "bad"}]
    text = csv_text(ROSTER_ROW, rows[:1]) + "\n,,,\n" + csv_text(ROSTER_ROW, rows[1:]).split("\n", 1)[1]
    checked = inputs.check_roster(files.raw("multi.csv", text), CTX)
    assert checked.rows[0]["full_name"] == "Ann\nLee"
    assert [r.line_no for r in checked.rejected] == [6]  # header 1, E1 2-3, blank 4, empty cells 5


def test_session_rows_with_bad_values_are_rejected(files):
    path = files.sessions(
        {"session_id": "S1", "session_start": "2026-02-27 10:00:00"},  # no offset: UTC
        {"session_id": "S2", "session_start": "2026-02-27T12:00:00+02:00", "conversions": ""},
        {"session_id": "S3", "session_start": "27/02/2026 10:00"},
        {"session_id": "S4", "conversions": "1.5"},
        {"session_id": "S5", "conversions": "-2"},
        {"session_id": "S6", "session_start": "2026-03-03T00:00:00Z"},
        {"session_id": "S7", "session_start": "2026-03-02T23:59:59Z"},
        {"session_id": "S1"},
        {"session_id": "S8", "session_start": ""},
    )
    checked = inputs.check_sessions(
        path, inputs.RunContext(CTX.latest, options=InputOptions(max_invalid_share=1))
    )
    assert [(r["session_id"], r["session_start"], r["conversions"]) for r in checked.rows] == [
        ("S2", "2026-02-27T10:00:00Z", ""),
        ("S4", "2026-02-27T10:00:00Z", "0"),  # a bad count counts nothing
        ("S5", "2026-02-27T10:00:00Z", "0"),
        ("S7", "2026-03-02T23:59:59Z", "0"),
        ("S1", "2026-02-27T10:00:00Z", "0"),  # the last line of S1 wins
    ]
    kept = " (kept: the field falls back to its last good value or default)"
    assert _rejected(checked) == {
        4: ("session_start", "field 'session_start' is '27/02/2026 10:00', not an ISO-8601 timestamp"),
        5: ("conversions", "field 'conversions' is '1.5', not a whole number >= 0" + kept),
        6: ("conversions", "field 'conversions' is -2: a count cannot be negative" + kept),
        7: (
            "session_start",
            "field 'session_start' is 2026-03-03T00:00:00Z, in the future (after 2026-03-02); check the date"
            " (day and month swapped?)",
        ),
        10: ("session_start", "field 'session_start' is empty: every line needs one"),
    }


def test_ga4_session_rows_with_bad_values_are_rejected(files):
    columns = [
        "session_id",
        "event_timestamp",
        "event_date",
        "page_location",
        *inputs.GA4_COLUMNS,
        "conversions",
    ]
    ok = {
        "session_id": "G1",
        "event_timestamp": "1772186400000000",
        "page_location": "https://n.example/a?b=1",
    }
    rows = [
        {**dict.fromkeys(columns, ""), **ok},
        {**dict.fromkeys(columns, ""), **ok, "session_id": "G2", "event_timestamp": "2026-02-27"},
        {
            **dict.fromkeys(columns, ""),
            **ok,
            "session_id": "G3",
            "event_timestamp": "1893456000000000",
        },  # 2030
    ]
    ctx = inputs.RunContext(CTX.latest, options=InputOptions(max_invalid_share=1))
    checked = inputs.check_sessions(files.raw("ga4.csv", csv_text(columns, rows)), ctx)
    assert checked.warnings == []  # event_date is a GA4 column, just not needed
    [row] = checked.rows
    assert (row["session_start"], row["landing_page"], row["_format"]) == (
        "2026-02-27T10:00:00Z",
        "/a",
        "ga4",
    )
    assert _rejected(checked) == {
        3: ("event_timestamp", "field 'event_timestamp' is '2026-02-27', not microseconds since 1970"),
        4: (
            "event_timestamp",
            "field 'event_timestamp' is 1893456000000000, in the future (after 2026-03-02); check the date"
            " (day and month swapped?)",
        ),
    }


def test_self_report_rows_with_bad_values_are_rejected(files):
    path = files.self_reports(
        {"employee_id": "E1", "platform": "TikTok"},
        {"employee_id": "E1", "platform": "tiktok"},  # the same report, however capitalised
        {"employee_id": "E1", "platform": "LinkedIn", "likes": "-1"},
        {"employee_id": "E2", "month": "02/2026"},
        {"employee_id": "E2", "month": "2026-13"},
        {"employee_id": "E2", "month": "2026-04"},  # starts after DAY + 1
        {"employee_id": "E2", "month": "2026-03", "platform": "tikok"},
        {"employee_id": "E9"},
        {"employee_id": "E2", "month": "2026-03", "platform": "Other", "posts": "", "shares": "two"},
        {"employee_id": "E2", "month": "2026-03", "platform": "X", "posts": "", "likes": ""},
    )
    ctx = inputs.RunContext(CTX.latest, frozenset({"E1", "E2"}), options=InputOptions(max_invalid_share=1))
    checked = inputs.check_self_reports(path, ctx)
    assert [r["_row_key"] for r in checked.rows] == [
        "E1|2026-02|tiktok", "E1|2026-02|linkedin", "E2|2026-03|other", "E2|2026-03|x",
    ]  # fmt: skip
    assert checked.rows[0]["platform"] == "tiktok"  # the last line of the report wins
    assert checked.rows[3]["platform"] == "X"  # landed as written; staging maps the spelling
    assert (checked.rows[1]["likes"], checked.rows[2]["shares"]) == ("0", "0")
    reasons = _rejected(checked)
    assert reasons[4][0] == "likes" and reasons[4][1].startswith(
        "field 'likes' is -1: a count cannot be negative"
    )
    assert reasons[5] == ("month", "field 'month' is '02/2026', not a month: write YYYY-MM")
    assert reasons[6] == ("month", "field 'month' is '2026-13', not a month: write YYYY-MM")
    assert reasons[7][0] == "month" and "is 2026-04, in the future (after 2026-03-02)" in reasons[7][1]
    assert reasons[8][0] == "platform" and reasons[8][1].startswith(
        "field 'platform' is 'tikok': not a known platform; use one of "
        + ", ".join(sorted(inputs.SELF_REPORT_PLATFORMS))
    )
    assert reasons[9] == (
        "employee_id",
        "field 'employee_id' is 'E9', not in the roster: check the id, or add the employee to the HR export",
    )
    assert reasons[10][0] == "shares" and "field 'shares' is 'two', not a whole number >= 0" in reasons[10][1]
    assert set(reasons) == {4, 5, 6, 7, 8, 9, 10}


def test_without_a_context_the_run_dependent_checks_are_skipped(files):
    path = files.self_reports({"employee_id": "E9", "month": "2099-01"})
    assert [r["employee_id"] for r in inputs.check_self_reports(path).rows] == ["E9"]
    roster = files.roster({"hired_at": "2099-01-01"}, *GOOD)
    assert inputs.check_roster(roster).rows[0]["hired_at"] == "2099-01-01"
    checked = inputs.check_roster(roster, CTX)  # the employee stays, the date is unknown
    assert checked.rows[0]["hired_at"] == "" and "in the future" in checked.rejected[0].reason


def test_read_functions_return_the_valid_rows_and_log_the_rest(files, caplog):
    path = files.roster(
        {"employee_id": "E1"}, {"employee_id": "E2", "consent_public": "maybe"}, {"employee_id": "E3"}
    )
    assert [r["employee_id"] for r in inputs.read_roster(path)] == ["E1", "E2", "E3"]
    assert (
        "3 rows ok, 1 quarantined (1 kept with a field fallen back); first: line 3: field 'consent_public'"
        in caplog.text
    )
    sessions = files.sessions({}, {"session_id": "S2", "conversions": "x"}, {"session_id": "S3"})
    assert [r["conversions"] for r in inputs.read_sessions(sessions)] == ["0", "0", "0"]
    assert len(inputs.read_self_reports(files.self_reports({}, {}))) == 1


# --------------------------------------------------------------------- streaming


def test_the_check_keeps_no_records_and_the_records_are_read_again(files):
    rows = [{"session_id": f"S{i}"} for i in range(2000)]
    path = files.sessions(*rows, {"session_id": "S7", "session_start": ""})  # a line left out
    checked = inputs.check_sessions(path, CTX)
    assert "rows" not in vars(checked)  # a year of sessions is never held in memory by the check
    assert checked.ok == 2000 and [r.line_no for r in checked.rejected] == [2002]
    first = list(checked.records())
    assert [r["session_id"] for r in first] == [f"S{i}" for i in range(2000)]
    assert list(checked.records()) == first  # each read is a fresh pass over the file


def test_a_file_changed_between_its_check_and_its_read_is_refused(files):
    path = files.sessions({"session_id": "S1"}, {"session_id": "S2"})
    checked = inputs.check_sessions(path, CTX)
    files.sessions({"session_id": "S1"}, {"session_id": "S2"}, {"session_id": "S3"})
    with pytest.raises(
        inputs.InputError, match=r"sessions.csv: 3 lines on the second read, 2 when checked; the file changed"
    ):
        list(checked.records())


def test_a_structural_problem_late_in_a_long_file_refuses_it_naming_line_and_field(files):
    head = csv_text(SESSION_ROW, [{"session_id": f"S{i}"} for i in range(5000)]).encode()
    bad = b"S-bad,2026-03-01T10:00:00Z,/p,employee_advocacy,social,spring,x-E1,\xe9\n"
    _refused(
        inputs.check_sessions,
        files.raw("late.csv", head + bad),
        r"late.csv, line 5002: not UTF-8 in field 'conversions' \(byte \d+: 0xe9\)",
    )

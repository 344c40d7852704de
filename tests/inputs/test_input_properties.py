"""Properties of the CSV readers, over generated files (hypothesis)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from advocacy import inputs, landing
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from input_files import CTX, ROSTER_ROW, SELF_REPORT_ROW, SESSION_ROW, InputFiles, csv_text

CHECKERS = {
    "roster": (inputs.check_roster, ROSTER_ROW),
    "sessions": (inputs.check_sessions, SESSION_ROW),
    "self-report": (inputs.check_self_reports, SELF_REPORT_ROW),
}
# Any text but NUL (a NUL byte refuses the whole file; test_input_checks.py).
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
FREE_TEXT_COLUMNS = ("email", "full_name", "department", "country", "x_username", "utm_code")
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> InputFiles:
    return InputFiles(tmp_path_factory.mktemp("properties"))


def _write_rows(columns, rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


@PROPERTY_SETTINGS
@given(values=st.fixed_dictionaries({c: TEXT for c in FREE_TEXT_COLUMNS}))
@example(values=dict.fromkeys(FREE_TEXT_COLUMNS, "Zoë 👩🏽‍💻 ✨"))
@example(values=dict.fromkeys(FREE_TEXT_COLUMNS, "محمد العلي \u200fمرحبا"))
@example(values=dict.fromkeys(FREE_TEXT_COLUMNS, 'שרה "כהן", 日本語\r\nnext line'))
def test_any_unicode_in_free_text_survives_reading_and_landing(folder, values):
    row = {**ROSTER_ROW, **values}
    path = folder.raw("unicode.csv", _write_rows(list(ROSTER_ROW), [list(row.values())]).encode())
    [record] = inputs.check_roster(path, CTX).rows
    assert record == {c: v.strip() for c, v in row.items()}  # cells are trimmed, nothing else
    now = dt.datetime.now(dt.UTC)
    f = landing.write(
        str(folder.folder / "landing"), "roster", "employees", dt.date(2026, 3, 1), [record], now
    )
    [(_, line)] = list(landing.open_lines(f.path))
    assert json.loads(line) == record


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# Bytes that cannot change where a line or a cell starts, so the expected line and field are known.
BAD_BYTES = st.binary(min_size=1, max_size=8).filter(
    lambda b: _not_utf8(b) and not any(c in b for c in b'\n\r\x00,"')
)


@PROPERTY_SETTINGS
@given(what=st.sampled_from(list(CHECKERS)), bad=BAD_BYTES, data=st.data())
def test_any_non_utf8_bytes_refuse_the_file_naming_line_and_field(folder, what, bad, data):
    check, row = CHECKERS[what]
    lines = csv_text(row, [row] * 3).encode().split(b"\n")[:-1]
    line = data.draw(st.integers(1, len(lines)), label="line")
    cell = data.draw(st.integers(0, len(row) - 1), label="cell")
    cells = lines[line - 1].split(b",")
    cells[cell] = bad + cells[cell]
    lines[line - 1] = b",".join(cells)
    path = folder.raw("bytes.csv", b"\n".join(lines) + b"\n")
    with pytest.raises(inputs.InputError) as info:
        check(path, CTX)
    field = f" in field '{list(row)[cell]}'" if line > 1 else ""
    assert str(info.value).startswith(f"{path}, line {line}: not UTF-8{field} (byte ")


@PROPERTY_SETTINGS
@given(what=st.sampled_from(list(CHECKERS)), content=st.binary(max_size=300))
@example(what="roster", content=b'employee_id\n"')
@example(what="sessions", content=b"\xef\xbb\xbf")
def test_any_bytes_give_records_or_an_input_error_never_a_crash(folder, what, content):
    check, _ = CHECKERS[what]
    try:
        checked = check(folder.raw("any.csv", content), CTX)
    except inputs.InputError:
        return
    assert all(isinstance(r, dict) for r in checked.rows)


@PROPERTY_SETTINGS
@given(
    what=st.sampled_from(["sessions", "self-report"]),
    cells=st.lists(st.lists(TEXT, min_size=1, max_size=10), max_size=8),
)
def test_every_line_is_either_kept_or_quarantined(folder, what, cells):
    check, row = CHECKERS[what]
    try:
        checked = check(folder.raw("lines.csv", _write_rows(list(row), cells)), CTX)
    except inputs.InputError as exc:  # mostly invalid: refused as a whole
        assert "lines are invalid, more than inputs." in str(exc)
        return
    non_blank = [c for c in cells if any(v.strip() for v in c)]
    # each line is a record, a record's earlier repeat, or left out; a bad cell is kept and quarantined
    assert len(checked.rows) + checked.superseded + len(checked.dropped) == len(non_blank)
    assert len(checked.rows) == checked.ok
    assert sorted(r.line_no for r in checked.rejected) == [r.line_no for r in checked.rejected]
    assert all(r.reason for r in checked.rejected)


@PROPERTY_SETTINGS
@given(n=st.integers(-(10**12), 10**12), decimals=st.sampled_from(["", ".0", ".00", "."]))
@example(n=inputs.MAX_COUNT, decimals="")
@example(n=inputs.MAX_COUNT + 1, decimals="")
def test_a_count_is_kept_exactly_when_a_whole_number_in_the_columns_range(folder, n, decimals):
    rows = [{**SESSION_ROW, "conversions": f"{n}{decimals}"}, {**SESSION_ROW, "session_id": "S2"}]
    path = folder.raw("counts.csv", csv_text(SESSION_ROW, rows))
    checked = inputs.check_sessions(path, CTX)
    if 0 <= n <= inputs.MAX_COUNT or n == 0:
        assert [r["conversions"] for r in checked.rows] == [str(n), "0"]  # 1.0 (pandas) is 1
        assert checked.rejected == []
    else:  # the session is kept, its conversions count nothing, the quarantine says why
        assert [r["conversions"] for r in checked.rows] == ["0", "0"]
        [rejected] = checked.rejected
        assert rejected.kept and rejected.field == "conversions"
        want = "a count cannot be negative" if n < 0 else "larger than any count can be"
        assert want in rejected.reason


@PROPERTY_SETTINGS
@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_a_roster_date_is_read_exactly_when_iso_and_not_in_the_future(folder, day):
    lines = [
        {**ROSTER_ROW, "employee_id": "E1", "invited_at": day.isoformat()},
        {**ROSTER_ROW, "employee_id": "E2", "invited_at": day.strftime("%d/%m/%Y")},
        *({**ROSTER_ROW, "employee_id": f"G{i}"} for i in range(3)),  # keeps rejections under half
    ]
    checked = inputs.check_roster(folder.raw("dates.csv", csv_text(ROSTER_ROW, lines)), CTX)
    invited = {r["employee_id"]: r["invited_at"] for r in checked.rows}
    assert invited["E1"] == (day.isoformat() if day <= CTX.latest else "")  # a bad cell falls back
    assert invited["E2"] == ""  # day-first without date_format: never guessed

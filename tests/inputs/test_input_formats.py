"""European and spreadsheet exports: the reader takes the files HR and web-analytics tools write.

Real files as Excel writes them in a Norwegian or Italian locale (';', BOM, CRLF, dd.mm.yyyy,
ja/nei, sì/no), an .xlsx workbook made with openpyxl, and a pandas export (1.0 counts).
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from advocacy import inputs
from advocacy.settings import InputOptions
from input_files import CTX, ROSTER_ROW, SESSION_ROW, csv_text

NORWEGIAN_ROSTER = (
    "\ufeffEmployee ID;E-mail;Full Name;Department;Country;Hired At;Left At;Invited At;"
    "Registered At;Consent Public;X Username;LinkedIn Member URN;Facebook User ID;"
    "Instagram Username;UTM Code\r\n"
    "N1;kari@example.no;Kari Nordmann;Salg;NO;01.02.2020;;05.01.2026;06.01.2026;ja;kari;;;;n1\r\n"
    "N2;ola@example.no;Ola Normann;Økonomi;NO;15.08.2019;31.12.2026;05.01.2026;;nei;;;;;n2\r\n"
    "N3;per@example.no;Per Ås;Salg;NO;01.03.2021;;;;Ja;;;;;n3\r\n"
)


def _ctx(**options) -> inputs.RunContext:
    return inputs.RunContext(CTX.latest, options=InputOptions(**options))


def test_a_norwegian_excel_roster_is_read_with_its_date_format(files):
    path = files.raw("ansatte.csv", NORWEGIAN_ROSTER.encode("utf-8"))
    checked = inputs.check_roster(path, _ctx(date_format="dd.mm.yyyy"))
    assert checked.rejected == [] and checked.warnings == []
    rows = {r["employee_id"]: r for r in checked.rows}
    assert rows["N1"] == {
        **dict.fromkeys(inputs.ROSTER_COLUMNS, ""),
        "employee_id": "N1", "email": "kari@example.no", "full_name": "Kari Nordmann",
        "department": "Salg", "country": "NO", "hired_at": "2020-02-01", "invited_at": "2026-01-05",
        "registered_at": "2026-01-06", "consent_public": "true", "x_username": "kari", "utm_code": "n1",
    }  # fmt: skip
    assert (rows["N2"]["left_at"], rows["N2"]["consent_public"], rows["N2"]["department"]) == (
        "2026-12-31", "false", "Økonomi",
    )  # fmt: skip
    assert rows["N3"]["consent_public"] == "true"


def test_without_its_date_format_a_day_first_roster_is_refused_saying_which_setting(files):
    path = files.raw("ansatte.csv", NORWEGIAN_ROSTER.encode("utf-8"))
    with pytest.raises(inputs.InputError) as info:
        inputs.check_roster(path, CTX)
    message = str(info.value)
    assert "3 of 3 roster lines are invalid" in message
    assert "field 'hired_at' is '15.08.2019', not a date in yyyy-mm-dd; it is day-first:" in message
    assert "set inputs.roster.date_format: dd.mm.yyyy" in message


def test_an_italian_cp1252_export_is_read_with_its_encoding(files):
    people = [
        {"employee_id": "I1", "full_name": "Niccolò Rossi", "hired_at": "03/04/2021", "consent_public": "sì"},
        {
            "employee_id": "I2",
            "full_name": "Giulia Bianchi",
            "hired_at": "25/12/2020",
            "consent_public": "No",
        },
    ]
    text = csv_text(ROSTER_ROW, [{**ROSTER_ROW, **p} for p in people]).replace(",", ";").replace("\n", "\r\n")
    path = files.raw("dipendenti.csv", text.encode("cp1252"))
    with pytest.raises(
        inputs.InputError, match=r"not UTF-8 in field 'full_name' .* set inputs.roster.encoding"
    ):
        inputs.check_roster(path, CTX)
    checked = inputs.check_roster(path, _ctx(encoding="cp1252", date_format="dd/mm/yyyy"))
    rows = {r["employee_id"]: r for r in checked.rows}
    assert (rows["I1"]["full_name"], rows["I1"]["hired_at"], rows["I1"]["consent_public"]) == (
        "Niccolò Rossi", "2021-04-03", "true",
    )  # fmt: skip
    assert (rows["I2"]["hired_at"], rows["I2"]["consent_public"]) == ("2020-12-25", "false")


def test_month_first_is_read_only_when_declared_never_guessed(files):
    rows = [{**ROSTER_ROW, "employee_id": "U1", "hired_at": "03/04/2021"}]
    path = files.raw("us.csv", csv_text(ROSTER_ROW, rows))
    assert inputs.check_roster(path, _ctx(date_format="mm/dd/yyyy")).rows[0]["hired_at"] == "2021-03-04"
    assert inputs.check_roster(path, _ctx(date_format="dd/mm/yyyy")).rows[0]["hired_at"] == "2021-04-03"
    with pytest.raises(inputs.InputError, match=r"dd/mm/yyyy or mm/dd/yyyy"):  # ambiguous: refused
        inputs.check_roster(path, CTX)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_sniffed(files, separator):
    text = csv_text(SESSION_ROW, [SESSION_ROW, {**SESSION_ROW, "session_id": "S2"}])
    path = files.raw("sessions.csv", text.replace(",", separator).encode("utf-8-sig"))
    assert [r["session_id"] for r in inputs.check_sessions(path, CTX).rows] == ["S1", "S2"]


def test_a_wrong_declared_separator_is_named_with_the_fix(files):
    path = files.raw("ansatte.csv", NORWEGIAN_ROSTER.encode("utf-8"))
    with pytest.raises(inputs.InputError) as info:
        inputs.check_roster(path, _ctx(delimiter=",", date_format="dd.mm.yyyy"))
    assert "The file uses ';' as separator, not ','; set inputs.roster.delimiter: ';'" in str(info.value)
    assert "re-export with ','" in str(info.value)


def test_headers_match_whatever_their_case_and_spaces(files):
    header = [c.upper().replace("_", " ") for c in SESSION_ROW]
    text = csv_text(header, []) + csv_text(SESSION_ROW, [SESSION_ROW]).split("\n", 1)[1]
    assert inputs.check_sessions(files.raw("s.csv", text), CTX).rows[0]["session_id"] == "S1"


def test_pandas_integral_decimals_and_an_overflowing_count(files):
    rows = [
        {**SESSION_ROW, "session_id": f"S{i}", "conversions": c} for i, c in enumerate(["1.0", "0.0", "2"])
    ]
    rows.append({**SESSION_ROW, "session_id": "S9", "conversions": "3000000000"})
    checked = inputs.check_sessions(files.raw("s.csv", csv_text(SESSION_ROW, rows)), CTX)
    assert [r["conversions"] for r in checked.rows] == ["1", "0", "2", "0"]
    [bad] = checked.rejected
    assert (bad.line_no, bad.field, bad.kept) == (5, "conversions", True)
    assert "3000000000: larger than any count can be (at most 2,147,483,647)" in bad.reason


def test_two_concatenated_exports_keep_the_newer_line_of_each_key(files):
    older = csv_text(
        ROSTER_ROW, [{**ROSTER_ROW, "employee_id": e, "department": "Old"} for e in ("E1", "E2")]
    )
    newer = csv_text(
        ROSTER_ROW, [{**ROSTER_ROW, "employee_id": e, "department": "New"} for e in ("E2", "E3")]
    )
    checked = inputs.check_roster(files.raw("both.csv", older + newer), CTX)
    assert {r["employee_id"]: r["department"] for r in checked.rows} == {
        "E1": "Old",
        "E2": "New",
        "E3": "New",
    }
    assert checked.rejected == [] and checked.ok == 3 and checked.superseded == 1


def _workbook(path, rows, sheet="Ark1", first=None):
    book = openpyxl.Workbook()
    if first:
        book.active.title = first
        book.create_sheet(sheet)
    else:
        book.active.title = sheet
    ws = book[sheet]
    for row in rows:
        ws.append(row)
    book.save(path)
    return str(path)


def test_an_xlsx_export_is_read_directly(files, tmp_path):
    header = ["Employee ID", "Email", "Full name", "Department", "Country", "Hired at", "Left at",
              "Invited at", "Registered at", "Consent public", "X username", "LinkedIn member URN",
              "Facebook user ID", "Instagram username", "UTM code"]  # fmt: skip
    rows = [
        header,
        ["X1", "a@example.com", "Åse Berg", "Salg", "NO", dt.datetime(2020, 2, 1), None,
         dt.date(2026, 1, 5), dt.datetime(2026, 1, 6), True, "ase", None, 12345.0, None, 7.0],
        ["X2", "b@example.com", "Bo", None, "SE", "01.03.2021", None, None, None, "nej", *[None] * 5],
        [None] * 15,
    ]  # fmt: skip
    path = _workbook(tmp_path / "roster.xlsx", rows, sheet="Ansatte", first="Forside")
    with pytest.raises(inputs.InputError, match=r"sheet 'Forside' is empty"):  # the first sheet: a cover
        inputs.check_roster(path, CTX)
    checked = inputs.check_roster(path, _ctx(sheet="Ansatte", date_format="dd.mm.yyyy"))
    rows = {r["employee_id"]: r for r in checked.rows}
    assert (rows["X1"]["hired_at"], rows["X1"]["invited_at"], rows["X1"]["registered_at"]) == (
        "2020-02-01", "2026-01-05", "2026-01-06",
    )  # fmt: skip
    assert (rows["X1"]["consent_public"], rows["X1"]["facebook_user_id"], rows["X1"]["utm_code"]) == (
        "true", "12345", "7",
    )  # fmt: skip
    assert (rows["X2"]["hired_at"], rows["X2"]["consent_public"]) == ("2021-03-01", "false")
    with pytest.raises(
        inputs.InputError, match=r"no sheet 'Nope' \(sheets: Forside, Ansatte\); fix inputs.roster.sheet"
    ):
        inputs.check_roster(path, _ctx(sheet="Nope"))


def test_a_bad_xlsx_cell_names_its_row(files, tmp_path):
    rows = [list(SESSION_ROW), list(SESSION_ROW.values()), [*list(SESSION_ROW.values())[:-1], "many"]]
    rows[2][0] = "S2"
    path = _workbook(tmp_path / "sessions.xlsx", rows)
    checked = inputs.check_sessions(path, CTX)
    assert [(r.line_no, r.field) for r in checked.rejected] == [(3, "conversions")]


def test_a_session_start_that_looks_right_but_is_no_day_is_still_refused(files):
    rows = [{**SESSION_ROW, "session_id": f"S{i}", "session_start": v} for i, v in enumerate(
        ["2026-02-28T10:00:00Z", "2026-02-30T10:00:00Z", "2025-02-29T10:00:00Z", "2026-01-31T23:59:59Z"]
    )]  # fmt: skip
    checked = inputs.check_sessions(
        files.raw("s.csv", csv_text(SESSION_ROW, rows)), _ctx(max_invalid_share=1)
    )
    assert [r["session_id"] for r in checked.rows] == ["S0", "S3"]
    assert [r.line_no for r in checked.dropped] == [3, 4]

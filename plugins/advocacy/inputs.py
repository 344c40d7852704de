"""File inputs (roster today; self-reports and sessions later): read, check, turn into records.

Files are read through fsspec, so a local path or an object-storage URL works.
Problems name the file, line and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import urlsplit

import fsspec

ROSTER_COLUMNS = (
    "employee_id", "email", "full_name", "department", "country", "hired_at", "left_at",
    "invited_at", "registered_at", "consent_public", "x_username", "linkedin_member_urn",
    "facebook_user_id", "instagram_username", "utm_code",
)  # fmt: skip


class InputError(ValueError):
    """A file input is unusable; the message names file, line and field and the fix."""


def read_csv(path: str, columns: tuple[str, ...], what: str) -> list[dict]:
    try:
        with fsspec.open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as exc:
        raise InputError(f"{what} file {path} not found: check 'inputs' in the settings") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 (byte {exc.start}); re-export as UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(h.strip() for h in (reader.fieldnames or ()))
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path}, line 1: {what} is missing column(s) {', '.join(missing)}")
    rows = []
    for row in reader:
        rows.append({c: (row.get(c) or "").strip() for c in columns})
    return rows


def read_roster(path: str) -> list[dict]:
    rows = read_csv(path, ROSTER_COLUMNS, "roster")
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        if not row["employee_id"]:
            raise InputError(f"{path}, line {i}: field 'employee_id' is empty")
        eid = row["employee_id"]
        if eid in seen:
            raise InputError(f"{path}, line {i}: employee_id '{eid}' repeats line {seen[eid]}")
        seen[eid] = i
        if row["consent_public"].lower() not in ("true", "false", ""):
            raise InputError(f"{path}, line {i}: field 'consent_public' must be true or false")
    if not rows:
        raise InputError(f"{path}: the roster has no employees; refusing to replace the last one")
    return rows


SESSION_COLUMNS = (
    "session_id", "session_start", "landing_page", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "conversions",
)  # fmt: skip
# GA4 BigQuery export names (collected_traffic_source.manual_*: the raw UTM values
# captured with each event) -> the KPI_SPEC sessions columns.
GA4_COLUMNS = {
    "collected_traffic_source.manual_source": "utm_source",
    "collected_traffic_source.manual_medium": "utm_medium",
    "collected_traffic_source.manual_campaign_name": "utm_campaign",
    "collected_traffic_source.manual_content": "utm_content",
}
SELF_REPORT_COLUMNS = ("employee_id", "month", "platform", "posts", "likes", "comments", "shares")


def _header(path: str) -> tuple[str, ...]:
    with fsspec.open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        return tuple(h.strip() for h in (fh.readline().strip().split(",")))


def read_sessions(path: str) -> list[dict]:
    """Web-analytics sessions, in the KPI_SPEC layout or GA4 BigQuery export names."""
    if "collected_traffic_source.manual_source" not in _header(path):
        return read_csv(path, SESSION_COLUMNS, "sessions")
    ga4_cols = ("session_id", "event_timestamp", "page_location", *GA4_COLUMNS, "conversions")
    rows = []
    for i, row in enumerate(read_csv(path, ga4_cols, "sessions (GA4 export)"), start=2):
        try:
            start = dt.datetime.fromtimestamp(int(row["event_timestamp"]) / 1_000_000, dt.UTC)
        except ValueError as exc:
            raise InputError(f"{path}, line {i}: field 'event_timestamp' is not microseconds") from exc
        page = urlsplit(row["page_location"])
        rec = {
            "session_id": row["session_id"],
            "session_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "landing_page": page.path or "/",
            **{kpi: row[ga4] for ga4, kpi in GA4_COLUMNS.items()},
            "conversions": row["conversions"],
            "_format": "ga4",
        }
        rows.append(rec)
    return rows


def read_self_reports(path: str) -> list[dict]:
    rows = read_csv(path, SELF_REPORT_COLUMNS, "self-report")
    for row in rows:  # one report per employee, month and platform
        row["_row_key"] = f"{row['employee_id']}|{row['month']}|{row['platform'].lower()}"
    return rows

"""Writers of real input files (roster, sessions, self-reports) for the tests in tests/inputs/.

Each row is given as the fields that differ from a valid default row, so a test says only
what is wrong with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from advocacy import inputs

DAY = dt.date(2026, 3, 1)  # the run's interval day: dates up to DAY + 1 are not in the future
CTX = inputs.RunContext(latest=DAY + dt.timedelta(days=1))

ROSTER_ROW = {
    "employee_id": "E1", "email": "ann@example.com", "full_name": "Ann Lee", "department": "Sales",
    "country": "NL", "hired_at": "2020-01-01", "left_at": "", "invited_at": "2026-01-05",
    "registered_at": "2026-01-06", "consent_public": "true", "x_username": "ann",
    "linkedin_member_urn": "", "facebook_user_id": "", "instagram_username": "", "utm_code": "c1",
}  # fmt: skip
SESSION_ROW = {
    "session_id": "S1", "session_start": "2026-02-27T10:00:00Z", "landing_page": "/",
    "utm_source": "x", "utm_medium": "employee_advocacy", "utm_campaign": "launch",
    "utm_content": "c1", "conversions": "0",
}  # fmt: skip
SELF_REPORT_ROW = {
    "employee_id": "E1", "month": "2026-02", "platform": "tiktok",
    "posts": "3", "likes": "10", "comments": "2", "shares": "1",
}  # fmt: skip


def csv_text(columns, rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


class InputFiles:
    """Writes files under one folder; ``roster(...)`` etc. return the file's path."""

    def __init__(self, folder: Path):
        self.folder = folder

    def raw(self, name: str, content: str | bytes) -> str:
        path = self.folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def _write(self, name, default, rows, columns) -> str:
        rows = [{**default, **r} for r in rows]
        return self.raw(name, csv_text(columns or list(default), rows))

    def roster(self, *rows: dict, name="roster.csv", columns=None) -> str:
        return self._write(name, ROSTER_ROW, rows, columns)

    def sessions(self, *rows: dict, name="sessions.csv", columns=None) -> str:
        return self._write(name, SESSION_ROW, rows, columns)

    def self_reports(self, *rows: dict, name="self_reports.csv", columns=None) -> str:
        return self._write(name, SELF_REPORT_ROW, rows, columns)

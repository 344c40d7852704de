"""File inputs (roster today; self-reports and sessions later): read, check, turn into records.

Files are read through fsspec, so a local path or an object-storage URL works.
Problems name the file, line and field.
"""

from __future__ import annotations

import csv
import io

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
        raise InputError(
            f"{path}, line {line}: not UTF-8 (byte {exc.start}); re-export as UTF-8"
        ) from exc
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

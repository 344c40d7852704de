"""File inputs (HR roster, web-analytics sessions, self-reports): read, check, turn into records.

Files are read through fsspec, so a local path or an object-storage URL works. Every
problem names the file, line and field and says what to fix. Two kinds (plugins/README.md,
"Bad input"):

* structural: the file as a whole cannot be trusted (unreadable, 0 bytes, not UTF-8,
  broken quoting, a missing column, a roster without usable rows) -> ``InputError``, and
  the caller replaces nothing of that source;
* row-level: one line is wrong (a bad value, a repeated id, an unknown employee, a date in
  the future) -> the line is rejected with its reasons (the pipeline quarantines it) and
  the rest of the file is used.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import fsspec

log = logging.getLogger(__name__)

ROSTER_COLUMNS = (
    "employee_id", "email", "full_name", "department", "country", "hired_at", "left_at",
    "invited_at", "registered_at", "consent_public", "x_username", "linkedin_member_urn",
    "facebook_user_id", "instagram_username", "utm_code",
)  # fmt: skip
# Account columns of platforms added later (the registry's optional ones): read when the
# export has them, so an older export stays valid.
ROSTER_OPTIONAL_COLUMNS = ("bluesky_handle",)
ROSTER_DATES = ("hired_at", "left_at", "invited_at", "registered_at")
# left_at may lie ahead (HR records notice periods); the others record something that happened.
ROSTER_PAST_DATES = ("hired_at", "invited_at", "registered_at")
# More rejected roster lines than this share means the export, not a few lines, is wrong
# (e.g. every date written DD/MM/YYYY): refuse it rather than shrink the roster overnight.
ROSTER_MAX_REJECTED_SHARE = 0.5

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
GA4_SESSION_COLUMNS = ("session_id", "event_timestamp", "page_location", *GA4_COLUMNS, "conversions")
GA4_KNOWN_COLUMNS = ("event_date",)  # in the export, not needed: no warning for it

SELF_REPORT_COLUMNS = ("employee_id", "month", "platform", "posts", "likes", "comments", "shares")
SELF_REPORT_COUNTS = ("posts", "likes", "comments", "shares")
# Platform names a self-report may carry (case-insensitive): the API platforms with the
# spellings dbt's social_platform() maps, and those only self-reports cover. 'other' for the rest.
SELF_REPORT_PLATFORMS = frozenset({
    "x", "twitter", "linkedin", "facebook", "fb", "instagram", "ig",
    "tiktok", "youtube", "threads", "bluesky", "mastodon", "pinterest", "reddit", "snapchat",
    "xing", "other",
})  # fmt: skip


class InputError(ValueError):
    """A file input is unusable as a whole; the message names file, line and field and the fix."""


@dataclass(frozen=True)
class RunContext:
    """What the checks need to know about the run.

    ``latest``: the last day a date in the file may be (the run's interval day + 1: the
    export is made the morning after); ``employees``: the roster's employee ids, for
    self-reports. ``None`` skips that check.
    """

    latest: dt.date | None = None
    employees: frozenset[str] | None = None


@dataclass(frozen=True)
class Rejected:
    """One line that failed its checks: ``field`` is the first bad field (None: the whole line)."""

    line_no: int
    field: str | None
    reason: str
    raw: dict


class Checked:
    """A file that passed the structural checks: its valid records and its rejected lines.

    The check reads the file once, line by line, keeping only the rejected lines, the
    keys seen and the values asked for in ``collect``; ``records()`` reads it again and
    yields the valid records one by one. So memory stays flat however long the export
    is (a year of sessions: 450k lines), and a structural problem anywhere in the file
    is found before anything is written. ``rows`` is the list, for small files and tests.
    """

    def __init__(self, path: str, what: str, records: Callable[[], Iterator[dict]] | None = None):
        self.path = path
        self.what = what
        self.rejected: list[Rejected] = []
        self.warnings: list[str] = []
        self.ok = 0  # lines that passed
        self.collected: dict[str, set[str]] = {}
        self._records = records or (lambda: iter(()))

    def records(self) -> Iterator[dict]:
        """The valid records, read again from the file; refuses a file changed since its check."""
        n = 0
        for rec in self._records():
            n += 1
            yield rec
        if n != self.ok:
            raise InputError(
                f"{self.path}: {n} valid lines on the second read, {self.ok} when checked;"
                " the file changed while it was read: rerun the interval"
            )

    @functools.cached_property
    def rows(self) -> list[dict]:
        return list(self.records())

    def values(self, column: str) -> set[str]:
        """Every non-empty value of ``column`` (one the check was asked to ``collect``) in the
        file, rejected lines included."""
        return self.collected[column]

    def summary(self, first: int = 3) -> str:
        text = f"{self.ok} rows ok, {len(self.rejected)} quarantined"
        if self.rejected:
            text += "; first: " + "; ".join(f"line {r.line_no}: {r.reason}" for r in self.rejected[:first])
        return text


# --------------------------------------------------------------------- reading the file


def _open(path: str, what: str):
    try:
        return fsspec.open(path, "rb").open()
    except FileNotFoundError as exc:
        raise InputError(f"{what} file {path} not found: check 'inputs' in the settings") from exc
    except OSError as exc:  # a folder, no permission, storage unreachable
        raise InputError(
            f"{what} file {path} cannot be read ({exc}); check the path and permissions"
        ) from exc


def _decoded(fh, path: str, what: str) -> Iterator[str]:
    """The file's lines as text, one at a time; a file that is not UTF-8 text is refused."""
    size = offset = 0  # offset: bytes before the line, BOM excluded
    header = b""
    content = False
    for line_no, raw in enumerate(fh, 1):
        size += len(raw)
        if line_no == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise InputError(f"{path}, line 1: the {what} file is UTF-16; re-export it as UTF-8 CSV")
            raw = raw.removeprefix(codecs.BOM_UTF8)  # Excel's "CSV UTF-8" starts with a BOM
            header = raw
        if b"\x00" in raw:  # binary, or UTF-16 without its BOM; jsonb cannot hold it
            raise InputError(
                f"{path}, line {line_no}: a NUL byte, so not a text CSV; re-export it as UTF-8 CSV"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(_not_utf8(path, line_no, header, raw, exc.start, offset)) from exc
        offset += len(raw)
        content = content or bool(raw.strip())
        yield text
    if not content:
        raise InputError(
            f"{path}, line 1: the {what} file is empty ({size} bytes), probably a failed export;"
            " re-export it (a file without rows still has its header line)"
        )


def _not_utf8(path: str, line_no: int, header: bytes, raw: bytes, start: int, offset: int) -> str:
    where = ""
    if line_no > 1:  # name the field: count the cells before the bad byte on its line
        names = next(csv.reader([header.decode("utf-8", "replace")]), [])
        position = max(len(next(csv.reader([raw[:start].decode("utf-8", "replace")]), [])) - 1, 0)
        if position < len(names):
            where = f" in field '{names[position].strip()}'"
    bad = f"byte {offset + start}: 0x{raw[start]:02x}"
    return f"{path}, line {line_no}: not UTF-8{where} ({bad}); re-export the file as UTF-8"


def _lines(path: str, what: str) -> Iterator:
    """Yields the header's cells, then (line_no, cells) of each non-blank line."""
    with _open(path, what) as fh:
        reader = csv.reader(_decoded(fh, path, what), strict=True)
        try:
            yield [h.strip() for h in next(reader, [])]
            last = reader.line_num
            for cells in reader:
                start, last = last + 1, reader.line_num  # a quoted value may span lines
                if any(c.strip() for c in cells):  # spreadsheets leave rows of empty cells
                    yield start, cells
        except csv.Error as exc:  # e.g. a quote left open: the rest of the file cannot be trusted
            raise InputError(
                f"{path}, line {reader.line_num}: not readable as CSV ({exc}); check the quoting"
                " around that line, or re-export the file"
            ) from exc


def _table(
    path: str, what: str, columns: tuple[str, ...], known: tuple[str, ...] = ()
) -> tuple[list[str], Iterator, list[str]]:
    """(header, iterator of (line_no, cells), warnings) of a CSV whose header has every column."""
    lines = _lines(path, what)
    header = next(lines)
    if not any(header):  # a blank first line: an empty file is refused as such at its end
        lines = iter(list(lines))
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            f"{path}, line 1: {what} is missing column(s) {', '.join(missing)};"
            f" the header needs {', '.join(columns)}"
        )
    repeated = sorted({h for h in header if h in columns and header.count(h) > 1})
    if repeated:
        raise InputError(f"{path}, line 1: column(s) {', '.join(repeated)} appear twice in the header")
    extra = [h or "(unnamed)" for h in header if h not in columns and h not in known]
    warnings = []
    if extra:
        warnings.append(f"{path}, line 1: ignoring column(s) {', '.join(extra)}: not in the {what} layout")
    return header, lines, warnings


# --------------------------------------------------------------------- value checks
# A check returns what is wrong with a (stripped) value, or None.

Check = Callable[[str], str | None]


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _required(value: str) -> str | None:
    return "is empty: every line needs one" if not value else None


def _parse_date(value: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_timestamp(value: str) -> dt.datetime | None:
    """ISO-8601 timestamp, as aware UTC (no offset means UTC, as the sessions layout says)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", value):
        return None
    try:
        ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _parse_micros(value: str) -> dt.datetime | None:
    if not re.fullmatch(r"[0-9]{1,17}", value):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value) / 1_000_000, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _parse_month(value: str) -> dt.date | None:
    return _parse_date(value + "-01") if re.fullmatch(r"\d{4}-\d{2}", value) else None


def _dated(parse: Callable[[str], dt.date | None], expected: str, latest: dt.date | None) -> Check:
    """A date-like value: parseable, and not after ``latest`` (when given)."""

    def check(value: str) -> str | None:
        if not value:
            return None
        parsed = parse(value)
        if parsed is None:
            return f"is {_show(value)}, not {expected}"
        day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        if latest and day > latest:
            return f"is {value}, in the future (after {latest}); check the date (day and month swapped?)"
        return None

    return check


def _count(value: str) -> str | None:
    if not value or re.fullmatch(r"[0-9]+", value):  # empty counts as 0, as staging reads it
        return None
    if re.fullmatch(r"-[0-9]+", value):
        return f"is {value}: a count cannot be negative"
    return f"is {_show(value)}, not a whole number >= 0"


def _one_of(allowed: frozenset[str], fix: str) -> Check:
    def check(value: str) -> str | None:
        return None if not value or value.lower() in allowed else f"is {_show(value)}: {fix}"

    return check


def _known(ids: frozenset[str] | None) -> Check:
    def check(value: str) -> str | None:
        if ids is None or not value or value in ids:
            return None
        return f"is {_show(value)}, not in the roster: check the id, or add the employee to the HR export"

    return check


def _check_lines(
    path: str,
    what: str,
    columns: tuple[str, ...],
    checks: dict[str, tuple[Check, ...]],
    key: tuple[str, Callable[[dict], str]],
    to_record: Callable[[dict], dict] = dict,
    known: tuple[str, ...] = (),
    collect: tuple[str, ...] = (),
) -> Checked:
    """Check every line of the file. ``key``: (its name, its value) identifies a line; of
    lines with the same key the first valid one is kept. ``collect``: columns whose values
    (of every line) ``Checked.values`` returns."""
    header, lines, warnings = _table(path, what, columns, known)
    rejected_at: set[int] = set()

    def records() -> Iterator[dict]:
        for line_no, cells in _table(path, what, columns, known)[1]:
            if line_no not in rejected_at:
                yield to_record(_record(header, cells, columns))

    out = Checked(path, what, records)
    out.warnings = warnings
    out.collected = {c: set() for c in collect}
    key_name, key_of = key
    kept: dict[str, int] = {}
    for line_no, cells in lines:
        raw = dict(zip(header, cells, strict=False))
        if len(cells) > len(header):
            raw["_unnamed"] = cells[len(header) :]
        for c, seen in out.collected.items():
            if isinstance(v := raw.get(c), str) and v.strip():
                seen.add(v.strip())
        rec = _record(header, cells, columns)
        problems: list[tuple[str | None, str]] = []
        if len(cells) != len(header):  # values are shifted: checking fields would only add noise
            shifted = f"has {len(cells)} values but the header has {len(header)} columns"
            problems.append((None, f"{shifted}: quote values that contain commas"))
        else:
            for col, col_checks in checks.items():
                if problem := next((p for check in col_checks if (p := check(rec[col]))), None):
                    problems.append((col, f"field '{col}' {problem}"))
        if not problems and (ident := key_of(rec)) in kept:
            repeat = f"{key_name} {ident!r} repeats line {kept[ident]} (that one is kept): remove one"
            problems.append((key_name.split("+")[0], repeat))
        if problems:
            out.rejected.append(Rejected(line_no, problems[0][0], "; ".join(p for _, p in problems), raw))
            rejected_at.add(line_no)
        else:
            kept[key_of(rec)] = line_no
            out.ok += 1
    return out


def _record(header: list[str], cells: list[str], columns: tuple[str, ...]) -> dict:
    raw = dict(zip(header, cells, strict=False))
    return {c: (raw.get(c) or "").strip() for c in columns}


# --------------------------------------------------------------------- the three inputs


_NO_CONTEXT = RunContext()
_ID = ("employee_id", lambda rec: rec["employee_id"])
_SESSION_ID = ("session_id", lambda rec: rec["session_id"])


def check_roster(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """The HR roster; refuses (InputError) a roster without usable rows or mostly rejected."""
    checks = {"employee_id": (_required,)}
    for c in ROSTER_DATES:
        latest = ctx.latest if c in ROSTER_PAST_DATES else None
        checks[c] = (_dated(_parse_date, "an ISO-8601 date: write YYYY-MM-DD", latest),)
    checks["consent_public"] = (_one_of(frozenset({"true", "false"}), "write true or false"),)
    columns = ROSTER_COLUMNS + tuple(c for c in ROSTER_OPTIONAL_COLUMNS if c in _header(path))
    out = _check_lines(path, "roster", columns, checks, _ID, collect=("employee_id",))
    total = out.ok + len(out.rejected)
    if not total:
        raise InputError(
            f"{path}: the roster has no employees (only a header); refusing to replace the last one"
        )
    if len(out.rejected) > total * ROSTER_MAX_REJECTED_SHARE:
        raise InputError(
            f"{path}: {len(out.rejected)} of {total} roster lines are invalid, so the export itself is"
            f" probably wrong; refusing to replace the last roster. {out.summary()}"
        )
    return out


def _ga4_record(rec: dict) -> dict:
    return {
        "session_id": rec["session_id"],
        "session_start": _parse_micros(rec["event_timestamp"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "landing_page": urlsplit(rec["page_location"]).path or "/",
        **{kpi: rec[ga4] for ga4, kpi in GA4_COLUMNS.items()},
        "conversions": rec["conversions"],
        "_format": "ga4",
    }


def _kpi_session(rec: dict) -> dict:
    # one spelling of the time (UTC, 'Z'), so staging's cast cannot depend on the session zone
    start = _parse_timestamp(rec["session_start"]).isoformat().replace("+00:00", "Z")
    return {**rec, "session_start": start}


def _header(path: str) -> tuple[str, ...]:
    try:
        with fsspec.open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
            return tuple(h.strip() for h in next(csv.reader([fh.readline()]), []))
    except OSError:
        return ()  # _open reports it


def check_sessions(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """Web-analytics sessions, in the KPI_SPEC layout or GA4 BigQuery export names."""
    checks: dict[str, tuple[Check, ...]] = {"session_id": (_required,), "conversions": (_count,)}
    if "collected_traffic_source.manual_source" in _header(path):
        checks["event_timestamp"] = (_required, _dated(_parse_micros, "microseconds since 1970", ctx.latest))
        what = "sessions (GA4 export)"
        return _check_lines(
            path, what, GA4_SESSION_COLUMNS, checks, _SESSION_ID, _ga4_record, GA4_KNOWN_COLUMNS
        )
    checks["session_start"] = (_required, _dated(_parse_timestamp, "an ISO-8601 timestamp", ctx.latest))
    return _check_lines(path, "sessions", SESSION_COLUMNS, checks, _SESSION_ID, _kpi_session)


def _report_key(rec: dict) -> str:
    # one report per employee, month and platform (however the platform is capitalised)
    return f"{rec['employee_id']}|{rec['month']}|{rec['platform'].lower()}"


def check_self_reports(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """Advocates' monthly self-reports; ``ctx.employees`` (when given) must know each employee."""
    platforms = ", ".join(sorted(SELF_REPORT_PLATFORMS))
    checks: dict[str, tuple[Check, ...]] = {
        "employee_id": (_required, _known(ctx.employees)),
        "month": (_required, _dated(_parse_month, "a month: write YYYY-MM", ctx.latest)),
        "platform": (
            _required,
            _one_of(SELF_REPORT_PLATFORMS, f"not a known platform; use one of {platforms}"),
        ),
        **{c: (_count,) for c in SELF_REPORT_COUNTS},
    }
    key = ("employee_id+month+platform", _report_key)
    return _check_lines(
        path,
        "self-report",
        SELF_REPORT_COLUMNS,
        checks,
        key,
        lambda rec: {**rec, "_row_key": _report_key(rec)},
    )


def _usable(checked: Checked) -> list[dict]:
    for w in checked.warnings:
        log.warning(w)
    if checked.rejected:
        log.warning("%s: %s", checked.path, checked.summary())
    return checked.rows


def read_roster(path: str) -> list[dict]:
    """The roster's valid rows (rejected lines left out, and logged)."""
    return _usable(check_roster(path))


def read_sessions(path: str) -> list[dict]:
    """The sessions file's valid rows (rejected lines left out, and logged)."""
    return _usable(check_sessions(path))


def read_self_reports(path: str) -> list[dict]:
    """The self-report file's valid rows (rejected lines left out, and logged)."""
    return _usable(check_self_reports(path))

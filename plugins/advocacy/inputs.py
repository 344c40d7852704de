"""File inputs (HR roster, web-analytics sessions, self-reports): read, check, turn into records.

Files are read through fsspec, so a local path or an object-storage URL works; CSV in any
of the separators spreadsheets write (``,`` ``;`` tab, sniffed from the header), any
declared encoding, with or without BOM and CRLF, or an ``.xlsx`` workbook (openpyxl).
How each input is read comes from the settings (``inputs.<name>``: delimiter, encoding,
date_format, max_invalid_share, sheet); dates are never guessed between day-first and
month-first. Every problem names the file, line and field, what was seen and the fix.
Three kinds (plugins/README.md, "Bad input"):

* structural: the file as a whole cannot be trusted (unreadable, 0 bytes, wrong encoding,
  broken quoting, a missing column, a roster without usable rows, more invalid lines than
  ``max_invalid_share``) -> ``InputError``, and the caller replaces nothing of that source;
* a bad cell: one field is wrong (a date in the wrong format, a consent of 'maybe', a
  count of 'two') -> the line is kept, the field falls back to the last good value (the
  previous roster's, when the caller gives it) or to its safe default (consent false, a
  count 0, a date unknown); the problem is recorded for the quarantine;
* an unusable key: the line cannot be identified (no employee_id, a session without a
  start, a self-report of an unknown employee) -> the line is left out, with its reasons.

Of lines with the same key the last one wins: two exports pasted together keep the newer
line of each employee (a repeated header line between them is skipped).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import fsspec

from advocacy import platforms

if TYPE_CHECKING:
    from advocacy.settings import InputOptions

log = logging.getLogger(__name__)

ROSTER_COLUMNS = (
    "employee_id", "email", "full_name", "department", "country", "hired_at", "left_at",
    "invited_at", "registered_at", "consent_public", "utm_code",
    *platforms.roster_columns(optional=False),  # each platform's account column (the registry)
)  # fmt: skip
# Account columns of platforms added later (the registry's optional ones): read when the
# export has them, so an older export stays valid.
ROSTER_OPTIONAL_COLUMNS = platforms.roster_columns(optional=True)
ROSTER_DATES = ("hired_at", "left_at", "invited_at", "registered_at")
# left_at may lie ahead (HR records notice periods); the others record something that happened.
ROSTER_PAST_DATES = ("hired_at", "invited_at", "registered_at")
# Default share of invalid lines above which a file is refused (settings: inputs.<name>.max_invalid_share).
MAX_INVALID_SHARE = 0.5

SESSION_COLUMNS = (
    "session_id", "session_start", "landing_page", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "conversions",
)  # fmt: skip
# GA4 BigQuery export names (collected_traffic_source.manual_*: the raw UTM values
# captured with each event) -> the sessions layout's columns.
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
# Platform names a self-report may carry (case-insensitive): the registry's platforms with the
# spellings dbt's social_platform() maps, and those only self-reports cover. 'other' for the rest.
SELF_REPORT_PLATFORMS = platforms.self_report_names() | {
    "tiktok", "youtube", "threads", "mastodon", "pinterest", "reddit", "snapchat", "xing", "other",
}  # fmt: skip

# Counts land in PostgreSQL integer columns (staging casts them): a larger value would fail dbt.
MAX_COUNT = 2_147_483_647
# Yes / no in the words exports use (English, Norwegian/Danish/Swedish, German, Dutch,
# Italian, French, Spanish, 1/0, x for a ticked box); empty means no.
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "ja", "j", "si", "sì", "oui", "wahr", "x"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "nei", "nein", "nee", "nej", "non", "falsch"})
DATE_FORMATS = ("yyyy-mm-dd", "dd.mm.yyyy", "dd/mm/yyyy", "dd-mm-yyyy", "mm/dd/yyyy", "yyyy/mm/dd")
SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab"}


class InputError(ValueError):
    """A file input is unusable as a whole; the message names file, line and field and the fix."""


@dataclass(frozen=True)
class RunContext:
    """What the checks need to know about the run.

    ``latest``: the last day a date in the file may be (the run's interval day + 1: the
    export is made the morning after); ``employees``: the roster's employee ids, for
    self-reports; ``options``: how to read the file (settings ``inputs.<name>``);
    ``previous``: the last good roster's records by employee_id, which a bad cell of
    the roster falls back to. ``None`` skips that check / uses the defaults.
    """

    latest: dt.date | None = None
    employees: frozenset[str] | None = None
    options: InputOptions | None = None
    previous: dict[str, dict] | None = None


@dataclass(frozen=True)
class Rejected:
    """One line with a problem: ``field`` is the first bad field (None: the whole line).

    ``kept``: the line was kept with its bad fields fallen back (a bad cell); False: the
    line was left out (its key is unusable).
    """

    line_no: int
    field: str | None
    reason: str
    raw: dict
    kept: bool = False


@dataclass(frozen=True)
class _Options:
    """The reading options an input uses (InputOptions, or the defaults)."""

    name: str
    delimiter: str | None = None
    encoding: str = "utf-8"
    date_format: str = "yyyy-mm-dd"
    max_invalid_share: float = MAX_INVALID_SHARE
    sheet: str | None = None

    @classmethod
    def of(cls, name: str, options) -> _Options:
        if options is None:
            return cls(name)
        return cls(
            name,
            **{
                f: getattr(options, f)
                for f in ("delimiter", "encoding", "date_format", "max_invalid_share", "sheet")
            },
        )

    def key(self, what: str) -> str:
        return f"inputs.{self.name}.{what}"


class Checked:
    """A file that passed the structural checks: its valid records and its problem lines.

    The check reads the file once, line by line, keeping only the problem lines, the
    keys seen and the values asked for in ``collect``; ``records()`` reads it again and
    yields the records one by one (bad cells fallen back, left-out lines skipped). So
    memory stays flat however long the export is (a year of sessions: 450k lines), and
    a structural problem anywhere in the file is found before anything is written.
    ``rows`` is the list, for small files and tests.
    """

    def __init__(self, path: str, what: str, records: Callable[[], Iterator[dict]] | None = None):
        self.path = path
        self.what = what
        self.rejected: list[Rejected] = []  # every problem line, kept (bad cell) or left out
        self.warnings: list[str] = []
        self.ok = 0  # records the file yields (bad cells fallen back included)
        self.superseded = 0  # lines replaced by a later line of the same key
        self.lines = 0  # data lines read
        self.collected: dict[str, set[str]] = {}
        self._records = records or (lambda: iter(()))

    @property
    def dropped(self) -> list[Rejected]:
        """The lines left out (an unusable key)."""
        return [r for r in self.rejected if not r.kept]

    @property
    def repaired(self) -> list[Rejected]:
        """The lines kept with a bad cell fallen back."""
        return [r for r in self.rejected if r.kept]

    def records(self) -> Iterator[dict]:
        """The records, read again from the file; refuses a file changed since its check."""
        n = 0
        for rec in self._records():
            n += 1
            yield rec
        if n != self.ok:
            raise InputError(
                f"{self.path}: {n} records on the second read, {self.ok} when checked;"
                " the file changed while it was read: rerun the interval"
            )

    @functools.cached_property
    def rows(self) -> list[dict]:
        return list(self.records())

    def values(self, column: str) -> set[str]:
        """Every non-empty value of ``column`` (one the check was asked to ``collect``) in the
        file, left-out lines included."""
        return self.collected[column]

    def reasons(self, first: int = 3) -> list[str]:
        return [f"line {r.line_no}: {r.reason}" for r in self.rejected[:first]]

    def summary(self, first: int = 3) -> str:
        repaired = len(self.repaired)
        text = f"{self.ok} rows ok, {len(self.rejected)} quarantined"
        if repaired:
            text += f" ({repaired} kept with a field fallen back)"
        if self.rejected:
            text += "; first: " + "; ".join(self.reasons(first))
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


def _codec(encoding: str, path: str, opts: _Options) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(
            f"{path}: {opts.key('encoding')} is {encoding!r}, not an encoding Python knows;"
            " use e.g. utf-8 or cp1252"
        ) from exc
    if name.startswith("utf-16") or name.startswith("utf-32"):
        raise InputError(f"{path}: {opts.key('encoding')} {encoding!r} is not supported; re-export as UTF-8")
    return name


def _decoded(fh, path: str, what: str, opts: _Options) -> Iterator[str]:
    """The file's lines as text, one at a time, in the declared encoding (BOM dropped)."""
    encoding = _codec(opts.encoding, path, opts)
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
                " (or as .xlsx)"
            )
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(_not_decodable(path, line_no, header, raw, exc.start, offset, opts)) from exc
        offset += len(raw)
        content = content or bool(raw.strip())
        yield text
    if not content:
        raise InputError(
            f"{path}, line 1: the {what} file is empty ({size} bytes), probably a failed export;"
            " re-export it (a file without rows still has its header line)"
        )


def _not_decodable(
    path: str, line_no: int, header: bytes, raw: bytes, start: int, offset: int, opts: _Options
) -> str:
    where = ""
    delimiter = opts.delimiter or _sniff(header.decode("utf-8", "replace"), ())
    if line_no > 1:  # name the field: count the cells before the bad byte on its line
        names = _split(header.decode("utf-8", "replace"), delimiter)
        before = raw[:start].decode("utf-8", "replace")
        position = max(len(_split(before, delimiter)) - 1, 0)
        if position < len(names):
            where = f" in field '{names[position].strip()}'"
    bad = f"byte {offset + start}: 0x{raw[start]:02x}"
    fix = (
        f"set {opts.key('encoding')} to the export's encoding (e.g. cp1252 for a Windows Excel"
        " export) or re-export the file as UTF-8"
    )
    name = "UTF-8" if codecs.lookup(opts.encoding).name == "utf-8" else opts.encoding
    return f"{path}, line {line_no}: not {name}{where} ({bad}); {fix}"


def _split(line: str, sep: str) -> list[str]:
    """One line's cells (for messages and sniffing: a line csv cannot read is split plainly)."""
    try:
        return next(csv.reader([line.rstrip("\r\n")], delimiter=sep), [])
    except csv.Error:
        return line.split(sep)


def _normal(name: str) -> str:
    """A header cell as matched: case-, space-, '_' and '-' insensitive ('E-mail' = email)."""
    return re.sub(r"[\s_\-]+", "", name.lower())


def _known_names(columns) -> set[str]:
    return {_normal(c) for c in columns}


def _sniff(line: str, columns: tuple[str, ...]) -> str:
    """The separator of a header line: the one that splits it into the most known columns
    (then into the most cells); ',' when nothing tells."""

    def score(sep: str) -> tuple[int, int]:
        cells = _split(line, sep)
        return sum(_normal(c) in names for c in cells), len(cells)

    names = _known_names(columns)

    return max(SEPARATORS, key=score)


def _is_xlsx(path: str) -> bool:
    if urlsplit(path).path.lower().endswith((".xlsx", ".xlsm")):
        return True
    try:
        with fsspec.open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"  # a zip: a workbook saved under a .csv name
    except OSError:
        return False  # _open reports it


def _cell(value) -> str:
    """An .xlsx cell as the text a CSV export would have (dates ISO, 3.0 as 3)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_lines(path: str, what: str, opts: _Options) -> Iterator:
    import zipfile

    import openpyxl

    with _open(path, what) as fh:
        try:
            book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise InputError(
                f"{path}: not readable as an .xlsx workbook ({exc}); re-save it from Excel"
            ) from exc
        try:
            if opts.sheet and opts.sheet not in book.sheetnames:
                raise InputError(
                    f"{path}: no sheet {opts.sheet!r} (sheets: {', '.join(book.sheetnames)});"
                    f" fix {opts.key('sheet')}"
                )
            sheet = book[opts.sheet] if opts.sheet else book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None or not any(c is not None for c in header):
                raise InputError(
                    f"{path}, line 1: the {what} sheet {sheet.title!r} is empty;"
                    " its first row must be the header"
                )
            names = [_cell(c).strip() for c in header]
            while names and not names[-1]:
                names.pop()
            yield names
            for line_no, row in enumerate(rows, 2):
                cells = [_cell(c) for c in row]
                # a sheet has no ragged rows: empty cells past the header's width are nothing
                while len(cells) > len(names) and not cells[-1].strip():
                    cells.pop()
                cells += [""] * (len(names) - len(cells))
                if any(c.strip() for c in cells):
                    yield line_no, cells
        finally:
            book.close()


def _csv_lines(path: str, what: str, opts: _Options, columns: tuple[str, ...]) -> Iterator:
    with _open(path, what) as fh:
        text = _decoded(fh, path, what, opts)
        first = next(text, "")  # the header line (a quoted newline in a header is not supported)
        delimiter = opts.delimiter or _sniff(first, columns)
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter, strict=True)
        try:
            header = [h.strip() for h in next(reader, [])]
            yield header
            yield delimiter
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


def _lines(
    path: str, what: str, opts: _Options, columns: tuple[str, ...]
) -> tuple[list[str], str | None, Iterator]:
    """(header's cells, the separator or None for .xlsx, iterator of (line_no, cells))."""
    if _is_xlsx(path):
        lines = _xlsx_lines(path, what, opts)
        return next(lines), None, lines
    lines = _csv_lines(path, what, opts, columns)
    header = next(lines)
    return header, next(lines, ","), lines


def _table(
    path: str, what: str, columns: tuple[str, ...], opts: _Options, known: tuple[str, ...] = ()
) -> tuple[list[str], Iterator, list[str], str | None]:
    """(normalised header, iterator of (line_no, cells), warnings, separator: None for .xlsx)
    of a file whose header has every column."""
    seen, delimiter, lines = _lines(path, what, opts, columns)
    names = {_normal(c): c for c in (*columns, *known)}
    header = [names.get(_normal(h), _normal(h)) for h in seen]
    if not any(header):  # a blank first line: an empty file is refused as such at its end
        lines = iter(list(lines))
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(_missing(path, what, columns, missing, seen, delimiter, opts))
    repeated = sorted({h for h in header if h in columns and header.count(h) > 1})
    if repeated:
        raise InputError(f"{path}, line 1: column(s) {', '.join(repeated)} appear twice in the header")
    extra = [
        s or "(unnamed)" for s, h in zip(seen, header, strict=True) if h not in columns and h not in known
    ]
    warnings = []
    if extra:
        warnings.append(f"{path}, line 1: ignoring column(s) {', '.join(extra)}: not in the {what} layout")
    return header, lines, warnings, delimiter


def _missing(path, what, columns, missing, seen, delimiter, opts: _Options) -> str:
    text = (
        f"{path}, line 1: {what} is missing column(s) {', '.join(missing)};"
        f" the header needs {', '.join(columns)}"
    )
    if delimiter is not None:
        names = _known_names(columns)
        line = delimiter.join(seen)
        for other in SEPARATORS:
            cells = _split(line, other)
            if other != delimiter and sum(_normal(c) in names for c in cells) > len(columns) - len(missing):
                name = _SEPARATOR_NAMES[other]
                return (
                    f"{text}. The file uses {name} as separator, not {_SEPARATOR_NAMES[delimiter]};"
                    f" set {opts.key('delimiter')}: {name} (or remove it to sniff), or re-export with ','"
                )
    shown = ", ".join(repr(s) for s in seen[:8]) + (", ..." if len(seen) > 8 else "")
    return f"{text}; the header seen is {shown}"


# --------------------------------------------------------------------- field rules
# A rule turns a (stripped) value into its normal spelling, or returns what is wrong with
# it as a _Bad. An empty value is passed through (each rule's empty meaning is staging's).


@dataclass(frozen=True)
class _Bad:
    problem: str


Rule = Callable[[str], "str | _Bad"]


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _required(value: str) -> str | _Bad:
    return value if value else _Bad("is empty: every line needs one")


def _date_pattern(fmt: str) -> re.Pattern | None:
    if fmt not in DATE_FORMATS:
        return None
    out = re.escape(fmt).replace("yyyy", r"(?P<y>\d{4})").replace("mm", r"(?P<m>\d{1,2})")
    return re.compile(out.replace("dd", r"(?P<d>\d{1,2})"))


_ISO_DATE = _date_pattern("yyyy-mm-dd")
_MIDNIGHT = r"(?:[T ]00:00(?::00(?:\.0+)?)?)?"  # a date written as a datetime (pandas, Excel)


def _parse_date(value: str, fmt: str = "yyyy-mm-dd") -> dt.date | None:
    """A date in ISO-8601 (always: it is unambiguous) or in ``fmt``; never guessed otherwise."""
    for pattern in {_ISO_DATE, _date_pattern(fmt)} - {None}:
        m = re.fullmatch(pattern.pattern + _MIDNIGHT, value)
        if m:
            try:
                return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def _parse_timestamp(value: str, fmt: str = "yyyy-mm-dd") -> dt.datetime | None:
    """ISO-8601 timestamp (or the date in ``fmt`` + HH:MM[:SS]), as aware UTC (no offset
    means UTC, as the sessions layout says)."""
    iso = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
    if re.fullmatch(iso, value):
        try:
            ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    m = re.fullmatch(r"(\S+)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", value)
    day = _parse_date(m[1], fmt) if m and fmt != "yyyy-mm-dd" else None
    if day is None:
        return None
    try:
        return dt.datetime.combine(day, dt.time(int(m[2]), int(m[3]), int(m[4] or 0)), dt.UTC)
    except ValueError:
        return None


def _parse_micros(value: str) -> dt.datetime | None:
    if not re.fullmatch(r"[0-9]{1,17}", value):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value) / 1_000_000, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _parse_month(value: str) -> dt.date | None:
    return _parse_date(value + "-01") if re.fullmatch(r"\d{4}-\d{2}", value) else None


def _date_hint(value: str, opts: _Options) -> str:
    """The fix for a date that did not parse: what the value looks like, and the setting."""
    m = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})" + _MIDNIGHT, value)
    setting = opts.key("date_format")
    if m:
        a, sep, b = int(m[1]), m[2], int(m[3])
        if a > 12 >= b:
            return f"it is day-first: set {setting}: dd{sep}mm{sep}yyyy"
        if b > 12 >= a:
            return f"it is month-first: set {setting}: mm{sep}dd{sep}yyyy"
        return f"set {setting} to the export's order (dd{sep}mm{sep}yyyy or mm{sep}dd{sep}yyyy)"
    return f"write {opts.date_format.upper()} or set {setting}"


def _dated(
    parse: Callable[[str], dt.date | dt.datetime | None],
    expected: str,
    latest: dt.date | None,
    write: Callable[[dt.date | dt.datetime], str],
    hint: Callable[[str], str] | None = None,
    canonical: re.Pattern | None = None,
) -> Rule:
    """A date-like value: parseable, not after ``latest`` (when given); written by ``write``.
    A value already in the ``canonical`` spelling (ISO, starting with the day) is taken as
    it is: most lines are, and parsing each of 450k lines would double the check's time."""
    latest_iso = latest.isoformat() if latest else None

    def rule(value: str) -> str | _Bad:
        if not value:
            return value
        if (
            canonical is not None
            and canonical.fullmatch(value)
            and not (latest_iso and value[:10] > latest_iso)
        ):
            return value
        parsed = parse(value)
        if parsed is None:
            return _Bad(f"is {_show(value)}, not {expected}" + (f"; {hint(value)}" if hint else ""))
        day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        if latest and day > latest:
            return _Bad(
                f"is {value}, in the future (after {latest}); check the date (day and month swapped?)"
            )
        return write(parsed)

    return rule


_COUNT = re.compile(r"(-?)([0-9]+)(?:\.0*)?")
# the spellings the records land in: a value already written so needs no parsing
# (days 29-31 are parsed: not every month has them)
_CANONICAL_TIMESTAMP = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ"
)


def _count(value: str) -> str | _Bad:
    """A whole number >= 0 that fits the integer column; '3.0' (pandas, BigQuery) is 3."""
    if not value:  # empty counts as 0, as staging reads it
        return value
    if len(value) < 10 and value.isdigit() and value.isascii():  # the usual case, fast
        return str(int(value))
    m = _COUNT.fullmatch(value)
    if not m:
        return _Bad(f"is {_show(value)}, not a whole number >= 0")
    if m[1] and int(m[2]):
        return _Bad(f"is {value}: a count cannot be negative")
    n = int(m[2])
    if n > MAX_COUNT:
        return _Bad(f"is {value}: larger than any count can be (at most {MAX_COUNT:,}); check the export")
    return str(n)


def _boolean(value: str) -> str | _Bad:
    word = value.lower()
    if not word or word in FALSE_WORDS:
        return "false"
    if word in TRUE_WORDS:
        return "true"
    return _Bad(f"is {_show(value)}: write true or false (yes/no, ja/nei, sì/no, 1/0 work too)")


def _one_of(allowed: frozenset[str], fix: str) -> Rule:
    def rule(value: str) -> str | _Bad:
        return value if not value or value.lower() in allowed else _Bad(f"is {_show(value)}: {fix}")

    return rule


def _known(ids: frozenset[str] | None) -> Rule:
    def rule(value: str) -> str | _Bad:
        if ids is None or not value or value in ids:
            return value
        return _Bad(
            f"is {_show(value)}, not in the roster: check the id, or add the employee to the HR export"
        )

    return rule


@dataclass(frozen=True)
class _Layout:
    """How one kind of file is checked.

    ``rules``: column -> rules, in order; ``keys``: columns without which a line cannot be
    used (a problem there leaves the line out); a problem in any other column falls back
    to ``fallback(column, record)``.
    """

    what: str
    columns: tuple[str, ...]
    rules: dict[str, tuple[Rule, ...]]
    key_name: str
    key_of: Callable[[dict], str]
    keys: frozenset[str]
    fallback: Callable[[str, dict], str] = lambda column, rec: ""
    to_record: Callable[[dict], dict] = dict
    known: tuple[str, ...] = ()
    collect: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


def _apply(layout: _Layout, rec: dict) -> list[tuple[str, str, bool]]:
    """Normalise ``rec`` in place; returns its problems as (column, reason, is_key)."""
    problems = []
    for col, rules in layout.rules.items():
        value = rec[col]
        for rule in rules:
            value = rule(value)
            if isinstance(value, _Bad):
                break
        if isinstance(value, _Bad):
            problems.append((col, f"field '{col}' {value.problem}", col in layout.keys))
        else:
            rec[col] = value
    for col, _, is_key in problems:
        if not is_key:
            rec[col] = layout.fallback(col, rec)
    return problems


def _check_lines(path: str, layout: _Layout, opts: _Options) -> Checked:
    """Check every line of the file: a bad cell falls back, a bad key leaves the line out;
    of lines with the same key the last one is kept."""
    header, lines, warnings, delimiter = _table(path, layout.what, layout.columns, opts, layout.known)
    normal_header = [_normal(h) for h in header]
    kept: dict[str, int] = {}  # key -> line that is kept
    fallen_back: set[int] = set()

    def prepared(lines) -> Iterator[tuple[int, list[str], dict, list]]:
        for line_no, cells in lines:
            if (
                len(cells) == len(header)
                and _normal(cells[0]) == normal_header[0]  # cheap first: most lines stop here
                and [_normal(c) for c in cells] == normal_header
            ):
                continue  # the header of a second export pasted below the first
            rec = _record(header, cells, layout.columns)
            if len(cells) != len(header):
                yield line_no, cells, rec, None
            else:
                yield line_no, cells, rec, _apply(layout, rec)

    def records() -> Iterator[dict]:
        chosen = set(kept.values())
        read = 0
        for line_no, _cells, rec, _problems in prepared(
            _table(path, layout.what, layout.columns, opts, layout.known)[1]
        ):
            read += 1
            if line_no in chosen:
                yield layout.to_record(rec)
        if read != out.lines:  # lines added or removed since the check: its choices do not hold
            raise InputError(
                f"{path}: {read} lines on the second read, {out.lines} when checked;"
                " the file changed while it was read: rerun the interval"
            )

    out = Checked(path, layout.what, records)
    out.warnings = warnings
    out.collected = {c: set() for c in layout.collect}
    for line_no, cells, rec, problems in prepared(lines):
        out.lines += 1
        raw = dict(zip(header, cells, strict=False))
        if len(cells) > len(header):
            raw["_unnamed"] = cells[len(header) :]
        for c, seen in out.collected.items():
            if isinstance(v := raw.get(c), str) and v.strip():
                seen.add(v.strip())
        if problems is None:  # values are shifted: checking fields would only add noise
            sep = "commas" if delimiter == "," else f"{_SEPARATOR_NAMES.get(delimiter, 'the separator')}s"
            reason = (
                f"has {len(cells)} values but the header has {len(header)} columns:"
                f" quote values that contain {sep}"
            )
            out.rejected.append(Rejected(line_no, None, reason, raw))
            continue
        dropped = any(is_key for _, _, is_key in problems)
        if problems:
            reasons = "; ".join(p for _, p, _ in problems)
            if not dropped:
                reasons += " (kept: the field falls back to its last good value or default)"
            out.rejected.append(Rejected(line_no, problems[0][0], reasons, raw, kept=not dropped))
        if dropped:
            continue
        key = layout.key_of(rec)
        if key in kept:
            out.superseded += 1
        else:
            out.ok += 1
        kept[key] = line_no
        if problems:
            fallen_back.add(line_no)
    if out.superseded:
        out.warnings.append(
            f"{path}: {out.superseded} line(s) repeat the {layout.key_name} of an earlier line;"
            " the last line of each is used (concatenated exports: the newer one wins)"
        )
    _refuse_if_mostly_invalid(out, opts)
    return out


def _refuse_if_mostly_invalid(out: Checked, opts: _Options) -> None:
    total = out.ok + out.superseded + len(out.dropped)
    if total and len(out.rejected) > total * opts.max_invalid_share:
        raise InputError(
            f"{out.path}: {len(out.rejected)} of {total} {out.what} lines are invalid, more than"
            f" {opts.key('max_invalid_share')} ({opts.max_invalid_share:g}), so the export itself is probably"
            f" wrong; refusing it, the last good one stays in place. {out.summary()}"
        )


def _record(header: list[str], cells: list[str], columns: tuple[str, ...]) -> dict:
    raw = dict(zip(header, cells, strict=False))
    return {c: (raw.get(c) or "").strip() for c in columns}


# --------------------------------------------------------------------- the three inputs


_NO_CONTEXT = RunContext()


def _iso(value: dt.date | dt.datetime) -> str:
    return value.isoformat()


def _utc(value: dt.datetime) -> str:
    # one spelling of the time (UTC, 'Z'), so staging's cast cannot depend on the session zone
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_roster(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """The HR roster; refuses (InputError) a roster without usable rows or mostly invalid.

    A bad date or consent cell keeps the employee: the field falls back to the employee's
    value in ``ctx.previous`` (the last good roster), else to empty (a date unknown) and
    consent false.
    """
    opts = _Options.of("roster", ctx.options)
    if _date_pattern(opts.date_format) is None:
        raise InputError(
            f"{path}: {opts.key('date_format')} is {opts.date_format!r}; use one of {', '.join(DATE_FORMATS)}"
        )
    previous = ctx.previous or {}
    rules: dict[str, tuple[Rule, ...]] = {"employee_id": (_required,)}
    for c in ROSTER_DATES:
        latest = ctx.latest if c in ROSTER_PAST_DATES else None
        parse = functools.partial(_parse_date, fmt=opts.date_format)
        expected = f"a date in {opts.date_format}"
        rules[c] = (_dated(parse, expected, latest, _iso, functools.partial(_date_hint, opts=opts)),)
    rules["consent_public"] = (_boolean,)

    def fallback(column: str, rec: dict) -> str:
        last = previous.get(rec["employee_id"], {}).get(column)
        return last if last is not None else ("false" if column == "consent_public" else "")

    header = _header(path, opts)
    columns = ROSTER_COLUMNS + tuple(c for c in ROSTER_OPTIONAL_COLUMNS if _normal(c) in header)
    layout = _Layout(
        "roster", columns, rules, "employee_id", lambda rec: rec["employee_id"],
        frozenset({"employee_id"}), fallback, collect=("employee_id",),
    )  # fmt: skip
    out = _check_lines(path, layout, opts)
    if not out.ok:
        raise InputError(
            f"{path}: the roster has no employees (only a header); refusing to replace the last one"
            + (f". {out.summary()}" if out.rejected else "")
        )
    return out


def _ga4_record(rec: dict) -> dict:
    return {
        "session_id": rec["session_id"],
        "session_start": rec["event_timestamp"],  # the rule wrote it as an ISO timestamp
        "landing_page": urlsplit(rec["page_location"]).path or "/",
        **{kpi: rec[ga4] for ga4, kpi in GA4_COLUMNS.items()},
        "conversions": rec["conversions"],
        "_format": "ga4",
    }


def _header(path: str, opts: _Options) -> tuple[str, ...]:
    """The normalised header cells (any separator), to tell the sessions layouts apart."""
    try:
        if _is_xlsx(path):
            return tuple(_normal(h) for h in next(_xlsx_lines(path, "sessions", opts), []))
        with fsspec.open(path, "r", encoding=opts.encoding, errors="replace") as fh:
            line = fh.readline().lstrip("\ufeff")
    except (OSError, LookupError, InputError):
        return ()  # _open / _codec report it
    cells = [_normal(c) for s in SEPARATORS for c in _split(line, s)]
    return tuple(cells)


def _zero(column: str, rec: dict) -> str:
    return "0"  # a count that cannot be read counts nothing (safe: no lift is invented)


def check_sessions(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """Web-analytics sessions, in the sessions layout or GA4 BigQuery export names.

    A session without id or readable start is left out; a bad conversions cell counts 0.
    """
    opts = _Options.of("sessions", ctx.options)
    rules: dict[str, tuple[Rule, ...]] = {"session_id": (_required,), "conversions": (_count,)}
    key = ("session_id", lambda rec: rec["session_id"])
    if _normal("collected_traffic_source.manual_source") in _header(path, opts):
        rules["event_timestamp"] = (
            _required, _dated(_parse_micros, "microseconds since 1970", ctx.latest, _utc),
        )  # fmt: skip
        layout = _Layout(
            "sessions (GA4 export)", GA4_SESSION_COLUMNS, rules, *key,
            frozenset({"session_id", "event_timestamp"}), _zero, _ga4_record, GA4_KNOWN_COLUMNS,
        )  # fmt: skip
        return _check_lines(path, layout, opts)
    parse = functools.partial(_parse_timestamp, fmt=opts.date_format)
    rules["session_start"] = (
        _required,
        _dated(parse, "an ISO-8601 timestamp", ctx.latest, _utc, canonical=_CANONICAL_TIMESTAMP),
    )
    layout = _Layout(
        "sessions", SESSION_COLUMNS, rules, *key, frozenset({"session_id", "session_start"}), _zero,
    )  # fmt: skip
    return _check_lines(path, layout, opts)


def _report_key(rec: dict) -> str:
    # one report per employee, month and platform (however the platform is capitalised)
    return f"{rec['employee_id']}|{rec['month']}|{rec['platform'].lower()}"


def check_self_reports(path: str, ctx: RunContext = _NO_CONTEXT) -> Checked:
    """Advocates' monthly self-reports; ``ctx.employees`` (when given) must know each employee.

    Employee, month and platform are the key (a problem there leaves the line out); a bad
    count counts 0.
    """
    opts = _Options.of("self_reports", ctx.options)
    known = ", ".join(sorted(SELF_REPORT_PLATFORMS))
    rules: dict[str, tuple[Rule, ...]] = {
        "employee_id": (_required, _known(ctx.employees)),
        "month": (
            _required,
            _dated(_parse_month, "a month: write YYYY-MM", ctx.latest, lambda d: d.strftime("%Y-%m")),
        ),
        "platform": (
            _required,
            _one_of(SELF_REPORT_PLATFORMS, f"not a known platform; use one of {known}"),
        ),
        **{c: (_count,) for c in SELF_REPORT_COUNTS},
    }
    layout = _Layout(
        "self-report", SELF_REPORT_COLUMNS, rules, "employee_id+month+platform", _report_key,
        frozenset({"employee_id", "month", "platform"}), _zero,
        lambda rec: {**rec, "_row_key": _report_key(rec)},
    )  # fmt: skip
    return _check_lines(path, layout, opts)


def _usable(checked: Checked) -> list[dict]:
    for w in checked.warnings:
        log.warning(w)
    if checked.rejected:
        log.warning("%s: %s", checked.path, checked.summary())
    return checked.rows


def read_roster(path: str, ctx: RunContext = _NO_CONTEXT) -> list[dict]:
    """The roster's records (bad cells fallen back, left-out lines logged)."""
    return _usable(check_roster(path, ctx))


def read_sessions(path: str, ctx: RunContext = _NO_CONTEXT) -> list[dict]:
    """The sessions file's records (bad cells fallen back, left-out lines logged)."""
    return _usable(check_sessions(path, ctx))


def read_self_reports(path: str, ctx: RunContext = _NO_CONTEXT) -> list[dict]:
    """The self-report file's records (bad cells fallen back, left-out lines logged)."""
    return _usable(check_self_reports(path, ctx))

"""Load landed files into ``raw`` with COPY, replacing by interval.

Every raw table has the same layout (see plugins/README.md), so one loader
serves every source: a connector's stream declaration (key field, time field)
is all it needs. Loading interval D of a stream deletes that stream's rows of
D and copies the file in, in one transaction: reruns replace, never duplicate,
and a failure leaves the previous rows in place.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from advocacy import landing, platforms

try:  # installed with Airflow; decodes only the two fields the loader needs, ~15x faster than json
    import msgspec
except ImportError:  # pragma: no cover - the plain json path below does the same, slower
    msgspec = None
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RAW_COLUMNS = (
    "_interval_start",
    "_extracted_at",
    "_landing_file",
    "_line_no",
    "_record_key",
    "_record_time",
    "record",
)


# Streams whose records are nightly snapshots of the same objects (every post in its lookback,
# found again each night): a record identical to the key's previous stored record is kept as a
# row whose ``record`` is null (a repeat). The row stays (occurrences, last-seen days and row
# counts do not change), its payload is the previous stored record's, which staging reads back
# (macro raw_records). In the first such stream ~73 % of the rows repeat their previous record
# whole; the landing files keep every record. The registry marks them (StreamFacts.repeats).
REPEAT_STREAMS = platforms.repeat_streams()


class LoadError(ValueError):
    """A landed file cannot be loaded; names the file, line and field."""


@dataclass(frozen=True)
class StreamSpec:
    key: str | None
    time: str | None = None


def stream_spec(decl) -> StreamSpec:
    """Accept a connector's stream declaration in its usual forms."""
    if isinstance(decl, StreamSpec):
        return decl
    if isinstance(decl, dict):
        return StreamSpec(decl.get("key"), decl.get("time"))
    if isinstance(decl, tuple | list):
        return StreamSpec(*decl)
    return StreamSpec(getattr(decl, "key", None), getattr(decl, "time", None))


def table_name(source: str, stream: str) -> str:
    for part in (source, stream):
        if not _NAME.match(part):
            raise ValueError(f"invalid source/stream name '{part}' (lowercase letters, digits, _)")
    return f"{source}__{stream}"


def ensure_table(conn, source: str, stream: str) -> None:
    name = sql.Identifier(table_name(source, stream))
    conn.execute(
        sql.SQL(
            """create table if not exists raw.{name} (
                _interval_start date not null,
                _extracted_at timestamptz not null,
                _landing_file text not null,
                _line_no integer not null,
                _record_key text,
                _record_time timestamptz,
                record jsonb not null
            )"""
        ).format(name=name)
    )
    if (source, stream) in REPEAT_STREAMS:
        # a repeat's record is null; the record it stands for is the latest whole one of its key
        # before its day: one probe of this index, which holds the whole records only
        conn.execute(sql.SQL("alter table raw.{name} alter column record drop not null").format(name=name))
        conn.execute(
            sql.SQL(
                "create index if not exists {ix} on raw.{name} (_record_key, _interval_start)"
                " where record is not null"
            ).format(ix=sql.Identifier(f"{table_name(source, stream)}__key_day_ix"), name=name)
        )


def ensure_audit(conn) -> None:
    conn.execute(
        """create table if not exists audit.load_log (
            source text not null, stream text not null, interval_start date not null,
            landing_file text not null, rows_loaded integer not null, rows_replaced integer not null,
            seconds double precision not null, loaded_at timestamptz not null default now())"""
    )


def ensure_tables(target: WarehouseTarget, source: str, streams: dict) -> None:
    """Create every declared stream's table, so dbt sources exist before any data does."""
    with target.connect() as conn:
        for stream in streams:
            ensure_table(conn, source, stream)
        ensure_audit(conn)


def parse_time(value) -> dt.datetime | None:
    """A platform's timestamp to aware UTC, in any of the registry's ``timestamp_format``s:
    ``iso8601_z`` (``...000Z``), ``iso8601_offset`` (``+0000``), ``epoch_ms`` (int or digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    if isinstance(value, str) and len(value) > 19 and value[-1] == "Z":
        try:  # the common case (iso8601_z), without the regex below: ~4x faster
            return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
        except ValueError:
            pass
    s = str(value).strip()
    if s.isdigit():
        return dt.datetime.fromtimestamp(int(s) / 1000, tz=dt.UTC)
    s = s.replace("Z", "+00:00")
    s = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", s)  # +0000 -> +00:00
    parsed = dt.datetime.fromisoformat(s)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _decoder(spec: StreamSpec):
    """line -> (key value, time value). With msgspec only those two fields are built (the
    rest is validated as JSON and skipped), else the whole record goes through json."""
    if msgspec is None:

        def plain(line: str) -> tuple:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LoadError(f"not valid JSON ({exc.msg})") from exc
            if not isinstance(rec, dict):
                raise LoadError("a record must be a JSON object")
            return (rec.get(spec.key) if spec.key else None, rec.get(spec.time) if spec.time else None)

        return plain
    # fields a stream does not declare get a name no record can have (and always stay None)
    fields = {"k": spec.key or "no key declared!", "t": spec.time or "no time declared!"}
    if fields["k"] == fields["t"]:
        fields["t"] = "same as the key!"
    struct = msgspec.defstruct("Record", [("k", object, None), ("t", object, None)], rename=fields)
    decoder = msgspec.json.Decoder(struct)
    same = spec.key is not None and spec.key == spec.time

    def fast(line: str) -> tuple:
        try:
            rec = decoder.decode(line)
        except msgspec.ValidationError as exc:
            if "Expected `object`" in str(exc):
                raise LoadError("a record must be a JSON object") from exc
            raise LoadError(f"not valid JSON ({exc})") from exc
        except msgspec.DecodeError as exc:
            raise LoadError(f"not valid JSON ({exc})") from exc
        return rec.k, rec.k if same else rec.t

    return fast


# PostgreSQL's text and jsonb cannot hold U+0000, which JSON allows (a platform text may carry
# one): it becomes U+FFFD, the replacement character. An escaped backslash before "u0000" is text.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul(line: str) -> str:
    return _JSON_NUL.sub(r"\1\\ufffd", line) if "\\u0000" in line else line


# The iso8601_z shape of a time (``2026-03-01T10:00:00.000Z``): PostgreSQL reads it as it is, so the
# loader only checks it (fromisoformat) and hands the original text to COPY
_ISO_Z = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def _time_text(value, field: str, path: str, line_no: int) -> bytes:
    """A record's time as COPY text (``\\N`` when absent); LoadError naming the field if it is
    not a timestamp."""
    if isinstance(value, str) and _ISO_Z.fullmatch(value.encode()):
        try:
            dt.datetime.fromisoformat(value)  # only a check: a valid date and time of day
            return value.encode()
        except ValueError:
            pass
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise LoadError(f"{path}, line {line_no}: field '{field}' is not a timestamp ({value!r})") from exc
    return b"\\N" if parsed is None else parsed.isoformat().encode()


def _escape(value: str) -> str:
    """COPY text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _key_text(value, field: str, path: str, line_no: int) -> bytes:
    if value is None or value == "":
        raise LoadError(f"{path}, line {line_no}: field '{field}' is missing")
    return _escape(str(value).replace("\x00", "\ufffd")).encode()


def _line_text(line: bytes) -> bytes:
    """A landed line as a COPY text value: NUL escapes replaced, backslash, tab and CR escaped
    (a JSON line holds no raw newline; json.dumps writes no raw tab or CR either)."""
    if b"\\u0000" in line:
        line = _without_nul(line.decode()).encode()
    if b"\\" in line:
        line = line.replace(b"\\", b"\\\\")
    if b"\t" in line or b"\r" in line:
        line = line.replace(b"\t", b"\\t").replace(b"\r", b"\\r")
    return line


# A chunk of iso8601_z-shaped times joined by newlines, checked by one regex call
_ISO_Z_LINES = re.compile(rb"(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z\n)*")
_KEY_SPECIALS = ("\\", "\t", "\r", "\x00")  # and a newline: the split below counts


def _batch_decoder(spec: StreamSpec):
    """A chunk of lines -> [(key, time)], decoded by one msgspec call over ``[line,line,...]``
    (None when msgspec is missing)."""
    if msgspec is None:
        return None
    fields = {"k": spec.key or "no key declared!", "t": spec.time or "no time declared!"}
    if fields["k"] == fields["t"]:
        fields["t"] = "same as the key!"
    struct = msgspec.defstruct("Record", [("k", object, None), ("t", object, None)], rename=fields)
    return msgspec.json.Decoder(list[struct])


def _fast_chunk(decoder, spec: StreamSpec, prefix: bytes, first: int, lines: list[bytes]) -> bytes | None:
    """A chunk rendered as COPY text without a Python step per line, or None when any line
    needs the careful per-line path (blank, CR, tab, NUL escape, a missing or odd key, a time
    not in the iso8601_z shape, anything that is not one JSON object a line). Same output as that path."""
    chunk = b"\n".join(lines)
    if b"" in lines or b"\r" in chunk or b"\t" in chunk or b"\\u0000" in chunk:
        return None
    try:
        recs = decoder.decode(b"[" + b",".join(lines) + b"]")
    except msgspec.MsgspecError:
        return None
    if len(recs) != len(lines):  # pragma: no cover - a line holding two values fails the decode
        return None
    n = len(lines)
    if spec.key:
        keys = [r.k for r in recs]
        if not all(type(k) is str for k in keys) or "" in keys:
            return None
        joined = "\n".join(keys)
        if any(c in joined for c in _KEY_SPECIALS):
            return None
        keys = joined.encode().split(b"\n")
        if len(keys) != n:  # a key holding a newline
            return None
    else:
        keys = [b"\\N"] * n
    if spec.time:
        times = [r.k if spec.time == spec.key else r.t for r in recs]
        if not all(type(t) is str for t in times):
            return None
        joined = ("\n".join(times) + "\n").encode()
        if not _ISO_Z_LINES.fullmatch(joined):
            return None
        times = joined[:-1].split(b"\n")
    else:
        times = [b"\\N"] * n
    nums = " ".join(map(str, range(first, first + n))).encode().split(b" ")
    escaped = chunk.replace(b"\\", b"\\\\").split(b"\n") if b"\\" in chunk else lines
    rows = zip(itertools.repeat(prefix, n), nums, keys, times, escaped, strict=True)
    return b"\n".join(map(b"\t".join, rows)) + b"\n"


def _copy_blocks(f: landing.LandedFile, spec: StreamSpec, line_nos: list[int]):
    """The file's lines as COPY text, a chunk (~4 MB) a block, straight from the landed bytes.

    A chunk goes through ``_fast_chunk``: one msgspec call decodes every line's key and time
    (skipping the rest, validating it as JSON), the lines go to COPY as the bytes they were
    landed as, backslashes doubled; per line only a tuple is joined. The earlier path (text
    lines, a decode, a time parsed and formatted again, per line) spent 6.4 us a row in
    Python against 11.5 us for the server's COPY (README, "The benchmark"). A chunk it does
    not take goes line by line, which names the file, line and field of a bad record.
    ``line_nos`` collects each row's line in the file, to name the line the server refuses."""
    decode, batch = _decoder(spec), _batch_decoder(spec)
    head = f"{f.interval_start.isoformat()}\t{f.extracted_at.isoformat()}\t{_escape(f.path)}"
    prefix = head.encode()
    no_key = no_time = b"\\N"
    path = f.path
    for first, lines in landing.read_chunks(path):
        fast = batch and _fast_chunk(batch, spec, prefix, first, lines)
        if fast:
            line_nos.extend(range(first, first + len(lines)))
            yield fast, len(lines)
            continue
        block = []
        for line_no, line in enumerate(lines, start=first):
            line = line.rstrip(b"\r")
            if not line.strip():
                continue
            try:
                key, rtime = decode(line)
            except LoadError as exc:
                raise LoadError(f"{path}, line {line_no}: {exc}") from exc
            k = _key_text(key, spec.key, path, line_no) if spec.key else no_key
            t = _time_text(rtime, spec.time, path, line_no) if spec.time else no_time
            line_nos.append(line_no)
            block.append(b"%s\t%d\t%s\t%s\t%s\n" % (prefix, line_no, k, t, _line_text(line)))
        if block:
            yield b"".join(block), len(block)


# Per process: one connection per warehouse and the tables whose DDL already ran, so a night
# of small files does not pay a connection and four DDL statements per file (at 500 rows a
# file that overhead was most of the load time)
_CONNECTIONS: dict[str, object] = {}
_ENSURED: set[tuple[str, str]] = set()


def _connection(target: WarehouseTarget):
    conn = _CONNECTIONS.get(target.url)
    if conn is None or conn.closed or conn.broken:
        # autocommit: _load_file sends its own begin / commit with the statements around them
        conn = _CONNECTIONS[target.url] = target.connect(autocommit=True)
        # synchronous_commit stays on: a load the task reported done must survive a server
        # crash, or the night would look loaded while its rows are gone.
    return conn


def _forget(target: WarehouseTarget) -> None:
    conn = _CONNECTIONS.pop(target.url, None)
    if conn is not None:
        conn.close()
    for key in [k for k in _ENSURED if k[0] == target.url]:
        _ENSURED.discard(key)


def load_file(target: WarehouseTarget, f: landing.LandedFile, decl) -> int:
    """Replace ``f``'s interval of its stream with the file's records; returns rows loaded."""
    try:
        return _load_file(target, f, stream_spec(decl))
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        # a cached connection that died, or a table dropped since it was ensured: once more, afresh
        _forget(target)
        return _load_file(target, f, stream_spec(decl))
    except BaseException:
        _forget(target)
        raise


def _refused_line(exc, line_nos: list[int]) -> str:
    """``line N`` of the file for the COPY row the server's error context names."""
    m = re.search(r"COPY [^,]+, line (\d+)", exc.diag.context or "")
    row = int(m.group(1)) if m else 0
    return f"line {line_nos[row - 1]}" if 0 < row <= len(line_nos) else "a line"


def _load_file(target: WarehouseTarget, f: landing.LandedFile, spec: StreamSpec) -> int:
    name = sql.Identifier(table_name(f.source, f.stream))
    started = time.perf_counter()
    conn = _connection(target)
    ensured = (target.url, table_name(f.source, f.stream))
    # One transaction in three round trips (begin + delete, copy, load_log + commit): on a busy
    # server each round trip costs milliseconds, and a night has many small files.
    if ensured not in _ENSURED:
        conn.execute("begin")
        ensure_table(conn, f.source, f.stream)
        ensure_audit(conn)
        begin = sql.SQL("")
    else:
        begin = sql.SQL("begin; ")
    cur = conn.cursor()
    repeats = (f.source, f.stream) in REPEAT_STREAMS
    day = sql.Literal(f.interval_start)
    if repeats:  # COPY into a scratch table; _store_repeats moves the rows in
        into = sql.Identifier(f"_landed_{table_name(f.source, f.stream)}")
        cur.execute(
            begin
            + sql.SQL("create temp table {into} (like raw.{name}) on commit drop").format(
                into=into, name=name
            )
        )
    else:
        into = sql.SQL("raw.{name}").format(name=name)
        cur.execute(
            begin + sql.SQL("delete from raw.{name} where _interval_start = {day}").format(name=name, day=day)
        )
        if begin.as_string(conn):
            cur.nextset()
        replaced = cur.rowcount
    copy_sql = sql.SQL("copy {into} ({cols}) from stdin").format(
        into=into, cols=sql.SQL(", ").join(map(sql.Identifier, RAW_COLUMNS))
    )
    n, line_nos = 0, []
    try:
        with cur.copy(copy_sql) as copy:
            for block, count in _copy_blocks(f, spec, line_nos):
                copy.write(block)
                n += count
    except psycopg.errors.DataError as exc:  # e.g. bytes that are not UTF-8: the server's word
        where = f"{f.path}, {_refused_line(exc, line_nos)}"
        if "column _record_time" in (exc.diag.context or ""):  # a time in the iso8601_z shape, but no date
            raise LoadError(
                f"{where}: field '{spec.time}' is not a timestamp ({exc.diag.message_primary})"
            ) from exc
        raise LoadError(f"{where}: {exc.diag.message_primary}") from exc
    if repeats:
        replaced = _store_repeats(cur, name, into, day)
    seconds = time.perf_counter() - started
    values = (f.source, f.stream, f.interval_start, f.path, n, replaced, seconds)
    cur.execute(
        sql.SQL(
            "insert into audit.load_log (source, stream, interval_start, landing_file,"
            " rows_loaded, rows_replaced, seconds) values ({}); commit"
        ).format(sql.SQL(", ").join(map(sql.Literal, values)))
    )
    _ENSURED.add(ensured)
    log.info(
        "loaded %s rows into raw.%s for %s (%s replaced) in %.2fs",
        n,
        table_name(f.source, f.stream),
        f.interval_start,
        replaced,
        seconds,
    )
    return n


def _previous_record(table, row: str):
    """The latest stored record of ``row``'s key before its day: what a repeat stands for."""
    return sql.SQL(
        "(select p.record from raw.{t} as p where p._record_key = {row}._record_key"
        " and p._interval_start < {row}._interval_start and p.record is not null"
        " order by p._interval_start desc, p._extracted_at desc, p._line_no desc limit 1)"
    ).format(t=table, row=sql.Identifier(row))


def _store_repeats(cur, name, landed, day) -> int:
    """Replace ``day`` of a REPEAT_STREAMS table with the scratch table's rows, each key's first
    row of the day stored as a repeat (record null) when its record equals the key's previous
    stored one. Returns the rows replaced.

    A repeat on a later day stands for the latest record before it, which loading this day
    (again, or for the first time: a backfill) may change: those repeats of this day's keys get
    their record back first. A night loads the latest day, so there are none to restore."""
    cur.execute(
        sql.SQL(
            "update raw.{t} as later set record = {previous}"
            " where later._interval_start > {day} and later.record is null and later._record_key in"
            " (select _record_key from {landed}"
            " union select _record_key from raw.{t} where _interval_start = {day})"
        ).format(t=name, previous=_previous_record(name, "later"), day=day, landed=landed)
    )
    cur.execute(sql.SQL("delete from raw.{t} where _interval_start = {day}").format(t=name, day=day))
    replaced = cur.rowcount
    cols = sql.SQL(", ").join(map(sql.Identifier, RAW_COLUMNS[:-1]))
    cur.execute(
        sql.SQL(
            "insert into raw.{t} ({cols}, record)"
            " select {cols}, case when first_of_key and record = {previous} then null else record end"
            " from (select *, row_number() over (partition by _record_key order by _line_no) = 1"
            " as first_of_key from {landed}) as landed"
        ).format(t=name, cols=cols, previous=_previous_record(name, "landed"), landed=landed)
    )
    return replaced


def known_keys(
    target: WarehouseTarget, source: str, stream: str, since: dt.datetime, until: dt.datetime
) -> list[str]:
    """Keys of records whose time falls in [since, until): the pipeline's own bookkeeping
    (e.g. posts inside the metric-refresh lookback), not analytics, which read marts."""
    with target.connect() as conn:
        exists = conn.execute("select to_regclass(%s)", (f"raw.{table_name(source, stream)}",)).fetchone()[0]
        if not exists:
            return []
        rows = conn.execute(
            sql.SQL(
                "select distinct _record_key from raw.{name}"
                " where _record_time >= %s and _record_time < %s order by 1"
            ).format(name=sql.Identifier(table_name(source, stream))),
            (since, until),
        ).fetchall()
    return [r[0] for r in rows]

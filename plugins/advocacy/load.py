"""Load landed files into ``raw`` with COPY, replacing by interval.

Every raw table has the same layout (see plugins/README.md), so one loader
serves every source: a connector's stream declaration (key field, time field)
is all it needs. Loading interval D of a stream deletes that stream's rows of
D and copies the file in, in one transaction: reruns replace, never duplicate,
and a failure leaves the previous rows in place.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass

from psycopg import sql

from advocacy import landing

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
    conn.execute(
        sql.SQL("create index if not exists {ix} on raw.{name} (_interval_start)").format(
            ix=sql.Identifier(f"{table_name(source, stream)}__interval_ix"), name=name
        )
    )
    conn.execute(
        sql.SQL("create index if not exists {ix} on raw.{name} (_record_key)").format(
            ix=sql.Identifier(f"{table_name(source, stream)}__key_ix"), name=name
        )
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
    """Platform timestamps to aware UTC: X ``...000Z``, Graph ``+0000``, LinkedIn epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    if isinstance(value, str) and len(value) > 19 and value[-1] == "Z":
        try:  # the common case (X, ISO with Z), without the regex below: ~4x faster
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


def _rows(f: landing.LandedFile, spec: StreamSpec):
    decode = _decoder(spec)
    interval, extracted, path = f.interval_start, f.extracted_at, f.path
    for line_no, line in landing.open_lines(f.path):
        try:
            key, rtime = decode(line)
        except LoadError as exc:
            raise LoadError(f"{f.path}, line {line_no}: {exc}") from exc
        if spec.key:
            if key is None or key == "":
                raise LoadError(f"{f.path}, line {line_no}: field '{spec.key}' is missing")
            key = str(key).replace("\x00", "\ufffd")
        if spec.time:
            try:
                rtime = parse_time(rtime)
            except ValueError as exc:
                raise LoadError(
                    f"{f.path}, line {line_no}: field '{spec.time}' is not a timestamp ({rtime!r})"
                ) from exc
        yield (interval, extracted, path, line_no, key, rtime, _without_nul(line))


def _escape(value: str) -> str:
    """COPY text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_blocks(f: landing.LandedFile, spec: StreamSpec, rows: int = 2000):
    """``_rows`` rendered as COPY text, ``rows`` lines a block: formatting the line ourselves
    (one f-string, the JSON escaped once) instead of psycopg's write_row per value was half of
    the loader's Python time at a year of history."""
    prefix = f"{f.interval_start.isoformat()}\t{f.extracted_at.isoformat()}\t{_escape(f.path)}\t"
    block = []
    for _, _, _, line_no, key, rtime, line in _rows(f, spec):
        k = "\\N" if key is None else _escape(key)
        t = "\\N" if rtime is None else rtime.isoformat()
        block.append(f"{prefix}{line_no}\t{k}\t{t}\t{_escape(line)}\n")
        if len(block) >= rows:
            yield "".join(block).encode()
            block = []
    if block:
        yield "".join(block).encode()


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
    import psycopg

    try:
        return _load_file(target, f, stream_spec(decl))
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        # a cached connection that died, or a table dropped since it was ensured: once more, afresh
        _forget(target)
        return _load_file(target, f, stream_spec(decl))
    except BaseException:
        _forget(target)
        raise


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
    cur.execute(
        begin
        + sql.SQL("delete from raw.{name} where _interval_start = {day}").format(
            name=name, day=sql.Literal(f.interval_start)
        )
    )
    if begin.as_string(conn):
        cur.nextset()
    replaced = cur.rowcount
    copy_sql = sql.SQL("copy raw.{name} ({cols}) from stdin").format(
        name=name, cols=sql.SQL(", ").join(map(sql.Identifier, RAW_COLUMNS))
    )
    n = 0
    with cur.copy(copy_sql) as copy:
        for block in _copy_blocks(f, spec):
            copy.write(block)
            n += block.count(b"\n")
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

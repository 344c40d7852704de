"""Extraction windows: which time window each source extracted for each interval.

A rerun of interval D repeats D's recorded window exactly, so it lands the same
posts and replaces the same rows. A new interval continues from where the last
earlier interval stopped (or from the programme start on the first run, which
loads the history as far back as each API allows).
"""

from __future__ import annotations

import datetime as dt

from advocacy.warehouse import WarehouseTarget

DDL = """create table if not exists audit.extract_windows (
    source text not null,
    interval_start date not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    recorded_at timestamptz not null default now(),
    primary key (source, interval_start))"""


def window_for(
    target: WarehouseTarget, source: str, interval_start: dt.date, programme_start: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    window_end = dt.datetime.combine(interval_start + dt.timedelta(days=1), dt.time(), dt.UTC)
    with target.connect() as conn:
        conn.execute(DDL)
        row = conn.execute(
            "select window_start, window_end from audit.extract_windows"
            " where source = %s and interval_start = %s",
            (source, interval_start),
        ).fetchone()
        if row:
            return row[0], row[1]
        prev = conn.execute(
            "select max(window_end) from audit.extract_windows where source = %s and interval_start < %s",
            (source, interval_start),
        ).fetchone()[0]
    start = prev or programme_start
    return min(start, window_end), window_end


def record_window(
    target: WarehouseTarget,
    source: str,
    interval_start: dt.date,
    start: dt.datetime,
    end: dt.datetime,
) -> None:
    with target.connect() as conn:
        conn.execute(DDL)
        conn.execute(
            "insert into audit.extract_windows (source, interval_start, window_start, window_end)"
            " values (%s, %s, %s, %s) on conflict (source, interval_start) do nothing",
            (source, interval_start, start, end),
        )

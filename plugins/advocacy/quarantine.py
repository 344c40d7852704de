"""Lines of the file inputs that failed their checks, kept in ``audit.input_quarantine``.

One row per line with a problem, with the field and the reason, so the people who own
the export can fix it; ``kept``: the line was loaded with that field fallen back to its
last good value or default (a bad cell), false: the line was left out (an unusable key).
BI never reads it. Replacing is per source, stream and interval in one transaction:
a rerun of an interval replaces its rows, never duplicates them.
"""

from __future__ import annotations

import datetime as dt

from psycopg.types.json import Jsonb

from advocacy.inputs import Checked
from advocacy.warehouse import WarehouseTarget

DDL = """create table if not exists audit.input_quarantine (
    source text not null,
    stream text not null,
    interval_start date not null,
    file text not null,
    line_no integer not null,
    field text,
    reason text not null,
    raw jsonb not null,
    kept boolean not null default false,
    quarantined_at timestamptz not null default now()
)"""
# tables made before bad cells were kept
UPGRADE = "alter table audit.input_quarantine add column if not exists kept boolean not null default false"
INDEX = """create index if not exists input_quarantine__interval_ix
    on audit.input_quarantine (source, stream, interval_start)"""


def ensure_table(conn) -> None:
    conn.execute(DDL)
    conn.execute(UPGRADE)
    conn.execute(INDEX)


def replace(
    target: WarehouseTarget, source: str, stream: str, interval_start: dt.date, checked: Checked
) -> int:
    """Make ``checked``'s rejected lines the interval's quarantine of the stream; returns how many."""
    with target.connect() as conn:  # one transaction: delete + insert commit together
        ensure_table(conn)
        conn.execute(
            "delete from audit.input_quarantine where source = %s and stream = %s and interval_start = %s",
            (source, stream, interval_start),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into audit.input_quarantine"
                " (source, stream, interval_start, file, line_no, field, reason, raw, kept)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        source,
                        stream,
                        interval_start,
                        checked.path,
                        r.line_no,
                        r.field,
                        r.reason,
                        Jsonb(r.raw),
                        r.kept,
                    )
                    for r in checked.rejected
                ],
            )
    return len(checked.rejected)

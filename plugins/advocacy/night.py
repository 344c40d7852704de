"""What a night did, per source: the facts the report's header, the CLI summary and the alerts show.

Every source of a night (each enabled platform, each file input) records one outcome
for its interval in ``audit.source_runs``; the latest attempt of a (source, interval)
replaces the earlier one, so a retried or rerun task leaves the row of its last try.

``NightStatus`` gathers a night's outcomes with the state of the marts BI reads
(this night's, or an earlier night's kept because this one failed) and the links to
the night's artifacts, for the report to say plainly what the numbers rest on.
Messages are one line for a person (what went wrong and the fix); they never carry
secrets, names or e-mails.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from advocacy.warehouse import WarehouseTarget

OUTCOMES = ("ok", "partial", "failed", "refused")
# ok:       everything landed
# partial:  landed, but some of it is missing (quarantined lines, members without access,
#           a search refused); ``message`` and ``reasons`` say what
# failed:   nothing landed for the interval (the extract failed; the source keeps its last load)
# refused:  a file input refused as a whole (its last good load stays in place)

DDL = """create table if not exists audit.source_runs (
    source text not null,
    interval_start date not null,
    outcome text not null check (outcome in ('ok', 'partial', 'failed', 'refused')),
    rows_loaded bigint,
    rows_quarantined bigint,
    message text,
    reasons jsonb not null default '[]',
    run_id text,
    recorded_at timestamptz not null default now(),
    primary key (source, interval_start))"""

MAX_REASONS = 5


@dataclass(frozen=True)
class SourceRun:
    source: str
    interval_start: dt.date
    outcome: str
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    message: str | None = None
    reasons: tuple[str, ...] = ()
    run_id: str | None = None
    recorded_at: dt.datetime | None = None

    @property
    def missing(self) -> bool:
        """Nothing of this source landed tonight: its numbers are the last good load's."""
        return self.outcome in ("failed", "refused")


@dataclass(frozen=True)
class NightStatus:
    as_of: dt.date
    sources: tuple[SourceRun, ...] = ()
    # "current": the marts BI reads are this night's; "held_back": this night did not pass
    # the gate, BI still reads the marts of ``marts_as_of``
    marts: str = "current"
    marts_as_of: dt.date | None = None
    # label -> path relative to the report's folder (dbt run results, GX data docs, ...)
    artifacts: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> tuple[SourceRun, ...]:
        return tuple(s for s in self.sources if s.missing)

    @property
    def partial(self) -> tuple[SourceRun, ...]:
        return tuple(s for s in self.sources if s.outcome == "partial")

    @property
    def complete(self) -> bool:
        return not self.missing and self.marts == "current"


def record(
    target: WarehouseTarget,
    source: str,
    interval_start: dt.date,
    outcome: str,
    *,
    rows_loaded: int | None = None,
    rows_quarantined: int | None = None,
    message: str | None = None,
    reasons: tuple[str, ...] | list[str] = (),
    run_id: str | None = None,
) -> SourceRun:
    """Record (replace) the outcome of ``source`` for the interval; returns what was stored."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    run = SourceRun(
        source,
        interval_start,
        outcome,
        rows_loaded,
        rows_quarantined,
        message,
        tuple(str(r) for r in reasons)[:MAX_REASONS],
        run_id,
    )
    with target.connect() as conn:
        conn.execute(DDL)
        conn.execute(
            "insert into audit.source_runs as s (source, interval_start, outcome, rows_loaded,"
            " rows_quarantined, message, reasons, run_id) values (%s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (source, interval_start) do update set outcome = excluded.outcome,"
            " rows_loaded = excluded.rows_loaded, rows_quarantined = excluded.rows_quarantined,"
            " message = excluded.message, reasons = excluded.reasons, run_id = excluded.run_id,"
            " recorded_at = now()",
            (
                source,
                interval_start,
                outcome,
                rows_loaded,
                rows_quarantined,
                message,
                json.dumps(list(run.reasons)),
                run_id,
            ),
        )
    return run


def for_night(conn, interval_start: dt.date) -> NightStatus:
    """The night's status (``conn``: an open psycopg connection): each source's recorded outcome,
    and whether BI reads this night's marts or an earlier night's (``advocacy.marts``)."""
    from advocacy import marts

    state, marts_as_of, _ = marts.night_state(conn, interval_start)
    return NightStatus(interval_start, source_runs(conn, interval_start), state, marts_as_of)


def source_runs(conn, interval_start: dt.date) -> tuple[SourceRun, ...]:
    """The recorded outcomes of the interval, by source (``conn``: an open psycopg connection)."""
    exists = conn.execute("select to_regclass('audit.source_runs') is not null").fetchone()[0]
    if not exists:
        return ()
    rows = conn.execute(
        "select source, interval_start, outcome, rows_loaded, rows_quarantined, message, reasons,"
        " run_id, recorded_at from audit.source_runs where interval_start = %s order by source",
        (interval_start,),
    ).fetchall()
    return tuple(SourceRun(*r[:6], tuple(r[6] or ()), *r[7:]) for r in rows)

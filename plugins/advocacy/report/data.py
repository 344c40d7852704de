"""Reading the marts for the report: SQL only, no KPI formula in Python.

Everything here selects, filters to the report's months and orders; the only
shaping is presentation (the last 12 months, the as-of month and the one
before it, the top 10). Names are published only for consenting employees:
per-employee marts are read through ``marts.dim_employee.consent_public``
even though dbt already masks them (defence in depth).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from psycopg import sql
from psycopg.rows import dict_row

from advocacy.quality.catalog import MARTS, Table, existing_tables

MONTHS_SHOWN = 12
TOP_N = 10
ANONYMOUS = "anonymous"


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return add_months(month, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Periods:
    """Which month a report headlines, and whether the as-of month is over.

    The as-of month is complete only on its last day; before that it is "to date".
    ``last_complete_month`` (the default) headlines the last month that is over;
    ``month_to_date`` headlines the as-of month, compared only with the same days
    of the month before.
    """

    as_of: dt.date
    headline: str = "last_complete_month"

    @property
    def current(self) -> dt.date:
        return self.as_of.replace(day=1)

    @property
    def current_complete(self) -> bool:
        return self.as_of == month_end(self.current)

    @property
    def last_complete(self) -> dt.date:
        return self.current if self.current_complete else add_months(self.current, -1)

    @property
    def month(self) -> dt.date:
        """The month the page's sections show."""
        if self.headline == "month_to_date":
            return self.current
        return self.last_complete

    @property
    def month_complete(self) -> bool:
        return self.month != self.current or self.current_complete

    @property
    def same_days_before(self) -> tuple[dt.date, dt.date]:
        """Days 1..d of the month before the as-of month (d capped at that month's length)."""
        before = add_months(self.current, -1)
        return before, min(before.replace(day=1) + dt.timedelta(days=self.as_of.day - 1), month_end(before))


@dataclass
class Trend:
    table: Table
    months: list[dt.date]
    series: list[tuple[str, list]] = field(default_factory=list)
    partial_last: bool = False  # the last month is the as-of month, not over yet


class MartReader:
    """Queries for one report (one as-of date) on an open psycopg connection.

    Sections read ``month`` (the headline month); trends run to the as-of month.
    """

    def __init__(self, conn, as_of: dt.date, month: dt.date | None = None, timezone: str = "UTC"):
        self.conn = conn
        self.as_of = as_of
        self.current = as_of.replace(day=1)
        self.month = month or self.current
        self.timezone = timezone
        self.partial = as_of != month_end(self.current)
        self.first_month = add_months(self.current, -(MONTHS_SHOWN - 1))
        self.present = existing_tables(conn, MARTS)

    # -- plumbing ------------------------------------------------------------------

    def has(self, table: str) -> bool:
        return f"marts.{table}" in self.present

    def rows(self, query, params=()) -> list[dict]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def columns(self, table: str) -> list[str]:
        found = self.conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = %s order by ordinal_position",
            (table,),
        ).fetchall()
        return [r[0] for r in found]

    def _masked(self, table: Table, alias: str = "t") -> sql.Composable:
        """The select list of a per-employee mart with identities masked without consent."""
        t = sql.Identifier(alias)
        consent = sql.SQL("d.consent_public is true") if self.has("dim_employee") else sql.SQL("false")
        items = []
        for col in self.columns(table.table):
            c = sql.Identifier(col)
            if col == "employee_id":
                items.append(
                    sql.SQL("case when {ok} then {t}.{c} else {anon} end as {c}").format(
                        ok=consent, t=t, c=c, anon=sql.Literal(ANONYMOUS)
                    )
                )
            elif col == "display_name":
                items.append(sql.SQL("case when {ok} then {t}.{c} end as {c}").format(ok=consent, t=t, c=c))
            else:
                items.append(sql.SQL("{t}.{c}").format(t=t, c=c))
        return sql.SQL(", ").join(items)

    def _from(self, table: Table) -> sql.Composable:
        base = sql.SQL("marts.{} as t").format(sql.Identifier(table.table))
        if table.per_employee and self.has("dim_employee"):
            base = sql.SQL("{} left join marts.dim_employee as d on d.employee_id = t.employee_id").format(
                base
            )
        return base

    def _select_list(self, table: Table) -> sql.Composable:
        return self._masked(table) if table.per_employee else sql.SQL("t.*")

    # -- sections ------------------------------------------------------------------

    def trend(self, table: Table) -> Trend:
        """The chart's series over the last 12 months (from the first month with data)."""
        chart = table.chart
        assert chart is not None
        where = sql.SQL(f" and ({chart.where})") if chart.where else sql.SQL("")
        window = (self.first_month, self.current)
        name = sql.Identifier(table.table)
        if chart.split_by:
            query = sql.SQL(
                "select month, {split} as series, {value} as value from marts.{name} "
                "where month between %s and %s{where} order by month"
            ).format(
                split=sql.Identifier(chart.split_by),
                value=sql.Identifier(chart.value),
                name=name,
                where=where,
            )
            found = self.rows(query, window)
            keys = sorted({r["series"] for r in found}, key=lambda k: (k != "ALL", str(k)))
            months = self._axis(r["month"] for r in found)
            by = {(r["month"], r["series"]): r["value"] for r in found}
            # split values stay codes ('ALL', a platform's code): the page names them in its language
            series = [(str(k), [by.get((m, k)) for m in months]) for k in keys]
            return Trend(table, months, series, self._partial(months))
        exprs = sql.SQL(", ").join(
            sql.SQL("{} as {}").format(sql.SQL(s.expr), sql.Identifier(f"s{i}"))
            for i, s in enumerate(chart.series)
        )
        group = sql.SQL(" group by month") if chart.aggregate else sql.SQL("")
        query = sql.SQL(
            "select month, {exprs} from marts.{name} "
            "where month between %s and %s{where}{group} order by month"
        ).format(exprs=exprs, name=name, where=where, group=group)
        found = self.rows(query, window)
        months = self._axis(r["month"] for r in found)
        by = {r["month"]: r for r in found}
        series = [
            (s.label, [by[m][f"s{i}"] if m in by else None for m in months])
            for i, s in enumerate(chart.series)
        ]
        return Trend(table, months, series, self._partial(months))

    def _partial(self, months: list[dt.date]) -> bool:
        return bool(months) and self.partial and months[-1] == self.current

    def _axis(self, months) -> list[dt.date]:
        months = [m for m in months if m is not None]
        if not months:
            return []
        first, out = max(min(months), self.first_month), []
        m = first
        while m <= self.current:
            out.append(m)
            m = add_months(m, 1)
        return out

    def scorecard(self, table: Table | None, month: dt.date | None = None) -> tuple[dict | None, dict | None]:
        """``month``'s scorecard row (or the latest before it) and the month before it."""
        if table is None or not self.has(table.table):
            return None, None
        found = self.rows(
            sql.SQL("select * from marts.{} where month <= %s order by month desc limit 2").format(
                sql.Identifier(table.table)
            ),
            (month or self.month,),
        )
        if not found:
            return None, None
        current = found[0]
        previous = found[1] if len(found) > 1 else None
        if previous and previous["month"] != add_months(current["month"], -1):
            previous = None
        return current, previous

    def as_of_month_rows(self, table: Table, order: str, limit: int | None = None) -> list[dict]:
        """Rows of the as-of month (identities masked for per-employee marts)."""
        if not self.has(table.table):
            return []
        query = sql.SQL("select {cols} from {src} where t.month = %s order by {order}{limit}").format(
            cols=self._select_list(table),
            src=self._from(table),
            order=sql.SQL(order),
            limit=sql.SQL(f" limit {int(limit)}") if limit else sql.SQL(""),
        )
        return self.rows(query, (self.month,))

    def contest_winner(self, table: Table | None) -> dict | None:
        """The monthly contest winner: most shares_received in the as-of month (docs/metrics.md).

        Over every ranked row, not just the top 10 by interactions; ties go to the
        better interactions rank. Masked like every per-employee row: a winner who
        did not consent is published without a name.
        """
        if table is None:
            return None
        found = self.as_of_month_rows(table, "t.shares_received desc nulls last, t.rank", 1)
        if not found or not found[0].get("shares_received"):
            return None  # nobody received a share: no winner
        return found[0]

    def same_days(self, periods: Periods) -> tuple[dict, dict] | None:
        """Posts and posting advocates on days 1..d of the as-of month and of the month before.

        The fair comparison for a month that is not over: counted from ``marts.fct_posts``
        by the day each post was created in the programme's time zone. None without
        that table.
        """
        if not self.has("fct_posts"):
            return None
        before_start, before_end = periods.same_days_before
        query = (
            "with p as (select (created_at at time zone %(tz)s)::date as day, is_programme_post, employee_id "
            "from marts.fct_posts where created_at >= %(since)s::date - 1) "
            "select (day >= %(cur)s) as current, "
            "count(*) filter (where is_programme_post) as programme_posts, "
            "count(*) filter (where not is_programme_post) as community_posts, "
            "count(distinct employee_id) filter (where is_programme_post) as posting_advocates "
            "from p where day between %(since)s and %(before_end)s or day between %(cur)s and %(as_of)s "
            "group by 1"
        )
        found = self.rows(
            query,
            {
                "tz": self.timezone,
                "since": before_start,
                "before_end": before_end,
                "cur": self.current,
                "as_of": self.as_of,
            },
        )
        empty = {"programme_posts": 0, "community_posts": 0, "posting_advocates": 0}
        by = {r["current"]: r for r in found}
        return by.get(True, empty), by.get(False, empty)

    def freshness(self, table: Table | None) -> list[dict]:
        if table is None or not self.has(table.table):
            return []
        return self.rows(
            sql.SQL("select * from marts.{} order by source, stream").format(sql.Identifier(table.table))
        )

    def csv(self, table: Table) -> bytes:
        """The mart as CSV (header = its columns), months up to the as-of month, identities masked."""
        cols = self.columns(table.table)
        where = (
            sql.SQL(" where t.month <= {}").format(sql.Literal(self.current))
            if "month" in cols
            else sql.SQL("")
        )
        order = [c for c in table.keys if c in cols] or cols[:1]
        query = sql.SQL(
            "copy (select {sel} from {src}{where} order by {order}) to stdout (format csv, header)"
        ).format(
            sel=self._select_list(table),
            src=self._from(table),
            where=where,
            order=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in order),
        )
        buf = io.BytesIO()
        with self.conn.cursor() as cur, cur.copy(query) as copy:
            for chunk in copy:
                buf.write(chunk)
        return buf.getvalue()

    def latest_validation(self) -> dict | None:
        """The latest gate run recorded for this as-of date in ``audit.validation_runs``."""
        exists = self.conn.execute("select to_regclass('audit.validation_runs') is not null").fetchone()[0]
        if not exists:
            return None
        found = self.rows(
            "select run_id, bool_and(success) as success, max(validated_at) as validated_at "
            "from audit.validation_runs where as_of = %s group by run_id order by 3 desc limit 1",
            (self.as_of,),
        )
        return found[0] if found else None

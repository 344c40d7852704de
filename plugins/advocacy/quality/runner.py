"""The validation gate: run the committed checkpoint's suites, explain failures, keep a record.

``run_validation`` runs every validation definition of the ``advocacy_gate``
checkpoint whose table exists (a table dbt has not built yet is skipped with a
note), with this run's suite parameters (row-count bounds from the previous
successful run of each table, the known platforms). It turns each failed
expectation into one readable line, builds the Data Docs for this run,
records per-table results in ``audit.validation_runs`` and returns a
``ValidationReport``. ``assert_valid`` raises ``ValidationFailed`` listing
every failure, which is what fails the Airflow task.

A night's marts are validated where it built them (``marts_schema="marts_build"``:
write-audit-publish, ``advocacy.marts``): the committed GX assets name
``marts``, and the run points them at the build schema in memory. The gate also refuses
a build that would shrink a closed month's headline KPIs against what BI reads
(``closed_month_shrinks``).

A night's raw tables are checked on the rows of its own interval only
(``raw_interval``: views in a throwaway schema ``gate_scope_<day>``), so the gate's cost
follows a night's volume, not the history's; the marts are checked whole every night, and
the whole raw tables on one night a week (``gate.whole_raw_checks``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from advocacy import marts
from advocacy.quality import catalog, suites
from advocacy.quality.project import CHECKPOINT, DATA_DOCS_SITE, open_context, warehouse_env
from advocacy.settings import GateSettings
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)

ALL = "ALL"
OTHER = "other"  # web sessions whose utm_source is no known platform

AUDIT_DDL = """
create table if not exists audit.validation_runs (
    run_id text not null,
    as_of date not null,
    table_name text not null,
    row_count bigint,
    success boolean not null,
    failed_expectations jsonb not null default '[]'::jsonb,
    validated_at timestamptz not null default now(),
    primary key (run_id, table_name)
)
"""


class ValidationFailed(RuntimeError):
    """The gate failed; the message lists every failed expectation."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.summary())


@dataclass
class TableResult:
    table: str
    success: bool
    row_count: int | None
    previous_row_count: int | None
    expectations: int
    failures: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    run_id: str
    as_of: dt.date
    success: bool
    failures: list[str]
    row_counts: dict[str, int]
    skipped: list[str]
    data_docs_path: str | None
    tables: list[TableResult]
    seconds: float = 0.0
    scope: str = ""  # which rows were checked (raw: tonight's or whole tables)

    def summary(self) -> str:
        checked = len(self.tables)
        expectations = sum(t.expectations for t in self.tables)
        head = (
            f"validation {'passed' if self.success else 'FAILED'} for as-of {self.as_of} "
            f"(run {self.run_id}): {checked} tables, {expectations} expectations"
        )
        lines = [head]
        if self.scope:
            lines.append(f"  checked: {self.scope}")
        if self.failures:
            lines.append(f"{len(self.failures)} failed:")
            lines += [f"  - {f}" for f in self.failures]
        lines += [f"  skipped: {s}" for s in self.skipped]
        if self.data_docs_path:
            lines.append(f"Data Docs: {self.data_docs_path}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-able (an Airflow XCom, the report's validation status)."""
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        return d


def assert_valid(report: ValidationReport) -> None:
    """Raise ``ValidationFailed`` naming every failed expectation unless the gate passed."""
    if not report.success:
        raise ValidationFailed(report)


def known_platforms() -> list[str]:
    """Every platform of the registry (advocacy/platforms.py): a new platform needs no suite edit."""
    from advocacy import platforms

    return sorted(platforms.names())


def ensure_audit_table(target: WarehouseTarget) -> None:
    with target.connect(autocommit=True) as conn:
        conn.execute("create schema if not exists audit")
        conn.execute(AUDIT_DDL)


def previous_row_count(conn, table: str, *, run_id: str, as_of: dt.date) -> int | None:
    """Row count of the latest earlier successful validation of ``table`` (as-of <= this one)."""
    row = conn.execute(
        "select row_count from audit.validation_runs "
        "where table_name = %s and success and run_id <> %s and as_of <= %s "
        "and row_count is not null order by as_of desc, validated_at desc limit 1",
        (table, run_id, as_of),
    ).fetchone()
    return None if row is None else int(row[0])


def run_validation(
    target: WarehouseTarget,
    *,
    as_of: dt.date,
    run_id: str,
    data_docs: bool = True,
    project_root: Path | None = None,
    platforms: Iterable[str] | None = None,
    marts_schema: str = marts.PUBLISHED,
    gate: GateSettings | None = None,
    settings_file: str | None = None,
    raw_interval: dt.date | None = None,
) -> ValidationReport:
    """Validate raw and the marts in ``marts_schema`` for one run; see the module docstring.

    The nightly passes ``marts_schema="marts_build"`` (``pipeline.validate``); the default
    validates what BI reads. ``raw_interval``: check only the raw rows of that run day
    (None: the whole raw tables).

    ``gate``: the closed-month shrink limits (default: ``GateSettings()``); ``settings_file``
    is named in the message saying how to accept a shrink on purpose.
    """
    started = time.perf_counter()
    platform_list = sorted(set(platforms) if platforms is not None else known_platforms())
    ensure_audit_table(target)
    with target.connect() as conn:
        present = {
            _logical(name, marts_schema)
            for name in catalog.existing_tables(conn, _physical_tables(marts_schema))
        }
        shrinks = closed_month_shrinks(
            conn, as_of, build=marts_schema, gate=gate or GateSettings(), settings_file=settings_file
        )
        previous = {
            t.qualified: previous_row_count(conn, t.qualified, run_id=run_id, as_of=as_of)
            for t in catalog.TABLES
            if t.qualified in present and t.row_count_trend
        }

    # unqualified names in the SQL checks (dim_employee) are the marts being validated
    search_path = f"{marts_schema},public"  # no space: libpq splits options on spaces
    checked = _SearchPath(target, search_path)
    raw_schema = _scope_raw(target, raw_interval, present) if raw_interval else None
    try:
        results, skipped, docs = _run_checkpoint(
            target, checked, search_path, present, previous, platform_list,
            run_id=run_id, marts_schema=marts_schema, raw_schema=raw_schema,
            data_docs=data_docs, project_root=project_root,
        )  # fmt: skip
    finally:
        if raw_schema:
            _drop_scope(target, raw_schema)
    scope = (
        f"raw: the rows of {raw_interval} (whole tables: gate.whole_raw_checks ="
        f" {(gate or GateSettings()).whole_raw_checks}); marts: whole"
        if raw_interval
        else "raw and marts: whole tables"
    )

    failures = shrinks + [f for r in results for f in r.failures]
    if not any(r.table.startswith("marts.") for r in results):
        # Nothing to vouch for is not a pass: no report may be published from empty marts.
        where = "" if marts_schema == marts.PUBLISHED else f" in {marts_schema}"
        failures.append(f"marts: no mart table exists yet{where} (has dbt built the marts?)")
    report = ValidationReport(
        run_id=run_id,
        as_of=as_of,
        success=not failures,
        failures=failures,
        row_counts={r.table: r.row_count for r in results if r.row_count is not None},
        skipped=skipped,
        data_docs_path=docs,
        tables=results,
        seconds=round(time.perf_counter() - started, 2),
        scope=scope,
    )
    _record(target, report)
    log.info("%s (%.1f s)", report.summary(), report.seconds)
    return report


def _scope_raw(target: WarehouseTarget, day: dt.date, present: set[str]) -> str:
    """A throwaway schema of views, one per raw table of the catalog, holding only ``day``'s
    rows (the name carries the day: nights of different days never share it)."""
    from psycopg import sql

    schema = f"gate_scope_{day:%Y%m%d}"
    with target.connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        for t in catalog.TABLES:
            if t.schema == "raw" and t.qualified in present:
                conn.execute(
                    sql.SQL("create view {} as select * from {} where _interval_start = {}").format(
                        sql.Identifier(schema, t.table), sql.Identifier(t.schema, t.table), sql.Literal(day)
                    )
                )
        conn.commit()
    return schema


def _drop_scope(target: WarehouseTarget, schema: str) -> None:
    from psycopg import sql

    try:
        with target.connect() as conn:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            conn.commit()
    except Exception as exc:  # the next night of that day drops it first anyway
        log.warning("could not drop the gate's scratch schema %s: %s", schema, exc)


def _run_checkpoint(
    target, checked, search_path, present, previous, platform_list, *,
    run_id, marts_schema, raw_schema, data_docs, project_root,
):  # fmt: skip
    """Run every validation definition of the checkpoint whose table exists: (results,
    skipped, Data Docs path)."""
    with warehouse_env(target, search_path), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = open_context(project_root)
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        checkpoint = ctx.checkpoints.get(CHECKPOINT)
        gx_run = RunIdentifier(
            run_name=re.sub(r"[^A-Za-z0-9._-]+", "_", run_id), run_time=dt.datetime.now(dt.UTC)
        )
        results, skipped, result_ids = [], [], []
        for vd in checkpoint.validation_definitions:
            if vd.name not in present:
                skipped.append(f"{vd.name}: table does not exist yet")
                continue
            spec = catalog.by_name(vd.name)
            floor = spec.min_rows
            if spec.schema == marts.PUBLISHED and marts_schema != marts.PUBLISHED:
                # the committed asset names marts: read the night's build instead (in memory only)
                vd.data.data_asset.schema_name = marts_schema
                spec = _in_schema(spec, marts_schema)
            elif spec.schema == "raw" and raw_schema:
                # tonight's rows only; a night may load none of a file (the whole-table night
                # keeps the floor)
                vd.data.data_asset.schema_name = raw_schema
                spec, floor = _in_schema(spec, raw_schema), 0
            prev = previous.get(vd.name)
            params = {
                **suites.row_count_bounds(prev, floor),
                "platforms": platform_list,
                "platforms_or_all": [*platform_list, ALL],
                "platforms_or_other": [*platform_list, OTHER],
                "platforms_other_or_all": [*platform_list, OTHER, ALL],
            }
            result = vd.run(
                checkpoint_id=checkpoint.id,
                expectation_parameters=params,
                result_format=checkpoint.result_format,
                run_id=gx_run,
            )
            result_ids.append(
                ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=vd.suite.name),
                    run_id=gx_run,
                    batch_identifier=result.batch_id,
                )
            )
            results.append(_table_result(checked, spec, vd.name, result, prev))

        docs = None
        if data_docs and result_ids:
            urls = ctx.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=result_ids)
            docs = _local_path(urls.get(DATA_DOCS_SITE))
    return results, skipped, docs


class _SearchPath:
    """``target`` whose connections resolve unqualified names in ``search_path`` first."""

    def __init__(self, target: WarehouseTarget, search_path: str):
        self.target, self.search_path = target, search_path

    def connect(self, **kwargs):
        return self.target.connect(options=f"-c search_path={self.search_path}", **kwargs)


def _in_schema(spec: catalog.Table, schema: str) -> catalog.Table:
    import dataclasses

    return dataclasses.replace(spec, schema=schema)


def _physical_tables(marts_schema: str) -> list[catalog.Table]:
    """The catalog's tables where this run reads them (the marts in ``marts_schema``)."""
    return [_in_schema(t, marts_schema) if t.schema == marts.PUBLISHED else t for t in catalog.TABLES]


def _logical(qualified: str, marts_schema: str) -> str:
    """``marts_build.kpi_x`` -> ``marts.kpi_x``: results and audit rows keep the catalog's names."""
    schema, _, table = qualified.partition(".")
    return f"{marts.PUBLISHED}.{table}" if schema == marts_schema else qualified


# -- closed months must not shrink -------------------------------------------------

#: The headline KPIs of a month (kpi_programme_scorecard_monthly's columns) a night may not shrink
#: in a closed month by more than ``gate.max_closed_month_shrink`` unless the month is accepted.
HEADLINE_TABLE = "kpi_programme_scorecard_monthly"
HEADLINE_KPIS = {
    "invited": "invited",
    "active": "active",
    "programme_posts": "programme posts",
    "interactions": "interactions",
    "referral_sessions": "referral sessions",
}


def closed_month_shrinks(
    conn,
    as_of: dt.date,
    *,
    build: str = marts.BUILD,
    published: str = marts.PUBLISHED,
    gate: GateSettings | None = None,
    settings_file: str | None = None,
) -> list[str]:
    """One line per closed month's headline KPI the build would shrink beyond the limit.

    A closed month is one before ``as_of``'s month, compared between what BI reads
    (``published``) and the night's build. Nothing is compared when BI has no marts yet,
    when the build is the published schema itself, or when the build is of an earlier
    night than BI's (a rerun is not published: ``advocacy.marts``).
    """
    from psycopg import sql

    gate = gate or GateSettings()
    if build == published:
        return []
    shown = marts.published_as_of(conn)
    if shown is not None and as_of < shown:
        return []
    exists = conn.execute(
        "select to_regclass(%s) is not null, to_regclass(%s) is not null",
        (f'"{published}"."{HEADLINE_TABLE}"', f'"{build}"."{HEADLINE_TABLE}"'),
    ).fetchone()
    if not all(exists):
        return []
    month_start = as_of.replace(day=1)
    cols = list(HEADLINE_KPIS)
    query = sql.SQL(
        "select to_char(b.month, 'YYYY-MM'), {before}, {after} from {pub} as b"
        " left join {bld} as a on a.month = b.month where b.month < %s order by b.month"
    ).format(
        before=sql.SQL(", ").join(sql.SQL("b.{}").format(sql.Identifier(c)) for c in cols),
        after=sql.SQL(", ").join(sql.SQL("a.{}").format(sql.Identifier(c)) for c in cols),
        pub=sql.Identifier(published, HEADLINE_TABLE),
        bld=sql.Identifier(build, HEADLINE_TABLE),
    )
    limit = float(gate.max_closed_month_shrink)
    accepted = set(gate.accept_shrink_months)
    where = f" in {settings_file}" if settings_file else ""
    out = []
    for row in conn.execute(query, (month_start,)).fetchall():
        month, before, after = row[0], row[1 : 1 + len(cols)], row[1 + len(cols) :]
        for col, b, a in zip(cols, before, after, strict=True):
            b, a = float(b or 0), float(a or 0)
            if b <= 0 or (b - a) / b <= limit:
                continue
            if month in accepted:
                log.warning(
                    "closed month %s: %s %s -> %s accepted (gate.accept_shrink_months)",
                    month,
                    col,
                    _fmt(b),
                    _fmt(a),
                )
                continue
            out.append(
                f"closed month {month}: {HEADLINE_KPIS[col]} would shrink from {_fmt(b)} to {_fmt(a)}"
                f" ({(a - b) / b:+.1%}, more than gate.max_closed_month_shrink = {limit:.1%});"
                f" BI keeps the published marts. If the change is intended (a corrected export),"
                f" add '{month}' to gate.accept_shrink_months{where} and rerun the night"
            )
    return out


def _local_path(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return unquote(parts.path) if parts.scheme == "file" else url


def _record(target: WarehouseTarget, report: ValidationReport) -> None:
    with target.connect() as conn:
        for r in report.tables:
            conn.execute(
                "insert into audit.validation_runs "
                "(run_id, as_of, table_name, row_count, success, failed_expectations, validated_at) "
                "values (%s, %s, %s, %s, %s, %s::jsonb, now()) "
                "on conflict (run_id, table_name) do update set as_of = excluded.as_of, "
                "row_count = excluded.row_count, success = excluded.success, "
                "failed_expectations = excluded.failed_expectations, validated_at = now()",
                (
                    report.run_id,
                    report.as_of,
                    r.table,
                    r.row_count,
                    r.success,
                    json.dumps(r.failures),
                ),
            )


# -- readable failures -------------------------------------------------------------


def _table_result(target, spec, name, result, prev) -> TableResult:
    row_count = None
    for r in result.results:
        if r.expectation_config.type == "expect_table_row_count_to_be_between":
            observed = (r.result or {}).get("observed_value")
            if observed is not None:
                row_count = int(observed)
    failures = [
        f"{name}: {_describe(target, spec, r.expectation_config, r, prev, row_count)}"
        for r in result.results
        if not r.success
    ]
    return TableResult(
        table=name,
        success=bool(result.success),
        row_count=row_count,
        previous_row_count=prev,
        expectations=len(result.results),
        failures=failures,
    )


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "(" + ", ".join(_fmt(v) for v in value.values()) + ")"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def _examples(result: dict, limit: int = 3) -> str:
    counts = result.get("partial_unexpected_counts") or []
    values = [c["value"] for c in counts] or list(result.get("partial_unexpected_list") or [])
    seen: list[str] = []
    for v in values:
        text = _fmt(v)
        if text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return ", e.g. " + ", ".join(seen) if seen else ""


def _exception(r) -> str | None:
    info = r.exception_info or {}
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for c in candidates:
        if c.get("raised_exception"):
            return str(c.get("exception_message") or "unknown error").strip().splitlines()[0][:300]
    return None


def _rule(cfg) -> str:
    kw = cfg.kwargs
    t = cfg.type
    if t == "expect_column_values_to_not_be_null":
        return f"{kw['column']} not null"
    if t == "expect_column_values_to_be_unique":
        return f"{kw['column']} unique"
    if t == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return f"{kw['column']} between {_fmt(lo)} and {_fmt(hi)}"
        return f"{kw['column']} >= {_fmt(lo)}" if lo is not None else f"{kw['column']} <= {_fmt(hi)}"
    if t == "expect_column_values_to_be_in_set":
        return f"{kw['column']} in {{{', '.join(str(v) for v in kw['value_set'])}}}"
    if t == "expect_table_columns_to_match_set":
        return "has every contract column"
    if t == "expect_table_row_count_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if hi is None:
            return f"row count >= {_fmt(lo)}"
        return f"row count between {_fmt(lo)} and {_fmt(hi)}"
    if t == "unexpected_rows_expectation":
        meta = cfg.meta or {}
        if meta.get("check") == suites.UNIQUE_TOGETHER:
            return f"({', '.join(meta['columns'])}) unique together"
        return cfg.description or meta.get("check") or "custom SQL check"
    return f"{t} {json.dumps(kw, default=str)}"


def _describe(target, spec, cfg, r, prev, row_count=None) -> str:
    rule = _rule(cfg)
    error = _exception(r)
    if error:
        return f"{rule} — could not be checked: {error}"
    res = r.result or {}
    t = cfg.type
    if t == "expect_table_columns_to_match_set":
        missing = sorted(set(cfg.kwargs["column_set"]) - set(res.get("observed_value") or []))
        return f"{rule} — missing: {', '.join(missing)}"
    if t == "expect_table_row_count_to_be_between":
        baseline = f" (previous successful run: {prev} rows)" if prev is not None and "and" in rule else ""
        return f"{rule}{baseline} — observed {res.get('observed_value')}"
    if t == "unexpected_rows_expectation" and (cfg.meta or {}).get("check") == suites.UNIQUE_TOGETHER:
        return f"{rule} — {_duplicates(target, spec, cfg, row_count)}"
    if t == "unexpected_rows_expectation":
        n = res.get("observed_value")
        return f"{rule} — {n} offending row{'s' if n != 1 else ''}{_rows_examples(target, spec, cfg)}"
    if "unexpected_count" in res:
        total = res.get("element_count")
        return f"{rule} — {res['unexpected_count']} of {total} rows failed{_examples(res)}"
    return f"{rule} — failed ({json.dumps(res, default=str)[:200]})"


def _check_sql(spec, cfg):
    """A SQL check's query on ``spec``'s table (the catalog's code, never user input; the table
    is quoted)."""
    from psycopg import sql

    batch = sql.Identifier(spec.schema, spec.table).as_string()
    return sql.SQL(cfg.kwargs.get("unexpected_rows_query", "").replace("{batch}", batch))


def _duplicates(target, spec, cfg, row_count, limit: int = 3) -> str:
    """The details of a failed unique-together check: '<rows> of <total> rows failed, e.g.
    (<key>), ...', counting the rows that share a key as GX's compound uniqueness did."""
    from psycopg import sql

    cols = cfg.meta["columns"]
    table = sql.Identifier(spec.schema, spec.table).as_string()
    try:
        with target.connect() as conn:
            summary = conn.execute(_check_sql(spec, cfg)).fetchone()
            keys = conn.execute(
                sql.SQL("select {} from ({}) as duplicated order by {} limit {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, cols)),
                    sql.SQL(suites.duplicated_keys_query(cols, table)),
                    sql.SQL(", ").join(map(sql.Identifier, cols)),
                    sql.Literal(limit),
                )
            ).fetchall()
    except Exception as exc:  # the failure stands; only its details are missing
        log.warning("could not count the duplicate rows of %s: %s", spec.qualified, exc)
        return "some rows share their key"
    failed = summary[1] if summary else "?"
    examples = ", e.g. " + ", ".join(_fmt(k) for k in keys) if keys else ""
    return f"{failed} of {row_count if row_count is not None else '?'} rows failed{examples}"


def _rows_examples(target, spec, cfg, limit: int = 3) -> str:
    """SUMMARY results carry no rows for SQL checks: fetch a few for the message."""
    from psycopg import sql

    try:
        with target.connect() as conn:
            cur = conn.execute(
                sql.SQL("select * from ({}) as offending limit {}").format(
                    _check_sql(spec, cfg), sql.Literal(limit)
                )
            )
            cols = [d.name for d in cur.description]
            rows = cur.fetchall()
    except Exception as exc:  # examples are a courtesy; never mask the failure itself
        log.warning("could not fetch example rows for %s: %s", spec.qualified, exc)
        return ""
    shown = ["{" + ", ".join(f"{c}={_fmt(v)}" for c, v in zip(cols, row, strict=True)) + "}" for row in rows]
    return ", e.g. " + "; ".join(shown) if shown else ""

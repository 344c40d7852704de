"""The nightly pipeline's steps, as plain functions the DAG's tasks call.

Each step takes the interval day (``YYYY-MM-DD``) and returns small JSON-able
values (they travel as XComs), so any worker can run any step: the only state
shared between steps is the warehouse and the landing store.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
from types import ModuleType

from advocacy import checkpoint, inputs, landing, load, night, quarantine, state, warehouse
from advocacy.connections import get_connection
from advocacy.connectors.base import AuthError, is_permanent
from advocacy.settings import Settings, load_settings

log = logging.getLogger(__name__)

# File inputs: source -> stream -> key/time, and the settings attribute with the file's path.
FILE_SOURCES = {
    "roster": {"employees": load.StreamSpec(key="employee_id")},
    "web": {"sessions": load.StreamSpec(key="session_id", time="session_start")},
    "self_report": {"activity": load.StreamSpec(key="_row_key")},
}
# The roster comes first: the self-reports are checked against its employees.
FILE_READERS = {
    ("roster", "employees"): ("roster_path", inputs.check_roster),
    ("web", "sessions"): ("sessions_path", inputs.check_sessions),
    ("self_report", "activity"): ("self_reports_path", inputs.check_self_reports),
}
# The name of each file input in the settings (inputs.<name>: path and reading options) and
# in audit.source_runs (the night's outcome per source).
INPUT_NAMES = {
    ("roster", "employees"): "roster",
    ("web", "sessions"): "sessions",
    ("self_report", "activity"): "self_reports",
}


def _day(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def connector(platform: str) -> ModuleType:
    """A platform's connector is the module ``advocacy.connectors.<platform>``."""
    try:
        return importlib.import_module(f"advocacy.connectors.{platform}")
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"no connector for platform '{platform}' (expected advocacy/connectors/{platform}.py);"
            " fix 'platforms' in the settings file"
        ) from exc


def _streams(source: str) -> dict:
    if source in FILE_SOURCES:
        return FILE_SOURCES[source]
    return {name: load.stream_spec(d) for name, d in connector(source).STREAMS.items()}


def prepare(settings: Settings | None = None) -> dict:
    """Resolve the warehouse, create its schemas and every declared raw table."""
    settings = settings or load_settings()
    target = warehouse.resolve()
    warehouse.ensure_schemas(target)
    for source in [*FILE_SOURCES, *settings.enabled_platforms()]:
        load.ensure_tables(target, source, _streams(source))
    log.info("warehouse %s (%s) ready", target.masked_url, target.origin)
    return {"warehouse": target.masked_url, "platforms": settings.enabled_platforms()}


def _describe(f: landing.LandedFile) -> dict:
    return {
        "source": f.source,
        "stream": f.stream,
        "interval_start": f.interval_start.isoformat(),
        "extracted_at": f.extracted_at.isoformat(),
        "path": f.path,
        "records": f.records,
    }


def last_good_roster(settings: Settings, day: dt.date) -> tuple[dt.date, dict[str, dict]] | None:
    """The newest roster landed up to ``day`` (a roster is landed only when its check passed):
    (its interval day, its records by employee_id); None if none has landed yet."""
    files = landing.list_files(settings.landing_path, source="roster", end=day)
    if not files:
        return None
    newest = max(files, key=lambda f: (f.interval_start, f.extracted_at))
    records = (json.loads(line) for _, line in landing.open_lines(newest.path))
    return newest.interval_start, {r["employee_id"]: r for r in records}


def _record_outcome(target, name: str, day: dt.date, checked=None, refused: str | None = None) -> None:
    """The input's outcome of the night in audit.source_runs (the report and the CLI show it)."""
    if refused is not None:
        first = refused.splitlines()[0]
        night.record(target, name, day, "refused", message=first[:500], reasons=[refused[:500]])
        return
    message = None
    if checked.rejected:
        message = (
            f"{len(checked.dropped)} line(s) left out, {len(checked.repaired)} kept with a field"
            " fallen back; per-line detail in audit.input_quarantine"
        )
    night.record(
        target, name, day, "partial" if checked.rejected else "ok",
        rows_loaded=checked.ok, rows_quarantined=len(checked.rejected), message=message,
        reasons=checked.reasons(night.MAX_REASONS),
    )  # fmt: skip


def extract_files(interval_start: str, settings: Settings | None = None) -> list[dict]:
    """Land tonight's file inputs: the HR roster (required), sessions and self-reports (optional).

    Each file is a full export, landed whole for the interval (read as the settings'
    ``inputs.<name>`` options say); a rerun or a corrected export of the day replaces that
    day's copy. A bad cell of the roster falls back to the employee's value in the last
    good roster; lines with problems replace the interval's rows of that source in
    ``audit.input_quarantine``. A file that is unusable as a whole (inputs.InputError)
    lands nothing and replaces nothing; the other files still land, then this raises
    naming every refused file. Each input's outcome is recorded in audit.source_runs.
    """
    settings = settings or load_settings()
    day = _day(interval_start)
    target = warehouse.resolve()
    last = last_good_roster(settings, day)
    previous = last[1] if last else None
    # until tonight's roster is read, self-reports are checked against the last landed one
    employees = frozenset(previous) if previous is not None else None
    landed, refused = [], []
    for (source, stream), (attr, check) in FILE_READERS.items():
        path = getattr(settings, attr)
        name = INPUT_NAMES[(source, stream)]
        if not path:
            log.info("%s.%s: no file configured (inputs in %s)", source, stream, settings.source_file)
            continue
        ctx = inputs.RunContext(
            latest=day + dt.timedelta(days=1),
            employees=employees,
            options=settings.input(name),
            previous=previous if source == "roster" else None,
        )
        try:
            checked = check(path, ctx)
            # streamed: the check kept only the rejected lines; the records are read again here
            f = landing.write(
                settings.landing_path, source, stream, day, checked.records(), dt.datetime.now(dt.UTC)
            )
        except inputs.InputError as exc:
            log.error("%s.%s refused, its last load stays in place: %s", source, stream, exc)
            refused.append(f"{source}.{stream}: {exc}")
            _record_outcome(target, name, day, refused=str(exc))
            continue
        if source == "roster":
            employees = frozenset(checked.values("employee_id"))
        for warning in checked.warnings:
            log.warning("%s.%s: %s", source, stream, warning)
        quarantined = quarantine.replace(target, source, stream, day, checked)
        _record_outcome(target, name, day, checked)
        level = logging.WARNING if quarantined else logging.INFO
        log.log(level, "%s.%s: %s (landed in %s)", source, stream, checked.summary(), f.path)
        landed.append({**_describe(f), "quarantined": quarantined})
    if refused:
        # a refused file stays refused on a retry: fail at once, as for a revoked token
        raise _permanent(
            inputs.InputError(
                f"{len(refused)} file input(s) refused; the other files landed. Fix and rerun the interval:\n"
                + "\n".join(refused)
            )
        )
    return landed


def roster_for_extract(settings: Settings, day: dt.date) -> list[dict]:
    """The roster a platform extract searches by: tonight's file, or, when tonight's is
    refused, the last good roster landed up to ``day`` - one HR file never stops the
    platforms (extract_files fails the night, naming the file, after everything landed)."""
    last = last_good_roster(settings, day)
    ctx = inputs.RunContext(options=settings.input("roster"), previous=last[1] if last else None)
    try:
        return inputs.read_roster(settings.roster_path, ctx)
    except inputs.InputError as exc:
        if last is None:
            raise
        log.warning(
            "tonight's roster is refused (extract_files names it); searching by the last good roster,"
            " landed for %s: %s",
            last[0],
            str(exc).splitlines()[0],
        )
        return list(last[1].values())


def advocate_handles(
    settings: Settings, platform: str, column: str, since: dt.date, day: dt.date | None = None
) -> list[str]:
    """Handles of registered employees on one platform who were still employed on ``since``.

    Leavers stay in until the window has passed their leaving day, so the first
    (history) run and reruns of old days still find the posts they made.
    """
    handles = []
    for row in roster_for_extract(settings, day or since):
        left = row["left_at"]
        if row["registered_at"] and row.get(column) and (not left or left[:10] >= since.isoformat()):
            handles.append(row[column])
    return sorted(set(handles), key=str.lower)


def extract_platform(platform: str, interval_start: str, settings: Settings | None = None) -> list[dict]:
    """Extract one platform for the interval and land every stream; returns the landed files."""
    settings = settings or load_settings()
    day = _day(interval_start)
    mod = connector(platform)
    psettings = settings.platforms[platform]
    conn = get_connection(psettings.connection_id)
    target = warehouse.resolve()
    programme_start = dt.datetime.combine(settings.start_date, dt.time(), settings.tz)
    window_start, window_end = state.window_for(target, platform, day, programme_start)
    lookback_start = window_end - dt.timedelta(days=settings.lookback_days)
    lookback_ids = load.known_keys(target, platform, mod.POSTS_STREAM, lookback_start, window_end)
    log.info(
        "%s: window %s .. %s, %s known posts in the %s-day lookback",
        platform,
        window_start.isoformat(),
        window_end.isoformat(),
        len(lookback_ids),
        settings.lookback_days,
    )
    kwargs = dict(
        advocate_usernames=advocate_handles(
            settings, platform, mod.ROSTER_HANDLE_COLUMN, window_start.date(), day
        ),
        company_handles=list(psettings.company_handles),
        hashtags=list(settings.hashtags),
        company_domains=list(settings.company_domains),
        window_start=window_start,
        window_end=window_end,
        lookback_ids=lookback_ids,
        lookback_start=lookback_start,  # listings that can reach back refresh known posts there
        progress=log.info,
    )
    try:
        # completed responses are journaled, so a retry of this task resumes there
        with checkpoint.opened(target, platform, day, (window_start, window_end)) as cp:
            streams = mod.extract(conn, checkpoint=cp, **kwargs)
    except Exception as exc:
        _record_extract_failure(target, platform, day, exc)
        if isinstance(exc, AuthError) or is_permanent(exc):
            raise _permanent(exc) from exc
        raise
    extracted_at = dt.datetime.now(dt.UTC)
    landed = []
    for stream in mod.STREAMS:  # every declared stream, empty or not, so reruns replace
        f = landing.write(settings.landing_path, platform, stream, day, streams.get(stream, []), extracted_at)
        landed.append(_describe(f))
        log.info("%s.%s: %s records landed", platform, stream, f.records)
    state.record_window(target, platform, day, window_start, window_end)
    checkpoint.clear(target, platform, day)  # landed: a later run starts from fresh counters
    _record_extract_success(target, platform, day, streams, sum(f["records"] for f in landed))
    return landed


def _record_extract_failure(target, platform: str, day: dt.date, exc: BaseException) -> None:
    """The night's report says which platform is missing: record the failed extract (a retry
    that succeeds replaces it). The message is the error's first line (it names the
    connection and the fix, never a secret)."""
    kind = "permanent" if isinstance(exc, AuthError) or is_permanent(exc) else "transient"
    message = (str(exc).splitlines() or [type(exc).__name__])[0][:500]
    try:
        night.record(
            target, platform, day, "failed", rows_loaded=0, message=message,
            reasons=[f"{kind} error: {type(exc).__name__}"], run_id=checkpoint.run_key(),
        )  # fmt: skip
    except Exception:  # never hide the extract's own error behind a bookkeeping one
        log.exception("%s: could not record the failed extract", platform)


def _record_extract_success(target, platform: str, day: dt.date, streams, rows: int) -> None:
    """ok, or partial when the connector says what it could not read (``stats.gaps``)."""
    stats = getattr(streams, "stats", None)
    gaps = list(getattr(stats, "gaps", None) or [])
    coverage = getattr(stats, "coverage", None)
    night.record(
        target, platform, day, "partial" if gaps else "ok", rows_loaded=rows,
        message=coverage or (gaps[0] if gaps else None), reasons=gaps, run_id=checkpoint.run_key(),
    )  # fmt: skip


def _permanent(exc: Exception) -> Exception:
    """An error no retry can fix (an expired, revoked or refused credential, a refused input
    file): inside Airflow the task fails at once (``AirflowFailException``, no retries), with
    the message naming the connection or file to fix; elsewhere the error itself."""
    if checkpoint.run_key() == "manual":
        return exc
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(str(exc))


def load_landed(landed: list[dict] | list[list[dict]]) -> dict:
    """Load landed files into raw (replace by interval). Accepts a flat or nested list."""
    flat: list[dict] = []
    for item in landed:
        flat.extend(item if isinstance(item, list) else [item])
    target = warehouse.resolve()
    counts = {}
    for d in flat:
        f = landing.LandedFile(
            source=d["source"],
            stream=d["stream"],
            interval_start=_day(d["interval_start"]),
            extracted_at=dt.datetime.fromisoformat(d["extracted_at"]),
            path=d["path"],
        )
        counts[f"{f.source}__{f.stream}"] = load.load_file(target, f, _streams(f.source)[f.stream])
    return counts


def load_interval(interval_start: str, settings: Settings | None = None) -> dict:
    """Load the interval's newest landed file of every stream of the file inputs and enabled
    platforms.

    Read from the landing store rather than from the extract tasks' results, so one
    platform's failed extract (or a broken file input) does not stop the others from
    loading; a source with nothing landed for the interval keeps its rows as they were.
    """
    settings = settings or load_settings()
    day = _day(interval_start)
    sources = {*FILE_SOURCES, *settings.enabled_platforms()}
    files = landing.newest_per_interval(landing.list_files(settings.landing_path, start=day, end=day))
    return load_landed([_describe(f) for f in files if f.source in sources])


def assert_sources_extracted(results: dict[str, object], interval_start: str | None = None) -> None:
    """Fail (after the rest was loaded and published) naming every extract task that failed,
    and every refused input file (from audit.source_runs, when ``interval_start`` is given).

    ``results`` maps an extract task id to its result, None where the task did not succeed.
    """
    failed = sorted(task_id for task_id, value in results.items() if value is None)
    if failed:
        refused = []
        if interval_start is not None:
            with warehouse.resolve().connect() as conn:
                runs = night.for_night(conn, _day(interval_start)).sources
            refused = [f"{r.source}: {r.message}" for r in runs if r.outcome == "refused"]
        raise RuntimeError(
            f"extract task(s) {', '.join(failed)} failed for this interval; the other sources were "
            "loaded. Their logs name the connection or file to fix; then clear those tasks to rerun."
            + "".join(f"\n  refused input {r}" for r in refused)
        )


def replay(start: str, end: str, settings: Settings | None = None) -> dict:
    """Rebuild raw for [start, end] from the landing files alone (newest file per interval)."""
    settings = settings or load_settings()
    files = landing.newest_per_interval(
        landing.list_files(settings.landing_path, start=_day(start), end=_day(end))
    )
    return load_landed([_describe(f) for f in files])


def dbt_vars(as_of: str, settings: Settings | None = None) -> dict:
    settings = settings or load_settings()
    return {**settings.dbt_vars(), "as_of_date": _day(as_of).isoformat()}


def validate(as_of: str, run_id: str, marts_schema: str | None = None) -> dict:
    """Run the GX checkpoint on the marts BI reads, or on a night's build (``marts_schema=
    "marts_build"``, the DAG); raises (failing the task) with every failed expectation named,
    after recording, for a night's build, that its marts are held back."""
    from advocacy import artifacts, marts, quality

    settings = load_settings()
    target = warehouse.resolve()
    schema = marts_schema or marts.PUBLISHED
    # on a throwaway copy of the GX project: its Data Docs are published beside the report
    with artifacts.gx_workspace(as_of, run_id) as gx_root:
        report = quality.run_validation(
            target,
            as_of=_day(as_of),
            run_id=run_id,
            marts_schema=schema,
            gate=settings.gate,
            settings_file=settings.source_file,
            project_root=gx_root,
            # raw checked on the day's own rows; whole tables on the weekly night
            raw_interval=None if settings.gate.checks_whole_raw(_day(as_of)) else _day(as_of),
        )
    if not report.success and schema == marts.BUILD:
        marts.hold_back(target, _day(as_of), run_id, "; ".join(report.failures)[:20000])
    quality.assert_valid(report)
    return report.to_dict()


def publish_marts(as_of: str, run_id: str | None = None, *, passed: bool = True) -> dict:
    """Swap the validated build into the marts BI reads (``advocacy.marts``), or, when the night
    did not pass (``passed`` False: dbt or the gate failed), record it as held back."""
    from advocacy import marts

    target = warehouse.resolve()
    if not passed:
        reason = "the night's dbt build or validation did not pass (see those tasks' logs)"
        return marts.hold_back(target, _day(as_of), run_id, reason, keep_reason=True).to_dict()
    return marts.publish(target, _day(as_of), run_id).to_dict()


def publish(as_of: str, validation: dict | None = None, settings: Settings | None = None) -> str:
    """Write the report and CSVs to the publish location; returns the report's path or URL."""
    from advocacy import report

    settings = settings or load_settings()
    path = report.build_report(warehouse.resolve(), settings, as_of=_day(as_of), validation=validation)
    log.info("report published: %s", path)
    return path


def publish_night(as_of: str, validation: dict | None, published: dict | None) -> str:
    """The night's report (``publish_marts``'s result says which marts BI reads).

    A passing night: its report. A night held back (dbt or the gate failed): a report from
    the marts BI still reads, its header saying the night was held back and which night BI
    shows; then the task fails, so the run is failed and alerts fire. A rerun of an earlier
    night leaves BI on a later night's marts: that night's report is not rewritten.
    """
    from advocacy import report

    if not published:
        raise RuntimeError(f"publish_marts recorded nothing for {as_of}: no report (see its log)")
    if published.get("marts") == "current":
        return publish(as_of, validation)
    shown = published.get("marts_as_of")
    if shown and dt.date.fromisoformat(str(shown)) > _day(as_of):
        log.info("report for %s not republished: the marts BI reads are as of %s", as_of, shown)
        return ""
    settings = load_settings()
    path = report.build_report(warehouse.resolve(), settings, as_of=_day(as_of), force=True)
    raise _permanent(
        RuntimeError(
            f"night {as_of} held back: BI keeps the marts of {shown or 'no earlier night'}; "
            f"the report published at {path} says so. Fix the cause named by the failed task "
            "(dbt or validate), then clear the run."
        )
    )

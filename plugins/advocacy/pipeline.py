"""The nightly pipeline's steps, as plain functions the DAG's tasks call.

Each step takes the interval day (``YYYY-MM-DD``) and returns small JSON-able
values (they travel as XComs), so any worker can run any step: the only state
shared between steps is the warehouse and the landing store.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import logging
from types import ModuleType

from advocacy import checkpoint, inputs, landing, load, quarantine, state, warehouse
from advocacy.connections import get_connection
from advocacy.connectors.base import AuthError
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


def _landed_employee_ids(settings: Settings, day: dt.date) -> frozenset[str] | None:
    """Employee ids of the newest roster landed up to ``day`` (None if there is none)."""
    files = landing.list_files(settings.landing_path, source="roster", end=day)
    if not files:
        return None
    newest = max(files, key=lambda f: (f.interval_start, f.extracted_at))
    return frozenset(json.loads(line)["employee_id"] for _, line in landing.open_lines(newest.path))


def extract_files(interval_start: str, settings: Settings | None = None) -> list[dict]:
    """Land tonight's file inputs: the HR roster (required), sessions and self-reports (optional).

    Each file is a full export, landed whole for the interval; staging reads the
    latest interval, so a rerun or a corrected export simply replaces it. Lines that
    fail their checks are left out and replace the interval's rows of that source in
    ``audit.input_quarantine``. A file that is unusable as a whole (inputs.InputError)
    lands nothing and replaces nothing; the other files still land, then this raises
    naming every refused file.
    """
    settings = settings or load_settings()
    day = _day(interval_start)
    target = warehouse.resolve()
    # until tonight's roster is read, self-reports are checked against the last landed one
    employees = _landed_employee_ids(settings, day)
    landed, refused = [], []
    for (source, stream), (attr, check) in FILE_READERS.items():
        path = getattr(settings, attr)
        if not path:
            log.info("%s.%s: no file configured (inputs in %s)", source, stream, settings.source_file)
            continue
        ctx = inputs.RunContext(latest=day + dt.timedelta(days=1), employees=employees)
        try:
            checked = check(path, ctx)
            # streamed: the check kept only the rejected lines; the records are read again here
            f = landing.write(
                settings.landing_path, source, stream, day, checked.records(), dt.datetime.now(dt.UTC)
            )
        except inputs.InputError as exc:
            log.error("%s.%s refused, its last load stays in place: %s", source, stream, exc)
            refused.append(f"{source}.{stream}: {exc}")
            continue
        if source == "roster":
            employees = frozenset(checked.values("employee_id"))
        for warning in checked.warnings:
            log.warning("%s.%s: %s", source, stream, warning)
        quarantined = quarantine.replace(target, source, stream, day, checked)
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


def advocate_handles(settings: Settings, platform: str, column: str, since: dt.date) -> list[str]:
    """Handles of registered employees on one platform who were still employed on ``since``.

    Leavers stay in until the window has passed their leaving day, so the first
    (history) run and reruns of old days still find the posts they made.
    """
    handles = []
    for row in inputs.read_roster(settings.roster_path):
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
            settings, platform, mod.ROSTER_HANDLE_COLUMN, window_start.date()
        ),
        company_handles=list(psettings.company_handles),
        hashtags=list(settings.hashtags),
        company_domains=list(settings.company_domains),
        window_start=window_start,
        window_end=window_end,
        lookback_ids=lookback_ids,
        progress=log.info,
    )
    try:
        if "checkpoint" in inspect.signature(mod.extract).parameters:
            # completed responses are journaled, so a retry of this task resumes there
            with checkpoint.opened(target, platform, day, (window_start, window_end)) as cp:
                streams = mod.extract(conn, checkpoint=cp, **kwargs)
        else:
            streams = mod.extract(conn, **kwargs)
    except AuthError as exc:
        raise _permanent(exc) from exc
    extracted_at = dt.datetime.now(dt.UTC)
    landed = []
    for stream in mod.STREAMS:  # every declared stream, empty or not, so reruns replace
        f = landing.write(settings.landing_path, platform, stream, day, streams.get(stream, []), extracted_at)
        landed.append(_describe(f))
        log.info("%s.%s: %s records landed", platform, stream, f.records)
    state.record_window(target, platform, day, window_start, window_end)
    checkpoint.clear(target, platform, day)  # landed: a later run starts from fresh counters
    return landed


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


def assert_sources_extracted(results: dict[str, object]) -> None:
    """Fail (after the rest was loaded and published) naming every extract task that failed.

    ``results`` maps an extract task id to its result, None where the task did not succeed.
    """
    failed = sorted(task_id for task_id, value in results.items() if value is None)
    if failed:
        raise RuntimeError(
            f"extract task(s) {', '.join(failed)} failed for this interval; the other sources were "
            "loaded. Their logs name the connection or file to fix; then clear those tasks to rerun."
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
    from advocacy import marts, quality

    settings = load_settings()
    target = warehouse.resolve()
    schema = marts_schema or marts.PUBLISHED
    report = quality.run_validation(
        target,
        as_of=_day(as_of),
        run_id=run_id,
        marts_schema=schema,
        gate=settings.gate,
        settings_file=settings.source_file,
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
    """The night's report, when the night's marts are what BI reads (``publish_marts``'s result).

    A rerun of an earlier night leaves BI on a later night's marts: its report is not
    rewritten from them (the report of that night stays as it was published).
    """
    if not published or published.get("marts") != "current":
        shown = (published or {}).get("marts_as_of")
        log.info("report for %s not republished: the marts BI reads are as of %s", as_of, shown)
        return ""
    return publish(as_of, validation)

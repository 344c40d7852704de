"""``build_report``: read the marts, render the page and CSVs, publish, update the index."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from advocacy.quality.catalog import MARTS
from advocacy.report.data import TOP_N, MartReader, Periods
from advocacy.report.i18n import LANGUAGES, N_
from advocacy.report.publish import Publisher
from advocacy.report.render import (
    Page,
    ReportLanguage,
    Status,
    night_summary,
    render_index,
    render_report,
)
from advocacy.settings import Settings
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)


class ValidationNotPassed(RuntimeError):
    """The run's validation failed: its report is not published (docs/metrics.md, "Published reports")."""


def validation_status(validation, reader: MartReader) -> Status:
    """From the gate's result (a ``ValidationReport`` or its XCom dict) or ``audit.validation_runs``."""
    if validation is None:
        latest = reader.latest_validation()
        if latest is None:
            return Status("unknown", N_("Not validated"), "no validation run recorded for this as-of date")
        success, detail = bool(latest["success"]), f"run {latest['run_id']}"
    elif isinstance(validation, dict):
        success, detail = bool(validation.get("success")), str(validation.get("run_id") or "")
    else:
        success, detail = bool(validation.success), str(getattr(validation, "run_id", ""))
    if success:
        return Status("passed", N_("Validation passed"), detail)
    return Status("failed", N_("Validation failed"), detail)


def build_report(
    target: WarehouseTarget,
    settings: Settings,
    *,
    as_of: dt.date,
    validation=None,
    publish_root: str | None = None,
    force: bool = False,
    night=None,
    headline: str | None = None,
) -> str:
    """Publish the report of ``as_of`` under ``<publish_root>/<as_of>/``; returns its index path / URL.

    ``validation`` is the gate's result for this run (``ValidationReport`` or the
    dict the pipeline passes on); without it the latest run recorded for the
    as-of date in ``audit.validation_runs`` is used. A failed validation is
    refused (``ValidationNotPassed``) unless ``force``.

    ``night`` (``advocacy.night.NightStatus``) is what the night loaded per source and
    whether BI's marts are this night's; without it the outcomes recorded for
    ``as_of`` in ``audit.source_runs`` are shown, if any. ``headline`` overrides
    settings.report.headline (``last_complete_month`` or ``month_to_date``).
    """
    options = settings.report
    if options.language not in LANGUAGES:
        raise ValueError(
            f"{settings.source_file}: report.language {options.language!r} is not one of "
            f"{', '.join(LANGUAGES)}"
        )
    periods = Periods(as_of, headline or options.headline)
    if periods.headline not in ("last_complete_month", "month_to_date"):
        raise ValueError(
            f"{settings.source_file}: report.headline {periods.headline!r} must be "
            "last_complete_month or month_to_date"
        )
    lang = ReportLanguage(options.language, options.locale, options.currency)
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # staged: the report's files are put in place together, when the manifest records it
    publisher = Publisher(publish_root or settings.publish_path, staged=True)
    folder = as_of.isoformat()
    with target.connect() as conn:
        reader = MartReader(conn, as_of, periods.month, settings.timezone)
        status = validation_status(validation, reader)
        if night is None:
            night = _recorded_night(conn, as_of)
        night = _with_artifacts(night, publish_root or settings.publish_path, as_of)
        if status.state == "failed" and not force:
            raise ValidationNotPassed(
                f"validation of {as_of} failed ({status.detail}): the report is not published"
            )
        present = [m for m in MARTS if reader.has(m.table)]
        csvs = []
        for mart in present:
            if mart.csv:
                name = f"{mart.table}.csv"
                publisher.write(f"{folder}/{name}", reader.csv(mart))
                csvs.append(name)
        by_summary = {m.summary: m for m in present if m.summary}
        scorecard = by_summary.get("scorecard")
        to_date, same_days = None, None
        if not periods.current_complete:
            current_row, _ = reader.scorecard(scorecard, periods.current)
            if current_row and current_row["month"] == periods.current:
                to_date = current_row
            same_days = reader.same_days(periods)
        page = Page(
            programme=settings.name,
            as_of=as_of,
            month=periods.month,
            generated_at=generated_at,
            status=status,
            periods=periods,
            to_date=to_date,
            same_days=same_days,
            night=night,
            scorecard=reader.scorecard(scorecard, periods.last_complete),
            trends=[reader.trend(m) for m in present if m.chart],
            top=reader.as_of_month_rows(by_summary["top"], "t.rank", TOP_N) if "top" in by_summary else [],
            rankings=[
                (
                    m,
                    reader.as_of_month_rows(
                        m, "t.rank, t.employee_id" if m.per_employee else "t.rank", TOP_N
                    ),
                )
                for m in present
                if m.summary == "ranking"
            ],
            winner=reader.contest_winner(by_summary.get("top")),
            reach=_month_rows(reader, by_summary.get("reach")),
            engagement=_month_rows(reader, by_summary.get("engagement")),
            referrals=_month_rows(reader, by_summary.get("referrals")),
            campaigns=_ranked(reader, by_summary.get("campaigns"), "t.sessions desc, t.campaign, t.platform"),
            referrers=_ranked(reader, by_summary.get("referrers"), "t.sessions desc, t.conversions desc"),
            earned_media=_month_rows(reader, by_summary.get("earned_media")),
            freshness=reader.freshness(by_summary.get("freshness")),
            csvs=csvs,
            missing=[m for m in MARTS if m.csv and m not in present],
        )
    publisher.write(f"{folder}/index.html", render_report(page, lang))
    entry = {
        "as_of": folder,
        "path": f"{folder}/index.html",
        "status": status.state,
        "status_label": status.label,
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
    }
    summary = night_summary(night, status)
    if summary:
        entry["night"] = summary
    reports = publisher.record(entry)
    publisher.write("index.html", render_index(settings.name, reports, lang))
    url = publisher.url(folder, "index.html")
    log.info("report for %s published: %s (%s CSVs, %s)", as_of, url, len(csvs), status.label)
    return url


def _with_artifacts(night, publish_root: str, as_of: dt.date):
    """The night's dbt results and Data Docs published beside the report (``advocacy.artifacts``),
    linked from its header; a listing that fails never stops the report."""
    from advocacy import artifacts
    from advocacy import night as nights

    if night is not None and night.artifacts:
        return night
    try:
        links = artifacts.links(publish_root, as_of)
    except Exception as exc:  # noqa: BLE001 - a missing link is not worth a missing report
        log.warning("artifacts of %s not listed: %s", as_of, exc)
        return night
    if not links:
        return night
    return dataclasses.replace(night or nights.NightStatus(as_of), artifacts=links)


def _recorded_night(conn, as_of: dt.date):
    """The night's outcomes from ``audit.source_runs`` when the caller passed none (or None)."""
    from advocacy import night as nights

    found = nights.for_night(conn, as_of)
    if isinstance(found, nights.NightStatus):
        return found if found.sources or found.marts != "current" else None
    return nights.NightStatus(as_of, tuple(found)) if found else None


def _month_rows(reader: MartReader, mart) -> list[dict]:
    if mart is None:
        return []
    return reader.as_of_month_rows(mart, "t.platform = 'ALL' desc, t.platform")


def _ranked(reader: MartReader, mart, order: str) -> list[dict]:
    """The as-of month's top rows of ``mart`` (identities masked for per-employee marts)."""
    if mart is None:
        return []
    tie = ", t.employee_id" if mart.per_employee else ""
    return reader.as_of_month_rows(mart, order + tie, TOP_N)

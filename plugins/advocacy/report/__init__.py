"""The published report: reads ``marts``, renders one self-contained HTML file and the KPI CSVs.

* ``build_report(target, settings, *, as_of, validation=None, publish_root=None, night=None)
  -> str`` writes ``<publish root>/<as_of>/index.html`` + ``kpi_*.csv`` through fsspec and
  refreshes ``<publish root>/index.html`` (all reports, newest first);
* ``human_number`` / ``percent``: English shorthands of ``formatting.Formats`` (1.2K, 53.1%).

The page headlines the last complete month (or, by settings, the month to date), in
the settings' language (en, nb, it: gettext catalogs under ``locale/``) and locale
formats (Babel), from Jinja2 templates under ``templates/``; see README.md here.

Which marts appear, with which chart and CSV, comes from
``advocacy.quality.catalog`` (the same list the validation gate uses).
Sections: scorecard, where the programme stands against the research
benchmarks, 12-month trends, top contributors with the monthly contest
winner, one card per platform, teams and the points leaderboard, reach,
engagement, referral traffic (per platform against the pre-programme
baseline, per campaign, top referring advocates), earned media value (at
example rates), data freshness and the CSVs. A section whose mart is not
built yet is left out and named under "Data".
"""

from __future__ import annotations

from advocacy.report.formatting import human_number, percent

__all__ = ["ValidationNotPassed", "build_report", "human_number", "percent"]


def __getattr__(name: str):
    # imported on first use: `python -m advocacy.report.i18n` then runs without the whole report
    if name in ("ValidationNotPassed", "build_report"):
        from advocacy.report import build

        return getattr(build, name)
    raise AttributeError(f"module 'advocacy.report' has no attribute {name!r}")

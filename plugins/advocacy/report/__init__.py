"""The published report: reads ``marts``, renders one self-contained HTML file and the KPI CSVs.

* ``build_report(target, settings, *, as_of, validation=None, publish_root=None) -> str``
  writes ``<publish root>/<as_of>/index.html`` + ``kpi_*.csv`` through fsspec and
  refreshes ``<publish root>/index.html`` (all reports, newest first);
* ``human_number`` / ``percent``: the report's number formats (1.2k, 53.1%).

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

from advocacy.report.build import ValidationNotPassed, build_report
from advocacy.report.formatting import human_number, percent

__all__ = ["ValidationNotPassed", "build_report", "human_number", "percent"]

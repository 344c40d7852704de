"""The validation gate (Great Expectations) between dbt and the published report.

Public API (Great Expectations itself is imported inside the functions, so
importing this package is cheap and safe at DAG parse time):

* ``run_validation(target, *, as_of, run_id, data_docs=True) -> ValidationReport``
* ``assert_valid(report)`` raises ``ValidationFailed`` listing every failed expectation
* ``sync_project(target=None)`` writes the catalog's suites into ``expectations/gx/``

What is checked lives in ``catalog.py`` (one entry per table) and ``suites.py``.
"""

from __future__ import annotations

from advocacy.quality.project import sync_project
from advocacy.quality.runner import (
    TableResult,
    ValidationFailed,
    ValidationReport,
    assert_valid,
    run_validation,
)

__all__ = [
    "TableResult",
    "ValidationFailed",
    "ValidationReport",
    "assert_valid",
    "run_validation",
    "sync_project",
]

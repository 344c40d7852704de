"""Airflow imports every .py under plugins/ as a top-level module named after the file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "advocacy"
OURS = sorted([*(PACKAGE / "quality").glob("*.py"), *(PACKAGE / "report").glob("*.py")])


@pytest.mark.parametrize("path", OURS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_file_would_shadow_the_standard_library_inside_airflow(path):
    # e.g. report/html.py would become sys.modules["html"] in every Airflow process,
    # and a __main__.py would run its command line (and exit) there.
    assert path.stem != "__main__"
    assert path.stem not in sys.stdlib_module_names

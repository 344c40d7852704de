"""Fixtures for the validation gate: a copy of the committed GX project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "expectations"


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    """The committed project copied aside, so runs write results and Data Docs into tmp."""
    root = tmp_path_factory.mktemp("expectations")
    shutil.copytree(COMMITTED / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    return root

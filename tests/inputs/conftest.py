"""Fixtures of the file-input tests: real files in the test's tmp_path."""

from __future__ import annotations

import pytest
from input_files import InputFiles


@pytest.fixture
def files(tmp_path) -> InputFiles:
    return InputFiles(tmp_path)

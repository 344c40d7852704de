"""Shared fixtures of the connector tests for the platforms beyond X (one company per session)."""

from __future__ import annotations

import datetime as dt

import pytest
from advocacy.sandbox.company import Company

SOCIAL_NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def social_company() -> Company:
    return Company()


@pytest.fixture(scope="session")
def social_truth(social_company) -> dict:
    return social_company.ground_truth(SOCIAL_NOW, "all")

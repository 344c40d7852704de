"""What every whole-pipeline test sets up the same way: a fresh database, the demo programme
with its files under a test folder, and a digest of the KPI marts to compare runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml
from advocacy.settings import DEMO_SETTINGS
from advocacy.warehouse import WarehouseTarget

# Every docs/metrics.md mart a BI tool reads (fct_source_freshness carries load times: left out).
MARTS = [
    "dim_employee", "fct_posts", "fct_post_engagement_daily", "kpi_adoption_monthly",
    "kpi_participation_monthly", "kpi_top_contributors_monthly", "kpi_team_contributors_monthly",
    "kpi_reach_monthly", "kpi_engagement_monthly", "kpi_referrals_monthly",
    "kpi_referrals_by_employee_monthly", "kpi_referrals_by_campaign_monthly", "kpi_leaderboard_monthly",
    "kpi_earned_media_monthly", "kpi_programme_scorecard_monthly",
]  # fmt: skip


def fresh_database(pg_server, prefix: str) -> WarehouseTarget:
    """A new empty database on the test server (dropped with the server at the session's end)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with pg_server.connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return WarehouseTarget(**{**pg_server.__dict__, "dbname": name})


def demo_programme(tmp: Path) -> Path:
    """The demo programme's settings file, its inputs, landing and publish folders under ``tmp``."""
    settings = yaml.safe_load(DEMO_SETTINGS.read_text())
    settings["inputs"] = {
        "roster": str(tmp / "roster.csv"),
        "sessions": str(tmp / "sessions.csv"),
        "self_reports": str(tmp / "self_reports.csv"),
        "landing": str(tmp / "landing"),
        "publish": str(tmp / "reports"),
    }
    path = tmp / "programme.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


def fingerprint(target: WarehouseTarget, marts: list[str] = MARTS) -> dict[str, str]:
    """An order-independent digest of every row of each mart."""
    out = {}
    with target.connect() as conn:
        for m in marts:
            out[m] = conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{m} t"
            ).fetchone()[0]
    return out

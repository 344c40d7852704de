"""No credential in the extract checkpoints a failed attempt leaves in the warehouse.

``audit.extract_checkpoints`` journals every completed API response of an
extract so that a retry resumes; it is cleared once the interval has landed,
so a successful nightly run (test_nightly_security.py) never shows it. Here
the clearing is switched off, as after an attempt that failed, and the
journal of every platform's extract is searched for the tokens (and for
Bluesky's session JWTs, which the journal must never hold).
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from advocacy import checkpoint, pipeline
from advocacy import platforms as registry
from advocacy.sandbox.server import running_sandbox
from advocacy.settings import DEMO_SETTINGS

from . import checks

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 22)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)


def test_checkpoint_journal_holds_no_token(warehouse, tmp_path, monkeypatch):
    settings = yaml.safe_load(DEMO_SETTINGS.read_text())
    settings["inputs"] = {"roster": str(tmp_path / "roster.csv"), "landing": str(tmp_path / "landing"),
                          "publish": str(tmp_path / "reports")}  # fmt: skip
    (tmp_path / "programme.yml").write_text(yaml.safe_dump(settings))
    monkeypatch.setenv("ADVOCACY_SETTINGS", str(tmp_path / "programme.yml"))
    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    monkeypatch.setattr(checkpoint, "clear", lambda *a, **k: 0)  # as if the attempt had failed
    with running_sandbox(
        now=CLOCK,
        roster_path=str(tmp_path / "roster.csv"),
        bearer_token=checks.TOKENS["x"],
        tokens=checks.TOKENS,
    ) as sandbox:
        connections = checks.sandbox_connections(sandbox)
        for env, value in connections.items():
            monkeypatch.setenv(env, value)
        pipeline.prepare()
        for platform in registry.names():
            pipeline.extract_platform(platform, DAY.isoformat())
    member_tokens = set()
    for value in connections.values():
        member_tokens |= set(yaml.safe_load(value)["extra"].get("member_tokens", {}).values())
    assert member_tokens

    with warehouse.connect() as conn:
        rows = conn.execute("select source, count(*) from audit.extract_checkpoints group by 1").fetchall()
        journal = conn.execute(
            "select coalesce(string_agg(t::text, E'\\n'), '') from audit.extract_checkpoints t"
        ).fetchone()[0]
    assert {s for s, _ in rows} == set(registry.names())  # every platform's extract journaled
    found = checks.leaks(journal, [*checks.TOKENS.values(), *member_tokens])
    found += checks.SESSION_JWT.findall(journal)  # Bluesky's search session: never journaled
    assert found == [], f"{len(found)} credentials in audit.extract_checkpoints, e.g. {found[:2]}"

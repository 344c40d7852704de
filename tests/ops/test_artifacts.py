"""A night's artifacts land beside its report (dbt run results and manifest, GX Data Docs), the
report gets their links, and nothing is written into the source tree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from advocacy import artifacts, pipeline
from advocacy.settings import load_settings
from e2e import harness

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 22)
RUN_ID = "manual__2026-11-23T03:00:00+00:00"


def _tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()


@pytest.fixture
def programme(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVOCACY_SETTINGS", str(harness.demo_programme(tmp_path)))
    return load_settings()


def test_dbt_run_results_and_manifest_are_published_for_the_run(programme, tmp_path):
    project = tmp_path / "cosmos-tmp-project"  # what Cosmos hands its callback
    (project / "target").mkdir(parents=True)
    (project / "target" / "run_results.json").write_text(json.dumps({"results": [{"status": "success"}]}))
    (project / "target" / "manifest.json").write_text(json.dumps({"nodes": {}}))

    class TI:
        task_id, run_id = "dbt.build", RUN_ID

    published = artifacts.dbt_callback(
        str(project), context={"ti": TI(), "run_id": RUN_ID, "ds": "2026-11-22"}
    )
    assert len(published) == 2
    night = Path(programme.publish_path) / "2026-11-22"
    slug = artifacts.run_slug(RUN_ID)
    assert json.loads((night / "artifacts" / slug / "dbt" / "build" / "run_results.json").read_text())
    assert artifacts.links(programme.publish_path, DAY) == {
        "dbt run results": f"artifacts/{slug}/dbt/build/run_results.json",
        "dbt manifest": f"artifacts/{slug}/dbt/build/manifest.json",
    }
    assert artifacts.links(programme.publish_path, DAY, "another-run") == {}


def test_the_gate_publishes_its_data_docs_and_writes_nothing_in_the_checkout(
    programme, warehouse, monkeypatch
):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("ADVOCACY_WAREHOUSE_URL", warehouse.url)
    pipeline.prepare(programme)  # raw tables exist (empty); no marts: the gate fails, docs still built
    uncommitted = REPO / "expectations" / "gx" / "uncommitted"
    before = _tree(uncommitted)
    with pytest.raises((AirflowFailException, Exception)) as failed:
        pipeline.validate("2026-11-22", RUN_ID)
    assert "no mart table" in str(failed.value)
    assert _tree(uncommitted) == before  # nothing new in the source tree
    links = artifacts.links(programme.publish_path, DAY, RUN_ID)
    href = links["Data Docs (Great Expectations)"]
    index = Path(programme.publish_path) / "2026-11-22" / href
    assert index.is_file() and "validation" in index.read_text().lower()
    assert not list((Path(programme.publish_path).parent).glob("gx-runs/*"))


def test_dbt_parse_writes_its_target_and_logs_outside_the_checkout():
    from advocacy import orchestration

    assert orchestration.MANIFEST.is_relative_to(Path(orchestration.advocacy_home()))
    assert not orchestration.DBT_TARGET.is_relative_to(REPO / "dbt_project")

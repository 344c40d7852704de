"""Every DAG file imports cleanly, quickly, with retries and tags, and no heavy top-level imports."""

import ast
import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
HEAVY = {"great_expectations", "pandas", "dbt", "tweepy", "facebook", "requests", "psycopg", "sqlalchemy"}


@pytest.fixture(scope="module")
def dagbag(dbt_manifest):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS))
    bag.parse_seconds = time.perf_counter() - started
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "advocacy_nightly" in dagbag.dags


def test_retries_tags_and_docs(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        for t in dag.tasks:
            # a failed expectation fails again: no retry, no publish; sources_complete only
            # reports the extract tasks' outcome, which a retry cannot change
            if t.task_id in ("validate", "sources_complete"):
                assert t.retries == 0
            else:
                assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_nightly_shape(dagbag):
    dag = dagbag.dags["advocacy_nightly"]
    ids = set(dag.task_ids)
    steps = {"prepare_warehouse", "extract_files", "extract_x", "load_raw", "validate"}
    steps |= {"publish_report", "sources_complete"}
    assert steps <= ids
    for t in dag.tasks:  # each platform's API budget is one pool, shared by every worker
        if t.task_id.startswith("extract_") and t.task_id != "extract_files":
            assert t.pool == t.task_id.removeprefix("extract_") + "_api", t.task_id
    # one platform failing must not stop the others loading, nor hide the failure
    assert dag.get_task("load_raw").trigger_rule == "all_done"
    assert set(dag.get_task("sources_complete").upstream_task_ids) == {"load_raw"}
    assert any(i.startswith("dbt.") for i in ids)
    assert dag.catchup is False
    publish = dag.get_task("publish_report")
    assert "validate" in publish.upstream_task_ids
    validate = dag.get_task("validate")
    assert all(u.startswith("dbt.") for u in validate.upstream_task_ids)


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_stay_thin(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:  # top level only: tasks import what they need inside
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        for n in names:
            assert n.split(".")[0] not in HEAVY, f"{path.name} imports {n} at top level"


@pytest.mark.parametrize("mode", ["build", "model"])
def test_dbt_runs_as_one_build_or_one_task_per_model(dbt_manifest, mode):
    import pendulum
    from advocacy.orchestration import dbt_task_group
    from advocacy.settings import load_settings
    from airflow.sdk import DAG

    with DAG(f"probe_{mode}", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        dbt_task_group("dbt", {**load_settings().dbt_vars(), "as_of_date": "{{ ds }}"}, mode=mode)
    ids = [t for t in dag.task_ids if t.startswith("dbt.")]
    if mode == "build":
        assert ids == ["dbt.build"]
    else:  # every model of every enabled platform, with its tests
        assert len(ids) > 40 and "dbt.stg_linkedin__posts_model_build" in ids
    assert all(dag.get_task(t).retries == 1 for t in ids)

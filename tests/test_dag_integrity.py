"""Every DAG file imports cleanly, quickly, with retries and tags, and no heavy top-level imports."""

import ast
import json
import os
import subprocess
import sys
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
    steps |= {"publish_marts", "publish_report", "sources_complete"}
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
    # after the swap (or the held-back record), also when the night failed: the report says so
    assert publish.upstream_task_ids == {"publish_marts"} and publish.trigger_rule == "all_done"
    validate = dag.get_task("validate")
    assert all(u.startswith("dbt.") for u in validate.upstream_task_ids)
    # write, audit, publish: BI's marts are replaced only after the gate, and a failed night
    # is still recorded as held back
    swap = dag.get_task("publish_marts")
    assert swap.upstream_task_ids == {"validate"} and swap.trigger_rule == "all_done"
    assert "publish_marts" in publish.upstream_task_ids
    assert dag.get_task("dbt.build").vars["marts_schema"] == "marts_build"


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


# What parsing one DAG file imports, in a fresh interpreter after ``import airflow`` (as a
# dag-processor child): the modules it adds, of the packages a DAG parse must not pull in.
_PARSE_PROBE = """
import json, sys
import airflow
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
heavy = set(sys.argv[2].split(","))
added = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy)
print(json.dumps({"errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "added": added}))
"""


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_parsing_imports_neither_cosmos_nor_dbt_in_the_default_mode(dbt_manifest, path):
    """The default mode's dbt task imports Cosmos when it runs (dbt_build.py), not at parse.

    (Airflow's provider discovery may load ``cosmos.constants`` with ``import airflow``:
    only what the DAG file's parse adds counts.) ``ADVOCACY_DBT_TASKS=model`` renders one
    task per model through Cosmos at parse, so it is not held to this.
    """
    env = {k: v for k, v in os.environ.items() if k != "ADVOCACY_DBT_TASKS"}
    heavy = sorted(HEAVY | {"cosmos", "dbt", "openlineage"})
    out = subprocess.run([sys.executable, "-c", _PARSE_PROBE, str(path), ",".join(heavy)], env=env,
                         capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["added"] == [], f"parsing {path.name} imports {result['added'][:10]}"


def test_the_build_task_hands_its_rendered_values_to_cosmos(dbt_manifest, monkeypatch):
    """Templated vars rendered on the task, then Cosmos's DbtBuildLocalOperator run with them."""
    import pendulum
    from advocacy.dbt_build import CosmosDbtBuildOperator
    from advocacy.orchestration import WAREHOUSE_CONN_ID, dbt_task_group
    from advocacy.settings import load_settings
    from airflow.sdk import DAG
    from airflow.sdk.bases.operator import ExecutorSafeguard
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    dbt_vars = {**load_settings().dbt_vars(), "as_of_date": "{{ ds }}"}
    with DAG("probe_render", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        dbt_task_group("dbt", dbt_vars, mode="build")
    task = dag.get_task("dbt.build")
    assert isinstance(task, CosmosDbtBuildOperator)
    assert {"vars", "env"} <= set(task.template_fields)
    task.render_template_fields({"ds": "2026-11-22"})
    assert task.vars["as_of_date"] == "2026-11-22"

    dbt = task.cosmos_operator()
    assert isinstance(dbt, DbtBuildLocalOperator)
    assert dbt.vars == task.vars and dbt.env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert dbt.project_dir == task.project_dir and dbt.invocation_mode == InvocationMode.DBT_RUNNER
    assert dbt.append_env and not dbt.install_deps and not dbt.emit_datasets
    assert dbt.dbt_cmd_flags == ["--exclude-resource-type", "unit_test"]  # CI runs them, not the night
    mapping = dbt.profile_config.profile_mapping
    assert isinstance(mapping, PostgresUserPasswordProfileMapping) and mapping.conn_id == WAREHOUSE_CONN_ID

    ran = {}

    def build_and_run_cmd(context, cmd_flags=None, **kwargs):  # dbt itself: tests/e2e
        ran.update(context=context, vars=dbt.vars, runner=ExecutorSafeguard.tracker.get(None))
        dbt.compiled_sql, dbt.overwrite_rtif_after_execution = "-- models/x.sql\nselect 1", True

    dbt.build_and_run_cmd = build_and_run_cmd
    monkeypatch.setattr(CosmosDbtBuildOperator, "cosmos_operator", lambda self: dbt)
    context = {"ds": "2026-11-22", "run_id": "probe"}
    task.execute(context)
    assert ran["context"] is context and ran["vars"]["as_of_date"] == "2026-11-22"
    assert ran["runner"] is dbt  # no "cannot be called outside of the Task Runner" warning
    assert task.compiled_sql.startswith("-- models/x.sql") and task.overwrite_rtif_after_execution

"""Shared Airflow pieces for the DAG files: defaults and the Cosmos dbt configuration.

Kept out of the DAG files so they stay a readable diagram; imported at DAG
parse time, so only cheap imports at module level. In the default mode parsing
the DAG imports neither Cosmos nor dbt (``dbt_build.CosmosDbtBuildOperator``
imports Cosmos when the task runs); ``ADVOCACY_DBT_TASKS=model`` needs Cosmos at
parse to render one task per model.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from advocacy import warehouse_guard
from advocacy.alerts import remember_failure
from advocacy.settings import advocacy_home

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = Path(os.environ.get("ADVOCACY_DBT_PROJECT", REPO / "dbt_project"))

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
    # no task may hold its pool slot for hours: a stuck call fails the try (and is retried)
    "execution_timeout": dt.timedelta(hours=1),
    # the task's error, kept for the night's failure alert (the DAG callback is not handed it)
    "on_failure_callback": remember_failure,
    # the warehouse answers before a task starts (the embedded one is started again), or the
    # task fails at once naming it; a connection lost mid-task is retried after seconds
    "pre_execute": warehouse_guard.pre_execute,
    "retry_policy": warehouse_guard.retry_policy(),
}

#: Per-task ceilings (``execution_timeout``), each well above what a large night measures
#: (README, benchmark): a task over it is stuck, not slow.
TIMEOUTS = {
    "preflight": dt.timedelta(minutes=5),
    "prepare_warehouse": dt.timedelta(minutes=10),
    "extract_files": dt.timedelta(minutes=30),
    "extract_platform": dt.timedelta(hours=1),
    "load_raw": dt.timedelta(minutes=30),
    "sources_complete": dt.timedelta(minutes=5),
    "dbt": dt.timedelta(hours=1),
    "validate": dt.timedelta(minutes=30),
    "publish_marts": dt.timedelta(minutes=15),
    "publish_report": dt.timedelta(minutes=15),
}


# dbt's own target/ and logs/ of `dbt parse` (the manifest Cosmos renders from): under the
# local state folder, never in the checkout (ADVOCACY_DBT_TARGET overrides, e.g. in an image).
DBT_TARGET = Path(os.environ.get("ADVOCACY_DBT_TARGET") or advocacy_home() / "dbt" / "target")
DBT_LOGS = DBT_TARGET.parent / "logs"
MANIFEST = DBT_TARGET / "manifest.json"
# The vars the manifest was parsed with: which platforms' staging folders are enabled
# decides which models exist, so a manifest parsed for other settings must not be used.
MANIFEST_VARS = DBT_TARGET / "manifest_vars.json"
# Cosmos runs dbt in a temporary copy of the project; this publishes the run's
# run_results.json and manifest.json beside the night's report (artifacts.py).
DBT_ARTIFACTS_CALLBACK = "advocacy.artifacts.dbt_callback"


def parse_vars(dbt_vars: dict) -> str:
    """The settings part of dbt's vars (the run date and the marts' build schema do not change
    the graph), as stable JSON."""
    return json.dumps(
        {k: v for k, v in dbt_vars.items() if k not in ("as_of_date", "marts_schema")}, sort_keys=True
    )


def manifest_matches(dbt_vars: dict) -> bool:
    return MANIFEST.exists() and MANIFEST_VARS.exists() and MANIFEST_VARS.read_text() == parse_vars(dbt_vars)


#: How the DAG runs dbt: ``build`` (default) = one Cosmos ``dbt build`` task for the whole
#: project; ``model`` = one Cosmos task per model (with its tests). dbt skips everything
#: downstream of a failed model or test either way; per-model tasks add Airflow-level
#: visibility and retries at ~3-5 s of dbt start-up each (about 60 tasks with four platforms).
#: ``model`` renders through Cosmos at parse (its import and the manifest's ~440 nodes): about
#: 0.6 s first parse here, over the 0.5 s budget that ``build`` (about 0.03-0.05 s) meets.
DBT_TASKS_ENV = "ADVOCACY_DBT_TASKS"


WAREHOUSE_CONN_ID = "advocacy_warehouse"


def profile_config():
    """dbt's profile, mapped by Cosmos from the ``advocacy_warehouse`` connection when dbt runs.

    Imports Cosmos: call it at task run time (``CosmosDbtBuildOperator.execute``) or, in
    ``model`` mode, while rendering the task group.
    """
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return ProfileConfig(
        profile_name="advocacy",
        target_name="airflow",
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "staging", "threads": 2}
        ),
    )


# dbt failures are data or code problems; one quick retry covers a dropped connection.
DBT_RETRY_ARGS = {
    **DEFAULT_ARGS,
    "retries": 1,
    "retry_delay": dt.timedelta(seconds=30),
    "execution_timeout": TIMEOUTS["dbt"],
}
DBT_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
# dbt unit tests check the models' SQL on fixed inputs, so the nightly would only repeat what
# CI (tests/dbt) proves: dbt's docs recommend them for development and CI only. Data tests run.
NIGHTLY_DBT_FLAGS = ["--exclude-resource-type", "unit_test"]


def dbt_task_group(group_id: str, dbt_vars: dict, *, mode: str | None = None, **kwargs):
    """dbt build of the whole project as an Airflow task group, through astronomer-cosmos.

    ``mode`` (default: env ``ADVOCACY_DBT_TASKS``, else ``build``): ``build`` runs one
    ``dbt build`` task (``<group_id>.build``); ``model`` renders one task per model
    (TestBehavior.BUILD), from the manifest (``dbt parse``) when it was parsed with these
    settings (``advocacy`` commands parse it before a run; it keeps DAG parsing fast),
    otherwise Cosmos lists the project with ``dbt ls``. Either way a failing test stops
    everything downstream of its model. The profile comes from the ``advocacy_warehouse``
    connection.
    """
    mode = mode or os.environ.get(DBT_TASKS_ENV, "build")
    if mode not in ("build", "model"):
        raise ValueError(f"{DBT_TASKS_ENV}={mode!r}: use 'build' (one dbt build task) or 'model'")

    if mode == "build":
        # Cosmos's DbtBuildLocalOperator, created inside the task (dbt_build.py): parsing the
        # DAG imports neither Cosmos nor dbt
        from airflow.sdk import TaskGroup

        from advocacy.dbt_build import CosmosDbtBuildOperator

        with TaskGroup(group_id=group_id, tooltip="dbt build: staging, intermediate, marts") as group:
            CosmosDbtBuildOperator(
                task_id="build",
                project_dir=str(DBT_PROJECT),
                vars=dbt_vars,
                env=DBT_ENV,
                invocation_mode="dbt_runner",
                cosmos_args={
                    "append_env": True,
                    "install_deps": False,
                    "emit_datasets": False,
                    "dbt_cmd_flags": NIGHTLY_DBT_FLAGS,
                    "callback": DBT_ARTIFACTS_CALLBACK,
                },
                **DBT_RETRY_ARGS,
            )
        return group

    # One task per model: Cosmos renders the group from the manifest (or dbt ls) at parse time
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior

    manifest = MANIFEST if manifest_matches(dbt_vars) else None
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            DBT_PROJECT, manifest_path=manifest, dbt_vars=dbt_vars, env_vars=DBT_ENV
        ),
        profile_config=profile_config(),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if manifest else LoadMode.DBT_LS,
            test_behavior=TestBehavior.BUILD,
            # A test spanning two models (relationships) gets its own task after both,
            # instead of running with the first model before the second exists.
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={"install_deps": False, "callback": DBT_ARTIFACTS_CALLBACK},
        default_args=DBT_RETRY_ARGS,
        **kwargs,
    )

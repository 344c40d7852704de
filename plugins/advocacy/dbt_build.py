"""The DAG's ``dbt build`` task: Cosmos's ``DbtBuildLocalOperator``, created when the task runs.

Importing ``cosmos.operators.local`` at DAG parse cost a fresh dag-processor child
0.15-0.4 s here (its config and cache modules, and the full garbage collection that many
new objects trigger), most of the DAG file's first parse (0.03-0.05 s without it). This
operator holds only plain values (the project folder, dbt's vars and env, Cosmos's
arguments), so its module imports nothing beyond Airflow's ``BaseOperator``;
``execute()`` imports Cosmos, builds the profile from the ``advocacy_warehouse``
connection (``orchestration.profile_config``) and runs Cosmos's operator with the
rendered values. dbt therefore still runs through Cosmos (its dbtRunner invocation,
profile mapping, logging and error handling), in the task's own process and log.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator


class CosmosDbtBuildOperator(BaseOperator):
    """``dbt build`` of ``project_dir`` through ``cosmos.operators.local.DbtBuildLocalOperator``.

    ``vars`` and ``env`` are templated (e.g. ``{"as_of_date": "{{ ds }}"}``); Airflow renders
    them on this task before ``execute()`` hands them to Cosmos. ``cosmos_args`` are passed
    to Cosmos's operator as they are (``install_deps``, ``append_env``, ``emit_datasets``,
    ...). Retries, pools and callbacks are this task's own, as for any operator. After the
    run, the compiled SQL Cosmos collected is this task's rendered ``compiled_sql`` field, as
    it would be on Cosmos's own task.
    """

    template_fields = ("vars", "env", "compiled_sql")
    template_fields_renderers = {"vars": "json", "env": "json", "compiled_sql": "sql"}
    ui_color = "#FF694B"  # dbt's orange

    def __init__(
        self,
        *,
        project_dir: str,
        vars: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        invocation_mode: str = "dbt_runner",
        cosmos_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_dir = project_dir
        self.vars = dict(vars or {})
        self.env = dict(env or {})
        self.invocation_mode = invocation_mode
        self.cosmos_args = dict(cosmos_args or {})
        self.compiled_sql = ""
        self.dbt_operator = None  # Cosmos's operator, while and after this task runs

    def cosmos_operator(self):
        """Cosmos's ``DbtBuildLocalOperator`` for this task (imports Cosmos; reads no connection yet)."""
        from cosmos.constants import InvocationMode
        from cosmos.operators.local import DbtBuildLocalOperator

        from advocacy.orchestration import profile_config

        return DbtBuildLocalOperator(
            task_id=self.task_id,
            project_dir=self.project_dir,
            profile_config=profile_config(),
            vars=self.vars,
            env=self.env,
            invocation_mode=InvocationMode(self.invocation_mode),
            **self.cosmos_args,
        )

    def execute(self, context):
        self.dbt_operator = dbt = self.cosmos_operator()
        try:
            with _run_by_this_task(dbt):
                return dbt.execute(context)
        finally:
            # Cosmos asks the task runner to store the rendered fields again after the run
            # (Airflow 3), so the compiled SQL shows on this task as on Cosmos's own
            self.compiled_sql = getattr(dbt, "compiled_sql", "")
            if getattr(dbt, "overwrite_rtif_after_execution", False):
                self.overwrite_rtif_after_execution = True

    def on_kill(self) -> None:
        if self.dbt_operator is not None:
            self.dbt_operator.on_kill()


class _run_by_this_task:
    """Mark Cosmos's operator as run by the task runner for the length of its ``execute()``.

    Airflow's ``ExecutorSafeguard`` logs "DbtBuildLocalOperator.execute cannot be called
    outside of the Task Runner!" when one operator executes another (allowed, as
    ``allow_nested_operators`` defaults to True); here the nesting is the design, and that
    warning in every dbt log would read as a fault. Without the safeguard (another Airflow
    version) this does nothing.
    """

    def __init__(self, operator: BaseOperator):
        self.operator, self.token = operator, None

    def __enter__(self):
        try:
            from airflow.sdk.bases.operator import ExecutorSafeguard

            self.tracker = ExecutorSafeguard.tracker
        except (ImportError, AttributeError):
            self.tracker = None
        if self.tracker is not None:
            self.token = self.tracker.set(self.operator)
        return self

    def __exit__(self, *exc):
        if self.tracker is not None:
            self.tracker.reset(self.token)
        return False

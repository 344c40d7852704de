"""
### advocacy_nightly

The nightly employee-advocacy load, one run per day (the data interval):

`preflight` (advocacy check) -> `prepare_warehouse` -> `extract_files` +
`extract_<platform>` (landing JSON; one
task per enabled platform, each in its own pool `<platform>_api` so parallel
workers share one rate-limit budget) -> `load_raw` (COPY into `raw`, replace by
interval; runs even when a platform failed, so the others still load) -> `dbt`
(staging -> intermediate -> the marts into `marts_build`, through Cosmos) ->
`validate` (Great Expectations gate, on `marts_build`) -> `publish_marts` (swaps
the validated marts into `marts`, what BI reads, in one transaction; a failed
night keeps yesterday's and is recorded as held back) -> `publish_report`.
`sources_complete` fails the run when any extract failed, naming it.

Programme settings: the YAML file at `ADVOCACY_SETTINGS`. Credentials: the
Airflow connections named there (`<platform>_api`, ...) and `advocacy_warehouse`.
Catchup is off; backfill a range with `airflow backfill create`.
"""

from __future__ import annotations

import pendulum
from advocacy.alerts import NightFailureNotifier, deadline_alert
from advocacy.marts import BUILD_VARS
from advocacy.orchestration import DEFAULT_ARGS, TIMEOUTS, dbt_task_group
from advocacy.settings import load_settings
from airflow.sdk import TriggerRule, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

SETTINGS = load_settings()
PLATFORMS = [SETTINGS.platforms[p] for p in SETTINGS.enabled_platforms()]
EXTRACT_TASKS = ["extract_files", *(f"extract_{p.name}" for p in PLATFORMS)]


@dag(
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["advocacy", "nightly"],
    doc_md=__doc__,
    on_failure_callback=NightFailureNotifier(),  # e-mail / webhook naming the night and the reason
    deadline=deadline_alert(SETTINGS),  # alerts.deadline: no report by then is an alert
)
def advocacy_nightly():
    # retried: a warehouse restarting at 03:00 is not a broken deployment
    @task(execution_timeout=TIMEOUTS["preflight"])
    def preflight() -> None:
        """`advocacy check` without API calls: fails on settings, warehouse or locations."""
        from advocacy import preflight

        preflight.assert_ready()

    @task(execution_timeout=TIMEOUTS["prepare_warehouse"])
    def prepare_warehouse() -> dict:
        """Resolve the warehouse; create schemas and raw tables."""
        from advocacy import pipeline

        return pipeline.prepare()

    @task(execution_timeout=TIMEOUTS["extract_files"])
    def extract_files(ds=None) -> list[dict]:
        """Land tonight's HR roster, web sessions and self-report exports."""
        from advocacy import pipeline

        return pipeline.extract_files(ds)

    @task(execution_timeout=TIMEOUTS["extract_platform"])
    def extract_platform(platform: str, ds=None) -> list[dict]:
        """Land one platform's posts, counters and audiences for the interval."""
        from advocacy import pipeline

        return pipeline.extract_platform(platform, ds)

    @task(trigger_rule=TriggerRule.ALL_DONE, execution_timeout=TIMEOUTS["load_raw"])
    def load_raw(ds=None) -> dict:
        """COPY the interval's landed files into raw, replacing the interval's rows."""
        from advocacy import pipeline

        return pipeline.load_interval(ds)

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0, execution_timeout=TIMEOUTS["sources_complete"])
    def sources_complete(ti=None, ds=None) -> None:
        """Fail the run, naming them, if any extract failed or input file was refused (the rest
        was loaded regardless)."""
        from advocacy import pipeline

        pipeline.assert_sources_extracted({t: ti.xcom_pull(task_ids=t) for t in EXTRACT_TASKS}, ds)

    # a failed expectation will fail again: stop at once, publish nothing
    @task(retries=0, execution_timeout=TIMEOUTS["validate"])
    def validate(ds=None, run_id=None) -> dict:
        """Great Expectations checkpoint on raw and marts_build; fails naming each failed expectation."""
        from advocacy import marts, pipeline

        return pipeline.validate(ds, run_id, marts_schema=marts.BUILD)

    @task(trigger_rule=TriggerRule.ALL_DONE, execution_timeout=TIMEOUTS["publish_marts"])
    def publish_marts(ds=None, run_id=None, ti=None) -> dict:
        """Swap the validated marts into what BI reads; or record the night as held back."""
        from advocacy import pipeline

        passed = ti.xcom_pull(task_ids="validate") is not None
        return pipeline.publish_marts(ds, run_id, passed=passed)

    # also after a held-back night: its report says so (and the task then fails the run)
    @task(trigger_rule=TriggerRule.ALL_DONE, execution_timeout=TIMEOUTS["publish_report"])
    def publish_report(ds=None, ti=None) -> str:
        """Write the HTML report and KPI CSVs to the publish location."""
        from advocacy import pipeline

        validation = ti.xcom_pull(task_ids="validate")
        return pipeline.publish_night(ds, validation, ti.xcom_pull(task_ids="publish_marts"))

    ready = prepare_warehouse()
    preflight() >> ready
    extracts = [extract_files()] + [
        extract_platform.override(task_id=f"extract_{p.name}", pool=p.pool)(p.name) for p in PLATFORMS
    ]
    loaded = load_raw()
    ready >> extracts >> loaded >> sources_complete()
    transform = dbt_task_group("dbt", {**SETTINGS.dbt_vars(), **BUILD_VARS, "as_of_date": "{{ ds }}"})
    checked = validate()
    loaded >> transform >> checked
    published = publish_marts()
    checked >> published
    published >> publish_report()


advocacy_nightly()

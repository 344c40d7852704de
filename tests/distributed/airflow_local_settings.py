"""Airflow imports ``airflow_local_settings`` at start-up; only the test's workers have it on their path.

Each task process is forked from its Celery worker: importing dbt and Cosmos once
here (about 4 s) spares every one of the DAG's ~60 dbt tasks that import.
"""

import cosmos  # noqa: F401
import dbt.adapters.postgres  # noqa: F401
from dbt.cli.main import dbtRunner  # noqa: F401

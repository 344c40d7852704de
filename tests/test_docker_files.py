"""No Docker engine here: the stack's files are checked by parsing them."""

from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def test_compose_has_the_celery_stack_configured_from_env():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("postgres", "redis", "airflow-apiserver", "airflow-scheduler",
                 "airflow-dag-processor", "airflow-worker"):  # fmt: skip
        assert name in services, name
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    for key in ("AIRFLOW_CONN_ADVOCACY_WAREHOUSE", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        assert "${" in env[key], f"{key} must come from the environment"


def test_no_secret_is_committed():
    for f in DOCKER.iterdir():
        text = f.read_text()
        for line in text.splitlines():
            if "PASSWORD=" in line and not line.strip().startswith("#"):
                assert line.strip().endswith("="), f"{f.name}: {line}"


def test_dockerfile_installs_from_the_lock():
    text = (DOCKER / "Dockerfile").read_text()
    assert "uv sync --locked" in text and "COPY dags" in text

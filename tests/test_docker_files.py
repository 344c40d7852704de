"""No Docker engine here: the stack's files are checked by parsing them."""

import re
from pathlib import Path

import pytest
import yaml
from advocacy.settings import DEMO_SETTINGS, load_settings

DOCKER = Path(__file__).resolve().parents[1] / "docker"
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker")  # fmt: skip


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_the_celery_stack_configured_from_env(compose):
    services = compose["services"]
    for name in ("postgres", "redis", *AIRFLOW_SERVICES):
        assert name in services, name
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    env = services["airflow-worker"]["environment"]
    for key in ("AIRFLOW_CONN_ADVOCACY_WAREHOUSE", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", "AIRFLOW__CELERY__RESULT_BACKEND",
                "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY"):  # fmt: skip
        assert "${" in str(env[key]), f"{key} must come from the environment"
    # No asyncpg in the lock: the async metadata engine must name a driver that is installed.
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg_async://")


def test_every_platform_connection_reaches_the_containers_from_the_connections_file(compose):
    """The platforms' connections come from docker/connections.env, which every Airflow service
    reads; compose.yaml names no platform's connection (adding a platform does not touch it)."""
    for name in AIRFLOW_SERVICES:
        assert {"path": "connections.env", "required": False} in compose["services"][name]["env_file"], name
    settings = load_settings(DEMO_SETTINGS)
    wanted = {f"AIRFLOW_CONN_{p.connection_id.upper()}" for p in settings.platforms.values()}
    assert len(wanted) >= 4
    text = (DOCKER / "compose.yaml").read_text()
    assert not [w for w in wanted if w in text]
    example = (DOCKER / "connections.env.example").read_text()
    assert "AIRFLOW_CONN_<connection_id upper-cased>" in example and "connection_id" in example
    ignored = (DOCKER.parent / ".gitignore").read_text().split()
    assert "docker/connections.env" in ignored
    assert "docker/connections.env" in (DOCKER / "Dockerfile.dockerignore").read_text().split()


def test_the_stack_waits_for_init_which_creates_the_pools(compose):
    services = compose["services"]
    init = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "python -m advocacy.pools" in init
    for name in AIRFLOW_SERVICES[1:]:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
    assert services["airflow-worker"]["command"][:3] == ["airflow", "celery", "worker"]
    assert "healthcheck" in services["redis"] and "healthcheck" in services["postgres"]


def test_every_variable_the_compose_file_reads_is_in_the_env_example():
    # $${VAR} is the container's own variable, not one compose reads.
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", (DOCKER / "compose.yaml").read_text()))
    example = (DOCKER / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, flags=re.M))
    assert used <= listed, sorted(used - listed)


def test_no_secret_is_committed():
    for f in DOCKER.iterdir():
        text = f.read_text()
        for line in text.splitlines():
            if re.search(r"(PASSWORD|SECRET|KEY|TOKEN)[A-Z_]*=", line) and not line.strip().startswith("#"):
                assert line.strip().endswith("="), f"{f.name}: {line}"


def test_dockerfile_installs_from_the_lock_and_runs_unprivileged():
    text = (DOCKER / "Dockerfile").read_text()
    assert "uv sync --locked" in text and "COPY dags" in text
    assert "--extra s3" in text  # object-storage landing/publish
    assert "ensure_dbt_manifest" in text  # the manifest matches the settings the image runs with
    assert text.rstrip().splitlines()[-1].startswith("USER ") and "useradd" in text
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".advocacy", ".git", "docker/.env"} <= set(ignored)


def test_pod_template_runs_the_same_image_with_connections_from_a_secret():
    pod = yaml.safe_load((DOCKER / "pod-template.yaml").read_text())
    (base,) = pod["spec"]["containers"]
    assert pod["kind"] == "Pod" and base["name"] == "base"  # the KubernetesExecutor's container name
    assert any("secretRef" in e for e in base["envFrom"])
    assert {e["name"] for e in base["env"]} >= {"ADVOCACY_SETTINGS"}


def test_readme_explains_scaling_pools_and_kubernetes():
    text = (DOCKER / "README.md").read_text()
    for phrase in ("--scale airflow-worker=", "AIRFLOW_WORKER_CONCURRENCY", "pool_slots",
                   "KubernetesExecutor", "pod template", "object storage"):  # fmt: skip
        assert phrase.lower() in text.lower(), phrase

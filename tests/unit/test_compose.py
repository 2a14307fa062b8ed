"""The production-like Docker Compose stack (deploy/compose) agrees with the pinned versions and renders.

No Docker engine is needed: `docker compose config` only validates and interpolates the file.
The Compose CLI plugin comes from `python3 deploy/local/stack.py install` (.cache/docker).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
VERSIONS_FILE = ROOT / "deploy" / "versions.env"
DOCKER_CONFIG = ROOT / ".cache" / "docker"
PLUGIN = DOCKER_CONFIG / "cli-plugins" / "docker-compose"

EXPECTED_SERVICES = {
    "elasticsearch",
    "s3-volume-init",
    "s3",
    "s3-buckets",
    "postgres",
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "redis",
    "gateway",
}
AIRFLOW_SERVICES = {name for name in EXPECTED_SERVICES if name.startswith("airflow-")}
# Values the operator must choose; .env.example may only hold placeholders for them.
SECRET_VARIABLES = {
    "ELASTIC_PASSWORD",
    "S3_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_GATEWAY_PASSWORD",
}


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not a KEY=VALUE line: {line!r}"
        values[key.strip()] = value.strip()
    return values


@cache
def _versions() -> dict[str, str]:
    return _read_env_file(VERSIONS_FILE)


@cache
def _compose_yaml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return data


def _image_tag(image: str) -> str:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"image {image!r} has no tag"
    return tag


def _dockerfile_from_lines(dockerfile: Path) -> list[str]:
    return [
        line.split(None, 1)[1].strip()
        for line in dockerfile.read_text(encoding="utf-8").splitlines()
        if line.strip().upper().startswith("FROM ")
    ]


def _built_dockerfile(service: dict[str, Any]) -> Path:
    build = service["build"]
    context = (COMPOSE_DIR / str(build["context"])).resolve()
    return context / str(build.get("dockerfile", "Dockerfile"))


def _compose(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the Compose CLI plugin from .cache/docker with a clean environment (no stray overrides)."""
    if not PLUGIN.is_file():
        pytest.fail(
            f"the Docker Compose CLI plugin is missing ({PLUGIN}); "
            "build it with `python3 deploy/local/stack.py install`"
        )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DOCKER_CONFIG": str(DOCKER_CONFIG),
    }
    docker = shutil.which("docker")
    # `docker compose` when the docker CLI is installed; otherwise the plugin runs standalone, the same code.
    command = [docker, "compose"] if docker else [str(PLUGIN)]
    return subprocess.run(
        [*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@cache
def _rendered() -> dict[str, Any]:
    result = _compose("--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config", "--format", "json")
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    rendered: dict[str, Any] = json.loads(result.stdout)
    return rendered


def test_compose_names_the_same_elasticsearch_version_as_local() -> None:
    image = _compose_yaml()["services"]["elasticsearch"]["image"]
    assert image.startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    assert _image_tag(image) == _versions()["ELASTICSEARCH_VERSION"]


def test_every_airflow_service_runs_the_pinned_airflow_version() -> None:
    services = _compose_yaml()["services"]
    expected = f"apache/airflow:{_versions()['AIRFLOW_VERSION']}-python{_versions()['PYTHON_VERSION']}"
    assert set(services) >= AIRFLOW_SERVICES
    for name in AIRFLOW_SERVICES:
        service = services[name]
        if "build" in service:
            assert _dockerfile_from_lines(_built_dockerfile(service)) == [expected], name
        else:
            assert service["image"] == expected, name


def test_compose_runs_the_same_versitygw_version_as_local() -> None:
    images = [s["image"] for s in _compose_yaml()["services"].values() if "versitygw" in s.get("image", "")]
    assert images, "no versitygw service in the compose file"
    for image in images:
        assert image.startswith("versity/versitygw:")
        assert _image_tag(image) == _versions()["VERSITYGW_VERSION"]


def test_compose_runs_the_pinned_redis_and_the_gateway_uses_it() -> None:
    services = _compose_yaml()["services"]
    assert services["redis"]["image"] == f"redis:{_versions()['REDIS_VERSION']}"
    assert "ports" not in services["redis"]  # inside the compose network only
    gateway = services["gateway"]
    assert gateway["environment"]["WENYUAN_REDIS__URL"] == "redis://redis:6379/0"
    assert "redis" in gateway["depends_on"]
    assert "--workers" in " ".join(gateway["command"])


def test_gateway_image_uses_the_pinned_python_and_the_hash_checked_lock() -> None:
    dockerfile = _built_dockerfile(_compose_yaml()["services"]["gateway"])
    assert dockerfile == COMPOSE_DIR / "gateway.Dockerfile"
    assert _dockerfile_from_lines(dockerfile) == [f"python:{_versions()['PYTHON_VERSION']}-slim"]
    text = dockerfile.read_text(encoding="utf-8")
    assert "pip install --require-hashes -r requirements.lock" in text
    assert "pip install --no-deps ." in text


def test_compose_config_renders_with_the_example_env() -> None:
    assert set(_rendered()["services"]) == EXPECTED_SERVICES


def test_every_published_port_binds_localhost_only() -> None:
    published = {
        (name, port.get("host_ip"), port.get("published"))
        for name, service in _rendered()["services"].items()
        for port in service.get("ports", [])
    }
    assert {name for name, _, _ in published} >= {"gateway", "airflow-api-server"}
    assert all(host_ip == "127.0.0.1" for _, host_ip, _ in published), sorted(published, key=str)


def test_compose_config_refuses_to_render_without_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    result = _compose("--env-file", str(empty), "-f", str(COMPOSE_FILE), "config")
    assert result.returncode != 0
    for variable in SECRET_VARIABLES:
        assert f"required variable {variable} is missing" in result.stderr, variable


def test_env_example_defines_every_variable_the_compose_file_reads() -> None:
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#")).replace("$$", "")
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    defined = set(_read_env_file(ENV_EXAMPLE))
    assert used >= SECRET_VARIABLES
    assert used - defined == set()


def test_env_example_holds_only_placeholder_secrets() -> None:
    values = _read_env_file(ENV_EXAMPLE)
    for variable in SECRET_VARIABLES:
        assert values[variable].startswith("change-me"), variable


def test_airflow_services_share_database_keys_and_dags() -> None:
    services = _rendered()["services"]
    shared = (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    )
    reference = services["airflow-api-server"]["environment"]
    assert reference["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False", name
        assert {key: env[key] for key in shared} == {key: reference[key] for key in shared}, name
        dags = [v for v in services[name]["volumes"] if v["target"] == env["AIRFLOW__CORE__DAGS_FOLDER"]]
        assert [Path(v["source"]) for v in dags] == [ROOT / "dags"], name


def test_gateway_and_tasks_get_production_settings() -> None:
    services = _rendered()["services"]
    for name in ("gateway", "s3-buckets", "airflow-scheduler", "airflow-dag-processor"):
        env = services[name]["environment"]
        assert env["WENYUAN_ENVIRONMENT"] == "production", name
        assert "://" not in env["WENYUAN_S3__ENDPOINT"], name
        assert env["WENYUAN_ES__URL"].endswith("@elasticsearch:9200"), name
        assert env["WENYUAN_AIRFLOW__URL"] == "http://airflow-api-server:8080", name
        for key in ("WENYUAN_S3__ACCESS_KEY", "WENYUAN_S3__SECRET_KEY", "WENYUAN_AIRFLOW__PASSWORD", "WENYUAN_DB__URL"):
            assert env[key], (name, key)
    gateway = services["gateway"]
    assert gateway["environment"]["WENYUAN_DB__URL"].startswith("postgresql+psycopg://wenyuan:")
    assert gateway["environment"]["WENYUAN_DB__URL"].endswith("@postgres:5432/wenyuan")
    assert "wenyuan db upgrade &&" in " ".join(gateway["command"])
    assert "postgres" in gateway["depends_on"]

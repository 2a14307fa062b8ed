"""The Kubernetes manifests (deploy/k8s) decode strictly into the upstream API types and pin deploy/versions.env.

No cluster runs here, so deploy/k8s/validate (Go: k8s.io/api, ECK's types, sigs.k8s.io/yaml UnmarshalStrict,
versions pinned in its go.mod/go.sum, modules from the Go module proxy) is built once into .cache/ and run over
every manifest: an unknown field, a wrong type or a bad quantity fails it. Needs Go (skipped without it).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.settings import Settings
from services.settings_doc import PREFIX, _rows

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
VALIDATE_SRC = K8S / "validate"
VERSIONS_FILE = ROOT / "deploy" / "versions.env"
GO_CACHE = ROOT / ".cache" / "go"
VALUES = K8S / "airflow-values.yaml"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p != VALUES)

GO = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin:/usr/lib/go/bin")
pytestmark = pytest.mark.skipif(GO is None, reason="Go is needed to build deploy/k8s/validate")


@cache
def _validator() -> Path:
    """The validator binary, rebuilt when its sources change (named by their hash; first build downloads modules)."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((VALIDATE_SRC / name).read_bytes())
    binary = ROOT / ".cache" / "k8s-validate" / f"validate-{digest.hexdigest()[:12]}"
    if not binary.exists():
        assert GO is not None
        env = dict(os.environ, GOPATH=str(GO_CACHE), GOMODCACHE=str(GO_CACHE / "pkg" / "mod"),
                   GOCACHE=str(GO_CACHE / "build"), GOFLAGS="-mod=mod -modcacherw", CGO_ENABLED="0")
        subprocess.run([GO, "build", "-trimpath", "-o", str(binary), "."], cwd=VALIDATE_SRC, env=env,
                       check=True, timeout=900)
        for stale in binary.parent.glob("validate-*"):
            if stale != binary:
                stale.unlink()
    return binary


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_validator()), *map(str, paths)], capture_output=True, text=True, timeout=120)


def _versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in VERSIONS_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@cache
def _documents() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, doc) for path in MANIFESTS
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _find(kind: str, name: str) -> dict[str, Any]:
    found = [doc for _, doc in _documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_every_manifest_decodes_strictly_into_its_api_type() -> None:
    result = _validate(*MANIFESTS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [word for path in MANIFESTS for word in ("ok", str(path))]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS if p.name != "kustomization.yaml")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("          readinessProbe:", "          readinessProbes:", 'unknown field "readinessProbes"'),
    ("  replicas: 2\n", "  replicas: two\n", "cannot unmarshal string"),
    ("              memory: 1Gi", "              memory: one-gigabyte", "quantities must match"),
    ("apiVersion: autoscaling/v2", "apiVersion: autoscaling/v9", "unknown apiVersion/kind autoscaling/v9"),
    ("                  key: s3-secret-key\n", "                  key: s3-secret-key\n            - name: X_PASSWORD\n"
     "              value: hunter2\n", "env X_PASSWORD has a literal value"),
])
def test_a_broken_manifest_fails_the_validator(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = (K8S / "gateway.yaml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "gateway.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = _validate(broken)
    assert result.returncode == 1
    assert message in result.stderr


def test_an_unknown_field_in_the_eck_resource_fails(tmp_path: Path) -> None:
    text = (K8S / "elasticsearch.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "elasticsearch.yaml"
    broken.write_text(text.replace("      count: 3\n", "      count: 3\n      replicas: 3\n", 1), encoding="utf-8")
    result = _validate(broken)
    assert result.returncode == 1
    assert 'json: unknown field "replicas"' in result.stderr


def test_versions_equal_deploy_versions_env() -> None:
    versions = _versions()
    es = _find("Elasticsearch", "wenyuan")
    assert es["spec"]["version"] == versions["ELASTICSEARCH_VERSION"]
    assert sum(node_set["count"] for node_set in es["spec"]["nodeSets"]) == 3
    images = [c["image"] for _, doc in _documents() if doc["kind"] in {"Deployment", "StatefulSet"}
              for c in _containers(doc)]
    images += [c["image"] for node_set in es["spec"]["nodeSets"]
               for c in node_set["podTemplate"]["spec"].get("initContainers", [])]
    expected = {
        "docker.elastic.co/elasticsearch/elasticsearch": versions["ELASTICSEARCH_VERSION"],
        "redis": versions["REDIS_VERSION"],
        "versity/versitygw": versions["VERSITYGW_VERSION"],
    }
    for image in images:
        repository, tag = image.rsplit(":", 1)
        if repository in expected:
            assert tag == expected[repository], image
    assert {image.rsplit(":", 1)[0] for image in images} >= set(expected)
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    assert values["airflowVersion"] == values["defaultAirflowTag"] == versions["AIRFLOW_VERSION"]
    dockerfile = (ROOT / "deploy" / "compose" / "airflow.Dockerfile").read_text(encoding="utf-8")
    assert f"FROM apache/airflow:{versions['AIRFLOW_VERSION']}-python{versions['PYTHON_VERSION']}" in dockerfile
    assert re.search(r"--version (\d+\.\d+\.\d+)", VALUES.read_text(encoding="utf-8"))
    assert values["executor"] == "CeleryExecutor"


def _wenyuan_names() -> set[str]:
    gateway = _find("Deployment", "gateway")
    names = {env["name"] for c in _containers(gateway) for env in c.get("env", [])}
    names |= set(_find("ConfigMap", "wenyuan-settings")["data"])
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    names |= {env["name"] for env in yaml.safe_load(values["extraEnv"])}
    return {name for name in names if name.startswith(PREFIX)}


def test_settings_names_include_the_top_level_ones() -> None:
    assert {"WENYUAN_ENVIRONMENT", "WENYUAN_LOG_LEVEL"} <= {var.strip("`") for var, _, _ in _rows(Settings, PREFIX)}


def test_wenyuan_env_names_are_settings() -> None:
    settings = {var.strip("`") for var, _, _ in _rows(Settings, PREFIX)}
    names = _wenyuan_names()
    assert names - settings == set()
    assert {"WENYUAN_ES__URL", "WENYUAN_DB__URL", "WENYUAN_S3__ACCESS_KEY", "WENYUAN_S3__SECRET_KEY",
            "WENYUAN_AIRFLOW__PASSWORD", "WENYUAN_REDIS__URL"} <= names


def test_gateway_probes_autoscaler_and_disruption_budget() -> None:
    gateway = _find("Deployment", "gateway")
    (container,) = gateway["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert _find("Service", "gateway")["spec"]["selector"].items() <= labels.items()
    assert _find("PodDisruptionBudget", "gateway")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = _find("HorizontalPodAutoscaler", "gateway")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "gateway")
    assert not [doc for _, doc in _documents() if doc["kind"] == "Secret"], "secrets are made at install (README)"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl renders the kustomization offline")
def test_kubectl_kustomize_renders() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert len(rendered) == len([doc for _, doc in _documents() if doc["kind"] != "Kustomization"])
    assert all(doc["metadata"].get("namespace") == "wenyuan" for doc in rendered if doc["kind"] != "Namespace")

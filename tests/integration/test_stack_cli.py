"""deploy/local/stack.py against the running stack: status, idempotent up, a port already taken."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from services.settings import get_settings, process_environment
from tests.helpers import ROOT

SERVICES = ["elasticsearch", "s3", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "postgres",
            "redis", "gateway"]


def _stack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "deploy/local/stack.py"), *args],
                          capture_output=True, text=True, timeout=300, env=env)


def test_status_lists_every_service_ready_with_version_url_and_pid() -> None:
    result = _stack("status")

    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(rows) == SERVICES
    for name, (_, state, *version, url, pid) in rows.items():
        assert state == "ready", name
        assert version and (version[-1][0].isdigit() or version[-1].startswith("v")), (name, version)
        assert url.split("://")[0] in {"http", "postgresql", "redis"} and "://127.0.0.1:" in url, (name, url)
        pids = pid.split(",")  # the gateway: its supervisor, then each worker process
        assert all(p.isdigit() and Path(f"/proc/{p}").exists() for p in pids), (name, pid)
    workers = get_settings().gateway.worker_processes  # one worker runs in the supervisor's own process
    assert len(rows["gateway"][-1].split(",")) == (1 + workers if workers > 1 else 1)


def test_up_when_everything_is_up_starts_nothing() -> None:
    result = _stack("up")

    assert result.returncode == 0, result.stderr
    assert "starting" not in result.stdout
    assert "stack: up in" in result.stdout


def test_up_names_the_fix_when_a_port_is_already_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = process_environment() | {
            "WENYUAN_GATEWAY__PORT": str(port),
            "WENYUAN_GATEWAY__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "WENYUAN_STACK__RUN_DIR": str(tmp_path),
        }

        result = _stack("up", "gateway", env=env)

    assert result.returncode == 1
    assert f"port {port} (for gateway) is already taken" in result.stderr
    assert "WENYUAN_GATEWAY__PORT" in result.stderr
    assert not (tmp_path / "pids" / "gateway.pid").exists()

"""deploy/local's process handling: pid files name exactly the processes `up` started."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from stacklib import procs
from stacklib.procs import StackError


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and procs._is_zombie(pid) is False


def test_stop_ends_the_spawned_group_and_leaves_other_processes_alone(tmp_path: Path) -> None:
    pid_file = tmp_path / "svc.pid"
    pid = procs.spawn(["sh", "-c", "sleep 60 & sleep 60"], env={"PATH": "/usr/bin:/bin"},
                      log=tmp_path / "svc.log", cwd=tmp_path, pid_file=pid_file)
    bystander = subprocess.Popen(["sleep", "60"])
    time.sleep(0.3)

    stopped = procs.stop(pid_file, timeout=10)

    assert stopped is True
    assert not _alive(pid)
    assert bystander.poll() is None
    assert not pid_file.exists()
    bystander.kill()
    bystander.wait()


def test_a_pid_file_whose_process_was_replaced_is_stale_and_signals_nothing(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    pid_file = tmp_path / "svc.pid"
    pid_file.write_text(f"{bystander.pid} 1\n")  # same pid, another start time: a recycled pid

    assert procs.live_pid(pid_file) is None
    assert procs.stop(pid_file) is False
    assert bystander.poll() is None
    assert not pid_file.exists()
    bystander.kill()
    bystander.wait()


def test_a_service_that_exits_during_start_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    pid_file = tmp_path / "svc.pid"
    procs.spawn(["sh", "-c", "echo 'fatal: data directory is locked'; exit 3"], env={"PATH": "/usr/bin:/bin"},
                log=log, cwd=tmp_path, pid_file=pid_file)

    with pytest.raises(StackError) as excinfo:
        procs.wait_until(lambda: False, timeout=10, alive=lambda: procs.live_pid(pid_file) is not None,
                         what="svc", log=log)

    assert "svc exited during start-up" in str(excinfo.value)
    assert "fatal: data directory is locked" in str(excinfo.value)


def test_port_in_use_sees_a_listening_socket() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        assert procs.port_in_use(port) is True
    assert procs.port_in_use(port) is False

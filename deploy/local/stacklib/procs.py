"""Processes of the local stack: start detached, remember by pid file, stop exactly those.

A pid file holds the pid and the process's start time (field 22 of /proc/PID/stat), so a pid
that the kernel has since given to another program is never signalled. Processes are started
in a new session: their process group holds the children they fork (Airflow's workers), and
stopping signals that group, which is still only what `up` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Detached children stay referenced until this (short-lived) tool exits, so Popen does not
# warn that they still run: outliving the tool is what they are for.
_children: list[subprocess.Popen[bytes]] = []


class StackError(RuntimeError):
    """A failure to report to the user with a fix; the CLI prints it and exits non-zero."""


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid} {_start_time(pid) or '?'}\n")


def live_pid(path: Path) -> int | None:
    """The pid recorded in `path` if that very process still runs; a stale file is removed."""
    try:
        pid_text, started = path.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if _start_time(pid) == started and not _is_zombie(pid):
        return pid
    path.unlink(missing_ok=True)
    return None


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def spawn(cmd: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Path, pid_file: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    _children.append(proc)
    write_pid(pid_file, proc.pid)
    return proc.pid


def stop(pid_file: Path, *, timeout: float = 60.0) -> bool:
    """SIGTERM the recorded process (and its group when it leads one); SIGKILL after `timeout`."""
    pid = live_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    leads_group = os.getpgid(pid) == pid

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if leads_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if live_pid(pid_file) is None and not (leads_group and _group_alive(pid)):
            break
        time.sleep(0.2)
    else:
        send(signal.SIGKILL)
        time.sleep(0.5)
    pid_file.unlink(missing_ok=True)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 25) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(ready: Callable[[], bool], *, timeout: float, alive: Callable[[], bool], what: str,
               log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise StackError(f"{what} exited during start-up. Last lines of {log}:\n{tail(log)}")
        time.sleep(0.5)
    raise StackError(f"{what} was not ready after {timeout:.0f}s. Last lines of {log}:\n{tail(log)}")

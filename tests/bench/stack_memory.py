"""Resident memory of the running local stack, per service (the process and all its descendants).

RSS counts pages shared between forked processes (Airflow's workers) once per process; PSS
divides them among the sharers, so the PSS column adds up to what the stack really occupies.
"""

from __future__ import annotations

from pathlib import Path

from services.settings import Settings
from stacklib import procs
from stacklib.services import all_services


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += tree.get(p, [])
    return out


def _kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(settings: Settings) -> list[tuple[str, int, float, float]]:
    """(service, processes, RSS MiB, PSS MiB) for each running service."""
    tree = _children()
    rows = []
    for svc in all_services(settings):
        pid = procs.live_pid(svc.pid_file)
        if pid is None:
            continue
        pids = _descendants(pid, tree)
        rss = sum(_kib(p, "Rss") for p in pids) / 1024
        pss = sum(_kib(p, "Pss") for p in pids) / 1024
        rows.append((svc.name, len(pids), rss, pss))
    return rows


def report(settings: Settings) -> str:
    rows = measure(settings)
    lines = ["| service | processes | RSS MiB | PSS MiB |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {n} | {rss:.0f} | {pss:.0f} |" for name, n, rss, pss in rows]
    lines.append(f"| **total** | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows):.0f} | "
                 f"{sum(r[3] for r in rows):.0f} |")
    return "\n".join(lines)

"""Commands of deploy/local/stack.py, run inside the project venv."""

from __future__ import annotations

import argparse
import sys
import time

from services.settings import get_settings
from stacklib import install, procs
from stacklib.elasticsearch import Elasticsearch
from stacklib.procs import StackError
from stacklib.services import Service, all_services

PORT_KNOB = {
    "elasticsearch": "WENYUAN_ES__URL",
    **{f"elasticsearch-{i}": "WENYUAN_ES__URL and WENYUAN_STACK__ES_TRANSPORT_PORT" for i in range(1, 10)},
    "s3": "WENYUAN_S3__ENDPOINT",
    "airflow-api-server": "WENYUAN_AIRFLOW__URL",
    "gateway": "WENYUAN_GATEWAY__PORT and WENYUAN_GATEWAY__PUBLIC_URL",
    "postgres": "WENYUAN_STACK__POSTGRES_PORT",
}


def _select(services: list[Service], names: list[str]) -> list[Service]:
    if not names:
        return services
    known = {s.name: s for s in services}
    aliases = {"es": "elasticsearch", "airflow": None, "api-server": "airflow-api-server"}
    chosen: list[Service] = []
    for name in names:
        if name == "airflow":
            chosen += [s for s in services if s.name.startswith("airflow-")]
        elif name in ("es", "elasticsearch") and "elasticsearch" not in known:  # every node of a cluster
            chosen += [s for s in services if isinstance(s, Elasticsearch)]
        elif (aliases.get(name) or name) in known:
            chosen.append(known[aliases.get(name) or name])
        else:
            raise StackError(f"unknown service {name!r}; one of: {', '.join(known)}, airflow")
    return chosen


def cmd_install(services: list[Service], *, tools: bool) -> None:
    install.debian_packages()
    for svc in services:
        svc.install()
    if tools:
        install.docker_compose(get_settings().stack.cache_dir)
    print("stack: installed")


def cmd_up(services: list[Service]) -> None:
    t0 = time.monotonic()
    pending = [s for s in services if not (s.pids() and s.ready())]
    for svc in pending:
        svc.install()
    for svc in pending:
        ports = [svc.port, *([svc.transport_port] if isinstance(svc, Elasticsearch) else [])]
        for port in ports:
            if port and not svc.pids() and procs.port_in_use(port):
                raise StackError(
                    f"port {port} (for {svc.name}) is already taken by another process.\n"
                    f"Fix: stop that process (`ss -ltnp 'sport = :{port}'` names it), or move Wenyuan's "
                    f"{svc.name} with {PORT_KNOB.get(svc.name, 'its setting')}."
                )
    timeout = get_settings().stack.start_timeout_s
    for svc in pending:
        if not svc.pids():
            print(f"stack: starting {svc.name}", flush=True)
            svc.start()
    for svc in pending:
        alive = svc.launching if isinstance(svc, Elasticsearch) else lambda s=svc: bool(s.pids())
        procs.wait_until(svc.ready, timeout=timeout, alive=alive, what=svc.name, log=svc.log)
        svc.after_ready()
        print(f"stack: {svc.name} ready at {svc.url}", flush=True)
    print(f"stack: up in {time.monotonic() - t0:.1f}s")
    cmd_status(services)


def cmd_down(services: list[Service]) -> None:
    for svc in reversed(services):
        if svc.stop():
            print(f"stack: stopped {svc.name}")


def cmd_status(services: list[Service]) -> int:
    rows, down = [], 0
    for svc in services:
        pids = svc.pids()
        state = ("ready" if svc.ready() else "starting") if pids else "stopped"
        down += state != "ready"
        rows.append((svc.name, state, svc.version() if state == "ready" else "-", svc.url,
                     ",".join(map(str, pids)) or "-"))
    widths = [max(len(str(r[i])) for r in [("SERVICE", "STATE", "VERSION", "URL", "PID"), *rows])
              for i in range(5)]
    for row in [("SERVICE", "STATE", "VERSION", "URL", "PID"), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0 if down == 0 else 3


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stack.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="fetch and build everything the stack needs")
    p_install.add_argument("--tools", action="store_true", help="also build the docker compose plugin")
    for name in ("up", "down", "status", "start", "stop", "restart"):
        p = sub.add_parser(name)
        p.add_argument("services", nargs="*", help="default: all")
    p_logs = sub.add_parser("logs")
    p_logs.add_argument("service")
    p_logs.add_argument("-n", type=int, default=100)
    args = parser.parse_args(argv)
    services = all_services(get_settings())
    try:
        if args.command == "install":
            cmd_install(services, tools=args.tools)
        elif args.command in ("up", "start"):
            cmd_up(_select(services, args.services))
        elif args.command in ("down", "stop"):
            cmd_down(_select(services, args.services))
        elif args.command == "restart":
            chosen = _select(services, args.services)
            cmd_down(chosen)
            cmd_up(chosen)
        elif args.command == "status":
            return cmd_status(_select(services, args.services))
        elif args.command == "logs":
            svc = _select(services, [args.service])[0]
            print(procs.tail(svc.log, args.n))
    except StackError as exc:
        print(f"stack: error: {exc}", file=sys.stderr)
        return 1
    return 0

"""The stack's gateway runs several worker processes, and a key's rate limit holds across them (Redis).

Which worker serves a connection is read from /proc: the server side of each loopback connection is a
socket one worker process holds open. Requests go round-robin over connections held by different
workers; one shared count means exactly `limit` of them pass in a window.
"""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

import pytest

from schemas.access import Role
from services.access.db import Database
from services.access.ratelimit import RateLimiter
from services.redis_store import close_clients, redis_client, redis_sync_client
from services.settings import Settings
from tests.access import make_institution, principal, staff_key
from tests.helpers import run_coroutine

LIMIT = 6


def _workers(settings: Settings) -> list[int]:
    supervisor = int((settings.stack.run_dir / "pids" / "gateway.pid").read_text().split()[0])
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == supervisor and b"spawn_main" in command:
            found.append(int(proc.name))
    return found


def _server_socket_inode(server_port: int, client_port: int) -> str:
    def hexaddr(port: int) -> str:
        return f"0100007F:{port:04X}"  # 127.0.0.1, as /proc/net/tcp writes it (little-endian address)

    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == hexaddr(server_port) and fields[2] == hexaddr(client_port):
            return fields[9]
    raise AssertionError(f"no server socket for the connection from port {client_port}")


def _owner(workers: list[int], inode: str) -> int | None:
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _get(conn: http.client.HTTPConnection, path: str,
         headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    return resp


def _connections_on_two_workers(settings: Settings, workers: list[int]) -> dict[int, http.client.HTTPConnection]:
    """A kept-alive connection to each of two different workers (found by opening up to 200: under load one
    worker can win the accept many times running)."""
    port = settings.gateway.port
    held: dict[int, http.client.HTTPConnection] = {}
    for attempt in range(200):
        if attempt:
            time.sleep(0.02)  # a moment for the other worker's loop to come back to accept()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            assert _get(conn, "/healthz").status == 200  # exempt from the limits: it counts against no one
            owner = _owner(workers, _server_socket_inode(port, conn.sock.getsockname()[1]))
        except BaseException:
            conn.close()
            for kept in held.values():
                kept.close()
            raise
        if owner is not None and owner not in held:
            held[owner] = conn
            if len(held) == 2:
                return held
        else:
            conn.close()
    for kept in held.values():
        kept.close()
    raise AssertionError(f"200 connections all went to one of the workers {workers}")


def test_a_key_limit_holds_across_gateway_workers(settings: Settings, db: Database) -> None:
    if settings.gateway.worker_processes < 2 or not settings.redis.configured:
        pytest.skip("one gateway worker or no Redis configured: nothing is shared")
    workers = _workers(settings)
    assert len(workers) == settings.gateway.worker_processes, workers
    member = staff_key(db, make_institution(db, "CN-BJ"), Role.VIEWER, rate=LIMIT)
    prefix = principal(db, member.key).key_prefix
    connections = _connections_on_two_workers(settings, workers)
    answers: list[tuple[int, int, str | None]] = []  # (worker, status, remaining)
    try:
        while 60 - time.time() % 60 < 5:  # windows are clock minutes: all requests in one
            for conn in connections.values():  # uvicorn closes a connection idle for 5 s: keep both alive
                _get(conn, "/healthz")
            time.sleep(1)
        for i in range(3 * LIMIT):
            pid, conn = list(connections.items())[i % 2]
            resp = _get(conn, "/v1/me", {"Authorization": f"Bearer {member.key}"})
            answers.append((pid, resp.status, resp.getheader("x-ratelimit-remaining")))
    finally:
        for conn in connections.values():
            conn.close()
    client = redis_sync_client(settings)
    assert client is not None
    for counter in client.scan_iter(match=f"{settings.es.index_prefix}:ratelimit:key:{prefix}:*"):  # leave nothing
        client.delete(counter)

    allowed = [a for a in answers if a[1] == 200]
    assert len(allowed) == LIMIT, answers  # one count for both workers: per-worker counts would allow 2 x LIMIT
    assert {pid for pid, _, _ in allowed} == set(connections), answers  # both workers served some of them
    assert [a[1] for a in answers] == [200] * LIMIT + [429] * (2 * LIMIT), answers
    assert [a[2] for a in allowed] == [str(LIMIT - 1 - i) for i in range(LIMIT)]


def test_counters_are_apart_per_deployment_and_per_limit(settings: Settings, unique: str) -> None:
    bucket = f"key:test-{unique}"

    async def scenario() -> list[int]:
        client = redis_client(settings)
        assert client is not None
        stack, again = RateLimiter(client), RateLimiter(client)
        other_data, other_limit = RateLimiter(client, namespace=f"test-{unique}"), RateLimiter(client)
        try:
            return [(await stack.hit(bucket, 5)).remaining, (await again.hit(bucket, 5)).remaining,
                    (await other_data.hit(bucket, 5)).remaining, (await other_limit.hit(bucket, 10**8)).remaining]
        finally:
            for pattern in (f"wenyuan:ratelimit:{bucket}:*", f"test-{unique}:ratelimit:{bucket}:*"):
                async for counter in client.scan_iter(match=pattern):
                    await client.delete(counter)
            await close_clients()

    assert run_coroutine(scenario()) == [4, 3, 4, 10**8 - 1]  # one count per deployment and limit, whichever process

"""Fixed-window rate limits: counting in the process, and the fall-back when a configured Redis is down."""

from __future__ import annotations

import logging
import socket

import pytest

from services.access.ratelimit import REDIS_RETRY_S, Allowance, LocalRateLimiter, RateLimiter
from services.redis_store import close_clients, redis_client
from services.settings import RedisSettings, Settings
from tests.helpers import run_coroutine


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_local_window_allows_the_limit_then_refuses_until_the_next_minute() -> None:
    clock = Clock(1_000 * 60 + 15.2)
    limiter = LocalRateLimiter(clock)

    answers = [limiter.hit("addr:a", 3) for _ in range(5)]

    assert [a.allowed for a in answers] == [True, True, True, False, False]
    assert [a.remaining for a in answers] == [2, 1, 0, 0, 0]
    assert answers[0].reset_s == 45  # ceil(60 - 15.2)
    assert answers[-1].headers()["Retry-After"] == "45"
    assert "Retry-After" not in answers[0].headers()
    assert limiter.hit("addr:b", 3).remaining == 2  # buckets count apart
    clock.now = 1_001 * 60
    assert limiter.hit("addr:a", 3) == Allowance(True, 3, 2, 60)  # a new window starts from zero


def test_without_redis_the_limiter_counts_in_the_process() -> None:
    assert redis_client(Settings(redis=RedisSettings(url=""))) is None  # WENYUAN_REDIS__URL= : none configured
    limiter = RateLimiter(None, clock=Clock(60.0))

    answers = [run_coroutine(limiter.hit("key:x", 2)) for _ in range(3)]

    assert not limiter.shared
    assert [(a.allowed, a.remaining) for a in answers] == [(True, 1), (True, 0), (False, 0)]


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_redis_that_is_down_falls_back_to_the_process_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Clock(100.0)

    async def scenario() -> list[tuple[bool, int]]:
        settings = Settings(redis=RedisSettings(url=f"redis://127.0.0.1:{_closed_port()}/0"))
        client = redis_client(settings)
        assert client is not None
        limiter = RateLimiter(client, clock=Clock(60.0), monotonic=ticks)
        assert limiter.shared
        out = []
        for _ in range(3):
            allowance = await limiter.hit("addr:down", 2)
            out.append((allowance.allowed, allowance.remaining))
        assert not limiter.shared  # Redis is not tried again on every request...
        ticks.now += REDIS_RETRY_S
        assert limiter.shared  # ...but after a while
        await close_clients()
        return out

    with caplog.at_level(logging.WARNING, logger="services.access.ratelimit"):
        answers = run_coroutine(scenario())

    assert answers == [(True, 1), (True, 0), (False, 0)]  # never an error: the process's own count
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1

"""Per-key (and, without a key, per-address) request limits over fixed one-minute windows.

Answers carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
the window ends, as GitHub's API counts); over the limit the gateway answers 429 with
`Retry-After`.

Where a Redis is configured (`WENYUAN_REDIS__URL`, the local stack and Compose run one) the count
of a window is one Redis key that every gateway worker process increments (INCR and EXPIRE in one
MULTI/EXEC round trip), so a limit holds across workers. The key names the deployment (its index
prefix: gateways of other data count apart on one Redis) and the limit (a gateway configured with
another limit, such as a benchmark's own, never spends the stack's budget). Without one, each process counts alone
(`LocalRateLimiter`). When a configured Redis does not answer, the gateway does not fail the request:
it counts in the process for `REDIS_RETRY_S` seconds (a logged warning says so), then tries Redis
again — limits are then per worker for that while, as they are without Redis.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

WINDOW_S = 60
REDIS_RETRY_S = 5.0  # after a Redis failure, count in the process this long before trying Redis again


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset_s)}
        if not self.allowed:
            out["Retry-After"] = str(self.reset_s)
        return out


def _window(now: float, window_s: int) -> tuple[int, int]:
    """The number of the window `now` falls in, and the whole seconds (at least 1) until it ends."""
    window = int(now // window_s)
    return window, max(1, math.ceil((window + 1) * window_s - now))


def _allowance(count: int, limit: int, reset: int) -> Allowance:
    """The answer to the `count`-th request of a window (1 = the first)."""
    if count > limit:
        return Allowance(False, limit, 0, reset)
    return Allowance(True, limit, limit - count, reset)


class LocalRateLimiter:
    """Counts in this process only."""

    def __init__(self, clock: Callable[[], float] = time.time, window_s: int = WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._counts: dict[str, tuple[int, int]] = {}  # bucket → (window number, requests in it)
        self._lock = threading.Lock()

    def hit(self, bucket: str, limit: int) -> Allowance:
        window, reset = _window(self._clock(), self._window_s)
        with self._lock:
            seen_window, count = self._counts.get(bucket, (window, 0))
            if seen_window != window:
                count = 0
            if count >= limit:
                self._counts[bucket] = (window, count)
                return Allowance(False, limit, 0, reset)
            self._counts[bucket] = (window, count + 1)
            if len(self._counts) > 100_000:  # forget buckets of past windows
                self._counts = {b: v for b, v in self._counts.items() if v[0] == window}
        return _allowance(count + 1, limit, reset)


class RateLimiter:
    """The gateway's limiter: shared through Redis when a client is given, else (and while it is down) local."""

    def __init__(self, client: redis.asyncio.Redis | None = None, *, namespace: str = "wenyuan",
                 clock: Callable[[], float] = time.time, window_s: int = WINDOW_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._redis = client
        self.key_prefix = f"{namespace}:ratelimit:"
        self._clock = clock
        self._monotonic = monotonic
        self._window_s = window_s
        self.local = LocalRateLimiter(clock, window_s)
        self._redis_retry_at = 0.0  # monotonic time before which Redis counts as down

    @property
    def shared(self) -> bool:
        """Whether the next request is counted in Redis (configured and not known to be down)."""
        return self._redis is not None and self._monotonic() >= self._redis_retry_at

    async def hit(self, bucket: str, limit: int) -> Allowance:
        if self._redis is None or not self.shared:
            return self.local.hit(bucket, limit)
        window, reset = _window(self._clock(), self._window_s)
        key = f"{self.key_prefix}{bucket}:{limit}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self._window_s + 1, nx=True)  # set once, by the window's first request
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._redis_retry_at = self._monotonic() + REDIS_RETRY_S
            log.warning("rate limits: Redis unavailable (%s: %s); counting in this process for %.0f s",
                        type(exc).__name__, exc, REDIS_RETRY_S)
            return self.local.hit(bucket, limit)
        return _allowance(int(count), limit, reset)

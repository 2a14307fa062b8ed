"""Per-key (and, without a key, per-address) request limits over fixed one-minute windows.

Answers carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
the window ends, as GitHub's API counts); over the limit the gateway answers 429 with
`Retry-After`. Counts live in the gateway process: behind several workers each keeps its own
(a shared store such as Redis is the step for a multi-process deployment, see docs/ACCESS.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60


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


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.time, window_s: int = WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._counts: dict[str, tuple[int, int]] = {}  # bucket → (window number, requests in it)
        self._lock = threading.Lock()

    def hit(self, bucket: str, limit: int) -> Allowance:
        now = self._clock()
        window = int(now // self._window_s)
        reset = max(1, math.ceil((window + 1) * self._window_s - now))
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
        return Allowance(True, limit, limit - count - 1, reset)

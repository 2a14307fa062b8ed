"""The Redis the gateway's worker processes share (rate-limit counters, cache invalidations).

One client per process and event loop, made on first use; `None` where no Redis is configured
(`WENYUAN_REDIS__URL` empty), and callers then keep their state in the process. A client does not
connect until its first command, so a Redis that is down shows as `redis.exceptions.RedisError`
(ConnectionError, TimeoutError) on the calls that need it; each caller decides its fall-back.
"""

from __future__ import annotations

import asyncio
import threading

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.settings import Settings

# One immediate retry (a pooled connection the server has closed), no backoff: the client's default
# retries with exponential backoff for seconds, and a request must not wait that long for a counter.
RETRIES = 1

_async: dict[tuple[str, int], redis.asyncio.Redis] = {}
_sync: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def redis_client(settings: Settings) -> redis.asyncio.Redis | None:
    """The asyncio client of this process for the running event loop (a client is bound to its loop)."""
    url = settings.redis.url
    if not url:
        return None
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = 0
    key = (url, loop_id)
    with _lock:
        client = _async.get(key)
        if client is None:
            client = _async[key] = redis.asyncio.Redis.from_url(
                url, socket_timeout=settings.redis.timeout_s, socket_connect_timeout=settings.redis.timeout_s,
                health_check_interval=30, retry=AsyncRetry(NoBackoff(), RETRIES))
    return client


def redis_sync_client(settings: Settings) -> redis.Redis | None:
    """The blocking client of this process (for threads and scripts)."""
    url = settings.redis.url
    if not url:
        return None
    with _lock:
        client = _sync.get(url)
        if client is None:
            client = _sync[url] = redis.Redis.from_url(
                url, socket_timeout=settings.redis.timeout_s, socket_connect_timeout=settings.redis.timeout_s,
                health_check_interval=30, retry=Retry(NoBackoff(), RETRIES))
    return client


async def close_clients() -> None:
    """Close the asyncio clients of the running loop (the gateway's lifespan calls it on shutdown)."""
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        return
    with _lock:
        mine = [key for key in _async if key[1] == loop_id]
        clients = [_async.pop(key) for key in mine]
    for client in clients:
        await client.aclose()

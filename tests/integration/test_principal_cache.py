"""The gateway's principal cache (services/access/resolve.PrincipalCache) against the real access store and Redis:
a key's principal is read from the store once, and any change to the store ends it on the next request — made
in the same process, in another process (through Redis), or on another gateway worker."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access import generation, keys
from services.access.db import Database
from services.access.errors import InvalidKey
from services.access.principals import Principal
from services.access.resolve import PrincipalCache
from services.redis_store import close_clients
from services.settings import PROJECT_ROOT, Settings
from tests.access import OPERATOR, app_key, grant, make_institution, staff_key
from tests.helpers import run_coroutine

T = TypeVar("T")


def run(body: Callable[[], Awaitable[T]]) -> T:
    """One event loop per test (a Redis client is bound to its loop), its clients closed after."""
    async def main() -> T:
        try:
            return await body()
        finally:
            await close_clients()
    return run_coroutine(main())


def counting(cache: PrincipalCache) -> list[str]:
    """The keys the cache read from the store, in order."""
    reads: list[str] = []
    load = cache._load

    def counted(key: str) -> Any:
        reads.append(key)
        return load(key)
    cache._load = counted  # type: ignore[method-assign]
    return reads


def revoke(db: Database, key: str) -> None:
    with db.session() as s:
        keys.revoke_key(s, OPERATOR, key.split(".")[0])


async def refused(cache: PrincipalCache, key: str) -> bool:
    try:
        await cache.principal(key)
    except InvalidKey:
        return True
    return False


def test_a_principal_is_read_once_and_a_revocation_in_this_process_ends_it(settings: Settings, db: Database) -> None:
    key, app_id = app_key(db)
    cache = PrincipalCache(db, settings)
    reads = counting(cache)

    async def body() -> tuple[Principal, Principal, bool]:
        first, second = await cache.principal(key), await cache.principal(key)
        revoke(db, key)
        return first, second, await refused(cache, key)

    first, second, gone = run(body)
    assert first == second and first.id == app_id
    assert reads == [key, key]  # the second request hit the cache; the one after the revocation read the store
    assert gone


def test_a_change_made_by_another_process_reaches_the_cache_through_redis(settings: Settings, db: Database) -> None:
    assert settings.redis.url, "the local stack runs Redis"
    key, _ = app_key(db)
    cache = PrincipalCache(db, settings)
    reads = counting(cache)
    script = "\n".join((  # another process: the store and Redis, nothing shared with this one
        "import sys",
        "from schemas.access import OPERATOR_SCOPES, PrincipalKind",
        "from services.access import keys",
        "from services.access.db import Database",
        "from services.access.principals import Principal",
        "from services.settings import get_settings",
        "db = Database(get_settings().db)",
        "with db.session() as s:",
        "    keys.revoke_key(s, Principal(PrincipalKind.OPERATOR, id='t', scopes=OPERATOR_SCOPES), sys.argv[1])",
        "db.close()"))

    async def body() -> tuple[bool, bool]:
        await cache.principal(key)
        await cache.principal(key)
        local = generation.local()
        subprocess.run([sys.executable, "-c", script, key.split(".")[0]], cwd=PROJECT_ROOT, check=True, timeout=120)
        assert generation.local() == local  # nothing moved in this process: only Redis tells
        return await refused(cache, key), await refused(cache, key)

    assert run(body) == (True, True)
    assert reads == [key, key, key]


def test_without_redis_the_processes_own_changes_end_its_cached_principals(settings: Settings,
                                                                          db: Database) -> None:
    alone = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": None})})
    admin = staff_key(db, make_institution(db, "CN-SH"), Role.ADMIN)
    key, app_id = app_key(db)
    cache = PrincipalCache(db, alone)

    async def body() -> tuple[Principal, Principal, Principal, bool]:
        before = await cache.principal(key)
        grant_id = grant(db, admin, GranteeKind.APP, app_id, Tier.PREVIEW, GrantScope.BATCH, {"batch_id": "b-x"})
        granted = await cache.principal(key)
        again = await cache.principal(key)
        assert [g.id for g in granted.grants] == [grant_id]
        revoke(db, key)
        return before, granted, again, await refused(cache, key)

    before, granted, again, gone = run(body)
    assert before.grants == () and again is granted and gone


def test_with_redis_down_every_request_reads_the_store(settings: Settings, db: Database) -> None:
    down = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": "redis://127.0.0.1:1/0",
                                                                                  "timeout_s": 0.2})})
    key, _ = app_key(db)
    cache = PrincipalCache(db, down)
    reads = counting(cache)

    async def body() -> bool:
        await cache.principal(key)
        await cache.principal(key)
        revoke(db, key)
        return await refused(cache, key)

    assert run(body)
    assert reads == [key, key, key]  # whether another worker changed the store is unknown: nothing is kept


def _me(conn: http.client.HTTPConnection, key: str | None = None, method: str = "GET", path: str = "/v1/me",
        admin: str | None = None) -> tuple[int, dict[str, Any]]:
    conn.request(method, path, headers={"Authorization": f"Bearer {admin or key}"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b"{}")


def test_a_key_revoked_on_one_gateway_worker_stops_on_the_next_request_to_another(settings: Settings,
                                                                                  db: Database) -> None:
    from tests.integration.test_ratelimit_workers import _connections_on_two_workers, _workers

    admin = staff_key(db, make_institution(db, "CN-SH"), Role.ADMIN)
    member = staff_key(db, admin.institution, Role.VIEWER)
    first, second = _connections_on_two_workers(settings, _workers(settings)).values()
    try:
        seen = [_me(conn, member.key)[0] for conn in (first, second, first, second)]  # cached on both workers now
        status, _ = _me(first, method="DELETE", path=f"/v1/admin/keys/{member.key.split('.')[0]}", admin=admin.key)
        after = [_me(conn, member.key)[0] for conn in (second, first)]
    finally:
        first.close()
        second.close()
    assert seen == [200] * 4 and status == 200
    assert after == [401, 401]


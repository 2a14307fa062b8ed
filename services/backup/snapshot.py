"""The Elasticsearch part of a backup: a snapshot of the service's indices and aliases in a registered repository.

Every index whose name starts with the service's prefix (`<prefix>-assets-v3`, `<prefix>-label-decisions`…) and
the aliases on them; never the cluster's global state (templates, settings, other tenants' indices). The
repository is registered from Settings.backup (`fs` locally: a directory listed in the node's `path.repo`; `s3`
in production, which needs the repository-s3 module) when the cluster does not know it yet.
"""

from __future__ import annotations

import logging
import time

from elasticsearch import Elasticsearch, NotFoundError

from services.backup.manifest import BackupError, Progress, SnapshotPart
from services.settings import Settings

log = logging.getLogger(__name__)


def pattern(settings: Settings) -> str:
    return f"{settings.es.index_prefix}-*"


def service_indices(es: Elasticsearch, settings: Settings) -> dict[str, int]:
    """The service's indices → their document counts (after a refresh, so a count is what a search sees)."""
    found = es.indices.get(index=pattern(settings), expand_wildcards="open,closed", allow_no_indices=True,
                           ignore_unavailable=True)
    if not found:
        return {}
    es.indices.refresh(index=pattern(settings), allow_no_indices=True, ignore_unavailable=True)
    return {name: int(es.count(index=name)["count"]) for name in sorted(found)}


def service_aliases(es: Elasticsearch, settings: Settings) -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    body = es.indices.get_alias(index=pattern(settings), allow_no_indices=True, ignore_unavailable=True).body
    for index, entry in body.items():
        for alias in entry.get("aliases", {}):
            aliases.setdefault(alias, []).append(index)
    return {alias: sorted(indices) for alias, indices in sorted(aliases.items())}


def ensure_repository(es: Elasticsearch, name: str, kind: str, repo_settings: dict[str, str]) -> None:
    try:
        have = es.snapshot.get_repository(name=name).body[name]
    except NotFoundError:
        have = None
    if have is not None and have.get("type") == kind and all(have["settings"].get(k) == v
                                                               for k, v in repo_settings.items()):
        return
    try:
        es.snapshot.create_repository(name=name, repository={"type": kind, "settings": repo_settings}, verify=True)
    except Exception as exc:
        hint = ("it must lie within the node's path.repo (the local stack sets .run/snapshots)" if kind == "fs"
                else "the node needs the repository-s3 module and credentials in its keystore")
        raise BackupError(f"Elasticsearch refused the snapshot repository {name} ({kind}, {repo_settings}): {exc}; "
                          f"{hint}") from exc
    log.info("snapshot repository registered", extra={"repository": name, "type": kind})


def take(es: Elasticsearch, settings: Settings, snapshot: str, progress: Progress) -> SnapshotPart:
    """Snapshot the service's indices and aliases; waits for it to end, reporting the shards done."""
    backup = settings.backup
    repo_settings = backup.repository_settings()
    ensure_repository(es, backup.repository, backup.repository_type.value, repo_settings)
    indices = service_indices(es, settings)
    aliases = service_aliases(es, settings)
    nodes = es.nodes.info(node_id="_local", metric="_none", filter_path="nodes.*.version").body["nodes"]
    version = str(next(iter(nodes.values()))["version"])  # GET / is not served by every distribution
    part = SnapshotPart(repository=backup.repository, repository_type=backup.repository_type.value,
                        repository_settings=repo_settings, snapshot=snapshot, version=version, indices=indices,
                        aliases=aliases)
    if not indices:
        return part
    es.snapshot.create(repository=backup.repository, snapshot=snapshot, indices=",".join(indices),
                       include_global_state=False, ignore_unavailable=False, partial=False,
                       wait_for_completion=False, metadata={"by": "wenyuan admin backup"})
    step = progress.step("Elasticsearch snapshot (shards)")
    deadline = time.monotonic() + backup.timeout_s
    done_before = 0
    while True:
        info = es.snapshot.get(repository=backup.repository, snapshot=snapshot).body["snapshots"][0]
        shards = info.get("shards", {})
        status = es.snapshot.status(repository=backup.repository, snapshot=snapshot).body["snapshots"][0]
        stats = status["shards_stats"]
        step.total(int(stats["total"]))
        step.advance(int(stats["done"]) - done_before)
        done_before = int(stats["done"])
        if info["state"] in {"SUCCESS", "FAILED", "PARTIAL", "INCOMPATIBLE"}:
            break
        if time.monotonic() > deadline:
            raise BackupError(f"snapshot {snapshot} still {info['state']} after {backup.timeout_s:.0f} s")
        time.sleep(0.5)
    if info["state"] != "SUCCESS" or shards.get("failed"):
        raise BackupError(f"snapshot {snapshot} ended {info['state']}: {info.get('failures') or shards}")
    return part


def refusal(es: Elasticsearch, settings: Settings) -> str | None:
    """Why a restore without `replace` may not go on: the service's indices hold documents."""
    present = service_indices(es, settings)
    if any(present.values()):
        return f"Elasticsearch holds {sum(present.values())} documents in {', '.join(present)}"
    return None


def restore(es: Elasticsearch, settings: Settings, part: SnapshotPart, progress: Progress) -> dict[str, int]:
    """Put the snapshot's indices and aliases back; returns the document counts found after. Every index of the
    service is deleted first (the caller checked `refusal`), so no alias is left pointing at an index the backup
    did not have."""
    ensure_repository(es, part.repository, part.repository_type, part.repository_settings)
    present = service_indices(es, settings)
    if present:
        es.indices.delete(index=",".join(present), expand_wildcards="open,closed")
    if not part.indices:
        return {}
    step = progress.step("Elasticsearch restore (indices)", total=len(part.indices))
    try:
        slow = es.options(request_timeout=settings.backup.timeout_s)
        slow.snapshot.restore(repository=part.repository, snapshot=part.snapshot, indices=",".join(part.indices),
                              include_aliases=True, include_global_state=False, wait_for_completion=True)
    except NotFoundError as exc:
        raise BackupError(f"snapshot {part.snapshot} is not in repository {part.repository}: {exc}") from exc
    es.cluster.health(index=",".join(part.indices), wait_for_status="yellow",
                      timeout=f"{int(settings.backup.timeout_s)}s")
    step.advance(len(part.indices))
    return service_indices(es, settings)


def forget(es: Elasticsearch, part: SnapshotPart) -> bool:
    """Delete the snapshot from its repository; False when it was not there."""
    try:
        es.snapshot.delete(repository=part.repository, snapshot=part.snapshot)
    except NotFoundError:
        return False
    return True

"""A whole backup and a whole restore: Elasticsearch, the access database and the buckets, in that order.

`make_backup` writes the directory and its manifest.json last, so a backup with a manifest is complete.
`restore_backup` puts everything back and checks it against the manifest: document counts per index, the
aliases, row counts per table, and every object's size and ETag; `check_backup` does the same checks
without writing anything (after a restore, or to see what a live stack has lost since the backup).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch
from minio import Minio

from indexing.client import make_client as make_es_client
from services import __version__
from services.access.db import Database
from services.backup import database, objects, snapshot
from services.backup.manifest import (
    QUIET,
    BackupError,
    Manifest,
    Progress,
    differences,
    read_manifest,
    write_manifest,
)
from services.backup.objects import BucketCheck
from services.settings import Settings
from services.storage import make_client as make_s3_client

log = logging.getLogger(__name__)


def backup_id(now: datetime) -> str:
    """`wenyuan-20261203t190512z`: sortable, and a valid snapshot name (lowercase)."""
    return "wenyuan-" + now.strftime("%Y%m%dt%H%M%Sz")


@dataclass
class Clients:
    es: Elasticsearch
    s3: Minio

    @classmethod
    def of(cls, settings: Settings) -> Clients:
        return cls(make_es_client(settings.es), make_s3_client(settings.s3))

    def close(self) -> None:
        self.es.close()


def make_backup(settings: Settings, folder: Path | None = None, *, copy_objects: bool | None = None,
                clients: Clients | None = None, progress: Progress = QUIET) -> tuple[Path, Manifest]:
    """Back up into `folder` (default: Settings.backup.dir/<id>), which must not hold a backup yet."""
    started = datetime.now(UTC)
    ident = backup_id(started)
    folder = folder or settings.backup.dir / ident
    if (folder / "manifest.json").exists():
        raise BackupError(f"{folder} holds a backup already; name a new directory")
    folder.mkdir(parents=True, exist_ok=True)
    copy = settings.backup.copy_objects if copy_objects is None else copy_objects
    own = clients is None
    c = clients or Clients.of(settings)
    manifest = Manifest(id=ident, started_at=started, wenyuan_version=__version__,
                        environment=settings.environment.value, index_prefix=settings.es.index_prefix)
    try:
        manifest.elasticsearch = snapshot.take(c.es, settings, ident, progress)
        try:
            step = progress.step("access database", total=1)
            manifest.database = database.dump(settings.db, settings.backup, folder)
            step.advance()
            manifest.buckets = [objects.list_bucket(c.s3, bucket, folder, copy=copy,
                                                    preferred_part_size=settings.ingest.part_size_bytes,
                                                    progress=progress)
                                for bucket in settings.s3.buckets]
        except BaseException:  # no manifest will name the snapshot: leave no orphan in the repository
            snapshot.forget(c.es, manifest.elasticsearch)
            raise
    finally:
        if own:
            c.close()
    manifest.finished_at = datetime.now(UTC)
    write_manifest(folder, manifest)
    log.info("backup made", extra={"backup": ident, "folder": str(folder), **manifest.counts()})
    return folder, manifest


@dataclass
class Report:
    """What a restore or a check found, against what the manifest says."""

    manifest: Manifest
    documents: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    buckets: list[BucketCheck] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What was lost: fewer documents or rows than the backup holds, an alias gone, an object missing or
        changed. More than the backup holds is no loss (the service went on writing: audit events, batches)."""
        found: list[str] = []
        es, db = self.manifest.elasticsearch, self.manifest.database
        if es is not None:
            found += [f"index {k}: {want} documents in the backup, {have or 0} now"
                      for k, (want, have) in differences(es.indices, self.documents).items()
                      if want is not None and (have or 0) < want]
            found += [f"alias {k} (on {', '.join(want)}) is gone"
                      for k, (want, have) in differences(es.aliases, self.aliases).items() if want and not have]
        if db is not None:
            found += [f"table {k}: {want} rows in the backup, {have or 0} now"
                      for k, (want, have) in differences(db.tables, self.rows).items()
                      if want is not None and (have or 0) < want]
        for b in self.buckets:
            if b.missing:
                found.append(f"bucket {b.name}: {len(b.missing)} of {b.checked} objects missing or different "
                             f"(first: {', '.join(b.missing[:3])})")
        return found

    def counts(self) -> dict[str, int]:
        return {"indices": len(self.documents), "documents": sum(self.documents.values()),
                "aliases": len(self.aliases), "tables": len(self.rows), "rows": sum(self.rows.values()),
                "objects checked": sum(b.checked for b in self.buckets),
                "objects matching": sum(b.matched for b in self.buckets),
                "objects copied back": sum(b.recopied for b in self.buckets),
                "objects missing": sum(len(b.missing) for b in self.buckets)}


def restore_backup(settings: Settings, folder: Path, *, replace: bool = False, clients: Clients | None = None,
                   progress: Progress = QUIET) -> Report:
    """Put the backup in `folder` back into the configured stack, then check it. The backup must be of the same
    index prefix; a stack that holds data is refused unless `replace`."""
    manifest = read_manifest(folder)
    if manifest.index_prefix != settings.es.index_prefix:
        raise BackupError(f"the backup is of index prefix {manifest.index_prefix!r}; WENYUAN_ES__INDEX_PREFIX is "
                          f"{settings.es.index_prefix!r}")
    own = clients is None
    c = clients or Clients.of(settings)
    report = Report(manifest)
    try:
        _refuse(c, settings, folder, manifest, replace)  # before anything is written
        if manifest.elasticsearch is not None:
            report.documents = snapshot.restore(c.es, settings, manifest.elasticsearch, progress)
            report.aliases = snapshot.service_aliases(c.es, settings)
        if manifest.database is not None:
            step = progress.step("access database", total=1)
            report.rows = database.restore(settings.db, settings.backup, folder, manifest.database)
            step.advance()
        report.buckets = objects.restore_buckets(c.s3, settings, folder, manifest.buckets, repair=True,
                                                 progress=progress)
    finally:
        if own:
            c.close()
    log.info("backup restored", extra={"backup": manifest.id, "problems": len(report.problems())})
    return report


def _refuse(c: Clients, settings: Settings, folder: Path, manifest: Manifest, replace: bool) -> None:
    held: list[str] = []
    if manifest.elasticsearch is not None and (why := snapshot.refusal(c.es, settings)):
        held.append(why)
    if manifest.database is not None:
        cannot, why_db = database.refusal(settings.db, folder, manifest.database)
        if cannot:
            raise BackupError(cannot)
        if why_db:
            held.append(why_db)
    if held and not replace:
        raise BackupError("; ".join(held) + ": nothing was restored. Stop the gateway and Airflow, then restore with "
                          "--replace to put the backup's data in their place")


def check_backup(settings: Settings, folder: Path, *, clients: Clients | None = None,
                 progress: Progress = QUIET) -> Report:
    """Compare the stack with the backup, writing nothing."""
    manifest = read_manifest(folder)
    own = clients is None
    c = clients or Clients.of(settings)
    report = Report(manifest)
    try:
        report.documents = snapshot.service_indices(c.es, settings)
        report.aliases = snapshot.service_aliases(c.es, settings)
        db = Database(settings.db)
        try:
            report.rows = database.row_counts(db.engine)
        finally:
            db.close()
        report.buckets = objects.restore_buckets(c.s3, settings, folder, manifest.buckets, repair=False,
                                                 progress=progress)
    finally:
        if own:
            c.close()
    return report


def forget_backup(settings: Settings, folder: Path, *, clients: Clients | None = None) -> bool:
    """Delete a backup's snapshot from the repository (the directory is the caller's to remove)."""
    manifest = read_manifest(folder)
    if manifest.elasticsearch is None or not manifest.elasticsearch.indices:
        return False
    own = clients is None
    c = clients or Clients.of(settings)
    try:
        return snapshot.forget(c.es, manifest.elasticsearch)
    finally:
        if own:
            c.close()

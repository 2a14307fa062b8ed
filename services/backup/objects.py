"""The buckets in a backup: a listing of every object (key, size, ETag, version), and optionally the objects.

Originals are content-addressed and never rewritten, so a listing is enough to prove after a restore that the
object store still holds every byte the index and the database point at (a restore checks each key's size and
ETag). Copying the objects too (`--objects`, Settings.backup.copy_objects) makes the backup self-sufficient
at the price of its size: a museum's masters run to terabytes; there the S3 server's own protection (bucket
versioning, replication to a second site) is the better copy, and the listing is what checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from minio import Minio
from minio.error import S3Error

from services.backup.manifest import (
    BackupError,
    BucketPart,
    ObjectEntry,
    Outcome,
    Progress,
    compare,
    etag_part_size,
    matches_etag,
    object_path,
    read_listing,
    write_listing,
)
from services.settings import Settings

log = logging.getLogger(__name__)
MIN_PART = 5 * 1024 * 1024  # S3's smallest part (the minio client's too)


def versioning(s3: Minio, bucket: str) -> str:
    """Enabled, Suspended or Off as the server reports it; `unsupported` when it cannot version (versitygw's
    posix backend without --versioning-dir)."""
    try:
        status = s3.get_bucket_versioning(bucket).status
    except S3Error as exc:
        log.info("bucket versioning not offered", extra={"bucket": bucket, "code": exc.code})
        return "unsupported"
    return str(status or "Off")


def _entries(s3: Minio, bucket: str, step_advance: object) -> Iterator[ObjectEntry]:
    for obj in s3.list_objects(bucket, recursive=True):
        if obj.is_dir or obj.object_name is None:
            continue
        yield ObjectEntry(key=obj.object_name, size=int(obj.size or 0), etag=(obj.etag or "").strip('"'),
                          version_id=obj.version_id, last_modified=obj.last_modified)
        if callable(step_advance):
            step_advance(1)


def list_bucket(s3: Minio, bucket: str, folder: Path, *, copy: bool, preferred_part_size: int,
                progress: Progress) -> BucketPart:
    listing = Path("buckets") / f"{bucket}.jsonl"
    if not s3.bucket_exists(bucket):
        raise BackupError(f"bucket {bucket} does not exist")
    step = progress.step(f"bucket {bucket}: listing")
    count, size = write_listing(folder / listing, _entries(s3, bucket, step.advance))
    if copy:
        step = progress.step(f"bucket {bucket}: copying", total=count)
        for entry in read_listing(folder / listing):
            target = object_path(folder, bucket, entry.key)
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.fget_object(bucket, entry.key, str(target))
            if not matches_etag(target, entry.etag, preferred_part_size):
                raise BackupError(f"{bucket}/{entry.key} changed while it was copied (ETag {entry.etag}); back up "
                                  "again")
            step.advance()
    return BucketPart(name=bucket, listing=str(listing), objects=count, bytes=size, versioning=versioning(s3, bucket),
                      copied=copy)


@dataclass
class BucketCheck:
    name: str
    checked: int = 0
    matched: int = 0
    recopied: int = 0
    missing: list[str] = field(default_factory=list)  # or different, and not in the backup to copy back

    @property
    def ok(self) -> bool:
        return not self.missing


def _found(s3: Minio, bucket: str, key: str) -> tuple[int, str] | None:
    try:
        stat = s3.stat_object(bucket, key)
    except S3Error as exc:
        if exc.code in {"NoSuchKey", "NotFound", "NoSuchObject"}:
            return None
        raise
    return int(stat.size or 0), stat.etag or ""


def check_bucket(s3: Minio, folder: Path, part: BucketPart, *, repair: bool, preferred_part_size: int,
                 progress: Progress) -> BucketCheck:
    """Every listed object against the bucket: the same size and ETag. With `repair` and a backup that copied
    the objects, a missing or different one is put back from the backup (and the bucket made if it is gone)."""
    result = BucketCheck(part.name)
    if repair and not s3.bucket_exists(part.name):
        s3.make_bucket(part.name)
    step = progress.step(f"bucket {part.name}: checking", total=part.objects)
    for entry in read_listing(folder / part.listing):
        result.checked += 1
        step.advance()
        outcome = compare(entry, _found(s3, part.name, entry.key))
        if outcome is Outcome.MATCHES:
            result.matched += 1
            continue
        source = object_path(folder, part.name, entry.key) if part.copied else None
        part_size = (etag_part_size(source, entry.etag, preferred_part_size)
                     if repair and source is not None and source.is_file() else None)
        if source is None or part_size is None:
            result.missing.append(entry.key)
            continue
        # In parts of the size it was uploaded in, so that it has its old ETag again (one PUT: the MD5).
        s3.fput_object(part.name, entry.key, str(source), part_size=part_size or max(entry.size, MIN_PART))
        result.recopied += 1
    return result


def restore_buckets(s3: Minio, settings: Settings, folder: Path, parts: list[BucketPart], *, repair: bool,
                    progress: Progress) -> list[BucketCheck]:
    return [check_bucket(s3, folder, part, repair=repair, preferred_part_size=settings.ingest.part_size_bytes,
                         progress=progress) for part in parts]

"""What a backup holds: `manifest.json` (what, when, versions, counts) and one JSON Lines listing per bucket.

A backup is a directory:

    manifest.json            the Manifest below
    database.dump            pg_dump's custom format (PostgreSQL), or database.sqlite (SQLite's backup API)
    buckets/<bucket>.jsonl   every object: key, size, ETag, version id, last modified
    objects/<bucket>/<key>   the objects themselves, only when the backup copied them

The Elasticsearch snapshot is not in the directory: it lives in the snapshot repository the manifest names.
Everything here is pure (no service is called), so it is unit-tested.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

FORMAT = 1
MANIFEST = "manifest.json"
MiB = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or a restore that cannot go on; the message says why and what to do."""


class Progress(Protocol):
    """Where a long step reports how far it is (the CLI draws a rich progress bar)."""

    def step(self, description: str, total: int | None = None) -> Step: ...


class Step(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def total(self, total: int) -> None: ...


class _Quiet:
    def step(self, description: str, total: int | None = None) -> _Quiet:
        return self

    def advance(self, n: int = 1) -> None:
        pass

    def total(self, total: int) -> None:
        pass


QUIET: Progress = _Quiet()


class SnapshotPart(BaseModel):
    repository: str
    repository_type: str
    repository_settings: dict[str, str]
    snapshot: str
    version: str = Field(description="Elasticsearch's version that made it (restores into the same or newer).")
    indices: dict[str, int] = Field(description="Every index of the service → its document count.")
    aliases: dict[str, list[str]] = Field(description="Every alias → the indices it points at.")


class DatabasePart(BaseModel):
    dialect: str = Field(description="sqlite or postgresql.")
    file: str = Field(description="The dump, relative to the backup directory.")
    revision: str | None = Field(description="Alembic revision of the schema.")
    server_version: str | None = None
    tables: dict[str, int] = Field(description="Every table → its row count.")


class BucketPart(BaseModel):
    name: str
    listing: str = Field(description="The JSON Lines listing of its objects, relative to the backup directory.")
    objects: int
    bytes: int
    versioning: str = Field(description="The bucket's versioning status as the S3 server reports it (Enabled, "
                                        "Suspended, Off), or `unsupported`.")
    copied: bool = Field(description="Whether the objects themselves are in the backup (objects/<bucket>/).")


class Manifest(BaseModel):
    format: int = FORMAT
    id: str
    started_at: datetime
    finished_at: datetime | None = None
    wenyuan_version: str
    environment: str
    index_prefix: str
    elasticsearch: SnapshotPart | None = None
    database: DatabasePart | None = None
    buckets: list[BucketPart] = []

    def counts(self) -> dict[str, int]:
        """The totals a restore checks, by what they count."""
        es = self.elasticsearch
        db = self.database
        return {"indices": len(es.indices) if es else 0, "documents": sum(es.indices.values()) if es else 0,
                "aliases": len(es.aliases) if es else 0, "tables": len(db.tables) if db else 0,
                "rows": sum(db.tables.values()) if db else 0, "buckets": len(self.buckets),
                "objects": sum(b.objects for b in self.buckets), "bytes": sum(b.bytes for b in self.buckets)}


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a manifest is whole or absent
    return path


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}")
    manifest = Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    if manifest.format != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.format}; this Wenyuan reads format {FORMAT}")
    if manifest.finished_at is None:
        raise BackupError(f"{path}: the backup {manifest.id} did not finish; make a new one")
    return manifest


class ObjectEntry(BaseModel):
    key: str
    size: int
    etag: str
    version_id: str | None = None
    last_modified: datetime | None = None


def write_listing(path: Path, entries: Iterable[ObjectEntry]) -> tuple[int, int]:
    """Write the listing one object a line (flat memory for millions of keys); (objects, bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = size = 0
    with path.open("w", encoding="utf-8") as out:
        for entry in entries:
            out.write(entry.model_dump_json(exclude_none=True) + "\n")
            count += 1
            size += entry.size
    return count, size


def read_listing(path: Path) -> Iterator[ObjectEntry]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield ObjectEntry.model_validate(json.loads(line))


def object_path(folder: Path, bucket: str, key: str) -> Path:
    """Where a copied object lies in the backup; a key that would climb out of it is refused."""
    base = (folder / "objects" / bucket).resolve()
    path = (base / key).resolve()
    if not path.is_relative_to(base) or path == base:
        raise BackupError(f"object key {key!r} of bucket {bucket} cannot be a file of the backup")
    return path


def clean_etag(etag: str) -> str:
    return etag.strip().strip('"').lower()


def file_etag(path: Path, parts: int = 0, part_size: int = 0) -> str:
    """The S3 ETag of a file: its MD5 (a single PUT), or for `parts` > 0 the MD5 of its parts' MD5s + `-parts`."""
    if not parts:
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as f:
            while chunk := f.read(MiB):
                digest.update(chunk)
        return digest.hexdigest()
    joined = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(part_size):
            joined.update(hashlib.md5(chunk, usedforsecurity=False).digest())
    return f"{joined.hexdigest()}-{parts}"


def part_sizes(size: int, parts: int, preferred: int) -> list[int]:
    """Part sizes a multipart upload of `size` bytes in `parts` parts may have used: `preferred` (the service's own
    uploads), the sizes common clients use, and the size in whole MiB that splits it evenly."""
    even = -(-size // max(parts, 1) // MiB) * MiB if parts else 0
    candidates = [preferred, *(m * MiB for m in (5, 8, 10, 16, 15, 25, 32, 50, 64, 100, 128, 256, 512)), even]
    return list(dict.fromkeys(p for p in candidates if p > 0 and -(-size // p) == parts))


def etag_part_size(path: Path, etag: str, preferred_part_size: int = 8 * MiB) -> int | None:
    """The part size under which a file has this ETag: 0 for an MD5 (one PUT), the size of its parts for a
    multipart ETag; None when the file does not have it."""
    etag = clean_etag(etag)
    if "-" not in etag:
        return 0 if file_etag(path) == etag else None
    parts = int(etag.rsplit("-", 1)[1])
    return next((p for p in part_sizes(path.stat().st_size, parts, preferred_part_size)
                 if file_etag(path, parts, p) == etag), None)


def matches_etag(path: Path, etag: str, preferred_part_size: int = 8 * MiB) -> bool:
    return etag_part_size(path, etag, preferred_part_size) is not None


class Outcome(StrEnum):
    MATCHES = "matches"
    MISSING = "missing"
    DIFFERS = "differs"


def compare(entry: ObjectEntry, found: tuple[int, str] | None) -> Outcome:
    """The object the manifest lists against what the bucket holds under its key now (size, ETag), if anything."""
    if found is None:
        return Outcome.MISSING
    size, etag = found
    if size != entry.size or clean_etag(etag) != clean_etag(entry.etag):
        return Outcome.DIFFERS
    return Outcome.MATCHES


def differences(want: dict[str, Any], have: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{name: (in the backup, found)} for every name whose value differs (a missing one is None)."""
    return {k: (want.get(k), have.get(k)) for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k)}

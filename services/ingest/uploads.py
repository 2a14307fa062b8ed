"""Upload targets: presigned URLs that let a museum's client send files straight to staging.

Small files get one presigned PUT; files from `ingest.multipart_threshold_bytes` on get an S3
multipart upload — one presigned URL per part, completed through the gateway with the parts'
ETags. Each target carries the ETag of an object already staged under that path, so a client
that stopped half-way can skip what it already sent (it compares with the checksum it computes:
MD5 for one part, the S3 multipart ETag for several). A declared size over the largest file any
kind accepts (`largest_file_bytes`) is refused before a target is made: a file that would be
rejected anyway gets no URL, and a size of a petabyte no ten thousand parts of 100 GB.
"""

from __future__ import annotations

import math
from datetime import timedelta

from minio import Minio
from minio.datatypes import Part
from pydantic import BaseModel, Field, field_validator, model_validator

from schemas.manifest import safe_relative_path
from services.ingest.batches import manifest_key, staged_file_key
from services.ingest.manifest import manifest_format
from services.settings import Settings, get_settings
from services.storage import stat

UPLOAD_TTL = timedelta(hours=12)


def largest_file_bytes(settings: Settings) -> int:
    """The largest file of any kind the service accepts (images: ingest.max_file_bytes; documents, recordings and
    3D models: media.max_file_bytes); the store step holds each kind to its own limit below it."""
    return max(settings.ingest.max_file_bytes, settings.media.max_file_bytes)


def _within_limit(name: str, size: int) -> None:
    limit = largest_file_bytes(get_settings())
    if size > limit:
        raise ValueError(f"{name}: {size:,} bytes is more than the largest file the service accepts "
                         f"({limit:,} bytes)")


class FileToUpload(BaseModel):
    path: str = Field(min_length=1, description="Path relative to the batch folder, '/' separators.")
    size: int = Field(ge=0, strict=True, description="Size in bytes; at most the largest file the service accepts "
                                        "(ingest.max_file_bytes, media.max_file_bytes).")

    @field_validator("path")
    @classmethod
    def _safe(cls, path: str) -> str:
        return safe_relative_path(path)  # the same rule as manifest rows: relative, inside the batch

    @model_validator(mode="after")
    def _not_too_large(self) -> FileToUpload:
        _within_limit(self.path, self.size)
        return self


# The rule of _format below, as the OpenAPI says it: a file name (no folders) ending .csv, .jsonl or .ndjson.
MANIFEST_NAME = r"^[^/\\]+\.([Cc][Ss][Vv]|[Jj][Ss][Oo][Nn][Ll]|[Nn][Dd][Jj][Ss][Oo][Nn])$"


class ManifestToUpload(BaseModel):
    name: str = Field(description="File name of the manifest, .csv or .jsonl.",
                      json_schema_extra={"pattern": MANIFEST_NAME})
    size: int = Field(ge=0, strict=True)

    @field_validator("name")
    @classmethod
    def _format(cls, name: str) -> str:
        if "/" in name or "\\" in name:
            raise ValueError("the manifest name is a file name, without folders")
        manifest_format(name)
        return name

    @model_validator(mode="after")
    def _not_too_large(self) -> ManifestToUpload:
        _within_limit(self.name, self.size)
        return self


class PartTarget(BaseModel):
    part_number: int
    url: str


class UploadTarget(BaseModel):
    path: str
    key: str = Field(description="Object key in the staging bucket.")
    url: str | None = Field(None, description="Presigned PUT for the whole file (single-part uploads).")
    upload_id: str | None = Field(None, description="S3 multipart upload id (multipart uploads).")
    part_size: int | None = None
    parts: list[PartTarget] = Field(default_factory=list)
    existing_etag: str | None = Field(None, description="ETag of the object already staged here, if any.")


class CompletedPart(BaseModel):
    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1)


class CompleteMultipart(BaseModel):
    path: str = Field(min_length=1)
    upload_id: str = Field(min_length=1)
    parts: list[CompletedPart] = Field(min_length=1)


def _target(s3: Minio, settings: Settings, key: str, path: str, size: int) -> UploadTarget:
    bucket, ing = settings.s3.bucket_staging, settings.ingest
    existing = stat(s3, bucket, key)
    target = UploadTarget(path=path, key=key, existing_etag=existing.etag.strip('"') if existing and existing.etag
                          else None)
    if size < ing.multipart_threshold_bytes:
        target.url = s3.presigned_put_object(bucket, key, expires=UPLOAD_TTL)
        return target
    part_size = max(ing.part_size_bytes, math.ceil(size / 10_000), 5 * 1024 * 1024)
    target.upload_id = s3._create_multipart_upload(bucket, key, {})
    target.part_size = part_size
    target.parts = [
        PartTarget(part_number=n, url=s3.get_presigned_url(
            "PUT", bucket, key, expires=UPLOAD_TTL,
            extra_query_params={"uploadId": target.upload_id, "partNumber": str(n)}))
        for n in range(1, math.ceil(size / part_size) + 1)
    ]
    return target


def upload_targets(s3: Minio, settings: Settings, batch_id: str, manifest: ManifestToUpload,
                   files: list[FileToUpload]) -> tuple[UploadTarget, list[UploadTarget]]:
    m = _target(s3, settings, manifest_key(batch_id, manifest.name), manifest.name, manifest.size)
    return m, [_target(s3, settings, staged_file_key(batch_id, f.path), f.path, f.size) for f in files]


def complete_multipart(s3: Minio, settings: Settings, batch_id: str, done: CompleteMultipart) -> str:
    key = staged_file_key(batch_id, safe_relative_path(done.path))
    parts = [Part(p.part_number, p.etag) for p in sorted(done.parts, key=lambda p: p.part_number)]
    result = s3._complete_multipart_upload(settings.s3.bucket_staging, key, done.upload_id, parts)
    return str(result.etag).strip('"')

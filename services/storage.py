"""Object storage through the `minio` client: the client, the service's buckets, presigned URLs.

Any S3 server works (versitygw locally and in CI; see deploy/compose for production).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.datatypes import Object
from minio.error import S3Error

from services.bucket_cors import allow_browser
from services.settings import S3Settings

log = logging.getLogger(__name__)


def make_client(s3: S3Settings, *, timeout_s: float | None = None) -> Minio:
    """A client; with `timeout_s`, one that fails fast (no retries), for health probes."""
    http_client = None
    if timeout_s is not None:
        http_client = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s), retries=False
        )
    return Minio(
        s3.endpoint,
        access_key=s3.access_key,
        secret_key=s3.secret_key.get_secret_value(),
        secure=s3.secure,
        region=s3.region,
        http_client=http_client,
    )


def presigning_client(s3: S3Settings) -> Minio:
    """A client that signs URLs for the address clients reach (`s3.public_url`), without a network call."""
    if not s3.public_url:
        return make_client(s3)
    parts = urlsplit(s3.public_url)
    return Minio(parts.netloc, access_key=s3.access_key, secret_key=s3.secret_key.get_secret_value(),
                 secure=parts.scheme == "https", region=s3.region)


def ensure_buckets(client: Minio, s3: S3Settings, *, browser_origin: str | None = None) -> list[str]:
    """Create the service's buckets that do not exist yet; returns the ones created. With `browser_origin` (the
    gateway's public URL), the web UI's pages there may upload to staging and download from assets (bucket CORS)."""
    created = []
    for bucket in s3.buckets:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
            created.append(bucket)
            log.info("created bucket", extra={"bucket": bucket})
    if browser_origin:
        allow_browser(client, s3, browser_origin)
    return created


def presigned_get(client: Minio, bucket: str, key: str, ttl_s: int) -> str:
    return client.presigned_get_object(bucket, key, expires=timedelta(seconds=ttl_s))


class ObjectNotFound(LookupError):
    """No object under that key (S3 NoSuchKey)."""


def put_json(client: Minio, bucket: str, key: str, value: object) -> None:
    data = json.dumps(value, ensure_ascii=False, default=str).encode()
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="application/json")


def get_json(client: Minio, bucket: str, key: str) -> Any:
    return json.loads(get_bytes(client, bucket, key))


def get_bytes(client: Minio, bucket: str, key: str) -> bytes:
    try:
        resp = client.get_object(bucket, key)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            raise ObjectNotFound(f"{bucket}/{key}") from exc
        raise
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()


def stat(client: Minio, bucket: str, key: str) -> Object | None:
    try:
        return client.stat_object(bucket, key)
    except S3Error as exc:
        if exc.code in {"NoSuchKey", "NotFound"}:
            return None
        raise


def list_keys(client: Minio, bucket: str, prefix: str) -> Iterator[Object]:
    yield from client.list_objects(bucket, prefix=prefix, recursive=True)


def put_jsonl(client: Minio, bucket: str, key: str, rows: list[Any]) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode()
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="application/x-ndjson")


def get_jsonl(client: Minio, bucket: str, key: str) -> list[Any]:
    return [json.loads(line) for line in get_bytes(client, bucket, key).decode().splitlines() if line.strip()]

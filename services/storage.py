"""Object storage through the `minio` client: the client, the service's buckets, presigned URLs.

Any S3 server works (versitygw locally and in CI; see deploy/compose for production).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import urllib3
from minio import Minio

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


def ensure_buckets(client: Minio, s3: S3Settings) -> list[str]:
    """Create the service's buckets that do not exist yet; returns the ones created."""
    created = []
    for bucket in s3.buckets:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
            created.append(bucket)
            log.info("created bucket", extra={"bucket": bucket})
    return created


def presigned_get(client: Minio, bucket: str, key: str, ttl_s: int) -> str:
    return client.presigned_get_object(bucket, key, expires=timedelta(seconds=ttl_s))

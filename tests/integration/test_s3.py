"""The real S3 server of the stack (versitygw) through the `minio` client and plain HTTP."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import httpx
from minio import Minio

from services.settings import Settings

MiB = 1024 * 1024


def test_service_buckets_exist_after_up(s3: Minio, settings: Settings) -> None:
    assert all(s3.bucket_exists(b) for b in settings.s3.buckets)


def test_put_then_get_returns_the_same_bytes_and_metadata(s3: Minio, bucket: str) -> None:
    payload = "文渊 — 青花瓷".encode()

    s3.put_object(bucket, "notes/a.txt", io.BytesIO(payload), len(payload), content_type="text/plain",
                  metadata={"x-amz-meta-institution": "demo"})
    resp = s3.get_object(bucket, "notes/a.txt")

    assert resp.read() == payload
    assert resp.headers["content-type"] == "text/plain"
    assert resp.headers["x-amz-meta-institution"] == "demo"
    resp.close()


def test_multipart_upload_of_four_parts_reassembles_exactly(s3: Minio, bucket: str) -> None:
    payload = os.urandom(17 * MiB)  # 5 MiB parts → 4 parts, the last one 2 MiB

    result = s3.put_object(bucket, "big/blob.bin", io.BytesIO(payload), len(payload), part_size=5 * MiB)
    got = s3.get_object(bucket, "big/blob.bin").read()

    assert result.etag.endswith("-4")  # S3 marks a multipart object's ETag with its part count
    assert got == payload


def test_listing_by_prefix_returns_only_that_prefix(s3: Minio, bucket: str) -> None:
    for key in ("inst-a/1.jpg", "inst-a/sub/2.jpg", "inst-b/3.jpg"):
        s3.put_object(bucket, key, io.BytesIO(b"x"), 1)

    listed = sorted(o.object_name or "" for o in s3.list_objects(bucket, prefix="inst-a/", recursive=True))

    assert listed == ["inst-a/1.jpg", "inst-a/sub/2.jpg"]


def test_presigned_get_is_fetched_over_plain_http(s3: Minio, bucket: str) -> None:
    s3.put_object(bucket, "p/img.bin", io.BytesIO(b"pixels"), 6)
    url = s3.presigned_get_object(bucket, "p/img.bin", expires=timedelta(minutes=5))

    resp = httpx.get(url)

    assert resp.status_code == 200
    assert resp.content == b"pixels"


def test_presigned_get_is_refused_after_it_expires(s3: Minio, bucket: str) -> None:
    s3.put_object(bucket, "p/img.bin", io.BytesIO(b"pixels"), 6)
    url = s3.presigned_get_object(bucket, "p/img.bin", expires=timedelta(seconds=1))
    time.sleep(2.5)

    resp = httpx.get(url)

    assert resp.status_code == 403
    assert b"pixels" not in resp.content

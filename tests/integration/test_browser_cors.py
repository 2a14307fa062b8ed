"""The S3 server answers the web UI's CORS preflights as bucket_cors configures it (VersityGW's PutBucketCors).

The browser sends files to staging and fetches downloads from assets over presigned URLs, from the gateway's
origin; these tests put the configuration on buckets of their own and ask the server as a browser would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from minio import Minio

from services.bucket_cors import allow_browser
from services.settings import S3Settings, Settings


@pytest.fixture
def buckets(s3: Minio, settings: Settings) -> Iterator[S3Settings]:
    suffix = uuid.uuid4().hex[:10]
    own = settings.s3.model_copy(update={"bucket_staging": f"wenyuan-test-up-{suffix}",
                                         "bucket_assets": f"wenyuan-test-down-{suffix}"})
    for bucket in (own.bucket_staging, own.bucket_assets):
        s3.make_bucket(bucket)
    yield own
    for bucket in (own.bucket_staging, own.bucket_assets):
        for obj in s3.list_objects(bucket, recursive=True):
            s3.remove_object(bucket, obj.object_name or "")
        s3.remove_bucket(bucket)


def preflight(url: str, origin: str, method: str) -> httpx.Response:
    return httpx.options(url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                       "Access-Control-Request-Headers": "content-type"})


def test_a_page_of_a_loopback_gateway_on_any_port_may_put_to_staging_and_read_the_etag(
        s3: Minio, buckets: S3Settings) -> None:
    allow_browser(s3, buckets, "http://127.0.0.1:8000")
    url = s3.presigned_put_object(buckets.bucket_staging, "b-1/files/a.jpg", expires=timedelta(minutes=5))

    allowed = preflight(url, "http://127.0.0.1:41234", "PUT")
    put = httpx.put(url, content=b"pixels", headers={"Origin": "http://127.0.0.1:41234", "Content-Type": "image/jpeg"})

    assert allowed.status_code in (200, 204), allowed.text
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:41234"
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    assert put.status_code == 200
    assert put.headers["access-control-allow-origin"] == "http://127.0.0.1:41234"
    assert "etag" in put.headers["access-control-expose-headers"].lower()


def test_other_origins_and_other_methods_are_refused(s3: Minio, buckets: S3Settings) -> None:
    allow_browser(s3, buckets, "https://wenyuan.example.org")
    upload = s3.presigned_put_object(buckets.bucket_staging, "b-1/files/a.jpg")
    download = s3.presigned_get_object(buckets.bucket_assets, "inst/originals/a.jpg")

    assert preflight(upload, "https://wenyuan.example.org", "PUT").status_code in (200, 204)
    assert preflight(upload, "https://evil.example", "PUT").status_code == 403
    assert preflight(upload, "http://127.0.0.1:8000", "PUT").status_code == 403  # loopback only for a local gateway
    assert preflight(download, "https://wenyuan.example.org", "GET").status_code in (200, 204)
    assert preflight(download, "https://wenyuan.example.org", "PUT").status_code == 403

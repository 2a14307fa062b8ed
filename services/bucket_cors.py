"""Bucket CORS for the web UI: its pages send files straight to staging and fetch downloads from assets.

The browser talks to S3 over the presigned URLs the gateway hands out, so the S3 server must answer
the browser's CORS preflight for the gateway's origin: PUT on the staging bucket (uploads, with the
ETag exposed so multipart parts can be completed) and GET/HEAD on the assets bucket (a signed-in
caller's download, fetched with its key and then redirected to S3). VersityGW (v1.8 and later)
implements PutBucketCors and answers preflights from the stored rules; the `minio` client has no call
for it, so the request is sent through the client's own signed request method.

A loopback origin (`http://127.0.0.1:8000`) also allows every other port of that host, so gateways
that tests start on free ports can upload too; any other origin is allowed exactly.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from minio import Minio
from minio.helpers import md5sum_hash

from services.settings import S3Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_AGE_S = 3000


def browser_origins(public_url: str) -> list[str]:
    """The origins whose pages may use the buckets: the gateway's, and any port of it on loopback."""
    parts = urlsplit(public_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {public_url!r}")
    origin = f"{parts.scheme}://{parts.netloc}"
    host = parts.hostname or ""
    if host in LOOPBACK:
        return [origin, f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:*"]
    return [origin]


def cors_configuration(origins: list[str], methods: list[str]) -> bytes:
    """A CORSConfiguration document with one rule (S3's XML)."""
    rule = "".join(f"<AllowedOrigin>{escape(o)}</AllowedOrigin>" for o in origins)
    rule += "".join(f"<AllowedMethod>{m}</AllowedMethod>" for m in methods)
    rule += "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
    rule += f"<MaxAgeSeconds>{MAX_AGE_S}</MaxAgeSeconds>"
    return f"<CORSConfiguration><CORSRule>{rule}</CORSRule></CORSConfiguration>".encode()


def put_bucket_cors(client: Minio, bucket: str, configuration: bytes) -> None:
    client._execute("PUT", bucket, body=configuration, headers={"Content-MD5": md5sum_hash(configuration) or ""},
                    query_params={"cors": ""})


def allow_browser(client: Minio, s3: S3Settings, public_url: str) -> None:
    """Let pages served at `public_url` upload to staging and download from assets (idempotent)."""
    origins = browser_origins(public_url)
    put_bucket_cors(client, s3.bucket_staging, cors_configuration(origins, ["PUT"]))
    put_bucket_cors(client, s3.bucket_assets, cors_configuration(origins, ["GET", "HEAD"]))

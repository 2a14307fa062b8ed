"""Every knob of Wenyuan, in one place.

Each field is a ``WENYUAN_*`` environment variable; nested groups use ``__``
(``WENYUAN_ES__URL``, ``WENYUAN_S3__SECRET_KEY``). A ``.env`` file in the working
directory is read too. This is the only module that reads the environment: everything
else receives a ``Settings`` (``get_settings()`` caches one per process).

Defaults are for the local stack that ``deploy/local/stack.py`` starts on one machine,
bound to 127.0.0.1. Secrets have local placeholders that are refused when
``WENYUAN_ENVIRONMENT=production``.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCAL_S3_SECRET = "wenyuan-local-secret"  # placeholder: refused in production


class Environment(StrEnum):
    LOCAL = "local"
    CI = "ci"
    PRODUCTION = "production"


class ElasticsearchSettings(BaseModel):
    url: str = Field("http://127.0.0.1:9200", description="Elasticsearch HTTP endpoint.")
    request_timeout_s: float = Field(30.0, description="Per-request timeout of the client.")
    max_retries: int = Field(3, description="Retries on connection errors and 429/502/503/504.")
    index_prefix: str = Field("wenyuan", description="Prefix of every index and alias Wenyuan creates.")
    urls: list[str] = Field(default_factory=list, description="Every node's HTTP endpoint (JSON list): the client "
                            "spreads requests over them and retries a dead node's on another; empty: `url` alone "
                            "(the local stack fills it when stack.es_nodes > 1).")
    nodes: int | None = Field(None, ge=1, description="Nodes of the cluster, which shape the assets index (1: one "
                              "shard, no replica; 2 or more: 3 primaries x 1 replica); unset: the number of URLs.")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 9200

    @property
    def hosts(self) -> list[str]:
        return self.urls or [self.url]

    @property
    def cluster_nodes(self) -> int:
        return self.nodes or len(self.hosts)

    def node_urls(self, nodes: int) -> list[str]:
        """The HTTP endpoints of a local cluster of `nodes`: `url`'s host, its port plus 0, 1, 2…"""
        parts = urlsplit(self.url)
        return [f"{parts.scheme}://{parts.hostname}:{self.port + i}" for i in range(nodes)]


class S3Settings(BaseModel):
    endpoint: str = Field("127.0.0.1:9000", description="host:port of the S3 API (no scheme).")
    secure: bool = Field(False, description="Use HTTPS to reach the S3 API.")
    access_key: str = Field("wenyuan", description="S3 access key id.")
    secret_key: SecretStr = Field(SecretStr(LOCAL_S3_SECRET), description="S3 secret key.")
    region: str = Field("us-east-1", description="S3 region used for request signing.")
    bucket_staging: str = Field("wenyuan-staging", description="Uploads land here before ingestion.")
    bucket_assets: str = Field("wenyuan-assets", description="Content-addressed originals and derivatives.")
    bucket_quarantine: str = Field("wenyuan-quarantine", description="Rejected files, kept with their report.")
    bucket_reports: str = Field("wenyuan-reports", description="Per-batch reports and batch records.")
    presign_ttl_s: int = Field(300, description="Life of the presigned URL a media delivery redirects to, seconds.")
    public_url: str | None = Field(None, description="Base URL (scheme://host:port) clients reach the S3 API at; "
                                                     "presigned URLs are signed for it. Unset: the endpoint.")

    @property
    def buckets(self) -> tuple[str, ...]:
        return (self.bucket_staging, self.bucket_assets, self.bucket_quarantine, self.bucket_reports)

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (443 if self.secure else 80)


class AirflowSettings(BaseModel):
    url: str = Field("http://127.0.0.1:8080", description="Airflow API server (REST API v2).")
    username: str = Field("wenyuan", description="Airflow user the gateway acts as.")
    password: SecretStr | None = Field(
        None, description="Its password; when unset, read from password_file (written by the local stack)."
    )
    password_file: Path = Field(
        PROJECT_ROOT / ".run/airflow/passwords.json",
        description="JSON {username: password}, SimpleAuthManager's password file.",
    )
    request_timeout_s: float = Field(30.0, description="Timeout of REST calls to Airflow.")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8080

    def resolved_password(self) -> str:
        if self.password is not None:
            return self.password.get_secret_value()
        passwords: dict[str, str] = json.loads(self.password_file.read_text(encoding="utf-8"))
        return passwords[self.username]


class GatewaySettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the gateway binds.")
    port: int = Field(8000, description="Port the gateway binds.")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL clients use to reach the gateway.")
    readiness_timeout_s: float = Field(2.0, description="Timeout of each dependency check in /readyz.")
    workers: int | None = Field(None, ge=1, description="Gateway worker processes (uvicorn --workers); unset: "
                                                        "one per usable CPU core.")

    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics (to operator keys only).")
    metrics_cache_s: float = Field(10.0, ge=0, description="How long a gateway process reuses what /metrics read of "
                                   "Elasticsearch, the batch records and Airflow, seconds: scrapes never reach them "
                                   "more often, searches never.")
    metrics_batch_days: int = Field(7, ge=1, description="Days of batch records (by the UTC day their id begins with) "
                                    "/metrics counts batches and items of.")
    metrics_task_instances: int = Field(500, ge=1, le=1000, description="Most recent finished Airflow task "
                                        "instances whose durations /metrics reports.")

    @property
    def worker_processes(self) -> int:
        return self.workers or len(os.sched_getaffinity(0))

    @property
    def metrics_dir(self) -> Path | None:
        """prometheus_client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR, which the library itself reads
        when imported: set before the process starts, as deploy/local does for `uvicorn --workers`)."""
        value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        return Path(value) if value else None


class RedisSettings(BaseModel):
    """Shared state of the gateway's worker processes: rate-limit counters, cache invalidations."""

    url: str | None = Field("redis://127.0.0.1:6379/0",
                            description="Redis URL (redis://host:port/db); the local stack runs one on 127.0.0.1. "
                                        "Empty: none configured, each gateway process keeps its own counters.")
    timeout_s: float = Field(0.5, gt=0, description="Connect and command timeout of Redis calls; a Redis slower "
                                                    "than this counts as down.")

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def port(self) -> int:
        return urlsplit(self.url or "").port or 6379


class DatabaseSettings(BaseModel):
    """Organisations, principals, keys, grants and the audit log (services/access)."""

    url: str = Field(f"sqlite:///{PROJECT_ROOT / '.run/wenyuan.db'}",
                     description="SQLAlchemy URL: SQLite under .run/ locally, postgresql+psycopg://… in production.")
    echo: bool = Field(False, description="Log every SQL statement.")

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class AccessSettings(BaseModel):
    """Licensed access: keys, rate limits, delivery (services/access)."""

    anonymous_rate_per_min: int = Field(600, description="Requests a minute one client address may make without a "
                                                         "key (per gateway process).")
    key_rate_per_min: int = Field(1200, description="Default requests a minute of a new API key.")
    image_rate_per_min: int = Field(6000, description="Requests a minute to the IIIF Image API (a deep-zoom viewer "
                                                      "asks for hundreds of tiles) per key or address, counted "
                                                      "apart from the other requests.")
    principal_cache_s: float = Field(60.0, ge=0, description="How long a gateway process may keep a key's principal "
                                                             "without reading the store; any change to keys, grants "
                                                             "or organisations ends every cached one at once (across "
                                                             "workers through Redis). 0: read the store on every "
                                                             "request.")
    operator_key_file: Path = Field(PROJECT_ROOT / ".run/operator-key",
                                    description="Where `wenyuan admin bootstrap` writes the first operator key "
                                                "(mode 600; local stacks and demos).")


class SecuritySettings(BaseModel):
    """The gateway's edge (services/gateway/security.py): CORS, and the size of what a request may send."""

    cors_origins: list[str] = Field(default_factory=list, description="Origins (`https://host[:port]`) whose pages "
                                    "may call the API from a browser (CORS); none by default. The IIIF routes answer "
                                    "every origin regardless, as viewers on other sites need.")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body of most routes; a larger "
                                "one is a 413 before it is read. Files go to S3 over presigned URLs, not here.")
    max_batch_body_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Largest body of /v1/batches requests "
                                      "(a batch lists up to 200,000 files).")
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="Largest request head (all header names and "
                                  "values); a larger one is a 431.")

    @model_validator(mode="after")
    def _exact_origins(self) -> Self:
        for origin in self.cors_origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or origin != f"{parts.scheme}://{parts.netloc}":
                raise ValueError(f"a CORS origin is scheme://host[:port], exactly, without '*' or a path: {origin!r}")
        return self


class OaiSettings(BaseModel):
    """The OAI-PMH 2.0 repository at /oai (services/oai)."""

    repository_name: str = Field("Wenyuan 文渊", description="repositoryName of Identify, and edm:provider.")
    admin_email: str = Field("admin@wenyuan.invalid", description="adminEmail of Identify.")
    page_size: int = Field(100, ge=1, description="Headers or records per ListIdentifiers / ListRecords response.")
    token_ttl_s: int = Field(600, ge=10, description="Life of a resumption token and of the point in time it "
                                                     "walks, seconds (renewed by each page).")
    token_secret: SecretStr | None = Field(None, description="Key of the HMAC that makes resumption tokens "
                                                             "tamper-evident; unset: derived from s3.secret_key "
                                                             "(which production requires to be real).")


class DumpSettings(BaseModel):
    """Bulk dumps at /v1/dumps (services/dumps.py)."""

    page_size: int = Field(1000, ge=1, description="Records read from Elasticsearch per page of a dump stream.")
    keep_alive: str = Field("2m", description="Point-in-time keep-alive between two pages of a dump stream.")


class SnapshotRepository(StrEnum):
    FS = "fs"
    S3 = "s3"


class BackupSettings(BaseModel):
    """`wenyuan admin backup` / `restore` (services/backup): an Elasticsearch snapshot, the access database and a
    manifest of the buckets, in one directory per backup."""

    dir: Path = Field(PROJECT_ROOT / ".run/backups", description="Where a backup directory is made when "
                                                                  "`wenyuan admin backup` is given none.")
    repository: str = Field("wenyuan-backups", description="Name of the Elasticsearch snapshot repository.")
    repository_type: SnapshotRepository = Field(
        SnapshotRepository.FS, description="Its type: fs (a directory every node shares, listed in Elasticsearch's "
                                           "path.repo) or s3 (needs the repository-s3 module, which the local stack's "
                                           "integ-test-zip lacks).")
    location: Path = Field(PROJECT_ROOT / ".run/snapshots", description="fs repository: its directory (the local "
                           "stack's path.repo; a link is followed).")
    s3_bucket: str | None = Field(None, description="s3 repository: the bucket the snapshots go to.")
    s3_base_path: str = Field("elasticsearch", description="s3 repository: the prefix within that bucket.")
    copy_objects: bool = Field(False, description="Copy every object into the backup too (not only a manifest of "
                               "keys, sizes and ETags); a museum's originals are large: see docs/OPERATIONS.md.")
    pg_bin_dir: Path | None = Field(None, description="Directory of pg_dump and pg_restore (of the server's major "
                                    "version or newer); unset: PATH, then /usr/lib/postgresql/<newest>/bin.")
    timeout_s: float = Field(3600.0, gt=0, description="Longest wait for a snapshot or a restore, seconds.")

    def repository_settings(self) -> dict[str, str]:
        if self.repository_type is SnapshotRepository.S3:
            if not self.s3_bucket:
                raise ValueError("WENYUAN_BACKUP__S3_BUCKET must name the bucket of an s3 snapshot repository")
            return {"bucket": self.s3_bucket, "base_path": self.s3_base_path}
        return {"location": str(self.location.resolve())}


class ClientSettings(BaseModel):
    """The `wenyuan` command as a client of a gateway."""

    api_key: SecretStr | None = Field(None, description="API key the CLI sends (Authorization: Bearer).")


class IngestSettings(BaseModel):
    max_file_bytes: int = Field(512 * 1024 * 1024, description="Largest media file accepted, bytes.")
    max_image_pixels: int = Field(180_000_000, description="Larger images are refused as decompression bombs.")
    max_manifest_rows: int = Field(200_000, description="Largest manifest accepted, rows.")
    max_title_chars: int = Field(2_000, description="Longest title (title_zh, title_en, original_title) accepted, "
                                                    "characters; a longer one rejects its row (field-too-long).")
    max_description_chars: int = Field(
        100_000, description="Longest description (description_zh, description_en) accepted, characters: a long "
                             "catalogue essay, a tenth of Elasticsearch's highlighting limit (1,000,000).")
    max_text_chars: int = Field(10_000, description="Longest value of any other field or unknown column accepted, "
                                                    "characters.")
    chunk_size: int = Field(250, description="Items per mapped DAG task (one chunk of a batch).")
    store_threads: int = Field(4, description="Rows of a chunk stored at once by the store step (fetch, derive, "
                                              "put: mostly waiting on object storage).")
    fetch_threads: int = Field(4, description="Previews read at once by the enrich step for the image encoder.")
    thumbnail_px: int = Field(400, description="Longest side of thumbnails, pixels.")
    preview_px: int = Field(1600, description="Longest side of previews, pixels.")
    multipart_threshold_bytes: int = Field(
        16 * 1024 * 1024, description="Uploads at least this large go in parts (S3 multipart upload)."
    )
    part_size_bytes: int = Field(8 * 1024 * 1024, description="Part size of multipart uploads (>= 5 MiB).")
    dag_id: str = Field("ingest_batch", description="The Airflow DAG that ingests a submitted batch.")


class MediaSettings(BaseModel):
    """Documents, audio, video and 3D models (services/ingest/media_*.py): limits read from each file's header
    before anything is decoded, and the derivatives made for the web."""

    max_file_bytes: int = Field(4 * 1024 ** 3, description="Largest document, recording or 3D model accepted, bytes "
                                                           "(still images: ingest.max_file_bytes).")
    max_duration_s: float = Field(4 * 3600, description="Longest audio or video accepted, seconds.")
    max_pages: int = Field(2000, description="Most pages of a document accepted.")
    max_faces: int = Field(2_000_000, description="Most triangles of a 3D model accepted, as its header declares "
                                                  "(loading and rendering cost ~0.65 KiB a triangle).")
    page_px: int = Field(2000, description="Longest side of the image made of each document page, pixels.")
    keyframes: int = Field(8, description="Keyframes taken from a video (contact sheet, image vectors).")
    contact_sheet_columns: int = Field(4, description="Keyframes per row of a video's contact sheet.")
    rendition_height: int = Field(480, description="Frame height of a video's web rendition, pixels (never "
                                                   "upscaled).")
    video_bitrate: int = Field(800_000, description="Video bit rate of the web rendition, bits/s.")
    audio_bitrate: int = Field(96_000, description="Audio bit rate of the web renditions, bits/s.")
    waveform_size: tuple[int, int] = Field((1600, 240), description="Width and height of an audio waveform image.")
    model_views: list[str] = Field(["front", "side", "top", "three-quarter"],
                                   description="Views rendered of a 3D model (thumbnails, image vectors).")
    view_px: int = Field(800, description="Side of each rendered 3D view, pixels.")


class ModelSettings(BaseModel):
    """Encoders, OCR and classification (indexing/encoders, indexing/ocr, indexing/classify).

    An encoder is named by a spec: a packaged default (`use-multilingual-v3`, `efficientnet-lite0`)
    or `st:<model id or local path>` for any sentence-transformers model, CLIP included
    (`st:clip-ViT-B-32` puts images and text in one space).
    """

    text_encoder: str = Field("use-multilingual-v3", description="Text encoder spec (cross-lingual zh↔en).")
    image_encoder: str = Field("efficientnet-lite0", description="Image encoder spec; `none` turns image vectors off.")
    image_runtime: str = Field("onnx", description="Runtime of the packaged image encoder: onnx (exported once "
                                                   "and cached) or torch.")
    ocr_engine: str = Field("rapidocr", description="OCR engine: rapidocr, or none.")
    ocr_categories: list[str] = Field(
        ["calligraphy", "rubbing", "rare-book", "document", "archive", "oracle-bone", "seal", "stele", "stamp",
         "banknote", "inscription"],
        description="Taxonomy ids (schemas/taxonomy.json) whose images are read by OCR.",
    )
    ocr_max_images: int = Field(2, description="Images per asset read by OCR (the first ones, in manifest order).")
    ocr_max_pages: int = Field(200, description="Pages per asset read by OCR where a document has no text layer "
                                                "(the first ones).")
    batch_size: int = Field(32, description="Items per encoder call.")
    threads: int = Field(2, description="CPU threads per model (numpy/BLAS, onnxruntime, torch).")
    device: str = Field("cpu", description="torch device for sentence-transformers models (cpu, cuda).")
    cache_dir: Path = Field(PROJECT_ROOT / ".cache/models", description="Exported ONNX models and other "
                                                                         "derived model files.")
    label_top_k: int = Field(3, description="AI labels kept per kind (category, material).")
    label_min_confidence: float = Field(0.15, description="AI labels below this confidence are not kept.")
    knn_neighbours: int = Field(10, description="Curator-labelled neighbours consulted by kNN label propagation.")


class FusionSettings(BaseModel):
    """How the legs of a search are weighed, and the floor a result must reach (indexing/fusion.py).

    Chosen on the dev sets of tests/bench/quality.py (docs/BENCHMARKS.md has the runs)."""

    title: float = Field(1.0, ge=0, description="Weight of the cosine to the title vector.")
    text: float = Field(1.5, ge=0, description="Weight of the cosine to the whole-record vector.")
    keyword: float = Field(0.6, ge=0, description="Weight of BM25 within the query's language (÷ the best match).")
    bridge: float = Field(0.6, ge=0, description="Weight of BM25 of the query translated by the vocabulary bridge "
                                                 "(÷ the best match).")
    exact: float = Field(0.5, ge=0, description="Bonus of a record whose title is the query, exactly.")
    image: float = Field(0.5, ge=0, description="Weight of the cosine to image vectors (CLIP image encoders only).")
    floor: float = Field(0.1, description="Smallest fused score a result may have; below it, it is not returned "
                                          "and not counted in `total`.")
    nonword: float = Field(0.8, ge=0, description="A query that matched no term in either language answers nothing "
                           "when the non-word probe of the text encoder (indexing/query_sense.py) gives it at least "
                           "this probability of being a non-word (above 1: never).")
    gate: float = Field(0.35, description="Only where the text encoder has no non-word probe: smallest fused score "
                                         "the best result of a query that matched no term must have; below it the "
                                         "query answers nothing.")

    def weights(self) -> dict[str, float]:
        return {"title": self.title, "text": self.text, "keyword": self.keyword, "bridge": self.bridge,
                "exact": self.exact, "image": self.image}


class SearchSettings(BaseModel):
    fusion: FusionSettings = FusionSettings()
    max_query_chars: int = Field(500, ge=1, description="Longest query text accepted (longer: 422).")
    num_candidates: int = Field(400, description="kNN num_candidates per shard (HNSW candidates examined); 400 "
                                "measured on the dev sets: a window of 100 from 100 candidates loses recall.")
    semantic_window: int = Field(100, description="Results a semantic search returns, and the depth of each "
                                                   "leg fused by a hybrid search (then keyword matches follow).")
    max_page_size: int = Field(100, description="Largest page a search returns.")
    cursor_keep_alive: str = Field("1m", description="How long the point in time of a walk past its second page "
                                   "stays open after each page (a first page opens none; a walk whose point in "
                                   "time expired goes on from its position over the live index).")
    max_image_upload_bytes: int = Field(20 * 1024 * 1024, description="Largest image accepted by image search.")
    vector_index_type: str = Field("int8_hnsw", description="dense_vector index_options.type: hnsw, int8_hnsw, "
                                                            "bbq_hnsw… (recall measured in docs/BENCHMARKS.md).")
    hnsw_m: int = Field(16, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(100, description="HNSW candidates while building.")
    merge_above_segments: int = Field(5, ge=1, description="The daily merge_segments DAG force-merges the assets "
                                      "index when it holds more searchable segments than this (each segment's HNSW "
                                      "graph is searched with the full num_candidates; indexing/segments.py).")
    merge_to_segments: int = Field(1, ge=1, description="Segments per shard the daily merge leaves.")
    merge_timeout_s: float = Field(4 * 3600, gt=0, description="Longest wait for that merge, seconds.")


class IIIFSettings(BaseModel):
    """IIIF Presentation API 3.0 and Image API 3.0 (services/iiif)."""

    collection_page_size: int = Field(1000, ge=1, le=10_000,
                                      description="Manifests per part of a IIIF collection; a longer collection "
                                                  "ends each part with a reference to the next.")
    tile_size: int = Field(512, ge=64, le=4096, description="Width and height of the tiles info.json offers.")
    max_area: int = Field(25_000_000, ge=1, description="Largest image the Image API makes, pixels (width × "
                                                        "height); larger originals report a smaller maxWidth and "
                                                        "maxHeight.")
    cache_derivatives: bool = Field(True, description="Keep each image the Image API makes in the assets bucket "
                                                      "(under <institution>/iiif/), so a repeat is one S3 read.")
    source_cache_mb: int = Field(256, ge=0, description="Decoded source images (originals, previews, thumbnails) "
                                                        "kept in memory per gateway process for the next tile, MiB.")
    max_age_s: int = Field(3600, ge=0, description="Cache-Control max-age of Image API responses, seconds.")
    tile_cache_mb: int = Field(64, ge=0, description="Images the Image API made or read from the bucket, kept in "
                                                     "memory per gateway process for the next request, MiB (0: "
                                                     "every warm request reads S3).")
    lookup_cache_s: float = Field(2.0, ge=0, description="How long an Image API lookup that found an image (record "
                                                         "and the caller's tier) is reused for the same caller, "
                                                         "seconds; also how long a changed licence or a withdrawn "
                                                         "record may still serve tiles already being viewed (0: "
                                                         "every request asks Elasticsearch).")


class StackSettings(BaseModel):
    """The one-machine stack of deploy/local (not used in production)."""

    run_dir: Path = Field(PROJECT_ROOT / ".run", description="Data, logs and pid files of the local stack.")
    cache_dir: Path = Field(PROJECT_ROOT / ".cache", description="Downloads and builds, reused across runs.")
    java_home: Path | None = Field(
        None, description="JDK >= 21 for Elasticsearch; when unset, JAVA_HOME and /usr/lib/jvm are searched."
    )
    es_heap: str = Field("1g", description="Elasticsearch heap (-Xms and -Xmx) of each node.")
    es_nodes: int = Field(1, ge=1, description="Elasticsearch nodes the stack runs: 1 (single-node discovery), or a "
                          "cluster on loopback whose node i (0-based) serves HTTP on es.url's port + i.")
    es_transport_port: int | None = Field(None, description="Transport port of the first Elasticsearch node (node i "
                                          "adds i); unset: its HTTP port + 100.")
    es_user: str = Field("wenyuan-es", description="System user that runs Elasticsearch when started as root.")
    airflow_parallelism: int = Field(2, description="Airflow core.parallelism (task slots).")
    postgres_port: int = Field(5433, description="Port of the local PostgreSQL the test suite runs the access "
                                                 "store against (database wenyuan_test, trust on loopback).")
    postgres_user: str = Field("postgres", description="System user that runs PostgreSQL when started as root "
                                                       "(Debian's package makes it).")

    @property
    def postgres_url(self) -> str:
        return f"postgresql+psycopg://wenyuan@127.0.0.1:{self.postgres_port}/wenyuan_test"
    start_timeout_s: float = Field(240.0, description="How long `up` waits for each service to be ready.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WENYUAN_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    environment: Environment = Field(Environment.LOCAL, description="local, ci or production.")
    log_level: str = Field("INFO", description="Root log level of the gateway and the CLI.")
    es: ElasticsearchSettings = ElasticsearchSettings()
    s3: S3Settings = S3Settings()
    airflow: AirflowSettings = AirflowSettings()
    gateway: GatewaySettings = GatewaySettings()
    ingest: IngestSettings = IngestSettings()
    media: MediaSettings = MediaSettings()
    models: ModelSettings = ModelSettings()
    search: SearchSettings = SearchSettings()
    iiif: IIIFSettings = IIIFSettings()
    db: DatabaseSettings = DatabaseSettings()
    access: AccessSettings = AccessSettings()
    security: SecuritySettings = SecuritySettings()
    redis: RedisSettings = RedisSettings()
    client: ClientSettings = ClientSettings()
    stack: StackSettings = StackSettings()
    oai: OaiSettings = OaiSettings()
    dumps: DumpSettings = DumpSettings()
    backup: BackupSettings = BackupSettings()

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            if self.s3.secret_key.get_secret_value() == LOCAL_S3_SECRET:
                raise ValueError("WENYUAN_S3__SECRET_KEY still has the local placeholder; set a real secret")
            if self.airflow.password is None:
                raise ValueError("WENYUAN_AIRFLOW__PASSWORD must be set in production")
            if self.db.url == DatabaseSettings().url:
                raise ValueError("WENYUAN_DB__URL is the local SQLite file; set the production database "
                                 "(postgresql+psycopg://…)")
        return self

    @model_validator(mode="after")
    def _local_cluster_urls(self) -> Self:
        """A local cluster (stack.es_nodes > 1) gives every client all its nodes unless es.urls names them."""
        if self.stack.es_nodes > 1 and not self.es.urls:
            self.es = self.es.model_copy(update={"urls": self.es.node_urls(self.stack.es_nodes)})
        return self


@cache
def get_settings() -> Settings:
    return Settings()


def process_environment() -> dict[str, str]:
    """A copy of the whole environment, for child processes that need PATH, HOME and the WENYUAN_* knobs."""
    import os

    return dict(os.environ)

"""Batches: the record of one upload (state and counts) and where its objects live.

A batch record is a small JSON document in the reports bucket, written by the gateway (created,
submitted) and by the DAG (running, succeeded, failed, counts). Object layout:

    staging     {batch}/manifest/{name}            the manifest as uploaded
                {batch}/files/{path}               media, at their relative paths
    quarantine  {batch}/files/{path}               rejected files, kept
                {batch}/report.json                why each was rejected
    reports     batches/{batch}/batch.json         this record
                batches/{batch}/report.json|.csv   per-item report
                batches/{batch}/work/…             chunk lists and results passed between tasks
                                                   (one key per chunk and step: services/ingest/keys.py)
    assets      {institution}/originals/{sha256[:2]}/{sha256}{ext}
                {institution}/derivatives/{sha256}/thumbnail.jpg | preview.jpg
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from minio import Minio
from pydantic import BaseModel, Field

from services.ingest.keys import BatchKeys
from services.settings import S3Settings
from services.storage import ObjectNotFound, get_json, put_json

INSTITUTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class BatchState(StrEnum):
    CREATED = "created"  # upload targets handed out, files arriving
    SUBMITTED = "submitted"  # the DAG run was requested
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class BatchCounts(BaseModel):
    received: int = Field(0, description="Items received: manifest rows plus files no row lists.")
    valid: int = Field(0, description="Rows whose metadata passed validation and whose files are present.")
    rejected: int = Field(0, description="Items rejected, each with row, field and reason in the report.")
    stored: int = Field(0, description="Items whose originals and derivatives are stored.")
    indexed: int = Field(0, description="Stored items indexed in Elasticsearch (searchable).")


STAGES = ("stored", "enriched", "indexed")  # the chunk steps whose items BatchProgress counts


class BatchProgress(BaseModel):
    validated: int = Field(0, description="Rows validated (metadata and files present): the work to do.")
    stored: int = Field(0, description="Items whose originals and derivatives are stored (or that were rejected "
                                       "while storing them).")
    enriched: int = Field(0, description="Items with vectors and AI labels.")
    indexed: int = Field(0, description="Items bulk-indexed (searchable after the batch's refresh).")
    started_at: datetime | None = Field(None, description="When the ingestion run started.")
    elapsed_s: float | None = Field(None, description="Seconds since the run started (at the last update).")
    eta_s: float | None = Field(None, description="Estimated seconds left, from the pace so far (None: too early).")


class BatchRecord(BaseModel):
    batch_id: str
    institution: str
    region: str | None = Field(None, description="Region of the institution (ISO 3166), given to its assets.")
    state: BatchState = BatchState.CREATED
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    manifest_name: str | None = None
    runs: list[str] = Field(default_factory=list, description="Airflow DAG run ids, oldest first.")
    max_file_bytes: int | None = Field(None, description="A stricter file-size limit the uploader asked for.")
    counts: BatchCounts = Field(default_factory=BatchCounts)
    progress: BatchProgress = Field(default_factory=lambda: BatchProgress(),
                                    description="Per-stage progress of the latest run (services/ingest/progress.py).")
    error: str | None = None


def new_batch_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:12]}"


def record_key(batch_id: str) -> str:
    return BatchKeys(batch_id).record


def work_key(batch_id: str, name: str) -> str:
    return BatchKeys(batch_id).work(name)


def report_key(batch_id: str, fmt: str = "json") -> str:
    return BatchKeys(batch_id).report(fmt)


def manifest_key(batch_id: str, name: str) -> str:
    return BatchKeys(batch_id).manifest(name)


def staged_file_key(batch_id: str, path: str) -> str:
    return BatchKeys(batch_id).staged(path)


def load_batch(s3: Minio, s3_settings: S3Settings, batch_id: str) -> BatchRecord:
    """The batch record; raises ObjectNotFound for an unknown batch."""
    if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", batch_id):
        raise ObjectNotFound(batch_id)
    return BatchRecord.model_validate(get_json(s3, s3_settings.bucket_reports, record_key(batch_id)))


def save_batch(s3: Minio, s3_settings: S3Settings, batch: BatchRecord) -> BatchRecord:
    batch.updated_at = datetime.now(UTC)
    put_json(s3, s3_settings.bucket_reports, record_key(batch.batch_id), batch.model_dump(mode="json"))
    return batch

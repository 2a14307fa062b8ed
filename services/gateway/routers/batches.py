"""Batches: create an upload, send files straight to staging, submit to the DAG, follow it, read the report.

A batch belongs to the institution of the key that created it (a curator's or an admin's, with the
`upload` scope); its region is the institution's. Only that institution's staff (and operators)
see a batch: to anyone else it does not exist (404).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from minio.error import S3Error
from pydantic import BaseModel, Field, field_validator

from schemas.access import Scope
from services.gateway.deps import AirflowDep, BatchDep, PrincipalDep, S3Dep, SettingsDep, Uploader, require
from services.gateway.errors import BadRequest, BatchNotFound, Conflict, Forbidden, InvalidRequest, NotFound
from services.ingest.batch_list import BadCursor, list_batches
from services.ingest.batches import (
    INSTITUTION_ID,
    BatchRecord,
    BatchState,
    new_batch_id,
    save_batch,
)
from services.ingest.keys import BatchKeys
from services.ingest.uploads import (
    CompleteMultipart,
    FileToUpload,
    ManifestToUpload,
    UploadTarget,
    complete_multipart,
    upload_targets,
)
from services.storage import ObjectNotFound, get_bytes, get_json, list_keys
from services.workflows import AirflowError

router = APIRouter(prefix="/v1/batches", tags=["batches"])


class BatchCreate(BaseModel):
    institution: str | None = Field(None, description="Id of the uploading institution; when given it must be the "
                                                      "key's own (the default).")
    manifest: ManifestToUpload
    files: list[FileToUpload] = Field(default_factory=list, max_length=200_000)
    max_file_bytes: int | None = Field(None, ge=1, strict=True, description="Reject files above this size in this "
                                       "batch (may only lower the service's limit, ingest.max_file_bytes).")

    @field_validator("institution")
    @classmethod
    def _institution_id(cls, value: str | None) -> str | None:
        if value is not None and not INSTITUTION_ID.fullmatch(value):
            raise ValueError("use 2–63 lower-case letters, digits or '-', starting with a letter or digit")
        return value


class UploadRequest(BaseModel):
    manifest: ManifestToUpload
    files: list[FileToUpload] = Field(default_factory=list, max_length=200_000)


class BatchUploads(BaseModel):
    batch: BatchRecord
    manifest: UploadTarget
    files: list[UploadTarget]


class BatchPage(BaseModel):
    batches: list[BatchRecord] = Field(description="The institution's batches, newest first.")
    next: str | None = Field(None, description="Cursor of the older ones: pass it back as `before`; absent on the "
                                               "last page.")


class ChunkProgress(BaseModel):
    total: int = Field(description="Chunks the valid rows were cut into.")
    stored: int = Field(description="Chunks whose files are stored and derived.")
    indexed: int = Field(description="Chunks indexed in Elasticsearch.")


class BatchStatus(BatchRecord):
    run_state: str | None = Field(None, description="State of the latest DAG run, as Airflow reports it.")
    chunks: ChunkProgress | None = Field(None, description="Progress of the running ingestion, by chunk.")


def _chunk_progress(s3: S3Dep, settings: SettingsDep, batch_id: str) -> ChunkProgress:
    names = [o.object_name or "" for o in list_keys(s3, settings.s3.bucket_reports, BatchKeys(batch_id).work())]
    def count(kind: str) -> int:
        return sum(1 for n in names if n.rsplit("/", 1)[-1].startswith(kind))
    return ChunkProgress(total=count("chunk-"), stored=count("result-"), indexed=count("indexed-"))




@router.post("", status_code=status.HTTP_201_CREATED)
def create_batch(body: BatchCreate, s3: S3Dep, settings: SettingsDep, principal: Uploader) -> BatchUploads:
    """A new batch of the key's institution, with upload targets for its manifest and files."""
    if not principal.is_staff or principal.institution is None:
        raise Forbidden("batches are uploaded with a key of an institution's curator or admin")
    if body.institution is not None and body.institution != principal.institution:
        raise Forbidden(f"this key uploads for {principal.institution}, not {body.institution}",
                        field="institution")
    limit = settings.ingest.max_file_bytes
    if body.max_file_bytes is not None and body.max_file_bytes > limit:
        raise InvalidRequest(f"max_file_bytes may only lower the service's limit of {limit} bytes",
                             errors=[{"field": "body.max_file_bytes", "reason": f"must be at most {limit}"}])
    batch = BatchRecord(batch_id=new_batch_id(), institution=principal.institution, region=principal.region,
                        manifest_name=body.manifest.name,
                        max_file_bytes=body.max_file_bytes)
    save_batch(s3, settings.s3, batch)
    manifest, files = upload_targets(s3, settings, batch.batch_id, body.manifest, body.files)
    return BatchUploads(batch=batch, manifest=manifest, files=files)


@router.get("")
def read_batches(s3: S3Dep, settings: SettingsDep, principal: PrincipalDep,
                 limit: Annotated[int, Query(ge=1, le=100, description="Batches per page.")] = 20,
                 before: Annotated[str | None, Query(max_length=100, description="`next` of a page.")] = None,
                 ) -> BatchPage:
    """The batches of the caller's institution, newest first, with state and counts; for its staff only."""
    if not principal.is_staff or principal.institution is None:
        raise Forbidden("batches are listed for an institution's staff: use a key of its viewer, curator or admin")
    try:
        batches, cursor = list_batches(s3, settings.s3, principal.institution, limit=limit, before=before)
    except BadCursor as exc:
        raise BadRequest(str(exc), field="before") from exc
    return BatchPage(batches=batches, next=cursor)


@router.post("/{batch_id}/uploads", dependencies=[Depends(require(Scope.UPLOAD))])
def create_uploads(body: UploadRequest, batch: BatchDep, s3: S3Dep, settings: SettingsDep) -> BatchUploads:
    """Upload targets again (to resume): `existing_etag` tells what is already staged."""
    if batch.state in {BatchState.SUBMITTED, BatchState.RUNNING}:
        raise Conflict(f"batch {batch.batch_id} is {batch.state}; wait until it ends before adding files")
    manifest, files = upload_targets(s3, settings, batch.batch_id, body.manifest, body.files)
    return BatchUploads(batch=batch, manifest=manifest, files=files)


UPLOAD_CONFLICTS = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML", "InvalidArgument"}


@router.post("/{batch_id}/uploads/complete", dependencies=[Depends(require(Scope.UPLOAD))])
def complete_upload(body: CompleteMultipart, batch: BatchDep, s3: S3Dep, settings: SettingsDep) -> dict[str, str]:
    """Join the parts of a multipart upload into the staged file (the CLI does this after the last part)."""
    try:
        return {"path": body.path, "etag": complete_multipart(s3, settings, batch.batch_id, body)}
    except S3Error as exc:  # the S3 server's word on the upload, said as a problem of this request
        if exc.code == "NoSuchUpload":
            raise NotFound(f"no multipart upload {body.upload_id!r} of {body.path!r} is in progress: ask for "
                           "upload targets again (POST /v1/batches/{id}/uploads)") from exc
        if exc.code in UPLOAD_CONFLICTS:
            raise Conflict(f"the parts given are not the parts uploaded for {body.path!r} ({exc.code}: "
                           f"{exc.message}); send each part's number and the ETag its upload answered") from exc
        raise


@router.post("/{batch_id}/submit", status_code=status.HTTP_202_ACCEPTED, dependencies=[Depends(require(Scope.UPLOAD))])
async def submit_batch(batch: BatchDep, s3: S3Dep, settings: SettingsDep, airflow: AirflowDep) -> BatchRecord:
    if batch.state in {BatchState.SUBMITTED, BatchState.RUNNING}:
        raise Conflict(f"batch {batch.batch_id} is already {batch.state}")
    run_id = f"batch-{batch.batch_id}-{len(batch.runs) + 1}"
    await asyncio.to_thread(airflow.trigger, settings.ingest.dag_id, {"batch_id": batch.batch_id}, run_id=run_id)
    batch.runs.append(run_id)
    batch.state, batch.error = BatchState.SUBMITTED, None
    return await asyncio.to_thread(save_batch, s3, settings.s3, batch)


@router.get("/{batch_id}")
async def read_batch(batch: BatchDep, s3: S3Dep, settings: SettingsDep, airflow: AirflowDep) -> BatchStatus:
    run_state = None
    if batch.runs:
        try:
            run: dict[str, Any] = await asyncio.to_thread(airflow.run, settings.ingest.dag_id, batch.runs[-1])
            run_state = str(run["state"])
        except AirflowError:
            run_state = "unknown"
    if run_state == "failed" and batch.state in {BatchState.SUBMITTED, BatchState.RUNNING}:
        batch.state, batch.error = BatchState.FAILED, batch.error or "the ingestion DAG run failed"
    chunks = None
    if batch.state in {BatchState.SUBMITTED, BatchState.RUNNING}:
        chunks = await asyncio.to_thread(_chunk_progress, s3, settings, batch.batch_id)
    return BatchStatus(**batch.model_dump(), run_state=run_state, chunks=chunks)


@router.get("/{batch_id}/report", responses={200: {"content": {"text/csv": {}}}})
def read_report(batch: BatchDep, s3: S3Dep, settings: SettingsDep,
                format: Literal["json", "csv"] = Query("json", description="json or csv")) -> Response:
    try:
        if format == "csv":
            return Response(get_bytes(s3, settings.s3.bucket_reports, BatchKeys(batch.batch_id).report("csv")),
                            media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{batch.batch_id}-report.csv"'})
        items = get_json(s3, settings.s3.bucket_reports, BatchKeys(batch.batch_id).report())
    except ObjectNotFound as exc:
        raise BatchNotFound(f"batch {batch.batch_id} has no report yet (state: {batch.state})",
                            batch_id=batch.batch_id) from exc
    body = {"batch": batch.model_dump(mode="json"), "items": items}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

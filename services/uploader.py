"""The client side of `wenyuan upload DIR`: validate locally, send files straight to staging, submit.

Files travel from the museum's disk to the staging bucket over presigned URLs (the gateway
never proxies bytes). Resuming is by checksum: `.wenyuan-upload.json` in the folder remembers
the batch, and a file whose staged ETag equals the one computed locally (MD5, or S3's
multipart ETag for files sent in parts) is not sent again.

Only files inside the folder are sent: a symbolic link (or a manifest) that leads out of it —
`images/passwd.jpg → /etc/passwd` — stops the upload before anything is sent, naming the link.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.ingest.manifest import ParsedRow, manifest_format, read_manifest

STATE_FILE = ".wenyuan-upload.json"


class UploadError(RuntimeError):
    """The gateway refused a request; the message is its problem+json detail."""


@dataclass
class LocalCheck:
    manifest: Path
    rows: list[ParsedRow]
    files: list[Path]
    missing: list[tuple[int, str]] = field(default_factory=list)  # (row, path) listed but absent
    unlisted: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[ParsedRow]:
        return [r for r in self.rows if r.errors]


def find_manifest(folder: Path) -> Path:
    candidates = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in {".csv", ".jsonl"}]
    if len(candidates) != 1:
        names = ", ".join(p.name for p in candidates) or "none"
        raise UploadError(f"{folder} must hold exactly one manifest (.csv or .jsonl) at its top level; found {names}")
    manifest_format(candidates[0].name)
    return inside(folder, candidates[0])


def inside(folder: Path, path: Path) -> Path:
    """`path`, if it (after every symbolic link) is inside `folder`; UploadError naming it otherwise."""
    target = path.resolve()
    if not target.is_relative_to(folder.resolve()):
        name = path.relative_to(folder).as_posix()
        raise UploadError(f"{name} is a symbolic link to {target}, outside the batch folder {folder}: only files "
                          "inside the folder are uploaded; copy the file in or remove the link")
    return path


def check_folder(folder: Path) -> LocalCheck:
    manifest = find_manifest(folder)
    files = sorted(inside(folder, p) for p in folder.rglob("*") if p.is_file() and p != manifest
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    rows = list(read_manifest(manifest))
    present = {p.relative_to(folder).as_posix() for p in files}
    check = LocalCheck(manifest, rows, files)
    listed: set[str] = set()
    for r in rows:
        for ref in r.record.media if r.record else []:
            listed.add(ref.path)
            if ref.path not in present:
                check.missing.append((r.row, ref.path))
    check.unlisted = sorted(present - listed)
    return check


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(size):
            yield block


def local_etag(path: Path, part_size: int | None) -> str:
    """The ETag S3 gives this file: MD5 of it, or for a multipart upload MD5 of the parts' MD5s plus -N."""
    if part_size is None:
        digest = hashlib.md5(usedforsecurity=False)
        for block in _chunks(path, 1 << 20):
            digest.update(block)
        return digest.hexdigest()
    parts = [hashlib.md5(block, usedforsecurity=False).digest() for block in _chunks(path, part_size)]
    return f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}"


class Uploader:
    def __init__(self, gateway_url: str, api_key: str | None, *, timeout: float = 120.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.api = httpx.Client(base_url=gateway_url, timeout=timeout, headers=headers)
        self.s3 = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.api.close()
        self.s3.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.api.request(method, path, **kwargs)
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)  # a 422 names each field and reason in it
            except ValueError:
                detail = resp.text
            raise UploadError(f"{method} {path}: {resp.status_code} {detail}")
        return resp.json()

    def targets(self, folder: Path, institution: str | None, check: LocalCheck, *,
                max_file_bytes: int | None = None) -> dict[str, Any]:
        body = {"manifest": {"name": check.manifest.name, "size": check.manifest.stat().st_size},
                "files": [{"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size} for p in check.files]}
        state_path = folder / STATE_FILE
        if state_path.exists():
            batch_id = json.loads(state_path.read_text())["batch_id"]
            return dict(self._call("POST", f"/v1/batches/{batch_id}/uploads", json=body))
        create: dict[str, Any] = {"institution": institution, **body}
        if max_file_bytes is not None:
            create["max_file_bytes"] = max_file_bytes
        uploads = dict(self._call("POST", "/v1/batches", json=create))
        state_path.write_text(json.dumps({"batch_id": uploads["batch"]["batch_id"],
                                          "institution": uploads["batch"]["institution"]}))
        return uploads

    def send(self, batch_id: str, local: Path, target: dict[str, Any],
             advance: Callable[[int], None]) -> bool:
        """Send one file; False when the staged copy already has the same checksum (resumed)."""
        if target.get("existing_etag") and target["existing_etag"] == local_etag(local, target.get("part_size")):
            advance(local.stat().st_size)
            return False
        if target.get("url"):
            data = local.read_bytes()
            self._put(target["url"], data)
            advance(len(data))
            return True
        parts = []
        for part, block in zip(target["parts"], _chunks(local, target["part_size"]), strict=True):
            etag = self._put(part["url"], block)
            parts.append({"part_number": part["part_number"], "etag": etag})
            advance(len(block))
        self._call("POST", f"/v1/batches/{batch_id}/uploads/complete",
                   json={"path": target["path"], "upload_id": target["upload_id"], "parts": parts})
        return True

    def _put(self, url: str, data: bytes) -> str:
        for attempt in range(4):
            try:
                resp = self.s3.put(url, content=data)
                if resp.status_code < 500:
                    break
            except httpx.TransportError:
                if attempt == 3:
                    raise
            time.sleep(2**attempt)
        if resp.status_code >= 400:
            raise UploadError(f"storage refused an upload: {resp.status_code} {resp.text[:300]}")
        return str(resp.headers.get("etag", "")).strip('"')

    def submit(self, batch_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/batches/{batch_id}/submit"))

    def wait(self, batch_id: str, *, timeout_s: float = 600, poll_s: float = 2.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            batch = self.status(batch_id)
            if batch["state"] in {"succeeded", "failed"} or time.monotonic() > deadline:
                return batch
            time.sleep(poll_s)

    def status(self, batch_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/batches/{batch_id}"))

    def report(self, batch_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/batches/{batch_id}/report"))

"""Sending a batch folder through the real gateway and S3, as `wenyuan upload` does (without its output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.uploader import STATE_FILE, Uploader, check_folder


def send_batch(uploader: Uploader, folder: Path, institution: str, **options: Any) -> str:
    """Create the batch and upload every file; returns the batch id (not yet submitted)."""
    check = check_folder(folder)
    uploads = uploader.targets(folder, institution, check, **options)
    batch_id = str(uploads["batch"]["batch_id"])
    for local, target in zip([check.manifest, *check.files], [uploads["manifest"], *uploads["files"]], strict=True):
        uploader.send(batch_id, local, target, lambda n: None)
    return batch_id


def ingest(uploader: Uploader, folder: Path, institution: str, **options: Any) -> tuple[dict[str, Any], list[Any]]:
    """Send, submit and wait; returns the batch and its report items."""
    batch_id = send_batch(uploader, folder, institution, **options)
    uploader.submit(batch_id)
    batch = uploader.wait(batch_id, timeout_s=300)
    (folder / STATE_FILE).unlink(missing_ok=True)
    return batch, uploader.report(batch_id)["items"]

"""The `wenyuan` command: talks to a running Wenyuan (gateway, Airflow) as configured in Settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from services import __version__
from services.cli import api
from services.cli import audit as audit_cli
from services.ingest.manifest import ManifestError
from services.settings import get_settings
from services.uploader import STATE_FILE, LocalCheck, Uploader, UploadError, check_folder

app = typer.Typer(help="Wenyuan 文渊: cultural-resources sharing service.", no_args_is_help=True)
app.add_typer(audit_cli.app, name="audit")  # `wenyuan audit` (the log, via the API) and `audit verify`
console = Console()


@app.callback()
def main(key: str = typer.Option(None, "--key", help="API key to send (default: WENYUAN_CLIENT__API_KEY).",
                                 show_default=False),
         gateway: str = typer.Option(None, "--gateway", help="Gateway URL (default: WENYUAN_GATEWAY__PUBLIC_URL).",
                                     show_default=False)) -> None:
    """Wenyuan 文渊: cultural-resources sharing service."""
    api.configure(key, gateway)


@app.command()
def version() -> None:
    """Print the version of this Wenyuan."""
    console.print(__version__)


@app.command()
def ready(as_json: bool = typer.Option(False, "--json", help="Print the raw /readyz answer.")) -> None:
    """Ask the gateway whether Elasticsearch, S3 and Airflow are reachable; exit 1 if not."""
    url = get_settings().gateway.public_url + "/readyz"
    try:
        body = httpx.get(url, timeout=10).json()
    except httpx.HTTPError as exc:
        console.print(f"[red]gateway unreachable at {url}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        console.print_json(json.dumps(body))
    else:
        table = Table("dependency", "status", "latency ms", "detail")
        for name, check in body["checks"].items():
            colour = "green" if check["status"] == "ok" else "red"
            table.add_row(name, f"[{colour}]{check['status']}[/{colour}]", str(check["latency_ms"]),
                          check.get("detail") or "")
        console.print(table)
    raise typer.Exit(0 if body["status"] == "ok" else 1)


def _print_local_check(folder: Path, check: LocalCheck) -> None:
    console.print(f"{check.manifest.name}: {len(check.rows)} rows, {len(check.files)} files")
    if check.errors or check.missing:
        table = Table("row", "column", "reason", title="rows the service will reject", title_justify="left")
        for r in check.errors:
            for e in r.errors:
                table.add_row(str(e.row), e.field or "", e.reason)
        for row, path in check.missing:
            table.add_row(str(row), "media", f"{path}: listed but not in {folder}")
        console.print(table)
    if check.unlisted:
        console.print(f"[yellow]{len(check.unlisted)} file(s) no row lists (they will be reported and "
                      f"quarantined): {', '.join(check.unlisted[:5])}{' …' if len(check.unlisted) > 5 else ''}")


def progress_line(progress: object) -> str:
    """' · stored 120/250, enriched 100, indexed 100 · 42 s, about 30 s left' from a batch's `progress`."""
    if not isinstance(progress, dict) or not progress.get("validated"):
        return ""
    line = (f" · stored {progress['stored']}/{progress['validated']}, enriched {progress['enriched']}, "
            f"indexed {progress['indexed']}")
    if progress.get("elapsed_s") is not None:
        line += f" · {progress['elapsed_s']:.0f} s"
        if progress.get("eta_s"):
            line += f", about {progress['eta_s']:.0f} s left"
    return line


def _follow(uploader: Uploader, batch_id: str, poll_s: float = 2.0) -> dict[str, object]:
    with console.status("ingesting…") as status:
        while True:
            batch = uploader.status(batch_id)
            c = batch["counts"]
            status.update(f"{batch['state']} (run {batch.get('run_state')}): received {c['received']}, valid "
                          f"{c['valid']}, rejected {c['rejected']}{progress_line(batch.get('progress'))}")
            if batch["state"] in {"succeeded", "failed"}:
                return batch
            time.sleep(poll_s)


@app.command()
def upload(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Batch folder: one manifest + media."),
    institution: str = typer.Option(None, "--institution", "-i", help="Your institution's id (default: the key's)."),
    wait: bool = typer.Option(False, "--wait", help="Follow the batch until ingestion ends."),
    strict: bool = typer.Option(False, "--strict", help="Stop before uploading if any row has an error."),
    max_file_size: int = typer.Option(None, help="Reject files larger than this many bytes in this batch."),
) -> None:
    """Upload a digitisation batch with a curator's key: validate locally, send files (resumable), submit."""
    try:
        check = check_folder(folder)
    except (UploadError, ManifestError) as exc:  # a link out of the folder; a manifest that cannot be read
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        console.print("nothing was uploaded")
        raise typer.Exit(2) from exc
    _print_local_check(folder, check)
    if strict and (check.errors or check.missing):
        raise typer.Exit(1)
    uploader = Uploader(api.gateway_url(), api.api_key())
    try:
        batch_id = _send(uploader, folder, institution, check, max_file_size)
        console.print(f"submitted; follow with: wenyuan batch {batch_id}")
        if wait:
            batch = _follow(uploader, batch_id)
            _print_outcome(uploader, batch)
            (folder / STATE_FILE).unlink(missing_ok=True)
            raise typer.Exit(0 if batch["state"] == "succeeded" else 1)
    except UploadError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        uploader.close()


def _send(uploader: Uploader, folder: Path, institution: str | None, check: LocalCheck,
          max_file_size: int | None) -> str:
    """Upload the folder's files with a progress bar (skipping those already staged) and submit the batch."""
    uploads = uploader.targets(folder, institution, check, max_file_bytes=max_file_size)
    batch_id = str(uploads["batch"]["batch_id"])
    console.print(f"batch [bold]{batch_id}[/bold]")
    locals_ = [check.manifest, *check.files]
    targets = [uploads["manifest"], *uploads["files"]]
    sent = skipped = 0
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"files 0/{len(locals_)}", total=sum(p.stat().st_size for p in locals_))
        for n, (local, target) in enumerate(zip(locals_, targets, strict=True), start=1):
            if uploader.send(batch_id, local, target, lambda size: progress.advance(task, size)):
                sent += 1
            else:
                skipped += 1
            progress.update(task, description=f"files {n}/{len(locals_)}")
    console.print(f"sent {sent} file(s), {skipped} already there (same checksum)")
    uploader.submit(batch_id)
    return batch_id


def _print_outcome(uploader: Uploader, batch: dict[str, object]) -> None:
    counts = batch["counts"]
    assert isinstance(counts, dict)
    colour = "green" if batch["state"] == "succeeded" else "red"
    console.print(f"[{colour}]{batch['state']}[/{colour}]: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                  + (progress_line(batch.get("progress")) if batch["state"] in {"submitted", "running"} else ""))
    if batch.get("error"):
        console.print(f"[red]{batch['error']}[/red]")
    if batch["state"] not in {"succeeded", "failed"} or not (counts.get("received") or counts.get("stored")):
        return
    try:
        items = uploader.report(str(batch["batch_id"]))["items"]
    except UploadError:  # a batch that failed before its report was written: its error says why
        return
    for title, key in (("rejected (or not indexed)", "errors"), ("stored, with warnings", "warnings")):
        table = Table("row", "object id", "field", "code", "reason", title=title, title_justify="left")
        for item in items:
            for err in item.get(key) or []:
                table.add_row(str(item.get("row") or "-"), item.get("object_id") or "", err.get("field") or "",
                              err.get("code") or "", err.get("reason") or "")
        if table.row_count:
            console.print(table)


@app.command()
def batch(batch_id: str) -> None:
    """Show a batch's state and counts (staff of its institution)."""
    uploader = Uploader(api.gateway_url(), api.api_key())
    try:
        _print_outcome(uploader, uploader.status(batch_id))
    except UploadError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        uploader.close()

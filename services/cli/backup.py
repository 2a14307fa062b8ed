"""`wenyuan admin backup|restore|check-backup|forget-backup`: the whole service into one directory and back.

Run on the server, with the service's own settings (they reach Elasticsearch, the database and S3
directly, not through the gateway). The work is services/backup's; this module draws its progress and counts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.backup import BackupError, Report, check_backup, forget_backup, make_backup, restore_backup
from services.cli.access import admin
from services.settings import get_settings

console = Console()


class _Bars:
    """services.backup's Progress as rich bars: one line per step."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def step(self, description: str, total: int | None = None) -> _Bar:
        return _Bar(self.progress, self.progress.add_task(description, total=total))


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)

    def total(self, total: int) -> None:
        self.progress.update(self.task, total=total)


def _bars() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def _fail(exc: BackupError) -> typer.Exit:
    console.print(f"[red]{exc}[/red]", soft_wrap=True)
    return typer.Exit(1)


def _print_report(report: Report, what: str) -> None:
    table = Table("checked", "in the backup", "now", title=what, title_justify="left")
    want, have = report.manifest.counts(), report.counts()
    for name, now in (("indices", have["indices"]), ("documents", have["documents"]), ("aliases", have["aliases"]),
                      ("tables", have["tables"]), ("rows", have["rows"])):
        table.add_row(name, str(want[name]), str(now))
    table.add_row("objects", str(want["objects"]), f"{have['objects matching']} matching, "
                  f"{have['objects copied back']} copied back, {have['objects missing']} missing")
    console.print(table)
    for problem in report.problems():
        console.print(f"[red]{problem}[/red]", soft_wrap=True)


@admin.command("backup")
def backup(folder: Path = typer.Argument(None, help="New directory of the backup (default: backup.dir/<id>).",
                                         show_default=False),
           objects: bool = typer.Option(None, "--objects/--no-objects", show_default=False,
                                        help="Copy the objects too, not only their listing (default: "
                                             "backup.copy_objects).")) -> None:
    """Back up the service: an Elasticsearch snapshot, the access database and every bucket's listing."""
    try:
        with _bars() as progress:
            path, manifest = make_backup(get_settings(), folder, copy_objects=objects, progress=_Bars(progress))
    except BackupError as exc:
        raise _fail(exc) from exc
    counts = manifest.counts()
    console.print(f"backup [bold]{manifest.id}[/bold] in {path}: {counts['indices']} indices "
                  f"({counts['documents']} documents, {counts['aliases']} aliases), {counts['rows']} rows in "
                  f"{counts['tables']} tables, {counts['objects']} objects ({counts['bytes']} bytes) in "
                  f"{counts['buckets']} buckets{' copied' if any(b.copied for b in manifest.buckets) else ''}",
                  soft_wrap=True)


@admin.command("restore")
def restore(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="A backup's directory."),
            replace: bool = typer.Option(False, "--replace",
                                         help="Replace the indices and rows the stack holds now.")) -> None:
    """Put a backup back (indices with their aliases, the database, missing objects), then check every count."""
    try:
        with _bars() as progress:
            report = restore_backup(get_settings(), folder, replace=replace, progress=_Bars(progress))
    except BackupError as exc:
        raise _fail(exc) from exc
    _print_report(report, f"restored {report.manifest.id}")
    raise typer.Exit(1 if report.problems() else 0)


@admin.command("check-backup")
def check(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="A backup's directory.")) -> None:
    """Compare the stack with a backup (counts, every object's size and ETag), writing nothing; exit 1 on a loss."""
    try:
        with _bars() as progress:
            report = check_backup(get_settings(), folder, progress=_Bars(progress))
    except BackupError as exc:
        raise _fail(exc) from exc
    _print_report(report, f"the stack against {report.manifest.id}")
    raise typer.Exit(1 if report.problems() else 0)


@admin.command("forget-backup")
def forget(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="A backup's directory.")) -> None:
    """Delete a backup: its snapshot from the repository, then its directory."""
    try:
        deleted = forget_backup(get_settings(), folder)
    except BackupError as exc:
        raise _fail(exc) from exc
    shutil.rmtree(folder)
    console.print(f"removed {folder}" + (" and its snapshot" if deleted else ""))

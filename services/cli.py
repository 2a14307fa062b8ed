"""The `wenyuan` command: talks to a running Wenyuan (gateway, Airflow) as configured in Settings."""

from __future__ import annotations

import json

import httpx
import typer
from rich.console import Console
from rich.table import Table

from services import __version__
from services.settings import get_settings

app = typer.Typer(help="Wenyuan 文渊: cultural-resources sharing service.", no_args_is_help=True)
console = Console()


@app.callback()
def main() -> None:
    """Wenyuan 文渊: cultural-resources sharing service."""


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


@app.command()
def demo() -> None:
    """Show where the running demo stack answers (run by `make demo` after `make up`)."""
    settings = get_settings()
    table = Table("what", "where")
    table.add_row("gateway (API docs)", settings.gateway.public_url + "/docs")
    table.add_row("gateway readiness", settings.gateway.public_url + "/readyz")
    table.add_row("Airflow UI", f"{settings.airflow.url}  (user {settings.airflow.username}, password in "
                  f"{settings.airflow.password_file})")
    table.add_row("Elasticsearch", settings.es.url)
    table.add_row("S3 API", settings.s3.url + f"  (buckets: {', '.join(settings.s3.buckets)})")
    console.print(table)
    console.print("[yellow]The stack is up. Ingesting the sample batch through the DAG is not built yet "
                  "(issue: bulk ingestion); until then `make demo` starts the stack and stops here.[/yellow]")

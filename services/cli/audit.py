"""`wenyuan audit`: an institution's audit log through the API (admins), and `wenyuan audit verify`, the check of
the whole log's hash chain (services/access/audit.py), run on the server against the access database."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from services.cli import access as access_cli
from services.settings import get_settings

app = typer.Typer(help="The audit log: your institution's events (admins, through the API); `verify` checks the "
                       "whole log's hash chain (on the server).")
console = Console(soft_wrap=True)  # a hash or a reason on one line, for scripts


@app.callback(invoke_without_command=True)
def events(ctx: typer.Context, action: str = typer.Option(None, "--action"),
           asset: str = typer.Option(None, "--asset"), limit: int = typer.Option(50, "--limit"),
           as_json: bool = access_cli.JSON) -> None:
    """The audit log of your institution (admins), newest first."""
    if ctx.invoked_subcommand is None:
        access_cli.audit(action=action, asset=asset, limit=limit, as_json=as_json)


@app.command()
def verify(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
           strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on events outside the chain too.")
           ) -> None:
    """Walk the hash chain of the access database's audit log, first event to last: 'N events, chain intact'
    (exit 0), or the first event that breaks it and why (exit 1)."""
    from services.access.audit import verify as verify_chain
    from services.access.db import Database

    database = Database(get_settings().db)
    try:
        with database.session() as session:
            report = verify_chain(session)
    except DBAPIError as exc:
        console.print(f"[red]cannot read the audit log ({exc.orig}); is the database at the newest revision? "
                      "`wenyuan db upgrade`[/red]")
        raise typer.Exit(2) from exc
    finally:
        database.close()
    if as_json:
        console.print_json(json.dumps(asdict(report) | {"intact": report.intact}))
    elif report.intact:
        console.print(f"{report.chained} events, chain intact; head {report.head_hash}")
    else:
        where = "at its head" if report.broken_at == 0 else f"at event {report.broken_at}"
        console.print(f"[red]chain broken {where}: {report.reason}[/red] ({report.chained} events before it intact)")
    if report.before:
        console.print(f"{report.before} earlier events predate the chain (written before migration 0002) and carry "
                      "no hashes")
    if report.unchained:
        console.print(f"[yellow]{report.unchained} events after the chain began carry no hash (the first: event "
                      f"{report.first_unchained}): written by a gateway older than migration 0002, or by hand; "
                      "outside the chain, unprotected[/yellow]")
    raise typer.Exit(0 if report.intact and not (strict and report.unchained) else 1)

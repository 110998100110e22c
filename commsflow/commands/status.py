"""``commsflow status``: what the ledger says — failures that need a person, missed jobs, what went out."""

from __future__ import annotations

from datetime import datetime

import click
from rich.markup import escape

from commsflow.ledger import Ledger, continuity_problem
from commsflow.output import console
from commsflow.scheduler import ledger_path
from commsflow.workspace import Workspace


@click.command("status")
@click.option("--all", "show_all", is_flag=True, help="List every job in the ledger, not only the last ten sent.")
@click.pass_obj
def command(obj: dict, show_all: bool) -> None:
    """Jobs needing attention (failed for good, interrupted, missed), retries waiting, and
    what went out last. Exits 1 when something needs a person, or when the ledger was lost
    or replaced (see `commsflow run --new-ledger`)."""
    workspace: Workspace = obj["workspace"]
    path = ledger_path(workspace.config)
    problem = continuity_problem(path, path.parent)  # a lost or swapped ledger is not "nothing sent yet"
    if problem is not None:
        raise problem
    if not path.exists():
        console.print("The ledger is empty: nothing has been published yet (commsflow run).")
        return
    ledger = Ledger(path)
    rows = sorted(ledger.records().values(), key=lambda row: row["planned"])
    ledger.close()
    attention = [r for r in rows if (r["state"] == "failed" and r["permanent"]) or r["state"] == "missed"]
    waiting = [r for r in rows if r["state"] == "failed" and not r["permanent"]]
    sending = [r for r in rows if r["state"] == "sending"]
    done = [r for r in rows if r["state"] == "done"]
    if attention:
        console.print("[bold red]Needs a person[/]")
        for row in attention:
            console.print(
                f"  {_when(row['planned'])} {row['state']:<6} {escape(row['channel'])} "
                f"{escape(row['item'])} — {escape(row['note'] or '')}"
            )
    if waiting:
        console.print("[bold yellow]Retrying[/]")
        for row in waiting:
            console.print(
                f"  {_when(row['planned'])} {escape(row['channel'])} {escape(row['item'])} — attempt "
                f"{row['attempts']}, next {_when(row['retry_at'])}: {escape(row['note'] or '')}"
            )
    if sending:
        console.print("[bold]Being sent[/] (or interrupted — the next run decides)")
        for row in sending:
            console.print(f"  {_when(row['planned'])} {escape(row['channel'])} {escape(row['item'])}")
    shown = done if show_all else done[-10:]
    if shown:
        console.print("[bold green]Sent[/]")
        for row in shown:
            console.print(
                f"  {_when(row['planned'])} {escape(row['channel'])} {escape(row['item'])} — "
                f"{escape(row['url'] or row['receipt'] or '')}"
            )
    console.print(f"{len(done)} sent, {len(waiting)} retrying, {len(attention)} need a person")
    if attention:
        raise click.exceptions.Exit(1)


def _when(text: str | None) -> str:
    if not text:
        return "–"
    return datetime.fromisoformat(text).strftime("%d.%m.%Y %H:%M")

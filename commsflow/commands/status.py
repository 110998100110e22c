"""``commsflow status``: what needs a person — each with the command that resolves it —,
retries waiting, and what went out."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.markup import escape

from commsflow.i18n import N_, _, ngettext
from commsflow.output import console
from commsflow.workspace import Workspace


@click.command("status")
@click.option("--all", "show_all", is_flag=True, help=N_("List every job that went out, not only the last ten."))
@click.option(
    "--json", "as_json", is_flag=True, help=N_("Machine-readable: what needs a person, retries, what went out.")
)
@click.pass_obj
def command(obj: dict, show_all: bool, as_json: bool) -> None:
    """What needs a person — failed, held after a crash, missed, waiting for a credential,
    blocked and due soon, sign-off gone stale — each with its short reference, the item,
    when it was due, why, and the command that resolves it; then retries waiting and what
    went out. Exits 1 while something needs a person, or when the ledger was lost or
    replaced (see `commsflow run --new-ledger`)."""
    from commsflow.actions import short_ref
    from commsflow.attention import GROUPS, needs_a_person
    from commsflow.commands import reporting_plan
    from commsflow.ledger import continuity_problem, ledger_path

    workspace: Workspace = obj["workspace"]
    path = ledger_path(workspace.config)
    problem = continuity_problem(path, path.parent)  # a lost or swapped ledger is not "nothing sent yet"
    if problem is not None:
        raise problem
    plan = reporting_plan(workspace)
    now = workspace.now
    entries = needs_a_person(plan, now)
    rows = sorted(plan.records.values(), key=lambda row: row["planned"])
    titles = plan.titles
    waiting = [r for r in rows if r["state"] == "failed" and not r["permanent"]]
    sending = [r for r in rows if r["state"] == "sending"]
    sent = [r for r in rows if r["state"] in ("done", "posted")]
    dismissed = [r for r in rows if r["state"] == "dismissed"]

    def row_dict(row: dict) -> dict:
        keys = ("id", "channel", "item", "planned", "state", "attempts", "retry_at", "receipt", "url", "note")
        return {"ref": short_ref(row["id"]), "title": titles.get(row["item"], row["item"])} | {
            key: row.get(key) for key in keys
        }

    from rich.text import Text

    from commsflow.alerts import status_lines

    if as_json:
        shown = sent if show_all else sent[-10:]
        click.echo(
            json.dumps(
                {
                    "as_of": now.isoformat(),
                    "needs_a_person": [entry.as_dict() for entry in entries],
                    "retrying": [row_dict(row) for row in waiting],
                    "sending": [row_dict(row) for row in sending],
                    "sent": [row_dict(row) for row in shown],
                    "dismissed": [row_dict(row) for row in dismissed],
                    # credentials about to expire, alerts not delivered: warnings, as the text shows them
                    "warnings": [Text.from_markup(line).plain for line in status_lines(workspace.config, now)],
                    "counts": {
                        "needs_a_person": len(entries),
                        "retrying": len(waiting),
                        "sent": len(sent),
                        "dismissed": len(dismissed),
                    },
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        if entries:
            raise click.exceptions.Exit(1)
        return

    if entries:
        console.print("[bold red]" + _("Needs a person") + f"[/] ({len(entries)})")
        group = None
        for entry in entries:
            if entry.group != group:
                group = entry.group
                console.print(" [bold]" + escape(_(GROUPS[group])) + "[/]")
            console.print(
                f"  {entry.ref}  {_when(entry.planned)}  {escape(entry.channel)} {escape(entry.template)} "
                f"„{escape(entry.title)}“ — {escape(entry.reason)}",
                highlight=False,
            )
            console.print(f"      → {escape(entry.command)}", highlight=False)
    if waiting:
        console.print("[bold yellow]" + _("Retrying") + "[/] " + _("(nothing to do: the scheduler tries again)"))
        for row in waiting:
            console.print(
                f"  {short_ref(row['id'])}  {_when(row['planned'])}  {escape(row['channel'])} "
                f"„{escape(titles.get(row['item'], row['item']))}“ — "
                + _("attempt {attempt}, next {moment}: {note}").format(
                    attempt=row["attempts"], moment=_when(row["retry_at"]), note=escape(row["note"] or "")
                ),
                highlight=False,
            )
    if sending:
        console.print("[bold]" + _("Being sent") + "[/] " + _("(or interrupted — the next run decides)"))
        for row in sending:
            console.print(
                f"  {short_ref(row['id'])}  {_when(row['planned'])}  {escape(row['channel'])} "
                f"„{escape(titles.get(row['item'], row['item']))}“",
                highlight=False,
            )
    shown = sent if show_all else sent[-10:]
    if shown:
        console.print("[bold green]" + _("Sent") + "[/]")
        for row in shown:
            by_hand = " " + _("(by hand)") if row["state"] == "posted" else ""
            console.print(
                f"  {short_ref(row['id'])}  {_when(row['planned'])}  {escape(row['channel'])} "
                f"„{escape(titles.get(row['item'], row['item']))}“{by_hand} — "
                f"{escape(row['url'] or row['receipt'] or '')}",
                highlight=False,
            )
    # credentials about to expire, alerts not delivered: warnings only

    for line in status_lines(workspace.config, now):
        console.print(line, highlight=False)
    if not rows and not entries:
        console.print(_("Nothing has been published yet (commsflow run)."))
    console.print(
        ngettext(
            "{sent} sent, {retrying} retrying, {dismissed} dismissed, {count} needs a person — as of {moment}",
            "{sent} sent, {retrying} retrying, {dismissed} dismissed, {count} need a person — as of {moment}",
            len(entries),
        ).format(
            sent=len(sent),
            retrying=len(waiting),
            dismissed=len(dismissed),
            count=len(entries),
            moment=_when(now.isoformat()),
        )
    )
    if entries:
        raise click.exceptions.Exit(1)


def _when(text: str | None) -> str:
    if not text:
        return "–"
    return datetime.fromisoformat(text).strftime("%d.%m.%Y %H:%M")

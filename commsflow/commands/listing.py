"""``commsflow list``: the content library as a table (or JSON for scripts)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from commsflow import dates
from commsflow.i18n import N_, _, ngettext
from commsflow.model import STATUSES, TYPE_NAMES, Item
from commsflow.output import console, error_console

COLUMNS = (N_("type"), N_("slug"), N_("status"), N_("date"), N_("title"), N_("details"))


def _row(item: Item) -> dict:
    return {
        "type": item.kind,
        "slug": item.slug,
        "title": item.title,
        "status": item.status,
        "date": item.when.isoformat() if item.when else None,
        "path": item.path,
        "meta": item.meta.model_dump(mode="json", exclude_defaults=True),
    }


def _shown_date(item: Item) -> str:
    when = item.when
    if when is None:
        return ""
    text = dates.numeric_date(when)
    if hasattr(when, "hour"):
        text += " " + dates.clock_time(when)
    return text


def _detail(item: Item) -> str:
    meta = item.meta
    if item.kind == "project":
        state = "abgeschlossen" if meta.state == "completed" else "laufend"
        funded = ", gefördert" if meta.funding else ""
        return f"{meta.fields_of_action[0]} · {state}{funded}"
    if item.kind == "post":
        return meta.category
    if item.kind == "event":
        return meta.format
    return ", ".join(item.projects)


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(TYPE_NAMES), metavar="[TYPE]")
@click.option("--status", type=click.Choice(STATUSES), help=N_("Only items in this workflow status."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON (one array of items) for scripts."))
@click.pass_obj
def command(obj: dict, kind: str | None, status: str | None, as_json: bool) -> None:
    """List content items; TYPE is one of post, news, event, project.

    Items with errors are left out and counted at the end; the exit status is 1 then.
    """
    loaded = obj["workspace"].load()
    items = loaded.library.query(kind, status=status)
    if as_json:
        click.echo(json.dumps([_row(item) for item in items], ensure_ascii=False, indent=2))
    else:
        table = Table(show_lines=False, pad_edge=False, box=None, header_style="bold")
        for column in COLUMNS:
            table.add_column(_(column), overflow="fold")
        for item in items:
            table.add_row(item.kind, item.slug, item.status, _shown_date(item), item.title, _detail(item))
        console.print(table)
        console.print(ngettext("{count} item", "{count} items", len(items)).format(count=len(items)))
    if loaded.errors:
        count = len(loaded.errors)
        error_console.print(
            ngettext(
                "{count} problem in the content; items with errors are not listed — run `commsflow check`",
                "{count} problems in the content; items with errors are not listed — run `commsflow check`",
                count,
            ).format(count=count)
        )
        raise click.exceptions.Exit(1)

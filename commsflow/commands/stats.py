"""``commsflow stats``: programme figures computed from the content."""

from __future__ import annotations

import json

import click
from rich.table import Table

from commsflow import dates, stats
from commsflow.i18n import N_, ngettext
from commsflow.output import console, error_console


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the figures as JSON for scripts."))
@click.pass_obj
def command(obj: dict, as_json: bool) -> None:
    """Programme figures: projects in total, completed, running, funded, by field of action.

    "Now" (for upcoming events) is the pinned clock (--now) or the real time.
    """
    workspace = obj["workspace"]
    loaded = workspace.load()
    vocab = workspace.config.vocabularies
    figures = stats.compute(loaded.library, workspace.now, vocab.fields_of_action, vocab.blog_categories)
    if as_json:
        click.echo(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
    else:
        name = workspace.config.organisation.short_name
        console.print(f"[bold]{name} in Zahlen[/] — Stand {dates.long_date(workspace.now)}")
        console.print(
            f"{figures.projects} Projekte: {figures.running} in Umsetzung, {figures.completed} abgeschlossen; "
            f"{figures.funded} mit bewilligter Förderung ({figures.funded_running} davon laufend)"
        )
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column, justify in (
            ("Handlungsfeld", "left"),
            ("Projekte", "right"),
            ("laufend", "right"),
            ("abgeschlossen", "right"),
            ("beteiligt", "right"),
        ):
            table.add_column(column, justify=justify)
        for row in figures.by_field:
            table.add_row(row.name, str(row.projects), str(row.running), str(row.completed), str(row.involved))
        console.print(table)
        categories = ", ".join(f"{name} {count}" for name, count in figures.posts_by_category.items())
        console.print(f"Blogbeiträge: {categories}")
        console.print(
            f"Projektnews: {figures.news} · Veranstaltungen: {figures.events_past} vergangen, "
            f"{figures.events_upcoming} geplant"
        )
    if loaded.errors:
        count = len(loaded.errors)
        error_console.print(
            ngettext(
                "{count} problem in the content; the figures leave those items out — run `commsflow check`",
                "{count} problems in the content; the figures leave those items out — run `commsflow check`",
                count,
            ).format(count=count)
        )
        raise click.exceptions.Exit(1)

"""``commsflow ics``: a calendar file for every event."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow.assemblers.newsletter import SIGNED_OFF
from commsflow.channels.ics import assumed_ends
from commsflow.commands import load_or_stop
from commsflow.errors import CommsflowError, closest
from commsflow.files import write_all
from commsflow.i18n import N_, _, ngettext
from commsflow.links import item_url
from commsflow.output import console, print_problems
from commsflow.renderers import ics as renderer
from commsflow.workspace import Workspace


@click.command("ics")
@click.argument("events", nargs=-1, metavar="[EVENT]...")
@click.option("--drafts", is_flag=True, help=N_("Also events not yet approved."))
@click.pass_obj
def command(obj: dict, events: tuple[str, ...], drafts: bool) -> None:
    """Write build/events/EVENT.ics for every approved event (or the named ones):
    the files behind the „In den Kalender“ links in newsletters and press releases."""
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    loaded = load_or_stop(workspace, "the calendar files")
    known = {item.slug: item for item in loaded.library.of_kind("event")}
    if events:
        for slug in events:
            if slug not in known:
                guess = closest(slug, known)
                raise CommsflowError(
                    _("no event {slug!r}").format(slug=slug),
                    _("did you mean {guess!r}?").format(guess=guess)
                    if guess
                    else _("use the event's slug (its file name)"),
                )
        chosen = [known[slug] for slug in events]
    else:
        chosen = [item for item in known.values() if drafts or item.status in SIGNED_OFF]
    folder = config.path("build") / "events"
    files = {
        folder / f"{item.slug}.ics": renderer.event_ics(item, config, stamp=workspace.now, url=item_url(item, config))
        for item in chosen
    }
    write_all(files)
    # A file that ends an event by [events] default_duration says so nowhere: said here, as check says it.
    written = {item.path for item in chosen}
    print_problems([p for p in assumed_ends(loaded.library, config, workspace.now) if p.path in written])
    shown = folder.relative_to(workspace.root) if folder.is_relative_to(workspace.root) else folder
    count = len(files)
    console.print(
        "[green]✓[/] "
        + ngettext("{count} calendar file in {folder}/", "{count} calendar files in {folder}/", count).format(
            count=count, folder=escape(str(shown))
        )
    )

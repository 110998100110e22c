"""``commsflow linkedin``: build LinkedIn post drafts and show one as it will read."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow import stats
from commsflow.assemblers import linkedin as assembler
from commsflow.commands import load_or_stop
from commsflow.config import CONFIG_FILE
from commsflow.errors import CommsflowError
from commsflow.files import write_all
from commsflow.i18n import N_, _, language, ngettext
from commsflow.output import console, print_problems, warnings_counted
from commsflow.renderers import linkedin as renderer
from commsflow.workspace import Workspace

CUT_MARKER = "──── …mehr ────"


@click.group("linkedin")
def command() -> None:
    """LinkedIn post drafts: from blog posts, project news, events and the programme figures."""


def _render(workspace: Workspace, items: list[str], drafts: bool) -> renderer.RenderedDrafts:
    """Load, check, choose and render the drafts; content errors stop here."""
    config = workspace.config
    loaded = load_or_stop(workspace, "the drafts")
    planned = assembler.plan(loaded.library, workspace.now, config.zone, slugs=items or None, drafts=drafts)
    vocabularies = config.vocabularies
    figures = stats.compute(loaded.library, workspace.now, vocabularies.fields_of_action, vocabularies.blog_categories)
    return renderer.render_drafts(planned, loaded.library, config, figures, now=workspace.now)


def _shown(workspace: Workspace, path) -> str:
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


@command.command("build")
@click.argument("items", metavar="[ITEM]...", nargs=-1)
@click.option(
    "--drafts",
    is_flag=True,
    help=N_("Include items not yet approved, marked 'Entwurf' (Markdown only, no API request)."),
)
@click.pass_obj
def build(obj: dict, items: tuple[str, ...], drafts: bool) -> None:
    """Build the LinkedIn drafts of the ITEMs (slugs; 'zahlen' for the figures post;
    default: all) into the build folder: ITEM--KIND.md to read and ITEM--KIND.json, the
    LinkedIn Posts API request.

    Nothing is written unless every draft builds without errors.
    """
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    rendered = _render(workspace, list(items), drafts)
    if rendered.errors:
        print_problems(rendered.problems)
        count = len(rendered.errors)
        raise CommsflowError(
            ngettext(
                "{count} error in the LinkedIn drafts; nothing was written",
                "{count} errors in the LinkedIn drafts; nothing was written",
                count,
            ).format(count=count),
            _("fix the errors above"),
        )
    files = renderer.output_files(rendered, config, now=workspace.now)
    write_all(files)
    print_problems(rendered.problems)
    count, warnings = len(rendered.drafts), len(rendered.problems)
    built = (
        ngettext(
            "{count} LinkedIn draft built with drafts: {warnings}",
            "{count} LinkedIn drafts built with drafts: {warnings}",
            count,
        )
        if drafts
        else ngettext("{count} LinkedIn draft built: {warnings}", "{count} LinkedIn drafts built: {warnings}", count)
    )
    console.print("[green]✓[/] " + built.format(count=count, warnings=warnings_counted(warnings)))
    for path in files:
        console.print(f"  {escape(_shown(workspace, path))}")


@command.command("show")
@click.argument("item_id", metavar="ITEM")
@click.option(
    "--kind",
    type=click.Choice(assembler.KINDS),
    help=N_("Show only this draft of the item (an event has a save-the-date and a reminder)."),
)
@click.pass_obj
def show(obj: dict, item_id: str, kind: str | None) -> None:
    """Show the drafts of ITEM (a slug, or 'zahlen') as they will read on LinkedIn, with
    the „…mehr“ cut after 210 characters, character count and hashtags. Nothing is
    written; items not yet approved are shown too.
    """
    workspace: Workspace = obj["workspace"]
    rendered = _render(workspace, [item_id], drafts=True)
    drafts = [draft for draft in rendered.drafts if draft.planned.item_id == item_id]
    if kind:
        chosen = [draft for draft in drafts if draft.kind == kind]
        if not chosen:
            has = ", ".join(draft.kind for draft in drafts)
            raise CommsflowError(
                _("{item!r} has no {kind} draft").format(item=item_id, kind=kind),
                _("its drafts: {kinds}").format(kinds=has),
            )
        drafts = chosen
    for number, draft in enumerate(drafts):
        if number:
            console.print()
        _print_draft(draft)
    # Only the item's own problems: whether JSON would be written (linkedin_author) is build's concern.
    problems = [p for p in rendered.problems if p.path != CONFIG_FILE]
    if problems:
        console.print()
        print_problems(problems)
    if rendered.errors:
        raise click.exceptions.Exit(1)


def _print_draft(draft: renderer.Draft) -> None:
    where = f" ({draft.source})" if draft.source else ""
    console.print(f"[bold]{escape(draft.name)}[/]{escape(where)}")
    status = draft.status or _("generated from the content")
    if draft.draft:
        status += " — " + _("not approved: a preview, marked Entwurf")
    console.print(_("status: {status} · planned: not yet").format(status=escape(status)))
    console.print(_("link: {link}").format(link=escape(draft.link or "–")))
    if draft.image:
        console.print(
            _("image: {src} (alt: {alt})").format(src=escape(draft.image["src"]), alt=escape(draft.image["alt"]))
        )
    console.print()
    console.print(with_cut(draft.text), markup=False, emoji=False)
    console.print()
    count = len(draft.text)
    hashtags = draft.hashtags
    cut = (
        _("„…mehr“ after character {position}").format(position=draft.cut)
        if draft.cut
        else _("shown in full, no „…mehr“")
    )
    tags = ngettext("{count} hashtag", "{count} hashtags", len(hashtags)).format(count=len(hashtags))
    console.print(
        _("{count} characters of {limit}").format(count=_number(count), limit=_number(renderer.COMMENTARY_LIMIT))
        + f" · {cut} · {tags}{': ' + ' '.join(hashtags) if hashtags else ''}",
        markup=False,
        emoji=False,
    )


def _number(value: int) -> str:
    """``value`` with thousands separated as the language writes them (3,000 / 3.000)."""
    text = f"{value:,}"
    return text.replace(",", ".") if language() == "de" else text


def with_cut(text: str) -> str:
    """``text`` with a line marking where the feed cuts it for „…mehr“."""
    cut = renderer.feed_cut(text)
    if cut is None:
        return text
    return f"{text[:cut].rstrip()}\n{CUT_MARKER}\n{text[cut:].lstrip()}"

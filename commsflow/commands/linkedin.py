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
from commsflow.output import console, plural, print_problems
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
    "--drafts", is_flag=True, help="Include items not yet approved, marked 'Entwurf' (Markdown only, no API request)."
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
        raise CommsflowError(
            f"{plural(len(rendered.errors), 'error')} in the LinkedIn drafts; nothing was written",
            "fix the errors above",
        )
    files = renderer.output_files(rendered, config, now=workspace.now)
    write_all(files)
    print_problems(rendered.problems)
    console.print(
        f"[green]✓[/] {plural(len(rendered.drafts), 'LinkedIn draft')} built"
        f"{' with drafts' if drafts else ''}: {plural(len(rendered.problems), 'warning')}"
    )
    for path in files:
        console.print(f"  {escape(_shown(workspace, path))}")


@command.command("show")
@click.argument("item_id", metavar="ITEM")
@click.option(
    "--kind",
    type=click.Choice(assembler.KINDS),
    help="Show only this draft of the item (an event has a save-the-date and a reminder).",
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
            raise CommsflowError(f"{item_id!r} has no {kind} draft", f"its drafts: {has}")
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
    status = draft.status or "generated from the content"
    if draft.draft:
        status += " — not approved: a preview, marked Entwurf"
    console.print(f"status: {escape(status)} · planned: not yet")
    console.print(f"link: {escape(draft.link or '–')}")
    if draft.image:
        console.print(f"image: {escape(draft.image['src'])} (alt: {escape(draft.image['alt'])})")
    console.print()
    console.print(with_cut(draft.text), markup=False, emoji=False)
    console.print()
    count = len(draft.text)
    hashtags = draft.hashtags
    cut = f"„…mehr“ after character {draft.cut}" if draft.cut else "shown in full, no „…mehr“"
    console.print(
        f"{count:,} characters of {renderer.COMMENTARY_LIMIT:,} · {cut} · "
        f"{plural(len(hashtags), 'hashtag')}{': ' + ' '.join(hashtags) if hashtags else ''}",
        markup=False,
        emoji=False,
    )


def with_cut(text: str) -> str:
    """``text`` with a line marking where the feed cuts it for „…mehr“."""
    cut = renderer.feed_cut(text)
    if cut is None:
        return text
    return f"{text[:cut].rstrip()}\n{CUT_MARKER}\n{text[cut:].lstrip()}"

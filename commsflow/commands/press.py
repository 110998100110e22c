"""``commsflow press``: press releases as Markdown, print HTML, Word and plain text."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow import lint
from commsflow.assemblers import press as assembler
from commsflow.assemblers.newsletter import SIGNED_OFF
from commsflow.commands import load_or_stop
from commsflow.errors import CommsflowError, Problem, closest
from commsflow.files import write_all
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, print_problems, warnings_counted
from commsflow.renderers import press as renderer
from commsflow.workspace import Workspace


@click.group("press")
def command() -> None:
    """Press releases for items marked with a `press:` block (or named)."""


@command.command("build")
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option("--drafts", is_flag=True, help=N_("Also items not yet approved (for a sign-off copy)."))
@click.pass_obj
def build(obj: dict, items: tuple[str, ...], drafts: bool) -> None:
    """Build press releases into build/press/ITEM/: release.md, release.html (A4),
    release.docx, a tagged release.pdf, release.txt (the agencies' wire style), the photos
    with their credits, and ITEM.zip with all of them; events also get their .ics file.

    Without ITEM: every item with a `press:` block. Nothing is written unless every
    release builds without errors.
    """
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    loaded = load_or_stop(workspace, "the releases")
    library = loaded.library
    if items:
        chosen = []
        for slug in items:
            item = library.get(slug)
            if item is None:
                guess = closest(slug, library.by_slug)
                raise CommsflowError(
                    _("no item {slug!r} in the content library").format(slug=slug),
                    _("did you mean {guess!r}?").format(guess=guess)
                    if guess
                    else _("use the item's slug (its file name)"),
                )
            chosen.append(item)
    else:
        chosen = [item for item in library if item.meta.press is not None]
        if not chosen:
            raise CommsflowError(
                _("no item is marked for a press release"),
                _("add a `press:` block to an item's front matter, or name items: press build ITEM"),
            )
    problems, files, built = [], {}, []
    planned = _planned_press_jobs(workspace, loaded)
    for item in chosen:
        if item.status not in SIGNED_OFF and not drafts:
            problems.append(_not_approved(item))
            continue
        # Dated as it goes out: the day the calendar plans its release (the build day without one).
        job = planned.get(item.slug)
        day = job.planned if job is not None else workspace.now
        release = assembler.assemble(item, workspace.root, day, kind=job.template if job is not None else None)
        problems += release.problems
        if release.errors:
            continue
        rendered = renderer.render_release(release, config, now=day)
        problems += rendered.problems
        if any(problem.is_error for problem in rendered.problems):
            continue
        problems += lint.release_problems(item, workspace.root, renderer.format_texts(rendered))
        files.update(renderer.output_files(rendered, config))
        built.append((item, release, rendered))
    problems = list(dict.fromkeys(problems))  # a missing PDF engine is said once, not per release
    errors = [p for p in problems if p.is_error]
    print_problems(problems)
    if errors:
        raise CommsflowError(
            ngettext(
                "{count} error; no release was written", "{count} errors; no release was written", len(errors)
            ).format(count=len(errors)),
            _("fix the errors above"),
        )
    write_all(files)
    for item, release, rendered in built:
        folder = config.path("build") / "press" / item.slug
        shown = folder.relative_to(workspace.root) if folder.is_relative_to(workspace.root) else folder
        forms = "md,html,docx,txt,pdf" if rendered.pdf is not None else "md,html,docx,txt"
        console.print(
            f"[green]✓[/] {escape(item.slug)} ({release.kind}, {config.press.layout}): "
            f"{escape(str(shown))}/release.{{{forms}}}, {escape(item.slug)}.zip"
        )
    releases, warnings = len(built), len(problems)
    console.print(
        _("{releases} built, {warnings}").format(
            releases=ngettext("{count} release", "{count} releases", releases).format(count=releases),
            warnings=warnings_counted(warnings),
        )
    )


def _not_approved(item):
    return Problem(
        item.path,
        _("{slug!r} is {status}, not approved").format(slug=item.slug, status=item.status),
        field="status",
        hint=_("approve it (status: approved), or build a sign-off copy with --drafts"),
    )


def _planned_press_jobs(workspace: Workspace, loaded):
    """Item slug → the next press job the calendar plans for it (not yet sent), if any."""
    from commsflow.plan import open_plan

    plan = open_plan(workspace, ledger=True, loaded=loaded)
    found = {}
    for job in plan.jobs:  # in planned order
        if job.channel == "press" and job.state not in ("done", "posted", "dismissed") and job.item not in found:
            found[job.item] = job
    return found

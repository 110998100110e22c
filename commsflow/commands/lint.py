"""``commsflow lint``: editorial and accessibility checks on content, campaigns and outputs."""

from __future__ import annotations

from dataclasses import replace

import click

from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.i18n import N_, _, ngettext
from commsflow.lint import generated_html, lint
from commsflow.output import console, errors_counted, print_problems, warnings_counted
from commsflow.plan import open_plan
from commsflow.workspace import Workspace


@click.command("lint")
@click.option("--strict", is_flag=True, help=N_("Turn warnings into errors."))
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Check what readers get: alt texts, link texts, heading levels, lang on the
    generated HTML, formal address, the LinkedIn openings, the newsletter's size,
    events promoted after they started and dead links to the own site.

    Exits with status 1 if there is any error (with --strict: any finding).
    """
    workspace: Workspace = obj["workspace"]
    loaded = workspace.load()
    if loaded.errors:
        print_problems(loaded.errors)
        count = len(loaded.errors)
        raise CommsflowError(
            ngettext("{count} error in the content", "{count} errors in the content", count).format(count=count),
            _("fix them first (commsflow check) — lint reads only valid items"),
        )
    plan = open_plan(workspace, loaded=loaded)
    problems = lint(plan)
    if strict:
        problems = [replace(p, severity=Severity.ERROR) if not p.is_error else p for p in problems]
        problems.sort(key=Problem.sort_key)
    print_problems(problems)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    pages = len(generated_html(workspace.config))
    items, campaigns = len(loaded.library), len(workspace.campaigns.campaigns)
    summary = _("{items}, {campaigns} and {pages} linted: {errors}, {warnings}").format(
        items=ngettext("{count} item", "{count} items", items).format(count=items),
        campaigns=ngettext("{count} campaign", "{count} campaigns", campaigns).format(count=campaigns),
        pages=ngettext("{count} generated HTML file", "{count} generated HTML files", pages).format(count=pages),
        errors=errors_counted(errors),
        warnings=warnings_counted(warnings),
    )
    console.print(("[red]✗[/] " if errors else "[green]✓[/] ") + summary)
    if errors:
        raise click.exceptions.Exit(1)

"""``commsflow check``: validate configuration, content and campaigns; report every problem at once."""

from __future__ import annotations

import click

from commsflow import calendar as planning
from commsflow.approvals import load_approvals
from commsflow.assemblers.newsletter import assemble
from commsflow.errors import Problem
from commsflow.output import console, plural, print_problems


@click.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Check configuration, all content and the campaign files; list every problem
    with file, line and field.

    Exits with status 1 if there is any error (or any warning with --strict).
    """
    workspace = obj["workspace"]
    loaded = workspace.load()
    campaigns = workspace.campaigns
    problems = list(loaded.problems) + campaigns.problems
    for campaign in campaigns.of_kind("newsletter"):
        # References that name nothing are errors now; whether items are approved yet
        # only matters when the issue is built.
        issue = assemble(campaign, campaigns, loaded.library, workspace.config.zone, drafts=True)
        problems += [p for p in issue.problems if p.is_error]
    if not any(p.is_error for p in campaigns.problems):
        problems += planning.build(workspace.config, campaigns, loaded.library, workspace.now).problems
    problems += load_approvals(workspace.root, workspace.config).problems
    problems.sort(key=Problem.sort_key)
    print_problems(problems)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    summary = (
        f"{plural(loaded.report.files, 'file')} checked, {plural(len(loaded.library), 'item')} valid, "
        f"{plural(len(campaigns.campaigns), 'campaign')}: "
        f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
    )
    failed = errors or (strict and warnings)
    console.print(("[red]✗[/] " if failed else "[green]✓[/] ") + summary)
    if failed:
        raise click.exceptions.Exit(1)

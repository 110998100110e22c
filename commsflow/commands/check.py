"""``commsflow check``: validate configuration, content and campaigns; report every problem at once."""

from __future__ import annotations

import click

from commsflow.output import console, plural, print_problems
from commsflow.plan import open_plan


@click.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Check configuration, all content and the campaign files; list every problem
    with file, line and field.

    Exits with status 1 if there is any error (or any warning with --strict).
    """
    workspace = obj["workspace"]
    plan = open_plan(workspace, ledger=False)
    loaded, campaigns, problems = plan.loaded, plan.campaigns, plan.problems
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

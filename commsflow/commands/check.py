"""``commsflow check``: validate configuration, content and campaigns; report every problem at once."""

from __future__ import annotations

import click

from commsflow.channels.ics import assumed_ends
from commsflow.commands import reporting_plan
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, errors_counted, print_problems, warnings_counted
from commsflow.plan import unique


@click.command("check")
@click.option("--strict", is_flag=True, help=N_("Treat warnings as errors."))
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Check configuration, all content and the campaign files; list every problem
    with file, line and field.

    Exits with status 1 if there is any error (or any warning with --strict).
    """
    workspace = obj["workspace"]
    plan = reporting_plan(workspace, ledger=False)
    loaded, campaigns = plan.loaded, plan.campaigns
    problems = unique(plan.problems + assumed_ends(loaded.library, workspace.config, workspace.now))
    print_problems(problems)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    files, items, campaign_count = loaded.report.files, len(loaded.library), len(campaigns.campaigns)
    summary = _("{files} checked, {items} valid, {campaigns}: {errors}, {warnings}").format(
        files=ngettext("{count} file", "{count} files", files).format(count=files),
        items=ngettext("{count} item", "{count} items", items).format(count=items),
        campaigns=ngettext("{count} campaign", "{count} campaigns", campaign_count).format(count=campaign_count),
        errors=errors_counted(errors),
        warnings=warnings_counted(warnings),
    )
    failed = errors or (strict and warnings)
    console.print(("[red]✗[/] " if failed else "[green]✓[/] ") + summary)
    if failed:
        raise click.exceptions.Exit(1)

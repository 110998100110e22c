"""``commsflow check``: validate configuration and content, report every problem at once."""

from __future__ import annotations

import click

from commsflow.output import console, plural, print_problems


@click.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Check configuration and all content; list every problem with file, line and field.

    Exits with status 1 if there is any error (or any warning with --strict).
    """
    loaded = obj["workspace"].load()
    print_problems(loaded.problems)
    errors, warnings = len(loaded.errors), len(loaded.warnings)
    summary = (
        f"{plural(loaded.report.files, 'file')} checked, {plural(len(loaded.library), 'item')} valid: "
        f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
    )
    failed = errors or (strict and warnings)
    console.print(("[red]✗[/] " if failed else "[green]✓[/] ") + summary)
    if failed:
        raise click.exceptions.Exit(1)

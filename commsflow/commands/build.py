"""``commsflow build``: every output, incrementally, and the preview dashboard."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from commsflow import lint
from commsflow.build import Builder, BuildReport
from commsflow.files import write_atomic
from commsflow.output import console, error_console, plural, print_problems
from commsflow.plan import open_plan, unique
from commsflow.renderers.dashboard import render_dashboard
from commsflow.workspace import Workspace


def build_all(workspace: Workspace, show_progress: bool = False) -> BuildReport:
    """Render the plan, lint it, write the dashboard; used by `build` and `preview`."""
    builders: list[Builder] = []
    plan = open_plan(workspace, prepare=lambda plan: builders.append(Builder(plan)))
    builder = builders[0]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=error_console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("building", total=len(plan.renderable()) + 1)

        def step(label: str) -> None:
            progress.update(task, advance=1, description=label)

        report = builder.run(step)
    findings = lint.lint(plan, [problem for built in report.renditions for problem in built.problems])
    report.problems = unique(plan.problems + report.problems + findings)
    dashboard = render_dashboard(plan, report.renditions, report.problems)
    write_atomic(workspace.config.path("build") / "index.html", dashboard)
    return report


@click.command("build")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Build everything into the build folder — newsletter issues, LinkedIn drafts, press
    releases, event .ics files, the calendar export — and the preview dashboard
    build/index.html. Unchanged items and templates cause no work; one bad item is
    reported without stopping the others (the exit status is 1 then)."""
    workspace: Workspace = obj["workspace"]
    report = build_all(workspace, show_progress=sys.stderr.isatty())
    print_problems(report.problems)
    build = workspace.config.path("build")
    shown = build.relative_to(workspace.root) if build.is_relative_to(workspace.root) else build
    failed = bool(report.errors) or (strict and bool(report.warnings))
    console.print(
        ("[red]✗[/] " if failed else "[green]✓[/] ") + f"{len(report.built)} built, {len(report.unchanged)} unchanged, "
        f"{plural(len(report.warnings), 'warning')}, {plural(len(report.errors), 'error')}"
    )
    if report.failed:
        console.print(f"not built: {escape(', '.join(report.failed))}")
    console.print(f"Preview: {escape(str(shown / 'index.html'))} (open it in a browser, or: commsflow preview)")
    if failed:
        raise click.exceptions.Exit(1)

"""``commsflow build``: every output, incrementally, and the preview dashboard."""

from __future__ import annotations

import importlib
import sys
from contextlib import nullcontext
from pathlib import Path

import click
from rich.markup import escape

from commsflow import stamp
from commsflow.errors import CommsflowError, Problem
from commsflow.i18n import N_, _
from commsflow.output import console, errors_counted, print_problems, warnings_counted
from commsflow.workspace import Workspace


def build_all(workspace: Workspace, show_progress: bool = False, changes: stamp.Changes | None = None):
    """Render the plan, lint it, write the dashboard; used by `build` and `preview`.
    Returns the :class:`commsflow.build.BuildReport` and leaves a stamp for the next build.
    ``changes``: what changed since the last build; when that is only items' texts, the
    plan is opened with the last build's outline and only what they are in is rendered."""
    from commsflow import lint
    from commsflow.build import Builder, write_dashboard
    from commsflow.files import journal
    from commsflow.plan import open_plan, unique
    from commsflow.renderers.dashboard import render_dashboard

    config = workspace.config
    state = config.path("state")
    before = stamp.Stamp(
        workspace.root,
        inputs=[
            config.path("content"),
            config.path("campaigns"),
            config.path("templates"),
            config.path("approvals"),
            state / "ledger.sqlite",
            state / "ledger.sqlite-wal",
        ],
        outputs=[config.path("build")],
        seen=changes,
    )
    workspace.seen_files = changes.now if changes is not None else None  # `preview` builds again and again
    # What the build changes in build/: after a build that had a listing of it, the stamp need not list it again.
    with journal() if changes is not None else nullcontext() as written:
        builders: list[Builder] = []
        outline, texts = _outline(workspace, changes)
        plan = open_plan(workspace, prepare=lambda plan: builders.append(Builder(plan, texts)), outline=outline)
        if outline is not None and (not texts <= {item.path for item in plan.library} or builders[0].texts_matter()):
            # A changed file no longer gives a valid item, or a signed-off rendition is made from one.
            outline, texts = None, None
            builders.clear()
            plan = open_plan(workspace, prepare=lambda plan: builders.append(Builder(plan)))
        builder = builders[0]
        report = _run_with_progress(builder, len(plan.renderable()) + 1) if show_progress else builder.run()
        rendered = [problem for built in report.renditions for problem in built.problems]
        # The build folder as the stamp listed it and the build changed it: not walked again.
        outputs = before.output_files(written) if written is not None else None
        findings = lint.lint(plan, rendered, outputs)
        report.problems = unique(plan.problems + report.problems + findings)
        write_dashboard(render_dashboard(plan, report.renditions, report.problems), config.path("build"), state)
    try:
        if outline is None:
            outline = plan.outline()
            if outline is not None:
                outline.save(state)
        # Until the next planned job or event start, the clock changes nothing the build shows.
        before.save(
            stamp.stamp_path(state),
            config.organisation.timezone,
            plan.now,
            plan.moments,
            _summary(workspace, report),
            outline.id if outline is not None else None,
            written,
        )
    except CommsflowError:
        pass  # the stamp and the outline only save the next build's time; the outputs are written
    return report


def _run_with_progress(builder, total: int):
    """The build with a progress bar on the terminal (rich's progress is loaded only then)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from commsflow.output import error_console

    columns = TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}")
    with Progress(*columns, console=error_console, transient=True) as progress:
        task = progress.add_task("building", total=total)
        return builder.run(lambda label: progress.update(task, advance=1, description=label))


def _outline(workspace: Workspace, changes: stamp.Changes | None):
    """The last build's outline and the files whose texts alone changed since, when that
    is all that changed; else (None, None)."""
    from commsflow import outline

    if changes is None or not changes.files:
        return None, None
    root = workspace.root.resolve()
    changed = []
    for name in changes.files:
        path = Path(name).resolve()
        if not path.is_relative_to(root):
            return None, None
        changed.append(path.relative_to(root).as_posix())
    found = outline.load(workspace.config.path("state"), changes.outline)
    if found is None or not found.still_holds(root, changed):
        return None, None
    return found, set(changed)


def _summary(workspace: Workspace, report) -> dict:
    """What `build` says about a build: kept in the stamp, said again while nothing changes."""
    build = workspace.config.path("build")
    shown = build.relative_to(workspace.root) if build.is_relative_to(workspace.root) else build
    return {
        "built": len(report.built),
        "unchanged": len(report.unchanged),
        "failed": report.failed,
        "problems": [problem.as_dict() for problem in report.problems],
        "preview": str(shown / "index.html"),
    }


def _say(summary: dict, strict: bool, *, again: bool) -> None:
    problems = [Problem.from_dict(data) for data in summary["problems"]]
    print_problems(problems)
    errors = sum(problem.is_error for problem in problems)
    warnings = len(problems) - errors
    failed = bool(errors) or (strict and bool(warnings))
    built, unchanged = (
        (0, summary["built"] + summary["unchanged"]) if again else (summary["built"], summary["unchanged"])
    )
    counts = _("{built} built, {unchanged} unchanged, {warnings}, {errors}").format(
        built=built,
        unchanged=unchanged,
        warnings=warnings_counted(warnings),
        errors=errors_counted(errors),
    )
    if again:
        counts += " — " + _("nothing changed since the last build")
    console.print(("[red]✗[/] " if failed else "[green]✓[/] ") + counts)
    if summary["failed"]:
        console.print(_("not built: {jobs}").format(jobs=escape(", ".join(summary["failed"]))))
    console.print(
        _("Preview: {path} (open it in a browser, or: commsflow preview)").format(path=escape(summary["preview"]))
    )
    if failed:
        raise click.exceptions.Exit(1)


# What a build loads, in the order it needs them (the configuration's models are the most).
_BUILD_MODULES = (
    "commsflow.config",
    "commsflow.sources.content",
    "commsflow.plan",
    "commsflow.build",
    "commsflow.lint",
    "commsflow.renderers.dashboard",
)


@click.command("build")
@click.option("--strict", is_flag=True, help=N_("Treat warnings as errors (exit status 1)."))
@click.pass_obj
def command(obj: dict, strict: bool) -> None:
    """Build everything into the build folder — newsletter issues, LinkedIn drafts, press
    releases, event .ics files, the calendar export — and the preview dashboard
    build/index.html. Unchanged items and templates cause no work; one bad item is
    reported without stopping the others (the exit status is 1 then). When no file, no
    sign-off and no planned moment changed since the last build, it says so and stops."""
    workspace: Workspace = obj["workspace"]
    changes = None
    if workspace.use_cache:
        pending = stamp.changes_started(workspace.root, stamp.state_folder(workspace.root), workspace.now_text)
        for module in _BUILD_MODULES:  # loaded while another process lists the files, until it is done
            if not pending.listing():
                break
            importlib.import_module(module)
        changes = pending.result()
        if changes is not None and not changes.files:
            _say(changes.report, strict, again=True)
            return
    report = build_all(workspace, show_progress=sys.stderr.isatty(), changes=changes)
    _say(_summary(workspace, report), strict, again=False)

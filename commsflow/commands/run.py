"""``commsflow run``: the scheduler — as a long-running process, one pass, or a simulated year.

A real run publishes by the real clock: with the clock pinned (``--now``/``COMMSFLOW_NOW``)
it refuses, unless it is a dry run or a simulation. Tests that drive a real run at a given
moment say so in the click context object (:data:`REAL_RUN_AT_PINNED_CLOCK`), which no
option or environment variable can set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from rich.markup import escape

from commsflow import dates
from commsflow.errors import CommsflowError
from commsflow.output import console, error_console, plural, print_problems
from commsflow.plan import open_plan
from commsflow.scheduler import Outcome, Scheduler, throwaway_state
from commsflow.workspace import Workspace

# For tests only: ``CliRunner().invoke(main, [..., "--now", WHEN, "run", ...], obj={REAL_RUN_AT_PINNED_CLOCK: True})``
# runs the real scheduler at WHEN. A person cannot set it from the command line or the environment.
REAL_RUN_AT_PINNED_CLOCK = "commsflow.tests: a real run at the pinned clock"

_MARKS = {
    "done": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "missed": "[red]![/]",
    "blocked": "[yellow]–[/]",
    "waiting": "[yellow]…[/]",
    "skipped": "·",
    "error": "[red]✗[/]",
}


def _say(outcome: Outcome) -> None:
    job = outcome.job
    when = f"{dates.numeric_date(outcome.at)} {dates.hour_minute(outcome.at)}"
    console.print(
        f"{when} {_MARKS.get(outcome.state, outcome.state)} {outcome.state:<7} "
        f"{escape(job.channel)} {escape(job.template)} {escape(job.item)} — {escape(outcome.detail)}"
    )


def _loader(workspace: Workspace):
    def load(now: datetime):
        fresh = Workspace(workspace.root, workspace.now_text, workspace.use_cache)
        plan = open_plan(fresh, ledger=False)
        if plan.errors:
            # Keep going with what is valid, but say so on every new plan.
            print_problems(plan.errors, to_stderr=True)
            error_console.print(f"{plural(len(plan.errors), 'error')} in the content: those items are not planned")
        return plan

    return load


def _period(text: str, zone) -> tuple[datetime, datetime]:
    first, sep, last = text.partition("..")
    try:
        start, end = dates.parse_date(first), dates.parse_date(last)
    except dates.DateError as exc:
        raise CommsflowError(f"--simulate {text!r}: {exc}", "write it as 2024-01-01..2024-12-31") from None
    if not sep or end < start:
        raise CommsflowError(f"--simulate {text!r} is not a period", "write it as 2024-01-01..2024-12-31")
    return (
        datetime(start.year, start.month, start.day, tzinfo=zone),
        datetime(end.year, end.month, end.day, tzinfo=zone) + timedelta(days=1),
    )


@click.command("run")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a systemd timer).")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be published; publish nothing, record nothing in the real ledger."
)
@click.option(
    "--simulate",
    metavar="FROM..TO",
    help="Run over a period on a virtual clock, into .commsflow/simulation/ (its own outbox and a copy of the "
    "ledger); nothing real is sent or recorded.",
)
@click.option(
    "--new-ledger",
    is_flag=True,
    help="Confirm a fresh start: the ledger was lost (or replaced) and you are sure nothing was sent from this "
    "folder before, or the ledger there now is the right one. Needed once; refused when there is nothing to confirm.",
)
@click.pass_context
def command(ctx: click.Context, once: bool, dry_run: bool, simulate: str | None, new_ledger: bool) -> None:
    """Publish what the calendar says is due, exactly once, and record it in the ledger.

    Without options it keeps running (a tick every 30 s); stop it with Ctrl-C.
    Only approved items are published. Each job is recorded in the ledger
    (.commsflow/ledger.sqlite) before and after it is sent. A real run goes by
    the real clock: with --now or COMMSFLOW_NOW set it runs only with --dry-run
    or --simulate.
    """
    obj = ctx.obj
    workspace: Workspace = obj["workspace"]
    if new_ledger and (simulate or dry_run):
        raise click.UsageError(
            "--new-ledger confirms a fresh start of the real ledger; a dry run or a simulation does not touch it — "
            "run `commsflow run --new-ledger` (or with --once) without --dry-run and --simulate"
        )
    if workspace.now_text and not (simulate or dry_run) and not obj.get(REAL_RUN_AT_PINNED_CLOCK):
        raise _pinned(ctx, workspace.now_text)
    config = workspace.config
    if simulate:
        start, end = _period(simulate, config.zone)
        box = [start]
        state = throwaway_state(config)
        scheduler = Scheduler(
            config,
            _loader(workspace),
            dry_run=dry_run,
            outbox_only=True,
            report=_say,
            clock=lambda: box[0],
            state=state,
        )
        try:
            outcomes = scheduler.simulate(start, end, box)
        finally:
            scheduler.close()
        _summary(outcomes)
        shown = state.relative_to(workspace.root) if state.is_relative_to(workspace.root) else state
        console.print(
            f"Simulated in {escape(str(shown))}/ (outbox and ledger there); nothing real was sent or recorded."
        )
        return
    clock = (lambda: workspace.now) if workspace.now_text else None
    state = throwaway_state(config) if dry_run else None
    scheduler = Scheduler(
        config, _loader(workspace), dry_run=dry_run, report=_say, clock=clock, state=state, new_ledger=new_ledger
    )
    if once or workspace.now_text:
        try:
            outcomes = scheduler.once()
        finally:
            scheduler.close()
        _summary(outcomes)
        if any(o.state in ("failed", "missed", "error") for o in outcomes):
            raise click.exceptions.Exit(1)
        return
    console.print(f"commsflow scheduler running on {escape(str(workspace.root))} — Ctrl-C to stop")
    scheduler.forever()


def _pinned(ctx: click.Context, now: str) -> CommsflowError:
    """A real run with the clock pinned: it would publish (or record as missed) by a made-up time."""
    source = ctx.parent.get_parameter_source("now") if ctx.parent else None
    where = "COMMSFLOW_NOW" if source is click.core.ParameterSource.ENVIRONMENT else "--now"
    undo = "unset COMMSFLOW_NOW" if where == "COMMSFLOW_NOW" else "leave out --now"
    return CommsflowError(
        f"the clock is pinned to {now!r} ({where}); a real run publishes by the real clock and does not start",
        f"{undo} to publish what is due now; to see what would go out at that moment, add --dry-run "
        "(or run --simulate FROM..TO)",
    )


def _summary(outcomes: list[Outcome]) -> None:
    counts = {}
    for outcome in outcomes:
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    text = ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "nothing due"
    console.print(f"{plural(len(outcomes), 'job')} handled: {text}")

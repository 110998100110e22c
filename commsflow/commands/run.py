"""``commsflow run``: the scheduler — as a long-running process, one pass, or a simulated year."""

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
@click.pass_obj
def command(obj: dict, once: bool, dry_run: bool, simulate: str | None) -> None:
    """Publish what the calendar says is due, exactly once, and record it in the ledger.

    Without options it keeps running (a tick every 30 s); stop it with Ctrl-C.
    Only approved items are published. Each job is recorded in the ledger
    (.commsflow/ledger.sqlite) before and after it is sent.
    """
    workspace: Workspace = obj["workspace"]
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
    scheduler = Scheduler(config, _loader(workspace), dry_run=dry_run, report=_say, clock=clock, state=state)
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


def _summary(outcomes: list[Outcome]) -> None:
    counts = {}
    for outcome in outcomes:
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    text = ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "nothing due"
    console.print(f"{plural(len(outcomes), 'job')} handled: {text}")

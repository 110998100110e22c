"""``commsflow calendar``: the publishing calendar as a table or an .ics file for Outlook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from commsflow import calendar as planning
from commsflow import dates
from commsflow.approvals import SignOffs, load_approvals
from commsflow.campaigns import CampaignSet
from commsflow.commands import load_or_stop
from commsflow.errors import CommsflowError
from commsflow.files import write_atomic
from commsflow.ledger import Ledger
from commsflow.output import console, plural, print_problems
from commsflow.renderers.ics import calendar_ics
from commsflow.scheduler import ledger_path
from commsflow.workspace import Loaded, Workspace

_STYLES = {
    "planned": "",
    "blocked": "yellow",
    "due": "bold",
    "sending": "cyan",
    "done": "green",
    "failed": "red",
    "missed": "red",
}


def _day(text: str | None, zone, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        day = dates.parse_date(text)
    except dates.DateError as exc:
        raise CommsflowError(f"--{what} {text!r}: {exc}", "write a date like 2024-04-01 or 01.04.2024") from None
    return datetime(day.year, day.month, day.day, tzinfo=zone)


@dataclass
class Opened:
    """A workspace read for planning: content, campaigns, sign-offs and the calendar."""

    loaded: Loaded
    campaigns: CampaignSet
    signoffs: SignOffs
    calendar: planning.Calendar


def open_calendar(workspace: Workspace, *, ledger: bool = True) -> Opened:
    """Content and campaigns must be valid (a broken item could be missing from the
    calendar); the calendar is built with the ledger's records and the sign-offs."""
    config = workspace.config
    loaded = load_or_stop(workspace, "the calendar")
    campaigns = workspace.campaigns
    if any(p.is_error for p in campaigns.problems):
        print_problems(campaigns.problems)
        raise CommsflowError("the campaign files have errors", "fix them first (commsflow check)")
    records = {}
    if ledger and ledger_path(config).exists():
        book = Ledger(ledger_path(config))
        records = book.records()
        book.close()
    approvals = load_approvals(workspace.root, config)
    signoffs = SignOffs(config, loaded.library, campaigns, approvals)
    calendar = planning.build(config, campaigns, loaded.library, workspace.now, records, approvals=signoffs)
    calendar.problems = approvals.problems + calendar.problems
    return Opened(loaded, campaigns, signoffs, calendar)


def load_calendar(workspace: Workspace) -> planning.Calendar:
    return open_calendar(workspace).calendar


@click.command("calendar")
@click.option("--from", "start", metavar="DATE", help="First day shown.")
@click.option("--to", "end", metavar="DATE", help="Last day shown.")
@click.option(
    "--channel",
    type=click.Choice(["linkedin", "mastodon", "newsletter", "press", "webhook"]),
    help="Only this channel.",
)
@click.option(
    "--ics",
    "ics_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the calendar as an .ics file (for Outlook) instead of printing it.",
)
@click.pass_obj
def command(obj: dict, start: str | None, end: str | None, channel: str | None, ics_file: Path | None) -> None:
    """The publishing calendar: every planned job with channel, item, state and conflicts
    (two posts on one channel too close together, weekends and Berlin public holidays,
    items not approved shortly before they are due, sign-offs stale or missing, jobs
    before an embargo). Exits 1 on errors, such as an embargo broken in the range shown."""
    workspace: Workspace = obj["workspace"]
    zone = workspace.config.zone
    calendar = load_calendar(workspace)
    last = _day(end, zone, "to")
    jobs = calendar.between(_day(start, zone, "from"), last + timedelta(days=1) if last else None, channel)
    shown = {job.id for job in jobs}
    elsewhere = {problem for job_id, problem in calendar.embargo_problems.items() if job_id not in shown}
    problems = [problem for problem in calendar.problems if problem not in elsewhere]
    print_problems(problems)
    if ics_file is not None:
        write_atomic(ics_file, calendar_ics(jobs, workspace.config, now=workspace.now))
        console.print(f"[green]✓[/] {plural(len(jobs), 'job')} written to {escape(str(ics_file))}")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("when", "channel", "item", "template", "state", "conflicts"):
        table.add_column(column, overflow="fold", no_wrap=column in ("when", "state"))
    for job in jobs:
        when = (
            f"{dates.weekday_date(job.planned)[:2]} {dates.numeric_date(job.planned)} {dates.hour_minute(job.planned)}"
        )
        style = _STYLES.get(job.state, "")
        conflicts = "; ".join(
            f"[red]{escape(text)}[/]" if text == job.embargo else escape(text) for text in job.conflicts
        )
        table.add_row(
            when,
            job.channel,
            escape(job.item),
            job.template,
            f"[{style}]{job.state}[/]" if style else job.state,
            conflicts,
        )
    console.print(table)
    flagged = sum(1 for job in jobs if job.conflicts)
    console.print(
        f"{plural(len(jobs), 'job')}, {plural(flagged, 'conflict')}"
        + (f" — as of {workspace.now:%Y-%m-%d %H:%M}" if jobs else "")
    )
    if any(problem.is_error for problem in problems):
        raise click.exceptions.Exit(1)

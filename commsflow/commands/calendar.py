"""``commsflow calendar``: the publishing calendar as a table or an .ics file for Outlook."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from commsflow import channels, dates
from commsflow.calendar import state_label
from commsflow.commands import plan_or_stop
from commsflow.errors import CommsflowError
from commsflow.files import write_atomic
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, print_problems
from commsflow.renderers.ics import calendar_ics, job_titles
from commsflow.workspace import Workspace

_STYLES = {
    "planned": "",
    "blocked": "yellow",
    "due": "bold",
    "sending": "cyan",
    "done": "green",
    "failed": "red",
    "missed": "red",
}
# The table's columns and their headers (translated where the table is printed).
_COLUMNS = {
    "when": N_("when"),
    "channel": N_("channel"),
    "item": N_("item"),
    "template": N_("template"),
    "state": N_("state"),
    "conflicts": N_("conflicts"),
}


def _day(text: str | None, zone, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        day = dates.parse_date(text)
    except dates.DateError as exc:
        raise CommsflowError(f"--{what} {text!r}: {exc}", _("write a date like 2024-04-01 or 01.04.2024")) from None
    return datetime(day.year, day.month, day.day, tzinfo=zone)


@click.command("calendar")
@click.option("--from", "start", metavar="DATE", help=N_("First day shown."))
@click.option("--to", "end", metavar="DATE", help=N_("Last day shown."))
@click.option("--channel", type=click.Choice(channels.names(scheduled=True)), help=N_("Only this channel."))
@click.option(
    "--ics",
    "ics_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_("Write the calendar as an .ics file (for Outlook) instead of printing it."),
)
@click.pass_obj
def command(obj: dict, start: str | None, end: str | None, channel: str | None, ics_file: Path | None) -> None:
    """The publishing calendar: every planned job with channel, item, state and conflicts
    (two posts on one channel too close together, weekends and Berlin public holidays,
    items not approved shortly before they are due, sign-offs stale or missing, jobs
    before an embargo). Exits 1 on errors, such as an embargo broken in the range shown."""
    workspace: Workspace = obj["workspace"]
    zone = workspace.config.zone
    plan = plan_or_stop(workspace, "the calendar", reporting=True)
    calendar = plan.calendar
    last = _day(end, zone, "to")
    jobs = calendar.between(_day(start, zone, "from"), last + timedelta(days=1) if last else None, channel)
    shown = {job.id for job in jobs}
    elsewhere = {problem for job_id, problem in calendar.embargo_problems.items() if job_id not in shown}
    problems = [problem for problem in plan.approvals.problems + calendar.problems if problem not in elsewhere]
    print_problems(problems)
    if ics_file is not None:
        titles = job_titles(jobs, plan.library, plan.campaigns)
        write_atomic(ics_file, calendar_ics(jobs, workspace.config, now=workspace.now, titles=titles))
        console.print(
            "[green]✓[/] "
            + ngettext("{count} job written to {path}", "{count} jobs written to {path}", len(jobs)).format(
                count=len(jobs), path=escape(str(ics_file))
            )
        )
        return
    channel_name, kind_name = _names(workspace)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, header in _COLUMNS.items():
        table.add_column(_(header), overflow="fold", no_wrap=column in ("when", "state"))
    for job in jobs:
        when = (
            f"{dates.weekday_date(job.planned)[:2]} {dates.numeric_date(job.planned)} {dates.hour_minute(job.planned)}"
        )
        style = _STYLES.get(job.state, "")
        state = state_label(job.state)
        conflicts = "; ".join(
            f"[red]{escape(text)}[/]" if text == job.embargo else escape(text) for text in job.conflicts
        )
        table.add_row(
            when,
            escape(channel_name(job.channel)),
            escape(job.item),
            escape(kind_name(job.channel, job.template)),
            f"[{style}]{escape(state)}[/]" if style else escape(state),
            conflicts,
        )
    console.print(table)
    flagged = sum(1 for job in jobs if job.conflicts)
    counts = {
        "jobs": ngettext("{count} job", "{count} jobs", len(jobs)).format(count=len(jobs)),
        "conflicts": ngettext("{count} conflict", "{count} conflicts", flagged).format(count=flagged),
    }
    if jobs:
        console.print(
            _("{jobs}, {conflicts} — as of {moment}").format(**counts, moment=f"{workspace.now:%Y-%m-%d %H:%M}")
        )
    else:
        console.print(_("{jobs}, {conflicts}").format(**counts))
    if any(problem.is_error for problem in problems):
        raise click.exceptions.Exit(1)


def _names(workspace: Workspace):
    """How the table names channels and kinds: in German as the calendar export does
    („LinkedIn“, „Save the Date“, from templates/calendar/labels.yaml); in English by
    their ids, as campaign files write them."""
    from commsflow import i18n
    from commsflow.renderers.ics import calendar_labels

    if i18n.language() == "en":
        return (lambda channel: channel), (lambda channel, kind: kind)
    try:
        labels = calendar_labels(workspace.config)
    except CommsflowError:  # no labels file: the ids (build says what is missing)
        return (lambda channel: channel), (lambda channel, kind: kind)

    def channel_name(channel: str) -> str:
        found = channels.registry().get(channel)
        return found.shown_title() if found is not None else channel

    return channel_name, labels.kind

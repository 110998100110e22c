"""``commsflow approve`` and ``commsflow review``: sign-offs bound to the exact text."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.markup import escape

from commsflow import dates
from commsflow.approvals import kind_of, label, signed_off_status
from commsflow.assemblers.newsletter import assemble
from commsflow.campaigns import Campaign
from commsflow.clock import check_now
from commsflow.commands import plan_or_stop
from commsflow.errors import CommsflowError, closest
from commsflow.output import console, error_console, plural, print_problems
from commsflow.workspace import Workspace

_PENDING = ("planned", "blocked", "due")  # jobs that may still go out


def _opened(workspace: Workspace):
    opened = plan_or_stop(workspace, "the calendar")
    approvals = opened.approvals
    if approvals.broken:
        print_problems(approvals.problems)
        raise CommsflowError(
            f"{approvals.shown} has errors", "fix them first (commsflow check) — approving rewrites the file"
        )
    return opened


@click.command("approve")
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option("--by", "by", required=True, metavar="NAME", help="Who signs off, e.g. 'Dana Schulz' or 'Redaktion MPI'.")
@click.option("--note", metavar="TEXT", help="A remark kept with the approval.")
@click.option(
    "--all-planned",
    is_flag=True,
    help="Sign off every item and newsletter issue that has a job in the calendar (those not yet "
    "approved are skipped).",
)
@click.option(
    "--now", "now", metavar="DATETIME", help="The time recorded, e.g. '2024-03-01 10:00' (as the global --now)."
)
@click.pass_obj
def approve(obj: dict, items: tuple[str, ...], by: str, note: str | None, all_planned: bool, now: str | None) -> None:
    """Sign off items or newsletter issues as they are now; recorded in approvals.yaml.

    ITEM is an item's slug or a newsletter issue's id. The record holds who (--by),
    when (the clock, --now) and a fingerprint of the item's file (an issue: the campaign
    file and every item in it), the templates of its channels and the settings. Any
    later change turns the approval stale, and the job is not published until it is
    signed off again. Only approved (or published) items can be signed off.
    """
    workspace: Workspace = obj["workspace"]
    if now:
        check_now(now)
        workspace = replace(workspace, now_text=now)
    by = by.strip()
    if not by:
        raise click.UsageError("--by must name who signs off")
    if not items and not all_planned:
        raise click.UsageError("name the items or newsletter issues to sign off, or use --all-planned")
    opened = _opened(workspace)
    config, library, campaigns = workspace.config, opened.library, opened.campaigns
    approvals = opened.approvals
    jobs = opened.jobs

    keys = list(dict.fromkeys(items))
    planned = list(dict.fromkeys(job.item for job in jobs))
    errors, skipped, chosen = [], [], []
    for key in keys:
        subject, error = _subject(key, library, campaigns, config)
        if error:
            errors.append(error)
        else:
            chosen.append(subject)
    if all_planned:
        for key in planned:
            if key in keys:
                continue
            subject, error = _subject(key, library, campaigns, config)
            if subject is None:
                continue  # the figures draft ("zahlen") is made from all content, not from one item
            if error:
                status = getattr(subject, "status", None)
                skipped.append(
                    (
                        key,
                        f"status {status}, not approved yet" if status and not signed_off_status(subject) else error[0],
                    )
                )
            else:
                chosen.append(subject)
    if errors:
        for message, hint in errors:
            error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
            if hint:
                error_console.print(f"  hint: {escape(hint)}", highlight=False)
        error_console.print(f"nothing signed off: {plural(len(errors), 'problem')}")
        raise click.exceptions.Exit(1)

    now = workspace.now
    for subject in chosen:
        key = subject.id if isinstance(subject, Campaign) else subject.slug
        before = opened.signoffs.get(key)
        record = opened.signoffs.record(key, kind_of(subject), by, now, note)
        approvals.put(record)
        again = ""
        if before.record is not None:
            again = " again" if before.state == "current" else f" again (was stale: approved by {before.record.by})"
        console.print(
            f"[green]✓[/] {escape(key)} ({record.kind}) signed off{again} by {escape(by)}: "
            + (", ".join(escape(f"{a.job} {_short(a.planned)}") for a in record.renditions) or "nothing planned yet")
        )
        for change in before.changes:
            _print_change(change)
    approvals.save(config.zone)
    for key, reason in skipped:
        console.print(f"[yellow]–[/] {escape(key)} skipped: {escape(reason)}")
    console.print(
        f"{plural(len(chosen), 'sign-off')} written to {escape(approvals.shown)}"
        + (f", {len(skipped)} skipped" if skipped else "")
        + f" — as of {now:%Y-%m-%d %H:%M}"
    )


def _short(planned: str | None) -> str:
    return f"({planned})" if planned else ""


def _print_change(change) -> None:
    """What changed since the last sign-off: the unified diff, coloured like git's."""
    for line in change.diff.splitlines():
        style = (
            "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        console.print(f"    [{style}]{escape(line)}[/]" if style else f"    {escape(line)}", highlight=False)


def _subject(key: str, library, campaigns, config):
    """The item or issue ``key`` names and whether it can be signed off: (subject, None)
    or (subject or None, (message, hint))."""
    item = library.get(key)
    issue = campaigns.get(key, "newsletter")
    if item is None and issue is None:
        known = [i.slug for i in library] + [c.id for c in campaigns.of_kind("newsletter")]
        guess = closest(key, known)
        return None, (
            f"no item or newsletter issue {key!r}",
            f"did you mean {guess!r}?"
            if guess
            else "give an item's slug (its file name without .md) "
            "or a newsletter issue's id (commsflow newsletter list)",
        )
    if item is not None and issue is not None:
        return item, (
            f"{key!r} names both an item ({item.path}) and a newsletter issue ({issue.path})",
            "rename one of them; a sign-off must say which it is",
        )
    if item is not None:
        if not signed_off_status(item):
            return item, (
                f"{key} is {item.status}: only approved or published items can be signed off",
                f"set 'status: approved' in {item.path} first",
            )
        return item, None
    assembled = assemble(issue, campaigns, library, config.zone)
    errors = [p for p in assembled.problems if p.is_error]
    if errors:
        return issue, (
            f"{key} cannot be signed off: {errors[0].format()}",
            "fix the issue first (commsflow newsletter build)",
        )
    return issue, None


@click.command("review")
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.pass_obj
def review(obj: dict, items: tuple[str, ...]) -> None:
    """What waits for sign-off: items and newsletter issues with jobs ahead whose approval
    is missing or stale (with a diff of what changed since), and items in review; with
    the next job and the reason.

    With ITEMs: every text a sign-off of each would cover, exactly as it goes out.
    """
    workspace: Workspace = obj["workspace"]
    opened = plan_or_stop(workspace, "the calendar")
    print_problems(opened.approvals.problems)
    if items:
        _show(opened, items)
        return
    library, signoffs = opened.library, opened.signoffs
    required = signoffs.required
    upcoming: dict[str, object] = {}
    for job in opened.calendar.jobs:
        if job.state in _PENDING:
            upcoming.setdefault(job.item, job)
    rows = []
    for key, job in upcoming.items():
        item = library.get(key)
        if item is not None and not signed_off_status(item):
            if item.status == "review":
                rows.append((job, key, item.kind, f"in review: set 'status: approved', then commsflow approve {key}"))
            continue
        if not job.approved:  # a newsletter issue naming items not approved yet
            rows.append((job, key, "newsletter", "contains items not approved yet (commsflow newsletter build)"))
            continue
        state = signoffs.get(key)
        if state is None or state.state == "current":
            continue
        reason = state.reason()
        if state.state == "missing" and not required and not state.broken:
            reason += " (optional: [publishing] require_signoff is off)"
        rows.append((job, key, "newsletter" if item is None else item.kind, reason, state.changes))
    for item in library:
        if item.status == "review" and item.slug not in upcoming:
            rows.append((None, item.slug, item.kind, "in review: set 'status: approved'"))
    rows = [row if len(row) == 5 else (*row, ()) for row in rows]

    as_of = f"as of {workspace.now:%Y-%m-%d %H:%M}"
    if not rows:
        console.print(f"Nothing waits for sign-off — {as_of}")
        return
    # One line each (no table): the reasons are long, and a line stays whole when piped or grepped.
    width = max(len(job.channel) for job, *_ in rows if job) if any(job for job, *_ in rows) else 1
    for job, key, kind, reason, changes in rows:
        when = (
            (
                f"{dates.weekday_date(job.planned)[:2]} {dates.numeric_date(job.planned)} "
                f"{dates.hour_minute(job.planned)}"
            )
            if job
            else "–"
        )
        channel = job.channel if job else "–"
        console.print(f"{when:<19}  {channel:<{width}}  {escape(key)} ({kind}) — {escape(reason)}")
        for change in changes:
            _print_change(change)
    console.print(
        f"{plural(len(rows), 'item')} waiting for sign-off — {as_of}; sign off with: commsflow approve ITEM… --by NAME"
    )


def _show(opened, keys: tuple[str, ...]) -> None:
    """Every rendition a sign-off of each key covers, as it goes out."""
    for key in keys:
        subject, error = _subject(key, opened.library, opened.campaigns, opened.config)
        if subject is None:
            raise CommsflowError(*error)
        signoff = opened.signoffs.get(key)
        console.print(
            f"[bold]{escape(key)}[/] — sign-off {signoff.state}"
            + (f" ({escape(signoff.reason())})" if signoff.reason() else "")
        )
        changed = {(change.label, change.planned) for change in signoff.changes}
        for rendition in opened.renditions_for(key):
            job = rendition.job
            when = f"{dates.numeric_date(job.planned)} {dates.hour_minute(job.planned)}"
            console.print(f"\n[bold]── {escape(label(job))} · {when} ──[/]")
            console.print(rendition.review or "(no text)", markup=False, highlight=False, emoji=False)
            for problem in rendition.problems:
                console.print(f"  [yellow]{escape(problem.format())}[/]")
            if (label(job), job.planned) in changed:
                for change in signoff.changes:
                    if (change.label, change.planned) == (label(job), job.planned):
                        _print_change(change)
        console.print()

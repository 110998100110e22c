"""``commsflow approve`` and ``commsflow review``: sign-offs bound to the exact text."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.markup import escape

from commsflow import dates
from commsflow.approvals import Record, kind_of, renditions, signed_off_status
from commsflow.assemblers.newsletter import assemble
from commsflow.campaigns import Campaign
from commsflow.clock import check_now
from commsflow.commands.calendar import open_calendar
from commsflow.errors import CommsflowError, closest
from commsflow.output import console, error_console, plural, print_problems
from commsflow.workspace import Workspace

_PENDING = ("planned", "blocked", "due")  # jobs that may still go out


def _opened(workspace: Workspace):
    opened = open_calendar(workspace, ledger=False)
    approvals = opened.signoffs.approvals
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
    config, library, campaigns = workspace.config, opened.loaded.library, opened.campaigns
    fingerprints = opened.signoffs.fingerprints
    approvals = opened.signoffs.approvals
    jobs = opened.calendar.jobs

    keys = list(dict.fromkeys(items))
    planned = list(dict.fromkeys(job.item for job in jobs))
    errors, skipped, chosen = [], [], []
    for key in keys:
        subject, error = _subject(key, fingerprints, library, campaigns, config)
        if error:
            errors.append(error)
        else:
            chosen.append(subject)
    if all_planned:
        for key in planned:
            if key in keys:
                continue
            subject, error = _subject(key, fingerprints, library, campaigns, config)
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
        record = Record.model_validate(
            {
                "item": key,
                "kind": kind_of(subject),
                "by": by,
                "at": now,
                "note": note,
                "fingerprint": fingerprints.of(subject),
                "renditions": renditions(key, jobs, config, library, campaigns),
            },
            context={"zone": config.zone},
        )
        approvals.put(record)
        again = ""
        if before is not None and before.record is not None:
            again = " again" if before.state == "current" else f" again (was stale: approved by {before.record.by})"
        console.print(
            f"[green]✓[/] {escape(key)} ({record.kind}) signed off{again} by {escape(by)} — {record.fingerprint[:19]}…"
        )
    approvals.save(config.zone)
    for key, reason in skipped:
        console.print(f"[yellow]–[/] {escape(key)} skipped: {escape(reason)}")
    console.print(
        f"{plural(len(chosen), 'sign-off')} written to {escape(approvals.shown)}"
        + (f", {len(skipped)} skipped" if skipped else "")
        + f" — as of {now:%Y-%m-%d %H:%M}"
    )


def _subject(key: str, fingerprints, library, campaigns, config):
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
@click.pass_obj
def review(obj: dict) -> None:
    """What waits for sign-off: items and newsletter issues with jobs ahead whose approval
    is missing or stale, and items in review; with the next job and the reason."""
    workspace: Workspace = obj["workspace"]
    opened = open_calendar(workspace)
    print_problems(opened.signoffs.approvals.problems)
    library, signoffs = opened.loaded.library, opened.signoffs
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
        rows.append((job, key, "newsletter" if item is None else item.kind, reason))
    for item in library:
        if item.status == "review" and item.slug not in upcoming:
            rows.append((None, item.slug, item.kind, "in review: set 'status: approved'"))

    as_of = f"as of {workspace.now:%Y-%m-%d %H:%M}"
    if not rows:
        console.print(f"Nothing waits for sign-off — {as_of}")
        return
    # One line each (no table): the reasons are long, and a line stays whole when piped or grepped.
    width = max(len(job.channel) for job, *_ in rows if job) if any(job for job, *_ in rows) else 1
    for job, key, kind, reason in rows:
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
    console.print(
        f"{plural(len(rows), 'item')} waiting for sign-off — {as_of}; sign off with: commsflow approve ITEM… --by NAME"
    )

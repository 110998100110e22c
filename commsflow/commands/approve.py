"""``commsflow approve``, ``reject`` and ``review``: sign-offs bound to the exact text.

Who signs off is the acting person (:mod:`commsflow.people`): ``--by``, ``COMMSFLOW_USER``
or git's identity; with ``[[people]]`` configured they must be listed, a reviewer, allowed
on every channel of the item and — with ``[signoff] four_eyes`` — not its author."""

from __future__ import annotations

from dataclasses import replace

import click
from rich.markup import escape

from commsflow import dates, markdown, people
from commsflow.approvals import kind_of, label, rejection, signed_off_status, state_label
from commsflow.assemblers.newsletter import assemble
from commsflow.campaigns import Campaign
from commsflow.clock import check_now
from commsflow.commands import plan_or_stop
from commsflow.errors import CommsflowError, closest
from commsflow.i18n import N_, _, ngettext
from commsflow.model import Item
from commsflow.output import console, error_console, print_problems
from commsflow.workspace import Workspace

_PENDING = ("planned", "blocked", "due")  # jobs that may still go out


def opened_for_signoff(workspace: Workspace):
    """The plan, for a sign-off or a rejection: stops when approvals.yaml has errors."""
    opened = plan_or_stop(workspace, "the calendar")
    approvals = opened.approvals
    if approvals.broken:
        print_problems(approvals.problems)
        raise CommsflowError(
            _("{path} has errors").format(path=approvals.shown),
            _("fix them first (commsflow check) — approving rewrites the file"),
        )
    return opened


def _plain(value: str | None, option: str) -> str | None:
    """``value`` as a text approvals.yaml can hold (no raw HTML, no unsafe link), or a usage error."""
    found = markdown.unsafe_markup(value) if value else None
    if found:
        raise click.UsageError(
            _("{option}: {found} is not allowed — write plain text").format(option=option, found=found)
        )
    return value


def reviewer(workspace: Workspace, by: str | None, doing: str, verb: str) -> people.Acting:
    """The acting person, who must be a reviewer when people are listed — without a word
    on the console (the desk shows its own); click.UsageError or CommsflowError when not.
    ``doing`` ("signs off") and ``verb`` ("sign off"): marked with ``N_``, translated here."""
    if by is not None and not by.strip():
        raise click.UsageError(_("--by must name who {doing}").format(doing=_(doing)))
    _plain(by, "--by")
    config = workspace.config
    try:
        who = people.acting(config, workspace.root, by)
    except people.NobodyKnown as exc:
        raise click.UsageError(_("who {doing} is not known — {hint}").format(doing=_(doing), hint=exc.hint)) from None
    _plain(who.name, who.source)
    people.require_role(config, who, "reviewer", verb)
    return who


def _acting(workspace: Workspace, by: str | None, doing: str, verb: str) -> people.Acting:
    """The acting person, who must be a reviewer when people are listed."""
    who = reviewer(workspace, by, doing, verb)
    config = workspace.config
    if not who.given:
        console.print(
            _("acting as {who} (from {source})").format(who=escape(who.name), source=who.source), highlight=False
        )
    if not config.people:
        note = _(
            "note: no [[people]] in commsflow.toml — anybody may sign off under any name; list the team there to "
            "have commsflow check who signs off"
        )
        console.print("[dim]" + escape(note) + "[/]", highlight=False)
    return who


def _channels(opened, key: str) -> dict[str, list[str]]:
    """Channel → the job labels a sign-off of ``key`` covers (its jobs not yet out, or its
    previews), without rendering them."""
    jobs = opened.jobs_for(key) or [job for job in opened.drafts() if job.item == key and job.channel != "ics"]
    found: dict[str, list[str]] = {}
    for job in jobs:
        found.setdefault(job.channel, [])
        if label(job) not in found[job.channel]:
            found[job.channel].append(label(job))
    return found


def _refusal(opened, who: people.Acting, subject, key: str, *, four_eyes: bool = True) -> tuple[str, str] | None:
    """Why ``who`` may not sign off (or reject) ``subject``: its channels, its author."""
    config = opened.config
    channels = _channels(opened, key)
    refused = people.channel_refusal(config, who, key, channels)
    if refused or not four_eyes or not config.signoff.four_eyes:
        return refused
    author = subject.meta.author if isinstance(subject, Item) else None
    written_by = people.authors(config.root, subject.path, author)
    return people.four_eyes_refusal(config, who, key, written_by, channels)


@click.command("approve")
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option(
    "--by",
    "by",
    metavar="NAME",
    help=N_(
        "Who signs off (for scripts), e.g. 'Dana Schulz'. Default: COMMSFLOW_USER, else git's user.email / "
        "user.name in the project's repository. With [[people]] in commsflow.toml it must name a listed "
        "reviewer (name or e-mail); without, any name is accepted."
    ),
)
@click.option("--note", metavar="TEXT", help=N_("A remark kept with the approval."))
@click.option(
    "--all-planned",
    is_flag=True,
    help=N_(
        "Sign off every item and newsletter issue that has a job in the calendar (those not yet "
        "approved, rejected ones and those the acting person may not sign off are skipped)."
    ),
)
@click.option(
    "--now", "now", metavar="DATETIME", help=N_("The time recorded, e.g. '2024-03-01 10:00' (as the global --now).")
)
@click.pass_obj
def approve(
    obj: dict, items: tuple[str, ...], by: str | None, note: str | None, all_planned: bool, now: str | None
) -> None:
    """Sign off items or newsletter issues as they are now; recorded in approvals.yaml.

    ITEM is an item's slug or a newsletter issue's id. The record holds who (the acting
    person: --by, COMMSFLOW_USER or git's identity), when (the clock, --now) and every
    text a job of the item would send. Any later change turns the approval stale, and
    the job is not published until it is signed off again. Only approved (or published)
    items can be signed off; a sign-off replaces a rejection (commsflow reject).
    """
    workspace: Workspace = obj["workspace"]
    if now:
        check_now(now)
        workspace = replace(workspace, now_text=now)
    if not items and not all_planned:
        raise click.UsageError(_("name the items or newsletter issues to sign off, or use --all-planned"))
    note = _plain(note.strip(), "--note") or None if note is not None else None
    who = _acting(workspace, by, N_("signs off"), N_("sign off"))
    by = who.name
    opened = opened_for_signoff(workspace)
    config, library, campaigns = workspace.config, opened.library, opened.campaigns
    approvals = opened.approvals
    jobs = opened.jobs

    keys = list(dict.fromkeys(items))
    planned = list(dict.fromkeys(job.item for job in jobs))
    errors, skipped, chosen = [], [], []
    for key in keys:
        subject, error = _subject(key, library, campaigns, config)
        error = error or _refusal(opened, who, subject, key)
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
            record = approvals.records.get(key)
            if record is not None and record.rejected:  # a reviewer's no is lifted by name, not in bulk
                skipped.append(
                    (
                        key,
                        _("rejected by {who}: {reason} — sign it off by name once it is fixed").format(
                            who=record.by, reason=record.reason
                        ),
                    )
                )
                continue
            if not error:
                refused = _refusal(opened, who, subject, key)
                if refused:
                    skipped.append((key, refused[0]))
                    continue
            if error:
                status = getattr(subject, "status", None)
                skipped.append(
                    (
                        key,
                        _("status {status}, not approved yet").format(status=status)
                        if status and not signed_off_status(subject)
                        else error[0],
                    )
                )
            else:
                chosen.append(subject)
    if errors:
        for message, hint in errors:  # as commsflow.cli prints an error
            error_console.print("[bold red]" + _("error:") + f"[/] {escape(message)}", highlight=False)
            if hint:
                error_console.print("  " + _("hint: {hint}").format(hint=escape(hint)), highlight=False)
        error_console.print(
            ngettext("nothing signed off: {count} problem", "nothing signed off: {count} problems", len(errors)).format(
                count=len(errors)
            )
        )
        raise click.exceptions.Exit(1)

    now = workspace.now
    for subject in chosen:
        key = subject.id if isinstance(subject, Campaign) else subject.slug
        before, record = _sign(opened, subject, key, by, now, note)
        if before.state == "rejected":
            done = _("{item} ({kind}) signed off (was rejected by {before}: {reason}) by {who}: {jobs}")
        elif before.record is None:
            done = _("{item} ({kind}) signed off by {who}: {jobs}")
        elif before.state == "current":
            done = _("{item} ({kind}) signed off again by {who}: {jobs}")
        else:
            done = _("{item} ({kind}) signed off again (was stale: approved by {before}) by {who}: {jobs}")
        jobs_signed = ", ".join(escape(f"{a.job} {_short(a.planned)}") for a in record.renditions)
        console.print(
            "[green]✓[/] "
            + done.format(
                item=escape(key),
                kind=record.kind,
                before=escape(before.record.by) if before.record is not None else "",
                reason=escape(before.record.reason or "") if before.record is not None else "",
                who=escape(by),
                jobs=jobs_signed or _("nothing planned yet"),
            )
        )
        for change in before.changes:
            _print_change(change)
    approvals.save(config.zone)
    for key, reason in skipped:
        console.print("[yellow]–[/] " + _("{item} skipped: {reason}").format(item=escape(key), reason=escape(reason)))
    if skipped:
        written = ngettext(
            "{count} sign-off written to {path}, {skipped} skipped — as of {moment}",
            "{count} sign-offs written to {path}, {skipped} skipped — as of {moment}",
            len(chosen),
        )
    else:
        written = ngettext(
            "{count} sign-off written to {path} — as of {moment}",
            "{count} sign-offs written to {path} — as of {moment}",
            len(chosen),
        )
    console.print(
        written.format(
            count=len(chosen), path=escape(approvals.shown), skipped=len(skipped), moment=f"{now:%Y-%m-%d %H:%M}"
        )
    )


def _sign(opened, subject, key: str, by: str, now, note: str | None):
    """Record the sign-off of ``subject`` (not yet saved): the state before and the record."""
    before = opened.signoffs.get(key)
    record = opened.signoffs.record(key, kind_of(subject), by, now, note)
    opened.approvals.put(record)
    return before, record


def sign_off(opened, who: people.Acting, key: str, now, note: str | None = None):
    """Sign off the item or issue ``key`` as ``who`` and save approvals.yaml: (state before,
    record). CommsflowError when it cannot be signed off or ``who`` may not (the rules of
    ``commsflow approve ITEM``)."""
    subject, error = _subject(key, opened.library, opened.campaigns, opened.config)
    error = error or _refusal(opened, who, subject, key)
    if error:
        raise CommsflowError(*error)
    before, record = _sign(opened, subject, key, who.name, now, note)
    opened.approvals.save(opened.config.zone)
    return before, record


def reject_one(opened, who: people.Acting, key: str, now, reason: str):
    """Reject ``key`` as ``who`` with ``reason`` (plain text, not empty) and save approvals.yaml:
    (state before, record). CommsflowError when ``key`` names nothing or ``who`` may not."""
    subject, error = _named(key, opened.library, opened.campaigns)
    # The author may withdraw their own item: four eyes guard what goes out, not what is held back.
    error = error or _refusal(opened, who, subject, key, four_eyes=False)
    if error:
        raise CommsflowError(*error)
    before = opened.signoffs.get(key)
    record = opened.signoffs.reject(key, kind_of(subject), who.name, now, reason)
    opened.approvals.put(record)
    opened.approvals.save(opened.config.zone)
    return before, record


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
    subject, error = _named(key, library, campaigns)
    if error:
        return subject, error
    if isinstance(subject, Item):
        if not signed_off_status(subject):
            return subject, (
                _("{item} is {status}: only approved or published items can be signed off").format(
                    item=key, status=subject.status
                ),
                _("set 'status: approved' in {path} first").format(path=subject.path),
            )
        return subject, None
    assembled = assemble(subject, campaigns, library, config.zone)
    errors = [p for p in assembled.problems if p.is_error]
    if errors:
        return subject, (
            _("{item} cannot be signed off: {problem}").format(item=key, problem=errors[0].format()),
            _("fix the issue first (commsflow newsletter build)"),
        )
    return subject, None


def _named(key: str, library, campaigns):
    """The item or issue ``key`` names: (subject, None) or (subject or None, (message, hint))."""
    item = library.get(key)
    issue = campaigns.get(key, "newsletter")
    if item is None and issue is None:
        known = [i.slug for i in library] + [c.id for c in campaigns.of_kind("newsletter")]
        guess = closest(key, known)
        return None, (
            _("no item or newsletter issue {item!r}").format(item=key),
            _("did you mean {guess!r}?").format(guess=guess)
            if guess
            else _(
                "give an item's slug (its file name without .md) or a newsletter issue's id (commsflow newsletter list)"
            ),
        )
    if item is not None and issue is not None:
        return item, (
            _("{item!r} names both an item ({path}) and a newsletter issue ({issue})").format(
                item=key, path=item.path, issue=issue.path
            ),
            _("rename one of them; a sign-off must say which it is"),
        )
    return (item, None) if item is not None else (issue, None)


@click.command("reject")
@click.argument("item", metavar="ITEM")
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why: what the author should change (required)."))
@click.option(
    "--by",
    "by",
    metavar="NAME",
    help=N_(
        "Who rejects (for scripts), e.g. 'Dana Schulz'. Default: COMMSFLOW_USER, else git's user.email / "
        "user.name in the project's repository. With [[people]] in commsflow.toml it must name a listed "
        "reviewer (name or e-mail); without, any name is accepted."
    ),
)
@click.option(
    "--now", "now", metavar="DATETIME", help=N_("The time recorded, e.g. '2024-03-01 10:00' (as the global --now).")
)
@click.pass_obj
def reject(obj: dict, item: str, reason: str, by: str | None, now: str | None) -> None:
    """Reject an item or newsletter issue, with the reason; recorded in approvals.yaml.

    The rejection (who, when, why) replaces the item's sign-off: its jobs are held back,
    whether or not sign-offs are required, until someone signs it off again (commsflow
    approve). The author sees the reason in review, status and the dashboard. Items of
    any status can be rejected; with [[people]] configured only a reviewer may, on the
    item's channels.
    """
    workspace: Workspace = obj["workspace"]
    if now:
        check_now(now)
        workspace = replace(workspace, now_text=now)
    reason = " ".join(reason.split())
    if not reason:
        raise click.UsageError(_("--reason must say why, e.g. --reason 'Die Zahlen stimmen nicht mit dem Bericht'"))
    _plain(reason, "--reason")
    who = _acting(workspace, by, N_("rejects"), N_("reject"))
    opened = opened_for_signoff(workspace)
    before, record = reject_one(opened, who, item, workspace.now, reason)
    if before.state == "rejected":
        done = _("{item} ({kind}) rejected by {who} (replaces the rejection by {before}): {reason}")
    elif before.record is not None:
        done = _("{item} ({kind}) rejected by {who} (replaces the sign-off by {before}): {reason}")
    else:
        done = _("{item} ({kind}) rejected by {who}: {reason}")
    ahead = [job for job in opened.jobs_for(item) if job.state in _PENDING]
    console.print(
        "[red]✗[/] "
        + done.format(
            item=escape(item),
            kind=record.kind,
            who=escape(who.name),
            before=escape(before.record.by) if before.record is not None else "",
            reason=escape(reason),
        )
    )
    if ahead:
        console.print(
            "  "
            + ngettext(
                "held back until it is signed off again: {count} job, the next {job} on {moment}",
                "held back until it is signed off again: {count} jobs, the next {job} on {moment}",
                len(ahead),
            ).format(count=len(ahead), job=escape(label(ahead[0])), moment=_at(ahead[0].planned))
        )
    console.print(
        _("1 rejection written to {path} — as of {moment}; once it is fixed: commsflow approve {item}").format(
            path=escape(opened.approvals.shown), moment=f"{workspace.now:%Y-%m-%d %H:%M}", item=escape(item)
        )
    )


def _at(moment) -> str:
    return f"{dates.numeric_date(moment)} {dates.hour_minute(moment)}"


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
    rows = waiting(opened)
    records = opened.approvals.records

    as_of = f"{workspace.now:%Y-%m-%d %H:%M}"
    if not rows:
        console.print(_("Nothing waits for sign-off — as of {moment}").format(moment=as_of))
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
    rejected = sum(1 for _job, key, *_rest in rows if _rejected(records, key))
    if rejected:
        summary = ngettext(
            "{count} item waiting for sign-off ({rejected} rejected) — as of {moment}; "
            "sign off with: commsflow approve ITEM…",
            "{count} items waiting for sign-off ({rejected} rejected) — as of {moment}; "
            "sign off with: commsflow approve ITEM…",
            len(rows),
        )
    else:
        summary = ngettext(
            "{count} item waiting for sign-off — as of {moment}; sign off with: commsflow approve ITEM…",
            "{count} items waiting for sign-off — as of {moment}; sign off with: commsflow approve ITEM…",
            len(rows),
        )
    console.print(summary.format(count=len(rows), rejected=rejected, moment=as_of))


def waiting(opened) -> list[tuple]:
    """What waits for sign-off, as ``commsflow review`` lists it: (next job or None, key,
    kind, reason, changes since the last sign-off) each."""
    library, signoffs = opened.library, opened.signoffs
    required = signoffs.required
    zone = opened.config.zone
    records = opened.approvals.records
    upcoming: dict[str, object] = {}
    for job in opened.calendar.jobs:
        if job.state in _PENDING:
            upcoming.setdefault(job.item, job)
    rows = []
    for key, job in upcoming.items():
        item = library.get(key)
        record = records.get(key)
        if record is not None and record.rejected:
            rows.append((job, key, "newsletter" if item is None else item.kind, rejection(record, zone)))
            continue
        if item is not None and not signed_off_status(item):
            if item.status == "review":
                reason = _("in review: set 'status: approved', then commsflow approve {item}").format(item=key)
                rows.append((job, key, item.kind, reason))
            continue
        if not job.approved:  # a newsletter issue naming items not approved yet
            rows.append((job, key, "newsletter", _("contains items not approved yet (commsflow newsletter build)")))
            continue
        state = signoffs.get(key)
        if state is None or state.state == "current":
            continue
        reason = state.reason()
        if state.state == "missing" and not required and not state.broken:
            reason += " " + _("(optional: [publishing] require_signoff is off)")
        rows.append((job, key, "newsletter" if item is None else item.kind, reason, state.changes))
    for key, record in records.items():
        if record.rejected and key not in upcoming:
            if library.get(key) is not None or opened.campaigns.get(key, "newsletter") is not None:
                rows.append((None, key, record.kind, rejection(record, zone)))
    for item in library:
        if item.status == "review" and item.slug not in upcoming and not _rejected(records, item.slug):
            rows.append((None, item.slug, item.kind, _("in review: set 'status: approved'")))
    rows = [row if len(row) == 5 else (*row, ()) for row in rows]
    return rows


def _rejected(records: dict, key: str) -> bool:
    record = records.get(key)
    return record is not None and record.rejected


def _show(opened, keys: tuple[str, ...]) -> None:
    """Every rendition a sign-off of each key covers, as it goes out."""
    for key in keys:
        subject, error = _named(key, opened.library, opened.campaigns)
        if subject is None:
            raise CommsflowError(*error)
        signoff = opened.signoffs.get(key)
        console.print(
            f"[bold]{escape(key)}[/] — "
            + _("sign-off {state}").format(state=state_label(signoff.state))
            + (f" ({escape(signoff.reason())})" if signoff.reason() else "")
        )
        changed = {(change.label, change.planned) for change in signoff.changes}
        for rendition in opened.renditions_for(key):
            job = rendition.job
            when = f"{dates.numeric_date(job.planned)} {dates.hour_minute(job.planned)}"
            console.print(f"\n[bold]── {escape(label(job))} · {when} ──[/]")
            console.print(rendition.review or _("(no text)"), markup=False, highlight=False, emoji=False)
            for problem in rendition.problems:
                console.print(f"  [yellow]{escape(problem.format())}[/]")
            if (label(job), job.planned) in changed:
                for change in signoff.changes:
                    if (change.label, change.planned) == (label(job), job.planned):
                        _print_change(change)
        console.print()

"""``commsflow retry | dismiss | posted``: a person acts on a job; the ledger records who,
when and why."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console
from commsflow.workspace import Workspace


def _actor(workspace: Workspace, by: str | None, doing: str) -> str:
    """Who acts (--by, COMMSFLOW_USER or git's identity); with [[people]], a publisher.
    ``doing``: marked with ``N_`` (people.require_role translates it)."""
    from commsflow import people

    who = people.acting(workspace.config, workspace.root, by)
    people.require_role(workspace.config, who, "publisher", doing)
    return who.name


def _open(workspace: Workspace):
    from commsflow.actions import candidates
    from commsflow.ledger import Ledger, continuity_problem, ledger_path
    from commsflow.plan import open_plan

    path = ledger_path(workspace.config)
    problem = continuity_problem(path, path.parent)
    if problem is not None:
        raise problem
    plan = open_plan(workspace)
    titles = plan.titles
    return Ledger(path), candidates(plan.jobs, plan.records), titles


def act(workspace: Workspace, action: str, refs: list[str], by: str | None, why: str, url: str | None = None):
    """Act on the jobs ``refs`` name (retry, dismissed, posted) for the acting person; yields each
    job and how it is shown. Used by the commands here and by the desk."""
    from commsflow.actions import check_allowed, describe, find_job

    doing = {"retry": N_("retry jobs"), "dismissed": N_("dismiss jobs")}.get(action, N_("record posts"))
    actor = _actor(workspace, by, doing)
    ledger, jobs, titles = _open(workspace)
    try:
        chosen = []
        for ref in refs:
            job = find_job(ref, jobs, titles)
            check_allowed(action, job)
            if job not in chosen:
                chosen.append(job)
        now = workspace.now
        detail = f"{actor}: {why}" if why else actor
        for job in chosen:
            if action == "retry":
                ledger.retry(job, now, detail)
            else:
                ledger.settle(job, now, action, detail, url=url)
            yield job, describe(job, titles)
    finally:
        ledger.close()


@click.command("retry")
@click.argument("jobs", nargs=-1)
@click.option("--channel", help=N_("With --failed: every failed job of this channel (e.g. after a token was renewed)."))
@click.option("--failed", "all_failed", is_flag=True, help=N_("Every failed job (of --channel, if given)."))
@click.option("--reason", default="", help=N_("Why it is tried again (recorded)."))
@click.option(
    "--by",
    help=N_("Who acts (default: COMMSFLOW_USER, else git's user.name/user.email); with [[people]]: a publisher."),
)
@click.pass_obj
def retry(obj: dict, jobs: tuple[str, ...], channel: str | None, all_failed: bool, reason: str, by: str | None):
    """Send failed or missed jobs again on the scheduler's next pass, once the cause is fixed.

    JOB is the short reference `commsflow status` prints (any unique prefix of it) or a
    job's full id. A missed job goes out late; a dismissed one is taken up again.
    """
    workspace: Workspace = obj["workspace"]
    refs = list(jobs)
    if all_failed:
        from commsflow.actions import short_ref

        ledger, found, _titles = _open(workspace)
        ledger.close()  # act opens it again; left open, it would stay open until the program leaves
        refs += [
            short_ref(job.id) for job in found if job.state == "failed" and (channel is None or job.channel == channel)
        ]
        if not refs:
            raise CommsflowError(
                _("no failed jobs on {channel}").format(channel=channel) if channel else _("no failed jobs"),
                _("commsflow status lists what needs a person"),
            )
    elif channel:
        raise click.UsageError(_("--channel goes with --failed: commsflow retry --channel linkedin --failed"))
    if not refs:
        raise click.UsageError(_("name the jobs to retry (commsflow status lists them), or use --failed"))
    done = list(act(workspace, "retry", refs, by, reason))
    for _job, shown in done:
        console.print(
            "[green]✓[/] " + _("retry: {job} — goes out on the scheduler's next pass").format(job=escape(shown))
        )
    console.print(
        ngettext(
            "{count} job to be sent again (commsflow run, or --once)",
            "{count} jobs to be sent again (commsflow run, or --once)",
            len(done),
        ).format(count=len(done))
    )


@click.command("dismiss")
@click.argument("jobs", nargs=-1, required=True)
@click.option("--reason", required=True, help=N_("Why it must not go out (recorded, shown in status and calendar)."))
@click.option(
    "--by",
    help=N_("Who acts (default: COMMSFLOW_USER, else git's user.name/user.email); with [[people]]: a publisher."),
)
@click.pass_obj
def dismiss(obj: dict, jobs: tuple[str, ...], reason: str, by: str | None):
    """Never send these jobs; the calendar shows them as dismissed. `retry` takes one up again."""
    if not reason.strip():
        raise click.UsageError(_("--reason must say why the job must not go out"))
    for _job, shown in act(obj["workspace"], "dismissed", list(jobs), by, reason.strip()):
        console.print("[green]✓[/] " + _("dismissed: {job} — it will not be sent").format(job=escape(shown)))


@click.command("posted")
@click.argument("jobs", nargs=-1, required=True)
@click.option("--url", help=N_("Where it was published (recorded as its receipt)."))
@click.option(
    "--by",
    help=N_("Who acts (default: COMMSFLOW_USER, else git's user.name/user.email); with [[people]]: a publisher."),
)
@click.pass_obj
def posted(obj: dict, jobs: tuple[str, ...], url: str | None, by: str | None):
    """Record that someone published these jobs by hand: they count as done and are never sent."""
    if url is not None and not url.startswith(("https://", "http://")):
        raise click.UsageError(_("--url must be the full address, starting with https://"))
    for _job, shown in act(obj["workspace"], "posted", list(jobs), by, _("published by hand"), url):
        console.print(
            "[green]✓[/] " + _("posted by hand: {job} — counts as done, never sent").format(job=escape(shown))
        )

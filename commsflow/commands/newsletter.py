"""``commsflow newsletter``: list, build and test-send newsletter issues."""

from __future__ import annotations

from datetime import datetime

import click
from rich.markup import escape
from rich.table import Table

from commsflow import dates, list_tools
from commsflow.assemblers.newsletter import assemble
from commsflow.campaigns import Campaign
from commsflow.commands import load_or_stop
from commsflow.errors import CommsflowError, closest
from commsflow.files import write_all
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, error_console, print_problems, warnings_counted
from commsflow.publishers import email as smtp
from commsflow.renderers import newsletter as renderer
from commsflow.workspace import Workspace

COLUMNS = (N_("issue"), N_("send"), N_("title"), N_("sections"), N_("built"), N_("file"))


@click.group("newsletter")
def command() -> None:
    """Newsletter issues: the campaign files of kind 'newsletter' in campaigns/."""


def _issues(workspace: Workspace) -> list[Campaign]:
    campaigns = workspace.campaigns
    return sorted(campaigns.of_kind("newsletter"), key=lambda c: c.spec.send_at)


def _find(workspace: Workspace, issue_id: str | None) -> Campaign:
    issues = _issues(workspace)
    broken = [p for p in workspace.campaigns.problems if p.is_error]
    if issue_id is None:
        if not issues:
            print_problems(broken)
            raise CommsflowError(
                _("no newsletter issue in {folder}/").format(folder=workspace.config.paths.campaigns),
                _("add a campaign file with 'kind: newsletter' (see README)"),
            )
        chosen = issues[-1]
        console.print(
            _("Latest issue: {issue} ({path})").format(issue=f"[bold]{chosen.id}[/]", path=escape(chosen.path))
        )
        return chosen
    for campaign in issues:
        if campaign.id == issue_id:
            return campaign
    print_problems(broken)  # the issue may be in a file that did not load
    guess = closest(issue_id, [c.id for c in issues])
    known = ", ".join(c.id for c in issues) or _("none")
    raise CommsflowError(
        _("no newsletter issue {issue!r}").format(issue=issue_id),
        _("did you mean {guess!r}?").format(guess=guess) if guess else _("known issues: {issues}").format(issues=known),
    )


def _render(workspace: Workspace, campaign: Campaign, drafts: bool, **options) -> renderer.RenderedIssue:
    """Load, check, assemble and render (``options`` for :func:`~commsflow.renderers.newsletter.render_issue`);
    stops with every problem listed if any is an error."""
    loaded = load_or_stop(workspace, "the issue")
    issue = assemble(campaign, workspace.campaigns, loaded.library, workspace.config.zone, drafts=drafts)
    if any(p.is_error for p in issue.problems):
        print_problems(issue.problems)
        raise CommsflowError(
            _("{path}: the issue cannot be built").format(path=campaign.path), _("fix the errors above")
        )
    rendered = renderer.render_issue(issue, workspace.config, now=workspace.now, **options)
    if rendered.errors:
        print_problems(rendered.problems)
        raise CommsflowError(
            _("{path}: the issue cannot be built; nothing was written").format(path=campaign.path),
            _("fix the errors above"),
        )
    return rendered


@command.command("list")
@click.pass_obj
def list_issues(obj: dict) -> None:
    """List newsletter issues with send time and build state."""
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in COLUMNS:
        table.add_column(_(column), overflow="fold", no_wrap=column in ("issue", "send"))
    issues = _issues(workspace)
    for campaign in issues:
        spec = campaign.spec
        built = (renderer.issue_folder(config, campaign.id) / "email.html").is_file()
        table.add_row(
            campaign.id,
            f"{dates.numeric_date(spec.send_at)} {dates.clock_time(spec.send_at)}",
            escape(spec.title),
            str(len(spec.sections)),
            _("yes") if built else "–",
            escape(campaign.path),
        )
    console.print(table)
    console.print(ngettext("{count} issue", "{count} issues", len(issues)).format(count=len(issues)))
    if workspace.campaigns.problems:
        print_problems(workspace.campaigns.problems)
        raise click.exceptions.Exit(1)


@command.command("build")
@click.argument("issue_id", metavar="[ISSUE]", required=False)
@click.option("--drafts", is_flag=True, help=N_("Include items not yet approved, marked 'Entwurf' (preview only)."))
@click.pass_obj
def build(obj: dict, issue_id: str | None, drafts: bool) -> None:
    """Build ISSUE (default: the latest) into the build folder: email.html, web.html,
    email.txt, issue.eml, the events' .ics files, and the archive page with its feed.

    With --drafts the preview goes to the issue's preview/ folder and leaves the
    approved issue's files, the calendar files and the archive as they are.
    Nothing is written unless the whole issue builds without errors.
    """
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    campaign = _find(workspace, issue_id)
    rendered = _render(workspace, campaign, drafts)
    files = renderer.output_files(rendered, config)
    archive = {} if rendered.drafts else _archive(workspace, campaign.id)
    write_all({**files, **archive})
    print_problems(rendered.problems)
    folder = renderer.output_folder(config, rendered)
    size = len(rendered.email_html.encode("utf-8")) / 1024
    warnings = warnings_counted(len(rendered.problems))
    built = (
        _("{issue} built with drafts: {warnings}, e-mail HTML {size} KB")
        if drafts
        else _("{issue} built: {warnings}, e-mail HTML {size} KB")
    )
    console.print("[green]✓[/] " + built.format(issue=escape(campaign.id), warnings=warnings, size=f"{size:.0f}"))
    for name in renderer.ISSUE_FILES:
        console.print(f"  {escape(_shown(workspace, folder / name))}")
    if rendered.ics_files and not rendered.drafts:
        count = len(rendered.ics_files)
        files = ngettext("{count} calendar file", "{count} calendar files", count).format(count=count)
        console.print(f"  {escape(_shown(workspace, config.path('build') / 'events'))}/ ({files})")
    for path, what in zip(archive, (_("archive"), _("feed")), strict=False):
        console.print(f"  {escape(_shown(workspace, path))} ({what})")


def _archive(workspace: Workspace, current: str) -> dict:
    """The archive page and its feed: the issues sent as of the clock, or by the ledger's
    word, whose web version is built (``current`` is being written)."""
    from commsflow.plan import _ledger_records  # read only: building never writes the ledger

    config = workspace.config
    sent = renderer.sent_issues(_issues(workspace), workspace.now, _ledger_records(config))
    issues = [
        campaign
        for campaign in sent
        if campaign.id == current or (renderer.issue_folder(config, campaign.id) / "web.html").is_file()
    ]
    return renderer.render_archive(config, issues, now=workspace.now)


def _shown(workspace: Workspace, path) -> str:
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


@command.command("send-test")
@click.argument("issue_id", metavar="[ISSUE]", required=False)
@click.option(
    "--to", "recipients", multiple=True, required=True, metavar="ADDRESS", help=N_("Recipient; repeat for several.")
)
@click.option("--drafts", is_flag=True, help=N_("Include items not yet approved, marked 'Entwurf'."))
@click.pass_obj
def send_test(obj: dict, issue_id: str | None, recipients: tuple[str, ...], drafts: bool) -> None:
    """Send ISSUE (default: the latest) to test ADDRESSes through the SMTP server
    given by COMMSFLOW_SMTP_* environment variables. The subject starts with [Test]."""
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    for address in recipients:
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise CommsflowError(
                _("--to {address!r} is not an e-mail address").format(address=address),
                _("write it like name@example.org"),
            )
    settings = smtp.SmtpSettings.from_env()
    campaign = _find(workspace, issue_id)
    # Links as on the web page, not a list tool's placeholders: no list server fills them in for a test.
    rendered = _render(workspace, campaign, drafts, list_tool=list_tools.NONE)
    print_problems(rendered.problems)
    message = renderer.build_message(
        config,
        f"[Test] {campaign.spec.subject}",
        rendered.email_html,
        rendered.text,
        date=datetime.now(config.zone),
        message_id=renderer.fresh_message_id(config, campaign.id),
        to=list(recipients),
    )
    message_id = smtp.send(message, list(recipients), settings)
    console.print(
        "[green]✓[/] "
        + _("test of {issue} sent to {recipients} via {server}: Message-ID {message_id}").format(
            issue=escape(campaign.id),
            recipients=escape(", ".join(recipients)),
            server=escape(settings.where),
            message_id=escape(message_id),
        )
    )
    if drafts:
        error_console.print(_("note: the test contains drafts; approve them before the real send"))

"""The commands, one module each; shared steps live here."""

from __future__ import annotations

from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _, ngettext
from commsflow.output import print_problems

# What the commands name as ``output`` (in the hint "… could be missing from {output}"):
# marked here, so that callers pass them as written and the hint shows them translated.
OUTPUTS = (
    N_("the calendar"),
    N_("the calendar files"),
    N_("the drafts"),
    N_("the issue"),
    N_("the releases"),
)


def load_or_stop(workspace, output: str):
    """The content library, or every content error printed and one message: an output
    built from a library with a broken file could silently miss that item."""
    loaded = workspace.load()
    if loaded.errors:
        print_problems(loaded.errors)
        count = len(loaded.errors)
        raise CommsflowError(
            ngettext("{count} error in the content", "{count} errors in the content", count).format(count=count),
            _("fix them first (commsflow check) — a broken item could be missing from {output}").format(
                output=_(output)
            ),
        )
    return loaded


def plan_or_stop(workspace, output: str, *, ledger: bool = True, reporting: bool = False):
    """The workspace's plan (``commsflow.plan``), or the content and campaign errors
    printed and one message: a plan from broken files could silently miss a job.
    ``reporting``: see :func:`reporting_plan`."""
    from commsflow.plan import open_plan

    loaded = load_or_stop(workspace, output)
    campaigns = workspace.campaigns
    if any(p.is_error for p in campaigns.problems):
        print_problems(campaigns.problems)
        raise CommsflowError(_("the campaign files have errors"), _("fix them first (commsflow check)"))
    if reporting:
        return reporting_plan(workspace, ledger=ledger, loaded=loaded)
    return open_plan(workspace, ledger=ledger, loaded=loaded)


def reporting_plan(workspace, *, ledger: bool = True, loaded=None):
    """The plan for a command that only reports on it (check, calendar, status): renditions an
    earlier such command made from the same inputs are recalled, not rendered again
    (``commsflow.build.Kept``). Not for a command that sends or signs off; ``--no-cache``
    renders everything."""
    from commsflow.build import Kept
    from commsflow.plan import open_plan

    if not workspace.use_cache:
        return open_plan(workspace, ledger=ledger, loaded=loaded)
    kept: list[Kept] = []
    plan = open_plan(workspace, ledger=ledger, loaded=loaded, prepare=lambda plan: kept.append(Kept(plan)))
    kept[0].save()
    return plan

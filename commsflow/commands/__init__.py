"""The commands, one module each; shared steps live here."""

from __future__ import annotations

from commsflow.errors import CommsflowError
from commsflow.output import plural, print_problems


def load_or_stop(workspace, output: str):
    """The content library, or every content error printed and one message: an output
    built from a library with a broken file could silently miss that item."""
    loaded = workspace.load()
    if loaded.errors:
        print_problems(loaded.errors)
        raise CommsflowError(
            f"{plural(len(loaded.errors), 'error')} in the content",
            f"fix them first (commsflow check) — a broken item could be missing from {output}",
        )
    return loaded


def plan_or_stop(workspace, output: str, *, ledger: bool = True):
    """The workspace's plan (``commsflow.plan``), or the content and campaign errors
    printed and one message: a plan from broken files could silently miss a job."""
    from commsflow.plan import open_plan

    loaded = load_or_stop(workspace, output)
    campaigns = workspace.campaigns
    if any(p.is_error for p in campaigns.problems):
        print_problems(campaigns.problems)
        raise CommsflowError("the campaign files have errors", "fix them first (commsflow check)")
    return open_plan(workspace, ledger=ledger, loaded=loaded)

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

"""Terminal output: one console for results, one for messages, plain when piped."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape

from commsflow.errors import Problem
from commsflow.i18n import _, ngettext

# Piped output (a file, a CI log) gets wide lines instead of Rich's 80 columns, so that
# tables stay readable and greppable; a terminal uses its own width.
_PIPED_WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 160)
console = Console(highlight=False, soft_wrap=True, width=_PIPED_WIDTH)
error_console = Console(stderr=True, highlight=False, soft_wrap=True, width=_PIPED_WIDTH)


def print_problems(problems: list[Problem], to_stderr: bool = False) -> None:
    target = error_console if to_stderr else console
    for problem in problems:
        style = "red" if problem.is_error else "yellow"
        label = _("error") if problem.is_error else _("warning")
        target.print(f"[{style}]{label}[/] {escape(problem.format())}", highlight=False)


def errors_counted(count: int) -> str:
    """„3 Fehler“ / "3 errors": the count every command's closing line gives."""
    return ngettext("{count} error", "{count} errors", count).format(count=count)


def warnings_counted(count: int) -> str:
    """„1 Hinweis“ / "1 warning"."""
    return ngettext("{count} warning", "{count} warnings", count).format(count=count)

"""Terminal output: one console for results, one for messages, plain when piped."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from commsflow.errors import Problem

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(problems: list[Problem], to_stderr: bool = False) -> None:
    target = error_console if to_stderr else console
    for problem in problems:
        style = "red" if problem.is_error else "yellow"
        label = "error" if problem.is_error else "warning"
        target.print(f"[{style}]{label}[/] {escape(problem.format())}", highlight=False)


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_form or word + 's')}"

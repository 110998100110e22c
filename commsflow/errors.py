"""One exception root that carries a hint, and the problem record that checks collect.

Library code raises :class:`CommsflowError` for conditions that stop a command, and
returns :class:`Problem` lists for conditions that a check reports all at once.
The CLI turns both into one line each; tracebacks appear only with ``--verbose``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CommsflowError(Exception):
    """An error a person can act on: what went wrong, and what to do about it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class Severity(str, Enum):  # noqa: UP042 - str first: compares and prints as its value
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of a check, located as precisely as the input allows."""

    path: str
    message: str
    line: int | None = None
    field: str | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def format(self) -> str:
        """The one-line form: ``path:line: field: message — hint``."""
        text = f"{self.location()}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" — {self.hint}"
        return text

    def sort_key(self) -> tuple:
        return (self.path, self.line or 0, self.field or "", self.message)

    def as_dict(self) -> dict:
        """Plain data, as kept in the build's state files."""
        return {
            "path": self.path,
            "message": self.message,
            "line": self.line,
            "field": self.field,
            "hint": self.hint,
            "severity": self.severity.value,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        """What :meth:`as_dict` gave (a build reads back some 10,000: no Enum call each)."""
        return cls(
            data["path"],
            data["message"],
            data.get("line"),
            data.get("field"),
            data.get("hint"),
            _SEVERITIES[data.get("severity", "error")],
        )


_SEVERITIES = {severity.value: severity for severity in Severity}


def closest(value: str, choices) -> str | None:
    """The allowed value a typo most likely meant, or None if nothing is close."""
    import difflib

    choices = list(choices)
    lowered = {c.casefold(): c for c in choices}
    if value.casefold() in lowered:
        return lowered[value.casefold()]
    match = difflib.get_close_matches(value.casefold(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None

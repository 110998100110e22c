"""Who is acting, and what they may do: the team under ``[[people]]`` in ``commsflow.toml``.

The acting person is, in this order: the command's ``--by`` (for scripts), the
``COMMSFLOW_USER`` environment variable, or git's ``user.email`` / ``user.name`` in the
project folder's repository (none when git is missing or the folder is no repository).
With people listed, each of these must name one of them, by name or e-mail address (any
case): a sign-off is recorded under the listed name. A sign-off needs the ``reviewer``
role; a reviewer with ``channels`` may sign off only items whose jobs are all on those
channels (press releases only by the press office). With ``[signoff] four_eyes`` the
author of an item — its ``author:`` and the last git author of its file — may not sign
it off.

With no people listed, anybody may sign off under any name, as before: the list is
how a team asks commsflow to check. It is a guard against mistakes, not a lock —
whoever can edit the project can edit ``commsflow.toml`` and ``approvals.yaml`` too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from commsflow.config import CONFIG_FILE, Config, Person
from commsflow.errors import CommsflowError, closest
from commsflow.i18n import _

ENV = "COMMSFLOW_USER"
_GIT_TIMEOUT = 10  # seconds; a hanging git (a network file system) is treated as no git
_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


class NobodyKnown(CommsflowError):
    """Nobody is named: no ``--by``, no ``COMMSFLOW_USER``, no git identity."""


@dataclass(frozen=True)
class Acting:
    """The person a command acts for."""

    name: str  # as recorded: the listed name, or as given when nobody is listed
    source: str  # where it came from: "--by", "COMMSFLOW_USER", "git user.email", "git user.name"
    person: Person | None = None  # the listed person; None when no people are configured
    email: str | None = None

    @property
    def given(self) -> bool:
        """Named on the command line (not found in the environment or git)."""
        return self.source == "--by"


# --- git --------------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str | None:
    """Output of ``git ARGS`` run in ``root``, or None: no git, no repository, a failure."""
    # The project folder decides the repository, not a GIT_DIR left by a hook that runs commsflow.
    environ = {key: value for key, value in os.environ.items() if key not in _REPOSITORY_VARIABLES}
    environ.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            env=environ,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def _in_repository(root: Path) -> bool:
    return (_git(root, "rev-parse", "--is-inside-work-tree") or "").strip() == "true"


def git_identity(root: Path) -> tuple[str | None, str | None]:
    """git's ``user.name`` and ``user.email`` as set for the repository ``root`` is in;
    (None, None) when git is missing or ``root`` is in no repository."""
    if not _in_repository(root):
        return None, None
    found = _git(root, "config", "--get-regexp", r"^user\.(name|email)$") or ""
    values: dict[str, str] = {}
    for line in found.splitlines():
        key, _space, value = line.partition(" ")
        if value.strip():
            values[key] = value.strip()  # the last one wins, as in git itself
    return values.get("user.name"), values.get("user.email")


def git_author(root: Path, path: str | Path) -> tuple[str, str] | None:
    """Name and e-mail of the last commit's author that changed ``path`` (relative to
    ``root``), or None: no git, no repository, never committed."""
    if not _in_repository(root):
        return None
    found = _git(root, "log", "-1", "--format=%an%n%ae", "--", str(path))
    lines = (found or "").splitlines()
    if len(lines) < 2 or not (lines[0].strip() or lines[1].strip()):
        return None
    return lines[0].strip(), lines[1].strip()


# --- who is acting ----------------------------------------------------------------------------


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def find(config: Config, text: str | None) -> list[Person]:
    """The listed people ``text`` names: by name or e-mail address, in any case."""
    return [person for person in config.people if _same(person.name, text) or _same(person.email, text)]


def listed(people: Iterable[Person]) -> str:
    return ", ".join(person.name for person in people) or _("nobody")


def acting(config: Config, root: Path, by: str | None = None, environ: Mapping[str, str] | None = None) -> Acting:
    """Who acts: ``--by``, else ``COMMSFLOW_USER``, else git's identity in ``root``.

    Raises :class:`NobodyKnown` when none of them names anybody, and
    :class:`CommsflowError` when people are listed and the one named is not among them."""
    environ = os.environ if environ is None else environ
    if by is not None:
        if not by.strip():
            raise NobodyKnown(_("--by must name who acts"), _("e.g. --by 'Dana Schulz'"))
        return _listed(config, by.strip(), "--by")
    user = (environ.get(ENV) or "").strip()
    if user:
        return _listed(config, user, ENV)
    name, email = git_identity(root)
    if not config.people:
        if name:
            return Acting(name, "git user.name", email=email)
        if email:
            return Acting(email, "git user.email", email=email)
    else:
        for source, value in (("git user.email", email), ("git user.name", name)):
            found = find(config, value)
            if len(found) == 1:
                return Acting(found[0].name, source, found[0], found[0].email)
        if name or email:
            shown = " / ".join(
                f"{key} {value!r}" for key, value in (("user.name", name), ("user.email", email)) if value
            )
            raise CommsflowError(
                _("git's {identity} names nobody listed under [[people]] in {config}").format(
                    identity=shown, config=CONFIG_FILE
                ),
                _(
                    "set {variable} to your name or e-mail as listed ({people}), pass --by NAME, "
                    "or add yourself to [[people]]"
                ).format(variable=ENV, people=listed(config.people)),
            )
    raise NobodyKnown(
        _("who is acting is not known"),
        _("pass --by NAME, or set {variable} (or git's user.name in the project's repository)").format(variable=ENV),
    )


def _listed(config: Config, text: str, source: str) -> Acting:
    if not config.people:
        return Acting(text, source, email=text if "@" in text else None)
    found = find(config, text)
    if len(found) == 1:
        return Acting(found[0].name, source, found[0], found[0].email)
    if len(found) > 1:
        if source == "--by":
            message = _("--by {name!r} names {count} people under [[people]] in {config}: {people}")
        else:
            message = _("{source} is {name!r}, which names {count} people under [[people]] in {config}: {people}")
        raise CommsflowError(
            message.format(source=source, name=text, count=len(found), config=CONFIG_FILE, people=listed(found)),
            _("give each person their own name and e-mail address in [[people]]"),
        )
    guess = _guess(config, text)
    if source == "--by":
        message = _("--by {name!r} names nobody listed under [[people]] in {config}")
    else:
        message = _("{source} is {name!r}, which names nobody listed under [[people]] in {config}")
    hint = _("name a listed person ({people}) by name or e-mail, or add them to [[people]]").format(
        people=listed(config.people)
    )
    raise CommsflowError(
        message.format(source=source, name=text, config=CONFIG_FILE),
        (_("did you mean {guess!r}?").format(guess=guess) + " " if guess else "") + hint,
    )


def _guess(config: Config, text: str) -> str | None:
    """The listed person ``text`` most likely meant: the one whose name has it as a word
    ('Dana' → 'Dana Schulz') or whose address starts with it, else the closest name."""
    words = text.casefold().split()
    found = [
        person
        for person in config.people
        if set(words) <= set(person.name.casefold().split())
        or (person.email and person.email.casefold().startswith(text.casefold()))
    ]
    if len(found) == 1:
        return found[0].name
    return closest(text, [person.name for person in config.people])


# --- roles and channels -----------------------------------------------------------------------


def with_role(config: Config, role: str) -> list[Person]:
    return [person for person in config.people if role in person.roles]


def require_role(config: Config, who: Acting, role: str, doing: str) -> None:
    """Refuse (CommsflowError) when people are listed and ``who`` lacks ``role``;
    ``doing`` says what for, e.g. 'sign off' (marked with ``N_`` by the caller: translated here)."""
    if who.person is None or role in who.person.roles:
        return
    able = with_role(config, role)
    if who.person.roles:
        message = _("{who} may not {doing}: that needs the {role} role, and {who} has {roles}")
    else:
        message = _("{who} may not {doing}: that needs the {role} role, and {who} has no role")
    if able:
        hint = _(
            "ask someone with the {role} role ({people}), or add '{role}' to {who}'s roles under [[people]] in {config}"
        )
    else:
        hint = _("nobody listed has it: add '{role}' to {who}'s roles under [[people]] in {config}")
    raise CommsflowError(
        message.format(who=who.name, doing=_(doing), role=role, roles=", ".join(who.person.roles)),
        hint.format(role=role, people=listed(able), who=who.name, config=CONFIG_FILE),
    )


def may_sign(person: Person, channels: Iterable[str]) -> bool:
    """Whether a reviewer may sign off jobs on all of ``channels``."""
    return "reviewer" in person.roles and (not person.channels or set(channels) <= set(person.channels))


def channel_refusal(config: Config, who: Acting, key: str, labels: Mapping[str, list[str]]) -> tuple[str, str] | None:
    """Why ``who`` may not sign off ``key``, whose renditions are ``labels`` (channel → job
    labels): (message, hint), or None when they may."""
    person = who.person
    if person is None or not person.channels:
        return None
    barred = [channel for channel in labels if channel not in person.channels]
    if not barred:
        return None
    jobs = ", ".join(label for channel in barred for label in labels[channel])
    message = _("{who} may not sign off {channels} jobs ({item}: {jobs}) — {who} signs off {allowed} only").format(
        who=who.name,
        channels=(" " + _("or") + " ").join(barred),
        item=key,
        jobs=jobs,
        allowed=", ".join(person.channels),
    )
    return message, _who_may(config, labels.keys(), exclude=())


def _who_may(config: Config, channels: Iterable[str], exclude: Iterable[str]) -> str:
    channels = list(channels)
    left_out = {name.casefold() for name in exclude}
    able = [p for p in config.people if may_sign(p, channels) and p.name.casefold() not in left_out]
    if able:
        return _("it may be signed off by {people}").format(people=listed(able))
    return _(
        "nobody listed may sign off all of {channels}: give one reviewer these channels "
        "under [[people]] in {config} (channels = [] means all)"
    ).format(channels=", ".join(channels), config=CONFIG_FILE)


# --- four eyes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    name: str | None
    email: str | None
    source: str  # "author: in content/posts/x.md", "last git author of content/posts/x.md"


def authors(root: Path, path: str | None, author_field: str | None) -> list[Author]:
    """Who wrote an item: its ``author:`` and the last git author of its file."""
    found = []
    if author_field:
        found.append(
            Author(
                author_field, author_field if "@" in author_field else None, _("author: in {path}").format(path=path)
            )
        )
    if path:
        committed = git_author(root, path)
        if committed is not None:
            found.append(
                Author(committed[0] or None, committed[1] or None, _("last git author of {path}").format(path=path))
            )
    return found


def _is(who: Acting, author: Author) -> bool:
    """Whether ``author`` is ``who``: by name or e-mail, as acting or as listed."""
    forms = [who.name, who.email]
    if who.person is not None:
        forms += [who.person.name, who.person.email]
    return any(_same(form, author.name) or _same(form, author.email) for form in forms)


def four_eyes_refusal(
    config: Config, who: Acting, key: str, written_by: list[Author], channels: Iterable[str]
) -> tuple[str, str] | None:
    """Why ``who`` may not sign off ``key`` under ``[signoff] four_eyes``, or None."""
    if not config.signoff.four_eyes:
        return None
    mine = [author for author in written_by if _is(who, author)]
    if not mine:
        return None
    how = "; ".join(author.source for author in mine)
    message = _("{who} wrote {item} ({how}) and may not sign it off alone ([signoff] four_eyes)").format(
        who=who.name, item=key, how=how
    )
    if not config.people:
        return message, _("ask someone else to sign it off")
    return message, _("ask another reviewer: {whom}").format(whom=_who_may(config, channels, exclude=[who.name]))

"""Sign-offs bound to the exact text: ``approvals.yaml`` at the project root.

``commsflow approve ITEM --by NAME`` records who approved which version of an item or
a newsletter issue. The version is a fingerprint over everything its renditions are
made from: the item's file (for an issue: the campaign file and every item in the
assembled issue), the template folders of the channels it can go to, and the
settings that shape the text. Any later change to one of them turns the approval
*stale*: the calendar blocks the job and the scheduler does not publish it.

The file is written by commsflow, one record per item or issue (a new approval
replaces the older one), and is meant to be committed: the team's git history of it
is the audit log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from commsflow import dates, frontmatter
from commsflow.assemblers.newsletter import SIGNED_OFF, assemble
from commsflow.campaigns import Campaign, CampaignSet
from commsflow.config import Config
from commsflow.errors import Problem
from commsflow.fields import Moment, Text
from commsflow.files import write_atomic
from commsflow.library import Library
from commsflow.model import Item
from commsflow.validation import problems_from_validation_error, register_pattern_hint

STATES = ("current", "stale", "missing")
# The template folders behind each kind of output: an item goes out as a LinkedIn draft
# (also on Mastodon and the webhook, whose texts derive from it) or as a press release.
ITEM_TEMPLATES = ("linkedin", "press")
ISSUE_TEMPLATES = ("newsletter",)
# Settings that never change a text: who sends a channel, timings, where files live.
_NOT_IN_TEXT = {"publishing", "paths"}
_FINGERPRINT = r"^sha256:[0-9a-f]{64}$"
register_pattern_hint(
    _FINGERPRINT, "fingerprints are written by commsflow approve — approve the item again instead of editing the file"
)

_HEADER = """\
# Sign-offs: who approved which version of an item or newsletter issue.
# Written by `commsflow approve ITEM --by NAME` — do not edit by hand. Commit it with the
# content: the git history of this file is the audit log. A record whose fingerprint no
# longer matches the item, its templates or the settings is stale (commsflow review).
"""


class Record(BaseModel):
    """One sign-off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: Text = Field(description="Item slug or newsletter issue id.")
    kind: Literal["post", "news", "event", "project", "newsletter"]
    by: Text = Field(description="Who signed it off.")
    at: Moment = Field(description="When, with time.")
    fingerprint: Annotated[str, StringConstraints(pattern=_FINGERPRINT)]
    note: Text | None = None
    renditions: dict[str, str] = Field(
        default_factory=dict, description="For information: sha256 of each text as it would go out."
    )

    @field_validator("at")
    @classmethod
    def _timed(cls, value):
        if not isinstance(value, datetime):
            raise ValueError(f"{value} has no time — approve the item again (commsflow approve)")
        return value


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approvals: list[dict] = Field(default_factory=list)

    @field_validator("approvals", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return [] if value is None else value


@dataclass
class Approvals:
    """The records of ``approvals.yaml``, by item slug or issue id."""

    path: Path
    shown: str  # as printed: relative to the project root
    records: dict[str, Record] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        return any(p.is_error for p in self.problems)

    def state(self, key: str, current: str) -> str:
        """``current``, ``stale`` or ``missing`` for ``key`` at fingerprint ``current``."""
        record = self.records.get(key)
        if record is None:
            return "missing"
        return "current" if record.fingerprint == current else "stale"

    def put(self, record: Record) -> None:
        self.records[record.item] = record

    def dump(self, zone) -> str:
        entries = []
        for key in sorted(self.records):
            record = self.records[key]
            entry = {
                "item": record.item,
                "kind": record.kind,
                "by": record.by,
                "at": record.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "fingerprint": record.fingerprint,
            }
            if record.note:
                entry["note"] = record.note
            if record.renditions:
                entry["renditions"] = dict(sorted(record.renditions.items()))
            entries.append(entry)
        body = yaml.safe_dump({"approvals": entries}, allow_unicode=True, sort_keys=False, width=1000)
        return _HEADER + body

    def save(self, zone) -> None:
        write_atomic(self.path, self.dump(zone))


def load_approvals(root: Path, config: Config) -> Approvals:
    """Read and validate the approvals file; a missing file has no records. Problems
    carry file, line and field; records that validate are kept."""
    path = config.path("approvals")
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    approvals = Approvals(path, shown)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return approvals
    except OSError as exc:
        approvals.problems.append(Problem(shown, f"cannot read ({exc.strerror})"))
        return approvals
    try:
        source = frontmatter.document(shown, raw)
        data = frontmatter.parse(source)
    except frontmatter.SourceError as exc:
        approvals.problems.append(exc.problem)
        return approvals
    finder = []

    def line_of(loc: tuple) -> int | None:  # the YAML is composed only when there is a problem to point at
        if not finder:
            finder.append(frontmatter.line_finder(source))
        return finder[0](loc)

    try:
        listing = _File.model_validate(data)
    except ValidationError as exc:
        approvals.problems += problems_from_validation_error(exc, shown, line_of, model=_File)
        return approvals
    context = {"zone": config.zone}
    for index, entry in enumerate(listing.approvals):
        try:
            record = Record.model_validate(entry, context=context)
        except ValidationError as exc:
            found = problems_from_validation_error(
                exc, shown, lambda loc, index=index: line_of(("approvals", index, *loc)), model=Record
            )
            approvals.problems += [_prefixed(problem, index) for problem in found]
            continue
        if record.item in approvals.records:
            approvals.problems.append(
                Problem(
                    shown,
                    f"{record.item!r} is approved twice",
                    line=line_of(("approvals", index, "item")),
                    field=f"approvals[{index}].item",
                    hint="keep one record per item (commsflow approve replaces the older one)",
                )
            )
            continue
        approvals.records[record.item] = record
    return approvals


def _prefixed(problem: Problem, index: int) -> Problem:
    """A record's problem with its field named from the top of the file."""
    where = f"approvals[{index}]" + (f".{problem.field}" if problem.field else "")
    return Problem(problem.path, problem.message, problem.line, where, problem.hint, problem.severity)


# --- fingerprints ----------------------------------------------------------------------------


def settings_text(config: Config) -> str:
    """The configuration as far as it shapes a text (not who sends it, or when)."""
    return json.dumps(config.model_dump(mode="json", exclude=_NOT_IN_TEXT), sort_keys=True, ensure_ascii=False)


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "sha256:" + digest.hexdigest()


class Fingerprints:
    """Fingerprints of items and newsletter issues, read from the files as they are now
    (template folders are hashed once per instance)."""

    def __init__(self, config: Config, library: Library, campaigns: CampaignSet):
        self.config = config
        self.library = library
        self.campaigns = campaigns
        self._settings = settings_text(config).encode("utf-8")
        self._folders: dict[str, bytes] = {}

    def subject(self, key: str) -> Item | Campaign | None:
        return self.library.get(key) or self.campaigns.get(key, "newsletter")

    def of(self, subject: Item | Campaign) -> str:
        if isinstance(subject, Campaign):
            return self.of_issue(subject)
        return self.of_item(subject)

    def of_item(self, item: Item) -> str:
        return _digest(
            [
                b"item",
                item.slug.encode(),
                self._file(item.path),
                *(self._folder(name) for name in ITEM_TEMPLATES),
                self._settings,
            ]
        )

    def of_issue(self, campaign: Campaign) -> str:
        issue = assemble(campaign, self.campaigns, self.library, self.config.zone)
        parts = [b"newsletter", campaign.id.encode(), self._file(campaign.path)]
        for entry in issue.entries:
            parts += [entry.item.slug.encode(), self._file(entry.item.path)]
        parts += [self._folder(name) for name in ISSUE_TEMPLATES]
        return _digest([*parts, self._settings])

    def _file(self, relative: str) -> bytes:
        try:
            return (self.config.root / relative).read_bytes()
        except OSError:
            return b"\0unreadable"  # matches no approval: blocked until it can be read and approved

    def _folder(self, name: str) -> bytes:
        if name not in self._folders:
            folder = self.config.path("templates") / name
            digest = hashlib.sha256()
            files = (
                sorted(path for path in folder.rglob("*") if path.is_file() and not _scratch(path))
                if folder.is_dir()
                else []
            )
            for path in files:
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            self._folders[name] = digest.digest()
        return self._folders[name]


def _scratch(path: Path) -> bool:
    """Editor leftovers (hidden files, backups) are no templates."""
    return path.name.startswith(".") or path.name.endswith("~")


def fingerprint(subject: Item | Campaign, config: Config, library: Library, campaigns: CampaignSet) -> str:
    """The fingerprint of an item or a newsletter issue as the files are now."""
    return Fingerprints(config, library, campaigns).of(subject)


# --- sign-off states -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOff:
    key: str
    state: str  # current, stale, missing
    record: Record | None
    fingerprint: str | None  # None: not worked out (nothing to compare with, and not required)
    broken: bool = False  # the approvals file has errors: a missing record may be an unreadable one
    zone: object = None

    def blocks(self, required: bool) -> bool:
        return self.state == "stale" or (self.state == "missing" and (required or self.broken))

    def reason(self) -> str | None:
        if self.state == "stale":
            record = self.record
            at = record.at.astimezone(self.zone) if self.zone else record.at
            return (
                f"approval stale: changed since {record.by} approved it on "
                f"{dates.numeric_date(at)} {dates.hour_minute(at)}"
            )
        if self.state == "missing":
            if self.broken:
                return "not signed off: the approvals file has errors (commsflow check)"
            return f"not signed off: commsflow approve {self.key}"
        return None


class SignOffs:
    """The sign-off state of every item and newsletter issue, worked out when first asked.

    ``get(key)`` gives a :class:`SignOff` (None for a key that names nothing); calling the
    object gives just the state. The calendar takes it as its ``approvals``."""

    def __init__(self, config: Config, library: Library, campaigns: CampaignSet, approvals: Approvals):
        self.config = config
        self.approvals = approvals
        self.required = config.publishing.require_signoff
        self.fingerprints = Fingerprints(config, library, campaigns)
        self._known: dict[str, SignOff | None] = {}

    def get(self, key: str) -> SignOff | None:
        if key not in self._known:
            self._known[key] = self._work_out(key)
        return self._known[key]

    def __call__(self, key: str) -> str | None:
        found = self.get(key)
        return found.state if found else None

    def _work_out(self, key: str) -> SignOff | None:
        subject = self.fingerprints.subject(key)
        if subject is None:
            return None
        record = self.approvals.records.get(key)
        broken = self.approvals.broken
        if record is None and not (self.required or broken):
            return SignOff(key, "missing", None, None, broken, self.config.zone)  # nothing to compare: no hashing
        current = self.fingerprints.of(subject)
        return SignOff(key, self.approvals.state(key, current), record, current, broken, self.config.zone)


def signoff_states(workspace, loaded) -> SignOffs:
    """Sign-off states for a loaded workspace (``build``'s dashboard, ``review``)."""
    config = workspace.config
    return SignOffs(config, loaded.library, workspace.campaigns, load_approvals(workspace.root, config))


def kind_of(subject: Item | Campaign) -> str:
    return "newsletter" if isinstance(subject, Campaign) else subject.kind


def signed_off_status(subject: Item | Campaign) -> bool:
    return isinstance(subject, Campaign) or subject.status in SIGNED_OFF


def renditions(key: str, jobs, config: Config, library: Library, campaigns: CampaignSet) -> dict[str, str]:
    """For information: sha256 of each text the key's jobs would send, rendered for the
    job's planned time (``channel template`` → hash). Jobs that cannot be rendered are left out."""
    from commsflow.dispatch import RenderFailed, render_payload
    from commsflow.errors import CommsflowError

    found: dict[str, str] = {}
    for job in jobs:
        name = job.channel if job.channel == "newsletter" else f"{job.channel} {job.template}"
        if job.item != key or name in found:
            continue
        try:
            payload = render_payload(job, config, library, campaigns, job.planned)
        except (RenderFailed, CommsflowError):
            continue
        found[name] = "sha256:" + hashlib.sha256(payload.text.encode("utf-8")).hexdigest()
    return found

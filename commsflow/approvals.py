"""Sign-offs bound to the exact text: ``approvals.yaml`` at the project root.

``commsflow approve ITEM --by NAME`` records who approved which renditions of an item
or a newsletter issue: for every job the calendar plans for it (or, with none planned
yet, every preview ``build`` makes of it) the digest of the exact payload its channel
would send, and the text a person read. A job whose payload, rendered again, is not
among the approved digests is held back — whatever changed: the item, an item it
names, a template, a setting, the figures — and ``review`` shows the difference as a
unified diff against the approved text.

``commsflow reject ITEM --reason TEXT`` records a reviewer's no instead: who, when
and why, no texts. A rejected item's jobs are held back (whether or not
``require_signoff`` is on) until someone signs it off; ``review``, ``status`` and the
dashboard show the reason.

The file is written by commsflow, one record per item or issue (a new approval or
rejection replaces the older record), and is meant to be committed: the team's git
history of it is the audit log.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from commsflow import dates, frontmatter
from commsflow.assemblers.newsletter import SIGNED_OFF
from commsflow.campaigns import Campaign
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem
from commsflow.fields import Moment, Text
from commsflow.files import write_atomic
from commsflow.i18n import N_, _
from commsflow.model import Item
from commsflow.validation import problems_from_validation_error, register_pattern_hint

STATES = ("current", "stale", "missing", "rejected")
# What people read for each sign-off state (translated where shown: see state_label).
STATE_LABELS = {"current": N_("current"), "stale": N_("stale"), "missing": N_("missing"), "rejected": N_("rejected")}
_FINGERPRINT = r"^sha256:[0-9a-f]{64}$"
register_pattern_hint(
    _FINGERPRINT,
    N_("fingerprints are written by commsflow approve — approve the item again instead of editing the file"),
)

# The header stays as it is: the shipped approvals.yaml files are compared byte for byte.
_HEADER = """\
# Sign-offs: who approved which texts of an item or newsletter issue.
# Written by `commsflow approve ITEM --by NAME` — do not edit by hand. Commit it with the
# content: the git history of this file is the audit log. A job whose text, rendered
# again, is not among the approved digests is held back (commsflow review shows the diff).
"""


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as literal blocks (``|``), so the file reads like the posts."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


class Approved(BaseModel):
    """One rendition as it was signed off."""

    # The sign-offs' validators are built when a file is first read, not on import: most
    # commands of a project without sign-offs never read one.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    job: Text = Field(description="Channel and kind, e.g. 'linkedin save-the-date'.")
    planned: Text | None = Field(None, description="When the job was planned at the time (for information).")
    digest: Annotated[str, StringConstraints(pattern=_FINGERPRINT)]
    text: str = Field("", description="The text as approved: what a later diff compares with.")


class Record(BaseModel):
    """One sign-off, or one rejection (``rejected: true`` with a ``reason``, no renditions)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    item: Text = Field(description="Item slug or newsletter issue id.")
    kind: Literal["post", "news", "event", "project", "newsletter"]
    by: Text = Field(description="Who signed it off.")
    at: Moment = Field(description="When, with time.")
    note: Text | None = None
    rejected: bool = Field(False, description="true: a reviewer rejected the item (commsflow reject).")
    reason: Text | None = Field(None, description="Why it was rejected.")
    fingerprint: Annotated[str, StringConstraints(pattern=_FINGERPRINT)] | None = Field(
        None, description="Written by earlier versions of commsflow; no longer read."
    )
    renditions: list[Approved] = Field(default_factory=list, description="Every rendition signed off.")

    @field_validator("renditions", mode="before")
    @classmethod
    def _earlier_form(cls, value):
        # Earlier versions kept {"linkedin article": "sha256:…"} without the text: such a record
        # matches nothing now, and approving again records the texts.
        if isinstance(value, dict):
            return [{"job": name, "digest": digest} for name, digest in value.items()]
        return [] if value is None else value

    @field_validator("at")
    @classmethod
    def _timed(cls, value):
        if not isinstance(value, datetime):
            raise ValueError(
                _("{value} has no time").format(value=value) + " — " + _("approve the item again (commsflow approve)")
            )
        return value

    @model_validator(mode="after")
    def _rejection(self):
        if self.rejected and not self.reason:
            raise ValueError(
                _("a rejection without reason") + " — " + _("reject the item again with --reason (commsflow reject)")
            )
        if self.reason and not self.rejected:
            raise ValueError(
                _("reason belongs to a rejection (rejected: true)") + " — " + _("approve or reject the item again")
            )
        if self.rejected and self.renditions:
            raise ValueError(_("a rejection signs off no texts") + " — " + _("approve or reject the item again"))
        return self

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(approved.digest for approved in self.renditions)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

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
            }
            if record.note:
                entry["note"] = record.note
            if record.rejected:
                entry.update(rejected=True, reason=record.reason)
            else:
                entry["renditions"] = [approved.model_dump(exclude_none=True) for approved in record.renditions]
            entries.append(entry)
        body = yaml.dump({"approvals": entries}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
        return _HEADER + body

    def save(self, zone) -> None:
        write_atomic(self.path, self.dump(zone))


def _parsed(source, raw: bytes, cache: Path | None):
    """The file's YAML as data. A year of sign-offs is megabytes of text that the scheduler
    reads on every plan: the parsed data is kept (as JSON) by the hash of the bytes in
    ``cache`` (None: not kept, as with --no-cache)."""
    import hashlib

    from commsflow.cache import dumps_data, loads_data

    if cache is None:
        return frontmatter.parse(source)
    digest = hashlib.blake2b(raw, digest_size=20).hexdigest()
    try:
        kept = loads_data(cache.read_bytes())
        if kept["digest"] == digest:
            return kept["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none kept yet, or unreadable: parse
    data = frontmatter.parse(source)
    try:
        write_atomic(cache, dumps_data({"digest": digest, "data": data}))
    except (CommsflowError, TypeError):
        pass  # a read-only state folder (or data JSON cannot hold) only makes the next read slower
    return data


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
        approvals.problems.append(Problem(shown, _("cannot read ({reason})").format(reason=exc.strerror)))
        return approvals
    try:
        source = frontmatter.document(shown, raw)
        cache = config.cache_folder
        data = _parsed(source, raw, cache / "approvals.json" if cache else None)
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
                    _("{item!r} is approved twice").format(item=record.item),
                    line=line_of(("approvals", index, "item")),
                    field=f"approvals[{index}].item",
                    hint=_("keep one record per item (commsflow approve replaces the older one)"),
                )
            )
            continue
        approvals.records[record.item] = record
    return approvals


def _prefixed(problem: Problem, index: int) -> Problem:
    """A record's problem with its field named from the top of the file."""
    where = f"approvals[{index}]" + (f".{problem.field}" if problem.field else "")
    return Problem(problem.path, problem.message, problem.line, where, problem.hint, problem.severity)


# --- sign-off states -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One rendition that differs from what was signed off."""

    label: str  # "linkedin save-the-date"
    planned: datetime
    diff: str  # unified diff against the approved text, or a sentence when there is none to compare


@dataclass(frozen=True)
class SignOff:
    key: str
    state: str  # current, stale, missing, rejected
    record: Record | None
    changes: tuple[Change, ...] = ()
    broken: bool = False  # the approvals file has errors: a missing record may be an unreadable one
    zone: object = None

    def blocks(self, required: bool) -> bool:
        return self.state in ("stale", "rejected") or (self.state == "missing" and (required or self.broken))

    def reason(self) -> str | None:
        if self.state == "rejected":
            return rejection(self.record, self.zone)
        if self.state == "stale":
            what = ", ".join(dict.fromkeys(change.label for change in self.changes)) or _("its text")
            return _("approval stale: {what} changed since {who} approved it on {moment}").format(
                what=what, who=self.record.by, moment=_when(self.record, self.zone)
            )
        if self.state == "missing":
            if self.broken:
                return _("not signed off: the approvals file has errors (commsflow check)")
            return _("not signed off: commsflow approve {item}").format(item=self.key)
        return None


def rejection(record: Record, zone) -> str:
    """„rejected by Dana Schulz on 02.03.2024 09:15: REASON — commsflow approve ITEM once it is fixed“"""
    return _("rejected by {who} on {moment}: {reason} — commsflow approve {item} once it is fixed").format(
        who=record.by, moment=_when(record, zone), reason=record.reason, item=record.item
    )


def _when(record: Record, zone) -> str:
    at = record.at.astimezone(zone) if zone else record.at
    return f"{dates.numeric_date(at)} {dates.hour_minute(at)}"


def state_label(state: str) -> str:
    """A sign-off state as people read it, in the language spoken."""
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state


def label(job) -> str:
    return job.channel if job.channel == job.template else f"{job.channel} {job.template}"


class SignOffs:
    """The sign-off state of items and newsletter issues against their renditions.

    ``renditions(key)`` gives the renditions a sign-off of ``key`` covers (the plan's jobs
    for it, or its previews); ``render(job)`` one job's rendition. Both come from
    :mod:`commsflow.plan`, which renders each job once."""

    def __init__(self, config: Config, approvals: Approvals, renditions, render):
        self.config = config
        self.approvals = approvals
        self.required = config.publishing.require_signoff
        self._renditions = renditions
        self._render = render
        self._known: dict[str, SignOff] = {}

    def hold(self, job) -> tuple[str, str] | None:
        """The sign-off state that holds ``job`` back (missing, rejected, stale) and why, or
        None. Renders only when there is a record to compare with."""
        record = self.approvals.records.get(job.item)
        if record is None:
            if self.required or self.approvals.broken:
                return "missing", SignOff(job.item, "missing", None, broken=self.approvals.broken).reason()
            return None
        if record.rejected:  # a reviewer's no holds the item back, sign-offs required or not
            return "rejected", rejection(record, self.config.zone)
        rendition = self._render(job)
        if rendition.digest in record.digests:
            return None
        change = _change(rendition, record, self.config.zone)
        return "stale", SignOff(job.item, "stale", record, (change,), zone=self.config.zone).reason()

    def get(self, key: str) -> SignOff:
        if key not in self._known:
            record = self.approvals.records.get(key)
            if record is None:
                found = SignOff(key, "missing", None, broken=self.approvals.broken, zone=self.config.zone)
            elif record.rejected:
                found = SignOff(key, "rejected", record, zone=self.config.zone)
            else:
                changes = tuple(
                    _change(rendition, record, self.config.zone)
                    for rendition in self._renditions(key)
                    if rendition.digest not in record.digests
                )
                found = SignOff(key, "stale" if changes else "current", record, changes, zone=self.config.zone)
            self._known[key] = found
        return self._known[key]

    def __call__(self, key: str) -> str | None:
        return self.get(key).state

    def record(self, key: str, kind: str, by: str, at: datetime, note: str | None) -> Record:
        """A new sign-off of everything ``key``'s renditions say now."""
        approved = []
        for rendition in self._renditions(key):
            if rendition.digest is None:
                continue
            planned = rendition.job.planned.astimezone(self.config.zone).strftime("%Y-%m-%d %H:%M")
            approved.append(
                {"job": label(rendition.job), "planned": planned, "digest": rendition.digest, "text": rendition.review}
            )
        data = {"item": key, "kind": kind, "by": by, "at": at, "note": note, "renditions": approved}
        return Record.model_validate(data, context={"zone": self.config.zone})

    def reject(self, key: str, kind: str, by: str, at: datetime, reason: str) -> Record:
        """A rejection of ``key``: who, when, why."""
        data = {"item": key, "kind": kind, "by": by, "at": at, "rejected": True, "reason": reason}
        return Record.model_validate(data, context={"zone": self.config.zone})


# --- rejections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """An item or issue a reviewer rejected, for ``status`` and the dashboard."""

    item: str  # slug or issue id
    kind: str
    by: str
    at: datetime
    reason: str
    text: str  # one line: „rejected by … on …: REASON — commsflow approve ITEM once it is fixed“
    command: str  # what resolves it once the item is fixed


def rejections(approvals: Approvals, zone) -> list[Rejection]:
    """Every rejected item and issue in ``approvals``, oldest rejection first."""
    found = [
        Rejection(
            record.item,
            record.kind,
            record.by,
            record.at.astimezone(zone),
            record.reason or "",
            rejection(record, zone),
            f"commsflow approve {record.item}",
        )
        for record in approvals.records.values()
        if record.rejected
    ]
    return sorted(found, key=lambda found: (found.at, found.item))


def _change(rendition, record: Record, zone) -> Change:
    job = rendition.job
    name = label(job)
    if rendition.digest is None:
        errors = "; ".join(p.format() for p in rendition.errors[:2]) or _("nothing to send")
        return Change(name, job.planned, _("cannot be rendered now: {errors}").format(errors=errors))
    before = [approved for approved in record.renditions if approved.job == name and approved.text]
    if not before:
        return Change(
            name, job.planned, _("{job} was not part of what {who} signed off").format(job=name, who=record.by)
        )
    # Of several approved texts of the same kind, compare with the closest.
    old = min(before, key=lambda approved: _distance(approved.text, rendition.review))
    if old.text == rendition.review:
        return Change(name, job.planned, _("the text is the same; what changed is sent with it (link, request, files)"))
    diff = difflib.unified_diff(
        old.text.splitlines(keepends=True),
        rendition.review.splitlines(keepends=True),
        fromfile=_("{job} — signed off by {who}, {moment}").format(job=name, who=record.by, moment=_when(record, zone)),
        tofile=_("{job} — now").format(job=name),
        n=1,
    )
    return Change(name, job.planned, "".join(line if line.endswith("\n") else line + "\n" for line in diff))


def _distance(old: str, new: str) -> float:
    return 1 - difflib.SequenceMatcher(None, old, new, autojunk=False).quick_ratio()


def kind_of(subject: Item | Campaign) -> str:
    return "newsletter" if isinstance(subject, Campaign) else subject.kind


def signed_off_status(subject: Item | Campaign) -> bool:
    return isinstance(subject, Campaign) or subject.status in SIGNED_OFF

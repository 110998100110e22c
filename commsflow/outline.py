"""What a plan works out from the items' front matter, kept from one build for the next.

The calendar, the previews no campaign plans yet, the items' titles and web addresses
and the events' starts depend on the campaigns, the sign-offs, the ledger, the clock
and every item's front matter — not on the text below it. When a build finds that only
the bodies of some items changed since the last one (``commsflow.stamp``), it opens the
plan with this outline instead of working it all out again from 10,000 front matters,
and renders again only the jobs made of those files. The outline says when it does not
apply: an embargo makes the calendar read the bodies' links, so then it is not kept.

Stored as JSON (with orjson: thousands of jobs) next to the build's manifest; the stamp
names the outline it belongs to, so an outline an interrupted build left behind is never
taken for the current one.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

import orjson

from commsflow.files import write_atomic

_VERSION = 4  # 2: front matter digests of the split text; 3: the previews' months; 4: previews in short


def outline_path(state: Path) -> Path:
    return state / "build" / "outline.json"


def front_matter_digest(path: Path) -> str | None:
    """A digest of the file's front matter as the reader splits it off (commsflow.frontmatter),
    or None when it has none that can be read (the full build reports why)."""
    from commsflow import frontmatter

    try:
        source = frontmatter.split(str(path), frontmatter.decode(str(path), path.read_bytes()))
    except (OSError, frontmatter.SourceError):
        return None
    return hashlib.blake2b(source.yaml_text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass
class Outline:
    jobs: list  # the calendar's jobs (commsflow.calendar.Job)
    problems: list  # what planning found (calendar, newsletter references); not the files' own problems
    drafts: list  # the preview jobs (commsflow.plan.Plan.drafts)
    titles: dict[str, str]
    addresses: list[str]  # every item's own web address, normalised (the lint's live links)
    moments: list[datetime]  # planned jobs and event starts: until the next, the clock changes nothing
    heads: dict[str, str] = field(default_factory=dict)  # valid item's file (relative) → front matter digest
    draft_months: dict[str, str] = field(default_factory=dict)  # previewed item → month (Plan.draft_months)
    id: str = ""

    def to_json(self) -> bytes:
        data = {
            "version": _VERSION,
            "jobs": self.jobs,  # orjson writes dataclasses and their times (ISO 8601) as they are
            "problems": [problem.as_dict() for problem in self.problems],
            # A preview's job is its channel, item, kind, day and source (commsflow.plan.draft_job).
            "drafts": [[job.channel, job.item, job.template, job.planned, job.source] for job in self.drafts],
            "titles": self.titles,
            "addresses": self.addresses,
            "moments": [moment.isoformat() for moment in self.moments],
            "heads": self.heads,
            "draft_months": self.draft_months,
        }
        self.id = hashlib.blake2b(orjson.dumps(data, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
        return orjson.dumps({"id": self.id, **data})

    @classmethod
    def from_json(cls, text: bytes | str) -> Outline:
        from commsflow.errors import Problem

        data = orjson.loads(text)
        if data.get("version") != _VERSION:
            raise ValueError("another version")
        return cls(
            jobs=[_job(entry) for entry in data["jobs"]],
            problems=[Problem.from_dict(entry) for entry in data["problems"]],
            drafts=_drafts(data["drafts"]),
            titles=data["titles"],
            addresses=data["addresses"],
            moments=[datetime.fromisoformat(moment) for moment in data["moments"]],
            heads=data["heads"],
            draft_months=data["draft_months"],
            id=data["id"],
        )

    def save(self, state: Path) -> str:
        write_atomic(outline_path(state), self.to_json())
        return self.id

    def still_holds(self, root: Path, changed: list[str]) -> bool:
        """Whether ``changed`` (files relative to ``root``) are all valid items of the last
        full build whose front matter is as it was: only their texts changed."""
        for name in changed:
            before = self.heads.get(name)
            if before is None or front_matter_digest(root / name) != before:
                return False
        return True


def load(state: Path, wanted: str | None) -> Outline | None:
    """The outline the last build left, if it is the one its stamp names."""
    if not wanted:
        return None
    try:
        found = Outline.from_json(outline_path(state).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if found.id == wanted else None


def heads(root: Path, files: list[str]) -> dict[str, str]:
    """Front matter digests of ``files`` (relative to ``root``)."""
    found = {}
    for name in files:
        digest = front_matter_digest(root / name)
        if digest is not None:
            found[name] = digest
    return found


def _job(data: dict):
    """A job as ``to_json`` wrote it. Set up field by field, as it was saved, rather than
    through the frozen dataclass's ``__init__``: a build reads some 7,000 back."""
    from commsflow.calendar import Job

    if data.keys() != _job_fields():
        raise ValueError("a job of another shape")
    job = object.__new__(Job)
    job.__dict__.update(data, planned=datetime.fromisoformat(data["planned"]), conflicts=tuple(data["conflicts"]))
    return job


def _drafts(entries: list) -> list:
    from commsflow.plan import draft_job

    days: dict[str, datetime] = {}  # the previews are of one day
    found = []
    for channel, item, kind, day, source in entries:
        planned = days.get(day) or days.setdefault(day, datetime.fromisoformat(day))
        found.append(draft_job(channel, item, kind, planned, source))
    return found


@functools.cache
def _job_fields() -> set[str]:
    from commsflow.calendar import Job

    return {item.name for item in fields(Job)}

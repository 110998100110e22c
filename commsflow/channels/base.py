"""What a channel is: a name, a template folder, the kinds of step it accepts, and how a
job becomes the exact payload its publisher sends, with the files a person previews.

A rendition is a pure function of content, templates, configuration and the job's
planned time; ``build`` writes it, sign-offs bind its digest, and the scheduler renders
it again at send time and compares.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from commsflow.errors import Problem
from commsflow.i18n import _

if TYPE_CHECKING:  # the types only: channel modules stay cheap to import
    from commsflow.calendar import Job
    from commsflow.campaigns import CampaignSet
    from commsflow.config import Config
    from commsflow.library import Library
    from commsflow.model import Item
    from commsflow.publishers.base import Payload


class RenderFailed(Exception):
    """The job's output has errors (an item changed since it was planned): a person must look."""


@dataclass
class Rendition:
    """One job rendered: the payload the publisher gets, the files shown for review
    (paths relative to the build folder), the text a person signs off, its problems."""

    job: Job
    payload: Payload | None  # None when the job cannot be rendered (see problems)
    files: dict[str, bytes | str] = field(default_factory=dict)
    review: str = ""  # the text version a sign-off keeps, to say what changed
    problems: list[Problem] = field(default_factory=list)
    sources: tuple[str, ...] = ()  # the files (relative to the project) it is made of
    title: str = ""  # what the payload is called: post title, subject, headline
    known_digest: str | None = None  # a rendition read back from the build (no payload): its digest

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def digest(self) -> str | None:
        if self.known_digest is None and self.payload is not None:
            self.known_digest = payload_digest(self.payload)
        return self.known_digest

    def raise_errors(self) -> None:
        if self.errors or self.payload is None:
            errors = self.errors or [Problem(self.job.source, _("nothing to send"))]
            raise RenderFailed("; ".join(p.format() for p in errors[:3]))


# Files whose bytes carry the moment they were written (a .docx is a zip with file times);
# they are made from the same release text as the other files, which the digest covers.
# … and pictures a browser drew from an HTML file of the same payload (the Instagram picture):
# their pixels follow the machine's fonts, the HTML they were drawn from is what is signed off.
# … and a release's PDF, laid out by WeasyPrint from its print HTML with the machine's fonts
# (and none where WeasyPrint cannot run), and the zip of the release's pack that holds it.
DRAWN = ".drawn.jpg"
_UNSTABLE = (".docx", ".pdf", ".zip", DRAWN)


def payload_digest(payload: Payload) -> str:
    """sha256 over everything a payload sends: title, text, link, API body and files."""
    digest = hashlib.sha256()
    head = {
        "channel": payload.channel,
        "item": payload.item,
        "kind": payload.kind,
        "title": payload.title,
        "link": payload.link,
        "body": payload.body,
    }
    for part in (json.dumps(head, sort_keys=True, ensure_ascii=False).encode(), payload.text.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    for name in sorted(payload.files):
        if name.endswith(_UNSTABLE):
            continue
        data = payload.files[name]
        data = data.encode() if isinstance(data, str) else data
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return "sha256:" + digest.hexdigest()


def missing_item(job: Job) -> Problem:
    return Problem(
        job.source,
        _("{item!r} is planned on {channel} but is no longer in the content").format(
            item=job.item, channel=job.channel
        ),
        hint=_("restore the item, or take it out of the campaign"),
    )


class RenderContext:
    """What every rendition reads: configuration, library and campaigns, with the costly
    shared parts (the programme figures at a moment) worked out once."""

    def __init__(self, config: Config, library: Library, campaigns: CampaignSet):
        self.config = config
        self.library = library
        self.campaigns = campaigns
        self._figures: dict[datetime, object] = {}

    @property
    def root(self) -> Path:
        return self.config.root

    def step(self, job: Job):
        """What plans ``job``: its event campaign's step, its slot campaign; None for a one-off
        publication or a draft."""
        campaign = self.campaigns.get(job.campaign)
        if campaign is None:
            return None
        if campaign.kind == "slot":
            return campaign.spec
        if campaign.kind == "event":
            return next((step for step in campaign.spec.steps if step.name == job.step), None)
        return None

    def item_files(self, slug: str) -> tuple[str, ...]:
        """The files a text about the item ``slug`` is made of: its own, and those of the
        projects, events and organiser it names (their titles appear in it)."""
        item = self.library.get(slug)
        if item is None:
            return ()
        slugs = [item.slug, *item.refs.get("projects", ()), *item.refs.get("events", ())]
        if item.refs.get("organiser"):
            slugs.append(item.refs["organiser"])
        return tuple(other.path for slug in dict.fromkeys(slugs) if (other := self.library.get(slug)))

    def figures(self, moment: datetime):
        if moment not in self._figures:
            from commsflow import stats

            vocabularies = self.config.vocabularies
            self._figures[moment] = stats.compute(
                self.library, moment, vocabularies.fields_of_action, vocabularies.blog_categories
            )
        return self._figures[moment]


# Among a rendition's sources: it reads every item's front matter (not their texts).
FRONT_MATTER = "*front matter*"


class Channel:
    """One channel. Subclasses set the attributes and implement :meth:`render`."""

    name: str = ""
    title: str = ""  # as people call it: „LinkedIn“, „Newsletter“ (marked with N_ where it is a word)
    templates: str = ""  # the folder under templates/ its texts come from
    kinds: tuple[str, ...] = ()  # the templates a campaign step on it may name
    publishers: tuple[str, ...] = ("outbox",)  # who can send it; the first is the default
    steps: bool = False  # event campaigns may plan steps on it
    slots: bool = False  # recurring slots may post on it
    one_off: bool = False  # an item's own `channels:` may name it
    scheduled: bool = True  # False: files for reference only (calendar files), never a job
    social: bool = False  # posts worded from the LinkedIn templates; an item's `social:` may word them itself
    feed: bool = False  # a post in a feed: previews show it as the feed does (cut at „…mehr“ on LinkedIn)
    threads: bool = False  # a text too long for one post may go out as a thread (a step's `thread: true`)
    look: str = "post"  # how the dashboard shows its renditions: post, newsletter, release, file
    frame: str | None = None  # the payload's file the desk shows in a frame (the e-mail, the printed release)
    archived: bool = False  # what went out stays in the build folder (the newsletter archive links it)
    carries_embargo: bool = False  # may go out before its item's embargo, which it prints (a release's Sperrfrist)

    @classmethod
    def shown_title(cls) -> str:
        """Its title in the language commsflow speaks („Presse“, "Press"); its name when it has none."""
        from commsflow.i18n import _

        return _(cls.title) if cls.title else cls.name

    def default_kind(self, item: Item, moment: datetime) -> str | None:
        """The kind an item goes out as when nothing names one (one-off jobs, slots)."""
        return None

    def draft_kinds(self, item: Item, now: datetime) -> tuple[str, ...]:
        """What ``build`` previews for an item no job of this channel plans yet."""
        return ()

    def render(self, job: Job, context: RenderContext) -> Rendition:
        raise NotImplementedError

    def sources(self, job: Job, context: RenderContext) -> tuple[str, ...] | None:
        """The files a rendition reads besides templates and settings (for the build's
        incremental check); None: everything in the library. :data:`FRONT_MATTER` among
        them: the front matter of every item too (figures over the programme, which items
        an issue selects), but no other item's text."""
        return None

    def __repr__(self) -> str:
        return f"<channel {self.name}>"

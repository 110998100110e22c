"""Campaign files: what the team plans to send, one YAML file each in ``campaigns/``.

A file's ``kind`` says what it plans; this module reads and validates them all and
reports problems with file, line and field. A newsletter issue names its sections
and, for each, either the items to show or a rule that selects them from the
library relative to the issue's send time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator, model_validator

from commsflow import channels, dates, frontmatter
from commsflow.errors import Problem, closest
from commsflow.fields import Day, HttpUrl, Moment, Slug, Text, vocabulary
from commsflow.i18n import _
from commsflow.model import TYPE_NAMES
from commsflow.validation import problems_from_validation_error

if TYPE_CHECKING:
    from commsflow.library import Library
    from commsflow.model import Item

KINDS = ("newsletter", "event", "slot")

# A window bound: an anchor, optionally shifted ("send - 6 weeks"), or a fixed date.
_ANCHORS = ("send", "previous", "period.start", "period.end")
_BOUND = re.compile(
    r"^(?P<anchor>send|previous|period\.start|period\.end)"
    r"(?:\s*(?P<sign>[+-])\s*(?P<count>\d+)\s*(?P<unit>(?i:days?|weeks?|tage?n?|wochen?)))?$"
)


class _Strict(BaseModel):
    # Built on first use, not on import: a project's campaigns are of one or two kinds.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _bound(value: object) -> object:
    if value is None:
        return None
    text = str(value).strip()
    if _BOUND.match(text):
        return text
    try:
        dates.parse_date(text)
    except dates.DateError:
        raise ValueError(
            _("{value!r} is not a window bound").format(value=text)
            + " — "
            + _(
                "write one of {anchors}, optionally shifted ('send - 6 weeks', 'previous + 1 day'), "
                "or a date (2024-04-03)"
            ).format(anchors=", ".join(_ANCHORS))
        ) from None
    return text


class Selection(_Strict):
    """A rule over the library. Windows are half-open: from ≤ date < until."""

    type: list[str] = Field(description="Content type(s): post, news, event, project.")
    category: vocabulary("blog_categories") | None = Field(None, description="Only posts of this blog category.")
    tags: list[Text] = Field(default_factory=list, description="Items with any of these tags.")
    projects: list[Slug] = Field(default_factory=list, description="Items about any of these projects.")
    from_: str | None = Field(None, alias="from", description="Start of the time window (inclusive).")
    until: str | None = Field(None, description="End of the time window (exclusive).")
    sort: Literal["date", "-date", "title"] | None = Field(
        None, description="date: oldest first; -date: newest first. Default: events by date, others newest first."
    )
    limit: PositiveInt | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _types(cls, value):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            raise ValueError(_("name a content type") + " — " + _("write e.g. 'type: post' or 'type: [post, news]'"))
        for entry in values:
            if entry not in TYPE_NAMES:
                guess = closest(str(entry), TYPE_NAMES)
                raise ValueError(
                    _("{value!r} is not a content type").format(value=entry)
                    + " — "
                    + (
                        _("did you mean {guess!r}?").format(guess=guess)
                        if guess
                        else _("use one of: {choices}").format(choices=", ".join(TYPE_NAMES))
                    )
                )
        return values

    @field_validator("from_", "until", mode="before")
    @classmethod
    def _bounds(cls, value):
        return _bound(value)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.type)


class CallToAction(_Strict):
    text: Text = Field(description="Button text, e.g. 'Zum Fördercall'.")
    url: HttpUrl


class Pick(_Strict):
    """An item named in a section, with this issue's own teaser if the item's summary
    does not fit (e.g. an event summary written as a recap, used in an invitation)."""

    item: Slug
    summary: Text | None = Field(None, description="Teaser for this issue instead of the item's summary.")


def _pick(value: object) -> object:
    return {"item": value} if isinstance(value, str) else value


class Section(_Strict):
    title: Text
    intro: Text | None = Field(None, description="A short Markdown paragraph under the title.")
    select: Selection | None = None
    items: list[Pick] = Field(
        default_factory=list,
        description="Items shown in this order: slugs, "
        "or 'item: slug' with 'summary: …' to word the teaser for this issue.",
    )
    featured: Slug | None = Field(None, description="Shown first and larger; added if not selected.")
    cta: CallToAction | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _picks(cls, value):
        return [_pick(entry) for entry in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _has_content(self):
        if self.select is None and not self.items and self.featured is None and self.cta is None:
            raise ValueError(
                _("a section needs 'items', 'select', 'featured' or 'cta'") + " — " + _("say what it shows")
            )
        return self


class Period(_Strict):
    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(
                _("period ends ({end}) before it starts ({start})").format(end=self.end, start=self.start)
                + " — "
                + _("check start and end")
            )
        return self


class NewsletterCampaign(_Strict):
    """One newsletter issue (``kind: newsletter``)."""

    kind: Literal["newsletter"]
    id: Slug | None = Field(None, description="Issue id; default: the file name.")
    title: Text = Field(description="e.g. 'MPI-Newsletter 1/2024'.")
    subject: Text = Field(description="E-mail subject line.")
    preheader: Text | None = Field(None, description="Preview text shown after the subject in the inbox.")
    send_at: Moment = Field(description="Planned send date and time.")
    period: Period = Field(description="The months the issue looks back on.")
    previous: Slug | None = Field(None, description="The issue before; default: the latest one sent earlier.")
    intro: Text = Field(description="Editorial (Markdown).")
    sections: list[Section] = Field(min_length=1)

    @field_validator("send_at")
    @classmethod
    def _timed(cls, value):
        if not isinstance(value, datetime):
            raise ValueError(
                _("{value} has no time").format(value=value)
                + " — "
                + _("give the send time too, e.g. '{value} 10:00'").format(value=value)
            )
        return value


# Days or weeks, in English or German ('-6 weeks', '-6 Wochen', '+1 Tag').
_OFFSET = re.compile(r"^\s*([+-])\s*(\d+)\s*(days?|weeks?|tage?n?|wochen?)\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS_DE = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
# The channels a step or a slot may name, from the channel registry.
StepChannel = Literal[channels.names(steps=True)]  # type: ignore[valid-type]
SlotChannel = Literal[channels.names(slots=True)]  # type: ignore[valid-type]


def channel_kinds(channel: str) -> tuple[str, ...]:
    """Which draft or release kinds a channel can send."""
    return channels.get(channel).kinds


def _clock(value: object) -> str:
    text = str(value).strip()
    if isinstance(value, int):  # YAML reads 10:00 unquoted as a number of minutes (sexagesimal)
        text = f"{value // 60:02d}:{value % 60:02d}"
    if not _CLOCK.match(text):
        raise ValueError(
            _("{value!r} is not a time of day").format(value=text) + " — " + _("write e.g. '10:00' in quotes")
        )
    return text


def _threads_only_where_possible(spec):
    if spec.thread and not channels.get(spec.channel).threads:
        threading = ", ".join(name for name, channel in channels.registry().items() if channel.threads)
        raise ValueError(
            _("thread: {channel} posts no threads").format(channel=spec.channel)
            + " — "
            + _("leave thread out, or plan the step on {channels}").format(channels=threading)
        )
    return spec


class Step(_Strict):
    """One publication of an event campaign, placed relative to the event's start."""

    name: Slug = Field(description="Names the step in job ids and the ledger.")
    at: str = Field(description="Days or weeks before (-) or after (+) the event's start, e.g. '-6 weeks'.")
    time: str = Field("10:00", description="Time of day, e.g. '10:00'.")
    channel: StepChannel
    template: Text = Field(description="Draft or release kind, e.g. save-the-date, invitation, recap.")
    thread: bool = Field(
        False, description="On a channel that threads (Bluesky): a text too long for one post goes out as a thread."
    )

    _clock = field_validator("time", mode="before")(classmethod(lambda cls, v: _clock(v)))
    _threads = model_validator(mode="after")(lambda self: _threads_only_where_possible(self))

    @field_validator("at", mode="before")
    @classmethod
    def _offset(cls, value):
        if not _OFFSET.match(str(value)):
            raise ValueError(
                _("{value!r} is not an offset").format(value=value)
                + " — "
                + _("write e.g. '-6 weeks', '-1 week' or '+1 day'")
            )
        return str(value)

    @model_validator(mode="after")
    def _template_fits(self):
        allowed = channel_kinds(self.channel)
        if self.template not in allowed:
            guess = closest(self.template, allowed)
            raise ValueError(
                _("{channel} has no template {template!r}").format(channel=self.channel, template=self.template)
                + " — "
                + (
                    _("did you mean {guess!r}?").format(guess=guess)
                    if guess
                    else _("use one of: {choices}").format(choices=", ".join(allowed))
                )
            )
        return self

    def offset(self) -> timedelta:
        sign, count, unit = _OFFSET.match(self.at).groups()
        days = int(count) * (7 if unit.lower().startswith(("week", "woch")) else 1)
        return timedelta(days=days if sign == "+" else -days)


class EventCampaign(_Strict):
    """Steps before and after one event (``kind: event``)."""

    kind: Literal["event"]
    id: Slug | None = None
    event: Slug = Field(description="The event's slug.")
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self):
        names = [step.name for step in self.steps]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(
                    _("step name {name!r} is used twice").format(name=name) + " — " + _("give each step its own name")
                )
        return self


class SlotCampaign(_Strict):
    """A recurring slot (``kind: slot``): every week the next item not yet posted."""

    kind: Literal["slot"]
    id: Slug | None = None
    every: str = Field(description="Weekday, e.g. 'tuesday' or 'dienstag'.")
    time: str = Field("10:00", description="Time of day.")
    start: Day = Field(description="First day of the slot.")
    end: Day = Field(description="Last day of the slot.")
    channel: SlotChannel
    template: Text | None = Field(
        None, description="Kind of post; default: each item's own (funding-call for a Fördercall post, news for news)."
    )
    type: Literal["post", "news"] = Field("post", description="What the slot posts.")
    category: vocabulary("blog_categories") | None = None
    items_from: Day | None = Field(None, description="Only items dated on or after this day.")
    thread: bool = Field(
        False, description="On a channel that threads (Bluesky): a text too long for one post goes out as a thread."
    )
    _threads = model_validator(mode="after")(lambda self: _threads_only_where_possible(self))

    _clock = field_validator("time", mode="before")(classmethod(lambda cls, v: _clock(v)))

    @field_validator("every", mode="before")
    @classmethod
    def _weekday(cls, value):
        text = str(value).strip().lower()
        if text in _WEEKDAYS_DE:
            text = WEEKDAYS[_WEEKDAYS_DE.index(text)]
        if text not in WEEKDAYS:
            guess = closest(text, WEEKDAYS)
            raise ValueError(
                _("{value!r} is not a weekday").format(value=value)
                + " — "
                + (_("did you mean {guess!r}?").format(guess=guess) if guess else _("write e.g. 'tuesday'"))
            )
        return text

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(
                _("end ({end}) is before start ({start})").format(end=self.end, start=self.start)
                + " — "
                + _("check both")
            )
        allowed = channel_kinds(self.channel)
        if self.template is not None and self.template not in allowed:
            raise ValueError(
                _("{channel} has no template {template!r}").format(channel=self.channel, template=self.template)
                + " — "
                + _("use one of: {choices}").format(choices=", ".join(allowed))
            )
        return self


@dataclass
class Campaign:
    """A validated campaign file."""

    id: str
    path: str  # relative to the project root
    spec: NewsletterCampaign | EventCampaign | SlotCampaign
    line_of: object  # field path → line, for problems found later (selection, links)

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass
class CampaignSet:
    campaigns: list[Campaign]
    problems: list[Problem]

    def of_kind(self, kind: str) -> list[Campaign]:
        return [c for c in self.campaigns if c.kind == kind]

    def get(self, campaign_id: str, kind: str | None = None) -> Campaign | None:
        for campaign in self.campaigns:
            if campaign.id == campaign_id and (kind is None or campaign.kind == kind):
                return campaign
        return None


_MODELS = {"newsletter": NewsletterCampaign, "event": EventCampaign, "slot": SlotCampaign}


def load_campaigns(root: Path, folder: Path, zone, vocabularies: dict | None = None) -> CampaignSet:
    """``vocabularies``: the configuration's, so that a category is matched as in content."""
    campaigns: list[Campaign] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return CampaignSet(campaigns, problems)
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        campaign, found = _load_one(path, shown, zone, vocabularies)
        problems.extend(found)
        if campaign:
            campaigns.append(campaign)
    seen: dict[str, Campaign] = {}
    for campaign in campaigns:
        if campaign.id in seen:
            problems.append(
                Problem(
                    campaign.path,
                    _("campaign id {id!r} is already used by {path}").format(
                        id=campaign.id, path=seen[campaign.id].path
                    ),
                    line=campaign.line_of(("id",)),
                    field="id",
                    hint=_("give each campaign its own id"),
                )
            )
        seen.setdefault(campaign.id, campaign)
    return CampaignSet(campaigns, problems)


def _load_one(path: Path, shown: str, zone, vocabularies: dict | None = None) -> tuple[Campaign | None, list[Problem]]:
    try:
        source = frontmatter.document(shown, path.read_bytes())
        data = frontmatter.parse(source)
        line_of = frontmatter.line_finder(source)
    except frontmatter.SourceError as exc:
        return None, [exc.problem]
    except OSError as exc:
        return None, [Problem(shown, _("cannot read ({reason})").format(reason=exc.strerror))]
    kind = data.get("kind")
    if kind not in _MODELS:
        if kind is None:
            message = _("missing 'kind'")
            hint = _("add 'kind: newsletter' (known kinds: {kinds})").format(kinds=", ".join(KINDS))
        else:
            guess = closest(str(kind), KINDS)
            message = _("unknown campaign kind {kind!r}").format(kind=kind)
            if guess:
                hint = _("did you mean {guess!r}?").format(guess=guess)
            else:
                hint = _("known kinds: {kinds}").format(kinds=", ".join(KINDS))
        return None, [Problem(shown, message, line=line_of(("kind",)), field="kind", hint=hint)]
    model = _MODELS[kind]
    try:
        spec = model.model_validate(data, context={"zone": zone, "vocabularies": vocabularies})
    except ValidationError as exc:
        return None, problems_from_validation_error(exc, shown, line_of, model=model)
    return Campaign(id=spec.id or path.stem, path=shown, spec=spec, line_of=line_of), []


def campaign_event(campaign: Campaign, library: Library) -> tuple[Item | None, Problem | None]:
    """The event an event campaign names, or the problem to report instead.

    An event whose file has errors is no item, but it exists: the campaign gets the short
    pointer to that file (``event 'x' has errors — see content/events/x.md``), never
    "no event" with a guess at another event. Only a slug that names no event file at
    all is "no event", with the closest event slug if one is close.
    """
    spec = campaign.spec
    event = library.get(spec.event)
    if event is not None and event.kind == "event":
        return event, None
    line, field = campaign.line_of(("event",)), "event"
    invalid = library.invalid(spec.event, "event")
    if invalid is not None:
        return None, invalid.referenced_from(campaign.path, line=line, field=field)
    guess = closest(spec.event, library.slugs("event"))
    return None, Problem(
        campaign.path,
        _("no event {slug!r}").format(slug=spec.event),
        line=line,
        field=field,
        hint=_("did you mean {guess!r}?").format(guess=guess)
        if guess
        else _("name the event's slug (its file name in content/events/)"),
    )


def resolve_bound(text: str, *, send: datetime, previous: datetime | None, period: Period, zone) -> datetime:
    """A window bound as an aware date and time."""
    match = _BOUND.match(text)
    if not match:
        return _midnight(dates.parse_date(text), zone)
    anchor = match["anchor"]
    if anchor == "send":
        moment = send
    elif anchor == "previous":
        moment = previous if previous is not None else _midnight(period.start, zone)
    elif anchor == "period.start":
        moment = _midnight(period.start, zone)
    else:  # the period's last day counts in full
        moment = _midnight(period.end + timedelta(days=1), zone)
    if match["count"]:
        days = int(match["count"]) * (7 if match["unit"].lower().startswith(("week", "woch")) else 1)
        moment += timedelta(days=days if match["sign"] == "+" else -days)
    return moment


def _midnight(day: date, zone) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)

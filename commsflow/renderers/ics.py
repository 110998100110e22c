"""Calendar files (iCalendar, RFC 5545) for events: the "In den Kalender" link.

Times carry their time zone (``TZID=Europe/Berlin`` with a VTIMEZONE block), so
Outlook, Apple and Google calendars show the same hour; an all-day event is a
DATE from its first day to the day after its last.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

import icalendar
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from commsflow import __version__, channels, frontmatter, i18n
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.model import Item
from commsflow.validation import problems_from_validation_error


def event_ics(item: Item, config: Config, *, stamp: datetime, url: str | None) -> bytes:
    meta = item.meta
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//commsflow {__version__}//{config.organisation.name}//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{item.slug}@{urlsplit(config.links.public_url).hostname}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", meta.title)
    if isinstance(meta.start, datetime):
        event.add("dtstart", meta.start)
        if meta.end:
            event.add("dtend", meta.end)
    else:
        event.add("dtstart", meta.start)
        last: date = meta.end or meta.start
        event.add("dtend", last + timedelta(days=1))
    if meta.venue:
        event.add(
            "location", ", ".join(part for part in (meta.venue.name, meta.venue.address, meta.venue.city) if part)
        )
    description = "\n\n".join(part for part in (meta.summary, url) if part)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    calendar.add_component(event)
    # The zone's rules for the years around the event only, not 1970–2038: a short file.
    first = meta.start if not isinstance(meta.start, datetime) else meta.start.date()
    calendar.add_missing_timezones(first_date=date(first.year - 1, 1, 1), last_date=date(first.year + 2, 1, 1))
    return calendar.to_ical()


# The wording of the publishing calendar lives in the project's templates folder: labels.yaml
# in the organisation's language, labels.<language>.yaml for another one commsflow speaks.
LABELS = "calendar/labels.yaml"

# Each text of the labels file and the names it may fill in.
_PLACEHOLDERS = {
    "calendar_name": ("organisation",),
    "summary": ("channel", "kind", "title"),
    "summary_same": ("channel", "title"),
    "summary_untitled": ("channel", "kind"),
    "state": ("state",),
    "campaign": ("campaign", "source"),
    "conflict": ("conflict",),
}


def _text_with(names: tuple[str, ...]):
    def check(value: str) -> str:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(
                _("{error} — write a brace as {{{{ or }}}}, and fill in only {names}").format(
                    error=exc, names=_braced(names)
                )
            ) from None
        for name in fields:
            if name not in names:
                raise ValueError(
                    _("{{{name}}} cannot be filled in here — use {names}").format(name=name, names=_braced(names))
                )
        return value

    return Annotated[str, AfterValidator(check)]


def _braced(names) -> str:
    return ", ".join(f"{{{name}}}" for name in names)


class CalendarLabels(BaseModel):
    """``templates/calendar/labels.yaml``: what the calendar export calls channels' kinds and
    jobs' states, and how an entry's title and description read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar_name: _text_with(_PLACEHOLDERS["calendar_name"])
    summary: _text_with(_PLACEHOLDERS["summary"])
    summary_same: _text_with(_PLACEHOLDERS["summary_same"])
    summary_untitled: _text_with(_PLACEHOLDERS["summary_untitled"])
    state: _text_with(_PLACEHOLDERS["state"])
    campaign: _text_with(_PLACEHOLDERS["campaign"])
    conflict: _text_with(_PLACEHOLDERS["conflict"])
    kinds: dict[str, str] = {}
    channel_kinds: dict[str, dict[str, str]] = {}
    states: dict[str, str] = {}

    def kind(self, channel: str, kind: str) -> str:
        """``Presse-Rückblick``; a kind the file does not name is shown as it is."""
        return self.channel_kinds.get(channel, {}).get(kind) or self.kinds.get(kind, kind)

    def state_name(self, state: str) -> str:
        return self.states.get(state, state)


def calendar_labels(config: Config) -> CalendarLabels:
    """The project's calendar wording in the language commsflow speaks (``labels.en.yaml`` in
    English, where the project has one; else ``labels.yaml``); a missing or broken file stops
    with file and line."""
    folder = config.path("templates")
    path = folder / LABELS
    spoken = path.with_suffix(f".{i18n.language()}.yaml")
    if i18n.language() != config.organisation.locale and spoken.is_file():
        path = spoken
    shown = path.relative_to(config.root).as_posix() if path.is_relative_to(config.root) else str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommsflowError(
            _("{path}: template not found").format(path=shown),
            _("commsflow expects its templates in {folder}; copy {file} from commsflow's templates/ folder").format(
                folder=folder, file=LABELS
            ),
        ) from None
    except OSError as exc:
        raise CommsflowError(
            _("{path}: cannot be read ({reason})").format(path=shown, reason=exc.strerror),
            _("check the file's permissions"),
        ) from None
    try:
        source = frontmatter.document(shown, raw)
        data = frontmatter.parse(source)
    except frontmatter.SourceError as exc:
        raise CommsflowError(exc.problem.format().removesuffix(f" — {exc.problem.hint}"), exc.problem.hint) from None
    try:
        return CalendarLabels.model_validate(data)
    except ValidationError as exc:
        first = problems_from_validation_error(exc, shown, frontmatter.line_finder(source), CalendarLabels)[0]
        raise CommsflowError(first.format().removesuffix(f" — {first.hint}"), first.hint) from None


def job_titles(jobs, library, campaigns) -> dict[str, str]:
    """What the calendar calls each job's item: the item's title, or the newsletter issue's."""
    titles: dict[str, str] = {}
    for job in jobs:
        if job.item in titles:
            continue
        if job.channel == "newsletter":
            campaign = campaigns.get(job.item, "newsletter")
            if campaign is not None:
                titles[job.item] = campaign.spec.title
            continue
        item = library.get(job.item)
        if item is not None:
            titles[job.item] = item.title
    return titles


def calendar_ics(jobs, config: Config, *, now: datetime, titles: Mapping[str, str] | None = None) -> bytes:
    """The publishing calendar for Outlook: one 15-minute entry per job, called by the
    item's title (``titles``: item slug or issue id → title) and worded by
    ``templates/calendar/labels.yaml``."""
    labels = calendar_labels(config)
    titles = titles or {}
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//commsflow {__version__}//{config.organisation.name}//DE")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", labels.calendar_name.format(organisation=config.organisation.short_name))
    for job in jobs:
        event = icalendar.Event()
        event.add("uid", f"{job.id}@commsflow")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", job.planned)
        event.add("dtend", job.planned + timedelta(minutes=15))
        event.add("summary", _summary(job, labels, titles.get(job.item)))
        lines = [
            labels.state.format(state=labels.state_name(job.state)),
            labels.campaign.format(campaign=job.campaign, source=job.source),
        ]
        lines += [labels.conflict.format(conflict=text) for text in job.conflicts]
        event.add("description", "\n".join(lines))
        event.add("categories", [_channel_title(job.channel)])
        cal.add_component(event)
    if jobs:
        years = [job.planned.year for job in jobs]
        cal.add_missing_timezones(
            first_date=datetime(min(years), 1, 1).date(), last_date=datetime(max(years) + 1, 1, 1).date()
        )
    return cal.to_ical()


def _channel_title(name: str) -> str:
    registry = channels.registry()
    return registry[name].shown_title() if name in registry else name


def _summary(job, labels: CalendarLabels, title: str | None) -> str:
    channel = _channel_title(job.channel)
    kind = labels.kind(job.channel, job.template)
    if title is None:
        return labels.summary_untitled.format(channel=channel, kind=kind)
    if kind == channel:
        return labels.summary_same.format(channel=channel, title=title)
    return labels.summary.format(channel=channel, kind=kind, title=title)

"""Calendar files (iCalendar, RFC 5545) for events: the "In den Kalender" link.

Times carry their time zone (``TZID=Europe/Berlin`` with a VTIMEZONE block), so
Outlook, Apple and Google calendars show the same hour; an all-day event is a
DATE from its first day to the day after its last.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

import icalendar
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from commsflow import __version__, channels, frontmatter, i18n
from commsflow.channels.ics import event_end
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.model import Item
from commsflow.renderers import templating
from commsflow.validation import problems_from_validation_error


def event_ics(item: Item, config: Config, *, stamp: datetime, url: str | None) -> bytes:
    """An event's calendar file. A timed event without an end ends ``[events] default_duration``
    after its start (:func:`event_end`); the web address (``URL``) is the registration's where
    there is one, else the event page, and the description (``templates/calendar/event.txt``)
    gives both."""
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
        end = event_end(meta, config)
        event.add("dtstart", _unambiguous(meta.start))
        event.add("dtend", _unambiguous(end))
        # The zone's rules for the years around the event only, not 1970–2038: a short file.
        calendar.add_component(
            vtimezone(
                config.zone, date(meta.start.year - 1, 1, 1), date(end.year + 2, 1, 1), config.organisation.timezone
            )
        )
    else:
        event.add("dtstart", meta.start)
        last: date = meta.end or meta.start
        event.add("dtend", last + timedelta(days=1))
    if meta.venue:
        event.add(
            "location", ", ".join(part for part in (meta.venue.name, meta.venue.address, meta.venue.city) if part)
        )
    registration = str(meta.registration) if meta.registration else None
    description = _description(config, meta, registration, url)
    if description:
        event.add("description", description)
    if registration or url:
        event.add("url", registration or url)
    calendar.add_component(event)
    return calendar.to_ical()


EVENT_DESCRIPTION = "calendar/event.txt"


def _description(config: Config, meta, registration: str | None, url: str | None) -> str:
    """The event's description as the template words it, without blank lines at either end
    or more than one in a row."""
    env = templating.environment(config)
    text = templating.render(
        env,
        EVENT_DESCRIPTION,
        event={"title": meta.title, "summary": meta.summary, "registration_url": registration, "url": url},
    )
    return re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()


def _unambiguous(moment: datetime) -> datetime:
    """The time as every calendar reads it the same: a time in the gap of a change to summer
    time (02:30 on 31 March 2024 in Berlin) as the local time it is (03:30), and one in the
    hour that comes twice when summer time ends in UTC, since a local 02:30 that night means
    the first of the two (RFC 5545, 3.3.5)."""
    utc = moment.astimezone(UTC)
    local = utc.astimezone(moment.tzinfo)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return utc
    return local


def vtimezone(zone: tzinfo, first: date, last: date, tzid: str) -> icalendar.Timezone:
    """The VTIMEZONE block of ``zone`` for the days from ``first`` to ``last``, from the
    changes the tz database (zoneinfo) knows: one STANDARD or DAYLIGHT part for each, which
    starts at the local time in force before the change, as RFC 5545 reads DTSTART with
    TZOFFSETFROM — in Berlin 02:00 for the change to summer time, 03:00 for the change back.
    No RDATE lists: vobject (and so Radicale) keeps only the first date of one.

    Not icalendar's ``add_missing_timezones`` (``Timezone.from_tzinfo``, 7.3.2): it walks the
    wall clock, and the first local time after the gap of a change to summer time is 03:00, so
    its DAYLIGHT starts an hour late and a reader that goes by the block (vobject) puts 01:30
    UTC on 31 March 2024 at a local 02:30 that does not exist. It also writes an English
    COMMENT into the file."""
    timezone = icalendar.Timezone()
    timezone.add("tzid", tzid)
    for instant, (offset_from, _dst, _name), (offset_to, daylight, name) in _window(zone, first, last):
        observance = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
        observance.add("dtstart", (instant + offset_from).replace(tzinfo=None))
        observance.add("tzname", name)
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        timezone.add_component(observance)
    return timezone


@lru_cache(maxsize=32)
def _window(zone: tzinfo, first: date, last: date) -> tuple:
    """The changes from ``first`` to ``last``, the first of them the one in force on ``first``
    (from a year back at most; a zone without one gets one that changes nothing). Worked out
    once for a year's events."""
    begin = datetime.combine(first, time(), zone).astimezone(UTC)
    until = datetime.combine(last, time(), zone).astimezone(UTC)
    changes = list(_changes(zone, begin - timedelta(days=400), until))
    earlier = [change for change in changes if change[0] <= begin]
    state = _state(begin, zone)
    return (earlier[-1] if earlier else (begin, state, state), *(change for change in changes if change[0] > begin))


def _changes(zone: tzinfo, begin: datetime, until: datetime):
    """Each change of ``zone`` from ``begin`` to ``until`` (UTC): its moment, to the second,
    and the offset, summer time and name before and after it."""
    before = _state(begin, zone)
    moment = begin
    while moment < until:
        step = min(_STEP, until - moment)
        if _state(moment + step, zone) == before:
            moment += step
            continue
        low, high = moment, moment + step  # the change lies after low, at or before high
        while high - low > timedelta(seconds=1):
            middle = low + timedelta(seconds=(high - low).total_seconds() // 2)  # whole seconds
            if _state(middle, zone) == before:
                low = middle
            else:
                high = middle
        after = _state(high, zone)
        yield high, before, after
        before, moment = after, high


# Changes of a zone lie weeks or months apart; two in one day would go unseen, and none is known.
_STEP = timedelta(days=1)


def _state(moment: datetime, zone: tzinfo) -> tuple[timedelta, bool, str]:
    """The offset, whether it is summer time, and the zone's name for it, at the UTC ``moment``."""
    local = moment.astimezone(zone)
    return local.utcoffset(), local.dst() > timedelta(0), local.tzname()


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
        event.add("dtstart", _unambiguous(job.planned))
        event.add("dtend", _unambiguous(job.planned + timedelta(minutes=15)))
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
        # The zone's changes as the tz database has them (not icalendar's add_missing_timezones:
        # see vtimezone), for the years the plan covers.
        cal.add_component(
            vtimezone(config.zone, date(min(years), 1, 1), date(max(years) + 1, 1, 1), config.organisation.timezone)
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

"""Calendar files (iCalendar, RFC 5545) for events: the "In den Kalender" link.

Times carry their time zone (``TZID=Europe/Berlin`` with a VTIMEZONE block), so
Outlook, Apple and Google calendars show the same hour; an all-day event is a
DATE from its first day to the day after its last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import icalendar

from commsflow import __version__
from commsflow.config import Config
from commsflow.model import Item


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


def calendar_ics(jobs, config: Config, *, now: datetime) -> bytes:
    """The publishing calendar for Outlook: one 15-minute entry per job."""
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//commsflow {__version__}//{config.organisation.name}//DE")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Veröffentlichungen {config.organisation.short_name}")
    for job in jobs:
        event = icalendar.Event()
        event.add("uid", f"{job.id}@commsflow")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", job.planned)
        event.add("dtend", job.planned + timedelta(minutes=15))
        event.add("summary", f"{job.channel}: {job.template} – {job.item}")
        lines = [f"Status: {job.state}", f"Kampagne: {job.campaign} ({job.source})"]
        lines += [f"Konflikt: {text}" for text in job.conflicts]
        event.add("description", "\n".join(lines))
        event.add("categories", [job.channel])
        cal.add_component(event)
    if jobs:
        years = [job.planned.year for job in jobs]
        cal.add_missing_timezones(
            first_date=datetime(min(years), 1, 1).date(), last_date=datetime(max(years) + 1, 1, 1).date()
        )
    return cal.to_ical()

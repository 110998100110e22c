"""Calendar files: one .ics per event (``build/events/<slug>.ics``) for the website and
for attendees. Never sent on its own, so no campaign plans it."""

from __future__ import annotations

from datetime import UTC, datetime

from commsflow import frontmatter
from commsflow.channels.base import Channel, RenderContext, Rendition, missing_item
from commsflow.errors import Problem, Severity
from commsflow.i18n import N_, _


class Ics(Channel):
    name = "ics"
    title = N_("Calendar file")
    look = "file"
    kinds = ("event",)
    scheduled = False

    def draft_kinds(self, item, now: datetime) -> tuple[str, ...]:
        return ("event",) if item.kind == "event" else ()

    def sources(self, job, context: RenderContext) -> tuple[str, ...]:
        item = context.library.get(job.item)
        return (item.path,) if item else ()

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow.links import item_url
        from commsflow.publishers.base import Payload
        from commsflow.renderers import ics

        config = context.config
        item = context.library.get(job.item)
        if item is None:
            return Rendition(job, None, problems=[missing_item(job)])
        data = ics.event_ics(item, config, stamp=job.planned, url=item_url(item, config))
        payload = Payload(
            job.id, self.name, item.slug, job.template, item.title, item.title, files={f"{item.slug}.ics": data}
        )
        return Rendition(job, payload, {f"events/{item.slug}.ics": data}, "", [], (item.path,), item.title)


CHANNEL = Ics()


def event_end(meta, config) -> datetime:
    """When a timed event ends: its ``end``, else ``[events] default_duration`` after its start
    (time that passes: across a change to summer time, 2 hours from 01:00 end at 04:00)."""
    if meta.end is not None:
        return meta.end
    return (meta.start.astimezone(UTC) + config.events.default_duration).astimezone(meta.start.tzinfo)


def assumed_ends(library, config, now: datetime) -> list[Problem]:
    """A warning for every event with a start time and no end that is not over yet: its
    calendar file ends it ``[events] default_duration`` after the start, and says so nowhere
    else. Past events are left alone: nobody adds them to a calendar any more."""
    from commsflow.alerts import duration
    from commsflow.config import CONFIG_FILE

    problems = []
    for item in library.of_kind("event"):
        meta = item.meta
        if meta.end is not None or not isinstance(meta.start, datetime):
            continue
        end = event_end(meta, config)
        if end <= now:
            continue
        written = end.strftime("%Y-%m-%d %H:%M")
        problems.append(
            Problem(
                item.path,
                _("not given; the calendar file ends the event at {end}, {duration} after the start").format(
                    end=written, duration=duration(config.events.default_duration)
                ),
                line=_line(config, item),
                field="end",
                hint=_(
                    "write the real end under 'start:', e.g. 'end: {end}', or change [events] default_duration in {file}"
                ).format(end=written, file=CONFIG_FILE),
                severity=Severity.WARNING,
            )
        )
    return problems


def _line(config, item) -> int | None:
    """The line of the event's ``start:``, read again from the file."""
    try:
        return frontmatter.line_finder_for_file(config.root / item.path, item.path)(("start",))
    except (OSError, frontmatter.SourceError):
        return None

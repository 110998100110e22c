"""Calendar files: one .ics per event (``build/events/<slug>.ics``) for the website and
for attendees. Never sent on its own, so no campaign plans it."""

from __future__ import annotations

from datetime import datetime

from commsflow.channels.base import Channel, RenderContext, Rendition, missing_item
from commsflow.i18n import N_


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

"""Bluesky posts: the LinkedIn drafts' wording fitted to Bluesky's 300 graphemes, with link and
hashtag facets and a link card — the whole post record is rendered (and signed off) here, the
publisher adds only the time it is created."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Bluesky(SocialChannel):
    name = "bluesky"
    title = "Bluesky"
    publishers = ("outbox", "bluesky")

    def shape(self, draft, rendered, config) -> tuple[str, dict | None]:
        from commsflow.renderers.short_post import bluesky_record

        record = bluesky_record(
            draft.text,
            draft.link,
            language=config.organisation.locale,
            title=draft.title,
            description=draft.description,
        )
        return record["text"], record

    def own_limit(self):
        from commsflow.renderers.short_post import BLUESKY_GRAPHEMES, graphemes

        return graphemes, BLUESKY_GRAPHEMES, True  # an own text is not cut without the author knowing

    def counted(self, text: str) -> dict:
        from commsflow.renderers.short_post import BLUESKY_GRAPHEMES, graphemes

        return {"characters": graphemes(text), "limit": BLUESKY_GRAPHEMES, "cut": None}  # no „…mehr“ on Bluesky


CHANNEL = Bluesky()

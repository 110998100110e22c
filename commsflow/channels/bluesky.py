"""Bluesky posts: the LinkedIn drafts' wording fitted to Bluesky's 300 graphemes, with link and
hashtag facets and a link card — the whole post record is rendered (and signed off) here, the
publisher adds only the time it is created."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel

SEPARATOR = "\n\n---\n\n"  # between the posts of a thread, where it is shown as one text


class Bluesky(SocialChannel):
    name = "bluesky"
    title = "Bluesky"
    publishers = ("outbox", "bluesky")

    threads = True
    image_limits = (1_000_000, 2000)  # app.bsky.embed.images: blobs of at most 1,000,000 bytes
    alt_limit = 2000  # what Bluesky's app lets one write

    def shape(self, draft, rendered, config, image, step=None) -> tuple[str, dict | None]:
        from commsflow.renderers.short_post import THREAD, bluesky_record

        picture = None
        if image is not None:
            # The blob's reference is known once the publisher has uploaded the file.
            picture = {"file": f"image{image.suffix}", "alt": draft.image["alt"]}
            if image.width:  # known of a picture from the project; one from the web is fetched when sent
                picture["aspectRatio"] = {"width": image.width, "height": image.height}
        record = bluesky_record(
            draft.text,
            draft.link,
            language=config.organisation.locale,
            title=draft.title,
            description=draft.description,
            image=picture,
            thread=bool(getattr(step, "thread", False)),
        )
        # A thread is signed off and previewed whole: its posts one after the other.
        return SEPARATOR.join([record["text"], *(reply["text"] for reply in record.get(THREAD, []))]), record

    def own_limit(self, step=None, config=None):
        from commsflow.renderers.short_post import BLUESKY_GRAPHEMES, graphemes

        if getattr(step, "thread", False):
            return None  # a long text becomes a thread: nothing is cut
        return graphemes, BLUESKY_GRAPHEMES, True  # an own text is not cut without the author knowing

    def counted(self, text: str, config=None) -> dict:
        from commsflow.renderers.short_post import BLUESKY_GRAPHEMES, graphemes

        longest = max(graphemes(post) for post in text.split(SEPARATOR))  # a thread: each post counts
        return {"characters": longest, "limit": BLUESKY_GRAPHEMES, "cut": None}  # no „…mehr“ on Bluesky


CHANNEL = Bluesky()

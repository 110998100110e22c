"""Mastodon statuses: the same wording as the LinkedIn drafts, sent with an idempotency key."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Mastodon(SocialChannel):
    name = "mastodon"
    title = "Mastodon"
    publishers = ("outbox", "mastodon")

    alt_limit = 1500  # Mastodon's media description
    image_limits = (8_000_000, 2560)  # Mastodon takes 16 MB and scales to about 8 megapixels itself

    def shape(self, draft, rendered, config, image, step=None) -> tuple[str, dict | None]:
        """The draft's text (fitted to the instance's length when it is sent) and the image to
        attach with its description (alt text)."""
        if image is None:
            return draft.text, None
        return draft.text, {"media": [{"file": f"image{image.suffix}", "description": draft.image["alt"]}]}

    def own_limit(self, step=None):
        from commsflow.renderers.short_post import DEFAULT_MAX_CHARACTERS

        return len, DEFAULT_MAX_CHARACTERS, False  # an instance may allow more: a warning


CHANNEL = Mastodon()

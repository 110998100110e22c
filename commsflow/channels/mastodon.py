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
        """The status as it is posted — the draft's text with its link and hashtags, fitted to
        ``[social] mastodon_max_characters`` (short_post.status_text) — and the image to attach
        with its description (alt text). Fitted here, not when sent: the sign-off covers the
        status itself; an instance that takes fewer characters refuses it (the publisher)."""
        from commsflow.renderers.short_post import DEFAULT_URL_LENGTH, status_text

        status = status_text(draft.text, draft.link, config.social.mastodon_max_characters, DEFAULT_URL_LENGTH)
        if image is None:
            return status, None
        return status, {"media": [{"file": f"image{image.suffix}", "description": draft.image["alt"]}]}

    def counted(self, text: str, config=None) -> dict:
        from commsflow.renderers.short_post import DEFAULT_URL_LENGTH, status_length

        # As Mastodon counts: an address is 23 characters, however long; no „…mehr“ cut.
        limit = config.social.mastodon_max_characters
        return {"characters": status_length(text, DEFAULT_URL_LENGTH), "limit": limit, "cut": None}

    def own_limit(self, step=None, config=None):
        # Longer: a warning, and the status is cut as the preview shows.
        return len, config.social.mastodon_max_characters, False


CHANNEL = Mastodon()

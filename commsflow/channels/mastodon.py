"""Mastodon statuses: the same wording as the LinkedIn drafts, sent with an idempotency key."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Mastodon(SocialChannel):
    name = "mastodon"
    title = "Mastodon"
    publishers = ("outbox", "mastodon")

    def own_limit(self):
        from commsflow.renderers.short_post import DEFAULT_MAX_CHARACTERS

        return len, DEFAULT_MAX_CHARACTERS, False  # an instance may allow more: a warning


CHANNEL = Mastodon()

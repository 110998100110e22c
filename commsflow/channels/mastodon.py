"""Mastodon statuses: the same wording as the LinkedIn drafts, sent with an idempotency key."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Mastodon(SocialChannel):
    name = "mastodon"
    title = "Mastodon"
    publishers = ("outbox", "mastodon")


CHANNEL = Mastodon()

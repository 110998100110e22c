"""A webhook: the post's text and link as JSON for the team's own tools."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Webhook(SocialChannel):
    name = "webhook"
    title = "Webhook"
    publishers = ("outbox", "webhook")
    social = False  # the LinkedIn wording as it is: an item has no webhook text of its own


CHANNEL = Webhook()

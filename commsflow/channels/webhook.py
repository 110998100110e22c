"""A webhook: the post's text and link as JSON for the team's own tools."""

from __future__ import annotations

from commsflow.channels._social import SocialChannel


class Webhook(SocialChannel):
    name = "webhook"
    title = "Webhook"
    publishers = ("outbox", "webhook")
    social = feed = False  # the LinkedIn wording as it is, for the team's tools: no text of its own, no feed


CHANNEL = Webhook()

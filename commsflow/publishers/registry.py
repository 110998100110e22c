"""The publishers by name: what a campaign step's ``publisher`` (default ``outbox``) means."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from commsflow.config import Config
from commsflow.errors import CommsflowError, closest
from commsflow.i18n import _
from commsflow.publishers.base import Publisher

# name → (module, class); imported on demand, so that the outbox alone needs no HTTP library.
PUBLISHERS = {
    "outbox": ("commsflow.publishers.outbox", "OutboxPublisher"),
    "linkedin": ("commsflow.publishers.linkedin", "LinkedInPublisher"),
    "mastodon": ("commsflow.publishers.mastodon", "MastodonPublisher"),
    "bluesky": ("commsflow.publishers.bluesky", "BlueskyPublisher"),
    "instagram": ("commsflow.publishers.instagram", "InstagramPublisher"),
    "email": ("commsflow.publishers.newsletter_mail", "NewsletterPublisher"),
    "listmonk": ("commsflow.publishers.listmonk", "ListmonkPublisher"),
    "webhook": ("commsflow.publishers.webhook", "WebhookPublisher"),
}
DEFAULT = "outbox"


def publisher_for(name: str, config: Config, state_dir: Path | None = None, environ=os.environ) -> Publisher:
    """The publisher called ``name``, set up from ``config`` and the environment.

    ``state_dir`` is where the outbox goes (default: ``[paths] state``). A publisher whose
    secrets or addresses are missing raises :class:`CommsflowError` saying which to set.
    """
    try:
        module, cls = PUBLISHERS[name]
    except KeyError:
        guess = closest(name, PUBLISHERS)
        raise CommsflowError(
            _("unknown publisher {name!r} (did you mean {guess!r}?)").format(name=name, guess=guess)
            if guess
            else _("unknown publisher {name!r}").format(name=name),
            _("use one of: {choices}").format(choices=", ".join(PUBLISHERS)),
        ) from None
    publisher = getattr(importlib.import_module(module), cls)
    if name == "outbox":
        return publisher.from_env(config, environ, state_dir=state_dir)
    return publisher.from_env(config, environ)


def publisher_of_credential(variable: str) -> str | None:
    """The publisher whose credentials include the environment variable ``variable``."""
    for name, (module, cls) in PUBLISHERS.items():
        if variable in getattr(importlib.import_module(module), cls).credentials:
            return name
    return None

"""The channels, one module each: the registry everything else derives from.

Each module of this package (except ``base``) defines ``CHANNEL``, an instance of
:class:`commsflow.channels.base.Channel`. Configuration choices (``[publishing]``),
campaign validation, one-off ``channels:``, CLI choices, sign-offs and the dashboard's
sections all come from here, so adding a channel is adding a module (plus its
publisher in ``commsflow/publishers/``). See the README, "Adding a channel".
"""

from __future__ import annotations

import importlib
import pkgutil

from commsflow.channels.base import Channel, RenderContext, RenderFailed, Rendition, payload_digest

__all__ = ["Channel", "RenderContext", "RenderFailed", "Rendition", "payload_digest", "get", "names", "registry"]

_REGISTRY: dict[str, Channel] = {}
# The order channels are listed in (dashboard sections, help texts); others follow by name.
_ORDER = ("newsletter", "linkedin", "mastodon", "bluesky", "instagram", "webhook", "press", "ics")


def registry() -> dict[str, Channel]:
    """Every channel by name, discovered once from this package's modules."""
    if not _REGISTRY:
        found: dict[str, Channel] = {}
        for module in pkgutil.iter_modules(__path__):
            if module.name.startswith("_") or module.name == "base":
                continue
            channel = getattr(importlib.import_module(f"{__name__}.{module.name}"), "CHANNEL", None)
            if isinstance(channel, Channel):
                found[channel.name] = channel
        ordered = sorted(found, key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name))
        _REGISTRY.update((name, found[name]) for name in ordered)
    return _REGISTRY


def get(name: str) -> Channel:
    return registry()[name]


def names(**wanted: bool) -> tuple[str, ...]:
    """Channel names, optionally only those with the given flags, e.g. ``names(steps=True)``."""
    return tuple(
        name
        for name, channel in registry().items()
        if all(getattr(channel, flag) == value for flag, value in wanted.items())
    )

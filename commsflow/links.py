"""Addresses in outputs: where an item lives on the web, campaign tracking, link checks."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from commsflow.config import Config
from commsflow.i18n import _
from commsflow.model import Item

# Schemes a reader's mail client can follow besides the web.
_MAIL_SCHEMES = ("mailto:", "tel:")
_HREF = re.compile(r'(<a\s[^>]*?href=")([^"]*)(")', re.IGNORECASE)


def item_url(item: Item, config: Config) -> str | None:
    """The item's web address: its own ``url``, else (news) the original article, else
    (projects) the project website, else the pattern from ``[links]``."""
    meta = item.meta
    if meta.url:
        return meta.url
    if item.kind == "news" and meta.link:
        return meta.link
    pattern = getattr(config.links, item.kind, None)
    if pattern:
        return pattern.replace("{slug}", item.slug)
    if item.kind == "project" and meta.website:
        return meta.website
    return None


def own_addresses(library, config: Config) -> set[str]:
    """Every item's own web address, normalised (:func:`normalised`)."""
    found = set()
    for item in library:
        url = item_url(item, config)
        if url:
            found.add(normalised(url))
    return found


def normalised(url: str) -> str:
    """Host and path: a link to an item's address is alive whatever its form."""
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def ics_url(config: Config, slug: str) -> str:
    """Where an event's calendar file is published (the build folder's ``events/``)."""
    return f"{config.links.public_url}events/{slug}.ics"


def is_own(url: str, config: Config) -> bool:
    return url.startswith(config.own_site)


def with_utm(url: str, *, source: str, medium: str, campaign: str) -> str:
    """``url`` with UTM parameters added; parameters already there are kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    for key, value in (("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)):
        if key not in present:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def rewrite_hrefs(html: str, change) -> str:
    """Apply ``change(url) -> url`` to every link target in HTML we rendered ourselves
    (cmark writes ``href="…"`` with the quote escaped inside, so a pattern is enough)."""
    return _HREF.sub(lambda m: m[1] + change(_unescape(m[2])).replace("&", "&amp;").replace('"', "&quot;") + m[3], html)


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


def link_problem(url: str) -> str | None:
    """Why ``url`` cannot stand in an e-mail, or None when it can."""
    lowered = url.strip().lower()
    if lowered.startswith(("http://", "https://")):
        return None if urlsplit(url).netloc else _("has no host")
    if lowered.startswith(_MAIL_SCHEMES):
        return None
    if not lowered or lowered.startswith(("/", "#", ".")) or ":" not in lowered.split("/")[0]:
        return _("is relative; mail clients cannot resolve it")
    return _("uses {scheme}:, not http(s)").format(scheme=lowered.split(":")[0])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("href", "src"):
            if name in attributes and tag in ("a", "img", "link", "script", "iframe", "source", "area"):
                self.found.append((tag, name, attributes[name] or "", attributes))


def references(html: str) -> list[tuple[str, str, str, dict]]:
    """Every (tag, attribute, url, attributes) that makes a link or loads something."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.found

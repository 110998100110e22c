"""mastodon: a public status on the organisation's Mastodon account (e.g. on social.bund.de).

The instance's limits are read once from ``GET {instance}/api/v2/instance``
(``configuration.statuses.max_characters``, 500 where not given, and
``characters_reserved_per_url``, 23); the status is the draft's text with the link,
fitted by :func:`status_text`, sent as ``POST {instance}/api/v1/statuses`` with an
``Idempotency-Key`` derived from the job id: Mastodon returns the existing status for a
key it has seen (it remembers keys for about an hour), so sending again after a crash
does not post twice.

Environment: ``COMMSFLOW_MASTODON_TOKEN`` (required; an access token with the
``write:statuses`` scope) and ``COMMSFLOW_MASTODON_INSTANCE`` (default: the host of
``[social] mastodon_account``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient
from commsflow.publishers.http import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    http_url,
    new_session,
    origin,
    request,
    retry_after,
    server_says,
    token_from,
)
from commsflow.publishers.secrets import one_line

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_LENGTH = 23
TOKEN_HINT = N_(
    "create an access token with the write:statuses scope (Einstellungen → Entwicklung) "
    "and set COMMSFLOW_MASTODON_TOKEN"
)  # shown as _(TOKEN_HINT)

# --- the status text --------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\")]}…“”‘’»«"
_HASHTAG = re.compile(r"#\w*[^\W\d_]\w*")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
# A LinkedIn mention, @[Name](urn:li:organization:123): on Mastodon just the name.
_LINKEDIN_MENTION = re.compile(r"@\[([^\[\]\n]*)\]\(urn:li:(?:organization|person):[0-9A-Za-z_-]+\)")
_ELLIPSIS = " …"
# Left at the end of a shortened text, these would dangle before the „…“.
_DANGLING = " \t\n,;:–—-(/„‚»«\"'"


def _urls(text: str) -> list[tuple[int, int]]:
    """Spans of the addresses Mastodon links (and counts as ``characters_reserved_per_url``)."""
    spans = []
    for match in _URL.finditer(text):
        url = match[0].rstrip(_URL_TRAILING)
        if "." in (urlsplit(url).hostname or ""):
            spans.append((match.start(), match.start() + len(url)))
    return spans


def status_length(text: str, url_length: int = DEFAULT_URL_LENGTH) -> int:
    """Characters as Mastodon counts them: every address as ``url_length``.

    Mastodon counts grapheme clusters and ``@name@host`` as ``@name``; counting code points
    and whole mentions can only come out higher, so a text that fits here fits there.
    """
    return len(text) + sum(url_length - (end - start) for start, end in _urls(text))


def _split_hashtags(text: str) -> tuple[str, list[str]]:
    """The text without its closing paragraph of hashtags, and those hashtags."""
    paragraphs = _PARAGRAPH.split(text)
    words = paragraphs[-1].split()
    if words and all(_HASHTAG.fullmatch(word) for word in words):
        return "\n\n".join(paragraphs[:-1]).strip(), words
    return text, []


def _cut(words: list[str], count: int) -> str:
    """The first ``count`` words (with the whitespace between them) and „…“ — and the
    closing quotation mark or bracket, where the cut is inside a quotation or brackets."""
    text = "".join(words[: 2 * count - 1]).rstrip(_DANGLING)
    if not text:
        return ""
    closing = "“" * max(0, text.count("„") - text.count("“")) + ")" * max(0, text.count("(") - text.count(")"))
    return text + _ELLIPSIS + closing


def status_text(
    text: str, link: str | None, max_characters: int = DEFAULT_MAX_CHARACTERS, url_length: int = DEFAULT_URL_LENGTH
) -> str:
    """The status for ``text`` and ``link`` within ``max_characters`` as Mastodon counts them.

    The text comes first, then the link (unless the text already has it), then the
    text's closing hashtags. Where it is too long, the text is cut after a whole word and
    ends in „…“; the hashtags stay while the text can keep at least half the room (or all
    of itself), else they go from the last one on. The link always stays.
    """
    text = _LINKEDIN_MENTION.sub(r"\1", text.replace("\r\n", "\n"))
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    body, tags = _split_hashtags(text)

    def compose(body: str, tags: list[str]) -> str:
        parts = [body] if body else []
        if link and not any(body[start:end] == link for start, end in _urls(body)):
            parts.append(link)
        if tags:
            parts.append(" ".join(tags))
        return "\n\n".join(parts)

    def fits(candidate: str) -> bool:
        return status_length(candidate, url_length) <= max_characters

    if fits(compose(body, tags)):
        return compose(body, tags)
    words = re.split(r"(\s+)", body)  # words at even places, whitespace at odd ones
    total = (len(words) + 1) // 2
    keep = min(status_length(body, url_length), (max_characters - status_length(compose("", []), url_length)) // 2)
    for count in range(len(tags), -1, -1):
        kept = tags[:count]
        if fits(compose(body, kept)):
            return compose(body, kept)
        # The most words that fit: the length grows with the number of words, so bisect.
        low, high = 0, total - 1
        while low < high:
            middle = (low + high + 1) // 2
            if fits(compose(_cut(words, middle), kept)):
                low = middle
            else:
                high = middle - 1
        short = _cut(words, low)
        if not fits(compose(short, kept)):
            continue  # not even the link and these hashtags fit
        if count == 0 or status_length(short, url_length) >= keep:
            return compose(short, kept)
    return link or ""


# --- the publisher ----------------------------------------------------------------------------


def idempotency_key(job_id: str) -> str:
    """The same job always sends the same key; fixed length, header-safe."""
    return "commsflow-" + hashlib.blake2b(job_id.encode("utf-8"), digest_size=16).hexdigest()


def instance_of(account: str | None) -> str | None:
    """``https://social.bund.de`` for ``@name@social.bund.de``."""
    if not account:
        return None
    parts = account.strip().lstrip("@").split("@")
    return f"https://{parts[1]}" if len(parts) == 2 and parts[0] and parts[1] else None


@dataclass(frozen=True)
class MastodonSettings:
    instance: str
    token: str = field(repr=False)
    language: str = "de"
    visibility: str = "public"
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, config: Config | None, environ=os.environ) -> MastodonSettings:
        token = token_from(environ, "COMMSFLOW_MASTODON_TOKEN", "mastodon", _(TOKEN_HINT))
        account = config.social.mastodon_account if config else None
        instance = environ.get("COMMSFLOW_MASTODON_INSTANCE", "").strip() or instance_of(account)
        if not instance:
            hint = (
                _("write [social] mastodon_account as '@name@host'")
                if account
                else _("set [social] mastodon_account = '@name@host' in commsflow.toml or COMMSFLOW_MASTODON_INSTANCE")
            )
            raise CommsflowError(_("mastodon: no instance to post to"), hint)
        language = config.organisation.locale if config else "de"
        return cls(http_url(instance, "COMMSFLOW_MASTODON_INSTANCE"), token, language)


@dataclass(frozen=True)
class Limits:
    max_characters: int = DEFAULT_MAX_CHARACTERS
    url_length: int = DEFAULT_URL_LENGTH


class MastodonPublisher:
    name = "mastodon"
    deduplicates = True  # Idempotency-Key …
    dedup_window = 3600.0  # … which Mastodon remembers for an hour (seconds): re-send only within it

    def __init__(self, settings: MastodonSettings, session: requests.Session | None = None):
        self.settings = settings
        self._session = session or new_session()
        self._limits: Limits | None = None

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> MastodonPublisher:
        return cls(MastodonSettings.from_env(config, environ))

    def __repr__(self) -> str:
        return f"MastodonPublisher({self.settings.instance})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return (self.settings.token,)

    def limits(self, channel: str = "mastodon") -> Limits:
        """The instance's status limits, asked once; Mastodon's defaults where it does not say."""
        if self._limits is None:
            response = self._call("GET", "/api/v2/instance", channel)
            if response.status_code in (404, 410):  # before Mastodon 4.0: the defaults
                self._limits = Limits()
            else:
                self._check(response, channel, _("reading the instance's limits"))
                try:
                    statuses = response.json()["configuration"]["statuses"]
                except (ValueError, KeyError, TypeError):
                    statuses = {}
                self._limits = Limits(
                    _positive(statuses, "max_characters", DEFAULT_MAX_CHARACTERS),
                    _positive(statuses, "characters_reserved_per_url", DEFAULT_URL_LENGTH),
                )
        return self._limits

    def publish(self, payload: Payload) -> Receipt:
        channel = payload.channel
        limits = self.limits(channel)
        status = status_text(payload.text, payload.link, limits.max_characters, limits.url_length)
        if not status:
            raise Permanent(
                _("{channel}: nothing to post for {item} (no text, no link) — check the draft").format(
                    channel=channel, item=payload.item
                )
            )
        response = self._call(
            "POST",
            "/api/v1/statuses",
            channel,
            json={"status": status, "visibility": self.settings.visibility, "language": self.settings.language},
            headers={"Idempotency-Key": idempotency_key(payload.job_id)},
        )
        self._check(response, channel, _("posting"))
        try:
            data = response.json()
            status_id = one_line(str(data["id"]), self.secrets, 64)
        except (ValueError, KeyError, TypeError):
            status_id = ""
        if not status_id:
            return Receipt(
                channel,
                "",
                note=_("posted, but {where} sent no status id").format(where=origin(self.settings.instance)),
            )
        url = next((data[key] for key in ("url", "uri") if isinstance(data.get(key), str) and data[key]), "")
        url = one_line(url, self.secrets, 300) if url.startswith(("https://", "http://")) else ""
        return Receipt(channel, status_id, url=url or None)

    def _call(self, method: str, path: str, channel: str, **kwargs) -> requests.Response:
        return request(
            self._session,
            method,
            self.settings.instance + path,
            channel=channel,
            timeout=self.settings.timeout,
            auth=BearerAuth(self.settings.token),
            hint=_("check COMMSFLOW_MASTODON_INSTANCE and the network"),
            **kwargs,
        )

    def _check(self, response: requests.Response, channel: str, doing: str) -> None:
        """``doing``: what was asked, as in „while {doing}“ (translated)."""
        status = response.status_code
        if 200 <= status < 300:
            return
        where = origin(self.settings.instance)
        said = server_says(response, self.secrets)
        said = f": {said}" if said else ""
        if status in (401, 403):
            raise Permanent(
                _("{channel}: {where} refused the token while {doing} ({status}){said} — {hint}").format(
                    channel=channel, where=where, doing=doing, status=status, said=said, hint=_(TOKEN_HINT)
                ),
                status=status,
            )
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"))
            if wait is None:  # Mastodon itself sends only X-RateLimit-Reset, an ISO 8601 time
                wait = retry_after(response.headers.get("X-RateLimit-Reset"))
            raise Transient(
                _(
                    "{channel}: {where} answered 429 (rate limit) while {doing}{said} — it will be tried again later"
                ).format(channel=channel, where=where, doing=doing, said=said),
                retry_after=wait,
                status=status,
            )
        if status >= 500:
            raise Transient(
                _("{channel}: {where} answered {status} while {doing}{said} — it will be tried again later").format(
                    channel=channel, where=where, status=status, doing=doing, said=said
                ),
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status == 422:
            raise Permanent(
                _("{channel}: {where} rejected the status ({status}){said} — check the draft's text and link").format(
                    channel=channel, where=where, status=status, said=said
                ),
                status=status,
            )
        raise Permanent(
            _("{channel}: {where} answered {status} while {doing}{said} — check COMMSFLOW_MASTODON_INSTANCE").format(
                channel=channel, where=where, status=status, doing=doing, said=said
            ),
            status=status,
        )


def _positive(data: dict, key: str, default: int) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

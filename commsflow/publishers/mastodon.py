"""mastodon: a public status on the organisation's Mastodon account (e.g. on social.bund.de).

The instance's limits are read once from ``GET {instance}/api/v2/instance``
(``configuration.statuses.max_characters``, 500 where not given, and
``characters_reserved_per_url``, 23); the status is the payload's text as built and signed
off (fitted to ``[social] mastodon_max_characters`` by the channel; a longer one than the
instance takes is refused, not cut), sent as ``POST {instance}/api/v1/statuses`` with an
``Idempotency-Key`` derived from the job id: Mastodon returns the existing status for a
key it has seen (it remembers keys for about an hour), so sending again after a crash
does not post twice.

Environment: ``COMMSFLOW_MASTODON_TOKEN`` (required; an access token with the
``write:statuses`` scope) and ``COMMSFLOW_MASTODON_INSTANCE`` (default: the host of
``[social] mastodon_account``).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient, attachment
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
    try_later,
)
from commsflow.publishers.secrets import one_line
from commsflow.renderers.short_post import (  # noqa: F401 - status_length: part of this module's interface
    DEFAULT_MAX_CHARACTERS,
    DEFAULT_URL_LENGTH,
    status_length,
    status_text,
)

MEDIA_WAIT, MEDIA_POLL = 30.0, 1.0  # seconds: how long an uploaded image may take to be processed, how often asked
TOKEN_HINT = N_(
    "create an access token with the write:statuses scope (Einstellungen → Entwicklung) "
    "and set COMMSFLOW_MASTODON_TOKEN"
)  # shown as _(TOKEN_HINT)

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
    credentials = ("COMMSFLOW_MASTODON_TOKEN",)  # the environment variables that expire (alerts tell before they do)
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
        status = payload.text  # the status as built and signed off (channels.mastodon): posted as it is
        if not status:
            raise Permanent(
                _("{channel}: nothing to post for {item} (no text, no link) — check the draft").format(
                    channel=channel, item=payload.item
                )
            )
        length = status_length(status, limits.url_length)
        if length > limits.max_characters:  # cutting it here would post a text nobody signed off
            raise Permanent(
                _(
                    "{channel}: the status has {count} characters; {where} takes {limit} — set "
                    "mastodon_max_characters = {limit} under [social] in commsflow.toml, build, and sign off again"
                ).format(
                    channel=channel, count=length, where=origin(self.settings.instance), limit=limits.max_characters
                )
            )
        sent = {"status": status, "visibility": self.settings.visibility, "language": self.settings.language}
        media = [self._upload(payload, attached, channel) for attached in (payload.body or {}).get("media", [])]
        if media:
            sent["media_ids"] = media
        response = self._call(
            "POST",
            "/api/v1/statuses",
            channel,
            json=sent,
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

    def _upload(self, payload: Payload, attached: dict, channel: str) -> str:
        """One image through the media API (``POST /api/v2/media`` with its ``description``,
        the alt text); its id. A 202 means Mastodon is still processing it: asked again
        (``GET /api/v1/media/:id``, 206 while processing) until it is ready, at most
        :data:`MEDIA_WAIT` seconds."""
        name = attached.get("file", "")
        data, mime = attachment(payload, name)
        response = self._call(
            "POST",
            "/api/v2/media",
            channel,
            files={"file": ("image" + (mimetypes.guess_extension(mime) or ""), data, mime)},
            data={"description": attached.get("description", "")},
        )
        self._check(response, channel, _("uploading the image"))
        try:
            media_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Permanent(
                _("{channel}: {where} answered the image upload without an id").format(
                    channel=channel, where=origin(self.settings.instance)
                )
            ) from None
        deadline = time.monotonic() + MEDIA_WAIT
        # 202 from the upload, 206 from the media's own address: still processing.
        while response.status_code in (202, 206) and time.monotonic() < deadline:
            time.sleep(MEDIA_POLL)
            response = self._call("GET", f"/api/v1/media/{quote(media_id, safe='')}", channel)
            self._check(response, channel, _("waiting for the image to be processed"))
        if response.status_code in (202, 206):
            raise Transient(
                _("{channel}: {where} is still processing the image — it will be tried again later").format(
                    channel=channel, where=origin(self.settings.instance)
                )
            )
        return media_id

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
            raise try_later(response, channel, where, doing, said, wait=wait)
        if status >= 500:
            raise try_later(response, channel, where, doing, said)
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

"""webhook: a JSON POST that tells the team's chat (or any other service) what went out.

The address comes from ``COMMSFLOW_WEBHOOK_URL`` only. Such addresses carry their secret
in the path or query (``https://chat.example.org/hooks/T0/B0/Xyz…``), so messages show
only ``scheme://host`` and of the server's answer only a short line with every part of
the address that may be its secret scrubbed (:mod:`commsflow.publishers.secrets`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient
from commsflow.publishers.http import DEFAULT_TIMEOUT, http_url, new_session, origin, request, retry_after, server_says


def _url_secrets(url: str) -> list[str]:
    """The parts of a webhook address that may be its secret: its path and query (whole and
    as path segments and query values) and a user name and password in it. Scheme and host
    are not secret (messages show them)."""
    parts = urlsplit(url)
    found = [parts.path, parts.query, parts.path + ("?" + parts.query if parts.query else "")]
    found += [parts.netloc.rpartition("@")[0]] if "@" in parts.netloc else []
    found += [parts.username or "", parts.password or ""]
    found += [segment for segment in parts.path.split("/") if len(segment) >= 6]
    found += [value for _, value in parse_qsl(parts.query) if len(value) >= 4]
    return [part for part in found if part and part != "/"]


@dataclass(frozen=True)
class WebhookSettings:
    url: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        return origin(self.url)


class WebhookPublisher:
    """POSTs ``{"job", "channel", "item", "kind", "title", "text", "link"}`` as JSON.

    2xx → receipt (id: the job id); 429, 5xx and no connection → :class:`Transient`;
    other 4xx and redirects → :class:`Permanent`. Not de-duplicating: a webhook cannot be
    told that it has seen a job before.
    """

    name = "webhook"
    credentials = ("COMMSFLOW_WEBHOOK_URL",)  # the environment variables that expire (alerts tell before they do)
    deduplicates = False

    def __init__(self, settings: WebhookSettings, session: requests.Session | None = None):
        self.settings = settings
        self._session = session or new_session()

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> WebhookPublisher:
        url = environ.get("COMMSFLOW_WEBHOOK_URL", "").strip()
        if not url:
            raise CommsflowError(
                _("webhook: no address configured (COMMSFLOW_WEBHOOK_URL is not set)"),
                _("set COMMSFLOW_WEBHOOK_URL to the chat's incoming-webhook address"),
            )
        return cls(WebhookSettings(http_url(url, "COMMSFLOW_WEBHOOK_URL")))

    def __repr__(self) -> str:
        return f"WebhookPublisher({self.settings.where})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return tuple(_url_secrets(self.settings.url))

    def publish(self, payload: Payload) -> Receipt:
        body = {
            "job": payload.job_id,
            "channel": payload.channel,
            "item": payload.item,
            "kind": payload.kind,
            "title": payload.title,
            "text": payload.text,
            "link": payload.link,
        }
        channel, where = payload.channel, self.settings.where
        hint = _("check COMMSFLOW_WEBHOOK_URL and that the service is up")
        response = request(
            self._session,
            "POST",
            self.settings.url,
            channel=f"{channel} (webhook)",
            timeout=self.settings.timeout,
            hint=hint,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        status = response.status_code
        if 200 <= status < 300:
            return Receipt(channel=channel, id=payload.job_id)
        said = server_says(response, self.secrets, limit=120)
        said = f": {said}" if said else ""
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"))
            raise Transient(
                _(
                    "{channel} (webhook): {where} answered 429 (too many requests){said} — it will be tried again later"
                ).format(channel=channel, where=where, said=said),
                retry_after=wait,
                status=status,
            )
        if status >= 500:
            raise Transient(
                _("{channel} (webhook): {where} answered {status}{said} — it will be tried again later").format(
                    channel=channel, where=where, status=status, said=said
                ),
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if 300 <= status < 400:
            raise Permanent(
                _(
                    "{channel} (webhook): {where} answered {status} (a redirect) — "
                    "set COMMSFLOW_WEBHOOK_URL to the final address"
                ).format(channel=channel, where=where, status=status),
                status=status,
            )
        if status in (401, 403, 404, 410):
            raise Permanent(
                _(
                    "{channel} (webhook): {where} answered {status}{said} — the address is wrong, "
                    "revoked or expired; create a new webhook and set COMMSFLOW_WEBHOOK_URL"
                ).format(channel=channel, where=where, status=status, said=said),
                status=status,
            )
        raise Permanent(
            _(
                "{channel} (webhook): {where} answered {status}{said} — "
                "the service rejected the message; check what it expects"
            ).format(channel=channel, where=where, status=status, said=said),
            status=status,
        )

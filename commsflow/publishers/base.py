"""What every publisher is: one call that either returns a receipt or raises a classified error.

The scheduler renders a job into a :class:`Payload` and hands it to the channel's
publisher. A publisher never decides whether to retry; it says whether a failure is
:class:`Transient` (connection trouble, HTTP 429 with its Retry-After, 5xx: try again
later) or :class:`Permanent` (401/403/422 and the like: a person must act), and
whether re-sending after a crash is safe (``deduplicates``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol


@dataclass(frozen=True)
class Payload:
    """One job's rendered output, as the channel needs it."""

    job_id: str  # deterministic; also the idempotency key where a channel supports one
    channel: str  # linkedin, mastodon, newsletter, press, webhook …
    item: str  # the item's slug or the newsletter issue id
    kind: str  # draft or release kind: save-the-date, article, newsletter, invitation …
    title: str
    text: str  # the text as readers see it (LinkedIn commentary unescaped, release as plain text)
    link: str | None = None  # the article/page the post points to (with tracking parameters)
    body: dict | None = None  # an API request body built by the drafts (LinkedIn Posts API)
    message: EmailMessage | None = None  # a complete e-mail (newsletter issue)
    files: dict[str, bytes] = field(default_factory=dict)  # rendered files for the outbox (name → bytes)
    when: datetime | None = None  # when readers are to get it, where a service schedules (a newsletter's send_at)


@dataclass(frozen=True)
class Receipt:
    """Proof that something went out: the channel's own id and, where there is one, its address."""

    channel: str
    id: str  # post URN, status id, Message-ID, outbox file name …
    url: str | None = None
    note: str | None = None  # e.g. "already posted (LinkedIn answered 422 duplicate)"


class PublishError(Exception):
    transient = False

    def __init__(self, reason: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds, from the server's Retry-After where given
        self.status = status


class Transient(PublishError):
    """Try again later: the connection failed, the server is busy (429) or broken (5xx)."""

    transient = True


class Permanent(PublishError):
    """Retrying will not help: refused credentials (401/403), a rejected request (4xx)."""


class Publisher(Protocol):
    name: str
    # True when sending the same payload twice cannot post twice (an idempotency key,
    # a duplicate check on the other side, a file that exists): then a job found
    # "sending" after a crash is sent again; otherwise a person checks it.
    deduplicates: bool
    # The environment variables holding its credentials: the alerts about one expiring name the
    # channels that use this publisher.
    credentials: tuple[str, ...]
    # Everything no message, receipt or ledger note may show, in any form (tokens, passwords,
    # the secret parts of an address): the scheduler scrubs what it records with these too.
    secrets: tuple[str, ...]

    def publish(self, payload: Payload) -> Receipt: ...


def attachment(payload: Payload, name: str) -> tuple[bytes, str]:
    """The bytes and type of the payload's file ``name`` to upload (an image from the web,
    fetched now and fitted to the channel's limits); a missing or unusable one is
    :class:`Permanent`, a web server that does not answer :class:`Transient`."""
    from commsflow import channels, media
    from commsflow.i18n import _

    if name not in payload.files:
        raise Permanent(
            _("{channel}: the image {name} of {job} is missing — build again").format(
                channel=payload.channel, name=name, job=payload.job_id
            )
        )
    try:
        return media.attachment(payload.files, name, channels.get(payload.channel).image_limits)
    except media.ImageRefused as exc:
        error = Transient if exc.transient else Permanent
        raise error(f"{payload.channel}: {exc.message} — {exc.hint}") from None

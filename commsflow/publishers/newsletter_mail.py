"""email: sends a newsletter issue over SMTP to ``[newsletter] list_address``.

The SMTP server comes from the ``COMMSFLOW_SMTP_*`` variables, as for ``newsletter
send-test`` (:mod:`commsflow.publishers.email`). The receipt is the message's
Message-ID. A mail cannot be unsent and a list server does not de-duplicate, so
``deduplicates`` is False; a send that broke off while the message was being handed
over is reported as :class:`Permanent` ("may have gone out"), for a person to check,
and never retried on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.publishers import email as smtp
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient


@dataclass(frozen=True)
class NewsletterSettings:
    smtp: smtp.SmtpSettings
    list_address: str


class NewsletterPublisher:
    name = "email"
    credentials = ("COMMSFLOW_SMTP_PASSWORD",)  # the environment variables that expire (alerts tell before they do)
    deduplicates = False  # mail cannot be unsent

    def __init__(self, settings: NewsletterSettings):
        self.settings = settings

    @classmethod
    def from_env(cls, config: Config, environ=os.environ) -> NewsletterPublisher:
        address = config.newsletter.list_address
        if not address:
            raise CommsflowError(
                _("email: no list address to send newsletter issues to"),
                _("set [newsletter] list_address in commsflow.toml"),
            )
        return cls(NewsletterSettings(smtp.SmtpSettings.from_env(environ), address))

    def __repr__(self) -> str:
        return f"NewsletterPublisher({self.settings.smtp.where} → {self.settings.list_address})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return self.settings.smtp.secrets

    def publish(self, payload: Payload) -> Receipt:
        channel, message = payload.channel, payload.message
        if message is None:
            raise Permanent(
                _(
                    "{channel}: {item} has no e-mail to send — build the issue "
                    "(commsflow newsletter build) before it is due"
                ).format(channel=channel, item=payload.item)
            )
        if not message["Message-ID"]:
            raise Permanent(
                _(
                    "{channel}: the e-mail of {item} has no Message-ID — build it with commsflow's newsletter renderer"
                ).format(channel=channel, item=payload.item)
            )
        try:
            message_id = smtp.send(message, [self.settings.list_address], self.settings.smtp)
        except smtp.SmtpError as exc:
            error = exc
        else:
            return Receipt(channel, str(message_id))
        if error.delivered:
            return Receipt(
                channel,
                str(message["Message-ID"]),
                note=_("accepted by the server; closing the connection failed ({error})").format(error=error.message),
            )
        if error.delivered is None:
            raise Permanent(
                _(
                    "{channel}: the connection broke while {item} was being handed over: "
                    "{error} — it may have gone out to {address}; "
                    "check the list's archive or a subscriber's inbox before sending it again"
                ).format(channel=channel, item=payload.item, error=error.message, address=self.settings.list_address)
            )
        if error.transient:
            raise Transient(
                _("{channel}: {error} — it will be tried again later; {hint}").format(
                    channel=channel, error=error.message, hint=error.hint
                )
            )
        raise Permanent(f"{channel}: {error}")

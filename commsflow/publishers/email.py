"""Sending e-mail through the team's SMTP server.

Settings come from the environment only, so that no password sits in a file in the
repository:

``COMMSFLOW_SMTP_HOST`` (required), ``COMMSFLOW_SMTP_PORT`` (default 587, 465 with
ssl, 25 without encryption), ``COMMSFLOW_SMTP_SECURITY`` (``starttls`` — default —,
``ssl`` or ``none``), ``COMMSFLOW_SMTP_USER`` and ``COMMSFLOW_SMTP_PASSWORD`` (both
or neither), ``COMMSFLOW_SMTP_TIMEOUT`` (seconds, default 30) and
``COMMSFLOW_SMTP_CAFILE`` (a CA bundle for a server with an in-house certificate).

The password is never printed: error messages are built from what we know, and of any
text a server sends back only a short line is shown, with every form of the password
scrubbed (:mod:`commsflow.publishers.secrets`).

Every failure of :func:`send` is an :class:`SmtpError` (a :class:`CommsflowError`, so
the CLI shows it as before) that also says whether trying again later may help and how
far the message got — what the scheduler's newsletter publisher needs to know.
"""

from __future__ import annotations

import base64
import hmac
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.publishers.secrets import one_line

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class SmtpError(CommsflowError):
    """A failed send, classified.

    ``transient``: trying again later may work (no connection, a timeout, a 4xx reply such
    as greylisting). ``delivered``: ``False`` when the server has not taken the message,
    ``None`` when the connection broke while it was being handed over (it may have gone
    out), ``True`` when the server took it and only saying goodbye failed.
    """

    def __init__(
        self, message: str, hint: str | None = None, *, transient: bool = False, delivered: bool | None = False
    ):
        super().__init__(message, hint)
        self.transient = transient
        self.delivered = delivered


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None = field(repr=False)
    timeout: float
    cafile: str | None

    @classmethod
    def from_env(cls, environ=os.environ) -> SmtpSettings:
        host = environ.get("COMMSFLOW_SMTP_HOST", "").strip()
        if not host:
            raise CommsflowError(
                _("no SMTP server configured (COMMSFLOW_SMTP_HOST is not set)"),
                _(
                    "set COMMSFLOW_SMTP_HOST, and COMMSFLOW_SMTP_USER/COMMSFLOW_SMTP_PASSWORD if the server needs a login"
                ),
            )
        security = environ.get("COMMSFLOW_SMTP_SECURITY", "starttls").strip().lower()
        if security not in _DEFAULT_PORTS:
            raise CommsflowError(
                _("COMMSFLOW_SMTP_SECURITY={value!r} is not known").format(value=security),
                _("use starttls (port 587), ssl (port 465) or none (local relays only)"),
            )
        port_text = environ.get("COMMSFLOW_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else _DEFAULT_PORTS[security]
            timeout = float(environ.get("COMMSFLOW_SMTP_TIMEOUT", "30"))
        except ValueError:
            raise CommsflowError(
                _("COMMSFLOW_SMTP_PORT and COMMSFLOW_SMTP_TIMEOUT must be numbers"), _("e.g. COMMSFLOW_SMTP_PORT=587")
            ) from None
        user = environ.get("COMMSFLOW_SMTP_USER") or None
        password = environ.get("COMMSFLOW_SMTP_PASSWORD") or None
        if bool(user) != bool(password):
            raise CommsflowError(
                _("COMMSFLOW_SMTP_USER and COMMSFLOW_SMTP_PASSWORD must be set together"),
                _("set both for a server that needs a login, or neither"),
            )
        return cls(host, port, security, user, password, timeout, environ.get("COMMSFLOW_SMTP_CAFILE") or None)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()


def _scrub(text: str, settings: SmtpSettings) -> str:
    """What a message may show of ``text`` from the server: one short line, every form of the
    password a server could echo (plain, base64, in a SASL PLAIN string, cut short …) removed."""
    return one_line(text, settings.secrets)


class _Utf8Auth:
    """AUTH with credentials encoded as UTF-8.

    smtplib encodes the AUTH responses (and the CRAM-MD5 key) as ASCII, so a password
    such as ``geheim-Ü-123!`` fails with UnicodeEncodeError before anything is sent.
    RFC 4616 (PLAIN) and RFC 4954 specify UTF-8; servers accept it for LOGIN too.
    """

    def auth(self, mechanism, authobject, *, initial_response_ok=True):
        mechanism = mechanism.upper()
        initial_response = authobject() if initial_response_ok else None
        if initial_response is not None:
            code, resp = self.docmd("AUTH", f"{mechanism} {_b64(initial_response)}")
            challenges = 1
        else:
            code, resp = self.docmd("AUTH", mechanism)
            challenges = 0
        while code == 334:
            challenges += 1
            code, resp = self.docmd(_b64(authobject(base64.decodebytes(resp))))
            if challenges > 5:  # as smtplib: a server that keeps challenging is broken
                raise smtplib.SMTPException(_("the server's AUTH exchange does not end"))
        if code in (235, 503):
            return code, resp
        raise smtplib.SMTPAuthenticationError(code, resp)

    def auth_cram_md5(self, challenge=None):
        if challenge is None:
            return None
        return f"{self.user} {hmac.HMAC(self.password.encode('utf-8'), challenge, 'md5').hexdigest()}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class _SMTP(_Utf8Auth, smtplib.SMTP):
    pass


class _SMTP_SSL(_Utf8Auth, smtplib.SMTP_SSL):
    pass


def send(message: EmailMessage, recipients: list[str], settings: SmtpSettings) -> str:
    """Deliver ``message`` to ``recipients``; returns its Message-ID. Raises :class:`SmtpError`."""
    try:
        context = ssl.create_default_context(cafile=settings.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise SmtpError(
            _("COMMSFLOW_SMTP_CAFILE: cannot read {path} ({reason})").format(
                path=settings.cafile, reason=exc.strerror or exc
            ),
            _("point COMMSFLOW_SMTP_CAFILE at a PEM file with the server's CA certificate"),
        ) from None
    delivered: bool | None = False  # None while the message is being handed over, True once it was taken
    try:
        if settings.security == "ssl":
            client = _SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.user:
                client.login(settings.user, settings.password)
            delivered = None
            refused = client.send_message(message, to_addrs=recipients)
            delivered = True
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpError(
            _("{where}: login as {user!r} refused ({code})").format(
                where=settings.where, user=settings.user, code=exc.smtp_code
            ),
            _("check COMMSFLOW_SMTP_USER and COMMSFLOW_SMTP_PASSWORD"),
            transient=_temporary(exc.smtp_code),
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise SmtpError(
            _("{where}: the server does not offer STARTTLS or login").format(where=settings.where),
            _("set COMMSFLOW_SMTP_SECURITY to match the server (ssl on port 465?)"),
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        # Every recipient refused: nothing was sent. 4xx for all of them (greylisting) passes.
        codes = [answer[0] for answer in exc.recipients.values() if isinstance(answer, tuple)]
        raise SmtpError(
            _("{where}: recipients refused: {recipients}").format(
                where=settings.where, recipients=", ".join(exc.recipients)
            ),
            _("check the addresses"),
            transient=bool(codes) and all(_temporary(code) for code in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        # A reply is definite: until the server took the message, it did not send it.
        reply = _scrub(
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error),
            settings,
        )
        raise SmtpError(
            _("{where}: the server answered {code} {reply}").format(
                where=settings.where, code=exc.smtp_code, reply=reply
            ),
            _("check the sender address and the server's rules"),
            transient=_temporary(exc.smtp_code),
            delivered=delivered is True,
        ) from None
    except ssl.SSLError as exc:
        raise SmtpError(
            _("{where}: TLS failed ({reason})").format(where=settings.where, reason=exc.reason or exc),
            _("check COMMSFLOW_SMTP_SECURITY and the port; for an in-house certificate set COMMSFLOW_SMTP_CAFILE"),
            delivered=delivered,
        ) from None
    except TimeoutError:
        raise SmtpError(
            _("{where}: no answer within {seconds:g} s").format(where=settings.where, seconds=settings.timeout),
            _("check host and port, or raise COMMSFLOW_SMTP_TIMEOUT"),
            transient=True,
            delivered=delivered,
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = _scrub(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__, settings)
        raise SmtpError(
            _("{where}: cannot send ({reason})").format(where=settings.where, reason=reason),
            _("check COMMSFLOW_SMTP_HOST and COMMSFLOW_SMTP_PORT"),
            transient=True,
            delivered=delivered,
        ) from None
    if refused:
        raise SmtpError(
            _("{where}: recipients refused: {recipients}").format(where=settings.where, recipients=", ".join(refused)),
            _("check the addresses"),
            delivered=True,
        )
    return message["Message-ID"]


def _temporary(code) -> bool:
    """SMTP's 4xx replies mean "not now" (RFC 5321 4.2.1); 5xx mean "not like this"."""
    return isinstance(code, int) and 400 <= code < 500

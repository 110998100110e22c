"""HTTP plumbing the API publishers (LinkedIn, Mastodon, webhook) share: one request with
connection trouble classified as :class:`Transient`, ``Retry-After`` parsing, a bearer
token that no ``~/.netrc`` can replace, and the one line of a server's error answer a message
may show (:func:`server_says`, scrubbed with :func:`commsflow.publishers.secrets.scrub`)."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from commsflow import __version__
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.publishers.base import Permanent, PublishError, Transient
from commsflow.publishers.secrets import LIMIT, WINDOW, one_line, scrub

DEFAULT_TIMEOUT = 30.0  # seconds to connect and, again, to wait for the answer
USER_AGENT = f"commsflow/{__version__}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what a message may show of an address."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "?"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def http_url(value: str, variable: str) -> str:
    """``value`` as an http(s) address without a trailing slash; the message never shows it."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommsflowError(
            _("{variable} is not an http(s) address").format(variable=variable),
            _("set {variable} to an address like https://example.org").format(variable=variable),
        )
    return value


def token_from(environ, variable: str, channel: str, hint: str) -> str:
    """The access token in ``variable``; the messages name the variable, never the value.
    ``hint``: what to do, already in the language messages are in."""
    token = environ.get(variable, "").strip()
    if not token:
        raise CommsflowError(
            _("{channel}: no access token ({variable} is not set)").format(channel=channel, variable=variable), hint
        )
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise CommsflowError(
            _("{channel}: {variable} has characters no access token has (spaces, line breaks, non-ASCII)").format(
                channel=channel, variable=variable
            ),
            _("copy the token again; {hint}").format(hint=hint),
        )
    return token


class BearerAuth(AuthBase):
    """``Authorization: Bearer …`` as a requests auth object, so that a ``~/.netrc`` entry
    for the host cannot replace it and ``repr`` never shows the token."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def request(
    session: requests.Session, method: str, url: str, *, channel: str, timeout: float, hint: str, **kwargs
) -> requests.Response:
    """One HTTP request; no answer → :class:`Transient` that names only the server's origin.
    ``hint``: what to check, already in the language messages are in.

    Redirects are not followed: a POST must not turn into a GET somewhere else.
    The error is raised outside the ``except`` block, so no exception from requests (whose
    text contains the whole address) is chained to it.
    """
    where = origin(url)
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.exceptions.SSLError:
        error: PublishError = Permanent(
            _(
                "{channel}: TLS with {where} failed (certificate not trusted?) — check the address; "
                "for an in-house certificate set REQUESTS_CA_BUNDLE to its CA file"
            ).format(channel=channel, where=where)
        )
    except requests.Timeout:
        error = Transient(
            _("{channel}: {where} did not answer within {seconds:g} s — it will be tried again; {hint}").format(
                channel=channel, where=where, seconds=timeout, hint=hint
            )
        )
    except requests.ConnectionError:
        error = Transient(
            _("{channel}: cannot connect to {where} — it will be tried again; {hint}").format(
                channel=channel, where=where, hint=hint
            )
        )
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidHeader,
    ):
        error = Permanent(
            _("{channel}: the request to {where} is malformed — {hint}").format(channel=channel, where=where, hint=hint)
        )
    except requests.RequestException as exc:
        error = Transient(
            _("{channel}: the request to {where} failed ({error}) — it will be tried again; {hint}").format(
                channel=channel, where=where, error=type(exc).__name__, hint=hint
            )
        )
    raise error


def try_later(response: requests.Response, channel: str, where: str, doing: str, said: str, wait=None) -> Transient:
    """What a busy (429) or broken (5xx, or otherwise temporary) answer while ``doing`` means:
    try again later, after ``wait`` seconds (default: the answer's ``Retry-After``). ``said``:
    the server's own line, as ``": …"`` or empty."""
    status = response.status_code
    if status == 429:
        message = _("{channel}: {where} answered 429 (rate limit) while {doing}{said} — it will be tried again later")
    else:
        message = _("{channel}: {where} answered {status} while {doing}{said} — it will be tried again later")
    return Transient(
        message.format(channel=channel, where=where, status=status, doing=doing, said=said),
        retry_after=wait if wait is not None else retry_after(response.headers.get("Retry-After")),
        status=status,
    )


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date
    (RFC 9110 10.2.3); also an ISO 8601 time (Mastodon's ``X-RateLimit-Reset``)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    moment = None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (moment - now).total_seconds())


_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_MESSAGE_KEYS = ("message", "error_description", "error", "detail", "title")
_CODE_KEYS = ("code", "serviceErrorCode", "error_code", "errorCode")


def server_says(response: requests.Response, secrets=(), limit: int = LIMIT) -> str:
    """The one line of a server's error answer that a message may show — never the body as it
    came: ``CODE: message``, the error code where the API gives one (LinkedIn's
    ``code``/``serviceErrorCode``, OAuth's ``error`` beside an ``error_description``) and its
    ``message`` (else the start of the text, an HTML page's markup taken out), on one line of
    printable characters, every form of every secret in ``secrets`` scrubbed
    (:func:`~commsflow.publishers.secrets.scrub`), at most ``limit`` characters."""
    content = response.content or b""
    cut = len(content) > WINDOW
    data = None
    if not cut:
        try:
            data = json.loads(content)
        except ValueError:
            data = None
    code, text = "", ""
    if isinstance(data, dict):
        for key in _MESSAGE_KEYS:
            if isinstance(data.get(key), str) and data[key].strip():
                text = data[key]
                break
        for key in _CODE_KEYS:
            value = data.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and _CODE.fullmatch(str(value)):
                code = str(value)
                break
        error = data.get("error")
        if not code and isinstance(error, str) and text != error and _CODE.fullmatch(error):
            code = error  # OAuth 2.0 (RFC 6749 5.2): "error" is the code, "error_description" the text
        cut = False
    else:
        text = content[:WINDOW].decode(response.encoding or "utf-8", "replace")
        if "html" in response.headers.get("Content-Type", "").lower() or text.lstrip().startswith("<"):
            text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
            text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    code = scrub(code, secrets)
    prefix = f"{code}: " if code and code.lower() not in text.lower() else ""
    return prefix + one_line(text, secrets, limit - len(prefix), cut=cut) if text else code

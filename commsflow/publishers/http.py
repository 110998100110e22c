"""HTTP plumbing the API publishers (LinkedIn, Mastodon, webhook) share: one request with
connection trouble classified as :class:`Transient`, ``Retry-After`` parsing, a bearer
token that no ``~/.netrc`` can replace, and scrubbing of secrets from messages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from commsflow import __version__
from commsflow.errors import CommsflowError
from commsflow.publishers.base import Permanent, PublishError, Transient

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


def scrub(text: str, secrets) -> str:
    """``text`` with every secret in ``secrets`` replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def http_url(value: str, variable: str) -> str:
    """``value`` as an http(s) address without a trailing slash; the message never shows it."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommsflowError(
            f"{variable} is not an http(s) address", f"set {variable} to an address like https://example.org"
        )
    return value


def token_from(environ, variable: str, channel: str, hint: str) -> str:
    """The access token in ``variable``; the messages name the variable, never the value."""
    token = environ.get(variable, "").strip()
    if not token:
        raise CommsflowError(f"{channel}: no access token ({variable} is not set)", hint)
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise CommsflowError(
            f"{channel}: {variable} has characters no access token has (spaces, line breaks, non-ASCII)",
            f"copy the token again; {hint}",
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

    Redirects are not followed: a POST must not turn into a GET somewhere else.
    The error is raised outside the ``except`` block, so no exception from requests (whose
    text contains the whole address) is chained to it.
    """
    where = origin(url)
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.exceptions.SSLError:
        error: PublishError = Permanent(
            f"{channel}: TLS with {where} failed (certificate not trusted?) — check the address; "
            "for an in-house certificate set REQUESTS_CA_BUNDLE to its CA file"
        )
    except requests.Timeout:
        error = Transient(f"{channel}: {where} did not answer within {timeout:g} s — it will be tried again; {hint}")
    except requests.ConnectionError:
        error = Transient(f"{channel}: cannot connect to {where} — it will be tried again; {hint}")
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidHeader,
    ):
        error = Permanent(f"{channel}: the request to {where} is malformed — {hint}")
    except requests.RequestException as exc:
        error = Transient(
            f"{channel}: the request to {where} failed ({type(exc).__name__}) — it will be tried again; {hint}"
        )
    raise error


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


def server_says(response: requests.Response, secrets=(), limit: int = 200) -> str:
    """A short, scrubbed line of what the server answered: its JSON ``message``/``error``
    where there is one, else the start of the text."""
    text = ""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
    if not text:
        text = response.text or ""
    text = scrub(" ".join(text.split()), secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"

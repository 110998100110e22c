"""Keeping secrets out of what a server says back — one scrubbing function for every publisher.

A server's error answer may echo what it was sent: the ``Authorization`` header, a
password, the webhook's own address. And not only as sent — base64-encoded (a Basic or
SASL PLAIN credential, a debug dump of the request), lower- or upper-cased, URL-, JSON-
or HTML-escaped, as hex, or cut short. :func:`scrub` replaces every such form of every
secret a publisher knows, and any stretch of :data:`MIN_PART` or more characters of one,
with ``***``. :func:`one_line` is what a message may show of a server's text: printable,
one line, scrubbed and at most ``limit`` characters long.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

MIN_PART = 8  # a stretch of a secret this long is taken for the secret
MASK = "***"
LIMIT = 200  # what a message shows of a server's answer, at most
WINDOW = 16_384  # what is read of a server's answer at all


def _fold(text: str) -> str:
    """``text`` lower-cased character by character (the length stays, so positions match)."""
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on ``data`` wherever it sits in the encoded
    text (three alignments), in the standard and the URL-safe alphabet."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first = -(-8 * offset // 6)  # the first character made of ``data``'s bits only
        last = 8 * (offset + len(data)) // 6  # one past the last such character
        core = encoded[first:last]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


@lru_cache(maxsize=64)
def forms(secret: str) -> frozenset[str]:
    """Every form of ``secret`` a server could echo, lower-cased (matching ignores case)."""
    raw = secret.encode("utf-8")
    found = {
        repr(secret)[1:-1],
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        quote(quote(secret, safe=""), safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        raw.hex(),
        *_base64_cores(raw),
    }
    try:
        found |= _base64_cores(secret.encode("latin-1"))  # a server or client that encodes Latin-1
    except UnicodeEncodeError:
        pass
    return frozenset(_fold(form) for form in found if form)


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every form of every secret in ``secrets``, and every stretch of at least
    :data:`MIN_PART` characters of such a form, replaced by ``***`` (case ignored)."""
    if not text:
        return text
    all_forms = {form for secret in secrets if secret for form in forms(secret)}
    if not all_forms:
        return text
    folded = _fold(text)
    hidden = bytearray(len(text))
    # Stretches: every MIN_PART-long piece of the text that is a piece of a form is hidden;
    # overlapping pieces join up, so a longer stretch is hidden whole.
    pieces = {form[i : i + MIN_PART] for form in all_forms for i in range(len(form) - MIN_PART + 1)}
    for start in range(len(text) - MIN_PART + 1):
        if folded[start : start + MIN_PART] in pieces:
            hidden[start : start + MIN_PART] = b"\1" * MIN_PART
    # Secrets (or forms) shorter than a stretch: only where they appear whole.
    for form in all_forms:
        if len(form) < MIN_PART:
            start = folded.find(form)
            while start >= 0:
                hidden[start : start + len(form)] = b"\1" * len(form)
                start = folded.find(form, start + 1)
    if not any(hidden):
        return text
    out, start = [], 0
    for match in re.finditer(rb"\x01+", bytes(hidden)):
        out += [text[start : match.start()], MASK]
        start = match.end()
    out.append(text[start:])
    return "".join(out)


def shorten(text: str, limit: int = LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(text: str, secrets: Iterable[str | None], limit: int = LIMIT, *, cut: bool = False) -> str:
    """What a message may show of a text from elsewhere: printable characters on one line,
    scrubbed, at most ``limit`` characters. ``cut``: the text is the start of a longer one;
    its last few characters, which may begin a secret too short to recognise, are dropped."""
    if cut:
        text = text[: -(MIN_PART - 1)]
    text = " ".join("".join(char if char.isprintable() else " " for char in text).split())
    return shorten(scrub(text, secrets), limit)

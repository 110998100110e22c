"""Field types shared by the configuration and the content model, with their hints."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints, ValidationInfo

from commsflow import dates, markdown
from commsflow.errors import closest
from commsflow.i18n import N_, _
from commsflow.validation import register_pattern_hint

# No space, quote, angle bracket or backslash: an address that reaches Markdown, HTML,
# a .docx or a calendar file unescaped must not be able to end its attribute or tag.
_URL = r"^https?://[^\s/<>\"'`\\]+\.[^\s<>\"'`\\]*$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
register_pattern_hint(_URL, N_("write a full address starting with https://"))
register_pattern_hint(_EMAIL, N_("write an address like presse@example.org"))
register_pattern_hint(_SLUG, N_("use lowercase letters, digits and hyphens, e.g. mpi-konferenz-2023"))


def _no_markup(value: str) -> str:
    """The same rule as for bodies: what the safe rendering would drop must not be in a
    text that some outputs keep as written (a release's Markdown, a calendar entry)."""
    found = markdown.unsafe_markup(value)
    if found:
        raise ValueError(
            _("{found} is not allowed here").format(found=found)
            + " — "
            + _("write plain text or Markdown; links only to https://, http:// or mailto: addresses")
        )
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_no_markup)]
# Sanitised HTML (an imported feed's summary): markup is what it is.
Html = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
HttpUrl = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_URL)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_EMAIL)]
Slug = Annotated[str, StringConstraints(pattern=_SLUG)]


def _as_date(value: object) -> date:
    try:
        return dates.parse_date(value)
    except dates.DateError as exc:
        raise ValueError(str(exc)) from None


def _as_moment(value: object, info: ValidationInfo) -> date | datetime:
    zone = (info.context or {}).get("zone")
    try:
        return dates.parse_moment(value, zone) if zone else dates.parse_when(value)
    except dates.DateError as exc:
        raise ValueError(str(exc)) from None


Day = Annotated[date, BeforeValidator(_as_date)]
# A day (all-day) or a time-zone-aware date and time in the configured zone.
Moment = Annotated[date | datetime, BeforeValidator(_as_moment)]


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s_-]+")


def fold(text: str) -> str:
    """The form two spellings of one word share: case, accents, umlauts written out or
    not (``ä``/``ae``), and hyphens, underscores and spaces do not count.
    ``fold("Gesichter des MPI") == fold("gesichter-des-mpi")``."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", text).strip()


def vocabulary(name: str):
    """A text whose allowed values come from ``[vocabularies].<name>`` in the configuration.

    A value matches however it is capitalised, accented or hyphenated (``aktuelles``,
    ``gesichter-des-mpi``) and becomes the configured spelling (``Aktuelles``,
    ``Gesichter des MPI``)."""

    def check(value: str, info: ValidationInfo) -> str:
        allowed = ((info.context or {}).get("vocabularies") or {}).get(name)
        if allowed is None or value in allowed:
            return value
        folded = {fold(spelling): spelling for spelling in reversed(allowed)}  # the first of equal ones wins
        if fold(value) in folded:
            return folded[fold(value)]
        near = closest(fold(value), folded)
        guess = folded[near] if near else None
        if guess:
            hint = _("did you mean {guess}?").format(guess=repr(guess))
        else:
            hint = _("allowed: {allowed}").format(allowed=", ".join(allowed))
        message = _("unknown value {value} (not in vocabularies.{vocabulary})").format(
            value=repr(value), vocabulary=name
        )
        raise ValueError(message + " — " + hint)

    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(check)]

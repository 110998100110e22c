"""The one clock: everything that depends on "now" reads it from here.

The shipped content is historical, so demos and tests pin the clock with the global
``--now`` option or the ``COMMSFLOW_NOW`` environment variable.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo

from commsflow import dates
from commsflow.errors import CommsflowError
from commsflow.i18n import _


def _read(text: str, zone: tzinfo | None):
    try:
        return dates.parse_moment(text, zone) if zone else dates.parse_when(text)
    except dates.DateError as exc:
        raise CommsflowError(f"--now / COMMSFLOW_NOW: {exc}", _("e.g. --now '2024-03-01 10:00'")) from None


def check_now(text: str) -> None:
    """Refuse an unreadable --now before any work is done (the zone is not known yet)."""
    _read(text, None)


def resolve_now(text: str | None, zone: tzinfo) -> datetime:
    """The pinned time if given (local to ``zone`` unless it has an offset), else the real time."""
    if not text:
        return datetime.now(zone)
    moment = _read(text, zone)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0, 0), tzinfo=zone)
    return moment

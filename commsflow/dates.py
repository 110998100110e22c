"""Dates and times as editors write them, and as German readers expect them.

Front matter accepts ISO 8601 (``2024-04-25``, ``2024-04-25 16:00``, with or without
offset) and the German numeric form (``25.04.2024``, ``25.04.2024 16:00``). Forms that
can be read two ways (``04/05/2024``, two-digit years) are rejected rather than guessed.
Times without an offset are local to the configured time zone.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, tzinfo

from babel.dates import format_date, format_datetime, get_month_names

from commsflow import i18n
from commsflow.i18n import _

_GERMAN = re.compile(
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})"
    r"(?:,?\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?:\s*Uhr)?)?$"
)
_SLASHED = re.compile(r"^\d{1,4}/\d{1,2}/\d{1,4}")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


class DateError(ValueError):
    """A date an editor wrote that cannot be read unambiguously; str() is the hint."""


def _from_german(text: str) -> date | datetime:
    m = _GERMAN.match(text)
    assert m
    if len(m["y"]) != 4:
        raise DateError(
            _("ambiguous date {text}: two-digit year; write the year in full, e.g. {example}").format(
                text=repr(text), example=f"{m['d']}.{m['m']}.20{m['y'][-2:]}"
            )
        )
    day = _day(text, int(m["y"]), int(m["m"]), int(m["d"]))
    if m["H"] is None:
        return day
    return datetime.combine(day, _time(text, int(m["H"]), int(m["M"])))


def _day(text: str, year: int, month: int, day: int) -> date:
    """The day, or a DateError saying in words why there is no such day:
    ``31.09.2024`` — September has 30 days."""
    if not 1 <= month <= 12:
        raise DateError(
            _("invalid date {text}: there is no month {month}").format(text=repr(text), month=month)
            + " — "
            + _("a year has 12 months, 01 to 12")
        )
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        if day < 1:
            reason = _("there is no day {day}").format(day=day)
        elif month == 2 and calendar.isleap(year):
            reason = _("February {year} has {days} days ({year} is a leap year)").format(year=year, days=last)
        elif month == 2:
            reason = _("February {year} has {days} days ({year} is not a leap year)").format(year=year, days=last)
        else:
            name = get_month_names("wide", locale=i18n.language())[month]
            reason = _("{month} has {days} days").format(month=name, days=last)
        raise DateError(
            _("invalid date {text}: {reason}").format(text=repr(text), reason=reason)
            + " — "
            + _("write a day from 1 to {last}").format(last=last)
        )
    return date(year, month, day)


def _time(text: str, hour: int, minute: int) -> time:
    """The time of day, or a DateError naming the hour or minute there is not."""
    if not 0 <= hour <= 23:
        raise DateError(
            _("invalid time in {text}: there is no hour {hour}").format(text=repr(text), hour=hour)
            + " — "
            + _("write a time from 00:00 to 23:59")
        )
    if not 0 <= minute <= 59:
        raise DateError(
            _("invalid time in {text}: there is no minute {minute}").format(text=repr(text), minute=minute)
            + " — "
            + _("write a time from 00:00 to 23:59")
        )
    return time(hour, minute)


def parse_when(value: object) -> date | datetime:
    """A date or a (possibly naive) datetime from a front matter value."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DateError(
            _("expected a date like 2024-04-25 or 2024-04-25 16:00, got {kind}").format(kind=type(value).__name__)
        )
    text = value.strip()
    if _SLASHED.match(text):
        raise DateError(
            _("ambiguous date {text}: day and month order is unclear; write it as YYYY-MM-DD, e.g. 2024-04-25").format(
                text=repr(text)
            )
        )
    if _GERMAN.match(text):
        return _from_german(text)
    if not _ISO.match(text):
        raise DateError(_("invalid date {text}; write it as 2024-04-25 or 2024-04-25 16:00").format(text=repr(text)))
    iso_day = _day(text, int(text[:4]), int(text[5:7]), int(text[8:10]))
    if len(text) > 10:
        _time(text, int(text[11:13]), int(text[14:16]))
    try:
        if len(text) == 10:
            return iso_day
        return datetime.fromisoformat(text)
    except ValueError:
        raise DateError(
            _("invalid date {text}; write it as 2024-04-25 or 2024-04-25 16:00").format(text=repr(text))
        ) from None


def parse_date(value: object) -> date:
    """A calendar day; a datetime is refused because a day was asked for."""
    result = parse_when(value)
    if isinstance(result, datetime):
        raise DateError(_("expected a day without time, e.g. {day}").format(day=result.date().isoformat()))
    return result


def localize(moment: datetime, zone: tzinfo) -> datetime:
    """Naive times are wall-clock times in ``zone``; aware ones are converted to it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def parse_moment(value: object, zone: tzinfo) -> date | datetime:
    """A day (all-day) or a time-zone-aware datetime in ``zone``."""
    result = parse_when(value)
    if isinstance(result, datetime):
        return localize(result, zone)
    return result


# German presentation. Babel carries the CLDR data, so month and weekday names are right.


def long_date(day: date | datetime, locale: str = "de") -> str:
    """``28. November 2023``"""
    return format_date(day, format="long", locale=locale)


def numeric_date(day: date | datetime, locale: str = "de") -> str:
    """``28.11.2023``"""
    return format_date(day, format="dd.MM.yyyy", locale=locale)


def weekday_date(day: date | datetime, locale: str = "de") -> str:
    """``Donnerstag, 25. April 2024``"""
    return format_date(day, format="full", locale=locale)


def weekday_short(day: date | datetime, locale: str = "de") -> str:
    """``Di`` (German, as calendars write it), ``Tue``"""
    if locale == "de":
        return format_date(day, format="EEEE", locale=locale)[:2]
    return format_date(day, format="EEE", locale=locale)


def hour_minute(moment: datetime, locale: str = "de") -> str:
    """``16:00``"""
    return format_datetime(moment, format="HH:mm", locale=locale, tzinfo=moment.tzinfo)


def clock_time(moment: datetime, locale: str = "de") -> str:
    """``16:00 Uhr``"""
    return hour_minute(moment, locale) + " Uhr"


def month_year(day: date | datetime, locale: str = "de") -> str:
    """``November 2023``"""
    return format_date(day, format="MMMM yyyy", locale=locale)

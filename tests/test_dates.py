"""Dates as editors write them (ISO and German), and as German readers expect them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commsflow import dates
from commsflow.dates import DateError

BERLIN = ZoneInfo("Europe/Berlin")


def offset(moment: datetime) -> str:
    return moment.isoformat()[-6:]


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-04-25", date(2024, 4, 25)),
        ("25.04.2024", date(2024, 4, 25)),
        ("5.4.2024", date(2024, 4, 5)),
        ("  28.11.2023 ", date(2023, 11, 28)),
        ("2024-02-29", date(2024, 2, 29)),  # leap year
    ],
)
def test_days_parse_in_iso_and_german_form(text, expected):
    assert dates.parse_date(text) == expected
    assert type(dates.parse_moment(text, BERLIN)) is date  # a day alone stays all-day


@pytest.mark.parametrize(
    "text",
    [
        "2024-04-25 16:00",
        "2024-04-25T16:00",
        "2024-04-25T16:00:00",
        "25.04.2024 16:00",
        "25.04.2024, 16:00",
        "25.04.2024 16:00 Uhr",
        "25.4.2024 16:00",
    ],
)
def test_times_parse_as_aware_berlin_times(text):
    moment = dates.parse_moment(text, BERLIN)
    assert isinstance(moment, datetime)
    assert moment.tzinfo is not None
    assert moment.isoformat() == "2024-04-25T16:00:00+02:00"
    assert moment == datetime(2024, 4, 25, 14, 0, tzinfo=UTC)


def test_winter_date_gets_plus_one():
    moment = dates.parse_moment("28.11.2023 10:00", BERLIN)
    assert moment.isoformat() == "2023-11-28T10:00:00+01:00"
    assert moment.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    "text,berlin",
    [
        ("2024-04-25T14:00:00+00:00", "2024-04-25T16:00:00+02:00"),
        ("2024-04-25T14:00Z", "2024-04-25T16:00:00+02:00"),
        ("2024-04-25 10:00-04:00", "2024-04-25T16:00:00+02:00"),  # New York, summer
        ("2023-11-28T09:00+00:00", "2023-11-28T10:00:00+01:00"),
        ("2024-04-25T16:00+02:00", "2024-04-25T16:00:00+02:00"),
    ],
)
def test_aware_input_with_another_offset_is_converted_to_berlin(text, berlin):
    moment = dates.parse_moment(text, BERLIN)
    assert moment.isoformat() == berlin
    assert moment.tzinfo is BERLIN


def test_aware_datetime_object_is_converted_and_naive_one_is_localized():
    utc = datetime(2024, 4, 25, 14, 0, tzinfo=UTC)
    assert dates.parse_moment(utc, BERLIN).isoformat() == "2024-04-25T16:00:00+02:00"
    naive = datetime(2024, 4, 25, 16, 0)
    assert dates.parse_moment(naive, BERLIN).isoformat() == "2024-04-25T16:00:00+02:00"


@pytest.mark.parametrize(
    "text,message",
    [
        ("25.04.24", "ambiguous date '25.04.24': two-digit year; write the year in full, e.g. 25.04.2024"),
        ("1.12.23 18:00", "ambiguous date '1.12.23 18:00': two-digit year; write the year in full, e.g. 1.12.2023"),
        (
            "04/05/2024",
            "ambiguous date '04/05/2024': day and month order is unclear; write it as YYYY-MM-DD, e.g. 2024-04-25",
        ),
        (
            "2024/04/05",
            "ambiguous date '2024/04/05': day and month order is unclear; write it as YYYY-MM-DD, e.g. 2024-04-25",
        ),
        (
            "25/04/2024 16:00",
            "ambiguous date '25/04/2024 16:00': day and month order is unclear; write it as YYYY-MM-DD, e.g. 2024-04-25",
        ),
    ],
)
def test_ambiguous_forms_are_rejected_not_guessed(text, message):
    with pytest.raises(DateError) as caught:
        dates.parse_moment(text, BERLIN)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "2024-02-30",
            "invalid date '2024-02-30': February 2024 has 29 days (2024 is a leap year) — write a day from 1 to 29",
        ),
        (
            "2023-02-29",
            "invalid date '2023-02-29': February 2023 has 28 days (2023 is not a leap year) — write a day from 1 to 28",
        ),
        (
            "31.02.2024",
            "invalid date '31.02.2024': February 2024 has 29 days (2024 is a leap year) — write a day from 1 to 29",
        ),
        ("25.13.2024", "invalid date '25.13.2024': there is no month 13 — a year has 12 months, 01 to 12"),
        (
            "25.04.2024 25:00",
            "invalid time in '25.04.2024 25:00': there is no hour 25 — write a time from 00:00 to 23:59",
        ),
        (
            "2024-04-25 16:60",
            "invalid time in '2024-04-25 16:60': there is no minute 60 — write a time from 00:00 to 23:59",
        ),
        ("Donnerstag", "invalid date 'Donnerstag'; write it as 2024-04-25 or 2024-04-25 16:00"),
        ("2024-04-25 16:00 Uhr", "invalid date '2024-04-25 16:00 Uhr'; write it as 2024-04-25 or 2024-04-25 16:00"),
    ],
)
def test_impossible_dates_are_invalid(text, message):
    with pytest.raises(DateError) as caught:
        dates.parse_moment(text, BERLIN)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", [20240425, 2024.0, None, True, ["2024-04-25"]])
def test_values_that_are_no_text_are_refused(value):
    with pytest.raises(DateError, match=r"^expected a date like 2024-04-25 or 2024-04-25 16:00, got "):
        dates.parse_when(value)


def test_parse_date_refuses_a_time():
    with pytest.raises(DateError) as caught:
        dates.parse_date("25.04.2024 16:00")
    assert str(caught.value) == "expected a day without time, e.g. 2024-04-25"


def test_german_event_time_in_front_matter_is_a_berlin_time(project, run):
    (project / "content/events/2023-11-28-mpi-konferenz.md").write_text(
        "---\n"
        "title: MPI Konferenz Circular Economy\n"
        "status: approved\n"
        "format: MPI Konferenz\n"
        "start: 28.11.2023, 10:00 Uhr\n"
        "end: 28.11.2023 17:30\n"
        "organiser: mpi\n"
        "---\n"
        "Eröffnung durch Franziska Giffey.\n",
        encoding="utf-8",
    )
    result = run(project, "list", "event", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["slug"]: row for row in json.loads(result.stdout)}
    assert rows["2023-11-28-mpi-konferenz"]["date"] == "2023-11-28T10:00:00+01:00"
    assert rows["2023-11-28-mpi-konferenz"]["meta"]["end"] == "2023-11-28T17:30:00+01:00"
    assert rows["2024-04-25-mpi-meetup"]["date"] == "2024-04-25T16:00:00+02:00"


# --- daylight saving time --------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-03-31 01:30", "+01:00"),  # before the spring change
        ("2024-03-31 03:30", "+02:00"),  # after it
        ("2024-10-27 01:30", "+02:00"),  # before the autumn change
        ("2024-10-27 03:30", "+01:00"),  # after it
    ],
)
def test_dst_changes_give_the_right_offset(text, expected):
    moment = dates.parse_moment(text, BERLIN)
    assert offset(moment) == expected
    assert moment.strftime("%H:%M") == text[-5:]  # the wall-clock time stays as written


def test_dst_hours_are_counted_correctly_across_the_change():
    before = dates.parse_moment("2024-10-27 01:30", BERLIN)
    after = dates.parse_moment("2024-10-27 03:30", BERLIN)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=3)
    spring_before = dates.parse_moment("2024-03-31 01:30", BERLIN)
    spring_after = dates.parse_moment("2024-03-31 03:30", BERLIN)
    assert spring_after.astimezone(UTC) - spring_before.astimezone(UTC) == timedelta(hours=1)


# --- German presentation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "day,expected",
    [
        (date(2023, 11, 28), "28. November 2023"),
        (date(2024, 3, 1), "1. März 2024"),
        (date(2024, 1, 5), "5. Januar 2024"),
        (datetime(2024, 4, 25, 16, 0, tzinfo=BERLIN), "25. April 2024"),
    ],
)
def test_long_date(day, expected):
    assert dates.long_date(day) == expected


def test_weekday_date():
    assert dates.weekday_date(date(2024, 4, 25)) == "Donnerstag, 25. April 2024"
    assert dates.weekday_date(date(2023, 11, 28)) == "Dienstag, 28. November 2023"
    assert dates.weekday_date(date(2024, 3, 1)) == "Freitag, 1. März 2024"


def test_clock_time():
    assert dates.clock_time(datetime(2024, 4, 25, 16, 0, tzinfo=BERLIN)) == "16:00 Uhr"
    assert dates.clock_time(dates.parse_moment("28.11.2023 9:05", BERLIN)) == "09:05 Uhr"
    # shown in the time zone the moment carries, not converted to the machine's
    assert dates.clock_time(dates.parse_moment("2024-04-25T14:00Z", BERLIN)) == "16:00 Uhr"


def test_numeric_date():
    assert dates.numeric_date(date(2023, 11, 28)) == "28.11.2023"
    assert dates.numeric_date(date(2024, 4, 5)) == "05.04.2024"
    assert dates.numeric_date(datetime(2024, 4, 25, 16, 0, tzinfo=BERLIN)) == "25.04.2024"


def test_german_forms_read_back_to_the_same_moment():
    moment = dates.parse_moment("2024-10-27 03:30", BERLIN)
    written = f"{dates.numeric_date(moment)} {dates.clock_time(moment)}"
    assert written == "27.10.2024 03:30 Uhr"
    assert dates.parse_moment(written, BERLIN) == moment

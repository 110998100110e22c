"""Calendar files for events (``build/events/SLUG.ics``), read as calendars read them.

Every file is read by three independent parsers — icalendar, vobject (which Radicale uses)
and ics — and must give the same times in UTC, title, place, web address and description,
also across the changes to and from summer time. vobject converts times with the file's own
VTIMEZONE block, so it shows whether the block itself is right. The Meet-up's file is
compared with a golden file (``COMMSFLOW_REGENERATE_GOLDEN=1`` rewrites it), and a file is
imported into a real CalDAV server (Radicale, on 127.0.0.1) and searched there by time.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest
import requests
import vobject
from conftest import FIXTURES

from commsflow.renderers.ics import vtimezone

NOW = ("--now", "2024-03-01 10:00")
GOLDEN = FIXTURES / "ics"
PAGE = "https://www.berlin.de/industriestadt/veranstaltungen/{slug}/"
REGISTRATION = "https://www.berlin.de/industriestadt/anmeldung/nachtschicht/"


def write_event(root: Path, slug: str, front: str) -> Path:
    path = root / "content" / "events" / f"{slug}.md"
    path.write_text(f"---\n{front.strip()}\n---\n\nEin Satz zur Veranstaltung.\n", encoding="utf-8")
    return path


def night_shift(start: str, end: str | None = None, *, registration: bool = True) -> str:
    return f"""\
title: Lange Nacht der Industrie
status: approved
format: Netzwerktreffen
start: {start}
{f"end: {end}" if end else ""}
organiser: mpi
summary: Offene Werkhallen in ganz Berlin, eine Nacht lang.
venue: {{name: Werkhalle, address: Rollbergstraße 28A, city: Berlin}}
{f"registration: {REGISTRATION}" if registration else ""}
"""


def calendar_file(run, root: Path, slug: str) -> bytes:
    result = run(root, *NOW, "ics", slug)
    assert result.exit_code == 0, result.output
    return (root / "build" / "events" / f"{slug}.ics").read_bytes()


# --- the three parsers ----------------------------------------------------------------------------


def read_icalendar(raw: bytes) -> dict:
    event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
    return {
        "start": event.decoded("DTSTART").astimezone(UTC),
        "end": event.decoded("DTEND").astimezone(UTC),
        "summary": str(event["SUMMARY"]),
        "location": str(event["LOCATION"]),
        "url": str(event["URL"]),
        "description": str(event["DESCRIPTION"]),
    }


def read_vobject(raw: bytes) -> dict:
    event = vobject.readOne(raw.decode("utf-8")).vevent
    return {
        "start": event.dtstart.value.astimezone(UTC),
        "end": event.dtend.value.astimezone(UTC),
        "summary": event.summary.value,
        "location": event.location.value,
        "url": event.url.value,
        "description": event.description.value,
    }


def _utc(moment) -> datetime:
    """ics gives Arrow objects (0.7) or datetimes (0.8)."""
    moment = getattr(moment, "datetime", moment)
    return moment.astimezone(UTC)


def read_ics(raw: bytes) -> dict:
    (event,) = ics.Calendar(raw.decode("utf-8")).events
    return {
        "start": _utc(event.begin),
        "end": _utc(event.end),
        "summary": event.name,
        "location": event.location,
        "url": event.url,
        "description": event.description,
    }


PARSERS = {"icalendar": read_icalendar, "vobject": read_vobject, "ics": read_ics}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "start, end, utc_start, utc_end",
    [
        # 01:30 UTC on the day summer time starts is 03:30 in Berlin; no end: 2 hours by default.
        ("2024-03-31 01:30Z", None, utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 3, 30)),
        # … written as the local time it is
        ("2024-03-31 03:30", None, utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 3, 30)),
        # a night across the change to summer time, and across the change back
        ("2024-03-30 22:00", "2024-03-31 05:00", utc(2024, 3, 30, 21), utc(2024, 3, 31, 3)),
        ("2024-10-26 22:00", "2024-10-27 05:00", utc(2024, 10, 26, 20), utc(2024, 10, 27, 4)),
        # 02:30 comes twice on 27 October 2024: the first time (summer time) …
        ("2024-10-27 02:30", None, utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 2, 30)),
        # … and the second (01:30 UTC), which a local time with TZID cannot say: UTC in the file
        ("2024-10-27 01:30Z", None, utc(2024, 10, 27, 1, 30), utc(2024, 10, 27, 3, 30)),
    ],
)
@pytest.mark.parametrize("parser", PARSERS)
def test_three_parsers_read_the_same_event(run, mpi, parser, start, end, utc_start, utc_end):
    write_event(mpi, "nachtschicht-2024", night_shift(start, end))
    read = PARSERS[parser](calendar_file(run, mpi, "nachtschicht-2024"))
    assert read == {
        "start": utc_start,
        "end": utc_end,
        "summary": "Lange Nacht der Industrie",
        "location": "Werkhalle, Rollbergstraße 28A, Berlin",
        "url": REGISTRATION,
        "description": "Offene Werkhallen in ganz Berlin, eine Nacht lang.\n\n"
        f"Anmeldung: {REGISTRATION}\n\n"
        f"Weitere Informationen: {PAGE.format(slug='nachtschicht-2024')}",
    }


def test_without_registration_the_address_is_the_event_page(run, mpi):
    raw = calendar_file(run, mpi, "mpi-meet-up-2024")
    page = PAGE.format(slug="mpi-meet-up-2024")
    for parser, read in PARSERS.items():
        event = read(raw)
        assert event["url"] == page, parser
        assert event["description"].endswith(
            f"Plattform für Austausch und Vernetzung.\n\nWeitere Informationen: {page}"
        )
        assert "Anmeldung" not in event["description"]
        # 16:00 in Berlin, no end given: two hours
        assert (event["start"], event["end"]) == (utc(2024, 4, 25, 14), utc(2024, 4, 25, 16)), parser


def test_the_meet_up_file_as_written(run, mpi):
    raw = calendar_file(run, mpi, "mpi-meet-up-2024").decode("utf-8")
    raw = re.sub(r"PRODID:-//commsflow [^/]+//", "PRODID:-//commsflow VERSION//", raw)
    golden = GOLDEN / "mpi-meet-up-2024.ics"
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(raw.encode("utf-8"))
    assert raw == golden.read_bytes().decode("utf-8")


# --- the time zone block --------------------------------------------------------------------------


def test_the_zone_block_changes_at_two_and_three_local_time_and_says_nothing_in_english(run, mpi):
    write_event(mpi, "nachtschicht-2024", night_shift("2024-03-31 03:30"))
    raw = calendar_file(run, mpi, "nachtschicht-2024")
    (zone,) = icalendar.Calendar.from_ical(raw).walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin" and "COMMENT" not in zone
    changes: dict[tuple, list[datetime]] = {}
    for part in zone.subcomponents:
        key = part.name, part["TZOFFSETFROM"].to_ical(), part["TZOFFSETTO"].to_ical()
        changes.setdefault(key, []).append(part.decoded("DTSTART"))
        assert "RDATE" not in part  # vobject, and so Radicale, would keep only the first date of a list
    # As the tz database has it (Rule EU: last Sunday of March and October, 01:00 UTC), each
    # change at the local time before it: summer time from 02:00, winter time from 03:00.
    assert changes == {
        ("STANDARD", "+0200", "+0100"): [
            datetime(2022, 10, 30, 3),  # what holds when the block begins, on 1 January 2023
            datetime(2023, 10, 29, 3),
            datetime(2024, 10, 27, 3),
            datetime(2025, 10, 26, 3),
        ],
        ("DAYLIGHT", "+0100", "+0200"): [datetime(2023, 3, 26, 2), datetime(2024, 3, 31, 2), datetime(2025, 3, 30, 2)],
    }
    assert b"This timezone" not in raw and b"COMMENT" not in raw
    # vobject's time zone is made from the block alone: it puts 01:30 UTC at 03:30, not at 02:30.
    from_block = vobject.readOne(raw.decode("utf-8")).vevent.dtstart.value.tzinfo
    assert utc(2024, 3, 31, 1, 30).astimezone(from_block).replace(tzinfo=None) == datetime(2024, 3, 31, 3, 30)
    assert utc(2024, 3, 31, 0, 59).astimezone(from_block).replace(tzinfo=None) == datetime(2024, 3, 31, 1, 59)


@pytest.mark.parametrize(
    "name",
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",  # summer time at the turn of the year
        "America/Santiago",  # changes at midnight
        "Australia/Lord_Howe",  # summer time of half an hour
        "Europe/Dublin",  # the tz database's winter time is the exception („negative DST“)
        "Asia/Tokyo",  # no summer time at all
    ],
)
def test_the_zone_block_agrees_with_the_tz_database_around_each_change(name):
    zone = ZoneInfo(name)
    block = vtimezone(zone, date(2023, 1, 1), date(2026, 1, 1), name)
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//test//")
    calendar.add_component(block)
    event = icalendar.Event()
    event.add("uid", "x")
    event.add("dtstamp", utc(2024, 1, 1))
    event.add("dtstart", datetime(2024, 6, 1, 12, tzinfo=zone))
    calendar.add_component(event)
    from_block = vobject.readOne(calendar.to_ical().decode("utf-8")).vevent.dtstart.value.tzinfo
    # Every six hours, and every quarter of an hour in the six hours around each change.
    begin, end = datetime(2023, 1, 1, tzinfo=zone).astimezone(UTC), datetime(2026, 1, 1, tzinfo=zone)
    hours = [begin + timedelta(hours=count) for count in range(int((end - begin) / timedelta(hours=1)))]
    changes = [
        hour
        for hour, later in pairwise(hours)
        if hour.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset()
    ]
    moments = hours[::6] + [
        change + timedelta(minutes=quarter * 15) for change in changes for quarter in range(-12, 13)
    ]
    assert len(changes) == (0 if name == "Asia/Tokyo" else 6)
    for moment in moments:
        assert moment.astimezone(from_block).utcoffset() == moment.astimezone(zone).utcoffset(), moment


# --- the default duration -------------------------------------------------------------------------


def _set_config(root: Path, text: str) -> Path:
    config = root / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return config


def test_an_event_without_end_lasts_the_configured_time_and_check_says_so(run, mpi):
    _set_config(mpi, '[events]\ndefault_duration = "90 Minuten"\n')
    path = write_event(mpi, "nachtschicht-2024", night_shift("2024-03-31 03:30"))
    raw = calendar_file(run, mpi, "nachtschicht-2024")
    for parser, read in PARSERS.items():
        assert read(raw)["end"] == utc(2024, 3, 31, 3), parser
    result = run(mpi, *NOW, "check")
    assert result.exit_code == 0, result.output
    start_line = path.read_text(encoding="utf-8").splitlines().index("start: 2024-03-31 03:30") + 1
    assert (
        f"warning content/events/nachtschicht-2024.md:{start_line}: end: not given; the calendar file ends the "
        "event at 2024-03-31 05:00, 90 minutes after the start — write the real end under 'start:', e.g. "
        "'end: 2024-03-31 05:00', or change [events] default_duration in commsflow.toml"
    ) in " ".join(result.stdout.split())
    # The Meet-up has no end either; the others are all-day events, or have one.
    assert (
        "content/events/mpi-meet-up-2024.md:5: end: not given; the calendar file ends the event at 2024-04-25 17:30"
        in (" ".join(result.stdout.split()))
    )
    assert result.stdout.count("end: not given") == 2
    assert run(mpi, *NOW, "check", "--strict").exit_code == 1
    # Writing the calendar files says it too, for the files written.
    written = run(mpi, *NOW, "ics", "nachtschicht-2024")
    assert written.exit_code == 0 and written.stdout.count("end: not given") == 1
    assert f"nachtschicht-2024.md:{start_line}: end: not given" in written.stdout
    assert run(mpi, *NOW, "ics").stdout.count("end: not given") == 2


def test_an_end_or_a_past_event_needs_no_warning(run, mpi):
    write_event(mpi, "nachtschicht-2024", night_shift("2024-03-31 03:30", "2024-03-31 06:00"))
    result = run(mpi, "--now", "2024-04-26 10:00", "check")  # the Meet-up is over
    assert result.exit_code == 0, result.output
    assert "end: not given" not in result.stdout
    # Half an hour after its start the Meet-up is still on: still said.
    result = run(mpi, "--now", "2024-04-25 16:30", "check")
    assert "mpi-meet-up-2024.md:5: end: not given" in result.stdout


@pytest.mark.parametrize(
    "value, message",
    [
        ('"0 Stunden"', "events.default_duration: an event cannot last no time at all — write e.g. '2 hours'"),
        ('"2h"', "events.default_duration: '2h' is not a duration — write e.g. '30 minutes', '6 hours' or '3 days'"),
    ],
)
def test_a_default_duration_that_is_no_duration_is_refused(run, mpi, value, message):
    config = _set_config(mpi, f"[events]\ndefault_duration = {value}\n")
    line = len(config.read_text(encoding="utf-8").splitlines())
    result = run(mpi, *NOW, "ics")
    assert result.exit_code == 1
    assert f"{config}:{line}: {message}" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (mpi / "build" / "events").exists()


def test_a_missing_description_template_is_named_and_nothing_is_written(run, mpi):
    (mpi / "templates" / "calendar" / "event.txt").unlink()
    result = run(mpi, *NOW, "ics")
    assert result.exit_code == 1
    assert "calendar/event.txt: template not found" in result.stderr
    assert "Traceback" not in result.output
    assert not (mpi / "build" / "events").exists()


# --- a real calendar store ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def caldav(tmp_path_factory):
    """Radicale on 127.0.0.1 at a free port, no authentication, its storage in a temporary
    folder; the address of a user's home collection."""
    try:
        import radicale  # noqa: F401
    except ImportError:
        pytest.skip("Radicale is not installed (pip install -e '.[test]')")
    folder = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    log = (folder / "radicale.log").open("w")
    command = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        "--storage-filesystem-folder",
        str(folder / "collections"),
        "--auth-type",
        "none",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--logging-level",
        "warning",
    ]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if server.poll() is not None:
                pytest.skip(f"Radicale did not start: {(folder / 'radicale.log').read_text()[-500:]}")
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.skip(f"Radicale did not answer on 127.0.0.1:{port} within 15 seconds")
                time.sleep(0.1)
        yield base + "/redaktion/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _time_range(start: datetime, end: datetime) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start:%Y%m%dT%H%M%SZ}" end="{end:%Y%m%dT%H%M%SZ}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


def test_a_calendar_server_takes_the_file_and_finds_the_event_at_its_time(run, mpi, caldav):
    write_event(mpi, "nachtschicht-2024", night_shift("2024-03-31 01:30Z"))
    raw = calendar_file(run, mpi, "nachtschicht-2024")
    session = requests.Session()
    session.auth = ("redaktion", "")
    collection = caldav + "termine/"
    assert session.request("MKCALENDAR", collection, timeout=10).status_code == 201
    put = session.put(
        collection + "nachtschicht-2024.ics",
        data=raw,
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        timeout=10,
    )
    assert put.status_code == 201, put.text

    back = session.get(collection + "nachtschicht-2024.ics", timeout=10)
    assert back.status_code == 200
    for parser, read in PARSERS.items():
        event = read(back.content)
        assert (event["start"], event["end"]) == (utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 3, 30)), parser
        assert event["url"] == REGISTRATION and event["summary"] == "Lange Nacht der Industrie", parser

    def found(start: datetime, end: datetime) -> bool:
        answer = session.request(
            "REPORT",
            collection,
            data=_time_range(start, end).encode("utf-8"),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            timeout=10,
        )
        assert answer.status_code == 207, answer.text
        return "nachtschicht-2024.ics" in answer.text

    assert found(utc(2024, 3, 31, 1, 29), utc(2024, 3, 31, 1, 31))  # it starts at 01:30 UTC …
    assert not found(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 1, 30))  # … not before
    assert found(utc(2024, 3, 31, 3, 29), utc(2024, 3, 31, 4, 0))  # and lasts two hours …
    assert not found(utc(2024, 3, 31, 3, 30), utc(2024, 3, 31, 5, 0))  # … no longer

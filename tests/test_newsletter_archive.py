"""Draft previews in their own folder, and the web archive with its Atom feed: only the
issues sent as of the clock (or by the ledger's word), newest first."""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from commsflow.calendar import Job, job_id
from commsflow.ledger import Ledger
from commsflow.publishers.base import Receipt

NOW = ("--now", "2024-03-01 10:00")
PUBLIC = "https://www.berlin.de/industriestadt/"
BERLIN = ZoneInfo("Europe/Berlin")
ISSUES = {
    "newsletter-2023-2": {
        "title": "MPI-Newsletter 2/2023",
        "send_at": datetime(2023, 11, 8, 10, 0, tzinfo=BERLIN),
        "preheader": "Am 28. November 2023 lädt der MPI zur 1. MPI Konferenz – Schwerpunkt Circular Economy.",
    },
    "newsletter-2024-1": {
        "title": "MPI-Newsletter 1/2024",
        "send_at": datetime(2024, 4, 4, 10, 0, tzinfo=BERLIN),
        "preheader": "Am 25. April 2024 lädt der MPI zum Meet-up in den Bosch IoT Campus – dazu Neues aus "
        "42 MPI-Projekten.",
    },
}
APPROVED_FILES = ("email.html", "web.html", "email.txt", "issue.eml")


def build(run, root: Path, now: str, *args: str):
    result = run(root, "--now", now, "newsletter", "build", *args)
    assert result.exit_code == 0, result.output
    return result


def every_file(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


# --- previews ------------------------------------------------------------------------------------


def test_a_drafts_build_leaves_the_approved_issue_byte_for_byte(run, mpi):
    build(run, mpi, *NOW[1:], "newsletter-2024-1")
    before = every_file(mpi / "build")
    result = build(run, mpi, *NOW[1:], "newsletter-2024-1", "--drafts")
    after = every_file(mpi / "build")
    # Every file there was is as it was: the issue's four files, the calendar files, the archive.
    assert {name: after[name] for name in before} == before
    # The preview is all that is new, in the issue's preview/ folder.
    assert sorted(set(after) - set(before)) == sorted(
        f"newsletter/newsletter-2024-1/preview/{name}" for name in APPROVED_FILES
    )
    preview = mpi / "build" / "newsletter" / "newsletter-2024-1" / "preview"
    assert "[ENTWURF] MPI Deep Dive zum zirkulären Bauen" in (preview / "email.txt").read_text(encoding="utf-8")
    assert "Entwurf" in (preview / "email.html").read_text(encoding="utf-8")
    approved = (mpi / "build" / "newsletter" / "newsletter-2024-1" / "email.txt").read_text(encoding="utf-8")
    assert "ENTWURF" not in approved and "MPI Deep Dive zum zirkulären Bauen" not in approved
    for name in APPROVED_FILES:
        assert f"build/newsletter/newsletter-2024-1/preview/{name}" in result.stdout
    assert "(archive)" not in result.stdout and "calendar file" not in result.stdout


def test_a_drafts_preview_alone_writes_no_approved_file_calendar_file_or_archive(run, mpi):
    build(run, mpi, *NOW[1:], "newsletter-2024-1", "--drafts")
    built = mpi / "build"
    assert sorted(every_file(built)) == sorted(
        f"newsletter/newsletter-2024-1/preview/{name}" for name in APPROVED_FILES
    )
    # The draft event's calendar file is not published by a preview.
    assert not (built / "events" / "mpi-deep-dive-zirkulaeres-bauen-2024.ics").exists()
    # The approved build after it leaves the preview alone.
    preview = every_file(built / "newsletter" / "newsletter-2024-1" / "preview")
    build(run, mpi, *NOW[1:], "newsletter-2024-1")
    assert every_file(built / "newsletter" / "newsletter-2024-1" / "preview") == preview
    assert (built / "newsletter" / "newsletter-2024-1" / "email.html").is_file()


def test_newsletter_list_counts_only_the_approved_build(run, mpi):
    build(run, mpi, *NOW[1:], "newsletter-2024-1", "--drafts")
    result = run(mpi, *NOW, "newsletter", "list")
    line = next(line for line in result.stdout.splitlines() if line.startswith("newsletter-2024-1"))
    assert "yes" not in line


# --- the archive and its feed ------------------------------------------------------------------


class Head(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[dict] = []
        self.anchors: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "link":
            self.links.append(dict(attrs))
        if tag == "a":
            self.anchors.append(dict(attrs).get("href"))


def archive(root: Path) -> tuple[list[str], feedparser.FeedParserDict]:
    """The issues the archive page links, in its order, and the parsed feed."""
    folder = root / "build" / "newsletter"
    page = Head((folder / "index.html").read_text(encoding="utf-8"))
    alternate = [link for link in page.links if link.get("rel") == "alternate"]
    assert [(link["type"], link["href"]) for link in alternate] == [("application/atom+xml", "feed.xml")]
    feed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    issues = [href.removesuffix("/web.html") for href in page.anchors if href.endswith("/web.html")]
    return issues, feed


def assert_feed_lists(feed, issues: list[str], now: datetime) -> None:
    assert feed.feed.title == "Newsletter-Archiv – Masterplan Industriestadt Berlin"
    assert feed.feed.id == f"{PUBLIC}newsletter/"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"alternate": f"{PUBLIC}newsletter/", "self": f"{PUBLIC}newsletter/feed.xml"}
    entries = feed.entries
    assert [entry.link for entry in entries] == [f"{PUBLIC}newsletter/{issue}/web.html" for issue in issues]
    assert [entry.id for entry in entries] == [entry.link for entry in entries]
    assert [entry.title for entry in entries] == [ISSUES[issue]["title"] for issue in issues]
    assert [entry.summary for entry in entries] == [ISSUES[issue]["preheader"] for issue in issues]
    assert [datetime.fromisoformat(entry.updated) for entry in entries] == [
        ISSUES[issue]["send_at"] for issue in issues
    ]
    # The feed is as new as its newest issue (the clock when there is none yet).
    newest = ISSUES[issues[0]]["send_at"] if issues else now
    assert datetime.fromisoformat(feed.feed.updated) == newest


@pytest.mark.parametrize(
    "now, listed",
    [
        ("2023-11-08 09:59", []),
        ("2023-11-08 10:00", ["newsletter-2023-2"]),
        # The 1 March build no longer lists issue 1/2024 of 4 April.
        ("2024-03-01 10:00", ["newsletter-2023-2"]),
        ("2024-04-04 10:00", ["newsletter-2024-1", "newsletter-2023-2"]),
    ],
)
def test_the_archive_lists_the_issues_sent_as_of_the_clock_newest_first(run, mpi, now, listed):
    build(run, mpi, now, "newsletter-2023-2")
    result = build(run, mpi, now, "newsletter-2024-1")
    assert "build/newsletter/index.html (archive)" in result.stdout
    assert "build/newsletter/feed.xml (feed)" in result.stdout
    issues, feed = archive(mpi)
    assert issues == listed
    assert_feed_lists(feed, listed, datetime.fromisoformat(now).replace(tzinfo=BERLIN))


def test_an_issue_sent_but_not_built_here_is_not_linked(run, mpi):
    build(run, mpi, "2024-04-05 10:00", "newsletter-2024-1")
    issues, feed = archive(mpi)
    assert issues == ["newsletter-2024-1"]  # 2/2023 went out, but its web version is not in this build
    assert [entry.title for entry in feed.entries] == ["MPI-Newsletter 1/2024"]


def record(root: Path, issue: str, state: str) -> None:
    """What the ledger keeps of the issue's send job: done, failed, or settled by a person."""
    planned = ISSUES[issue]["send_at"]
    job = Job(job_id(issue, "send", issue, planned), issue, "send", "newsletter", "newsletter", issue, planned, "")
    ledger = Ledger(root / ".commsflow" / "ledger.sqlite")
    try:
        if state in ("posted", "dismissed"):
            ledger.settle(job, planned, state, "by hand")
        elif state == "done":
            ledger.claim(job, planned)
            ledger.done(job.id, planned, Receipt("newsletter", "<issue@lists.example.org>"))
        else:
            ledger.claim(job, planned)
            ledger.failed(job.id, planned, "list server down", permanent=True)
    finally:
        ledger.close()


@pytest.mark.parametrize(
    "now, ledger, listed",
    [
        # Sent by hand before its planned time: the ledger's word lists it on 1 March.
        ("2024-03-01 10:00", {"newsletter-2024-1": "posted"}, ["newsletter-2024-1", "newsletter-2023-2"]),
        # Its time has passed, but it did not go out.
        ("2024-04-05 10:00", {"newsletter-2024-1": "failed"}, ["newsletter-2023-2"]),
        ("2024-04-05 10:00", {"newsletter-2023-2": "dismissed"}, ["newsletter-2024-1"]),
    ],
)
def test_the_ledger_has_the_last_word_on_what_was_sent(run, mpi, now, ledger, listed):
    for issue, state in ledger.items():
        record(mpi, issue, state)
    build(run, mpi, now, "newsletter-2023-2")
    build(run, mpi, now, "newsletter-2024-1")
    issues, feed = archive(mpi)
    assert issues == listed
    assert [entry.link for entry in feed.entries] == [f"{PUBLIC}newsletter/{issue}/web.html" for issue in listed]


def test_commsflow_build_writes_the_archive_of_sent_issues_with_its_feed(run, mpi):
    def built(issue: str) -> bool:
        return (mpi / "build" / "newsletter" / issue / "web.html").is_file()

    result = run(mpi, *NOW, "build")
    assert "Traceback" not in result.output
    # Issue 1/2024 is rendered (its web version is there) but goes out on 4 April: not listed.
    # Issue 2/2023 went out in November: listed where this build has its web version (a build
    # renders it while its send job is held back, e.g. by a sign-off).
    assert built("newsletter-2024-1")
    issues, feed = archive(mpi)
    listed = ["newsletter-2023-2"] if built("newsletter-2023-2") else []
    assert issues == listed
    assert_feed_lists(feed, listed, datetime(2024, 3, 1, 10, 0, tzinfo=BERLIN))
    later = run(mpi, "--now", "2024-04-04 10:05", "build")
    assert "Traceback" not in later.output
    issues, feed = archive(mpi)
    listed = ["newsletter-2024-1", "newsletter-2023-2"] if built("newsletter-2023-2") else ["newsletter-2024-1"]
    assert issues == listed
    assert_feed_lists(feed, listed, datetime(2024, 4, 4, 10, 5, tzinfo=BERLIN))


def test_a_sent_issue_keeps_its_web_version_for_the_archive(run, mpi):
    """Once its send job is done the issue is no longer rendered; its files must stay, or the
    archive would lose it with the next build."""
    first = run(mpi, "--now", "2024-04-03 10:00", "build")
    assert "Traceback" not in first.output
    folder = mpi / "build" / "newsletter" / "newsletter-2024-1"
    web = (folder / "web.html").read_bytes()
    record(mpi, "newsletter-2024-1", "done")
    for now in ("2024-04-05 10:00", "2024-04-06 10:00"):  # the second build no longer has it in its manifest
        later = run(mpi, "--now", now, "build")
        assert "Traceback" not in later.output
        assert (folder / "web.html").read_bytes() == web
        issues, _feed = archive(mpi)
        assert "newsletter-2024-1" in issues

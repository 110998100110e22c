"""`commsflow build`: everything at once, incrementally, one bad item not stopping the
others, and the preview dashboard — parsed, and seen in headless Chromium."""

from __future__ import annotations

import os
import shutil
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO

NOW = ("--now", "2024-03-01 10:00")


class Outline(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)


def build(run, root: Path, *args: str):
    return run(root, *NOW, "build", *args)


def test_build_writes_every_kind_of_output(run, mpi):
    result = build(run, mpi)
    assert result.exit_code == 0, result.output
    out = mpi / "build"
    assert (out / "newsletter" / "newsletter-2024-1" / "issue.eml").is_file()
    assert (out / "newsletter" / "newsletter-2023-2" / "email.html").is_file()
    assert (out / "newsletter" / "index.html").is_file()
    assert (out / "linkedin" / "mpi-meet-up-2024--save-the-date.md").is_file()
    assert (out / "linkedin" / "zahlen--figures.md").is_file()
    assert (out / "press" / "2023-10-18-neue-website-und-veranstaltungen" / "release.docx").is_file()
    assert (out / "events" / "mpi-meet-up-2024.ics").is_file()
    assert (out / "calendar.ics").is_file()
    assert (out / "index.html").is_file()
    assert "32 built, 0 unchanged" in result.stdout
    assert "Preview: build/index.html" in result.stdout


def test_second_build_does_no_work_and_an_edit_rebuilds_only_what_it_touches(run, mpi):
    assert build(run, mpi).exit_code == 0
    stamp = (mpi / "build" / "linkedin" / "mpi-meet-up-2024--save-the-date.md").stat().st_mtime_ns
    again = build(run, mpi)
    assert "0 built, 32 unchanged" in again.stdout
    assert (mpi / "build" / "linkedin" / "mpi-meet-up-2024--save-the-date.md").stat().st_mtime_ns == stamp
    post = mpi / "content" / "posts" / "2024-03-01-zweiter-monitoring-bericht.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nEin Satz mehr.\n", encoding="utf-8")
    edited = build(run, mpi)
    # the post's drafts, both issues (they select from the whole library) and the figures post
    assert "4 built, 28 unchanged" in edited.stdout, edited.stdout
    template = mpi / "templates" / "press" / "release.md"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert "2 built, 30 unchanged" in build(run, mpi).stdout  # the two press releases


def test_one_bad_item_is_reported_and_the_others_are_built(run, mpi):
    event = mpi / "content" / "events" / "ohne-ort-2024.md"
    event.write_text(
        """\
---
title: Ohne Ort
status: approved
format: Workshop
start: 2024-05-02
organiser: mpi
press: {lead: Eine Einladung ohne Ort.}
---

Text.
""",
        encoding="utf-8",
    )
    result = build(run, mpi)
    assert result.exit_code == 1
    assert "content/events/ohne-ort-2024.md:1: venue: an invitation needs the venue" in result.stdout
    assert "not built: press/ohne-ort-2024" in result.stdout
    assert not (mpi / "build" / "press" / "ohne-ort-2024").exists()
    assert (mpi / "build" / "press" / "mpi-konferenz-circular-economy-2023" / "release.docx").is_file()
    assert (mpi / "build" / "linkedin" / "ohne-ort-2024--save-the-date.md").is_file()
    assert "Traceback" not in result.output


def test_dashboard_shows_calendar_and_every_kind_of_preview(run, mpi):
    assert build(run, mpi).exit_code == 0
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    outline = Outline(html)
    assert ("html", {"lang": "de"}) in outline.tags
    assert {"header", "nav", "main", "footer"} <= {tag for tag, _ in outline.tags}
    assert outline.headings[:6] == [
        "Vorschau: Was rausgeht",
        "Kalender",
        "Newsletter",
        "MPI-Newsletter 1/2024",
        "MPI-Newsletter 2/2023",
        "LinkedIn-Entwürfe",
    ]
    assert "Pressemitteilungen" in outline.headings
    frames = [attrs for tag, attrs in outline.tags if tag == "iframe"]
    assert {
        "src": "newsletter/newsletter-2024-1/email.html",
        "width": "375",
        "height": "720",
        "title": "MPI-Newsletter 1/2024, Mobilansicht",
    } in frames
    assert any(frame["src"] == "press/2023-10-18-neue-website-und-veranstaltungen/release.html" for frame in frames)
    assert "KW 11: 11.03.2024 bis 17.03.2024" in html
    assert "…mehr – bis hier zeigt der Feed" in html
    assert html.index("Dienstag, 5. März 2024, 10:00 Uhr") < html.index("Donnerstag, 14. März 2024, 10:00 Uhr")


def test_preview_serves_the_build_folder(mpi):
    from commsflow.commands.build import build_all
    from commsflow.commands.preview import serve, sources_signature
    from commsflow.workspace import Workspace

    workspace = Workspace(mpi, "2024-03-01 10:00")
    build_all(workspace)
    server = serve(workspace.config.path("build"), 0)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as response:
            assert b"Vorschau: Was rausgeht" in response.read()
    finally:
        server.shutdown()
    before = sources_signature(workspace)
    post = mpi / "content" / "posts" / "2024-03-01-zweiter-monitoring-bericht.md"
    post.write_text(post.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(post, ns=(post.stat().st_atime_ns, post.stat().st_mtime_ns + 10_000_000))
    assert sources_signature(workspace) != before


CHROMIUM = os.environ.get("COMMSFLOW_CHROMIUM") or shutil.which("chromium")


@pytest.mark.skipif(
    not CHROMIUM,
    reason="Chromium not found (install Debian's chromium, or set COMMSFLOW_CHROMIUM) — browser tests skipped",
)
def test_dashboard_in_a_real_browser(run, mpi):
    playwright = pytest.importorskip("playwright.sync_api")
    assert build(run, mpi).exit_code == 0
    artifacts = REPO / "test-artifacts" / "dashboard"
    artifacts.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            blocked = []
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(("file:", "data:"))
                    else (blocked.append(route.request.url), route.abort())
                ),
            )
            page.goto((mpi / "build" / "index.html").as_uri())
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
            assert page.locator("#kalender table").count() >= 5
            assert page.locator("#kalender").get_by_text("MPI Meet-up im Bosch IoT Campus").first.is_visible()
            mobile = page.frame_locator('iframe[title="MPI-Newsletter 1/2024, Mobilansicht"]')
            assert mobile.get_by_text("Donnerstag, 25. April 2024, 16:00 Uhr").first.is_visible()
            assert page.locator("#linkedin .cut").count() >= 10
            release = page.frame_locator(
                'iframe[title="Masterplan Industriestadt Berlin: Neue Website und Veranstaltungen, Druckansicht"]'
            )
            assert release.get_by_text("Berlin, 18. Oktober 2023 –").first.is_visible()
            for section in ("newsletter", "linkedin", "presse"):
                page.locator(f"#{section}").screenshot(path=str(artifacts / f"{section}.png"))
            assert not [url for url in blocked if "www.berlin.de" not in url]
        finally:
            browser.close()


def test_make_run_steps_work_from_the_repository_files(run, tmp_path):
    """`make run` runs check, then the builds, on the shipped files: the same commands here."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("commsflow.toml", "feeds.yaml"):
        shutil.copy(REPO / name, root)
    for folder in ("content", "campaigns", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    assert run(root, *NOW, "check").exit_code == 0
    assert build(run, root).exit_code == 0


def test_dashboard_shows_a_stale_sign_off(run, mpi):
    post = mpi / "content" / "posts" / "2024-03-12-mpi-veranstaltungen-2024.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nNachträglich geändert.\n", encoding="utf-8")
    assert build(run, mpi).exit_code == 0
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    row = html[html.index("Das MPI-Jahr 2024") :]
    row = row[: row.index("</tr>")]
    assert "blockiert" in row and "approval stale" in row
    assert "Freigabe veraltet" in html

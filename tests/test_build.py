"""`commsflow build`: everything at once, incrementally, one bad item not stopping the
others, and the preview dashboard — parsed, and seen in headless Chromium."""

from __future__ import annotations

import json
import os
import re
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
    assert (out / "newsletter" / "newsletter-2024-1" / "email.html").is_file()
    # Issue 2/2023 was due on 08.11.2023 and can no longer go out: nothing is rendered for it.
    assert not (out / "newsletter" / "newsletter-2023-2").exists()
    assert (out / "newsletter" / "index.html").is_file()
    assert (out / "linkedin" / "mpi-meet-up-2024--save-the-date.md").is_file()
    assert (out / "linkedin" / "zahlen--figures.md").is_file()
    release = out / "press" / "2023-10-18-neue-website-und-veranstaltungen--announcement"
    assert {path.name for path in release.iterdir()} >= {"release.md", "release.html", "release.txt", "release.docx"}
    assert (release / "2023-10-18-neue-website-und-veranstaltungen--announcement.zip").is_file()  # the pack
    assert not (out / "press" / "2023-10-18-neue-website-und-veranstaltungen").exists()
    assert (out / "events" / "mpi-meet-up-2024.ics").is_file()
    assert (out / "calendar.ics").is_file()
    assert (out / "index.html").is_file()
    assert "37 built, 0 unchanged" in result.stdout
    assert "Preview: build/index.html" in result.stdout
    # build/jobs.json: every rendered job once — the 14 planned jobs that may still go out, 23 previews.
    jobs = json.loads((out / "jobs.json").read_text(encoding="utf-8"))
    assert len(jobs) == 37 and len({job["job"] for job in jobs}) == 37
    assert sum(job["planned"] is not None for job in jobs) == 14
    assert all(
        set(job) == {"job", "channel", "template", "item", "planned", "state", "title", "digest", "files"}
        for job in jobs
    )
    assert all(job["digest"].startswith("sha256:") and job["files"] for job in jobs)
    assert all((out / name).is_file() for job in jobs for name in job["files"])
    issue = next(job for job in jobs if job["item"] == "newsletter-2024-1")
    assert issue["job"] == "newsletter-2024-1/send/newsletter-2024-1@2024-04-04T10:00+02:00"
    assert (issue["channel"], issue["template"], issue["planned"]) == (
        "newsletter",
        "newsletter",
        "2024-04-04T10:00:00+02:00",
    )
    assert "newsletter/newsletter-2024-1/issue.eml" in issue["files"]
    figures = next(job for job in jobs if job["item"] == "zahlen")
    assert (figures["channel"], figures["template"], figures["planned"]) == ("linkedin", "figures", None)
    assert figures["files"] == ["linkedin/zahlen--figures.md"]
    blocked = {job["item"] for job in jobs if job["state"] == "blocked"}
    assert blocked == {"mpi-deep-dive-zirkulaeres-bauen-2024"}  # still in review


def test_second_build_does_no_work_and_an_edit_rebuilds_only_what_it_touches(run, mpi):
    assert build(run, mpi).exit_code == 0
    stamp = (mpi / "build" / "linkedin" / "mpi-meet-up-2024--save-the-date.md").stat().st_mtime_ns
    again = build(run, mpi)
    assert "0 built, 37 unchanged" in again.stdout
    assert (mpi / "build" / "linkedin" / "mpi-meet-up-2024--save-the-date.md").stat().st_mtime_ns == stamp
    post = mpi / "content" / "posts" / "2024-03-01-zweiter-monitoring-bericht.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nEin Satz mehr.\n", encoding="utf-8")
    edited = build(run, mpi)
    # the post's slot job, the issue still to go out (it selects from the whole library) and the figures post
    assert "3 built, 34 unchanged" in edited.stdout, edited.stdout
    assert (mpi / "build" / "linkedin" / "mpi-meet-up-2024--save-the-date.md").stat().st_mtime_ns == stamp
    template = mpi / "templates" / "press" / "release.md"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    # the four press renditions: the Meet-up's planned invitation and recap, two previews
    assert "4 built, 33 unchanged" in build(run, mpi).stdout


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
    assert "not built: entwurf/press/ohne-ort-2024/invitation" in result.stdout
    assert not list((mpi / "build" / "press").glob("ohne-ort-2024*"))
    assert (mpi / "build" / "press" / "mpi-konferenz-circular-economy-2023--recap" / "release.docx").is_file()
    assert (mpi / "build" / "linkedin" / "ohne-ort-2024--save-the-date.md").is_file()
    assert "Traceback" not in result.output


def test_dashboard_shows_calendar_and_every_kind_of_preview(run, mpi):
    # The team's German dashboard, word for word (test_the_dashboard_speaks_english_on_request: English).
    assert run(mpi, "--lang", "de", *NOW, "build").exit_code == 0
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    outline = Outline(html)
    assert ("html", {"lang": "de"}) in outline.tags
    assert {"header", "nav", "main", "footer"} <= {tag for tag, _ in outline.tags}
    assert outline.headings[:5] == [
        "Vorschau: Was rausgeht",
        "Kalender",
        "Newsletter",
        "MPI-Newsletter 1/2024",
        "LinkedIn",
    ]
    assert "Presse" in outline.headings
    # sections come from the channel registry: their ids are the channel names
    sections = [attrs.get("id") for tag, attrs in outline.tags if tag == "section"]
    assert sections == [
        "kalender",
        "newsletter",
        "linkedin",
        "mastodon",
        "bluesky",
        "instagram",
        "webhook",
        "press",
        "entwuerfe",
        "hinweise",
    ]
    links = [attrs["href"] for tag, attrs in outline.tags if tag == "a" and attrs.get("href", "").startswith("#")]
    navigation = [link for link in links if not link.startswith("#p-")]  # the rest: calendar rows to previews
    assert navigation == [f"#{section}" for section in sections]
    frames = [attrs for tag, attrs in outline.tags if tag == "iframe"]
    assert {
        "src": "newsletter/newsletter-2024-1/email.html",
        "width": "375",
        "height": "720",
        "title": "MPI-Newsletter 1/2024, Mobilansicht",
    } in frames
    assert any(frame["src"] == "press/mpi-meet-up-2024--invitation/release.html" for frame in frames)
    # each preview says when it goes out, or that nothing plans it yet, and shows its sign-off
    linkedin = html[html.index('<section id="linkedin"') :]
    fundingcall = linkedin[linkedin.index("Fördercall Circular Economy: 22 Projektvorschläge") :]
    fundingcall = fundingcall[: fundingcall.index("</article>")]
    assert "(Fördercall)" in fundingcall
    assert "geplant Dienstag, 12. März 2024, 10:00 Uhr" in fundingcall and "freigegeben" in fundingcall
    assert "MPI in Zahlen: 42 Projekte" not in html  # a preview no campaign plans: on its month's page
    assert "Geändert seit der Freigabe" not in html  # every sign-off of the fixture is current
    assert "KW 11: 11.03.2024 bis 17.03.2024" in html
    assert "…mehr – bis hier zeigt der Feed" in html
    assert html.index("Dienstag, 5. März 2024, 10:00 Uhr") < html.index("Donnerstag, 14. März 2024, 10:00 Uhr")


def test_previews_no_campaign_plans_are_on_pages_of_their_month(run, mpi):
    assert run(mpi, "--lang", "de", *NOW, "build").exit_code == 0
    build = mpi / "build"
    index = (build / "index.html").read_text(encoding="utf-8")
    links = [a["href"] for tag, a in Outline(index).tags if tag == "a" and a.get("href", "").startswith("drafts/")]
    assert sorted(links) == sorted(f"drafts/{page.name}" for page in (build / "drafts").glob("*.html"))
    assert links[-1] == "drafts/undated.html" and links[:-1] == sorted(links[:-1], reverse=True)  # newest first
    assert '<a href="drafts/2023-10.html">Oktober 2023</a>: 8 Vorschauen' in index

    html = (build / "drafts" / "2023-10.html").read_text(encoding="utf-8")
    page = Outline(html)
    assert ("html", {"lang": "de"}) in page.tags
    assert page.headings[:3] == ["Entwürfe: Oktober 2023", "LinkedIn", "Mädchen-Technik-Kongress 2023 (Rückblick)"]
    assert "Vorschau, nicht geplant" in html and "geplant Dienstag" not in html
    frames = [attrs["src"] for tag, attrs in page.tags if tag == "iframe"]
    assert "../press/2023-10-18-neue-website-und-veranstaltungen--announcement/release.html" in frames
    # every link to a built file, from the drafts folder, leads to one; and back to the dashboard
    for tag, attrs in page.tags:
        target = attrs.get("src") if tag == "iframe" else attrs.get("href") if tag == "a" else None
        if target and not target.startswith(("#", "https:", "http:")):
            assert (build / "drafts" / target.split("#")[0]).resolve().is_file(), target
    assert ("a", {"href": "../index.html#entwuerfe"}) in page.tags
    undated = (build / "drafts" / "undated.html").read_text(encoding="utf-8")
    assert "MPI in Zahlen: 42 Projekte" in undated and "MPI in Zahlen" not in index

    # With no campaign, nothing is planned: a channel with previews points to them, one without says so
    shutil.rmtree(mpi / "campaigns")
    assert run(mpi, "--lang", "de", *NOW, "build").exit_code == 0
    index = (build / "index.html").read_text(encoding="utf-8")
    linkedin = index[index.index('<section id="linkedin"') :]
    linkedin = linkedin[: linkedin.index("</section>")]
    pointer = re.search(
        r"Nichts geplant\. (\d+) Vorschauen der Inhalte, die noch keine Kampagne plant, stehen unter", linkedin
    )
    listed = sum(int(count) for count in re.findall(r"LinkedIn: (\d+)", index))
    assert pointer and int(pointer[1]) == listed > 1 and '<a href="#entwuerfe">Entwürfe</a>' in linkedin
    mastodon = index[index.index('<section id="mastodon"') :]
    assert "Nichts zu zeigen." in mastodon[: mastodon.index("</section>")]
    # what the campaigns planned is gone, folders and all (the release folders, the issue's)
    assert not (build / "press" / "mpi-meet-up-2024--invitation").exists()
    assert [folder for folder in build.rglob("*") if folder.is_dir() and not any(folder.iterdir())] == []


def test_a_month_of_previews_is_written_again_only_when_it_changed(run, mpi):
    assert run(mpi, *NOW, "build").exit_code == 0
    drafts = mpi / "build" / "drafts"

    def pages() -> dict[str, tuple[int, bytes]]:
        return {page.name: (page.stat().st_mtime_ns, page.read_bytes()) for page in drafts.glob("*.html")}

    first = pages()
    january = mpi / "content" / "news" / "2024-01-16-modell-campus-ringberlin-baustart-makerspace.md"
    text = january.read_text(encoding="utf-8")
    assert "status: approved\n" in text and "2024-01.html" in first
    january.write_text(text.replace("status: approved\n", "status: draft\n", 1), encoding="utf-8")
    assert run(mpi, *NOW, "build").exit_code == 0
    # its only preview of January gone: the page goes, the dashboard no longer lists it, no other page is touched
    assert pages() == {name: kept for name, kept in first.items() if name != "2024-01.html"}
    assert "drafts/2024-01.html" not in (mpi / "build" / "index.html").read_text(encoding="utf-8")

    january.write_text(text, encoding="utf-8")
    (drafts / "2023-10.html").write_text('<html lang="de"><p>von Hand geändert</p></html>', encoding="utf-8")
    assert run(mpi, *NOW, "build").exit_code == 0
    again = pages()
    assert {name: html for name, (_, html) in again.items()} == {name: html for name, (_, html) in first.items()}
    assert {name for name in again if again[name][0] != first[name][0]} == {"2024-01.html", "2023-10.html"}


def test_a_month_of_previews_follows_the_sign_offs_of_its_items(run, mpi):
    """A page is kept while what its cards show stands; a sign-off or a rejection of one of
    its items changes no text and no rendition, and still shows on its page at once."""
    assert run(mpi, *NOW, "build").exit_code == 0
    drafts = mpi / "build" / "drafts"
    item = "2024-01-16-modell-campus-ringberlin-baustart-makerspace"

    def mtimes() -> dict[str, int]:
        return {page.name: page.stat().st_mtime_ns for page in drafts.glob("*.html")}

    def card() -> str:
        html = (drafts / "2024-01.html").read_text(encoding="utf-8")
        start = html.index(f'id="p-entwurf-linkedin-{item}-news"')
        return html[start : html.index("</article>", start)]

    first = mtimes()
    assert "not signed off" in card()
    steps = [
        (("approve", item, "--by", "Dana Schulz"), "signed off"),
        (("reject", item, "--by", "Dana Schulz", "--reason", "Das Foto fehlt noch."), "Das Foto fehlt noch."),
    ]
    for command, shown in steps:
        assert run(mpi, *NOW, *command).exit_code == 0
        assert run(mpi, *NOW, "build").exit_code == 0
        assert shown in card(), command
        now = mtimes()
        assert {name for name in now if now[name] != first[name]} == {"2024-01.html"}, command
        first = now


def test_a_month_of_previews_shows_an_edited_text_and_only_its_page_is_written(run, mpi):
    """Only the post's text changes (its summary: same title, files and link): the page is
    keyed by what each card shows of its rendition (Built.shown), so the page follows."""
    assert run(mpi, *NOW, "build").exit_code == 0
    drafts = mpi / "build" / "drafts"
    item = mpi / "content" / "news" / "2024-01-16-modell-campus-ringberlin-baustart-makerspace.md"
    before = {page.name: page.stat().st_mtime_ns for page in drafts.glob("*.html")}
    text = item.read_text(encoding="utf-8")
    edited = text.replace(
        "die Bauarbeiten für den Makerspace begonnen.", "die Bauarbeiten für den Makerspace angefangen."
    )
    assert edited.count("angefangen") == 1
    item.write_text(edited, encoding="utf-8")
    assert run(mpi, *NOW, "build").exit_code == 0
    html = (drafts / "2024-01.html").read_text(encoding="utf-8")
    card = html[html.index('id="p-entwurf-linkedin-2024-01-16-modell-campus-ringberlin-baustart-makerspace-news"') :]
    assert "die Bauarbeiten für den Makerspace angefangen." in card[: card.index("</article>")]
    after = {page.name: page.stat().st_mtime_ns for page in drafts.glob("*.html")}
    assert {name for name in after if after[name] != before[name]} == {"2024-01.html"}


def test_a_month_of_previews_shows_a_finding_another_file_caused(run, mpi):
    """A January item links to an October post; the post goes. The January file did not change,
    its page shows the dead link at once."""
    item = mpi / "content" / "news" / "2024-01-16-modell-campus-ringberlin-baustart-makerspace.md"
    link = "https://www.berlin.de/industriestadt/blog/2023-10-18-neue-website-und-veranstaltungen/"
    item.write_text(item.read_text(encoding="utf-8") + f"\nMehr [auf der neuen Website]({link}).\n", encoding="utf-8")
    assert run(mpi, *NOW, "build").exit_code == 0
    january = mpi / "build" / "drafts" / "2024-01.html"
    assert "dead link" not in january.read_text(encoding="utf-8")
    (mpi / "content" / "posts" / "2023-10-18-neue-website-und-veranstaltungen.md").unlink()
    assert run(mpi, *NOW, "build").exit_code == 1  # the dead link is an error
    assert f"dead link {link}" in january.read_text(encoding="utf-8")


def test_the_dashboard_speaks_english_on_request(run, mpi):
    """The dashboard's wording is the team's language: English with --lang en, German with
    --lang de, in the same places; the kept cards follow the language."""

    def dashboard(language: str) -> str:
        assert run(mpi, "--lang", language, *NOW, "build").exit_code == 0
        return (mpi / "build" / "index.html").read_text(encoding="utf-8")

    def funding_call(html: str) -> str:
        linkedin = html[html.index('<section id="linkedin"') :]
        card = linkedin[linkedin.index("Fördercall Circular Economy: 22 Projektvorschläge") :]
        return card[: card.index("</article>")]

    english = dashboard("en")
    assert '<html lang="en">' in english
    assert "<title>Preview – Masterplan Industriestadt Berlin</title>" in english
    assert "<h1>Preview: what goes out</h1>" in english
    counts = re.search(r">Notes \((\d+) errors?, (\d+) warnings?, (\d+) held back\)<", english).groups()
    assert "<caption>Week 11: 11.03.2024 to 17.03.2024</caption>" in english
    assert '<th scope="col">When</th><th scope="col">Channel</th>' in english
    assert '<span class="badge state-planned">planned</span>' in english
    assert 'title="MPI-Newsletter 1/2024, mobile view"' in english
    card = funding_call(english)
    assert "(Funding call)" in card
    assert (
        '<span class="badge ok">signed off</span> <span class="muted">planned Dienstag, 12. März 2024, 10:00</span>'
        in card
    )
    assert "…more – the feed shows up to here" in card and "474 characters · Link:" in card

    german = dashboard("de")
    assert '<html lang="de">' in german
    assert "<title>Vorschau – Masterplan Industriestadt Berlin</title>" in german
    assert "<h1>Vorschau: Was rausgeht</h1>" in german
    assert re.search(r">Hinweise \((\d+) Fehler, (\d+) Hinweise?, (\d+) zurückgehalten\)<", german).groups() == counts
    assert "<caption>KW 11: 11.03.2024 bis 17.03.2024</caption>" in german
    assert '<th scope="col">Wann</th><th scope="col">Kanal</th>' in german
    assert '<span class="badge state-planned">geplant</span>' in german
    assert 'title="MPI-Newsletter 1/2024, Mobilansicht"' in german
    card = funding_call(german)
    assert "(Fördercall)" in card
    assert (
        '<span class="badge ok">freigegeben</span> <span class="muted">geplant Dienstag, 12. März 2024, 10:00 Uhr</span>'
        in card
    )
    assert "…mehr – bis hier zeigt der Feed" in card and "474 Zeichen · Link:" in card

    # The cards kept from the German build are not shown in English.
    again = funding_call(dashboard("en"))
    assert "(Funding call)" in again and "474 characters" in again and "Zeichen" not in again


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
            assert b"Preview: what goes out" in response.read()
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
            mobile = page.frame_locator('iframe[title="MPI-Newsletter 1/2024, mobile view"]')
            assert mobile.get_by_text("Donnerstag, 25. April 2024, 16:00 Uhr").first.is_visible()
            assert page.locator("#linkedin .cut").count() >= 10
            for section in ("newsletter", "linkedin", "press"):
                page.locator(f"#{section}").screenshot(path=str(artifacts / f"{section}.png"))
            # a release no campaign plans, on its month's page: framed from the drafts folder
            page.locator("#entwuerfe").get_by_role("link", name="Oktober 2023").click()
            page.wait_for_load_state()
            assert page.url.endswith("/build/drafts/2023-10.html")
            release = page.frame_locator(
                'iframe[title="Masterplan Industriestadt Berlin: Neue Website und Veranstaltungen, print view"]'
            )
            assert release.get_by_text("Berlin, 18. Oktober 2023 –").first.is_visible()
            page.screenshot(path=str(artifacts / "drafts-2023-10.png"), full_page=True)
            assert not [url for url in blocked if "www.berlin.de" not in url]
        finally:
            browser.close()


def test_dashboard_shows_a_stale_sign_off(run, mpi):
    # The summary is the post's LinkedIn teaser: the signed-off text of its slot job changes.
    post = mpi / "content" / "posts" / "2024-03-12-mpi-veranstaltungen-2024.md"
    text = post.read_text(encoding="utf-8")
    assert "plant der MPI vier Veranstaltungsformate" in text
    post.write_text(text.replace("plant der MPI vier", "plant der MPI fünf"), encoding="utf-8")
    assert build(run, mpi).exit_code == 0
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    row = html[html.index("Das MPI-Jahr 2024") :]
    row = row[: row.index("</tr>")]
    assert "blocked" in row and "approval stale" in row
    preview = html[html.index('<article class="post" aria-labelledby="p-blog-dienstag-2024-slot-2024-03-12-') :]
    preview = preview[: preview.index("</article>")]
    assert "sign-off gone stale" in preview and "planned Dienstag, 19. März 2024, 10:00" in preview
    diff = preview[preview.index("Changed since the sign-off") :]
    assert '<span class="del">-Meet-up, Deep Dive, Dialogformat und Konferenz – 2024 plant der MPI vier' in diff
    assert '<span class="add">+Meet-up, Deep Dive, Dialogformat und Konferenz – 2024 plant der MPI fünf' in diff
    # a sign-off that still holds shows no diff
    monitoring = html[html.index('aria-labelledby="p-blog-dienstag-2024-slot-2024-03-01-') :]
    monitoring = monitoring[: monitoring.index("</article>")]
    assert "signed off" in monitoring and "Changed since the sign-off" not in monitoring


def test_build_renders_the_planned_jobs_not_a_drifted_copy(run, mpi):
    """Issue 11: what the calendar plans is what is built. The Meet-up's planned press
    invitation and recap are built, and the Fördercall post's slot job is previewed as the
    funding-call draft it sends, with its planned time — not as an unplanned article."""
    assert build(run, mpi).exit_code == 0
    out = mpi / "build"
    for kind, dateline in (("invitation", "Berlin, 28. März 2024."), ("recap", "Berlin, 26. April 2024.")):
        folder = out / "press" / f"mpi-meet-up-2024--{kind}"
        assert {path.name for path in folder.iterdir()} >= {"release.md", "release.html", "release.txt", "release.docx"}
        assert dateline in (folder / "release.txt").read_text(encoding="utf-8")  # dated the planned day
    jobs = json.loads((out / "jobs.json").read_text(encoding="utf-8"))
    press = sorted(
        (job["template"], job["planned"])
        for job in jobs
        if job["item"] == "mpi-meet-up-2024" and job["channel"] == "press"
    )
    assert press == [("invitation", "2024-03-28T09:30:00+01:00"), ("recap", "2024-04-26T10:00:00+02:00")]

    slug = "2024-03-06-foerdercall-circular-economy-zweite-stufe"
    draft = (out / "linkedin" / f"{slug}--funding-call.md").read_text(encoding="utf-8")
    assert "- planned: Dienstag, 12. März 2024, 10:00" in draft.splitlines()
    assert "- planned: not yet" not in draft
    assert "Den vollständigen Beitrag lesen Sie in unserem Blog" not in draft  # the article wording
    assert not list((out / "linkedin").glob(f"{slug}--article*"))
    posted = [job for job in jobs if job["item"] == slug]
    assert [(job["channel"], job["template"], job["planned"]) for job in posted] == [
        ("linkedin", "funding-call", "2024-03-12T10:00:00+01:00")
    ]
    assert posted[0]["job"].startswith("blog-dienstag-2024/slot/")
    assert posted[0]["files"] == [f"linkedin/{slug}--funding-call.md"]


def test_calendar_rows_link_to_their_previews(run, mpi):
    """Issue 14: from a calendar row to the exact text that goes out, one click."""
    import re

    assert build(run, mpi).exit_code == 0
    page = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    calendar = page.split('id="kalender"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a href="#(p-[^"]+)">', calendar)
    ids = set(re.findall(r'\bid="(p-[^"]+)"', page))
    planned = json.loads((mpi / "build" / "jobs.json").read_text(encoding="utf-8"))
    upcoming = [job for job in planned if job["planned"] and job["planned"] >= "2024-03-01T10:00"]
    assert len(links) >= len(upcoming) > 5
    assert set(links) <= ids  # every link lands on a preview


def test_blocked_jobs_are_listed_under_hinweise_with_why(run, mpi):
    """Issue 14: what will not go out as things stand is said where problems are read."""
    assert build(run, mpi).exit_code == 0
    page = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    notes = page.split('id="hinweise"', 1)[1]
    assert "Held back (3)" in notes  # the deep dive's three LinkedIn posts: the event is in review
    assert notes.count("Content not signed off yet (status: approved)") == 3
    assert notes.count("MPI Deep Dive") >= 3 and "held back)" in page.split("<nav", 1)[1].split("</nav>")[0]


def test_social_posts_are_cards_in_a_grid(run, mpi):
    assert build(run, mpi).exit_code == 0
    page = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    linkedin = page.split('<section id="linkedin"', 1)[1].split("</section>", 1)[0]
    cards = linkedin.split('<div class="cards">', 1)[1]
    assert cards.count('<article class="post"') >= 5 and cards.rstrip().endswith("</div>")


def test_a_dashboard_template_from_an_older_commsflow_is_named_not_a_crash(run, mpi):
    """A project keeps its own templates/; after updating commsflow, a card macro that takes
    fewer arguments than commsflow passes is a message naming the file, not an internal error."""
    card = mpi / "templates" / "dashboard" / "card.html"
    text = card.read_text(encoding="utf-8")
    assert '{% macro card(preview, look, base="") %}' in text
    card.write_text(
        text.replace('{% macro card(preview, look, base="") %}', "{% macro card(preview, look) %}"), "utf-8"
    )
    result = run(mpi, "--lang", "de", *NOW, "build")
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "templates/dashboard/card.html: macro 'card' takes not more than 2 argument(s)" in said
    assert "dashboard/card.html aus dem Ordner templates/ im Repository von commsflow kopieren" in said
    assert "Traceback" not in result.output and "Interner Fehler" not in result.output

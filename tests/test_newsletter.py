"""Newsletter issues from campaign file to files: selection, rendering, checks, outputs.

The shipped MPI issues are built from a copy of the repository's content; smaller
cases write their own campaign next to it. HTML is checked by parsing it, the text
version against golden files (``COMMSFLOW_REGENERATE_GOLDEN=1`` rewrites them).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FIXTURES

NOW = ("--now", "2024-03-01 10:00")
GOLDEN = FIXTURES / "newsletter"
OWN = "https://www.berlin.de/industriestadt/"


class Page(HTMLParser):
    """The parts of an e-mail's HTML the tests look at."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.images: list[dict] = []
        self.headings: dict[str, list[str]] = {"h1": [], "h2": [], "h3": []}
        self.tags: list[str] = []
        self.html_lang = None
        self._open: list[tuple[str, list[str]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag == "img":
            self.images.append(attributes)
        if tag == "a" or tag in self.headings:
            self._open.append((tag, [attributes.get("href") or ""]))

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                name, parts = self._open.pop(index)
                text = " ".join("".join(parts[1:]).split())
                if name == "a":
                    self.links.append((parts[0], text))
                else:
                    self.headings[name].append(text)
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, parts in self._open:
            parts.append(data)

    @property
    def visible(self) -> str:
        return " ".join("".join(self.text).split())


def build(run, root: Path, *args: str):
    return run(root, *NOW, "newsletter", "build", *args)


def outputs(root: Path, issue: str) -> Path:
    return root / "build" / "newsletter" / issue


def write_campaign(root: Path, name: str, text: str) -> Path:
    path = root / "campaigns" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_post(root: Path, slug: str, front: str, body: str = "Text.\n") -> Path:
    path = root / "content" / "posts" / f"{slug}.md"
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return path


SMALL = """\
kind: newsletter
title: Testausgabe
subject: Test
preheader: Vorschau
send_at: 2024-04-04 10:00
period: {{start: 2023-11-08, end: 2024-04-03}}
intro: Hallo.
sections:
{sections}
"""


# --- the shipped issues -------------------------------------------------------------------


@pytest.mark.parametrize("issue", ["newsletter-2023-2", "newsletter-2024-1"])
def test_shipped_issue_text_matches_golden_file(run, mpi, issue):
    result = build(run, mpi, issue)
    assert result.exit_code == 0, result.output
    text = (outputs(mpi, issue) / "email.txt").read_text(encoding="utf-8")
    golden = GOLDEN / f"{issue}.txt"
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_shipped_issue_html_structure(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    folder = outputs(mpi, "newsletter-2024-1")
    html = (folder / "email.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.html_lang == "de"
    assert page.headings["h1"] == ["MPI-Newsletter 1/2024"]
    assert page.headings["h2"] == [
        "Termine",
        "Fördercall Circular Economy",
        "Rückblick",
        "Aus dem Blog",
        "Gesichter des MPI",
        "Aus den Projekten",
    ]
    # Only approved items: the AMBER news (review) and the Deep Dive (review) stay out.
    assert "MPI Deep Dive zum zirkulären Bauen" not in page.headings["h3"]
    assert not any("AMBER: 12" in heading for heading in page.headings["h3"])
    assert "Donnerstag, 25. April 2024, 16:00 Uhr" in page.visible
    assert "Entwurf" not in page.visible
    # The preheader is the first text of the body (mj-preview), hidden.
    assert "Am 25. April 2024 lädt der MPI zum Meet-up" in html
    assert "<title>MPI-Newsletter: Einladung zum MPI Meet-up" in html
    # No web fonts, no third-party requests.
    assert "fonts.googleapis" not in html and "@import" not in html
    assert "script" not in page.tags and "link" not in page.tags
    # MRML passes tags it does not know through unchanged: every mj-* tag must have been compiled.
    assert not [tag for tag in page.tags if tag.startswith("mj-")]


def test_css_is_inlined_and_only_what_cannot_be_stays_in_style(run, mpi):
    """Clients that drop <style> still get the look (tests/test_newsletter_browser.py compares it)."""
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    html = (outputs(mpi, "newsletter-2024-1") / "email.html").read_text(encoding="utf-8")
    style = "\n".join(re.findall(r"<style\b[^>]*>(.*?)</style>", html, re.S))
    body = re.search(r"<body\b[^>]*>", html).group()
    assert 'style="margin:0;padding:0;' in body  # no 8 px browser margin without <style>
    labels = re.findall(r'<p class="label" style="([^"]*)"', html)
    assert len(labels) == html.count('class="label"') > 5
    assert all("font-size:13px" in label and "color:#4d4d4d" in label for label in labels)
    # Rules that were inlined are not sent twice; what cannot be inlined stays: MJML's columns,
    # the dark mode, a client's own wrappers.
    assert ".label { margin" not in style and "h1, h2, h3" not in style and "a { color: #0b4f8a" not in style
    assert "@media only screen and (min-width:480px)" in style
    assert "@media (prefers-color-scheme: dark)" in style and ".cf-card .label" in style
    assert "#outlook a" in style
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html


def test_css_that_cannot_be_inlined_is_a_clear_error(run, mpi, monkeypatch):
    import css_inline

    from commsflow.renderers import newsletter as renderer

    class Refusing:
        def inline(self, html):
            raise css_inline.InlineError("Invalid CSS")

    monkeypatch.setattr(renderer, "_INLINER", Refusing())
    result = _fails_without_writing(run, mpi, "newsletter-2024-1")
    assert "newsletter/email.mjml: the CSS of the compiled e-mail cannot be inlined: Invalid CSS" in result.stderr
    assert "check the rules in the template's <mj-style>" in result.stderr


def test_utm_parameters_only_on_own_content_links_in_the_email(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    folder = outputs(mpi, "newsletter-2024-1")
    links = Page((folder / "email.html").read_text(encoding="utf-8")).links
    assert links, "the e-mail has links"
    service = {
        "https://www.berlin.de/industriestadt/newsletter/abmelden/",
        "https://www.berlin.de/sen/web/impressum/",
        "https://www.berlin.de/sen/web/datenschutz/",
        "https://www.berlin.de/industriestadt/newsletter/newsletter-2024-1/web.html",
    }
    for href, text in links:
        assert href.startswith("https://"), href
        query = parse_qs(urlsplit(href).query)
        if href in service or href.endswith(".ics"):
            assert "utm_source" not in query, (href, text)
        elif href.startswith(OWN):
            assert query == {
                "utm_source": ["newsletter"],
                "utm_medium": ["email"],
                "utm_campaign": ["newsletter-2024-1"],
            }, href
    texts = {text for _, text in links}
    assert {"Im Browser lesen", "In den Kalender", "Newsletter abbestellen", "Impressum"} <= texts
    ics = [href for href, text in links if text == "In den Kalender"]
    assert ics == ["https://www.berlin.de/industriestadt/events/mpi-meet-up-2024.ics"]


def test_web_version_has_no_tracking_and_no_browser_link(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    web = (outputs(mpi, "newsletter-2024-1") / "web.html").read_text(encoding="utf-8")
    assert "utm_" not in web
    page = Page(web)
    assert "Im Browser lesen" not in {text for _, text in page.links}
    assert page.headings["h2"][0] == "Termine"


def test_eml_is_multipart_alternative_with_list_headers(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    raw = (outputs(mpi, "newsletter-2024-1") / "issue.eml").read_bytes()
    assert b"\r\n" in raw  # SMTP line ends
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "Masterplan Industriestadt Berlin <newsletter@senweb.berlin.de>"
    assert message["Subject"].startswith("MPI-Newsletter: Einladung zum MPI Meet-up")
    assert "Fördercall" in message["Subject"]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii() and b"=?utf-8?q?F=C3=B6rdercall?=" in headers  # RFC 2047 encoded words
    assert message["Date"] == "Thu, 04 Apr 2024 10:00:00 +0200"
    assert re.fullmatch(r"<newsletter-2024-1\.[0-9a-f]{16}@senweb\.berlin\.de>", message["Message-ID"])
    # One message for every reader: no reader's own unsubscribe address, so no one-click header
    # (RFC 8058); the list server adds both to each copy (tests/test_listmonk.py).
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    text, html = [part for part in message.iter_parts()]
    assert text.get_content_type() == "text/plain" and text.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == (outputs(mpi, "newsletter-2024-1") / "email.txt").read_text(
        encoding="utf-8"
    )
    assert "Rückblick" in html.get_content()


def test_rebuilding_an_unchanged_issue_gives_identical_files(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    folder = outputs(mpi, "newsletter-2024-1")
    first = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == first


def test_event_calendar_files_and_archive_page(run, mpi):
    assert build(run, mpi, "newsletter-2023-2").exit_code == 0
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    ics = (mpi / "build" / "events" / "mpi-meet-up-2024.ics").read_text(encoding="utf-8")
    assert "DTSTART;TZID=Europe/Berlin:20240425T160000" in ics
    assert "BEGIN:VTIMEZONE" in ics and "TZID:Europe/Berlin" in ics
    assert "SUMMARY:MPI Meet-up im Bosch IoT Campus" in ics
    assert "LOCATION:Bosch IoT Campus\\, Berlin" in ics
    all_day = (mpi / "build" / "events" / "mpi-konferenz-circular-economy-2023.ics").read_text(encoding="utf-8")
    assert "DTSTART;VALUE=DATE:20231128" in all_day and "DTEND;VALUE=DATE:20231129" in all_day
    archive = Page((mpi / "build" / "newsletter" / "index.html").read_text(encoding="utf-8"))
    assert archive.html_lang == "de"
    # On 1 March 2024 issue 1/2024 (4 April) is built but not sent: the archive leaves it out
    # (tests/test_newsletter_archive.py has the rules and the feed).
    assert [link for link in archive.links if link[0].endswith("web.html")] == [
        ("newsletter-2023-2/web.html", "MPI-Newsletter 2/2023"),
    ]


def test_build_without_issue_takes_the_latest_and_lists_the_paths(run, mpi):
    result = build(run, mpi)
    assert result.exit_code == 0, result.output
    assert "Latest issue: newsletter-2024-1" in result.stdout
    for name in ("email.html", "web.html", "email.txt", "issue.eml"):
        assert f"build/newsletter/newsletter-2024-1/{name}" in result.stdout
    assert "build/newsletter/index.html (archive)" in result.stdout


def test_newsletter_list(run, mpi):
    build(run, mpi, "newsletter-2023-2")
    result = run(mpi, *NOW, "newsletter", "list")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("newsletter-")]
    assert [line.split()[0] for line in lines] == ["newsletter-2023-2", "newsletter-2024-1"]
    assert "08.11.2023" in lines[0] and "yes" in lines[0]
    assert "04.04.2024" in lines[1] and "–" in lines[1]


def test_unknown_issue_suggests_the_closest(run, mpi):
    result = build(run, mpi, "newsletter-2024-2")
    assert result.exit_code == 1
    assert "no newsletter issue 'newsletter-2024-2'" in result.stderr
    assert "did you mean 'newsletter-2024-1'?" in result.stderr


# --- selection -------------------------------------------------------------------------------


def test_drafts_are_included_and_marked_only_with_drafts(run, mpi):
    result = build(run, mpi, "newsletter-2024-1", "--drafts")
    assert result.exit_code == 0, result.output
    assert "'mpi-deep-dive-zirkulaeres-bauen-2024' is review — shown marked as Entwurf" in result.stdout
    folder = outputs(mpi, "newsletter-2024-1") / "preview"  # never the approved issue's files
    page = Page((folder / "email.html").read_text(encoding="utf-8"))
    assert "MPI Deep Dive zum zirkulären Bauen" in page.headings["h3"]
    assert "Entwurf" in page.visible and "Vorschau mit Entwürfen" in page.visible
    text = (folder / "email.txt").read_text(encoding="utf-8")
    assert "[ENTWURF] MPI Deep Dive zum zirkulären Bauen" in text
    assert "Mittwoch, 10. Juli 2024" in text


def test_an_item_appears_in_one_section_only_and_explicit_items_win(run, mpi):
    # The Fördercall post is featured in its own section, later than "Aus dem Blog",
    # whose rule would also select it.
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    html = (outputs(mpi, "newsletter-2024-1") / "email.html").read_text(encoding="utf-8")
    headings = Page(html).headings["h3"]
    assert len(headings) == len(set(headings))
    assert headings.count("Fördercall Circular Economy: 22 Projektvorschläge, acht in der zweiten Stufe") == 1


def test_selection_window_is_half_open_sorted_and_limited(run, mpi):
    # Send time equals the meet-up's start: "from: send" includes it, "until: send" does not.
    write_campaign(
        mpi,
        "fenster",
        SMALL.replace("send_at: 2024-04-04 10:00", "send_at: 2024-04-25 16:00").format(
            sections="""\
  - title: Vorher
    select: {type: event, from: 2023-01-01, until: send}
  - title: Ab Versand
    select: {type: event, from: send, until: send + 1 day}
  - title: Neueste Beiträge
    select: {type: post, from: 2024-03-01, until: 2024-03-13, limit: 2}
  - title: Nach Titel
    select: {type: post, from: 2024-03-01, until: 2024-03-13, sort: title}
"""
        ),
    )
    result = build(run, mpi, "fenster")
    assert result.exit_code == 0, result.output
    text = (outputs(mpi, "fenster") / "email.txt").read_text(encoding="utf-8")
    sections = re.split(r"\n\n\n(\S[^\n]*)\n-+\n", text)
    found = {sections[i]: sections[i + 1] for i in range(1, len(sections) - 1, 2)}
    assert "MPI Meet-up" not in found["Vorher"] and "MPI Konferenz Circular Economy" in found["Vorher"]
    assert "MPI Meet-up im Bosch IoT Campus" in found["Ab Versand"]
    newest = found["Neueste Beiträge"]
    assert newest.index("Das MPI-Jahr 2024") < newest.index("Fördercall Circular Economy")
    assert "2. Monitoring-Bericht" not in newest  # limit 2, newest first
    # Items already placed are not repeated; the remaining one is the monitoring report.
    assert "2. Monitoring-Bericht" in found["Nach Titel"] and "Das MPI-Jahr" not in found["Nach Titel"]


def test_item_summary_can_be_worded_for_the_issue(run, mpi):
    write_campaign(
        mpi,
        "teaser",
        SMALL.format(
            sections="""\
  - title: Termine
    items:
      - item: mpi-meet-up-2024
        summary: Eigener Teaser für diese Ausgabe.
"""
        ),
    )
    assert build(run, mpi, "teaser").exit_code == 0
    text = (outputs(mpi, "teaser") / "email.txt").read_text(encoding="utf-8")
    assert "Eigener Teaser für diese Ausgabe." in text
    assert "Das MPI Meet-up gibt Einblicke" not in text


# --- escaping, links and images ---------------------------------------------------------------


def test_hostile_markup_is_refused_before_anything_is_rendered(run, mpi):
    write_post(
        mpi,
        "2024-03-15-boese",
        """\
title: "<script>alert('x')</script> Rock & Roll „zitiert“"
status: approved
category: Aktuelles
date: 2024-03-15
summary: "<img src=x onerror=alert(1)> <b>fett</b>"
""",
    )
    write_campaign(
        mpi,
        "boese",
        SMALL.format(
            sections="""\
  - title: "<i>Abschnitt</i>"
    items: [2024-03-15-boese]
"""
        ),
    )
    result = build(run, mpi, "boese")
    # Issue 12, item 10: markup in content is refused before anything is rendered (the
    # templates escape all the same; a release's Markdown would keep it as written).
    assert result.exit_code == 1
    assert "sections[0].title: raw HTML (<i>) is not allowed here" in " ".join(result.output.split())
    assert not (outputs(mpi, "boese") / "email.html").exists()
    check = " ".join(run(mpi, "check").output.split())
    assert "title: raw HTML (<script>) is not allowed here" in check
    assert "summary: raw HTML (<img src=x onerror=alert(1)>) is not allowed here" in check


def test_external_item_links_are_left_alone(run, mpi):
    write_post(
        mpi,
        "2024-03-15-extern",
        """\
title: Partnerbeitrag
status: approved
category: Aktuelles
date: 2024-03-15
summary: Ein Beitrag auf einer Partnerseite.
url: https://www.berlin-partner.de/news/amber?ref=mpi
""",
    )
    write_campaign(
        mpi,
        "extern",
        SMALL.format(
            sections="""\
  - title: Extern
    items: [2024-03-15-extern]
"""
        ),
    )
    assert build(run, mpi, "extern").exit_code == 0
    links = Page((outputs(mpi, "extern") / "email.html").read_text(encoding="utf-8")).links
    assert ("https://www.berlin-partner.de/news/amber?ref=mpi", "Zum Artikel") in links


def test_intro_links_get_utm_when_own_and_keep_their_query(run, mpi):
    write_campaign(
        mpi,
        "intro",
        SMALL.replace(
            "intro: Hallo.",
            "intro: 'Siehe [Blog](https://www.berlin.de/industriestadt/blog/?seite=2#neu) und [Partner](https://example.org/a).'",
        ).format(sections="  - title: Termine\n    items: [mpi-meet-up-2024]\n"),
    )
    assert build(run, mpi, "intro").exit_code == 0
    links = dict(
        (text, href) for href, text in Page((outputs(mpi, "intro") / "email.html").read_text(encoding="utf-8")).links
    )
    assert links["Blog"] == (
        "https://www.berlin.de/industriestadt/blog/?seite=2&utm_source=newsletter"
        "&utm_medium=email&utm_campaign=intro#neu"
    )
    assert links["Partner"] == "https://example.org/a"
    web = Page((outputs(mpi, "intro") / "web.html").read_text(encoding="utf-8")).links
    assert ("https://www.berlin.de/industriestadt/blog/?seite=2#neu", "Blog") in web


def tiny_png() -> bytes:
    """A real PNG: a local image must be one by content (Pillow verifies it)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(out, "PNG")
    return out.getvalue()


def test_featured_image_from_a_relative_path_is_copied_and_linked_absolutely(run, mpi):
    png = tiny_png()
    (mpi / "content" / "posts" / "bild.png").write_bytes(png)
    write_post(
        mpi,
        "2024-03-15-bild",
        """\
title: Mit Bild
status: approved
category: Aktuelles
date: 2024-03-15
summary: Ein Beitrag mit Bild.
image: {src: bild.png, alt: "Werkhalle im Modell-Campus ringberlin", credit: "Bild: KOIMO"}
""",
    )
    write_campaign(mpi, "bild", SMALL.format(sections="  - title: Bild\n    featured: 2024-03-15-bild\n"))
    result = build(run, mpi, "bild")
    assert result.exit_code == 0, result.output
    images = Page((outputs(mpi, "bild") / "email.html").read_text(encoding="utf-8")).images
    assert [(i["src"], i["alt"]) for i in images] == [
        ("https://www.berlin.de/industriestadt/media/2024-03-15-bild/bild.png", "Werkhalle im Modell-Campus ringberlin")
    ]
    # Outlook sizes images by the attribute, not CSS: it must fit the 552 px text column.
    assert images[0]["width"] == "552"
    assert (mpi / "build" / "media" / "2024-03-15-bild" / "bild.png").read_bytes() == png


# --- checks: each a clear message, nothing written on error ----------------------------------


def _fails_without_writing(run, root: Path, issue: str):
    result = build(run, root, issue)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not outputs(root, issue).exists()
    return result


def test_unknown_item_is_an_error_with_suggestion(run, mpi):
    path = write_campaign(mpi, "fehler", SMALL.format(sections="  - title: Termine\n    items: [mpi-meetup-2024]\n"))
    result = _fails_without_writing(run, mpi, "fehler")
    line = path.read_text().splitlines().index("    items: [mpi-meetup-2024]") + 1
    assert (
        f"campaigns/fehler.yaml:{line}: sections[0].items[0]: no item 'mpi-meetup-2024' in the content "
        "library — did you mean 'mpi-meet-up-2024'?"
    ) in result.stdout


def test_unapproved_explicit_item_is_an_error_without_drafts(run, mpi):
    write_campaign(
        mpi,
        "entwurf",
        SMALL.format(
            sections="  - title: Gesichter\n    featured: 2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle\n"
        ),
    )
    result = _fails_without_writing(run, mpi, "entwurf")
    assert (
        "sections[0].featured: '2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle' is left out: it is still a "
        "draft, not approved "
        "— approve content/posts/2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle.md (status: approved) "
        "or preview with --drafts"
    ) in result.stdout
    assert build(run, mpi, "entwurf", "--drafts").exit_code == 0


def test_item_named_twice_is_an_error(run, mpi):
    write_campaign(
        mpi,
        "doppelt",
        SMALL.format(
            sections="""\
  - title: Eins
    items: [mpi-meet-up-2024]
  - title: Zwei
    featured: mpi-meet-up-2024
"""
        ),
    )
    result = _fails_without_writing(run, mpi, "doppelt")
    assert "'mpi-meet-up-2024' is already in the issue (at sections[0].items[0])" in result.stdout


def test_empty_section_and_missing_preheader_are_warnings(run, mpi):
    write_campaign(
        mpi,
        "leer",
        SMALL.replace("preheader: Vorschau\n", "").format(
            sections="""\
  - title: Termine
    items: [mpi-meet-up-2024]
  - title: Nichts
    select: {type: event, from: 2030-01-01, until: 2031-01-01}
"""
        ),
    )
    result = build(run, mpi, "leer")
    assert result.exit_code == 0, result.output
    assert "campaigns/leer.yaml:1: preheader: no preheader — add 'preheader:'" in result.stdout
    assert "sections[1]: section 'Nichts' is empty" in result.stdout
    assert "2 warnings" in result.stdout
    assert "Nichts" not in Page((outputs(mpi, "leer") / "email.html").read_text(encoding="utf-8")).headings["h2"]


@pytest.mark.parametrize(
    "link, why",
    [
        ("/industriestadt/blog/", "is relative; mail clients cannot resolve it"),
        ("blog.html", "is relative; mail clients cannot resolve it"),
        ("ftp://example.org/datei", "uses ftp:, not http(s)"),
    ],
)
def test_relative_or_non_http_links_are_errors(run, mpi, link, why):
    write_campaign(
        mpi,
        "links",
        SMALL.replace("intro: Hallo.", f"intro: 'Siehe [hier]({link}).'").format(
            sections="  - title: Termine\n    items: [mpi-meet-up-2024]\n"
        ),
    )
    result = _fails_without_writing(run, mpi, "links")
    assert f"campaigns/links.yaml:7: intro: link '{link}' {why} — write the full address" in result.stdout


def test_intro_image_without_alt_text_is_an_error(run, mpi):
    write_campaign(
        mpi,
        "alt",
        SMALL.replace("intro: Hallo.", "intro: '![](https://www.berlin.de/industriestadt/a.png)'").format(
            sections="  - title: Termine\n    items: [mpi-meet-up-2024]\n"
        ),
    )
    result = _fails_without_writing(run, mpi, "alt")
    assert (
        "campaigns/alt.yaml:7: intro: image 'https://www.berlin.de/industriestadt/a.png' has no alt text"
        in result.stdout
    )


def test_missing_image_file_is_an_error(run, mpi):
    write_post(
        mpi,
        "2024-03-15-bild",
        """\
title: Mit Bild
status: approved
category: Aktuelles
date: 2024-03-15
image: {src: fehlt.png, alt: Beschreibung}
""",
    )
    write_campaign(mpi, "bild", SMALL.format(sections="  - title: Bild\n    featured: 2024-03-15-bild\n"))
    result = _fails_without_writing(run, mpi, "bild")
    assert "content/posts/2024-03-15-bild.md:6: image.src: image 'fehlt.png' not found" in result.stdout


@pytest.mark.parametrize(
    "kilobytes, exit_code, message",
    [
        (95, 0, "close to Gmail's clipping at 102 KB"),
        (110, 1, "Gmail clips messages over 102 KB"),
    ],
)
def test_gmail_clipping_threshold(run, mpi, kilobytes, exit_code, message):
    # The issue around it (one event, header, footer) is about 16 KB of HTML.
    words = " ".join(["Industriestadt"] * ((kilobytes - 16) * 1024 // 15))
    write_campaign(
        mpi,
        "gross",
        SMALL.replace("intro: Hallo.", f"intro: '{words}'").format(
            sections="  - title: Termine\n    items: [mpi-meet-up-2024]\n"
        ),
    )
    result = build(run, mpi, "gross")
    assert result.exit_code == exit_code, result.output
    assert message in result.stdout
    assert outputs(mpi, "gross").exists() == (exit_code == 0)


def test_failed_build_keeps_the_previous_outputs(run, mpi):
    assert build(run, mpi, "newsletter-2024-1").exit_code == 0
    folder = outputs(mpi, "newsletter-2024-1")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    campaign = mpi / "campaigns" / "newsletter-2024-1.yaml"
    campaign.write_text(
        campaign.read_text().replace("featured: 2024-03-06-foerdercall", "featured: 2024-03-06-gibtsnicht")
    )
    assert build(run, mpi, "newsletter-2024-1").exit_code == 1
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert not [path for path in folder.iterdir() if path.name.endswith(".tmp")]


def test_content_errors_stop_the_build(run, mpi):
    write_post(mpi, "2024-03-15-kaputt", "title: Kaputt\nstatus: aproved\ncategory: Aktuelles\ndate: 2024-03-15")
    result = _fails_without_writing(run, mpi, "newsletter-2024-1")
    assert "content/posts/2024-03-15-kaputt.md:3: status:" in result.stdout
    assert "error: 1 error in the content\n  hint: fix them first (commsflow check)" in result.stderr


def test_template_mistakes_name_the_template_and_line(run, mpi):
    template = mpi / "templates" / "newsletter" / "_footer.mjml"
    lines = template.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("footer.sender_name", "footer.sendername")
    template.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _fails_without_writing(run, mpi, "newsletter-2024-1")
    assert f"{template}:5: 'dict object' has no attribute 'sendername'" in result.stderr


def test_missing_templates_are_a_clear_error(run, mpi):
    import shutil

    shutil.rmtree(mpi / "templates")
    result = _fails_without_writing(run, mpi, "newsletter-2024-1")
    assert "templates/newsletter/email.mjml: template not found" in result.stderr


def test_event_card_with_end_time_registration_and_multi_day(run, mpi):
    events = mpi / "content" / "events"
    (events / "werkstatt-2024.md").write_text(
        """\
---
title: MPI Dialogformat Werkstatt
status: approved
format: MPI Dialogformat
start: 2024-05-14 09:30
end: 2024-05-14 13:00
organiser: mpi
venue: {name: Impact Hub Berlin, address: Rollbergstraße 28A, city: Berlin}
registration: https://www.berlin.de/industriestadt/anmeldung/werkstatt/
summary: Eine Werkstatt für die MPI-Community.
---
Text.
""",
        encoding="utf-8",
    )
    (events / "tage-2024.md").write_text(
        """\
---
title: Zwei Tage Industrie
status: approved
format: Konferenz
start: 2024-06-03
end: 2024-06-04
organiser: mpi
registration: https://partner.example.org/tickets
---
Text.
""",
        encoding="utf-8",
    )
    write_campaign(
        mpi,
        "termine",
        SMALL.format(
            sections="""\
  - title: Termine
    select: {type: event, from: send, until: send + 10 weeks, tags: [], projects: []}
"""
        ),
    )
    assert build(run, mpi, "termine").exit_code == 0
    text = (outputs(mpi, "termine") / "email.txt").read_text(encoding="utf-8")
    assert "Dienstag, 14. Mai 2024, 09:30–13:00 Uhr\nImpact Hub Berlin, Rollbergstraße 28A, Berlin" in text
    assert "Montag, 3. Juni 2024 bis Dienstag, 4. Juni 2024" in text
    links = Page((outputs(mpi, "termine") / "email.html").read_text(encoding="utf-8")).links
    registration = [href for href, text in links if text == "Zur Anmeldung"]
    assert registration == [
        "https://www.berlin.de/industriestadt/anmeldung/werkstatt/?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=termine",
        "https://partner.example.org/tickets",
    ]
    ics = (mpi / "build" / "events" / "werkstatt-2024.ics").read_text(encoding="utf-8")
    assert "DTEND;TZID=Europe/Berlin:20240514T130000" in ics


def test_selection_by_tags_and_projects(run, mpi):
    write_campaign(
        mpi,
        "themen",
        SMALL.format(
            sections="""\
  - title: Metaverse
    select: {type: [event, post], tags: [Metaverse], from: 2023-01-01, until: 2025-01-01}
  - title: Ringberlin
    select: {type: [news, post], projects: [modell-campus-ringberlin], from: 2023-01-01, until: 2025-01-01}
"""
        ),
    )
    assert build(run, mpi, "themen").exit_code == 0
    page = Page((outputs(mpi, "themen") / "email.html").read_text(encoding="utf-8"))
    assert "MPI Meet-up im Bosch IoT Campus" in page.headings["h3"]
    assert "Modell-Campus ringberlin: Baustart für Europas größten Makerspace" in page.headings["h3"]
    assert "Mädchen-Technik-Kongress 2023" not in page.headings["h3"]
    assert all("Circular City" not in heading for heading in page.headings["h3"])

"""``commsflow feeds`` against a real local HTTP server (pytest-httpserver on 127.0.0.1).

The fixture feeds in ``tests/fixtures/feeds/`` are real-shaped (each says what it shows
in a comment at its top); the server adds what files cannot: conditional GET with ETag
and Last-Modified, redirects, 404/410/500, an empty answer, a 10 MB answer and a slow
one. Every test works in a copy of the shipped MPI project, so the news written must
load cleanly next to the real content.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, assumed_end
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from commsflow import frontmatter

FEEDS = FIXTURES / "feeds"
NOW = ("--now", "2024-03-15 10:00")
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
UA = "commsflow/0.1.0 (+https://www.berlin.de/industriestadt/masterplan-industriestadt-berlin/)"
LAST_MODIFIED = "Tue, 20 Feb 2024 09:12:44 GMT"


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def server():
    # threaded: feeds are fetched concurrently, and a slow handler must not hold up the others
    http = HTTPServer(host="127.0.0.1", threaded=True)
    http.start()
    yield http
    http.clear()
    http.stop()


@pytest.fixture
def http(server):
    server.clear()
    yield server
    server.clear()


def conditional(
    body: bytes, content_type: str = RSS, *, etag: str | None = '"v1"', last_modified: str | None = LAST_MODIFIED
):
    """A handler like a real web server's: 304 when the validators match, else the feed."""

    def handle(request: Request) -> Response:
        if etag and request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        if not etag and last_modified and request.headers.get("If-Modified-Since") == last_modified:
            return Response(status=304)
        headers = {}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        return Response(body, status=200, content_type=content_type, headers=headers)

    return handle


def serve(http: HTTPServer, path: str, fixture: str | None = None, content_type: str = RSS, **validators) -> str:
    body = (FEEDS / fixture).read_bytes() if fixture else b""
    http.expect_request(path).respond_with_handler(conditional(body, content_type, **validators))
    return http.url_for(path)


def requests_to(http: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in http.log if request.path == path]


# ---------------------------------------------------------------- the project


def feed_list(root: Path, feeds: list[dict], **fetch) -> None:
    data = {"feeds": feeds}
    if fetch:
        data = {"fetch": fetch, **data}
    (root / "feeds.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def news_files(root: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((root / "content" / "news").glob("*.md"))}


def new_files(root: Path, before: dict[str, str]) -> dict[str, str]:
    return {name: text for name, text in news_files(root).items() if name not in before}


def front(text: str) -> dict:
    """The front matter as commsflow reads it (dates stay text)."""
    return frontmatter.parse(frontmatter.split("news.md", text))


def table_row(output: str, feed: str) -> list[str]:
    """The summary table's row of ``feed``: feed, HTTP, new, duplicates, warnings, errors."""
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] == feed:
            http = " ".join(cells[1:-4])
            return [feed, http, *cells[-4:]]
    raise AssertionError(f"no row for {feed} in:\n{output}")


def fetch(run, root: Path, *names: str, now=NOW):
    result = run(root, *now, "feeds", "fetch", *names)
    assert "Traceback" not in result.output
    return result


def check_is_clean(run, root: Path) -> None:
    result = run(root, *NOW, "check")
    assert result.exit_code == 0, result.output
    assert "0 errors," in result.stdout
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning ") and not assumed_end(line)]
    assert not warnings, result.stdout


# ---------------------------------------------------------------- importing


WORDPRESS_NEWS = """\
---
title: 'Circular City Challenge 2023: 13 zirkuläre Lösungen für Berlin'
status: review
date: 2024-02-20
projects:
- circular-city-challenge
source: circular-berlin
link: https://circular.example.org/2024/02/circular-city-challenge-2023/
guid: https://circular.example.org/?p=4711
tags:
- Circular Economy
summary: Etwa 130 Unternehmen und Organisationen reichten 2023 zirkuläre Lösungen ein. In Berlin wurden 13 Lösungen ausgewählt, standortübergreifend 23 ausgezeichnet.
summary_html: <p>Etwa 130 Unternehmen und Organisationen reichten 2023 zirkuläre Lösungen ein. In Berlin wurden 13 Lösungen ausgewählt, standortübergreifend 23 ausgezeichnet. Unter den Gewinnern ist das Berliner Unternehmen Concular. […]</p>
---
Etwa 130 Unternehmen und Organisationen reichten 2023 zirkuläre Lösungen ein. In Berlin wurden 13 Lösungen ausgewählt, standortübergreifend 23 ausgezeichnet.
"""


def test_fetch_writes_news_for_review_from_every_kind_of_feed(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "circular-berlin",
                "url": serve(http, "/wp/feed/", "wordpress_rss2_content_encoded.xml"),
                "project": "circular-city-challenge",
                "tags": ["Circular Economy"],
            },
            {
                "name": "inam",
                "url": serve(http, "/inam/feed.atom", "atom_xml_base_relative_links.xml", ATOM),
                "project": "future-of-computing-conference",
            },
            {
                "name": "fbh",
                "url": serve(http, "/fbh/rss.rdf", "rss1_rdf.xml", "application/rdf+xml"),
                "project": "maedchen-technik-kongress",
            },
            {
                "name": "its-bb",
                "url": serve(
                    http, "/itsbb/rss.xml", "iso_8859_1_encoded.xml", "application/rss+xml; charset=ISO-8859-1"
                ),
                "project": "its-inberlin",
            },
            {
                "name": "amber",
                "url": serve(http, "/amber/rss", "entities_and_cdata.xml"),
                "project": "amber-initiative",
                "tags": ["3D-Druck"],
            },
        ],
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    written = new_files(mpi, before)
    assert written["2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin.md"] == WORDPRESS_NEWS
    # the feed's order; 23:30 UTC on 15 January is the 16th in Berlin
    assert [name for name in written if "circular" in front(written[name])["source"]] == [
        "2023-11-30-meetup-reparieren-statt-wegwerfen.md",
        "2024-01-16-groesser-denken-zirkulaeres-bauen-im-stadtquartier.md",
        "2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin.md",
    ]
    bauen = front(written["2024-01-16-groesser-denken-zirkulaeres-bauen-im-stadtquartier.md"])
    assert bauen["link"] == "https://circular.example.org/2024/01/zirkulaeres-bauen-im-stadtquartier/"  # no #more
    # "Dr." and "5" do not end a sentence; the teaser is two sentences, without "[…]"
    assert bauen["summary"] == (
        "Wie Quartiere Baustoffe im Kreislauf führen können, zeigte ein Werkstattgespräch "
        "mit Bezirken und Bauwirtschaft. Dr. Maria Beispiel stellte dazu 5 Prinzipien vor."
    )

    # Atom: xml:base makes entry links and links in the HTML absolute; <updated> stands in for <published>
    atom = {front(text)["title"]: front(text) for text in written.values() if front(text)["source"] == "inam"}
    assert (
        atom["Future of Computing Conference: Quanten-Computing im Fokus"]["link"]
        == "https://www.inam.example.org/news/2023/future-of-computing-conference.html"
    )
    assert (
        'href="https://www.inam.example.org/news/programm.pdf"'
        in atom["Future of Computing Conference: Quanten-Computing im Fokus"]["summary_html"]
    )
    archive = atom["Rückblick 2022: Netzwerktreffen Materialien"]
    assert archive["link"] == "https://www.inam.example.org/news/archiv/netzwerktreffen-2022.html"
    assert archive["date"] == "2022-12-01"
    assert archive["summary_html"] == (
        '<p>Ein Jahr Netzwerk: <a href="https://www.inam.example.org/news/archiv/bilder/" '
        'rel="noopener noreferrer">Bilder</a> und <em>Stimmen</em>.</p>'
    )
    assert atom["Call for Papers 2024"]["link"] == "https://www.inam.example.org/cfp-2024"  # <em> is gone

    # RSS 1.0: dc:date; the Mädchen-Technik-Kongress is already in content/news (same title and text)
    assert "2023-09-02-tag-der-offenen-tuer-in-adlershof.md" in written
    assert not [name for name in written if "maedchen" in name]
    assert table_row(result.stdout, "fbh") == ["fbh", "200", "1", "1", "0", "0"]

    # ISO-8859-1 in, UTF-8 out
    raw = (mpi / "content/news/2024-03-12-groessere-sicherheit-fuer-berliner-fertigungsbetriebe.md").read_bytes()
    assert "title: Größere Sicherheit für Berliner Fertigungsbetriebe".encode() in raw
    assert "Überblick, Übungen".encode() in raw

    # entities and CDATA; text a CMS escaped twice shows no tags
    amber = {front(text)["title"]: front(text) for text in written.values() if front(text)["source"] == "amber"}
    assert set(amber) == {
        "AMBER: 12 Projekte für den 3D-Druck „Made in Berlin“ & Brandenburg",
        "Spotlight on: Metall 3D-Druck in der Praxis",
    }
    first = amber["AMBER: 12 Projekte für den 3D-Druck „Made in Berlin“ & Brandenburg"]
    assert first["link"] == "https://www.amber.example.org/news/12-projekte?id=7&lang=de"
    assert first["summary"].endswith("mit insgesamt 25 regionalen Partnern entstanden – sie laufen bis Ende 2025.")
    assert (
        amber["Spotlight on: Metall 3D-Druck in der Praxis"]["summary"]
        == "Tech Tour zu Laserschmelzen & Nachbearbeitung – 24 Teilnehmende."
    )
    assert (
        (mpi / "content/news/2024-01-25-spotlight-on-metall-3d-druck-in-der-praxis.md")
        .read_text(encoding="utf-8")
        .endswith("---\nTech Tour zu Laserschmelzen \\& Nachbearbeitung – 24 Teilnehmende.\n")
    )

    for text in written.values():
        meta = front(text)
        assert meta["status"] == "review"
        assert "date_assumed" not in meta
    assert table_row(result.stdout, "circular-berlin") == ["circular-berlin", "200", "3", "0", "0", "0"]
    assert table_row(result.stdout, "inam") == ["inam", "200", "3", "0", "0", "0"]
    assert table_row(result.stdout, "its-bb") == ["its-bb", "200", "1", "0", "0", "0"]
    assert (
        "+ content/news/2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin.md" in result.stdout
    )
    assert result.stdout.rstrip().endswith("✓ 5 feeds fetched: 10 new news items for review, 1 duplicate")
    check_is_clean(run, mpi)
    listed = json.loads(run(mpi, *NOW, "list", "news", "--status", "review", "--json").stdout)
    imported = {row["slug"]: row["meta"] for row in listed if row["meta"].get("source") == "circular-berlin"}
    assert (
        imported["2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin"]["guid"]
        == "https://circular.example.org/?p=4711"
    )


def test_second_fetch_is_conditional_and_writes_nothing(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "circular-berlin",
                "url": serve(http, "/etag.xml", "wordpress_rss2_content_encoded.xml"),
                "project": "circular-city-challenge",
            },
            {
                "name": "pcg",
                "url": serve(http, "/modified.xml", "duplicate_guids.xml", etag=None),
                "project": "kreislaufwirtschaft-kunststoffindustrie",
            },
        ],
    )
    assert fetch(run, mpi).exit_code == 0
    after_first = {path: path.stat().st_mtime_ns for path in (mpi / "content" / "news").iterdir()}
    second = fetch(run, mpi, now=("--now", "2024-03-16 10:00"))
    assert second.exit_code == 0, second.output
    assert {path: path.stat().st_mtime_ns for path in (mpi / "content" / "news").iterdir()} == after_first

    first_etag, second_etag = requests_to(http, "/etag.xml")
    assert "If-None-Match" not in first_etag.headers
    assert second_etag.headers["If-None-Match"] == '"v1"'
    assert second_etag.headers["If-Modified-Since"] == LAST_MODIFIED
    first_modified, second_modified = requests_to(http, "/modified.xml")
    assert "If-Modified-Since" not in first_modified.headers
    assert second_modified.headers["If-Modified-Since"] == LAST_MODIFIED
    assert "If-None-Match" not in second_modified.headers
    for request in (first_etag, second_modified):
        assert request.headers["User-Agent"] == UA
        assert "gzip" in request.headers["Accept-Encoding"]

    assert table_row(second.stdout, "circular-berlin") == ["circular-berlin", "304", "0", "0", "0", "0"]
    assert table_row(second.stdout, "pcg") == ["pcg", "304", "0", "0", "0", "0"]
    assert second.stdout.rstrip().endswith("✓ 2 feeds fetched: 0 new news items for review, 0 duplicates")


def test_a_feed_without_validators_is_read_again_and_nothing_is_imported_twice(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "circular-berlin",
                "project": "circular-city-challenge",
                "url": serve(http, "/plain.xml", "wordpress_rss2_content_encoded.xml", etag=None, last_modified=None),
            }
        ],
    )
    assert table_row(fetch(run, mpi).stdout, "circular-berlin") == ["circular-berlin", "200", "3", "0", "0", "0"]
    before = news_files(mpi)
    again = fetch(run, mpi)
    assert table_row(again.stdout, "circular-berlin") == ["circular-berlin", "200", "0", "3", "0", "0"]
    assert news_files(mpi) == before


def test_duplicates_by_guid_then_link_then_content(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "pcg",
                "url": serve(http, "/pcg.xml", "duplicate_guids.xml"),
                "project": "kreislaufwirtschaft-kunststoffindustrie",
            }
        ],
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    assert list(new_files(mpi, before)) == ["2023-10-02-projektstart-kreislaufwirtschaft-in-der-kunststoffindustrie.md"]
    assert table_row(result.stdout, "pcg") == ["pcg", "200", "1", "3", "0", "0"]
    check_is_clean(run, mpi)


def test_news_already_in_the_content_folder_are_recognised_without_state(run, mpi, http):
    url = serve(http, "/wp.xml", "wordpress_rss2_content_encoded.xml")
    feed_list(mpi, [{"name": "circular-berlin", "url": url, "project": "circular-city-challenge"}])
    assert fetch(run, mpi).exit_code == 0
    news = mpi / "content" / "news"
    # An editor renames one file and edits another's title; the state folder is lost.
    (news / "2023-11-30-meetup-reparieren-statt-wegwerfen.md").rename(news / "2023-11-30-repair-meetup.md")
    edited = news / "2024-01-16-groesser-denken-zirkulaeres-bauen-im-stadtquartier.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Größer denken: ", ""), encoding="utf-8")
    shutil.rmtree(mpi / ".commsflow")
    before = news_files(mpi)
    again = fetch(run, mpi)
    assert table_row(again.stdout, "circular-berlin") == ["circular-berlin", "200", "0", "3", "0", "0"]
    assert news_files(mpi) == before


def test_an_existing_file_is_never_overwritten(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "robotik",
                "url": serve(http, "/robotik.xml", "future_dates.xml"),
                "project": "berliner-robotiknetzwerk",
            }
        ],
    )
    taken = mpi / "content/news/2023-12-01-netzwerk-gegruendet.md"
    own = (
        "---\ntitle: Netzwerk gegründet\nstatus: approved\ndate: 2023-12-01\nprojects: [berliner-robotiknetzwerk]\n"
        "---\nVon der Redaktion selbst geschrieben.\n"
    )
    taken.write_text(own, encoding="utf-8")
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    assert taken.read_text(encoding="utf-8") == own
    written = new_files(mpi, before)
    suffixed = [name for name in written if name.startswith("2023-12-01-netzwerk-gegruendet-")]
    assert len(suffixed) == 1 and len(suffixed[0]) == len("2023-12-01-netzwerk-gegruendet-123abc.md")
    assert front(written[suffixed[0]])["guid"] == "robotik-1"
    check_is_clean(run, mpi)


def test_missing_and_future_dates(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "ringberlin",
                "url": serve(http, "/ring.xml", "missing_dates.xml"),
                "project": "modell-campus-ringberlin",
            },
            {
                "name": "robotik",
                "url": serve(http, "/robotik.xml", "future_dates.xml"),
                "project": "berliner-robotiknetzwerk",
            },
        ],
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    written = new_files(mpi, before)
    undated = front(written["2024-03-15-baustart-fuer-den-makerspace.md"])
    assert undated["date"] == "2024-03-15" and undated["date_assumed"] is True
    untitled = front(written["2024-03-15-die-werkstaetten-oeffnen-im-fruehjahr-fuer-erste-nutzerinnen-und-nutzer.md"])
    assert untitled["title"] == "Die Werkstätten öffnen im Frühjahr für erste Nutzerinnen und Nutzer."
    assert "guid" not in untitled
    future = front(written["2031-10-01-robotik-tag-2031.md"])
    assert future["date"] == "2031-10-01" and "date_assumed" not in future
    for line in (
        "warning ringberlin: entry 'Baustart für den Makerspace': it has no date; dated with the day of the fetch "
        "(date_assumed: true) — check the date before approving",
        "warning ringberlin: an entry has no title; titled 'Die Werkstätten öffnen im Frühjahr für erste Nutzerinnen "
        "und Nutzer.' from its text — edit the title before approving",
        "warning robotik: entry 'Robotik-Tag 2031' is dated in the future (2031-10-01) — check the date before "
        "approving",
    ):
        assert line in result.stdout
    assert table_row(result.stdout, "ringberlin") == ["ringberlin", "200", "2", "0", "3", "0"]
    assert table_row(result.stdout, "robotik") == ["robotik", "200", "2", "0", "1", "0"]
    check_is_clean(run, mpi)


def test_malformed_xml_yields_the_recovered_entries_with_a_warning(run, mpi, http):
    feed_list(
        mpi,
        [
            {
                "name": "htw",
                "url": serve(http, "/htw.xml", "malformed_not_well_formed.xml"),
                "project": "weiterfuehrung-digital-plus",
            }
        ],
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    assert (
        "warning htw: the feed is not well-formed XML (line 12: not well-formed (invalid token)); 2 entries "
        "recovered — the entries were read as well as possible; tell the partner"
    ) in result.stdout
    assert sorted(new_files(mpi, before)) == [
        "2024-03-01-digital-geht-weiter.md",
        "2024-03-04-workshop-daten-ki-fuer-kmu.md",
    ]
    assert table_row(result.stdout, "htw") == ["htw", "200", "2", "0", "1", "0"]
    check_is_clean(run, mpi)


def test_encodings_declared_loosely_or_wrongly(run, mpi, http):
    # text/xml without charset means us-ascii by RFC 3023, which nobody means: no warning
    loose = serve(http, "/loose.xml", "rss1_rdf.xml", "text/xml")
    # Latin-1 bytes declared as UTF-8: read as Windows-1252, with a warning
    wrong = (FEEDS / "iso_8859_1_encoded.xml").read_bytes().replace(b'encoding="ISO-8859-1"', b'encoding="UTF-8"')
    http.expect_request("/wrong.xml").respond_with_data(wrong, content_type="application/rss+xml")
    feed_list(
        mpi,
        [
            {"name": "fbh", "url": loose, "project": "maedchen-technik-kongress"},
            {"name": "its-bb", "url": http.url_for("/wrong.xml"), "project": "its-inberlin"},
        ],
    )
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    assert table_row(result.stdout, "fbh") == ["fbh", "200", "1", "1", "0", "0"]
    assert (
        "warning its-bb: the feed's declared encoding is wrong (document declared as utf-8, but parsed as "
        "windows-1252); read as well as possible — check umlauts in its news; tell the partner"
    ) in result.stdout
    text = (mpi / "content/news/2024-03-12-groessere-sicherheit-fuer-berliner-fertigungsbetriebe.md").read_text(
        encoding="utf-8"
    )
    assert "title: Größere Sicherheit für Berliner Fertigungsbetriebe" in text


# ---------------------------------------------------------------- hostile content


FORBIDDEN = (
    "<script",
    "script>",
    "onerror",
    "onclick",
    "onmouseover",
    "javascript:",
    "<iframe",
    "srcdoc",
    "alert(",
    "<img",
    "<style",
    "<object",
    "<form",
    "<input",
    "data:text",
    "evil.example",
    "tracker.example",
)


def test_hostile_content_never_reaches_a_written_file(run, mpi, http):
    feed_list(
        mpi, [{"name": "partner", "url": serve(http, "/hostile.xml", "hostile_content.xml"), "project": "its-inberlin"}]
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 0, result.output
    written = new_files(mpi, before)
    assert len(written) == 2
    for name, text in written.items():
        for bad in FORBIDDEN:
            assert bad not in text.lower(), (name, bad, text)
    promotion = front(written["2024-02-05-neue-foerderung-fuer-kmu.md"])
    assert promotion["title"] == "Neue Förderung für KMU"
    assert promotion["summary"] == "Die Förderung startet im März."
    assert promotion["summary_html"] == "<p>Die Förderung startet im März.</p>"
    assert promotion["guid"].startswith("sha1:")
    dead_end = front(written["2024-02-06-link-ins-leere.md"])
    assert "link" not in dead_end
    assert (
        "warning partner: entry 'Link ins Leere' has no web address as its link; imported without a link — "
        "add the original's address before approving"
    ) in result.stdout
    for state_file in (mpi / ".commsflow" / "feeds").iterdir():
        assert b"javascript:" not in state_file.read_bytes().lower()
    check_is_clean(run, mpi)


def test_the_sanitiser_keeps_text_markup_and_drops_the_rest():
    from commsflow.feeds.sanitize import clean_html, plain_text

    raw = (FEEDS / "hostile_content.xml").read_text(encoding="utf-8")
    content = raw.split("<content:encoded><![CDATA[")[1].split("]]>")[0]
    assert clean_html(content) == (
        "<p>Die Förderung startet im März. Details und "
        '<a href="https://www.partner.example.org/foerderung" rel="noopener noreferrer">Antrag</a>.</p>'
    )
    assert plain_text(content) == "Die Förderung startet im März. Details und Antrag."
    assert clean_html(
        '<h2>Ziele</h2><ul><li><b>a</b></li></ul><img src="https://x.example/p.gif" width="1" height="1">'
        '<a href="mailto:info@example.org">Mail</a>'
    ) == (
        '<h2>Ziele</h2><ul><li><b>a</b></li></ul><a href="mailto:info@example.org" rel="noopener noreferrer">Mail</a>'
    )


# ---------------------------------------------------------------- HTTP outcomes


def test_permanent_redirect_records_the_new_address(run, mpi, http):
    http.expect_request("/old.xml").respond_with_response(
        Response(status=301, headers={"Location": http.url_for("/new.xml")})
    )
    new = serve(http, "/new.xml", "rss1_rdf.xml")
    feed_list(mpi, [{"name": "fbh", "url": http.url_for("/old.xml"), "project": "maedchen-technik-kongress"}])
    first = fetch(run, mpi)
    assert first.exit_code == 0, first.output
    assert (
        f"warning fbh: moved permanently to {new}; fetched from there from now on — update its url in the feed list"
    ) in first.stdout
    assert table_row(first.stdout, "fbh") == ["fbh", "301 → 200", "1", "1", "1", "0"]
    second = fetch(run, mpi)
    assert table_row(second.stdout, "fbh") == ["fbh", "304", "0", "0", "0", "0"]
    assert len(requests_to(http, "/old.xml")) == 1  # the second fetch went to the new address directly
    assert requests_to(http, "/new.xml")[-1].headers["If-None-Match"] == '"v1"'
    status = run(mpi, *NOW, "feeds", "status")
    assert "moved to" in status.stdout
    from commsflow.feeds.state import read_state, state_path

    assert read_state(state_path(mpi / ".commsflow"))["fbh"].moved_to == new


def test_errors_are_reported_per_feed_and_the_others_carry_on(run, mpi, http):
    http.expect_request("/missing.xml").respond_with_data("Not Found", status=404)
    http.expect_request("/broken.xml").respond_with_data("oops", status=500)
    good = serve(http, "/good.xml", "rss1_rdf.xml")
    feed_list(
        mpi,
        [
            {"name": "missing", "url": http.url_for("/missing.xml"), "project": "its-inberlin"},
            {"name": "broken", "url": http.url_for("/broken.xml"), "project": "its-inberlin"},
            {"name": "fbh", "url": good, "project": "maedchen-technik-kongress"},
        ],
    )
    result = fetch(run, mpi)
    assert result.exit_code == 1
    assert (
        f"error missing: HTTP 404 Not Found at {http.url_for('/missing.xml')} — check the address in the feed list"
    ) in result.stdout
    assert (
        f"error broken: HTTP 500 Internal Server Error at {http.url_for('/broken.xml')} — the partner's server "
        "failed; the feed is tried again on the next fetch"
    ) in result.stdout
    assert table_row(result.stdout, "missing") == ["missing", "404", "0", "0", "0", "1"]
    assert table_row(result.stdout, "broken") == ["broken", "500", "0", "0", "0", "1"]
    assert table_row(result.stdout, "fbh") == ["fbh", "200", "1", "1", "0", "0"]
    assert result.stdout.rstrip().endswith(
        "✗ 3 feeds fetched: 1 new news item for review, 1 duplicate; 2 of 3 feeds failed: missing, broken"
    )
    assert (mpi / "content/news/2023-09-02-tag-der-offenen-tuer-in-adlershof.md").is_file()
    # a failed feed is asked again on the next fetch; the good one answers 304
    again = fetch(run, mpi)
    assert len(requests_to(http, "/missing.xml")) == 2
    assert table_row(again.stdout, "fbh") == ["fbh", "304", "0", "0", "0", "0"]


def test_410_disables_the_feed_until_it_is_named(run, mpi, http):
    http.expect_request("/gone.xml").respond_with_data("Gone", status=410)
    feed_list(
        mpi, [{"name": "pcg", "url": http.url_for("/gone.xml"), "project": "kreislaufwirtschaft-kunststoffindustrie"}]
    )
    first = fetch(run, mpi)
    assert first.exit_code == 1
    assert (
        f"error pcg: HTTP 410 Gone at {http.url_for('/gone.xml')}: the feed was removed; it is disabled and no "
        "longer fetched — remove it from the feed list, or give it its new url"
    ) in first.stdout
    second = fetch(run, mpi)
    assert second.exit_code == 0, second.output
    assert (
        "warning pcg: disabled since the server answered 410 Gone (2024-03-15); not fetched — remove it from the "
        "feed list, give it a new url, or try it again with `commsflow feeds fetch pcg`"
    ) in second.stdout
    assert table_row(second.stdout, "pcg") == ["pcg", "skipped", "0", "0", "1", "0"]
    assert len(requests_to(http, "/gone.xml")) == 1
    listed = run(mpi, "feeds", "list")
    assert "gone (410)" in listed.stdout
    http.clear()
    serve(http, "/gone.xml", "duplicate_guids.xml")  # the partner restored it
    named = fetch(run, mpi, "pcg")
    assert named.exit_code == 0, named.output
    assert table_row(named.stdout, "pcg") == ["pcg", "200", "1", "3", "0", "0"]
    assert table_row(fetch(run, mpi).stdout, "pcg") == ["pcg", "304", "0", "0", "0", "0"]


def test_html_page_empty_answer_and_not_a_feed_are_errors(run, mpi, http):
    page = serve(http, "/partner/", "html_page_not_a_feed.html", "text/html; charset=utf-8")
    empty = serve(http, "/empty.xml")
    http.expect_request("/data.json").respond_with_json({"news": []})
    feed_list(
        mpi,
        [
            {"name": "koimo", "url": page, "project": "modell-campus-ringberlin"},
            {"name": "empty", "url": empty, "project": "modell-campus-ringberlin"},
            {"name": "json", "url": http.url_for("/data.json"), "project": "modell-campus-ringberlin"},
        ],
    )
    before = news_files(mpi)
    result = fetch(run, mpi)
    assert result.exit_code == 1
    assert (
        f"error koimo: {page} is an HTML page, not a feed — use the feed address the page names: "
        f"{http.url_for('/feed/')}"
    ) in result.stdout
    assert (
        f"error empty: {empty} answered with an empty page (HTTP 200, no content); nothing was imported — check "
        "the address in the feed list"
    ) in result.stdout
    assert f"error json: {http.url_for('/data.json')} is not a readable feed (" in result.stdout
    assert news_files(mpi) == before
    # no validators kept for a page that was no feed
    fetch(run, mpi)
    assert "If-None-Match" not in requests_to(http, "/partner/")[-1].headers


def test_large_responses_are_cut_off(run, mpi, http):
    ten_mb = b"<?xml version='1.0'?><rss><channel>" + b" " * (10 * 1024 * 1024) + b"</channel></rss>"
    http.expect_request("/big.xml").respond_with_data(ten_mb, content_type=RSS)

    def chunked(request):  # no Content-Length: the limit must hold while reading
        return Response(
            (ten_mb[i : i + 65536] for i in range(0, len(ten_mb), 65536)), content_type=RSS, direct_passthrough=True
        )

    http.expect_request("/stream.xml").respond_with_handler(chunked)
    feed_list(
        mpi,
        [
            {"name": "big", "url": http.url_for("/big.xml"), "project": "its-inberlin"},
            {"name": "stream", "url": http.url_for("/stream.xml"), "project": "its-inberlin"},
            {"name": "fbh", "url": serve(http, "/fbh.xml", "rss1_rdf.xml"), "project": "maedchen-technik-kongress"},
        ],
    )
    result = fetch(run, mpi)
    assert result.exit_code == 1
    for name in ("big", "stream"):
        assert (
            f"error {name}: the response is larger than 5 MB; nothing was imported — check the address, or raise "
            "fetch.max_size_mb in the feed list"
        ) in result.stdout
        assert table_row(result.stdout, name) == [name, "200", "0", "0", "0", "1"]
    assert table_row(result.stdout, "fbh") == ["fbh", "200", "1", "1", "0", "0"]


def test_gzip_answers_are_read(run, mpi, http):
    body = gzip.compress((FEEDS / "rss1_rdf.xml").read_bytes())
    http.expect_request("/gz.xml").respond_with_response(
        Response(body, content_type=RSS, headers={"Content-Encoding": "gzip"})
    )
    feed_list(mpi, [{"name": "fbh", "url": http.url_for("/gz.xml"), "project": "maedchen-technik-kongress"}])
    result = fetch(run, mpi)
    assert table_row(result.stdout, "fbh") == ["fbh", "200", "1", "1", "0", "0"]


def test_a_slow_server_times_out_without_holding_up_the_others(run, mpi, http):
    def slow(request):
        time.sleep(1.5)
        return Response((FEEDS / "rss1_rdf.xml").read_bytes(), content_type=RSS)

    http.expect_request("/slow.xml").respond_with_handler(slow)
    feed_list(
        mpi,
        [
            {"name": "slow", "url": http.url_for("/slow.xml"), "project": "its-inberlin"},
            {
                "name": "circular-berlin",
                "url": serve(http, "/wp.xml", "wordpress_rss2_content_encoded.xml"),
                "project": "circular-city-challenge",
            },
        ],
        timeout=0.3,
    )
    start = time.monotonic()
    result = fetch(run, mpi)
    assert time.monotonic() - start < 1.4
    assert result.exit_code == 1
    assert (
        f"error slow: no complete answer from 127.0.0.1:{http.port} within 0.3 s (timeout) — the server may be "
        "down or slow; the feed is tried again on the next fetch"
    ) in result.stdout
    assert table_row(result.stdout, "slow") == ["slow", "–", "0", "0", "0", "1"]
    assert table_row(result.stdout, "circular-berlin") == ["circular-berlin", "200", "3", "0", "0", "0"]


def test_connection_refused(run, mpi):
    feed_list(mpi, [{"name": "down", "url": "http://127.0.0.1:9/feed.xml", "project": "its-inberlin"}])
    result = fetch(run, mpi)
    assert result.exit_code == 1
    assert (
        "error down: cannot connect to 127.0.0.1:9 (Connection refused) — check the address; the site may be down"
    ) in result.stdout


def test_one_fetch_at_a_time(run, mpi, http, monkeypatch):
    from commsflow.feeds import state as feedstate

    feed_list(
        mpi, [{"name": "fbh", "url": serve(http, "/fbh.xml", "rss1_rdf.xml"), "project": "maedchen-technik-kongress"}]
    )
    monkeypatch.setattr(feedstate, "_BUSY_SECONDS", 0.1)
    with feedstate.StateStore(feedstate.state_path(mpi / ".commsflow")):
        result = fetch(run, mpi)
    assert result.exit_code == 1
    assert "error: another `commsflow feeds fetch` is running (the feed state is locked)" in result.stderr
    assert not requests_to(http, "/fbh.xml")


# ---------------------------------------------------------------- try, list, status


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_try_shows_what_would_be_imported_and_writes_nothing(run, mpi, http):
    url = serve(http, "/wp/feed/", "wordpress_rss2_content_encoded.xml")
    before = _snapshot(mpi)
    result = run(mpi, *NOW, "feeds", "try", url, "--project", "circular-city-challenge")
    assert result.exit_code == 0, result.output
    assert _snapshot(mpi) == before  # no news, no state, no cache
    out = result.stdout
    assert f"Circular Berlin — RSS 2.0, 3 entries from {url} (HTTP 200)" in out
    assert "1. Circular City Challenge 2023: 13 zirkuläre Lösungen für Berlin" in out
    assert "   date:    2024-02-20" in out
    assert "   link:    https://circular.example.org/2024/02/circular-city-challenge-2023/" in out
    assert (
        "   file:    content/news/2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin.md" in out
    )
    assert "   html:    <p>Etwa 130 Unternehmen" in out
    assert out.rstrip().endswith(
        "3 entries: 3 would be imported for project circular-city-challenge, 0 duplicates; nothing was written"
    )
    assert "If-None-Match" not in requests_to(http, "/wp/feed/")[-1].headers


def test_try_marks_duplicates_and_warnings(run, mpi, http):
    url = serve(http, "/ring.xml", "missing_dates.xml")
    result = run(mpi, *NOW, "feeds", "try", url)
    assert result.exit_code == 0, result.output
    assert "   date:    2024-03-15 (assumed: the feed gives no date)" in result.stdout
    assert (
        "warning 127-0-0-1: entry 'Baustart für den Makerspace': it has no date; dated with the day of the fetch "
        "(date_assumed: true) — check the date before approving"
    ) in result.stdout
    assert "(give --project SLUG to name the project)" in result.stdout
    fbh = serve(http, "/fbh.xml", "rss1_rdf.xml")
    result = run(mpi, *NOW, "feeds", "try", fbh)
    assert "   import:  no — duplicate of content/news/2023-10-13-maedchen-technik-kongress-2023.md" in result.stdout
    assert "2 entries: 1 would be imported" in result.stdout


def test_try_errors(run, mpi, http):
    page = serve(http, "/partner/", "html_page_not_a_feed.html", "text/html; charset=utf-8")
    result = run(mpi, *NOW, "feeds", "try", page)
    assert result.exit_code == 1
    assert (
        f"error 127-0-0-1: {page} is an HTML page, not a feed — use the feed address the page names:" in result.stdout
    )
    wrong = run(mpi, "feeds", "try", page, "--project", "circular-city")
    assert wrong.exit_code == 1
    assert "error: --project 'circular-city' is not a project in the library" in wrong.stderr
    assert "hint: did you mean 'circular-city-challenge'?" in wrong.stderr
    bad = run(mpi, "feeds", "try", "circular.berlin/feed")
    assert bad.exit_code == 1
    assert "error: 'circular.berlin/feed' is not a web address" in bad.stderr
    assert "Traceback" not in result.output + wrong.output + bad.output


def test_list_and_status(run, mpi, http):
    http.expect_request("/missing.xml").respond_with_data("Not Found", status=404)
    feed_list(
        mpi,
        [
            {
                "name": "fbh",
                "url": serve(http, "/fbh.xml", "rss1_rdf.xml"),
                "project": "maedchen-technik-kongress",
                "tags": ["MINT"],
            },
            {"name": "missing", "url": http.url_for("/missing.xml"), "project": "its-inberlin"},
            {"name": "later", "url": "https://www.example.org/feed/", "project": "its-inberlin", "enabled": False},
        ],
    )
    listed = run(mpi, "feeds", "list")
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines() if line.strip()}
    assert rows["fbh"][:4] == ["fbh", "maedchen-technik-kongress", "yes", "MINT"]
    assert rows["missing"][:3] == ["missing", "its-inberlin", "yes"]
    assert rows["later"][:3] == ["later", "its-inberlin", "no"]
    assert listed.stdout.rstrip().endswith("3 feeds in feeds.yaml, 2 enabled")
    never = run(mpi, "feeds", "status")
    assert [line.split() for line in never.stdout.splitlines()][1] == ["fbh", "–", "–", "never", "fetched", "–", "0"]
    fetch(run, mpi)
    status = run(mpi, "feeds", "status")
    assert status.exit_code == 0, status.output
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert rows["fbh"][:7] == ["fbh", "15.03.2024", "10:00", "Uhr", "200", "ok", "1"]
    assert rows["missing"][:6] == ["missing", "15.03.2024", "10:00", "Uhr", "404", "error"]
    assert "HTTP 404 Not Found" in status.stdout
    assert rows["later"] == ["later", "–", "–", "disabled", "–", "0"]


def test_unknown_and_disabled_feed_names(run, mpi):
    feed_list(
        mpi,
        [
            {
                "name": "circular-berlin",
                "url": "https://circular.example.org/feed/",
                "project": "circular-city-challenge",
                "enabled": False,
            }
        ],
    )
    unknown = run(mpi, "feeds", "fetch", "circular")
    assert unknown.exit_code == 1
    assert "error: no feed 'circular' in feeds.yaml" in unknown.stderr
    assert "hint: did you mean 'circular-berlin'?" in unknown.stderr
    disabled = run(mpi, "feeds", "fetch", "circular-berlin")
    assert disabled.exit_code == 1
    assert "error: feed 'circular-berlin' is disabled in feeds.yaml (enabled: false)" in disabled.stderr
    nothing = run(mpi, "feeds", "fetch")
    assert nothing.exit_code == 0
    assert "no enabled feed in feeds.yaml (1 disabled); nothing to fetch" in nothing.stdout


# ---------------------------------------------------------------- the feed list


VALID = """\
fetch:
  timeout: 10
feeds:
  - name: circular-berlin
    url: https://circular.example.org/feed/
    project: circular-city-challenge
    tags: [Circular Economy]
  - name: fbh
    url: https://www.fbh.example.org/rss.rdf
    project: maedchen-technik-kongress
"""

BAD_LISTS = [
    (
        "unknown project",
        VALID.replace("project: circular-city-challenge", "project: circular-city"),
        "error feeds.yaml:6: feeds[0].project: unknown project 'circular-city' — did you mean 'circular-city-challenge'?",
    ),
    (
        "project nothing like",
        VALID.replace("project: maedchen-technik-kongress", "project: xyz"),
        "error feeds.yaml:10: feeds[1].project: unknown project 'xyz' — name a project slug (a file name in "
        "content/projects/)",
    ),
    (
        "duplicate name",
        VALID.replace("name: fbh", "name: circular-berlin"),
        "error feeds.yaml:8: feeds[1].name: feed name 'circular-berlin' is already used by feeds[0] (line 4) — give "
        "each feed its own name",
    ),
    (
        "name not a slug",
        VALID.replace("name: fbh", "name: FBH Feed"),
        "error feeds.yaml:8: feeds[1].name: 'FBH Feed' has the wrong form — use lowercase letters, digits and hyphens, "
        "e.g. mpi-konferenz-2023",
    ),
    (
        "no scheme",
        VALID.replace("url: https://www.fbh.example.org/rss.rdf", "url: www.fbh.example.org/rss.rdf"),
        "error feeds.yaml:9: feeds[1].url: 'www.fbh.example.org/rss.rdf' is not a web address — write the feed's full "
        "address starting with https://",
    ),
    (
        "missing project",
        VALID.replace("    project: maedchen-technik-kongress\n", ""),
        "error feeds.yaml:8: feeds[1].project: missing required field",
    ),
    (
        "misspelt field",
        VALID.replace("tags:", "tag:"),
        "error feeds.yaml:7: feeds[0].tag: unknown field — did you mean `tags`?",
    ),
    (
        "enabled not bool",
        VALID + "    enabled: vielleicht\n",
        "error feeds.yaml:11: feeds[1].enabled: expected true or false, got 'vielleicht'",
    ),
    (
        "bad timeout",
        VALID.replace("timeout: 10", "timeout: -1"),
        "error feeds.yaml:2: fetch.timeout: Input should be greater than 0",
    ),
    (
        "not a list",
        "feeds:\n  name: fbh\n",
        "error feeds.yaml:1: feeds: expected a list, got a mapping (key: value lines)",
    ),
    (
        "bad yaml",
        VALID.replace("tags: [Circular Economy]", "tags: [Circular Economy"),
        "error feeds.yaml:8: file is not valid YAML",
    ),
    ("not a mapping", "- name: fbh\n", "error feeds.yaml:1: file must be 'field: value' lines"),
]


@pytest.mark.parametrize(
    "text, expected", [(text, expected) for _, text, expected in BAD_LISTS], ids=[name for name, _, _ in BAD_LISTS]
)
def test_bad_feed_list(run, mpi, text, expected):
    (mpi / "feeds.yaml").write_text(text, encoding="utf-8")
    for command in (("feeds", "list"), ("feeds", "fetch"), ("feeds", "status")):
        result = run(mpi, *command)
        assert result.exit_code == 1, result.output
        assert expected in result.stdout, result.stdout
        assert "problem" in result.stderr and "in feeds.yaml" in result.stderr
        assert "fix the feed list first; nothing was fetched" in result.stderr
        assert "Traceback" not in result.output
    assert not (mpi / ".commsflow" / "feeds").exists()


def test_missing_feed_list(run, mpi):
    result = run(mpi, "feeds", "list")
    assert result.exit_code == 1
    assert "error: feeds.yaml: no feed list found" in result.stderr
    assert "hint: create it with the partner feeds (see README, section Partner feeds)" in result.stderr


def test_the_feed_list_path_is_configurable(run, mpi):
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'state = ".commsflow"', 'state = ".commsflow"\nfeeds = "partner/feeds.yaml"'
        ),
        encoding="utf-8",
    )
    (mpi / "partner").mkdir()
    (mpi / "partner" / "feeds.yaml").write_text(VALID, encoding="utf-8")
    result = run(mpi, "feeds", "list")
    assert result.exit_code == 0, result.output
    assert "2 feeds in partner/feeds.yaml, 2 enabled" in result.stdout


def test_the_shipped_feed_list_is_valid_and_fetches_nothing(run, mpi):
    shutil.copy(REPO / "feeds.yaml", mpi)
    listed = run(mpi, "feeds", "list")
    assert listed.exit_code == 0, listed.output
    assert "0 enabled" in listed.stdout
    text = (REPO / "feeds.yaml").read_text(encoding="utf-8")
    urls = [line for line in text.splitlines() if line.strip().startswith("url:")]
    assert urls and all(line.rstrip().endswith("# assumed, not verified") for line in urls)
    assert [line.strip() for line in text.splitlines() if line.strip().startswith("enabled:")] == [
        "enabled: false"
    ] * len(urls)
    result = run(mpi, "feeds", "fetch")
    assert result.exit_code == 0
    assert "nothing to fetch" in result.stdout
    assert not (mpi / ".commsflow" / "feeds").exists()


def test_the_same_address_twice_is_a_warning(run, mpi):
    (mpi / "feeds.yaml").write_text(
        VALID.replace("https://www.fbh.example.org/rss.rdf", "https://circular.example.org/feed/"), encoding="utf-8"
    )
    result = run(mpi, "feeds", "list")
    assert result.exit_code == 0, result.output
    assert (
        "warning feeds.yaml:9: feeds[1].url: the same address as feeds[0] — its entries are imported once, for "
        "the first feed only"
    ) in result.stdout

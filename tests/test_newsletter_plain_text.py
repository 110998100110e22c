"""The plain-text part of a newsletter issue reads like a hand-written e-mail: headings
underlined, links as numbered references listed at the end, lines wrapped at 72 columns,
no markup left over, German typography as written.

The golden file of the small issue in ``tests/fixtures/newsletter/plain-text/`` is compared
byte for byte. When the text is meant to change (the template ``templates/newsletter/email.txt``
or the filters in ``commsflow/renderers/templating.py``), regenerate it and read the diff
before committing it:

    COMMSFLOW_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_newsletter_plain_text.py tests/test_newsletter.py -k golden
    git diff tests/fixtures/newsletter/
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from commsflow import markdown
from commsflow.renderers.templating import References, heading, plain, wrap

NOW = ("--now", "2024-03-01 10:00")
CASE = FIXTURES / "newsletter" / "plain-text"
GOLDEN = CASE / "email.txt"
WIDTH = 72
SIGNATURE = "\n-- \n"
LINKS = "\n\n\nLinks\n-----\n\n"


@pytest.fixture
def klartext(project: Path) -> Path:
    """The small project with the issue 'klartext' (its campaign and items from CASE)."""
    shutil.copytree(REPO / "templates", project / "templates")
    for folder in ("campaigns", "content"):
        shutil.copytree(CASE / folder, project / folder, dirs_exist_ok=True)
    return project


def built_text(run, root: Path, issue: str) -> str:
    result = run(root, *NOW, "newsletter", "build", issue)
    assert result.exit_code == 0, result.output
    return (root / "build" / "newsletter" / issue / "email.txt").read_text(encoding="utf-8")


def test_plain_text_matches_golden_file(run, klartext):
    text = built_text(run, klartext, "klartext")
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        GOLDEN.write_bytes(text.encode("utf-8"))
    assert text.encode("utf-8") == GOLDEN.read_bytes()


def parts(text: str) -> tuple[str, list[tuple[int, str]], str]:
    """(body, [(number, address)] of the links list, signature)."""
    before, found, signature = text.partition(SIGNATURE)
    assert found, "the signature line '-- ' separates the footer"
    body, found, listing = before.partition(LINKS)
    assert found, "the links are listed under 'Links' before the signature"
    listed = [re.fullmatch(r"\[(\d+)\] +(\S+)", line) for line in listing.strip("\n").split("\n")]
    assert all(listed), listing
    return body, [(int(m[1]), m[2]) for m in listed], signature


def assert_reads_like_a_written_email(text: str) -> None:
    body, listed, signature = parts(text)
    # Every link is a number in the text; the numbers count up in reading order, each address once.
    cited = [int(number) for number in re.findall(r"\[(\d+)\]", body)]
    first_seen = list(dict.fromkeys(cited))
    assert first_seen == list(range(1, len(first_seen) + 1))
    assert [number for number, _ in listed] == first_seen
    assert len({address for _, address in listed}) == len(listed)
    # Wrapped at 72 columns; only an address, which is never broken, may stand longer.
    for line in (body + "\n" + signature).split("\n"):
        assert len(line) <= WIDTH or " " not in line.strip(), line
    assert all(address.startswith(("https://", "http://")) or "@" in address for _, address in listed)
    # No markup left: no tags, entities, Markdown syntax or tracking addresses in the text.
    for leftover in ("<", "&amp;", "&nbsp;", "&#", "&quot;", "**", "](", "__", "utm_", "\xad"):
        assert leftover not in body + signature, leftover
    # Headings are underlined as wide as they are (a wrapped one as its widest line).
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if re.fullmatch(r"={3,}|-{3,}", line):
            above = []
            for previous in reversed(lines[:index]):
                if not previous.strip():
                    break
                above.append(previous)
            assert above and len(line) == max(len(heading_line) for heading_line in above), (above, line)
    # No trailing spaces, except in the signature line itself.
    assert not [line for line in text.split("\n") if line != line.rstrip() and line != "-- "]
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_plain_text_of_the_small_issue_reads_like_a_written_email(run, klartext):
    text = built_text(run, klartext, "klartext")
    assert_reads_like_a_written_email(text)
    body, listed, signature = parts(text)
    links = dict(listed)
    assert text.startswith("Masterplan Industriestadt Berlin\n\nKlartext 1/2024\n===============\n4. April 2024\n")
    # The section heading longer than a line wraps, and its underline is as wide as its first line.
    assert (
        "Aus dem Blog und von Partnern – Straße, Maß und Gemeinschaftsgefühl in\nder Industriestadt\n" + "-" * 70 + "\n"
    ) in body
    # Links in the intro: words and number; own addresses tracked, others as they are; an
    # address written out stays where it is; an e-mail address is listed without mailto:.
    assert "diese Ausgabe steht auch im Blog [2] und bei unseren Partnern [3] –" in body
    assert links[2] == (
        "https://www.berlin.de/industriestadt/blog/?utm_source=newsletter&utm_medium=email&utm_campaign=klartext"
    )
    assert links[3] == "https://www.berlin-partner.de/"
    assert "alles Weitere unter https://www.berlin.de/industriestadt/." in body
    assert "die Pressestelle [4]" in body and links[4] == "pressestelle@senweb.berlin.de"
    # The call to action links the blog again: the same number.
    assert "Alle Beiträge im Blog [2]" in body
    # Markdown emphasis becomes words, entities characters; German quotes, dashes and the
    # no-break space stay as written.
    assert "Betonung und Fettes bleiben Text,\n„Anführungszeichen“ auch, 25\xa0% & mehr ebenso." in body
    # Lists hang under their dash, quotes keep their marker on every line.
    assert "– ein Punkt der Liste, lang genug, um über die zweiundsiebzig Zeichen\n  einer Zeile zu gehen" in body
    assert "> Ein Zitat, das ebenfalls lang genug ist, um in der nächsten Zeile\n> weiterzugehen." in body
    # A teaser made from a body: its words only, no heading, link address, list marker or image.
    assert "Der Anriss entsteht aus dem Text: Ein Link im Text bleibt Wort ohne\nAdresse," in body
    assert "Zwischenüberschrift" not in text and "Ein Bild" not in text
    assert "Gedankenstrich – bleiben, wie sie geschrieben sind. Auch ein Listenpunkt\nwird zu Fließtext." in body
    # The event: registration, calendar file and page, each a number.
    assert "Zur Anmeldung [6]\nIn den Kalender [7]\nMehr erfahren [8]" in body
    # The footer below the signature line keeps its addresses in place, wrapped.
    assert (
        "Newsletter abbestellen:\nhttps://www.berlin.de/industriestadt/newsletter/abmelden/\n"
        "Impressum: https://www.berlin.de/sen/web/impressum/\n"
    ) in signature


def test_the_teaser_made_from_a_body_has_no_markup_in_the_html_either(run, klartext):
    built_text(run, klartext, "klartext")
    html = (klartext / "build" / "newsletter" / "klartext" / "email.html").read_text(encoding="utf-8")
    assert "Der Anriss entsteht aus dem Text: Ein Link im Text bleibt Wort ohne Adresse" in html
    assert "Zwischenüberschrift" not in html
    assert "(https://www.berlin.de/industriestadt/blog/)" not in html


@pytest.mark.parametrize("issue", ["newsletter-2023-2", "newsletter-2024-1"])
def test_shipped_issues_read_like_a_written_email(run, mpi, issue):
    text = built_text(run, mpi, issue)
    assert_reads_like_a_written_email(text)
    body, _, _ = parts(text)
    assert "http" not in body  # every address is a numbered reference
    message = email.message_from_bytes(
        (mpi / "build" / "newsletter" / issue / "issue.eml").read_bytes(), policy=email.policy.default
    )
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text


def test_drafts_preview_text_wraps_its_notice_and_marks_drafts(run, mpi):
    result = run(mpi, *NOW, "newsletter", "build", "newsletter-2024-1", "--drafts")
    assert result.exit_code == 0, result.output
    text = (mpi / "build" / "newsletter" / "newsletter-2024-1" / "preview" / "email.txt").read_text(encoding="utf-8")
    assert_reads_like_a_written_email(text)
    assert "VORSCHAU MIT ENTWÜRFEN – mit [ENTWURF] markierte Beiträge sind noch\nnicht freigegeben." in text
    assert "[ENTWURF] AMBER: 12 Forschungs- und Entwicklungsprojekte für den\n3D-Druck „Made in Berlin“" in text


# --- the filters ----------------------------------------------------------------------------------


def test_wrap_never_breaks_an_address_a_hyphenated_word_or_a_no_break_space():
    address = "https://www.berlin.de/industriestadt/blog/ein-sehr-langer-beitrag-mit-vielen-woertern/"
    text = f"Siehe {address} und den Modell-Campus ringberlin am 25.\xa0April im Bosch-IoT-Campus mit allen."
    wrapped = wrap(text)
    assert address in wrapped.split("\n")
    assert "25.\xa0April" in wrapped and "Bosch-IoT-Campus" in wrapped
    assert wrap("Eins\n\nZwei") == "Eins\n\nZwei"
    # Plain text is not read as a list: a title starting with a number hangs no indent.
    title = "2. Monitoring-Bericht: 42 Projekte im Masterplan Industriestadt Berlin und in seinem Umfeld"
    assert wrap(title) == (
        "2. Monitoring-Bericht: 42 Projekte im Masterplan Industriestadt Berlin\nund in seinem Umfeld"
    )


def test_heading_underline_is_as_wide_as_the_heading_looks():
    assert heading("Straße", "=") == "Straße\n======"
    assert heading("Cafe\u0301 am Platz", "-") == "Cafe\u0301 am Platz\n-------------"  # é as e + accent
    assert heading("Bericht 会议", "-") == "Bericht 会议\n------------"  # wide characters take two columns
    long = heading("Ein Abschnitt mit einem Titel, der so lang ist, dass er nicht in eine Zeile passt", "-")
    first, second, underline = long.split("\n")
    assert len(underline) == max(len(first), len(second)) <= WIDTH


def test_references_number_each_address_once_and_line_up():
    links = References()
    markers = [links.cite(f"https://example.org/{n}") for n in range(1, 11)]
    assert markers[0] == "[1]" and markers[9] == "[10]"
    assert links.cite("https://example.org/3") == "[3]"
    assert links.cite("mailto:presse@example.org") == "[11]"
    listed = links.listed
    assert listed[0] == ("[1] ", "https://example.org/1")
    assert listed[9] == ("[10]", "https://example.org/10")
    assert listed[10] == ("[11]", "presse@example.org")


def test_plain_cites_links_and_leaves_written_addresses():
    links = References()
    html = markdown.to_html(
        'Im [Blog](https://example.org/blog?a=1&b=2 "Titel"), unter <https://example.org/> und '
        "www.example.org, per [Mail](mailto:a@example.org), [*betont*](https://example.org/x)."
    )
    assert plain(html, links) == (
        "Im Blog [1], unter https://example.org/ und www.example.org, per Mail\n[2], betont [3]."
    )
    assert [address for _, address in links.listed] == [
        "https://example.org/blog?a=1&b=2",
        "a@example.org",
        "https://example.org/x",
    ]
    # Words that look like an address but lead elsewhere get a number: the reader sees where it goes.
    other = References()
    assert plain(markdown.to_html("[www.example.org](https://tracker.example.com/r)"), other) == "www.example.org [1]"

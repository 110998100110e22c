"""Markdown bodies: safe HTML for pages and e-mails, readable plain text for lists.

Set COMMSFLOW_REGENERATE_GOLDEN=1 to rewrite tests/fixtures/markdown/body.txt from the
current output (the golden test is then skipped); review the diff before keeping it.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser

import pytest
from conftest import FIXTURES

from commsflow.markdown import to_html, to_text

GOLDEN = FIXTURES / "markdown"


class _Elements(HTMLParser):
    """Every element of an HTML fragment with its attributes (as a browser would see them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def _scheme(url: str | None) -> str:
    """The scheme a browser would use: control characters and whitespace do not count."""
    cleaned = "".join(ch for ch in (url or "") if ch > " ").lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


# --- raw HTML -------------------------------------------------------------------------

RAW_HTML = [
    pytest.param(
        "Anmeldung bis Freitag.\n\n<script>alert('MPI')</script>\n\nWir freuen uns auf Sie.",
        "Wir freuen uns auf Sie.",
        id="script-block",
    ),
    pytest.param(
        "Das Foto <img src=x onerror=alert(1)> zeigt den Bosch IoT Campus.",
        "zeigt den Bosch IoT Campus.",
        id="img-onerror-inline",
    ),
    pytest.param(
        '<iframe src="https://evil.example/ueberwachung"></iframe>\n\nDie Konferenz beginnt um 10 Uhr.',
        "Die Konferenz beginnt um 10 Uhr.",
        id="iframe-block",
    ),
    pytest.param(
        'Mehr zur <a href="javascript:alert(1)" onclick="alert(2)">Circular City Challenge</a> im Blog.',
        "Circular City Challenge",
        id="raw-anchor",
    ),
    pytest.param(
        "| Projekt | Stand |\n|---|---|\n| AMBER <script>alert(1)</script> | laufend |",
        "laufend",
        id="script-in-table-cell",
    ),
    pytest.param(
        '<div style="display:none" onmouseover="alert(1)">\n\n**Versteckt**\n\n</div>',
        "Versteckt",
        id="div-with-handler",
    ),
    pytest.param(
        '<svg onload="alert(1)"><circle r="5"/></svg> Grafik zur Kreislaufwirtschaft',
        "Grafik zur Kreislaufwirtschaft",
        id="svg-onload",
    ),
]


@pytest.mark.parametrize("markdown,kept", RAW_HTML)
def test_raw_html_never_reaches_the_output(markdown, kept):
    html = to_html(markdown)
    found = elements(html)
    tags = {tag for tag, _ in found}
    assert not tags & {"script", "iframe", "svg", "div", "style", "object", "embed"}, html
    assert all(not name.startswith("on") for _, attrs in found for name in attrs), html
    lowered = html.lower()
    for fragment in ("<script", "<iframe", "<svg", "<img", "<a ", "onerror", "onload", "onclick", "onmouseover"):
        assert fragment not in lowered, (fragment, html)
    assert "javascript:" not in lowered
    # (the text between inline tags may stay as inert text; the tags themselves are gone)
    # the surrounding German text survives, and no placeholder comment is left behind
    assert kept in html
    assert "raw HTML omitted" not in html


DANGEROUS_LINKS = [
    pytest.param("[Zur Anmeldung](javascript:alert(document.cookie))", id="javascript"),
    pytest.param("[Zur Anmeldung](JavaScript:alert(1))", id="javascript-mixed-case"),
    pytest.param("[Zur Anmeldung](<javascript:alert(1)>)", id="javascript-angle-brackets"),
    pytest.param("[Zur Anmeldung](&#106;avascript:alert(1))", id="javascript-entity-encoded"),
    pytest.param("[Zur Anmeldung](java&#115;cript:alert(1))", id="javascript-entity-inside"),
    pytest.param("[Zur Anmeldung][anmeldung]\n\n[anmeldung]: javascript:alert(1)", id="javascript-reference"),
    pytest.param("[Zur Anmeldung](vbscript:msgbox(1))", id="vbscript"),
    pytest.param("[Zur Anmeldung](VBScript:msgbox(1))", id="vbscript-mixed-case"),
    pytest.param("[Zur Anmeldung](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", id="data-html-base64"),
    pytest.param("[Zur Anmeldung](DATA:text/html,<script>alert(1)</script>)", id="data-html-upper"),
    pytest.param("![Zur Anmeldung](javascript:alert(1))", id="image-javascript"),
    pytest.param("![Zur Anmeldung](data:text/html,alert(1))", id="image-data-html"),
]


@pytest.mark.parametrize("markdown", DANGEROUS_LINKS)
def test_dangerous_link_targets_never_reach_the_output(markdown):
    html = to_html(markdown)
    found = elements(html)
    assert found, html  # still a paragraph with a link or image, not swallowed
    for _tag, attrs in found:
        for name in ("href", "src"):
            if name in attrs:
                assert _scheme(attrs[name]) not in ("javascript", "vbscript", "data"), html
    assert "alert" not in html and "msgbox" not in html and "base64" not in html
    # The words of the link stay readable; the target is gone from the plain text too.
    text = to_text(markdown)
    assert "alert" not in text and "msgbox" not in text
    if not markdown.startswith("!"):
        assert "Zur Anmeldung" in text


def test_safe_links_keep_their_targets():
    html = to_html(
        "[Programm](https://www.berlin.de/industriestadt/) · "
        "[Pressestelle](mailto:pressestelle@senweb.berlin.de) · "
        "![Logo](data:image/png;base64,iVBORw0KGgo=)"
    )
    hrefs = [attrs.get("href") for tag, attrs in elements(html) if tag == "a"]
    assert hrefs == ["https://www.berlin.de/industriestadt/", "mailto:pressestelle@senweb.berlin.de"]


# --- GitHub-flavoured Markdown ---------------------------------------------------------


def test_gfm_table_renders_with_header_and_alignment():
    html = to_html(
        "| Handlungsfeld | Projekte |\n|:--------------|---------:|\n| Innovation | 14 |\n| Kompetenzen | 9 |\n"
    )
    found = elements(html)
    tags = [tag for tag, _ in found]
    assert tags.count("table") == 1
    assert tags.count("th") == 2 and tags.count("td") == 4 and tags.count("tr") == 3
    aligns = [attrs.get("align") for tag, attrs in found if tag in ("th", "td")]
    assert aligns == ["left", "right"] * 3
    assert "<td" in html and ">Kompetenzen</td>" in html
    assert "|" not in html


def test_gfm_autolinks_render():
    html = to_html(
        "Mehr unter www.berlin.de/industriestadt und https://circular.berlin/challenge. "
        "Fragen an pressestelle@senweb.berlin.de oder <https://www.berlin.de/sen/web/>."
    )
    links = {attrs["href"]: attrs for tag, attrs in elements(html) if tag == "a"}
    assert set(links) == {
        "http://www.berlin.de/industriestadt",
        "https://circular.berlin/challenge",  # the sentence's full stop is not part of the URL
        "mailto:pressestelle@senweb.berlin.de",
        "https://www.berlin.de/sen/web/",
    }


def test_gfm_strikethrough_renders():
    assert "<del>27. September</del>" in to_html("Neuer Termin: ~~27. September~~ 4. Oktober")


def test_german_quotes_and_dashes_are_not_changed_by_smart_punctuation():
    markdown = (
        "Das Projekt „Made in Berlin“ startet -- so die Senatorin -- im Mai... "
        "Das Motto: \"Zukunft gestalten\", kurz 'ZG'."
    )
    html = to_html(markdown)
    assert "„Made in Berlin“" in html
    assert " -- so die Senatorin -- " in html
    assert "im Mai..." in html
    for smart in ("–", "—", "…", "“Zukunft", "”", "‘", "’"):
        assert smart not in html, smart
    assert to_text(markdown) == (
        "Das Projekt „Made in Berlin“ startet -- so die Senatorin -- im Mai... "
        "Das Motto: \"Zukunft gestalten\", kurz 'ZG'.\n"
    )


def test_empty_body_gives_empty_html_and_text():
    assert to_html("") == ""
    assert to_html("  \n\n") == ""
    assert to_text("\n") == ""


# --- plain text ------------------------------------------------------------------------


def test_to_text_golden():
    markdown = (GOLDEN / "body.md").read_bytes().decode("utf-8")
    actual = to_text(markdown)
    golden = GOLDEN / "body.txt"
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN") == "1":
        golden.write_bytes(actual.encode("utf-8"))
        pytest.skip(f"regenerated {golden.relative_to(FIXTURES.parent.parent)}; review the diff")
    expected = golden.read_bytes().decode("utf-8")
    assert actual == expected


def test_to_text_golden_contains_the_quote_verbatim():
    """A guard against a golden regenerated from broken output: the quote must survive whole."""
    expected = (GOLDEN / "body.txt").read_bytes().decode("utf-8")
    assert (
        "> „Berlin hat eine starke Industrie. Wir wollen darauf aufbauen und Berlin zu einem der "
        "bedeutendsten Wirtschaft- und Innovationsstandorte Europas machen."
    ) in expected
    assert "> — Franziska Giffey, Senatorin für Wirtschaft, Energie und Betriebe\n" in expected
    assert "neue Website (https://www.berlin.de/industriestadt/masterplan-industriestadt-berlin/)" in expected


def test_to_text_keeps_link_targets_but_not_twice():
    text = to_text(
        "Programm: [MPI Konferenz](https://www.berlin.de/industriestadt/konferenz/), "
        "https://circular.berlin/ und [Presse](mailto:pressestelle@senweb.berlin.de)."
    )
    assert text == (
        "Programm: MPI Konferenz (https://www.berlin.de/industriestadt/konferenz/), "
        "https://circular.berlin/ und Presse (pressestelle@senweb.berlin.de).\n"
    )


def test_to_text_keeps_the_start_number_of_an_ordered_list():
    text = to_text(
        "1. Idee beschreiben\n2. Partner gewinnen\n\nDann geht es weiter:\n\n"
        "3. Vorschlag einreichen\n4. Rückmeldung abwarten\n"
    )
    assert "3. Vorschlag einreichen\n4. Rückmeldung abwarten\n" in text


def test_to_text_loose_list_keeps_bullet_and_text_together():
    text = to_text("- Digitale Transformation\n\n- Ökologische Transformation\n")
    assert text == "– Digitale Transformation\n– Ökologische Transformation\n"


@pytest.mark.parametrize(
    "markdown,expected",
    [
        (
            "Anmeldung: https://www.berlin.de/termine?stadt=berlin&region=bb",
            "Anmeldung: https://www.berlin.de/termine?stadt=berlin&region=bb\n",
        ),
        (
            "[Anmeldung](https://www.berlin.de/termine?stadt=berlin&copy=1)",
            "Anmeldung (https://www.berlin.de/termine?stadt=berlin&copy=1)\n",
        ),
        ("Im Quelltext steht `&lt;br&gt;`.", "Im Quelltext steht &lt;br&gt;.\n"),
    ],
    ids=["autolink-region", "link-copy", "code-span-entity"],
)
def test_to_text_does_not_unescape_twice(markdown, expected):
    assert to_text(markdown) == expected


def test_to_text_hard_line_breaks_give_clean_lines():
    text = to_text(
        "Senatsverwaltung für Wirtschaft, Energie und Betriebe  \nMartin-Luther-Straße 105  \n10825 Berlin\n"
    )
    assert text == ("Senatsverwaltung für Wirtschaft, Energie und Betriebe\nMartin-Luther-Straße 105\n10825 Berlin\n")


def test_to_text_code_block_keeps_its_lines():
    text = to_text("Einbettung:\n\n```\n<iframe>\n  Programm\n</iframe>\n```\n")
    assert "<iframe>\n  Programm\n</iframe>" in text

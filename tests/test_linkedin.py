"""LinkedIn drafts from item to files: which drafts exist, their text, the Posts API request,
the rules (length, hook, hashtags, alt text), the little-text escaping and ``show``.

The drafts are built with the real CLI from a copy of the shipped MPI project, clock pinned
to the monitoring report's date. Markdown drafts are compared with golden files
(``COMMSFLOW_REGENERATE_GOLDEN=1`` rewrites them), JSON bodies are parsed back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FIXTURES

from commsflow.renderers.linkedin import (
    escape_little_text,
    feed_cut,
    hashtag,
    hashtags_in,
    merge_hashtags,
    unescape_little_text,
)

NOW = ("--now", "2024-03-01 10:00")
GOLDEN = FIXTURES / "linkedin"
AUTHOR = "urn:li:organization:2414183"
MEET_UP = "mpi-meet-up-2024"
NO_AUTHOR = (
    "warning commsflow.toml: social.linkedin_author: no LinkedIn author configured: the Markdown "
    "drafts are written, the JSON request bodies for the Posts API are not — set linkedin_author = "
    '"urn:li:organization:…" under [social] (the id of the organisation\'s LinkedIn page)'
)


def build(run, root: Path, *args: str):
    return run(root, *NOW, "linkedin", "build", *args)


def outputs(root: Path) -> Path:
    return root / "build" / "linkedin"


def with_author(root: Path) -> None:
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[social]\n", f'[social]\nlinkedin_author = "{AUTHOR}"\n'), encoding="utf-8")


def write_post(root: Path, slug: str, front: str, body: str = "Text.\n") -> str:
    path = root / "content" / "posts" / f"{slug}.md"
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return f"content/posts/{slug}.md"


def line_of(root: Path, shown: str, start: str) -> int:
    lines = (root / shown).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(start))


def request(root: Path, name: str) -> dict:
    return json.loads((outputs(root) / f"{name}.json").read_text(encoding="utf-8"))


def text_of(root: Path, name: str) -> str:
    """The post text from a Markdown draft (between the ```text fences)."""
    markdown = (outputs(root) / f"{name}.md").read_text(encoding="utf-8")
    return markdown.split("```text\n", 1)[1].rsplit("\n```", 1)[0]


POST = """\
title: {title}
status: approved
category: Aktuelles
date: 2024-03-15
summary: Eine kurze Zusammenfassung.
"""


def _fails_without_writing(run, root: Path, *args: str):
    result = build(run, root, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not outputs(root).exists()
    return result


# --- which drafts exist ------------------------------------------------------------------------


def test_the_shipped_content_gives_the_expected_drafts(run, mpi):
    result = build(run, mpi)
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in outputs(mpi).iterdir())
    assert all(name.endswith(".md") for name in names)  # no author configured: no JSON
    drafts = {name.removesuffix(".md") for name in names}
    assert {d for d in drafts if "--" in d and d.split("--")[1] in ("save-the-date", "reminder")} == {
        "mpi-meet-up-2024--save-the-date",
        "mpi-meet-up-2024--reminder",
    }
    # Started events get a recap; the Deep Dive 2024 is ahead but in review: left out.
    assert {d for d in drafts if d.endswith("--recap")} == {
        "future-of-computing-conference-2023--recap",
        "maedchen-technik-kongress-2023--recap",
        "mpi-deep-dive-hardtech-startups-2023--recap",
        "mpi-konferenz-circular-economy-2023--recap",
    }
    assert not any(d.startswith("mpi-deep-dive-zirkulaeres-bauen-2024") for d in drafts)
    # Posts: the one tagged Fördercall is a funding call; the draft post stays out.
    assert {d for d in drafts if d.endswith("--funding-call")} == {
        "2024-03-06-foerdercall-circular-economy-zweite-stufe--funding-call"
    }
    assert sum(d.endswith("--article") for d in drafts) == 10
    assert "2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle--article" not in drafts
    # News: six approved, the AMBER news is in review.
    assert sum(d.endswith("--news") for d in drafts) == 6
    assert "zahlen--figures" in drafts
    assert not any(d.startswith("amber-initiative") for d in drafts)  # projects get none
    assert len(drafts) == 24
    assert "✓ 24 LinkedIn drafts built: 1 warning" in result.stdout
    assert NO_AUTHOR in result.stdout
    assert "  build/linkedin/mpi-meet-up-2024--save-the-date.md\n" in result.stdout


def test_an_event_gets_its_recap_once_it_has_started(run, mpi):
    before = run(mpi, "--now", "2024-04-25 15:59", "linkedin", "build", MEET_UP)
    assert before.exit_code == 0, before.output
    assert sorted(p.name for p in outputs(mpi).iterdir()) == [
        "mpi-meet-up-2024--reminder.md",
        "mpi-meet-up-2024--save-the-date.md",
    ]
    started = run(mpi, "--now", "2024-04-25 16:00", "linkedin", "build", MEET_UP)
    assert started.exit_code == 0, started.output
    assert (outputs(mpi) / "mpi-meet-up-2024--recap.md").is_file()
    assert text_of(mpi, "mpi-meet-up-2024--recap").startswith(
        "Rückblick: MPI Meet-up im Bosch IoT Campus\n\nDonnerstag, 25. April 2024, 16:00 Uhr, Bosch IoT Campus, Berlin"
    )


def test_drafts_includes_unapproved_items_marked_and_without_request(run, mpi):
    with_author(mpi)
    result = build(run, mpi, "mpi-deep-dive-zirkulaeres-bauen-2024", "--drafts")
    assert result.exit_code == 0, result.output
    assert (
        "warning content/events/mpi-deep-dive-zirkulaeres-bauen-2024.md: status: "
        "'mpi-deep-dive-zirkulaeres-bauen-2024' is review — its drafts are marked as Entwurf and get no JSON "
        "request body — approve it before it is planned"
    ) in result.stdout
    assert sorted(p.name for p in outputs(mpi).iterdir()) == [
        "mpi-deep-dive-zirkulaeres-bauen-2024--reminder.md",
        "mpi-deep-dive-zirkulaeres-bauen-2024--save-the-date.md",
    ]
    markdown = (outputs(mpi) / "mpi-deep-dive-zirkulaeres-bauen-2024--save-the-date.md").read_text(encoding="utf-8")
    assert "- status: review – DRAFT, not signed off yet\n" in markdown
    assert "Wann: Mittwoch, 10. Juli 2024\nWo: Modell-Campus ringberlin, Berlin" in markdown


def test_only_the_named_items_are_built(run, mpi):
    result = build(run, mpi, "zahlen", "2024-03-01-drei-neue-mpi-projekte")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in outputs(mpi).iterdir()) == [
        "2024-03-01-drei-neue-mpi-projekte--news.md",
        "zahlen--figures.md",
    ]


@pytest.mark.parametrize(
    "args, message, hint",
    [
        (
            ("mpi-meetup-2024",),
            "error: no item 'mpi-meetup-2024' in the content library",
            "hint: did you mean 'mpi-meet-up-2024'?",
        ),
        (("zahlen", "zahl"), "error: no item 'zahl' in the content library", "hint: did you mean 'zahlen'?"),
        (
            ("amber-initiative",),
            "error: 'amber-initiative' is a project; projects get no LinkedIn drafts",
            "hint: name a post, news item or event, or 'zahlen' for the figures post",
        ),
        (
            ("2024-02-14-amber-zwoelf-forschungsprojekte",),
            "error: '2024-02-14-amber-zwoelf-forschungsprojekte' is review, not approved",
            (
                "hint: approve content/news/2024-02-14-amber-zwoelf-forschungsprojekte.md (status: approved) or preview "
                "with --drafts"
            ),
        ),
    ],
)
def test_naming_an_item_without_drafts_is_an_error(run, mpi, args, message, hint):
    result = _fails_without_writing(run, mpi, *args)
    assert result.stderr == f"{message}\n  {hint}\n"


# --- the drafts' text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "mpi-meet-up-2024--save-the-date",
        "2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups--article",
        "mpi-konferenz-circular-economy-2023--recap",
        "zahlen--figures",
    ],
)
def test_markdown_drafts_match_golden_files(run, mpi, name):
    # The golden files are the team's German drafts (test_the_draft_header_speaks_english_on_request: English).
    result = run(mpi, "--lang", "de", *NOW, "linkedin", "build", name.split("--")[0])
    assert result.exit_code == 0, result.output
    markdown = (outputs(mpi) / f"{name}.md").read_text(encoding="utf-8")
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(markdown, encoding="utf-8")
    assert markdown == golden.read_text(encoding="utf-8")


def test_the_draft_header_speaks_english_on_request(run, mpi):
    """The header is for the team, in its language; the post below it is the same in both."""

    def drafts(language: str) -> tuple[str, str]:
        result = run(mpi, "--lang", language, *NOW, "linkedin", "build", "zahlen", "mpi-meet-up-2024")
        assert result.exit_code == 0, result.output
        return tuple(
            (outputs(mpi) / f"{name}.md").read_text(encoding="utf-8")
            for name in ("zahlen--figures", "mpi-meet-up-2024--save-the-date")
        )

    figures, event = drafts("en")
    assert figures.startswith("# LinkedIn draft: Figures – MPI in Zahlen: 42 Projekte in vier Handlungsfeldern\n\n")
    assert "- kind: figures\n- item: zahlen (worked out from the content, as of 1. März 2024)\n" in figures
    assert "- planned: not yet\n- status: worked out\n" in figures
    assert "- image: –\n- hashtags: #IndustriestadtBerlin #MasterplanIndustriestadt\n" in figures
    assert "- characters: 469 of 3000, “…more” after character 209\n\n```text\n" in figures
    assert event.startswith("# LinkedIn draft: Save the date – MPI Meet-up im Bosch IoT Campus\n")
    assert "- item: mpi-meet-up-2024 (content/events/mpi-meet-up-2024.md)\n" in event
    assert "- status: approved\n" in event

    german_figures, german_event = drafts("de")
    assert german_figures.startswith(
        "# LinkedIn-Entwurf: Zahlen – MPI in Zahlen: 42 Projekte in vier Handlungsfeldern\n\n"
    )
    assert "- Art: figures\n- Inhalt: zahlen (berechnet aus den Inhalten, Stand 1. März 2024)\n" in german_figures
    assert "- Termin: nicht geplant\n- Status: berechnet\n" in german_figures
    assert "- Bild: –\n- Hashtags: #IndustriestadtBerlin #MasterplanIndustriestadt\n" in german_figures
    assert "- Zeichen: 469 von 3000, „…mehr“ nach Zeichen 209\n\n```text\n" in german_figures
    assert german_event.startswith("# LinkedIn-Entwurf: Save the Date – MPI Meet-up im Bosch IoT Campus\n")
    assert "- Inhalt: mpi-meet-up-2024 (content/events/mpi-meet-up-2024.md)\n" in german_event
    assert "- Status: approved\n" in german_event

    # What goes out is the same, word for word.
    for english, german in ((figures, german_figures), (event, german_event)):
        assert english.split("```text\n", 1)[1] == german.split("```text\n", 1)[1]


def test_figures_post_presents_the_stats(run, mpi):
    assert build(run, mpi, "zahlen").exit_code == 0
    text = text_of(mpi, "zahlen--figures")
    assert text.startswith(
        "42 Projekte in vier Handlungsfeldern: Das ist der Masterplan Industriestadt Berlin, Stand 1. März 2024."
    )
    assert "30 Projekte sind in der Umsetzung, 12 bereits abgeschlossen. Für 11 Projekte wurde" in text
    assert "– Innovation: 15\n– Kompetenzen: 12\n– Rahmenbedingungen: 6\n– Kommunikation & Vernetzung: 9" in text


def test_own_wording_per_event_kind(run, mpi):
    event = mpi / "content" / "events" / "mpi-meet-up-2024.md"
    event.write_text(
        event.read_text(encoding="utf-8").replace(
            "tags:\n",
            """\
linkedin:
  save_the_date: "Vormerken: MPI Meet-up im Bosch IoT Campus am 25. April!"
  text: "MPI Meet-up im Bosch IoT Campus: nur noch wenige Plätze."
  hashtags: ["#Metaverse", "Industrie 4.0"]
tags:
""",
            1,
        ),
        encoding="utf-8",
    )
    assert build(run, mpi, MEET_UP).exit_code == 0
    assert text_of(mpi, "mpi-meet-up-2024--save-the-date") == (
        "Vormerken: MPI Meet-up im Bosch IoT Campus am 25. April!\n\n"
        "#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Industrie40 #Vernetzung"
    )
    assert text_of(mpi, "mpi-meet-up-2024--reminder").startswith(
        "MPI Meet-up im Bosch IoT Campus: nur noch wenige Plätze.\n\n#IndustriestadtBerlin"
    )


# --- the Posts API request ---------------------------------------------------------------------


def test_request_body_is_the_posts_api_body(run, mpi):
    with_author(mpi)
    result = build(run, mpi)
    assert result.exit_code == 0, result.output
    assert "linkedin_author" not in result.stdout and "✓ 24 LinkedIn drafts built: 0 warnings" in result.stdout
    body = request(mpi, "mpi-meet-up-2024--save-the-date")
    assert list(body) == [
        "author",
        "commentary",
        "visibility",
        "distribution",
        "content",
        "lifecycleState",
        "isReshareDisabledByAuthor",
    ]
    assert body["author"] == AUTHOR
    assert body["visibility"] == "PUBLIC" and body["lifecycleState"] == "PUBLISHED"
    assert body["isReshareDisabledByAuthor"] is False
    assert body["distribution"] == {
        "feedDistribution": "MAIN_FEED",
        "targetEntities": [],
        "thirdPartyDistributionChannels": [],
    }
    assert body["commentary"] == text_of(mpi, "mpi-meet-up-2024--save-the-date")  # nothing to escape here
    article = body["content"]["article"]
    assert article == {
        "source": "https://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024/?utm_source=linkedin"
        "&utm_medium=social&utm_campaign=mpi-meet-up-2024",
        "title": "MPI Meet-up im Bosch IoT Campus",
        "description": "Das MPI Meet-up gibt Einblicke in Trends und Potenziale rund um das industrielle Metaverse "
        "und bietet der MPI-Community eine Plattform für Austausch und Vernetzung.",
    }
    # Every draft has a link, so every request has its article card; the figures link the website.
    for path in outputs(mpi).glob("*.json"):
        body = json.loads(path.read_text(encoding="utf-8"))
        source = body["content"]["article"]["source"]
        query = parse_qs(urlsplit(source).query)
        assert query == {
            "utm_source": ["linkedin"],
            "utm_medium": ["social"],
            "utm_campaign": [path.name.split("--")[0]],
        }, path.name
        assert unescape_little_text(body["commentary"]) == text_of(mpi, path.stem)
    figures = request(mpi, "zahlen--figures")["content"]["article"]
    assert figures["source"].startswith("https://www.berlin.de/industriestadt/masterplan-industriestadt-berlin/?")
    assert figures["title"] == "MPI in Zahlen: 42 Projekte in vier Handlungsfeldern"
    assert figures["description"] == "Stand 1. März 2024: 30 in der Umsetzung, 12 abgeschlossen."
    raw = (outputs(mpi) / "zahlen--figures.json").read_text(encoding="utf-8")
    assert "März" in raw and raw.startswith('{\n  "author"')  # ensure_ascii=False, indent=2


def test_request_commentary_is_little_text(run, mpi):
    with_author(mpi)
    assert build(run, mpi, "2024-03-01-drei-neue-mpi-projekte", "mpi-konferenz-circular-economy-2023").exit_code == 0
    news = request(mpi, "2024-03-01-drei-neue-mpi-projekte--news")["commentary"]
    assert "Der MPI umfasst damit 42 Projekte \\(Stand 1. März 2024\\)." in news
    assert news.endswith("\n\n#IndustriestadtBerlin #MasterplanIndustriestadt #NeueProjekte")
    recap = request(mpi, "mpi-konferenz-circular-economy-2023--recap")["commentary"]
    assert "Franziska Giffey \\(Senatorin für Wirtschaft, Energie und Betriebe\\)" in recap


def test_external_links_are_left_alone_and_images_get_alt_text(run, mpi):
    with_author(mpi)
    write_post(
        mpi,
        "2024-03-15-extern",
        POST.format(title="Partnerbeitrag")
        + """\
url: https://www.berlin-partner.de/news/amber?ref=mpi
image: {src: "https://www.berlin.de/industriestadt/bilder/amber.jpg", alt: "  3D-Drucker in der Werkhalle  "}
""",
    )
    assert build(run, mpi, "2024-03-15-extern").exit_code == 0
    article = request(mpi, "2024-03-15-extern--article")["content"]["article"]
    assert article["source"] == "https://www.berlin-partner.de/news/amber?ref=mpi"
    assert article["thumbnailAltText"] == "3D-Drucker in der Werkhalle"
    assert "thumbnail" not in article  # the publisher uploads the image and adds its URN
    markdown = (outputs(mpi) / "2024-03-15-extern--article.md").read_text(encoding="utf-8")
    assert (
        "- image: https://www.berlin.de/industriestadt/bilder/amber.jpg (alt text: “3D-Drucker in der Werkhalle”)\n"
    ) in markdown
    assert "Den vollständigen Beitrag lesen Sie über den Link unten." in markdown


def tiny_png() -> bytes:
    """A real PNG: a local image must be one by content (Pillow verifies it)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(out, "PNG")
    return out.getvalue()


def test_an_image_next_to_the_item_is_recorded_by_its_path(run, mpi):
    (mpi / "content" / "posts" / "bild.png").write_bytes(tiny_png())
    write_post(mpi, "2024-03-15-bild", POST.format(title="Mit Bild") + "image: {src: bild.png, alt: Werkhalle}\n")
    assert build(run, mpi, "2024-03-15-bild").exit_code == 0
    markdown = (outputs(mpi) / "2024-03-15-bild--article.md").read_text(encoding="utf-8")
    assert "- image: content/posts/bild.png (alt text: “Werkhalle”)\n" in markdown


def test_missing_image_file_is_an_error(run, mpi):
    shown = write_post(
        mpi, "2024-03-15-bild", POST.format(title="Mit Bild") + "image: {src: fehlt.png, alt: Werkhalle}\n"
    )
    result = _fails_without_writing(run, mpi, "2024-03-15-bild")
    line = line_of(mpi, shown, "image:")
    assert (
        f"error {shown}:{line}: image.src: image 'fehlt.png' not found (looked for "
        f"{mpi / 'content' / 'posts' / 'fehlt.png'}) — put the file next to the Markdown file"
    ) in result.stdout


def test_image_alt_text_is_checked_even_past_the_model(mpi):
    # The model already refuses an image without alt text; the renderer checks again.
    from commsflow import stats
    from commsflow.assemblers.linkedin import Planned
    from commsflow.library import Library
    from commsflow.model import Image, Item
    from commsflow.renderers.linkedin import render_drafts
    from commsflow.workspace import Workspace

    workspace = Workspace(root=mpi, now_text="2024-03-01 10:00", use_cache=False)
    library = workspace.load().library
    item = library.get("2024-03-12-mpi-veranstaltungen-2024")
    image = Image.model_construct(src="https://www.berlin.de/industriestadt/a.jpg", alt="   ", credit=None)
    forged = Item(
        item.kind, item.slug, item.path, item.digest, meta=item.meta.model_copy(update={"image": image}), html=item.html
    )
    config = workspace.config
    figures = stats.compute(
        library, workspace.now, config.vocabularies.fields_of_action, config.vocabularies.blog_categories
    )
    rendered = render_drafts([Planned(forged, "article")], Library([forged], "mpi"), config, figures, now=workspace.now)
    assert [p.format() for p in rendered.errors] == [
        (
            "content/posts/2024-03-12-mpi-veranstaltungen-2024.md:1: image.alt: the image has no alt text — describe "
            "the image under image.alt; LinkedIn shows it to people using screen readers"
        )
    ]


def test_characters_that_mean_something_in_markup_are_just_text(run, mpi):
    with_author(mpi)
    write_post(
        mpi,
        "2024-03-15-boese",
        POST.format(title='"CO2 <3 % & Rock & Roll „zitiert“ (a > b)"').replace(
            "summary: Eine kurze Zusammenfassung.", 'summary: "*fett* [Link](https://x.de/) @alle {x} | ~y~"'
        ),
    )
    result = build(run, mpi, "2024-03-15-boese")
    assert result.exit_code == 0, result.output
    text = text_of(mpi, "2024-03-15-boese--article")
    assert text.startswith("CO2 <3 % & Rock & Roll „zitiert“ (a > b)\n\n*fett* [Link](https://x.de/) @alle {x} | ~y~\n")
    body = request(mpi, "2024-03-15-boese--article")
    assert body["commentary"].startswith(
        "CO2 \\<3 % & Rock & Roll „zitiert“ \\(a \\> b\\)\n\n"
        "\\*fett\\* \\[Link\\]\\(https://x.de/\\) \\@alle \\{x\\} \\| \\~y\\~\n"
    )
    assert body["content"]["article"]["title"] == "CO2 <3 % & Rock & Roll „zitiert“ (a > b)"


def test_markup_and_script_links_in_content_are_content_errors(run, mpi):
    """Issue 12, item 10: what the safe rendering would drop never reaches a text kept as written."""
    with_author(mpi)
    write_post(
        mpi,
        "2024-03-15-boese",
        POST.format(title="\"<script>alert('x')</script> Rock & Roll\"").replace(
            "summary: Eine kurze Zusammenfassung.", 'summary: "*fett* [Link](javascript:alert(1))"'
        ),
    )
    result = build(run, mpi, "2024-03-15-boese")
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "title: raw HTML (<script>) is not allowed here" in flat
    assert "summary: a link to a javascript: address is not allowed here" in flat
    assert not (mpi / "build" / "linkedin" / "2024-03-15-boese--article.md").exists()


def test_without_author_only_markdown_is_written_with_one_warning(run, mpi):
    result = build(run, mpi, MEET_UP, "zahlen")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("warning")] == [NO_AUTHOR]
    assert not list(outputs(mpi).glob("*.json"))


# --- rules -----------------------------------------------------------------------------------------


def test_text_over_3000_characters_is_an_error_and_nothing_is_written(run, mpi):
    words = " ".join(["Industriestadt"] * 210)  # 3,149 characters, and the two configured hashtags
    shown = write_post(mpi, "2024-03-15-lang", POST.format(title="Lang") + f'linkedin:\n  text: "Lang. {words}"\n')
    result = _fails_without_writing(run, mpi)
    line = line_of(mpi, shown, "  text:")
    assert (
        f"error {shown}:{line}: linkedin.text: the text is 3,204 characters; LinkedIn allows 3,000 — shorten it\n"
    ) in result.stdout
    assert result.stderr == (
        "error: 1 error in the LinkedIn drafts; nothing was written\n  hint: fix the errors above\n"
    )


def test_failed_build_keeps_the_previous_drafts(run, mpi):
    assert build(run, mpi).exit_code == 0
    before = {path.name: path.read_bytes() for path in outputs(mpi).iterdir()}
    write_post(mpi, "2024-03-15-lang", POST.format(title="Lang") + f'linkedin:\n  text: "{"x " * 1600}"\n')
    assert build(run, mpi).exit_code == 1
    assert {path.name: path.read_bytes() for path in outputs(mpi).iterdir()} == before


def test_claim_missing_from_the_first_210_characters_is_a_warning(run, mpi):
    opening = "Ein langer Anlauf ohne das Entscheidende. " * 6
    shown = write_post(
        mpi,
        "2024-03-15-haken",
        POST.format(title="Fördercall Kreislaufwirtschaft")
        + f'linkedin:\n  text: "{opening}Fördercall Kreislaufwirtschaft!"\n',
    )
    result = build(run, mpi, "2024-03-15-haken")
    assert result.exit_code == 0, result.output
    line = line_of(mpi, shown, "  text:")
    assert (
        f"warning {shown}:{line}: linkedin.text: the first 210 characters (what the feed shows before „…mehr“) "
        "do not contain 'Fördercall Kreislaufwirtschaft' — say it in the opening, or set linkedin.claim to what "
        "the opening says\n"
    ) in result.stdout
    # A claim that the opening does say, in any case, is fine.
    path = mpi / shown
    path.write_text(
        path.read_text(encoding="utf-8").replace("linkedin:\n", "linkedin:\n  claim: EIN LANGER ANLAUF\n"),
        encoding="utf-8",
    )
    result = build(run, mpi, "2024-03-15-haken")
    assert result.exit_code == 0 and "first 210 characters" not in result.stdout


def test_a_long_title_pushed_out_of_the_opening_is_a_warning_on_the_title(run, mpi):
    title = "Ein Titel " + "mit sehr vielen Wörtern " * 9 + "am Ende"
    shown = write_post(mpi, "2024-03-15-titel", POST.format(title=title))
    result = build(run, mpi, "2024-03-15-titel")
    assert result.exit_code == 0
    assert (
        f"warning {shown}:{line_of(mpi, shown, 'title:')}: title: the first 210 characters (what the feed shows before „…mehr“) do not "
        f"contain {title!r} — shorten it, set linkedin.claim"
    ) in result.stdout


def test_own_text_with_more_than_five_hashtags_is_an_error(run, mpi):
    shown = write_post(
        mpi,
        "2024-03-15-tags",
        POST.format(title="Hashtags") + ('linkedin:\n  text: "Hashtags: #Eins #Zwei #Drei #Vier #Fünf #Sechs"\n'),
    )
    result = _fails_without_writing(run, mpi, "2024-03-15-tags")
    line = line_of(mpi, shown, "  text:")
    assert (
        f"error {shown}:{line}: linkedin.text: the text has 6 hashtags; a draft carries at most 5 — keep the 5 "
        "that matter most (configured and tag hashtags are only added while there is room)\n"
    ) in result.stdout


def test_own_text_hashtags_count_towards_five(run, mpi):
    write_post(
        mpi,
        "2024-03-15-tags",
        POST.format(title="Hashtags")
        + ('linkedin:\n  text: "Hashtags: #Eins #Zwei #industriestadtberlin"\ntags: [Drei, Vier]\n'),
    )
    assert build(run, mpi, "2024-03-15-tags").exit_code == 0
    assert text_of(mpi, "2024-03-15-tags--article") == (
        "Hashtags: #Eins #Zwei #industriestadtberlin\n\n#MasterplanIndustriestadt #Drei"
    )


def test_hashtags_are_normalised_deduplicated_and_cut_at_five(run, mpi):
    write_post(
        mpi,
        "2024-03-15-tags",
        POST.format(title="Hashtags")
        + """\
linkedin:
  hashtags: ["circular economy", "#IndustriestadtBerlin"]
tags: [Circular Economy, 3D-Druck, Zirkuläres Bauen, Forschung & Entwicklung]
""",
    )
    assert build(run, mpi, "2024-03-15-tags").exit_code == 0
    assert text_of(mpi, "2024-03-15-tags--article").endswith(
        "\n\n#IndustriestadtBerlin #MasterplanIndustriestadt #CircularEconomy #3DDruck #ZirkuläresBauen"
    )


@pytest.mark.parametrize(
    "label, expected",
    [
        ("Circular Economy", "#CircularEconomy"),
        ("3D-Druck", "#3DDruck"),
        ("Zirkuläres Bauen", "#ZirkuläresBauen"),
        ("Kommunikation & Vernetzung", "#KommunikationVernetzung"),
        ("#IndustriestadtBerlin", "#IndustriestadtBerlin"),
        ("industrie 4.0", "#Industrie40"),
        ("MINT", "#MINT"),
        ("Berlin's Industrie", "#BerlinsIndustrie"),
        ("Quanten-Computing", "#QuantenComputing"),
        ("a\u0308rmel", "#Ärmel"),  # decomposed umlaut
        ("2024", None),  # LinkedIn links no hashtag without a letter
        ("&", None),
    ],
)
def test_hashtag_from_a_tag(label, expected):
    assert hashtag(label) == expected


def test_merge_hashtags_keeps_order_and_first_spelling():
    assert merge_hashtags(["#IndustriestadtBerlin"], ["industriestadt berlin", "MINT"], ["Mint", "a", "b", "c"]) == [
        "#IndustriestadtBerlin",
        "#MINT",
        "#A",
        "#B",
        "#C",
    ]
    assert merge_hashtags(["Eins", "Zwei"], present=["#eins", "#Drei", "#Vier", "#Fünf"]) == ["#Zwei"]


# --- little text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("Jetzt anmelden (Anmeldung bis 15.04.)!", "Jetzt anmelden \\(Anmeldung bis 15.04.\\)!"),
        ("Für alle Mitarbeiter:innen und Partner:innen", "Für alle Mitarbeiter:innen und Partner:innen"),
        ("Fragen an presse@senweb.berlin.de", "Fragen an presse\\@senweb.berlin.de"),
        ("Platz #1 im Ranking #IndustriestadtBerlin", "Platz \\#1 im Ranking #IndustriestadtBerlin"),
        ("#3DDruck und #ZirkuläresBauen am Zeilenanfang", "#3DDruck und #ZirkuläresBauen am Zeilenanfang"),
        ("Liste:\n#CircularEconomy\n#2024", "Liste:\n#CircularEconomy\n\\#2024"),
        ("Ein Hashtag am Satzende #Metaverse.", "Ein Hashtag am Satzende #Metaverse."),
        ("Kein Hashtag: C#, Text#Mitte, (#Metaverse)", "Kein Hashtag: C\\#, Text\\#Mitte, \\(\\#Metaverse\\)"),
        ("#Metaverse_2024", "#Metaverse\\_2024"),
        ("die Variable snake_case", "die Variable snake\\_case"),
        ("~ 40 Teilnehmende", "\\~ 40 Teilnehmende"),
        ("*Wichtig*: 3 * 4", "\\*Wichtig\\*: 3 \\* 4"),
        ("<Werkstatt> & <script>", "\\<Werkstatt\\> & \\<script\\>"),
        ("Pfad C:\\MPI\\Berichte", "Pfad C:\\\\MPI\\\\Berichte"),
        ("schon escaped: \\#", "schon escaped: \\\\\\#"),
        ("{Vorlage} | [Klammer]", "\\{Vorlage\\} \\| \\[Klammer\\]"),
        (
            "Danke an @[Berlin Partner](urn:li:organization:123) und @[Jane Ulle](urn:li:person:AbC-1_x)!",
            "Danke an @[Berlin Partner](urn:li:organization:123) und @[Jane Ulle](urn:li:person:AbC-1_x)!",
        ),
        (
            "Keine Erwähnung: @[Seite](https://example.org) und @[Name](urn:li:group:1)",
            "Keine Erwähnung: \\@\\[Seite\\]\\(https://example.org\\) und \\@\\[Name\\]\\(urn:li:group:1\\)",
        ),
        ("„Anführungszeichen“ – Gedankenstrich … ä ö ü ß", "„Anführungszeichen“ – Gedankenstrich … ä ö ü ß"),
    ],
)
def test_escape_little_text(text, escaped):
    assert escape_little_text(text) == escaped
    assert unescape_little_text(escaped) == text


def test_hashtags_in_a_text_are_the_real_ones_once_each():
    assert hashtags_in("#Eins, Platz #1, C#, #eins #Zwei\n#ZirkuläresBauen") == ["#Eins", "#Zwei", "#ZirkuläresBauen"]


def test_feed_cut_is_on_a_word_boundary_at_or_before_210():
    assert feed_cut("kurz") is None and feed_cut("x" * 210) is None
    text = "Wort " * 60
    assert feed_cut(text) == 209 and text[209] == " "
    assert feed_cut("y" * 300) == 210  # one long word: cut where the feed cuts


# --- show ------------------------------------------------------------------------------------------


def test_show_prints_the_draft_with_the_cut_marker(run, mpi):
    result = run(mpi, *NOW, "linkedin", "show", MEET_UP, "--kind", "save-the-date")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == """\
mpi-meet-up-2024--save-the-date (content/events/mpi-meet-up-2024.md)
status: approved · planned: not yet
link: https://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024/?utm_source=linkedin&utm_medium=social&utm_campaign=mpi-meet-up-2024

Save the Date: MPI Meet-up im Bosch IoT Campus

Wann: Donnerstag, 25. April 2024, 16:00 Uhr
Wo: Bosch IoT Campus, Berlin

Das MPI Meet-up gibt Einblicke in Trends und Potenziale rund um das industrielle
──── …mehr ────
Metaverse und bietet der MPI-Community eine Plattform für Austausch und Vernetzung.

Bitte merken Sie sich den Termin schon heute vor.
Alle Informationen zur Veranstaltung finden Sie auf unserer Website – Link unten.

#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Vernetzung

491 characters of 3,000 · „…mehr“ after character 202 · 4 hashtags: #IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Vernetzung
"""
    )
    shown_before_cut = result.stdout.split("\n\n", 1)[1].split("\n──── …mehr ────")[0]
    assert len(shown_before_cut) == 202
    assert not outputs(mpi).exists()  # show writes nothing


def test_show_without_kind_prints_every_draft_of_the_item_unescaped(run, mpi):
    write_post(
        mpi,
        "2024-03-15-zeichen",
        POST.format(title="Zeichen").replace(
            "summary: Eine kurze Zusammenfassung.", 'summary: "Fragen (bis 15.04.) an presse@senweb.berlin.de"'
        ),
    )
    result = run(mpi, *NOW, "linkedin", "show", "2024-03-15-zeichen")
    assert result.exit_code == 0, result.output
    assert "\nFragen (bis 15.04.) an presse@senweb.berlin.de\n" in result.stdout
    assert "──── …mehr ────" not in result.stdout
    assert "shown in full, no „…mehr“" in result.stdout
    both = run(mpi, *NOW, "linkedin", "show", MEET_UP)
    assert both.stdout.count("──── …mehr ────") == 2
    assert "mpi-meet-up-2024--save-the-date (" in both.stdout and "mpi-meet-up-2024--reminder (" in both.stdout


def test_show_marks_unapproved_items_and_reports_errors(run, mpi):
    result = run(mpi, *NOW, "linkedin", "show", "2024-02-14-amber-zwoelf-forschungsprojekte")
    assert result.exit_code == 0, result.output
    assert "status: review — not approved: a preview, marked Entwurf · planned: not yet" in result.stdout
    shown = write_post(mpi, "2024-03-15-lang", POST.format(title="Lang") + f'linkedin:\n  text: "Lang {"x" * 3000}"\n')
    result = run(mpi, *NOW, "linkedin", "show", "2024-03-15-lang")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "3,054 characters of 3,000" in result.stdout  # with the two configured hashtags
    assert (
        f"error {shown}:{line_of(mpi, shown, '  text:')}: linkedin.text: the text is 3,054 characters; "
        "LinkedIn allows 3,000 — shorten it"
    ) in result.stdout


@pytest.mark.parametrize(
    "args, message, hint",
    [
        (
            (MEET_UP, "--kind", "recap"),
            "error: 'mpi-meet-up-2024' has no recap draft",
            "hint: its drafts: save-the-date, reminder",
        ),
        (
            ("mpi-meet-up",),
            "error: no item 'mpi-meet-up' in the content library",
            "hint: did you mean 'mpi-meet-up-2024'?",
        ),
    ],
)
def test_show_errors(run, mpi, args, message, hint):
    result = run(mpi, *NOW, "linkedin", "show", *args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == f"{message}\n  {hint}\n"


# --- content and template mistakes --------------------------------------------------------------------


def test_content_errors_stop_the_build(run, mpi):
    write_post(mpi, "2024-03-15-kaputt", "title: Kaputt\nstatus: aproved\ncategory: Aktuelles\ndate: 2024-03-15")
    result = _fails_without_writing(run, mpi)
    assert "content/posts/2024-03-15-kaputt.md:3: status:" in result.stdout
    assert result.stderr == (
        "error: 1 error in the content\n  hint: fix them first (commsflow check) — a broken "
        "item could be missing from the drafts\n"
    )


def test_template_mistakes_name_the_template_and_line(run, mpi):
    template = mpi / "templates" / "linkedin" / "news.txt"
    template.write_text(template.read_text(encoding="utf-8").replace("item.teaser", "item.teasr"), encoding="utf-8")
    result = _fails_without_writing(run, mpi)
    assert result.stderr == (
        f"error: {template}:6: 'dict object' has no attribute 'teasr'\n"
        "  hint: the template uses a value that is not there; check the name\n"
    )


def test_figures_template_must_set_its_title(run, mpi):
    template = mpi / "templates" / "linkedin" / "figures.txt"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    template.write_text("".join(line for line in lines if not line.startswith("{% set title")), encoding="utf-8")
    result = _fails_without_writing(run, mpi, "zahlen")
    assert result.stderr == (
        "error: templates/linkedin/figures.txt: the template sets no 'title'\n"
        '  hint: add {% set title = "…" %} at its top: the figures post needs it\n'
    )

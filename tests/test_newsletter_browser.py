"""The built newsletter e-mail in a real browser: headless Chromium, driven by Playwright.

What a parser cannot tell: whether the layout scrolls sideways on a phone, whether the
event date is actually visible, what the page tries to load when it is opened. Every
request that is not a local file is blocked (no test touches the internet) and recorded;
only images from the organisation's own site may be asked for.

Every client: the CSS is inlined into the elements, so a client that removes every
``<style>`` block shows the same e-mail; dark mode keeps WCAG AA contrast, measured on the
page Chromium draws in each colour scheme.

Uses the system Chromium (Debian's ``chromium`` package; ``COMMSFLOW_CHROMIUM`` overrides
the path) — Playwright's own browser download is not needed. Without Chromium or the
``playwright`` package the module is skipped. Full-page screenshots are written to
``test-artifacts/newsletter/`` for a look by eye.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO

from commsflow.assemblers.newsletter import assemble
from commsflow.renderers import newsletter as renderer
from commsflow.workspace import Workspace

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip(
        "playwright not importable (pip install -e '.[test]') — browser tests skipped",
        allow_module_level=True,
    )


def _chromium() -> str | None:
    override = os.environ.get("COMMSFLOW_CHROMIUM")
    if override:
        return shutil.which(override)
    return shutil.which("chromium")


CHROMIUM = _chromium()
if CHROMIUM is None:
    pytest.skip(
        "Chromium not found (install Debian's chromium, or set COMMSFLOW_CHROMIUM) — browser tests skipped",
        allow_module_level=True,
    )

NOW = ("--now", "2024-03-01 10:00")
ARTIFACTS = REPO / "test-artifacts" / "newsletter"
OWN_HOST = "www.berlin.de"  # [links] own_site in the shipped commsflow.toml
WIDTHS = (600, 375)
SECTIONS = ("Termine", "Rückblick", "Aus den Projekten")

FEATURED = "2024-03-06-foerdercall-circular-economy-zweite-stufe"
IMAGE_ALT = "Teilnehmende der MPI Konferenz Circular Economy im Impact Hub"

# case → (issue, a German event date that must be visible in that issue)
CASES = {
    "newsletter-2024-1": ("newsletter-2024-1", "Donnerstag, 25. April 2024, 16:00 Uhr"),
    # 2/2023 was sent before the meet-up; its own invitation is to the conference on 28 November.
    "newsletter-2023-2": ("newsletter-2023-2", "Dienstag, 28. November 2023"),
    # 1/2024 with an image on the featured post of the section "Fördercall Circular Economy".
    "newsletter-2024-1-image": ("newsletter-2024-1", "Donnerstag, 25. April 2024, 16:00 Uhr"),
}

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (11, 79, 138)) -> bytes:
    """A valid, plain RGB PNG, written by hand (no Pillow)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bit, truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def add_image(root: Path) -> None:
    """Give the featured post an image with a relative path, the file next to the Markdown."""
    post = root / "content" / "posts" / f"{FEATURED}.md"
    text = post.read_text(encoding="utf-8")
    assert text.startswith("---\n") and "\nstatus: approved\n" in text
    text = text.replace(
        "\nstatus: approved\n",
        f'\nstatus: approved\nimage:\n  src: bild.png\n  alt: "{IMAGE_ALT}"\n',
        1,
    )
    post.write_text(text, encoding="utf-8")
    (post.parent / "bild.png").write_bytes(png())
    campaign = (root / "campaigns" / "newsletter-2024-1.yaml").read_text(encoding="utf-8")
    assert f"featured: {FEATURED}" in campaign


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(CASES), ids=list(CASES))
def built(request, mpi, run):
    """(case, expected date, email.html), built from a copy of the shipped project."""
    case = request.param
    issue, date = CASES[case]
    if case.endswith("-image"):
        add_image(mpi)
    result = run(mpi, *NOW, "newsletter", "build", issue)
    assert result.exit_code == 0, result.output
    html = mpi / "build" / "newsletter" / issue / "email.html"
    assert html.is_file()
    return case, date, html


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_email_in_chromium(browser, built, width):
    case, date, html = built
    context = browser.new_context(viewport={"width": width, "height": 900})
    attempted = []

    def route(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            attempted.append((route.request.resource_type, url))
            route.abort()

    try:
        page = context.new_page()
        page.route("**/*", route)
        page.goto(html.as_uri(), wait_until="load")
        # First, so that a failing case leaves its picture behind.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{case}-{width}.png"), full_page=True)

        # Nothing from the internet except images from the own site; no web fonts, no trackers.
        foreign = [(kind, url) for kind, url in attempted if kind != "image" or urlsplit(url).hostname != OWN_HOST]
        assert not foreign, f"the e-mail asks for third-party or non-image resources: {foreign}"

        assert page.evaluate("document.documentElement.lang") == "de"

        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width, f"scrolls sideways at {width}px: content is {scroll_width}px wide"

        images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.getAttribute('alt')])")
        missing = [src for src, alt in images if not (alt or "").strip()]
        assert not missing, f"images without alt text: {missing}"

        headings = [" ".join(t.split()) for t in page.locator("h2").all_inner_texts()]
        for title in SECTIONS:
            assert title in headings, f"section {title!r} missing; h2 headings: {headings}"

        dates = page.get_by_text(date)
        assert dates.count() >= 1, f"{date!r} not found"
        for index in range(dates.count()):
            assert dates.nth(index).is_visible(), f"{date!r} is in the page but not visible"

        if case.endswith("-image"):
            image = page.locator(f'img[alt="{IMAGE_ALT}"]')
            assert image.count() == 1
            src = image.get_attribute("src")
            assert urlsplit(src).scheme == "https" and urlsplit(src).hostname == OWN_HOST
            assert src.endswith(f"/media/{FEATURED}/bild.png")
            assert ("image", src) in attempted  # asked for (and refused: offline)
            # The file is published with the build, next to the newsletter folders.
            published = html.parents[2] / "media" / FEATURED / "bild.png"
            assert published.read_bytes() == png()
    finally:
        context.close()


# --- every client: inlined CSS, dark mode -------------------------------------------------
#
# Issue 1/2024 as a preview with its drafts: grey labels, two red ENTWURF badges, the red
# preview note, events, a button, the footer. Rendered through the renderer rather than
# `newsletter build --drafts`: what is tested is the HTML, not where a preview is written.

PREVIEW = "newsletter-2024-1"
STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style>", re.S | re.I)
LOOK = (
    "color",
    "background-color",
    "font-size",
    "font-weight",
    "font-family",
    "text-transform",
    "letter-spacing",
    "display",
    "padding",
    "margin",
)
AA_TEXT = 4.5  # WCAG 2 AA, normal text (large text needs 3:1; every text is held to 4.5 here)
SCHEMES = ("light", "dark")


class _RecordingInliner:
    """The renderer's inliner, remembering what MJML compiled before the CSS went inline."""

    def __init__(self, inliner):
        self.inliner, self.compiled = inliner, {}

    def inline(self, html: str) -> str:
        inlined = self.inliner.inline(html)
        self.compiled[inlined] = html
        return inlined


@pytest.fixture
def preview(mpi, monkeypatch) -> dict[str, Path]:
    """The preview's e-mail as files: ``sent`` (what goes out), ``compiled`` (MJML's output before
    inlining), ``bare`` (what goes out with every <style> block removed, as several clients do)."""
    recorder = _RecordingInliner(renderer._INLINER)
    monkeypatch.setattr(renderer, "_INLINER", recorder)
    workspace = Workspace(root=mpi, now_text=" ".join(NOW[1:]), use_cache=False)
    loaded = workspace.load()
    campaign = workspace.campaigns.get(PREVIEW, "newsletter")
    issue = assemble(campaign, workspace.campaigns, loaded.library, workspace.config.zone, drafts=True)
    rendered = renderer.render_issue(issue, workspace.config, now=workspace.now)
    assert not rendered.errors, rendered.errors
    sent = rendered.email_html
    folder = mpi / "look"
    folder.mkdir()
    files = {"sent": sent, "compiled": recorder.compiled[sent], "bare": STYLE_BLOCK.sub("", sent)}
    assert "<style" not in files["bare"].lower()
    for name, html in files.items():
        (folder / f"{name}.html").write_text(html, encoding="utf-8")
    return {name: folder / f"{name}.html" for name in files}


@contextmanager
def opened(browser, path: Path, *, width: int = 600, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.route(
            "**/*",
            lambda route: (
                route.abort() if urlsplit(route.request.url).scheme not in ("file", "data") else route.continue_()
            ),
        )
        page.goto(path.as_uri(), wait_until="load")
        yield page
    finally:
        context.close()


def _looks(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector,
        """(elements, properties) => elements.map(element => {
            const style = getComputedStyle(element);
            return {text: element.textContent.trim(), ...Object.fromEntries(properties.map(p => [p, style.getPropertyValue(p)]))};
        })""",
        list(LOOK),
    )


def _same_picture(browser, first: Path, second: Path, *, width: int, scheme: str, name: str) -> bool:
    shots = []
    for path in (first, second):
        with opened(browser, path, width=width, scheme=scheme) as page:
            shots.append(page.screenshot(full_page=True))
    if shots[0] != shots[1]:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for path, shot in zip((first, second), shots, strict=True):
            (ARTIFACTS / f"{name}-{path.stem}-{width}-{scheme}.png").write_bytes(shot)
    return shots[0] == shots[1]


def test_without_style_blocks_the_labels_badges_and_margins_keep_their_look(browser, preview):
    with opened(browser, preview["sent"]) as page:
        labels, badges = _looks(page, ".label"), _looks(page, ".draft")
    with opened(browser, preview["bare"]) as page:
        bare_labels, bare_badges = _looks(page, ".label"), _looks(page, ".draft")
        margin = page.evaluate("getComputedStyle(document.body).margin")
        top, left = page.evaluate(
            "(() => { const box = document.querySelector('[role=article]').getBoundingClientRect(); return [box.top, box.left]; })()"
        )
    assert len(labels) >= 10 and [badge["text"] for badge in badges] == ["Entwurf", "Entwurf"]
    # The look itself, so that a label turned body text fails here and not only in the comparison.
    assert {(label["color"], label["font-size"], label["text-transform"]) for label in labels} == {
        ("rgb(77, 77, 77)", "13px", "uppercase")
    }
    assert {(badge["color"], badge["background-color"], badge["font-weight"]) for badge in badges} == {
        ("rgb(255, 255, 255)", "rgb(176, 0, 32)", "700")
    }
    assert bare_labels == labels
    assert bare_badges == badges
    assert margin == "0px" and (top, left) == (0, 0), f"body margin {margin!r}: the e-mail starts at {(top, left)}"
    # And the whole picture: in light mode nothing but the media queries lives in <style> alone, and
    # none of them changes what Chromium draws at these widths. (A media query added on purpose, say
    # a mobile layout, would make the widths it applies to differ: compare those by computed style.)
    for width in WIDTHS:
        assert _same_picture(browser, preview["sent"], preview["bare"], width=width, scheme="light", name="bare"), (
            f"at {width}px the e-mail without <style> looks different: see {ARTIFACTS}"
        )


def test_inlining_the_css_changes_nothing_a_client_reading_style_shows(browser, preview):
    # MJML's output draws pixel for pixel what the official compiler's does (compared at 600 and 375 px
    # in both schemes with mjml 4 from npm when the inlining came in); the inlined e-mail must draw the
    # same, in both colour schemes (the dark rules are !important, so they win over inline styles).
    for width in WIDTHS:
        for scheme in SCHEMES:
            assert _same_picture(
                browser, preview["compiled"], preview["sent"], width=width, scheme=scheme, name="inlined"
            ), f"inlining changed the e-mail at {width}px, {scheme}: see {ARTIFACTS}"


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: list[float], second: list[float]) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula():
    assert round(contrast([0, 0, 0], [255, 255, 255]), 2) == 21
    assert round(contrast([77, 77, 77], [255, 255, 255]), 2) == 8.45  # #4d4d4d, the labels


# Every visible element with text of its own: its colour and the first opaque background behind it.
TEXT_ON_BACKGROUND = """() => {
    const rgba = value => (value.match(/[\\d.]+/g) || []).map(Number);
    const found = [];
    for (const element of document.body.querySelectorAll("*")) {
        const own = [...element.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join("").trim();
        if (!own || !element.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
        let background = null;
        for (let e = element; e && !background; e = e.parentElement) {
            const value = rgba(getComputedStyle(e).backgroundColor);
            if (value.length === 3 || value[3] > 0) background = value;
        }
        found.push({text: own.slice(0, 50), tag: element.tagName.toLowerCase(), color: rgba(getComputedStyle(element).color), background});
    }
    return found;
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_text_keeps_aa_contrast_in_light_and_dark(browser, preview, scheme):
    with opened(browser, preview["sent"], scheme=scheme) as page:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"preview-{scheme}.png"), full_page=True)
        meta = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('meta[name]')].map(m => [m.name, m.content]))"
        )
        body = page.evaluate("getComputedStyle(document.body).backgroundColor")
        texts = page.evaluate(TEXT_ON_BACKGROUND)
    assert meta["color-scheme"] == "light dark" and meta["supported-color-schemes"] == "light dark"
    # The scheme really applied: a light page in light mode, a dark one in dark mode.
    page_luminance = _luminance([float(v) for v in re.findall(r"[\d.]+", body)])
    assert page_luminance > 0.8 if scheme == "light" else page_luminance < 0.02, f"{scheme}: body {body}"
    assert len(texts) > 50, texts
    assert all(text["background"] for text in texts), "text with no background colour behind it"
    translucent = [text for text in texts if min(text["color"][3:] + text["background"][3:] + [1]) < 1]
    assert not translucent, f"semi-transparent colours cannot be measured this way: {translucent}"
    failing = [
        f"{text['tag']} {text['text']!r}: {contrast(text['color'], text['background']):.2f}:1 "
        f"(rgb{tuple(text['color'])} on rgb{tuple(text['background'][:3])})"
        for text in texts
        if contrast(text["color"], text["background"]) < AA_TEXT
    ]
    assert not failing, f"{scheme}: text below {AA_TEXT}:1 contrast:\n" + "\n".join(failing)

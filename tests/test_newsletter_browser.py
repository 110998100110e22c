"""The built newsletter e-mail in a real browser: headless Chromium, driven by Playwright.

What a parser cannot tell: whether the layout scrolls sideways on a phone, whether the
event date is actually visible, what the page tries to load when it is opened. Every
request that is not a local file is blocked (no test touches the internet) and recorded;
only images from the organisation's own site may be asked for.

Uses the system Chromium (Debian's ``chromium`` package; ``COMMSFLOW_CHROMIUM`` overrides
the path) — Playwright's own browser download is not needed. Without Chromium or the
``playwright`` package the module is skipped. Full-page screenshots are written to
``test-artifacts/newsletter/`` for a look by eye.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO

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

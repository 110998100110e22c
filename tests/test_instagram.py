"""Instagram packages for event steps: the picture rendered by headless Chromium at the format's
size, the caption and alt text, package.json — and in Chromium (Playwright), that the picture's
text fits for the longest shipped titles. Without Chromium the package says how to get the picture.
Uses the system Chromium (Debian's ``chromium``; ``COMMSFLOW_CHROMIUM`` overrides it)."""

from __future__ import annotations

import json
import os
import shutil
from io import BytesIO

import pytest
from conftest import REPO
from PIL import Image

from commsflow.renderers import instagram

CHROMIUM = instagram.chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or shutil.which(CHROMIUM) is None,
    reason="Chromium not found (install Debian's chromium, or set COMMSFLOW_CHROMIUM) — Instagram pictures not drawn",
)
NOW = ("--now", "2024-03-01 10:00")
MEET_UP = "mpi-meet-up-2024"
STEPS = """
  - name: instagram-save-the-date
    at: -6 weeks
    time: "12:00"
    channel: instagram
    template: save-the-date
  - name: instagram-rueckblick
    at: +1 day
    time: "16:00"
    channel: instagram
    template: recap
"""


def _with_instagram(mpi) -> None:
    campaign = mpi / "campaigns" / f"{MEET_UP}.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").rstrip("\n") + STEPS, encoding="utf-8")


def _package(mpi, kind: str):
    folder = mpi / "build" / "instagram" / f"{MEET_UP}--{kind}"
    return folder, json.loads((folder / "package.json").read_text(encoding="utf-8"))


@needs_chromium
def test_an_event_step_becomes_a_package_to_post(run, mpi):
    _with_instagram(mpi)
    calendar = run(mpi, *NOW, "calendar", "--channel", "instagram")
    assert calendar.exit_code == 0, calendar.output
    assert calendar.stdout.count(MEET_UP) == 2
    built = run(mpi, *NOW, "build")
    assert "Traceback" not in built.output
    for kind, (shape, width, height) in {"save-the-date": ("feed", 1080, 1350), "recap": ("story", 1080, 1920)}.items():
        folder, package = _package(mpi, kind)
        with Image.open(folder / "image.jpg") as image:
            assert (image.format, image.size) == ("JPEG", (width, height))
            assert image.convert("RGB").getpixel((width // 2, height // 2)) != (255, 255, 255)  # drawn, not blank
        caption = (folder / "caption.txt").read_text(encoding="utf-8").rstrip("\n")
        assert package["format"] == shape and package["caption"] == caption
        assert package["image"] == "image.jpg"
        assert package["image_url"].endswith(f"/instagram/{MEET_UP}--{kind}/image.jpg")
        assert package["image_url"].startswith("https://")
        assert "MPI Meet-up im Bosch IoT Campus" in package["alt"] and "25. April 2024" in package["alt"]
        assert "Link in Bio" in caption and "https://" not in caption
        assert package["hashtags"] and all(tag in caption for tag in package["hashtags"])
        assert len(caption) <= instagram.CAPTION_LIMIT
    _folder, feed = _package(mpi, "save-the-date")
    assert feed["caption"].startswith("Save the Date: MPI Meet-up im Bosch IoT Campus")
    assert "📅 Donnerstag, 25. April 2024, 16:00 Uhr\n📍 Bosch IoT Campus, Berlin" in feed["caption"]
    assert feed["planned"] == "2024-03-14T12:00:00+01:00"


def test_without_chromium_the_package_says_how_to_get_the_picture(run, mpi, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_CHROMIUM", str(mpi / "kein-chromium"))
    _with_instagram(mpi)
    built = run(mpi, *NOW, "build")
    assert "Traceback" not in built.output
    assert built.exit_code == 0  # a warning: the rest of the build is fine
    words = " ".join(built.output.split())
    assert f"the Instagram picture was not rendered: no Chromium at {mpi / 'kein-chromium'}" in words, built.output
    assert "— install Chromium (Debian: apt install chromium) or set COMMSFLOW_CHROMIUM" in words
    # Half a package is not one: nothing of it is written, and the job is reported as not built.
    assert not (mpi / "build" / "instagram").exists()
    assert f"{MEET_UP}/instagram-save-the-date/{MEET_UP}@2024-03-14T12:00+01:00" in words


def test_caption_findings_name_each_limit():
    too_long = "Wort " * 500
    tags = " ".join(f"#Tag{number}a" for number in range(31))
    caption = f"{too_long}\n\n{tags}\n\nhttps://www.berlin.de/industriestadt/"
    found = instagram.caption_findings(caption)
    messages = [message for message, _hint, _error in found]
    assert messages == [
        f"the Instagram caption has {len(caption)} characters; Instagram takes 2200",
        "the Instagram caption has 31 hashtags; Instagram takes 30",
        "the Instagram caption has a web address: Instagram does not link it",
    ]
    assert [error for _message, _hint, error in found] == [True, True, False]
    assert instagram.caption_findings("Save the Date\n\nLink in Bio.\n\n#Berlin") == []


# --- in Chromium: the text fits ------------------------------------------------------------------


def _longest_titles() -> list[str]:
    import yaml

    titles = []
    for path in (REPO / "content" / "events").glob("*.md"):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        titles.append(meta["title"])
    return sorted(titles, key=len, reverse=True)[:2]


@needs_chromium
@pytest.mark.parametrize("kind", ["save-the-date", "recap"])
@pytest.mark.parametrize("title", [*_longest_titles(), "Industrielle Transformation gemeinsam gestalten: " * 3])
def test_the_picture_text_fits_for_long_titles(tmp_path, kind, title):
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')"
    )
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commsflow.channels.instagram import FORMATS
    from commsflow.config import load_config
    from commsflow.renderers.templating import environment, render

    config = load_config(REPO)
    shape, width, height = FORMATS[kind]
    start = datetime(2024, 4, 25, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    event = {
        "title": title,
        "summary": None,
        "start": start,
        "end": None,
        "all_day": False,
        "format": "MPI Meet-up",
        "venue": "Bosch IoT Campus, Ullsteinstraße 128, Berlin",
        "venue_name": "Bosch IoT Campus",
        "city": "Berlin",
    }
    html = render(
        environment(config),
        f"instagram/{kind}.html",
        kind=kind,
        format=shape,
        width=width,
        height=height,
        organisation=config.organisation.model_dump(),
        event=event,
        hashtags=[],
        now=start,
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.set_content(html)
        overflow = page.evaluate(
            """() => {
                const main = document.getElementById("main");
                const parts = [...document.querySelectorAll("h1, p, .label, .footer")];
                return {
                    page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
                    main: main.scrollHeight - main.clientHeight,
                    wide: parts.filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent),
                    outside: parts.filter(e => e.getBoundingClientRect().bottom > innerHeight).map(e => e.textContent),
                };
            }"""
        )
        browser.close()
    assert overflow["page"] == [width, height]
    assert overflow["main"] <= 0 and not overflow["wide"] and not overflow["outside"], overflow
    assert not errors
    shot = instagram.picture(html, width, height)
    with Image.open(BytesIO(shot)) as image:
        assert image.size == (width, height)
    if os.environ.get("COMMSFLOW_KEEP_ARTIFACTS"):
        (REPO / "test-artifacts").mkdir(exist_ok=True)
        (REPO / "test-artifacts" / f"instagram-{kind}-{len(title)}.jpg").write_bytes(shot)


@needs_chromium
def test_a_picture_is_drawn_once_for_the_same_page(tmp_path, monkeypatch):
    html = "<!doctype html><body style='margin:0;background:#0b4f8a'><h1 style='color:#fff'>Save the Date</h1>"
    first = instagram.picture(html, 1080, 1350, kept=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1

    def no_browser(*args, **kwargs):
        raise AssertionError("Chromium started again for a page it drew before")

    monkeypatch.setattr(instagram.subprocess, "run", no_browser)
    assert instagram.picture(html, 1080, 1350, kept=tmp_path) == first
    with pytest.raises(AssertionError, match="started again"):
        instagram.picture(html + "<p>anders</p>", 1080, 1350, kept=tmp_path)

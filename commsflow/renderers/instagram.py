"""Instagram packages: what a person needs to post an event step on Instagram by hand (its API
has no drafts) — the picture rendered from an HTML template in headless Chromium, the caption,
the alt text and a ``package.json`` describing them.

The picture is a screenshot of ``templates/instagram/<kind>.html`` at the format's size (story
1080×1920, feed post 1080×1350), saved as JPEG (what Instagram takes). Chromium is the system's
(``chromium``, or ``COMMSFLOW_CHROMIUM``); where there is none the package has no picture and
the build says how to get one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

from commsflow.i18n import _

CAPTION_LIMIT = 2200  # characters Instagram takes in a caption
HASHTAG_LIMIT = 30  # hashtags it takes in one
SCREENSHOT_TIMEOUT = 60.0  # seconds Chromium may take for one picture
_HASHTAG = re.compile(r"(?<![\w#&/])#\w*[^\W\d_]\w*")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class NoPicture(Exception):
    """The picture could not be rendered: ``message`` and ``hint`` say why and what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def hashtags_in(caption: str) -> list[str]:
    return _HASHTAG.findall(caption)


def caption_findings(caption: str) -> list[tuple[str, str, bool]]:
    """What is wrong with a caption: (message, hint, is_error) — too long, too many hashtags,
    an address (not clickable in a caption)."""
    found = []
    if len(caption) > CAPTION_LIMIT:
        found.append(
            (
                _("the Instagram caption has {count} characters; Instagram takes {limit}").format(
                    count=len(caption), limit=CAPTION_LIMIT
                ),
                _("shorten the template's text or the item's summary"),
                True,
            )
        )
    tags = hashtags_in(caption)
    if len(tags) > HASHTAG_LIMIT:
        found.append(
            (
                _("the Instagram caption has {count} hashtags; Instagram takes {limit}").format(
                    count=len(tags), limit=HASHTAG_LIMIT
                ),
                _("keep the hashtags that matter most"),
                True,
            )
        )
    if _URL.search(caption):
        found.append(
            (
                _("the Instagram caption has a web address: Instagram does not link it"),
                _("write „Link in Bio“ and put the address in the profile"),
                False,
            )
        )
    return found


def chromium() -> str | None:
    """The Chromium to render with: ``COMMSFLOW_CHROMIUM``, else the first on the PATH."""
    configured = os.environ.get("COMMSFLOW_CHROMIUM", "").strip()
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def picture(html: str, width: int, height: int, *, quality: int = 90, kept: Path | None = None) -> bytes:
    """``html`` as a ``width``×``height`` JPEG, as headless Chromium draws it. Relative
    addresses in the page are relative to nothing: templates use ``file://`` or https.
    ``kept``: a folder where pictures are kept by what they are drawn from (the page, the size,
    the browser): Chromium takes about a second a picture, and every ``check`` renders the
    signed-off jobs."""
    browser = chromium()
    if kept is not None and browser is not None and shutil.which(browser):
        import hashlib

        found = Path(shutil.which(browser))
        stat = found.stat()
        key = hashlib.sha256(
            f"{width}x{height}:{quality}:{found}:{stat.st_size}:{stat.st_mtime_ns}\0".encode() + html.encode()
        ).hexdigest()
        path = kept / f"{key}.jpg"
        try:
            return path.read_bytes()
        except OSError:
            pass
        data = picture(html, width, height, quality=quality)
        from commsflow.files import write_atomic

        try:
            write_atomic(path, data)
        except Exception:  # noqa: BLE001 - a read-only state folder: drawn again next time
            pass
        return data
    install = _("install Chromium (Debian: apt install chromium) or set COMMSFLOW_CHROMIUM to its path")
    if browser is None:
        raise NoPicture(_("the Instagram picture was not rendered: no Chromium found"), install)
    if shutil.which(browser) is None:
        raise NoPicture(
            _("the Instagram picture was not rendered: no Chromium at {path}").format(path=browser), install
        )
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="commsflow-instagram-") as folder:
        page, shot = Path(folder) / "page.html", Path(folder) / "shot.png"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless=new",
            "--no-sandbox",  # as root (CI containers) Chromium refuses to start with its sandbox
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--default-background-color=ffffffff",
            f"--user-data-dir={folder}/profile",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=SCREENSHOT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NoPicture(
                _("the Instagram picture was not rendered: Chromium failed ({reason})").format(
                    reason=type(exc).__name__
                ),
                _("check that {browser} starts (or set COMMSFLOW_CHROMIUM)").format(browser=browser),
            ) from None
        if not shot.is_file():
            raise NoPicture(
                _("the Instagram picture was not rendered: Chromium made no screenshot"),
                _("check that {browser} starts (or set COMMSFLOW_CHROMIUM)").format(browser=browser),
            )
        with Image.open(shot) as image:
            image = image.convert("RGB")
            if image.size != (width, height):
                image = image.crop((0, 0, width, height))
            out = BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()

"""Local images: a path in an item's ``image.src`` names an image inside the content folder.

An image is given as a full https:// address, or as a path relative to the item's file
(``bild.png`` next to it). A path is copied into the public build folder and shown on
LinkedIn, so it must stay inside the content folder — no absolute path, no ``..`` out of
it, no symbolic link leading out of it — and name a PNG, JPEG, GIF or WebP image by
content (Pillow reads and verifies it), not merely by its name. Anything else is a
content error that ``check`` reports; nothing is copied.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from commsflow import frontmatter
from commsflow.errors import Problem
from commsflow.i18n import _

# What e-mail clients and LinkedIn show; Pillow is told to try no other format.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
FIELD = "image.src"


class ImageRefused(Exception):
    def __init__(self, message: str, hint: str, *, transient: bool = False):
        super().__init__(message)
        self.message, self.hint = message, hint
        self.transient = transient  # the web server did not answer (or answered 5xx): try again later


def is_local(src: str) -> bool:
    """A path, not an address (``https://…``, or any other scheme, which the link rules judge)."""
    return not urlsplit(src).scheme


def local_image(src: str, item_path: str, root: Path, content_dir: Path) -> Path:
    """The real path of the image ``src`` names for the item at ``item_path`` (relative to
    ``root``); raises :class:`ImageRefused` saying why it cannot be used."""
    shown = _shown(root, content_dir)
    inside = _("keep images inside {folder}/ (e.g. next to the Markdown file) or give a full https:// address").format(
        folder=shown
    )
    image = repr(src)
    if os.path.isabs(src):
        raise ImageRefused(
            _("image {image} is an absolute path").format(image=image),
            _("write the path relative to the Markdown file; {keep_inside}").format(keep_inside=inside),
        )
    folder = (root / item_path).parent
    candidate = folder / src
    if not _within(os.path.normpath(candidate), os.path.normpath(content_dir)):
        raise ImageRefused(_("image {image} leads out of the content folder").format(image=image), inside)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a dangling link or a loop of links
        raise ImageRefused(
            _("image {image} not found (looked for {path})").format(image=image, path=candidate),
            _("put the file next to the Markdown file or give a full https:// address"),
        ) from None
    if not _within(str(real), os.path.realpath(content_dir)):
        raise ImageRefused(
            _("image {image} is a symbolic link to a file outside the content folder").format(image=image),
            _("copy the image into {folder}/ instead of linking it, or give a full https:// address").format(
                folder=shown
            ),
        )
    if not real.is_file():
        raise ImageRefused(
            _("image {image} is not a file (looked for {path})").format(image=image, path=candidate), inside
        )
    _verify(real, src)
    return real


def _verify(source, src: str) -> None:
    """``source``: a path or a binary file object."""
    from PIL import Image

    try:
        with Image.open(source, formats=FORMATS) as image:
            image.verify()
    except Image.DecompressionBombError:
        raise ImageRefused(
            _("image {image} has too many pixels to be read safely").format(image=repr(src)),
            _("scale it down (a newsletter shows it at most 600 pixels wide)"),
        ) from None
    except Exception:  # Pillow's verdict on a file that is not one of these images, however it says it
        raise ImageRefused(
            _("image {image} is not a PNG, JPEG, GIF or WebP image").format(image=repr(src)),
            _("save the picture in one of these formats; other files cannot be shown in e-mails or on LinkedIn"),
        ) from None


def image_problem(item, root: Path, content_dir: Path) -> Problem | None:
    """The problem with the item's local image, located at ``image.src``; None when it has
    no local image or the image is fine."""
    image = item.meta.image
    if image is None or not is_local(image.src):
        return None
    return check(image.src, item.path, root, content_dir)


def check(src: str, item_path: str, root: Path, content_dir: Path) -> Problem | None:
    try:
        local_image(src, item_path, root, content_dir)
    except ImageRefused as exc:
        return refused(exc, item_path, root)
    return None


def refused(exc: ImageRefused, item_path: str, root: Path) -> Problem:
    return Problem(item_path, exc.message, line=_line(root, item_path), field=FIELD, hint=exc.hint)


def _line(root: Path, item_path: str) -> int | None:
    try:
        return frontmatter.line_finder_for_file(root / item_path, item_path)(("image", "src"))
    except (OSError, frontmatter.SourceError):
        return None


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _shown(root: Path, folder: Path) -> str:
    try:
        return folder.relative_to(root).as_posix()
    except ValueError:
        return str(folder)


# --- images for the social channels -------------------------------------------------------------

REMOTE_LIMIT = 20 * 1024 * 1024  # bytes fetched of an https image at most
REMOTE_TIMEOUT = 20.0


class Prepared(NamedTuple):
    """An image as a channel takes it: its bytes, type and size in pixels."""

    data: bytes
    mime: str
    width: int
    height: int

    @property
    def suffix(self) -> str:
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}[self.mime]


class Remote(NamedTuple):
    """An image at an https address, fetched when the post is sent (a build reads nothing from
    the web): in the payload as a file ``image.url`` holding the address, which the sign-off covers."""

    url: str

    @property
    def data(self) -> bytes:
        return self.url.encode("utf-8")

    suffix = ".url"
    mime = width = height = None


def attachment(files: dict, name: str, limits: tuple[int, int]) -> tuple[bytes, str]:
    """The bytes and type of the payload's file ``name`` to upload: the file itself, or for an
    ``….url`` file the image at that address, fetched now and fitted to ``limits`` (bytes,
    pixels). Raises :class:`ImageRefused` saying why it cannot be used."""
    import mimetypes

    data = files[name]
    if not name.endswith(Remote.suffix):
        return data, mimetypes.guess_type(name)[0] or "application/octet-stream"
    url = data.decode("utf-8") if isinstance(data, bytes) else data
    fitted = prepared(remote_image(url), max_bytes=limits[0], max_side=limits[1])
    return fitted.data, fitted.mime


def prepared(data: bytes, *, max_bytes: int, max_side: int, jpeg: bool = False) -> Prepared:
    """``data`` (a PNG, JPEG, GIF or WebP image) within a platform's limits: as it is where it
    fits them, else scaled to ``max_side`` pixels on its longer side and saved as JPEG (white
    behind transparency) at the best quality under ``max_bytes``. ``jpeg``: always JPEG
    (Instagram). Deterministic: the same image gives the same bytes."""
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(data), formats=FORMATS) as image:
        image.load()
        mime = Image.MIME[image.format]
        width, height = image.size
        if len(data) <= max_bytes and max(width, height) <= max_side and (mime == "image/jpeg" or not jpeg):
            return Prepared(data, mime, width, height)
        if image.mode not in ("RGB", "L"):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        else:
            image = image.convert("RGB")
    side = min(max_side, max(width, height))
    while True:
        scaled = image.copy()
        scaled.thumbnail((side, side), Image.Resampling.LANCZOS)
        for quality in (88, 80, 72, 64):
            out = BytesIO()
            scaled.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
            if out.tell() <= max_bytes:
                return Prepared(out.getvalue(), "image/jpeg", *scaled.size)
        side = int(side * 0.8)
        if side < 64:
            raise ImageRefused(
                _("the image cannot be made small enough ({size} KB at most)").format(size=max_bytes // 1024),
                _("use a smaller picture"),
            )


def remote_image(src: str, state_dir: Path | None = None) -> bytes:
    """The bytes of the image at the https address ``src`` — at most :data:`REMOTE_LIMIT`
    bytes — fetched once where ``state_dir`` keeps it (``images/``). Raises
    :class:`ImageRefused` saying why it cannot be used."""
    import hashlib

    kept = None
    if state_dir is not None:
        kept = state_dir / "images" / hashlib.blake2b(src.encode("utf-8"), digest_size=16).hexdigest()
        try:
            return kept.read_bytes()
        except OSError:
            pass
    from io import BytesIO

    from commsflow.files import write_atomic

    data = _fetch(src)
    _verify(BytesIO(data), src)
    if kept is None:
        return data
    try:
        write_atomic(kept, data)
    except Exception:  # noqa: BLE001 - a read-only state folder: fetched again next time
        pass
    return data


def _fetch(src: str) -> bytes:
    import requests

    from commsflow.publishers.http import USER_AGENT

    shown = repr(src)
    try:
        with requests.get(
            src, stream=True, timeout=REMOTE_TIMEOUT, headers={"User-Agent": USER_AGENT}, allow_redirects=True
        ) as response:
            if response.status_code != 200:
                raise ImageRefused(
                    _("image {image} could not be fetched (HTTP {status})").format(
                        image=shown, status=response.status_code
                    ),
                    _("check the address in a browser, or save the picture next to the Markdown file"),
                    transient=response.status_code >= 500,
                )
            data = b""
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > REMOTE_LIMIT:
                    raise ImageRefused(
                        _("image {image} is larger than {size} MB").format(image=shown, size=REMOTE_LIMIT // 2**20),
                        _("use a smaller picture, saved next to the Markdown file"),
                    )
            return data
    except requests.RequestException:
        error = ImageRefused(
            _("image {image} could not be fetched (no connection)").format(image=shown),
            _("check the address and the network, or save the picture next to the Markdown file"),
            transient=True,
        )
    raise error

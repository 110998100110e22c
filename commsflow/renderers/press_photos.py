"""Press photos for a release's pack: each photo's file with its caption, credit and terms of
use written into it, and a smaller copy for the PDF and the Word file.

Picture desks read a photo's credit from the file itself, so the pack's copies carry it
twice over, as newsroom systems expect: as XMP (the IPTC Photo Metadata properties —
creator, credit line, copyright notice, description, usage terms and alt text; the packet
comes from ``templates/press/photo.xml``) and as IPTC-IIM (APP13), which older systems
read. The segments are written into JPEG and PNG files as they are — the picture itself
is never encoded again; a GIF or WebP photo goes into the pack unchanged, with a warning.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from commsflow import media
from commsflow.errors import Problem, Severity
from commsflow.i18n import _
from commsflow.slugs import slugify

# The PDF and the Word file show a photo at most 16 cm wide: 1600 pixels are 250 dpi there.
PREVIEW_SIDE = 1600
PREVIEW_BYTES = 900_000

_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_ID = b"Photoshop 3.0\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
_IIM_LIMITS = {80: 32, 110: 32, 116: 128, 120: 2000, 40: 256}  # bytes a dataset may hold (IPTC-IIM 4.2)


@dataclass(frozen=True)
class Photo:
    """One photo of a release as its formats print it and its pack carries it."""

    name: str  # its file name in the pack, next to release.html
    data: bytes  # the file, metadata written in
    preview: bytes  # a JPEG for the PDF and the Word file
    portrait: bool  # taller than 3:4 landscape: the Word file gives it a height, not a width
    alt: str
    caption: str | None
    credit: str
    terms: str | None

    @property
    def creator(self) -> str:
        """Who took it: the credit's name before „ / “ („Name / Agentur“)."""
        return self.credit.split(" / ", 1)[0].strip()

    @property
    def copyright(self) -> str:
        return f"© {self.credit}"

    def context(self) -> dict:
        return {
            "name": self.name,
            "alt": self.alt,
            "caption": self.caption,
            "credit": self.credit,
            "terms": self.terms,
            "creator": self.creator,
            "copyright": self.copyright,
        }


def load(item, config, render_xmp, *, line_of=lambda loc: None) -> tuple[list[Photo], list[Problem]]:
    """The item's ``press.photos``, each read (a local file inside the content folder, or an
    https address fetched once and kept in the state folder) and prepared for the pack.

    ``render_xmp(photo_context) -> str`` words the XMP packet; ``line_of(loc)`` finds a
    front matter field's line for the problems."""
    press = item.meta.press
    photos: list[Photo] = []
    problems: list[Problem] = []
    if press is None:
        return photos, problems
    taken: set[str] = set()
    for index, spec in enumerate(press.photos):
        field = f"press.photos[{index}].src"
        loc = ("press", "photos", index, "src")
        try:
            if media.is_local(spec.src):
                data = media.local_image(spec.src, item.path, config.root, config.path("content")).read_bytes()
            else:
                data = media.remote_image(spec.src, config.path("state"))
            preview = media.prepared(data, max_bytes=PREVIEW_BYTES, max_side=PREVIEW_SIDE, jpeg=True)
        except media.ImageRefused as exc:
            problems.append(Problem(item.path, exc.message, line=line_of(loc), field=field, hint=exc.hint))
            continue
        except OSError as exc:
            problems.append(Problem(item.path, exc.strerror or str(exc), line=line_of(loc), field=field))
            continue
        kind = _kind(data)
        photo = Photo(
            _file_name(spec.src, kind, taken),
            data,
            preview.data,
            preview.height * 4 > preview.width * 3,
            spec.alt,
            spec.caption,
            spec.credit,
            spec.terms or config.press.photo_terms,
        )
        taken.add(photo.name)
        packet = render_xmp(photo.context()).encode("utf-8")
        if kind == "jpeg":
            data = jpeg_with_metadata(data, packet, _iim(photo))
        elif kind == "png":
            data = png_with_xmp(data, packet)
        else:
            problems.append(
                Problem(
                    item.path,
                    _("photo {src!r}: caption and credit can only be written into JPEG and PNG files").format(
                        src=spec.src
                    ),
                    line=line_of(loc),
                    field=field,
                    hint=_("save the photo as JPEG, so that picture desks find the credit in the file"),
                    severity=Severity.WARNING,
                )
            )
        photos.append(replace(photo, data=data))
    return photos, problems


def _kind(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "webp"


_SUFFIX = {"jpeg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp"}


def _file_name(src: str, kind: str, taken: set[str]) -> str:
    """The photo's name in the pack: its own name as a slug (``Halle 3.JPG`` → ``halle-3.jpg``),
    numbered where two photos would share it."""
    stem = slugify(PurePosixPath(urlsplit(src).path).stem) or "foto"
    name, number = stem + _SUFFIX[kind], 1
    while name in taken or name.startswith("release."):
        number += 1
        name = f"{stem}-{number}{_SUFFIX[kind]}"
    return name


# --- IPTC-IIM ----------------------------------------------------------------------------------


def _iim(photo: Photo) -> bytes:
    """The IPTC-IIM datasets (UTF-8 declared): by-line, credit, copyright, caption, instructions."""
    out = _dataset(1, 90, b"\x1b%G") + _dataset(2, 0, b"\x00\x04")
    values = {
        80: photo.creator,
        110: photo.credit,
        116: photo.copyright,
        120: photo.caption or photo.alt,
        40: photo.terms,
    }
    for number in (40, 80, 110, 116, 120):  # datasets in ascending order
        value = values[number]
        if value:
            out += _dataset(2, number, _cut(value, _IIM_LIMITS[number]))
    return out


def _dataset(record: int, number: int, data: bytes) -> bytes:
    return struct.pack(">BBBH", 0x1C, record, number, len(data)) + data


def _cut(text: str, limit: int) -> bytes:
    """``text`` as UTF-8 in at most ``limit`` bytes, never splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def _photoshop_resource(resource_id: int, data: bytes) -> bytes:
    block = b"8BIM" + struct.pack(">H", resource_id) + b"\x00\x00" + struct.pack(">I", len(data)) + data
    return block + (b"\x00" if len(data) % 2 else b"")


def _photoshop_resources(payload: bytes) -> list[tuple[int, bytes]]:
    """The image resources of an APP13 segment (after its „Photoshop 3.0“ header)."""
    found, at = [], 0
    while at + 12 <= len(payload) and payload[at : at + 4] == b"8BIM":
        resource_id = struct.unpack(">H", payload[at + 4 : at + 6])[0]
        name_length = payload[at + 6]
        at += 6 + name_length + 1 + ((name_length + 1) % 2)  # a Pascal string padded to an even length
        if at + 4 > len(payload):
            break
        size = struct.unpack(">I", payload[at : at + 4])[0]
        at += 4
        found.append((resource_id, payload[at : at + size]))
        at += size + size % 2
    return found


# --- JPEG -------------------------------------------------------------------------------------


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_with_metadata(data: bytes, xmp: bytes, iim: bytes) -> bytes:
    """``data`` (a JPEG) with ``xmp`` as its XMP segment and ``iim`` as its IPTC record, in
    place of any it had; Exif, the other Photoshop resources and the picture stay as they are."""
    at, kept, others = 2, [], []
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            break  # the first table or frame header: the application segments are behind us
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        payload = data[at + 4 : at + 2 + length]
        if marker == 0xE1 and payload.startswith((_XMP_ID, _XMP_EXTENSION_ID)):
            pass  # the old XMP goes
        elif marker == 0xED and payload.startswith(_PHOTOSHOP_ID):
            others += [(rid, res) for rid, res in _photoshop_resources(payload[len(_PHOTOSHOP_ID) :]) if rid != 0x0404]
        else:
            kept.append(data[at : at + 2 + length])
        at += 2 + length
    # JFIF (APP0) and Exif (APP1) lead; the new segments follow them.
    leading = [s for s in kept if s[1] == 0xE0 or (s[1] == 0xE1 and s[4:10] == b"Exif\x00\x00")]
    rest = [s for s in kept if s not in leading]
    resources = b"".join(_photoshop_resource(rid, res) for rid, res in others)
    resources += _photoshop_resource(0x0404, iim)
    new = [_segment(0xE1, _XMP_ID + xmp), _segment(0xED, _PHOTOSHOP_ID + resources)]
    return data[:2] + b"".join(leading + new + rest) + data[at:]


# --- PNG ----------------------------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_xmp(data: bytes, xmp: bytes) -> bytes:
    """``data`` (a PNG) with ``xmp`` in an iTXt chunk after the header, in place of any it had."""
    out, at = [data[:8]], 8
    while at + 8 <= len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        kind = data[at + 4 : at + 8]
        chunk = data[at : at + 12 + length]
        at += 12 + length
        if kind == b"iTXt" and chunk[8:].startswith(_PNG_XMP_KEYWORD + b"\x00"):
            continue
        out.append(chunk)
        if kind == b"IHDR":
            out.append(_chunk(b"iTXt", _PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp))
    return b"".join(out) + data[at:]

"""A press release in four forms from one template.

``templates/press/release.md`` holds the wording and the structure of both layouts
(classic and the Berlin Senate's). Its Markdown becomes the print HTML (A4), the
plain text for distribution e-mails and a Word file whose paragraphs carry real
styles: ``#`` → Title, ``##`` → Subtitle, ``###`` → Heading 1, lists → List
Bullet/Number, block quotes → Quote — the styles press offices work with.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from markupsafe import Markup

from commsflow import dates, markdown
from commsflow.assemblers.press import Release
from commsflow.config import Config
from commsflow.links import ics_url, item_url
from commsflow.renderers import ics
from commsflow.renderers.templating import environment, render

TEMPLATES = "press"
_HEADING = re.compile(r"^(#{1,5})(?=\s)", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)


@dataclass
class RenderedRelease:
    slug: str
    markdown: str
    html: str
    text: str
    docx: bytes
    ics: bytes | None


def demote_headings(body: str) -> str:
    """The item's own headings one level down, under the release's headline and subline."""
    parts = _FENCE.split(body)
    # Outside fences only: split() keeps the fence markers, so every fourth part is code.
    out, inside = [], False
    for part in parts:
        if _FENCE.fullmatch(part):
            inside = not inside
            out.append(part)
        else:
            out.append(part if inside else _HEADING.sub(lambda m: m[1] + "#", part))
    return "".join(out)


def render_release(release: Release, config: Config, *, now: datetime) -> RenderedRelease:
    env = environment(config)
    item = release.item
    meta = item.meta
    event = None
    if item.kind == "event":
        venue = meta.venue
        event = {
            "start": meta.start,
            "end": meta.end,
            "all_day": meta.all_day,
            "multi_day": meta.multi_day,
            "venue": venue.line if venue else None,
            "registration_url": meta.registration,
            "ics_url": ics_url(config, item.slug),
            "participants": meta.participants,
            "format": meta.format,
        }
    context = {
        "layout": config.press.layout,
        "kind": release.kind,
        "organisation": config.organisation.model_dump(),
        "press": config.press.model_dump(),
        "release": {
            "date": release.date,
            "headline": release.headline,
            "subline": release.subline,
            "lead": release.lead,
            "body": Markup(demote_headings(release.body_markdown)),
            "quotes": [quote.model_dump() for quote in getattr(meta, "quotes", [])],
            "url": item_url(item, config),
        },
        "event": event,
    }
    text_md = render(env, f"{TEMPLATES}/release.md", **context)
    body_html = markdown.to_html(text_md)
    html = render(
        env,
        f"{TEMPLATES}/release.html",
        body=Markup(body_html),
        title=release.headline,
        organisation=config.organisation.model_dump(),
    )
    calendar = ics.event_ics(item, config, stamp=now, url=item_url(item, config)) if event else None
    return RenderedRelease(
        item.slug, text_md, html, markdown.html_to_text(body_html), to_docx(body_html, release, config), calendar
    )


def output_files(rendered: RenderedRelease, config: Config) -> dict[Path, bytes | str]:
    folder = config.path("build") / "press" / rendered.slug
    files: dict[Path, bytes | str] = {
        folder / "release.md": rendered.markdown,
        folder / "release.html": rendered.html,
        folder / "release.txt": rendered.text,
        folder / "release.docx": rendered.docx,
    }
    if rendered.ics is not None:
        files[config.path("build") / "events" / f"{rendered.slug}.ics"] = rendered.ics
    return files


# --- Word ------------------------------------------------------------------------------------

_BLOCK_STYLES = {
    "h1": "Title",
    "h2": "Subtitle",
    "h3": "Heading 1",
    "h4": "Heading 2",
    "h5": "Heading 3",
    "h6": "Heading 4",
    "p": "Normal",
}


class _DocxWriter(HTMLParser):
    """Walks the release's HTML (from cmark) and writes styled Word paragraphs."""

    def __init__(self, document):
        super().__init__(convert_charrefs=True)
        self.document = document
        self.paragraph = None
        self.lists: list[str] = []
        self.quote = 0
        self.bold = self.italic = 0
        self.link: str | None = None
        self.link_text = ""

    def _open(self, style: str):
        self.paragraph = self.document.add_paragraph(style=style)

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self._open("List Number" if self.lists and self.lists[-1] == "ol" else "List Bullet")
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "p" and self.paragraph is not None and self.lists:
            pass  # a loose list item's paragraph continues the item
        elif tag in _BLOCK_STYLES:
            self._open("Quote" if self.quote and tag == "p" else _BLOCK_STYLES[tag])
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "a":
            self.link, self.link_text = dict(attrs).get("href"), ""
        elif tag == "br" and self.paragraph is not None:
            self.paragraph.add_run().add_break()

    def handle_endtag(self, tag):
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote":
            self.quote -= 1
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "a":
            target, self.link = self.link, None
            shown = self.link_text.strip()
            if target and shown and target.rstrip("/") not in (shown.rstrip("/"), "https://" + shown.rstrip("/")):
                self._run(f" ({target})")
        elif tag in _BLOCK_STYLES and not self.lists:
            self.paragraph = None
        elif tag == "li":
            self.paragraph = None

    def handle_data(self, data):
        if self.paragraph is None:
            if not data.strip():
                return
            self._open("Normal")
        if self.link is not None:
            self.link_text += data
        self._run(data)

    def _run(self, text: str):
        text = re.sub(r"\s+", " ", text)
        if not text:
            return
        if not self.paragraph.runs:
            text = text.lstrip()
        run = self.paragraph.add_run(text)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None


def to_docx(body_html: str, release: Release, config: Config) -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    _language(normal, "de-DE" if config.organisation.locale == "de" else "en-GB")
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Quote"):
        document.styles[name].font.name = "Arial"
    properties = document.core_properties
    properties.title = release.headline
    properties.author = config.organisation.name
    properties.language = "de-DE" if config.organisation.locale == "de" else "en-GB"
    writer = _DocxWriter(document)
    writer.feed(body_html)
    writer.close()
    footer = section.footer.paragraphs[0]
    footer.text = f"{config.organisation.name} · {dates.numeric_date(release.date)}"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _language(style, tag: str) -> None:
    """Mark the text language so Word checks German spelling, not English."""
    properties = style.element.get_or_add_rPr()
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), tag)

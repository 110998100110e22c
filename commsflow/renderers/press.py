"""A press release in every form a press office sends, from one template.

``templates/press/release.md`` holds the wording and the structure of both layouts
(classic and the Berlin Senate's). Its Markdown becomes the print HTML (A4), a tagged
PDF made of that (WeasyPrint, PDF/UA-1) and a Word file whose paragraphs carry real
styles: ``#`` → Title, ``##`` → Subtitle, ``###`` → Heading 1, lists → List
Bullet/Number, block quotes → Quote — the styles press offices work with. The text
version is the agencies' wire style (``release.txt``). Press photos
(:mod:`commsflow.renderers.press_photos`) are printed with caption and credit in every
form, and the pack — every form and the photos — goes out as one zip as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import html as html_lib
import importlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache, partial
from html.parser import HTMLParser
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.run import Run
from markupsafe import Markup

from commsflow import frontmatter, markdown
from commsflow.assemblers.press import Release
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.files import write_atomic
from commsflow.i18n import _
from commsflow.links import ics_url, item_url
from commsflow.renderers import ics, press_photos
from commsflow.renderers.templating import environment, macro, render

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
    subject: str = ""  # of the e-mail that sends it: „Sperrfrist: … – Presseeinladung: headline“
    pdf: bytes | None = None  # None where WeasyPrint cannot run (a warning in problems says why)
    photos: list[press_photos.Photo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the text's length, the photos, the PDF
    day: date | None = None  # the dateline's


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
            "speakers": [speaker.model_dump() for speaker in meta.speakers],
        }
    embargo = meta.embargo.astimezone(config.zone) if meta.embargo is not None else None
    words = _Words(env)
    photos, problems = press_photos.load(item, config, partial(_xmp, env), line_of=_line_finder(config, item))
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
            "embargo": embargo,
        },
        "event": event,
        "photos": [photo.context() for photo in photos],
    }
    text_md = render(env, f"{TEMPLATES}/release.md", **context)
    body_html = markdown.to_html(text_md)
    html = render(
        env,
        f"{TEMPLATES}/release.html",
        body=Markup(body_html),
        title=release.headline,
        organisation=config.organisation.model_dump(),
        kind_name=words.art(release.kind),
    )
    text = wire_text(env, context, release)
    problems += length_problems(text, release, config)
    try:
        pdf = to_pdf(html, release, config, photos, words)
    except PdfUnavailable as exc:
        pdf = None
        problems.append(pdf_problem(config, exc))
    calendar = ics.event_ics(item, config, stamp=now, url=item_url(item, config)) if event else None
    return RenderedRelease(
        item.slug,
        text_md,
        html,
        text,
        to_docx(body_html, release, config, words, photos=photos),
        calendar,
        subject=words.betreff(release.kind, release.headline, embargo),
        pdf=pdf,
        photos=photos,
        problems=problems,
        day=release.date,
    )


def _xmp(env, photo: dict) -> str:
    """The XMP packet written into a press photo (``templates/press/photo.xml``)."""
    return render(env, f"{TEMPLATES}/photo.xml", photo=photo)


def _line_finder(config: Config, item):
    """``loc`` → the line of that front matter field of ``item`` (None where it cannot be read)."""

    def line_of(loc: tuple) -> int | None:
        try:
            return frontmatter.line_finder_for_file(config.root / item.path, item.path)(loc)
        except (OSError, frontmatter.SourceError):
            return None

    return line_of


def output_files(rendered: RenderedRelease, config: Config) -> dict[Path, bytes | str]:
    folder = config.path("build") / "press" / rendered.slug
    files: dict[Path, bytes | str] = {folder / name: data for name, data in pack(rendered, rendered.slug).items()}
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
# Kept on the page of the paragraph that follows them.
_HEADINGS = ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Heading 4")
# Theme fonts win over a named font in Word: python-docx's template gives Calibri and Cambria that way.
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme", "w:hint")
# What the footer template gets for the page number and the page count; they become Word fields.
_FIELDS = {"\ue000PAGE\ue000": "PAGE", "\ue000NUMPAGES\ue000": "NUMPAGES"}
_LINKED = ("http://", "https://", "mailto:")


class _Words:
    """The words of ``templates/press/words.md`` that Python asks for (as plain text)."""

    def __init__(self, env):
        self.env = env

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            found = macro(self.env, f"{TEMPLATES}/words.md", name)
        except AttributeError:
            path = Path(self.env.globals["templates_folder"]) / TEMPLATES / "words.md"
            raise CommsflowError(
                _("{path}: the template has no macro {name!r}").format(path=path, name=name),
                _("add it again, or copy the file from commsflow's templates/ folder"),
            ) from None
        return lambda *args: str(found(*args))


class _DocxWriter(HTMLParser):
    """Walks the release's HTML (from cmark) and writes styled Word paragraphs: links as
    Word hyperlinks, a list's items kept together on one page."""

    def __init__(self, document, photos=None):
        super().__init__(convert_charrefs=True)
        self.document = document
        self.photos = photos or {}  # the release's photos by their file name (press_photos.Photo)
        self.paragraph = None
        self.fresh = True  # at the start of a paragraph or line: leading white space goes
        self.lists: list[str] = []
        self.items: list = []  # the paragraphs of the open (outermost) list
        self.quote = 0
        self.bold = self.italic = 0
        self.hyperlink = None  # the <w:hyperlink> the runs go into, inside a link

    def _open(self, style: str):
        self.paragraph = self.document.add_paragraph(style=style)
        self.fresh = True

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self._open("List Number" if self.lists and self.lists[-1] == "ol" else "List Bullet")
            # Each item keeps with the next, the last one with none: no item stands alone at a page top.
            self.paragraph.paragraph_format.keep_with_next = True
            self.items.append(self.paragraph)
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
            target = dict(attrs).get("href") or ""
            if target.startswith(_LINKED):
                self._link(target)
        elif tag == "img":
            self._picture(dict(attrs))
        elif tag == "br" and self.paragraph is not None:
            self.paragraph.add_run().add_break()
            self.fresh = True

    def handle_endtag(self, tag):
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if not self.lists and self.items:
                self.items[-1].paragraph_format.keep_with_next = None
                self.items = []
        elif tag == "blockquote":
            self.quote -= 1
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "a":
            self.hyperlink = None
        elif tag in _BLOCK_STYLES and not self.lists:
            self.paragraph = None
        elif tag == "li":
            self.paragraph = None

    def handle_data(self, data):
        if self.paragraph is None:
            if not data.strip():
                return
            self._open("Normal")
        self._run(data)

    def _picture(self, attrs: dict) -> None:
        """A press photo as a picture in its own paragraph, kept with its caption, its alt
        text as the picture's description; other images (not in the pack) are left out."""
        photo = self.photos.get(attrs.get("src") or "")
        if photo is None:
            return
        if self.paragraph is None:
            self._open("Normal")
        self.paragraph.paragraph_format.keep_with_next = True
        size = {"height": Cm(9)} if photo.portrait else {"width": Cm(12)}
        shape = self.paragraph.add_run().add_picture(io.BytesIO(photo.preview), **size)
        shape._inline.docPr.set("descr", photo.alt)
        self.fresh = True

    def _link(self, target: str) -> None:
        if self.paragraph is None:
            self._open("Normal")
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), self.document.part.relate_to(target, RT.HYPERLINK, is_external=True))
        link.set(qn("w:history"), "1")
        self.paragraph._p.append(link)
        self.hyperlink = link

    def _run(self, text: str):
        text = re.sub(r"\s+", " ", text)
        if self.fresh:
            text = text.lstrip()
        if not text:
            return
        self.fresh = False
        if self.hyperlink is not None:
            element = OxmlElement("w:r")
            self.hyperlink.append(element)
            run = Run(element, self.paragraph)
            run.style = "Hyperlink"
            run.text = text
        else:
            run = self.paragraph.add_run(text)
        if self.bold:
            run.bold = True
        if self.italic:
            run.italic = True


def to_docx(body_html: str, release: Release, config: Config, words: _Words, *, photos=()) -> bytes:
    """The release as a Word file: A4, one font family (``[press] font``) in every style,
    „Seite X von Y“ in the footer, real hyperlinks, and the release's date, title, author
    and language in the file's properties."""
    document = Document()
    language = "de-DE" if config.organisation.locale == "de" else "en-GB"
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    _styles(document, config.press.font, language)
    writer = _DocxWriter(document, {photo.name: photo for photo in photos})
    writer.feed(body_html)
    writer.close()
    _footer(section, words.fusszeile(release.kind, config.organisation.name, release.date, *_FIELDS))
    day = datetime.combine(release.date, time(), tzinfo=config.zone).astimezone(UTC).replace(tzinfo=None)
    properties = document.core_properties
    properties.title = release.headline
    properties.subject = words.art(release.kind)
    properties.author = properties.last_modified_by = config.organisation.name
    properties.comments = ""  # python-docx's template says "generated by python-docx"
    properties.created = properties.modified = day
    properties.revision = 1
    properties.language = language
    _leave_out_template_parts(document)
    out = io.BytesIO()
    document.save(out)
    return _dated(out.getvalue(), release.date)


def _styles(document, font: str, language: str) -> None:
    """Every style in ``font`` (python-docx's template sets the theme's Calibri and Cambria,
    which win over a named font), the text language ``language``, headings kept with what
    follows, widow and orphan control, and a Hyperlink character style for the links."""
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = font
    normal.font.size = Pt(11)
    normal.paragraph_format.widow_control = True
    for name in _HEADINGS:
        styles[name].paragraph_format.keep_with_next = True
    styles["Footer"].font.size = Pt(9)
    link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)  # Word's own, as Word writes it
    link.element.attrib.pop(qn("w:customStyle"), None)
    link.priority, link.unhide_when_used = 99, True
    link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
    link.font.underline = True
    defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for fonts in [*styles.element.iter(qn("w:rFonts")), *_numbering_fonts(document, defaults)]:
        for name in _THEME_FONTS:
            fonts.attrib.pop(qn(name), None)
        for name in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(name), font)
    for element in [*styles.element.iter(qn("w:lang")), document.settings.element.find(qn("w:themeFontLang"))]:
        if element is not None:
            element.set(qn("w:val"), language)


def _numbering_fonts(document, defaults) -> list:
    """The fonts of the bullets, whose „•“ is then a character of the text's font (the
    template's is a Symbol-font character); the defaults get one if they have none."""
    found = []
    for level in document.part.numbering_part.element.iter(qn("w:lvl")):
        kind = level.find(qn("w:numFmt"))
        if kind is None or kind.get(qn("w:val")) != "bullet":
            continue
        level.find(qn("w:lvlText")).set(qn("w:val"), "•")
        properties = level.find(qn("w:rPr"))
        if properties is None:
            properties = OxmlElement("w:rPr")
            level.append(properties)
        fonts = properties.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            properties.insert(0, fonts)
        found.append(fonts)
    if defaults.find(qn("w:rFonts")) is None:
        fonts = OxmlElement("w:rFonts")
        defaults.insert(0, fonts)
        found.append(fonts)
    return found


def _footer(section, text: str) -> None:
    """The footer line, its page placeholders as PAGE and NUMPAGES fields (Word fills them in)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in re.split("(" + "|".join(_FIELDS) + ")", text):
        if part in _FIELDS:
            _field(paragraph, _FIELDS[part])
        elif part:
            paragraph.add_run(part)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): its code, and „1“ until Word or LibreOffice works it out."""
    parts = (("fldChar", "begin"), ("instrText", f" {instruction} "), ("fldChar", "separate"), ("t", "1"))
    for tag, value in (*parts, ("fldChar", "end")):
        element = OxmlElement(f"w:{tag}")
        if tag == "fldChar":
            element.set(qn("w:fldCharType"), value)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = value
        paragraph.add_run()._r.append(element)


def _leave_out_template_parts(document) -> None:
    """Parts of python-docx's template that would misinform: the Word 2010 copy of the styles
    (still in Calibri) and the thumbnail of an empty page."""
    for rel_id, rel in list(document.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            document.part.drop_rel(rel_id)
    package_rels = document.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package_rels[rel_id]


def _dated(data: bytes, day: date) -> bytes:
    """The Word file with every member dated ``day``: the same release gives the same bytes."""
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(zipfile.ZipInfo(member.filename, stamp), source.read(member), zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --- the text version ------------------------------------------------------------------------


_UNDERLINE = re.compile(r"\n[=-]+(?=\n)")


def wire_text(env, context: dict, release: Release) -> str:
    """The text version in the agencies' wire style (``templates/press/release.txt``)."""

    def plain(text: str) -> str:
        # Headings as lines of their own, not underlined: the agencies set them.
        return _UNDERLINE.sub("", markdown.to_text(text)).strip()

    wording = {"lead": plain(release.lead), "body": plain(demote_headings(release.body_markdown))}
    return render(env, f"{TEMPLATES}/release.txt", **context, text=wording)


def length_problems(text: str, release: Release, config: Config) -> list[Problem]:
    """The text version against ``[press] max_characters``."""
    limit = config.press.max_characters
    if len(text) <= limit:
        return []
    return [
        Problem(
            release.item.path,
            _("the text version has {count} characters, more than the {limit} of [press] max_characters").format(
                count=len(text), limit=limit
            ),
            field="press",
            hint=_("shorten the text, or raise [press] max_characters in commsflow.toml if the agencies take more"),
            severity=Severity.WARNING,
        )
    ]


# --- PDF ---------------------------------------------------------------------------------------

_PDF_BASE = "https://release.invalid/"  # where the print HTML's photos are looked up (never fetched)


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here: what is missing, and what to install."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


@cache
def _weasyprint():
    """The WeasyPrint module, or the reason it cannot be used on this machine. Loading it
    without Pango prints WeasyPrint's own advice: that goes, ours is shorter."""
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            return importlib.import_module("weasyprint")
    except ImportError:
        return PdfUnavailable(
            _("no PDF of the releases: WeasyPrint is not installed"),
            _(
                "install commsflow's dependencies again (pip install -e .); WeasyPrint also needs Pango "
                "(Debian and Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango)"
            ),
        )
    except OSError as exc:
        return PdfUnavailable(
            _("no PDF of the releases: WeasyPrint cannot load Pango ({reason})").format(
                reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            ),
            _(
                "install Pango (Debian and Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0; macOS: brew "
                "install pango), see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html"
            ),
        )


def pdf_problem(config: Config, exc: PdfUnavailable) -> Problem:
    """One warning for every release of a build: named by the press folder, not by an item."""
    folder = config.path("build") / "press"
    shown = folder.relative_to(config.root).as_posix() if folder.is_relative_to(config.root) else str(folder)
    return Problem(shown, exc.message, hint=exc.hint, severity=Severity.WARNING)


def to_pdf(html: str, release: Release, config: Config, photos, words: _Words) -> bytes:
    """The print HTML as a tagged PDF (PDF/UA-1: title, language, headings, alt texts,
    reading order; a footer „Seite X von Y“ as in the Word file). The photos come from
    ``photos``; nothing else is fetched. Raises :class:`PdfUnavailable`.

    A PDF is kept in the state folder by what it is made of (WeasyPrint takes a third of a
    second a release, and every ``check`` renders the signed-off jobs)."""
    weasyprint = _weasyprint()
    if isinstance(weasyprint, PdfUnavailable):
        raise weasyprint
    footer = Markup(_footer_css(release, config, words))
    css = render(environment(config), f"{TEMPLATES}/release.pdf.css", footer=footer)
    made_of = hashlib.sha256(f"{weasyprint.__version__}\0{release.item.slug}\0{release.date}\0".encode())
    for part in (html, css, config.organisation.name, config.organisation.locale):
        made_of.update(part.encode("utf-8") + b"\0")
    for photo in photos:
        made_of.update(photo.name.encode("utf-8") + b"\0" + hashlib.sha256(photo.preview).digest())
    kept = config.path("state") / "pdf" / f"{made_of.hexdigest()}.pdf"
    try:
        return kept.read_bytes()
    except OSError:
        pass
    data = _pdf(weasyprint, html, css, release, config, photos)
    try:
        write_atomic(kept, data)
    except Exception:  # noqa: BLE001 - a read-only state folder: made again next time
        pass
    return data


def _footer_css(release: Release, config: Config, words: _Words) -> str:
    """The page footer as CSS content: the Word file's footer line (words.md, fusszeile), its
    page number and page count as counters."""
    page, pages = _FIELDS
    footer = words.fusszeile(release.kind, config.organisation.name, release.date, page, pages)
    return " ".join(
        {page: "counter(page)", pages: "counter(pages)"}.get(part) or _css_string(part)
        for part in re.split(f"({page}|{pages})", footer)
        if part
    )


def _pdf(weasyprint, html: str, css: str, release: Release, config: Config, photos) -> bytes:
    images = {_PDF_BASE + photo.name: photo.preview for photo in photos}

    class Fetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url in images:
                return weasyprint.urls.URLFetcherResponse(url, images[url], {"Content-Type": "image/jpeg"})
            raise ValueError(url)  # WeasyPrint leaves the image out and shows its alt text

    day = release.date.isoformat()
    try:
        stylesheet = weasyprint.CSS(string=css)
        page = _headings_in_sequence(html)
        document = weasyprint.HTML(string=page, base_url=_PDF_BASE, url_fetcher=Fetcher()).render(
            stylesheets=[stylesheet]
        )
        metadata = document.metadata
        metadata.authors = [config.organisation.name]
        metadata.lang = "de-DE" if config.organisation.locale == "de" else "en-GB"
        metadata.created = metadata.modified = day
        metadata.generator = "commsflow"
        return document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=release.item.slug.encode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - WeasyPrint's failure, however it says it, is a warning
        raise PdfUnavailable(
            _("no PDF of {slug!r}: WeasyPrint failed ({reason})").format(
                slug=release.item.slug, reason=f"{type(exc).__name__}: {exc}"
            ),
            _("the other forms are written; if it happens again, report this message"),
        ) from None


_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")


def _headings_in_sequence(html: str) -> str:
    """Heading levels without gaps, as PDF/UA asks (a release without subline goes from its
    headline, h1, to its sections, h3): each level moves up to the next free one and keeps
    its look through the class ``h<level>`` (release.pdf.css)."""
    used = sorted({int(match[2]) for match in _HEADING_TAG.finditer(html)})
    moved = {level: number for number, level in enumerate(used, 1) if number != level}
    if not moved:
        return html

    def renumbered(match: re.Match) -> str:
        level = int(match[2])
        if level not in moved:
            return match[0]
        if match[1]:
            return f"</h{moved[level]}"
        return f'<h{moved[level]} class="h{level}"'

    return _HEADING_TAG.sub(renumbered, html)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ") + '"'


# --- what the lint reads ----------------------------------------------------------------------

_BODY = re.compile(r"<title>(.*?)</title>.*?<body[^>]*>(.*)</body>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|blockquote|td|th|header|figcaption)>|<br\s*/?>")


def format_texts(rendered: RenderedRelease) -> dict[str, str]:
    """The readable text of every form, by file name, for the lint's checks. The PDF's is its
    print HTML's (the PDF is made from it; its footer is the Word file's)."""
    texts = {
        "release.md": rendered.markdown,
        "release.html": _html_text(rendered.html),
        "release.txt": rendered.text,
        "release.docx": _docx_text(rendered.docx),
    }
    if rendered.pdf is not None:
        texts["release.pdf"] = texts["release.html"]
    return texts


def _html_text(page: str) -> str:
    found = _BODY.search(page)
    title, body = (found[1], found[2]) if found else ("", page)
    text = _TAG.sub("", _BLOCK_END.sub("\n\n", title + "\n\n" + body))
    return html_lib.unescape(text)


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    for section in document.sections:
        paragraphs += [paragraph.text for paragraph in section.footer.paragraphs]
    return "\n\n".join(paragraphs)


# --- the pack ----------------------------------------------------------------------------------


def pack(rendered: RenderedRelease, folder: str) -> dict[str, bytes]:
    """The release's files by their names in its folder ``folder``: every form, the photos,
    and all of them in one zip for the press list, ``<folder>.zip``."""
    files = pack_files(rendered)
    files[f"{folder}.zip"] = pack_zip(files, folder, rendered.day or date(1980, 1, 1))
    return files


def pack_files(rendered: RenderedRelease) -> dict[str, bytes]:
    """Every form of the release and its photos, by their names in the release's folder."""
    files: dict[str, bytes] = {
        "release.md": rendered.markdown.encode("utf-8"),
        "release.html": rendered.html.encode("utf-8"),
        "release.txt": rendered.text.encode("utf-8"),
        "release.docx": rendered.docx,
    }
    if rendered.pdf is not None:
        files["release.pdf"] = rendered.pdf
    for photo in rendered.photos:
        files[photo.name] = photo.data
    return files


def pack_zip(files: dict[str, bytes], folder: str, day: date) -> bytes:
    """The pack for the press list: ``files`` in a folder ``folder`` of one zip, every
    member dated ``day`` (the same pack gives the same bytes)."""
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in files.items():
            member = zipfile.ZipInfo(f"{folder}/{name}", stamp)
            member.external_attr = 0o644 << 16
            # Photos are compressed already: stored as they are.
            kind = zipfile.ZIP_STORED if name.endswith((".jpg", ".png", ".gif", ".webp")) else zipfile.ZIP_DEFLATED
            target.writestr(member, data, kind)
    return out.getvalue()

"""Markdown bodies to safe HTML (cmarkgfm) and to plain text.

cmark-gfm in its default *safe* mode replaces raw HTML with a comment and drops
``javascript:``, ``vbscript:``, ``file:`` and most ``data:`` link targets, so content
cannot inject markup into an e-mail or a page. We never pass ``CMARK_OPT_UNSAFE``.
"""

from __future__ import annotations

import ctypes
import re
from html.parser import HTMLParser

from cmarkgfm import cmark

from commsflow.i18n import _

# Smart punctuation is off on purpose: it would turn German „…“ typing into English quotes.
_OPTIONS = cmark.Options.CMARK_OPT_VALIDATE_UTF8 | cmark.Options.CMARK_OPT_GITHUB_PRE_LANG
_OMITTED = "<!-- raw HTML omitted -->"

# cmarkgfm's own helpers never free the document tree nor the rendered string
# (theacodes/cmarkgfm#53): about 50 KB per call, 1 GB for 20,000 documents. We drive the
# same C library through its cffi handle and free both; those two functions are not in
# the cffi declarations, so they are reached through ctypes on the same shared object.
_lib, _ffi = cmark._cmark.lib, cmark._cmark.ffi
_so = ctypes.CDLL(cmark._cmark.__file__)
_so.cmark_node_free.argtypes = [ctypes.c_void_p]
_so.cmark_node_free.restype = None
_libc_free = ctypes.CDLL(None).free
_libc_free.argtypes = [ctypes.c_void_p]
_libc_free.restype = None
cmark.core_extensions_ensure_registered()
_EXTENSIONS = [
    cmark.find_syntax_extension(name) for name in ("table", "autolink", "tagfilter", "strikethrough", "tasklist")
]


def _address(pointer) -> int:
    return int(_ffi.cast("uintptr_t", pointer))


def to_html(markdown: str) -> str:
    """GitHub-flavoured Markdown (tables, autolinks, strikethrough) to safe HTML."""
    if not markdown.strip():
        return ""
    # The placeholder comment is noise in e-mails and pages; the raw HTML is gone either way.
    return _render(markdown).replace(_OMITTED, "")


_RAW_TAG = re.compile(r"<!--|<[/!?]?[A-Za-z][A-Za-z0-9-]*(?=[\s/>])[^>]*>?")
_UNSAFE_SCHEME = re.compile(r"(?i)(?<![\w+.-])(javascript|vbscript|livescript|file|data):")


def to_html_checked(markdown: str) -> tuple[str, tuple[str, int] | None]:
    """:func:`to_html` and :func:`unsafe_markup_at` from one rendering (a body is long)."""
    if not markdown.strip():
        return "", None
    html = _render(markdown)
    found = _unsafe(markdown, html)
    return html.replace(_OMITTED, ""), (_located(markdown, found) if found else None)


def unsafe_markup_at(markdown: str) -> tuple[str, int] | None:
    """:func:`unsafe_markup` and the 0-based line of ``markdown`` it is on."""
    found = _unsafe_in(markdown)
    return _located(markdown, found) if found else None


def _located(markdown: str, found: tuple[bool, str]) -> tuple[str, int]:
    raw_html, said = found
    match = _RAW_TAG.search(markdown) if raw_html else _UNSAFE_SCHEME.search(markdown)
    return said, markdown.count("\n", 0, match.start()) if match else 0


def unsafe_markup(markdown: str) -> str | None:
    """What in ``markdown`` the safe rendering drops — raw HTML, a link to a javascript:,
    data: or file: address — said for a person; None if nothing. Outputs that keep the
    Markdown as written (a release's .md) would keep it, so content must not have it."""
    found = _unsafe_in(markdown)
    return found[1] if found else None


def _unsafe_in(markdown: str) -> tuple[bool, str] | None:
    if "<" not in markdown and not _UNSAFE_SCHEME.search(markdown):
        return None
    return _unsafe(markdown, _render(markdown))


def _unsafe(markdown: str, html: str) -> tuple[bool, str] | None:
    """(whether it is raw HTML, not a link; what it is, said for a person), or None."""
    if _OMITTED in html:
        tag = _RAW_TAG.search(markdown)
        return True, _("raw HTML ({tag})").format(tag=tag[0][:40] if tag else _("a tag"))
    scheme = _UNSAFE_SCHEME.search(markdown) if 'href=""' in html or 'src=""' in html else None
    if scheme:
        return False, _("a link to a {scheme}: address").format(scheme=scheme[1].lower())
    return None


def _render(markdown: str) -> str:
    """cmark-gfm's safe HTML, with its placeholder where raw HTML was."""
    data = markdown.encode("utf-8")
    parser = _lib.cmark_parser_new(_OPTIONS)
    try:
        for extension in _EXTENSIONS:
            _lib.cmark_parser_attach_syntax_extension(parser, extension)
        _lib.cmark_parser_feed(parser, data, len(data))
        root = _lib.cmark_parser_finish(parser)
        try:
            rendered = _lib.cmark_render_html(root, _OPTIONS, _lib.cmark_parser_get_syntax_extensions(parser))
            try:
                html = _ffi.string(rendered).decode("utf-8")
            finally:
                _libc_free(_address(rendered))
        finally:
            _so.cmark_node_free(_address(root))
    finally:
        _lib.cmark_parser_free(parser)
    return html


_BLOCKS = {"p", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _TextWriter(HTMLParser):
    """Walks the (trusted, cmark-made) HTML and writes readable plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list] = []  # stack of [kind, counter]
        self.links: list[str | None] = []
        self.heading: int | None = None
        self.quotes: list[int] = []
        self.cell = 0
        self.pre = False
        self.after_bullet = False  # a loose list item's <p> follows its bullet directly

    def _newline(self, count: int = 2) -> None:
        text = "".join(self.out).rstrip(" ")
        trailing = len(text) - len(text.rstrip("\n"))
        if text and trailing < count:
            self.out.append("\n" * (count - trailing))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "p" and self.after_bullet:
            self.after_bullet = False
            return
        self.after_bullet = False
        if tag in _BLOCKS and not (tag in ("ul", "ol") and self.lists):
            self._newline()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = len("".join(self.out))
        elif tag in ("ul", "ol"):
            start = attrs.get("start")
            self.lists.append([tag, int(start) - 1 if start and start.isdigit() else 0])
        elif tag == "li":
            self._newline(1)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            indent = "  " * (len(self.lists) - 1)
            self.out.append(f"{indent}{kind[1]}. " if kind[0] == "ol" else f"{indent}– ")
            self.after_bullet = True
        elif tag == "pre":
            self.pre = True
        elif tag == "a":
            self.links.append(attrs.get("href"))
        elif tag == "br":
            self.out.append("\n")
        elif tag == "blockquote":
            self.quotes.append(len(self.out))
        elif tag == "tr":
            self._newline(1)
            self.cell = 0
        elif tag in ("td", "th"):
            if self.cell:
                self.out.append(" | ")
            self.cell += 1
        elif tag == "img":
            alt = attrs.get("alt")
            if alt:
                self.out.append(f"[{alt}]")
        elif tag == "hr":
            self.out.append("―" * 20)

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self.heading is not None:
            title = "".join(self.out)[self.heading :].strip()
            underline = "=" if tag in ("h1", "h2") else "-"
            self.out.append("\n" + underline * len(title))
            self.heading = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "pre":
            self.pre = False
            while self.out and self.out[-1].endswith("\n"):
                self.out[-1] = self.out[-1].rstrip("\n")
                if not self.out[-1]:
                    self.out.pop()
        elif tag == "blockquote" and self.quotes:
            start = self.quotes.pop()
            quoted = "".join(self.out[start:]).strip("\n")
            del self.out[start:]
            self.out.append("\n".join("> " + line if line else ">" for line in quoted.split("\n")))
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                shown = href.removeprefix("mailto:")
                if shown not in "".join(self.out[-3:]):
                    self.out.append(f" ({shown})")
        if tag == "p" and self.lists:
            self._newline(1)  # paragraphs of a loose list stay one item per line
        elif tag in _BLOCKS and not (tag in ("ul", "ol") and self.lists):
            self._newline()

    def handle_data(self, data):
        if self.pre:
            self.out.append(data)
            return
        if not data.strip() and ("\n" in data or not self.out):
            return  # whitespace between block tags
        self.after_bullet = False
        if "\n" in data:
            data = re.sub(r"\s*\n\s*", " ", data)
        if self.out and self.out[-1].endswith("\n"):
            data = data.lstrip()  # the line break (<br>) already separates the lines
        self.out.append(data)


def html_to_text(html: str) -> str:
    """Plain text for e-mail and distribution lists: lists, headings and link targets kept."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    text = "".join(writer.out)  # entities are already decoded by the parser
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + ("\n" if text.strip() else "")


def to_text(markdown: str) -> str:
    return html_to_text(to_html(markdown))


_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>|~&])")
_BLOCK_START = re.compile(r"^(\s*)([#+-]|\d+\.)(?=\s)", re.MULTILINE)


def escape(text: str) -> str:
    """Plain text made safe to place in Markdown: no accidental emphasis, links, HTML,
    headings or lists."""
    text = _INLINE_SYNTAX.sub(r"\\\1", str(text))
    return _BLOCK_START.sub(lambda m: m[1] + (m[2][:-1] + "\\." if m[2].endswith(".") else "\\" + m[2]), text)

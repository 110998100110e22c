"""HTML from other people's websites made safe (nh3), and made into plain text.

Feed entries carry HTML written by partner sites' editors and CMSs: we keep a short
allowlist of text markup and links (http, https, mailto only) and drop everything
else — scripts and styles with their content, event handlers, iframes, objects,
forms, and all images (so no tracking pixels either). Plain text is made from the
cleaned HTML, never from the raw one, and teasers are cut at sentence ends.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {"p", "br", "a", "ul", "ol", "li", "strong", "em", "b", "i", "blockquote", "h2", "h3", "h4"}
ATTRIBUTES = {"a": {"href", "title"}}
SCHEMES = {"http", "https", "mailto"}
# Removed together with everything inside them (an iframe's "content" is fallback markup).
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "svg",
    "math",
    "select",
    "textarea",
    "title",
    "frameset",
    "noembed",
    "noframes",
}

# WordPress appends "The post X appeared first on Y." to excerpts and content.
_WORDPRESS_FOOTER = re.compile(
    r"<p>\s*(?:Der Beitrag|The post)\b.{0,600}?\b(?:erschien zuerst auf|appeared first on)\b.{0,300}?</p>",
    re.IGNORECASE | re.DOTALL,
)
_BLOCK_END = re.compile(
    r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|div|tr|td|th|ul|ol|section|article|pre|dd|dt)>", re.IGNORECASE
)
# What is left of markup after unescaping text a CMS escaped twice ("&amp;lt;b&amp;gt;").
_TAG_LIKE = re.compile(r"<\s*/?\s*[a-zA-Z!?][^<>]*>")
_MORE = re.compile(
    r"\s*(?:\[(?:…|\.\.\.)\]|\((?:…|\.\.\.)\)|(?:Weiterlesen|Read more)\s*[»→…]?|mehr\s*[»→])\s*$", re.IGNORECASE
)
_SPACE = re.compile(r"\s+")
_BLOCK_START = re.compile(r"<(?:p|ul|ol|blockquote|h2|h3|h4)>")
# A sentence ends at . ! ? followed by space and an upper-case letter, digit or opening quote …
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'“”»)]?\s+(?=[A-ZÄÖÜ0-9„\"'«(])")
# … unless the word before the full stop is an abbreviation, an ordinal or an initial.
_NOT_AN_END = re.compile(
    r"(?:\b(?:Dr|Prof|Dipl|Ing|bzw|ca|vgl|ggf|inkl|zzgl|Nr|St|Str|Mio|Mrd|Abs|Art|Hr|Fr|usw|etc|u\.a|z\.B|d\.h|"
    r"e\.V|Jan|Feb|Mär|Apr|Jun|Jul|Aug|Sep|Sept|Okt|Nov|Dez)|\b\d{1,2}|\b[A-ZÄÖÜ])\.$"
)


def _absolute_links_only(tag: str, attribute: str, value: str) -> str | None:
    # nh3 already refuses other schemes; a relative link left over after feedparser
    # resolved the feed's base address leads nowhere in an e-mail or on our site.
    if attribute == "href" and not value.strip().lower().startswith(("http://", "https://", "mailto:")):
        return None
    return value


def clean_html(raw: str) -> str:
    """``raw`` HTML reduced to the allowlist, on one line (whitespace is not significant
    in the tags we keep)."""
    if not raw or not raw.strip():
        return ""
    raw = _WORDPRESS_FOOTER.sub("", raw)
    cleaned = nh3.clean(
        raw,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_absolute_links_only,
        url_schemes=SCHEMES,
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
    cleaned = _SPACE.sub(" ", cleaned).strip()
    # A link whose address was refused is text now.
    cleaned = re.sub(r'<a rel="noopener noreferrer">(.*?)</a>', r"\1", cleaned)
    if cleaned and not _BLOCK_START.match(cleaned):
        # Text without paragraphs (an excerpt, plain text): one paragraph; html5ever
        # closes it again before any block that follows.
        cleaned = nh3.clean(
            f"<p>{cleaned}</p>", tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel="noopener noreferrer"
        )
    # Paragraphs that held only an image or an iframe are empty now.
    return re.sub(r"<p>\s*(?:<br>\s*)*</p>", "", cleaned).strip()


def plain_text(raw: str) -> str:
    """Readable text of an HTML fragment (or of text that may hold markup): tags and
    their dangerous content removed, entities decoded, whitespace collapsed."""
    if not raw:
        return ""
    text = clean_html(_BLOCK_END.sub(lambda m: m[0] + " ", raw))
    text = nh3.clean(text, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT)
    text = html.unescape(text)
    previous = None
    while previous != text:  # markup that was escaped (twice) and is now visible as text
        previous, text = text, _TAG_LIKE.sub("", text)
    text = text.replace("\u00a0", " ").replace("\u00ad", "")
    return _SPACE.sub(" ", text).strip()


def _sentences(text: str) -> list[str]:
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].rstrip()
        if _NOT_AN_END.search(candidate.rstrip("\"'“”»)")):
            continue
        parts.append(text[start : match.end()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def teaser(text: str, *, sentences: int = 2, limit: int = 300) -> str:
    """One or two sentences of ``text`` within ``limit`` characters; a single sentence
    that is longer is cut at a word boundary and ends with "…"."""
    text = _MORE.sub("", text).strip()
    if not text:
        return ""
    chosen: list[str] = []
    for sentence in _sentences(text)[:sentences]:
        if len(" ".join([*chosen, sentence])) > limit:
            break
        chosen.append(sentence)
    if chosen:
        return " ".join(chosen)
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–-") + "…"


def shorten_html(cleaned: str, limit: int) -> str:
    """Cleaned HTML cut after the last whole paragraph (or list) within ``limit``
    characters; nh3 closes whatever the cut left open."""
    if len(cleaned) <= limit:
        return cleaned
    ends = [m.end() for m in re.finditer(r"</(?:p|ul|ol|blockquote|h2|h3|h4)>", cleaned) if m.end() <= limit]
    cut = cleaned[: ends[-1]] if ends else cleaned[:limit].rsplit(" ", 1)[0] + " …"
    return clean_html(cut)

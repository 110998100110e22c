"""Short posts for the text channels that are not LinkedIn (Mastodon, Bluesky): the draft's
text fitted to the channel's length, counted as the channel counts it, cut after a whole word
with „…“, the link and the closing hashtags kept."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_MAX_CHARACTERS = 500  # Mastodon's, where the instance does not say
DEFAULT_URL_LENGTH = 23  # Mastodon counts every address as this many characters


_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\")]}…“”‘’»«"
_HASHTAG = re.compile(r"#\w*[^\W\d_]\w*")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
# A LinkedIn mention, @[Name](urn:li:organization:123): on Mastodon just the name.
_LINKEDIN_MENTION = re.compile(r"@\[([^\[\]\n]*)\]\(urn:li:(?:organization|person):[0-9A-Za-z_-]+\)")
_ELLIPSIS = " …"
# Left at the end of a shortened text, these would dangle before the „…“.
_DANGLING = " \t\n,;:–—-(/„‚»«\"'"


def _urls(text: str) -> list[tuple[int, int]]:
    """Spans of the addresses Mastodon links (and counts as ``characters_reserved_per_url``)."""
    spans = []
    for match in _URL.finditer(text):
        url = match[0].rstrip(_URL_TRAILING)
        if "." in (urlsplit(url).hostname or ""):
            spans.append((match.start(), match.start() + len(url)))
    return spans


def status_length(text: str, url_length: int = DEFAULT_URL_LENGTH) -> int:
    """Characters as Mastodon counts them: every address as ``url_length``.

    Mastodon counts grapheme clusters and ``@name@host`` as ``@name``; counting code points
    and whole mentions can only come out higher, so a text that fits here fits there.
    """
    return len(text) + sum(url_length - (end - start) for start, end in _urls(text))


def _split_hashtags(text: str) -> tuple[str, list[str]]:
    """The text without its closing paragraph of hashtags, and those hashtags."""
    paragraphs = _PARAGRAPH.split(text)
    words = paragraphs[-1].split()
    if words and all(_HASHTAG.fullmatch(word) for word in words):
        return "\n\n".join(paragraphs[:-1]).strip(), words
    return text, []


def _cut(words: list[str], count: int) -> str:
    """The first ``count`` words (with the whitespace between them) and „…“ — and the
    closing quotation mark or bracket, where the cut is inside a quotation or brackets."""
    text = "".join(words[: 2 * count - 1]).rstrip(_DANGLING)
    if not text:
        return ""
    closing = "“" * max(0, text.count("„") - text.count("“")) + ")" * max(0, text.count("(") - text.count(")"))
    return text + _ELLIPSIS + closing


def _plain(text: str) -> str:
    """LinkedIn mentions as names, no trailing spaces, at most one blank line in a row."""
    text = _LINKEDIN_MENTION.sub(r"\1", text.replace("\r\n", "\n"))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def status_text(
    text: str,
    link: str | None,
    max_characters: int = DEFAULT_MAX_CHARACTERS,
    url_length: int = DEFAULT_URL_LENGTH,
    *,
    measure=None,
) -> str:
    """The status for ``text`` and ``link`` within ``max_characters`` as Mastodon counts them
    (or as ``measure(text)`` counts them: Bluesky's graphemes).

    The text comes first, then the link (unless the text already has it), then the
    text's closing hashtags. Where it is too long, the text is cut after a whole word and
    ends in „…“; the hashtags stay while the text can keep at least half the room (or all
    of itself), else they go from the last one on. The link always stays.
    """
    length = measure or (lambda candidate: status_length(candidate, url_length))
    body, tags = _split_hashtags(_plain(text))

    def compose(body: str, tags: list[str]) -> str:
        parts = [body] if body else []
        if link and not any(body[start:end] == link for start, end in _urls(body)):
            parts.append(link)
        if tags:
            parts.append(" ".join(tags))
        return "\n\n".join(parts)

    def fits(candidate: str) -> bool:
        return length(candidate) <= max_characters

    if fits(compose(body, tags)):
        return compose(body, tags)
    words = re.split(r"(\s+)", body)  # words at even places, whitespace at odd ones
    total = (len(words) + 1) // 2
    keep = min(length(body), (max_characters - length(compose("", []))) // 2)
    for count in range(len(tags), -1, -1):
        kept = tags[:count]
        if fits(compose(body, kept)):
            return compose(body, kept)
        # The most words that fit: the length grows with the number of words, so bisect.
        low, high = 0, total - 1
        while low < high:
            middle = (low + high + 1) // 2
            if fits(compose(_cut(words, middle), kept)):
                low = middle
            else:
                high = middle - 1
        short = _cut(words, low)
        if not fits(compose(short, kept)):
            continue  # not even the link and these hashtags fit
        if count == 0 or length(short) >= keep:
            return compose(short, kept)
    return link or ""


# --- Bluesky ----------------------------------------------------------------------------------

BLUESKY_GRAPHEMES = 300  # app.bsky.feed.post: text maxGraphemes
BLUESKY_BYTES = 3000  # … and maxLength, in UTF-8 bytes
SHOWN_LINK = 30  # an address is shown shortened to this many characters, as Bluesky's app does
TAG_GRAPHEMES = 64  # a hashtag facet's tag, at most
UPLOAD = "commsflow:upload"  # in a rendered record: the payload's file to upload in its place
_TAG = re.compile(r"(?<![\w#&/])#(\w*[^\W\d_]\w*)")


def graphemes(text: str) -> int:
    """Characters as people (and Bluesky) count them: grapheme clusters — „👩‍👩‍👧“ is one, as is
    „ä“ written as a + combining diaeresis."""
    import regex

    return len(regex.findall(r"\X", text))


def shown_link(url: str) -> str:
    """``mpi-berlin.de/aktuelles/2024-03-0…`` for a long address: host and path (no scheme,
    no ``www.``, no tracking query), at most :data:`SHOWN_LINK` characters; the post's link
    facet carries the whole address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    shown = (host + parts.path).rstrip("/")
    return shown if graphemes(shown) <= SHOWN_LINK else shown[: SHOWN_LINK - 1] + "…"


def _bluesky_length(text: str) -> int:
    """Graphemes; a text over the byte limit counts as too long whatever its graphemes."""
    return graphemes(text) if len(text.encode("utf-8")) <= BLUESKY_BYTES else BLUESKY_BYTES


def _shortened(text: str, link: str | None) -> tuple[str, str | None, list[tuple[str, str]]]:
    """``text`` with its addresses shown short; the shown form of ``link`` when the text does not
    have it already; the links as (shown, address) in the order they will appear."""
    links: list[tuple[str, str]] = []
    pieces, last = [], 0
    for start, end in _urls(text):
        address = text[start:end]
        links.append((shown_link(address), address))
        pieces += [text[last:start], links[-1][0]]
        last = end
    body = "".join(pieces) + text[last:]
    added = link if link and link not in (address for _shown, address in links) else None
    if added:
        links.append((shown_link(added), added))
    return body, links[-1][0] if added else None, links


def bluesky_text(text: str, link: str | None) -> tuple[str, list[tuple[str, str]]]:
    """The post for ``text`` and ``link`` within Bluesky's 300 graphemes and 3,000 bytes, its
    addresses shown shortened; and the links as (shown, address), in the order they appear."""
    body, shown, links = _shortened(text, link)
    return status_text(body, shown, BLUESKY_GRAPHEMES, measure=_bluesky_length), links


def bluesky_thread(text: str, link: str | None) -> tuple[list[str], list[tuple[str, str]]]:
    """``text`` and ``link`` as a thread of posts each within Bluesky's limits — split between
    paragraphs, else between sentences, else between words; the link closes the first post
    (or opens the next), the hashtags the last — and the links as (shown, address). One post
    when it all fits in one."""
    body, shown, links = _shortened(text, link)
    body, tags = _split_hashtags(_plain(body))

    def fits(candidate: str) -> bool:
        return _bluesky_length(candidate) <= BLUESKY_GRAPHEMES

    units: list[tuple[str, str]] = []  # (text, what joins it to the one before: a paragraph break or a space)
    for paragraph in _PARAGRAPH.split(body):
        if fits(paragraph):
            units.append((paragraph, "\n\n"))
            continue
        joint = "\n\n"
        for sentence in re.split(r"(?<=[.!?…:;])\s+", paragraph):
            words = [sentence] if fits(sentence) else sentence.split()  # a sentence longer than a post: by words
            for word in words:
                units.append((word, joint))
                joint = " "
    posts: list[str] = []
    for unit, joint in units:
        if posts and fits(posts[-1] + joint + unit):
            posts[-1] += joint + unit
        else:
            posts.append(unit)
    posts = posts or [""]
    if shown:
        if fits(f"{posts[0]}\n\n{shown}".strip()):
            posts[0] = f"{posts[0]}\n\n{shown}".strip()
        else:
            posts.insert(1, shown)
    for count in range(len(tags), 0, -1):
        closing = " ".join(tags[:count])
        if fits(f"{posts[-1]}\n\n{closing}"):
            posts[-1] = f"{posts[-1]}\n\n{closing}"
            break
    return [post for post in posts if post], links


def bluesky_facets(text: str, links: list[tuple[str, str]]) -> list[dict]:
    """Links and hashtags of ``text`` as app.bsky.richtext facets: byte offsets into its UTF-8."""

    def facet(start: int, end: int, feature: dict) -> dict:
        before = len(text[:start].encode("utf-8"))
        return {
            "index": {"byteStart": before, "byteEnd": before + len(text[start:end].encode("utf-8"))},
            "features": [feature],
        }

    facets, taken, cursor = [], [], 0
    for shown, address in links:
        at = text.find(shown, cursor)
        if at < 0:
            continue  # cut away with the end of a long text
        facets.append(facet(at, at + len(shown), {"$type": "app.bsky.richtext.facet#link", "uri": address}))
        taken.append((at, at + len(shown)))
        cursor = at + len(shown)
    for match in _TAG.finditer(text):
        if any(start <= match.start() < end for start, end in taken) or graphemes(match[1]) > TAG_GRAPHEMES:
            continue
        facets.append(facet(match.start(), match.end(), {"$type": "app.bsky.richtext.facet#tag", "tag": match[1]}))
    return sorted(facets, key=lambda found: found["index"]["byteStart"])


THREAD = "commsflow:thread"  # in a rendered record: the posts that answer it, in order


def bluesky_record(
    text: str,
    link: str | None,
    *,
    language: str,
    title: str | None = None,
    description: str | None = None,
    image: dict | None = None,
    thread: bool = False,
) -> dict:
    """The app.bsky.feed.post record for a draft, all but ``createdAt`` (the publisher's, when it
    sends): the text fitted, its facets, the language, and the item's image with its alt text
    (``image``: ``file``, ``alt``, ``aspectRatio``; the publisher uploads the file and puts the
    blob in its place) — or, without an image, a link card for ``link``. ``thread``: a text too
    long for one post is split into a thread, the posts after the first under :data:`THREAD`
    (the publisher sends them as replies) instead of being cut."""

    def post(fitted: str) -> dict:
        record: dict = {"$type": "app.bsky.feed.post", "text": fitted, "langs": [language]}
        facets = bluesky_facets(fitted, links)
        if facets:
            record["facets"] = facets
        return record

    if thread:
        posts, links = bluesky_thread(text, link)
    else:
        fitted, links = bluesky_text(text, link)
        posts = [fitted]
    record = post(posts[0])
    if len(posts) > 1:
        record[THREAD] = [post(text) for text in posts[1:]]
    if image:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {"alt": image["alt"], "image": {UPLOAD: image["file"]}}
                | ({"aspectRatio": image["aspectRatio"]} if "aspectRatio" in image else {})
            ],
        }
    elif link:
        record["embed"] = {
            "$type": "app.bsky.embed.external",
            "external": {"uri": link, "title": title or "", "description": description or ""},
        }
    return record

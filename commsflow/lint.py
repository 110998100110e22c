"""Editorial and accessibility checks: what a reader of the outputs would stumble over.

Berlin's public bodies publish accessibly (BITV 2.0) and address readers formally.
:func:`lint` reads the loaded library, the campaigns, the calendar and the build
folder and returns every finding as a :class:`~commsflow.errors.Problem` with file,
line and field; it writes nothing and raises nothing a person could act on (a
renderer that cannot run becomes a warning). ``commsflow lint`` prints them;
``commsflow build`` runs them too.

The checks:

1. images without alt text (front matter, bodies, campaign intros) — error; an alt
   text that is only a generic word or the file name — warning;
2. link texts that say nothing out of context („hier“, „mehr“, „weiter“ …) — warning;
3. heading levels that skip (## → ####), or a level-1 heading in a body — warning;
4. ``lang`` missing on an ``<html>`` element in the build folder — error;
5. informal address (du, dein, euch …) in outward texts, quoted speech excepted — warning;
6. a LinkedIn draft whose first 210 characters lack its claim — warning (the renderer's check);
7. a newsletter issue near or over Gmail's clipping size — as the renderer's check returns it;
8. an event promoted after it has started — error; still due to be promoted although it
   has started — warning;
9. a link to the own site at an item address whose item does not exist — error;
11. in every form of a press release (Markdown, print HTML and PDF, text version, Word file):
   informal address (5.) that the item's own checks do not report, a weekday that is not the
   date's, a date that does not exist, a date written as 2024-03-28 — warning (the press
   channel's renditions bring them, :func:`release_problems`).
12. a feature of a built newsletter e-mail that Outlook (Windows), Gmail or Apple Mail do not
   support by caniemail's data, unless the team accepted it in
   ``templates/newsletter/client-support.yaml`` — warning (:mod:`commsflow.email_findings`).

Findings are located lazily: a file is read again for line numbers only when there is
something to point at, so a clean library costs one pass over the rendered bodies.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from commsflow import dates, email_findings, frontmatter, markdown
from commsflow.assemblers import linkedin as linkedin_plan
from commsflow.assemblers.newsletter import SIGNED_OFF
from commsflow.campaigns import Campaign
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem, Severity, closest
from commsflow.i18n import N_, _
from commsflow.library import Library
from commsflow.links import is_own, item_url, normalised
from commsflow.model import Item
from commsflow.renderers import linkedin as linkedin_renderer
from commsflow.validation import field_path

WARNING = Severity.WARNING

# Calendar templates that invite to or announce an event: pointless once it has started.
PROMOTING = ("save-the-date", "reminder", "invitation")

# Link texts that say nothing once read out of context (screen readers list links on
# their own). Compared with the whole link text, case-insensitively, punctuation and
# arrows at either end ignored.
VAGUE_LINK_TEXTS = frozenset(
    {
        "hier",
        "hier klicken",
        "klicken sie hier",
        "hier lesen",
        "hier entlang",
        "klick hier",
        "klicken",
        "mehr",
        "mehr erfahren",
        "mehr lesen",
        "mehr dazu",
        "mehr info",
        "mehr infos",
        "mehr informationen",
        "weitere informationen",
        "mehr details",
        "details",
        "lesen sie mehr",
        "weiter",
        "weiterlesen",
        "weiter lesen",
        "link",
        "dieser link",
        "diesen link",
        "zum link",
        "dort",
        "zum artikel",
        "zum beitrag",
        "here",
        "click here",
        "more",
        "read more",
        "learn more",
        "this link",
    }
)
_LINK_TRIM = " \t\n.,:;!?…»«›‹→←↗>–—-()[]\"'„“”‚‘’"

# Alt texts that describe nothing.
GENERIC_ALT = frozenset(
    {
        "bild",
        "foto",
        "grafik",
        "abbildung",
        "image",
        "picture",
        "photo",
        "img",
        "logo",
        "bild 1",
        "foto 1",
    }
)

# Informal address. "ihr" is left out: as a possessive ("Ihr Team") and as "her" it is
# far too often formal or no address at all.
INFORMAL = (
    "du",
    "dich",
    "dir",
    "dein",
    "deine",
    "deinen",
    "deinem",
    "deiner",
    "deines",
    "euch",
    "euer",
    "eure",
    "euren",
    "eurem",
    "eurer",
    "eures",
)
_INFORMAL = re.compile(r"(?<![\w-])(" + "|".join(INFORMAL) + r")(?![\w-])", re.IGNORECASE)
# The same words as a tree without the look-behind: a quick first look, twice as fast on long bodies.
_INFORMAL_HINT = re.compile(r"\b(?:d(?:u|i(?:ch|r)|ein(?:e[nmrs]?)?)|eu(?:ch|er|re[nmrs]?))\b", re.IGNORECASE)
# Quoted speech, not crossing a blank line: „…“, “…”, "…", »…«, «…», ‚…‘.
_NO_PARAGRAPH = r"(?!\n[ \t]*\n)"
_QUOTED = re.compile(
    rf"„(?:{_NO_PARAGRAPH}[^“”\"])*[“”\"]|“(?:{_NO_PARAGRAPH}[^”„])*”|\"(?:{_NO_PARAGRAPH}[^\"])*\""
    rf"|»(?:{_NO_PARAGRAPH}[^«])*«|«(?:{_NO_PARAGRAPH}[^»])*»|‚(?:{_NO_PARAGRAPH}[^‘’])*[‘’]"
)
# What in Markdown source is no prose: code, comments, link targets, addresses.
_MARKDOWN_NOISE = re.compile(
    r"```.*?```|~~~.*?~~~|`[^`\n]*`|<!--.*?-->|\]\([^)\s]*(?:\s+\"[^\"]*\")?\)|<[a-z]+:[^>\s]*>"
    r"|(?:https?://|mailto:|www\.)\S+|^[ \t]*\[[^\]]+\]:[ \t]*\S+",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)

# The HTML of bodies is cmark's own (trusted, regular): patterns are enough, and fast.
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.DOTALL)
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.DOTALL)
_IMAGE = re.compile(r"<img\b([^>]*?)/?>")
_ATTRIBUTE = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG = re.compile(r"<[^>]+>")
_CODE = re.compile(r"<pre\b.*?</pre>|<code\b.*?</code>", re.DOTALL)
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|blockquote|td|th|tr|ul|ol|table)>|<br\s*/?>|<hr\s*/?>")

# Headings in Markdown source: ATX (## …) and setext (a line of = or - under the text).
_ATX = re.compile(r"^(?:[ \t]*>)*[ \t]{0,3}(#{1,6})(?:[ \t]|$)")
_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_LIST_OR_BLOCK = re.compile(r"^[ \t]*(?:[-*+>#]|\d+[.)])(?:[ \t]|$)")

# What the templates of `commsflow new` (templates/new/) mark as text still to be written.
PLACEHOLDER = "BITTE ERSETZEN"
_HTML_TAG = re.compile(r"<html\b([^>]*)>", re.IGNORECASE)
_LANG = re.compile(r"""(?<![\w:-])lang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)

# A link to an item address whose item does not exist (9), by the kind the address names:
# the message, and the hint when no other item is close.
_NO_SUCH_ITEM = {
    "post": N_("dead link {href}: there is no post {slug!r} in the content library"),
    "news": N_("dead link {href}: there is no news item {slug!r} in the content library"),
    "event": N_("dead link {href}: there is no event {slug!r} in the content library"),
    "project": N_("dead link {href}: there is no project {slug!r} in the content library"),
}
_LINK_AN_EXISTING = {
    "post": N_("link an existing post (its file name under content/) or remove the link"),
    "news": N_("link an existing news item (its file name under content/) or remove the link"),
    "event": N_("link an existing event (its file name under content/) or remove the link"),
    "project": N_("link an existing project (its file name under content/) or remove the link"),
}
# The hint when the slug is an item of another kind than the address names.
_IS_OTHER_KIND = {
    "post": N_("{slug!r} is a post; its address is {url}"),
    "news": N_("{slug!r} is a news item; its address is {url}"),
    "event": N_("{slug!r} is a event; its address is {url}"),
    "project": N_("{slug!r} is a project; its address is {url}"),
}
# Job states a late promotion can still be in (8).
_STATE = {"planned": N_("planned"), "due": N_("due")}


def lint(plan, rendered: list[Problem] | None = None, outputs: Iterable[str] | None = None) -> list[Problem]:
    """Every editorial and accessibility finding in the plan, sorted; nothing is written.

    ``plan`` is a :class:`commsflow.plan.Plan` (only valid items are linted: content
    errors are ``check``'s); ``rendered`` the problems of what ``build`` rendered of it —
    without them, the plan's jobs and previews are rendered here, once each. ``outputs``:
    the files in the build folder, where the build knows them (:func:`generated_html`)."""
    config = plan.config
    library = plan.library
    campaigns = plan.campaigns
    if rendered is None:
        rendered = [problem for job in plan.renderable() for problem in plan.render(job).problems]
    context = _Context(config.root, config, library, plan.addresses)
    problems = _items(library, context, plan.loaded.cache_folder)
    for campaign in campaigns.of_kind("newsletter"):
        problems += _newsletter_texts(campaign, context)
    problems += generated_html_problems(config, config.root, outputs)
    problems += email_findings.problems(config, plan.loaded.cache_folder)
    problems += _rendition_checks(rendered, campaigns)
    problems += _past_events(plan)
    return sorted(dict.fromkeys(problems), key=Problem.sort_key)


# --- shared helpers ----------------------------------------------------------------------------


@dataclass
class _Context:
    root: Path
    config: Config
    library: Library

    @cached_property
    def patterns(self) -> list[tuple[str, re.Pattern]]:
        """(kind, pattern) for the item addresses under [links], most specific first."""
        found = []
        for kind in ("post", "news", "event", "project"):
            pattern = getattr(self.config.links, kind, None)
            if not pattern:
                continue
            before, after = pattern.split("{slug}", 1)
            before = re.sub(r"^https?://", "", before)
            regex = (
                r"^https?://"
                + re.escape(before)
                + r"(?P<slug>[^/?#]+)"
                + re.escape(after.rstrip("/"))
                + r"/?(?:[?#].*)?$"
            )
            found.append((len(before), kind, re.compile(regex, re.IGNORECASE)))
        return [(kind, regex) for _, kind, regex in sorted(found, key=lambda entry: -entry[0])]

    addresses: set[str]  # every item's own web address (commsflow.links.own_addresses)


def _plain(fragment: str) -> str:
    """Text of an HTML fragment, whitespace collapsed."""
    return " ".join(html_lib.unescape(_TAG.sub("", fragment)).split())


def _attributes(text: str) -> dict[str, str]:
    return {m[1].lower(): html_lib.unescape(m[2] if m[2] is not None else m[3]) for m in _ATTRIBUTE.finditer(text)}


def _prose(fragment_html: str) -> str:
    """Readable text of rendered Markdown: code left out, blocks separated by a blank line."""
    text = _CODE.sub(" ", fragment_html)
    text = _BLOCK_END.sub("\n\n", text)
    return html_lib.unescape(_TAG.sub("", text))


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match[0])


def _unquoted(text: str) -> str:
    """``text`` with quoted speech blanked out, positions and line breaks kept."""
    return _QUOTED.sub(_blank, text)


def _informal_words(text: str) -> list[tuple[str, int, re.Match]]:
    """Informal address outside quotes: (word as written, its number among equal words, match)."""
    if not _INFORMAL_HINT.search(text) or not _INFORMAL.search(text):
        return []
    seen: dict[str, int] = {}
    found = []
    for match in _INFORMAL.finditer(_unquoted(text)):
        key = match[1].casefold()
        found.append((match[1], seen.get(key, 0), match))
        seen[key] = seen.get(key, 0) + 1
    return found


def _excerpt(text: str, match: re.Match, width: int = 30) -> str:
    """The words around ``match``, within its paragraph, whitespace collapsed, cuts marked „…“."""
    paragraph_start = max((m.end() for m in re.finditer(r"\n[ \t]*\n", text[: match.start()])), default=0)
    after = re.search(r"\n[ \t]*\n", text[match.end() :])
    paragraph_end = match.end() + after.start() if after else len(text)
    text = text[:paragraph_end]
    start, end = max(paragraph_start, match.start() - width), min(len(text), match.end() + width)
    while start > paragraph_start and not text[start - 1].isspace() and match.start() - start < width + 15:
        start -= 1
    while end < len(text) and not text[end].isspace() and end - match.end() < width + 15:
        end += 1
    shown = " ".join(text[start:end].split())
    return ("…" if text[paragraph_start:start].strip() else "") + shown + ("…" if text[end:].strip() else "")


def _informal_problem(path: str, field: str, word: str, excerpt: str, line: int | None) -> Problem:
    return Problem(
        path,
        _('informal address {word!r} in "{excerpt}"').format(word=word, excerpt=excerpt),
        line=line,
        field=field,
        hint=_("address readers formally (Sie, Ihnen, Ihr); quoted speech in „…“ is not checked"),
        severity=WARNING,
    )


class _Raw:
    """Source text of one field or body, to find the line of something found in its rendering."""

    def __init__(self, text: str, first_line: int, fallback: int | None = None):
        self.text, self.first_line = text, first_line
        self.fallback = fallback  # the line to name when the text cannot be found (a YAML key's)
        self._cursor: dict[str, int] = {}

    def _line_at(self, offset: int) -> int:
        return self.first_line + self.text.count("\n", 0, offset)

    def find(self, *needles: str) -> int | None:
        """Line of the next occurrence of the first needle found (repeated calls move on)."""
        for needle in needles:
            if not needle:
                continue
            position = self.text.find(needle, self._cursor.get(needle, 0))
            if position != -1:
                self._cursor[needle] = position + 1
                return self._line_at(position)
        return None

    @cached_property
    def prose(self) -> str:
        return _unquoted(_MARKDOWN_NOISE.sub(_blank, self.text))

    def word(self, word: str, number: int) -> int | None:
        """Line of the ``number``-th unquoted occurrence of ``word`` (first if there are fewer)."""
        matches = [m for m in _INFORMAL.finditer(self.prose) if m[1].casefold() == word.casefold()]
        if not matches:
            return None
        return self._line_at(matches[min(number, len(matches) - 1)].start())

    def headings(self) -> list[tuple[int, int]]:
        """(line, level) of every heading in Markdown source, outside code fences."""
        found, fence, previous = [], None, ""
        for index, line in enumerate(self.text.split("\n")):
            opening = _FENCE.match(line)
            if fence:
                if opening and opening[1] == fence:
                    fence = None
                previous = ""
                continue
            if opening:
                fence, previous = opening[1], ""
                continue
            atx = _ATX.match(line)
            if atx:
                found.append((self.first_line + index, len(atx[1])))
                previous = ""
                continue
            setext = _SETEXT.match(line)
            if setext and previous.strip() and not _LIST_OR_BLOCK.match(previous):
                found.append((self.first_line + index - 1, 1 if setext[1][0] == "=" else 2))
                previous = ""
                continue
            previous = line
        return found


class _File:
    """An item or campaign file, read again only when a finding needs a line number."""

    def __init__(self, root: Path, shown: str, line_of=None):
        self.root, self.shown, self._line_of = root, shown, line_of
        self._fields: dict[tuple, _Raw | None] = {}

    @cached_property
    def _source(self) -> frontmatter.Source | None:
        try:
            raw = (self.root / self.shown).read_bytes()
            text = frontmatter.decode(self.shown, raw)
            if self._line_of is not None:  # a campaign: YAML as a whole
                return frontmatter.Source(self.shown, text, "", 1)
            return frontmatter.split(self.shown, text)
        except (OSError, frontmatter.SourceError):
            return None

    @cached_property
    def lines(self) -> list[str]:
        source = self._source
        return source.yaml_text.split("\n") if source else []

    @cached_property
    def line_of(self):
        if self._line_of is not None:
            return self._line_of
        if self._source is None:
            return lambda loc: None
        try:
            return frontmatter.line_finder(self._source)
        except Exception:  # noqa: BLE001 - a file that changed since loading: no line, still a finding
            return lambda loc: None

    @cached_property
    def body(self) -> _Raw:
        source = self._source
        if source is None:
            return _Raw("", 1)
        # The body follows the YAML and the closing '---': yaml_text ends with its last line break.
        first = source.yaml_first_line + source.yaml_text.count("\n") + 1
        return _Raw(source.body, first)

    def field(self, loc: tuple) -> _Raw | None:
        """The YAML lines of the field at ``loc``: its key line and the more indented lines after it."""
        if loc not in self._fields:
            self._fields[loc] = self._field(loc)
        return self._fields[loc]

    def _field(self, loc: tuple) -> _Raw | None:
        line = self.line_of(loc)
        if not line:
            return None
        index = line - self._source.yaml_first_line if self._source else -1
        if index < 0 or index >= len(self.lines):
            return _Raw("", line, line)
        key_line = self.lines[index]
        indent = len(key_line) - len(key_line.lstrip(" -"))
        end = index + 1
        while end < len(self.lines):
            following = self.lines[end]
            if following.strip() and len(following) - len(following.lstrip(" ")) <= indent:
                break
            end += 1
        block = self.lines[index:end]
        block[0] = re.sub(r"^[ \t-]*[^:]*:", lambda m: " " * len(m[0]), block[0], count=1)  # not the key
        return _Raw("\n".join(block), line, line)


# --- items -------------------------------------------------------------------------------------


def _items(library: Library, context: _Context, cache_folder: Path | None) -> list[Problem]:
    """Every item's findings. An item's findings depend only on its file, the settings,
    commsflow's code and which item addresses exist: kept per file under ``cache_folder``
    (as JSON) for as long as those stay the same, so one edited file is all a rebuild lints."""
    import hashlib

    from commsflow.cache import code_fingerprint, read_kept, write_kept

    key = hashlib.blake2b(digest_size=16)
    for part in (context.config.fingerprint, code_fingerprint(), *sorted(context.addresses)):
        key.update(part.encode() + b"\0")
    path = cache_folder / "lint.json" if cache_folder else None
    kept: dict[str, list] = read_kept(path, key.hexdigest())  # none yet, or unreadable: lint everything
    fresh: dict[str, list] = {}
    problems: list[Problem] = []
    linted = False
    for item in library:
        entry = kept.get(item.path)
        if entry is not None and entry[0] == item.digest:
            found = [Problem.from_dict(data) for data in entry[1]]
        else:
            found = _item(item, context)
            entry = [item.digest, [problem.as_dict() for problem in found]]
            linted = True
        fresh[item.path] = entry
        problems += found
    if linted or len(fresh) != len(kept):  # an item linted, or one gone: not what is kept
        write_kept(path, key.hexdigest(), fresh)
    return problems


def _item(item: Item, context: _Context) -> list[Problem]:
    meta = item.meta
    file = _File(context.root, item.path)
    problems: list[Problem] = []

    def problem(message: str, *, field: str, line: int | None, hint: str, severity=Severity.ERROR) -> None:
        problems.append(Problem(item.path, message, line=line, field=field, hint=hint, severity=severity))

    # 1. The front matter image.
    image = meta.image
    if image is not None:
        alt = (image.alt or "").strip()
        if not alt:
            problem(
                _("the image has no alt text"),
                field="image.alt",
                line=file.line_of(("image", "alt")) or file.line_of(("image",)),
                hint=_("describe the image under image.alt: screen readers read it out (BITV 2.0)"),
            )
        elif _generic_alt(alt, image.src):
            problem(
                _("alt text {alt!r} does not describe the image").format(alt=alt),
                field="image.alt",
                line=file.line_of(("image", "alt")),
                hint=_("say what the image shows, e.g. „Teilnehmende der MPI Konferenz im Impact Hub“"),
                severity=WARNING,
            )

    # 10. A placeholder from `commsflow new` left in the text.
    if PLACEHOLDER in item.meta.model_dump_json() or PLACEHOLDER in (item.html or ""):
        problem(
            _("the text still says „{placeholder}“").format(placeholder=PLACEHOLDER),
            field="body" if PLACEHOLDER in (item.html or "") else None,
            line=file.body.find(PLACEHOLDER) if PLACEHOLDER in (item.html or "") else None,
            hint=_("replace every marked text with the real one before the item is signed off"),
        )

    # 5. Informal address in the front matter's outward texts.
    texts = [(("title",), meta.title), (("summary",), meta.summary)]
    if meta.linkedin is not None:
        texts += [
            (("linkedin", name), getattr(meta.linkedin, name))
            for name in ("text", "save_the_date", "reminder", "recap")
        ]
    if meta.press is not None:
        texts += [(("press", name), getattr(meta.press, name)) for name in ("headline", "subline", "lead")]
    for loc, text in texts:
        if not text:
            continue
        for word, number, match in _informal_words(text):
            raw = file.field(loc)
            line = (raw.word(word, number) or raw.first_line) if raw else None
            problems.append(_informal_problem(item.path, field_path(loc), word, _excerpt(text, match), line))

    body_html = item.html
    if not body_html:
        return problems

    # 3. Headings.
    headings = [(int(m[1]), _plain(m[2])) for m in _HEADING.finditer(body_html)] if "<h" in body_html else []
    if headings:
        problems += _heading_problems(item, headings, file)

    # 1, 2, 9. Images and links in the body.
    if "<img" in body_html:
        for match in _IMAGE.finditer(body_html):
            attributes = _attributes(match[1])
            src, alt = attributes.get("src", ""), (attributes.get("alt") or "").strip()
            if not alt:
                problem(
                    _("image {src!r} has no alt text").format(src=src),
                    field="body",
                    line=file.body.find("](" + src, src),
                    hint=_("describe the image: ![Beschreibung]({src}) — screen readers read it out (BITV 2.0)").format(
                        src=src
                    ),
                )
            elif _generic_alt(alt, src):
                problem(
                    _("alt text {alt!r} does not describe the image {src!r}").format(alt=alt, src=src),
                    field="body",
                    line=file.body.find("](" + src, src),
                    hint=_("say what the image shows"),
                    severity=WARNING,
                )
    if "<a" in body_html:
        for match in _LINK.finditer(body_html):
            href = _attributes(match[1]).get("href", "")
            problems += _link_problems(item.path, "body", href, match[2], lambda: file.body, context)

    # 5. Informal address in the body.
    if _INFORMAL_HINT.search(body_html) and _INFORMAL.search(body_html):
        prose = _prose(body_html)
        for word, number, match in _informal_words(prose):
            problems.append(
                _informal_problem(item.path, "body", word, _excerpt(prose, match), file.body.word(word, number))
            )
    return problems


# An alt text that is a file name ("IMG_4711.JPG", "foto-2024-03-14.png") describes nothing.
_FILE_NAME = re.compile(r"[\w.-]+\.(?:jpe?g|png|gif|webp|svg|heic|tiff?)", re.IGNORECASE)


def _generic_alt(alt: str, src: str) -> bool:
    folded = alt.casefold().strip(" .")
    name = PurePosixPath(urlsplit(src).path).name.casefold()
    return (
        folded in GENERIC_ALT
        or bool(_FILE_NAME.fullmatch(alt.strip()))
        or (bool(name) and folded in (name, name.rsplit(".", 1)[0]))
    )


def _heading_problems(item: Item, headings: list[tuple[int, str]], file: _File) -> list[Problem]:
    problems = []
    lines: list[int | None] | None = None

    def line(index: int) -> int | None:
        nonlocal lines
        if lines is None:
            found = file.body.headings()
            if len(found) == len(headings):
                lines = [number for number, _ in found]
            else:  # headings Markdown alone cannot show (raw HTML, odd nesting): look for the text
                lines = [file.body.find(text) if text else None for _, text in headings]
        return lines[index]

    previous = 1  # the title is the page's level-1 heading
    for index, (level, text) in enumerate(headings):
        if level == 1:
            problems.append(
                Problem(
                    item.path,
                    _("heading {text!r} is level 1; the title is the page's only level-1 heading").format(text=text),
                    line=line(index),
                    field="body",
                    hint=_("start the body's headings at level 2 (## …)"),
                    severity=WARNING,
                )
            )
        elif level > previous + 1:
            was = (_("level {level} (the title)") if previous == 1 and index == 0 else _("level {level}")).format(
                level=previous
            )
            problems.append(
                Problem(
                    item.path,
                    _("heading {text!r} jumps from {previous} to level {level}").format(
                        text=text, previous=was, level=level
                    ),
                    line=line(index),
                    field="body",
                    hint=_(
                        "use level {level} ({marks} …): screen reader users move through a page by its heading levels"
                    ).format(level=previous + 1, marks="#" * (previous + 1)),
                    severity=WARNING,
                )
            )
        previous = level
    return problems


def _link_problems(
    path: str,
    field: str,
    href: str,
    inner_html: str,
    raw,
    context: _Context,
    *,
    url_field: str | None = None,
    url_raw=None,
) -> list[Problem]:
    """Link text (2) and dead internal reference (9) of one link; ``raw()`` gives the source
    text to find the line in, read only when there is a finding. A button names its address
    in a field of its own (``url_field``, whose source ``url_raw()`` gives)."""
    problems = []
    text = _plain(inner_html)
    if not text:  # an image as the link: its alt text is what is read out
        images = [_attributes(m[1]).get("alt", "") for m in _IMAGE.finditer(inner_html)]
        text = " ".join(alt for alt in images if alt).strip()
    located: list[int | None] = []

    def line() -> int | None:
        if not located:
            source = raw()
            located.append(
                None
                if source is None
                else source.find("](" + href, "](<" + href, f"[{text}]", href, unquote(href)) or source.fallback
            )
        return located[0]

    if not text:
        problems.append(
            Problem(
                path,
                _("the link to {href} has no text").format(href=href),
                line=line(),
                field=field,
                hint=_("write what the link leads to between the brackets: [Programm des MPI Meet-ups](…)"),
                severity=WARNING,
            )
        )
    elif " ".join(text.strip(_LINK_TRIM).casefold().split()) in VAGUE_LINK_TEXTS:
        problems.append(
            Problem(
                path,
                _("link text {text!r} says nothing out of context (→ {href})").format(text=text, href=href),
                line=line(),
                field=field,
                hint=_(
                    "let the link text name where it leads, e.g. „Programm des MPI "
                    "Meet-ups“ instead of „hier“: screen readers list links on their own"
                ),
                severity=WARNING,
            )
        )
    dead = _dead_reference(href, context)
    if dead:
        message, hint = dead
        if url_raw is not None:
            source = url_raw()
            line_of_url = source.fallback if source is not None else None
        else:
            line_of_url = line()
        problems.append(Problem(path, message, line=line_of_url, field=url_field or field, hint=hint))
    return problems


def _dead_reference(href: str, context: _Context) -> tuple[str, str] | None:
    """(message, hint) when ``href`` is an item address on the own site whose item does not exist."""
    config = context.config
    if not href or not is_own(href, config):
        return None
    for kind, pattern in context.patterns:
        match = pattern.match(href)
        if not match:
            continue
        if normalised(href) in context.addresses:  # an item's own url: there, whatever the pattern says
            return None
        slug = unquote(match["slug"])
        item = context.library.get(slug)
        if item is not None and item.kind == kind:
            return None
        message = _(_NO_SUCH_ITEM[kind]).format(href=href, slug=slug)
        if item is not None:
            return message, _(_IS_OTHER_KIND[item.kind]).format(slug=slug, url=item_url(item, config))
        guess = closest(slug, [other.slug for other in context.library.of_kind(kind)])
        if guess:
            return message, _("did you mean {slug!r}? ({url})").format(
                slug=guess, url=item_url(context.library.get(guess), config)
            )
        return message, _(_LINK_AN_EXISTING[kind])
    return None


# --- newsletter campaign texts --------------------------------------------------------------------


def _newsletter_texts(campaign: Campaign, context: _Context) -> list[Problem]:
    spec = campaign.spec
    file = _File(context.root, campaign.path, campaign.line_of)
    problems: list[Problem] = []

    def raw(loc: tuple):
        return lambda: file.field(loc)

    plain = [(("title",), spec.title), (("subject",), spec.subject), (("preheader",), spec.preheader)]
    marked = [(("intro",), spec.intro)]
    for index, section in enumerate(spec.sections):
        plain.append((("sections", index, "title"), section.title))
        if section.intro:
            marked.append((("sections", index, "intro"), section.intro))
        for position, pick in enumerate(section.items):
            if pick.summary:
                plain.append((("sections", index, "items", position, "summary"), pick.summary))
        if section.cta is not None:
            loc = ("sections", index, "cta")
            plain.append(((*loc, "text"), section.cta.text))
            problems += _link_problems(
                campaign.path,
                field_path((*loc, "text")),
                section.cta.url,
                html_lib.escape(section.cta.text),
                raw((*loc, "text")),
                context,
                url_field=field_path((*loc, "url")),
                url_raw=raw((*loc, "url")),
            )

    for loc, text in plain:
        for word, number, match in _informal_words(text or ""):
            source = file.field(loc)
            line = (source.word(word, number) or source.first_line) if source else None
            problems.append(_informal_problem(campaign.path, field_path(loc), word, _excerpt(text, match), line))

    for loc, text in marked:
        rendered = markdown.to_html(text)
        field = field_path(loc)
        for match in _IMAGE.finditer(rendered):
            attributes = _attributes(match[1])
            src = attributes.get("src", "")
            if not (attributes.get("alt") or "").strip():
                source = file.field(loc)
                problems.append(
                    Problem(
                        campaign.path,
                        _("image {src!r} has no alt text").format(src=src),
                        field=field,
                        line=(source.find("](" + src, src) or source.fallback) if source else None,
                        hint=_("describe the image: ![Beschreibung]({src})").format(src=src),
                    )
                )
        for match in _LINK.finditer(rendered):
            href = _attributes(match[1]).get("href", "")
            problems += _link_problems(campaign.path, field, href, match[2], raw(loc), context)
        prose = _prose(rendered)
        for word, number, match in _informal_words(prose):
            source = file.field(loc)
            line = (source.word(word, number) or source.first_line) if source else None
            problems.append(_informal_problem(campaign.path, field, word, _excerpt(prose, match), line))
    return problems


# --- the build folder -----------------------------------------------------------------------------


def generated_html(config: Config, outputs: Iterable[str] | None = None) -> list[Path]:
    """The HTML files in the build folder (none if nothing was built yet). ``outputs``: the
    files the build folder holds, where the caller knows them (a build: the listing its stamp
    took, with what it wrote since), so that 10,000 previews are not walked again for 50 pages."""
    if outputs is not None:
        return sorted(Path(name) for name in outputs if name.endswith(".html"))
    # os.walk: pathlib's rglob took 0.05 s over a build folder of 10,000 drafts.
    return sorted(
        Path(folder, name)
        for folder, _folders, names in os.walk(config.path("build"))
        for name in names
        if name.endswith(".html") and os.path.isfile(os.path.join(folder, name))
    )


_HEAD_BYTES = 4096  # the <html> tag is on the first lines; the rest is read only when it is not there


def generated_html_problems(config: Config, root: Path, outputs: Iterable[str] | None = None) -> list[Problem]:
    """4. Every generated page must say its language, or screen readers read German with English rules."""
    problems = []
    for path in generated_html(config, outputs):
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        hint = _(
            'add lang="de" to the <html> tag of the template that writes it: screen readers choose '
            "their pronunciation by it (BITV 2.0)"
        )
        try:
            with path.open("rb") as handle:  # the <html> tag is at the top: the dashboard has megabytes below it
                raw = handle.read(_HEAD_BYTES)
                if _HTML_TAG.search(raw.decode("utf-8", errors="replace")) is None:
                    raw += handle.read()
            text = raw.decode("utf-8", errors="replace")
        except OSError as exc:
            problems.append(Problem(shown, _("cannot read ({reason})").format(reason=exc.strerror), severity=WARNING))
            continue
        tag = _HTML_TAG.search(text)
        if tag is None:
            problems.append(Problem(shown, _("no <html> element, so no lang attribute"), line=1, hint=hint))
            continue
        lang = _LANG.search(tag[1])
        value = next((group for group in lang.groups() if group is not None), "") if lang else ""
        if not value.strip():
            line = text.count("\n", 0, tag.start()) + 1
            message = _("<html> has an empty lang attribute") if lang else _("<html> has no lang attribute")
            problems.append(Problem(shown, message, line=line, hint=hint))
    return problems


# --- renderers' own checks --------------------------------------------------------------------------


def _not_checked(path: str, what: str, exc: CommsflowError) -> Problem:
    return Problem(
        path, _("{what} not checked: {message}").format(what=what, message=exc.message), hint=exc.hint, severity=WARNING
    )


def _rendition_checks(rendered: list[Problem], campaigns) -> list[Problem]:
    """6. and 7. The renderers' own checks, as build rendered each job: a post's claim in
    the first 210 characters, each newsletter issue's e-mail HTML (size against Gmail's
    clipping, addresses, alt texts, third-party requests) — named by the issue's campaign
    file, what the team edits (the renderer names it ``<issue>/email.html``, no file here)."""
    found = []
    claim_missing = linkedin_renderer.claim_missing()  # most posts' warning: looked up once, not per job
    for problem in rendered:
        if problem.path.endswith("/email.html"):
            campaign = campaigns.get(problem.path.removesuffix("/email.html"), "newsletter")
            found.append(replace(problem, path=campaign.path) if campaign is not None else problem)
        elif problem.field == RELEASE_FIELD or claim_missing.fullmatch(problem.message):
            found.append(problem)
    return found


# --- every form of a press release ----------------------------------------------------------------

RELEASE_FIELD = "release"  # the field of the findings in a release's forms (11.)

_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_SHORT_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
_MONTH_NAMES = "|".join(_MONTHS) + "|Jänner"
# „Dienstag, 28. März 2024“, „Di., 28.03.2024“, „28. März 2024“, „28.03.2024“ — the year may be missing.
_GERMAN_DATE = re.compile(
    r"(?<![\w.])(?:(?P<weekday>" + "|".join(_WEEKDAYS) + r"|(?:" + "|".join(_SHORT_WEEKDAYS) + r")\.?),?\s+"
    r"(?:den\s+)?)?(?P<day>\d{1,2})\.(?:(?P<month>\d{1,2})\.(?P<short_year>\d{4}|\d{2})?"
    r"|\s?(?P<name>" + _MONTH_NAMES + r")(?:\s(?P<year>\d{4}))?)(?![\w])"
)
# 2024-03-28 in running text (not in an address or a file name: no letter, slash or dot next to it).
_ISO_DATE = re.compile(r"(?<![\w/.:-])(\d{4})-(\d{2})-(\d{2})(?![\w/.-])")
_WORDS = re.compile(r"\w+")
_ADDRESSES = re.compile(r"(?:https?://|mailto:|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)


def release_problems(item: Item, root: Path, texts: dict[str, str]) -> list[Problem]:
    """11. The formal-address and date checks over every form of a press release: ``texts``
    maps each form's file name to its readable text. Each finding is reported once, naming
    the forms it is in. Informal address that the item's own file has is left to the item's
    checks (5.), which name its line; what a form adds — the templates' wording, the
    boilerplate, an event's facts — is found here."""
    file = _File(root, item.path)
    words = _WORDS.findall(file.body.text + "\n" + "\n".join(file.lines))
    source = " " + " ".join(word.casefold() for word in words) + " "
    anchor = getattr(item.meta, "date", None) or getattr(item.meta, "start", None)
    # A finding by what it is about (the words around an informal word, a date as written):
    # as the first form says it, and every form it is in.
    findings: dict[tuple, tuple] = {}
    forms: dict[tuple, list[str]] = {}
    for form, text in texts.items():
        prose = _ADDRESSES.sub(_blank, text)
        found = [
            ("informal", _around(prose, match), word, _excerpt(prose, match))
            for word, _number, match in _informal_words(prose)
        ]
        found = [finding for finding in found if finding[1] not in source] + _date_findings(prose, anchor)
        for finding in found:
            findings.setdefault(finding[:2], finding)
            forms.setdefault(finding[:2], []).append(form)
    problems = []
    for key, finding in findings.items():
        where = ", ".join(dict.fromkeys(forms[key]))
        if finding[0] == "informal":
            _kind, _around_words, word, excerpt = finding
            message = _('informal address {word!r} in {forms}: "{excerpt}"').format(
                word=word, forms=where, excerpt=excerpt
            )
            hint, line = _("the wording comes from a template or the configuration: address readers formally"), None
        else:
            kind, written, *values = finding
            said, hint = _DATE_FINDINGS[kind]
            message = _(said).format(written=written, forms=where, date=values[0], weekday=values[-1])
            hint, line = _(hint), file.body.find(written)
        problems.append(Problem(item.path, message, line=line, field=RELEASE_FIELD, hint=hint, severity=WARNING))
    return problems


def _around(text: str, match: re.Match) -> str:
    """The words around ``match`` (two on either side), as the item's file is searched for them."""
    before = _WORDS.findall(text[: match.start()])[-2:]
    after = _WORDS.findall(text[match.end() :])[:2]
    return " " + " ".join(word.casefold() for word in [*before, match[1], *after]) + " "


# What is wrong with a date (11.): the message and the hint.
_DATE_FINDINGS = {
    "weekday": (
        N_("„{written}“ in {forms}: the {date} is a {weekday}"),
        N_("correct the weekday or the date"),
    ),
    "no-date": (N_("„{written}“ in {forms} is no date"), N_("check the day and the month")),
    "iso-date": (
        N_("„{written}“ in {forms} is not written the way German readers write a date"),
        N_("write e.g. „28. März 2024“ or „28.03.2024“"),
    ),
}


def _date_findings(text: str, anchor) -> list[tuple]:
    """(kind, the date as written, …) for every wrong date in ``text``: a weekday that is not
    the date's (with the date and its weekday), a day the month does not have, a date written
    2024-03-28. A date without a year is taken in the year of ``anchor`` (the item's date or
    start)."""
    from datetime import date

    findings: list[tuple] = []
    for match in _GERMAN_DATE.finditer(text):
        written = " ".join(match[0].split())
        day = int(match["day"])
        month = int(match["month"]) if match["month"] else _month_number(match["name"])
        year = match["year"] or match["short_year"]
        year = (2000 + int(year) if len(year) == 2 else int(year)) if year else getattr(anchor, "year", None)
        if not 1 <= month <= 12 or year is None:
            continue
        try:
            when = date(year, month, day)
        except ValueError:
            findings.append(("no-date", written, ""))
            continue
        weekday = match["weekday"]
        if weekday and _weekday_number(weekday) != when.weekday():
            findings.append(("weekday", written, dates.numeric_date(when), _weekday_name(when)))
    findings += [("iso-date", match[0], "") for match in _ISO_DATE.finditer(text)]
    return findings


def _month_number(name: str) -> int:
    return 1 if name == "Jänner" else _MONTHS.index(name) + 1


def _weekday_number(written: str) -> int:
    written = written.rstrip(".")
    return _WEEKDAYS.index(written) if written in _WEEKDAYS else _SHORT_WEEKDAYS.index(written)


def _weekday_name(day) -> str:
    from babel.dates import format_date

    from commsflow import i18n

    return format_date(day, "EEEE", locale=i18n.language())


# --- events promoted too late -------------------------------------------------------------------------


def _past_events(plan) -> list[Problem]:
    """8. Jobs that promote an event after it has started."""
    config, campaigns, library, now = plan.config, plan.campaigns, plan.library, plan.now
    problems = []
    for job in plan.jobs:
        if job.template not in PROMOTING:
            continue
        event = library.get(job.item)
        if event is None or event.kind != "event":
            continue
        start = linkedin_plan.starts(event, config.zone)
        started = _moment(event.meta.start)
        what = _("the {template} on {channel} planned for {moment}").format(
            template=job.template, channel=job.channel, moment=_moment(job.planned)
        )
        path, line, field, one_off = _job_location(job, campaigns, config.root)
        if job.planned >= start and job.state in ("planned", "due", "blocked"):
            hint = (
                _("set publish_at before the event's start, or remove publish_at and channels")
                if one_off
                else _("promote the event before it starts: a negative 'at' (e.g. -1 week), or a recap template")
            )
            message = _("{what} comes after {item!r} has started ({started})").format(
                what=what, item=job.item, started=started
            )
            problems.append(Problem(path, message, line=line, field=field, hint=hint))
        elif start <= now and job.state in ("planned", "due") and event.status in SIGNED_OFF:
            problems.append(
                Problem(
                    path,
                    _("{what} is still {state}, but {item!r} started {started}").format(
                        what=what, state=_(_STATE[job.state]), item=job.item, started=started
                    ),
                    line=line,
                    field=field,
                    hint=_(
                        "the scheduler would send it after the event has "
                        "started: remove the step (or the one-off publication) while it is not sent"
                    ),
                    severity=WARNING,
                )
            )
    return problems


def _moment(value) -> str:
    if isinstance(value, datetime):
        return f"{dates.numeric_date(value)} {dates.hour_minute(value)}"
    return dates.numeric_date(value)


def _job_location(job, campaigns, root: Path) -> tuple[str, int | None, str | None, bool]:
    """(path, line, field, one-off?) of what plans ``job``."""
    campaign = campaigns.get(job.campaign)
    if campaign is not None and campaign.path == job.source and campaign.kind == "event":
        for index, step in enumerate(campaign.spec.steps):
            if step.name == job.step:
                return job.source, campaign.line_of(("steps", index)), field_path(("steps", index)), False
        return job.source, None, None, False
    if campaign is None or campaign.path != job.source:  # a one-off publication in the item's front matter
        return job.source, _File(root, job.source).line_of(("publish_at",)), "publish_at", True
    return job.source, None, None, False

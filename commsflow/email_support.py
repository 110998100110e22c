"""Which e-mail clients show what a newsletter's HTML uses: a check against caniemail's data.

caniemail.com tests HTML and CSS features in e-mail clients. ``commsflow/data/caniemail.json``
holds its newest result for each feature in the clients most readers use (:data:`CLIENTS`:
Outlook for Windows, Gmail on the web and in its apps, Apple Mail on macOS and iOS);
``commsflow/data/README.md`` says where it comes from, under which licence, and how to
update it. Nothing is fetched at run time.

:func:`check` reads the final e-mail HTML (what ``newsletter build`` writes) twice: as Outlook
for Windows reads it — the contents of ``<!--[if mso]>…<![endif]-->`` included,
``<!--[if !mso]><!-->…<!--<![endif]-->`` left out — and as every other client does, where
conditional comments are comments (:mod:`commsflow.email_features` does the reading). Each
element, attribute, CSS property, value, at-rule and selector used is looked up for the
clients that read it, and every feature a client does not support, or supports only in a
way that touches this use, becomes one :class:`Finding`. Not findings:

* for Outlook, what MJML writes for it alone (inside ``<!--[if mso]>``) and what Outlook
  ignores on an element MJML wraps in such a table (the "ghost table" that lays out each
  section and column for Outlook instead of the ``<div>``'s width, margins and display);
* a partial support whose notes do not concern this use (:data:`NOTES`: "negative values
  are not supported" for ``margin:0 auto``, "not supported on ``<div>``" for a ``<td>``);
* what an unsupported container already says: the rules of a ``<style>`` a client drops,
  of an ``@media`` it ignores, and what an element hidden by ``display:none`` carries;
* CSS that applies to nothing in the e-mail (a class or attribute a client adds itself).

:mod:`commsflow.email_findings` runs the check on every built e-mail for ``commsflow lint``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from commsflow.i18n import N_

if TYPE_CHECKING:  # the reader (and tinycss2) is loaded when an e-mail is checked, not with lint
    from commsflow.email_features import Document, Element, Tables, Use

DATA = Path(__file__).parent / "data" / "caniemail.json"


@dataclass(frozen=True)
class Client:
    family: str  # caniemail's names
    platform: str
    label: str  # N_-marked: shown through _()

    @property
    def key(self) -> str:
        return f"{self.family}.{self.platform}"


# The clients checked, in the order findings name them: Outlook for Windows (Word's HTML
# engine, "mso" in conditional comments), Gmail and Apple Mail.
CLIENTS = (
    Client("outlook", "windows", N_("Outlook (Windows)")),
    Client("gmail", "desktop-webmail", N_("Gmail (web)")),
    Client("gmail", "ios", N_("Gmail (iOS)")),
    Client("gmail", "android", N_("Gmail (Android)")),
    Client("gmail", "mobile-webmail", N_("Gmail (mobile web)")),
    Client("apple-mail", "macos", N_("Apple Mail (macOS)")),
    Client("apple-mail", "ios", N_("Apple Mail (iOS)")),
)
OUTLOOK = CLIENTS[0]
CLIENTS_BY_KEY = {client.key: client for client in CLIENTS}

# Outlook's own properties that stand in for one it does not support, set by MJML beside it
# (a button's padding: mso-padding-alt on the cell) or as caniemail's notes advise.
OUTLOOK_ALTERNATIVES = {
    "css-padding": ("mso-padding-alt",),
    "css-line-height": ("mso-line-height-rule",),
    "css-text-indent": ("mso-text-indent-alt",),
    "css-list-style-image": ("mso-bullet-image",),
    "css-list-style-position": ("mso-text-indent-alt",),
}


# Values that ask for what a client shows without the declaration: a client that ignores
# the property shows the same (body { margin:0 }, outline:none, cursor:auto).
_ZERO = r"(?:[-+]?0(?:\.0*)?(?:[a-z]+|%)?\s*)+"
DEFAULTS = {
    "css-margin": _ZERO,
    "css-padding": _ZERO,
    "css-border": rf"none|{_ZERO}",
    "css-outline": rf"none|{_ZERO}",
    "css-word-spacing": rf"normal|{_ZERO}",
    "css-letter-spacing": rf"normal|{_ZERO}",
    "css-text-transform": "none",
    "css-cursor": "auto",
    "css-opacity": r"1(?:\.0*)?|100%",
    "css-text-indent": _ZERO,
}

# How elements display by default (HTML's rendering rules): display:block on a <p> changes nothing.
DISPLAY = {
    **dict.fromkeys(
        "html body address article aside blockquote center details dialog dd div dl dt fieldset figcaption figure "
        "footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section summary ul".split(),
        "block",
    ),
    "li": "list-item",
    "table": "table",
    "tr": "table-row",
    "td": "table-cell",
    "th": "table-cell",
    "tbody": "table-row-group",
    "thead": "table-header-group",
    "tfoot": "table-footer-group",
    **dict.fromkeys("head style title meta link script".split(), "none"),
}


@cache
def data() -> dict:
    """The vendored data (commsflow/data/caniemail.json), read once."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def features() -> dict[str, dict]:
    return data()["features"]


@cache
def _tables() -> Tables:
    from commsflow.email_features import Tables

    return Tables.of(features())


# --- what caniemail's notes mean for one use ------------------------------------------------------

_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_UNITS = ("px", "em", "rem", "pt", "vh", "vw", "vmin", "vmax", "ch", "ex", "cm", "mm", "in", "pc")


def _tags(note: str) -> set[str]:
    return set(re.findall(r"<(\w+)>", note))


def _on(use: Use, tags: set[str]) -> bool:
    """Whether the use is on one of these elements (on anything, when it is on no element)."""
    return not use.elements or any(element.tag in tags for element in use.elements)


def _off(use: Use, tags: set[str]) -> bool:
    return not use.elements or any(element.tag not in tags for element in use.elements)


def _names(use: Use, words: list[str]) -> bool:
    """Whether the use is written with one of these values, units or keywords."""
    written = re.sub(r"\s*:\s*", ":", use.detail.lower())
    for word in words:
        word = re.sub(r"\s*:\s*", ":", word.lower().strip())
        if word in _UNITS and re.search(rf"\d{word}(?![\w-])", written):
            return True
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", written):
            return True
    return False


def _named_values(use: Use, match: re.Match, document: Document) -> bool:
    """ "`auto` value is not supported", "`flex`, `grid` … are not supported": only where the
    use is written with one of them; a note that names none applies to every use."""
    sentence = next(
        (part for part in re.split(r"(?<=\.)\s+", match.string) if re.search(match.re, part)),
        match.string,
    )
    words = [word for word in re.findall(r"`([^`]+)`", sentence) if "<" not in word]
    return _names(use, words) if words else True


_Rule = Callable[["Use", re.Match, "Document"], bool]

# caniemail's notes on a partial support, and when each concerns a use: the first pattern
# found in a note decides; a note none of them finds concerns every use.
NOTES: tuple[tuple[str, _Rule], ...] = (
    (r"^Supports the vendor prefixed value", lambda use, match, document: False),
    (
        r'`target="_blank"` is forced|links always open in a new window',
        lambda use, match, document: use.value != "_blank",
    ),
    (r"limited to (\d+) KB", lambda use, match, document: len(use.block.encode()) > int(match[1]) * 1024),
    (r"inside the `<body>`|declared before their rules are used", lambda use, match, document: use.in_body),
    (r"[Nn]egative values", lambda use, match, document: bool(re.search(r"(?<![\w-])-\.?\d", use.value))),
    (
        r"can not be bigger than (\d+)px",
        lambda use, match, document: any(
            float(number) > int(match[1]) for number in re.findall(r"(\d+(?:\.\d+)?)px", use.value)
        ),
    ),
    (r"height based media queries", lambda use, match, document: "height" in use.value),
    (
        r"Only supports `display:none` \(but not on `<img>`\)",
        lambda use, match, document: use.value != "none" or _on(use, {"img"}),
    ),
    (r"Only supported on table cells", lambda use, match, document: _off(use, {"td", "th"})),
    (r"Only (?:supported|works) on", lambda use, match, document: _off(use, _tags(match.string))),
    (
        r"onto nested `<table>`|does not inherit to inner tables",
        lambda use, match, document: any(element.has_table for element in use.elements),
    ),
    (
        r"Percentage width on `<img>`",
        lambda use, match, document: _on(use, {"img"}) and "%" in use.value,
    ),
    (
        r"Not supported on|Unreliable if used on|Buggy on anchor|applied directly to",
        lambda use, match, document: _on(use, _tags(match.string)),
    ),
    (
        r"`<number>` values between",
        lambda use, match, document: bool(re.fullmatch(r"\d+", use.value)) and use.value not in ("400", "700"),
    ),
    (
        r"`background-color` is included inside the `margin`",
        lambda use, match, document: "background" in use.block.lower(),
    ),
    (
        r"same for all cells of a same row",
        lambda use, match, document: any(
            element.tag in ("td", "th")
            and element.parent is not None
            and sum(cell.tag in ("td", "th") for cell in element.parent.children) > 1
            for element in use.elements
        ),
    ),
    (r"`em` and `px` units behave weirdly", lambda use, match, document: _names(use, ["em", "px"])),
    (r"Values set in `em`", lambda use, match, document: _names(use, ["em"])),
    (
        r"Only `background-color` values are supported",
        lambda use, match, document: bool(re.search(r"url\(|gradient\(|image-set\(", use.value)),
    ),
    (r"Not supported with multiple values", lambda use, match, document: len(use.value.split()) > 1),
    (
        r"Only supported in lowercase",
        lambda use, match, document: any(
            found != found.lower() for found in re.findall(r"!\s*important", use.block, re.IGNORECASE)
        ),
    ),
    (
        r"Only supported with a space before",
        lambda use, match, document: bool(re.search(r"\S!\s*important", use.block, re.IGNORECASE)),
    ),
    (r"Only supported inline when", lambda use, match, document: not use.inline),
    (r"Not supported inline", lambda use, match, document: use.inline),
    (r"`<style>` tag not supported\. Comment inside", lambda use, match, document: not use.inline),
    (
        r"The `reversed` attribute",
        lambda use, match, document: any("reversed" in element.attrs for element in use.elements),
    ),
    (
        r"Setting the `value` attribute to an `<li>`",
        lambda use, match, document: any(
            child.tag == "li" and "value" in child.attrs for element in use.elements for child in element.children
        ),
    ),
    (r"text in a `rtl` language", lambda use, match, document: bool(_RTL.search(document.text))),
    (r"[Ww]hitespace syntax", lambda use, match, document: bool(re.search(r"rgba?\([^),]*\)", use.value))),
    (
        r"Alpha value is not supported \(`rgb\(",
        lambda use, match, document: bool(re.search(r"rgb\((?:[^,)]*,){3}", use.value)),
    ),
    (
        r"but not (.*)",
        lambda use, match, document: _names(use, re.findall(r"`([^`]+)`", match[1])),
    ),
    (r"not supported|[Dd]oes(?:n't| not) support|does not work", _named_values),
)
_NOTES = tuple((re.compile(pattern), rule) for pattern, rule in NOTES)
# An unsupported feature whose fallback is what the e-mail asks for: links open in a new window.
_SAME_ANYWAY = re.compile(r'`target="_blank"` is forced')
# The limitation many features share in Gmail's apps with other providers' accounts (no
# <style>): reported once, by the <style> element, not again by each rule inside it.
_NON_GOOGLE = re.compile(
    r"(?:not supported|n't work|not work|not render|only supported inline when using)[^.]*non[- ]?(?:google|gmail) account",
    re.IGNORECASE,
)


@cache
def _rule_for(note: str) -> tuple[_Rule, re.Match] | None:
    for pattern, rule in _NOTES:
        match = pattern.search(note)
        if match:
            return rule, match
    return None


def _concerns(note: str, use: Use, document: Document) -> bool:
    found = _rule_for(note)
    if found is None:
        return True
    rule, match = found
    return rule(use, match, document)


@dataclass(frozen=True)
class Gap:
    """How one client falls short for one use: not at all ("n") or in part ("a"), and the
    notes of caniemail's that say how (as written there)."""

    client: Client
    level: str
    notes: tuple[str, ...]


def _gap(use: Use, client: Client, document: Document, seen: dict) -> Gap | None:
    """What ``client`` lacks for ``use`` (None: nothing that touches it)."""
    key = (id(use), id(client))
    if key in seen:
        return seen[key]
    seen[key] = None  # a use inside itself (never): no gap
    seen[key] = found = _gap_of(use, client, document, seen)
    return found


@cache
def _lacking(slug: str) -> frozenset[str]:
    """The clients that do not support ``slug``, or only in part (by the newest test)."""
    support = features().get(slug, {}).get("support", {})
    return frozenset(key for key, (_, result) in support.items() if result[:1] in ("n", "a"))


def _gap_of(use: Use, client: Client, document: Document, seen: dict) -> Gap | None:
    if client.key not in _lacking(use.slug):
        return None  # supported ("y"), not known ("u") or not tested
    feature = features()[use.slug]
    result = feature["support"][client.key]
    level = result[1][:1]
    if client is OUTLOOK and _outlook_has_its_own(use):
        return None
    if _asks_for_the_default(use):
        return None
    if any(_gap(other, client, document, seen) is not None for other in use.covered_by):
        return None
    notes = [feature["notes"].get(number, "") for number in re.findall(r"#(\d+)", result[1])]
    notes = [note for note in notes if note]
    if level == "n" and any(_SAME_ANYWAY.search(note) for note in notes) and use.value == "_blank":
        return None
    container_notes: list[str] = []
    for container in use.containers:
        gap = _gap(container, client, document, seen)
        if gap is not None and gap.level == "n":
            return None  # the client drops the whole <style> or at-rule: that is the finding
        if gap is not None:
            container_notes += gap.notes
    for element in use.elements:
        for hider in element.hidden_by():
            if hider is not use and _gap(hider, client, document, seen) is None:
                return None  # hidden there: what it carries does not show
    if level == "a" and notes:
        notes = [note for note in notes if _concerns(note, use, document)]
        if any(_NON_GOOGLE.search(note) for note in container_notes):
            notes = [note for note in notes if not _NON_GOOGLE.search(note)]
        if not notes:
            return None
    return Gap(client, level, tuple(notes))


def _outlook_has_its_own(use: Use) -> bool:
    """What MJML writes for Outlook alone, or what Outlook lays out by such a stand-in."""
    if use.for_outlook:
        return True
    if any(_has_stand_in(element) for element in use.elements):
        return True
    alternatives = OUTLOOK_ALTERNATIVES.get(use.slug, ())
    return any(re.search(rf"(?<![\w-]){name}\s*:", use.block, re.IGNORECASE) for name in alternatives)


def _asks_for_the_default(use: Use) -> bool:
    if use.slug == "css-display" and use.elements:
        return all(DISPLAY.get(element.tag, "inline") == use.value.strip() for element in use.elements)
    pattern = DEFAULTS.get(use.slug)
    return bool(pattern) and re.fullmatch(pattern, use.value.strip()) is not None


def _has_stand_in(element: Element) -> bool:
    """An element followed directly by one written for Outlook alone (MJML's divider: a <p>
    with a border, then the same line as a table inside <!--[if mso]>)."""
    if element.for_outlook or element.parent is None:
        return False
    siblings = element.parent.children
    index = siblings.index(element)
    return index + 1 < len(siblings) and siblings[index + 1].for_outlook


# --- findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One feature the e-mail uses that some of the clients lack."""

    slug: str
    title: str  # caniemail's name for it
    url: str
    details: tuple[str, ...]  # its uses that some client lacks, as written, by line
    line: int  # the first of them
    gaps: tuple[Gap, ...]  # in the order of CLIENTS


def check(html: str) -> list[Finding]:
    """Every feature of ``html`` that a client of :data:`CLIENTS` lacks, by first line."""
    from commsflow.email_features import read

    by_slug: dict[str, dict] = {}
    for outlook in (True, False):
        document = read(html, _tables(), outlook=outlook)
        clients = [OUTLOOK] if outlook else [client for client in CLIENTS if client is not OUTLOOK]
        seen: dict = {}
        for use in document.uses:
            lacking = _lacking(use.slug)
            for client in clients:
                if client.key not in lacking:
                    continue
                gap = _gap(use, client, document, seen)
                if gap is None:
                    continue
                entry = by_slug.setdefault(use.slug, {"uses": [], "gaps": {}})
                entry["uses"].append(use)
                known = entry["gaps"].get(client.key)
                if known is None or (gap.level == "n" and known.level == "a"):
                    entry["gaps"][client.key] = gap
                elif gap.level == known.level:
                    notes = tuple(dict.fromkeys(known.notes + gap.notes))
                    entry["gaps"][client.key] = Gap(client, gap.level, notes)
    found = []
    for slug, entry in by_slug.items():
        uses = sorted(entry["uses"], key=lambda use: use.line)
        details = tuple(dict.fromkeys(use.detail for use in uses))
        feature = features()[slug]
        gaps = tuple(entry["gaps"][client.key] for client in CLIENTS if client.key in entry["gaps"])
        found.append(Finding(slug, feature["title"], feature["url"], details, uses[0].line, gaps))
    return sorted(found, key=lambda finding: (finding.line, finding.slug))


# --- the data ---------------------------------------------------------------------------------


def latest(results: dict[str, str]) -> tuple[str, str]:
    """(version, result) of the newest test among caniemail's results for one client.

    Versions are years (Outlook: "2019"), months ("2024-05") or app versions ("16.2"),
    sometimes mixed within one client; they are compared number by number, which orders
    each kind as intended and puts a dated test after the old version-numbered ones."""
    version = max(results, key=lambda name: tuple(int(part) for part in re.findall(r"\d+", name)))
    return version, results[version]


def trim(raw: dict) -> dict:
    """caniemail's full data (its ``api.json``) cut down to what :func:`check` reads: every
    feature, the newest result for each of :data:`CLIENTS` and the notes those results cite."""
    features = {}
    for feature in raw["data"]:
        support, cited = {}, {}
        notes = feature.get("notes_by_num") or {}
        for client in CLIENTS:
            results = feature["stats"].get(client.family, {}).get(client.platform)
            if not results:
                continue
            version, result = latest(results)
            support[client.key] = [version, result]
            for number in re.findall(r"#(\d+)", result):
                if number in notes:
                    cited[number] = notes[number]
        features[feature["slug"]] = {
            "title": feature["title"].strip(),
            "category": feature["category"],
            "url": feature["url"],
            "last_test_date": feature.get("last_test_date"),
            "support": support,
            "notes": dict(sorted(cited.items(), key=lambda entry: int(entry[0]))),
        }
    return {
        "source": "https://www.caniemail.com/api/data.json",
        "api_version": raw.get("api_version"),
        "last_update_date": raw.get("last_update_date"),
        "clients": [client.key for client in CLIENTS],
        "features": dict(sorted(features.items())),
    }


def vendor(source: str | Path, target: Path = DATA) -> None:
    """Write :func:`trim` of caniemail's full data file ``source`` to ``target`` (a developer's
    step when the data is updated: see commsflow/data/README.md)."""
    raw = json.loads(Path(source).read_text(encoding="utf-8"))
    text = json.dumps(trim(raw), ensure_ascii=False, indent=1)
    text = re.sub(r'\[\n\s*("[^"\n]*"),\n\s*("[^"\n]*")\n\s*\]', r"[\1, \2]", text)  # [version, result] on one line
    target.write_text(text + "\n", encoding="utf-8")

"""What an e-mail's HTML uses, in caniemail's terms: elements, attributes, CSS properties,
values, at-rules and selectors, each as a :class:`Use` of one caniemail feature (its slug).

:func:`read` parses the HTML with the standard library's parser and the CSS with tinycss2,
as one client reads it: Outlook for Windows (``outlook=True``: conditional comments
evaluated for it, :data:`MSO_VERSION`) or any other (conditional comments are comments).
Which feature a property, value or element is comes from the titles in caniemail's data
(:class:`Tables`, made from :func:`commsflow.email_support.features`), completed by the few
tables below.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser

import tinycss2

# Conditional comments are evaluated for Outlook 2016 to 2024 (all "mso 16").
MSO_VERSION = 16
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# <!--[if …]>…<![endif]--> (shown only where the condition holds) and
# <!--[if …]><!-->…<!--<![endif]--> (shown everywhere but where it fails).
_CONDITIONAL = re.compile(
    r"<!--\[if\s+(?P<condition>[^\]]*)\]>(?P<revealed><!-->)?(?P<body>.*?)(?(revealed)<!--)<!\[endif\]-->",
    re.DOTALL | re.IGNORECASE,
)
_FOR_OUTLOOK, _END_FOR_OUTLOOK = "commsflow:mso", "commsflow:/mso"  # marks what only Outlook reads

# Properties of features whose title is not the property's name.
_MORE_PROPERTIES = {
    "css-color-scheme": ("color-scheme",),
    "css-padding": ("padding-top", "padding-right", "padding-bottom", "padding-left"),
    "css-border-radius": tuple(f"border-{y}-{x}-radius" for y in ("top", "bottom") for x in ("left", "right")),
    "css-outline": ("outline-color", "outline-style", "outline-width"),
    "css-overflow": ("overflow-x", "overflow-y"),
    "css-flex-direction": ("flex-direction",),
    "css-flex-wrap": ("flex-wrap",),
    "css-scroll-snap": ("scroll-snap-type", "scroll-snap-align", "scroll-snap-stop"),
    "css-animation": tuple(
        f"animation-{name}"
        for name in ("name", "duration", "timing-function", "delay", "iteration-count", "direction", "fill-mode")
    ),
    "css-transition": tuple(f"transition-{name}" for name in ("property", "duration", "timing-function", "delay")),
}
# Features whose keywords in caniemail's data are the properties they cover.
_KEYWORDS_ARE_PROPERTIES = frozenset(
    {
        "css-border",
        "css-margin",
        "css-inset",
        "css-column-layout-properties",
        "css-grid-template",
        "css-border-inline-block",
        "css-border-inline-block-individual",
        "css-border-inline-block-longhand",
        "css-border-radius-logical",
        "css-block-inline-size",
        "css-margin-block-start-end",
        "css-margin-inline-block",
        "css-margin-inline-start-end",
        "css-padding-block-start-end",
        "css-padding-inline-block",
        "css-padding-inline-start-end",
    }
)
# Values that are features of their own.
_DISPLAY = {"flex": "css-display-flex", "inline-flex": "css-display-flex", "grid": "css-display-grid"}
_DISPLAY |= {"inline-grid": "css-display-grid", "none": "css-display-none"}
_KEYWORDS = {
    "initial": "css-unit-initial",
    **dict.fromkeys(("system-ui", "ui-serif", "ui-sans-serif", "ui-rounded", "ui-monospace"), "css-sytem-ui"),
    **dict.fromkeys(("fit-content", "min-content", "max-content"), "css-intrinsic-size"),
}
_FUNCTIONS = {
    "calc": "css-unit-calc",
    "var": "css-variables",
    **dict.fromkeys(("lch", "oklch", "lab", "oklab"), "css-modern-color"),
}
_MEDIA_FEATURES = {
    "prefers-color-scheme": "css-at-media-prefers-color-scheme",
    "prefers-reduced-motion": "css-at-media-prefers-reduced-motion",
    "orientation": "css-at-media-orientation",
    "hover": "css-at-media-hover",
    "any-hover": "css-at-media-hover",
    "device-pixel-ratio": "css-at-media-device-pixel-ratio",
}
_AT_RULES = {
    "media": "css-at-media",
    "font-face": "css-at-font-face",
    "import": "css-at-import",
    "keyframes": "css-at-keyframes",
    "supports": "css-at-supports",
}
_IMAGE_FORMATS = {
    "apng": "image-apng",
    "avif": "image-avif",
    "bmp": "image-bmp",
    "gif": "image-gif",
    "heic": "image-heif",
    "heif": "image-heif",
    "ico": "image-ico",
    "jpeg": "image-jpg",
    "jpg": "image-jpg",
    "png": "image-png",
    "svg": "image-svg",
    "svg+xml": "image-svg",
    "tif": "image-tiff",
    "tiff": "image-tiff",
    "webp": "image-webp",
}
_SEMANTIC = "article aside details figcaption figure footer header main mark nav section summary time".split()
_ELEMENTS = {
    **{f"h{level}": "html-h1-h6" for level in range(1, 7)},
    **dict.fromkeys(("ul", "ol", "dl"), "html-lists"),
    **dict.fromkeys(_SEMANTIC, "html-semantics"),
    "address": "html-address",
    "map": "html-image-maps",
}
_ATTRIBUTES = {"srcset": "html-srcset", "sizes": "html-srcset", "inert": "css-inert-attribute"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    line: int
    for_outlook: bool = False  # written inside <!--[if mso]>: MJML's layout for Outlook alone
    in_body: bool = False
    children: list[Element] = field(default_factory=list)
    has_table: bool = False  # a <table> inside it
    hiding: list[Use] = field(default_factory=list)  # its display:none, in its style attribute

    @cached_property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    @property
    def laid_out_for_outlook(self) -> bool:
        """Written for Outlook alone, or wrapped in a table that is (MJML's ghost table)."""
        return self.for_outlook or (self.parent is not None and self.parent.for_outlook)

    def hidden_by(self) -> list[Use]:
        """The display:none of this element and of those around it."""
        found, element = [], self
        while element is not None:
            found += element.hiding
            element = element.parent
        return found


@dataclass(eq=False)
class Use:
    """One use of one feature: where, on what, as written."""

    slug: str
    detail: str  # as written: "display:flex", "<div>", 'target="_blank"', "@media screen …"
    line: int
    elements: tuple[Element, ...] = ()  # what it applies to (none: the document)
    value: str = ""  # a declaration's value or an attribute's, lowercased
    block: str = ""  # the declarations or the element's CSS it stands in, as written
    inline: bool = False  # in a style attribute
    containers: tuple[Use, ...] = ()  # the <style> and at-rules around it
    for_outlook: bool = False  # only for what Outlook has its own layout for
    covered_by: tuple[Use, ...] = ()  # more precise uses: where one of them fails, this one is no finding

    @property
    def in_body(self) -> bool:
        return any(element.in_body for element in self.elements)


@dataclass
class Document:
    uses: list[Use]
    elements: list[Element]
    text: str  # what a reader sees


class Unreadable(ValueError):
    """HTML the standard library's parser gives up on (a broken ``<![…]>`` declaration)."""


def read(html: str, tables: Tables, *, outlook: bool) -> Document:
    """The uses in ``html`` as Outlook for Windows (``outlook``) or any other client reads it."""
    reader = _Reader(tables)
    try:
        reader.feed(_outlook_view(html) if outlook else html)
        reader.close()
    except AssertionError as exc:  # _markupbase's way of refusing a declaration
        raise Unreadable(str(exc)) from None
    return reader.document()


def _outlook_view(html: str) -> str:
    """The HTML as Outlook's Word engine reads it: conditional comments opened or dropped,
    what they hold only for Outlook marked, every line where it was."""

    def replace(match: re.Match) -> str:
        keep = _condition(match["condition"])
        body = match["body"]
        if not keep:
            return "\n" * match[0].count("\n")
        if match["revealed"]:
            return body
        return f"<!--{_FOR_OUTLOOK}-->{body}<!--{_END_FOR_OUTLOOK}-->"

    return _CONDITIONAL.sub(replace, html)


_CONDITION_TOKEN = re.compile(r"\s*(\(|\)|!|\||&|\b(?:lte|lt|gte|gt)\b|\bmso\b|\bie\b|\btrue\b|\bfalse\b|[\d.]+)", re.I)


def _condition(text: str) -> bool:
    """A conditional comment's condition for Outlook (mso :data:`MSO_VERSION`, not IE).
    Something it cannot read counts as false: what it guards is not Outlook's."""
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _CONDITION_TOKEN.match(text, position)
        if not match:
            return False
        tokens.append(match[1].lower())
        position = match.end()
    try:
        value, rest = _disjunction(tokens)
    except (IndexError, ValueError):
        return False
    return value if not rest else False


def _disjunction(tokens: list[str]) -> tuple[bool, list[str]]:
    value, tokens = _conjunction(tokens)
    while tokens and tokens[0] == "|":
        other, tokens = _conjunction(tokens[1:])
        value = value or other
    return value, tokens


def _conjunction(tokens: list[str]) -> tuple[bool, list[str]]:
    value, tokens = _term(tokens)
    while tokens and tokens[0] == "&":
        other, tokens = _term(tokens[1:])
        value = value and other
    return value, tokens


def _term(tokens: list[str]) -> tuple[bool, list[str]]:
    head = tokens[0]
    if head == "!":
        value, rest = _term(tokens[1:])
        return not value, rest
    if head == "(":
        value, rest = _disjunction(tokens[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced")
        return value, rest[1:]
    if head in ("true", "false"):
        return head == "true", tokens[1:]
    comparison = None
    if head in ("lt", "lte", "gt", "gte"):
        comparison, tokens = head, tokens[1:]
    product, tokens = tokens[0], tokens[1:]
    if product not in ("mso", "ie"):
        raise ValueError(product)
    version = None
    if tokens and re.fullmatch(r"[\d.]+", tokens[0]):
        version, tokens = float(tokens[0]), tokens[1:]
    if product == "ie":
        return False, tokens
    if version is None:
        return comparison is None, tokens
    ours = MSO_VERSION
    result = {
        None: ours == version,
        "lt": ours < version,
        "lte": ours <= version,
        "gt": ours > version,
        "gte": ours >= version,
    }[comparison]
    return result, tokens


# --- which feature a name is -------------------------------------------------------------------


@dataclass
class Tables:
    """Which feature each property, function, unit, element and attribute name is."""

    properties: dict[str, tuple[str, ...]]
    functions: dict[str, str]
    units: dict[str, str]
    elements: dict[str, str]
    attributes: dict[str, str]
    pseudo: set[str]
    known: set[str]
    styles: dict[str, list] = field(default_factory=dict, repr=False)  # style attribute → its features

    @classmethod
    def of(cls, slugs: dict) -> Tables:
        """From caniemail's features by slug (their titles, categories and keywords)."""
        properties: dict[str, list[str]] = defaultdict(list)
        functions, units, elements, attributes = dict(_FUNCTIONS), {}, dict(_ELEMENTS), dict(_ATTRIBUTES)
        for slug, feature in slugs.items():
            title = feature["title"].strip()
            if feature["category"] == "css":
                names = [
                    part
                    for part in re.split(r"\s*[,&]\s*", re.sub(r" (?:CSS )?(?:property|shorthand)$", "", title))
                    if re.fullmatch(r"-?[a-z][a-z-]*", part)
                ]
                if slug.startswith(("css-unit-", "css-pseudo-", "css-selector-", "css-at-", "css-function-")):
                    names = []
                if slug in ("css-intrinsic-size", "css-sytem-ui", "css-inert-attribute"):
                    names = []
                if slug in _KEYWORDS_ARE_PROPERTIES:
                    names += [word.strip() for word in (feature.get("keywords") or "").split(",")]
                names += _MORE_PROPERTIES.get(slug, ())
                for name in dict.fromkeys(names):
                    if name:
                        properties[name].append(slug)
                for name in re.findall(r"([a-z-]+)\(\)", title):
                    functions.setdefault(name, slug)
                unit = re.fullmatch(r"(\S+) unit", title)
                if unit and unit[1] != "initial":
                    units[unit[1]] = slug
            elif feature["category"] == "html" and "=" not in title:
                for tag in re.findall(r"<(\w+)>", title):
                    elements.setdefault(tag, slug)
                attribute = re.fullmatch(r"([a-z-]+) attribute", title)
                if attribute:
                    attributes[attribute[1]] = slug
        pseudo = {slug for slug in slugs if slug.startswith("css-pseudo-")}
        return cls(
            {name: tuple(found) for name, found in properties.items()},
            functions,
            units,
            elements,
            attributes,
            pseudo,
            set(slugs),
        )


# --- reading the HTML ----------------------------------------------------------------------------


class _Reader(HTMLParser):
    def __init__(self, tables: Tables):
        super().__init__(convert_charrefs=True)
        self.tables = tables
        self.uses: list[Use] = []
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.for_outlook = 0
        self.styles: list[tuple[Element, Use, list[str]]] = []
        self.text: list[str] = []
        self._index: dict[str, list[Element]] | None = None

    def use(self, slug: str, detail: str, line: int, **more) -> Use | None:
        if slug not in self.tables.known:
            return None
        found = Use(slug, detail, line, **more)
        self.uses.append(found)
        return found

    # HTMLParser's events

    def parse_html_declaration(self, i: int) -> int:
        """A ``<![endif]>`` or other marked section outside a comment: skipped, as browsers do."""
        if self.rawdata.startswith("<![", i) and not self.rawdata.startswith("<![CDATA[", i):
            end = self.rawdata.find(">", i)
            return end + 1 if end >= 0 else len(self.rawdata)
        return super().parse_html_declaration(i)

    def handle_decl(self, decl: str) -> None:
        if decl.lower().split() == ["doctype", "html"]:
            self.use("html-doctype", f"<!{decl}>", self.getpos()[0])

    def handle_comment(self, data: str) -> None:
        if data == _FOR_OUTLOOK:
            self.for_outlook += 1
        elif data == _END_FOR_OUTLOOK:
            self.for_outlook = max(0, self.for_outlook - 1)
        elif not self.for_outlook:
            self.use("html-comments", "<!-- … -->", self.getpos()[0])

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._start(tag, attrs, void=tag in _VOID)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self._start(tag, attrs, void=True)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1].tag == "style" and self.styles and self.styles[-1][0] is self.stack[-1]:
            self.styles[-1][2].append(data)
        elif not self.stack or self.stack[-1].tag not in ("script", "title"):
            self.text.append(data)

    # elements and attributes

    def _start(self, tag: str, attrs: list, *, void: bool) -> None:
        line = self.getpos()[0]
        attributes = {name: value or "" for name, value in attrs}
        parent = self.stack[-1] if self.stack else None
        element = Element(
            tag,
            attributes,
            parent,
            line,
            for_outlook=self.for_outlook > 0,
            in_body=tag == "body" or (parent is not None and parent.in_body),
        )
        if parent is not None:
            parent.children.append(element)
        if tag == "table":
            ancestor = parent
            while ancestor is not None:
                ancestor.has_table = True
                ancestor = ancestor.parent
        self.elements.append(element)
        on = {"elements": (element,), "for_outlook": element.laid_out_for_outlook}
        slug = self.tables.elements.get(tag)
        if slug:
            self.use(slug, f"<{tag}>", line, **on)
        for name, value in attributes.items():
            self._attribute(element, name, value, on)
        style = attributes.get("style")
        if style:
            for slug, detail, offset, value in self._style_attribute(style):
                made = self.use(slug, detail, line + offset, block=style, value=value, inline=True, **on)
                if made is not None and slug == "css-display-none":
                    element.hiding.append(made)
        if tag == "style":
            found = self.use("html-style", "<style>", line, **on)
            self.styles.append((element, found, []))
        if not void:
            self.stack.append(element)

    def _attribute(self, element: Element, name: str, value: str, on: dict) -> None:
        tag, line = element.tag, element.line
        slug = self.tables.attributes.get(name)
        if slug:
            self.use(slug, f'{name}="{value}"', line, value=value.strip().lower(), **on)
        if tag == "a" and name == "href":
            if value.startswith("#"):
                self.use("html-anchor-links", f'href="{value}"', line, **on)
            elif value.lower().startswith("mailto:"):
                self.use("html-mailto-links", 'href="mailto:…"', line, **on)
        if tag == "meta" and name == "name" and value.lower() == "color-scheme":
            self.use("html-meta-color-scheme", '<meta name="color-scheme">', line, **on)
        if tag in ("input", "button") and name == "type":
            self.use(f"html-{tag}-{value.lower()}", f'<{tag} type="{value}">', line, **on)
        if tag == "html" and name in ("amp4email", "⚡4email"):
            self.use("amp", f"<html {name}>", line, **on)
        urls = []
        if name == "src" and tag == "img":
            urls.append(value)
        if name == "srcset":
            urls += [candidate.split()[0] for candidate in value.split(",") if candidate.strip()]
        for url in urls:
            self._image(url, line, on)

    def _image(self, url: str, line: int, on: dict) -> None:
        url = url.strip()
        data = re.match(r"data:image/([^;,]+)", url, re.IGNORECASE)
        if data:
            self.use("image-base64", "data:image/…", line, **on)
            extension = data[1].lower()
        else:
            found = re.search(r"\.([a-z0-9]+)$", re.split(r"[?#]", url, maxsplit=1)[0], re.IGNORECASE)
            extension = found[1].lower() if found else ""
        slug = _IMAGE_FORMATS.get(extension)
        if slug:
            self.use(slug, url if not data else "data:image/…", line, **on)

    # CSS

    def _declarations(self, nodes, block: str, line: int, *, first_line: int = 1, **on) -> list[Use]:
        """The uses in a list of declarations (a style attribute or a rule's block)."""
        found = []
        for slug, detail, offset, value in self._features_of(nodes, first_line):
            made = self.use(slug, detail, line + offset, block=block, value=value, **on)
            if made is not None:
                found.append(made)
        return found

    def _style_attribute(self, text: str) -> list[tuple[str, str, int, str]]:
        """The features of a style attribute (MJML writes the same ones many times)."""
        known = self.tables.styles.get(text)
        if known is None:
            known = self.tables.styles[text] = self._features_of(tinycss2.parse_blocks_contents(text), 1)
        return known

    def _features_of(self, nodes, first_line: int) -> list[tuple[str, str, int, str]]:
        """(slug, declaration as written, line offset, value) of each feature in declarations."""
        found = []
        for node in nodes:
            offset = getattr(node, "source_line", first_line) - first_line
            if node.type == "comment":
                found.append(("css-comments", "/* … */", offset, ""))
                continue
            if node.type != "declaration":
                continue
            name = node.lower_name
            value = tinycss2.serialize(node.value).strip()
            detail = f"{name}:{value}"
            folded = value.lower()
            if name.startswith("--"):
                slugs = ["css-variables"]
            elif name == "display" and folded in _DISPLAY:
                slugs = [_DISPLAY[folded]]
            else:
                slugs = list(self.tables.properties.get(name, ()))
            for slug in dict.fromkeys(slugs + self._value_features(node.value)):
                found.append((slug, detail, offset, folded))
            if node.important:
                found.append(("css-important", f"{detail} !important", offset, folded))
        return found

    def _value_features(self, tokens) -> list[str]:
        found = []
        for token in tokens:
            kind = token.type
            if kind == "function":
                name = token.lower_name
                slug = self.tables.functions.get(name)
                if slug:
                    found.append(slug)
                if name == "url":
                    found += self._url_features(tinycss2.serialize(token.arguments).strip(" '\""))
                found += self._value_features(token.arguments)
            elif kind == "url":
                found += self._url_features(token.value)
            elif kind == "dimension" and token.lower_unit in self.tables.units:
                found.append(self.tables.units[token.lower_unit])
            elif kind == "percentage" and "%" in self.tables.units:
                found.append(self.tables.units["%"])
            elif kind == "ident" and token.lower_value in _KEYWORDS:
                found.append(_KEYWORDS[token.lower_value])
        return found

    def _url_features(self, url: str) -> list[str]:
        data = re.match(r"data:image/([^;,]+)", url, re.IGNORECASE)
        if data:
            return ["image-base64", *filter(None, [_IMAGE_FORMATS.get(data[1].lower())])]
        found = re.search(r"\.([a-z0-9]+)$", re.split(r"[?#]", url, maxsplit=1)[0], re.IGNORECASE)
        slug = _IMAGE_FORMATS.get(found[1].lower()) if found else None
        return [slug] if slug else []

    def document(self) -> Document:
        for element, style_use, parts in self.styles:
            css = "".join(parts)
            containers = ()
            if style_use is not None:
                style_use.block = css
                containers = (style_use,)
            rules = tinycss2.parse_stylesheet(css, skip_comments=False, skip_whitespace=True)
            self._rules(rules, element.line, containers, element.for_outlook)
        return Document(self.uses, self.elements, "".join(self.text))

    def _rules(self, rules, line: int, containers: tuple, for_outlook: bool) -> bool:
        """The uses of a list of rules; true if each applies only to what Outlook lays out by
        itself (so that an at-rule holding them is no finding for Outlook either)."""
        all_for_outlook, any_rule = True, False
        for rule in rules:
            where = line + rule.source_line - 1
            if rule.type == "comment":
                self.use("css-comments", "/* … */", where, containers=containers, for_outlook=for_outlook)
            elif rule.type == "qualified-rule":
                applies = self._rule(rule, where, containers, for_outlook)
                if applies is not None:
                    any_rule = True
                    all_for_outlook = all_for_outlook and applies
            elif rule.type == "at-rule":
                any_rule = True
                all_for_outlook = self._at_rule(rule, where, containers, for_outlook, line) and all_for_outlook
        return any_rule and all_for_outlook

    def _at_rule(self, rule, where: int, containers: tuple, for_outlook: bool, line: int) -> bool:
        """The uses of an at-rule and of the rules inside it; true if it is for Outlook alone."""
        name = rule.lower_at_keyword
        prelude = " ".join(tinycss2.serialize(rule.prelude).split())
        detail = f"@{name} {prelude}".strip()
        slug = _AT_RULES.get(name)
        outer = self.use(slug, detail, where, value=prelude.lower(), containers=containers) if slug else None
        inner = containers + ((outer,) if outer else ())
        if name == "media":
            for feature, feature_slug in _MEDIA_FEATURES.items():
                if re.search(rf"(?<![\w-])(?:-webkit-)?(?:min-|max-)?{feature}\b", prelude.lower()):
                    made = self.use(feature_slug, detail, where, value=prelude.lower(), containers=containers)
                    if made is not None:
                        inner += (made,)
                        if outer is not None:  # where the media feature fails, that is the finding
                            outer.covered_by += (made,)
        if name in ("media", "supports") and rule.content is not None:
            nested = tinycss2.parse_rule_list(rule.content, skip_comments=False, skip_whitespace=True)
            handled = self._rules(nested, line, inner, for_outlook) or for_outlook
        else:
            handled = for_outlook
        for made in inner[len(containers) :]:
            made.for_outlook = handled
        return handled

    def _candidates(self, selectors) -> list[Element]:
        """The elements a selector list could select, by the class or tag of each subject."""
        if self._index is None:
            self._index = defaultdict(list)
            for element in self.elements:
                self._index[element.tag].append(element)
                for name in dict.fromkeys(element.classes):
                    self._index["." + name].append(element)
        found: dict[int, Element] = {}
        for parts in selectors:
            subject = parts[-1][1]
            if subject.classes:
                pool = self._index.get("." + subject.classes[0], [])
            elif subject.tag:
                pool = self._index.get(subject.tag, [])
            else:
                pool = self.elements
            for element in pool:
                found[id(element)] = element
        order = {id(element): index for index, element in enumerate(self.elements)}
        return sorted(found.values(), key=lambda element: order[id(element)])

    def _rule(self, rule, where: int, containers: tuple, for_outlook: bool) -> bool | None:
        """The uses of one style rule; None if it applies to nothing in the e-mail."""
        selectors = _selectors(rule.prelude)
        if selectors is None:
            matched: list[Element] = []
            parsed = False
        else:
            memo: dict = {}
            matched = [
                element
                for element in self._candidates(selectors)
                if any(_match_from(parts, len(parts) - 1, element, memo) for parts in selectors)
            ]
            parsed = True
            if not matched:
                return None
        handled = for_outlook or (parsed and all(element.laid_out_for_outlook for element in matched))
        text = " ".join(tinycss2.serialize(rule.prelude).split())
        on = {"elements": tuple(matched), "containers": containers, "for_outlook": handled}
        for slug in _selector_features(selectors, self.tables):
            self.use(slug, text, where, **on)
        body = tinycss2.serialize(rule.content)
        self._declarations(
            tinycss2.parse_blocks_contents(rule.content),
            f"{text} {{{body}}}",
            where,
            first_line=rule.source_line,
            **on,
        )
        return handled


# --- selectors -----------------------------------------------------------------------------------


@dataclass
class _Compound:
    tag: str | None = None
    ids: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    pseudo: list[str] = field(default_factory=list)  # "hover", ":before", "nth-child("
    universal: bool = False
    nesting: bool = False

    def empty(self) -> bool:
        return not (self.tag or self.ids or self.classes or self.attributes or self.pseudo or self.universal)


def _selectors(prelude) -> list[list[tuple[str, _Compound]]] | None:
    """Each selector of a rule as (combinator, compound) pairs, left to right; None when it
    is beyond this small reader."""
    groups: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    found = []
    for tokens in groups:
        parts: list[tuple[str, _Compound]] = [("", _Compound())]
        space = False
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            current = parts[-1][1]
            if kind in ("whitespace", "comment"):
                space = True
                index += 1
                continue
            if kind == "literal" and token.value in (">", "+", "~"):
                parts.append((token.value, _Compound()))
                space = False
                index += 1
                continue
            if space and not current.empty():
                parts.append((" ", _Compound()))
                current = parts[-1][1]
            space = False
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if kind == "ident":
                current.tag = token.lower_value
            elif kind == "hash":
                current.ids.append(token.value)
            elif kind == "[] block":
                names = [t.lower_value for t in token.content if t.type == "ident"]
                if not names:
                    return None
                current.attributes.append(names[0])
            elif kind == "literal" and token.value == "*":
                current.universal = True
            elif kind == "literal" and token.value == "&":
                current.nesting = True
            elif kind == "literal" and token.value == "." and following is not None and following.type == "ident":
                current.classes.append(following.value)
                index += 1
            elif kind == "literal" and token.value == ":":
                element = following is not None and following.type == "literal" and following.value == ":"
                if element:
                    index += 1
                    following = tokens[index + 1] if index + 1 < len(tokens) else None
                if following is None or following.type not in ("ident", "function"):
                    return None
                name = following.lower_value if following.type == "ident" else following.lower_name + "("
                current.pseudo.append((":" if element else "") + name)
                index += 1
            else:
                return None
            index += 1
        if any(compound.empty() and not compound.nesting for _, compound in parts):
            return None
        found.append(parts)
    return found


def _selector_features(selectors, tables: Tables) -> list[str]:
    """The selector features of a rule: combinators, kinds of simple selectors, pseudo-classes."""
    found = []
    if selectors is None:
        return found
    if len(selectors) > 1:
        found.append("css-selector-grouping")
    combinators = {" ": "css-selector-descendant", ">": "css-selector-child"}
    combinators |= {"+": "css-selector-adjacent-sibling", "~": "css-selector-general-sibling"}
    for parts in selectors:
        for combinator, compound in parts:
            if combinator:
                found.append(combinators[combinator])
            if compound.tag:
                found.append("css-selector-type")
            if compound.universal:
                found.append("css-selector-universal")
            if compound.ids:
                found.append("css-selector-id")
            if compound.classes:
                found.append("css-selector-class")
            if len(compound.classes) > 1:
                found.append("css-selector-chaining")
            if any(name not in ("class", "id") for name in compound.attributes):
                found.append("css-selector-attribute")
            if compound.nesting:
                found.append("css-nesting")
            for pseudo in compound.pseudo:
                name = pseudo.strip(":(")
                slug = f"css-pseudo-element-{name}" if pseudo.startswith(":") else f"css-pseudo-class-{name}"
                if slug in tables.pseudo:
                    found.append(slug)
    return list(dict.fromkeys(found))


def _match_from(parts, index: int, element: Element, memo: dict) -> bool:
    """Whether the selector's parts up to ``index`` could select ``element`` (states such as
    :hover assumed); ``memo`` keeps what one rule found."""
    key = (id(parts), index, id(element))
    if key not in memo:
        memo[key] = _match(parts, index, element, memo)
    return memo[key]


def _match(parts, index: int, element: Element, memo: dict) -> bool:
    combinator, compound = parts[index]
    if not _compound_matches(compound, element):
        return False
    if index == 0:
        return True
    if combinator == " ":
        ancestor = element.parent
        while ancestor is not None:
            if _match_from(parts, index - 1, ancestor, memo):
                return True
            ancestor = ancestor.parent
        return False
    if combinator == ">":
        return element.parent is not None and _match_from(parts, index - 1, element.parent, memo)
    siblings = element.parent.children if element.parent is not None else []
    before = siblings[: siblings.index(element)] if element in siblings else []
    if combinator == "+":
        return bool(before) and _match_from(parts, index - 1, before[-1], memo)
    return any(_match_from(parts, index - 1, sibling, memo) for sibling in before)


def _compound_matches(compound: _Compound, element: Element) -> bool:
    if compound.nesting:
        return True
    if compound.tag and compound.tag != element.tag:
        return False
    if any(element.attrs.get("id") != name for name in compound.ids):
        return False
    classes = element.classes
    if any(name not in classes for name in compound.classes):
        return False
    return all(name in element.attrs for name in compound.attributes)

"""LinkedIn drafts as files: the text as it will read (Markdown) and the Posts API request (JSON).

Every planned draft is rendered from its kind's template in ``templates/linkedin/`` (or
the item's own wording from its ``linkedin:`` front matter), then checked: LinkedIn's
3,000-character limit, the claim in the first 210 characters (what the feed shows
before „…mehr“), at most five hashtags, alt text for an image. The JSON file is the
exact body of ``POST https://api.linkedin.com/rest/posts``; its commentary is written
in LinkedIn's "little text" format, where reserved characters carry a backslash.
"""

from __future__ import annotations

import functools
import json
import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from commsflow import markdown
from commsflow.assemblers.linkedin import Planned
from commsflow.config import CONFIG_FILE, Config
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.frontmatter import SourceError, line_finder_for_file
from commsflow.i18n import N_, _, ngettext
from commsflow.library import Library
from commsflow.links import is_own, item_url, link_problem, with_utm
from commsflow.media import ImageRefused, is_local, local_image
from commsflow.model import Item
from commsflow.renderers.templating import environment, render
from commsflow.stats import Figures

COMMENTARY_LIMIT = 3000  # characters LinkedIn accepts in a post
FEED_CUT = 210  # characters the feed shows before „…mehr“
HASHTAG_LIMIT = 5
SUMMARY_LIMIT = 300  # characters of body text used when an item has no summary
TEMPLATES = "linkedin"
POSTS_API = "https://api.linkedin.com/rest/posts"

# The warning that the feed's first characters lack the claim: lint reports it again (claim_missing).
CLAIM_MISSING = N_("the first {cut} characters (what the feed shows before „…mehr“) do not contain {claim!r}")

# Which own-wording field of the ``linkedin:`` block an event kind reads before ``text``.
_KIND_FIELDS = {"save-the-date": "save_the_date", "reminder": "reminder", "recap": "recap"}


# --- LinkedIn's "little text" format -----------------------------------------------------------

_RESERVED = re.compile(r"[|{}@\[\]()<>#\\*_~]")
_ESCAPED = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")
# A hashtag: '#' at the start or after whitespace, then letters and digits, at least one letter.
_HASHTAG = r"(?<!\S)#(?=[^\W_]*[^\W\d_])[^\W_]+"
# A mention: @[Name](urn:li:organization:123) or @[Name](urn:li:person:AbC123).
_MENTION = r"@\[[^\[\]\n]*\]\(urn:li:(?:organization|person):[0-9A-Za-z_-]+\)"
_KEPT = re.compile(f"{_MENTION}|{_HASHTAG}")
_HASHTAGS = re.compile(_HASHTAG)


def escape_little_text(text: str) -> str:
    """``text`` as LinkedIn's ``commentary``: every reserved character ``| { } @ [ ] ( ) < > #
    \\ * _ ~`` gets a backslash, except in real hashtags (``#CircularEconomy``) and mentions
    (``@[Name](urn:li:organization:123)``), which LinkedIn is meant to read as such."""
    parts, last = [], 0
    for match in _KEPT.finditer(text):
        parts.append(_RESERVED.sub(r"\\\g<0>", text[last : match.start()]))
        parts.append(match[0])
        last = match.end()
    parts.append(_RESERVED.sub(r"\\\g<0>", text[last:]))
    return "".join(parts)


def unescape_little_text(text: str) -> str:
    """The text as LinkedIn shows it: the backslashes of escaped characters removed."""
    return _ESCAPED.sub(r"\1", text)


def hashtags_in(text: str) -> list[str]:
    """The hashtags in ``text``, each once (case-insensitively), in order."""
    found: dict[str, str] = {}
    for tag in _HASHTAGS.findall(text):
        found.setdefault(tag.casefold(), tag)
    return list(found.values())


def hashtag(label: str) -> str | None:
    """A tag written as a hashtag: words joined in CamelCase, punctuation dropped, umlauts kept
    (``Circular Economy`` → ``#CircularEconomy``, ``3D-Druck`` → ``#3DDruck``); None when
    nothing usable is left (LinkedIn links no hashtag without a letter)."""
    label = re.sub(r"['’]", "", unicodedata.normalize("NFC", label))
    words = re.findall(r"[^\W_]+", label)
    tag = "".join(_capital(word) for word in words)
    if not any(character.isalpha() for character in tag):
        return None
    return "#" + tag


def _capital(word: str) -> str:
    first = word[0].upper()
    return (first if len(first) == 1 else word[0]) + word[1:]


def merge_hashtags(*groups, limit: int = HASHTAG_LIMIT, present: list[str] = ()) -> list[str]:
    """Hashtags from ``groups`` in order, de-duplicated case-insensitively, leaving out those
    already ``present`` in the text, cut so that text and list carry at most ``limit``."""
    seen = {tag.casefold() for tag in present}
    merged = []
    for group in groups:
        for label in group:
            tag = hashtag(label)
            if tag and tag.casefold() not in seen:
                seen.add(tag.casefold())
                merged.append(tag)
    return merged[: max(limit - len(present), 0)]


def claim_missing() -> re.Pattern:
    """The warning that the feed's first characters lack the claim (:data:`CLAIM_MISSING`),
    in the language messages are in now, as a pattern its messages match in full."""
    return _claim_missing_pattern(_(CLAIM_MISSING))


@functools.lru_cache(maxsize=4)
def _claim_missing_pattern(message: str) -> re.Pattern:
    """The warning's wording with its fields as wildcards; compiled once per language (lint asks for every job)."""
    pattern = "".join(
        re.escape(literal) + (".*" if name is not None else "")
        for literal, name, _spec, _conversion in string.Formatter().parse(message)
    )
    return re.compile(pattern, re.DOTALL)


def feed_cut(text: str, at: int = FEED_CUT) -> int | None:
    """Where the feed cuts ``text`` for „…mehr“: the last word boundary at or before ``at``;
    None when the whole text shows."""
    if len(text) <= at:
        return None
    for index in range(at, 0, -1):
        if text[index].isspace():
            return index
    return at


def as_feed_shows(text: str) -> dict:
    """``text`` as the feed shows it: ``before`` the „…mehr“ cut, ``after`` it (hidden until
    clicked; empty when the whole text shows) and its ``length``."""
    cut = feed_cut(text)
    return {"before": text[:cut] if cut else text, "after": text[cut:] if cut else "", "length": len(text)}


# --- rendering -----------------------------------------------------------------------------------


@dataclass
class Draft:
    planned: Planned
    text: str  # as it will read
    title: str  # of the linked page, for the article card
    description: str | None
    link: str | None  # with UTM parameters when it is on the own site
    image: dict | None  # {"src", "alt"}: uploaded to LinkedIn by the publisher
    claim: str
    source: str | None  # the item's file; None for the figures post
    status: str | None  # the item's workflow status; None for the figures post
    wording: str | None = None  # the front matter field its text is, when the item words it itself

    @property
    def kind(self) -> str:
        return self.planned.kind

    @property
    def name(self) -> str:
        return self.planned.name

    @property
    def draft(self) -> bool:
        return self.planned.draft

    @property
    def commentary(self) -> str:
        return escape_little_text(self.text)

    @property
    def hashtags(self) -> list[str]:
        return hashtags_in(self.text)

    @property
    def cut(self) -> int | None:
        return feed_cut(self.text)


@dataclass
class RenderedDrafts:
    drafts: list[Draft]
    problems: list[Problem] = field(default_factory=list)
    author: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def with_request(self, draft: Draft) -> bool:
        """Whether the draft gets its Posts API request body: an author is configured and
        the item is signed off (a request for an unapproved item must never wait in build/)."""
        return self.author is not None and not draft.draft


def folder(config: Config) -> Path:
    return config.path("build") / "linkedin"


class _Checks:
    """Collects problems for one draft, located in the item's file (or the template)."""

    def __init__(self, config: Config, source: str, item: Item | None, problems: list[Problem]):
        self.config, self.source, self.item, self.problems = config, source, item, problems
        self._lines = None

    def __call__(self, field_name: str | None, message: str, hint: str, severity=Severity.ERROR) -> None:
        line = self._line(tuple(field_name.split("."))) if field_name and self.item is not None else None
        self.problems.append(Problem(self.source, message, line=line, field=field_name, hint=hint, severity=severity))

    def _line(self, loc: tuple) -> int | None:
        if self._lines is None:
            try:
                self._lines = line_finder_for_file(self.config.root / self.item.path, self.item.path)
            except (OSError, SourceError):
                self._lines = lambda loc: None
        return self._lines(loc)


def render_drafts(
    planned: list[Planned],
    library: Library,
    config: Config,
    figures: Figures,
    *,
    now: datetime,
    source="linkedin",
    own_limit=None,
) -> RenderedDrafts:
    """``source``: the channel the posts go out on (its own wording, its own templates, the
    own site's links' utm_source); ``own_limit``: how that channel counts an item's own text
    for it and how much it shows, ``(count, limit, strict)`` — over it is an error when
    ``strict``, else a warning."""
    env = environment(config)
    problems: list[Problem] = []
    drafts = [_render_one(plan, library, config, figures, now, env, problems, source, own_limit) for plan in planned]
    author = config.social.linkedin_author
    if author is None and drafts:
        problems.append(
            Problem(
                CONFIG_FILE,
                _(
                    "no LinkedIn author configured: the Markdown drafts are written, the JSON request "
                    "bodies for the Posts API are not"
                ),
                field="social.linkedin_author",
                hint=_(
                    'set linkedin_author = "urn:li:organization:…" under [social] (the id of the '
                    "organisation's LinkedIn page)"
                ),
                severity=Severity.WARNING,
            )
        )
    unapproved = {draft.source: draft for draft in drafts if draft.draft}
    for draft in unapproved.values():
        problems.append(
            Problem(
                draft.source,
                _("{item!r} is {status} — its drafts are marked as Entwurf and get no JSON request body").format(
                    item=draft.planned.item_id, status=draft.status
                ),
                field="status",
                hint=_("approve it before it is planned"),
                severity=Severity.WARNING,
            )
        )
    return RenderedDrafts(drafts, problems, author)


def _render_one(
    plan: Planned,
    library: Library,
    config: Config,
    figures: Figures,
    now: datetime,
    env,
    problems: list[Problem],
    source: str = "linkedin",
    own_limit=None,
) -> Draft:
    item = plan.item
    template = f"{TEMPLATES}/{plan.kind}.txt"
    if source != "linkedin" and (config.path("templates") / source / f"{plan.kind}.txt").is_file():
        template = f"{source}/{plan.kind}.txt"  # the channel's own wording of this kind
    shown_template = str(Path(config.paths.templates) / template)
    check = _Checks(config, item.path if item else shown_template, item, problems)

    def link(url: str | None) -> str | None:
        if url and is_own(url, config):
            return with_utm(url, source=source, medium="social", campaign=plan.item_id)
        return url

    settings = item.meta.linkedin if item else None
    own_text, own_field = _own_wording(plan.kind, settings, item.meta.social if item else None, source)
    present = hashtags_in(own_text) if own_text else []
    if len(present) > HASHTAG_LIMIT:
        check(
            own_field,
            ngettext(
                "the text has {count} hashtag; a draft carries at most {limit}",
                "the text has {count} hashtags; a draft carries at most {limit}",
                len(present),
            ).format(count=len(present), limit=HASHTAG_LIMIT),
            _(
                "keep the {limit} that matter most (configured and tag hashtags are only added while there is room)"
            ).format(limit=HASHTAG_LIMIT),
        )
    if own_limit and own_field == f"social.{source}":
        count, limit, strict = own_limit
        if count(own_text) > limit:
            check(
                own_field,
                _("the text for {channel} has {count} characters; {channel} shows {limit}, the rest is cut").format(
                    channel=source, count=count(own_text), limit=limit
                ),
                _("shorten it to {limit} characters").format(limit=limit),
                Severity.ERROR if strict else Severity.WARNING,
            )
    tags = [config.social.hashtags]
    if item:
        tags += [settings.hashtags if settings else [], item.meta.tags]
    url = link(config.organisation.website if item is None else item_url(item, config))
    context = {
        "kind": plan.kind,
        "draft": plan.draft,
        "organisation": config.organisation.model_dump(),
        "now": now,
        "own_text": own_text,
        "hashtags": merge_hashtags(*tags, present=present),
        "url": url,
        "external": bool(url) and not is_own(url, config),
        "item": _item(item, library) if item else None,
        "event": _event(item, library, config, link) if item and item.kind == "event" else None,
        "figures": figures.as_dict() if item is None else None,
    }
    text = tidy(render(env, template, **context))
    if item is None:
        # The figures post has no item: its template sets what an item's front matter gives.
        exported = env.get_template(template).make_module(context)
        title, claim, description = (
            _exported(exported, name, shown_template) for name in ("title", "claim", "description")
        )
    else:
        title = item.meta.title
        claim = (settings.claim if settings else None) or title
        description = item.meta.summary or _teaser(item.html) or None
    draft = Draft(
        plan,
        text,
        title,
        description,
        url,
        _image(item, config, check) if item else None,
        unicodedata.normalize("NFC", claim),
        item.path if item else None,
        item.status if item else None,
        own_field,
    )

    if len(text) > COMMENTARY_LIMIT and source == "linkedin":  # each channel checks its own length
        hint = (
            _("shorten it")
            if own_field
            else _("shorten the summary, or write a shorter text of your own under linkedin.text")
            if item
            else _("shorten the template's text")
        )
        check(
            own_field or ("linkedin.text" if item else None),
            ngettext(
                "the text is {count:,} character; LinkedIn allows {limit:,}",
                "the text is {count:,} characters; LinkedIn allows {limit:,}",
                len(text),
            ).format(count=len(text), limit=COMMENTARY_LIMIT),
            hint,
        )
    total = draft.hashtags
    if len(total) > HASHTAG_LIMIT and len(present) <= HASHTAG_LIMIT:  # hashtags written into the template
        problems.append(
            Problem(
                shown_template,
                ngettext(
                    "the {draft} text has {count} hashtag; a draft carries at most {limit}",
                    "the {draft} text has {count} hashtags; a draft carries at most {limit}",
                    len(total),
                ).format(draft=plan.name, count=len(total), limit=HASHTAG_LIMIT),
                hint=_(
                    "remove the hashtags written into the template; "
                    "[social] hashtags and the items' tags are added to every draft"
                ),
            )
        )
    if draft.claim.casefold() not in text[:FEED_CUT].casefold():
        if own_field:
            where, hint = own_field, _("say it in the opening, or set linkedin.claim to what the opening says")
        elif item:
            where = "linkedin.claim" if settings and settings.claim else "title"
            hint = _(
                "shorten it, set linkedin.claim to what the opening says, or write your own text under linkedin.text"
            )
        else:
            where, hint = None, _("start {template} with the claim it sets").format(template=shown_template)
        check(
            where,
            _(CLAIM_MISSING).format(cut=FEED_CUT, claim=draft.claim),
            hint,
            severity=Severity.WARNING,
        )
    return draft


def _own_wording(kind: str, settings, social=None, channel: str = "linkedin") -> tuple[str | None, str | None]:
    """The item's own text for this draft kind on ``channel`` and the field it comes from:
    the channel's own (``social.bluesky``) first; then the LinkedIn wording
    (``linkedin.save_the_date`` … before ``linkedin.text``), on LinkedIn before the common
    ``social.text``, on the other channels after it."""
    own = getattr(social, channel, None) if social is not None else None
    if own:
        return tidy(own), f"social.{channel}"
    common = (tidy(social.text), "social.text") if social is not None and social.text else None
    if common and channel != "linkedin":
        return common
    if settings is not None:
        specific = _KIND_FIELDS.get(kind)
        if specific and getattr(settings, specific):
            return tidy(getattr(settings, specific)), f"linkedin.{specific}"
        if settings.text:
            return tidy(settings.text), "linkedin.text"
    return common or (None, None)


def _exported(module, name: str, shown: str) -> str:
    value = getattr(module, name, None)
    if not isinstance(value, str) or not value.strip():
        raise CommsflowError(
            _("{template}: the template sets no {name!r}").format(template=shown, name=name),
            _('add {{% set {name} = "…" %}} at its top: the figures post needs it').format(name=name),
        )
    return " ".join(value.split())


def tidy(text: str) -> str:
    """Composed Unicode (hashtags with umlauts stay whole), no trailing spaces, at most one
    blank line in a row — templates may leave more where optional parts are missing."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _teaser(html: str) -> str:
    """The first words of the body, cut at a word boundary."""
    text = " ".join(markdown.html_to_text(html).split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[:SUMMARY_LIMIT].rsplit(" ", 1)[0].rstrip(",;:–-") + " …"


def _item(item: Item, library: Library) -> dict:
    meta = item.meta
    quote = meta.quotes[0] if getattr(meta, "quotes", None) else None
    projects = [library.get(slug) for slug in item.projects]
    return {
        "slug": item.slug,
        "type": item.kind,
        "title": meta.title,
        "summary": meta.summary,
        "teaser": meta.summary or _teaser(item.html),
        "category": getattr(meta, "category", None),
        "date": getattr(meta, "date", None),
        "tags": list(meta.tags),
        "quote": quote.model_dump() if quote else None,
        "projects": [project.title for project in projects if project is not None],
        "news_source": getattr(meta, "source", None),
    }


def _event(item: Item, library: Library, config: Config, link) -> dict:
    meta = item.meta
    venue = meta.venue
    own = meta.organiser == config.organisation.slug
    organiser = library.get(meta.organiser)
    return {
        "start": meta.start,
        "end": meta.end,
        "all_day": meta.all_day,
        "multi_day": meta.multi_day,
        "format": meta.format,
        "venue": venue.line if venue else None,
        "registration_url": link(meta.registration),
        "own": own,
        "organiser": config.organisation.name if own or organiser is None else organiser.title,
        "speakers": [speaker.model_dump() for speaker in meta.speakers],
        "participants": meta.participants,
    }


def _image(item: Item, config: Config, check) -> dict | None:
    image = item.meta.image
    if image is None:
        return None
    alt = (image.alt or "").strip()
    if not alt:
        check(
            "image.alt",
            _("the image has no alt text"),
            _("describe the image under image.alt; LinkedIn shows it to people using screen readers"),
        )
    src = image.src
    if is_local(src):
        # Only an image inside the content folder may be uploaded (commsflow.media).
        try:
            source = local_image(src, item.path, config.root, config.path("content"))
        except ImageRefused as exc:
            check("image.src", exc.message, exc.hint)
            return None
        root = config.root.resolve()
        src = source.relative_to(root).as_posix() if source.is_relative_to(root) else source.as_posix()
    elif link_problem(src):
        check(
            "image.src",
            _("image address {src!r} {problem}").format(src=src, problem=link_problem(src)),
            _("give a full https:// address"),
        )
    return {"src": src, "alt": alt}


# --- outputs ---------------------------------------------------------------------------------


def request_body(draft: Draft, author: str) -> dict:
    """The JSON body of ``POST https://api.linkedin.com/rest/posts`` for the draft. The image
    (``content.article.thumbnail``) is an upload URN only the publisher can obtain."""
    body: dict = {
        "author": author,
        "commentary": draft.commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
    }
    if draft.link:
        article = {"source": draft.link, "title": draft.title}
        if draft.description:
            article["description"] = draft.description
        if draft.image:
            article["thumbnailAltText"] = draft.image["alt"]
        body["content"] = {"article": article}
    body["lifecycleState"] = "PUBLISHED"
    body["isReshareDisabledByAuthor"] = False
    return body


def draft_markdown(
    draft: Draft,
    config: Config,
    *,
    now: datetime,
    planned: datetime | None = None,
    channel: str | None = None,
    shown: dict | None = None,
) -> str:
    """The preview of a post for people; ``shown``: what a channel counts differently from
    LinkedIn (``characters``, ``limit``, ``cut``: where its feed hides the rest)."""
    env = environment(config)
    fence = "```"
    while fence in draft.text:
        fence += "`"
    return render(
        env,
        f"{TEMPLATES}/draft.md",
        draft={
            "kind": draft.kind,
            "item": draft.planned.item_id,
            "source": draft.source,
            "title": draft.title,
            "planned": planned,  # the job's time; None for a preview no campaign plans
            "channel": channel,
            "status": draft.status,
            "draft": draft.draft,
            "link": draft.link,
            "image": draft.image,
            "hashtags": draft.hashtags,
            "characters": len(draft.text),
            "limit": COMMENTARY_LIMIT,
            "cut": draft.cut,
            "text": draft.text,
            "fence": fence,
        }
        | (shown or {}),
        now=now,
    )


def output_files(rendered: RenderedDrafts, config: Config, *, now: datetime) -> dict[Path, str]:
    target = folder(config)
    files: dict[Path, str] = {}
    for draft in rendered.drafts:
        files[target / f"{draft.name}.md"] = draft_markdown(draft, config, now=now)
        if rendered.with_request(draft):
            body = request_body(draft, rendered.author)
            files[target / f"{draft.name}.json"] = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    return files

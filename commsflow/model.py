"""The content types: their fields, required and optional, in one place each.

An item is a Markdown file with YAML front matter under ``content/<folder>/``. The
folder decides the type. The file name (without ``.md``) is the item's slug — its
stable id across the whole library — unless the front matter sets ``slug:``.
Allowed values of vocabulary fields come from ``[vocabularies]`` in the configuration.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from commsflow.channels import names as channel_names
from commsflow.errors import Problem, closest
from commsflow.fields import Day, Html, HttpUrl, Moment, Slug, Text, fold, vocabulary
from commsflow.i18n import N_, _
from commsflow.slugs import is_slug

STATUSES = ("draft", "review", "approved", "published")

# What editors write for a status: the English words and the German ones. They match
# in any case, with or without umlauts (see commsflow.fields.fold).
_STATUS_WORDS = {
    **{status: status for status in STATUSES},
    "Entwurf": "draft",
    "Prüfung": "review",
    "in Prüfung": "review",
    "freigegeben": "approved",
    "veröffentlicht": "published",
}
_FOLDED_STATUS_WORDS = {fold(word): word for word in _STATUS_WORDS}


def _status(value: object) -> object:
    """``freigegeben`` → ``approved``, ``in Prüfung`` → ``review``; an unknown word is an
    error that names the English and the German words and the likeliest of them."""
    if not isinstance(value, str):
        return value  # not text: the check of the allowed values says what is wrong
    word = _FOLDED_STATUS_WORDS.get(fold(value))
    if word is not None:
        return _STATUS_WORDS[word]
    near = closest(fold(value), _FOLDED_STATUS_WORDS)
    german = ", ".join(word for word, status in _STATUS_WORDS.items() if word != status)
    if near:
        hint = _("did you mean {guess}?").format(guess=repr(_FOLDED_STATUS_WORDS[near]))
    else:
        hint = _("German words work too: {words}").format(words=german)
    message = _("{value} is not allowed; use one of: {allowed}").format(value=repr(value), allowed=", ".join(STATUSES))
    raise ValueError(message + " — " + hint)


Status = Annotated[Literal["draft", "review", "approved", "published"], BeforeValidator(_status)]


# The channels an item's own `channels:` may name, from the channel registry.
OneOffChannel = Literal[channel_names(one_off=True)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    # Unknown fields are errors: a misspelt optional field would otherwise vanish silently.
    # A model's validator is built when it is first used, not on import: a build in which one
    # post changed validates posts only (the four kinds' schemas took 25 ms to build).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Image(_Strict):
    src: Text = Field(
        description="https URL, or a path relative to the item's file to a PNG, JPEG, GIF or WebP image "
        "inside the content folder."
    )
    alt: Text = Field(description="Alternative text; required for accessibility (BITV 2.0).")
    credit: Text | None = Field(None, description="Bildnachweis, e.g. 'Bild: Circular Berlin'.")


class Person(_Strict):
    name: Text
    function: Text | None = Field(None, description="Role and organisation as printed.")


class Quote(_Strict):
    text: Text
    name: Text = Field(description="Who said it; a quote without speaker is not printable.")
    function: Text | None = None
    context: Text | None = Field(None, description="When it was said, e.g. 'zur Eröffnung der Konferenz'.")


class Venue(_Strict):
    name: Text
    address: Text | None = None
    city: Text | None = None

    @property
    def line(self) -> str:
        """``Impact Hub Berlin, Rollbergstraße 28A, Berlin``"""
        return ", ".join(part for part in (self.name, self.address, self.city) if part)


class Funding(_Strict):
    applicant: Text = Field(description="Antragstellende Organisation(en).")
    title: Text | None = Field(None, description="Project name as in the funding decision.")
    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(
                _("funding ends ({end}) before it starts ({start})").format(end=self.end, start=self.start)
                + " — "
                + _("check start and end")
            )
        return self


class LinkedIn(_Strict):
    """The item's own LinkedIn wording instead of the template's."""

    text: Text | None = Field(None, description="The whole post text, for every draft kind of this item.")
    save_the_date: Text | None = Field(None, description="Text of the event's save-the-date post.")
    reminder: Text | None = Field(None, description="Text of the event's reminder post.")
    recap: Text | None = Field(None, description="Text of the event's recap post.")
    claim: Text | None = Field(None, description="What the first 210 characters must say; default: the title.")
    hashtags: list[Text] = Field(default_factory=list, description="Extra hashtags, e.g. 'Kreislaufwirtschaft'.")


def _social_wording() -> type[BaseModel]:
    """``social:``: the item's own post text for every social channel (``text``) and for one
    channel (``bluesky: …``) — one field per social channel of the registry."""
    fields = {
        name: (Text | None, Field(None, description=f"The post text on {name}, before social.text."))
        for name in channel_names(social=True)
    }
    return create_model(
        "Social",
        __base__=_Strict,
        text=(Text | None, Field(None, description="The post text on every social channel without its own.")),
        **fields,
    )


SocialWording = _social_wording()

PRESS_KINDS = ("invitation", "recap", "announcement", "funding-call")


class PressPhoto(_Strict):
    """A photo offered with a press release: printed with its caption and credit, and sent
    in the release's pack with both written into the file (IPTC and XMP)."""

    src: Text = Field(
        description="https URL, or a path relative to the item's file to a JPEG, PNG, GIF or WebP image "
        "inside the content folder. JPEG and PNG files also carry caption, credit and terms in the file."
    )
    alt: Text = Field(description="What the photo shows, for screen readers (BITV 2.0).")
    caption: Text | None = Field(None, description="Bildunterschrift as printed under the photo.")
    credit: Text = Field(
        description="Who took it, and for whom: 'Name / Agentur', printed „Foto: Name / Agentur“; "
        "the name before ' / ' goes into the file as its creator."
    )
    terms: Text | None = Field(
        None,
        description="Terms of use, e.g. 'Abdruck honorarfrei bei Nennung der Quelle'; default [press] photo_terms.",
    )


class Press(_Strict):
    """Marks an item for a press release and words what the item itself does not."""

    kind: Literal["invitation", "recap", "announcement", "funding-call"] | None = Field(
        None, description="Default: events invitation before, recap after; posts announcement."
    )
    headline: Text | None = Field(None, description="Default: the title.")
    subline: Text | None = None
    lead: Text | None = Field(None, description="First paragraph: who, what, when, where, why. Default: summary.")
    date: Day | None = Field(None, description="Release date in the dateline; default: the item's date.")
    photos: list[PressPhoto] = Field(default_factory=list, description="Photos for the press, with credit and terms.")


class Common(_Strict):
    title: Text
    status: Status
    slug: Slug | None = Field(None, description="Overrides the slug taken from the file name.")
    summary: Text | None = Field(None, description="One or two sentences for teasers.")
    author: Text | None = Field(
        None,
        description="Who wrote it (a name or e-mail of [[people]]): with [signoff] four_eyes, not who signs it off.",
    )
    tags: list[Text] = Field(default_factory=list)
    image: Image | None = None
    url: HttpUrl | None = Field(
        None, description="The item's web address; default: the pattern under [links] in commsflow.toml."
    )
    linkedin: LinkedIn | None = Field(None, description="Own wording for LinkedIn drafts.")
    social: SocialWording | None = Field(None, description="Own post texts per social channel (and for all).")
    press: Press | None = Field(None, description="Press release for this item.")
    publish_at: Moment | None = Field(None, description="A one-off publication: when (with 'channels').")
    channels: list[OneOffChannel] = Field(default_factory=list, description="Where the one-off publication goes.")
    embargo: Moment | None = Field(
        None, description="Not to be published, or linked from anything published, before this date and time."
    )

    @model_validator(mode="after")
    def _one_off(self):
        if self.publish_at is not None and not self.channels:
            raise ValueError(_("publish_at without channels") + " — " + _("add e.g. 'channels: [linkedin]'"))
        if self.channels and self.publish_at is None:
            raise ValueError(_("channels without publish_at") + " — " + _("add e.g. 'publish_at: 2024-05-02 10:00'"))
        if self.publish_at is not None and not isinstance(self.publish_at, datetime):
            raise ValueError(
                _("publish_at {day} has no time").format(day=self.publish_at)
                + " — "
                + _("write e.g. '{day} 10:00'").format(day=self.publish_at)
            )
        return self

    @field_validator("embargo")
    @classmethod
    def _embargo_timed(cls, value):
        if value is not None and not isinstance(value, datetime):
            raise ValueError(
                _("{day} has no time").format(day=value)
                + " — "
                + _("write the hour the embargo ends, e.g. '{day} 16:00'").format(day=value)
            )
        return value


class PostMeta(Common):
    """A blog post (``content/posts/``)."""

    category: vocabulary("blog_categories")
    date: Day = Field(description="Publication date.")
    projects: list[Slug] = Field(default_factory=list)
    events: list[Slug] = Field(default_factory=list)
    transformation_lines: list[vocabulary("transformation_lines")] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)


class NewsMeta(Common):
    """News from a project (``content/news/``), hand-written or imported from a feed."""

    date: Day
    projects: list[Slug] = Field(min_length=1, description="The project(s) the news is about.")
    events: list[Slug] = Field(default_factory=list)
    link: HttpUrl | None = Field(None, description="The original article.")
    source: Text | None = Field(None, description="Feed or partner the item came from.")
    guid: Text | None = Field(
        None, description="The entry's id in its feed (imported news); keeps it from being imported twice."
    )
    summary_html: Html | None = Field(None, description="The feed's summary as sanitised HTML (imported news).")
    date_assumed: bool = Field(
        False, description="true: the feed gave no date and the fetch day was used — check the date."
    )


class EventMeta(Common):
    """An event (``content/events/``): times are aware, in the configured time zone."""

    format: vocabulary("event_formats")
    start: Moment = Field(description="Date and time; a date alone means all day.")
    end: Moment | None = None
    organiser: Slug = Field(description="A project slug, or the organisation's own slug.")
    projects: list[Slug] = Field(default_factory=list)
    venue: Venue | None = None
    registration: HttpUrl | None = None
    participants: NonNegativeInt | None = None
    speakers: list[Person] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is None:
            return self
        timed = isinstance(self.start, datetime), isinstance(self.end, datetime)
        if timed[0] != timed[1]:
            raise ValueError(
                _("start and end mix a day with a date and time") + " — " + _("give both with a time, or both as days")
            )
        if self.end < self.start:
            raise ValueError(
                _("end ({end}) is before start ({start})").format(end=self.end, start=self.start)
                + " — "
                + _("check both values")
            )
        return self

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def multi_day(self) -> bool:
        if self.end is None:
            return False

        def day(moment):
            return moment.date() if isinstance(moment, datetime) else moment

        return day(self.end) != day(self.start)


class ProjectMeta(Common):
    """A project portrait (``content/projects/``)."""

    fields_of_action: list[vocabulary("fields_of_action")] = Field(
        min_length=1, description="Handlungsfelder; the first is the project's main field."
    )
    state: Literal["running", "completed"] = Field(description="running or completed.")
    transformation_lines: list[vocabulary("transformation_lines")] = Field(default_factory=list)
    website: HttpUrl | None = None
    funding: Funding | None = Field(None, description="Set when the project is funded.")


# Folder under content/ → (type name, front matter model)
TYPES: dict[str, tuple[str, type[Common]]] = {
    "posts": ("post", PostMeta),
    "news": ("news", NewsMeta),
    "events": ("event", EventMeta),
    "projects": ("project", ProjectMeta),
}
TYPE_NAMES = tuple(kind for kind, _model in TYPES.values())


REFERENCE_FIELDS = ("projects", "events", "organiser")


_UNSET = object()


class Item:
    """One validated piece of content.

    Items built from the cache carry their (already validated) front matter as plain
    data and turn it into the typed ``meta`` on first use; the rendered body is read
    from the cache only when an output asks for ``html``. Cross-references are kept
    apart so the library can be checked without either.
    """

    __slots__ = ("kind", "slug", "path", "digest", "refs", "_meta", "_html", "_store", "_context", "_when")

    def __init__(
        self,
        kind: str,
        slug: str,
        path: str,
        digest: str,
        *,
        meta: Common | None = None,
        html: str | None = None,
        refs: dict | None = None,
        store=None,
        context: dict | None = None,
    ):
        self.kind = kind
        self.slug = slug
        self.path = path  # relative to the project root, as shown to users
        self.digest = digest  # hash of the file's bytes
        self._meta, self._html = meta, html
        self._store, self._context = store, context  # where a cached item's meta and html wait
        self._when = _UNSET
        if refs is None:
            refs = {name: getattr(meta, name) for name in REFERENCE_FIELDS if getattr(meta, name, None)}
        self.refs = refs

    def __repr__(self) -> str:
        return f"<Item {self.kind} {self.slug}>"

    @property
    def meta(self) -> Common:
        if self._meta is None:
            model = MODELS[self.kind]
            try:
                self._meta = model.model_validate(self._store.data(self), context=self._context)
            except ValidationError:
                # What the cache gave does not validate (the file did): the cache is damaged
                # or was written by someone else. The file decides.
                self._meta = model.model_validate(self._store.reread_data(self), context=self._context)
        return self._meta

    @property
    def html(self) -> str:
        """The body rendered to safe HTML."""
        if self._html is None:
            self._html = self._store.body(self)
        return self._html

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def status(self) -> str:
        return self.meta.status

    @property
    def when(self) -> date | datetime | None:
        """The date the item is filed under: publication date, or an event's start."""
        if self._when is _UNSET:  # asked for every slot occurrence while planning: worked out once
            meta = self.meta
            self._when = getattr(meta, "date", None) or getattr(meta, "start", None)
        return self._when

    @property
    def projects(self) -> list[str]:
        return list(self.refs.get("projects", ()))


MODELS: dict[str, type[Common]] = {kind: model for kind, model in TYPES.values()}
FOLDERS: dict[str, str] = {kind: folder for folder, (kind, _model) in TYPES.items()}


@dataclass(frozen=True, slots=True, eq=False)
class InvalidItem:
    """A content file that did not validate, with what is still known of it: its type
    (from the folder), its slug and path, and the references its front matter names.

    The library keeps these so that a reference to such a file is not taken for a
    reference to nothing — the file's own problems say what is wrong — and so that its
    references can be checked all the same.
    """

    kind: str
    slug: str
    path: str
    refs: dict = field(default_factory=dict)  # as in Item.refs; entries that are no slug are None

    @property
    def message(self) -> str:
        said = _HAS_ERRORS.get(self.kind)
        if said is None:  # pragma: no cover - every type has its message
            return f"{self.kind} {self.slug!r} has errors"
        return _(said).format(slug=repr(self.slug))

    @property
    def hint(self) -> str:
        return _("see {path}").format(path=self.path)

    def referenced_from(self, path: str, *, line: int | None = None, field: str | None = None) -> Problem:
        """The short pointer for a file (a campaign) that names this one: no guess at
        another slug, just where the errors are."""
        return Problem(path, self.message, line=line, field=field, hint=self.hint)


_HAS_ERRORS = {
    "post": N_("post {slug} has errors"),
    "news": N_("news {slug} has errors"),
    "event": N_("event {slug} has errors"),
    "project": N_("project {slug} has errors"),
}


class Items(list):
    """The valid items of a load, in file order, with the files that did not validate
    (``invalid``, in file order) travelling along, so that whoever builds a library or
    checks references from the list also knows which slugs exist but are broken."""

    def __init__(self, items=(), invalid=()):
        super().__init__(items)
        self.invalid: list[InvalidItem] = list(invalid)


def references_as_written(kind: str, data: object) -> dict:
    """The references in front matter that did not validate, as far as they can be read:
    the reference fields the type has, with the entries that are slugs. An entry that is
    no slug is kept as None (its own field problem says why), so that positions stay
    those of the file."""
    if not isinstance(data, dict):
        return {}
    fields = MODELS[kind].model_fields
    refs: dict = {}
    for name in REFERENCE_FIELDS:
        if name not in fields or name not in data:
            continue
        value = data[name]
        if typing.get_origin(fields[name].annotation) is list:
            if isinstance(value, list):
                entries = [entry if _slug(entry) else None for entry in value]
                if any(entries):
                    refs[name] = entries
        elif _slug(value):
            refs[name] = value
    return refs


def slug_as_written(data: object, stem: str) -> str:
    """The slug of a file whose front matter did not validate: its ``slug:`` if that is a
    slug, else the file name."""
    value = data.get("slug") if isinstance(data, dict) else None
    return value if _slug(value) else stem


def _slug(value: object) -> bool:
    return isinstance(value, str) and is_slug(value)

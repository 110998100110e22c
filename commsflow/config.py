"""The organisation's configuration: one TOML file at the project root.

Everything organisation-specific lives here — names, website, boilerplate, contacts,
vocabularies — so another team uses commsflow by swapping this file, ``content/``
and ``campaigns/``. Each option carries its description; loading reports every
problem with its key and line, then stops once.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from commsflow import channels, list_tools
from commsflow.errors import CommsflowError, Problem
from commsflow.fields import Day, Email, HttpUrl, Slug, Text
from commsflow.i18n import _, ngettext
from commsflow.stamp import state_folder
from commsflow.validation import problems_from_validation_error

CONFIG_FILE = "commsflow.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Section):
    name: Text = Field(description="Full name, e.g. 'Masterplan Industriestadt Berlin'.")
    short_name: Text = Field(description="Short name used in running text, e.g. 'MPI'.")
    slug: Slug = Field(description="Id an event's `organiser` uses to name the organisation itself.")
    authority: Text | None = Field(None, description="Issuing authority, e.g. the Senate department.")
    website: HttpUrl = Field(description="The organisation's own site; links there get UTM tags.")
    locale: Literal["de", "en"] = Field("de", description="Output language (default de).")
    ui_language: Literal["de", "en"] | None = Field(
        None, description="Language of commsflow's messages (default de; --lang and COMMSFLOW_LANG override it)."
    )
    timezone: Text = Field("Europe/Berlin", description="IANA zone for all dates and times.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                _("unknown time zone {zone}; use an IANA name like 'Europe/Berlin'").format(zone=repr(value))
            ) from None
        return value


class Contact(_Section):
    name: Text = Field(description="Person or office to ask.")
    organisation: Text | None = Field(None, description="Their organisation, if not the issuer.")
    email: Email = Field(description="E-mail address.")
    phone: Text | None = Field(None, description="Phone number as it should be printed.")


class Press(_Section):
    boilerplate_title: Text = Field(description="Heading of the 'about us' paragraph.")
    boilerplate: Text = Field(description="The 'about us' paragraph closing every release.")
    contact: Contact = Field(description="Press contact printed under every release.")
    layout: Literal["classic", "senate"] = Field("classic", description="Release layout.")
    place: Text = Field(description="Place in the dateline, e.g. 'Berlin' in 'Berlin, 28. November 2023 –'.")
    font: Text = Field(
        "Arial",
        description="Font family of the Word file, for every part: text, headline, headings, lists and footer "
        "(default Arial; a reader without it sees a font of the same width, e.g. Liberation Sans).",
    )
    max_characters: PositiveInt = Field(
        5000, description="Longest text version (release.txt) in characters before a warning; agencies cut longer."
    )
    photo_terms: Text | None = Field(
        None,
        description="Terms of use of press photos that give none, e.g. 'Abdruck honorarfrei bei Nennung der Quelle'.",
    )


class Newsletter(_Section):
    sender_name: Text = Field(description="Display name in From.")
    sender_address: Email = Field(description="Address in From.")
    list_address: Email | None = Field(None, description="Address the scheduler sends issues to.")
    unsubscribe_url: HttpUrl = Field(
        description="The page where a reader unsubscribes: the footer's link in the web version, and in the "
        "e-mail where the list tool gives no reader's own (list_tool = 'none')."
    )
    list_tool: Literal[tuple(list_tools.TOOLS)] | None = Field(  # type: ignore[valid-type]
        None,
        description="What sends the issue to each subscriber and fills in their own unsubscribe link: "
        "'listmonk', 'mailchimp', 'cleverreach', 'mailerlite', or 'none' (every reader gets unsubscribe_url). "
        "Default: 'listmonk' when [publishing] newsletter = 'listmonk', else 'none'.",
    )
    listmonk_lists: list[PositiveInt] = Field(
        default_factory=list, description="The ids of the listmonk lists an issue goes to (listmonk: Lists)."
    )
    listmonk_template: PositiveInt | None = Field(
        None,
        description="The id of the listmonk campaign template the issue is put in: one whose body is only "
        '{{ template "content" . }}, since the issue is a whole e-mail of its own.',
    )
    test_addresses: list[Email] = Field(
        default_factory=list,
        description="Where the list server sends a test of an issue before scheduling it (listmonk: subscribers).",
    )
    imprint_url: HttpUrl = Field(description="Impressum page (required in German e-mail).")
    privacy_url: HttpUrl | None = Field(None, description="Datenschutz page.")


class Social(_Section):
    linkedin_page: HttpUrl | None = Field(None, description="The organisation's LinkedIn page.")
    linkedin_author: Annotated[str, StringConstraints(pattern=r"^urn:li:(organization|person):\d+$")] | None = Field(
        None, description="Author URN for the LinkedIn Posts API."
    )
    mastodon_account: Text | None = Field(None, description="e.g. '@name@social.bund.de'.")
    mastodon_max_characters: PositiveInt = Field(
        500,
        description="How long a status the Mastodon instance takes (its /api/v2/instance says; 500 is "
        "Mastodon's own): a status is fitted to it when built, so what is signed off is what is posted.",
    )
    bluesky_account: Text | None = Field(
        None, description="The Bluesky handle posts go out as, e.g. 'name.bsky.social'."
    )
    hashtags: list[Text] = Field(default_factory=list, description="Hashtags every post may carry.")


_PATTERN_HELP = "Address of one item on the website; {slug} stands for the item's slug."


def _has_slug(value: str | None) -> str | None:
    if value is not None and "{slug}" not in value:
        raise ValueError(
            _("{value} has no {{slug}} placeholder").format(value=repr(value))
            + " — "
            + _("write e.g. 'https://example.org/blog/{{slug}}/'").format()
        )
    return value


class Links(_Section):
    public_url: HttpUrl = Field(
        description="Public address of the build folder once uploaded: web versions of "
        "newsletter issues and event .ics files are linked from here."
    )
    own_site: list[HttpUrl] = Field(
        default_factory=list,
        description="Address prefixes that count as the organisation's own site (links there "
        "get UTM parameters); default: the organisation's website.",
    )
    post: HttpUrl | None = Field(None, description=_PATTERN_HELP)
    news: HttpUrl | None = Field(None, description=_PATTERN_HELP)
    event: HttpUrl | None = Field(None, description=_PATTERN_HELP)
    project: HttpUrl | None = Field(None, description=_PATTERN_HELP)

    _patterns = field_validator("post", "news", "event", "project")(_has_slug)

    @field_validator("public_url")
    @classmethod
    def _folder(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


# In English or German, as the team writes it: '6 hours', '6 Stunden', '1 Tag'.
_DURATION = re.compile(
    r"^\s*(\d+)\s*(minutes?|hours?|days?|weeks?|minuten?|stunden?|tage?n?|wochen?)\s*$", re.IGNORECASE
)
_SECONDS = {"min": 60, "hou": 3600, "stu": 3600, "day": 86400, "tag": 86400, "wee": 604800, "woc": 604800}


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(
            _("{value} is not a duration").format(value=repr(value))
            + " — "
            + _("write e.g. '30 minutes', '6 hours' or '3 days'")
        )
    return timedelta(seconds=int(match[1]) * _SECONDS[match[2][:3].lower()])


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _PublishingTimes(_Section):
    grace: Duration = Field(
        timedelta(hours=6),
        description="After downtime, jobs due within this window are caught up; older ones are reported as missed.",
    )
    gap: Duration = Field(timedelta(hours=4), description="Two posts on one channel closer than this are a conflict.")
    draft_warning: Duration = Field(
        timedelta(days=3), description="Warn when a job's item is not approved this long before it is due."
    )
    retries: PositiveInt = Field(5, description="Attempts for a job whose channel fails transiently.")
    holidays: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")] = Field(
        "DE-BE", description="Public holidays that make a conflict: country and region, e.g. 'DE-BE' (Berlin)."
    )
    require_signoff: bool = Field(
        False,
        description="true: a job goes out only when its item (or newsletter "
        "issue) is signed off in its current version (commsflow approve).",
    )

    @field_validator("holidays")
    @classmethod
    def _known_holidays(cls, value: str, info: ValidationInfo) -> str:
        from commsflow import public_holidays

        if not public_holidays.is_known(value, (info.context or {}).get("cache")):
            raise ValueError(
                _("no public holidays known for {region}").format(region=repr(value))
                + " — "
                + _("write e.g. 'DE-BE' or 'DE-BY'")
            ) from None
        return value

    def publisher(self, channel: str) -> str:
        return getattr(self, channel)


def _publishing_model() -> type[_PublishingTimes]:
    """``[publishing]``: one field per scheduled channel naming its publisher (the choices
    come from the channel registry), plus the timings above."""
    fields = {}
    for name, channel in channels.registry().items():
        if channel.scheduled:
            choice = Literal[channel.publishers]  # type: ignore[valid-type]
            fields[name] = (choice, Field(channel.publishers[0], description=f"Publisher of the {name} channel."))
    return create_model("Publishing", __base__=_PublishingTimes, **fields)


Publishing = _publishing_model()


class Events(_Section):
    """``[events]``: what calendar files assume of an event."""

    default_duration: Duration = Field(
        timedelta(hours=2),
        description="How long an event with a start time but no end lasts in its calendar file "
        "(default 2 hours); commsflow check names every event ahead that gets it.",
    )

    @field_validator("default_duration")
    @classmethod
    def _some_time(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(_("an event cannot last no time at all") + " — " + _("write e.g. '2 hours'"))
        return value


class Vocabularies(_Section):
    blog_categories: list[Text] = Field(min_length=1, description="Allowed post categories.")
    fields_of_action: list[Text] = Field(min_length=1, description="Handlungsfelder.")
    transformation_lines: list[Text] = Field(min_length=1, description="Transformationslinien.")
    event_formats: list[Text] = Field(min_length=1, description="Allowed event formats.")


class Paths(_Section):
    content: Text = Field("content", description="Markdown content folder.")
    campaigns: Text = Field("campaigns", description="Campaign files.")
    templates: Text = Field("templates", description="Jinja2 templates.")
    build: Text = Field("build", description="Where outputs are written.")
    state: Text = Field(".commsflow", description="Caches, ledger and fetch state.")
    feeds: Text = Field("feeds.yaml", description="The partner feed list (commsflow feeds).")
    approvals: Text = Field("approvals.yaml", description="Sign-offs of items and issues (commsflow approve).")


DEFAULT_MAX_FILE_KB = 2048


class Limits(_Section):
    max_file_kb: PositiveInt = Field(
        DEFAULT_MAX_FILE_KB,
        description="Largest content file read, in KB (1 KB = 1024 bytes); a larger file is "
        "reported as an error and not read. Default 2048 (2 MB).",
    )


ROLES = ("author", "reviewer", "publisher")
EnvName = Annotated[str, StringConstraints(pattern=r"^COMMSFLOW_[A-Z0-9_]+$")]


class Person(_Section):
    """A member of the team (``[[people]]``): who may sign off what."""

    name: Text = Field(description="As it is written in approvals.yaml and shown everywhere.")
    email: Email | None = Field(None, description="Matched against COMMSFLOW_USER and git's user.email.")
    roles: list[Literal[ROLES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["author"],
        description="author (writes items), reviewer (may sign off), publisher (may retry, dismiss, "
        "record a post made by hand).",
    )
    channels: list[str] = Field(
        default_factory=list,
        description="The channels this reviewer may sign off (e.g. ['press'] for the press office); empty: all.",
    )
    password_env: EnvName | None = Field(
        None,
        description="The environment variable holding this person's desk password as a hash "
        "(commsflow desk-password NAME prints it), e.g. 'COMMSFLOW_DESK_PASSWORD_DANA'; never a password.",
    )

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        known = channels.names()
        for name in value:
            if name not in known:
                raise ValueError(
                    _("no channel {channel}").format(channel=repr(name))
                    + " — "
                    + _("write one of {channels}").format(channels=", ".join(known))
                )
        return value


class Signoff(_Section):
    four_eyes: bool = Field(
        False, description="true: an item's author (author: or the file's last git author) may not sign it off."
    )


# A name the desk answers to besides 127.0.0.1 and localhost: a host name or an IP address,
# with a port where the browser's address has one (desk.example.org, 10.0.0.5:8766, [fd00::5]).
_HOST = r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$"


class DeskSettings(_Section):
    """``[desk]``: the web desk (commsflow desk). Passwords come from [[people]] password_env."""

    hosts: list[Annotated[str, StringConstraints(pattern=_HOST, to_lower=True)]] = Field(
        default_factory=list,
        description="Names the desk also answers to (the address in the browser, e.g. 'desk.example.org' "
        "behind a reverse proxy); 127.0.0.1, localhost and the --host address always.",
    )
    session_hours: PositiveInt = Field(8, le=24 * 31, description="How long a login lasts, in hours.")


class Alerts(_Section):
    """``[alerts]``: who is told when something needs a person. SMTP settings and the alert
    webhook's address come from the environment (COMMSFLOW_SMTP_*, COMMSFLOW_ALERT_WEBHOOK_URL)."""

    email: list[Email] = Field(default_factory=list, description="Addresses alerts are mailed to.")
    webhook: bool = Field(False, description="true: also post alerts to COMMSFLOW_ALERT_WEBHOOK_URL.")
    blocked_before: Duration = Field(
        timedelta(hours=24), description="Alert when a job is still blocked this long before it is due."
    )
    credential_warning: Duration = Field(
        timedelta(days=7), description="Warn and alert this long before a credential in [credentials] expires."
    )


class Config(_Section):
    organisation: Organisation
    press: Press
    newsletter: Newsletter
    social: Social = Field(default_factory=Social)
    links: Links
    publishing: Publishing = Field(default_factory=Publishing)
    events: Events = Field(default_factory=Events)
    vocabularies: Vocabularies
    paths: Paths = Field(default_factory=Paths)
    limits: Limits = Field(default_factory=Limits)
    people: list[Person] = Field(default_factory=list)
    signoff: Signoff = Field(default_factory=Signoff)
    alerts: Alerts = Field(default_factory=Alerts)
    desk: DeskSettings = Field(default_factory=DeskSettings)
    # Environment variable → the day that credential expires (LinkedIn tokens last 60 days).
    credentials: dict[Annotated[str, StringConstraints(pattern=r"^COMMSFLOW_[A-Z0-9_]+$")], Day] = Field(
        default_factory=dict
    )

    # Filled in by load_config; not part of the file.
    root: Path = Field(Path("."), exclude=True)
    fingerprint: str = Field("", exclude=True)
    use_cache: bool = Field(True, exclude=True)  # False: --no-cache — nothing is kept in .commsflow/cache/

    @property
    def cache_folder(self) -> Path | None:
        """Where what takes long to work out is kept between commands; None with --no-cache."""
        return self.path("state") / "cache" if self.use_cache else None

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.organisation.timezone)

    def path(self, name: str) -> Path:
        return self.root / getattr(self.paths, name)

    @cached_property
    def own_site(self) -> tuple[str, ...]:
        return tuple(self.links.own_site) or (self.organisation.website,)


def _toml_line(text: str, loc: tuple) -> int | None:
    """Line of the key ``loc`` in the TOML source: find the table header, then the key."""
    keys = [str(k) for k in loc if isinstance(k, str)]
    if not keys:
        return None
    lines = text.splitlines()
    if len(keys) == 1:  # a whole section, e.g. a misspelt [newsleter]
        header = re.compile(r"^\s*\[\s*" + re.escape(keys[0]) + r"\s*[\].]")
        return next((number for number, line in enumerate(lines, 1) if header.match(line)), None)
    table, start = keys[:-1], 0
    for depth in range(len(table), 0, -1):
        header = re.compile(r"^\s*\[\s*" + re.escape(".".join(table[:depth])) + r"\s*\]")
        for number, line in enumerate(lines):
            if header.match(line):
                start = number
                if depth == len(table):
                    key = re.compile(r"^\s*" + re.escape(keys[-1]) + r"\s*=")
                    for offset, candidate in enumerate(lines[number + 1 :], number + 2):
                        if candidate.lstrip().startswith("["):
                            break
                        if key.match(candidate):
                            return offset
                    return number + 1
                break
        if start:
            return start + 1
    return None


def load_config(root: Path, *, use_cache: bool = True) -> Config:
    """Read and validate ``commsflow.toml``; raise one error listing every problem. ``use_cache``:
    False for --no-cache (see :attr:`Config.cache_folder`)."""
    path = root / CONFIG_FILE
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommsflowError(
            _("{path}: no configuration found").format(path=shown),
            _("run commsflow in the project folder or pass --root; a project needs {file}").format(file=CONFIG_FILE),
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CommsflowError(
            _("{path}: not UTF-8 text").format(path=f"{shown}:{line}"), _("save the file as UTF-8")
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{shown}:{match[1]}" if match else shown
        reason = re.sub(r"\s*\(at line.*\)", "", str(exc))
        raise CommsflowError(
            _("{path}: invalid TOML: {reason}").format(path=where, reason=reason),
            _("check quotes, brackets and '=' on that line"),
        ) from None
    try:
        # The cache folder (read as commsflow.stamp reads it) keeps what validating took long to work out.
        cache = state_folder(root, data) / "cache" if use_cache else None
        config = Config.model_validate(data, context={"cache": cache})
    except ValidationError as exc:
        problems = problems_from_validation_error(
            exc, shown, lambda loc: _toml_line(text, loc), model=Config, toml=True
        )
        raise ConfigInvalid(problems) from None
    fingerprint = hashlib.blake2b(raw, digest_size=16).hexdigest()
    return config.model_copy(update={"root": root, "fingerprint": fingerprint, "use_cache": use_cache})


class ConfigInvalid(CommsflowError):
    """The configuration has problems; all of them are listed."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        super().__init__(
            ngettext("{count} problem(s) in {file}", "{count} problem(s) in {file}", count).format(
                count=count, file=CONFIG_FILE
            ),
            _("fix the configuration before anything else can run"),
        )

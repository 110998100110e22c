"""The partner feeds: one YAML file (``feeds.yaml`` at the project root by default).

Each feed has a name (its id in messages, state and the ``source:`` of the news it
brings), its address, the project its news belong to and default tags. The file is
validated like a campaign: every problem with file, line and field; a feed naming
a project that is not in the library is an error with the closest slug suggested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, field_validator

from commsflow import frontmatter
from commsflow.errors import CommsflowError, Problem, Severity, closest
from commsflow.fields import Slug, Text
from commsflow.i18n import _
from commsflow.validation import problems_from_validation_error

DEFAULT_FILE = "feeds.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_feed_url(value: str) -> str:
    """An absolute http(s) address (any host: partners' intranet names and test servers too)."""
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        # " — " parts message and hint (see commands/feeds.py and commsflow.validation)
        raise ValueError(
            _("{address!r} is not a web address").format(address=text)
            + " — "
            + _("write the feed's full address starting with https://")
        )
    return text


class Feed(_Strict):
    name: Slug = Field(description="Id of the feed: in messages, in the state and as `source:` of its news.")
    url: str = Field(description="Address of the RSS or Atom feed (http or https).")
    project: Slug = Field(description="Slug of the project the feed's news belong to.")
    tags: list[Text] = Field(default_factory=list, description="Tags every news item from this feed gets.")
    enabled: bool = Field(True, description="false: listed, but never fetched.")

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return check_feed_url(value)


class FetchSettings(_Strict):
    timeout: PositiveFloat = Field(
        20,
        description="Seconds a feed may take to answer completely: connecting, headers and body together; "
        "a slower answer is cut off and the feed reported as failed.",
    )
    max_size_mb: PositiveFloat = Field(5, description="Largest response read, in MB; larger ones are an error.")
    workers: PositiveInt = Field(8, le=64, description="Feeds fetched at the same time.")

    @property
    def max_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)


class FeedFile(_Strict):
    fetch: FetchSettings = Field(default_factory=FetchSettings, description="How feeds are fetched.")
    feeds: list[Feed] = Field(default_factory=list, description="The feeds, in the order they are reported.")


@dataclass
class FeedList:
    path: str  # as shown to users
    feeds: list[Feed] = field(default_factory=list)
    settings: FetchSettings = field(default_factory=FetchSettings)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def get(self, name: str) -> Feed | None:
        return next((feed for feed in self.feeds if feed.name == name), None)


def feeds_path(config) -> Path:
    """Where the feed list is: ``[paths] feeds`` in commsflow.toml, default feeds.yaml."""
    return config.path("feeds")


def load_feeds(root: Path, path: Path, projects: set[str] | None) -> FeedList:
    """Read and check the feed list. ``projects``: the project slugs in the library
    (None: references are not checked). A missing file is an error that stops."""
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommsflowError(
            _("{path}: no feed list found").format(path=shown),
            _("create it with the partner feeds (see README, section Partner feeds)"),
        ) from None
    except OSError as exc:
        raise CommsflowError(
            _("{path}: cannot read ({reason})").format(path=shown, reason=exc.strerror),
            _("check the file's permissions"),
        ) from None
    result = FeedList(shown)
    try:
        source = frontmatter.document(shown, raw)
        data = frontmatter.parse(source)
        line_of = frontmatter.line_finder(source)
    except frontmatter.SourceError as exc:
        result.problems.append(exc.problem)
        return result
    try:
        spec = FeedFile.model_validate(data)
    except ValidationError as exc:
        result.problems = problems_from_validation_error(exc, shown, line_of, model=FeedFile)
        return result
    result.feeds, result.settings = list(spec.feeds), spec.fetch
    seen_names: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    for index, feed in enumerate(spec.feeds):
        if feed.name in seen_names:
            first = seen_names[feed.name]
            result.problems.append(
                Problem(
                    shown,
                    _("feed name {name!r} is already used by feeds[{index}] (line {line})").format(
                        name=feed.name, index=first, line=line_of(("feeds", first, "name"))
                    ),
                    line=line_of(("feeds", index, "name")),
                    field=f"feeds[{index}].name",
                    hint=_("give each feed its own name"),
                )
            )
        seen_names.setdefault(feed.name, index)
        if feed.url in seen_urls:
            result.problems.append(
                Problem(
                    shown,
                    _("the same address as feeds[{index}]").format(index=seen_urls[feed.url]),
                    line=line_of(("feeds", index, "url")),
                    field=f"feeds[{index}].url",
                    hint=_("its entries are imported once, for the first feed only"),
                    severity=Severity.WARNING,
                )
            )
        seen_urls.setdefault(feed.url, index)
        if projects is not None and feed.project not in projects:
            guess = closest(feed.project, projects)
            result.problems.append(
                Problem(
                    shown,
                    _("unknown project {project!r}").format(project=feed.project),
                    line=line_of(("feeds", index, "project")),
                    field=f"feeds[{index}].project",
                    hint=_("did you mean {guess!r}?").format(guess=guess)
                    if guess
                    else _("name a project slug (a file name in content/projects/)"),
                )
            )
    return result

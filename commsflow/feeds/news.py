"""Feed entries into news items: de-duplicated, named, written once, never overwritten.

An entry is new unless its guid (within its feed), its canonical link or the hash
of its text is already known — from the seen-store, from a news file in the
content folder (an editor may have renamed or changed it), or from an entry
earlier in the same run. A new entry becomes ``<news>/<date>-<slug of title>.md``
with status ``review``; the text is checked with the content model before it is
written, so the content loader reads every file this module writes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from commsflow import frontmatter, markdown
from commsflow.errors import Problem, Severity
from commsflow.feeds.config import Feed
from commsflow.feeds.fetch import Entry, canonical_link, content_digest
from commsflow.feeds.sanitize import plain_text
from commsflow.files import write_atomic
from commsflow.i18n import _
from commsflow.model import TYPES, NewsMeta
from commsflow.slugs import slugify
from commsflow.validation import problems_from_validation_error

# The safe dumper (plain data only, no Python tags), in libyaml's C version when present:
# the same output as yaml.safe_dump, ten times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class KnownNews:
    """What the news folder already holds: de-duplication keys and names in use."""

    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, value) → file
    names: set[str] = field(default_factory=set)  # slugs of every item, stems of every news file


def project_slugs(content_dir: Path) -> set[str]:
    """The projects' slugs, from their files alone (file name, or ``slug:``): what a feed
    may name, without loading the whole library."""
    slugs = set()
    for path, data in _front_matters(content_dir / "projects"):
        override = data.get("slug") if data else None
        slugs.add(override if isinstance(override, str) else path.name.removesuffix(".md"))
    return slugs


def scan_content(content_dir: Path, root: Path) -> KnownNews:
    """Names in use (every item's slug and file name) and the keys of every news file,
    read from the front matter alone — files with problems count too, so a broken file
    is not imported a second time. Done once per run, and only if there is an entry to
    import."""
    known = KnownNews()
    for folder in TYPES:
        for path, data in _front_matters(content_dir / folder):
            known.names.add(path.name.removesuffix(".md"))
            if not data:
                continue
            if isinstance(data.get("slug"), str):
                known.names.add(data["slug"])
            if folder == "news":
                for kind, value in _file_keys(data):
                    known.keys.setdefault((kind, value), _shown(root, path))
    return known


def _front_matters(folder: Path):
    """``(path, front matter or None)`` for every Markdown file under ``folder``."""
    if not folder.is_dir():
        return
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(".md") or name.startswith("."):
                continue
            path = Path(directory, name)
            try:
                data = frontmatter.parse(frontmatter.split(name, frontmatter.decode(name, _read_small(path, folder))))
            except (OSError, frontmatter.SourceError):
                data = None
            yield path, data


# Only the front matter matters here (guid, link, title); `check` reports big files.
_FRONT_MATTER_BYTES = 1 << 20


def _read_small(path: Path, folder: Path) -> bytes:
    """A regular file's first MB; a pipe, a device or a link leading out of the folder is not
    opened (opening a named pipe would wait for a writer forever)."""
    if not path.is_file() or not path.resolve().is_relative_to(folder.resolve()):
        raise OSError(f"{path} is not a regular file in {folder}")
    with open(path, "rb") as handle:
        return handle.read(_FRONT_MATTER_BYTES)


def _file_keys(data: dict) -> list[tuple[str, str]]:
    keys = []
    guid, source = data.get("guid"), data.get("source")
    if isinstance(guid, str) and isinstance(source, str):
        keys.append(("guid", f"{source}\n{guid}"))
    link = canonical_link(data.get("link"), "") if isinstance(data.get("link"), str) else None
    if link:
        keys.append(("link", link))
    title = data.get("title")
    text = data.get("summary_html") or data.get("summary")
    if isinstance(title, str) and isinstance(text, str):
        digest = content_digest(plain_text(title), plain_text(text))
        if digest:
            keys.append(("hash", digest))
    return keys


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Planned:
    """A news file to write for an entry."""

    entry: Entry
    path: Path
    shown: str  # the path as shown to users
    text: str


class Importer:
    """Decides for each entry of a run: duplicate, or a new file (and which)."""

    def __init__(self, root: Path, content_dir: Path, seen, context: dict):
        self.root, self.content_dir, self.news_dir = root, content_dir, content_dir / "news"
        self.seen = seen  # has is_seen(kind, value) -> path | '' | None
        self.context = context
        self.fresh: dict[tuple[str, str], str] = {}  # keys of entries taken in this run
        self._known: KnownNews | None = None

    @property
    def known(self) -> KnownNews:
        if self._known is None:  # an unchanged feed (304) never gets here
            self._known = scan_content(self.content_dir, self.root)
        return self._known

    def duplicate_of(self, feed_name: str, entry: Entry) -> str | None:
        """Where the entry is already ('' if only its keys are known), or None if it is new."""
        for kind, value in entry.keys(feed_name):
            key = (kind, value)
            if key in self.fresh:
                return self.fresh[key]
            if key in self.known.keys:
                return self.known.keys[key]
            found = self.seen.is_seen(kind, value) if self.seen is not None else None
            if found is not None:
                return found
        return None

    def take(self, feed_name: str, entry: Entry, where: str) -> None:
        """Count the entry's keys as known for the rest of the run."""
        for key in entry.keys(feed_name):
            self.fresh.setdefault(key, where)

    def plan(self, feed: Feed, entry: Entry) -> tuple[Planned | None, list[Problem]]:
        """The file for a new entry, checked against the content model; or why there is none."""
        name = self._free_name(feed.name, entry)
        path = self.news_dir / f"{name}.md"
        shown = _shown(self.root, path)
        text = render_news(feed, entry)
        try:
            source = frontmatter.split(shown, text)
            NewsMeta.model_validate(frontmatter.parse(source), context=self.context)
        except frontmatter.SourceError as exc:  # pragma: no cover - safe_dump writes valid YAML
            return None, [_skipped(feed, entry, exc.problem.message)]
        except ValidationError as exc:
            found = problems_from_validation_error(exc, shown, frontmatter.line_finder(source), model=NewsMeta)
            reasons = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in found)
            return None, [_skipped(feed, entry, reasons)]
        self.known.names.add(name)
        return Planned(entry, path, shown, text), []

    def _free_name(self, feed_name: str, entry: Entry) -> str:
        base = f"{entry.day.isoformat()}-{slugify(entry.title) or 'meldung'}"
        if self._free(base):
            return base
        seed = (entry.keys(feed_name) or [("title", entry.title)])[0][1]
        suffix = hashlib.blake2b(seed.encode("utf-8"), digest_size=3).hexdigest()
        candidate, number = f"{base}-{suffix}", 2
        while not self._free(candidate):
            candidate, number = f"{base}-{suffix}-{number}", number + 1
        return candidate

    def _free(self, name: str) -> bool:
        return name not in self.known.names and not (self.news_dir / f"{name}.md").exists()


def _skipped(feed: Feed, entry: Entry, reason: str) -> Problem:
    return Problem(
        feed.name,
        _("entry {title!r} cannot be stored as news ({reason}); skipped").format(title=entry.title[:60], reason=reason),
        hint=_("report this with the feed's address"),
        severity=Severity.WARNING,
    )


def render_news(feed: Feed, entry: Entry) -> str:
    """The news file: YAML front matter written by the YAML library, the plain-text
    summary as the body (escaped, so it stays literal text)."""
    data: dict = {
        "title": entry.title,
        "status": "review",
        "date": entry.day,
        "projects": [feed.project],
        "source": feed.name,
    }
    if entry.link:
        data["link"] = entry.link
    if entry.guid:
        data["guid"] = entry.guid
    if entry.date_assumed:
        data["date_assumed"] = True
    if feed.tags:
        data["tags"] = list(feed.tags)
    if entry.summary:
        data["summary"] = entry.summary
    if entry.summary_html:
        data["summary_html"] = entry.summary_html
    front = yaml.dump(
        data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=1_000_000, default_flow_style=False
    )
    body = markdown.escape(entry.summary) + "\n" if entry.summary else ""
    return f"---\n{front}---\n{body}"


def write_new(planned: Planned) -> bool:
    """Write the file unless one appeared there meanwhile (an existing file is never replaced)."""
    if planned.path.exists():
        return False
    write_atomic(planned.path, planned.text)
    return True

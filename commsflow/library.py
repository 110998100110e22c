"""The library: the validated set of items, checked as a whole, with the queries
that assemblers and campaigns need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from commsflow import frontmatter
from commsflow.errors import Problem, closest
from commsflow.model import Item


@dataclass
class Library:
    items: list[Item]
    organisation_slug: str
    by_slug: dict[str, Item] = field(init=False)

    def __post_init__(self) -> None:
        self.by_slug = {}
        for item in self.items:
            self.by_slug.setdefault(item.slug, item)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def get(self, slug: str) -> Item | None:
        return self.by_slug.get(slug)

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]

    def query(
        self,
        kind: str | Iterable[str] | None = None,
        *,
        status: str | Iterable[str] | None = None,
        category: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        after: date | datetime | None = None,
        before: date | datetime | None = None,
    ) -> list[Item]:
        """Items matching every given criterion, oldest first.

        ``after``/``before`` compare the item's date (publication date or event start),
        both exclusive, so consecutive windows never share an item.
        """
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind else None
        statuses = {status} if isinstance(status, str) else set(status) if status else None
        found = []
        for item in self.items:
            if kinds and item.kind not in kinds:
                continue
            if statuses and item.status not in statuses:
                continue
            if category and getattr(item.meta, "category", None) != category:
                continue
            if project and project not in item.projects:
                continue
            if tag and tag not in item.meta.tags:
                continue
            if after is not None and not _later(item.when, after):
                continue
            if before is not None and not _later(before, item.when):
                continue
            found.append(item)
        return sorted(found, key=_sort_key)


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _later(a: date | datetime | None, b: date | datetime | None) -> bool:
    if a is None or b is None:
        return False
    a, b = _as_datetime(a), _as_datetime(b)
    if (a.tzinfo is None) != (b.tzinfo is None):  # compare wall-clock when one side is naive
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a > b


def _sort_key(item: Item):
    when = item.when
    return (_as_datetime(when).replace(tzinfo=None) if when else datetime.min, item.slug)


def check_library(items: list[Item], organisation_slug: str, root: Path) -> list[Problem]:
    """Problems that only show across items: duplicate slugs, references to nothing."""
    problems: list[Problem] = []
    by_slug: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_slug[item.slug].append(item)
    for slug, holders in by_slug.items():
        for item in holders[1:]:
            problems.append(
                Problem(
                    item.path,
                    f"duplicate slug {slug!r}, already used by {holders[0].path}",
                    line=_line(root, item, ("slug",)) if item.meta.slug else None,
                    field="slug",
                    hint="rename one of the files or set a different 'slug:'",
                )
            )
    projects = {item.slug for item in items if item.kind == "project"}
    events = {item.slug for item in items if item.kind == "event"}
    for item in items:
        if not item.refs:
            continue
        for position, ref in enumerate(item.refs.get("projects", ())):
            if ref not in projects:
                problems.append(_unknown(root, item, ("projects", position), ref, projects, "project"))
        for position, ref in enumerate(item.refs.get("events", ())):
            if ref not in events:
                problems.append(_unknown(root, item, ("events", position), ref, events, "event"))
        organiser = item.refs.get("organiser")
        if organiser and organiser != organisation_slug and organiser not in projects:
            problems.append(
                _unknown(root, item, ("organiser",), organiser, projects | {organisation_slug}, "organiser")
            )
    return problems


def _unknown(root: Path, item: Item, loc: tuple, ref: str, known: set[str], what: str) -> Problem:
    guess = closest(ref, known)
    hint = f"did you mean {guess!r}?" if guess else f"check the slug (the file name in content/{what}s/)"
    if what == "organiser" and not guess:
        hint = "name a project slug, or the organisation's own slug from commsflow.toml"
    return Problem(
        item.path,
        f"unknown {what} {ref!r}",
        line=_line(root, item, loc),
        field=f"{loc[0]}[{loc[1]}]" if len(loc) > 1 else loc[0],
        hint=hint,
    )


def _line(root: Path, item: Item, loc: tuple) -> int | None:
    """Where a field stands, worked out only now that there is a problem to point at."""
    try:
        return frontmatter.line_finder_for_file(root / item.path, item.path)(loc)
    except (OSError, frontmatter.SourceError):
        return None

"""The library: the validated set of items, checked as a whole, with the queries
that assemblers and campaigns need.

Files that did not validate are no items, but the library knows them
(:meth:`Library.invalid`): whoever looks up a slug and finds no item asks it before
reporting "no such item", so that an item with errors is not reported a second time as
missing — and never gets a "did you mean" that points somewhere else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from commsflow import frontmatter
from commsflow.errors import Problem, closest
from commsflow.i18n import _
from commsflow.model import InvalidItem, Item


@dataclass
class Library:
    items: list[Item]
    organisation_slug: str
    # The files that did not validate; default: those the items list carries (Items.invalid).
    invalid_items: list[InvalidItem] | None = None
    by_slug: dict[str, Item] = field(init=False)

    def __post_init__(self) -> None:
        self.by_slug = {}
        for item in self.items:
            self.by_slug.setdefault(item.slug, item)
        if self.invalid_items is None:
            self.invalid_items = list(getattr(self.items, "invalid", ()))
        self._invalid: dict[str, InvalidItem] = {}
        self._answers: dict[tuple, list[Item]] = {}
        for invalid in self.invalid_items:
            self._invalid.setdefault(invalid.slug, invalid)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def get(self, slug: str) -> Item | None:
        return self.by_slug.get(slug)

    def invalid(self, slug: str, kind: str | None = None) -> InvalidItem | None:
        """The file with this slug (and of this kind, if given) that did not validate, or
        None. Ask it when :meth:`get` finds nothing: an item that exists but has errors
        is reported in its own file; a reference to it gets at most the short pointer
        ``InvalidItem.referenced_from(...)``, never "no such item" or a "did you mean"."""
        invalid = self._invalid.get(slug)
        if invalid is None or (kind is not None and invalid.kind != kind):
            return None
        return invalid

    def slugs(self, kind: str | None = None) -> list[str]:
        """Every slug known to the library, valid or not (of this kind, if given): what a
        "did you mean" may suggest."""
        found = [item.slug for item in self.items if kind is None or item.kind == kind]
        found += [item.slug for item in self.invalid_items if kind is None or item.kind == kind]
        return list(dict.fromkeys(found))

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
        kinds = frozenset({kind} if isinstance(kind, str) else kind) if kind else None
        statuses = frozenset({status} if isinstance(status, str) else status) if status else None
        # Every slot campaign of a kind asks the same question: answered once per library.
        key = (kinds, statuses, category, project, tag, after, before)
        if key not in self._answers:
            self._answers[key] = self._query(kinds, statuses, category, project, tag, after, before)
        return list(self._answers[key])

    def _query(self, kinds, statuses, category, project, tag, after, before) -> list[Item]:
        found = []
        for item in self._ordered:
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
        return found

    @cached_property
    def _ordered(self) -> list[Item]:
        """Every item oldest first, sorted once: the calendar queries once per campaign."""
        return sorted(self.items, key=_sort_key)


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


def check_library(
    items: list[Item], organisation_slug: str, root: Path, invalid: list[InvalidItem] | None = None
) -> list[Problem]:
    """Problems that only show across items: duplicate slugs, references to nothing.

    ``invalid`` (default: what the items list carries, ``Items.invalid``) are the files
    that did not validate. Their slugs count as known — a reference to one of them is
    not reported, its own problems say what is wrong — and their references and slugs
    are checked like those of valid items, so that one run reports every problem.
    """
    if invalid is None:
        invalid = list(getattr(items, "invalid", ()))
    problems: list[Problem] = []
    by_slug: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_slug[item.slug].append(item)
    for slug, holders in by_slug.items():
        for item in holders[1:]:
            problems.append(
                Problem(
                    item.path,
                    _("duplicate slug {slug}, already used by {path}").format(slug=repr(slug), path=holders[0].path),
                    line=_line(root, item, ("slug",)) if item.meta.slug else None,
                    field="slug",
                    hint=_("rename one of the files or set a different 'slug:'"),
                )
            )
    # A file with errors that shares a slug with another file gets the duplicate too, now
    # rather than once its errors are fixed.
    broken_by_slug: dict[str, InvalidItem] = {}
    for broken in invalid:
        first = by_slug[broken.slug][0] if broken.slug in by_slug else broken_by_slug.get(broken.slug)
        broken_by_slug.setdefault(broken.slug, broken)
        if first is None:
            continue
        from_front_matter = broken.slug != broken.path.rsplit("/", 1)[-1].removesuffix(".md")
        problems.append(
            Problem(
                broken.path,
                _("duplicate slug {slug}, already used by {path}").format(slug=repr(broken.slug), path=first.path),
                line=_line(root, broken, ("slug",)) if from_front_matter else None,
                field="slug",
                hint=_("rename one of the files or set a different 'slug:'"),
            )
        )

    # Slugs a reference may name: valid items, and files with errors (reported in their own file).
    projects = {item.slug for item in [*items, *invalid] if item.kind == "project"}
    events = {item.slug for item in [*items, *invalid] if item.kind == "event"}
    organisers = projects | {organisation_slug}
    for item in [*items, *invalid]:
        if not item.refs:
            continue
        for position, ref in enumerate(item.refs.get("projects", ())):
            if ref and ref not in projects:
                problems.append(_unknown(root, item, ("projects", position), ref, projects, "project"))
        for position, ref in enumerate(item.refs.get("events", ())):
            if ref and ref not in events:
                problems.append(_unknown(root, item, ("events", position), ref, events, "event"))
        organiser = item.refs.get("organiser")
        if organiser and organiser not in organisers:
            problems.append(_unknown(root, item, ("organiser",), organiser, organisers, "organiser"))
    return problems


def _unknown(root: Path, item: Item | InvalidItem, loc: tuple, ref: str, known: set[str], what: str) -> Problem:
    """``what``: ``project``, ``event`` or ``organiser``."""
    guess = closest(ref, known)
    if guess:
        hint = _("did you mean {guess}?").format(guess=repr(guess))
    elif what == "organiser":
        hint = _("name a project slug, or the organisation's own slug from commsflow.toml")
    else:
        hint = _("check the slug (the file name in content/{folder}/)").format(folder=f"{what}s")
    if what == "project":
        message = _("unknown project {slug}")
    elif what == "event":
        message = _("unknown event {slug}")
    else:
        message = _("unknown organiser {slug}")
    return Problem(
        item.path,
        message.format(slug=repr(ref)),
        line=_line(root, item, loc),
        field=f"{loc[0]}[{loc[1]}]" if len(loc) > 1 else loc[0],
        hint=hint,
    )


def _line(root: Path, item: Item | InvalidItem, loc: tuple) -> int | None:
    """Where a field stands, worked out only now that there is a problem to point at."""
    try:
        return frontmatter.line_finder_for_file(root / item.path, item.path)(loc)
    except (OSError, frontmatter.SourceError):
        return None

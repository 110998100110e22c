"""A newsletter issue's content: which items go into which section.

Explicit ``items`` and ``featured`` entries are placed first, then the selection rules
run section by section in file order; an item already placed is skipped, so no item
appears twice. Only items signed off (``approved`` or ``published``) are used;
``drafts=True`` lets the others in, marked, for preview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from commsflow.campaigns import Campaign, CampaignSet, Section, resolve_bound
from commsflow.errors import Problem, Severity, closest
from commsflow.i18n import _, ngettext
from commsflow.library import Library
from commsflow.model import Item
from commsflow.validation import field_path

SIGNED_OFF = ("approved", "published")


@dataclass
class Entry:
    item: Item
    draft: bool  # not signed off; only with --drafts
    featured: bool = False
    summary: str | None = None  # the campaign's own teaser for this item


@dataclass
class AssembledSection:
    spec: Section
    index: int
    entries: list[Entry] = field(default_factory=list)


@dataclass
class AssembledIssue:
    campaign: Campaign
    previous: Campaign | None
    sections: list[AssembledSection]
    problems: list[Problem]
    drafts: bool

    @property
    def entries(self) -> list[Entry]:
        return [entry for section in self.sections for entry in section.entries]


def previous_issue(campaign: Campaign, campaigns: CampaignSet) -> Campaign | None:
    spec = campaign.spec
    if spec.previous:
        return campaigns.get(spec.previous, "newsletter")
    earlier = [c for c in campaigns.of_kind("newsletter") if c.spec.send_at < spec.send_at]
    return max(earlier, key=lambda c: c.spec.send_at, default=None)


def assemble(
    campaign: Campaign, campaigns: CampaignSet, library: Library, zone, *, drafts: bool = False
) -> AssembledIssue:
    spec = campaign.spec
    problems: list[Problem] = []

    def problem(loc: tuple, message: str, hint: str | None = None, severity=Severity.ERROR):
        problems.append(
            Problem(
                campaign.path, message, line=campaign.line_of(loc), field=field_path(loc), hint=hint, severity=severity
            )
        )

    previous = previous_issue(campaign, campaigns)
    if spec.previous and previous is None:
        known = [c.id for c in campaigns.of_kind("newsletter") if c.id != campaign.id]
        guess = closest(spec.previous, known)
        problem(
            ("previous",),
            _("no newsletter issue {issue!r}").format(issue=spec.previous),
            _("did you mean {guess!r}?").format(guess=guess)
            if guess
            else _("name the id of an earlier issue, or remove 'previous'"),
        )

    sections = [AssembledSection(section, index) for index, section in enumerate(spec.sections)]
    placed: dict[str, tuple] = {}
    # section index → its rule and its filter, to find what it left out as not signed off (asked of empty sections)
    held: dict[int, tuple] = {}
    refused: set[int] = set()  # sections with a named item refused as not signed off (an error says so)

    def admit(slug: str, loc: tuple) -> Item | None:
        item = library.get(slug)
        if item is None:
            invalid = library.invalid(slug)
            if invalid is not None:  # its file has errors, reported there: point at it, guess nothing
                problems.append(
                    invalid.referenced_from(campaign.path, line=campaign.line_of(loc), field=field_path(loc))
                )
                return None
            guess = closest(slug, library.slugs())
            problem(
                loc,
                _("no item {slug!r} in the content library").format(slug=slug),
                _("did you mean {guess!r}?").format(guess=guess)
                if guess
                else _("use the item's slug (its file name without .md)"),
            )
            return None
        if item.status not in SIGNED_OFF:
            if not drafts:
                problem(
                    loc,
                    _("{slug!r} is left out: it is {state}, not approved").format(slug=slug, state=_not_yet(item)),
                    _("approve {path} (status: approved) or preview with --drafts").format(path=item.path),
                )
                refused.add(loc[1])
                return None
        if slug in placed:
            problem(
                loc,
                _("{slug!r} is already in the issue (at {place})").format(slug=slug, place=_where(placed[slug])),
                _("an item appears in at most one section; remove one of the two"),
            )
            return None
        placed[slug] = loc
        return item

    # Explicitly named items first, so that no rule takes them into an earlier section.
    for section in sections:
        featured_slug = section.spec.featured
        if featured_slug:
            item = admit(featured_slug, ("sections", section.index, "featured"))
            if item:
                section.entries.append(Entry(item, item.status not in SIGNED_OFF, featured=True))
        for position, pick in enumerate(section.spec.items):
            if pick.item == featured_slug:
                if pick.summary and section.entries:
                    section.entries[0].summary = pick.summary
                continue
            item = admit(pick.item, ("sections", section.index, "items", position))
            if item:
                section.entries.append(Entry(item, item.status not in SIGNED_OFF, summary=pick.summary))

    statuses = None if drafts else SIGNED_OFF
    for section in sections:
        rule = section.spec.select
        if rule is None:
            continue
        window = {}
        for name, text in (("after", rule.from_), ("before", rule.until)):
            if text is None:
                text = "period.start" if name == "after" else "period.end"
            window[name] = resolve_bound(
                text,
                send=spec.send_at,
                previous=previous.spec.send_at if previous else None,
                period=spec.period,
                zone=zone,
            )

        def selected(item: Item, rule=rule, window=window) -> bool:
            return (
                item.slug not in placed
                and (not rule.tags or set(rule.tags) & set(item.meta.tags))
                and (not rule.projects or set(rule.projects) & set(item.projects))
                and _within(item, window["after"], window["before"], zone)
            )

        found = [item for item in library.query(rule.kinds, status=statuses, category=rule.category) if selected(item)]
        if statuses:  # what the rule would take but is not signed off yet: said so if the section stays empty
            held[section.index] = (rule, selected)
        found = _sorted(found, rule.sort or ("date" if rule.kinds == ("event",) else "-date"))
        if rule.limit:
            found = found[: rule.limit]
        for item in found:
            placed[item.slug] = ("sections", section.index, "select")
            section.entries.append(Entry(item, item.status not in SIGNED_OFF))

    for section in sections:
        waiting = (
            _not_signed_off(library, *held[section.index]) if not section.entries and section.index in held else None
        )
        if waiting:
            if len(waiting) == 1:
                why = _("{slug!r} is {state}, not approved").format(slug=waiting[0].slug, state=_not_yet(waiting[0]))
            else:
                shown = ", ".join(
                    _("{slug!r} ({state})").format(slug=item.slug, state=_not_yet(item)) for item in waiting[:3]
                )
                more = len(waiting) - 3
                why = (
                    ngettext(
                        "{items} and {count} more are not approved", "{items} and {count} more are not approved", more
                    ).format(items=shown, count=more)
                    if more > 0
                    else _("{items} are not approved").format(items=shown)
                )
            title = section.spec.title
            problem(
                ("sections", section.index),
                _("section {title!r} is left out: {why}").format(title=title, why=why)
                if section.spec.cta is None
                else _("section {title!r} has no items: {why}").format(title=title, why=why),
                ngettext(
                    "approve it (status: approved) or preview with --drafts",
                    "approve them (status: approved) or preview with --drafts",
                    len(waiting),
                ),
                severity=Severity.WARNING,
            )
        elif not section.entries and section.spec.cta is None and section.index not in refused:
            problem(
                ("sections", section.index),
                _("section {title!r} is empty").format(title=section.spec.title),
                _("widen its 'select' rule (from/until, type, tags) or name items; empty sections are left out"),
                severity=Severity.WARNING,
            )
        if drafts:
            for entry in section.entries:
                if entry.draft:
                    problem(
                        ("sections", section.index),
                        _("{slug!r} is {status} — shown marked as Entwurf").format(
                            slug=entry.item.slug, status=entry.item.status
                        ),
                        _("approve it before sending"),
                        severity=Severity.WARNING,
                    )
    if not spec.preheader:
        problem(
            ("preheader",),
            _("no preheader"),
            _(
                "add 'preheader:' — the inbox shows it after the subject;"
                " without it, mail clients show the first words of the e-mail"
            ),
            severity=Severity.WARNING,
        )
    return AssembledIssue(campaign, previous, sections, problems, drafts)


def _not_signed_off(library: Library, rule, selected: Callable[[Item], bool]) -> list[Item]:
    """The items a section's rule would take if they were signed off."""
    return [
        item
        for item in library.query(rule.kinds, category=rule.category)
        if item.status not in SIGNED_OFF and selected(item)
    ]


def _not_yet(item: Item) -> str:
    """``still in review``, ``still a draft``: why an item cannot go into an issue yet."""
    return {"review": _("still in review"), "draft": _("still a draft")}.get(item.status, item.status)


def _where(loc: tuple) -> str:
    return field_path(loc)


def _aware(value: date | datetime, zone) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return datetime(value.year, value.month, value.day, tzinfo=zone)


def _within(item: Item, after: datetime, before: datetime, zone) -> bool:
    when = item.when
    if when is None:  # projects: no date of their own, any window admits them
        return True
    moment = _aware(when, zone)
    return after <= moment < before


def _sorted(items: list[Item], order: str) -> list[Item]:
    if order == "title":
        return sorted(items, key=lambda item: item.title.casefold())
    items = sorted(
        items,
        key=lambda item: (_aware(item.when, zone=None).replace(tzinfo=None) if item.when else datetime.min, item.slug),
    )
    return list(reversed(items)) if order == "-date" else items

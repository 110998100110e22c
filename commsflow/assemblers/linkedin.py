"""Which LinkedIn drafts exist: one or two per item, chosen by type, tags, status and the clock.

Posts signed off (``approved`` or ``published``) get an ``article`` draft, or a
``funding-call`` draft when tagged „Fördercall“; news get a ``news`` draft; events get a
``save-the-date`` and a ``reminder`` draft while they start after now, a ``recap`` once
they have started. Projects get none. One ``figures`` draft (id ``zahlen``) presents the
programme figures. ``drafts=True`` lets items not yet signed off in, marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from commsflow.errors import CommsflowError, closest
from commsflow.i18n import _
from commsflow.library import Library
from commsflow.model import Item

SIGNED_OFF = ("approved", "published")
KINDS = ("article", "funding-call", "news", "save-the-date", "reminder", "recap", "figures")
FIGURES_ID = "zahlen"  # the item id of the figures post
FUNDING_CALL_TAG = "Fördercall"


@dataclass(frozen=True)
class Planned:
    """One draft to write: the item it presents (None for the figures post) and its kind."""

    item: Item | None
    kind: str
    draft: bool = False  # the item is not signed off; only with --drafts

    @property
    def item_id(self) -> str:
        return self.item.slug if self.item is not None else FIGURES_ID

    @property
    def name(self) -> str:
        """File name without extension: ``<item>--<kind>``."""
        return f"{self.item_id}--{self.kind}"


def kinds_for(item: Item, now: datetime, zone) -> tuple[str, ...]:
    """The draft kinds an item gets at ``now``."""
    if item.kind == "post":
        tags = {tag.casefold() for tag in item.meta.tags}
        return ("funding-call",) if FUNDING_CALL_TAG.casefold() in tags else ("article",)
    if item.kind == "news":
        return ("news",)
    if item.kind == "event":
        return ("save-the-date", "reminder") if starts(item, zone) > now else ("recap",)
    return ()


def starts(item: Item, zone) -> datetime:
    """An event's start as an aware moment; an all-day event starts at midnight."""
    start: date | datetime = item.meta.start
    if isinstance(start, datetime):
        return start if start.tzinfo else start.replace(tzinfo=zone)
    return datetime(start.year, start.month, start.day, tzinfo=zone)


def plan(
    library: Library, now: datetime, zone, *, slugs: list[str] | None = None, drafts: bool = False
) -> list[Planned]:
    """The drafts to build: for the items named by ``slugs`` (``zahlen`` for the figures
    post), or for every item. Naming an unknown item, a project or (without ``drafts``)
    an item not signed off is an error; choosing all simply leaves those out."""
    wanted = list(dict.fromkeys(slugs)) if slugs else None
    if wanted is not None:
        _check_names(library, wanted, drafts)
    planned: list[Planned] = []
    for item in sorted(library, key=lambda i: (i.kind, i.slug)):
        if wanted is not None and item.slug not in wanted:
            continue
        signed_off = item.status in SIGNED_OFF
        if not signed_off and not drafts:
            continue
        planned += [Planned(item, kind, draft=not signed_off) for kind in kinds_for(item, now, zone)]
    if wanted is None or FIGURES_ID in wanted:
        planned.append(Planned(None, "figures"))
    return planned


def _check_names(library: Library, wanted: list[str], drafts: bool) -> None:
    for slug in wanted:
        item = library.get(slug)
        if item is None:
            if slug == FIGURES_ID:
                continue
            guess = closest(slug, [*library.by_slug, FIGURES_ID])
            raise CommsflowError(
                _("no item {slug!r} in the content library").format(slug=slug),
                _("did you mean {guess!r}?").format(guess=guess)
                if guess
                else _("use the item's slug (its file name without .md), or {figures!r} for the figures post").format(
                    figures=FIGURES_ID
                ),
            )
        if item.kind == "project":
            raise CommsflowError(
                _("{slug!r} is a project; projects get no LinkedIn drafts").format(slug=slug),
                _("name a post, news item or event, or {figures!r} for the figures post").format(figures=FIGURES_ID),
            )
        if item.status not in SIGNED_OFF and not drafts:
            raise CommsflowError(
                _("{slug!r} is {status}, not approved").format(slug=slug, status=item.status),
                _("approve {path} (status: approved) or preview with --drafts").format(path=item.path),
            )

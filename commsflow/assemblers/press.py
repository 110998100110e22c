"""A press release's content: which item, which kind, and the facts it must carry.

Items opt in with a ``press:`` block in their front matter (or are named on the
command line). The kind follows from the item unless the block says otherwise:
an event before it starts gets an invitation, after it a recap; a post tagged
„Fördercall“ a funding call; any other post an announcement. What a kind needs
and the item lacks — an invitation without venue or time — is an error naming
the item and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from commsflow import frontmatter
from commsflow.errors import Problem, Severity
from commsflow.i18n import _
from commsflow.model import Item

FUNDING_TAGS = ("Fördercall", "Förderaufruf")


@dataclass
class Release:
    item: Item
    kind: str
    date: date  # the dateline's date
    headline: str
    subline: str | None
    lead: str  # Markdown: press.lead or the body's opening paragraph
    body_markdown: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def default_kind(item: Item, now: datetime) -> str | None:
    meta = item.meta
    if meta.press and meta.press.kind:
        return meta.press.kind
    if item.kind == "event":
        start = (
            meta.start
            if isinstance(meta.start, datetime)
            else datetime(meta.start.year, meta.start.month, meta.start.day, tzinfo=now.tzinfo)
        )
        return "invitation" if start > now else "recap"
    if item.kind == "post":
        return "funding-call" if set(meta.tags) & set(FUNDING_TAGS) else "announcement"
    if item.kind == "news":
        return "announcement"
    return None


def assemble(item: Item, root, now: datetime, kind: str | None = None) -> Release:
    """``kind`` overrides the item's own (a campaign step names the kind it sends)."""
    meta = item.meta
    press = meta.press
    problems: list[Problem] = []

    def problem(field_name: str, message: str, hint: str, severity=Severity.ERROR):
        problems.append(
            Problem(
                item.path, message, line=_line(root, item, field_name), field=field_name, hint=hint, severity=severity
            )
        )

    kind = kind or default_kind(item, now)
    if kind is None:
        problem(
            "press",
            _("a {kind} cannot be the subject of a press release").format(kind=item.kind),
            _("write a post about the project and mark that for the press"),
        )
        kind = "announcement"
    if kind in ("invitation", "recap") and item.kind != "event":
        problem(
            "press.kind",
            _("a {kind} is about an event, and this is a {item_kind}").format(kind=kind, item_kind=item.kind),
            _("use kind: announcement or funding-call, or mark the event itself"),
        )
    if kind == "invitation" and item.kind == "event":
        if meta.venue is None:
            problem("venue", _("an invitation needs the venue"), _("add venue: {name: …, city: …} to the event"))
        if meta.all_day:
            problem(
                "start",
                _("an invitation needs the start time"),
                _("write the time with the date, e.g. '2024-04-25 16:00'"),
            )
        if meta.registration is None:
            problem(
                "registration",
                _("no registration link for the invitation"),
                _("add registration: https://… if guests must register"),
                severity=Severity.WARNING,
            )
    # The body's opening paragraph is its lead; press.lead words it for the press instead.
    opening, rest = _split_lead(_body(root, item))
    lead = (press.lead if press and press.lead else None) or opening
    if not lead:
        problem(
            "press.lead",
            _("no lead paragraph"),
            _("add press: {lead: …} (who, what, when, where, why) or start the body with a paragraph"),
        )
        lead = ""
    day = (press.date if press and press.date else None) or getattr(meta, "date", None) or now.date()
    return Release(
        item=item,
        kind=kind,
        date=day,
        headline=(press.headline if press and press.headline else None) or meta.title,
        subline=press.subline if press else None,
        lead=lead,
        body_markdown=rest,
        problems=problems,
    )


def _body(root, item: Item) -> str:
    """The item's Markdown body, read again from its file (the library keeps only HTML)."""
    path = root / item.path
    source = frontmatter.split(item.path, frontmatter.decode(item.path, path.read_bytes()))
    return source.body.strip()


def _split_lead(body: str) -> tuple[str, str]:
    """The first paragraph (if the body starts with one) and the rest."""
    first, _blank, rest = body.partition("\n\n")
    if not first or first.lstrip().startswith(("#", ">", "-", "*", "|", "```")) or first[:1].isdigit():
        return "", body
    return " ".join(first.split()), rest.strip()


def _line(root, item: Item, field_name: str) -> int | None:
    try:
        return frontmatter.line_finder_for_file(root / item.path, item.path)(tuple(field_name.split(".")))
    except (OSError, frontmatter.SourceError):
        return None

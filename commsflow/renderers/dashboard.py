"""The preview dashboard: ``build/index.html``, the team's view of what will go out.

The calendar (upcoming first, by calendar week) and, channel by channel (sections come
from the channel registry), every planned job exactly as it goes out, with its planned
time — the newsletter in desktop and mobile frames, each post as the feed shows it with
the „…mehr“ cut marked, each press release as printed — with its warnings, its sign-off
state and, where a sign-off went stale, what changed, or who rejected it and why.

Previews of signed-off items no campaign plans yet are on pages of their own, one per
month of the items' dates (``build/drafts/2024-03.html``; ``undated.html`` for items
without a date), which the dashboard lists: they are not what goes out, and a corpus of
years holds thousands of them. A month's page is rendered again only when what it shows
changed (``commsflow.build.write_dashboard`` keeps each page's digest). Wording and
markup are in ``templates/dashboard/``: ``index.html``, ``drafts.html``, ``card.html``
for one preview card and ``style.html`` for both pages' look.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import orjson
from markupsafe import Markup

from commsflow import channels, i18n
from commsflow.approvals import label
from commsflow.errors import Problem
from commsflow.renderers.linkedin import as_feed_shows, hashtags_in
from commsflow.renderers.templating import environment, macro, render


def _as_post(preview: dict, text: str) -> dict:
    """A post as the feed shows it: the „…mehr“ cut, its length and hashtags."""
    return {**preview, **as_feed_shows(text), "hashtags": hashtags_in(text)}


DRAFTS_FOLDER = "drafts"  # in the build folder: the previews' pages
UNDATED = "undated"  # the page of previews without a month


@dataclass
class Page:
    """A page of previews: its digest (what it shows, in the dashboard's templates and the
    UI language) and how to render it, called only when the digest is not the kept one."""

    digest: str
    render: Callable[[], str]


@dataclass
class Dashboard:
    index: str  # build/index.html
    pages: dict[str, Page]  # relative to the build folder: drafts/2024-03.html, …
    key: str  # the templates, settings and code the digests hold for


def render_dashboard(plan, renditions: list, problems: list[Problem]) -> Dashboard:
    """``plan``: a :class:`commsflow.plan.Plan`; ``renditions``: what the build kept of each
    rendition (``commsflow.build.Built``)."""
    from commsflow.plan import is_draft

    config, library, campaigns, now = plan.config, plan.library, plan.campaigns, plan.now
    by_path: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_path[problem.path].append(problem)

    def notes(*paths: str) -> list[dict]:
        return [{"error": p.is_error, "text": p.format()} for path in paths for p in by_path.get(path, [])]

    titles = plan.titles
    # A calendar row links to its preview: the jobs the build rendered have one.
    previewed = {built.job.id for built in renditions}
    upcoming = [job for job in plan.jobs if job.planned >= now]
    past = [job for job in plan.jobs if job.planned < now]
    weeks = []
    for job in upcoming:
        year, week, _ = job.planned.isocalendar()
        if not weeks or weeks[-1]["key"] != (year, week):
            monday = job.planned.date() - timedelta(days=job.planned.weekday())
            weeks.append(
                {"key": (year, week), "week": week, "monday": monday, "sunday": monday + timedelta(days=6), "jobs": []}
            )
        weeks[-1]["jobs"].append(_job(job, titles, previewed))

    registry = channels.registry()
    records = plan.approvals.records

    issues: dict[str, str] = {}  # a newsletter issue's id → its campaign file (the first, as campaigns.get)
    for campaign in campaigns.of_kind("newsletter"):
        issues.setdefault(campaign.id, campaign.path)

    def noted(job, item_path: str | None) -> list[str]:
        """The files whose problems a job's card shows: its item's, its issue's, its e-mail's."""
        paths = [path for path in (item_path, issues.get(job.item)) if path]
        return [*paths, f"{job.item}/email.html"] if job.channel == "newsletter" else paths

    def shown(built) -> tuple[dict, str | None]:
        """A preview card's data, and the post's text where it is shown as the feed shows it."""
        job = built.job
        item = library.get(job.item)
        signoff = None
        if job.channel != "ics" and (item is not None or job.item in issues):
            signoff = plan.signoffs.get(job.item)
        changes = [change.diff for change in signoff.changes if change.label == label(job)] if signoff else []
        draft = is_draft(job)
        preview = {
            "id": _anchor(job.id),
            "channel": job.channel,
            "item": job.item,
            "kind": job.template,
            "title": built.title or titles.get(job.item, job.item),
            "planned": None if draft else job.planned,
            "state": None if draft else job.state,
            "files": built.files,
            "link": built.link,
            "signoff": signoff.state if signoff else None,
            "rejection": _rejection(signoff, config.zone),
            "changes": changes,
            "notes": notes(*noted(job, item.path if item else None)),
        }
        if job.channel == "newsletter":
            # An issue is known by its name, as in the calendar and the archive; its subject is shown with it.
            preview.update(title=titles.get(job.item, preview["title"]), subject=built.title)
            preview["email"] = next((f for f in built.files if f.endswith("/email.html")), None)
            preview["text"] = next((f for f in built.files if f.endswith("/email.txt")), None)
        elif job.channel == "press":
            preview["html"] = next((f for f in built.files if f.endswith(".html")), None)
            preview["docx"] = next((f for f in built.files if f.endswith(".docx")), None)
        # A post is shown as the feed shows it; worked out only for a card that is rendered.
        look = registry[job.channel].look  # newsletter frames, feed posts, printed releases, files
        return preview, built.review if look == "post" else None

    def made_of(found: list, channel: str) -> list:
        """Everything :func:`shown` reads for the previews ``found`` that no job plans, named
        without working the cards out: a month's page is rendered again only when this
        changed. (For 10,000 items, 7,000 previews, working out every card cost a tenth of
        a build in which one text changed.) The rendition by what a card shows of it
        (``Built.shown``); a sign-off stands for itself by the item's record (none:
        „missing“); the notes are the problems of the files a preview is made from (a
        preview's job names its item's file), as orjson writes the Problems themselves."""
        rows = []
        for built in found:
            job = built.job
            signoff = None
            if job.item in records and channel != "ics":
                signed = plan.signoffs.get(job.item)
                signoff = [signed.state, _rejection(signed, config.zone)]
                signoff += [change.diff for change in signed.changes if change.label == label(job)]
            problems = [by_path[path] for path in noted(job, job.source) if path in by_path]
            rows.append([job.id, built.shown, titles.get(job.item), signoff, problems])
        return rows

    sections: dict[str, list] = {name: [] for name in registry}
    months: dict[str, dict[str, list]] = defaultdict(lambda: {name: [] for name in registry})
    for built in renditions:
        job = built.job
        if is_draft(job):
            months[plan.draft_months.get(job.item) or UNDATED][job.channel].append(built)
        else:
            sections[job.channel].append(shown(built))

    env = environment(config)
    card = macro(env, "dashboard/card.html", "card")
    language = i18n.language()  # the pages' lang: the language their wording is in
    organisation = config.organisation.model_dump()

    def shown_sections(found: dict[str, list], base: str, every_scheduled: bool) -> list[dict]:
        shown = []
        for name, channel in registry.items():
            if found[name] or (every_scheduled and channel.scheduled):
                cards = "".join(
                    str(card(_as_post(preview, text) if text is not None else preview, channel.look, base))
                    for preview, text in found[name]
                )
                shown.append(
                    {
                        "name": name,
                        "title": channel.shown_title(),
                        "look": channel.look,
                        "cards": Markup(cards),
                        "count": len(found[name]),
                    }
                )
        return shown

    pages, listed = {}, []
    newest_first = sorted((month for month in months if month != UNDATED), reverse=True)
    for month in newest_first + ([UNDATED] if UNDATED in months else []):
        found = months[month]
        first = None if month == UNDATED else date(int(month[:4]), int(month[5:7]), 1)
        name = f"{DRAFTS_FOLDER}/{month}.html"
        shows = [
            language,
            plan.approvals.broken,
            month,
            [[channel, made_of(found[channel], channel)] for channel in registry if found[channel]],
        ]
        try:  # orjson: some 7,000 previews
            dumped = orjson.dumps(shows)
        except TypeError:
            dumped = repr(shows).encode()

        def page(found=found, first=first) -> str:
            cards = {channel: [shown(built) for built in found[channel]] for channel in registry}
            return render(
                env,
                "dashboard/drafts.html",
                ui_language=language,
                organisation=organisation,
                month=first,
                sections=shown_sections(cards, "../", every_scheduled=False),
            )

        pages[name] = Page(hashlib.blake2b(dumped, digest_size=16).hexdigest(), page)
        counts = [(registry[channel].shown_title(), len(found[channel])) for channel in registry if found[channel]]
        listed.append({"href": name, "month": first, "count": sum(n for _, n in counts), "channels": counts})

    index = render(
        env,
        "dashboard/index.html",
        ui_language=language,
        organisation=organisation,
        now=now,
        weeks=weeks,
        past=[_job(job, titles, previewed) for job in reversed(past)],
        # What will not go out as things stand, with why: easy to miss in a long calendar.
        blocked=[_job(job, titles, previewed) for job in upcoming if job.state == "blocked"],
        sections=shown_sections(sections, "", every_scheduled=True),
        drafts=listed,
        drafted={name: sum(len(found[name]) for found in months.values()) for name in registry},
        channel_titles={name: channel.shown_title() for name, channel in registry.items()},
        counts={"errors": sum(p.is_error for p in problems), "warnings": sum(not p.is_error for p in problems)},
        problems=[{"error": p.is_error, "text": p.format()} for p in problems],
    )
    return Dashboard(index, pages, _key(config))


def _key(config) -> str:
    """What every page's digest holds for: the dashboard's templates, the settings, commsflow's code."""
    from commsflow.cache import code_fingerprint

    key = hashlib.blake2b(digest_size=16)
    for part in (config.fingerprint, code_fingerprint()):
        key.update(part.encode() + b"\0")
    for path in sorted((config.path("templates") / "dashboard").glob("*.html")):
        key.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return key.hexdigest()


def _rejection(signoff, zone) -> dict | None:
    """Who rejected the item, when and why (commsflow reject), for „Abgelehnt von …: Grund“."""
    if signoff is None or signoff.state != "rejected":
        return None
    record = signoff.record
    return {"by": record.by, "at": record.at.astimezone(zone), "reason": record.reason}


def _anchor(job_id: str) -> str:
    return job_id.replace("/", "-").replace("@", "-").replace(":", "")


def _job(job, titles: dict, previewed: set[str]) -> dict:
    return {
        "anchor": _anchor(job.id) if job.id in previewed else None,
        "approved": job.approved,
        "planned": job.planned,
        "channel": job.channel,
        "item": job.item,
        "title": titles.get(job.item, job.item),
        "template": job.template,
        "state": job.state,
        "conflicts": list(job.conflicts),
        "note": job.note,
    }

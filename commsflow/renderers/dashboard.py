"""The preview dashboard: ``build/index.html``, the team's view of what will go out.

The calendar (upcoming first, by calendar week) and, channel by channel (sections come
from the channel registry), every rendition the build made: each job exactly as it
goes out, with its planned time, and previews of items no campaign plans yet — the
newsletter in desktop and mobile frames, each post as the feed shows it with the
„…mehr“ cut marked, each press release as printed — with its warnings, its sign-off
state and, where a sign-off went stale, what changed, or who rejected it and why. Wording and markup are in
``templates/dashboard/index.html`` and, for one preview card, ``card.html``.

With 10,000 items the dashboard holds some 7,000 cards; a card is rendered only when what
it shows changed since the last build (the cards are kept in the state folder, keyed by
what they show, the dashboard templates, the settings and commsflow's code).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

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


def render_dashboard(plan, renditions: list, problems: list[Problem]) -> str:
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

    sections = {name: [] for name in channels.registry()}
    for built in renditions:
        job = built.job
        item = library.get(job.item)
        campaign = campaigns.get(job.item, "newsletter")
        signoff = None
        if job.channel != "ics" and (item is not None or campaign is not None):
            signoff = plan.signoffs.get(job.item)
        changes = [change.diff for change in signoff.changes if change.label == label(job)] if signoff else []
        preview = {
            "id": _anchor(job.id),
            "channel": job.channel,
            "item": job.item,
            "kind": job.template,
            "title": built.title or titles.get(job.item, job.item),
            "planned": None if is_draft(job) else job.planned,
            "state": None if is_draft(job) else job.state,
            "files": built.files,
            "link": built.link,
            "signoff": signoff.state if signoff else None,
            "rejection": _rejection(signoff, config.zone),
            "changes": changes,
            "notes": notes(*(p for p in (item.path if item else None, campaign.path if campaign else None) if p)),
        }
        if job.channel == "newsletter":
            # An issue is known by its name, as in the calendar and the archive; its subject is shown with it.
            preview.update(title=titles.get(job.item, preview["title"]), subject=built.title)
            preview["email"] = next((f for f in built.files if f.endswith("/email.html")), None)
            preview["text"] = next((f for f in built.files if f.endswith("/email.txt")), None)
            preview["notes"] += notes(f"{job.item}/email.html")
        elif job.channel == "press":
            preview["html"] = next((f for f in built.files if f.endswith(".html")), None)
            preview["docx"] = next((f for f in built.files if f.endswith(".docx")), None)
        # A post is shown as the feed shows it; worked out only for a card not kept (_Cards).
        look = channels.get(job.channel).look  # newsletter frames, feed posts, printed releases, files
        sections[job.channel].append((preview, built.review if look == "post" else None))

    env = environment(config)
    cards = _Cards(env, config)
    shown = []
    for name, channel in channels.registry().items():
        if sections[name] or channel.scheduled:
            look = channel.look
            found = "".join(cards.card(preview, look, text) for preview, text in sections[name])
            shown.append(
                {
                    "name": name,
                    "title": channel.shown_title(),
                    "look": look,
                    "cards": Markup(found),
                    "count": len(sections[name]),
                }
            )
    cards.save()
    return render(
        env,
        "dashboard/index.html",
        ui_language=i18n.language(),  # the page's lang: the language its wording is in
        organisation=config.organisation.model_dump(),
        now=now,
        weeks=weeks,
        past=[_job(job, titles, previewed) for job in reversed(past)],
        # What will not go out as things stand, with why: easy to miss in a long calendar.
        blocked=[_job(job, titles, previewed) for job in upcoming if job.state == "blocked"],
        sections=shown,
        channel_titles={name: channel.shown_title() for name, channel in channels.registry().items()},
        counts={"errors": sum(p.is_error for p in problems), "warnings": sum(not p.is_error for p in problems)},
        problems=[{"error": p.is_error, "text": p.format()} for p in problems],
    )


class _Cards:
    """Rendered preview cards, kept from one build to the next by what they show."""

    def __init__(self, env, config):
        import hashlib

        from commsflow.cache import code_fingerprint, read_kept

        self.path = config.path("state") / "build" / "dashboard-cards.json"
        self.macro = macro(env, "dashboard/card.html", "card")
        folder = config.path("templates") / "dashboard"
        key = hashlib.blake2b(digest_size=16)
        for part in (config.fingerprint, code_fingerprint()):
            key.update(part.encode() + b"\0")
        for path in sorted(folder.glob("*.html")):
            key.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        self.key = key.hexdigest()
        self.kept: dict[str, str] = read_kept(self.path, self.key)  # none yet, or unreadable: every card is rendered
        self.fresh: dict[str, str] = {}

    def card(self, preview: dict, look: str, text: str | None) -> str:
        """``text``: a post's text, shown as the feed shows it."""
        import hashlib

        try:  # orjson: a tenth of repr's time, for some 7,000 cards
            shown = orjson.dumps(preview)
        except TypeError:
            shown = repr(preview).encode()
        key = hashlib.blake2b(f"{look}\0{text}\0".encode() + shown, digest_size=16).hexdigest()
        html = self.fresh.get(key) or self.kept.get(key)
        if html is None:
            html = str(self.macro(_as_post(preview, text) if text is not None else preview, look))
        self.fresh[key] = html
        return html

    def save(self) -> None:
        from commsflow.cache import write_kept

        if self.fresh != self.kept:
            write_kept(self.path, self.key, self.fresh)


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

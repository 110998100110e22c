"""The preview dashboard: ``build/index.html``, the team's view of what will go out.

The calendar (upcoming first, by calendar week) and, for every output, its preview:
the newsletter in desktop and mobile frames, each LinkedIn draft as the feed shows it
with the „…mehr“ cut marked, each press release as printed — with its warnings and
its sign-off state. Wording and markup are in ``templates/dashboard/index.html``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from commsflow import stats
from commsflow.assemblers import linkedin as linkedin_plan
from commsflow.calendar import Calendar
from commsflow.config import Config
from commsflow.errors import Problem
from commsflow.library import Library
from commsflow.renderers import linkedin as linkedin_renderer
from commsflow.renderers.templating import environment, render


def render_dashboard(
    config: Config,
    library: Library,
    campaigns,
    calendar: Calendar,
    outputs: dict[str, list[str]],
    problems: list[Problem],
    *,
    now: datetime,
    signoff=lambda key: None,
) -> str:
    by_path: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_path[problem.path].append(problem)

    def notes(*paths: str) -> list[dict]:
        return [{"error": p.is_error, "text": p.format()} for path in paths for p in by_path.get(path, [])]

    titles = {item.slug: item.title for item in library}
    titles.update({c.id: c.spec.title for c in campaigns.of_kind("newsletter")})
    upcoming = [job for job in calendar.jobs if job.planned >= now]
    past = [job for job in calendar.jobs if job.planned < now]
    weeks = []
    for job in upcoming:
        year, week, _ = job.planned.isocalendar()
        if not weeks or weeks[-1]["key"] != (year, week):
            monday = job.planned.date() - timedelta(days=job.planned.weekday())
            weeks.append(
                {"key": (year, week), "week": week, "monday": monday, "sunday": monday + timedelta(days=6), "jobs": []}
            )
        weeks[-1]["jobs"].append(_job(job, titles))

    newsletters = []
    for campaign in sorted(campaigns.of_kind("newsletter"), key=lambda c: c.spec.send_at, reverse=True):
        files = outputs.get(f"newsletter/{campaign.id}")
        if not files:
            continue
        newsletters.append(
            {
                "id": campaign.id,
                "title": campaign.spec.title,
                "subject": campaign.spec.subject,
                "send_at": campaign.spec.send_at,
                "email": f"newsletter/{campaign.id}/email.html",
                "text": f"newsletter/{campaign.id}/email.txt",
                "signoff": signoff(campaign.id),
                "notes": notes(campaign.path, f"{campaign.id}/email.html", f"newsletter/{campaign.id}"),
            }
        )

    drafts = []
    built = {key.split("/", 1)[1] for key in outputs if key.startswith("linkedin/")}
    planned = [
        linkedin_plan.Planned(None if slug == linkedin_plan.FIGURES_ID else library.get(slug), kind)
        for slug in sorted(built)
        for kind in (
            ("figures",)
            if slug == linkedin_plan.FIGURES_ID
            else linkedin_plan.kinds_for(library.get(slug), now, config.zone)
        )
        if slug == linkedin_plan.FIGURES_ID or library.get(slug) is not None
    ]
    if planned:
        vocabularies = config.vocabularies
        figures = stats.compute(library, now, vocabularies.fields_of_action, vocabularies.blog_categories)
        rendered = linkedin_renderer.render_drafts(planned, library, config, figures, now=now)
        for draft in rendered.drafts:
            cut = draft.cut
            item = draft.planned.item
            drafts.append(
                {
                    "name": draft.name,
                    "kind": draft.kind,
                    "title": draft.title,
                    "link": draft.link,
                    "before": draft.text[:cut] if cut else draft.text,
                    "after": draft.text[cut:] if cut else "",
                    "length": len(draft.text),
                    "hashtags": draft.hashtags,
                    "signoff": signoff(item.slug) if item else None,
                    "notes": notes(item.path) if item else [],
                }
            )

    releases = []
    for key in sorted(outputs):
        if key.startswith("press/"):
            slug = key.split("/", 1)[1]
            item = library.get(slug)
            releases.append(
                {
                    "slug": slug,
                    "title": item.meta.press.headline or item.title if item else slug,
                    "html": f"press/{slug}/release.html",
                    "docx": f"press/{slug}/release.docx",
                    "signoff": signoff(slug),
                    "notes": notes(item.path) if item else [],
                }
            )

    env = environment(config)
    return render(
        env,
        "dashboard/index.html",
        organisation=config.organisation.model_dump(),
        now=now,
        weeks=weeks,
        past=[_job(job, titles) for job in reversed(past)],
        newsletters=newsletters,
        drafts=drafts,
        releases=releases,
        counts={"errors": sum(p.is_error for p in problems), "warnings": sum(not p.is_error for p in problems)},
        problems=[{"error": p.is_error, "text": p.format()} for p in problems],
    )


def _job(job, titles: dict) -> dict:
    return {
        "planned": job.planned,
        "channel": job.channel,
        "item": job.item,
        "title": titles.get(job.item, job.item),
        "template": job.template,
        "state": job.state,
        "conflicts": list(job.conflicts),
        "note": job.note,
    }

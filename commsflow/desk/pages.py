"""The desk's overviews: the calendar by month, the newsletter issues and the partner news
waiting for review. They only read: each gathers what the CLI works out (the plan, the
newsletter assembler, the content library) and hands it to its template, which holds
every word shown."""

from __future__ import annotations

import calendar as months
import re
from datetime import date, timedelta

from starlette.responses import HTMLResponse

from commsflow import dates, i18n
from commsflow.desk import Desk, _page, _problem
from commsflow.errors import CommsflowError
from commsflow.workspace import Workspace

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")  # ?monat=2024-03
YEARS = (1000, 9998)  # a grid's days and the neighbouring months stay within what a date holds

# The templates' date filters beside the desk's own (``datum``, ``wochentag``).
# Weekday and month names in the language the desk speaks; numbers as German calendars write them.
FILTERS = {
    "tag": lambda day: f"{dates.weekday_short(day, i18n.language())} {dates.numeric_date(day)}" if day else "–",
    "uhrzeit": lambda moment: dates.hour_minute(moment) if moment else "–",  # 10:00
    "monat": lambda day: dates.month_year(day, i18n.language()),  # März 2024, March 2024
}


def month_of(text: str | None, today: date) -> date | None:
    """The first day of the month ``2024-03`` names (of today without a name), or None."""
    if not text:
        return today.replace(day=1)
    found = MONTH.match(text.strip())
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    if not (YEARS[0] <= year <= YEARS[1] and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def shifted(first: date, by: int) -> date:
    """The first day of the month ``by`` months from ``first``'s."""
    index = first.year * 12 + first.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def month(desk: Desk, workspace: Workspace, channel: str | None, asked: str | None) -> HTMLResponse:
    """The calendar as a month grid, Monday to Sunday, with each day's jobs."""
    from commsflow.actions import short_ref
    from commsflow.commands import plan_or_stop

    zone = workspace.config.zone
    today = workspace.now.astimezone(zone).date()
    first = month_of(asked, today)
    status, wrong = 200, None
    if first is None:  # said on the page, and the month of the clock shown instead
        status, wrong, first = 400, asked, today.replace(day=1)
    last = first.replace(day=months.monthrange(first.year, first.month)[1])
    context = {
        "first": first,
        "previous": shifted(first, -1),
        "following": shifted(first, 1),
        "current": today.replace(day=1),
        "channel": channel,
        "wrong_month": wrong,
    }
    try:
        opened = plan_or_stop(workspace, "the calendar")
    except CommsflowError as exc:
        return _page(
            desk, workspace, "calendar_month.html", days=[], channels=[], count=0, error=_problem(exc), **context
        )
    titles = opened.titles
    by_day: dict[date, list[dict]] = {}
    for job in sorted(opened.calendar.jobs, key=lambda job: (job.planned, job.channel)):
        at = job.planned.astimezone(zone)
        if (channel and job.channel != channel) or not first <= at.date() <= last:
            continue
        by_day.setdefault(at.date(), []).append(
            {"job": job, "at": at, "ref": short_ref(job.id), "title": titles.get(job.item, job.item)}
        )
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    days = [
        {"day": day, "inside": day.month == first.month, "today": day == today, "jobs": by_day.get(day, [])}
        for day in (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    ]
    return _page(
        desk,
        workspace,
        "calendar_month.html",
        status,
        days=days,
        channels=sorted({job.channel for job in opened.calendar.jobs}),
        count=sum(len(jobs) for jobs in by_day.values()),
        error=None,
        **context,
    )


def newsletters(desk: Desk, workspace: Workspace) -> HTMLResponse:
    """Every newsletter issue: its send time, job and sign-off, and what each section holds
    now — with the items a section would take that are not approved yet."""
    from commsflow.actions import short_ref
    from commsflow.assemblers.newsletter import assemble
    from commsflow.commands import plan_or_stop
    from commsflow.commands.approve import _PENDING

    try:
        opened = plan_or_stop(workspace, "the calendar")
    except CommsflowError as exc:
        return _page(desk, workspace, "newsletters.html", issues=[], error=_problem(exc))
    zone = opened.config.zone
    issues = []
    for campaign in sorted(opened.campaigns.of_kind("newsletter"), key=lambda c: c.spec.send_at):
        spec = campaign.spec
        job = next((job for job in opened.jobs if job.channel == "newsletter" and job.item == campaign.id), None)
        issue = assemble(campaign, opened.campaigns, opened.library, zone)
        # With drafts the assembler takes what is not approved yet too: those entries are
        # what each section leaves out until they are.
        preview = assemble(campaign, opened.campaigns, opened.library, zone, drafts=True)
        sections = [
            {
                "title": section.spec.title,
                "count": len(section.entries),
                "cta": section.spec.cta is not None,
                "waiting": [
                    {"title": entry.item.title, "status": entry.item.status, "path": entry.item.path}
                    for entry in drafted.entries
                    if entry.draft
                ],
            }
            for section, drafted in zip(issue.sections, preview.sections, strict=True)
        ]
        signoff = opened.signoffs.get(campaign.id)
        issues.append(
            {
                "id": campaign.id,
                "title": spec.title,
                "subject": spec.subject,
                "send_at": spec.send_at.astimezone(zone),
                "path": campaign.path,
                "job": job,
                "ref": short_ref(job.id) if job is not None else None,
                # why the job is held, unless the sign-off below says it already
                "job_note": job.note if job is not None and job.note != signoff.reason() else None,
                "signoff": signoff.state,
                "signoff_reason": signoff.reason(),
                # on the review page (commsflow review) while its job may still go out
                "reviewable": signoff.state != "current" and job is not None and job.state in _PENDING,
                "sections": sections,
                "errors": [problem.format() for problem in issue.problems if problem.is_error],
            }
        )
    return _page(desk, workspace, "newsletters.html", issues=issues, error=None)


# What the feed import writes (commsflow.feeds.news.render_news): a news item with status
# review whose ``source`` names its feed.
FEED_STATUS = "review"


def partner_news(desk: Desk, workspace: Workspace) -> HTMLResponse:
    """The news the partner feeds brought in that wait for review, newest first."""
    try:
        loaded = workspace.load()
    except CommsflowError as exc:
        return _page(desk, workspace, "partners.html", entries=[], broken=0, error=_problem(exc))
    entries = []
    for item in loaded.library.of_kind("news"):
        meta = item.meta
        if item.status != FEED_STATUS or not meta.source:
            continue
        link = str(meta.link) if meta.link else None
        entries.append(
            {
                "slug": item.slug,
                "title": item.title,
                "source": meta.source,
                "day": meta.date,
                "assumed": meta.date_assumed,
                "link": link if link and link.startswith(("https://", "http://")) else None,
                "summary": meta.summary,
                "projects": [_title(loaded.library, slug) for slug in item.projects],
                "path": item.path,
            }
        )
    entries.sort(key=lambda entry: (entry["day"], entry["path"]), reverse=True)
    # A file with errors is not in the library: if it is a partner's news, it is missing here.
    return _page(desk, workspace, "partners.html", entries=entries, broken=len(loaded.errors), error=None)


def _title(library, slug: str) -> str:
    item = library.get(slug)
    return item.title if item is not None else slug

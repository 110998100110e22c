"""The publishing calendar: campaigns + content + a clock → dated jobs.

A pure function. Every job has a deterministic id (campaign, step, item, planned
time), a planned time in the configured zone, a channel, the template (draft or
release kind) and the item. Its state comes from the clock, the item's workflow
status and, when given, the ledger's record: ``planned``, ``blocked`` (item not
approved), ``due``, ``sending``, ``done``, ``failed``, ``missed``.

Planned times are wall-clock times in the zone, normalised through UTC: 02:30 on
the night clocks spring forward (which does not exist) becomes 03:30, and 02:30 on
the night they fall back is the first of the two — one job either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

import holidays

from commsflow.assemblers.newsletter import SIGNED_OFF, assemble
from commsflow.assemblers.press import default_kind
from commsflow.campaigns import WEEKDAYS, Campaign, CampaignSet
from commsflow.errors import Problem, closest
from commsflow.config import Config
from commsflow.library import Library
from commsflow.model import Item

STATES = ("planned", "blocked", "due", "sending", "done", "failed", "missed")


@dataclass(frozen=True)
class Job:
    id: str
    campaign: str
    step: str
    channel: str
    template: str  # draft or release kind; "newsletter" for an issue
    item: str  # item slug, or the issue id
    planned: datetime
    source: str  # the file that plans it: campaign file, or the item for one-offs
    approved: bool = True  # every item the job renders is signed off
    state: str = "planned"
    note: str | None = None  # what the ledger says: receipt, reason
    conflicts: tuple[str, ...] = ()


@dataclass
class Calendar:
    jobs: list[Job]
    problems: list = field(default_factory=list)

    def between(self, start: datetime | None, end: datetime | None, channel: str | None = None) -> list[Job]:
        return [job for job in self.jobs if (start is None or job.planned >= start)
                and (end is None or job.planned < end) and (channel is None or job.channel == channel)]


def wall_time(day: date, clock: str, zone) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    moment = datetime.combine(day, time(hours, minutes), tzinfo=zone)
    return moment.astimezone(timezone.utc).astimezone(zone)  # a time in the spring-forward gap moves on


def job_id(campaign: str, step: str, item: str, planned: datetime) -> str:
    return f"{campaign}/{step}/{item}@{planned.isoformat(timespec='minutes')}"


def build(config: Config, campaigns: CampaignSet, library: Library, now: datetime,
          ledger: dict | None = None) -> Calendar:
    zone = config.zone
    jobs: list[Job] = []
    problems: list[Problem] = []
    for campaign in campaigns.campaigns:
        spec = campaign.spec
        if spec.kind == "newsletter":
            jobs.append(_newsletter_job(campaign, campaigns, library, zone))
        elif spec.kind == "event":
            jobs += _event_jobs(campaign, library, zone, problems)
    jobs += _one_off_jobs(library, zone)
    taken = {(job.channel, job.item) for job in jobs}
    for campaign in campaigns.of_kind("slot"):
        jobs += _slot_jobs(campaign, library, zone, taken)
    jobs.sort(key=lambda job: (job.planned, job.channel, job.id))
    jobs = [_with_state(job, now, config, (ledger or {}).get(job.id)) for job in jobs]
    return Calendar(_with_conflicts(jobs, config, library, now), problems)


def _newsletter_job(campaign: Campaign, campaigns: CampaignSet, library: Library, zone) -> Job:
    spec = campaign.spec
    issue = assemble(campaign, campaigns, library, zone)
    approved = not any(p.is_error for p in issue.problems)
    planned = spec.send_at.astimezone(zone)
    return Job(job_id(campaign.id, "send", campaign.id, planned), campaign.id, "send", "newsletter", "newsletter",
               campaign.id, planned, campaign.path, approved=approved)


def _event_jobs(campaign: Campaign, library: Library, zone, problems: list) -> list[Job]:
    spec = campaign.spec
    event = library.get(spec.event)
    if event is None or event.kind != "event":
        guess = closest(spec.event, [item.slug for item in library.of_kind("event")])
        problems.append(Problem(campaign.path, f"no event {spec.event!r}", line=campaign.line_of(("event",)),
                                field="event", hint=f"did you mean {guess!r}?" if guess else
                                "name the event's slug (its file name in content/events/)"))
        return []
    start = event.meta.start
    day = start.date() if isinstance(start, datetime) else start
    jobs = []
    for step in spec.steps:
        planned = wall_time(day + step.offset(), step.time, zone)
        jobs.append(Job(job_id(campaign.id, step.name, event.slug, planned), campaign.id, step.name, step.channel,
                        step.template, event.slug, planned, campaign.path, approved=event.status in SIGNED_OFF))
    return jobs


def default_template(item: Item) -> str:
    if item.kind == "event":
        return "save-the-date"
    if item.kind == "news":
        return "news"
    return "funding-call" if "Fördercall" in item.meta.tags else "article"


def _one_off_jobs(library: Library, zone) -> list[Job]:
    jobs = []
    for item in library:
        meta = item.meta
        if meta.publish_at is None:
            continue
        planned = meta.publish_at.astimezone(zone)
        for channel in meta.channels:
            template = default_template(item)
            if channel == "press":
                template = default_kind(item, planned) or "announcement"
            jobs.append(Job(job_id("einzeln", channel, item.slug, planned), "einzeln", channel, channel, template,
                            item.slug, planned, item.path, approved=item.status in SIGNED_OFF))
    return jobs


def _slot_jobs(campaign: Campaign, library: Library, zone, taken: set) -> list[Job]:
    """Each occurrence takes the oldest approved item not yet planned on the channel that
    had appeared by then; an occurrence with nothing to post makes no job."""
    spec = campaign.spec
    weekday = WEEKDAYS.index(spec.every)
    queue = [item for item in library.query(spec.type, status=SIGNED_OFF, category=spec.category)
             if (spec.channel, item.slug) not in taken
             and (spec.items_from is None or item.when >= spec.items_from)]
    jobs = []
    day = spec.start + timedelta(days=(weekday - spec.start.weekday()) % 7)
    while day <= spec.end and queue:
        planned = wall_time(day, spec.time, zone)
        ready = [item for item in queue if item.when <= day]
        if ready:
            item = ready[0]
            queue.remove(item)
            taken.add((spec.channel, item.slug))
            jobs.append(Job(job_id(campaign.id, "slot", item.slug, planned), campaign.id, "slot", spec.channel,
                            spec.template, item.slug, planned, campaign.path))
        day += timedelta(days=7)
    return jobs


def _with_state(job: Job, now: datetime, config: Config, record) -> Job:
    if record is not None and record["state"] in ("sending", "done", "failed", "missed"):
        return replace(job, state=record["state"], note=record.get("note"))
    if not job.approved:
        return replace(job, state="blocked")
    if job.planned > now:
        return replace(job, state="planned")
    if now - job.planned > config.publishing.grace:
        return replace(job, state="missed", note="not sent within the grace window")
    return replace(job, state="due")


def _with_conflicts(jobs: list[Job], config: Config, library: Library, now: datetime) -> list[Job]:
    publishing = config.publishing
    years = sorted({job.planned.year for job in jobs}) or [now.year]
    days_off = holidays.country_holidays("DE", subdiv="BE", years=years, language="de")
    last_on: dict[str, Job] = {}
    out = []
    for job in jobs:
        found = []
        previous = last_on.get(job.channel)
        if previous is not None and job.planned - previous.planned < publishing.gap and job.channel != "webhook":
            found.append(f"{_hours(job.planned - previous.planned)} after {previous.item} on {job.channel}")
        day = job.planned.date()
        if day.weekday() >= 5:
            found.append("on a weekend")
        elif day in days_off:
            found.append(f"on a public holiday in Berlin ({days_off[day]})")
        if not job.approved and job.state == "blocked" and job.planned - now <= publishing.draft_warning:
            found.append("item not approved yet" + (" and due" if job.planned <= now else
                                                    f", due in {_hours(job.planned - now)}"))
        last_on[job.channel] = job
        out.append(replace(job, conflicts=tuple(found)))
    return out


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"

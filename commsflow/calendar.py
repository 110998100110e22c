"""The publishing calendar: campaigns + content + a clock → dated jobs.

A pure function. Every job has a deterministic id (campaign, step, item, planned
time), a planned time in the configured zone, a channel, the template (draft or
release kind) and the item. Its state comes from the clock, the item's workflow
status and, when given, the ledger's record and the sign-offs: ``planned``,
``blocked`` (item not approved, sign-off stale or missing, or under embargo), ``due``,
``sending``, ``done``, ``failed``, ``missed``.

Embargoes: a job planned before the embargo of its item, of an item its item names
(``events``, ``projects``) or of an item in its newsletter issue is blocked and is
an error (``Calendar.problems``); a slot never picks an item still under embargo.

Planned times are wall-clock times in the zone, normalised through UTC: 02:30 on
the night clocks spring forward (which does not exist) becomes 03:30, and 02:30 on
the night they fall back is the first of the two — one job either way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote, urlsplit

from commsflow import channels, dates, frontmatter, public_holidays
from commsflow.assemblers.newsletter import SIGNED_OFF, assemble
from commsflow.campaigns import WEEKDAYS, Campaign, CampaignSet, campaign_event
from commsflow.config import Config
from commsflow.errors import Problem
from commsflow.i18n import N_, _, ngettext
from commsflow.library import Library
from commsflow.links import item_url
from commsflow.model import Item

STATES = ("planned", "blocked", "due", "sending", "done", "failed", "missed", "dismissed", "posted")
# What people read for each state (the states themselves stay as they are in files and JSON).
STATE_LABELS = {
    "planned": N_("planned"),
    "blocked": N_("blocked"),
    "due": N_("due"),
    "sending": N_("sending"),
    "done": N_("done"),
    "failed": N_("failed"),
    "missed": N_("missed"),
    "dismissed": N_("dismissed"),
    "posted": N_("posted"),
}


def state_label(state: str) -> str:
    """A job's state as people read it, in the language spoken."""
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state


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
    note: str | None = None  # what the ledger says: receipt, reason; for a blocked job, why
    conflicts: tuple[str, ...] = ()
    embargo: str | None = None  # "embargo until 25.04.2024 16:00 (item)": planned too early, an error
    signoff: str | None = None  # why the sign-off keeps it back: stale or missing
    # Which sign-off state keeps it back (stale, missing, rejected): what to test instead of
    # ``signoff``, whose words are in the language of the run.
    signoff_state: str | None = None

    @property
    def hold(self) -> str | None:
        """Why the job may not go out although its items are approved."""
        return "; ".join(reason for reason in (self.embargo, self.signoff) if reason) or None


@dataclass
class Calendar:
    jobs: list[Job]
    problems: list = field(default_factory=list)
    embargo_problems: dict = field(default_factory=dict)  # job id → its problem (also in ``problems``)

    def between(self, start: datetime | None, end: datetime | None, channel: str | None = None) -> list[Job]:
        return [
            job
            for job in self.jobs
            if (start is None or job.planned >= start)
            and (end is None or job.planned < end)
            and (channel is None or job.channel == channel)
        ]


def wall_time(day: date, clock: str, zone) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    moment = datetime.combine(day, time(hours, minutes), tzinfo=zone)
    return moment.astimezone(UTC).astimezone(zone)  # a time in the spring-forward gap moves on


def job_id(campaign: str, step: str, item: str, planned: datetime) -> str:
    return f"{campaign}/{step}/{item}@{planned.isoformat(timespec='minutes')}"


def build(
    config: Config,
    campaigns: CampaignSet,
    library: Library,
    now: datetime,
    ledger: dict | None = None,
    signoff: Callable[[Job], tuple[str, str] | None] | None = None,
) -> Calendar:
    """``signoff(job)``: the sign-off state that holds the job back (stale, missing,
    rejected) and why, or None; without it sign-offs are not looked at (``commsflow.plan``
    passes the sign-offs)."""
    zone = config.zone
    jobs: list[Job] = []
    problems: list[Problem] = []
    contents: dict[str, list[Item]] = {}  # newsletter job id → the items in its issue
    for campaign in campaigns.campaigns:
        spec = campaign.spec
        if spec.kind == "newsletter":
            job, items = _newsletter_job(campaign, campaigns, library, zone)
            jobs.append(job)
            contents[job.id] = items
        elif spec.kind == "event":
            jobs += _event_jobs(campaign, library, zone, problems)
    jobs += _one_off_jobs(library, zone)
    taken = {(job.channel, job.item) for job in jobs}
    addresses = embargo_addresses(library, config)
    links = _memo_links(library, addresses)  # each item's links worked out once per plan
    held = embargo_ends(library, links)
    for campaign in campaigns.of_kind("slot"):
        jobs += _slot_jobs(campaign, library, zone, taken, held)
    jobs.sort(key=lambda job: (job.planned, job.channel, job.id))
    jobs = [
        _with_hold(
            job,
            _reach(contents[job.id], links, addresses) if job.id in contents else links(library.get(job.item)),
            signoff,
            config,
        )
        for job in jobs
    ]
    jobs = [_with_state(job, now, config, (ledger or {}).get(job.id)) for job in jobs]
    jobs = _with_conflicts(jobs, config, library, now)
    embargoed = {
        job.id: _embargo_problem(job, campaigns, library, config)
        for job in jobs
        if job.embargo and job.state not in _GONE
    }
    return Calendar(jobs, problems + list(embargoed.values()), embargoed)


_GONE = ("done", "sending", "missed", "dismissed", "posted")  # nothing more will be sent for these


def linked_items(item: Item | None, library: Library, addresses: dict[str, Item] | None = None) -> list[Item]:
    """The item and the items it names (events, projects) or links to by web address
    (``addresses``: see :func:`embargo_addresses`): what its renditions show or link."""
    if item is None:
        return []
    found = [item]
    for name in ("events", "projects"):
        for slug in item.refs.get(name, ()):
            other = library.get(slug)
            if other is not None and other not in found:
                found.append(other)
    if addresses:
        for other in linked_by_address(item.html + "\n" + item.meta.model_dump_json(), addresses):
            if other not in found:
                found.append(other)
    return found


# A web address in text or HTML (the body's hrefs, the front matter's texts).
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}|\\^`]+", re.IGNORECASE)


def web_address(url: str) -> str:
    """An address as a reader's browser would reach the same page: host and path, without
    scheme, ``www.``, query, fragment or trailing slash (links get tracking parameters)."""
    parts = urlsplit(url.rstrip(".,;:!?"))
    return parts.netloc.lower().removeprefix("www.") + unquote(parts.path).rstrip("/")


def embargo_addresses(library: Library, config: Config) -> dict[str, Item]:
    """Web address → the item under embargo it belongs to: its own ``url``, its address
    under ``[links]`` and what :func:`commsflow.links.item_url` gives."""
    found: dict[str, Item] = {}
    for item in library:
        if item.meta.embargo is None:
            continue
        pattern = getattr(config.links, item.kind, None)
        for url in (item.meta.url, item_url(item, config), pattern.replace("{slug}", item.slug) if pattern else None):
            if url:
                found[web_address(url)] = item
    return found


def linked_by_address(text: str, addresses: dict[str, Item]) -> list[Item]:
    """The items of ``addresses`` whose web address ``text`` links to."""
    found: list[Item] = []
    for match in _URL.finditer(text):
        other = addresses.get(web_address(html.unescape(match[0])))
        if other is not None and other not in found:
            found.append(other)
    return found


def _memo_links(library: Library, addresses: dict[str, Item]) -> Callable[[Item | None], list[Item]]:
    """:func:`linked_items` remembered per item: the slots and every job ask again."""
    known: dict[str, list[Item]] = {}

    def links(item: Item | None) -> list[Item]:
        if item is None:
            return []
        if item.slug not in known:
            known[item.slug] = linked_items(item, library, addresses)
        return known[item.slug]

    return links


def embargo_ends(library: Library, links: Callable[[Item | None], list[Item]]) -> dict[str, datetime]:
    """Item slug → the end of the latest embargo on it or on an item it names or links
    to (``links``: what an item names or links to); only items touched by an embargo are listed."""
    embargoed = {item.slug: item.meta.embargo for item in library if item.meta.embargo is not None}
    if not embargoed:
        return {}
    ends = {}
    for item in library:
        found = [embargoed[other.slug] for other in links(item) if other.slug in embargoed]
        if found:
            ends[item.slug] = max(found)
    return ends


def _reach(items: list[Item], links: Callable[[Item | None], list[Item]], addresses: dict[str, Item]) -> list[Item]:
    """``items`` and, where an embargo has addresses, what they link to (a newsletter issue's items)."""
    found = list(items)
    if addresses:
        for item in items:
            found += [other for other in links(item) if other not in found]
    return found


def embargoes(items: list[Item], planned: datetime) -> list[tuple[Item, datetime]]:
    """The items among ``items`` still under embargo at ``planned``."""
    return [
        (item, item.meta.embargo) for item in items if item.meta.embargo is not None and planned < item.meta.embargo
    ]


def moment_text(moment: datetime, zone) -> str:
    """A moment as the calendar and its messages write it: 14.03.2024 10:00, local time."""
    local = moment.astimezone(zone)
    return f"{dates.numeric_date(local)} {dates.hour_minute(local)}"


def _with_hold(job: Job, items: list[Item], signoff, config: Config) -> Job:
    found = embargoes(items, job.planned)
    if channels.get(job.channel).carries_embargo:
        # A release goes to the press before its own item's Sperrfrist, printed on top of it.
        found = [(item, until) for item, until in found if item.slug != job.item]
    embargo = (
        "; ".join(
            _("embargo until {moment} ({item})").format(moment=moment_text(until, config.zone), item=item.slug)
            for item, until in found
        )
        or None
    )
    held = signoff(job) if signoff is not None and job.approved else None
    if embargo is None and held is None:
        return job
    state, why = held if held is not None else (None, None)
    return replace(job, embargo=embargo, signoff=why, signoff_state=state)


def _embargo_problem(job: Job, campaigns: CampaignSet, library: Library, config: Config) -> Problem:
    """The violation as a problem pointing at what planned the job: the campaign's step,
    send time or slot, or the item's publish_at."""
    when = moment_text(job.planned, config.zone)
    if job.channel == "newsletter":
        what = _("the newsletter issue")
    else:
        what = _("{channel} {template} of {item}").format(channel=job.channel, template=job.template, item=job.item)
    message = _("{what} on {moment} is before the {embargo}").format(what=what, moment=when, embargo=job.embargo)
    campaign = campaigns.get(job.campaign)
    if campaign is not None and campaign.path == job.source:
        spec = campaign.spec
        if spec.kind == "event":
            index = next((i for i, step in enumerate(spec.steps) if step.name == job.step), 0)
            loc = ("steps", index)
            hint = _("move the step after the embargo, or ask whether the embargo can be lifted")
        elif spec.kind == "newsletter":
            loc = ("send_at",)
            hint = _("take the item out of the issue, or send the issue after the embargo")
        else:
            loc = ("start",)
            hint = _("start the slot after the embargo")
        return Problem(campaign.path, message, line=campaign.line_of(loc), field=_field(loc), hint=hint)
    try:
        line = frontmatter.line_finder_for_file(config.root / job.source, job.source)(("publish_at",))
    except (OSError, frontmatter.SourceError):
        line = None
    return Problem(
        job.source,
        message,
        line=line,
        field="publish_at",
        hint=_("publish it after the embargo, or ask whether the embargo can be lifted"),
    )


def _field(loc: tuple) -> str:
    return loc[0] if len(loc) == 1 else f"{loc[0]}[{loc[1]}]"


def _newsletter_job(campaign: Campaign, campaigns: CampaignSet, library: Library, zone) -> tuple[Job, list[Item]]:
    spec = campaign.spec
    issue = assemble(campaign, campaigns, library, zone)
    approved = not any(p.is_error for p in issue.problems)
    planned = spec.send_at.astimezone(zone)
    job = Job(
        job_id(campaign.id, "send", campaign.id, planned),
        campaign.id,
        "send",
        "newsletter",
        "newsletter",
        campaign.id,
        planned,
        campaign.path,
        approved=approved,
    )
    return job, [entry.item for entry in issue.entries]


def _event_jobs(campaign: Campaign, library: Library, zone, problems: list) -> list[Job]:
    spec = campaign.spec
    event, problem = campaign_event(campaign, library)
    if event is None:
        problems.append(problem)
        return []
    start = event.meta.start
    day = start.date() if isinstance(start, datetime) else start
    jobs = []
    for step in spec.steps:
        planned = wall_time(day + step.offset(), step.time, zone)
        jobs.append(
            Job(
                job_id(campaign.id, step.name, event.slug, planned),
                campaign.id,
                step.name,
                step.channel,
                step.template,
                event.slug,
                planned,
                campaign.path,
                approved=event.status in SIGNED_OFF,
            )
        )
    return jobs


def _one_off_jobs(library: Library, zone) -> list[Job]:
    jobs = []
    for item in library:
        meta = item.meta
        if meta.publish_at is None:
            continue
        planned = meta.publish_at.astimezone(zone)
        for channel in meta.channels:
            template = channels.get(channel).default_kind(item, planned) or "article"
            jobs.append(
                Job(
                    job_id("einzeln", channel, item.slug, planned),
                    "einzeln",
                    channel,
                    channel,
                    template,
                    item.slug,
                    planned,
                    item.path,
                    approved=item.status in SIGNED_OFF,
                )
            )
    return jobs


def _slot_jobs(campaign: Campaign, library: Library, zone, taken: set, held: dict) -> list[Job]:
    """Each occurrence takes the oldest approved item not yet planned on the channel that
    had appeared by then and is under no embargo; an occurrence with nothing to post makes no job."""
    spec = campaign.spec
    weekday = WEEKDAYS.index(spec.every)
    queue = [
        item
        for item in library.query(spec.type, status=SIGNED_OFF, category=spec.category)
        if (spec.channel, item.slug) not in taken and (spec.items_from is None or item.when >= spec.items_from)
    ]
    jobs = []
    day = spec.start + timedelta(days=(weekday - spec.start.weekday()) % 7)
    while day <= spec.end and queue:
        planned = wall_time(day, spec.time, zone)
        item = next(
            (item for item in queue if item.when <= day and (item.slug not in held or planned >= held[item.slug])), None
        )
        if item is not None:
            queue.remove(item)
            taken.add((spec.channel, item.slug))
            jobs.append(
                Job(
                    job_id(campaign.id, "slot", item.slug, planned),
                    campaign.id,
                    "slot",
                    spec.channel,
                    spec.template or channels.get(spec.channel).default_kind(item, planned) or "article",
                    item.slug,
                    planned,
                    campaign.path,
                )
            )
        day += timedelta(days=7)
    return jobs


def _with_state(job: Job, now: datetime, config: Config, record) -> Job:
    if record is not None and record["state"] in ("sending", "done", "failed", "missed", "dismissed", "posted"):
        return replace(job, state=record["state"], note=record.get("note"))
    if not job.approved:
        return replace(job, state="blocked")
    if job.hold:
        return replace(job, state="blocked", note=job.hold)
    if job.planned > now:
        return replace(job, state="planned")
    if now - job.planned > config.publishing.grace:
        return replace(job, state="missed", note=_("not sent within the grace window"))
    return replace(job, state="due")


def _with_conflicts(jobs: list[Job], config: Config, library: Library, now: datetime) -> list[Job]:
    publishing = config.publishing
    years = sorted({job.planned.year for job in jobs}) or [now.year]
    days_off = public_holidays.days_off(publishing.holidays, years, config.cache_folder)
    last_on: dict[str, Job] = {}
    out = []
    for job in jobs:
        found = []
        previous = last_on.get(job.channel)
        if previous is not None and job.planned - previous.planned < publishing.gap and job.channel != "webhook":
            found.append(
                _("{time} after {item} on {channel}").format(
                    time=_hours(job.planned - previous.planned), item=previous.item, channel=job.channel
                )
            )
        day = job.planned.date()
        if day.weekday() >= 5:
            found.append(_("on a weekend"))
        elif day in days_off:
            found.append(
                _("on a public holiday in {region} ({holiday})").format(
                    region=publishing.holidays, holiday=days_off[day]
                )
            )
        if not job.approved and job.state == "blocked" and job.planned - now <= publishing.draft_warning:
            if job.planned <= now:
                found.append(_("item not approved yet and due"))
            else:
                found.append(_("item not approved yet, due in {time}").format(time=_hours(job.planned - now)))
        if job.embargo and job.state not in _GONE:
            found.append(job.embargo)
        if job.signoff and job.state == "blocked":
            found.append(job.signoff)
        last_on[job.channel] = job
        out.append(replace(job, conflicts=tuple(found)))
    return out


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        days = round(hours / 24)
        return ngettext("{count} day", "{count} days", days).format(count=days)
    if hours >= 1:
        return _("{count} h").format(count=f"{hours:.0f}")
    return _("{count} min").format(count=f"{delta.total_seconds() / 60:.0f}")

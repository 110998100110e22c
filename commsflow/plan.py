"""The plan: one function opens everything a command needs to know about what goes out.

``open_plan`` reads the library, the campaigns, the sign-offs and the ledger's records,
builds the calendar and returns a :class:`Plan` with every problem found (nothing is
printed here). ``Plan.render`` turns a job into its rendition — the exact payload its
channel sends and the files a person previews — once per job; ``build``, the dashboard,
lint, sign-offs and the scheduler all read renditions from here, so what the team
reviews is what goes out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from functools import cached_property

from commsflow import calendar as planning
from commsflow import channels
from commsflow.approvals import Approvals, SignOffs, load_approvals
from commsflow.assemblers.linkedin import FIGURES_ID, SIGNED_OFF
from commsflow.calendar import Calendar, Job
from commsflow.campaigns import CampaignSet
from commsflow.channels import RenderContext, Rendition
from commsflow.channels._social import DRAFT_CAMPAIGN
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem
from commsflow.i18n import _
from commsflow.library import Library
from commsflow.outline import Outline
from commsflow.workspace import Loaded, Workspace

# Jobs that may still go out: what build renders.
PENDING = ("planned", "blocked", "due", "failed")
# Jobs already out: what a sign-off no longer covers.
GONE = ("done", "sending", "posted", "dismissed")


@dataclass
class Plan:
    config: Config
    now: datetime
    loaded: Loaded
    campaigns: CampaignSet
    approvals: Approvals
    records: dict
    context: RenderContext
    calendar: Calendar = field(default_factory=lambda: Calendar([]))
    problems: list[Problem] = field(default_factory=list)
    _renditions: dict[str, Rendition] = field(default_factory=dict)
    _drafts: list[Job] | None = None
    planning_problems: list[Problem] = field(default_factory=list)  # the calendar's and the issues' references
    # A rendition kept from an earlier run with the same inputs (the build's manifest), or
    # None; never set where something is sent or signed off.
    recall: Callable[[Job], Rendition | None] | None = None

    def __post_init__(self) -> None:
        self.signoffs = SignOffs(self.config, self.approvals, self.renditions_for, self.render)

    @property
    def library(self) -> Library:
        return self.loaded.library

    @cached_property
    def titles(self) -> dict[str, str]:
        """What people call each job's subject: an item's title, a newsletter issue's name."""
        found = {item.slug: item.title for item in self.library}
        found.update({c.id: c.spec.title for c in self.campaigns.of_kind("newsletter")})
        return found

    @cached_property
    def addresses(self) -> set[str]:
        """Every item's own web address, normalised: a link there is alive whatever its form."""
        from commsflow.links import own_addresses

        return own_addresses(self.library, self.config)

    @cached_property
    def embargoed(self) -> dict:
        """Web address → the item under embargo it belongs to."""
        return planning.embargo_addresses(self.library, self.config)

    @cached_property
    def moments(self) -> list[datetime]:
        """When the plan would read differently by the clock alone: each job's planned time,
        the end of its grace window (missed) and the start of its draft warning (a conflict),
        and the events' starts. Until the next of these, the clock changes nothing."""
        from commsflow.assemblers.linkedin import starts

        zone, publishing = self.config.zone, self.config.publishing
        found = [starts(item, zone) for item in self.library.of_kind("event")]
        for job in self.jobs:
            found += [job.planned, job.planned + publishing.grace, job.planned - publishing.draft_warning]
        return found

    def outline(self) -> Outline | None:
        """What this plan worked out from front matter, for a build that finds only texts
        changed; None under an embargo (the calendar then reads the texts' links)."""
        from commsflow.outline import heads

        if self.embargoed:
            return None
        return Outline(
            self.jobs,
            self.planning_problems,
            self.drafts(),
            self.titles,
            sorted(self.addresses),
            self.moments,
            heads(self.config.root, [item.path for item in self.library]),
            self.draft_months,
        )

    @property
    def jobs(self) -> list[Job]:
        return self.calendar.jobs

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    # --- renditions ----------------------------------------------------------------------------

    def render(self, job: Job) -> Rendition:
        """The job rendered for its planned time, once per plan."""
        if job.id not in self._renditions and self.recall is not None:
            kept = self.recall(job)
            if kept is not None:
                self._renditions[job.id] = kept
        if job.id not in self._renditions:
            try:
                rendition = channels.get(job.channel).render(job, self.context)
            except CommsflowError as exc:  # a template that does not render: this job fails, not the run
                rendition = Rendition(job, None, problems=[Problem(job.source, exc.message, hint=exc.hint)])
            if rendition.payload is not None and not is_draft(job):
                rendition.problems += self._early_links(rendition)
            self._renditions[job.id] = rendition
        return self._renditions[job.id]

    def _early_links(self, rendition: Rendition) -> list[Problem]:
        """The calendar holds back what names or links an item under embargo in its source;
        this catches a link the rendering itself added (a template, a referenced item)."""
        if not self.embargoed:
            return []
        job, payload = rendition.job, rendition.payload
        zone = self.config.zone
        text = "\n".join(part for part in (payload.text, payload.link, json.dumps(payload.body or {})) if part)
        return [
            Problem(
                job.source,
                _(
                    "the {channel} {template} of {item} on {moment} links to {linked}, under embargo until {until}"
                ).format(
                    channel=job.channel,
                    template=job.template,
                    item=job.item,
                    moment=planning.moment_text(job.planned, zone),
                    linked=item.slug,
                    until=planning.moment_text(item.meta.embargo, zone),
                ),
                hint=_("plan it after the embargo, or take the link out"),
            )
            for item in planning.linked_by_address(text, self.embargoed)
            if job.planned < item.meta.embargo
        ]

    def renderable(self) -> list[Job]:
        """What ``build`` renders: every job that may still go out, then the previews."""
        return [job for job in self.jobs if job.state in PENDING] + self.drafts()

    def forget(self, job: Job) -> None:
        """Render the job again when next asked (its files may have changed)."""
        self._renditions.pop(job.id, None)

    def jobs_for(self, key: str) -> list[Job]:
        """The jobs of ``key`` not yet out (past ones too: a sign-off made on a later day,
        or with another clock, still covers them)."""
        return [job for job in self.jobs if job.item == key and job.state not in GONE]

    def drafts(self) -> list[Job]:
        """Previews of what no campaign plans yet: for each signed-off item, the renditions
        a channel gives it (LinkedIn drafts, a press release for a `press:` block, an
        event's calendar file) where no job on that channel plans the item."""
        if self._drafts is None:
            planned = {(job.channel, job.item) for job in self.jobs}
            # Previews are of the day (what they show does not change by the minute), so an
            # unchanged item is not rendered again on every build.
            day = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
            found = []
            for item in sorted(self.library, key=lambda i: (i.kind, i.slug)):
                if item.status not in SIGNED_OFF:
                    continue
                for name, channel in channels.registry().items():
                    if (name, item.slug) in planned:
                        continue
                    for kind in channel.draft_kinds(item, self.now):
                        found.append(draft_job(name, item.slug, kind, day, item.path))
            if ("linkedin", FIGURES_ID) not in planned:
                found.append(draft_job("linkedin", FIGURES_ID, "figures", day, self.config.paths.templates))
            self._drafts = found
        return self._drafts

    @cached_property
    def draft_months(self) -> dict[str, str]:
        """The month each previewed item is filed under (``2024-03``: a post's date, an
        event's start), or ``""`` for an item without a date: the dashboard shows previews
        month by month, on pages of their own."""
        found = {}
        for job in self.drafts():
            if job.item not in found:
                item = self.library.get(job.item)
                when = item.when if item is not None else None
                if isinstance(when, datetime):
                    when = when.astimezone(self.config.zone) if when.tzinfo else when
                found[job.item] = f"{when.year:04d}-{when.month:02d}" if when else ""
        return found

    def renditions_for(self, key: str) -> list[Rendition]:
        """What a sign-off of ``key`` covers: its jobs that may still go out, or — when no
        job plans it yet — its previews."""
        jobs = self.jobs_for(key) or [job for job in self.drafts() if job.item == key and job.channel != "ics"]
        return [self.render(job) for job in jobs]


def draft_job(channel: str, item: str, kind: str, now: datetime, source: str) -> Job:
    """A preview's job: every other field as the job's defaults have it. Set up field by field
    rather than through the frozen dataclass's ``__init__``: a build makes some 7,000, and
    reads as many back from the outline."""
    job = object.__new__(Job)
    job.__dict__.update(
        _JOB_DEFAULTS,
        id=f"{DRAFT_CAMPAIGN}/{channel}/{item}/{kind}",
        campaign=DRAFT_CAMPAIGN,
        step="entwurf",
        channel=channel,
        template=kind,
        item=item,
        planned=now,
        source=source,
    )
    return job


_JOB_DEFAULTS = {spec.name: spec.default for spec in fields(Job) if spec.default is not MISSING}


def is_draft(job: Job) -> bool:
    return job.campaign == DRAFT_CAMPAIGN


def open_plan(
    workspace: Workspace,
    *,
    ledger: bool = True,
    loaded: Loaded | None = None,
    prepare: Callable[[Plan], None] | None = None,
    outline: Outline | None = None,
) -> Plan:
    """Everything about the workspace's plan; problems are returned, not printed. Without
    ``ledger`` the calendar does not look at what was sent (``check``); ``prepare`` sees
    the plan before its calendar is built (``build`` sets ``recall`` there). With an
    ``outline`` (``build``, when only items' texts changed since it was made) the calendar,
    the previews, titles and addresses are the outline's instead of being worked out again."""
    from commsflow.assemblers.newsletter import assemble

    config = workspace.config
    loaded = loaded or workspace.load()
    campaigns = workspace.campaigns
    approvals = load_approvals(workspace.root, config)
    records = _ledger_records(config) if ledger else {}
    context = RenderContext(config, loaded.library, campaigns)
    plan = Plan(config, workspace.now, loaded, campaigns, approvals, records, context)
    if prepare is not None:
        prepare(plan)
    problems = list(loaded.problems) + campaigns.problems + approvals.problems
    if outline is not None:
        plan.calendar = Calendar(list(outline.jobs))
        plan.planning_problems = list(outline.problems)
        plan._drafts = list(outline.drafts)
        plan.__dict__.update(
            titles=outline.titles,
            addresses=set(outline.addresses),
            moments=outline.moments,
            embargoed={},
            draft_months=outline.draft_months,
        )
    else:
        for campaign in campaigns.of_kind("newsletter"):
            # References that name nothing are errors now; whether items are approved yet
            # only matters when the issue is rendered.
            issue = assemble(campaign, campaigns, loaded.library, config.zone, drafts=True)
            plan.planning_problems += [p for p in issue.problems if p.is_error]
        if not any(p.is_error for p in campaigns.problems):
            plan.calendar = planning.build(
                config, campaigns, loaded.library, workspace.now, records, signoff=plan.signoffs.hold
            )
            plan.planning_problems += plan.calendar.problems
    plan.problems = unique(problems + plan.planning_problems)
    return plan


def _ledger_records(config: Config) -> dict:
    """The ledger's records, read only: planning never writes the ledger."""
    import sqlite3

    path = config.path("state") / "ledger.sqlite"
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            return {row["id"]: dict(row) for row in db.execute("SELECT * FROM jobs")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise CommsflowError(
            _("{path}: the ledger cannot be read ({reason})").format(path=path, reason=exc),
            _("restore it from a backup; do not delete it — it is what keeps posts from going out twice"),
        ) from None


def unique(problems: list[Problem]) -> list[Problem]:
    # A problem's fields are its key (what it says and where): formatting each of some
    # 10,000 (most jobs share the configuration's warnings) only to compare them was slower.
    return sorted(dict.fromkeys(problems), key=Problem.sort_key)

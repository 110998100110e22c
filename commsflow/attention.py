"""What needs a person, and the command that resolves it: for `commsflow status`.

Each entry names the job by its short reference, the item's title, the channel and
template, when it was due, the reason, and the exact command to run next.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime

from commsflow.actions import candidates, short_ref
from commsflow.calendar import Job
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _

# The groups, in the order status shows them (their titles: translate with _() where shown).
GROUPS = {
    "failed": N_("Failed"),
    "interrupted": N_("Held after a crash"),
    "missed": N_("Missed"),
    "credential": N_("Waiting for a credential"),
    "rejected": N_("Rejected by a reviewer"),
    "blocked": N_("Blocked, due soon"),
    "stale": N_("Sign-off gone stale"),
}


@dataclass
class Entry:
    group: str
    ref: str
    job: str
    channel: str
    template: str
    item: str
    title: str
    planned: str  # ISO
    reason: str
    command: str

    def as_dict(self) -> dict:
        return asdict(self)


def needs_a_person(plan, now: datetime, environ=None) -> list[Entry]:
    """Every job that waits for a decision or a fix, grouped, oldest first within a group."""
    from commsflow.scheduler import was_interrupted  # the note is in the language of the run that wrote it

    config = plan.config
    titles = plan.titles
    window = config.alerts.blocked_before
    entries: list[Entry] = []
    missing = _missing_credentials(config, environ if environ is not None else os.environ)

    def add(group: str, job: Job, reason: str, command: str) -> None:
        title = titles.get(job.item, job.item)
        entries.append(
            Entry(
                group,
                short_ref(job.id),
                job.id,
                job.channel,
                job.template,
                job.item,
                title,
                job.planned.isoformat(),
                reason,
                command,
            )
        )

    for job in candidates(plan.jobs, plan.records):
        record = plan.records.get(job.id)
        ref = short_ref(job.id)
        if job.state == "failed" and record and record["permanent"]:
            note = record.get("note") or ""
            if was_interrupted(note):
                add(
                    "interrupted",
                    job,
                    note,
                    _(
                        "check on {channel} whether it went out, then: commsflow posted {ref} --url … "
                        "(it did) or commsflow retry {ref} (it did not)"
                    ).format(channel=job.channel, ref=ref),
                )
            else:
                add(
                    "failed",
                    job,
                    note,
                    _("fix the cause, then: commsflow retry {ref} (or: commsflow dismiss {ref} --reason …)").format(
                        ref=ref
                    ),
                )
        elif job.state == "missed" and record is not None:
            add(
                "missed",
                job,
                record.get("note") or _("not sent within the grace window"),
                _("commsflow retry {ref} (sends it late) or commsflow dismiss {ref} --reason …").format(ref=ref),
            )
        elif job.planned < now - config.publishing.grace:
            continue  # long past and never sent: the scheduler records it as missed on its next pass
        elif job.state == "blocked" and job.signoff and job.signoff_state == "rejected":
            add(
                "rejected",
                job,
                job.signoff,
                _("fix what the reviewer names, then: commsflow approve {item}").format(item=job.item),
            )
        elif job.state in ("due", "planned", "blocked") and job.planned <= now + window and job.channel in missing:
            variable = missing[job.channel]
            add(
                "credential",
                job,
                variable.message,
                variable.hint or _("set the credential, then commsflow run --once"),
            )
        elif job.state == "blocked" and job.planned <= now + window:
            add("blocked", job, job.note or _("blocked"), _unblock(job, ref))
        elif job.state == "blocked" and job.signoff and job.signoff_state == "stale":
            add("stale", job, job.signoff, _review_then_approve(job))
    order = list(GROUPS)
    entries.sort(key=lambda entry: (order.index(entry.group), entry.planned, entry.ref))
    return entries


def _unblock(job: Job, ref: str) -> str:
    if not job.approved:
        return _("set status: approved in the item's file, then commsflow approve {item} --by NAME").format(
            item=job.item
        )
    if job.embargo:
        return _("move it after the embargo, or: commsflow dismiss {ref} --reason …").format(ref=ref)
    if job.signoff and job.signoff_state == "stale":
        return _review_then_approve(job)
    return f"commsflow approve {job.item} --by NAME"


def _review_then_approve(job: Job) -> str:
    return _("commsflow review {item}, then commsflow approve {item} --by NAME").format(item=job.item)


def _missing_credentials(config, environ) -> dict[str, CommsflowError]:
    """Scheduled channels whose publisher cannot start for want of a setting in the environment."""
    from commsflow import channels
    from commsflow.publishers.registry import publisher_for

    missing = {}
    for name, channel in channels.registry().items():
        if not channel.scheduled:
            continue
        chosen = config.publishing.publisher(name)
        if chosen == "outbox":
            continue
        try:
            publisher_for(chosen, config, environ=environ)
        except CommsflowError as exc:
            missing[name] = exc
    return missing

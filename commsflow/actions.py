"""A person acts on a job: finding it by a short reference, retrying, dismissing, or
recording that it was posted by hand. Every action goes into the ledger with who, when
and why (its ``history`` is the audit log)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from commsflow.calendar import Job, state_label
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.ledger import SETTLED

REF_LENGTH = 8  # what tables print; any unique prefix of at least MIN_REF characters works
MIN_REF = 4
# What each action may follow, by the job's state (the plan's, which includes the ledger's).
RETRYABLE = ("failed", "missed", "dismissed")
UNSENT = ("planned", "blocked", "due", "failed", "missed")


def short_ref(job_id: str) -> str:
    """A job's short reference: stable, and short enough to type."""
    return hashlib.blake2b(job_id.encode("utf-8"), digest_size=8).hexdigest()[:REF_LENGTH]


def job_from_record(row: dict) -> Job:
    """A job the ledger knows but the plan no longer has (its campaign or item changed)."""
    campaign, _slash, rest = row["id"].partition("/")
    step = rest.split("/", 1)[0] if rest else "-"
    return Job(
        row["id"],
        campaign,
        step,
        row["channel"],
        "-",
        row["item"],
        datetime.fromisoformat(row["planned"]),
        "-",
        state=row["state"],
        note=row.get("note"),
    )


def candidates(jobs: list[Job], records: dict[str, dict]) -> list[Job]:
    """The plan's jobs, and those only the ledger still knows."""
    known = {job.id for job in jobs}
    return list(jobs) + [job_from_record(row) for job_id, row in sorted(records.items()) if job_id not in known]


def find_job(text: str, jobs: list[Job], titles: dict[str, str]) -> Job:
    """The job ``text`` names: its full id, a unique prefix of it, or of its short reference."""
    text = text.strip()
    exact = [job for job in jobs if job.id == text]
    if exact:
        return exact[0]
    found = [job for job in jobs if len(text) >= MIN_REF and short_ref(job.id).startswith(text.lower())]
    if not found:
        found = [job for job in jobs if job.id.startswith(text)] if text else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommsflowError(
            _("no job {ref!r}").format(ref=text),
            _("give the short reference `commsflow status` prints, or the job's full id (build/jobs.json lists them)"),
        )
    shown = "; ".join(describe(job, titles) for job in found[:8]) + (" …" if len(found) > 8 else "")
    raise CommsflowError(
        _("{ref!r} fits {count} jobs: {jobs}").format(ref=text, count=len(found), jobs=shown),
        _("give more characters of the reference"),
    )


def describe(job: Job, titles: dict[str, str]) -> str:
    when = job.planned.strftime("%d.%m.%Y %H:%M")
    title = titles.get(job.item, job.item)
    kind = "" if job.template == "-" else f" {job.template}"
    # The title in the quotation marks of the language spoken: „…“ in German, “…” in English.
    return _("{ref} {channel}{kind} “{title}” ({when})").format(
        ref=short_ref(job.id), channel=job.channel, kind=kind, title=title, when=when
    )


@dataclass
class Action:
    name: str  # retry, dismissed, posted
    job: Job
    by: str
    why: str


def check_allowed(action: str, job: Job) -> None:
    """Refuse what the action cannot mean for a job in this state, saying what fits instead."""
    ref = short_ref(job.id)
    state = state_label(job.state)
    if action == "retry" and job.state not in RETRYABLE:
        if job.state in ("done", "posted"):
            raise CommsflowError(
                _("job {ref} went out already ({state})").format(ref=ref, state=state), _("nothing to retry")
            )
        if job.state == "sending":
            raise CommsflowError(
                _("job {ref} is being sent, or a crash interrupted it").format(ref=ref),
                _("run `commsflow run --once`: an interrupted job is then held for a person or sent again"),
            )
        raise CommsflowError(
            _("job {ref} has not failed ({state}); it goes out as planned").format(ref=ref, state=state),
            _("to keep it from going out: commsflow dismiss {ref} --reason …").format(ref=ref),
        )
    if action in SETTLED and job.state not in (*UNSENT, "sending"):
        raise CommsflowError(_("job {ref} is {state} already").format(ref=ref, state=state), _("nothing to change"))
    if action == "dismissed" and job.state == "sending":
        raise CommsflowError(
            _("job {ref} is being sent, or a crash interrupted it").format(ref=ref),
            _("check on {channel} whether it went out; if so: commsflow posted {ref} --url …").format(
                channel=job.channel, ref=ref
            ),
        )

"""The scheduler: carries out the calendar on time, exactly once.

The ``schedule`` package only drives the tick (every 30 s). Due times come from the
calendar (zoneinfo-aware) and the ledger, never from ``schedule``'s own jobs: it has
no persistence, replays nothing missed and knows time zones only through pytz.

A pass at ``now`` looks at every job planned up to ``now``: a job in the ledger as
done, missed or permanently failed is left alone; one that fell due within the grace
window is claimed (``sending``, committed), rendered, published and recorded ``done``
with its receipt or ``failed`` with the reason; older ones become ``missed``. A
transient failure is retried with backoff up to ``[publishing] retries``.

Every plan (``commsflow.plan``) reads content, campaigns and sign-offs afresh and
renders each job once: a job whose payload is not the one signed off (or has no
sign-off, with ``[publishing] require_signoff``), or that an embargo holds back, is not
published, and the outcome says why. Right before a job is sent, the files its
rendition was made from are read again: if one changed since the plan, the job waits
for the next plan instead of going out unreviewed.

A simulation (``run --simulate``) and a dry run work in ``.commsflow/simulation/`` on a
copy of the ledger: the real ledger and outbox stay as they are.

A real scheduler starts only on a ledger it can trust (:func:`commsflow.ledger.check_continuity`):
an empty or missing one where the folder ran a scheduler before, or one whose id is not the
folder's, stops it (``run --new-ledger`` confirms a fresh start). What it records and reports
of a failure or a receipt is scrubbed of every secret the channel's publisher knows.
"""

from __future__ import annotations

import bisect
import os
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from commsflow import alerts
from commsflow.actions import job_from_record
from commsflow.cache import digest_of
from commsflow.calendar import Job
from commsflow.channels import RenderFailed
from commsflow.config import CONFIG_FILE, Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.ledger import (
    SETTLED,
    Ledger,
    backoff,
    check_continuity,
    continuity_problem,
    exclusive,
    ledger_path,
    refuse_if_running,
)
from commsflow.plan import Plan
from commsflow.publishers.base import Publisher, PublishError
from commsflow.publishers.outbox import OutboxPublisher
from commsflow.publishers.registry import publisher_for
from commsflow.publishers.secrets import scrub

TICK_SECONDS = 30
REPLAN_SECONDS = 300  # content may change without a file event we notice; plan again this often

# How the ledger note of a job interrupted while sending begins (see :func:`was_interrupted`).
INTERRUPTED = N_("interrupted while sending")


def was_interrupted(note: str) -> bool:
    """Whether a ledger note says its job was interrupted while sending: the note is in the
    language of the run that wrote it, which need not be the one spoken now."""
    import gettext

    from commsflow.i18n import DOMAIN, LANGUAGES, LOCALES

    starts = {INTERRUPTED, _(INTERRUPTED)}
    for language in LANGUAGES:
        try:
            starts.add(gettext.translation(DOMAIN, LOCALES, languages=[language]).gettext(INTERRUPTED))
        except OSError:  # English has no catalog: the message as written
            pass
    return note.startswith(tuple(starts))


@dataclass
class Outcome:
    job: Job
    state: str  # done, failed, missed, skipped (dry run), waiting (a channel is not set up)
    detail: str
    at: datetime


def simulation_folder(config: Config) -> Path:
    """Where simulations and dry runs keep their throwaway ledger and outbox."""
    return config.path("state") / "simulation"


def throwaway_state(config: Config) -> Path:
    """A fresh simulation folder holding a copy of the real ledger (what was sent stays
    sent in the simulation); the real ledger is only read."""
    import shutil
    import sqlite3

    folder = simulation_folder(config)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    real = ledger_path(config)
    if real.exists():
        source = sqlite3.connect(f"{real.as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(folder / "ledger.sqlite")
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    return folder


class Scheduler:
    def __init__(
        self,
        config: Config,
        load: Callable[[datetime], Plan],
        *,
        dry_run: bool = False,
        outbox_only: bool = False,
        report: Callable[[Outcome], None] = lambda o: None,
        clock: Callable[[], datetime] | None = None,
        environ=None,
        state: Path | None = None,
        new_ledger: bool = False,
    ):
        """``state``: a simulation folder (its throwaway ledger); None for the real one, which
        must pass :func:`~commsflow.ledger.check_continuity` (``new_ledger``: ``run --new-ledger``)."""
        self.config = config
        self.load = load  # opens the plan afresh at a moment
        self.dry_run = dry_run
        self.outbox_only = outbox_only  # --simulate: every channel goes to the outbox
        self.report = report
        self.clock = clock or (lambda: datetime.now(config.zone))
        self.environ = environ
        self.state = state or config.path("state")  # the simulation folder for --simulate and --dry-run
        real = state is None and not dry_run
        if real:
            refuse_if_running(self.state)  # a running scheduler's lock is no sign of a lost ledger
        if real and not new_ledger:
            problem = continuity_problem(self.state / "ledger.sqlite", self.state)  # before the file is created
            if problem is not None:
                raise problem
        self.ledger = Ledger(self.state / "ledger.sqlite", durable=state is None)  # a simulation's is thrown away
        if real:
            try:
                check_continuity(self.ledger, self.state, new_ledger=new_ledger)
            except BaseException:
                self.ledger.close()
                raise
        # Alerts (commsflow.alerts): only a real run tells people; dry runs and simulations never do.
        self.alerter = alerts.Alerter(config, self.ledger, environ) if real and alerts.channels(config) else None
        self.publishers: dict[str, Publisher | CommsflowError] = {}
        self.jobs: list[Job] = []
        self._by_id: dict[str, Job] = {}
        self._watched: list[str] | None = None  # what _files_signature stats, listed once per plan
        self._times: list[datetime] = []
        self._cursor = 0
        self._retry: dict[str, datetime] = {}
        self._planned_at = None
        self._signature = None

    # --- planning ----------------------------------------------------------------------------

    def plan(self, now: datetime) -> None:
        # Taken before loading: a file an editor saves while the plan is read is a change the
        # next tick sees, not one hidden until the periodic replan.
        self._watched = None  # listed afresh: templates may have been added or removed
        signature = self._files_signature()
        self.current = self.load(now)
        self.jobs = self.current.jobs
        self._by_id = {job.id: job for job in self.jobs}
        self._digests = {item.path: item.digest for item in self.current.library}
        self._times = [job.planned for job in self.jobs]
        self._cursor = 0
        self._planned_at = wallclock.monotonic()
        self._signature = signature
        records = self.ledger.records()
        self._retry = {
            job_id: datetime.fromisoformat(row["retry_at"])
            for job_id, row in records.items()
            if row["state"] == "failed" and not row["permanent"] and row["retry_at"]
        }

    def next_due(self) -> datetime | None:
        upcoming = self._times[self._cursor] if self._cursor < len(self._times) else None
        retries = min(self._retry.values(), default=None)
        return min((t for t in (upcoming, retries) if t is not None), default=None)

    def _files_signature(self) -> tuple:
        """Cheap to take every tick: the content folders (a file added, removed or replaced
        by an editor), every template file and folder, the configuration and the sign-offs.
        The list of paths is made once per plan (a template added shows in its folder's time)."""
        if self._watched is None:
            config = self.config
            content = config.path("content")
            paths = [config.path("campaigns"), *(content / name for name in ("posts", "news", "events", "projects"))]
            templates = config.path("templates")
            if templates.is_dir():
                paths += sorted(templates.rglob("*"))  # folders too: a file added or removed changes theirs
            paths += [config.path("approvals"), config.root / CONFIG_FILE]
            self._watched = [str(path) for path in paths]
        signature = []
        for path in self._watched:
            try:
                stat = os.stat(path)
                signature.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                signature.append(None)
        return (str(self.config.root), *signature)

    # --- passes ------------------------------------------------------------------------------

    def recover(self, now: datetime) -> None:
        """Jobs a crashed process left in ``sending``: sent again where the channel
        de-duplicates, otherwise handed to a person."""
        for row in self.ledger.interrupted():
            publisher = self._publisher(row["channel"])
            window = getattr(publisher, "dedup_window", None)
            updated = datetime.fromisoformat(row["updated"])
            safe = (
                not isinstance(publisher, CommsflowError)
                and publisher.deduplicates
                and (window is None or (now - updated).total_seconds() < window)
            )
            if safe:
                self.ledger.failed(
                    row["id"],
                    now,
                    _("interrupted while sending; sent again (the channel drops duplicates)"),
                    permanent=False,
                    retry_at=now,
                )
            else:
                # Begins as INTERRUPTED does, in every language: was_interrupted() tells it by that.
                self.ledger.failed(
                    row["id"],
                    now,
                    _(
                        "interrupted while sending — check on {channel} whether "
                        "it went out; it is not sent again automatically"
                    ).format(channel=row["channel"]),
                    permanent=True,
                )
                job = self._by_id.get(row["id"]) or job_from_record(row)
                self._alert_outcome(Outcome(job, "failed", _(INTERRUPTED), now), now)

    def run_pass(self, now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        end = bisect.bisect_right(self._times, now)
        candidates = self.jobs[self._cursor : end]
        self._cursor = end
        by_id = self._by_id
        for job_id, retry_at in sorted(self._retry.items(), key=lambda pair: pair[1]):
            if retry_at <= now and job_id in by_id and by_id[job_id] not in candidates:
                candidates.append(by_id[job_id])
        for job in candidates:
            if self.stopping():  # SIGTERM: the job before is done and recorded; the rest waits for the next start
                break
            outcome = self._handle(job, now)
            if outcome is not None:
                outcomes.append(outcome)
                self.report(outcome)
                self._alert_outcome(outcome, now)
        return outcomes

    def _handle(self, job: Job, now: datetime) -> Outcome | None:
        record = self.ledger.get(job.id)
        if record is not None:
            if record["state"] in ("done", "missed", "sending", *SETTLED) or record["permanent"]:
                self._retry.pop(job.id, None)
                return None
            if record["retry_at"] and datetime.fromisoformat(record["retry_at"]) > now:
                self._retry[job.id] = datetime.fromisoformat(record["retry_at"])
                return None
        if record is None and now - job.planned > self.config.publishing.grace:
            # Also a job that stayed blocked until its window closed: recorded, so a person decides
            # (status lists it; retry sends it late, dismiss lets it go) instead of it waiting unseen.
            blocked = _("item not approved") if not job.approved else job.hold
            due = job.planned.isoformat(timespec="minutes")
            reason = (
                _("due {due}, not sent within the grace window (blocked: {reason})").format(due=due, reason=blocked)
                if blocked
                else _("due {due}, not sent within the grace window").format(due=due)
            )
            if not self.dry_run:
                self.ledger.missed(job, now, reason)
            return Outcome(job, "missed", reason, now)
        if not job.approved or job.hold:
            self._retry.pop(job.id, None)  # said once; a new plan takes it up when it is unblocked
            why = _("item not approved") if not job.approved else job.hold
            return Outcome(job, "blocked", _("{reason} — not published").format(reason=why), now)
        publisher = self._publisher(job.channel)
        if isinstance(publisher, CommsflowError):
            return Outcome(job, "waiting", f"{publisher.message} — {publisher.hint}", now)
        changed = self._changed_since_plan(job)
        if changed:
            self._signature = None  # plan again on the next tick
            return Outcome(
                job,
                "blocked",
                _("{reason} — not published; planned again on the next pass").format(reason=changed),
                now,
            )
        if self.dry_run:
            return Outcome(
                job, "skipped", _("would publish via {publisher} (dry run)").format(publisher=publisher.name), now
            )
        if not self.ledger.claim(job, now):
            return None
        self._retry.pop(job.id, None)
        secrets = getattr(publisher, "secrets", ())
        try:
            rendition = self.current.render(job)
            rendition.raise_errors()
            receipt = _scrubbed(publisher.publish(rendition.payload), secrets)
        except RenderFailed as exc:
            reason = _("cannot be rendered: {problems}").format(problems=exc)
            self.ledger.failed(job.id, now, reason, permanent=True)
            return Outcome(job, "failed", reason, now)
        except PublishError as exc:
            reason = scrub(exc.reason, secrets)  # the publisher scrubbed it; nothing is written unchecked
            attempts = (self.ledger.get(job.id) or {}).get("attempts", 1)
            if exc.transient and attempts < self.config.publishing.retries:
                retry_at = now + backoff(attempts, exc.retry_after)
                self.ledger.failed(job.id, now, reason, permanent=False, retry_at=retry_at)
                self._retry[job.id] = retry_at
                return Outcome(
                    job,
                    "failed",
                    _("{reason}; attempt {attempt}, next at {time}").format(
                        reason=reason, attempt=attempts, time=f"{retry_at.astimezone(self.config.zone):%H:%M}"
                    ),
                    now,
                )
            self.ledger.failed(job.id, now, reason, permanent=True)
            return Outcome(job, "failed", reason, now)
        self.ledger.done(job.id, now, receipt)
        return Outcome(job, "done", receipt.note or receipt.url or receipt.id, now)

    def _changed_since_plan(self, job: Job) -> str | None:
        """What the team signed off is what is sent: the files the job's rendition was
        made from must still be as they were when the job was planned."""
        rendition = self.current.render(job)
        for path in rendition.sources:
            if path not in self._digests:
                continue  # campaign files: the folder signature notices them
            try:
                now = digest_of((self.config.root / path).read_bytes())
            except OSError:
                now = None
            if now != self._digests[path]:
                return _("{path} changed since it was planned").format(path=path)
        return None

    def _publisher(self, channel: str) -> Publisher | CommsflowError:
        if channel not in self.publishers:
            name = "outbox" if self.outbox_only else self.config.publishing.publisher(channel)
            try:
                if name == "outbox":
                    self.publishers[channel] = OutboxPublisher.from_env(
                        self.config, state_dir=self.state, clock=self.clock
                    )
                else:
                    self.publishers[channel] = publisher_for(name, self.config, environ=self.environ or os.environ)
            except CommsflowError as exc:
                self.publishers[channel] = exc
        return self.publishers[channel]

    def close(self) -> None:
        """Close the ledger (its write-ahead log is folded in): done when a command ends."""
        self.ledger.close()

    # --- drivers -----------------------------------------------------------------------------

    def tick(self) -> None:
        """One beat of the long-running loop: cheap when nothing is due."""
        now = self.clock()
        stale = wallclock.monotonic() - self._planned_at > REPLAN_SECONDS
        if stale or self._files_signature() != self._signature:
            self.plan(now)
        due = self.next_due()
        if due is not None and due <= now:
            self.run_pass(now)
        self._alert_pass(now)

    def once(self) -> list[Outcome]:
        now = self.clock()
        with exclusive(self.state):
            self.plan(now)
            if not self.dry_run:
                self.recover(now)
            self._cursor = 0
            outcomes = self.run_pass(now)
            self._alert_pass(now)
            return outcomes

    # Asked before each job of a pass: True once the process is to stop (``run`` on SIGTERM). The job
    # being sent is finished and recorded first; a pass cut short is never resumed by this object.
    stopping: Callable[[], bool] = staticmethod(lambda: False)

    def forever(
        self,
        stop: Callable[[], bool] = lambda: False,
        *,
        started: Callable[[], None] = lambda: None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        """Take the lock and say so (``started``), a pass now, then a tick every ``tick_seconds``,
        until ``stop()``: asked every second and before each job, so a stop comes after the current
        job. The lock is released on the way out. ``tick_seconds`` is shorter only in tests
        (``commsflow.commands.run.TICK_SECONDS_FOR_TESTS``)."""
        import schedule

        self.stopping = stop
        with exclusive(self.state):
            started()
            now = self.clock()
            self.plan(now)
            self.recover(now)
            self.run_pass(now)
            self._alert_pass(now)
            runner = schedule.Scheduler()
            runner.every(tick_seconds).seconds.do(self._safe_tick)
            while not stop():
                runner.run_pending()
                wallclock.sleep(min(1, tick_seconds))

    def _safe_tick(self) -> None:
        # An exception must not escape into `schedule`, which would fire it again every tick.
        try:
            self.tick()
        except CommsflowError as exc:
            self.report(Outcome(_NO_JOB, "error", self._scrub(f"{exc.message} — {exc.hint}"), self.clock()))
        except Exception as exc:  # noqa: BLE001 - the loop must survive a bad pass
            self.report(Outcome(_NO_JOB, "error", self._scrub(f"{type(exc).__name__}: {exc}"), self.clock()))

    # --- alerts (commsflow.alerts): a person is told once per event ---------------------------

    def _alert_outcome(self, outcome: Outcome, now: datetime) -> None:
        """Record the alert an outcome calls for: a job failed for good or missed; a job
        blocked or waiting for its channel, due within the grace window."""
        if self.alerter is None:
            return
        job = outcome.job
        try:
            if outcome.state in ("failed", "missed"):
                record = self.ledger.get(job.id)
                if record is not None and (record["state"] == "missed" or record["permanent"]):
                    make = alerts.missed if record["state"] == "missed" else alerts.failed
                    event = make(job, self._about(job), record["note"] or "", self.ledger.last_seq(job.id), self.config)
                    self.alerter.record([event], now)
            elif outcome.state in ("blocked", "waiting") and now - job.planned <= self.config.publishing.grace:
                self.alerter.record(self._alerts_ahead(job), now)
        except Exception as exc:  # noqa: BLE001 - an alert must never stop a pass
            self.report(Outcome(_NO_JOB, "error", self._scrub(_alerts_failed(exc)), now))

    def _alert_pass(self, now: datetime) -> None:
        """After every pass and tick: alerts for jobs that are still blocked, stale or waiting for
        their channel ``[alerts] blocked_before`` before they are due (or due within the grace
        window), and for credentials about to expire; then every alert whose time has come is
        sent. A channel that is down is tried again later; publishing goes on regardless."""
        if self.alerter is None or self.stopping():
            return
        try:
            start = bisect.bisect_left(self._times, now - self.config.publishing.grace)
            end = bisect.bisect_right(self._times, now + self.config.alerts.blocked_before)
            events = [
                event
                for job in self.jobs[start:end]
                if self.ledger.get(job.id) is None  # sent, failed, missed or settled: told otherwise
                for event in self._alerts_ahead(job)
            ]
            self.alerter.record(events + alerts.credentials(self.config, now), now)
            for channel, kind, sent, detail in self.alerter.deliver(now):
                about = Job(f"alert/{channel}", "-", "-", channel, "alert", kind, now, "-")
                self.report(Outcome(about, "alert" if sent else "error", detail, now))
        except Exception as exc:  # noqa: BLE001 - an alert must never stop the scheduler
            self.report(Outcome(_NO_JOB, "error", self._scrub(_alerts_failed(exc)), now))

    def _alerts_ahead(self, job: Job) -> list[alerts.Event]:
        record = self.current.approvals.records.get(job.item)
        publisher = self._publisher(job.channel)
        return alerts.ahead(
            job,
            self._about(job),
            self.config,
            signed=getattr(record, "at", None),
            missing=publisher if isinstance(publisher, CommsflowError) else None,
        )

    def _about(self, job: Job) -> alerts.About:
        """The title and file of what a job sends: an item, or a newsletter issue."""
        item = self.current.library.get(job.item)
        if item is not None:
            return alerts.About(item.title, item.path)
        issue = self.current.campaigns.get(job.item, "newsletter")
        if issue is not None:
            return alerts.About(issue.spec.title, issue.path)
        return alerts.About(job.item)

    def _scrub(self, text: str) -> str:
        """An unexpected error's text may quote a request: every publisher's secrets out."""
        secrets = [
            secret
            for publisher in self.publishers.values()
            if not isinstance(publisher, CommsflowError)
            for secret in getattr(publisher, "secrets", ())
        ]
        return scrub(text, secrets)

    def simulate(self, start: datetime, end: datetime, clock_box: list) -> list[Outcome]:
        """Run from ``start`` to ``end`` on a virtual clock: a pass at every moment
        something falls due (planned times and retries)."""
        outcomes = []
        with exclusive(self.state):
            clock_box[0] = start
            self.plan(start)
            self.recover(start)
            self._cursor = bisect.bisect_left(self._times, start)
            while True:
                due = self.next_due()
                if due is None or due > end:
                    break
                clock_box[0] = max(due, clock_box[0])
                outcomes += self.run_pass(clock_box[0])
        return outcomes


def _alerts_failed(exc: Exception) -> str:
    return _("alerts: {error}").format(error=f"{type(exc).__name__}: {exc}")


def _scrubbed(receipt, secrets):
    """``receipt`` with every secret of its publisher scrubbed from what the ledger keeps of it."""
    if not secrets:
        return receipt
    return replace(
        receipt, id=scrub(receipt.id or "", secrets), url=scrub(receipt.url, secrets), note=scrub(receipt.note, secrets)
    )


_NO_JOB = Job("-", "-", "-", "-", "-", "-", datetime.min, "-")

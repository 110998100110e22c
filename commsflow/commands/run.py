"""``commsflow run``: the scheduler — as a long-running process, one pass, or a simulated year.

A real run publishes by the real clock: with the clock pinned (``--now``/``COMMSFLOW_NOW``)
it refuses, unless it is a dry run or a simulation. Tests that drive a real run at a given
moment say so in the click context object (:data:`REAL_RUN_AT_PINNED_CLOCK`), which no
option or environment variable can set.

What a run reports goes out one line per event (:class:`EventLog`): the text lines a person
reads, or with ``--log-format json`` one JSON object per line on stdout for a log collector
(deploy/README.md). SIGTERM (systemd, docker, ``kill``) stops a run after the job being sent
is finished and recorded; the lock is released and the exit status is 0.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import click
from rich.markup import escape

from commsflow import dates
from commsflow.errors import CommsflowError, Problem
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, error_console, print_problems
from commsflow.plan import open_plan
from commsflow.scheduler import Outcome, Scheduler, throwaway_state
from commsflow.workspace import Workspace

# For tests only: ``CliRunner().invoke(main, [..., "--now", WHEN, "run", ...], obj={REAL_RUN_AT_PINNED_CLOCK: True})``
# runs the real scheduler at WHEN. A person cannot set it from the command line or the environment.
REAL_RUN_AT_PINNED_CLOCK = "commsflow.tests: a real run at the pinned clock"
# For tests only, the same way: seconds between the ticks of a long-running run (instead of
# scheduler.TICK_SECONDS), so that a test of the real process need not wait half a minute.
TICK_SECONDS_FOR_TESTS = "commsflow.tests: seconds between the ticks of a long-running run"

LOG_FORMATS = ("text", "json")
# The keys of every JSON line, in this order; those that do not apply are null.
JSON_KEYS = ("time", "level", "state", "job", "channel", "template", "item", "planned", "detail")

_MARKS = {
    "done": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "missed": "[red]![/]",
    "blocked": "[yellow]–[/]",
    "waiting": "[yellow]…[/]",
    "skipped": "·",
    "error": "[red]✗[/]",
    "alert": "[cyan]✉[/]",
}
_LEVELS = {
    "done": "info",
    "skipped": "info",
    "blocked": "warning",
    "waiting": "warning",
    "failed": "error",
    "missed": "error",
    "error": "error",
    "alert": "info",
}
# The states as a person reads them in the text lines (JSON keeps the state as it is).
_STATES = {
    "done": N_("done"),
    "failed": N_("failed"),
    "missed": N_("missed"),
    "blocked": N_("blocked"),
    "waiting": N_("waiting"),
    "skipped": N_("skipped"),
    "error": N_("error"),
    "alert": N_("alert"),
}
# Line breaks json.dumps leaves as they are (it escapes only ASCII control characters).
_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def state_label(state: str) -> str:
    """``state`` in the language spoken (unknown states as they are)."""
    return _(_STATES[state]) if state in _STATES else state


def _counted(counts: dict[str, int]) -> str:
    """``3 done, 1 failed``: how many jobs ended in each state."""
    return ", ".join(f"{count} {state_label(state)}" for state, count in sorted(counts.items()))


def one_line(text: str) -> str:
    """``text`` on one line: a log line is one event, whatever an error message contains."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


class EventLog:
    """Everything a run reports, one line per event.

    ``text`` (the default): the lines a person reads — job outcomes and the summary on stdout,
    problems in the content on stderr. ``json``: one JSON object per line on stdout, problems
    and errors too, each with the keys :data:`JSON_KEYS`; ``time`` is the scheduler's clock
    (the virtual one in a simulation) with seconds and the UTC offset.
    """

    def __init__(self, log_format: str = "text", clock: Callable[[], datetime] | None = None):
        self.json = log_format == "json"
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.counts: dict[str, int] = {}
        # --once and --dry-run: past jobs missed are said in one line, not one line each
        self.fold_missed = False
        self.missed: list[Outcome] = []

    # --- what the scheduler reports ---------------------------------------------------------

    def outcome(self, outcome: Outcome) -> None:
        """The scheduler's ``report``: one handled job (or an error of a pass, with no job)."""
        self.counts[outcome.state] = self.counts.get(outcome.state, 0) + 1
        job = outcome.job
        if self.fold_missed and outcome.state == "missed" and not self.json:
            self.missed.append(outcome)
            return
        if self.json:
            real_job = job.id != "-"  # the scheduler's stand-in for an error that belongs to no job
            self._write(
                {
                    "time": outcome.at,
                    "level": _LEVELS.get(outcome.state, "info"),
                    "state": outcome.state,
                    "job": job.id if real_job else None,
                    "channel": job.channel if real_job else None,
                    "template": job.template if real_job else None,
                    "item": job.item if real_job else None,
                    "planned": job.planned if real_job else None,
                    "detail": outcome.detail,
                }
            )
            return
        when = f"{dates.numeric_date(outcome.at)} {dates.hour_minute(outcome.at)}"
        console.print(
            f"{when} {_MARKS.get(outcome.state, outcome.state)} {state_label(outcome.state):<7} "
            f"{escape(one_line(job.channel))} {escape(one_line(job.template))} {escape(one_line(job.item))} — "
            f"{escape(one_line(outcome.detail))}"
        )

    # --- everything else --------------------------------------------------------------------

    def note(self, state: str, detail: str, level: str = "info") -> None:
        """An event that belongs to no job: started, stopped, summary, error …"""
        if self.json:
            self._write({"time": self.clock(), "level": level, "state": state, "detail": detail})
        elif level in ("error", "warning"):
            error_console.print(escape(one_line(detail)))
        else:
            console.print(escape(one_line(detail)))

    def problems(self, problems: list[Problem]) -> None:
        """Problems in the content or the configuration (text: on stderr, as every command shows them)."""
        if not self.json:
            print_problems(problems, to_stderr=True)
            return
        for problem in problems:
            self.note("problem", problem.format(), "error" if problem.is_error else "warning")

    def _write(self, fields: dict) -> None:
        record = {key: fields.get(key) for key in JSON_KEYS}
        for key in ("time", "planned"):
            if isinstance(record[key], datetime):
                record[key] = record[key].isoformat(timespec="seconds")
        click.echo(json.dumps(record, ensure_ascii=False).translate(_BREAKS))


class _Stop:
    """Asked by the scheduler before each job and each tick: has a stop been asked for?"""

    def __init__(self) -> None:
        self.signal: str | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    def handle(self, signum, frame) -> None:
        # Only a flag: the scheduler finishes and records the job being sent, then stops.
        self.signal = signal.Signals(signum).name


@contextmanager
def _stop_on_sigterm() -> Iterator[_Stop]:
    """SIGTERM (systemd, docker, kill) asks the run to stop after the current job."""
    stop = _Stop()
    try:
        previous = signal.signal(signal.SIGTERM, stop.handle)
    except ValueError:  # not in the main thread (commsflow called from a program's thread): no handler
        yield stop
        return
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _loader(workspace: Workspace, log: EventLog | None = None):
    log = log or EventLog()

    def load(now: datetime):
        fresh = Workspace(workspace.root, workspace.now_text, workspace.use_cache)
        plan = open_plan(fresh, ledger=False)
        if plan.errors:
            # Keep going with what is valid, but say so on every new plan.
            log.problems(plan.errors)
            count = len(plan.errors)
            log.note(
                "problem",
                ngettext(
                    "{count} error in the content: those items are not planned",
                    "{count} errors in the content: those items are not planned",
                    count,
                ).format(count=count),
                "error",
            )
        return plan

    return load


def _period(text: str, zone) -> tuple[datetime, datetime]:
    first, sep, last = text.partition("..")
    try:
        start, end = dates.parse_date(first), dates.parse_date(last)
    except dates.DateError as exc:
        raise CommsflowError(
            _("--simulate {period!r}: {problem}").format(period=text, problem=exc),
            _("write it as 2024-01-01..2024-12-31"),
        ) from None
    if not sep or end < start:
        raise CommsflowError(
            _("--simulate {period!r} is not a period").format(period=text), _("write it as 2024-01-01..2024-12-31")
        )
    return (
        datetime(start.year, start.month, start.day, tzinfo=zone),
        datetime(end.year, end.month, end.day, tzinfo=zone) + timedelta(days=1),
    )


@click.command("run")
@click.option("--once", is_flag=True, help=N_("One pass, then exit (for cron or a systemd timer)."))
@click.option(
    "--dry-run",
    is_flag=True,
    help=N_("Show what would be published; publish nothing, record nothing in the real ledger."),
)
@click.option(
    "--simulate",
    metavar="FROM..TO",
    help=N_(
        "Run over a period on a virtual clock, into .commsflow/simulation/ (its own outbox and a copy of the "
        "ledger); nothing real is sent or recorded."
    ),
)
@click.option(
    "--new-ledger",
    is_flag=True,
    help=N_(
        "Confirm a fresh start: the ledger was lost (or replaced) and you are sure nothing was sent from this "
        "folder before, or the ledger there now is the right one. Needed once; refused when there is nothing to confirm."
    ),
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help=N_(
        "text: one line per event for a person; json: one JSON object per line on stdout, errors too "
        "(time, level, state, job, channel, template, item, planned, detail), for a log collector."
    ),
)
@click.pass_context
def command(
    ctx: click.Context, once: bool, dry_run: bool, simulate: str | None, new_ledger: bool, log_format: str
) -> None:
    """Publish what the calendar says is due, exactly once, and record it in the ledger.

    Without options it keeps running (a tick every 30 s); stop it with Ctrl-C or
    SIGTERM (the job being sent is finished and recorded first; exit status 0).
    Only approved items are published. Each job is recorded in the ledger
    (.commsflow/ledger.sqlite) before and after it is sent. A real run goes by
    the real clock: with --now or COMMSFLOW_NOW set it runs only with --dry-run
    or --simulate. Exit status: 0 fine; 1 a job failed or was missed (--once),
    or a problem stopped the run; 2 a usage error or a bug; 130 Ctrl-C.
    """
    obj = ctx.obj
    workspace: Workspace = obj["workspace"]
    if new_ledger and (simulate or dry_run):
        raise click.UsageError(
            _(
                "--new-ledger confirms a fresh start of the real ledger; a dry run or a simulation does not touch it — "
                "run `commsflow run --new-ledger` (or with --once) without --dry-run and --simulate"
            )
        )
    log = EventLog(log_format)
    if not log.json:
        _run(ctx, workspace, log, once=once, dry_run=dry_run, simulate=simulate, new_ledger=new_ledger)
        return
    # JSON lines: what stops the run is an event on stdout too, with the exit status the text form has.
    from commsflow.config import ConfigInvalid
    from commsflow.files import explain, explain_sqlite

    try:
        _run(ctx, workspace, log, once=once, dry_run=dry_run, simulate=simulate, new_ledger=new_ledger)
    except ConfigInvalid as exc:
        log.problems(exc.problems)
        log.note("error", str(exc), "error")
        raise click.exceptions.Exit(1) from None
    except CommsflowError as exc:
        log.note("error", str(exc), "error")
        raise click.exceptions.Exit(1) from None
    except OSError as exc:
        log.note("error", str(explain(exc)), "error")
        raise click.exceptions.Exit(1) from None
    except sqlite3.OperationalError as exc:
        log.note("error", str(explain_sqlite(exc, _("a database in the state folder (.commsflow/)"))), "error")
        raise click.exceptions.Exit(1) from None
    except KeyboardInterrupt:
        log.note("interrupted", _("interrupted (Ctrl-C)"), "error")
        raise click.exceptions.Exit(130) from None


def _run(
    ctx: click.Context,
    workspace: Workspace,
    log: EventLog,
    *,
    once: bool,
    dry_run: bool,
    simulate: str | None,
    new_ledger: bool,
) -> None:
    obj = ctx.obj
    if workspace.now_text and not (simulate or dry_run) and not obj.get(REAL_RUN_AT_PINNED_CLOCK):
        raise _pinned(ctx, workspace.now_text)
    config = workspace.config
    if simulate:
        start, end = _period(simulate, config.zone)
        box = [start]
        log.clock = lambda: box[0]
        state = throwaway_state(config)
        scheduler = Scheduler(
            config,
            _loader(workspace, log),
            dry_run=dry_run,
            outbox_only=True,
            report=log.outcome,
            clock=lambda: box[0],
            state=state,
        )
        try:
            outcomes = scheduler.simulate(start, end, box)
        finally:
            scheduler.close()
        _summary(outcomes, log)
        shown = state.relative_to(workspace.root) if state.is_relative_to(workspace.root) else state
        log.note(
            "simulated",
            _("Simulated in {folder}/ (outbox and ledger there); nothing real was sent or recorded.").format(
                folder=shown
            ),
        )
        return
    clock = (lambda: workspace.now) if workspace.now_text else (lambda: datetime.now(config.zone))
    log.clock = clock
    state = throwaway_state(config) if dry_run else None
    with _stop_on_sigterm() as stop:
        scheduler = Scheduler(
            config,
            _loader(workspace, log),
            dry_run=dry_run,
            report=log.outcome,
            clock=clock if workspace.now_text else None,
            state=state,
            new_ledger=new_ledger,
        )
        if once or workspace.now_text:
            log.fold_missed = True
            scheduler.stopping = stop  # SIGTERM: the job being sent is finished and recorded, the rest waits
            try:
                outcomes = scheduler.once()
            finally:
                scheduler.close()
            if stop():
                log.note(
                    "stopped",
                    _("stopped on {signal} after the current job; the next run does the rest").format(
                        signal=stop.signal
                    ),
                )
            _summary(outcomes, log)
            if any(o.state in ("failed", "missed", "error") for o in outcomes):
                raise click.exceptions.Exit(1)
            return

        def started() -> None:  # the lock is held
            log.note(
                "started", _("commsflow scheduler running on {folder} — Ctrl-C to stop").format(folder=workspace.root)
            )

        tick = obj.get(TICK_SECONDS_FOR_TESTS)
        try:
            if tick:
                scheduler.forever(stop, started=started, tick_seconds=tick)
            else:
                scheduler.forever(stop, started=started)
        finally:
            scheduler.close()
        handled = _counted(log.counts) or _("nothing")
        log.note(
            "stopped",
            _(
                "commsflow scheduler stopped on {signal} (handled since the start: {handled}); the lock is released"
            ).format(signal=stop.signal or _("request"), handled=handled),
        )


def _pinned(ctx: click.Context, now: str) -> CommsflowError:
    """A real run with the clock pinned: it would publish (or record as missed) by a made-up time."""
    source = ctx.parent.get_parameter_source("now") if ctx.parent else None
    where = "COMMSFLOW_NOW" if source is click.core.ParameterSource.ENVIRONMENT else "--now"
    undo = _("unset COMMSFLOW_NOW") if where == "COMMSFLOW_NOW" else _("leave out --now")
    return CommsflowError(
        _("the clock is pinned to {now!r} ({where}); a real run publishes by the real clock and does not start").format(
            now=now, where=where
        ),
        _(
            "{undo} to publish what is due now; to see what would go out at that moment, add --dry-run "
            "(or run --simulate FROM..TO)"
        ).format(undo=undo),
    )


def _summary(outcomes: list[Outcome], log: EventLog) -> None:
    if log.missed:
        days = sorted(outcome.job.planned for outcome in log.missed)
        first, last = dates.numeric_date(days[0]), dates.numeric_date(days[-1])
        span = _("{first} to {last}").format(first=first, last=last) if len(days) > 1 else first
        log.note(
            "missed",
            "✗ "
            + ngettext(
                "{count} past job missed (due {span}, not sent within the grace window) — "
                "commsflow status lists them: retry or dismiss each",
                "{count} past jobs missed (due {span}, not sent within the grace window) — "
                "commsflow status lists them: retry or dismiss each",
                len(days),
            ).format(count=len(days), span=span),
        )
        log.missed.clear()
    counts = {}
    for outcome in outcomes:
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    text = _counted(counts) or _("nothing due")
    log.note(
        "summary",
        ngettext("{count} job handled: {states}", "{count} jobs handled: {states}", len(outcomes)).format(
            count=len(outcomes), states=text
        ),
    )

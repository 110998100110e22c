"""Scheduler figures (issue 6): a simulated year with about 10,000 jobs, one plan, and the cost
of a tick with nothing due.

The project is generated under the bench workdir, never in the repository: the repository's
commsflow.toml and templates/, 10,000 approved blog posts (a backlog dated through 2023, each
signed off in approvals.yaml as the shipped configuration requires) and 196 slot campaigns —
every day of the week at 28 times (08:00, 08:30 … 21:30) on LinkedIn through 2024, 10,248
occurrences, so every post gets a job. The year runs as `commsflow run --simulate
2024-01-01..2024-12-31` runs it (virtual clock, every channel to the outbox, the throwaway ledger in
SQLite; plan, rendering, outbox and ledger writes all included), with the content cache warm
and outcomes counted instead of printed.

The idle tick is measured on a scheduler started mid-year after that run, as `forever()`
starts: planned, caught up (every earlier job is done in the ledger), the clock halfway
between two jobs, so a tick finds nothing due. A tick still plans again every
REPLAN_SECONDS (or when a watched folder changes): that cost is reported beside it.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from commsflow.campaigns import WEEKDAYS
from commsflow.plan import open_plan
from commsflow.scheduler import REPLAN_SECONDS, TICK_SECONDS, Scheduler, throwaway_state
from commsflow.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
POSTS = 10_000
TIMES = [f"{hour:02d}:{minute:02d}" for hour in range(8, 22) for minute in (0, 30)]  # 28 a day
YEAR = 2024
TICKS, TICK_WARMUP = 2_000, 50
TARGET_TICK_MS = 1.0
TARGET_YEAR_S = 30.0  # issue 11: was 323 s
WORDS = [
    "Industrie",
    "Berlin",
    "Transformation",
    "Kreislaufwirtschaft",
    "Projekt",
    "Netzwerk",
    "Förderung",
    "Unternehmen",
    "Fachkräfte",
    "Innovation",
    "Hauptstadt",
    "Standort",
    "Startups",
    "Forschung",
    "Wissenschaft",
    "Konferenz",
    "Austausch",
    "Vernetzung",
    "Digitalisierung",
    "Dekarbonisierung",
    "Wertschöpfung",
    "Mädchen",
    "Technik",
    "Kompetenzen",
]


def _words(number: int, count: int, step: int) -> str:
    return " ".join(WORDS[(number * 7 + k * step) % len(WORDS)] for k in range(count))


def _post(number: int) -> str:
    day = datetime(YEAR - 1, 1, 1) + timedelta(days=number * 365 // POSTS)  # ~27 a day through 2023
    body = "\n\n".join(_words(number + paragraph, 40, 13) + "." for paragraph in range(3))
    return (
        f'---\ntitle: "{_words(number, 5, 5)} {number}"\nstatus: approved\ncategory: Aktuelles\n'
        f'date: {day:%Y-%m-%d}\nsummary: "{_words(number, 12, 11)}."\n---\n\n{body}\n'
    )


def _slot(weekday: str, clock: str) -> str:
    return (
        f'kind: slot\nevery: {weekday}\ntime: "{clock}"\nstart: {YEAR}-01-01\nend: {YEAR}-12-31\n'
        f"channel: linkedin\ntemplate: article\ntype: post\nitems_from: {YEAR - 1}-01-01\n"
    )


def generate(target: Path) -> Path:
    """The bench project in ``target``: content and campaigns are reused if complete; the
    configuration and templates are copied afresh and the posts signed off again, so a
    project made before a change to either still plans every job."""
    marker = target / f".complete-{POSTS}-{len(TIMES)}"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        posts = target / "content" / "posts"
        posts.mkdir(parents=True)
        for folder in ("news", "events", "projects"):
            (target / "content" / folder).mkdir()
        for number in range(POSTS):
            (posts / f"beitrag-{number:05d}.md").write_text(_post(number), encoding="utf-8")
        campaigns = target / "campaigns"
        campaigns.mkdir()
        for index, weekday in enumerate(WEEKDAYS):
            for clock in TIMES:
                (campaigns / f"slot-{index + 1}-{weekday}-{clock.replace(':', '')}.yaml").write_text(
                    _slot(weekday, clock), encoding="utf-8"
                )
        marker.touch()
    shutil.copy(REPO / "commsflow.toml", target / "commsflow.toml")
    shutil.rmtree(target / "templates", ignore_errors=True)
    shutil.copytree(REPO / "templates", target / "templates")
    _fresh_state(target)  # a job the ledger has as done is one a sign-off no longer covers
    _sign_off(target)
    return target


def _loader(root: Path):
    """What `commsflow run` opens on every plan (commands/run.py), failing instead of printing."""

    def load(now: datetime):
        plan = open_plan(Workspace(root), ledger=False)
        if plan.errors:
            raise SystemExit(f"bench project {root} does not load cleanly: {plan.errors[0].format()}")
        return plan

    return load


def _sign_off(root: Path) -> None:
    """approvals.yaml with every planned job signed off as it renders now: what the team does
    with `commsflow approve --all-planned` (every rendition's digest and text recorded)."""
    command = [*_commsflow(), "--root", str(root), "--now", f"{YEAR - 1}-12-31 12:00"]
    subprocess.run([*command, "approve", "--all-planned", "--by", "Bench"], check=True, stdout=subprocess.DEVNULL)


def _commsflow() -> list[str]:
    script = Path(sys.executable).parent / "commsflow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "commsflow"]


def _fresh_state(root: Path) -> None:
    """No ledger, no outbox; the content cache stays."""
    state = root / ".commsflow"
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (state / name).unlink(missing_ok=True)
    shutil.rmtree(state / "outbox", ignore_errors=True)


def _scheduler(root: Path, box: list, counts: Counter, state: Path) -> Scheduler:
    """As `run --simulate` sets it up: every channel to the outbox of the simulation folder."""
    return Scheduler(
        Workspace(root).config,
        _loader(root),
        outbox_only=True,
        report=lambda outcome: counts.update([outcome.state]),
        clock=lambda: box[0],
        state=state,
    )


def _timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _median_ms(work, runs: int) -> float:
    return statistics.median(_timed(work) for _ in range(runs)) * 1000


def run(workdir: Path):
    root = generate(workdir / "scheduler")
    zone = Workspace(root).config.zone
    start, end = datetime(YEAR, 1, 1, tzinfo=zone), datetime(YEAR + 1, 1, 1, tzinfo=zone)

    # The year, from an empty ledger and outbox, in the simulation folder as `run --simulate` keeps it.
    _fresh_state(root)
    state = throwaway_state(Workspace(root).config)
    box, counts = [start], Counter()
    year = _scheduler(root, box, counts, state)
    outcomes = []
    year_s = _timed(lambda: outcomes.extend(year.simulate(start, end, box)))
    year.ledger.close()
    jobs = len(year.jobs)
    if not jobs or len(outcomes) != jobs or counts["done"] != jobs:
        raise SystemExit(f"simulated year: {len(outcomes)} outcomes for {jobs} jobs ({dict(counts)})")

    # Restarted mid-year: one plan (timed), caught up, then ticks with nothing due.
    times = [job.planned for job in year.jobs]
    middle = len(times) // 2
    while times[middle + 1] - times[middle] < timedelta(minutes=2):
        middle += 1
    between = times[middle] + (times[middle + 1] - times[middle]) / 2
    box, counts = [between], Counter()
    idle = _scheduler(root, box, counts, state)
    plan_s = _timed(lambda: idle.plan(between))
    load_s = _timed(lambda: Workspace(root).load())  # content (warm cache): the rest of a plan is campaigns,
    # calendar and sign-offs
    idle.recover(between)
    idle.run_pass(between)  # as forever() starts: everything up to now is done in the ledger already
    due = idle.next_due()
    if counts or due is None or due <= between:
        raise SystemExit(f"mid-year at {between}: something is due ({dict(counts)}, next {due})")
    for _ in range(TICK_WARMUP):
        idle.tick()
    ticks = sorted(_timed(idle.tick) for _ in range(TICKS))
    tick_ms, tick_p99_ms = statistics.median(ticks) * 1000, ticks[int(TICKS * 0.99)] * 1000
    signature_ms = _median_ms(idle._files_signature, TICKS)  # the stat calls that tell a tick to plan again
    if counts:
        raise SystemExit(f"an idle tick did something: {dict(counts)}")
    if tick_ms >= TARGET_TICK_MS:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [idle.tick() for _ in range(TICKS)])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(f"idle tick {tick_ms:.3f} ms ≥ {TARGET_TICK_MS:g} ms — profile of {TICKS} ticks:\n{out.getvalue()}")
    idle.ledger.close()

    replan_share = plan_s / REPLAN_SECONDS  # a tick plans again every REPLAN_SECONDS, due or not
    figures = {
        "scheduler_year_jobs": jobs,
        "scheduler_year_s": year_s,
        "scheduler_year_ms_per_job": year_s / jobs * 1000,
        "scheduler_plan_s": plan_s,
        "scheduler_plan_load_s": load_s,
        "scheduler_idle_tick_ms": tick_ms,
        "scheduler_idle_tick_p99_ms": tick_p99_ms,
        "scheduler_files_signature_ms": signature_ms,
        "scheduler_replan_cpu_share": replan_share,
    }
    rows = [
        (
            f"scheduler: simulated year {YEAR}, {jobs:,} jobs to the outbox (plan included)",
            f"{year_s:.1f} s ({year_s / jobs * 1000:.1f} ms a job)",
            f"≤ {TARGET_YEAR_S:g} s",
        ),
        (
            f"scheduler: one plan, {POSTS:,} signed-off posts × {len(WEEKDAYS) * len(TIMES)} slot campaigns",
            f"{plan_s:.2f} s",
            f"content load {load_s:.2f} s",
        ),
        (
            f"scheduler: tick with nothing due, median of {TICKS:,} (p99 {tick_p99_ms:.3f} ms)",
            f"{tick_ms:.3f} ms",
            f"< {TARGET_TICK_MS:g} ms",
        ),
        (
            f"scheduler: plan again every {REPLAN_SECONDS} s (every {REPLAN_SECONDS // TICK_SECONDS}th tick)",
            f"{replan_share:.1%} of a core",
            "",
        ),
    ]
    return figures, rows

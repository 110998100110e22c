"""Ledger figures (issue 18): what a sent job costs in the ledger, with SQLite's WAL journal at
``synchronous=FULL`` (what commsflow uses) and at ``NORMAL``.

Each job is recorded as the scheduler records it: ``claim`` (sending) before the publisher is
called, ``done`` after — two transactions. Measured on the bench workdir's file system, 500 jobs
each, median of 3.

Both settings hold the crash tests (tests/test_scheduler.py kills a real `run` at random
moments: a killed process loses no commit in WAL mode either way). They differ on a power cut
or an operating system crash: with NORMAL the last commits before it may be lost — the
"sending" written before a post went out among them, and the job would be sent again after the
restart. FULL makes each commit wait for the disk; the figures say what that costs a job.
"""

from __future__ import annotations

import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from commsflow.ledger import Ledger
from commsflow.publishers.base import Receipt

JOBS, RUNS = 500, 3


def _per_job_ms(folder: Path, synchronous: str) -> float:
    timings = []
    for run in range(RUNS):
        shutil.rmtree(folder, ignore_errors=True)
        ledger = Ledger(folder / "ledger.sqlite")
        ledger.db.execute(f"PRAGMA synchronous={synchronous}")
        at = datetime(2024, 3, 1, 10, tzinfo=UTC)
        start = time.perf_counter()
        for number in range(JOBS):
            job = SimpleNamespace(id=f"bench/{run}/{number}", channel="linkedin", item=f"post-{number}", planned=at)
            ledger.claim(job, at)
            ledger.done(job.id, at, Receipt("linkedin", f"urn:li:share:{number}"))
        timings.append((time.perf_counter() - start) / JOBS * 1000)
        ledger.close()
    shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(timings)


def run(workdir: Path):
    full = _per_job_ms(workdir / "ledger-full", "FULL")
    normal = _per_job_ms(workdir / "ledger-normal", "NORMAL")
    figures = {"ledger.job_full_ms": full, "ledger.job_normal_ms": normal}
    rows = [
        (f"ledger: one sent job (claim + done), synchronous=FULL, {JOBS} jobs", f"{full:.2f} ms", "kept"),
        (
            f"ledger: the same with synchronous=NORMAL, {JOBS} jobs",
            f"{normal:.2f} ms",
            "loses commits on a power cut",
        ),
    ]
    return figures, rows

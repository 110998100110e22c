"""Start-up figures: everyday commands timed as a user runs them, whole process, median of 10.

``cli.help_s`` is ``commsflow --help``; ``cli.check_shipped_s`` is ``commsflow check`` on a copy of
the shipped MPI project (content, campaigns, templates, configuration, sign-offs), after one
unmeasured run that fills the caches a second run of the day finds.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 10
TARGET_HELP_S, TARGET_CHECK_S = 0.3, 0.6
SHIPPED = ("content", "campaigns", "templates", "commsflow.toml", "approvals.yaml", "feeds.yaml")


def _commsflow() -> list[str]:
    script = Path(sys.executable).parent / "commsflow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "commsflow"]


def _median(command: list[str], cwd: Path) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def run(workdir: Path):
    project = workdir / "cli-shipped"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in SHIPPED:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    check = [*_commsflow(), "--now", "2024-03-01 10:00", "check"]
    subprocess.run(check, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    help_s = _median([*_commsflow(), "--help"], project)
    check_s = _median(check, project)
    figures = {"cli.help_s": help_s, "cli.check_shipped_s": check_s}
    rows = [
        (f"cli: commsflow --help, median of {RUNS}", f"{help_s:.2f} s", f"≤ {TARGET_HELP_S:g} s"),
        (
            f"cli: commsflow check on the shipped content, median of {RUNS}",
            f"{check_s:.2f} s",
            f"≤ {TARGET_CHECK_S:g} s",
        ),
    ]
    return figures, rows

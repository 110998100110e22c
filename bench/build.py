"""Build figures: the whole `commsflow build` command, timed as a user runs it.

The projects are generated under the bench workdir, never in the repository: the German
corpus of bench/corpus.py (posts, news, events and projects with front matter, about 600
words each), the repository's commsflow.toml and templates/, and of its campaigns/ those
the generated corpus gives meaning to — the slot campaigns, which pick posts by type and
date (the weekly blog post on LinkedIn); the newsletter issues and event campaigns name
items of the repository's content, which the corpus does not have.

Each build is one `commsflow --root PROJECT --now '2024-03-01 10:00' build` process. It
may exit 1 (content warnings or errors); anything else, or a traceback, fails the bench.
Measured: a full build from a clean state (no build/, no .commsflow/) of 1,000 and of
COMMSFLOW_BENCH_BUILD_ITEMS (default 10,000) items, a second build with nothing changed,
and a build after one sentence is appended to one signed-off post's body.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import yaml

from bench.corpus import generate

REPO = Path(__file__).resolve().parent.parent
ITEMS = int(os.environ.get("COMMSFLOW_BENCH_BUILD_ITEMS", "10000"))
SMALL = min(1_000, ITEMS)
TIMEOUT_S = float(os.environ.get("COMMSFLOW_BENCH_BUILD_TIMEOUT", "900"))
NOW = "2024-03-01 10:00"
RUNS = 3
REPEAT_UNDER_S = 30.0  # the large full build runs three times only when one run is this quick
TARGET_FULL_S, TARGET_SCALING, TARGET_NOTHING_S, TARGET_TOUCHED_SHARE = 20.0, 12.0, 1.0, 0.05


class TimedOut(Exception):
    pass


_statuses: set[int] = set()  # exit statuses of the builds: 1 means some units reported errors and were not built


def _commsflow() -> list[str]:
    script = Path(sys.executable).parent / "commsflow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "commsflow"]


def _code_digest() -> str:
    """The code of the commsflow the builds import: a build's inputs include it, so an edit while the bench runs
    makes every unit stale."""
    package = Path(importlib.util.find_spec("commsflow").submodule_search_locations[0])
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _project(root: Path, items: int) -> Path:
    """bench/corpus.py's corpus (reused when complete); templates and slot campaigns copied afresh."""
    generate(root, items)  # content/ and commsflow.toml
    shutil.rmtree(root / "templates", ignore_errors=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.rmtree(root / "campaigns", ignore_errors=True)
    (root / "campaigns").mkdir()
    for path in sorted((REPO / "campaigns").glob("*.yaml")):
        if (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind") == "slot":
            shutil.copy(path, root / "campaigns" / path.name)
    return root


def _clean(root: Path) -> None:
    for name in ("build", ".commsflow"):
        shutil.rmtree(root / name, ignore_errors=True)


class Timing(NamedTuple):
    wall: float  # seconds, the figure
    cpu: float  # user + system seconds of the build process: a check when other work shares the machine


def _middle(timings: list[Timing]) -> Timing:
    """The median run by wall time (the runs are 1 or 3, so it is one of them)."""
    return sorted(timings)[len(timings) // 2]


def _build(root: Path) -> Timing:
    """One `commsflow build`; exit 0 or 1 is a build, anything else a crash that stops the bench."""
    command = [*_commsflow(), "--root", str(root), "--now", NOW, "build"]
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: nothing to drain while timing
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        try:
            status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=stderr, timeout=TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            raise TimedOut(f"one build of {root.name} took longer than {TIMEOUT_S:g} s") from None
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", "replace")
    if status not in (0, 1) or "Traceback" in errors or "internal error" in errors:
        tail = "\n".join(errors.strip().splitlines()[-25:])
        raise SystemExit(f"`{' '.join(command)}` crashed (exit status {status}):\n{tail}")
    _statuses.add(status)
    return Timing(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def _full(root: Path, runs: int) -> list[Timing]:
    timings = []
    for _ in range(runs):
        _clean(root)
        timings.append(_build(root))
    return timings


def _touch_targets(root: Path, count: int) -> list[Path]:
    """Signed-off generated posts (each has a LinkedIn unit of its own), spread over the corpus."""
    posts = sorted((root / "content" / "posts").glob("posts-*.md"))
    signed = [path for path in posts if re.search(r"^status: (approved|published)$", path.read_text("utf-8"), re.M)]
    step = max(1, len(signed) // count)
    return signed[::step][:count]


def _touched(root: Path) -> list[Timing]:
    """A build after appending one sentence to one post's body, a different post each run; the posts are restored."""
    targets = _touch_targets(root, RUNS)
    originals = {path: path.read_bytes() for path in targets}
    timings = []
    try:
        for number, path in enumerate(targets, 1):
            sentence = f"\nNachtrag {number}: Der Beitrag wurde um einen Satz zur Industriestadt Berlin ergänzt.\n"
            path.write_bytes(originals[path] + sentence.encode("utf-8"))
            timings.append(_build(root))
    finally:
        for path, data in originals.items():
            path.write_bytes(data)
    return timings


def _seconds(timing: Timing, digits: int) -> str:
    return f"{timing.wall:.{digits}f} s (CPU {timing.cpu:.{digits}f} s)"


def run(workdir: Path):
    code_before = _code_digest()
    # Imports every command once, so bytecode is compiled before the first timed build (and a broken import fails here).
    subprocess.run([*_commsflow(), "--version"], check=True, stdout=subprocess.DEVNULL)
    small = _project(workdir / f"build-{SMALL}", SMALL)
    large = _project(workdir / f"build-{ITEMS}", ITEMS)
    full_small = full_large = nothing = touched = None
    reason, runs = None, 1
    try:
        full_small = _middle(_full(small, RUNS))
        first = _full(large, 1)
        runs = RUNS if first[0].wall < REPEAT_UNDER_S else 1
        full_large = _middle(first + _full(large, runs - 1))
        nothing = _middle([_build(large) for _ in range(RUNS)])
        touched = _middle(_touched(large))
    except TimedOut as exc:
        reason = str(exc)
    code_changed = _code_digest() != code_before
    if code_changed:
        print("warning: commsflow/ changed while the build bench ran; its figures are unreliable", file=sys.stderr)
    scaling = full_large.wall / full_small.wall if full_large and full_small else None
    share = touched.wall / full_large.wall if touched and full_large else None
    figures = {
        "build.items": ITEMS,
        "build.full_1k_s": full_small.wall if full_small else None,
        "build.full_10k_s": full_large.wall if full_large else None,
        "build.scaling_10k_over_1k": scaling,
        "build.nothing_changed_s": nothing.wall if nothing else None,
        "build.touched_s": touched.wall if touched else None,
        "build.touched_share": share,
        "build.full_1k_cpu_s": full_small.cpu if full_small else None,
        "build.full_10k_cpu_s": full_large.cpu if full_large else None,
        "build.nothing_changed_cpu_s": nothing.cpu if nothing else None,
        "build.touched_cpu_s": touched.cpu if touched else None,
        "build.reason": reason,
        "build.exit_status": max(_statuses, default=None),
        "build.code_changed_during_run": code_changed,
    }
    slots = len(list(large.glob("campaigns/*.yaml")))
    missing = f"not measured: {reason}"
    rows = [
        (
            f"build: full, {SMALL:,} items, {slots} slot campaign{'s' if slots != 1 else ''}, median of {RUNS}",
            _seconds(full_small, 2) if full_small else missing,
            "",
        ),
        (
            f"build: full, {ITEMS:,} items, {runs} run{'s' if runs > 1 else ''}",
            _seconds(full_large, 1) if full_large else missing,
            f"≤ {TARGET_FULL_S:g} s",
        ),
        (
            f"build: full {ITEMS:,} / full {SMALL:,}",
            f"{scaling:.1f}× (CPU {full_large.cpu / full_small.cpu:.1f}×)" if scaling else missing,
            f"≤ {TARGET_SCALING:g}×",
        ),
        (
            f"build: {ITEMS:,} items again, nothing changed (median of {RUNS})",
            _seconds(nothing, 2) if nothing else missing,
            f"≤ {TARGET_NOTHING_S:g} s",
        ),
        (
            f"build: one sentence appended to one post (median of {RUNS})",
            f"{_seconds(touched, 2)} = {share:.1%} of full" if touched else missing,
            f"≤ {TARGET_TOUCHED_SHARE:.0%}",
        ),
    ]
    if code_changed:
        rows.append(("build: commsflow/ changed during the run", "figures unreliable", ""))
    return figures, rows

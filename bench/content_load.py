"""Issue 2 figures: load + validate + render of 10,000 items against a bare-parser baseline,
a reload after touching one file, and peak memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cmarkgfm
import yaml

from bench.corpus import generate
from commsflow.workspace import Workspace

ITEMS = 10_000


def _baseline(root: Path) -> float:
    """The fastest well-kept parsers doing only the parsing: libyaml + cmark-gfm, one core."""
    files = sorted((root / "content").rglob("*.md"))
    start = time.perf_counter()
    for path in files:
        text = path.read_bytes().decode("utf-8")
        _, head, body = text.split("---\n", 2)
        yaml.load(head, Loader=yaml.CSafeLoader)
        cmarkgfm.github_flavored_markdown_to_html(body)
    return time.perf_counter() - start


def _full_load(root: Path) -> tuple[float, int, int]:
    state = root / ".commsflow"
    shutil.rmtree(state, ignore_errors=True)
    start = time.perf_counter()
    loaded = Workspace(root=root).load()  # cold: empty cache, so every file is parsed
    elapsed = time.perf_counter() - start
    return elapsed, len(loaded.library), len(loaded.errors)


def _reload_after_touch(root: Path) -> tuple[float, int]:
    Workspace(root=root).load()  # make sure the cache is complete
    victim = next((root / "content" / "posts").glob("*.md"))
    os.utime(victim)
    start = time.perf_counter()
    loaded = Workspace(root=root).load()
    return time.perf_counter() - start, loaded.report.parsed


# ru_maxrss survives fork+exec on Linux (a child starts with its parent's high-water mark),
# so the probe reads VmHWM of its own address space where /proc has it.
_MEMORY_PROBE = """
import json, re, resource, sys, shutil
from pathlib import Path
from commsflow.workspace import Workspace
root = Path(sys.argv[1])
shutil.rmtree(root / ".commsflow", ignore_errors=True)
loaded = Workspace(root=root).load()
try:
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) / 1024
except (OSError, TypeError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"items": len(loaded.library), "self_mb": peak,
                  "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _peak_memory(root: Path) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(root)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def run(workdir: Path):
    root = generate(workdir / "corpus", ITEMS)
    memory = _peak_memory(root)  # first, in a fresh process
    _baseline(root)  # warm the page cache so both sides read from memory
    baseline = min(_baseline(root) for _ in range(2))
    full, items, errors = min(_full_load(root) for _ in range(2))
    if errors or items != ITEMS:
        raise SystemExit(f"bench corpus did not load cleanly: {items} items, {errors} errors")
    reload_s, parsed = _reload_after_touch(root)
    rate, base_rate = ITEMS / full, ITEMS / baseline
    figures = {
        "content.load.items_per_s": rate,
        "content.baseline.items_per_s": base_rate,
        "content.load.time_ratio_to_baseline": full / baseline,
        "content.reload_touched.s": reload_s,
        "content.reload_touched.share_of_full": reload_s / full,
        "content.reload_touched.parsed": parsed,
        "content.peak_memory_mb": memory["self_mb"],
        "content.worker_peak_memory_mb": memory["children_mb"],
        "cpu_count": os.cpu_count() or 1,
    }
    rows = [
        ("load+validate+render, 10,000 items", f"{rate:,.0f} items/s ({full:.2f} s)", "≥ 2,000 items/s"),
        ("baseline libyaml+cmark-gfm, 1 core", f"{base_rate:,.0f} items/s ({baseline:.2f} s)", ""),
        ("load time / baseline time", f"{full / baseline:.2f}×", "≤ 1.5×"),
        (
            "reload after touching one file",
            f"{reload_s * 1000:.0f} ms = {reload_s / full:.1%} of full, {parsed} parsed",
            "≤ 5 %",
        ),
        ("peak memory, main process", f"{memory['self_mb']:.0f} MB", "< 300 MB"),
        ("peak memory, largest worker", f"{memory['children_mb']:.0f} MB", ""),
    ]
    return figures, rows

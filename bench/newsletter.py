"""Newsletter figures on the shipped content (repo root), latest issue: one full build from loaded
content, the MJML compile alone with mjml-python, and the official `mjml` compiler (npm) on the
same MJML string for comparison. Both compilers are timed in-process after warm-up (medians), so
the comparison is of compilers, not of Python's or Node's start-up; a whole `node` run is reported
beside it."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from mjml import mjml2html

from commsflow.assemblers.newsletter import assemble
from commsflow.renderers import newsletter as renderer
from commsflow.renderers.templating import environment, render
from commsflow.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent  # commsflow.toml, content/, campaigns/, templates/
HERE = Path(__file__).resolve().parent
ISSUE = "newsletter-2024-1"
NOW = "2024-03-01 10:00"
WARMUP, RUNS = 5, 50  # full builds
COMPILE_RUNS = 200  # compiles, each side; Node warms up 100 compiles first (see mjml_official.js)
PROCESS_RUNS = 5
OFFICIAL = "mjml@4"  # 4.x compiles synchronously; mjml 5 returns a promise
NODE_SCRIPT = HERE / "mjml_official.js"


def _median_ms(work, runs: int = RUNS, warmup: int = WARMUP) -> float:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _email_mjml(issue, config) -> str:
    """The e-mail MJML exactly as render_issue produces it (tracked links, mode "email")."""
    link = renderer._Links(config, issue.campaign.id, True)
    context = renderer._context(issue, config, link, "email", {}, [])
    return render(environment(config), f"{renderer.TEMPLATES}/email.mjml", **context)


def _install_official() -> str | None:
    """Install the official compiler into bench/node_modules once; the reason if it cannot be used."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node:
        return "node not found on PATH"
    if (HERE / "node_modules" / "mjml" / "package.json").is_file():
        return None
    if not npm:
        return "npm not found on PATH and bench/node_modules/mjml is missing"
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(HERE), OFFICIAL],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm install {OFFICIAL} failed: {exc}"
    if done.returncode or not (HERE / "node_modules" / "mjml" / "package.json").is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"npm install {OFFICIAL} failed (exit {done.returncode}): {last}"
    return None


def _official(mjml_file: Path) -> tuple[dict | None, float | None, str | None]:
    """(in-process result, median wall time of one whole `node` process compiling once, reason if unavailable)."""
    reason = _install_official()
    if reason:
        return None, None, reason
    node = shutil.which("node")
    try:
        done = subprocess.run(
            [node, str(NODE_SCRIPT), str(mjml_file), str(COMPILE_RUNS)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        result = json.loads(done.stdout)
        walls = []
        for _ in range(PROCESS_RUNS):
            start = time.perf_counter()
            subprocess.run(
                [node, str(NODE_SCRIPT), str(mjml_file), "0"], capture_output=True, text=True, timeout=120, check=True
            )
            walls.append(time.perf_counter() - start)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        return None, None, f"official mjml did not run: {detail.strip().splitlines()[-1] if detail.strip() else exc}"
    return result, statistics.median(walls) * 1000, None


def run(workdir: Path):
    workspace = Workspace(root=ROOT, now_text=NOW, use_cache=False)  # no .commsflow/ state in the repo
    loaded = workspace.load()
    config = workspace.config
    campaign = workspace.campaigns.get(ISSUE, "newsletter")
    if loaded.errors or campaign is None:
        raise SystemExit(
            f"shipped content does not load cleanly: {len(loaded.errors)} errors, issue {ISSUE!r} "
            f"{'missing' if campaign is None else 'found'}"
        )

    def build():
        issue = assemble(campaign, workspace.campaigns, loaded.library, config.zone)
        return renderer.render_issue(issue, config, now=workspace.now)

    rendered = build()
    if rendered.errors:
        raise SystemExit(f"{ISSUE} does not build: {rendered.errors[0]}")
    build_ms = _median_ms(build)

    mjml = _email_mjml(assemble(campaign, workspace.campaigns, loaded.library, config.zone), config)
    if renderer.compile_mjml(mjml, ISSUE) != rendered.email_html:
        raise SystemExit("bench MJML differs from what render_issue compiles; bench/newsletter.py is out of date")
    python_ms = _median_ms(lambda: mjml2html(mjml, disable_comments=True, fonts={}), runs=COMPILE_RUNS)

    workdir.mkdir(parents=True, exist_ok=True)
    mjml_file = workdir / f"{ISSUE}.email.mjml"
    mjml_file.write_text(mjml, encoding="utf-8")
    official, process_ms, reason = _official(mjml_file)
    official_ms = official["median_ms"] if official else None

    # The issue's target "at least 20× faster than the official compiler" compares the compilers on the
    # same MJML: mjml_speedup. newsletter_build_vs_official is context only: our whole build (assemble,
    # three template renders, two compiles, checks, .eml) against two official compiles and nothing else.
    figures = {
        "newsletter_build_ms": build_ms,
        "mjml_python_compile_ms": python_ms,
        "mjml_official_compile_ms": official_ms,
        "mjml_official_first_compile_ms": official["first_ms"] if official else None,
        "mjml_official_process_ms": process_ms,
        "mjml_speedup": official_ms / python_ms if official else None,
        "newsletter_build_vs_official": official_ms * 2 / build_ms if official else None,
        "mjml_official_version": official["version"] if official else None,
        "mjml_official_reason": reason,
    }
    size = f"{len(mjml.encode()) / 1024:.0f} KB MJML → {len(rendered.email_html.encode()) / 1024:.0f} KB HTML"
    rows = [
        (f"newsletter build {ISSUE} (assemble + render_issue)", f"{build_ms:.1f} ms", "< 50 ms"),
        (f"mjml-python compile, e-mail ({size})", f"{python_ms:.2f} ms", ""),
    ]
    if official:
        rows += [
            (f"official mjml {official['version']} compile, in-process, warmed up", f"{official_ms:.1f} ms", ""),
            ("official mjml, first compile in a process", f"{official['first_ms']:.0f} ms", ""),
            ("official mjml, one whole node process", f"{process_ms:.0f} ms", ""),
            ("official / mjml-python compile time", f"{official_ms / python_ms:.1f}×", "≥ 20×"),
            ("2 official compiles / our full build", f"{official_ms * 2 / build_ms:.1f}×", ""),
        ]
    else:
        rows.append(("official mjml", f"not measured: {reason}", "≥ 20×"))
    return figures, rows

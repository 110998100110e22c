"""``commsflow build``: every output in one run, incrementally.

The work is cut into units — one per newsletter issue, per item's LinkedIn drafts,
per press release, per event's calendar file, plus the calendar export, the
archive and the dashboard. A unit's inputs (the item files it reads, the templates
of its kind, the configuration, commsflow's own code and, where the output names
the date, the day) are hashed; when the hash and the files on disk match the last
build (``.commsflow/build/manifest.json``), the unit does no work. A unit that fails
is reported and the others go on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from commsflow import calendar as planning
from commsflow import stats
from commsflow.approvals import signoff_states
from commsflow.assemblers import linkedin as linkedin_plan
from commsflow.assemblers import press as press_assembler
from commsflow.assemblers.newsletter import SIGNED_OFF, assemble
from commsflow.cache import code_fingerprint
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.files import write_atomic
from commsflow.links import item_url
from commsflow.renderers import ics
from commsflow.renderers import linkedin as linkedin_renderer
from commsflow.renderers import newsletter as newsletter_renderer
from commsflow.renderers import press as press_renderer
from commsflow.workspace import Loaded, Workspace


@dataclass
class Unit:
    key: str  # e.g. "newsletter/newsletter-2024-1"
    kind: str  # newsletter, linkedin, press, ics, calendar
    inputs: str  # hash of everything the unit reads
    render: Callable[[], tuple[dict[Path, bytes | str], list[Problem]]]
    label: str = ""


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)  # unit key → files (relative to build/)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def _digest(*parts: bytes | str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(part.encode("utf-8") if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()


def _folder_digest(folder: Path) -> str:
    if not folder.is_dir():
        return "-"
    return _digest(
        *(
            f"{path.relative_to(folder)}:{path.stat().st_mtime_ns}:{path.stat().st_size}"
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        )
    )


class Builder:
    def __init__(self, workspace: Workspace, loaded: Loaded):
        self.workspace = workspace
        self.config = workspace.config
        self.loaded = loaded
        self.library = loaded.library
        self.campaigns = workspace.campaigns
        self.now = workspace.now
        self.build_dir = self.config.path("build")
        self.manifest_path = self.config.path("state") / "build" / "manifest.json"
        templates = self.config.path("templates")
        self.base = _digest(self.config.fingerprint, code_fingerprint())
        self.templates = {name: _folder_digest(templates / name) for name in ("newsletter", "linkedin", "press")}
        self.everything = _digest(
            *(f"{item.slug}:{item.digest}" for item in sorted(self.library, key=lambda i: i.slug))
        )
        self.day = self.now.date().isoformat()
        self.signoffs = signoff_states(workspace, loaded)

    # --- units -----------------------------------------------------------------------------

    def units(self) -> list[Unit]:
        units: list[Unit] = []
        for campaign in sorted(self.campaigns.of_kind("newsletter"), key=lambda c: c.spec.send_at):
            raw = (self.config.root / campaign.path).read_bytes()
            units.append(
                Unit(
                    f"newsletter/{campaign.id}",
                    "newsletter",
                    _digest(self.base, self.templates["newsletter"], raw, self.everything),
                    lambda c=campaign: self._newsletter(c),
                    campaign.id,
                )
            )
        figures_inputs = _digest(self.base, self.templates["linkedin"], self.everything, self.day)
        for item in sorted(self.library, key=lambda i: (i.kind, i.slug)):
            if item.status not in SIGNED_OFF:
                continue
            if item.kind in ("post", "news", "event"):
                units.append(
                    Unit(
                        f"linkedin/{item.slug}",
                        "linkedin",
                        _digest(self.base, self.templates["linkedin"], item.digest, self._refs(item), self.day),
                        lambda i=item: self._linkedin(i),
                        item.slug,
                    )
                )
            if item.meta.press is not None:
                units.append(
                    Unit(
                        f"press/{item.slug}",
                        "press",
                        _digest(self.base, self.templates["press"], item.digest, self.day),
                        lambda i=item: self._press(i),
                        item.slug,
                    )
                )
            if item.kind == "event":
                units.append(
                    Unit(
                        f"events/{item.slug}",
                        "ics",
                        _digest(self.base, item.digest),
                        lambda i=item: self._ics(i),
                        item.slug,
                    )
                )
        units.append(Unit("linkedin/zahlen", "linkedin", figures_inputs, lambda: self._linkedin(None), "zahlen"))
        return units

    def _refs(self, item) -> str:
        """Digests of the items an item's text names (an event's organiser project, …)."""
        slugs = [*item.refs.get("projects", ()), *item.refs.get("events", ())]
        if item.refs.get("organiser"):
            slugs.append(item.refs["organiser"])
        return _digest(*(f"{slug}:{self.library.get(slug).digest}" for slug in slugs if self.library.get(slug)))

    def _newsletter(self, campaign):
        issue = assemble(campaign, self.campaigns, self.library, self.config.zone)
        if any(p.is_error for p in issue.problems):
            return {}, issue.problems
        rendered = newsletter_renderer.render_issue(issue, self.config, now=self.now)
        if rendered.errors:
            return {}, rendered.problems
        return newsletter_renderer.output_files(rendered, self.config), rendered.problems

    def _linkedin(self, item):
        if item is None:
            planned = [linkedin_plan.Planned(None, "figures")]
        else:
            planned = [
                linkedin_plan.Planned(item, kind) for kind in linkedin_plan.kinds_for(item, self.now, self.config.zone)
            ]
        vocabularies = self.config.vocabularies
        figures = stats.compute(self.library, self.now, vocabularies.fields_of_action, vocabularies.blog_categories)
        rendered = linkedin_renderer.render_drafts(planned, self.library, self.config, figures, now=self.now)
        if rendered.errors:
            return {}, rendered.problems
        return linkedin_renderer.output_files(rendered, self.config, now=self.now), rendered.problems

    def _press(self, item):
        release = press_assembler.assemble(item, self.config.root, self.now)
        if release.errors:
            return {}, release.problems
        rendered = press_renderer.render_release(release, self.config, now=self.now)
        return press_renderer.output_files(rendered, self.config), release.problems

    def _ics(self, item):
        path = self.build_dir / "events" / f"{item.slug}.ics"
        return {path: ics.event_ics(item, self.config, stamp=self.now, url=item_url(item, self.config))}, []

    # --- running -----------------------------------------------------------------------------

    def run(self, progress: Callable[[str], None] = lambda label: None) -> BuildReport:
        report = BuildReport()
        manifest = self._read_manifest()
        fresh: dict[str, dict] = {}
        for unit in self.units():
            progress(unit.key)
            previous = manifest.get(unit.key)
            if (
                previous
                and previous["inputs"] == unit.inputs
                and all((self.build_dir / name).is_file() for name in previous["files"])
            ):
                report.unchanged.append(unit.key)
                report.problems += [Problem(**_problem_args(p)) for p in previous.get("warnings", [])]
                report.outputs[unit.key] = previous["files"]
                fresh[unit.key] = previous
                continue
            try:
                files, problems = unit.render()
            except CommsflowError as exc:
                files, problems = {}, [Problem(unit.key, exc.message, hint=exc.hint)]
            report.problems += problems
            if any(p.is_error for p in problems) or (not files and problems):
                report.failed.append(unit.key)
                continue
            for path, data in files.items():
                write_atomic(path, data)
            names = sorted(str(path.relative_to(self.build_dir)) for path in files)
            report.built.append(unit.key)
            report.outputs[unit.key] = names
            fresh[unit.key] = {
                "inputs": unit.inputs,
                "files": names,
                "warnings": [_problem_dict(p) for p in problems if not p.is_error],
            }
        progress("calendar")
        report.problems += self._calendar_outputs(report)
        write_atomic(self.manifest_path, json.dumps(fresh, indent=1, sort_keys=True, ensure_ascii=False))
        report.problems = unique_problems(report.problems)
        return report

    def _calendar_outputs(self, report: BuildReport) -> list[Problem]:
        """The calendar export and the newsletter archive: cheap, always written."""
        calendar = planning.build(self.config, self.campaigns, self.library, self.now, approvals=self.signoffs)
        self.calendar = calendar
        write_atomic(self.build_dir / "calendar.ics", ics.calendar_ics(calendar.jobs, self.config, now=self.now))
        issues = []
        for campaign in sorted(self.campaigns.of_kind("newsletter"), key=lambda c: c.spec.send_at, reverse=True):
            if (newsletter_renderer.issue_folder(self.config, campaign.id) / "web.html").is_file():
                spec = campaign.spec
                issues.append(
                    {"id": campaign.id, "title": spec.title, "subject": spec.subject, "send_at": spec.send_at}
                )
        write_atomic(
            self.build_dir / "newsletter" / "index.html", newsletter_renderer.render_archive(self.config, issues)
        )
        return calendar.problems

    def _read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no manifest, or a damaged one: everything is built again


def _problem_dict(problem: Problem) -> dict:
    return {
        "path": problem.path,
        "message": problem.message,
        "line": problem.line,
        "field": problem.field,
        "hint": problem.hint,
    }


def _problem_args(data: dict) -> dict:
    return {**data, "severity": Severity.WARNING}


def unique_problems(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = problem.format(), problem.severity
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return sorted(out, key=Problem.sort_key)

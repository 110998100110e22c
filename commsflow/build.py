"""``commsflow build``: the plan rendered, incrementally.

Every job of the calendar that may still go out is rendered once — the exact payload
the scheduler would send, with the files a person previews — and so is a preview of
every signed-off item no campaign plans yet (``commsflow.plan``). A rendition's
inputs (the files it is made of, its channel's templates, the configuration,
commsflow's own code, the job and its planned time) are hashed; when the hash and the
files on disk match the last build (``.commsflow/build/manifest.json``), the job is
not rendered again and what the manifest kept of it stands. When only items' texts
changed since the last build (``commsflow.outline``), a job whose rendition was made
of none of those files stands without that check. A job that fails is
reported and the others go on. ``build/jobs.json`` lists every rendered job with its
files and the digest of its payload.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import orjson

from commsflow import channels
from commsflow.cache import code_fingerprint, read_kept, write_kept
from commsflow.calendar import Job
from commsflow.channels import Rendition
from commsflow.channels.base import FRONT_MATTER
from commsflow.errors import Problem
from commsflow.files import remove, write_all, write_atomic
from commsflow.plan import Plan, is_draft, unique
from commsflow.renderers.dashboard import DRAFTS_FOLDER, Dashboard


@dataclass
class Built:
    """What the build keeps of one rendition: enough for the dashboard, lint and sign-offs."""

    job: Job
    files: list[str]  # relative to the build folder
    title: str
    review: str
    digest: str | None
    problems: list[Problem]
    link: str | None = None
    # What a preview card shows of the rendition itself (files, title, link, text), digested once
    # when it is rendered: a page of 7,000 previews is keyed by these, not by 3 MB of texts.
    shown: str = ""

    def __post_init__(self) -> None:
        if not self.shown:
            shown = orjson.dumps([self.files, self.title, self.link, self.review])
            self.shown = hashlib.blake2b(shown, digest_size=16).hexdigest()


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    renditions: list[Built] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def outputs(self) -> dict[str, list[str]]:
        return {built.job.id: built.files for built in self.renditions}


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


class Inputs:
    """What each job's rendition is made of, hashed: the files it reads (by their content
    digests), its channel's templates, the configuration, commsflow's code, the job and its
    planned time. Equal hashes, equal renditions: rendering is a function of these."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.config = plan.config
        templates = self.config.path("templates")
        self.base = _digest(self.config.fingerprint, code_fingerprint())
        self._templates = {
            folder: _folder_digest(templates / folder)
            for folder in {channel.templates for channel in channels.registry().values()}
            if folder
        }
        self._files: dict[str, str] = {item.path: item.digest for item in plan.library}
        self._everything: str | None = None
        self._inputs: dict[str, str] = {}
        self._sources: dict[str, list[str] | None] = {}

    def sources(self, job: Job) -> list[str] | None:
        """What the job's rendition is made of, as the manifest keeps it (None: everything)."""
        if job.id not in self._sources:
            found = channels.get(job.channel).sources(job, self.plan.context)
            self._sources[job.id] = None if found is None else list(found)
        return self._sources[job.id]

    def everything(self) -> str:
        """Every item and campaign file: for renditions that select from the whole library."""
        if self._everything is None:
            parts = sorted(f"{path}:{digest}" for path, digest in self._files.items())
            for campaign in self.plan.campaigns.campaigns:
                parts.append(f"{campaign.path}:{self._file(campaign.path)}")
            self._everything = _digest(*parts)
        return self._everything

    def _file(self, path: str) -> str:
        if path not in self._files:
            try:
                self._files[path] = _digest((self.config.root / path).read_bytes())
            except OSError:
                self._files[path] = "-"
        return self._files[path]

    def inputs(self, job: Job) -> str:
        if job.id not in self._inputs:
            self._inputs[job.id] = self._work_out_inputs(job)
        return self._inputs[job.id]

    def _work_out_inputs(self, job: Job) -> str:
        channel = channels.get(job.channel)
        sources = self.sources(job)
        if sources is None or FRONT_MATTER in sources:  # every front matter is hashed as every file
            made_of = self.everything()
        else:
            made_of = _digest(*(f"{p}:{self._file(p)}" for p in sources))
        return _digest(
            self.base,
            self._templates.get(channel.templates, "-"),
            job.id,
            job.template,
            job.planned.isoformat(),
            job.source if is_draft(job) else self._file(job.source),
            made_of,
        )


class Kept(Inputs):
    """For the commands that report on the plan without writing it out (``check``,
    ``calendar``, ``status``): what an earlier one of them rendered, with the same
    inputs, is recalled — its payload's digest, text, title and problems, all a sign-off
    check and a report need — instead of rendering every signed-off job again (a release's
    Word file and PDF, a newsletter's MJML). Set up with ``open_plan(…, prepare=Kept)``;
    ``save`` keeps this plan's renditions in ``.commsflow/cache/renditions.json``. Never for
    what is sent or signed off: those render."""

    def __init__(self, plan: Plan):
        super().__init__(plan)
        plan.recall = self.recall
        cache = self.config.cache_folder
        self.path = cache / "renditions.json" if cache else None
        self._kept: dict[str, dict] = read_kept(self.path, self.base)  # none yet, or unreadable: all rendered

    def recall(self, job: Job) -> Rendition | None:
        previous = self._kept.get(job.id)
        if not isinstance(previous, dict) or previous.get("inputs") != self.inputs(job):
            return None
        texts = [previous.get(key) for key in ("review", "title", "digest")]
        if not all(isinstance(text, str) for text in texts):
            return None  # not what save writes: render it
        try:
            problems = [Problem.from_dict(p) for p in previous["problems"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        review, title, digest = texts
        return Rendition(job, None, review=review, problems=problems, title=title, known_digest=digest)

    def save(self) -> None:
        """Keep what this plan rendered or recalled (a rendition that failed is rendered again)."""
        fresh = {
            job_id: {
                "inputs": self.inputs(rendition.job),
                "digest": rendition.digest,
                "review": rendition.review,
                "title": rendition.title,
                "problems": [p.as_dict() for p in rendition.problems],
            }
            for job_id, rendition in self.plan._renditions.items()
            if rendition.digest is not None
        }
        if fresh != self._kept:
            write_kept(self.path, self.base, fresh)


class Builder(Inputs):
    """Set up with ``open_plan(…, prepare=Builder)``: the plan then recalls unchanged
    renditions from the last build instead of rendering them again.

    ``texts_changed``: when the build knows that only the texts of these items (their
    files, relative to the project) changed since the last build (``commsflow.outline``),
    a job whose last rendition was made of none of them stands as it was, unchecked."""

    def __init__(self, plan: Plan, texts_changed: set[str] | None = None):
        super().__init__(plan)
        self.texts_changed = texts_changed
        plan.recall = self.recall
        self.build_dir = self.config.path("build")
        self.manifest_path = self.config.path("state") / "build" / "manifest.json"
        self._manifest = _Manifest.read(self.manifest_path)

    def recall(self, job: Job) -> Rendition | None:
        row = self._previous(job)
        if row is None:
            return None
        built = self._manifest.built(job, row)
        return Rendition(
            job, None, review=built.review, problems=built.problems, title=built.title, known_digest=built.digest
        )

    def _previous(self, job: Job) -> int | None:
        """The row of what the last build kept of the job, when it still stands."""
        manifest = self._manifest
        row = manifest.rows.get(job.id)
        if row is None:
            return None
        if self.texts_changed is not None and self._untouched(manifest.sources[row]):
            return row  # the stamp saw the build folder as the last build left it
        if manifest.inputs[row] != self.inputs(job):
            return None
        if not all((self.build_dir / name).is_file() for name in manifest.files[row]):
            return None
        return row

    def texts_matter(self) -> bool:
        """Whether a job to render again, because a changed text is in it, is held to a
        sign-off: its rendition then decides whether it is blocked, which the outline cannot
        know, so the plan has to be worked out in full."""
        records = self.plan.approvals.records
        manifest = self._manifest
        for job in self.plan.renderable():
            if job.item in records:
                row = manifest.rows.get(job.id)
                if row is None or not self._untouched(manifest.sources[row]):
                    return True
        return False

    def _untouched(self, made_of) -> bool:
        """Whether the last build's rendition was made of none of the changed texts (its
        recorded sources are known and miss them all)."""
        return isinstance(made_of, list) and self.texts_changed.isdisjoint(made_of)

    # --- running -----------------------------------------------------------------------------

    def run(self, progress: Callable[[str], None] = lambda label: None) -> BuildReport:
        report = BuildReport()
        manifest = self._manifest
        fresh = _Manifest.after(manifest)
        taken: dict[str, str] = {}  # file → the job that wrote it in this build
        for job in self.plan.renderable():
            progress(job.id)
            row = self._previous(job)
            if row is not None:
                built = manifest.built(job, row)
                report.unchanged.append(job.id)
                fresh.keep(row)
            else:
                rendition = self.plan.render(job)
                files = _unique_names(rendition, taken)
                if rendition.errors or rendition.payload is None:
                    report.failed.append(job.id)
                    report.problems += rendition.problems
                    continue
                # One set: a release is never left with some formats new and others not.
                write_all({self.build_dir / name: data for name, data in files.items()})
                built = Built(
                    job, sorted(files), rendition.title, rendition.review, rendition.digest, rendition.problems,
                    rendition.payload.link,
                )  # fmt: skip
                report.built.append(job.id)
                fresh.add(built, self.inputs(job), self.sources(job))
            for name in built.files:
                taken[name] = job.id
            report.problems += built.problems
            report.renditions.append(built)
        progress("calendar")
        fresh.close()
        self._remove_gone(manifest, fresh)
        self._calendar_outputs(report)
        write_atomic(self.manifest_path, fresh.stored())
        report.problems = unique(report.problems)
        return report

    def _calendar_outputs(self, report: BuildReport) -> None:
        """The calendar export, the newsletter archive and the list of jobs: cheap, written
        each time — except what stays as it was when only texts changed (the calendar, and
        the archive unless an issue was rendered)."""
        plan = self.plan
        if self.texts_changed is None:
            from commsflow.renderers import ics

            titles = ics.job_titles(plan.jobs, plan.library, plan.campaigns)
            write_atomic(
                self.build_dir / "calendar.ics", ics.calendar_ics(plan.jobs, self.config, now=plan.now, titles=titles)
            )
        rendered = {job_id.partition("/")[0] for job_id in report.built + report.failed}
        if self.texts_changed is None or rendered & {c.id for c in plan.campaigns.of_kind("newsletter")}:
            self._archive()
        listing = [
            {
                "job": built.job.id,
                "channel": built.job.channel,
                "template": built.job.template,
                "item": built.job.item,
                "planned": None if is_draft(built.job) else built.job.planned.isoformat(),
                "state": built.job.state,
                "title": built.title,
                "digest": built.digest,
                "files": built.files,
            }
            for built in report.renditions
        ]
        # One job a line: readable and diffable.
        lines = b",\n".join(map(orjson.dumps, listing))
        write_atomic(self.build_dir / "jobs.json", b"[\n" + lines + b"\n]\n" if listing else b"[]\n")

    def _archive(self) -> None:
        """The newsletter archive and its feed: the issues sent as of the plan's clock, or by
        the ledger's word, whose web version is built."""
        from commsflow.renderers import newsletter as newsletter_renderer

        plan = self.plan
        sent = newsletter_renderer.sent_issues(plan.campaigns.of_kind("newsletter"), plan.now, plan.records)
        issues = [
            campaign
            for campaign in sent
            if (newsletter_renderer.issue_folder(self.config, campaign.id) / "web.html").is_file()
        ]
        write_all(newsletter_renderer.render_archive(self.config, issues, now=plan.now))

    def _remove_gone(self, manifest: _Manifest, fresh: _Manifest) -> None:
        """Files the last build wrote for jobs that no longer render them (a job moved, a kind
        changed): a preview left behind would show what will not go out."""
        kept = {name for files in fresh.files for name in files}
        # What went out on a channel that archives it stays: the newsletter's web version, which
        # the archive links. Out of the manifest after this build, it is never touched again.
        archived = {
            job.id for job in self.plan.jobs if job.state in ("done", "posted") and channels.get(job.channel).archived
        }
        for job_id, files in zip(manifest.jobs, manifest.files, strict=True):
            if job_id in archived:
                continue
            for name in files:
                if name not in kept:
                    remove(self.build_dir / name, emptied_up_to=self.build_dir)


def _unique_names(rendition: Rendition, taken: dict[str, str]) -> dict[str, bytes | str]:
    """The rendition's files; where another job of this build wrote the same name (the same
    item and kind twice on a channel), the planned day goes into the name."""
    job = rendition.job
    if not any(name in taken for name in rendition.files):
        return rendition.files
    mark = f"{job.item}--{job.template}"
    day = job.planned.strftime("%Y-%m-%d-%H%M")
    return {name.replace(mark, f"{mark}@{day}", 1): data for name, data in rendition.files.items()}


# 2: the problems in one table (most jobs share the same few); 3: a column per field, not an
# object per job (for 7,000 jobs, reading it took half the time of a build in which one text changed);
# 4: what a card shows of each rendition, digested (Built.shown)
_MANIFEST_VERSION = 4
_COLUMNS = ("jobs", "inputs", "sources", "files", "title", "review", "digest", "link", "shown", "problems")


class _Manifest:
    """What a build kept of each job's rendition (``.commsflow/build/manifest.json``): row by
    row, a column per field; the problems as numbers into one table of distinct problems."""

    def __init__(self, columns: dict[str, list] | None = None, table: list[Problem] | None = None):
        self._use(columns if columns is not None else {name: [] for name in _COLUMNS})
        self.table: list[Problem] = table if table is not None else []
        self._numbers: dict[Problem, int] | None = None
        self._before: _Manifest | None = None  # the manifest whose rows this one keeps
        self._kept: list[int] = []  # those rows

    def _use(self, columns: dict[str, list]) -> None:
        self.columns = columns
        self.jobs: list[str] = columns["jobs"]
        self.inputs: list[str] = columns["inputs"]
        self.sources: list[list[str] | None] = columns["sources"]
        self.files: list[list[str]] = columns["files"]
        self.__dict__.pop("rows", None)

    @cached_property
    def rows(self) -> dict[str, int]:
        """Job id → its row: asked of the last build's manifest only."""
        return {job_id: row for row, job_id in enumerate(self.jobs)}

    @classmethod
    def read(cls, path: Path) -> _Manifest:
        """The last build's; an empty one where there is none, or an older or a damaged one
        (everything is built again)."""
        try:
            stored = orjson.loads(path.read_bytes())
            if stored["version"] != _MANIFEST_VERSION:
                return cls()
            columns = {name: stored[name] for name in _COLUMNS}
            count = len(columns["jobs"])
            if not all(type(column) is list and len(column) == count for column in columns.values()):
                return cls()
            table = [Problem.from_dict(data) for data in stored["table"]]
            numbers = [number for numbers in columns["problems"] for number in numbers]
            if numbers and not 0 <= min(numbers) <= max(numbers) < len(table):
                return cls()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()
        return cls(columns, table)

    @classmethod
    def after(cls, before: _Manifest) -> _Manifest:
        """An empty one for this build, with the last build's table of problems: rows kept
        as they were keep their numbers. Call :meth:`close` when every row is in."""
        fresh = cls(table=list(before.table))
        fresh._before = before
        return fresh

    def built(self, job: Job, row: int) -> Built:
        columns, table = self.columns, self.table
        return Built(
            job,
            columns["files"][row],
            columns["title"][row],
            columns["review"][row],
            columns["digest"][row],
            [table[number] for number in columns["problems"][row]],
            columns["link"][row],
            columns["shown"][row],
        )

    def keep(self, row: int) -> None:
        """The last build's row as it was: taken over, column by column, by :meth:`close`."""
        self._kept.append(row)

    def close(self) -> None:
        """The rows kept, then those added. (Their order means nothing: a job is found by its id.)"""
        if self._before is not None and self._kept:
            before, kept = self._before.columns, self._kept
            self._use({name: [before[name][row] for row in kept] + column for name, column in self.columns.items()})
        self._before, self._kept = None, []

    def add(self, built: Built, inputs: str, sources: list[str] | None) -> None:
        if self._numbers is None:
            self._numbers = {problem: number for number, problem in enumerate(self.table)}
        numbers = []
        for problem in built.problems:
            number = self._numbers.setdefault(problem, len(self.table))
            if number == len(self.table):
                self.table.append(problem)
            numbers.append(number)
        row = (
            built.job.id, inputs, sources, built.files, built.title, built.review, built.digest, built.link, built.shown,
        )  # fmt: skip
        for column, value in zip(self.columns.values(), (*row, numbers), strict=True):
            column.append(value)

    def stored(self) -> bytes:
        """As the file holds it. Problems no row names any more are left out of the table once
        they would be most of it (rows kept from build to build keep their numbers)."""
        self.close()
        used = set().union(*self.columns["problems"])
        table = self.table
        if len(table) > 2 * len(used) + 64:
            renumbered = {old: new for new, old in enumerate(sorted(used))}
            table = [table[old] for old in sorted(used)]
            self.columns["problems"] = [[renumbered[n] for n in numbers] for numbers in self.columns["problems"]]
        return orjson.dumps(
            {"version": _MANIFEST_VERSION, "table": [problem.as_dict() for problem in table], **self.columns}
        )


def write_dashboard(dashboard: Dashboard, build_dir: Path, state: Path) -> None:
    """The dashboard's index and those of its previews' pages that changed, written as one set.

    A page is rendered again when its digest is not the one kept from the last build, or
    its file is gone or not as that build left it (size and time: edited by hand); pages
    of months that no longer have previews are removed."""
    kept_path = state / "build" / "dashboard-pages.json"
    kept = read_kept(kept_path, dashboard.key)  # another key (templates, settings, code): every page again
    fresh: dict[str, list] = {}
    outputs: dict[Path, bytes | str] = {}
    for name, page in dashboard.pages.items():
        before = kept.get(name)
        if before is not None and before[0] == page.digest and before[1:] == _size_and_time(build_dir / name):
            fresh[name] = before
        else:
            outputs[build_dir / name] = page.render()
    outputs[build_dir / "index.html"] = dashboard.index
    write_all(outputs)
    for path in outputs:
        name = path.relative_to(build_dir).as_posix()
        if name in dashboard.pages:
            fresh[name] = [dashboard.pages[name].digest, *_size_and_time(path)]
    folder = build_dir / DRAFTS_FOLDER
    if kept.keys() != dashboard.pages.keys() and folder.is_dir():
        for entry in os.scandir(folder):
            if entry.name.endswith(".html") and f"{DRAFTS_FOLDER}/{entry.name}" not in dashboard.pages:
                remove(Path(entry.path), emptied_up_to=build_dir)
    # The cards earlier versions kept for one page of every preview (8 MB for 10,000 items): no longer read.
    (state / "build" / "dashboard-cards.json").unlink(missing_ok=True)
    if fresh != kept:
        write_kept(kept_path, dashboard.key, fresh)


def _size_and_time(path: Path) -> list[int]:
    try:
        found = path.stat()
    except OSError:
        return []
    return [found.st_size, found.st_mtime_ns]

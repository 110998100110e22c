"""A project folder: its configuration, its content and the clock, opened once per command."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from commsflow.clock import resolve_now
from commsflow.errors import Problem

if TYPE_CHECKING:  # imported where used: the CLI creates a Workspace before it knows what runs
    from commsflow.campaigns import CampaignSet
    from commsflow.config import Config
    from commsflow.library import Library
    from commsflow.sources.content import LoadReport


@dataclass
class Loaded:
    library: Library
    problems: list[Problem]
    report: LoadReport
    cache_folder: Path | None = None  # where derived results may be kept (None: --no-cache)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


@dataclass
class Workspace:
    root: Path
    now_text: str | None = None
    use_cache: bool = True
    jobs: int | None = None
    # Files' [size, mtime_ns] as the build's stamp listed them a moment ago (commsflow.stamp):
    # the content cache takes them instead of asking the file system again for 20,000 files.
    seen_files: dict[str, list[int] | None] | None = None

    @cached_property
    def config(self) -> Config:
        from commsflow.config import load_config

        return load_config(self.root, use_cache=self.use_cache)

    @cached_property
    def now(self) -> datetime:
        return resolve_now(self.now_text, self.config.zone)

    @cached_property
    def campaigns(self) -> CampaignSet:
        from commsflow.campaigns import load_campaigns

        config = self.config
        return load_campaigns(self.root, config.path("campaigns"), config.zone, config.vocabularies.model_dump())

    def validation_context(self) -> dict:
        return {"zone": self.config.zone, "vocabularies": self.config.vocabularies.model_dump()}

    def load(self) -> Loaded:
        config = self.config
        # Loading allocates many long-lived objects and no cycles; the cyclic collector
        # would only rescan them again and again (a third of a warm start).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._load(config)
        finally:
            if collecting:
                gc.enable()

    def _load(self, config: Config) -> Loaded:
        from commsflow.library import Library, check_library
        from commsflow.sources.content import load_content

        report = load_content(
            self.root,
            config.path("content"),
            self.validation_context(),
            cache_path=config.path("state") / "cache" / "content.sqlite" if self.use_cache else None,
            cache_key=config.fingerprint,
            jobs=self.jobs,
            max_file_kb=config.limits.max_file_kb,
            seen=self.seen_files,
        )
        problems = report.problems + check_library(report.items, config.organisation.slug, self.root)
        problems.sort(key=Problem.sort_key)
        cache_folder = config.path("state") / "cache" if self.use_cache else None
        return Loaded(Library(report.items, config.organisation.slug), problems, report, cache_folder)

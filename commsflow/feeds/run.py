"""One ``feeds fetch``: every selected feed fetched at once (bounded), then imported in
the order of the feed list, and the state committed at the end.

HTTP outcomes become decisions here: a permanent redirect records the new address,
304 skips the feed, 410 disables it, anything else that goes wrong is an error for
that feed alone — the others carry on, and the command reports each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from commsflow.errors import Problem, Severity
from commsflow.feeds.config import Feed, FetchSettings
from commsflow.feeds.fetch import FeedRead, Fetched, Fetcher, read_entries
from commsflow.feeds.news import Importer, write_new
from commsflow.feeds.state import FeedState, StateStore
from commsflow.i18n import _


@dataclass
class Outcome:
    """What happened to one feed in a run, for the report."""

    feed: Feed
    http: str = "–"  # as shown: "200", "304", "301 → 200", "410", "–" (no answer)
    new: list[str] = field(default_factory=list)  # files written
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False  # not fetched (disabled after a 410)

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(not p.is_error for p in self.problems)


def fetch_concurrently(
    fetcher: Fetcher,
    jobs: list[tuple[str, str, FeedState | None]],
    workers: int,
    *,
    zone,
    now: datetime,
    done: Callable[[str], None] | None = None,
) -> Iterator[tuple[str, Fetched, FeedRead | None]]:
    """Fetch (conditionally, if a state is given) and read each ``(name, address, state)``,
    at most ``workers`` at a time; yields the results in the order of ``jobs``, each as
    soon as it is there, so that importing one feed overlaps fetching the next ones.
    ``done(name)`` is called (from a worker thread) as each one finishes."""

    def one(name: str, address: str, state: FeedState | None):
        fetched = fetcher.get(
            address, etag=state.etag if state else None, last_modified=state.last_modified if state else None
        )
        read = read_entries(name, fetched, zone=zone, now=now) if fetched.status == 200 and not fetched.error else None
        if done:
            done(name)
        return name, fetched, read

    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="feed") as pool:
        futures = [pool.submit(one, *job) for job in jobs]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def run_fetch(
    feeds: list[Feed],
    *,
    retry_gone: set[str],
    settings: FetchSettings,
    agent: str,
    state_file: Path,
    root: Path,
    content_dir: Path,
    context: dict,
    zone,
    now: datetime,
    started: Callable[[int], None] | None = None,
    done: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Fetch ``feeds`` and write their new entries as news. Feeds disabled by a 410 are
    skipped unless named in ``retry_gone``."""
    stamp = now.isoformat(timespec="seconds")
    with StateStore(state_file) as store:
        outcomes: dict[str, Outcome] = {feed.name: Outcome(feed) for feed in feeds}
        jobs = []
        for feed in feeds:
            state = store.feed(feed.name, feed.url)
            if state.gone and feed.name not in retry_gone:
                outcome = outcomes[feed.name]
                outcome.skipped = True
                outcome.problems.append(
                    Problem(
                        feed.name,
                        _("disabled since the server answered 410 Gone ({day}); not fetched").format(
                            day=state.gone[:10]
                        ),
                        hint=_(
                            "remove it from the feed list, give it a new url, or try it again with "
                            "`commsflow feeds fetch {feed}`"
                        ).format(feed=feed.name),
                        severity=Severity.WARNING,
                    )
                )
                continue
            jobs.append((feed.name, state.address, state))
        if started:
            started(len(jobs))
        importer = Importer(root, content_dir, store, context)
        with Fetcher(
            agent, timeout=settings.timeout, max_bytes=settings.max_bytes, workers=settings.workers
        ) as fetcher:
            for name, fetched, read in fetch_concurrently(
                fetcher, jobs, settings.workers, zone=zone, now=now, done=done
            ):
                outcome = outcomes[name]
                _apply(outcome, store.feed(name, outcome.feed.url), fetched, read, importer, store, stamp)
        store.commit()
    return [outcomes[feed.name] for feed in feeds]


def _apply(
    outcome: Outcome,
    state: FeedState,
    fetched: Fetched,
    read: FeedRead | None,
    importer: Importer,
    store: StateStore,
    stamp: str,
) -> None:
    feed = outcome.feed
    state.checked, state.http, state.new = stamp, fetched.status, 0
    outcome.http = str(fetched.status) if fetched.status is not None else "–"
    if fetched.moved_to and fetched.status in (200, 304):
        outcome.http = f"301 → {fetched.status}"
        if fetched.moved_to != state.moved_to:
            state.moved_to = fetched.moved_to if fetched.moved_to != feed.url else None
            outcome.problems.append(
                Problem(
                    feed.name,
                    _("moved permanently to {url}; fetched from there from now on").format(url=fetched.moved_to),
                    hint=_("update its url in the feed list"),
                    severity=Severity.WARNING,
                )
            )
    if fetched.gone:
        state.gone, state.outcome, state.message = stamp, "gone", fetched.error
        state.etag = state.last_modified = None
        outcome.problems.append(Problem(feed.name, fetched.error, hint=fetched.hint))
        return
    if fetched.error:
        state.outcome, state.message = "error", fetched.error
        outcome.problems.append(Problem(feed.name, fetched.error, hint=fetched.hint))
        return
    state.gone = None
    if fetched.not_modified:
        state.outcome, state.message = "not modified", None
        return
    assert read is not None
    outcome.problems.extend(read.problems)
    if read.failed:
        state.outcome = "error"
        state.message = next(p.message for p in read.problems if p.is_error)
        state.etag = state.last_modified = None  # read it in full next time
        return
    for entry in read.entries:
        keys = entry.keys(feed.name)
        if importer.duplicate_of(feed.name, entry) is not None:
            outcome.duplicates += 1
            importer.take(feed.name, entry, "")
            store.remember(feed.name, keys, None, stamp)
            continue
        planned, problems = importer.plan(feed, entry)
        outcome.problems.extend(problems)
        if planned is None:
            continue
        if not write_new(planned):
            outcome.problems.append(
                Problem(
                    feed.name,
                    _("{path} appeared meanwhile; left as it is").format(path=planned.shown),
                    severity=Severity.WARNING,
                )
            )
            continue
        importer.take(feed.name, entry, planned.shown)
        store.remember(feed.name, keys, planned.shown, stamp)
        outcome.new.append(planned.shown)
    state.etag, state.last_modified = fetched.etag, fetched.last_modified
    state.outcome, state.message = "ok", None
    state.new = len(outcome.new)
    if outcome.new:
        state.imported += len(outcome.new)
        state.last_new = stamp

"""``commsflow feeds``: partner feeds into project news for review — list, fetch, status, try."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commsflow import dates
from commsflow.errors import CommsflowError, Problem, Severity, closest
from commsflow.feeds.config import Feed, FeedList, FetchSettings, check_feed_url, feeds_path, load_feeds
from commsflow.feeds.fetch import Fetcher, user_agent
from commsflow.feeds.news import Importer, project_slugs
from commsflow.feeds.run import Outcome, fetch_concurrently, run_fetch
from commsflow.feeds.state import SeenReader, read_state, state_path
from commsflow.i18n import N_, _, ngettext
from commsflow.output import console, error_console, print_problems
from commsflow.slugs import slugify
from commsflow.workspace import Workspace

LIST_COLUMNS = (N_("feed"), N_("project"), N_("enabled"), N_("tags"), N_("url"))
STATUS_COLUMNS = (N_("feed"), N_("last fetch"), N_("HTTP"), N_("result"), N_("new"), N_("imported"), N_("note"))
REPORT_COLUMNS = (N_("feed"), N_("HTTP"), N_("new"), N_("duplicates"), N_("warnings"), N_("errors"))
# The labels of an entry's lines in `feeds try` (and html, as it is).
ENTRY_LABELS = (N_("date"), N_("link"), N_("import"), N_("file"), N_("summary"))
# How the last fetch went, as the state records it (feeds/state.py) and as a person reads it.
OUTCOMES = {"ok": N_("ok"), "not modified": N_("not modified"), "error": N_("error"), "gone": N_("gone")}


@click.group("feeds")
def command() -> None:
    """Partner feeds (RSS/Atom): their news become items in content/news/ with status review."""


def _feed_list(workspace: Workspace) -> FeedList:
    """The checked feed list; stops with every problem listed if there is an error."""
    config = workspace.config
    feeds = load_feeds(workspace.root, feeds_path(config), project_slugs(config.path("content")))
    if feeds.errors:
        print_problems(feeds.problems)
        count = len(feeds.errors)
        raise CommsflowError(
            ngettext("{count} problem in {path}", "{count} problems in {path}", count).format(
                count=count, path=feeds.path
            ),
            _("fix the feed list first; nothing was fetched"),
        )
    print_problems(feeds.problems)  # warnings
    return feeds


@command.command("list")
@click.pass_obj
def list_feeds(obj: dict) -> None:
    """List the feeds in the feed list with project, tags and whether they are fetched."""
    workspace: Workspace = obj["workspace"]
    feeds = _feed_list(workspace)
    states = read_state(state_path(workspace.config.path("state")))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in LIST_COLUMNS:
        table.add_column(_(column), overflow="fold", no_wrap=column in ("feed", "project", "enabled"))
    for feed in feeds.feeds:
        state = states.get(feed.name)
        enabled = _("yes") if feed.enabled else _("no")
        if feed.enabled and state and state.url == feed.url and state.gone:
            enabled = _("gone (410)")
        table.add_row(feed.name, feed.project, enabled, escape(", ".join(feed.tags)), escape(feed.url))
    console.print(table)
    enabled = sum(feed.enabled for feed in feeds.feeds)
    count = len(feeds.feeds)
    console.print(
        ngettext(
            "{count} feed in {path}, {enabled} enabled", "{count} feeds in {path}, {enabled} enabled", count
        ).format(count=count, path=feeds.path, enabled=enabled)
    )


@command.command("status")
@click.pass_obj
def status(obj: dict) -> None:
    """Show how each feed's last fetch went: when, HTTP status, new items, errors."""
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    feeds = _feed_list(workspace)
    states = read_state(state_path(config.path("state")))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in STATUS_COLUMNS:
        table.add_column(
            _(column),
            overflow="fold",
            no_wrap=column not in ("note",),
            justify="right" if column in ("new", "imported") else "left",
        )
    for feed in feeds.feeds:
        state = states.get(feed.name)
        if state is None or state.url != feed.url or state.checked is None:
            result = _("disabled") if not feed.enabled else _("never fetched")
            table.add_row(feed.name, "–", "–", result, "–", str(state.imported) if state else "0", "")
            continue
        notes = []
        if state.gone:
            notes.append(_("disabled after 410 Gone on {day}").format(day=state.gone[:10]))
        elif state.message:
            notes.append(state.message)
        if state.moved_to:
            notes.append(_("moved to {url}").format(url=state.moved_to))
        if not feed.enabled:
            notes.append("enabled: false")
        checked = _when(state.checked, config.zone)
        table.add_row(
            feed.name,
            checked,
            str(state.http or "–"),
            _(OUTCOMES[state.outcome]) if state.outcome in OUTCOMES else (state.outcome or "–"),
            str(state.new),
            str(state.imported),
            escape("; ".join(notes)),
        )
    console.print(table)


def _when(stamp: str, zone) -> str:
    moment = datetime.fromisoformat(stamp).astimezone(zone)
    return f"{dates.numeric_date(moment)} {dates.clock_time(moment)}"


def _select(feeds: FeedList, names: tuple[str, ...]) -> list[Feed]:
    if not names:
        return [feed for feed in feeds.feeds if feed.enabled]
    chosen = []
    for name in names:
        feed = feeds.get(name)
        if feed is None:
            guess = closest(name, [f.name for f in feeds.feeds])
            known = ", ".join(f.name for f in feeds.feeds) or _("none")
            raise CommsflowError(
                _("no feed {name!r} in {path}").format(name=name, path=feeds.path),
                _("did you mean {guess!r}?").format(guess=guess)
                if guess
                else _("known feeds: {feeds}").format(feeds=known),
            )
        if not feed.enabled:
            raise CommsflowError(
                _("feed {name!r} is disabled in {path} (enabled: false)").format(name=name, path=feeds.path),
                _("check its address with `commsflow feeds try URL`, then set enabled: true"),
            )
        if feed not in chosen:
            chosen.append(feed)
    return chosen


@command.command("fetch")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.pass_obj
def fetch(obj: dict, names: tuple[str, ...]) -> None:
    """Fetch every enabled feed (or the named ones) and write their new entries to
    content/news/ with status review.

    An unchanged feed costs one conditional request. A feed that fails is reported and
    the others carry on; the exit status is 1 if any feed failed.
    """
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    feeds = _feed_list(workspace)
    selected = _select(feeds, names)
    if not selected:
        disabled = len(feeds.feeds)
        console.print(
            _("no enabled feed in {path} ({disabled} disabled); nothing to fetch").format(
                path=feeds.path, disabled=disabled
            )
        )
        if disabled:
            console.print(
                "  "
                + _("hint: {hint}").format(
                    hint=_("check a feed's address with `commsflow feeds try URL`, then set enabled: true")
                )
            )
        return
    columns = (TextColumn(escape(_("fetching feeds"))), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=error_console, transient=True, disable=not error_console.is_terminal) as progress:
        task = progress.add_task("fetch", total=len(selected))
        outcomes = run_fetch(
            selected,
            retry_gone=set(names),
            settings=feeds.settings,
            agent=user_agent(config.organisation.website),
            state_file=state_path(config.path("state")),
            root=workspace.root,
            content_dir=config.path("content"),
            context=workspace.validation_context(),
            zone=config.zone,
            now=workspace.now,
            started=lambda count: progress.update(task, total=count),
            done=lambda name: progress.advance(task),
        )
    _report(outcomes)


def _report(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        for shown in outcome.new:
            console.print(f"[green]+[/] {escape(shown)}")
        print_problems(outcome.problems)
    table = Table(title=_("Feeds"), box=None, pad_edge=False, header_style="bold", title_justify="left")
    for column in REPORT_COLUMNS:
        table.add_column(_(column), justify="left" if column in ("feed", "HTTP") else "right", no_wrap=True)
    for outcome in outcomes:
        table.add_row(
            outcome.feed.name,
            _("skipped") if outcome.skipped else outcome.http,
            str(len(outcome.new)),
            str(outcome.duplicates),
            str(outcome.warnings),
            str(outcome.errors),
        )
    console.print(table)
    new = sum(len(o.new) for o in outcomes)
    duplicates = sum(o.duplicates for o in outcomes)
    failed = [o for o in outcomes if o.errors]
    fetched = [o for o in outcomes if not o.skipped]
    summary = _("{feeds} fetched: {new} for review, {duplicates}").format(
        feeds=ngettext("{count} feed", "{count} feeds", len(fetched)).format(count=len(fetched)),
        new=ngettext("{count} new news item", "{count} new news items", new).format(count=new),
        duplicates=ngettext("{count} duplicate", "{count} duplicates", duplicates).format(count=duplicates),
    )
    if failed:
        console.print(
            f"[red]✗[/] {summary}; "
            + ngettext(
                "{failed} of {count} feed failed: {names}", "{failed} of {count} feeds failed: {names}", len(outcomes)
            ).format(failed=len(failed), count=len(outcomes), names=escape(", ".join(o.feed.name for o in failed)))
        )
        raise click.exceptions.Exit(1)
    console.print(f"[green]✓[/] {summary}")


@command.command("try")
@click.argument("url")
@click.option(
    "--project", metavar="SLUG", help=N_("The project the feed would belong to (checked against the library).")
)
@click.pass_obj
def try_feed(obj: dict, url: str, project: str | None) -> None:
    """Fetch the feed at URL and show what it would import — titles, dates, links,
    sanitised summaries and warnings — without writing anything.

    How to check a partner's feed before adding it to the feed list. The exit status
    is 1 if the feed cannot be read.
    """
    workspace: Workspace = obj["workspace"]
    config = workspace.config
    try:
        url = check_feed_url(url)
    except ValueError as exc:
        message, _sep, hint = str(exc).partition(" — ")
        raise CommsflowError(message, hint or None) from None
    projects = project_slugs(config.path("content"))
    if project is not None and project not in projects:
        guess = closest(project, projects)
        raise CommsflowError(
            _("--project {project!r} is not a project in the library").format(project=project),
            _("did you mean {guess!r}?").format(guess=guess)
            if guess
            else _("name a project slug (a file name in content/projects/)"),
        )
    settings, configured = _try_settings(workspace, url)
    name = configured.name if configured else (slugify(urlsplit(url).hostname or "") or "feed")
    feed = Feed(
        name=name,
        url=url,
        project=project or (configured.project if configured else "projekt"),
        tags=configured.tags if configured else [],
    )
    with Fetcher(
        user_agent(config.organisation.website), timeout=settings.timeout, max_bytes=settings.max_bytes, workers=1
    ) as fetcher:
        [(_name, fetched, read)] = list(
            fetch_concurrently(fetcher, [(name, url, None)], 1, zone=config.zone, now=workspace.now)
        )
    if fetched.error:
        print_problems([Problem(name, fetched.error, hint=fetched.hint)])
        raise click.exceptions.Exit(1)
    if fetched.moved_to:
        print_problems(
            [
                Problem(
                    name,
                    _("moved permanently to {url}").format(url=fetched.moved_to),
                    hint=_("use the new address in the feed list"),
                    severity=Severity.WARNING,
                )
            ]
        )
    if read.failed:
        print_problems(read.problems)
        raise click.exceptions.Exit(1)
    seen = SeenReader(state_path(config.path("state")))
    try:
        _show_entries(workspace, feed, fetched, read, seen, has_project=bool(project or configured))
    finally:
        seen.close()


def _try_settings(workspace: Workspace, url: str) -> tuple[FetchSettings, Feed | None]:
    """Fetch settings (and the feed, if URL is already in it) from the feed list, if there is a usable one."""
    path = feeds_path(workspace.config)
    if not path.is_file():
        return FetchSettings(), None
    feeds = load_feeds(workspace.root, path, None)
    if feeds.errors:
        return FetchSettings(), None
    configured = next((feed for feed in feeds.feeds if feed.url == url), None)
    return feeds.settings, configured


def _show_entries(workspace, feed: Feed, fetched, read, seen, *, has_project: bool) -> None:
    config = workspace.config
    importer = Importer(workspace.root, config.path("content"), seen, workspace.validation_context())
    where = fetched.final_url or fetched.url
    kind = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "atom10": "Atom 1.0", "atom03": "Atom 0.3"}.get(
        read.version or "", read.version or _("unknown format")
    )
    title = f"{escape(read.title)} — " if read.title else ""
    entries = ngettext("{count} entry", "{count} entries", len(read.entries)).format(count=len(read.entries))
    console.print(
        f"[bold]{title}{escape(kind)}, {entries}[/] "
        + _("from {url} (HTTP {status})").format(url=escape(where), status=fetched.status)
    )
    new = duplicates = 0
    width = max(len(_(label)) for label in ENTRY_LABELS) + 2  # the values aligned, whatever the language
    for number, entry in enumerate(read.entries, 1):
        console.print()
        console.print(f"[bold]{number}. {escape(entry.title)}[/]")
        day = entry.day.isoformat() + (" " + _("(assumed: the feed gives no date)") if entry.date_assumed else "")
        rows = [(_("date"), day), (_("link"), entry.link or "–")]
        duplicate = importer.duplicate_of(feed.name, entry)
        if duplicate is not None:
            duplicates += 1
            rows.append(
                (
                    _("import"),
                    _("no — duplicate of {path}").format(path=duplicate) if duplicate else _("no — already fetched"),
                )
            )
        else:
            planned, problems = importer.plan(feed, entry)
            read.problems.extend(problems)
            if planned is not None:
                new += 1
                rows.append((_("file"), planned.shown))
        importer.take(feed.name, entry, "")
        rows += [(_("summary"), entry.summary or "–"), ("html", entry.summary_html or "–")]
        for label, value in rows:
            console.print(f"   {label + ':':<{width}}{escape(value)}")
    console.print()
    print_problems(read.problems)
    count = len(read.entries)
    imported = (
        _("{count} would be imported for project {project}").format(count=new, project=feed.project)
        if has_project
        else _("{count} would be imported (give --project SLUG to name the project)").format(count=new)
    )
    console.print(
        _("{entries}: {imported}, {duplicates}; nothing was written").format(
            entries=ngettext("{count} entry", "{count} entries", count).format(count=count),
            imported=imported,
            duplicates=ngettext("{count} duplicate", "{count} duplicates", duplicates).format(count=duplicates),
        )
    )

"""``commsflow new``: a new item or campaign file from a template under ``templates/new/``.

The file is named from the title (:func:`commsflow.slugs.slugify`; posts and news get
the date in front), filled so that ``commsflow check`` passes as written — every
required field has a value, the vocabulary fields the first configured value, the
optional fields are YAML comments with a German line each — and starts as
``status: draft``. It never replaces a file. With ``$EDITOR`` set, the editor opens it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
import jinja2
from pydantic import ValidationError

from commsflow import dates, frontmatter
from commsflow.errors import CommsflowError, closest
from commsflow.files import write_atomic
from commsflow.i18n import N_, _
from commsflow.output import console, error_console
from commsflow.slugs import is_slug, slugify

CONTENT_KINDS = {"post": "posts", "news": "news", "event": "events", "project": "projects"}
CAMPAIGN_KINDS = ("newsletter", "campaign")
KINDS = (*CONTENT_KINDS, *CAMPAIGN_KINDS)
DATED = ("post", "news")  # the file name starts with the date, as the team names them

EVENT_AHEAD = timedelta(weeks=1)  # a new event starts a week from today at 10:00
NEWSLETTER_AHEAD = timedelta(weeks=4)  # a new issue goes out four weeks from today at 10:00
DEFAULT_HOUR = time(10, 0)


@click.command("new")
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("title")
@click.option("--slug", metavar="SLUG", help=N_("The name to use instead of the one made from the title."))
@click.option(
    "--date",
    "day",
    metavar="DATE",
    help=N_(
        "A post's or news item's date, an event's day, a newsletter's send day, a slot's first day "
        "(default: today; events a week and newsletters four weeks ahead)."
    ),
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="SLUG",
    help=N_("The project the item is about (required for news; may be repeated)."),
)
@click.option(
    "--event", metavar="SLUG", help=N_("campaign: the event the campaign is for (without it: a weekly slot).")
)
@click.pass_obj
def command(
    obj: dict, kind: str, title: str, slug: str | None, day: str | None, projects: tuple[str, ...], event: str | None
) -> None:
    """Write a new KIND file named after TITLE from its template in templates/new/,
    then open it in $EDITOR if that is set.

    KIND is post, news, event, project (a Markdown file in the content folder), newsletter
    (an issue) or campaign (with --event: the steps around an event; without: a weekly
    LinkedIn slot for blog posts) in the campaigns folder. The file starts as a draft and
    passes `commsflow check` as written; replace the marked texts. An existing file is
    never overwritten.
    """
    workspace = obj["workspace"]
    config = workspace.config
    title = " ".join(title.split())
    if not title:
        raise CommsflowError(
            _("the title is empty"), _('give the title in quotes, e.g. commsflow new post "Mein Titel"')
        )
    if day is not None and kind == "project":
        raise CommsflowError(_("a project has no date: --date is not used"), _("leave --date out"))
    if event is not None and kind != "campaign":
        raise CommsflowError(_("--event is for campaigns, not for a {kind}").format(kind=kind), _("leave --event out"))
    if projects and kind not in ("post", "news", "event"):
        raise CommsflowError(
            _("--project is for posts, news and events, not for a {kind}").format(kind=kind),
            _("leave --project out"),
        )

    today = workspace.now.date()
    chosen = _day(day) if day is not None else None
    name = _name(title, slug)
    library = workspace.load().library

    for project in projects:
        _must_exist(library, project, "project", "--project")
    if kind == "news" and not projects:
        known = library.slugs("project")
        raise CommsflowError(
            _("news is always about a project: name it with --project SLUG"),
            _("e.g. --project {slug} (the file name in content/projects/)").format(
                slug=known[0] if known else "mein-projekt"
            ),
        )
    if event is not None:
        _must_exist(library, event, "event", "--event")
        broken = library.invalid(event, "event")
        if library.get(event) is None and broken is not None:
            raise CommsflowError(
                _("--event: {problem}; its start is needed to plan the steps").format(problem=broken.message),
                _("fix {path} first (commsflow check)").format(path=broken.path),
            )

    context = {
        "title": title,
        "today": today,
        "organisation": config.organisation,
        "vocabularies": config.vocabularies,
        "projects": list(projects),
        "event": event,
    }
    if kind in CONTENT_KINDS:
        item_day = chosen or today
        stem = f"{item_day.isoformat()}-{name}" if kind in DATED else name
        folder = config.path("content") / CONTENT_KINDS[kind]
        target = folder / f"{stem}.md"
        context.update(slug=stem, date=item_day)
        if kind == "event":
            start = datetime.combine(chosen or today + EVENT_AHEAD, DEFAULT_HOUR)
            context.update(start=start, end=start + timedelta(hours=2))
        holder = library.get(stem) or library.invalid(stem)
        if holder is not None and (workspace.root / holder.path) != target:
            raise CommsflowError(
                _("the name {name!r} is already used by {path}").format(name=stem, path=holder.path),
                _("slugs are unique across all content: choose another with --slug"),
            )
        template = f"new/{kind}.md"
    else:
        stem = name
        folder = config.path("campaigns")
        target = folder / f"{stem}.yaml"
        context.update(slug=stem)
        if kind == "newsletter":
            send = datetime.combine(chosen or today + NEWSLETTER_AHEAD, DEFAULT_HOUR)
            end = send.date() - timedelta(days=1)
            context.update(send_at=send, period_start=min(_period_start(workspace, send), end), period_end=end)
            template = "new/newsletter.yaml"
        elif event is not None:
            context["past"] = _step_in_past(library.get(event), workspace.now, config.zone)
            template = "new/event-campaign.yaml"
        else:
            start = chosen or today
            context.update(start=start, end=date(start.year, 12, 31))
            template = "new/slot-campaign.yaml"
        for campaign in workspace.campaigns.campaigns:
            if campaign.id == stem and (workspace.root / campaign.path) != target:
                raise CommsflowError(
                    _("the campaign id {name!r} is already used by {path}").format(name=stem, path=campaign.path),
                    _("choose another name with --slug"),
                )

    shown = _shown(workspace.root, target)
    if target.exists() or target.is_symlink():
        raise _exists(shown)
    text = _render(config, template, context)
    _validate(workspace, kind, shown, text)
    _write_new(target, shown, text)

    console.print("[green]✓[/] " + _("wrote {path}").format(path=shown), highlight=False)
    _open_editor(target)
    steps = (
        [_("replace the texts marked „BITTE ERSETZEN“")] if kind != "campaign" else [_("adjust the steps and times")]
    )
    steps.append(_("run `commsflow check`"))
    if kind in CONTENT_KINDS:
        steps.append(_("set `status: review`, and `status: approved` when it is ready"))
    if kind == "newsletter":
        steps.append(_("sign the issue off: `commsflow approve {name} --by NAME`").format(name=stem))
    elif kind in CONTENT_KINDS:
        steps.append(_("sign the item off: `commsflow approve {name} --by NAME`").format(name=stem))
    else:
        steps.append(_("see the planned jobs with `commsflow calendar`"))
    console.print(_("next: {steps}").format(steps="; ".join(steps)), highlight=False)


def _day(text: str) -> date:
    try:
        return dates.parse_date(text)
    except dates.DateError as exc:
        raise CommsflowError(
            _("--date: {problem}").format(problem=exc), _("write the day as 2024-05-02 or 02.05.2024")
        ) from None


def _name(title: str, slug: str | None) -> str:
    if slug is not None:
        if not is_slug(slug):
            suggestion = slugify(slug)
            raise CommsflowError(
                _("--slug {slug!r} is not a usable name").format(slug=slug),
                _("use lowercase letters, digits and hyphens, e.g. --slug {suggestion}").format(
                    suggestion=suggestion or "mpi-meet-up-2025"
                ),
            )
        return slug
    name = slugify(title)
    if not name:
        raise CommsflowError(
            _("no name can be made from the title {title!r}").format(title=title),
            _("give one with --slug, e.g. --slug mpi-meet-up-2025"),
        )
    return name


def _must_exist(library, slug: str, kind: str, option: str) -> None:
    found = library.get(slug)
    if (found is not None and found.kind == kind) or library.invalid(slug, kind) is not None:
        return
    guess = closest(slug, library.slugs(kind))
    raise CommsflowError(
        _("{option}: there is no {kind} {slug!r}").format(option=option, kind=kind, slug=slug),
        _("did you mean {guess!r}?").format(guess=guess)
        if guess
        else _("name its slug (the file name in content/{folder}/)").format(folder=CONTENT_KINDS[kind]),
    )


def _step_in_past(event, now: datetime, zone):
    """For the template: whether a step ``at`` (e.g. '-6 weeks') and ``clock`` before or after
    the event's start is already past — such a step is written commented out, not planned."""
    from commsflow.calendar import wall_time
    from commsflow.campaigns import Step

    start = event.meta.start
    day = start.date() if isinstance(start, datetime) else start

    def past(at: str, clock: str) -> bool:
        offset = Step(name="x", at=at, time=clock, channel="linkedin", template="reminder").offset()
        return wall_time(day + offset, clock, zone) <= now

    return past


def _period_start(workspace, send: datetime) -> date:
    """The day after the period of the latest issue sent before this one; today without one."""
    earlier = [
        campaign.spec
        for campaign in workspace.campaigns.of_kind("newsletter")
        if _moment(campaign.spec.send_at, workspace.config.zone) < send.replace(tzinfo=workspace.config.zone)
    ]
    if not earlier:
        return workspace.now.date()
    latest = max(earlier, key=lambda spec: _moment(spec.send_at, workspace.config.zone))
    return latest.period.end + timedelta(days=1)


def _moment(value, zone) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time(0, 0), tzinfo=zone)


def _yaml(value: object) -> str:
    """A YAML scalar for any text: JSON's double-quoted form is valid YAML."""
    return json.dumps(str(value), ensure_ascii=False)


def _render(config, template: str, context: dict) -> str:
    from commsflow.renderers.templating import render

    folder = str(config.path("templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown and YAML; texts that need quoting use the yaml filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["yaml"] = _yaml
    env.filters["moment"] = lambda value: value.strftime("%Y-%m-%d %H:%M")
    env.globals["templates_folder"] = folder
    return render(env, template, **context)


def _validate(workspace, kind: str, shown: str, text: str) -> None:
    """What the template made must read as the check reads it: a title the content rules
    refuse (HTML in it, say) stops here, before a file is written."""
    from commsflow.campaigns import _MODELS
    from commsflow.model import MODELS
    from commsflow.validation import problems_from_validation_error

    try:
        if kind in CONTENT_KINDS:
            source = frontmatter.split(shown, text)
            data = frontmatter.parse(source)
            model, context = MODELS[kind], workspace.validation_context()
        else:
            source = frontmatter.document(shown, text.encode("utf-8"))
            data = frontmatter.parse(source)
            model, context = _MODELS.get(data.get("kind")), {"zone": workspace.config.zone}
            if data.get("kind") == "event" and not data.get("steps"):
                raise CommsflowError(
                    _("{path} was not written: every step of the template lies in the past for event {event!r}").format(
                        path=shown, event=data.get("event")
                    ),
                    _("a campaign plans what is still to come: choose an upcoming event (or write the steps by hand)"),
                )
            if model is None:
                raise CommsflowError(
                    _("{path} was not written: the template in templates/new/ has no valid 'kind:'").format(path=shown),
                    _("write kind: newsletter, event or slot in the template"),
                )
        model.model_validate(data, context=context)
        return
    except frontmatter.SourceError as exc:
        problem = exc.problem
    except ValidationError as exc:
        problem = problems_from_validation_error(exc, shown, frontmatter.line_finder(source), model=model)[0]
    where = f" ({problem.field})" if problem.field else ""
    raise CommsflowError(
        _("{path} was not written: {problem}").format(path=shown, problem=problem.message + where),
        problem.hint or _("check the title (plain text, no HTML) and the template in templates/new/"),
    )


def _write_new(target: Path, shown: str, text: str) -> None:
    """Written whole, and only where no file is: a file made in the meantime stays."""
    from commsflow.files import _cannot_write

    exists = _exists(shown)
    staging = target.with_name(f".{target.name}.new")
    write_atomic(staging, text)
    try:
        os.link(staging, target)  # fails if the name is taken: never replaces
    except FileExistsError:
        raise exists from None
    except OSError:  # a file system without hard links: create it exclusively instead
        try:
            with open(target, "x", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except FileExistsError:
            raise exists from None
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise _cannot_write(target, exc) from None
    finally:
        staging.unlink(missing_ok=True)


def _exists(shown: str) -> CommsflowError:
    return CommsflowError(
        _("{path} already exists; commsflow new never overwrites a file").format(path=shown),
        _("edit that file, or choose another name with --slug"),
    )


def _open_editor(path: Path) -> None:
    editor = os.environ.get("EDITOR", "").strip()
    if not editor:
        return
    try:
        subprocess.run([*shlex.split(editor), str(path)], check=False)
    except (OSError, ValueError) as exc:
        error_console.print(
            _(
                "warning: the editor ({editor}) could not be started: {reason} — open {path} yourself, "
                "or set EDITOR to a program that exists"
            ).format(editor=editor, reason=exc, path=path),
            highlight=False,
        )


def _shown(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

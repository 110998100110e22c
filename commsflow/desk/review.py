"""The desk's review page, its job page and the route their frames load: every rendition
as it will look — a newsletter issue in a desktop and a phone frame, a post as the feed
shows it with the „…mehr“ cut, a press release in its print view, an event's calendar
entry as its .ics says — beside the lint findings, the problems and, for a stale
sign-off, what changed.

The frames show HTML rendered here and now from the plan, found by the job's short
reference (:func:`commsflow.actions.short_ref`): exactly the bytes the rendition holds,
what goes out. No path is taken from the request and no file is read from disk. That
HTML is item text made markup, so it is served under its own policy — no scripts,
forms, plugins or frames, inline styles and https/data images only, ``sandbox`` — and
only the desk may frame it; the frames carry ``sandbox`` as well. The pages holding the
frames allow frames from that route and nothing else.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from starlette.responses import HTMLResponse, PlainTextResponse, Response

from commsflow import channels
from commsflow.actions import REF_LENGTH, short_ref
from commsflow.desk import SECURITY_HEADERS, Desk, _page, _problem
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.workspace import Workspace

PREVIEW = "/vorschau/"  # + a job's short reference: the HTML one of its frames shows
# The frames' HTML: styled as in a mail client (inline styles, pictures from the web),
# nothing that runs, submits or loads more; framed by the desk alone.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'; sandbox"
)
_FRAMED = {"content-security-policy": PREVIEW_POLICY, "x-frame-options": "SAMEORIGIN"}
_REF = re.compile(f"[0-9a-f]{{{REF_LENGTH}}}")


def page_policy(desk: Desk) -> str:
    """The desk's own policy, plus frames from the preview route — and from nowhere else
    (the addresses the desk answers under; an IPv6 literal is no CSP source, it gets none)."""
    policy = dict(SECURITY_HEADERS)[b"content-security-policy"].decode()
    sources = sorted(f"http://{host}{PREVIEW}" for host in desk.hosts if not host.startswith("["))
    return f"{policy}; frame-src {' '.join(sources)}"


def _with_frames(desk: Desk, response: HTMLResponse) -> HTMLResponse:
    response.headers["content-security-policy"] = page_policy(desk)
    return response


# --- how a rendition looks -------------------------------------------------------------------


def view(rendition, zone, diffs: list[str] = ()) -> dict:
    """What the template ``renditions.html`` shows of one rendition: its ``look``
    (newsletter, press, post, event or text) and what that look needs."""
    from commsflow.approvals import label
    from commsflow.plan import is_draft

    job, payload = rendition.job, rendition.payload
    shown = {
        "look": "text",
        "ref": short_ref(job.id),
        "label": label(job),
        "channel": job.channel,
        "planned": job.planned,
        "draft": is_draft(job),
        "title": rendition.title,
        "text": rendition.review or "",
        "problems": [problem.format() for problem in rendition.problems],
        "diffs": list(diffs),
    }
    if payload is None:
        return shown
    if channels.get(job.channel).frame in payload.files:  # the e-mail as sent, the release as printed
        shown["look"] = job.channel
    elif job.channel in channels.names(feed=True):  # shown as the feed shows them, cut at „…mehr“
        shown.update(look="post", **_as_post(payload.text, payload.link))
    elif job.channel == "ics":
        data = next((data for name, data in payload.files.items() if name.endswith(".ics")), None)
        if data is not None:
            shown.update(look="event", entries=calendar_entries(data, zone))
    return shown


def _as_post(text: str, link: str | None) -> dict:
    """A post as the feed shows it: up to the „…mehr“ cut, the rest hidden behind it."""
    from commsflow.renderers.linkedin import as_feed_shows

    return {**as_feed_shows(text), "link": link if link and link.startswith(("https://", "http://")) else None}


def calendar_entries(data: bytes | str, zone) -> list[dict]:
    """The events of an .ics file as a calendar shows them: title, start, end, place. An
    all-day event ends on its last day (the file says: the day after)."""
    import icalendar

    found = []
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        start = _local(event.decoded("dtstart"), zone)
        end = _local(event.decoded("dtend"), zone) if "dtend" in event else None
        all_day = not isinstance(start, datetime)
        if all_day and end is not None:
            end = end - timedelta(days=1)
        found.append(
            {
                "title": str(event.get("summary", "")),
                "start": start,
                "end": end,
                "all_day": all_day,
                "one_day": end is None or _day(start) == _day(end),
                "place": str(event.get("location", "")) or None,
                "url": str(event.get("url", "")) or None,
            }
        )
    return found


def _local(moment: date | datetime, zone) -> date | datetime:
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(zone)
    return moment


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _event_calendar(opened, key: str):
    """An event's calendar file, as ``build`` writes it for the website: not sent, not
    signed off, but what attendees' calendars will say. None for anything else."""
    from commsflow.plan import draft_job

    item = opened.library.get(key)
    if item is None or item.kind != "event":
        return None
    day = opened.now.replace(hour=0, minute=0, second=0, microsecond=0)  # as Plan.drafts
    return opened.render(draft_job("ics", item.slug, "event", day, item.path))


def find_job(opened, ref: str, *, drafts: bool = True):
    """The job whose short reference is ``ref``: a calendar job or (``drafts``) an item's
    preview no job plans yet; None when there is none."""
    if not _REF.fullmatch(ref):
        return None
    jobs = [*opened.calendar.jobs, *(opened.drafts() if drafts else ())]
    return next((job for job in jobs if short_ref(job.id) == ref), None)


# --- pages ------------------------------------------------------------------------------------


def review_page(desk: Desk, workspace: Workspace, **context) -> HTMLResponse:
    from commsflow.approvals import label
    from commsflow.commands import plan_or_stop
    from commsflow.commands.approve import _subject, waiting
    from commsflow.lint import lint

    status = context.pop("status", 200)
    try:
        opened = plan_or_stop(workspace, "the calendar")
        zone = opened.config.zone
        findings = lint(opened)  # what `commsflow lint` finds, shown with the item it is about
        queue = []
        for job, key, kind, reason, changes in waiting(opened):
            subject, error = _subject(key, opened.library, opened.campaigns, opened.config)
            title = getattr(subject, "title", None) or (subject.spec.title if subject is not None else key)
            changed = {}
            for change in changes:
                changed.setdefault((change.label, change.planned), []).append(change.diff)
            renditions = [
                view(rendition, zone, changed.get((label(rendition.job), rendition.job.planned), []))
                for rendition in opened.renditions_for(key)
            ]
            event = _event_calendar(opened, key)
            if event is not None:
                renditions.append(view(event, zone))
            shown = {diff for r in renditions for diff in r["diffs"]}
            queue.append(
                {
                    "key": key,
                    "title": title,
                    "kind": kind,
                    "job": job,
                    "reason": reason,
                    "renditions": renditions,
                    "other_diffs": [change.diff for change in changes if change.diff not in shown],
                    "lint": [p.format() for p in findings if subject is not None and p.path == str(subject.path)],
                    "signable": error is None,
                    "why_not": None if error is None else error[0],
                }
            )
    except CommsflowError as exc:
        return _page(desk, workspace, "review.html", queue=[], error=_problem(exc), **context)
    return _with_frames(desk, _page(desk, workspace, "review.html", status, queue=queue, error=None, **context))


def job_page(desk: Desk, workspace: Workspace, ref: str) -> HTMLResponse:
    from commsflow.approvals import label
    from commsflow.commands import plan_or_stop

    try:
        opened = plan_or_stop(workspace, "the calendar")
    except CommsflowError as exc:
        return _page(desk, workspace, "job.html", job=None, error=_problem(exc))
    job = find_job(opened, ref, drafts=False)
    if job is None:
        return _page(
            desk, workspace, "job.html", 404, job=None, failure=_("No job {ref} in the calendar.").format(ref=ref)
        )
    return _with_frames(
        desk,
        _page(
            desk,
            workspace,
            "job.html",
            job=job,
            ref=ref,
            label=label(job),
            title=opened.titles.get(job.item, job.item),
            view=view(opened.render(job), opened.config.zone),
            error=None,
        ),
    )


def preview(desk: Desk, workspace: Workspace, ref: str) -> Response:
    """The e-mail or release HTML of the job ``ref`` for the desk's frames: rendered from
    the plan, the rendition's own bytes, under :data:`PREVIEW_POLICY`."""
    from commsflow.commands import plan_or_stop

    if not _REF.fullmatch(ref):  # a short reference, nothing else: no plan is opened for it
        return _no_preview()
    opened = plan_or_stop(workspace, "the calendar")  # a project that cannot be read: the app's 500
    job = find_job(opened, ref)
    if job is None or channels.get(job.channel).frame is None:
        return _no_preview()
    payload = opened.render(job).payload
    data = None if payload is None else payload.files.get(channels.get(job.channel).frame)
    if data is None:
        return _no_preview()
    return Response(data.encode() if isinstance(data, str) else data, media_type="text/html", headers=_FRAMED)


def _no_preview() -> Response:
    # Said in the frame (the issue may have changed since the page was loaded).
    return PlainTextResponse(
        _("No preview: no newsletter and no press release under this reference."),
        status_code=404,
        headers=_FRAMED,
    )

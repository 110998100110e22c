"""The desk: a small web application on 127.0.0.1 for what the team does by hand — what
needs a person (retry, dismiss, posted), the review queue (sign off, reject with a reason)
and the calendar with each job's text.

Everything it changes, it changes through the code the CLI runs (``commsflow retry``,
``approve``, ``reject`` …): the ledger and approvals.yaml, nothing else. Every request
opens the project afresh, so a file edited meanwhile is seen on the next page.

Guards (each tested): only requests addressed to 127.0.0.1:PORT / localhost:PORT (and
the names ``[desk] hosts`` and ``--host`` add) are answered (421 otherwise: DNS
rebinding), with a login configured every page asks for it (``commsflow.desk.login``),
every form carries a CSRF token (403 without; with a login, the session's own),
request bodies are bounded (413), every text is autoescaped, and no file is ever served
(the review's e-mail and release previews are rendered from the plan, sandboxed:
``commsflow.desk.review``).
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import click
import jinja2
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from commsflow import dates, i18n
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.renderers.templating import install_messages
from commsflow.workspace import Workspace

MAX_BODY = 64 * 1024  # bytes: a form of a reason and a web address, with room to spare
TEMPLATES = "desk"  # under the project's templates folder
HOST_NAMES = ("127.0.0.1", "localhost", "[::1]")
# Another site may neither frame the desk (a click on "Freigeben" under its own page), nor
# load anything into it; forms post only to the desk itself.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


@dataclass
class Desk:
    """What the application needs: the project (root, a pinned clock) and its own secret."""

    root: Path
    now_text: str | None = None
    use_cache: bool = True
    port: int = 8766
    secret: bytes = b""
    login: bool = False  # decided at start (commsflow desk): every page asks for a login
    names: tuple[str, ...] = ()  # what the desk answers to besides HOST_NAMES: [desk] hosts, --host
    sessions: dict = field(default_factory=dict)  # login.Session by a digest of its cookie
    failures: dict = field(default_factory=dict)  # login.Failures by name
    clock: Callable[[], float] = time.monotonic  # for sessions and locks

    def __post_init__(self) -> None:
        self.secret = self.secret or secrets.token_bytes(32)

    @property
    def token(self) -> str:
        """The CSRF token every form carries without a login (and the login form): derived
        from the process's secret, never stored."""
        return hmac.new(self.secret, b"commsflow desk form", "sha256").hexdigest()

    def form_token(self) -> str:
        """The token the forms of this request carry: the session's own when logged in."""
        from commsflow.desk.login import CURRENT

        session = CURRENT.get()
        return session.csrf if session is not None else self.token

    def workspace(self) -> Workspace:
        return Workspace(self.root, self.now_text, self.use_cache)

    @property
    def hosts(self) -> frozenset[str]:
        """The Host headers answered: each name with the desk's port, and bare on port 80;
        a name given with its own port (``desk.example.org:8443``) just so, one without
        (behind a reverse proxy) bare too."""
        found = {f"{name}:{self.port}" for name in HOST_NAMES} | (set(HOST_NAMES) if self.port == 80 else set())
        for name in self.names:
            name = name.lower()
            if re.search(r":\d+$", name):
                found.add(name)
            else:
                found |= {name, f"{name}:{self.port}"}
        return frozenset(found)


class Guard:
    """ASGI middleware: the Host header, then the body's size (read here, at most MAX_BODY
    bytes, and handed on whole)."""

    def __init__(self, app, desk: Desk, limit: int = MAX_BODY):
        self.app, self.desk, self.limit = app, desk, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if len(hosts) != 1 or hosts[0].strip().lower() not in self.desk.hosts:
            addresses = ", ".join(f"http://{host}/" for host in sorted(self.desk.hosts))
            response = PlainTextResponse(
                _("Wrong address: the desk answers only at {addresses}.").format(addresses=addresses),
                status_code=421,
            )
            await response(scope, receive, send)
            return
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.limit):
            await _too_large(scope, receive, send, self.limit)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
            if not message.get("more_body", False):
                break
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_guarded(message) -> None:
            if message["type"] == "http.response.start":
                # A response with its own policy keeps it: the review's pages allow their
                # preview frames, the previews may be framed by the desk (desk/review.py).
                own = {name.lower() for name, _value in message.get("headers", [])}
                added = [header for header in SECURITY_HEADERS if header[0] not in own]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, replay, send_guarded)


async def _too_large(scope, receive, send, limit: int) -> None:
    response = PlainTextResponse(_("Request too large: at most {size} KB.").format(size=limit // 1024), status_code=413)
    await response(scope, receive, send)


def _environment(desk: Desk, workspace: Workspace) -> jinja2.Environment:
    folder = workspace.config.path("templates") / TEMPLATES
    if not (folder / "base.html").is_file():
        raise CommsflowError(
            f"no desk templates in {folder}",
            "copy the folder templates/desk from commsflow's repository into the project's templates folder",
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,  # every item text is data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_messages(env)
    env.filters.update(
        datum=lambda moment: f"{dates.numeric_date(moment)} {dates.hour_minute(moment)}" if moment else "–",
        wochentag=lambda moment: dates.weekday_short(moment, i18n.language()),
        iso=lambda text: datetime.fromisoformat(text) if text else None,
    )
    env.globals["csrf"] = desk.form_token()
    env.globals["ui_language"] = i18n.language()  # <html lang>: the language the pages speak
    from commsflow.desk.pages import FILTERS

    env.filters.update(FILTERS)
    return env


def _page(desk: Desk, workspace: Workspace, template: str, status: int = 200, **context) -> HTMLResponse:
    from commsflow.desk.login import CURRENT

    session = CURRENT.get()
    context = {
        "message": None,
        "failure": None,
        "error": None,
        "login": desk.login,
        "signed_in": session.name if session is not None else None,
        "acting": None if desk.login else _acting_name(workspace),
    } | context
    html = _environment(desk, workspace).get_template(template).render(now=workspace.now, **context)
    return HTMLResponse(html, status_code=status)


def _acting_name(workspace: Workspace) -> str | None:
    """Who the desk acts as (COMMSFLOW_USER or git's identity), or None when nobody is known."""
    from commsflow import people

    try:
        return people.acting(workspace.config, workspace.root).name
    except CommsflowError:
        return None


def _problem(exc: Exception) -> str:
    if isinstance(exc, CommsflowError):
        return exc.message + (f" — {exc.hint}" if exc.hint else "")
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    return str(exc)


def _logged_in() -> str | None:
    """Who is logged in (acting as ``--by`` would), or None without a login."""
    from commsflow.desk.login import CURRENT

    session = CURRENT.get()
    return session.name if session is not None else None


async def _form(desk: Desk, request: Request) -> dict[str, str] | Response:
    """The posted form, or 403 when its CSRF token is missing or wrong."""
    form = await request.form(max_files=0, max_fields=20)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    token = fields.get("csrf", "")
    if not hmac.compare_digest(token.encode("utf-8", "replace"), desk.form_token().encode()):
        return PlainTextResponse(
            _("Form expired or not from this desk (CSRF token missing) — reload the page."),
            status_code=403,
        )
    return fields


# --- pages --------------------------------------------------------------------------------


def _attention(desk: Desk, workspace: Workspace, **context) -> HTMLResponse:
    from commsflow.attention import needs_a_person
    from commsflow.ledger import continuity_problem, ledger_path
    from commsflow.plan import open_plan

    status = context.pop("status", 200)
    try:
        path = ledger_path(workspace.config)
        problem = continuity_problem(path, path.parent)
        if problem is not None:
            raise problem
        entries = needs_a_person(open_plan(workspace), workspace.now)
    except CommsflowError as exc:
        return _page(desk, workspace, "attention.html", entries=[], error=_problem(exc), **context)
    return _page(desk, workspace, "attention.html", status, entries=entries, error=None, **context)


def _review(desk: Desk, workspace: Workspace, **context) -> HTMLResponse:
    from commsflow.desk.review import review_page

    return review_page(desk, workspace, **context)


def _calendar(desk: Desk, workspace: Workspace, channel: str | None = None) -> HTMLResponse:
    from commsflow.actions import short_ref
    from commsflow.commands import plan_or_stop

    try:
        opened = plan_or_stop(workspace, "the calendar")
    except CommsflowError as exc:
        return _page(desk, workspace, "calendar.html", weeks=[], channels=[], channel=None, error=_problem(exc))
    titles = opened.titles
    weeks: dict[tuple[int, int], dict] = {}
    channels = sorted({job.channel for job in opened.calendar.jobs})
    for job in sorted(opened.calendar.jobs, key=lambda job: (job.planned, job.channel)):
        if channel and job.channel != channel:
            continue
        year, week, _ = job.planned.isocalendar()
        monday = (job.planned - timedelta(days=job.planned.weekday())).date()
        entry = weeks.setdefault((year, week), {"year": year, "week": week, "monday": monday, "jobs": []})
        entry["jobs"].append({"job": job, "ref": short_ref(job.id), "title": titles.get(job.item, job.item)})
    return _page(
        desk, workspace, "calendar.html", weeks=list(weeks.values()), channels=channels, channel=channel, error=None
    )


def _job(desk: Desk, workspace: Workspace, ref: str) -> HTMLResponse:
    from commsflow.desk.review import job_page

    return job_page(desk, workspace, ref)


# --- actions ------------------------------------------------------------------------------

_JOB_ACTIONS = {"retry": "retry", "dismiss": "dismissed", "posted": "posted"}
_DONE = {  # translated where shown
    "retry": N_("will be sent again on the next run"),
    "dismissed": N_("dismissed — will not be sent"),
    "posted": N_("recorded as posted by hand"),
}


async def _job_action(desk: Desk, request: Request) -> Response:
    from commsflow.commands.jobs import act

    fields = await _form(desk, request)
    if isinstance(fields, Response):
        return fields
    workspace = desk.workspace()
    action = _JOB_ACTIONS.get(request.path_params["action"])
    ref = fields.get("ref", "").strip()
    reason = " ".join(fields.get("reason", "").split())
    url = (fields.get("url", "").strip() or None) if action == "posted" else None
    if action is None or not ref:
        return _attention(desk, workspace, status=400, message=None, failure=_("Unknown action or no job."))
    if action == "dismissed" and not reason:
        return _attention(desk, workspace, status=400, message=None, failure=_("Please give a reason."))
    if action == "posted" and url is not None and not url.startswith(("https://", "http://")):
        return _attention(desk, workspace, status=400, message=None, failure=_("The address must start with https://."))
    why = reason if action != "posted" else "published by hand"
    try:
        done = list(act(workspace, action, [ref], _logged_in(), why, url))
    except (CommsflowError, click.ClickException) as exc:
        return _attention(desk, workspace, status=400, message=None, failure=_problem(exc))
    said = _(_DONE[action])
    message = "; ".join(f"{shown}: {said}" for _ref, shown in done)
    return _attention(desk, desk.workspace(), message=message, failure=None)


async def _signoff_action(desk: Desk, request: Request) -> Response:
    from commsflow.commands.approve import _plain, opened_for_signoff, reject_one, reviewer, sign_off

    fields = await _form(desk, request)
    if isinstance(fields, Response):
        return fields
    workspace = desk.workspace()
    key = fields.get("key", "").strip()
    rejecting = request.path_params["action"] == "ablehnen"
    reason = " ".join(fields.get("reason", "").split())
    try:
        if not key:
            raise CommsflowError(_("no item given"), _("reload the page"))
        if rejecting:
            if not reason:
                raise CommsflowError(_("Please give a reason"), _("what should the author change?"))
            _plain(reason, _("Reason"))
            who = reviewer(workspace, _logged_in(), "rejects", "reject")
            _before, record = reject_one(opened_for_signoff(workspace), who, key, workspace.now, reason)
            message = _("{key} rejected by {name}: {reason}").format(key=key, name=who.name, reason=reason)
        else:
            who = reviewer(workspace, _logged_in(), "signs off", "sign off")
            _before, record = sign_off(opened_for_signoff(workspace), who, key, workspace.now)
            message = _("{key} signed off by {name}").format(key=key, name=who.name)
    except (CommsflowError, click.ClickException) as exc:
        return _review(desk, desk.workspace(), status=400, message=None, failure=_problem(exc))
    return _review(desk, desk.workspace(), message=message, failure=None)


def create_app(desk: Desk) -> Guard:
    """The desk's ASGI application, guarded."""

    async def attention(request: Request) -> Response:
        return _attention(desk, desk.workspace(), message=None, failure=None)

    async def review(request: Request) -> Response:
        return _review(desk, desk.workspace(), message=None, failure=None)

    async def calendar(request: Request) -> Response:
        channel = request.query_params.get("kanal") or None
        if request.query_params.get("ansicht") == "monat":
            from commsflow.desk import pages

            return pages.month(desk, desk.workspace(), channel, request.query_params.get("monat"))
        return _calendar(desk, desk.workspace(), channel)

    async def job(request: Request) -> Response:
        return _job(desk, desk.workspace(), request.path_params["ref"])

    async def preview(request: Request) -> Response:
        from commsflow.desk import review as reviewing

        return reviewing.preview(desk, desk.workspace(), request.path_params["ref"])

    async def newsletters(request: Request) -> Response:
        from commsflow.desk import pages

        return pages.newsletters(desk, desk.workspace())

    async def partner_news(request: Request) -> Response:
        from commsflow.desk import pages

        return pages.partner_news(desk, desk.workspace())

    async def job_action(request: Request) -> Response:
        return await _job_action(desk, request)

    async def signoff_action(request: Request) -> Response:
        return await _signoff_action(desk, request)

    from commsflow.desk import login

    async def login_form(request: Request) -> Response:
        return await login.login_form(desk, request)

    async def log_in(request: Request) -> Response:
        return await login.login(desk, request)

    async def log_out(request: Request) -> Response:
        return await login.logout(desk, request)

    pages = [
        ("/", attention, "GET"),
        ("/pruefen", review, "GET"),
        ("/kalender", calendar, "GET"),
        ("/auftrag/{ref:str}", job, "GET"),
        ("/vorschau/{ref:str}", preview, "GET"),
        ("/newsletter", newsletters, "GET"),
        ("/partnermeldungen", partner_news, "GET"),
        ("/aktion/{action:str}", job_action, "POST"),
        ("/pruefen/{action:str}", signoff_action, "POST"),
        (login.LOGOUT, log_out, "POST"),
    ]
    routes = [Route(path, login.required(desk, endpoint), methods=[method]) for path, endpoint, method in pages]
    routes += [Route(login.LOGIN, login_form, methods=["GET"]), Route(login.LOGIN, log_in, methods=["POST"])]

    async def trouble(request: Request, exc: Exception) -> Response:
        # A problem of the project (no desk templates, a broken configuration): its message, no traceback.
        return PlainTextResponse(_("Desk: {problem}").format(problem=_problem(exc)), status_code=500)

    return Guard(Starlette(routes=routes, exception_handlers={CommsflowError: trouble}), desk)

"""The desk's login: configured when a listed person's ``password_env`` holds a hash
(:mod:`commsflow.passwords`); then every page asks for it, on 127.0.0.1 too.

``/anmelden`` takes a listed person's name or e-mail address and their password; on
success a random session cookie (HttpOnly, SameSite=Strict, Max-Age ``[desk]
session_hours``) names a session held here, in memory only — a restart logs everybody
out. A session carries its own CSRF token. ``/abmelden`` ends it. A wrong name and a
wrong password get the same answer; five failures for one name within 15 minutes lock
that name for 15 minutes. Whoever is logged in is who acts: sign-offs, rejections,
retry, dismiss and posted go through the CLI's code as ``--by`` that person, with the
same role and four-eyes rules.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commsflow import passwords, people
from commsflow.errors import CommsflowError
from commsflow.workspace import Workspace

COOKIE = "commsflow_desk"
LOGIN, LOGOUT = "/anmelden", "/abmelden"
FAILURES, WINDOW, LOCK = 5, 15 * 60, 15 * 60  # five failures in 15 minutes lock a name for 15 minutes
MAX_FAILING_NAMES = 10_000  # names with recent failures kept (the oldest dropped beyond)
_LOCAL_PATH = re.compile(r"^/(?![/\\])[\x21-\x7e]{0,2000}$")


@dataclass
class Session:
    name: str  # the listed person's name
    expires: float  # on the desk's clock (monotonic seconds)
    csrf: str  # the token this session's forms carry


@dataclass
class Failures:
    times: list[float]
    locked_until: float = 0.0


# The session of the request being answered (set by :func:`required`), or None.
CURRENT: ContextVar[Session | None] = ContextVar("commsflow_desk_session", default=None)


def _key(token: str) -> str:
    # Sessions are kept by a digest of their token: the token itself is never held.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def session_of(desk, request: Request, workspace: Workspace) -> Session | None:
    """The request's live session whose person is still listed with a password_env, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    key = _key(token)
    session = desk.sessions.get(key)
    if session is None:
        return None
    if session.expires <= desk.clock():
        desk.sessions.pop(key, None)
        return None
    found = [person for person in people.find(workspace.config, session.name) if person.name == session.name]
    if len(found) != 1 or not found[0].password_env:
        desk.sessions.pop(key, None)
        return None
    return session


def local_path(text: str | None) -> str:
    """``text`` when it is a path on this desk (``/pruefen?x=1``), else ``/``: the login
    sends nobody to another site."""
    return text if text and _LOCAL_PATH.match(text) else "/"


def required(desk, endpoint):
    """``endpoint`` behind the login when one is configured: without a live session a GET
    is sent to /anmelden (to come back afterwards), anything else too, without a way back."""

    async def guarded(request: Request) -> Response:
        if not desk.login:
            return await endpoint(request)
        session = session_of(desk, request, desk.workspace())
        if session is None:
            target = LOGIN
            if request.method == "GET":
                asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if local_path(asked) != "/":
                    from urllib.parse import urlencode

                    target += "?" + urlencode({"weiter": asked})
            return RedirectResponse(target, status_code=303)
        token = CURRENT.set(session)
        try:
            return await endpoint(request)
        finally:
            CURRENT.reset(token)

    return guarded


# --- failures and locks -------------------------------------------------------------------


def _failing_name(workspace: Workspace, text: str) -> str:
    """Whom failures count against: the listed person the text names, else the text."""
    found = people.find(workspace.config, text)
    return found[0].name if len(found) == 1 else " ".join(text.split()).casefold()


def locked(desk, name: str) -> bool:
    entry = desk.failures.get(name)
    return entry is not None and entry.locked_until > desk.clock()


def failed(desk, name: str) -> None:
    now = desk.clock()
    for other in [
        key for key, entry in desk.failures.items() if entry.locked_until <= now and entry.times[-1] <= now - WINDOW
    ]:
        del desk.failures[other]
    entry = desk.failures.setdefault(name, Failures([]))
    entry.times = [moment for moment in entry.times if moment > now - WINDOW] + [now]
    if len(entry.times) >= FAILURES:
        entry.locked_until, entry.times = now + LOCK, []
    while len(desk.failures) > MAX_FAILING_NAMES:
        del desk.failures[next(iter(desk.failures))]


# --- the routes ---------------------------------------------------------------------------


def _login_page(desk, workspace: Workspace, status: int = 200, **context) -> Response:
    from commsflow.desk import _page

    context = {"weiter": "/", "name": "", "wrong": False, "locked": False} | context
    return _page(desk, workspace, "login.html", status, **context)


async def login_form(desk, request: Request) -> Response:
    workspace = desk.workspace()
    weiter = local_path(request.query_params.get("weiter"))
    if not desk.login or session_of(desk, request, workspace) is not None:
        return RedirectResponse(weiter, status_code=303)
    return _login_page(desk, workspace, weiter=weiter)


async def login(desk, request: Request) -> Response:
    from commsflow.desk import _form

    fields = await _form(desk, request)
    if isinstance(fields, Response):
        return fields
    if not desk.login:
        return RedirectResponse("/", status_code=303)
    workspace = desk.workspace()
    weiter = local_path(fields.get("weiter"))
    text = " ".join(fields.get("name", "").split())[:200]
    password = fields.get("password", "")
    failing = _failing_name(workspace, text)
    if locked(desk, failing):
        return _login_page(desk, workspace, 429, weiter=weiter, name=text, locked=True)
    config = workspace.config
    found = people.find(config, text) if text else []
    person = found[0] if len(found) == 1 else None
    try:
        stored = passwords.stored_for(person) if person is not None else None
    except CommsflowError:  # no hash in the variable (checked at start): no login, and nothing said about it
        stored = None
    if not await run_in_threadpool(passwords.verify_or_waste, password, stored):
        failed(desk, failing)
        return _login_page(desk, workspace, 401, weiter=weiter, name=text, wrong=True, locked=locked(desk, failing))
    desk.failures.pop(failing, None)
    now = desk.clock()
    for key in [key for key, session in desk.sessions.items() if session.expires <= now]:
        del desk.sessions[key]
    seconds = config.desk.session_hours * 3600
    token = secrets.token_urlsafe(32)
    desk.sessions[_key(token)] = Session(person.name, now + seconds, secrets.token_hex(32))
    response = RedirectResponse(weiter, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.headers.get("x-forwarded-proto", "").strip().lower() == "https",
    )
    return response


async def logout(desk, request: Request) -> Response:
    from commsflow.desk import _form

    fields = await _form(desk, request)
    if isinstance(fields, Response):
        return fields
    session = CURRENT.get()
    token = request.cookies.get(COOKIE)
    if session is not None and token:
        desk.sessions.pop(_key(token), None)
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response

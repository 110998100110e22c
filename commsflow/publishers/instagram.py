"""instagram: an image post or a story on the organisation's Instagram professional account,
over the Instagram Graph API's content publishing (Instagram API with Facebook Login).

The picture is not uploaded: Instagram fetches it from its public address (the payload's
``image_url``, the JPEG in the build folder once that is uploaded). Three steps, as Meta
documents them:

1. ``POST {api}/{ig-user-id}/media`` makes a media container: ``image_url``, for a feed post
   also ``caption`` and ``alt_text`` (image posts only); for a story ``media_type=STORIES``
   and nothing else (stories take neither caption nor alt text). Answer ``{"id": container}``.
2. ``GET {api}/{container}?fields=status_code,status`` until ``FINISHED``: ``IN_PROGRESS`` is
   asked again every :data:`CONTAINER_POLL` seconds for at most :data:`CONTAINER_WAIT`
   seconds (then :class:`Transient`); ``ERROR`` and ``EXPIRED`` stop for a person, with the
   container's ``status`` (Instagram's reason).
3. ``POST {api}/{ig-user-id}/media_publish`` with ``creation_id``. Answer ``{"id": media}``:
   the receipt, with the post's address from ``GET {api}/{media}?fields=permalink`` where
   that answers.

The parameters go as a form body, the access token as ``Authorization: Bearer`` — never in
the address (addresses end up in logs).

Not de-duplicating (``deduplicates = False``): Instagram has no idempotency key and nothing
by which a post could be found from the job. A job found "sending" after a crash may be on
Instagram already — a person checks the account before sending it again. A container made
but not published expires on its own after 24 hours, so a retry after a failure before
step 3 cannot post twice. If step 3 goes unanswered (no connection, 5xx), the container's
``status_code`` says whether it was published (``PUBLISHED``) before the failure counts.

Errors are JSON ``{"error": {"message", "type", "code", "error_subcode", "is_transient",
"error_user_msg", "fbtrace_id"}}``, mostly with HTTP 400: code 190 (and 102) is an expired
or invalid token, 10 and 200–299 a missing permission (:class:`Permanent`, what to renew);
4, 17, 32, 341, 613 and 80002 are rate limits, as are HTTP 429 and subcode 2207042 (the
posts-per-24-hours limit) — :class:`Transient`, waiting for ``estimated_time_to_regain_access``
from ``X-Business-Use-Case-Usage`` where given; 1, 2, ``is_transient`` and 5xx are
:class:`Transient`; every other 4xx is :class:`Permanent` with what the server says.

Environment: ``COMMSFLOW_INSTAGRAM_TOKEN`` (required; an access token with the
``instagram_basic`` and ``instagram_content_publish`` permissions),
``COMMSFLOW_INSTAGRAM_USER_ID`` (required; the Instagram business account's id) and
``COMMSFLOW_INSTAGRAM_API`` (default https://graph.facebook.com/v21.0).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, PublishError, Receipt, Transient
from commsflow.publishers.http import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    http_url,
    new_session,
    origin,
    request,
    retry_after,
    server_says,
    token_from,
    try_later,
)
from commsflow.publishers.secrets import LIMIT, WINDOW, one_line, scrub

DEFAULT_API = "https://graph.facebook.com/v21.0"
CONTAINER_WAIT, CONTAINER_POLL = 60.0, 3.0  # seconds: how long Instagram may take to fetch the image, how often asked
FORMATS = ("feed", "story")
TOKEN_HINT = N_(
    "create a new access token with the instagram_basic and instagram_content_publish permissions "
    "(a user's token expires after 60 days) and set COMMSFLOW_INSTAGRAM_TOKEN"
)  # shown as _(TOKEN_HINT)
USER_HINT = N_(
    "set COMMSFLOW_INSTAGRAM_USER_ID to the id of the Instagram business account "
    "(the field instagram_business_account of the Facebook page it is linked to)"
)  # shown as _(USER_HINT)
PUBLIC_HINT = N_(
    "Instagram fetches the image from the public build folder: set [links] public_url to an https "
    "address and upload the build folder"
)  # shown as _(PUBLIC_HINT)
_TOKEN_CODES = (190, 102)  # access token expired, revoked or invalid; API session
_RATE_CODES = (4, 17, 32, 341, 613, 80002)  # app, user, page, application and custom limits; Instagram's own
_BUSY_CODES = (1, 2)  # "API Unknown", "API Service": temporary, try again
_PUBLISH_LIMIT = 2207042  # subcode: the account's posts per 24 hours are used up


@dataclass(frozen=True)
class InstagramSettings:
    user_id: str  # the Instagram business account's id (not secret; digits)
    token: str = field(repr=False)
    api: str = DEFAULT_API
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> InstagramSettings:
        token = token_from(environ, "COMMSFLOW_INSTAGRAM_TOKEN", "instagram", _(TOKEN_HINT))
        user_id = environ.get("COMMSFLOW_INSTAGRAM_USER_ID", "").strip()
        if not user_id:
            raise CommsflowError(
                _("instagram: no account to post to (COMMSFLOW_INSTAGRAM_USER_ID is not set)"), _(USER_HINT)
            )
        if not user_id.isascii() or not user_id.isdigit():
            raise CommsflowError(
                _("instagram: COMMSFLOW_INSTAGRAM_USER_ID is not an account id (digits only)"), _(USER_HINT)
            )
        api = environ.get("COMMSFLOW_INSTAGRAM_API", "").strip() or DEFAULT_API
        return cls(user_id, token, http_url(api, "COMMSFLOW_INSTAGRAM_API"))


class InstagramPublisher:
    name = "instagram"
    credentials = ("COMMSFLOW_INSTAGRAM_TOKEN",)  # the environment variables that expire (alerts tell before they do)
    deduplicates = False  # no idempotency key, no way to find a post again: after a crash a person checks

    def __init__(self, settings: InstagramSettings, session: requests.Session | None = None):
        self.settings = settings
        self._session = session or new_session()

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> InstagramPublisher:
        return cls(InstagramSettings.from_env(config, environ))

    def __repr__(self) -> str:
        return f"InstagramPublisher({self.settings.user_id} at {origin(self.settings.api)})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return (self.settings.token,)

    def publish(self, payload: Payload) -> Receipt:
        channel = payload.channel
        body = payload.body if isinstance(payload.body, dict) else {}
        post_format = body.get("format")
        if post_format not in FORMATS:
            raise Permanent(
                _(
                    "{channel}: the job {job} has no Instagram post (feed or story) — build again and check the draft"
                ).format(channel=channel, job=payload.job_id)
            )
        image_url = body.get("image_url")
        if not isinstance(image_url, str) or urlsplit(image_url.strip()).scheme != "https":
            raise Permanent(
                _("{channel}: the image of {job} has no https address — {hint}").format(
                    channel=channel, job=payload.job_id, hint=_(PUBLIC_HINT)
                )
            )
        sent = {"image_url": image_url.strip()}
        if post_format == "story":
            sent["media_type"] = "STORIES"
        else:
            caption = body.get("caption") if isinstance(body.get("caption"), str) else payload.text
            if caption:
                sent["caption"] = caption
            alt = body.get("alt")
            if isinstance(alt, str) and alt.strip():
                sent["alt_text"] = alt.strip()
        user = quote(self.settings.user_id, safe="")
        created = self._json(self._call("POST", f"/{user}/media", channel, _("creating the post"), data=sent))
        container = self._id(created)
        if not container:
            raise Permanent(
                _("{channel}: {where} answered without a container id — check COMMSFLOW_INSTAGRAM_API").format(
                    channel=channel, where=origin(self.settings.api)
                )
            )
        self._wait(container, payload)
        try:
            response = self._call(
                "POST", f"/{user}/media_publish", channel, _("publishing the post"), data={"creation_id": container}
            )
        except Transient as error:
            # No answer or 5xx: published or not? The container knows.
            if self._status(container, channel)[0] == "PUBLISHED":
                return Receipt(
                    channel,
                    "",
                    note=_("published (the container {container} says so), but no media id came back").format(
                        container=container
                    ),
                )
            raise error
        media = self._id(self._json(response))
        if not media:
            return Receipt(
                channel, "", note=_("published, but {where} sent no media id").format(where=origin(self.settings.api))
            )
        return Receipt(channel, media, url=self._permalink(media, channel))

    # --- the steps -----------------------------------------------------------------------------

    def _wait(self, container: str, payload: Payload) -> None:
        """Until Instagram has fetched and checked the image (``FINISHED``), at most :data:`CONTAINER_WAIT` s."""
        channel = payload.channel
        deadline = time.monotonic() + CONTAINER_WAIT
        while True:
            code, status = self._status(container, channel, strict=True)
            if code == "FINISHED":
                return
            if code in ("ERROR", "EXPIRED"):
                said = one_line(status, self.secrets) if status else ""
                raise Permanent(
                    _(
                        "{channel}: Instagram did not take the image of {job} ({code}){said} — check that the build "
                        "folder is uploaded and the image opens at its public address"
                    ).format(channel=channel, job=payload.job_id, code=code, said=f": {said}" if said else "")
                )
            if time.monotonic() + CONTAINER_POLL > deadline:  # IN_PROGRESS (or not said): no time left
                raise Transient(
                    _(
                        "{channel}: Instagram is still processing the image of {job} — it will be tried again later"
                    ).format(channel=channel, job=payload.job_id)
                )
            time.sleep(CONTAINER_POLL)

    def _status(self, container: str, channel: str, *, strict: bool = False) -> tuple[str, str]:
        """The container's ``status_code`` and ``status``. ``strict``: a failure raises;
        otherwise (asking after a failed publish) it is ``("", "")``."""
        try:
            response = self._call(
                "GET",
                f"/{quote(container, safe='')}",
                channel,
                _("waiting for the image to be processed"),
                params={"fields": "status_code,status"},
            )
        except PublishError:
            if strict:
                raise
            return "", ""
        data = self._json(response)
        values = [data.get(key) for key in ("status_code", "status")]
        code, status = (value if isinstance(value, str) else "" for value in values)
        return code.strip().upper(), status

    def _permalink(self, media: str, channel: str) -> str | None:
        """The post's address, if Instagram says it at once; nothing may fail here: the post is out."""
        try:
            response = self._call(
                "GET", f"/{quote(media, safe='')}", channel, "", params={"fields": "permalink"}, check=False
            )
        except PublishError:
            return None
        link = self._json(response).get("permalink") if response.status_code == 200 else None
        return one_line(link, self.secrets, 300) if isinstance(link, str) and link.startswith("https://") else None

    def _id(self, data: dict) -> str:
        value = data.get("id")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return ""
        return one_line(str(value), self.secrets, 64)

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    # --- HTTP ----------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, channel: str, doing: str, *, check: bool = True, **kwargs
    ) -> requests.Response:
        """``doing``: what was asked, as in „while {doing}“ (translated)."""
        response = request(
            self._session,
            method,
            self.settings.api + path,
            channel=channel,
            timeout=self.settings.timeout,
            auth=BearerAuth(self.settings.token),
            hint=_("check COMMSFLOW_INSTAGRAM_API and the network"),
            **kwargs,
        )
        if check:
            self._check(response, channel, doing)
        return response

    def _check(self, response: requests.Response, channel: str, doing: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        where = origin(self.settings.api)
        error = graph_error(response)
        code, subcode = _number(error.get("code")), _number(error.get("error_subcode"))
        said = graph_says(response, self.secrets)
        said = f": {said}" if said else ""
        if status == 429 or code in _RATE_CODES or subcode == _PUBLISH_LIMIT:
            raise Transient(
                _(
                    "{channel}: {where} is limiting requests ({status}) while {doing}{said} — it will be tried again later"
                ).format(channel=channel, where=where, status=status, doing=doing, said=said),
                retry_after=_regain_access(response),
                status=status,
            )
        permission = code is not None and (code == 10 or 200 <= code <= 299)
        if code in _TOKEN_CODES or permission or (code is None and status in (401, 403)):
            raise Permanent(
                _("{channel}: {where} refused the token while {doing} ({status}){said} — {hint}").format(
                    channel=channel, where=where, doing=doing, status=status, said=said, hint=_(TOKEN_HINT)
                ),
                status=status,
            )
        if status >= 500 or code in _BUSY_CODES or error.get("is_transient") is True:
            raise try_later(response, channel, where, doing, said)
        raise Permanent(
            _(
                "{channel}: {where} rejected the request while {doing} ({status}){said} — check the image "
                "(is the build folder uploaded?) and the caption"
            ).format(channel=channel, where=where, doing=doing, status=status, said=said),
            status=status,
        )


# --- Graph API error answers -------------------------------------------------------------------


def graph_error(response: requests.Response) -> dict:
    """The ``error`` object of a Graph API error answer (``{}`` where there is none)."""
    content = response.content or b""
    if len(content) > WINDOW:
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def graph_says(response: requests.Response, secrets=(), limit: int = LIMIT) -> str:
    """What a message may show of a Graph API error: ``code/subcode: message (error_user_msg)``,
    on one line, every secret scrubbed; :func:`~commsflow.publishers.http.server_says` for
    an answer of another shape."""
    error = graph_error(response)
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    if not error or not message.strip():
        return server_says(response, secrets, limit)
    user_message = error.get("error_user_msg")
    if isinstance(user_message, str) and user_message.strip() and user_message.strip() not in message:
        message = f"{message} ({user_message.strip()})"
    numbers = [_number(error.get(key)) for key in ("code", "error_subcode")]
    code = scrub("/".join(str(number) for number in numbers if number is not None), secrets)
    prefix = f"{code}: " if code else ""
    return prefix + one_line(message, secrets, limit - len(prefix))


def _number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _regain_access(response: requests.Response) -> float | None:
    """Seconds until the rate limit lifts: the largest ``estimated_time_to_regain_access``
    (minutes) in ``X-Business-Use-Case-Usage``, else ``Retry-After``."""
    minutes = []
    try:
        usage = json.loads(response.headers.get("X-Business-Use-Case-Usage", "") or "{}")
    except ValueError:
        usage = {}
    for entries in usage.values() if isinstance(usage, dict) else ():
        for entry in entries if isinstance(entries, list) else ():
            value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 10_000:
                minutes.append(float(value))
    return max(minutes) * 60 if minutes else retry_after(response.headers.get("Retry-After"))

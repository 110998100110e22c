"""linkedin: the Posts API, sending the request body the LinkedIn drafts built.

``POST {api}/rest/posts`` with ``Authorization: Bearer <token>``, ``LinkedIn-Version``
and ``X-Restli-Protocol-Version: 2.0.0``; the body goes out unchanged. LinkedIn answers
201 with the new post's URN in the ``x-restli-id`` header — that is the receipt.

LinkedIn refuses a post whose content equals a recent one with 422 "Content is a
duplicate of urn:li:share:…": that answer counts as "already posted", which is what
makes sending again after a crash safe (``deduplicates``).

Environment: ``COMMSFLOW_LINKEDIN_TOKEN`` (required; an access token with the
``w_organization_social`` scope), ``COMMSFLOW_LINKEDIN_API`` (default
https://api.linkedin.com), ``COMMSFLOW_LINKEDIN_VERSION`` (``YYYYMM``; LinkedIn retires
each version after about a year).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import NoReturn

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient, attachment
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
)
from commsflow.publishers.secrets import one_line

DEFAULT_API = "https://api.linkedin.com"
DEFAULT_VERSION = "202411"
_VERSION = re.compile(r"^\d{6}(\.\d{2})?$")
_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
TOKEN_HINT = N_(
    "create a new access token with the w_organization_social scope for an admin of "
    "the page (tokens expire after 60 days) and set COMMSFLOW_LINKEDIN_TOKEN"
)  # shown as _(TOKEN_HINT)


@dataclass(frozen=True)
class LinkedInSettings:
    token: str = field(repr=False)
    api: str = DEFAULT_API
    version: str = DEFAULT_VERSION
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ=os.environ) -> LinkedInSettings:
        token = token_from(environ, "COMMSFLOW_LINKEDIN_TOKEN", "linkedin", _(TOKEN_HINT))
        api = http_url(environ.get("COMMSFLOW_LINKEDIN_API", "") or DEFAULT_API, "COMMSFLOW_LINKEDIN_API")
        version = environ.get("COMMSFLOW_LINKEDIN_VERSION", "").strip() or DEFAULT_VERSION
        if not _VERSION.match(version):
            raise CommsflowError(
                _("linkedin: COMMSFLOW_LINKEDIN_VERSION={version!r} is not a version").format(version=version),
                _("write it as YYYYMM, e.g. 202411"),
            )
        return cls(token=token, api=api, version=version)


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInPublisher:
    name = "linkedin"
    credentials = ("COMMSFLOW_LINKEDIN_TOKEN",)  # the environment variables that expire (alerts tell before they do)
    deduplicates = True  # LinkedIn answers 422 "duplicate" to the same content again

    def __init__(self, settings: LinkedInSettings, session: requests.Session | None = None):
        self.settings = settings
        self._session = session or new_session()

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> LinkedInPublisher:
        return cls(LinkedInSettings.from_env(environ))

    def __repr__(self) -> str:
        return f"LinkedInPublisher({self.settings.api}, version {self.settings.version})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return (self.settings.token,)

    def publish(self, payload: Payload) -> Receipt:
        channel = payload.channel
        if not payload.body:
            raise Permanent(
                _(
                    "{channel}: no LinkedIn request body for {item} — set [social] linkedin_author and build the drafts"
                ).format(channel=channel, item=payload.item)
            )
        body = payload.body
        article = body.get("content", {}).get("article")
        image = next((name for name in payload.files if name.startswith("image.")), None)
        if image and article is not None:
            thumbnail = self._upload_image(attachment(payload, image)[0], body["author"], channel)
            body = {**body, "content": {**body["content"], "article": {**article, "thumbnail": thumbnail}}}
        response = self._call("POST", "/rest/posts", channel, data=json.dumps(body, ensure_ascii=False).encode("utf-8"))
        status = response.status_code
        if 200 <= status < 300:
            urn = one_line(response.headers.get("x-restli-id", ""), self.secrets, 120)
            if not urn:
                return Receipt(channel, "", note=_("posted, but LinkedIn sent no post URN (x-restli-id)"))
            if not _URN.fullmatch(urn):
                return Receipt(channel, urn, note=_("posted; LinkedIn's post id (x-restli-id) is not a post URN"))
            return Receipt(channel, urn, url=post_url(urn))
        said = server_says(response, self.secrets)
        if status == 422 and "duplicate" in said.lower():
            match = _URN.search(said)
            if match:
                return Receipt(
                    channel,
                    match[0],
                    url=post_url(match[0]),
                    note=_("already posted (LinkedIn answered 422 duplicate)"),
                )
            return Receipt(channel, "", note=_("already posted (LinkedIn answered 422 duplicate)"))
        self._refused(
            response,
            channel,
            said,
            _(
                "{channel}: LinkedIn ({where}) rejected the post ({status}){said} — "
                "check the draft's request body (commsflow linkedin build) and [social] "
                "linkedin_author"
            ),
        )

    def _upload_image(self, data: bytes, owner: str, channel: str) -> str:
        """The Images API: ``initializeUpload`` for the post's author, then the bytes PUT to the
        upload address it gives; the image's URN goes into the post."""
        response = self._call(
            "POST",
            "/rest/images?action=initializeUpload",
            channel,
            data=json.dumps({"initializeUploadRequest": {"owner": owner}}).encode("utf-8"),
        )
        rejected = _(
            "{channel}: LinkedIn ({where}) rejected the image upload ({status}){said} — check the item's image"
        )
        if not 200 <= response.status_code < 300:
            self._refused(response, channel, server_says(response, self.secrets), rejected)
        try:
            value = response.json()["value"]
            upload, urn = value["uploadUrl"], value["image"]
        except (ValueError, KeyError, TypeError):
            upload = urn = None
        if not (isinstance(upload, str) and upload.startswith(("https://", "http://")) and isinstance(urn, str)):
            raise Permanent(
                _("{channel}: LinkedIn ({where}) gave no upload address for the image").format(
                    channel=channel, where=origin(self.settings.api)
                )
            )
        put = request(
            self._session,
            "PUT",
            upload,
            channel=channel,
            timeout=self.settings.timeout,
            hint=_("check COMMSFLOW_LINKEDIN_API and the network"),
            auth=BearerAuth(self.settings.token),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if not 200 <= put.status_code < 300:
            self._refused(put, channel, server_says(put, self.secrets), rejected)
        return one_line(urn, self.secrets, 200)

    def _call(self, method: str, path: str, channel: str, **kwargs) -> requests.Response:
        settings = self.settings
        return request(
            self._session,
            method,
            f"{settings.api}{path}",
            channel=channel,
            timeout=settings.timeout,
            hint=_("check COMMSFLOW_LINKEDIN_API and the network"),
            auth=BearerAuth(settings.token),
            headers={
                "LinkedIn-Version": settings.version,
                "X-Restli-Protocol-Version": "2.0.0",
                "Content-Type": "application/json",
            },
            **kwargs,
        )

    def _refused(self, response: requests.Response, channel: str, said: str, otherwise: str) -> NoReturn:
        """Raises what a failed answer means; ``otherwise``: the message (translated, with
        {channel}, {where}, {status}, {said}) for a refusal no rule below names."""
        settings = self.settings
        where = origin(settings.api)
        status = response.status_code
        said = f": {said}" if said else ""
        if status in (401, 403):
            raise Permanent(
                _(
                    "{channel}: LinkedIn ({where}) answered {status}{said} — the token was refused "
                    "or lacks w_organization_social; {hint}"
                ).format(channel=channel, where=where, status=status, said=said, hint=_(TOKEN_HINT)),
                status=status,
            )
        if status == 429:
            raise Transient(
                _(
                    "{channel}: LinkedIn ({where}) answered 429 (rate limit){said} — it will be tried again later"
                ).format(channel=channel, where=where, said=said),
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status >= 500:
            raise Transient(
                _("{channel}: LinkedIn ({where}) answered {status}{said} — it will be tried again later").format(
                    channel=channel, where=where, status=status, said=said
                ),
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status == 426:
            raise Permanent(
                _(
                    "{channel}: LinkedIn ({where}) does not accept version {version}{said} — "
                    "set COMMSFLOW_LINKEDIN_VERSION to a current YYYYMM"
                ).format(channel=channel, where=where, version=settings.version, said=said),
                status=status,
            )
        raise Permanent(otherwise.format(channel=channel, where=where, status=status, said=said), status=status)

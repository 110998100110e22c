"""bluesky: a post on the organisation's Bluesky account, over the AT Protocol's XRPC.

The post record (text within 300 graphemes, link and hashtag facets, link card) is made when
the job is rendered, so the sign-off covers it (:func:`commsflow.renderers.short_post.bluesky_record`);
the publisher adds only ``createdAt``. It signs in with ``com.atproto.server.createSession``
(handle and app password), refreshes an expired session once
(``com.atproto.server.refreshSession``), and writes the record with
``com.atproto.repo.createRecord`` under a record key made from the job id and its planned
time (:func:`record_key`): before writing it asks ``com.atproto.repo.getRecord`` for that key,
so sending again after a crash finds the post instead of posting twice.

Environment: ``COMMSFLOW_BLUESKY_HANDLE`` (default: ``[social] bluesky_account``),
``COMMSFLOW_BLUESKY_APP_PASSWORD`` (required; Einstellungen → Datenschutz und Sicherheit →
App-Passwörter) and ``COMMSFLOW_BLUESKY_SERVICE`` (the account's server, default
https://bsky.social).

I/O shapes (the lexicons of com.atproto.server and com.atproto.repo): errors are JSON
``{"error": "ExpiredToken", "message": "…"}`` with 400 or 401; 429 carries
``ratelimit-reset`` (Unix seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, Receipt, attachment
from commsflow.publishers.http import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    http_url,
    new_session,
    origin,
    request,
    retry_after,
    server_says,
    try_later,
)
from commsflow.publishers.secrets import one_line
from commsflow.renderers.short_post import THREAD, UPLOAD

DEFAULT_SERVICE = "https://bsky.social"
COLLECTION = "app.bsky.feed.post"
PASSWORD_HINT = N_(
    "create an app password in Bluesky (Einstellungen → Datenschutz und Sicherheit → App-Passwörter) "
    "and set COMMSFLOW_BLUESKY_APP_PASSWORD"
)  # shown as _(PASSWORD_HINT)
_EXPIRED = ("ExpiredToken", "InvalidToken")
_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(job_id: str) -> str:
    """The record key of a job's post: a TID (13 characters of base32-sortable, as the
    app.bsky.feed.post lexicon asks) made of the job's planned time (from its id, ``…@2024-03-14T10:00+01:00``)
    plus a sub-minute offset and clock id from the id's hash — the same job always gets the same key,
    two jobs planned for the same minute different ones."""
    digest = int.from_bytes(hashlib.blake2b(job_id.encode("utf-8"), digest_size=8).digest(), "big")
    try:
        planned = datetime.fromisoformat(job_id.rpartition("@")[2].partition("#")[0])  # "#2": a thread's 2nd post
        seconds = int(planned.timestamp())
    except ValueError:
        seconds = 0
    micros = seconds * 1_000_000 + digest % 60_000_000
    number = (micros << 10) | (digest >> 40) & 0x3FF
    return "".join(_BASE32_SORTABLE[(number >> shift) & 31] for shift in range(60, -1, -5))


@dataclass(frozen=True)
class BlueskySettings:
    service: str
    handle: str
    password: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, config: Config | None, environ=os.environ) -> BlueskySettings:
        password = environ.get("COMMSFLOW_BLUESKY_APP_PASSWORD", "").strip()
        if not password:
            raise CommsflowError(
                _("bluesky: no app password (COMMSFLOW_BLUESKY_APP_PASSWORD is not set)"), _(PASSWORD_HINT)
            )
        account = config.social.bluesky_account if config else None
        handle = (environ.get("COMMSFLOW_BLUESKY_HANDLE", "").strip() or account or "").lstrip("@")
        if not handle:
            raise CommsflowError(
                _("bluesky: no account to post as"),
                _("set [social] bluesky_account = 'name.bsky.social' in commsflow.toml or COMMSFLOW_BLUESKY_HANDLE"),
            )
        service = environ.get("COMMSFLOW_BLUESKY_SERVICE", "").strip() or DEFAULT_SERVICE
        return cls(http_url(service, "COMMSFLOW_BLUESKY_SERVICE"), handle, password)


@dataclass
class _Session:
    did: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)


class BlueskyPublisher:
    name = "bluesky"
    credentials = (
        "COMMSFLOW_BLUESKY_APP_PASSWORD",
    )  # the environment variables that expire (alerts tell before they do)
    deduplicates = True  # the record key is the job's: getRecord finds a post sent before a crash

    def __init__(self, settings: BlueskySettings, session: requests.Session | None = None, clock=None):
        self.settings = settings
        self._http = session or new_session()
        self._session: _Session | None = None
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_env(cls, config: Config | None = None, environ=os.environ) -> BlueskyPublisher:
        return cls(BlueskySettings.from_env(config, environ))

    def __repr__(self) -> str:
        return f"BlueskyPublisher({self.settings.handle} at {origin(self.settings.service)})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show: the app password and the session's tokens."""
        tokens = (self._session.access, self._session.refresh) if self._session else ()
        return (self.settings.password, *tokens)

    def publish(self, payload: Payload) -> Receipt:
        channel = payload.channel
        if not payload.body or not isinstance(payload.body.get("text"), str):
            raise Permanent(
                _("{channel}: the job {job} has no post record — build again and check the draft").format(
                    channel=channel, job=payload.job_id
                )
            )
        key = record_key(payload.job_id)
        replies = payload.body.get(THREAD, [])
        root, found = self._post(
            channel, payload.job_id, key, payload.body["text"], lambda: self._with_blobs(payload, channel)
        )
        parent = root
        for number, reply in enumerate(replies, 2):
            # Each answer has a record key of its own: after a crash in the middle of a thread
            # the posts sent are found and the thread goes on from there.
            refs = {"root": _ref(root), "parent": _ref(parent)}
            parent, _found = self._post(
                channel,
                payload.job_id,
                record_key(f"{payload.job_id}#{number}"),
                reply["text"],
                lambda reply=reply, refs=refs: {**reply, "reply": refs},
            )
        return self._receipt(channel, root, key, note=_("already posted (found by its record key)") if found else None)

    def _post(self, channel: str, job: str, key: str, text: str, record) -> tuple[dict, bool]:
        """The post under ``key``: found (its text must be ``text``), or created from ``record()``;
        the server's answer (uri, cid) and whether it was found."""
        existing = self._xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            channel,
            _("looking for the post sent before"),
            params={"repo": self._signed_in(channel).did, "collection": COLLECTION, "rkey": key},
            missing_is_fine=True,
        )
        if existing is not None:
            found = existing.get("value") if isinstance(existing.get("value"), dict) else {}
            if found.get("text") != text:
                raise Permanent(
                    _(
                        "{channel}: the record key {key} of {job} holds another post — check the account "
                        "by hand before sending again"
                    ).format(channel=channel, key=key, job=job)
                )
            return existing, True
        created = {key: value for key, value in record().items() if key != THREAD}
        created["createdAt"] = self._clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        answer = self._xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            channel,
            _("posting"),
            json={"repo": self._signed_in(channel).did, "collection": COLLECTION, "rkey": key, "record": created},
        )
        return answer, False

    def _with_blobs(self, payload: Payload, channel: str) -> dict:
        """The record with each image the renderer marked for upload replaced by its blob
        (``com.atproto.repo.uploadBlob``: the bytes, their type; the answer's ``blob``)."""
        record = json.loads(json.dumps(payload.body))  # a copy: the payload stays as signed off
        for image in record.get("embed", {}).get("images", []):
            name = image.get("image", {}).get(UPLOAD) if isinstance(image.get("image"), dict) else None
            if name is None:
                continue
            data, mime = attachment(payload, name)
            uploaded = self._xrpc(
                "POST",
                "com.atproto.repo.uploadBlob",
                channel,
                _("uploading the image"),
                data=data,
                headers={"Content-Type": mime},
            )
            if not isinstance(uploaded.get("blob"), dict):
                raise Permanent(
                    _("{channel}: {where} answered the image upload without a blob").format(
                        channel=channel, where=origin(self.settings.service)
                    )
                )
            image["image"] = uploaded["blob"]
        return record

    def _receipt(self, channel: str, data: dict, key: str, note: str | None = None) -> Receipt:
        uri = data.get("uri") if isinstance(data.get("uri"), str) else ""
        uri = (
            one_line(uri, self.secrets, 300)
            if uri.startswith("at://")
            else f"at://{self._session.did}/{COLLECTION}/{key}"
        )
        url = f"https://bsky.app/profile/{self.settings.handle}/post/{key}"
        return Receipt(channel, uri, url=url, note=note)

    # --- XRPC ----------------------------------------------------------------------------------

    def _signed_in(self, channel: str) -> _Session:
        if self._session is None:
            data = self._call_checked(
                "POST",
                "com.atproto.server.createSession",
                channel,
                _("signing in"),
                json={"identifier": self.settings.handle, "password": self.settings.password},
            )
            self._session = _session_from(data, channel, self.settings.service)
        return self._session

    def _refreshed(self, channel: str) -> None:
        """A new access token from the refresh token; a refused refresh token signs in anew."""
        try:
            data = self._call_checked(
                "POST", "com.atproto.server.refreshSession", channel, _("renewing the session"), token="refresh"
            )
        except Permanent:
            self._session = None
            self._signed_in(channel)
            return
        self._session = _session_from(data, channel, self.settings.service)

    def _xrpc(
        self, method: str, nsid: str, channel: str, doing: str, *, missing_is_fine: bool = False, **kwargs
    ) -> dict | None:
        """One authenticated call; an expired access token is renewed once and the call repeated."""
        self._signed_in(channel)
        response = self._call(method, nsid, channel, token="access", **kwargs)
        if _error_code(response) in _EXPIRED:
            self._refreshed(channel)
            response = self._call(method, nsid, channel, token="access", **kwargs)
        if missing_is_fine and response.status_code == 400 and _error_code(response) == "RecordNotFound":
            return None
        self._check(response, channel, doing)
        return _json(response)

    def _call_checked(self, method: str, nsid: str, channel: str, doing: str, **kwargs) -> dict:
        response = self._call(method, nsid, channel, **kwargs)
        self._check(response, channel, doing)
        return _json(response)

    def _call(self, method: str, nsid: str, channel: str, *, token: str | None = None, **kwargs) -> requests.Response:
        auth = None
        if token and self._session is not None:
            auth = BearerAuth(self._session.access if token == "access" else self._session.refresh)
        return request(
            self._http,
            method,
            f"{self.settings.service}/xrpc/{nsid}",
            channel=channel,
            timeout=self.settings.timeout,
            auth=auth,
            hint=_("check COMMSFLOW_BLUESKY_SERVICE and the network"),
            **kwargs,
        )

    def _check(self, response: requests.Response, channel: str, doing: str) -> None:
        """``doing``: what was asked, as in „while {doing}“ (translated)."""
        status = response.status_code
        if 200 <= status < 300:
            return
        where = origin(self.settings.service)
        said = server_says(response, self.secrets)
        said = f": {said}" if said else ""
        code = _error_code(response)
        if status == 401 or code in ("AuthenticationRequired", "AccountTakedown", *_EXPIRED):
            raise Permanent(
                _("{channel}: {where} refused the sign-in while {doing} ({status}){said} — {hint}").format(
                    channel=channel, where=where, doing=doing, status=status, said=said, hint=_(PASSWORD_HINT)
                ),
                status=status,
            )
        if status == 429:
            raise try_later(response, channel, where, doing, said, wait=_rate_limit_reset(response))
        if status >= 500:
            raise try_later(response, channel, where, doing, said)
        raise Permanent(
            _("{channel}: {where} rejected the request while {doing} ({status}){said} — check the draft's text").format(
                channel=channel, where=where, doing=doing, status=status, said=said
            ),
            status=status,
        )


def _session_from(data: dict, channel: str, service: str) -> _Session:
    values = [data.get(key) for key in ("did", "accessJwt", "refreshJwt")]
    if not all(isinstance(value, str) and value for value in values):
        raise Permanent(
            _("{channel}: {where} answered the sign-in without a session — check COMMSFLOW_BLUESKY_SERVICE").format(
                channel=channel, where=origin(service)
            )
        )
    return _Session(*values)


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response: requests.Response) -> str | None:
    if response.status_code < 400:
        return None
    code = _json(response).get("error")
    return code if isinstance(code, str) else None


def _rate_limit_reset(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds until ``ratelimit-reset`` (Unix seconds), else ``Retry-After``."""
    reset = response.headers.get("ratelimit-reset", "").strip()
    if reset.isdigit():
        now = datetime.now(UTC).timestamp() if now is None else now
        return max(0.0, int(reset) - now)
    return retry_after(response.headers.get("Retry-After"))


def _ref(answer: dict) -> dict:
    """A strong reference to a post (com.atproto.repo.strongRef): its uri and cid."""
    return {"uri": answer.get("uri", ""), "cid": answer.get("cid", "")}

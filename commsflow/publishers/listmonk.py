"""listmonk: hands a newsletter issue to the team's listmonk server, which sends it to each subscriber.

Over listmonk's HTTP API (listmonk.app/docs/apis/campaigns): the issue becomes a campaign —
name, subject, the e-mail's HTML (``content_type: html``) and plain text (``altbody``), the
sender, ``[newsletter] listmonk_lists``, ``send_at``, in the template ``[newsletter]
listmonk_template`` — created with ``POST /api/campaigns`` or, when it is there already,
updated with ``PUT /api/campaigns/{id}``; a test goes to ``[newsletter] test_addresses``
(``POST /api/campaigns/{id}/test``), then ``PUT /api/campaigns/{id}/status`` schedules it. The
receipt is listmonk's campaign id. listmonk sends every reader their own copy: the footer's
``{{ UnsubscribeURL }}`` and ``{{ MessageURL }}`` (:mod:`commsflow.list_tools`) become that
reader's addresses, and listmonk adds ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` with
them (Settings → Privacy → "Include `List-Unsubscribe` header").

The campaign carries a tag made from the job id (:func:`campaign_tag`), also in its name, and
is looked up by it first (``GET /api/campaigns?query=…``): sending again after a crash updates
that campaign instead of making a second one, so the publisher de-duplicates. One that listmonk
is sending or has sent counts as sent; one a person paused or cancelled there is left to them.

listmonk takes a ``send_at`` only in the future, and the scheduler hands an issue over when it
is due: then it is scheduled :data:`LEAD` after the hand-over (the test arrives first).

Environment: ``COMMSFLOW_LISTMONK_URL`` (the server's address, e.g. https://listen.example.org),
``COMMSFLOW_LISTMONK_USER`` and ``COMMSFLOW_LISTMONK_TOKEN`` (an API user and its token,
listmonk: Admin → Users, allowed to manage campaigns; before listmonk 4 a user and password),
sent as HTTP Basic auth. Errors answer ``{"message": "…"}`` with 400 and the like.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formataddr
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from commsflow import dates, list_tools
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.publishers.base import Payload, Permanent, Receipt, Transient
from commsflow.publishers.http import (
    DEFAULT_TIMEOUT,
    http_url,
    new_session,
    origin,
    request,
    retry_after,
    server_says,
    token_from,
)

LEAD = timedelta(minutes=5)  # how far ahead a due issue is scheduled
UNSUBSCRIBE = list_tools.TOOLS["listmonk"].unsubscribe
SENT = ("running", "finished")  # listmonk is sending it or has sent it
STOPPED = ("paused", "cancelled")  # a person stopped it in listmonk
TOKEN_HINT = N_(
    "create an API user in listmonk (Admin → Users, type API) that may manage campaigns, and set "
    "COMMSFLOW_LISTMONK_USER to its name and COMMSFLOW_LISTMONK_TOKEN to its token"
)  # shown as _(TOKEN_HINT)


def campaign_tag(job_id: str) -> str:
    """The tag that finds the job's campaign again: the same job gives the same tag."""
    return "commsflow-" + hashlib.blake2b(job_id.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class ListmonkSettings:
    url: str  # without a trailing slash
    user: str
    token: str = field(repr=False)
    lists: tuple[int, ...] = ()
    template: int | None = None
    sender: str = ""  # From: "Name <address>"
    test_addresses: tuple[str, ...] = ()
    zone: object = UTC  # for the times messages show
    timeout: float = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        return origin(self.url)

    @classmethod
    def from_env(cls, config: Config, environ=os.environ) -> ListmonkSettings:
        tool = list_tools.chosen(config)
        if tool.name != "listmonk":
            raise CommsflowError(
                _(
                    "listmonk: [newsletter] list_tool is {tool!r}, so the issue's footer has no unsubscribe "
                    "link of listmonk's for each reader"
                ).format(tool=tool.name),
                _('set list_tool = "listmonk" under [newsletter] in commsflow.toml, or remove the line'),
            )
        letter = config.newsletter
        if not letter.listmonk_lists:
            raise CommsflowError(
                _("listmonk: no list to send newsletter issues to"),
                _("set [newsletter] listmonk_lists in commsflow.toml to the ids of the lists (listmonk: Lists)"),
            )
        if letter.listmonk_template is None:
            raise CommsflowError(
                _("listmonk: no campaign template for newsletter issues"),
                _(
                    "create a campaign template in listmonk (Campaigns → Templates) whose body is only "
                    "{content} and set [newsletter] listmonk_template in commsflow.toml to its id"
                ).format(content='{{ template "content" . }}'),
            )
        raw = environ.get("COMMSFLOW_LISTMONK_URL", "").strip()
        if not raw:
            raise CommsflowError(
                _("listmonk: no server address (COMMSFLOW_LISTMONK_URL is not set)"),
                _("set COMMSFLOW_LISTMONK_URL to the listmonk server's address, e.g. https://listen.example.org"),
            )
        url = http_url(raw, "COMMSFLOW_LISTMONK_URL")
        if "@" in urlsplit(url).netloc:
            raise CommsflowError(
                _("listmonk: COMMSFLOW_LISTMONK_URL has a user name or password in it"),
                _(
                    "set the address alone; the user goes in COMMSFLOW_LISTMONK_USER, the token in COMMSFLOW_LISTMONK_TOKEN"
                ),
            )
        user = environ.get("COMMSFLOW_LISTMONK_USER", "").strip()
        if not user or ":" in user or not user.isprintable():
            raise CommsflowError(
                _("listmonk: no API user (COMMSFLOW_LISTMONK_USER is not set or has a colon in it)")
                if not user or ":" in user
                else _("listmonk: COMMSFLOW_LISTMONK_USER has characters no user name has"),
                _(TOKEN_HINT),
            )
        token = token_from(environ, "COMMSFLOW_LISTMONK_TOKEN", "listmonk", _(TOKEN_HINT))
        return cls(
            url=url,
            user=user,
            token=token,
            lists=tuple(letter.listmonk_lists),
            template=letter.listmonk_template,
            sender=formataddr((letter.sender_name, letter.sender_address)),
            test_addresses=tuple(letter.test_addresses),
            zone=config.zone,
        )


class ListmonkPublisher:
    name = "listmonk"
    credentials = ("COMMSFLOW_LISTMONK_TOKEN",)  # the environment variables that expire (alerts tell before they do)
    deduplicates = True  # the campaign is found again by its tag and updated, never made twice

    def __init__(self, settings: ListmonkSettings, session: requests.Session | None = None, clock=None):
        self.settings = settings
        self._session = session or new_session()
        # Basic auth given with each request: no ~/.netrc entry replaces it, and it shows no secret in a repr.
        self._auth = HTTPBasicAuth(settings.user, settings.token)
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_env(cls, config: Config, environ=os.environ) -> ListmonkPublisher:
        return cls(ListmonkSettings.from_env(config, environ))

    def __repr__(self) -> str:
        return f"ListmonkPublisher({self.settings.user} at {self.settings.where})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message, receipt or ledger note may show, in any form."""
        return (self.settings.token, f"{self.settings.user}:{self.settings.token}")

    # --- publishing ------------------------------------------------------------------------------

    def publish(self, payload: Payload) -> Receipt:
        channel = payload.channel
        html, text = payload.files.get("email.html"), payload.files.get("email.txt")
        if html is None or text is None:
            raise Permanent(
                _(
                    "{channel}: {item} has no e-mail to send — build the issue "
                    "(commsflow newsletter build) before it is due"
                ).format(channel=channel, item=payload.item)
            )
        html = html.decode("utf-8") if isinstance(html, bytes) else html
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        if UNSUBSCRIBE not in html:
            raise Permanent(
                _(
                    "{channel}: the e-mail of {item} has no unsubscribe link for each reader ({tag}) — "
                    'set [newsletter] list_tool = "listmonk" or remove it, and build the issue again'
                ).format(channel=channel, item=payload.item, tag=UNSUBSCRIBE)
            )
        tag = campaign_tag(payload.job_id)
        send_at = self._send_at(payload.when)
        body = {
            "name": f"{payload.item} ({tag})",
            "subject": payload.title,
            "lists": list(self.settings.lists),
            "from_email": self.settings.sender,
            "type": "regular",
            "content_type": "html",
            "body": html,
            "altbody": text,
            "send_at": send_at.isoformat(timespec="seconds"),
            "messenger": "email",
            "template_id": self.settings.template,
            "tags": [tag],
        }
        found = self._find(channel, tag)
        local = send_at.astimezone(self.settings.zone)
        when = f"{dates.numeric_date(local)} {dates.clock_time(local)}"  # as messages show it
        if found is None:
            number = self._id(
                channel, self._call(channel, "POST", "/api/campaigns", _("creating the campaign"), json=body)
            )
        else:
            number, status = found["id"], found.get("status")
            if status in SENT:
                return Receipt(
                    channel,
                    str(number),
                    self._url(number),
                    note=_("already handed over: listmonk is sending campaign {id} or has sent it ({status})").format(
                        id=number, status=status
                    ),
                )
            if status in STOPPED:
                raise Permanent(
                    _(
                        "{channel}: campaign {id} of {item} is {status} in listmonk — someone stopped it there; "
                        "resume it in listmonk, or: commsflow dismiss"
                    ).format(channel=channel, id=number, item=payload.item, status=status),
                )
            self._call(
                channel, "PUT", f"/api/campaigns/{number}", _("updating campaign {id}").format(id=number), json=body
            )
            if status == "scheduled":
                return Receipt(
                    channel,
                    str(number),
                    self._url(number),
                    note=_("campaign {id} updated; listmonk had it scheduled already, now for {time}").format(
                        id=number, time=when
                    ),
                )
        tests = list(self.settings.test_addresses)
        if tests:
            self._call(
                channel,
                "POST",
                f"/api/campaigns/{number}/test",
                _("the test of campaign {id}").format(id=number),
                json={**body, "subscribers": tests},
            )
        self._call(
            channel,
            "PUT",
            f"/api/campaigns/{number}/status",
            _("scheduling campaign {id}").format(id=number),
            json={"status": "scheduled"},
        )
        note = (
            _("scheduled in listmonk for {time}; test sent to {addresses}").format(
                time=when, addresses=", ".join(tests)
            )
            if tests
            else _("scheduled in listmonk for {time}").format(time=when)
        )
        return Receipt(channel, str(number), self._url(number), note=note)

    def _send_at(self, planned: datetime | None) -> datetime:
        """The issue's send time, or :data:`LEAD` from now where that is sooner (listmonk takes only a
        time in the future)."""
        now = self._clock()
        soonest = now + LEAD
        return planned if planned is not None and planned >= soonest else soonest.astimezone(self.settings.zone)

    def _url(self, number) -> str:
        return f"{self.settings.url}/admin/campaigns/{number}"

    # --- the API ---------------------------------------------------------------------------------

    def _find(self, channel: str, tag: str) -> dict | None:
        """The campaign with ``tag`` (in its tags or its name), or None."""
        data = self._call(
            channel,
            "GET",
            "/api/campaigns",
            _("the search for the campaign"),
            params={"query": tag, "per_page": "all"},
        )
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise self._unexpected(channel, _("the search for the campaign"))
        found = [
            campaign
            for campaign in results
            if isinstance(campaign, dict)
            and isinstance(campaign.get("id"), int)
            and (tag in (campaign.get("tags") or []) or tag in str(campaign.get("name", "")))
        ]
        if len(found) > 1:
            raise Permanent(
                _(
                    "{channel}: listmonk has several campaigns tagged {tag} ({ids}) — "
                    "delete the copies or take the tag off them, then: commsflow retry"
                ).format(channel=channel, tag=tag, ids=", ".join(str(c["id"]) for c in found))
            )
        return found[0] if found else None

    def _id(self, channel: str, data) -> int:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise self._unexpected(channel, _("creating the campaign"))
        return data["id"]

    def _unexpected(self, channel: str, what: str) -> Permanent:
        return Permanent(
            _(
                "{channel} (listmonk): {where} answered {what} with something other than listmonk's JSON — "
                "is COMMSFLOW_LISTMONK_URL the listmonk server's address?"
            ).format(channel=channel, where=self.settings.where, what=what)
        )

    def _call(self, channel: str, method: str, path: str, what: str, **kwargs):
        """One API request; listmonk's ``data`` on success, else the error classified.
        ``what``: the step, as messages name it (translated)."""
        where = self.settings.where
        response = request(
            self._session,
            method,
            self.settings.url + path,
            channel=f"{channel} (listmonk)",
            timeout=self.settings.timeout,
            hint=_("check COMMSFLOW_LISTMONK_URL and that listmonk is up"),
            auth=self._auth,
            **kwargs,
        )
        status = response.status_code
        if 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if not isinstance(answer, dict) or "data" not in answer:
                raise self._unexpected(channel, what)
            return answer["data"]
        said = server_says(response, self.secrets)
        said = f": {said}" if said else ""
        if status == 429 or status >= 500:
            raise Transient(
                _(
                    "{channel} (listmonk): {where} answered {status} to {what}{said} — it will be tried again later"
                ).format(channel=channel, where=where, status=status, what=what, said=said),
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if 300 <= status < 400:
            raise Permanent(
                _(
                    "{channel} (listmonk): {where} answered {status} (a redirect) to {what} — "
                    "set COMMSFLOW_LISTMONK_URL to the final address"
                ).format(channel=channel, where=where, status=status, what=what),
                status=status,
            )
        if status in (401, 403):
            raise Permanent(
                _(
                    "{channel} (listmonk): {where} refused the credentials ({status}){said} — "
                    "check COMMSFLOW_LISTMONK_USER and COMMSFLOW_LISTMONK_TOKEN and that the API user "
                    "may manage campaigns"
                ).format(channel=channel, where=where, status=status, said=said),
                status=status,
            )
        raise Permanent(
            _(
                "{channel} (listmonk): {where} refused {what} ({status}){said} — "
                "fix what it names, then: commsflow retry"
            ).format(channel=channel, where=where, status=status, what=what, said=said),
            status=status,
        )

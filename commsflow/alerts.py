"""Alerts: when something needs a person, the team is told — once per event.

The scheduler finds the events (:class:`Event`); each has a key, recorded in the ledger's
``alerts`` table with every channel it goes to, so that it is told once however often the
scheduler looks:

* ``failed`` — a job failed for good: a permanent error, its retries used up, or a crash
  while it was being sent (``failed:JOB:SEQ``: a job a person retried that fails again is
  a new event);
* ``missed`` — a job was not sent within ``[publishing] grace`` (``missed:JOB:SEQ``);
* ``blocked`` — a job is still blocked ``[alerts] blocked_before`` before it is due: its item
  is not approved, an embargo holds it, its sign-off is missing or it was rejected
  (``blocked:JOB:CAUSE``);
* ``stale`` — the sign-off of a job due within that window went stale
  (``stale:JOB:SIGNED``: signed off again and stale again is a new event);
* ``waiting`` — a job due within that window whose channel cannot start for want of a
  credential or setting (``waiting:JOB``);
* ``credential`` — a credential in ``[credentials]`` expires within ``[alerts]
  credential_warning`` (``credential:VAR:DAY:soon``), or has expired (``…:expired``).

Channels: e-mail to ``[alerts] email`` through the SMTP server of the ``COMMSFLOW_SMTP_*``
variables (:mod:`commsflow.publishers.email`), and with ``[alerts] webhook = true`` a JSON
POST ``{"text": "…"}`` to ``COMMSFLOW_ALERT_WEBHOOK_URL``: the message shape of Slack and
Mattermost incoming webhooks, which Matrix hookshot's generic webhooks show as well. The
messages are in the language of the run (German by default), made when the event is recorded:
what happened, and the exact commands that resolve it.

Events of one kind that are due together go out as one message (after a downtime, five
missed jobs are one e-mail). A channel that is down does not stop the scheduler: the alert
stays in the ledger and is tried again after 1, 5, 15 and 60 minutes, then every 4 hours;
``commsflow status`` shows what was not delivered (:func:`status_lines`). Dry runs and
simulations never alert.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from commsflow import dates, i18n
from commsflow.actions import short_ref
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _, ngettext
from commsflow.ledger import Ledger, backoff

WEBHOOK_VARIABLE = "COMMSFLOW_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT = 10.0  # seconds: an alert must not hold the scheduler up for long

# The kinds of events, in the order a message lists them, with the word a subject uses
# (marked for the catalog: translated where a subject is made).
KINDS = {
    "failed": N_("Failed"),
    "missed": N_("Missed"),
    "blocked": N_("Blocked"),
    "stale": N_("Sign-off stale"),
    "waiting": N_("Channel not set up"),
    "credential": N_("Credentials expiring"),
}
_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@dataclass(frozen=True)
class Event:
    """Something a person must act on, as an alert tells it."""

    key: str  # what makes it one event: told once
    kind: str  # one of KINDS
    title: str  # what the subject names, e.g. „Titel“ (linkedin, Di 05.03.2024 10:00)
    headline: str  # what happened, in a sentence or two
    facts: tuple[tuple[str, str], ...] = ()  # label → value
    actions: tuple[tuple[str, str | None], ...] = ()  # what to do → the exact command (or None)
    job: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Event:
        data = json.loads(text)
        data["facts"] = tuple(tuple(pair) for pair in data.get("facts", ()))
        data["actions"] = tuple(tuple(pair) for pair in data.get("actions", ()))
        return cls(**data)


def channels(config: Config) -> list[str]:
    """The alert channels ``[alerts]`` switches on; none: alerts are off."""
    return (["email"] if config.alerts.email else []) + (["webhook"] if config.alerts.webhook else [])


# --- the events ----------------------------------------------------------------------------------


def _when(moment: datetime, config: Config) -> str:
    local = moment.astimezone(config.zone)
    weekday = _(_WEEKDAYS[local.weekday()])
    return f"{weekday} {dates.numeric_date(local)} {dates.hour_minute(local)}"


def duration(span: timedelta) -> str:
    """``24 Stunden``, ``7 Tage``, ``30 Minuten`` (``24 hours`` …): a span in words."""
    seconds = int(span.total_seconds())
    if seconds >= 86400 and seconds % 86400 == 0:
        count = seconds // 86400
        return ngettext("{count} day", "{count} days", count).format(count=count)
    if seconds >= 3600 and seconds % 3600 == 0:
        count = seconds // 3600
        return ngettext("{count} hour", "{count} hours", count).format(count=count)
    count = seconds // 60
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)


@dataclass(frozen=True)
class About:
    """What an alert says of a job's subject: the item's (or issue's) title and file."""

    title: str
    path: str | None = None


def _job_event(
    kind: str,
    key: str,
    job,
    about: About,
    config: Config,
    headline: str,
    reason: str,
    actions: tuple[tuple[str, str | None], ...],
) -> Event:
    if job.template in (job.channel, "-"):
        channel = job.channel
    else:
        channel = _("{channel}, template {template}").format(channel=job.channel, template=job.template)
    what = _('"{title}"').format(title=about.title) + (f" ({job.item})" if about.title != job.item else "")
    facts = (
        (_("What"), what),
        (_("Channel"), channel),
        (_("Due"), _when(job.planned, config)),
        (_("Reason"), reason),
        (_("Job"), f"{short_ref(job.id)} ({job.id})"),
    )
    title = _('"{title}" ({channel}, {when})').format(
        title=about.title, channel=job.channel, when=_when(job.planned, config)
    )
    return Event(key, kind, title, headline, facts, actions, job.id)


def _settle(job) -> tuple[tuple[str, str | None], ...]:
    ref = short_ref(job.id)
    return (
        (_("If it was published by hand, record that:"), f"commsflow posted {ref} --url URL"),
        (_("If it should no longer appear:"), f"commsflow dismiss {ref} --reason TEXT"),
    )


def failed(job, about: About, reason: str, seq: int, config: Config) -> Event:
    """A job failed for good (``reason``: what the ledger says, scrubbed)."""
    from commsflow.scheduler import was_interrupted  # the scheduler imports this module

    if was_interrupted(reason):
        headline = _(
            "Sending was interrupted (the scheduler was stopped or crashed). Whether the job went out "
            "is unclear; it will not be sent again automatically."
        )
        actions = (
            (
                _("Check on {channel} whether it appeared. If so, record that:").format(channel=job.channel),
                f"commsflow posted {short_ref(job.id)} --url URL",
            ),
            (_("If not, send it again:"), f"commsflow retry {short_ref(job.id)}"),
        )
    else:
        headline = _("A job failed and will not be retried automatically.")
        actions = (
            (_("Fix the cause (see reason), then send it again:"), f"commsflow retry {short_ref(job.id)}"),
        ) + _settle(job)
    return _job_event("failed", f"failed:{job.id}:{seq}", job, about, config, headline, reason, actions)


def missed(job, about: About, reason: str, seq: int, config: Config) -> Event:
    headline = _(
        "A job was missed: it was due but was not sent within {grace} (usually the scheduler was not "
        "running at the time). It will no longer be sent automatically."
    ).format(grace=duration(config.publishing.grace))
    actions = ((_("Send it now after all:"), f"commsflow retry {short_ref(job.id)}"),) + _settle(job)
    return _job_event("missed", f"missed:{job.id}:{seq}", job, about, config, headline, reason, actions)


def _reviewers(config: Config, channel: str) -> str | None:
    names = [
        person.name
        for person in config.people
        if "reviewer" in person.roles and (not person.channels or channel in person.channels)
    ]
    return ", ".join(names) or None


def _sign_off(job, config: Config) -> tuple[str, str | None]:
    who = _reviewers(config, job.channel)
    what = _("Sign off (NAME: {reviewers}):").format(reviewers=who) if who else _("Sign off:")
    return (what, f"commsflow approve {job.item} --by NAME")


def ahead(
    job, about: About, config: Config, *, signed: datetime | None = None, missing: CommsflowError | None = None
) -> list[Event]:
    """The events of a job due soon (or due, within the grace window) that cannot go out as
    things stand: blocked (not approved, embargo, sign-off missing or rejected), its sign-off
    stale (``signed``: when the sign-off it no longer matches was made), or its channel not set
    up (``missing``: why its publisher cannot start)."""
    when = _when(job.planned, config)
    events = []

    def event(kind, key, headline, reason, actions):
        events.append(_job_event(kind, key, job, about, config, headline, reason, actions))

    dismiss = (_("If it should not appear:"), f"commsflow dismiss {short_ref(job.id)} --reason TEXT")
    signed_at = signed.isoformat() if signed else "-"
    if not job.approved:
        if job.channel == "newsletter":
            review = _("The issue's items that are not approved yet are shown by:")
        elif about.path:
            review = _(
                "Review the item and set 'status: approved' in {path}; what is still missing is shown by:"
            ).format(path=about.path)
        else:
            review = _("Review the item and set 'status: approved'; what is still missing is shown by:")
        first = (review, "commsflow review")
        steps = (first, _sign_off(job, config)) if config.publishing.require_signoff else (first,)
        event(
            "blocked",
            f"blocked:{job.id}:approval",
            _("A job is due on {when} but cannot be sent: the item is not approved yet.").format(when=when),
            _("item not approved"),
            (*steps, dismiss),
        )
    elif job.embargo:
        event(
            "blocked",
            f"blocked:{job.id}:embargo",
            _("A job is due on {when} but cannot be sent: it is before an embargo.").format(when=when),
            job.embargo,
            (
                (
                    _("Move the date in {source} past the end of the embargo; the place is shown by:").format(
                        source=job.source
                    ),
                    "commsflow check",
                ),
                dismiss,
            ),
        )
    if job.approved and job.signoff:
        # By the state, not the wording: the reason is in the language of the run.
        if job.signoff_state == "stale":
            event(
                "stale",
                f"stale:{job.id}:{signed_at}",
                _(
                    "The sign-off of a job due on {when} is stale: the text has changed since. It will only be "
                    "sent once it is signed off again."
                ).format(when=when),
                job.signoff,
                ((_("See the changes:"), f"commsflow review {job.item}"), _sign_off(job, config), dismiss),
            )
        elif job.signoff_state == "rejected":
            event(
                "blocked",
                f"blocked:{job.id}:rejected:{signed_at}",
                _("A job is due on {when} but cannot be sent: the item was rejected in review.").format(when=when),
                job.signoff,
                ((_("Revise the item (see reason), then:"), "commsflow review"), _sign_off(job, config), dismiss),
            )
        else:
            event(
                "blocked",
                f"blocked:{job.id}:signoff",
                _("A job is due on {when} but cannot be sent: it is not signed off yet.").format(when=when),
                job.signoff,
                ((_("Check the text:"), f"commsflow review {job.item}"), _sign_off(job, config), dismiss),
            )
    if missing is not None:
        reason = f"{missing.message} — {missing.hint}" if missing.hint else missing.message
        event(
            "waiting",
            f"waiting:{job.id}",
            _(
                "A job is due on {when}, but the channel {channel} is not set up: a credential or a setting is missing."
            ).format(when=when, channel=job.channel),
            reason,
            (
                (
                    _(
                        "Set the missing setting (see reason) where the scheduler runs and restart it; "
                        "afterwards the state is shown by:"
                    ),
                    "commsflow status",
                ),
                dismiss,
            ),
        )
    return events


def credentials(config: Config, now: datetime) -> list[Event]:
    """Credentials of ``[credentials]`` that expire within ``[alerts] credential_warning`` or have expired."""
    today = now.astimezone(config.zone).date()
    events = []
    for variable, day in sorted(config.credentials.items()):
        expired = today >= day
        if not expired and today < day - config.alerts.credential_warning:
            continue
        uses = _channels_using(config, variable)
        listed = ", ".join(uses)
        on = dates.weekday_date(day, locale=i18n.language())
        if expired and uses:
            headline = _(
                "The credentials in {variable} expired on {date}: jobs on {channels} fail until they are renewed."
            ).format(variable=variable, date=on, channels=listed)
        elif expired:
            headline = _("The credentials in {variable} expired on {date}: jobs fail until they are renewed.").format(
                variable=variable, date=on
            )
        elif uses:
            left = (day - today).days
            headline = ngettext(
                "The credentials in {variable} expire on {date} (in {count} day). After that, jobs on {channels} fail.",
                "The credentials in {variable} expire on {date} (in {count} days). After that, jobs on {channels} "
                "fail.",
                left,
            ).format(variable=variable, date=on, count=left, channels=listed)
        else:
            left = (day - today).days
            headline = ngettext(
                "The credentials in {variable} expire on {date} (in {count} day). After that, jobs fail.",
                "The credentials in {variable} expire on {date} (in {count} days). After that, jobs fail.",
                left,
            ).format(variable=variable, date=on, count=left)
        actions: list[tuple[str, str | None]] = [
            (
                _("Create new credentials, set them in {variable} where the scheduler runs, and restart it.").format(
                    variable=variable
                ),
                None,
            ),
            (
                _("Enter the new expiry date in commsflow.toml under [credentials]:"),
                _("{variable} = YYYY-MM-DD").format(variable=variable),
            ),
        ]
        actions += [
            (
                _("Then send again what has failed on {channel} in the meantime:").format(channel=channel),
                f"commsflow retry --channel {channel} --failed",
            )
            for channel in (uses if expired else ())
        ]
        if expired:
            title = _("{variable} (expired)").format(variable=variable)
        else:
            title = _("{variable} (until {date})").format(variable=variable, date=dates.numeric_date(day))
        events.append(
            Event(
                f"credential:{variable}:{day.isoformat()}:{'expired' if expired else 'soon'}",
                "credential",
                title,
                headline,
                ((_("Variable"), variable), (_("Valid until"), dates.numeric_date(day))),
                tuple(actions),
            )
        )
    return events


def _channels_using(config: Config, variable: str) -> list[str]:
    from commsflow import channels as registry
    from commsflow.publishers.registry import publisher_of_credential

    # A credential's expiry concerns the channels that use the publisher reading it.
    publisher = publisher_of_credential(variable)
    return [
        name
        for name, channel in registry.registry().items()
        if channel.scheduled and publisher and config.publishing.publisher(name) == publisher
    ]


# --- the messages --------------------------------------------------------------------------------


def compose(config: Config, events: list[Event], *, markup: bool = False) -> tuple[str, str]:
    """Subject and text of one message telling ``events`` (all of one kind). ``markup``: the text
    for a chat, which starts with the subject and reads as Markdown and as Slack's mrkdwn alike
    (lists, commands as `code`, nothing indented)."""
    kind = events[0].kind
    prefix = f"[commsflow · {config.organisation.short_name}]"
    if len(events) == 1:
        subject = f"{prefix} {_(KINDS[kind])}: {events[0].title}"
    else:
        others = len(events) - 1
        subject = f"{prefix} " + ngettext(
            "{count} × {kind}: {title} and {others} other", "{count} × {kind}: {title} and {others} others", others
        ).format(count=len(events), kind=_(KINDS[kind]), title=events[0].title, others=others)
    if len(subject) > 200:
        subject = subject[:199].rstrip(" ,") + "…"
    folder = config.root.resolve()
    lines: list[str] = [subject, ""] if markup else []
    for number, event in enumerate(events, 1):
        lines.append(f"{number}. {event.headline}" if len(events) > 1 else event.headline)
        if markup:
            lines += [f"- {label}: {value}" for label, value in event.facts]
            if event.actions:
                lines += ["", _("What to do next:")]
                lines += [f"- {what}" + (f" `{command}`" if command else "") for what, command in event.actions]
        else:
            lines.append("")
            width = max((len(label) for label, _value in event.facts), default=0) + 1
            lines += [f"   {label + ':':<{width}} {value}" for label, value in event.facts]
            if event.actions:
                lines += ["", "   " + _("What to do next:")]
                for what, command in event.actions:
                    lines.append(f"   – {what}")
                    if command:
                        lines.append(f"       {command}")
        lines.append("")
    if markup:
        lines.append(
            _(
                "Run the commands in the project folder {folder}; what needs someone right now is shown by "
                "`commsflow status`."
            ).format(folder=folder)
        )
    else:
        lines.append(_("Run the commands in the project folder: {folder}").format(folder=folder))
        lines.append(_("Everything that needs someone right now is shown by: commsflow status"))
        lines += ["", "-- ", _("The commsflow scheduler sends this message once per event.")]
    return subject, "\n".join(lines) + "\n"


def _email(config: Config, recipients: list[str], subject: str, text: str, now: datetime):
    from email.message import EmailMessage
    from email.utils import format_datetime, formataddr, make_msgid

    message = EmailMessage()
    message["From"] = formataddr((f"commsflow ({config.organisation.short_name})", config.newsletter.sender_address))
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("commsflow-alert", domain=config.newsletter.sender_address.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    message.set_content(text)
    return message


class NotSent(Exception):
    """An alert channel did not take the message (already scrubbed)."""


# --- the scheduler's side ------------------------------------------------------------------------


class Alerter:
    """Records events in the ledger (once each) and delivers what is due on each channel."""

    def __init__(self, config: Config, ledger: Ledger, environ=None):
        self.config = config
        self.ledger = ledger
        self.environ = environ if environ is not None else os.environ
        self.channels = channels(config)
        self._session = None

    def record(self, events: list[Event], now: datetime) -> None:
        for event in events:
            if not self.ledger.alert_known(event.key):
                self.ledger.add_alert(event.key, event.kind, event.job, event.to_json(), self.channels, now)

    def deliver(self, now: datetime) -> list[tuple[str, str, bool, str]]:
        """Send every alert whose time has come; (channel, kind, sent, what happened) for each message.
        A channel that fails is not tried again in this pass: its other alerts wait with it."""
        groups: dict[tuple[str, str], list[dict]] = {}
        for row in self.ledger.alerts_due(now):
            if row["channel"] in self.channels:
                groups.setdefault((row["channel"], row["kind"]), []).append(row)
        order = list(KINDS)
        done = []
        down: dict[str, tuple[str, datetime]] = {}
        for (channel, kind), rows in sorted(groups.items(), key=lambda pair: (pair[0][0], order.index(pair[0][1]))):
            keys = [row["key"] for row in rows]
            if channel in down:
                error, next_at = down[channel]
                self.ledger.alert_failed(keys, channel, error, next_at, attempted=False)
                continue
            events = [Event.from_json(row["event"]) for row in rows]
            try:
                said = self._send(channel, events, now)
            except NotSent as exc:
                error = str(exc)
                next_at = now + backoff(max(row["attempts"] for row in rows) + 1, None)
                self.ledger.alert_failed(keys, channel, error, next_at)
                down[channel] = (error, next_at)
                at = next_at.astimezone(self.config.zone)
                done.append(
                    (channel, kind, False, _("{error}; tried again at {time}").format(error=error, time=f"{at:%H:%M}"))
                )
            else:
                self.ledger.alert_sent(keys, channel, now)
                done.append((channel, kind, True, said))
        return done

    def _send(self, channel: str, events: list[Event], now: datetime) -> str:
        """Send one message; what happened, or :class:`NotSent` with why (every secret scrubbed)."""
        from commsflow.publishers.secrets import scrub

        secrets: tuple[str, ...] = ()
        try:
            if channel == "email":
                from commsflow.publishers import email as smtp

                settings = smtp.SmtpSettings.from_env(self.environ)
                secrets = settings.secrets
                recipients = list(self.config.alerts.email)
                subject, text = compose(self.config, events)
                try:
                    smtp.send(_email(self.config, recipients, subject, text, now), recipients, settings)
                except smtp.SmtpError as exc:
                    if not exc.delivered:  # None (it may have gone out) is tried again: a duplicate alert at worst
                        raise
                return _("sent to {recipients}: {subject}").format(recipients=", ".join(recipients), subject=subject)
            from commsflow.publishers.webhook import _url_secrets

            url = self._webhook_url()
            secrets = tuple(_url_secrets(url))
            subject, text = compose(self.config, events, markup=True)
            return _("posted to {where}: {subject}").format(where=self._post(url, secrets, text), subject=subject)
        except CommsflowError as exc:
            raise NotSent(scrub(f"{channel}: {exc}", secrets)) from None

    def _webhook_url(self) -> str:
        from commsflow.publishers.http import http_url

        url = self.environ.get(WEBHOOK_VARIABLE, "").strip()
        if not url:
            raise CommsflowError(
                _("{variable} is not set").format(variable=WEBHOOK_VARIABLE),
                _("set it to the team chat's incoming-webhook address, or set [alerts] webhook = false"),
            )
        return http_url(url, WEBHOOK_VARIABLE)

    def _post(self, url: str, secrets: tuple[str, ...], text: str) -> str:
        """POST ``{"text": text}`` to ``url``; where it went (scheme and host only)."""
        from commsflow.publishers.base import PublishError
        from commsflow.publishers.http import new_session, origin, request, server_says

        where = origin(url)
        hint = _("check {variable} and that the chat is up").format(variable=WEBHOOK_VARIABLE)
        if self._session is None:
            self._session = new_session()
        try:
            response = request(
                self._session,
                "POST",
                url,
                channel="alert",
                timeout=WEBHOOK_TIMEOUT,
                hint=hint,
                data=json.dumps({"text": text}, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except PublishError as exc:
            raise CommsflowError(exc.reason) from None
        if not 200 <= response.status_code < 300:
            said = server_says(response, secrets, limit=120)
            raise CommsflowError(
                _("{where} answered {status}{said}").format(
                    where=where, status=response.status_code, said=f": {said}" if said else ""
                ),
                hint,
            )
        return where


# --- commsflow status ----------------------------------------------------------------------------


def status_lines(config: Config, now: datetime) -> list[str]:
    """What ``commsflow status`` shows of alerts, as rich markup: credentials of
    ``[credentials]`` that expire within ``[alerts] credential_warning`` or have expired, and
    alerts not delivered yet, per channel with the last error and the next attempt."""
    from rich.markup import escape

    from commsflow.ledger import ledger_path

    found: list[tuple[str, str]] = []  # (colour, text)
    today = now.astimezone(config.zone).date()
    for variable, day in sorted(config.credentials.items(), key=lambda pair: (pair[1], pair[0])):
        fix = _(
            "renew it, set {variable} where the scheduler runs and restart it, then put the new expiry day "
            "under [credentials] in commsflow.toml"
        ).format(variable=variable)
        if today >= day:
            found.append(
                (
                    "red",
                    _("credential {variable} expired on {date} — {fix}").format(
                        variable=variable, date=dates.numeric_date(day), fix=fix
                    ),
                )
            )
        elif today >= day - config.alerts.credential_warning:
            left = (day - today).days
            found.append(
                (
                    "yellow",
                    ngettext(
                        "credential {variable} expires on {date} (in {count} day) — {fix}",
                        "credential {variable} expires on {date} (in {count} days) — {fix}",
                        left,
                    ).format(variable=variable, date=dates.numeric_date(day), count=left, fix=fix),
                )
            )
    switched_on = channels(config)
    undelivered: dict[str, list[dict]] = {}
    for row in Ledger.undelivered_alerts(ledger_path(config)):
        if row["channel"] in switched_on:
            undelivered.setdefault(row["channel"], []).append(row)
    for channel, rows in sorted(undelivered.items()):
        last = max(rows, key=lambda row: (row["attempts"], row["next_at"] or ""))
        count = len({row["key"] for row in rows})
        upcoming = (
            _("; next attempt {moment}").format(moment=_moment(last["next_at"], config)) if last["next_at"] else ""
        )
        setting = "COMMSFLOW_SMTP_*" if channel == "email" else WEBHOOK_VARIABLE
        if last["error"]:
            text = ngettext(
                "{count} alert not delivered by {channel}: {error}{upcoming} — the scheduler keeps trying; "
                "fix the channel ([alerts] in commsflow.toml, {setting})",
                "{count} alerts not delivered by {channel}: {error}{upcoming} — the scheduler keeps trying; "
                "fix the channel ([alerts] in commsflow.toml, {setting})",
                count,
            ).format(count=count, channel=channel, error=last["error"], upcoming=upcoming, setting=setting)
        else:
            text = ngettext(
                "{count} alert not delivered by {channel} yet{upcoming} — the scheduler keeps trying; "
                "fix the channel ([alerts] in commsflow.toml, {setting})",
                "{count} alerts not delivered by {channel} yet{upcoming} — the scheduler keeps trying; "
                "fix the channel ([alerts] in commsflow.toml, {setting})",
                count,
            ).format(count=count, channel=channel, upcoming=upcoming, setting=setting)
        found.append(("yellow", text))
    if not found:
        return []
    return ["[bold]" + _("Alerts and credentials") + "[/]"] + [
        f"  [{colour}]![/] {escape(text)}" for colour, text in found
    ]


def _moment(text: str, config: Config) -> str:
    moment = datetime.fromisoformat(text).astimezone(config.zone)
    return f"{dates.numeric_date(moment)} {dates.hour_minute(moment)}"

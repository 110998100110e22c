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
messages are German: what happened, and the exact commands that resolve it.

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

from commsflow import dates
from commsflow.actions import short_ref
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.ledger import Ledger, backoff

WEBHOOK_VARIABLE = "COMMSFLOW_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT = 10.0  # seconds: an alert must not hold the scheduler up for long

# The kinds of events, in the order a message lists them, with the word a subject uses.
KINDS = {
    "failed": "Fehlgeschlagen",
    "missed": "Verpasst",
    "blocked": "Blockiert",
    "stale": "Abzeichnung veraltet",
    "waiting": "Kanal nicht eingerichtet",
    "credential": "Zugangsdaten laufen ab",
}

# Which publisher reads a credential: its expiry concerns the channels that use that publisher.
_PUBLISHER_OF = {
    "COMMSFLOW_LINKEDIN_TOKEN": "linkedin",
    "COMMSFLOW_MASTODON_TOKEN": "mastodon",
    "COMMSFLOW_WEBHOOK_URL": "webhook",
    "COMMSFLOW_SMTP_PASSWORD": "email",
}


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
    weekday = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")[local.weekday()]
    return f"{weekday} {dates.numeric_date(local)} {dates.hour_minute(local)}"


def duration(span: timedelta) -> str:
    """``24 Stunden``, ``7 Tage``, ``30 Minuten``: a span as a German phrase."""
    seconds = int(span.total_seconds())
    for size, one, many in ((86400, "Tag", "Tage"), (3600, "Stunde", "Stunden"), (60, "Minute", "Minuten")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    return f"{seconds // 60} Minuten"


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
    channel = job.channel if job.template in (job.channel, "-") else f"{job.channel}, Vorlage {job.template}"
    what = f"„{about.title}“" + (f" ({job.item})" if about.title != job.item else "")
    facts = (
        ("Was", what),
        ("Kanal", channel),
        ("Fällig", _when(job.planned, config)),
        ("Grund", reason),
        ("Job", f"{short_ref(job.id)} ({job.id})"),
    )
    title = f"„{about.title}“ ({job.channel}, {_when(job.planned, config)})"
    return Event(key, kind, title, headline, facts, actions, job.id)


def _settle(job) -> tuple[tuple[str, str | None], ...]:
    ref = short_ref(job.id)
    return (
        ("Wurde sie von Hand veröffentlicht, das festhalten:", f"commsflow posted {ref} --url URL"),
        ("Soll sie nicht mehr erscheinen:", f"commsflow dismiss {ref} --reason TEXT"),
    )


def failed(job, about: About, reason: str, seq: int, config: Config) -> Event:
    """A job failed for good (``reason``: what the ledger says, scrubbed)."""
    from commsflow.scheduler import was_interrupted  # the scheduler imports this module

    if was_interrupted(reason):
        headline = (
            "Das Senden wurde unterbrochen (der Scheduler wurde beendet oder ist abgestürzt). Ob die "
            "Veröffentlichung erschienen ist, ist unklar; sie wird nicht automatisch noch einmal gesendet."
        )
        actions = (
            (
                f"Auf {job.channel} nachsehen, ob sie erschienen ist. Wenn ja, das festhalten:",
                f"commsflow posted {short_ref(job.id)} --url URL",
            ),
            ("Wenn nein, erneut senden:", f"commsflow retry {short_ref(job.id)}"),
        )
    else:
        headline = "Eine Veröffentlichung ist fehlgeschlagen und wird nicht automatisch wiederholt."
        actions = (
            ("Die Ursache beheben (siehe Grund), dann erneut senden:", f"commsflow retry {short_ref(job.id)}"),
        ) + _settle(job)
    return _job_event("failed", f"failed:{job.id}:{seq}", job, about, config, headline, reason, actions)


def missed(job, about: About, reason: str, seq: int, config: Config) -> Event:
    headline = (
        "Eine Veröffentlichung wurde verpasst: Sie war fällig, wurde aber nicht innerhalb von "
        f"{duration(config.publishing.grace)} gesendet (meist lief der Scheduler in der Zeit nicht). "
        "Sie wird nicht mehr automatisch gesendet."
    )
    actions = (("Jetzt noch senden:", f"commsflow retry {short_ref(job.id)}"),) + _settle(job)
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
    suffix = f" (NAME: {who})" if who else ""
    return (f"Abzeichnen{suffix}:", f"commsflow approve {job.item} --by NAME")


def ahead(
    job, about: About, config: Config, *, signed: datetime | None = None, missing: CommsflowError | None = None
) -> list[Event]:
    """The events of a job due soon (or due, within the grace window) that cannot go out as
    things stand: blocked (not approved, embargo, sign-off missing or rejected), its sign-off
    stale (``signed``: when the sign-off it no longer matches was made), or its channel not set
    up (``missing``: why its publisher cannot start)."""
    soon = f"Eine Veröffentlichung ist fällig am {_when(job.planned, config)}, kann aber nicht gesendet werden"
    events = []

    def event(kind, key, headline, reason, actions):
        events.append(_job_event(kind, key, job, about, config, headline, reason, actions))

    dismiss = ("Soll sie nicht erscheinen:", f"commsflow dismiss {short_ref(job.id)} --reason TEXT")
    signed_at = signed.isoformat() if signed else "-"
    where = f"in {about.path} " if about.path else ""
    if not job.approved:
        if job.channel == "newsletter":
            first = ("Die Inhalte der Ausgabe, die noch nicht freigegeben sind, zeigt:", "commsflow review")
        else:
            first = (
                f"Den Inhalt prüfen und {where}„status: approved“ setzen; was noch fehlt, zeigt:",
                "commsflow review",
            )
        steps = (first, _sign_off(job, config)) if config.publishing.require_signoff else (first,)
        event(
            "blocked",
            f"blocked:{job.id}:approval",
            f"{soon}: Der Inhalt ist noch nicht freigegeben.",
            "item not approved",
            (*steps, dismiss),
        )
    elif job.embargo:
        event(
            "blocked",
            f"blocked:{job.id}:embargo",
            f"{soon}: Sie liegt vor einer Sperrfrist.",
            job.embargo,
            (
                (
                    f"Den Termin in {job.source} hinter das Ende der Sperrfrist legen; die Stelle zeigt:",
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
                f"Die Abzeichnung einer Veröffentlichung, die am {_when(job.planned, config)} fällig ist, ist "
                "veraltet: Der Text hat sich seitdem geändert. Sie wird erst gesendet, wenn sie wieder "
                "abgezeichnet ist.",
                job.signoff,
                (("Die Änderungen ansehen:", f"commsflow review {job.item}"), _sign_off(job, config), dismiss),
            )
        elif job.signoff_state == "rejected":
            event(
                "blocked",
                f"blocked:{job.id}:rejected:{signed_at}",
                f"{soon}: Der Inhalt wurde bei der Prüfung abgelehnt.",
                job.signoff,
                (("Den Inhalt überarbeiten (siehe Grund), dann:", "commsflow review"), _sign_off(job, config), dismiss),
            )
        else:
            event(
                "blocked",
                f"blocked:{job.id}:signoff",
                f"{soon}: Sie ist noch nicht abgezeichnet.",
                job.signoff,
                (("Den Text prüfen:", f"commsflow review {job.item}"), _sign_off(job, config), dismiss),
            )
    if missing is not None:
        reason = f"{missing.message} — {missing.hint}" if missing.hint else missing.message
        event(
            "waiting",
            f"waiting:{job.id}",
            f"Eine Veröffentlichung ist fällig am {_when(job.planned, config)}, aber der Kanal {job.channel} "
            "ist nicht eingerichtet: Es fehlen Zugangsdaten oder eine Einstellung.",
            reason,
            (
                (
                    "Die fehlende Einstellung (siehe Grund) dort setzen, wo der Scheduler läuft, und ihn neu "
                    "starten; den Stand zeigt danach:",
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
        of = f" über {', '.join(uses)}" if uses else ""
        if expired:
            headline = (
                f"Die Zugangsdaten in {variable} sind seit {dates.weekday_date(day)} abgelaufen: "
                f"Veröffentlichungen{of} schlagen fehl, bis sie erneuert sind."
            )
        else:
            left = (day - today).days
            headline = (
                f"Die Zugangsdaten in {variable} laufen am {dates.weekday_date(day)} ab "
                f"(in {left} {'Tag' if left == 1 else 'Tagen'}). Danach schlagen Veröffentlichungen{of} fehl."
            )
        actions: list[tuple[str, str | None]] = [
            (f"Neue Zugangsdaten erstellen, in {variable} setzen, wo der Scheduler läuft, und ihn neu starten.", None),
            ("Das neue Ablaufdatum in commsflow.toml unter [credentials] eintragen:", f"{variable} = JJJJ-MM-TT"),
        ]
        actions += [
            (
                f"Danach erneut senden, was auf {channel} inzwischen fehlgeschlagen ist:",
                f"commsflow retry --channel {channel} --failed",
            )
            for channel in (uses if expired else ())
        ]
        when = "abgelaufen" if expired else f"bis {dates.numeric_date(day)}"
        events.append(
            Event(
                f"credential:{variable}:{day.isoformat()}:{'expired' if expired else 'soon'}",
                "credential",
                f"{variable} ({when})",
                headline,
                (("Variable", variable), ("Gültig bis", dates.numeric_date(day))),
                tuple(actions),
            )
        )
    return events


def _channels_using(config: Config, variable: str) -> list[str]:
    from commsflow import channels as registry

    publisher = _PUBLISHER_OF.get(variable)
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
        subject = f"{prefix} {KINDS[kind]}: {events[0].title}"
    else:
        subject = f"{prefix} {len(events)} × {KINDS[kind]}: {events[0].title} und {len(events) - 1} weitere"
    if len(subject) > 200:
        subject = subject[:199].rstrip(" ,") + "…"
    folder = config.root.resolve()
    lines: list[str] = [subject, ""] if markup else []
    for number, event in enumerate(events, 1):
        lines.append(f"{number}. {event.headline}" if len(events) > 1 else event.headline)
        if markup:
            lines += [f"- {label}: {value}" for label, value in event.facts]
            if event.actions:
                lines += ["", "So geht es weiter:"]
                lines += [f"- {what}" + (f" `{command}`" if command else "") for what, command in event.actions]
        else:
            lines.append("")
            width = max((len(label) for label, _ in event.facts), default=0) + 1
            lines += [f"   {label + ':':<{width}} {value}" for label, value in event.facts]
            if event.actions:
                lines += ["", "   So geht es weiter:"]
                for what, command in event.actions:
                    lines.append(f"   – {what}")
                    if command:
                        lines.append(f"       {command}")
        lines.append("")
    if markup:
        lines.append(
            f"Die Befehle im Projektordner {folder} ausführen; was gerade jemanden braucht, zeigt `commsflow status`."
        )
    else:
        lines.append(f"Die Befehle im Projektordner ausführen: {folder}")
        lines.append("Alles, was gerade jemanden braucht, zeigt: commsflow status")
        lines += ["", "-- ", "Diese Nachricht schickt der commsflow-Scheduler einmal je Ereignis."]
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
                done.append((channel, kind, False, f"{error}; tried again at {at:%H:%M}"))
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
                return f"sent to {', '.join(recipients)}: {subject}"
            from commsflow.publishers.webhook import _url_secrets

            url = self._webhook_url()
            secrets = tuple(_url_secrets(url))
            subject, text = compose(self.config, events, markup=True)
            return f"posted to {self._post(url, secrets, text)}: {subject}"
        except CommsflowError as exc:
            raise NotSent(scrub(f"{channel}: {exc}", secrets)) from None

    def _webhook_url(self) -> str:
        from commsflow.publishers.http import http_url

        url = self.environ.get(WEBHOOK_VARIABLE, "").strip()
        if not url:
            raise CommsflowError(
                f"{WEBHOOK_VARIABLE} is not set",
                "set it to the team chat's incoming-webhook address, or set [alerts] webhook = false",
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
            raise CommsflowError(f"{where} answered {response.status_code}{': ' + said if said else ''}", hint)
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
        fix = (
            f"renew it, set {variable} where the scheduler runs and restart it, then put the new expiry day "
            "under [credentials] in commsflow.toml"
        )
        if today >= day:
            found.append(("red", f"credential {variable} expired on {dates.numeric_date(day)} — {fix}"))
        elif today >= day - config.alerts.credential_warning:
            left = (day - today).days
            found.append(
                (
                    "yellow",
                    f"credential {variable} expires on {dates.numeric_date(day)} "
                    f"(in {left} day{'s' if left != 1 else ''}) — {fix}",
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
        why = f": {last['error']}" if last["error"] else " yet"
        upcoming = f"; next attempt {_moment(last['next_at'], config)}" if last["next_at"] else ""
        setting = "COMMSFLOW_SMTP_*" if channel == "email" else WEBHOOK_VARIABLE
        found.append(
            (
                "yellow",
                f"{count} alert{'s' if count != 1 else ''} not delivered by {channel}{why}{upcoming} — the "
                f"scheduler keeps trying; fix the channel ([alerts] in commsflow.toml, {setting})",
            )
        )
    if not found:
        return []
    return ["[bold]Alerts and credentials[/]"] + [f"  [{colour}]![/] {escape(text)}" for colour, text in found]


def _moment(text: str, config: Config) -> str:
    moment = datetime.fromisoformat(text).astimezone(config.zone)
    return f"{dates.numeric_date(moment)} {dates.hour_minute(moment)}"

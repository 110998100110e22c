"""Alerts: the scheduler tells the team — by e-mail through a real SMTP server (aiosmtpd on
127.0.0.1) and by a webhook (pytest-httpserver) — when a job fails for good, is missed, is
still blocked or its sign-off stale the day before it is due, its channel is not set up, or
a credential is about to expire; once per event (the ledger's alerts table), also when an
alert channel is down for a while; never from a dry run or a simulation."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from conftest import real_run

from commsflow import alerts
from commsflow.actions import short_ref
from commsflow.alerts import Event
from commsflow.calendar import Job
from commsflow.commands.run import EventLog, _loader
from commsflow.config import load_config
from commsflow.errors import CommsflowError
from commsflow.ledger import Ledger
from commsflow.scheduler import Scheduler
from commsflow.workspace import Workspace

HOOK = "/hooks/geheim-123"  # the webhook channel's address: its path is a secret
ALERTS = "/alerts/alarm-geheim-456"  # the alert webhook's address: its path is a secret too
HINWEIS = "einzeln/webhook/2024-03-04-hinweis@2024-03-05T10:00+01:00"
REF = short_ref(HINWEIS)  # what the commands in an alert name: the short reference status prints
TO = ["redaktion@example.org", "leitung@example.org"]
REPORT = "2024-03-01-zweiter-monitoring-bericht"  # the blog slot's post on Tuesday 5 March 2024, 10:00
REPORT_JOB = f"blog-dienstag-2024/slot/{REPORT}@2024-03-05T10:00+01:00"
SECRETS = ("geheim-123", "alarm-geheim-456")


@pytest.fixture(autouse=True)
def german_messages(monkeypatch):
    """Alerts speak the team's language, German by default: these tests read them (and what the
    scheduler and `commsflow status` print) in German; conftest sets English for the others."""
    from commsflow import i18n

    monkeypatch.setenv("COMMSFLOW_LANG", "de")
    i18n.use("de")
    yield
    i18n.use("en")


# --- the servers ---------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps what it receives; started and stopped at will
    (an alert channel that is down is one that is not running)."""

    port: int
    received: list = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def subjects(self) -> list[str]:
        return [message["Subject"] for _, message in self.received]

    def body(self, subject_part: str) -> str:
        found = [message for _, message in self.received if subject_part in message["Subject"]]
        assert len(found) == 1, self.subjects
        return found[0].get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


def alert_posts(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log if request.path == ALERTS]


# --- the project ---------------------------------------------------------------------------------


def set_publishing(root: Path, text: str) -> None:
    """Settings under [publishing]; a key the file sets already is replaced."""
    config = root / "commsflow.toml"
    source = config.read_text(encoding="utf-8")
    for line in text.splitlines():
        source = re.sub(rf"(?m)^{re.escape(line.split('=')[0].strip())}\s*=.*\n", "", source)
    config.write_text(source.replace("[publishing]\n", f"[publishing]\n{text}\n"), encoding="utf-8")


def add_config(root: Path, text: str) -> None:
    config = root / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def one_off(root: Path, slug: str, when: str, channels: str, status: str = "approved") -> Path:
    path = root / "content" / "posts" / f"{slug}.md"
    path.write_text(
        f"---\ntitle: Ein Beitrag für {slug}\nstatus: {status}\ncategory: Aktuelles\ndate: 2024-02-01\n"
        f"summary: Eine Zusammenfassung.\npublish_at: {when}\nchannels: {channels}\n---\n\nText.\n",
        encoding="utf-8",
    )
    return path


def alert_rows(root: Path) -> list[dict]:
    db = sqlite3.connect((root / ".commsflow" / "ledger.sqlite").as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    rows = [dict(row) for row in db.execute("SELECT * FROM alerts ORDER BY created, key, channel")]
    db.close()
    return rows


@pytest.fixture
def project(mpi, monkeypatch, httpserver, mailbox):
    """The MPI project without its campaigns, alerts by e-mail and webhook, the webhook channel
    switched on; jobs are one-offs each test makes."""
    for path in (mpi / "campaigns").glob("*.yaml"):
        path.unlink()
    set_publishing(mpi, 'webhook = "webhook"\nretries = 3\nrequire_signoff = false')
    add_config(mpi, f"[alerts]\nemail = {json.dumps(TO)}\nwebhook = true")
    monkeypatch.setenv("COMMSFLOW_WEBHOOK_URL", httpserver.url_for(HOOK))
    monkeypatch.setenv("COMMSFLOW_ALERT_WEBHOOK_URL", httpserver.url_for(ALERTS))
    for name in ("USER", "PASSWORD", "CAFILE"):
        monkeypatch.delenv(f"COMMSFLOW_SMTP_{name}", raising=False)
    monkeypatch.setenv("COMMSFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COMMSFLOW_SMTP_PORT", str(mailbox.port))
    monkeypatch.setenv("COMMSFLOW_SMTP_SECURITY", "none")
    monkeypatch.setenv("COMMSFLOW_SMTP_TIMEOUT", "5")
    for name in ("LINKEDIN_TOKEN", "MASTODON_TOKEN", "USER"):
        monkeypatch.delenv(f"COMMSFLOW_{name}", raising=False)
    return mpi


def no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# --- a job failed for good -----------------------------------------------------------------------


def test_a_permanent_failure_is_told_once_by_email_and_webhook(project, httpserver, mailbox):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no", status=401)
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    first = real_run(project, "2024-03-05 10:00", "--once")
    assert first.exit_code == 1  # the job's outcome is what it was without alerts
    assert "✗ fehlgeschlagen webhook article 2024-03-04-hinweis" in first.stdout
    subject = "[commsflow · MPI] Fehlgeschlagen: „Ein Beitrag für 2024-03-04-hinweis“ (webhook, Di 05.03.2024 10:00)"
    assert mailbox.subjects == [subject]
    recipients, message = mailbox.received[0]
    assert recipients == TO
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("commsflow (MPI)", "newsletter@senweb.berlin.de")
    assert message["Auto-Submitted"] == "auto-generated"
    body = mailbox.body("Fehlgeschlagen")
    assert body.startswith("Eine Veröffentlichung ist fehlgeschlagen und wird nicht automatisch wiederholt.")
    assert "\n   Grund:  webhook (webhook): http://localhost:" in body and "antwortete 401" in body
    assert f"\n   Job:    {REF} ({HINWEIS})\n" in body
    for command in (
        f"\n       commsflow retry {REF}\n",
        f"\n       commsflow posted {REF} --url URL\n",
        f"\n       commsflow dismiss {REF} --reason TEXT\n",
        "commsflow status",
    ):
        assert command in body
    assert f"Die Befehle im Projektordner ausführen: {project.resolve()}" in body
    # The webhook: one JSON object {"text": …}, the commands as `code`.
    (post,) = alert_posts(httpserver)
    assert list(post) == ["text"]
    assert post["text"].startswith(subject + "\n\n")
    # Markdown (Mattermost, Matrix hookshot) and Slack's mrkdwn alike: lists, nothing indented, commands as `code`.
    assert f"\n- Job: {REF} ({HINWEIS})\n" in post["text"]
    assert f"\n- Die Ursache beheben (siehe Grund), dann erneut senden: `commsflow retry {REF}`\n" in post["text"]
    assert "\n " not in post["text"]
    assert "gemeldet email alert failed — gesendet an redaktion@example.org, leitung@example.org" in first.stdout
    assert "gemeldet webhook alert failed — gepostet an http://localhost:" in first.stdout
    no_secrets(first.output, body, post["text"], json.dumps(alert_rows(project)))
    # Later passes do not tell it again.
    for moment in ("2024-03-05 10:00", "2024-03-05 11:00", "2024-03-06 09:00"):
        real_run(project, moment, "--once")
    assert len(mailbox.received) == 1 and len(alert_posts(httpserver)) == 1
    rows = alert_rows(project)
    assert [(row["channel"], row["kind"], row["job"], row["attempts"], row["error"]) for row in rows] == [
        ("email", "failed", HINWEIS, 1, None),
        ("webhook", "failed", HINWEIS, 1, None),
    ]
    assert {row["sent"] for row in rows} == {"2024-03-05T10:00:00+01:00"}


def test_a_job_retried_by_a_person_that_fails_again_is_a_new_alert(project, httpserver, mailbox):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no", status=401)
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    real_run(project, "2024-03-05 10:00", "--once")
    ledger = Ledger(project / ".commsflow" / "ledger.sqlite")
    ledger.retry(SimpleNamespace(id=HINWEIS), datetime.fromisoformat("2024-03-05T11:00+01:00"), "token renewed")
    ledger.close()
    again = real_run(project, "2024-03-05 11:00", "--once")
    assert "✗ fehlgeschlagen webhook article 2024-03-04-hinweis" in again.stdout
    assert len(mailbox.received) == 2 and len(alert_posts(httpserver)) == 2
    real_run(project, "2024-03-05 12:00", "--once")
    assert len(mailbox.received) == 2


def test_a_job_interrupted_while_sending_is_told_with_what_to_check(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    real_run(project, "2024-03-05 09:00", "--once")  # creates the ledger; nothing due
    db = sqlite3.connect(project / ".commsflow" / "ledger.sqlite")
    db.execute(
        "INSERT INTO jobs (id, channel, item, planned, state, attempts, updated) VALUES "
        "(?, 'webhook', '2024-03-04-hinweis', '2024-03-05T10:00:00+01:00', 'sending', 1, '2024-03-05T10:00:00+01:00')",
        (HINWEIS,),
    )
    db.commit()
    db.close()
    real_run(project, "2024-03-05 10:02", "--once")
    assert [request.path for request, _ in httpserver.log] == [ALERTS]  # the job was not sent again
    body = mailbox.body("Fehlgeschlagen")
    assert body.startswith("Das Senden wurde unterbrochen")
    assert "Auf webhook nachsehen, ob sie erschienen ist" in body
    assert f"commsflow posted {REF} --url URL" in body and f"commsflow retry {REF}" in body


# --- missed jobs ---------------------------------------------------------------------------------


def test_missed_jobs_found_together_are_one_message_told_once(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-01-frueh", "2024-03-04 09:00", "[linkedin]")
    one_off(project, "2024-03-01-spaet", "2024-03-04 11:00", "[mastodon]")
    result = real_run(project, "2024-03-05 10:00", "--once")
    assert result.exit_code == 1
    assert mailbox.subjects == [
        "[commsflow · MPI] 2 × Verpasst: „Ein Beitrag für 2024-03-01-frueh“ (linkedin, Mo 04.03.2024 09:00) und 1 weitere"
    ]
    body = mailbox.body("Verpasst")
    assert body.startswith("1. Eine Veröffentlichung wurde verpasst: Sie war fällig, wurde aber nicht innerhalb von ")
    assert "\n2. Eine Veröffentlichung wurde verpasst" in body
    assert "innerhalb von 6 Stunden gesendet" in body
    for slug, when, channel in (("frueh", "09:00", "linkedin"), ("spaet", "11:00", "mastodon")):
        job = f"einzeln/{channel}/2024-03-01-{slug}@2024-03-04T{when}+01:00"
        assert f"({job})" in body
        assert (
            f"commsflow retry {short_ref(job)}" in body and f"commsflow dismiss {short_ref(job)} --reason TEXT" in body
        )
    assert len(alert_posts(httpserver)) == 1
    real_run(project, "2024-03-05 10:30", "--once")
    assert len(mailbox.received) == 1 and len(alert_posts(httpserver)) == 1
    assert {row["kind"] for row in alert_rows(project)} == {"missed"} and len(alert_rows(project)) == 4


# --- blocked, stale or waiting the day before --------------------------------------------------


def test_a_job_still_blocked_the_day_before_is_told_once(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-05-entwurf", "2024-03-06 10:00", "[linkedin]", status="review")
    early = real_run(project, "2024-03-05 09:30", "--once")
    assert early.exit_code == 0 and mailbox.received == []  # 24 h 30 min before: not yet
    real_run(project, "2024-03-05 10:30", "--once")
    assert mailbox.subjects == [
        "[commsflow · MPI] Blockiert: „Ein Beitrag für 2024-03-05-entwurf“ (linkedin, Mi 06.03.2024 10:00)"
    ]
    body = mailbox.body("Blockiert")
    assert body.startswith(
        "Eine Veröffentlichung ist fällig am Mi 06.03.2024 10:00, kann aber nicht gesendet werden: "
        "Der Inhalt ist noch nicht freigegeben."
    )
    assert "in content/posts/2024-03-05-entwurf.md „status: approved“ setzen" in body
    assert "commsflow review" in body
    job = "einzeln/linkedin/2024-03-05-entwurf@2024-03-06T10:00+01:00"
    assert f"commsflow dismiss {short_ref(job)} --reason TEXT" in body
    for moment in ("2024-03-05 11:00", "2024-03-06 10:00", "2024-03-06 10:30"):  # also when due: told already
        real_run(project, moment, "--once")
    assert len(mailbox.received) == 1 and len(alert_posts(httpserver)) == 1


def test_how_long_before_is_configurable(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    config = project / "commsflow.toml"
    config.write_text(config.read_text().replace("webhook = true", 'webhook = true\nblocked_before = "2 days"'))
    one_off(project, "2024-03-05-entwurf", "2024-03-06 10:00", "[linkedin]", status="review")
    real_run(project, "2024-03-04 10:30", "--once")
    assert len(mailbox.received) == 1 and "Blockiert" in mailbox.subjects[0]


def test_a_stale_sign_off_the_day_before_is_told_and_again_after_a_new_one(run, mpi, project, httpserver, mailbox):
    """The shipped plan is signed off; the blog slot's post of Tuesday 10:00 is edited on Monday."""
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    config = project / "commsflow.toml"
    config.write_text(config.read_text().replace("require_signoff = false", "require_signoff = true", 1))
    (project / "campaigns" / "blog-dienstag-2024.yaml").write_text(
        (Path(__file__).parent / "fixtures" / "mpi2024" / "campaigns" / "blog-dienstag-2024.yaml").read_text()
    )
    post = project / "content" / "posts" / f"{REPORT}.md"
    post.write_text(post.read_text().replace("summary: Der MPI umfasst", "summary: Der Masterplan umfasst", 1))
    real_run(project, "2024-03-04 10:30", "--once")  # the January post is missed: a message of its own
    assert sorted(subject.split(":")[0] for subject in mailbox.subjects) == [
        "[commsflow · MPI] Abzeichnung veraltet",
        "[commsflow · MPI] Verpasst",
    ]
    body = mailbox.body("Abzeichnung veraltet")
    assert body.startswith(
        "Die Abzeichnung einer Veröffentlichung, die am Di 05.03.2024 10:00 fällig ist, ist veraltet"
    )
    assert (
        "Freigabe veraltet: linkedin article geändert, seit Redaktion MPI am 01.03.2024 10:00 freigegeben hat" in body
    )
    assert f"commsflow review {REPORT}" in body and f"commsflow approve {REPORT} --by NAME" in body
    assert f"commsflow dismiss {short_ref(REPORT_JOB)} --reason TEXT" in body
    real_run(project, "2024-03-04 11:00", "--once")
    assert len(mailbox.received) == 2
    # Signed off again, then changed again: a new event.
    signed = run(project, "--now", "2024-03-04 11:05", "approve", REPORT, "--by", "Dana Schulz")
    assert signed.exit_code == 0, signed.output
    real_run(project, "2024-03-04 11:10", "--once")
    assert len(mailbox.received) == 2
    post.write_text(post.read_text().replace("summary: Der Masterplan umfasst", "summary: Der MPI hat", 1))
    real_run(project, "2024-03-04 11:15", "--once")
    assert len(mailbox.received) == 3 and "Abzeichnung veraltet" in mailbox.subjects[-1]
    assert "am 04.03.2024 11:05 freigegeben" in mailbox.received[-1][1].get_content()


def test_a_job_whose_channel_is_not_set_up_is_told_the_day_before(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    set_publishing(project, 'linkedin = "linkedin"')
    one_off(project, "2024-03-05-linkedin", "2024-03-06 10:00", "[linkedin]")
    real_run(project, "2024-03-05 10:30", "--once")
    assert mailbox.subjects == [
        "[commsflow · MPI] Kanal nicht eingerichtet: „Ein Beitrag für 2024-03-05-linkedin“ "
        "(linkedin, Mi 06.03.2024 10:00)"
    ]
    body = mailbox.body("Kanal nicht eingerichtet")
    assert "der Kanal linkedin ist nicht eingerichtet" in body
    assert "COMMSFLOW_LINKEDIN_TOKEN" in body or "linkedin_author" in body
    real_run(project, "2024-03-05 11:00", "--once")
    assert len(mailbox.received) == 1


# --- credentials with a known lifetime -----------------------------------------------------------


def test_a_credential_about_to_expire_is_warned_in_status_and_told_once(run, project, httpserver, mailbox, monkeypatch):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    monkeypatch.setenv("COMMSFLOW_LINKEDIN_TOKEN", "token-geheim-789")
    set_publishing(project, 'linkedin = "linkedin"')
    add_config(project, "[credentials]\nCOMMSFLOW_LINKEDIN_TOKEN = 2024-03-12")
    real_run(project, "2024-03-04 10:00", "--once")  # eight days before: nothing yet
    assert mailbox.received == []
    assert "COMMSFLOW_LINKEDIN_TOKEN" not in run(project, "--now", "2024-03-04 10:00", "status").stdout
    real_run(project, "2024-03-05 10:00", "--once")
    assert mailbox.subjects == ["[commsflow · MPI] Zugangsdaten laufen ab: COMMSFLOW_LINKEDIN_TOKEN (bis 12.03.2024)"]
    body = mailbox.body("Zugangsdaten")
    assert body.startswith(
        "Die Zugangsdaten in COMMSFLOW_LINKEDIN_TOKEN laufen am Dienstag, 12. März 2024 ab (in 7 Tagen). "
        "Danach schlagen Veröffentlichungen über linkedin fehl."
    )
    assert "COMMSFLOW_LINKEDIN_TOKEN = JJJJ-MM-TT" in body
    status = run(project, "--now", "2024-03-05 10:00", "status")
    assert "! Zugangsdaten COMMSFLOW_LINKEDIN_TOKEN laufen am 12.03.2024 ab (in 7 Tagen)" in status.stdout
    warnings = json.loads(run(project, "--now", "2024-03-05 10:00", "status", "--json").stdout)["warnings"]
    assert any(
        "Zugangsdaten COMMSFLOW_LINKEDIN_TOKEN laufen am 12.03.2024 ab (in 7 Tagen)" in line for line in warnings
    )
    real_run(project, "2024-03-08 10:00", "--once")
    assert len(mailbox.received) == 1
    real_run(project, "2024-03-12 10:00", "--once")
    assert mailbox.subjects[-1] == "[commsflow · MPI] Zugangsdaten laufen ab: COMMSFLOW_LINKEDIN_TOKEN (abgelaufen)"
    body = mailbox.received[-1][1].get_content()
    assert body.startswith("Die Zugangsdaten in COMMSFLOW_LINKEDIN_TOKEN sind seit Dienstag, 12. März 2024 abgelaufen")
    assert "commsflow retry --channel linkedin --failed" in body
    status = run(project, "--now", "2024-03-12 10:00", "status")
    assert "! Zugangsdaten COMMSFLOW_LINKEDIN_TOKEN am 12.03.2024 abgelaufen" in status.stdout
    real_run(project, "2024-03-13 10:00", "--once")
    assert len(mailbox.received) == 2
    for _, message in mailbox.received:
        assert "token-geheim-789" not in message.as_string()


# --- an alert channel that is down -------------------------------------------------------------


def test_an_alert_channel_that_is_down_is_retried_later_and_told_once(run, project, httpserver, mailbox):
    mailbox.stop()  # the mail server is down
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no", status=401)
    for _ in range(2):  # the chat is down twice, echoing its own address
        httpserver.expect_oneshot_request(ALERTS, method="POST").respond_with_data(f"unavailable: {ALERTS}", status=503)
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")  # fails for good
    one_off(project, "2024-03-04-spaeter", "2024-03-05 10:30", "[linkedin]")
    one_off(project, "2024-03-05-entwurf", "2024-03-06 09:00", "[linkedin]", status="review")  # blocked

    def states() -> list[tuple]:
        return [
            (row["kind"], row["channel"], row["attempts"], row["sent"], row["next_at"]) for row in alert_rows(project)
        ]

    first = real_run(project, "2024-03-05 10:00", "--once")
    assert first.exit_code == 1
    assert "✗ fehlgeschlagen webhook article 2024-03-04-hinweis" in first.stdout  # the job's outcome is unaffected
    assert "Fehler  email alert failed — email: 127.0.0.1:" in first.stdout
    assert "Senden nicht möglich" in first.stdout
    assert "Fehler  webhook alert failed — webhook: http://localhost:" in first.stdout
    assert "antwortete 503: unavailable: ***" in first.stdout  # the chat echoed its address: scrubbed
    # One attempt per channel and pass: the blocked job's alert waits with the failed job's, untried.
    assert len(alert_posts(httpserver)) == 1
    retry_at = "2024-03-05T10:01:00+01:00"
    assert sorted(states()) == [
        ("blocked", "email", 0, None, retry_at),
        ("blocked", "webhook", 0, None, retry_at),
        ("failed", "email", 1, None, retry_at),
        ("failed", "webhook", 1, None, retry_at),
    ]
    status = run(project, "--now", "2024-03-05 10:00", "status")
    assert "! 2 Benachrichtigungen nicht über email zugestellt: email: 127.0.0.1:" in status.stdout
    assert "nächster Versuch 05.03.2024 10:01" in status.stdout
    assert "! 2 Benachrichtigungen nicht über webhook zugestellt" in status.stdout
    no_secrets(first.output, status.output, json.dumps(alert_rows(project)))

    # Before its time, an alert is not tried again.
    real_run(project, "2024-03-05 10:00", "--once")
    assert len(alert_posts(httpserver)) == 1

    # The scheduler keeps publishing while the channel is down; the alert is tried again (and fails).
    later = real_run(project, "2024-03-05 10:30", "--once")
    assert "✓ gesendet linkedin article 2024-03-04-spaeter" in later.stdout
    assert len(alert_posts(httpserver)) == 2
    assert {row["next_at"] for row in alert_rows(project)} == {"2024-03-05T10:35:00+01:00"}  # 5 minutes: attempt 2

    # Both channels are back: each message told once.
    mailbox.start()
    back = real_run(project, "2024-03-05 10:35", "--once")
    assert "gemeldet email alert failed — gesendet an" in back.stdout
    assert "gemeldet webhook alert blocked — gepostet an" in back.stdout
    assert sorted(subject.split(":")[0] for subject in mailbox.subjects) == [
        "[commsflow · MPI] Blockiert",
        "[commsflow · MPI] Fehlgeschlagen",
    ]
    assert len(alert_posts(httpserver)) == 4
    for moment in ("2024-03-05 10:40", "2024-03-05 12:00"):
        real_run(project, moment, "--once")
    assert len(mailbox.received) == 2 and len(alert_posts(httpserver)) == 4
    sent = "2024-03-05T10:35:00+01:00"
    assert sorted(states()) == [
        ("blocked", "email", 1, sent, None),
        ("blocked", "webhook", 1, sent, None),
        ("failed", "email", 3, sent, None),
        ("failed", "webhook", 3, sent, None),
    ]
    assert {row["error"] for row in alert_rows(project)} == {None}
    assert "zugestellt" not in run(project, "--now", "2024-03-05 12:00", "status").stdout


def test_an_alert_channel_not_set_up_is_named(project, httpserver, mailbox, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_ALERT_WEBHOOK_URL")
    monkeypatch.delenv("COMMSFLOW_SMTP_HOST")
    one_off(project, "2024-03-01-frueh", "2024-03-04 09:00", "[linkedin]")
    result = real_run(project, "2024-03-05 10:00", "--once")
    assert "verpasst" in result.stdout
    errors = {row["channel"]: row["error"] for row in alert_rows(project)}
    assert errors == {
        "email": "email: kein SMTP-Server eingerichtet (COMMSFLOW_SMTP_HOST ist nicht gesetzt) — COMMSFLOW_SMTP_HOST "
        "setzen, dazu COMMSFLOW_SMTP_USER/COMMSFLOW_SMTP_PASSWORD, wenn der Server eine Anmeldung verlangt",
        "webhook": "webhook: COMMSFLOW_ALERT_WEBHOOK_URL ist nicht gesetzt — Die Variable auf die Adresse des "
        "eingehenden Webhooks im Team-Chat setzen oder [alerts] webhook = false setzen",
    }


# --- the long-running scheduler ------------------------------------------------------------------


def test_the_long_running_scheduler_alerts_on_a_tick_with_nothing_due(project, httpserver, mailbox):
    httpserver.expect_request(ALERTS, method="POST").respond_with_data("ok")
    one_off(project, "2024-03-05-entwurf", "2024-03-06 10:00", "[linkedin]", status="review")
    workspace = Workspace(project, now_text="2024-03-05 09:00")
    box = [workspace.now]
    outcomes = []
    scheduler = Scheduler(
        workspace.config, _loader(workspace, EventLog()), report=outcomes.append, clock=lambda: box[0]
    )
    try:
        scheduler.plan(box[0])
        scheduler.tick()
        assert mailbox.received == []
        box[0] = box[0].replace(hour=10, minute=30)
        scheduler.tick()
        assert len(mailbox.received) == 1 and "Blockiert" in mailbox.subjects[0]
        assert [(o.state, o.job.channel, o.job.item) for o in outcomes] == [
            ("alert", "email", "blocked"),
            ("alert", "webhook", "blocked"),
        ]
        box[0] = box[0].replace(minute=31)
        scheduler.tick()
        assert len(mailbox.received) == 1 and len(outcomes) == 2
    finally:
        scheduler.close()


# --- never from a dry run or a simulation; off unless configured --------------------------------


def test_dry_runs_and_simulations_never_alert(run, project, httpserver, mailbox):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no", status=401)
    one_off(project, "2024-03-01-frueh", "2024-03-04 09:00", "[linkedin]")  # missed at 10:05 on the 5th
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    one_off(project, "2024-03-05-entwurf", "2024-03-06 10:00", "[linkedin]", status="review")  # blocked
    dry = run(project, "--now", "2024-03-05 10:05", "run", "--once", "--dry-run")
    assert "verpasst" in dry.stdout
    simulated = run(project, "run", "--simulate", "2024-03-01..2024-03-07")
    assert simulated.exit_code == 0, simulated.output
    assert mailbox.received == [] and alert_posts(httpserver) == []
    assert not (project / ".commsflow" / "ledger.sqlite").exists()
    throwaway = sqlite3.connect(project / ".commsflow" / "simulation" / "ledger.sqlite")
    assert throwaway.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
    throwaway.close()


def test_without_alerts_configured_nothing_is_told_or_recorded(project, httpserver, mailbox):
    config = project / "commsflow.toml"
    config.write_text(config.read_text().split("\n[alerts]")[0] + "\n")
    httpserver.expect_request(HOOK, method="POST").respond_with_data("no", status=401)
    one_off(project, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    result = real_run(project, "2024-03-05 10:00", "--once")
    assert "✗ fehlgeschlagen webhook article 2024-03-04-hinweis" in result.stdout
    assert mailbox.received == [] and alert_posts(httpserver) == []
    assert alert_rows(project) == []


def test_a_ledger_from_before_alerts_gets_the_table(tmp_path):
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, channel TEXT NOT NULL, item TEXT NOT NULL, planned TEXT NOT NULL, "
        "state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, retry_at TEXT, permanent INTEGER NOT NULL "
        "DEFAULT 0, receipt TEXT, url TEXT, note TEXT, updated TEXT NOT NULL);"
        "INSERT INTO jobs (id, channel, item, planned, state, updated) VALUES ('a', 'linkedin', 'x', "
        "'2024-03-05T10:00:00+01:00', 'done', '2024-03-05T10:00:00+01:00');"
    )
    db.close()
    assert Ledger.undelivered_alerts(path) == []  # read only: no table yet, nothing undelivered
    ledger = Ledger(path)
    at = datetime.fromisoformat("2024-03-05T10:00:00+01:00")
    assert ledger.add_alert("missed:a:1", "missed", "a", "{}", ["email"], at)
    assert not ledger.add_alert("missed:a:1", "missed", "a", "{}", ["email", "webhook"], at)  # known: once
    assert [row["key"] for row in ledger.alerts_due(at)] == ["missed:a:1"]
    ledger.alert_sent(["missed:a:1"], "email", at)
    assert ledger.alerts_due(at) == [] and ledger.records()["a"]["state"] == "done"
    ledger.close()


# --- what each kind of block asks a person to do -------------------------------------------------


def test_each_kind_of_block_names_its_own_remedy_and_reviewers(mpi):
    add_config(
        mpi,
        '[[people]]\nname = "Dana Schulz"\nroles = ["reviewer"]\n\n'
        '[[people]]\nname = "Pressestelle"\nroles = ["reviewer"]\nchannels = ["press"]\n\n'
        '[[people]]\nname = "Alex Autor"\nroles = ["author"]',
    )
    config = load_config(mpi)
    planned = datetime(2024, 3, 6, 10, tzinfo=config.zone)
    job = Job("einzeln/linkedin/x@2024-03-06T10:00+01:00", "einzeln", "x", "linkedin", "article", "x", planned, "p.md")
    about = alerts.About("Ein Titel", "content/posts/x.md")
    signed = datetime(2024, 3, 1, 10, tzinfo=config.zone)

    def only(events):
        assert len(events) == 1, events
        return events[0]

    embargo = only(alerts.ahead(replace(job, embargo="embargo until 07.03.2024 10:00 (x)"), about, config))
    assert (embargo.kind, embargo.key) == ("blocked", f"blocked:{job.id}:embargo")
    assert embargo.headline.endswith("Sie liegt vor einer Sperrfrist.")
    assert embargo.actions[0] == (
        "Den Termin in p.md hinter das Ende der Sperrfrist legen; die Stelle zeigt:",
        "commsflow check",
    )
    missing = only(
        alerts.ahead(
            replace(job, signoff="not signed off: commsflow approve x", signoff_state="missing"), about, config
        )
    )
    assert (missing.kind, missing.key) == ("blocked", f"blocked:{job.id}:signoff")
    # Who may sign off a LinkedIn post: the reviewers without a channel list, not the press office's.
    assert ("Abzeichnen (NAME: Dana Schulz):", "commsflow approve x --by NAME") in missing.actions
    rejected = replace(
        job,
        signoff="rejected by Dana Schulz on 01.03.2024 10:00: Zahlen falsch — commsflow approve x",
        signoff_state="rejected",
    )
    first = only(alerts.ahead(rejected, about, config, signed=signed))
    assert first.headline.endswith("Der Inhalt wurde bei der Prüfung abgelehnt.")
    assert dict(first.facts)["Grund"].startswith("rejected by Dana Schulz")
    again = only(alerts.ahead(rejected, about, config, signed=signed.replace(day=2)))
    assert first.key != again.key  # rejected again later: a new event
    stale = only(
        alerts.ahead(
            replace(job, signoff="approval stale: linkedin article changed", signoff_state="stale"), about, config
        )
    )
    assert stale.kind == "stale" and stale.key == f"stale:{job.id}:-"
    unapproved = only(alerts.ahead(replace(job, approved=False), about, config))
    assert unapproved.key == f"blocked:{job.id}:approval"
    assert unapproved.actions[1] == ("Abzeichnen (NAME: Dana Schulz):", "commsflow approve x --by NAME")  # required
    waiting = alerts.ahead(job, about, config, missing=CommsflowError("linkedin: no token", "set COMMSFLOW_X"))
    assert [(event.kind, dict(event.facts)["Grund"]) for event in waiting] == [
        ("waiting", "linkedin: no token — set COMMSFLOW_X")
    ]
    assert alerts.ahead(job, about, config) == []  # nothing in the way: nothing to tell
    assert Event.from_json(stale.to_json()) == stale  # as the ledger keeps it


def test_alerts_speak_english_on_request(mpi):
    from commsflow import i18n

    i18n.use("en")
    config = load_config(mpi)
    planned = datetime(2024, 3, 6, 10, tzinfo=config.zone)
    job = Job("einzeln/linkedin/x@2024-03-06T10:00+01:00", "einzeln", "x", "linkedin", "article", "x", planned, "p.md")
    (event,) = alerts.ahead(replace(job, approved=False), alerts.About("Ein Titel", "content/posts/x.md"), config)
    subject, text = alerts.compose(config, [event])
    assert subject == '[commsflow · MPI] Blocked: "Ein Titel" (linkedin, Wed 06.03.2024 10:00)'
    assert text.startswith("A job is due on Wed 06.03.2024 10:00 but cannot be sent: the item is not approved yet.\n")
    assert "\n   Reason:  item not approved\n" in text and "\n   What to do next:\n" in text
    assert "Review the item and set 'status: approved' in content/posts/x.md" in text

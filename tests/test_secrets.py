"""Secrets are scrubbed in every form a server may echo them in: a local server (pytest-httpserver)
that answers with the request's Authorization header — as sent, lower- or upper-cased,
base64-encoded (on its own or inside a dump of the request), URL-encoded, as hex, or cut
short — puts no part of the token into stdout, `status --all` or the ledger's notes, and
a server's error body is never kept as it came (a bounded, scrubbed line of it, with its
error code). The checks decode what is shown independently of the scrubber."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from test_scheduler import one_off, real_run, set_publishing
from werkzeug import Request, Response

from commsflow.publishers.base import Payload, Permanent, Transient
from commsflow.publishers.email import SmtpSettings, _scrub
from commsflow.publishers.linkedin import LinkedInPublisher, LinkedInSettings
from commsflow.publishers.secrets import MIN_PART, scrub
from commsflow.publishers.webhook import WebhookPublisher, WebhookSettings

TOKEN = "tok-7Hq2-Zm9xPw4LkV8sR3nB6cD1fG5hJ0"  # never to be shown, in any form
HEADER = f"Bearer {TOKEN}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# How a server may echo the Authorization header (the argument) back.
ECHOES = {
    "as sent": lambda h: h,
    "lower-cased": lambda h: h.lower(),
    "upper-cased": lambda h: h.upper(),
    "base64": lambda h: b64(h),
    "base64 of a request dump": lambda h: b64(f"POST /api/v1/statuses HTTP/1.1\r\nAuthorization: {h}\r\n"),
    "base64 of the token, URL-safe, unpadded": lambda h: base64.urlsafe_b64encode(h[7:].encode()).decode().rstrip("="),
    "URL-encoded": lambda h: quote(h, safe=""),
    "URL-encoded twice": lambda h: quote(quote(h, safe=""), safe=""),
    "hex": lambda h: h.encode().hex(),
    "cut short": lambda h: h[:19] + "…",
    "a piece from the middle": lambda h: h[15:27],
    "base64, cut short": lambda h: b64(h)[:20],
}


def exposes(text: str, secret: str = TOKEN) -> list[str]:
    """Pieces of ``secret`` (MIN_PART characters or more) found in ``text`` as it is or decoded
    (case ignored; URL-decoded; base64 and hex runs decoded) — independent of the scrubber."""
    pieces = {secret[i : i + MIN_PART].lower() for i in range(len(secret) - MIN_PART + 1)}
    readings = [text, unquote(text), unquote(unquote(text))]
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            for alphabet in (chunk, chunk.replace("-", "+").replace("_", "/")):
                try:
                    readings.append(base64.b64decode(alphabet, validate=True).decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    for run in re.findall(r"[0-9a-fA-F]{16,}", text):
        for start in (0, 1):
            chunk = run[start:]
            readings.append(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2]).decode("latin-1"))
    return sorted({piece for reading in readings for piece in pieces if piece in reading.lower()})


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
def test_scrub_hides_every_form_of_a_secret(echo):
    shown = echo(HEADER)
    assert exposes(shown), "the echo must carry the secret for this test to mean anything"
    text = scrub(f"denied for {shown} (see the docs)", [TOKEN])
    assert exposes(text) == [], text
    assert text.startswith("denied for ") and text.endswith(" (see the docs)") and "***" in text


def test_scrub_leaves_other_text_alone():
    text = "Die Anfrage wurde abgelehnt (401): das Zugriffstoken ist abgelaufen."
    assert scrub(text, [TOKEN]) == text
    assert scrub("short secrets only whole: abc1 and abc12", ["abc1"]) == "short secrets only whole: *** and ***2"


def test_a_password_with_umlauts_in_every_form():
    """SMTP: the password plain, in a SASL PLAIN string, Latin-1 base64, lower-cased, cut short."""
    password = "geheim-Ü-123!xyz"
    settings = SmtpSettings("127.0.0.1", 25, "none", "redaktion", password, 5, None)
    echoes = [
        password,
        b64(f"\0redaktion\0{password}"),
        base64.b64encode(password.encode("latin-1")).decode(),
        password.lower(),
        password[:10],
        json.dumps(password)[1:-1],
    ]
    shown = _scrub("535 rejected: " + " | ".join(echoes), settings)
    assert exposes(shown, password) == [], shown
    assert shown.startswith("535 rejected: ***")


# --- the publishers against a server that echoes the header -------------------------------------


def echoing(status: int, *, as_json: bool = True, headers: dict | None = None):
    """A handler answering ``status`` with every echo of the request's Authorization header."""

    def handle(request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        forms = "; ".join(f"{name}: {echo(header)}" for name, echo in ECHOES.items())
        if as_json:
            body = json.dumps({"message": f"token refused ({forms})", "code": "INVALID_ACCESS_TOKEN", "status": status})
            return Response(body, status=status, content_type="application/json", headers=headers)
        page = f"<html><head><title>Error</title></head><body><h1>{status}</h1><pre>{forms}</pre></body></html>"
        return Response(page, status=status, content_type="text/html", headers=headers)

    return handle


def payload(**extra) -> Payload:
    return Payload(
        job_id="einzeln/linkedin/2024-03-04-hinweis@2024-03-05T10:00+01:00",
        channel="linkedin",
        item="2024-03-04-hinweis",
        kind="article",
        title="Ein Hinweis",
        text="Ein Hinweis.",
        **extra,
    )


BODY = {"author": "urn:li:organization:123", "commentary": "Ein Hinweis.", "visibility": "PUBLIC"}


@pytest.mark.parametrize("status, kind, as_json", [(401, Permanent, True), (503, Transient, False)])
def test_linkedin_error_answers_are_a_short_scrubbed_line(httpserver, status, kind, as_json):
    httpserver.expect_request("/rest/posts", method="POST").respond_with_handler(echoing(status, as_json=as_json))
    publisher = LinkedInPublisher(LinkedInSettings(token=TOKEN, api=httpserver.url_for("").rstrip("/"), timeout=2))
    with pytest.raises(kind) as caught:
        publisher.publish(payload(body=BODY))
    message = str(caught.value)
    assert exposes(message) == [], message
    assert f"answered {status}" in message or f"({status})" in message
    said = message.split(f"{status}", 1)[1]
    assert len(said) < 200 + 300  # the server's part is bounded; the rest is ours
    if as_json:
        assert ": INVALID_ACCESS_TOKEN: token refused (" in message  # the documented error code is kept
    else:
        assert "<" not in message and "html" not in message.lower()  # no markup from the page


def test_linkedin_receipt_from_an_echoing_header_is_scrubbed(httpserver):
    def created(request: Request) -> Response:
        return Response("", status=201, headers={"x-restli-id": b64(request.headers["Authorization"])})

    httpserver.expect_request("/rest/posts", method="POST").respond_with_handler(created)
    publisher = LinkedInPublisher(LinkedInSettings(token=TOKEN, api=httpserver.url_for("").rstrip("/"), timeout=2))
    receipt = publisher.publish(payload(body=BODY))
    assert exposes(f"{receipt.id} {receipt.url} {receipt.note}") == [], receipt
    assert receipt.url is None and "not a post URN" in receipt.note


def test_webhook_answers_echoing_the_address_in_every_form(httpserver):
    path = "/hooks/T01ABCDEF/B02GHIJKL/geheimerSchluessel4711"

    def echo(request: Request) -> Response:
        address = request.url
        forms = " ".join(e(address) for e in ECHOES.values())
        return Response(f"no such hook: {forms}", status=404)

    httpserver.expect_request(path, method="POST").respond_with_handler(echo)
    publisher = WebhookPublisher(WebhookSettings(httpserver.url_for(path), timeout=2))
    with pytest.raises(Permanent) as caught:
        publisher.publish(payload())
    message = str(caught.value)
    assert exposes(message, "geheimerSchluessel4711") == [], message
    assert exposes(message, "T01ABCDEF/B02GHIJKL") == [], message
    assert f"http://localhost:{httpserver.port}" in message  # where it went stays readable


# --- through the scheduler: stdout, status --all, the ledger ------------------------------------


@pytest.fixture
def mastodon_project(mpi, monkeypatch, httpserver):
    for path in (mpi / "campaigns").glob("*.yaml"):
        path.unlink()
    set_publishing(mpi, 'mastodon = "mastodon"\nretries = 3\nrequire_signoff = false')
    one_off(mpi, "2024-03-04-hinweis", "2024-03-05 10:00", "[mastodon]")
    one_off(mpi, "2024-03-04-zweiter", "2024-03-05 10:00", "[mastodon]")
    monkeypatch.setenv("COMMSFLOW_MASTODON_TOKEN", TOKEN)
    monkeypatch.setenv("COMMSFLOW_MASTODON_INSTANCE", httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/api/v2/instance").respond_with_data("", status=404)
    return mpi


def ledger_text(root: Path) -> str:
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    try:
        rows = [*db.execute("SELECT receipt, url, note FROM jobs"), *db.execute("SELECT detail FROM history")]
    finally:
        db.close()
    return " ".join(str(value) for row in rows for value in row)


def test_an_echoed_token_reaches_neither_output_nor_status_nor_ledger(run, mastodon_project, httpserver):
    root = mastodon_project
    answers = iter(
        [
            echoing(401),  # refused: for a person, with the server's line in the note
            lambda request: Response(  # posted: the receipt's id and address echo the token
                json.dumps(
                    {
                        "id": b64(request.headers["Authorization"]),
                        "url": "https://social.example/@mpi/" + quote(request.headers["Authorization"]).lower(),
                    }
                ),
                status=200,
                content_type="application/json",
            ),
        ]
    )
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(
        lambda request: next(answers)(request)
    )
    result = real_run(root, "2024-03-05 10:00", "--once")
    assert "✗ failed  mastodon article" in result.stdout and "✓ done    mastodon article" in result.stdout
    status = run(root, "status", "--all")
    assert "Needs a person" in status.stdout and "Sent" in status.stdout
    shown = {"run": result.output, "status --all": status.output, "ledger": ledger_text(root)}
    for where, text in shown.items():
        assert exposes(text) == [], f"{where}: {text}"
    assert "(401): INVALID_ACCESS_TOKEN: token refused (" in shown["ledger"]
    assert "https://social.example/@mpi/" in status.stdout


def test_a_servers_error_page_is_not_kept_as_it_came(run, mastodon_project, httpserver):
    """A 100 kB HTML error page with terminal escapes: the ledger keeps one bounded line of text."""
    page = "<html><body><script>alert(1)</script>\x1b[31mBackend down\x1b[0m " + "x" * 100_000 + "</body></html>"
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_data(
        page, status=502, content_type="text/html"
    )
    result = real_run(root := mastodon_project, "2024-03-05 10:00", "--once")
    assert "answered 502" in result.stdout
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    notes = [row[0] for row in db.execute("SELECT note FROM jobs")]
    db.close()
    assert notes and all(len(note) < 500 and "\x1b" not in note and "<" not in note for note in notes), notes
    assert all("alert(1)" not in note and "Backend down" in note for note in notes), notes


def test_an_unexpected_error_in_the_long_running_loop_is_scrubbed_too(mpi):
    """The loop's last line of defence prints an exception's text: it may quote a request."""
    from commsflow.config import load_config
    from commsflow.publishers.webhook import WebhookPublisher
    from commsflow.scheduler import Scheduler

    secret_url = "https://hooks.example.org/services/T0000/B0000/GeheimesToken4711abcdef"
    config = load_config(mpi)
    said = []
    scheduler = Scheduler(config, lambda now: None, report=said.append)
    try:
        scheduler.publishers["webhook"] = WebhookPublisher.from_env(config, {"COMMSFLOW_WEBHOOK_URL": secret_url})

        def tick():
            raise RuntimeError(f"POST {secret_url} failed: token GeheimesToken4711abcdef rejected")

        scheduler.tick = tick
        scheduler._safe_tick()
    finally:
        scheduler.close()
    assert len(said) == 1 and said[0].state == "error"
    assert "GeheimesToken4711" not in said[0].detail and "RuntimeError" in said[0].detail

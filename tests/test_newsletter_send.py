"""``commsflow newsletter send-test`` against a real SMTP server (aiosmtpd on 127.0.0.1).

Plain SMTP, STARTTLS with login, implicit TLS, a refused login (the password must never be
shown), an unreachable server, missing settings, a bad address and a test with drafts.
"""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import MPI_2024, REPO

NOW = "2024-03-01 10:00"
ISSUE = "newsletter-2024-1"
SUBJECT = (
    "[Test] MPI-Newsletter: Einladung zum MPI Meet-up, 42 Projekte im Monitoring und der Fördercall Circular Economy"
)
USER = "redaktion"
PASSWORD = "geheim-Ü-123!"
RECIPIENTS = ("redaktion@example.org", "leitung@example.org")
SMTP_ENV = ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "TIMEOUT", "CAFILE")


# ---------------------------------------------------------------- server side


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(content)))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode("utf-8")
        and auth_data.password == PASSWORD.encode("utf-8")
    )
    # handled=False: aiosmtpd answers 235/535 itself (the default, True, means "already answered").
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(request):
    """Start an aiosmtpd Controller on 127.0.0.1; returns (handler, port). Stopped at teardown."""
    started = []

    def start(**kwargs) -> tuple[RecordingHandler, int]:
        handler = RecordingHandler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return handler, port

    def stop_all():
        for controller in started:
            controller.stop()

    request.addfinalizer(stop_all)
    return start


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (the IP SAN is what the client checks)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"openssl cannot make a certificate: {done.stderr.strip()}")
    return cert, key


def server_context(certificate) -> ssl.SSLContext:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


# ---------------------------------------------------------------- client side


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The shipped project (configuration, content, campaigns, templates) in a temporary folder."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(MPI_2024 / "commsflow.toml", root / "commsflow.toml")
    for folder in ("content", "campaigns"):
        shutil.copytree(MPI_2024 / folder, root / folder)
    shutil.copytree(REPO / "templates", root / "templates")
    return root


@pytest.fixture
def smtp_env(monkeypatch):
    """Clear every COMMSFLOW_SMTP_* variable, then set the given ones (short timeout by default)."""
    for name in SMTP_ENV:
        monkeypatch.delenv(f"COMMSFLOW_SMTP_{name}", raising=False)

    def configure(**values) -> None:
        values.setdefault("TIMEOUT", "5")
        for name, value in values.items():
            monkeypatch.setenv(f"COMMSFLOW_SMTP_{name}", str(value))

    return configure


def send_test(run, project, *args, recipients=RECIPIENTS, before=()):
    to = [part for address in recipients for part in ("--to", address)]
    return run(project, *before, "--now", NOW, "newsletter", "send-test", *args, *to)


def parse(content: bytes):
    return email.message_from_bytes(content, policy=email.policy.default)


def raw_headers(content: bytes) -> dict[str, bytes]:
    """Unfolded raw header lines by lower-case name (the last one wins)."""
    head = content.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in content else content.split(b"\n\n", 1)[0]
    unfolded = head.replace(b"\r\n", b"\n").replace(b"\n ", b" ").replace(b"\n\t", b" ")
    headers = {}
    for line in unfolded.split(b"\n"):
        name, _, value = line.partition(b":")
        headers[name.strip().decode("ascii").lower()] = value.strip()
    return headers


def parts(message) -> dict[str, object]:
    return {part.get_content_type(): part for part in message.iter_parts()}


def secret_forms(user: str, password: str) -> list[str]:
    encoded = password.encode("utf-8")
    return [
        password,
        base64.b64encode(encoded).decode(),
        base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
        base64.b64encode(password.encode("latin-1", "replace")).decode(),
        repr(password)[1:-1],
    ]


def assert_no_secret(result, user: str, password: str) -> None:
    shown = result.output + (result.stderr or "") + (result.stdout or "")
    for form in secret_forms(user, password):
        assert form not in shown, f"{form!r} shown in output:\n{shown}"


# ---------------------------------------------------------------- 1. plain SMTP, no login


def test_send_test_delivers_a_complete_message(run, project, smtp_server, smtp_env):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none")

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert len(handler.received) == 1
    envelope = handler.received[0]
    assert envelope.rcpt_tos == list(RECIPIENTS)
    assert envelope.mail_from == "newsletter@senweb.berlin.de"

    message = parse(envelope.content)
    assert message.get_content_type() == "multipart/alternative"
    by_type = parts(message)
    assert set(by_type) == {"text/plain", "text/html"}
    for part in by_type.values():
        assert part.get_content_charset() == "utf-8"

    assert str(message["Subject"]) == SUBJECT
    raw_subject = raw_headers(envelope.content)["subject"]
    assert b"=?utf-8?" in raw_subject.lower()
    assert "ö".encode() not in raw_subject
    assert all(byte < 128 for byte in envelope.content.split(b"\r\n\r\n", 1)[0]), "raw 8-bit in the headers"

    assert str(message["From"]) == "Masterplan Industriestadt Berlin <newsletter@senweb.berlin.de>"
    assert [a.addr_spec for a in message["To"].addresses] == list(RECIPIENTS)
    assert message["Date"] is not None and message["Date"].datetime is not None
    assert message["Message-ID"]
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None  # no reader's own

    text = by_type["text/plain"].get_content()
    html = by_type["text/html"].get_content()
    assert "Donnerstag, 25. April 2024, 16:00 Uhr" in text
    assert "Fördercall" in text
    assert "Termine" in html
    assert "[ENTWURF]" not in text  # without --drafts only approved items

    assert message["Message-ID"] in result.stdout
    assert f"127.0.0.1:{port}" in result.stdout


def test_latest_issue_is_the_default_and_message_ids_are_fresh(run, project, smtp_server, smtp_env):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none")

    first = send_test(run, project, recipients=RECIPIENTS[:1])
    second = send_test(run, project, ISSUE, recipients=RECIPIENTS[:1])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"Latest issue: {ISSUE}" in first.stdout
    assert [r.rcpt_tos for r in handler.received] == [[RECIPIENTS[0]], [RECIPIENTS[0]]]
    ids = [parse(r.content)["Message-ID"] for r in handler.received]
    assert all(ids) and ids[0] != ids[1]
    assert all(str(parse(r.content)["Subject"]) == SUBJECT for r in handler.received)


# ---------------------------------------------------------------- 2. STARTTLS with login


def test_starttls_with_login(run, project, smtp_server, smtp_env, certificate):
    handler, port = smtp_server(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="starttls", USER=USER, PASSWORD=PASSWORD, CAFILE=certificate[0])

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 0, result.output
    assert len(handler.received) == 1
    assert handler.received[0].rcpt_tos == list(RECIPIENTS)
    assert str(parse(handler.received[0].content)["Subject"]) == SUBJECT
    assert "(starttls)" in result.stdout
    assert_no_secret(result, USER, PASSWORD)


def test_starttls_refuses_an_unknown_certificate(run, project, smtp_server, smtp_env, certificate):
    handler, port = smtp_server(tls_context=server_context(certificate), require_starttls=True)
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="starttls")  # no CAFILE: the self-signed cert is unknown

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert "TLS failed" in result.stderr and "COMMSFLOW_SMTP_CAFILE" in result.stderr
    assert "Traceback" not in result.output
    assert handler.received == []


# ---------------------------------------------------------------- 3. implicit TLS


def test_implicit_ssl_with_login(run, project, smtp_server, smtp_env, certificate):
    # aiosmtpd counts only STARTTLS as TLS; on an implicit-TLS port it must be told not to insist.
    handler, port = smtp_server(
        ssl_context=server_context(certificate), authenticator=authenticate, auth_require_tls=False
    )
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="ssl", USER=USER, PASSWORD=PASSWORD, CAFILE=certificate[0])

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 0, result.output
    assert len(handler.received) == 1
    assert handler.received[0].rcpt_tos == list(RECIPIENTS)
    assert "(ssl)" in result.stdout
    assert_no_secret(result, USER, PASSWORD)


def test_implicit_ssl_without_login(run, project, smtp_server, smtp_env, certificate):
    handler, port = smtp_server(ssl_context=server_context(certificate))
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="ssl", CAFILE=certificate[0])

    result = send_test(run, project, ISSUE, recipients=RECIPIENTS[:1])

    assert result.exit_code == 0, result.output
    assert [r.rcpt_tos for r in handler.received] == [[RECIPIENTS[0]]]


# ---------------------------------------------------------------- 4. refused login


WRONG_PASSWORDS = ["falsch-Ö-456?", "plain-ascii-wrong"]


@pytest.mark.parametrize("wrong", WRONG_PASSWORDS)
@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_wrong_password_is_refused_and_never_shown(run, project, smtp_server, smtp_env, certificate, wrong, verbose):
    handler, port = smtp_server(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="starttls", USER=USER, PASSWORD=wrong, CAFILE=certificate[0])

    result = send_test(run, project, ISSUE, before=("-v",) if verbose else ())

    assert result.exit_code == 1, result.output
    assert "login" in result.stderr and USER in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output
    assert_no_secret(result, USER, wrong)
    assert_no_secret(result, USER, PASSWORD)
    assert handler.received == []


# ---------------------------------------------------------------- 5. unreachable server


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_unreachable_server(run, project, smtp_env, security):
    port = free_port()  # nothing listens there any more
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY=security)

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert f"127.0.0.1:{port}" in result.stderr
    assert "cannot send" in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- 6. missing settings


def test_missing_host(run, project, smtp_env):
    smtp_env()

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert "COMMSFLOW_SMTP_HOST is not set" in result.stderr
    assert "Traceback" not in result.output


def test_user_without_password(run, project, smtp_server, smtp_env):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none", USER=USER)

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert "COMMSFLOW_SMTP_USER and COMMSFLOW_SMTP_PASSWORD must be set together" in result.stderr
    assert handler.received == []


def test_password_without_user_is_not_shown(run, project, smtp_server, smtp_env):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none", PASSWORD=PASSWORD)

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert "must be set together" in result.stderr
    assert_no_secret(result, USER, PASSWORD)
    assert handler.received == []


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("SECURITY", "tls", "COMMSFLOW_SMTP_SECURITY='tls' is not known"),
        ("PORT", "fünf", "must be numbers"),
        ("TIMEOUT", "lang", "must be numbers"),
    ],
)
def test_bad_settings(run, project, smtp_env, name, value, expected):
    smtp_env(HOST="127.0.0.1", **{name: value})

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 1, result.output
    assert expected in result.stderr


# ---------------------------------------------------------------- 7. bad address


@pytest.mark.parametrize("bad", ["kein-at-zeichen", "@example.org", "redaktion@"])
def test_bad_recipient_sends_nothing(run, project, smtp_server, smtp_env, bad):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none")

    result = send_test(run, project, ISSUE, recipients=(RECIPIENTS[0], bad))

    assert result.exit_code == 1, result.output
    assert repr(bad) in result.stderr
    assert "Traceback" not in result.output
    assert handler.received == []


def test_to_is_required(run, project, smtp_env):
    smtp_env(HOST="127.0.0.1", SECURITY="none")

    result = send_test(run, project, ISSUE, recipients=())

    assert result.exit_code == 2
    assert "--to" in result.output


# ---------------------------------------------------------------- 8. drafts


def test_drafts_are_marked(run, project, smtp_server, smtp_env):
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none")

    result = send_test(run, project, ISSUE, "--drafts", recipients=RECIPIENTS[:1])

    assert result.exit_code == 0, result.output
    assert "drafts" in result.stderr
    assert len(handler.received) == 1
    message = parse(handler.received[0].content)
    text = parts(message)["text/plain"].get_content()
    assert "[ENTWURF]" in text
    assert "[ENTWURF] MPI Deep Dive zum zirkulären Bauen" in text
    assert str(message["Subject"]) == SUBJECT


def test_a_server_reply_that_echoes_the_password_is_scrubbed(run, project, smtp_server, smtp_env, certificate):
    handler, port = smtp_server(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    echo = base64.b64encode(PASSWORD.encode()).decode()

    async def refuse(server, session, envelope):
        return f"554 5.7.1 rejected for {PASSWORD} ({echo})"

    handler.handle_DATA = refuse
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="starttls", USER=USER, PASSWORD=PASSWORD, CAFILE=certificate[0])

    result = send_test(run, project, ISSUE, before=("-v",))

    assert result.exit_code == 1, result.output
    assert "the server answered 554" in result.stderr and "***" in result.stderr
    assert_no_secret(result, USER, PASSWORD)


def test_a_test_for_a_list_tool_links_the_fixed_pages_not_its_placeholders(run, project, smtp_server, smtp_env):
    """With list_tool = "listmonk" the issue carries listmonk's {{ UnsubscribeURL }}; nothing fills
    it in for a test sent over SMTP, so the test links the unsubscribe page and the web version."""
    config = project / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[newsletter]\n", '[newsletter]\nlist_tool = "listmonk"\n'), encoding="utf-8")
    handler, port = smtp_server()
    smtp_env(HOST="127.0.0.1", PORT=port, SECURITY="none")

    result = send_test(run, project, ISSUE)

    assert result.exit_code == 0, result.output
    by_type = parts(parse(handler.received[0].content))
    html, plain = by_type["text/html"].get_content(), by_type["text/plain"].get_content()
    for content in (html, plain):
        assert "{{" not in content
        assert "https://www.berlin.de/industriestadt/newsletter/abmelden/" in content
        assert f"https://www.berlin.de/industriestadt/newsletter/{ISSUE}/web.html" in content

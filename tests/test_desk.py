"""Issue 14: the desk — `commsflow desk`, a local web application (Starlette) for what needs
a person, the review queue and the calendar. Every change goes through the CLI's own code;
each guard (Host, CSRF, body size, escaping, no files) has its test. The routes are driven
through Starlette's TestClient; one test opens the desk in headless Chromium at phone width."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import real_run

pytest.importorskip("starlette", reason="starlette not installed (pip install -e '.[test]')")
with warnings.catch_warnings():  # newer Starlette asks for httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from commsflow.actions import short_ref  # noqa: E402
from commsflow.desk import MAX_BODY, Desk, create_app  # noqa: E402

POST = "2024-03-04-neu"
TITLE = 'Ein neuer Beitrag 1 < 2 & "x"'
BEFORE = "2024-03-06 09:00"
PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"


def _post(root: Path, channels: str = "[mastodon]") -> None:
    (root / "content" / "posts" / f"{POST}.md").write_text(
        f"---\ntitle: '{TITLE}'\nstatus: approved\ncategory: Aktuelles\ndate: 2024-03-04\n"
        f"summary: Kurz und bündig.\npublish_at: 2024-03-06 10:00\nchannels: {channels}\n---\n\nText.\n",
        encoding="utf-8",
    )


def _client(root: Path, now: str = BEFORE) -> tuple[Desk, TestClient]:
    desk = Desk(root, now, port=PORT)
    return desk, TestClient(create_app(desk), base_url=BASE)


@pytest.fixture
def desk(mpi, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    _post(mpi)
    return _client(mpi)


def _line(run, root: Path, now: str, *needles: str) -> str:
    shown = run(root, "--now", now, "calendar", "--from", "2024-03-06", "--to", "2024-03-06").stdout
    return next(line for line in shown.splitlines() if all(needle in line for needle in needles))


# --- pages -----------------------------------------------------------------------------------


def test_the_pages_are_german_and_each_calendar_job_links_to_its_text(desk):
    _, client = desk
    home = client.get("/")
    assert home.status_code == 200 and "Was braucht mich?" in home.text and '<html lang="de">' in home.text
    review = client.get("/pruefen")
    assert review.status_code == 200 and "Prüfen und freigeben" in review.text
    section = review.text.split(f'id="beitrag-{POST}"', 1)[1].split("</section>", 1)[0]
    assert "mastodon article · 06.03.2024 10:00" in section and "Kurz und bündig." in section
    assert "Freigeben" in section and "Ablehnen" in section
    calendar = client.get("/kalender")
    assert calendar.status_code == 200 and "KW 10/2024" in calendar.text
    job = re.search(r'<a href="/auftrag/(\w+)">„Ein neuer Beitrag', calendar.text)
    assert job is not None
    text = client.get(f"/auftrag/{job.group(1)}")
    assert text.status_code == 200 and "Den vollständigen Beitrag lesen Sie in unserem Blog" in text.text
    assert client.get("/auftrag/0000000000").status_code == 404


def test_the_calendar_filters_by_channel(desk):
    _, client = desk
    everything = client.get("/kalender").text
    assert "· linkedin ·" in everything and "· mastodon ·" in everything
    mastodon = client.get("/kalender?kanal=mastodon").text
    assert "Kalender: mastodon" in mastodon and "· mastodon ·" in mastodon and "· linkedin ·" not in mastodon
    assert 'href="/kalender?kanal=linkedin"' in mastodon
    unknown = client.get("/kalender?kanal=%3Cb%3E").text
    assert "Kalender: &lt;b&gt;" in unknown and "/auftrag/" not in unknown


def test_the_review_shows_lint_findings_with_their_item(desk, mpi):
    _, client = desk
    section = client.get("/pruefen").text.split(f'id="beitrag-{POST}"', 1)[1].split("</section>", 1)[0]
    assert "Hinweise der Prüfung" not in section
    post = mpi / "content" / "posts" / f"{POST}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("Text.", "Hast du Lust? Text."), encoding="utf-8")
    page = client.get("/pruefen").text
    section = page.split(f'id="beitrag-{POST}"', 1)[1].split("</section>", 1)[0]
    assert "Hinweise der Prüfung" in section and "informal address &#39;du&#39;" in section
    assert page.count("informal address") == 1  # with its item only


def test_a_stale_signoff_shows_what_changed(desk):
    _, client = desk
    # The new post joined the newsletter issue that was signed off before it: its sign-off is stale.
    review = client.get("/pruefen").text
    section = review.split('id="beitrag-newsletter-2024-1"', 1)[1].split("</section>", 1)[0]
    assert "approval stale" in section
    diff = re.search(r'<pre class="diff">(.*?)</pre>', section, re.S)
    assert diff is not None and "+Ein neuer Beitrag 1 &lt; 2 &amp; &#34;x&#34;" in diff.group(1)


# --- guards ----------------------------------------------------------------------------------


def test_only_requests_addressed_to_this_machine_are_answered(desk):
    _, client = desk
    assert client.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:9999", "localhost"):
        refused = client.get("/", headers={"host": host})
        assert refused.status_code == 421, host
        assert "nur unter http://127.0.0.1:8766/" in refused.text


def test_a_form_without_the_csrf_token_changes_nothing(desk, mpi):
    _, client = desk
    before = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    for data in ({"key": POST}, {"key": POST, "csrf": "0" * 64}, {"key": POST, "csrf": ""}):
        response = client.post("/pruefen/freigeben", data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    assert client.post("/aktion/dismiss", data={"ref": "x", "reason": "y"}).status_code == 403
    assert (mpi / "approvals.yaml").read_text(encoding="utf-8") == before


def test_request_bodies_are_bounded(desk, mpi):
    desk_, client = desk
    before = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    big = {"csrf": desk_.token, "key": POST, "reason": "x" * (MAX_BODY + 1)}
    assert client.post("/pruefen/ablehnen", data=big).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY // 1000 + 2):
            yield b"a" * 1000

    assert client.post("/pruefen/ablehnen", content=chunks()).status_code == 413
    assert (mpi / "approvals.yaml").read_text(encoding="utf-8") == before


def test_no_other_site_may_frame_the_desk_or_load_into_it(desk):
    _, client = desk
    headers = client.get("/pruefen").headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "form-action 'self'" in policy
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_the_desk_says_who_acts(desk, monkeypatch, mpi):
    desk_, client = desk
    assert "Sie handeln als Dana Schulz" in client.get("/").text
    monkeypatch.delenv("COMMSFLOW_USER")
    monkeypatch.setenv("HOME", str(mpi))  # no git identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    page = client.get("/").text
    assert "Wer handelt, ist nicht bekannt: COMMSFLOW_USER setzen" in page
    nobody = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert nobody.status_code == 400 and "who signs off is not known" in nobody.text
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")


def test_item_text_is_escaped_everywhere(desk):
    _, client = desk
    for path in ("/pruefen", "/kalender"):
        page = client.get(path).text
        assert "1 &lt; 2 &amp; &#34;x&#34;" in page, path
        assert "1 < 2" not in page, path


def test_no_file_is_served(desk):
    _, client = desk
    for path in (
        "/approvals.yaml",
        "/commsflow.toml",
        "/templates/desk/base.html",
        "/../commsflow.toml",
        "/%2e%2e/commsflow.toml",
        "/static/base.html",
        "/auftrag/..%2fcommsflow.toml",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "require_signoff" not in response.text


# --- sign-off and rejection ------------------------------------------------------------------


def test_signing_off_writes_approvals_yaml_as_the_acting_person_and_unblocks_the_job(desk, mpi, run):
    desk_, client = desk
    assert "blocked" in _line(run, mpi, BEFORE, "mastodon", POST)
    assert ref_state(client, "mastodon") == "zurückgehalten"
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")
    response = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert response.status_code == 200, response.text
    assert f"{POST} freigegeben von Dana Schulz" in response.text
    text = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert POST in text and "Dana Schulz" in text
    assert "planned" in _line(run, mpi, BEFORE, "mastodon", POST)
    assert f'id="beitrag-{POST}"' not in client.get("/pruefen").text  # no longer waiting
    assert ref_state(client, "mastodon") == "geplant"


def ref_state(client: TestClient, channel: str) -> str:
    """The state the desk's calendar shows for the new post's job on ``channel``."""
    page = client.get("/kalender").text
    found = re.search(rf"· {channel} · <a [^>]*>„Ein neuer Beitrag[^<]*</a>\s*<span [^>]*>([^<]*)</span>", page)
    assert found is not None
    return found.group(1)


def test_an_item_that_cannot_be_signed_off_says_why(desk, mpi):
    desk_, client = desk
    post = mpi / "content" / "posts" / f"{POST}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("status: approved", "status: review"), encoding="utf-8")
    response = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert response.status_code == 400 and "Nicht möglich" in response.text and "only approved" in response.text
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")


def test_rejecting_needs_a_reason_and_records_it(desk, mpi, run):
    desk_, client = desk
    before = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    empty = client.post("/pruefen/ablehnen", data={"csrf": desk_.token, "key": POST, "reason": "  "})
    assert empty.status_code == 400 and "Grund" in empty.text
    assert (mpi / "approvals.yaml").read_text(encoding="utf-8") == before
    response = client.post(
        "/pruefen/ablehnen", data={"csrf": desk_.token, "key": POST, "reason": "Die Zahl stimmt nicht"}
    )
    assert response.status_code == 200, response.text
    text = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert "Die Zahl stimmt nicht" in text and "Dana Schulz" in text
    assert "rejected by Dana Schulz" in response.text  # the queue shows it rejected
    _, soon = _client(mpi, "2024-03-06 09:30")
    home = soon.get("/").text
    assert "Die Zahl stimmt nicht" in home and f'href="/pruefen#beitrag-{POST}"' in home
    assert "blocked" in _line(run, mpi, BEFORE, "mastodon", POST)


def test_the_role_rules_apply(desk, mpi, monkeypatch):
    desk_, client = desk
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[people]]\nname = "Dana Schulz"\nroles = ["author"]\n\n[[people]]\nname = "Kai Roth"\nroles = ["reviewer"]\n',
        encoding="utf-8",
    )
    before = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    refused = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert refused.status_code == 400 and "Dana Schulz may not sign off" in refused.text
    assert (mpi / "approvals.yaml").read_text(encoding="utf-8") == before
    monkeypatch.setenv("COMMSFLOW_USER", "Kai Roth")
    assert client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST}).status_code == 200
    assert "Kai Roth" in (mpi / "approvals.yaml").read_text(encoding="utf-8")


# --- what needs a person ---------------------------------------------------------------------


def _webhook(root: Path, monkeypatch, url: str) -> None:
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[publishing]\n", '[publishing]\nwebhook = "webhook"\n', 1), encoding="utf-8")
    _post(root, "[webhook]")
    monkeypatch.setenv("COMMSFLOW_WEBHOOK_URL", url)


def _history(root: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    try:
        return db.execute("SELECT state, detail FROM history WHERE job LIKE 'einzeln/webhook/%'").fetchall()
    finally:
        db.close()


def _failed(run, root: Path, monkeypatch, httpserver) -> str:
    _webhook(root, monkeypatch, httpserver.url_for("/hook"))
    assert run(root, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz").exit_code == 0
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("invalid token", status=403)
    assert "failed" in real_run(root, "2024-03-06 10:01", "--once").stdout
    job = next(job_id for job_id in _jobs(root) if job_id.startswith("einzeln/webhook/"))
    return short_ref(job)


def _jobs(root: Path) -> list[str]:
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    try:
        return [row[0] for row in db.execute("SELECT id FROM jobs")]
    finally:
        db.close()


def test_a_failed_job_is_shown_and_retried_from_the_desk(run, mpi, monkeypatch, httpserver):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    ref = _failed(run, mpi, monkeypatch, httpserver)
    desk_, client = _client(mpi, "2024-03-06 10:02")
    page = client.get("/").text
    section = page.split(f'id="auftrag-{ref}"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Fehlgeschlagen</h2>" in page
    assert "403" in section and "Erneut senden" in section and "„Ein neuer Beitrag 1 &lt; 2" in section
    response = client.post("/aktion/retry", data={"csrf": desk_.token, "ref": ref})
    assert response.status_code == 200, response.text
    assert "erneut gesendet" in response.text and f'id="auftrag-{ref}"' not in response.text
    assert _history(mpi)[-1] == ("retry", "Dana Schulz")
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok", status=200)
    assert "✓ done" in real_run(mpi, "2024-03-06 10:06", "--once").stdout
    again = client.post("/aktion/retry", data={"csrf": desk_.token, "ref": ref})
    assert again.status_code == 400 and "went out already" in again.text


def test_dismiss_needs_a_reason_and_posted_a_full_address(run, mpi, monkeypatch, httpserver):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    ref = _failed(run, mpi, monkeypatch, httpserver)
    desk_, client = _client(mpi, "2024-03-06 10:02")
    before = _history(mpi)
    assert client.post("/aktion/dismiss", data={"csrf": desk_.token, "ref": ref, "reason": " "}).status_code == 400
    bad = client.post("/aktion/posted", data={"csrf": desk_.token, "ref": ref, "url": "chat.example.org/4711"})
    assert bad.status_code == 400 and "https://" in bad.text
    assert client.post("/aktion/nonsense", data={"csrf": desk_.token, "ref": ref}).status_code == 400
    assert _history(mpi) == before
    posted = client.post(
        "/aktion/posted", data={"csrf": desk_.token, "ref": ref, "url": "https://chat.example.org/messages/4711"}
    )
    assert posted.status_code == 200 and "von Hand veröffentlicht" in posted.text
    assert _history(mpi)[-1] == ("posted", "Dana Schulz: published by hand")


def test_only_a_publisher_acts_on_jobs_when_people_are_listed(run, mpi, monkeypatch, httpserver):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    ref = _failed(run, mpi, monkeypatch, httpserver)
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[[people]]\nname = "Dana Schulz"\nroles = ["reviewer"]\n',
        encoding="utf-8",
    )
    desk_, client = _client(mpi, "2024-03-06 10:02")
    before = _history(mpi)
    refused = client.post("/aktion/retry", data={"csrf": desk_.token, "ref": ref})
    assert refused.status_code == 400 and "Dana Schulz may not retry jobs" in refused.text
    assert _history(mpi) == before


# --- the command -----------------------------------------------------------------------------


def test_the_desk_refuses_another_address_without_a_login(run, mpi):
    result = run(mpi, "desk", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "listens only on 127.0.0.1" in result.output and "no login" in result.output
    assert "ssh -L 8766:127.0.0.1:8766" in result.output


def test_a_port_in_use_is_named(run, mpi):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = run(mpi, "desk", "--port", port)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


# --- in a real browser -----------------------------------------------------------------------

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


def _chromium_or_skip() -> str:
    """The system Chromium (COMMSFLOW_CHROMIUM overrides), or the test is skipped saying why."""
    pytest.importorskip("playwright.sync_api", reason="playwright not importable (pip install -e '.[test]')")
    override = os.environ.get("COMMSFLOW_CHROMIUM")
    found = shutil.which(override) if override else shutil.which("chromium")
    if found is None:
        pytest.skip("Chromium not found (install Debian's chromium, or set COMMSFLOW_CHROMIUM) — browser test skipped")
    return found


@contextmanager
def _serving(root: Path, now: str):
    """The desk served by uvicorn from a thread, on a free port of 127.0.0.1: its address."""
    import uvicorn

    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    desk = Desk(root, now, port=port)
    server = uvicorn.Server(uvicorn.Config(create_app(desk), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the desk did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()


def test_the_desk_on_a_phone_signs_off_by_a_click(mpi, monkeypatch, run):
    chromium = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    _post(mpi)
    with _serving(mpi, BEFORE) as address, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            problems: list[str] = []
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            outside: list[str] = []

            def route(route):  # no test touches the internet: only the desk itself
                if route.request.url.startswith(address):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", route)
            for path in ("/", "/kalender", "/pruefen"):
                page.goto(address + path)
                width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
                assert width[0] <= width[1], f"{path} scrolls sideways at 390 px: {width}"
            section = page.locator(f"#beitrag-{POST}")
            assert "Kurz und bündig." in section.inner_text()
            with page.expect_navigation():
                section.get_by_role("button", name="Freigeben").click()
            assert f"{POST} freigegeben von Dana Schulz" in page.inner_text("main")
            assert page.locator(f"#beitrag-{POST}").count() == 0
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            assert problems == [] and outside == []
        finally:
            browser.close()
    assert "Dana Schulz" in (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert "planned" in _line(run, mpi, BEFORE, "mastodon", POST)

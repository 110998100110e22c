"""Issue 14: the desk — `commsflow desk`, a local web application (Starlette) for what needs
a person, the review queue and the calendar. Every change goes through the CLI's own code;
each guard (Host, CSRF, body size, escaping, no files) has its test. The routes are driven
through Starlette's TestClient; one test opens the desk in headless Chromium at phone width."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import threading
import time
import warnings
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from conftest import real_run

pytest.importorskip("starlette", reason="starlette not installed (pip install -e '.[test]')")
with warnings.catch_warnings():  # newer Starlette asks for httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from commsflow.actions import short_ref  # noqa: E402
from commsflow.desk import MAX_BODY, Desk, create_app  # noqa: E402
from commsflow.feeds.config import Feed  # noqa: E402
from commsflow.feeds.fetch import Entry  # noqa: E402
from commsflow.feeds.news import render_news  # noqa: E402

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
    from commsflow import i18n

    _, client = desk
    i18n.use("de")  # as `commsflow desk` starts by default
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


def test_the_desk_speaks_english_on_request_and_german_by_default(desk):
    """The pages, their states and counts, and what the desk's code says on them, in the language
    commsflow speaks: `commsflow desk --lang en`, or German (the default)."""
    from commsflow import i18n

    desk_, client = desk
    rejected = {"csrf": desk_.token, "key": POST, "reason": " "}
    # (where, English, German): the same places in both languages
    places = [
        ("/", '<html lang="en">', '<html lang="de">'),
        ("/", "<h1>What needs me?</h1>", "<h1>Was braucht mich?</h1>"),
        ("/", "You act as Dana Schulz", "Sie handeln als Dana Schulz"),
        (
            "/pruefen",
            "<title>Review and sign off – commsflow</title>",
            "<title>Prüfen und freigeben – commsflow</title>",
        ),
        ("/pruefen", '<button type="submit">Sign off</button>', '<button type="submit">Freigeben</button>'),
        (
            "/pruefen",
            "“Ein neuer Beitrag 1 &lt; 2 &amp; &#34;x&#34;”",
            "„Ein neuer Beitrag 1 &lt; 2 &amp; &#34;x&#34;“",
        ),
        ("/kalender", "Week 10/2024", "KW 10/2024"),
        ("/newsletter", "<strong>Aus dem Blog</strong>: 4 items", "<strong>Aus dem Blog</strong>: 4 Beiträge"),
        ("/newsletter", "<strong>Termine</strong>: 1 item", "<strong>Termine</strong>: 1 Beitrag"),
        ("/auftrag/0000000000", "No job 0000000000 in the calendar.", "Kein Auftrag 0000000000 im Kalender."),
        ("reject", "Not possible: Please give a reason", "Nicht möglich: Bitte einen Grund angeben"),
        ("/vorschau/0000000000", "No preview: no newsletter", "Keine Vorschau: kein Newsletter"),
    ]
    states = {"en": "held back", "de": "zurückgehalten"}
    for language, column in (("en", 1), ("de", 2)):
        i18n.use(language)
        pages = {path: client.get(path).text for path in {place[0] for place in places} - {"reject"}}
        pages["reject"] = client.post("/pruefen/ablehnen", data=rejected).text
        for place in places:
            assert place[column] in pages[place[0]], (language, place)
            assert place[3 - column] not in pages[place[0]], (language, place)
        assert ref_state(client, "mastodon") == states[language]


def test_the_calendar_filters_by_channel(desk):
    _, client = desk
    everything = client.get("/kalender").text
    assert "· linkedin ·" in everything and "· mastodon ·" in everything
    mastodon = client.get("/kalender?kanal=mastodon").text
    assert "Calendar: mastodon" in mastodon and "· mastodon ·" in mastodon and "· linkedin ·" not in mastodon
    assert 'href="/kalender?kanal=linkedin"' in mastodon
    unknown = client.get("/kalender?kanal=%3Cb%3E").text
    assert "Calendar: &lt;b&gt;" in unknown and "/auftrag/" not in unknown


def test_the_review_shows_lint_findings_with_their_item(desk, mpi):
    _, client = desk
    section = client.get("/pruefen").text.split(f'id="beitrag-{POST}"', 1)[1].split("</section>", 1)[0]
    assert "Findings of the check" not in section
    post = mpi / "content" / "posts" / f"{POST}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("Text.", "Hast du Lust? Text."), encoding="utf-8")
    page = client.get("/pruefen").text
    section = page.split(f'id="beitrag-{POST}"', 1)[1].split("</section>", 1)[0]
    assert "Findings of the check" in section and "informal address &#39;du&#39;" in section
    assert page.count("informal address") == 1  # with its item only


def test_a_stale_signoff_shows_what_changed(desk):
    _, client = desk
    # The new post joined the newsletter issue that was signed off before it: its sign-off is stale.
    review = client.get("/pruefen").text
    section = review.split('id="beitrag-newsletter-2024-1"', 1)[1].split("</section>", 1)[0]
    assert "approval stale" in section
    diff = re.search(r'<pre class="diff">(.*?)</pre>', section, re.S)
    assert diff is not None and "+Ein neuer Beitrag 1 &lt; 2 &amp; &#34;x&#34;" in diff.group(1)


# --- renditions as they will look ------------------------------------------------------------


def _item(root: Path, slug: str, title: str, summary: str, channels: str) -> None:
    (root / "content" / "posts" / f"{slug}.md").write_text(
        f"---\ntitle: {json.dumps(title)}\nstatus: approved\ncategory: Aktuelles\ndate: 2024-03-04\n"
        f"summary: {json.dumps(summary)}\npublish_at: 2024-03-06 10:00\nchannels: {channels}\n---\n\nText.\n",
        encoding="utf-8",
    )


def _rendition(root: Path, channel: str, item: str):
    """The job of ``item`` on ``channel`` rendered from the plan, as the desk's routes do:
    (its short reference, the rendition)."""
    from commsflow.plan import open_plan
    from commsflow.workspace import Workspace

    plan = open_plan(Workspace(root, BEFORE, True))
    job = next(job for job in plan.jobs if job.channel == channel and job.item == item)
    return short_ref(job.id), plan.render(job)


def _section(page: str, key: str) -> str:
    return page.split(f'id="beitrag-{key}"', 1)[1].split("</section>", 1)[0]


def test_the_review_shows_the_newsletter_issue_in_two_frames_of_its_exact_email(desk, mpi):
    _, client = desk
    review = client.get("/pruefen")
    section = _section(review.text, "newsletter-2024-1")
    frames = re.findall(r'<iframe src="(/vorschau/(\w+))" sandbox width="(\d+)"', section)
    assert [width for _, _, width in frames] == ["640", "375"]
    ref, rendition = _rendition(mpi, "newsletter", "newsletter-2024-1")
    assert {src for src, _, _ in frames} == {f"/vorschau/{ref}"}
    assert "The e-mail's plain text" in section and "approval stale" in section  # and what was there before
    # The page allows these frames and no others; every other page still allows none.
    policy = review.headers["content-security-policy"]
    assert "frame-src http://127.0.0.1:8766/vorschau/ http://localhost:8766/vorschau/" in policy
    assert "frame-ancestors 'none'" in policy and "script-src" not in policy
    assert "frame-src" not in client.get("/").headers["content-security-policy"]
    shown = client.get(f"/vorschau/{ref}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "text/html; charset=utf-8"
    assert shown.content == rendition.payload.files["email.html"]  # the bytes that go out
    assert b"Ein neuer Beitrag 1 &lt; 2" in shown.content
    frame_policy = shown.headers["content-security-policy"]
    for part in ("default-src 'none'", "style-src 'unsafe-inline'", "img-src https: data:", "frame-ancestors 'self'"):
        assert part in frame_policy
    assert "sandbox" in frame_policy.split("; ") and "script" not in frame_policy
    assert shown.headers["x-frame-options"] == "SAMEORIGIN" and shown.headers["x-content-type-options"] == "nosniff"
    # The job page of the issue (the calendar links there) shows the same frames.
    job = client.get(f"/auftrag/{ref}")
    assert job.status_code == 200 and job.text.count(f'<iframe src="/vorschau/{ref}" sandbox') == 2
    assert "frame-src http://127.0.0.1:8766/vorschau/" in job.headers["content-security-policy"]


def test_a_press_release_is_shown_in_its_print_view(mpi, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    _item(mpi, POST, "Neue Halle in Adlershof", "Kurz und bündig.", "[press]")
    _, client = _client(mpi)
    section = _section(client.get("/pruefen").text, POST)
    ref, rendition = _rendition(mpi, "press", POST)
    assert f'<iframe class="print" src="/vorschau/{ref}" sandbox' in section and "Print view" in section
    shown = client.get(f"/vorschau/{ref}")
    assert shown.status_code == 200 and shown.content == rendition.payload.files["release.html"]
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]


def test_the_preview_route_refuses_anything_but_a_known_short_ref(desk, mpi):
    _, client = desk
    post, _ = _rendition(mpi, "mastodon", POST)  # known, but a post has no HTML to frame
    issue, _ = _rendition(mpi, "newsletter", "newsletter-2024-1")
    shown_policy = client.get(f"/vorschau/{issue}").headers["content-security-policy"]
    for ref in ("0000000000"[: len(post)], post, post.upper(), post + "0", "zz", "%2e%2e", "email.html"):
        refused = client.get(f"/vorschau/{ref}")
        assert refused.status_code == 404, ref
        assert "No preview" in refused.text
        assert refused.headers["content-security-policy"] == shown_policy  # said in the frame
    for path in ("/vorschau/", "/vorschau", "/vorschau/..%2fcommsflow.toml", "/vorschau/newsletter-2024-1/email.html"):
        assert client.get(path).status_code == 404, path
    assert client.post("/vorschau/" + post, data={"csrf": "x"}).status_code == 405


def test_a_post_shows_where_the_feed_cuts_it(mpi, monkeypatch):
    from markupsafe import escape

    from commsflow.renderers.linkedin import feed_cut

    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    _item(mpi, POST, "Neue Halle in Adlershof", "Ein Satz, der den Feed füllt. " * 10, "[mastodon]")
    _, client = _client(mpi)
    ref, rendition = _rendition(mpi, "mastodon", POST)
    text = rendition.payload.text
    cut = feed_cut(text)
    assert cut is not None
    section = _section(client.get("/pruefen").text, POST)
    card = section.split(f'<a href="/auftrag/{ref}">mastodon article', 1)[1]
    assert f'<p>{escape(text[:cut])}<span class="cut">…more' in card
    assert f'<span class="after">{escape(text[cut:])}</span>' in card
    assert f"{len(text)} characters · “…more” after character {cut}" in card
    job = client.get(f"/auftrag/{ref}").text  # the job page shows it the same way
    assert '<span class="cut">…more' in job and f"{len(text)} characters" in job


def test_an_event_shows_its_calendar_entry(desk):
    _, client = desk
    section = _section(client.get("/pruefen").text, "mpi-deep-dive-zirkulaeres-bauen-2024")
    entry = section.split("Calendar entry (.ics)", 1)[1]
    assert "<dd>MPI Deep Dive zum zirkulären Bauen</dd>" in entry
    assert "<dd>10.07.2024, all day</dd>" in entry and "<dd>Modell-Campus ringberlin, Berlin</dd>" in entry


def test_a_title_with_a_script_is_shown_as_text(mpi, monkeypatch):
    # Raw HTML in a title is refused when content is read; in a Markdown code span it is text.
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    _item(mpi, POST, "Sicher: `<script>alert(1)</script>` bleibt Text", "Kurz und bündig.", "[mastodon, press]")
    _, client = _client(mpi)
    pages = [client.get("/pruefen").text, client.get("/kalender").text]
    pages += [client.get(f"/auftrag/{_rendition(mpi, channel, POST)[0]}").text for channel in ("mastodon", "press")]
    for page in pages:
        assert "Sicher: `&lt;script&gt;alert(1)&lt;/script&gt;` bleibt Text" in page
        assert "<script" not in page
    for channel, item in (("press", POST), ("newsletter", "newsletter-2024-1")):
        framed = client.get(f"/vorschau/{_rendition(mpi, channel, item)[0]}").content.decode("utf-8")
        assert "&lt;script&gt;alert(1)" in framed  # in the text: escaped
        # No script element anywhere. (In a quoted attribute, e.g. the button's aria-label, the
        # e-mail's CSS inliner writes < as it is: text there, not markup, as every browser reads it.)
        assert "script" not in _start_tags(framed), channel


def _start_tags(html: str) -> set[str]:
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        found: set[str] = set()

        def handle_starttag(self, tag, attrs):
            self.found.add(tag)

    parser = Tags()
    parser.found = set()
    parser.feed(html)
    return parser.found


# --- guards ----------------------------------------------------------------------------------


def test_only_requests_addressed_to_this_machine_are_answered(desk):
    _, client = desk
    assert client.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:9999", "localhost"):
        refused = client.get("/", headers={"host": host})
        assert refused.status_code == 421, host
        assert "only at http://127.0.0.1:8766/, http://[::1]:8766/, http://localhost:8766/." in refused.text


def test_a_request_to_another_address_is_told_where_the_desk_answers_in_german(desk):
    from commsflow import i18n

    _, client = desk
    i18n.use("de")
    refused = client.get("/", headers={"host": "evil.example"})
    assert refused.status_code == 421
    assert refused.text == (
        "Falsche Adresse: Der Schreibtisch antwortet nur unter http://127.0.0.1:8766/, http://[::1]:8766/, "
        "http://localhost:8766/."
    )


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
    assert "You act as Dana Schulz" in client.get("/").text
    monkeypatch.delenv("COMMSFLOW_USER")
    monkeypatch.setenv("HOME", str(mpi))  # no git identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    page = client.get("/").text
    assert "It is not known who acts: set COMMSFLOW_USER" in page
    nobody = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert nobody.status_code == 400 and "who signs off is not known" in nobody.text
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")


def test_item_text_is_escaped_everywhere(desk):
    _, client = desk
    for path in ("/pruefen", "/kalender", MARCH):
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
        "/vorschau/..%2fcommsflow.toml",
        "/vorschau/%2e%2e%2fapprovals.yaml",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "require_signoff" not in response.text


# --- sign-off and rejection ------------------------------------------------------------------


def test_signing_off_writes_approvals_yaml_as_the_acting_person_and_unblocks_the_job(desk, mpi, run):
    desk_, client = desk
    assert "blocked" in _line(run, mpi, BEFORE, "mastodon", POST)
    assert ref_state(client, "mastodon") == "held back"
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")
    response = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert response.status_code == 200, response.text
    assert f"{POST} signed off by Dana Schulz" in response.text
    text = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert POST in text and "Dana Schulz" in text
    assert "planned" in _line(run, mpi, BEFORE, "mastodon", POST)
    assert f'id="beitrag-{POST}"' not in client.get("/pruefen").text  # no longer waiting
    assert ref_state(client, "mastodon") == "planned"


def ref_state(client: TestClient, channel: str) -> str:
    """The state the desk's calendar shows for the new post's job on ``channel``."""
    page = client.get("/kalender").text
    found = re.search(rf"· {channel} · <a [^>]*>[„“]Ein neuer Beitrag[^<]*</a>\s*<span [^>]*>([^<]*)</span>", page)
    assert found is not None
    return found.group(1)


def test_an_item_that_cannot_be_signed_off_says_why(desk, mpi):
    desk_, client = desk
    post = mpi / "content" / "posts" / f"{POST}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("status: approved", "status: review"), encoding="utf-8")
    response = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST})
    assert response.status_code == 400 and "Not possible" in response.text and "only approved" in response.text
    assert POST not in (mpi / "approvals.yaml").read_text(encoding="utf-8")


def test_rejecting_needs_a_reason_and_records_it(desk, mpi, run):
    desk_, client = desk
    before = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    empty = client.post("/pruefen/ablehnen", data={"csrf": desk_.token, "key": POST, "reason": "  "})
    assert empty.status_code == 400 and "Please give a reason" in empty.text
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
    assert "<h2>Failed</h2>" in page
    assert "403" in section and "Send again" in section and "“Ein neuer Beitrag 1 &lt; 2" in section
    response = client.post("/aktion/retry", data={"csrf": desk_.token, "ref": ref})
    assert response.status_code == 200, response.text
    assert "sent again" in response.text and f'id="auftrag-{ref}"' not in response.text
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
    assert posted.status_code == 200 and "recorded as posted by hand" in posted.text
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


# --- the month, the newsletter issues, the partner news ----------------------------------------

MARCH = "/kalender?ansicht=monat&monat=2024-03"
FEED_TITLE = 'Neue Runde `<script>alert(1)</script>` & "mehr"'  # a code span: the content model's plain text


def _day(page: str, shown: str) -> str:
    """The month grid's cell of the day shown as ``shown`` (``Di 05.03.2024``), from its date on."""
    return page.split(f'<span class="full">{shown}</span>', 1)[1].split('<li class="day', 1)[0]


def test_the_month_view_shows_each_day_with_its_jobs_linking_to_their_text(desk):
    from commsflow import i18n

    _, client = desk
    i18n.use("de")  # the days and months as the team reads them: German dates and words
    page = client.get(MARCH)
    assert page.status_code == 200 and "Kalender: März 2024" in page.text
    weekdays = "".join(f"<span>{day}</span>" for day in ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"))
    assert weekdays in page.text
    first = page.text.split('<ol class="days">', 1)[1]
    assert first.index("Mo 26.02.2024") < first.index("Fr 01.03.2024") < first.index("So 31.03.2024")
    fifth = _day(page.text, "Di 05.03.2024")
    job = re.search(r'10:00 · linkedin</span>\s*<a href="/auftrag/(\w+)">„2. Monitoring-Bericht', fifth)
    assert job is not None and "verpasst" in fifth
    weeks = client.get("/kalender").text  # the same job as the week view links to
    assert f'<a href="/auftrag/{job.group(1)}">„2. Monitoring-Bericht' in weeks
    text = client.get(f"/auftrag/{job.group(1)}")
    assert text.status_code == 200 and "2. Monitoring-Bericht" in text.text
    today = re.search(r'<li class="day today" aria-current="date">\s*<div class="date">[^\n]*06.03.2024', page.text)
    assert today is not None and "heute" in _day(page.text, "Mi 06.03.2024")
    assert "„Ein neuer Beitrag 1 &lt; 2 &amp; &#34;x&#34;“" in _day(page.text, "Mi 06.03.2024")
    assert client.get("/kalender?ansicht=monat").text.count("Kalender: März 2024") == 1  # the clock's month


def test_the_month_view_filters_by_channel_and_goes_from_month_to_month(desk):
    from commsflow import i18n

    _, client = desk
    i18n.use("de")  # the days and months as the team reads them: German dates and words
    mastodon = client.get(MARCH + "&kanal=mastodon").text
    assert "Kalender: März 2024 · mastodon" in mastodon
    assert "· mastodon</span>" in mastodon and "· linkedin</span>" not in mastodon
    assert "Ein neuer Beitrag" in _day(mastodon, "Mi 06.03.2024") and "/auftrag/" not in _day(mastodon, "Di 05.03.2024")
    assert 'href="/kalender?ansicht=monat&amp;monat=2024-02&amp;kanal=mastodon" rel="prev">← Februar 2024' in mastodon
    assert 'href="/kalender?ansicht=monat&amp;monat=2024-04&amp;kanal=mastodon" rel="next">April 2024 →' in mastodon
    assert 'href="/kalender?ansicht=monat&amp;monat=2024-03&amp;kanal=linkedin"' in mastodon
    april = client.get("/kalender?ansicht=monat&monat=2024-04&kanal=newsletter").text
    assert "Kalender: April 2024 · newsletter" in april and "zum laufenden Monat" in april
    assert "„MPI-Newsletter 1/2024“" in _day(april, "Do 04.04.2024") and "linkedin</span>" not in april
    weeks = client.get("/kalender?kanal=mastodon").text
    assert 'href="/kalender?ansicht=monat&amp;kanal=mastodon"' in weeks  # to the month, the filter kept
    for wrong in ("2024-13", "März", "0999-01"):
        refused = client.get(f"/kalender?ansicht=monat&monat={wrong}")
        assert refused.status_code == 400 and f"„{wrong}“ ist kein Monat" in refused.text
        assert "Kalender: März 2024" in refused.text


def test_the_newsletter_page_lists_each_issue_with_its_sections(desk):
    _, client = desk
    page = client.get("/newsletter")
    assert page.status_code == 200 and 'href="/newsletter" aria-current="page"' in page.text
    issue = page.text.split('id="ausgabe-newsletter-2024-1"', 1)[1].split("</section>", 1)[0]
    assert "<h2>MPI-Newsletter 1/2024</h2>" in issue and "<dd>MPI-Newsletter: Einladung zum MPI Meet-up" in issue
    assert "<dt>Sending</dt><dd>Thu 04.04.2024 10:00</dd>" in issue
    # The new post joined the issue after its sign-off: held back, its sign-off stale.
    assert "held back" in issue and "sign-off stale" in issue
    assert 'href="/pruefen#beitrag-newsletter-2024-1"' in issue
    assert "<strong>Aus dem Blog</strong>: 4 items" in issue and "<strong>Termine</strong>: 1 item" in issue
    projects = issue.split("<strong>Aus den Projekten</strong>", 1)[1]
    assert "Not in yet, because not approved" in projects
    assert "“AMBER: 12 Forschungs- und Entwicklungsprojekte" in projects and "(in review)" in projects
    assert "content/news/2024-02-14-amber-zwoelf-forschungsprojekte.md" in projects
    ref = re.search(r'<a href="/auftrag/(\w+)">View the issue\'s text</a>', issue)
    assert ref is not None
    job = client.get(f"/auftrag/{ref.group(1)}")
    assert job.status_code == 200 and "MPI-Newsletter 1/2024" in job.text
    earlier = page.text.split('id="ausgabe-newsletter-2023-2"', 1)[1].split("</section>", 1)[0]
    assert "missed" in earlier and "Wed 08.11.2023 10:00" in earlier and "(only the call to action)" in earlier
    assert page.text.index("ausgabe-newsletter-2023-2") < page.text.index("ausgabe-newsletter-2024-1")


def _feed_news(root: Path) -> Path:
    """A news item as `commsflow feeds fetch` writes it (commsflow.feeds.news.render_news)."""
    feed = Feed(name="circular-berlin", url="https://circular.berlin/feed/", project="circular-city-challenge")
    entry = Entry(
        title=FEED_TITLE,
        day=date(2024, 3, 4),
        date_assumed=True,
        link="https://circular.berlin/news/neue-runde/",
        guid="https://circular.berlin/?p=4711",
        summary="Die Challenge geht in die nächste Runde.",
        summary_html="<p>Die Challenge geht in die nächste Runde.</p>",
        digest=None,
    )
    path = root / "content" / "news" / "2024-03-04-neue-runde.md"
    path.write_text(render_news(feed, entry), encoding="utf-8")
    return path


def test_the_partner_page_lists_feed_news_waiting_for_review(desk, mpi):
    _, client = desk
    assert "No partner news waits for review." in client.get("/partnermeldungen").text
    path = _feed_news(mpi)
    page = client.get("/partnermeldungen")
    assert page.status_code == 200 and 'href="/partnermeldungen" aria-current="page"' in page.text
    section = page.text.split('id="meldung-2024-03-04-neue-runde"', 1)[1].split("</section>", 1)[0]
    assert "“Neue Runde `&lt;script&gt;alert(1)&lt;/script&gt;` &amp; &#34;mehr&#34;”" in section
    assert "<script>" not in page.text
    assert "from the feed <strong>circular-berlin</strong> · Mon 04.03.2024 (assumed" in section
    assert '<a href="https://circular.berlin/news/neue-runde/"' in section and "Die Challenge geht" in section
    assert "<code>content/news/2024-03-04-neue-runde.md</code>" in section
    assert "<code>status: approved</code>" in page.text  # how it goes out
    assert "AMBER" not in page.text  # in review too, but written by hand: no feed's
    path.write_text(path.read_text(encoding="utf-8").replace("status: review", "status: approved"), encoding="utf-8")
    assert 'id="meldung-' not in client.get("/partnermeldungen").text


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


# --- the login -------------------------------------------------------------------------------

PASSWORD = "richtig-geheim-42"
VARIABLE = "COMMSFLOW_DESK_PASSWORD_DANA"


def _with_login(root: Path, monkeypatch, value: str | None = None) -> None:
    """Dana (reviewer, publisher) may log in; Kai (an author) has no password."""
    from commsflow.passwords import hash_password

    config = root / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[[people]]\nname = "Dana Schulz"\nemail = "dana@example.org"\nroles = ["reviewer", "publisher"]\n'
        f'password_env = "{VARIABLE}"\n\n[[people]]\nname = "Kai Roth"\nroles = ["author"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(VARIABLE, value if value is not None else hash_password(PASSWORD))
    monkeypatch.setenv("COMMSFLOW_USER", "Kai Roth")  # with a login, not who acts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guarded(mpi, monkeypatch):
    """The desk with a login configured: (desk, client, clock)."""
    _post(mpi)
    _with_login(mpi, monkeypatch)
    clock = Clock()
    desk = Desk(mpi, BEFORE, port=PORT, login=True, clock=clock)
    return desk, TestClient(create_app(desk), base_url=BASE), clock


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _log_in(client: TestClient, name: str = "Dana Schulz", password: str = PASSWORD, **fields: str):
    token = _csrf(client.get("/anmelden").text)
    data = {"csrf": token, "name": name, "password": password, **fields}
    return client.post("/anmelden", data=data, follow_redirects=False)


def test_without_a_login_the_desk_asks_for_none(desk):
    desk_, client = desk
    assert not desk_.login
    page = client.get("/")
    assert page.status_code == 200 and "You act as Dana Schulz" in page.text
    assert "Log out" not in page.text and "set-cookie" not in page.headers
    assert client.get("/anmelden", follow_redirects=False).headers["location"] == "/"


def test_with_a_login_every_page_sends_to_the_login_form(guarded):
    desk_, client, _ = guarded
    for path in ("/", "/pruefen", "/kalender?ansicht=monat", "/newsletter", "/vorschau/0000000000"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/anmelden"), path
    assert client.get("/pruefen", follow_redirects=False).headers["location"] == "/anmelden?weiter=%2Fpruefen"
    form = client.get("/anmelden?weiter=/pruefen")
    assert form.status_code == 200 and "Log in" in form.text and 'name="password"' in form.text
    assert 'name="weiter" value="/pruefen"' in form.text and "What needs me?" not in form.text
    before = (desk_.root / "approvals.yaml").read_text(encoding="utf-8")
    posted = client.post("/pruefen/freigeben", data={"csrf": desk_.token, "key": POST}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/anmelden"
    assert (desk_.root / "approvals.yaml").read_text(encoding="utf-8") == before


def test_a_wrong_name_or_password_gets_one_message(guarded):
    _, client, _ = guarded
    pages = [_log_in(client, password="falsch-falsch"), _log_in(client, name="Niemand"), _log_in(client, "Kai Roth")]
    for response in pages:
        assert response.status_code == 401
        assert "the name or the password is wrong" in response.text
        assert "falsch-falsch" not in response.text and PASSWORD not in response.text
        assert "set-cookie" not in response.headers
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_logged_in_person_signs_off(guarded, mpi):
    _, client, _ = guarded
    response = _log_in(client, "DANA@example.org", weiter="/pruefen")
    assert response.status_code == 303 and response.headers["location"] == "/pruefen"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("commsflow_desk=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "Max-Age=28800" in cookie and "Secure" not in cookie
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 43  # token_urlsafe(32)
    page = client.get("/pruefen")
    assert page.status_code == 200 and "Review and sign off" in page.text
    assert "Logged in as Dana Schulz" in page.text and 'action="/abmelden"' in page.text
    assert "Kai Roth" not in page.text  # COMMSFLOW_USER does not act
    for path in ("/", "/kalender", "/newsletter", "/partnermeldungen"):
        assert client.get(path).status_code == 200, path
    token = _csrf(page.text)
    # The form token is the session's own: the one of the login form does not do.
    stale = client.post("/pruefen/freigeben", data={"csrf": client.app.desk.token, "key": POST})
    assert stale.status_code == 403
    done = client.post("/pruefen/freigeben", data={"csrf": token, "key": POST})
    assert done.status_code == 200 and f"{POST} signed off by Dana Schulz" in done.text
    approvals = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    entry = approvals.split(f"item: {POST}", 1)[1].split("- item:", 1)[0]
    assert "by: Dana Schulz" in entry


def test_the_login_goes_back_only_to_a_page_of_the_desk(guarded):
    _, client, _ = guarded
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client.cookies.clear()
        response = _log_in(client, weiter=target)
        assert response.status_code == 303 and response.headers["location"] == "/", target


def test_the_role_rules_apply_to_the_logged_in_person(guarded, mpi, monkeypatch):
    desk_, client, _ = guarded
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('roles = ["reviewer", "publisher"]', 'roles = ["author"]'),
        encoding="utf-8",
    )
    assert _log_in(client).status_code == 303
    token = _csrf(client.get("/pruefen").text)
    refused = client.post("/pruefen/freigeben", data={"csrf": token, "key": POST})
    assert refused.status_code == 400 and "Dana Schulz may not sign off" in refused.text


def test_logging_out_ends_the_session(guarded):
    desk_, client, _ = guarded
    assert _log_in(client).status_code == 303
    cookie = client.cookies.get("commsflow_desk")
    token = _csrf(client.get("/").text)
    assert client.post("/abmelden", data={}, follow_redirects=False).status_code == 403
    out = client.post("/abmelden", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/anmelden"
    assert not desk_.sessions
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("commsflow_desk", cookie)  # the old cookie, kept: no longer a session
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_session_expires(guarded, mpi):
    _, client, clock = guarded
    config = mpi / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[desk]\nsession_hours = 2\n", encoding="utf-8")
    response = _log_in(client)
    assert "Max-Age=7200" in response.headers["set-cookie"]
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.now += 7200
    assert client.get("/", follow_redirects=False).status_code == 303


def test_five_failures_lock_the_name_for_15_minutes(guarded):
    _, client, clock = guarded
    for attempt in range(4):
        response = _log_in(client, password=f"falsch-{attempt}")
        assert response.status_code == 401 and "locked for" not in response.text
    fifth = _log_in(client, "dana@example.org", password="falsch-5")  # the same person by address
    assert fifth.status_code == 401 and "locked for 15 minutes" in fifth.text
    locked = _log_in(client)
    assert locked.status_code == 429 and "locked for 15 minutes" in locked.text and "set-cookie" not in locked.headers
    clock.now += 14 * 60
    assert _log_in(client).status_code == 429
    clock.now += 61
    assert _log_in(client).status_code == 303


def test_the_login_form_needs_its_csrf_token(guarded):
    _, client, _ = guarded
    for data in (
        {"name": "Dana Schulz", "password": PASSWORD},
        {"csrf": "0" * 64, "name": "Dana Schulz", "password": PASSWORD},
    ):
        response = client.post("/anmelden", data=data, follow_redirects=False)
        assert response.status_code == 403 and "CSRF" in response.text and "set-cookie" not in response.headers


def test_another_address_needs_a_login(mpi):
    from commsflow.commands.desk import answered_names, check_host
    from commsflow.errors import CommsflowError

    check_host("127.0.0.1", PORT, False)
    check_host("localhost", PORT, False)
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(CommsflowError) as refused:
            check_host(host, PORT, False)
        assert "no login is configured" in refused.value.message and "password_env" in refused.value.hint
        check_host(host, PORT, True)
    assert answered_names("0.0.0.0", ["Desk.Example.org"]) == ("desk.example.org",)
    assert answered_names("192.168.1.5", []) == ("192.168.1.5",)
    assert answered_names("fd00::5", []) == ("[fd00::5]",)
    desk_ = Desk(mpi, BEFORE, port=PORT, names=answered_names("192.168.1.5", ["desk.example.org", "x.example:8443"]))
    client = TestClient(create_app(desk_), base_url=BASE)
    for host in ("desk.example.org", f"desk.example.org:{PORT}", f"192.168.1.5:{PORT}", "x.example:8443"):
        assert client.get("/", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "x.example", "192.168.1.6:8766", f"desk.example.org.evil.example:{PORT}"):
        assert client.get("/", headers={"host": host}).status_code == 421, host


def test_the_desk_on_another_address_refuses_without_and_checks_the_hash(run, mpi, monkeypatch):
    result = run(mpi, "desk", "--host", "0.0.0.0")
    assert result.exit_code == 1 and "commsflow desk-password" in result.output
    _with_login(mpi, monkeypatch, value="hunter2-not-a-hash")
    result = run(mpi, "desk", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert VARIABLE in result.output and "holds no password hash" in result.output
    assert "hunter2" not in result.output
    result = run(mpi, "desk", "--port", "1")  # on 127.0.0.1 too: checked before anything listens
    assert result.exit_code == 1 and VARIABLE in result.output and "hunter2" not in result.output


def test_the_password_command_prints_a_hash_and_never_the_password(mpi, monkeypatch):
    from click.testing import CliRunner

    from commsflow.cli import main
    from commsflow.passwords import parse, verify

    _with_login(mpi, monkeypatch)
    runner = CliRunner()
    short = runner.invoke(
        main, ["--root", str(mpi), "desk-password", "dana@example.org"], input=f"kurz\nkurz\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert short.exit_code == 0, short.output
    assert "at least 10 characters" in short.output and PASSWORD not in short.output and "kurz" not in short.output
    line = short.stdout.strip().splitlines()[-1]
    variable, _, value = line.partition("=")
    assert variable == VARIABLE and value.startswith("'scrypt$16384$8$1$") and value.endswith("'")
    assert verify(PASSWORD, parse(value.strip("'"))) and not verify("falsch", parse(value.strip("'")))
    kai = runner.invoke(
        main, ["--root", str(mpi), "desk-password", "Kai Roth"], input="ein-anderes-pw\nein-anderes-pw\n"
    )
    assert kai.exit_code == 0 and kai.stdout.startswith("COMMSFLOW_DESK_PASSWORD_KAI_ROTH='scrypt$")
    assert 'password_env = "COMMSFLOW_DESK_PASSWORD_KAI_ROTH"' in kai.output and "ein-anderes-pw" not in kai.output
    nobody = runner.invoke(main, ["--root", str(mpi), "desk-password", "Niemand"], input="x\n")
    assert nobody.exit_code == 1 and "names nobody listed" in nobody.output


def test_a_hash_is_salted_and_parsed_strictly():
    from commsflow.passwords import hash_password, parse, verify

    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and verify(PASSWORD, parse(first)) and verify(PASSWORD, parse(second))
    for wrong in ("", PASSWORD, "scrypt$16384$8$1$abc", "scrypt$3$8$1$" + first.split("$", 4)[4], "md5$1$2$3$4$5"):
        with pytest.raises(ValueError) as refused:
            parse(wrong)
        assert PASSWORD not in str(refused.value)


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
    _feed_news(mpi)
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
            for path in ("/", "/kalender", MARCH, "/newsletter", "/partnermeldungen", "/pruefen"):
                page.goto(address + path)
                width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
                assert width[0] <= width[1], f"{path} scrolls sideways at 390 px: {width}"
                if path == MARCH:  # a list of the days with jobs, not the grid
                    assert page.get_by_text("Tue 05.03.2024").is_visible()
                    assert not page.get_by_text("Mon 04.03.2024").is_visible()
                    assert not page.locator(".weekdays").is_visible()
            section = page.locator(f"#beitrag-{POST}")
            assert "Kurz und bündig." in section.inner_text()
            with page.expect_navigation():
                section.get_by_role("button", name="Sign off").click()
            assert f"{POST} signed off by Dana Schulz" in page.inner_text("main")
            assert page.locator(f"#beitrag-{POST}").count() == 0
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            # The newsletter issue, still waiting, in its two frames: loaded (lazily, once in view)
            # from the preview route, sandboxed; the 640 px one scrolls inside itself, not the page.
            # (Last: a click right after scrolling frames into view may land in a frame.)
            frames = page.locator("#beitrag-newsletter-2024-1 iframe")
            assert frames.count() == 2 and all(frames.nth(i).get_attribute("sandbox") == "" for i in range(2))
            for index in range(2):
                frames.nth(index).scroll_into_view_if_needed()
                frame = frames.nth(index).element_handle().content_frame()
                frame.wait_for_url("**/vorschau/*")
                frame.wait_for_load_state()
                assert frame.title().startswith("MPI-Newsletter:")
            box = page.evaluate(
                "(() => { const b = document.querySelector('#beitrag-newsletter-2024-1 .frame');"
                " return [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right]; })()"
            )
            assert box[0] > box[1] and box[2] <= 390, f"the desktop frame does not scroll inside itself: {box}"
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            assert problems == [] and outside == []
            wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()  # on a desk: the grid
            wide.route("**/*", route)
            wide.goto(address + MARCH)
            assert wide.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            tops = wide.evaluate("[...document.querySelectorAll('.days > li')].map(d => d.getBoundingClientRect().top)")
            assert len(tops) == 35 and len(set(tops[:7])) == 1 and tops[7] > tops[6]  # a week a row
            assert outside == []
        finally:
            browser.close()
    assert "Dana Schulz" in (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert "planned" in _line(run, mpi, BEFORE, "mastodon", POST)

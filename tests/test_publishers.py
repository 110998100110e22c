"""The publishers against real local servers: pytest-httpserver for LinkedIn, Mastodon and the
webhook (checking the documented request shape, answering 2xx, 401, 422, 429 and 500), an
aiosmtpd server for the newsletter, a temporary folder for the outbox — and status_text on
real German drafts. No secret may appear in any message, exception or captured output.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import FIXTURES
from werkzeug import Response

from commsflow.config import load_config
from commsflow.errors import CommsflowError
from commsflow.publishers import outbox as outbox_module
from commsflow.publishers.base import Payload, Permanent, PublishError, Receipt, Transient
from commsflow.publishers.email import SmtpSettings
from commsflow.publishers.http import retry_after
from commsflow.publishers.linkedin import LinkedInPublisher, LinkedInSettings
from commsflow.publishers.mastodon import (
    MastodonPublisher,
    MastodonSettings,
    idempotency_key,
    status_length,
    status_text,
)
from commsflow.publishers.newsletter_mail import NewsletterPublisher, NewsletterSettings
from commsflow.publishers.outbox import OutboxPublisher, OutboxSettings, safe_name
from commsflow.publishers.registry import PUBLISHERS, publisher_for
from commsflow.publishers.webhook import WebhookPublisher, WebhookSettings

TOKEN = "tok-7Hq2-Zm9xPw4LkV8sR3nB6cD1fG5hJ0"  # never to be shown anywhere
LIST = "verteiler@lists.example.org"
LINK = (
    "https://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024/"
    "?utm_source=linkedin&utm_medium=social&utm_campaign=mpi-meet-up-2024"
)
URN = "urn:li:share:7181234567890123456"
JOB = "mpi-meet-up-2024/save-the-date/2024-03-14T10:00+01:00"

# Real drafts, as the LinkedIn drafts render them (tests/fixtures/linkedin).
SAVE_THE_DATE = """\
Save the Date: MPI Meet-up im Bosch IoT Campus

Wann: Donnerstag, 25. April 2024, 16:00 Uhr
Wo: Bosch IoT Campus, Berlin

Das MPI Meet-up gibt Einblicke in Trends und Potenziale rund um das industrielle Metaverse und \
bietet der MPI-Community eine Plattform für Austausch und Vernetzung.

Bitte merken Sie sich den Termin schon heute vor.
Alle Informationen zur Veranstaltung finden Sie auf unserer Website – Link unten.

#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Vernetzung"""

ARTICLE = """\
Rückblick: 1. MPI Deep Dive „Hardtech-Startups in der Industriestadt“

Rund 35 Akteurinnen und Akteure entwickelten beim ersten MPI Deep Dive Handlungsansätze, wie \
Hardtech-Startups den Industriestandort Berlin stärken können.

„Berlin soll ein zukunftsfähiger Produktionsstandort bleiben, wir wollen weiterhin Vorreiter sein \
bei der Entwicklung, Produktion und Anwendung von Schlüsseltechnologien. Hardtech-Startups stehen \
genau dafür. Damit sind sie auch ein wesentlicher Treiber unseres innovationsorientierten Ansatzes \
in der Industriepolitik“
– Dr. Jane Ulle, Senatsverwaltung für Wirtschaft, Energie und Betriebe

Den vollständigen Beitrag lesen Sie in unserem Blog – Link unten.

#IndustriestadtBerlin #MasterplanIndustriestadt #Startups #Hardtech #Deeptech"""
ARTICLE_LINK = (
    "https://www.berlin.de/industriestadt/blog/2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups/"
    "?utm_source=linkedin&utm_medium=social&utm_campaign=2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups"
)

FIGURES = """\
42 Projekte in vier Handlungsfeldern: Das ist der Masterplan Industriestadt Berlin, Stand 1. März 2024.

30 Projekte sind in der Umsetzung, 12 bereits abgeschlossen. Für 11 Projekte wurde eine \
Projektförderung bewilligt.

Die Projekte nach Handlungsfeldern:
– Innovation: 15
– Kompetenzen: 12
– Rahmenbedingungen: 6
– Kommunikation & Vernetzung: 9

Alle Projekte im Überblick finden Sie auf unserer Website – Link unten.

#IndustriestadtBerlin #MasterplanIndustriestadt"""

LINKEDIN_BODY = {
    "author": "urn:li:organization:12345678",
    "commentary": SAVE_THE_DATE.replace("#", "\\#").replace("\\#IndustriestadtBerlin", "#IndustriestadtBerlin"),
    "visibility": "PUBLIC",
    "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
    "content": {
        "article": {
            "source": LINK,
            "title": "MPI Meet-up im Bosch IoT Campus",
            "description": "Trends und Potenziale rund um das industrielle Metaverse",
        }
    },
    "lifecycleState": "PUBLISHED",
    "isReshareDisabledByAuthor": False,
}


def payload(
    channel="linkedin", *, job=JOB, text=SAVE_THE_DATE, link=LINK, body=None, message=None, files=None
) -> Payload:
    return Payload(
        job_id=job,
        channel=channel,
        item="mpi-meet-up-2024",
        kind="save-the-date",
        title="MPI Meet-up im Bosch IoT Campus",
        text=text,
        link=link,
        body=body,
        message=message,
        files=files or {},
    )


@pytest.fixture(scope="module")
def config():
    base = load_config(FIXTURES / "minimal")
    return base.model_copy(
        update={
            "newsletter": base.newsletter.model_copy(
                update={"list_address": LIST, "listmonk_lists": [3], "listmonk_template": 4}
            ),
            "social": base.social.model_copy(update={"mastodon_account": "@industriestadt@social.example"}),
        }
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server():
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def failure(publisher, item: Payload, kind: type[PublishError]) -> PublishError:
    with pytest.raises(kind) as caught:
        publisher.publish(item)
    return caught.value


SERVER_LOGGERS = ("werkzeug", "mail.log")  # the test servers' own request logs


def assert_secret_hidden(secret: str, error: BaseException | None, capsys, caplog) -> None:
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))] if error else []
    captured = capsys.readouterr()
    ours = [record for record in caplog.records if not record.name.startswith(SERVER_LOGGERS)]
    shown += [captured.out, captured.err] + [record.getMessage() for record in ours]
    for text in shown:
        assert secret not in text, f"secret shown in: {text}"


# ============================================================================ LinkedIn


LINKEDIN_HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "LinkedIn-Version": "202411",
    "X-Restli-Protocol-Version": "2.0.0",
    "Content-Type": "application/json",
}


@pytest.fixture
def linkedin(httpserver):
    return LinkedInPublisher(LinkedInSettings(token=TOKEN, api=httpserver.url_for("").rstrip("/"), timeout=2))


def expect_post(httpserver):
    return httpserver.expect_oneshot_request("/rest/posts", method="POST", headers=LINKEDIN_HEADERS, json=LINKEDIN_BODY)


def test_linkedin_posts_the_body_unchanged_and_returns_the_urn(httpserver, linkedin):
    expect_post(httpserver).respond_with_data("", status=201, headers={"x-restli-id": URN})

    receipt = linkedin.publish(payload(body=LINKEDIN_BODY))

    httpserver.check_assertions()
    assert receipt == Receipt("linkedin", URN, url=f"https://www.linkedin.com/feed/update/{URN}/")
    ((request, _),) = httpserver.log
    assert json.loads(request.get_data()) == LINKEDIN_BODY
    assert b"Bosch IoT Campus" in request.get_data()
    assert linkedin.deduplicates is True


def test_linkedin_duplicate_counts_as_already_posted(httpserver, linkedin):
    expect_post(httpserver).respond_with_json(
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": f"Content is a duplicate of {URN}",
            "status": 422,
        },
        status=422,
    )

    receipt = linkedin.publish(payload(body=LINKEDIN_BODY))

    assert receipt.id == URN and receipt.url.endswith(f"/{URN}/")
    assert "already posted" in receipt.note


def test_linkedin_duplicate_without_urn(httpserver, linkedin):
    expect_post(httpserver).respond_with_json({"message": "Duplicate post is detected", "status": 422}, status=422)

    receipt = linkedin.publish(payload(body=LINKEDIN_BODY))

    assert receipt.id == "" and "already posted" in receipt.note


@pytest.mark.parametrize(
    "status,message,expected",
    [
        (422, "/commentary: ERROR :: /commentary :: length exceeds 3000", "rejected the post (422)"),
        (400, "Unpermitted fields present in REQUEST_BODY", "rejected the post (400)"),
        (401, f"Invalid access token {TOKEN}", "lacks w_organization_social"),
        (403, "Not enough permissions to access: partnerApiPostsExternal.CREATE", "lacks w_organization_social"),
        (426, "Requested version 20220101 is not active", "COMMSFLOW_LINKEDIN_VERSION"),
    ],
)
def test_linkedin_permanent_failures(httpserver, linkedin, capsys, caplog, status, message, expected):
    expect_post(httpserver).respond_with_json({"message": message, "status": status}, status=status)

    error = failure(linkedin, payload(body=LINKEDIN_BODY), Permanent)

    assert error.status == status and not error.transient
    assert str(error).startswith("linkedin: ") and expected in str(error)
    assert_secret_hidden(TOKEN, error, capsys, caplog)


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"Retry-After": "120"}, 120),
        ({"Retry-After": "in 90 s as an HTTP date"}, 90),
        ({}, None),
    ],
)
def test_linkedin_rate_limit_is_transient_with_retry_after(httpserver, linkedin, headers, expected):
    if headers.get("Retry-After", "").startswith("in 90 s"):
        headers = {"Retry-After": format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)}
    expect_post(httpserver).respond_with_json(
        {"message": "Resource level throttle limit", "status": 429}, status=429, headers=headers
    )

    error = failure(linkedin, payload(body=LINKEDIN_BODY), Transient)

    assert error.status == 429 and error.transient
    if expected is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(expected, abs=3)


@pytest.mark.parametrize("status", [500, 503])
def test_linkedin_server_errors_are_transient(httpserver, linkedin, capsys, caplog, status):
    expect_post(httpserver).respond_with_data(f"upstream failed for Bearer {TOKEN}", status=status)

    error = failure(linkedin, payload(body=LINKEDIN_BODY), Transient)

    assert error.status == status and "tried again" in str(error)
    assert_secret_hidden(TOKEN, error, capsys, caplog)


def test_linkedin_unreachable_and_silent_servers_are_transient(silent_server, capsys, caplog):
    refused = LinkedInPublisher(LinkedInSettings(token=TOKEN, api=f"http://127.0.0.1:{free_port()}", timeout=2))
    error = failure(refused, payload(body=LINKEDIN_BODY), Transient)
    assert "cannot connect" in str(error) and "127.0.0.1" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert_secret_hidden(TOKEN, error, capsys, caplog)

    silent = LinkedInPublisher(LinkedInSettings(token=TOKEN, api=silent_server, timeout=0.3))
    error = failure(silent, payload(body=LINKEDIN_BODY), Transient)
    assert "did not answer within 0.3 s" in str(error)


def test_linkedin_without_a_body_sends_nothing(httpserver, linkedin):
    error = failure(linkedin, payload(body=None), Permanent)

    assert "set [social] linkedin_author and build the drafts" in str(error)
    assert httpserver.log == []


def test_linkedin_settings_from_the_environment(config):
    with pytest.raises(CommsflowError, match="COMMSFLOW_LINKEDIN_TOKEN is not set"):
        LinkedInPublisher.from_env(config, {})
    with pytest.raises(CommsflowError, match="characters no access token has") as caught:
        LinkedInPublisher.from_env(config, {"COMMSFLOW_LINKEDIN_TOKEN": "AQX–geheim 42"})
    assert "geheim" not in str(caught.value)
    with pytest.raises(CommsflowError, match="is not a version"):
        LinkedInPublisher.from_env(config, {"COMMSFLOW_LINKEDIN_TOKEN": TOKEN, "COMMSFLOW_LINKEDIN_VERSION": "2024"})
    publisher = LinkedInPublisher.from_env(
        config, {"COMMSFLOW_LINKEDIN_TOKEN": TOKEN, "COMMSFLOW_LINKEDIN_VERSION": "202503"}
    )
    assert (publisher.settings.api, publisher.settings.version) == ("https://api.linkedin.com", "202503")
    assert TOKEN not in repr(publisher) and TOKEN not in repr(publisher.settings)


# ============================================================================ Mastodon


INSTANCE = {
    "domain": "social.example",
    "configuration": {
        "urls": {"streaming": "wss://social.example"},
        "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
    },
}


@pytest.fixture
def mastodon(httpserver):
    return MastodonPublisher(MastodonSettings(httpserver.url_for("").rstrip("/"), TOKEN, timeout=2))


def toot() -> Payload:
    """A Mastodon payload as the channel builds it: the status itself, fitted to 500 characters."""
    return payload("mastodon", text=status_text(SAVE_THE_DATE, LINK, 500, 23))


def expect_status(httpserver, job=JOB, status=None):
    return httpserver.expect_request(
        "/api/v1/statuses",
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": idempotency_key(job)},
        json={"status": status or status_text(SAVE_THE_DATE, LINK, 500, 23), "visibility": "public", "language": "de"},
    )


def test_mastodon_reads_the_limits_once_and_posts_with_an_idempotency_key(httpserver, mastodon):
    httpserver.expect_request("/api/v2/instance", method="GET").respond_with_json(INSTANCE)
    expect_status(httpserver).respond_with_json(
        {
            "id": "112233445566",
            "url": "https://social.example/@industriestadt/112233445566",
            "uri": "https://social.example/users/industriestadt/statuses/112233445566",
        }
    )

    first = mastodon.publish(toot())
    again = mastodon.publish(toot())  # after a crash: same key, Mastodon answers the same status

    httpserver.check_assertions()
    assert (
        first == again == Receipt("mastodon", "112233445566", url="https://social.example/@industriestadt/112233445566")
    )
    paths = [request.path for request, _ in httpserver.log]
    assert paths == ["/api/v2/instance", "/api/v1/statuses", "/api/v1/statuses"]
    sent = json.loads(httpserver.log[1][0].get_data())["status"]
    assert sent.endswith(f"{LINK}\n\n#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Vernetzung")
    assert status_length(sent) <= 500
    assert mastodon.deduplicates is True
    assert idempotency_key(JOB) == idempotency_key(JOB) != idempotency_key(JOB + "x")


def test_mastodon_posts_the_signed_off_status_as_it_is_and_refuses_one_the_instance_would_cut(httpserver, mastodon):
    """The status is fitted when it is built (what is signed off is what is posted); an instance
    that takes fewer characters gets nothing, and the message says what to set."""
    instance = {"configuration": {"statuses": {"max_characters": 280, "characters_reserved_per_url": 30}}}
    httpserver.expect_request("/api/v2/instance").respond_with_json(instance)

    error = failure(mastodon, toot(), Permanent)

    assert [request.path for request, _ in httpserver.log] == ["/api/v2/instance"]  # nothing posted
    assert str(error).startswith("mastodon: the status has ")
    assert "takes 280 — set mastodon_max_characters = 280 under [social] in commsflow.toml" in str(error)
    short = payload("mastodon", text=status_text(SAVE_THE_DATE, LINK, 280, 30))
    expect_status(httpserver, status=short.text).respond_with_json({"id": "7", "url": "https://social.example/@i/7"})
    assert mastodon.publish(short).id == "7"
    assert json.loads(httpserver.log[-1][0].get_data())["status"] == short.text


def test_mastodon_without_v2_instance_uses_the_defaults(httpserver, mastodon):
    httpserver.expect_request("/api/v2/instance").respond_with_data("Not Found", status=404)
    expect_status(httpserver).respond_with_json({"id": "8", "url": None, "uri": "https://social.example/s/8"})

    assert mastodon.publish(toot()) == Receipt("mastodon", "8", url="https://social.example/s/8")


@pytest.mark.parametrize(
    "status,answer,expected",
    [
        (401, {"error": "The access token is invalid"}, "refused the token"),
        (403, {"error": "This action is outside the authorized scopes"}, "refused the token"),
        (422, {"error": "Validation failed: Text character limit of 500 exceeded"}, "rejected the status (422)"),
    ],
)
def test_mastodon_permanent_failures(httpserver, mastodon, capsys, caplog, status, answer, expected):
    httpserver.expect_request("/api/v2/instance").respond_with_json(INSTANCE)
    expect_status(httpserver).respond_with_json(answer, status=status)

    error = failure(mastodon, toot(), Permanent)

    assert error.status == status and expected in str(error) and str(error).startswith("mastodon: ")
    assert_secret_hidden(TOKEN, error, capsys, caplog)


def test_mastodon_refused_token_already_on_the_instance_request(httpserver, mastodon):
    httpserver.expect_request("/api/v2/instance").respond_with_json({"error": "unauthorized"}, status=401)

    error = failure(mastodon, toot(), Permanent)

    assert "reading the instance's limits" in str(error) and "COMMSFLOW_MASTODON_TOKEN" in str(error)
    assert [request.path for request, _ in httpserver.log] == ["/api/v2/instance"]


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"Retry-After": "30"}, 30),
        ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "in 5 minutes"}, 300),
    ],
)
def test_mastodon_rate_limit_is_transient(httpserver, mastodon, headers, expected):
    if headers.get("X-RateLimit-Reset") == "in 5 minutes":  # as Mastodon writes it: ISO 8601, UTC, ms
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds")
        headers = {**headers, "X-RateLimit-Reset": reset.replace("+00:00", "Z")}
    httpserver.expect_request("/api/v2/instance").respond_with_json(INSTANCE)
    expect_status(httpserver).respond_with_json({"error": "Too many requests"}, status=429, headers=headers)

    error = failure(mastodon, toot(), Transient)

    assert error.status == 429 and error.retry_after == pytest.approx(expected, abs=3)


def test_mastodon_server_error_and_no_connection_are_transient(httpserver, mastodon, capsys, caplog):
    httpserver.expect_request("/api/v2/instance").respond_with_json(INSTANCE)
    expect_status(httpserver).respond_with_data("<h1>We're sorry, but something went wrong</h1>", status=500)
    error = failure(mastodon, toot(), Transient)
    assert error.status == 500

    gone = MastodonPublisher(MastodonSettings(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=2))
    error = failure(gone, toot(), Transient)
    assert "cannot connect" in str(error)
    assert_secret_hidden(TOKEN, error, capsys, caplog)


def test_mastodon_settings_from_the_environment(config):
    with pytest.raises(CommsflowError, match="COMMSFLOW_MASTODON_TOKEN is not set"):
        MastodonPublisher.from_env(config, {})
    derived = MastodonPublisher.from_env(config, {"COMMSFLOW_MASTODON_TOKEN": TOKEN})
    assert derived.settings.instance == "https://social.example" and derived.settings.language == "de"
    given = MastodonPublisher.from_env(
        config, {"COMMSFLOW_MASTODON_TOKEN": TOKEN, "COMMSFLOW_MASTODON_INSTANCE": "https://social.bund.de/"}
    )
    assert given.settings.instance == "https://social.bund.de"
    no_account = config.model_copy(update={"social": config.social.model_copy(update={"mastodon_account": None})})
    with pytest.raises(CommsflowError, match="no instance") as caught:
        MastodonPublisher.from_env(no_account, {"COMMSFLOW_MASTODON_TOKEN": TOKEN})
    assert "mastodon_account" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in repr(given) and TOKEN not in repr(given.settings)


# ============================================================================ status_text


def test_a_text_that_fits_is_kept_whole_with_link_and_hashtags_at_the_end():
    status = status_text(FIGURES, LINK, 500, 23)

    body, tags = FIGURES.rsplit("\n\n", 1)
    assert status == f"{body}\n\n{LINK}\n\n#IndustriestadtBerlin #MasterplanIndustriestadt"
    assert len(status) > 500  # as written; Mastodon counts the link as 23
    assert status_length(status) == len(body) + 2 + 23 + 2 + len(tags) <= 500


def test_a_long_text_is_cut_after_a_word_and_keeps_link_and_hashtags():
    status = status_text(ARTICLE, ARTICLE_LINK, 500, 23)

    body, link, tags = status.split("\n\n")[:-2], status.split("\n\n")[-2], status.split("\n\n")[-1]
    assert link == ARTICLE_LINK
    assert tags == "#IndustriestadtBerlin #MasterplanIndustriestadt #Startups #Hardtech #Deeptech"
    kept = "\n\n".join(body)
    assert kept.endswith(" …“")  # cut inside the quotation: „…“ closes it
    prefix = kept.removesuffix(" …“")
    assert ARTICLE.startswith(prefix) and ARTICLE[len(prefix)] == " "  # a whole word
    assert 480 <= status_length(status) <= 500  # little room left unused
    assert "Schlüsseltechnologien" not in status or status_length(status) <= 500


@pytest.mark.parametrize("limit", [500, 400, 300, 200, 120, 80, 60])
@pytest.mark.parametrize(
    "text,link",
    [(SAVE_THE_DATE, LINK), (ARTICLE, ARTICLE_LINK), (FIGURES, LINK)],
    ids=["save-the-date", "article", "figures"],
)
def test_every_status_fits_and_keeps_the_link(text, link, limit):
    status = status_text(text, link, limit, 23)

    assert status_length(status) <= limit
    assert link in status
    tags = status.split("\n\n")[-1]
    if tags.startswith("#"):  # hashtags, if any are left, are the text's own and come last, in order
        assert text.rsplit("\n\n", 1)[1].startswith(tags)
    first = status.split("\n\n")[0]
    if first not in (link, tags):
        assert text.startswith(first.removesuffix(" …").removesuffix(" …“"))


def test_hashtags_go_before_the_text_gets_too_short():
    status = status_text(SAVE_THE_DATE, LINK, 140, 23)

    assert status.startswith("Save the Date: MPI Meet-up im Bosch IoT Campus")
    assert "#Vernetzung" not in status and "#Metaverse" not in status
    assert status_length(status) <= 140


def test_every_url_counts_as_reserved_length():
    registration = "https://service.berlin.de/terminvereinbarung/anmeldung/mpi-meet-up-2024/?quelle=linkedin&x=1"
    text = f"Melden Sie sich jetzt an: {registration}."

    assert status_length(text, 23) == len("Melden Sie sich jetzt an: .") + 23
    assert status_length(f"{text} {LINK}", 23) == len("Melden Sie sich jetzt an: . ") + 46
    assert status_length("kein Link: http://localhost/pfad", 23) == len("kein Link: http://localhost/pfad")
    status = status_text(text, LINK, 80, 23)
    assert status == f"{text}\n\n{LINK}"


def test_the_link_is_not_repeated_and_no_link_is_added():
    text = f"Alle Informationen: {LINK}"
    assert status_text(text, LINK, 500, 23) == text
    cut = status_text("Ein langer Text über die Industriestadt. " * 20 + f"Mehr: {LINK}", LINK, 200, 23)
    assert cut.endswith(f" Ein …\n\n{LINK}") and cut.count(LINK) == 1  # cut off, added again
    assert status_length(cut) <= 200
    assert status_text("Kurz und gut. #IndustriestadtBerlin", None, 500, 23) == "Kurz und gut. #IndustriestadtBerlin"
    assert (
        status_text("Ein langer Satz über die Industriestadt Berlin und ihre Projekte", None, 30, 23)
        == "Ein langer Satz über die …"
    )


def test_tiny_limits_keep_only_the_link():
    assert status_text(ARTICLE, ARTICLE_LINK, 25, 23) == ARTICLE_LINK
    assert status_text("", LINK, 500, 23) == LINK


def test_linkedin_mentions_become_names():
    text = "Danke an @[Bosch IoT Campus](urn:li:organization:2345678) für die Gastfreundschaft!"
    assert status_text(text, None, 500, 23) == "Danke an Bosch IoT Campus für die Gastfreundschaft!"


# ============================================================================ webhook

HOOK_PATH = "/hooks/T01ABCDEF/B02GHIJKL/geheimerSchluessel4711"


@pytest.fixture
def webhook(httpserver):
    return WebhookPublisher(WebhookSettings(httpserver.url_for(HOOK_PATH) + "?token=abcdef123456", timeout=2))


def hook_secrets(webhook) -> list[str]:
    return ["geheimerSchluessel4711", "abcdef123456", HOOK_PATH]


def expect_hook(httpserver):
    return httpserver.expect_request(
        HOOK_PATH,
        method="POST",
        query_string="token=abcdef123456",
        headers={"Content-Type": "application/json; charset=utf-8"},
        json={
            "job": JOB,
            "channel": "linkedin",
            "item": "mpi-meet-up-2024",
            "kind": "save-the-date",
            "title": "MPI Meet-up im Bosch IoT Campus",
            "text": SAVE_THE_DATE,
            "link": LINK,
        },
    )


@pytest.mark.parametrize("status", [200, 201, 204])
def test_webhook_posts_the_job_as_json(httpserver, webhook, status):
    expect_hook(httpserver).respond_with_data("ok" if status != 204 else "", status=status)

    receipt = webhook.publish(payload())

    httpserver.check_assertions()
    assert receipt == Receipt("linkedin", JOB)
    assert webhook.deduplicates is False


@pytest.mark.parametrize(
    "status,kind,expected",
    [
        (400, Permanent, "rejected the message"),
        (401, Permanent, "revoked or expired"),
        (404, Permanent, "revoked or expired"),
        (422, Permanent, "rejected the message"),
        (302, Permanent, "redirect"),
        (429, Transient, "tried again"),
        (500, Transient, "tried again"),
        (502, Transient, "tried again"),
    ],
)
def test_webhook_failures_are_classified_and_hide_the_address(
    httpserver, webhook, capsys, caplog, status, kind, expected
):
    answer = Response(
        f"no such hook: {HOOK_PATH}?token=abcdef123456",
        status=status,
        headers={"Location": "https://elsewhere.example/", "Retry-After": "5"},
    )
    expect_hook(httpserver).respond_with_response(answer)

    error = failure(webhook, payload(), kind)

    assert error.status == status and expected in str(error)
    assert f"http://localhost:{httpserver.port}" in str(error) or f"http://127.0.0.1:{httpserver.port}" in str(error)
    if status == 429:
        assert error.retry_after == 5
    for secret in hook_secrets(webhook):
        assert_secret_hidden(secret, error, capsys, caplog)


def test_webhook_unreachable_is_transient_and_hides_the_address(capsys, caplog):
    url = f"http://127.0.0.1:{free_port()}{HOOK_PATH}"
    error = failure(WebhookPublisher(WebhookSettings(url, timeout=2)), payload(), Transient)

    assert f"cannot connect to http://127.0.0.1:{url.split(':')[2].split('/')[0]}" in str(error)
    assert_secret_hidden("geheimerSchluessel4711", error, capsys, caplog)


def test_webhook_address_only_from_the_environment(config):
    with pytest.raises(CommsflowError, match="COMMSFLOW_WEBHOOK_URL is not set"):
        WebhookPublisher.from_env(config, {})
    with pytest.raises(CommsflowError) as caught:
        WebhookPublisher.from_env(config, {"COMMSFLOW_WEBHOOK_URL": "hooks.example/geheimerSchluessel4711"})
    assert "not an http(s) address" in str(caught.value) and "geheimerSchluessel4711" not in str(caught.value)
    publisher = WebhookPublisher.from_env(config, {"COMMSFLOW_WEBHOOK_URL": f"https://u:pw@chat.example{HOOK_PATH}"})
    assert repr(publisher) == "WebhookPublisher(https://chat.example)"
    assert "geheimerSchluessel4711" not in repr(publisher.settings)


# ============================================================================ Retry-After


def test_retry_after_forms():
    now = datetime(2024, 4, 25, 14, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Thu, 25 Apr 2024 14:02:00 GMT", now) == 120
    assert retry_after("2024-04-25T14:05:00.000Z", now) == 300
    assert retry_after("Thu, 25 Apr 2024 13:00:00 GMT", now) == 0  # in the past: now
    assert retry_after("-5", now) == 0
    for useless in (None, "", "bald", "nan", "inf"):
        assert retry_after(useless, now) is None


# ============================================================================ newsletter over SMTP

USER, PASSWORD = "redaktion", "geheim-Ü-123!"


@dataclass
class Mailbox:
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    answer: str = "250 OK"
    rcpt_answer: str | None = None
    delay: float = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer.startswith("250"):
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return self.answer


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    started = []

    def start(**kwargs) -> tuple[Mailbox, int]:
        mailbox, port = Mailbox(), free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return mailbox, port

    yield start
    for controller in started:
        controller.stop()


def issue(config) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Masterplan Industriestadt Berlin <newsletter@senweb.berlin.de>"
    message["To"] = LIST
    message["Subject"] = "MPI-Newsletter: Einladung zum MPI Meet-up und der Fördercall Circular Economy"
    message["Message-ID"] = make_msgid(idstring="newsletter-2024-1", domain="senweb.berlin.de")
    message.set_content("Liebe Leserinnen und Leser,\n\nam 25. April 2024 lädt der MPI zum Meet-up.\n")
    return message


def newsletter(port: int, *, user=None, password=None, timeout=5.0) -> NewsletterPublisher:
    smtp = SmtpSettings("127.0.0.1", port, "none", user, password, timeout, None)
    return NewsletterPublisher(NewsletterSettings(smtp, LIST))


def test_newsletter_goes_to_the_list_address(config, smtp_server):
    mailbox, port = smtp_server(authenticator=authenticate, auth_require_tls=False)
    message = issue(config)

    receipt = newsletter(port, user=USER, password=PASSWORD).publish(payload("newsletter", message=message))

    assert receipt == Receipt("newsletter", message["Message-ID"])
    ((recipients, content),) = mailbox.received
    assert recipients == [LIST]
    received = email.message_from_bytes(content, policy=email.policy.default)
    assert received["Message-ID"].strip() == message["Message-ID"] and "Fördercall" in str(received["Subject"])
    assert NewsletterPublisher.deduplicates is False


def test_newsletter_refused_login_is_permanent_and_hides_the_password(config, smtp_server, capsys, caplog):
    mailbox, port = smtp_server(authenticator=authenticate, auth_require_tls=False)

    error = failure(
        newsletter(port, user=USER, password="falsch-Ö-456?"), payload("newsletter", message=issue(config)), Permanent
    )

    assert str(error).startswith("newsletter: ") and "login" in str(error) and "COMMSFLOW_SMTP_PASSWORD" in str(error)
    assert_secret_hidden("falsch-Ö-456?", error, capsys, caplog)
    assert mailbox.received == []


@pytest.mark.parametrize(
    "rcpt,answer,kind",
    [
        ("450 4.2.0 Greylisted, please try again later", "250 OK", Transient),
        ("550 5.1.1 No such user", "250 OK", Permanent),
        (None, "451 4.3.0 Temporary local problem", Transient),
        (None, "554 5.7.1 Message rejected as spam", Permanent),
    ],
)
def test_newsletter_server_replies_are_classified(config, smtp_server, rcpt, answer, kind):
    mailbox, port = smtp_server()
    mailbox.rcpt_answer, mailbox.answer = rcpt, answer

    error = failure(newsletter(port), payload("newsletter", message=issue(config)), kind)

    assert (rcpt or answer)[:3] in str(error) or "refused" in str(error)
    assert mailbox.received == []


def test_newsletter_unreachable_server_is_transient(config):
    error = failure(newsletter(free_port()), payload("newsletter", message=issue(config)), Transient)

    assert "cannot send" in str(error) and "tried again" in str(error)


def test_newsletter_broken_off_during_the_transfer_is_for_a_person(config, smtp_server):
    mailbox, port = smtp_server()
    mailbox.delay = 1.0  # the server takes the message but answers after the client gave up

    error = failure(newsletter(port, timeout=0.3), payload("newsletter", message=issue(config)), Permanent)

    assert "may have gone out" in str(error) and LIST in str(error)


def test_newsletter_needs_a_message_and_a_list_address(config):
    error = failure(newsletter(free_port()), payload("newsletter"), Permanent)
    assert "newsletter build" in str(error)

    env = {"COMMSFLOW_SMTP_HOST": "127.0.0.1"}
    assert NewsletterPublisher.from_env(config, env).settings.list_address == LIST
    without = config.model_copy(update={"newsletter": config.newsletter.model_copy(update={"list_address": None})})
    with pytest.raises(CommsflowError, match="list_address"):
        NewsletterPublisher.from_env(without, env)
    with pytest.raises(CommsflowError, match="COMMSFLOW_SMTP_HOST"):
        NewsletterPublisher.from_env(config, {})


# ============================================================================ outbox


@pytest.fixture
def outbox(tmp_path) -> OutboxPublisher:
    clock = iter(datetime(2024, 3, 14, 9, minute, tzinfo=UTC) for minute in range(60))
    return OutboxPublisher(OutboxSettings(tmp_path / "outbox", clock=lambda: next(clock)))


def test_outbox_writes_a_complete_folder_and_logs_once(outbox, config):
    message = issue(config)
    item = payload(body=LINKEDIN_BODY, message=message, files={"draft.md": "# Entwurf\n", "media/bild.png": b"\x89PNG"})

    receipt = outbox.publish(item)

    folder = outbox.settings.folder / receipt.id
    assert receipt.channel == "linkedin" and receipt.note is None
    assert receipt.id == f"linkedin/{safe_name(JOB)}" and "/" not in safe_name(JOB)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "draft.md",
        "media/bild.png",
        "message.eml",
        "payload.json",
        "text.txt",
    ]
    assert (folder / "text.txt").read_text(encoding="utf-8") == SAVE_THE_DATE + "\n"
    assert json.loads((folder / "payload.json").read_text(encoding="utf-8")) == {
        "job_id": JOB,
        "channel": "linkedin",
        "item": "mpi-meet-up-2024",
        "kind": "save-the-date",
        "title": "MPI Meet-up im Bosch IoT Campus",
        "link": LINK,
        "body": LINKEDIN_BODY,
    }
    eml = email.message_from_bytes((folder / "message.eml").read_bytes(), policy=email.policy.default)
    assert eml["Message-ID"].strip() == message["Message-ID"]
    assert (folder / "media/bild.png").read_bytes() == b"\x89PNG"
    assert outbox.sent() == [("2024-03-14T09:00:00+00:00", JOB, "linkedin")]

    again = outbox.publish(item)

    assert again.id == receipt.id and again.note == "already in the outbox"
    assert len(outbox.sent()) == 1 and outbox.deduplicates is True
    assert [p.name for p in (outbox.settings.folder / "linkedin").iterdir()] == [safe_name(JOB)]


def test_outbox_folder_is_whole_or_absent(outbox, monkeypatch):
    real = outbox_module.write_atomic
    written = []

    def failing(path, data):
        if len(written) == 2:
            raise CommsflowError(f"{path}: cannot write (No space left on device)", "free disk space")
        written.append(path)
        real(path, data)

    monkeypatch.setattr(outbox_module, "write_atomic", failing)
    error = failure(outbox, payload(files={"draft.md": "x"}), Permanent)

    channel = outbox.settings.folder / "linkedin"
    assert "No space left on device" in str(error)
    assert list(channel.iterdir()) == []  # no folder, no temporary left behind
    assert outbox.sent() == []

    monkeypatch.setattr(outbox_module, "write_atomic", real)
    assert outbox.publish(payload(files={"draft.md": "x"})).note is None
    assert len(outbox.sent()) == 1


def test_outbox_cleans_up_after_a_crash(outbox):
    item = payload()
    target = outbox.folder_for(item)
    stale = target.parent / f".{target.name}~abc123.tmp"  # a crash while writing
    neighbour = target.parent / f".{target.name}.b~abc123.tmp"  # another job's (job id + ".b")
    stale.mkdir(parents=True)
    (stale / "text.txt").write_text("halb")
    neighbour.mkdir()

    assert outbox.publish(item).note is None
    assert not stale.exists() and (target / "payload.json").is_file()
    assert neighbour.exists()

    # A crash after the rename, before the log line: the folder counts, logged once.
    other = payload(job="recap/mpi-meet-up-2024")
    folder = outbox.folder_for(other)
    folder.mkdir()
    assert outbox.publish(other).note == "already in the outbox"
    assert outbox.publish(other).note == "already in the outbox"
    assert [line[1] for line in outbox.sent()] == [JOB, "recap/mpi-meet-up-2024"]


def test_outbox_names_are_safe_and_distinct(outbox):
    assert safe_name("newsletter-2024-1") == "newsletter-2024-1"
    assert safe_name("a/b") != safe_name("a-b") and safe_name("a/b") != safe_name("a:b")
    assert safe_name("../../etc").startswith("etc-")
    assert len(safe_name("x" * 500)) < 120
    error = failure(outbox, payload(files={"../ausbruch.txt": "x"}), Permanent)
    assert "cannot go in the outbox" in str(error)
    failure(outbox, payload(files={"payload.json": "{}"}), Permanent)
    assert not outbox.folder_for(payload()).exists() and outbox.sent() == []


# ============================================================================ registry


def test_registry_builds_each_publisher(config, tmp_path):
    env = {
        "COMMSFLOW_LINKEDIN_TOKEN": TOKEN,
        "COMMSFLOW_MASTODON_TOKEN": TOKEN,
        "COMMSFLOW_BLUESKY_APP_PASSWORD": TOKEN,
        "COMMSFLOW_BLUESKY_HANDLE": "mpi.bsky.social",
        "COMMSFLOW_INSTAGRAM_TOKEN": TOKEN,
        "COMMSFLOW_INSTAGRAM_USER_ID": "17841400000000000",
        "COMMSFLOW_SMTP_HOST": "127.0.0.1",
        "COMMSFLOW_WEBHOOK_URL": f"https://chat.example{HOOK_PATH}",
        "COMMSFLOW_LISTMONK_URL": "https://listen.example.org",
        "COMMSFLOW_LISTMONK_USER": "commsflow",
        "COMMSFLOW_LISTMONK_TOKEN": TOKEN,
    }
    listmonk = config.model_copy(update={"newsletter": config.newsletter.model_copy(update={"list_tool": "listmonk"})})
    built = {
        name: publisher_for(name, listmonk if name == "listmonk" else config, tmp_path / "state", env)
        for name in PUBLISHERS
    }

    assert {name: type(p).__name__ for name, p in built.items()} == {
        "outbox": "OutboxPublisher",
        "linkedin": "LinkedInPublisher",
        "mastodon": "MastodonPublisher",
        "bluesky": "BlueskyPublisher",
        "instagram": "InstagramPublisher",
        "email": "NewsletterPublisher",
        "listmonk": "ListmonkPublisher",
        "webhook": "WebhookPublisher",
    }
    assert all(p.name == name for name, p in built.items())
    assert built["outbox"].settings.folder == tmp_path / "state" / "outbox"
    assert publisher_for("outbox", config, None, {}).settings.folder == config.path("state") / "outbox"


def test_registry_unknown_and_unconfigured(config, tmp_path):
    with pytest.raises(CommsflowError) as caught:
        publisher_for("mastadon", config, tmp_path, {})
    assert "'mastodon'" in str(caught.value)
    assert "outbox, linkedin, mastodon, bluesky, instagram, email, listmonk, webhook" in str(caught.value)
    with pytest.raises(CommsflowError, match="COMMSFLOW_LINKEDIN_TOKEN"):
        publisher_for("linkedin", config, tmp_path, {})

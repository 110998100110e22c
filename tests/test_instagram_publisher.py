"""Instagram: the publisher against a local Graph API server that answers with the documented
shapes of content publishing — a container made from the image's public address (POST
/{ig-user-id}/media), its status asked until FINISHED (GET /{container}?fields=status_code,status),
then published (POST /{ig-user-id}/media_publish) and its permalink read. A feed post and a
story, a container still IN_PROGRESS, ERROR and EXPIRED, an expired token (190), rate limits,
a refused request, a server that is down, an image address that is not https. The token goes
only in the Authorization header and appears in no message, repr or receipt."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs

import pytest
from werkzeug import Response

from commsflow.errors import CommsflowError
from commsflow.publishers import instagram as instagram_module
from commsflow.publishers.base import Payload, Permanent, Transient
from commsflow.publishers.instagram import InstagramPublisher, InstagramSettings

TOKEN = "EAAGm0PX4ZCpsBAKx7Zq9vLr2Tn8wYh3"  # never to be shown anywhere
USER = "17841405822304914"
CONTAINER = "17889615691921648"
MEDIA = "17918195224117851"
PERMALINK = "https://www.instagram.com/p/C4xYz1Ab2Cd/"
JOB = "mpi-meet-up-2024/save-the-date/2024-03-14T10:00+01:00"
IMAGE_URL = "https://industriestadt.example.org/build/instagram/mpi-meet-up-2024--save-the-date/image.jpg"
CAPTION = """\
Save the Date: MPI Meet-up im Bosch IoT Campus 🗓️

Wann: Donnerstag, 25. April 2024, 16:00 Uhr
Wo: Bosch IoT Campus, Berlin

Trends und Potenziale rund um das industrielle Metaverse – merken Sie sich den Termin vor!
Alle Infos: Link in der Bio.

#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse"""
ALT = "Grafik: „Save the Date – MPI Meet-up, 25. April 2024, Bosch IoT Campus“ in Weiß auf Blau"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(instagram_module, "CONTAINER_POLL", 0.01)
    monkeypatch.setattr(instagram_module, "CONTAINER_WAIT", 0.5)


@pytest.fixture
def instagram(httpserver):
    return InstagramPublisher(InstagramSettings(USER, TOKEN, httpserver.url_for("/v21.0").rstrip("/"), timeout=5))


def _payload(form: str = "feed", **changes) -> Payload:
    body = {
        "format": form,
        "width": 1080,
        "height": 1350 if form == "feed" else 1920,
        "image": "image.jpg",
        "image_url": IMAGE_URL,
        "alt": ALT,
        "caption": CAPTION,
        "hashtags": ["#IndustriestadtBerlin", "#MasterplanIndustriestadt", "#Metaverse"],
        "link": "https://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024/",
        "planned": "2024-03-14T10:00:00+01:00",
        **changes,
    }
    return Payload(
        JOB,
        "instagram",
        "mpi-meet-up-2024",
        "save-the-date",
        "MPI Meet-up",
        CAPTION,
        body["link"],
        body,
        files={"image.jpg": b"\xff\xd8\xff\xe0 jpeg"},
    )


def _container(httpserver, answer=None, status=200):
    httpserver.expect_ordered_request(f"/v21.0/{USER}/media", method="POST", headers=AUTH).respond_with_json(
        answer if answer is not None else {"id": CONTAINER}, status=status
    )


def _status(httpserver, code: str, status: str = ""):
    answer = {"status_code": code, "id": CONTAINER, **({"status": status} if status else {})}
    httpserver.expect_ordered_request(
        f"/v21.0/{CONTAINER}", method="GET", query_string={"fields": "status_code,status"}, headers=AUTH
    ).respond_with_json(answer)


def _published(httpserver):
    httpserver.expect_ordered_request(f"/v21.0/{USER}/media_publish", method="POST", headers=AUTH).respond_with_json(
        {"id": MEDIA}
    )
    httpserver.expect_ordered_request(
        f"/v21.0/{MEDIA}", method="GET", query_string={"fields": "permalink"}, headers=AUTH
    ).respond_with_json({"permalink": PERMALINK, "id": MEDIA})


def _graph_error(message: str, code: int, subcode: int | None = None, **more) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK", **more}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _form(request) -> dict[str, str]:
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = parse_qs(request.get_data(as_text=True), keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in fields.values())
    return {name: values[0] for name, values in fields.items()}


def _no_secret(text: str) -> None:
    assert TOKEN not in text and TOKEN.lower() not in text.lower()


def _token_only_in_the_header(httpserver) -> None:
    for request, _response in httpserver.log:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in request.query_string.decode() and TOKEN not in request.url
        assert TOKEN not in request.get_data(as_text=True)


# --- what is sent ------------------------------------------------------------------------------


def test_a_feed_post_is_a_container_with_caption_and_alt_text_then_published(httpserver, instagram):
    _container(httpserver)
    _status(httpserver, "FINISHED")
    _published(httpserver)

    receipt = instagram.publish(_payload())

    httpserver.check_assertions()
    requests_sent = [request for request, _response in httpserver.log]
    assert [(r.method, r.path) for r in requests_sent] == [
        ("POST", f"/v21.0/{USER}/media"),
        ("GET", f"/v21.0/{CONTAINER}"),
        ("POST", f"/v21.0/{USER}/media_publish"),
        ("GET", f"/v21.0/{MEDIA}"),
    ]
    assert _form(requests_sent[0]) == {"image_url": IMAGE_URL, "caption": CAPTION, "alt_text": ALT}
    assert _form(requests_sent[2]) == {"creation_id": CONTAINER}
    _token_only_in_the_header(httpserver)
    assert (receipt.channel, receipt.id, receipt.url, receipt.note) == ("instagram", MEDIA, PERMALINK, None)
    _no_secret(repr(instagram) + repr(instagram.settings) + repr(receipt))
    assert instagram.deduplicates is False and instagram.secrets == (TOKEN,)


def test_a_story_has_media_type_stories_and_no_caption_or_alt_text(httpserver, instagram):
    _container(httpserver)
    _status(httpserver, "FINISHED")
    _published(httpserver)

    receipt = instagram.publish(_payload("story"))

    httpserver.check_assertions()
    assert _form(httpserver.log[0][0]) == {"image_url": IMAGE_URL, "media_type": "STORIES"}
    assert receipt.id == MEDIA
    _token_only_in_the_header(httpserver)


def test_a_container_in_progress_is_asked_again_until_finished(httpserver, instagram):
    _container(httpserver)
    _status(httpserver, "IN_PROGRESS")
    _status(httpserver, "IN_PROGRESS")
    _status(httpserver, "FINISHED")
    _published(httpserver)
    assert instagram.publish(_payload()).id == MEDIA
    httpserver.check_assertions()
    assert sum(request.path == f"/v21.0/{CONTAINER}" for request, _response in httpserver.log) == 3


def test_a_container_still_in_progress_after_the_wait_is_transient_and_not_published(httpserver, instagram):
    _container(httpserver)
    httpserver.expect_request(f"/v21.0/{CONTAINER}", method="GET").respond_with_json(
        {"status_code": "IN_PROGRESS", "id": CONTAINER}
    )
    with pytest.raises(Transient, match="still processing the image") as caught:
        instagram.publish(_payload())
    assert JOB in str(caught.value)
    assert not any(request.path.endswith("media_publish") for request, _response in httpserver.log)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ERROR", "Error: Media download has failed. The media URI doesn't meet our requirements. (2207052)"),
        ("EXPIRED", ""),
    ],
)
def test_a_container_in_error_or_expired_stops_for_a_person(httpserver, instagram, code, status):
    _container(httpserver)
    _status(httpserver, code, status)
    with pytest.raises(Permanent) as caught:
        instagram.publish(_payload())
    message = str(caught.value)
    assert f"Instagram did not take the image of {JOB} ({code})" in message
    assert status in message and "build folder is uploaded" in message
    assert not any(request.path.endswith("media_publish") for request, _response in httpserver.log)


# --- what comes back ---------------------------------------------------------------------------


def test_an_expired_token_says_what_to_renew_and_shows_no_secret(httpserver, instagram):
    _container(
        httpserver,
        _graph_error(
            f"Error validating access token: Session has expired on Friday, 01-Mar-24 (token {TOKEN})", 190, 463
        ),
        status=400,
    )
    with pytest.raises(Permanent) as caught:
        instagram.publish(_payload())
    message = str(caught.value)
    assert "refused the token while creating the post (400): 190/463: Error validating access token" in message
    assert "COMMSFLOW_INSTAGRAM_TOKEN" in message and "instagram_content_publish" in message
    assert caught.value.status == 400
    _no_secret(message)


def test_a_missing_permission_is_the_token_too(httpserver, instagram):
    _container(httpserver, _graph_error("(#10) Application does not have permission for this action", 10), 403)
    with pytest.raises(Permanent, match=r"refused the token .*\(#10\) Application does not have permission"):
        instagram.publish(_payload())


@pytest.mark.parametrize(
    ("status", "error", "headers", "wait"),
    [
        (429, None, {"Retry-After": "120"}, 120.0),
        (400, _graph_error("(#4) Application request limit reached", 4), {}, None),
        (
            403,
            _graph_error("(#17) User request limit reached", 17),
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {USER: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 7}]}
                )
            },
            420.0,
        ),
        (400, _graph_error("(#32) Page request limit reached", 32), {}, None),
        (400, _graph_error("(#613) Calls to this api have exceeded the rate limit.", 613), {}, None),
        (
            400,
            _graph_error("Application request limit reached", 9, 2207042, is_transient=False),
            {},
            None,
        ),
    ],
)
def test_rate_limits_are_transient(httpserver, instagram, status, error, headers, wait):
    _container(httpserver)
    _status(httpserver, "FINISHED")
    httpserver.expect_ordered_request(f"/v21.0/{USER}/media_publish", method="POST").respond_with_response(
        Response(json.dumps(error or {}), status=status, headers=headers, content_type="application/json")
    )
    _status(httpserver, "FINISHED")  # published or not? The container says: not.
    with pytest.raises(Transient) as caught:
        instagram.publish(_payload())
    message = str(caught.value)
    assert f"is limiting requests ({status}) while publishing the post" in message
    assert "it will be tried again later" in message
    assert caught.value.retry_after == wait and caught.value.status == status
    httpserver.check_assertions()
    _no_secret(message)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(httpserver, instagram, status):
    _container(httpserver, {"error": {"message": "An unexpected error has occurred.", "code": 2}}, status)
    with pytest.raises(Transient, match=f"answered {status} while creating the post: 2: An unexpected error"):
        instagram.publish(_payload())


def test_an_error_the_server_calls_transient_is_transient(httpserver, instagram):
    _container(
        httpserver,
        _graph_error("Instagram server error. Try again.", -1, 2207001, is_transient=True),
        400,
    )
    with pytest.raises(Transient, match=r"answered 400 while creating the post: -1/2207001: Instagram server error"):
        instagram.publish(_payload())


def test_a_refused_request_is_permanent_with_the_servers_reason(httpserver, instagram):
    _container(
        httpserver,
        _graph_error(
            "The aspect ratio is not supported.",
            36003,
            2207009,
            is_transient=False,
            error_user_msg="The submitted image with aspect ratio ('191:100',) cannot be published.",
        ),
        400,
    )
    with pytest.raises(Permanent) as caught:
        instagram.publish(_payload())
    message = str(caught.value)
    assert "rejected the request while creating the post (400): 36003/2207009: The aspect ratio" in message
    assert "(The submitted image with aspect ratio" in message and "check the image" in message
    assert len(httpserver.log) == 1


def test_an_unanswered_publish_whose_container_was_published_is_a_receipt(httpserver, instagram):
    _container(httpserver)
    _status(httpserver, "FINISHED")
    httpserver.expect_ordered_request(f"/v21.0/{USER}/media_publish", method="POST").respond_with_json(
        {"error": {"message": "Service temporarily unavailable", "code": 2}}, status=502
    )
    _status(httpserver, "PUBLISHED")
    receipt = instagram.publish(_payload())
    assert receipt.id == "" and CONTAINER in receipt.note and "published" in receipt.note
    httpserver.check_assertions()


def test_a_permalink_that_does_not_come_still_leaves_a_receipt(httpserver, instagram):
    _container(httpserver)
    _status(httpserver, "FINISHED")
    httpserver.expect_ordered_request(f"/v21.0/{USER}/media_publish", method="POST").respond_with_json({"id": MEDIA})
    httpserver.expect_ordered_request(f"/v21.0/{MEDIA}", method="GET").respond_with_json(
        _graph_error("Unsupported get request.", 100, 33), status=400
    )
    receipt = instagram.publish(_payload())
    assert (receipt.id, receipt.url) == (MEDIA, None)


def test_a_container_answer_without_an_id_is_permanent(httpserver, instagram):
    _container(httpserver, {"success": True})
    with pytest.raises(Permanent, match="without a container id"):
        instagram.publish(_payload())


def test_a_server_that_is_down_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    publisher = InstagramPublisher(InstagramSettings(USER, TOKEN, f"http://127.0.0.1:{port}/v21.0", timeout=2))
    with pytest.raises(Transient, match="cannot connect") as caught:
        publisher.publish(_payload())
    _no_secret(str(caught.value))


# --- what is refused before any request ----------------------------------------------------------


@pytest.mark.parametrize(
    "image_url",
    [
        "http://industriestadt.example.org/build/instagram/x/image.jpg",
        "image.jpg",
        "ftp://industriestadt.example.org/image.jpg",
        "",
        None,
    ],
)
def test_an_image_address_that_is_not_https_is_refused_before_any_request(httpserver, instagram, image_url):
    with pytest.raises(Permanent) as caught:
        instagram.publish(_payload(image_url=image_url))
    message = str(caught.value)
    assert f"the image of {JOB} has no https address" in message
    assert "[links] public_url" in message and "upload the build folder" in message
    assert httpserver.log == []


@pytest.mark.parametrize("body", [None, {}, {"format": "reel", "image_url": IMAGE_URL}])
def test_a_job_without_an_instagram_post_is_refused(httpserver, instagram, body):
    payload = Payload(JOB, "instagram", "mpi-meet-up-2024", "save-the-date", "MPI Meet-up", CAPTION, None, body)
    with pytest.raises(Permanent, match="has no Instagram post"):
        instagram.publish(payload)
    assert httpserver.log == []


def test_settings_come_from_the_environment_and_name_what_is_missing():
    with pytest.raises(CommsflowError, match="COMMSFLOW_INSTAGRAM_TOKEN"):
        InstagramSettings.from_env(None, {"COMMSFLOW_INSTAGRAM_USER_ID": USER})
    with pytest.raises(CommsflowError, match="COMMSFLOW_INSTAGRAM_USER_ID") as caught:
        InstagramSettings.from_env(None, {"COMMSFLOW_INSTAGRAM_TOKEN": TOKEN})
    assert "instagram_business_account" in caught.value.hint
    with pytest.raises(CommsflowError, match="digits only"):
        InstagramSettings.from_env(None, {"COMMSFLOW_INSTAGRAM_TOKEN": TOKEN, "COMMSFLOW_INSTAGRAM_USER_ID": "../me"})
    with pytest.raises(CommsflowError, match="COMMSFLOW_INSTAGRAM_API"):
        InstagramSettings.from_env(
            None,
            {
                "COMMSFLOW_INSTAGRAM_TOKEN": TOKEN,
                "COMMSFLOW_INSTAGRAM_USER_ID": USER,
                "COMMSFLOW_INSTAGRAM_API": "graph.facebook.com",
            },
        )
    settings = InstagramSettings.from_env(
        None, {"COMMSFLOW_INSTAGRAM_TOKEN": f" {TOKEN}\n", "COMMSFLOW_INSTAGRAM_USER_ID": f" {USER} "}
    )
    assert (settings.user_id, settings.token, settings.api) == (USER, TOKEN, "https://graph.facebook.com/v21.0")
    custom = InstagramSettings.from_env(
        None,
        {
            "COMMSFLOW_INSTAGRAM_TOKEN": TOKEN,
            "COMMSFLOW_INSTAGRAM_USER_ID": USER,
            "COMMSFLOW_INSTAGRAM_API": "https://graph.facebook.com/v22.0/",
        },
    )
    assert custom.api == "https://graph.facebook.com/v22.0"
    _no_secret(repr(settings) + repr(InstagramPublisher(settings)))

"""Images on the social channels: an item's picture scaled and re-encoded to each platform's
limits (Pillow), an https picture fetched once from a local server, the alt text carried and
checked, and each publisher's upload against a local server answering with the documented
shapes — LinkedIn's Images API, Mastodon's media API, Bluesky's uploadBlob."""

from __future__ import annotations

import functools
import json
from io import BytesIO

import pytest
from PIL import Image
from werkzeug import Response

from commsflow import media
from commsflow.publishers.base import Payload, Permanent, Transient, attachment
from commsflow.publishers.bluesky import BlueskyPublisher, BlueskySettings, record_key
from commsflow.publishers.linkedin import LinkedInPublisher, LinkedInSettings
from commsflow.publishers.mastodon import MastodonPublisher, MastodonSettings
from commsflow.renderers.short_post import UPLOAD

DEEP_DIVE = "2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups"
ALT = "Rund 35 Teilnehmende sitzen an Gruppentischen im Bosch IoT Campus und diskutieren Handlungsansätze."
TOKEN = "tok-7Hq2-Zm9xPw4LkV8sR3nB6cD1fG5hJ0"


@functools.cache
def _picture(size=(3000, 2000), mode="RGBA", kind="PNG") -> bytes:
    """A photo-like picture (noise does not compress), with a transparent corner in RGBA."""
    image = Image.effect_noise(size, 90).convert(mode)
    if mode == "RGBA":
        image.putpixel((0, 0), (0, 0, 0, 0))
    out = BytesIO()
    image.save(out, kind)
    return out.getvalue()


# --- preparing ---------------------------------------------------------------------------------


def test_a_large_picture_is_scaled_and_saved_as_jpeg_within_the_limits():
    data = _picture()
    assert len(data) > 1_000_000
    prepared = media.prepared(data, max_bytes=1_000_000, max_side=2000)
    assert prepared.mime == "image/jpeg" and prepared.suffix == ".jpg"
    assert len(prepared.data) <= 1_000_000 and (prepared.width, prepared.height) == (2000, 1333)
    with Image.open(BytesIO(prepared.data)) as image:
        assert image.format == "JPEG" and image.size == (2000, 1333)
        assert (
            image.getpixel((0, 0)) == (255, 255, 255) or sum(image.getpixel((0, 0))) > 600
        )  # white behind transparency
    assert media.prepared(data, max_bytes=1_000_000, max_side=2000) == prepared  # the same bytes every build


def test_a_picture_within_the_limits_goes_as_it_is_unless_jpeg_is_asked():
    data = _picture((800, 600), "RGB", "PNG")
    assert media.prepared(data, max_bytes=5_000_000, max_side=4096).data == data
    assert media.prepared(data, max_bytes=5_000_000, max_side=4096, jpeg=True).mime == "image/jpeg"


def test_an_https_picture_is_fetched_once_and_kept(httpserver, tmp_path):
    data = _picture((640, 480), "RGB", "JPEG")
    httpserver.expect_oneshot_request("/bilder/deep-dive.jpg").respond_with_data(data, content_type="image/jpeg")
    url = httpserver.url_for("/bilder/deep-dive.jpg")
    assert media.remote_image(url, tmp_path) == data
    assert media.remote_image(url, tmp_path) == data  # from the state folder: the server answers only once
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Response("nicht da", status=404), "could not be fetched (HTTP 404)"),
        (Response(b"<html>kein Bild</html>", content_type="text/html"), "is not a PNG, JPEG, GIF or WebP image"),
        (Response(b"\xff" * 4096, content_type="image/jpeg"), "is larger than 0 MB"),
    ],
)
def test_an_https_picture_that_cannot_be_used_is_refused_with_the_reason(
    httpserver, tmp_path, monkeypatch, answer, said
):
    if "larger" in said:
        monkeypatch.setattr(media, "REMOTE_LIMIT", 1024)
    httpserver.expect_request("/bild.jpg").respond_with_response(answer)
    with pytest.raises(media.ImageRefused) as caught:
        media.remote_image(httpserver.url_for("/bild.jpg"), tmp_path)
    assert said in caught.value.message
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").iterdir())


# --- the channels ------------------------------------------------------------------------------


def _with_picture(mpi, alt: str = ALT) -> None:
    for channel in ("linkedin", "mastodon", "bluesky"):
        (mpi / "campaigns" / f"{channel}-dienstag.yaml").write_text(
            f"kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: {channel}\n"
            "type: post\n",
            encoding="utf-8",
        )
    post = mpi / "content" / "posts" / f"{DEEP_DIVE}.md"
    (post.parent / "deep-dive.png").write_bytes(_picture())
    post.write_text(
        post.read_text(encoding="utf-8").replace(
            "\nquotes:", f"\nimage:\n  src: deep-dive.png\n  alt: {json.dumps(alt, ensure_ascii=False)}\nquotes:", 1
        ),
        encoding="utf-8",
    )


def test_each_channel_gets_the_picture_within_its_limits_with_its_alt_text(run, mpi):
    _with_picture(mpi)
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    folder = mpi / "build"
    bluesky = folder / "bluesky" / f"{DEEP_DIVE}--article.jpg"
    assert bluesky.is_file() and bluesky.stat().st_size <= 1_000_000
    with Image.open(bluesky) as image:
        assert max(image.size) == 2000
    record = json.loads((folder / "bluesky" / f"{DEEP_DIVE}--article.json").read_text(encoding="utf-8"))
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": ALT, "image": {UPLOAD: "image.jpg"}, "aspectRatio": {"width": 2000, "height": 1333}}],
    }
    mastodon = json.loads((folder / "mastodon" / f"{DEEP_DIVE}--article.json").read_text(encoding="utf-8"))
    assert mastodon == {"media": [{"file": "image.jpg", "description": ALT}]}
    with Image.open(folder / "mastodon" / f"{DEEP_DIVE}--article.jpg") as image:
        assert max(image.size) == 2560
    assert (folder / "linkedin" / f"{DEEP_DIVE}--article.jpg").is_file()


def test_an_alt_text_longer_than_a_platform_takes_is_an_error_there(run, mpi):
    _with_picture(mpi, alt="Eine Gruppe Menschen im Gespräch. " * 50)  # 1,700 characters
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert built.exit_code == 1
    words = " ".join(built.output.split())
    assert "image.alt: the alt text has 1699 characters; Mastodon takes 1500" in words, built.output
    assert "Bluesky takes" not in words and "LinkedIn takes" not in words


# --- the publishers ----------------------------------------------------------------------------


def _payload(channel: str, body: dict | None, files: dict) -> Payload:
    job = f"tuesday/{channel}/{DEEP_DIVE}@2024-03-05T12:00+01:00"
    return Payload(
        job, channel, DEEP_DIVE, "article", "Rückblick", "Rückblick: 1. MPI Deep Dive", None, body, files=files
    )


def test_bluesky_uploads_the_picture_and_posts_its_blob_with_the_alt_text(httpserver):
    picture = media.prepared(_picture(), max_bytes=1_000_000, max_side=2000)
    body = {
        "$type": "app.bsky.feed.post",
        "text": "Rückblick: 1. MPI Deep Dive",
        "langs": ["de"],
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [{"alt": ALT, "image": {UPLOAD: "image.jpg"}, "aspectRatio": {"width": 2000, "height": 1333}}],
        },
    }
    payload = _payload("bluesky", body, {"image.jpg": picture.data})
    blob = {
        "$type": "blob",
        "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},
        "mimeType": "image/jpeg",
        "size": len(picture.data),
    }
    httpserver.expect_ordered_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"did": "did:plc:abc", "handle": "mpi.bsky.social", "accessJwt": "a", "refreshJwt": "r"}
    )
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
        {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
    )
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.repo.uploadBlob", method="POST", headers={"Content-Type": "image/jpeg"}, data=picture.data
    ).respond_with_json({"blob": blob})
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
        {"uri": f"at://did:plc:abc/app.bsky.feed.post/{record_key(payload.job_id)}", "cid": "bafy"}
    )
    settings = BlueskySettings(httpserver.url_for("").rstrip("/"), "mpi.bsky.social", "pw-abcd", timeout=5)
    BlueskyPublisher(settings).publish(payload)
    httpserver.check_assertions()
    sent = json.loads(httpserver.log[-1][0].get_data())["record"]
    assert sent["embed"]["images"] == [{"alt": ALT, "image": blob, "aspectRatio": {"width": 2000, "height": 1333}}]
    assert payload.body["embed"]["images"][0]["image"] == {UPLOAD: "image.jpg"}  # the signed-off payload is untouched


def test_mastodon_uploads_the_picture_with_its_description_and_waits_until_it_is_processed(httpserver, monkeypatch):
    from commsflow.publishers import mastodon

    monkeypatch.setattr(mastodon, "MEDIA_POLL", 0.01)
    picture = _picture((800, 600), "RGB", "JPEG")
    payload = _payload("mastodon", {"media": [{"file": "image.jpg", "description": ALT}]}, {"image.jpg": picture})
    httpserver.expect_ordered_request("/api/v2/instance").respond_with_json({"configuration": {"statuses": {}}})
    httpserver.expect_ordered_request("/api/v2/media", method="POST").respond_with_json(
        {"id": "22348641", "type": "image", "url": None, "description": ALT}, status=202
    )
    httpserver.expect_ordered_request("/api/v1/media/22348641", method="GET").respond_with_json(
        {"id": "22348641", "type": "image", "url": None}, status=206
    )
    httpserver.expect_ordered_request("/api/v1/media/22348641", method="GET").respond_with_json(
        {"id": "22348641", "type": "image", "url": "https://files.example/22348641.jpg"}
    )
    httpserver.expect_ordered_request("/api/v1/statuses", method="POST").respond_with_json(
        {"id": "1", "url": "https://social.example/@mpi/1"}
    )
    publisher = MastodonPublisher(MastodonSettings(httpserver.url_for("").rstrip("/"), TOKEN))
    publisher.publish(payload)
    upload = next(request for request, _response in httpserver.log if request.path == "/api/v2/media")
    assert upload.form["description"] == ALT
    assert upload.files["file"].read() == picture and upload.files["file"].mimetype == "image/jpeg"
    status = json.loads(httpserver.log[-1][0].get_data())
    assert status["media_ids"] == ["22348641"]


def test_mastodon_still_processing_is_tried_again_later(httpserver, monkeypatch):
    from commsflow.publishers import mastodon

    monkeypatch.setattr(mastodon, "MEDIA_POLL", 0.01)
    monkeypatch.setattr(mastodon, "MEDIA_WAIT", 0.05)
    payload = _payload("mastodon", {"media": [{"file": "image.jpg", "description": ALT}]}, {"image.jpg": b"jpeg"})
    httpserver.expect_request("/api/v2/instance").respond_with_json({})
    httpserver.expect_request("/api/v2/media", method="POST").respond_with_json({"id": "7"}, status=202)
    httpserver.expect_request("/api/v1/media/7").respond_with_json({"id": "7", "url": None}, status=206)
    with pytest.raises(Transient, match="still processing the image"):
        MastodonPublisher(MastodonSettings(httpserver.url_for("").rstrip("/"), TOKEN)).publish(payload)
    assert not any(request.path == "/api/v1/statuses" for request, _response in httpserver.log)


def test_linkedin_uploads_the_picture_through_the_images_api_and_uses_it_as_the_thumbnail(httpserver):
    picture = _picture((1200, 627), "RGB", "JPEG")
    body = {
        "author": "urn:li:organization:5515715",
        "commentary": "Rückblick: 1. MPI Deep Dive",
        "visibility": "PUBLIC",
        "content": {"article": {"source": "https://example.org/", "title": "Rückblick", "thumbnailAltText": ALT}},
    }
    payload = _payload("linkedin", body, {"image.jpg": picture})
    image_urn = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
    httpserver.expect_ordered_request(
        "/rest/images",
        method="POST",
        query_string="action=initializeUpload",
        json={"initializeUploadRequest": {"owner": "urn:li:organization:5515715"}},
        headers={"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202411"},
    ).respond_with_json(
        {
            "value": {
                "uploadUrlExpiresAt": 1711111111000,
                "uploadUrl": httpserver.url_for("/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0"),
                "image": image_urn,
            }
        }
    )
    httpserver.expect_ordered_request(
        "/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0", method="PUT", data=picture
    ).respond_with_data("", status=201)
    httpserver.expect_ordered_request("/rest/posts", method="POST").respond_with_data(
        "", status=201, headers={"x-restli-id": "urn:li:share:7181234567890123456"}
    )
    settings = LinkedInSettings(token=TOKEN, api=httpserver.url_for("").rstrip("/"))
    receipt = LinkedInPublisher(settings).publish(payload)
    httpserver.check_assertions()
    posted = json.loads(httpserver.log[-1][0].get_data())
    assert posted["content"]["article"]["thumbnail"] == image_urn
    assert posted["content"]["article"]["thumbnailAltText"] == ALT
    assert receipt.id == "urn:li:share:7181234567890123456"


# --- a picture from the web: fetched when the post is sent, never by a build -----------------------


def test_a_build_reads_no_picture_from_the_web_and_the_publisher_fetches_it_when_sending(run, mpi, httpserver):
    picture = _picture()
    httpserver.expect_request("/bilder/deep-dive.png").respond_with_data(picture, content_type="image/png")
    url = httpserver.url_for("/bilder/deep-dive.png")
    for channel in ("bluesky",):
        (mpi / "campaigns" / f"{channel}-dienstag.yaml").write_text(
            f"kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: {channel}\n"
            "type: post\n",
            encoding="utf-8",
        )
    post = mpi / "content" / "posts" / f"{DEEP_DIVE}.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace(
            "\nquotes:", f"\nimage:\n  src: {url}\n  alt: {json.dumps(ALT, ensure_ascii=False)}\nquotes:", 1
        ),
        encoding="utf-8",
    )
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    assert not httpserver.log  # the build asked the web server nothing
    preview = mpi / "build" / "bluesky" / f"{DEEP_DIVE}--article.url"
    assert preview.read_text(encoding="utf-8") == url  # the address is what is signed off
    record = json.loads(preview.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["embed"]["images"] == [{"alt": ALT, "image": {UPLOAD: "image.url"}}]

    blob = {"$type": "blob", "ref": {"$link": "bafkreib"}, "mimeType": "image/jpeg", "size": 1}
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        {"did": "did:plc:abc", "handle": "mpi.bsky.social", "accessJwt": "a", "refreshJwt": "r"}
    )
    httpserver.expect_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
        {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
    )
    httpserver.expect_request("/xrpc/com.atproto.repo.uploadBlob", method="POST").respond_with_json({"blob": blob})
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
        {"uri": "at://did:plc:abc/app.bsky.feed.post/x", "cid": "bafy"}
    )
    payload = _payload("bluesky", record, {"image.url": url.encode()})
    settings = BlueskySettings(httpserver.url_for("").rstrip("/"), "mpi.bsky.social", "pw-abcd", timeout=5)
    BlueskyPublisher(settings).publish(payload)
    fetched = [request for request, _ in httpserver.log if request.path == "/bilder/deep-dive.png"]
    uploaded = next(request for request, _ in httpserver.log if request.path.endswith("uploadBlob"))
    assert len(fetched) == 1
    assert uploaded.headers["Content-Type"] == "image/jpeg" and len(uploaded.get_data()) <= 1_000_000
    with Image.open(BytesIO(uploaded.get_data())) as image:
        assert max(image.size) == 2000  # fitted to Bluesky's limits when sent


def test_a_picture_the_web_server_does_not_give_stops_the_post_for_a_person_or_for_later(httpserver):
    httpserver.expect_request("/weg.jpg").respond_with_data("weg", status=404)
    httpserver.expect_request("/kaputt.jpg").respond_with_data("", status=503)
    for name, error in (("/weg.jpg", Permanent), ("/kaputt.jpg", Transient)):
        payload = _payload("mastodon", {"media": [{"file": "image.url", "description": ALT}]}, {})
        payload.files["image.url"] = httpserver.url_for(name).encode()
        with pytest.raises(error, match="could not be fetched"):
            attachment(payload, "image.url")

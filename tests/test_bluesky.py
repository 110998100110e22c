"""Bluesky: the post record made when a job is rendered (300 graphemes counted as graphemes,
facets at UTF-8 byte offsets, a link card) and the publisher against a local XRPC server that
answers with the documented shapes of com.atproto.server/repo — sign-in, an expired session
renewed once, a post found by its record key after a crash, 429 with ratelimit-reset, 400
InvalidRequest, a server that is down. No secret may appear in any message."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from commsflow.errors import CommsflowError
from commsflow.publishers.base import Payload, Permanent, Transient
from commsflow.publishers.bluesky import BlueskyPublisher, BlueskySettings, record_key
from commsflow.renderers.short_post import (
    BLUESKY_BYTES,
    BLUESKY_GRAPHEMES,
    THREAD,
    bluesky_record,
    bluesky_text,
    graphemes,
    shown_link,
)

PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password: never to be shown anywhere
ACCESS, REFRESH = "eyJ.access-1.sig", "eyJ.refresh-1.sig"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
HANDLE = "industriestadt.bsky.social"
JOB = "mpi-meet-up-2024/save-the-date/mpi-meet-up-2024@2024-03-14T10:00+01:00"
LINK = (
    "https://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024/"
    "?utm_source=bluesky&utm_medium=social&utm_campaign=mpi-meet-up-2024"
)
SAVE_THE_DATE = """\
Save the Date: MPI Meet-up im Bosch IoT Campus 🗓️

Wann: Donnerstag, 25. April 2024, 16:00 Uhr
Wo: Bosch IoT Campus, Berlin

Das MPI Meet-up gibt Einblicke in Trends und Potenziale rund um das industrielle Metaverse und \
bietet der MPI-Community eine Plattform für Austausch und Vernetzung. Grüße an alle, die \
„Industriestadt“ mitgestalten – von der Gründerin bis zum Werkleiter 👩‍🔧👨‍🔧.

Bitte merken Sie sich den Termin schon heute vor.

#IndustriestadtBerlin #MasterplanIndustriestadt #Metaverse #Vernetzung"""


def _slice(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


# --- the record --------------------------------------------------------------------------------


def test_graphemes_are_counted_as_people_see_them():
    assert graphemes("Grüße") == 5
    assert graphemes("Gru\u0308ße") == 5  # ü as u + combining diaeresis
    assert graphemes("👩‍👩‍👧") == 1 and len("👩‍👩‍👧") == 5
    assert graphemes("🇩🇪 Berlin") == 8


def test_a_long_draft_becomes_one_post_within_300_graphemes_with_its_link_and_hashtags():
    record = bluesky_record(SAVE_THE_DATE, LINK, language="de", title="MPI Meet-up 2024", description="Save the Date")
    text = record["text"]
    assert graphemes(SAVE_THE_DATE) > BLUESKY_GRAPHEMES  # the test is about cutting
    assert graphemes(text) <= BLUESKY_GRAPHEMES and len(text.encode("utf-8")) <= BLUESKY_BYTES
    assert text.startswith("Save the Date: MPI Meet-up im Bosch IoT Campus 🗓️\n\nWann: Donnerstag, 25. April 2024")
    assert shown_link(LINK) == "berlin.de/industriestadt/vera…"
    assert " …\n\nberlin.de/industriestadt/vera…\n\n#IndustriestadtBerlin" in text
    assert record["langs"] == ["de"] and record["$type"] == "app.bsky.feed.post"
    assert "createdAt" not in record  # the publisher's, when it sends
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": LINK, "title": "MPI Meet-up 2024", "description": "Save the Date"},
    }


def test_facets_point_at_utf8_bytes_of_links_and_hashtags():
    record = bluesky_record(SAVE_THE_DATE, LINK, language="de")
    text, facets = record["text"], record["facets"]
    links = [f for f in facets if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"]
    tags = [f for f in facets if f["features"][0]["$type"] == "app.bsky.richtext.facet#tag"]
    assert [(_slice(text, f), f["features"][0]["uri"]) for f in links] == [(shown_link(LINK), LINK)]
    assert [(_slice(text, f), f["features"][0]["tag"]) for f in tags] == [
        ("#IndustriestadtBerlin", "IndustriestadtBerlin"),
        ("#MasterplanIndustriestadt", "MasterplanIndustriestadt"),
        ("#Metaverse", "Metaverse"),
        ("#Vernetzung", "Vernetzung"),
    ]
    # Umlauts and emoji before them: character and byte offsets differ.
    assert links[0]["index"]["byteStart"] > text.index(shown_link(LINK))
    assert facets == sorted(facets, key=lambda f: f["index"]["byteStart"])


def test_a_short_text_keeps_its_own_addresses_shown_short_and_linked_whole():
    text = "Förderaufruf: Bewerbungen bis 31. März 2024 unter https://www.ibb.de/foerderung/circular-economy-call-2024?utm_source=x. #Fördercall"
    fitted, links = bluesky_text(text, None)
    assert fitted == "Förderaufruf: Bewerbungen bis 31. März 2024 unter ibb.de/foerderung/circular-ec…. #Fördercall"
    assert links == [
        ("ibb.de/foerderung/circular-ec…", "https://www.ibb.de/foerderung/circular-economy-call-2024?utm_source=x")
    ]
    record = bluesky_record(text, None, language="de")
    assert "embed" not in record
    assert [_slice(record["text"], f) for f in record["facets"]] == ["ibb.de/foerderung/circular-ec…", "#Fördercall"]


def test_record_keys_are_tids_the_same_for_a_job_and_different_for_two():
    key = record_key(JOB)
    assert key == record_key(JOB)
    assert len(key) == 13 and key[0] in "234567abcdefghij"
    assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")
    other = record_key(JOB.replace("save-the-date/", "reminder/"))
    assert other != key and other[:5] == key[:5]  # the same minute: close in time, not the same key


# --- the publisher -----------------------------------------------------------------------------


@pytest.fixture
def bluesky(httpserver):
    settings = BlueskySettings(httpserver.url_for("").rstrip("/"), HANDLE, PASSWORD, timeout=5)
    return BlueskyPublisher(settings, clock=lambda: datetime(2024, 3, 14, 9, 0, 1, 250000, tzinfo=UTC))


def _payload() -> Payload:
    record = bluesky_record(SAVE_THE_DATE, LINK, language="de", title="MPI Meet-up 2024", description="Save the Date")
    return Payload(JOB, "bluesky", "mpi-meet-up-2024", "save-the-date", "MPI Meet-up", record["text"], LINK, record)


def _session(httpserver, access=ACCESS, refresh=REFRESH):
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.server.createSession",
        method="POST",
        json={"identifier": HANDLE, "password": PASSWORD},
    ).respond_with_json({"did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh})


def _not_found(httpserver, token=ACCESS):
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.repo.getRecord",
        method="GET",
        query_string={"repo": DID, "collection": "app.bsky.feed.post", "rkey": record_key(JOB)},
        headers={"Authorization": f"Bearer {token}"},
    ).respond_with_json({"error": "RecordNotFound", "message": "Could not locate record"}, status=400)


def _uri() -> str:
    return f"at://{DID}/app.bsky.feed.post/{record_key(JOB)}"


def _no_secret(text: str) -> None:
    for secret in (PASSWORD, ACCESS, REFRESH, "eyJ.access-2.sig", "eyJ.refresh-2.sig"):
        assert secret not in text


def test_signs_in_looks_for_the_record_key_and_creates_the_post(httpserver, bluesky):
    payload = _payload()
    _session(httpserver)
    _not_found(httpserver)
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.repo.createRecord", method="POST", headers={"Authorization": f"Bearer {ACCESS}"}
    ).respond_with_json({"uri": _uri(), "cid": "bafyreib2rxk3rh6kzwq"})

    receipt = bluesky.publish(payload)

    httpserver.check_assertions()
    sent = json.loads(httpserver.log[-1][0].get_data())
    assert sent["repo"] == DID and sent["collection"] == "app.bsky.feed.post" and sent["rkey"] == record_key(JOB)
    assert sent["record"] == {**payload.body, "createdAt": "2024-03-14T09:00:01.250Z"}
    assert receipt.id == _uri()
    assert receipt.url == f"https://bsky.app/profile/{HANDLE}/post/{record_key(JOB)}"
    assert receipt.note is None
    _no_secret(repr(bluesky) + repr(bluesky.settings) + repr(receipt))


def test_after_a_crash_the_post_is_found_by_its_record_key_and_not_sent_again(httpserver, bluesky):
    payload = _payload()
    _session(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord", method="GET").respond_with_json(
        {"uri": _uri(), "cid": "bafyreib2rxk3rh6kzwq", "value": {**payload.body, "createdAt": "2024-03-14T09:00:01Z"}}
    )
    receipt = bluesky.publish(payload)
    assert receipt.id == _uri() and "already posted" in receipt.note
    assert not any(request.path.endswith("createRecord") for request, _response in httpserver.log)


def test_a_record_key_holding_another_post_stops_for_a_person(httpserver, bluesky):
    _session(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord", method="GET").respond_with_json(
        {"uri": _uri(), "cid": "bafy", "value": {"$type": "app.bsky.feed.post", "text": "Etwas anderes"}}
    )
    with pytest.raises(Permanent, match="holds another post"):
        bluesky.publish(_payload())


@pytest.mark.parametrize("status", [400, 401])  # the PDS answers 400, the entryway 401
def test_an_expired_session_is_renewed_once_and_the_call_repeated(httpserver, bluesky, status):
    _session(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord", method="GET").respond_with_json(
        {"error": "ExpiredToken", "message": "Token has expired"}, status=status
    )
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.server.refreshSession", method="POST", headers={"Authorization": f"Bearer {REFRESH}"}
    ).respond_with_json(
        {"did": DID, "handle": HANDLE, "accessJwt": "eyJ.access-2.sig", "refreshJwt": "eyJ.refresh-2.sig"}
    )
    _not_found(httpserver, token="eyJ.access-2.sig")
    httpserver.expect_ordered_request(
        "/xrpc/com.atproto.repo.createRecord", method="POST", headers={"Authorization": "Bearer eyJ.access-2.sig"}
    ).respond_with_json({"uri": _uri(), "cid": "bafy"})
    assert bluesky.publish(_payload()).id == _uri()
    httpserver.check_assertions()


def test_a_refused_app_password_says_what_to_do_and_shows_no_secret(httpserver, bluesky):
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, status=401
    )
    with pytest.raises(Permanent) as caught:
        bluesky.publish(_payload())
    message = str(caught.value)
    assert "refused the sign-in" in message and "COMMSFLOW_BLUESKY_APP_PASSWORD" in message
    assert "Invalid identifier or password" in message
    _no_secret(message)


def test_rate_limited_is_transient_with_the_reset_time(httpserver, bluesky):
    _session(httpserver)
    _not_found(httpserver)
    reset = int(time.time()) + 120
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_response(
        Response(
            json.dumps({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}),
            status=429,
            headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
            content_type="application/json",
        )
    )
    with pytest.raises(Transient) as caught:
        bluesky.publish(_payload())
    assert 100 <= caught.value.retry_after <= 121 and caught.value.status == 429


def test_an_invalid_request_is_permanent_with_the_servers_reason(httpserver, bluesky):
    _session(httpserver)
    _not_found(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
        {
            "error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
        },
        status=400,
    )
    with pytest.raises(Permanent) as caught:
        bluesky.publish(_payload())
    message = str(caught.value)
    assert "InvalidRequest: Invalid app.bsky.feed.post record" in message and "check the draft's text" in message
    _no_secret(message)


def test_a_server_that_is_down_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    publisher = BlueskyPublisher(BlueskySettings(f"http://127.0.0.1:{port}", HANDLE, PASSWORD, timeout=2))
    with pytest.raises(Transient, match="cannot connect"):
        publisher.publish(_payload())


def test_settings_come_from_the_environment_and_name_what_is_missing():
    with pytest.raises(CommsflowError, match="COMMSFLOW_BLUESKY_APP_PASSWORD"):
        BlueskySettings.from_env(None, {})
    with pytest.raises(CommsflowError, match="bluesky_account"):
        BlueskySettings.from_env(None, {"COMMSFLOW_BLUESKY_APP_PASSWORD": PASSWORD})
    settings = BlueskySettings.from_env(
        None, {"COMMSFLOW_BLUESKY_APP_PASSWORD": PASSWORD, "COMMSFLOW_BLUESKY_HANDLE": "@" + HANDLE}
    )
    assert (settings.service, settings.handle) == ("https://bsky.social", HANDLE)
    _no_secret(repr(settings))


# --- the channel -------------------------------------------------------------------------------


def test_a_bluesky_step_is_planned_previewed_and_signed_off_as_the_record_it_sends(run, mpi):
    (mpi / "campaigns" / "bluesky-dienstag.yaml").write_text(
        "kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: bluesky\ntype: post\n",
        encoding="utf-8",
    )
    calendar = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--channel", "bluesky")
    assert calendar.exit_code == 0, calendar.output
    assert "Di 05.03.2024 12:00  bluesky" in calendar.stdout or "Tue 05.03.2024 12:00  bluesky" in calendar.stdout
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    records = sorted((mpi / "build" / "bluesky").glob("*.json"))
    assert records, built.output
    for path in records:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert graphemes(record["text"]) <= BLUESKY_GRAPHEMES and record["langs"] == ["de"]
        assert all(_slice(record["text"], facet) for facet in record.get("facets", []))
        preview = path.with_suffix(".md").read_text(encoding="utf-8")
        assert record["text"] in preview  # the preview shows the post as it goes out
        assert f"{graphemes(record['text'])} " in preview and f" {BLUESKY_GRAPHEMES}" in preview
    jobs = json.loads((mpi / "build" / "jobs.json").read_text(encoding="utf-8"))
    assert {job["channel"] for job in jobs} >= {"bluesky"}


DEEP_DIVE = "2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups"


def _on_every_social_channel(mpi, wording: str) -> None:
    """Tuesday slots on LinkedIn, Mastodon and Bluesky in March 2024 (the first picks DEEP_DIVE),
    and ``wording`` added to DEEP_DIVE's front matter."""
    for channel in ("linkedin", "mastodon", "bluesky"):
        (mpi / "campaigns" / f"{channel}-dienstag.yaml").write_text(
            f"kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: {channel}\n"
            "type: post\n",
            encoding="utf-8",
        )
    post = mpi / "content" / "posts" / f"{DEEP_DIVE}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("\nquotes:", f"\n{wording}quotes:", 1), encoding="utf-8")


def _preview(mpi, channel: str) -> str:
    return (mpi / "build" / channel / f"{DEEP_DIVE}--article.md").read_text(encoding="utf-8")


def test_each_social_channel_takes_its_own_wording_then_the_common_one(run, mpi):
    _on_every_social_channel(
        mpi,
        "social:\n"
        "  text: Gemeinsamer Text für alle Kanäle zum Deep Dive.\n"
        "  bluesky: Kurz für Bluesky – Hardtech in Berlin 🤖\n",
    )
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    assert "Kurz für Bluesky – Hardtech in Berlin 🤖" in _preview(mpi, "bluesky")
    assert "Gemeinsamer Text" not in _preview(mpi, "bluesky")
    assert "Gemeinsamer Text für alle Kanäle zum Deep Dive." in _preview(mpi, "mastodon")
    assert "Gemeinsamer Text für alle Kanäle zum Deep Dive." in _preview(mpi, "linkedin")
    record = json.loads((mpi / "build" / "bluesky" / f"{DEEP_DIVE}--article.json").read_text(encoding="utf-8"))
    assert record["text"].startswith("Kurz für Bluesky – Hardtech in Berlin 🤖")
    # Each channel's link says where the reader came from.
    assert "utm_source=bluesky" in record["embed"]["external"]["uri"]
    assert "utm_source=mastodon" in _preview(mpi, "mastodon") and "utm_source=linkedin" in _preview(mpi, "linkedin")


def test_linkedin_wording_stays_linkedins_before_the_common_text(run, mpi):
    _on_every_social_channel(mpi, "linkedin:\n  text: Nur für LinkedIn.\nsocial:\n  text: Für Mastodon und Bluesky.\n")
    run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Nur für LinkedIn." in _preview(mpi, "linkedin")
    assert "Für Mastodon und Bluesky." in _preview(mpi, "mastodon")
    assert "Für Mastodon und Bluesky." in _preview(mpi, "bluesky")


def test_an_own_bluesky_text_too_long_is_an_error_naming_its_line(run, mpi):
    long_text = "Hardtech-Startups " * 20  # 360 characters
    _on_every_social_channel(mpi, f"social:\n  bluesky: {long_text.strip()}\n")
    post = (mpi / "content" / "posts" / f"{DEEP_DIVE}.md").read_text(encoding="utf-8")
    line = post.splitlines().index(f"  bluesky: {long_text.strip()}") + 1
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert built.exit_code == 1
    assert (
        f"content/posts/{DEEP_DIVE}.md:{line}: social.bluesky: the text for bluesky has 359 characters; "
        "bluesky shows 300, the rest is cut"
    ) in " ".join(built.output.split()), built.output


def test_an_unknown_channel_under_social_is_refused(run, mpi):
    _on_every_social_channel(mpi, "social:\n  blusky: Tippfehler\n")
    checked = run(mpi, "check")
    assert checked.exit_code == 1
    assert "social.blusky: unknown field — did you mean `bluesky`?" in checked.output, checked.output


def test_a_channel_template_of_its_own_words_its_posts(run, mpi):
    _on_every_social_channel(mpi, "")
    (mpi / "templates" / "bluesky").mkdir()
    (mpi / "templates" / "bluesky" / "article.txt").write_text(
        "Neu im Blog: {{ item.title }} {{ url }}\n", encoding="utf-8"
    )
    run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Neu im Blog: Rückblick: 1. MPI Deep Dive" in _preview(mpi, "bluesky")
    assert "Neu im Blog" not in _preview(mpi, "mastodon")


# --- threads -----------------------------------------------------------------------------------

LONG = SAVE_THE_DATE.replace(
    "\n\n#Industriestadt",
    " " + "Ein weiterer Satz über das industrielle Metaverse und die Industrie in Berlin. " * 5 + "\n\n#Industriestadt",
)


def test_a_long_text_becomes_a_thread_only_when_asked():
    single = bluesky_record(LONG, LINK, language="de")
    assert THREAD not in single and " …" in single["text"]
    record = bluesky_record(LONG, LINK, language="de", thread=True)
    posts = [record["text"], *(reply["text"] for reply in record[THREAD])]
    assert len(posts) == 4
    assert all(graphemes(post) <= BLUESKY_GRAPHEMES for post in posts)
    assert " …" not in "".join(posts)  # nothing cut
    words = lambda text: [word for word in text.split() if word != shown_link(LINK)]  # noqa: E731
    assert words("\n\n".join(posts)) == words(LONG.replace(LINK, ""))  # every word, in order
    assert posts[0].endswith(shown_link(LINK)) and posts[-1].endswith("#Metaverse #Vernetzung")
    assert record["embed"]["$type"] == "app.bsky.embed.external"  # the card on the first post only
    assert all("embed" not in reply and reply["langs"] == ["de"] for reply in record[THREAD])
    assert [_slice(posts[-1], f) for f in record[THREAD][-1]["facets"]][-1] == "#Vernetzung"


def _thread_payload() -> Payload:
    record = bluesky_record(LONG, LINK, language="de", thread=True)
    return Payload(JOB, "bluesky", "mpi-meet-up-2024", "save-the-date", "MPI Meet-up", record["text"], LINK, record)


def test_a_thread_goes_out_as_answers_to_its_first_post(httpserver, bluesky):
    payload = _thread_payload()
    _session(httpserver)
    keys = [record_key(JOB)] + [record_key(f"{JOB}#{number}") for number in range(2, len(payload.body[THREAD]) + 2)]
    assert len(set(keys)) == 4 and all(key[:5] == keys[0][:5] for key in keys)  # close in time, each its own
    for number, key in enumerate(keys):
        httpserver.expect_ordered_request(
            "/xrpc/com.atproto.repo.getRecord",
            query_string={"repo": DID, "collection": "app.bsky.feed.post", "rkey": key},
        ).respond_with_json({"error": "RecordNotFound", "message": "Could not locate record"}, status=400)
        httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
            {"uri": f"at://{DID}/app.bsky.feed.post/{key}", "cid": f"bafy{number}"}
        )
    receipt = bluesky.publish(payload)
    httpserver.check_assertions()
    created = [json.loads(request.get_data()) for request, _ in httpserver.log if request.path.endswith("createRecord")]
    assert [body["rkey"] for body in created] == keys
    assert "reply" not in created[0]["record"] and THREAD not in created[0]["record"]
    root = {"uri": f"at://{DID}/app.bsky.feed.post/{keys[0]}", "cid": "bafy0"}
    assert created[1]["record"]["reply"] == {"root": root, "parent": root}
    assert created[2]["record"]["reply"] == {
        "root": root,
        "parent": {"uri": f"at://{DID}/app.bsky.feed.post/{keys[1]}", "cid": "bafy1"},
    }
    assert created[3]["record"]["text"] == payload.body[THREAD][2]["text"]
    assert receipt.id == root["uri"] and receipt.note is None


def test_after_a_crash_in_the_middle_a_thread_goes_on_where_it_stopped(httpserver, bluesky):
    payload = _thread_payload()
    _session(httpserver)
    keys = [record_key(JOB)] + [record_key(f"{JOB}#{number}") for number in range(2, len(payload.body[THREAD]) + 2)]
    texts = [payload.body["text"], *(reply["text"] for reply in payload.body[THREAD])]
    for number in (0, 1):  # sent before the crash
        httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
            {
                "uri": f"at://{DID}/app.bsky.feed.post/{keys[number]}",
                "cid": f"bafy{number}",
                "value": {"text": texts[number]},
            }
        )
    for number in (2, 3):
        httpserver.expect_ordered_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
            {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
        )
        httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
            {"uri": f"at://{DID}/app.bsky.feed.post/{keys[number]}", "cid": f"bafy{number}"}
        )
    receipt = bluesky.publish(payload)
    httpserver.check_assertions()
    created = [json.loads(request.get_data()) for request, _ in httpserver.log if request.path.endswith("createRecord")]
    assert [body["rkey"] for body in created] == keys[2:]
    assert created[0]["record"]["reply"]["parent"] == {
        "uri": f"at://{DID}/app.bsky.feed.post/{keys[1]}",
        "cid": "bafy1",
    }
    assert "already posted" in receipt.note


def test_a_step_threads_only_on_a_channel_that_threads(run, mpi):
    campaign = mpi / "campaigns" / "mpi-meet-up-2024.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace("    template: save-the-date\n", "    template: save-the-date\n    thread: true\n", 1),
        encoding="utf-8",
    )
    checked = run(mpi, "check")
    assert checked.exit_code == 1
    assert "thread: linkedin posts no threads — leave thread out, or plan the step on bluesky" in " ".join(
        checked.output.split()
    ), checked.output


def test_a_bluesky_slot_with_thread_true_previews_every_post(run, mpi):
    (mpi / "campaigns" / "bluesky-dienstag.yaml").write_text(
        "kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: bluesky\ntype: post\n"
        "thread: true\n",
        encoding="utf-8",
    )
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    threads = 0
    for path in sorted((mpi / "build" / "bluesky").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        posts = [record["text"], *(reply["text"] for reply in record.get(THREAD, []))]
        assert all(graphemes(post) <= BLUESKY_GRAPHEMES for post in posts)
        assert "\n\n---\n\n".join(posts) in path.with_suffix(".md").read_text(encoding="utf-8")
        threads += len(posts) > 1
    assert threads  # the fixture's blog posts are longer than one post


def test_the_mastodon_status_is_fitted_when_built_so_the_preview_and_the_payload_are_what_is_posted(run, mpi):
    """The status (text, link, hashtags) is fitted to [social] mastodon_max_characters in the
    build and counted as Mastodon counts; the outbox gets exactly the previewed status; a longer
    own text is a warning; a larger limit keeps the whole text (and changes what is signed off)."""
    from commsflow.renderers.short_post import status_length

    long_text = "Hardtech-Startups entwickeln in Berlin neue Maschinen. " * 12
    _on_every_social_channel(mpi, f"social:\n  mastodon: {long_text.strip()}\n")
    built = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert "Traceback" not in built.output
    assert "the text for mastodon has 659 characters; mastodon shows 500" in " ".join(built.output.split())
    preview = _preview(mpi, "mastodon")
    status = preview.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert "Maschinen. …\n\n" in status and "utm_source=mastodon" in status
    assert status_length(status) <= 500 and f"characters: {status_length(status)} of 500\n" in preview
    assert run(mpi, "--now", "2024-03-01 10:05", "approve", DEEP_DIVE, "--by", "Dana Schulz").exit_code == 0
    sent = run(mpi, "run", "--simulate", "2024-03-05..2024-03-05")
    assert "Traceback" not in sent.output
    (folder,) = (mpi / ".commsflow" / "simulation" / "outbox" / "mastodon").glob(f"*{DEEP_DIVE}*")
    assert status in (folder / "text.txt").read_text(encoding="utf-8")

    def digest() -> str:
        jobs = json.loads((mpi / "build" / "jobs.json").read_text(encoding="utf-8"))
        return next(job["digest"] for job in jobs if job["channel"] == "mastodon" and job["item"] == DEEP_DIVE)

    before = digest()
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("[social]\n", "[social]\nmastodon_max_characters = 1000\n", 1),
        encoding="utf-8",
    )
    run(mpi, "--now", "2024-03-01 10:00", "build")
    assert " …" not in _preview(mpi, "mastodon") and long_text.strip() in _preview(mpi, "mastodon")
    assert digest() != before

"""The preview server with real HTTP on a free loopback port (issue 12, item 12).

The build folder holds drafts and embargoed texts: the server answers only requests
addressed to 127.0.0.1, localhost or [::1] at its port (a DNS-rebinding page sends its
own host name), never lists a folder, serves nothing outside the folder, and closes
connections that stay silent, so half-sent requests do not keep threads alive.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path

import pytest

from commsflow.commands.preview import serve

DRAFT = "Entwurf: Sperrfrist bis 20. April"
IDLE = 0.5  # the idle timeout the tests' server gets
BOUND = 10  # seconds anything may take at most here


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    (build / "press" / "meetup").mkdir(parents=True)
    (build / "media" / "post").mkdir(parents=True)
    (build / "index.html").write_text(f"<h1>{DRAFT}</h1>", encoding="utf-8")
    (build / "press" / "meetup" / "index.html").write_text("<p>Pressemitteilung</p>", encoding="utf-8")
    (build / "media" / "post" / "secret-draft-photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "outside.txt").write_text("not part of the build", encoding="utf-8")
    (build / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    return build


@pytest.fixture
def server(folder):
    preview = serve(folder, 0, idle_timeout=IDLE)
    yield preview
    preview.shutdown()
    preview.server_close()


def get(server, path: str = "/", host: str | None = None, method: str = "GET") -> tuple[int, str]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND)
    try:
        connection.request(method, path, headers={"Host": host if host is not None else f"127.0.0.1:{port}"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def raw(server, data: bytes) -> bytes:
    """Send ``data`` as it is and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=BOUND) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "[::1]"])
def test_the_preview_answers_at_its_own_addresses(server, name):
    status, body = get(server, host=f"{name}:{server.server_address[1]}")
    assert status == 200
    assert DRAFT in body


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:{port}",  # DNS rebinding: the page's own name, now resolving to 127.0.0.1
        "attacker.example",
        "127.0.0.1.nip.io:{port}",
        "localhost.attacker.example:{port}",
        "127.0.0.1",  # no port: not this server's address
        "localhost:1",  # another port
        "127.0.0.1:{port}@attacker.example",
        "",
    ],
)
def test_a_request_for_another_host_is_refused(server, host):
    host = host.format(port=server.server_address[1])
    for method in ("GET", "HEAD"):
        status, body = get(server, host=host, method=method)
        assert status == 421, (host, method)
        assert DRAFT not in body
    status, body = get(server, "/press/meetup/", host=host)
    assert status == 421 and "Pressemitteilung" not in body


def test_a_request_without_a_host_or_with_two_is_refused(server):
    port = server.server_address[1]
    assert raw(server, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 400 ")
    two = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: attacker.example\r\n\r\n".encode()
    answer = raw(server, two)
    assert answer.startswith(b"HTTP/1.0 400 ") and DRAFT.encode() not in answer


def test_a_folder_is_never_listed(server):
    for path in ("/media/", "/media/post/"):
        status, body = get(server, path)
        assert status == 404, path
        assert "secret-draft-photo" not in body and "post" not in body.replace("Error response", "")
    status, body = get(server, "/press/meetup/")  # a folder with an index.html shows it
    assert status == 200 and "Pressemitteilung" in body
    assert get(server, "/media/post/secret-draft-photo.jpg")[0] == 200


def test_nothing_outside_the_build_folder_is_served(server):
    port = server.server_address[1]
    for path in ("/../outside.txt", "/%2e%2e/outside.txt", "/media/../../outside.txt", "/link-out.txt"):
        answer = raw(server, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 404 "), path
        assert b"not part of the build" not in answer


def test_a_half_sent_request_is_closed_after_the_idle_timeout(server):
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as connection:
        connection.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())  # no blank line: never ends
        start = time.monotonic()
        assert connection.recv(65536) == b""  # closed by the server, without an answer
        assert time.monotonic() - start < BOUND
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as connection:  # nothing sent at all
        assert connection.recv(65536) == b""


def test_silent_connections_do_not_keep_threads_alive(server):
    port = server.server_address[1]
    before = threading.active_count()
    connections = [socket.create_connection(("127.0.0.1", port), timeout=BOUND) for _ in range(50)]
    try:
        for connection in connections:
            connection.sendall(b"GET / HTTP/1.1\r\n")
        ends = time.monotonic() + BOUND
        while threading.active_count() > before and time.monotonic() < ends:
            time.sleep(0.05)
        assert threading.active_count() <= before
        assert get(server)[0] == 200  # and the server still answers
    finally:
        for connection in connections:
            connection.close()


@pytest.mark.parametrize(
    "name,expected",
    [
        ("release.txt", "text/plain; charset=utf-8"),
        ("release.md", "text/markdown; charset=utf-8"),
        ("meetup.ics", "text/calendar; charset=utf-8"),
    ],
)
def test_texts_are_served_as_utf_8(server, folder, name, expected):
    """A plain-text release read as Latin-1 shows „Anführungszeichen“ as mojibake (issue 14)."""
    (folder / "press" / "meetup" / name).write_text("„Berliner Industrie“ – Größe", encoding="utf-8")
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND)
    try:
        connection.request("GET", f"/press/meetup/{name}", headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == expected
        assert response.read().decode("utf-8") == "„Berliner Industrie“ – Größe"
    finally:
        connection.close()

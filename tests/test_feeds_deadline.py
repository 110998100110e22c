"""A slow feed is cut off after the feed list's ``fetch.timeout`` — connecting, headers and
body together — and the run goes on with the other feeds (issue 12, item 5).

The slow server is a real socket server on 127.0.0.1 that answers at once but then
trickles: one byte every 0.25 s, the status line and headers or the body, so that no
single read ever waits long enough for a per-read timeout. A whole answer would take a
minute; with a 1 s deadline the fetch must give up within seconds. The bounds are
generous: this checks behaviour, it is no benchmark.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES

from commsflow.feeds.fetch import Fetcher

FEEDS = FIXTURES / "feeds"
NOW = ("--now", "2024-03-15 10:00")
GOOD = (FEEDS / "wordpress_rss2_content_encoded.xml").read_bytes()
TRICKLE = 0.25  # seconds between two bytes
TRICKLE_BYTES = 240  # a minute's worth
BOUND = 10  # seconds a cut-off fetch may take at most, deadline included


class TricklingServer:
    """HTTP by hand on a free loopback port. Paths:

    ``/good.xml``          the WordPress fixture feed, at once;
    ``/slow-headers.xml``  the status line and headers one byte at a time;
    ``/slow-body.xml``     the headers at once (with Content-Length), then the body one byte at a time;
    ``/slow-chunked.xml``  the same, chunked;
    ``/slow-close.xml``    the same without a length: the body ends when the connection does.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.trickling = 0  # connections still trickling
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                data = connection.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ")[1].decode()
            body = GOOD if path == "/good.xml" else GOOD[:TRICKLE_BYTES]
            kind = "Transfer-Encoding: chunked" if path == "/slow-chunked.xml" else f"Content-Length: {len(body)}"
            if path == "/slow-close.xml":
                kind = "Connection: close"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n{kind}\r\n\r\n".encode()
            try:
                if path == "/good.xml":
                    connection.sendall(head + body)
                    return
                if path == "/slow-headers.xml":
                    self._trickle(connection, head)
                    connection.sendall(body)
                    return
                connection.sendall(head)
                if path == "/slow-chunked.xml":
                    body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
                self._trickle(connection, body)
            except OSError:
                return  # the client hung up: what a deadline does

    def _trickle(self, connection: socket.socket, data: bytes) -> None:
        with self.lock:
            self.trickling += 1
        try:
            for position in range(len(data)):
                if self.stopping.is_set():
                    return
                connection.sendall(data[position : position + 1])
                time.sleep(TRICKLE)
        finally:
            with self.lock:
                self.trickling -= 1


@pytest.fixture
def slow():
    server = TricklingServer()
    yield server
    server.stop()


def feed_list(root: Path, feeds: list[dict], **fetch) -> None:
    data = {"fetch": fetch, "feeds": feeds} if fetch else {"feeds": feeds}
    (root / "feeds.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def wait_until_hung_up(server: TricklingServer) -> None:
    """The cut-off connection is closed on our side: the server's next byte fails and it stops."""
    ends = time.monotonic() + BOUND
    while server.trickling and time.monotonic() < ends:
        time.sleep(0.05)
    assert server.trickling == 0


@pytest.mark.parametrize("path", ["/slow-headers.xml", "/slow-body.xml", "/slow-chunked.xml", "/slow-close.xml"])
def test_the_deadline_covers_headers_and_body(slow, path):
    with Fetcher("commsflow-test", timeout=1, max_bytes=5 * 1024 * 1024) as fetcher:
        fetched, seconds = timed(lambda: fetcher.get(slow.url(path)))
        assert seconds < BOUND, f"{path} held the fetcher {seconds:.1f} s"
        assert fetched.error == f"no complete answer from 127.0.0.1:{slow.port} within 1 s (timeout)"
        assert fetched.status is None  # a body cut off at the deadline is no answer, even without a length
        assert fetched.body == b"" and fetched.etag is None
        wait_until_hung_up(slow)
        # the connection pool is still usable after a connection was cut off
        good = fetcher.get(slow.url("/good.xml"))
        assert good.error is None and good.status == 200 and good.body == GOOD


def test_a_trickling_feed_is_cut_off_and_the_others_are_fetched(run, mpi, slow):
    feed_list(
        mpi,
        [
            {"name": "slow", "url": slow.url("/slow-body.xml"), "project": "its-inberlin"},
            {"name": "headers", "url": slow.url("/slow-headers.xml"), "project": "its-inberlin"},
            {"name": "circular-berlin", "url": slow.url("/good.xml"), "project": "circular-city-challenge"},
        ],
        timeout=1,
    )
    result, seconds = timed(lambda: run(mpi, *NOW, "feeds", "fetch"))
    assert seconds < BOUND, result.output
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for name in ("slow", "headers"):
        assert (
            f"error {name}: no complete answer from 127.0.0.1:{slow.port} within 1 s (timeout) — the server may be "
            "down or slow; the feed is tried again on the next fetch"
        ) in result.stdout
    assert "+ content/news/2024-02-20-circular-city-challenge-2023-13-zirkulaere-loesungen-fuer-berlin.md" in (
        result.stdout
    )
    assert "2 of 3 feeds failed: slow, headers" in result.stdout
    # the state was committed and its lock released: the next fetch runs, the status shows the timeout
    status = run(mpi, *NOW, "feeds", "status")
    assert status.exit_code == 0, status.output
    assert "within 1 s (timeout)" in status.stdout


def test_feeds_try_gives_up_on_a_trickling_feed(run, mpi, slow):
    feed_list(mpi, [{"name": "slow", "url": slow.url("/slow-body.xml"), "project": "its-inberlin"}], timeout=1)
    result, seconds = timed(lambda: run(mpi, *NOW, "feeds", "try", slow.url("/slow-body.xml")))
    assert seconds < BOUND, result.output
    assert result.exit_code == 1
    assert f"error slow: no complete answer from 127.0.0.1:{slow.port} within 1 s (timeout)" in result.stdout
    assert "Traceback" not in result.output


def test_the_duplicate_check_opens_no_pipe_and_follows_no_link_out_of_the_folder(tmp_path):
    """Issue 12: `feeds fetch` reads content/news/ to find what it has imported before; a named
    pipe there would block it for ever, a link could read any file."""
    import os
    import threading

    from commsflow.feeds import news

    folder = tmp_path / "content" / "news"
    folder.mkdir(parents=True)
    (folder / "echt.md").write_text("---\ntitle: Echt\nguid: g1\nsource: s\n---\nText.\n", encoding="utf-8")
    os.mkfifo(folder / "rohr.md")
    secret = tmp_path / "geheim.md"
    secret.write_text("---\ntitle: Geheim\n---\n", encoding="utf-8")
    (folder / "link.md").symlink_to(secret)
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(news._front_matters(folder)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading content/news/ blocked on the named pipe"
    data = {path.name: value for path, value in found}
    assert data["echt.md"]["title"] == "Echt"
    assert data["rohr.md"] is None and data["link.md"] is None

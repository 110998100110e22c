"""Feed figures: `commsflow feeds fetch` of 200 feeds × 50 entries from a local HTTP server.

The server (http.server in a thread, HTTP/1.1 keep-alive, on 127.0.0.1) answers with an
ETag and a 304 when If-None-Match matches, like a web server serving static feeds. The
fetch runs through the real command in a temporary copy of the project (never the
repository's content/): the first run imports all 10,000 entries, the second finds every
feed unchanged. CPU time beside wall time shows what bounds the first run: parsing (CPU ≈
wall) or waiting for the network (CPU ≪ wall).
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from click.testing import CliRunner

from commsflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
FEEDS, ENTRIES = 200, 50
NOW = "2024-03-15 10:00"
PROJECTS = [
    "amber-initiative",
    "circular-city-challenge",
    "future-of-computing-conference",
    "maedchen-technik-kongress",
    "modell-campus-ringberlin",
    "its-inberlin",
]
WORDS = (
    "Kreislaufwirtschaft Industrie Berlin Förderung Projekt Netzwerk Unternehmen Forschung Digitalisierung "
    "Fachkräfte Standort Innovation Produktion Werkstatt Zukunft Qualifizierung Mittelstand Wärme Größe "
    "Übergang Energie Material Robotik Leichtbau Druck Daten"
).split()


def _feed(number: int) -> bytes:
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    items = []
    for entry in range(ENTRIES):
        words = [WORDS[(number * 7 + entry * 3 + k) % len(WORDS)] for k in range(60)]
        title = f"Meldung {entry + 1} von Partner {number + 1}: {' '.join(words[:5])}"
        text = " ".join(words)
        items.append(f"""  <item>
    <title>{title}</title>
    <link>https://partner-{number}.example.org/news/{entry}/?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">partner-{number}-{entry}</guid>
    <pubDate>{format_datetime(start - timedelta(hours=entry * 13 + number))}</pubDate>
    <description><![CDATA[<p>{text[:300]}. <a href="https://partner-{number}.example.org/">Mehr</a></p>
<p>{text[300:]}.</p><img src="https://tracker.example/p.gif" width="1" height="1">]]></description>
  </item>""")
    return (
        f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Partner {number + 1}</title><link>https://partner-{number}.example.org/</link>
<description>Bench</description>
{chr(10).join(items)}
</channel></rss>
"""
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    feeds: dict[str, tuple[bytes, str]] = {}
    counts = {"200": 0, "304": 0}

    def do_GET(self):  # noqa: N802 - http.server's naming
        found = self.feeds.get(self.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, etag = found
        if self.headers.get("If-None-Match") == etag:
            self.counts["304"] += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.counts["200"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _project(workdir: Path) -> Path:
    target = workdir / "feeds-project"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(ROOT / "commsflow.toml", target)
    for folder in ("content", "campaigns", "templates"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


def _timed_fetch(root: Path):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    # --lang en: the bench reads the closing line as written in the code.
    result = CliRunner().invoke(
        main, ["--root", str(root), "--lang", "en", "--now", NOW, "feeds", "fetch"], catch_exceptions=False
    )
    return result, time.perf_counter() - start_wall, time.process_time() - start_cpu


def run(workdir: Path):
    root = _project(workdir)
    feeds = {}
    for number in range(FEEDS):
        body = _feed(number)
        feeds[f"/partner-{number}/feed/"] = (body, '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"')
    _Handler.feeds, _Handler.counts = feeds, {"200": 0, "304": 0}
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 drops concurrent connects (1 s SYN retry)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        listing = {
            "feeds": [
                {
                    "name": f"partner-{number}",
                    "url": f"{base}/partner-{number}/feed/",
                    "project": PROJECTS[number % len(PROJECTS)],
                }
                for number in range(FEEDS)
            ]
        }
        (root / "feeds.yaml").write_text(yaml.safe_dump(listing, sort_keys=False), encoding="utf-8")
        first, first_s, first_cpu = _timed_fetch(root)
        written = len(list((root / "content" / "news").glob("*.md")))
        second, second_s, second_cpu = _timed_fetch(root)
    finally:
        server.shutdown()
        server.server_close()
    if first.exit_code or second.exit_code:
        raise SystemExit(f"feeds fetch failed in the bench:\n{first.output[-2000:]}\n{second.output[-2000:]}")
    if _Handler.counts != {"200": FEEDS, "304": FEEDS}:
        raise SystemExit(f"unexpected answers from the bench server: {_Handler.counts}")
    expected = f"{FEEDS} feeds fetched: {FEEDS * ENTRIES} new news items for review, 0 duplicates"
    if expected not in first.stdout or "0 new news items" not in second.stdout:
        raise SystemExit("the bench's fetch did not import as expected:\n" + first.stdout[-500:] + second.stdout[-500:])
    entries = FEEDS * ENTRIES
    figures = {
        "feeds_first_fetch_s": first_s,
        "feeds_first_fetch_cpu_s": first_cpu,
        "feeds_first_fetch_entries_per_s": entries / first_s,
        "feeds_second_fetch_s": second_s,
        "feeds_second_fetch_cpu_s": second_cpu,
    }
    rows = [
        (
            f"feeds fetch, first run: {FEEDS} feeds × {ENTRIES} entries → {written - 7:,} news files",
            f"{first_s:.2f} s ({entries / first_s:,.0f} entries/s; CPU {first_cpu:.2f} s = "
            f"{first_cpu / first_s:.0%} of wall)",
            "bounded by parsing",
        ),
        (f"feeds fetch, second run: {FEEDS} × 304 Not Modified", f"{second_s * 1000:.0f} ms", "< 1 s"),
    ]
    return figures, rows

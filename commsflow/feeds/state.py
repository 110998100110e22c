"""What commsflow remembers about feeds between runs, in the state folder.

One SQLite file, ``<state>/feeds/state.sqlite``: per feed the validators of the
last good answer (ETag, Last-Modified) for a conditional GET, the address a
permanent redirect led to, when a 410 disabled it and how the last fetch went;
and the seen-store — a key per entry ever fetched (its guid within the feed, its
canonical link, a hash of its text; stored as hashes) — so nothing is imported
twice. A fetch runs in one write transaction from start to end: a second fetch
waits for it (and gives up with a message), and an interrupted run leaves the
state of the previous run as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from commsflow.errors import CommsflowError
from commsflow.i18n import _

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,           -- the address in the feed list when this was recorded
    moved_to TEXT,               -- where a permanent redirect led
    etag TEXT,
    last_modified TEXT,
    gone TEXT,                   -- when a 410 disabled the feed
    checked TEXT,                -- the last fetch
    http INTEGER,                -- its HTTP status, if there was an answer
    outcome TEXT,                -- ok | not modified | error | gone
    message TEXT,                -- the last error
    new INTEGER NOT NULL DEFAULT 0,       -- news written by the last fetch
    imported INTEGER NOT NULL DEFAULT 0,  -- news written in all
    last_new TEXT                -- when news were last written
);
CREATE TABLE IF NOT EXISTS seen (
    key TEXT PRIMARY KEY,        -- hash of kind and value
    feed TEXT NOT NULL,
    path TEXT,                   -- the news file written for it (NULL: a duplicate)
    first_seen TEXT NOT NULL
);
"""
_BUSY_SECONDS = 5


@dataclass
class FeedState:
    name: str
    url: str
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    gone: str | None = None
    checked: str | None = None
    http: int | None = None
    outcome: str | None = None
    message: str | None = None
    new: int = 0
    imported: int = 0
    last_new: str | None = None

    @property
    def address(self) -> str:
        return self.moved_to or self.url


def seen_key(kind: str, value: str) -> str:
    return hashlib.blake2b(f"{kind}\n{value}".encode(), digest_size=16).hexdigest()


def state_path(state_folder: Path) -> Path:
    return state_folder / "feeds" / "state.sqlite"


def _broken(path: Path, exc: Exception) -> CommsflowError:
    return CommsflowError(
        _("{path}: the feed state cannot be read ({reason})").format(path=path, reason=exc),
        _("delete {folder} to start afresh — news already in the content folder are still recognised").format(
            folder=path.parent
        ),
    )


class StateStore:
    """The state for one ``feeds fetch``: opened with the write lock held, committed once."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_SECONDS)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise CommsflowError(
                    _("another `commsflow feeds fetch` is running (the feed state is locked)"),
                    _("wait until it has finished, then run again"),
                ) from None
            raise _broken(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise _broken(path, exc) from None
        self.feeds = {row[0]: FeedState(*row) for row in self._db.execute("SELECT * FROM feeds")}
        self._open = True

    def feed(self, name: str, url: str) -> FeedState:
        """The state of feed ``name``; started afresh when its address in the feed list changed."""
        state = self.feeds.get(name)
        if state is None or state.url != url:
            previous = state
            state = FeedState(name, url)
            if previous is not None:  # counts survive a new address; validators and redirects do not
                state.imported, state.last_new = previous.imported, previous.last_new
            self.feeds[name] = state
        return state

    def is_seen(self, kind: str, value: str) -> str | None:
        """The news file recorded for this key ('' for a duplicate), or None if never seen."""
        row = self._db.execute("SELECT path FROM seen WHERE key = ?", (seen_key(kind, value),)).fetchone()
        return None if row is None else (row[0] or "")

    def remember(self, feed: str, keys: list[tuple[str, str]], path: str | None, when: str) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?)",
            [(seen_key(kind, value), feed, path, when) for kind, value in keys],
        )

    def commit(self) -> None:
        """Write every feed's state and end the run's transaction."""
        rows = [
            (
                s.name,
                s.url,
                s.moved_to,
                s.etag,
                s.last_modified,
                s.gone,
                s.checked,
                s.http,
                s.outcome,
                s.message,
                s.new,
                s.imported,
                s.last_new,
            )
            for s in self.feeds.values()
        ]
        self._db.executemany(f"INSERT OR REPLACE INTO feeds VALUES ({', '.join('?' * 13)})", rows)
        self._db.execute("COMMIT")
        self._open = False

    def close(self) -> None:
        if self._open:
            self._db.execute("ROLLBACK")
            self._open = False
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_state(path: Path) -> dict[str, FeedState]:
    """The recorded state per feed, read without taking the lock (``feeds status``);
    empty if nothing was fetched yet."""
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_SECONDS)
        try:
            return {row[0]: FeedState(*row) for row in db.execute("SELECT * FROM feeds")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise _broken(path, exc) from None


class SeenReader:
    """The seen-store read-only (``feeds try``): nothing is locked or written."""

    def __init__(self, path: Path):
        self._db = None
        if path.is_file():
            try:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_SECONDS)
                self._db.execute("SELECT 1 FROM seen LIMIT 1")
            except sqlite3.DatabaseError as exc:
                raise _broken(path, exc) from None

    def is_seen(self, kind: str, value: str) -> str | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT path FROM seen WHERE key = ?", (seen_key(kind, value),)).fetchone()
        return None if row is None else (row[0] or "")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

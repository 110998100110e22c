"""A per-file cache of loaded content, keyed by content hash, in the state folder.

A file whose size and modification time are unchanged is taken from the cache
without reading it; a file whose stat changed is read and hashed, and only parsed
again if its bytes changed. The cache is a SQLite file: an index of all files (one
record, read in one go at start, with orjson: 20,000 records) and, per distinct content
hash, the validated front matter and the rendered body, which items fetch only when they
are first used. Both are kept as JSON, plain data: a cache file that someone else wrote can at worst make
commsflow read the content files again (or show what it says), never run code. A row
no file refers to any more is removed by the next run that changes the cache, so
items handed out by one run stay readable through the next. The cache is dropped
as a whole when the configuration or the package's code changes; a broken cache
only makes a run slower.

``read_kept`` and ``write_kept`` serve the other caches: one JSON file each (read and written
with orjson: some hold an entry for each of 10,000 jobs, every build), kept under a key
that says what its contents were worked out from.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import sqlite3
import weakref
from pathlib import Path

import orjson

# 6: the index and the front matter are JSON (data), no longer pickles (code).
_FORMAT = 6
# What a damaged or foreign cache file may raise while it is opened or read: the cache is
# then dropped (or the file read again), never trusted. json.JSONDecodeError and
# UnicodeDecodeError are ValueErrors.
_ERRORS = (sqlite3.Error, ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError)
# Files changed since the whole index was stored (or a twentieth of them, if more): then it is stored whole again.
_DELTA_AT_MOST = 500
_LOG_AT_MOST = 16 * 1024 * 1024  # bytes of write-ahead log a run leaves before it empties the log
_BUSY_S = 30  # how long a run waits for another process that is writing the cache
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS contents (digest TEXT PRIMARY KEY, data BLOB NOT NULL, html TEXT NOT NULL);
"""


def read_kept(path: Path | None, key: str) -> dict:
    """What a JSON cache file keeps, when it was kept under ``key``; else — no file, an
    unreadable one, another key, ``path`` None (--no-cache) — nothing: work it out again."""
    if path is None:
        return {}
    try:
        stored = orjson.loads(path.read_bytes())
        kept = stored["kept"] if stored["key"] == key else {}
    except (OSError, ValueError, KeyError, TypeError):  # orjson.JSONDecodeError is a ValueError
        return {}
    return kept if isinstance(kept, dict) else {}


def write_kept(path: Path | None, key: str, kept: dict) -> None:
    """Keep ``kept`` under ``key`` (written atomically); a read-only state folder only makes
    the next run slower."""
    from commsflow.errors import CommsflowError
    from commsflow.files import write_atomic

    if path is None:
        return
    try:
        write_atomic(path, orjson.dumps({"key": key, "kept": kept}))
    except (CommsflowError, TypeError):  # TypeError: something orjson cannot keep; worked out again next time
        pass


def code_fingerprint() -> str:
    """Every module and message catalog of the package, and the language messages are in:
    any change to how content is read, or to what its problems say, drops the cache."""
    from commsflow import i18n

    return f"{package_digest()}:{i18n.language()}"


@functools.cache
def package_digest() -> str:
    """Read once per process."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(str(_FORMAT).encode(), digest_size=16)
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.mo")]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Dates in cached data, as JSON objects with one key no YAML file gives (a NUL character).
_DATE, _DATETIME = "\0date", "\0datetime"


def dumps_data(data) -> bytes:
    """Plain data (what YAML gives: also dates and times) as JSON: a cache that is data,
    not code — whoever can write the state folder cannot run code through it."""
    from datetime import date, datetime

    def tagged(value):
        if isinstance(value, datetime):
            return {_DATETIME: value.isoformat()}
        if isinstance(value, date):
            return {_DATE: value.isoformat()}
        raise TypeError(f"{type(value).__name__} is not plain data")

    return json.dumps(data, ensure_ascii=False, default=tagged).encode("utf-8")


def loads_data(raw: bytes):
    from datetime import date, datetime

    def untagged(value: dict):
        if len(value) == 1:
            if _DATETIME in value:
                return datetime.fromisoformat(value[_DATETIME])
            if _DATE in value:
                return date.fromisoformat(value[_DATE])
        return value

    return json.loads(raw, object_hook=untagged)


def digest_of(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=20).hexdigest()


class CacheMiss(Exception):
    """The cache cannot give what was asked; read the file instead."""


# One index record per file, plain data (JSON): (mtime_ns, size, digest, ...) — what
# follows the digest is the reader's (commsflow.sources.content), checked there on use.
# A record read back from the file is a list.
Record = tuple | list


class ContentCache:
    def __init__(self, path: Path, key: str):
        self.path = path
        self.key = f"{key}:{code_fingerprint()}"
        self.index: dict[str, Record] = {}
        # What changed since the index was last stored whole (None: a file gone). A run that
        # changes a few files stores only these, not the whole index again (2 MB for 10,000).
        self._delta: dict[str, Record | None] = {}
        self._whole = False  # whether the database holds a whole index the changes apply to
        self._changed = False
        self._dropped: set[str] = set()  # digests this run took out of the index
        self._waiting: set[str] = set()  # digests an earlier run took out: removed by the next run that saves
        self._db: sqlite3.Connection | None = None
        try:
            try:
                self._open()
            except sqlite3.OperationalError:
                # Locked by another process that kept writing, or not to be opened: the file
                # may be sound and in use. It is not removed from under that process.
                raise
            except _ERRORS:  # a damaged or foreign file: started afresh
                self._reset()
        except (*_ERRORS, OSError):  # a read-only or broken state folder, a busy cache: work without it
            self._off()

    def close(self) -> None:
        """Close the database: the last connection to close moves the write-ahead log into
        the database and removes it, so the next process does not read it all to open."""
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def __del__(self) -> None:
        # The items read through the cache are gone with it. Its connection is in a reference
        # cycle (sqlite3's statement cache refers back to it) and would otherwise stay open
        # until the cyclic collector frees it — never, in a program that ends with its command
        # (commsflow.cli): the write-ahead log would be left behind.
        self.close()

    def _off(self) -> None:
        """Go on without a cache: every file is read; nothing is kept."""
        self.close()
        self.index = {}
        self._delta = {}
        self._changed = False
        self._dropped.clear()
        self._waiting.clear()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=_BUSY_S)
        _open_caches.add(self)
        self._delta, self._whole = {}, False
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        stored = dict(self._db.execute("SELECT key, value FROM meta"))
        if stored.get("key") != self.key:
            # Another configuration or another version of commsflow: start afresh.
            self._db.executescript("DELETE FROM meta; DELETE FROM contents;")
            self._db.execute("INSERT INTO meta VALUES ('key', ?)", (self.key,))
            return
        self.index = _index_from(stored["index"]) if "index" in stored else {}
        self._delta = _delta_from(stored["delta"]) if "delta" in stored else {}
        self._whole = "index" in stored  # else the first save stores the index whole
        for name, record in self._delta.items():
            if record is None:
                self.index.pop(name, None)
            else:
                self.index[name] = record
        waiting = json.loads(stored.get("dropped") or "[]")
        self._waiting = (
            {digest for digest in waiting if isinstance(digest, str)} if isinstance(waiting, list) else set()
        )

    def _reset(self) -> None:
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.index = {}
        self._open()

    def by_stat(self, name: str, mtime_ns: int, size: int) -> Record | None:
        record = self.index.get(name)
        if record and record[0] == mtime_ns and record[1] == size:
            return record
        return None

    def by_digest(self, name: str, digest: str) -> Record | None:
        record = self.index.get(name)
        return record if record and record[2] == digest else None

    def put(self, name: str, record: Record, data: dict | None = None, html: str | None = None) -> None:
        """Record a file. Content goes to the database at once, so a big first load
        does not hold every file's data twice in memory. What cannot be kept as JSON (a
        YAML ``!!set`` or ``!!binary``, a file name that is not UTF-8) is not kept: that
        file is read again on every run."""
        try:
            name.encode("utf-8")
            blob = dumps_data(data) if data is not None else None
        except (TypeError, ValueError):
            self.forget(name)
            return
        if self._db is None:
            return
        try:
            self._begin()
            if blob is not None:
                self._db.execute("INSERT OR REPLACE INTO contents VALUES (?, ?, ?)", (record[2], blob, html or ""))
        except sqlite3.Error:  # a full disk, a read-only file: the cache is optional
            self._off()
            return
        old = self.index.get(name)
        if old and old[2] != record[2]:
            self._dropped.add(old[2])
        self.index[name] = self._delta[name] = record

    def forget(self, name: str) -> None:
        record = self.index.pop(name, None)
        if record is not None:
            self._begin()
            self._dropped.add(record[2])
            self._delta[name] = None

    def _begin(self) -> None:
        if self._db is not None and not self._changed:
            self._db.execute("BEGIN")
            self._changed = True

    def keep_only(self, names: set[str]) -> None:
        gone = set(self.index) - names
        if gone:
            self._begin()
        for name in gone:
            self._dropped.add(self.index.pop(name)[2])
            self._delta[name] = None

    def data(self, digest: str) -> dict:
        """The validated front matter of a file, as plain data."""
        try:
            data = loads_data(self._fetch("data", digest))
        except _ERRORS as exc:
            raise CacheMiss(str(exc)) from None
        if not isinstance(data, dict):
            raise CacheMiss(f"front matter of {digest} is not a mapping")
        return data

    def body(self, digest: str) -> str:
        html = self._fetch("html", digest)
        if not isinstance(html, str):
            raise CacheMiss(f"body of {digest} is not text")
        return html

    def _fetch(self, column: str, digest: str):
        if self._db is None:
            raise CacheMiss("the cache is not available")
        try:
            row = self._db.execute(f"SELECT {column} FROM contents WHERE digest = ?", (digest,)).fetchone()
        except sqlite3.Error as exc:
            raise CacheMiss(str(exc)) from None
        if row is None:
            raise CacheMiss(digest)
        return row[0]

    def save(self) -> None:
        if self._db is None or not self._changed:
            return
        try:
            whole = not self._whole or len(self._delta) > max(_DELTA_AT_MOST, len(self.index) // 20)
            try:  # names, stats, digests, slugs, problems: no dates
                blob = orjson.dumps(self.index if whole else self._delta)
            except (TypeError, ValueError):  # a record that is not plain data: keep nothing of this run
                self._db.execute("ROLLBACK")
                self._changed = False
                self._dropped.clear()
                return
            if whole:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('index', ?)", (blob,))
                self._db.execute("DELETE FROM meta WHERE key = 'delta'")
            else:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('delta', ?)", (blob,))
            # The content of an edited or removed file (unless another file has the same: a copy)
            # stays one run longer: a command still running may have its item from the cache
            # and read the text only when it shows it.
            live = {record[2] for record in self.index.values()}
            waiting = self._dropped - live
            gone = self._waiting - live - waiting
            self._db.executemany("DELETE FROM contents WHERE digest = ?", ((digest,) for digest in gone))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('dropped', ?)", (json.dumps(sorted(waiting)),))
            self._db.execute("COMMIT")
        except sqlite3.Error:  # a full disk, a read-only file: the cache is optional
            self._off()
            return
        self._changed = False
        self._waiting, self._dropped = waiting, set()
        if whole:
            self._delta, self._whole = {}, True
        self._trim_log()

    def _trim_log(self) -> None:
        """Empty the write-ahead log once it is long. A process that ends without closing the
        database (killed, or still holding it as another opens it) leaves the log; the next one
        reads all of it to open and cannot start it afresh, so it grows with every run that
        saves. Moving it into the database waits for the disk, so it is done only now and
        then, and never waits for another process."""
        try:
            if os.path.getsize(f"{self.path}-wal") <= _LOG_AT_MOST:
                return
        except OSError:
            return
        try:
            self._db.execute("PRAGMA busy_timeout = 0")  # a reader elsewhere: try again another run
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            pass
        finally:
            try:
                self._db.execute(f"PRAGMA busy_timeout = {int(_BUSY_S * 1000)}")  # as connect() set it
            except sqlite3.Error:
                pass


_open_caches: weakref.WeakSet[ContentCache] = weakref.WeakSet()


@atexit.register
def _close_open_caches() -> None:
    """``commsflow.cli.run`` leaves through ``os._exit`` after the exit handlers: the caches
    still open are closed here, not by the interpreter taking them apart."""
    for cache in list(_open_caches):
        cache.close()


def _index_from(blob) -> dict[str, Record]:
    """The stored index: file name → record (a list), each long enough to hold its stat
    and digest. Anything else raises, and the cache is started afresh; what a record
    holds is checked where it is used."""
    index = orjson.loads(blob)
    if not isinstance(index, dict) or not all(type(record) is list and len(record) > 2 for record in index.values()):
        raise ValueError("the cache index is not what commsflow writes")
    return index


def _delta_from(blob) -> dict[str, Record | None]:
    """The stored changes since the index was stored whole; checked as ``_index_from`` checks."""
    delta = orjson.loads(blob)
    if not isinstance(delta, dict) or not all(
        record is None or (type(record) is list and len(record) > 2) for record in delta.values()
    ):
        raise ValueError("the cache index is not what commsflow writes")
    return delta

"""A per-file cache of loaded content, keyed by content hash, in the state folder.

A file whose size and modification time are unchanged is taken from the cache
without reading it; a file whose stat changed is read and hashed, and only parsed
again if its bytes changed. The cache is a SQLite file with one row per content
file. A warm start reads only what checking the library needs (kind, slug,
references, problems); the validated front matter and the rendered body stay in the
database until an item's ``meta`` or ``html`` is first used. The cache is dropped
as a whole when the configuration or the code that reads content changes; a broken
cache only makes a run slower.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from dataclasses import dataclass
from pathlib import Path

_FORMAT = 4
# Modules whose behaviour decides what a loaded item looks like.
_READERS = ("model.py", "fields.py", "frontmatter.py", "markdown.py", "dates.py", "validation.py")


def code_fingerprint() -> str:
    package = Path(__file__).parent
    digest = hashlib.blake2b(str(_FORMAT).encode(), digest_size=16)
    for name in _READERS:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def digest_of(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=20).hexdigest()


@dataclass(slots=True)
class Entry:
    """What the cache knows of one file without loading its content."""

    name: str
    mtime_ns: int
    size: int
    digest: str
    kind: str | None  # None: the file did not give an item
    slug: str | None
    refs: dict
    problems: tuple


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, digest TEXT NOT NULL,
    kind TEXT, slug TEXT, refs BLOB, problems BLOB, data BLOB);
CREATE TABLE IF NOT EXISTS bodies (digest TEXT PRIMARY KEY, html TEXT NOT NULL);
"""
_ERRORS = (sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError)


class ContentCache:
    def __init__(self, path: Path, key: str):
        self.path = path
        self.key = f"{key}:{code_fingerprint()}"
        self.entries: dict[str, Entry] = {}
        self._writing = False
        self._orphans = False
        self._db: sqlite3.Connection | None = None
        try:
            self._open()
        except _ERRORS:
            self._reset()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()
        if row is None or row[0] != self.key:
            # Another configuration or another version of the readers: start afresh.
            self._db.executescript("DROP TABLE files; DROP TABLE bodies; DROP TABLE meta;")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT INTO meta VALUES ('key', ?)", (self.key,))
            return
        unpickle = pickle.loads
        self.entries = {
            row[0]: Entry(
                row[0], row[1], row[2], row[3], row[4], row[5],
                unpickle(row[6]) if row[6] else {}, unpickle(row[7]) if row[7] else (),
            )
            for row in self._db.execute(
                "SELECT name, mtime_ns, size, digest, kind, slug, refs, problems FROM files"
            )
        }

    def _reset(self) -> None:
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.entries = {}
        self._open()

    def by_stat(self, name: str, mtime_ns: int, size: int) -> Entry | None:
        entry = self.entries.get(name)
        if entry and entry.mtime_ns == mtime_ns and entry.size == size:
            return entry
        return None

    def by_digest(self, name: str, digest: str) -> Entry | None:
        entry = self.entries.get(name)
        return entry if entry and entry.digest == digest else None

    def _begin(self) -> None:
        if not self._writing:
            self._db.execute("BEGIN")
            self._writing = True

    def put(self, entry: Entry, data: dict | None, html: str | None) -> None:
        """Record a file. Rows go to the database at once, in one transaction per run,
        so a big first load does not hold every record twice in memory."""
        self._begin()
        self.entries[entry.name] = entry
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.name, entry.mtime_ns, entry.size, entry.digest, entry.kind, entry.slug,
                pickle.dumps(entry.refs, pickle.HIGHEST_PROTOCOL) if entry.refs else None,
                pickle.dumps(entry.problems, pickle.HIGHEST_PROTOCOL) if entry.problems else None,
                pickle.dumps(data, pickle.HIGHEST_PROTOCOL) if data is not None else None,
            ),
        )
        if html is not None:
            self._db.execute("INSERT OR REPLACE INTO bodies VALUES (?, ?)", (entry.digest, html))
        self._orphans = True

    def touch(self, entry: Entry, mtime_ns: int, size: int) -> None:
        """Same bytes, new stat (a touched or re-saved file): remember the new stat only."""
        self._begin()
        entry.mtime_ns, entry.size = mtime_ns, size
        self._db.execute("UPDATE files SET mtime_ns = ?, size = ? WHERE name = ?", (mtime_ns, size, entry.name))

    def keep_only(self, names: set[str]) -> None:
        gone = set(self.entries) - names
        if gone:
            self._begin()
            self._orphans = True
        for name in gone:
            del self.entries[name]
            self._db.execute("DELETE FROM files WHERE name = ?", (name,))

    def data(self, name: str) -> dict:
        """The validated front matter of a file, as plain data."""
        row = self._db.execute("SELECT data FROM files WHERE name = ?", (name,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(name)
        return pickle.loads(row[0])

    def body(self, digest: str) -> str:
        row = self._db.execute("SELECT html FROM bodies WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise KeyError(digest)
        return row[0]

    def save(self) -> None:
        if not self._writing:
            return
        if self._orphans:
            self._db.execute("DELETE FROM bodies WHERE digest NOT IN (SELECT digest FROM files)")
        self._db.execute("COMMIT")
        self._writing = self._orphans = False

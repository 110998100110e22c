"""A per-file cache of loaded items, keyed by content hash, in the state folder.

A file whose size and modification time are unchanged is taken from the cache
without reading it; a file whose stat changed is read and hashed, and only parsed
again if its bytes changed. The cache is invalidated as a whole when the
configuration or the code that reads content changes.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

from commsflow import atomic

_FORMAT = 1
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
    mtime_ns: int
    size: int
    digest: str
    result: object


class ContentCache:
    def __init__(self, path: Path, key: str):
        self.path = path
        self.key = key
        self.entries: dict[str, Entry] = {}
        self.changed = False
        try:
            with open(path, "rb") as handle:
                stored_key, entries = pickle.load(handle)
            if stored_key == key:
                self.entries = entries
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            self.entries = {}  # a missing or unreadable cache is only a slower run

    def by_stat(self, name: str, mtime_ns: int, size: int) -> Entry | None:
        entry = self.entries.get(name)
        if entry and entry.mtime_ns == mtime_ns and entry.size == size:
            return entry
        return None

    def by_digest(self, name: str, digest: str) -> Entry | None:
        entry = self.entries.get(name)
        return entry if entry and entry.digest == digest else None

    def put(self, name: str, entry: Entry) -> None:
        self.entries[name] = entry
        self.changed = True

    def keep_only(self, names: set[str]) -> None:
        gone = set(self.entries) - names
        for name in gone:
            del self.entries[name]
        self.changed |= bool(gone)

    def save(self) -> None:
        if self.changed:
            atomic.write_bytes(self.path, pickle.dumps((self.key, self.entries), pickle.HIGHEST_PROTOCOL))
            self.changed = False

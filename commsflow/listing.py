"""What the files a build depends on look like now, against the stamp the last one left.

The part of :mod:`commsflow.stamp` that a process of its own can run while the command
loads the rest of commsflow (:func:`commsflow.stamp.changes_started`): it imports a few
of the standard library's modules and orjson, and nothing else of commsflow, so that a
child started with ``python -I -S`` is listing files within a few hundredths of a second.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

import orjson

RESOLUTION_NS = 2_000_000_000  # FAT's two seconds: the coarsest timestamps a project may sit on
CODE = os.path.dirname(os.path.abspath(__file__))  # commsflow's code: a build's input too

Listing = dict[str, list[int] | None]  # file → [size, mtime_ns]; None for a path that is missing


def files(paths: list[str], skip: tuple[str, ...] = ()) -> Listing:
    """Every file under ``paths`` (files or folders) → its size and modification time
    (None for a path that is missing). Lists, as they come back from the stamp's JSON."""
    skipped = set(skip)
    found: Listing = {}

    def add(path: str) -> None:
        try:
            entries = os.scandir(path)
        except NotADirectoryError:
            stat = os.stat(path)
            found[path] = [stat.st_size, stat.st_mtime_ns]
            return
        except FileNotFoundError:
            found[path] = None
            return
        with entries:
            for entry in entries:
                if entry.path in skipped:
                    continue
                if entry.is_dir(follow_symlinks=True):
                    add(entry.path)
                else:
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # a dangling link
                        found[entry.path] = None
                        continue
                    found[entry.path] = [stat.st_size, stat.st_mtime_ns]

    for path in paths:
        add(path)
    return found


def digest(listing: Listing) -> str:
    return hashlib.blake2b(orjson.dumps(sorted(listing.items())), digest_size=16).hexdigest()


def code_digest(language: str) -> str:
    """commsflow's code, and the language the build's messages are in. The compiled modules
    are left out: Python writes them as it imports (this module's, in the listing's child)."""
    compiled = f"{os.sep}__pycache__{os.sep}"
    code = {name: stat for name, stat in files([CODE]).items() if compiled not in name}
    return f"{digest(code)}:{language}"


def content(name: str) -> str | None:
    try:
        with open(name, "rb") as handle:
            return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    except OSError:
        return None


def racy(listing: Listing, taken: int) -> dict[str, str] | None:
    """The content digests of the files modified within the timestamp resolution of
    ``taken`` (they could change again without their size and time changing: git's "racy"
    files); None when one cannot be read."""
    found = {}
    for name, stat in listing.items():
        if stat is not None and stat[1] >= taken - RESOLUTION_NS:
            found_digest = content(name)
            if found_digest is None:
                return None
            found[name] = found_digest
    return found


def scan(stamp: dict, language: str) -> dict | None:
    """The files the stamp lists, as they are now: None when commsflow's code or build/
    changed (build everything); else the input files that changed (``changed``: file →
    [size, mtime_ns], None where the path is missing now; ``gone``: no longer listed) and
    the moment the inputs were listed (``taken``)."""
    try:
        skip = tuple(stamp["skip"])
        if stamp["code"] != code_digest(language):
            return None
        if files(stamp["outputs"], skip) != stamp["output_files"]:
            return None
        before: Listing = stamp["files"]
        taken = time.time_ns()
        now = files(stamp["inputs"], skip)
        changed = {name: stat for name, stat in now.items() if before.get(name, 0) != stat}
        for name, known in stamp["racy"].items():
            if name not in changed and name in now and content(name) != known:
                changed[name] = now[name]  # edited again within the same tick of the clock
        return {"changed": changed, "gone": sorted(before.keys() - now.keys()), "taken": taken}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def main() -> None:
    """A child process's :func:`scan`: the stamp file and the language as arguments, the
    result as JSON on standard output."""
    stamp_file, language = sys.argv[-2], sys.argv[-1]
    with open(stamp_file, "rb") as handle:
        stamp = orjson.loads(handle.read())
    sys.stdout.buffer.write(orjson.dumps(scan(stamp, language)))

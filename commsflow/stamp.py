"""Whether a build would change anything: the stamp the last build left.

A build's result is a function of its input files (configuration, content and media,
campaigns, templates, sign-offs, the ledger), commsflow's own code and the clock. The
stamp records what those input files and the build's output files looked like (path,
size, modification time), the stretch of time in which the clock changes nothing (up
to the next planned job, event start or midnight) and what the build reported. When
all of that still holds, ``commsflow build`` repeats the report instead of building:
a second with 10,000 items becomes a few hundred stat calls' worth of work. When only
input files changed, :func:`changes` says which (the build then decides how much of the
plan it can keep: ``commsflow.outline``). A file modified within the file system's
timestamp resolution of the stamp could change again with the same size and time, so
its content digest is kept as well and compared (as git does with "racy" files).

Only the standard library and orjson are imported here, so that the check runs before
the rest of commsflow is loaded.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from commsflow.files import write_atomic

CONFIG_FILE = "commsflow.toml"
STATE_DEFAULT = ".commsflow"  # config.Paths.state's default (a test keeps the two the same)
_VERSION = 5  # 4: a file's stat as [size, mtime_ns]; 5: a listing's digest is of its JSON
_RESOLUTION_NS = 2_000_000_000  # FAT's two seconds: the coarsest timestamps a project may sit on
_CODE = Path(__file__).parent


def stamp_path(state: Path) -> Path:
    return state / "build" / "stamp.json"


def state_folder(root: Path, data: dict | None = None) -> Path:
    """The state folder the configuration names, read without loading the configuration
    (``data``: the configuration file as TOML data, where it is read already)."""
    import tomllib

    try:
        if data is None:
            data = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
        return root / str(data.get("paths", {}).get("state", STATE_DEFAULT))
    except (OSError, ValueError, AttributeError):
        return root / STATE_DEFAULT


def _config_digest(root: Path) -> str | None:
    try:
        return hashlib.blake2b((root / CONFIG_FILE).read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


def tree_digest(paths: list[Path], skip: tuple[Path, ...] = ()) -> str:
    return _digest(_files(paths, skip))


def _digest(files: dict[str, list[int] | None]) -> str:
    return hashlib.blake2b(orjson.dumps(sorted(files.items())), digest_size=16).hexdigest()


def _files(paths: list[Path], skip: tuple[Path, ...] = ()) -> dict[str, list[int] | None]:
    """Every file under ``paths`` (files or folders) → its size and modification time
    (None for a path that is missing). Lists, as they come back from the stamp's JSON."""
    skipped = {str(path) for path in skip}
    found: dict[str, list[int] | None] = {}

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
        add(str(path))
    return found


def _racy(files: dict[str, list[int] | None], taken: int) -> dict[str, str] | None:
    """The content digests of the files modified within the timestamp resolution of
    ``taken``; None when one cannot be read."""
    found = {}
    for name, stat in files.items():
        if stat is not None and stat[1] >= taken - _RESOLUTION_NS:
            digest = _content(name)
            if digest is None:
                return None
            found[name] = digest
    return found


def _content(name: str) -> str | None:
    try:
        with open(name, "rb") as handle:
            return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    except OSError:
        return None


def _code_digest() -> str:
    from commsflow import i18n  # the language the build's messages are in

    return f"{tree_digest([_CODE])}:{i18n.language()}"


class Stamp:
    """Taken before a build reads anything; saved when it has written everything."""

    def __init__(
        self,
        root: Path,
        inputs: list[Path],
        outputs: list[Path],
        skip: tuple[Path, ...] = (),
        seen: Changes | None = None,
    ):
        """``seen``: what :func:`changes` found just before, over the same inputs: the
        files are not listed twice."""
        self.root = root
        self.inputs = inputs
        self.outputs = outputs
        self.skip = skip
        self.config = _config_digest(root)
        if seen is not None and seen.inputs == [str(p) for p in inputs] and seen.skip == [str(p) for p in skip]:
            taken, self.files = seen.taken, seen.now
        else:
            taken = time.time_ns()
            self.files = _files(inputs, skip)
        # A file changed within the file system's timestamp resolution of this moment could
        # change again without its size and time changing (git's "racy" files): its content
        # is kept too, and compared.
        self.racy = _racy(self.files, taken)
        self.usable = self.racy is not None
        self.code = _code_digest()
        # The output files as :func:`changes` listed them: with what the build wrote and
        # removed (``written`` in :meth:`save`), what build/ holds afterwards.
        self.outputs_before = None
        if seen is not None and seen.outputs == [str(p) for p in outputs] and seen.skip == [str(p) for p in skip]:
            self.outputs_before = seen.outputs_now

    def save(
        self,
        path: Path,
        zone: str,
        now: datetime,
        moments: list[datetime],
        report: dict,
        outline: str | None = None,
        written: dict[str, list[int] | None] | None = None,
    ) -> None:
        """``moments``: the planned jobs and event starts; the result holds until the next.
        ``outline``: the id of the plan's outline (``commsflow.outline``) this build used or left.
        ``written``: every file the build wrote or removed (``commsflow.files.journal``); with
        the listing taken before the build, build/ is not listed again. Were a file missing
        from it, the next build would see build/ changed and build everything: slower, never wrong."""
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        later = [moment for moment in moments if moment > now]
        until = min([midnight, *later])
        data = {
            "version": _VERSION,
            "config": self.config,
            "code": self.code,
            "zone": zone,
            "inputs": [str(p) for p in self.inputs],
            "outputs": [str(p) for p in self.outputs],
            "skip": [str(p) for p in self.skip],
            "files": self.files,
            "racy": self.racy,
            "output_digest": self._output_digest(written),
            "from": now.isoformat(),
            "until": until.isoformat(),
            "report": report,
            "outline": outline,
            "use": self.usable,
        }
        write_atomic(path, orjson.dumps(data))

    def _output_digest(self, written: dict[str, list[int] | None] | None) -> str:
        before = self.outputs_before
        # An output folder missing before the build (never so after a stamped one) is listed afresh.
        if before is None or written is None or any(before.get(str(output), 0) is None for output in self.outputs):
            return tree_digest(self.outputs, self.skip)
        files = dict(before)
        folders = tuple(f"{output}{os.sep}" for output in self.outputs)
        skipped = tuple(f"{path}{os.sep}" for path in self.skip)
        for name, stat in written.items():
            if name.startswith(folders) and not name.startswith(skipped) and name not in self.skip:
                if stat is None:
                    files.pop(name, None)
                else:
                    files[name] = stat
        return _digest(files)


@dataclass
class Changes:
    """What changed since the last build: the input files (added, removed or edited)."""

    files: list[str]
    report: dict  # what the last build reported
    outline: str | None  # the id of the outline the last build left
    inputs: list[str]  # what was looked at, and when: a stamp taken now can use it (Stamp's ``seen``)
    skip: list[str]
    now: dict[str, list[int] | None]  # file → [size, mtime_ns], as just listed
    taken: int
    outputs: list[str]  # the output folders, and what they held (file → [size, mtime_ns])
    outputs_now: dict[str, list[int] | None]


def changes(root: Path, state: Path, now_text: str | None) -> Changes | None:
    """The input files changed since the last build, when nothing else it depends on did
    (configuration, commsflow's code, the build folder, the stretch of time in which the
    clock changes nothing); else None: build everything."""
    from commsflow.clock import resolve_now

    try:
        data = orjson.loads(stamp_path(state).read_bytes())
        if data.get("version") != _VERSION or not data.get("use") or data["config"] != _config_digest(root):
            return None
        now = resolve_now(now_text, ZoneInfo(data["zone"]))
        if not datetime.fromisoformat(data["from"]) <= now < datetime.fromisoformat(data["until"]):
            return None
        skip = tuple(Path(p) for p in data["skip"])
        if data["code"] != _code_digest():
            return None
        outputs_now = _files([Path(p) for p in data["outputs"]], skip)
        if data["output_digest"] != _digest(outputs_now):
            return None
        before: dict[str, list[int] | None] = data["files"]
        taken = time.time_ns()
        now_files = _files([Path(p) for p in data["inputs"]], skip)
        changed = {name for name, stat in now_files.items() if before.get(name, 0) != stat}
        changed.update(before.keys() - now_files.keys())
        for name, digest in data["racy"].items():
            if name not in changed and _content(name) != digest:
                changed.add(name)  # edited again within the same tick of the clock
        changed = sorted(changed)
        return Changes(
            changed,
            data["report"],
            data.get("outline"),
            data["inputs"],
            data["skip"],
            now_files,
            taken,
            data["outputs"],
            outputs_now,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no stamp, or one this version cannot read: build

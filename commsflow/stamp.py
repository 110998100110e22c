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
the rest of commsflow is loaded. In a large project, a process of its own lists the files
(:func:`changes_started`, with :mod:`commsflow.listing`) while the command loads the rest.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from commsflow import listing
from commsflow.files import write_atomic

CONFIG_FILE = "commsflow.toml"
STATE_DEFAULT = ".commsflow"  # config.Paths.state's default (a test keeps the two the same)
# 4: a file's stat as [size, mtime_ns]; 5: a listing's digest is of its JSON; 6: build/'s listing
# itself, not its digest (compared as it is listed: no sorting, no hashing)
_VERSION = 6
# From this many files, the last build's listing is taken again by a process of its own, while
# the command loads the rest of commsflow (a build of 10,000 items: 20,000 files, a tenth of a
# second either way). Below it, starting a process costs more than the listing.
ELSEWHERE_FROM = 2_000


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


def _files(paths: list[Path], skip: tuple[Path, ...] = ()) -> listing.Listing:
    return listing.files([str(p) for p in paths], tuple(str(p) for p in skip))


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
        from commsflow import i18n

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
        self.racy = listing.racy(self.files, taken)
        self.usable = self.racy is not None
        language = i18n.language()
        # The listing that found the changes compared commsflow's code (and the language) with the
        # stamp's: the same, or it would have said "build everything".
        self.code = seen.code if seen is not None and seen.language == language else listing.code_digest(language)
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
            "output_files": self.output_files(written),
            "from": now.isoformat(),
            "until": until.isoformat(),
            "report": report,
            "outline": outline,
            "use": self.usable,
        }
        write_atomic(path, orjson.dumps(data))

    def output_files(self, written: dict[str, list[int] | None] | None) -> listing.Listing:
        """What the output folders hold now: the listing taken before the build with what it
        wrote and removed since (``written``); without both, listed afresh."""
        before = self.outputs_before
        # An output folder missing before the build (never so after a stamped one) is listed afresh.
        if before is None or written is None or any(before.get(str(output), 0) is None for output in self.outputs):
            return _files(self.outputs, self.skip)
        files = dict(before)
        folders = tuple(f"{output}{os.sep}" for output in self.outputs)
        skipped = tuple(f"{path}{os.sep}" for path in self.skip)
        for name, stat in written.items():
            if name.startswith(folders) and not name.startswith(skipped) and name not in self.skip:
                if stat is None:
                    files.pop(name, None)
                else:
                    files[name] = stat
        return files


@dataclass
class Changes:
    """What changed since the last build: the input files (added, removed or edited)."""

    files: list[str]
    report: dict  # what the last build reported
    outline: str | None  # the id of the outline the last build left
    inputs: list[str]  # what was looked at, and when: a stamp taken now can use it (Stamp's ``seen``)
    skip: list[str]
    now: listing.Listing  # file → [size, mtime_ns], as just listed
    taken: int
    outputs: list[str]  # the output folders, and what they held (file → [size, mtime_ns])
    outputs_now: listing.Listing
    code: str = ""  # commsflow's code as the last build's stamp has it, found unchanged in ``language``
    language: str = ""


def changes(root: Path, state: Path, now_text: str | None) -> Changes | None:
    """The input files changed since the last build, when nothing else it depends on did
    (configuration, commsflow's code, the build folder, the stretch of time in which the
    clock changes nothing); else None: build everything."""
    return changes_started(root, state, now_text, elsewhere=False).result()


class Pending:
    """:func:`changes`, being worked out: ``listing`` says whether the files are still being
    listed (by another process), ``result`` waits for them."""

    def __init__(self, stamp: dict | None, language: str, child=None):
        self._stamp, self._language, self._child = stamp, language, child
        self._done = child is None
        scanned = listing.scan(stamp, language) if self._done and stamp is not None else None
        self._result = _changes(stamp, scanned, language)

    def listing(self) -> bool:
        if self._done:
            return False
        import select

        return not select.select([self._child.stdout], [], [], 0)[0]

    def result(self) -> Changes | None:
        if not self._done:
            self._done = True
            scanned = _FAILED
            try:
                out = self._child.stdout.read()
                if self._child.wait() == 0:
                    scanned = orjson.loads(out)
            except (OSError, ValueError):
                pass
            finally:
                self._child.stdout.close()
            if not (scanned is None or isinstance(scanned, dict)):  # the child could not say: listed here
                scanned = listing.scan(self._stamp, self._language)
            self._result = _changes(self._stamp, scanned, self._language)
        return self._result


_FAILED = object()


def changes_started(root: Path, state: Path, now_text: str | None, elsewhere: bool = True) -> Pending:
    """:func:`changes`, with the files listed by a child process where there are many and the
    system's pipes can be waited on (``elsewhere``): the caller loads what it needs meanwhile
    and then asks for the ``result``. A child that cannot start or fails only means that the
    files are listed here."""
    from commsflow import i18n

    stamp = _holding(root, state, now_text)
    language = i18n.language()
    few = stamp is None or len(stamp["files"]) < ELSEWHERE_FROM
    if not elsewhere or few or os.name != "posix" or not sys.executable:
        return Pending(stamp, language)
    import subprocess

    # The child imports commsflow.listing from the code this process runs, and no more: not
    # even site (-S), nor the environment's or the user's paths (-I).
    code = "import sys; sys.path[:0] = sys.argv[1:-2]; from commsflow.listing import main; main()"
    search = [os.path.dirname(listing.CODE), *(p for p in sys.path if p)]
    options = ["-I", "-S", *(["-B"] if sys.dont_write_bytecode else [])]  # -I ignores PYTHONDONTWRITEBYTECODE
    try:
        child = subprocess.Popen(
            [sys.executable, *options, "-c", code, *search, str(stamp_path(state)), language],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return Pending(stamp, language)
    return Pending(stamp, language, child)


def _holding(root: Path, state: Path, now_text: str | None) -> dict | None:
    """The last build's stamp, when this version can use it and the configuration and the
    stretch of time it holds for are unchanged; else None."""
    from commsflow.clock import resolve_now

    try:
        stamp = orjson.loads(stamp_path(state).read_bytes())
        if stamp.get("version") != _VERSION or not stamp.get("use") or stamp["config"] != _config_digest(root):
            return None
        now = resolve_now(now_text, ZoneInfo(stamp["zone"]))
        if not datetime.fromisoformat(stamp["from"]) <= now < datetime.fromisoformat(stamp["until"]):
            return None
        if not all(isinstance(stamp[key], dict) for key in ("files", "racy", "output_files")):
            return None
        return stamp
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no stamp, or one this version cannot read: build


def _changes(stamp: dict | None, scanned: dict | None, language: str) -> Changes | None:
    """The last build's stamp, and what :func:`commsflow.listing.scan` found now (in ``language``)."""
    if stamp is None or scanned is None:
        return None
    try:
        now = dict(stamp["files"])
        now.update(scanned["changed"])
        for name in scanned["gone"]:
            now.pop(name, None)
        return Changes(
            sorted([*scanned["changed"], *scanned["gone"]]),
            stamp["report"],
            stamp.get("outline"),
            stamp["inputs"],
            stamp["skip"],
            now,
            int(scanned["taken"]),
            stamp["outputs"],
            stamp["output_files"],
            stamp["code"],
            language,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None

"""Whether a build would change anything: the stamp the last build left.

A build's result is a function of its input files (configuration, content and media,
campaigns, templates, sign-offs, the ledger), commsflow's own code and the clock. The
stamp records what those input files and the build's output files looked like (path,
size, modification time), the stretch of time in which the clock changes nothing (up
to the next planned job, event start or midnight) and what the build reported. When
all of that still holds, ``commsflow build`` repeats the report instead of building:
a second with 10,000 items becomes a few hundred stat calls' worth of work.

Only the standard library is imported here, so that the check runs before the rest of
commsflow is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from commsflow.files import write_atomic

CONFIG_FILE = "commsflow.toml"
STATE_DEFAULT = ".commsflow"  # config.Paths.state's default (a test keeps the two the same)
_VERSION = 1
_RESOLUTION_NS = 2_000_000_000  # FAT's two seconds: the coarsest timestamps a project may sit on
_CODE = Path(__file__).parent


def stamp_path(state: Path) -> Path:
    return state / "build" / "stamp.json"


def state_folder(root: Path) -> Path:
    """The state folder the configuration names, read without loading the configuration."""
    import tomllib

    try:
        paths = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8")).get("paths", {})
        return root / str(paths.get("state", STATE_DEFAULT))
    except (OSError, ValueError, AttributeError):
        return root / STATE_DEFAULT


def _config_digest(root: Path) -> str | None:
    try:
        return hashlib.blake2b((root / CONFIG_FILE).read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


def tree_digest(paths: list[Path], skip: tuple[Path, ...] = ()) -> str:
    return _tree(paths, skip)[0]


def _tree(paths: list[Path], skip: tuple[Path, ...] = ()) -> tuple[str, int]:
    """Path, size and modification time of every file under ``paths`` (files or folders),
    in a stable order, a missing path counting as missing; and the newest modification time."""
    digest = hashlib.blake2b(digest_size=16)
    skipped = {str(path) for path in skip}
    newest = [0]

    def add(path: str) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except NotADirectoryError:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            newest[0] = max(newest[0], stat.st_mtime_ns)
            return
        except FileNotFoundError:
            digest.update(f"{path}\0-\n".encode())
            return
        for entry in entries:
            if entry.path in skipped:
                continue
            if entry.is_dir(follow_symlinks=True):
                add(entry.path)
            else:
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # a dangling link
                    digest.update(f"{entry.path}\0-\n".encode())
                    continue
                digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
                newest[0] = max(newest[0], stat.st_mtime_ns)

    for path in paths:
        add(str(path))
    return digest.hexdigest(), newest[0]


def _code_digest() -> str:
    return tree_digest([_CODE])


class Stamp:
    """Taken before a build reads anything; saved when it has written everything."""

    def __init__(self, root: Path, inputs: list[Path], outputs: list[Path], skip: tuple[Path, ...] = ()):
        self.root = root
        self.inputs = inputs
        self.outputs = outputs
        self.skip = skip
        self.config = _config_digest(root)
        taken = time.time_ns()
        self.input_digest, newest = _tree(inputs, skip)
        # A file changed within the file system's timestamp resolution of this moment could
        # change again without its time changing (git's "racy" files): such a stamp is not used.
        self.usable = newest < taken - _RESOLUTION_NS
        self.code = _code_digest()

    def save(self, path: Path, zone: str, now: datetime, moments: list[datetime], report: dict) -> None:
        """``moments``: the planned jobs and event starts; the result holds until the next."""
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
            "input_digest": self.input_digest,
            "output_digest": tree_digest(self.outputs, self.skip),
            "from": now.isoformat(),
            "until": until.isoformat(),
            "report": report,
            "use": self.usable,
        }
        write_atomic(path, json.dumps(data, ensure_ascii=False))


def unchanged(root: Path, state: Path, now_text: str | None) -> dict | None:
    """The report of the last build when nothing it depends on changed since; else None."""
    from commsflow.clock import resolve_now

    try:
        data = json.loads(stamp_path(state).read_text(encoding="utf-8"))
        if data.get("version") != _VERSION or not data.get("use") or data["config"] != _config_digest(root):
            return None
        now = resolve_now(now_text, ZoneInfo(data["zone"]))
        if not datetime.fromisoformat(data["from"]) <= now < datetime.fromisoformat(data["until"]):
            return None
        skip = tuple(Path(p) for p in data["skip"])
        if data["code"] != _code_digest():
            return None
        if data["input_digest"] != tree_digest([Path(p) for p in data["inputs"]], skip):
            return None
        if data["output_digest"] != tree_digest([Path(p) for p in data["outputs"]], skip):
            return None
        return data["report"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no stamp, or one this version cannot read: build

"""Writing outputs so that a reader never sees half a file.

Each file is written to a temporary file in the same folder and renamed over the
target, which is atomic on POSIX. Commands render everything in memory and check it
before :func:`write_all` writes anything, so a failed build leaves the previous
outputs as they were.
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from commsflow.errors import CommsflowError
from commsflow.i18n import _


def write_atomic(path: Path, data: bytes | str) -> None:
    write_all({path: data})


def write_all(outputs: dict[Path, bytes | str]) -> list[Path]:
    """Write the outputs as one set: every file goes to a temporary file next to its target
    first, and only when all of them are written are they renamed over the targets. A full
    disk or a read-only folder leaves the previous set as it was — never a press release
    with some formats new and others old or missing. Returns the paths in the order given."""
    written: list[tuple[str, Path]] = []
    stats: list[list[int]] = []
    try:
        for path, data in outputs.items():
            temporary, stat = _temporary(path, data.encode("utf-8") if isinstance(data, str) else data)
            written.append((temporary, path))
            stats.append(stat)
        for temporary, path in written:
            os.replace(temporary, path)
    except CommsflowError:
        _discard(written)
        raise
    except OSError as exc:
        _discard(written)
        raise _cannot_write(Path(exc.filename or next(iter(outputs))), exc) from None
    noted = _journal()
    if noted is not None:
        for (_, path), stat in zip(written, stats, strict=True):
            noted[str(path)] = stat
    return list(outputs)


def remove(path: Path, *, emptied_up_to: Path | None = None) -> None:
    """Remove a file, if it is there (noted in the journal). With ``emptied_up_to``, the
    folders it leaves empty go too, up to that one (kept): a release's folder with no
    release in it would look like one that failed."""
    path.unlink(missing_ok=True)
    noted = _journal()
    if noted is not None:
        noted[str(path)] = None
    if emptied_up_to is not None:
        folder = path.parent
        while folder != emptied_up_to and folder.is_relative_to(emptied_up_to):
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone, or not ours to remove): stop here
                break
            folder = folder.parent


# What this thread wrote (path → [size, mtime_ns], as the file system gives them) and removed
# (path → None) while a journal is kept: a build tells its stamp what it changed in build/,
# so the stamp need not list 10,000 files again (commsflow.stamp). Per thread: a write another
# thread makes meanwhile is not this build's (were it in build/, the next build would build all).
_kept = threading.local()


def _journal() -> dict[str, list[int] | None] | None:
    return getattr(_kept, "journal", None)


@contextmanager
def journal() -> Iterator[dict[str, list[int] | None]]:
    outer = _journal()
    _kept.journal = {}
    try:
        yield _kept.journal
    finally:
        if outer is not None:
            outer.update(_kept.journal)
        _kept.journal = outer


def _temporary(path: Path, data: bytes) -> tuple[str, list[int]]:
    """The temporary file, written, and its size and modification time (a rename keeps both)."""
    try:
        handle, temporary = _create(path)
    except OSError as exc:
        raise _cannot_write(path.parent, exc) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            stat = os.fstat(handle) if _journal() is not None else None
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    return temporary, [stat.st_size, stat.st_mtime_ns] if stat is not None else []


# Folders this process made or found: a build writes 10,000 files into a few folders, and
# each creation, mode change and rename waits on the file system's journal while the content
# cache is written back — two calls a file instead of four made a full build seconds faster.
_folders: set[str] = set()
_names = itertools.count()


def _create(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path``, open for writing, with the mode a new file gets
    (0666 less the umask: 0644 as a rule). Its name holds the process and a counter; one that
    exists already (left by a process that was killed) is passed over."""
    folder = str(path.parent)
    if folder not in _folders:
        os.makedirs(folder, exist_ok=True)
        _folders.add(folder)
    made_again = False
    for _attempt in range(100):
        temporary = os.path.join(folder, f".{path.name}.{os.getpid()}-{next(_names)}.tmp")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), temporary
        except FileExistsError:
            continue
        except FileNotFoundError:  # the folder was removed since this process saw it (`preview` runs on)
            if made_again:
                raise
            os.makedirs(folder, exist_ok=True)
            made_again = True
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def _discard(written: list[tuple[str, Path]]) -> None:
    for temporary, _path in written:
        Path(temporary).unlink(missing_ok=True)


def _cannot_write(path: Path, exc: OSError) -> CommsflowError:
    """The real cause in the user's terms: a full disk, a read-only folder, no permission."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return CommsflowError(
            _("{path}: the disk is full").format(path=path),
            _("free some space (or raise the quota) and run it again"),
        )
    if exc.errno == errno.EROFS:
        return CommsflowError(
            _("{path}: the file system is read-only").format(path=path),
            _("run commsflow where it may write, or ask who mounted it so"),
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return CommsflowError(
            _("{path}: no permission to write here").format(path=path),
            _("check who owns the folder (ls -ld) and its permissions"),
        )
    return CommsflowError(
        _("{path}: cannot write ({reason})").format(path=path, reason=exc.strerror),
        _("check the folder's permissions and free disk space"),
    )


def explain(exc: OSError) -> CommsflowError:
    """Any file system error that reached the command line, named by its real cause."""
    path = Path(exc.filename) if exc.filename else Path(".")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        return _cannot_write(path, exc)
    if exc.errno == errno.ENOENT:
        return CommsflowError(
            _("{path}: not found").format(path=path), _("check the path, or --root if the project is elsewhere")
        )
    return CommsflowError(f"{path}: {exc.strerror or exc}", _("check the file and the folder it is in"))


def explain_sqlite(exc: Exception, what: str) -> CommsflowError:
    """A SQLite file that cannot be written (``what``: which one, and what it is for)."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return CommsflowError(
            _("{what} is read-only").format(what=what),
            _("make the state folder writable (ls -ld .commsflow) and run it again"),
        )
    if "disk is full" in text:
        return CommsflowError(_("{what}: the disk is full").format(what=what), _("free some space and run it again"))
    if "unable to open" in text:
        return CommsflowError(
            _("{what} cannot be opened").format(what=what), _("check that the state folder exists and is writable")
        )
    return CommsflowError(f"{what}: {exc}", _("check the state folder's permissions and free disk space"))

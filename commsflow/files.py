"""Writing outputs so that a reader never sees half a file.

Each file is written to a temporary file in the same folder and renamed over the
target, which is atomic on POSIX. Commands render everything in memory and check it
before :func:`write_all` writes anything, so a failed build leaves the previous
outputs as they were.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from commsflow.errors import CommsflowError


def write_atomic(path: Path, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CommsflowError(
            f"{path.parent}: cannot write here ({exc.strerror})", "check the folder's permissions and free disk space"
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise CommsflowError(
            f"{path}: cannot write ({exc.strerror})", "check the folder's permissions and free disk space"
        ) from None


def write_all(outputs: dict[Path, bytes | str]) -> list[Path]:
    """Write every output atomically; returns the paths in the order given."""
    for path, data in outputs.items():
        write_atomic(path, data)
    return list(outputs)

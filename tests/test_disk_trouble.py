"""Issue 12, item 8: a full disk or a read-only folder is named as such — never "internal
error … a bug" — and a press release is never left with some formats new and others not."""

from __future__ import annotations

import errno
import sqlite3
import tempfile
from pathlib import Path

import pytest

import commsflow.files

NOW = "2024-03-01 10:00"
RELEASE = "2023-10-18-neue-website-und-veranstaltungen"


def _release_folder(root: Path) -> Path:
    return root / "build" / "press" / f"{RELEASE}--announcement"


def test_a_full_disk_leaves_the_previous_press_release_whole(run, mpi, monkeypatch):
    assert run(mpi, "--now", NOW, "build").exit_code == 0
    folder = _release_folder(mpi)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert {"release.md", "release.html", "release.txt", "release.docx"} <= set(before)
    item = mpi / "content" / "posts" / f"{RELEASE}.md"
    item.write_text(item.read_text(encoding="utf-8").replace("Website", "Webseite"), encoding="utf-8")

    real = tempfile.mkstemp

    def full_for_word_files(*args, **kwargs):
        if kwargs.get("prefix", "").startswith(".release.docx"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(commsflow.files.tempfile, "mkstemp", full_for_word_files)
    result = run(mpi, "--now", NOW, "build")
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert "the disk is full" in result.output and "free some space" in result.output
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert after == before  # the old set, whole: no new Markdown beside an old Word file
    assert not [path for path in folder.iterdir() if path.name.endswith(".tmp")]


def test_write_all_writes_nothing_when_one_file_cannot_be_written(tmp_path):
    (tmp_path / "a.txt").write_text("alt a", encoding="utf-8")
    blocked = tmp_path / "kein-ordner"
    blocked.write_text("eine Datei, kein Ordner", encoding="utf-8")
    with pytest.raises(commsflow.files.CommsflowError) as caught:
        commsflow.files.write_all({tmp_path / "a.txt": "neu a", blocked / "b.txt": "neu b"})
    assert str(blocked) in caught.value.message
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "alt a"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.txt", "kein-ordner"]


@pytest.mark.parametrize(
    "error,says",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/projekt/.commsflow/cache"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system", "/projekt/build"), "the file system is read-only"),
        (PermissionError(errno.EACCES, "Permission denied", "/projekt/build"), "no permission to write here"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "is read-only"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
    ],
    ids=["disk full", "read-only file system", "no permission", "read-only database", "database disk full"],
)
def test_file_system_errors_are_named_by_their_cause(run, mpi, monkeypatch, error, says):
    from commsflow.workspace import Workspace

    def fails(self):
        raise error

    monkeypatch.setattr(Workspace, "load", fails)
    result = run(mpi, "--now", NOW, "check")
    assert result.exit_code == 1
    assert says in result.output and "hint:" in result.output
    assert "internal error" not in result.output and "bug" not in result.output

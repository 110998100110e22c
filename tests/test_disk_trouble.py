"""Issue 12, item 8: a full disk or a read-only folder is named as such — never "internal
error … a bug" — and a press release is never left with some formats new and others not."""

from __future__ import annotations

import errno
import shutil
import sqlite3
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

    real = commsflow.files._create

    def full_for_word_files(path):
        if path.name == "release.docx":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path)

    monkeypatch.setattr(commsflow.files, "_create", full_for_word_files)
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


@pytest.mark.parametrize("broken", ["cache folder is a file", "cache database is a folder"])
def test_an_unusable_cache_does_not_stop_check_or_build(run, mpi, broken):
    """The content cache is optional: a state folder it cannot be kept in only makes a run slower."""
    expected = run(mpi, "--now", NOW, "--no-cache", "check")
    cache = mpi / ".commsflow" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    if broken == "cache folder is a file":
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("kein Ordner", encoding="utf-8")
    else:
        (cache / "content.sqlite").mkdir(parents=True)
    checked = run(mpi, "--now", NOW, "check")
    assert checked.exit_code == expected.exit_code == 0, checked.output
    assert checked.stdout == expected.stdout
    built = run(mpi, "--now", NOW, "build")
    assert built.exit_code == 0, built.output
    assert (mpi / "build" / "index.html").is_file()


def test_a_ledger_that_cannot_be_written_is_named_so_not_damaged(tmp_path, monkeypatch):
    """A read-only ledger is not a damaged one: "restore it from a backup" would send a
    person after a backup the file does not need."""
    from commsflow.ledger import Ledger

    real = sqlite3.connect

    class ReadOnly:
        def __init__(self, *args, **kwargs):
            self.db = real(*args, **kwargs)
            self.row_factory = None

        def execute(self, sql, *args):
            if sql.startswith("PRAGMA journal_mode"):
                raise sqlite3.OperationalError("attempt to write a readonly database")
            return self.db.execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", ReadOnly)
    with pytest.raises(commsflow.files.CommsflowError) as caught:
        Ledger(tmp_path / "ledger.sqlite")
    assert "(the ledger) is read-only" in caught.value.message
    assert "backup" not in caught.value.hint and "writable" in caught.value.hint


def test_write_all_makes_a_folder_again_that_was_removed_while_it_ran(tmp_path):
    """`preview` runs on while someone deletes build/: the next write makes the folder again."""
    target = tmp_path / "build" / "linkedin" / "post.md"
    commsflow.files.write_all({target: "erste Fassung"})
    shutil.rmtree(tmp_path / "build")
    commsflow.files.write_all({target: "zweite Fassung"})
    assert target.read_text(encoding="utf-8") == "zweite Fassung"
    assert sorted(path.name for path in target.parent.iterdir()) == ["post.md"]


def test_write_all_passes_over_a_temporary_file_a_killed_process_left(tmp_path, monkeypatch):
    import itertools
    import os

    monkeypatch.setattr(commsflow.files, "_names", itertools.count(7))
    left = tmp_path / f".a.txt.{os.getpid()}-7.tmp"
    left.write_text("halb geschrieben", encoding="utf-8")
    commsflow.files.write_all({tmp_path / "a.txt": "ganz"})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "ganz"
    assert left.read_text(encoding="utf-8") == "halb geschrieben"  # not ours to remove: it may be in use


def test_written_files_get_the_mode_of_a_new_file(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        commsflow.files.write_all({tmp_path / "a.txt": "lesbar für alle"})
        os.umask(0o077)
        commsflow.files.write_all({tmp_path / "b.txt": "nur für mich"})
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644  # the web server may serve the preview
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600  # the user's umask is respected


def test_a_journal_notes_each_file_written_and_removed_as_the_file_system_has_it(tmp_path):
    from commsflow import files

    gone = tmp_path / "alt.txt"
    gone.write_text("alt", encoding="utf-8")
    with files.journal() as outer:
        files.write_all({tmp_path / "a" / "eins.txt": "eins", tmp_path / "zwei.txt": b"zwei!"})
        with files.journal() as inner:
            files.remove(gone)
            files.remove(tmp_path / "nie-da.txt")
        assert inner == {str(gone): None, str(tmp_path / "nie-da.txt"): None}
    for name in ("a/eins.txt", "zwei.txt"):
        stat = (tmp_path / name).stat()
        assert outer[str(tmp_path / name)] == [stat.st_size, stat.st_mtime_ns]
    assert outer[str(gone)] is None and not gone.exists()
    files.write_atomic(tmp_path / "danach.txt", "ohne Journal")  # none kept: nothing noted, nothing fails
    assert str(tmp_path / "danach.txt") not in outer


def test_a_journal_notes_only_its_own_thread_s_writes(tmp_path):
    import threading

    from commsflow import files

    with files.journal() as noted:
        other = threading.Thread(target=files.write_atomic, args=(tmp_path / "anderer.txt", "x"))
        other.start()
        other.join()
        files.write_atomic(tmp_path / "eigener.txt", "y")
    assert list(noted) == [str(tmp_path / "eigener.txt")]
    assert (tmp_path / "anderer.txt").read_text(encoding="utf-8") == "x"

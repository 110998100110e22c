"""The build's manifest (``.commsflow/build/manifest.json``): what the last build kept of each
job's rendition, a column per field, the problems as numbers into one table."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from commsflow.build import Built, _Manifest
from commsflow.errors import Problem, Severity

NOW = "2024-03-01 10:00"


def _built(job_id: str, *problems: Problem) -> Built:
    job = SimpleNamespace(id=job_id)
    return Built(job, [f"linkedin/{job_id}.md"], f"Titel {job_id}", f"Text {job_id}", "d" + job_id, list(problems))


CLAIM = Problem("content/posts/a.md", "Die ersten 210 Zeichen nennen den Kern nicht", severity=Severity.WARNING)
LONG = Problem("content/posts/b.md", "Der Beitrag ist zu lang", line=3, field="body")


def _read_back(manifest: _Manifest, tmp_path: Path) -> _Manifest:
    path = tmp_path / "manifest.json"
    path.write_bytes(manifest.stored())
    return _Manifest.read(path)


def test_a_row_comes_back_as_it_was_added(tmp_path):
    manifest = _Manifest()
    manifest.add(_built("a", CLAIM), "inputs-a", ["content/posts/a.md"])
    manifest.add(_built("b", CLAIM, LONG), "inputs-b", None)
    again = _read_back(manifest, tmp_path)
    assert again.jobs == ["a", "b"]
    assert again.rows == {"a": 0, "b": 1}
    assert again.inputs == ["inputs-a", "inputs-b"]
    assert again.sources == [["content/posts/a.md"], None]
    job = SimpleNamespace(id="b")
    assert again.built(job, 1) == Built(job, ["linkedin/b.md"], "Titel b", "Text b", "db", [CLAIM, LONG])
    assert again.table == [CLAIM, LONG]  # each distinct problem once


def test_rows_kept_from_the_last_build_keep_their_problems_as_new_ones_are_added(tmp_path):
    before = _Manifest()
    before.add(_built("a", CLAIM), "i", None)
    before.add(_built("b", LONG), "i", None)
    before = _read_back(before, tmp_path)
    now = _Manifest.after(before)
    fresh = Problem("content/posts/c.md", "Kein Bild", severity=Severity.WARNING)
    now.add(_built("c", fresh, CLAIM), "i", None)
    now.keep(before.rows["b"])
    now.close()
    again = _read_back(now, tmp_path)
    assert [again.built(SimpleNamespace(id=j), again.rows[j]).problems for j in ("c", "b")] == [[fresh, CLAIM], [LONG]]


def test_problems_no_row_names_leave_the_table_once_they_are_most_of_it(tmp_path):
    manifest = _Manifest()
    for number in range(200):  # a text edited again and again: a new problem each time
        manifest = _read_back(manifest, tmp_path)
        now = _Manifest.after(manifest)
        now.add(_built("a", Problem("content/posts/a.md", f"Satz {number} ist zu lang")), "i", None)
        now.add(_built("b", LONG), "i", None)
        now.close()
        manifest = now
    again = _read_back(manifest, tmp_path)
    assert len(again.table) <= 2 * 2 + 64
    assert again.built(SimpleNamespace(id="a"), 0).problems == [Problem("content/posts/a.md", "Satz 199 ist zu lang")]
    assert again.built(SimpleNamespace(id="b"), 1).problems == [LONG]


@pytest.mark.parametrize(
    "damage",
    ["not JSON", "an older version", "a column missing", "a column too short", "a problem number out of the table"],
)
def test_a_damaged_or_older_manifest_is_read_as_empty(tmp_path, damage):
    manifest = _Manifest()
    manifest.add(_built("a", CLAIM), "i", None)
    path = tmp_path / "manifest.json"
    stored = json.loads(manifest.stored())
    if damage == "an older version":
        stored["version"] = 2
    elif damage == "a column missing":
        del stored["link"]
    elif damage == "a column too short":
        stored["title"] = []
    elif damage == "a problem number out of the table":
        stored["problems"] = [[5]]
    path.write_text("{not json" if damage == "not JSON" else json.dumps(stored), encoding="utf-8")
    assert _Manifest.read(path).rows == {}
    assert _Manifest.read(tmp_path / "none.json").rows == {}


def test_a_build_after_a_damaged_manifest_renders_everything_again(run, mpi):
    hour_ago = time.time() - 3600
    for path in mpi.rglob("*"):
        os.utime(path, (hour_ago, hour_ago), follow_symlinks=False)
    first = run(mpi, "--now", NOW, "build")
    assert first.exit_code in (0, 1), first.output
    built = int(re.search(r"(\d+) built", first.stdout)[1])
    (mpi / ".commsflow" / "build" / "manifest.json").write_text('{"version": 3, "jobs": [', encoding="utf-8")
    (mpi / ".commsflow" / "build" / "stamp.json").unlink()  # else: nothing changed, nothing to do
    again = run(mpi, "--now", NOW, "build")
    assert f"{built} built, 0 unchanged" in again.stdout, again.stdout
    third = run(mpi, "--now", NOW, "--no-cache", "build")
    assert f"0 built, {built} unchanged" in third.stdout, third.stdout

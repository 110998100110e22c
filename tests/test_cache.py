"""The content cache: unchanged files are not parsed again; anything that changes a result is."""

from __future__ import annotations

import gc
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from commsflow.sources.content import PARALLEL_THRESHOLD, load_content
from commsflow.workspace import Workspace

POST = "content/posts/2023-12-04-circular-city-challenge.md"
NEWS = "content/news/2024-02-01-amber-projekte.md"


def load(project: Path, **options):
    return Workspace(root=project, **options).load()


def cache_file(project: Path) -> Path:
    return project / ".commsflow" / "cache" / "content.sqlite"


def content_files(project: Path) -> list[Path]:
    return sorted((project / "content").rglob("*.md"))


def bump_mtime(path: Path, seconds: int = 60) -> None:
    """A new modification time, clearly different from the old one whatever the file system."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def titles(loaded) -> dict[str, str]:
    return {item.slug: item.title for item in loaded.library}


def test_first_load_parses_everything_second_nothing(project):
    files = len(content_files(project))
    first = load(project)
    assert first.problems == []
    assert first.report.files == files == 5
    assert first.report.parsed == files
    assert cache_file(project).is_file()

    second = load(project)
    assert second.report.parsed == 0
    assert second.report.files == files
    assert titles(second) == titles(first)
    assert [item.html for item in second.library] == [item.html for item in first.library]


def test_touched_file_with_same_bytes_is_not_parsed(project):
    load(project)
    bump_mtime(project / POST)
    again = load(project)
    assert again.report.parsed == 0
    assert again.library.get("2023-12-04-circular-city-challenge").html == (
        "<p>In Berlin wurden <strong>13 Lösungen</strong> ausgewählt.</p>\n"
    )
    assert load(project).report.parsed == 0  # and the new stat is remembered


def test_changed_file_is_parsed_again_and_change_is_visible(project):
    load(project)
    path = project / POST
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "Circular City Challenge zeichnet Berliner Lösungen aus",
            "Circular City Challenge – 13 Berliner Lösungen ausgezeichnet",
        ).replace("**13 Lösungen**", "**dreizehn Lösungen**"),
        encoding="utf-8",
    )
    bump_mtime(path)
    again = load(project)
    assert again.report.parsed == 1
    post = again.library.get("2023-12-04-circular-city-challenge")
    assert post.title == "Circular City Challenge – 13 Berliner Lösungen ausgezeichnet"
    assert "<strong>dreizehn Lösungen</strong>" in post.html
    fresh = load(project, use_cache=False).library.get("2023-12-04-circular-city-challenge")
    assert (fresh.title, fresh.html, fresh.digest) == (post.title, post.html, post.digest)
    assert load(project).report.parsed == 0


def test_same_size_edit_with_new_mtime_is_seen(project):
    load(project)
    path = project / NEWS
    raw = path.read_bytes()
    changed = raw.replace(b"Forschungsprojekte", b"Forschungsvorhaben")
    assert len(changed) == len(raw) and changed != raw
    path.write_bytes(changed)
    bump_mtime(path)
    again = load(project)
    assert again.report.parsed == 1
    assert again.library.get("2024-02-01-amber-projekte").title.startswith("Zwölf Forschungsvorhaben")


def test_deleted_file_removes_the_item(project):
    load(project)
    (project / NEWS).unlink()
    again = load(project)
    assert again.report.parsed == 0
    assert again.library.get("2024-02-01-amber-projekte") is None
    assert again.report.files == 4 and len(again.library) == 4
    # and it does not come back from the cache
    assert load(project).library.get("2024-02-01-amber-projekte") is None


def stored_digests(project: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(cache_file(project)) as db:
        return {digest for (digest,) in db.execute("SELECT digest FROM contents")}


def test_the_cache_drops_old_contents_one_changing_run_later(project):
    """An edited file's old content and a deleted file's content stay for one more run that changes
    the cache (a command still running may read its item's text from it later), then go;
    content two files share stays while one of them is left. No run reads through every row."""
    first = load(project)
    old_news = first.library.get("2024-02-01-amber-projekte").digest
    shared = first.library.get("2023-12-04-circular-city-challenge").digest
    (project / "content/posts/kopie.md").write_bytes((project / POST).read_bytes())
    load(project)
    path = project / NEWS
    path.write_text(path.read_text(encoding="utf-8").replace("Forschungsprojekte", "Vorhaben"), encoding="utf-8")
    bump_mtime(path)
    (project / POST).unlink()  # its copy has the same content
    assert load(project).report.parsed == 1
    assert old_news in stored_digests(project)
    assert load(project).report.parsed == 0
    assert old_news in stored_digests(project)  # a run that changes nothing removes nothing
    (project / "content/posts/kopie.md").unlink()
    loaded = load(project)
    stored = stored_digests(project)
    assert old_news not in stored and shared in stored  # the copy's content waits one run in turn
    assert stored - {shared} == {record[2] for record in _index(project).values()}
    assert len(stored) == loaded.report.files + 1 == 5


def _index(project: Path) -> dict:
    """The index as stored: whole, with the changes since applied."""
    import sqlite3

    with sqlite3.connect(cache_file(project)) as db:
        stored = dict(db.execute("SELECT key, value FROM meta"))
    index = json.loads(stored["index"])
    for name, record in json.loads(stored.get("delta", "{}")).items():
        if record is None:
            index.pop(name, None)
        else:
            index[name] = record
    return index


def test_file_with_errors_is_reported_again_from_the_cache(project):
    path = project / "content/posts/2024-01-10-tippfehler.md"
    path.write_text(
        "---\ntitle: Neues aus der Werkstatt\nstatus: draft\ncategory: Aktuell\ndate: 2024-01-10\n---\nText.\n",
        encoding="utf-8",
    )
    first = [p.format() for p in load(project).problems]
    again = load(project)
    assert again.report.parsed == 0
    assert [p.format() for p in again.problems] == first
    assert any("unknown value 'Aktuell'" in line for line in first)


def test_config_change_invalidates_the_cache(project):
    load(project)
    config = project / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    changed = text.replace(
        'blog_categories = ["Aktuelles", "Einblicke", "Gesichter des MPI"]',
        'blog_categories = ["Aktuelles", "Einblicke", "Gesichter des MPI", "Interviews"]',
    )
    assert changed != text
    config.write_text(changed, encoding="utf-8")
    again = load(project)
    assert again.report.parsed == 5
    assert load(project).report.parsed == 0


def test_config_change_makes_new_vocabulary_effective(project):
    path = project / "content/posts/2024-03-01-interview-amber.md"
    path.write_text(
        "---\ntitle: Interview mit der AMBER Initiative\nstatus: review\ncategory: Interviews\n"
        "date: 2024-03-01\n---\nFünf Fragen zum 3D-Druck.\n",
        encoding="utf-8",
    )
    assert load(project).library.get("2024-03-01-interview-amber") is None
    config = project / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('"Gesichter des MPI"]', '"Gesichter des MPI", "Interviews"]'),
        encoding="utf-8",
    )
    again = load(project)
    assert again.problems == []
    assert again.library.get("2024-03-01-interview-amber").meta.category == "Interviews"


def settle() -> None:
    """Let go of cache connections still waiting for the garbage collector, as a finished
    command would: the cache file on disk is then complete and nothing holds it open."""
    gc.collect()


def cache_state(project: Path) -> dict[str, bytes]:
    settle()
    folder = cache_file(project).parent
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.mark.parametrize(
    "garbage",
    [
        b"garbage \x00\xff\xfe kein Cache",
        b"",
        b"SQLite format 3\x00" + b"\x00" * 84,  # a header and nothing behind it
        pickle.dumps({"schluessel": "wert"}),  # what an older cache format looked like
        random.Random(20240425).randbytes(4096),
    ],
    ids=["bytes", "empty", "header-only", "pickle", "random-page"],
)
def test_corrupt_cache_is_only_a_slower_run(project, run, garbage):
    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    cache_file(project).write_bytes(garbage)
    again = load(project)
    assert again.problems == []
    assert again.report.parsed == 5
    assert {item.slug: (item.title, item.html) for item in again.library} == expected
    assert load(project).report.parsed == 0  # the cache was rebuilt
    settle()
    cache_file(project).write_bytes(garbage)
    result = run(project, "check")
    assert result.exit_code == 0, result.output
    assert "5 files checked, 5 items valid, 0 campaigns: 0 errors, 0 warnings" in result.stdout


def test_a_cache_another_process_holds_is_left_as_it_is(project, monkeypatch):
    """Another process keeps the cache locked while it writes: this run goes on without the
    cache, and the file — sound, and in use — stays where it is, contents and all."""
    import sqlite3

    from commsflow import cache

    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    before = cache_file(project).read_bytes()
    other = sqlite3.connect(cache_file(project), isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(cache, "_BUSY_S", 0.05)
    try:
        meanwhile = load(project)
        assert meanwhile.problems == [] and meanwhile.report.parsed == 5  # read from the files
        assert {item.slug: (item.title, item.html) for item in meanwhile.library} == expected
        assert cache_file(project).exists()
        assert other.execute("SELECT count(*) FROM contents").fetchone()[0] == 5
    finally:
        other.execute("COMMIT")
        other.close()
    assert cache_file(project).read_bytes() == before
    assert load(project).report.parsed == 0  # the cache serves the next run again


def test_truncated_cache_is_only_a_slower_run(project):
    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    raw = cache_file(project).read_bytes()
    cache_file(project).write_bytes(raw[: len(raw) // 2])
    again = load(project)
    assert {item.slug: (item.title, item.html) for item in again.library} == expected


def test_cache_missing_bodies_and_front_matter_falls_back_to_the_file(project):
    """Damage the warm start does not read (the per-digest contents) is met on first use;
    the item then reads its file again instead of failing."""
    import sqlite3

    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    with sqlite3.connect(cache_file(project)) as db:
        db.execute("DELETE FROM contents")
    again = load(project)
    assert again.report.parsed == 0  # the index was fine, so nothing was parsed up front
    assert {item.slug: (item.title, item.html) for item in again.library} == expected


def test_file_changed_while_running_is_reported_not_mixed(project):
    from commsflow.errors import CommsflowError

    load(project)
    settle()
    earlier = load(project)
    import sqlite3

    with sqlite3.connect(cache_file(project)) as db:
        db.execute("DELETE FROM contents")
    path = project / NEWS
    path.write_text(path.read_text(encoding="utf-8").replace("2025", "2026"), encoding="utf-8")
    with pytest.raises(CommsflowError, match="changed while commsflow was running"):
        _ = earlier.library.get("2024-02-01-amber-projekte").html


def test_items_loaded_earlier_are_not_changed_by_a_later_run(project):
    load(project)
    settle()
    earlier = load(project)
    assert earlier.report.parsed == 0  # the items wait in the cache
    news = earlier.library.get("2024-02-01-amber-projekte")
    path = project / NEWS
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("Zwölf Forschungsprojekte", "Zwölf neue Forschungsprojekte")
        .replace("Bis Ende 2025", "Bis Ende 2026"),
        encoding="utf-8",
    )
    bump_mtime(path)
    # a second command on the same project, e.g. an editor's on-save `commsflow check`
    subprocess.run(
        [sys.executable, "-m", "commsflow", "--root", str(project), "check"],
        check=True,
        capture_output=True,
    )
    assert news.title == "Zwölf Forschungsprojekte für den 3D-Druck „Made in Berlin“"
    assert (
        news.html == "<p>Bis Ende 2025 entstehen mit 25 regionalen Partnern Innovationen der Additiven Fertigung.</p>\n"
    )


def test_no_cache_flag_reads_every_file_and_leaves_no_cache(project, run):
    (project / "approvals.yaml").write_text("approvals: []\n", encoding="utf-8")  # parsed sign-offs are kept too
    result = run(project, "--no-cache", "check")
    assert result.exit_code == 0, result.output
    assert "5 files checked, 5 items valid" in result.stdout
    assert not (project / ".commsflow").exists()  # no content, approvals, holidays, renditions or templates cache
    assert run(project, "check").exit_code == 0
    assert cache_file(project).is_file()


def test_no_cache_flag_ignores_a_stale_cache(project, run):
    assert run(project, "check").exit_code == 0
    path = project / NEWS
    stat = path.stat()
    raw = path.read_bytes()
    changed = raw.replace(b"Forschungsprojekte", b"Forschungsvorhaben")
    assert len(changed) == len(raw) and changed != raw
    path.write_bytes(changed)
    # same size and same modification time: what an edit within one timestamp tick looks like
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = cache_state(project)

    result = run(project, "--no-cache", "list", "news", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["title"] == "Zwölf Forschungsvorhaben für den 3D-Druck „Made in Berlin“"
    assert cache_state(project) == before  # --no-cache neither reads nor writes the cache


# --- parallel and serial give the same library ------------------------------------------


def _generated_post(number: int, status: str | None = None) -> str:
    day = number % 28 + 1
    status = status or ("draft", "review", "approved", "published")[number % 4]
    return (
        "---\n"
        f'title: "Beitrag {number}: Kreislaufwirtschaft in Berlin – Teil {number}"\n'
        f"status: {status}\n"
        f"category: {('Aktuelles', 'Einblicke', 'Gesichter des MPI')[number % 3]}\n"
        f"date: {day:02d}.03.2024\n"
        f"tags: [Circular Economy, Teil {number}]\n"
        "projects: [circular-city-challenge]\n"
        "---\n"
        f"## Abschnitt {number}\n\n"
        f"**{number} Unternehmen** zeigen zirkuläre Lösungen „Made in Berlin“.\n\n"
        f"- Punkt eins\n- Punkt zwei mit [Link](https://www.berlin.de/industriestadt/{number}/)\n\n"
        "| Jahr | Projekte |\n|---|---|\n"
        f"| 2024 | {number} |\n"
    )


@pytest.fixture
def big_project(project: Path) -> Path:
    posts = project / "content" / "posts"
    for number in range(400):
        (posts / f"2024-03-{number:04d}-beitrag.md").write_text(_generated_post(number), encoding="utf-8")
    return project


def test_parallel_and_serial_load_give_the_same_items(big_project):
    assert 400 > PARALLEL_THRESHOLD  # so jobs=2 really uses worker processes
    serial = load(big_project, use_cache=False, jobs=1)
    parallel = load(big_project, use_cache=False, jobs=2)
    assert serial.problems == [] and parallel.problems == []
    assert serial.report.parsed == parallel.report.parsed == 405
    for attribute in ("slug", "title", "html", "path", "digest", "status", "when"):
        assert [getattr(i, attribute) for i in parallel.library] == [getattr(i, attribute) for i in serial.library], (
            attribute
        )
    assert [i.meta for i in parallel.library] == [i.meta for i in serial.library]
    sample = parallel.library.get("2024-03-0123-beitrag")
    assert sample.title == "Beitrag 123: Kreislaufwirtschaft in Berlin – Teil 123"
    assert "<strong>123 Unternehmen</strong>" in sample.html and "<table>" in sample.html


def test_parallel_load_content_directly(big_project):
    workspace = Workspace(root=big_project)
    context = workspace.validation_context()
    content = big_project / "content"
    serial = load_content(big_project, content, context, jobs=1)
    parallel = load_content(big_project, content, context, jobs=2)
    assert [(i.slug, i.title, i.html) for i in parallel.items] == [(i.slug, i.title, i.html) for i in serial.items]
    assert len(parallel.items) == 405


def test_parallel_load_reports_the_same_problems(big_project):
    (big_project / "content/posts/2024-03-0007-beitrag.md").write_text(
        _generated_post(7, status="aproved"),
        encoding="utf-8",
    )
    serial = load(big_project, use_cache=False, jobs=1)
    parallel = load(big_project, use_cache=False, jobs=2)
    assert [p.format() for p in parallel.problems] == [p.format() for p in serial.problems]
    assert len(serial.problems) == 1
    assert serial.problems[0].format().startswith("content/posts/2024-03-0007-beitrag.md:3: status: 'aproved'")


def test_parallel_load_fills_the_cache_for_a_serial_run(big_project):
    first = load(big_project, jobs=2)
    assert first.report.parsed == 405
    again = load(big_project, jobs=1)
    assert again.report.parsed == 0
    assert [(i.slug, i.html) for i in again.library] == [(i.slug, i.html) for i in first.library]


# --- invalidation when the reading code changes ------------------------------------------

_PROBE = """
import json, sys
from pathlib import Path
import commsflow
from commsflow.workspace import Workspace
assert commsflow.__file__.startswith(sys.argv[2]), commsflow.__file__
loaded = Workspace(root=Path(sys.argv[1])).load()
print(json.dumps({"parsed": loaded.report.parsed, "problems": [p.format() for p in loaded.problems]}))
"""


def test_change_to_the_reading_code_invalidates_the_cache(project, tmp_path):
    shutil.copy(
        FIXTURES / "bad_content" / "posts" / "bom_and_crlf_accepted.md", project / "content/posts/Neuer Beitrag.md"
    )
    package = Path(__file__).parent.parent / "commsflow"
    copy = tmp_path / "code"
    shutil.copytree(package, copy / "commsflow", ignore=shutil.ignore_patterns("__pycache__"))

    def probe() -> dict:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(project), str(copy)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,  # not the repo: import the copy
        )
        if done.returncode != 0:
            raise RuntimeError(f"test setup: the probe failed:\n{done.stderr}")
        return json.loads(done.stdout)

    first = probe()
    assert first["parsed"] == 6
    assert any("is not a usable slug" in line for line in first["problems"]), first

    # A maintainer rewords the message in the module that turns parsed files into items.
    reader = copy / "commsflow" / "sources" / "content.py"
    code = reader.read_text(encoding="utf-8")
    if "is not a usable slug" not in code:
        raise RuntimeError("test setup: the slug message moved out of sources/content.py; update this test")
    reader.write_text(code.replace("is not a usable slug", "ist kein verwendbarer Slug"), encoding="utf-8")

    after = probe()
    assert any("ist kein verwendbarer Slug" in line for line in after["problems"]), after


def test_cached_data_round_trips_dates_and_times_as_json():
    from datetime import date, datetime, timedelta, timezone

    from commsflow.cache import dumps_data, loads_data

    data = {
        "at": datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        "day": date(2024, 3, 28),
        "list": [1, 2.5, None, True, "„Zitat“"],
    }
    raw = dumps_data(data)
    assert raw.decode("utf-8").startswith("{")
    assert loads_data(raw) == data


# --- the cache is data, not code (issue 12, item 9) -------------------------------------------


class _RunsCode:
    """What a pickle can hold: unpickling it calls a function of the writer's choosing."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_content_cache_runs_no_code_from_the_state_folder(project, tmp_path):
    """Whoever can write the state folder must not run code in every commsflow process."""
    import sqlite3

    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    marker = tmp_path / "ausgefuehrt"
    blob = pickle.dumps(_RunsCode(marker))
    with sqlite3.connect(cache_file(project)) as db:  # the key stays: this cache is for this project and code
        assert db.execute("UPDATE meta SET value = ? WHERE key = 'index'", (blob,)).rowcount == 1
        assert db.execute("UPDATE contents SET data = ?", (blob,)).rowcount == 5
    again = load(project)
    assert {item.slug: (item.title, item.html) for item in again.library} == expected
    assert again.problems == []
    assert not marker.exists()


def test_cached_front_matter_that_runs_code_is_not_run(project, tmp_path):
    """The index is intact, so items wait in the cache; their front matter is poisoned."""
    import sqlite3

    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    marker = tmp_path / "ausgefuehrt"
    with sqlite3.connect(cache_file(project)) as db:
        db.execute("UPDATE contents SET data = ?", (pickle.dumps(_RunsCode(marker)),))
    again = load(project)
    assert again.report.parsed == 0
    assert {item.slug: (item.title, item.html) for item in again.library} == expected
    assert not marker.exists()


def test_content_cache_keeps_plain_json(project):
    import sqlite3

    load(project)
    settle()
    with sqlite3.connect(cache_file(project)) as db:
        (index,) = db.execute("SELECT value FROM meta WHERE key = 'index'").fetchone()
        rows = db.execute("SELECT data FROM contents").fetchall()
    records = json.loads(index)
    assert sorted(records) == [path.relative_to(project).as_posix() for path in content_files(project)]
    assert len(rows) == 5
    assert all(isinstance(json.loads(data), dict) for (data,) in rows)


def test_well_formed_but_foreign_cache_entries_are_read_from_the_files(project):
    """JSON that is not what commsflow writes — a record of the wrong shape, front matter
    that does not validate, a body that is no text — costs a reread, not a crash."""
    import sqlite3

    expected = {item.slug: (item.title, item.html) for item in load(project, use_cache=False).library}
    load(project)
    settle()
    with sqlite3.connect(cache_file(project)) as db:
        (index,) = db.execute("SELECT value FROM meta WHERE key = 'index'").fetchone()
        records = json.loads(index)
        records[POST][4:8] = [5, "keine Referenzen", [{"falsch": 1}], "ja"]  # slug, refs, problems, valid
        news = records[NEWS]
        news[6] = [{"path": NEWS, "message": "erfunden", "severity": "katastrophal"}]
        db.execute("UPDATE meta SET value = ? WHERE key = 'index'", (json.dumps(records),))
        db.execute("UPDATE contents SET data = ?, html = 7 WHERE digest = ?", (json.dumps({"title": 5}), news[2]))
        db.execute(
            "UPDATE contents SET data = ? WHERE digest NOT IN (?, ?)",
            (json.dumps({"title": None, "status": "gibt es nicht"}), records[POST][2], news[2]),
        )
    again = load(project)
    assert again.report.parsed == 2  # the two records of the wrong shape
    assert again.problems == []
    assert {item.slug: (item.title, item.html) for item in again.library} == expected


def test_front_matter_that_is_not_plain_json_is_read_again_each_run(project):
    """A YAML !!set (or !!binary) validates, but JSON cannot keep it: the file is not cached."""
    (project / "content/posts/2024-01-01-menge.md").write_text(
        "---\ntitle: !!binary SGFsbG8=\nstatus: approved\ncategory: Einblicke\ndate: 2024-01-01\n"
        "tags: !!set {Robotik, Leichtbau}\n---\nText.\n",
        encoding="utf-8",
    )
    first = load(project)
    assert first.problems == []
    assert first.library.get("2024-01-01-menge").title == "Hallo"
    settle()
    again = load(project)
    assert again.report.parsed == 1
    assert sorted(again.library.get("2024-01-01-menge").meta.tags) == ["Leichtbau", "Robotik"]


def _stored(project: Path) -> dict:
    import sqlite3

    with sqlite3.connect(cache_file(project)) as db:
        return dict(db.execute("SELECT key, value FROM meta"))


def test_a_run_that_changes_a_few_files_stores_only_their_records(project, monkeypatch):
    from commsflow import cache

    first = load(project)
    settle()
    whole = _stored(project)["index"]
    path = project / NEWS
    path.write_text(path.read_text(encoding="utf-8").replace("Forschungsprojekte", "Vorhaben"), encoding="utf-8")
    bump_mtime(path)
    assert load(project).report.parsed == 1
    settle()
    stored = _stored(project)
    assert stored["index"] == whole  # 2 MB for 10,000 files: not written again for one
    assert list(json.loads(stored["delta"])) == [NEWS]
    again = load(project)
    assert again.report.parsed == 0 and titles(again) == titles(load(project, use_cache=False)) != titles(first)
    # Past a share of the files (here: one), the index is stored whole again, with no changes beside it.
    monkeypatch.setattr(cache, "_DELTA_AT_MOST", 1)
    (project / POST).unlink()
    assert load(project).report.parsed == 0
    settle()
    stored = _stored(project)
    assert "delta" not in stored and stored["index"] != whole
    assert sorted(_index(project)) == [path.relative_to(project).as_posix() for path in content_files(project)]
    assert titles(load(project, use_cache=False)) == titles(load(project))


def test_a_long_write_ahead_log_is_emptied_by_the_run_that_finds_it(project, monkeypatch):
    """A process killed before it closes the cache leaves its log, which would grow with every
    such run that saves (the next process reads all of it to open the cache); past a size, a
    run empties it. Here the runs' caches are kept open, as a killed process leaves them."""
    from commsflow import cache

    kept_open = []
    opened = cache.ContentCache.__init__
    monkeypatch.setattr(cache.ContentCache, "__init__", lambda self, *a: (opened(self, *a), kept_open.append(self))[0])
    log = Path(f"{cache_file(project)}-wal")
    path = project / NEWS
    for number, limit in enumerate((1 << 40, 1)):  # first never, then always
        monkeypatch.setattr(cache, "_LOG_AT_MOST", limit)
        path.write_text(path.read_text(encoding="utf-8") + f"\nNachtrag {number}.\n", encoding="utf-8")
        bump_mtime(path, 60 * (number + 1))
        loaded = load(project)
        assert loaded.report.parsed == (5 if number == 0 else 1)
        assert (log.stat().st_size > 0) == (number == 0)
    assert titles(load(project)) == titles(load(project, use_cache=False))
    for opened_cache in kept_open:
        opened_cache.close()


def test_a_command_leaves_no_write_ahead_log_behind(project):
    """The program ends through os._exit (commsflow.cli.run); the cache is closed before, so
    the next run does not read a log it can never start afresh."""
    log = Path(f"{cache_file(project)}-wal")
    for number in range(3):
        path = project / NEWS
        path.write_text(path.read_text(encoding="utf-8") + f"\nNachtrag {number}.\n", encoding="utf-8")
        bump_mtime(path, 60 * (number + 1))
        done = subprocess.run(
            [sys.executable, "-m", "commsflow", "--root", str(project), "check"], capture_output=True, text=True
        )
        assert done.returncode in (0, 1), done.stderr
        assert cache_file(project).is_file() and not log.exists()

"""`commsflow build` after only items' texts changed: the plan's outline (calendar,
previews, titles) is taken from the last build and only what those texts are in is
rendered again — and the build folder ends up byte for byte as a build from scratch."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from commsflow import calendar as planning
from commsflow import listing

NOW = "2024-03-01 10:00"


def _age(root: Path) -> None:
    """Every file an hour old: the stamp does not trust files changed in its last seconds."""
    hour_ago = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (hour_ago, hour_ago), follow_symlinks=False)


def _files(root: Path) -> dict[str, bytes]:
    """The build folder's files; a Word file by its parts (a zip carries the time it was written)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as docx:
                for part in sorted(docx.namelist()):
                    found[f"{name}:{part}"] = docx.read(part)
        else:
            found[name] = path.read_bytes().replace(str(root.parent).encode(), b"ROOT")
    return found


def _same(found: dict[str, bytes], wanted: dict[str, bytes]) -> None:
    assert sorted(found) == sorted(wanted)
    for name in wanted:
        if found[name] != wanted[name]:
            diff = difflib.unified_diff(
                wanted[name].decode("utf-8", "replace").splitlines(),
                found[name].decode("utf-8", "replace").splitlines(),
                "from scratch",
                "this build",
                lineterm="",
                n=1,
            )
            pytest.fail(f"{name} differs from a build from scratch:\n" + "\n".join(list(diff)[:40]))


def _from_scratch(run, project: Path, tmp_path: Path) -> dict[str, bytes]:
    """The build folder a build of the same files without any earlier build writes."""
    copy = tmp_path / "scratch" / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build", ".commsflow"))
    result = run(copy, "--now", NOW, "build")
    assert result.exit_code in (0, 1), result.output
    return _files(copy / "build")


def _unsigned_post(project: Path) -> Path:
    """A signed-off post (status approved) without a sign-off record in approvals.yaml."""
    recorded = {entry["item"] for entry in yaml.safe_load((project / "approvals.yaml").read_text())["approvals"]}
    for path in sorted((project / "content" / "posts").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^status: approved$", text, re.M) and path.stem not in recorded:
            return path
    raise AssertionError("the fixture has no signed-off post without a sign-off record")


@pytest.fixture
def built(run, mpi):
    _age(mpi)
    first = run(mpi, "--now", NOW, "build")
    assert first.exit_code in (0, 1), first.output
    assert (mpi / ".commsflow" / "build" / "outline.json").is_file()
    return mpi


def _append(path: Path, text: str) -> None:
    """An edit made a while ago (a new modification time, not one within the stamp's last seconds)."""
    before = path.stat().st_mtime
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    os.utime(path, (before + 60, before + 60))


def test_a_changed_text_renders_only_what_it_is_in_and_matches_a_build_from_scratch(run, built, tmp_path, monkeypatch):
    post = _unsigned_post(built)
    _append(post, "\nNachtrag: Der Beitrag wurde um einen Satz zur Industriestadt Berlin ergänzt.\n")
    with monkeypatch.context() as patch:
        patch.setattr(planning, "build", lambda *a, **k: pytest.fail("the calendar was worked out again"))
        again = run(built, "--now", NOW, "build")
    assert again.exit_code in (0, 1), again.output
    assert re.search(r"[✓✗] 1 built, \d+ unchanged", again.stdout), again.stdout
    draft = (built / "build" / "linkedin" / f"{post.stem}--article.md").read_text(encoding="utf-8")
    assert "Nachtrag" in draft or "Industriestadt" in draft
    _same(_files(built / "build"), _from_scratch(run, built, tmp_path))


def test_a_changed_title_works_the_plan_out_again(run, built, tmp_path):
    post = _unsigned_post(built)
    text = post.read_text(encoding="utf-8")
    post.write_text(re.sub(r"^title: .*$", 'title: "Ein neuer Titel für den Beitrag"', text, count=1, flags=re.M))
    _age(built / "content")
    again = run(built, "--now", NOW, "build")
    assert again.exit_code in (0, 1), again.output
    assert "Ein neuer Titel für den Beitrag" in (built / "build" / "index.html").read_text(encoding="utf-8")
    _same(_files(built / "build"), _from_scratch(run, built, tmp_path))


def test_a_changed_text_of_an_item_with_a_sign_off_is_held_to_it_as_a_full_plan_holds_it(run, built, tmp_path):
    records = yaml.safe_load((built / "approvals.yaml").read_text())["approvals"]
    recorded = next(
        record["item"]
        for record in records
        if record.get("kind") == "post" and any(str(r.get("planned")) > NOW for r in record.get("renditions", []))
    )
    post = next((built / "content").rglob(f"{recorded}.md"))
    _append(post, "\nEin Satz, den niemand freigegeben hat.\n")
    again = run(built, "--now", NOW, "build")
    assert again.exit_code in (0, 1), again.output
    _same(_files(built / "build"), _from_scratch(run, built, tmp_path))


def test_a_text_that_makes_its_file_invalid_is_reported_as_a_full_build_reports_it(run, built, tmp_path):
    post = _unsigned_post(built)
    _append(post, '\n<script>alert("x")</script>\n')
    again = run(built, "--now", NOW, "build")
    assert again.exit_code == 1, again.output
    assert post.name in again.stdout
    _same(_files(built / "build"), _from_scratch(run, built, tmp_path))


def test_two_text_edits_in_a_row_each_match_a_build_from_scratch(run, built, tmp_path, monkeypatch):
    post = _unsigned_post(built)
    for number in (1, 2):
        _append(post, f"\nNachtrag {number}.\n")
        with monkeypatch.context() as patch:
            patch.setattr(planning, "build", lambda *a, **k: pytest.fail("the calendar was worked out again"))
            again = run(built, "--now", NOW, "build")
        assert again.exit_code in (0, 1), again.output
        _same(_files(built / "build"), _from_scratch(run, built, tmp_path / str(number)))


def test_under_an_embargo_no_outline_is_kept(run, mpi):
    post = _unsigned_post(mpi)
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace("---\n", "---\nembargo: 2024-12-01 09:00\n", 1), encoding="utf-8")
    result = run(mpi, "--now", NOW, "build")
    assert result.exit_code in (0, 1), result.output
    assert not (mpi / ".commsflow" / "build" / "outline.json").exists()


def test_after_a_text_edit_the_stamp_knows_build_as_it_is_without_listing_it_again(run, built, monkeypatch):
    """The build tells the stamp what it wrote and removed in build/; the stamp's listing is
    the one a listing of the folder gives, so the next build has nothing to do — and an
    output deleted afterwards is still noticed."""
    post = _unsigned_post(built)
    _append(post, "\nNachtrag: ein Satz mehr.\n")
    listed = []
    real_files = listing.files
    with monkeypatch.context() as patch:
        patch.setattr(listing, "files", lambda paths, skip=(): listed.append(paths) or real_files(paths, skip))
        again = run(built, "--now", NOW, "build")
    assert again.exit_code in (0, 1), again.output
    assert re.search(r"[✓✗] 1 built, \d+ unchanged", again.stdout), again.stdout
    assert len([paths for paths in listed if str(built / "build") in paths]) == 1, "build/ was listed again"
    saved = json.loads((built / ".commsflow" / "build" / "stamp.json").read_text(encoding="utf-8"))
    assert saved["output_files"] == listing.files([str(built / "build")])
    assert "nothing changed since the last build" in run(built, "--now", NOW, "build").stdout
    draft = built / "build" / "linkedin" / f"{post.stem}--article.md"
    draft.unlink()
    rebuilt = run(built, "--now", NOW, "build")
    assert "nothing changed since the last build" not in rebuilt.stdout
    assert draft.is_file()


def test_a_page_without_lang_is_found_from_the_listing_the_build_keeps(run, built, monkeypatch):
    """After a first build, lint's generated-HTML check takes build/'s files from the stamp's
    listing and what the build wrote: a page written in this build (a template changed) and
    one written before (only a text changed) are both checked, without walking build/."""
    walked = []
    real_walk = os.walk
    monkeypatch.setattr(os, "walk", lambda top, *a, **k: walked.append(str(top)) or real_walk(top, *a, **k))
    template = built / "templates" / "press" / "release.html"
    before = template.stat().st_mtime
    template.write_text(template.read_text(encoding="utf-8").replace('<html lang="de">', "<html>"), encoding="utf-8")
    os.utime(template, (before + 60, before + 60))
    pages = sorted(path.relative_to(built).as_posix() for path in (built / "build" / "press").rglob("release.html"))
    assert pages
    wanted = [f"{page}:2: <html> has no lang attribute" for page in pages]
    for edit in ("a template", "a text"):
        if edit == "a text":
            _append(_unsigned_post(built), "\nNachtrag: ein Satz mehr.\n")
        result = run(built, "--now", NOW, "build")
        assert "nothing changed since the last build" not in result.stdout, edit
        said = " ".join(result.stdout.split())
        assert all(line in said for line in wanted), (edit, result.stdout)
        assert str(built / "build") not in walked, edit


@pytest.mark.parametrize("child", ["exits with an error", "says something else", "cannot be started"])
def test_a_listing_child_that_fails_only_means_the_files_are_listed_here(run, built, monkeypatch, child):
    """A large project's build lists its files in a child process; whatever goes wrong
    there, the build lists them itself and still builds only what changed."""
    from commsflow import stamp

    monkeypatch.setattr(stamp, "ELSEWHERE_FROM", 0)
    executable = {
        "exits with an error": shutil.which("false"),
        "says something else": shutil.which("echo"),  # prints its arguments, not the listing
        "cannot be started": str(built / "kein-python"),
    }[child]
    monkeypatch.setattr(sys, "executable", executable)
    assert "nothing changed since the last build" in run(built, "--now", NOW, "build").stdout
    _append(_unsigned_post(built), "\nNachtrag: ein Satz mehr.\n")
    again = run(built, "--now", NOW, "build")
    assert again.exit_code in (0, 1), again.output
    assert re.search(r"[✓✗] 1 built, \d+ unchanged", again.stdout), again.stdout


def test_the_code_digest_is_of_the_sources_not_of_what_python_compiles(tmp_path, monkeypatch):
    """The listing's child writes its compiled module as it imports it: that is not a change
    of commsflow's code (a build after it would otherwise build everything)."""
    code = tmp_path / "commsflow"
    (code / "__pycache__").mkdir(parents=True)
    (code / "stage.py").write_text("STAGE = 1\n", encoding="utf-8")
    monkeypatch.setattr(listing, "CODE", str(code))
    first = listing.code_digest("de")
    (code / "__pycache__" / "stage.cpython-311.pyc").write_bytes(b"\x00compiled")
    assert listing.code_digest("de") == first
    assert listing.code_digest("en") != first
    (code / "stage.py").write_text("STAGE = 20\n", encoding="utf-8")
    assert listing.code_digest("de") != first


def test_a_preview_job_is_the_job_its_fields_make_and_comes_back_from_the_outline_the_same():
    import dataclasses
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commsflow.outline import Outline
    from commsflow.plan import draft_job

    day = datetime(2024, 3, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    made = draft_job("linkedin", "beitrag", "article", day, "content/posts/beitrag.md")
    job = planning.Job(
        "entwurf/linkedin/beitrag/article", "entwurf", "entwurf", "linkedin", "article", "beitrag", day,
        "content/posts/beitrag.md",
    )  # fmt: skip
    assert made == job and hash(made) == hash(job) and repr(made) == repr(job)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.state = "done"
    again = Outline.from_json(Outline([], [], [made], {}, [], []).to_json())
    assert again.drafts == [made] and again.drafts[0].planned == day

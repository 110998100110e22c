"""`commsflow build` with nothing to do: the stamp of the last build is used only while
every input file, every output file, the code and the clock's window are as they were."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from commsflow import stamp
from commsflow.config import Paths

NOW = "2024-03-01 10:00"
AGAIN = "nothing changed since the last build"


def _age(root: Path) -> None:
    """Every file an hour old, as a project the team has not touched for a while."""
    hour_ago = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (hour_ago, hour_ago), follow_symlinks=False)


def _outputs(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(params=["listed here", "listed by a child process"], autouse=True)
def listed(request, monkeypatch):
    """Every case twice: with the files listed by the command itself, and by the child
    process a large project's build starts (from 2,000 files; here from the first)."""
    children = []

    class Recorded(stamp.Pending):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            children.append(self._child)

    monkeypatch.setattr(stamp, "Pending", Recorded)
    if request.param == "listed by a child process":
        monkeypatch.setattr(stamp, "ELSEWHERE_FROM", 0)
    return children


@pytest.fixture
def built(run, mpi):
    _age(mpi)
    first = run(mpi, "--now", NOW, "build")
    assert first.exit_code == 0, first.output
    assert AGAIN not in first.stdout
    return mpi


def test_a_second_build_with_nothing_changed_repeats_the_report_and_writes_nothing(run, built, listed, request):
    outputs = _outputs(built / "build")
    first = json.loads((built / ".commsflow" / "build" / "stamp.json").read_text())["report"]
    again = run(built, "--now", NOW, "build")
    assert again.exit_code == 0, again.output
    children = [child for child in listed if child is not None]
    assert len(children) == (1 if "child" in request.node.callspec.params["listed"] else 0)
    assert all(child.returncode == 0 for child in children)
    assert AGAIN in again.stdout
    assert f"0 built, {first['built'] + first['unchanged']} unchanged" in again.stdout
    assert _outputs(built / "build") == outputs
    # The warnings are said again, as a build says them.
    assert len(first["problems"]) > 0
    for problem in first["problems"]:
        assert problem["message"] in again.stdout.replace("\n", " ") or problem["path"] in again.stdout


def test_strict_still_fails_on_the_warnings_of_an_unchanged_build(run, built):
    again = run(built, "--now", NOW, "build", "--strict")
    assert AGAIN in again.stdout
    assert again.exit_code == 1


@pytest.mark.parametrize(
    "change",
    [
        "edit a post",
        "add a file",
        "delete an output",
        "edit an output",
        "edit a template",
        "edit a campaign",
        "edit the sign-offs",
        "edit the configuration",
        "the ledger records a send",
    ],
)
def test_any_change_to_an_input_or_an_output_builds_again(run, built, change):
    root = built
    post = root / "content" / "posts" / "2024-03-06-foerdercall-circular-economy-zweite-stufe.md"
    if change == "edit a post":
        post.write_text(post.read_text(encoding="utf-8").replace("Fördercall", "Förderaufruf", 1), encoding="utf-8")
    elif change == "add a file":
        (root / "content" / "posts" / "notiz.txt").write_text("Eine Notiz.\n", encoding="utf-8")
    elif change == "delete an output":
        (root / "build" / "linkedin" / "zahlen--figures.md").unlink()
    elif change == "edit an output":
        (root / "build" / "index.html").write_text("<p>überschrieben</p>", encoding="utf-8")
    elif change == "edit a template":
        template = root / "templates" / "linkedin" / "draft.md"
        template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "edit a campaign":
        campaign = sorted((root / "campaigns").glob("*.yaml"))[0]
        campaign.write_text(campaign.read_text(encoding="utf-8") + "\n# geprüft\n", encoding="utf-8")
    elif change == "edit the sign-offs":
        approvals = root / "approvals.yaml"
        approvals.write_text(approvals.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "edit the configuration":
        config = root / "commsflow.toml"
        config.write_text(config.read_text(encoding="utf-8") + "\n# geprüft\n", encoding="utf-8")
    elif change == "the ledger records a send":
        (root / ".commsflow").mkdir(exist_ok=True)
        db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
        db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
        db.commit()
        db.close()
    again = run(root, "--now", NOW, "build")
    assert AGAIN not in again.stdout, change
    assert (root / "build" / "linkedin" / "zahlen--figures.md").is_file()
    assert "<p>überschrieben</p>" not in (root / "build" / "index.html").read_text(encoding="utf-8")


def test_the_clock_passing_a_planned_job_builds_again(run, built):
    stamp_file = built / ".commsflow" / "build" / "stamp.json"
    until = json.loads(stamp_file.read_text())["until"]
    assert until <= "2024-03-02T00:00:00+01:00"  # midnight at the latest
    assert AGAIN in run(built, "--now", "2024-03-01 10:01", "build").stdout
    assert AGAIN not in run(built, "--now", until[:16].replace("T", " "), "build").stdout
    # and a clock set back before the stamp is not within it either
    assert AGAIN not in run(built, "--now", "2024-02-29 10:00", "build").stdout


def test_the_window_ends_at_the_next_planned_job(run, built):
    from datetime import datetime, timedelta

    jobs = json.loads((built / "build" / "jobs.json").read_text(encoding="utf-8"))
    planned = min(datetime.fromisoformat(job["planned"]) for job in jobs if job["planned"] and job["planned"] > NOW)
    before = planned - timedelta(minutes=30)
    run(built, "--now", f"{before:%Y-%m-%d %H:%M}", "build")
    data = json.loads((built / ".commsflow" / "build" / "stamp.json").read_text())
    assert datetime.fromisoformat(data["until"]) == planned


def test_the_window_ends_when_a_job_past_its_time_turns_missed(run, built):
    """A job not sent within the grace window turns „missed“ by the clock alone: the
    stamp's window ends there, so the build shows it."""
    from datetime import datetime, timedelta

    jobs = json.loads((built / "build" / "jobs.json").read_text(encoding="utf-8"))
    planned = min(datetime.fromisoformat(job["planned"]) for job in jobs if job["planned"] and job["planned"] > NOW)
    after = planned + timedelta(hours=1)  # due, not sent, well within the six hours of grace
    run(built, "--now", f"{after:%Y-%m-%d %H:%M}", "build")
    listed = json.loads((built / "build" / "jobs.json").read_text("utf-8"))
    assert planned.isoformat() in {job["planned"] for job in listed}  # still to go out
    data = json.loads((built / ".commsflow" / "build" / "stamp.json").read_text())
    assert datetime.fromisoformat(data["until"]) <= planned + timedelta(hours=6)
    missed = planned + timedelta(hours=6, minutes=1)
    again = run(built, "--now", f"{missed:%Y-%m-%d %H:%M}", "build")
    assert AGAIN not in again.stdout
    # A missed job will not go out, so the build no longer renders it.
    listed = json.loads((built / "build" / "jobs.json").read_text("utf-8"))
    assert planned.isoformat() not in {job["planned"] for job in listed}


def test_no_cache_always_builds(run, built):
    assert AGAIN not in run(built, "--now", NOW, "--no-cache", "build").stdout


def test_a_file_edited_again_within_the_same_tick_of_the_clock_is_seen(run, mpi):
    """A file edited just before the build could be edited again without its size and time
    changing (git's "racy" files): the stamp keeps its content and compares that."""
    _age(mpi)
    campaign = sorted((mpi / "campaigns").glob("*.yaml"))[0]
    campaign.write_text(campaign.read_text(encoding="utf-8") + "\n# geprüft\n", encoding="utf-8")  # just now
    stat = campaign.stat()
    run(mpi, "--now", NOW, "build")
    assert AGAIN in run(mpi, "--now", NOW, "build").stdout  # edited just now, but not since
    campaign.write_text(campaign.read_text(encoding="utf-8").replace("# geprüft", "# Geprüft"), encoding="utf-8")
    os.utime(campaign, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time: only the content tells
    assert campaign.stat().st_size == stat.st_size
    again = run(mpi, "--now", NOW, "build")
    assert AGAIN not in again.stdout


def test_a_damaged_stamp_only_means_a_build(run, built):
    (built / ".commsflow" / "build" / "stamp.json").write_text("{not json", encoding="utf-8")
    again = run(built, "--now", NOW, "build")
    assert again.exit_code == 0 and AGAIN not in again.stdout


def test_the_stamp_finds_the_state_folder_the_configuration_names(tmp_path):
    assert stamp.STATE_DEFAULT == Paths().state
    assert stamp.state_folder(tmp_path) == tmp_path / ".commsflow"
    (tmp_path / "commsflow.toml").write_text('[paths]\nstate = "zustand"\n', encoding="utf-8")
    assert stamp.state_folder(tmp_path) == tmp_path / "zustand"


def test_a_stamp_that_cannot_be_written_does_not_fail_the_build(run, mpi):
    """The stamp only saves the next build's time: a build whose outputs are written succeeds."""
    _age(mpi)
    blocked = mpi / ".commsflow" / "build" / "stamp.json"
    blocked.mkdir(parents=True)  # a folder where the file would go
    result = run(mpi, "--now", NOW, "build")
    assert result.exit_code == 0, result.output
    assert (mpi / "build" / "index.html").is_file()
    assert AGAIN not in run(mpi, "--now", NOW, "build").stdout  # without a stamp, it builds

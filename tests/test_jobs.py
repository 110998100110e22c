"""Issue 13: a person is told what needs them and can act — `status` groups what needs a
person with the command that resolves it; `retry`, `dismiss` and `posted` act on a job by
its short reference, each recorded in the ledger with who, when and why. Real runs go to a
local webhook server."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from conftest import real_run

from commsflow.actions import find_job, short_ref
from commsflow.calendar import Job
from commsflow.errors import CommsflowError

POST = "2024-03-04-neu"
DUE = "2024-03-06 10:00"
BEFORE = "2024-03-06 09:00"


def _project(root: Path, monkeypatch, url: str) -> None:
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[publishing]\n", '[publishing]\nwebhook = "webhook"\n', 1), encoding="utf-8")
    (root / "content" / "posts" / f"{POST}.md").write_text(
        "---\ntitle: Ein neuer Beitrag\nstatus: approved\ncategory: Aktuelles\ndate: 2024-03-04\n"
        f"summary: Kurz und bündig.\npublish_at: {DUE}\nchannels: [webhook, mastodon]\n---\n\nText.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("COMMSFLOW_WEBHOOK_URL", url)


def _ledger(root: Path) -> sqlite3.Connection:
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    db.row_factory = sqlite3.Row
    return db


def _status(run, root: Path, now: str):
    result = run(root, "--now", now, "status", "--json")
    return result.exit_code, json.loads(result.stdout)


def _ref(data: dict, channel: str) -> str:
    return next(entry["ref"] for entry in data["needs_a_person"] if entry["channel"] == channel)


def test_a_failed_job_is_listed_with_its_command_retried_after_the_fix_and_sent_once(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    assert run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz").exit_code == 0
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("invalid token", status=403)
    first = real_run(mpi, "2024-03-06 10:01", "--once")
    assert "failed" in first.stdout

    code, data = _status(run, mpi, "2024-03-06 10:02")
    assert code == 1
    failed = [entry for entry in data["needs_a_person"] if entry["group"] == "failed"]
    assert len(failed) == 1 and failed[0]["title"] == "Ein neuer Beitrag" and failed[0]["channel"] == "webhook"
    ref = failed[0]["ref"]
    assert f"commsflow retry {ref}" in failed[0]["command"] and "403" in failed[0]["reason"]
    shown = run(mpi, "--now", "2024-03-06 10:02", "status")
    assert "Failed" in shown.stdout and f"→ fix the cause, then: commsflow retry {ref}" in shown.stdout

    # The receiver is fixed; a person retries by the short reference's first characters.
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok", status=200)
    retried = run(mpi, "--now", "2024-03-06 10:05", "retry", ref[:5], "--by", "Dana Schulz", "--reason", "neu")
    assert retried.exit_code == 0, retried.output
    assert "retry: " + ref in retried.stdout and "“Ein neuer Beitrag”" in retried.stdout
    again = real_run(mpi, "2024-03-06 10:06", "--once")
    assert "✓ done" in again.stdout
    assert real_run(mpi, "2024-03-06 10:07", "--once").stdout.count("done") == 0  # once, never twice
    code, data = _status(run, mpi, "2024-03-06 10:08")
    # What still needs a person is the fixture's past (missed 2023 jobs) and the newsletter the
    # new post joined (its sign-off went stale) — nothing about this job.
    assert [entry for entry in data["needs_a_person"] if entry["item"] == POST and entry["channel"] == "webhook"] == []
    assert ref in [row["ref"] for row in data["sent"]]
    history = [
        dict(row)
        for row in _ledger(mpi).execute("SELECT state, detail FROM history WHERE job LIKE 'einzeln/webhook/%'")
    ]
    assert [row["state"] for row in history] == ["sending", "failed", "retry", "sending", "done"]
    assert history[2]["detail"] == "Dana Schulz: neu"


def test_dismiss_keeps_a_job_from_going_out_and_the_calendar_says_so(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    job = next(j for j in _jobs(run, mpi) if j["channel"] == "webhook")
    dismissed = run(
        mpi, "--now", BEFORE, "dismiss", short_ref(job["job"]), "--reason", "Termin abgesagt", "--by", "Dana Schulz"
    )
    assert dismissed.exit_code == 0, dismissed.output
    assert "dismissed:" in dismissed.stdout
    sent = real_run(mpi, "2024-03-06 10:01", "--once")
    assert "webhook" not in sent.stdout.replace("outbox", "")
    assert httpserver.log == []
    calendar = run(mpi, "--now", "2024-03-06 10:02", "calendar", "--from", "2024-03-06", "--to", "2024-03-06")
    line = next(line for line in calendar.stdout.splitlines() if "webhook" in line and POST in line)
    assert "dismissed" in line
    _, data = _status(run, mpi, "2024-03-06 10:02")
    assert [row["note"] for row in data["dismissed"]] == ["Dana Schulz: Termin abgesagt"]
    # A dismissed job is not "missed" later, and retry takes it up again.
    assert run(mpi, "--now", "2024-03-06 10:03", "retry", short_ref(job["job"]), "--by", "Dana").exit_code == 0


def test_posted_by_hand_counts_as_done_and_is_never_sent(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    job = next(j for j in _jobs(run, mpi) if j["channel"] == "webhook")
    address = "https://chat.example.org/messages/4711"
    result = run(mpi, "--now", BEFORE, "posted", job["job"], "--url", address, "--by", "Dana Schulz")
    assert result.exit_code == 0, result.output
    real_run(mpi, "2024-03-06 10:01", "--once")
    assert httpserver.log == []
    _, data = _status(run, mpi, "2024-03-06 10:02")
    sent = [row for row in data["sent"] if row["channel"] == "webhook"]
    assert sent[0]["state"] == "posted" and sent[0]["url"] == address
    again = run(mpi, "--now", BEFORE, "posted", job["job"], "--by", "Dana Schulz")
    assert again.exit_code == 1 and "posted already" in again.output


def test_a_job_held_after_a_crash_is_resolved_by_posted(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    job = next(j for j in _jobs(run, mpi) if j["channel"] == "webhook")
    real_run(mpi, "2024-03-06 09:30", "--once")  # nothing due yet: creates the ledger
    db = _ledger(mpi)
    db.execute(
        "INSERT INTO jobs (id, channel, item, planned, state, attempts, updated) VALUES (?, 'webhook', ?, ?, "
        "'sending', 1, ?)",
        (job["job"], POST, "2024-03-06T10:00:00+01:00", "2024-03-06T10:00:05+01:00"),
    )
    db.commit()
    db.close()
    real_run(mpi, "2024-03-06 10:10", "--once")  # recovers: a webhook does not drop duplicates — held
    code, data = _status(run, mpi, "2024-03-06 10:11")
    held = [entry for entry in data["needs_a_person"] if entry["group"] == "interrupted"]
    assert code == 1 and len(held) == 1
    assert f"commsflow posted {held[0]['ref']}" in held[0]["command"]
    run(mpi, "--now", "2024-03-06 10:12", "posted", held[0]["ref"], "--by", "Dana Schulz")
    code, data = _status(run, mpi, "2024-03-06 10:13")
    assert [entry for entry in data["needs_a_person"] if entry["group"] == "interrupted"] == []
    assert httpserver.log == []


def test_retry_all_failed_jobs_of_a_channel(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("gone", status=410)
    real_run(mpi, "2024-03-06 10:01", "--once")
    result = run(mpi, "--now", "2024-03-06 10:05", "retry", "--channel", "webhook", "--failed", "--by", "Dana")
    assert result.exit_code == 0, result.output
    assert "1 job to be sent again" in result.stdout
    none_left = run(mpi, "--now", "2024-03-06 10:05", "retry", "--channel", "mastodon", "--failed", "--by", "Dana")
    assert none_left.exit_code == 1 and "no failed jobs on mastodon" in none_left.output


def test_what_an_action_cannot_mean_is_refused_with_what_fits(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    job = next(j for j in _jobs(run, mpi) if j["channel"] == "webhook")
    ref = short_ref(job["job"])
    planned = run(mpi, "--now", BEFORE, "retry", ref, "--by", "Dana")
    assert planned.exit_code == 1 and "has not failed (planned)" in planned.output and "dismiss" in planned.output
    unknown = run(mpi, "--now", BEFORE, "retry", "zzzzzzzz", "--by", "Dana")
    assert unknown.exit_code == 1 and "no job 'zzzzzzzz'" in unknown.output
    nobody = run(mpi, "--now", BEFORE, "dismiss", ref, "--reason", "x")
    monkeypatch.delenv("COMMSFLOW_USER", raising=False)
    assert nobody.exit_code in (0, 1)  # git's user.name may name someone on this machine
    no_reason = run(mpi, "--now", BEFORE, "dismiss", ref, "--reason", " ", "--by", "Dana")
    assert no_reason.exit_code == 2 and "--reason must say why" in no_reason.output


def test_an_ambiguous_prefix_lists_the_candidates():
    when = datetime(2024, 3, 6, 10, 0)
    jobs, seen = [], {}
    number = 0
    while len(jobs) < 2:  # two jobs whose short references share their first four characters
        job_id = f"kampagne/slot/beitrag-{number}@2024-03-06T10:00+01:00"
        prefix = short_ref(job_id)[:4]
        if prefix in seen:
            jobs = [seen[prefix], job_id]
        seen[prefix] = job_id
        number += 1
    found = [
        Job(job_id, "kampagne", "slot", "linkedin", "article", job_id.split("/")[2][:-23], when, "-") for job_id in jobs
    ]
    with pytest.raises(CommsflowError) as caught:
        find_job(short_ref(jobs[0])[:4], found, {})
    assert "fits 2 jobs" in caught.value.message and short_ref(jobs[1]) in caught.value.message
    assert find_job(short_ref(jobs[1]), found, {}).id == jobs[1]
    assert find_job(jobs[0], found, {}).id == jobs[0]


def _jobs(run, root: Path) -> list[dict]:
    built = run(root, "--now", BEFORE, "build")
    assert built.exit_code in (0, 1), built.output
    return json.loads((root / "build" / "jobs.json").read_text(encoding="utf-8"))


def test_with_people_listed_only_a_publisher_may_act_on_jobs(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[people]]\nname = "Dana Schulz"\nroles = ["author", "reviewer", "publisher"]\n'
        + '\n[[people]]\nname = "Kim Berger"\nroles = ["author"]\n',
        encoding="utf-8",
    )
    run(mpi, "--now", BEFORE, "approve", POST, "--by", "Dana Schulz")
    job = next(j for j in _jobs(run, mpi) if j["channel"] == "webhook")
    ref = short_ref(job["job"])
    refused = run(mpi, "--now", BEFORE, "dismiss", ref, "--reason", "abgesagt", "--by", "Kim Berger")
    assert refused.exit_code == 1
    assert "Kim Berger may not dismiss jobs: that needs the publisher role" in " ".join(refused.output.split())
    stranger = run(mpi, "--now", BEFORE, "dismiss", ref, "--reason", "abgesagt", "--by", "Jemand")
    assert stranger.exit_code == 1
    allowed = run(mpi, "--now", BEFORE, "dismiss", ref, "--reason", "abgesagt", "--by", "Dana Schulz")
    assert allowed.exit_code == 0, allowed.output


def test_a_rejected_item_is_listed_with_the_reason_and_what_to_do(run, mpi, monkeypatch, httpserver):
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))
    rejected = run(mpi, "--now", BEFORE, "reject", POST, "--reason", "Die Zahlen stimmen nicht", "--by", "Kim Berger")
    assert rejected.exit_code == 0, rejected.output
    code, data = _status(run, mpi, BEFORE)
    entries = [entry for entry in data["needs_a_person"] if entry["group"] == "rejected"]
    assert code == 1 and {"webhook", "mastodon"} <= {entry["channel"] for entry in entries}
    assert all("Die Zahlen stimmen nicht" in entry["reason"] for entry in entries)
    assert all(entry["command"].endswith(f"commsflow approve {POST}") for entry in entries)


def test_a_job_blocked_until_its_window_closed_is_recorded_missed_for_a_person(run, mpi, monkeypatch, httpserver):
    """Nothing is lost: a job nobody signed off in time does not wait unseen for ever."""
    _project(mpi, monkeypatch, httpserver.url_for("/hook"))  # not signed off: blocked
    late = real_run(mpi, "2024-03-06 17:00", "--once")  # past the 6-hour grace window
    assert "past job" in late.stdout and "missed" in late.stdout
    code, data = _status(run, mpi, "2024-03-06 17:01")
    missed = [entry for entry in data["needs_a_person"] if entry["group"] == "missed" and entry["item"] == POST]
    assert code == 1 and {entry["channel"] for entry in missed} >= {"webhook", "mastodon"}
    assert all("(blocked: not signed off" in entry["reason"] for entry in missed)
    assert httpserver.log == []

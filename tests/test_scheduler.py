"""The publishing calendar and the scheduler: jobs from campaigns, exactly-once
publishing with a real SQLite ledger, retries, catch-up, time zones, a second
scheduler refused, and real processes killed mid-run."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import icalendar
import pytest
from conftest import real_run

from commsflow.commands.run import REAL_RUN_AT_PINNED_CLOCK
from commsflow.config import load_config
from commsflow.ledger import exclusive

NOW = "2024-03-01 10:00"

# The MPI 2024 plan as it goes out (simulated year, outbox publisher).
SHIPPED_SEQUENCE = [
    ("30.01.2024 10:00", "linkedin", "article", "2024-01-24-amber-3d-druck-hauptstadt-europas"),
    ("05.03.2024 10:00", "linkedin", "article", "2024-03-01-zweiter-monitoring-bericht"),
    # Sent as the funding-call post the team previewed and signed off, not as an article.
    ("12.03.2024 10:00", "linkedin", "funding-call", "2024-03-06-foerdercall-circular-economy-zweite-stufe"),
    ("14.03.2024 10:00", "linkedin", "save-the-date", "mpi-meet-up-2024"),
    ("19.03.2024 10:00", "linkedin", "article", "2024-03-12-mpi-veranstaltungen-2024"),
    ("26.03.2024 10:00", "linkedin", "article", "2024-03-20-mpi-projekte-internationalisierung-standortmarketing"),
    ("28.03.2024 09:30", "press", "invitation", "mpi-meet-up-2024"),
    ("02.04.2024 10:00", "linkedin", "article", "2024-03-27-gesichter-des-mpi-koimo-modell-campus-ringberlin"),
    ("04.04.2024 10:00", "newsletter", "newsletter", "newsletter-2024-1"),
    ("18.04.2024 10:00", "linkedin", "reminder", "mpi-meet-up-2024"),
    ("26.04.2024 10:00", "press", "recap", "mpi-meet-up-2024"),
    ("26.04.2024 14:00", "linkedin", "recap", "mpi-meet-up-2024"),
]


SIMULATION = Path(".commsflow") / "simulation"


def sent_log(root: Path) -> list[str]:
    path = root / ".commsflow" / "outbox" / "sent.log"
    return [line.split("\t")[1] for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def simulated_log(root: Path) -> list[str]:
    path = root / SIMULATION / "outbox" / "sent.log"
    return [line.split("\t")[1] for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def ledger_rows(root: Path) -> dict[str, dict]:
    db = sqlite3.connect((root / ".commsflow" / "ledger.sqlite").as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    rows = {row["id"]: dict(row) for row in db.execute("SELECT * FROM jobs")}
    db.close()
    return rows


def outcome_lines(output: str) -> list[tuple[str, str, str, str]]:
    found = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[3] == "done":
            found.append((f"{parts[0]} {parts[1]}", parts[4], parts[5], parts[6]))
    return found


def write_campaign(root: Path, name: str, text: str) -> None:
    (root / "campaigns" / f"{name}.yaml").write_text(text, encoding="utf-8")


def set_publishing(root: Path, text: str) -> None:
    """Settings under [publishing]; a key the shipped file sets already is replaced."""
    config = root / "commsflow.toml"
    source = config.read_text(encoding="utf-8")
    for line in text.splitlines():
        source = re.sub(rf"(?m)^{re.escape(line.split('=')[0].strip())}\s*=.*\n", "", source)
    config.write_text(source.replace("[publishing]\n", f"[publishing]\n{text}\n"), encoding="utf-8")


def one_off(root: Path, slug: str, when: str, channels: str, status: str = "approved") -> None:
    (root / "content" / "posts" / f"{slug}.md").write_text(
        f"""\
---
title: Ein Beitrag für {slug}
status: {status}
category: Aktuelles
date: 2024-02-01
summary: Eine Zusammenfassung.
publish_at: {when}
channels: {channels}
---

Text.
""",
        encoding="utf-8",
    )


# --- the calendar ------------------------------------------------------------------------------


def test_calendar_of_the_shipped_plan(run, mpi):
    result = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line[:2] in ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")]
    assert len(lines) == 11
    assert lines[0].startswith("Di 05.03.2024 10:00  linkedin")
    assert "newsletter" in lines[7] and "planned" in lines[7]
    assert "11 jobs, 0 conflicts" in result.stdout
    blocked = run(mpi, "--now", NOW, "calendar", "--from", "2024-05-01", "--channel", "linkedin")
    assert blocked.stdout.count("blocked") == 3  # the Deep Dive is still in review


def test_calendar_conflicts(run, mpi):
    write_campaign(
        mpi,
        "dicht",
        """\
kind: event
event: mpi-meet-up-2024
steps:
  - {name: eins, at: -2 days, time: "10:00", channel: linkedin, template: reminder}
  - {name: zwei, at: -2 days, time: "11:00", channel: linkedin, template: reminder}
  - {name: samstag, at: -5 days, time: "10:00", channel: mastodon, template: reminder}
  - {name: feiertag, at: +6 days, time: "10:00", channel: mastodon, template: recap}
""",
    )
    one_off(mpi, "2024-03-02-noch-entwurf", "2024-03-03 10:00", "[linkedin]", status="draft")
    result = run(mpi, "--now", NOW, "calendar", "--to", "2024-05-31")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "1 h after mpi-meet-up-2024 on linkedin" in text
    assert "on a weekend" in text  # Saturday 20 April 2024
    assert "on a public holiday in DE-BE (Erster Mai)" in text  # 1 May 2024
    assert "item not approved yet, due in 2 days" in text


def test_calendar_exports_ics_for_outlook(run, mpi, tmp_path):
    target = tmp_path / "plan.ics"
    result = run(mpi, "--lang", "de", "--now", NOW, "calendar", "--from", "2024-03-01", "--ics", str(target))
    assert result.exit_code == 0, result.output
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert len(events) == 14
    first = events[0]
    assert str(first["SUMMARY"]) == (
        "LinkedIn: Beitrag – 2. Monitoring-Bericht: 42 Projekte im Masterplan Industriestadt Berlin"
    )
    assert first.decoded("DTSTART").isoformat() == "2024-03-05T10:00:00+01:00"


def test_unknown_event_in_a_campaign_is_reported_by_check(run, mpi):
    write_campaign(
        mpi,
        "falsch",
        "kind: event\nevent: mpi-meetup-2024\nsteps:\n"
        "  - {name: a, at: -1 week, channel: linkedin, template: reminder}\n",
    )
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        "campaigns/falsch.yaml:2: event: no event 'mpi-meetup-2024' — did you mean 'mpi-meet-up-2024'?" in result.stdout
    )


def test_offsets_and_durations_may_be_written_in_german(run, mpi):
    """„-6 Wochen“ plans what '-6 weeks' plans, „6 Stunden“ waits what '6 hours' waits."""
    english = "kind: event\nevent: mpi-meet-up-2024\nsteps:\n  - {name: a, at: -6 weeks, channel: linkedin, template: reminder}\n"
    write_campaign(mpi, "schritte", english)
    planned_english = run(mpi, "--now", "2024-03-01 10:00", "calendar").stdout
    assert "reminder" in planned_english
    write_campaign(mpi, "schritte", english.replace("-6 weeks", "-6 Wochen"))
    config = mpi / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[publishing]", '[publishing]\ngrace = "6 Stunden"'))
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar")
    assert result.exit_code == 0, result.output
    assert result.stdout == planned_english
    assert run(mpi, "check").exit_code == 0


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "  - {name: a, at: -6 monate, channel: linkedin, template: reminder}",
            "steps[0].at: '-6 monate' is not an offset — write e.g. '-6 weeks', '-1 week' or '+1 day'",
        ),
        (
            "  - {name: a, at: -1 week, channel: linkedin, template: einladung}",
            "steps[0]: linkedin has no template 'einladung' — use one of",
        ),
        (
            "  - {name: a, at: -1 week, channel: press, template: invitaton}",
            "steps[0]: press has no template 'invitaton' — did you mean 'invitation'?",
        ),
        (
            "  - {name: a, at: -1 week, time: '25:00', channel: linkedin, template: reminder}",
            "steps[0].time: '25:00' is not a time of day",
        ),
    ],
)
def test_bad_event_campaign_steps(run, mpi, text, message):
    write_campaign(mpi, "schritte", f"kind: event\nevent: mpi-meet-up-2024\nsteps:\n{text}\n")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert f"campaigns/schritte.yaml:4: {message}" in result.stdout


# --- the scheduler -----------------------------------------------------------------------------


def test_simulated_year_of_the_shipped_plan(run, mpi):
    result = run(mpi, "run", "--simulate", "2024-01-01..2024-12-31")
    assert result.exit_code == 0, result.output
    assert outcome_lines(result.stdout) == SHIPPED_SEQUENCE
    assert result.stdout.count(" blocked ") == 3
    assert "15 jobs handled: 3 blocked, 12 done" in result.stdout
    assert "Simulated in .commsflow/simulation/" in result.stdout
    assert len(simulated_log(mpi)) == 12
    outbox = mpi / SIMULATION / "outbox"
    invitation = next((outbox / "press").glob("mpi-meet-up-2024-presseeinladung-*"))
    assert {p.name for p in invitation.iterdir()} >= {"release.docx", "release.md", "payload.json", "text.txt"}
    newsletter = next((outbox / "newsletter").iterdir())
    assert (newsletter / "message.eml").read_bytes().startswith(b"From: Masterplan Industriestadt Berlin")
    # Nothing real was sent or recorded: a real run afterwards still has everything to do.
    assert sent_log(mpi) == [] and not (mpi / ".commsflow" / "ledger.sqlite").exists()
    again = run(mpi, "run", "--simulate", "2024-01-01..2024-12-31")
    assert outcome_lines(again.stdout) == SHIPPED_SEQUENCE  # a fresh simulation, the same year
    assert len(simulated_log(mpi)) == 12


def _state_bytes(root: Path) -> dict[str, bytes]:
    state = root / ".commsflow"
    return {
        str(path.relative_to(state)): path.read_bytes()
        for path in sorted(state.rglob("*"))
        # -shm is SQLite's shared-memory index, rewritten by any reader, and an empty -wal is the same
        # as none (the last connection removes it); the ledger itself is the .sqlite and a non-empty -wal.
        if path.is_file()
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
        and SIMULATION.name not in path.relative_to(state).parts
        and path.parent.name != "cache"
        and not path.name.endswith("-shm")
    }


def test_simulation_and_dry_run_leave_the_real_ledger_and_outbox_as_they_were(run, mpi):
    sent = real_run(mpi, "2024-03-05 10:05", "--once")
    assert "✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht" in sent.stdout
    before = _state_bytes(mpi)
    assert "ledger.sqlite" in before and any(name.startswith("outbox/") for name in before)
    calendar_before = run(mpi, "--now", "2024-03-05 10:05", "calendar").stdout
    assert run(mpi, "run", "--simulate", "2024-01-01..2024-12-31").exit_code == 0
    run(mpi, "--now", "2024-04-04 10:05", "run", "--once", "--dry-run")
    assert _state_bytes(mpi) == before  # byte for byte
    assert run(mpi, "--now", "2024-03-05 10:05", "calendar").stdout == calendar_before
    # The real scheduler still has the rest of the year to do.
    later = real_run(mpi, "2024-03-12 10:05", "--once")
    assert "✓ done    linkedin funding-call 2024-03-06-foerdercall-circular-economy-zweite-stufe" in later.stdout


def test_run_once_publishes_due_jobs_and_reports_missed_ones(run, mpi):
    # 5 March 10:05: the slot post of 10:00 is due; November's newsletter is long past the grace window.
    result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert result.exit_code == 1, result.output  # something was missed
    assert "✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht" in result.stdout
    # Past missed jobs: one line, not one each (issue 13).
    assert "missed  newsletter" not in result.stdout
    assert "✗ 2 past jobs missed (due 08.11.2023 to " in result.stdout
    assert "commsflow status lists them: retry or dismiss each" in result.stdout
    rows = ledger_rows(mpi)
    states = Counter(row["state"] for row in rows.values())
    assert states == {"done": 1, "missed": 2}
    again = real_run(mpi, "2024-03-05 10:35", "--once")
    assert again.exit_code == 0, again.output
    assert "nothing due" in again.stdout
    assert len(sent_log(mpi)) == 1
    status = run(mpi, "--now", "2024-03-05 10:40", "status")
    assert status.exit_code == 1  # missed jobs need a person
    assert "Needs a person" in status.stdout and "„MPI-Newsletter 2/2023“" in status.stdout
    assert "commsflow retry" in status.stdout and "commsflow dismiss" in status.stdout
    assert "1 sent, 0 retrying, 0 dismissed, 2 need a person" in status.stdout


def test_dry_run_publishes_and_records_nothing(run, mpi):
    result = run(mpi, "--now", "2024-03-05 10:05", "run", "--once", "--dry-run")
    assert "skipped linkedin article 2024-03-01-zweiter-monitoring-bericht — would publish via outbox" in result.stdout
    assert sent_log(mpi) == []
    assert not (mpi / ".commsflow" / "ledger.sqlite").exists()  # the dry run's ledger is a throwaway copy


def test_a_second_scheduler_on_the_same_ledger_is_refused(run, mpi):
    config = load_config(mpi)
    with exclusive(config.path("state")):
        result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert result.exit_code == 1
    assert f"another scheduler is running on this ledger (pid {os.getpid()})" in result.stderr
    assert sent_log(mpi) == []


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2024-03-31", "2024-03-31T03:30:00+02:00"),  # 02:30 does not exist: clocks jump 02:00 → 03:00
        ("2024-10-27", "2024-10-27T02:30:00+02:00"),  # 02:30 happens twice: the first one
    ],
)
def test_a_job_in_the_dst_change_night_runs_exactly_once(run, mpi, day, expected):
    for path in (mpi / "campaigns").glob("*.yaml"):
        path.unlink()
    set_publishing(mpi, "require_signoff = false")  # the slot picks a post the shipped plan has not signed off
    write_campaign(
        mpi,
        "nachts",
        f"""\
kind: slot
every: sunday
time: "02:30"
start: {day}
end: {day}
channel: linkedin
type: post
""",
    )
    result = run(mpi, "run", "--simulate", f"{day[:8]}01..{day}")
    assert result.exit_code == 0, result.output
    log = (mpi / SIMULATION / "outbox" / "sent.log").read_text().splitlines()
    assert len(log) == 1
    assert log[0].split("\t")[0] == expected


# --- failures: retried when transient, held when permanent -----------------------------------


@pytest.fixture
def webhook_project(mpi, monkeypatch, httpserver):
    for path in (mpi / "campaigns").glob("*.yaml"):
        path.unlink()
    set_publishing(mpi, 'webhook = "webhook"\nretries = 3\nrequire_signoff = false')  # one-offs made up here
    one_off(mpi, "2024-03-04-hinweis", "2024-03-05 10:00", "[webhook]")
    monkeypatch.setenv("COMMSFLOW_WEBHOOK_URL", httpserver.url_for("/hooks/geheim-123"))
    return mpi


def test_transient_failures_are_retried_with_backoff(run, webhook_project, httpserver):
    root = webhook_project
    httpserver.expect_ordered_request("/hooks/geheim-123", method="POST").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/hooks/geheim-123", method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    httpserver.expect_ordered_request("/hooks/geheim-123", method="POST").respond_with_json({"ok": True})
    first = real_run(root, "2024-03-05 10:00", "--once")
    assert "✗ failed  webhook article 2024-03-04-hinweis" in first.stdout and "next at 10:01" in first.stdout
    assert "geheim-123" not in first.output
    early = real_run(root, "2024-03-05 10:00", "--once")
    assert "nothing due" in early.stdout  # the backoff has not passed
    second = real_run(root, "2024-03-05 10:01", "--once")
    assert "next at 10:03" in second.stdout  # Retry-After: 120 s
    third = real_run(root, "2024-03-05 10:03", "--once")
    assert "✓ done    webhook article 2024-03-04-hinweis" in third.stdout
    row = ledger_rows(root)["einzeln/webhook/2024-03-04-hinweis@2024-03-05T10:00+01:00"]
    assert row["state"] == "done" and row["attempts"] == 3
    assert len(httpserver.log) == 3


def test_permanent_failures_are_not_retried_and_shown_in_status(run, webhook_project, httpserver):
    root = webhook_project
    httpserver.expect_request("/hooks/geheim-123", method="POST").respond_with_data("no", status=401)
    first = real_run(root, "2024-03-05 10:00", "--once")
    assert first.exit_code == 1
    assert "✗ failed  webhook article 2024-03-04-hinweis" in first.stdout
    real_run(root, "2024-03-05 11:00", "--once")
    assert len(httpserver.log) == 1
    status = run(root, "status")
    assert status.exit_code == 1
    assert "Needs a person" in status.stdout and "2024-03-04-hinweis" in status.stdout
    assert "geheim-123" not in status.output


def test_a_job_interrupted_while_sending(run, webhook_project, httpserver):
    """Found 'sending' after a crash: the outbox drops duplicates, so it is sent again;
    a webhook cannot, so a person checks it."""
    root = webhook_project
    one_off(root, "2024-03-04-outbox", "2024-03-05 10:00", "[linkedin]")
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite") if (root / ".commsflow").exists() else None
    assert db is None
    real_run(root, "2024-03-05 09:00", "--once")  # creates the ledger, nothing due
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    for job, channel, item in (
        ("einzeln/webhook/2024-03-04-hinweis@2024-03-05T10:00+01:00", "webhook", "2024-03-04-hinweis"),
        ("einzeln/linkedin/2024-03-04-outbox@2024-03-05T10:00+01:00", "linkedin", "2024-03-04-outbox"),
    ):
        db.execute(
            "INSERT INTO jobs (id, channel, item, planned, state, attempts, updated) VALUES "
            "(?, ?, ?, '2024-03-05T10:00:00+01:00', 'sending', 1, '2024-03-05T10:00:00+01:00')",
            (job, channel, item),
        )
    db.commit()
    db.close()
    result = real_run(root, "2024-03-05 10:02", "--once")
    assert "✓ done    linkedin article 2024-03-04-outbox" in result.stdout
    assert len(httpserver.log) == 0
    rows = ledger_rows(root)
    webhook = rows["einzeln/webhook/2024-03-04-hinweis@2024-03-05T10:00+01:00"]
    assert webhook["state"] == "failed" and webhook["permanent"] == 1
    assert "check on webhook whether it went out" in webhook["note"]


# --- a real process killed at random moments --------------------------------------------------


def test_killed_scheduler_never_sends_twice(mpi):
    """SIGKILL a real `commsflow run --once` catching up the whole year at random moments,
    restart it, and in the end every due job is done (or blocked) and nothing went out twice."""
    config = mpi / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[publishing]", '[publishing]\ngrace = "52 weeks"'))
    assert 'grace = "52 weeks"' in config.read_text(encoding="utf-8")
    # A real run at a pinned clock, through the hook only a caller in Python can set (a person's
    # `commsflow --now … run` is refused): the real CLI in a real process all the same.
    hook = f"from commsflow.cli import main; main(obj={{{REAL_RUN_AT_PINNED_CLOCK!r}: True}})"
    command = [sys.executable, "-c", hook, "--root", str(mpi), "--now", "2024-12-31 23:00", "run", "--once"]
    rng = random.Random(20240425)
    for _ in range(8):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4, 1.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
    final = subprocess.run(command, capture_output=True, text=True, timeout=120)
    sent = sent_log(mpi)
    assert len(sent) == len(set(sent)) == 12, (Counter(sent).most_common(3), final.stdout, final.stderr)
    rows = ledger_rows(mpi)
    # November 2023's issue is older than the grace window: missed, and reported (exit 1).
    assert Counter(row["state"] for row in rows.values()) == {"done": 12, "missed": 1}
    assert final.returncode in (0, 1) and "Traceback" not in final.stderr, final.stderr  # 1: it reported the miss


def test_the_real_ledger_syncs_every_commit_and_a_simulations_does_not(mpi):
    """A power cut must not lose a committed "sending"; a simulation's ledger is thrown away."""
    from commsflow.scheduler import Scheduler, throwaway_state

    config = load_config(mpi)
    real = Scheduler(config, lambda now: None)
    simulated = Scheduler(config, lambda now: None, state=throwaway_state(config))
    try:
        assert real.ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert simulated.ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
        assert simulated.ledger.path.parent == mpi / ".commsflow" / "simulation"
    finally:
        real.close()
        simulated.close()


def test_a_file_saved_while_the_plan_is_read_makes_the_next_tick_plan_again(mpi):
    """The scheduler notes the files' state before it reads them: a file added during the read
    is not mistaken for part of the plan (it would go unseen until the periodic replan)."""
    from commsflow.plan import open_plan
    from commsflow.scheduler import Scheduler
    from commsflow.workspace import Workspace

    new_post = mpi / "content" / "posts" / "2024-03-02-neu.md"

    def load(now):
        plan = open_plan(Workspace(mpi, now_text="2024-03-01 10:00"), ledger=False)
        # An editor adds a post meanwhile (an edit of an existing file is caught right before
        # sending, by the digests of the job's files).
        new_post.write_text("---\ntitle: Neu\nstatus: draft\ncategory: Aktuelles\ndate: 2024-03-02\n---\n", "utf-8")
        return plan

    scheduler = Scheduler(load_config(mpi), load)
    try:
        scheduler.plan(datetime.fromisoformat("2024-03-01T10:00:00+01:00"))
        assert scheduler._files_signature() != scheduler._signature
    finally:
        scheduler.close()

"""A lost ledger is not a new one: an empty (0-byte) or missing ledger next to evidence of
earlier runs — outbox receipts, the scheduler's lock file, the ledger marker
`.commsflow/ledger.id` — stops a real `commsflow run` with one clear message, and so does a
ledger whose id is not this folder's; `run --new-ledger` confirms a fresh start once.
Simulations and dry runs are not affected and write nothing in the real state folder."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from test_scheduler import real_run, sent_log

from commsflow.config import load_config
from commsflow.scheduler import Scheduler

FIRST = "2024-03-05 10:05"  # the slot's post of 10:00 is due (and two old jobs are missed)
LATER = "2024-03-12 10:05"  # the Fördercall post of 12 March is due
SENT_FIRST = "✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht"
SENT_LATER = "✓ done    linkedin funding-call 2024-03-06-foerdercall-circular-economy-zweite-stufe"


def state(root: Path) -> Path:
    return root / ".commsflow"


def ledger_id(root: Path) -> str | None:
    db = sqlite3.connect(state(root) / "ledger.sqlite")
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def marker(root: Path) -> str | None:
    path = state(root) / "ledger.id"
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def lose_ledger(root: Path, how: str) -> None:
    """What the report did (`: > .commsflow/ledger.sqlite`, its -wal and -shm removed), or a deletion."""
    ledger = state(root) / "ledger.sqlite"
    for suffix in ("-wal", "-shm"):
        ledger.with_name(ledger.name + suffix).unlink(missing_ok=True)
    if how == "emptied":
        ledger.write_bytes(b"")
    else:
        ledger.unlink()


@pytest.fixture
def published(mpi) -> Path:
    """The MPI project after a real run that published one job into the outbox."""
    first = real_run(mpi, FIRST, "--once")
    assert SENT_FIRST in first.stdout, first.output
    return mpi


def test_the_first_real_run_gives_the_ledger_an_id_and_the_folder_remembers_it(published):
    assert ledger_id(published) is not None and len(ledger_id(published)) == 32
    assert marker(published) == ledger_id(published)


@pytest.mark.parametrize("how, said", [("emptied", "is empty (0 bytes)"), ("deleted", "is missing")])
def test_a_lost_ledger_stops_the_scheduler(run, published, how, said):
    root = published
    lose_ledger(root, how)
    result = real_run(root, LATER, "--once")
    assert result.exit_code == 1
    error = " ".join(result.stderr.split())
    ledger = state(root) / "ledger.sqlite"
    assert (
        f"error: {ledger}: the ledger {said}, but a scheduler ran in this folder before (found: ledger.id, "
        "outbox/sent.log, 1 job folder in outbox/, scheduler.lock); the scheduler stops so that nothing is sent twice"
    ) in error
    assert (
        f"hint: restore {ledger} from a backup; if you are sure nothing was sent from this folder before, "
        "run `commsflow run --new-ledger` once"
    ) in error
    assert "Traceback" not in result.output and "done" not in result.stdout
    assert len(sent_log(root)) == 1  # nothing sent again
    if how == "emptied":
        assert ledger.stat().st_size == 0  # as it was: nothing created in it
    else:
        assert not ledger.exists()
    # status does not call it "nothing published yet"
    status = run(root, "status")
    assert status.exit_code == 1 and "a scheduler ran in this folder before" in " ".join(status.stderr.split())


@pytest.mark.parametrize("evidence", ["sent.log", "job folders", "lock file", "marker"])
def test_each_sign_of_an_earlier_run_is_enough(published, evidence):
    root = published
    lose_ledger(root, "deleted")
    outbox = state(root) / "outbox"
    if evidence != "sent.log":
        (outbox / "sent.log").unlink()
    if evidence != "job folders":
        for folder in [path for path in outbox.iterdir() if path.is_dir()]:
            shutil.rmtree(folder)
    if evidence != "lock file":
        (state(root) / "scheduler.lock").unlink()
    if evidence != "marker":
        (state(root) / "ledger.id").unlink()
    result = real_run(root, LATER, "--once")
    assert result.exit_code == 1 and "a scheduler ran in this folder before" in " ".join(result.stderr.split())
    assert not (state(root) / "ledger.sqlite").exists()  # refused before the ledger is created


def test_new_ledger_confirms_a_fresh_start_once(run, published):
    root = published
    old = ledger_id(root)
    lose_ledger(root, "emptied")
    assert real_run(root, LATER, "--once").exit_code == 1
    fresh = real_run(root, LATER, "--once", "--new-ledger")
    assert SENT_LATER in fresh.stdout, fresh.output
    assert ledger_id(root) not in (None, old) and marker(root) == ledger_id(root)
    # the outbox drops what it has (the job of 5 March is long past the grace window anyway)
    assert len(sent_log(root)) == 2
    # Once confirmed, the flag has nothing more to confirm: it cannot stay in a cron line unnoticed.
    again = real_run(root, LATER, "--once", "--new-ledger")
    assert again.exit_code == 1
    assert "--new-ledger: " in again.stderr and "there is no fresh start to confirm" in again.stderr
    assert "hint: run without --new-ledger" in again.stderr
    assert real_run(root, LATER, "--once").exit_code == 0  # and the plain run goes on


def test_a_backup_of_this_folders_ledger_may_be_restored(run, published, tmp_path):
    root = published
    backup = tmp_path / "ledger-backup.sqlite"
    shutil.copy(state(root) / "ledger.sqlite", backup)  # no -wal: the scheduler closed the ledger
    assert SENT_LATER in real_run(root, LATER, "--once").stdout
    lose_ledger(root, "emptied")
    shutil.copy(backup, state(root) / "ledger.sqlite")
    restored = real_run(root, LATER, "--once")
    assert restored.exit_code == 0, restored.output  # the same id: this folder's ledger, a little older
    assert "already in the outbox" in restored.stdout  # the outbox still knows the later job


def test_another_folders_ledger_is_refused(run, published, tmp_path):
    root = published
    other = tmp_path / "other"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns(".commsflow"))
    assert real_run(other, FIRST, "--once").exit_code == 1  # (the missed jobs)
    assert ledger_id(other) != ledger_id(root)
    expected = marker(root)
    shutil.copy(state(other) / "ledger.sqlite", state(root) / "ledger.sqlite")
    result = real_run(root, LATER, "--once")
    assert result.exit_code == 1
    error = " ".join(result.stderr.split())
    assert f"this is not the ledger this folder used: it has the id {ledger_id(other)}" in error
    assert f"says {expected}" in error and f"a backup of it has the id {expected}" in error
    assert "done" not in result.stdout
    assert run(root, "status").exit_code == 1
    # The team is sure it is the right one: --new-ledger makes it this folder's ledger.
    adopted = real_run(root, LATER, "--once", "--new-ledger")
    assert adopted.exit_code == 0, adopted.output
    assert marker(root) == ledger_id(other) == ledger_id(root)


def test_a_ledger_from_before_ids_is_taken_on(run, published):
    """A ledger written by an earlier commsflow has jobs but no id, and there is no marker yet."""
    root = published
    db = sqlite3.connect(state(root) / "ledger.sqlite")
    db.execute("DROP TABLE meta")
    db.commit()
    db.close()
    (state(root) / "ledger.id").unlink()
    result = real_run(root, LATER, "--once")
    assert SENT_LATER in result.stdout, result.output
    assert ledger_id(root) is not None and marker(root) == ledger_id(root)


def test_simulations_and_dry_runs_are_not_stopped_and_write_no_marker(run, mpi):
    assert run(mpi, "run", "--simulate", "2024-03-01..2024-03-31").exit_code == 0
    assert run(mpi, "--now", FIRST, "run", "--once", "--dry-run").exit_code == 1  # the missed jobs
    assert not (state(mpi) / "ledger.id").exists() and not (state(mpi) / "ledger.sqlite").exists()
    assert not (state(mpi) / "simulation" / "ledger.id").exists()
    # With a lost ledger, they still run (on their throwaway copy) and leave the real folder as it was.
    assert SENT_FIRST in real_run(mpi, FIRST, "--once").stdout
    lose_ledger(mpi, "emptied")
    before = marker(mpi)
    simulated = run(mpi, "run", "--simulate", "2024-03-01..2024-03-31")
    assert simulated.exit_code == 0, simulated.output
    assert "a scheduler ran in this folder before" not in simulated.output
    dry = run(mpi, "--now", LATER, "run", "--once", "--dry-run")
    assert "would publish via outbox" in dry.stdout and "ran in this folder before" not in dry.output
    assert marker(mpi) == before and (state(mpi) / "ledger.sqlite").stat().st_size == 0


def test_new_ledger_is_for_a_real_run(run, mpi):
    for args in (["--dry-run", "--once"], ["--simulate", "2024-03-01..2024-03-31"]):
        result = run(mpi, "--now", FIRST, "run", *args, "--new-ledger")
        assert result.exit_code == 2
        assert "--new-ledger confirms a fresh start of the real ledger" in result.stderr


def test_a_scheduler_made_in_python_checks_the_ledger_too(published):
    """The check is the Scheduler's, not only the command's."""
    from commsflow.errors import CommsflowError

    lose_ledger(published, "deleted")
    config = load_config(published)
    with pytest.raises(CommsflowError, match="a scheduler ran in this folder before"):
        Scheduler(config, lambda now: None)
    assert not (state(published) / "ledger.sqlite").exists()

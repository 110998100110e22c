"""A pinned clock (`--now`, COMMSFLOW_NOW) is for looking, not for publishing: a real
`commsflow run` with it refuses to start (it would send, or record as missed, by a made-up
time); a dry run and a simulation may pin it. Tests of real runs at a given moment use the
hook only a caller in Python can set (tests/test_scheduler.py: real_run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scheduler import real_run, sent_log

STATE = Path(".commsflow")


def untouched(root: Path) -> bool:
    """Nothing real was written: no ledger, no marker, no outbox, no lock."""
    state = root / STATE
    return not any((state / name).exists() for name in ("ledger.sqlite", "ledger.id", "outbox", "scheduler.lock"))


@pytest.mark.parametrize("args", [["run", "--once"], ["run"]], ids=["once", "long-running"])
def test_a_real_run_with_now_is_refused(run, mpi, args):
    result = run(mpi, "--now", "2024-03-05 10:05", *args)
    assert result.exit_code == 1, result.output
    error = result.stderr
    assert "error: the clock is pinned to '2024-03-05 10:05' (--now); a real run publishes by the real clock" in error
    assert "hint: leave out --now to publish what is due now; to see what would go out at that moment, add" in error
    assert "Traceback" not in result.output and result.stdout == ""
    assert untouched(mpi)


def test_a_real_run_with_commsflow_now_in_the_environment_is_refused(run, mpi, monkeypatch):
    """The dangerous case: a variable left over from a demo in the shell that starts the scheduler."""
    monkeypatch.setenv("COMMSFLOW_NOW", "2024-12-31 23:00")
    result = run(mpi, "run", "--once")
    assert result.exit_code == 1
    assert "the clock is pinned to '2024-12-31 23:00' (COMMSFLOW_NOW)" in result.stderr
    assert "hint: unset COMMSFLOW_NOW to publish what is due now" in result.stderr
    assert untouched(mpi) and sent_log(mpi) == []


def test_a_dry_run_and_a_simulation_may_pin_the_clock(run, mpi, monkeypatch):
    dry = run(mpi, "--now", "2024-03-05 10:05", "run", "--once", "--dry-run")
    assert "skipped linkedin article 2024-03-01-zweiter-monitoring-bericht — would publish via outbox" in dry.stdout
    assert "pinned" not in dry.output
    monkeypatch.setenv("COMMSFLOW_NOW", "2024-03-05 10:05")
    simulated = run(mpi, "run", "--simulate", "2024-03-01..2024-03-31")
    assert simulated.exit_code == 0, simulated.output
    assert "✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht" in simulated.stdout
    assert untouched(mpi)


def test_a_test_runs_the_real_scheduler_at_a_moment_through_the_hook(run, mpi):
    """What test_scheduler.py's real_run does: the same command line, with the hook in the click
    context object (which no option or environment variable reaches), publishes for real."""
    assert run(mpi, "--now", "2024-03-05 10:05", "run", "--once").exit_code == 1
    sent = real_run(mpi, "2024-03-05 10:05", "--once")
    assert "✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht" in sent.stdout
    assert len(sent_log(mpi)) == 1 and (mpi / STATE / "ledger.sqlite").is_file()

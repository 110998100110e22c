from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsflow.cli import main
from commsflow.commands.run import REAL_RUN_AT_PINNED_CLOCK

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """The tests read commsflow's messages as written in the code (English); German is the
    users' default, and tests/test_i18n.py checks it. Commands started as processes
    inherit the choice through COMMSFLOW_LANG."""
    from commsflow import i18n

    monkeypatch.setenv("COMMSFLOW_LANG", "en")
    monkeypatch.setenv("LANGUAGE", "en")  # i18n.use sets it (for click's words): restored after the test
    i18n.use("en")
    yield
    i18n.use("en")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small valid project (configuration + a few real items) in a temporary folder."""
    target = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture
def run(monkeypatch):
    """Run the real CLI entry point; returns click's Result (exit_code, stdout, stderr)."""
    monkeypatch.delenv("COMMSFLOW_NOW", raising=False)
    monkeypatch.delenv("COMMSFLOW_ROOT", raising=False)

    def invoke(root: Path, *args: str):
        runner = CliRunner()
        return runner.invoke(main, ["--root", str(root), *args], catch_exceptions=False)

    return invoke


# The MPI 2024 plan as a fixture: a snapshot of the shipped configuration, content,
# campaigns and sign-offs, so that the team's own posts and campaigns in content/ and
# campaigns/ never break a test. Templates are the real ones: they are the product.
# (tests/test_shipped_content.py alone checks the shipped content itself.)
MPI_2024 = FIXTURES / "mpi2024"


@pytest.fixture
def mpi(tmp_path: Path) -> Path:
    """A copy of the MPI 2024 project (tests/fixtures/mpi2024) with the real templates."""
    target = tmp_path / "mpi"
    shutil.copytree(MPI_2024, target)
    shutil.copytree(REPO / "templates", target / "templates")
    return target


def real_run(root: Path, now: str, *args: str):
    """A real `commsflow run` (its real ledger and outbox) at the moment ``now``: what a person
    cannot do (a pinned clock stops a real run) and a test does through the hook that
    commsflow.commands.run keeps for it."""
    return CliRunner().invoke(
        main,
        ["--root", str(root), "--now", now, "run", *args],
        obj={REAL_RUN_AT_PINNED_CLOCK: True},
        env={"COMMSFLOW_NOW": None, "COMMSFLOW_ROOT": None},
        catch_exceptions=False,
    )


def scheduler_pass(root: Path, when: str) -> list:
    """One pass of a scheduler planned at ``when``, everything to the outbox: its outcomes."""
    from commsflow.commands.run import _loader
    from commsflow.scheduler import Scheduler
    from commsflow.workspace import Workspace

    workspace = Workspace(root, now_text=when)
    outcomes = []
    scheduler = Scheduler(
        workspace.config, _loader(workspace), outbox_only=True, report=outcomes.append, clock=lambda: workspace.now
    )
    try:
        scheduler.plan(workspace.now)
        scheduler.run_pass(workspace.now)
    finally:
        scheduler.close()
    return outcomes


def assumed_end(line: str) -> bool:
    """The fixture's MPI Meet-up has a start and no end (as the seeds give it): `check` says which
    end its calendar file assumes. Tests about other findings leave that line out."""
    return line.startswith("warning content/events/mpi-meet-up-2024.md:") and "default_duration" in line

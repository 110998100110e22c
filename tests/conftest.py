from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsflow.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


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


@pytest.fixture
def mpi(tmp_path: Path) -> Path:
    """A copy of the shipped MPI project: configuration, content, campaigns and templates."""
    target = tmp_path / "mpi"
    target.mkdir()
    shutil.copy(REPO / "commsflow.toml", target)
    shutil.copy(REPO / "approvals.yaml", target)  # the sign-offs of the shipped plan
    for folder in ("content", "campaigns", "templates"):
        shutil.copytree(REPO / folder, target / folder)
    return target

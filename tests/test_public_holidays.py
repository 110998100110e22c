"""Public holidays by region (commsflow.public_holidays): the days from the holidays package,
kept in the state folder by the package's version, region and year."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import FIXTURES

from commsflow import public_holidays

BERLIN_2024 = {date(2024, 3, 8): "Frauentag", date(2024, 5, 1): "Erster Mai"}


@pytest.fixture
def asked(monkeypatch) -> list[tuple[str, list[int]]]:
    """What the holidays package was asked."""
    found = []
    ask = public_holidays._ask

    def counting(region, years):
        found.append((region, years))
        return ask(region, years)

    monkeypatch.setattr(public_holidays, "_ask", counting)
    return found


def cache(folder: Path) -> Path:
    return folder / "holidays.json"


def test_the_days_are_asked_once_then_kept(tmp_path, asked):
    first = public_holidays.days_off("DE-BE", [2024], tmp_path)
    assert BERLIN_2024.items() <= first.items()
    assert date(2024, 3, 8) not in public_holidays.days_off("DE-BY", [2024], tmp_path)  # Berlin's own day
    assert public_holidays.days_off("DE-BE", [2024], tmp_path) == first
    assert asked == [("DE-BE", [2024]), ("DE-BY", [2024])]
    both = public_holidays.days_off("DE-BE", [2025, 2024], tmp_path)
    assert asked[-1] == ("DE-BE", [2025])  # only the year not kept yet
    assert date(2025, 5, 1) in both and first.items() <= both.items()


def test_another_version_of_the_package_is_asked_again(tmp_path, asked):
    public_holidays.days_off("DE-BE", [2024], tmp_path)
    data = json.loads(cache(tmp_path).read_text(encoding="utf-8"))
    cache(tmp_path).write_text(json.dumps({**data, "key": "0.1"}), encoding="utf-8")
    assert BERLIN_2024.items() <= public_holidays.days_off("DE-BE", [2024], tmp_path).items()
    assert len(asked) == 2


@pytest.mark.parametrize(
    "damage",
    [
        b"not json",
        b'{"key": 1}',
        b'{"key": "%s", "kept": {"DE-BE": {"2024": ["2024-05-01"]}}}',
        b'{"key": "%s", "kept": {"DE-BE": {"2024": {"1. Mai": "Erster Mai"}}}}',
    ],
)
def test_a_damaged_cache_only_means_asking_again(tmp_path, damage):
    cache(tmp_path).write_bytes(damage.replace(b"%s", public_holidays._version().encode()))
    assert BERLIN_2024.items() <= public_holidays.days_off("DE-BE", [2024], tmp_path).items()


def test_a_state_folder_that_cannot_be_written_only_means_asking_again(tmp_path, asked):
    state = tmp_path / "state"
    state.write_text("not a folder", encoding="utf-8")
    assert BERLIN_2024.items() <= public_holidays.days_off("DE-BE", [2024], state / "cache").items()
    assert BERLIN_2024.items() <= public_holidays.days_off("DE-BE", [2024], state / "cache").items()
    assert len(asked) == 2


def test_an_unknown_region_is_a_configuration_error_naming_the_line(tmp_path, run):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", project)
    config = project / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[publishing]\nholidays = "XX-YY"\n', encoding="utf-8")
    result = run(project, "check")
    assert result.exit_code == 1
    line = len(config.read_text(encoding="utf-8").splitlines())
    assert f"commsflow.toml:{line}: publishing.holidays" in result.stdout and "'XX-YY'" in result.stdout
    assert not public_holidays.is_known("XX-YY", project / ".commsflow" / "cache")
    assert public_holidays.is_known("DE-BE", None)

"""The command line: help everywhere, version, the pinned clock, and list for scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from commsflow import __version__
from commsflow.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            yield from _walk(command.get_command(context, name), (*path, name))


COMMANDS = list(_walk(main))


def test_the_cli_has_the_documented_commands():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "check", "list", "stats"} <= names


def test_each_lazily_loaded_command_is_named_as_it_is_called():
    from commsflow.cli import COMMANDS as LAZY

    context = click.Context(main)
    assert {name: main.get_command(context, name).name for name in LAZY} == {name: name for name in LAZY}
    assert main.get_command(context, "nonsense") is None


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) or "commsflow" for p, _ in COMMANDS])
def test_every_command_has_help(path, command):
    assert (command.help or "").strip(), f"{' '.join(path) or 'commsflow'} has no docstring/help"
    assert (command.get_short_help_str() or "").strip()
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            assert (parameter.help or "").strip() or parameter.name in ("help", "version"), parameter.name
    result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and f"{' '.join(path)} [OPTIONS]".strip() in usage, usage
    first_line = command.help.strip().splitlines()[0]
    assert first_line.split(";")[0].strip() in " ".join(result.stdout.split())
    assert "Traceback" not in result.output


def test_short_help_flag_works_too():
    result = CliRunner().invoke(main, ["list", "-h"])
    assert result.exit_code == 0
    assert "--status [draft|review|approved|published]" in result.stdout


def test_group_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert f"  {path[0]} " in result.stdout


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"commsflow, version {__version__}\n"
    assert __version__ == "0.1.0"


def _program(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """commsflow as its own process, as `python -m commsflow` (the console script calls the same `run`)."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, encoding="utf-8", cwd=cwd, timeout=120
    )


def test_the_console_script_and_python_m_commsflow_run_the_same_program():
    from importlib.metadata import entry_points

    (script,) = [entry for entry in entry_points(group="console_scripts") if entry.name == "commsflow"]
    assert script.value == "commsflow.cli:run"
    done = _program("-m", "commsflow", "--version")
    assert (done.returncode, done.stdout) == (0, f"commsflow, version {__version__}\n")


def test_the_program_ends_with_the_commands_exit_status_and_all_its_output(tmp_path):
    """`run` leaves without the interpreter's tidying up: the exit status, everything printed (to a
    pipe, which is buffered) and what was registered to run at exit must all survive that."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", project)
    marker = tmp_path / "at-exit"
    hook = (
        "import atexit, sys; from pathlib import Path; "
        f"atexit.register(lambda: Path({str(marker)!r}).write_text('ran')); "
        "from commsflow.cli import run; sys.argv[0] = 'commsflow'; run()"
    )
    listed = _program("-c", hook, "--root", str(project), "--now", "2024-03-01 10:00", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [entry["slug"] for entry in json.loads(listed.stdout)]  # the whole JSON, flushed
    assert marker.read_text() == "ran"
    refused = _program("-m", "commsflow", "--root", str(project), "--now", "gestern", "check")
    assert refused.returncode == 1
    assert "gestern" in refused.stderr and "Traceback" not in refused.stderr


def test_the_program_leaves_the_cyclic_collector_off_for_a_command_that_ends(mpi):
    """The process ends with `build`: what the collector would find, the ending gives back."""
    hook = (
        "import atexit, gc, sys; atexit.register(lambda: print('collecting', gc.isenabled())); "
        "from commsflow.cli import run; sys.argv[0] = 'commsflow'; run()"
    )
    built = _program("-c", hook, "--root", str(mpi), "--now", "2024-03-01 10:00", "build")
    assert built.returncode == 0, built.stderr
    assert built.stdout.splitlines()[-1] == "collecting False"


def test_a_command_that_keeps_running_collects_garbage_cycles():
    import gc

    from commsflow.cli import COMMANDS as LAZY
    from commsflow.cli import KEEP_RUNNING, _collect_for

    assert {"run", "desk", "preview"} == KEEP_RUNNING and KEEP_RUNNING <= LAZY.keys()
    threshold = gc.get_threshold()
    try:
        for name in KEEP_RUNNING:
            gc.disable()  # as the program starts
            _collect_for(name)
            assert gc.isenabled(), name
        gc.disable()
        _collect_for("build")
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.set_threshold(*threshold)


def test_commands_run_in_process_leave_the_collector_on(project, run):
    """Click's runner (the tests, another program calling `main`) keeps its collector."""
    import gc

    assert run(project, "--now", "2024-03-01 10:00", "stats").exit_code == 0
    assert gc.isenabled()


# --- the clock -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["gestern", "31.02.2024", "03/01/2024 10:00", "1.3.24"])
def test_bad_now_gives_one_clear_error(project, run, value):
    result = run(project, "--now", value, "stats")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: --now / COMMSFLOW_NOW: ")
    assert repr(value) in errors[0]
    assert result.stderr.splitlines()[1:] == ["  hint: e.g. --now '2024-03-01 10:00'"]
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_bad_now_exact_message(project, run):
    result = run(project, "--now", "gestern", "stats", "--json")
    assert result.stderr.splitlines() == [
        "error: --now / COMMSFLOW_NOW: invalid date 'gestern'; write it as 2024-04-25 or 2024-04-25 16:00",
        "  hint: e.g. --now '2024-03-01 10:00'",
    ]


def test_bad_now_from_the_environment(project, run, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_NOW", "nächsten Montag")
    result = run(project, "stats")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: --now / COMMSFLOW_NOW: invalid date 'nächsten Montag'; write it as 2024-04-25 or 2024-04-25 16:00"
    )


@pytest.mark.parametrize("command", ["check", "list"])
def test_bad_now_is_rejected_by_every_command(project, run, command):
    result = run(project, "--now", "gestern", command)
    assert result.exit_code == 1
    assert "--now / COMMSFLOW_NOW" in result.stderr


def _stats(run, project, *args) -> dict:
    result = run(project, *args, "stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_commsflow_now_env_var_is_honoured(project, run, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_NOW", "2024-03-01 10:00")
    figures = _stats(run, project)
    assert figures["as_of"] == "2024-03-01T10:00+01:00"
    assert figures["events_upcoming"] == 1 and figures["events_past"] == 0


def test_commsflow_now_env_var_in_german_form_and_summer(project, run, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_NOW", "26.04.2024 09:30")
    figures = _stats(run, project)
    assert figures["as_of"] == "2024-04-26T09:30+02:00"
    assert figures["events_upcoming"] == 0 and figures["events_past"] == 1


def test_now_option_beats_the_env_var(project, run, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_NOW", "2024-03-01 10:00")
    assert _stats(run, project, "--now", "2024-05-01 12:00")["as_of"] == "2024-05-01T12:00+02:00"


def test_now_with_offset_is_shown_in_berlin_time(project, run):
    assert _stats(run, project, "--now", "2024-03-01T09:00:00Z")["as_of"] == "2024-03-01T10:00+01:00"


def test_now_at_the_event_start_counts_it_as_started(project, run):
    figures = _stats(run, project, "--now", "2024-04-25 16:00")
    assert figures["events_upcoming"] == 0
    figures = _stats(run, project, "--now", "2024-04-25 15:59")
    assert figures["events_upcoming"] == 1


def test_stats_text_uses_the_pinned_day(project, run):
    result = run(project, "--now", "2024-03-01 10:00", "stats")
    assert result.exit_code == 0, result.output
    assert "MPI in Zahlen — Stand 1. März 2024" in result.stdout
    assert "2 Projekte: 2 in Umsetzung, 0 abgeschlossen" in result.stdout


# --- list ------------------------------------------------------------------------------

ROW_KEYS = {"type", "slug", "title", "status", "date", "path"}


def _list(run, project, *args) -> list[dict]:
    result = run(project, "list", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_json_is_parseable_with_the_documented_fields(project, run):
    rows = _list(run, project)
    assert len(rows) == 5
    for row in rows:
        assert ROW_KEYS <= set(row), row
        assert row["type"] in ("post", "news", "event", "project")
        assert (
            row["path"]
            == f"content/{ {'post': 'posts', 'news': 'news', 'event': 'events', 'project': 'projects'}[row['type']] }/{row['slug']}.md"
        )
    by_slug = {row["slug"]: row for row in rows}
    assert by_slug["2024-04-25-mpi-meetup"] | {"meta": None} == {
        "type": "event",
        "slug": "2024-04-25-mpi-meetup",
        "title": "MPI Meet-up im Bosch IoT Campus",
        "status": "approved",
        "date": "2024-04-25T16:00:00+02:00",
        "path": "content/events/2024-04-25-mpi-meetup.md",
        "meta": None,
    }
    assert by_slug["2024-02-01-amber-projekte"]["title"] == "Zwölf Forschungsprojekte für den 3D-Druck „Made in Berlin“"
    assert by_slug["2024-02-01-amber-projekte"]["date"] == "2024-02-01"
    assert by_slug["amber-initiative"]["date"] is None


def test_list_json_keeps_umlauts_readable(project, run):
    result = run(project, "list", "news", "--json")
    assert "Zwölf" in result.stdout and "„Made in Berlin“" in result.stdout
    assert "\\u" not in result.stdout


def test_list_event_shows_only_events(project, run):
    (project / "content/events/2024-06-12-deep-dive.md").write_text(
        "---\ntitle: MPI Deep Dive Foodtech\nstatus: draft\nformat: MPI Deep Dive\n"
        "start: 12.06.2024 14:00\norganiser: mpi\n---\nWie Berlin isst.\n",
        encoding="utf-8",
    )
    rows = _list(run, project, "event")
    assert [row["slug"] for row in rows] == ["2024-04-25-mpi-meetup", "2024-06-12-deep-dive"]
    assert {row["type"] for row in rows} == {"event"}
    table = run(project, "list", "event")
    assert table.exit_code == 0
    assert table.stdout.rstrip().splitlines()[-1] == "2 items"
    assert "Circular City Challenge" not in table.stdout


def test_list_status_review_shows_only_review_items(project, run):
    (project / "content/posts/2024-03-05-kongress.md").write_text(
        "---\ntitle: Mädchen-Technik-Kongress\nstatus: review\ncategory: Aktuelles\ndate: 2024-03-05\n---\nText.\n",
        encoding="utf-8",
    )
    rows = _list(run, project, "--status", "review")
    assert [row["slug"] for row in rows] == ["2024-02-01-amber-projekte", "2024-03-05-kongress"]
    assert {row["status"] for row in rows} == {"review"}
    assert [row["slug"] for row in _list(run, project, "post", "--status", "review")] == ["2024-03-05-kongress"]
    assert _list(run, project, "project", "--status", "review") == []


def test_list_rejects_unknown_type_and_status(project, run):
    result = run(project, "list", "posts")
    assert result.exit_code == 2
    assert "'posts' is not one of 'post', 'news', 'event', 'project'" in result.stderr
    result = run(project, "list", "--status", "freigegeben")
    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.stderr


def test_list_is_sorted_oldest_first(project, run):
    dated = [row["date"] for row in _list(run, project) if row["date"]]
    assert dated == ["2023-12-04", "2024-02-01", "2024-04-25T16:00:00+02:00"]


def test_root_from_environment(project, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_NOW", raising=False)
    monkeypatch.setenv("COMMSFLOW_ROOT", str(project))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "5 files checked, 5 items valid, 0 campaigns: 0 errors, 0 warnings" in result.stdout


def test_a_profiled_run_still_writes_its_figures(tmp_path):
    """Under a profiler (python -m cProfile) the program ends as Python does, so the profiler can write."""
    figures = tmp_path / "commsflow.prof"
    done = _program("-m", "cProfile", "-o", str(figures), "-m", "commsflow", "--version")
    assert done.returncode == 0 and done.stdout == f"commsflow, version {__version__}\n"
    assert figures.stat().st_size > 0

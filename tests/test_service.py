"""Running the scheduler for real, as a service does: the long-running `commsflow run` as a real
process on the real clock, publishing a job that falls due while it runs to a local webhook
server, then stopped with SIGTERM (what systemd sends) — cleanly, with the ledger consistent and
the lock released. Also the log it writes: one line per event, or JSON lines (--log-format json);
and the systemd units in deploy/."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES, REPO, real_run
from werkzeug import Response

from commsflow.commands.run import JSON_KEYS, TICK_SECONDS_FOR_TESTS, EventLog
from commsflow.ledger import exclusive
from commsflow.scheduler import Outcome

BERLIN = ZoneInfo("Europe/Berlin")
HOOK = "/hooks/geheim-4711"
DEPLOY = REPO / "deploy"


# --- a project with a webhook channel, and the real process ----------------------------------


@pytest.fixture
def service_project(tmp_path: Path, httpserver, monkeypatch) -> Path:
    """The minimal project with the real templates, its one-offs published to a local webhook."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", root)
    shutil.copytree(REPO / "templates", root / "templates")
    config = root / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[publishing]\nwebhook = "webhook"\nrequire_signoff = false\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("COMMSFLOW_WEBHOOK_URL", httpserver.url_for(HOOK))
    return root


def one_off(root: Path, slug: str, when: datetime) -> str:
    """An approved post published once, at ``when`` (to the second), to the webhook; its job id."""
    (root / "content" / "posts" / f"{slug}.md").write_text(
        f"""\
---
title: Ein Hinweis ({slug})
status: approved
category: Aktuelles
date: 2024-05-01
summary: Eine Zusammenfassung.
publish_at: {when:%Y-%m-%d %H:%M:%S}
channels: [webhook]
---

Text.
""",
        encoding="utf-8",
    )
    return f"einzeln/webhook/{slug}@{when.isoformat(timespec='minutes')}"


def berlin_now() -> datetime:
    return datetime.now(BERLIN).replace(microsecond=0)


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_left():
    """A failed test does not leave a scheduler running."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class Process:
    """A real `commsflow run` in its own process; its stdout read line by line as it comes."""

    def __init__(self, command: list[str]):
        env = {key: value for key, value in os.environ.items() if key not in ("COMMSFLOW_NOW", "COMMSFLOW_ROOT")}
        env["PYTHONUNBUFFERED"] = "1"
        # A shell without job control starts a background job with SIGINT ignored, and every
        # child inherits that: the scheduler would never see the Ctrl-C a test sends (its
        # "flaky" failures were runs started so). A caught signal is reset to the default in a
        # child, so the signal is caught while the child starts.
        ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        if ignored:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            self.popen = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env
            )
        finally:
            if ignored:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        _STARTED.append(self.popen)
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, found, timeout: float) -> str:
        """The first line (from now on) for which ``found(line)`` is true; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None and self._queue.empty():
                    break
                continue
            self.lines.append(line)
            if found(line):
                return line
        self.popen.kill()
        _, stderr = self.popen.communicate(timeout=10)
        pytest.fail(f"not seen within {timeout} s; stdout so far: {self.lines}; stderr: {stderr}")

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, as systemd sends it; the exit status and stderr."""
        self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            pytest.fail(f"still running {timeout} s after SIGTERM; stdout: {self.lines}")
        time.sleep(0.2)  # the reader thread takes the last lines
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return code, self.popen.stderr.read()

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


def commsflow_run(root: Path, *args: str, tick: int | None = None) -> list[str]:
    """The real CLI in a real process; with ``tick``, through the test hook that shortens the tick
    of the long-running loop (no option or environment variable can)."""
    if tick is None:
        script = Path(sys.executable).parent / "commsflow"
        start = [str(script)] if script.exists() else [sys.executable, "-m", "commsflow.cli"]
    else:
        hook = f"from commsflow.cli import main; main(obj={{{TICK_SECONDS_FOR_TESTS!r}: {tick}}})"
        start = [sys.executable, "-c", hook]
    return [*start, "--root", str(root), "run", *args]


def ledger_rows(root: Path) -> dict[str, dict]:
    db = sqlite3.connect((root / ".commsflow" / "ledger.sqlite").as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return {row["id"]: dict(row) for row in db.execute("SELECT * FROM jobs")}
    finally:
        db.close()


def assert_lock_released(root: Path) -> None:
    with exclusive(root / ".commsflow"):  # raises "another scheduler is running" while a process holds it
        pass


def state(event: dict, name: str) -> bool:
    return event["state"] == name


# --- the long-running process ----------------------------------------------------------------


def test_the_long_running_scheduler_publishes_a_job_falling_due_and_stops_cleanly_on_sigterm(
    service_project, httpserver
):
    root = service_project
    httpserver.expect_request(HOOK, method="POST").respond_with_json({"ok": True})
    due = berlin_now() + timedelta(seconds=12)
    job = one_off(root, "2024-05-01-dienst", due)

    process = Process(commsflow_run(root, "--log-format", "json", tick=1))
    started = json.loads(process.wait_for(lambda line: '"started"' in line, timeout=30))
    done = json.loads(process.wait_for(lambda line: '"done"' in line, timeout=60))
    code, stderr = process.stop()

    assert code == 0, (process.lines, stderr)
    assert "Traceback" not in stderr and stderr == "", stderr
    events = process.events()  # every line of stdout is one JSON object with the documented keys
    assert all(list(event) == list(JSON_KEYS) for event in events), events
    # The job fell due while the process was running, and went out then, not before.
    assert datetime.fromisoformat(started["time"]) < due - timedelta(seconds=2), "the process took too long to start"
    assert datetime.fromisoformat(done["time"]) >= due
    assert (done["job"], done["channel"], done["template"], done["item"]) == (
        job,
        "webhook",
        "article",
        "2024-05-01-dienst",
    )
    assert done["level"] == "info" and datetime.fromisoformat(done["planned"]) == due
    stopped = events[-1]
    assert stopped["state"] == "stopped" and "SIGTERM" in stopped["detail"] and "1 done" in stopped["detail"]

    assert len(httpserver.log) == 1
    sent = httpserver.log[0][0].get_json()
    assert sent["job"] == job and sent["item"] == "2024-05-01-dienst"
    assert "geheim-4711" not in "\n".join(process.lines)  # the webhook's address is its secret

    rows = ledger_rows(root)
    assert [row["state"] for row in rows.values()] == ["done"] and rows[job]["attempts"] == 1
    assert_lock_released(root)

    # Started again, the job is not sent a second time.
    again = subprocess.run(commsflow_run(root, "--once"), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "0 jobs handled: nothing due" in again.stdout
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("once", [False, True], ids=["run", "run --once"])
def test_sigterm_while_a_job_is_being_sent_finishes_and_records_it_then_stops(service_project, httpserver, once):
    """The request in flight is answered and recorded `done`; the next due job is left for the
    next start (nothing `sending`), and the exit status is 0."""
    root = service_project
    due = berlin_now() - timedelta(minutes=1)  # within the grace window: due at the start
    jobs = {one_off(root, slug, due) for slug in ("2024-05-01-erster", "2024-05-01-zweiter")}
    arrived = threading.Event()

    def slow(request):
        arrived.set()
        time.sleep(2)
        return Response(json.dumps({"ok": True}), status=200, content_type="application/json")

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(slow)
    process = Process(commsflow_run(root, *(["--once"] if once else []), "--log-format", "json", tick=1))
    assert arrived.wait(timeout=60), "the job was not sent within 60 s"
    code, stderr = process.stop()

    assert code == 0 and stderr == "", (process.lines, stderr)
    events = process.events()
    assert [event["state"] for event in events if event["job"]] == ["done"]
    assert any(event["state"] == "stopped" and "SIGTERM" in event["detail"] for event in events), events
    assert len(httpserver.log) == 1
    rows = ledger_rows(root)
    assert [row["state"] for row in rows.values()] == ["done"]  # the other one: not claimed, not sending
    first = next(iter(rows))
    assert first in jobs
    assert_lock_released(root)

    # The next start sends the job that waited, and only that one.
    after = subprocess.run(commsflow_run(root, "--once"), capture_output=True, text=True, timeout=60)
    assert after.returncode == 0, after.stderr
    assert len(httpserver.log) == 2
    assert {row["state"] for row in ledger_rows(root).values()} == {"done"} and set(ledger_rows(root)) == jobs


def test_the_installed_command_stops_on_sigterm_while_idle(service_project):
    """`commsflow run` as the systemd unit starts it (the console script, the real 30 s tick, text log)."""
    root = service_project
    process = Process(commsflow_run(root))
    process.wait_for(lambda line: "scheduler running" in line, timeout=30)
    assert (root / ".commsflow" / "scheduler.lock").read_text().strip() == f"pid {process.popen.pid}"
    began = time.monotonic()
    code, stderr = process.stop(timeout=15)
    assert code == 0 and stderr == "", stderr
    assert time.monotonic() - began < 5  # it does not wait for the next tick
    assert process.lines[-1].startswith("commsflow scheduler stopped on SIGTERM (handled since the start: nothing)")
    assert_lock_released(root)


def test_ctrl_c_exits_130_and_says_so_in_the_json_log(service_project):
    root = service_project
    process = Process(commsflow_run(root, "--log-format", "json", tick=1))
    process.wait_for(lambda line: '"started"' in line, timeout=30)
    process.popen.send_signal(signal.SIGINT)
    code = process.popen.wait(timeout=30)
    time.sleep(0.2)
    process.wait_for(lambda line: '"interrupted"' in line, timeout=5)
    assert code == 130 and process.popen.stderr.read() == ""
    assert process.events()[-1]["level"] == "error"
    assert_lock_released(root)


def test_a_second_scheduler_is_refused_with_exit_status_1_and_a_json_error(service_project):
    root = service_project
    process = Process(commsflow_run(root, "--log-format", "json", tick=1))
    process.wait_for(lambda line: '"started"' in line, timeout=30)
    try:
        second = subprocess.run(commsflow_run(root, "--log-format", "json"), capture_output=True, text=True, timeout=60)
    finally:
        code, _ = process.stop()
    assert code == 0
    assert second.returncode == 1 and "Traceback" not in second.stderr
    (error,) = [json.loads(line) for line in second.stdout.splitlines()]
    assert error["level"] == "error" and error["state"] == "error"
    assert error["detail"].startswith(
        f"another scheduler is running on this ledger (pid {process.popen.pid}) — stop it"
    )


# --- the log format --------------------------------------------------------------------------


def test_json_lines_for_a_simulation(run, mpi):
    result = run(mpi, "run", "--simulate", "2024-03-01..2024-03-31", "--log-format", "json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(event) == list(JSON_KEYS) for event in events)
    done = [event for event in events if event["state"] == "done"]
    assert done[0]["time"] == "2024-03-05T10:00:00+01:00"  # the virtual clock, with seconds and the offset
    assert (done[0]["channel"], done[0]["template"], done[0]["item"]) == (
        "linkedin",
        "article",
        "2024-03-01-zweiter-monitoring-bericht",
    )
    assert done[0]["planned"] == "2024-03-05T10:00:00+01:00" and done[0]["level"] == "info"
    assert [event["state"] for event in events[-2:]] == ["summary", "simulated"]
    assert events[-2]["detail"].startswith(f"{len(done)} jobs handled: {len(done)} done")


def test_text_stays_the_default(run, mpi):
    text = run(mpi, "run", "--simulate", "2024-03-01..2024-03-31")
    assert text.exit_code == 0
    assert "05.03.2024 10:00 ✓ done    linkedin article 2024-03-01-zweiter-monitoring-bericht" in text.stdout
    assert not text.stdout.lstrip().startswith("{")
    wrong = run(mpi, "run", "--log-format", "xml")
    assert wrong.exit_code == 2 and "'xml' is not one of 'text', 'json'" in wrong.stderr


def test_json_lines_carry_content_problems_and_what_stops_a_run(run, mpi):
    post = mpi / "content" / "posts" / "2024-03-01-zweiter-monitoring-bericht.md"
    post.write_text(post.read_text(encoding="utf-8").replace("category:", "categori:", 1), encoding="utf-8")
    result = real_run(mpi, "2024-03-05 10:00", "--once", "--log-format", "json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.stderr == ""
    problems = [event for event in events if event["state"] == "problem"]
    assert problems[0]["level"] == "error" and "2024-03-01-zweiter-monitoring-bericht.md" in problems[0]["detail"]
    assert any("category: missing required field" in event["detail"] for event in problems)
    assert len(problems) == 3  # the unknown field, the missing one, and the count
    assert problems[-1]["detail"] == "2 errors in the content: those items are not planned"

    pinned = run(mpi, "--now", "2024-03-05 10:00", "run", "--log-format", "json")
    assert pinned.exit_code == 1 and pinned.stderr == ""
    (error,) = [json.loads(line) for line in pinned.stdout.splitlines()]
    assert error["level"] == "error" and "the clock is pinned" in error["detail"] and "--dry-run" in error["detail"]


def test_json_mode_reports_an_invalid_configuration_as_json(run, mpi):
    config = mpi / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('timezone = "Europe/Berlin"', 'timezone = "Mars"'))
    result = run(mpi, "run", "--once", "--log-format", "json")
    assert result.exit_code == 1 and result.stderr == ""
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["state"] == "problem" and "timezone" in events[0]["detail"]
    assert events[-1]["state"] == "error" and "commsflow.toml" in events[-1]["detail"]


def test_each_event_is_one_line_whatever_its_text(capsys):
    from commsflow.calendar import Job

    job = Job("c/s/i@t", "c", "s", "linkedin", "article", "i", datetime(2024, 3, 5, 10, tzinfo=BERLIN), "c.yaml")
    outcome = Outcome(job, "failed", "first line\nsecond line\r\nthird\u2028fourth", job.planned)
    EventLog("text").outcome(outcome)
    text = capsys.readouterr().out
    assert text.count("\n") == 1 and "first line second line third fourth" in text
    EventLog("json").outcome(outcome)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and len(line.splitlines()) == 1  # str.splitlines also breaks at U+2028
    assert json.loads(line)["detail"] == outcome.detail and json.loads(line)["level"] == "error"


# --- the systemd units ------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's settings, ``Section.Key`` → values (comments and blank lines left out)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def test_the_service_units_run_what_the_readme_documents():
    service = unit("commsflow.service")
    assert service["Service.ExecStart"][0].endswith("commsflow run --log-format json")
    assert service["Service.Restart"] == ["on-failure"]
    assert service["Service.NoNewPrivileges"] == ["yes"] and service["Service.ProtectSystem"] == ["strict"]
    assert service["Service.User"] == ["commsflow"] and service["Service.EnvironmentFile"]
    workdir = service["Service.WorkingDirectory"][0]
    writable = service["Service.ReadWritePaths"][0].split()
    assert writable == [f"{workdir}/.commsflow", f"{workdir}/build"]
    oneshot = unit("commsflow-once.service")
    assert oneshot["Service.Type"] == ["oneshot"]
    assert oneshot["Service.ExecStart"][0].endswith("commsflow run --once --log-format json")
    assert oneshot["Service.ReadWritePaths"] == service["Service.ReadWritePaths"]
    timer = unit("commsflow-once.timer")
    assert timer["Timer.OnCalendar"] == ["*-*-* *:*:00"] and timer["Timer.Unit"] == ["commsflow-once.service"]
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for code in ("`0`", "`1`", "`2`", "`130`"):
        assert code in readme
    for key in JSON_KEYS:
        assert f"`{key}`" in readme
    # Every variable the example environment file names is one commsflow reads.
    names = re.findall(r"(?m)^#?\s*(COMMSFLOW_[A-Z_]+)=", (DEPLOY / "commsflow.env.example").read_text())
    source = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "commsflow").rglob("*.py"))
    assert names and all(name in source for name in names), names


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """With the paths of this machine put in (verify checks that the programs exist)."""
    folder = tmp_path / "units"
    folder.mkdir()
    program = shutil.which("true")
    for name in ("commsflow.service", "commsflow-once.service", "commsflow-once.timer"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={program}", text)
        (folder / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(folder / name) for name in sorted(os.listdir(folder)))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Warnings about the machine (no running systemd in a container) are not about the units.
    lines = [line for line in result.stderr.splitlines() if "commsflow" in line]
    assert result.returncode == 0 and not lines, result.stderr

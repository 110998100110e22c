"""The channel registry: adding a channel is one module, as the README's "Adding a channel" says."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

from commsflow import channels


def _readme_channel() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Adding a channel", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_every_channel_declares_what_the_rest_derives_from():
    registry = channels.registry()
    assert list(registry)[:6] == ["newsletter", "linkedin", "mastodon", "bluesky", "webhook", "press"]
    for name, channel in registry.items():
        assert channel.name == name and channel.title
        assert channel.kinds, name
        assert channel.publishers[0] == "outbox" or not channel.scheduled


def test_the_readme_channel_module_is_all_it_takes(tmp_path, mpi):
    """The README's example module, put next to the built-in ones, is a channel everywhere."""
    package = tmp_path / "more"
    package.mkdir()
    (package / "threads.py").write_text(_readme_channel(), encoding="utf-8")
    (mpi / "commsflow.toml").write_text(
        (mpi / "commsflow.toml")
        .read_text(encoding="utf-8")
        .replace("[publishing]", '[publishing]\nthreads = "outbox"'),
        encoding="utf-8",
    )
    (mpi / "campaigns" / "threads-dienstag.yaml").write_text(
        "kind: slot\nevery: tuesday\ntime: '12:00'\nstart: 2024-03-01\nend: 2024-03-31\nchannel: threads\ntype: post\n",
        encoding="utf-8",
    )
    script = (
        "import sys, commsflow.channels as c; c.__path__.append(sys.argv[1]);"
        "from commsflow.cli import main; main(sys.argv[2:])"
    )

    def commsflow(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", script, str(package), "--root", str(mpi), "--now", "2024-03-01 10:00", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    help_text = commsflow("calendar", "--help")
    assert "threads" in help_text.stdout, help_text.stdout + help_text.stderr
    calendar = commsflow("calendar", "--channel", "threads")
    assert calendar.returncode == 0, calendar.stdout + calendar.stderr
    assert "Di 05.03.2024 12:00  threads" in calendar.stdout, calendar.stdout
    built = commsflow("build")
    assert "Traceback" not in built.stderr, built.stderr
    previews = sorted((mpi / "build" / "threads").glob("*.md"))
    assert len(previews) == calendar.stdout.count("  threads  "), built.stdout  # one per job
    assert all("# Threads-Entwurf:" in path.read_text(encoding="utf-8") for path in previews)
    dashboard = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    assert 'id="threads"' in dashboard

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
    assert list(registry)[:7] == ["newsletter", "linkedin", "mastodon", "bluesky", "instagram", "webhook", "press"]
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
    assert all("# Threads draft:" in path.read_text(encoding="utf-8") for path in previews)
    dashboard = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    assert 'id="threads"' in dashboard


def test_no_module_outside_the_channels_lists_channels_itself():
    """What differs by channel is declared by the channel (look, frame, feed, kinds …) and derived
    everywhere else: a tuple, list, set or dict naming two channels outside channels/ and
    publishers/ is a list someone must remember to extend — the next channel would miss it."""
    import ast

    names = set(channels.names())
    allowed = {"commsflow/cli.py"}  # the command names newsletter, linkedin, press, ics: commands, not channels
    found = []
    for path in sorted((REPO / "commsflow").rglob("*.py")):
        shown = path.relative_to(REPO).as_posix()
        if shown.startswith(("commsflow/channels/", "commsflow/publishers/")) or shown in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                values = node.elts
            elif isinstance(node, ast.Dict):
                values = [key for key in node.keys if key is not None]
            else:
                continue
            named = {value.value for value in values if isinstance(value, ast.Constant) and value.value in names}
            if len(named) >= 2:
                found.append(f"{shown}:{node.lineno}: {sorted(named)}")
    assert not found, "channel lists outside the registry:\n  " + "\n  ".join(found)

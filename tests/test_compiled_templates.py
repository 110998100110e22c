"""Compiled templates kept between commands (``templating._CompiledTemplates``): a later
command uses them instead of compiling again, an edited template is compiled afresh, and
a damaged or unwritable cache only means compiling."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import pytest
from conftest import FIXTURES

from commsflow.config import load_config
from commsflow.renderers import templating

TEMPLATE = "gruss.txt"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", target)
    (target / "templates").mkdir()
    (target / "templates" / TEMPLATE).write_text("Guten Tag, {{ name }}!\n", encoding="utf-8")
    return target


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """The names of the templates Jinja2 compiled from their source."""
    names: list[str] = []
    compile_ = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return compile_(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def render(project: Path) -> str:
    """As a new command does: a fresh environment (the process-wide one is forgotten)."""
    templating._environment.cache_clear()
    env = templating.environment(load_config(project))
    return env.get_template(TEMPLATE).render(name="Frau Giffey")


def test_no_cache_keeps_nothing(project, compiled):
    templating._environment.cache_clear()
    env = templating.environment(load_config(project, use_cache=False))
    assert env.get_template(TEMPLATE).render(name="Frau Giffey") == "Guten Tag, Frau Giffey!\n"
    assert not (project / ".commsflow").exists()


def cached_files(project: Path) -> list[Path]:
    return sorted((project / ".commsflow" / "cache").glob("templates-*/*"))


def test_a_later_command_uses_the_compiled_template(project, compiled):
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert compiled == [TEMPLATE] and len(cached_files(project)) == 1
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert compiled == [TEMPLATE]  # not compiled a second time


def test_an_edited_template_is_compiled_again(project, compiled):
    render(project)
    (project / "templates" / TEMPLATE).write_text("Hallo {{ name }}.\n", encoding="utf-8")
    assert render(project) == "Hallo Frau Giffey.\n"
    assert compiled == [TEMPLATE, TEMPLATE]


@pytest.mark.parametrize("damage", ["cut", "not code"])
def test_a_damaged_compiled_template_is_compiled_again(project, compiled, damage):
    import marshal

    render(project)
    cached = cached_files(project)[0]
    data = cached.read_bytes()
    header = data[: re.search(rb"\n[0-9a-f]{40}\n", data).end()]  # up to the source's checksum
    if damage == "cut":
        cached.write_bytes(data[: len(header) + 10])
    else:  # well-formed marshal data that is not code: never run
        cached.write_bytes(header + marshal.dumps(42))
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert compiled == [TEMPLATE, TEMPLATE]


def test_another_version_of_commsflow_starts_a_new_folder(project):
    old = project / ".commsflow" / "cache" / "templates-0000000000000000"
    old.mkdir(parents=True)
    (old / "stale").write_bytes(b"compiled by another version")
    render(project)
    folders = [path.name for path in (project / ".commsflow" / "cache").glob("templates-*")]
    assert len(folders) == 1 and folders != [old.name]


def test_a_state_folder_that_cannot_be_written_only_means_compiling(project, compiled):
    (project / ".commsflow").write_text("not a folder", encoding="utf-8")
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert compiled == [TEMPLATE, TEMPLATE]


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_nothing_in_the_state_folder_is_unpickled(project, compiled, tmp_path):
    """Jinja2's own file cache unpickles each file's checksum; this one reads no pickle."""
    import pickle

    render(project)
    marker = tmp_path / "unpickled"
    (cached := cached_files(project)[0]).write_bytes(b"j2/" + pickle.dumps(_RunsCode(marker)))
    assert render(project) == "Guten Tag, Frau Giffey!\n"
    assert not marker.exists()
    assert compiled == [TEMPLATE, TEMPLATE] and cached.read_bytes().startswith(b"commsflow compiled template")

"""Errors do not cascade: a file that fails validation still registers its slug and kind,
so what names it gets no knock-on "no event … — did you mean …?" (which would invite
pointing a campaign at the wrong event); and a file with field errors still has its
references checked, so one `commsflow check` reports every problem.

Fixture projects (tests/fixtures/cascade/):
- broken_event: the event 2024-04-25-mpi-meetup has a field error (participants); a post,
  a newsletter issue and an event campaign name it; a valid event a month later has a
  slug close enough to be guessed.
- broken_post: a post with a field error (category) that also names an unknown project.
Every check runs twice: with a cold cache and with a warm one (the files taken from the
content cache without being parsed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES

from commsflow.campaigns import campaign_event
from commsflow.workspace import Workspace

CASCADE = FIXTURES / "cascade"
EVENT = "content/events/2024-04-25-mpi-meetup.md"
POST = "content/posts/2023-12-04-circular-city-challenge.md"
FIELD_ERROR = f"error {EVENT}:7: participants: expected a whole number, got 'rund hundert'"
POINTER = "event '2024-04-25-mpi-meetup' has errors — see content/events/2024-04-25-mpi-meetup.md"


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(CASCADE / name, target)
    return target


@pytest.fixture(params=["cold", "warm"])
def cache(request, run):
    """Prepares a project's content cache: left empty (cold) or filled by a first check (warm)."""

    def prepare(root: Path) -> Path:
        if request.param == "warm":
            run(root, "check")
            assert Workspace(root=root).load().report.parsed == 0, "the first check should have cached every file"
        return root

    return prepare


def errors(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("error ")]


def test_broken_event_is_reported_once_and_what_names_it_gets_no_guess(tmp_path, run, cache):
    root = cache(copy(tmp_path, "broken_event"))
    result = run(root, "check")
    assert result.exit_code == 1
    # The event campaign's line comes from the calendar; see the next tests.
    lines = [line for line in errors(result) if not line.startswith("error campaigns/mpi-meetup-2024.yaml")]
    assert lines == [
        f"error campaigns/newsletter-2024-1.yaml:10: sections[0].items[0]: {POINTER}",
        FIELD_ERROR,
    ], result.stdout
    # The post naming the event in `events:` gets nothing; nobody is sent to the other meet-up.
    shown = "\n".join(lines)
    assert "einladung-zum-meetup" not in shown and "2024-05-23-mpi-meetup" not in shown
    assert "3 items valid" in result.stdout


def test_event_campaign_of_a_broken_event_gets_a_pointer_not_a_guess(tmp_path, cache):
    root = cache(copy(tmp_path, "broken_event"))
    workspace = Workspace(root=root)
    library = workspace.load().library
    campaign = workspace.campaigns.get("mpi-meetup-2024", "event")
    event, problem = campaign_event(campaign, library)
    assert event is None
    assert problem.format() == f"campaigns/mpi-meetup-2024.yaml:2: event: {POINTER}"


def test_event_campaign_naming_nothing_still_gets_a_guess(tmp_path):
    root = copy(tmp_path, "broken_event")
    path = root / "campaigns" / "mpi-meetup-2024.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2024-04-25", "2024-05-24"), encoding="utf-8")
    workspace = Workspace(root=root)
    campaign = workspace.campaigns.get("mpi-meetup-2024", "event")
    event, problem = campaign_event(campaign, workspace.load().library)
    assert event is None
    assert problem.format() == (
        "campaigns/mpi-meetup-2024.yaml:2: event: no event '2024-05-24-mpi-meetup' — did you mean '2024-05-23-mpi-meetup'?"
    )


def test_check_gives_the_event_campaign_of_a_broken_event_no_guess(tmp_path, run, cache):
    root = cache(copy(tmp_path, "broken_event"))
    result = run(root, "check")
    assert "did you mean" not in result.stdout and "no event" not in result.stdout, result.stdout
    assert errors(result) == [
        f"error campaigns/mpi-meetup-2024.yaml:2: event: {POINTER}",
        f"error campaigns/newsletter-2024-1.yaml:10: sections[0].items[0]: {POINTER}",
        FIELD_ERROR,
    ], result.stdout


def test_broken_item_is_known_to_the_library(tmp_path, cache):
    root = cache(copy(tmp_path, "broken_event"))
    library = Workspace(root=root).load().library
    assert library.get("2024-04-25-mpi-meetup") is None
    broken = library.invalid("2024-04-25-mpi-meetup")
    assert (broken.kind, broken.slug, broken.path) == ("event", "2024-04-25-mpi-meetup", EVENT)
    assert broken.refs == {"organiser": "mpi"}
    assert library.invalid("2024-04-25-mpi-meetup", "post") is None
    assert library.invalid("2024-05-23-mpi-meetup") is None  # valid: an item, not a broken file
    assert library.invalid("2024-04-26-mpi-meetup") is None  # no file at all


def test_field_error_and_unknown_reference_are_reported_in_one_run(tmp_path, run, cache):
    root = cache(copy(tmp_path, "broken_post"))
    result = run(root, "check")
    assert result.exit_code == 1
    assert errors(result) == [
        f"error {POST}:4: category: unknown value 'Aktuell' (not in vocabularies.blog_categories)"
        " — did you mean 'Aktuelles'?",
        f"error {POST}:6: projects[1]: unknown project 'amber-initiative'"
        " — check the slug (the file name in content/projects/)",
    ], result.stdout


def test_unreadable_file_still_registers_its_slug(tmp_path, run, cache):
    root = copy(tmp_path, "broken_event")
    (root / EVENT).write_text("---\ntitle: MPI Meet-up\nstatus: approved: ja\n---\nText.\n", encoding="utf-8")
    root = cache(root)
    result = run(root, "check")
    lines = [line for line in errors(result) if not line.startswith("error campaigns/mpi-meetup-2024.yaml")]
    assert len(lines) == 2, result.stdout
    assert lines[0] == f"error campaigns/newsletter-2024-1.yaml:10: sections[0].items[0]: {POINTER}"
    assert lines[1].startswith(f"error {EVENT}:3: front matter is not valid YAML")


def test_broken_file_with_a_taken_slug_is_a_duplicate_at_once(tmp_path, run, cache):
    root = copy(tmp_path, "broken_post")
    (root / "content/projects/ccc.md").write_text(
        "---\ntitle: Circular City Challenge\nslug: circular-city-challenge\nstatus: approved\nstate: laufend\n"
        "fields_of_action: [Innovation]\n---\n",
        encoding="utf-8",
    )
    root = cache(root)
    result = run(root, "check")
    lines = [line for line in errors(result) if line.startswith("error content/projects/ccc.md")]
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith(
        "error content/projects/ccc.md:3: slug: duplicate slug 'circular-city-challenge', "
        "already used by content/projects/circular-city-challenge.md"
    )
    assert lines[1].startswith("error content/projects/ccc.md:5: state: 'laufend' is not allowed")

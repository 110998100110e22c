"""Every kind of bad hand-written input gets one clear line naming file, line and field."""

from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES

BAD = FIXTURES / "bad_content"


def add(project, folder: str, case: str) -> str:
    """Copy the fixture ``case`` into the project under a slug-shaped name; return its path."""
    name = case.replace("_", "-") + ".md"
    shutil.copy(BAD / folder / f"{case}.md", project / "content" / folder / name)
    return f"content/{folder}/{name}"


CASES = [
    # folder, case, expected line fragment (after the path)
    (
        "posts",
        "unparsable_yaml",
        ":2: front matter is not valid YAML: mapping values are not allowed in this context — check indentation, and put values containing ':'",
    ),
    ("posts", "missing_front_matter", ":1: no front matter — start the file with a line '---'"),
    ("posts", "unclosed_front_matter", ":1: front matter is not closed — add a line '---'"),
    ("posts", "missing_required_field", ":1: category: missing required field — add `category:`"),
    ("posts", "wrong_type", ":6: tags: expected a list, got text"),
    (
        "posts",
        "unknown_vocabulary_value",
        ":4: category: unknown value 'Aktuell' (not in vocabularies.blog_categories) — did you mean 'Aktuelles'?",
    ),
    (
        "posts",
        "unknown_status",
        ":3: status: 'aproved' is not allowed; use one of: draft, review, approved, published — did you mean 'approved'?",
    ),
    ("posts", "misspelt_field", ":6: sumary: unknown field — did you mean `summary`?"),
    ("posts", "invalid_date", ":5: date: invalid date '2023-11-31'"),
    ("posts", "ambiguous_date", ":5: date: ambiguous date '11/12/2023': day and month order is unclear"),
    (
        "posts",
        "unknown_project_reference",
        ":8: projects[1]: unknown project 'circular-city-chalenge' — did you mean 'circular-city-challenge'?",
    ),
    ("posts", "quote_without_speaker", ":9: quotes[1].name: missing required field"),
    ("posts", "not_utf8", ":2: not UTF-8 text (byte 0xe4 cannot be read) — save the file as UTF-8"),
    ("events", "end_before_start", ":1: end (2024-07-10 09:00:00+02:00) is before start (2024-07-10 14:00:00+02:00)"),
    ("events", "unknown_organiser", ":6: organiser: unknown organiser 'modell-campus'"),
    ("news", "empty_projects", ":5: projects: must not be empty — give at least one entry"),
]


@pytest.mark.parametrize("folder,case,expected", CASES, ids=[c[1] for c in CASES])
def test_bad_file_is_reported_with_location(project, run, folder, case, expected):
    path = add(project, folder, case)
    result = run(project, "check")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("error ")]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"error {path}{expected}"), lines[0]
    assert "Traceback" not in result.output


def test_duplicate_slug_names_both_files(project, run):
    path = add(project, "posts", "duplicate_slug")
    result = run(project, "check")
    assert result.exit_code == 1
    assert (
        f"error {path}:6: slug: duplicate slug '2023-12-04-circular-city-challenge', "
        "already used by content/posts/2023-12-04-circular-city-challenge.md"
    ) in result.stdout


def test_all_problems_of_a_run_are_reported_at_once(project, run):
    paths = [add(project, folder, case) for folder, case, _ in CASES]
    result = run(project, "check")
    assert result.exit_code == 1
    for path in paths:
        assert f"error {path}:" in result.stdout
    assert f"{len(CASES)} errors" in result.stdout


def test_bom_and_crlf_are_accepted(project, run):
    add(project, "posts", "bom_and_crlf_accepted")
    result = run(project, "check")
    assert result.exit_code == 0, result.stdout
    listed = run(project, "list", "post", "--json")
    assert "Mädchen-Technik-Kongress in Adlershof" in listed.stdout


def test_file_name_that_is_no_slug(project, run):
    shutil.copy(BAD / "posts" / "bom_and_crlf_accepted.md", project / "content/posts/Neuer Beitrag.md")
    result = run(project, "check")
    assert result.exit_code == 1
    assert (
        "content/posts/Neuer Beitrag.md: file name 'Neuer Beitrag' is not a usable slug — rename the file to neuer-beitrag.md"
        in result.stdout
    )


def test_stray_file_outside_type_folders_is_a_warning(project, run):
    (project / "content" / "notizen.md").write_text("Ideen\n", encoding="utf-8")
    result = run(project, "check")
    assert result.exit_code == 0
    assert "warning content/notizen.md: not in a content type folder; ignored" in result.stdout
    assert run(project, "check", "--strict").exit_code == 1


def test_list_and_stats_fail_when_content_has_errors(project, run):
    add(project, "posts", "unknown_vocabulary_value")
    listed = run(project, "list")
    assert listed.exit_code == 1
    assert "run `commsflow check`" in listed.stderr
    assert run(project, "stats").exit_code == 1

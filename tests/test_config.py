"""commsflow.toml: every problem is one line naming the file, the line and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commsflow.config import CONFIG_FILE, ConfigInvalid, load_config
from commsflow.errors import CommsflowError

HINT = "fix the configuration before anything else can run"


def config_path(project: Path) -> Path:
    return project / CONFIG_FILE


def edit(project: Path, old: str, new: str) -> int:
    """Replace the one line starting with ``old`` by ``new``; return its 1-based line number."""
    path = config_path(project)
    lines = path.read_text(encoding="utf-8").split("\n")
    hits = [n for n, line in enumerate(lines) if line.startswith(old)]
    assert len(hits) == 1, f"{old!r} found {len(hits)} times in the fixture"
    lines[hits[0]] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return hits[0] + 1


def line_of(project: Path, start: str) -> int:
    lines = config_path(project).read_text(encoding="utf-8").split("\n")
    return next(n for n, line in enumerate(lines, 1) if line.startswith(start))


def remove_section(project: Path, name: str) -> None:
    path = config_path(project)
    text = path.read_text(encoding="utf-8")
    changed = re.sub(rf"^\[{re.escape(name)}\]\n.*?(?=^\[|\Z)", "", text, count=1, flags=re.S | re.M)
    assert changed != text
    path.write_text(changed, encoding="utf-8")


def check_fails(run, project: Path):
    result = run(project, "check")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result


def problem_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("error ")]


def shown(project: Path) -> str:
    """The config path as the CLI prints it (the project folder is resolved)."""
    return str(config_path(project.resolve()))


# --- the file itself -------------------------------------------------------------------


def test_valid_fixture_config_loads(project):
    config = load_config(project)
    assert config.organisation.short_name == "MPI"
    assert config.zone.key == "Europe/Berlin"
    assert config.vocabularies.blog_categories == ["Aktuelles", "Einblicke", "Gesichter des MPI"]
    assert config.path("content") == project / "content"
    assert len(config.fingerprint) == 32


def test_missing_config_names_the_file_and_suggests_root(project, run):
    config_path(project).unlink()
    result = check_fails(run, project)
    assert result.stderr.splitlines() == [
        f"error: {shown(project)}: no configuration found",
        "  hint: run commsflow in the project folder or pass --root; a project needs commsflow.toml",
    ]
    assert result.stdout == ""


def test_missing_config_via_load_config(tmp_path):
    with pytest.raises(CommsflowError) as caught:
        load_config(tmp_path)
    assert caught.value.message == f"{tmp_path / 'commsflow.toml'}: no configuration found"
    assert "--root" in caught.value.hint and "commsflow.toml" in caught.value.hint


def test_invalid_toml_names_the_line(project, run):
    line = edit(project, "short_name = ", "short_name = MPI")
    result = check_fails(run, project)
    assert result.stderr.splitlines() == [
        f"error: {shown(project)}:{line}: invalid TOML: Invalid value",
        "  hint: check quotes, brackets and '=' on that line",
    ]
    with pytest.raises(CommsflowError) as caught:
        load_config(project)
    assert caught.value.message == f"{config_path(project)}:{line}: invalid TOML: Invalid value"


def test_invalid_toml_unclosed_table_header(project, run):
    line = edit(project, "[newsletter]", "[newsletter")
    result = check_fails(run, project)
    assert result.stderr.splitlines()[0] == (
        f"error: {shown(project)}:{line}: invalid TOML: Expected ']' at the end of a table declaration"
    )


def test_non_utf8_config_names_the_line(project, run):
    path = config_path(project)
    text = path.read_text(encoding="utf-8")
    line = line_of(project, "authority = ")  # "Senatsverwaltung für …": the first non-ASCII byte
    assert all(ord(ch) < 128 for ch in "\n".join(text.split("\n")[: line - 1]))
    path.write_bytes(text.encode("cp1252"))
    result = check_fails(run, project)
    assert result.stderr.splitlines() == [
        f"error: {shown(project)}:{line}: not UTF-8 text",
        "  hint: save the file as UTF-8",
    ]


def test_config_with_bom_is_accepted(project, run):
    path = config_path(project)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = run(project, "check")
    assert result.exit_code == 0, result.output


# --- the values ------------------------------------------------------------------------


def test_unknown_key_suggests_the_known_one(project, run):
    line = edit(project, "website = ", 'websit = "https://www.berlin.de/industriestadt/"')
    header = line_of(project, "[organisation]")
    result = check_fails(run, project)
    lines = problem_lines(result)
    assert len(lines) == 2, lines
    # the required key is now missing too: pointed at its section header
    assert lines[0].startswith(
        f"error {shown(project)}:{header}: organisation.website: missing required setting — add `website = …` under [organisation]"
    )
    assert lines[1] == f"error {shown(project)}:{line}: organisation.websit: unknown field — did you mean `website`?"
    assert result.stderr.splitlines() == [f"error: 2 problem(s) in commsflow.toml — {HINT}"]


def test_unknown_key_in_a_subtable(project, run):
    line = edit(project, "email = ", 'emial = "pressestelle@senweb.berlin.de"')
    result = check_fails(run, project)
    assert (
        f"error {shown(project)}:{line}: press.contact.emial: unknown field — did you mean `email`?"
        in problem_lines(result)
    )


def test_unknown_key_via_load_config(project):
    line = edit(project, "sender_name = ", 'sendername = "Masterplan Industriestadt Berlin"')
    with pytest.raises(ConfigInvalid) as caught:
        load_config(project)
    formatted = [p.format() for p in caught.value.problems]
    assert (
        f"{config_path(project)}:{line}: newsletter.sendername: unknown field — did you mean `sender_name`?"
        in formatted
    )
    assert str(caught.value) == f"2 problem(s) in commsflow.toml — {HINT}"


@pytest.mark.parametrize(
    "key,value,message",
    [
        (
            "website = ",
            '"www.berlin.de/industriestadt"',
            "organisation.website: 'www.berlin.de/industriestadt' has the wrong form — write a full address starting with https://",
        ),
        (
            "unsubscribe_url = ",
            '"berlin.de/industriestadt/newsletter/abmelden/"',
            "newsletter.unsubscribe_url: 'berlin.de/industriestadt/newsletter/abmelden/' has the wrong form"
            " — write a full address starting with https://",
        ),
        (
            "imprint_url = ",
            '"https://www berlin de/impressum"',
            "newsletter.imprint_url: 'https://www berlin de/impressum' has the wrong form"
            " — write a full address starting with https://",
        ),
    ],
    ids=["website-without-scheme", "unsubscribe-without-scheme", "url-with-spaces"],
)
def test_wrong_url_form(project, run, key, value, message):
    line = edit(project, key, f"{key}{value}")
    result = check_fails(run, project)
    assert problem_lines(result) == [f"error {shown(project)}:{line}: {message}"]
    assert result.stderr.splitlines() == [f"error: 1 problem(s) in commsflow.toml — {HINT}"]


def test_wrong_email_form(project, run):
    line = edit(project, "sender_address = ", 'sender_address = "newsletter(at)senweb.berlin.de"')
    result = check_fails(run, project)
    assert problem_lines(result) == [
        f"error {shown(project)}:{line}: newsletter.sender_address: 'newsletter(at)senweb.berlin.de' "
        "has the wrong form — write an address like presse@example.org"
    ]


def test_unknown_time_zone(project, run):
    line = edit(project, "timezone = ", 'timezone = "Europe/Berlín"')
    result = check_fails(run, project)
    assert problem_lines(result) == [
        f"error {shown(project)}:{line}: organisation.timezone: unknown time zone 'Europe/Berlín'; "
        "use an IANA name like 'Europe/Berlin'"
    ]
    with pytest.raises(ConfigInvalid):
        load_config(project)


def test_other_valid_time_zone_is_used(project):
    edit(project, "timezone = ", 'timezone = "Europe/Vienna"')
    assert load_config(project).zone.key == "Europe/Vienna"


def test_missing_required_section(project, run):
    remove_section(project, "newsletter")
    result = check_fails(run, project)
    lines = problem_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"error {shown(project)}: newsletter: missing required section — add a section [newsletter]"
    )
    assert result.stderr.splitlines() == [f"error: 1 problem(s) in commsflow.toml — {HINT}"]


def test_missing_optional_sections_use_defaults(project):
    remove_section(project, "social")
    remove_section(project, "paths")
    config = load_config(project)
    assert config.social.hashtags == []
    assert config.paths.content == "content" and config.paths.state == ".commsflow"


def test_empty_vocabulary(project, run):
    line = edit(project, "blog_categories = ", "blog_categories = []")
    result = check_fails(run, project)
    assert problem_lines(result) == [
        f"error {shown(project)}:{line}: vocabularies.blog_categories: must not be empty — give at least one entry"
    ]


def test_every_problem_is_reported_at_once(project, run):
    edit(project, "website = ", 'website = "berlin.de"')
    edit(project, "timezone = ", 'timezone = "Berlin"')
    edit(project, "layout = ", 'layout = "senat"')
    remove_section(project, "vocabularies")
    result = check_fails(run, project)
    lines = problem_lines(result)
    assert len(lines) == 4, lines
    assert [line.split(": ", 2)[1] for line in lines] == [
        "organisation.website",
        "organisation.timezone",
        "press.layout",
        "vocabularies",
    ]
    assert "press.layout: 'senat' is not allowed; use one of: classic, senate — did you mean 'senate'?" in lines[2]
    assert result.stderr.splitlines() == [f"error: 4 problem(s) in commsflow.toml — {HINT}"]


def test_config_problem_stops_list_and_stats_too(project, run):
    edit(project, "timezone = ", 'timezone = "Mitteleuropa"')
    for command in ("list", "stats"):
        result = run(project, command)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [f"error: 1 problem(s) in commsflow.toml — {HINT}"]


# --- known defects ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing-section", "list-as-text"])
def test_config_hints_speak_toml(project, run, case):
    if case == "missing-section":
        remove_section(project, "newsletter")
    else:
        edit(project, "hashtags = ", 'hashtags = "#IndustriestadtBerlin"')
    lines = problem_lines(check_fails(run, project))
    assert len(lines) == 1
    assert "front matter" not in lines[0] and "'- ' lines" not in lines[0], lines[0]


def test_unknown_section_names_its_line(project, run):
    line = edit(project, "[newsletter]", "[newsleter]")
    lines = problem_lines(check_fails(run, project))
    assert f"error {shown(project)}:{line}: newsleter: unknown field — did you mean `newsletter`?" in lines

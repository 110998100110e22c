"""``commsflow new``: a correctly named, valid draft file from templates/new/, never over another file."""

from __future__ import annotations

import os
import re
import stat
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from commsflow.campaigns import load_campaigns
from commsflow.errors import CommsflowError
from commsflow.workspace import Workspace

NOW = "2024-03-01 10:00"


@pytest.fixture(autouse=True)
def _no_editor(monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def _item(root: Path, slug: str):
    loaded = Workspace(root, now_text=NOW, use_cache=False).load()
    assert not loaded.errors, [p.format() for p in loaded.errors]
    return loaded.library.get(slug)


def _campaign(root: Path, campaign_id: str):
    workspace = Workspace(root, now_text=NOW)
    found = load_campaigns(root, root / "campaigns", workspace.config.zone)
    assert not found.problems, [p.format() for p in found.problems]
    return found.get(campaign_id)


KINDS = [
    ("post", [], "content/posts/2024-03-01-mein-neuer-beitrag.md"),
    ("news", ["--project", "amber-initiative"], "content/news/2024-03-01-mein-neuer-beitrag.md"),
    ("event", [], "content/events/mein-neuer-beitrag.md"),
    ("project", [], "content/projects/mein-neuer-beitrag.md"),
    ("newsletter", [], "campaigns/mein-neuer-beitrag.yaml"),
    ("campaign", ["--event", "mpi-meet-up-2024"], "campaigns/mein-neuer-beitrag.yaml"),
    ("campaign", [], "campaigns/mein-neuer-beitrag.yaml"),
]


@pytest.mark.parametrize("kind,options,expected", KINDS, ids=[f"{k}{'-' + o[0] if o else ''}" for k, o, _ in KINDS])
def test_each_kind_is_written_where_it_belongs_and_passes_check(mpi, run, kind, options, expected):
    before = run(mpi, "--now", NOW, "check")
    assert before.exit_code == 0, before.output

    result = run(mpi, "--now", NOW, "new", kind, "Mein neuer Beitrag", *options)

    assert result.exit_code == 0, result.output
    assert (mpi / expected).is_file()
    assert f"wrote {expected}" in result.stdout
    assert "commsflow check" in result.stdout
    text = (mpi / expected).read_text(encoding="utf-8")
    assert "Traceback" not in result.output
    assert "\n# " in text or text.startswith("# ")  # the commented optional fields / explanations
    after = run(mpi, "--now", NOW, "check")
    assert after.exit_code == 0, after.output
    # Nothing about the new file: only what was said before (the Meet-up has no end, a warning).
    assert "0 errors, 1 warning" in after.stdout
    assert after.stdout.splitlines()[:-1] == before.stdout.splitlines()[:-1]
    # the check read the new file, and found it valid
    counted = "campaign" if expected.startswith("campaigns/") else "item"
    assert _count(after.stdout, counted) == _count(before.stdout, counted) + 1, (before.stdout, after.stdout)


def _count(summary: str, what: str) -> int:
    match = (
        re.search(r"(\d+) campaigns?:", summary) if what == "campaign" else re.search(r"(\d+) items? valid", summary)
    )
    assert match, summary
    return int(match[1])


@pytest.mark.parametrize("kind", ["post", "news", "event", "project"])
def test_content_starts_as_a_draft_with_german_guidance(mpi, run, kind):
    options = ["--project", "amber-initiative"] if kind == "news" else []
    result = run(mpi, "--now", NOW, "new", kind, "Entwurf", *options)
    assert result.exit_code == 0, result.output
    path = next((mpi / "content").rglob("*entwurf.md"))
    data = _front_matter(path)
    assert data["status"] == "draft"
    assert data["title"] == "Entwurf"
    text = path.read_text(encoding="utf-8")
    assert "BITTE ERSETZEN" in text  # what the editor must replace is marked, in German
    assert "Zeilen mit # sind Kommentare" in text
    assert "commsflow approve" in result.stdout


def test_post_vocabulary_and_date_come_from_configuration_and_clock(mpi, run):
    result = run(mpi, "--now", NOW, "new", "post", "Ein Beitrag")
    assert result.exit_code == 0, result.output
    item = _item(mpi, "2024-03-01-ein-beitrag")
    assert item.kind == "post"
    assert item.meta.category == "Aktuelles"  # the first of [vocabularies] blog_categories
    assert item.meta.date == date(2024, 3, 1)
    assert item.status == "draft"


def test_german_umlauts_and_sharp_s_are_transliterated_in_the_name(mpi, run):
    result = run(mpi, "--now", NOW, "new", "post", "„Größe zählt“: Straße, Öfen & Übermut")
    assert result.exit_code == 0, result.output
    path = mpi / "content/posts/2024-03-01-groesse-zaehlt-strasse-oefen-uebermut.md"
    assert path.is_file(), result.output
    assert _front_matter(path)["title"] == "„Größe zählt“: Straße, Öfen & Übermut"  # the title as written
    assert run(mpi, "--now", NOW, "check").exit_code == 0


def test_a_title_with_quotes_colons_and_hashes_stays_one_valid_title(mpi, run):
    title = 'Rückblick: "MPI Konferenz" #2 – 100 % Kreislauf'
    result = run(mpi, "--now", NOW, "new", "project", title)
    assert result.exit_code == 0, result.output
    assert _item(mpi, "rueckblick-mpi-konferenz-2-100-kreislauf").title == title


def test_date_option_sets_the_prefix_and_the_date(mpi, run):
    result = run(mpi, "--now", NOW, "new", "news", "Nachricht", "--date", "15.04.2024", "--project", "greenchem")
    assert result.exit_code == 0, result.output
    item = _item(mpi, "2024-04-15-nachricht")
    assert item.meta.date == date(2024, 4, 15)
    assert item.projects == ["greenchem"]


def test_slug_option_overrides_the_name_from_the_title(mpi, run):
    assert run(mpi, "--now", NOW, "new", "post", "Ein sehr langer Titel", "--slug", "kurz").exit_code == 0
    assert (mpi / "content/posts/2024-03-01-kurz.md").is_file()
    assert run(mpi, "--now", NOW, "new", "project", "Ein Projekt", "--slug", "projekt-x").exit_code == 0
    assert _item(mpi, "projekt-x").title == "Ein Projekt"


def test_event_starts_a_week_ahead_at_ten_with_the_first_format_and_the_organisation(mpi, run):
    result = run(mpi, "--now", NOW, "new", "event", "MPI Meet-up 2025", "--project", "amber-initiative")
    assert result.exit_code == 0, result.output
    meta = _item(mpi, "mpi-meet-up-2025").meta
    assert meta.start.replace(tzinfo=None) == datetime(2024, 3, 8, 10, 0)
    assert meta.start.utcoffset() is not None  # local to the configured zone
    assert meta.end > meta.start
    assert meta.format == "MPI Konferenz"
    assert meta.organiser == "mpi"
    assert meta.projects == ["amber-initiative"]


def test_event_date_option_sets_its_day(mpi, run):
    assert run(mpi, "--now", NOW, "new", "event", "Workshop", "--date", "2024-06-12").exit_code == 0
    assert _item(mpi, "workshop").meta.start.replace(tzinfo=None) == datetime(2024, 6, 12, 10, 0)


def test_newsletter_goes_out_four_weeks_ahead_and_looks_back_from_the_previous_issue(mpi, run):
    # The shipped issues: newsletter-2024-1 goes out 2024-04-04 for the period up to 2024-04-03.
    result = run(mpi, "--now", "2024-05-01 09:00", "new", "newsletter", "MPI-Newsletter 2/2024")
    assert result.exit_code == 0, result.output
    spec = _campaign(mpi, "mpi-newsletter-2-2024").spec
    assert spec.kind == "newsletter"
    assert spec.send_at.replace(tzinfo=None) == datetime(2024, 5, 29, 10, 0)
    assert (spec.period.start, spec.period.end) == (date(2024, 4, 4), date(2024, 5, 28))
    assert spec.title == "MPI-Newsletter 2/2024"
    assert [section.select.kinds for section in spec.sections] == [("event",), ("post",), ("news",)]
    assert "commsflow approve mpi-newsletter-2-2024" in result.stdout
    assert run(mpi, "--now", "2024-05-01 09:00", "check").exit_code == 0


def test_event_campaign_names_the_event_and_plans_its_steps(mpi, run):
    (mpi / "campaigns/mpi-meet-up-2024.yaml").unlink()  # the shipped campaign for it
    result = run(mpi, "--now", NOW, "new", "campaign", "Meet-up Kommunikation", "--event", "mpi-meet-up-2024")
    assert result.exit_code == 0, result.output
    spec = _campaign(mpi, "meet-up-kommunikation").spec
    assert spec.kind == "event" and spec.event == "mpi-meet-up-2024"
    assert [step.name for step in spec.steps] == ["save-the-date", "erinnerung", "rueckblick"]
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30", "--channel", "linkedin")
    rows = [" ".join(line.split()) for line in calendar.stdout.splitlines() if "mpi-meet-up-2024" in line]
    assert any("14.03.2024 10:00 linkedin mpi-meet-up-2024 save-the-date" in row for row in rows), calendar.output
    assert any("18.04.2024 10:00 linkedin mpi-meet-up-2024 reminder" in row for row in rows), calendar.output
    assert any("26.04.2024 14:00 linkedin mpi-meet-up-2024 recap" in row for row in rows), calendar.output


def test_campaign_without_event_is_a_weekly_slot_for_the_rest_of_the_year(mpi, run):
    result = run(mpi, "--now", NOW, "new", "campaign", "Blog am Dienstag")
    assert result.exit_code == 0, result.output
    spec = _campaign(mpi, "blog-am-dienstag").spec
    assert spec.kind == "slot"
    assert (spec.every, spec.time, spec.channel, spec.type) == ("tuesday", "10:00", "linkedin", "post")
    assert (spec.start, spec.end, spec.items_from) == (date(2024, 3, 1), date(2024, 12, 31), date(2024, 3, 1))


# --- never overwrite -----------------------------------------------------------------------


def test_an_existing_file_is_never_overwritten(mpi, run):
    path = mpi / "content/projects/amber-initiative.md"
    before = path.read_bytes()
    result = run(mpi, "--now", NOW, "new", "project", "AMBER Initiative")
    assert result.exit_code == 1
    assert "content/projects/amber-initiative.md already exists" in result.stderr
    assert "--slug" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_bytes() == before


def test_writing_twice_refuses_the_second_time(mpi, run):
    assert run(mpi, "--now", NOW, "new", "newsletter", "Sonderausgabe").exit_code == 0
    path = mpi / "campaigns/sonderausgabe.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("BITTE ERSETZEN", "Mein Text"), encoding="utf-8")
    edited = path.read_bytes()
    again = run(mpi, "--now", NOW, "new", "newsletter", "Sonderausgabe")
    assert again.exit_code == 1
    assert "campaigns/sonderausgabe.yaml already exists" in again.stderr
    assert path.read_bytes() == edited


def test_a_slug_used_by_another_type_is_refused(mpi, run):
    result = run(mpi, "--now", NOW, "new", "event", "AMBER Initiative")
    assert result.exit_code == 1
    assert "'amber-initiative' is already used by content/projects/amber-initiative.md" in result.stderr
    assert "--slug" in result.stderr
    assert not (mpi / "content/events/amber-initiative.md").exists()


def test_a_campaign_id_set_in_another_file_is_refused(mpi, run):
    (mpi / "campaigns/anders.yaml").write_text(
        (mpi / "campaigns/blog-dienstag-2024.yaml").read_text(encoding="utf-8") + "id: blog-2025\n",
        encoding="utf-8",
    )
    result = run(mpi, "--now", NOW, "new", "campaign", "Blog 2025")
    assert result.exit_code == 1
    assert "'blog-2025' is already used by campaigns/anders.yaml" in result.stderr
    assert not (mpi / "campaigns/blog-2025.yaml").exists()


def test_a_file_that_appears_meanwhile_is_kept(tmp_path):
    from commsflow.commands.new import _write_new

    target = tmp_path / "x.md"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(CommsflowError, match="already exists"):
        _write_new(target, "x.md", "new")
    assert target.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]  # no staging file left behind


def test_without_hard_links_the_file_is_created_exclusively(tmp_path, monkeypatch):
    from commsflow.commands import new

    def no_links(source, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(new.os, "link", no_links)
    target = tmp_path / "x.md"
    new._write_new(target, "x.md", "neu\n")
    assert target.read_text(encoding="utf-8") == "neu\n"
    with pytest.raises(CommsflowError, match="already exists"):
        new._write_new(target, "x.md", "anders\n")
    assert target.read_text(encoding="utf-8") == "neu\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]


# --- $EDITOR -----------------------------------------------------------------------------------


def _recording_editor(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "editor-called-with.txt"
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys\nopen({str(record)!r}, 'a', encoding='utf-8').write('\\n'.join(sys.argv[1:]) + '\\n')\n",
        encoding="utf-8",
    )
    wrapper = tmp_path / "my editor"  # a space in the path: EDITOR is split like a shell would
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper, record


def test_editor_is_opened_with_the_new_file(mpi, run, tmp_path, monkeypatch):
    wrapper, record = _recording_editor(tmp_path)
    monkeypatch.setenv("EDITOR", f"'{wrapper}' --wait")
    result = run(mpi, "--now", NOW, "new", "post", "Mit Editor")
    assert result.exit_code == 0, result.output
    path = mpi / "content/posts/2024-03-01-mit-editor.md"
    assert record.read_text(encoding="utf-8").splitlines() == ["--wait", str(path)]


def test_no_editor_without_editor_variable(mpi, run, tmp_path, monkeypatch):
    wrapper, record = _recording_editor(tmp_path)
    monkeypatch.setenv("VISUAL", str(wrapper))  # only EDITOR is used
    assert "EDITOR" not in os.environ
    assert run(mpi, "--now", NOW, "new", "post", "Ohne Editor").exit_code == 0
    assert not record.exists()


def test_an_editor_that_cannot_start_leaves_the_file_and_says_so(mpi, run, monkeypatch):
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    result = run(mpi, "--now", NOW, "new", "post", "Kein Editor")
    assert result.exit_code == 0, result.output
    assert (mpi / "content/posts/2024-03-01-kein-editor.md").is_file()
    assert "the editor (/nonexistent/editor) could not be started" in result.stderr
    assert "Traceback" not in result.output


def test_the_editor_is_not_opened_when_nothing_was_written(mpi, run, tmp_path, monkeypatch):
    wrapper, record = _recording_editor(tmp_path)
    monkeypatch.setenv("EDITOR", str(wrapper))
    assert run(mpi, "--now", NOW, "new", "project", "AMBER Initiative").exit_code == 1
    assert not record.exists()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message,hint",
    [
        (["news", "Ohne Projekt"], "news is always about a project", "--project"),
        (["news", "X", "--project", "greenchemm"], "there is no project 'greenchemm'", "did you mean 'greenchem'?"),
        (["campaign", "X", "--event", "mpi-meetup-2024"], "there is no event 'mpi-meetup-2024'", "mpi-meet-up-2024"),
        (["post", "X", "--date", "31.09.2024"], "September has 30 days", "2024-05-02"),
        (["post", "X", "--slug", "Mein Slug"], "--slug 'Mein Slug' is not a usable name", "--slug mein-slug"),
        (["post", "!!!"], "no name can be made from the title '!!!'", "--slug"),
        (["post", "   "], "the title is empty", "commsflow new post"),
        (["project", "X", "--date", "2024-05-01"], "a project has no date", "--date"),
        (["post", "X", "--event", "mpi-meet-up-2024"], "--event is for campaigns", "--event"),
        (["newsletter", "X", "--project", "greenchem"], "--project is for posts, news and events", "--project"),
        (["post", "Hallo <script>alert(1)</script>"], "was not written: raw HTML", "plain text"),
    ],
)
def test_bad_input_gets_one_message_and_writes_nothing(mpi, run, args, message, hint):
    before = sorted(p.relative_to(mpi) for p in mpi.rglob("*") if ".commsflow" not in p.parts)
    result = run(mpi, "--now", NOW, "new", *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert hint in result.stderr.split("hint:", 1)[1]
    assert "Traceback" not in result.output
    after = sorted(p.relative_to(mpi) for p in mpi.rglob("*") if ".commsflow" not in p.parts)
    assert after == before


def test_unknown_kind_is_refused_by_the_command_line(mpi, run):
    result = run(mpi, "new", "pressrelease", "X")
    assert result.exit_code == 2
    assert "post" in result.stderr and "campaign" in result.stderr


def test_a_project_without_the_new_templates_is_told_where_they_come_from(project, run):
    result = run(project, "--now", NOW, "new", "post", "Beitrag")
    assert result.exit_code == 1
    assert "new/post.md: template not found" in result.stderr
    assert "copy the templates/ folder" in result.stderr
    assert not list((project / "content").rglob("*beitrag.md"))


def test_event_campaign_leaves_steps_already_past_commented_out(mpi, run):
    # The meet-up starts 2024-04-25 16:00: on 2024-04-01 the save-the-date (-6 weeks) is past.
    result = run(mpi, "--now", "2024-04-01 10:00", "new", "campaign", "Spaet dran", "--event", "mpi-meet-up-2024")
    assert result.exit_code == 0, result.output
    text = (mpi / "campaigns/spaet-dran.yaml").read_text(encoding="utf-8")
    assert "  # - name: save-the-date  # Save the Date auf LinkedIn – liegt schon in der Vergangenheit" in text
    assert [step.name for step in _campaign(mpi, "spaet-dran").spec.steps] == ["erinnerung", "rueckblick"]
    assert run(mpi, "--now", "2024-04-01 10:00", "check").exit_code == 0


def test_event_campaign_for_an_event_long_over_is_refused(mpi, run):
    result = run(mpi, "--now", NOW, "new", "campaign", "Zu spaet", "--event", "mpi-konferenz-circular-economy-2023")
    assert result.exit_code == 1
    assert "every step of the template lies in the past for event 'mpi-konferenz-circular-economy-2023'" in (
        result.stderr
    )
    assert "choose an upcoming event" in result.stderr
    assert not (mpi / "campaigns/zu-spaet.yaml").exists()


def test_event_campaign_for_an_event_with_errors_says_to_fix_it_first(mpi, run):
    path = mpi / "content/events/mpi-meet-up-2024.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("format: MPI Meet-up", "format: Gartenparty"), encoding="utf-8"
    )
    result = run(mpi, "--now", NOW, "new", "campaign", "Kaputt", "--event", "mpi-meet-up-2024")
    assert result.exit_code == 1
    assert "--event: event 'mpi-meet-up-2024' has errors" in result.stderr
    assert "fix content/events/mpi-meet-up-2024.md first (commsflow check)" in result.stderr
    assert "Traceback" not in result.output
    assert not (mpi / "campaigns/kaputt.yaml").exists()


def test_new_works_while_other_content_has_errors(mpi, run):
    path = mpi / "content/events/mpi-meet-up-2024.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("format: MPI Meet-up", "format: Gartenparty"), encoding="utf-8"
    )
    result = run(mpi, "--now", NOW, "new", "post", "Trotzdem")
    assert result.exit_code == 0, result.output
    assert (mpi / "content/posts/2024-03-01-trotzdem.md").is_file()


def test_lint_reports_a_placeholder_left_from_the_template(run, mpi):
    """What `new` marks as still to be written must not reach a sign-off unnoticed."""
    result = run(mpi, "--now", "2024-03-01 10:00", "new", "post", "Ein Beitrag mit Platzhaltern")
    assert result.exit_code == 0, result.output
    lint = run(mpi, "--now", "2024-03-01 10:00", "lint")
    assert lint.exit_code == 1
    assert "the text still says „BITTE ERSETZEN“" in lint.stdout
    assert "2024-03-01-ein-beitrag-mit-platzhaltern.md" in lint.stdout

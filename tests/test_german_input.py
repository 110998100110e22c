"""Editors write German: status words, vocabulary values however spelt, and error messages
that name the cause in their terms (a tab, a day the month does not have, an item still in
review). And the publishing calendar shows titles and German names, not slugs and codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import icalendar
import pytest

from commsflow import dates
from commsflow.fields import fold

POST = "2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle"
NOW = ("--now", "2024-03-01 10:00")


def post_file(root: Path) -> Path:
    return root / "content" / "posts" / f"{POST}.md"


def set_field(root: Path, name: str, value: str) -> Path:
    """Rewrite the line ``name: …`` of the post's front matter."""
    path = post_file(root)
    text, count = re.subn(rf"(?m)^{name}: .*$", f"{name}: {value}", path.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"no {name} line in {path}"
    path.write_text(text, encoding="utf-8")
    return path


def listed(run, root: Path) -> dict:
    result = run(root, "list", "post", "--json")
    assert result.exit_code == 0, result.output
    return {row["slug"]: row for row in json.loads(result.stdout)}


# --- status in German -------------------------------------------------------------------


@pytest.mark.parametrize(
    "written,status",
    [
        ("freigegeben", "approved"),
        ("Freigegeben", "approved"),
        ("entwurf", "draft"),
        ("Entwurf", "draft"),
        ("prüfung", "review"),
        ("Prüfung", "review"),
        ("pruefung", "review"),
        ("in Prüfung", "review"),
        ("IN PRUEFUNG", "review"),
        ("veröffentlicht", "published"),
        ("Veroeffentlicht", "published"),
        ("Approved", "approved"),
        ("review", "review"),
    ],
)
def test_german_status_words_are_read_as_the_status(run, mpi, written, status):
    set_field(mpi, "status", written)
    result = run(mpi, "check")
    assert result.exit_code == 0, result.output
    assert listed(run, mpi)[POST]["status"] == status


def test_an_approved_german_status_lets_the_item_into_the_newsletter(run, mpi):
    """Not only the listing: what the status gates (an issue's items) follows the German word."""
    campaign = mpi / "campaigns" / "gesichter.yaml"
    campaign.write_text(
        "kind: newsletter\ntitle: Test\nsubject: Test\npreheader: Vorschau\nsend_at: 2024-04-04 10:00\n"
        "period: {start: 2023-11-08, end: 2024-04-03}\nintro: Hallo.\n"
        f"sections:\n  - title: Gesichter\n    featured: {POST}\n",
        encoding="utf-8",
    )
    refused = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert refused.exit_code == 1
    set_field(mpi, "status", "freigegeben")
    built = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert built.exit_code == 0, built.output


@pytest.mark.parametrize(
    "written,hint",
    [
        ("fertig", "German words work too: Entwurf, Prüfung, in Prüfung, freigegeben, veröffentlicht"),
        ("freigegebn", "did you mean 'freigegeben'?"),
        ("entwurff", "did you mean 'Entwurf'?"),
        ("aproved", "did you mean 'approved'?"),
    ],
)
def test_an_unknown_status_names_the_allowed_values_and_the_likeliest(run, mpi, written, hint):
    path = set_field(mpi, "status", written)
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        f"{path.relative_to(mpi)}:3: status: '{written}' is not allowed; use one of: draft, review, approved, "
        f"published — {hint}"
    ) in result.stdout


def test_a_status_that_is_no_text_is_still_refused(run, mpi):
    set_field(mpi, "status", "1")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert "status: 1 is not allowed; use one of: draft, review, approved, published" in result.stdout


# --- vocabulary values, however spelt --------------------------------------------------


@pytest.mark.parametrize(
    "written,configured",
    [
        ("aktuelles", "Aktuelles"),
        ("AKTUELLES", "Aktuelles"),
        ("gesichter-des-mpi", "Gesichter des MPI"),
        ("gesichter_des_mpi", "Gesichter des MPI"),
        ("Gesichter  des mpi", "Gesichter des MPI"),
        ("einblicke", "Einblicke"),
    ],
)
def test_vocabulary_values_match_whatever_the_spelling_and_become_the_configured_one(run, mpi, written, configured):
    set_field(mpi, "category", written)
    result = run(mpi, "check")
    assert result.exit_code == 0, result.output
    assert listed(run, mpi)[POST]["meta"]["category"] == configured


def test_umlauts_written_out_and_accents_match_too(run, mpi):
    path = post_file(mpi)
    text = path.read_text(encoding="utf-8").replace(
        "category: Gesichter des MPI\n",
        "category: gesichter-des-mpi\ntransformation_lines: [oekologische-transformation]\n",
    )
    path.write_text(text, encoding="utf-8")
    result = run(mpi, "check")
    assert result.exit_code == 0, result.output
    assert listed(run, mpi)[POST]["meta"]["transformation_lines"] == ["Ökologische Transformation"]


def test_the_newsletter_selects_an_item_by_its_configured_category(run, mpi):
    """The normalised value is what the rest of commsflow sees: a section selecting
    'Gesichter des MPI' takes the post written as 'gesichter-des-mpi'."""
    set_field(mpi, "category", "gesichter-des-mpi")
    set_field(mpi, "status", "freigegeben")
    (mpi / "campaigns" / "gesichter.yaml").write_text(
        "kind: newsletter\ntitle: Test\nsubject: Test\npreheader: Vorschau\nsend_at: 2024-04-04 10:00\n"
        "period: {start: 2023-11-08, end: 2024-04-03}\nintro: Hallo.\nsections:\n  - title: Gesichter\n"
        "    select: {type: post, category: Gesichter des MPI, from: 2024-02-01, until: 2024-03-01}\n",
        encoding="utf-8",
    )
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    text = (mpi / "build" / "newsletter" / "gesichter" / "email.txt").read_text(encoding="utf-8")
    assert "Die AMBER-Koordinierungsstelle bei Berlin Partner" in text


def test_a_value_not_in_the_vocabulary_still_gets_a_suggestion(run, mpi):
    set_field(mpi, "category", "gesichter-des-mpii")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        "category: unknown value 'gesichter-des-mpii' (not in vocabularies.blog_categories) — "
        "did you mean 'Gesichter des MPI'?"
    ) in result.stdout


def test_fold():
    assert fold("Gesichter des MPI") == fold("gesichter-des-mpi") == fold("GESICHTER_DES_MPI")
    assert fold("Ökologische Transformation") == fold("oekologische transformation")
    assert fold("Café") == fold("cafe")
    assert fold("Straße") == fold("strasse")
    assert fold("Aktuelles") != fold("Einblicke")


# --- a tab in the front matter ----------------------------------------------------------


def test_a_tab_in_the_indentation_is_named_as_such(run, mpi):
    path = post_file(mpi)
    text = path.read_text(encoding="utf-8").replace("  - amber-initiative", "\t- amber-initiative")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("\t- amber-initiative") + 1
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        f"error {path.relative_to(mpi)}:{line}: front matter is indented with a tab character (Tabulator) — "
        "indent with spaces, not with the Tab key"
    ) in result.stdout
    assert "Traceback" not in result.output


def test_a_tab_before_a_field_is_found_on_its_line(run, mpi):
    path = post_file(mpi)
    text = path.read_text(encoding="utf-8").replace("\ncategory:", "\n\tcategory:")
    path.write_text(text, encoding="utf-8")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert f"error {path.relative_to(mpi)}:4: front matter is indented with a tab character (Tabulator)" in (
        result.stdout
    )


def test_other_yaml_errors_are_not_blamed_on_a_harmless_tab(run, mpi):
    """A tab after ``key:`` is fine in YAML; a broken line elsewhere keeps its own message."""
    path = post_file(mpi)
    text = (
        path.read_text(encoding="utf-8")
        .replace("status: draft", "status:\tdraft")
        .replace("\ncategory: Gesichter des MPI", "\ncategory: Gesichter: des MPI")
    )
    path.write_text(text, encoding="utf-8")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert "Tabulator" not in result.stdout
    assert f"error {path.relative_to(mpi)}:4: front matter is not valid YAML: mapping values" in result.stdout


# --- days the month does not have --------------------------------------------------------


@pytest.mark.parametrize(
    "text,reason",
    [
        ("31.09.2024", "September has 30 days — write a day from 1 to 30"),
        ("2024-09-31", "September has 30 days — write a day from 1 to 30"),
        ("31.04.2024 10:00", "April has 30 days — write a day from 1 to 30"),
        ("2024-06-31 10:00", "June has 30 days — write a day from 1 to 30"),
        ("29.02.2023", "February 2023 has 28 days (2023 is not a leap year) — write a day from 1 to 28"),
        ("32.01.2024", "January has 31 days — write a day from 1 to 31"),
        ("0.01.2024", "there is no day 0 — write a day from 1 to 31"),
        ("2024-00-10", "there is no month 0 — a year has 12 months, 01 to 12"),
    ],
)
def test_an_impossible_day_says_how_many_days_the_month_has(text, reason):
    with pytest.raises(dates.DateError) as caught:
        dates.parse_when(text)
    assert str(caught.value) == f"invalid date {text!r}: {reason}"


def test_leap_days_that_exist_are_read():
    assert dates.parse_when("29.02.2024").isoformat() == "2024-02-29"
    assert dates.parse_when("2024-02-29 10:00").isoformat() == "2024-02-29T10:00:00"


def test_an_impossible_date_in_front_matter_names_field_line_and_month(run, mpi):
    path = set_field(mpi, "date", "31.09.2024")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        f"error {path.relative_to(mpi)}:5: date: invalid date '31.09.2024': September has 30 days — "
        "write a day from 1 to 30"
    ) in result.stdout


# --- a newsletter section whose items are still in review -------------------------------


def _section_campaign(root: Path) -> None:
    (root / "campaigns" / "gesichter.yaml").write_text(
        "kind: newsletter\ntitle: Test\nsubject: Test\npreheader: Vorschau\nsend_at: 2024-04-04 10:00\n"
        "period: {start: 2023-11-08, end: 2024-04-03}\nintro: Hallo.\nsections:\n"
        "  - title: Aktuelles\n    select: {type: post, category: Aktuelles, limit: 3}\n"
        "  - title: Gesichter\n"
        "    select: {type: post, category: Gesichter des MPI, from: 2024-02-01, until: 2024-03-01}\n",
        encoding="utf-8",
    )


def test_a_section_left_empty_by_an_item_in_review_says_so(run, mpi):
    set_field(mpi, "status", "in Prüfung")
    _section_campaign(mpi)
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    assert (
        f"sections[1]: section 'Gesichter' is left out: '{POST}' is still in review, not approved — "
        "approve it (status: approved) or preview with --drafts"
    ) in result.stdout
    assert "is empty" not in result.stdout


def test_a_section_left_empty_by_a_draft_says_so(run, mpi):
    _section_campaign(mpi)
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    assert f"section 'Gesichter' is left out: '{POST}' is still a draft, not approved" in result.stdout


def test_a_section_with_nothing_in_its_window_is_still_empty(run, mpi):
    _section_campaign(mpi)
    path = mpi / "campaigns" / "gesichter.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("2024-02-01", "2030-01-01").replace("2024-03-01", "2031-01-01")
    )
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    assert "section 'Gesichter' is empty" in result.stdout
    assert "still" not in result.stdout


# --- the publishing calendar export ------------------------------------------------------


def _entries(path: Path) -> list:
    return icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def _summaries(path: Path) -> list[str]:
    return [str(event["SUMMARY"]) for event in _entries(path)]


def test_calendar_export_shows_titles_and_german_names(run, mpi, tmp_path):
    target = tmp_path / "plan.ics"
    result = run(
        mpi, "--lang", "de", "--now", "2024-03-01 10:00", "calendar", "--from", "2024-03-01", "--ics", str(target)
    )
    assert result.exit_code == 0, result.output
    summaries = _summaries(target)
    for expected in (
        "LinkedIn: Save the Date – MPI Meet-up im Bosch IoT Campus",
        "LinkedIn: Erinnerung – MPI Meet-up im Bosch IoT Campus",
        "LinkedIn: Rückblick – MPI Meet-up im Bosch IoT Campus",
        "LinkedIn: Beitrag – 2. Monitoring-Bericht: 42 Projekte im Masterplan Industrie",
        "Presse: Presseeinladung – MPI Meet-up im Bosch IoT Campus",
        "Presse: Presse-Rückblick – MPI Meet-up im Bosch IoT Campus",
        "Newsletter – MPI-Newsletter 1/2024",
    ):
        assert any(summary.startswith(expected) for summary in summaries), (expected, summaries)
    assert not any(re.search(r"[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$", summary) for summary in summaries), summaries
    assert any(summary.startswith("LinkedIn: Förderaufruf – Fördercall Circular Economy") for summary in summaries)
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    assert str(calendar["X-WR-CALNAME"]) == "Veröffentlichungen MPI"
    descriptions = [str(event["DESCRIPTION"]) for event in _entries(target)]
    assert all(text.startswith("Status: ") for text in descriptions)
    assert "Status: geplant" in descriptions[0]
    assert any("Status: zurückgehalten" in text for text in descriptions)
    assert not any(re.search(r"Status: (planned|blocked)", text) for text in descriptions)
    assert {str(category) for event in _entries(target) for category in event["CATEGORIES"].cats} <= {
        "LinkedIn",
        "Presse",
        "Newsletter",
    }


def test_a_missed_job_reads_verpasst(run, mpi, tmp_path):
    target = tmp_path / "plan.ics"
    result = run(
        mpi,
        *("--lang", "de", "--now", "2024-03-20 10:00", "calendar", "--from", "2024-03-05", "--to", "2024-03-05"),
        *("--ics", str(target)),
    )
    assert result.exit_code == 0, result.output
    entries = _entries(target)
    assert entries, result.output
    assert all("Status: verpasst" in str(event["DESCRIPTION"]) for event in entries)
    assert not any("missed" in str(event["DESCRIPTION"]) for event in entries)


def test_build_writes_the_same_titled_calendar(run, mpi):
    result = run(mpi, "--now", "2024-03-01 10:00", "build")
    assert result.exit_code == 0, result.output
    summaries = _summaries(mpi / "build" / "calendar.ics")
    assert "LinkedIn: Save the Date – MPI Meet-up im Bosch IoT Campus" in summaries
    assert "Newsletter – MPI-Newsletter 1/2024" in summaries


def _team_labels(mpi):
    """The team's own calendar wording, labels.yaml: the tests speak English, which without
    labels.en.yaml is worded by it too."""
    (mpi / "templates" / "calendar" / "labels.en.yaml").unlink()
    return mpi / "templates" / "calendar" / "labels.yaml"


def test_the_calendar_export_speaks_english_on_request(run, mpi, tmp_path):
    target = tmp_path / "plan.ics"
    result = run(mpi, "--lang", "en", "--now", "2024-03-01 10:00", "calendar", "--ics", str(target))
    assert result.exit_code == 0, result.output
    assert "LinkedIn: Save the Date – MPI Meet-up im Bosch IoT Campus" in _summaries(target)
    assert "LinkedIn: Reminder – MPI Meet-up im Bosch IoT Campus" in _summaries(target)
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    assert calendar["X-WR-CALNAME"] == "MPI publications"
    assert {str(event["DESCRIPTION"]).splitlines()[0] for event in calendar.walk("VEVENT")} >= {"State: planned"}
    german = tmp_path / "plan-de.ics"
    run(mpi, "--lang", "de", "--now", "2024-03-01 10:00", "calendar", "--ics", str(german))
    assert "LinkedIn: Erinnerung – MPI Meet-up im Bosch IoT Campus" in _summaries(german)


def test_calendar_wording_comes_from_the_templates_folder(run, mpi, tmp_path):
    labels = _team_labels(mpi)
    text = labels.read_text(encoding="utf-8")
    text = text.replace('summary: "{channel}: {kind} – {title}"', 'summary: "{title} ({channel}, {kind})"')
    text = text.replace("missed: verpasst", "missed: nicht gesendet").replace(
        "reminder: Erinnerung", "reminder: Reminder"
    )
    labels.write_text(text, encoding="utf-8")
    target = tmp_path / "plan.ics"
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(target))
    assert result.exit_code == 0, result.output
    assert "MPI Meet-up im Bosch IoT Campus (LinkedIn, Reminder)" in _summaries(target)


def test_a_placeholder_the_calendar_cannot_fill_is_reported_with_its_line(run, mpi, tmp_path):
    labels = _team_labels(mpi)
    text = labels.read_text(encoding="utf-8").replace("{kind} – {title}", "{kind} – {titel}")
    labels.write_text(text, encoding="utf-8")
    line = text.splitlines().index('summary: "{channel}: {kind} – {titel}"') + 1
    target = tmp_path / "plan.ics"
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(target))
    assert result.exit_code == 1
    assert (
        f"error: templates/calendar/labels.yaml:{line}: summary: {{titel}} cannot be filled in here\n" in result.output
    )
    assert "hint: use {channel}, {kind}, {title}" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()


def test_attribute_lookups_in_the_wording_are_refused(run, mpi, tmp_path):
    labels = _team_labels(mpi)
    text = labels.read_text(encoding="utf-8").replace('state: "Status: {state}"', 'state: "{state.__class__}"')
    labels.write_text(text, encoding="utf-8")
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(tmp_path / "plan.ics"))
    assert result.exit_code == 1
    assert "state: {state.__class__} cannot be filled in here\n  hint: use {state}" in result.output


def test_a_missing_labels_file_says_what_to_copy(run, mpi, tmp_path):
    _team_labels(mpi).unlink()
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(tmp_path / "plan.ics"))
    assert result.exit_code == 1
    assert "templates/calendar/labels.yaml: template not found" in result.output
    assert "hint: commsflow expects its templates in" in result.output
    assert "copy calendar/labels.yaml from commsflow's templates/ folder" in result.output
    assert "Traceback" not in result.output


def test_broken_yaml_in_the_labels_file_names_its_line(run, mpi, tmp_path):
    labels = _team_labels(mpi)
    text = labels.read_text(encoding="utf-8").replace("  recap: Rückblick", "\trecap: Rückblick")
    labels.write_text(text, encoding="utf-8")
    line = text.splitlines().index("\trecap: Rückblick") + 1
    result = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(tmp_path / "plan.ics"))
    assert result.exit_code == 1
    assert f"templates/calendar/labels.yaml:{line}: file is indented with a tab character (Tabulator)" in result.output


def test_a_job_without_a_title_is_named_by_channel_and_kind(mpi):
    """The figures post has no item of its own: „LinkedIn: Zahlen“, no slug."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commsflow import i18n
    from commsflow.calendar import Job
    from commsflow.config import load_config
    from commsflow.renderers.ics import calendar_ics

    i18n.use("de")  # the team's wording (labels.yaml); the English one is labels.en.yaml

    config = load_config(mpi)
    planned = datetime(2024, 3, 5, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    job = Job("j1", "zahlen-2024", "post", "linkedin", "figures", "zahlen", planned, "campaigns/x.yaml", state="missed")
    data = calendar_ics([job], config, now=planned, titles={})
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "LinkedIn: Zahlen"
    assert str(event["DESCRIPTION"]).splitlines() == ["Status: verpasst", "Kampagne: zahlen-2024 (campaigns/x.yaml)"]


def test_a_section_with_a_call_to_action_has_no_items_but_is_not_left_out(run, mpi):
    set_field(mpi, "status", "Prüfung")
    _section_campaign(mpi)
    path = mpi / "campaigns" / "gesichter.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "    cta: {text: Alle Porträts, url: 'https://www.example.org/gesichter'}\n",
        encoding="utf-8",
    )
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    assert f"section 'Gesichter' has no items: '{POST}' is still in review, not approved" in result.stdout


def test_several_items_waiting_are_named_together(run, mpi):
    _section_campaign(mpi)
    other = mpi / "content" / "posts" / "2024-02-22-gesichter-zwei.md"
    other.write_text(
        post_file(mpi).read_text(encoding="utf-8").replace("status: draft", "status: review"), encoding="utf-8"
    )
    result = run(mpi, *NOW, "newsletter", "build", "gesichter")
    assert result.exit_code == 0, result.output
    assert "section 'Gesichter' is left out: '" in result.stdout
    assert f"'{POST}' (still a draft)" in result.stdout
    assert "'2024-02-22-gesichter-zwei' (still in review)" in result.stdout
    assert "are not approved — approve them (status: approved) or preview with --drafts" in result.stdout


def test_a_slot_campaigns_category_is_matched_like_content_and_a_typo_is_an_error(run, mpi):
    """`category: gesichter-des-mpi` in a campaign picks the "Gesichter des MPI" posts; an
    unknown one is an error with a suggestion instead of silently matching nothing."""
    campaign = mpi / "campaigns" / "blog-dienstag-2024.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text + "category: gesichter-des-mpi\n", encoding="utf-8")
    calendar = run(mpi, "--now", "2024-03-01 10:00", "calendar", "--channel", "linkedin", "--to", "2024-04-30")
    assert calendar.exit_code == 0, calendar.output
    assert "2024-03-27-gesichter-des-mpi-koimo-modell-campus-ringberlin" in calendar.stdout
    assert "2024-03-01-zweiter-monitoring-bericht" not in calendar.stdout  # another category
    campaign.write_text(text + "category: Gesichter des MPPI\n", encoding="utf-8")
    check = run(mpi, "--now", "2024-03-01 10:00", "check")
    assert check.exit_code == 1
    assert "campaigns/blog-dienstag-2024.yaml" in check.stdout and "did you mean 'Gesichter des MPI'?" in check.stdout


def test_the_publishing_calendar_has_the_zones_changes_as_the_tz_database(run, mpi, tmp_path):
    """Summer time from 02:00, winter time from 03:00 local (icalendar's own VTIMEZONE starts summer
    time an hour late and carries an English comment)."""
    target = tmp_path / "plan.ics"
    assert run(mpi, "--now", "2024-03-01 10:00", "calendar", "--ics", str(target)).exit_code == 0
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Berlin"]
    starts = {
        part.name: part.decoded("DTSTART") for part in zones[0].subcomponents if part.decoded("DTSTART").year == 2024
    }
    assert starts["DAYLIGHT"].isoformat() == "2024-03-31T02:00:00"
    assert starts["STANDARD"].isoformat() == "2024-10-27T03:00:00"
    assert b"COMMENT" not in target.read_bytes()

"""Issue 13, who may sign off: the acting person (--by, COMMSFLOW_USER, git's identity), the
team under [[people]] with roles and channels, the four-eyes rule, and `reject` — on a copy of
the MPI 2024 project, with real git repositories where git's identity matters."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import real_run

from commsflow.approvals import load_approvals, rejections
from commsflow.config import load_config
from commsflow.people import Acting, acting, authors, git_author, git_identity

NOW = "2024-03-01 10:00"
REPORT = "2024-03-01-zweiter-monitoring-bericht"  # LinkedIn only: Tue 5 March 2024, 10:00
EVENT = "mpi-meet-up-2024"  # LinkedIn posts, press invitation and recap, the newsletter teaser
IN_REVIEW = "mpi-deep-dive-zirkulaeres-bauen-2024"  # status: review
DANA = "dana.schulz@senweb.berlin.de"

TEAM = """
[[people]]
name = "Dana Schulz"
email = "dana.schulz@senweb.berlin.de"
roles = ["author", "reviewer"]
channels = ["linkedin", "newsletter", "mastodon", "webhook"]

[[people]]
name = "Pressestelle"
email = "pressestelle@senweb.berlin.de"
roles = ["reviewer"]

[[people]]
name = "Max Muster"
email = "max.muster@senweb.berlin.de"
roles = ["author"]
"""


@pytest.fixture(autouse=True)
def _nobody(monkeypatch, tmp_path):
    """No identity from the machine running the tests: no COMMSFLOW_USER, no global git config."""
    monkeypatch.delenv("COMMSFLOW_USER", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def team(root: Path, extra: str = "", *, four_eyes: bool = False) -> None:
    with (root / "commsflow.toml").open("a", encoding="utf-8") as config:
        config.write(TEAM + extra)
        if four_eyes:
            config.write("\n[signoff]\nfour_eyes = true\n")


def records(root: Path) -> dict[str, dict]:
    data = yaml.safe_load((root / "approvals.yaml").read_text(encoding="utf-8"))
    return {entry["item"]: entry for entry in data["approvals"]}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def repository(root: Path, name: str | None = None, email: str | None = None) -> None:
    """``root`` as a git repository with everything committed, by ``name`` <``email``>."""
    git(root, "init", "-q")
    if name:
        git(root, "config", "user.name", name)
    if email:
        git(root, "config", "user.email", email)
    git(root, "add", "-A")
    git(root, "-c", "user.name=Seed", "-c", "user.email=seed@example.org", "commit", "-q", "-m", "MPI 2024")


def commit_as(root: Path, path: str, name: str, email: str, line: str) -> None:
    with (root / path).open("a", encoding="utf-8") as file:
        file.write(line)
    git(root, "add", path)
    git(root, "-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "-q", "-m", "edit")


def sent_log(root: Path) -> list[str]:
    path = root / ".commsflow" / "outbox" / "sent.log"
    return [line.split("\t")[1] for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def flat(text: str) -> str:
    return " ".join(text.split())


# --- who is acting, without [[people]]: as before ---------------------------------------------


def test_without_people_any_name_signs_off_and_the_note_says_so(run, mpi):
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Irgendwer")
    assert result.exit_code == 0, result.output
    assert records(mpi)[REPORT]["by"] == "Irgendwer"
    assert "note: no [[people]] in commsflow.toml — anybody may sign off under any name" in flat(result.stdout)


def test_without_people_the_acting_person_comes_from_commsflow_user(run, mpi, monkeypatch):
    monkeypatch.setenv("COMMSFLOW_USER", "Dana Schulz")
    result = run(mpi, "--now", NOW, "approve", REPORT)
    assert result.exit_code == 0, result.output
    assert "acting as Dana Schulz (from COMMSFLOW_USER)" in result.stdout
    assert records(mpi)[REPORT]["by"] == "Dana Schulz"


def test_without_people_the_acting_person_comes_from_git(run, mpi):
    repository(mpi, "Dana Schulz", DANA)
    result = run(mpi, "--now", NOW, "approve", REPORT)
    assert result.exit_code == 0, result.output
    assert "acting as Dana Schulz (from git user.name)" in result.stdout
    assert records(mpi)[REPORT]["by"] == "Dana Schulz"


def test_nobody_known_is_a_usage_error_and_nothing_is_written(run, mpi):
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "--now", NOW, "approve", REPORT)  # no --by, no COMMSFLOW_USER, no repository
    assert result.exit_code == 2
    assert "who signs off is not known — pass --by NAME, or set COMMSFLOW_USER" in flat(result.stderr)
    reject = run(mpi, "--now", NOW, "reject", REPORT, "--reason", "Zahlen prüfen")
    assert reject.exit_code == 2 and "who rejects is not known" in flat(reject.stderr)
    assert (mpi / "approvals.yaml").read_bytes() == before


def test_git_without_a_repository_or_without_git_knows_nobody(mpi, monkeypatch, tmp_path):
    assert git_identity(mpi) == (None, None)  # a folder outside any repository
    assert git_author(mpi, f"content/posts/{REPORT}.md") is None
    repository(mpi, "Dana Schulz", DANA)
    assert git_identity(mpi) == ("Dana Schulz", DANA)
    assert git_author(mpi, f"content/posts/{REPORT}.md") == ("Seed", "seed@example.org")
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert git_identity(mpi) == (None, None)
    config = load_config(mpi)
    with pytest.raises(Exception, match="who is acting is not known"):
        acting(config, mpi, environ={})


# --- who is acting, with [[people]] -----------------------------------------------------------


def test_by_must_name_a_listed_person(run, mpi):
    team(mpi)
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana")
    assert result.exit_code == 1
    assert "error: --by 'Dana' names nobody listed under [[people]] in commsflow.toml" in result.stderr
    assert "hint: did you mean 'Dana Schulz'? name a listed person (Dana Schulz, Pressestelle, Max Muster)" in flat(
        result.stderr
    )
    assert (mpi / "approvals.yaml").read_bytes() == before
    by_email = run(mpi, "--now", NOW, "approve", REPORT, "--by", DANA.upper())  # an address, in any case
    assert by_email.exit_code == 0, by_email.output
    assert records(mpi)[REPORT]["by"] == "Dana Schulz"  # recorded under the listed name
    assert "note: no [[people]]" not in by_email.stdout


def test_commsflow_user_must_name_a_listed_person(run, mpi, monkeypatch):
    team(mpi)
    monkeypatch.setenv("COMMSFLOW_USER", "d.schulz")
    result = run(mpi, "--now", NOW, "approve", REPORT)
    assert result.exit_code == 1
    assert "error: COMMSFLOW_USER is 'd.schulz', which names nobody listed under [[people]]" in result.stderr
    monkeypatch.setenv("COMMSFLOW_USER", "dana schulz")
    result = run(mpi, "--now", NOW, "approve", REPORT)
    assert result.exit_code == 0, result.output
    assert "acting as Dana Schulz (from COMMSFLOW_USER)" in result.stdout
    assert records(mpi)[REPORT]["by"] == "Dana Schulz"


def test_git_identity_is_matched_by_email_then_name(run, mpi):
    team(mpi)
    repository(mpi, "D. Schulz", DANA)  # git's name differs from the list, the address matches
    result = run(mpi, "--now", NOW, "approve", REPORT)
    assert result.exit_code == 0, result.output
    assert "acting as Dana Schulz (from git user.email)" in result.stdout
    git(mpi, "config", "user.email", "dana@privat.example")
    git(mpi, "config", "user.name", "Unbekannt")
    refused = run(mpi, "--now", NOW, "approve", REPORT)
    assert refused.exit_code == 1
    assert (
        "error: git's user.name 'Unbekannt' / user.email 'dana@privat.example' names nobody listed under "
        "[[people]] in commsflow.toml"
    ) in flat(refused.stderr)
    assert "hint: set COMMSFLOW_USER to your name or e-mail as listed" in flat(refused.stderr)


def test_acting_prefers_by_then_commsflow_user_then_git(mpi):
    team(mpi)
    repository(mpi, "Max Muster", "max.muster@senweb.berlin.de")
    config = load_config(mpi)
    assert acting(config, mpi, "Pressestelle", {"COMMSFLOW_USER": DANA}).name == "Pressestelle"
    assert acting(config, mpi, None, {"COMMSFLOW_USER": DANA}) == Acting(
        "Dana Schulz", "COMMSFLOW_USER", config.people[0], DANA
    )
    assert acting(config, mpi, None, {}).name == "Max Muster"


# --- roles and channels -----------------------------------------------------------------------


def test_a_sign_off_needs_the_reviewer_role(run, mpi):
    team(mpi)
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Max Muster")
    assert result.exit_code == 1
    assert "error: Max Muster may not sign off: that needs the reviewer role, and Max Muster has author" in flat(
        result.stderr
    )
    assert (
        "hint: ask someone with the reviewer role (Dana Schulz, Pressestelle), or add 'reviewer' to Max Muster's "
        "roles under [[people]] in commsflow.toml"
    ) in flat(result.stderr)
    assert (mpi / "approvals.yaml").read_bytes() == before
    rejected = run(mpi, "--now", NOW, "reject", REPORT, "--reason", "Zu lang", "--by", "Max Muster")
    assert rejected.exit_code == 1 and "Max Muster may not reject: that needs the reviewer role" in rejected.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before


def test_press_releases_only_by_the_press_office(run, mpi):
    team(mpi)
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "--now", NOW, "approve", REPORT, EVENT, "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert (
        "error: Dana Schulz may not sign off press jobs (mpi-meet-up-2024: press invitation, press recap) — "
        "Dana Schulz signs off linkedin, newsletter, mastodon, webhook only"
    ) in flat(result.stderr)
    assert "hint: it may be signed off by Pressestelle" in result.stderr
    assert "nothing signed off: 1 problem" in result.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before  # all or nothing: the report neither
    alone = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana Schulz")
    assert alone.exit_code == 0, alone.output  # LinkedIn only: hers
    press = run(mpi, "--now", "2024-03-02 09:00", "approve", EVENT, "--by", "Pressestelle")
    assert press.exit_code == 0, press.output  # no channels listed: all of them
    assert records(mpi)[EVENT]["by"] == "Pressestelle" and records(mpi)[EVENT]["at"] == "2024-03-02 09:00"


def test_all_planned_skips_what_the_person_may_not_sign_off(run, mpi):
    team(mpi)
    result = run(mpi, "--now", NOW, "approve", "--all-planned", "--by", "Dana Schulz")
    assert result.exit_code == 0, result.output
    assert f"– {EVENT} skipped: Dana Schulz may not sign off press jobs" in result.stdout
    assert "8 sign-offs written to approvals.yaml, 2 skipped" in result.stdout
    assert records(mpi)[EVENT]["by"] == "Redaktion MPI" and records(mpi)[REPORT]["by"] == "Dana Schulz"


def test_when_nobody_may_sign_off_every_channel_of_an_item_the_hint_says_so(run, mpi):
    team(mpi)
    config = mpi / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('roles = ["reviewer"]\n', 'roles = ["reviewer"]\nchannels = ["press"]\n'), "utf-8")
    result = run(mpi, "--now", NOW, "approve", EVENT, "--by", "Pressestelle")
    assert result.exit_code == 1
    assert (
        "error: Pressestelle may not sign off linkedin jobs (mpi-meet-up-2024: linkedin save-the-date, "
        "linkedin reminder, linkedin recap) — Pressestelle signs off press only"
    ) in flat(result.stderr)
    assert (
        "hint: nobody listed may sign off all of linkedin, press: give one reviewer these channels "
        "under [[people]] in commsflow.toml (channels = [] means all)"
    ) in flat(result.stderr)


def test_a_reviewer_channel_must_be_a_channel(run, mpi):
    team(mpi)
    config = mpi / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('"linkedin", "newsletter"', '"linkedin", "newsleter"'), "utf-8")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert "people[0].channels: no channel 'newsleter' — write one of newsletter, linkedin" in flat(result.stdout)


# --- four eyes --------------------------------------------------------------------------------


def test_four_eyes_the_author_field_may_not_sign_off(run, mpi):
    team(mpi, four_eyes=True)
    path = mpi / "content" / "posts" / f"{REPORT}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: approved\n", "status: approved\nauthor: dana schulz\n", 1),
        "utf-8",
    )
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert (
        f"error: Dana Schulz wrote {REPORT} (author: in content/posts/{REPORT}.md) and may not sign it off alone "
        "([signoff] four_eyes)"
    ) in flat(result.stderr)
    assert "hint: ask another reviewer: it may be signed off by Pressestelle" in result.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before
    other = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Pressestelle")
    assert other.exit_code == 0, other.output
    # She may still reject her own item: that holds it back, it lets nothing out.
    assert run(mpi, "--now", NOW, "reject", REPORT, "--reason", "Noch nicht fertig", "--by", DANA).exit_code == 0


def test_four_eyes_the_last_git_author_may_not_sign_off(run, mpi):
    team(mpi, four_eyes=True)
    repository(mpi)
    commit_as(mpi, f"content/posts/{REPORT}.md", "D. Schulz", DANA, "\nEin Satz mehr.\n")
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert f"Dana Schulz wrote {REPORT} (last git author of content/posts/{REPORT}.md)" in flat(result.stderr)
    # Someone else's commit after hers: she did not write the current version.
    commit_as(mpi, f"content/posts/{REPORT}.md", "Max Muster", "max.muster@senweb.berlin.de", "\nNoch einer.\n")
    assert authors(mpi, f"content/posts/{REPORT}.md", None)[0].name == "Max Muster"
    again = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana Schulz")
    assert again.exit_code == 0, again.output


def test_without_four_eyes_the_author_signs_off(run, mpi):
    team(mpi)
    path = mpi / "content" / "posts" / f"{REPORT}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: approved\n", "status: approved\nauthor: Dana Schulz\n", 1),
        "utf-8",
    )
    result = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Dana Schulz")
    assert result.exit_code == 0, result.output


def test_every_item_type_may_name_its_author(run, mpi):
    path = mpi / "content" / "events" / f"{EVENT}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: approved\n", "status: approved\nauthor: Pressestelle\n", 1),
        "utf-8",
    )
    assert run(mpi, "check").exit_code == 0


# --- reject ----------------------------------------------------------------------------------


def test_reject_records_who_when_why_and_holds_the_jobs_back(run, mpi):
    team(mpi)
    edit = mpi / "commsflow.toml"
    edit.write_text(
        edit.read_text(encoding="utf-8").replace("require_signoff = true", "require_signoff = false"), "utf-8"
    )
    result = run(
        mpi, "--now", "2024-03-02 09:15", "reject", REPORT, "--reason", "Die Zahlen stimmen nicht", "--by", DANA
    )
    assert result.exit_code == 0, result.output
    assert (
        f"✗ {REPORT} (post) rejected by Dana Schulz (replaces the sign-off by Redaktion MPI): Die Zahlen stimmen nicht"
    ) in result.stdout
    assert (
        "held back until it is signed off again: 1 job, the next linkedin article on 05.03.2024 10:00" in result.stdout
    )
    assert records(mpi)[REPORT] == {
        "item": REPORT,
        "kind": "post",
        "by": "Dana Schulz",
        "at": "2024-03-02 09:15",
        "rejected": True,
        "reason": "Die Zahlen stimmen nicht",
    }
    why = "rejected by Dana Schulz on 02.03.2024 09:15: Die Zahlen stimmen nicht"
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05")
    line = next(line for line in calendar.stdout.splitlines() if line.startswith("Di 05.03.2024 10:00"))
    assert "blocked" in line and why in flat(calendar.stdout)
    # Held back although sign-offs are not required: a reviewer said no.
    due = real_run(mpi, "2024-03-05 10:05", "--once")
    assert f"blocked linkedin article {REPORT} — {why}" in flat(due.stdout)
    assert sent_log(mpi) == []
    review = run(mpi, "--now", NOW, "review")
    assert f"{REPORT} (post) — {why} — commsflow approve {REPORT} once it is fixed" in flat(review.stdout)
    assert "items waiting for sign-off (1 rejected)" in review.stdout
    shown = run(mpi, "--now", NOW, "review", REPORT)
    assert f"{REPORT} — sign-off rejected ({why}" in flat(shown.stdout)

    # A sign-off replaces the rejection, and the job goes out.
    approved = run(mpi, "--now", "2024-03-05 10:06", "approve", REPORT, "--by", "Pressestelle")
    assert "signed off (was rejected by Dana Schulz: Die Zahlen stimmen nicht) by Pressestelle" in approved.stdout
    record = records(mpi)[REPORT]
    assert "rejected" not in record and "reason" not in record and record["renditions"]
    published = real_run(mpi, "2024-03-05 10:10", "--once")
    assert f"✓ done    linkedin article {REPORT}" in published.stdout
    assert len(sent_log(mpi)) == 1


def test_an_item_in_review_can_be_rejected_and_review_shows_why(run, mpi):
    result = run(mpi, "--now", NOW, "reject", IN_REVIEW, "--reason", "Bitte Ort und Uhrzeit ergänzen", "--by", "Dana")
    assert result.exit_code == 0, result.output
    review = run(mpi, "--now", NOW, "review")
    lines = [line for line in review.stdout.splitlines() if IN_REVIEW in line]
    assert len(lines) == 1, review.stdout  # the rejection, not "in review: set 'status: approved'"
    assert "rejected by Dana on 01.03.2024 10:00: Bitte Ort und Uhrzeit ergänzen" in lines[0]
    found = rejections(load_approvals(mpi, load_config(mpi)), load_config(mpi).zone)
    assert [(r.item, r.kind, r.by, r.reason, r.command) for r in found] == [
        (IN_REVIEW, "event", "Dana", "Bitte Ort und Uhrzeit ergänzen", f"commsflow approve {IN_REVIEW}")
    ]
    assert found[0].text.startswith("rejected by Dana on 01.03.2024 10:00: Bitte Ort")


def test_reject_checks_the_reviewers_channels(run, mpi):
    team(mpi)
    result = run(mpi, "--now", NOW, "reject", EVENT, "--reason", "Noch nicht", "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert "Dana Schulz may not sign off press jobs" in flat(result.stderr)


def test_reject_needs_a_reason_in_plain_text_and_a_known_item(run, mpi):
    before = (mpi / "approvals.yaml").read_bytes()
    assert run(mpi, "reject", REPORT, "--by", "Dana").exit_code == 2  # --reason is required
    empty = run(mpi, "reject", REPORT, "--reason", "  ", "--by", "Dana")
    assert empty.exit_code == 2 and "--reason must say why" in empty.stderr
    markup = run(mpi, "reject", REPORT, "--reason", "<b>nein</b>", "--by", "Dana")
    assert markup.exit_code == 2 and "--reason: raw HTML (<b>) is not allowed — write plain text" in flat(markup.stderr)
    unknown = run(mpi, "reject", "2024-03-01-zweiter-monitoringbericht", "--reason", "x", "--by", "Dana")
    assert unknown.exit_code == 1 and f"hint: did you mean '{REPORT}'?" in unknown.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before


def test_the_dashboard_shows_who_rejected_and_why(run, mpi):
    assert (
        run(mpi, "--now", NOW, "reject", REPORT, "--reason", "Die Zahlen stimmen nicht", "--by", "Dana").exit_code == 0
    )
    result = run(mpi, "--now", NOW, "build")
    assert result.exit_code == 0, result.output
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    assert "Rejected by Dana on 01.03.2024, 10:00: Die Zahlen stimmen nicht" in html
    assert '<span class="badge bad">rejected</span>' in html
    assert run(mpi, "--lang", "de", "--now", NOW, "build").exit_code == 0
    html = (mpi / "build" / "index.html").read_text(encoding="utf-8")
    assert "Abgelehnt von Dana am 01.03.2024, 10:00 Uhr: Die Zahlen stimmen nicht" in html
    assert '<span class="badge bad">abgelehnt</span>' in html


def test_a_rejection_in_the_file_must_say_why(run, mpi):
    path = mpi / "approvals.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "approvals:\n",
            "approvals:\n- item: 2024-02-01-x\n  kind: post\n  by: Dana\n  at: 2024-03-01 10:00\n  rejected: true\n",
            1,
        ),
        encoding="utf-8",
    )
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert "approvals.yaml:6: approvals[0]: a rejection without reason — reject the item again with --reason" in flat(
        result.stdout
    )


def test_all_planned_does_not_lift_a_rejection(run, mpi):
    assert (
        run(mpi, "--now", NOW, "reject", REPORT, "--reason", "Die Zahlen stimmen nicht", "--by", "Dana").exit_code == 0
    )
    result = run(mpi, "--now", NOW, "approve", "--all-planned", "--by", "Redaktion MPI")
    assert result.exit_code == 0, result.output
    assert (
        f"– {REPORT} skipped: rejected by Dana: Die Zahlen stimmen nicht — sign it off by name once it is fixed"
    ) in flat(result.stdout)
    assert records(mpi)[REPORT]["rejected"] is True
    by_name = run(mpi, "--now", NOW, "approve", REPORT, "--by", "Redaktion MPI")
    assert by_name.exit_code == 0 and "rejected" not in records(mpi)[REPORT]


def test_four_eyes_for_a_newsletter_issue_is_its_campaign_files_last_git_author(run, mpi):
    team(mpi, four_eyes=True)
    repository(mpi)
    commit_as(mpi, "campaigns/newsletter-2024-1.yaml", "Dana Schulz", DANA, "# Dana\n")
    result = run(mpi, "--now", NOW, "approve", "newsletter-2024-1", "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert (
        "Dana Schulz wrote newsletter-2024-1 (last git author of campaigns/newsletter-2024-1.yaml) and may not sign "
        "it off alone"
    ) in flat(result.stderr)
    assert run(mpi, "--now", NOW, "approve", "newsletter-2024-1", "--by", "Pressestelle").exit_code == 0

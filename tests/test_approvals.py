"""Sign-offs bound to the exact text, and embargoes: `approve`, `review`, the calendar and
the scheduler on a copy of the shipped MPI project (which ships signed off, with
`require_signoff = true`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import MPI_2024, real_run

from commsflow.commands.run import _loader
from commsflow.scheduler import Scheduler
from commsflow.workspace import Workspace

NOW = "2024-03-01 10:00"
SHIPPED_BY = "Redaktion MPI"
REAPPROVE = 'commsflow approve --all-planned --by "Redaktion MPI" --now "2024-03-01 10:00"'
REPORT = "2024-03-01-zweiter-monitoring-bericht"  # the slot's post on Tuesday 5 March 2024, 10:00
SLOT_JOB = "Di 05.03.2024 10:00"
STALE = "approval stale: linkedin article changed since Redaktion MPI approved it on 01.03.2024 10:00"
# An edit of what the LinkedIn text and the newsletter show (the summary), not only of the body.
REPORT_SUMMARY = "summary: Der MPI umfasst 42 Projekte"
REPORT_EDITED = "summary: Der Masterplan umfasst 42 Projekte"


def sent_log(root: Path) -> list[str]:
    path = root / ".commsflow" / "outbox" / "sent.log"
    return [line.split("\t")[1] for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def records(root: Path) -> dict[str, dict]:
    data = yaml.safe_load((root / "approvals.yaml").read_text(encoding="utf-8"))
    return {entry["item"]: entry for entry in data["approvals"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_all(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def post(root: Path, slug: str, *, status: str = "approved", extra: str = "") -> Path:
    path = root / "content" / "posts" / f"{slug}.md"
    path.write_text(
        f"---\ntitle: Ein Beitrag\nstatus: {status}\ncategory: Aktuelles\ndate: 2024-02-01\n"
        f"summary: Eine Zusammenfassung.\n{extra}---\n\nText.\n",
        encoding="utf-8",
    )
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


# --- approve ------------------------------------------------------------------------------------


def test_approve_records_who_when_and_the_fingerprint(run, mpi):
    shipped = records(mpi)
    result = run(
        mpi,
        "--now",
        "2024-03-02 09:15",
        "approve",
        REPORT,
        "--by",
        "Dana Schulz",
        "--note",
        "Zahlen mit dem Bericht abgeglichen",
    )
    assert result.exit_code == 0, result.output
    assert f"✓ {REPORT} (post) signed off again by Dana Schulz" in result.stdout
    assert "1 sign-off written to approvals.yaml — as of 2024-03-02 09:15" in result.stdout
    record = records(mpi)[REPORT]
    assert {key: record[key] for key in ("item", "kind", "by", "at", "note")} == {
        "item": REPORT,
        "kind": "post",
        "by": "Dana Schulz",
        "at": "2024-03-02 09:15",
        "note": "Zahlen mit dem Bericht abgeglichen",
    }
    (rendition,) = record["renditions"]
    assert rendition["job"] == "linkedin article" and rendition["planned"] == "2024-03-05 10:00"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", rendition["digest"])
    assert rendition == shipped[REPORT]["renditions"][0]  # nothing changed: the same text
    assert rendition["text"].startswith("2. Monitoring-Bericht: 42 Projekte im Masterplan Industriestadt Berlin\n")
    assert {key: value for key, value in records(mpi).items() if key != REPORT} == {
        key: value for key, value in shipped.items() if key != REPORT
    }  # one record replaced, the rest kept
    text = (mpi / "approvals.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Sign-offs: who approved which texts")


def test_a_newsletter_issue_is_signed_off_with_its_items(run, mpi):
    result = run(mpi, "approve", "newsletter-2024-1", "--by", "Dana Schulz", "--now", "2024-03-02 09:15")
    assert result.exit_code == 0, result.output
    record = records(mpi)["newsletter-2024-1"]
    assert record["kind"] == "newsletter" and record["at"] == "2024-03-02 09:15"
    assert [rendition["job"] for rendition in record["renditions"]] == ["newsletter"]
    assert "MPI-Newsletter 1/2024" in record["renditions"][0]["text"]
    # An item of the issue changes: the issue's sign-off is stale, not only the item's.
    edit(
        mpi / "content" / "posts" / "2024-03-27-gesichter-des-mpi-koimo-modell-campus-ringberlin.md",
        "summary: Die KOIMO Development GmbH",
        "summary: Die KOIMO GmbH",
    )
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-04-02", "--to", "2024-04-04")
    lines = [line for line in calendar.stdout.splitlines() if line.startswith(("Di 02.04", "Do 04.04"))]
    assert len(lines) == 2 and all("blocked" in line for line in lines), calendar.stdout
    assert "approval stale: newsletter changed since Dana Schulz approved it on 02.03.2024 09:15" in flat(
        calendar.stdout
    )
    # review shows what changed, as a diff against the text Dana Schulz approved.
    review = run(mpi, "--now", NOW, "review")
    assert "-Die KOIMO Development GmbH entwickelt" in review.stdout
    assert "+Die KOIMO GmbH entwickelt" in review.stdout


def test_only_approved_items_can_be_signed_off(run, mpi):
    post(mpi, "2024-02-01-entwurf", status="draft")
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "approve", "2024-02-01-entwurf", REPORT, "--by", "Dana Schulz")
    assert result.exit_code == 1
    assert "error: 2024-02-01-entwurf is draft: only approved or published items can be signed off" in result.stderr
    assert "hint: set 'status: approved' in content/posts/2024-02-01-entwurf.md first" in result.stderr
    assert "nothing signed off" in result.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before  # all or nothing: the report was not signed off either


def test_unknown_items_get_a_suggestion(run, mpi):
    before = (mpi / "approvals.yaml").read_bytes()
    result = run(mpi, "approve", "2024-03-01-zweiter-monitoringbericht", "newsletter-2024-01", "--by", "Dana")
    assert result.exit_code == 1
    assert (
        f"error: no item or newsletter issue '2024-03-01-zweiter-monitoringbericht'\n  hint: did you mean '{REPORT}'?"
    ) in result.stderr
    assert "hint: did you mean 'newsletter-2024-1'?" in result.stderr
    assert (mpi / "approvals.yaml").read_bytes() == before


def test_approve_needs_items_and_a_name(run, mpi):
    result = run(mpi, "approve", "--by", "Dana")
    assert result.exit_code == 2
    assert "name the items or newsletter issues to sign off, or use --all-planned" in result.stderr
    assert run(mpi, "approve", REPORT).exit_code == 2  # --by is required
    assert "--by must name who signs off" in run(mpi, "approve", REPORT, "--by", " ").stderr


# --- stale approvals block ----------------------------------------------------------------------


def test_an_edited_item_is_blocked_until_it_is_signed_off_again(run, mpi):
    edit(mpi / "content" / "posts" / f"{REPORT}.md", REPORT_SUMMARY, REPORT_EDITED)
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05")
    assert calendar.exit_code == 0, calendar.output  # stale is not an error: the job waits
    line = next(line for line in calendar.stdout.splitlines() if line.startswith(SLOT_JOB))
    assert "blocked" in line
    assert STALE in flat(calendar.stdout)

    due = real_run(mpi, "2024-03-05 10:05", "--once")
    assert f"blocked linkedin article {REPORT} — {STALE} — not published" in flat(due.stdout)
    assert sent_log(mpi) == []

    review = run(mpi, "--now", NOW, "review")
    assert review.exit_code == 0
    assert f"{SLOT_JOB}  linkedin    {REPORT} (post) — {STALE}" in review.stdout.splitlines()

    again = run(mpi, "--now", "2024-03-05 10:06", "approve", REPORT, "--by", "Dana Schulz")
    assert f"signed off again (was stale: approved by {SHIPPED_BY})" in again.stdout
    published = real_run(mpi, "2024-03-05 10:10", "--once")
    assert f"✓ done    linkedin article {REPORT}" in published.stdout
    assert len(sent_log(mpi)) == 1


def test_an_edited_template_makes_the_items_using_it_stale(run, mpi):
    edit_all(mpi / "templates" / "linkedin" / "article.txt", "Den vollständigen Beitrag", "Den ganzen Beitrag")
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30")
    lines = {line[:19]: line for line in calendar.stdout.splitlines() if line[:2] in ("Di", "Do", "Fr")}
    assert "blocked" in lines[SLOT_JOB]
    assert "planned" in lines["Do 14.03.2024 10:00"]  # the event's save-the-date reads the same as approved
    assert "planned" in lines["Do 04.04.2024 10:00"]  # the newsletter issue uses none of it
    # A change that does not change the text sent (a template comment) blocks nothing.
    edit_all(mpi / "templates" / "linkedin" / "article.txt", "Den ganzen Beitrag", "Den vollständigen Beitrag")
    edit(mpi / "templates" / "linkedin" / "article.txt", "{", "{# geändert #}{")
    unchanged = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30")
    assert "blocked" not in unchanged.stdout.split("mpi-deep-dive")[0]
    edit_all(mpi / "templates" / "linkedin" / "article.txt", "Den vollständigen Beitrag", "Den ganzen Beitrag")
    result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert "done" not in result.stdout and sent_log(mpi) == []


@pytest.fixture
def rendered(monkeypatch) -> list[str]:
    """The jobs the channels rendered (not recalled), by id."""
    from commsflow import channels

    found: list[str] = []
    get = channels.get

    class Counted:
        def __init__(self, channel):
            self.channel = channel

        def __getattr__(self, name):
            return getattr(self.channel, name)

        def render(self, job, context):
            found.append(job.id)
            return self.channel.render(job, context)

    monkeypatch.setattr(channels, "get", lambda name: Counted(get(name)))
    return found


def test_check_calendar_and_status_recall_what_an_earlier_one_rendered_until_an_input_changes(run, mpi, rendered):
    """A signed-off job's sign-off is checked against its rendition; a reporting command
    recalls the renditions an earlier one made from the same inputs (.commsflow/cache/
    renditions.json) instead of rendering every release and newsletter again — and an
    edit, of an item or a template, is seen at once."""
    first = run(mpi, "--now", NOW, "check")
    assert first.exit_code == 0 and rendered, first.output
    rendered.clear()
    again = run(mpi, "--now", NOW, "check")
    assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    assert run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05").exit_code == 0
    assert rendered == []

    edit(mpi / "content" / "posts" / f"{REPORT}.md", REPORT_SUMMARY, REPORT_EDITED)
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05")
    assert STALE in flat(calendar.stdout)
    assert rendered and all(REPORT in job or "/figures" in job or "newsletter" in job for job in rendered), rendered
    rendered.clear()
    status = run(mpi, "--now", NOW, "status")
    assert STALE in flat(status.stdout) and rendered == []

    assert run(mpi, "--now", NOW, "--no-cache", "status").exit_code == 1 and rendered  # --no-cache renders

    edit(mpi / "content" / "posts" / f"{REPORT}.md", REPORT_EDITED, REPORT_SUMMARY)
    edit_all(mpi / "templates" / "linkedin" / "article.txt", "Den vollständigen Beitrag", "Den ganzen Beitrag")
    stale = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05")
    assert "blocked" in next(line for line in stale.stdout.splitlines() if line.startswith(SLOT_JOB))


@pytest.mark.parametrize(
    "damage",
    ["{not json", '{"key": 1, "kept": []}', "wrong types"],
)
def test_a_damaged_renditions_cache_only_means_rendering_again(run, mpi, rendered, damage):
    first = run(mpi, "--now", NOW, "check")
    kept = mpi / ".commsflow" / "cache" / "renditions.json"
    if damage == "wrong types":
        data = yaml.safe_load(kept.read_text(encoding="utf-8"))
        for entry in data["kept"].values():
            entry.update(digest=None, problems=["not a problem"])
        damage = json.dumps(data)
    kept.write_text(damage, encoding="utf-8")
    rendered.clear()
    again = run(mpi, "--now", NOW, "check")
    assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    assert rendered  # rendered again, not recalled from what cannot be right


def test_settings_that_do_not_change_a_text_keep_the_sign_offs(run, mpi):
    config = mpi / "commsflow.toml"
    edit(config, "require_signoff = true", 'require_signoff = true\nlinkedin = "outbox"\ngap = "3 hours"')
    assert "0 conflicts" in run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30").stdout
    edit(config, 'place = "Berlin"', 'place = "Berlin-Mitte"')  # the press releases' dateline
    stale = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-01", "--to", "2024-04-30")
    blocked = [line for line in stale.stdout.splitlines() if " blocked " in line]
    # Only the texts that print the place: the press invitation and recap.
    assert len(blocked) == 2 and all(" press " in line for line in blocked), stale.stdout


def test_without_require_signoff_missing_sign_offs_pass_but_stale_ones_do_not(run, mpi):
    edit(mpi / "commsflow.toml", "require_signoff = true", "require_signoff = false")
    post(mpi, "2024-03-04-neu", extra="publish_at: 2024-03-05 10:00\nchannels: [mastodon]\n")
    edit(mpi / "content" / "posts" / f"{REPORT}.md", REPORT_SUMMARY, REPORT_EDITED)
    result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert "✓ done    mastodon article 2024-03-04-neu" in result.stdout
    assert f"blocked linkedin article {REPORT} — approval stale" in flat(result.stdout)


def test_with_require_signoff_a_new_item_waits_for_its_sign_off(run, mpi):
    post(mpi, "2024-03-04-neu", extra="publish_at: 2024-03-05 10:00\nchannels: [mastodon]\n")
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-05", "--to", "2024-03-05")
    assert "not signed off: commsflow approve 2024-03-04-neu" in flat(calendar.stdout)
    result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert (
        "blocked mastodon article 2024-03-04-neu — not signed off: commsflow approve 2024-03-04-neu — not published"
    ) in flat(result.stdout)
    assert "mastodon" not in " ".join(sent_log(mpi))


def test_a_change_after_the_plan_is_not_sent(mpi):
    """The long-running scheduler plans, then the item is edited before the job is sent:
    it goes out only after a new plan has seen the (then stale) sign-off."""
    workspace = Workspace(mpi, now_text="2024-03-05 10:05")
    outcomes = []
    scheduler = Scheduler(
        workspace.config, _loader(workspace), outbox_only=True, report=outcomes.append, clock=lambda: workspace.now
    )
    scheduler.plan(workspace.now)
    edit(mpi / "content" / "posts" / f"{REPORT}.md", "\n---\n", "\n---\nKurz vor dem Versand geändert.\n")
    scheduler.run_pass(workspace.now)
    outcome = next(o for o in outcomes if o.job.item == REPORT)
    assert outcome.state == "blocked"
    assert outcome.detail == (
        f"content/posts/{REPORT}.md changed since it was planned — not published; planned again on the next pass"
    )
    assert sent_log(mpi) == []


def test_review_lists_what_waits_for_sign_off(run, mpi):
    edit(mpi / "content" / "events" / "mpi-meet-up-2024.md", "\n---\n", "\n---\nNeu: Anmeldung ab sofort.\n")
    post(mpi, "2024-03-04-neu", extra="publish_at: 2024-03-07 10:00\nchannels: [linkedin]\n")
    result = run(mpi, "--now", NOW, "review")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if not line.startswith("    ")]  # diff lines are indented
    # The new sentence opens the body: the press texts and the newsletter's teaser show it, the LinkedIn posts do not.
    assert rows[:4] == [
        "Do 07.03.2024 10:00  linkedin    2024-03-04-neu (post) — not signed off: commsflow approve 2024-03-04-neu",
        "Do 14.03.2024 10:00  linkedin    mpi-meet-up-2024 (event) — approval stale: press invitation, press recap "
        "changed since Redaktion MPI approved it on 01.03.2024 10:00",
        "Do 04.04.2024 10:00  newsletter  newsletter-2024-1 (newsletter) — approval stale: newsletter changed since "
        "Redaktion MPI approved it on 01.03.2024 10:00",
        "Mi 29.05.2024 10:00  linkedin    mpi-deep-dive-zirkulaeres-bauen-2024 (event) — in review: "
        "set 'status: approved', then commsflow approve mpi-deep-dive-zirkulaeres-bauen-2024",
    ]
    assert (
        "–                    –           berliner-robotiknetzwerk (project) — in review: set 'status: approved'"
        in rows
    )
    assert not any(REPORT in row for row in rows)  # signed off and unchanged (its links may show in a diff)
    added = [line for line in result.stdout.splitlines() if line.startswith("    +") and "Anmeldung ab sofort" in line]
    assert added, result.stdout  # the diff against the approved texts shows the new sentence
    assert rows[-1].startswith("7 items waiting for sign-off — as of 2024-03-01 10:00")


# --- the shipped sign-offs ----------------------------------------------------------------------


def test_the_shipped_file_is_what_the_command_writes(run, mpi):
    shipped = (MPI_2024 / "approvals.yaml").read_bytes()
    result = run(mpi, "approve", "--all-planned", "--by", SHIPPED_BY, "--now", NOW)  # = REAPPROVE
    assert result.exit_code == 0, result.output
    assert "9 sign-offs written to approvals.yaml, 1 skipped" in result.stdout
    assert "mpi-deep-dive-zirkulaeres-bauen-2024 skipped: status review, not approved yet" in result.stdout
    assert (mpi / "approvals.yaml").read_bytes() == shipped, f"approvals.yaml differs — run {REAPPROVE}"


# --- embargoes ----------------------------------------------------------------------------------


def embargo(root: Path, slug: str, until: str, folder: str = "events") -> None:
    edit(root / "content" / folder / f"{slug}.md", "status: approved\n", f"status: approved\nembargo: {until}\n")


def test_a_job_before_the_embargo_is_an_error_and_not_published(run, mpi):
    embargo(mpi, "mpi-meet-up-2024", "2024-03-20 10:00")
    run(mpi, "approve", "mpi-meet-up-2024", "2024-03-12-mpi-veranstaltungen-2024", "--by", "Dana Schulz")
    calendar = run(mpi, "--now", NOW, "calendar", "--to", "2024-04-30")
    assert calendar.exit_code == 1
    text = flat(calendar.stdout)
    assert (
        "error campaigns/mpi-meet-up-2024.yaml:6: steps[0]: linkedin save-the-date of mpi-meet-up-2024 on "
        "14.03.2024 10:00 is before the embargo until 20.03.2024 10:00 (mpi-meet-up-2024) — move the step "
        "after the embargo, or ask whether the embargo can be lifted"
    ) in text
    line = next(line for line in calendar.stdout.splitlines() if line.startswith("Do 14.03.2024 10:00"))
    assert "blocked" in line and "embargo until 20.03.2024 10:00 (mpi-meet-up-2024)" in flat(line)
    # The post naming the event (events: [mpi-meet-up-2024]) is not picked by the slot before the embargo:
    # on 19 March nothing else is ready, on 26 March it is the oldest again.
    assert "Di 19.03.2024" not in text
    assert "Di 26.03.2024 10:00 linkedin 2024-03-12-mpi-veranstaltungen-2024" in text
    later = run(mpi, "--now", NOW, "calendar", "--from", "2024-04-01", "--to", "2024-04-30")
    assert later.exit_code == 0, later.output  # the violation is not in the range shown
    assert "embargo" not in later.stdout
    check = run(mpi, "--now", NOW, "check")
    assert check.exit_code == 1
    assert "campaigns/mpi-meet-up-2024.yaml:6: steps[0]: linkedin save-the-date" in check.stdout

    early = real_run(mpi, "2024-03-14 10:05", "--once")
    assert (
        "blocked linkedin save-the-date mpi-meet-up-2024 — embargo until 20.03.2024 10:00 (mpi-meet-up-2024) "
        "— not published"
    ) in flat(early.stdout)
    assert sent_log(mpi) == []
    after = real_run(mpi, "2024-03-28 09:35", "--once")  # the press invitation, after the embargo
    assert "✓ done    press invitation mpi-meet-up-2024" in after.stdout
    assert len(sent_log(mpi)) == 1


def test_a_newsletter_issue_with_an_embargoed_item_is_flagged(run, mpi):
    embargo(mpi, "mpi-meet-up-2024", "2024-04-10 10:00")
    run(mpi, "approve", "mpi-meet-up-2024", "--by", "Dana Schulz")
    calendar = run(mpi, "--now", NOW, "calendar", "--channel", "newsletter")
    assert calendar.exit_code == 1
    assert (
        "error campaigns/newsletter-2024-1.yaml:6: send_at: the newsletter issue on 04.04.2024 10:00 is before "
        "the embargo until 10.04.2024 10:00 (mpi-meet-up-2024) — take the item out of the issue, or send the "
        "issue after the embargo"
    ) in flat(calendar.stdout)
    result = real_run(mpi, "2024-04-04 10:01", "--once")
    assert "blocked newsletter newsletter newsletter-2024-1 — embargo until 10.04.2024 10:00" in flat(result.stdout)
    assert not any("newsletter-2024-1" in job for job in sent_log(mpi))


def test_a_one_off_before_its_own_embargo(run, mpi):
    post(
        mpi,
        "2024-03-04-sperrfrist",
        extra="publish_at: 2024-03-07 10:00\nchannels: [linkedin]\nembargo: 07.03.2024 12:00\n",
    )
    result = run(mpi, "--now", NOW, "check")
    assert result.exit_code == 1
    assert (
        "error content/posts/2024-03-04-sperrfrist.md:7: publish_at: linkedin article of 2024-03-04-sperrfrist "
        "on 07.03.2024 10:00 is before the embargo until 07.03.2024 12:00 (2024-03-04-sperrfrist)"
    ) in result.stdout


def test_an_embargo_needs_a_time(run, mpi):
    post(mpi, "2024-03-04-sperrfrist", extra="embargo: 2024-03-07\n")
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        "content/posts/2024-03-04-sperrfrist.md:7: embargo: 2024-03-07 has no time — write the hour the embargo "
        "ends, e.g. '2024-03-07 16:00'"
    ) in result.stdout


def test_a_slot_waits_for_the_embargo(run, mpi):
    embargo(mpi, "2024-03-06-foerdercall-circular-economy-zweite-stufe", "2024-03-13 10:00", folder="posts")
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-12", "--to", "2024-03-19", "--channel", "linkedin")
    assert calendar.exit_code == 0, calendar.output
    lines = calendar.stdout.splitlines()
    assert any(line.startswith("Di 12.03.2024 10:00  linkedin  2024-03-12-mpi-veranstaltungen-2024") for line in lines)
    assert any(line.startswith("Di 19.03.2024 10:00  linkedin  2024-03-06-foerdercall-circular") for line in lines)


# --- a broken approvals file --------------------------------------------------------------------


def test_unreadable_approvals_file(run, mpi):
    path = mpi / "approvals.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  kind: post\n", "  kind: [post\n", 1), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("  kind: [post") + 1
    check = run(mpi, "check")
    assert check.exit_code == 1
    assert re.search(rf"error approvals\.yaml:{line + 1}: file is not valid YAML", check.stdout), check.stdout
    calendar = run(mpi, "--now", NOW, "calendar")
    assert calendar.exit_code == 1 and "approvals.yaml" in calendar.stdout
    assert "not signed off: the approvals file has errors (commsflow check)" in flat(calendar.stdout)
    approve = run(mpi, "approve", REPORT, "--by", "Dana")
    assert approve.exit_code == 1
    assert "error: approvals.yaml has errors" in approve.stderr
    assert "[post" in path.read_text(encoding="utf-8")  # not rewritten
    result = real_run(mpi, "2024-03-05 10:05", "--once")
    assert "not signed off: the approvals file has errors" in result.stdout and sent_log(mpi) == []


def test_unknown_field_in_the_approvals_file(run, mpi):
    path = mpi / "approvals.yaml"
    text = path.read_text(encoding="utf-8").replace("  kind: post\n", "  kind: post\n  notes: geprüft\n", 1)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  notes: geprüft") + 1
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert f"error approvals.yaml:{line}: approvals[0].notes: unknown field — did you mean `note`?" in result.stdout
    # The other records still count: only the broken one's item is held back.
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-12", "--to", "2024-03-12")
    assert "planned" in calendar.stdout


def test_the_parsed_sign_offs_are_kept_as_json_and_a_damaged_copy_is_ignored(mpi):
    from commsflow.approvals import load_approvals
    from commsflow.config import load_config

    config = load_config(mpi)
    kept = mpi / ".commsflow" / "cache" / "approvals.json"
    fresh = load_approvals(mpi, config)
    assert kept.is_file() and kept.read_bytes().startswith(b"{")  # data, never code
    again = load_approvals(mpi, config)
    assert [r.model_dump() for r in again.records.values()] == [r.model_dump() for r in fresh.records.values()]
    assert fresh.records and not again.problems
    kept.write_text('{"digest": "x", "data": {"approvals": []}}', encoding="utf-8")  # another file's
    assert load_approvals(mpi, config).records.keys() == fresh.records.keys()
    kept.write_bytes(b"\x80 not json")
    assert load_approvals(mpi, config).records.keys() == fresh.records.keys()

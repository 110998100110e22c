"""Issue 12, item 4: nothing of or linking to an item under embargo goes out early — also a
post that only links to the item's web address, in its summary or body, in any form of the
address (tracking parameters, no trailing slash, http, www.)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scheduler_pass

NOW = "2024-03-01 10:00"
EVENT = "mpi-meet-up-2024"
ADDRESS = f"https://www.berlin.de/industriestadt/veranstaltungen/{EVENT}/"
POST = "2024-03-08-vorschau-fruehjahr"


def _embargo(root: Path, until: str) -> None:
    path = root / "content" / "events" / f"{EVENT}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: approved\n", f"status: approved\nembargo: {until}\n", 1), encoding="utf-8")


def _post(root: Path, *, summary: str = "Was im Frühjahr kommt.", body: str = "Mehr folgt.") -> None:
    (root / "content" / "posts" / f"{POST}.md").write_text(
        "---\ntitle: Vorschau auf das Frühjahr\nstatus: approved\ncategory: Aktuelles\ndate: 2024-03-08\n"
        f'summary: "{summary}"\npublish_at: 2024-03-15 10:00\nchannels: [linkedin, webhook]\n---\n\n{body}\n',
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    "summary,body",
    [
        (f"Jetzt vormerken: {ADDRESS}", "Mehr folgt."),
        ("Was im Frühjahr kommt.", f"Alles zum [Meet-up im Bosch IoT Campus]({ADDRESS}?utm_source=blog)."),
        ("Was im Frühjahr kommt.", f"Siehe <http://berlin.de/industriestadt/veranstaltungen/{EVENT}>."),
    ],
    ids=["address in the summary", "link with tracking in the body", "autolink without www and slash"],
)
def test_a_post_linking_to_an_embargoed_item_is_held_until_the_embargo_ends(run, mpi, summary, body):
    _embargo(mpi, "2024-04-20 10:00")
    _post(mpi, summary=summary, body=body)
    assert run(mpi, "--now", NOW, "approve", POST, EVENT, "--by", "Dana Schulz").exit_code == 0
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-15", "--to", "2024-03-15")
    assert calendar.exit_code == 1  # planned before the embargo: an error to fix
    lines = [line for line in calendar.stdout.splitlines() if POST in line and line.startswith("Fr 15.03.2024")]
    assert len(lines) == 2 and all("blocked" in line for line in lines), calendar.stdout
    assert f"embargo until 20.04.2024 10:00 ({EVENT})" in " ".join(calendar.stdout.split())


def test_a_post_without_a_link_is_not_held(run, mpi):
    _embargo(mpi, "2024-04-20 10:00")
    _post(mpi, body="Die Berliner Industrie im Frühjahr, ohne Verweis.")
    run(mpi, "--now", NOW, "approve", POST, "--by", "Dana Schulz")
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-15", "--to", "2024-03-15")
    assert [line for line in calendar.stdout.splitlines() if POST in line and "blocked" in line] == []


def test_a_link_the_rendering_adds_is_caught_before_sending(run, mpi):
    """The calendar looks at what editors wrote; a template that adds a link to an item under
    embargo is caught in the rendered text, and the job is not built or sent as it is."""
    _embargo(mpi, "2024-04-20 10:00")
    _post(mpi, body="Die Berliner Industrie im Frühjahr.")
    template = mpi / "templates" / "linkedin" / "article.txt"
    text = template.read_text(encoding="utf-8")
    assert "{% block text %}" in text
    template.write_text(text.replace("{% block text %}", f"{{% block text %}}Termin: {ADDRESS}\n", 1), "utf-8")
    run(mpi, "--now", NOW, "approve", POST, "--by", "Dana Schulz")
    build = run(mpi, "--now", NOW, "build")
    assert build.exit_code == 1
    assert (
        f"the linkedin article of {POST} on 15.03.2024 10:00 links to {EVENT}, under embargo until 20.04.2024 10:00"
    ) in " ".join(build.stdout.split())
    outcomes = scheduler_pass(mpi, "2024-03-15 10:01")
    linkedin = next(o for o in outcomes if o.job.item == POST and o.job.channel == "linkedin")
    assert linkedin.state == "failed" and f"links to {EVENT}, under embargo" in linkedin.detail
    assert not (mpi / ".commsflow" / "outbox" / "linkedin").exists()


def test_from_the_end_of_the_embargo_the_link_is_fine(run, mpi):
    _embargo(mpi, "2024-03-10 10:00")
    _post(mpi, summary=f"Jetzt vormerken: {ADDRESS}")
    run(mpi, "--now", NOW, "approve", POST, EVENT, "--by", "Dana Schulz")
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-15", "--to", "2024-03-15")
    assert [line for line in calendar.stdout.splitlines() if POST in line and "blocked" in line] == []


def test_a_release_goes_to_the_press_before_its_own_sperrfrist_and_a_post_does_not(run, mpi):
    """The Meet-up's press invitation (28.03.) goes out under the event's embargo, which it prints
    on top („Sperrfrist“); the save-the-date post on LinkedIn (14.03.) must wait for it."""
    _embargo(mpi, "2024-04-20 10:00")
    assert run(mpi, "--now", NOW, "approve", EVENT, "--by", "Dana Schulz").exit_code == 0
    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-14", "--to", "2024-03-28")
    rows = {line.split()[3]: line for line in calendar.stdout.splitlines() if EVENT in line and line[:2].isalpha()}
    assert "blocked" in rows["linkedin"] and "embargo until 20.04.2024 10:00" in " ".join(calendar.stdout.split())
    assert "blocked" not in rows["press"] and "planned" in rows["press"], calendar.stdout

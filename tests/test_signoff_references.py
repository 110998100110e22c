"""Issue 12, item 2: a sign-off covers everything the rendered text is made of — also the
items it names. Renaming a project that a signed-off news post prints holds the job back,
and the diff shows the new name."""

from __future__ import annotations

from pathlib import Path

from conftest import scheduler_pass

NOW = "2024-03-01 10:00"
NEWS = "2024-03-04-kunststoff-zwischenstand"
PROJECT = "kreislaufwirtschaft-kunststoffindustrie"


def _news(root: Path) -> None:
    (root / "content" / "news" / f"{NEWS}.md").write_text(
        "---\n"
        'title: "Zwischenstand: Kunststoffkreisläufe in Berlin"\n'
        "status: approved\n"
        "date: 2024-03-04\n"
        "summary: Das Projekt hat die ersten Betriebe zu ihren Kunststoffabfällen befragt.\n"
        f"projects: [{PROJECT}]\n"
        "publish_at: 2024-03-06 11:00\n"
        "channels: [linkedin]\n"
        "---\n\nDie Befragung läuft bis Ende März.\n",
        encoding="utf-8",
    )


def test_renaming_a_project_a_signed_off_news_post_names_blocks_the_post(run, mpi):
    _news(mpi)
    project_file = mpi / "content" / "projects" / f"{PROJECT}.md"
    old_title = next(line for line in project_file.read_text("utf-8").splitlines() if line.startswith("title:"))
    name = old_title.removeprefix("title:").strip().strip('"')
    signed = run(mpi, "--now", NOW, "approve", NEWS, "--by", "Dana Schulz")
    assert signed.exit_code == 0, signed.output
    review = run(mpi, "--now", NOW, "review", NEWS)
    assert name in review.stdout  # the LinkedIn text prints the project's name

    renamed = f"{name} (KuKreis)"
    project_file.write_text(project_file.read_text("utf-8").replace(old_title, f'title: "{renamed}"'), "utf-8")

    calendar = run(mpi, "--now", NOW, "calendar", "--from", "2024-03-06", "--to", "2024-03-06")
    line = next(line for line in calendar.stdout.splitlines() if NEWS in line)
    assert "blocked" in line
    stale = run(mpi, "--now", NOW, "review", NEWS)
    diff = [line.strip() for line in stale.stdout.splitlines()]
    assert f"-MPI-Projekt: {name}" in diff and f"+MPI-Projekt: {renamed}" in diff

    # The scheduler, at the planned time, does not send it.
    outcomes = scheduler_pass(mpi, "2024-03-06 11:01")
    outcome = next(o for o in outcomes if o.job.item == NEWS)
    assert outcome.state == "blocked" and "approval stale" in outcome.detail
    assert not (mpi / ".commsflow" / "outbox" / "linkedin").exists()

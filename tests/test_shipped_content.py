"""The shipped MPI content is valid and its figures agree with the monitoring report of 1 March 2024."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO

REPORT_DATE = "2024-03-01 10:00"


@pytest.fixture(scope="module")
def figures():
    from click.testing import CliRunner

    from commsflow.cli import main

    result = CliRunner().invoke(main, ["--root", str(REPO), "--no-cache", "--now", REPORT_DATE, "stats", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_shipped_content_passes_check(run):
    result = run(REPO, "--no-cache", "check", "--strict")
    assert result.exit_code == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_project_figures_agree_with_the_report(figures):
    # "Insgesamt umfasst der MPI … 42 Projekte. Davon konnten 12 Projekte … abgeschlossen werden.
    #  Somit befinden sich aktuell 30 Projekte in der Umsetzung"
    assert (figures["projects"], figures["completed"], figures["running"]) == (42, 12, 30)
    # "In der neuen MPI-Umsetzungsphase 2022-2026 wurden bislang 11 Projektförderungen bewilligt"
    assert figures["funded"] == 11
    # Two of the 11 (Leichtbau made in Berlin, Future of Computing) are marked completed.
    assert (figures["funded_running"], figures["funded_completed"]) == (9, 2)


def test_fields_of_action_as_in_the_overview_table(figures):
    by_field = {row["name"]: (row["projects"], row["completed"]) for row in figures["by_field"]}
    assert by_field == {
        "Innovation": (15, 4),
        "Kompetenzen": (12, 2),
        "Rahmenbedingungen": (6, 0),
        "Kommunikation & Vernetzung": (9, 6),
    }


def test_blog_has_all_three_categories_and_events_split_at_the_report_date(figures):
    assert all(count > 0 for count in figures["posts_by_category"].values())
    assert set(figures["posts_by_category"]) == {"Aktuelles", "Einblicke", "Gesichter des MPI"}
    # Past: Deep Dive 27.09.2023, MTK 12.10.2023, Konferenz and Future of Computing 28.11.2023;
    # planned: Meet-up 25.04.2024, Deep Dive 10.07.2024.
    assert (figures["events_past"], figures["events_upcoming"]) == (4, 2)
    assert figures["as_of"] == "2024-03-01T10:00+01:00"


def test_named_events_carry_their_dates(run):
    result = run(REPO, "--no-cache", "list", "event", "--json")
    events = {row["title"]: row["date"] for row in json.loads(result.stdout)}
    dates = set(events.values())
    for expected in ("2023-09-27", "2023-10-12", "2023-11-28", "2024-07-10"):
        assert any(value.startswith(expected) for value in dates), expected
    assert "2024-04-25T16:00:00+02:00" in dates  # the Meet-up, local Berlin summer time


def test_the_press_release_quotes_survive_in_the_website_post(run):
    result = run(REPO, "--no-cache", "list", "post", "--json")
    posts = {row["slug"]: row for row in json.loads(result.stdout)}
    quotes = posts["2023-10-18-neue-website-und-veranstaltungen"]["meta"]["quotes"]
    speakers = {quote["name"] for quote in quotes}
    assert speakers == {"Dr. Jane Ulle", "Franziska Giffey"}
    assert any(quote["text"].startswith("Berlin hat eine starke Industrie.") for quote in quotes)


def test_make_run_steps_work_from_the_repository_files(run, tmp_path):
    """`make run` runs check, then the builds, on the shipped files: the same commands here."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("commsflow.toml", "feeds.yaml", "approvals.yaml"):
        shutil.copy(REPO / name, root)
    for folder in ("content", "campaigns", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    assert run(root, "--now", REPORT_DATE, "check").exit_code == 0
    result = run(root, "--now", REPORT_DATE, "build")
    assert result.exit_code == 0, result.output
    assert (root / "build" / "index.html").is_file() and (root / "build" / "jobs.json").is_file()


def test_the_shipped_plan_is_signed_off_as_it_is():
    """Every job of the shipped 2024 plan renders to exactly the text signed off in approvals.yaml."""
    from commsflow.plan import open_plan
    from commsflow.workspace import Workspace

    reapprove = 'commsflow approve --all-planned --by "Redaktion MPI" --now "2024-03-01 10:00"'
    workspace = Workspace(REPO, now_text="2024-03-01 10:00", use_cache=False)
    assert workspace.config.publishing.require_signoff
    plan = open_plan(workspace, ledger=False)
    assert not plan.approvals.problems, [p.format() for p in plan.approvals.problems]
    waiting = sorted({f"{job.item}: {job.signoff}" for job in plan.jobs if job.signoff})
    assert not waiting, (
        "approvals.yaml no longer matches what the shipped plan renders — it would not be published:\n  "
        + "\n  ".join(waiting)
        + f"\nIf the change is intended, sign the plan off again in the repository root:\n  {reapprove}\n"
        "and commit approvals.yaml with the change."
    )
    keys = ("newsletter-2024-1", "mpi-meet-up-2024", "2024-03-01-zweiter-monitoring-bericht")
    assert {plan.signoffs(key) for key in keys} == {"current"}

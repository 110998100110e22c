"""Library.query: the selections newsletters, campaigns and stats are built from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commsflow.workspace import Workspace

BERLIN = ZoneInfo("Europe/Berlin")

# Added to the `project` fixture, which already holds: the post 2023-12-04-circular-city-challenge
# (Einblicke, approved), the news 2024-02-01-amber-projekte (review), the event
# 2024-04-25-mpi-meetup (2024-04-25 16:00, approved) and two undated projects.
EXTRA = {
    "posts/2023-11-28-mpi-konferenz-rueckblick.md": """\
title: "Rückblick: MPI Konferenz zur Circular Economy"
status: published
category: Aktuelles
date: 28.11.2023
tags: [Circular Economy, Konferenz]
projects: [circular-city-challenge]
""",
    "posts/2024-04-25-gesichter-amber.md": """\
title: "Gesichter des MPI: 3D-Druck „Made in Berlin“"
status: draft
category: Gesichter des MPI
date: 2024-04-25
tags: [3D-Druck]
projects: [amber-initiative]
""",
    "events/2024-04-25-amber-workshop.md": """\
title: AMBER Workshop Additive Fertigung
status: review
format: Workshop
start: 25.04.2024 10:00
end: 25.04.2024 12:00
organiser: amber-initiative
projects: [amber-initiative]
tags: [3D-Druck]
""",
    "events/2024-04-25-hardtech-fruehstueck.md": """\
title: Hardtech-Frühstück
status: approved
format: Netzwerktreffen
start: 2024-04-25T09:00:00Z
organiser: mpi
""",
    "events/2024-04-26-netzwerktag.md": """\
title: Netzwerktag Industriestadt
status: published
format: Netzwerktreffen
start: 2024-04-26
organiser: mpi
tags: [Konferenz]
""",
}


@pytest.fixture
def library(project: Path):
    for name, front in EXTRA.items():
        (project / "content" / name).write_text(f"---\n{front}---\nText folgt.\n", encoding="utf-8")
    loaded = Workspace(root=project).load()
    assert loaded.problems == []
    assert len(loaded.library) == 5 + len(EXTRA)
    return loaded.library


def slugs(items) -> list[str]:
    return [item.slug for item in items]


def test_by_kind(library):
    assert slugs(library.query("event")) == [
        "2024-04-25-amber-workshop",  # 10:00
        "2024-04-25-hardtech-fruehstueck",  # 09:00 UTC = 11:00 Berlin
        "2024-04-25-mpi-meetup",  # 16:00
        "2024-04-26-netzwerktag",  # all day
    ]
    assert slugs(library.query("news")) == ["2024-02-01-amber-projekte"]
    assert slugs(library.query(["news", "project"])) == [
        "amber-initiative",
        "circular-city-challenge",
        "2024-02-01-amber-projekte",
    ]
    assert {item.kind for item in library.query("post")} == {"post"}
    assert len(library.query()) == len(library)


def test_by_status(library):
    assert slugs(library.query(status="review")) == ["2024-02-01-amber-projekte", "2024-04-25-amber-workshop"]
    assert slugs(library.query("event", status="review")) == ["2024-04-25-amber-workshop"]
    assert slugs(library.query(status=["draft", "published"])) == [
        "2023-11-28-mpi-konferenz-rueckblick",
        "2024-04-25-gesichter-amber",
        "2024-04-26-netzwerktag",
    ]
    assert library.query("news", status="published") == []


def test_by_category(library):
    assert slugs(library.query("post", category="Einblicke")) == ["2023-12-04-circular-city-challenge"]
    assert slugs(library.query(category="Gesichter des MPI")) == ["2024-04-25-gesichter-amber"]
    assert slugs(library.query(category="Aktuelles")) == ["2023-11-28-mpi-konferenz-rueckblick"]
    assert library.query(category="aktuelles") == []  # exact vocabulary value


def test_by_project(library):
    assert slugs(library.query(project="amber-initiative")) == [
        "2024-02-01-amber-projekte",
        "2024-04-25-gesichter-amber",
        "2024-04-25-amber-workshop",
    ]
    assert slugs(library.query("post", project="circular-city-challenge")) == [
        "2023-11-28-mpi-konferenz-rueckblick",
        "2023-12-04-circular-city-challenge",
    ]
    assert library.query(project="gibt-es-nicht") == []


def test_by_tag(library):
    assert slugs(library.query(tag="3D-Druck")) == ["2024-04-25-gesichter-amber", "2024-04-25-amber-workshop"]
    assert slugs(library.query(tag="Konferenz")) == ["2023-11-28-mpi-konferenz-rueckblick", "2024-04-26-netzwerktag"]
    assert slugs(library.query("event", tag="Konferenz")) == ["2024-04-26-netzwerktag"]
    assert library.query(tag="3d-druck") == []


def test_criteria_combine(library):
    assert slugs(library.query("event", status="review", project="amber-initiative", tag="3D-Druck")) == [
        "2024-04-25-amber-workshop"
    ]
    assert library.query("post", status="review", project="amber-initiative") == []


# --- time windows ----------------------------------------------------------------------


def test_after_is_exclusive_for_an_event_time(library):
    meetup = "2024-04-25-mpi-meetup"
    assert library.get(meetup).when.isoformat() == "2024-04-25T16:00:00+02:00"
    assert meetup in slugs(library.query("event", after=datetime(2024, 4, 25, 10, 0, tzinfo=BERLIN)))
    assert meetup not in slugs(library.query("event", after=datetime(2024, 4, 25, 16, 0, tzinfo=BERLIN)))
    assert meetup in slugs(library.query("event", after=datetime(2024, 4, 25, 15, 59, tzinfo=BERLIN)))


def test_after_compares_instants_across_offsets(library):
    meetup = "2024-04-25-mpi-meetup"
    # 14:00 UTC is 16:00 in Berlin: the same moment, so not after it
    assert meetup not in slugs(library.query("event", after=datetime(2024, 4, 25, 14, 0, tzinfo=UTC)))
    assert meetup in slugs(library.query("event", after=datetime(2024, 4, 25, 13, 59, tzinfo=UTC)))


def test_window_after_morning(library):
    after = datetime(2024, 4, 25, 10, 0, tzinfo=BERLIN)
    assert slugs(library.query("event", after=after)) == [
        "2024-04-25-hardtech-fruehstueck",
        "2024-04-25-mpi-meetup",
        "2024-04-26-netzwerktag",
    ]


def test_before_is_exclusive(library):
    before = datetime(2024, 4, 25, 16, 0, tzinfo=BERLIN)
    assert slugs(library.query("event", before=before)) == [
        "2024-04-25-amber-workshop",
        "2024-04-25-hardtech-fruehstueck",
    ]
    assert "2024-04-25-mpi-meetup" in slugs(library.query("event", before=before + timedelta(minutes=1)))


def test_day_windows_are_exclusive_too(library):
    post = "2023-12-04-circular-city-challenge"
    assert post not in slugs(library.query("post", after=date(2023, 12, 4)))
    assert post in slugs(library.query("post", after=date(2023, 12, 3)))
    assert post not in slugs(library.query("post", before=date(2023, 12, 4)))
    assert post in slugs(library.query("post", before=date(2023, 12, 5)))


def test_window_between_two_days(library):
    assert slugs(library.query(after=date(2023, 12, 1), before=date(2024, 4, 25))) == [
        "2023-12-04-circular-city-challenge",
        "2024-02-01-amber-projekte",
    ]
    # timed events on the 25th are after a window that ends at the start of the 25th
    assert slugs(library.query(after=date(2024, 4, 24), before=date(2024, 4, 26))) == [
        "2024-04-25-gesichter-amber",
        "2024-04-25-amber-workshop",
        "2024-04-25-hardtech-fruehstueck",
        "2024-04-25-mpi-meetup",
    ]


def test_consecutive_windows_never_share_an_item(library):
    cut = datetime(2024, 3, 1, 10, 0, tzinfo=BERLIN)
    earlier = set(slugs(library.query(before=cut)))
    later = set(slugs(library.query(after=cut)))
    assert earlier and later and not earlier & later
    assert earlier | later == {item.slug for item in library if item.when is not None}


def test_undated_items_are_outside_every_window(library):
    assert library.query("project", after=date(1900, 1, 1)) == []
    assert library.query("project", before=date(2999, 1, 1)) == []
    assert len(library.query("project")) == 2


# --- order -----------------------------------------------------------------------------


def test_results_are_sorted_oldest_first(library):
    dated = [item for item in library.query() if item.when is not None]
    assert slugs(dated) == [
        "2023-11-28-mpi-konferenz-rueckblick",
        "2023-12-04-circular-city-challenge",
        "2024-02-01-amber-projekte",
        "2024-04-25-gesichter-amber",  # the day itself, before the timed events of that day
        "2024-04-25-amber-workshop",
        "2024-04-25-hardtech-fruehstueck",
        "2024-04-25-mpi-meetup",
        "2024-04-26-netzwerktag",
    ]
    instants = [
        item.when if isinstance(item.when, datetime) else datetime.combine(item.when, datetime.min.time(), BERLIN)
        for item in dated
    ]
    assert instants == sorted(instants)


def test_order_does_not_depend_on_file_order(project, library):
    # the same items loaded from files written in another order give the same result
    again = Workspace(root=project, use_cache=False).load().library
    reversed_library = type(library)(list(reversed(again.items)), again.organisation_slug)
    assert slugs(reversed_library.query()) == slugs(library.query())
    assert slugs(reversed_library.query("event", after=date(2024, 4, 25))) == slugs(
        library.query("event", after=date(2024, 4, 25))
    )


def test_library_from_the_cache_answers_the_same(project, library):
    warm = Workspace(root=project).load()
    assert warm.report.parsed == 0
    for criteria in (
        {},
        {"kind": "event", "after": datetime(2024, 4, 25, 10, 0, tzinfo=BERLIN)},
        {"status": "review"},
        {"project": "amber-initiative"},
        {"tag": "3D-Druck"},
        {"kind": "post", "category": "Einblicke"},
    ):
        assert slugs(warm.library.query(**criteria)) == slugs(library.query(**criteria)), criteria

"""Programme figures computed from the content library (pure: library + clock in, figures out)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from commsflow.library import Library


@dataclass
class FieldFigures:
    name: str
    projects: int = 0
    running: int = 0
    completed: int = 0
    involved: int = 0  # projects with this field among all their fields


@dataclass
class Figures:
    as_of: str
    projects: int
    completed: int
    running: int
    funded: int  # projects with an approved grant (bewilligte Projektförderung)
    funded_running: int
    funded_completed: int
    by_field: list[FieldFigures] = field(default_factory=list)
    posts_by_category: dict[str, int] = field(default_factory=dict)
    news: int = 0
    events_past: int = 0
    events_upcoming: int = 0
    workflow: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def compute(library: Library, now: datetime, fields_of_action: list[str], categories: list[str]) -> Figures:
    projects = library.of_kind("project")
    completed = [p for p in projects if p.meta.state == "completed"]
    funded = [p for p in projects if p.meta.funding is not None]
    by_field = {name: FieldFigures(name) for name in fields_of_action}
    for project in projects:
        main = by_field[project.meta.fields_of_action[0]]
        main.projects += 1
        if project.meta.state == "completed":
            main.completed += 1
        else:
            main.running += 1
        for name in set(project.meta.fields_of_action):
            by_field[name].involved += 1
    posts = Counter(p.meta.category for p in library.of_kind("post"))
    events = library.of_kind("event")
    upcoming = library.query("event", after=now)
    return Figures(
        as_of=now.isoformat(timespec="minutes"),
        projects=len(projects),
        completed=len(completed),
        running=len(projects) - len(completed),
        funded=len(funded),
        funded_running=sum(1 for p in funded if p.meta.state == "running"),
        funded_completed=sum(1 for p in funded if p.meta.state == "completed"),
        by_field=list(by_field.values()),
        posts_by_category={name: posts.get(name, 0) for name in categories},
        news=len(library.of_kind("news")),
        events_past=len(events) - len(upcoming),
        events_upcoming=len(upcoming),
        workflow=dict(sorted(Counter(item.status for item in library).items())),
    )

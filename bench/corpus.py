"""A synthetic content corpus of realistic size, generated outside the repository.

Words come from the shipped German content, so the text has real umlauts, compounds
and punctuation; every content type and most front matter fields appear.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FALLBACK_WORDS = (
    "Industrie Berlin Transformation Kreislaufwirtschaft Projekt Netzwerk Förderung Unternehmen "
    "Fachkräfte Innovation zirkuläres Wirtschaften Hauptstadt Standort Startups Forschung Wissenschaft "
    "Veranstaltung Konferenz Austausch Vernetzung Digitalisierung Dekarbonisierung Wertschöpfung "
    "Mädchen Technik Kompetenzen Rahmenbedingungen Handlungsfelder Akteurinnen Akteure größten"
).split()


def _words() -> list[str]:
    words = []
    for path in (REPO / "content").rglob("*.md"):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        words += re.findall(r"[A-Za-zÄÖÜäöüß][\wÄÖÜäöüß\-]+", body)
    return words if len(words) > 500 else words + FALLBACK_WORDS * 20


def _sentence(rng: random.Random, words: list[str]) -> str:
    chosen = rng.choices(words, k=rng.randint(8, 18))
    return " ".join(chosen).capitalize() + rng.choice([".", ".", ".", ":", "?"])


def _paragraph(rng, words, sentences=(3, 6)) -> str:
    return " ".join(_sentence(rng, words) for _ in range(rng.randint(*sentences)))


def _body(rng: random.Random, words: list[str], target_words: int = 600) -> str:
    parts, count = [], 0
    while count < target_words:
        roll = rng.random()
        if roll < 0.15:
            parts.append("## " + " ".join(rng.choices(words, k=4)))
        elif roll < 0.30:
            parts.append("\n".join(f"- {_sentence(rng, words)}" for _ in range(rng.randint(3, 5))))
        elif roll < 0.36:
            parts.append("> " + _sentence(rng, words))
        else:
            text = _paragraph(rng, words)
            if rng.random() < 0.5:
                text += f" Mehr dazu [auf der Website](https://www.berlin.de/industriestadt/{rng.randint(1, 999)}/)."
            if rng.random() < 0.2:
                text += " **Wichtig:** " + _sentence(rng, words)
            parts.append(text)
        count += len(parts[-1].split())
    return "\n\n".join(parts) + "\n"


def _front_matter(kind: str, index: int, rng: random.Random, words: list[str], projects: list[str]) -> str:
    title = " ".join(rng.choices(words, k=rng.randint(4, 9))).replace(":", "")
    status = rng.choice(["draft", "review", "approved", "approved", "published"])
    day = f"20{rng.randint(22, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    tags = rng.sample(["Circular Economy", "Robotik", "3D-Druck", "Fachkräfte", "Leichtbau", "Foodtech"], 2)
    lines = [
        f'title: "{title}"',
        f"status: {status}",
        f'summary: "{_sentence(rng, words)}"',
        f"tags: [{', '.join(tags)}]",
    ]
    refs = rng.sample(projects, 2) if projects else []
    if kind == "posts":
        lines += [
            f"category: {rng.choice(['Aktuelles', 'Einblicke', 'Gesichter des MPI'])}",
            f"date: {day}",
            "author: Redaktion",
            f"projects: [{', '.join(refs)}]",
            "image:",
            "  src: https://www.berlin.de/industriestadt/bild.jpg",
            "  alt: Teilnehmende im Gespräch",
            "quotes:",
            f'  - text: "{_sentence(rng, words)}"',
            "    name: Franziska Giffey",
            "    function: Senatorin für Wirtschaft, Energie und Betriebe",
        ]
    elif kind == "news":
        lines += [f"date: {day}", f"projects: [{', '.join(refs)}]", f"link: https://www.example.org/news/{index}"]
    elif kind == "events":
        lines += [
            f"format: {rng.choice(['MPI Konferenz', 'MPI Deep Dive', 'Workshop'])}",
            f"start: {day} 16:00",
            f"end: {day} 19:30",
            "organiser: mpi",
            f"projects: [{', '.join(refs)}]",
            "venue:",
            "  name: Impact Hub Berlin",
            "  city: Berlin",
            "registration: https://www.berlin.de/industriestadt/anmeldung/",
        ]
    else:
        fields = rng.sample(["Innovation", "Kompetenzen", "Rahmenbedingungen", "Kommunikation & Vernetzung"], 2)
        lines += [
            f"fields_of_action: [{', '.join(fields)}]",
            f"state: {rng.choice(['running', 'completed'])}",
            "funding:",
            "  applicant: HTW Berlin",
            "  start: 2023-01-01",
            "  end: 2025-12-31",
        ]
    return "---\n" + "\n".join(lines) + "\n---\n"


def generate(target: Path, items: int = 10_000, seed: int = 2024) -> Path:
    """Write ``items`` files (plus commsflow.toml) into ``target``; reuse it if complete."""
    marker = target / f".complete-{items}-{seed}"
    if marker.exists():
        # The content is reused; the configuration is copied afresh, so a corpus made
        # before a change to commsflow.toml still loads.
        shutil.copy(REPO / "commsflow.toml", target / "commsflow.toml")
        return target
    if target.exists():
        shutil.rmtree(target)
    rng = random.Random(seed)
    words = _words()
    (target / "content").mkdir(parents=True)
    shutil.copy(REPO / "commsflow.toml", target / "commsflow.toml")
    shares = {"projects": 0.05, "events": 0.15, "news": 0.30, "posts": 0.50}
    project_slugs = [f"projekt-{i:05d}" for i in range(int(items * shares["projects"]))]
    index = 0
    for kind, share in shares.items():
        folder = target / "content" / kind
        folder.mkdir()
        for number in range(int(items * share)):
            slug = project_slugs[number] if kind == "projects" else f"{kind}-{number:05d}"
            text = _front_matter(kind, index, rng, words, project_slugs) + "\n" + _body(rng, words)
            (folder / f"{slug}.md").write_text(text, encoding="utf-8")
            index += 1
    marker.touch()
    return target

"""Read ``content/`` into typed, validated items with rendered bodies.

Every file is checked on its own (decoding, front matter, fields) and every problem
is collected; one bad file never stops the others. Large content folders are read
by a pool of processes, one per core, and unchanged files come from the cache.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from commsflow import frontmatter, markdown
from commsflow.cache import ContentCache, Entry, code_fingerprint, digest_of
from commsflow.errors import Problem, Severity
from commsflow.model import TYPES, Item
from commsflow.slugs import is_slug, slugify
from commsflow.validation import problems_from_validation_error

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 300


@dataclass(slots=True)
class FileResult:
    item: Item | None
    problems: tuple[Problem, ...] = ()


@dataclass(slots=True)
class LoadReport:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    parsed: int = 0  # files actually read and parsed this run (not from the cache)


def read_item(name: str, raw: bytes, folder: str, context: dict) -> FileResult:
    """One file → an item, or the problems that keep it from being one."""
    kind, model = TYPES[folder]
    try:
        source = frontmatter.split(name, frontmatter.decode(name, raw))
        data = frontmatter.parse(source)
    except frontmatter.SourceError as exc:
        return FileResult(None, (exc.problem,))
    try:
        meta = model.model_validate(data, context=context)
    except ValidationError as exc:
        line_of = frontmatter.line_finder(source)
        return FileResult(None, tuple(problems_from_validation_error(exc, name, line_of, model=model)))
    stem = name.rsplit("/", 1)[-1].removesuffix(".md")
    slug = meta.slug or stem
    problems: tuple[Problem, ...] = ()
    if not meta.slug and not is_slug(stem):
        problems = (
            Problem(
                name,
                f"file name {stem!r} is not a usable slug",
                hint=f"rename the file to {slugify(stem) or 'a-slug'}.md or set 'slug:' in the front matter",
            ),
        )
    item = Item(
        kind=kind,
        slug=slug,
        path=name,
        meta=meta,
        body=source.body,
        html=markdown.to_html(source.body),
        digest=digest_of(raw),
    )
    return FileResult(item, problems)


def _parse_task(task: tuple[str, bytes, str, dict]) -> FileResult:
    name, raw, folder, context = task
    return read_item(name, raw, folder, context)


def discover(root: Path, content_dir: Path) -> tuple[list[tuple[str, Path, str]], list[Problem]]:
    """All ``*.md`` files under the known type folders, sorted; stray files are warned about."""
    found, problems = [], []
    if not content_dir.is_dir():
        return found, [Problem(_rel(root, content_dir), "content folder not found", hint="create it or set [paths].content")]
    for entry in sorted(content_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name in TYPES:
            for path in sorted(entry.rglob("*.md")):
                if not any(part.startswith(".") for part in path.relative_to(entry).parts):
                    found.append((_rel(root, path), path, entry.name))
        elif entry.suffix == ".md" or entry.is_dir():
            problems.append(
                Problem(
                    _rel(root, entry),
                    "not in a content type folder; ignored",
                    hint=f"move it into one of: {', '.join(TYPES)}",
                    severity=Severity.WARNING,
                )
            )
    return found, problems


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def load_content(
    root: Path,
    content_dir: Path,
    context: dict,
    *,
    cache_path: Path | None = None,
    cache_key: str = "",
    jobs: int | None = None,
) -> LoadReport:
    report = LoadReport()
    files, report.problems = discover(root, content_dir)
    report.files = len(files)
    cache = ContentCache(cache_path, f"{cache_key}:{code_fingerprint()}") if cache_path else None
    results: dict[str, FileResult] = {}
    todo: list[tuple[str, bytes, str, dict]] = []
    fresh: list[tuple[str, Entry]] = []
    for name, path, folder in files:
        try:
            if cache is not None:
                stat = os.stat(path)
                hit = cache.by_stat(name, stat.st_mtime_ns, stat.st_size)
                if hit:
                    results[name] = hit.result
                    continue
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                raw = handle.read()
        except OSError as exc:
            report.problems.append(Problem(name, f"cannot be read: {exc.strerror}"))
            continue
        digest = digest_of(raw)
        hit = cache and cache.by_digest(name, digest)  # touched but unchanged
        if hit:
            results[name] = hit.result
        else:
            todo.append((name, raw, folder, context))
        if cache is not None:
            fresh.append((name, Entry(stat.st_mtime_ns, stat.st_size, digest, None)))

    parsed = dict(zip((task[0] for task in todo), _run(todo, jobs)))
    report.parsed = len(parsed)
    results.update(parsed)
    if cache is not None:
        for name, entry in fresh:
            entry.result = results[name]
            cache.put(name, entry)

    for name, _, _ in files:
        result = results.get(name)
        if result is None:
            continue
        if result.item is not None:
            report.items.append(result.item)
        report.problems.extend(result.problems)
    if cache is not None:
        cache.keep_only(set(results))
        cache.save()
    return report


def _run(todo: list, jobs: int | None):
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        return [_parse_task(task) for task in todo]
    chunk = max(16, len(todo) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_parse_task, todo, chunksize=chunk))

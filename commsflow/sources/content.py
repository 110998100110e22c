"""Read ``content/`` into typed, validated items with rendered bodies.

Every file is checked on its own (decoding, front matter, fields) and every problem
is collected; one bad file never stops the others. Parsing — libyaml and cmark-gfm,
the expensive part — runs in a pool of processes, one per core, when there is enough
to parse; validation runs in the main process, where the results are needed. Files
unchanged since the last run come from the cache without being read.

A file that does not validate gives no item, but is still registered with its type,
slug, path and the references it names (:class:`InvalidItem`): a reference to it is not
a reference to nothing, and its own references are checked like any item's.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from commsflow import frontmatter, markdown
from commsflow.cache import CacheMiss, ContentCache, Record, digest_of
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.model import FOLDERS, TYPES, InvalidItem, Item, Items, references_as_written, slug_as_written
from commsflow.slugs import is_slug, slugify
from commsflow.validation import problems_from_validation_error

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 300


@dataclass(slots=True)
class Parsed:
    """A file after the expensive, context-free part: plain data, cheap to pass between processes."""

    name: str
    folder: str
    mtime_ns: int
    size: int
    digest: str
    data: dict | None = None
    html: str = ""
    problem: Problem | None = None


@dataclass(slots=True)
class LoadReport:
    items: Items = field(default_factory=Items)  # the valid items; ``items.invalid``: the files that are not
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    parsed: int = 0  # files actually parsed this run (not taken from the cache)

    @property
    def invalid(self) -> list[InvalidItem]:
        """The files that did not validate, in file order, with their type, slug and references."""
        return getattr(self.items, "invalid", [])


def parse_file(task: tuple[str, str, str]) -> Parsed:
    """Read, decode, split and parse one file; render its body."""
    name, path, folder = task
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        raw = handle.read()
    parsed = Parsed(name, folder, stat.st_mtime_ns, stat.st_size, digest_of(raw))
    try:
        source = frontmatter.split(name, frontmatter.decode(name, raw))
        parsed.data = frontmatter.parse(source)
    except frontmatter.SourceError as exc:
        parsed.problem = exc.problem
        return parsed
    parsed.html = markdown.to_html(source.body)
    return parsed


def validate(parsed: Parsed, root: Path, context: dict) -> tuple[Item | InvalidItem, tuple[Problem, ...]]:
    """Typed front matter for a parsed file; or, with every problem that keeps it from
    being an item, what is known of it all the same."""
    kind, model = TYPES[parsed.folder]
    stem = parsed.name.rsplit("/", 1)[-1].removesuffix(".md")
    if parsed.problem is not None:
        return InvalidItem(kind, stem, parsed.name), (parsed.problem,)
    try:
        meta = model.model_validate(parsed.data, context=context)
    except ValidationError as exc:
        line_of = frontmatter.line_finder_for_file(root / parsed.name, parsed.name)
        invalid = InvalidItem(
            kind, slug_as_written(parsed.data, stem), parsed.name, references_as_written(kind, parsed.data)
        )
        return invalid, tuple(problems_from_validation_error(exc, parsed.name, line_of, model=model))
    problems: tuple[Problem, ...] = ()
    if not meta.slug and not is_slug(stem):
        problems = (
            Problem(
                parsed.name,
                f"file name {stem!r} is not a usable slug",
                hint=f"rename the file to {slugify(stem) or 'a-slug'}.md or set 'slug:' in the front matter",
            ),
        )
    item = Item(kind, meta.slug or stem, parsed.name, parsed.digest, meta=meta, html=parsed.html)
    return item, problems


def discover(root: Path, content_dir: Path) -> tuple[list[tuple[str, str, str]], list[Problem]]:
    """All ``*.md`` files under the known type folders, sorted; stray files are warned about."""
    found, problems = [], []
    if not content_dir.is_dir():
        return found, [
            Problem(_rel(root, content_dir), "content folder not found", hint="create it or set [paths].content")
        ]
    prefix = _rel(root, content_dir)
    for entry in sorted(os.scandir(content_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name in TYPES:
            for folder, subfolders, names in os.walk(entry.path):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                relative = os.path.relpath(folder, content_dir).replace(os.sep, "/")
                for name in sorted(names):
                    if name.endswith(".md") and not name.startswith("."):
                        found.append((f"{prefix}/{relative}/{name}", os.path.join(folder, name), entry.name))
        elif entry.name.endswith(".md") or entry.is_dir():
            problems.append(
                Problem(
                    f"{prefix}/{entry.name}",
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


class CachedSource:
    """Where cached items fetch their front matter and body on first use. If the cache
    cannot give them (damaged, or cleaned up meanwhile), the file is read again."""

    def __init__(self, cache: ContentCache, root: Path):
        self.cache, self.root = cache, root

    def data(self, item: Item) -> dict:
        try:
            return self.cache.data(item.digest)
        except CacheMiss:
            return self._reread(item).data

    def body(self, item: Item) -> str:
        try:
            return self.cache.body(item.digest)
        except CacheMiss:
            return self._reread(item).html

    def _reread(self, item: Item) -> Parsed:
        try:
            parsed = parse_file((item.path, str(self.root / item.path), FOLDERS[item.kind]))
        except OSError as exc:
            raise CommsflowError(f"{item.path}: cannot be read: {exc.strerror}", "run the command again") from None
        if parsed.digest != item.digest:
            raise CommsflowError(f"{item.path} changed while commsflow was running", "run the command again")
        return parsed


# A file's record in the cache's index: (mtime_ns, size, digest, kind, slug, refs, problems, valid).
# An invalid file keeps its kind, slug and references too (valid False), and has no content row.
RECORD_FIELDS = 8


def _record(parsed: Parsed, result: Item | InvalidItem, problems: tuple[Problem, ...]) -> Record:
    valid = isinstance(result, Item)
    return (parsed.mtime_ns, parsed.size, parsed.digest, result.kind, result.slug, result.refs, problems, valid)


def _usable(record: Record | None) -> Record | None:
    """A cached record of the current shape; any other (an older commsflow's) is read again."""
    return record if record is not None and len(record) == RECORD_FIELDS else None


def _from_cache(name: str, record: Record, context: dict, source: CachedSource):
    _, _, digest, kind, slug, refs, problems, valid = record
    if not valid:
        return InvalidItem(kind, slug, name, refs), problems
    return Item(kind, slug, name, digest, refs=refs, store=source, context=context), problems


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
    cache = ContentCache(cache_path, cache_key) if cache_path else None
    source = CachedSource(cache, root) if cache else None
    results: dict[str, tuple[Item | InvalidItem, tuple[Problem, ...]]] = {}
    todo: list[tuple[str, str, str]] = []
    for name, path, folder in files:
        if cache is not None:
            try:
                stat = os.stat(path)
            except OSError as exc:
                report.problems.append(Problem(name, f"cannot be read: {exc.strerror}"))
                continue
            hit = _usable(cache.by_stat(name, stat.st_mtime_ns, stat.st_size))
            if hit:
                results[name] = _from_cache(name, hit, context, source)
                continue
        todo.append((name, path, folder))

    for parsed in _parse_all(todo, jobs):
        if isinstance(parsed, Problem):
            report.problems.append(parsed)
            continue
        hit = _usable(cache.by_digest(parsed.name, parsed.digest)) if cache is not None else None
        if hit:  # touched, but the same bytes: nothing to validate again
            cache.put(parsed.name, (parsed.mtime_ns, parsed.size) + hit[2:])
            results[parsed.name] = _from_cache(parsed.name, hit, context, source)
            continue
        report.parsed += 1
        result, problems = validate(parsed, root, context)
        results[parsed.name] = result, problems
        if cache is not None:
            if isinstance(result, Item):
                cache.put(parsed.name, _record(parsed, result, problems), parsed.data, parsed.html)
            else:
                cache.put(parsed.name, _record(parsed, result, problems))

    for name, _, _ in files:
        if name not in results:
            continue
        result, problems = results[name]
        if isinstance(result, Item):
            report.items.append(result)
        else:
            report.items.invalid.append(result)
        report.problems.extend(problems)
    if cache is not None:
        cache.keep_only(set(results))
        cache.save()
    return report


def _safe_parse(task: tuple[str, str, str]) -> Parsed | Problem:
    try:
        return parse_file(task)
    except OSError as exc:
        return Problem(task[0], f"cannot be read: {exc.strerror}")


def _parse_all(todo: list, jobs: int | None):
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        yield from map(_safe_parse, todo)
        return
    chunk = max(16, len(todo) // (workers * 16))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_safe_parse, todo, chunksize=chunk)

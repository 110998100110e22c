"""Read ``content/`` into typed, validated items with rendered bodies.

Every file is checked on its own (decoding, front matter, fields) and every problem
is collected; one bad file never stops the others. Parsing — libyaml and cmark-gfm,
the expensive part — runs in a pool of processes, one per core, when there is enough
to parse; validation runs in the main process, where the results are needed. Files
unchanged since the last run come from the cache without being read.

A file that does not validate gives no item, but is still registered with its type,
slug, path and the references it names (:class:`InvalidItem`): a reference to it is not
a reference to nothing, and its own references are checked like any item's.

What is read stays inside the content folder: a symbolic link (to a file, or a type
folder such as ``content/posts``) is followed only when its target lies inside the content
folder too; links to other folders inside a type folder are not followed, as before.
A file larger than ``[limits] max_file_kb`` is reported, not read; so is anything that is
not a regular file (a named pipe would block the reader). An item's local image
(``image.src``) must be an image inside the content folder (:mod:`commsflow.media`); that
is checked on every load, since the image can change while its Markdown file does not.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from commsflow import frontmatter, i18n, markdown, media
from commsflow.cache import CacheMiss, ContentCache, Record, digest_of
from commsflow.config import DEFAULT_MAX_FILE_KB
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.i18n import _
from commsflow.model import FOLDERS, MODELS, TYPES, InvalidItem, Item, Items, references_as_written, slug_as_written
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


# A file to parse: (name as shown, path to read, type folder, size limit in bytes).
Task = tuple[str, str, str, int]


def parse_file(task: Task) -> Parsed:
    """Read, decode, split and parse one file; render its body. A file over the size
    limit is not read: it is a problem, told by its size."""
    name, path, folder, limit = task
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        raw = handle.read(limit + 1) if stat.st_size <= limit else b""
    size = max(stat.st_size, len(raw))
    if size > limit:  # also when the file grew between the stat and the read
        # No content hash without reading it: the stat stands in (a file over the limit gives no item).
        parsed = Parsed(name, folder, stat.st_mtime_ns, stat.st_size, f"over-limit:{size}:{stat.st_mtime_ns}")
        parsed.problem = _too_large(name, size, limit)
        return parsed
    parsed = Parsed(name, folder, stat.st_mtime_ns, stat.st_size, digest_of(raw))
    try:
        source = frontmatter.split(name, frontmatter.decode(name, raw))
        parsed.data = frontmatter.parse(source)
    except frontmatter.SourceError as exc:
        parsed.problem = exc.problem
        return parsed
    html, unsafe = markdown.to_html_checked(source.body)
    if unsafe is not None:
        # The HTML would drop it, but a release's Markdown keeps the body as written.
        what, line = unsafe
        body_line = source.yaml_first_line + source.yaml_text.count("\n") + 1 + line
        parsed.problem = Problem(
            name,
            _("{what} in the text").format(what=what),
            line=body_line,
            field="body",
            hint=_(
                "write it as Markdown without HTML tags (**fett**, [Linktext](https://…)); links only to "
                "https://, http:// or mailto: addresses"
            ),
        )
        return parsed
    parsed.html = html
    return parsed


def _too_large(name: str, size: int, limit: int) -> Problem:
    return Problem(
        name,
        _("the file is {size} KB, over the limit of {limit} KB; it was not read").format(
            size=_number(math.ceil(size / 1024)), limit=_number(limit // 1024)
        ),
        hint=_(
            "split the text into smaller items (images belong in image files, not in the text), or raise "
            "[limits] max_file_kb in commsflow.toml"
        ),
    )


def _number(value: int) -> str:
    """``2,049`` in English, ``2.049`` in German."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=i18n.language())


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
                _("file name {name} is not a usable slug").format(name=repr(stem)),
                hint=_("rename the file to {slug}.md or set 'slug:' in the front matter").format(
                    slug=slugify(stem) or "a-slug"
                ),
            ),
        )
    item = Item(kind, meta.slug or stem, parsed.name, parsed.digest, meta=meta, html=parsed.html)
    return item, problems


def discover(root: Path, content_dir: Path) -> tuple[list[tuple[str, str, str]], list[Problem]]:
    """All ``*.md`` files under the known type folders, sorted, as (name as shown, path to
    read, type folder); stray files are warned about. Symbolic links are followed only to
    targets inside the content folder (the path to read is then the target's)."""
    found: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    if not content_dir.is_dir():
        return found, [
            Problem(_rel(root, content_dir), _("content folder not found"), hint=_("create it or set [paths].content"))
        ]
    prefix = _rel(root, content_dir)
    inside = os.path.realpath(content_dir)
    for entry in sorted(os.scandir(content_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        shown = f"{prefix}/{entry.name}"
        if entry.name in TYPES and entry.is_dir():
            folder = entry.path
            if entry.is_symlink():
                folder = os.path.realpath(entry.path)
                if not _within(folder, inside):
                    problems.append(_link_out(shown, entry.path, prefix, "folder"))
                    continue
            _walk(folder, shown, entry.name, inside, prefix, found, problems)
        elif entry.name.endswith(".md") or entry.is_dir():
            problems.append(
                Problem(
                    shown,
                    _("not in a content type folder; ignored"),
                    hint=_("move it into one of: {folders}").format(folders=", ".join(TYPES)),
                    severity=Severity.WARNING,
                )
            )
    return found, problems


def _walk(folder: str, shown: str, kind: str, inside: str, prefix: str, found: list, problems: list) -> None:
    """The Markdown files of one folder in name order, then those of its subfolders (in the
    order ``os.walk`` gave them). The entries' types come with the listing: only a link
    costs a look at its target."""
    subfolders = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        if name.startswith("."):
            continue
        path, where = entry.path, f"{shown}/{name}"
        if entry.is_symlink():
            target = os.path.realpath(path)
            if os.path.isdir(target):
                problems.append(
                    _link_out(where, path, prefix, "folder")
                    if not _within(target, inside)
                    else Problem(
                        where,
                        _("is a symbolic link to a folder; links to folders are not followed, its files were not read"),
                        hint=_("move the files here, or link the Markdown files one by one"),
                        severity=Severity.WARNING,
                    )
                )
            elif not name.endswith(".md"):
                continue
            elif not _within(target, inside):
                problems.append(_link_out(where, path, prefix, "file"))
            elif not os.path.isfile(target):
                problems.append(
                    Problem(
                        where,
                        _("is a symbolic link to {target}, which does not exist (or is no file); not read").format(
                            target=repr(os.readlink(path))
                        ),
                        hint=_("remove the link or restore the file it points to"),
                    )
                )
            else:
                found.append((where, target, kind))
        elif entry.is_dir(follow_symlinks=False):
            subfolders.append((path, where))
        elif name.endswith(".md"):
            if entry.is_file(follow_symlinks=False):
                found.append((where, path, kind))
            else:
                problems.append(
                    Problem(
                        where,
                        _("is not a regular file (a named pipe, socket or device); not read"),
                        hint=_("replace it with an ordinary Markdown file"),
                    )
                )
    for path, where in subfolders:
        _walk(path, where, kind, inside, prefix, found, problems)


def _link_out(shown: str, path: str, prefix: str, what: str) -> Problem:
    """``what``: ``folder`` or ``file``."""
    if what == "folder":
        message = _("is a symbolic link to a folder outside the content folder ({target}); not read")
        hint = _("copy the folder into {folder}/ instead of linking it: only what lies in {folder}/ is published")
    else:
        message = _("is a symbolic link to a file outside the content folder ({target}); not read")
        hint = _("copy the file into {folder}/ instead of linking it: only what lies in {folder}/ is published")
    return Problem(shown, message.format(target=os.readlink(path)), hint=hint.format(folder=prefix))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class CachedSource:
    """Where cached items fetch their front matter and body on first use. If the cache
    cannot give them (damaged, or cleaned up meanwhile), the file is read again."""

    def __init__(self, cache: ContentCache, root: Path, limit: int):
        self.cache, self.root, self.limit = cache, root, limit

    def data(self, item: Item) -> dict:
        try:
            return self.cache.data(item.digest)
        except CacheMiss:
            return self.reread_data(item)

    def reread_data(self, item: Item) -> dict:
        """The front matter as the file has it (when what the cache gave does not validate)."""
        return self._reread(item).data

    def body(self, item: Item) -> str:
        try:
            return self.cache.body(item.digest)
        except CacheMiss:
            return self._reread(item).html

    def _reread(self, item: Item) -> Parsed:
        try:
            parsed = parse_file((item.path, str(self.root / item.path), FOLDERS[item.kind], self.limit))
        except OSError as exc:
            raise CommsflowError(
                _("{path}: cannot be read: {reason}").format(path=item.path, reason=exc.strerror),
                _("run the command again"),
            ) from None
        if parsed.digest != item.digest:
            raise CommsflowError(
                _("{path} changed while commsflow was running").format(path=item.path), _("run the command again")
            )
        return parsed


# A file's record in the cache's index, plain data (the cache keeps it as JSON):
# (mtime_ns, size, digest, kind, slug, refs, problems, valid, image). problems are
# Problem.as_dict()s; image is the item's local image path, checked on every load. An
# invalid file keeps its kind, slug and references too (valid False), and has no content row.
RECORD_FIELDS = 9


def _record(parsed: Parsed, result: Item | InvalidItem, problems: tuple[Problem, ...]) -> Record:
    valid = isinstance(result, Item)
    image = _local_image(result.meta) if valid else None
    found = tuple(problem.as_dict() for problem in problems)
    return (parsed.mtime_ns, parsed.size, parsed.digest, result.kind, result.slug, result.refs, found, valid, image)


def _local_image(meta) -> str | None:
    image = meta.image
    return image.src if image is not None and media.is_local(image.src) else None


def _usable(record: Record | None) -> Record | None:
    """A cached record of the current shape; any other (an older commsflow's, or one
    that is not what commsflow writes) is read again."""
    if record is None or len(record) != RECORD_FIELDS:
        return None
    kind, slug, refs, problems, valid, image = record[3:]
    if not (
        kind in MODELS
        and isinstance(slug, str)
        and isinstance(refs, dict)
        and isinstance(problems, list | tuple)
        and type(valid) is bool
        and (image is None or isinstance(image, str))
    ):
        return None
    return record


def _from_cache(name: str, record: Record, context: dict, source: CachedSource):
    """The item (or invalid file) and its problems as the cache has them; None when the
    record's problems are not what commsflow writes."""
    digest, kind, slug, refs, found, valid = record[2:8]
    try:
        problems = tuple(map(Problem.from_dict, found)) if found else ()
    except (TypeError, ValueError, KeyError):
        return None
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
    max_file_kb: int = DEFAULT_MAX_FILE_KB,
    seen: dict[str, list[int] | None] | None = None,
) -> LoadReport:
    """``seen``: files' [size, mtime_ns] as just listed (by the build's stamp); a file
    listed there is not asked about again."""
    report = LoadReport()
    seen = seen or {}
    files, report.problems = discover(root, content_dir)
    report.files = len(files)
    limit = max_file_kb * 1024
    cache = ContentCache(cache_path, cache_key) if cache_path else None
    source = CachedSource(cache, root, limit) if cache else None
    results: dict[str, tuple[Item | InvalidItem, tuple[Problem, ...]]] = {}
    images: dict[str, str] = {}  # file → its item's local image
    todo: list[Task] = []
    for name, path, folder in files:
        if cache is not None:
            known = seen.get(path)
            if known is not None:
                size, mtime_ns = known
            else:
                try:
                    stat = os.stat(path)
                except OSError as exc:
                    report.problems.append(Problem(name, _("cannot be read: {reason}").format(reason=exc.strerror)))
                    continue
                size, mtime_ns = stat.st_size, stat.st_mtime_ns
            hit = _usable(cache.by_stat(name, mtime_ns, size))
            cached = _from_cache(name, hit, context, source) if hit else None
            if cached:
                results[name] = cached
                if hit[8]:
                    images[name] = hit[8]
                continue
        todo.append((name, path, folder, limit))

    for parsed in _parse_all(todo, jobs):
        if isinstance(parsed, Problem):
            report.problems.append(parsed)
            continue
        hit = _usable(cache.by_digest(parsed.name, parsed.digest)) if cache is not None else None
        cached = _from_cache(parsed.name, hit, context, source) if hit else None
        if cached:  # touched, but the same bytes: nothing to validate again
            cache.put(parsed.name, (parsed.mtime_ns, parsed.size) + tuple(hit[2:]))
            results[parsed.name] = cached
            if hit[8]:
                images[parsed.name] = hit[8]
            continue
        report.parsed += 1
        result, problems = validate(parsed, root, context)
        results[parsed.name] = result, problems
        record = _record(parsed, result, problems)
        if record[8]:
            images[parsed.name] = record[8]
        if cache is not None:
            if isinstance(result, Item):
                cache.put(parsed.name, record, parsed.data, parsed.html)
            else:
                cache.put(parsed.name, record)

    for name, _path, _folder in files:
        if name not in results:
            continue
        result, problems = results[name]
        if isinstance(result, Item):
            report.items.append(result)
            if name in images:  # the image file may have changed while the Markdown did not: checked each time
                problem = media.check(images[name], name, root, content_dir)
                problems = (*problems, problem) if problem else problems
        else:
            report.items.invalid.append(result)
        report.problems.extend(problems)
    if cache is not None:
        cache.keep_only(set(results))
        cache.save()
    return report


def _safe_parse(task: Task) -> Parsed | Problem:
    try:
        return parse_file(task)
    except OSError as exc:
        return Problem(task[0], _("cannot be read: {reason}").format(reason=exc.strerror))


def _parse_all(todo: list, jobs: int | None):
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        yield from map(_safe_parse, todo)
        return
    chunk = max(16, len(todo) // (workers * 16))
    # The workers speak the command's language, however they are started.
    with ProcessPoolExecutor(max_workers=workers, initializer=i18n.use, initargs=(i18n.language(),)) as pool:
        yield from pool.map(_safe_parse, todo, chunksize=chunk)

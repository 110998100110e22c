"""The Jinja2 environment every output is rendered with.

Templates live in the project's ``templates/`` folder: they hold all wording and
markup. Undefined variables are errors (``StrictUndefined``) and everything that
comes from content is escaped in HTML and MJML templates. Template mistakes become
one message naming the template file and line.
"""

from __future__ import annotations

import html
import importlib.util
import marshal
import re
import shutil
import sys
import textwrap
import types
import unicodedata
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path

import jinja2

from commsflow import dates, i18n, markdown
from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.i18n import _

_ESCAPED = ("html", "mjml", "xml")


def environment(config: Config) -> jinja2.Environment:
    cache = config.cache_folder
    return _environment(str(config.path("templates")), config.organisation.locale, str(cache) if cache else None)


@lru_cache(maxsize=8)
def _environment(folder: str, locale: str, cache: str | None = None) -> jinja2.Environment:
    # One environment per templates folder keeps compiled templates between renders
    # (compiling is most of a build's time); Jinja2 recompiles a template whose file changed.
    # Between commands, the compiled templates wait in the state folder (``_CompiledTemplates``).
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        bytecode_cache=_CompiledTemplates.in_cache(Path(cache)) if cache else None,
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=_ESCAPED, default_for_string=True, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_messages(env)
    env.filters.update(
        long_date=partial(dates.long_date, locale=locale),
        numeric_date=partial(dates.numeric_date, locale=locale),
        weekday_date=partial(dates.weekday_date, locale=locale),
        month_year=partial(dates.month_year, locale=locale),
        hour_minute=partial(dates.hour_minute, locale=locale),
        wrap=wrap,
        heading=heading,
        plain=plain,
        md=markdown.escape,
    )
    env.globals["templates_folder"] = folder
    return env


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by an earlier command, in ``.commsflow/cache/templates-…/``: compiling
    them took a quarter of a second of every build. Each file holds the Python version, a checksum
    of the template's source (a changed template is compiled again) and the compiled code. The
    folder's name holds a digest of commsflow's code, because how templates compile (the
    environment's options and extensions) is commsflow's code. The state folder is trusted as the
    templates folder is (both are the project's own; a template can run code too); no pickle is
    read. The cache is optional: a folder that cannot be written or a damaged file only means
    compiling again."""

    # What compiled code depends on besides the template: Python's bytecode and Jinja2's runtime.
    _HEADER = (
        f"commsflow compiled template\njinja2 {jinja2.__version__}\n".encode() + importlib.util.MAGIC_NUMBER + b"\n"
    )

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def in_cache(cls, cache: Path) -> _CompiledTemplates | None:
        from commsflow.cache import package_digest

        folder = cache / ("templates-" + package_digest()[:16])
        try:
            if not folder.is_dir():
                for old in cache.glob("templates-*"):  # compiled by another version of commsflow
                    shutil.rmtree(old, ignore_errors=True)
                folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return cls(folder)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = (self.folder / bucket.key).read_bytes()
        except OSError:
            return
        checksum = self._HEADER + bucket.checksum.encode() + b"\n"
        if data.startswith(checksum):
            try:
                code = marshal.loads(data[len(checksum) :])
            except (ValueError, EOFError, TypeError):  # damaged: compile it
                return
            if isinstance(code, types.CodeType):
                bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        from commsflow.files import write_atomic

        data = self._HEADER + bucket.checksum.encode() + b"\n" + marshal.dumps(bucket.code)
        try:
            write_atomic(self.folder / bucket.key, data)
        except (OSError, CommsflowError):
            pass


def install_messages(env: jinja2.Environment) -> None:
    """The team-facing templates (dashboard, desk, draft headers) speak the language commsflow
    speaks: ``{{ _("Signed off by %(name)s", name=…) }}`` and ``{% trans %}`` blocks, translated
    by commsflow's catalog (``make messages`` extracts them). Placeholders are ``%(name)s``, and
    a literal percent sign is ``%%``. What goes out (newsletter, posts, releases) is written in
    the templates themselves, in the organisation's language, and does not use them."""
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks in a template are not part of it


_LIST_MARKER = re.compile(r"^\s*(?:[-*•–]|\d+\.)\s+")
_QUOTE_MARKER = re.compile(r"^(?:> ?)+")


def wrap(text: str, width: int = 72) -> str:
    """Plain-text paragraphs wrapped for e-mail, each line of ``text`` on its own; long
    words (web addresses) are never broken, nor is a line at a hyphen or a no-break space."""
    return "\n".join(_fill(line, width) for line in str(text).split("\n"))


def _fill(line: str, width: int, prefix: str = "", hang: str = "") -> str:
    return (
        textwrap.fill(
            line,
            width=max(width - len(prefix), 20),
            initial_indent=prefix,
            subsequent_indent=prefix + hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
        or prefix.rstrip()
    )


def _wrap_structured(text: str, width: int = 72) -> str:
    """:func:`wrap` for text made from Markdown (:func:`commsflow.markdown.html_to_text`):
    list items hang under their marker, and quoted lines keep their "> " on every line."""
    lines = []
    for line in text.split("\n"):
        quote = _QUOTE_MARKER.match(line)
        prefix = quote[0] if quote else ""
        body = line[len(prefix) :]
        marker = _LIST_MARKER.match(body)
        lines.append(_fill(body, width, prefix, " " * len(marker[0]) if marker else ""))
    return "\n".join(lines)


def heading(text: str, underline: str = "-", width: int = 72) -> str:
    """A heading as a plain-text e-mail writes it: the title (wrapped), then a line of
    ``underline`` as wide as its widest line."""
    lines = wrap(text, width).split("\n")
    return "\n".join([*lines, underline * max(_columns(line) for line in lines)])


def _columns(text: str) -> int:
    """The columns ``text`` takes in a monospaced font: an accent written as a combining
    mark takes none, a wide (East Asian) character two."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text
    )


class References:
    """The links of a plain-text e-mail as numbered references: ``cite(url)`` gives the
    marker to write after the linked words ("[3]"; an address cited again keeps its number),
    ``listed`` the markers with their addresses for the list at the end, in order."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def cite(self, url: str) -> str:
        url = str(url)
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"

    @property
    def listed(self) -> list[tuple[str, str]]:
        """(marker, address) pairs; markers padded to one width so the addresses line up."""
        width = len(f"[{len(self.urls)}]")
        return [(f"[{number}]".ljust(width), _shown(url)) for number, url in enumerate(self.urls, 1)]


def _shown(url: str) -> str:
    return url.removeprefix("mailto:")


# cmark writes every link as <a href="…"> (an optional title after it) and never nests them.
_ANCHOR = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SCHEME = re.compile(r"^(?:mailto:|https?://)")


def plain(html_text: str, links: References, width: int = 72) -> str:
    """HTML made from Markdown (``commsflow.markdown``) as plain text wrapped at ``width``,
    each link's words followed by its reference marker; a link whose words are an address
    stays as written."""

    def cited(match: re.Match) -> str:
        url, words = html.unescape(match[1]), match[2]
        shown = html.unescape(_TAG.sub("", words)).strip()
        if not url or _says_where(shown, url):
            return words
        return f"{words} {links.cite(url)}"

    return _wrap_structured(markdown.html_to_text(_ANCHOR.sub(cited, str(html_text))).strip(), width)


def _says_where(words: str, url: str) -> bool:
    """Whether a link's words are its address (an autolink, an e-mail address): the reader
    sees where it leads, tracking parameters aside."""
    shown = _SCHEME.sub("", words)
    return bool(shown) and not any(char.isspace() for char in shown) and _SCHEME.sub("", url).startswith(shown)


def render(env: jinja2.Environment, name: str, **context) -> str:
    """Render template ``name``; template mistakes become a CommsflowError with file and line."""
    with explained(env, name):
        return env.get_template(name).render(**context)


def macro(env: jinja2.Environment, name: str, macro_name: str):
    """A macro of template ``name``, to call from Python (template mistakes as in :func:`render`)."""
    with explained(env, name):
        found = getattr(env.get_template(name).module, macro_name)
    return lambda *args, **kwargs: _called(env, name, found, args, kwargs)


def _called(env, name, found, args, kwargs):
    with explained(env, name):
        try:
            return found(*args, **kwargs)
        except TypeError as exc:
            if not str(exc).startswith("macro "):
                raise
            # "macro 'card' takes not more than 2 argument(s)": the template is from another commsflow.
            folder = Path(env.globals["templates_folder"])
            raise CommsflowError(
                _("{path}: {error}").format(path=folder / name, error=exc),
                _(
                    "the template is from another version of commsflow; copy {name} from the templates/ "
                    "folder of commsflow's repository (keep your own changes aside and make them again)"
                ).format(name=name),
            ) from None


@contextmanager
def explained(env: jinja2.Environment, name: str):
    """Template mistakes made a CommsflowError that names the template file and line."""
    folder = Path(env.globals["templates_folder"])
    try:
        yield
    except jinja2.TemplateNotFound as exc:
        raise CommsflowError(
            _("{path}: template not found").format(path=folder / exc.name),
            _(
                "commsflow expects its templates in {folder}; copy the templates/ folder from commsflow's repository"
            ).format(folder=folder),
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise CommsflowError(
            _("{path}:{line}: template error: {error}").format(
                path=exc.filename or name, line=exc.lineno, error=exc.message
            ),
            _("fix the Jinja2 syntax on that line"),
        ) from None
    except jinja2.UndefinedError as exc:
        where = _template_frame(sys.exc_info()[2], folder) or name
        raise CommsflowError(
            f"{where}: {exc.message}", _("the template uses a value that is not there; check the name")
        ) from None


def _template_frame(trace, folder: Path) -> str | None:
    """``file:line`` of the innermost template frame in a traceback."""
    found = None
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.startswith(str(folder)):
            found = f"{filename}:{trace.tb_lineno}"
        trace = trace.tb_next
    return found

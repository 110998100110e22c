"""The Jinja2 environment every output is rendered with.

Templates live in the project's ``templates/`` folder: they hold all wording and
markup. Undefined variables are errors (``StrictUndefined``) and everything that
comes from content is escaped in HTML and MJML templates. Template mistakes become
one message naming the template file and line.
"""

from __future__ import annotations

import re
import sys
import textwrap
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
    return _environment(str(config.path("templates")), config.organisation.locale)


@lru_cache(maxsize=8)
def _environment(folder: str, locale: str) -> jinja2.Environment:
    # One environment per templates folder keeps compiled templates between renders
    # (compiling is most of a build's time); Jinja2 recompiles a template whose file changed.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
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
        md=markdown.escape,
    )
    env.globals["templates_folder"] = folder
    return env


def install_messages(env: jinja2.Environment) -> None:
    """The team-facing templates (dashboard, desk, draft headers) speak the language commsflow
    speaks: ``{{ _("Signed off by %(name)s", name=…) }}`` and ``{% trans %}`` blocks, translated
    by commsflow's catalog (``make messages`` extracts them). Placeholders are ``%(name)s``, and
    a literal percent sign is ``%%``. What goes out (newsletter, posts, releases) is written in
    the templates themselves, in the organisation's language, and does not use them."""
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks in a template are not part of it


_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+")


def wrap(text: str, width: int = 72) -> str:
    """Plain-text paragraphs wrapped for e-mail; list items hang under their marker and
    long words (web addresses) are never broken."""
    lines = []
    for line in str(text).split("\n"):
        marker = _LIST_MARKER.match(line)
        hang = " " * len(marker[0]) if marker else ""
        lines.append(
            textwrap.fill(line, width=width, subsequent_indent=hang, break_long_words=False, break_on_hyphens=False)
        )
    return "\n".join(lines)


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
        return found(*args, **kwargs)


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

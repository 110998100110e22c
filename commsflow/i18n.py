"""The language commsflow speaks to people: German unless someone asks for English.

Messages are written in English in the code, marked with :func:`_` (or :func:`ngettext`
for counts), and translated by the gettext catalog ``commsflow/locale/de/LC_MESSAGES/
commsflow.po`` — extracted, updated and compiled with Babel by ``make messages``. English
is the messages as written. The language is chosen once per command, first of:

1. ``--lang de|en`` on the command line;
2. the ``COMMSFLOW_LANG`` environment variable (a person's own choice);
3. ``[organisation] ui_language`` in ``commsflow.toml`` (the team's choice);
4. the ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` environment variable, when it names German
   or English (``C`` and ``POSIX`` name neither);
5. German.

Messages defined before a command runs (tables at module level) are marked with
:func:`N_` and translated with ``_(…)`` where they are shown. Interpolated messages keep their placeholders in the msgid (``_("{count} built").format(…)``),
so the translation may put them in another order.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LANGUAGES = ("de", "en")
DEFAULT = "de"
DOMAIN = "commsflow"
LOCALES = Path(__file__).parent / "locale"

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"  # until a command chooses: the messages as written


def use(language: str) -> None:
    """Speak ``language`` (``de`` or ``en``) from now on."""
    global _current, _language
    if language not in LANGUAGES:
        raise ValueError(f"no messages in {language!r}; commsflow speaks {', '.join(LANGUAGES)}")
    _language = language
    if language == "en":
        _current = gettext.NullTranslations()
    else:
        # A missing catalog would silently speak English: it ships with commsflow, so fail loudly.
        _current = gettext.translation(DOMAIN, LOCALES, languages=[language])
    # click writes its own words (Usage:, Options:, its errors) through the gettext module, in
    # the domain and language gettext is set to: ours (the catalog holds click's messages too).
    gettext.bindtextdomain(DOMAIN, str(LOCALES))
    gettext.textdomain(DOMAIN if language != "en" else "messages")
    os.environ["LANGUAGE"] = language  # gettext's own choice of language, inherited by what commsflow starts


def language() -> str:
    return _language


def _(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _current.ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for it
    """Marks a message for the catalog where it is defined (a table at module level,
    before any language is chosen); :func:`_` translates it where it is shown."""
    return message


def choose(flag: str | None, configured: str | None, environ=os.environ) -> str:
    """The language to speak, by the order above (``flag``: ``--lang``; ``configured``: the
    configuration's ``ui_language``)."""
    for value in (flag, environ.get("COMMSFLOW_LANG"), configured):
        if value:
            found = _named(value)
            if found:
                return found
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        found = _named(environ.get(variable) or "")
        if found:
            return found
    return DEFAULT


def _named(value: str) -> str | None:
    """``de``, ``de_DE.UTF-8``, ``English`` … → ``de``/``en``; None for anything else."""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    code = {"deutsch": "de", "german": "de", "english": "en", "englisch": "en"}.get(code, code)
    return code if code in LANGUAGES else None


def help_text(text: str) -> str:
    """A click command's help as its ``--help`` shows it (and as the catalog holds it): the
    docstring without indentation, up to a form feed."""
    import inspect

    return inspect.cleandoc(text).partition("\f")[0]


def extract_commands(fileobj, keywords, comment_tags, options):
    """Babel's extraction method for commsflow's modules (babel.cfg): the messages marked as
    :mod:`babel.messages.extract` finds them, and the docstring of every click command — its
    ``--help`` text, which the CLI translates when it shows it."""
    import ast

    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_command(decorator) for decorator in node.decorator_list):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                yield node.lineno, None, help_text(docstring), []


def _is_command(decorator) -> bool:
    """``@click.command(…)``, ``@click.group(…)``, ``@newsletter.command(…)``."""
    import ast

    function = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = getattr(function, "attr", None) or getattr(function, "id", None)
    return name in ("command", "group")

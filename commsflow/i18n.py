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

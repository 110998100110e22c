"""German by default, English on request: the catalogs hold a German text for every
message the code marks, the compiled catalog is the one commsflow reads, and the
language is chosen by --lang, COMMSFLOW_LANG, ui_language and the locale, in that order."""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from commsflow import i18n

PACKAGE = Path(i18n.__file__).parent
PO = i18n.LOCALES / "de" / "LC_MESSAGES" / "commsflow.po"
MO = PO.with_suffix(".mo")
TEMPLATES = PACKAGE.parent / "templates"
MAPPING = PACKAGE.parent / "babel.cfg"
NOW = "2024-03-01 10:00"
# {name} in the code's messages (str.format), %(name)s in the templates' (Jinja's i18n).
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)s")


def _marked() -> set[str]:
    """Every message the code and the team-facing templates mark with _(), N_(), ngettext() or
    {% trans %} (the singular of a plural), found as `make messages` finds them (babel.cfg)."""
    with MAPPING.open(encoding="utf-8") as handle:
        methods, options = parse_mapping_cfg(handle)
    found = set()
    for folder in (PACKAGE, TEMPLATES):
        for _filename, _line, message, _comments, _context in extract_from_dir(
            str(folder), methods, options, keywords={"_": None, "N_": None, "ngettext": (1, 2)}
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_team_facing_templates_are_found():
    # A mapping that matched no template would make the test above pass on untranslated pages.
    with MAPPING.open(encoding="utf-8") as handle:
        methods, options = parse_mapping_cfg(handle)
    found = {filename for filename, *_rest in extract_from_dir(str(TEMPLATES), methods, options)}
    assert {"dashboard/index.html", "desk/base.html", "linkedin/draft.md"} <= found


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="de")


def test_every_marked_message_has_a_german_translation():
    catalog = _catalog()
    missing = []
    for message_id in sorted(_marked()):
        message = catalog.get(message_id)
        strings = message.string if message is not None else None
        texts = strings if isinstance(strings, tuple) else (strings,)
        if message is None or message.fuzzy or not all(texts):
            missing.append(message_id)
    assert not missing, (
        "messages without a German translation (run `make messages`, translate them in "
        f"{PO.relative_to(PACKAGE.parent)}, run `make messages` again):\n  " + "\n  ".join(missing)
    )


def test_translations_keep_every_placeholder():
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for text in ids for name in _PLACEHOLDER.findall(text)}
        if not all(strings):
            continue  # untranslated: the first test names it
        found = [set(_PLACEHOLDER.findall(text)) for text in strings]
        if len(ids) == 1:
            assert found[0] == wanted, f"{ids[0]!r} → {strings[0]!r}"
        else:
            # Plural forms may name the value as each form reads ({choice} / {choices}: the same
            # value): none may use another, and together they keep all of the msgid's.
            assert all(names <= wanted for names in found), f"{ids[0]!r} → {strings!r}"
            assert set().union(*found) == wanted, f"{ids[0]!r} → {strings!r}"


def test_the_compiled_catalog_is_the_translated_one():
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for message in _catalog():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or message.fuzzy or not all(strings):
            continue  # untranslated: the first test names it
        if isinstance(message.id, tuple):
            for count, wanted in ((1, message.string[0]), (2, message.string[1])):
                assert compiled.ngettext(*message.id, count) == wanted, "run `make messages`"
        else:
            assert compiled.gettext(message.id) == message.string, "run `make messages`"


@pytest.mark.parametrize(
    ("flag", "variable", "configured", "locale", "spoken"),
    [
        (None, None, None, None, "de"),
        (None, None, None, "C.UTF-8", "de"),
        (None, None, None, "POSIX", "de"),
        (None, None, None, "en_GB.UTF-8", "en"),
        (None, None, "en", "de_DE.UTF-8", "en"),
        (None, "de", "en", None, "de"),
        ("en", "de", "de", "de_DE.UTF-8", "en"),
        (None, "fr", None, None, "de"),
    ],
)
def test_the_language_is_chosen_in_order(flag, variable, configured, locale, spoken):
    environ = {key: value for key, value in (("COMMSFLOW_LANG", variable), ("LANG", locale)) if value}
    assert i18n.choose(flag, configured, environ) == spoken


def _build(run, project: Path, *options: str):
    return run(project, *options, "--now", NOW, "build")


def test_commands_speak_german_by_default(run, mpi, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    monkeypatch.setenv("LANG", "C.UTF-8")
    result = _build(run, mpi)
    assert re.search(r"\d+ erstellt, \d+ unverändert, \d+ (Hinweis|Hinweise), \d+ Fehler", result.stdout), result.stdout
    assert "Vorschau: build/index.html (im Browser öffnen, oder: commsflow preview)" in result.stdout
    again = _build(run, mpi)
    assert "seit dem letzten Lauf nichts geändert" in again.stdout


def test_english_on_request(run, mpi, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    result = _build(run, mpi, "--lang", "en")
    assert re.search(r"\d+ built, \d+ unchanged", result.stdout), result.stdout
    # The build's report is kept in the language it was made in: asking in German builds again.
    german = _build(run, mpi, "--lang", "de")
    assert "erstellt" in german.stdout and "nichts geändert" not in german.stdout


def test_the_team_can_choose_english_in_the_configuration(run, mpi, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("[organisation]\n", '[organisation]\nui_language = "en"\n', 1),
        encoding="utf-8",
    )
    assert "built" in _build(run, mpi).stdout
    monkeypatch.setenv("COMMSFLOW_LANG", "de")  # a person's own choice comes first
    assert "erstellt" in _build(run, mpi).stdout


def test_errors_and_their_hints_are_german(run, tmp_path, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    result = subprocess.run(
        [sys.executable, "-m", "commsflow", "--root", str(tmp_path), "--lang", "de", "check"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Fehler:"), result.stderr


def test_an_unknown_language_is_refused_with_the_choices(run, project):
    result = run(project, "--lang", "fr", "check")
    assert result.exit_code == 2
    assert "'de'" in result.output and "'en'" in result.output


def test_the_calendar_table_names_channels_and_kinds_as_the_team_does(run, mpi, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    german = run(mpi, "--lang", "de", "--now", NOW, "calendar", "--from", "2024-03-14", "--to", "2024-03-14")
    assert german.exit_code == 0, german.output
    row = next(line for line in german.stdout.splitlines() if "mpi-meet-up-2024" in line)
    assert "LinkedIn" in row and "Save the Date" in row and "geplant" in row
    english = run(mpi, "--lang", "en", "--now", NOW, "calendar", "--from", "2024-03-14", "--to", "2024-03-14")
    row = next(line for line in english.stdout.splitlines() if "mpi-meet-up-2024" in line)
    assert "linkedin" in row and "save-the-date" in row and "planned" in row


def test_help_is_german_by_default_and_english_on_request(run, tmp_path, monkeypatch):
    monkeypatch.delenv("COMMSFLOW_LANG")
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")

    def shown(*args: str) -> tuple[str, str]:
        result = run(tmp_path, *args, "--help")
        assert result.exit_code == 0, result.output
        return result.output, " ".join(result.output.split())  # as printed, and without click's line breaks

    output, words = shown()
    assert re.search(r"^\s+calendar\s+Der Veröffentlichungskalender", output, re.MULTILINE), output
    assert "Alle Inhaltsdateien neu lesen, statt den Cache zu verwenden." in words
    output, words = shown("calendar")
    assert "Der Veröffentlichungskalender: jede geplante Veröffentlichung mit Kanal" in words
    assert "--from DATE Erster angezeigter Tag." in words

    output, words = shown("--lang", "en")
    assert re.search(r"^\s+calendar\s+The publishing calendar", output, re.MULTILINE), output
    assert "Read every content file again instead of using the cache." in words
    output, words = shown("--lang", "en", "calendar")
    assert "The publishing calendar: every planned job with channel" in words
    assert "--from DATE First day shown." in words
    assert "Veröffentlichung" not in output
    assert "Usage:" in output and "Options:" in output


def test_clicks_own_words_are_german_too(run, tmp_path, monkeypatch):
    """Usage lines, a mistyped command or option, --version and [required]: click's words, in the catalog."""
    monkeypatch.delenv("COMMSFLOW_LANG")
    monkeypatch.setenv("LANG", "C.UTF-8")
    help_text = run(tmp_path, "--help").output
    assert help_text.startswith("Aufruf: ") and "Optionen:" in help_text and "Befehle:" in help_text
    mistyped = run(tmp_path, "biuld")
    assert mistyped.exit_code == 2
    assert "Fehler: Unbekannter Befehl 'biuld'. Meinten Sie 'build'?" in mistyped.output
    assert "Unbekannte Option '--bogus'" in run(tmp_path, "build", "--bogus").output
    assert run(tmp_path, "--version").output.startswith("commsflow, Version ")
    assert "[erforderlich]" in run(tmp_path, "reject", "--help").output
    english = run(tmp_path, "--lang", "en", "stat")
    assert "No such command 'stat'. (Did you mean one of: 'stats', 'status'?)" in english.output
    assert run(tmp_path, "--lang", "en", "--version").output.startswith("commsflow, version ")

"""The ``commsflow`` command: wires the commands in ``commsflow.commands`` together.

Only :class:`CommsflowError` is expected; it is printed as one message with its hint
and the command exits non-zero. Anything else is a bug: one line says so, and
``--verbose`` shows the traceback.
"""

from __future__ import annotations

import atexit
import functools
import gc
import importlib
import os
import sqlite3
import sys
import threading
from pathlib import Path

import click
from rich.markup import escape

from commsflow import __version__, i18n
from commsflow.clock import check_now
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _, ngettext
from commsflow.output import error_console, print_problems
from commsflow.workspace import Workspace

# Each command's module, loaded only when that command runs (or help lists it): a command
# imports what it needs, and a build with nothing to do does not wait for the rest.
COMMANDS = {
    "check": ("commsflow.commands.check", "command"),
    "lint": ("commsflow.commands.lint", "command"),
    "list": ("commsflow.commands.listing", "command"),
    "stats": ("commsflow.commands.stats", "command"),
    "newsletter": ("commsflow.commands.newsletter", "command"),
    "linkedin": ("commsflow.commands.linkedin", "command"),
    "press": ("commsflow.commands.press", "command"),
    "ics": ("commsflow.commands.ics", "command"),
    "feeds": ("commsflow.commands.feeds", "command"),
    "build": ("commsflow.commands.build", "command"),
    "preview": ("commsflow.commands.preview", "command"),
    "calendar": ("commsflow.commands.calendar", "command"),
    "run": ("commsflow.commands.run", "command"),
    "status": ("commsflow.commands.status", "command"),
    "new": ("commsflow.commands.new", "command"),
    "approve": ("commsflow.commands.approve", "approve"),
    "review": ("commsflow.commands.approve", "review"),
    "reject": ("commsflow.commands.approve", "reject"),
    "retry": ("commsflow.commands.jobs", "retry"),
    "dismiss": ("commsflow.commands.jobs", "dismiss"),
    "posted": ("commsflow.commands.jobs", "posted"),
    "desk": ("commsflow.commands.desk", "command"),
    "desk-password": ("commsflow.commands.desk", "password"),
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return _spoken(getattr(importlib.import_module(module), attribute))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands with their short help, read from the modules' source: importing
        every command (and what it imports) for one line each would make --help take a second."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = []
        for name in self.list_commands(ctx):
            written = _written_help(name)
            if written is None:
                shown = self.get_command(ctx, name).get_short_help_str(limit)
            else:
                shown = click.Command(name, help=_(written)).get_short_help_str(limit)
            rows.append((name, shown))
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            # click would suggest from the commands it has loaded: none, before one runs.
            import difflib

            message = _("No such command {name!r}.").format(name=name)
            close = sorted(difflib.get_close_matches(name, COMMANDS))
            if close:
                shown = ", ".join(repr(command) for command in close)
                message += " " + ngettext(
                    "Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", len(close)
                ).format(possibility=shown, possibilities=shown)
            raise click.UsageError(message, ctx)
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --help is answered while the arguments are read, before main() chooses the language.
        if ctx.parent is None:
            root = Path(_root_option(args, "--root") or os.environ.get("COMMSFLOW_ROOT") or ".")
            i18n.use(i18n.choose(_root_option(args, "--lang"), _configured_language(root)))
            _spoken(self)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CommsflowError as exc:
            # Only the configuration's module raises its error: it is not loaded for this
            # (`build` lists the project's files in another process while it loads).
            config = sys.modules.get("commsflow.config")
            if config is not None and isinstance(exc, config.ConfigInvalid):
                print_problems(exc.problems)
                error_console.print("[bold red]" + _("error:") + f"[/] {exc}")
            else:
                _say(exc)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:  # a full disk, a read-only folder: the cause, not "a bug"
            from commsflow.files import explain

            _say(explain(exc))
            ctx.exit(1)
        except sqlite3.OperationalError as exc:
            from commsflow.files import explain_sqlite

            _say(explain_sqlite(exc, _("a database in the state folder (.commsflow/)")))
            ctx.exit(1)
        except KeyboardInterrupt:
            error_console.print(_("interrupted"))
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            error_console.print(
                "[bold red]"
                + _("internal error:")
                + f"[/] {type(exc).__name__}: {exc}\n  "
                + _("hint: this is a bug in commsflow; run again with --verbose and report the output"),
                highlight=False,
            )
            ctx.exit(2)


# Words click translates that its own code does not mark (so the catalog would miss them).
_CLICK_WORDS = (N_("required"),)


# The commands that keep running (the scheduler's service, the desk, the preview that
# watches): the cyclic garbage collector keeps freeing what they leave behind.
KEEP_RUNNING = frozenset({"run", "desk", "preview"})


def _collect_for(command: str | None) -> None:
    """A command holds tens of thousands of small objects (items, jobs, problems) that form
    no garbage cycles (a full build of 10,000 items peaks at the same memory without the
    collector). The collector, walking them every 700 allocations, cost a tenth of a build's
    time. When the program ends with the command (:func:`run` turned the collector off),
    it stays off; otherwise it collects less often, as mypy does."""
    if command in KEEP_RUNNING or gc.isenabled():
        gc.set_threshold(50_000, 20, 20)
        gc.enable()


def _show_version(ctx: click.Context, value: bool) -> None:
    """``--version``, in the language chosen (click's own option words it when commsflow is imported)."""
    if value and not ctx.resilient_parsing:
        click.echo(_("%(prog)s, version %(version)s") % {"prog": "commsflow", "version": __version__})
        ctx.exit()


def _root_option(args: list[str], name: str) -> str | None:
    """The value of one of commsflow's own options (before the command's name) in ``args``."""
    for index, arg in enumerate(args):
        if arg in COMMANDS:
            break
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.partition("=")[2]
    return None


def _spoken(command: click.Command) -> click.Command:
    """``command`` with its --help texts in the language commsflow speaks: the texts as written
    (docstrings and help=) are the catalog's messages, kept to translate again in another run."""
    written = command.__dict__.setdefault("_written_help", command.help and i18n.help_text(command.help))
    if written:
        command.help = _(written)
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            param.help = _(param.__dict__.setdefault("_written_help", param.help))
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _spoken(subcommand)
    return command


@functools.cache
def _written_help(name: str) -> str | None:
    """The help of command ``name`` as its module's source writes it (the docstring of the
    function COMMANDS names), without importing the module; None where it cannot be read so."""
    import ast
    import importlib.util

    module, attribute = COMMANDS[name]
    try:
        origin = importlib.util.find_spec(module).origin
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    except (AttributeError, ImportError, OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            docstring = ast.get_docstring(node, clean=False)
            return i18n.help_text(docstring) if docstring else None
    return None


def _configured_language(root: Path) -> str | None:
    """``[organisation] ui_language``, read before the configuration is (its errors are
    told in the chosen language)."""
    import tomllib

    try:
        data = tomllib.loads((root / "commsflow.toml").read_text(encoding="utf-8"))
        value = data.get("organisation", {}).get("ui_language")
        return value if isinstance(value, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def _say(error: CommsflowError) -> None:
    """One error and its hint, printed as written: "[[people]]" or a path in brackets is no markup."""
    error_console.print("[bold red]" + _("error:") + f"[/] {escape(error.message)}", highlight=False)
    if error.hint:
        error_console.print("  " + _("hint: {hint}").format(hint=escape(error.hint)), highlight=False)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="COMMSFLOW_ROOT",
    default=".",
    show_default=True,
    help=N_("Project folder with commsflow.toml, content/, campaigns/ and templates/."),
)
@click.option(
    "--now",
    "now",
    envvar="COMMSFLOW_NOW",
    metavar="DATETIME",
    help=N_("Pin the clock, e.g. '2024-03-01 10:00' (local time zone). Also COMMSFLOW_NOW."),
)
@click.option(
    "--lang",
    type=click.Choice(["de", "en"]),
    help=N_("Language of the messages: de (the default) or en. Also COMMSFLOW_LANG, or ui_language in commsflow.toml."),
)
@click.option("--no-cache", is_flag=True, help=N_("Read every content file again instead of using the cache."))
@click.option("-v", "--verbose", is_flag=True, help=N_("Show tracebacks for internal errors."))
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _show_version(ctx, value),
    help=N_("Show the version and exit."),
)
@click.pass_context
def main(ctx: click.Context, root: Path, now: str | None, lang: str | None, no_cache: bool, verbose: bool) -> None:
    """commsflow — content pipeline for a communications team.

    Reads Markdown content with YAML front matter and campaign files, and builds
    newsletter issues, LinkedIn drafts, press releases and calendar files from them;
    plans and publishes them on a calendar, exactly once. Start with `check` and
    `build`, then open build/index.html. Run it in the project folder (or pass --root).
    """
    _collect_for(ctx.invoked_subcommand)
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose  # the language (lang) was chosen as the arguments were read: _Group.parse_args
    if now:
        check_now(now)  # every command, not only those that read the clock, refuses a bad value
    ctx.obj["workspace"] = Workspace(root=root.resolve(), now_text=now, use_cache=not no_cache)


def run() -> None:
    """The ``commsflow`` program (the console script and ``python -m commsflow``).

    After the command has ended and everything registered to run at exit has run, the
    process leaves without the interpreter taking apart what the command held: freeing
    tens of thousands of items, jobs and problems one by one took a quarter of a second
    after a build had already said everything. The memory goes back to the system anyway.
    Tests call ``main`` through click's runner and are not affected.

    The process ends with the command, so what the cyclic garbage collector would find is
    given back by the ending: it is off, except for the commands that keep running
    (:func:`_collect_for`)."""
    gc.disable()
    try:
        main()
    except SystemExit as done:
        status = done.code
    else:  # pragma: no cover - click's standalone mode always ends in SystemExit
        status = 0
    if isinstance(status, str):
        print(status, file=sys.stderr)
        status = 1
    status = 0 if status is None else int(status)
    watched = sys.getprofile() is not None or sys.gettrace() is not None  # python -m cProfile writes its figures after
    if watched or threading.active_count() > 1 or not hasattr(atexit, "_run_exitfuncs"):
        sys.exit(status)  # a thread still running is joined by the interpreter's own ending
    atexit._run_exitfuncs()  # logging's flush, temporary folders' clean-up, …
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # `commsflow list | head`: the reader has gone
        pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()

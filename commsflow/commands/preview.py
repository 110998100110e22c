"""``commsflow preview``: the build folder on localhost, rebuilt when sources change."""

from __future__ import annotations

import functools
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
from rich.markup import escape

from commsflow.commands.build import build_all
from commsflow.errors import CommsflowError
from commsflow.output import console, plural
from commsflow.workspace import Workspace


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is http.server's
        pass


def sources_signature(workspace: Workspace) -> tuple:
    """Modification times of everything a build reads: content, campaigns, templates, configuration."""
    config = workspace.config
    stamps = []
    for folder in (config.path("content"), config.path("campaigns"), config.path("templates")):
        if folder.is_dir():
            stamps += [(str(path), path.stat().st_mtime_ns) for path in sorted(folder.rglob("*")) if path.is_file()]
    config_file = workspace.root / "commsflow.toml"
    stamps.append((str(config_file), config_file.stat().st_mtime_ns if config_file.exists() else 0))
    return tuple(stamps)


def serve(folder: Path, port: int) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise CommsflowError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror})", "choose another port with --port"
        ) from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _rebuild(workspace: Workspace) -> None:
    fresh = Workspace(workspace.root, workspace.now_text, workspace.use_cache)
    report = build_all(fresh)
    console.print(
        f"rebuilt: {len(report.built)} built, {len(report.unchanged)} unchanged, "
        f"{plural(len(report.warnings), 'warning')}, {plural(len(report.errors), 'error')}"
    )


@click.command("preview")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between checks for changed files.")
@click.pass_obj
def command(obj: dict, port: int, interval: float) -> None:
    """Build, serve the build folder at http://127.0.0.1:PORT/ and rebuild whenever
    content, campaigns, templates or the configuration change. Ctrl-C stops it."""
    workspace: Workspace = obj["workspace"]
    _rebuild(workspace)
    folder = workspace.config.path("build")
    server = serve(folder, port)
    console.print(
        f"Preview at [bold]http://127.0.0.1:{server.server_address[1]}/[/] "
        f"(serving {escape(str(folder))}) — Ctrl-C to stop"
    )
    seen = sources_signature(workspace)
    try:
        while True:
            time.sleep(interval)
            current = sources_signature(workspace)
            if current != seen:
                seen = current
                try:
                    _rebuild(workspace)
                except CommsflowError as exc:
                    console.print(f"[red]build failed:[/] {escape(exc.message)} — {escape(exc.hint or '')}")
    finally:
        server.shutdown()

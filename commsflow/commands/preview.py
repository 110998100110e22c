"""``commsflow preview``: the build folder on localhost, rebuilt when sources change."""

from __future__ import annotations

import functools
import sys
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
from rich.markup import escape

from commsflow.commands.build import build_all
from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.output import console, errors_counted, warnings_counted
from commsflow.workspace import Workspace

IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent (idle, or a request sent in part) before it is closed


class PreviewServer(ThreadingHTTPServer):
    """The build folder on 127.0.0.1, for this machine's browser only.

    Drafts and embargoed texts are in the build folder, so the server answers only requests
    addressed to it by name — ``Host: 127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` —
    and refuses any other host with 421: a web page whose own host name was made to point at
    127.0.0.1 (DNS rebinding) sends its own name, and learns nothing. A connection that stays
    silent for ``idle_timeout`` seconds is closed, so idle or half-sent requests do not keep
    threads alive; folders are never listed; nothing outside the folder is served.
    """

    daemon_threads = True
    request_queue_size = 64  # a browser opens several connections at once

    def __init__(self, folder: Path, port: int, *, idle_timeout: float = IDLE_TIMEOUT):
        self.folder = folder.resolve()
        self.idle_timeout = idle_timeout
        super().__init__(("127.0.0.1", port), functools.partial(PreviewHandler, directory=str(folder)))

    @property
    def hosts(self) -> frozenset[str]:
        """The Host headers this server answers to."""
        port = self.server_address[1]
        names = ("127.0.0.1", "localhost", "[::1]")
        return frozenset(f"{name}:{port}" for name in names) | (frozenset(names) if port == 80 else frozenset())

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a browser that hung up or went silent: nothing to report
        super().handle_error(request, client_address)


class PreviewHandler(SimpleHTTPRequestHandler):
    server: PreviewServer
    # Every text the build writes is UTF-8: said so, a browser shows „Anführungszeichen“ and
    # umlauts in plain-text previews and Markdown as written, not as Latin-1 mojibake.
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".txt": "text/plain; charset=utf-8",
        ".md": "text/markdown; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".ics": "text/calendar; charset=utf-8",
        ".json": "application/json",
        ".eml": "message/rfc822",
    }

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # StreamRequestHandler applies it to the connection
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the signature is http.server's
        pass

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            self.send_error(HTTPStatus.BAD_REQUEST, "Exactly one Host header is required")
            return False
        if hosts[0].strip().lower() not in self.server.hosts:
            port = self.server.server_address[1]
            self.send_error(
                HTTPStatus.MISDIRECTED_REQUEST,
                "Misdirected Request",
                f"This preview answers only at http://127.0.0.1:{port}/ and http://localhost:{port}/.",
            )
            return False
        return True

    def send_head(self):
        path = Path(self.translate_path(self.path))
        try:
            inside = path.resolve().is_relative_to(self.server.folder)
        except (OSError, RuntimeError, ValueError):
            inside = False
        if not inside:  # a link in the build folder that leads out of it
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")  # a folder without index.html is not listed
        return None


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


def serve(folder: Path, port: int, *, idle_timeout: float = IDLE_TIMEOUT) -> PreviewServer:
    """Serve ``folder`` at http://127.0.0.1:PORT/ (port 0: a free one) from a background thread."""
    try:
        server = PreviewServer(folder, port, idle_timeout=idle_timeout)
    except OSError as exc:
        raise CommsflowError(
            _("cannot listen on 127.0.0.1:{port} ({reason})").format(port=port, reason=exc.strerror),
            _("choose another port with --port"),
        ) from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _rebuild(workspace: Workspace) -> None:
    fresh = Workspace(workspace.root, workspace.now_text, workspace.use_cache)
    report = build_all(fresh)
    warnings, errors = len(report.warnings), len(report.errors)
    console.print(
        _("rebuilt: {built} built, {unchanged} unchanged, {warnings}, {errors}").format(
            built=len(report.built),
            unchanged=len(report.unchanged),
            warnings=warnings_counted(warnings),
            errors=errors_counted(errors),
        )
    )


@click.command("preview")
@click.option("--port", default=8765, show_default=True, help=N_("Port on 127.0.0.1."))
@click.option("--interval", default=1.0, show_default=True, help=N_("Seconds between checks for changed files."))
@click.pass_obj
def command(obj: dict, port: int, interval: float) -> None:
    """Build, serve the build folder at http://127.0.0.1:PORT/ and rebuild whenever
    content, campaigns, templates or the configuration change. Ctrl-C stops it."""
    workspace: Workspace = obj["workspace"]
    _rebuild(workspace)
    folder = workspace.config.path("build")
    server = serve(folder, port)
    console.print(
        _("Preview at {address} (serving {folder}) — Ctrl-C to stop").format(
            address=f"[bold]http://127.0.0.1:{server.server_address[1]}/[/]", folder=escape(str(folder))
        )
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
                    console.print(
                        "[red]" + _("build failed:") + f"[/] {escape(exc.message)} — {escape(exc.hint or '')}"
                    )
    finally:
        server.shutdown()
        server.server_close()

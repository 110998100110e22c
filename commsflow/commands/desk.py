"""``commsflow desk``: the team's desk in the browser, on this machine (see commsflow.desk)."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow.errors import CommsflowError
from commsflow.i18n import _
from commsflow.output import console
from commsflow.workspace import Workspace

LOCAL = ("127.0.0.1", "localhost")


@click.command("desk")
@click.option("--port", default=8766, show_default=True, help="Port on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on: 127.0.0.1 only, for now.")
@click.pass_obj
def command(obj: dict, port: int, host: str) -> None:
    """Open the desk at http://127.0.0.1:PORT/: what needs a person (retry, dismiss,
    posted), the review queue (sign off, reject with a reason), the calendar by week or
    month with each job's text, the newsletter issues and the partner news waiting for
    review. Everything it does, the CLI can do too; it acts as COMMSFLOW_USER or git's
    identity. Ctrl-C stops it."""
    workspace: Workspace = obj["workspace"]
    if host not in LOCAL:
        raise CommsflowError(
            _(
                "the desk listens only on 127.0.0.1, not on {host}: on another address anybody who reaches it "
                "could sign off, and the desk has no login yet"
            ).format(host=host),
            _(
                "open it on this machine, or from another one through an SSH tunnel: ssh -L {port}:127.0.0.1:{port} …"
            ).format(port=port),
        )
    import socket

    import uvicorn

    from commsflow.desk import Desk, create_app

    workspace.config  # a broken commsflow.toml stops here, with its message  # noqa: B018
    desk = Desk(workspace.root, workspace.now_text, workspace.use_cache, port=port)
    app = create_app(desk)
    try:
        listening = socket.create_server(("127.0.0.1", port))
    except OSError as exc:
        raise CommsflowError(
            _("cannot listen on 127.0.0.1:{port} ({reason})").format(port=port, reason=exc.strerror),
            _("choose another port with --port"),
        ) from None
    desk.port = listening.getsockname()[1]
    console.print(f"Schreibtisch unter [bold]http://127.0.0.1:{desk.port}/[/] — Strg-C beendet ihn", highlight=False)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
    console.print(f"Schreibtisch beendet ({escape(str(workspace.root))})", highlight=False)

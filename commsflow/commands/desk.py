"""``commsflow desk``: the team's desk in the browser (see commsflow.desk), and
``commsflow desk-password``: the hash a person's login needs (see commsflow.passwords)."""

from __future__ import annotations

import click
from rich.markup import escape

from commsflow.errors import CommsflowError
from commsflow.i18n import N_, _
from commsflow.output import console, error_console
from commsflow.workspace import Workspace

LOCAL = ("127.0.0.1", "localhost")
WILDCARDS = ("0.0.0.0", "::", "[::]")  # every address of the machine: no name a browser uses


def check_host(host: str, port: int, login: bool) -> None:
    """Refuse (CommsflowError) to listen on ``host`` unless it is this machine's own
    address or a login is configured."""
    if host in LOCAL or login:
        return
    from commsflow.passwords import not_configured_hint

    raise CommsflowError(
        _(
            "the desk listens only on 127.0.0.1, not on {host}: on another address anybody who reaches it "
            "could sign off, and no login is configured"
        ).format(host=host),
        _(
            "open it on this machine, or from another one through an SSH tunnel: ssh -L {port}:127.0.0.1:{port} …"
        ).format(port=port)
        + "; "
        + not_configured_hint(),
    )


def answered_names(host: str, configured: list[str]) -> tuple[str, ...]:
    """What the desk answers to besides 127.0.0.1 and localhost: ``[desk] hosts`` and the
    address it listens on (unless that is every address or this machine's own)."""
    names = list(configured)
    if host not in LOCAL and host not in WILDCARDS:
        names.append(f"[{host}]" if ":" in host else host)
    return tuple(dict.fromkeys(name.lower() for name in names))


@click.command("desk")
@click.option("--port", default=8766, show_default=True, help=N_("Port to listen on."))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=N_(
        "Address to listen on: 127.0.0.1, or another one once a login is configured (password_env under [[people]])."
    ),
)
@click.pass_obj
def command(obj: dict, port: int, host: str) -> None:
    """Open the desk at http://127.0.0.1:PORT/: what needs a person (retry, dismiss,
    posted), the review queue (sign off, reject with a reason), the calendar by week or
    month with each job's text, the newsletter issues and the partner news waiting for
    review. Everything it does, the CLI can do too; it acts as COMMSFLOW_USER or git's
    identity, or with a login configured as the person logged in. Ctrl-C stops it."""
    workspace: Workspace = obj["workspace"]
    host = host.strip().lower()
    if host not in LOCAL:
        # Whether a login is configured decides whether another address is allowed: a
        # broken commsflow.toml or a malformed hash stops here, with its message.
        from commsflow.passwords import logins

        check_host(host, port, bool(logins(workspace.config)))
    import socket

    import uvicorn

    from commsflow.desk import Desk, create_app
    from commsflow.passwords import logins

    config = workspace.config  # a broken commsflow.toml stops here, with its message
    can_log_in = logins(config)  # and a password_env variable that holds no hash
    desk = Desk(
        workspace.root,
        workspace.now_text,
        workspace.use_cache,
        port=port,
        login=bool(can_log_in),
        names=answered_names(host, config.desk.hosts),
    )
    app = create_app(desk)
    address = "127.0.0.1" if host == "localhost" else host.strip("[]")
    try:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        listening = socket.create_server((address, port), family=family)
    except OSError as exc:
        raise CommsflowError(
            _("cannot listen on {address}:{port} ({reason})").format(address=address, port=port, reason=exc.strerror),
            _("choose another port with --port"),
        ) from None
    desk.port = listening.getsockname()[1]
    console.print(f"Schreibtisch unter [bold]http://127.0.0.1:{desk.port}/[/] — Strg-C beendet ihn", highlight=False)
    if desk.names:
        console.print(
            escape(_("also answers to: {names}").format(names=", ".join(sorted(desk.names)))), highlight=False
        )
    if can_log_in:
        console.print(
            escape(_("login required; who can log in: {people}").format(people=", ".join(sorted(can_log_in)))),
            highlight=False,
        )
        if address not in ("127.0.0.1", "::1"):
            console.print(
                "[dim]"
                + escape(
                    _(
                        "note: the desk speaks plain HTTP; beyond a trusted network put a TLS reverse proxy in front "
                        "of it (README: The desk)"
                    )
                )
                + "[/]",
                highlight=False,
            )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, server_header=False))
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
    console.print(f"Schreibtisch beendet ({escape(str(workspace.root))})", highlight=False)


@click.command("desk-password")
@click.argument("name")
@click.pass_obj
def password(obj: dict, name: str) -> None:
    """Make the desk login of NAME (a person under [[people]], by name or e-mail): asks
    for the password twice, hidden, and prints the line for the desk's environment
    (e.g. /etc/commsflow/commsflow.env), VARIABLE='scrypt$…' — a hash, never the password."""
    from commsflow import passwords, people
    from commsflow.config import CONFIG_FILE

    workspace: Workspace = obj["workspace"]
    config = workspace.config
    found = people.find(config, name)
    if len(found) != 1:
        raise CommsflowError(
            _("{name!r} names {count} people under [[people]] in {config}").format(
                name=name, count=len(found), config=CONFIG_FILE
            )
            if found
            else _("{name!r} names nobody listed under [[people]] in {config}").format(name=name, config=CONFIG_FILE),
            _("name a listed person ({people}) by name or e-mail, or add them to [[people]]").format(
                people=people.listed(config.people)
            ),
        )
    person = found[0]
    variable = person.password_env or passwords.suggested_variable(person.name)
    while True:
        chosen = click.prompt(
            _("Desk password for {person}").format(person=person.name),
            hide_input=True,
            confirmation_prompt=_("Repeat it"),
            err=True,
        )
        if len(chosen) >= passwords.MIN_LENGTH:
            break
        error_console.print(
            escape(_("at least {count} characters, please").format(count=passwords.MIN_LENGTH)), highlight=False
        )
    line = f"{variable}='{passwords.hash_password(chosen)}'"
    click.echo(line)
    hint = _(
        "put this line into the desk's environment (the systemd EnvironmentFile, e.g. /etc/commsflow/commsflow.env, "
        "mode 600) and restart the desk"
    )
    error_console.print(escape(hint), highlight=False)
    if not person.password_env:
        error_console.print(
            escape(
                _('and add to {person}\'s entry under [[people]] in {config}: password_env = "{variable}"').format(
                    person=person.name, config=CONFIG_FILE, variable=variable
                )
            ),
            highlight=False,
        )

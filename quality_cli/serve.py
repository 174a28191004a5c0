"""`quality serve` (the WebSocket endpoint) and `quality token` (a bearer token for a user)."""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from handlers.auth import issue_token, load_secret

if TYPE_CHECKING:
    from handlers.server import QualityServer
from quality_cli._output import err_console, print_json
from quality_cli._state import cli_state

SERVE_HELP = """Serve the quality WebSocket endpoint (ws://HOST:PORT/ws, bearer-token auth).

Example: quality --strategy resume serve --port 8765
"""


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
    ] = 8765,
) -> None:
    import asyncio  # loaded only when serving, like the handlers

    from handlers.app import QualityApp
    from handlers.server import PATH, QualityServer

    settings = cli_state(ctx).settings()
    app = QualityApp.open(settings)
    server = QualityServer(app, load_secret(settings.home))

    def started(listening: object) -> None:
        sockets = getattr(listening, "sockets", [])
        bound = sockets[0].getsockname()[1] if sockets else port
        err_console.print(
            f"serving ws://{host}:{bound}{PATH} (strategy {settings.strategy}); "
            f"traces: {app.telemetry.trace_target}; logs: {app.telemetry.log_target}",
            markup=False,
            highlight=False,
            soft_wrap=True,  # one line, whatever the width: scripts and log collectors read it
        )

    try:
        asyncio.run(_serve_until_stopped(server, host, port, started))
    finally:
        app.close()  # flushes the store, the span batch and the log buffer


async def _serve_until_stopped(server: QualityServer, host: str, port: int, started: Any) -> None:
    """Serve until SIGTERM or SIGINT, then return normally so that everything is flushed."""
    import asyncio

    task = asyncio.create_task(server.run(host, port, started))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    err_console.print("stopped", highlight=False)


TOKEN_HELP = """Print a bearer token for the configured user (for `serve` clients).

Example: quality --user alice token --ttl-hours 8
"""


#: The longest a token may be valid (a huge value overflowed the token's expiry field).
_MAX_TTL_HOURS = 24 * 366 * 10


def token(
    ctx: typer.Context,
    ttl_hours: Annotated[
        float,
        typer.Option(min=0.001, max=_MAX_TTL_HOURS, help="Validity in hours (at most 10 years)."),
    ] = 24,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    settings = cli_state(ctx).settings()
    value = issue_token(load_secret(settings.home), settings.user, ttl_hours * 3600)
    if as_json:
        print_json({"user_id": settings.user, "token": value, "ttl_hours": ttl_hours})
    else:
        typer.echo(value)

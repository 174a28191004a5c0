"""Running one protocol message from the CLI in the user's persisted CLI session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from quality_cli._errors import EXIT_USAGE
from quality_cli._output import err_console, print_json
from quality_cli._state import cli_state

if TYPE_CHECKING:
    from handlers.app import QualityApp
    from handlers.context import Caller


@dataclass
class CliSession:
    """An open app, the user's CLI session, and what the server pushed to it."""

    app: QualityApp
    caller: Caller
    pushed: list[dict[str, Any]] = field(default_factory=list)

    async def _push(self, message: dict[str, Any]) -> None:
        self.pushed.append(message)

    def send(self, message: dict[str, Any]) -> dict[str, Any]:
        """Handle one message; returns the reply (server-initiated messages land in `pushed`)."""
        import asyncio  # here: commands that never send (audit, lint) start without it

        return asyncio.run(self.app.handle(self.caller, message))


@contextmanager
def cli_session(ctx: typer.Context) -> Iterator[CliSession]:
    """Open the app under the configured home for the configured user; always flushes on exit."""
    from handlers.app import QualityApp  # loaded only by commands that talk to the handlers

    settings = cli_state(ctx).settings()
    app = QualityApp.open(settings, shared_sessions=True)  # one CLI session, many processes
    try:
        session = CliSession(app, app.sessions.cli_session(settings.user))
        app.manager.connect(session.caller, session._push)
        yield session
    finally:
        app.close()


def run_message(ctx: typer.Context, message: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Send ``message``; print it as JSON when asked; an `error` reply exits 2 with its message."""
    with cli_session(ctx) as session:
        reply = session.send(message)
        pushed = list(session.pushed)
    if as_json:
        print_json({"reply": reply, "pushed": pushed})
    if reply["type"] == "error":
        # one line on stderr (never wrapped), also with --json: the exit is 2 either way
        typer.echo(f"error: {reply['message']}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not as_json:
        for message_ in pushed:
            # the payload holds the user's content: text, never markup
            line = Text.assemble((message_["type"], "bold"), f": {message_['payload']}")
            err_console.print(line, highlight=False)
    return reply


def context_line(reply: dict[str, Any]) -> str:
    """The resolved context, shown under every human-readable reply."""
    run = reply["run_id"] or "none yet (a chat message starts one)"
    return f"[dim]thread {reply['thread_id']}  run {run}[/]"

"""`quality chat`: send a chat message in the current thread (a run starts)."""

from __future__ import annotations

from typing import Annotated

import typer

from quality_cli._output import console
from quality_cli._session import context_line, run_message

HELP = """Send a chat message in your current thread; a new run starts.

Example: quality --user alice chat "Our p99 latency doubled since Monday"
"""


def chat(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The message text.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
) -> None:
    reply = run_message(ctx, {"type": "user_message", "payload": {"text": text}}, as_json)
    if not as_json:
        console.print(reply["payload"]["text"], markup=False)
        console.print(context_line(reply))

"""`quality thread`: create, switch, list and show your conversation threads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from handlers.config import Strategy
from quality_cli._output import console, print_json, print_table
from quality_cli._session import cli_session, context_line, run_message

app = typer.Typer(
    help=(
        "Create, switch, list and show conversation threads.\n\n"
        "Example: quality --user alice thread new --title 'Q4 report'; quality --user alice thread list"
    ),
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@app.command("new")
def new(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Option(help="A title for the thread.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a new thread and make it current.

    Example: quality thread new --title "Latency regression"
    """
    reply = run_message(ctx, {"type": "create_thread", "payload": {"title": title}}, as_json)
    if not as_json:
        console.print(f"created thread {reply['thread_id']}", markup=False)


@app.command("switch")
def switch(
    ctx: typer.Context,
    thread_id: Annotated[
        str, typer.Argument(metavar="THREAD_ID", help="One of your thread IDs (see `thread list`).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Make one of your threads current.

    Example: quality thread switch THREAD_ID  (an ID from `quality thread list`)
    """
    reply = run_message(ctx, {"type": "switch_thread", "thread_id": thread_id}, as_json)
    if not as_json:
        console.print(f"switched to {reply['thread_id']}", markup=False)
        console.print(context_line(reply))


def _thread_row(thread: Any, current: str | None) -> dict[str, Any]:
    return {
        "thread_id": thread.thread_id,
        "title": thread.title,
        "kind": thread.kind.value,
        "current_run_id": thread.current_run_id,
        "updated_at": _iso(thread.updated_at),
        "current": thread.thread_id == current,
    }


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List your threads, most recent first (the current one marked *).

    Example: quality --user alice thread list --json
    """
    with cli_session(ctx) as session:
        current = session.app.sessions.current(session.caller, Strategy.RESUME).thread_id
        rows = [
            _thread_row(t, current) for t in session.app.sessions.threads(session.caller.user_id)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        "threads",
        ["", "thread", "title", "kind", "current run", "updated"],
        [
            [
                "*" if r["current"] else "",
                r["thread_id"],
                r["title"],
                r["kind"],
                r["current_run_id"],
                r["updated_at"],
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    thread_id: Annotated[
        str | None,
        typer.Argument(metavar="THREAD_ID", help="A thread ID; default: the current one."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one thread (default: the current thread of your CLI session).

    Example: quality thread show
    """
    with cli_session(ctx) as session:
        sessions = session.app.sessions
        current = sessions.current(session.caller, Strategy.RESUME).thread_id
        target = thread_id or current
        if target is None:
            row: dict[str, Any] | None = None
        else:
            row = _thread_row(sessions.thread(session.caller.user_id, target), current)
            row["session_id"] = session.caller.session_id
    if as_json:
        print_json(row)
    elif row is None:
        console.print("no thread yet: `quality chat TEXT` or `quality thread new` starts one")
    else:
        for key, value in row.items():
            console.print(f"{key:>15}: {value}", markup=False)

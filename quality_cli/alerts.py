"""`quality alerts`: subscribe to quality alerts, unsubscribe, show your subscription."""

from __future__ import annotations

from typing import Annotated

import typer

from quality_cli._output import console, print_json
from quality_cli._session import cli_session, context_line, run_message

app = typer.Typer(
    help=(
        "Quality alert subscriptions.\n\n"
        "Example: quality --user alice alerts subscribe --threshold 0.6; quality --user alice alerts list"
    ),
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Alert when a validation scores below this (0..1)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe to quality updates, and to alerts below a score threshold.

    Example: quality alerts subscribe --threshold 0.6
    """
    payload = {"action": "subscribe", "threshold": threshold}
    reply = run_message(ctx, {"type": "subscribe_quality_alerts", "payload": payload}, as_json)
    if not as_json:
        shown = "none" if threshold is None else threshold
        console.print(f"subscribed (threshold: {shown})", markup=False)
        console.print(context_line(reply))


@app.command("unsubscribe")
def unsubscribe(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Stop quality updates and alerts.

    Example: quality alerts unsubscribe
    """
    message = {"type": "subscribe_quality_alerts", "payload": {"action": "unsubscribe"}}
    reply = run_message(ctx, message, as_json)
    if not as_json:
        was = reply["payload"]["was_subscribed"]
        console.print("unsubscribed" if was else "you were not subscribed")
        console.print(context_line(reply))


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show your subscription.

    Example: quality alerts list --json
    """
    with cli_session(ctx) as session:
        subscription = session.app.manager.subscription(session.caller.user_id)
    row = None
    if subscription is not None:
        row = {"user_id": subscription.user_id, "threshold": subscription.threshold}
    if as_json:
        print_json([row] if row else [])
    elif row is None:
        console.print("not subscribed")
    else:
        console.print(f"subscribed: {row['user_id']} (threshold: {row['threshold']})", markup=False)

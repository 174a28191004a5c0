"""`quality simulate`: seeded chat traffic through the real handlers, with its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handlers.config import parse_strategy
from quality_cli._output import print_json
from quality_cli._state import cli_state

HELP = """Simulate seeded chat traffic through the real handlers; write traces, logs and the store.

Writes traces/traces.jsonl, logs/quality.jsonl and quality.db under --out (default: the home directory) and prints what an audit of those files must find.

Example: quality simulate --users 40 --messages 30 --strategy mint --out sim/mint
"""


def simulate_command(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(min=1, help="Simulated users.")] = 40,
    sessions_per_user: Annotated[
        int, typer.Option(min=1, help="Sessions per user; each after the first is a reconnect.")
    ] = 2,
    messages: Annotated[int, typer.Option(min=1, help="Messages per session.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same messages, replies and IDs.")] = 1,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="resume, mint or default-session (default: the global --strategy).",
            show_default=False,
        ),
    ] = None,
    rollout_at: Annotated[
        float | None,
        typer.Option(
            help="Switch to --strategy after this fraction of the messages (0..1).",
            show_default=False,
        ),
    ] = None,
    rollout_from: Annotated[str, typer.Option(help="Strategy before the rollout.")] = "mint",
    concurrency: Annotated[int, typer.Option(min=1, help="Users connected at once.")] = 16,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (default: the home directory).", show_default=False),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace files of an earlier run in --out.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    settings = cli_state(ctx).settings()
    from handlers.simulation import SimulationConfig, simulate  # loaded only when used
    from quality_cli._simulate_view import print_summary, progress_bar

    config = SimulationConfig(
        out=out or settings.home,
        users=users,
        sessions_per_user=sessions_per_user,
        messages=messages,
        seed=seed,
        strategy=parse_strategy(strategy) if strategy else settings.strategy,
        rollout_at=rollout_at,
        rollout_from=parse_strategy(rollout_from),
        concurrency=concurrency,
        overwrite=overwrite,
    )
    with progress_bar(config.total_messages, quiet) as progress:
        result = simulate(config, progress)
    if as_json:
        print_json(result.to_dict())
    else:
        print_summary(result)

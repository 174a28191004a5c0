"""Rendering for `quality simulate`: the progress bar and the summary tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.columns import Columns
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from handlers.simulation import ExpectedAudit, SimulationResult
from quality_cli._output import console, err_console, print_renderable

_FIGURES = (
    ("events", "events"),
    ("breaks", "breaks"),
    ("break rate", "break_rate"),
    ("affected sessions", "affected_sessions"),
    ("stray threads", "stray_threads"),
    ("orphan threads", "orphan_threads"),
    ("run breaks", "run_breaks"),
    ("sessions", "sessions"),
    ("threads", "threads"),
)


@contextmanager
def progress_bar(total: int, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields the ``progress(done, total)`` callback."""
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("messages"),
        TimeElapsedColumn(),
    )
    off = quiet or not err_console.is_terminal  # off a terminal a bar is only stray newlines
    with Progress(*columns, console=err_console, transient=True, disable=off) as progress:
        task = progress.add_task("simulate", total=total)

        def advance(done: int, _total: int) -> None:
            progress.update(task, completed=done)

        yield advance


def _figure(figures: ExpectedAudit, key: str) -> str:
    value = getattr(figures, key)
    return f"{value:.2%}" if key == "break_rate" else str(value)


def _counts(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for name, count in sorted(counts.items()):
        table.add_row(name, str(count))
    return table


def print_summary(result: SimulationResult) -> None:
    """The traffic sent and received, the expected audit figures, and where the files are."""
    config = result.config
    plan = f"strategy {config.strategy.value}"
    if config.rollout_at is not None:
        plan = (
            f"{config.rollout_from.value} ({config.versions[0]}) then {config.strategy.value}"
            f" ({config.versions[1]}) from {config.rollout_at:.0%} of the messages"
        )
    start = datetime.fromtimestamp(result.simulated_start, UTC).strftime("%Y-%m-%d %H:%M")
    end = datetime.fromtimestamp(result.simulated_end, UTC).strftime("%H:%M")
    console.print(
        f"{result.messages} messages from {result.users} users in {result.sessions} sessions"
        f" ({result.reconnects} reconnects), {plan}, seed {config.seed};"
        f" simulated {start}-{end} UTC in {result.elapsed_s:.1f} s"
        f" ({result.messages_per_second:,.0f} messages/s)",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        Columns(
            [
                _counts("messages sent", result.sent),
                _counts("replies", result.replies),
                _counts("errors by code", result.errors),
                _counts("broadcasts received", result.broadcasts),
            ]
        )
    )
    console.print(
        f"quality requests {result.quality_requests} from {result.quality_users} users;"
        f" events whose context the strategy chose {result.quality_interactions}"
        f" from {result.strategy_users} users",
        highlight=False,
        soft_wrap=True,
    )
    sides = [("all", result.expected), *sorted(result.expected_by_version.items())]
    table = Table(title="expected audit (per file)", title_justify="left")
    table.add_column("figure")
    for name, _ in sides:
        table.add_column(name, justify="right")
    for label, key in _FIGURES:
        table.add_row(label, *(_figure(figures, key) for _, figures in sides))
    print_renderable(table)
    if result.export_failures:
        err_console.print(
            f"warning: {result.export_failures} spans or log lines could not be written;"
            " the files hold less than expected"
        )
    for label, path in (
        ("traces", result.trace_path),
        ("logs", result.log_path),
        ("store", result.db_path),
    ):
        console.print(f"{label + ':':7} {path}", highlight=False, markup=False, soft_wrap=True)

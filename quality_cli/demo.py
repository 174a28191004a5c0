"""`quality demo`: the main job. Same traffic under three strategies, audited, compared, rendered."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from quality_cli._demo import DemoResult
from quality_cli._errors import EXIT_CHECK_FAILED
from quality_cli._output import console, err_console, print_json

HELP = """Run the main job: the same seeded traffic under mint, default-session and resume, audited.

Audits the exported traces and logs, compares before/after, audits a rollout with --split-by version and writes a dashboard.

Example: quality demo --out quality-demo --users 40 --messages 30
"""


def _rate(report: dict[str, Any]) -> str:
    low, high = report.get("break_rate_ci") or (0.0, 0.0)
    return f"{report['break_rate']:.1%} ({low:.1%}-{high:.1%})"


def _row(name: str, report: dict[str, Any]) -> list[str]:
    keys = ("events", "breaks")
    tail = ("affected_sessions", "stray_threads", "orphan_threads", "run_breaks")
    return [name, *(str(report[k]) for k in keys), _rate(report), *(str(report[k]) for k in tail)]


def _verdict(comparison: dict[str, Any]) -> str:
    p = comparison.get("p_value")
    significant = comparison.get("significant")
    shown = "n/a" if p is None else f"{p:.3g}"
    return f"p = {shown}: {'significant' if significant else 'not significant'} at 5%"


def print_demo(result: DemoResult) -> None:
    # The table is the point of the demo: never squeeze it below 110 columns (pipes, CI logs).
    out = Console(width=max(console.width, 110), highlight=False)
    table = Table(
        title="continuity by strategy (audited from the exported traces)", title_justify="left"
    )
    table.add_column("strategy", no_wrap=True)
    for column in ("events", "breaks"):
        table.add_column(column, justify="right")
    table.add_column("break rate (95% CI)", justify="right", no_wrap=True)
    for column in ("affected sessions", "stray threads", "orphan threads", "run breaks"):
        table.add_column(column, justify="right")
    for name, report in result.reports.items():
        table.add_row(*_row(name, report))
    rollout = result.rollout
    table.add_row(*_row(rollout["before"]["label"], rollout["before"]))
    table.add_row(*_row(rollout["after"]["label"], rollout["after"]))
    out.print(table)
    for name, comparison in result.comparisons.items():
        before, after = comparison["before"], comparison["after"]
        out.print(
            f"{name}: break rate {before['break_rate']:.2%} -> {after['break_rate']:.2%}, {_verdict(comparison)}",
            markup=False,
        )
    before, after = rollout["before"], rollout["after"]
    out.print(
        f"{before['label']} (mint) -> {after['label']} (resume), --split-by version: break rate "
        f"{before['break_rate']:.2%} -> {after['break_rate']:.2%}, {_verdict(rollout)}",
        markup=False,
    )
    truth = {n: s.quality_interactions for n, s in result.simulations.items()}
    # the rules of docs/simulate.md: mint orphans == quality interactions, default-session
    # stray threads == users whose context the strategy chose (broadcasts included)
    users = {n: s.strategy_users for n, s in result.simulations.items()}
    out.print(
        f"ground truth: {truth['mint']} quality interactions (mint orphans: "
        f"{result.reports['mint']['orphan_threads']}), {users['default-session']} users whose "
        "context the strategy chose (default-session stray threads: "
        f"{result.reports['default-session']['stray_threads']})",
        markup=False,
    )
    if result.mismatches:
        err_console.print("auditor and simulator disagree:", style="bold red")
        for line in result.mismatches:
            err_console.print(f"  {line}", markup=False)
    else:
        out.print("auditor == simulator ground truth on traces and logs of every run", markup=False)
    out.print(f"\nwritten under {result.out}/ in {result.elapsed_s:.1f} s:", markup=False)
    for key in ("dashboard", "summary", "audit-resume", "audit-rollout"):
        out.print(f"  {key:>14}: {result.files[key]}", markup=False)
    out.print(
        f"  {'raw files':>14}: {result.out}/<strategy>/traces/traces.jsonl, logs/quality.jsonl",
        markup=False,
    )


def demo(
    out: Annotated[Path, typer.Option(help="Where to write everything.")] = Path("quality-demo"),
    users: Annotated[int, typer.Option(min=1, help="Simulated users.")] = 40,
    sessions_per_user: Annotated[int, typer.Option(min=1, help="Sessions per user.")] = 2,
    messages: Annotated[int, typer.Option(min=1, help="Messages per session.")] = 30,
    seed: Annotated[int, typer.Option(help="Traffic seed.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    from quality_cli._demo import DemoConfig, clean_out, run_demo  # loaded only when used

    clean_out(out)
    config = DemoConfig(
        out=out, users=users, sessions_per_user=sessions_per_user, messages=messages, seed=seed
    )

    def step(text: str) -> None:
        if not quiet:
            err_console.print(f"[dim]... {text}[/]")

    result = run_demo(config, step)
    if as_json:
        print_json(result.to_dict())
    else:
        print_demo(result)
    if result.mismatches:
        raise typer.Exit(EXIT_CHECK_FAILED)

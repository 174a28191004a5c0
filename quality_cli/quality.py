"""`quality metrics`, `quality report`, `quality validate`: the quality operations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from quality_cli._output import console, err_console, print_table
from quality_cli._session import context_line, run_message

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")]

METRICS_HELP = """Quality metrics of your validations over a period.

Example: quality metrics --period-hours 24 --agent triage-bot
"""


def metrics(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Option(help="Only this agent's validations.")] = None,
    period_hours: Annotated[float, typer.Option(min=0.001, help="Look-back window in hours.")] = 24,
    as_json: JsonOpt = False,
) -> None:
    payload = {"agent_name": agent, "period_hours": period_hours}
    reply = run_message(ctx, {"type": "get_quality_metrics", "payload": payload}, as_json)
    if not as_json:
        data = reply["payload"]
        rows = [(k, v) for k, v in data.items() if not isinstance(v, dict | list)]
        print_table("quality metrics", ["metric", "value"], rows)
        console.print(context_line(reply))


REPORT_HELP = """Generate a markdown quality report (summary or detailed) over a day or a week.

Example: quality report --type detailed --period week -o report.md
"""


def report(
    ctx: typer.Context,
    report_type: Annotated[str, typer.Option("--type", help="summary or detailed.")] = "summary",
    period: Annotated[str, typer.Option(help="day or week.")] = "day",
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the markdown here (- for stdout, alone)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    to_stdout = output is not None and str(output) == "-"
    if to_stdout and as_json:  # two documents on one stdout: the markdown, then the JSON
        raise typer.BadParameter(
            "-o - prints the markdown alone; --json prints the reply, which holds it: use one",
            param_hint="'-o'",
        )
    if output is not None and not to_stdout and (output.is_dir() or not output.parent.is_dir()):
        # checked before the request: a report that cannot be written is not generated
        where = "is a directory" if output.is_dir() else "is in no existing directory"
        raise typer.BadParameter(f"{output} {where}", param_hint="'-o'")
    payload = {"report_type": report_type, "period": period}
    reply = run_message(ctx, {"type": "generate_quality_report", "payload": payload}, as_json)
    markdown = reply["payload"]["report"]
    if to_stdout:
        sys.stdout.write(markdown if markdown.endswith("\n") else markdown + "\n")
        return
    if output is not None:
        output.write_text(markdown, encoding="utf-8")
    if not as_json:
        if output is None:
            # as it is, never wrapped at the terminal's width (`quality report > r.md`)
            sys.stdout.write(markdown if markdown.endswith("\n") else markdown + "\n")
            sys.stdout.flush()
        else:
            console.print(f"report written to {output}", markup=False)
        # the context is not part of a report that goes to a file or a pipe
        (console if console.is_terminal or output is not None else err_console).print(
            context_line(reply)
        )


VALIDATE_HELP = """Score content for quality (specificity, actionability, quantification, hedging...).

Example: echo "Reduce p99 latency by 20% by Friday: add an index on orders.user_id" | quality validate - --content-type action_plan
"""


def validate(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="The content, or - to read it from stdin.")
    ],
    content_type: Annotated[
        str,
        typer.Option(
            help="optimization, data_analysis, action_plan, report, triage, error or general."
        ),
    ] = "general",
    strict: Annotated[bool, typer.Option("--strict", help="Raise the bar to pass.")] = False,
    agent: Annotated[str, typer.Option(help="The agent that wrote the content.")] = "assistant",
    as_json: JsonOpt = False,
) -> None:
    content = sys.stdin.read() if text == "-" else text
    payload = {
        "content": content,
        "content_type": content_type,
        "strict_mode": strict,
        "agent_name": agent,
    }
    reply = run_message(ctx, {"type": "validate_content", "payload": payload}, as_json)
    if not as_json:
        data = reply["payload"]
        verdict = "[green]passed[/]" if data["passed"] else "[red]failed[/]"
        console.print(f"{verdict}  score {data['score']:.3f}")
        print_table("signals", ["signal", "value"], sorted(data["metrics"].items()))
        for issue in data["issues"]:
            console.print(f"- {issue}", markup=False)
        console.print(context_line(reply))

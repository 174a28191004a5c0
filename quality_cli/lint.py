"""`quality lint`: the static checker for continuity anti-patterns (see docs/lint.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from quality_cli._errors import EXIT_CHECK_FAILED
from quality_cli._output import print_json

HELP = """Check Python code for session-continuity anti-patterns (QC001-QC004).

Exit 0 when clean, 1 when findings remain, 2 on bad input.

Example: quality lint handlers/ --format sarif > lint.sarif
"""


class Format(StrEnum):
    """Output formats."""

    text = "text"
    json = "json"
    sarif = "sarif"


def lint(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files or directories.", metavar="PATH", show_default=False),
    ],
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
    select: Annotated[str | None, typer.Option(help="Rules to run, e.g. QC001,QC003.")] = None,
    ignore: Annotated[str | None, typer.Option(help="Rules to skip, e.g. QC002.")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Rewrite QC001 fallbacks in place.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print the fixes as a diff.")] = False,
    config: Annotated[str | None, typer.Option(help="TOML file with lint settings.")] = None,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
) -> None:
    """Lint PATHS; exit 1 when findings remain."""
    from auditor.lint import run_lint  # libcst loads only when linting
    from auditor.lint.report import format_text, to_records
    from auditor.lint.sarif import to_sarif

    report = run_lint(
        paths, select=select, ignore=ignore, fix=fix, diff=diff, config_file=config, jobs=jobs
    )
    for text in report.diffs:  # on stderr for json/sarif, so stdout stays one document
        typer.echo(text, nl=False, err=output is not Format.text)
    if output is Format.text:
        typer.echo(format_text(report))
    else:
        print_json(to_records(report) if output is Format.json else to_sarif(report))
    if report.findings:
        raise typer.Exit(EXIT_CHECK_FAILED)

"""`quality audit` and `quality compare`: continuity breaks in traces and logs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quality_cli._audit_view import print_comparison, print_report, progress_bar
from quality_cli._errors import EXIT_CHECK_FAILED
from quality_cli._output import err_console, print_json

if TYPE_CHECKING:
    from auditor.audit import AuditOptions

AUDIT_HELP = """Measure continuity breaks in traces and logs (files, dirs, globs, - for stdin).

Example: quality audit logs/quality.jsonl traces/ --json"""
COMPARE_HELP = """Compare the break rates of two input sets (before and after a change).

Example: quality compare --before logs/v1/*.jsonl --after logs/v2/*.jsonl --json"""

Format = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="auto (detected per file), jsonl, json, otlp, gcp, jaeger, zipkin, console, docker, cri, embedded or prefixed (docs/formats.md).",
    ),
]
Maps = Annotated[
    list[str], typer.Option("--map", metavar="FIELD=PATH", help="FIELD=dotted.path (repeatable).")
]
Extracts = Annotated[
    list[str],
    typer.Option(
        "--extract", metavar="FIELD=REGEX", help="FIELD=REGEX on the message text (repeatable)."
    ),
]
Transitions = Annotated[
    list[str],
    typer.Option("--transition", metavar="EVENT", help="Events that set the current thread."),
]
RunStarts = Annotated[
    list[str], typer.Option("--run-start", metavar="EVENT", help="Events that start a run.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
FailOn = Annotated[
    float | None,
    typer.Option(
        "--fail-on-break-rate",
        metavar="X",
        help="Exit 1 if break_rate > X, or if no event was found.",
    ),
]
Export = Annotated[
    Path | None,
    typer.Option(
        "--export-breaks", metavar="FILE", help="Write every break to FILE (.parquet/.csv)."
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _options(fmt: str, maps: list[str], extracts: list[str], transitions: list[str],
             run_starts: list[str], label: str | None, export: Path | None) -> AuditOptions:  # fmt: skip
    # Polars loads here, not when the CLI starts: other commands should not pay for it.
    from auditor.audit import AuditOptions
    from auditor.continuity import DEFAULT_RUN_STARTS, DEFAULT_TRANSITIONS

    return AuditOptions(
        fmt=fmt,
        maps=tuple(maps),
        extracts=tuple(extracts),
        transitions=tuple(transitions) or DEFAULT_TRANSITIONS,
        run_starts=tuple(run_starts) or DEFAULT_RUN_STARTS,
        label=label,
        export_breaks=export,
    )


def _check_rate(fail_on: float | None) -> None:
    """`--fail-on-break-rate` is a rate: a number from 0 to 1 (checked before any reading)."""
    if fail_on is not None and not 0.0 <= fail_on <= 1.0:  # NaN fails both comparisons
        from auditor.errors import UsageError

        raise UsageError(f"--fail-on-break-rate: {fail_on} is not a rate from 0 to 1")


def _finish(result: dict[str, Any], as_json: bool, fail_on: float | None) -> None:
    is_comparison = "before" in result
    if as_json:
        print_json(result)
    else:
        (print_comparison if is_comparison else print_report)(result)
    checked = result["after"] if is_comparison else result
    for side in (result["before"], result["after"]) if is_comparison else (result,):
        _warn_no_events(side)
    if fail_on is not None and not checked["events"]:
        # a gate pointed at logs it cannot read (every record unattributed) must not pass
        err_console.print("no events to check the break rate on", highlight=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
    rate = checked["break_rate"]
    if fail_on is not None and rate > fail_on:
        err_console.print(f"break rate {rate:.4%} is above {fail_on:.4%}")
        raise typer.Exit(EXIT_CHECK_FAILED)


def _warn_no_events(report: dict[str, Any]) -> None:
    """Records read but no event among them: the fields are elsewhere (a container's
    wrapper, other names), which a break rate of 0 would hide."""
    if report["events"] or not report["lines"]:
        return
    counts = ", ".join(
        f"{report[key]:,} {key}"
        for key in ("rejected", "unattributed", "missing_thread")
        if report[key]
    )
    err_console.print(
        f"warning: no events among {report['lines']:,} records ({counts}) in {report['label']}:"
        " are the user and thread elsewhere? see --map and --extract (docs/audit.md)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def audit_command(
    paths: Annotated[
        list[str],
        typer.Argument(metavar="INPUT", help="Files, directories, globs or -.", show_default=False),
    ],
    fmt: Format = "auto",
    maps: Maps = [],  # noqa: B006
    extracts: Extracts = [],  # noqa: B006
    transitions: Transitions = [],  # noqa: B006
    run_starts: RunStarts = [],  # noqa: B006
    split_at: Annotated[
        str | None, typer.Option(metavar="TS", help="Compare before/after TS.")
    ] = None,
    split_by: Annotated[
        str | None, typer.Option(metavar="FIELD", help="Compare by a field's values.")
    ] = None,
    as_json: AsJson = False,
    fail_on: FailOn = None,
    export: Export = None,
    label: Annotated[
        str | None, typer.Option(metavar="NAME", help="Name of this input set.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Measure continuity breaks in traces and logs."""
    _check_rate(fail_on)
    options = _options(fmt, maps, extracts, transitions, run_starts, label, export)
    with progress_bar(paths, quiet):
        from auditor.audit import audit

        result = audit(paths, options, split_at=split_at, split_by=split_by)
    _finish(result, as_json, fail_on)


def compare_command(
    before: Annotated[
        list[str],
        typer.Option(
            "--before",
            metavar="INPUT",
            help="Inputs before (several after one flag, or the flag repeated).",
        ),
    ],
    after: Annotated[
        list[str],
        typer.Option(
            "--after",
            metavar="INPUT",
            help="Inputs after (several after one flag, or the flag repeated).",
        ),
    ],
    fmt: Format = "auto",
    maps: Maps = [],  # noqa: B006
    extracts: Extracts = [],  # noqa: B006
    transitions: Transitions = [],  # noqa: B006
    run_starts: RunStarts = [],  # noqa: B006
    as_json: AsJson = False,
    fail_on: FailOn = None,
    export: Export = None,
    quiet: Quiet = False,
) -> None:
    """Compare the break rates of two input sets."""
    _check_rate(fail_on)
    options = _options(fmt, maps, extracts, transitions, run_starts, None, export)
    with progress_bar([*before, *after], quiet):
        from auditor.audit import compare

        result = compare(before, after, options)
    _finish(result, as_json, fail_on)

"""Rendering a `LintReport` as text (grouped by file, like ruff) or as JSON records."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from auditor.lint.rules import Finding
from auditor.lint.runner import LintReport

JSON_KEYS = ("path", "line", "column", "code", "message")


def format_finding(finding: Finding) -> str:
    """`path:line:col: CODE message`."""
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"


def format_text(report: LintReport) -> str:
    """Findings grouped by file (a blank line between files), then a one-line summary."""
    blocks = [
        "\n".join(format_finding(f) for f in group)
        for _, group in groupby(report.findings, key=lambda f: f.path)
    ]
    lines = ["\n\n".join(blocks)] if blocks else []
    if report.fixed:
        lines.append(f"Fixed {_count(report.fixed)}.")
    if report.findings:
        fixable = f" ({report.fixable} fixable with --fix)" if report.fixable else ""
        lines.append(f"Found {_count(len(report.findings))} in {_files(report)}{fixable}.")
    else:
        lines.append(f"All checks passed ({report.files} file{'s' if report.files != 1 else ''}).")
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n} finding{'s' if n != 1 else ''}"


def _files(report: LintReport) -> str:
    n = len({f.path for f in report.findings})
    return f"{n} file{'s' if n != 1 else ''}"


def to_records(report: LintReport) -> list[dict[str, Any]]:
    """One `{path, line, column, code, message}` object per finding, in file order."""
    return [
        {
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "code": f.code.value,
            "message": f.message,
        }
        for f in report.findings
    ]

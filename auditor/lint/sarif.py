"""SARIF 2.1.0 output, the format code-scanning UIs (GitHub, GitLab, Azure DevOps) read."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from auditor.lint.rules import RULES, Code, Finding
from auditor.lint.runner import LintReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "quality-lint"


def to_sarif(report: LintReport) -> dict[str, Any]:
    """The report as one SARIF log with one run; paths relative to the repository root
    (`%SRCROOT%`) when they are relative, `file://` URIs otherwise."""
    codes = list(RULES)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, codes.index(f.code)) for f in report.findings],
            }
        ],
    }


def _rule(code: Code) -> dict[str, Any]:
    rule = RULES[code]
    return {
        "id": code.value,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": _level(code)},
    }


def _level(code: Code) -> str:
    return "error" if code is Code.QC000 else "warning"


def _result(finding: Finding, index: int) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line:
        region |= {"endLine": finding.end_line, "endColumn": finding.end_column}
    return {
        "ruleId": finding.code.value,
        "ruleIndex": index,
        "level": _level(finding.code),
        "message": {"text": finding.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": _artifact(finding.path), "region": region}}
        ],
    }


def _artifact(path: str) -> dict[str, str]:
    if PurePath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    # a URI reference (RFC 3986), as the absolute path's: a space, `#` or `%` escaped
    return {"uri": quote(PurePath(path).as_posix()), "uriBaseId": "%SRCROOT%"}

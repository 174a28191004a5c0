"""The rule catalogue (QC000-QC004) and the `Finding` record every checker returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    """Rule codes. QC000 is not a rule but a file that could not be read or parsed."""

    QC000 = "QC000"
    QC001 = "QC001"
    QC002 = "QC002"
    QC003 = "QC003"
    QC004 = "QC004"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its code, a kebab-case name, a one-line summary and the advice for fixing it."""

    code: Code
    name: str
    summary: str
    help: str


RULES: dict[Code, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            Code.QC000,
            "unreadable-file",
            "The file could not be decoded or parsed, so it was not checked.",
            "Fix the syntax or encoding error; the other rules run once the file parses.",
        ),
        Rule(
            Code.QC001,
            "minted-context-fallback",
            "A thread or run ID is minted when the request lacks one and passed to a "
            "context getter: every such message opens an orphan thread.",
            "Pass the incoming IDs (or None) to the session manager and let it resume the "
            "user's active thread and run.",
        ),
        Rule(
            Code.QC002,
            "per-request-state-on-instance",
            "A value from the request is stored on a handler instance shared by all requests "
            "and read in another method: concurrent users can receive each other's context.",
            "Pass the value as an argument, keep it in a local, or use a contextvars.ContextVar.",
        ),
        Rule(
            Code.QC003,
            "dropped-client-thread",
            "The request's thread ID is in scope but the context getter is called with "
            "thread_id=None or without it: the reply lands in another thread.",
            "Pass the client's thread ID to the context getter.",
        ),
        Rule(
            Code.QC004,
            "error-path-new-context",
            "An error path mints a new context instead of answering in the request's session.",
            "Reuse the context (thread and run) of the request that failed.",
        ),
    )
}

#: Codes a user can select or ignore (QC000 is always reported: nothing is skipped silently).
SELECTABLE: tuple[Code, ...] = (Code.QC001, Code.QC002, Code.QC003, Code.QC004)


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding. Lines and columns are 1-based (as editors, ruff and SARIF count them)."""

    path: str
    line: int
    column: int
    code: Code
    message: str
    end_line: int = 0
    end_column: int = 0
    fixable: bool = False

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order used by every output: file, then position, then code."""
        return (self.path, self.line, self.column, self.code.value)

"""QC002: per-request state kept on a handler instance that serves every request."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from auditor.lint.config import LintConfig, matches
from auditor.lint.exprs import loaded_names
from auditor.lint.visitors import SETUP_METHODS, ClassFacts, FunctionFacts, SelfWrite


def shared_state_findings(
    classes: Iterable[ClassFacts], config: LintConfig
) -> list[tuple[SelfWrite, str]]:
    """`self.<attr> = <request value>` in a method of a serving class (one with a handler
    method such as `handle`), when another method reads `self.<attr>`."""
    findings: list[tuple[SelfWrite, str]] = []
    for cls in classes:
        if not any(matches(m.name, config.handler_methods) for m in cls.methods):
            continue
        tainted = {id(m): _tainted_names(m, config) for m in cls.methods}
        for write in cls.writes:
            method = write.method
            if method.name in SETUP_METHODS or id(method) not in tainted:
                continue
            names = tainted[id(method)]
            if not _uses(write.value, names):
                continue
            readers = sorted(cls.reads.get(write.attr, set()) - {method.name} - SETUP_METHODS)
            if not readers:
                continue
            message = (
                f"self.{write.attr} is set from the request in {method.name}() and read in "
                f"{readers[0]}(): one {cls.name} serves every user, so concurrent requests can "
                "get each other's value; pass it as an argument or use a ContextVar"
            )
            findings.append((write, message))
    return findings


def _tainted_names(method: FunctionFacts, config: LintConfig) -> set[str]:
    """Request parameters of a method and the locals computed from them."""
    names = {p for p in method.params[1:] if matches(p, config.request_params)}
    changed = True
    while changed:
        changed = False
        for assignment in method.assignments:
            if "." in assignment.key or assignment.key in names:
                continue
            if _uses(assignment.value, names):
                names.add(assignment.key)
                changed = True
    return names


def _uses(value: cst.BaseExpression, names: set[str]) -> bool:
    return bool(names) and any(name in names for name in loaded_names(value))

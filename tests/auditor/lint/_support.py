"""Helpers for the lint tests: realistic handler modules and `# expect: CODE` markers."""

from __future__ import annotations

import re
import textwrap

from auditor.lint.config import LintConfig
from auditor.lint.runner import lint_source

PRELUDE = """\
import logging
import secrets
import uuid
from contextvars import ContextVar

from app.ids import generate_run_id, generate_thread_id

logger = logging.getLogger(__name__)
"""

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z0-9, ]+)")


def handler_class(
    handle_body: str, *extra_methods: str, name: str = "QualityMetricsHandler"
) -> str:
    """A module with the async handler shape: `handle(user_id, payload)` plus the given
    methods (`_send_*_response`, `_handle_*_error`...), each written at method level."""
    methods = "\n".join(
        textwrap.indent(textwrap.dedent(m).strip("\n"), "    ") + "\n" for m in extra_methods
    )
    body = textwrap.indent(textwrap.dedent(handle_body).strip("\n"), "        ")
    return (
        PRELUDE
        + f"\n\nclass {name}:\n"
        + "    def __init__(self, session_manager, manager):\n"
        + "        self.session_manager = session_manager\n"
        + "        self.manager = manager\n\n"
        + "    async def handle(self, user_id, payload):\n"
        + body
        + "\n\n"
        + methods
    )


def expected(source: str) -> list[tuple[str, int]]:
    """`(code, line)` for every `# expect: CODE[, CODE]` marker in the source."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found.extend(
                (code.strip(), number) for code in match["codes"].split(",") if code.strip()
            )
    return sorted(found, key=lambda item: (item[1], item[0]))


def check(source: str, config: LintConfig | None = None) -> list[tuple[str, int]]:
    """`(code, line)` of every finding in the source, in line order."""
    result = lint_source(source, "handler.py", config or LintConfig())
    return [(f.code.value, f.line) for f in result.findings]

"""Static checker for session-continuity anti-patterns in Python code (`quality lint`).

Rules live in `rules.py`; `run_lint` is the one entry point the CLI calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.lint.config import load_config
from auditor.lint.runner import LintReport, lint_paths

__all__ = ["LintReport", "run_lint"]


def run_lint(
    paths: Sequence[str],
    *,
    select: str | None = None,
    ignore: str | None = None,
    fix: bool = False,
    diff: bool = False,
    config_file: str | None = None,
    jobs: int | None = None,
) -> LintReport:
    """Lint `paths` with the nearest `[tool.quality.lint]` settings (or `config_file`),
    `select`/`ignore` (comma-separated codes) on top; `fix` writes QC001 fixes, `diff`
    returns them as unified diffs; `jobs` worker processes (default: one per CPU)."""
    config = load_config(paths, config_file).with_codes(select, ignore)
    return lint_paths(paths, config, fix=fix, diff=diff, jobs=jobs)

"""Expanding command-line inputs into sources.

INTERIM (skeleton): plain files and directories only. The readers helper replaces
this with globs, recursion, stdin and compression detection, same signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditor.errors import InputError
from auditor.sources import Source


def expand_inputs(args: Sequence[str]) -> list[Source]:
    """Sources for the given paths, in a stable order. Raises `InputError` for a missing path."""
    sources: list[Source] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            sources.extend(Source.for_path(p) for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            sources.append(Source.for_path(path, name=arg))
        else:
            raise InputError(f"no such file or directory: {arg}")
    return sources

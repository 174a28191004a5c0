"""How the values of a `--split-by` field are ordered, wherever sides are listed (no Polars
here: the dashboard imports it)."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"([0-9]+)")


def natural_key(value: str) -> tuple[tuple[int, str], ...]:
    """Sort key reading digit runs as numbers: version 1.9.0 comes before 1.10.0; values
    that read the same (``v1`` and ``v01``) are then ordered by their text, so that the
    order never depends on the order they were found in (it decides before and after)."""
    parts = tuple((int(p), "") if p.isdigit() else (-1, p) for p in _DIGITS.split(value))
    return (*parts, (-2, value))

"""Where a record was read, as reports print it (no Polars here: the views import it)."""

from __future__ import annotations


def location(source: str, line: int, item: int = 0) -> str:
    """``source:line``, and the record's index on its line when it is not the first there
    (the spans of one OTLP batch share a line): ``traces.jsonl:5[2]``."""
    return f"{source}:{line}[{item}]" if item else f"{source}:{line}"

"""Expected record frames for reader tests: rows give only their non-null columns."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from auditor.schema import RECORD_SCHEMA


def records(*rows: dict[str, object]) -> pl.DataFrame:
    """A frame with exactly `RECORD_SCHEMA`; ``ts`` may be given as an ISO 8601 string."""
    columns: dict[str, list[object]] = {name: [] for name in RECORD_SCHEMA}
    for row in rows:
        unknown = set(row) - set(RECORD_SCHEMA)
        assert not unknown, f"not record columns: {unknown}"
        for name, values in columns.items():
            value = row.get(name)
            if name == "ts" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            values.append(value)
    return pl.DataFrame(columns, schema=RECORD_SCHEMA)


def rejected(source: str, line: int, reason: str) -> dict[str, object]:
    """A rejected row: only its place and reason."""
    return {"source": source, "line": line, "reject_reason": reason}

"""`--export-breaks FILE`: every break event, as Parquet or CSV chosen by the file's extension."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from auditor.errors import UsageError

EXPORT_SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


def check_export_path(path: Path) -> None:
    """Raise `UsageError` unless the path ends in .parquet or .csv (checked before any work)."""
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UsageError(
            f"--export-breaks: cannot tell the format of {str(path)!r}; use a .parquet or .csv file"
        )


def export_breaks(breaks: pl.DataFrame, path: Path) -> int:
    """Write the break rows to ``path`` (Parquet or CSV by extension); returns the row count."""
    check_export_path(path)
    try:
        if path.suffix.lower() == ".parquet":
            breaks.write_parquet(path)
        else:
            # RFC 3339 with Z, as the JSON report writes times (Polars' default is +0000)
            breaks.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
    except OSError as exc:
        raise UsageError(f"--export-breaks: cannot write {path}: {exc.strerror or exc}") from None
    return breaks.height

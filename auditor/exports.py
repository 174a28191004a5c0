"""`--export-breaks FILE`: every break event, as Parquet or CSV chosen by the file's extension."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from auditor.errors import UsageError

EXPORT_SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


def check_export_path(path: Path) -> None:
    """Raise `UsageError` unless the path ends in .parquet or .csv and can be written
    (checked before any work: a long audit is not thrown away at its end)."""
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UsageError(
            f"--export-breaks: cannot tell the format of {str(path)!r}; use a .parquet or .csv file"
        )
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"--export-breaks: cannot write {path}: it is a directory")
    if not folder.is_dir():
        raise UsageError(f"--export-breaks: cannot write {path}: no directory {folder}")
    writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK | os.X_OK)
    if not writable:
        raise UsageError(f"--export-breaks: cannot write {path}: Permission denied")


def export_breaks(breaks: pl.DataFrame, path: Path) -> int:
    """Write the break rows to ``path`` (Parquet or CSV by extension); returns the row count."""
    check_export_path(path)
    try:
        if path.suffix.lower() == ".parquet":
            breaks.write_parquet(path)
        else:
            # RFC 3339 with Z, as the JSON report writes times (Polars' default is +0000)
            breaks.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
    except OSError as exc:  # Polars' own errors repeat the path: the reason alone
        reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
        raise UsageError(f"--export-breaks: cannot write {path}: {reason}") from None
    return breaks.height

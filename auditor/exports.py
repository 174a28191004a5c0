"""`--export-breaks FILE`: every break event, as Parquet or CSV chosen by the file's extension."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from auditor.errors import UsageError

EXPORT_SUFFIXES: tuple[str, ...] = (".parquet", ".csv")

#: Break rows whose text is fetched and written at a time: an export of millions of breaks
#: (the "before" log of a `mint` deployment) held every exported line's text at once, 3.2 GB
#: for a million breaks.
EXPORT_CHUNK = 200_000


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
    # opened for appending (nothing written), as the export will open it: permission bits
    # say nothing for root, and /proc or a read-only mount refuse only an actual open
    existed = path.exists()
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666))
    except OSError as exc:
        raise UsageError(f"--export-breaks: cannot write {path}: {_reason(exc)}") from None
    if not existed:
        path.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    """Why a write failed, without the path (Polars' errors end with it, and have no errno)."""
    if exc.strerror:
        return exc.strerror
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc).split(" (os error ")[0]


def export_breaks(chunks: Iterable[pl.DataFrame], path: Path) -> int:
    """Write the break rows, given in chunks of one schema (at least one, maybe empty), to
    ``path`` (Parquet or CSV by extension); returns the row count. Each chunk goes to an
    IPC file in a private temporary directory as it comes, and the file is written from
    them in one streaming pass: memory holds one chunk, whatever the number of breaks."""
    check_export_path(path)
    rows = 0
    with tempfile.TemporaryDirectory(prefix="quality-export-") as folder:
        parts: list[Path] = []
        for chunk in chunks:
            parts.append(Path(folder, f"{len(parts):06d}.arrow"))
            try:
                chunk.write_ipc(parts[-1])
            except OSError as exc:  # a full TMPDIR said "No space left on device (os error 28)"
                raise UsageError(
                    f"--export-breaks: cannot write its chunks under {tempfile.gettempdir()}:"
                    f" {_reason(exc)}; set TMPDIR to a larger disk"
                ) from None
            rows += chunk.height
        written = pl.scan_ipc(parts)
        try:
            if path.suffix.lower() == ".parquet":
                written.sink_parquet(path)
            else:
                # RFC 3339 with Z, as the JSON report writes times (Polars' default is +0000)
                written.sink_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
        except OSError as exc:
            raise UsageError(f"--export-breaks: cannot write {path}: {_reason(exc)}") from None
    return rows

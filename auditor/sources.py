"""Input sources: one file (plain, ``.gz``, ``.zst``) or stdin, named as the user gave it."""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from auditor.errors import InputError


@dataclass(frozen=True, slots=True)
class Source:
    """One input. ``name`` is what reports print in ``source:line``.

    ``path`` is the file on disk, or None for stdin. ``compression`` is None,
    ``"gzip"`` or ``"zstd"``. Readers that can scan a plain file natively
    (Polars) check ``is_plain_file``; everything else reads ``open()``.
    """

    name: str
    path: Path | None
    compression: str | None = None

    @property
    def is_plain_file(self) -> bool:
        """True when the bytes on disk are the records themselves (scannable in place)."""
        return self.path is not None and self.compression is None

    def open(self) -> BinaryIO:
        """A binary stream of the decompressed bytes. Raises `InputError` when unreadable."""
        if self.path is None:
            return sys.stdin.buffer
        try:
            if self.compression == "gzip":
                return gzip.open(self.path, "rb")  # type: ignore[return-value]
            if self.compression == "zstd":
                import zstandard

                raw = self.path.open("rb")
                # Across frames: the Collector and `zstd` tools may write several frames per file.
                return zstandard.ZstdDecompressor().stream_reader(
                    raw, closefd=True, read_across_frames=True
                )
            return self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read {self.name}: {exc.strerror or exc}") from None

    @classmethod
    def for_path(cls, path: Path, name: str | None = None) -> Source:
        """A source for a file, compression taken from its extension."""
        suffix = path.suffix.lower()
        compression = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}.get(suffix)
        return cls(name=name if name is not None else str(path), path=path, compression=compression)

"""Input sources: one file (plain, ``.gz``, ``.zst``) or stdin, named as the user gave it."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from auditor.errors import InputError


class _Decompressing:
    """A read-only decompressing stream over a raw file: closing it closes the file."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def close(self) -> None:
        """Close the file."""
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ZstdFrames(_Decompressing):
    """A read-only stream of every zstd frame of a file, one after another.

    Unlike ``zstandard``'s stream reader, which ends quietly, a file cut inside a
    frame raises `EOFError` (as `gzip` does), once all that could be decompressed
    was returned. Zero padding between frames is skipped.
    """

    _FEED = 1 << 16

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        super().__init__(raw)
        self._zstd = zstandard
        self._worker = zstandard.ZstdDecompressor().decompressobj()
        self._started = False
        self._pending = b""

    def read1(self, size: int = -1) -> bytes:
        """At least one byte unless the stream ended (then b"" or `EOFError` when cut)."""
        del size  # one decompression step per call, whatever its size
        while True:
            chunk = self._pending or self._raw.read(self._FEED)
            self._pending = b""
            if not chunk:
                if self._started:
                    raise EOFError("zstd file ended before the end of its last frame")
                return b""
            if not self._started:
                chunk = chunk.lstrip(b"\0")
                if not chunk:
                    continue
                self._started = True
            out: bytes = self._worker.decompress(chunk)
            if self._worker.eof:
                self._pending = self._worker.unused_data
                self._worker = self._zstd.ZstdDecompressor().decompressobj()
                self._started = False
            if out:
                return out

    read = read1

    def __iter__(self) -> Iterator[bytes]:
        return lines_of(iter(self.read1, b""))


def lines_of(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a stream read in blocks, newline kept (a last line without one as it
    is). A long line is gathered block by block and joined once: joining it again at
    every block was quadratic (a 200 MB line took 40 s)."""
    pending: list[bytes] = []
    for block in blocks:
        if b"\n" not in block:
            pending.append(block)
            continue
        lines = block.split(b"\n")
        if pending:
            lines[0] = b"".join((*pending, lines[0]))
        pending = [lines.pop()]
        yield from (line + b"\n" for line in lines)
    if rest := b"".join(pending):
        yield rest


class _Unwrapping(_Decompressing):
    """The app's lines of a container log (:func:`auditor.readers.containers.unwrap`) as a
    read-only stream. A cut or corrupt stream underneath raises its error after every line
    that came out before it, as the decompressing streams do."""

    _BLOCK = 1 << 16

    def __init__(self, raw: BinaryIO, wrapper: str) -> None:
        from auditor.readers.containers import unwrap

        super().__init__(raw)
        read = getattr(raw, "read1", raw.read)
        self._lines = unwrap(wrapper, lines_of(iter(lambda: read(self._BLOCK), b"")))
        self._error: BaseException | None = None

    def read1(self, size: int = -1) -> bytes:
        """Some whole lines, b"" at the end."""
        del size  # whole lines, about a block of them
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        out: list[bytes] = []
        count = 0
        try:
            for line in self._lines:
                out.append(line)
                count += len(line)
                if count >= self._BLOCK:
                    break
        except Exception as exc:  # a cut stream (EOFError, zlib.error...): after its lines
            if not out:
                raise
            self._error = exc
        return b"".join(out)

    read = read1


class LengthPrefixedZstd(_Decompressing):
    """The Collector file exporter's legacy `compression: zstd` output as one stream: each
    document is a zstd frame after its 4-byte big-endian length; documents come out one a
    line. A file cut inside a length or a frame returns what could be decompressed of its
    document (without newline), then raises `EOFError`, as `gzip` does.
    """

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        super().__init__(raw)
        self._zstd = zstandard
        self._cut = False

    def read1(self, size: int = -1) -> bytes:
        """One document and its newline, b"" at the end (`EOFError` after a cut one)."""
        del size  # one frame per call, whatever its size
        while not self._cut:
            head = self._raw.read(4)
            if not head:
                return b""
            length = int.from_bytes(head, "big")
            frame = self._raw.read(length) if len(head) == 4 else b""
            worker = self._zstd.ZstdDecompressor().decompressobj()
            try:
                document = worker.decompress(frame).rstrip(b"\n")
            except self._zstd.ZstdError:
                document = b""
            self._cut = len(head) < 4 or len(frame) < length or not worker.eof
            if self._cut and document:
                return document
            if document:
                return document + b"\n"
        raise EOFError("zstd file ended inside a length-prefixed frame")

    read = read1


@dataclass(frozen=True, slots=True)
class Source:
    """One input. ``name`` is what reports print in ``source:line``.

    ``path`` is the file on disk, or None for stdin. ``compression`` is None,
    ``"gzip"``, ``"zstd"`` or ``"zstd-framed"`` (:class:`LengthPrefixedZstd`). Readers
    that can scan a plain file natively (Polars) check ``is_plain_file``; everything else
    reads ``open()``.
    """

    name: str
    path: Path | None
    compression: str | None = None
    wrapper: str | None = None  # a wrapped log's format (readers/containers.py, WRAPPERS)

    @property
    def is_plain_file(self) -> bool:
        """True when the bytes on disk are the records themselves (scannable in place)."""
        return self.path is not None and self.compression is None and self.wrapper is None

    def open(self) -> BinaryIO:
        """A binary stream of the decompressed (and unwrapped) bytes. Raises `InputError`
        when unreadable."""
        stream = self._open_bytes()
        if self.wrapper is None:
            return stream
        return _Unwrapping(stream, self.wrapper)  # type: ignore[return-value]

    def _open_bytes(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        try:
            if self.compression == "gzip":
                return gzip.open(self.path, "rb")  # type: ignore[return-value]
            if self.compression == "zstd":
                return _ZstdFrames(self.path.open("rb"))  # type: ignore[return-value]
            if self.compression == "zstd-framed":
                return LengthPrefixedZstd(self.path.open("rb"))  # type: ignore[return-value]
            return self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read {self.name}: {exc.strerror or exc}") from None

    @classmethod
    def for_path(cls, path: Path, name: str | None = None) -> Source:
        """A source for a file, compression taken from its extension."""
        suffix = path.suffix.lower()
        compression = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}.get(suffix)
        return cls(name=name if name is not None else str(path), path=path, compression=compression)


def estimated_lines(path: Path, sample: int = 1 << 18) -> int:
    """About how many lines a file holds: its size over the mean line length of its head."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(sample)
    newlines = head.count(b"\n")
    if not head:
        return 0
    return max(1, size * max(newlines, 1) // len(head))

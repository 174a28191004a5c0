"""Tests for auditor/sources.py: opening plain, gzip and zstd inputs."""

from __future__ import annotations

import gzip

import pytest
import zstandard

from auditor.sources import Source


def test_zstd_frames_one_after_another_with_zero_padding(tmp_path):
    """The Collector and `zstd` may write several frames (and padding) per file: all are read."""
    path = tmp_path / "log.jsonl.zst"
    compressor = zstandard.ZstdCompressor()
    path.write_bytes(compressor.compress(b"a\nb\n") + b"\0\0\0" + compressor.compress(b"c\n"))
    with Source.for_path(path).open() as stream:
        assert list(stream) == [b"a\n", b"b\n", b"c\n"]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_a_cut_file_raises_eof_after_what_could_be_read(tmp_path, suffix):
    data = b"".join(b"line %05d\n" % i for i in range(20000))
    packed = gzip.compress(data) if suffix == ".gz" else zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"log{suffix}"
    path.write_bytes(packed[:-10])
    out = b""
    with Source.for_path(path).open() as stream, pytest.raises(EOFError):
        while block := stream.read1(1 << 16):
            out += block
    assert data.startswith(out) and len(out) > len(data) // 2

"""Tests for auditor/inputs.py: files, directories, globs, stdin, pipes and compression."""

from __future__ import annotations

import gzip
import io
import os
import sys
import threading
from pathlib import Path

import pytest
import zstandard

from auditor.errors import InputError
from auditor.inputs import expand_inputs
from auditor.sources import Source


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """logs/{b.jsonl, a.jsonl, .hidden.jsonl, sub/c.jsonl.gz, .git/x, notes.txt} in the cwd."""
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    (logs / ".git").mkdir()
    for name in ("b.jsonl", "a.jsonl", ".hidden.jsonl", "notes.txt", ".git/x"):
        (logs / name).write_text("{}\n")
    (logs / "sub" / "c.jsonl.gz").write_bytes(gzip.compress(b"{}\n"))
    return logs


def _names(sources: list[Source]) -> list[str]:
    return [s.name for s in sources]


def test_directory_is_recursive_sorted_and_skips_hidden(tree):
    sources = expand_inputs(["logs"])
    assert _names(sources) == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/notes.txt",
        "logs/sub/c.jsonl.gz",
    ]
    assert [s.compression for s in sources] == [None, None, None, "gzip"]


def test_a_directory_skips_fifos_but_not_dangling_links(tree):
    """Reading a FIFO waits for a writer forever; a dangling link is an error, not a skip."""
    os.mkfifo(tree / "pipe")
    assert "logs/pipe" not in _names(expand_inputs(["logs"]))
    (tree / "gone.jsonl").symlink_to(tree / "nowhere.jsonl")
    with pytest.raises(InputError, match=r"gone\.jsonl"):
        expand_inputs(["logs"])


def test_file_keeps_the_name_given(tree):
    assert expand_inputs(["./logs/b.jsonl"]) == [
        Source(name="./logs/b.jsonl", path=Path("./logs/b.jsonl"))
    ]


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("logs/*.jsonl", ["logs/a.jsonl", "logs/b.jsonl"]),
        ("logs/**/*.jsonl*", ["logs/a.jsonl", "logs/b.jsonl", "logs/sub/c.jsonl.gz"]),
        ("logs/s*", ["logs/sub/c.jsonl.gz"]),
    ],
)
def test_globs(tree, pattern, names):
    assert _names(expand_inputs([pattern])) == names


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("logs/*/", ["logs/sub/c.jsonl.gz"]),  # directories only
        ("logs/**", ["logs/a.jsonl", "logs/b.jsonl", "logs/notes.txt", "logs/sub/c.jsonl.gz"]),
        ("l*/sub", ["logs/sub/c.jsonl.gz"]),  # a matched directory: every file in it
        ("*/*.jsonl", ["logs/a.jsonl", "logs/b.jsonl"]),
    ],
)
def test_globs_match_as_glob_does(tree, pattern, names):
    assert _names(expand_inputs([pattern])) == names


def test_an_absolute_glob_keeps_its_written_names(tree):
    pattern = f"{tree}/**/c.jsonl.gz"
    assert _names(expand_inputs([pattern])) == [f"{tree}/sub/c.jsonl.gz"]


def test_a_glob_ends_on_link_loops_and_names_each_file_once(tree):
    """Two links up (`sub/up -> ..`, `sub2/up -> ..`): `glob.glob` ran until memory ran
    out; the walk visits each real directory once, under its shortest name."""
    (tree / "sub2").mkdir()
    (tree / "sub" / "up").symlink_to("..")
    (tree / "sub2" / "up").symlink_to("..")
    assert _names(expand_inputs(["logs/**/*.jsonl*"])) == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/sub/c.jsonl.gz",
    ]


def test_a_glob_does_not_skip_a_dangling_link(tree):
    """As in a named directory: a matched dangling link is an error, never a silent skip."""
    (tree / "gone.jsonl").symlink_to(tree / "nowhere.jsonl")
    with pytest.raises(InputError, match=r"cannot read logs/gone\.jsonl"):
        expand_inputs(["logs/*.jsonl"])


def test_many_inputs_keep_their_order_and_each_file_is_read_once(tree):
    names = _names(expand_inputs(["logs/b.jsonl", "logs", "logs/*.jsonl"]))
    assert names == ["logs/b.jsonl", "logs/a.jsonl", "logs/notes.txt", "logs/sub/c.jsonl.gz"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["logs/missing.jsonl"], "no such file or directory: logs/missing.jsonl"),
        (["logs/*.parquet"], "no files match logs/*.parquet"),
        (["empty"], "no files to read in directory empty (hidden files are skipped)"),
        ([], "no input given; name files, directories, globs, or - for stdin"),
    ],
)
def test_unusable_inputs_raise_one_line_errors(tree, args, message):
    (tree.parent / "empty").mkdir()
    with pytest.raises(InputError) as info:
        expand_inputs(args)
    assert str(info.value) == message


def test_unreadable_file_raises(tree, monkeypatch):
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self.name == "a.jsonl":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(InputError) as info:
        expand_inputs(["logs"])
    assert str(info.value) == "cannot read logs/a.jsonl: Permission denied"


@pytest.mark.parametrize(
    ("name", "data", "compression"),
    [
        ("misnamed.jsonl", gzip.compress(b"{}\n", mtime=0), "gzip"),
        ("misnamed.log", zstandard.ZstdCompressor().compress(b"{}\n"), "zstd"),
        ("plain.gz", b"{}\n", None),
        ("empty.zst", b"", None),
        (
            "framed.json",
            (9).to_bytes(4, "big") + zstandard.ZstdCompressor().compress(b"{}"),
            "zstd-framed",
        ),
    ],
    ids=["gzip-misnamed", "zstd-misnamed", "plain-gz-suffix", "empty-zst", "zstd-framed"],
)
def test_compression_comes_from_magic_bytes(tmp_path, name, data, compression):
    path = tmp_path / name
    path.write_bytes(data)
    assert expand_inputs([str(path)])[0].compression == compression


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_is_spooled_to_a_readable_file(monkeypatch):
    data = gzip.compress(b'{"a": 1}\n')
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    (source,) = expand_inputs(["-"])
    assert (source.name, source.compression) == ("-", "gzip")
    assert source.path is not None and source.path.read_bytes() == data
    with source.open() as stream:
        assert stream.read() == b'{"a": 1}\n'


def test_stdin_only_once(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(InputError) as info:
        expand_inputs(["-", "-"])
    assert str(info.value) == "stdin (-) can be read only once; give - a single time"


def test_named_pipe_is_read_once_and_kept(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b'{"p": 1}\n'))
    writer.start()
    (source,) = expand_inputs([str(fifo)])
    writer.join(timeout=5)
    assert source.name == str(fifo)
    assert source.path is not None and source.path.read_bytes() == b'{"p": 1}\n'


def test_linked_directories_are_followed_once(tree):
    (tree / "sub" / "loop").symlink_to(tree, target_is_directory=True)
    (tree.parent / "elsewhere").mkdir()
    (tree.parent / "elsewhere" / "d.jsonl").write_text("{}\n")
    (tree / "linked").symlink_to(tree.parent / "elsewhere", target_is_directory=True)
    assert _names(expand_inputs(["logs"])) == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/linked/d.jsonl",
        "logs/notes.txt",
        "logs/sub/c.jsonl.gz",
    ]


def test_unreadable_subdirectory_raises(tree, monkeypatch):
    real_scandir = os.scandir

    def deny(path):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    with pytest.raises(InputError) as info:
        expand_inputs(["logs"])
    assert str(info.value) == "cannot read directory logs/sub: Permission denied"


def test_a_path_under_a_directory_without_permission_is_said_as_unreadable(tree, monkeypatch):
    """`stat` refused (a directory on the way without the x bit; root is not refused, so
    the refusal is simulated): the documented `cannot read` line, not a bare OSError."""
    real = Path.stat

    def stat(self: Path, **kwargs: object) -> os.stat_result:
        if self.name == "b.jsonl":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(InputError, match=r"^cannot read logs/b\.jsonl: Permission denied$"):
        expand_inputs(["logs/b.jsonl"])


def test_a_named_device_is_refused_not_copied_forever():
    """`quality audit /dev/zero` spooled 4.7 GB in 3 s (a device is no file and no pipe)."""
    with pytest.raises(
        InputError, match=r"^cannot read /dev/zero: a device, not a file or a pipe$"
    ):
        expand_inputs(["/dev/zero"])


def test_a_directory_skips_files_that_are_no_logs_and_says_which(tree):
    """A log directory holds more than logs (`quality audit $QUALITY_HOME` met the SQLite
    store: 219 rejected "lines"): files with a database's, an export's or an image's magic,
    or a key's name, are skipped when a directory or a glob reaches them, and listed once; a
    log padded with NULs (a copytruncate) is read; a file
    named on the command line is read whatever it holds; compressed files are read."""
    import sqlite3

    import polars as pl

    from auditor.inputs import Skipped, find_inputs

    with sqlite3.connect(tree / "quality.db") as db:
        db.execute("create table t (x)")
    db.close()
    pl.DataFrame({"x": [1]}).write_parquet(tree / "breaks.parquet")
    (tree / "padded.jsonl").write_bytes(b"\x00" * 8192 + b'{"a": 1}\n')
    (tree / "secret.key").write_text("9f" * 32)  # `quality serve`'s token key
    (tree / "quality.db-wal").write_text("")
    (tree / "sub" / "zeros.gz").write_bytes(gzip.compress(b"\x00" * 10))
    sources, skipped = find_inputs(["logs"])
    assert _names(sources) == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/notes.txt",
        "logs/padded.jsonl",
        "logs/sub/c.jsonl.gz",
        "logs/sub/zeros.gz",
    ]
    assert skipped == [
        Skipped("logs/breaks.parquet", "Parquet file"),
        Skipped("logs/quality.db", "SQLite database"),
        Skipped("logs/quality.db-wal", "SQLite journal"),
        Skipped("logs/secret.key", "key or certificate"),
    ]
    assert find_inputs(["logs/quality.db"]) == (
        [Source(name="logs/quality.db", path=Path("logs/quality.db"))],
        [],
    )
    with pytest.raises(InputError) as caught:
        find_inputs(["logs/*.db"])
    assert str(caught.value) == (
        "no logs to read in logs/*.db: 1 file(s) that are no logs skipped"
        " (logs/quality.db: SQLite database)"
    )
    # listed once however often it is reached, and not at all when it is read too
    (tree / "link.db").symlink_to(tree / "quality.db")
    twice = find_inputs(["logs", "logs/sub", "logs"])[1]
    assert [s.source for s in twice] == [
        "logs/breaks.parquet",
        "logs/link.db",  # the same file as quality.db, found first
        "logs/quality.db-wal",
        "logs/secret.key",
    ]
    read_too = find_inputs(["logs", "logs/quality.db"])
    assert "logs/quality.db" not in [s.source for s in read_too[1]]
    assert "logs/quality.db" in _names(read_too[0])


def test_the_report_lists_the_skipped_files(tree):
    from auditor.audit import audit

    (tree / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    report = audit(["logs"])
    assert report["skipped_inputs"] == [{"source": "logs/image.png", "reason": "PNG image"}]
    assert "logs/image.png" not in report["inputs"]
    assert report["lines"] == 4  # the four logs' one record each: nothing of the image

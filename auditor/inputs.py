"""Expanding command-line inputs into sources: files, directories, globs and ``-`` (stdin).

Compression is read from the first bytes (gzip ``1f 8b``, zstd ``28 b5 2f fd``),
so a misnamed file still reads; the extension only names the intent. Stdin is
copied once to a temporary file so that every reader (and format detection) can
read it like a file; the copy is removed when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO

from auditor.errors import InputError
from auditor.sources import Source

STDIN = "-"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_MAGIC: tuple[tuple[bytes, str], ...] = ((b"\x1f\x8b", "gzip"), (_ZSTD_MAGIC, "zstd"))
_GLOB_CHARS = frozenset("*?[")
#: Bytes looked at for a compression's or a file type's magic number.
_SNIFF = 16


def sniff_compression(path: Path, shown: str) -> str | None:
    """``"gzip"``, ``"zstd"``, ``"zstd-framed"`` or None from a file's first bytes.

    Raises `InputError` when the file cannot be read.
    """
    return _compression_of(_read_head(path, shown))


def _read_head(path: Path, shown: str) -> bytes:
    """A file's first bytes, enough for its compression and a magic number (`InputError`
    when it cannot be read)."""
    try:
        with path.open("rb") as stream:
            return stream.read(_SNIFF)
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None


def _compression_of(head: bytes) -> str | None:
    for magic, compression in _MAGIC:
        if head.startswith(magic):
            return compression
    if head[4:8] == _ZSTD_MAGIC:
        # The Collector file exporter's legacy `compression: zstd`: length-prefixed frames.
        return "zstd-framed"
    return None


def _file_source(path: Path, name: str, head: bytes | None = None) -> Source:
    head = _read_head(path, name) if head is None else head
    return Source(name=name, path=path, compression=_compression_of(head))


#: Files a log directory often holds beside its logs, by their first bytes.
_NOT_LOGS: tuple[tuple[bytes, str], ...] = (
    (b"SQLite format 3\x00", "SQLite database"),
    (b"PAR1", "Parquet file"),
    (b"ARROW1", "Arrow IPC file"),
    (b"\x89PNG", "PNG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"%PDF-", "PDF document"),
    (b"\x7fELF", "executable"),
)
#: Files a log directory often holds beside its logs, by their names' ends: text, but no
#: logs (a `quality serve` home holds its token key, `secret.key`, beside its traces).
_NOT_LOG_NAMES: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".key", ".pem", ".crt", ".cer", ".p12", ".pfx"), "key or certificate"),
    ((".pid",), "PID file"),
    ((".lock",), "lock file"),
    (("-wal", "-shm", "-journal"), "SQLite journal"),
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file a directory or a glob reached but that is not a log (a database, an image):
    not read, and said in the report (``skipped_inputs``)."""

    source: str
    reason: str


def _not_a_log(path: Path, name: str, head: bytes) -> Skipped | None:
    """Why a file found in a directory or by a glob is no log, or None: a known binary
    format by its magic number (``head``), a key, PID or lock file by its name. Other files
    are read, whatever bytes they hold (a log padded with NULs by a copytruncate is still a
    log: its bad lines are counted, not lost). Compressed files are read; a file named on
    the command line is always read."""
    if _compression_of(head) is not None:
        return None
    lowered = path.name.lower()
    for ends, kind in _NOT_LOG_NAMES:
        if lowered.endswith(ends):
            return Skipped(name, kind)
    for magic, kind in _NOT_LOGS:
        if head.startswith(magic):
            return Skipped(name, kind)
    return None


def _logs_only(found: list[tuple[Path, str]], shown: str) -> tuple[list[Source], list[Skipped]]:
    """The sources of the files a directory or a glob found (path, name), without the files
    that are no logs; each file's head is read once, for both."""
    kept: list[Source] = []
    skipped: list[Skipped] = []
    for path, name in found:
        head = _read_head(path, name)
        if (why := _not_a_log(path, name, head)) is None:
            kept.append(_file_source(path, name, head))
        else:
            skipped.append(why)
    if not kept:
        raise InputError(
            f"no logs to read in {shown}: {len(skipped):,} file(s) that are no logs skipped"
            f" ({skipped[0].source}: {skipped[0].reason})"
        )
    return kept, skipped


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _walk_error(error: OSError) -> None:
    raise InputError(f"cannot read directory {error.filename}: {error.strerror or error}")


def _walk(
    directory: Path, descend: Callable[[tuple[str, ...]], bool] | None = None
) -> Iterator[Path]:
    """Files under a directory, recursively, hidden files and directories skipped, and so are
    FIFOs, sockets and devices (reading a FIFO would wait for a writer forever).

    Symbolic links to directories are followed (log directories are often built
    of them), each real directory once, so a link loop ends. A dangling link is kept: it
    is reported as unreadable, not silently dropped. ``descend`` (the path of a
    subdirectory, in components below ``directory``) prunes the walk.
    """
    seen: set[str] = set()
    for root, dirs, files in os.walk(directory, onerror=_walk_error, followlinks=True):
        seen.add(os.path.realpath(root))
        below = Path(root).relative_to(directory).parts
        dirs[:] = [
            d
            for d in sorted(dirs)
            if not _is_hidden(d)
            and os.path.realpath(os.path.join(root, d)) not in seen
            and (descend is None or descend((*below, d)))
        ]
        for name in sorted(files):
            path = Path(root, name)
            if not _is_hidden(name) and (path.is_file() or not path.exists()):
                yield path


def _parts(path: Path) -> tuple[str, ...]:
    """Sort key: path components, so ``a/b`` comes before ``a-c`` and ``a/z`` before ``b``."""
    return path.parts


def _directory_files(directory: Path, shown: str) -> list[tuple[Path, str]]:
    """The files below a directory, each with the name reports give it."""
    if not os.access(directory, os.R_OK | os.X_OK):
        raise InputError(f"cannot read directory {shown}: permission denied")
    files = [(path, str(path)) for path in sorted(_walk(directory), key=_parts)]
    if not files:
        raise InputError(f"no files to read in directory {shown} (hidden files are skipped)")
    return files


def _glob_files(pattern: str) -> list[tuple[Path, str]]:
    """The files a glob matches (``**``: any number of directories; a matched directory:
    every file in it), found by walking its fixed leading directory as a named directory
    is walked: each real directory once (a link loop ends), hidden names, FIFOs and
    devices skipped, a dangling link kept (an error when read), an unreadable directory
    an error. `glob.glob` followed link loops without end and dropped those silently."""
    parts = pattern.split("/")
    fixed = 0
    while fixed < len(parts) - 1 and not _GLOB_CHARS & set(parts[fixed]):
        fixed += 1
    rest = tuple(parts[fixed:])
    dir_only = rest[-1] == ""  # `logs/*/`: directories only
    rest = tuple(p for p in rest if p)
    base = Path("/".join(parts[:fixed]) or ("/" if fixed else "."))
    files: list[tuple[Path, str]] = []
    if base.is_dir():
        for path in sorted(_walk(base, lambda below: _reachable(rest, below)), key=_parts):
            below = path.relative_to(base).parts
            if _glob_match(rest, below, dir_only):  # named as the pattern is written
                files.append((path, "/".join((*parts[:fixed], *below))))
    if not files:
        raise InputError(f"no files match {pattern}")
    return files


def _glob_match(pattern: tuple[str, ...], parts: tuple[str, ...], dir_only: bool) -> bool:
    """Whether a file's path components match the glob's: all of them, or a leading part
    (the file is inside a matched directory; the only match ``dir_only`` allows)."""
    if not pattern:
        return bool(parts) or not dir_only
    head, tail = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(tail, parts[i:], dir_only) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _glob_match(tail, parts[1:], dir_only)


def _reachable(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether a directory's path components can lead to a match (or are inside one)."""
    if not parts or not pattern or pattern[0] == "**":
        return True
    return fnmatchcase(parts[0], pattern[0]) and _reachable(pattern[1:], parts[1:])


def spool(stream: BinaryIO, shown: str) -> Source:
    """A stream that can be read only once (stdin, a pipe) copied to a temporary file.

    The copy is removed when the process exits; the source keeps the name ``shown``.
    """
    handle, name = tempfile.mkstemp(prefix="quality-input-")
    atexit.register(_remove, name)
    with os.fdopen(handle, "wb") as copy:
        shutil.copyfileobj(stream, copy)
    path = Path(name)
    return Source(name=shown, path=path, compression=sniff_compression(path, shown))


def _spool_path(path: Path, shown: str) -> Source:
    try:
        with path.open("rb") as stream:
            return spool(stream, shown)
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None


def _remove(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def _sources_for(arg: str) -> tuple[list[Source], list[Skipped]]:
    path = Path(arg)
    try:
        path.stat()  # a directory on the way without search permission: say so, as reads do
    except PermissionError as exc:
        raise InputError(f"cannot read {arg}: {exc.strerror or exc}") from None
    except OSError:
        pass  # missing (a glob, perhaps): told below
    if path.is_dir():
        return _logs_only(_directory_files(path, arg), f"directory {arg}")
    if path.is_file():
        return [_file_source(path, arg)], []
    if path.is_char_device() or path.is_block_device():  # /dev/zero would never end
        raise InputError(f"cannot read {arg}: a device, not a file or a pipe")
    if path.exists():  # a named pipe or /dev/fd/N from `<(zcat ...)`: readable once
        return [_spool_path(path, arg)], []
    if _GLOB_CHARS & set(arg):
        return _logs_only(_glob_files(arg), arg)
    raise InputError(f"no such file or directory: {arg}")


def expand_inputs(args: Sequence[str]) -> list[Source]:
    """Sources for the given paths, directories, globs and ``-``, in a stable order
    (:func:`find_inputs` without the files it skipped)."""
    return find_inputs(args)[0]


def find_inputs(args: Sequence[str]) -> tuple[list[Source], list[Skipped]]:
    """Sources for the given paths, directories, globs and ``-``, in a stable order, and the
    files of directories and globs that are no logs (a SQLite database, a Parquet export,
    a key), skipped.

    A file reached twice (named, and inside a named directory) is read once.
    Raises `InputError` for a missing or unreadable path, an empty directory, a
    glob that matches no file, or ``-`` given twice. A skipped file is listed once, and
    not at all when it is read too (named on its own).
    """
    if not args:
        raise InputError("no input given; name files, directories, globs, or - for stdin")
    sources: list[Source] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    stdin_used = False
    for arg in args:
        if arg == STDIN:
            if stdin_used:
                raise InputError("stdin (-) can be read only once; give - a single time")
            stdin_used = True
            sources.append(spool(sys.stdin.buffer, STDIN))
            continue
        found, not_logs = _sources_for(arg)
        skipped.extend(not_logs)
        for source in found:
            assert source.path is not None
            key = source.path.resolve()
            if key not in seen:
                seen.add(key)
                sources.append(source)
    unique: dict[Path, Skipped] = {}  # a file reached twice (or by a link) is listed once
    for file in skipped:
        unique.setdefault(Path(file.source).resolve(), file)
    return sources, [file for key, file in unique.items() if key not in seen]

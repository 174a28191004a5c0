"""JSON-lines logs, flat or nested (structlog, python-json-logger, loguru ``serialize=True``, ours).

Field lookup: each canonical field tries the paths of ``options.candidates`` in
order (a ``--map`` path first), each path as :func:`auditor.fields.lookup` reads
it: the literal dotted key first, then every nested split of it. For the
*default* candidates of the ID and event fields, the same names are then tried
inside the common nesting containers :data:`CONTAINERS` (in that order), and
loguru's ``record.time.timestamp`` / ``record.message`` complete ``ts`` /
``message``. The first value present wins; an empty string counts as absent.

Two ways in, one result (:mod:`auditor.readers.jsonl_plan` decides the fields,
:mod:`auditor.readers.normalize` finishes the record frame):

1. a plain file: Polars' NDJSON reader on the top-level candidate keys, with the
   record frame finished in the same streaming pass (:func:`_read_ndjson`), and for
   the audit compacted to keys there too (:func:`read_jsonl_compact`,
   :mod:`auditor.keys`); exact for files of JSON objects without blank lines, the
   few flagged lines being decoded again from their own text;
2. anything else (invalid JSON, non-objects, blank lines, invalid UTF-8, compressed
   inputs, stdin): lines are read as bytes and decoded in batches of 100,000 by
   ``str.json_decode`` (top-level keys first, nested paths only where needed) and,
   for lines that are not ``{...}`` or a batch that fails, one by one with orjson,
   so every line gets its exact reject reason. Many small files (and compressed ones)
   share those batches (:func:`_read_shared`): a file's own read has fixed costs that
   a directory of a thousand rotated logs would pay a thousand times.
"""

from __future__ import annotations

import os
import re
import shutil
import zlib
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
import polars as pl

from auditor import keys, partitions, progress
from auditor.errors import InputError
from auditor.fields import ReadOptions
from auditor.partitions import Partitions
from auditor.readers.jsonl_plan import (
    ID_FIELDS,
    RAW_SCHEMA,
    DecodePlan,
    Projection,
    build_plan,
    decode_lines,
    flag_typed_ids,
    flag_watched,
    projection,
    top_level_exprs,
    typed_values,
)
from auditor.readers.normalize import finish_records
from auditor.schema import RejectReason, empty_records
from auditor.sources import Source, lines_of

_BATCH_LINES = 100_000
#: ... or this many characters of text, whichever comes first (long lines: fewer of them).
_BATCH_CHARS = 32 << 20
#: Lines a shared batch holds, and how many batches are read and not yet decoded and
#: compacted, at most (`_read_shared`): 1,000 files of 1,000 lines take 4.8 s and 543 MB
#: (100,000 lines a batch: 4.7 s and 957 MB; 25,000: 5.2 s and 454 MB).
_SHARED_BATCH_LINES = 50_000
_SHARED_BATCH_CHARS = 16 << 20
_SHARED_IN_FLIGHT = 3
#: Plain files smaller than this are decoded together when there are several (`_shared_decode`).
_SMALL_FILE_BYTES = 4 << 20
_READ_BLOCK = 1 << 20
_SAMPLE_BYTES = 1 << 18
_ANCHOR = 1 << 14
_INDEX_READ = 1 << 18
_INDEXER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsonl-line-index")
#: ID fields whose type the fast path checks on every row; the event name (few distinct
#: values, a categorical once compact) is checked after the read on its distinct values.
_ROW_CHECKED = tuple(name for name in ID_FIELDS if name != "event")


#: What a cut or corrupt compressed stream raises mid-read (gzip: EOFError or BadGzipFile).
_CUT_STREAM: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error)


_BOM = b"\xef\xbb\xbf"


def _stream_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's lines (newline kept, a UTF-8 byte order mark before the first dropped, as
    RFC 8259 lets a parser do), then ``None`` when it was cut or corrupt."""
    lines = _raw_lines(stream)
    for first in lines:
        yield first if first is None else first.removeprefix(_BOM)
        break
    yield from lines


def _raw_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's lines (newline kept), then ``None`` when it was cut or corrupt.

    Read in blocks, so that what was decompressed before the cut is all kept; a
    partial last line comes out as it is (without newline).
    """
    # read1: one decompression step per call; read(n) would lose what it gathered on a cut
    read = getattr(stream, "read1", stream.read)
    cut = False

    def blocks() -> Iterator[bytes]:
        nonlocal cut
        while True:
            try:
                block = read(_READ_BLOCK)
            except _CUT_STREAM + _zstd_errors():
                cut = True
                return
            if not block:
                return
            yield block

    yield from lines_of(blocks())
    if cut:
        yield None


def _zstd_errors() -> tuple[type[BaseException], ...]:
    import zstandard

    return (zstandard.ZstdError,)


@dataclass(slots=True)
class _Lines:
    """Lines read for one decode: their texts and places (source position, line number),
    and the records already rejected (source position, line, reason)."""

    texts: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    bad: list[tuple[int, int, str]] = field(default_factory=list)
    chars: int = 0  # of the texts: a batch of long lines is cut by size, not only by count

    def __len__(self) -> int:
        return len(self.texts) + len(self.bad)

    def full(self, lines: int, chars: int) -> bool:
        return len(self) >= lines or self.chars >= chars

    def add(self, text: str, position: int, number: int) -> None:
        self.texts.append(text)
        self.positions.append(position)
        self.numbers.append(number)
        self.chars += len(text)

    def last_is(self, position: int, number: int) -> bool:
        return bool(self.texts) and (self.positions[-1], self.numbers[-1]) == (position, number)

    def drop_last(self) -> None:
        self.texts.pop()
        self.positions.pop()
        self.numbers.pop()


#: What `bytes.strip` strips (ASCII whitespace): a line of only these is blank, on every path.
_BLANK = " \t\n\r\x0b\x0c"
_BLANK_LINE = re.compile(r"^[ \t\r\x0b\x0c]*$", re.MULTILINE)


def _whole_lines(source: Source) -> tuple[list[str], Sequence[int]] | None:
    """A small plain file's non-blank lines and their numbers, split at once (as the stream
    loop of :func:`_line_batches` would, without its per-line work); None when the file is
    large, compressed or not all UTF-8 (the loop then reads it, and says why)."""
    if not source.is_plain_file or source.path is None or not _small(source.path):
        return None  # a large file is streamed: never held whole in memory
    try:
        data = source.path.read_bytes()
        text = data.removeprefix(_BOM).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    progress.advance(len(data))
    body = text.removesuffix("\n")  # the last line's newline, not a line
    lines = body.split("\n") if body else []
    if _BLANK_LINE.search(body) is None:  # usual: no blank line, every line is a record
        return lines, range(1, len(lines) + 1)
    numbers = [n for n, t in enumerate(lines, 1) if t.strip(_BLANK)]
    return [lines[n - 1] for n in numbers], numbers


def _line_batches(sources: Sequence[Source], size: int = 0, chars: int = 0) -> Iterator[_Lines]:
    """The sources' lines in batches of about ``size`` lines or ``chars`` characters, whichever
    comes first (default ``_BATCH_LINES``, ``_BATCH_CHARS``), in input order (a batch may
    hold lines of several sources: many small files share a decode); invalid UTF-8 lines
    are rejects. A cut or corrupt compressed stream is one more `invalid_json` record: its
    last (partial) line when it has one, else a record at the line after the last one."""
    size, chars = size or _BATCH_LINES, chars or _BATCH_CHARS
    batch = _Lines()
    for position, source in enumerate(sources):
        whole = _whole_lines(source)
        if whole is not None:
            texts, numbers = whole
            for start in range(0, len(texts), size):
                if batch.full(size, chars):
                    yield batch
                    batch = _Lines()
                part = texts[start : start + size]
                batch.chars += sum(map(len, part))
                batch.texts.extend(part)
                batch.positions.extend([position] * len(part))
                batch.numbers.extend(numbers[start : start + size])
            continue
        number = 0
        partial = False
        with source.open() as stream:
            for raw in _stream_lines(stream):
                if raw is None:
                    # the cut record is the partial line itself (made a reject), else one after
                    if partial and batch.last_is(position, number):
                        batch.drop_last()
                    elif partial and batch.bad and batch.bad[-1][:2] == (position, number):
                        batch.bad.pop()
                    batch.bad.append((position, number if partial else number + 1, _INVALID_JSON))
                    break
                if batch.full(size, chars):
                    yield batch  # before the line, so that a cut partial line is still held
                    batch = _Lines()
                number += 1
                partial = not raw.endswith(b"\n")
                progress.advance(len(raw))
                if not raw.strip():
                    partial = False  # a blank partial line is no record: the cut is one after
                    continue
                try:
                    batch.add(raw.decode("utf-8"), position, number)
                except UnicodeDecodeError:
                    batch.bad.append((position, number, _INVALID_UTF8))
    yield batch


def _decode_batch(lines: _Lines, sources: Sequence[Source], plan: DecodePlan) -> pl.DataFrame:
    """One batch of lines decoded: ``source``, ``line`` and the raw columns, in line order."""
    good = decode_lines(pl.Series(lines.texts, dtype=pl.String), plan).with_columns(
        __s=pl.Series(lines.positions, dtype=pl.UInt32),
        line=pl.Series(lines.numbers, dtype=pl.Int64),
    )
    rejects = pl.DataFrame(
        lines.bad,
        schema={"__s": pl.UInt32, "line": pl.Int64, "raw_reject": pl.String},
        orient="row",
    )
    names = pl.Series([s.name for s in sources], dtype=pl.String)
    return (
        pl.concat([good, rejects], how="diagonal_relaxed")
        .sort("__s", "line")
        .with_columns(source=pl.lit(names).gather(pl.col("__s")))
        .drop("__s")
    )


def _bytes_batches(sources: Sequence[Source], plan: DecodePlan) -> Iterator[pl.DataFrame]:
    """:func:`_line_batches`, decoded (:func:`_decode_batch`)."""
    for lines in _line_batches(sources):
        yield _decode_batch(lines, sources, plan)


_INVALID_JSON = RejectReason.INVALID_JSON.value
_INVALID_UTF8 = RejectReason.INVALID_UTF8.value


@dataclass(frozen=True, slots=True)
class _LineIndex:
    """Where lines start in a file: ``(line, byte offset)`` anchors about every ``_ANCHOR`` bytes.

    Enough to count the file's lines and to fetch a few of them: a fetch reads from the
    anchor before its line, so that anchors every few KB make a fetch cost a few KB.
    """

    path: Path
    total: int  # physical lines (a last line without newline counts)
    lines: array[int]  # 1-based line number at each anchor, ascending
    offsets: array[int]  # byte offset where that line starts
    size: int  # bytes indexed
    inode: int  # the file indexed (a rotation replaces it)

    @classmethod
    def build(cls, path: Path) -> _LineIndex:
        """Read the file once in large blocks, counting newlines; in each block, anchor the
        first line that starts after every ``_ANCHOR`` bytes (the counting is done in the
        pieces between anchors, so each byte is still counted once)."""
        lines, offsets = array("q", [1]), array("q", [0])
        newlines, offset, last = 0, 0, bytearray(b"\n")
        buffer = bytearray(_INDEX_READ)  # one buffer read into again and again
        with path.open("rb", buffering=0) as handle:
            inode = os.fstat(handle.fileno()).st_ino
            while size := handle.readinto(buffer):
                block = buffer if size == len(buffer) else buffer[:size]
                counted = 0  # the block's bytes counted so far
                for cut in range(0, len(block), _ANCHOR):
                    if cut < counted:
                        continue  # a long line: its anchor is past this cut already
                    end = block.find(b"\n", cut)
                    if end < 0:
                        break
                    newlines += block.count(b"\n", counted, end + 1)
                    counted = end + 1
                    lines.append(newlines + 1)
                    offsets.append(offset + counted)
                newlines += block.count(b"\n", counted)
                offset += len(block)
                last = block[-1:]
        return cls(path, newlines + (last != b"\n"), lines, offsets, offset, inode)

    def fetch(self, numbers: Sequence[int]) -> dict[int, bytes]:
        """The text of the given 1-based lines (without the newline), by line number."""
        out: dict[int, bytes] = {}
        cached: tuple[int, list[bytes]] | None = None
        with self.path.open("rb") as handle:
            now = os.fstat(handle.fileno())
            # a log may grow while it is read (its indexed lines stay); cut, or replaced by
            # a rotation, the lines found would be other lines, or pieces of them
            if now.st_ino != self.inode or now.st_size < self.size:
                raise _changed_while_read(str(self.path), self.size, now.st_size)
            for number in sorted(set(numbers)):
                anchor = bisect_right(self.lines, number) - 1
                if cached is None or cached[0] != anchor:
                    handle.seek(self.offsets[anchor])
                    if anchor + 1 < len(self.offsets):
                        data = handle.read(self.offsets[anchor + 1] - self.offsets[anchor])
                    else:
                        data = handle.read()
                    # split once: many wanted lines of one block (an export of every break)
                    # were each found by scanning the block from its start
                    cached = (anchor, data.split(b"\n"))
                out[number] = cached[1][number - self.lines[anchor]]
        return out


def _sampled(source: Source) -> list[dict[str, object]]:
    """The records (JSON objects) of the first lines of a file."""
    assert source.path is not None
    with source.path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    records: list[dict[str, object]] = []
    for raw in head.split(b"\n")[:-1] or [head]:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


#: Turns finished (lazy) records into the frame to keep: text records, or compact ones.
Finish = Callable[[pl.LazyFrame], pl.LazyFrame]


def _no_finish(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame


def _ndjson_frame(
    source: Source,
    plan: DecodePlan,
    read: Projection,
    options: ReadOptions,
    finish: Finish,
) -> pl.LazyFrame:
    """The plan that reads and finishes the records in one streaming pass; ``needs_raw`` is kept.

    Every expression of the pass must stream: one that does not (``replace_strict``
    does not) makes Polars hold the whole input in memory.
    """
    assert source.path is not None
    # a file:// URI makes Polars read the file in chunks instead of mapping all of it
    # (a mapped file counts in the process' resident memory: 1.7 GB for 1.7 GB)
    schema = read.schema
    present = {k for k, t in schema.items() if t != pl.Null()}
    absent = [k for k in schema if k not in present]
    scan = pl.scan_ndjson(source.path.resolve().as_uri(), schema=schema, row_index_name="__row")
    if absent:
        # keeps the Null-typed columns in the projection, so that a key the sample did
        # not show makes the read fail (and be retried) instead of being skipped
        scan = scan.filter(pl.all_horizontal([pl.col(k).is_null() for k in absent]))
    raw = (
        scan.select(
            pl.lit(source.name).alias("source"),
            (pl.col("__row").cast(pl.Int64) + 1).alias("line"),
            *top_level_exprs(plan.paths, present),
        )
        .with_columns(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items())
        .with_columns(flag_typed_ids(_ROW_CHECKED))
    )
    if read.watched:
        raw = raw.with_columns(flag_watched(read.watched))
    return finish(finish_records(raw, options, keep=("needs_raw",)))


def _patch(frame: pl.DataFrame, positions: pl.Series, rows: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``rows`` written at ``positions``: only the columns where a value
    changes are rewritten (each is one copy), usually none."""
    for i, name in enumerate(frame.columns):
        old, new = frame.get_column(name).gather(positions), rows.get_column(name)
        if old.dtype == new.dtype and old.equals(new, check_names=False, null_equal=True):
            continue
        frame.replace_column(i, frame.get_column(name).scatter(positions, new))
    return frame


#: Where a plain file's compact rows are spilled: a directory and the partition count.
Spill = tuple[Path, int]


def _flag_typed_events(events: pl.Series) -> pl.Expr:
    """``needs_raw``, completed with the rows whose event name is one of the distinct
    ``events`` that read like a JSON number, bool, object or array."""
    typed = typed_values(events.drop_nulls())
    if not typed:
        return pl.col("needs_raw")
    return pl.col("needs_raw") | pl.col("event").cast(pl.String).is_in(typed).fill_null(False)


def _changed_while_read(name: str, was: int, now: int | None) -> InputError:
    """The error of a file cut (logrotate's ``copytruncate``), replaced or removed while it
    was read (``now`` None: gone)."""
    after = "now gone" if now is None else f"now {now:,}"
    return InputError(
        f"{name}: the file changed while it was read (it was {was:,} bytes, {after}):"
        " audit a copy, or the file it was rotated to"
    )


def _check_unchanged(source: Source, size: int) -> None:
    """Raise `InputError` if a file is shorter than ``size`` bytes: cut while it was read,
    Polars' reader fails with an object-store error. A log that grew meanwhile is read as
    it was: its failure is another one."""
    assert source.path is not None
    try:
        now: int | None = source.path.stat().st_size
    except OSError:
        now = None
    if now is None or now < size:
        raise _changed_while_read(source.name, size, now) from None


def _run_read(lazy: pl.LazyFrame, spill: Spill | None) -> tuple[int, pl.DataFrame | Partitions]:
    """Rows read, and the records: in memory, or with ``spill`` the partitions of the IPC
    files they were streamed to (:mod:`auditor.partitions`)."""
    if spill is None:
        frame = lazy.collect(engine="streaming")
        return frame.height, frame
    directory, count = spill
    shutil.rmtree(directory, ignore_errors=True)  # what a failed first attempt left
    files = partitions.spill(lazy, directory, count)
    every = [f for part in files for f in part]
    rows = int(pl.scan_ipc(every).select(pl.len()).collect().item()) if every else 0
    return rows, Partitions(count, files=files)


def _read_ndjson(
    source: Source,
    plan: DecodePlan,
    options: ReadOptions,
    finish: Finish,
    spill: Spill | None = None,
) -> tuple[pl.DataFrame | Partitions, _LineIndex] | None:
    """The fast path: Polars' NDJSON reader on top-level keys, or None when it cannot be exact.

    The schema reads as text the keys that the first lines use and types every
    other candidate key as Null, which makes the reader fail if a later line
    uses one; then the read is retried with every key as text. It cannot be exact
    when the file has invalid JSON, non-objects or invalid UTF-8 (the reader
    fails) or blank lines (row numbers would not be line numbers): None.

    With ``spill`` (a directory and a partition count) the records go to IPC files there
    as they are read, so that memory does not grow with the input, and their partitions
    are returned; the few lines that need their raw text are redone in memory and their
    spilled rows skipped.
    """
    assert source.path is not None
    pruned = projection(plan, _sampled(source), bool(options.extracts))
    # indexing lines (Python, GIL mostly held) overlaps with the Polars read (GIL released)
    index = _INDEXER.submit(_LineIndex.build, source.path)
    whole = Projection(dict(plan.top_schema), ())
    size = source.path.stat().st_size
    read: tuple[int, pl.DataFrame | Partitions] | None = None
    for projected in (pruned, whole):
        try:
            read = _run_read(_ndjson_frame(source, plan, projected, options, finish), spill)
            break
        except pl.exceptions.PolarsError as exc:
            if "NULL-typed" not in str(exc):
                break  # not a key the sample missed: a bad line, the exact path will tell
        except OSError:
            _check_unchanged(source, size)
            raise
    if read is None or read[0] != index.result().total:
        return None
    progress.advance(size)
    frame = read[1]

    def redo(wanted: pl.Series) -> pl.DataFrame:
        # lines the top-level columns cannot make exact: decoded again from their own text
        found = index.result().fetch(wanted.to_list())
        texts = pl.Series([found[n].decode("utf-8") for n in wanted.to_list()], dtype=pl.String)
        fixed = decode_lines(texts, plan).with_columns(wanted, source=pl.lit(source.name))
        return finish(finish_records(fixed.lazy(), options)).collect()

    if isinstance(frame, Partitions):  # spilled: redone rows that differ are held in memory
        every = [f for part in frame.files for f in part]
        if not every:
            return frame, index.result()
        spilled = pl.scan_ipc(every)
        flag = _flag_typed_events(spilled.select(pl.col("event").unique()).collect()["event"])
        flagged = spilled.filter(flag).drop("needs_raw").collect()
        if flagged.is_empty():
            return frame, index.result()
        redone = redo(flagged.get_column("line")).drop("needs_raw", strict=False)
        # usually every one was right the first time (an all-digit ID that was a string):
        # kept in the spill, the partitions stay in the input's order (a cheaper sort)
        changed = redone.join(flagged, on=redone.columns, how="anti", nulls_equal=True)
        if changed.is_empty():
            return frame, index.result()
        replaced = changed.select("source_order", "line")
        return Partitions(frame.count, frame.files, [changed], replaced), index.result()
    needs_raw = frame.select(_flag_typed_events(frame.get_column("event").unique())).to_series()
    frame = frame.drop("needs_raw")
    if not needs_raw.any():
        return frame, index.result()
    positions = needs_raw.arg_true()
    redone = redo(frame.get_column("line").gather(positions))
    return _patch(frame, positions, redone), index.result()


def _raw_batch(batch: pl.DataFrame) -> pl.LazyFrame:
    """One decoded batch (:func:`_bytes_batches`) as raw columns with their source."""
    return batch.lazy().select(
        pl.col("source"),
        pl.col("line"),
        *(
            pl.col(c).cast(t) if c in batch.columns else pl.lit(None, t).alias(c)
            for c, t in RAW_SCHEMA.items()
        ),
    )


def _scan_bytes(source: Source, plan: DecodePlan) -> pl.LazyFrame:
    frames = [f for f in _bytes_batches([source], plan) if f.height]
    if not frames:
        return pl.LazyFrame(schema={"source": pl.String, "line": pl.Int64, **RAW_SCHEMA})
    return _raw_batch(pl.concat(frames, how="diagonal_relaxed"))


def _stream_texts(source: Source, numbers: set[int]) -> dict[int, str]:
    """The text of the given lines of a (compressed) file, read again up to the last one."""
    found: dict[int, str] = {}
    if numbers:
        last = max(numbers)
        with source.open() as stream:
            for number, line in enumerate(_stream_lines(stream), start=1):
                if line is None or number > last:
                    break
                if number in numbers:
                    found[number] = line.decode("utf-8").rstrip("\n")
    return found


def _shared_fetch(
    sources: Sequence[Source], orders: Sequence[int], plan: DecodePlan, options: ReadOptions
) -> keys.Fetch:
    """A fetch over files read again (:func:`_stream_texts`): the wanted lines of all of
    them decoded in one go, as their shared batches were (a decode a file cost ~20 ms:
    `--export-breaks` over a thousand small files took 40 s)."""
    source_of = dict(zip(orders, sources, strict=True))

    def fetch(wanted: pl.DataFrame) -> pl.DataFrame:
        texts: list[str] = []
        lines: list[int] = []
        names: list[str] = []
        owners: list[int] = []
        for (order,), rows in sorted(wanted.partition_by("source_order", as_dict=True).items()):
            source = source_of[int(order)]
            found = _stream_texts(source, set(rows.get_column("line").to_list()))
            for number in sorted(found):
                texts.append(found[number])
                lines.append(number)
                names.append(source.name)
                owners.append(int(order))
        decoded = decode_lines(pl.Series(texts, dtype=pl.String), plan).with_columns(
            pl.Series("line", lines, dtype=pl.Int64),
            pl.Series("source", names, dtype=pl.String),
        )
        return _fetched(decoded, options, pl.Series(owners, dtype=pl.UInt32))

    return fetch


def _fetched(decoded: pl.DataFrame, options: ReadOptions, order: int | pl.Series) -> pl.DataFrame:
    """Decoded lines (``line``, ``source`` and the raw columns) -> a fetch's rows; ``order``
    is the source order of every row, or of each."""
    orders = pl.lit(order, pl.UInt32) if isinstance(order, int) else pl.lit(order)
    return (
        finish_records(
            decoded.lazy().with_columns(orders.alias("__order")), options, keep=("__order",)
        )
        .select(
            pl.col("__order").alias("source_order"),
            "line",
            keys.item_in_line(one_per_line=True),
            *keys.FETCHED,
        )
        .collect()
    )


def _scan_source(source: Source, plan: DecodePlan, options: ReadOptions) -> pl.LazyFrame:
    if source.is_plain_file:
        fast = _read_ndjson(source, plan, options, _no_finish)
        if fast is not None:
            assert isinstance(fast[0], pl.DataFrame)  # not spilled
            return fast[0].lazy()
    return finish_records(_scan_bytes(source, plan), options)


def scan_jsonl(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """One RECORD_SCHEMA frame for JSON-lines sources, one row per non-blank line."""
    if not sources:
        return empty_records()
    plan = build_plan(options)
    frames = [_scan_source(s, plan, options) for s in sources]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _index_fetch(
    source: Source, index: _LineIndex, plan: DecodePlan, options: ReadOptions, order: int
) -> keys.Fetch:
    """A fetch that decodes the wanted lines of a file again, exactly as the read did."""

    def fetch(wanted: pl.DataFrame) -> pl.DataFrame:
        numbers = wanted.get_column("line").to_list()
        found = index.fetch(numbers)
        texts = pl.Series([found[n].decode("utf-8") for n in numbers], dtype=pl.String)
        raw = decode_lines(texts, plan).with_columns(
            pl.Series("line", numbers, dtype=pl.Int64), source=pl.lit(source.name)
        )
        return _fetched(raw, options, order)

    return fetch


def read_jsonl_compact(
    sources: Sequence[Source],
    options: ReadOptions,
    names: Sequence[str],
    spill: Spill | None = None,
) -> list[tuple[set[int], pl.DataFrame | Partitions, keys.Fetch]]:
    """Per source: its compact rows (:mod:`auditor.keys`), and the fetch of its records' text.

    A plain file is compacted in the streaming pass that reads it, so its text is
    never held in memory; with ``spill`` (a directory and a partition count) its compact
    rows are streamed to IPC files there, partitioned by session. Many small files, and
    compressed files, are decoded together in shared batches (:func:`_shared_decode`); a
    lone compressed file, or a plain file the fast path cannot read exactly (bad lines), in
    shared batches of its own (:func:`_read_shared`). Stdin, which cannot be read twice,
    is read whole (as :func:`scan_jsonl`) and held in memory with its text.
    """
    plan = build_plan(options)
    split = options.split_by is not None
    out: list[tuple[set[int], pl.DataFrame | Partitions, keys.Fetch]] = []
    shared = _shared_decode(sources)
    if shared:
        out.append(_read_shared(shared, plan, options, names, spill))
    apart = set(map(id, shared))
    order_of = keys.source_orders(names)
    for source in sources:
        if id(source) in apart:
            continue
        order = order_of[source.name]

        def finish(frame: pl.LazyFrame, name: str = source.name) -> pl.LazyFrame:
            kept = ("needs_raw",) if "needs_raw" in frame.collect_schema() else ()
            return keys.compact(frame, names, split, keep=kept, source=name, one_per_line=True)

        mine = None if spill is None else (spill[0] / str(order), spill[1])
        fast = _read_ndjson(source, plan, options, finish, mine) if source.is_plain_file else None
        if fast is not None:
            frame, index = fast
            out.append(({order}, frame, _index_fetch(source, index, plan, options, order)))
            continue
        if source.path is None:  # a stream read once: its text is kept to fetch from
            records = finish_records(_scan_bytes(source, plan), options).collect()
            compacted = keys.compact(records.lazy(), names, split, one_per_line=True).collect()
            out.append(({order}, compacted, keys.frame_fetch(records, compacted)))
            continue
        # a file that can be read again (compressed, or with bad lines): as shared batches
        out.append(_read_shared([source], plan, options, names, spill))
    return out


def _no_records(names: Sequence[str], split: bool) -> pl.DataFrame:
    """The compact frame of inputs without a record."""
    return keys.compact(empty_records(), names, split, one_per_line=True).collect()


def _shared_decode(sources: Sequence[Source]) -> list[Source]:
    """The files decoded together in shared batches, when there are two or more: compressed
    files, and plain files under ``_SMALL_FILE_BYTES``. A file's own read has fixed costs
    (a streaming pass, a spill, the decode of its flagged lines: about 50 ms) that a
    directory of a thousand small logs would pay a thousand times."""
    chosen = [s for s in sources if s.path is not None and (not s.is_plain_file or _small(s.path))]
    return chosen if len(chosen) > 1 else []


def _small(path: Path) -> bool:
    try:
        return path.stat().st_size < _SMALL_FILE_BYTES
    except OSError:
        return False  # its own read says why it cannot be read


def _read_shared(
    sources: Sequence[Source],
    plan: DecodePlan,
    options: ReadOptions,
    names: Sequence[str],
    spill: Spill | None,
) -> tuple[set[int], pl.DataFrame | Partitions, keys.Fetch]:
    """Files decoded together in batches of about ``_SHARED_BATCH_LINES`` lines or
    ``_SHARED_BATCH_CHARS`` characters (exact, as the bytes path is), compacted batch by
    batch; with ``spill`` each batch goes to IPC files partitioned by session, so that
    memory does not grow with the files' total size.

    Reading lines holds the GIL, decoding them does not: batches are decoded by two
    worker threads while the next ones are read (at most ``_SHARED_IN_FLIGHT`` held)."""
    order_of = keys.source_orders(names)
    orders = [order_of[source.name] for source in sources]
    fetch = _shared_fetch(sources, orders, plan, options)
    split = options.split_by is not None

    def work(number: int, lines: _Lines) -> pl.DataFrame | list[list[Path]]:
        raw = _raw_batch(_decode_batch(lines, sources, plan))
        batch = keys.compact(finish_records(raw, options), names, split, one_per_line=True)
        if spill is None:
            return batch.collect()
        flagged = batch.with_columns(pl.lit(False).alias(partitions.NEEDS_RAW))  # as own reads
        home = spill[0] / f"shared-{min(orders)}"  # one directory per call: a file's own too
        return partitions.spill(flagged, home / str(number), spill[1])

    done: list[pl.DataFrame | list[list[Path]]] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="jsonl-shared") as pool:
        pending: deque[Future[pl.DataFrame | list[list[Path]]]] = deque()
        batches = _line_batches(sources, _SHARED_BATCH_LINES, _SHARED_BATCH_CHARS)
        for number, lines in enumerate(batches):
            if len(lines):
                pending.append(pool.submit(work, number, lines))
            while len(pending) >= _SHARED_IN_FLIGHT:
                done.append(pending.popleft().result())
        done.extend(future.result() for future in pending)
    if spill is None:
        frames = [f for f in done if isinstance(f, pl.DataFrame)]
        if not frames:
            frames = [_no_records(names, split)]
        return set(orders), pl.concat(frames), fetch
    files: list[list[Path]] = [[] for _ in range(spill[1])]
    for written in done:
        assert isinstance(written, list)
        for k, part in enumerate(written):
            files[k].extend(part)
    return set(orders), Partitions(spill[1], files=files), fetch

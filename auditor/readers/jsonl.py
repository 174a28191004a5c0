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
   record frame finished in the same streaming pass (:func:`_read_ndjson`); exact
   for files of JSON objects without blank lines, the few flagged lines being
   decoded again from their own text;
2. anything else (invalid JSON, non-objects, blank lines, invalid UTF-8, compressed
   inputs, stdin): lines are read as bytes and decoded in batches of 100,000 by
   ``str.json_decode`` (top-level keys first, nested paths only where needed) and,
   for lines that are not ``{...}`` or a batch that fails, one by one with orjson,
   so every line gets its exact reject reason.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

import orjson
import polars as pl

from auditor import progress
from auditor.fields import ReadOptions
from auditor.readers.jsonl_plan import RAW_SCHEMA, DecodePlan, build_plan, decode_lines
from auditor.readers.normalize import finish_records
from auditor.schema import RejectReason, empty_records
from auditor.sources import Source

_BATCH_LINES = 100_000
_READ_BLOCK = 1 << 20
_SAMPLE_BYTES = 1 << 18
_COUNTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsonl-line-index")
_BLOCK = 1 << 16


#: What a cut or corrupt compressed stream raises mid-read (gzip: EOFError or BadGzipFile).
_CUT_STREAM: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error)


def _stream_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's lines (newline kept), then ``None`` when it was cut or corrupt.

    Read in blocks, so that what was decompressed before the cut is all kept; a
    partial last line comes out as it is (without newline).
    """
    # read1: one decompression step per call; read(n) would lose what it gathered on a cut
    read = getattr(stream, "read1", stream.read)
    pending = b""
    while True:
        try:
            block = read(_READ_BLOCK)
        except _CUT_STREAM + _zstd_errors():
            block, cut = b"", True
        else:
            cut = False
        if not block:
            if pending:
                yield pending
            if cut:
                yield None
            return
        parts = (pending + block).split(b"\n")
        pending = parts.pop()
        for part in parts:
            yield part + b"\n"


def _zstd_errors() -> tuple[type[BaseException], ...]:
    import zstandard

    return (zstandard.ZstdError,)


def _bytes_batches(source: Source, plan: DecodePlan) -> Iterator[pl.DataFrame]:
    """Decode a stream line by line in batches; invalid UTF-8 lines become rejects.

    A cut or corrupt compressed stream is one more `invalid_json` record: its last
    (partial) line when it has one, else a record at the line after the last one.
    """
    texts: list[str] = []
    numbers: list[int] = []
    bad_utf8: list[int] = []
    cut_at: list[int] = []

    def flush() -> pl.DataFrame:
        good = decode_lines(pl.Series(texts, dtype=pl.String), plan).with_columns(
            line=pl.Series(numbers, dtype=pl.Int64)
        )
        bad = pl.DataFrame(
            {
                "line": [*bad_utf8, *cut_at],
                "raw_reject": [RejectReason.INVALID_UTF8.value] * len(bad_utf8)
                + [RejectReason.INVALID_JSON.value] * len(cut_at),
            },
            schema={"line": pl.Int64, "raw_reject": pl.String},
        )
        out = pl.concat([good, bad], how="diagonal_relaxed").sort("line")
        texts.clear()
        numbers.clear()
        bad_utf8.clear()
        cut_at.clear()
        return out

    number = 0
    partial = False
    with source.open() as stream:
        for raw in _stream_lines(stream):
            if raw is None:
                if partial:  # the cut record is the partial line itself: make it a reject
                    if numbers and numbers[-1] == number:
                        numbers.pop()
                        texts.pop()
                    elif bad_utf8 and bad_utf8[-1] == number:
                        bad_utf8.pop()
                    cut_at.append(number)
                else:
                    cut_at.append(number + 1)
                break
            if len(texts) + len(bad_utf8) >= _BATCH_LINES:
                yield flush()  # before the line, so that a cut partial line is still held
            number += 1
            partial = not raw.endswith(b"\n")
            progress.advance(len(raw))
            if not raw.strip():
                partial = False  # a blank partial line is no record: the cut is one after it
                continue
            try:
                texts.append(raw.decode("utf-8"))
                numbers.append(number)
            except UnicodeDecodeError:
                bad_utf8.append(number)
    yield flush()


@dataclass(frozen=True, slots=True)
class _LineIndex:
    """Newlines per fixed-size block of a file: enough to count lines and to fetch a few."""

    path: Path
    cumulative: list[int]  # newlines in blocks 0..i
    lines: int  # physical lines (a last line without newline counts)

    @classmethod
    def build(cls, path: Path) -> _LineIndex:
        counts: list[int] = []
        last = b"\n"
        with path.open("rb", buffering=0) as handle:
            while block := handle.read(_BLOCK):
                counts.append(block.count(b"\n"))
                last = block[-1:]
        cumulative = list(accumulate(counts))
        total = cumulative[-1] if cumulative else 0
        return cls(path, cumulative, total + (last != b"\n"))

    def fetch(self, numbers: Sequence[int]) -> list[bytes]:
        """The text of the given 1-based lines (without the newline), in the given order."""
        out: list[bytes] = []
        with self.path.open("rb") as handle:
            for number in numbers:
                before = number - 1  # newlines before the line starts
                block = bisect_left(self.cumulative, before) if before else 0
                skip = before - (self.cumulative[block - 1] if block else 0) if before else 0
                handle.seek(block * _BLOCK)
                data = handle.read(_BLOCK)
                rest = data.split(b"\n", skip)[-1] if skip else data
                while b"\n" not in rest and (more := handle.read(_BLOCK)):
                    rest += more
                out.append(rest.split(b"\n", 1)[0])
        return out


def _sampled_keys(source: Source, plan: DecodePlan) -> set[str]:
    """Top-level keys of the plan that the first lines of the file use with a non-null value."""
    assert source.path is not None
    with source.path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    keys: set[str] = set()
    for raw in head.split(b"\n")[:-1] or [head]:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            keys.update(k for k, v in record.items() if v is not None and k in plan.top_schema)
    return keys


def _ndjson_frame(
    source: Source, plan: DecodePlan, schema: Mapping[str, pl.DataType], options: ReadOptions
) -> pl.DataFrame:
    """Read and finish the records in one streaming pass; ``needs_raw`` is kept."""
    assert source.path is not None
    raw = (
        pl.scan_ndjson(source.path, schema=schema, row_index_name="__row")
        .select(
            pl.lit(source.name).alias("source"),
            (pl.col("__row").cast(pl.Int64) + 1).alias("line"),
            *plan.top_exprs,
            # keeps the Null-typed columns in the projection, so that a key the sample
            # did not show makes the read fail instead of being skipped
            pl.any_horizontal([pl.col(k).is_not_null() for k in schema]).alias("__any"),
        )
        .drop("__any")
        .with_columns(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items())
    )
    return finish_records(raw, options, keep=("needs_raw",)).collect(engine="streaming")


def _read_ndjson(source: Source, plan: DecodePlan, options: ReadOptions) -> pl.LazyFrame | None:
    """The fast path: Polars' NDJSON reader on top-level keys, or None when it cannot be exact.

    The schema reads as text the keys that the first lines use and types every
    other candidate key as Null, which makes the reader fail if a later line
    uses one; then the read is retried with every key as text. It cannot be exact
    when the file has invalid JSON, non-objects or invalid UTF-8 (the reader
    fails) or blank lines (row numbers would not be line numbers): None.
    """
    assert source.path is not None
    sampled = _sampled_keys(source, plan)
    # indexing newlines (Python, GIL mostly held) overlaps with the Polars read (GIL released)
    index = _COUNTER.submit(_LineIndex.build, source.path)
    pruned = {k: (t if k in sampled else pl.Null()) for k, t in plan.top_schema.items()}
    frame = None
    for schema in (pruned, plan.top_schema):
        try:
            frame = _ndjson_frame(source, plan, schema, options)
            break
        except pl.exceptions.PolarsError as exc:
            if "NULL-typed" not in str(exc):
                break  # not a key the sample missed: a bad line, the exact path will tell

    if frame is None or frame.height != index.result().lines:
        return None
    progress.advance(source.path.stat().st_size)
    needs_raw = frame.get_column("needs_raw")
    if not needs_raw.any():
        return frame.lazy().drop("needs_raw")
    wanted = frame.filter(needs_raw).get_column("line")
    texts = [raw.decode("utf-8") for raw in index.result().fetch(wanted.to_list())]
    fixed = decode_lines(pl.Series(texts, dtype=pl.String), plan).with_columns(
        wanted, source=pl.lit(source.name)
    )
    # the consumer reads the unflagged rows lazily, so the big frame is never copied;
    # rows are no longer in line order, which no consumer relies on
    kept = frame.lazy().filter(~pl.col("needs_raw")).drop("needs_raw")
    return pl.concat([kept, finish_records(fixed.lazy(), options)])


def _scan_bytes(source: Source, plan: DecodePlan) -> pl.LazyFrame:
    frames = [f for f in _bytes_batches(source, plan) if f.height]
    if not frames:
        return pl.LazyFrame(schema={"source": pl.String, "line": pl.Int64, **RAW_SCHEMA})
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.lazy().select(
        pl.lit(source.name).alias("source"),
        pl.col("line"),
        *(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items()),
    )


def _scan_source(source: Source, plan: DecodePlan, options: ReadOptions) -> pl.LazyFrame:
    if source.is_plain_file:
        fast = _read_ndjson(source, plan, options)
        if fast is not None:
            return fast
    return finish_records(_scan_bytes(source, plan), options)


def scan_jsonl(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """One RECORD_SCHEMA frame for JSON-lines sources, one row per non-blank line."""
    if not sources:
        return empty_records()
    plan = build_plan(options)
    frames = [_scan_source(s, plan, options) for s in sources]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]

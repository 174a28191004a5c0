"""Compact records in partitions of whole sessions, so that the analysis holds one at a time.

A record's partition is its session key's low 64 bits modulo the partition count
(records without a user go to partition 0); every record of a session, whatever its
source, falls in the same partition. The same rule on trace keys gives rule 9's
partitions of traces.

Two kinds of storage, mixed freely:

* spilled files: a plain JSON-lines file is compacted while it is read and streamed
  to Arrow IPC files, one directory per partition (`spill_sink`); its few lines that
  need their raw text are redone (:mod:`auditor.readers.jsonl`), and the few redone rows
  that differ from their spilled row replace it (``replaced``); compressed files and
  files with bad lines are spilled batch by batch the same way;
* frames held in memory (other formats, stdin, replacing rows): each partition is a
  filter of them.
"""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from auditor import continuity
from auditor.keys import low_bits

#: Most partitions a spill writes at once (each open partition holds a buffer of its own).
MAX_SPILL_PARTITIONS = 10
#: Bytes of rule 9's trace buckets held in memory before they go to disk (`TraceBuckets`).
TRACE_MEMORY = 192_000_000
NEEDS_RAW = "needs_raw"
_PART = "__part"


def partition_of(key: str, count: int) -> pl.Expr:
    """The partition of a UInt128 key column (its low 64 bits modulo ``count``; null: 0)."""
    return (low_bits(key) % count).cast(pl.UInt32).fill_null(0)


def is_event() -> pl.Expr:
    """Accepted records with a user and a thread: the events the rules run on."""
    accepted = pl.col("reject_reason").is_null()
    return accepted & pl.col("session_key").is_not_null() & pl.col("thread_key").is_not_null()


def _traced() -> pl.Expr:
    return is_event() & pl.col("trace_key").is_not_null()


def _one_of(rows: pl.DataFrame) -> pl.Expr:
    """True on the records at the ``(source_order, line)`` of ``rows`` (few)."""
    by_source = rows.group_by("source_order").agg("line").iter_rows()
    return pl.any_horizontal(
        (pl.col("source_order") == order) & pl.col("line").is_in(lines)
        for order, lines in by_source
    )


def spill_sink(frame: pl.LazyFrame, count: int) -> pl.LazyFrame:
    """A compact frame with its session partition, the key :func:`spill_target` splits by."""
    return frame.with_columns(partition_of("session_key", count).alias(_PART))


def spill_target(directory: Path, file_bytes: int = 2_000_000) -> pl.PartitionBy:
    """Where :func:`spill_sink`'s frame goes: one directory of IPC files per session partition."""
    # smallish files: each open partition buffers about a file's worth before it writes,
    # and each file read costs a little
    return pl.PartitionBy(
        directory, key=_PART, include_key=False, approximate_bytes_per_file=file_bytes
    )


def spill(frame: pl.LazyFrame, directory: Path, count: int) -> list[list[Path]]:
    """Stream a compact frame to IPC files under ``directory``, one directory per session
    partition (:func:`spill_sink`, :func:`spill_target`); the files of each partition."""
    spill_sink(frame, count).sink_ipc(spill_target(directory), mkdir=True)
    return spilled_files(directory, count)


def spilled_files(directory: Path, count: int) -> list[list[Path]]:
    """The IPC files of each session partition written under ``directory``."""
    return [sorted(directory.glob(f"{_PART}={k}/*.ipc")) for k in range(count)]


@dataclass(frozen=True, slots=True)
class Partitions:
    """Compact records (:mod:`auditor.keys`) in ``count`` partitions of whole sessions."""

    count: int
    files: list[list[Path]] = field(default_factory=list)  # per partition, spilled IPC files
    frames: list[pl.DataFrame] = field(default_factory=list)  # held in memory, any partition
    # `(source_order, line)` of spilled rows replaced by a row in `frames` (their exact decoding)
    replaced: pl.DataFrame | None = None
    scratch: Path | None = None  # where split partitions and trace buckets go (None: memory)
    trace_buckets: int = 1  # how many partitions of trace keys rule 9 uses

    @classmethod
    def of_frame(cls, frame: pl.DataFrame) -> Partitions:
        """A frame held in memory, in as many partitions as its events need."""
        events = int(frame.select(is_event().sum()).item() or 0)
        count = continuity.partitions(events)
        return cls(count, frames=[frame], trace_buckets=count)

    def pieces(self) -> Iterator[pl.DataFrame]:
        """The records, whole sessions at a time, each piece about `continuity.PARTITION_ROWS`
        rows at most: a partition larger than that (spilled partitions are few, so that the
        spill's buffers stay small) is split again by the next bits of its session keys,
        through IPC files under ``scratch`` (so that memory holds one piece)."""
        for k in range(self.count):
            part = self.part(k)
            if part is None:
                continue
            rows = int(part.select(pl.len()).collect().item())
            if rows == 0:
                continue
            # split only when clearly too large: a split costs a write and a read of the rows
            splits = continuity.partitions(rows) if rows > 2 * continuity.PARTITION_ROWS else 1
            if splits == 1 or self.scratch is None:
                yield part.collect()
                continue
            sub = (
                ((low_bits("session_key") // self.count) % splits)
                .fill_null(0)
                .cast(pl.UInt32)
                .alias(_PART)
            )
            directory = self.scratch / f"split-{k}"
            part.with_columns(sub).sink_ipc(spill_target(directory), mkdir=True)
            for files in spilled_files(directory, splits):
                if files:
                    yield pl.scan_ipc(files).collect()
            shutil.rmtree(directory, ignore_errors=True)

    def _spilled(self, paths: Sequence[Path]) -> pl.LazyFrame:
        scan = pl.scan_ipc(list(paths))
        if self.replaced is not None:
            scan = scan.filter(~_one_of(self.replaced))
        return scan.drop(NEEDS_RAW)

    def part(self, k: int) -> pl.LazyFrame | None:
        """Every record of partition ``k``; None when nothing was stored for it."""
        pieces = [self._spilled(self.files[k])] if self.files and self.files[k] else []
        for frame in self.frames:
            lazy = frame.lazy()
            if self.count > 1:
                lazy = lazy.filter(partition_of("session_key", self.count) == k)
            pieces.append(lazy)
        if not pieces:
            return None
        return pl.concat(pieces, how="diagonal_relaxed") if len(pieces) > 1 else pieces[0]


class TraceBuckets:
    """Rule 9 by partitions of trace keys: the traced events of each session partition are
    dropped into buckets by trace partition, then each bucket is counted on its own: a
    trace's events all fall in one bucket.

    The buckets are frames held in memory while they weigh at most ``memory`` bytes in all
    (32 bytes an event: 160 MB for 5 million); past that, with a ``scratch`` directory,
    everything held and everything after goes to IPC files there (memory stays bounded).
    """

    def __init__(self, count: int, scratch: Path | None, memory: int = TRACE_MEMORY) -> None:
        self._count = count
        self._scratch = None if scratch is None else scratch / "traces"
        self._memory = memory
        self._held: dict[int, list[pl.DataFrame]] = {}
        self._held_bytes = 0
        self._on_disk = False
        self._names = itertools.count()  # file names; `add` may run in several threads
        self._lock = threading.Lock()

    def add(self, piece: pl.DataFrame) -> None:
        """The events with a trace of one partition of records."""
        traced = piece.filter(_traced()).select(
            partition_of("trace_key", self._count).alias(_PART), "trace_key", "thread_key"
        )
        buckets = {
            int(q): b.drop(_PART) for (q,), b in traced.partition_by(_PART, as_dict=True).items()
        }
        with self._lock:
            size = sum(int(b.estimated_size()) for b in buckets.values())
            if self._scratch is None or (
                not self._on_disk and self._held_bytes + size <= self._memory
            ):
                for q, rows in buckets.items():
                    self._held.setdefault(q, []).append(rows)
                self._held_bytes += size
                return
            if not self._on_disk:  # the budget is spent: what is held goes to disk first
                for q, held in self._held.items():
                    for rows in held:
                        self._write(q, rows)
                self._held.clear()
                self._held_bytes = 0
                self._on_disk = True
        for q, rows in buckets.items():
            self._write(q, rows)

    def _write(self, q: int, rows: pl.DataFrame) -> None:
        assert self._scratch is not None
        directory = self._scratch / str(q)
        directory.mkdir(parents=True, exist_ok=True)
        rows.write_ipc(directory / f"{next(self._names)}.ipc")

    def _bucket(self, q: int) -> pl.LazyFrame | None:
        held = [rows.lazy() for rows in self._held.get(q, [])]
        if self._scratch is not None and (files := sorted((self._scratch / str(q)).glob("*.ipc"))):
            held.append(pl.scan_ipc(files))
        return pl.concat(held) if held else None

    def split_count(self) -> int:
        """How many trace keys carry two or more distinct threads (rule 9)."""
        buckets = [b for b in map(self._bucket, range(self._count)) if b is not None]
        counts = [continuity.split_traces(b, "trace_key").select(pl.len()) for b in buckets]
        return sum(int(frame.item()) for frame in pl.collect_all(counts))

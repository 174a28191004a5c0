"""Readers: one module per input format, each returning the normalized record frame.

Every reader has the signature ``scan_<format>(sources, options) -> pl.LazyFrame``
with the columns and types of :data:`auditor.schema.RECORD_SCHEMA`.
:func:`scan_sources` dispatches, detecting each source's format with ``auto``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from auditor import continuity, keys
from auditor.errors import UsageError
from auditor.fields import ReadOptions
from auditor.partitions import MAX_SPILL_PARTITIONS, Partitions
from auditor.readers.containers import WRAPPERS, wrapped
from auditor.schema import empty_records
from auditor.sources import Source, estimated_lines

#: The module of each format's ``scan_<fmt>`` reader (the wrapped logs' is containers.py).
_READER_MODULES: dict[str, str] = {
    "jsonl": "jsonl",
    "json": "json_docs",
    "otlp": "otlp",
    "gcp": "gcp",
    "jaeger": "jaeger",
    "zipkin": "zipkin",
    "console": "console",
    **dict.fromkeys(WRAPPERS, "containers"),
}

FORMATS: tuple[str, ...] = ("auto", *_READER_MODULES)

Reader = Callable[[Sequence[Source], ReadOptions], pl.LazyFrame]


def reader_for(fmt: str) -> Reader:
    """The ``scan_<fmt>`` function of a format name (not ``auto``)."""
    module = _READER_MODULES.get(fmt)
    if module is None:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    # imported on demand: a run pays only for the readers its inputs need
    reader: Reader = getattr(importlib.import_module(f"auditor.readers.{module}"), f"scan_{fmt}")
    return reader


def group_by_format(
    sources: Sequence[Source], fmt: str, options: ReadOptions | None = None
) -> dict[str, list[Source]]:
    """Sources per format, in order of first appearance (``auto`` detects each source; a
    record naming a user or a thread where ``options`` look for them is the app's own)."""
    if fmt != "auto":
        reader_for(fmt)  # reject an unknown name before reading anything
        return {fmt: list(sources)} if sources else {}
    from auditor.inputs import spool
    from auditor.readers.detect import detect_format

    ids = (
        ()
        if options is None
        else (*options.candidates["user_id"], *options.candidates["thread_id"])
    )
    groups: dict[str, list[Source]] = {}
    for source in sources:
        if source.path is None:  # detection reads the head: the stream must be readable twice
            source = spool(source.open(), source.name)
        groups.setdefault(detect_format(source, ids), []).append(source)
    return groups


def scan_sources(sources: Sequence[Source], fmt: str, options: ReadOptions) -> pl.LazyFrame:
    """One record frame for all sources (``fmt="auto"`` detects each source's format).

    Frames of several sources and formats are concatenated as they come; ordering
    events in time is the analysis' job.
    """
    frames = [
        reader_for(name)(group, options)
        for name, group in group_by_format(sources, fmt, options).items()
    ]
    if not frames:
        return empty_records()
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")


def _estimated_partitions(sources: Sequence[Source]) -> int:
    """How many partitions the records of these sources need, estimated from the plain
    files' sizes and the line length of their first bytes."""
    lines = 0
    for source in sources:
        if source.path is not None and source.compression is None:  # plain, or a container's
            lines += estimated_lines(source.path)
    return continuity.partitions(lines)


def read_compact(
    sources: Sequence[Source],
    fmt: str,
    options: ReadOptions,
    names: Sequence[str],
    spill_dir: Path | None = None,
) -> tuple[pl.DataFrame | Partitions, keys.Fetch]:
    """The compact records (:mod:`auditor.keys`) of all sources, and the fetch of records' text.

    ``names`` are the distinct source names in input order (``source_order``). JSON-lines
    files are compacted while they are read; the other formats' readers build their
    record frame in memory anyway, which then serves the fetch. With ``spill_dir``,
    plain JSON-lines files are compacted to IPC files there, partitioned by session, and
    the records are :class:`Partitions` (those files, and the frames held in memory).
    """
    split = options.split_by is not None
    order_of = keys.source_orders(names)
    buckets = 1
    parts: list[tuple[set[int], pl.DataFrame | Partitions, keys.Fetch]] = []
    for name, group in group_by_format(sources, fmt, options).items():
        if name == "jsonl" or name in WRAPPERS:
            from auditor.readers.jsonl import read_jsonl_compact

            group = wrapped(group, name) if name in WRAPPERS else group
            buckets = _estimated_partitions(group)
            # the spill writes few partitions (the analysis splits them further)
            spill = None if spill_dir is None else (spill_dir, min(buckets, MAX_SPILL_PARTITIONS))
            parts.extend(read_jsonl_compact(group, options, names, spill))
            continue
        records = reader_for(name)(group, options).collect()
        compacted = keys.compact(records.lazy(), names, split).collect()
        parts.append(
            ({order_of[s.name] for s in group}, compacted, keys.frame_fetch(records, compacted))
        )
    fetch = keys.combined_fetch([(orders, fetch) for orders, _, fetch in parts])
    if not parts:
        return keys.compact(empty_records(), names, split).collect(), fetch
    frames = [f for _, f, _ in parts if isinstance(f, pl.DataFrame)]
    spilled = [f for _, f, _ in parts if isinstance(f, Partitions)]
    if not spilled:
        return pl.concat(frames, how="vertical_relaxed"), fetch
    count = spilled[0].count
    assert spill_dir is not None  # only a spill makes partitions
    replaced = [s.replaced for s in spilled if s.replaced is not None]
    return Partitions(
        count,
        files=[[f for s in spilled for f in s.files[k]] for k in range(count)],
        frames=[*frames, *(f for s in spilled for f in s.frames)],
        replaced=pl.concat(replaced) if replaced else None,
        scratch=spill_dir / "scratch",
        trace_buckets=buckets,
    ), fetch

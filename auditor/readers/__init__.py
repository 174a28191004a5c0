"""Readers: one module per input format, each returning the normalized record frame.

Every reader has the signature ``scan_<format>(sources, options) -> pl.LazyFrame``
with the columns and types of :data:`auditor.schema.RECORD_SCHEMA`.
:func:`scan_sources` dispatches, detecting each source's format with ``auto``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from auditor import keys
from auditor.errors import UsageError
from auditor.fields import ReadOptions
from auditor.schema import empty_records
from auditor.sources import Source

FORMATS: tuple[str, ...] = ("auto", "jsonl", "otlp", "gcp", "jaeger", "zipkin", "console")

Reader = Callable[[Sequence[Source], ReadOptions], pl.LazyFrame]


def reader_for(fmt: str) -> Reader:
    """The ``scan_<fmt>`` function of a format name (not ``auto``)."""
    # Imported on demand: a run pays only for the readers its inputs need.
    if fmt == "jsonl":
        from auditor.readers.jsonl import scan_jsonl

        return scan_jsonl
    if fmt == "otlp":
        from auditor.readers.otlp import scan_otlp

        return scan_otlp
    if fmt == "gcp":
        from auditor.readers.gcp import scan_gcp

        return scan_gcp
    if fmt == "jaeger":
        from auditor.readers.jaeger import scan_jaeger

        return scan_jaeger
    if fmt == "zipkin":
        from auditor.readers.zipkin import scan_zipkin

        return scan_zipkin
    if fmt == "console":
        from auditor.readers.console import scan_console

        return scan_console
    raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def group_by_format(sources: Sequence[Source], fmt: str) -> dict[str, list[Source]]:
    """Sources per format, in order of first appearance (``auto`` detects each source)."""
    if fmt != "auto":
        reader_for(fmt)  # reject an unknown name before reading anything
        return {fmt: list(sources)} if sources else {}
    from auditor.inputs import spool
    from auditor.readers.detect import detect_format

    groups: dict[str, list[Source]] = {}
    for source in sources:
        if source.path is None:  # detection reads the head: the stream must be readable twice
            source = spool(source.open(), source.name)
        groups.setdefault(detect_format(source), []).append(source)
    return groups


def scan_sources(sources: Sequence[Source], fmt: str, options: ReadOptions) -> pl.LazyFrame:
    """One record frame for all sources (``fmt="auto"`` detects each source's format).

    Frames of several sources and formats are concatenated as they come; ordering
    events in time is the analysis' job.
    """
    frames = [
        reader_for(name)(group, options) for name, group in group_by_format(sources, fmt).items()
    ]
    if not frames:
        return empty_records()
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")


def read_compact(
    sources: Sequence[Source],
    fmt: str,
    options: ReadOptions,
    names: Sequence[str],
    spill_dir: Path | None = None,
) -> tuple[pl.DataFrame | pl.LazyFrame, keys.Fetch]:
    """The compact frame (:mod:`auditor.keys`) of all sources, and the fetch of records' text.

    ``names`` are the distinct source names in input order (``source_order``). JSON-lines
    files are compacted while they are read; the other formats' readers build their
    record frame in memory anyway, which then serves the fetch. With ``spill_dir``,
    plain JSON-lines files are compacted to Parquet files there and the frame is lazy.
    """
    split = options.split_by is not None
    parts: list[tuple[set[int], pl.DataFrame | pl.LazyFrame, keys.Fetch]] = []
    for name, group in group_by_format(sources, fmt).items():
        if name == "jsonl":
            from auditor.readers.jsonl import read_jsonl_compact

            parts.extend(read_jsonl_compact(group, options, names, spill_dir))
            continue
        records = reader_for(name)(group, options).collect()
        compacted = keys.compact(records.lazy(), names, split).collect()
        parts.append(
            ({names.index(s.name) for s in group}, compacted, keys.frame_fetch(records, names))
        )
    if not parts:
        empty = keys.compact(empty_records(), names, split).collect()
        return empty, keys.combined_fetch([])
    eager = [f for _, f, _ in parts if isinstance(f, pl.DataFrame)]
    if len(eager) == len(parts):
        return pl.concat(eager, how="vertical_relaxed"), keys.combined_fetch(
            [(orders, fetch) for orders, _, fetch in parts]
        )
    # some are spilled: a lazy frame over all
    frame = pl.concat([f.lazy() for _, f, _ in parts], how="vertical_relaxed")
    return frame, keys.combined_fetch([(orders, fetch) for orders, _, fetch in parts])

"""Readers: one module per input format, each returning the normalized record frame.

Every reader has the signature ``scan_<format>(sources, options) -> pl.LazyFrame``
with the columns and types of :data:`auditor.schema.RECORD_SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.sources import Source

FORMATS: tuple[str, ...] = ("auto", "jsonl", "otlp", "gcp", "jaeger", "zipkin", "console")


def scan_sources(sources: Sequence[Source], fmt: str, options: ReadOptions) -> pl.LazyFrame:
    """One record frame for all sources (``fmt="auto"`` detects each source's format).

    INTERIM (skeleton): JSON lines only; the readers helper adds detection and the
    other formats behind this same signature.
    """
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(sources, options)

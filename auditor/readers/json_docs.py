"""Plain records in JSON documents: a top-level array of records (``jq -s``, the JSON
exports of log search UIs), or pretty-printed objects one after another.

The records are what a JSON-lines file holds, only laid out over lines differently: each
object (each element of a top-level array) is one record at the line where it starts.
Its own text is decoded by the JSON-lines decoder (`jsonl_plan.decode_lines`), so that
it reads exactly as the same record on one line would: the same candidates and
containers, `--map`, `--extract`, types and repeated keys. A broken document is one
``invalid_json`` record, an element that is not an object one ``not_an_object``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from auditor import progress
from auditor.fields import ReadOptions
from auditor.readers.documents import iter_documents, read_text
from auditor.readers.jsonl_plan import RAW_SCHEMA, build_plan, decode_lines
from auditor.readers.normalize import finish_records
from auditor.schema import empty_records
from auditor.sources import Source


def _raw(source: Source, options: ReadOptions) -> pl.DataFrame:
    """The raw columns of one source's documents, in document order."""
    text = read_text(source)
    good: dict[str, list[Any]] = {"__pos": [], "line": [], "text": []}
    bad: dict[str, list[Any]] = {"__pos": [], "line": [], "raw_reject": []}
    for position, document in enumerate(iter_documents(text, explode_arrays=True)):
        if document.reject is not None:
            bad["__pos"].append(position)
            bad["line"].append(document.line)
            bad["raw_reject"].append(document.reject.value)
        else:
            start, end = document.span
            good["__pos"].append(position)
            good["line"].append(document.line)
            good["text"].append(text.text[start:end])
    progress.advance(source.path.stat().st_size if source.path else len(text.text))
    texts = pl.Series(good.pop("text"), dtype=pl.String)
    decoded = decode_lines(texts, build_plan(options)).with_columns(
        pl.Series("__pos", good["__pos"], dtype=pl.Int64),
        pl.Series("line", good["line"], dtype=pl.Int64),
    )
    rejected = pl.DataFrame(
        bad, schema={"__pos": pl.Int64, "line": pl.Int64, "raw_reject": pl.String}
    )
    return (
        pl.concat([decoded, rejected], how="diagonal_relaxed")
        .sort("__pos")
        .select(
            pl.lit(source.name).alias("source"),
            "line",
            *(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items()),
        )
    )


def scan_json(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Records of JSON documents (arrays of records, or pretty-printed records)."""
    frames = [_raw(source, options) for source in sources]
    if not frames:
        return empty_records()
    return finish_records(pl.concat(frames, how="vertical").lazy(), options)

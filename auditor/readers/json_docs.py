"""Plain records in JSON documents: a top-level array of records (``jq -s``, the JSON
exports of log search UIs), or pretty-printed objects one after another.

The records are what a JSON-lines file holds, only laid out over lines differently: each
object (each element of a top-level array) is one record at the line where it starts,
its fields found exactly as in JSON lines (`auditor.fields`). A broken document is one
``invalid_json`` record, an element that is not an object one ``not_an_object``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder
from auditor.schema import RejectReason
from auditor.sources import Source


def add_record(builder: RecordBuilder, where: tuple[str, int], record: object) -> None:
    """Add one plain record (rejected when it is not an object)."""
    if not isinstance(record, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    builder.add(*where, [record])


def scan_json(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Records of JSON documents (arrays of records, or pretty-printed records)."""
    return scan_documents(sources, options, add_record, explode_arrays=True)

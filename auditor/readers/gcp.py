"""Google Cloud Logging entries: ``gcloud logging read --format=json`` arrays or sink JSON lines.

Fields are looked up in ``jsonPayload``, then ``labels``, then the entry itself
(so ``--map`` can name ``resource.labels.pod_name``). The format's own fields:
``timestamp`` (``receiveTimestamp`` when absent), ``trace`` as
``projects/P/traces/ID``, ``spanId``, and ``textPayload`` as the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder
from auditor.schema import RejectReason
from auditor.sources import Source


def add_entry(builder: RecordBuilder, where: tuple[str, int], entry: object) -> None:
    """Add one ``LogEntry`` (rejected when it is not an object or its payloads are malformed)."""
    if not isinstance(entry, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    payload = entry.get("jsonPayload")
    labels = entry.get("labels")
    if not isinstance(payload, Mapping | None) or not isinstance(labels, Mapping | None):
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    scopes: list[Mapping[str, object]] = [payload or {}, labels or {}, entry]
    timestamp = entry.get("timestamp")
    natives = {
        "ts": entry.get("receiveTimestamp") if timestamp in (None, "") else timestamp,
        "trace_id": entry.get("trace"),
        "span_id": entry.get("spanId"),
        "message": entry.get("textPayload"),
    }
    builder.add(*where, scopes, natives)


def scan_gcp(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Log entries of Cloud Logging exports (a JSON array, or one entry per line)."""
    return scan_documents(sources, options, add_entry, explode_arrays=True)

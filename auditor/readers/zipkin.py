"""Zipkin v2 JSON: an array of spans (``/api/v2/trace/ID``), or of traces (``/api/v2/traces``).

A record is a span. Fields are looked up in ``tags``, then the local endpoint
(``serviceName`` as ``service.name``), then the span itself. The format's own
fields: ``name``, ``timestamp`` (microseconds), ``traceId``, ``id``. Tag values
are strings by the spec; any other type in an ID field is ``wrong_type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder
from auditor.schema import RejectReason
from auditor.sources import Source


def _add_span(builder: RecordBuilder, where: tuple[str, int], span: object) -> None:
    if not isinstance(span, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    span_tags = span.get("tags") or {}
    endpoint = span.get("localEndpoint") or {}
    if not isinstance(span_tags, Mapping) or not isinstance(endpoint, Mapping):
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    local: dict[str, object] = dict(endpoint)
    if "serviceName" in endpoint:
        local["service.name"] = endpoint["serviceName"]
    natives = {
        "ts": span.get("timestamp"),
        "event": span.get("name"),
        "trace_id": span.get("traceId"),
        "span_id": span.get("id"),
    }
    builder.add(*where, (span_tags, local, span), natives, ts_unit="us")


def add_document(builder: RecordBuilder, where: tuple[str, int], document: object) -> None:
    """Add one span, or each span of a trace (a list) found at ``where``."""
    if isinstance(document, list):
        for span in document:
            _add_span(builder, where, span)
    else:
        _add_span(builder, where, document)


def scan_zipkin(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Spans of Zipkin v2 JSON sources (arrays of spans or traces; JSON lines also read)."""
    return scan_documents(sources, options, add_document, explode_arrays=True)

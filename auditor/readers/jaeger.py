"""Jaeger JSON: the query API's ``{"data": [trace, ...]}`` or a bare trace.

A record is a span. Fields are looked up in the span's tags, then its process's
tags (with ``serviceName`` as ``service.name``), then the span itself. The
format's own fields: ``operationName``, ``startTime`` (microseconds),
``traceID``, ``spanID``. Typed tag values (``int64``, ``bool``, ``float64``)
become strings. Jaeger v2's OTLP output is read by the ``otlp`` reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder, scalar_text
from auditor.schema import RejectReason
from auditor.sources import Source


class _Malformed(Exception):
    """A part of the trace breaks Jaeger's structure (one `invalid_record`)."""


def tags(values: object) -> dict[str, object]:
    """Jaeger ``[{"key", "type", "value"}]`` tags as a dict, typed scalars as strings."""
    if values is None:
        return {}
    if not isinstance(values, list):
        raise _Malformed
    result: dict[str, object] = {}
    for tag in values:
        if not isinstance(tag, Mapping) or not isinstance(tag.get("key"), str):
            raise _Malformed
        result[tag["key"]] = scalar_text(tag.get("value"))
    return result


def _process_scope(process: object) -> dict[str, object]:
    """A process's tags, with its ``serviceName`` as ``service.name``."""
    if not isinstance(process, Mapping):
        raise _Malformed
    scope = tags(process.get("tags"))
    if isinstance(process.get("serviceName"), str):
        scope.setdefault("service.name", process["serviceName"])
    return scope


def _processes(trace: Mapping[str, object]) -> dict[str, dict[str, object]]:
    processes = trace.get("processes")
    if processes is None:
        return {}
    if not isinstance(processes, Mapping):
        raise _Malformed
    return {key: _process_scope(process) for key, process in processes.items()}


def _add_span(
    builder: RecordBuilder,
    where: tuple[str, int],
    span: object,
    processes: Mapping[str, dict[str, object]],
) -> None:
    if not isinstance(span, Mapping):
        raise _Malformed
    process = span.get("process")
    if isinstance(process, Mapping):  # some exports inline the process instead of a processID
        process_scope = _process_scope(process)
    else:
        process_scope = processes.get(str(span.get("processID")), {})
    natives = {
        "ts": span.get("startTime"),
        "event": span.get("operationName"),
        "trace_id": span.get("traceID"),
        "span_id": span.get("spanID"),
    }
    builder.add(*where, (tags(span.get("tags")), process_scope, span), natives, ts_unit="us")


def _add_trace(builder: RecordBuilder, where: tuple[str, int], trace: object) -> None:
    if not isinstance(trace, Mapping) or not isinstance(trace.get("spans"), list):
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    try:
        processes = _processes(trace)
    except _Malformed:
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    for span in trace["spans"]:
        try:
            _add_span(builder, where, span, processes)
        except _Malformed:
            builder.reject(*where, RejectReason.INVALID_RECORD)


def add_document(builder: RecordBuilder, where: tuple[str, int], document: object) -> None:
    """Add the spans of a ``{"data": [...]}`` response, a bare trace, or a list of traces."""
    if isinstance(document, list):
        for trace in document:
            _add_trace(builder, where, trace)
        return
    if not isinstance(document, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    if "data" not in document:
        _add_trace(builder, where, document)
        return
    traces = document["data"]
    if not isinstance(traces, list):
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    for trace in traces:
        _add_trace(builder, where, trace)


def scan_jaeger(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Spans of Jaeger JSON sources."""
    return scan_documents(sources, options, add_document)

"""A fast OTLP/JSON lines span exporter: the Collector file exporter's format, encoded with orjson.

`opentelemetry-exporter-otlp-json-file` writes the same format, but its encoder
builds intermediate protobuf-JSON objects and costs about 22 us per span here
(benchmarks/handlers_bench.py), a third of the whole per-message budget. This
exporter builds the OTLP/JSON mapping (lowerCamelCase keys, hex IDs, 64-bit
integers as strings, enums as integers) directly; a test checks that it writes
what the reference exporter writes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind

_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200


def encode_value(value: Any) -> dict[str, Any]:
    """An OTLP `AnyValue` in its JSON mapping (int64 as a decimal string)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        import base64

        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    return {}


def encode_attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """OTLP `KeyValue` list."""
    if not attributes:
        return []
    return [{"key": key, "value": encode_value(value)} for key, value in attributes.items()]


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)


def encode_span(span: ReadableSpan) -> dict[str, Any]:
    """One OTLP/JSON `Span`."""
    context = span.get_span_context()
    out: dict[str, Any] = {
        "traceId": format(context.trace_id, "032x") if context else "",
        "spanId": format(context.span_id, "016x") if context else "",
    }
    if context is not None and context.trace_state:
        out["traceState"] = ",".join(f"{k}={v}" for k, v in context.trace_state.items())
    if span.parent is not None:
        out["parentSpanId"] = format(span.parent.span_id, "016x")
    out["flags"] = _flags(span.parent)
    out["name"] = span.name
    out["kind"] = _KIND[span.kind]
    out["startTimeUnixNano"] = str(span.start_time or 0)
    out["endTimeUnixNano"] = str(span.end_time or 0)
    if span.attributes:
        out["attributes"] = encode_attributes(span.attributes)
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                **({"attributes": encode_attributes(event.attributes)} if event.attributes else {}),
            }
            for event in span.events
        ]
    if span.links:
        out["links"] = [
            {
                "traceId": format(link.context.trace_id, "032x"),
                "spanId": format(link.context.span_id, "016x"),
                **({"attributes": encode_attributes(link.attributes)} if link.attributes else {}),
                "flags": _flags(link.context),
            }
            for link in span.links
        ]
    status: dict[str, Any] = {}
    if span.status.status_code.value:
        status["code"] = span.status.status_code.value
    if span.status.description:
        status["message"] = span.status.description
    out["status"] = status
    for key, count in (
        ("droppedAttributesCount", span.dropped_attributes),
        ("droppedEventsCount", span.dropped_events),
        ("droppedLinksCount", span.dropped_links),
    ):
        if count:
            out[key] = count
    return out


def _encode_scope(scope: InstrumentationScope | None) -> dict[str, Any]:
    if scope is None:
        return {}
    out: dict[str, Any] = {"name": scope.name}
    if scope.version:
        out["version"] = scope.version
    return out


def encode_traces(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """One OTLP/JSON `TracesData` for a batch, grouped by resource and scope."""
    groups: dict[int, tuple[Resource, dict[Any, list[dict[str, Any]]]]] = {}
    for span in spans:
        resource = span.resource
        _, scopes = groups.setdefault(id(resource), (resource, {}))
        scopes.setdefault(span.instrumentation_scope, []).append(encode_span(span))
    resource_spans = []
    for resource, scopes in groups.values():
        scope_spans = []
        for scope, encoded in scopes.items():
            entry: dict[str, Any] = {"scope": _encode_scope(scope), "spans": encoded}
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scope_spans.append(entry)
        item: dict[str, Any] = {
            "resource": {"attributes": encode_attributes(resource.attributes)},
            "scopeSpans": scope_spans,
        }
        if resource.schema_url:
            item["schemaUrl"] = resource.schema_url
        resource_spans.append(item)
    return {"resourceSpans": resource_spans}


class JsonLinesSpanExporter(SpanExporter):
    """Appends one `TracesData` JSON object per exported batch to a file (or a text stream)."""

    def __init__(self, path: Path | None = None, *, stream: IO[bytes] | None = None) -> None:
        if (path is None) == (stream is None):
            raise ValueError("give exactly one of path or stream")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream: IO[bytes] = path.open("ab")
            self._owns = True
        else:
            assert stream is not None
            self._stream = stream
            self._owns = False
        self._lock = threading.Lock()
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        if not spans:
            return SpanExportResult.SUCCESS
        line = orjson.dumps(encode_traces(spans)) + b"\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns:
            with self._lock:
                self._stream.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

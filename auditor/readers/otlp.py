"""OTLP/JSON traces and logs: the Collector file exporter's JSON lines or one pretty document.

A record is a span or a log record. Attribute values are OTLP ``AnyValue``s:
scalars become strings (``intValue`` given as a string or a number alike),
``arrayValue``/``kvlistValue`` become lists/dicts (so an ID held in one is
``wrong_type``, and ``--map`` can reach inside a kvlist).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder, double_text
from auditor.schema import RejectReason
from auditor.sources import Source

_SCOPE_SPANS = ("scopeSpans", "instrumentationLibrarySpans")
_SCOPE_LOGS = ("scopeLogs", "instrumentationLibraryLogs")
_SPAN_SCOPE_KEYS = frozenset(_SCOPE_SPANS)
_SCOPE_KEYS = frozenset({*_SCOPE_SPANS, *_SCOPE_LOGS})
_ROOTS = frozenset({"resourceSpans", "resourceLogs"})
#: Roots of documents that hold no span and no log record: they add no record.
_OTHER_SIGNALS = frozenset({"resourceMetrics", "resourceProfiles"})
#: The same keys as protobuf's field names (instead of lowerCamelCase).
_SNAKE_DOCUMENT_ROOTS = frozenset(
    {"resource_spans", "resource_logs", "resource_metrics", "resource_profiles"}
)
_SNAKE_SCOPE_KEYS = frozenset(
    {"scope_spans", "scope_logs", "instrumentation_library_spans", "instrumentation_library_logs"}
)
#: A document (or one group) with one of these is written with protobuf's field names.
_SNAKE_ROOTS = _SNAKE_DOCUMENT_ROOTS | _SNAKE_SCOPE_KEYS
#: Every root of an OTLP document, and every key of one group, in either key style.
_ANY_ROOT = _ROOTS | _OTHER_SIGNALS | _SNAKE_DOCUMENT_ROOTS
_ANY_SCOPE_KEY = _SCOPE_KEYS | _SNAKE_SCOPE_KEYS
_GROUP_KEYS = _ANY_SCOPE_KEY | {"resource", "schemaUrl", "schema_url"}
#: Wrappers of a ``TracesData``: Jaeger v2's ``/api/v3`` (``{"result": ...}``), Tempo's
#: ``/api/v2/traces`` (``{"trace": ..., "status": ...}``).
_WRAPPERS = ("result", "trace")


def _is_group(value: object) -> bool:
    """One ``ResourceSpans``/``ResourceLogs`` on its own: its scope groups, no other key."""
    return (
        isinstance(value, dict)
        and bool(value.keys() & _ANY_SCOPE_KEY)
        and value.keys() <= _GROUP_KEYS
    )


def is_otlp_document(value: object) -> bool:
    """Whether a parsed JSON value is one of the OTLP shapes :func:`add_document` reads (for
    format detection, which must not take a log line for one: a lone group has nothing
    but a group's keys): a document of any signal, a wrapped one, Tempo's ``batches``."""
    if not isinstance(value, dict):
        return False
    if value.keys() & _ANY_ROOT or _is_group(value):
        return True
    for wrapper in _WRAPPERS:
        inner = value.get(wrapper)
        if isinstance(inner, dict) and inner.keys() & _ANY_ROOT:
            return True
    batches = value.get("batches")
    return isinstance(batches, list) and bool(batches) and all(map(_is_group, batches))


class _Malformed(Exception):
    """A part of the document breaks the OTLP structure (one `invalid_record`)."""


def any_value(value: object) -> object:
    """A Python value for an OTLP ``AnyValue``: scalars as strings, arrays/kvlists as list/dict."""
    if type(value) is not dict:  # JSON objects are dicts; the ABC check costs 5x more
        raise _Malformed
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        flag = value["boolValue"]
        return ("true" if flag else "false") if isinstance(flag, bool) else str(flag)
    if "doubleValue" in value:
        return double_text(value["doubleValue"])
    for key in ("intValue", "bytesValue"):
        if key in value:
            return str(value[key])
    if "arrayValue" in value:
        items = value["arrayValue"] or {}
        if not isinstance(items, Mapping):
            raise _Malformed
        return [any_value(item) for item in _list(items.get("values"))]
    if "kvlistValue" in value:
        pairs = value["kvlistValue"] or {}
        if not isinstance(pairs, Mapping):
            raise _Malformed
        return attributes(pairs.get("values"))
    return None  # an empty AnyValue


def attributes(values: object) -> dict[str, object]:
    """A ``[{"key": k, "value": AnyValue}]`` list as a dict (absent or null: empty)."""
    result: dict[str, object] = {}
    for pair in _list(values):
        if type(pair) is not dict or type(pair.get("key")) is not str:
            raise _Malformed
        result[pair["key"]] = any_value(pair.get("value") or {})
    return result


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed
    return value


def _object(value: object) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Malformed
    return value


def _scopes(document: Mapping[str, object], keys: Sequence[str]) -> list[object]:
    for key in keys:
        if key in document:
            return _list(document[key])
    return []


def _add_span(
    builder: RecordBuilder, where: tuple[str, int], span: object, resource: Mapping[str, object]
) -> None:
    span = _object(span)
    scopes = (attributes(span.get("attributes")), resource, span)
    natives = {
        "ts": span.get("startTimeUnixNano"),
        "event": span.get("name"),
        "trace_id": hex_id(span.get("traceId")),
        "span_id": hex_id(span.get("spanId")),
    }
    builder.add(*where, scopes, natives, ts_unit="ns")


def hex_id(value: object) -> object:
    """A trace/span ID as hex; protobuf's default JSON (base64 bytes, e.g. older Jaeger) too.

    OTLP/JSON mandates hex, but protojson writes bytes as base64: 16 bytes are 24
    characters ending in ``==``, 8 bytes 12 ending in ``=``; hex never has ``=``.
    """
    if isinstance(value, str) and len(value) in (12, 24) and value.endswith("="):
        try:
            return base64.b64decode(value, validate=True).hex()
        except binascii.Error:
            return value
    return value


def _positive(value: object) -> bool:
    return value not in (None, "", 0, "0")


def _add_log(
    builder: RecordBuilder, where: tuple[str, int], log: object, resource: Mapping[str, object]
) -> None:
    log = _object(log)
    attrs = attributes(log.get("attributes"))
    body = any_value(log["body"]) if log.get("body") is not None else None
    time, observed = log.get("timeUnixNano"), log.get("observedTimeUnixNano")
    ts = time if _positive(time) or not _positive(observed) else observed
    if ts is None:
        ts = observed
    event = log.get("eventName") or attrs.get("event.name")
    scopes: list[Mapping[str, object]] = [attrs]
    if isinstance(body, dict):
        scopes.append(body)
    scopes += [resource, log]
    natives = {
        "ts": ts,
        "event": event,
        "trace_id": hex_id(log.get("traceId")),
        "span_id": hex_id(log.get("spanId")),
        "message": body if isinstance(body, str) else None,
    }
    builder.add(*where, scopes, natives, ts_unit="ns")


def _add_group(builder: RecordBuilder, where: tuple[str, int], group: object, kind: str) -> None:
    """One ``ResourceSpans``/``ResourceLogs``; a broken part costs one record, not the rest."""
    try:
        group = _object(group)
        resource = attributes(_object(group.get("resource")).get("attributes"))
        scope_keys, item_key = (
            (_SCOPE_SPANS, "spans") if kind == "spans" else (_SCOPE_LOGS, "logRecords")
        )
        scope_groups = _scopes(group, scope_keys)
    except _Malformed:
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    add = _add_span if kind == "spans" else _add_log
    for scope_group in scope_groups:
        try:
            items = _list(_object(scope_group).get(item_key))
        except _Malformed:
            builder.reject(*where, RejectReason.INVALID_RECORD)
            continue
        for item in items:
            try:
                add(builder, where, item, resource)
            except _Malformed:
                builder.reject(*where, RejectReason.INVALID_RECORD)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def camel_keys(value: object) -> object:
    """A document written with protobuf's field names (``resource_spans``, ``trace_id``,
    ``string_value``: ``MessageToJson(preserving_proto_field_name=True)``) in OTLP/JSON's
    lowerCamelCase. Safe on any OTLP value: no OTLP message has a map field, so every
    object key is a field name (attribute keys are values of ``key``)."""
    if isinstance(value, dict):
        return {_camel(k): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _unwrapped(document: dict[str, object]) -> dict[str, object]:
    """A ``TracesData``/``LogsData`` out of the shapes other tools wrap it in, in
    lowerCamelCase (:func:`camel_keys`)."""
    for wrapper in _WRAPPERS:
        inner = document.get(wrapper)
        if isinstance(inner, dict):
            document = inner
            break
    if document.keys() & _SNAKE_ROOTS:
        camel = camel_keys(document)
        assert isinstance(camel, dict)
        document = camel
    if "batches" in document and "resourceSpans" not in document:  # Tempo's /api/traces
        document = {"resourceSpans": document["batches"]}
    elif document.keys() & _SCOPE_KEYS and not document.keys() & _ROOTS:
        # one ResourceSpans/ResourceLogs on its own (Java's OTLP JSON logging exporters)
        kind = "resourceSpans" if document.keys() & _SPAN_SCOPE_KEYS else "resourceLogs"
        document = {kind: [document]}
    return document


def add_document(builder: RecordBuilder, where: tuple[str, int], document: object) -> None:
    """Add every span and log record of one ``TracesData``/``LogsData`` document.

    The OTLP spec wants lowerCamelCase keys, but the Collector also reads protobuf's own
    field names, and so does this reader; Jaeger's and Tempo's wrappers, Tempo's
    ``batches`` and a lone ``ResourceSpans`` are read too (:func:`_unwrapped`). Metrics
    and profiles documents (a file exporter shared by pipelines) hold no record.
    """
    if not isinstance(document, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    document = _unwrapped(document)
    kinds = [
        (key, kind)
        for key, kind in (("resourceSpans", "spans"), ("resourceLogs", "logs"))
        if key in document
    ]
    if not kinds:
        if not document.keys() & _OTHER_SIGNALS:
            builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    for key, kind in kinds:
        groups = document[key]
        if groups is None:
            continue
        if not isinstance(groups, list):
            builder.reject(*where, RejectReason.INVALID_RECORD)
            continue
        for group in groups:
            _add_group(builder, where, group, kind)


def scan_otlp(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Spans and log records of OTLP/JSON sources (``TracesData``/``LogsData`` documents)."""
    return scan_documents(sources, options, add_document)

"""OpenTelemetry Python's ConsoleSpanExporter (and ConsoleLogExporter) output.

Pretty-printed JSON objects one after another, possibly mixed with other
program output (each stray line is one `invalid_json` record). A span's fields
are looked up in ``attributes``, then ``resource.attributes``, then the span;
its own fields: ``name``, ``start_time`` (ISO 8601), ``context.trace_id`` and
``context.span_id`` (``0x``-prefixed). A log record's: ``timestamp`` (else
``observed_timestamp``), ``trace_id``/``span_id`` (all zeros: none),
``event_name`` or the
``event.name`` attribute, and ``body`` as the message. Attribute numbers and bools
read as text, as OTLP's typed values do; a list in an ID field is ``wrong_type``. A
``resource`` that is neither an object nor the Python literal older SDKs printed makes
the record ``invalid_record``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.documents import scan_documents
from auditor.records import RecordBuilder, scalar_text
from auditor.schema import RejectReason
from auditor.sources import Source


def _mapping(value: object) -> Mapping[str, object] | None:
    if value is None:
        return {}
    return value if isinstance(value, Mapping) else None


def _attributes(value: object) -> Mapping[str, object] | None:
    """Typed attributes: a number or bool reads as text, as the same attribute does in
    OTLP (an ``intValue``), so that a span reads the same whichever exporter wrote it."""
    found = _mapping(value)
    return None if found is None else {k: scalar_text(v) for k, v in found.items()}


#: Longest resource text read as a Python literal (:func:`_resource_attributes`).
_REPR_CHARS = 1 << 16


def _resource_attributes(resource: object) -> Mapping[str, object] | None:
    """``resource.attributes``; None when it is not a mapping. ConsoleLogExporter of SDKs up
    to 1.25 printed a record's resource as the Python ``repr`` of its attributes
    (``"{'service.name': 'quality', 'session.id': 'ws-1'}"``), read here as the literal."""
    if not isinstance(resource, str):
        found = _mapping(resource)
        return None if found is None else _attributes(found.get("attributes"))
    if not resource.strip():
        return {}
    if len(resource) > _REPR_CHARS:
        return None
    try:
        value = ast.literal_eval(resource)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return _attributes(value)


def add_document(builder: RecordBuilder, where: tuple[str, int], document: object) -> None:
    """Add one exported span or log record."""
    if not isinstance(document, dict):
        builder.reject(*where, RejectReason.NOT_AN_OBJECT)
        return
    attributes = _attributes(document.get("attributes"))
    resource_attributes = _resource_attributes(document.get("resource"))
    context = _mapping(document.get("context"))
    if attributes is None or resource_attributes is None or context is None:
        builder.reject(*where, RejectReason.INVALID_RECORD)
        return
    body = document.get("body")
    scopes: list[Mapping[str, object]] = [attributes]
    if isinstance(body, Mapping):
        scopes.append(body)
    scopes += [resource_attributes, document]
    if "context" in document:
        natives = {
            "ts": document.get("start_time"),
            "event": document.get("name"),
            "trace_id": context.get("trace_id"),
            "span_id": context.get("span_id"),
        }
    else:
        timestamp = document.get("timestamp")
        natives = {
            "ts": document.get("observed_timestamp") if timestamp in (None, "") else timestamp,
            "event": document.get("event_name") or attributes.get("event.name"),
            "trace_id": document.get("trace_id"),
            "span_id": document.get("span_id"),
            "message": body if isinstance(body, str) else None,
        }
    builder.add(*where, scopes, natives)


def scan_console(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """Spans (and log records) of ConsoleSpanExporter/ConsoleLogExporter output."""
    return scan_documents(sources, options, add_document)

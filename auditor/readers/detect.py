"""Detecting a source's format from its first bytes (``--format auto``).

The first JSON value decides when it parses (structure, not guesswork); when it
does not (a head cut in the middle of a big pretty-printed document, a bad
first line), the first line that parses decides, then telltale keys in the
head. Anything unrecognized is generic JSON lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import orjson

from auditor.readers.containers import is_cri_line, is_docker_entry, is_embedded, is_prefixed
from auditor.readers.documents import decompress, ends_value
from auditor.readers.otlp import is_otlp_document
from auditor.sources import Source

_HEAD_BYTES = 1 << 20
_HEAD_LINES = 20
_GCP_ONLY_KEYS = frozenset({"logName", "insertId", "receiveTimestamp"})
_GCP_PAYLOADS = frozenset({"jsonPayload", "textPayload", "protoPayload"})
_GCP_COMPANIONS = frozenset({"timestamp", "severity", "resource", "labels", "trace"})
#: Every key a Zipkin v2 span may have (the model is closed; only traceId and id are required).
_ZIPKIN_KEYS = frozenset(
    {
        "traceId",
        "id",
        "parentId",
        "name",
        "kind",
        "timestamp",
        "duration",
        "debug",
        "shared",
        "localEndpoint",
        "remoteEndpoint",
        "annotations",
        "tags",
    }
)
#: Every key of a span ConsoleSpanExporter prints (`ReadableSpan.to_json`).
_CONSOLE_SPAN_KEYS = frozenset(
    {
        "name",
        "context",
        "kind",
        "parent_id",
        "start_time",
        "end_time",
        "status",
        "attributes",
        "events",
        "links",
        "resource",
    }
)
#: The keys of a Jaeger query API response (`{"data": [...], "total": 0, ...}`).
_JAEGER_RESPONSE_KEYS = frozenset({"data", "total", "limit", "offset", "errors"})
_PLAIN_DOCUMENT = re.compile(r"\[\s*\{|\{[ \t]*\r?\n")
_SNIFFS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "otlp",
        re.compile(
            r'"resource(?:Spans|Logs|Metrics|Profiles|_spans|_logs|_metrics|_profiles)"\s*:'
        ),
    ),
    ("gcp", re.compile(r'"(?:logName|insertId|receiveTimestamp)"\s*:')),
    ("jaeger", re.compile(r'"traceID"\s*:[^{}]*?"spans"\s*:|"spans"\s*:\s*\[\s*\{\s*"traceID"')),
    ("zipkin", re.compile(r'"localEndpoint"\s*:')),
    ("console", re.compile(r'"trace_id"\s*:\s*"0x')),
)


def _classify_object(record: dict[str, object]) -> str | None:
    keys = record.keys()
    if is_docker_entry(record):  # a container's stdout as Docker's json-file driver keeps it
        return "docker"
    if is_otlp_document(record):  # the shapes the OTLP reader reads (wrapped, Tempo's...)
        return "otlp"
    data = record.get("data")
    if isinstance(data, list) and data:
        if isinstance(data[0], dict) and "spans" in data[0]:
            return "jaeger"
    elif "data" in keys and keys <= _JAEGER_RESPONSE_KEYS and "errors" in keys:
        return "jaeger"  # a response without traces (`"data": []`, or null with its errors)
    if "traceID" in keys and "spans" in keys:
        return "jaeger"
    if keys & _GCP_ONLY_KEYS or (keys & _GCP_PAYLOADS and keys & _GCP_COMPANIONS):
        return "gcp"
    if _is_console_span(record):
        return "console"
    if "body" in keys and "severity_number" in keys and "observed_timestamp" in keys:
        return "console"  # ConsoleLogExporter, the log twin of ConsoleSpanExporter
    if _is_zipkin_span(record):
        return "zipkin"
    return None


def _is_console_span(record: dict[str, object]) -> bool:
    """A span as ConsoleSpanExporter prints it: a log line with a logger ``name`` and a
    ``context`` holding a trace ID has other keys too."""
    context = record.get("context")
    return (
        isinstance(context, dict)
        and "trace_id" in context
        and {"name", "start_time"} <= record.keys() <= _CONSOLE_SPAN_KEYS
    )


def _is_zipkin_span(record: dict[str, object]) -> bool:
    """A Zipkin v2 span: string ``traceId`` and ``id``, and no key the model does not have (a
    log line with a trace ID and a request ID has other keys too)."""
    return (
        isinstance(record.get("traceId"), str)
        and isinstance(record.get("id"), str)
        and record.keys() <= _ZIPKIN_KEYS
    )


def classify(value: object) -> str | None:
    """The format a parsed first JSON value belongs to, None when it says nothing specific."""
    if isinstance(value, dict):
        return _classify_object(value)
    if isinstance(value, list):
        if not value:
            # `gcloud logging read --format=json` prints [] when nothing matched.
            return "gcp"
        first = value[0]
        if isinstance(first, list):  # Zipkin's /api/v2/traces: a list of traces
            return "zipkin" if first and classify(first[0]) == "zipkin" else None
        return classify(first)
    return None


def detect_text(head: str, ids: Sequence[str] = ()) -> str:
    """The format of a text from its beginning (which may be cut anywhere); ``ids``: where a
    record names a user or a thread (`--map`), default the default names."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "jsonl"
    if is_cri_line(stripped):  # Kubernetes' node logs, `kubectl logs --timestamps`
        return "cri"
    if is_prefixed(stripped):  # Heroku, syslog, Lambda: text, then the app's JSON object
        return "prefixed"
    if is_embedded(stripped, ids):  # journald, Loki, Vector, Fluent Bit, Lambda records
        return "embedded"
    first = _first_value(stripped)
    if first is not None:
        value, multiline = first
        found = classify(value)
        if found is None and not multiline:
            # JSON log lines first, then the spans a service printed (its stdout); a plain
            # pretty document among JSON lines leaves them JSON lines (streamed, bounded)
            later = _after_pretty_document(stripped)
            found = later if later != "json" else None
        return found or _plain(value, multiline)
    for line in stripped.splitlines()[:_HEAD_LINES]:
        if line[:1].isspace():
            continue  # inside a pretty-printed document: `{}` there says nothing of the file
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict | list) and value:
            return classify(value) or "jsonl"
    found = _after_pretty_document(stripped)
    if found is not None:
        return found
    for fmt, pattern in _SNIFFS:
        if pattern.search(stripped):
            return fmt
    # a document of plain records longer than the head: an array of objects, or an object
    # whose first line opens it and nothing more
    return "json" if _PLAIN_DOCUMENT.match(stripped) else "jsonl"


def _first_value(text: str) -> tuple[object, bool] | None:
    """The text's first JSON value and whether it spans lines; None when the text does not
    start with a document of its own (a logging line's date is not the number it starts
    with: see :func:`auditor.readers.documents.ends_value`)."""
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):  # nested past Python's stack
        return None
    eol = text.find("\n", end)
    if not ends_value(text, end, len(text) if eol < 0 else eol, value):
        return None
    return value, "\n" in text[:end]


_PRETTY_OPENING = re.compile(r"^[\[{][ \t\r]*$", re.MULTILINE)


def _after_pretty_document(text: str) -> str | None:
    """The format of the first pretty-printed document that the head holds whole (opened by
    a line holding only ``{`` or ``[``): ``json`` when it is no known format's."""
    opening = _PRETTY_OPENING.search(text)
    if opening is None:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, opening.start())
    except (json.JSONDecodeError, RecursionError):  # nested past Python's stack
        return None  # cut by the head: the telltale keys decide
    return classify(value) or _plain(value, multiline=True)


def _plain(value: object, multiline: bool) -> str:
    """The format of a first JSON value that is no known format's: an array of objects, or
    a pretty-printed object, holds plain records as documents (``json``); anything else
    starts JSON lines."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "json"
    return "json" if isinstance(value, dict) and multiline else "jsonl"


def read_head(source: Source, size: int = _HEAD_BYTES) -> str:
    """About the first ``size`` bytes of a source's text, decoded leniently."""
    if source.path is None:
        raise ValueError("read_head needs a file; spool stdin first (auditor.inputs.spool)")
    with source.path.open("rb") as stream:
        raw = stream.read(size)
    if source.compression is not None:
        raw = decompress(raw, source.compression)[0][:size]
    return raw.decode("utf-8", "replace")


def detect_format(source: Source, ids: Sequence[str] = ()) -> str:
    """The format name (one of ``FORMATS`` but ``auto``) of one source, from its content;
    ``ids``: where a record names a user or a thread (default: the default names)."""
    return detect_text(read_head(source), ids)

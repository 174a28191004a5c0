"""Detecting a source's format from its first bytes (``--format auto``).

The first JSON value decides when it parses (structure, not guesswork); when it
does not (a head cut in the middle of a big pretty-printed document, a bad
first line), the first line that parses decides, then telltale keys in the
head. Anything unrecognized is generic JSON lines.
"""

from __future__ import annotations

import json
import re

import orjson

from auditor.readers.documents import decompress
from auditor.sources import Source

_HEAD_BYTES = 1 << 20
_HEAD_LINES = 20
_GCP_ONLY_KEYS = frozenset({"logName", "insertId", "receiveTimestamp"})
_GCP_PAYLOADS = frozenset({"jsonPayload", "textPayload", "protoPayload"})
_GCP_COMPANIONS = frozenset({"timestamp", "severity", "resource", "labels", "trace"})
_ZIPKIN_HINTS = frozenset({"localEndpoint", "remoteEndpoint", "duration"})
_SNIFFS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("otlp", re.compile(r'"resource(?:Spans|Logs)"\s*:')),
    ("gcp", re.compile(r'"(?:logName|insertId|receiveTimestamp)"\s*:')),
    ("jaeger", re.compile(r'"traceID"\s*:[^{}]*?"spans"\s*:|"spans"\s*:\s*\[\s*\{\s*"traceID"')),
    ("zipkin", re.compile(r'"localEndpoint"\s*:')),
    ("console", re.compile(r'"trace_id"\s*:\s*"0x')),
)


def _classify_object(record: dict[str, object]) -> str | None:
    keys = record.keys()
    if "resourceSpans" in keys or "resourceLogs" in keys:
        return "otlp"
    result = record.get("result")  # Jaeger v2 /api/v3: OTLP wrapped in {"result": ...}
    if isinstance(result, dict) and ("resourceSpans" in result or "resourceLogs" in result):
        return "otlp"
    data = record.get("data")
    if isinstance(data, list) and all(isinstance(t, dict) and "spans" in t for t in data[:1]):
        return "jaeger"
    if "traceID" in keys and "spans" in keys:
        return "jaeger"
    if keys & _GCP_ONLY_KEYS or (keys & _GCP_PAYLOADS and keys & _GCP_COMPANIONS):
        return "gcp"
    context = record.get("context")
    if isinstance(context, dict) and "trace_id" in context and "name" in keys:
        return "console"
    if "body" in keys and "severity_number" in keys and "observed_timestamp" in keys:
        return "console"  # ConsoleLogExporter, the log twin of ConsoleSpanExporter
    if "traceId" in keys and "id" in keys and keys & _ZIPKIN_HINTS:
        return "zipkin"
    return None


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


def detect_text(head: str) -> str:
    """The format of a text from its beginning (which may be cut anywhere)."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "jsonl"
    try:
        value, _ = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError:
        pass
    else:
        return classify(value) or "jsonl"
    for line in stripped.splitlines()[:_HEAD_LINES]:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return classify(value) or "jsonl"
    for fmt, pattern in _SNIFFS:
        if pattern.search(stripped):
            return fmt
    return "jsonl"


def read_head(source: Source, size: int = _HEAD_BYTES) -> str:
    """About the first ``size`` bytes of a source's text, decoded leniently."""
    if source.path is None:
        raise ValueError("read_head needs a file; spool stdin first (auditor.inputs.spool)")
    with source.path.open("rb") as stream:
        raw = stream.read(size)
    if source.compression is not None:
        raw = decompress(raw, source.compression)[0][:size]
    return raw.decode("utf-8", "replace")


def detect_format(source: Source) -> str:
    """The format name (one of ``FORMATS`` but ``auto``) of one source, from its content."""
    return detect_text(read_head(source))

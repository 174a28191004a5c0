"""Tests for auditor/readers/detect.py: format detection from a source's beginning."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
import zstandard
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from auditor.readers.detect import classify, detect_format, detect_text
from auditor.sources import Source

FIXTURES = Path(__file__).parent.parent / "fixtures" / "otlp"
OTLP_LINE = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": []}]}]})
GCP_ENTRY = {
    "insertId": "1",
    "logName": "projects/p/logs/l",
    "jsonPayload": {"event": "e"},
    "timestamp": "2024-01-01T00:00:00Z",
    "receiveTimestamp": "2024-01-01T00:00:01Z",
}
ZIPKIN_SPAN = {
    "traceId": "a",
    "id": "b",
    "name": "n",
    "timestamp": 1,
    "duration": 2,
    "localEndpoint": {"serviceName": "s"},
}
JAEGER_TRACE = {"traceID": "a", "spans": [{"traceID": "a", "spanID": "b"}], "processes": {}}


def _console_output() -> str:
    out = io.StringIO()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
    with provider.get_tracer("t").start_as_current_span("x"):
        pass
    provider.shutdown()
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (OTLP_LINE + "\n" + OTLP_LINE + "\n", "otlp"),
        (json.dumps({"resourceLogs": []}), "otlp"),
        (json.dumps({"resource_spans": []}) + "\n", "otlp"),  # protobuf's field names
        (json.dumps({"result": {"resourceSpans": []}}), "otlp"),
        ((FIXTURES / "otlp-example-trace.json").read_text(), "otlp"),
        ((FIXTURES / "otlp-example-logs.json").read_text(), "otlp"),
        (json.dumps([GCP_ENTRY], indent=2), "gcp"),
        (json.dumps(GCP_ENTRY) + "\n", "gcp"),
        (json.dumps({"textPayload": "hi", "timestamp": "2024-01-01T00:00:00Z"}), "gcp"),
        ("[]\n", "gcp"),
        (json.dumps({"data": [JAEGER_TRACE]}), "jaeger"),
        (json.dumps(JAEGER_TRACE, indent=2), "jaeger"),
        (json.dumps([ZIPKIN_SPAN]), "zipkin"),
        (json.dumps([[ZIPKIN_SPAN]]), "zipkin"),
        (_console_output(), "console"),
        ('{"timestamp": "2024-01-01T00:00:00Z", "event": "e", "user_id": "u"}\n', "jsonl"),
        ('{"level": "info", "traceId": "a", "id": 3}\n', "jsonl"),
        # the spec's minimal Zipkin span: only traceId and id are required
        (json.dumps([{"traceId": "a", "id": "b", "name": "n"}]), "zipkin"),
        # log lines that look like spans but have keys no span has
        (json.dumps({**ZIPKIN_SPAN, "event": "e", "msg": "ok", "level": 30}) + "\n", "jsonl"),
        (json.dumps({"name": "app", "context": {"trace_id": "a"}, "event": "e"}) + "\n", "jsonl"),
        (json.dumps({"data": [], "event": "e", "timestamp": "2024-01-01T00:00:00Z"}), "jsonl"),
        # Jaeger's query API with no trace found: still Jaeger
        (json.dumps({"data": [], "total": 0, "limit": 0, "offset": 0, "errors": None}), "jaeger"),
        (json.dumps({"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}), "jaeger"),
        ("garbage\n" + OTLP_LINE + "\n", "otlp"),
        # a Collector file exporter shared by a metrics pipeline; Tempo's and Java's shapes
        (json.dumps({"resourceMetrics": []}) + "\n" + OTLP_LINE + "\n", "otlp"),
        (json.dumps({"batches": json.loads(OTLP_LINE)["resourceSpans"]}), "otlp"),
        (json.dumps({"trace": json.loads(OTLP_LINE), "status": "COMPLETE"}), "otlp"),
        (json.dumps(json.loads(OTLP_LINE)["resourceSpans"][0]) + "\n", "otlp"),
        (json.dumps({"resource": {}, "scope_spans": [{"spans": []}]}) + "\n", "otlp"),
        # a log line that starts like a number, then JSON lines
        ("2026-11-24 08:28:50,001 INFO started\n" + json.dumps(GCP_ENTRY) + "\n", "gcp"),
        ('2026-11-24 08:28:50,001 INFO started\n{"event": "e"}\n', "jsonl"),
        ("", "jsonl"),
        ("\n\n  \n", "jsonl"),
        ("nothing json here\n", "jsonl"),
        ("[1, 2]\n", "jsonl"),
    ],
)
def test_detect_text(text, fmt):
    assert detect_text(text) == fmt


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [("otlp-example-trace.json", "otlp"), ("otlp-example-logs.json", "otlp")],
)
def test_head_cut_inside_a_pretty_document_is_sniffed(fixture, fmt):
    text = (FIXTURES / fixture).read_text()
    assert detect_text(text[:200]) == fmt


def test_console_output_after_a_banner():
    assert detect_text("Serving on :8080\nready\n" + _console_output()) == "console"


@pytest.mark.parametrize(
    "first",
    [
        "2026-11-24 08:28:50,001 INFO quality: server started",  # logging's asctime
        '{"event": "server started", "timestamp": "2026-11-24T08:28:50.000001Z"}',  # structlog
        '127.0.0.1 - - [06/May/2024 07:08:09] "GET / HTTP/1.1" 200 -',
        '            "service.name": "quality",',  # `kubectl logs --tail` cut inside a span
    ],
)
def test_console_output_after_log_lines(first):
    """A service's stdout: log lines (JSON or not) before the spans it printed."""
    assert detect_text(first + "\n" + _console_output()) == "console"


def test_json_lines_with_a_pretty_document_of_plain_records_stay_json_lines():
    """The JSON-lines reader streams a large log in bounded memory; the documents reader
    would hold it whole (a 215 MB log with a pretty config dump near its top took 2.5 GB)."""
    assert detect_text('{"event": "a"}\n{\n  "event": "b"\n}\n{"event": "c"}\n') == "jsonl"


def test_empty_objects_inside_a_cut_pretty_document_say_nothing():
    """A gcloud export longer than the head: its `{}` lines are nested values, not JSON lines."""
    entry = {**GCP_ENTRY, "jsonPayload": {"nested": [{}], "event": "e"}}
    text = json.dumps([entry] * 40, indent=2)
    assert text.splitlines()[6] == "        {}"  # among the lines the detection tries
    assert detect_text(text[: len(text) // 2]) == "gcp"


def test_head_cut_inside_console_output_is_sniffed():
    assert detect_text(_console_output()[:150]) == "console"


def test_classify_says_nothing_for_generic_objects():
    assert classify({"msg": "hello"}) is None
    assert classify("text") is None


@pytest.mark.parametrize(
    ("name", "compress", "compression"),
    [
        ("t.json.gz", gzip.compress, "gzip"),
        ("t.json.zst", zstandard.ZstdCompressor().compress, "zstd"),
        ("t.json", lambda b: b, None),
    ],
)
def test_detect_format_reads_compressed_sources(tmp_path, name, compress, compression):
    path = tmp_path / name
    path.write_bytes(compress(json.dumps([GCP_ENTRY], indent=2).encode()))
    assert detect_format(Source(name=name, path=path, compression=compression)) == "gcp"

"""Tests for auditor/readers/console.py: real ConsoleSpanExporter / ConsoleLogExporter output."""

from __future__ import annotations

import io
import json
import logging
import warnings
from datetime import datetime
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util import ns_to_iso_str
from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions
from auditor.readers.console import scan_console
from auditor.sources import Source
from tests.auditor.expect import records, rejected


def _export_spans() -> tuple[str, list[ReadableSpan]]:
    """Real exporter output for a parent span with IDs and a child without, plus the spans."""
    out, memory = io.StringIO(), InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"session.id": "s1", "service.version": "2"})
    )
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    attributes = {"user.id": "u1", "thread.id": "t1", "run.id": "r1"}
    with (
        tracer.start_as_current_span("chat.user_message", attributes=attributes),
        tracer.start_as_current_span("llm.call"),
    ):
        pass
    provider.shutdown()
    return out.getvalue(), list(memory.get_finished_spans())


def _scan(tmp_path: Path, text: str, options: ReadOptions | None = None):
    path = tmp_path / "console.txt"
    path.write_text(text)
    return scan_console([Source(name="c", path=path)], options or ReadOptions()).collect()


def _start(span: ReadableSpan) -> datetime:
    """The start time as the exporter writes it (it rounds through a float: so must we)."""
    assert span.start_time is not None
    return datetime.fromisoformat(ns_to_iso_str(span.start_time))


def test_real_console_span_exporter_output(tmp_path):
    text, spans = _export_spans()
    lines = text.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if line == "{"]
    child, parent = spans
    expected = records(
        {
            "source": "c",
            "line": starts[0],
            "ts": _start(child),
            "session_id": "s1",
            "event": "llm.call",
            "trace_id": f"{child.context.trace_id:032x}",
            "span_id": f"{child.context.span_id:016x}",
        },
        {
            "source": "c",
            "line": starts[1],
            "ts": _start(parent),
            "user_id": "u1",
            "session_id": "s1",
            "thread_id": "t1",
            "run_id": "r1",
            "event": "chat.user_message",
            "trace_id": f"{parent.context.trace_id:032x}",
            "span_id": f"{parent.context.span_id:016x}",
        },
    )
    assert_frame_equal(_scan(tmp_path, text), expected)
    assert starts[0] == 1 and len(starts) == 2


def test_split_by_resource_attribute(tmp_path):
    text, _ = _export_spans()
    frame = _scan(tmp_path, text, ReadOptions(split_by="service.version"))
    assert frame["split_key"].to_list() == ["2", "2"]


def test_stray_program_output_is_counted_line_by_line(tmp_path):
    text, _ = _export_spans()
    mixed = "starting up\nready\n" + text
    frame = _scan(tmp_path, mixed)
    assert frame["reject_reason"].to_list() == ["invalid_json", "invalid_json", None, None]
    assert frame["line"].to_list()[:3] == [1, 2, 3]


def test_typed_attributes_read_as_otlp_reads_them(tmp_path):
    """An int attribute is text, as its OTLP `intValue` is; a list in an ID is wrong_type."""
    text, _ = _export_spans()
    number = text.replace('"user.id": "u1"', '"user.id": 17')
    frame = _scan(tmp_path, number)
    assert frame["reject_reason"].to_list() == [None, None]
    assert "17" in frame["user_id"].to_list()
    listed = text.replace('"user.id": "u1"', '"user.id": ["u1"]')
    assert _scan(tmp_path, listed)["reject_reason"].to_list() == [None, "wrong_type"]


def test_truncated_output_is_one_record(tmp_path):
    text, _ = _export_spans()
    cut = text[: len(text) - 40]
    assert_frame_equal(
        _scan(tmp_path, cut).slice(1),
        records(rejected("c", text.splitlines().index("{", 1) + 1, "invalid_json")),
    )


def test_real_console_log_exporter_output(tmp_path):
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from opentelemetry.sdk._logs.export import ConsoleLogExporter

        out = io.StringIO()
        provider = LoggerProvider(resource=Resource.create({"user.id": "u1"}))
        provider.add_log_record_processor(SimpleLogRecordProcessor(ConsoleLogExporter(out=out)))
    logger = logging.getLogger("test_console_logs")
    logger.propagate = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        logger.warning("switched", extra={"event": "thread.switch", "thread.id": "t2"})
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    frame = _scan(tmp_path, out.getvalue())
    row = frame.drop("ts").row(0, named=True)
    assert row == {
        "source": "c",
        "line": 1,
        "user_id": "u1",
        "session_id": None,
        "thread_id": "t2",
        "run_id": None,
        "event": "thread.switch",
        "trace_id": None,
        "span_id": None,
        "split_key": None,
        "reject_reason": None,
    }
    assert frame["ts"].null_count() == 0


def test_log_records_of_sdks_up_to_1_25_print_their_resource_as_a_python_repr(tmp_path):
    """opentelemetry-sdk <= 1.25's ConsoleLogExporter: `"resource": repr(attributes)`; the
    IDs it holds are read (they were silently lost: two sessions read as one)."""

    def record(session: str, thread: str) -> str:
        attributes = {"service.name": "quality", "session.id": session, "tags": ("a", "b")}
        return json.dumps(
            {
                "body": "quality op",
                "severity_number": "<SeverityNumber.INFO: 9>",
                "timestamp": "2024-05-06T07:08:09.000000Z",
                "observed_timestamp": "2024-05-06T07:08:09.000001Z",
                "trace_id": "0x00000000000000000000000000000000",
                "attributes": {"user.id": "u1", "thread.id": thread, "event": "chat.user_message"},
                "resource": repr(attributes),
            },
            indent=4,
        )

    bad = json.dumps({"body": "x", "timestamp": "2024-05-06T07:08:09Z", "resource": "{'a': "})
    empty = json.dumps({"body": "y", "timestamp": "2024-05-06T07:08:09Z", "resource": ""})
    text = "\n".join([record("ws-1", "t1"), record("ws-2", "t2"), bad, empty]) + "\n"
    frame = _scan(tmp_path, text)
    assert frame.select("session_id", "thread_id", "reject_reason").rows() == [
        ("ws-1", "t1", None),
        ("ws-2", "t2", None),
        (None, None, "invalid_record"),
        (None, None, None),
    ]

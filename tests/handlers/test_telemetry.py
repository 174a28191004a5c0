"""Tests for handlers/telemetry.py and handlers/logs.py: log lines, exporters, failures."""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from handlers import attributes as attr
from handlers.app import QualityApp
from handlers.config import Settings
from handlers.testing import FakeClock, deterministic_ids, memory_app

LOG_KEYS = [
    "timestamp",
    "level",
    "logger",
    "event",
    "message",
    "user_id",
    "session_id",
    "thread_id",
    "run_id",
    "request_id",
    "trace_id",
    "span_id",
]
RFC3339_UTC_MICROS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")

CONVERSATION = [
    {"type": "user_message", "payload": {"text": "p99 doubled"}},
    {"type": "get_quality_metrics"},
    {"type": "validate_content", "payload": {"content": "maybe"}},
    {"type": "nope"},
]

OTEL_VARIABLES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
)


@pytest.fixture(autouse=True)
def clean_otel_env(monkeypatch):
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _open(tmp_path, **kwargs):
    return QualityApp.open(
        Settings(home=tmp_path, user="alice"),
        ids=deterministic_ids(),
        clock=FakeClock(),
        **kwargs,
    )


async def _converse(app, user="alice"):
    caller = app.sessions.open_session(user)
    return caller, [await app.handle(caller, m) for m in CONVERSATION]


def _log_lines(app):
    app.telemetry.flush()
    return [orjson.loads(line) for line in app.settings.log_path.read_text().splitlines()]


# -- log lines ------------------------------------------------------------------------------


async def test_log_lines_have_the_contract_keys_and_match_their_spans(tmp_path):
    app, exporter = memory_app(tmp_path)
    try:
        caller, replies = await _converse(app)
        lines = _log_lines(app)
        spans = {s.context.span_id: s for s in exporter.get_finished_spans()}
    finally:
        app.close()
    # thread.create + one line per message, each written inside its own span.
    assert len(lines) == len(CONVERSATION) + 1 == len(spans)
    for line in lines:
        assert list(line)[: len(LOG_KEYS)] == LOG_KEYS
        assert RFC3339_UTC_MICROS.match(line["timestamp"]), line["timestamp"]
        assert line["level"] in {"info", "warning"}
        assert line["logger"] == "quality"
        assert (line["user_id"], line["session_id"]) == ("alice", caller.session_id)
        assert HEX32.match(line["trace_id"]) and HEX16.match(line["span_id"])
        span = spans[int(line["span_id"], 16)]
        assert format(span.context.trace_id, "032x") == line["trace_id"]
        assert span.name == line["event"]
        assert span.attributes[attr.THREAD_ID] == line["thread_id"]
        assert span.attributes.get(attr.RUN_ID) == line["run_id"]
        assert span.attributes[attr.REQUEST_ID] == line["request_id"]
    by_request = {line["request_id"]: line for line in lines}
    for reply in replies:
        line = by_request[reply["request_id"]]
        assert (line["thread_id"], line["run_id"]) == (reply["thread_id"], reply["run_id"])
    error_line = by_request[replies[-1]["request_id"]]
    assert (error_line["level"], error_line["error_code"]) == ("warning", "unknown_message_type")


async def test_log_lines_without_tracing_have_null_trace_ids(tmp_path):
    app = _open(tmp_path, tracing=False)
    try:
        _, replies = await _converse(app)
        lines = _log_lines(app)
    finally:
        app.close()
    assert {r["type"] for r in replies} >= {"agent_reply", "quality_metrics"}
    assert lines and all(x["trace_id"] is None and x["span_id"] is None for x in lines)
    assert all(x["thread_id"] == replies[0]["thread_id"] for x in lines)


async def test_service_version_tags_log_lines_and_spans(tmp_path):
    app, exporter = memory_app(tmp_path, service_version="2.0.1")
    try:
        await _converse(app)
        lines = _log_lines(app)
        spans = exporter.get_finished_spans()
    finally:
        app.close()
    assert {x["version"] for x in lines} == {"2.0.1"}
    assert {s.resource.attributes["service.version"] for s in spans} == {"2.0.1"}


# -- failures never reach a reply -----------------------------------------------------------


class ExplodingExporter(SpanExporter):
    """An exporter whose export raises, like a collector client with a bug."""

    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        raise RuntimeError("collector unreachable")

    def shutdown(self) -> None:
        pass


class RefusingExporter(SpanExporter):
    """An exporter that reports failure without raising."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


@pytest.mark.parametrize("exporter_class", [ExplodingExporter, RefusingExporter])
async def test_failing_span_exporter_never_fails_a_reply_and_is_counted(
    tmp_path, capsys, exporter_class
):
    exporter = exporter_class()
    app = _open(tmp_path, exporter=exporter, batch_spans=False)
    try:
        _, replies = await _converse(app)
        again = await app.handle(
            app.sessions.open_session("alice"), {"type": "get_quality_metrics"}
        )
    finally:
        app.close()
    assert [r["type"] for r in replies] == [
        "agent_reply",
        "quality_metrics",
        "content_validation_result",
        "error",
    ]
    assert again["type"] == "quality_metrics"
    # One failure per exported span: thread.create + 4 messages + 1.
    assert app.telemetry.export_failures == 6
    err = capsys.readouterr().err
    assert err.count("span export to memory failed") == 1
    # Logs are unaffected.
    assert len(app.settings.log_path.read_text().splitlines()) == 6


async def test_unwritable_log_path_never_fails_a_reply_and_is_counted(tmp_path, capsys):
    (tmp_path / "logs" / "quality.jsonl").mkdir(parents=True)  # a directory: open() fails
    app, exporter = memory_app(tmp_path)
    try:
        _, replies = await _converse(app)
    finally:
        app.close()
    assert [r["type"] for r in replies] == [
        "agent_reply",
        "quality_metrics",
        "content_validation_result",
        "error",
    ]
    assert app.telemetry.export_failures == 5  # thread.create + 4 messages, one line each
    assert len(exporter.get_finished_spans()) == 5  # tracing is unaffected
    err = capsys.readouterr().err
    assert err.count("cannot write log line") == 1


# -- exporters chosen by the environment ----------------------------------------------------


async def test_otel_traces_exporter_none_writes_no_trace_file(tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    app = _open(tmp_path)
    try:
        _, replies = await _converse(app)
    finally:
        app.close()
    assert replies[0]["type"] == "agent_reply"
    assert app.telemetry.trace_target == "nowhere"
    assert not app.settings.trace_path.exists()
    assert app.settings.log_path.exists()


def _attributes(items):
    return {a["key"]: next(iter(a["value"].values())) for a in items}


async def test_default_exporter_writes_otlp_json_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "quality-test")
    app = _open(tmp_path)
    try:
        caller, replies = await _converse(app)
    finally:
        app.close()
    assert app.telemetry.trace_target == str(app.settings.trace_path)
    records = [orjson.loads(x) for x in app.settings.trace_path.read_text().splitlines()]
    assert records and all(list(r) == ["resourceSpans"] for r in records)
    spans = []
    for record in records:
        for resource_spans in record["resourceSpans"]:
            resource = _attributes(resource_spans["resource"]["attributes"])
            assert resource["service.name"] == "quality-test"
            for scope in resource_spans["scopeSpans"]:
                spans.extend(scope["spans"])
    assert [s["name"] for s in spans] == [
        attr.THREAD_CREATE,
        attr.CHAT_USER_MESSAGE,
        attr.GET_METRICS,
        attr.VALIDATE_CONTENT,
        attr.UNKNOWN_MESSAGE,
    ]
    for span in spans:
        assert span["kind"] == 2  # SPAN_KIND_SERVER
        assert HEX32.match(span["traceId"]) and HEX16.match(span["spanId"])
        attributes = _attributes(span["attributes"])
        assert attributes[attr.SESSION_ID] == caller.session_id
        assert attributes[attr.THREAD_ID] == replies[0]["thread_id"]
        assert attributes[attr.CONVERSATION_ID] == replies[0]["thread_id"]
    lines = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
    assert [x["span_id"] for x in lines] == [s["spanId"] for s in spans]
    assert [x["trace_id"] for x in lines] == [s["traceId"] for s in spans]


async def test_two_apps_in_one_process_keep_their_logs_apart(tmp_path):
    first, _ = memory_app(tmp_path / "one")
    second, _ = memory_app(tmp_path / "two")
    try:
        await first.handle(first.sessions.open_session("alice"), {"type": "get_quality_metrics"})
        await second.handle(second.sessions.open_session("bob"), {"type": "get_quality_metrics"})
        first_lines, second_lines = _log_lines(first), _log_lines(second)
    finally:
        first.close()
        second.close()
    assert {x["user_id"] for x in first_lines} == {"alice"}
    assert {x["user_id"] for x in second_lines} == {"bob"}
    assert len(first_lines) == len(second_lines) == 2  # thread.create + the request


def test_close_twice_is_harmless(tmp_path):
    app = _open(tmp_path)
    app.close()
    app.close()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "quality"),
        (
            {"OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout,deployment.environment=prod"},
            "checkout",
        ),
        ({"OTEL_SERVICE_NAME": "svc", "OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout"}, "svc"),
    ],
)
def test_service_name_follows_the_otel_environment(tmp_path, monkeypatch, env, expected):
    """OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES, else quality."""
    from handlers.telemetry import setup_telemetry

    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    telemetry = setup_telemetry(log_path=None, trace_path=tmp_path / "t.jsonl")
    try:
        assert telemetry.provider is not None
        assert telemetry.provider.resource.attributes["service.name"] == expected
    finally:
        telemetry.shutdown()


def test_a_collector_that_is_down_costs_a_command_a_few_seconds_and_one_line(
    tmp_path, monkeypatch, capfd, caplog
):
    """The OTLP exporter's own retry warnings are silenced (one line of ours reports the
    failure) and an export gives up after 3 s unless OTEL_EXPORTER_OTLP_TIMEOUT says."""
    import socket
    import time

    from handlers.telemetry import setup_telemetry

    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TIMEOUT", raising=False)
    telemetry = setup_telemetry(log_path=None, trace_path=tmp_path / "t.jsonl")
    with telemetry.tracer.start_as_current_span("x"):
        pass
    started = time.monotonic()
    telemetry.shutdown()
    assert time.monotonic() - started < 5.5  # the SDK's default (10 s) took 6-8 s here
    assert [r for r in caplog.records if r.name.startswith("opentelemetry.exporter")] == []
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [
        f"quality: span export to http://127.0.0.1:{port} failed: the exporter reported a failure"
    ]


def test_the_otlp_timeout_is_milliseconds_as_the_specification_says(tmp_path, monkeypatch, capfd):
    """OTEL_EXPORTER_OTLP_TIMEOUT=300 is 300 ms (the SDK read it as 300 s: a command then
    waited for the flush's 30 s against a collector that accepts and never answers)."""
    import socket
    import time

    from handlers.telemetry import setup_telemetry

    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300")
        telemetry = setup_telemetry(log_path=None, trace_path=tmp_path / "t.jsonl")
        with telemetry.tracer.start_as_current_span("x"):
            pass
        started = time.monotonic()
        telemetry.shutdown()
        waited = time.monotonic() - started
    assert waited < 10, waited  # 300 ms and the SDK's retries' back-off; 30 s before
    assert capfd.readouterr().err.count("\n") == 1  # the one failure line


@pytest.mark.parametrize(
    ("env", "seconds", "warned"),
    [
        ({}, 3.0, False),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "10000"}, 10.0, False),
        (
            {"OTEL_EXPORTER_OTLP_TIMEOUT": "10000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "250"},
            0.25,
            False,
        ),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "ten"}, 3.0, True),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "-1"}, 3.0, True),
    ],
)
def test_otlp_timeout_reading(monkeypatch, capfd, env, seconds, warned):
    from handlers.telemetry import otlp_timeout_s

    for name in ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert otlp_timeout_s() == seconds
    err = capfd.readouterr().err
    assert (err != "") is warned
    if warned:
        assert err.startswith("quality: OTEL_EXPORTER_OTLP_TIMEOUT=") and err.count("\n") == 1


def test_an_unsupported_otlp_protocol_is_said_in_one_line(tmp_path, monkeypatch, capfd):
    """http/json is a valid value elsewhere, but this build exports grpc and http/protobuf
    only: said once, not silently replaced."""
    from handlers.telemetry import setup_telemetry

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    telemetry = setup_telemetry(log_path=None, trace_path=tmp_path / "t.jsonl")
    telemetry.shutdown()
    lines = capfd.readouterr().err.splitlines()
    assert lines[0] == (
        "quality: OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not supported"
        " (use grpc or http/protobuf); using http/protobuf"
    )


def test_an_unknown_traces_exporter_is_said_in_one_line(tmp_path, monkeypatch, capfd):
    """`OTEL_TRACES_EXPORTER=zipkin` (a value of the spec this build does not export) was
    ignored silently: the spans went to the trace file with nothing said."""
    from handlers.telemetry import setup_telemetry

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    telemetry = setup_telemetry(log_path=None, trace_path=tmp_path / "t.jsonl")
    telemetry.shutdown()
    assert capfd.readouterr().err.splitlines() == [
        "quality: OTEL_TRACES_EXPORTER='zipkin' is not supported (use none, console or otlp);"
        " using the default"
    ]

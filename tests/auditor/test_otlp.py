"""Tests for auditor/readers/otlp.py: OTLP/JSON traces and logs, JSON lines and pretty documents."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import zstandard
from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions, build_read_options
from auditor.readers.otlp import scan_otlp
from auditor.sources import Source
from tests.auditor.expect import records, rejected

FIXTURES = Path(__file__).parent.parent / "fixtures" / "otlp"
T = "1714979290000000000"  # 2024-05-06T07:08:10Z


def _kv(key: str, **value: object) -> dict[str, object]:
    return {"key": key, "value": value}


def _traces(*spans: dict[str, object], resource: list | None = None) -> dict[str, object]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": resource or []},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": list(spans)}],
            }
        ]
    }


def _logs(*logs: dict[str, object], resource: list | None = None) -> dict[str, object]:
    return {
        "resourceLogs": [
            {"resource": {"attributes": resource or []}, "scopeLogs": [{"logRecords": list(logs)}]}
        ]
    }


def _scan(tmp_path: Path, lines: list[object], options: ReadOptions | None = None):
    """Read documents written one per line (bytes are written as they are)."""
    path = tmp_path / "traces.jsonl"
    path.write_bytes(
        b"\n".join(line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines)
    )
    return scan_otlp([Source(name="t", path=path)], options or ReadOptions()).collect()


def test_official_examples_read_with_no_rejects(tmp_path):
    """The opentelemetry-proto examples: pretty documents, uppercase IDs, every value kind."""
    sources = [
        Source(name="logs", path=FIXTURES / "otlp-example-logs.json"),
        Source(name="trace", path=FIXTURES / "otlp-example-trace.json"),
    ]
    expected = records(
        {
            "source": "logs",
            "line": 1,
            "ts": "2018-12-13T14:51:00.300Z",
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "span_id": "eee19b7ec3c1b174",
        },
        {
            "source": "trace",
            "line": 1,
            "ts": "2018-12-13T14:51:00Z",
            "event": "I'm a server span",
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "span_id": "eee19b7ec3c1b174",
        },
    )
    assert_frame_equal(scan_otlp(sources, ReadOptions()).collect(), expected)


def test_json_lines_of_several_documents(tmp_path):
    """Collector file exporter: one TracesData/LogsData per line; IDs from span then resource."""
    first = _traces(
        {
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "name": "chat.user_message",
            "startTimeUnixNano": "1714979289123456789",
            "attributes": [
                _kv("user.id", stringValue="u1"),
                _kv("thread.id", stringValue="t1"),
                _kv("run.id", intValue="7"),
            ],
        },
        {
            "traceId": "",
            "spanId": "",
            "name": "quality.get_metrics",
            "startTimeUnixNano": 1714979290000000000,
            "attributes": [_kv("session.id", stringValue="span-session")],
        },
        resource=[_kv("user.id", stringValue="u-res"), _kv("session.id", stringValue="s1")],
    )
    second = _logs(
        {
            "timeUnixNano": 1714979291000000000,
            "eventName": "thread.create",
            "traceId": "ABCDEF",
            "attributes": [_kv("thread.id", stringValue="t2"), _kv("run.id", intValue=8)],
        },
        resource=[_kv("user.id", stringValue="u2")],
    )
    expected = records(
        {
            "source": "t",
            "line": 1,
            "ts": "2024-05-06T07:08:09.123456Z",
            "user_id": "u1",
            "session_id": "s1",
            "thread_id": "t1",
            "run_id": "7",
            "event": "chat.user_message",
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "span_id": "eee19b7ec3c1b174",
        },
        {
            "source": "t",
            "line": 1,
            "ts": "2024-05-06T07:08:10Z",
            "user_id": "u-res",
            "session_id": "span-session",
            "event": "quality.get_metrics",
        },
        {
            "source": "t",
            "line": 2,
            "ts": "2024-05-06T07:08:11Z",
            "user_id": "u2",
            "thread_id": "t2",
            "run_id": "8",
            "event": "thread.create",
            "trace_id": "abcdef",
        },
    )
    assert_frame_equal(_scan(tmp_path, [first, second]), expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"stringValue": "s"}, "s"),
        ({"intValue": "10"}, "10"),
        ({"intValue": 10}, "10"),
        ({"boolValue": True}, "true"),
        ({"doubleValue": 637.704}, "637.704"),
        ({"bytesValue": "AQID"}, "AQID"),
    ],
)
def test_scalar_attribute_values_become_strings(tmp_path, value, expected):
    span = {"name": "e", "startTimeUnixNano": T, "attributes": [{"key": "user.id", "value": value}]}
    assert _scan(tmp_path, [_traces(span)])["user_id"].to_list() == [expected]


@pytest.mark.parametrize(
    "value",
    [
        {"arrayValue": {"values": [{"stringValue": "a"}]}},
        {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}},
    ],
)
def test_structured_attribute_value_in_an_id_field_is_wrong_type(tmp_path, value):
    span = {
        "name": "e",
        "startTimeUnixNano": T,
        "attributes": [{"key": "thread.id", "value": value}],
    }
    assert_frame_equal(_scan(tmp_path, [_traces(span)]), records(rejected("t", 1, "wrong_type")))


def test_map_reaches_inside_a_kvlist(tmp_path):
    ctx = {"kvlistValue": {"values": [_kv("user", stringValue="u7")]}}
    span = {"name": "e", "startTimeUnixNano": T, "attributes": [{"key": "ctx", "value": ctx}]}
    frame = _scan(tmp_path, [_traces(span)], build_read_options(maps=["user_id=ctx.user"]))
    assert frame["user_id"].to_list() == ["u7"]


@pytest.mark.parametrize(
    ("log", "ts", "reason"),
    [
        (
            {"timeUnixNano": "0", "observedTimeUnixNano": "1714979290000000000"},
            "2024-05-06T07:08:10Z",
            None,
        ),
        ({"observedTimeUnixNano": 1714979290000000000}, "2024-05-06T07:08:10Z", None),
        (
            {"timeUnixNano": "1714979289000000000", "observedTimeUnixNano": "1714979290000000000"},
            "2024-05-06T07:08:09Z",
            None,
        ),
        ({"timeUnixNano": "0"}, None, "bad_timestamp"),
        ({"timeUnixNano": 0, "observedTimeUnixNano": 0}, None, "bad_timestamp"),
        ({}, None, "missing_timestamp"),
    ],
)
def test_log_time_falls_back_to_observed_time(tmp_path, log, ts, reason):
    row = {"source": "t", "line": 1, "ts": ts} if reason is None else rejected("t", 1, reason)
    assert_frame_equal(_scan(tmp_path, [_logs(log)]), records(row))


@pytest.mark.parametrize(
    ("log", "event"),
    [
        ({"eventName": "a", "attributes": [_kv("event.name", stringValue="b")]}, "a"),
        ({"attributes": [_kv("event.name", stringValue="b"), _kv("event", stringValue="c")]}, "b"),
        ({"attributes": [_kv("event", stringValue="c")]}, "c"),
        ({"body": {"kvlistValue": {"values": [_kv("event", stringValue="d")]}}}, "d"),
        ({"body": {"stringValue": "just text"}}, None),
    ],
)
def test_log_event_sources_in_priority_order(tmp_path, log, event):
    frame = _scan(tmp_path, [_logs({"timeUnixNano": T, **log})])
    assert frame["event"].to_list() == [event]


@pytest.mark.parametrize(
    ("trace_id", "expected"),
    [
        ("0" * 32, None),  # invalid (trace.proto): the record is in no trace
        ("", None),
        ("0" * 16 + "1A2B3C4D5E6F7A8B", "1a2b3c4d5e6f7a8b"),  # Jaeger/Zipkin's 64-bit ID
        ("5B8EFFF798038103D269B633813FC60C", "5b8efff798038103d269b633813fc60c"),
    ],
)
def test_trace_ids_all_zero_are_none_and_64_bit_ones_are_16_digits(tmp_path, trace_id, expected):
    log = {"timeUnixNano": T, "traceId": trace_id, "spanId": "0" * 16}
    frame = _scan(tmp_path, [_logs(log)])
    assert frame.select("trace_id", "span_id").row(0) == (expected, None)


def test_extract_reads_a_string_body(tmp_path):
    log = {"timeUnixNano": T, "body": {"stringValue": "answered in thread thread_42"}}
    options = build_read_options(extracts=[r"thread_id=thread (thread_\w+)"])
    assert _scan(tmp_path, [_logs(log)], options)["thread_id"].to_list() == ["thread_42"]


def test_split_by_reads_resource_attributes(tmp_path):
    span = {"name": "e", "startTimeUnixNano": T}
    doc = _traces(span, resource=[_kv("service.version", stringValue="1.2.0")])
    frame = _scan(tmp_path, [doc], ReadOptions(split_by="service.version"))
    assert frame["split_key"].to_list() == ["1.2.0"]


def test_bad_documents_are_counted_at_their_lines(tmp_path):
    good = {"name": "ok", "startTimeUnixNano": T}
    broken_span = {"name": "bad", "startTimeUnixNano": T, "attributes": "not a list"}
    lines = [
        b"not json",
        [1, 2],
        {"resourceSpans": {"not": "a list"}},
        {"something": "else"},
        _traces(good, broken_span, "not a span"),
        {
            "resourceSpans": [{"scopeSpans": "nope"}],
            "resourceLogs": [{"scopeLogs": [{"logRecords": 5}]}],
        },
        b'{"resourceSpans": [{"x": "\xff"}]}',
        b'{"resourceSpans": [{"scopeSp',  # a truncated last line
    ]
    expected = records(
        rejected("t", 1, "invalid_json"),
        rejected("t", 2, "not_an_object"),
        rejected("t", 3, "invalid_record"),
        rejected("t", 4, "invalid_record"),
        {"source": "t", "line": 5, "ts": "2024-05-06T07:08:10Z", "event": "ok"},
        rejected("t", 5, "invalid_record"),
        rejected("t", 5, "invalid_record"),
        rejected("t", 6, "invalid_record"),
        rejected("t", 6, "invalid_record"),
        rejected("t", 7, "invalid_utf8"),
        rejected("t", 8, "invalid_json"),
    )
    assert_frame_equal(_scan(tmp_path, lines), expected)


def test_empty_document_holds_no_records(tmp_path):
    assert _scan(tmp_path, [{"resourceSpans": []}, {"resourceLogs": None}]).height == 0


@pytest.mark.parametrize(
    ("suffix", "compress", "compression"),
    [(".gz", gzip.compress, "gzip"), (".zst", zstandard.ZstdCompressor().compress, "zstd")],
)
def test_compressed_inputs_read_like_plain_ones(tmp_path, suffix, compress, compression):
    plain = FIXTURES / "otlp-example-trace.json"
    copy = tmp_path / f"trace.json{suffix}"
    copy.write_bytes(compress(plain.read_bytes()))
    expected = scan_otlp([Source(name="x", path=plain)], ReadOptions()).collect()
    got = scan_otlp([Source(name="x", path=copy, compression=compression)], ReadOptions())
    assert_frame_equal(got.collect(), expected)
    assert expected.height == 1


def test_several_sources_concatenate_in_order(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(FIXTURES / "otlp-example-trace.json", first)
    shutil.copy(FIXTURES / "otlp-example-logs.json", second)
    sources = [Source(name="b", path=second), Source(name="a", path=first)]
    frame = scan_otlp(sources, ReadOptions()).collect()
    assert frame["source"].to_list() == ["b", "a"]


def test_base64_ids_of_protobuf_default_json_become_hex(tmp_path):
    """protojson (e.g. older Jaeger's OTLP output) writes bytes fields as base64."""
    span = {
        "traceId": "Hh12U4y9/tlmRYfpsJQItA==",
        "spanId": "i0XRoVdArS0=",
        "name": "e",
        "startTimeUnixNano": T,
    }
    frame = _scan(tmp_path, [_traces(span)])
    assert frame.select("trace_id", "span_id").row(0) == (
        "1e1d76538cbdfed9664587e9b09408b4",
        "8b45d1a15740ad2d",
    )


def test_jaeger_v2_result_wrapper(tmp_path):
    span = {"name": "wrapped", "startTimeUnixNano": T}
    assert _scan(tmp_path, [{"result": _traces(span)}])["event"].to_list() == ["wrapped"]


def test_other_tools_shapes_of_the_same_spans(tmp_path):
    """Tempo's /api/traces (`batches`) and /api/v2/traces (`{"trace": ...}`), and a lone
    ResourceSpans a line (Java's OtlpJsonLoggingSpanExporter), in either key style."""
    span = {"name": "e", "startTimeUnixNano": T, "attributes": [_kv("user.id", stringValue="u")]}
    group = _traces(span)["resourceSpans"][0]
    snake = {"scope_spans": [{"spans": [{"name": "e", "start_time_unix_nano": T}]}]}
    lines = [
        {"batches": [group, group]},
        {"trace": _traces(span), "status": "PARTIAL", "message": "trace too large"},
        group,
        snake,
    ]
    frame = _scan(tmp_path, lines)
    assert frame.select("line", "event", "reject_reason").rows() == [
        (1, "e", None),
        (1, "e", None),
        (2, "e", None),
        (3, "e", None),
        (4, "e", None),
    ]
    assert frame["user_id"].to_list() == ["u", "u", "u", "u", None]


def test_metrics_and_profiles_documents_hold_no_record(tmp_path):
    """A Collector file exporter shared by pipelines writes metrics next to spans."""
    metric = {"name": "requests", "sum": {"dataPoints": [{"timeUnixNano": T, "asInt": "3"}]}}
    lines = [
        {"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"metrics": [metric]}]}]},
        {"resourceProfiles": []},
        {"resource_metrics": []},
        _traces({"name": "e", "startTimeUnixNano": T}),
    ]
    frame = _scan(tmp_path, lines)
    assert frame.select("line", "event", "reject_reason").rows() == [(4, "e", None)]


def _sdk_request():
    """An ExportTraceServiceRequest the OpenTelemetry SDK's own encoder makes of two spans."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "chat"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("thread.create", attributes={"user.id": "u"}):
        pass
    with tracer.start_as_current_span("quality.get_metrics", attributes={"user.id": "u"}):
        pass
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans())


@pytest.mark.parametrize("proto_names", [False, True])
def test_protobuf_json_of_an_sdk_request_in_either_key_style(tmp_path, proto_names):
    """protobuf's JSON of a real request: lowerCamelCase keys, or protobuf's own field names
    (`resource_spans`, `start_time_unix_nano`, `string_value`), which the Collector reads too."""
    from google.protobuf.json_format import MessageToDict

    request = _sdk_request()
    document = MessageToDict(request, preserving_proto_field_name=proto_names)
    assert ("resource_spans" in document) is proto_names
    frame = _scan(tmp_path, [document], ReadOptions(split_by="service.name"))
    spans = request.resource_spans[0].scope_spans[0].spans
    assert frame.select("event", "user_id", "split_key", "trace_id", "span_id").rows() == [
        (s.name, "u", "chat", s.trace_id.hex(), s.span_id.hex()) for s in spans
    ]
    assert frame["reject_reason"].null_count() == 2


def test_a_lone_surrogate_escape_in_an_attribute_is_read_as_polars_reads_it(tmp_path):
    """A span attribute cut in the middle of an emoji (`"t\\ud83d"`): orjson refuses the
    line, Python's decoder reads a string Polars cannot hold (it was a traceback); it reads
    as the JSON-lines reader reads it."""
    span = (
        r'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab", "spanId": "cd",'
        r' "name": "quality.get_metrics", "startTimeUnixNano": "1700000000000000000",'
        r' "attributes": [{"key": "user.id", "value": {"stringValue": "u"}},'
        r' {"key": "thread.id", "value": {"stringValue": "t\ud83d"}},'
        r' {"key": "note", "value": {"stringValue": "cut \udc00 here"}}]}]}]}]}'
    )
    path = tmp_path / "traces.jsonl"
    path.write_text(span + "\n")
    frame = scan_otlp([Source.for_path(path)], ReadOptions()).collect()
    assert frame.select("user_id", "thread_id", "reject_reason").rows() == [("u", "t\x00", None)]


def test_a_double_reads_the_same_whichever_exporter_wrote_it(tmp_path):
    """The Go Collector writes the double 17.0 as `17`, the Python SDK's JSON exporter as
    `17.0`, and proto3's JSON mapping allows `"17.0"`: one run, not three (a run break each
    before). A string that is no number, and an integer attribute, stay as written."""
    from auditor.records import double_text

    values = [17.0, 17, "17.0", "1.7e1"]
    spans = [
        {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": f"{i + 1:016x}",
            "name": "quality.get_metrics",
            "startTimeUnixNano": str(1_795_507_200_000_000_000 + i),
            "attributes": [
                {"key": "user.id", "value": {"stringValue": "u"}},
                {"key": "thread.id", "value": {"stringValue": "t"}},
                {"key": "run.id", "value": {"doubleValue": value}},
            ],
        }
        for i, value in enumerate(values)
    ]
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}) + "\n")
    frame = scan_otlp([Source(name="t", path=path)], ReadOptions()).collect()
    assert frame["run_id"].to_list() == ["17"] * 4
    assert [double_text(v) for v in (17.5, "NaN", "Infinity", 10**400, 1e-7)] == [
        "17.5",
        "NaN",
        "Infinity",
        str(10**400),
        "0.0000001",
    ]


def test_console_and_jaeger_doubles_read_as_otlp_ones():
    """The SDK's ConsoleSpanExporter prints a double attribute as `17.0`, Jaeger's float64
    tag may be `17`: both `"17"`, as OTLP's doubleValue reads; a fraction stays."""
    from auditor.records import scalar_text

    assert [scalar_text(v) for v in (17.0, 17, 1.5, True, "17.0")] == [
        "17",
        "17",
        "1.5",
        "true",
        "17.0",
    ]

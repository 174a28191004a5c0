"""Tests for auditor/readers/jaeger.py: Jaeger query API JSON and bare traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions
from auditor.readers.jaeger import scan_jaeger
from auditor.sources import Source
from tests.auditor.expect import records, rejected

SPAN = {
    "traceID": "4BF92F3577B34DA6A3CE929D0E0E4736",
    "spanID": "00F067AA0BA902B7",
    "operationName": "quality.validate_content",
    "references": [],
    "startTime": 1714979289123456,
    "duration": 1200,
    "tags": [
        {"key": "user.id", "type": "string", "value": "u1"},
        {"key": "run.id", "type": "int64", "value": 17},
        {"key": "thread.id", "type": "string", "value": "t1"},
        {"key": "error", "type": "bool", "value": False},
    ],
    "logs": [],
    "processID": "p1",
}
TRACE = {
    "traceID": "4BF92F3577B34DA6A3CE929D0E0E4736",
    "spans": [SPAN],
    "processes": {
        "p1": {
            "serviceName": "quality",
            "tags": [{"key": "session.id", "type": "string", "value": "s1"}],
        }
    },
}
ROW = {
    "ts": "2024-05-06T07:08:09.123456Z",
    "user_id": "u1",
    "session_id": "s1",
    "thread_id": "t1",
    "run_id": "17",
    "event": "quality.validate_content",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
}


def _scan(tmp_path: Path, document: object, options: ReadOptions | None = None):
    path = tmp_path / "jaeger.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return scan_jaeger([Source(name="j", path=path)], options or ReadOptions()).collect()


@pytest.mark.parametrize("document", [{"data": [TRACE]}, TRACE, [TRACE]])
def test_query_response_bare_trace_and_list_of_traces(tmp_path, document):
    assert_frame_equal(_scan(tmp_path, document), records({"source": "j", "line": 1, **ROW}))


def test_process_service_name_is_service_name(tmp_path):
    frame = _scan(tmp_path, TRACE, ReadOptions(split_by="service.name"))
    assert frame["split_key"].to_list() == ["quality"]


def test_an_inline_process_reads_like_a_processes_entry(tmp_path):
    # Jaeger's Elasticsearch/OpenSearch span documents carry their process inline
    inline = {k: v for k, v in SPAN.items() if k != "processID"}
    inline["process"] = TRACE["processes"]["p1"]
    trace = {"traceID": TRACE["traceID"], "spans": [inline]}
    frame = _scan(tmp_path, trace, ReadOptions(split_by="service.name"))
    assert frame.select("session_id", "split_key").row(0) == ("s1", "quality")


def test_span_tags_win_over_process_tags(tmp_path):
    span = {
        **SPAN,
        "tags": [*SPAN["tags"], {"key": "session.id", "type": "string", "value": "own"}],
    }
    frame = _scan(tmp_path, {**TRACE, "spans": [span]})
    assert frame["session_id"].to_list() == ["own"]


def test_typed_tags_become_strings(tmp_path):
    span = {
        **SPAN,
        "tags": [
            {"key": "user.id", "type": "bool", "value": True},
            {"key": "thread.id", "type": "float64", "value": 1.5},
        ],
    }
    frame = _scan(tmp_path, {**TRACE, "spans": [span]})
    assert frame.select("user_id", "thread_id").row(0) == ("true", "1.5")


def test_broken_structure_costs_one_record_each(tmp_path):
    bad_tags = {**SPAN, "tags": {"user.id": "u1"}}
    document = {
        "data": [
            {"traceID": "x", "spans": "nope"},
            {**TRACE, "spans": [SPAN, bad_tags, 3]},
            {**TRACE, "processes": []},
        ]
    }
    expected = records(
        rejected("j", 1, "invalid_record"),
        {"source": "j", "line": 1, **ROW},
        rejected("j", 1, "invalid_record"),
        rejected("j", 1, "invalid_record"),
        rejected("j", 1, "invalid_record"),
    )
    assert_frame_equal(_scan(tmp_path, document), expected)


def test_data_not_a_list_and_not_an_object(tmp_path):
    text = json.dumps({"data": {}}) + "\n" + "7\n"
    expected = records(rejected("j", 1, "invalid_record"), rejected("j", 2, "not_an_object"))
    assert_frame_equal(_scan(tmp_path, text), expected)

"""Tests for auditor/readers/zipkin.py: Zipkin v2 JSON spans and traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions
from auditor.readers.zipkin import scan_zipkin
from auditor.sources import Source
from tests.auditor.expect import records, rejected

SPAN = {
    "traceId": "4BF92F3577B34DA6A3CE929D0E0E4736",
    "id": "00F067AA0BA902B7",
    "kind": "SERVER",
    "name": "thread.switch",
    "timestamp": 1714979289123456,
    "duration": 2000,
    "localEndpoint": {"serviceName": "quality", "ipv4": "10.0.0.1"},
    "tags": {"user.id": "u1", "thread.id": "t1", "session.id": "s1"},
}
ROW = {
    "ts": "2024-05-06T07:08:09.123456Z",
    "user_id": "u1",
    "session_id": "s1",
    "thread_id": "t1",
    "event": "thread.switch",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
}


def _scan(tmp_path: Path, text: str, options: ReadOptions | None = None):
    path = tmp_path / "zipkin.json"
    path.write_text(text)
    return scan_zipkin([Source(name="z", path=path)], options or ReadOptions()).collect()


@pytest.mark.parametrize(
    "text",
    [json.dumps([SPAN]), json.dumps([[SPAN]]), json.dumps(SPAN) + "\n"],
    ids=["trace", "list-of-traces", "json-lines"],
)
def test_spans_traces_and_lines(tmp_path, text):
    assert_frame_equal(_scan(tmp_path, text), records({"source": "z", "line": 1, **ROW}))


def test_local_endpoint_service_name(tmp_path):
    frame = _scan(tmp_path, json.dumps([SPAN]), ReadOptions(split_by="service.name"))
    assert frame["split_key"].to_list() == ["quality"]


def test_pretty_array_elements_keep_their_lines(tmp_path):
    text = json.dumps([SPAN, SPAN], indent=2)
    second_line = text.splitlines().index("  {", 2) + 1
    assert _scan(tmp_path, text)["line"].to_list() == [2, second_line]


def test_bad_spans(tmp_path):
    spans = [
        {**SPAN, "tags": {"user.id": 5}},
        {**SPAN, "tags": ["user.id"]},
        {k: v for k, v in SPAN.items() if k != "timestamp"},
        {**SPAN, "timestamp": 0},
        "span",
    ]
    text = "[\n" + ",\n".join(json.dumps(s) for s in spans) + "\n]\n"
    expected = records(
        rejected("z", 2, "wrong_type"),
        rejected("z", 3, "invalid_record"),
        rejected("z", 4, "missing_timestamp"),
        rejected("z", 5, "bad_timestamp"),
        rejected("z", 6, "not_an_object"),
    )
    assert_frame_equal(_scan(tmp_path, text), expected)

"""Tests for auditor/readers/gcp.py: Cloud Logging exports as a JSON array or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions, build_read_options
from auditor.readers.gcp import scan_gcp
from auditor.sources import Source
from tests.auditor.expect import records, rejected

ENTRY = {
    "insertId": "abc123",
    "jsonPayload": {
        "event": "quality.get_metrics",
        "user_id": "u1",
        "thread_id": "t1",
        "message": "metrics sent",
    },
    "labels": {"session_id": "s1", "run_id": "r-label"},
    "logName": "projects/my-proj/logs/quality",
    "receiveTimestamp": "2024-05-06T07:08:10.5Z",
    "resource": {"type": "k8s_container", "labels": {"pod_name": "quality-0"}},
    "severity": "INFO",
    "spanId": "00F067AA0BA902B7",
    "timestamp": "2024-05-06T07:08:09.123456789Z",
    "trace": "projects/my-proj/traces/4BF92F3577B34DA6A3CE929D0E0E4736",
}
ROW = {
    "ts": "2024-05-06T07:08:09.123456Z",
    "user_id": "u1",
    "session_id": "s1",
    "thread_id": "t1",
    "run_id": "r-label",
    "event": "quality.get_metrics",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
}


def _scan(tmp_path: Path, text: str, options: ReadOptions | None = None):
    path = tmp_path / "entries.json"
    path.write_text(text)
    return scan_gcp([Source(name="g", path=path)], options or ReadOptions()).collect()


def test_gcloud_array_elements_keep_their_lines(tmp_path):
    """`gcloud logging read --format=json` prints a pretty array (2-space indent)."""
    second = {**ENTRY, "jsonPayload": {**ENTRY["jsonPayload"], "user_id": "u2"}}
    text = json.dumps([ENTRY, second], indent=2)
    second_line = text.splitlines().index("  {", 2) + 1
    expected = records(
        {"source": "g", "line": 2, **ROW},
        {"source": "g", "line": second_line, **ROW, "user_id": "u2"},
    )
    assert_frame_equal(_scan(tmp_path, text), expected)


def test_sink_json_lines(tmp_path):
    text = json.dumps(ENTRY) + "\n" + json.dumps(ENTRY) + "\n"
    expected = records({"source": "g", "line": 1, **ROW}, {"source": "g", "line": 2, **ROW})
    assert_frame_equal(_scan(tmp_path, text), expected)


def test_text_payload_is_the_message_for_extract(tmp_path):
    entry = {
        "textPayload": "user u3 switched to thread t9",
        "timestamp": "2024-05-06T07:08:09Z",
        "logName": "projects/p/logs/app",
    }
    options = build_read_options(extracts=[r"user_id=user (\w+)", r"thread_id=thread (\w+)"])
    expected = records(
        {"source": "g", "line": 1, "ts": "2024-05-06T07:08:09Z", "user_id": "u3", "thread_id": "t9"}
    )
    assert_frame_equal(_scan(tmp_path, json.dumps(entry), options), expected)


def test_receive_timestamp_when_timestamp_is_absent(tmp_path):
    entry = {k: v for k, v in ENTRY.items() if k != "timestamp"}
    assert _scan(tmp_path, json.dumps(entry))["ts"].dt.to_string("%H:%M:%S%.3f").to_list() == [
        "07:08:10.500"
    ]


def test_map_reaches_top_level_fields(tmp_path):
    options = build_read_options(maps=["session_id=resource.labels.pod_name"])
    assert _scan(tmp_path, json.dumps(ENTRY), options)["session_id"].to_list() == ["quality-0"]


def test_bad_entries(tmp_path):
    entries = [
        {**ENTRY, "jsonPayload": "not an object"},
        {**ENTRY, "jsonPayload": {"user_id": 42}},
        {**ENTRY, "timestamp": "not a time"},
        {"logName": "projects/p/logs/x"},
        "a string",
    ]
    text = "[\n" + ",\n".join(json.dumps(e) for e in entries) + ",\n" + '{"logName": "cut'
    expected = records(
        rejected("g", 2, "invalid_record"),
        rejected("g", 3, "wrong_type"),
        rejected("g", 4, "bad_timestamp"),
        rejected("g", 5, "missing_timestamp"),
        rejected("g", 6, "not_an_object"),
        rejected("g", 7, "invalid_json"),
    )
    assert_frame_equal(_scan(tmp_path, text), expected)


def test_empty_array_holds_nothing(tmp_path):
    assert_frame_equal(_scan(tmp_path, "[]\n"), records())

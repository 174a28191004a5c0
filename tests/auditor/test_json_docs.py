"""Tests for auditor/readers/json_docs.py: plain records in a JSON array or pretty documents."""

from __future__ import annotations

import json

import pytest

from auditor.audit import audit
from auditor.readers.detect import detect_text

RECORDS = [
    {
        "timestamp": "2026-11-24T08:00:00Z",
        "event": "thread.create",
        "user_id": "u",
        "thread_id": "t1",
    },
    {"timestamp": "2026-11-24T08:00:01Z", "event": "q", "user_id": "u", "thread_id": "t1"},
    {"timestamp": "2026-11-24T08:00:02Z", "event": "q", "user_id": "u", "thread_id": "t2"},
    {"timestamp": "2026-11-24T08:00:03Z", "event": "q", "user_id": "u", "ctx": {"thread_id": "t1"}},
]
COUNTS = ("lines", "rejected", "events", "threads", "breaks", "by_event")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(RECORDS, indent=2),  # jq -s, a log UI's JSON export
        json.dumps(RECORDS),  # the same on one line
        "\n".join(json.dumps(r, indent=2) for r in RECORDS),  # pretty objects one after another
    ],
)
def test_plain_records_in_documents_read_as_json_lines_do(tmp_path, text):
    lines = tmp_path / "records.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    documents = tmp_path / "records.json"
    documents.write_text(text)
    assert detect_text(text) == "json"
    expected = audit([str(lines)])
    got = audit([str(documents)])
    assert {k: got[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}
    assert got["breaks"] == 1


def test_elements_that_are_not_records_are_counted_at_their_lines(tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([RECORDS[0], 7, {"event": "no time"}], indent=2))
    report = audit([str(path)])
    assert report["rejected_by_reason"] == {"not_an_object": 1, "missing_timestamp": 1}
    assert [(r["line"], r["reason"]) for r in report["rejected_examples"]] == [
        (8, "not_an_object"),
        (9, "missing_timestamp"),
    ]


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        ("[\n  {\n    " + '"timestamp": "2026-11-24T08:00:00Z",\n' * 3, "json"),  # cut
        ("{\n  " + '"timestamp": "2026-11-24T08:00:00Z",\n' * 3, "json"),
        ("[1, 2]\n", "jsonl"),
        ('{"timestamp": "2026-11-24T08:00:00Z"}\n{"timestamp"', "jsonl"),
    ],
)
def test_detection_of_plain_documents(head, fmt):
    assert detect_text(head) == fmt


def test_each_record_reads_as_the_same_json_line(tmp_path):
    """Containers, repeated keys (first wins), typed IDs, huge numbers: the record frames of
    the two layouts are equal but for where the records are."""
    from auditor.fields import build_read_options
    from auditor.readers.json_docs import scan_json
    from auditor.readers.jsonl import scan_jsonl
    from auditor.sources import Source

    texts = [
        '{"timestamp": "2026-11-24T08:00:00Z", "attributes": {"user_id": "u", "thread_id": "t"}}',
        '{"ts": "2026-11-24T08:00:01Z", "user_id": "u", "user_id": "v", "thread_id": "t"}',
        '{"ts": "2026-11-24T08:00:02Z", "user_id": 5, "thread_id": "t"}',
        '{"ts": 1e400, "user_id": "u", "thread_id": "t"}',
        '{"ts": "2026-11-24T08:00:03Z", "extra": {"user_id": "u", "run_id": "r"}, "thread_id": "t"}',
    ]
    lines = tmp_path / "records.jsonl"
    lines.write_text("\n".join(texts) + "\n")
    documents = tmp_path / "records.json"
    documents.write_text("[\n" + ",\n".join(texts) + "\n]\n")
    options = build_read_options()
    columns = ["ts", "user_id", "thread_id", "run_id", "reject_reason"]
    as_lines = scan_jsonl([Source.for_path(lines)], options).collect().sort("line")
    as_json = scan_json([Source.for_path(documents)], options).collect()
    assert as_json.select(columns).rows() == as_lines.select(columns).rows()
    assert as_json["line"].to_list() == [2, 3, 4, 5, 6]
    assert as_json["user_id"].to_list()[:2] == ["u", "u"]


def test_an_extract_ending_in_dollar_reads_a_message_ending_in_a_newline_alike(tmp_path):
    """Python's `$` (the document readers) also matches before a final newline, Rust's (the
    JSON-lines reader) does not: both search the message without its final line breaks."""
    from auditor.audit import AuditOptions

    records = [
        {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "msg": "in thread=t1\n"},
        {"timestamp": "2026-11-24T08:00:01Z", "user_id": "u", "msg": "in thread=t2\r\n"},
    ]
    lines = tmp_path / "m.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    documents = tmp_path / "m.json"
    documents.write_text(json.dumps(records, indent=2))
    options = AuditOptions(extracts=(r"thread_id=thread=(\w+)$",))
    for path in (lines, documents):
        report = audit([str(path)], options)
        assert (report["events"], report["threads"], report["breaks"]) == (2, 2, 1), path


def test_a_map_into_an_object_reads_alike_as_lines_and_as_documents(tmp_path):
    """`--map event=event.action` (Elastic ECS) among plain `event` strings: the document
    readers (RecordBuilder) treat an `event` object as the JSON-lines reader does."""
    from auditor.audit import AuditOptions
    from tests.auditor.test_jsonl import _ECS

    lines = tmp_path / "ecs.jsonl"
    lines.write_text("\n".join(_ECS) + "\n")
    documents = tmp_path / "ecs.json"
    documents.write_text(json.dumps([json.loads(line) for line in _ECS], indent=2))
    options = AuditOptions(maps=("ts=@timestamp", "event=event.action"))
    reports = [audit([str(path)], options) for path in (lines, documents)]
    for report in reports:
        assert (report["events"], report["rejected"]) == (4, 0)
    assert reports[0]["by_event"] == reports[1]["by_event"]
    assert {e["event"] for e in reports[0]["by_event"]} == {
        None,
        "chat.user_message",
        "quality.get_metrics",
        "thread.switch",
    }

"""Tests for auditor/report.py (through the `audit` API): every key of the report, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from auditor.audit import AuditOptions, audit
from auditor.report import REPORT_KEYS

LINES = [
    {
        "timestamp": "2026-11-24T08:00:00Z",
        "event": "thread.create",
        "user_id": "u1",
        "session_id": "s1",
        "thread_id": "t1",
        "run_id": "r0",
        "trace_id": "a",
    },
    {
        "timestamp": "2026-11-24T08:00:01Z",
        "event": "chat.user_message",
        "user_id": "u1",
        "session_id": "s1",
        "thread_id": "t1",
        "run_id": "r1",
        "trace_id": "a",
    },
    {
        "timestamp": "2026-11-24T08:00:02Z",
        "event": "quality.get_metrics",
        "user_id": "u1",
        "session_id": "s1",
        "thread_id": "t9",
        "run_id": "r9",
        "trace_id": "a",
    },
    {
        "timestamp": "2026-11-24T08:01:03Z",
        "event": "quality.get_metrics",
        "user_id": "u1",
        "session_id": "s1",
        "thread_id": "t1",
        "run_id": "r2",
    },
    {
        "timestamp": "2026-11-24T08:01:03Z",
        "event": "quality.get_metrics",
        "user_id": "u2",
        "thread_id": "t5",
    },
    {"timestamp": "2026-11-24T08:01:03Z", "event": "quality.get_metrics", "user_id": "u2"},
    {"timestamp": "2026-11-24T08:01:03Z", "event": "quality.get_metrics"},
]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "quality.jsonl"
    path.write_text("\n".join([*(json.dumps(x) for x in LINES), "bad", "[1]"]) + "\n")
    return path


def test_report_keys_are_design_keys_in_order(log):
    report = audit([str(log)])
    assert tuple(report) == REPORT_KEYS


def test_design_counts(log):
    report = audit([str(log)])
    assert {k: report[k] for k in REPORT_KEYS[:14]} == {
        "lines": 9,
        "rejected": 2,
        "unattributed": 1,
        "missing_thread": 1,
        "events": 5,
        "sessions": 2,
        "threads": 3,
        "breaks": 1,
        "break_rate": 0.2,
        "affected_sessions": 1,
        "stray_threads": 1,
        "orphan_threads": 1,
        "run_breaks": 1,
        "split_traces": 1,
    }
    assert report["lines"] == (
        report["rejected"] + report["unattributed"] + report["missing_thread"] + report["events"]
    )


def test_by_event_and_rejects(log):
    report = audit([str(log)])
    assert report["by_event"] == [
        {"event": "quality.get_metrics", "events": 3, "breaks": 1},
        {"event": "chat.user_message", "events": 1, "breaks": 0},
        {"event": "thread.create", "events": 1, "breaks": 0},
    ]
    assert report["rejected_by_reason"] == {"invalid_json": 1, "not_an_object": 1}
    assert report["rejected_examples"] == [
        {"source": str(log), "line": 8, "item": 0, "reason": "invalid_json"},
        {"source": str(log), "line": 9, "item": 0, "reason": "not_an_object"},
    ]


def test_dashboard_keys(log):
    report = audit([str(log)])
    assert report["label"] == str(log)
    assert report["inputs"] == [str(log)]
    low, high = report["break_rate_ci"]
    assert 0 < low < 0.2 < high < 1
    assert report["run_break_rate"] == 0.2
    assert report["time_range"] == {
        "start": "2026-11-24T08:00:00.000000Z",
        "end": "2026-11-24T08:01:03.000000Z",
    }
    assert report["breaks_per_minute"] == [
        {"minute": "2026-11-24T08:00:00Z", "events": 3, "breaks": 1},
        {"minute": "2026-11-24T08:01:00Z", "events": 2, "breaks": 0},
    ]
    assert report["threads_per_session"] == [
        {"threads": 1, "sessions": 1},
        {"threads": 2, "sessions": 1},
    ]
    assert report["top_sessions"] == [
        {"user_id": "u1", "session_id": "s1", "events": 4, "breaks": 1, "threads": 2},
        {"user_id": "u2", "session_id": "", "events": 1, "breaks": 0, "threads": 1},
    ]
    assert report["break_examples"] == [
        {
            "source": str(log),
            "line": 3,
            "item": 0,
            "ts": "2026-11-24T08:00:02.000000Z",
            "user_id": "u1",
            "session_id": "s1",
            "event": "quality.get_metrics",
            "expected_thread": "t1",
            "actual_thread": "t9",
            "trace_id": "a",
        }
    ]


def test_label_option_and_empty_input(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    report = audit([str(empty)], AuditOptions(label="nightly"))
    assert report["label"] == "nightly"
    assert (report["lines"], report["events"], report["break_rate"]) == (0, 0, 0.0)
    assert report["break_rate_ci"] is None  # no events: no interval (p_value is null alike)
    assert report["time_range"] == {"start": None, "end": None}
    assert report["by_event"] == [] and report["rejected_by_reason"] == {}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_breaks(log, tmp_path, suffix):
    target = tmp_path / f"breaks{suffix}"
    audit([str(log)], AuditOptions(export_breaks=target))
    frame = pl.read_csv(target) if suffix == ".csv" else pl.read_parquet(target)
    assert frame.select(
        "line", "user_id", "session_id", "expected_thread", "actual_thread"
    ).rows() == [(3, "u1", "s1", "t1", "t9")]
    if suffix == ".csv":  # times as the JSON report writes them (RFC 3339, Z)
        assert target.read_text().splitlines()[1].split(",")[3] == "2026-11-24T08:00:02.000000Z"


def test_partitioned_analysis_gives_the_same_report(log, monkeypatch):
    """Many events are analysed per partition (sessions, trace keys): the report is the same."""
    from auditor import continuity

    whole = audit([str(log)])
    assert whole["split_traces"] == 1 and whole["breaks"] == 1
    monkeypatch.setattr(continuity, "PARTITION_ROWS", 2)
    assert continuity.partitions(whole["events"]) == 3
    assert audit([str(log)]) == whole


def test_spilled_records_give_the_same_report(tmp_path, monkeypatch):
    """A clean JSON-lines file is spilled to IPC files by session (removed afterwards) and analysed
    partition by partition; lines that need their raw text (an all-digit span ID) are redone.
    The report is the one of the records held in memory."""
    import tempfile

    from auditor import continuity
    from auditor.audit import _analyser, load
    from auditor.partitions import Partitions

    digits = {**LINES[0], "event": "quality.get_metrics", "span_id": "1234", "thread_id": "t8"}
    number = {**digits, "span_id": 1234}  # a wrong_type reject: its spilled row is replaced
    path = tmp_path / "clean.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [*LINES, digits, number]) + "\n")
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    monkeypatch.setattr(continuity, "PARTITION_ROWS", 2)
    options = AuditOptions(label="x")
    spilled = audit([str(path)], options)
    assert list(spill.iterdir()) == []
    stored = load([str(path)], options, spill_dir=spill).records
    assert isinstance(stored, Partitions) and stored.count == 5
    assert stored.replaced is not None and stored.replaced["line"].to_list() == [len(LINES) + 2]
    assert sum(len(files) for files in stored.files) >= 2  # several partitions on disk
    loaded = load([str(path)], options)
    assert isinstance(loaded.records, pl.DataFrame)
    assert spilled == _analyser(options, loaded)(loaded.records.lazy(), "x").report
    assert spilled["events"] == 6 and spilled["breaks"] == 2


def _span(name: str, thread: str, second: int, user: str = "u1") -> dict[str, object]:
    attributes = [
        {"key": "user.id", "value": {"stringValue": user}},
        {"key": "thread.id", "value": {"stringValue": thread}},
    ]
    start = str(1_795_852_800_000_000_000 + second * 1_000_000_000)  # 2026-11-28T08:00:00Z + s
    return {
        "traceId": f"5b8e{second + 1:028x}",
        "spanId": f"{second + 1:016x}",
        "name": name,
        "startTimeUnixNano": start,
        "attributes": attributes,
    }


def _batch(*spans: dict[str, object]) -> str:
    scope = {"scopeSpans": [{"spans": list(spans)}]}
    return json.dumps({"resourceSpans": [{"resource": {}, **scope}]})


@pytest.mark.parametrize("rows", [500_000, 1])
def test_records_sharing_a_line_are_reported_one_by_one(tmp_path, monkeypatch, rows):
    """A Collector file holds a batch of spans a line: each span is its own record, so the
    examples, top sessions and exported breaks name the one span (a line of 2 spans set the
    thread, a line of 1 breaks it: the fetch of their text must not mix the lines' records)."""
    from auditor import continuity

    monkeypatch.setattr(continuity, "PARTITION_ROWS", rows)
    path = tmp_path / "traces.jsonl"
    path.write_text(
        _batch(_span("thread.create", "t1", 0), _span("chat.user_message", "t1", 1))
        + "\n"
        + _batch(_span("quality.get_metrics", "t2", 2), _span("thread.create", "t7", 3, "u2"))
        + "\n"
        + _batch(_span("quality.get_metrics", "t7", 4, "u2"))
        + "\n"
    )
    target = tmp_path / "breaks.csv"
    report = audit([str(path)], AuditOptions(export_breaks=target))
    assert (report["lines"], report["events"], report["breaks"]) == (5, 5, 1)
    assert report["break_examples"] == [
        {
            "source": str(path),
            "line": 2,
            "item": 0,
            "ts": "2026-11-28T08:00:02.000000Z",
            "user_id": "u1",
            "session_id": "",
            "event": "quality.get_metrics",
            "expected_thread": "t1",
            "actual_thread": "t2",
            "trace_id": f"5b8e{3:028x}",
        }
    ]
    assert report["top_sessions"] == [
        {"user_id": "u1", "session_id": "", "events": 3, "breaks": 1, "threads": 2},
        {"user_id": "u2", "session_id": "", "events": 2, "breaks": 0, "threads": 1},
    ]
    exported = pl.read_csv(target)
    assert exported.select("line", "item", "event", "expected_thread", "actual_thread").rows() == [
        (2, 0, "quality.get_metrics", "t1", "t2")
    ]


@pytest.mark.parametrize("bad_line", ["", "not json\n"])  # the fast path, and the exact path
def test_out_of_range_and_non_finite_timestamps_are_bad_not_a_crash(tmp_path, bad_line):
    values = ["NaN", "inf", 1e30, "1e21", "-2026-11-24T08:00:01Z", "0001-01-01T00:00:00Z"]
    lines = [{**LINES[0], "timestamp": v} for v in values]
    path = tmp_path / "ts.jsonl"
    path.write_text(bad_line + "\n".join(json.dumps(x) for x in [*lines, LINES[1]]) + "\n")
    report = audit([str(path)])
    assert report["rejected_by_reason"].get("bad_timestamp") == len(values)
    assert report["events"] == 1

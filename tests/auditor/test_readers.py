"""Tests for auditor/readers/__init__.py: dispatch by format and concatenation of sources."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest
import zstandard
from polars.testing import assert_frame_equal

from auditor.errors import UsageError
from auditor.fields import ReadOptions
from auditor.inputs import expand_inputs
from auditor.readers import FORMATS, group_by_format, reader_for, scan_sources
from auditor.sources import Source
from tests.auditor.expect import records

FIXTURES = Path(__file__).parent.parent / "fixtures" / "otlp"
GCP = [
    {
        "logName": "projects/p/logs/l",
        "timestamp": "2024-01-01T00:00:00Z",
        "jsonPayload": {"user_id": "u1", "event": "e"},
    }
]
ZIPKIN = [
    {
        "traceId": "a1",
        "id": "b2",
        "name": "z",
        "timestamp": 1704067201000000,
        "localEndpoint": {"serviceName": "s"},
        "tags": {"user.id": "u2"},
    }
]


@pytest.fixture
def mixed(tmp_path: Path) -> list[Source]:
    shutil.copy(FIXTURES / "otlp-example-trace.json", tmp_path / "trace.json")
    (tmp_path / "gcp.json").write_text(json.dumps(GCP, indent=2))
    (tmp_path / "zipkin.json").write_text(json.dumps(ZIPKIN))
    (tmp_path / "app.jsonl").write_text('{"timestamp": "2024-01-01T00:00:00Z"}\n')
    names = ["gcp.json", "trace.json", "zipkin.json", "app.jsonl"]
    return [Source(name=n, path=tmp_path / n) for n in names]


def test_auto_groups_sources_by_detected_format(mixed):
    groups = group_by_format(mixed, "auto")
    assert {fmt: [s.name for s in group] for fmt, group in groups.items()} == {
        "gcp": ["gcp.json"],
        "otlp": ["trace.json"],
        "zipkin": ["zipkin.json"],
        "jsonl": ["app.jsonl"],
    }


def test_auto_concatenates_every_format(mixed):
    frame = scan_sources(mixed[:3], "auto", ReadOptions()).collect()
    expected = records(
        {
            "source": "gcp.json",
            "line": 2,
            "ts": "2024-01-01T00:00:00Z",
            "user_id": "u1",
            "event": "e",
        },
        {
            "source": "trace.json",
            "line": 1,
            "ts": "2018-12-13T14:51:00Z",
            "event": "I'm a server span",
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "span_id": "eee19b7ec3c1b174",
        },
        {
            "source": "zipkin.json",
            "line": 1,
            "ts": "2024-01-01T00:00:01Z",
            "user_id": "u2",
            "event": "z",
            "trace_id": "a1",
            "span_id": "b2",
        },
    )
    assert_frame_equal(frame, expected)


def test_explicit_format_reads_every_source_with_it(mixed):
    frame = scan_sources(mixed[:2], "gcp", ReadOptions()).collect()
    assert frame["reject_reason"].to_list() == [None, "missing_timestamp"]


def test_unknown_format_is_a_usage_error(mixed):
    with pytest.raises(UsageError) as info:
        scan_sources(mixed, "csv", ReadOptions())
    assert str(info.value) == (
        "unknown format 'csv'; use one of auto, jsonl, json, otlp, gcp, jaeger, zipkin, console, docker, cri, embedded, prefixed"
    )


def test_every_format_but_auto_has_a_reader_here_or_on_the_jsonl_branch():
    for fmt in FORMATS[2:]:
        assert reader_for(fmt).__name__ == f"scan_{fmt}"


def test_no_sources_give_the_empty_frame():
    assert_frame_equal(scan_sources([], "auto", ReadOptions()).collect(), records())


def test_unspooled_stdin_is_detected_and_read(monkeypatch):
    class _Stdin:
        buffer = io.BytesIO(json.dumps(ZIPKIN).encode())

    monkeypatch.setattr(sys, "stdin", _Stdin())
    frame = scan_sources([Source(name="-", path=None)], "auto", ReadOptions()).collect()
    assert frame.select("source", "event").rows() == [("-", "z")]


def test_collector_legacy_compressed_file_is_detected_and_read(tmp_path):
    """`fileexporter` with `compression: zstd` (legacy): length-prefixed zstd frames."""
    compressor = zstandard.ZstdCompressor()
    document = (FIXTURES / "otlp-example-trace.json").read_bytes()
    frame = compressor.compress(json.dumps(json.loads(document)).encode())
    path = tmp_path / "traces.json"
    path.write_bytes((len(frame).to_bytes(4, "big") + frame) * 2)
    sources = expand_inputs([str(path)])
    frame_out = scan_sources(sources, "auto", ReadOptions()).collect()
    assert sources[0].compression == "zstd-framed"
    assert frame_out.select("line", "event").rows() == [
        (1, "I'm a server span"),
        (2, "I'm a server span"),
    ]


def test_collector_legacy_compressed_json_lines_are_read_line_by_line(tmp_path):
    """The same framing around JSON log lines (one frame a line): read as JSON lines, and a
    file cut inside its last frame keeps the whole frames and counts one `invalid_json`."""
    compressor = zstandard.ZstdCompressor()
    lines = [
        f'{{"timestamp": "2026-11-24T08:00:0{n}Z", "user_id": "u", "thread_id": "t",'
        f' "event": "e{n}"}}'.encode()
        for n in range(3)
    ]
    frames = [compressor.compress(line) for line in lines]
    data = b"".join(len(f).to_bytes(4, "big") + f for f in frames)
    whole, cut = tmp_path / "logs.jsonl", tmp_path / "cut.jsonl"
    whole.write_bytes(data)
    cut.write_bytes(data[:-3])
    for fmt in ("auto", "jsonl"):
        frame = scan_sources(expand_inputs([str(whole)]), fmt, ReadOptions()).collect()
        assert frame.select("line", "event", "reject_reason").rows() == [
            (1, "e0", None),
            (2, "e1", None),
            (3, "e2", None),
        ]
    frame = scan_sources(expand_inputs([str(cut)]), "jsonl", ReadOptions()).collect()
    assert frame.select("line", "event", "reject_reason").rows() == [
        (1, "e0", None),
        (2, "e1", None),
        (3, None, "invalid_json"),
    ]


_CUT_EMOJI = r'"t\ud83d"'  # a JSON escape: the high half of an emoji, alone


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "zipkin.json",  # an array, as Zipkin's API writes spans
            r'[{"traceId": "0000000000000001", "id": "0000000000000001", "name": "e",'
            r' "timestamp": 1795507200000000,'
            r' "tags": {"user.id": "u", "thread.id": ' + _CUT_EMOJI + "}}]",
        ),
        (
            "gcp.json",  # an array, as `gcloud logging read --format=json` writes entries
            r'[{"logName": "projects/p/logs/app", "timestamp": "2026-11-24T08:00:00Z",'
            r' "jsonPayload": {"user_id": "u", "thread_id": ' + _CUT_EMOJI + "}}]",
        ),
        (
            "spans.jsonl",  # OTLP, a document a line
            r'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "01", "spanId": "02",'
            r' "name": "e", "startTimeUnixNano": "1795507200000000000", "attributes":'
            r' [{"key": "user.id", "value": {"stringValue": "u"}},'
            r' {"key": "thread.id", "value": {"stringValue": ' + _CUT_EMOJI + "}}]}]}]}]}",
        ),
        (
            "log.jsonl",  # JSON lines
            r'{"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "thread_id": '
            + _CUT_EMOJI
            + "}",
        ),
    ],
)
def test_a_lone_surrogate_reads_the_same_in_every_format(tmp_path, name, text):
    """Python's decoder reads a lone surrogate escape into a string no Polars column can
    hold (arrays of Zipkin spans or Cloud Logging entries were a traceback): every format
    reads it as Polars' JSON readers do."""
    path = tmp_path / name
    path.write_text(text + "\n")
    frame = scan_sources(expand_inputs([str(path)]), "auto", ReadOptions()).collect()
    assert frame.select("user_id", "thread_id", "reject_reason").rows() == [("u", "t\x00", None)]

"""Tests for auditor/readers/jsonl.py: shapes, timestamps, IDs, options and every bad input."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import UsageError
from auditor.fields import build_read_options
from auditor.readers.jsonl import scan_jsonl
from auditor.readers.jsonl_plan import RAW_SCHEMA, _raw_row, build_plan, decode_lines
from auditor.schema import RECORD_SCHEMA
from auditor.sources import Source

GOOD = {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "thread_id": "t", "event": "e"}


def write(tmp_path: Path, lines: list[str | bytes], name: str = "log.jsonl") -> Path:
    path = tmp_path / name
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def read(path: Path, **options) -> pl.DataFrame:
    """The records of one file in line order (the reader does not promise an order)."""
    return scan_jsonl([Source.for_path(path)], build_read_options(**options)).collect().sort("line")


def reasons(frame: pl.DataFrame) -> list[tuple[int, str | None]]:
    return list(frame.select("line", "reject_reason").iter_rows())


def test_frame_has_the_record_schema(tmp_path):
    frame = read(write(tmp_path, [json.dumps(GOOD)]))
    assert frame.schema == pl.Schema(RECORD_SCHEMA)
    assert frame.row(0, named=True)["source"] == str(tmp_path / "log.jsonl")


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz"])
def test_every_bad_line_has_its_reason_and_physical_line(tmp_path, name):
    lines: list[str | bytes] = [
        json.dumps(GOOD),
        "",
        "   ",
        "not json",
        "[1, 2]",
        '"a string"',
        json.dumps({"user_id": "u"}),
        json.dumps({**GOOD, "timestamp": "yesterday"}),
        json.dumps({**GOOD, "timestamp": 0}),
        json.dumps({**GOOD, "timestamp": -5}),
        json.dumps({**GOOD, "thread_id": 12}),
        json.dumps({**GOOD, "user_id": True}),
        json.dumps({**GOOD, "event": ["x"]}),
        json.dumps({**GOOD, "run_id": ["r"]}),
        b'{"timestamp": "2026-11-24T08:00:00Z", "user_id": "\xff\xfe"}',
        json.dumps(GOOD),
        '{"timestamp": "2026-11-24T08:00:00Z", "user_id": "trunc',
    ]
    assert reasons(read(write(tmp_path, lines, name))) == [
        (1, None),
        (4, "invalid_json"),
        (5, "not_an_object"),
        (6, "not_an_object"),
        (7, "missing_timestamp"),
        (8, "bad_timestamp"),
        (9, "bad_timestamp"),
        (10, "bad_timestamp"),
        (11, "wrong_type"),
        (12, "wrong_type"),
        (13, "wrong_type"),
        (14, "wrong_type"),
        (15, "invalid_utf8"),
        (16, None),
        (17, "invalid_json"),
    ]


def test_rejected_rows_keep_source_line_and_reason(tmp_path):
    row = read(write(tmp_path, [json.dumps({**GOOD, "thread_id": 12})])).row(0, named=True)
    assert (row["line"], row["reject_reason"]) == (1, "wrong_type")
    assert row["source"] == str(tmp_path / "log.jsonl")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24T08:00:00Z", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        ("2026-11-24T08:00:00.123456789Z", datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-24T10:00:00.5+02:00", datetime(2026, 11, 24, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-24 08:00:00.25Z", datetime(2026, 11, 24, 8, 0, 0, 250000, tzinfo=UTC)),
        (1795507200, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        (1795507200.5, datetime(2026, 11, 24, 8, 0, 0, 500000, tzinfo=UTC)),
        ("1795507200", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        (1795507200123, datetime(2026, 11, 24, 8, 0, 0, 123000, tzinfo=UTC)),
        (1795507200123456, datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)),
        ("1795507200123456789", datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(tmp_path, value, expected):
    frame = read(write(tmp_path, [json.dumps({**GOOD, "timestamp": value})]))
    assert frame["ts"].to_list() == [expected]


def test_unix_nano_field_is_always_nanoseconds(tmp_path):
    record = {"timeUnixNano": "1795507200", "user_id": "u", "thread_id": "t"}
    frame = read(write(tmp_path, [json.dumps(record)]))
    assert frame["ts"].to_list() == [datetime(1970, 1, 1, 0, 0, 1, 795507, tzinfo=UTC)]


def test_ids_are_normalized(tmp_path):
    record = {
        **GOOD,
        "trace": "projects/p1/traces/ABCDEF0123",
        "span_id": "0xAB12",
        "session_id": "",
    }
    row = read(write(tmp_path, [json.dumps(record)])).row(0, named=True)
    assert (row["trace_id"], row["span_id"], row["session_id"]) == ("abcdef0123", "ab12", None)


def test_digit_string_ids_are_strings_not_wrong_types(tmp_path):
    record = {**GOOD, "user_id": "12345", "span_id": "1234567890123456"}
    row = read(write(tmp_path, [json.dumps(record)] * 3)).row(2, named=True)
    assert (row["user_id"], row["span_id"], row["reject_reason"]) == (
        "12345",
        "1234567890123456",
        None,
    )


@pytest.mark.parametrize("spilled", [False, True])
def test_typed_event_names_on_the_fast_path_are_wrong_types(tmp_path, spilled):
    """The fast path checks event names on their distinct values after the read: a number,
    bool or array there is wrong_type; a digit string is a name, in memory or spilled; an
    object is a namespace (ECS's `event.action`), no name: the event is unnamed."""
    from auditor.audit import AuditOptions, audit

    events: list[object] = ["a", 5, "5", True, ["x"], "a", {"action": "x"}]
    lines = [json.dumps({**GOOD, "event": e, "run_id": f"r{i}"}) for i, e in enumerate(events)]
    path = write(tmp_path, lines)
    if spilled:
        report = audit([str(path)], AuditOptions(label="x"))
        assert report["rejected_by_reason"] == {"wrong_type": 3}
        assert [r["line"] for r in report["rejected_examples"]] == [2, 4, 5]
        assert (report["lines"], report["events"]) == (7, 4)
        by_event = sorted((str(e["event"]), e["events"]) for e in report["by_event"])
        assert by_event == [("5", 1), ("None", 1), ("a", 2)]
        return
    frame = read(path)
    assert reasons(frame) == [
        (1, None),
        (2, "wrong_type"),
        (3, None),
        (4, "wrong_type"),
        (5, "wrong_type"),
        (6, None),
        (7, None),
    ]
    assert frame.row(-1, named=True)["event"] is None


def test_loguru_serialized_records(tmp_path):
    record = {
        "text": "2026-11-24 | hello\n",
        "record": {
            "time": {"timestamp": 1795507200.25, "repr": "2026-11-24 08:00:00.250000+00:00"},
            "message": "hello",
            "extra": {"user_id": "u1", "thread_id": "t1", "session_id": "s1"},
        },
    }
    row = read(write(tmp_path, [json.dumps(record)])).row(0, named=True)
    assert row["ts"] == datetime(2026, 11, 24, 8, 0, 0, 250000, tzinfo=UTC)
    assert (row["user_id"], row["thread_id"], row["session_id"]) == ("u1", "t1", "s1")


def test_structlog_and_nested_containers(tmp_path):
    lines = [
        json.dumps(
            {
                "event": "chat.user_message",
                "timestamp": "2026-11-24T08:00:00Z",
                "user": {"id": "u1"},
                "thread.id": "t1",
            }
        ),
        json.dumps(
            {"ts": 1795507200, "context": {"user_id": "u2"}, "attributes": {"thread.id": "t2"}}
        ),
        json.dumps(
            {
                "time": "2026-11-24T08:00:00Z",
                "labels": {"user_id": "u3"},
                "fields": {"thread_id": "t3"},
            }
        ),
    ]
    frame = read(write(tmp_path, lines))
    assert frame.select("user_id", "thread_id").rows() == [("u1", "t1"), ("u2", "t2"), ("u3", "t3")]


def test_top_level_candidates_win_over_containers(tmp_path):
    record = {**GOOD, "user_id": "top", "extra": {"user_id": "nested"}}
    assert read(write(tmp_path, [json.dumps(record)]))["user_id"].to_list() == ["top"]


def test_map_puts_a_path_first(tmp_path):
    record = {**GOOD, "ctx": {"conv": "c9"}}
    frame = read(write(tmp_path, [json.dumps(record)]), maps=["thread_id=ctx.conv"])
    assert frame["thread_id"].to_list() == ["c9"]


def test_extract_fills_a_field_only_when_absent(tmp_path):
    lines = [
        json.dumps(
            {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "msg": "reply in thread_42 sent"}
        ),
        json.dumps({**GOOD, "message": "reply in thread_43 sent"}),
    ]
    frame = read(write(tmp_path, lines), extracts=[r"thread_id=(thread_\d+)"])
    assert frame["thread_id"].to_list() == ["thread_42", "t"]


def test_extract_regex_polars_cannot_run_is_a_usage_error():
    with pytest.raises(UsageError, match=r"--extract thread_id: regex .* is not supported") as e:
        build_read_options(extracts=[r"thread_id=(?<=x)(\w+)"])
    assert "\n" not in str(e.value)  # one line, not Polars' whole message


def test_an_empty_capture_is_absent(tmp_path):
    lines = [json.dumps({k: v for k, v in GOOD.items() if k != "thread_id"} | {"msg": "thread="})]
    frame = read(write(tmp_path, lines), extracts=[r"thread_id=thread=(\S*)"])
    assert frame["thread_id"].to_list() == [None]


def test_a_byte_order_mark_before_the_first_line_is_dropped(tmp_path):
    for name in ("bom.jsonl", "bom.jsonl.gz"):
        path = write(
            tmp_path, [b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), json.dumps(GOOD)], name
        )
        assert reasons(read(path)) == [(1, None), (2, None)]


def test_split_key_is_stringified(tmp_path):
    lines = [
        json.dumps({**GOOD, "service": {"version": "1.2"}}),
        json.dumps({**GOOD, "service": {"version": 3}}),
        json.dumps(GOOD),
    ]
    frame = (
        scan_jsonl(
            [Source.for_path(write(tmp_path, lines))],
            build_read_options(split_by="service.version"),
        )
        .collect()
        .sort("line")
    )
    assert frame["split_key"].to_list() == ["1.2", "3", None]


def test_a_key_seen_only_late_in_a_big_file_is_still_found(tmp_path):
    """The fast path samples the first lines; a later key must not be missed."""
    early = [json.dumps(GOOD)] * 5000
    late = json.dumps(
        {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "gen_ai.conversation.id": "late"}
    )
    frame = read(write(tmp_path, [*early, late]))
    assert frame["thread_id"][-1] == "late"
    assert frame.height == 5001


def test_many_sources_keep_their_names_and_lines(tmp_path):
    a = write(tmp_path, [json.dumps(GOOD)], "a.jsonl")
    b = write(tmp_path, ["", json.dumps(GOOD)], "b.jsonl")
    frame = scan_jsonl([Source.for_path(a), Source.for_path(b)], build_read_options()).collect()
    assert sorted(frame.select("source", "line").rows()) == [(str(a), 1), (str(b), 2)]


def test_flagged_lines_are_fetched_exactly_across_anchors(tmp_path, monkeypatch):
    """IDs that read like numbers are re-decoded from their own line, wherever it sits."""
    monkeypatch.setattr("auditor.readers.jsonl._ANCHOR", 37)
    monkeypatch.setattr("auditor.readers.jsonl._INDEX_READ", 101)  # blocks cut lines too
    lines = []
    for i in range(60):
        span: object = f"{i}" * (1 + i % 3) if i % 4 == 0 else f"s{i}"
        if i == 29:
            span = 29  # a real number: wrong_type
        lines.append(json.dumps({**GOOD, "span_id": span, "run_id": f"r{i}"}))
    frame = read(write(tmp_path, lines))
    assert frame.height == 60
    assert frame.filter(pl.col("reject_reason").is_not_null()).select(
        "line", "reject_reason"
    ).rows() == [(30, "wrong_type")]
    accepted = frame.filter(pl.col("reject_reason").is_null())
    assert accepted["run_id"].to_list() == [f"r{i}" for i in range(60) if i != 29]
    assert accepted.filter(pl.col("line") == 9)["span_id"].to_list() == ["888"]


def test_readers_report_progress_in_bytes(tmp_path):
    from auditor import progress

    path = write(tmp_path, [json.dumps(GOOD)] * 10)
    seen: list[int] = []
    with progress.reporting(seen.append):
        read(path)
    assert sum(seen) == path.stat().st_size


@pytest.mark.parametrize("cut", [40, 5])
@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_a_cut_compressed_file_counts_the_truncated_record(tmp_path, suffix, cut):
    """A stream cut mid-record (or between records) is one invalid_json record, never a crash."""
    import zstandard

    text = "".join(json.dumps({**GOOD, "run_id": f"r{i:04d}"}) + "\n" for i in range(3000))
    raw = text.encode()
    data = gzip.compress(raw) if suffix == ".gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"log.jsonl{suffix}"
    path.write_bytes(data[: len(data) - cut])
    frame = read(path)
    rejected = frame.filter(pl.col("reject_reason").is_not_null())
    assert rejected.select("line", "reject_reason").rows() == [(frame.height, "invalid_json")]
    accepted = frame.filter(pl.col("reject_reason").is_null())
    assert accepted["line"].to_list() == list(range(1, frame.height))
    assert accepted["run_id"].to_list() == [f"r{i:04d}" for i in range(frame.height - 1)]
    assert 1000 < frame.height <= 3001  # what came out before the cut is kept


def test_a_file_cut_exactly_between_records_counts_one_more_record(tmp_path):
    lines = [json.dumps(GOOD)] * 3
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    # a gzip stream without its 8-byte trailer: every line came out, the stream is still cut
    path = tmp_path / "log.jsonl.gz"
    path.write_bytes(whole[:-8])
    assert reasons(read(path)) == [(1, None), (2, None), (3, None), (4, "invalid_json")]


def test_compact_read_fetches_the_text_of_any_line(tmp_path, monkeypatch):
    """The compact read keeps keys only; its fetch re-reads lines exactly, across anchors and chunks."""
    from auditor.readers.jsonl import read_jsonl_compact

    monkeypatch.setattr("auditor.readers.jsonl._ANCHOR", 37)
    monkeypatch.setattr("auditor.readers.jsonl._INDEX_READ", 101)  # blocks cut lines too
    lines = [json.dumps({**GOOD, "run_id": f"r{i}", "trace_id": f"0xAB{i}"}) for i in range(50)]
    path = write(tmp_path, lines)
    [(orders, frame, fetch)] = read_jsonl_compact(
        [Source.for_path(path)], build_read_options(), [str(path)]
    )
    assert orders == {0}
    assert frame.height == 50 and "run_id" not in frame.columns
    wanted = pl.DataFrame({"source_order": [0, 0, 0, 0], "line": [50, 1, 23, 24]})
    got = fetch(wanted).sort("line")
    assert got["line"].to_list() == [1, 23, 24, 50]
    assert got["run_id"].to_list() == ["r0", "r22", "r23", "r49"]
    assert got["trace_id"].to_list() == ["ab0", "ab22", "ab23", "ab49"]
    assert got["source"].to_list() == [str(path)] * 4


def test_a_file_name_that_is_not_uri_safe(tmp_path):
    """The fast path reads the file through a file:// URI: odd names must still work."""
    from auditor.readers.jsonl import _no_finish, _read_ndjson, build_plan

    lines = [json.dumps({**GOOD, "run_id": f"r{i}"}) for i in range(3)]
    path = write(tmp_path, lines, "my log #1 %20 ü.jsonl")
    options = build_read_options()
    fast = _read_ndjson(Source.for_path(path), build_plan(options), options, _no_finish)
    assert fast is not None
    assert fast[0].sort("line")["run_id"].to_list() == ["r0", "r1", "r2"]


@pytest.mark.parametrize("name", ["log.jsonl.gz", "log.jsonl"])
def test_compact_read_of_the_exact_path_fetches_by_reading_again(tmp_path, name):
    """Compressed (or bad-line) files keep only compact rows; their text is read again."""
    from auditor.readers.jsonl import read_jsonl_compact

    lines = [json.dumps({**GOOD, "run_id": f"r{i}", "trace_id": f"0xAB{i}"}) for i in range(6)]
    lines.insert(2, "not json")
    path = write(tmp_path, lines, name)
    [(_orders, frame, fetch)] = read_jsonl_compact(
        [Source.for_path(path)], build_read_options(), [str(path)]
    )
    assert frame.height == 7 and "run_id" not in frame.columns
    assert frame.filter(pl.col("reject_reason").is_not_null())["line"].to_list() == [3]
    got = fetch(pl.DataFrame({"source_order": [0, 0], "line": [7, 1]})).sort("line")
    assert got.select("line", "run_id", "trace_id").rows() == [(1, "r0", "ab0"), (7, "r5", "ab5")]


def test_projection_reads_used_keys_and_watches_fields_always_set():
    """From a sample: keys used are text; a field whose first used key is always set is
    watched (its later candidates are not read); earlier candidates are always read."""
    from auditor.readers.jsonl_plan import build_plan, projection

    plan = build_plan(build_read_options())
    sample = [{**GOOD, "run_id": "r"}, {**GOOD, "run_id": None}]
    chosen = projection(plan, sample, extracts=False)
    text = {k for k, t in chosen.schema.items() if t == pl.String()}
    assert text == {"timestamp", "user_id", "thread_id", "event", "run_id"}
    assert {"user_id", "thread_id", "event", "ts_raw"} <= set(chosen.watched)
    assert "run_id" not in chosen.watched  # missing once: its later candidates are read
    assert {"user.id", "user", "run.id", "extra", "labels"} <= set(chosen.schema)
    assert "enduser.id" not in chosen.schema and "message" not in chosen.schema
    assert "message" in projection(plan, sample, extracts=True).schema


@pytest.mark.parametrize(
    "late",
    [
        {"timestamp": "2026-11-24T08:00:00Z", "enduser.id": "e", "thread_id": "t"},
        {"timestamp": "2026-11-24T08:00:00Z", "enduser": {"id": "e"}, "thread_id": "t"},
        {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "user.id": "e", "thread_id": "t"},
        {"time": "2026-11-24T08:00:00Z", "user_id": "e", "thread_id": "t"},
    ],
    ids=["later-key", "later-nested-key", "earlier-key", "later-ts-key"],
)
def test_a_field_always_set_in_the_sample_is_still_exact_later(tmp_path, late):
    """Watched fields: a late line where the sampled key is missing, or where an earlier
    candidate appears, gets the value the exact decode gives."""
    frame = read(write(tmp_path, [json.dumps(GOOD)] * 5000 + [json.dumps(late)]))
    assert frame.height == 5001
    last = frame.row(-1, named=True)
    assert last["user_id"] == "e" and last["reject_reason"] is None
    assert last["ts"] is not None


def test_an_empty_value_of_the_sampled_key_still_wins(tmp_path):
    """The first value present wins, an empty string included (then it counts as absent):
    a later candidate does not fill it, as on the exact path."""
    late = {"timestamp": "2026-11-24T08:00:00Z", "user_id": "", "enduser.id": "e", "thread_id": "t"}
    frame = read(write(tmp_path, [json.dumps(GOOD)] * 5000 + [json.dumps(late)]))
    assert frame.row(-1, named=True)["user_id"] is None


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(st.sampled_from([b"\n", b"\r\n", b"x", b"{}", b"a" * 40, b" "]), max_size=60).map(
        b"".join
    ),
    anchor=st.integers(1, 50),
    block=st.integers(1, 70),
)
def test_line_index_counts_and_fetches_every_line(tmp_path, monkeypatch, data, anchor, block):
    """Whatever the anchor spacing and block size: the physical line count (a last line without
    newline counts) and each line's text, as `bytes.split` sees them."""
    from auditor.readers.jsonl import _LineIndex

    monkeypatch.setattr("auditor.readers.jsonl._ANCHOR", anchor)
    monkeypatch.setattr("auditor.readers.jsonl._INDEX_READ", block)
    path = tmp_path / "lines.jsonl"
    path.write_bytes(data)
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    index = _LineIndex.build(path)
    assert index.total == len(expected)
    numbers = list(range(1, index.total + 1))
    assert index.fetch(numbers) == dict(zip(numbers, expected, strict=True))


def test_a_repeated_key_keeps_its_first_value_on_every_path(tmp_path):
    """Polars' readers keep a repeated key's first value: the per-line decoder does too, so a
    line reads the same whether its file takes the fast path or not (a `{...}` line that is
    not JSON sends its whole batch to the per-line decoder)."""
    dup = (
        '{"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "thread_id": "t9",'
        ' "ctx": {"run_id": "r1", "run_id": "r2"}, "msg": "said \\": here", "thread_id": "t1"}'
    )
    fast = read(write(tmp_path, [dup], "fast.jsonl"), maps=["run_id=ctx.run_id"])
    exact = read(
        write(tmp_path, [dup, '{"timestamp": 1,}'], "exact.jsonl"), maps=["run_id=ctx.run_id"]
    )
    assert reasons(exact) == [(1, None), (2, "invalid_json")]
    columns = ["thread_id", "run_id", "ts"]
    assert (
        fast.select(columns).row(0)
        == exact.select(columns).row(0)
        == (
            "t9",
            "r1",
            datetime(2026, 11, 24, 8, tzinfo=UTC),
        )
    )


@pytest.mark.parametrize("bad_line", [[], ["not json"]])  # the fast path, and the exact path
def test_an_id_key_spelled_with_an_escape_is_still_type_checked(tmp_path, bad_line):
    escaped = '{"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "thread\\u005fid": 5}'
    frame = read(write(tmp_path, [escaped, json.dumps(GOOD), *bad_line]))
    assert reasons(frame)[:2] == [(1, "wrong_type"), (2, None)]


def test_an_escape_in_a_value_keeps_a_line_on_the_vectorized_decoder(monkeypatch):
    """json.dumps escapes every non-ASCII character: such lines must not be decoded one by
    one in Python (only a key spelled with an escape needs that)."""
    from auditor.readers import jsonl_plan

    calls = []
    real = jsonl_plan._raw_row
    monkeypatch.setattr(
        jsonl_plan, "_raw_row", lambda text, plan: calls.append(text) or real(text, plan)
    )
    nested = {"timestamp": "2026-11-24T08:00:00Z", "attributes": {"user_id": "u", "thread_id": "t"}}
    lines = [json.dumps({**nested, "msg": "caf\u00e9"}) for _ in range(3)]
    escaped_key = '{"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "thread\\u005fid": 5}'
    plan = jsonl_plan.build_plan(build_read_options())
    frame = jsonl_plan.decode_lines(pl.Series([*lines, escaped_key]), plan)
    assert frame["thread_id"].to_list()[:3] == ["t", "t", "t"]
    assert calls == [escaped_key]


_LINE_VARIANTS = [
    b'{"timestamp": 1, "user_id": "u", "thread_id": "t"}',
    b'{"timestamp": "2026-11-24T08:00:00Z", "msg": "caf\xc3\xa9"}',
    b'{"timestamp": 2}\r',
    b"",
    b"  ",
    b"\r",
    b" \t\x0b\x0c",
    b"\x1c",  # not ASCII whitespace: a record (invalid JSON), on every path
    b"\xc2\x85",  # U+0085: whitespace to `str.strip`, not to `bytes.strip`
    b"[1]",
    b"not json",
]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.sampled_from([*_LINE_VARIANTS, b"\xff"]), max_size=25),
    final_newline=st.booleans(),
    bom=st.booleans(),
)
def test_a_plain_file_split_at_once_reads_as_the_line_loop(tmp_path, lines, final_newline, bom):
    """Small plain files are split in one go (`_whole_lines`); compressed ones go through the
    line loop: the same bytes give the same decoded batch, blank lines, line numbers, BOM,
    invalid UTF-8 and a last line without newline included."""
    from auditor.readers.jsonl import _bytes_batches, build_plan

    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (b"\n" if final_newline else b"")
    plain, packed = tmp_path / "split.jsonl", tmp_path / "split.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    plan = build_plan(build_read_options())
    at_once = pl.concat(_bytes_batches([Source.for_path(plain)], plan), how="diagonal_relaxed")
    looped = pl.concat(
        _bytes_batches([Source.for_path(packed, name=str(plain))], plan), how="diagonal_relaxed"
    )
    assert at_once.equals(looped, null_equal=True)
    records = [line for line in b"\n".join(lines).split(b"\n") if line.strip()]
    assert at_once.height == len(records)  # one row a non-blank line


def test_a_large_file_with_a_bad_line_is_streamed_not_read_whole(tmp_path, monkeypatch):
    """Only small files are split at once: a large one that leaves the fast path (a bad
    line) is read line by line, never held whole in memory."""
    path = write(tmp_path, [json.dumps(GOOD), "not json", json.dumps(GOOD)])
    monkeypatch.setattr("auditor.readers.jsonl._SMALL_FILE_BYTES", 16)  # it counts as large

    def whole(self: Path) -> bytes:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)
    assert reasons(read(path)) == [(1, None), (2, "invalid_json"), (3, None)]


def test_batches_of_long_lines_are_cut_by_size_too(tmp_path, monkeypatch):
    """A batch holds at most about `chars` characters (plus one small file): many small files
    of long lines do not make one batch of their whole size."""
    from auditor.readers.jsonl import _line_batches

    line = json.dumps({**GOOD, "msg": "x" * 1000})
    sources = []
    for n in range(12):
        path = write(tmp_path, [line] * 3, f"long-{n:02d}.jsonl")
        sources.append(Source.for_path(path))
    batches = list(_line_batches(sources, size=1000, chars=7000))
    assert [len(b) for b in batches] == [9, 9, 9, 9]  # 3 files a batch: the cap after each
    assert all(b.chars <= 7000 + 3 * len(line) for b in batches)
    assert [n for b in batches for n in b.numbers] == [1, 2, 3] * 12


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'{"a": "u\ud800"}', "u\x00"),  # a lone high surrogate: as Polars reads it
        (r'{"a": "u\ud800x\n"}', "u\x00x\n"),
        (r'{"a": "a\udc00b"}', "a\ufffdb"),  # a lone low one (Polars refuses the line)
        (r'{"a": "\ud83d\ude00"}', "\U0001f600"),  # a pair: one character
        (r'{"a": "\ud83d\ud83d\ude00"}', "\ufffd\U0001f600"),  # before a \u: refused
        (r'{"a": "\ude00\ud83d"}', "\ufffd\x00"),
        (r'{"a": "\\ud800"}', "\\ud800"),  # an escaped backslash, then text
    ],
)
def test_a_lone_surrogate_escape_reads_as_polars_reads_it(text, value):
    from auditor.readers.jsonl_plan import load_line

    assert load_line(text) == {"a": value}


def test_a_lines_decoding_does_not_depend_on_the_other_lines_of_its_batch():
    """A line that fails the vectorized decode (a trailing comma) sends its batch line by
    line; a lone surrogate escape (a JavaScript logger cutting an emoji) then still reads as
    it does alone: the record is kept, U+FFFD in place of the half character."""
    from auditor.readers.jsonl_plan import build_plan, decode_lines

    plan = build_plan(build_read_options())
    lines = [
        r'{"timestamp": "2024-01-01T00:00:00Z", "user_id": "u\ud800", "thread_id": "t"}',
        r'{"timestamp": "2024-01-01T00:00:01Z", "user_id": "v", "msg": "cut \ud83d"}',
        '{"timestamp": "2024-01-01T00:00:02Z", "user_id": "w", "thread_id": "t",}',
        '{"timestamp": "2024-01-01T00:00:03Z", "user_id": "x", "thread_id": "t"}',
    ]
    together = decode_lines(pl.Series(lines), plan)
    alone = pl.concat([decode_lines(pl.Series([line]), plan) for line in lines])
    assert together.equals(alone, null_equal=True)
    assert together["user_id"].to_list() == ["u\x00", "v", None, "x"]
    assert together["raw_reject"].to_list() == [None, None, "invalid_json", None]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [r"\ud83d", r"\ude00", r"\udbff", "x", r"\n", r"\\", r"\"", r"\u0041", "\u00e9"]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_string_with_surrogate_escapes_reads_as_polars_reads_it(pieces):
    """Wherever Polars' decoder reads a line, the per-line decoder reads the same value: a
    line's values do not depend on which path decoded it."""
    from auditor.readers.jsonl_plan import load_line

    line = '{"a": "' + "".join(pieces) + '"}'
    try:
        polars = pl.Series([line]).str.json_decode(pl.Struct({"a": pl.String})).struct.field("a")
    except pl.exceptions.ComputeError:
        return  # Polars refuses the line: its file is read by the per-line decoder alone
    assert load_line(line) == {"a": polars[0]}


def test_a_redone_line_keeps_the_value_the_fast_path_read(tmp_path):
    """A line decoded again from its text (an all-digit run ID) reads a lone surrogate as the
    fast path read its neighbours: one thread, no break."""
    from auditor.audit import AuditOptions, audit

    thread = r'"thread_id": "t\ud83d"'  # a JSON escape, not a Python one
    lines = [
        f'{{"timestamp": "2026-11-24T08:00:0{n}Z", "user_id": "u", "session_id": "s", {thread}'
        + (', "run_id": "123"}' if n == 1 else "}")
        for n in range(3)
    ]
    report = audit([str(write(tmp_path, lines))], AuditOptions(label="x"))
    assert (report["events"], report["threads"], report["breaks"]) == (3, 1, 0)


def test_a_shared_fetch_decodes_the_lines_of_all_its_files_at_once(tmp_path, monkeypatch):
    """The text of wanted records of many files, read again and decoded in one go (a decode
    a file made `--export-breaks` over a thousand small files take 40 s)."""
    from auditor.readers import jsonl
    from auditor.readers.jsonl_plan import build_plan

    sources = []
    for n in range(3):
        rows = [json.dumps({**GOOD, "user_id": f"u{n}-{k}"}) for k in range(1, 4)]
        sources.append(Source.for_path(write(tmp_path, rows, f"f{n}.jsonl")))
    calls = []
    real = jsonl.decode_lines
    monkeypatch.setattr(jsonl, "decode_lines", lambda t, p: calls.append(len(t)) or real(t, p))
    options = build_read_options()
    fetch = jsonl._shared_fetch(sources, [5, 6, 7], build_plan(options), options)
    wanted = pl.DataFrame(
        {"source_order": [7, 5, 5], "line": [2, 3, 1], "item": [0, 0, 0]},
        schema={"source_order": pl.UInt32, "line": pl.Int64, "item": pl.UInt32},
    )
    got = fetch(wanted).sort("source_order", "line")
    assert calls == [3]
    assert got.select("source_order", "line", "user_id", "source").rows() == [
        (5, 1, "u0-1", sources[0].name),
        (5, 3, "u0-3", sources[0].name),
        (7, 2, "u2-2", sources[2].name),
    ]


_ID = st.sampled_from(["t1", "t2", "u1"])
_SHAPES = {
    "thread.id": st.one_of(st.none(), _ID),
    "thread": st.one_of(st.none(), _ID, st.fixed_dictionaries({"id": st.one_of(st.none(), _ID)})),
    "thread_id": _ID,
    "user.id": st.one_of(st.none(), _ID),
    "user": st.one_of(st.none(), st.fixed_dictionaries({"id": st.one_of(st.none(), _ID)})),
    "extra": st.fixed_dictionaries({}, optional={"thread_id": _ID, "user_id": _ID}),
}


@settings(deadline=None)  # a slow example on a loaded CI machine is no failure
@given(
    records=st.lists(
        st.fixed_dictionaries({"timestamp": st.just("2026-11-24T08:00:00Z")}, optional=_SHAPES),
        min_size=1,
        max_size=6,
    )
)
def test_a_record_reads_the_same_on_the_vectorized_and_the_per_line_decoder(records):
    """A dotted key that is literally null (`"thread.id": null` next to `"thread": {"id":
    ...}`) read as absent on one decoder and as the end of the search on the other: a
    record's IDs then depended on which decoder its neighbours sent it to."""
    plan = build_plan(build_read_options())
    lines = [json.dumps(record) for record in records]
    vectorized = decode_lines(pl.Series(lines, dtype=pl.String), plan)
    columns = [c for c in RAW_SCHEMA if c in vectorized.columns]
    per_line = [{c: _raw_row(line, plan)[c] for c in columns} for line in lines]
    assert vectorized.select(columns).to_dicts() == per_line


def test_a_records_ids_do_not_depend_on_other_lines(tmp_path):
    """The same record, with and without a line whose `thread` is a string (which sends
    the file to the per-line decoder), reads the same thread."""
    record = (
        '{"timestamp": "2026-11-24T08:00:01Z", "user_id": "alice", "thread.id": null,'
        ' "thread": {"id": "t1"}, "extra": {"thread_id": "t9"}, "event": "quality.get_metrics"}'
    )
    other = (
        '{"timestamp": "2026-11-24T08:00:02Z", "user_id": "bob", "thread": "main", "event": "e"}'
    )
    alone = read(write(tmp_path, [record], "alone.jsonl"))
    mixed = read(write(tmp_path, [record, other], "mixed.jsonl"))
    assert alone["thread_id"].to_list() == ["t1"]
    assert mixed["thread_id"].to_list()[0] == "t1"


_ECS = [  # Elastic ECS lines (event.action, or none) among our own (a plain `event` string)
    '{"@timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "session_id": "s",'
    ' "thread_id": "t1", "event": "chat.user_message"}',
    '{"@timestamp": "2026-11-24T08:00:01Z", "user_id": "u", "session_id": "s",'
    ' "thread_id": "t1", "event": {"dataset": "chat.log", "action": "quality.get_metrics"}}',
    '{"@timestamp": "2026-11-24T08:00:02Z", "user_id": "u", "session_id": "s",'
    ' "thread_id": "t2", "event": {"dataset": "chat.log"}}',
    '{"@timestamp": "2026-11-24T08:00:03Z", "user_id": "u", "session_id": "s",'
    ' "thread_id": "t2", "extra": {"event": "thread.switch"}}',
]
_ECS_EVENTS = ["chat.user_message", "quality.get_metrics", None, "thread.switch"]


@pytest.mark.parametrize("layout", ["fast", "bad-line", "gzip"])
def test_a_map_into_an_object_keeps_plain_event_names_on_every_path(tmp_path, layout):
    """`--map event=event.action` among lines whose `event` is a plain string (or inside
    `extra`): those keep their names, and an `event` object without `action` has none (it
    was `wrong_type`; a first fix dropped the plain names)."""
    lines: list[str | bytes] = list(_ECS)
    name = "ecs.jsonl.gz" if layout == "gzip" else "ecs.jsonl"
    if layout == "bad-line":
        lines.append("not json")
    frame = read(write(tmp_path, lines, name), maps=["ts=@timestamp", "event=event.action"])
    assert frame["event"].to_list()[:4] == _ECS_EVENTS
    assert frame["reject_reason"].to_list()[:4] == [None] * 4


def test_a_line_nested_1023_levels_reads_alike_on_the_exact_path(tmp_path):
    """Polars' readers stop at 1,023 levels, orjson at 1,024: such a line went to the
    per-line decoder, whose key count recursed past Python's stack (a traceback)."""
    nested = '{"a": ' * 1023 + "1" + "}" * 1023
    line = json.dumps({**GOOD, "extra": "X"}).replace('"X"', nested)
    frame = read(write(tmp_path, [line, "not json"]))
    assert reasons(frame) == [(1, None), (2, "invalid_json")]


@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    # (a \r stays in its line: only \n ends one)
    block=st.integers(min_value=1, max_value=16),
    final_newline=st.booleans(),
)
def test_lines_cut_across_read_blocks_come_out_whole(lines, block, final_newline):
    """The stream's lines, whatever the blocks it is read in (a long line is gathered
    block by block and joined once: it was copied again at every block, quadratic)."""
    from io import BytesIO
    from unittest import mock

    from auditor.readers import jsonl as module

    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    with mock.patch.object(module, "_READ_BLOCK", block):
        got = list(module._raw_lines(BytesIO(data)))
    *ended, last = data.split(b"\n")
    assert got == [line + b"\n" for line in ended] + ([last] if last else [])


def test_a_file_truncated_while_read_is_said_in_one_line(tmp_path, monkeypatch):
    """logrotate's `copytruncate` cuts a log while it is read: Polars' reader then fails with a
    multi-line object-store error (an OSError, "Requested range was invalid"); the audit says
    which file changed, and how, in one line. The same OSError on an unchanged file stays."""
    from auditor.audit import audit
    from auditor.errors import InputError
    from auditor.readers import jsonl

    path = write(tmp_path, [json.dumps(GOOD)] * 200)
    size = path.stat().st_size

    def cut_while_reading(lazy, spill):
        with path.open("r+b") as handle:
            handle.truncate(1000)
        raise OSError("object-store error: Generic LocalFileSystem error: Requested range")

    monkeypatch.setattr(jsonl, "_run_read", cut_while_reading)
    with pytest.raises(InputError) as caught:
        audit([str(path)])
    assert str(caught.value) == (
        f"{path}: the file changed while it was read (it was {size:,} bytes, now 1,000):"
        " audit a copy, or the file it was rotated to"
    )

    def fail_unchanged(lazy, spill):
        raise OSError("disk on fire")

    monkeypatch.setattr(jsonl, "_run_read", fail_unchanged)
    with pytest.raises(OSError, match="disk on fire"):
        audit([str(path)])


def test_a_file_cut_or_replaced_before_its_lines_are_fetched_is_said_in_one_line(tmp_path):
    """The report's examples are fetched at the end, by byte offsets: a file cut and written
    again meanwhile (copytruncate with the service still logging) gave pieces of other lines,
    and a line first in its block an empty text, silently; a rotation (a new file at the
    path) other lines. A log that only grew keeps its indexed lines."""
    import os

    from auditor.errors import InputError
    from auditor.readers.jsonl import _LineIndex

    line = json.dumps(GOOD)
    path = write(tmp_path, [line] * 50)
    size = path.stat().st_size
    index = _LineIndex.build(path)
    with path.open("a") as handle:
        handle.write(line + "\n")  # grew: fine
    assert index.fetch([1, 50]) == {1: line.encode(), 50: line.encode()}
    path.write_text('{"new": 1}\n')  # cut, then written again
    with pytest.raises(InputError) as caught:
        index.fetch([1])
    assert str(caught.value) == (
        f"{path}: the file changed while it was read (it was {size:,} bytes, now 11):"
        " audit a copy, or the file it was rotated to"
    )
    rotated = tmp_path / "rotated.jsonl"
    index = _LineIndex.build(path)
    os.rename(path, rotated)
    path.write_text('{"other": 1}\n' * 10)  # the same size or more, another file
    with pytest.raises(InputError, match="the file changed while it was read"):
        index.fetch([1])


@pytest.mark.parametrize("name", ["ecs.jsonl", "ecs.jsonl.gz"])
def test_elastic_ecs_lines_are_events_not_wrong_types(tmp_path, name):
    """ECS writes `event`, `trace` and `span` as objects: every line was rejected as
    wrong_type by default. They are namespaces now: the events count, unnamed and without a
    trace until `--map` names `event.action` and `trace.id`; `@timestamp` and `span.id` are
    default names. On every path."""
    ecs = {
        "@timestamp": "2026-11-24T08:00:00.000Z",
        "user": {"id": "u1"},
        "thread_id": "t1",
        "trace": {"id": "4BF92F3577B34DA6A3CE929D0E0E4736"},
        "span": {"id": "00F067AA0BA902B7"},
        "event": {"action": "quality.get_metrics", "dataset": "chat"},
    }
    path = write(tmp_path, [json.dumps(ecs)] * 3, name)
    plain = read(path)
    assert (
        plain.select("reject_reason", "user_id", "event", "trace_id", "span_id").rows()
        == [(None, "u1", None, None, "00f067aa0ba902b7")] * 3
    )
    mapped = read(path, maps=["event=event.action", "trace_id=trace.id"])
    assert (
        mapped.select("reject_reason", "event", "trace_id").rows()
        == [(None, "quality.get_metrics", "4bf92f3577b34da6a3ce929d0e0e4736")] * 3
    )

"""Tests for auditor/records.py: timestamp and ID rules, field resolution, rejection."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from auditor.fields import ReadOptions, build_read_options
from auditor.records import BAD, RecordBuilder, epoch_unit, normalize_hex_id, parse_timestamp
from tests.auditor.expect import records, rejected

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
T0_US = 1_714_979_289_123_456


def test_reference_instant_is_what_the_cases_assume():
    assert int(T0.timestamp()) * 1_000_000 + T0.microsecond == T0_US


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("2024-05-06T07:08:09.123456Z", None, T0_US),
        ("2024-05-06T07:08:09.123456789Z", None, T0_US),  # nanoseconds truncated
        ("2024-05-06T07:08:09.1Z", None, T0_US - 23_456),
        ("2024-05-06T07:08:09Z", None, T0_US - 123_456),
        ("2024-05-06 07:08:09.123456Z", None, T0_US),
        ("2024-05-06T09:08:09.123456+02:00", None, T0_US),
        ("2024-05-06T02:08:09.123456-0500", None, T0_US),
        (" 2024-05-06T07:08:09.123456Z ", None, T0_US),
        ("2024-05-06t07:08:09.123456z", None, T0_US),  # RFC 3339 5.6: t and z may be lower case
        ("2024-05-06T07:08:09.1234567891234Z", None, T0_US),  # fraction truncated to us
        ("1970-01-01T00:00:00.000001Z", None, 1),
        ("9999-12-31T23:59:59.999999Z", None, 253_402_300_799_999_999),
        (1_714_979_289, None, T0_US - 123_456),
        (1_714_979_289.5, None, T0_US - 123_456 + 500_000),
        (1_714_979_289_123, None, T0_US - 456),
        (T0_US, None, T0_US),
        (T0_US * 1000 + 999, None, T0_US),
        ("1714979289123456789", None, T0_US),
        ("1714979289", None, T0_US - 123_456),
        ("1714979289.5", None, T0_US - 123_456 + 500_000),
        ("+1714979289", None, T0_US - 123_456),
        ("1.714979289e9", None, T0_US - 123_456),
        ("1000000000", "ns", 1_000_000),  # *UnixNano: always nanoseconds
        (1_000_000, "us", 1_000_000),
    ],
)
def test_parse_timestamp_accepts(value, unit, expected):
    assert parse_timestamp(value, unit) == expected


@pytest.mark.parametrize(
    "value",
    [
        0,
        -5,
        "0",
        "-5",
        0.0,
        math.nan,
        math.inf,
        True,
        {"s": 1},
        [1],
        "yesterday",
        "2024-02-30T00:00:00Z",
        "2024-05-06T25:00:00Z",
        "2024-05-06",
        "10:00:00",
        "",
        "2024-05-06T07:08:09",  # no offset
        "nan",
        "inf",
        "1e30",  # past 9999 in any unit
        "1e21",  # ns: the year 33658
        "1970-01-01T00:00:00Z",  # the epoch itself and earlier: zero or negative
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "-2026-11-24T08:00:01Z",
        "2026-11-24T08:00:01+24:00",  # offsets past 23:59
        "2026-11-24T08:00:01+02:99",
        "2026-11-24T08:00:01+02",  # hours only: not RFC 3339
        "2026-11-24  08:00:01Z",
        "2026-11-24T08:00:01.5 Z",
        "\uff12\uff10\uff12\uff16-11-24T08:00:01Z",  # digits of another script (fullwidth)
        "1_000",
    ],
)
def test_parse_timestamp_rejects_as_bad(value):
    assert parse_timestamp(value) is BAD


def test_parse_timestamp_absent():
    assert parse_timestamp(None) is None


@pytest.mark.parametrize(
    ("magnitude", "unit"),
    [
        (99_999_999_999, "s"),
        (1e11, "ms"),
        (99_999_999_999_999, "ms"),
        (1e14, "us"),
        (99_999_999_999_999_999, "us"),
        (1e17, "ns"),
    ],
)
def test_epoch_unit_by_magnitude(magnitude, unit):
    assert epoch_unit(magnitude) == unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5B8EFFF798038103D269B633813FC60C", "5b8efff798038103d269b633813fc60c"),
        ("0xEEE19B7EC3C1B174", "eee19b7ec3c1b174"),
        ("projects/my-proj/traces/ABC123", "abc123"),
        ("", None),
        ("0x", None),
        ("0x0000000000000000", None),  # all zeros: no trace (W3C, OTLP)
        ("0" * 32, None),
        ("0" * 16 + "ABCDEF0123456789", "abcdef0123456789"),  # a 64-bit ID padded to 128
        ("0" * 15 + "1ABCDEF0123456789", "00000000000000001abcdef0123456789"[-32:]),
        ("0" * 16 + "00000000000000ab", "00000000000000ab"),
        ("0001", "0001"),
        ("trace/projects/p/traces/AB", "trace/projects/p/traces/ab"),
    ],
)
def test_normalize_hex_id(value, expected):
    assert normalize_hex_id(value) == expected


def _frame(builder: RecordBuilder):
    return builder.frame().collect()


TS = "2024-05-06T07:08:09.123456Z"


def test_native_values_fill_fields_and_ids_are_normalized():
    builder = RecordBuilder(ReadOptions())
    natives = {"ts": T0_US * 1000, "event": "e", "trace_id": "0xAB", "span_id": "CD"}
    builder.add("f", 3, [{"user.id": "u", "thread.id": "T"}], natives, ts_unit="ns")
    expected = records(
        {
            "source": "f",
            "line": 3,
            "ts": TS,
            "user_id": "u",
            "thread_id": "T",
            "event": "e",
            "trace_id": "ab",
            "span_id": "cd",
        }
    )
    assert_frame_equal(_frame(builder), expected)


def test_scopes_are_searched_in_order():
    builder = RecordBuilder(ReadOptions())
    attributes = {"run.id": "r-attr"}
    resource = {"run.id": "r-res", "session.id": "s-res"}
    builder.add("f", 1, [attributes, resource], {"ts": TS})
    row = _frame(builder).row(0, named=True)
    assert (row["run_id"], row["session_id"]) == ("r-attr", "s-res")


def test_first_value_present_wins_even_empty_and_empty_is_absent():
    """Like the jsonl reader: an empty string stops the search and reads as no ID."""
    builder = RecordBuilder(ReadOptions())
    builder.add("f", 1, [{"user.id": "", "trace_id": ""}, {"user.id": "u-res"}], {"ts": TS})
    row = _frame(builder).row(0, named=True)
    assert (row["user_id"], row["trace_id"]) == (None, None)


def test_extract_fills_an_empty_id():
    builder = RecordBuilder(build_read_options(extracts=[r"user_id=user (\w+)"]))
    builder.add("f", 1, [{"user_id": "", "message": "by user u5"}], {"ts": TS})
    assert _frame(builder)["user_id"].to_list() == ["u5"]


def test_default_candidates_do_not_override_natives():
    builder = RecordBuilder(ReadOptions())
    builder.add("f", 1, [{"event": "from-attribute"}], {"ts": TS, "event": "span-name"})
    assert _frame(builder)["event"].to_list() == ["span-name"]


def test_map_path_wins_over_natives():
    builder = RecordBuilder(build_read_options(maps=["event=attr.kind"]))
    builder.add("f", 1, [{"attr": {"kind": "mapped"}}], {"ts": TS, "event": "span-name"})
    builder.add("f", 2, [{}], {"ts": TS, "event": "span-name"})
    assert _frame(builder)["event"].to_list() == ["mapped", "span-name"]


def test_candidate_unix_nano_field_is_nanoseconds():
    builder = RecordBuilder(ReadOptions())
    builder.add("f", 1, [{"timeUnixNano": "1000000000"}])
    assert _frame(builder)["ts"].to_list() == [datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("scope", "natives", "reason"),
    [
        ({}, {}, "missing_timestamp"),
        ({"ts": ""}, {}, "bad_timestamp"),
        ({"timestamp": "soon"}, {}, "bad_timestamp"),
        ({}, {"ts": 0}, "bad_timestamp"),
        ({"timestamp": TS, "user_id": 42}, {}, "wrong_type"),
        ({"timestamp": TS, "thread_id": {"id": "t"}}, {}, "wrong_type"),
        ({"timestamp": TS, "event": ["a"]}, {}, "wrong_type"),
        ({"timestamp": TS, "trace_id": True}, {}, "wrong_type"),
        ({"timestamp": "soon", "user_id": 42}, {}, "bad_timestamp"),
    ],
)
def test_rejected_records_keep_only_place_and_reason(scope, natives, reason):
    builder = RecordBuilder(ReadOptions())
    builder.add("f", 7, [scope], natives)
    assert_frame_equal(_frame(builder), records(rejected("f", 7, reason)))


def test_extract_fills_missing_fields_from_the_message_only():
    options = build_read_options(extracts=[r"thread_id=thread (\w+)", r"user_id=user (\w+)"])
    builder = RecordBuilder(options)
    message = "reply for user u9 in thread t42"
    builder.add("f", 1, [{"timestamp": TS, "message": message, "user_id": "u1"}])
    builder.add("f", 2, [{"timestamp": TS, "msg": "no ids here"}])
    builder.add("f", 3, [{"timestamp": TS}], {"message": message})
    frame = _frame(builder)
    assert frame["thread_id"].to_list() == ["t42", None, "t42"]
    assert frame["user_id"].to_list() == ["u1", None, "u9"]


def test_extract_can_supply_the_timestamp():
    builder = RecordBuilder(build_read_options(extracts=[r"ts=at (\S+)"]))
    builder.add("f", 1, [{"message": f"done at {TS}"}])
    assert _frame(builder)["ts"].to_list() == [T0]


def test_split_key_comes_from_the_first_scope_holding_the_path():
    builder = RecordBuilder(ReadOptions(split_by="service.version"))
    builder.add("f", 1, [{}, {"service.version": "2.0"}], {"ts": TS})
    builder.add("f", 2, [{"service": {"version": 3}}], {"ts": TS})
    builder.add("f", 3, [{}], {"ts": TS})
    builder.add("f", 4, [{"service.version": {"b": 1, "a": True}}], {"ts": TS})
    assert _frame(builder)["split_key"].to_list() == ["2.0", "3", None, '{"b": 1, "a": true}']


def test_empty_builder_gives_the_exact_schema():
    assert_frame_equal(_frame(RecordBuilder(ReadOptions())), records())


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    nanos=st.integers(min_value=0, max_value=999),
    separator=st.sampled_from(["T", " "]),
)
def test_rfc3339_round_trip(moment, offset_minutes, nanos, separator):
    """Any instant written with any offset and nanoseconds reads back to its microsecond."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = (
        local.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
        + f".{local.microsecond:06d}{nanos:03d}{sign}{hours:02d}:{minutes:02d}"
    )
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert parse_timestamp(text) == expected


@given(
    us=st.integers(min_value=10**14, max_value=10**16 - 1),
    extra_ns=st.integers(min_value=0, max_value=999),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
)
def test_epoch_integers_in_every_unit(us, extra_ns, unit):
    """An instant between 1973 and 2286 written in s/ms/us/ns is read by its magnitude."""
    value = {"s": us // 10**6, "ms": us // 10**3, "us": us, "ns": us * 10**3 + extra_ns}[unit]
    expected = {"s": value * 10**6, "ms": value * 10**3, "us": us, "ns": us}[unit]
    assert parse_timestamp(value) == expected
    assert parse_timestamp(str(value)) == expected


def test_map_to_a_default_name_also_wins_over_natives():
    """`--map event=operationName` moves a default candidate first: it counts as mapped."""
    builder = RecordBuilder(build_read_options(maps=["event=operationName"]))
    builder.add("f", 1, [{"operationName": "op"}], {"ts": TS, "event": "native"})
    assert _frame(builder)["event"].to_list() == ["op"]


def test_rows_turned_into_arrow_chunks_make_the_same_frame(monkeypatch):
    """A builder turns its Python rows into Arrow columns every `_CHUNK_ROWS` rows (memory):
    accepted and rejected rows across chunk boundaries make the frame one chunk makes."""
    from auditor import records as module
    from auditor.schema import RejectReason

    def build() -> RecordBuilder:
        builder = RecordBuilder(build_read_options(split_by="version"))
        for n in range(10):
            if n % 4 == 3:
                builder.reject("f", n, RejectReason.INVALID_JSON)
            else:
                scope = {"user_id": f"u{n}", "thread_id": "t", "ts": TS, "version": n}
                builder.add("f", n, [scope])
        return builder

    whole = _frame(build())
    monkeypatch.setattr(module, "_CHUNK_ROWS", 3)
    chunked = build()
    assert len(chunked._chunks) == 3  # 9 rows turned into Arrow, the 10th still in Python
    assert_frame_equal(_frame(chunked), whole)
    assert whole.height == 10 and whole["reject_reason"].null_count() == 8  # 2 rejected

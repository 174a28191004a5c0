"""Tests for auditor/keys.py: 128-bit keys, the compact frame and fetching records' text."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from auditor import keys
from auditor.schema import RECORD_SCHEMA

T0 = datetime(2026, 11, 24, 8, tzinfo=UTC)


def records(*rows: tuple) -> pl.DataFrame:
    """Rows of (source, line, user, session, thread, run)."""
    data = [
        {
            "source": src,
            "line": line,
            "ts": T0,
            "user_id": user,
            "session_id": session,
            "thread_id": thread,
            "run_id": run,
            "event": "e",
        }
        for src, line, user, session, thread, run in rows
    ]
    return pl.DataFrame(data, schema=RECORD_SCHEMA)


def _fetch_of(frame: pl.DataFrame, names: list[str]) -> keys.Fetch:
    return keys.frame_fetch(frame, keys.compact(frame.lazy(), names).collect())


def test_equal_strings_get_equal_keys_and_null_stays_null():
    frame = pl.DataFrame({"a": ["x", "y", None, "x", ""]})
    out = frame.select(keys.hash_key(pl.col("a"))).to_series()
    assert out.dtype == pl.UInt128
    assert out[0] == out[3] and out[0] != out[1] and out[4] not in (out[0], out[1])
    assert out.null_count() == 1 and out[2] is None


def test_session_key_is_user_and_session_with_missing_session_as_empty():
    frame = records(
        ("a", 1, "u", None, "t", None),
        ("a", 2, "u", "", "t", None),
        ("a", 3, "u", "s", "t", None),
        ("a", 4, None, "s", "t", None),
        ("a", 5, "us", "", "t", None),
        ("a", 6, "s", "u", "t", None),  # the pair swapped
        ("a", 7, "u", "s", "t2", None),
    )
    out = frame.select(keys.session_key()).to_series().to_list()
    assert out[0] == out[1] and len({out[0], out[2], out[4], out[5]}) == 4
    assert out[3] is None and out[6] == out[2]


def test_compact_frame_holds_no_id_text():
    frame = records(("b", 1, "u", "s", "t", "r"), ("a", 7, "u", "s", "t2", None))
    out = keys.compact(frame.lazy(), ["b", "a"]).collect()
    assert out.columns == [
        "source_order",
        "source_rank",
        "line",
        "item",
        "ts",
        "reject_reason",
        "session_key",
        "thread_key",
        "run_key",
        "trace_key",
        "event",
    ]
    assert out["source_order"].to_list() == [0, 1]
    assert out["source_rank"].to_list() == [1, 0]  # rule 4 orders sources by name
    assert out["run_key"][1] is None and out["trace_key"].null_count() == 2


def test_fetch_returns_the_text_of_wanted_records_across_parts():
    first = records(("a", 1, "u1", "s1", "t1", None), ("a", 2, "u2", None, "t2", "r2"))
    second = records(("b", 1, "u3", "s3", "t3", None))
    names = ["a", "b"]
    fetch = keys.combined_fetch([({0}, _fetch_of(first, names)), ({1}, _fetch_of(second, names))])
    wanted = pl.DataFrame({"source_order": [1, 0, 0], "line": [1, 2, 2], "item": [0, 0, 0]})
    got = fetch(wanted).sort("source_order", "line")
    assert got.select("source", "line", "user_id", "session_id", "run_id").rows() == [
        ("a", 2, "u2", None, "r2"),
        ("b", 1, "u3", "s3", None),
    ]
    assert fetch(wanted.clear()).columns == [*keys.RECORD_ID, *keys.FETCHED]


def test_fetch_asks_every_part_that_holds_a_source():
    """Two inputs of the same name (`/dev/stdin` twice) are two parts of one source order:
    each is asked for the wanted records, and what they hold is returned."""
    first = records(("-", 1, "u1", "s1", "t1", None))
    second = records(("-", 2, "u2", "s2", "t2", None))
    names = ["-"]
    fetch = keys.combined_fetch([({0}, _fetch_of(first, names)), ({0}, _fetch_of(second, names))])
    wanted = pl.DataFrame({"source_order": [0, 0], "line": [1, 2], "item": [0, 0]})
    got = fetch(wanted).sort("line")
    assert got.select("line", "user_id").rows() == [(1, "u1"), (2, "u2")]


def test_records_sharing_a_line_are_numbered_in_order_and_fetched_one_by_one():
    # the spans of one OTLP batch (one line) are distinct records: `item` tells them apart
    frame = records(
        ("a", 1, "u1", "s", "t1", None),
        ("a", 1, "u2", "s", "t2", None),
        ("b", 1, "u3", "s", "t3", None),
        ("a", 1, "u4", "s", "t4", None),
        ("a", 2, "u5", "s", "t5", None),
    )
    names = ["a", "b"]
    out = keys.compact(frame.lazy(), names).collect()
    assert out.select("source_order", "line", "item").rows() == [
        (0, 1, 0),
        (0, 1, 1),
        (1, 1, 0),
        (0, 1, 2),
        (0, 2, 0),
    ]
    fetch = keys.frame_fetch(frame, out)
    wanted = out.filter(pl.col("item") > 0).select(keys.RECORD_ID)
    got = fetch(wanted).sort(keys.RECORD_ID)
    assert got.select("line", "item", "user_id", "thread_id").rows() == [
        (1, 1, "u2", "t2"),
        (1, 2, "u4", "t4"),
    ]


def test_location_names_the_record_index_only_past_the_first():
    from auditor.location import location

    assert location("t.jsonl", 5) == "t.jsonl:5"
    assert location("t.jsonl", 5, 0) == "t.jsonl:5"
    assert location("t.jsonl", 5, 2) == "t.jsonl:5[2]"

"""Tests for auditor/continuity.py: one test per semantic rule, on tiny event frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from auditor import continuity

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def events(*rows: tuple) -> pl.LazyFrame:
    """Rows of (second, user, session, thread, run, event[, trace]) as an event frame."""
    data = []
    for i, row in enumerate(rows, start=1):
        second, user, session, thread, run, event, *rest = row
        data.append(
            {
                "ts": T0 + timedelta(seconds=second),
                "source": "a.jsonl",
                "line": i,
                "user_id": user,
                "session_id": session,
                "thread_id": thread,
                "run_id": run,
                "event": event,
                "trace_id": rest[0] if rest else None,
            }
        )
    schema = {
        "ts": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "line": pl.Int64,
        **{
            c: pl.String
            for c in ("user_id", "session_id", "thread_id", "run_id", "event", "trace_id")
        },
    }
    return pl.LazyFrame(data, schema=schema)


def annotated(frame: pl.LazyFrame, **kwargs) -> pl.DataFrame:
    """The annotated events in rule 4's order, with the current thread as a string."""
    out = continuity.annotate(frame, **kwargs)
    return continuity.with_current_thread(out).sort("order")


def test_session_is_user_and_session_id_missing_session_is_empty():
    """Rule 3: (user, session) pairs; a missing session_id is its own "" session."""
    out = annotated(
        events(
            (0, "u1", "s1", "t1", None, "x"),
            (1, "u1", None, "t2", None, "x"),
            (2, "u1", "s2", "t3", None, "x"),
            (3, "u2", "s1", "t4", None, "x"),
        )
    )
    assert out["session_start"].sum() == 4
    assert out.filter(pl.col("thread_id") == "t2")["session_id"].to_list() == [""]
    assert out["session_index"].n_unique() == 4
    assert out["is_break"].sum() == 0


def test_events_are_ordered_by_ts_then_source_then_line():
    """Rule 4: a later line with an earlier timestamp comes first in its session."""
    out = annotated(
        events(
            (5, "u", "s", "t2", None, "thread.create"),
            (1, "u", "s", "t1", None, "thread.create"),
            (9, "u", "s", "t1", None, "quality.get_metrics"),
        )
    )
    assert out["line"].to_list() == [2, 1, 3]
    assert out["is_break"].to_list() == [False, False, True]
    assert out["current_thread"].to_list() == ["t1", "t2", "t2"]


def test_first_event_sets_current_thread_and_nothing_but_transitions_change_it():
    """Rule 5: the first event's thread is current until a transition."""
    out = annotated(
        events(
            (0, "u", "s", "t1", None, "chat.user_message"),
            (1, "u", "s", "t2", None, "quality.get_metrics"),
            (2, "u", "s", "t2", None, "quality.get_metrics"),
            (3, "u", "s", "t2", None, "thread.switch"),
            (4, "u", "s", "t2", None, "quality.get_metrics"),
        )
    )
    assert out["current_thread"].to_list() == ["t1", "t1", "t1", "t2", "t2"]
    assert out["is_break"].to_list() == [False, True, True, False, False]


def test_custom_transitions_replace_the_default_set():
    """Rule 5: `--transition` replaces thread.create/thread.switch."""
    rows = (
        (0, "u", "s", "t1", None, "chat.user_message"),
        (1, "u", "s", "t2", None, "thread.switch"),
        (2, "u", "s", "t2", None, "conversation.open"),
        (3, "u", "s", "t2", None, "chat.user_message"),
    )
    out = annotated(events(*rows), transitions=("conversation.open",))
    assert out["is_break"].to_list() == [False, True, False, False]


def test_break_is_a_non_transition_event_in_another_thread():
    """Rule 6: breaks, break rate and affected sessions."""
    out = annotated(
        events(
            (0, "u", "s", "t1", None, "thread.create"),
            (1, "u", "s", "t9", None, "quality.validate_content"),
            (2, "u", "s", "t1", None, "quality.validate_content"),
            (3, "v", "s", "t5", None, "thread.create"),
        )
    )
    assert out.sort("line")["is_break"].to_list() == [False, True, False, False]
    assert out.filter(pl.col("is_break"))["session_index"].n_unique() == 1


def test_stray_and_orphan_threads():
    """Rule 7: a thread whose every event breaks is stray; with one event, an orphan."""
    frame = continuity.annotate(
        events(
            (0, "u", "s", "t1", None, "thread.create"),
            (1, "u", "s", "m1", None, "quality.get_metrics"),
            (2, "u", "s", "m2", None, "quality.get_metrics"),
            (3, "u", "s", "m2", None, "quality.get_metrics"),
            (4, "v", "s", "m3", None, "thread.create"),
            (5, "u", "s", "m3", None, "quality.get_metrics"),
        )
    )
    out = continuity.stray_threads(frame.lazy()).drop("thread_key").sort("thread_id").collect()
    expected = pl.DataFrame(
        {
            "thread_id": ["m1", "m2", "m3", "t1"],
            "events": [1, 2, 2, 1],
            "breaks": [1, 2, 1, 0],
            "stray": [True, True, False, False],
            "orphan": [True, False, False, False],
        },
        schema_overrides={"events": pl.UInt32, "breaks": pl.UInt32},
    )
    assert_frame_equal(out, expected, check_dtypes=False)


@pytest.mark.parametrize(
    ("rows", "run_breaks"),
    [
        # first event sets the run; a later event in another run is a run break
        ((("u1", "r1", "x"), ("u1", "r2", "quality.get_metrics")), [False, True]),
        # a run start that is not a break sets the run
        ((("u1", "r1", "x"), ("u1", "r2", "chat.user_message"), ("u1", "r2", "q")), [False] * 3),
        # first event without a run: the next event with a run becomes current
        ((("u1", None, "x"), ("u1", "r1", "q"), ("u1", "r2", "q")), [False, False, True]),
        # events without a run are not checked
        ((("u1", "r1", "x"), ("u1", None, "q")), [False, False]),
        # a transition resets the run to its own (here: none)
        ((("u1", "r1", "x"), ("u1", None, "thread.switch"), ("u1", "r7", "q")), [False] * 3),
        # a run start without a run does not set it
        (
            (("u1", "r1", "x"), ("u1", None, "chat.user_message"), ("u1", "r2", "q")),
            [False, False, True],
        ),
    ],
)
def test_run_rules(rows, run_breaks):
    """Rule 8: the current run and run breaks."""
    frame = events(*((i, "u", "s", "t1", run, event) for i, (_, run, event) in enumerate(rows)))
    assert annotated(frame)["run_break"].to_list() == run_breaks


def test_a_break_never_counts_as_a_run_break_nor_sets_the_run():
    """Rule 8: break events are not checked, and a breaking run start does not set the run."""
    frame = events(
        (0, "u", "s", "t1", "r1", "chat.user_message"),
        (1, "u", "s", "t9", "r9", "chat.user_message"),
        (2, "u", "s", "t1", "r1", "quality.get_metrics"),
    )
    out = annotated(frame)
    assert out["is_break"].to_list() == [False, True, False]
    assert out["run_break"].to_list() == [False, False, False]


def test_custom_run_starts():
    """Rule 8: `--run-start` replaces chat.user_message."""
    frame = events(
        (0, "u", "s", "t1", "r1", "x"),
        (1, "u", "s", "t1", "r2", "agent.run"),
        (2, "u", "s", "t1", "r2", "q"),
    )
    assert annotated(frame, run_starts=("agent.run",))["run_break"].to_list() == [False] * 3
    assert annotated(frame)["run_break"].to_list() == [False, True, True]


def test_split_traces_are_traces_with_two_threads():
    """Rule 9: trace IDs whose events carry two or more distinct threads."""
    frame = continuity.annotate(
        events(
            (0, "u", "s", "t1", None, "x", "a"),
            (1, "u", "s", "t2", None, "x", "a"),
            (2, "u", "s", "t1", None, "x", "b"),
            (3, "u", "s", "t1", None, "x", None),
        )
    )
    assert continuity.split_traces(frame.lazy()).collect()["trace_id"].to_list() == ["a"]


def test_sessions_do_not_leak_state_into_each_other():
    """The global forward fill restarts at every session's first event."""
    out = annotated(
        events(
            (0, "a", "s", "t1", "r1", "x"),
            (1, "b", "s", "t2", None, "x"),
            (2, "b", "s", "t2", "r5", "q"),
        )
    )
    out = out.sort("line")
    assert out["current_thread"].to_list() == ["t1", "t2", "t2"]
    assert out["is_break"].to_list() == [False, False, False]
    assert out["run_break"].to_list() == [False, False, False]


def test_annotate_keeps_the_input_order():
    """Flags are scattered back: row i of the output is row i of the input."""
    frame = events(
        (5, "u", "s", "t2", None, "quality.get_metrics"),
        (1, "u", "s", "t1", None, "thread.create"),
    )
    out = continuity.annotate(frame)
    assert out["line"].to_list() == [1, 2]
    assert out["order"].to_list() == [1, 0]
    assert out["is_break"].to_list() == [True, False]
    assert out["current_row"].to_list() == [1, 1]


def test_partitions_of_sessions_give_the_same_flags(monkeypatch):
    """Many events are annotated one partition of sessions at a time: same rules, same result."""
    rows = []
    for i in range(60):
        user, thread = f"u{i % 7}", "t1" if i % 9 else "t2"
        event = "thread.create" if i % 11 == 0 else "quality.get_metrics"
        rows.append((i % 13, user, f"s{i % 3}", thread, f"r{i % 5}" if i % 4 else None, event))
    frame = events(*rows).collect()
    whole = continuity.annotate(frame)
    monkeypatch.setattr(continuity, "PARTITION_ROWS", 8)
    assert continuity.partitions(frame.height) == 8
    parted = continuity.annotate(frame)
    flags = ["line", "is_break", "run_break", "session_start", "is_transition"]
    assert_frame_equal(parted.select(flags), whole.select(flags))
    assert parted["is_break"].sum() > 0 and parted["run_break"].sum() > 0
    current = continuity.with_current_thread
    assert current(parted)["current_thread"].equals(current(whole)["current_thread"])
    # the same sessions, numbered 1..n in some order; `order` is a permutation
    pairs = parted.select("session_index", "session_key").unique()
    assert pairs["session_index"].n_unique() == pairs.height == whole["session_index"].n_unique()
    assert sorted(parted["session_index"].unique().to_list()) == list(range(1, pairs.height + 1))
    assert sorted(parted["order"].to_list()) == list(range(frame.height))


def test_sessions_sharing_the_low_64_key_bits_are_still_grouped():
    """The report's path sorts time-ordered events by the session key's low 64 bits; two
    sessions whose keys share them (interleaved in time here) fall back to the whole key."""
    a, b = 5, 5 + (1 << 64)
    frame = pl.DataFrame(
        {
            "ts": [T0 + timedelta(seconds=s) for s in range(5)],
            "source_rank": [0] * 5,
            "line": [1, 2, 3, 4, 5],
            "session_key": [a, b, a, b, a],
            "thread_key": [10, 20, 10, 21, 10],
            "run_key": [None] * 5,
            "event": ["chat.user_message"] * 5,
        },
        schema_overrides={
            "source_rank": pl.UInt32,
            "session_key": pl.UInt128,
            "thread_key": pl.UInt128,
            "run_key": pl.UInt128,
        },
    )
    out = continuity.annotate_sorted(frame)
    assert out["session_start"].sum() == 2
    rows = out.select("session_key", "line", "is_break").rows()
    assert rows == [(a, 1, False), (a, 3, False), (a, 5, False), (b, 2, False), (b, 4, True)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(1, 4)), min_size=0, max_size=12
    )
)
def test_time_ordered_is_in_time_order(rows):
    """The cheaper check (ts sortedness, then the ties) agrees with the full comparison."""
    frame = pl.DataFrame(
        {
            "ts": [T0 + timedelta(seconds=s) for s, _, _ in rows],
            "source_rank": [r for _, r, _ in rows],
            "line": [n for _, _, n in rows],
        },
        schema={"ts": pl.Datetime("us", "UTC"), "source_rank": pl.UInt32, "line": pl.Int64},
    )
    expected = bool(frame.select(continuity.in_time_order()).item())
    assert continuity.time_ordered(frame) == expected

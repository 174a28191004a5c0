"""Property test: the Polars continuity analysis equals a tiny plain-Python reference."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import continuity, keys

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TRANSITIONS = ("thread.create", "thread.switch")
RUN_STARTS = ("chat.user_message",)
EVENTS = ("thread.create", "thread.switch", "chat.user_message", "quality.get_metrics", None)


def reference(rows: list[dict]) -> dict:
    """DESIGN.md rules 3-9, written as the obvious loop over each session's events."""
    sessions: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        sessions[(row["user_id"], row["session_id"] or "")].append(row)
    flags: dict[int, tuple[bool, bool]] = {}
    for evs in sessions.values():
        evs.sort(key=lambda r: (r["ts"], r["source"], r["line"]))
        thread = run = None
        for i, ev in enumerate(evs):
            if i == 0 or ev["event"] in TRANSITIONS:
                thread, run = ev["thread_id"], ev["run_id"]
                flags[ev["line"]] = (False, False)
                continue
            is_break = ev["thread_id"] != thread
            run_break = False
            if not is_break and ev["run_id"] is not None:
                if ev["event"] in RUN_STARTS or run is None:
                    run = ev["run_id"]
                elif ev["run_id"] != run:
                    run_break = True
            flags[ev["line"]] = (is_break, run_break)
    per_thread: dict[str, list[bool]] = defaultdict(list)
    per_trace: dict[str, set] = defaultdict(set)
    for row in rows:
        per_thread[row["thread_id"]].append(flags[row["line"]][0])
        if row["trace_id"] is not None:
            per_trace[row["trace_id"]].add(row["thread_id"])
    return {
        "flags": flags,
        "stray": sorted(t for t, b in per_thread.items() if all(b)),
        "orphan": sorted(t for t, b in per_thread.items() if all(b) and len(b) == 1),
        "split": sorted(t for t, threads in per_trace.items() if len(threads) > 1),
    }


row_strategy = st.fixed_dictionaries(
    {
        "second": st.integers(0, 6),
        "source": st.sampled_from(["a.jsonl", "b.jsonl"]),
        "user_id": st.sampled_from(["u1", "u2"]),
        "session_id": st.sampled_from(["s1", "s2", None]),
        "thread_id": st.sampled_from(["t1", "t2", "t3"]),
        "run_id": st.sampled_from(["r1", "r2", None]),
        "event": st.sampled_from(EVENTS),
        "trace_id": st.sampled_from(["x", "y", None]),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=25))
def test_polars_analysis_equals_python_reference(drawn):
    rows = [
        {**r, "ts": T0 + timedelta(seconds=r.pop("second")), "line": i}
        for i, r in enumerate(drawn, start=1)
    ]
    frame = pl.LazyFrame(
        rows,
        schema={
            "ts": pl.Datetime("us", "UTC"),
            "source": pl.String,
            "line": pl.Int64,
            **{
                c: pl.String
                for c in ("user_id", "session_id", "thread_id", "run_id", "event", "trace_id")
            },
        },
    )
    annotated = continuity.annotate(frame, TRANSITIONS, RUN_STARTS)
    out = annotated
    expected = reference(rows)
    got = {line: (b, r) for line, b, r in out.select("line", "is_break", "run_break").iter_rows()}
    assert got == expected["flags"]
    # the report's path: compact keys, rules in rule 4's order (nothing scattered back)
    compact = frame.collect().select(
        pl.col("source").rank("dense").cast(pl.UInt32).alias("source_rank"),
        "line",
        "ts",
        keys.session_key(),
        keys.hash_key(pl.col("thread_id")).alias("thread_key"),
        keys.hash_key(pl.col("run_id")).alias("run_key"),
        "event",
    )
    ordered = continuity.annotate_sorted(compact, TRANSITIONS, RUN_STARTS)
    flags = ordered.select("line", "is_break", "run_break").iter_rows()
    assert {line: (b, r) for line, b, r in flags} == expected["flags"]
    threads = continuity.stray_threads(annotated.lazy()).collect()
    assert sorted(threads.filter("stray")["thread_id"].to_list()) == expected["stray"]
    assert sorted(threads.filter("orphan")["thread_id"].to_list()) == expected["orphan"]
    split = continuity.split_traces(annotated.lazy()).collect()["trace_id"].to_list()
    assert sorted(split) == expected["split"]

"""The audit report: one JSON-ready dict with the keys of DESIGN.md and docs/audit_json.md.

Input is the record frame (every record, rejected or not, with ``source_order``, the
position of its source among the inputs); the continuity rules come from :mod:`auditor.continuity`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from auditor import continuity
from auditor.keys import Fetch
from auditor.stats import wilson_interval

#: DESIGN.md's keys, in this order, then the dashboard's extra keys.
REPORT_KEYS: tuple[str, ...] = (
    "lines",
    "rejected",
    "unattributed",
    "missing_thread",
    "events",
    "sessions",
    "threads",
    "breaks",
    "break_rate",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
    "split_traces",
    "by_event",
    "rejected_by_reason",
    "label",
    "inputs",
    "break_rate_ci",
    "run_break_rate",
    "time_range",
    "breaks_per_minute",
    "threads_per_session",
    "top_sessions",
    "break_examples",
    "rejected_examples",
)
TOP_SESSIONS = 10
BREAK_EXAMPLES = 20
REJECTED_EXAMPLES = 10
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


@dataclass(frozen=True, slots=True)
class Analysis:
    """A report, the annotated (compact) events it came from and the fetch of their text."""

    report: dict[str, Any]
    events: pl.DataFrame
    fetch: Fetch


def _rfc3339(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _events_of(records: pl.LazyFrame) -> pl.LazyFrame:
    accepted = pl.col("reject_reason").is_null()
    return records.filter(
        accepted & pl.col("session_key").is_not_null() & pl.col("thread_key").is_not_null()
    ).select(
        "ts",
        "source_order",
        "source_rank",
        "line",
        "session_key",
        "thread_key",
        "run_key",
        "event",
        "trace_key",
    )


def _accounting(records: pl.LazyFrame) -> pl.LazyFrame:
    accepted = pl.col("reject_reason").is_null()
    has_user = pl.col("session_key").is_not_null()
    return records.select(
        pl.len().alias("lines"),
        (~accepted).sum().alias("rejected"),
        (accepted & ~has_user).sum().alias("unattributed"),
        (accepted & has_user & pl.col("thread_key").is_null()).sum().alias("missing_thread"),
    )


def _rejects(records: pl.LazyFrame, names: Sequence[str]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    rejected = records.filter(pl.col("reject_reason").is_not_null())
    reason = pl.col("reject_reason").cast(pl.String)
    by_reason = rejected.group_by(reason).len().sort("reject_reason")
    examples = (
        rejected.sort(["source_order", "line"])
        .head(REJECTED_EXAMPLES)
        .select(
            pl.col("source_order")
            .replace_strict(list(range(len(names))), list(names), return_dtype=pl.String)
            .alias("source"),
            "line",
            reason.alias("reason"),
        )
    )
    return by_reason, examples


def _split_trace_count(annotated: pl.LazyFrame, parts: int) -> pl.LazyFrame:
    """Rule 9's count, one partition of trace keys at a time: a trace's events all fall in
    one partition, and each group-by holds only its partition's traces (often one per event)."""
    if parts == 1:
        return continuity.split_traces(annotated, "trace_key").select(
            pl.len().alias("split_traces")
        )
    # the partition of a trace: its key's low 64 bits modulo `parts` (cheaper than 128-bit)
    low = pl.col("trace_key").cast(pl.UInt64, wrap_numerical=True)
    keyed = annotated.select("trace_key", "thread_key", (low % parts).alias("part")).collect()
    counts = [
        continuity.split_traces(keyed.lazy().filter(pl.col("part") == part), "trace_key").select(
            pl.len().alias("split_traces")
        )
        for part in range(parts)
    ]
    return pl.concat(counts).select(pl.col("split_traces").sum())


def _event_queries(annotated: pl.LazyFrame, parts: int = 1) -> list[pl.LazyFrame]:
    per_session = annotated.group_by("session_index").agg(
        # where to fetch the session's user and session ID from: its first event
        pl.col("source_order").filter(pl.col("session_start")).first(),
        pl.col("line").filter(pl.col("session_start")).first(),
        pl.len().alias("events"),
        pl.col("is_break").sum().alias("breaks"),
        pl.col("thread_key").n_unique().alias("threads"),
    )
    threads = continuity.stray_threads(annotated)
    totals = annotated.select(
        pl.len().alias("events"),
        pl.col("session_start").sum().alias("sessions"),
        pl.col("is_break").sum().alias("breaks"),
        pl.col("run_break").sum().alias("run_breaks"),
        pl.col("session_index").filter(pl.col("is_break")).n_unique().alias("affected_sessions"),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
    )
    thread_totals = threads.select(
        pl.len().alias("threads"),
        pl.col("stray").sum().alias("stray_threads"),
        pl.col("orphan").sum().alias("orphan_threads"),
    )
    split = _split_trace_count(annotated, parts)
    by_event = (
        annotated.group_by("event")
        .agg(pl.len().alias("events"), pl.col("is_break").sum().alias("breaks"))
        .with_columns(pl.col("event").cast(pl.String))
        .sort(["breaks", "events", "event"], descending=[True, True, False], nulls_last=True)
    )
    per_minute = (
        annotated.group_by(pl.col("ts").dt.truncate("1m").alias("minute"))
        .agg(pl.len().alias("events"), pl.col("is_break").sum().alias("breaks"))
        .sort("minute")
        .with_columns(pl.col("minute").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    threads_per_session = (
        per_session.group_by("threads").agg(pl.len().alias("sessions")).sort("threads")
    )
    # ties in order of the sessions' first events in the input (keys have no text to sort by)
    top_sessions = per_session.sort(
        ["breaks", "events", "source_order", "line"], descending=[True, True, False, False]
    ).head(TOP_SESSIONS)
    return [
        totals,
        thread_totals,
        split,
        by_event,
        per_minute,
        threads_per_session,
        top_sessions,
    ]


def _with_text(frame: pl.DataFrame, fetch: Fetch) -> pl.DataFrame:
    """``frame`` with the text columns of its ``(source_order, line)`` records, in its order."""
    return frame.join(fetch(frame), on=["source_order", "line"], how="left", maintain_order="left")


def analyse(
    records: pl.LazyFrame,
    *,
    label: str,
    inputs: Sequence[str],
    fetch: Fetch,
    transitions: Sequence[str] = continuity.DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = continuity.DEFAULT_RUN_STARTS,
) -> Analysis:
    """The report of one compact record frame (:mod:`auditor.keys`), and its annotated events.

    ``fetch`` returns the text of the few records the report shows (examples, top sessions).
    """
    names = list(dict.fromkeys(inputs))
    annotated = continuity.annotate(_events_of(records), transitions, run_starts)
    by_reason, rejected_examples = _rejects(records, names)
    results = pl.collect_all(
        [
            _accounting(records),
            by_reason,
            rejected_examples,
            *_event_queries(annotated.lazy(), continuity.partitions(annotated.height)),
        ]
    )
    accounting, reasons, rej_examples = results[:3]
    totals, thread_totals, split, by_event, per_minute, tps, top = results[3:]
    examples = breaks_frame(annotated, fetch, limit=BREAK_EXAMPLES).select(
        "source",
        "line",
        pl.col("ts").dt.strftime(_TS_FORMAT),
        "user_id",
        "session_id",
        "event",
        "expected_thread",
        "actual_thread",
        "trace_id",
    )
    top = _with_text(top, fetch).select(
        "user_id", pl.col("session_id").fill_null(""), "events", "breaks", "threads"
    )
    counts = accounting.row(0, named=True)
    tot = totals.row(0, named=True)
    events = int(tot["events"])
    breaks = int(tot["breaks"] or 0)
    run_breaks = int(tot["run_breaks"] or 0)
    report: dict[str, Any] = {
        "lines": int(counts["lines"]),
        "rejected": int(counts["rejected"] or 0),
        "unattributed": int(counts["unattributed"] or 0),
        "missing_thread": int(counts["missing_thread"] or 0),
        "events": events,
        "sessions": int(tot["sessions"] or 0),
        "threads": int(thread_totals["threads"][0]),
        "breaks": breaks,
        "break_rate": breaks / events if events else 0.0,
        "affected_sessions": int(tot["affected_sessions"] or 0),
        "stray_threads": int(thread_totals["stray_threads"][0] or 0),
        "orphan_threads": int(thread_totals["orphan_threads"][0] or 0),
        "run_breaks": run_breaks,
        "split_traces": int(split["split_traces"][0]),
        "by_event": by_event.to_dicts(),
        "rejected_by_reason": {r: int(n) for r, n in reasons.iter_rows() if n},
        "label": label,
        "inputs": list(inputs),
        "break_rate_ci": list(wilson_interval(breaks, events)),
        "run_break_rate": run_breaks / events if events else 0.0,
        "time_range": {"start": _rfc3339(tot["start"]), "end": _rfc3339(tot["end"])},
        "breaks_per_minute": per_minute.to_dicts(),
        "threads_per_session": tps.to_dicts(),
        "top_sessions": top.to_dicts(),
        "break_examples": examples.to_dicts(),
        "rejected_examples": rej_examples.to_dicts(),
    }
    return Analysis(report=report, events=annotated, fetch=fetch)


def breaks_frame(annotated: pl.DataFrame, fetch: Fetch, limit: int | None = None) -> pl.DataFrame:
    """Every break event (or the first ``limit`` in ``(ts, source, line)`` order) with its
    session, expected and actual thread, source and line."""
    breaks = annotated.filter(pl.col("is_break")).sort(["ts", "source_rank", "line"])
    if limit is not None:
        breaks = breaks.head(limit)
    setters = annotated.select("source_order", "line").gather(breaks.get_column("current_row"))
    expected = _with_text(setters, fetch).get_column("thread_id").alias("expected_thread")
    return (
        _with_text(breaks.select("source_order", "line", "ts"), fetch)
        .with_columns(expected)
        .select(
            "source",
            "line",
            "ts",
            "user_id",
            pl.col("session_id").fill_null(""),
            "event",
            "expected_thread",
            pl.col("thread_id").alias("actual_thread"),
            "run_id",
            "trace_id",
        )
    )

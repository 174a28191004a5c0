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
    """A report and the annotated events it came from (for `--export-breaks`)."""

    report: dict[str, Any]
    events: pl.DataFrame


def _rfc3339(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _events_of(records: pl.LazyFrame) -> pl.LazyFrame:
    accepted = pl.col("reject_reason").is_null()
    return records.filter(
        accepted & pl.col("user_id").is_not_null() & pl.col("thread_id").is_not_null()
    ).select(
        "ts", "source", "line", "user_id", "session_id", "thread_id", "run_id", "event", "trace_id"
    )


def _accounting(records: pl.LazyFrame) -> pl.LazyFrame:
    accepted = pl.col("reject_reason").is_null()
    has_user = pl.col("user_id").is_not_null()
    return records.select(
        pl.len().alias("lines"),
        (~accepted).sum().alias("rejected"),
        (accepted & ~has_user).sum().alias("unattributed"),
        (accepted & has_user & pl.col("thread_id").is_null()).sum().alias("missing_thread"),
    )


def _rejects(records: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    rejected = records.filter(pl.col("reject_reason").is_not_null())
    by_reason = rejected.group_by("reject_reason").len().sort("reject_reason")
    examples = (
        rejected.sort(["source_order", "line"])
        .head(REJECTED_EXAMPLES)
        .select("source", "line", pl.col("reject_reason").alias("reason"))
    )
    return by_reason, examples


def _event_queries(annotated: pl.LazyFrame) -> list[pl.LazyFrame]:
    per_session = annotated.group_by("session_index").agg(
        pl.col("user_id").first(),
        pl.col("session_id").first(),
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
    split = continuity.split_traces(annotated).select(pl.len().alias("split_traces"))
    by_event = (
        annotated.group_by("event")
        .agg(pl.len().alias("events"), pl.col("is_break").sum().alias("breaks"))
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
    top_sessions = (
        per_session.sort(
            ["breaks", "events", "user_id", "session_id"], descending=[True, True, False, False]
        )
        .head(TOP_SESSIONS)
        .select("user_id", "session_id", "events", "breaks", "threads")
    )
    return [
        totals,
        thread_totals,
        split,
        by_event,
        per_minute,
        threads_per_session,
        top_sessions,
    ]


def analyse(
    records: pl.LazyFrame,
    *,
    label: str,
    inputs: Sequence[str],
    transitions: Sequence[str] = continuity.DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = continuity.DEFAULT_RUN_STARTS,
) -> Analysis:
    """The report of one record frame (with ``source_order``), and its annotated events."""
    annotated = continuity.annotate(_events_of(records), transitions, run_starts)
    by_reason, rejected_examples = _rejects(records)
    results = pl.collect_all(
        [_accounting(records), by_reason, rejected_examples, *_event_queries(annotated.lazy())]
    )
    accounting, reasons, rej_examples = results[:3]
    totals, thread_totals, split, by_event, per_minute, tps, top = results[3:]
    examples = (
        breaks_frame(annotated)
        .head(BREAK_EXAMPLES)
        .select(
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
    return Analysis(report=report, events=annotated)


def breaks_frame(annotated: pl.DataFrame) -> pl.DataFrame:
    """Every break event with its session, expected and actual thread, source and line."""
    breaks = annotated.filter(pl.col("is_break"))
    expected = annotated.get_column("thread_id").gather(breaks.get_column("current_row"))
    return (
        breaks.with_columns(expected.alias("expected_thread"))
        .sort(["ts", "source", "line"])
        .select(
            "source",
            "line",
            "ts",
            "user_id",
            "session_id",
            "event",
            "expected_thread",
            pl.col("thread_id").alias("actual_thread"),
            "run_id",
            "trace_id",
        )
    )

"""The audit report: one JSON-ready dict with the keys of DESIGN.md and docs/audit_json.md.

Input is the record frame (every record, rejected or not, with ``source_order``, the
position of its source among the inputs); the continuity rules come from :mod:`auditor.continuity`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

from auditor import continuity, keys, partitions
from auditor.keys import Fetch
from auditor.partitions import Partitions, TraceBuckets
from auditor.schema import empty_records
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
    "skipped_inputs",
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
    """A report, its break events (:func:`breaks_frame` gives their text) and the fetch of their text."""

    report: dict[str, Any]
    breaks: pl.DataFrame
    fetch: Fetch


def _rfc3339(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: The columns of an event the rules and the report use.
_EVENT_COLUMNS: tuple[str, ...] = (
    "ts",
    "source_order",
    "source_rank",
    "line",
    "session_key",
    "thread_key",
    "run_key",
    "event",
    "item",
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


def _rejects(records: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Rejected records per reason, and the first ones (by source and line)."""
    rejected = records.filter(pl.col("reject_reason").is_not_null())
    reason = pl.col("reject_reason").cast(pl.String)
    by_reason = rejected.group_by(reason).agg(pl.len())
    examples = (
        rejected.select(*keys.RECORD_ID, reason.alias("reason"))
        .sort(keys.RECORD_ID)
        .head(REJECTED_EXAMPLES)
    )
    return by_reason, examples


def _tallies(annotated: pl.LazyFrame) -> list[pl.LazyFrame]:
    """The additive tallies of one partition of sessions (merged by :func:`_merged`)."""
    per_session = annotated.group_by("session_index").agg(
        # where to fetch the session's user and session ID from: its first event
        *(pl.col(c).filter(pl.col("session_start")).first() for c in keys.RECORD_ID),
        pl.len().alias("events"),
        pl.col("is_break").sum().alias("breaks"),
        pl.col("thread_key").n_unique().alias("threads"),
    )
    totals = annotated.select(
        pl.len().alias("events"),
        pl.col("session_start").sum().alias("sessions"),
        pl.col("is_break").sum().alias("breaks"),
        pl.col("run_break").sum().alias("run_breaks"),
        pl.col("session_index").filter(pl.col("is_break")).n_unique().alias("affected_sessions"),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
    )
    # a thread can span sessions, so its tally is merged across partitions before rule 7
    threads = annotated.group_by("thread_key").agg(
        pl.len().alias("events"), pl.col("is_break").sum().alias("breaks")
    )
    by_event = annotated.group_by("event").agg(
        pl.len().alias("events"), pl.col("is_break").sum().alias("breaks")
    )
    per_minute = annotated.group_by(pl.col("ts").dt.truncate("1m").alias("minute")).agg(
        pl.len().alias("events"), pl.col("is_break").sum().alias("breaks")
    )
    threads_per_session = per_session.group_by("threads").agg(pl.len().alias("sessions"))
    top_sessions = _top_sessions(per_session)
    return [totals, threads, by_event, per_minute, threads_per_session, top_sessions]


def _top_sessions(per_session: pl.LazyFrame) -> pl.LazyFrame:
    # ties in order of the sessions' first events in the input (keys have no text to sort by)
    return per_session.sort(
        ["breaks", "events", *keys.RECORD_ID], descending=[True, True, False, False, False]
    ).head(TOP_SESSIONS)


def _summed(frames: list[pl.DataFrame], by: str) -> pl.LazyFrame:
    return pl.concat(frames).lazy().group_by(by).agg(pl.exclude(by).sum())


def _merged(parts: list[list[pl.DataFrame]]) -> list[pl.DataFrame]:
    """The report's frames from every partition's :func:`_tallies`."""
    totals, threads, by_event, per_minute, tps, top = (
        list(column) for column in zip(*parts, strict=True)
    )
    thread_tally = _summed(threads, "thread_key").with_columns(
        stray=pl.col("breaks") == pl.col("events")
    )
    return pl.collect_all(
        [
            pl.concat(totals)
            .lazy()
            .select(
                pl.col("events", "sessions", "breaks", "run_breaks", "affected_sessions").sum(),
                pl.col("start").min(),
                pl.col("end").max(),
            ),
            thread_tally.select(
                pl.len().alias("threads"),
                pl.col("stray").sum().alias("stray_threads"),
                (pl.col("stray") & (pl.col("events") == 1)).sum().alias("orphan_threads"),
            ),
            _summed(by_event, "event")
            .with_columns(pl.col("event").cast(pl.String))
            .sort(["breaks", "events", "event"], descending=[True, True, False], nulls_last=True),
            _summed(per_minute, "minute")
            .sort("minute")
            .with_columns(pl.col("minute").dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
            _summed(tps, "threads").sort("threads"),
            _top_sessions(pl.concat(top).lazy()),
        ]
    )


#: A break row's columns that say which event set its expected thread (:data:`keys.RECORD_ID`).
_SETTER = {"source_order": "setter_order", "line": "setter_line", "item": "setter_item"}


def _break_rows(annotated: pl.DataFrame) -> pl.DataFrame:
    """The partition's break events with where their expected thread was set
    (``setter_order``, ``setter_line``, ``setter_item``: the event that set the current thread)."""
    breaks = annotated.filter(pl.col("is_break"))
    setters = annotated.select(
        pl.col(record).alias(setter) for record, setter in _SETTER.items()
    ).gather(breaks.get_column("current_row"))
    return pl.concat(
        [breaks.select("source_order", "source_rank", "line", "item", "ts"), setters],
        how="horizontal",
    )


def _with_text(frame: pl.DataFrame, fetch: Fetch) -> pl.DataFrame:
    """``frame`` with the text columns of its records (:data:`keys.RECORD_ID`), in its order."""
    return frame.join(fetch(frame), on=list(keys.RECORD_ID), how="left", maintain_order="left")


#: One piece's report frames and break rows (:func:`_partition`).
_Piece = tuple[list[pl.DataFrame], pl.DataFrame]


def _partition(
    piece: pl.DataFrame, transitions: Sequence[str], run_starts: Sequence[str]
) -> _Piece:
    """One partition's accounting, rejects and tallies, and its break rows (its session
    indexes count from 1: nothing merges them across pieces)."""
    lazy = piece.lazy()
    by_reason, rejected_examples = _rejects(lazy)
    events = piece.filter(partitions.is_event()).select(_EVENT_COLUMNS)
    annotated = continuity.annotate_sorted(events, transitions, run_starts)
    del events
    frames = pl.collect_all(
        [_accounting(lazy), by_reason, rejected_examples, *_tallies(annotated.lazy())]
    )
    return frames, _break_rows(annotated)


def analyse(
    records: pl.LazyFrame | Partitions,
    *,
    label: str,
    inputs: Sequence[str],
    fetch: Fetch,
    skipped: Sequence[Mapping[str, str]] = (),
    transitions: Sequence[str] = continuity.DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = continuity.DEFAULT_RUN_STARTS,
) -> Analysis:
    """The report of compact records (:mod:`auditor.keys`), and its break events.

    The records are read one partition of whole sessions at a time (a frame held in
    memory is split as :meth:`Partitions.of_frame` says): each partition's counts and
    tallies are merged into the report, so that only one partition is held at a time.
    ``fetch`` returns the text of the few records the report shows (examples, top sessions);
    ``skipped`` lists the files of directories and globs that were not read (not logs).
    """
    names = list(dict.fromkeys(inputs))
    parts = records if isinstance(records, Partitions) else Partitions.of_frame(records.collect())
    traces = TraceBuckets(parts.trace_buckets, parts.scratch)
    results: list[list[pl.DataFrame]] = []
    break_rows: list[pl.DataFrame] = []
    # two pieces at a time: a piece's rules and tallies keep about 1.5 cores busy, so the
    # next piece's work fills the gaps
    pending: deque[Future[_Piece]] = deque()

    def work(piece: pl.DataFrame) -> _Piece:
        done = _partition(piece, transitions, run_starts)
        traces.add(piece)
        return done

    def finish_one() -> None:
        frames, rows = pending.popleft().result()
        results.append(frames)
        break_rows.append(rows)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="audit-piece") as pool:
        for piece in parts.pieces():
            pending.append(pool.submit(work, piece))
            del piece
            if len(pending) >= 2:
                finish_one()
        while pending:
            finish_one()
    if not results:  # no record at all: the tallies of an empty partition
        empty = keys.compact(empty_records(), names)
        frames, rows = _partition(empty.collect(), transitions, run_starts)
        results.append(frames)
        break_rows.append(rows)
    columns = list(zip(*results, strict=True))
    accounting = pl.concat(columns[0]).sum()
    reasons = (
        pl.concat(columns[1])
        .group_by("reject_reason")
        .agg(pl.col("len").sum())
        .sort("reject_reason")
    )
    rej_examples = (
        pl.concat(columns[2])
        .sort(keys.RECORD_ID)
        .head(REJECTED_EXAMPLES)
        .select(
            pl.col("source_order")
            .replace_strict(list(range(len(names))), names, return_dtype=pl.String)
            .alias("source"),
            "line",
            "item",
            "reason",
        )
    )
    totals, thread_totals, by_event, per_minute, tps, top = _merged([list(r[3:]) for r in results])
    split = traces.split_count()
    breaks = pl.concat(break_rows).sort(["ts", "source_rank", "line", "item"])
    examples = breaks_frame(breaks, fetch, limit=BREAK_EXAMPLES).select(
        "source",
        "line",
        "item",
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
    events = int(tot["events"] or 0)
    breaks_count = int(tot["breaks"] or 0)
    run_breaks = int(tot["run_breaks"] or 0)
    report: dict[str, Any] = {
        "lines": int(counts["lines"]),
        "rejected": int(counts["rejected"] or 0),
        "unattributed": int(counts["unattributed"] or 0),
        "missing_thread": int(counts["missing_thread"] or 0),
        "events": events,
        "sessions": int(tot["sessions"] or 0),
        "threads": int(thread_totals["threads"][0]),
        "breaks": breaks_count,
        "break_rate": breaks_count / events if events else 0.0,
        "affected_sessions": int(tot["affected_sessions"] or 0),
        "stray_threads": int(thread_totals["stray_threads"][0] or 0),
        "orphan_threads": int(thread_totals["orphan_threads"][0] or 0),
        "run_breaks": run_breaks,
        "split_traces": split,
        "by_event": by_event.to_dicts(),
        "rejected_by_reason": {r: int(n) for r, n in reasons.iter_rows() if n},
        "label": label,
        "inputs": list(inputs),
        "skipped_inputs": [dict(s) for s in skipped],
        "break_rate_ci": (
            list(interval) if (interval := wilson_interval(breaks_count, events)) else None
        ),
        "run_break_rate": run_breaks / events if events else 0.0,
        "time_range": {"start": _rfc3339(tot["start"]), "end": _rfc3339(tot["end"])},
        "breaks_per_minute": per_minute.to_dicts(),
        "threads_per_session": tps.to_dicts(),
        "top_sessions": top.to_dicts(),
        "break_examples": examples.to_dicts(),
        "rejected_examples": rej_examples.to_dicts(),
    }
    return Analysis(report=report, breaks=breaks, fetch=fetch)


def breaks_frame(breaks: pl.DataFrame, fetch: Fetch, limit: int | None = None) -> pl.DataFrame:
    """Every break of :attr:`Analysis.breaks` (or the first ``limit``, in their ``(ts, source,
    line)`` order) with its session, expected and actual thread, source and line."""
    if limit is not None:
        breaks = breaks.head(limit)
    setters = breaks.select(pl.col(setter).alias(record) for record, setter in _SETTER.items())
    expected = _with_text(setters, fetch).get_column("thread_id").alias("expected_thread")
    return (
        _with_text(breaks.select(*keys.RECORD_ID, "ts"), fetch)
        .with_columns(expected)
        .select(
            "source",
            "line",
            "item",
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
